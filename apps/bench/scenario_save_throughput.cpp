// Scenario "save-throughput": how many durable saves per second one node
// sustains when every active profile saves as fast as it can.
//
// Ours: 10,000 active profiles (typed, about 1 KiB encoded) on one node whose
// storage is an LMDB environment in a temporary folder with default
// (durable) sync. Driver actors keep exactly one request cycle in flight per
// profile: a small update (coins + 1, so each save writes changed data),
// sent without a reply, followed by a save request; the save's reply means
// the data is durable, and the driver then starts the next cycle of that
// profile. After a warm-up, the saves answered during a fixed window are
// counted.
// Baseline (same run): raw LMDB puts of values of the same size, keys
// distinct within each transaction (the same 10,000 keys overwritten in key
// order), 1,000 puts per durable transaction. Target: ours >= 50 % of raw.
// For reference, a second figure sets ours beside the same puts over the
// keys in one fixed random order (seed in the code), the order in which
// independent players' saves reach storage.
//
// Parameters: --param profiles=N, drivers=N (default profiles/100),
// seconds=S, update=0|1; threads=N, policy=stealing|sharing (runtime.hpp).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "bench.hpp"
#include "profiles.hpp"
#include "runtime.hpp"

namespace profilestore::bench {
namespace {

struct save_shared {
  std::atomic<std::uint64_t> saves{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<bool> stop{false};
  std::mutex mutex; // guards first_error
  std::string first_error;
  bool update = true;
};

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
// bounded instead by the watchdog and by wait_until's limit below.
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

std::size_t param(const options& opts, const char* name, std::size_t dflt) {
  auto i = opts.params.find(name);
  return i == opts.params.end() ? dflt : std::stoul(i->second);
}

std::vector<figure> run(const options& opts) {
  const std::size_t profiles = param(opts, "profiles", opts.quick ? 1'000 : 10'000);
  // About 100 profiles per driver: CAF 0.17 cancels a request's timeout with
  // a linear scan over the requester's pending timeouts, so one driver with
  // thousands of requests in flight would measure CAF's clock, not ours.
  const std::size_t drivers = std::max<std::size_t>(
    1, param(opts, "drivers", std::max<std::size_t>(1, profiles / 100)));
  const double seconds = static_cast<double>(
    param(opts, "seconds", opts.quick ? 1 : 5));
  const bool update = param(opts, "update", 1) != 0;
  const auto warmup = std::chrono::milliseconds(opts.quick ? 300 : 1000);
  watchdog guard("save-throughput", std::chrono::seconds(600));

  sample_profile tmpl = make_typed_profile(1024);
  const std::string data = encode_typed(tmpl);

  // Baselines first: raw LMDB, 1,000 puts per durable transaction, over
  // the keys in order (the target's baseline), and over the same keys in
  // a fixed random order, as the saves of independent players arrive: each
  // batch then dirties pages all over the tree, as ours do.
  const std::size_t raw_total = opts.quick ? 20'000 : 200'000;
  raw_write_cost raw_cost, raw_shuffled_cost;
  double raw = raw_lmdb_batch_rate(profiles, 1000, raw_total, data, 0,
                                   &raw_cost);
  constexpr std::uint64_t shuffle_seed = 20261130;
  double raw_shuffled = raw_lmdb_batch_rate(
    profiles, 1000, raw_total, data, shuffle_seed, &raw_shuffled_cost);

  double ours = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  double measured_s = 0;
  std::uint64_t counted = 0;
  std::uint64_t commits = 0;
  double cpu_s = 0;
  write_counters written; // what LMDB's commits wrote in the window
  {
    scratch_dir dir("saves");
    bench_config cfg(opts);
    caf::actor_system sys{cfg};
    lmdb_runtime rt(sys, dir.path());
    auto store = rt.get_node().open<sample_profile>("bench", tmpl);
    if (!store)
      die("open store: " + store.err().to_string());

    std::vector<std::string> keys;
    for (std::size_t i = 0; i < profiles; ++i)
      keys.push_back(bench_key("player", i));
    auto started = start_sessions(sys, rt.get_node().actor(), store->spec(),
                                  keys, 1000, std::chrono::seconds(120));
    if (started.errors > 0)
      die("start_session: " + std::to_string(started.errors)
          + " failed, first: " + started.first_error);
    std::fprintf(stderr, "save-throughput: %zu sessions started in %.2f s\n",
                 profiles, started.elapsed_s);

    auto shared = std::make_shared<save_shared>();
    shared->update = update;
    std::vector<caf::actor> driver_handles;
    for (std::size_t d = 0; d < drivers; ++d) {
      std::vector<caf::actor> mine;
      for (std::size_t i = d; i < profiles; i += drivers)
        mine.push_back(started.handles[i].actor);
      driver_handles.push_back(sys.spawn(save_driver, std::move(mine), shared));
    }
    std::this_thread::sleep_for(warmup);
    auto c0 = shared->saves.load();
    auto k0 = backend_commits(rt);
    auto cpu0 = process_cpu_seconds();
    const auto w0 = process_writes();
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    auto c1 = shared->saves.load();
    auto k1 = backend_commits(rt);
    cpu_s = process_cpu_seconds() - cpu0;
    const auto w1 = process_writes();
    written = {w1.bytes - w0.bytes, w1.calls - w0.calls};
    auto t1 = std::chrono::steady_clock::now();
    commits = k1 - k0;
    shared->stop = true;
    wait_until([&] { return shared->in_flight.load() == 0; },
               std::chrono::seconds(60), "the last saves in flight");
    counted = c1 - c0;
    measured_s = std::chrono::duration<double>(t1 - t0).count();
    ours = static_cast<double>(counted) / measured_s;
    errors = shared->errors.load();
    first_error = shared->first_error;
    driver_handles.clear();
    started.handles.clear();
    auto stopped = rt.stop(std::chrono::seconds(60));
    if (!stopped)
      die("shutdown: " + stopped.err().to_string());
  }
  std::fprintf(stderr,
               "save-throughput: %zu profiles (%zu B data), %zu drivers, "
               "update %s: %llu saves in %.2f s (%llu commits, %.0f saves "
               "per commit, %.2f s CPU); %llu errors%s%s\n",
               profiles, data.size(), drivers, update ? "on" : "off",
               static_cast<unsigned long long>(counted), measured_s,
               static_cast<unsigned long long>(commits),
               commits ? static_cast<double>(counted) / static_cast<double>(commits) : 0.0,
               cpu_s,
               static_cast<unsigned long long>(errors),
               errors ? ", first: " : "", first_error.c_str());
  // How much each write costs the disk, and in how many pieces: a save
  // rewrites its key's version entry (and, when it appends a version, its
  // head entry) in B-trees ordered by key, so the saves of independent
  // profiles dirty pages all over them, and LMDB writes each run of
  // adjacent dirty pages with its own write call; in-order puts dirty long
  // runs, written in few calls.
  const double per_save = counted ? 1.0 / static_cast<double>(counted) : 0.0;
  std::fprintf(stderr,
               "save-throughput: per save %.0f B in %.3f write calls; per raw "
               "put %.0f B in %.3f calls in key order, %.0f B in %.3f calls "
               "shuffled\n",
               static_cast<double>(written.bytes) * per_save,
               static_cast<double>(written.calls) * per_save,
               raw_cost.bytes_per_put, raw_cost.calls_per_put,
               raw_shuffled_cost.bytes_per_put, raw_shuffled_cost.calls_per_put);
  if (errors > 0)
    die("save-throughput: saves failed");
  const std::string name = "durable saves, " + std::to_string(profiles)
                           + " profiles";
  return {rate_figure(name, "ops/s", ours, "raw LMDB puts, batch 1000", raw,
                      0.5),
          rate_figure(name + " (vs shuffled keys)", "ops/s", ours,
                      "raw LMDB puts, batch 1000, shuffled keys",
                      raw_shuffled, -1)};
}

registrar reg("save-throughput",
              "durable saves/s of 10,000 active 1 KiB profiles on one node "
              "(LMDB) vs raw LMDB puts in batches of 1,000",
              run);

} // namespace
} // namespace profilestore::bench
