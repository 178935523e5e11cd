// profile_actor: one active session. Owns the data, the hooks and message
// handlers; saves through the store writer when asked, when a message handler
// processed a message, and when the node's auto-save schedule ticks it;
// reports to the node actor. See profile_actor.cpp for the save state machine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "profilestore/actors/types.hpp"
#include "profilestore/store/record.hpp"
#include "profilestore/store/storage.hpp"
#include "shared_node_state.hpp"

namespace profilestore {

struct profile_actor_args {
  store_spec_ptr spec;
  std::string key;
  session_ref session;
  record rec;  // as stored when the session started
  key_info info;
  std::unique_ptr<profile_data> data; // null: a copy of the template
  profile_hooks hooks;
  caf::actor node;
  caf::actor writer;
  std::shared_ptr<shared_node_state> shared;
  // The storage `writer` writes to, for last_saved_data().
  std::shared_ptr<const storage> reads;
};

caf::actor spawn_profile_actor(caf::actor_system& sys,
                               std::shared_ptr<profile_actor_args> args);

// The delay before a profile's first auto-save (the node schedules
// auto-saves, see auto_save_schedule.hpp): index i of the node gets
// period * frac((i + 1) * golden ratio), a low-discrepancy sequence, so the
// saves of profiles started together (or at any times) are spread evenly
// over the period; after that each profile saves once per period.
duration first_auto_save_delay(std::uint64_t spread_index, duration period);

// Used by transactions on a lent profile (the owner actor is parked).
class profile_state;
save_op prepare_group_save(profile_context& ctx);

} // namespace profilestore
