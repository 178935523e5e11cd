// Scenario "session-start": latency of many concurrent session starts.
//
// Ours: a burst of 1,000 start_session requests for new keys, all sent at
// once by one event-based actor with request(...).then(...) to the node
// actor of a node on LMDB (temporary folder, durable sync). Each request is
// timed from its send to its reply, the profile handle: the profile is
// usable then (the lock is durable and the profile actor runs). The stores'
// template is a 1 KiB typed profile, so each new profile writes about 1 KiB.
// One untimed warm-up burst, then 3 measured bursts of fresh keys (--quick:
// one); each burst's sessions are ended (end_session from actor code) before
// the next, so every burst meets the same node. p50 and p99 are over all
// measured requests. --param background=N keeps N more sessions idle and
// active during the bursts (a busy server).
// Baseline (same run): the latency of one durable LMDB commit, the median of
// 200 transactions of one put of the same size each. Target: p99 <= 10 ms.
// Each burst's line on stderr also gives its commits, the process's CPU time,
// the bytes the process wrote per start (/proc/self/io): about 2,250 B
// for a record of about 1.2 KiB, because LMDB's leaf pages end up holding
// two of its 1,290 B version entries each (docs/performance.md,
// session-start), and the write calls of the whole burst (LMDB makes one
// per run of adjacent dirty pages; a burst of new keys writes few long
// runs).
//
// Parameters: --param starts=N (per burst), bursts=N, background=N;
// threads=N, policy=stealing|sharing (runtime.hpp).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "profiles.hpp"
#include "runtime.hpp"

namespace profilestore::bench {
namespace {

constexpr double max_p99_ms = 10.0;

std::size_t param(const options& opts, const char* name, std::size_t dflt) {
  auto i = opts.params.find(name);
  return i == opts.params.end() ? dflt : std::stoul(i->second);
}

std::vector<figure> run(const options& opts) {
  const std::size_t starts = param(opts, "starts", 1000);
  const std::size_t bursts
    = std::max<std::size_t>(1, param(opts, "bursts", opts.quick ? 1 : 3));
  const std::size_t background = param(opts, "background", 0);
  watchdog guard("session-start", std::chrono::seconds(300));

  sample_profile tmpl = make_typed_profile(1024);
  const std::string data = encode_typed(tmpl);

  auto commits = raw_lmdb_commit_latencies_ms(opts.quick ? 50 : 200, data);
  double commit_ms = quantile(commits, 0.5);

  std::vector<double> all;
  {
    scratch_dir dir("starts");
    bench_config cfg(opts);
    caf::actor_system sys{cfg};
    lmdb_runtime rt(sys, dir.path());
    auto store = rt.get_node().open<sample_profile>("bench", tmpl);
    if (!store)
      die("open store: " + store.err().to_string());
    auto burst = [&](const std::string& prefix, std::size_t count,
                     std::size_t window) {
      std::vector<std::string> keys;
      for (std::size_t i = 0; i < count; ++i)
        keys.push_back(bench_key(prefix, i));
      auto r = start_sessions(sys, rt.get_node().actor(), store->spec(), keys,
                              window, std::chrono::seconds(120));
      if (r.errors > 0)
        die("start_session: " + std::to_string(r.errors)
            + " failed, first: " + r.first_error);
      return r;
    };
    auto end_all = [&](started_sessions& r) {
      std::vector<caf::actor> actors;
      for (auto& h : r.handles)
        actors.push_back(h.actor);
      r.handles.clear();
      if (auto failed = end_sessions(sys, actors, std::chrono::seconds(120)))
        die("end_session: " + std::to_string(failed) + " failed");
    };
    if (!opts.quick) {
      auto warm = burst("warm", starts, starts);
      std::fprintf(stderr,
                   "session-start: warm-up burst of %zu: p50 %.2f ms, p99 "
                   "%.2f ms, all answered in %.1f ms\n",
                   starts, quantile(warm.latency_ms, 0.5),
                   quantile(warm.latency_ms, 0.99), warm.elapsed_s * 1e3);
      end_all(warm);
    }
    // Idle sessions that stay active during the bursts (a busy server).
    auto idle = burst("idle", background, 1000);
    for (std::size_t b = 0; b < bursts; ++b) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      auto c0 = backend_commits(rt);
      auto cpu0 = process_cpu_seconds();
      const auto written0 = process_writes();
      auto r = burst("burst" + std::to_string(b), starts, starts);
      auto c1 = backend_commits(rt);
      auto cpu = process_cpu_seconds() - cpu0;
      const auto written1 = process_writes();
      std::fprintf(stderr,
                   "session-start: burst %zu of %zu starts beside %zu active: "
                   "min %.2f ms, p50 %.2f ms, p99 %.2f ms, max %.2f ms, all "
                   "answered in %.1f ms, %llu commits, %.1f ms CPU, %.0f B written "
                   "per start, %llu write calls in the burst\n",
                   b + 1, starts, background, quantile(r.latency_ms, 0.0),
                   quantile(r.latency_ms, 0.5), quantile(r.latency_ms, 0.99),
                   quantile(r.latency_ms, 1.0), r.elapsed_s * 1e3,
                   static_cast<unsigned long long>(c1 - c0), cpu * 1e3,
                   static_cast<double>(written1.bytes - written0.bytes)
                     / static_cast<double>(starts),
                   static_cast<unsigned long long>(written1.calls
                                                   - written0.calls));
      all.insert(all.end(), r.latency_ms.begin(), r.latency_ms.end());
      end_all(r);
    }
    auto stopped = rt.stop(std::chrono::seconds(60));
    if (!stopped)
      die("shutdown: " + stopped.err().to_string());
  }
  std::fprintf(stderr,
               "session-start: raw durable commit (1 put): p50 %.3f ms, p99 "
               "%.3f ms over %zu commits\n",
               commit_ms, quantile(commits, 0.99), commits.size());
  std::string label = std::to_string(starts) + " concurrent starts";
  std::vector<figure> out{
    rate_figure("start_session p50, " + label, "ms", quantile(all, 0.5),
                "raw LMDB durable commit p50", commit_ms, -1),
    limit_figure("start_session p99, " + label, "ms", quantile(all, 0.99),
                 "raw LMDB durable commit p50", commit_ms, max_p99_ms),
  };
  // Every latency, for the report's distribution chart.
  out.back().distributions = {{"start_session, " + label, "ms", all},
                              {"raw LMDB durable commit", "ms", commits}};
  return out;
}

registrar reg("session-start",
              "p50/p99 latency of 1,000 concurrent start_session of new keys "
              "(LMDB) vs one durable LMDB commit",
              run);

} // namespace
} // namespace profilestore::bench
