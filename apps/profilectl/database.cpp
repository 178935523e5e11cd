// Opening the storage folder and JSON views of records (database.hpp).
#include "database.hpp"

#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "profilestore/codec/json.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/names.hpp"
#include "remote_backend.hpp"

namespace profilestore::ctl {

namespace {

result<database> open_local(const std::string& dir, access mode) {
  std::error_code ec;
  if (mode == access::read_write
      && !std::filesystem::exists(std::filesystem::path(dir) / "data.mdb", ec))
    return make_error(errc::storage_error,
                      "no profilestore storage at '" + dir
                        + "' (no data.mdb); nothing written");
  lmdb_options lo;
  lo.path = dir;
  lo.read_only = mode == access::read_only;
  auto env = lmdb_backend::open(lo);
  if (!env)
    return std::move(env).err();
  database db;
  db.link = local_link(**env, db.options, dir);
  db.env = std::move(*env);
  db.store = std::make_unique<storage>(*db.env, db.options);
  return db;
}

result<database> open_remote(const parsed_args& args) {
  auto where = parse_endpoint(*args.get("--connect"));
  if (!where)
    return make_error(errc::invalid_argument,
                      "--connect: " + where.err().message());
  tls_options tls;
  tls.certificate = args.get("--tls-cert").value_or("");
  tls.key = args.get("--tls-key").value_or("");
  tls.ca = args.get("--tls-ca").value_or("");
  if (auto ok = tls.check(); !ok)
    return make_error(errc::invalid_argument,
                      ok.err().message()
                        + " (--tls-cert, --tls-key and --tls-ca go together)");
  auto timeout = remote_timeout(args);
  if (!timeout)
    return std::move(timeout).err();
  auto conn = node_connection::open(*where, tls, *timeout);
  if (!conn)
    return std::move(conn).err();
  database db;
  db.link = remote_link(*conn);
  db.env = std::make_unique<remote_backend>(*conn);
  db.store = std::make_unique<storage>(*db.env, db.options);
  return db;
}

} // namespace

std::string nothing_written_note(const error& e) {
  return e.code() == errc::timeout || e.code() == errc::unreachable
           ? ""
           : "; nothing written";
}

result<duration> remote_timeout(const parsed_args& args) {
  auto text = args.get("--timeout");
  if (!text)
    return duration(std::chrono::seconds(10));
  // Seconds, fractions allowed: digits with at most one '.'.
  const std::string& t = *text;
  bool digits = !t.empty() && t.size() <= 12
                && t.find_first_not_of("0123456789.") == std::string::npos
                && t.find('.') == t.rfind('.') && t != ".";
  double seconds = digits ? std::strtod(t.c_str(), nullptr) : 0.0;
  if (!digits || seconds < 0.001 || seconds > 3600)
    return make_error(errc::invalid_argument,
                      "--timeout takes seconds, 0.001 to 3600 (e.g. 10 or "
                      "2.5), got '" + t + "'");
  return std::chrono::duration_cast<duration>(
    std::chrono::duration<double>(seconds));
}

result<database> open_database(const parsed_args& args, access mode) {
  auto dir = args.get("--db");
  bool connect = args.has("--connect");
  if (dir && connect)
    return make_error(errc::invalid_argument,
                      "give --db DIR (a local folder) or --connect HOST:PORT "
                      "(a running storage node), not both");
  if (!connect)
    for (const char* o : {"--tls-cert", "--tls-key", "--tls-ca", "--timeout"})
      if (args.has(o))
        return make_error(errc::invalid_argument,
                          std::string(o) + " applies to --connect HOST:PORT "
                                           "only");
  if (connect)
    return open_remote(args);
  if (!dir || dir->empty())
    return make_error(errc::invalid_argument,
                      "--db DIR is required: the LMDB folder of the storage "
                      "(or --connect HOST:PORT for a running storage node)");
  return open_local(*dir, mode);
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

result<scan_target> open_scan_target(const parsed_args& args) {
  std::string store = args.positional.empty() ? "" : args.positional[0];
  if (!store.empty())
    PROFILESTORE_TRY(check_store_name(store));
  auto db = open_database(args, access::read_only);
  if (!db)
    return std::move(db).err();
  if (!store.empty())
    PROFILESTORE_TRY(require_store(*db, store));
  return scan_target{std::move(*db), std::move(store)};
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
