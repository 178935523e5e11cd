// msgpack_decode.cpp: decode_msgpack (bytes to value) and validate_msgpack.
//
// Both read through msgpack_cursor over a msgpack_reader, so they apply the
// same checks in the same order and agree on every input: validate_msgpack
// succeeds exactly when decode_msgpack would. The decoder builds the tree in
// place: containers are sized from their (already bounds-checked) headers,
// and map entries are appended in wire order, since our encoder writes keys
// sorted and proving that costs one comparison per key.
//
// The decoder recurses once per nesting level, and the cursor refuses a
// level beyond max_depth before the recursion happens; a decoded tree that
// deep is destroyed recursively too, so max_depth should stay in the
// hundreds (the default is 100).
#include <limits>
#include <type_traits>

#include "msgpack_cursor.hpp"
#include "value_map_builder.hpp"

namespace profilestore {

namespace {

namespace errors = detail::msgpack_errors;
using detail::wire_header;

// Where a decoded object goes: `slot(x)` builds a value from x in place and
// returns it, so that no value is built twice and containers are filled
// where they already are.
struct root_slot {
  value* root;
  template <class T>
  value& operator()(T&& item) {
    *root = value(std::forward<T>(item));
    return *root;
  }
};

struct array_slot {
  value_array* items;
  template <class T>
  value& operator()(T&& item) {
    return items->emplace_back(std::forward<T>(item));
  }
};

struct map_slot {
  value_map* map;
  std::string_view key;
  template <class T>
  value& operator()(T&& item) {
    return detail::value_map_builder::emplace_unsorted(*map, key,
                                                       std::forward<T>(item));
  }
};

class value_decoder {
public:
  value_decoder(std::string_view bytes, const decode_limits& limits)
    : reader_(bytes, limits), in_(reader_) {}

  result<value> decode() {
    value root;
    if (!read_value(root_slot{&root}))
      return in_.take_error();
    if (!in_.at_end())
      return errors::trailing_bytes(in_.offset(), in_.remaining());
    return root;
  }

private:
  template <class Slot>
  bool read_value(Slot slot) {
    wire_header h;
    if (!in_.read_header(h))
      return false;
    switch (h.type) {
    case wire_type::nil: slot(nil); return true;
    case wire_type::boolean: slot(h.arg != 0); return true;
    case wire_type::negative_int:
      slot(static_cast<std::int64_t>(h.arg));
      return true;
    case wire_type::positive_int: place_unsigned(h.arg, slot); return true;
    case wire_type::float32:
    case wire_type::float64: slot(detail::header_double(h)); return true;
    case wire_type::string: return place_payload<std::string_view>(h, slot);
    case wire_type::binary: return place_payload<binary>(h, slot);
    case wire_type::array: return read_array(h, slot(value_array()));
    case wire_type::map: return read_map(h, slot(value_map()));
    case wire_type::ext: break;
    }
    return in_.fail(errors::unsupported_ext(h.offset));
  }

  template <class Slot>
  static void place_unsigned(std::uint64_t u, Slot& slot) {
    constexpr auto int64_max = std::numeric_limits<std::int64_t>::max();
    if (u <= static_cast<std::uint64_t>(int64_max))
      slot(static_cast<std::int64_t>(u));
    else
      slot(u);
  }

  // A string (from its view, copied once into the value) or a binary.
  template <class Bytes, class Slot>
  bool place_payload(const wire_header& h, Slot& slot) {
    std::string_view payload;
    if (!in_.read_payload(h, payload))
      return false;
    if constexpr (std::is_same_v<Bytes, binary>) {
      const auto* data = reinterpret_cast<const std::uint8_t*>(payload.data());
      slot(binary(data, data + payload.size()));
    } else {
      slot(payload);
    }
    return true;
  }

  // Fills the empty array just placed in `target`.
  bool read_array(const wire_header& h, value& target) {
    std::uint32_t count;
    if (!in_.read_count(h, count) || !in_.enter())
      return false;
    value_array* items = target.if_array();
    if (items == nullptr)
      return in_.fail(make_error(errc::internal, "array slot is not an array"));
    items->reserve(count);
    for (std::uint32_t i = 0; i < count; ++i)
      if (!read_value(array_slot{items}))
        return false;
    in_.leave();
    return true;
  }

  // Fills the empty map just placed in `target`.
  bool read_map(const wire_header& h, value& target) {
    std::uint32_t count;
    if (!in_.read_count(h, count) || !in_.enter())
      return false;
    value_map* map = target.if_map();
    if (map == nullptr)
      return in_.fail(make_error(errc::internal, "map slot is not a map"));
    map->reserve(count);
    bool sorted = true;
    for (std::uint32_t i = 0; i < count; ++i)
      if (!read_entry(*map, sorted))
        return false;
    in_.leave();
    if (!sorted && !map->finish_unsorted())
      return in_.fail(errors::duplicate_keys(h.offset));
    return true;
  }

  // Appends one key and its value. A key equal to the one before is a
  // duplicate found at once; while every key is greater than the one
  // before, the map is sorted and unique without finish_unsorted().
  bool read_entry(value_map& map, bool& sorted) {
    wire_header h;
    std::string_view key;
    if (!in_.read_header(h))
      return false;
    if (h.type != wire_type::string)
      return in_.fail(errors::non_string_key(h.offset));
    if (!in_.read_payload(h, key))
      return false;
    if (!map.empty()) {
      int order = detail::compare_keys((map.end() - 1)->first, key);
      if (order == 0)
        return in_.fail(errors::duplicate_key(key, h.offset));
      sorted = sorted && order < 0;
    }
    return read_value(map_slot{&map, key});
  }

  msgpack_reader reader_;
  detail::msgpack_cursor in_;
};

} // namespace

result<value> decode_msgpack(std::string_view bytes,
                             const decode_limits& limits) {
  return value_decoder(bytes, limits).decode();
}

result<void> validate_msgpack(std::string_view bytes,
                              const decode_limits& limits) {
  if (detail::quick_accept(bytes, limits))
    return {};
  msgpack_reader reader(bytes, limits);
  PROFILESTORE_TRY(reader.skip());
  if (!reader.at_end())
    return detail::msgpack_errors::trailing_bytes(reader.offset(),
                                                  reader.remaining());
  return {};
}

} // namespace profilestore
