// global_updates: the three places of ProfileService's GlobalUpdates object
// (global_updates.hpp) over profilestore's queue.
#include "profilestore/compat/global_updates.hpp"

#include <algorithm>
#include <string>

#include "profilestore/actors/errors.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "service_state.hpp"

namespace profilestore::compat {
namespace {

global_update to_global_update(const queued_update& u) {
  auto data = decode_msgpack(u.data);
  // Storage validated the bytes when they were queued; a payload that does
  // not decode under the default limits is shown as nil, not dropped.
  return global_update{u.id, u.version, data ? std::move(*data) : value{}};
}

std::string id_text(std::uint64_t id) {
  return "global update " + std::to_string(id);
}

} // namespace

global_updates::global_updates(profile_context& ctx,
                               std::shared_ptr<service_session_state> state)
  : place_(place::owner), ctx_(&ctx), state_(std::move(state)) {}

global_updates global_updates::make_view(std::vector<queued_update> queue) {
  global_updates g;
  g.place_ = place::view;
  g.queue_ = std::move(queue);
  *g.open_ = false;
  return g;
}

global_updates global_updates::make_sender(std::vector<queued_update> queue) {
  global_updates g;
  g.place_ = place::sender;
  g.queue_ = std::move(queue);
  return g;
}

const std::vector<queued_update>& global_updates::queue() const noexcept {
  return place_ == place::owner ? ctx_->stored_updates() : queue_;
}

const queued_update* global_updates::find(std::uint64_t id) const {
  for (const auto& u : queue())
    if (u.id == id)
      return &u;
  return nullptr;
}

std::vector<global_update> global_updates::get_active_updates() const {
  std::vector<global_update> out;
  for (const auto& u : queue()) {
    if (u.locked)
      continue;
    if (place_ == place::owner && ctx_->updates_to_lock().count(u.id) > 0)
      continue;
    out.push_back(to_global_update(u));
  }
  return out;
}

std::vector<global_update> global_updates::get_locked_updates() const {
  std::vector<global_update> out;
  for (const auto& u : queue()) {
    if (!u.locked)
      continue;
    if (place_ == place::owner && ctx_->updates_to_clear().count(u.id) > 0)
      continue;
    out.push_back(to_global_update(u));
  }
  return out;
}

result<void> global_updates::owner_only(const char* call) const {
  if (place_ != place::owner)
    return make_error(errc::not_supported,
                      std::string(call)
                        + " is only available on the global_updates of a "
                          "loaded profile (Profile.global_updates)");
  if (!service_active(*ctx_, *state_))
    return make_error(errc::session_ended,
                      std::string(call) + ": the profile " + ctx_->key()
                        + " has been released");
  return {};
}

result<void> global_updates::sender_only(const char* call) const {
  if (place_ != place::sender)
    return make_error(errc::not_supported,
                      std::string(call)
                        + " is only available inside the handler of "
                          "global_update_profile");
  if (!*open_)
    return make_error(errc::invalid_argument,
                      std::string(call)
                        + ": the handler of global_update_profile has "
                          "returned; edits are no longer accepted");
  return {};
}

result<void> global_updates::listen_to_new_active_update(update_listener l) {
  PROFILESTORE_TRY(owner_only("listen_to_new_active_update"));
  if (!l)
    return make_error(errc::invalid_argument, "an empty listener");
  state_->listeners.on_new_active_update.push_back(std::move(l));
  return {};
}

result<void> global_updates::listen_to_new_locked_update(update_listener l) {
  PROFILESTORE_TRY(owner_only("listen_to_new_locked_update"));
  if (!l)
    return make_error(errc::invalid_argument, "an empty listener");
  state_->listeners.on_new_locked_update.push_back(std::move(l));
  return {};
}

result<void> global_updates::lock_active_update(std::uint64_t id) {
  PROFILESTORE_TRY(owner_only("lock_active_update"));
  const auto* u = find(id);
  if (!u)
    return make_error(errc::not_found,
                      "lock_active_update: there is no " + id_text(id));
  if (u->locked || ctx_->updates_to_lock().count(id) > 0)
    return make_error(errc::invalid_argument,
                      "lock_active_update: " + id_text(id)
                        + " is already locked or waiting for the next save "
                          "to lock it");
  ctx_->lock_update(id);
  return {};
}

result<void> global_updates::clear_locked_update(std::uint64_t id) {
  PROFILESTORE_TRY(owner_only("clear_locked_update"));
  const auto* u = find(id);
  if (!u)
    return make_error(errc::not_found,
                      "clear_locked_update: there is no " + id_text(id));
  if (!u->locked)
    return make_error(errc::invalid_argument,
                      "clear_locked_update: " + id_text(id)
                        + " is active; lock it (and let a save lock it) "
                          "before clearing it");
  if (ctx_->updates_to_clear().count(id) > 0)
    return make_error(errc::invalid_argument,
                      "clear_locked_update: " + id_text(id)
                        + " is already waiting for the next save to clear "
                          "it");
  ctx_->clear_update(id);
  return {};
}

result<void> global_updates::add_active_update(const value& data) {
  PROFILESTORE_TRY(sender_only("add_active_update"));
  update_edit e;
  e.kind = update_edit_kind::add;
  e.data = encode_msgpack(data);
  // Shown with id 0 until storage gives it one.
  queued_update shown;
  shown.id = 0;
  shown.data = e.data;
  queue_.push_back(std::move(shown));
  edits_.push_back(std::move(e));
  return {};
}

// Senders check what they can see; storage is the authority (an update
// unknown here, e.g. queued to a profile never created, is left to it).
result<void> global_updates::sender_edit(update_edit_kind kind,
                                         std::uint64_t id, const value* data,
                                         const char* call) {
  PROFILESTORE_TRY(sender_only(call));
  if (id == 0)
    return make_error(errc::invalid_argument,
                      std::string(call) + ": update ids start at 1");
  auto i = std::find_if(queue_.begin(), queue_.end(),
                        [id](const queued_update& u) { return u.id == id; });
  if (i != queue_.end() && i->locked)
    return make_error(errc::invalid_argument,
                      std::string(call) + ": " + id_text(id)
                        + " is locked by the profile's owner and can no "
                          "longer be changed or cleared");
  update_edit e;
  e.kind = kind;
  e.id = id;
  if (data)
    e.data = encode_msgpack(*data);
  if (i != queue_.end()) {
    if (kind == update_edit_kind::clear) {
      queue_.erase(i);
    } else {
      i->data = e.data;
      i->version += 1;
    }
  }
  edits_.push_back(std::move(e));
  return {};
}

result<void> global_updates::change_active_update(std::uint64_t id,
                                                  const value& data) {
  return sender_edit(update_edit_kind::change, id, &data,
                     "change_active_update");
}

result<void> global_updates::clear_active_update(std::uint64_t id) {
  return sender_edit(update_edit_kind::clear, id, nullptr,
                     "clear_active_update");
}

} // namespace profilestore::compat
