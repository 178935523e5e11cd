// storage: batches and group commit, injected backend failures, map growth,
// atomic save groups, corrupt and future-format records, on both backends.
#include "store_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

const session_ref alpha = session_of("alpha", 1);
const session_ref beta = session_of("beta", 2);

operation save_coins(const std::string& key, const session_ref& who,
                     int coins) {
  save_request req;
  req.session = who;
  req.data = bytes_of(value::object({{"coins", coins}}));
  return save_op{test_store, key, std::move(req)};
}

std::int64_t coins_of(store_harness& h, const std::string& key) {
  return *value_of(h.stored(key).data).get("coins")->to_int64();
}

} // namespace

BOTH_BACKENDS(batch_one_commit,
              "a batch applies its operations in order with one commit") {
  h.start("p1", alpha);
  auto commits_before = h.inner().stats().commits;
  std::vector<operation> ops{save_coins("p1", alpha, 1),
                             message_op{test_store, "p1",
                                        message_request{bytes_of(1), 0}},
                             save_coins("p1", alpha, 2),
                             message_op{test_store, "p2",
                                        message_request{bytes_of(2), 0}}};
  auto results = h.store().apply_batch(ops, h.now());
  REQUIRE(results.size() == 4);
  for (auto& r : results)
    CHECK(r.ok());
  CHECK(h.inner().stats().commits == commits_before + 1);
  CHECK(coins_of(h, "p1") == 2);
  // The second save saw the message written before it in the same batch.
  auto& reply = std::get<save_reply>(results[2]->reply);
  REQUIRE(reply.updates.size() == 1);
  CHECK(reply.updates[0].id == 1);
}

BOTH_BACKENDS(refusal_is_isolated,
              "a refused operation in a batch does not affect the others") {
  h.start("p1", alpha);
  h.start("p2", alpha);
  std::vector<operation> ops{save_coins("p1", alpha, 5),
                             save_coins("p2", beta, 666), // not the owner
                             save_coins("p2", alpha, 6)};
  auto results = h.store().apply_batch(ops, h.now());
  CHECK(results[0].ok());
  REQUIRE_FALSE(results[1].ok());
  CHECK(results[1].err().code() == errc::not_owner);
  CHECK(results[2].ok());
  CHECK(coins_of(h, "p1") == 5);
  CHECK(coins_of(h, "p2") == 6);
}

BOTH_BACKENDS(failed_commit_fails_all,
              "a failed commit fails every operation of the batch and writes "
              "nothing") {
  h.start("p1", alpha);
  REQUIRE(h.save("p1", std::get<save_op>(save_coins("p1", alpha, 1)).request)
            .ok());
  h.faults().fail_commits(1);
  std::vector<operation> ops{save_coins("p1", alpha, 2),
                             save_coins("p1", beta, 3),
                             message_op{test_store, "p9",
                                        message_request{bytes_of(1), 0}}};
  auto results = h.store().apply_batch(ops, h.now());
  REQUIRE(results.size() == 3);
  CHECK(results[0].err().code() == errc::storage_error);
  CHECK(results[1].err().code() == errc::not_owner); // its own error stays
  CHECK(results[2].err().code() == errc::storage_error);
  CHECK(coins_of(h, "p1") == 1);
  auto p9 = h.store().get(test_store, "p9");
  REQUIRE(p9.ok());
  CHECK_FALSE(p9->has_value());
  CHECK(h.faults().injected_commit_failures() == 1);
  // The next batch goes through.
  CHECK(h.store().apply_batch(ops, h.now())[0].ok());
  CHECK(coins_of(h, "p1") == 2);
}

BOTH_BACKENDS(unavailable_backend_fails_cleanly,
              "an unavailable backend fails the batch with a clear error") {
  h.faults().fail_begins(1, errc::storage_error);
  auto results = h.store().apply_batch(
    {message_op{test_store, "p1", message_request{bytes_of(1), 0}}}, h.now());
  REQUIRE(results.size() == 1);
  CHECK(results[0].err().code() == errc::storage_error);
  CHECK(h.message("p1", value(1)).ok());
}

BOTH_BACKENDS(map_full_grows_and_retries,
              "map full during a batch grows the map and runs it again") {
  h.start("p1", alpha);
  h.faults().map_full_puts(2);
  auto grows_before = h.inner().stats().grows;
  auto results = h.store().apply_batch(
    {save_coins("p1", alpha, 11), save_coins("p1", alpha, 12)}, h.now());
  CHECK(results[0].ok());
  CHECK(results[1].ok());
  CHECK(coins_of(h, "p1") == 12);
  CHECK(h.faults().injected_map_full() == 2);
  if (h.kind() == backend_kind::lmdb)
    CHECK(h.inner().stats().grows == grows_before + 2);
}

TEST_CASE("a real lmdb map fills up and grows while saving large profiles") {
  store_harness h(backend_kind::lmdb, every_write_versioned()); // 1 MiB map
  h.start("p1", alpha);
  save_request req;
  req.session = alpha;
  for (int i = 0; i < 8; ++i) {
    h.advance(1);
    req.data = bytes_of(value::object(
      {{"blob", binary(std::size_t{1} << 20, static_cast<std::uint8_t>(i))}}));
    auto r = h.save("p1", req);
    REQUIRE_MESSAGE(r.ok(), r.err().to_string());
  }
  CHECK(h.inner().stats().grows >= 3);
  CHECK(h.versions("p1").size() == 9);
  auto last = value_of(h.stored("p1").data);
  CHECK(last.get("blob")->if_binary()->front() == 7);
}

TEST_CASE("a map that cannot grow further reports storage full and writes "
          "nothing") {
  temp_dir dir("full");
  lmdb_options lo;
  lo.path = dir.path();
  lo.initial_map_size = std::size_t{256} << 10;
  lo.max_map_size = std::size_t{512} << 10;
  auto b = lmdb_backend::open(lo);
  REQUIRE(b.ok());
  storage s(**b);
  set_request req;
  req.data = bytes_of(value::object({{"blob", binary(700 * 1024, 1)}}));
  auto r = s.apply(set_op{test_store, "big", req}, 1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::storage_full);
  auto got = s.get(test_store, "big");
  REQUIRE(got.ok());
  CHECK_FALSE(got->has_value());
  req.data = bytes_of(value::object({{"small", 1}}));
  CHECK(s.apply(set_op{test_store, "small", req}, 2).ok());
}

BOTH_BACKENDS(group_all_or_nothing,
              "an atomic save group writes every save or none") {
  h.start("a", alpha);
  h.start("b", alpha);
  auto group = [&](const session_ref& b_owner, int a_coins, int b_coins) {
    save_group_op g{test_store, {}};
    g.saves.push_back(std::get<save_op>(save_coins("a", alpha, a_coins)));
    g.saves.push_back(std::get<save_op>(save_coins("b", b_owner, b_coins)));
    return h.run(g);
  };
  auto ok = group(alpha, 90, 110);
  REQUIRE_MESSAGE(ok.ok(), ok.err().to_string());
  CHECK(std::get<std::vector<save_reply>>(ok->reply).size() == 2);
  CHECK(coins_of(h, "a") == 90);
  CHECK(coins_of(h, "b") == 110);
  auto refused = group(beta, 0, 200); // b is not beta's
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code() == errc::not_owner);
  CHECK(refused.err().message().find("'b'") != std::string::npos);
  CHECK(coins_of(h, "a") == 90);
  CHECK(coins_of(h, "b") == 110);
}

BOTH_BACKENDS(group_rejects_duplicates,
              "an atomic save group that names a key twice is refused") {
  h.start("a", alpha);
  save_group_op g{test_store, {}};
  g.saves.push_back(std::get<save_op>(save_coins("a", alpha, 1)));
  g.saves.push_back(std::get<save_op>(save_coins("a", alpha, 2)));
  auto r = h.run(g);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::invalid_argument);
}

BOTH_BACKENDS(corrupt_start_overwrites,
              "corrupt bytes are reported as an overwrite at the next start "
              "and stay as an older version") {
  h.start("p1", alpha);
  std::string garbage = "\x93\x01\xff garbage that is not a record";
  h.inject_raw("p1", garbage);
  auto reply = h.start("p1", beta);
  CHECK(reply.outcome == start_outcome::started);
  CHECK(reply.overwritten);
  CHECK(reply.created);
  CHECK(reply.rec->was_overwritten);
  CHECK(value_of(reply.rec->data)
        == value::object({{"coins", 0}, {"items", value_array{}}}));
  auto versions = h.versions("p1");
  REQUIRE(versions.size() == 3);
  auto txn = h.inner().begin_read();
  REQUIRE(txn.ok());
  auto old = read_version(**txn, test_store, "p1", versions[1].version);
  REQUIRE(old.ok());
  REQUIRE(old->has_value());
  CHECK((*old)->record_bytes == garbage);
}

BOTH_BACKENDS(corrupt_get_reports,
              "a read of corrupt bytes reports an overwrite with a fresh "
              "record") {
  h.inject_raw("p1", "\xc1");
  auto got = h.store().get(test_store, "p1", std::nullopt,
                           h.template_data().get());
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->overwritten);
  CHECK((*got)->rec.was_overwritten);
  CHECK(value_of((*got)->rec.data)
        == value::object({{"coins", 0}, {"items", value_array{}}}));
  // Reading wrote nothing.
  CHECK(h.versions("p1").size() == 1);
}

BOTH_BACKENDS(corrupt_message_keeps_bytes,
              "a message to a corrupt key starts a new version and keeps the "
              "corrupt one") {
  h.inject_raw("p1", "not messagepack at all");
  auto r = h.message("p1", value("gift"));
  REQUIRE(r.ok());
  CHECK(std::get<message_reply>(r->reply).overwritten);
  CHECK(h.versions("p1").size() == 2);
  auto reply = h.start("p1", alpha);
  REQUIRE(reply.rec->updates.size() == 1);
}

BOTH_BACKENDS(damaged_head_recovered,
              "a damaged head entry is rebuilt from the newest version") {
  h.start("p1", alpha);
  REQUIRE(h.save("p1", std::get<save_op>(save_coins("p1", alpha, 3)).request)
            .ok());
  {
    auto txn = h.inner().begin_write();
    REQUIRE(txn.ok());
    REQUIRE((*txn)->put(table::heads, heads_key(test_store, "p1"), "junk")
              .ok());
    REQUIRE((*txn)->commit().ok());
  }
  CHECK(coins_of(h, "p1") == 3);
  REQUIRE(h.save("p1", std::get<save_op>(save_coins("p1", alpha, 4)).request)
            .ok());
  CHECK(coins_of(h, "p1") == 4);
  CHECK(h.versions("p1").size() == 3);
}

BOTH_BACKENDS_WITH(damaged_head_stored_again,
                   "a damaged head entry is stored again by the next write "
                   "that reads it, even one that replaces the latest version "
                   "in place",
                   storage_options{}) {
  h.start("p1", alpha);
  {
    auto txn = h.inner().begin_write();
    REQUIRE(txn.ok());
    REQUIRE((*txn)->put(table::heads, heads_key(test_store, "p1"), "junk")
              .ok());
    REQUIRE((*txn)->commit().ok());
  }
  h.advance(60'000); // inside the default version window of an hour
  REQUIRE(h.message("p1", value(7)).ok());
  REQUIRE(h.versions("p1").size() == 1);
  CHECK(h.versions("p1")[0].updated_time == h.now());
  auto txn = h.inner().begin_read();
  REQUIRE(txn.ok());
  auto raw = (*txn)->get(table::heads, heads_key(test_store, "p1"));
  REQUIRE(raw.ok());
  REQUIRE(raw->has_value());
  auto head = decode_head_entry(**raw);
  REQUIRE(head.ok());
  CHECK(head->latest_version == 1);
  CHECK(head->updated_time == h.now());
}

BOTH_BACKENDS(newer_format_left_alone,
              "a record of a newer format version is refused and never "
              "overwritten") {
  record rec = make_new_profile(bytes_of(value::object({})), 0);
  std::string bytes = encode_record(rec);
  // FormatVersion is the first value: 0x81.. map, "FormatVersion", 1.
  auto pos = bytes.find('\x01');
  REQUIRE(pos != std::string::npos);
  bytes[pos] = '\x02';
  h.inject_raw("p1", bytes);
  auto start = h.run(start_session_op{test_store, "p1", {alpha, false, true,
                                                         false, 630'000},
                                      h.template_data()});
  REQUIRE_FALSE(start.ok());
  CHECK(start.err().code() == errc::unsupported_format);
  auto msg = h.message("p1", value(1));
  CHECK(msg.err().code() == errc::unsupported_format);
  auto got = h.store().get(test_store, "p1");
  CHECK(got.err().code() == errc::unsupported_format);
  CHECK(h.versions("p1").size() == 1);
}
