// value.cpp: value_map (a sorted flat map) and the kind-level parts of value:
// construction from unsigned integers, checked numeric access, map access,
// equality and the debug rendering. Paths and reconcile live in
// value_paths.cpp.
//
// Keys compare bytewise (std::string_view ordering), the same order the
// MessagePack encoder writes and std::map<std::string> would use.
#include "profilestore/codec/value.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace profilestore {

namespace {

constexpr auto int64_max =
  static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

bool key_less(const value_map::entry& a, const value_map::entry& b) noexcept {
  return std::string_view(a.first) < std::string_view(b.first);
}

bool same_key(const value_map::entry& a, const value_map::entry& b) noexcept {
  return a.first == b.first;
}

// Misuse of an API whose preconditions are documented as asserted. Stops in
// every build type: continuing would mean undefined behaviour.
[[noreturn]] void contract_violation(const char* what) noexcept {
  std::fprintf(stderr, "profilestore: contract violation: %s\n", what);
  std::abort();
}

} // namespace

// ---- value_map ----------------------------------------------------------

// Later duplicates in the list replace earlier ones, as successive
// insert_or_assign calls would.
value_map::value_map(std::initializer_list<entry> entries) {
  entries_.reserve(entries.size());
  for (const auto& e : entries)
    insert_or_assign(e.first, e.second);
}

namespace {

template <class Entries>
auto lower_bound_key(Entries& entries, std::string_view key) noexcept {
  return std::lower_bound(
    entries.begin(), entries.end(), key,
    [](const value_map::entry& e, std::string_view k) {
      return std::string_view(e.first) < k;
    });
}

} // namespace

const value* value_map::find(std::string_view key) const noexcept {
  auto it = lower_bound_key(entries_, key);
  if (it == entries_.end() || it->first != key)
    return nullptr;
  return &it->second;
}

value* value_map::find(std::string_view key) noexcept {
  auto it = lower_bound_key(entries_, key);
  if (it == entries_.end() || it->first != key)
    return nullptr;
  return &it->second;
}

value& value_map::operator[](std::string_view key) {
  auto it = lower_bound_key(entries_, key);
  if (it == entries_.end() || it->first != key)
    it = entries_.emplace(it, std::string(key), value{});
  return it->second;
}

value& value_map::insert_or_assign(std::string key, value v) {
  auto it = lower_bound_key(entries_, key);
  if (it != entries_.end() && it->first == key) {
    it->second = std::move(v);
    return it->second;
  }
  it = entries_.emplace(it, std::move(key), std::move(v));
  return it->second;
}

bool value_map::erase(std::string_view key) {
  auto it = lower_bound_key(entries_, key);
  if (it == entries_.end() || it->first != key)
    return false;
  entries_.erase(it);
  return true;
}

// Decoders of our own encoding see keys already in order: one pass of
// comparisons proves it and no sort is needed. On a duplicate the map keeps
// all entries (sorted) and the caller is expected to discard it.
bool value_map::finish_unsorted() {
  bool sorted = true;
  for (std::size_t i = 1; i < entries_.size(); ++i) {
    const auto& prev = entries_[i - 1].first;
    const auto& cur = entries_[i].first;
    int order = std::string_view(prev).compare(cur);
    if (order == 0)
      return false;
    if (order > 0) {
      sorted = false;
      break;
    }
  }
  if (sorted)
    return true;
  std::stable_sort(entries_.begin(), entries_.end(), key_less);
  return std::adjacent_find(entries_.begin(), entries_.end(), same_key)
         == entries_.end();
}

bool operator==(const value_map& a, const value_map& b) {
  return a.entries_ == b.entries_;
}

// ---- value ----------------------------------------------------------------

value::value(unsigned long i) noexcept {
  if (i <= int64_max)
    v_ = static_cast<std::int64_t>(i);
  else
    v_ = static_cast<std::uint64_t>(i);
}

value::value(unsigned long long i) noexcept {
  if (i <= int64_max)
    v_ = static_cast<std::int64_t>(i);
  else
    v_ = static_cast<std::uint64_t>(i);
}

namespace {

error not_a_number(value::kind found, const char* wanted) {
  return make_error(errc::type_mismatch,
                    std::string("expected ") + wanted
                      + ", found a value of kind "
                      + std::string(to_string(found)));
}

} // namespace

result<std::int64_t> value::to_int64() const {
  if (const auto* i = if_int64())
    return *i;
  if (const auto* u = if_uint64()) {
    if (*u <= int64_max)
      return static_cast<std::int64_t>(*u);
    return make_error(errc::type_mismatch, "integer " + std::to_string(*u)
                                             + " does not fit int64");
  }
  return not_a_number(type(), "an integer");
}

result<std::uint64_t> value::to_uint64() const {
  if (const auto* u = if_uint64())
    return *u;
  if (const auto* i = if_int64()) {
    if (*i >= 0)
      return static_cast<std::uint64_t>(*i);
    return make_error(errc::type_mismatch, "integer " + std::to_string(*i)
                                             + " does not fit uint64");
  }
  return not_a_number(type(), "an integer");
}

result<double> value::to_double() const {
  if (const auto* d = if_double())
    return *d;
  if (const auto* i = if_int64())
    return static_cast<double>(*i);
  if (const auto* u = if_uint64())
    return static_cast<double>(*u);
  return not_a_number(type(), "a number");
}

value& value::operator[](std::string_view key) {
  if (is_nil())
    v_ = value_map{};
  auto* map = if_map();
  assert(map && "value::operator[] needs a map or nil");
  if (map == nullptr)
    contract_violation("value::operator[] on a value that is not a map");
  return (*map)[key];
}

const value* value::get(std::string_view key) const noexcept {
  const auto* map = if_map();
  return map ? map->find(key) : nullptr;
}

namespace {

// An integer as (sign, two's complement bits): int64 5 and uint64 5 give the
// same pair, and no uint64 equals a negative int64.
std::pair<bool, std::uint64_t> integer_identity(const value& v) noexcept {
  if (const auto* i = v.if_int64())
    return {*i < 0, static_cast<std::uint64_t>(*i)};
  const auto* u = v.if_uint64();
  return {false, u ? *u : 0};
}

} // namespace

bool operator==(const value& a, const value& b) noexcept {
  if (a.is_integer() && b.is_integer())
    return integer_identity(a) == integer_identity(b);
  return a.v_ == b.v_;
}

// ---- debug_string -----------------------------------------------------------

namespace {

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", byte);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

// Shortest round-trip form is not needed here; 17 significant digits are
// exact, and a trailing ".0" keeps a whole double visibly a double.
void append_double(std::string& out, double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  std::string_view text(buf);
  out += text;
  if (text.find_first_of(".eEni") == std::string_view::npos)
    out += ".0";
}

void append_binary(std::string& out, const binary& bytes) {
  out += "bin(";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02x", bytes[i]);
    out += buf;
  }
  out += ')';
}

void append_debug(std::string& out, const value& v);

void append_array(std::string& out, const value_array& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += ',';
    append_debug(out, items[i]);
  }
  out += ']';
}

void append_map(std::string& out, const value_map& map) {
  out += '{';
  bool first = true;
  for (const auto& [key, child] : map) {
    if (!first)
      out += ',';
    first = false;
    append_quoted(out, key);
    out += ':';
    append_debug(out, child);
  }
  out += '}';
}

void append_debug(std::string& out, const value& v) {
  switch (v.type()) {
  case value::kind::nil: out += "null"; return;
  case value::kind::boolean: out += *v.if_bool() ? "true" : "false"; return;
  case value::kind::int64: out += std::to_string(*v.if_int64()); return;
  case value::kind::uint64: out += std::to_string(*v.if_uint64()); return;
  case value::kind::float64: append_double(out, *v.if_double()); return;
  case value::kind::string: append_quoted(out, *v.if_string()); return;
  case value::kind::binary: append_binary(out, *v.if_binary()); return;
  case value::kind::array: append_array(out, *v.if_array()); return;
  case value::kind::map: append_map(out, *v.if_map()); return;
  }
}

} // namespace

std::string value::debug_string() const {
  std::string out;
  append_debug(out, *this);
  return out;
}

std::string_view to_string(value::kind k) noexcept {
  switch (k) {
  case value::kind::nil: return "nil";
  case value::kind::boolean: return "boolean";
  case value::kind::int64: return "int64";
  case value::kind::uint64: return "uint64";
  case value::kind::float64: return "float64";
  case value::kind::string: return "string";
  case value::kind::binary: return "binary";
  case value::kind::array: return "array";
  case value::kind::map: return "map";
  }
  return "unknown";
}

} // namespace profilestore
