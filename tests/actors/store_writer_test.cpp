// The store writer's group commit: how writes that wait together are cut
// into transactions (store_actor.hpp: max_batch, max_batch_bytes).
#include "internal_messages.hpp"
#include "runtime_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

// A writer on the test coordinator with the given bounds, over a counting
// backend.
struct writer_fixture : test_system {
  std::shared_ptr<faulty_backend> backend
    = std::make_shared<faulty_backend>(std::make_unique<memory_backend>());
  store_actors storage;

  writer_fixture(std::size_t max_batch, std::size_t max_batch_bytes) {
    store_actor_options o;
    o.clock = [this] { return now_ms(); };
    o.detached_writer = false;
    o.max_batch = max_batch;
    o.max_batch_bytes = max_batch_bytes;
    storage = spawn_store_actors(sys, backend, o);
    run();
  }

  ~writer_fixture() {
    storage.stop();
    run();
  }

  std::uint64_t commits() const { return backend->stats().commits; }

  // A set of `key` whose Data is a map holding `n` bytes of text.
  static set_op set_of(const std::string& key, std::size_t n) {
    set_op op;
    op.store = "players";
    op.key = key;
    op.request.data
      = encode_msgpack(value::object({{"blob", std::string(n, 'x')}}));
    return op;
  }

  // Sends every write at once, runs the writer and returns the answers.
  std::vector<result<applied_op>> write_all(const std::vector<set_op>& ops) {
    std::vector<std::shared_ptr<std::optional<result<applied_op>>>> slots;
    for (const auto& op : ops)
      slots.push_back(ask_later<applied_op>(storage.writer, op));
    run();
    std::vector<result<applied_op>> out;
    for (auto& slot : slots) {
      REQUIRE_MESSAGE(slot->has_value(), "a write was not answered");
      out.push_back(std::move(**slot));
    }
    return out;
  }

  // `count` writes of `bytes` each, to keys p0, p1, ...
  static std::vector<set_op> sets_of(int count, std::size_t bytes) {
    std::vector<set_op> ops;
    for (int i = 0; i < count; ++i)
      ops.push_back(set_of("p" + std::to_string(i), bytes));
    return ops;
  }

  // Writes `ops` at once, checks that each succeeded, and returns how many
  // transactions that took.
  std::uint64_t commits_to_write(const std::vector<set_op>& ops) {
    auto before = commits();
    for (auto& r : write_all(ops))
      CHECK_MESSAGE(r.ok(), r.err().to_string());
    return commits() - before;
  }

  std::size_t stored_size(const std::string& key) {
    auto r = storage.shared_storage->get("players", key);
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    return (*r)->rec.data.size();
  }
};

} // namespace

TEST_CASE("writes waiting together past max_batch_bytes go out in several "
          "transactions, each answered") {
  // Five writes of about 4,000 B: two fit in 10,000 B, a third would not.
  writer_fixture w(4096, 10'000);
  CHECK(w.commits_to_write(writer_fixture::sets_of(5, 4000)) == 3);
  for (int i = 0; i < 5; ++i)
    CHECK(w.stored_size("p" + std::to_string(i)) > 4000);
}

TEST_CASE("a write larger than max_batch_bytes goes out alone and is "
          "answered") {
  writer_fixture w(4096, 1000);
  // Each goes alone: past a transaction's first write, none fits in 1,000 B.
  CHECK(w.commits_to_write({writer_fixture::set_of("big", 5000),
                            writer_fixture::set_of("small", 10),
                            writer_fixture::set_of("big2", 5000)})
        == 3);
}

TEST_CASE("writes waiting together past max_batch go out max_batch at a "
          "time, and a max_batch of 0 still makes progress") {
  SUBCASE("max_batch 2") {
    writer_fixture w(2, std::size_t{64} << 20);
    CHECK(w.commits_to_write(writer_fixture::sets_of(5, 10)) == 3);
  }
  SUBCASE("max_batch 0") {
    writer_fixture w(0, std::size_t{64} << 20);
    CHECK(w.commits_to_write(writer_fixture::sets_of(2, 10)) == 2);
  }
}

TEST_CASE("payload_bytes counts what each kind of write carries") {
  auto set = writer_fixture::set_of("k", 100);
  CHECK(payload_bytes(operation{set})
        == set.store.size() + set.key.size() + set.request.data.size()
             + set.request.meta_tags.size() + set.request.key_metadata.size());
  save_op save;
  save.store = "s";
  save.key = "key";
  save.request.data = std::string(300, 'd');
  save.request.user_ids = {1, 2};
  const auto one_save = 1 + 3 + 300 + save.request.meta_tags.size()
                        + save.request.key_metadata.size()
                        + 2 * sizeof(std::int64_t);
  CHECK(payload_bytes(operation{save}) == one_save);
  save_group_op group;
  group.store = "s";
  group.saves = {save, save};
  CHECK(payload_bytes(operation{group}) == 1 + 2 * one_save);
  start_session_op start;
  start.store = "s";
  start.key = "key";
  CHECK(payload_bytes(operation{start}) == 4);
  start.template_data = std::make_shared<const std::string>(50, 't');
  CHECK(payload_bytes(operation{start}) == 54);
  message_op msg{"s", "key", message_request{std::string(20, 'm'), 0}};
  CHECK(payload_bytes(operation{msg}) == 24);
  CHECK(payload_bytes(operation{remove_op{"s", "key"}}) == 4);
  edit_updates_op edit;
  edit.store = "s";
  edit.key = "key";
  edit.request.edits = {update_edit{update_edit_kind::add, 0, "abc"},
                        update_edit{update_edit_kind::clear, 7, ""}};
  CHECK(payload_bytes(operation{edit}) == 7);
}

namespace {

start_session_op start_of(const std::string& key) {
  start_session_op op;
  op.store = "players";
  op.key = key;
  op.request.requester = session_ref{"node-a", 1, 7};
  op.template_data
    = std::make_shared<const std::string>(encode_msgpack(value_map{}));
  return op;
}

} // namespace

TEST_CASE("a group of starts is answered once, with each start's own "
          "outcome in order, even when it spans transactions") {
  writer_fixture w(2, std::size_t{64} << 20);
  start_group_op group;
  group.ops = {start_of("a"), start_of(""), start_of("b"), start_of("c")};
  auto before = w.commits();
  auto reply = w.ask<start_group_reply>(w.storage.writer, group);
  REQUIRE(reply.ok());
  REQUIRE(reply->results.size() == 4);
  // Four writes, two per transaction (the refused one takes its place in
  // the first without writing).
  CHECK(w.commits() - before == 2);
  for (std::size_t i : {0, 2, 3}) {
    const auto& r = reply->results[i];
    REQUIRE_MESSAGE(r.applied.has_value(), r.err.to_string());
    auto& started = std::get<start_session_reply>(r.applied->reply);
    CHECK(started.outcome == start_outcome::started);
    CHECK(started.created);
  }
  CHECK_FALSE(reply->results[1].applied.has_value());
  CHECK(reply->results[1].err.code() == errc::invalid_key);
  for (auto key : {"a", "b", "c"}) {
    auto stored = w.storage.shared_storage->get("players", key);
    REQUIRE(stored.ok());
    CHECK(stored->has_value());
  }
  // An empty group is answered at once and writes nothing.
  auto empty = w.ask<start_group_reply>(w.storage.writer, start_group_op{});
  REQUIRE(empty.ok());
  CHECK(empty->results.empty());
  CHECK(w.commits() - before == 2);
}
