// Scenario "handoff": one profile moved back and forth between two game nodes.
//
// Ours: a storage node (LMDB in a temporary folder, durable sync) and two
// game nodes, each its own CAF actor system, talking over TCP on 127.0.0.1
// exactly as separate processes do (every message between them serialised).
// One profile of 1 KiB moves from one game node to the other 1,000 times
// (--quick: 100): each move is a start_session on the node that does not own
// it, timed from the call to the usable profile (the blocking facade's
// return): the storage writes the request, tells the owner, the owner's
// final save hands the lock over, storage tells the requester, which takes
// it. Retry periods are set far beyond the run, so only that path counts.
// Baseline (same run): one durable LMDB commit of the same size (p50).
// Targets: p50 <= 5 ms, p99 <= 20 ms.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "bench.hpp"
#include "profiles.hpp"
#include "profilestore/actors/cluster.hpp"
#include "profilestore/actors/node.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "runtime.hpp"

namespace profilestore::bench {
namespace {

struct system_with_cluster {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  system_with_cluster() {
    add_cluster_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

[[noreturn]] void die(const std::string& what, const error& e) {
  std::fprintf(stderr, "handoff: %s: %s\n", what.c_str(), e.to_string().c_str());
  std::exit(1);
}

std::vector<figure> run(const options& opts) {
  const std::size_t moves = opts.quick ? 100 : 1000;
  watchdog guard("handoff", std::chrono::seconds(600));
  sample_profile tmpl = make_typed_profile(1024);
  auto commits = raw_lmdb_commit_latencies_ms(opts.quick ? 50 : 200,
                                              encode_typed(tmpl));
  double commit_ms = quantile(commits, 0.5);

  std::vector<double> latencies;
  {
    scratch_dir dir("handoff");
    system_with_cluster storage_sys;
    lmdb_options lo;
    lo.path = dir.path();
    auto b = lmdb_backend::open(lo);
    if (!b)
      die("open lmdb", b.err());
    auto storage = spawn_store_actors(*storage_sys.sys,
                                      std::shared_ptr<backend>(std::move(*b)));
    auto port = publish_storage(*storage_sys.sys, storage, "127.0.0.1", 0);
    if (!port)
      die("publish storage", port.err());

    struct game {
      system_with_cluster s;
      store_actors remote;
      std::unique_ptr<node> n;
    };
    std::vector<std::unique_ptr<game>> games;
    for (const char* name : {"bench-game-a", "bench-game-b"}) {
      auto g = std::make_unique<game>();
      remote_storage_options ro;
      ro.shards = {endpoint{"127.0.0.1", *port}};
      ro.node_name = name;
      ro.incarnation = 1;
      g->remote = connect_storage(*g->s.sys, ro);
      auto up = wait_connected(*g->s.sys, g->remote, std::chrono::seconds(10));
      if (!up)
        die("connect", up.err());
      node_config nc;
      nc.name = name;
      nc.incarnation = 1;
      nc.consts = bench_constants();
      g->n = std::make_unique<node>(*g->s.sys, g->remote, nc);
      games.push_back(std::move(g));
    }
    std::vector<store<sample_profile>> stores;
    for (auto& g : games) {
      auto st = g->n->open<sample_profile>("bench", tmpl);
      if (!st)
        die("open store", st.err());
      stores.push_back(*st);
    }
    auto first = stores[0].start_session("mover");
    if (!first)
      die("first start", first.err());
    for (std::size_t i = 1; i <= moves; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto p = stores[i % 2].start_session("mover");
      auto t1 = std::chrono::steady_clock::now();
      if (!p)
        die("move " + std::to_string(i), p.err());
      latencies.push_back(
        std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    for (auto& g : games)
      (void) g->n->shutdown(std::chrono::seconds(30));
    for (auto& g : games) {
      g->n.reset();
      g->remote.stop();
      g->s.sys.reset();
    }
    storage.stop();
  }
  double p50 = quantile(latencies, 0.5);
  double p99 = quantile(latencies, 0.99);
  std::fprintf(stderr,
               "handoff: %zu moves, p50 %.3f ms, p99 %.3f ms, max %.3f ms; "
               "raw durable commit p50 %.3f ms\n",
               moves, p50, p99, quantile(latencies, 1.0), commit_ms);
  std::vector<figure> out{
    limit_figure("handoff p50 (request to usable profile)", "ms", p50,
                 "raw LMDB durable commit p50", commit_ms, 5.0),
    limit_figure("handoff p99 (request to usable profile)", "ms", p99,
                 "raw LMDB durable commit p50", commit_ms, 20.0)};
  out.back().distributions = {{"handoff", "ms", latencies},
                              {"raw LMDB durable commit", "ms", commits}};
  return out;
}

registrar reg("handoff",
              "one profile moved 1,000 times between two game nodes over "
              "loopback; p50/p99 request to usable profile",
              run);

} // namespace
} // namespace profilestore::bench
