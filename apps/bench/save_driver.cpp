// The save-throughput drivers (save_driver.hpp).
#include "save_driver.hpp"

#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "profiles.hpp"
#include "profilestore/actors/messages.hpp"
#include "profilestore/actors/profile_context.hpp"
#include "profilestore/actors/errors.hpp"

namespace profilestore::bench {
namespace {

struct driver_state {
  std::vector<caf::actor> profiles;
  std::shared_ptr<save_shared> shared;
  context_fn bump;
  static inline const char* name = "bench.save_driver";
};

using driver_actor = caf::stateful_actor<driver_state>;

void note_error(save_shared& s, const caf::error& e) {
  if (s.errors.fetch_add(1) == 0) {
    std::lock_guard<std::mutex> guard(s.mutex);
    s.first_error = from_caf_error(e).to_string();
  }
}

// One cycle for profile i: (update,) save; on the save's reply, the next one.
// The requests carry no CAF timeout: CAF 0.17 keeps every request timeout in
// its clock thread until it expires, answered or not, so 60 s timeouts at
// tens of thousands of saves per second would fill the clock with millions
// of entries and measure CAF's clock rather than profilestore. The run is
// bounded instead by the scenario's watchdog and wait_until limits.
void cycle(driver_actor* self, std::size_t i) {
  auto& st = self->state;
  auto& s = *st.shared;
  if (s.stop.load(std::memory_order_relaxed)) {
    s.in_flight.fetch_sub(1);
    return;
  }
  const auto& target = st.profiles[i];
  // The update is a plain send, as game code changes a profile's data
  // without waiting: the save request behind it in the profile's mailbox
  // sees the change (one sender's messages arrive in order). Its empty
  // result sends nothing back; an error comes back as a message to the
  // driver's error handler. (Not anon_send: without a sender's execution
  // unit CAF schedules the woken profile through the scheduler's shared
  // queue, measured slower than this request cycle with a reply.)
  if (s.update)
    self->send(target, update_atom::value, st.bump);
  self->request(target, caf::infinite, save_atom::value)
    .then(
      [self, i] {
        self->state.shared->saves.fetch_add(1, std::memory_order_relaxed);
        cycle(self, i);
      },
      [self, i](caf::error& e) {
        note_error(*self->state.shared, e);
        cycle(self, i);
      });
}

caf::behavior save_driver(driver_actor* self, std::vector<caf::actor> profiles,
                          std::shared_ptr<save_shared> shared) {
  auto& st = self->state;
  st.profiles = std::move(profiles);
  st.shared = std::move(shared);
  // An update's failure (it has no reply to carry it).
  self->set_error_handler(
    [self](caf::error& e) { note_error(*self->state.shared, e); });
  st.bump = [](profile_context& c) {
    if (auto* p = c.data_as<sample_profile>())
      p->coins++;
  };
  st.shared->in_flight.fetch_add(static_cast<std::int64_t>(st.profiles.size()));
  for (std::size_t i = 0; i < st.profiles.size(); ++i)
    cycle(self, i);
  return {}; // ends after the last reply once stop is set
}

} // namespace

std::vector<caf::actor> spawn_save_drivers(caf::actor_system& sys,
                                           const std::vector<caf::actor>& profiles,
                                           std::size_t drivers,
                                           std::shared_ptr<save_shared> shared) {
  std::vector<caf::actor> handles;
  for (std::size_t d = 0; d < drivers; ++d) {
    std::vector<caf::actor> mine;
    for (std::size_t i = d; i < profiles.size(); i += drivers)
      mine.push_back(profiles[i]);
    handles.push_back(sys.spawn(save_driver, std::move(mine), shared));
  }
  return handles;
}

} // namespace profilestore::bench
