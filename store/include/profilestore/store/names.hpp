// Validation of the names that become storage keys.
//
// Store names, profile keys and node names are byte strings (UTF-8 is usual
// but not required). They may not contain a NUL byte, because NUL separates
// the parts of a storage key (docs/format.md), and their lengths are bounded
// so that every composed LMDB key stays under LMDB's 511-byte limit.
#pragma once

#include <cstddef>
#include <string_view>

#include "profilestore/result.hpp"

namespace profilestore {

inline constexpr std::size_t max_store_name_bytes = 64;
inline constexpr std::size_t max_key_bytes = 256;
inline constexpr std::size_t max_node_name_bytes = 64;

// errc::invalid_store_name naming the rule broken.
result<void> check_store_name(std::string_view name);
// errc::invalid_key naming the rule broken.
result<void> check_key(std::string_view key);
// errc::invalid_argument naming the rule broken.
result<void> check_node_name(std::string_view name);

} // namespace profilestore
