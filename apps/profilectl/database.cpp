// Opening the storage folder and JSON views of records (database.hpp).
#include "database.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "profilestore/codec/json.hpp"
#include "profilestore/codec/msgpack.hpp"

namespace profilestore::ctl {

result<database> open_database(const parsed_args& args, access mode) {
  auto dir = args.get("--db");
  if (!dir || dir->empty())
    return make_error(errc::invalid_argument,
                      "--db DIR is required: the LMDB folder of the storage");
  std::error_code ec;
  if (mode == access::read_write
      && !std::filesystem::exists(std::filesystem::path(*dir) / "data.mdb", ec))
    return make_error(errc::storage_error,
                      "no profilestore storage at '" + *dir
                        + "' (no data.mdb); nothing written");
  lmdb_options lo;
  lo.path = *dir;
  lo.read_only = mode == access::read_only;
  auto env = lmdb_backend::open(lo);
  if (!env)
    return std::move(env).err();
  database db;
  db.env = std::move(*env);
  db.store = std::make_unique<storage>(*db.env, db.options);
  return db;
}

result<void> require_store(const database& db, const std::string& store) {
  auto stores = db.store->list_stores();
  if (!stores)
    return std::move(stores).err();
  for (const auto& s : *stores)
    if (s == store)
      return {};
  return make_error(errc::not_found, "no store named '" + store
                                       + "' in this storage (profilectl "
                                         "stores lists them)");
}

result<nlohmann::json> json_of_msgpack(std::string_view bytes) {
  auto v = decode_msgpack(bytes, storage_limits{}.record_decode);
  if (!v)
    return std::move(v).err();
  try {
    return nlohmann::json::parse(to_json(*v));
  } catch (const nlohmann::json::exception& e) {
    return make_error(errc::internal,
                      std::string("JSON view of stored data: ") + e.what());
  }
}

result<std::string> msgpack_of_json_text(std::string_view text) {
  auto v = from_json(text, storage_limits{}.record_decode);
  if (!v)
    return std::move(v).err();
  return encode_msgpack(*v);
}

nlohmann::json json_of_session(const std::optional<session_ref>& s) {
  if (!s)
    return nullptr;
  return nlohmann::json::array({s->node, s->incarnation, s->id});
}

nlohmann::json json_of_key_info(const key_info& info) {
  nlohmann::json key_metadata = nlohmann::json::object();
  if (!info.key_metadata.empty())
    if (auto km = json_of_msgpack(info.key_metadata))
      key_metadata = std::move(*km);
  return {{"version", info.version},
          {"created_time", info.created_time},
          {"version_created_time", info.version_created_time},
          {"updated_time", info.updated_time},
          {"size", info.size},
          {"user_ids", info.user_ids},
          {"key_metadata", key_metadata},
          {"deleted", info.deleted}};
}

result<nlohmann::json> json_of_record(const record& rec) {
  nlohmann::json out = nlohmann::json::object();
  nlohmann::json updates = nlohmann::json::array();
  for (const auto& u : rec.updates) {
    auto data = json_of_msgpack(u.data);
    if (!data)
      return std::move(data).err();
    updates.push_back({u.id, u.version, u.locked, std::move(*data)});
  }
  nlohmann::json global_updates = {rec.last_update_id, std::move(updates)};
  if (!rec.has_profile) {
    out["GlobalUpdates"] = std::move(global_updates);
    return out;
  }
  auto data = json_of_msgpack(rec.data);
  if (!data)
    return std::move(data).err();
  auto tags = json_of_msgpack(rec.meta.meta_tags);
  if (!tags)
    return std::move(tags).err();
  auto key_metadata = json_of_msgpack(rec.key_metadata);
  if (!key_metadata)
    return std::move(key_metadata).err();
  out["Data"] = std::move(*data);
  out["MetaData"] = {
    {"ProfileCreateTime", rec.meta.profile_create_time},
    {"SessionLoadCount", rec.meta.session_load_count},
    {"ActiveSession", json_of_session(rec.meta.active_session)},
    {"ForceLoadSession", json_of_session(rec.meta.force_load_session)},
    {"LastUpdate", rec.meta.last_update},
    {"MetaTags", std::move(*tags)}};
  out["GlobalUpdates"] = std::move(global_updates);
  out["UserIds"] = rec.user_ids;
  out["KeyMetaData"] = std::move(*key_metadata);
  out["WasOverwritten"] = rec.was_overwritten;
  return out;
}

result<std::string> read_input(const std::string& path, std::istream& in) {
  if (path == "-") {
    std::ostringstream buf;
    if (in.peek() != std::char_traits<char>::eof())
      buf << in.rdbuf();
    if (in.bad())
      return make_error(errc::storage_error, "reading standard input failed");
    return buf.str();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return make_error(errc::invalid_argument,
                      "cannot read '" + path + "': no such file or no access");
  std::ostringstream buf;
  buf << file.rdbuf();
  if (file.bad())
    return make_error(errc::storage_error, "reading '" + path + "' failed");
  return buf.str();
}

} // namespace profilestore::ctl
