// msgpack_quick_accept.cpp: a fast, conservative acceptance test in front
// of validate_msgpack's full walk (msgpack_cursor.hpp, quick_accept).
//
// Every profile save is validated once (on the profile's own thread beside
// its storage, on the storage node otherwise), so this walk is on the hot
// path of save throughput. The full walk keeps its state in the reader and
// a cursor object and builds precise errors; this one keeps everything in
// locals, handles only what well-formed profiles contain within small
// fixed bounds, and on anything else (an error, nesting deeper than its
// stack, more open map keys than it holds, a large unsorted map) simply
// declines, leaving the verdict and the error text to the full walk (so an
// input it declines costs at most one partial walk more than before).
//
// Its contract is one-sided: it accepts only inputs the full walk accepts.
// Each check below is one of the full walk's, made at least as strictly:
// max_total_bytes, end of input, 0xc1 and ext, truncated headers,
// max_objects, string keys, payloads against the bytes left and their
// limits, counts against the bytes left, all announced counts against the
// input size, max_container_length, max_depth, duplicate keys, and no
// trailing bytes. The randomized agreement tests of validation and decoding
// (tests/codec/hostile_input_test.cpp) run through it.
#include <cstdint>

#include "msgpack_cursor.hpp"

namespace profilestore::detail {

namespace {

constexpr std::size_t max_levels = 32;
constexpr std::size_t max_open_keys = 256;

struct open_level {
  std::uint64_t remaining; // objects still to read (maps count keys too)
  std::uint32_t first_key; // maps: index of its first key in keys
  bool is_map;
  bool unsorted;
};

// A key as a plain pair rather than a string_view, so that the array of
// them below is left uninitialised: an array of string_views is zeroed on
// every call, 4 KiB of stack written before a 1 KiB profile is read.
struct open_key {
  const char* bytes;
  std::size_t length;
  const char* data() const noexcept { return bytes; }
  std::size_t size() const noexcept { return length; }
  std::string_view view() const noexcept { return {bytes, length}; }
};

} // namespace

bool quick_accept(std::string_view bytes,
                  const decode_limits& limits) noexcept {
  if (bytes.size() > limits.max_total_bytes)
    return false;
  const char* const data = bytes.data();
  const std::size_t size = bytes.size();
  std::size_t pos = 0;
  std::size_t objects = 0;
  std::size_t announced = 0;
  open_level levels[max_levels];
  std::size_t depth = 0;
  open_key keys[max_open_keys];
  std::size_t key_count = 0;

  do {
    if (pos >= size)
      return false;
    const type_byte_info& info = classify(static_cast<std::uint8_t>(data[pos]));
    if (info.rejected)
      return false;
    if (size - pos - 1 < info.width)
      return false;
    const std::uint64_t arg
      = info.width ? load_argument(info, data + pos + 1) : info.fixed;
    pos += 1 + info.width;
    if (++objects > limits.max_objects)
      return false;
    open_level* parent = depth > 0 ? &levels[depth - 1] : nullptr;
    const bool is_key
      = parent && parent->is_map && parent->remaining % 2 == 0;
    if (is_key && info.type != wire_type::string)
      return false;

    if (info.type == wire_type::array || info.type == wire_type::map) {
      const bool is_map = info.type == wire_type::map;
      const std::size_t per_entry = is_map ? 2 : 1;
      if (arg > (size - pos) / per_entry)
        return false;
      announced += per_entry * static_cast<std::size_t>(arg);
      if (announced > size || arg > limits.max_container_length)
        return false;
      if (depth >= limits.max_depth || depth >= max_levels)
        return false;
      if (arg > 0) {
        levels[depth++] = open_level{per_entry * arg,
                                     static_cast<std::uint32_t>(key_count),
                                     is_map, false};
        continue; // the container stays open for its elements
      }
    } else if (info.type == wire_type::string
               || info.type == wire_type::binary) {
      const std::size_t limit = info.type == wire_type::string
                                  ? limits.max_string_bytes
                                  : limits.max_binary_bytes;
      if (arg > size - pos || arg > limit)
        return false;
      if (is_key) {
        const open_key key{data + pos, static_cast<std::size_t>(arg)};
        if (key_count > parent->first_key) {
          int order = compare_keys(keys[key_count - 1].view(), key.view());
          if (order == 0)
            return false;
          parent->unsorted = parent->unsorted || order > 0;
        }
        if (key_count == max_open_keys)
          return false;
        keys[key_count++] = key;
      }
      pos += static_cast<std::size_t>(arg);
    }

    // One object finished: count it in its container and close every
    // container this completes.
    while (depth > 0) {
      open_level& current = levels[depth - 1];
      if (--current.remaining > 0)
        break;
      if (current.is_map) {
        const std::size_t first = current.first_key;
        if (current.unsorted) {
          if (key_count - first > pairwise_key_check_limit)
            return false; // the full walk sorts larger maps
          if (has_duplicate_pairwise(keys + first, keys + key_count))
            return false;
        }
        key_count = first;
      }
      --depth;
    }
  } while (depth > 0);
  return pos == size;
}

} // namespace profilestore::detail
