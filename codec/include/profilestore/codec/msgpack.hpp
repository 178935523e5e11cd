// MessagePack encoding of `value`, and a zero-copy reader for untrusted bytes.
//
// Byte buffers are std::string (bytes, not text) and views std::string_view,
// as in leveldb: cheap to move, easy to hand to LMDB.
//
// Encoding is deterministic: maps are written in key order (value_map keeps
// them sorted), integers in their smallest MessagePack form, doubles always
// as float 64. Decoding accepts every MessagePack type except ext (refused as
// malformed_input: profiles never contain ext), maps whose keys are not
// strings (type_mismatch) and maps that repeat a key (malformed_input);
// positive integers decode as int64 when they fit, else uint64; float 32
// decodes as a double. Keys may arrive in any order (other encoders).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "profilestore/codec/limits.hpp"
#include "profilestore/codec/value.hpp"
#include "profilestore/result.hpp"

namespace profilestore {

// Appends the encoding of `v` to `out`.
void encode_msgpack(const value& v, std::string& out);
std::string encode_msgpack(const value& v);

// Decodes exactly one object; trailing bytes are malformed_input.
result<value> decode_msgpack(std::string_view bytes,
                             const decode_limits& limits = {});

// Checks that `bytes` hold exactly one well-formed object within `limits`,
// without building it: succeeds exactly when decode_msgpack would. Allocates
// nothing unless nesting goes beyond 128 levels (max_depth above 128) or a
// map's keys are not in sorted order (never the case for encode_msgpack
// output). Cheaper than
// decode_msgpack; used by storage to accept data it stores but never looks
// inside.
result<void> validate_msgpack(std::string_view bytes,
                              const decode_limits& limits = {});

// The MessagePack family of the next object, as the reader sees it.
// (-Wshadow: see value::kind; wire_type::nil cannot clash with
// profilestore::nil.)
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
enum class wire_type : std::uint8_t {
  nil,
  boolean,
  negative_int, // the signed encodings (negative fixint, int 8..64): int64
  positive_int, // the unsigned encodings (fixint, uint 8..64): uint64
  float32,
  float64,
  string,
  binary,
  array,
  map,
  ext,
};
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace detail {
class msgpack_cursor;
} // namespace detail

// A cursor over untrusted MessagePack bytes. Each read checks the remaining
// length and `limits` and fails with a clear error instead of reading past
// the end; views returned point into the input and live as long as it does.
// After any failed read the reader must not be used further.
//
// The reader does not track nesting by itself: read_array_header and
// read_map_header return counts the caller walks. skip() and read_object()
// validate one whole object, nested containers included, by the rules of
// decode_msgpack (map keys are unique strings, no ext), under max_depth
// counted from the reader's current depth (see enter()/leave()). They walk
// iteratively, so no input can exhaust the call stack.
class msgpack_reader {
public:
  explicit msgpack_reader(std::string_view bytes,
                          const decode_limits& limits = {});

  bool at_end() const noexcept { return pos_ == bytes_.size(); }
  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }

  result<wire_type> peek() const;
  bool next_is_nil() const noexcept;

  result<void> read_nil();
  result<bool> read_bool();
  // Accepts any integer that fits.
  result<std::int64_t> read_int64();
  result<std::uint64_t> read_uint64();
  // Accepts float 32, float 64 and integers.
  result<double> read_double();
  result<std::string_view> read_string();
  result<std::string_view> read_binary();
  // The element count; rejects counts over max_container_length or larger
  // than the bytes left could hold.
  result<std::uint32_t> read_array_header();
  // The entry count (each entry is a key and a value).
  result<std::uint32_t> read_map_header();

  // Skips one whole object after validating it.
  result<void> skip();
  // Skips one whole object checking only its structure: every type byte is
  // accepted by the decoder and every length stays inside the input. No
  // depth, length or object limits and no map key checks: for embedded data
  // that was fully validated when it was written (storage re-reading its own
  // records), never for bytes from a peer. Never allocates or recurses.
  result<void> skip_structure();
  result<std::string_view> read_object_structure();
  // Validates one whole object and returns its bytes.
  result<std::string_view> read_object();

  // Depth bookkeeping for callers that walk containers by hand, so that
  // skip() and read_object() inside them count the outer levels.
  result<void> enter();
  void leave() noexcept;

private:
  // The inline fast paths behind these methods, shared with decode_msgpack
  // and validate_msgpack (codec/src/msgpack_cursor.hpp).
  friend class detail::msgpack_cursor;

  std::string_view bytes_;
  decode_limits limits_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::size_t objects_ = 0;
  // Elements announced by every container header read so far (map entries
  // count two); never more than the input's bytes in a well-formed input.
  std::size_t announced_ = 0;
};

} // namespace profilestore
