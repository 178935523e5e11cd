// The save-throughput drivers: actors that keep exactly one cycle in flight
// per profile (a small update sent without a reply, then a save request;
// the save's reply starts the profile's next cycle) and count the saves
// answered. Shared by the scenario's measured run and by its ceiling run
// (save_ceiling.hpp), which drive different actors with the same messages.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace profilestore::bench {

// What the drivers of one run count and share with the thread that measures.
struct save_shared {
  std::atomic<std::uint64_t> saves{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::int64_t> in_flight{0}; // profiles with a cycle running
  std::atomic<bool> stop{false};          // drivers start no new cycle
  std::mutex mutex;                       // guards first_error
  std::string first_error;
  bool update = true; // send the update before each save
};

// Spawns `drivers` drivers over `profiles` (profile i goes to driver
// i % drivers), each starting one cycle per profile at once. The
// profiles must answer (update_atom, context_fn) and (save_atom) as a
// profile actor does (messages.hpp). After `shared->stop` is set, the
// drivers end as the last cycles answer; `in_flight` reaches 0.
std::vector<caf::actor> spawn_save_drivers(caf::actor_system& sys,
                                           const std::vector<caf::actor>& profiles,
                                           std::size_t drivers,
                                           std::shared_ptr<save_shared> shared);

} // namespace profilestore::bench
