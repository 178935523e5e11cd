// profilestore-node as separate processes on 127.0.0.1: a storage node and
// two game nodes, driven through the game nodes' client agents. The owner is
// killed with SIGKILL; the other game node takes the session once the
// owner's lease ran out, with the last saved data. Every wait is bounded.
#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "node_process.hpp" // apps/node
#include "game_agent.hpp"
#include "profilestore/actors/cluster.hpp"
#include "profilestore/actors/node.hpp"
#include "profilestore/codec/json.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/storage.hpp"
#include "result_checks.hpp"
#include "temp_dir.hpp"

using namespace profilestore;
using namespace profilestore::node_app;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

const std::string node_bin = PROFILESTORE_NODE_BIN;

std::uint16_t ready_port(child_process& p) {
  auto port = read_ready_port(p, "a node");
  REQUIRE_MESSAGE(port.ok(), port.err().message());
  return *port;
}

struct driver {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  driver() {
    add_cluster_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  caf::actor agent(std::uint16_t port) {
    auto a = sys->middleman().remote_actor("127.0.0.1", port);
    REQUIRE_MESSAGE(bool(a), sys->render(a.error()));
    return *a;
  }
  template <class... Ts>
  result<void> ask_unit(const caf::actor& to, Ts&&... xs) {
    return detail::ask_unit(*sys, to, 30s, std::forward<Ts>(xs)...);
  }
  template <class T, class... Ts>
  result<T> ask(const caf::actor& to, Ts&&... xs) {
    return detail::ask<T>(*sys, to, 30s, std::forward<Ts>(xs)...);
  }
};

} // namespace

TEST_CASE("after kill -9 of the owner's process another game node takes the session with the last saved data") {
  temp_dir dir{"cluster-processes"};
  child_process storage({node_bin, "--role", "storage", "--name", "storage-1",
                         "--db", dir.path()});
  auto sport = ready_port(storage);
  auto where = "127.0.0.1:" + std::to_string(sport);
  std::vector<std::string> common{"--role", "game", "--storage", where,
                                  "--set", "NODE_HEARTBEAT=0.5", "--set",
                                  "NODE_LEASE=2"};
  auto game_args = [&](const std::string& name) {
    std::vector<std::string> a{node_bin, "--name", name};
    a.insert(a.end(), common.begin(), common.end());
    // Retries only when storage says so (see cluster_test.cpp).
    for (auto s : {"FIRST_LOAD_REPEAT=60", "LOAD_REPEAT_PERIOD=60",
                   "START_SESSION_TIMEOUT=10"}) {
      a.push_back("--set");
      a.push_back(s);
    }
    return a;
  };
  child_process game_a(game_args("game-a"));
  child_process game_b(game_args("game-b"));
  auto aport = ready_port(game_a);
  auto bport = ready_port(game_b);

  driver d;
  auto a = d.agent(aport);
  auto b = d.agent(bport);
  for (auto& g : {a, b}) {
    auto r = d.ask_unit(g, ag_open_atom::value, std::string("players"),
                        std::string(R"({"coins": 0})"));
    REQUIRE_MESSAGE(r.ok(), describe(r));
  }
  auto started = d.ask_unit(a, ag_start_atom::value, std::string("players"),
                            std::string("user-1"));
  REQUIRE_MESSAGE(started.ok(), describe(started));
  auto coins = d.ask<std::int64_t>(a, ag_add_atom::value,
                                   std::string("players"),
                                   std::string("user-1"), std::string("coins"),
                                   std::int64_t{10});
  REQUIRE_MESSAGE(coins.ok(), describe(coins));
  auto saved = d.ask_unit(a, ag_save_atom::value, std::string("players"),
                          std::string("user-1"));
  REQUIRE_MESSAGE(saved.ok(), describe(saved));
  // Not saved: lost with the process, as in any crash.
  REQUIRE(d.ask<std::int64_t>(a, ag_add_atom::value, std::string("players"),
                              std::string("user-1"), std::string("coins"),
                              std::int64_t{5})
            .ok());

  game_a.signal(SIGKILL);
  CHECK(game_a.wait(10s).has_value());

  auto taken = d.ask_unit(b, ag_start_atom::value, std::string("players"),
                          std::string("user-1"));
  REQUIRE_MESSAGE(taken.ok(), describe(taken));
  auto data = d.ask<std::string>(b, ag_data_atom::value,
                                 std::string("players"), std::string("user-1"));
  REQUIRE_MESSAGE(data.ok(), describe(data));
  auto v = from_json(*data);
  REQUIRE(v.ok());
  CHECK(*v->get("coins")->to_int64() == 10);
  REQUIRE(d.ask<std::int64_t>(b, ag_add_atom::value, std::string("players"),
                              std::string("user-1"), std::string("coins"),
                              std::int64_t{1})
            .ok());

  // SIGTERM: B's session does its final save before B exits.
  game_b.signal(SIGTERM);
  auto b_status = game_b.wait(60s);
  REQUIRE(b_status.has_value());
  CHECK(*b_status == 0);
  storage.signal(SIGTERM);
  auto s_status = storage.wait(60s);
  REQUIRE(s_status.has_value());
  CHECK(*s_status == 0);

  lmdb_options lo;
  lo.path = dir.path();
  lo.read_only = true;
  auto env = lmdb_backend::open(lo);
  REQUIRE_MESSAGE(env.ok(), describe(env));
  storage_options so;
  class storage st(**env, so);
  auto rec = st.get("players", "user-1");
  REQUIRE(rec.ok());
  REQUIRE(rec->has_value());
  auto stored = decode_msgpack((*rec)->rec.data);
  REQUIRE(stored.ok());
  CHECK(*stored->get("coins")->to_int64() == 11);
  CHECK_FALSE((*rec)->rec.meta.active_session.has_value());
  CHECK((*rec)->rec.meta.session_load_count == 2);
}
