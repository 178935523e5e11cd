// Limits for decoding untrusted bytes (MessagePack and JSON).
//
// Every decode in profilestore runs under a decode_limits. The defaults fit
// profiles up to the 4 MiB data limit with room for the record around them;
// anything beyond is refused with errc::limit_exceeded before allocating.
// A decoder never allocates more than a small multiple of its input size:
// a container header that announces more elements than bytes remain is
// rejected as malformed at once.
#pragma once

#include <cstddef>

namespace profilestore {

struct decode_limits {
  // Nesting of arrays and maps. The root container is depth 1. Decoded
  // values are built, copied and destroyed recursively, so keep this in the
  // hundreds; only validation (validate_msgpack, msgpack_reader::skip) walks
  // iteratively and is safe at any depth.
  std::size_t max_depth = 100;
  // Elements of one array, or entries of one map.
  std::size_t max_container_length = 1'000'000;
  // Bytes of one string.
  std::size_t max_string_bytes = 16 * 1024 * 1024;
  // Bytes of one binary.
  std::size_t max_binary_bytes = 16 * 1024 * 1024;
  // Bytes of the whole input.
  std::size_t max_total_bytes = 64 * 1024 * 1024;
  // Objects in the whole input (every scalar, array, map and map key counts
  // one). Bounds the memory a decoded tree takes.
  std::size_t max_objects = 4'000'000;
};

} // namespace profilestore
