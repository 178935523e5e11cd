// profilectl's read commands: stores, keys, get, versions.
#include <nlohmann/json.hpp>

#include "ctl_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

TEST_CASE("stores and keys list what the storage holds, with prefix and limit") {
  ctl_fixture f;
  f.put("Players", "user_1", R"({"coins": 1})", fixed_now);
  f.put("Players", "user_2", R"({"coins": 2})", fixed_now);
  f.put("Players", "guild_9", R"({"coins": 3})", fixed_now);
  f.put("Guilds", "g1", R"({"name": "x"})", fixed_now);
  auto stores = f.run({"stores"});
  CHECK(stores.status == 0);
  CHECK(stores.out == "Guilds\nPlayers\n");
  CHECK(f.run({"keys", "Players"}).out == "guild_9\nuser_1\nuser_2\n");
  CHECK(f.run({"keys", "Players", "--prefix", "user_"}).out
        == "user_1\nuser_2\n");
  auto limited = f.run({"keys", "Players", "--limit", "2", "--json"});
  auto doc = nlohmann::json::parse(limited.out);
  CHECK(doc["keys"].size() == 2);
  CHECK(doc["more"] == true);
}

TEST_CASE("an unknown store is an error that says so") {
  ctl_fixture f;
  f.put("Players", "user_1", R"({"coins": 1})", fixed_now);
  for (auto args : std::vector<std::vector<std::string>>{
         {"keys", "Playerz"}, {"get", "Playerz", "user_1"},
         {"versions", "Playerz", "user_1"}, {"sessions", "Playerz"},
         {"export", "Playerz"}, {"check", "Playerz"}}) {
    auto r = f.run(args);
    CHECK(r.status == 1);
    CHECK(contains(r.err, "no store named 'Playerz'"));
  }
}

TEST_CASE("an invalid store name or key is refused before anything is read") {
  ctl_fixture f;
  f.put("Players", "user_1", R"({"coins": 1})", fixed_now);
  auto long_key = f.run({"get", "Players", std::string(257, 'k')});
  CHECK(long_key.status == 1);
  CHECK(contains(long_key.err, "invalid_key"));
  auto long_store = f.run({"keys", std::string(65, 's')});
  CHECK(contains(long_store.err, "invalid_store_name"));
  auto missing = f.run({"get", "Players", "user_404"});
  CHECK(missing.status == 1);
  CHECK(contains(missing.err, "no key 'user_404'"));
}

TEST_CASE("get shows data, metadata, session, messages and key info") {
  ctl_fixture f;
  f.start("Players", "user_42", R"({"coins": 100, "items": ["sword"]})");
  f.run({"message", "Players", "user_42", "--data", R"({"gift": 5})"});
  auto table = f.run({"get", "Players", "user_42"});
  CHECK(table.status == 0);
  CHECK(contains(table.out, "Players/user_42  version 1"));
  CHECK(contains(table.out, "active         node-a#1/7"));
  CHECK(contains(table.out, "#1 v1 {\"gift\":5}"));
  CHECK(contains(table.out, "\"coins\": 100"));
  auto json = f.run({"get", "Players", "user_42", "--json"});
  auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["record"]["Data"]["items"][0] == "sword");
  CHECK(doc["record"]["MetaData"]["ActiveSession"]
        == nlohmann::json::array({"node-a", 1, 7}));
  CHECK(doc["record"]["MetaData"]["SessionLoadCount"] == 1);
  CHECK(doc["record"]["GlobalUpdates"]
        == nlohmann::json::parse(R"([1, [[1, 1, false, {"gift": 5}]]])"));
  CHECK(doc["info"]["version"] == 1);
}

TEST_CASE("get --version reads an older version and refuses one out of range") {
  ctl_fixture f;
  f.put("Players", "u", R"({"v": 1})", fixed_now - 3 * 3'600'000);
  f.put("Players", "u", R"({"v": 2})", fixed_now - 1 * 3'600'000);
  auto old = f.run({"get", "Players", "u", "--version", "1", "--json"});
  CHECK(nlohmann::json::parse(old.out)["record"]["Data"]["v"] == 1);
  auto out_of_range = f.run({"get", "Players", "u", "--version", "9"});
  CHECK(out_of_range.status == 1);
  CHECK(contains(out_of_range.err, "version 9"));
  CHECK(contains(out_of_range.err, "the latest is 2"));
  auto not_a_number = f.run({"get", "Players", "u", "--version", "two"});
  CHECK(not_a_number.status == 1);
  CHECK(contains(not_a_number.err, "--version takes a whole number"));
}

TEST_CASE("versions lists in either order and filters by time") {
  ctl_fixture f;
  for (int i = 0; i < 4; ++i)
    f.put("Players", "u", "{\"v\": " + std::to_string(i) + "}",
          fixed_now - (4 - i) * 3'600'000);
  auto all = nlohmann::json::parse(f.run({"versions", "Players", "u", "--json"}).out);
  REQUIRE(all["versions"].size() == 4);
  CHECK(all["versions"][0]["version"] == 1);
  auto desc = nlohmann::json::parse(
    f.run({"versions", "Players", "u", "--desc", "--limit", "2", "--json"}).out);
  REQUIRE(desc["versions"].size() == 2);
  CHECK(desc["versions"][0]["version"] == 4);
  CHECK(desc["more"] == true);
  // Versions 1..4 were created at now-4h .. now-1h.
  auto window = nlohmann::json::parse(
    f.run({"versions", "Players", "u", "--after", "2026-11-17T06:00:00Z",
           "--before", "2026-11-17T08:30:00Z", "--json"})
      .out);
  REQUIRE(window["versions"].size() == 2);
  CHECK(window["versions"][0]["version"] == 2);
  CHECK(window["versions"][1]["version"] == 3);
  auto table = f.run({"versions", "Players", "u"});
  CHECK(contains(table.out, "VERSION"));
  CHECK(contains(table.out, "2026-11-17T06:00:00.000Z"));
  auto bad_time = f.run({"versions", "Players", "u", "--after", "noon"});
  CHECK(bad_time.status == 1);
  CHECK(contains(bad_time.err, "--after"));
}
