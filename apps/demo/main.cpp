// profilestore-demo: a small cluster on 127.0.0.1 (one storage node and three
// game node processes, LMDB in a temporary folder) with simulated players
// joining, leaving, hopping between game nodes, trading items and receiving
// gifts; then a summary and the invariant checks (invariants.hpp). Exits 1
// when an invariant fails.
//
//   profilestore-demo [--seconds S] [--players N] [--nodes N] [--db DIR]
//                     [--kill] [--kill-every S] [--seed N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cluster_runner.hpp"
#include "invariants.hpp"
#include "profilestore/actors/cluster.hpp"
#include "simulation.hpp"

using namespace profilestore;
using namespace profilestore::demo;
namespace fs = std::filesystem;

namespace {

struct demo_options {
  sim_options sim;
  std::size_t nodes = 3;
  std::string db; // empty: a temporary folder, removed at the end
};

int usage(const std::string& problem) {
  if (!problem.empty())
    std::cerr << "profilestore-demo: " << problem << "\n";
  std::cerr << "usage: profilestore-demo [--seconds S] [--players N] "
               "[--nodes N] [--db DIR] [--kill] [--kill-every S] [--seed N]\n";
  return problem.empty() ? 0 : 2;
}

double quantile(std::vector<double> xs, double q) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<std::size_t>(q * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

const char* mark(bool ok) { return ok ? "ok" : "FAILED"; }

} // namespace

int main(int argc, char** argv) {
  demo_options o;
  o.sim.seed = std::random_device{}();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--seconds")
        o.sim.seconds = std::stod(value());
      else if (a == "--players")
        o.sim.players = std::stoul(value());
      else if (a == "--nodes")
        o.nodes = std::stoul(value());
      else if (a == "--db")
        o.db = value();
      else if (a == "--kill")
        o.sim.kill = true;
      else if (a == "--kill-every")
        o.sim.kill_every = std::stod(value());
      else if (a == "--seed")
        o.sim.seed = std::stoull(value());
      else if (a == "--help" || a == "-h")
        return usage("");
      else
        return usage("unknown option " + a);
    } catch (const std::exception& e) {
      return usage(std::string("bad value: ") + e.what());
    }
  }
  if (o.nodes < 1 || o.nodes > 16 || o.sim.players < 2 || o.sim.seconds <= 0)
    return usage("--nodes must be 1..16, --players at least 2, --seconds > 0");

  bool temporary = o.db.empty();
  if (temporary)
    o.db = (fs::temp_directory_path()
            / ("profilestore-demo-" + std::to_string(o.sim.seed)))
             .string();
  std::error_code ec;
  fs::create_directories(o.db, ec);

  caf::actor_system_config cfg;
  add_cluster_types(cfg);
  caf::actor_system sys{cfg};
  cluster_options co;
  co.node_binary = node_app::find_node_binary();
  if (co.node_binary.empty()) {
    std::cerr << "profilestore-demo: profilestore-node not found next to "
                 "this binary\n";
    return 1;
  }
  co.db = o.db;
  co.game_nodes = o.nodes;
  co.game_flags = {"--set", "NODE_HEARTBEAT=0.5", "--set", "NODE_LEASE=3",
                   "--set", "START_SESSION_TIMEOUT=8"};
  std::printf("profilestore-demo: %zu game nodes, %zu players, %.0f s%s, "
              "seed %llu, data in %s\n",
              o.nodes, o.sim.players, o.sim.seconds,
              o.sim.kill ? ", killing game nodes" : "",
              static_cast<unsigned long long>(o.sim.seed), o.db.c_str());
  std::fflush(stdout);

  std::vector<player> players;
  sim_stats stats;
  check_result checks;
  bool stopped_cleanly = false;
  {
    cluster_runner cluster(sys, co);
    if (auto up = cluster.start(); !up) {
      std::cerr << "profilestore-demo: " << up.err().message() << "\n";
      return 1;
    }
    for (std::size_t i = 0; i < cluster.size(); ++i)
      if (auto ok = open_store(sys, cluster, i); !ok) {
        std::cerr << "profilestore-demo: " << ok.err().message() << "\n";
        return 1;
      }
    for (std::size_t i = 0; i < o.sim.players; ++i)
      players.push_back(player{"player-" + std::to_string(i + 1)});
    run_players(sys, cluster, o.sim, players, stats);
    stopped_cleanly = cluster.stop_all();
  }
  checks = check_storage(o.db, players, stats);

  std::printf("\n%-34s %12s\n", "sessions started (joins)",
              std::to_string(stats.joins).c_str());
  std::printf("%-34s %12zu\n", "joins that failed", stats.join_failures);
  std::printf("%-34s %12zu\n", "sessions ended (leaves)", stats.leaves);
  std::printf("%-34s %12zu  p50 %.2f ms, p99 %.2f ms\n",
              "handoffs between game nodes", stats.handoffs,
              quantile(stats.handoff_ms, 0.5), quantile(stats.handoff_ms, 0.99));
  std::printf("%-34s %12zu\n", "handoffs that failed", stats.handoff_failures);
  std::printf("%-34s %12zu\n", "explicit saves", stats.saves);
  std::printf("%-34s %12zu  (%zu refused: not enough items, %zu failed)\n",
              "trades (transact)", stats.trades, stats.trades_refused,
              stats.trade_failures);
  std::printf("%-34s %12zu  (%lld items; %zu failed)\n", "gifts sent",
              stats.gifts, static_cast<long long>(stats.gift_items),
              stats.gift_failures);
  std::printf("%-34s %12lld\n", "gift items still queued",
              static_cast<long long>(checks.queued_gifts));
  std::printf("%-34s %12zu  (%zu restarted)\n", "game nodes killed (kill -9)",
              stats.kills, stats.restarts);
  std::printf("%-34s %12s\n", "nodes stopped cleanly",
              stopped_cleanly ? "yes" : "no");
  std::printf("\ninvariants\n");
  std::printf("  %-44s %s  (%zu profiles)\n", "every profile loads",
              mark(checks.all_load), checks.profiles);
  std::printf("  %-44s %s  (%lld in profiles + %lld queued, %lld expected)\n",
              "items conserved (no dupes, nothing lost)", mark(checks.conserved),
              static_cast<long long>(checks.items_total),
              static_cast<long long>(checks.queued_gifts),
              static_cast<long long>(checks.expected_total));
  std::printf("  %-44s %s  (%zu of %zu players checked exactly)\n",
              "every acknowledged change durable",
              mark(checks.acknowledged_durable), checks.checked_players,
              players.size());
  for (auto& p : checks.problems)
    std::printf("  problem: %s\n", p.c_str());
  if (temporary)
    fs::remove_all(o.db, ec);
  return checks.ok() ? 0 : 1;
}
