// value_paths.cpp: dotted-path access (find, set, erase) and reconcile.
//
// A path is a '.'-separated list of segments. At a map a segment is a key; at
// an array it must be a decimal index in range. set() checks the whole walk
// against the current tree before it touches anything, so a failed set
// leaves the value exactly as it was.
#include <algorithm>
#include <optional>
#include <vector>

#include "profilestore/codec/value.hpp"

namespace profilestore {

namespace {

// Splits a path into segments one at a time, without allocating.
class segment_reader {
public:
  explicit segment_reader(std::string_view path) : rest_(path) {}

  // False when every segment has been returned.
  bool next(std::string_view& segment) noexcept {
    if (done_)
      return false;
    auto dot = rest_.find('.');
    if (dot == std::string_view::npos) {
      segment = rest_;
      done_ = true;
    } else {
      segment = rest_.substr(0, dot);
      rest_.remove_prefix(dot + 1);
    }
    return true;
  }

private:
  std::string_view rest_;
  bool done_ = false;
};

// A decimal array index: digits only, no sign, no overflow.
std::optional<std::size_t> parse_index(std::string_view segment) noexcept {
  if (segment.empty() || segment.size() > 18)
    return std::nullopt;
  std::size_t index = 0;
  for (char c : segment) {
    if (c < '0' || c > '9')
      return std::nullopt;
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  return index;
}

const value* child_of(const value& node, std::string_view segment) noexcept {
  if (const auto* map = node.if_map())
    return map->find(segment);
  if (const auto* items = node.if_array()) {
    auto index = parse_index(segment);
    if (index && *index < items->size())
      return &(*items)[*index];
  }
  return nullptr;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

error bad_index(std::string_view path, std::string_view segment,
                std::size_t size) {
  return make_error(errc::invalid_argument,
                    "path " + quoted(path) + ": segment " + quoted(segment)
                      + " is not an index in range for an array of "
                      + std::to_string(size) + " elements");
}

// The error set(path, ...) would run into, or nothing. Below a missing key
// (or a nil) every remaining step creates a map, which cannot fail; the
// remaining segments are still checked for being well formed.
result<void> check_set_path(const value& root, std::string_view path) {
  const value* node = &root;
  segment_reader segments(path);
  std::string_view segment;
  while (segments.next(segment)) {
    if (segment.empty())
      return make_error(errc::invalid_argument,
                        "path " + quoted(path) + " has an empty segment");
    if (node == nullptr || node->is_nil()) {
      node = nullptr;
    } else if (const auto* map = node->if_map()) {
      node = map->find(segment);
    } else if (const auto* items = node->if_array()) {
      auto index = parse_index(segment);
      if (!index || *index >= items->size())
        return bad_index(path, segment, items->size());
      node = &(*items)[*index];
    } else {
      return make_error(errc::type_mismatch,
                        "path " + quoted(path) + ": segment " + quoted(segment)
                          + " runs into a "
                          + std::string(to_string(node->type()))
                          + ", not a map or array");
    }
  }
  return {};
}

// One step of a walk already checked by check_set_path.
value& child_or_create(value& node, std::string_view segment) {
  if (auto* items = node.if_array())
    return (*items)[*parse_index(segment)];
  return node[segment];
}

// Both maps are sorted, so one merge pass finds the missing keys. They are
// copied during the walk and appended after it, so that the walk never sees
// a half-updated map and a template living inside this tree stays valid.
void fill_missing(value_map& mine, const value_map& tmpl) {
  std::vector<value_map::entry> missing;
  auto it = mine.begin();
  for (const auto& wanted : tmpl) {
    std::string_view key = wanted.first;
    while (it != mine.end() && std::string_view(it->first) < key)
      ++it;
    if (it != mine.end() && it->first == key) {
      if (it->second.is_map() && wanted.second.is_map())
        it->second.reconcile(wanted.second);
    } else {
      missing.push_back(wanted);
    }
  }
  if (missing.empty())
    return;
  mine.reserve(mine.size() + missing.size());
  for (auto& entry : missing)
    mine.append_unsorted(std::move(entry.first), std::move(entry.second));
  [[maybe_unused]] bool unique = mine.finish_unsorted();
  assert(unique && "reconcile only adds keys that were missing");
}

} // namespace

const value* value::find(std::string_view path) const noexcept {
  const value* node = this;
  if (path.empty())
    return node;
  segment_reader segments(path);
  std::string_view segment;
  while (node != nullptr && segments.next(segment))
    node = segment.empty() ? nullptr : child_of(*node, segment);
  return node;
}

value* value::find(std::string_view path) noexcept {
  return const_cast<value*>(std::as_const(*this).find(path));
}

result<void> value::set(std::string_view path, value v) {
  if (path.empty()) {
    *this = std::move(v);
    return {};
  }
  PROFILESTORE_TRY(check_set_path(*this, path));
  value* node = this;
  segment_reader segments(path);
  std::string_view segment;
  while (segments.next(segment))
    node = &child_or_create(*node, segment);
  *node = std::move(v);
  return {};
}

// The root itself cannot be removed: an empty path removes nothing.
bool value::erase(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view last = dot == std::string_view::npos ? path
                                                        : path.substr(dot + 1);
  if (last.empty() || dot == 0)
    return false;
  value* parent = dot == std::string_view::npos ? this
                                                : find(path.substr(0, dot));
  if (parent == nullptr)
    return false;
  if (auto* map = parent->if_map())
    return map->erase(last);
  if (auto* items = parent->if_array()) {
    auto index = parse_index(last);
    if (!index || *index >= items->size())
      return false;
    items->erase(items->begin() + static_cast<std::ptrdiff_t>(*index));
    return true;
  }
  return false;
}

void value::reconcile(const value& tmpl) {
  if (is_nil()) {
    *this = tmpl;
    return;
  }
  auto* mine = if_map();
  const auto* theirs = tmpl.if_map();
  if (mine && theirs)
    fill_missing(*mine, *theirs);
}

} // namespace profilestore
