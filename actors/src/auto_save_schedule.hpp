// auto_save_schedule: when each of a node's profiles auto-saves next, kept
// by the node actor, so that the whole node needs one CAF timer (for the
// earliest due save) instead of one per profile.
//
// Why: a CAF 0.17 delayed message costs a clock entry, a mailbox element
// and a map node (about 230 B) per profile, and 100,000 idle profiles pay
// that all the time. Here a profile costs one slot and one heap entry (about
// 40 B), and the node sends each due profile a plain tick message.
//
// Contracts:
//  - add() returns a slot id; remove(slot) forgets it. A removed slot's
//    entries left in the heap are skipped (each slot carries a generation).
//  - take_due(now, period, fn) calls fn(actor) for every profile due at or
//    before `now`, in due order, and schedules each again at now + period
//    (the period read when it fires, so a changed AUTO_SAVE_PERIOD applies
//    from each profile's next save on, as a per-profile timer would).
//  - next_due() is the earliest due time, if any profile is scheduled.
// Not thread-safe: owned by one actor's state.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>

#include "profilestore/actors/constants.hpp"

namespace profilestore {

class auto_save_schedule {
public:
  using time_point = caf::actor_clock::time_point;

  std::uint32_t add(caf::actor profile, time_point first_due);
  void remove(std::uint32_t slot);

  template <class F>
  void take_due(time_point now, duration period, F&& fn) {
    // A period of zero (possible through node_config, not set_constant)
    // would make every entry due again at once: at least 1 ms.
    period = std::max(period, duration{1});
    while (!heap_.empty() && heap_.front().due <= now) {
      entry e = pop();
      auto& s = slots_[e.slot];
      if (s.generation != e.generation || !s.actor)
        continue; // removed since
      fn(s.actor);
      push(entry{now + period, e.slot, e.generation});
    }
  }

  std::optional<time_point> next_due();

  // Profiles scheduled (live slots).
  std::size_t size() const noexcept { return slots_.size() - free_.size(); }

private:
  struct slot {
    caf::actor actor;
    std::uint32_t generation = 0;
  };
  struct entry {
    time_point due;
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
  };

  void push(entry e);
  entry pop();
  // Drops removed slots' entries from the top, so next_due() is exact.
  void skip_removed();

  std::vector<slot> slots_;
  std::vector<std::uint32_t> free_;
  std::vector<entry> heap_; // a min-heap on due
};

} // namespace profilestore
