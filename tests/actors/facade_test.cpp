// The blocking facade (profilestore::node, store<T>, profile<T>) on a real
// threaded actor system with an LMDB storage in a temporary folder. Nothing
// here depends on timing: every wait is for an answer or an event, bounded
// only by the facade's own generous timeouts.
#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "profilestore/actors/node.hpp"
#include "profilestore/actors/store_actor.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "result_checks.hpp"
#include "temp_dir.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

struct player {
  std::int64_t coins = 0;
  std::vector<std::string> items;
  std::string title = "rookie";
  MSGPACK_DEFINE_MAP(coins, items, title)
};

// An older shape of the same data, without `title`.
struct player_v1 {
  std::int64_t coins = 0;
  std::vector<std::string> items;
  MSGPACK_DEFINE_MAP(coins, items)
};

// A threaded actor system (CAF's default scheduler) and a store actor pair
// over LMDB in a fresh folder. Nodes must be gone before it is destroyed.
struct live_env {
  testing::temp_dir dir{"actors-facade"};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  store_actors storage;

  explicit live_env(storage_options options = {}) {
    lmdb_options lo;
    lo.path = dir.path();
    lo.initial_map_size = std::size_t{4} << 20;
    auto b = lmdb_backend::open(lo);
    REQUIRE_MESSAGE(b.ok(), describe(b));
    sys = std::make_unique<caf::actor_system>(cfg);
    store_actor_options so;
    so.storage = options;
    storage = spawn_store_actors(*sys, std::shared_ptr<backend>(std::move(*b)),
                                 so);
  }
  live_env(const live_env&) = delete;
  live_env& operator=(const live_env&) = delete;

  ~live_env() {
    caf::anon_send_exit(storage.writer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(storage.reader, caf::exit_reason::user_shutdown);
    storage = store_actors{};
    sys.reset(); // waits for every actor
  }

  node_config config(std::string name) const {
    node_config c;
    c.name = std::move(name);
    c.incarnation = 1;
    return c;
  }
};

player as_player(const value& v) {
  player out;
  auto r = from_value(v, out);
  REQUIRE_MESSAGE(r.ok(), describe(r));
  return out;
}

} // namespace

TEST_CASE("the blocking facade starts updates saves and ends a typed profile stored in lmdb") {
  live_env env;
  node n(*env.sys, env.storage, env.config("facade-1"));
  auto players = n.open<player>("players", player{});
  REQUIRE_OK(players);
  CHECK(players->name() == "players");

  auto p = players->start_session("user-1");
  REQUIRE_OK(p);
  CHECK(p->key() == "user-1");
  CHECK(p->store_name() == "players");
  CHECK(p->session().node == "facade-1");
  CHECK(p->is_active());
  auto again = players->start_session("user-1");
  REQUIRE_FALSE(again.ok());
  CHECK(again.err().code() == errc::session_active);

  REQUIRE_OK(p->update([](player& d) {
    d.coins += 5;
    d.items.push_back("sword");
  }));
  auto d = p->data();
  REQUIRE_OK(d);
  CHECK(d->coins == 5);
  CHECK(d->items == std::vector<std::string>{"sword"});
  CHECK(d->title == "rookie");
  auto snap = p->snapshot();
  REQUIRE_OK(snap);
  CHECK(as_player(snap->last_saved_data).coins == 0);

  REQUIRE_OK(p->save());
  snap = p->snapshot();
  REQUIRE_OK(snap);
  CHECK(as_player(snap->last_saved_data).coins == 5);
  auto copy = players->get("user-1");
  REQUIRE_OK(copy);
  REQUIRE(copy->has_value());
  CHECK(as_player((*copy)->data).coins == 5);
  REQUIRE((*copy)->meta.active_session);
  CHECK(*(*copy)->meta.active_session == p->session());

  REQUIRE_OK(p->add_user_id(77));
  REQUIRE_OK(p->update([](player& x) { x.coins += 1; }));
  REQUIRE_OK(p->end_session());
  CHECK_FALSE(p->is_active());
  CHECK_FALSE(p->update([](player& x) { x.coins += 100; }).ok());

  copy = players->get("user-1");
  REQUIRE_OK(copy);
  REQUIRE(copy->has_value());
  CHECK(as_player((*copy)->data).coins == 6);
  CHECK_FALSE((*copy)->meta.active_session.has_value());
  CHECK((*copy)->user_ids == std::vector<std::int64_t>{77});

  auto p2 = players->start_session("user-1");
  REQUIRE_OK(p2);
  auto d2 = p2->data();
  REQUIRE_OK(d2);
  CHECK(d2->coins == 6);
  snap = p2->snapshot();
  REQUIRE_OK(snap);
  CHECK(snap->meta.session_load_count == 2);
  CHECK(snap->user_ids == std::vector<std::int64_t>{77});
  REQUIRE_OK(p2->end_session());

  auto removed = players->remove("user-1");
  REQUIRE_OK(removed);
  CHECK(*removed);
  auto gone = players->get("user-1");
  REQUIRE_OK(gone);
  CHECK_FALSE(gone->has_value());
  REQUIRE_OK(n.shutdown());
}

TEST_CASE("a key started again right after end_session returns is never found still active") {
  live_env env;
  node n(*env.sys, env.storage, env.config("facade-1"));
  auto players = n.open<player>("players", player{});
  REQUIRE_OK(players);
  for (int i = 0; i < 100; ++i) {
    auto p = players->start_session("user-1");
    REQUIRE_MESSAGE(p.ok(), "round " << i << ": " << describe(p));
    REQUIRE_OK(p->update([](player& d) { d.coins += 1; }));
    REQUIRE_OK(p->end_session());
  }
  auto copy = players->get("user-1");
  REQUIRE_OK(copy);
  REQUIRE(copy->has_value());
  CHECK(as_player((*copy)->data).coins == 100);
  CHECK((*copy)->meta.session_load_count == 100);
  REQUIRE_OK(n.shutdown());
}

TEST_CASE("a typed profile takes the struct's defaults for fields its stored data lacks") {
  live_env env;
  node n(*env.sys, env.storage, env.config("facade-1"));
  auto old_players = n.open<player_v1>("players", player_v1{});
  REQUIRE_OK(old_players);
  auto p = old_players->start_session("user-1");
  REQUIRE_OK(p);
  REQUIRE_OK(p->update([](player_v1& d) { d.coins = 3; }));
  REQUIRE_OK(p->end_session());

  player tmpl;
  tmpl.title = "veteran";
  auto players = n.open<player>("players", tmpl);
  REQUIRE_OK(players);
  auto p2 = players->start_session("user-1");
  REQUIRE_OK(p2);
  auto d = p2->data();
  REQUIRE_OK(d);
  CHECK(d->coins == 3);
  CHECK(d->title == "veteran");
  REQUIRE_OK(p2->end_session());
  auto copy = players->get("user-1");
  REQUIRE_OK(copy);
  REQUIRE(copy->has_value());
  CHECK(as_player((*copy)->data).title == "veteran");
  REQUIRE_OK(n.shutdown());
}

TEST_CASE("updates from several threads at once are all applied and saved") {
  live_env env;
  node n(*env.sys, env.storage, env.config("facade-1"));
  auto players = n.open<player>("players", player{});
  REQUIRE_OK(players);
  auto p = players->start_session("user-1");
  REQUIRE_OK(p);
  constexpr int threads = 4;
  constexpr int per_thread = 50;
  std::vector<std::thread> workers;
  std::vector<int> failures(threads, 0);
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        if (!p->update([](player& d) { d.coins += 1; }))
          failures[static_cast<std::size_t>(t)]++;
        if (i % 10 == 0 && !p->save())
          failures[static_cast<std::size_t>(t)]++;
      }
    });
  for (auto& w : workers)
    w.join();
  for (int f : failures)
    CHECK(f == 0);
  REQUIRE_OK(p->end_session());
  auto copy = players->get("user-1");
  REQUIRE_OK(copy);
  REQUIRE(copy->has_value());
  CHECK(as_player((*copy)->data).coins == threads * per_thread);
  REQUIRE_OK(n.shutdown());
}

TEST_CASE("a message sent through the facade reaches the typed profile's handler") {
  live_env env;
  node n(*env.sys, env.storage, env.config("facade-1"));
  auto players = n.open<player>("players", player{});
  REQUIRE_OK(players);
  auto p = players->start_session("user-1");
  REQUIRE_OK(p);
  auto handled = std::make_shared<std::promise<std::uint64_t>>();
  auto once = std::make_shared<std::once_flag>();
  REQUIRE_OK(p->message_handler(
    [handled, once](profile_context& c, const incoming_message& m,
                    const std::function<void()>& processed) {
      auto* gift = m.data.get("gift");
      if (gift == nullptr)
        return;
      c.data_as<player>()->coins += *gift->to_int64();
      processed();
      std::call_once(*once, [&] { handled->set_value(m.id); });
    }));
  auto id = players->message("user-1", value::object({{"gift", 10}}));
  REQUIRE_OK(id);
  auto done = handled->get_future();
  REQUIRE(done.wait_for(60s) == std::future_status::ready);
  CHECK(done.get() == *id);
  REQUIRE_OK(p->save()); // begun after the handler ran: includes it
  auto copy = players->get("user-1");
  REQUIRE_OK(copy);
  REQUIRE(copy->has_value());
  CHECK(as_player((*copy)->data).coins == 10);
  CHECK((*copy)->messages.empty());
  REQUIRE_OK(p->end_session());
  REQUIRE_OK(n.shutdown());
}

TEST_CASE("the facade's version cursor and set roll a typed profile back") {
  storage_options so;
  so.versions.window_ms = 0; // every write a version
  live_env env(so);
  node n(*env.sys, env.storage, env.config("facade-1"));
  auto players = n.open<player>("players", player{});
  REQUIRE_OK(players);
  auto p = players->start_session("user-1");
  REQUIRE_OK(p);
  for (int i = 1; i <= 3; ++i) {
    REQUIRE_OK(p->update([i](player& d) { d.coins = i * 10; }));
    REQUIRE_OK(p->save());
  }
  REQUIRE_OK(p->end_session());

  std::vector<std::int64_t> seen;
  auto up = players->version_query("user-1");
  while (true) {
    auto next = up.next();
    REQUIRE_OK(next);
    if (!next->has_value())
      break;
    seen.push_back(as_player((*next)->data).coins);
  }
  // start, three saves, the final save.
  CHECK(seen == std::vector<std::int64_t>{0, 10, 20, 30, 30});

  auto down = players->version_query("user-1", true);
  auto newest = down.next();
  REQUIRE_OK(newest);
  REQUIRE(newest->has_value());
  CHECK(as_player((*newest)->data).coins == 30);
  std::optional<profile_copy> twenty;
  while (true) {
    auto next = down.next();
    REQUIRE_OK(next);
    REQUIRE(next->has_value());
    if (as_player((*next)->data).coins == 20) {
      twenty = std::move(**next);
      break;
    }
  }
  REQUIRE_OK(players->set(*twenty));
  auto p2 = players->start_session("user-1");
  REQUIRE_OK(p2);
  auto d = p2->data();
  REQUIRE_OK(d);
  CHECK(d->coins == 20);
  REQUIRE_OK(p2->end_session());
  REQUIRE_OK(n.shutdown());
}

TEST_CASE("a facade shutdown does the final save of every session with reason shutdown") {
  live_env env;
  auto reasons = std::make_shared<std::vector<last_save_reason>>();
  auto mutex = std::make_shared<std::mutex>();
  {
    node n(*env.sys, env.storage, env.config("facade-1"));
    auto players = n.open<player>("players", player{});
    REQUIRE_OK(players);
    std::vector<profile<player>> ps;
    for (int i = 0; i < 3; ++i) {
      start_options o;
      o.hooks.on_last_save.push_back(
        [reasons, mutex](profile_context& c, last_save_reason r) {
          c.data_as<player>()->items.push_back("farewell");
          std::lock_guard<std::mutex> g(*mutex);
          reasons->push_back(r);
        });
      auto p = players->start_session("user-" + std::to_string(i), o);
      REQUIRE_OK(p);
      REQUIRE_OK(p->update([i](player& d) { d.coins = i + 1; }));
      ps.push_back(std::move(*p));
    }
    REQUIRE_OK(n.shutdown(30s));
    CHECK(n.is_closing());
    {
      std::lock_guard<std::mutex> g(*mutex);
      REQUIRE(reasons->size() == 3);
      for (auto r : *reasons)
        CHECK(r == last_save_reason::shutdown);
    }
    for (auto& p : ps)
      CHECK_FALSE(p.is_active());
    auto refused = players->start_session("user-9");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code() == errc::closing);
  }
  // A new node on the same storage finds everything saved and unlocked.
  node n2(*env.sys, env.storage, env.config("facade-2"));
  auto players = n2.open<player>("players", player{});
  REQUIRE_OK(players);
  for (int i = 0; i < 3; ++i) {
    auto copy = players->get("user-" + std::to_string(i));
    REQUIRE_OK(copy);
    REQUIRE(copy->has_value());
    CHECK_FALSE((*copy)->meta.active_session.has_value());
    auto d = as_player((*copy)->data);
    CHECK(d.coins == i + 1);
    CHECK(d.items == std::vector<std::string>{"farewell"});
    auto p = players->start_session("user-" + std::to_string(i));
    REQUIRE_OK(p); // at once: no lock to wait for
    REQUIRE_OK(p->end_session());
  }
  REQUIRE_OK(n2.shutdown());
}

TEST_CASE("a process that hosts storage leaves one core to the store writer's thread") {
  CHECK(recommended_workers(true, 2) == 1);
  CHECK(recommended_workers(true, 8) == 7);
  CHECK(recommended_workers(true, 1) == 1);
  CHECK(recommended_workers(false, 2) == 2);
  CHECK(recommended_workers(false, 1) == 1);
  CHECK(recommended_workers(true, 0) == 4); // unknown: CAF's own default
  caf::actor_system_config cfg;
  use_recommended_workers(cfg, true);
  auto set = caf::get_if<std::size_t>(&cfg.content, "scheduler.max-threads");
  REQUIRE(set);
  CHECK(*set == recommended_workers(true, std::thread::hardware_concurrency()));
}
