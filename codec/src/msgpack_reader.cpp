// msgpack_reader.cpp: msgpack_reader's public reads, the validating walk
// behind skip(), read_object() and validate_msgpack(), and the error texts of
// msgpack_cursor.hpp.
//
// The walk is iterative: open containers live in an explicit stack (inline
// for the first 128 levels, on the heap only beyond), so hostile nesting
// fails at max_depth and can never exhaust the call stack. It enforces what
// decode_msgpack enforces (string keys, no duplicate keys, no ext) in the
// same order, so validation and decoding agree on every input.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "msgpack_cursor.hpp"

namespace profilestore {

using detail::msgpack_cursor;
using detail::wire_header;

// ---- error texts ---------------------------------------------------------

namespace detail::msgpack_errors {

namespace {

std::string at(std::size_t offset) {
  return " at offset " + std::to_string(offset);
}

error malformed(std::string message) {
  return make_error(errc::malformed_input, std::move(message));
}

error over_limit(std::string message) {
  return make_error(errc::limit_exceeded, std::move(message));
}

std::string exceeds(const char* limit_name, std::size_t limit) {
  return std::string(" exceeds ") + limit_name + " (" + std::to_string(limit)
         + ")";
}

const char* describe(wire_type t) noexcept {
  switch (t) {
  case wire_type::nil: return "nil";
  case wire_type::boolean: return "a boolean";
  case wire_type::negative_int: return "a signed integer";
  case wire_type::positive_int: return "an unsigned integer";
  case wire_type::float32: return "a float 32";
  case wire_type::float64: return "a float 64";
  case wire_type::string: return "a string";
  case wire_type::binary: return "a binary";
  case wire_type::array: return "an array";
  case wire_type::map: return "a map";
  case wire_type::ext: return "an ext object";
  }
  return "an unknown object";
}

std::string sized_object(const wire_header& h) {
  std::string count = std::to_string(h.arg);
  switch (h.type) {
  case wire_type::string: return "string of " + count + " bytes";
  case wire_type::binary: return "binary of " + count + " bytes";
  case wire_type::map: return "map of " + count + " entries";
  default: return "array of " + count + " elements";
  }
}

// A bounded, printable rendering of an untrusted key.
std::string printable_key(std::string_view key) {
  std::string out = "\"";
  for (char c : key.substr(0, 64))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  out += key.size() > 64 ? "...\"" : "\"";
  return out;
}

} // namespace

error input_too_large(std::size_t size, std::size_t limit) {
  return over_limit("input of " + std::to_string(size) + " bytes"
                    + exceeds("max_total_bytes", limit));
}

error end_of_input(std::size_t offset) {
  return malformed("unexpected end of input" + at(offset)
                   + " where an object should start");
}

error reserved_byte(std::size_t offset) {
  return malformed("reserved type byte 0xc1" + at(offset));
}

error unsupported_ext(std::size_t offset) {
  return malformed("ext object" + at(offset)
                   + " is not supported (profiles never contain ext)");
}

error truncated_header(wire_type type, std::size_t offset, unsigned width,
                       std::size_t available) {
  return malformed("truncated header of " + std::string(describe(type))
                   + at(offset) + ": needs " + std::to_string(width)
                   + " more bytes, " + std::to_string(available) + " remain");
}

error too_many_objects(std::size_t offset, std::size_t limit) {
  return over_limit("object" + at(offset) + exceeds("max_objects", limit));
}

error payload_truncated(const wire_header& h, std::size_t available) {
  return malformed(sized_object(h) + at(h.offset) + " exceeds the remaining "
                   + std::to_string(available) + " bytes");
}

error payload_too_large(const wire_header& h, std::size_t limit) {
  const char* name = h.type == wire_type::string ? "max_string_bytes"
                                                 : "max_binary_bytes";
  return over_limit(sized_object(h) + at(h.offset) + exceeds(name, limit));
}

error count_truncated(const wire_header& h, std::size_t available) {
  return malformed(sized_object(h) + at(h.offset) + " exceeds the remaining "
                   + std::to_string(available) + " bytes");
}

error announced_too_many(const wire_header& h, std::size_t announced,
                         std::size_t input_size) {
  return malformed(sized_object(h) + at(h.offset) + " brings the elements "
                   + "announced so far to " + std::to_string(announced)
                   + ", more than the " + std::to_string(input_size)
                   + "-byte input can hold");
}

error count_too_large(const wire_header& h, std::size_t limit) {
  return over_limit(sized_object(h) + at(h.offset)
                    + exceeds("max_container_length", limit));
}

error too_deep(std::size_t offset, std::size_t limit) {
  return over_limit("nesting" + at(offset) + " is deeper than max_depth ("
                    + std::to_string(limit) + ")");
}

error wrong_type(const wire_header& h, const char* expected) {
  return make_error(errc::type_mismatch, std::string("expected ") + expected
                                           + at(h.offset) + ", found "
                                           + describe(h.type));
}

error non_string_key(std::size_t offset) {
  return make_error(errc::type_mismatch,
                    "map key" + at(offset) + " is not a string");
}

error duplicate_key(std::string_view key, std::size_t offset) {
  return malformed("duplicate map key " + printable_key(key) + at(offset));
}

error duplicate_keys(std::size_t map_offset) {
  return malformed("map" + at(map_offset) + " has duplicate keys");
}

error trailing_bytes(std::size_t offset, std::size_t count) {
  return malformed(std::to_string(count) + " trailing bytes" + at(offset)
                   + " after the object");
}

} // namespace detail::msgpack_errors

namespace errors = detail::msgpack_errors;

// ---- the public reads -------------------------------------------------------

msgpack_reader::msgpack_reader(std::string_view bytes,
                               const decode_limits& limits)
  : bytes_(bytes), limits_(limits) {}

result<wire_type> msgpack_reader::peek() const {
  detail::type_byte_info info;
  error err;
  if (!detail::inspect(bytes_, pos_, limits_, info, err))
    return err;
  return info.type;
}

bool msgpack_reader::next_is_nil() const noexcept {
  return pos_ < bytes_.size()
         && static_cast<std::uint8_t>(bytes_[pos_]) == 0xc0;
}

namespace {

// Reads one header and checks its family: `accepts` lists what the caller
// takes, `expected` names it for the error.
template <class... Types>
bool read_header_of(msgpack_cursor& in, wire_header& h, const char* expected,
                    Types... accepts) {
  if (!in.read_header(h))
    return false;
  if (((h.type == accepts) || ...))
    return true;
  return in.fail(errors::wrong_type(h, expected));
}

} // namespace

result<void> msgpack_reader::read_nil() {
  msgpack_cursor in(*this);
  wire_header h;
  if (!read_header_of(in, h, "nil", wire_type::nil))
    return in.take_error();
  return {};
}

result<bool> msgpack_reader::read_bool() {
  msgpack_cursor in(*this);
  wire_header h;
  if (!read_header_of(in, h, "a boolean", wire_type::boolean))
    return in.take_error();
  return h.arg != 0;
}

result<std::int64_t> msgpack_reader::read_int64() {
  msgpack_cursor in(*this);
  wire_header h;
  if (!read_header_of(in, h, "an integer", wire_type::negative_int,
                      wire_type::positive_int))
    return in.take_error();
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  if (h.type == wire_type::positive_int && h.arg > std::uint64_t{max})
    return make_error(errc::type_mismatch,
                      "integer " + std::to_string(h.arg) + " at offset "
                        + std::to_string(h.offset) + " does not fit int64");
  return static_cast<std::int64_t>(h.arg);
}

result<std::uint64_t> msgpack_reader::read_uint64() {
  msgpack_cursor in(*this);
  wire_header h;
  if (!read_header_of(in, h, "an integer", wire_type::negative_int,
                      wire_type::positive_int))
    return in.take_error();
  auto as_signed = static_cast<std::int64_t>(h.arg);
  if (h.type == wire_type::negative_int && as_signed < 0)
    return make_error(errc::type_mismatch,
                      "integer " + std::to_string(as_signed) + " at offset "
                        + std::to_string(h.offset) + " does not fit uint64");
  return h.arg;
}

result<double> msgpack_reader::read_double() {
  msgpack_cursor in(*this);
  wire_header h;
  if (!read_header_of(in, h, "a number", wire_type::float32,
                      wire_type::float64, wire_type::negative_int,
                      wire_type::positive_int))
    return in.take_error();
  if (h.type == wire_type::positive_int)
    return static_cast<double>(h.arg);
  if (h.type == wire_type::negative_int)
    return static_cast<double>(static_cast<std::int64_t>(h.arg));
  return detail::header_double(h);
}

result<std::string_view> msgpack_reader::read_string() {
  msgpack_cursor in(*this);
  wire_header h;
  std::string_view payload;
  if (!read_header_of(in, h, "a string", wire_type::string)
      || !in.read_payload(h, payload))
    return in.take_error();
  return payload;
}

result<std::string_view> msgpack_reader::read_binary() {
  msgpack_cursor in(*this);
  wire_header h;
  std::string_view payload;
  if (!read_header_of(in, h, "a binary", wire_type::binary)
      || !in.read_payload(h, payload))
    return in.take_error();
  return payload;
}

result<std::uint32_t> msgpack_reader::read_array_header() {
  msgpack_cursor in(*this);
  wire_header h;
  std::uint32_t count = 0;
  if (!read_header_of(in, h, "an array", wire_type::array)
      || !in.read_count(h, count))
    return in.take_error();
  return count;
}

result<std::uint32_t> msgpack_reader::read_map_header() {
  msgpack_cursor in(*this);
  wire_header h;
  std::uint32_t count = 0;
  if (!read_header_of(in, h, "a map", wire_type::map)
      || !in.read_count(h, count))
    return in.take_error();
  return count;
}

result<void> msgpack_reader::enter() {
  msgpack_cursor in(*this);
  if (!in.enter())
    return in.take_error();
  return {};
}

void msgpack_reader::leave() noexcept {
  if (depth_ > 0)
    --depth_;
}

// ---- the validating walk ----------------------------------------------------

namespace {

class validating_walk {
public:
  explicit validating_walk(msgpack_cursor& in) : in_(in) {
    keys_.reserve(initial_keys);
  }

  // Walks one whole object.
  bool run() {
    do {
      if (!step())
        return false;
    } while (open_ > 0);
    return true;
  }

private:
  // Plain data, so that the inline stack costs nothing to set up.
  struct level {
    std::uint64_t remaining; // objects still to read (maps count keys too)
    std::size_t offset;      // of the container's type byte
    std::size_t first_key;   // maps: index of its first key in keys_
    bool is_map;
    bool unsorted;
  };
  static constexpr std::size_t inline_levels = 128;

  level& top() noexcept {
    return open_ <= inline_levels ? shallow_[open_ - 1]
                                  : deep_[open_ - 1 - inline_levels];
  }
  void push(const level& l) {
    if (open_ < inline_levels)
      shallow_[open_] = l;
    else
      deep_.push_back(l);
    ++open_;
  }
  void pop() noexcept {
    --open_;
    if (open_ >= inline_levels)
      deep_.pop_back();
  }

  // Reads one object: a scalar whole, or a container's header (the
  // container then stays open until its elements have been walked).
  bool step() {
    level* parent = open_ > 0 ? &top() : nullptr;
    bool is_key = parent && parent->is_map && parent->remaining % 2 == 0;
    wire_header h;
    if (!in_.read_header(h))
      return false;
    if (is_key && h.type != wire_type::string)
      return in_.fail(errors::non_string_key(h.offset));
    if (h.type == wire_type::array || h.type == wire_type::map)
      return open_container(h);
    if (h.type == wire_type::string || h.type == wire_type::binary) {
      std::string_view payload;
      if (!in_.read_payload(h, payload))
        return false;
      if (is_key && !note_key(*parent, payload, h.offset))
        return false;
    }
    return close_finished();
  }

  bool open_container(const wire_header& h) {
    std::uint32_t count;
    if (!in_.read_count(h, count) || !in_.enter())
      return false;
    bool is_map = h.type == wire_type::map;
    std::uint64_t children = is_map ? 2 * std::uint64_t{count} : count;
    if (children == 0) {
      in_.leave();
      return close_finished();
    }
    push(level{children, h.offset, keys_.size(), is_map, false});
    return true;
  }

  // Counts one finished object in its container and closes every container
  // that this completes.
  bool close_finished() {
    while (open_ > 0) {
      level& current = top();
      if (--current.remaining > 0)
        return true;
      if (current.is_map && !close_keys(current))
        return false;
      pop();
      in_.leave();
    }
    return true;
  }

  // Keys from our own encoder arrive sorted; then comparing each key with
  // the previous one finds every duplicate. The keys of every open map wait
  // on one stack (views into the input), so a map whose keys came in any
  // other order is checked when it closes by sorting just its own keys.
  bool note_key(level& map, std::string_view key, std::size_t offset) {
    if (keys_.size() > map.first_key) {
      int order = detail::compare_keys(keys_.back(), key);
      if (order == 0)
        return in_.fail(errors::duplicate_key(key, offset));
      map.unsorted = map.unsorted || order > 0;
    }
    keys_.emplace_back(key.data(), key.size());
    return true;
  }

  bool close_keys(const level& map) {
    auto first = keys_.begin() + static_cast<std::ptrdiff_t>(map.first_key);
    if (map.unsorted && has_duplicate(first, keys_.end()))
      return in_.fail(errors::duplicate_keys(map.offset));
    keys_.erase(first, keys_.end());
    return true;
  }

  // Whether [first, last) holds a key twice: small maps pair by pair
  // (sorting them showed at a fifth of the walk), larger ones sorted.
  using key_iterator = std::vector<std::string_view>::iterator;
  static bool has_duplicate(key_iterator first, key_iterator last) {
    if (static_cast<std::size_t>(last - first)
        <= detail::pairwise_key_check_limit)
      return detail::has_duplicate_pairwise(&*first, &*first + (last - first));
    std::sort(first, last);
    return std::adjacent_find(first, last) != last;
  }

  msgpack_cursor& in_;
  level shallow_[inline_levels];
  std::vector<level> deep_;
  std::size_t open_ = 0;
  // Keys of the open maps, innermost last. Reserved once, so that a typed
  // profile's walk allocates once instead of growing it step by step.
  static constexpr std::size_t initial_keys = 64;
  std::vector<std::string_view> keys_;
};

} // namespace

result<void> msgpack_reader::skip() {
  msgpack_cursor in(*this);
  if (!validating_walk(in).run())
    return in.take_error();
  return {};
}

result<void> msgpack_reader::skip_structure() {
  const std::size_t end = bytes_.size();
  const char* data = bytes_.data();
  std::size_t pos = pos_;
  std::uint64_t pending = 1; // objects still to skip
  while (pending > 0) {
    if (pos >= end)
      return make_error(errc::malformed_input,
                        "input ends inside an object at offset "
                          + std::to_string(pos));
    const auto& info = detail::classify(static_cast<std::uint8_t>(data[pos]));
    if (info.rejected || info.type == wire_type::ext)
      return make_error(errc::malformed_input,
                        "unsupported type byte at offset "
                          + std::to_string(pos));
    if (end - pos - 1 < info.width)
      return make_error(errc::malformed_input,
                        "truncated header at offset " + std::to_string(pos));
    std::uint64_t arg = info.width ? detail::load_argument(info, data + pos + 1)
                                   : info.fixed;
    pos += 1 + info.width;
    --pending;
    std::uint64_t left = end - pos;
    if (info.type == wire_type::string || info.type == wire_type::binary) {
      if (arg > left)
        return make_error(errc::malformed_input,
                          "payload runs past the input at offset "
                            + std::to_string(pos));
      pos += arg;
    } else if (info.type == wire_type::array || info.type == wire_type::map) {
      pending += info.type == wire_type::map ? 2 * arg : arg;
      // Every pending object needs at least one byte.
      if (pending > left)
        return make_error(errc::malformed_input,
                          "container announces more objects than the input "
                          "holds at offset "
                            + std::to_string(pos));
    }
  }
  pos_ = pos;
  return {};
}

result<std::string_view> msgpack_reader::read_object_structure() {
  std::size_t start = pos_;
  PROFILESTORE_TRY(skip_structure());
  return bytes_.substr(start, pos_ - start);
}

result<std::string_view> msgpack_reader::read_object() {
  std::size_t start = pos_;
  PROFILESTORE_TRY(skip());
  return bytes_.substr(start, pos_ - start);
}

} // namespace profilestore
