// Read-only commands: stores, keys, get, versions. They open the storage
// read-only (database.hpp).
#include <sstream>

#include "commands.hpp"
#include "database.hpp"
#include "output.hpp"
#include "profilestore/store/names.hpp"
#include "time_arg.hpp"

namespace profilestore::ctl {
namespace {

result<void> check_names(const std::string& store, const std::string& key) {
  PROFILESTORE_TRY(check_store_name(store));
  return check_key(key);
}

std::string session_text(const std::optional<session_ref>& s) {
  return s ? to_string(*s) : "-";
}

} // namespace

result<int> cmd_stores(const parsed_args& a, cli_io& io) {
  auto db = open_database(a, access::read_only);
  if (!db)
    return std::move(db).err();
  auto stores = db->store->list_stores();
  if (!stores)
    return std::move(stores).err();
  if (wants_json(a)) {
    print_json(io.out, {{"stores", *stores}});
    return exit_ok;
  }
  if (stores->empty())
    io.out << "no stores: this storage holds no profiles\n";
  for (const auto& s : *stores)
    io.out << s << "\n";
  return exit_ok;
}

result<int> cmd_keys(const parsed_args& a, cli_io& io) {
  const std::string& store = a.positional[0];
  PROFILESTORE_TRY(check_store_name(store));
  std::uint64_t limit = UINT64_MAX;
  if (auto l = a.get("--limit")) {
    auto n = parse_count("--limit", *l);
    if (!n)
      return std::move(n).err();
    limit = *n;
  }
  std::string prefix = a.get("--prefix").value_or("");
  bool removed = a.has("--removed");
  auto db = open_database(a, access::read_only);
  if (!db)
    return std::move(db).err();
  PROFILESTORE_TRY(require_store(*db, store));
  std::vector<std::string> keys;
  std::string after;
  bool more = false;
  while (keys.size() < limit) {
    std::size_t page = static_cast<std::size_t>(
      std::min<std::uint64_t>(limit - keys.size(), 1000));
    auto listing = db->store->list_keys(store, prefix, after, page, removed);
    if (!listing)
      return std::move(listing).err();
    keys.insert(keys.end(), listing->keys.begin(), listing->keys.end());
    if (!listing->next_after)
      break;
    after = *listing->next_after;
    more = keys.size() >= limit;
  }
  if (wants_json(a)) {
    print_json(io.out, {{"store", store}, {"keys", keys}, {"more", more}});
    return exit_ok;
  }
  for (const auto& k : keys)
    io.out << k << "\n";
  if (more)
    io.err << "(more keys follow; raise --limit to see them)\n";
  return exit_ok;
}

result<int> cmd_get(const parsed_args& a, cli_io& io) {
  const std::string& store = a.positional[0];
  const std::string& key = a.positional[1];
  PROFILESTORE_TRY(check_names(store, key));
  std::optional<std::uint64_t> version;
  if (auto v = a.get("--version")) {
    auto n = parse_count("--version", *v);
    if (!n)
      return std::move(n).err();
    version = *n;
  }
  auto db = open_database(a, access::read_only);
  if (!db)
    return std::move(db).err();
  PROFILESTORE_TRY(require_store(*db, store));
  auto got = db->store->get(store, key, version);
  if (!got)
    return std::move(got).err();
  if (!*got) {
    if (!version)
      return make_error(errc::not_found, "no key '" + key + "' in store '"
                                           + store + "' (or it was removed)");
    version_query q;
    q.descending = true;
    q.limit = 1;
    auto latest = db->store->list_versions(store, key, q);
    std::string range = latest && !latest->versions.empty()
                          ? " (the latest is "
                              + std::to_string(latest->versions[0].version)
                              + "; profilectl versions lists them)"
                          : " (the key has no versions)";
    return make_error(errc::not_found,
                      "version " + std::to_string(*version) + " of '" + store
                        + "/" + key + "' does not exist or is a removal"
                        + range);
  }
  const read_reply& r = **got;
  if (r.overwritten)
    return make_error(errc::corrupt_record,
                      "the stored bytes of '" + store + "/" + key
                        + "' version " + std::to_string(r.info.version)
                        + " are not a valid record (profilectl check "
                          "reports the details)");
  auto rec = json_of_record(r.rec);
  if (!rec)
    return std::move(rec).err();
  if (wants_json(a)) {
    print_json(io.out, {{"store", store},
                        {"key", key},
                        {"info", json_of_key_info(r.info)},
                        {"record", *rec}});
    return exit_ok;
  }
  const record& x = r.rec;
  std::int64_t now = io.now_ms();
  io.out << store << "/" << key << "  version " << r.info.version << "\n"
         << "  created        " << format_time(r.info.created_time) << "\n"
         << "  version since  " << format_time(r.info.version_created_time)
         << "\n"
         << "  updated        " << format_time(r.info.updated_time) << " ("
         << format_duration(now - r.info.updated_time) << " ago)\n"
         << "  size           " << r.info.size << " bytes\n"
         << "  user ids       " << (*rec).value("UserIds", nlohmann::json::array()).dump()
         << "\n"
         << "  key metadata   "
         << (*rec).value("KeyMetaData", nlohmann::json::object()).dump() << "\n";
  if (x.has_profile) {
    io.out << "session\n"
           << "  active         " << session_text(x.meta.active_session)
           << "\n"
           << "  requested by   " << session_text(x.meta.force_load_session)
           << "\n"
           << "  last update    " << format_time(x.meta.last_update) << " ("
           << format_duration(now - x.meta.last_update) << " ago)\n"
           << "  loads          " << x.meta.session_load_count << "\n"
           << "  profile since  " << format_time(x.meta.profile_create_time)
           << "\n"
           << "  overwritten    " << (x.was_overwritten ? "yes" : "no") << "\n";
  } else {
    io.out << "no profile yet: only messages were sent to this key\n";
  }
  io.out << "messages (" << x.updates.size() << " queued, last id "
         << x.last_update_id << ")\n";
  const auto& queued = (*rec)["GlobalUpdates"][1];
  for (const auto& u : queued)
    io.out << "  #" << u[0].get<std::uint64_t>() << " v" << u[1].get<std::uint64_t>()
           << (u[2].get<bool>() ? " locked " : " ") << short_json(u[3], 100)
           << "\n";
  if (x.has_profile) {
    io.out << "MetaTags " << (*rec)["MetaData"]["MetaTags"].dump() << "\n"
           << "Data\n"
           << (*rec)["Data"].dump(2, ' ', false,
                                  nlohmann::json::error_handler_t::replace)
           << "\n";
  }
  return exit_ok;
}

result<int> cmd_versions(const parsed_args& a, cli_io& io) {
  const std::string& store = a.positional[0];
  const std::string& key = a.positional[1];
  PROFILESTORE_TRY(check_names(store, key));
  version_query q;
  q.descending = a.has("--desc");
  if (auto t = a.get("--after")) {
    auto ms = parse_time("--after", *t);
    if (!ms)
      return std::move(ms).err();
    q.min_time = *ms + 1;
  }
  if (auto t = a.get("--before")) {
    auto ms = parse_time("--before", *t);
    if (!ms)
      return std::move(ms).err();
    q.max_time = *ms - 1;
  }
  std::uint64_t limit = 100;
  if (auto l = a.get("--limit")) {
    auto n = parse_count("--limit", *l);
    if (!n)
      return std::move(n).err();
    limit = *n;
  }
  auto db = open_database(a, access::read_only);
  if (!db)
    return std::move(db).err();
  PROFILESTORE_TRY(require_store(*db, store));
  std::vector<key_info> found;
  bool more = false;
  while (found.size() < limit) {
    q.limit = static_cast<std::size_t>(
      std::min<std::uint64_t>(limit - found.size(), 1000));
    auto page = db->store->list_versions(store, key, q);
    if (!page)
      return std::move(page).err();
    found.insert(found.end(), page->versions.begin(), page->versions.end());
    if (!page->next_after)
      break;
    q.after_version = page->next_after;
    more = found.size() >= limit;
  }
  if (found.empty() && !q.min_time && !q.max_time)
    return make_error(errc::not_found,
                      "no key '" + key + "' in store '" + store + "'");
  if (wants_json(a)) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& v : found)
      list.push_back(json_of_key_info(v));
    print_json(io.out,
               {{"store", store}, {"key", key}, {"versions", list}, {"more", more}});
    return exit_ok;
  }
  text_table t({"VERSION", "CREATED", "UPDATED", "SIZE", "STATE"});
  for (const auto& v : found)
    t.add({std::to_string(v.version), format_time(v.version_created_time),
           format_time(v.updated_time), std::to_string(v.size),
           v.deleted ? "removed" : ""});
  t.print(io.out);
  if (more)
    io.err << "(more versions follow; raise --limit to see them)\n";
  return exit_ok;
}

} // namespace profilestore::ctl
