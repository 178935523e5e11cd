// json.cpp: the JSON view of a value (json.hpp), on nlohmann-json.
//
// to_json converts to an nlohmann document and dumps it. Strings that are not
// valid UTF-8 (value strings are bytes) are written with each invalid byte
// replaced by U+FFFD (nlohmann's error_handler_t::replace): to_json never
// fails, and such a string reads back changed, which is the price of a
// readable view. Everything else round-trips exactly.
//
// from_json parses with nlohmann's SAX interface straight into a value, so
// decode_limits are enforced while parsing: nothing deeper, longer or larger
// than allowed is ever built, and nlohmann's parser keeps its own nesting in
// a heap stack, so hostile nesting cannot exhaust the call stack.
#include <cmath>
#include <limits>
#include <new>
#include <vector>

#include <nlohmann/json.hpp>

#include "profilestore/codec/json.hpp"

namespace profilestore {

namespace {

using document = nlohmann::json;

constexpr std::string_view binary_tag = "$binary";
constexpr std::string_view double_tag = "$double";

document tagged(std::string_view tag, std::string text) {
  document out = document::object();
  out.emplace(std::string(tag), std::move(text));
  return out;
}

document double_to_document(double d) {
  if (std::isnan(d))
    return tagged(double_tag, "NaN");
  if (std::isinf(d))
    return tagged(double_tag, d > 0 ? "Infinity" : "-Infinity");
  return document(d);
}

document to_document(const value& v);

document map_to_document(const value_map& map) {
  document out = document::object();
  auto& members = out.get_ref<document::object_t&>();
  // Both sides order keys bytewise, so every insertion lands at the end.
  for (const auto& [key, child] : map)
    members.emplace_hint(members.end(), key, to_document(child));
  return out;
}

document array_to_document(const value_array& items) {
  document out = document::array();
  auto& elements = out.get_ref<document::array_t&>();
  elements.reserve(items.size());
  for (const auto& item : items)
    elements.push_back(to_document(item));
  return out;
}

document to_document(const value& v) {
  switch (v.type()) {
  case value::kind::nil: return document(nullptr);
  case value::kind::boolean: return document(*v.if_bool());
  case value::kind::int64: return document(*v.if_int64());
  case value::kind::uint64: return document(*v.if_uint64());
  case value::kind::float64: return double_to_document(*v.if_double());
  case value::kind::string: return document(*v.if_string());
  case value::kind::binary:
    return tagged(binary_tag, base64_encode(*v.if_binary()));
  case value::kind::array: return array_to_document(*v.if_array());
  case value::kind::map: return map_to_document(*v.if_map());
  }
  return document(nullptr);
}

// The value a one-entry object {"$binary": s} or {"$double": s} stands for;
// nil when `key` is neither tag.
result<value> read_tagged(std::string_view key, const std::string& text) {
  if (key == binary_tag) {
    auto bytes = base64_decode(text);
    if (!bytes)
      return make_error(errc::malformed_input,
                        "\"$binary\" holds " + bytes.err().message());
    return value(std::move(*bytes));
  }
  if (key != double_tag)
    return value{};
  if (text == "NaN")
    return value(std::numeric_limits<double>::quiet_NaN());
  if (text == "Infinity")
    return value(std::numeric_limits<double>::infinity());
  if (text == "-Infinity")
    return value(-std::numeric_limits<double>::infinity());
  return make_error(errc::malformed_input,
                    "\"$double\" must be \"NaN\", \"Infinity\" or "
                    "\"-Infinity\"");
}

// Builds a value from nlohmann's SAX events, checking decode_limits at every
// event. A callback that returns false stops the parse; the reason is kept
// in error_.
class value_builder {
public:
  explicit value_builder(const decode_limits& limits) : limits_(limits) {}

  bool null() { return add(value{}); }
  bool boolean(bool b) { return add(value(b)); }
  bool number_integer(std::int64_t i) { return add(value(i)); }
  bool number_unsigned(std::uint64_t u) { return add(value(u)); }
  bool number_float(double d, const std::string&) { return add(value(d)); }
  bool string(std::string& s) {
    return check_length(s, "string") && add(value(std::move(s)));
  }
  bool binary(document::binary_t&) {
    return fail(errc::malformed_input, "unexpected binary value in JSON");
  }
  bool start_object(std::size_t) { return open(value(value_map{})); }
  bool key(std::string& k) {
    if (!check_length(k, "object key") || !count_object())
      return false;
    frames_.back().key = std::move(k);
    return true;
  }
  bool end_object() { return close_object(); }
  bool start_array(std::size_t) { return open(value(value_array{})); }
  bool end_array() {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const document::exception& ex) {
    return fail(errc::malformed_input, "invalid JSON at byte "
                                         + std::to_string(position) + ": "
                                         + ex.what());
  }

  result<value> take() && {
    if (error_)
      return std::move(error_);
    return std::move(root_);
  }
  bool failed() const noexcept { return static_cast<bool>(error_); }

private:
  struct frame {
    value* container;
    std::string key; // maps: the key of the next member
    std::size_t count = 0;
  };

  bool fail(errc code, std::string message) {
    error_ = make_error(code, std::move(message));
    return false;
  }

  bool check_length(const std::string& s, const char* what) {
    if (s.size() <= limits_.max_string_bytes)
      return true;
    return fail(errc::limit_exceeded,
                std::string(what) + " of " + std::to_string(s.size())
                  + " bytes exceeds max_string_bytes ("
                  + std::to_string(limits_.max_string_bytes) + ")");
  }

  bool count_object() {
    if (++objects_ <= limits_.max_objects)
      return true;
    return fail(errc::limit_exceeded,
                "more than max_objects (" + std::to_string(limits_.max_objects)
                  + ") values");
  }

  bool add(value v) { return count_object() && place(std::move(v)) != nullptr; }

  // Puts `v` where the parse is: the root, the next array element or the
  // member named by the last key. Returns where it went.
  value* place(value v) {
    if (frames_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    frame& top = frames_.back();
    if (++top.count > limits_.max_container_length) {
      fail(errc::limit_exceeded,
           "container of more than max_container_length ("
             + std::to_string(limits_.max_container_length) + ") elements");
      return nullptr;
    }
    if (auto* items = top.container->if_array()) {
      items->push_back(std::move(v));
      return &items->back();
    }
    value_map& map = *top.container->if_map();
    map.append_unsorted(std::move(top.key), std::move(v));
    return &(map.end() - 1)->second;
  }

  bool open(value container) {
    if (frames_.size() >= limits_.max_depth)
      return fail(errc::limit_exceeded,
                  "JSON nested deeper than max_depth ("
                    + std::to_string(limits_.max_depth) + ")");
    if (!count_object())
      return false;
    value* slot = place(std::move(container));
    if (slot == nullptr)
      return false;
    frames_.push_back(frame{slot, {}, 0});
    return true;
  }

  // Sorts the members and turns a {"$binary": s} or {"$double": s} object
  // into the value it stands for.
  bool close_object() {
    value& object = *frames_.back().container;
    frames_.pop_back();
    value_map& map = *object.if_map();
    if (!map.finish_unsorted())
      return fail(errc::malformed_input, "JSON object has duplicate keys");
    if (map.size() != 1 || !map.begin()->second.is_string())
      return true;
    auto tagged_value = read_tagged(map.begin()->first,
                                    *map.begin()->second.if_string());
    if (!tagged_value)
      return fail(tagged_value.err().code(), tagged_value.err().message());
    if (!tagged_value->is_nil())
      object = std::move(*tagged_value);
    return true;
  }

  decode_limits limits_;
  value root_;
  std::vector<frame> frames_;
  std::size_t objects_ = 0;
  error error_;
};

} // namespace

std::string to_json(const value& v, const json_options& options) {
  int indent = options.indent < 0 ? -1 : options.indent;
  return to_document(v).dump(indent, ' ', false,
                             document::error_handler_t::replace);
}

result<value> from_json(std::string_view text, const decode_limits& limits) {
  if (text.size() > limits.max_total_bytes)
    return make_error(errc::limit_exceeded,
                      "JSON text of " + std::to_string(text.size())
                        + " bytes exceeds max_total_bytes ("
                        + std::to_string(limits.max_total_bytes) + ")");
  value_builder builder(limits);
  try {
    bool parsed = document::sax_parse(text.begin(), text.end(), &builder);
    if (!parsed && !builder.failed())
      return make_error(errc::internal, "JSON parse stopped without a reason");
  } catch (const document::exception& e) {
    return make_error(errc::malformed_input,
                      std::string("invalid JSON: ") + e.what());
  } catch (const std::bad_alloc&) {
    return make_error(errc::internal, "out of memory parsing JSON");
  }
  return std::move(builder).take();
}

} // namespace profilestore
