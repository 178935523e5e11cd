// The session-lock rules: start_session (S1-S6) and save with fencing and
// hand-off (ops.hpp).
#include "profilestore/store/ops.hpp"

#include <algorithm>

#include "elapsed_time.hpp"

namespace profilestore {
namespace {

// The record a start works on: the stored one, or a new profile (for an
// absent key, a messages-only record, or corrupt bytes).
record starting_record(const current_record& current,
                       std::string_view template_data, std::int64_t now,
                       start_session_reply& reply) {
  if (current.corrupt) {
    record rec = make_new_profile(template_data, now);
    rec.was_overwritten = true;
    reply.created = true;
    reply.overwritten = true;
    return rec;
  }
  if (!current.rec) {
    reply.created = true;
    return make_new_profile(template_data, now);
  }
  record rec = *current.rec;
  if (!rec.has_profile) {
    add_profile_to(rec, template_data, now); // keeps the queued messages
    reply.created = true;
  }
  return rec;
}

// S1-S5: may the requester take the lock now?
bool may_take_lock(const record& rec, const start_session_request& req,
                   std::int64_t now) {
  const auto& owner = rec.meta.active_session;
  if (!owner)
    return true; // S1
  if (owner->same_process(req.requester))
    return true; // S2
  if (owner->node == req.requester.node
      && owner->incarnation < req.requester.incarnation)
    return true; // S3: that process was replaced by the requester's
  if (req.owner_lease_expired)
    return true; // S3: the directory says the owner is gone
  if (elapsed_ms(now, rec.meta.last_update) > req.assume_dead_ms)
    return true; // S4
  return req.steal; // S5
}

void take_lock(record& rec, const session_ref& owner, std::int64_t now) {
  rec.meta.active_session = owner;
  rec.meta.force_load_session.reset();
  rec.meta.session_load_count += 1;
  rec.meta.last_update = now;
}

} // namespace

result<op_change<start_session_reply>>
start_session(const current_record& current, const start_session_request& req,
              std::string_view template_data, std::int64_t now) {
  op_change<start_session_reply> change;
  auto& reply = change.reply;
  record rec = starting_record(current, template_data, now, reply);
  if (rec.meta.active_session && *rec.meta.active_session == req.requester) {
    // The owner's final save handed the lock to this very request and
    // counted the load then: take it without counting it twice.
    rec.meta.force_load_session.reset();
    rec.meta.last_update = now;
    reply.outcome = start_outcome::started;
    change.write = record_write{std::move(rec), reply.overwritten};
    return change;
  }
  if (may_take_lock(rec, req, now)) {
    take_lock(rec, req.requester, now);
    reply.outcome = start_outcome::started;
    change.write = record_write{std::move(rec), reply.overwritten};
    return change;
  }
  // S6: held by another live session.
  reply.created = false;
  reply.owner = rec.meta.active_session;
  reply.owner_last_update = rec.meta.last_update;
  const auto& asking = rec.meta.force_load_session;
  bool asking_is_us = asking && *asking == req.requester;
  if (!req.first_attempt) {
    reply.outcome = asking_is_us ? start_outcome::locked
                                 : start_outcome::superseded;
    return change;
  }
  reply.outcome = start_outcome::locked;
  if (!asking_is_us) {
    rec.meta.force_load_session = req.requester; // the newest asker wins
    change.write = record_write{std::move(rec), false};
  }
  return change;
}

namespace {

error not_owner_error(const current_record& current, const session_ref& s) {
  std::string who = to_string(s);
  if (current.corrupt)
    return make_error(errc::not_owner,
                      "session " + who
                        + " does not own the key: its record was replaced "
                          "after corruption");
  if (!current.rec || !current.rec->has_profile)
    return make_error(errc::not_owner,
                      "session " + who
                        + " does not own the key: the profile was removed");
  const auto& owner = current.rec->meta.active_session;
  if (!owner)
    return make_error(errc::not_owner,
                      "session " + who
                        + " does not own the key: the lock was released or "
                          "the profile was overwritten");
  return make_error(errc::not_owner, "session " + who
                                       + " does not own the key: it is owned "
                                         "by session "
                                       + to_string(*owner));
}

void apply_queue_changes(record& rec, const std::vector<std::uint64_t>& remove,
                         const std::vector<std::uint64_t>& lock) {
  auto listed = [](const std::vector<std::uint64_t>& ids, std::uint64_t id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  if (!remove.empty())
    rec.updates.erase(std::remove_if(rec.updates.begin(), rec.updates.end(),
                                     [&](const queued_update& u) {
                                       return listed(remove, u.id);
                                     }),
                      rec.updates.end());
  for (auto& u : rec.updates)
    if (!u.locked && listed(lock, u.id))
      u.locked = true;
}

void finish_session(record& rec, const save_request& req, save_reply& reply,
                    std::int64_t now) {
  const auto& asking = rec.meta.force_load_session;
  if (req.final == final_action::handoff && req.handoff_to && asking
      && *asking == *req.handoff_to) {
    session_ref next = *asking;
    take_lock(rec, next, now);
    reply.handed_off = true;
    reply.new_owner = std::move(next);
    reply.force_load.reset();
    return;
  }
  rec.meta.active_session.reset();
  reply.released = true;
}

} // namespace

result<op_change<save_reply>> save(const current_record& current,
                                   const save_request& req, std::int64_t now) {
  const record* stored = current.rec ? &*current.rec : nullptr;
  if (current.corrupt || !stored || !stored->has_profile
      || !stored->meta.active_session
      || *stored->meta.active_session != req.session)
    return not_owner_error(current, req.session);
  op_change<save_reply> change;
  auto& reply = change.reply;
  record rec = *stored;
  rec.data.clear(); // the request's Data is written instead (record_write::data)
  rec.meta.meta_tags = req.meta_tags;
  rec.user_ids = req.user_ids;
  rec.key_metadata = req.key_metadata;
  rec.meta.last_update = now;
  apply_queue_changes(rec, req.processed_update_ids, req.lock_update_ids);
  reply.force_load = rec.meta.force_load_session;
  if (req.final != final_action::none)
    finish_session(rec, req, reply, now);
  reply.updates = rec.updates;
  reply.session_load_count = rec.meta.session_load_count;
  change.write = record_write{std::move(rec), false, &req.data};
  return change;
}

} // namespace profilestore
