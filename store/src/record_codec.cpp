// Record format version 1: encode and strict decode (record_codec.hpp,
// docs/format.md).
#include "profilestore/store/record_codec.hpp"

#include <algorithm>
#include <vector>

#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/typed.hpp"

namespace profilestore {
namespace {

using packer = msgpack::packer<string_sink>;

void pack_string(packer& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void pack_raw(string_sink& sink, std::string_view encoded) {
  sink.write(encoded.data(), encoded.size());
}

void pack_session(packer& pk, const std::optional<session_ref>& s) {
  if (!s) {
    pk.pack_nil();
    return;
  }
  pk.pack_array(3);
  pack_string(pk, s->node);
  pk.pack_uint64(s->incarnation);
  pk.pack_uint64(s->id);
}

void pack_unknown(packer& pk, string_sink& sink,
                  const std::vector<std::pair<std::string, std::string>>& fs) {
  for (const auto& [name, encoded] : fs) {
    pack_string(pk, name);
    pack_raw(sink, encoded);
  }
}

void pack_metadata(packer& pk, string_sink& sink, const record_metadata& m) {
  pk.pack_map(static_cast<std::uint32_t>(6 + m.unknown_fields.size()));
  pack_string(pk, "ProfileCreateTime");
  pk.pack_int64(m.profile_create_time);
  pack_string(pk, "SessionLoadCount");
  pk.pack_uint64(m.session_load_count);
  pack_string(pk, "ActiveSession");
  pack_session(pk, m.active_session);
  pack_string(pk, "ForceLoadSession");
  pack_session(pk, m.force_load_session);
  pack_string(pk, "LastUpdate");
  pk.pack_int64(m.last_update);
  pack_string(pk, "MetaTags");
  pack_raw(sink, m.meta_tags);
  pack_unknown(pk, sink, m.unknown_fields);
}

void pack_updates(packer& pk, string_sink& sink, const record& rec) {
  pk.pack_array(2);
  pk.pack_uint64(rec.last_update_id);
  pk.pack_array(static_cast<std::uint32_t>(rec.updates.size()));
  for (const auto& u : rec.updates) {
    pk.pack_array(4);
    pk.pack_uint64(u.id);
    pk.pack_uint64(u.version);
    if (u.locked)
      pk.pack_true();
    else
      pk.pack_false();
    pack_raw(sink, u.data);
  }
}

} // namespace

void encode_record(const record& rec, std::string& out) {
  encode_record(rec, rec.data, out);
}

void encode_record(const record& rec, std::string_view data, std::string& out) {
  string_sink sink(out);
  packer pk(sink);
  std::size_t known = rec.has_profile ? 7 : 2;
  pk.pack_map(static_cast<std::uint32_t>(known + rec.unknown_fields.size()));
  pack_string(pk, "FormatVersion");
  pk.pack_uint64(record_format_version);
  if (rec.has_profile) {
    pack_string(pk, "Data");
    pack_raw(sink, data);
    pack_string(pk, "MetaData");
    pack_metadata(pk, sink, rec.meta);
  }
  pack_string(pk, "GlobalUpdates");
  pack_updates(pk, sink, rec);
  if (rec.has_profile) {
    pack_string(pk, "UserIds");
    pk.pack_array(static_cast<std::uint32_t>(rec.user_ids.size()));
    for (auto id : rec.user_ids)
      pk.pack_int64(id);
    pack_string(pk, "KeyMetaData");
    pack_raw(sink, rec.key_metadata);
    pack_string(pk, "WasOverwritten");
    if (rec.was_overwritten)
      pk.pack_true();
    else
      pk.pack_false();
  }
  pack_unknown(pk, sink, rec.unknown_fields);
}

std::string encode_record(const record& rec) {
  std::string out;
  encode_record(rec, out);
  return out;
}

// ---- decoding -----------------------------------------------------------------

namespace {

error newer_format_error(std::uint64_t version) {
  return make_error(errc::unsupported_format,
                    "record format version " + std::to_string(version)
                      + " is newer than this build's version "
                      + std::to_string(record_format_version)
                      + "; upgrade profilestore to read it");
}

// Field names seen in one map of a record, as views into the input. A record
// map has a dozen fields, so a linear scan beats any set; the cap keeps a
// hostile record with millions of fields from making it quadratic.
constexpr std::uint32_t max_record_fields = 64;

class seen_names {
public:
  seen_names() { names_.reserve(16); }
  bool insert(std::string_view name) {
    if (contains(name))
      return false;
    names_.push_back(name);
    return true;
  }
  bool contains(std::string_view name) const {
    for (auto seen : names_)
      if (seen == name)
        return true;
    return false;
  }

private:
  std::vector<std::string_view> names_;
};

// Walks one record with a reader; every failure becomes corrupt_record with
// the field that failed named. The record's own fields are checked strictly;
// embedded user bytes (Data, tags, key metadata, message payloads, unknown
// fields) only structurally: storage validated them fully when they were
// written and never looks inside them, and whoever decodes them later does so
// under full limits. This halves the cost of a save.
class record_decoder {
public:
  record_decoder(std::string_view bytes, const decode_limits& limits,
                 bool keep_data = true)
    : reader_(bytes, limits), keep_data_(keep_data) {}

  result<record> run();

private:
  result<void> field(std::string_view name, record& rec);
  result<void> metadata(record_metadata& m);
  result<void> metadata_field(std::string_view name, record_metadata& m);
  result<std::optional<session_ref>> session();
  result<void> updates(record& rec);
  result<queued_update> update();
  result<void> user_ids(record& rec);
  result<std::string_view> container(bool allow_array, std::string_view what);

  error corrupt(std::string_view what, const error& cause) const {
    return make_error(errc::corrupt_record,
                      "record field " + std::string(what) + ": "
                        + cause.message());
  }
  error corrupt(std::string_view what) const {
    return make_error(errc::corrupt_record,
                      "record field " + std::string(what) + " is invalid");
  }

  msgpack_reader reader_;
  bool keep_data_;
  seen_names seen_;
  std::uint64_t format_version_ = 0;
};

result<record> record_decoder::run() {
  record rec;
  rec.unknown_fields.clear();
  auto count = reader_.read_map_header();
  if (!count)
    return make_error(errc::corrupt_record,
                      "record is not a MessagePack map: " + count.err().message());
  if (*count > max_record_fields)
    return make_error(errc::corrupt_record,
                      "record has " + std::to_string(*count)
                        + " fields (at most "
                        + std::to_string(max_record_fields) + ")");
  PROFILESTORE_TRY(reader_.enter());
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto name = reader_.read_string();
    if (!name)
      return corrupt("name", name.err());
    if (!seen_.insert(*name))
      return corrupt(std::string(*name) + " (appears twice)");
    auto r = field(*name, rec);
    if (!r.ok()) {
      if (format_version_ > record_format_version)
        break; // reported as unsupported below
      return std::move(r).err();
    }
  }
  reader_.leave();
  if (format_version_ > record_format_version)
    return newer_format_error(format_version_);
  if (!reader_.at_end())
    return make_error(errc::corrupt_record, "record has trailing bytes");
  if (!seen_.contains("FormatVersion"))
    return make_error(errc::corrupt_record, "record has no FormatVersion");
  if (!seen_.contains("GlobalUpdates"))
    return make_error(errc::corrupt_record, "record has no GlobalUpdates");
  bool has_data = seen_.contains("Data");
  bool has_meta = seen_.contains("MetaData");
  if (has_data != has_meta)
    return make_error(errc::corrupt_record,
                      has_data ? "record has Data but no MetaData"
                               : "record has MetaData but no Data");
  rec.has_profile = has_data;
  std::sort(rec.unknown_fields.begin(), rec.unknown_fields.end());
  return rec;
}

result<void> record_decoder::field(std::string_view name, record& rec) {
  if (name == "FormatVersion") {
    auto v = reader_.read_uint64();
    if (!v)
      return corrupt(name, v.err());
    format_version_ = *v;
    if (*v == 0)
      return corrupt(name);
    return {};
  }
  if (name == "Data") {
    auto d = container(true, name);
    if (!d)
      return std::move(d).err();
    if (keep_data_)
      rec.data = *d;
    return {};
  }
  if (name == "MetaData")
    return metadata(rec.meta);
  if (name == "GlobalUpdates")
    return updates(rec);
  if (name == "UserIds")
    return user_ids(rec);
  if (name == "KeyMetaData") {
    auto d = container(false, name);
    if (!d)
      return std::move(d).err();
    rec.key_metadata = *d;
    return {};
  }
  if (name == "WasOverwritten") {
    auto b = reader_.read_bool();
    if (!b)
      return corrupt(name, b.err());
    rec.was_overwritten = *b;
    return {};
  }
  auto raw = reader_.read_object_structure();
  if (!raw)
    return corrupt(name, raw.err());
  rec.unknown_fields.emplace_back(std::string(name), std::string(*raw));
  return {};
}

// A map (or, when allowed, an array), returned as its encoded bytes (a view
// into the input).
result<std::string_view> record_decoder::container(bool allow_array,
                                              std::string_view what) {
  auto type = reader_.peek();
  if (!type)
    return corrupt(what, type.err());
  bool ok = *type == wire_type::map
            || (allow_array && *type == wire_type::array);
  if (!ok)
    return corrupt(std::string(what)
                   + (allow_array ? " (must be a map or an array)"
                                  : " (must be a map)"));
  auto raw = reader_.read_object_structure();
  if (!raw)
    return corrupt(what, raw.err());
  return *raw;
}

result<void> record_decoder::metadata(record_metadata& m) {
  auto count = reader_.read_map_header();
  if (!count)
    return corrupt("MetaData", count.err());
  if (*count > max_record_fields)
    return corrupt("MetaData (more than "
                   + std::to_string(max_record_fields) + " fields)");
  PROFILESTORE_TRY(reader_.enter());
  seen_names seen;
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto name = reader_.read_string();
    if (!name)
      return corrupt("MetaData", name.err());
    if (!seen.insert(*name))
      return corrupt("MetaData." + std::string(*name) + " (appears twice)");
    PROFILESTORE_TRY(metadata_field(*name, m));
  }
  reader_.leave();
  for (const char* required : {"ProfileCreateTime", "SessionLoadCount",
                               "LastUpdate"})
    if (!seen.contains(required))
      return corrupt(std::string("MetaData.") + required + " (missing)");
  std::sort(m.unknown_fields.begin(), m.unknown_fields.end());
  return {};
}

result<void> record_decoder::metadata_field(std::string_view name,
                                            record_metadata& m) {
  std::string what = "MetaData." + std::string(name);
  if (name == "ProfileCreateTime" || name == "LastUpdate") {
    auto v = reader_.read_int64();
    if (!v)
      return corrupt(what, v.err());
    (name == "LastUpdate" ? m.last_update : m.profile_create_time) = *v;
    return {};
  }
  if (name == "SessionLoadCount") {
    auto v = reader_.read_uint64();
    if (!v)
      return corrupt(what, v.err());
    m.session_load_count = *v;
    return {};
  }
  if (name == "ActiveSession" || name == "ForceLoadSession") {
    auto s = session();
    if (!s)
      return corrupt(what, s.err());
    (name == "ActiveSession" ? m.active_session : m.force_load_session)
      = std::move(*s);
    return {};
  }
  if (name == "MetaTags") {
    auto d = container(false, what);
    if (!d)
      return std::move(d).err();
    m.meta_tags = *d;
    return {};
  }
  auto raw = reader_.read_object_structure();
  if (!raw)
    return corrupt(what, raw.err());
  m.unknown_fields.emplace_back(std::string(name), std::string(*raw));
  return {};
}

result<std::optional<session_ref>> record_decoder::session() {
  if (reader_.next_is_nil()) {
    PROFILESTORE_TRY(reader_.read_nil());
    return std::optional<session_ref>{};
  }
  auto n = reader_.read_array_header();
  if (!n)
    return std::move(n).err();
  if (*n != 3)
    return make_error(errc::corrupt_record,
                      "a session must be [node, incarnation, id]");
  session_ref s;
  auto node = reader_.read_string();
  if (!node)
    return std::move(node).err();
  s.node = std::string(*node);
  auto inc = reader_.read_uint64();
  if (!inc)
    return std::move(inc).err();
  s.incarnation = *inc;
  auto id = reader_.read_uint64();
  if (!id)
    return std::move(id).err();
  s.id = *id;
  return std::optional<session_ref>{std::move(s)};
}

result<void> record_decoder::updates(record& rec) {
  auto n = reader_.read_array_header();
  if (!n || *n != 2)
    return corrupt("GlobalUpdates (must be [last_id, updates])");
  auto last = reader_.read_uint64();
  if (!last)
    return corrupt("GlobalUpdates last id", last.err());
  rec.last_update_id = *last;
  auto count = reader_.read_array_header();
  if (!count)
    return corrupt("GlobalUpdates list", count.err());
  rec.updates.clear();
  rec.updates.reserve(*count);
  PROFILESTORE_TRY(reader_.enter());
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto u = update();
    if (!u)
      return std::move(u).err();
    if (u->id == 0 || u->id > rec.last_update_id)
      return corrupt("GlobalUpdates (update id "
                     + std::to_string(u->id) + " out of range)");
    rec.updates.push_back(std::move(*u));
  }
  reader_.leave();
  return {};
}

result<queued_update> record_decoder::update() {
  auto n = reader_.read_array_header();
  if (!n || *n != 4)
    return corrupt("GlobalUpdates entry (must be [id, version, locked, data])");
  queued_update u;
  auto id = reader_.read_uint64();
  auto version = id ? reader_.read_uint64() : result<std::uint64_t>(id.err());
  if (!id || !version)
    return corrupt("GlobalUpdates entry id or version");
  auto locked = reader_.read_bool();
  if (!locked)
    return corrupt("GlobalUpdates entry locked flag", locked.err());
  auto data = reader_.read_object_structure();
  if (!data)
    return corrupt("GlobalUpdates entry data", data.err());
  u.id = *id;
  u.version = *version;
  u.locked = *locked;
  u.data = std::string(*data);
  return u;
}

result<void> record_decoder::user_ids(record& rec) {
  auto n = reader_.read_array_header();
  if (!n)
    return corrupt("UserIds", n.err());
  rec.user_ids.clear();
  rec.user_ids.reserve(*n);
  for (std::uint32_t i = 0; i < *n; ++i) {
    auto id = reader_.read_int64();
    if (!id)
      return corrupt("UserIds", id.err());
    rec.user_ids.push_back(*id);
  }
  return {};
}

// The FormatVersion of a record that failed to decode, found by skipping
// every other field; 0 when there is none to be found.
std::uint64_t find_format_version(std::string_view bytes,
                                  const decode_limits& limits) {
  msgpack_reader r(bytes, limits);
  auto count = r.read_map_header();
  if (!count || !r.enter().ok())
    return 0;
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto name = r.read_string();
    if (!name)
      return 0;
    if (*name == "FormatVersion") {
      auto v = r.read_uint64();
      return v ? *v : 0;
    }
    if (!r.skip().ok())
      return 0;
  }
  return 0;
}

} // namespace

namespace {

result<record> decode_with(std::string_view bytes, const decode_limits& limits,
                           bool keep_data) {
  auto rec = record_decoder(bytes, limits, keep_data).run();
  if (rec.ok() || rec.err().code() == errc::unsupported_format)
    return rec;
  // A newer writer may have changed any field, and its FormatVersion may come
  // after the field that failed: never call its record corrupt.
  auto version = find_format_version(bytes, limits);
  if (version > record_format_version)
    return newer_format_error(version);
  return rec;
}

} // namespace

result<record> decode_record(std::string_view bytes,
                             const decode_limits& limits) {
  return decode_with(bytes, limits, true);
}

result<record> decode_record_without_data(std::string_view bytes,
                                          const decode_limits& limits) {
  return decode_with(bytes, limits, false);
}

} // namespace profilestore
