// Who holds what: sessions (the active locks and waiting requests) and nodes
// (the node directory). Both read one snapshot, read-only.
#include "commands.hpp"
#include "database.hpp"
#include "output.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/catalog.hpp"
#include "profilestore/store/node_directory.hpp"
#include "profilestore/store/record_codec.hpp"
#include "time_arg.hpp"

namespace profilestore::ctl {

result<int> cmd_sessions(const parsed_args& a, cli_io& io) {
  auto target = open_scan_target(a);
  if (!target)
    return std::move(target).err();
  auto& db = target->db;
  const std::string& store = target->store;
  auto txn = db.env->begin_read();
  if (!txn)
    return std::move(txn).err();
  std::int64_t now = io.now_ms();
  nlohmann::json rows = nlohmann::json::array();
  text_table t({"STORE", "KEY", "OWNER", "LAST WRITE", "AGE", "LOADS",
                "PENDING REQUEST"});
  error failure;
  auto walked = for_each_head(**txn, store, [&](const head_visit& h) {
    if (!h.name || !h.head || h.head->deleted)
      return true; // damaged or removed: `check` reports damage
    auto latest = read_version(**txn, h.name->store, h.name->key,
                               h.head->latest_version);
    if (!latest) {
      failure = latest.err();
      return false;
    }
    if (!*latest || (*latest)->info.deleted)
      return true;
    auto rec = decode_record((*latest)->record_bytes,
                             db.options.limits.record_decode);
    if (!rec || !rec->has_profile)
      return true;
    const auto& m = rec->meta;
    if (!m.active_session && !m.force_load_session)
      return true;
    std::string s(h.name->store), k(h.name->key);
    rows.push_back({{"store", s},
                    {"key", k},
                    {"owner", json_of_session(m.active_session)},
                    {"owner_node", m.active_session
                                     ? nlohmann::json(m.active_session->node)
                                     : nlohmann::json(nullptr)},
                    {"last_update", m.last_update},
                    {"age_ms", now - m.last_update},
                    {"session_load_count", m.session_load_count},
                    {"pending_request", json_of_session(m.force_load_session)}});
    t.add({s, k, m.active_session ? to_string(*m.active_session) : "-",
           format_time(m.last_update), format_duration(now - m.last_update),
           std::to_string(m.session_load_count),
           m.force_load_session ? to_string(*m.force_load_session) : "-"});
    return true;
  });
  if (!walked)
    return std::move(walked).err();
  if (failure)
    return failure;
  if (wants_json(a)) {
    print_json(io.out, {{"sessions", rows}});
    return exit_ok;
  }
  if (t.empty()) {
    io.out << "no active sessions and no pending requests"
           << (store.empty() ? "" : " in store '" + store + "'") << "\n";
    return exit_ok;
  }
  t.print(io.out);
  return exit_ok;
}

result<int> cmd_nodes(const parsed_args& a, cli_io& io) {
  auto db = open_database(a, access::read_only);
  if (!db)
    return std::move(db).err();
  auto txn = db->env->begin_read();
  if (!txn)
    return std::move(txn).err();
  std::int64_t now = io.now_ms();
  nlohmann::json rows = nlohmann::json::array();
  text_table t({"NODE", "INCARNATION", "ADDRESS", "HEARTBEAT", "LEASE UNTIL",
                "LEASE"});
  auto walked = for_each_node(**txn, [&](std::string_view name,
                                         std::string_view bytes) {
    // docs/format.md "Node directory entry"; a damaged entry is shown as
    // such (storage replaces it at the node's next heartbeat).
    auto e = decode_node_entry(bytes);
    if (!e) {
      rows.push_back({{"node", std::string(name)},
                      {"error", e.err().message()}});
      t.add({std::string(name), "?", "?", "?", "?", "unreadable"});
      return true;
    }
    bool live = now < e->lease_until;
    rows.push_back({{"node", std::string(name)},
                    {"incarnation", e->incarnation},
                    {"address", e->address},
                    {"heartbeat", format_time(e->heartbeat)},
                    {"lease_until", format_time(e->lease_until)},
                    {"lease_live", live}});
    t.add({std::string(name), std::to_string(e->incarnation),
           e->address.empty() ? "-" : e->address, format_time(e->heartbeat),
           format_time(e->lease_until),
           live ? "live, " + format_duration(e->lease_until - now) + " left"
                : "expired " + format_duration(now - e->lease_until) + " ago"});
    return true;
  });
  if (!walked)
    return std::move(walked).err();
  const char* none
    = "no node directory: this storage has no entries in its 'nodes' table. "
      "Game nodes of a cluster renew their leases there; a single-process "
      "storage has none.";
  if (wants_json(a)) {
    nlohmann::json doc = {{"nodes", rows}};
    if (rows.empty())
      doc["note"] = none;
    print_json(io.out, doc);
    return exit_ok;
  }
  if (t.empty())
    io.out << none << "\n";
  else
    t.print(io.out);
  return exit_ok;
}

} // namespace profilestore::ctl
