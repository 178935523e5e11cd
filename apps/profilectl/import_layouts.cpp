// The import layouts (import_layouts.hpp): one JSON line to the fields of a
// set and the messages to queue.
#include "import_layouts.hpp"

#include "profilestore/codec/json.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/names.hpp"

namespace profilestore::ctl {
namespace {

error bad(const std::string& what) {
  return make_error(errc::invalid_argument, what);
}

// An object, or an empty array standing for one; encoded.
result<std::string> encoded_object(const value& v, const std::string& field) {
  if (v.is_map())
    return encode_msgpack(v);
  if (v.is_array() && v.if_array()->empty())
    return empty_msgpack_map;
  return bad(field + " must be an object");
}

result<std::vector<std::int64_t>> user_ids_of(const value& v,
                                              const std::string& field) {
  const value_array* items = v.if_array();
  if (!items)
    return bad(field + " must be an array of integers");
  std::vector<std::int64_t> out;
  for (const auto& item : *items) {
    auto id = item.to_int64();
    if (!id)
      return bad(field + " must be an array of integers, found "
                 + item.debug_string());
    out.push_back(*id);
  }
  return out;
}

result<std::string> meta_tags_of(const value& meta) {
  const value_map* m = meta.if_map();
  if (!m)
    return bad("MetaData must be an object");
  static const char* known[] = {"MetaTags",        "ProfileCreateTime",
                                "SessionLoadCount", "ActiveSession",
                                "ForceLoadSession", "LastUpdate",
                                "MetaTagsLatest"};
  for (const auto& [name, v] : *m) {
    bool ok = false;
    for (const char* k : known)
      ok = ok || name == k;
    if (!ok)
      return bad("MetaData has a field this import does not know: '" + name
                 + "'");
  }
  if (const value* tags = m->find("MetaTags"))
    return encoded_object(*tags, "MetaData.MetaTags");
  return empty_msgpack_map;
}

// GlobalUpdates: [last_id, [update, ...]]; sets `four` when any update has
// ProfileService's four elements.
result<std::vector<std::string>> messages_of(const value& v, bool& four) {
  const value_array* top = v.if_array();
  if (!top || top->size() != 2 || !(*top)[0].is_integer()
      || !(*top)[1].is_array())
    return bad("GlobalUpdates must be [last_id, [update, ...]]");
  std::vector<std::string> out;
  for (const auto& u : *(*top)[1].if_array()) {
    const value_array* parts = u.if_array();
    if (!parts || (parts->size() != 2 && parts->size() != 4)
        || !(*parts)[0].is_integer())
      return bad("each update in GlobalUpdates must be [id, data] or [id, "
                 "version, locked, data], found "
                 + u.debug_string().substr(0, 80));
    if (parts->size() == 4) {
      four = true;
      if (!(*parts)[1].is_integer() || !(*parts)[2].is_bool())
        return bad("an update [id, version, locked, data] needs an integer "
                   "version and a boolean locked, found "
                   + u.debug_string().substr(0, 80));
    }
    out.push_back(encode_msgpack(parts->back()));
  }
  return out;
}

} // namespace

result<import_item> parse_import_line(std::string_view line,
                                      const storage_limits& limits) {
  auto parsed = from_json(line, limits.record_decode);
  if (!parsed)
    return make_error(parsed.err().code(),
                      "not valid JSON: " + parsed.err().message());
  const value_map* top = parsed->if_map();
  if (!top)
    return bad("a line must be a JSON object");
  import_item item;
  const value* store = top->find("store");
  const value* key = top->find("key");
  if (!store || !store->is_string() || !key || !key->is_string())
    return bad("a line needs \"store\" and \"key\" strings");
  item.store = *store->if_string();
  item.key = *key->if_string();
  PROFILESTORE_TRY(check_store_name(item.store));
  PROFILESTORE_TRY(check_key(item.key));
  const value* rec = top->find("record");
  const value* roblox = top->find("value");
  if ((rec != nullptr) == (roblox != nullptr))
    return bad("a line needs exactly one of \"record\" (profilestore export) "
               "and \"value\" (a ProfileService/ProfileStore DataStore "
               "value)");
  const value_map* fields = (rec ? rec : roblox)->if_map();
  if (!fields)
    return bad(std::string(rec ? "\"record\"" : "\"value\"")
               + " must be an object");
  if (roblox)
    for (const auto& [name, v] : *top)
      if (name != "store" && name != "key" && name != "value"
          && name != "userIds" && name != "metadata")
        return bad("a Roblox line has a field this import does not know: '"
                   + name + "' (expected store, key, value, userIds, "
                            "metadata)");

  set_request req;
  bool has_data = false, has_meta = false, four = false, corrupted_flag = false;
  for (const auto& [name, v] : *fields) {
    if (name == "Data") {
      if (!v.is_map() && !v.is_array())
        return bad("Data must be an object or an array");
      req.data = encode_msgpack(v);
      has_data = true;
    } else if (name == "MetaData") {
      auto tags = meta_tags_of(v);
      if (!tags)
        return std::move(tags).err();
      req.meta_tags = std::move(*tags);
      has_meta = true;
    } else if (name == "GlobalUpdates") {
      auto messages = messages_of(v, four);
      if (!messages)
        return std::move(messages).err();
      item.messages = std::move(*messages);
    } else if (name == "UserIds") {
      auto ids = user_ids_of(v, "UserIds");
      if (!ids)
        return std::move(ids).err();
      req.user_ids = std::move(*ids);
    } else if (name == "KeyMetaData" || name == "RobloxMetaData") {
      auto km = encoded_object(v, name);
      if (!km)
        return std::move(km).err();
      req.key_metadata = std::move(*km);
    } else if (name == "WasOverwritten" || name == "WasCorrupted") {
      if (!v.is_bool())
        return bad(name + " must be true or false");
      corrupted_flag = corrupted_flag || name == "WasCorrupted";
    } else {
      return bad("the record has a field this import does not know: '" + name
                 + "'");
    }
  }
  if (roblox) {
    if (const value* ids = top->find("userIds")) {
      auto parsed_ids = user_ids_of(*ids, "userIds");
      if (!parsed_ids)
        return std::move(parsed_ids).err();
      req.user_ids = std::move(*parsed_ids);
    }
    if (const value* md = top->find("metadata")) {
      auto km = encoded_object(*md, "metadata");
      if (!km)
        return std::move(km).err();
      req.key_metadata = std::move(*km);
    }
  }
  if (has_meta && !has_data)
    return bad("the record has MetaData but no Data");
  if (has_data) {
    PROFILESTORE_TRY(check_set_request(req, limits));
    item.profile = std::move(req);
  } else if (item.messages.empty()) {
    return bad("the record has neither Data nor GlobalUpdates messages: "
               "nothing to import");
  }
  for (const auto& m : item.messages)
    if (m.size() > limits.max_message_bytes)
      return make_error(errc::message_too_large,
                        "a message in GlobalUpdates is "
                          + std::to_string(m.size())
                          + " bytes encoded; the limit is "
                          + std::to_string(limits.max_message_bytes));
  if (item.messages.size() > limits.max_message_queue)
    return make_error(errc::message_queue_full,
                      std::to_string(item.messages.size())
                        + " messages in GlobalUpdates; the queue holds at "
                          "most "
                        + std::to_string(limits.max_message_queue));
  item.layout = rec ? "profilestore"
                    : (four || corrupted_flag ? "ProfileService"
                                              : "ProfileStore");
  return item;
}

} // namespace profilestore::ctl
