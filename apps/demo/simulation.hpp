// The demo's players: join, leave, hop between game nodes, trade items with
// players on the same node (transact), send gifts to offline players
// (messages). Every change of items is recorded only when the cluster
// acknowledged it, so the checks afterwards (invariants.hpp) compare storage
// against what was promised.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cluster_runner.hpp"

namespace profilestore::demo {

inline constexpr std::int64_t starting_items = 100;

struct player {
  std::string key;
  int node = -1;             // the game node holding the session, -1: offline
  bool created = false;      // its profile exists (joined at least once)
  std::int64_t expected = 0; // items promised by acknowledged operations
  // An operation on this player failed without a clear outcome (e.g. its
  // node was killed mid-call): its exact count is not checked, only the
  // cluster-wide totals.
  bool uncertain = false;
};

struct sim_stats {
  std::size_t joins = 0, join_failures = 0, leaves = 0;
  std::size_t handoffs = 0, handoff_failures = 0;
  std::vector<double> handoff_ms;
  std::size_t saves = 0, trades = 0, trades_refused = 0, trade_failures = 0;
  std::size_t gifts = 0, gift_failures = 0;
  std::int64_t gift_items = 0;           // acknowledged
  std::int64_t uncertain_gift_items = 0; // sent, outcome unknown
  std::size_t kills = 0, restarts = 0;
};

struct sim_options {
  double seconds = 20;
  std::size_t players = 40;
  bool kill = false;
  double kill_every = 4; // seconds
  std::uint64_t seed = 0;
};

// Runs the players against `cluster` (whose store "players" is opened on
// every game node) for `seconds`.
void run_players(caf::actor_system& sys, cluster_runner& cluster,
                 const sim_options& options, std::vector<player>& players,
                 sim_stats& stats);

// Opens the demo's store on game node `i` (after a start or a restart).
result<void> open_store(caf::actor_system& sys, cluster_runner& cluster,
                        std::size_t i);

} // namespace profilestore::demo
