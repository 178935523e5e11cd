// Validation of store names, profile keys and node names (names.hpp).
#include "profilestore/store/names.hpp"

#include <string>

namespace profilestore {
namespace {

result<void> check_name(std::string_view what, std::string_view name,
                        std::size_t max_bytes, errc code) {
  if (name.empty())
    return make_error(code, std::string(what) + " is empty (it must be 1.."
                              + std::to_string(max_bytes) + " bytes)");
  if (name.size() > max_bytes)
    return make_error(code, std::string(what) + " is "
                              + std::to_string(name.size())
                              + " bytes long (at most "
                              + std::to_string(max_bytes) + " bytes)");
  if (auto pos = name.find('\0'); pos != std::string_view::npos)
    return make_error(code, std::string(what) + " contains a NUL byte at "
                              + std::to_string(pos)
                              + " (NUL separates storage key parts)");
  return {};
}

} // namespace

result<void> check_store_name(std::string_view name) {
  return check_name("store name", name, max_store_name_bytes,
                    errc::invalid_store_name);
}

result<void> check_key(std::string_view key) {
  return check_name("profile key", key, max_key_bytes, errc::invalid_key);
}

result<void> check_node_name(std::string_view name) {
  return check_name("node name", name, max_node_name_bytes,
                    errc::invalid_argument);
}

} // namespace profilestore
