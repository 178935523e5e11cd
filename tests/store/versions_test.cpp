// Versions: the window, retention pruning, tombstones, listing and key info,
// on both backends.
#include "store_harness.hpp"

#include <algorithm>

using namespace profilestore;
using namespace profilestore::testing;

namespace {

constexpr std::int64_t minute = 60'000;
constexpr std::int64_t hour = 60 * minute;
constexpr std::int64_t day = 24 * hour;

const session_ref alpha = session_of("alpha", 1);

storage_options policy(std::int64_t window, std::int64_t retention,
                       std::size_t prune_batch = 16) {
  storage_options o;
  o.versions.window_ms = window;
  o.versions.retention_ms = retention;
  o.versions.prune_batch = prune_batch;
  return o;
}

// Writes `coins` with set (no session needed).
void write_coins(store_harness& h, const std::string& key, int coins) {
  set_request req;
  req.data = bytes_of(value::object({{"coins", coins}}));
  auto r = h.run(set_op{test_store, key, req});
  REQUIRE_MESSAGE(r.ok(), r.err().to_string());
}

int coins_at(store_harness& h, const std::string& key,
             std::uint64_t version) {
  auto got = h.store().get(test_store, key, version);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  auto v = value_of((*got)->rec.data);
  return static_cast<int>(*v.get("coins")->to_int64());
}

// The key's stored head entry, raw.
std::string head_bytes(store_harness& h, const std::string& key) {
  auto txn = h.inner().begin_read();
  REQUIRE(txn.ok());
  auto raw = (*txn)->get(table::heads, heads_key(test_store, key));
  REQUIRE(raw.ok());
  REQUIRE(raw->has_value());
  return std::string(**raw);
}

void for_each_kind(void (*fn)(backend_kind)) {
  SUBCASE("memory") { fn(backend_kind::memory); }
  SUBCASE("lmdb") { fn(backend_kind::lmdb); }
}

} // namespace

TEST_CASE("writes inside the version window replace the latest version") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(hour, 30 * day));
    write_coins(h, "p1", 1);
    h.advance(10 * minute);
    write_coins(h, "p1", 2);
    h.advance(49 * minute);
    write_coins(h, "p1", 3);
    auto versions = h.versions("p1");
    REQUIRE(versions.size() == 1);
    CHECK(versions[0].version == 1);
    CHECK(versions[0].version_created_time == h.now() - 59 * minute);
    CHECK(versions[0].updated_time == h.now());
    CHECK(coins_at(h, "p1", 1) == 3);
  });
}

TEST_CASE("a write that replaces the latest version in place leaves the "
          "head entry as it is, and one that appends stores it") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(hour, 30 * day));
    write_coins(h, "p1", 1);
    const std::int64_t created = h.now();
    const std::string first_head = head_bytes(h, "p1");
    h.advance(10 * minute);
    write_coins(h, "p1", 2);
    CHECK(head_bytes(h, "p1") == first_head);
    // Key info takes the latest write's time from the version entry.
    auto got = h.store().get(test_store, "p1");
    REQUIRE(got.ok());
    REQUIRE(got->has_value());
    CHECK((*got)->info.updated_time == h.now());
    CHECK(coins_at(h, "p1", 1) == 2);

    h.advance(hour);
    write_coins(h, "p1", 3);
    auto head = decode_head_entry(head_bytes(h, "p1"));
    REQUIRE(head.ok());
    CHECK(head->latest_version == 2);
    CHECK(head->created_time == created);
    CHECK(head->version_created_time == h.now());
    CHECK(head->updated_time == h.now());
    CHECK_FALSE(head->deleted);
  });
}

TEST_CASE("a write after the version window appends a version") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(hour, 30 * day));
    write_coins(h, "p1", 1);
    h.advance(hour);
    write_coins(h, "p1", 2);
    h.advance(30 * minute);
    write_coins(h, "p1", 3);
    auto versions = h.versions("p1");
    REQUIRE(versions.size() == 2);
    CHECK(coins_at(h, "p1", 1) == 1);
    CHECK(coins_at(h, "p1", 2) == 3);
    CHECK(versions[1].created_time == versions[0].created_time);
  });
}

TEST_CASE("a version window of zero makes every write a version") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(0, 30 * day));
    for (int i = 1; i <= 5; ++i)
      write_coins(h, "p1", i);
    auto versions = h.versions("p1");
    REQUIRE(versions.size() == 5);
    for (int i = 1; i <= 5; ++i)
      CHECK(coins_at(h, "p1", static_cast<std::uint64_t>(i)) == i);
  });
}

TEST_CASE("versions expire a retention after they were superseded and the "
          "latest never does") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(0, 10 * day));
    write_coins(h, "p1", 1); // v1 at day 0
    h.advance(day);
    write_coins(h, "p1", 2); // v2 at day 1: v1 superseded at day 1
    h.advance(day);
    write_coins(h, "p1", 3); // v3 at day 2
    h.advance(9 * day);      // day 11: v1 expired (10 days after day 1)
    write_coins(h, "p1", 4); // v4; pruning runs on append
    auto versions = h.versions("p1");
    REQUIRE(versions.size() == 3);
    CHECK(versions[0].version == 2);
    h.advance(100 * day);
    write_coins(h, "p1", 5); // v2, v3 expired; v4 was superseded just now
    versions = h.versions("p1");
    REQUIRE(versions.size() == 2);
    CHECK(versions[0].version == 4);
    CHECK(coins_at(h, "p1", 5) == 5);
    auto progress = h.store().prune(h.now() + 100 * day, "");
    REQUIRE(progress.ok());
    versions = h.versions("p1");
    REQUIRE(versions.size() == 1);
    CHECK(versions[0].version == 5);
  });
}

TEST_CASE("pruning on write removes at most a bounded batch") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(0, day, 3));
    for (int i = 0; i < 10; ++i)
      write_coins(h, "p1", i);
    h.advance(2 * day);
    write_coins(h, "p1", 10); // 10 versions expired, at most 3 pruned
    CHECK(h.versions("p1").size() == 8);
    write_coins(h, "p1", 11);
    CHECK(h.versions("p1").size() == 6);
  });
}

TEST_CASE("a pruning pass over all keys resumes where it stopped and "
          "completes") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(0, day, 0)); // no pruning on write
    for (int k = 0; k < 5; ++k)
      for (int i = 0; i < 4; ++i)
        write_coins(h, "key" + std::to_string(k), i);
    h.advance(2 * day);
    std::string resume;
    std::size_t removed = 0;
    int steps = 0;
    bool complete = false;
    while (!complete) {
      auto progress = h.store().prune(h.now(), resume, 2, 100);
      REQUIRE_MESSAGE(progress.ok(), progress.err().to_string());
      removed += progress->versions_removed;
      resume = progress->resume_after;
      complete = progress->complete;
      ++steps;
      REQUIRE(steps < 100);
    }
    CHECK(removed == 15);
    CHECK(steps >= 8);
    for (int k = 0; k < 5; ++k)
      CHECK(h.versions("key" + std::to_string(k)).size() == 1);
  });
}

TEST_CASE("a tombstone is a version and a write after it starts a new key "
          "life") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(hour, 30 * day));
    write_coins(h, "p1", 1);
    h.advance(minute);
    REQUIRE(h.run(remove_op{test_store, "p1"}).ok()); // inside the window
    h.advance(minute);
    write_coins(h, "p1", 2);
    auto versions = h.versions("p1");
    REQUIRE(versions.size() == 3);
    CHECK_FALSE(versions[0].deleted);
    CHECK(versions[1].deleted);
    CHECK_FALSE(versions[2].deleted);
    CHECK(versions[2].created_time == h.now());
    CHECK(versions[0].created_time == h.now() - 2 * minute);
    // Roll back: read the version before the tombstone and set it.
    CHECK(coins_at(h, "p1", 1) == 1);
    auto deleted = h.store().get(test_store, "p1", 2);
    REQUIRE(deleted.ok());
    CHECK_FALSE(deleted->has_value());
  });
}

TEST_CASE("versions list in both directions with paging") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(0, 30 * day));
    for (int i = 1; i <= 7; ++i) {
      write_coins(h, "p1", i);
      h.advance(minute);
    }
    write_coins(h, "p10", 99); // a key sharing a prefix must not leak in
    for (bool descending : {false, true}) {
      version_query q;
      q.descending = descending;
      q.limit = 3;
      std::vector<std::uint64_t> seen;
      for (int page = 0; page < 5; ++page) {
        auto r = h.store().list_versions(test_store, "p1", q);
        REQUIRE(r.ok());
        for (const auto& v : r->versions)
          seen.push_back(v.version);
        if (!r->next_after)
          break;
        q.after_version = r->next_after;
      }
      std::vector<std::uint64_t> expected{1, 2, 3, 4, 5, 6, 7};
      if (descending)
        std::reverse(expected.begin(), expected.end());
      CHECK(seen == expected);
    }
  });
}

TEST_CASE("versions list between a minimum and a maximum time") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(0, 30 * day));
    std::int64_t start = h.now();
    for (int i = 1; i <= 6; ++i) {
      write_coins(h, "p1", i);
      h.advance(hour);
    }
    version_query q;
    q.min_time = start + hour;     // v2
    q.max_time = start + 4 * hour; // v5
    auto asc = h.store().list_versions(test_store, "p1", q);
    REQUIRE(asc.ok());
    REQUIRE(asc->versions.size() == 4);
    CHECK(asc->versions.front().version == 2);
    CHECK(asc->versions.back().version == 5);
    q.descending = true;
    q.limit = 1;
    auto desc = h.store().list_versions(test_store, "p1", q);
    REQUIRE(desc.ok());
    REQUIRE(desc->versions.size() == 1);
    CHECK(desc->versions[0].version == 5); // newest before the max time
    CHECK(desc->next_after == 5);
  });
}

TEST_CASE("listing versions of an absent key gives an empty page") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind);
    auto r = h.store().list_versions(test_store, "nobody", {});
    REQUIRE(r.ok());
    CHECK(r->versions.empty());
    CHECK_FALSE(r->next_after);
  });
}

TEST_CASE("key info records times, size, user ids and metadata per "
          "version") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind, policy(0, 30 * day));
    std::int64_t t0 = h.now();
    h.start("p1", alpha);
    h.advance(5 * minute);
    auto req = h.save_of(alpha, value::object({{"coins", 1}}));
    req.user_ids = {42};
    req.key_metadata = bytes_of(value::object({{"v", 2}}));
    auto r = h.save("p1", req);
    REQUIRE(r.ok());
    auto versions = h.versions("p1");
    REQUIRE(versions.size() == 2);
    const auto& v2 = versions[1];
    CHECK(v2.version == 2);
    CHECK(v2.created_time == t0);
    CHECK(v2.version_created_time == t0 + 5 * minute);
    CHECK(v2.updated_time == t0 + 5 * minute);
    CHECK(v2.user_ids == std::vector<std::int64_t>{42});
    CHECK(value_of(v2.key_metadata) == value::object({{"v", 2}}));
    auto got = h.store().get(test_store, "p1");
    REQUIRE(got.ok());
    CHECK(v2.size == encode_record((*got)->rec).size());
    CHECK(versions[0].user_ids.empty());
  });
}

TEST_CASE("keys list by prefix with paging and stores list once each") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind);
    for (const char* k : {"a1", "a2", "a3", "b1", "a"})
      write_coins(h, k, 1);
    REQUIRE(h.run(message_op{"other", "x", message_request{bytes_of(1), 0}})
              .ok());
    REQUIRE(h.run(message_op{"players2", "x", message_request{bytes_of(1), 0}})
              .ok());
    auto page = h.store().list_keys(test_store, "a", "", 2);
    REQUIRE(page.ok());
    CHECK(page->keys == std::vector<std::string>{"a", "a1"});
    REQUIRE(page->next_after);
    auto rest = h.store().list_keys(test_store, "a", *page->next_after, 10);
    REQUIRE(rest.ok());
    CHECK(rest->keys == std::vector<std::string>{"a2", "a3"});
    CHECK_FALSE(rest->next_after);
    auto stores = h.store().list_stores();
    REQUIRE(stores.ok());
    CHECK(*stores == std::vector<std::string>{"other", "players", "players2"});
  });
}

TEST_CASE("version and head entries have fixed golden bytes") {
  key_info info;
  info.version = 3;
  info.created_time = 1;
  info.version_created_time = 2;
  info.updated_time = 3;
  info.user_ids = {5};
  info.deleted = false;
  std::string out;
  encode_version_entry(info, "\xc0", out);
  // [1, 0, 1, 2, 3, [5], {}] then the record bytes (here: nil).
  CHECK(out == std::string("\x97\x01\x00\x01\x02\x03\x91\x05\x80\xc0", 10));
  auto back = decode_version_entry(3, out);
  CHECK_FALSE(back.header_corrupt);
  CHECK(back.record_bytes == "\xc0");
  CHECK(back.info.user_ids == std::vector<std::int64_t>{5});
  head_entry head{3, 1, 2, 3, true};
  CHECK(encode_head_entry(head)
        == std::string("\x96\x01\x03\x01\x02\x03\xc3", 7));
  CHECK(versions_key("s", "k", 258)
        == std::string("s\0k\0\0\0\0\0\0\0\x01\x02", 12));
}

TEST_CASE("a record encoded straight into its version entry stores the same "
          "bytes as one passed encoded") {
  for_each_kind([](backend_kind kind) {
    store_harness h(kind);
    record rec = make_new_profile(bytes_of(value::object({{"coins", 7}})),
                                  h.now());
    rec.user_ids = {9};
    const std::string encoded = encode_record(rec);
    auto txn = h.inner().begin_write();
    REQUIRE(txn.ok());
    version_write passed;
    passed.record_bytes = encoded;
    passed.user_ids = &rec.user_ids;
    version_write appended;
    appended.append_record = [&](std::string& out) { encode_record(rec, out); };
    appended.user_ids = &rec.user_ids;
    auto a = write_version(**txn, test_store, "passed", passed, h.now(), {});
    auto b = write_version(**txn, test_store, "appended", appended, h.now(),
                           {});
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->size == encoded.size());
    CHECK(b->size == encoded.size());
    auto va = (*txn)->get(table::versions, versions_key(test_store, "passed", 1));
    auto vb = (*txn)->get(table::versions,
                          versions_key(test_store, "appended", 1));
    REQUIRE(va.ok());
    REQUIRE(vb.ok());
    REQUIRE(va->has_value());
    REQUIRE(vb->has_value());
    CHECK(std::string(**va) == std::string(**vb));
    CHECK(decode_version_entry(1, **vb).record_bytes == encoded);
  });
}
