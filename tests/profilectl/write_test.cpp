// profilectl's writing commands: set, rollback, remove, message. Every
// refusal leaves the storage as it was.
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

} // namespace

TEST_CASE("set replaces Data, keeps the rest, and ends the active session") {
  ctl_fixture f;
  f.start("Players", "u", R"({"coins": 1})");
  auto path = write_file(f, "data.json", R"({"coins": 999})");
  auto r = f.run({"set", "Players", "u", "--data", path, "--yes"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "ended the session of node-a#1/7"));
  auto rec = f.read("Players", "u");
  REQUIRE(rec);
  CHECK_FALSE(rec->rec.meta.active_session.has_value());
  CHECK(f.data_json("Players", "u") == R"({"coins":999})");
  CHECK(rec->rec.meta.session_load_count == 1);
}

TEST_CASE("set reads standard input with --data - and --yes") {
  ctl_fixture f;
  f.put("Players", "u", R"({"coins": 1})", fixed_now);
  auto r = f.run({"set", "Players", "u", "--data", "-", "--yes"}, R"([1, 2])");
  CHECK(r.status == 0);
  CHECK(f.data_json("Players", "u") == "[1,2]");
}

TEST_CASE("set without --yes refuses when stdin is not a terminal, writing nothing") {
  ctl_fixture f;
  f.start("Players", "u", R"({"coins": 1})");
  auto path = write_file(f, "data.json", R"({"coins": 2})");
  auto r = f.run({"set", "Players", "u", "--data", path});
  CHECK(r.status == 1);
  CHECK(contains(r.err, "pass --yes"));
  CHECK(f.data_json("Players", "u") == R"({"coins":1})");
  CHECK(f.read("Players", "u")->rec.meta.active_session.has_value());
  // Data on stdin leaves nothing to ask on, even on a terminal.
  auto piped = f.run({"set", "Players", "u", "--data", "-"}, "{}", true);
  CHECK(piped.status == 1);
  CHECK(contains(piped.err, "pass --yes"));
}

TEST_CASE("set asks on a terminal and writes only on yes") {
  ctl_fixture f;
  f.put("Players", "u", R"({"coins": 1})", fixed_now);
  auto path = write_file(f, "data.json", R"({"coins": 2})");
  auto no = f.run({"set", "Players", "u", "--data", path}, "n\n", true);
  CHECK(no.status == 1);
  CHECK(contains(no.err, "? [y/N]"));
  CHECK(f.data_json("Players", "u") == R"({"coins":1})");
  auto yes = f.run({"set", "Players", "u", "--data", path}, "y\n", true);
  CHECK(yes.status == 0);
  CHECK(f.data_json("Players", "u") == R"({"coins":2})");
}

TEST_CASE("set refuses corrupt JSON, a scalar and a missing file, writing nothing") {
  ctl_fixture f;
  f.put("Players", "u", R"({"coins": 1})", fixed_now);
  auto broken = write_file(f, "broken.json", R"({"coins": )");
  auto r = f.run({"set", "Players", "u", "--data", broken, "--yes"});
  CHECK(r.status == 1);
  CHECK(contains(r.err, "not valid JSON"));
  auto scalar = write_file(f, "scalar.json", "42");
  auto s = f.run({"set", "Players", "u", "--data", scalar, "--yes"});
  CHECK(contains(s.err, "must be a JSON object or array"));
  auto none = f.run({"set", "Players", "u", "--data", f.file("none.json"), "--yes"});
  CHECK(contains(none.err, "cannot read"));
  CHECK(f.data_json("Players", "u") == R"({"coins":1})");
  CHECK(f.read("Players", "u")->info.version == 1);
}

TEST_CASE("rollback --to restores an older version's content as a new write") {
  ctl_fixture f;
  f.put("Players", "u", R"({"v": 1})", fixed_now - 3 * 3'600'000);
  f.put("Players", "u", R"({"v": 2})", fixed_now - 2 * 3'600'000);
  auto r = f.run({"rollback", "Players", "u", "--to", "1", "--yes"});
  CHECK(r.status == 0);
  CHECK(f.data_json("Players", "u") == R"({"v":1})");
  // The newer content stays as a version (now is outside the window of v2).
  CHECK(f.read("Players", "u")->info.version == 3);
}

TEST_CASE("rollback --before picks the version current just before that time") {
  ctl_fixture f;
  f.put("Players", "u", R"({"v": 1})", fixed_now - 3 * 3'600'000);
  f.put("Players", "u", R"({"v": 2})", fixed_now - 2 * 3'600'000);
  auto r = f.run({"rollback", "Players", "u", "--before", "2026-11-17T08:00:00Z",
                  "--yes", "--json"});
  CHECK(r.status == 0);
  CHECK(nlohmann::json::parse(r.out)["restored_version"] == 1);
  CHECK(f.data_json("Players", "u") == R"({"v":1})");
  auto too_early = f.run({"rollback", "Players", "u", "--before", "2020-01-01",
                          "--yes"});
  CHECK(too_early.status == 1);
  CHECK(contains(too_early.err, "no version created before"));
}

TEST_CASE("rollback refuses a missing version and ambiguous arguments") {
  ctl_fixture f;
  f.put("Players", "u", R"({"v": 1})", fixed_now);
  auto missing = f.run({"rollback", "Players", "u", "--to", "5", "--yes"});
  CHECK(missing.status == 1);
  CHECK(contains(missing.err, "version 5"));
  auto both = f.run({"rollback", "Players", "u", "--to", "1", "--before",
                     "1794909600", "--yes"});
  CHECK(contains(both.err, "exactly one of --to VERSION and --before TIME"));
  auto neither = f.run({"rollback", "Players", "u", "--yes"});
  CHECK(neither.status == 1);
  CHECK(f.read("Players", "u")->info.version == 1);
}

TEST_CASE("remove writes a removal that rollback can undo") {
  ctl_fixture f;
  f.put("Players", "u", R"({"v": 1})", fixed_now - 3 * 3'600'000);
  CHECK(f.run({"remove", "Players", "u"}).status == 1); // no --yes
  CHECK(f.read("Players", "u").has_value());
  CHECK(f.run({"remove", "Players", "u", "--yes"}).status == 0);
  CHECK_FALSE(f.read("Players", "u").has_value());
  auto again = f.run({"remove", "Players", "u", "--yes"});
  CHECK(again.status == 1);
  CHECK(contains(again.err, "already removed"));
  CHECK(f.run({"rollback", "Players", "u", "--to", "1", "--yes"}).status == 0);
  CHECK(f.data_json("Players", "u") == R"({"v":1})");
}

TEST_CASE("message queues a message, also for a key that has no profile yet") {
  ctl_fixture f;
  f.put("Players", "u", R"({"v": 1})", fixed_now);
  auto r = f.run({"message", "Players", "u", "--data", R"({"gift": "sword"})"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "queued message #1"));
  auto rec = f.read("Players", "u");
  REQUIRE(rec->rec.updates.size() == 1);
  CHECK(to_json(must(decode_msgpack(rec->rec.updates[0].data)))
        == R"({"gift":"sword"})");
  CHECK(f.run({"message", "Players", "new", "--data", "7"}).status == 0);
  auto bad = f.run({"message", "Players", "u", "--data", "{nope"});
  CHECK(bad.status == 1);
  CHECK(contains(bad.err, "--data is not valid JSON"));
  CHECK(f.read("Players", "u")->rec.updates.size() == 1);
}
