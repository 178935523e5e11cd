// Errors across actor boundaries: a profilestore::error travels as a
// caf::error of category "profilesto" whose code is the errc value and whose
// context holds the message, so request(...).then(ok, err) handlers receive
// the same codes as the storage layer. CAF's own errors (a request timeout, a
// dead or unreachable actor) map to errc::timeout and errc::unreachable.
#pragma once

#include <caf/error.hpp>

#include "profilestore/error.hpp"

namespace profilestore {

// The caf::error category of profilestore errors.
caf::atom_value error_category() noexcept;

caf::error to_caf_error(const error& err);
caf::error to_caf_error(errc code, std::string message);

// Any caf::error as a profilestore::error (ours unchanged; CAF's mapped).
error from_caf_error(const caf::error& err);

} // namespace profilestore
