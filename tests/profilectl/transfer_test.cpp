// profilectl export and import: our JSON lines, and the layouts of Roblox
// ProfileService and ProfileStore records.
#include <fstream>

#include <nlohmann/json.hpp>

#include "ctl_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

std::string write_file(ctl_fixture& f, const std::string& name,
                       const std::string& text) {
  std::string path = f.file(name);
  std::ofstream(path) << text;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string json_of(const std::string& msgpack) {
  return to_json(must(decode_msgpack(msgpack)));
}

} // namespace

TEST_CASE("export then import into a fresh storage keeps every profile's content") {
  ctl_fixture from, to;
  from.start("Players", "u1", R"({"coins": 5, "bag": [1, 2.5, null]})");
  from.put("Players", "u2", R"([true])", fixed_now);
  from.with_storage([](lmdb_backend&, storage& s) {
    set_request req;
    req.data = encode_msgpack(must(from_json(R"({"x": 1})")));
    req.meta_tags = encode_msgpack(must(from_json(R"({"tag": "t"})")));
    req.user_ids = {42, 43};
    req.key_metadata = encode_msgpack(must(from_json(R"({"k": "v"})")));
    must(s.apply(set_op{"Guilds", "g", req}, fixed_now));
    message_request m;
    m.data = encode_msgpack(must(from_json(R"({"gift": 1})")));
    must(s.apply(message_op{"Guilds", "g", m}, fixed_now));
  });
  std::string out = from.file("export.jsonl");
  auto exported = from.run({"export", "--out", out});
  CHECK(exported.status == 0);
  CHECK(contains(exported.out, "exported 3 profile(s)"));
  std::string lines = read_file(out);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 3);
  CHECK_FALSE(std::filesystem::exists(out + ".partial"));

  auto imported = to.run({"import", out, "--yes"});
  CHECK(imported.status == 0);
  CHECK(contains(imported.out, "imported 3 record(s) (3 profilestore)"));
  CHECK(to.data_json("Players", "u1") == R"({"bag":[1,2.5,null],"coins":5})");
  CHECK(to.data_json("Players", "u2") == "[true]");
  auto g = to.read("Guilds", "g");
  REQUIRE(g);
  CHECK(json_of(g->rec.meta.meta_tags) == R"({"tag":"t"})");
  CHECK(g->rec.user_ids == std::vector<std::int64_t>{42, 43});
  CHECK(json_of(g->rec.key_metadata) == R"({"k":"v"})");
  REQUIRE(g->rec.updates.size() == 1);
  CHECK(json_of(g->rec.updates[0].data) == R"({"gift":1})");
  // The imported session holder's lock is not carried over.
  CHECK_FALSE(to.read("Players", "u1")->rec.meta.active_session);
  // Exported again, the content is the same.
  auto again = to.run({"export", "Players"});
  CHECK(contains(again.out, R"("Data":{"bag":[1,2.5,null],"coins":5})"));
}

TEST_CASE("import reads ProfileService records with their global updates") {
  ctl_fixture f;
  auto path = write_file(f, "ps.jsonl",
    R"({"store": "PlayerData", "key": "Player_1", "value": {"Data": {"Cash": 10}, )"
    R"("MetaData": {"ProfileCreateTime": 1600000000, "SessionLoadCount": 4, )"
    R"("ActiveSession": [123, "job-guid"], "ForceLoadSession": null, "LastUpdate": 1600000100, )"
    R"("MetaTags": {"Purchases": [1]}, "MetaTagsLatest": {}}, )"
    R"("GlobalUpdates": [2, [[1, 1, false, {"Gift": 5}], [2, 3, true, {"Gift": 6}]]], )"
    R"("RobloxMetaData": {"Region": "EU"}, "UserIds": [1], "WasCorrupted": false}})"
    "\n");
  auto r = f.run({"import", path, "--yes"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "1 ProfileService"));
  auto rec = f.read("PlayerData", "Player_1");
  REQUIRE(rec);
  CHECK(json_of(rec->rec.data) == R"({"Cash":10})");
  CHECK(json_of(rec->rec.meta.meta_tags) == R"({"Purchases":[1]})");
  CHECK(json_of(rec->rec.key_metadata) == R"({"Region":"EU"})");
  CHECK(rec->rec.user_ids == std::vector<std::int64_t>{1});
  REQUIRE(rec->rec.updates.size() == 2);
  CHECK(json_of(rec->rec.updates[0].data) == R"({"Gift":5})");
  CHECK(json_of(rec->rec.updates[1].data) == R"({"Gift":6})");
  CHECK_FALSE(rec->rec.meta.active_session);
}

TEST_CASE("import reads ProfileStore records, key info from the line winning") {
  ctl_fixture f;
  auto path = write_file(f, "pstore.jsonl",
    R"({"store": "PlayerStore", "key": "7", "value": {"Data": {"Level": 3}, )"
    R"("MetaData": {"ProfileCreateTime": 1700000000, "SessionLoadCount": 1, )"
    R"("ActiveSession": null, "ForceLoadSession": null, "LastUpdate": 1700000000, "MetaTags": []}, )"
    R"("GlobalUpdates": [1, [[1, {"msg": "hi"}]]], "UserIds": [5], "RobloxMetaData": {}, )"
    R"("WasOverwritten": false}, "userIds": [7], "metadata": {"src": "roblox"}})"
    "\n"
    R"({"store": "PlayerStore", "key": "8", "value": {"GlobalUpdates": [1, [[1, "only"]]]}})"
    "\n");
  auto r = f.run({"import", path, "--yes", "--json"});
  CHECK(r.status == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["layouts"]["ProfileStore"] == 2);
  CHECK(doc["messages"] == 2);
  auto rec = f.read("PlayerStore", "7");
  REQUIRE(rec);
  CHECK(rec->rec.user_ids == std::vector<std::int64_t>{7});
  CHECK(json_of(rec->rec.key_metadata) == R"({"src":"roblox"})");
  CHECK(json_of(rec->rec.meta.meta_tags) == "{}");
  REQUIRE(rec->rec.updates.size() == 1);
  CHECK(json_of(rec->rec.updates[0].data) == R"({"msg":"hi"})");
  // A messages-only record stays one: no profile until a session starts.
  auto only = f.read("PlayerStore", "8");
  REQUIRE(only);
  CHECK_FALSE(only->rec.has_profile);
  CHECK(only->rec.updates.size() == 1);
}

TEST_CASE("a bad line anywhere fails the import and writes nothing") {
  ctl_fixture f;
  f.put("Players", "existing", R"({"v": 1})", fixed_now - 10'000);
  std::string good = R"({"store": "Players", "key": "a", "record": {"Data": {}}})";
  struct bad_case {
    std::string line;
    std::string says;
  };
  for (const auto& c : std::vector<bad_case>{
         {R"({"store": "Players", "key": "b", "record": {"Data": )", "not valid JSON"},
         {R"({"store": "Players", "key": "b", "record": {"Data": 5}})", "Data must be"},
         {R"({"store": "Players", "key": "", "record": {"Data": {}}})", "invalid_key"},
         {R"({"store": "Players", "key": "b", "record": {"Data": {}, "Extra": 1}})", "'Extra'"},
         {R"({"store": "Players", "key": "b", "value": {"Data": {}}, "UserIds": []})", "'UserIds'"},
         {R"({"store": "Players", "key": "b", "value": {"GlobalUpdates": [1, [[1, 2, 3]]]}})", "[id, data]"},
         {R"({"store": "Players", "key": "b"})", "exactly one of"},
         {R"({"store": "Players", "key": "a", "record": {"Data": {}}})", "already given on line 1"},
         {R"([1, 2])", "must be a JSON object"}}) {
    auto path = write_file(f, "bad.jsonl", good + "\n" + c.line + "\n");
    auto r = f.run({"import", path, "--yes"});
    CHECK(r.status == 1);
    CHECK(contains(r.err, "line 2:"));
    CHECK(contains(r.err, c.says));
    CHECK(contains(r.err, "nothing written"));
    CHECK_FALSE(f.read("Players", "a").has_value());
  }
  CHECK(f.read("Players", "existing")->info.version == 1);
}

TEST_CASE("an import refused by storage itself writes none of its lines") {
  ctl_fixture f;
  // 1,001 messages for one key: the second line overflows MAX_MESSAGE_QUEUE
  // only in storage, after the first line's profile was planned.
  std::string updates;
  for (int i = 1; i <= 600; ++i)
    updates += (i > 1 ? "," : "") + std::string("[") + std::to_string(i) + ",1]";
  std::string lines
    = R"({"store": "S", "key": "a", "record": {"Data": {}}})" "\n"
      R"({"store": "S", "key": "b", "record": {"Data": {}, "GlobalUpdates": [600, [)"
      + updates + "]]}}\n";
  auto path = write_file(f, "ok.jsonl", lines);
  CHECK(f.run({"import", path, "--yes"}).status == 0);
  auto second = write_file(f, "more.jsonl",
    R"({"store": "S", "key": "c", "record": {"Data": {}}})" "\n"
    R"({"store": "S", "key": "b", "value": {"GlobalUpdates": [600, [)" + updates + "]]}}\n");
  auto r = f.run({"import", second, "--yes"});
  CHECK(r.status == 1);
  CHECK(contains(r.err, "line 2:"));
  CHECK(contains(r.err, "message_queue_full"));
  CHECK_FALSE(f.read("S", "c").has_value());
  CHECK(f.read("S", "b")->rec.updates.size() == 600);
}

TEST_CASE("importing the same file twice gives the same profiles and queues") {
  ctl_fixture f;
  auto path = write_file(f, "in.jsonl",
    R"({"store": "S", "key": "k", "record": {"Data": {"a": 1}, "GlobalUpdates": [1, [[1, 1, false, "m"]]]}})"
    "\n");
  CHECK(f.run({"import", path, "--yes"}).status == 0);
  CHECK(f.run({"import", path, "--yes"}).status == 0);
  auto rec = f.read("S", "k");
  REQUIRE(rec);
  CHECK(rec->rec.updates.size() == 1);
}

TEST_CASE("import ends an active session and asks first without --yes") {
  ctl_fixture f;
  f.start("S", "k", R"({"a": 0})");
  auto path = write_file(f, "in.jsonl",
    R"({"store": "S", "key": "k", "record": {"Data": {"a": 1}}})" "\n");
  auto refused = f.run({"import", path});
  CHECK(refused.status == 1);
  CHECK(contains(refused.err, "pass --yes"));
  CHECK(f.read("S", "k")->rec.meta.active_session.has_value());
  auto dry = f.run({"import", path, "--dry-run"});
  CHECK(dry.status == 0);
  CHECK(contains(dry.out, "nothing written"));
  CHECK(f.data_json("S", "k") == R"({"a":0})");
  CHECK(f.run({"import", path, "--yes"}).status == 0);
  CHECK_FALSE(f.read("S", "k")->rec.meta.active_session.has_value());
  CHECK(f.data_json("S", "k") == R"({"a":1})");
}

TEST_CASE("import into a new folder creates the storage") {
  ctl_fixture f;
  auto path = write_file(f, "in.jsonl",
    R"({"store": "S", "key": "k", "record": {"Data": {"a": 1}}})" "\n");
  std::string fresh = f.file("fresh");
  auto r = f.run({"import", path, "--yes", "--db", fresh}, "", false, false);
  CHECK(r.status == 0);
  auto listed = f.run({"keys", "S", "--db", fresh}, "", false, false);
  CHECK(listed.out == "k\n");
  auto empty = write_file(f, "empty.jsonl", "\n\n");
  CHECK(contains(f.run({"import", empty, "--yes"}).err, "holds no records"));
}

TEST_CASE("export skips a corrupt record, says which, and exits 1") {
  ctl_fixture f;
  f.put("S", "good", R"({"a": 1})", fixed_now);
  f.put("S", "bad", R"({"a": 2})", fixed_now);
  f.with_storage([](lmdb_backend& env, storage&) {
    auto txn = must(env.begin_write());
    must(txn->put(table::versions, versions_key("S", "bad", 1), "garbage"));
    must(txn->commit());
  });
  auto r = f.run({"export", "S"});
  CHECK(r.status == 1);
  CHECK(contains(r.out, R"("key":"good")"));
  CHECK_FALSE(contains(r.out, R"("key":"bad")"));
  CHECK(contains(r.err, "skipped S/bad version 1"));
}
