// TLS between nodes: certificates from a private CA made with the openssl
// command in a temporary folder. Nodes with certificates from the cluster's
// CA work together; a node with a certificate from another CA, or without
// TLS, is refused.
#include <doctest/doctest.h>

#include <cstdlib>

#include "cluster_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

// Runs a shell command quietly; REQUIREs success.
void run(const std::string& cmd) {
  int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  REQUIRE_MESSAGE(rc == 0, "failed: " << cmd);
}

// A CA and one node certificate signed by it, in `dir`/`name`-*.
tls_options make_ca_and_cert(const temp_dir& dir, const std::string& name) {
  auto f = [&](const std::string& s) { return dir.path() + "/" + name + "-" + s; };
  run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + name
      + "-ca -keyout " + f("ca.key") + " -out " + f("ca.pem"));
  run("openssl req -newkey rsa:2048 -nodes -subj /CN=" + name + "-node -keyout "
      + f("node.key") + " -out " + f("node.csr"));
  run("openssl x509 -req -days 2 -in " + f("node.csr") + " -CA " + f("ca.pem")
      + " -CAkey " + f("ca.key") + " -CAcreateserial -out " + f("node.pem"));
  return tls_options{f("node.pem"), f("node.key"), f("ca.pem")};
}

// A game node's storage connection with `tls`; whether it got connected
// within `wait`.
result<void> try_connect(const endpoint& where, const tls_options& tls,
                         duration wait) {
  caf::actor_system_config cfg;
  add_cluster_types(cfg, tls);
  caf::actor_system sys{cfg};
  remote_storage_options ro;
  ro.shards = {where};
  ro.node_name = "intruder";
  ro.incarnation = 1;
  auto remote = connect_storage(sys, ro);
  auto r = wait_connected(sys, remote, wait);
  remote.stop();
  return r;
}

} // namespace

TEST_CASE("nodes with certificates from the cluster's CA work together over TLS, and others are refused") {
  temp_dir dir{"cluster-tls"};
  auto cluster = make_ca_and_cert(dir, "cluster");
  auto other = make_ca_and_cert(dir, "other");
  storage_node s(dir.path() + "/db", cluster);
  s.start();

  {
    game_options go{"game-a", 1, {s.where()}};
    go.tls = cluster;
    game_node a(go);
    auto players = a.get().open("players", value::object({{"coins", 0}}));
    REQUIRE_OK(players);
    auto p = players->start_session("user-1");
    REQUIRE_OK(p);
    REQUIRE_OK(p->with_context(
      [](profile_context& c) { (*c.data_value())["coins"] = value(9); }));
    REQUIRE_OK(p->end_session());
    auto copy = players->get("user-1");
    REQUIRE_OK(copy);
    REQUIRE(copy->has_value());
    CHECK(*(*copy)->data.get("coins")->to_int64() == 9);
  }

  auto foreign = try_connect(s.where(), other, 3s);
  CHECK_FALSE(foreign.ok());
  auto plain = try_connect(s.where(), tls_options{}, 3s);
  CHECK_FALSE(plain.ok());
  // Nothing a refused peer did reached storage.
  auto txn = s.actors().shared_storage->get_backend().begin_read();
  REQUIRE_OK(txn);
  auto intruder = read_node(**txn, "intruder");
  REQUIRE_OK(intruder);
  CHECK_FALSE(intruder->has_value());
}

TEST_CASE("TLS options must come all together and be readable") {
  CHECK(tls_options{}.check().ok());
  auto some = tls_options{"cert.pem", "", ""}.check();
  REQUIRE_FALSE(some.ok());
  CHECK(some.err().message().find("together") != std::string::npos);
  auto missing = tls_options{"/nonexistent/a", "/nonexistent/b",
                             "/nonexistent/c"}.check();
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().message().find("cannot read") != std::string::npos);
}
