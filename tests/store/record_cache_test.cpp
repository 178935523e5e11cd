// The records storage remembers after writing them (store/src/record_cache):
// a save must see exactly what it would see by reading the key, after other
// writers' commits, aborted batches and map growth, on both backends. The
// last test runs seeded random batches twice, with the cache and without it,
// and requires the same results and the same stored bytes at every step.
#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <utility>

#include "random_ops.hpp"
#include "store_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

std::int64_t coins_of(store_harness& h, const std::string& key) {
  return *value_of(h.stored(key).data).get("coins")->to_int64();
}

// Storage options with the cache on and every write a version.
storage_options cached_options() {
  storage_options o = every_write_versioned();
  o.record_cache_entries = 16384;
  return o;
}

} // namespace

// BOTH_BACKENDS (store_harness.hpp) with the record cache turned on.
#define CACHED_BOTH_BACKENDS(fn, sentence)                                     \
  BOTH_BACKENDS_WITH(fn, sentence, cached_options())

CACHED_BOTH_BACKENDS(cache_sees_other_writers,
              "a save after another writer's commit judges by that write, "
              "not by the record storage remembers") {
  h.start("p1", alpha);
  REQUIRE(h.save("p1", coins_save(alpha, 1)).ok()); // remembered now
  // Another storage on the same backend (another process on the same LMDB
  // environment) steals the key for beta.
  storage other(h.faults(), every_write_versioned());
  auto stolen = other.apply(start_of(h, "p1", beta, true), h.now());
  REQUIRE_MESSAGE(stolen.ok(), stolen.err().to_string());
  REQUIRE(std::get<start_session_reply>(stolen->reply).outcome
          == start_outcome::started);
  auto late = h.save("p1", coins_save(alpha, 2));
  REQUIRE_FALSE(late.ok());
  CHECK(late.err().code() == errc::not_owner);
  CHECK(coins_of(h, "p1") == 1);
}

CACHED_BOTH_BACKENDS(cache_keeps_live_sessions_only,
              "a save that keeps its session is remembered, a final save is "
              "not: after it the key is read again") {
  auto& faults = h.faults();
  auto gets_of = [&](const save_request& req) {
    auto before = faults.write_transaction_gets();
    auto r = h.save("p1", req);
    return std::make_pair(r.ok(), faults.write_transaction_gets() - before);
  };
  h.start("p1", alpha);
  auto [first_ok, first_gets] = gets_of(coins_save(alpha, 1)); // reads
  auto [second_ok, second_gets] = gets_of(coins_save(alpha, 2));
  REQUIRE(first_ok);
  REQUIRE(second_ok);
  CHECK(second_gets < first_gets); // the second knew the record
  auto [final_ok, final_gets] = gets_of(
    coins_save(alpha, 3, final_action::release));
  REQUIRE(final_ok);
  (void) final_gets;
  // A late save of the ended session is refused either way; that it read
  // the key shows the final save's record was not kept.
  auto [late_ok, late_gets] = gets_of(coins_save(alpha, 4));
  CHECK_FALSE(late_ok);
  CHECK(late_gets > 0);
  CHECK(coins_of(h, "p1") == 3);
}

CACHED_BOTH_BACKENDS(cache_after_empty_commit,
              "another writer's commit right after a batch that wrote "
              "nothing is noticed too") {
  h.start("p1", alpha);
  REQUIRE(h.save("p1", coins_save(alpha, 1)).ok());
  // Refused, so the batch commits no write (LMDB then uses no number).
  REQUIRE_FALSE(h.save("p1", coins_save(beta, 9)).ok());
  storage other(h.faults(), every_write_versioned());
  REQUIRE(other.apply(start_of(h, "p1", beta, true), h.now()).ok());
  auto late = h.save("p1", coins_save(alpha, 2));
  REQUIRE_FALSE(late.ok());
  CHECK(late.err().code() == errc::not_owner);
}

CACHED_BOTH_BACKENDS(cache_undone_by_failed_commit,
              "a batch whose commit failed leaves storage remembering the "
              "records from before it") {
  h.start("p1", alpha);
  REQUIRE(h.save("p1", coins_save(alpha, 1)).ok());
  h.faults().fail_commits(1);
  auto failed = h.store().apply_batch(
    {save_op{test_store, "p1", coins_save(alpha, 2, final_action::release)}},
    h.now());
  REQUIRE_FALSE(failed[0].ok());
  // The release never happened: alpha still owns the key.
  auto next = h.save("p1", coins_save(alpha, 3));
  REQUIRE_MESSAGE(next.ok(), next.err().to_string());
  CHECK(coins_of(h, "p1") == 3);
}

CACHED_BOTH_BACKENDS(cache_undone_before_rerun,
              "a batch run again after map full starts from the records "
              "from before its first run") {
  h.start("p1", alpha);
  h.start("p2", alpha);
  REQUIRE(h.save("p1", coins_save(alpha, 1)).ok());
  REQUIRE(h.save("p2", coins_save(alpha, 1)).ok());
  // The first save (a release) is applied, then a put of the third
  // operation hits map full: the batch is aborted and runs again.
  std::vector<operation> ops{
    save_op{test_store, "p1", coins_save(alpha, 2, final_action::release)},
    save_op{test_store, "p2", coins_save(alpha, 2)},
    save_op{test_store, "p2", coins_save(alpha, 3)}};
  // Two puts per save (version, head): the fifth put fails.
  h.faults().map_full_puts(1, 4);
  auto results = h.store().apply_batch(ops, h.now());
  CHECK(h.faults().injected_map_full() == 1);
  for (auto& r : results)
    CHECK_MESSAGE(r.ok(), r.err().to_string());
  CHECK(coins_of(h, "p1") == 2);
  CHECK(coins_of(h, "p2") == 3);
  // The release of p1 was applied once, on the run that committed.
  CHECK_FALSE(h.stored("p1").meta.active_session.has_value());
}

namespace {

void run_twins(backend_kind kind, std::size_t cache_entries,
               std::int64_t window_ms, unsigned seed) {
  storage_options cached;
  cached.versions.window_ms = window_ms;
  cached.record_cache_entries = cache_entries;
  storage_options plain = cached;
  plain.record_cache_entries = 0;
  store_harness with(kind, cached);
  store_harness without(kind, plain);
  // A second writer on each backend, as another process would be.
  storage other_with(with.faults(), plain);
  storage other_without(without.faults(), plain);
  std::mt19937 rng(seed);
  auto chance = [&](int percent) {
    return std::uniform_int_distribution<int>(0, 99)(rng) < percent;
  };
  for (int step = 0; step < 250; ++step) {
    INFO("seed " << seed << ", step " << step);
    if (chance(25)) {
      auto op = random_op(rng, without);
      auto a = other_with.apply(op, with.now());
      auto b = other_without.apply(op, without.now());
      REQUIRE(summary(a) == summary(b));
    }
    if (chance(8)) {
      with.faults().fail_commits(1);
      without.faults().fail_commits(1);
    } else if (chance(8)) {
      with.faults().map_full_puts(1);
      without.faults().map_full_puts(1);
    }
    std::vector<operation> ops;
    auto n = std::uniform_int_distribution<int>(1, 6)(rng);
    for (int i = 0; i < n; ++i)
      ops.push_back(random_op(rng, without));
    auto a = with.store().apply_batch(ops, with.now());
    auto b = without.store().apply_batch(ops, without.now());
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      REQUIRE(summary(a[i]) == summary(b[i]));
    REQUIRE(stored_state(with) == stored_state(without));
    auto ms = std::uniform_int_distribution<std::int64_t>(0, 4000)(rng);
    with.advance(ms);
    without.advance(ms);
  }
}

} // namespace

TEST_CASE("random batches give the same results and stored bytes with and "
          "without the record cache") {
  const unsigned seed = test_seed(20261130u);
  MESSAGE("record cache twin seed: " << seed
                                     << " (PROFILESTORE_TEST_SEED sets it)");
  for (auto kind : {backend_kind::memory, backend_kind::lmdb}) {
    for (std::int64_t window : {std::int64_t{0}, std::int64_t{10'000}}) {
      // 2 entries: the cache fills and starts over all the time.
      for (std::size_t entries : {std::size_t{16384}, std::size_t{2}}) {
        CAPTURE(static_cast<int>(kind));
        CAPTURE(window);
        CAPTURE(entries);
        run_twins(kind, entries, window, seed);
      }
    }
  }
}
