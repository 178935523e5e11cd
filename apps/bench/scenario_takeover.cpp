// Scenario "takeover": from kill -9 of a session's owner to another game
// node holding the session.
//
// Ours: profilestore-node processes on 127.0.0.1 (a storage node and two game
// nodes, NODE_HEARTBEAT 2 s and NODE_LEASE 10 s, the defaults; --quick: 0.5 s
// and 2 s). Game node A starts a session and saves; game node B asks for the
// same key and waits (A would hand it over, so B asks only after A is gone);
// A is killed with SIGKILL and B's start is timed from the kill to its
// answer. Retry periods are set far beyond the run: B gets the session only
// because storage tells it the moment A's lease has run out. 3 trials
// (--quick: 1), the worst counts.
// Baseline: NODE_LEASE itself. Target: at most NODE_LEASE + 1 s.
// The profilestore-node binary is looked up next to this one (the build
// tree's apps/node or the install's bin); --param node=PATH overrides.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "bench.hpp"
#include "node_process.hpp"
#include "game_agent.hpp"
#include "profilestore/actors/cluster.hpp"
#include "profilestore/actors/node.hpp"
#include "runtime.hpp"

namespace profilestore::bench {
namespace {

using namespace node_app;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "takeover: %s\n", what.c_str());
  std::exit(1);
}

std::string node_binary(const options& opts) {
  if (auto i = opts.params.find("node"); i != opts.params.end())
    return i->second;
  auto found = find_node_binary();
  if (found.empty())
    die("profilestore-node not found next to this binary; pass --param "
        "node=PATH");
  return found;
}

std::uint16_t ready_port(child_process& p) {
  auto port = read_ready_port(p, "a node");
  if (!port)
    die(port.err().message());
  return *port;
}

double one_trial(const std::string& bin, double heartbeat_s, double lease_s) {
  scratch_dir dir("takeover");
  child_process storage({bin, "--role", "storage", "--name", "bench-storage",
                         "--db", dir.path()});
  auto where = "127.0.0.1:" + std::to_string(ready_port(storage));
  auto game = [&](const std::string& name) {
    std::vector<std::string> a{bin, "--role", "game", "--name", name,
                               "--storage", where};
    for (auto s : {"NODE_HEARTBEAT=" + std::to_string(heartbeat_s),
                   "NODE_LEASE=" + std::to_string(lease_s),
                   std::string("FIRST_LOAD_REPEAT=3600"),
                   std::string("LOAD_REPEAT_PERIOD=3600"),
                   std::string("START_SESSION_TIMEOUT=120")}) {
      a.push_back("--set");
      a.push_back(s);
    }
    return a;
  };
  child_process a(game("bench-game-a"));
  child_process b(game("bench-game-b"));
  auto aport = ready_port(a);
  auto bport = ready_port(b);

  caf::actor_system_config cfg;
  add_cluster_types(cfg);
  caf::actor_system sys{cfg};
  auto agent = [&](std::uint16_t port) {
    auto h = sys.middleman().remote_actor("127.0.0.1", port);
    if (!h)
      die("cannot reach a game node: " + sys.render(h.error()));
    return *h;
  };
  auto ga = agent(aport);
  auto gb = agent(bport);
  auto must = [](const result<void>& r, const char* what) {
    if (!r)
      die(std::string(what) + ": " + r.err().to_string());
  };
  auto timeout = std::chrono::seconds(120);
  for (auto& g : {ga, gb})
    must(detail::ask_unit(sys, g, timeout, ag_open_atom::value,
                          std::string("bench"), std::string(R"({"coins":0})")),
         "open");
  must(detail::ask_unit(sys, ga, timeout, ag_start_atom::value,
                        std::string("bench"), std::string("owned")),
       "start on A");
  must(detail::ask_unit(sys, ga, timeout, ag_save_atom::value,
                        std::string("bench"), std::string("owned")),
       "save on A");

  auto killed = std::chrono::steady_clock::now();
  a.signal(SIGKILL);
  must(detail::ask_unit(sys, gb, timeout, ag_start_atom::value,
                        std::string("bench"), std::string("owned")),
       "start on B");
  auto took = std::chrono::steady_clock::now();
  b.signal(SIGTERM);
  (void) b.wait(std::chrono::seconds(60));
  storage.signal(SIGTERM);
  (void) storage.wait(std::chrono::seconds(60));
  return std::chrono::duration<double>(took - killed).count();
}

std::vector<figure> run(const options& opts) {
  const double heartbeat = opts.quick ? 0.5 : 2;
  const double lease = opts.quick ? 2 : 10;
  const int trials = opts.quick ? 1 : 3;
  watchdog guard("takeover", std::chrono::seconds(600));
  auto bin = node_binary(opts);
  std::vector<double> seconds;
  for (int i = 0; i < trials; ++i)
    seconds.push_back(one_trial(bin, heartbeat, lease));
  double worst = quantile(seconds, 1.0);
  std::fprintf(stderr, "takeover: %d trial(s), worst %.3f s, NODE_LEASE %.1f s\n",
               trials, worst, lease);
  std::vector<figure> out{limit_figure("takeover after kill -9 (worst)", "s",
                                       worst, "NODE_LEASE", lease, lease + 1)};
  out.back().distributions = {{"takeover", "s", seconds}};
  return out;
}

registrar reg("takeover",
              "kill -9 of a session's owner process to another game node "
              "holding the session",
              run);

} // namespace
} // namespace profilestore::bench
