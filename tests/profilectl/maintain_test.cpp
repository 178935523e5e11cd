// profilectl check, compact and stats.
#include <nlohmann/json.hpp>

#include "ctl_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

constexpr std::int64_t hour = 3'600'000;
constexpr std::int64_t day = 24 * hour;

// Overwrites one version entry with bytes that are not a version entry.
void damage(ctl_fixture& f, const std::string& store, const std::string& key,
            std::uint64_t version, const std::string& bytes) {
  f.with_storage([&](lmdb_backend& env, storage&) {
    auto txn = must(env.begin_write());
    must(txn->put(table::versions, versions_key(store, key, version), bytes));
    must(txn->commit());
  });
}

} // namespace

TEST_CASE("check passes a healthy storage with exit status 0") {
  ctl_fixture f;
  f.put("S", "a", R"({"a": 1})", fixed_now - 3 * hour);
  f.put("S", "a", R"({"a": 2})", fixed_now);
  f.start("T", "b", R"({"b": 1})");
  auto r = f.run({"check"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "checked 2 key(s) and 3 version(s): 0 corrupt"));
}

TEST_CASE("check names each corrupt record by store, key and version and exits 1") {
  ctl_fixture f;
  f.put("S", "a", R"({"a": 1})", fixed_now - 3 * hour);
  f.put("S", "a", R"({"a": 2})", fixed_now);
  f.put("S", "b", R"({"b": 1})", fixed_now);
  // An older version: garbage in place of the whole entry.
  damage(f, "S", "a", 1, "\xde\xad\xbe\xef");
  // The latest version of b: a valid header, then a record that is not one.
  std::string entry;
  key_info info;
  info.version = 1;
  encode_version_entry(info, encode_msgpack(value::object({{"Data", 1}})), entry);
  damage(f, "S", "b", 1, entry);
  auto r = f.run({"check", "--json"});
  CHECK(r.status == 1);
  auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc["corrupt"].size() == 2);
  CHECK(doc["corrupt"][0]["key"] == "a");
  CHECK(doc["corrupt"][0]["version"] == "1");
  CHECK(doc["corrupt"][1]["key"] == "b");
  CHECK(contains(doc["corrupt"][1]["problem"].get<std::string>(),
                 "corrupt_record"));
  auto table = f.run({"check", "S"});
  CHECK(table.status == 1);
  CHECK(contains(table.out, "2 corrupt"));
  // get refuses to pass the fresh replacement off as the stored record.
  auto got = f.run({"get", "S", "b"});
  CHECK(got.status == 1);
  CHECK(contains(got.err, "not a valid record"));
}

TEST_CASE("check reports a head that names a missing version") {
  ctl_fixture f;
  f.put("S", "a", R"({"a": 1})", fixed_now);
  f.with_storage([](lmdb_backend& env, storage&) {
    auto txn = must(env.begin_write());
    must(txn->del(table::versions, versions_key("S", "a", 1)));
    must(txn->commit());
  });
  auto r = f.run({"check"});
  CHECK(r.status == 1);
  CHECK(contains(r.out, "names version 1, which does not exist"));
}

TEST_CASE("compact prunes versions past the retention and nothing newer") {
  ctl_fixture f;
  f.put("S", "a", R"({"v": 1})", fixed_now - 40 * day);
  f.put("S", "a", R"({"v": 2})", fixed_now - 35 * day); // v1 expired 5 d ago
  f.put("S", "b", R"({"v": 1})", fixed_now - 3 * day);
  f.put("S", "b", R"({"v": 2})", fixed_now - 2 * day); // b's v1: 2 d ago
  auto r = f.run({"compact", "--json"});
  CHECK(r.status == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["versions_removed"] == 1);
  CHECK(doc["keys_visited"] == 2);
  auto left = nlohmann::json::parse(f.run({"versions", "S", "a", "--json"}).out);
  REQUIRE(left["versions"].size() == 1);
  CHECK(left["versions"][0]["version"] == 2);
  CHECK(nlohmann::json::parse(f.run({"versions", "S", "b", "--json"}).out)
          ["versions"].size() == 2);
  // A shorter retention prunes b's first version as well.
  auto shorter = f.run({"compact", "--retention-days", "1"});
  CHECK(shorter.status == 0);
  CHECK(contains(shorter.out, "removed 1 expired version(s)"));
  CHECK(nlohmann::json::parse(f.run({"versions", "S", "b", "--json"}).out)
          ["versions"].size() == 1);
  CHECK(f.run({"compact", "--retention-days", "0"}).status == 1);
}

TEST_CASE("stats counts keys, removals, versions, bytes, sessions and messages") {
  ctl_fixture f;
  f.put("S", "a", R"({"v": 1})", fixed_now - 3 * hour);
  f.put("S", "a", R"({"v": 2})", fixed_now);
  f.put("S", "gone", R"({"v": 1})", fixed_now - 3 * hour);
  f.start("T", "b", R"({"b": 1})");
  f.run({"message", "T", "b", "--data", "1"});
  f.run({"remove", "S", "gone", "--yes"});
  auto doc = nlohmann::json::parse(f.run({"stats", "--json"}).out);
  CHECK(doc["stores"]["S"]["keys"] == 1);
  CHECK(doc["stores"]["S"]["removed_keys"] == 1);
  CHECK(doc["stores"]["S"]["versions"] == 4);
  CHECK(doc["stores"]["T"]["active_sessions"] == 1);
  CHECK(doc["stores"]["T"]["queued_messages"] == 1);
  CHECK(doc["stores"]["S"]["record_bytes"].get<std::uint64_t>() > 0);
  CHECK(doc["data_file_bytes"].get<std::uint64_t>() > 0);
  auto table = f.run({"stats"});
  CHECK(contains(table.out, "(all)"));
}
