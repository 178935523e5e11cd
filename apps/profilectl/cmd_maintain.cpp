// Maintenance: compact (prune expired versions), check (decode everything,
// name what is damaged), stats (what the storage holds).
#include <map>

#include "commands.hpp"
#include "database.hpp"
#include "output.hpp"
#include "profilestore/store/catalog.hpp"
#include "profilestore/store/record_codec.hpp"
#include "progress.hpp"
#include "time_arg.hpp"

namespace profilestore::ctl {

result<int> cmd_compact(const parsed_args& a, cli_io& io) {
  // 0: the storage's own retention (profilectl's default on a folder, the
  // node's own over --connect).
  std::int64_t retention_ms = 0;
  if (auto days = a.get("--retention-days")) {
    auto n = parse_count("--retention-days", *days);
    if (!n)
      return std::move(n).err();
    if (*n == 0 || *n > 36'500)
      return make_error(errc::invalid_argument,
                        "--retention-days must be 1..36500, got " + *days);
    retention_ms = static_cast<std::int64_t>(*n) * 24 * 3'600'000;
  }
  auto db = open_database(a, access::read_write);
  if (!db)
    return std::move(db).err();
  std::uint64_t total = 0;
  // The total only feeds the progress bar: counted only when one is drawn
  // (over --connect, counting moves the table over the network once more).
  if (io.err_is_tty) {
    auto txn = db->env->begin_read();
    if (!txn)
      return std::move(txn).err();
    auto n = count_entries(**txn, table::heads);
    if (!n)
      return std::move(n).err();
    total = *n;
  }
  // Bounded steps, each its own durable transaction, so a running node's
  // writes interleave with the pass instead of waiting for all of it (over
  // --connect each step runs on the node's writer, between its commits).
  progress_bar bar(io.err, io.err_is_tty, "compact", total);
  std::int64_t now = io.now_ms();
  std::string resume;
  std::uint64_t keys = 0, removed = 0;
  std::int64_t applied_retention = retention_ms;
  for (;;) {
    auto step = db->link->prune_step(now, resume, retention_ms);
    if (!step)
      return make_error(step.err().code(),
                        step.err().message() + " (after pruning "
                          + std::to_string(removed)
                          + " versions, which stay pruned)");
    applied_retention = step->retention_ms;
    keys += step->progress.keys_visited;
    removed += step->progress.versions_removed;
    bar.update(keys);
    if (step->progress.complete)
      break;
    resume = step->progress.resume_after;
  }
  bar.finish();
  if (wants_json(a)) {
    print_json(io.out, {{"keys_visited", keys},
                        {"versions_removed", removed},
                        {"retention_ms", applied_retention}});
    return exit_ok;
  }
  io.out << "compacted: visited " << keys << " key(s), removed " << removed
         << " expired version(s) (retention "
         << format_duration(applied_retention) << ")\n";
  return exit_ok;
}

namespace {

struct problem {
  std::string store, key, version, what;
};

std::string printable(std::string_view raw) {
  std::string out;
  for (unsigned char c : raw) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

} // namespace

result<int> cmd_check(const parsed_args& a, cli_io& io) {
  auto target = open_scan_target(a);
  if (!target)
    return std::move(target).err();
  auto& db = target->db;
  const std::string& store = target->store;
  auto txn = db.env->begin_read();
  if (!txn)
    return std::move(txn).err();
  // The total only feeds the progress bar: counted only when one is drawn
  // (over --connect, counting moves the table over the network once more).
  std::uint64_t total = 0;
  if (io.err_is_tty) {
    auto n = count_entries(**txn, table::versions, store);
    if (!n)
      return std::move(n).err();
    total = *n;
  }
  std::vector<problem> problems;
  std::uint64_t newer_format = 0, heads = 0;
  // Heads: each must decode and name a version that exists.
  PROFILESTORE_TRY(for_each_head(**txn, store, [&](const head_visit& h) {
    ++heads;
    if (!h.name) {
      problems.push_back({"", printable(h.raw_key), "", "heads key is damaged"});
      return true;
    }
    std::string s(h.name->store), k(h.name->key);
    if (!h.head) {
      problems.push_back({s, k, "head", "head entry: " + h.head.err().message()
                                          + " (reads rebuild it from the newest "
                                            "version; the next write that reads "
                                            "the key stores it again)"});
      return true;
    }
    auto v = read_version(**txn, s, k, h.head->latest_version);
    if (v && !*v)
      problems.push_back({s, k, "head",
                          "the head names version "
                            + std::to_string(h.head->latest_version)
                            + ", which does not exist"});
    return true;
  }));
  // Versions: each header and record must decode.
  std::uint64_t versions = 0;
  progress_bar bar(io.err, io.err_is_tty, "check", total);
  PROFILESTORE_TRY(for_each_version(**txn, store, [&](const version_visit& v) {
    bar.update(++versions);
    if (!v.name) {
      problems.push_back({"", printable(v.raw_key), "", "versions key is damaged"});
      return true;
    }
    std::string s(v.name->store), k(v.name->key);
    std::string number = std::to_string(v.name->version);
    if (v.entry.header_corrupt) {
      problems.push_back({s, k, number, "version entry header does not decode"});
      return true;
    }
    if (v.entry.info.deleted)
      return true; // a removal holds no record
    auto rec = decode_record(v.entry.record_bytes,
                             db.options.limits.record_decode);
    if (rec)
      return true;
    if (rec.err().code() == errc::unsupported_format) {
      ++newer_format;
      io.err << "note: " << s << "/" << k << " version " << number
             << " was written by a newer format: " << rec.err().message()
             << "\n";
      return true;
    }
    problems.push_back({s, k, number, rec.err().to_string()});
    return true;
  }));
  bar.finish();
  if (wants_json(a)) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : problems)
      list.push_back({{"store", p.store},
                      {"key", p.key},
                      {"version", p.version},
                      {"problem", p.what}});
    print_json(io.out, {{"keys", heads},
                        {"versions", versions},
                        {"newer_format", newer_format},
                        {"corrupt", list}});
  } else {
    if (!problems.empty()) {
      text_table t({"STORE", "KEY", "VERSION", "PROBLEM"});
      for (const auto& p : problems)
        t.add({p.store, p.key, p.version, p.what});
      t.print(io.out);
    }
    io.out << "checked " << heads << " key(s) and " << versions
           << " version(s): " << problems.size() << " corrupt"
           << (newer_format ? ", " + std::to_string(newer_format)
                                + " of a newer format (not checked)"
                            : "")
           << "\n";
  }
  return problems.empty() ? exit_ok : exit_failed;
}

result<int> cmd_stats(const parsed_args& a, cli_io& io) {
  auto db = open_database(a, access::read_only);
  if (!db)
    return std::move(db).err();
  auto txn = db->env->begin_read();
  if (!txn)
    return std::move(txn).err();
  struct store_stats {
    std::uint64_t keys = 0, removed = 0, versions = 0, bytes = 0,
                  largest = 0, sessions = 0, pending = 0, messages = 0,
                  unreadable = 0;
  };
  std::map<std::string, store_stats> stores;
  PROFILESTORE_TRY(for_each_version(**txn, {}, [&](const version_visit& v) {
    if (!v.name)
      return true;
    auto& st = stores[std::string(v.name->store)];
    ++st.versions;
    st.bytes += v.entry.record_bytes.size();
    return true;
  }));
  error failure;
  PROFILESTORE_TRY(for_each_head(**txn, {}, [&](const head_visit& h) {
    if (!h.name || !h.head)
      return true;
    auto& st = stores[std::string(h.name->store)];
    if (h.head->deleted) {
      ++st.removed;
      return true;
    }
    ++st.keys;
    auto latest = read_version(**txn, h.name->store, h.name->key,
                               h.head->latest_version);
    if (!latest) {
      failure = latest.err();
      return false;
    }
    if (!*latest)
      return true;
    st.largest = std::max<std::uint64_t>(st.largest, (*latest)->info.size);
    auto rec = decode_record((*latest)->record_bytes,
                             db->options.limits.record_decode);
    if (!rec) {
      ++st.unreadable;
      return true;
    }
    st.messages += rec->updates.size();
    if (rec->has_profile) {
      st.sessions += rec->meta.active_session ? 1 : 0;
      st.pending += rec->meta.force_load_session ? 1 : 0;
    }
    return true;
  }));
  if (failure)
    return failure;
  // Over --connect the node's map size is asked; its data file is not seen.
  auto sizes = db->link->sizes();
  if (!sizes)
    return std::move(sizes).err();
  nlohmann::json data_file = sizes->data_file_bytes
                               ? nlohmann::json(*sizes->data_file_bytes)
                               : nlohmann::json(nullptr);
  auto map_size = sizes->map_size;
  if (wants_json(a)) {
    nlohmann::json list = nlohmann::json::object();
    for (const auto& [name, s] : stores)
      list[name] = {{"keys", s.keys},
                    {"removed_keys", s.removed},
                    {"versions", s.versions},
                    {"record_bytes", s.bytes},
                    {"largest_record", s.largest},
                    {"active_sessions", s.sessions},
                    {"pending_requests", s.pending},
                    {"queued_messages", s.messages},
                    {"unreadable_latest", s.unreadable}};
    print_json(io.out, {{"stores", list},
                        {"data_file_bytes", data_file},
                        {"map_size", map_size}});
    return exit_ok;
  }
  text_table t({"STORE", "KEYS", "REMOVED", "VERSIONS", "RECORD BYTES",
                "LARGEST", "SESSIONS", "PENDING", "MESSAGES", "UNREADABLE"});
  store_stats sum;
  for (const auto& [name, s] : stores) {
    t.add({name, std::to_string(s.keys), std::to_string(s.removed),
           std::to_string(s.versions), std::to_string(s.bytes),
           std::to_string(s.largest), std::to_string(s.sessions),
           std::to_string(s.pending), std::to_string(s.messages),
           std::to_string(s.unreadable)});
    sum.keys += s.keys;
    sum.removed += s.removed;
    sum.versions += s.versions;
    sum.bytes += s.bytes;
    sum.largest = std::max(sum.largest, s.largest);
    sum.sessions += s.sessions;
    sum.pending += s.pending;
    sum.messages += s.messages;
    sum.unreadable += s.unreadable;
  }
  t.add({"(all)", std::to_string(sum.keys), std::to_string(sum.removed),
         std::to_string(sum.versions), std::to_string(sum.bytes),
         std::to_string(sum.largest), std::to_string(sum.sessions),
         std::to_string(sum.pending), std::to_string(sum.messages),
         std::to_string(sum.unreadable)});
  t.print(io.out);
  if (sizes->data_file_bytes)
    io.out << "data.mdb " << *sizes->data_file_bytes << " bytes, ";
  io.out << "map size " << map_size << " bytes\n";
  return exit_ok;
}

} // namespace profilestore::ctl
