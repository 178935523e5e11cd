// service_session_state: what a ProfileService session keeps beside the
// profile actor's own state: listeners, which updates the listeners have
// already seen, and MetaTagsLatest. Owned by the session's hooks and views;
// touched only inside the profile's actor (callbacks never run concurrently),
// so it needs no lock.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "profilestore/compat/service_profile.hpp"

namespace profilestore::compat {

struct service_session_state {
  service_listeners listeners;
  // Seeded from the queue at the session's first callback: updates present
  // at the load are found with get_*_updates(), not by listeners (as in the
  // original).
  bool seeded = false;
  std::map<std::uint64_t, std::uint64_t> seen_active; // id -> version told
  std::set<std::uint64_t> seen_locked;
  // MetaTags as sent by the save in flight, and as confirmed by the last one.
  value meta_tags_in_flight = value(value_map{});
  value meta_tags_latest = value(value_map{});
  // release() was asked: the profile counts as released at once (the
  // original's IsActive turns false at Release), though the final save runs
  // after the current callback.
  bool release_asked = false;
  bool released = false; // the release listeners have run
};

// Active and not asked to release.
inline bool service_active(const profile_context& ctx,
                           const service_session_state& st) {
  return ctx.is_active() && !st.release_asked;
}

// Tells the listeners about new or changed active updates and newly locked
// ones (only while the session is active); seeds first if needed.
void process_updates(profile_context& ctx,
                     const std::shared_ptr<service_session_state>& state);

} // namespace profilestore::compat
