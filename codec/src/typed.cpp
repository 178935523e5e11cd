// typed.cpp: the non-template half of typed profiles (typed.hpp): mapping
// decode_limits onto msgpack-c's unpack_limit, and turning msgpack-c's
// exceptions into profilestore errors so that none escapes decode_typed.
//
// decode_typed validates under decode_limits before msgpack-c sees the
// bytes, so the unpack limits are a second line of defence, not the first.
#include <new>

#include "profilestore/codec/typed.hpp"

namespace profilestore::detail {

msgpack::unpack_limit to_unpack_limit(const decode_limits& limits) {
  // Profiles never contain ext, so msgpack-c may refuse any.
  constexpr std::size_t no_ext = 0;
  return msgpack::unpack_limit(limits.max_container_length,
                               limits.max_container_length,
                               limits.max_string_bytes,
                               limits.max_binary_bytes, no_ext,
                               limits.max_depth);
}

error describe_unpack_failure(const std::exception& e) {
  // size_overflow derives from unpack_error: test the narrower type first.
  if (dynamic_cast<const msgpack::type_error*>(&e))
    return make_error(errc::type_mismatch,
                      std::string("typed profile field has the wrong type (")
                        + e.what() + ")");
  if (dynamic_cast<const msgpack::size_overflow*>(&e))
    return make_error(errc::limit_exceeded,
                      std::string("typed profile over a decode limit: ")
                        + e.what());
  if (dynamic_cast<const msgpack::unpack_error*>(&e))
    return make_error(errc::malformed_input,
                      std::string("typed profile bytes are malformed: ")
                        + e.what());
  if (dynamic_cast<const std::bad_alloc*>(&e))
    return make_error(errc::internal, "out of memory decoding a typed profile");
  return make_error(errc::internal,
                    std::string("typed profile decode failed: ") + e.what());
}

} // namespace profilestore::detail
