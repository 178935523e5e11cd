// The demo's checks, on the storage folder after every node has stopped:
//  - every profile loads (its record and its Data decode);
//  - items are conserved: all items in profiles plus all gifts still queued
//    equal the starting items of every profile plus the acknowledged gifts
//    (plus, at most, the gifts whose outcome is unknown);
//  - every acknowledged change is durable: for each player whose operations
//    all had a clear outcome, stored items plus its queued gifts equal what
//    the acknowledged operations promised.
#pragma once

#include <string>
#include <vector>

#include "simulation.hpp"

namespace profilestore::demo {

struct check_result {
  bool all_load = true;
  bool conserved = true;
  bool acknowledged_durable = true;
  std::size_t profiles = 0;
  std::size_t checked_players = 0;
  std::int64_t items_total = 0;  // in profiles
  std::int64_t queued_gifts = 0; // items in gifts not yet delivered
  std::int64_t expected_total = 0;
  std::vector<std::string> problems;
  bool ok() const { return all_load && conserved && acknowledged_durable; }
};

check_result check_storage(const std::string& db,
                           const std::vector<player>& players,
                           const sim_stats& stats);

} // namespace profilestore::demo
