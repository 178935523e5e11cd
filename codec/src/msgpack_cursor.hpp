// msgpack_cursor.hpp (private to codec): the MessagePack wire format and the
// checked reads, inline, over a msgpack_reader's state.
//
// msgpack_reader's public methods, its validating walk (skip) and the value
// decoder all read through msgpack_cursor, so they apply the same checks in
// the same order: input size against max_total_bytes, end of input, the
// reserved byte 0xc1, ext (refused), a truncated header, then max_objects;
// strings, binaries and containers then check their announced size against
// the bytes left, and containers all counts so far against the input size
// (malformed_input), before the limits (limit_exceeded).
// The fast paths are inline and return bool, so that decoding pays no call
// or result<T> per object; every error is built out of line
// (msgpack_reader.cpp) and kept in the cursor.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "profilestore/codec/msgpack.hpp"

namespace profilestore::detail {

// What a type byte announces before any byte after it is read.
struct type_byte_info {
  wire_type type;
  std::uint8_t width;  // bytes after the type byte holding a length or value
  bool rejected;       // never accepted: the reserved 0xc1 and every ext
  std::uint64_t fixed; // the length, count or value packed into a fix form
};

constexpr type_byte_info fixed_form(wire_type t, std::uint64_t v) {
  return {t, 0, t == wire_type::ext, v};
}
constexpr type_byte_info sized_form(wire_type t, std::uint8_t width) {
  return {t, width, t == wire_type::ext, 0};
}

// Type bytes 0xc0..0xdf, indexed by byte - 0xc0.
inline constexpr type_byte_info variable_forms[32] = {
  fixed_form(wire_type::nil, 0),          // c0
  {wire_type::nil, 0, true, 0},           // c1 reserved
  fixed_form(wire_type::boolean, 0),      // c2 false
  fixed_form(wire_type::boolean, 1),      // c3 true
  sized_form(wire_type::binary, 1),       // c4 bin 8
  sized_form(wire_type::binary, 2),       // c5 bin 16
  sized_form(wire_type::binary, 4),       // c6 bin 32
  sized_form(wire_type::ext, 1),          // c7 ext 8
  sized_form(wire_type::ext, 2),          // c8 ext 16
  sized_form(wire_type::ext, 4),          // c9 ext 32
  sized_form(wire_type::float32, 4),      // ca
  sized_form(wire_type::float64, 8),      // cb
  sized_form(wire_type::positive_int, 1), // cc uint 8
  sized_form(wire_type::positive_int, 2), // cd uint 16
  sized_form(wire_type::positive_int, 4), // ce uint 32
  sized_form(wire_type::positive_int, 8), // cf uint 64
  sized_form(wire_type::negative_int, 1), // d0 int 8
  sized_form(wire_type::negative_int, 2), // d1 int 16
  sized_form(wire_type::negative_int, 4), // d2 int 32
  sized_form(wire_type::negative_int, 8), // d3 int 64
  fixed_form(wire_type::ext, 0),          // d4 fixext 1
  fixed_form(wire_type::ext, 0),          // d5 fixext 2
  fixed_form(wire_type::ext, 0),          // d6 fixext 4
  fixed_form(wire_type::ext, 0),          // d7 fixext 8
  fixed_form(wire_type::ext, 0),          // d8 fixext 16
  sized_form(wire_type::string, 1),       // d9 str 8
  sized_form(wire_type::string, 2),       // da str 16
  sized_form(wire_type::string, 4),       // db str 32
  sized_form(wire_type::array, 2),        // dc array 16
  sized_form(wire_type::array, 4),        // dd array 32
  sized_form(wire_type::map, 2),          // de map 16
  sized_form(wire_type::map, 4),          // df map 32
};

// negative_int is the signed family (negative fixint and int 8..64), whose
// values fit int64; positive_int the unsigned family (fixint, uint 8..64).
constexpr type_byte_info describe_type_byte(std::uint8_t b) {
  if (b <= 0x7f)
    return fixed_form(wire_type::positive_int, b);
  if (b <= 0x8f)
    return fixed_form(wire_type::map, b & 0x0fu);
  if (b <= 0x9f)
    return fixed_form(wire_type::array, b & 0x0fu);
  if (b <= 0xbf)
    return fixed_form(wire_type::string, b & 0x1fu);
  if (b >= 0xe0) {
    auto v = static_cast<std::int64_t>(static_cast<std::int8_t>(b));
    return fixed_form(wire_type::negative_int, static_cast<std::uint64_t>(v));
  }
  return variable_forms[b - 0xc0];
}

struct type_byte_table {
  type_byte_info entries[256];
};

constexpr type_byte_table make_type_byte_table() {
  type_byte_table table{};
  for (int b = 0; b < 256; ++b)
    table.entries[b] = describe_type_byte(static_cast<std::uint8_t>(b));
  return table;
}

// One lookup per object instead of a chain of range tests.
inline constexpr type_byte_table type_bytes = make_type_byte_table();

inline const type_byte_info& classify(std::uint8_t b) noexcept {
  return type_bytes.entries[b];
}

inline std::uint64_t load_big_endian(const char* p, unsigned width) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  switch (width) {
  case 1: return u[0];
  case 2: return (std::uint64_t{u[0]} << 8) | u[1];
  case 4: {
    std::uint32_t v;
    std::memcpy(&v, u, 4);
    return __builtin_bswap32(v);
  }
  default: {
    std::uint64_t v;
    std::memcpy(&v, u, 8);
    return __builtin_bswap64(v);
  }
  }
}

// The length, count or value after a type byte; signed values come back
// sign-extended to 64 bits.
inline std::uint64_t load_argument(const type_byte_info& info,
                                   const char* p) noexcept {
  std::uint64_t raw = load_big_endian(p, info.width);
  if (info.type != wire_type::negative_int)
    return raw;
  std::int64_t v;
  switch (info.width) {
  case 1: v = static_cast<std::int8_t>(raw); break;
  case 2: v = static_cast<std::int16_t>(raw); break;
  case 4: v = static_cast<std::int32_t>(raw); break;
  default: v = static_cast<std::int64_t>(raw); break;
  }
  return static_cast<std::uint64_t>(v);
}

// Bytewise three-way comparison of map keys, as std::string_view::compare,
// inline: keys are short, and a library memcmp call per key is a large part
// of decoding a map. Compares eight bytes at a time as big-endian words.
inline int compare_keys(std::string_view a, std::string_view b) noexcept {
  std::size_t common = a.size() < b.size() ? a.size() : b.size();
  std::size_t i = 0;
  for (; i + 8 <= common; i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y)
      return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
  }
  for (; i < common; ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x != y)
      return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

// One object's header, read and checked.
struct wire_header {
  wire_type type;
  std::uint64_t arg;  // length, count, integer bits, float bits or bool
  std::size_t offset; // of the type byte
};

// The number in a float 32 or float 64 header.
inline double header_double(const wire_header& h) noexcept {
  if (h.type == wire_type::float32) {
    auto bits = static_cast<std::uint32_t>(h.arg);
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return static_cast<double>(f);
  }
  double d;
  std::memcpy(&d, &h.arg, sizeof d);
  return d;
}

// The errors, built out of line (msgpack_reader.cpp).
namespace msgpack_errors {
error input_too_large(std::size_t size, std::size_t limit);
error end_of_input(std::size_t offset);
error reserved_byte(std::size_t offset);
error unsupported_ext(std::size_t offset);
error truncated_header(wire_type type, std::size_t offset, unsigned width,
                       std::size_t available);
error too_many_objects(std::size_t offset, std::size_t limit);
error payload_truncated(const wire_header& h, std::size_t available);
error payload_too_large(const wire_header& h, std::size_t limit);
error count_truncated(const wire_header& h, std::size_t available);
error announced_too_many(const wire_header& h, std::size_t announced,
                         std::size_t input_size);
error count_too_large(const wire_header& h, std::size_t limit);
error too_deep(std::size_t offset, std::size_t limit);
error wrong_type(const wire_header& h, const char* expected);
error non_string_key(std::size_t offset);
error duplicate_key(std::string_view key, std::size_t offset);
error duplicate_keys(std::size_t map_offset);
error trailing_bytes(std::size_t offset, std::size_t count);
} // namespace msgpack_errors

// Whether `bytes` surely hold one object that validate_msgpack accepts
// under `limits`: true only then; false when it is invalid or merely beyond
// this quick walk's small fixed bounds (msgpack_quick_accept.cpp), and the
// full walk must decide and explain.
bool quick_accept(std::string_view bytes, const decode_limits& limits) noexcept;

// The per-object fast paths are forced inline: left to itself GCC keeps them
// out of line, and the call per object costs more than the checks in it.
#if defined(__GNUC__)
#define PROFILESTORE_FAST_PATH __attribute__((always_inline))
#else
#define PROFILESTORE_FAST_PATH
#endif

// Maps of up to this many keys that arrive unsorted (typed profiles' maps
// come in field order) are checked for a duplicate key pair by pair, which
// is cheaper there than sorting; larger ones are sorted.
inline constexpr std::size_t pairwise_key_check_limit = 16;

// Whether [first, last) holds a key twice, comparing every pair (sizes
// first, so most pairs cost one comparison). Key: anything with data() and
// size(), as std::string_view.
template <class Key>
inline bool has_duplicate_pairwise(const Key* first, const Key* last) noexcept {
  for (auto i = first; i != last; ++i)
    for (auto j = i + 1; j != last; ++j)
      if (i->size() == j->size()
          && std::memcmp(i->data(), j->data(), i->size()) == 0)
        return true;
  return false;
}

// The checks every read starts with: on success, what the type byte at
// `pos` announces. Reads nothing.
inline bool inspect(std::string_view bytes, std::size_t pos,
                    const decode_limits& limits, type_byte_info& info,
                    error& err) {
  if (bytes.size() > limits.max_total_bytes) {
    err = msgpack_errors::input_too_large(bytes.size(), limits.max_total_bytes);
    return false;
  }
  if (pos >= bytes.size()) {
    err = msgpack_errors::end_of_input(pos);
    return false;
  }
  info = classify(static_cast<std::uint8_t>(bytes[pos]));
  if (info.rejected && info.type != wire_type::ext) {
    err = msgpack_errors::reserved_byte(pos);
    return false;
  }
  return true;
}

// Checked reads over a msgpack_reader. The cursor works on its own copy of
// the reader's position, depth and object count (so that they can live in
// registers) and hands them back when it goes out of scope. Each read
// returns false on failure, with the reason in take_error().
class msgpack_cursor {
public:
  // An input over max_total_bytes gets a readable end of 0, so that every
  // read fails at its first check and reports the size.
  explicit msgpack_cursor(msgpack_reader& reader) noexcept
    : reader_(reader), bytes_(reader.bytes_), limits_(reader.limits_),
      readable_end_(bytes_.size() > limits_.max_total_bytes ? 0
                                                            : bytes_.size()),
      pos_(reader.pos_), depth_(reader.depth_), objects_(reader.objects_),
      announced_(reader.announced_) {}
  ~msgpack_cursor() {
    reader_.pos_ = pos_;
    reader_.depth_ = depth_;
    reader_.objects_ = objects_;
    reader_.announced_ = announced_;
  }
  msgpack_cursor(const msgpack_cursor&) = delete;
  msgpack_cursor& operator=(const msgpack_cursor&) = delete;

  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  bool at_end() const noexcept { return pos_ == bytes_.size(); }
  std::string_view bytes() const noexcept { return bytes_; }

  PROFILESTORE_FAST_PATH bool peek(wire_type& type) {
    type_byte_info info;
    if (!inspect(bytes_, pos_, limits_, info, error_))
      return false;
    type = info.type;
    return true;
  }

  // Reads a type byte and what follows it up to any payload, and counts
  // one object.
  PROFILESTORE_FAST_PATH bool read_header(wire_header& h) {
    if (pos_ >= readable_end_)
      return fail_at_start();
    const type_byte_info& info = classify(
      static_cast<std::uint8_t>(bytes_[pos_]));
    if (info.rejected)
      return fail_at_start();
    std::size_t available = bytes_.size() - pos_ - 1;
    if (available < info.width)
      return fail(msgpack_errors::truncated_header(info.type, pos_,
                                                   info.width, available));
    h.type = info.type;
    h.offset = pos_;
    h.arg = info.width ? load_argument(info, bytes_.data() + pos_ + 1)
                       : info.fixed;
    pos_ += 1 + info.width;
    if (++objects_ > limits_.max_objects)
      return fail(msgpack_errors::too_many_objects(h.offset,
                                                   limits_.max_objects));
    return true;
  }

  // The bytes of a string or binary whose header was just read.
  PROFILESTORE_FAST_PATH bool read_payload(const wire_header& h,
                                           std::string_view& out) {
    std::size_t limit = h.type == wire_type::string
                          ? limits_.max_string_bytes
                          : limits_.max_binary_bytes;
    if (h.arg > remaining())
      return fail(msgpack_errors::payload_truncated(h, remaining()));
    if (h.arg > limit)
      return fail(msgpack_errors::payload_too_large(h, limit));
    out = bytes_.substr(pos_, static_cast<std::size_t>(h.arg));
    pos_ += out.size();
    return true;
  }

  // The count of an array or map whose header was just read. Each element
  // is an object of at least one byte (a map entry two), so the count must
  // fit the bytes left, and all counts announced so far together must fit
  // the input: nested headers can then never make a decoder reserve more
  // elements than the input has bytes.
  PROFILESTORE_FAST_PATH bool read_count(const wire_header& h,
                                         std::uint32_t& count) {
    std::size_t per_entry = h.type == wire_type::map ? 2 : 1;
    if (h.arg > remaining() / per_entry)
      return fail(msgpack_errors::count_truncated(h, remaining()));
    announced_ += per_entry * static_cast<std::size_t>(h.arg);
    if (announced_ > bytes_.size())
      return fail(msgpack_errors::announced_too_many(h, announced_,
                                                     bytes_.size()));
    if (h.arg > limits_.max_container_length)
      return fail(msgpack_errors::count_too_large(
        h, limits_.max_container_length));
    count = static_cast<std::uint32_t>(h.arg);
    return true;
  }

  PROFILESTORE_FAST_PATH bool enter() {
    if (depth_ >= limits_.max_depth)
      return fail(msgpack_errors::too_deep(pos_, limits_.max_depth));
    ++depth_;
    return true;
  }

  PROFILESTORE_FAST_PATH void leave() noexcept {
    if (depth_ > 0)
      --depth_;
  }

  bool fail(error e) {
    error_ = std::move(e);
    return false;
  }

  // Why the object at pos_ cannot even start: input size, end of input, the
  // reserved byte or ext, reported in that order.
  bool fail_at_start() {
    type_byte_info info;
    if (!inspect(bytes_, pos_, limits_, info, error_))
      return false;
    return fail(msgpack_errors::unsupported_ext(pos_));
  }
  error take_error() { return std::move(error_); }

private:
  msgpack_reader& reader_;
  std::string_view bytes_;
  decode_limits limits_;
  std::size_t readable_end_;
  std::size_t pos_;
  std::size_t depth_;
  std::size_t objects_;
  std::size_t announced_;
  error error_;
};

} // namespace profilestore::detail
