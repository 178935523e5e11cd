// value: a dynamic tree for profile data whose shape is not a C++ struct.
//
// A value is one of: nil, bool, int64, uint64, double, string, binary, array
// or map (string keys). It owns its children (copying is a deep copy) and
// compares by content. Integers compare by number across int64 and uint64
// (int64 5 == uint64 5), never equal to a double.
//
// Paths address nested values: "inventory.sword.count" walks map keys;
// a segment that is a decimal number indexes an array ("quests.0.name").
// Keys that contain '.' cannot be addressed by path (use map access).
//
// Thread safety: like std::string; concurrent reads are safe, a write needs
// exclusive access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "profilestore/result.hpp"

namespace profilestore {

class value;

namespace detail {
struct value_map_builder;
} // namespace detail

// Raw bytes (MessagePack bin). A distinct type from std::string (str).
using binary = std::vector<std::uint8_t>;

struct nil_t {
  friend bool operator==(nil_t, nil_t) noexcept { return true; }
};
inline constexpr nil_t nil{};

// An ordered map from string keys to values, kept sorted by key (bytewise),
// so that encoding is deterministic. Small maps are the norm in profile data;
// lookups are binary searches over one contiguous vector.
class value_map {
public:
  using entry = std::pair<std::string, value>;
  using iterator = std::vector<entry>::iterator;
  using const_iterator = std::vector<entry>::const_iterator;

  value_map() = default;
  value_map(std::initializer_list<entry> entries);

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  const_iterator begin() const noexcept { return entries_.begin(); }
  const_iterator end() const noexcept { return entries_.end(); }
  iterator begin() noexcept { return entries_.begin(); }
  iterator end() noexcept { return entries_.end(); }

  // nullptr when absent.
  const value* find(std::string_view key) const noexcept;
  value* find(std::string_view key) noexcept;
  bool contains(std::string_view key) const noexcept {
    return find(key) != nullptr;
  }

  // Inserts nil when absent, like std::map::operator[].
  value& operator[](std::string_view key);
  // Inserts or replaces; returns the stored value.
  value& insert_or_assign(std::string key, value v);
  // Returns whether a key was removed.
  bool erase(std::string_view key);

  void reserve(std::size_t n) { entries_.reserve(n); }

  // For decoders: appends without keeping order; call finish_unsorted()
  // after the last append. Returns false if finish found a duplicate key.
  // A caller that appended keys in strictly increasing order has nothing
  // to finish and may skip the call.
  void append_unsorted(std::string key, value v);
  [[nodiscard]] bool finish_unsorted();

  friend bool operator==(const value_map& a, const value_map& b);
  friend bool operator!=(const value_map& a, const value_map& b) {
    return !(a == b);
  }

private:
  // Lets the MessagePack decoder build entries in place
  // (codec/src/value_map_builder.hpp).
  friend struct detail::value_map_builder;

  std::vector<entry> entries_;
};

using value_array = std::vector<value>;

class value {
public:
  // GCC's -Wshadow flags scoped enumerators that share a name with a
  // namespace-scope entity (profilestore::nil, profilestore::binary), though
  // they cannot clash: they are only ever named as value::kind::nil.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
  enum class kind : std::uint8_t {
    nil,
    boolean,
    int64,
    uint64,
    float64,
    string,
    binary,
    array,
    map,
  };
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

  value() noexcept : v_(nil_t{}) {}
  value(nil_t) noexcept : v_(nil_t{}) {}
  value(bool b) noexcept : v_(b) {}
  value(int i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(long i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(long long i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(unsigned i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(unsigned long i) noexcept;
  value(unsigned long long i) noexcept;
  value(double d) noexcept : v_(d) {}
  value(std::string s) noexcept : v_(std::move(s)) {}
  value(std::string_view s) : v_(std::in_place_type<std::string>, s) {}
  value(const char* s) : v_(std::in_place_type<std::string>, s) {}
  value(binary b) noexcept : v_(std::move(b)) {}
  value(value_array a) noexcept : v_(std::move(a)) {}
  value(value_map m) noexcept : v_(std::move(m)) {}

  // A map from a braced list: value::object({{"coins", 10}, {"name", "a"}}).
  static value object(std::initializer_list<value_map::entry> entries) {
    return value(value_map(entries));
  }
  static value array(std::initializer_list<value> items) {
    return value(value_array(items));
  }

  kind type() const noexcept { return static_cast<kind>(v_.index()); }
  bool is_nil() const noexcept { return type() == kind::nil; }
  bool is_bool() const noexcept { return type() == kind::boolean; }
  // True for int64 and uint64.
  bool is_integer() const noexcept {
    return type() == kind::int64 || type() == kind::uint64;
  }
  bool is_double() const noexcept { return type() == kind::float64; }
  bool is_string() const noexcept { return type() == kind::string; }
  bool is_binary() const noexcept { return type() == kind::binary; }
  bool is_array() const noexcept { return type() == kind::array; }
  bool is_map() const noexcept { return type() == kind::map; }

  // Typed access: nullptr when the value holds another kind.
  const bool* if_bool() const noexcept { return std::get_if<bool>(&v_); }
  const std::int64_t* if_int64() const noexcept {
    return std::get_if<std::int64_t>(&v_);
  }
  const std::uint64_t* if_uint64() const noexcept {
    return std::get_if<std::uint64_t>(&v_);
  }
  const double* if_double() const noexcept { return std::get_if<double>(&v_); }
  const std::string* if_string() const noexcept {
    return std::get_if<std::string>(&v_);
  }
  std::string* if_string() noexcept { return std::get_if<std::string>(&v_); }
  const binary* if_binary() const noexcept { return std::get_if<binary>(&v_); }
  const value_array* if_array() const noexcept {
    return std::get_if<value_array>(&v_);
  }
  value_array* if_array() noexcept { return std::get_if<value_array>(&v_); }
  const value_map* if_map() const noexcept {
    return std::get_if<value_map>(&v_);
  }
  value_map* if_map() noexcept { return std::get_if<value_map>(&v_); }

  // Integer access with range checks: an error when the value is not an
  // integer or does not fit.
  result<std::int64_t> to_int64() const;
  result<std::uint64_t> to_uint64() const;
  // Any number as a double (integers converted).
  result<double> to_double() const;

  // Map access: converts nil to an empty map first; errors are programming
  // errors (asserted): use if_map() when the kind is not known.
  value& operator[](std::string_view key);
  // nullptr when this is not a map or the key is absent.
  const value* get(std::string_view key) const noexcept;

  // Path access ("a.b.0.c"): nullptr when any step is missing or of the
  // wrong kind. An empty path is this value.
  const value* find(std::string_view path) const noexcept;
  value* find(std::string_view path) noexcept;

  // Stores `v` at `path`, creating missing maps (and turning nil into a map)
  // along the way. Fails, changing nothing, when a step runs into a
  // non-container value, an array index is out of range, or the path is
  // malformed (empty segment). An empty path replaces this value.
  result<void> set(std::string_view path, value v);

  // Removes the value at `path`; false when there was nothing to remove.
  bool erase(std::string_view path);

  // Fills in every key present in `tmpl` but missing here, deeply: where both
  // sides hold maps, recurses; an existing value is never changed, whatever
  // its kind. Arrays are not merged. A nil `this` becomes a copy of `tmpl`.
  void reconcile(const value& tmpl);

  // A compact human-readable rendering for logs and test failures (JSON-like;
  // not a stable format: use json.hpp for that).
  std::string debug_string() const;

  friend bool operator==(const value& a, const value& b) noexcept;
  friend bool operator!=(const value& a, const value& b) noexcept {
    return !(a == b);
  }

private:
  std::variant<nil_t, bool, std::int64_t, std::uint64_t, double, std::string,
               binary, value_array, value_map>
    v_;
};

std::string_view to_string(value::kind k) noexcept;

// Inline: decoders call it once per map entry.
inline void value_map::append_unsorted(std::string key, value v) {
  entries_.emplace_back(std::move(key), std::move(v));
}

} // namespace profilestore
