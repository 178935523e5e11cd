// profilectl sessions and nodes.
#include <nlohmann/json.hpp>

#include "ctl_harness.hpp"
#include "profilestore/store/node_directory.hpp"

using namespace profilestore;
using namespace profilestore::testing;

TEST_CASE("sessions lists each lock's owner, age and pending request") {
  ctl_fixture f;
  f.start("Players", "held", R"({"c": 1})", "node-a", fixed_now - 90'000);
  f.put("Players", "free", R"({"c": 1})", fixed_now);
  f.start("Guilds", "g", R"({"c": 1})", "node-b", fixed_now - 5'000);
  // Another node asks for the held profile: ForceLoadSession.
  f.with_storage([](lmdb_backend&, storage& s) {
    start_session_op op{"Players", "held", {}, nullptr};
    op.request.requester = session_ref{"node-c", 3, 11};
    auto r = must(s.apply(op, fixed_now - 1'000));
    REQUIRE(std::get<start_session_reply>(r.reply).outcome
            == start_outcome::locked);
  });
  auto table = f.run({"sessions"});
  CHECK(table.status == 0);
  CHECK(contains(table.out, "node-a#1/7"));
  CHECK(contains(table.out, "node-c#3/11"));
  CHECK(contains(table.out, "node-b#1/7"));
  CHECK_FALSE(contains(table.out, "free"));
  auto doc = nlohmann::json::parse(f.run({"sessions", "Players", "--json"}).out);
  REQUIRE(doc["sessions"].size() == 1);
  CHECK(doc["sessions"][0]["key"] == "held");
  CHECK(doc["sessions"][0]["owner_node"] == "node-a");
  CHECK(doc["sessions"][0]["age_ms"] == 90'000);
  CHECK(doc["sessions"][0]["pending_request"]
        == nlohmann::json::array({"node-c", 3, 11}));
}

TEST_CASE("sessions says when there are none") {
  ctl_fixture f;
  f.put("Players", "free", R"({"c": 1})", fixed_now);
  auto r = f.run({"sessions"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "no active sessions"));
}

TEST_CASE("nodes says there is no node directory rather than inventing one") {
  ctl_fixture f;
  f.put("Players", "u", R"({"c": 1})", fixed_now);
  auto r = f.run({"nodes"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "no node directory"));
  auto doc = nlohmann::json::parse(f.run({"nodes", "--json"}).out);
  CHECK(doc["nodes"].empty());
}

TEST_CASE("nodes lists each node's incarnation, address and lease, and damaged entries as such") {
  ctl_fixture f;
  f.with_storage([](lmdb_backend& env, storage&) {
    must(renew_lease(env, "node-a", 4, "10.0.0.5:7000", 10'000,
                     fixed_now - 2'000));
    must(renew_lease(env, "node-b", 1, "", 10'000, fixed_now - 60'000));
    auto txn = must(env.begin_write());
    must(txn->put(table::nodes, "node-c", std::string("\xc1", 1)));
    must(txn->commit());
  });
  auto doc = nlohmann::json::parse(f.run({"nodes", "--json"}).out);
  REQUIRE(doc["nodes"].size() == 3);
  CHECK(doc["nodes"][0]["node"] == "node-a");
  CHECK(doc["nodes"][0]["incarnation"] == 4);
  CHECK(doc["nodes"][0]["address"] == "10.0.0.5:7000");
  CHECK(doc["nodes"][0]["lease_live"] == true);
  CHECK(doc["nodes"][1]["lease_live"] == false);
  CHECK(doc["nodes"][2].contains("error"));
  auto table = f.run({"nodes"}).out;
  CHECK(contains(table, "expired"));
  CHECK(contains(table, "unreadable"));
}
