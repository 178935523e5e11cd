// profilectl --connect: every command against a storage node listening on
// 127.0.0.1 (an ephemeral port), over real TCP. Reads must answer exactly
// what --db answers for the same folder; writes go through the node's writer
// and keep its rules (a set ends a live session of a connected game node).
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "connect_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t hour_ms = 3'600'000;
constexpr std::int64_t day_ms = 24 * hour_ms;

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

std::string encoded(const std::string& json) {
  return encode_msgpack(must(from_json(json)));
}

// `n` profiles "key-000".. in `store`, each with a queued message, written
// in one batch at time `t`.
void seed_many(ctl_fixture& f, const std::string& store, int n,
               std::int64_t t) {
  f.with_storage([&](lmdb_backend&, storage& s) {
    std::vector<operation> ops;
    for (int i = 0; i < n; ++i) {
      char key[16];
      std::snprintf(key, sizeof key, "key-%03d", i);
      set_request req;
      req.data = encoded(R"({"n": )" + std::to_string(i) + "}");
      req.user_ids = {i};
      ops.push_back(set_op{store, key, req});
      message_request m;
      m.data = encoded(R"({"gift": )" + std::to_string(i) + "}");
      ops.push_back(message_op{store, key, m});
    }
    for (auto& r : s.apply_batch(ops, t))
      REQUIRE(r.ok());
  });
}

// Each exported line by "store/key": the record without the bookkeeping a
// write sets anew (times, load count, session).
std::map<std::string, nlohmann::json> exported_content(const std::string& text) {
  std::map<std::string, nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto j = nlohmann::json::parse(line);
    auto rec = j["record"];
    nlohmann::json messages = nlohmann::json::array();
    for (const auto& u : rec["GlobalUpdates"][1])
      messages.push_back(u[3]);
    out[j["store"].get<std::string>() + "/" + j["key"].get<std::string>()]
      = {{"Data", rec.value("Data", nlohmann::json())},
         {"UserIds", rec.value("UserIds", nlohmann::json())},
         {"KeyMetaData", rec.value("KeyMetaData", nlohmann::json())},
         {"messages", messages}};
  }
  return out;
}

} // namespace

TEST_CASE("read commands over --connect answer exactly what --db answers for the same storage") {
  connect_fixture f;
  f.put("Players", "alice", R"({"coins": 1})", fixed_now - 3 * hour_ms);
  f.put("Players", "alice", R"({"coins": 2})", fixed_now - hour_ms - 1);
  f.put("Players", "bob", R"({"coins": 3})", fixed_now - 2 * hour_ms);
  f.start("Players", "carol", R"({"coins": 5})");
  f.put("Guilds", "g1", R"({"name": "x"})", fixed_now);
  seed_many(f, "Bulk", 300, fixed_now - day_ms); // many cursor pages
  f.with_storage([](lmdb_backend&, storage& s) {
    message_request m;
    m.data = encoded(R"({"gift": "sword"})");
    must(s.apply(message_op{"Players", "bob", m}, fixed_now));
    must(s.apply(remove_op{"Players", "dave"}, fixed_now));
  });
  const std::vector<std::vector<std::string>> commands{
    {"stores", "--json"},
    {"keys", "Players", "--json"},
    {"keys", "Players", "--removed", "--json"},
    {"keys", "Players", "--prefix", "a", "--json"},
    {"keys", "Bulk", "--limit", "250", "--json"},
    {"keys", "Bulk"},
    {"get", "Players", "alice", "--json"},
    {"get", "Players", "alice", "--version", "1", "--json"},
    {"get", "Players", "bob"},
    {"get", "Players", "nobody"},
    {"get", "Nostore", "x"},
    {"versions", "Players", "alice", "--json"},
    {"versions", "Players", "alice", "--desc", "--limit", "1", "--json"},
    {"versions", "Players", "alice", "--before", "1794900000", "--json"},
    {"sessions", "--json"},
    {"sessions", "Players"},
    {"nodes", "--json"},
    {"export"},
    {"export", "Bulk"},
    {"check", "--json"},
  };
  std::vector<ctl_run> local;
  for (const auto& c : commands)
    local.push_back(f.run(c));
  auto local_stats = f.run({"stats", "--json"});
  REQUIRE(local_stats.status == 0);

  f.start_node();
  for (std::size_t i = 0; i < commands.size(); ++i) {
    CAPTURE(commands[i][0]);
    CAPTURE(i);
    auto remote = f.remote(commands[i]);
    CHECK(remote.status == local[i].status);
    CHECK(remote.out == local[i].out);
    CHECK(remote.err == local[i].err);
  }
  CHECK(nlohmann::json::parse(local[4].out)["more"] == true);
  CHECK(local[17].out.size() > 300 * 100); // the export really is large

  // stats: the same counts; the data file is not seen over the network.
  auto remote_stats = f.remote({"stats", "--json"});
  REQUIRE(remote_stats.status == 0);
  auto l = nlohmann::json::parse(local_stats.out);
  auto r = nlohmann::json::parse(remote_stats.out);
  CHECK(r["stores"] == l["stores"]);
  CHECK(r["data_file_bytes"].is_null());
  CHECK(r["map_size"].get<std::uint64_t>() > 0);
}

TEST_CASE("set over --connect ends the live session of a connected game node at once") {
  connect_fixture f;
  f.start_node();
  game_node game({"game-a", 1, {f.node().where()}});
  auto players = game.get().open("Players", value::object({{"coins", 0}}));
  REQUIRE_OK(players);
  auto p = players->start_session("u1");
  REQUIRE_OK(p);
  REQUIRE_OK(p->save());

  auto sessions = f.remote({"sessions", "--json"});
  REQUIRE(sessions.status == 0);
  auto held = nlohmann::json::parse(sessions.out)["sessions"];
  REQUIRE(held.size() == 1);
  CHECK(held[0]["owner_node"] == "game-a");

  auto path = write_file(f, "data.json", R"({"coins": 999})");
  auto r = f.remote({"set", "Players", "u1", "--data", path, "--yes", "--json"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto reply = nlohmann::json::parse(r.out);
  CHECK(reply["ended_session"][0] == "game-a");

  // Storage tells the owner's node at once: the session ends without waiting
  // for its next save, and no change of it can be saved any more.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (p->is_active() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK_FALSE(p->is_active());
  CHECK_FALSE(p->with_context(
    [](profile_context& c) { (*c.data_value())["coins"] = value(1); }).ok());
  CHECK_FALSE(p->save().ok());

  auto got = f.remote({"get", "Players", "u1", "--json"});
  REQUIRE(got.status == 0);
  auto doc = nlohmann::json::parse(got.out);
  CHECK(doc["record"]["Data"]["coins"] == 999);
  CHECK(doc["record"]["MetaData"]["ActiveSession"].is_null());
  CHECK(nlohmann::json::parse(f.remote({"sessions", "--json"}).out)["sessions"]
          .empty());
}

TEST_CASE("rollback, remove and message over --connect write through the storage node") {
  connect_fixture f;
  f.put("Players", "u", R"({"coins": 1})", fixed_now - 3 * hour_ms);
  f.put("Players", "u", R"({"coins": 2})", fixed_now - hour_ms);
  f.start_node();

  auto back = f.remote({"rollback", "Players", "u", "--to", "1", "--yes"});
  REQUIRE_MESSAGE(back.status == 0, back.err);
  CHECK(contains(back.out, "to the content of version 1"));
  auto v1 = nlohmann::json::parse(
    f.remote({"get", "Players", "u", "--json"}).out);
  CHECK(v1["record"]["Data"]["coins"] == 1);
  CHECK(v1["info"]["version"] == 3);

  // --before: the version current just before that time (version 2).
  auto before = f.remote({"rollback", "Players", "u", "--before",
                          std::to_string((fixed_now - hour_ms) / 1000 + 1),
                          "--yes"});
  REQUIRE_MESSAGE(before.status == 0, before.err);
  CHECK(contains(before.out, "to the content of version 2"));

  auto msg = f.remote({"message", "Players", "u", "--data", R"({"gift": 7})"});
  REQUIRE_MESSAGE(msg.status == 0, msg.err);
  auto removed = f.remote({"remove", "Players", "u", "--yes"});
  REQUIRE_MESSAGE(removed.status == 0, removed.err);
  CHECK(f.remote({"get", "Players", "u"}).status == 1);

  // A refused write: the version does not exist; nothing is written.
  auto missing = f.remote({"rollback", "Players", "u", "--to", "99", "--yes"});
  CHECK(missing.status == 1);
  CHECK(contains(missing.err, "version 99"));

  f.stop_node();
  auto versions = f.run({"versions", "Players", "u", "--json"});
  REQUIRE(versions.status == 0);
  auto list = nlohmann::json::parse(versions.out)["versions"];
  // 1 and 2 seeded; 3 the first rollback, rewritten in place by the second
  // and the message (the version window); 4 the removal.
  REQUIRE(list.size() == 4);
  CHECK(list.back()["deleted"] == true);
  auto restored = f.read("Players", "u", 3);
  REQUIRE(restored);
  CHECK(to_json(must(decode_msgpack(restored->rec.data))) == R"({"coins":2})");
  REQUIRE(restored->rec.updates.size() == 1);
}

TEST_CASE("export over --connect and import into another storage node round-trip every profile") {
  connect_fixture from, to;
  seed_many(from, "Bulk", 300, fixed_now - day_ms);
  from.start("Players", "u1", R"({"coins": 5, "bag": [1, 2.5, null]})");
  from.start_node();
  auto out = from.file("export.jsonl");
  auto exported = from.remote({"export", "--out", out});
  REQUIRE_MESSAGE(exported.status == 0, exported.err);
  CHECK(contains(exported.out, "exported 301 profile(s)"));
  auto text = read_file(out);

  to.put("Bulk", "key-000", R"({"old": true})", fixed_now); // replaced
  to.start_node();
  auto imported = to.remote({"import", out, "--yes"});
  REQUIRE_MESSAGE(imported.status == 0, imported.err);
  CHECK(contains(imported.out, "imported 301 record(s)"));
  auto again = to.remote({"export"});
  REQUIRE(again.status == 0);
  auto a = exported_content(text);
  auto b = exported_content(again.out);
  CHECK(a.size() == 301);
  CHECK(a == b);

  // Importing twice gives the same content (the queue is replaced).
  REQUIRE(to.remote({"import", out, "--yes"}).status == 0);
  CHECK(exported_content(to.remote({"export"}).out) == a);
}

TEST_CASE("an import over --connect that the node refuses writes nothing") {
  connect_fixture f;
  f.start_node();
  // The second line queues more message bytes than a key takes (4 MiB,
  // which only the storage checks); the node's message operation refuses
  // it, so the first line is not written either.
  std::string lines
    = R"({"store": "S", "key": "a", "record": {"Data": {"x": 1}}})" "\n";
  std::string big(60'000, 'm');
  std::string updates;
  for (int i = 1; i <= 80; ++i)
    updates += (i > 1 ? "," : "") + std::string("[") + std::to_string(i)
               + R"(, {"m": ")" + big + R"("}])";
  lines += R"({"store": "S", "key": "b", "record": {"Data": {}, "GlobalUpdates": [80, [)"
           + updates + "]]}}\n";
  auto path = write_file(f, "bad.jsonl", lines);
  // 80 messages appended one by one re-encode a growing record: slow in a
  // sanitizer build, hence the longer bound.
  auto r = f.run({"import", path, "--yes", "--connect", f.address(),
                  "--timeout", "120"},
                 "", false, false);
  CHECK(r.status == 1);
  INFO(r.err);
  CHECK(contains(r.err, "line 2: "));
  CHECK(contains(r.err, "queued messages would exceed"));
  CHECK(contains(r.err, "nothing written"));
  CHECK(f.remote({"get", "S", "a"}).status == 1);
  CHECK(f.remote({"stores", "--json"}).out.find("\"S\"") == std::string::npos);
}

TEST_CASE("compact over --connect prunes expired versions on the storage node") {
  connect_fixture f;
  // Superseded more than 30 days before the node's clock (the system clock,
  // which is later than fixed_now).
  f.put("Players", "u", R"({"v": 1})", fixed_now - 40 * day_ms);
  f.put("Players", "u", R"({"v": 2})", fixed_now - 35 * day_ms);
  f.start_node();
  auto before = nlohmann::json::parse(
    f.remote({"versions", "Players", "u", "--json"}).out);
  REQUIRE(before["versions"].size() == 2);
  auto r = f.remote({"compact", "--json"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  auto done = nlohmann::json::parse(r.out);
  CHECK(done["versions_removed"] == 1);
  CHECK(done["retention_ms"] == 30 * day_ms);
  auto after = nlohmann::json::parse(
    f.remote({"versions", "Players", "u", "--json"}).out);
  CHECK(after["versions"].size() == 1);
}

TEST_CASE("an unreachable storage node is a clear error with exit status 1") {
  connect_fixture f;
  auto port = std::to_string(closed_port());
  auto read = f.run({"stores", "--connect", "127.0.0.1:" + port, "--timeout",
                     "5"},
                    "", false, false);
  CHECK(read.status == 1);
  CHECK(contains(read.err, "cannot reach a storage node at 127.0.0.1:" + port));
  CHECK(read.out.empty());
  auto path = write_file(f, "d.json", "{}");
  auto write = f.run({"set", "S", "k", "--data", path, "--yes", "--connect",
                      "127.0.0.1:" + port, "--timeout", "5"},
                     "", false, false);
  CHECK(write.status == 1);
  CHECK(contains(write.err, "nothing was read or written"));
}

TEST_CASE("--connect refuses --db beside it, partial TLS options and a bad timeout") {
  connect_fixture f;
  auto both = f.run({"stores", "--connect", "127.0.0.1:1"});
  CHECK(both.status == 1);
  CHECK(contains(both.err, "not both"));
  auto tls = f.run({"stores", "--connect", "127.0.0.1:1", "--tls-cert", "c.pem"},
                   "", false, false);
  CHECK(tls.status == 1);
  CHECK(contains(tls.err, "go together"));
  auto timeout = f.run({"stores", "--connect", "127.0.0.1:1", "--timeout", "0"},
                       "", false, false);
  CHECK(timeout.status == 1);
  CHECK(contains(timeout.err, "--timeout takes seconds"));
  auto local_timeout = f.run({"stores", "--timeout", "3"});
  CHECK(local_timeout.status == 1);
  CHECK(contains(local_timeout.err, "applies to --connect"));
  auto bad = f.run({"stores", "--connect", "host:port"}, "", false, false);
  CHECK(bad.status == 1);
  CHECK(contains(bad.err, "is not HOST:PORT"));
}

TEST_CASE("progress bars over --connect count the storage node's entries") {
  connect_fixture f;
  seed_many(f, "Bulk", 40, fixed_now - day_ms);
  f.start_node();
  auto on_terminal = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--connect", f.address()});
    std::istringstream in;
    std::ostringstream out, err;
    ctl::cli_io io{in, out, err, false, true, [] { return fixed_now; }};
    ctl_run r;
    r.status = ctl::run(args, io);
    r.out = out.str();
    r.err = err.str();
    return r;
  };
  auto check = on_terminal({"check"});
  REQUIRE_MESSAGE(check.status == 0, check.err);
  CHECK(contains(check.err, "100%"));
  CHECK(contains(check.out, "checked 40 key(s) and 40 version(s): 0 corrupt"));
  auto exported = on_terminal({"export", "--out", f.file("all.jsonl")});
  REQUIRE_MESSAGE(exported.status == 0, exported.err);
  CHECK(contains(exported.err, "100%"));
  CHECK(contains(exported.out, "exported 40 profile(s)"));
  auto compacted = on_terminal({"compact"});
  REQUIRE_MESSAGE(compacted.status == 0, compacted.err);
  CHECK(contains(compacted.err, "100%"));
}
