// global_updates: ProfileService's GlobalUpdates on profilestore's queue.
//
// An update is one entry of the record's GlobalUpdates queue ([id, version,
// locked, data]); ProfileStore messages are entries too, so a message sent
// with store<T>::message() is an active update here, and an update added here
// is a message to a ProfileStore session. States, as in the original:
//
//   (absent) --sender add_active_update--> active (version 1)
//   active   --sender change_active_update--> active (version + 1)
//   active   --sender clear_active_update--> (gone)
//   active   --owner lock_active_update, then a save--> locked
//                                     (new-locked listeners fire after it)
//   locked   --owner clear_locked_update, then a save--> (gone)
//
// Locked updates can no longer be changed or cleared by senders (storage
// refuses it, rule U2 of store/ops.hpp). One class serves three places, as in
// the original; a call that its place does not allow is an error
// (errc::not_supported), never a silent no-op:
//  - owner: Profile.global_updates of an active session (service_profile_view);
//    lock/clear/listen; used only inside the profile's actor.
//  - sender: the object a global_update_profile handler gets; add/change/
//    clear, only while that handler runs.
//  - view: the result of global_update_profile and view_profile; reads only.
//
// Thread safety: an owner object belongs to the profile's actor (use it only
// inside the callback it was given to); sender and view objects are values.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "profilestore/actors/profile_context.hpp"
#include "profilestore/codec/value.hpp"
#include "profilestore/result.hpp"
#include "profilestore/store/ops.hpp"

namespace profilestore::compat {

class service_profile_view;
struct service_session_state;

// One update as GetActiveUpdates / GetLockedUpdates list it.
struct global_update {
  std::uint64_t id = 0;
  std::uint64_t version = 1;
  value data;
};

// ListenToNewActiveUpdate / ListenToNewLockedUpdate: called inside the
// profile's actor with the profile, the update's id and its data.
using update_listener = std::function<void(
  service_profile_view& profile, std::uint64_t id, const value& data)>;

class global_updates {
public:
  enum class place : std::uint8_t { owner, sender, view };

  // A read-only view of a stored queue.
  static global_updates make_view(std::vector<queued_update> queue);

  place where() const noexcept { return place_; }

  // ---- always available ----------------------------------------------------
  // Active updates (not locked, and for the owner not waiting to be locked),
  // in id order.
  std::vector<global_update> get_active_updates() const;
  // Locked updates (for the owner: not waiting to be cleared), in id order.
  std::vector<global_update> get_locked_updates() const;

  // ---- owner only (Profile.global_updates) ---------------------------------
  result<void> listen_to_new_active_update(update_listener listener);
  result<void> listen_to_new_locked_update(update_listener listener);
  // The next save marks the update locked; errors: the session is over
  // (session_ended), no such update (not_found), already locked or waiting
  // to be (invalid_argument).
  result<void> lock_active_update(std::uint64_t id);
  // The next save removes the update; errors: session over, no such update,
  // the update is still active (lock it first), already being cleared.
  result<void> clear_locked_update(std::uint64_t id);

  // ---- sender only (inside global_update_profile's handler) ----------------
  // Each edit is checked here against the queue as read (a locked update is
  // refused at once) and again by storage when the handler's edits are
  // written, all or none; an id this sender cannot see is left to storage
  // (not_found there). Until written, an added update is listed with id 0,
  // and only updates with an id can be changed or cleared.
  result<void> add_active_update(const value& data);
  result<void> change_active_update(std::uint64_t id, const value& data);
  result<void> clear_active_update(std::uint64_t id);

  // The edits a sender made (used by global_update_profile).
  const std::vector<update_edit>& edits() const noexcept { return edits_; }
  // Ends the sender's handler: later sender calls fail.
  void close_sender() noexcept { *open_ = false; }

  // Owner: the Profile.global_updates of a session.
  global_updates(profile_context& ctx,
                 std::shared_ptr<service_session_state> state);
  // Sender: a handler's object over the queue as read.
  static global_updates make_sender(std::vector<queued_update> queue);

private:
  global_updates() = default;

  const std::vector<queued_update>& queue() const noexcept;
  result<void> owner_only(const char* call) const;
  result<void> sender_only(const char* call) const;
  result<void> sender_edit(update_edit_kind kind, std::uint64_t id,
                           const value* data, const char* call);
  const queued_update* find(std::uint64_t id) const;

  place place_ = place::view;
  // owner
  profile_context* ctx_ = nullptr;
  std::shared_ptr<service_session_state> state_;
  // sender and view: the queue (a sender's as edited so far)
  std::vector<queued_update> queue_;
  std::vector<update_edit> edits_;
  std::shared_ptr<bool> open_ = std::make_shared<bool>(true);
};

} // namespace profilestore::compat
