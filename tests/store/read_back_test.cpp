// Tests that what storage accepts it can read back, and that hostile numbers
// in stored bytes cannot make it misbehave: key metadata as deep as a save
// accepts, message queues as long as a request asks for, paging limits of
// 0, stored times at the ends of the int64 range, and a message id counter
// at its end.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "profilestore/store/atomic_batch.hpp"
#include "profilestore/store/node_directory.hpp"
#include "store_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

const session_ref owner_a = session_of("alpha", 1);
const session_ref owner_b = session_of("beta", 2);

// Key metadata nested `levels` maps deep: {"a": {"a": ... {} ...}}.
std::string nested_metadata(int levels) {
  value v = value::object({});
  for (int i = 1; i < levels; ++i)
    v = value::object({{"a", v}});
  return bytes_of(v);
}

// The latest record of `key`, which must be there and read as it was
// written (not replaced as corrupt).
record read_back(store_harness& h, const std::string& key) {
  auto read = h.store().get(test_store, key);
  REQUIRE_MESSAGE(read.ok(), read.err().to_string());
  REQUIRE(read->has_value());
  CHECK_FALSE((*read)->overwritten);
  return std::move((*read)->rec);
}

bool has_coins(const record& rec, std::int64_t coins) {
  return value_of(rec.data) == value::object({{"coins", coins}});
}

} // namespace

BOTH_BACKENDS(nested_key_metadata_reads_back,
              "key metadata as deep as a save accepts reads back and a later "
              "start keeps the Data") {
  for (int levels : {5, 90}) {
    CAPTURE(levels);
    const std::string key = "p" + std::to_string(levels);
    h.start(key, owner_a);
    auto req = h.save_of(owner_a, value::object({{"coins", 7}}));
    req.key_metadata = nested_metadata(levels);
    REQUIRE(req.key_metadata.size() <= storage_limits{}.max_key_metadata_bytes);
    auto saved = h.save(key, req);
    REQUIRE_MESSAGE(saved.ok(), saved.err().to_string());

    auto read = read_back(h, key);
    CHECK(has_coins(read, 7));
    CHECK(read.key_metadata == req.key_metadata);
    auto versions = h.versions(key);
    REQUIRE_FALSE(versions.empty());
    CHECK(versions.back().key_metadata == req.key_metadata);

    auto release = h.save_of(owner_a, value::object({{"coins", 8}}),
                             final_action::release);
    release.key_metadata = req.key_metadata;
    REQUIRE(h.save(key, release).ok());
    auto next = h.start(key, owner_b);
    CHECK(next.outcome == start_outcome::started);
    CHECK_FALSE(next.overwritten);
    REQUIRE(next.rec);
    CHECK(has_coins(*next.rec, 8));
  }
}

static storage_options short_decodable_queue() {
  storage_options o = every_write_versioned();
  o.limits.record_decode.max_container_length = 8;
  return o;
}

BOTH_BACKENDS_WITH(queue_capped_by_record_decoding,
                   "a message queue never grows past what its record decodes",
                   short_decodable_queue()) {
  h.start("p", owner_a);
  // The request allows 100; the record decoder reads lists of at most 8.
  for (int i = 0; i < 8; ++i) {
    auto sent = h.message("p", value(i), 100);
    REQUIRE_MESSAGE(sent.ok(), sent.err().to_string());
  }
  auto ninth = h.message("p", value(8), 100);
  REQUIRE_FALSE(ninth.ok());
  CHECK(ninth.err().code() == errc::message_queue_full);

  CHECK(read_back(h, "p").updates.size() == 8);
  auto saved = h.save("p", h.save_of(owner_a, value::object({{"coins", 1}})));
  CHECK_MESSAGE(saved.ok(), saved.err().to_string());
}

static storage_options few_decodable_objects() {
  storage_options o = every_write_versioned();
  o.limits.record_decode.max_objects = 2'000;
  return o;
}

BOTH_BACKENDS_WITH(queue_capped_by_record_objects,
                   "a message queue never grows past the objects its record "
                   "decodes",
                   few_decodable_objects()) {
  h.start("p", owner_a);
  int accepted = 0;
  for (int i = 0; i < 1'000; ++i) {
    auto sent = h.message("p", value(i), 1'000);
    if (!sent.ok()) {
      CHECK(sent.err().code() == errc::message_queue_full);
      break;
    }
    ++accepted;
  }
  CHECK(accepted > 0);
  CHECK(accepted < 1'000);
  CHECK(read_back(h, "p").updates.size() == static_cast<std::size_t>(accepted));
}

BOTH_BACKENDS(paging_limit_zero,
              "listing versions or keys, or pruning, with a limit of 0 is refused") {
  h.start("p", owner_a);
  version_query q;
  q.limit = 0;
  auto page = h.store().list_versions(test_store, "p", q);
  REQUIRE_FALSE(page.ok());
  CHECK(page.err().code() == errc::invalid_argument);
  auto keys = h.store().list_keys(test_store, "", "", 0);
  REQUIRE_FALSE(keys.ok());
  CHECK(keys.err().code() == errc::invalid_argument);
  for (auto [versions, keys_per_step] : {std::pair{0, 10}, std::pair{10, 0}}) {
    auto step = h.store().prune(h.now(), "", versions, keys_per_step);
    REQUIRE_FALSE(step.ok());
    CHECK(step.err().code() == errc::invalid_argument);
  }
}

BOTH_BACKENDS(last_update_at_dawn_of_time,
              "a stored LastUpdate of the lowest int64 counts as long dead") {
  record rec = make_new_profile(*h.template_data(), h.now());
  rec.meta.active_session = owner_b;
  rec.meta.last_update = std::numeric_limits<std::int64_t>::min();
  h.inject_raw("p", encode_record(rec));
  start_session_request req;
  req.requester = owner_a;
  req.assume_dead_ms = 1'000;
  start_session_op op{test_store, "p", req, h.template_data()};
  auto r = h.run(op);
  REQUIRE_MESSAGE(r.ok(), r.err().to_string());
  CHECK(std::get<start_session_reply>(r->reply).outcome
        == start_outcome::started);
}

static storage_options one_minute_window() {
  storage_options o;
  o.versions.window_ms = 60'000;
  return o;
}

BOTH_BACKENDS_WITH(version_created_at_dawn_of_time,
                   "a version created at the lowest storage time is never "
                   "inside the version window",
                   one_minute_window()) {
  // Storage time as low as it goes: start there, then come back.
  constexpr std::int64_t half_min = std::numeric_limits<std::int64_t>::min() / 2;
  h.advance(half_min);
  h.advance(half_min);
  h.start("p", owner_a);
  REQUIRE(h.versions("p").size() == 1);
  h.advance(-half_min);
  h.advance(-half_min);
  auto saved = h.save("p", h.save_of(owner_a, value::object({{"coins", 2}})));
  REQUIRE_MESSAGE(saved.ok(), saved.err().to_string());
  CHECK(h.versions("p").size() == 2);
}

BOTH_BACKENDS(message_ids_used_up,
              "a message to a record whose message ids are used up is "
              "refused and the record stays readable") {
  h.start("p", owner_a);
  record rec = h.stored("p");
  rec.last_update_id = std::numeric_limits<std::uint64_t>::max();
  h.inject_raw("p", encode_record(rec));
  auto sent = h.message("p", value(1));
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.err().code() == errc::corrupt_record);
  CHECK(read_back(h, "p").updates.empty());
}

BOTH_BACKENDS(failed_put_part_way_writes_nothing,
              "a backend failure part-way through an operation's writes "
              "fails the whole batch and writes nothing") {
  // A start writes a version entry, then the head; the head's put fails as
  // an allocation failure inside the backend would (errc::internal).
  h.faults().fail_puts(1, errc::internal, 1);
  start_session_request req;
  req.requester = owner_a;
  auto started = h.run(start_session_op{test_store, "p", req, h.template_data()});
  REQUIRE_FALSE(started.ok());
  CHECK(started.err().code() == errc::internal);
  h.faults().heal();
  auto read = h.store().get(test_store, "p");
  REQUIRE(read.ok());
  CHECK_FALSE(read->has_value());
  CHECK(h.versions("p").empty());
}

BOTH_BACKENDS(node_entry_reads_back,
              "a node's directory entry is refused unless it reads back") {
  const std::string longest(max_node_address_bytes, 'a');
  REQUIRE(renew_lease(h.inner(), "alpha", 1, longest, 10'000, h.now()).ok());
  {
    auto txn = h.inner().begin_read();
    REQUIRE(txn.ok());
    auto entry = read_node(**txn, "alpha");
    REQUIRE_MESSAGE(entry.ok(), entry.err().to_string());
    REQUIRE(entry->has_value());
    CHECK((*entry)->address == longest);
  }
  auto too_long = renew_lease(h.inner(), "alpha", 1, longest + "a", 10'000,
                              h.now());
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.err().code() == errc::invalid_argument);
  auto endless = renew_lease(h.inner(), "alpha", 1, "",
                             std::numeric_limits<std::int64_t>::max(), h.now());
  REQUIRE_FALSE(endless.ok());
  CHECK(endless.err().code() == errc::invalid_argument);
}

namespace {

// Deletes version `version` of `key` behind storage's back (damage).
void drop_version(store_harness& h, const std::string& key,
                  std::uint64_t version) {
  auto txn = h.inner().begin_write();
  REQUIRE(txn.ok());
  REQUIRE((*txn)->del(table::versions, versions_key(test_store, key, version)).ok());
  REQUIRE((*txn)->commit().ok());
}

} // namespace

BOTH_BACKENDS(head_without_its_version,
              "a head naming a version that is gone reads as corrupt, not "
              "absent") {
  h.start("p", owner_a);
  REQUIRE(h.save("p", h.save_of(owner_a, value::object({{"coins", 3}}),
                                final_action::release))
            .ok());
  drop_version(h, "p", h.versions("p").back().version);

  auto read = h.store().get(test_store, "p", std::nullopt,
                            h.template_data().get());
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK((*read)->overwritten);
  CHECK(value_of((*read)->rec.data) == value_of(*h.template_data()));

  auto next = h.start("p", owner_b);
  CHECK(next.outcome == start_outcome::started);
  CHECK(next.overwritten);
}

BOTH_BACKENDS(version_numbers_used_up,
              "a write to a key whose head names the last version number is "
              "refused instead of wrapping to 0") {
  h.start("p", owner_a);
  head_entry head;
  head.latest_version = std::numeric_limits<std::uint64_t>::max();
  head.created_time = head.version_created_time = head.updated_time = h.now();
  {
    auto txn = h.inner().begin_write();
    REQUIRE(txn.ok());
    REQUIRE((*txn)->put(table::heads, heads_key(test_store, "p"),
                        encode_head_entry(head)).ok());
    REQUIRE((*txn)->commit().ok());
  }
  start_session_request req;
  req.requester = owner_b;
  req.steal = true;
  auto started = h.run(start_session_op{test_store, "p", req, h.template_data()});
  REQUIRE_FALSE(started.ok());
  CHECK(started.err().code() == errc::corrupt_record);
  for (const auto& v : h.versions("p"))
    CHECK(v.version != 0);
}
