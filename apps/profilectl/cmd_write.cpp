// Commands that change one profile: set, rollback, remove, message. Each
// checks every input first, then writes one store operation (ops.hpp) in one
// durable transaction; on any error nothing is written.
#include <iostream>

#include "commands.hpp"
#include "database.hpp"
#include "output.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/atomic_batch.hpp"
#include "profilestore/store/names.hpp"
#include "time_arg.hpp"

namespace profilestore::ctl {
namespace {

result<void> check_names(const std::string& store, const std::string& key) {
  PROFILESTORE_TRY(check_store_name(store));
  return check_key(key);
}

// Applies one operation (on a storage node: through its writer, at its
// clock); returns the version it wrote.
result<applied_op> write_one(database& db, operation op, cli_io& io) {
  auto applied = db.link->write_all_or_nothing({std::move(op)}, io.now_ms(),
                                               nullptr);
  if (!applied)
    return make_error(applied.err().code(),
                      applied.err().message()
                        + nothing_written_note(applied.err()));
  return std::move(applied->front());
}

std::string owner_text(const std::optional<session_ref>& s) {
  return s ? "the session of " + to_string(*s) : "no session";
}

// Data from JSON text: an object or an array, within the store limits.
result<std::string> data_of_json(const std::string& text,
                                 const std::string& where) {
  auto bytes = msgpack_of_json_text(text);
  if (!bytes)
    return make_error(bytes.err().code(),
                      where + " is not valid JSON: " + bytes.err().message());
  auto kind = msgpack_reader(*bytes).peek();
  if (!kind || (*kind != wire_type::map && *kind != wire_type::array))
    return make_error(errc::invalid_argument,
                      where + " must be a JSON object or array (a profile's "
                              "Data)");
  return bytes;
}

int report_written(const parsed_args& a, cli_io& io, const std::string& what,
                   const applied_op& done, nlohmann::json extra) {
  if (wants_json(a)) {
    extra["written"] = done.written ? json_of_key_info(*done.written)
                                    : nlohmann::json(nullptr);
    print_json(io.out, extra);
  } else {
    io.out << what;
    if (done.written)
      io.out << " (version " << done.written->version << ")";
    io.out << "\n";
  }
  return exit_ok;
}

// The request that puts `from`'s profile fields back, keeping the queue.
set_request restore_request(const record& from) {
  set_request req;
  req.data = from.data;
  req.meta_tags = from.meta.meta_tags;
  req.user_ids = from.user_ids;
  req.key_metadata = from.key_metadata;
  return req;
}

} // namespace

result<bool> confirm(const parsed_args& a, cli_io& io,
                     const std::string& question, bool stdin_was_input) {
  if (a.has("--yes"))
    return true;
  if (stdin_was_input || !io.in_is_tty)
    return make_error(errc::invalid_argument,
                      question + ": not confirmed, nothing written (standard "
                                 "input is not a terminal to ask on; pass "
                                 "--yes to write)");
  io.err << question << "? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(io.in, answer))
    return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

result<int> cmd_set(const parsed_args& a, cli_io& io) {
  const std::string& store = a.positional[0];
  const std::string& key = a.positional[1];
  PROFILESTORE_TRY(check_names(store, key));
  auto source = a.get("--data");
  if (!source)
    return make_error(errc::invalid_argument,
                      "set needs --data FILE (or --data - for standard input)");
  auto text = read_input(*source, io.in);
  if (!text)
    return std::move(text).err();
  auto data = data_of_json(*text, *source == "-" ? "standard input"
                                                 : "'" + *source + "'");
  if (!data)
    return std::move(data).err();
  auto db = open_database(a, access::read_write);
  if (!db)
    return std::move(db).err();
  auto current = db->store->get(store, key);
  if (!current)
    return std::move(current).err();
  // The profile's other fields stay as they are; a new key gets defaults.
  set_request req;
  if (*current && (*current)->rec.has_profile && !(*current)->overwritten)
    req = restore_request((*current)->rec);
  req.data = std::move(*data);
  PROFILESTORE_TRY(check_set_request(req, db->options.limits));
  std::optional<session_ref> owner;
  if (*current && (*current)->rec.has_profile)
    owner = (*current)->rec.meta.active_session;
  std::string question = "replace the Data of " + store + "/" + key + " ("
                         + (*current ? "ends " + owner_text(owner)
                                     : std::string("a new profile"))
                         + ")";
  auto yes = confirm(a, io, question, *source == "-");
  if (!yes)
    return std::move(yes).err();
  if (!*yes) {
    io.err << "not confirmed; nothing written\n";
    return exit_failed;
  }
  auto done = write_one(*db, set_op{store, key, std::move(req)}, io);
  if (!done)
    return std::move(done).err();
  auto& reply = std::get<set_reply>(done->reply);
  std::string ended = reply.previous_owner
                        ? "; ended the session of "
                            + to_string(*reply.previous_owner)
                        : "";
  return report_written(a, io, "set " + store + "/" + key + ended, *done,
                        {{"store", store},
                         {"key", key},
                         {"ended_session", json_of_session(reply.previous_owner)}});
}

result<int> cmd_rollback(const parsed_args& a, cli_io& io) {
  const std::string& store = a.positional[0];
  const std::string& key = a.positional[1];
  PROFILESTORE_TRY(check_names(store, key));
  auto to = a.get("--to");
  auto before = a.get("--before");
  if (to.has_value() == before.has_value())
    return make_error(errc::invalid_argument,
                      "rollback needs exactly one of --to VERSION and "
                      "--before TIME");
  std::optional<std::uint64_t> version;
  std::optional<std::int64_t> before_ms;
  if (to) {
    auto n = parse_count("--to", *to);
    if (!n)
      return std::move(n).err();
    version = *n;
  } else {
    auto ms = parse_time("--before", *before);
    if (!ms)
      return std::move(ms).err();
    before_ms = *ms;
  }
  auto db = open_database(a, access::read_write);
  if (!db)
    return std::move(db).err();
  PROFILESTORE_TRY(require_store(*db, store));
  if (before_ms) {
    // The version that was current just before that time.
    version_query q;
    q.descending = true;
    q.max_time = *before_ms - 1;
    q.limit = 1;
    auto page = db->store->list_versions(store, key, q);
    if (!page)
      return std::move(page).err();
    if (page->versions.empty())
      return make_error(errc::not_found,
                        "'" + store + "/" + key + "' has no version created "
                          "before " + format_time(*before_ms));
    if (page->versions[0].deleted)
      return make_error(errc::not_found,
                        "'" + store + "/" + key + "' was removed at "
                          + format_time(*before_ms) + " (version "
                          + std::to_string(page->versions[0].version)
                          + " is the removal); pick a version with --to");
    version = page->versions[0].version;
  }
  auto old = db->store->get(store, key, version);
  if (!old)
    return std::move(old).err();
  if (!*old)
    return make_error(errc::not_found,
                      "version " + std::to_string(*version) + " of '" + store
                        + "/" + key
                        + "' does not exist or is a removal (profilectl "
                          "versions lists them)");
  if ((*old)->overwritten)
    return make_error(errc::corrupt_record,
                      "version " + std::to_string(*version) + " of '" + store
                        + "/" + key + "' is corrupt; it cannot be restored");
  if (!(*old)->rec.has_profile)
    return make_error(errc::invalid_argument,
                      "version " + std::to_string(*version) + " of '" + store
                        + "/" + key
                        + "' holds only messages, no profile to restore");
  set_request req = restore_request((*old)->rec);
  PROFILESTORE_TRY(check_set_request(req, db->options.limits));
  auto yes = confirm(a, io,
                     "restore " + store + "/" + key + " to version "
                       + std::to_string(*version) + " (ends any session)",
                     false);
  if (!yes)
    return std::move(yes).err();
  if (!*yes) {
    io.err << "not confirmed; nothing written\n";
    return exit_failed;
  }
  auto done = write_one(*db, set_op{store, key, std::move(req)}, io);
  if (!done)
    return std::move(done).err();
  auto& reply = std::get<set_reply>(done->reply);
  return report_written(
    a, io,
    "restored " + store + "/" + key + " to the content of version "
      + std::to_string(*version),
    *done,
    {{"store", store},
     {"key", key},
     {"restored_version", *version},
     {"ended_session", json_of_session(reply.previous_owner)}});
}

result<int> cmd_remove(const parsed_args& a, cli_io& io) {
  const std::string& store = a.positional[0];
  const std::string& key = a.positional[1];
  PROFILESTORE_TRY(check_names(store, key));
  auto db = open_database(a, access::read_write);
  if (!db)
    return std::move(db).err();
  PROFILESTORE_TRY(require_store(*db, store));
  auto current = db->store->get(store, key);
  if (!current)
    return std::move(current).err();
  if (!*current)
    return make_error(errc::not_found, "no key '" + key + "' in store '"
                                         + store + "' (or already removed)");
  auto yes = confirm(a, io,
                     "remove " + store + "/" + key
                       + " (a removal version; restorable with rollback "
                         "until the retention expires)",
                     false);
  if (!yes)
    return std::move(yes).err();
  if (!*yes) {
    io.err << "not confirmed; nothing written\n";
    return exit_failed;
  }
  auto done = write_one(*db, remove_op{store, key}, io);
  if (!done)
    return std::move(done).err();
  auto& reply = std::get<remove_reply>(done->reply);
  return report_written(a, io, "removed " + store + "/" + key, *done,
                        {{"store", store},
                         {"key", key},
                         {"ended_session", json_of_session(reply.previous_owner)}});
}

result<int> cmd_message(const parsed_args& a, cli_io& io) {
  const std::string& store = a.positional[0];
  const std::string& key = a.positional[1];
  PROFILESTORE_TRY(check_names(store, key));
  auto text = a.get("--data");
  if (!text)
    return make_error(errc::invalid_argument,
                      "message needs --data JSON (the message itself)");
  auto bytes = msgpack_of_json_text(*text);
  if (!bytes)
    return make_error(bytes.err().code(),
                      "--data is not valid JSON: " + bytes.err().message());
  auto db = open_database(a, access::read_write);
  if (!db)
    return std::move(db).err();
  message_request req;
  req.data = std::move(*bytes);
  auto done = write_one(*db, message_op{store, key, std::move(req)}, io);
  if (!done)
    return std::move(done).err();
  auto& reply = std::get<message_reply>(done->reply);
  std::string note = reply.owner ? "; its owner " + to_string(*reply.owner)
                                     + " receives it at its next save"
                                 : "";
  return report_written(
    a, io,
    "queued message #" + std::to_string(reply.id) + " for " + store + "/" + key
      + note,
    *done,
    {{"store", store},
     {"key", key},
     {"id", reply.id},
     {"owner", json_of_session(reply.owner)}});
}

} // namespace profilestore::ctl
