// constants: the timing and size knobs of the profile runtime.
//
// The ten constants of the Luau originals keep their names and defaults
// (AUTO_SAVE_PERIOD, LOAD_REPEAT_PERIOD, ...); profilestore adds the node
// lease pair used by the cluster and STORE_REQUEST_TIMEOUT, the bound on every
// wait for the store actor (nothing waits forever). All are settable at run
// time with node::set_constant(name, value); durations are given in seconds.
//
// Thread safety: a plain value. The node keeps the current set behind a
// mutex (see shared_node_state) and actors read a copy when they need it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include "profilestore/result.hpp"

namespace profilestore {

using duration = std::chrono::milliseconds;

struct constants {
  duration auto_save_period = std::chrono::seconds(300);
  duration load_repeat_period = std::chrono::seconds(10);
  duration first_load_repeat = std::chrono::seconds(5);
  duration session_steal = std::chrono::seconds(40);
  duration assume_dead = std::chrono::seconds(630);
  duration start_session_timeout = std::chrono::seconds(120);
  std::size_t critical_state_error_count = 5;
  duration critical_state_error_expire = std::chrono::seconds(120);
  duration critical_state_expire = std::chrono::seconds(120);
  std::size_t max_message_queue = 1000;
  // profilestore's own.
  duration node_heartbeat = std::chrono::seconds(2);
  duration node_lease = std::chrono::seconds(10);
  duration store_request_timeout = std::chrono::seconds(30);

  // Sets the constant called `name` (the originals' spelling, e.g.
  // "AUTO_SAVE_PERIOD"). Durations are in seconds (fractions allowed, at
  // least 1 ms); counts must be whole and at least 1. Unknown names and
  // out-of-range values are invalid_argument errors that change nothing.
  result<void> set(std::string_view name, double value);

  // The value of `name` in the unit set() takes; an error for unknown names.
  result<double> get(std::string_view name) const;
};

} // namespace profilestore
