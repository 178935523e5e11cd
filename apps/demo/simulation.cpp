#include "simulation.hpp"

#include <chrono>

#include "game_agent.hpp"
#include "profilestore/actors/node.hpp"

namespace profilestore::demo {

using namespace node_app;

namespace {

const std::string store_name = "players";
constexpr auto call_timeout = std::chrono::seconds(20);

template <class... Ts>
result<void> call(caf::actor_system& sys, const caf::actor& to, Ts&&... xs) {
  if (!to)
    return make_error(errc::unreachable, "the game node is down");
  return detail::ask_unit(sys, to, call_timeout, std::forward<Ts>(xs)...);
}

template <class T, class... Ts>
result<T> call_for(caf::actor_system& sys, const caf::actor& to, Ts&&... xs) {
  if (!to)
    return make_error(errc::unreachable, "the game node is down");
  return detail::ask<T>(sys, to, call_timeout, std::forward<Ts>(xs)...);
}

class simulation {
public:
  simulation(caf::actor_system& sys, cluster_runner& cluster,
             const sim_options& o, std::vector<player>& players,
             sim_stats& stats)
    : sys_(sys), cluster_(cluster), o_(o), players_(players), stats_(stats),
      rng_(o.seed) {}

  void run() {
    using clock = std::chrono::steady_clock;
    auto start = clock::now();
    auto last_kill = start;
    while (clock::now() - start < std::chrono::duration<double>(o_.seconds)) {
      if (o_.kill
          && clock::now() - last_kill
               >= std::chrono::duration<double>(o_.kill_every)) {
        kill_and_restart();
        last_kill = clock::now();
      }
      step();
    }
  }

private:
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

  int random_alive_node() {
    std::vector<int> alive;
    for (std::size_t i = 0; i < cluster_.size(); ++i)
      if (cluster_.alive(i))
        alive.push_back(static_cast<int>(i));
    return alive.empty() ? -1 : alive[pick(alive.size())];
  }

  void step() {
    auto& p = players_[pick(players_.size())];
    if (p.node < 0) {
      join(p);
      return;
    }
    auto r = pick(100);
    if (r < 15)
      leave(p);
    else if (r < 35)
      hop(p);
    else if (r < 70)
      trade(p);
    else if (r < 85)
      gift();
    else
      save(p);
  }

  void join(player& p) {
    int n = random_alive_node();
    if (n < 0)
      return;
    auto r = call(sys_, cluster_.agent(n), ag_start_atom::value, store_name,
                  p.key);
    if (r) {
      stats_.joins++;
      p.node = n;
      if (!p.created) {
        p.created = true;
        p.expected += starting_items;
      }
    } else {
      stats_.join_failures++;
      if (!p.created)
        p.uncertain = true; // the profile may have been created
    }
  }

  void leave(player& p) {
    auto r = call(sys_, cluster_.agent(p.node), ag_end_atom::value, store_name,
                  p.key);
    stats_.leaves += r.ok();
    p.node = -1; // ended, or its node is gone: either way not ours now
  }

  void hop(player& p) {
    if (cluster_.size() < 2)
      return;
    int to = random_alive_node();
    if (to < 0 || to == p.node)
      return;
    auto t0 = std::chrono::steady_clock::now();
    auto r = call(sys_, cluster_.agent(to), ag_start_atom::value, store_name,
                  p.key);
    auto t1 = std::chrono::steady_clock::now();
    if (r) {
      stats_.handoffs++;
      stats_.handoff_ms.push_back(
        std::chrono::duration<double, std::milli>(t1 - t0).count());
      p.node = to;
    } else {
      stats_.handoff_failures++;
      p.node = -1; // where the session is now is unknown: rejoin later
    }
  }

  void trade(player& from) {
    std::vector<player*> peers;
    for (auto& q : players_)
      if (&q != &from && q.node == from.node)
        peers.push_back(&q);
    if (peers.empty())
      return;
    auto& to = *peers[pick(peers.size())];
    std::int64_t amount = 1 + static_cast<std::int64_t>(pick(5));
    auto r = call(sys_, cluster_.agent(from.node), ag_trade_atom::value,
                  store_name, from.key, to.key, std::string("items"), amount);
    if (r) {
      stats_.trades++;
      from.expected -= amount;
      to.expected += amount;
    } else if (r.err().code() == errc::invalid_argument) {
      stats_.trades_refused++; // not enough items: nothing written
    } else {
      stats_.trade_failures++;
      from.uncertain = to.uncertain = true;
    }
  }

  void gift() {
    std::vector<player*> offline;
    for (auto& q : players_)
      if (q.node < 0)
        offline.push_back(&q);
    int via = random_alive_node();
    if (offline.empty() || via < 0)
      return;
    auto& to = *offline[pick(offline.size())];
    std::int64_t amount = 1 + static_cast<std::int64_t>(pick(3));
    auto r = call_for<std::uint64_t>(sys_, cluster_.agent(via),
                                     ag_gift_atom::value, store_name, to.key,
                                     std::string("items"), amount);
    if (r) {
      stats_.gifts++;
      stats_.gift_items += amount;
      to.expected += amount;
    } else {
      stats_.gift_failures++;
      stats_.uncertain_gift_items += amount;
      to.uncertain = true;
    }
  }

  void save(player& p) {
    auto r = call(sys_, cluster_.agent(p.node), ag_save_atom::value, store_name,
                  p.key);
    stats_.saves += r.ok();
  }

  void kill_and_restart() {
    int n = random_alive_node();
    if (n < 0)
      return;
    cluster_.kill_game(static_cast<std::size_t>(n));
    stats_.kills++;
    for (auto& p : players_)
      if (p.node == n)
        p.node = -1;
    if (cluster_.restart_game(static_cast<std::size_t>(n))
        && open_store(sys_, cluster_, static_cast<std::size_t>(n)))
      stats_.restarts++;
  }

  caf::actor_system& sys_;
  cluster_runner& cluster_;
  const sim_options& o_;
  std::vector<player>& players_;
  sim_stats& stats_;
  std::mt19937_64 rng_;
};

} // namespace

result<void> open_store(caf::actor_system& sys, cluster_runner& cluster,
                        std::size_t i) {
  return call(sys, cluster.agent(i), ag_open_atom::value, store_name,
              "{\"items\": " + std::to_string(starting_items) + "}");
}

void run_players(caf::actor_system& sys, cluster_runner& cluster,
                 const sim_options& options, std::vector<player>& players,
                 sim_stats& stats) {
  simulation(sys, cluster, options, players, stats).run();
}

} // namespace profilestore::demo
