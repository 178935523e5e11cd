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
// independent players' saves reach storage. A third is the ceiling of ours
// on this machine (save_ceiling.hpp): the same drivers, one actor per
// profile and each save's typed encode, with no storage behind them; its
// ratio to the raw puts bounds what ours can reach.
//
// Parameters: --param profiles=N, drivers=N (default profiles/100),
// seconds=S, update=0|1; threads=N, policy=stealing|sharing (runtime.hpp).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "profiles.hpp"
#include "runtime.hpp"
#include "save_ceiling.hpp"
#include "save_driver.hpp"

namespace profilestore::bench {
namespace {

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
    std::vector<caf::actor> profile_actors;
    for (const auto& h : started.handles)
      profile_actors.push_back(h.actor);
    auto driver_handles = spawn_save_drivers(sys, profile_actors, drivers,
                                             shared);
    profile_actors.clear();
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

  // The ceiling (save_ceiling.hpp), in a fresh actor system after ours has
  // ended: the same drivers, actors and messages, with each save's typed
  // encode, and no storage.
  ceiling_run ceiling_params;
  ceiling_params.profiles = profiles;
  ceiling_params.drivers = drivers;
  ceiling_params.update = update;
  ceiling_params.warmup = warmup;
  ceiling_params.seconds = seconds;
  const double ceiling = ceiling_saves_rate(opts, tmpl, ceiling_params);
  std::fprintf(stderr,
               "save-throughput: ceiling (the same actors, messages and "
               "encode, no storage): %.0f saves/s; ours is %.0f %% of it\n",
               ceiling, ceiling > 0 ? 100.0 * ours / ceiling : 0.0);
  const std::string name = "durable saves, " + std::to_string(profiles)
                           + " profiles";
  return {rate_figure(name, "ops/s", ours, "raw LMDB puts, batch 1000", raw,
                      0.5),
          rate_figure(name + " (vs shuffled keys)", "ops/s", ours,
                      "raw LMDB puts, batch 1000, shuffled keys",
                      raw_shuffled, -1),
          rate_figure("ceiling: same actors and encode, no storage", "ops/s",
                      ceiling, "raw LMDB puts, batch 1000", raw, -1)};
}

registrar reg("save-throughput",
              "durable saves/s of 10,000 active 1 KiB profiles on one node "
              "(LMDB) vs raw LMDB puts in batches of 1,000",
              run);

} // namespace
} // namespace profilestore::bench
