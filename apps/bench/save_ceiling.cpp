// The ceiling of save-throughput (save_ceiling.hpp).
#include "save_ceiling.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "profilestore/actors/messages.hpp"
#include "runtime.hpp"
#include "save_driver.hpp"

namespace profilestore::bench {
namespace {

using encoded_atom = caf::atom_constant<caf::atom("b_encoded")>;

struct echo_state {
  std::vector<caf::response_promise> pending;
  static inline const char* name = "bench.echo_writer";
};

// The writer's stand-in: answers the saves it has received in groups, as
// the store writer answers a commit's. Whenever its mailbox is empty it
// waits a millisecond, for more saves to queue behind it, and then answers
// every save received. Answering each save at once instead would leave
// it blocked on an empty mailbox nearly all the time, and the worker would
// wake its thread (a system call) for every save. In perf of a stand-alone
// copy of this scenario, 14 % of all samples (about a fifth of the worker
// thread's) sat in the kernel under the worker, and grouping the answers
// raised the rate; the real writer, busy with its commits, mostly spares
// the worker that cost too.
caf::behavior echo_writer(caf::stateful_actor<echo_state>* self) {
  return {[self](encoded_atom, const std::string&) -> caf::result<void> {
    auto rp = self->make_response_promise();
    self->state.pending.push_back(rp);
    if (self->mailbox().empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      for (auto& p : self->state.pending)
        p.deliver(caf::unit);
      self->state.pending.clear();
    }
    return rp;
  }};
}

struct stand_in_state {
  sample_profile data;
  std::size_t last_size = 0; // reserved before the next encoding, as a profile does
  static inline const char* name = "bench.stand_in_profile";
};

using stand_in_actor = caf::stateful_actor<stand_in_state>;

caf::behavior stand_in_profile(stand_in_actor* self, sample_profile data,
                               caf::actor writer) {
  self->state.data = std::move(data);
  return {
    [self](update_atom, const context_fn&) { self->state.data.coins++; },
    [self, writer](save_atom) -> caf::result<void> {
      auto& st = self->state;
      std::string bytes;
      encode_typed(st.data, bytes, st.last_size);
      st.last_size = bytes.size();
      auto rp = self->make_response_promise();
      self->request(writer, caf::infinite, encoded_atom::value, std::move(bytes))
        .then([rp]() mutable { rp.deliver(caf::unit); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    }};
}

} // namespace

double ceiling_saves_rate(const options& opts, const sample_profile& tmpl,
                          const ceiling_run& run) {
  bench_config cfg(opts);
  caf::actor_system sys{cfg};
  auto writer = sys.spawn<caf::detached>(echo_writer);
  std::vector<caf::actor> profiles;
  profiles.reserve(run.profiles);
  for (std::size_t i = 0; i < run.profiles; ++i)
    profiles.push_back(sys.spawn(stand_in_profile, tmpl, writer));
  auto shared = std::make_shared<save_shared>();
  shared->update = run.update;
  auto drivers = spawn_save_drivers(sys, profiles, run.drivers, shared);
  std::this_thread::sleep_for(run.warmup);
  const auto c0 = shared->saves.load();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(run.seconds));
  const auto c1 = shared->saves.load();
  const auto t1 = std::chrono::steady_clock::now();
  shared->stop = true;
  wait_until([&] { return shared->in_flight.load() == 0; },
             std::chrono::seconds(60), "the ceiling run's last saves");
  if (shared->errors.load() > 0)
    die("save-throughput ceiling: saves failed, first: " + shared->first_error);
  for (auto& p : profiles)
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  profiles.clear();
  drivers.clear();
  writer = nullptr;
  wait_until([&] { return sys.registry().running() == 0; },
             std::chrono::seconds(60), "the ceiling run's actors to end");
  return static_cast<double>(c1 - c0)
         / std::chrono::duration<double>(t1 - t0).count();
}

} // namespace profilestore::bench
