// The session-lock rules as pure functions: (current record, request, now)
// -> (reply, record to write). No I/O, no clock, no CAF: storage.hpp runs
// them inside one write transaction and the actors only add ordering,
// batching, timers and remoting. Every rule of ../docs/design.md "Session
// lock" lives here.
//
// Starting a session (request from `requester`):
//  S1 no owner                                   -> take the lock
//  S2 the owner is the requester's own process    -> take it (the node vouches
//     it holds no other session for the key)
//  S3 the owner's process has restarted (same node, older incarnation), or
//     the node directory says its lease expired    -> take it
//  S4 now - LastUpdate > assume_dead               -> take it (ASSUME_DEAD)
//  S5 steal requested                              -> take it
//  S6 otherwise, on the first attempt: ForceLoadSession = requester (the
//     newest requester wins) and reply `locked`; on a retry, if
//     ForceLoadSession is someone else, reply `superseded` (a newer request
//     took over), else `locked` again without writing.
// Taking the lock: ActiveSession = requester, ForceLoadSession = nil,
// SessionLoadCount + 1, LastUpdate = now; a missing profile is created from
// the template.
//
// Saving (fencing): a save names its session; if ActiveSession is not exactly
// that session, the save is refused with errc::not_owner and nothing changes.
// A final save releases the lock, or hands it in the same write to the
// requester named in ForceLoadSession (if that requester still asks;
// otherwise it releases).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "profilestore/result.hpp"
#include "profilestore/store/limits.hpp"
#include "profilestore/store/record.hpp"

namespace profilestore {

// What storage found under the key, decoded.
struct current_record {
  std::optional<record> rec; // nullopt: absent, removed, or corrupt
  bool corrupt = false;      // bytes were there but are not a record
};

// The record an operation wants written, if any.
struct record_write {
  record rec;
  // Append a version even inside the window (the corrupt bytes being
  // replaced must stay as an older version).
  bool force_new_version = false;
  // When set, the record's Data is these bytes and rec.data stays empty: a
  // save's Data goes from its request into the stored entry with no copy in
  // between. REQUIRES: the bytes outlive the write (they belong to the
  // operation being applied).
  const std::string* data = nullptr;

  std::string_view data_bytes() const noexcept {
    return data ? std::string_view(*data) : std::string_view(rec.data);
  }
};

template <class Reply>
struct op_change {
  Reply reply;
  std::optional<record_write> write; // nullopt: nothing to write
};

// ---- start_session --------------------------------------------------------

struct start_session_request {
  session_ref requester; // id: the new session's id
  bool steal = false;
  bool first_attempt = true;
  // Set by storage from the node directory when the owner's node lease has
  // expired or its incarnation is gone.
  bool owner_lease_expired = false;
  std::int64_t assume_dead_ms = 630'000;
};

enum class start_outcome : std::uint8_t { started, locked, superseded };

struct start_session_reply {
  start_outcome outcome = start_outcome::locked;
  // started: the record as stored, owned by the requester. The pure
  // start_session() below leaves it empty and puts that record in its
  // change's write; storage moves it here once written (one record, no
  // copy of its Data).
  std::optional<record> rec;
  bool created = false;     // started: a new profile from the template
  bool overwritten = false; // corrupt bytes were replaced (OnOverwrite)
  // locked: the current owner and its last write time.
  std::optional<session_ref> owner;
  std::int64_t owner_last_update = 0;
};

result<op_change<start_session_reply>>
start_session(const current_record& current, const start_session_request& req,
              std::string_view template_data, std::int64_t now);

// ---- save -------------------------------------------------------------------

enum class final_action : std::uint8_t {
  none,    // an auto-save or manual save; the session goes on
  release, // the last save: free the lock
  handoff, // the last save: give the lock to `handoff_to` if it still asks
};

struct save_request {
  session_ref session;
  std::string data;      // encoded map or array
  std::string meta_tags = empty_msgpack_map;
  std::vector<std::int64_t> user_ids;
  std::string key_metadata = empty_msgpack_map;
  std::vector<std::uint64_t> processed_update_ids; // removed from the queue
  std::vector<std::uint64_t> lock_update_ids;      // marked locked
  final_action final = final_action::none;
  std::optional<session_ref> handoff_to;
  // Set only by a sender that ran check_save_request on these very fields
  // with the limits of the storage it sends to (a profile actor beside its
  // storage, on its own thread rather than the writer's). Storage then skips
  // the MessagePack walks of Data, MetaTags and key metadata and checks only
  // the rest (names, sizes, counts). Never sent over the wire: a request
  // from another node is always checked in full.
  bool payloads_checked = false;
};

struct save_reply {
  // Another requester waits for the lock (ForceLoadSession, not us): the
  // owner should end its session soon.
  std::optional<session_ref> force_load;
  // The queue after the save, so the owner sees messages sent meanwhile.
  std::vector<queued_update> updates;
  std::uint64_t session_load_count = 0;
  bool released = false;
  bool handed_off = false; // the lock now belongs to `new_owner`
  std::optional<session_ref> new_owner;
};

// Checks the request's own data against `limits` (sizes, shapes; the
// MessagePack walks only unless req.payloads_checked).
result<void> check_save_request(const save_request& req,
                                const storage_limits& limits);

// The checks check_save_request makes of Data alone: a template (a new
// profile's Data) passes these.
result<void> check_profile_data(std::string_view data,
                                const storage_limits& limits);

// The write it returns refers to `req`'s Data (record_write::data), so `req`
// must outlive it.
result<op_change<save_reply>> save(const current_record& current,
                                   const save_request& req, std::int64_t now);

// ---- message ----------------------------------------------------------------

struct message_request {
  std::string data; // encoded MessagePack
  // Queue limit (MAX_MESSAGE_QUEUE); 0 uses storage_limits.
  std::size_t max_queue = 0;
};

struct message_reply {
  std::uint64_t id = 0;
  std::optional<session_ref> owner; // to notify at once
  bool overwritten = false;         // corrupt bytes were replaced
};

result<op_change<message_reply>> message(const current_record& current,
                                         const message_request& req,
                                         const storage_limits& limits,
                                         std::int64_t now);

// message() on a record the caller holds: appends the message to `rec` (the
// key's current record, or a messages-only record when it had none) and
// answers it; on an error `rec` is unchanged. Storage uses it to apply a
// batch's messages to one key in memory and write the record once.
result<message_reply> add_message(record& rec, const message_request& req,
                                  const storage_limits& limits);

// ---- set (overwrite from a copy; ends any session) --------------------------

struct set_request {
  std::string data;
  std::string meta_tags = empty_msgpack_map;
  std::vector<std::int64_t> user_ids;
  std::string key_metadata = empty_msgpack_map;
  std::vector<std::uint64_t> processed_update_ids;
};

struct set_reply {
  std::optional<session_ref> previous_owner; // its session has ended
};

result<void> check_set_request(const set_request& req,
                               const storage_limits& limits);

result<op_change<set_reply>> set(const current_record& current,
                                 const set_request& req, std::int64_t now);

// ---- edit_updates (ProfileService's GlobalUpdateProfileAsync) ---------------
//
// A sender's edits of the GlobalUpdates queue, from any node, without a
// session: add a new active update (id = ++last id, version 1), change an
// active update's data (version + 1), or clear an active update. Contracts:
//  U1 the edits apply in order, all or none: one refused edit fails the whole
//     request and nothing is written;
//  U2 change and clear refuse an update that is locked (its owner is
//     processing it; errc::invalid_argument naming the id) or absent
//     (errc::not_found);
//  U3 add obeys the same queue limits as message();
//  U4 the session lock is not touched: the owner (if any) is in the reply so
//     it can be told at once.
enum class update_edit_kind : std::uint8_t { add, change, clear };

struct update_edit {
  update_edit_kind kind = update_edit_kind::add;
  std::uint64_t id = 0; // change, clear
  std::string data;     // add, change: encoded MessagePack
};

struct edit_updates_request {
  std::vector<update_edit> edits;
  // Queue limit (MAX_MESSAGE_QUEUE); 0 uses storage_limits.
  std::size_t max_queue = 0;
};

struct edit_updates_reply {
  std::vector<queued_update> updates;    // the queue after the edits
  std::vector<std::uint64_t> added_ids;  // one per add edit, in order
  std::optional<session_ref> owner;      // to notify at once
  bool overwritten = false;              // corrupt bytes were replaced
};

result<op_change<edit_updates_reply>>
edit_updates(const current_record& current, const edit_updates_request& req,
             const storage_limits& limits, std::int64_t now);

// ---- remove -------------------------------------------------------------------

struct remove_reply {
  bool existed = false;
  std::optional<session_ref> previous_owner;
};

// Removal writes a tombstone; storage does that when `existed`.
remove_reply remove(const current_record& current);

} // namespace profilestore
