// Messages to one key within a batch are applied to one record in memory and
// written once (store/src/storage.cpp, pending_messages). A batch of many
// messages to one key must read the key once, queue every message in order,
// stay in order with the other operations on the key, survive a rerun after
// map full, keep one version per message where every write is a version, and
// give the same results and stored bytes as the same operations applied one
// batch each.
#include <random>
#include <string>
#include <vector>

#include "random_ops.hpp"
#include "store_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

// Storage options with a version window, where messages are held back.
storage_options windowed() {
  storage_options o;
  o.versions.window_ms = 10'000;
  return o;
}

operation gift(const std::string& key, int n) {
  return message_op{test_store, key,
                    message_request{bytes_of(value::object({{"gift", n}})), 0}};
}

// Messages gift 0 .. count-1 to `key`, in that order.
std::vector<operation> gifts(const std::string& key, int count) {
  std::vector<operation> ops;
  for (int i = 0; i < count; ++i)
    ops.push_back(gift(key, i));
  return ops;
}

std::int64_t gift_of(const queued_update& u) {
  return *value_of(u.data).get("gift")->to_int64();
}

} // namespace

BOTH_BACKENDS_WITH(many_messages_read_once,
                   "a batch of 300 messages to one key reads the key once "
                   "and queues them all in order",
                   windowed()) {
  h.start("hot", alpha);
  auto ops = gifts("hot", 300);
  const auto gets_before = h.faults().write_transaction_gets();
  auto results = h.store().apply_batch(ops, h.now());
  // The head and the latest version, once (two per message before).
  CHECK(h.faults().write_transaction_gets() - gets_before <= 2);
  REQUIRE(results.size() == 300);
  for (std::size_t i = 0; i < results.size(); ++i) {
    REQUIRE_MESSAGE(results[i].ok(), results[i].err().to_string());
    CHECK(std::get<message_reply>(results[i]->reply).id == i + 1);
    CHECK(std::get<message_reply>(results[i]->reply).owner == alpha);
    REQUIRE(results[i]->written.has_value());
    CHECK(results[i]->written->version == 1);
  }
  auto rec = h.stored("hot");
  REQUIRE(rec.updates.size() == 300);
  for (std::size_t i = 0; i < rec.updates.size(); ++i) {
    CHECK(rec.updates[i].id == i + 1);
    CHECK(gift_of(rec.updates[i]) == static_cast<std::int64_t>(i));
  }
  CHECK(rec.meta.active_session == alpha);
}

BOTH_BACKENDS_WITH(save_sees_held_messages,
                   "messages held back are written before another operation "
                   "on their key, which sees them",
                   windowed()) {
  h.start("hot", alpha);
  h.start("other", alpha);
  std::vector<operation> ops{gift("hot", 1), gift("other", 7), gift("hot", 2),
                             save_op{test_store, "hot", coins_save(alpha, 5)},
                             gift("hot", 3)};
  auto results = h.store().apply_batch(ops, h.now());
  for (auto& r : results)
    REQUIRE_MESSAGE(r.ok(), r.err().to_string());
  // The save's answer carries the queue as the save found it.
  const auto& saved = std::get<save_reply>(results[3]->reply);
  REQUIRE(saved.updates.size() == 2);
  CHECK(gift_of(saved.updates[0]) == 1);
  CHECK(gift_of(saved.updates[1]) == 2);
  CHECK(std::get<message_reply>(results[4]->reply).id == 3);
  auto hot = h.stored("hot");
  REQUIRE(hot.updates.size() == 3);
  CHECK(gift_of(hot.updates[2]) == 3);
  CHECK(*value_of(hot.data).get("coins")->to_int64() == 5);
  REQUIRE(h.stored("other").updates.size() == 1);
}

BOTH_BACKENDS_WITH(held_messages_rerun_after_map_full,
                   "a held-back write that hits map full reruns the batch, "
                   "and every message is queued once",
                   windowed()) {
  h.start("hot", alpha);
  auto ops = gifts("hot", 10);
  // The held-back record is the batch's first put.
  h.faults().map_full_puts(1);
  auto results = h.store().apply_batch(ops, h.now());
  CHECK(h.faults().injected_map_full() == 1);
  for (std::size_t i = 0; i < results.size(); ++i) {
    REQUIRE_MESSAGE(results[i].ok(), results[i].err().to_string());
    CHECK(std::get<message_reply>(results[i]->reply).id == i + 1);
  }
  CHECK(h.stored("hot").updates.size() == 10);
}

BOTH_BACKENDS(messages_keep_their_versions,
              "where every write is a version, each message of a batch is a "
              "version of its own") {
  h.start("hot", alpha);
  auto ops = gifts("hot", 5);
  for (auto& r : h.store().apply_batch(ops, h.now()))
    REQUIRE_MESSAGE(r.ok(), r.err().to_string());
  CHECK(h.versions("hot").size() == 6); // the start and one per message
}

TEST_CASE("random batches give the same results and stored bytes as their "
          "operations one batch each") {
  const unsigned seed = test_seed(20261201u);
  MESSAGE("message batch twin seed: " << seed
                                      << " (PROFILESTORE_TEST_SEED sets it)");
  for (auto kind : {backend_kind::memory, backend_kind::lmdb}) {
    CAPTURE(static_cast<int>(kind));
    store_harness batched(kind, windowed());
    store_harness single(kind, windowed());
    std::mt19937 rng(seed);
    auto below = [&](int n) {
      return std::uniform_int_distribution<int>(0, n - 1)(rng);
    };
    for (int step = 0; step < 200; ++step) {
      INFO("seed " << seed << ", step " << step);
      std::vector<operation> ops;
      const int n = 1 + below(6);
      for (int i = 0; i < n; ++i) {
        ops.push_back(random_op(rng, single));
        // More messages than random_op makes, so that batches hold
        // several to one key among the other operations.
        for (int extra = below(4); extra > 0; --extra)
          ops.push_back(gift("k" + std::to_string(below(4)), below(1000)));
      }
      auto a = batched.store().apply_batch(ops, batched.now());
      REQUIRE(a.size() == ops.size());
      for (std::size_t i = 0; i < ops.size(); ++i) {
        auto b = single.store().apply(ops[i], single.now());
        REQUIRE(summary(a[i], false) == summary(b, false));
      }
      REQUIRE(stored_state(batched) == stored_state(single));
      auto ms = std::uniform_int_distribution<std::int64_t>(0, 6000)(rng);
      batched.advance(ms);
      single.advance(ms);
    }
  }
}
