// service_profile: ProfileService's Profile on a profilestore session.
//
// A loaded profile lives in its profile actor, like every session here. Code
// touches it in two ways:
//  - service_profile_view: the Profile as ProfileService users know it (data,
//    meta_data, meta tags, global_updates, release, save, listeners). Exists
//    only inside the profile's actor: in listeners, and in functions passed
//    to service_profile::in_profile() / with().
//  - service_profile: a handle for code outside the actor (any thread, or
//    other actors); it runs functions on the view inside the actor.
//
// Differences from the original, by design: save() and release() only ask
// (the save or the final save starts after the current callback returns);
// data is a profilestore::value map; ActiveSession is a session_ref (node,
// incarnation, session id) instead of {place_id, job_id}.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_system.hpp>

#include "profilestore/actors/constants.hpp"
#include "profilestore/actors/profile_context.hpp"
#include "profilestore/actors/types.hpp"
#include "profilestore/codec/value.hpp"
#include "profilestore/compat/global_updates.hpp"
#include "profilestore/result.hpp"

namespace profilestore::compat {

// Profile.MetaData.
struct service_meta_data {
  std::int64_t profile_create_time = 0; // ms since the epoch, storage clock
  std::uint64_t session_load_count = 0;
  std::optional<session_ref> active_session;
  value meta_tags = value(value_map{});        // as changed in memory
  value meta_tags_latest = value(value_map{}); // as of the last save
};

// ListenToRelease: called inside the profile's actor after the session ended
// (released here, taken over by another node, or lost).
using release_listener = std::function<void(service_profile_view& profile)>;

// Listeners installed before the profile is handed out, so none of the
// updates present or arriving at the start is missed.
struct service_listeners {
  std::vector<update_listener> on_new_active_update;
  std::vector<update_listener> on_new_locked_update;
  std::vector<release_listener> on_release;
};

class service_profile_view {
public:
  service_profile_view(profile_context& ctx,
                       std::shared_ptr<service_session_state> state);

  const std::string& key() const noexcept { return ctx_->key(); }
  // Profile.Data: the profile's value map, changed in place.
  value& data();
  service_meta_data meta_data() const;
  // The tag, or nil when it is not set.
  value get_meta_tag(std::string_view name) const;
  // errc::session_ended once the profile is no longer active.
  result<void> set_meta_tag(const std::string& name, value v);
  bool is_active() const noexcept;
  void listen_to_release(release_listener listener);
  // The final save, then the end of the session (after this callback).
  // errc::session_ended when already released.
  result<void> release();
  // A save soon (after this callback); errc::session_ended when released.
  result<void> save();
  compat::global_updates global_updates();

  profile_context& context() noexcept { return *ctx_; }

private:
  profile_context* ctx_;
  std::shared_ptr<service_session_state> state_;
};

using view_fn = std::function<void(service_profile_view&)>;

// A loaded profile, seen from outside its actor.
class service_profile {
public:
  service_profile(caf::actor_system& sys, profile_handle handle,
                  std::shared_ptr<service_session_state> state,
                  duration timeout);

  const profile_handle& handle() const noexcept { return handle_; }
  const std::string& key() const noexcept { return handle_.key; }

  // A function for the profile's actor ((update_atom, fn) from actor code):
  // runs `fn` on the view.
  context_fn in_profile(view_fn fn) const;

  // Blocking conveniences for plain threads (not for actors, and not under
  // CAF's test coordinator): each waits at most the node's request timeout.
  result<void> with(view_fn fn) const;
  result<value> data() const;
  // Profile:Release() that waits until the final save is durable.
  result<void> release() const;
  // A save that waits until it is durable.
  result<void> save() const;
  bool is_active() const;

private:
  caf::actor_system* sys_;
  profile_handle handle_;
  std::shared_ptr<service_session_state> state_;
  duration timeout_;
};

// The hooks that drive a service profile's listeners, meta tags and global
// updates; installed by load_profile.
profile_hooks make_service_hooks(std::shared_ptr<service_session_state> state);

std::shared_ptr<service_session_state>
make_service_state(service_listeners listeners);

} // namespace profilestore::compat
