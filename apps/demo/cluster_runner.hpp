// The demo's cluster: one storage node and N game node processes
// (profilestore-node) on 127.0.0.1, with a client agent handle for each game
// node. A game node can be killed with SIGKILL and started again (a new
// incarnation under the same name).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "node_process.hpp"
#include "profilestore/result.hpp"

namespace profilestore::demo {

struct cluster_options {
  std::string node_binary;
  std::string db;          // the storage node's LMDB folder
  std::size_t game_nodes = 3;
  std::vector<std::string> game_flags; // extra flags for every game node
};

class cluster_runner {
public:
  cluster_runner(caf::actor_system& sys, cluster_options options);
  ~cluster_runner();

  // Starts the storage node and every game node; false with a message on
  // failure.
  result<void> start();
  std::size_t size() const noexcept { return games_.size(); }
  const caf::actor& agent(std::size_t i) const { return games_[i].agent; }
  bool alive(std::size_t i) const { return games_[i].process != nullptr; }

  void kill_game(std::size_t i);
  result<void> restart_game(std::size_t i);

  // SIGTERM to every game node (final saves), then to the storage node;
  // false when one did not exit cleanly in time.
  bool stop_all();

private:
  struct game {
    std::string name;
    std::unique_ptr<node_app::child_process> process;
    caf::actor agent;
  };
  result<void> start_game(std::size_t i);

  caf::actor_system* sys_;
  cluster_options options_;
  std::unique_ptr<node_app::child_process> storage_;
  std::string storage_address_;
  std::vector<game> games_;
};

} // namespace profilestore::demo
