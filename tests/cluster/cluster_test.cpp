// Cross-node behaviour over real TCP on 127.0.0.1 (cluster_harness.hpp):
// hand-off, messages to another node's profile, lease expiry and fencing,
// storage restart, sharding. The retry periods are set far beyond the
// facade's timeouts, so a test passes only if the cluster's notices work; no
// test measures time.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>

#include "cluster_harness.hpp"
#include "internal_messages.hpp" // to send a save with a stale session
#include "profilestore/store/node_directory.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

struct player {
  std::int64_t coins = 0;
  std::vector<std::string> items;
  MSGPACK_DEFINE_MAP(coins, items)
};

// Retries only when storage says so: with FIRST_LOAD_REPEAT and
// LOAD_REPEAT_PERIOD of a minute, a start below succeeds within its 5 s only
// through storage's notices.
void no_timed_retries(node& n) {
  REQUIRE_OK(n.set_constant("FIRST_LOAD_REPEAT", 60));
  REQUIRE_OK(n.set_constant("LOAD_REPEAT_PERIOD", 60));
  // Shorter than NODE_LEASE: a start that waited for the owner's lease
  // instead of its hand-off fails.
  REQUIRE_OK(n.set_constant("START_SESSION_TIMEOUT", 5));
}

template <class T>
T wait_for(std::future<T>& f, std::chrono::seconds limit = 20s) {
  REQUIRE_MESSAGE(f.wait_for(limit) == std::future_status::ready,
                  "the event did not happen within " << limit.count() << " s");
  return f.get();
}

} // namespace

TEST_CASE("an endpoint's host is at most the longest DNS name") {
  auto longest = parse_endpoint(std::string(253, 'h') + ":7000");
  REQUIRE(longest.ok());
  CHECK(longest->port == 7000);
  CHECK(to_string(*longest).size() <= max_node_address_bytes);
  auto too_long = parse_endpoint(std::string(254, 'h') + ":7000");
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.err().code() == errc::invalid_argument);
  CHECK(parse_endpoint("7000")->host == "127.0.0.1");
}

TEST_CASE("a profile moves to another game node with the owner's last data, at once") {
  temp_dir dir{"cluster-handoff"};
  storage_node s(dir.path());
  s.start();
  game_node a({"game-a", 1, {s.where()}});
  game_node b({"game-b", 1, {s.where()}});
  no_timed_retries(a.get());
  no_timed_retries(b.get());
  auto on_a = a.get().open<player>("players", player{});
  auto on_b = b.get().open<player>("players", player{});
  REQUIRE_OK(on_a);
  REQUIRE_OK(on_b);

  std::promise<last_save_reason> last_save;
  start_options opts;
  opts.hooks.on_last_save.push_back(
    [&](profile_context&, last_save_reason r) { last_save.set_value(r); });
  auto pa = on_a->start_session("user-1", std::move(opts));
  REQUIRE_OK(pa);
  // Changed in memory only: the hand-off's final save must carry it.
  REQUIRE_OK(pa->update([](player& d) {
    d.coins = 7;
    d.items.push_back("sword");
  }));

  auto pb = on_b->start_session("user-1");
  REQUIRE_OK(pb);
  auto fut = last_save.get_future();
  CHECK(wait_for(fut) == last_save_reason::external);
  auto db = pb->data();
  REQUIRE_OK(db);
  CHECK(db->coins == 7);
  CHECK(db->items == std::vector<std::string>{"sword"});
  CHECK_FALSE(pa->is_active());
  CHECK(pb->session().node == "game-b");

  // And back again.
  REQUIRE_OK(pb->update([](player& d) { d.coins += 1; }));
  auto back = on_a->start_session("user-1");
  REQUIRE_OK(back);
  auto da = back->data();
  REQUIRE_OK(da);
  CHECK(da->coins == 8);
  auto snap = back->snapshot();
  REQUIRE_OK(snap);
  CHECK(snap->meta.session_load_count == 3);
  REQUIRE_OK(back->end_session());
}

// Storage on another node cannot be read synchronously, so the profile keeps
// the bytes of its last committed save (own saves and transact's group save).
TEST_CASE("LastSavedData on a game node follows its saves and transact with storage remote") {
  temp_dir dir{"cluster-last-saved"};
  storage_node s(dir.path());
  s.start();
  game_node a({"game-a", 1, {s.where()}});
  auto on_a = a.get().open<player>("players", player{});
  REQUIRE_OK(on_a);
  auto coins_saved = [](const profile<player>& p) -> std::int64_t {
    auto snap = p.snapshot();
    REQUIRE(snap.ok());
    auto* coins = snap->last_saved_data.get("coins");
    REQUIRE(coins != nullptr);
    auto n = coins->to_int64();
    REQUIRE(n.ok());
    return *n;
  };
  auto p1 = on_a->start_session("user-1");
  auto p2 = on_a->start_session("user-2");
  REQUIRE_OK(p1);
  REQUIRE_OK(p2);
  REQUIRE_OK(p1->update([](player& d) { d.coins = 5; }));
  CHECK(coins_saved(*p1) == 0); // changed in memory, not saved
  REQUIRE_OK(p1->save());
  CHECK(coins_saved(*p1) == 5);
  REQUIRE_OK(p1->update([](player& d) { d.coins = 6; }));
  CHECK(coins_saved(*p1) == 5);

  REQUIRE_OK(a.get().transact({p1->handle(), p2->handle()},
                                      [](std::vector<profile_context*>& ps) {
                                        ps[0]->data_as<player>()->coins -= 2;
                                        ps[1]->data_as<player>()->coins += 2;
                                        return result<void>{};
                                      }));
  CHECK(coins_saved(*p1) == 4);
  CHECK(coins_saved(*p2) == 2);
  REQUIRE_OK(p1->end_session());
  REQUIRE_OK(p2->end_session());
}

TEST_CASE("a message sent from one game node reaches the profile's owner on another") {
  temp_dir dir{"cluster-message"};
  storage_node s(dir.path());
  s.start();
  game_node a({"game-a", 1, {s.where()}});
  game_node b({"game-b", 1, {s.where()}});
  auto on_a = a.get().open<player>("players", player{});
  auto on_b = b.get().open<player>("players", player{});
  REQUIRE_OK(on_a);
  REQUIRE_OK(on_b);

  std::promise<std::int64_t> got;
  start_options opts;
  opts.hooks.message_handlers.push_back(
    [&](profile_context& c, const incoming_message& m,
        const std::function<void()>& processed) {
      auto gift = m.data.find("coins");
      REQUIRE(gift != nullptr);
      c.data_as<player>()->coins += *gift->to_int64();
      processed();
      got.set_value(c.data_as<player>()->coins);
    });
  auto pa = on_a->start_session("user-2", std::move(opts));
  REQUIRE_OK(pa);
  REQUIRE_OK(on_b->message("user-2", value::object({{"coins", 5}})));
  auto fut = got.get_future();
  CHECK(wait_for(fut) == 5);
  REQUIRE_OK(pa->end_session());
  auto copy = on_b->get("user-2");
  REQUIRE_OK(copy);
  REQUIRE(copy->has_value());
  CHECK((*copy)->messages.empty());
}

TEST_CASE("when the owner's node stops answering another node takes the session once its lease ran out") {
  temp_dir dir{"cluster-lease"};
  storage_node s(dir.path());
  s.start();
  game_options ao{"game-a", 1, {s.where()}, 200ms, 1500ms};
  ao.shutdown_timeout = 1s; // its final saves can no longer reach storage
  game_node a(ao);
  game_node b({"game-b", 1, {s.where()}});
  no_timed_retries(b.get());
  auto on_a = a.get().open<player>("players", player{});
  auto on_b = b.get().open<player>("players", player{});
  REQUIRE_OK(on_a);
  REQUIRE_OK(on_b);
  auto pa = on_a->start_session("user-3");
  REQUIRE_OK(pa);
  REQUIRE_OK(pa->update([](player& d) { d.coins = 3; }));
  REQUIRE_OK(pa->save());
  REQUIRE_OK(pa->update([](player& d) { d.coins = 100; })); // unsaved
  auto stale = pa->session();

  // A's node is cut off from storage: it can neither hand the profile over
  // nor renew its lease. B waits for no retry period: storage tells it to try
  // again when A's lease has run out, and rule S3 gives it the lock with A's
  // last saved data.
  caf::anon_send_exit(a.remote().writer, caf::exit_reason::kill);
  auto pb = on_b->start_session("user-3");
  REQUIRE_OK(pb);
  auto db = pb->data();
  REQUIRE_OK(db);
  CHECK(db->coins == 3);
  auto snap = pb->snapshot();
  REQUIRE_OK(snap);
  CHECK(snap->meta.session_load_count == 2);

  // Fencing: a save in A's old session is refused by storage.
  save_op late;
  late.store = "players";
  late.key = "user-3";
  late.request.session = stale;
  late.request.data = encode_typed(player{1000, {}});
  auto refused = detail::ask<applied_op>(s.system(), s.actors().writer, 10s,
                                         std::move(late));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code() == errc::not_owner);
  auto after = pb->data();
  REQUIRE_OK(after);
  CHECK(after->coins == 3);
  REQUIRE_OK(pb->end_session());
}

TEST_CASE("a node that cannot renew its lease ends its sessions") {
  temp_dir dir{"cluster-lease-lost"};
  storage_node s(dir.path());
  s.start();
  // A renews its lease once, when it connects, and never again.
  game_node a({"game-a", 1, {s.where()}, std::chrono::hours(1), 1500ms});
  auto on_a = a.get().open<player>("players", player{});
  REQUIRE_OK(on_a);
  std::promise<void> ended;
  std::promise<error> reported;
  std::atomic<bool> once{false};
  a.get().on_error([&](const error& e, const std::string&, const std::string&) {
    if (e.code() == errc::unreachable && !once.exchange(true))
      reported.set_value(e);
  });
  start_options opts;
  opts.hooks.on_session_end.push_back([&](profile_context&) { ended.set_value(); });
  auto pa = on_a->start_session("user-5", std::move(opts));
  REQUIRE_OK(pa);
  auto fut = ended.get_future();
  wait_for(fut);
  CHECK_FALSE(pa->is_active());
  auto rep = reported.get_future();
  CHECK(wait_for(rep).message().find("lease") != std::string::npos);
}

TEST_CASE("game nodes reconnect after a storage restart and their sessions go on") {
  temp_dir dir{"cluster-restart"};
  storage_node s(dir.path());
  s.start();
  auto port = s.port();
  game_node a({"game-a", 1, {s.where()}});
  auto on_a = a.get().open<player>("players", player{});
  REQUIRE_OK(on_a);
  auto pa = on_a->start_session("user-4");
  REQUIRE_OK(pa);
  REQUIRE_OK(pa->update([](player& d) { d.coins = 4; }));
  REQUIRE_OK(pa->save());

  s.stop();
  // While storage is gone a read is a clear error, not a hang.
  auto during = on_a->get("user-4");
  REQUIRE_FALSE(during.ok());
  s.start(port);
  REQUIRE_OK(wait_connected(a.system(), a.remote(), 10s));

  REQUIRE_OK(pa->update([](player& d) { d.coins += 1; }));
  REQUIRE_OK(pa->save());
  CHECK(pa->is_active());
  REQUIRE_OK(pa->end_session());
  auto copy = on_a->get("user-4");
  REQUIRE_OK(copy);
  REQUIRE(copy->has_value());
  auto data = (*copy)->data.find("coins");
  REQUIRE(data != nullptr);
  CHECK(*data->to_int64() == 5);
}

TEST_CASE("keys are spread over storage shards by shard_of and transact stays on one shard") {
  temp_dir d1{"cluster-shard-1"};
  temp_dir d2{"cluster-shard-2"};
  storage_node s1(d1.path());
  storage_node s2(d2.path());
  s1.start();
  s2.start();
  game_node a({"game-a", 1, {s1.where(), s2.where()}});
  auto on_a = a.get().open<player>("players", player{});
  REQUIRE_OK(on_a);

  std::vector<std::string> keys;
  for (int i = 0; i < 16; ++i)
    keys.push_back("user-" + std::to_string(i));
  std::vector<profile<player>> open;
  for (auto& k : keys) {
    auto p = on_a->start_session(k);
    REQUIRE_OK(p);
    open.push_back(*p);
  }
  int on_first = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto shard = shard_of("players", keys[i], 2);
    on_first += shard == 0;
    auto& mine = shard == 0 ? s1 : s2;
    auto& other = shard == 0 ? s2 : s1;
    auto here = mine.actors().shared_storage->get("players", keys[i]);
    auto there = other.actors().shared_storage->get("players", keys[i]);
    REQUIRE_OK(here);
    REQUIRE_OK(there);
    CHECK(here->has_value());
    CHECK_FALSE(there->has_value());
  }
  CHECK(on_first > 0);
  CHECK(on_first < 16);

  // Two keys on different shards: refused, nothing changed.
  std::size_t x = 0, y = 1;
  while (shard_of("players", keys[y], 2) == shard_of("players", keys[x], 2))
    ++y;
  auto across = a.get().transact({open[x].handle(), open[y].handle()},
                                 [](std::vector<profile_context*>& ps) {
                                   ps[0]->data_as<player>()->coins -= 1;
                                   ps[1]->data_as<player>()->coins += 1;
                                   return result<void>{};
                                 });
  REQUIRE_FALSE(across.ok());
  CHECK(across.err().code() == errc::invalid_argument);
  auto dx = open[x].data();
  REQUIRE_OK(dx);
  CHECK(dx->coins == 0);

  // Two keys on one shard: atomic as on one node.
  std::size_t z = x + 1;
  while (z == y || shard_of("players", keys[z], 2) != shard_of("players", keys[x], 2))
    ++z;
  REQUIRE_OK(a.get().transact({open[x].handle(), open[z].handle()},
                                      [](std::vector<profile_context*>& ps) {
                                        ps[0]->data_as<player>()->coins -= 2;
                                        ps[1]->data_as<player>()->coins += 2;
                                        return result<void>{};
                                      }));
  auto dz = open[z].data();
  REQUIRE_OK(dz);
  CHECK(dz->coins == 2);
  for (auto& p : open)
    REQUIRE_OK(p.end_session());
}

TEST_CASE("the node directory holds each game node's lease") {
  temp_dir dir{"cluster-directory"};
  storage_node s(dir.path());
  s.start();
  game_node a({"game-a", 7, {s.where()}});
  auto txn = s.actors().shared_storage->get_backend().begin_read();
  REQUIRE_OK(txn);
  auto entry = read_node(**txn, "game-a");
  REQUIRE_OK(entry);
  REQUIRE(entry->has_value());
  CHECK((*entry)->incarnation == 7);
  CHECK((*entry)->lease_until - (*entry)->heartbeat == 10'000);
}
