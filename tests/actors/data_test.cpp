// A profile's data and everything stored with it: copies from get, versions,
// LastSavedData, user ids and key metadata, key info, reconcile, corrupt
// records, set (rollback), and atomic transactions over two profiles.
#include <doctest/doctest.h>

#include "runtime_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

std::optional<profile_copy> got(runtime& rt, const store<value>& s,
                                const std::string& key,
                                std::optional<std::uint64_t> version = {}) {
  auto r = rt.get(s, key, version);
  REQUIRE_MESSAGE(r.ok(), describe(r));
  return std::move(*r);
}

profile_snapshot snap_of(runtime& rt, const profile_handle& p) {
  auto s = rt.snapshot(p);
  REQUIRE_MESSAGE(s.ok(), describe(s));
  return std::move(*s);
}

context_fn set_coins(std::int64_t n) {
  return [n](profile_context& c) { (*c.data_value())["coins"] = n; };
}

// alice and bob, started on rt's node in its "players" store.
struct alice_and_bob {
  profile_handle a;
  profile_handle b;
};

alice_and_bob start_alice_and_bob(runtime& rt) {
  auto players = rt.open_value("players");
  auto a = rt.start(players, "alice");
  auto b = rt.start(players, "bob");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  return {*a, *b};
}

// The same with alice's 100 coins saved.
alice_and_bob start_alice_with_100_and_bob(runtime& rt) {
  auto both = start_alice_and_bob(rt);
  REQUIRE_OK(rt.update(both.a, set_coins(100)));
  REQUIRE_OK(rt.save(both.a));
  return both;
}

// A transaction of `profiles` on rt's node, asked now and answered later
// (into the returned slot) as the actors run.
std::shared_ptr<std::optional<result<void>>>
transact_later(runtime& rt, std::vector<profile_handle> profiles, transact_fn fn) {
  return rt.ask_unit_later(rt.n->actor(), transact_atom::value,
                           std::move(profiles), std::move(fn));
}

// The first profile pays the second 30 coins.
result<void> pay_30(std::vector<profile_context*>& ps) {
  add_coins(-30)(*ps[0]);
  add_coins(30)(*ps[1]);
  return {};
}

// Set once `watched` has terminated (a monitor's down message).
std::shared_ptr<bool> watch_end(runtime& rt, const caf::actor& watched) {
  auto ended = std::make_shared<bool>(false);
  rt.askers.push_back(rt.sys.spawn(
    [watched](caf::event_based_actor* self,
              std::shared_ptr<bool> flag) -> caf::behavior {
      self->monitor(watched);
      self->set_down_handler([flag](caf::down_msg&) { *flag = true; });
      return {[](int) {}}; // alive until the down message; never sent to
    },
    ended));
  return ended;
}

} // namespace

TEST_CASE("get returns a copy of the latest version or of a given one") {
  runtime_options o;
  o.storage = every_write_a_version();
  runtime rt(o);
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, set_coins(5)));
  REQUIRE_OK(rt.save(*p));
  REQUIRE_OK(rt.update(*p, set_coins(9)));
  REQUIRE_OK(rt.save(*p));
  auto versions = rt.versions("players", "user-1");
  REQUIRE(versions.size() == 3);

  auto latest = got(rt, players, "user-1");
  REQUIRE(latest);
  CHECK(coins_in(latest->data) == 9);
  CHECK(latest->info.version == versions[2].version);
  CHECK(latest->meta.active_session == p->session);
  CHECK(latest->store == "players");
  CHECK(latest->key == "user-1");
  auto older = got(rt, players, "user-1", versions[1].version);
  REQUIRE(older);
  CHECK(coins_in(older->data) == 5);
  CHECK(older->info.version == versions[1].version);
  auto first = got(rt, players, "user-1", versions[0].version);
  REQUIRE(first);
  CHECK(coins_in(first->data) == 0);

  // A copy is the caller's: changing it changes nothing else.
  latest->data["coins"] = 1000;
  CHECK(coins_in(got(rt, players, "user-1")->data) == 9);
  CHECK(coins_in(snap_of(rt, *p).data) == 9);
  // A copy never auto-saves.
  rt.advance(900s);
  CHECK(coins_in(got(rt, players, "user-1")->data) == 9);

  CHECK_FALSE(got(rt, players, "user-1", versions[2].version + 5).has_value());
  CHECK_FALSE(got(rt, players, "nobody").has_value());
  REQUIRE_OK(rt.end(*p));
}

TEST_CASE("LastSavedData is separate from the data and follows each save") {
  runtime rt;
  auto players = rt.open_value("players");
  auto checked = std::make_shared<int>(0);
  start_options opts;
  opts.hooks.on_after_save.push_back([checked](profile_context& c) {
    // After a save the last saved data is what the data was.
    CHECK(c.last_saved_data() == c.data().to_value());
    ++*checked;
  });
  auto p = rt.start(players, "user-1", opts);
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, set_coins(5)));
  auto s = snap_of(rt, *p);
  CHECK(coins_in(s.data) == 5);
  CHECK(coins_in(s.last_saved_data) == 0);

  REQUIRE_OK(rt.save(*p));
  CHECK(*checked == 1);
  s = snap_of(rt, *p);
  CHECK(coins_in(s.last_saved_data) == 5);

  // Changing the data leaves the last saved data alone.
  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    auto before = c.last_saved_data();
    (*c.data_value())["coins"] = 99;
    (*c.data_value())["new"] = "x";
    CHECK(c.last_saved_data() == before);
    auto copy = c.last_saved_data();
    copy["coins"] = 1; // a copy: the next call is unchanged
    CHECK(coins_in(c.last_saved_data()) == 5);
  }));
  s = snap_of(rt, *p);
  CHECK(coins_in(s.data) == 99);
  CHECK(coins_in(s.last_saved_data) == 5);
  CHECK(s.last_saved_data.get("new") == nullptr);
  REQUIRE_OK(rt.end(*p));
  CHECK(*checked == 2);
}

TEST_CASE("user ids key metadata and meta tags survive a save and a new session") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    c.add_user_id(42);
    c.add_user_id(7);
    c.add_user_id(42); // once only
    c.remove_user_id(7);
    c.key_metadata()["tier"] = "gold";
    c.meta_tags()["season"] = 3;
  }));
  REQUIRE_OK(rt.save(*p));
  auto copy = got(rt, players, "user-1");
  REQUIRE(copy);
  CHECK(copy->user_ids == std::vector<std::int64_t>{42});
  CHECK(copy->key_metadata == value::object({{"tier", "gold"}}));
  CHECK(copy->meta_tags == value::object({{"season", 3}}));
  CHECK(copy->info.user_ids == std::vector<std::int64_t>{42});
  auto info_meta = decode_msgpack(copy->info.key_metadata);
  REQUIRE(info_meta.ok());
  CHECK(*info_meta == value::object({{"tier", "gold"}}));
  REQUIRE_OK(rt.end(*p));

  auto p2 = rt.start(players, "user-1");
  REQUIRE(p2.ok());
  auto s = snap_of(rt, *p2);
  CHECK(s.user_ids == std::vector<std::int64_t>{42});
  CHECK(s.key_metadata == value::object({{"tier", "gold"}}));
  REQUIRE_OK(rt.update(*p2, [](profile_context& c) {
    CHECK(c.meta_tags() == value::object({{"season", 3}}));
    CHECK(c.user_ids() == std::vector<std::int64_t>{42});
    c.remove_user_id(42);
  }));
  REQUIRE_OK(rt.end(*p2));
  CHECK(got(rt, players, "user-1")->user_ids.empty());
  CHECK(got(rt, players, "user-1")->key_metadata
        == value::object({{"tier", "gold"}}));
}

TEST_CASE("key info and metadata follow the saves of a session") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 100000));
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  auto s = snap_of(rt, *p);
  CHECK(s.info.version == 1);
  CHECK(s.info.created_time == epoch_ms);
  CHECK(s.info.updated_time == epoch_ms);
  CHECK(s.meta.session_load_count == 1);
  CHECK(s.meta.profile_create_time == epoch_ms);
  CHECK(s.active);
  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    CHECK(c.first_session_time() == epoch_ms);
    CHECK(c.session_load_count() == 1);
    CHECK(c.key() == "user-1");
    CHECK(c.store().name == "players");
    CHECK(c.is_active());
  }));

  rt.advance(10min); // inside the one-hour version window
  REQUIRE_OK(rt.save(*p));
  s = snap_of(rt, *p);
  CHECK(s.info.version == 1);
  CHECK(s.info.updated_time == epoch_ms + 600'000);
  CHECK(s.info.size > 0);

  rt.advance(1h); // a new version
  REQUIRE_OK(rt.save(*p));
  s = snap_of(rt, *p);
  CHECK(s.info.version == 2);
  CHECK(s.info.version_created_time == rt.now_ms());
  CHECK(s.info.updated_time == rt.now_ms());
  CHECK(s.info.created_time == epoch_ms);
  REQUIRE_OK(rt.end(*p));

  auto p2 = rt.start(players, "user-1");
  REQUIRE(p2.ok());
  s = snap_of(rt, *p2);
  CHECK(s.meta.session_load_count == 2);
  CHECK(s.meta.profile_create_time == epoch_ms);
}

TEST_CASE("reconcile fills keys missing from the data with the template and keeps the rest") {
  runtime rt;
  auto old_players = rt.open_value("players");
  auto p = rt.start(old_players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    *c.data_value() = value::object(
      {{"coins", 7}, {"nested", value::object({{"a", 9}})}, {"extra", "keep"},
       {"list", value::array({5})}});
  }));
  REQUIRE_OK(rt.end(*p));

  // The game's template grew.
  auto players = rt.open_value(
    "players",
    value::object({{"coins", 0},
                   {"gems", 5},
                   {"nested", value::object({{"a", 1}, {"b", 2}})},
                   {"list", value::array({1, 2})}}));
  auto p2 = rt.start(players, "user-1");
  REQUIRE(p2.ok());
  auto s = snap_of(rt, *p2);
  CHECK(s.data.get("gems") == nullptr); // nothing changes unasked
  REQUIRE_OK(rt.update(*p2, [](profile_context& c) { c.reconcile(); }));
  s = snap_of(rt, *p2);
  CHECK(*s.data.get("coins") == value(7));
  CHECK(*s.data.get("gems") == value(5));
  CHECK(*s.data.get("extra") == value("keep"));
  CHECK(*s.data.get("list") == value::array({5})); // arrays are not merged
  REQUIRE(s.data.get("nested") != nullptr);
  CHECK(*s.data.get("nested")->get("a") == value(9));
  CHECK(*s.data.get("nested")->get("b") == value(2));
  CHECK(s.data.if_map()->size() == 5);

  // New profiles get a deep copy of the template.
  auto fresh = rt.start(players, "user-2");
  REQUIRE(fresh.ok());
  CHECK(snap_of(rt, *fresh).data
        == value::object({{"coins", 0},
                          {"gems", 5},
                          {"nested", value::object({{"a", 1}, {"b", 2}})},
                          {"list", value::array({1, 2})}}));
}

TEST_CASE("garbage bytes under a key give a fresh profile and fire on_overwrite") {
  runtime rt;
  auto overwrites = std::make_shared<std::vector<std::string>>();
  rt.n->on_overwrite([overwrites](const std::string& st, const std::string& key) {
    overwrites->push_back(st + "/" + key);
  });
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, set_coins(5)));
  REQUIRE_OK(rt.end(*p));

  const std::string garbage = "\x93\x01\xff not a record at all";
  rt.advance(2h);
  rt.inject_raw("players", "user-1", garbage);
  // A read shows the fresh profile and says so; it writes nothing.
  auto copy = got(rt, players, "user-1");
  REQUIRE(copy);
  CHECK(copy->overwritten);
  CHECK(coins_in(copy->data) == 0);
  CHECK(overwrites->empty());
  auto before = rt.versions("players", "user-1").size();

  auto p2 = rt.start(players, "user-1");
  REQUIRE_MESSAGE(p2.ok(), describe(p2));
  CHECK(coins_in(snap_of(rt, *p2).data) == 0);
  REQUIRE(overwrites->size() == 1);
  CHECK(overwrites->at(0) == "players/user-1");
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  CHECK(rec->was_overwritten);
  CHECK(rec->meta.active_session == p2->session);
  // The damaged bytes stay as an older version.
  auto versions = rt.versions("players", "user-1");
  CHECK(versions.size() == before + 1);
  REQUIRE_OK(rt.update(*p2, add_coins(1)));
  REQUIRE_OK(rt.end(*p2));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 1);
  CHECK(overwrites->size() == 1);
}

TEST_CASE("garbage bytes under a new key start a fresh profile with on_overwrite") {
  runtime rt;
  auto overwrites = std::make_shared<int>(0);
  rt.n->on_overwrite([overwrites](const std::string&, const std::string&) {
    ++*overwrites;
  });
  auto players = rt.open_value("players");
  rt.inject_raw("players", "user-1", "\xc1");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  CHECK(*overwrites == 1);
  CHECK(coins_in(snap_of(rt, *p).data) == 0);
}

TEST_CASE("version queries page through stored versions in both directions and by time") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 1e6));
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, set_coins(10)));
  REQUIRE_OK(rt.save(*p)); // replaces version 1 (same hour)
  rt.advance(2h);
  REQUIRE_OK(rt.update(*p, set_coins(20)));
  REQUIRE_OK(rt.save(*p)); // version 2
  rt.advance(2h);
  REQUIRE_OK(rt.update(*p, set_coins(30)));
  REQUIRE_OK(rt.save(*p)); // version 3

  auto up = rt.list_versions(players, "user-1");
  REQUIRE(up.ok());
  REQUIRE(up->versions.size() == 3);
  CHECK(up->versions[0].version < up->versions[1].version);
  CHECK(up->versions[1].version < up->versions[2].version);
  CHECK_FALSE(up->next_after.has_value());
  std::vector<std::int64_t> coins;
  for (const auto& v : up->versions)
    coins.push_back(coins_in(got(rt, players, "user-1", v.version)->data));
  CHECK(coins == std::vector<std::int64_t>{10, 20, 30});

  version_query down;
  down.descending = true;
  auto dn = rt.list_versions(players, "user-1", down);
  REQUIRE(dn.ok());
  REQUIRE(dn->versions.size() == 3);
  CHECK(dn->versions[0].version == up->versions[2].version);
  CHECK(dn->versions[2].version == up->versions[0].version);

  // The newest version before an event, 3 hours in.
  version_query before;
  before.descending = true;
  before.max_time = epoch_ms + 3 * 3'600'000;
  auto b = rt.list_versions(players, "user-1", before);
  REQUIRE(b.ok());
  REQUIRE_FALSE(b->versions.empty());
  CHECK(coins_in(got(rt, players, "user-1", b->versions[0].version)->data) == 20);
  version_query after;
  after.min_time = epoch_ms + 1 * 3'600'000;
  auto a = rt.list_versions(players, "user-1", after);
  REQUIRE(a.ok());
  REQUIRE(a->versions.size() == 2);
  CHECK(coins_in(got(rt, players, "user-1", a->versions[0].version)->data) == 20);

  // Paging.
  version_query page;
  page.limit = 2;
  auto p1 = rt.list_versions(players, "user-1", page);
  REQUIRE(p1.ok());
  CHECK(p1->versions.size() == 2);
  REQUIRE(p1->next_after.has_value());
  page.after_version = p1->next_after;
  auto p2 = rt.list_versions(players, "user-1", page);
  REQUIRE(p2.ok());
  REQUIRE(p2->versions.size() == 1);
  CHECK(p2->versions[0].version == up->versions[2].version);
  REQUIRE_OK(rt.end(*p));
}

TEST_CASE("set rolls a key back to an older version and ends its active session") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 60));
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(log));
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    (*c.data_value())["coins"] = 10;
    c.add_user_id(5);
  }));
  REQUIRE_OK(rt.save(*p));
  rt.advance(2h);
  REQUIRE_OK(rt.update(*p, set_coins(1'000'000))); // the bad change
  REQUIRE_OK(rt.save(*p));
  auto saves = log->after_saves.size();

  version_query q;
  q.descending = true;
  q.max_time = epoch_ms + 3'600'000;
  auto page = rt.list_versions(players, "user-1", q);
  REQUIRE(page.ok());
  REQUIRE_FALSE(page->versions.empty());
  auto good = got(rt, players, "user-1", page->versions[0].version);
  REQUIRE(good);
  CHECK(coins_in(good->data) == 10);
  REQUIRE_OK(rt.set(players, *good));

  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  CHECK(stored_coins(*rec) == 10);
  CHECK(rec->user_ids == std::vector<std::int64_t>{5});
  CHECK_FALSE(rec->meta.active_session.has_value());
  CHECK_FALSE(rec->meta.force_load_session.has_value());

  // Storage tells the session that held the key at once (no time passes):
  // it ends without a last save and cannot write its (bad) data back.
  rt.run();
  CHECK(log->session_ends == 1);
  CHECK_FALSE(rt.update(*p, add_coins(1)).ok());
  rt.advance(60s);
  CHECK(log->session_ends == 1);
  CHECK(log->last_saves.empty());
  CHECK(log->after_saves.size() == saves);
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 10);
  CHECK_FALSE(rt.snapshot(*p).ok());

  // The rolled-back profile starts normally.
  auto p2 = rt.start(players, "user-1");
  REQUIRE(p2.ok());
  CHECK(coins_in(snap_of(rt, *p2).data) == 10);
}

TEST_CASE("remove of a key with an active session ends that session at once without a last save") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 60));
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(log));
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(5)));
  auto removed = rt.remove(players, "user-1");
  REQUIRE(removed.ok());
  CHECK(*removed);
  rt.run(); // no time passes: the owner is told by storage, not by a save
  CHECK(log->session_ends == 1);
  CHECK(log->last_saves.empty());
  CHECK_FALSE(rt.update(*p, add_coins(1)).ok());
  CHECK_FALSE(rt.stored("players", "user-1").has_value());
  rt.advance(120s); // and no later save brings the key back
  CHECK_FALSE(rt.stored("players", "user-1").has_value());
}

TEST_CASE("transact moves coins between two profiles and stores both in one commit") {
  runtime rt;
  auto players = rt.open_value("players");
  auto a = rt.start(players, "alice");
  auto b = rt.start(players, "bob");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE_OK(rt.update(*a, set_coins(100)));
  REQUIRE_OK(rt.save(*a));
  rt.advance(std::chrono::seconds(100)); // before any auto-save
  auto commits = rt.commits();

  REQUIRE_OK(rt.transact({*a, *b}, [](std::vector<profile_context*>& ps) {
    REQUIRE(ps.size() == 2);
    CHECK(ps[0]->key() == "alice");
    CHECK(ps[1]->key() == "bob");
    add_coins(-30)(*ps[0]);
    add_coins(30)(*ps[1]);
    return result<void>{};
  }));
  CHECK(rt.commits() == commits + 1);
  CHECK(stored_coins(*rt.stored("players", "alice")) == 70);
  CHECK(stored_coins(*rt.stored("players", "bob")) == 30);
  auto sa = snap_of(rt, *a);
  auto sb = snap_of(rt, *b);
  CHECK(coins_in(sa.data) == 70);
  CHECK(coins_in(sa.last_saved_data) == 70);
  CHECK(coins_in(sb.data) == 30);
  CHECK(coins_in(sb.last_saved_data) == 30);
  CHECK(sa.active);
  CHECK(sb.active);
  // Each profile's key info is that of the version the transaction wrote.
  for (auto* snap : {&sa, &sb}) {
    auto key = snap == &sa ? "alice" : "bob";
    auto stored = rt.storage.shared_storage->get("players", key);
    REQUIRE(stored.ok());
    REQUIRE(stored->has_value());
    CHECK(snap->info.version == (*stored)->info.version);
    CHECK(snap->info.updated_time == (*stored)->info.updated_time);
    CHECK(snap->info.updated_time == epoch_ms + 100'000);
  }
  // The profiles work normally afterwards.
  REQUIRE_OK(rt.update(*a, add_coins(1)));
  REQUIRE_OK(rt.end(*a));
  REQUIRE_OK(rt.end(*b));
  CHECK(stored_coins(*rt.stored("players", "alice")) == 71);
}

TEST_CASE("transact stores nothing and restores both profiles when one save is refused for its size") {
  runtime_options o;
  o.storage = data_limit(64);
  runtime rt(o);
  auto players = rt.open_value("players");
  auto a = rt.start(players, "alice");
  auto b = rt.start(players, "bob");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE_OK(rt.update(*a, set_coins(100)));
  REQUIRE_OK(rt.save(*a));
  REQUIRE_OK(rt.update(*a, add_coins(1))); // unsaved, must survive
  auto before_a = snap_of(rt, *a).data;
  auto before_b = snap_of(rt, *b).data;

  auto r = rt.transact({*a, *b}, [](std::vector<profile_context*>& ps) {
    add_coins(-30)(*ps[0]);
    add_coins(30)(*ps[1]);
    (*ps[1]->data_value())["blob"] = std::string(200, 'x');
    return result<void>{};
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::data_too_large);
  CHECK(stored_coins(*rt.stored("players", "alice")) == 100);
  CHECK(stored_coins(*rt.stored("players", "bob")) == 0);
  CHECK(snap_of(rt, *a).data == before_a);
  CHECK(snap_of(rt, *b).data == before_b);
  CHECK(snap_of(rt, *a).active);
  CHECK(snap_of(rt, *b).active);
  REQUIRE_OK(rt.end(*a));
  REQUIRE_OK(rt.end(*b));
  CHECK(stored_coins(*rt.stored("players", "alice")) == 101);
  CHECK(stored_coins(*rt.stored("players", "bob")) == 0);
}

TEST_CASE("transact stores nothing and restores both profiles when one lock was lost") {
  runtime rt;
  auto players = rt.open_value("players");
  auto a = rt.start(players, "alice");
  auto b = rt.start(players, "bob");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE_OK(rt.update(*a, set_coins(100)));
  REQUIRE_OK(rt.save(*a));
  rt.inject_owner("players", "bob", session_ref{"node-x", 1, 1});

  auto r = rt.transact({*a, *b}, [](std::vector<profile_context*>& ps) {
    add_coins(-30)(*ps[0]);
    add_coins(30)(*ps[1]);
    return result<void>{};
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::not_owner);
  CHECK(stored_coins(*rt.stored("players", "alice")) == 100);
  CHECK(stored_coins(*rt.stored("players", "bob")) == 0);
  CHECK(coins_in(snap_of(rt, *a).data) == 100);
  CHECK(coins_in(snap_of(rt, *b).data) == 0);
  // alice goes on; bob's session ends at its next save.
  REQUIRE_OK(rt.save(*a));
  CHECK(rt.save(*b).err().code() == errc::not_owner);
  CHECK_FALSE(rt.snapshot(*b).ok());
  CHECK(rt.stored("players", "bob")->meta.active_session
        == session_ref{"node-x", 1, 1});
}

TEST_CASE("transact restores both profiles when its function fails or throws") {
  runtime rt;
  auto players = rt.open_value("players");
  auto a = rt.start(players, "alice");
  auto b = rt.start(players, "bob");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE_OK(rt.update(*a, set_coins(10)));
  auto commits = rt.commits();
  auto r = rt.transact({*b, *a}, [](std::vector<profile_context*>& ps) {
    add_coins(5)(*ps[0]);
    add_coins(-5)(*ps[1]);
    return result<void>(make_error(errc::invalid_argument, "not enough coins"));
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::invalid_argument);
  CHECK(coins_in(snap_of(rt, *a).data) == 10);
  CHECK(coins_in(snap_of(rt, *b).data) == 0);
  r = rt.transact({*a, *b}, [](std::vector<profile_context*>& ps) -> result<void> {
    add_coins(5)(*ps[0]);
    throw std::runtime_error("bug in the trade");
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::internal);
  CHECK(coins_in(snap_of(rt, *a).data) == 10);
  CHECK(coins_in(snap_of(rt, *b).data) == 0);
  CHECK(rt.commits() == commits);
}

TEST_CASE("a failed transact puts back everything its function changed, not only the data") {
  runtime rt;
  auto [a, b] = start_alice_and_bob(rt);
  REQUIRE_OK(rt.update(a, [](profile_context& c) {
    c.add_user_id(1);
    c.key_metadata()["region"] = "eu";
    c.meta_tags()["tag"] = 1;
  }));
  REQUIRE_OK(rt.save(a));
  auto commits = rt.commits();
  auto before = snap_of(rt, a);

  auto r = rt.transact({a, b}, [](std::vector<profile_context*>& ps) {
    for (auto* c : ps) {
      c->add_user_id(99);
      c->key_metadata()["x"] = 1;
      c->meta_tags()["y"] = 2;
      c->lock_update(7);
      c->clear_update(8);
      c->save();
      c->end_session();
    }
    return result<void>(make_error(errc::invalid_argument, "no trade"));
  });
  REQUIRE_FALSE(r.ok());
  rt.run();
  auto after = snap_of(rt, a);
  CHECK(after.user_ids == before.user_ids);
  CHECK(after.key_metadata == before.key_metadata);
  CHECK(after.active);
  CHECK(snap_of(rt, b).user_ids.empty());
  CHECK(snap_of(rt, b).active);
  for (const auto* p : {&a, &b})
    REQUIRE_OK(rt.update(*p, [](profile_context& c) {
      CHECK(c.meta_tags().find("y") == nullptr);
      CHECK(c.updates_to_lock().empty());
      CHECK(c.updates_to_clear().empty());
    }));
  // Neither the asked save nor the asked end ran.
  CHECK(rt.commits() == commits);
}

TEST_CASE("transact keeps its profiles until storage answers a late group save, so memory and storage agree") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("STORE_REQUEST_TIMEOUT", 5));
  auto [a, b] = start_alice_with_100_and_bob(rt);

  auto done = transact_later(rt, {a, b}, pay_30);
  // The group save waits in the writer's mailbox past two store request
  // timeouts, then the writer commits it.
  rt.advance_without_writer(6s);
  rt.advance_without_writer(6s);
  rt.run();
  CHECK(stored_coins(*rt.stored("players", "alice")) == 70);
  CHECK(stored_coins(*rt.stored("players", "bob")) == 30);
  CHECK(coins_in(snap_of(rt, a).data) == 70);
  CHECK(coins_in(snap_of(rt, b).data) == 30);
  REQUIRE(done->has_value());
  CHECK_MESSAGE(done->value().ok(), describe(done->value()));
}

TEST_CASE("transact gives its profiles back unchanged when storage never answers its group save") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("STORE_REQUEST_TIMEOUT", 5));
  auto [a, b] = start_alice_with_100_and_bob(rt);

  auto done = transact_later(rt, {a, b}, pay_30);
  for (int i = 0; i < 12; ++i)
    rt.advance_without_writer(5s);
  REQUIRE(done->has_value());
  REQUIRE_FALSE(done->value().ok());
  CHECK(done->value().err().code() == errc::timeout);
  // 60 s: the transaction gave up and the profiles are back, unchanged
  // (a snapshot asks the profile itself, which answers only when not lent).
  CHECK(coins_in(snap_of(rt, a).data) == 100);
  CHECK(coins_in(snap_of(rt, b).data) == 0);
}

TEST_CASE("a profile whose lend a transaction gave up on is not left lent to it") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("STORE_REQUEST_TIMEOUT", 5));
  auto [a, b] = start_alice_and_bob(rt);
  auto move = [](std::vector<profile_context*>& ps) {
    add_coins(1)(*ps.front());
    return result<void>{};
  };
  // The first transaction borrows both and waits for the writer; the
  // second's lend of alice waits behind it in her mailbox until the second
  // gives up and ends.
  auto first = transact_later(rt, {a, b}, move);
  rt.run_except(rt.storage.writer);
  auto second = transact_later(rt, {a}, move);
  rt.run_except(rt.storage.writer);
  rt.advance_without_writer(6s);
  REQUIRE(second->has_value());
  CHECK((*second)->err().code() == errc::timeout);
  // The writer answers: the first transaction returns alice, who then
  // finds the second's lend, lends herself to the ended transaction, and
  // must come back.
  rt.run();
  REQUIRE(first->has_value());
  CHECK_MESSAGE((*first)->ok(), describe(**first));
  REQUIRE_OK(rt.update(a, add_coins(10)));
  CHECK(coins_in(snap_of(rt, a).data) == 11);
  REQUIRE_OK(rt.end(a));
  CHECK(stored_coins(*rt.stored("players", "alice")) == 11);
}

TEST_CASE("transact refuses handles of ended sessions and a key given twice") {
  runtime rt;
  auto players = rt.open_value("players");
  auto a = rt.start(players, "alice");
  auto b = rt.start(players, "bob");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto noop = [](std::vector<profile_context*>&) { return result<void>{}; };
  auto twice = rt.transact({*a, *a}, noop);
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.err().code() == errc::invalid_argument);
  REQUIRE_OK(rt.end(*b));
  auto ended = rt.transact({*a, *b}, noop);
  REQUIRE_FALSE(ended.ok());
  CHECK(ended.err().code() == errc::session_ended);
  auto none = rt.transact({}, noop);
  REQUIRE_FALSE(none.ok());
  CHECK(none.err().code() == errc::invalid_argument);
  CHECK(snap_of(rt, *a).active);
}

TEST_CASE("a save in flight when a transaction borrows the profile does not roll back LastSavedData") {
  runtime rt;
  auto players = rt.open_value("players");
  auto a = rt.start(players, "alice");
  auto b = rt.start(players, "bob");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE_OK(rt.update(*a, set_coins(100)));
  // alice's save waits at the writer while a transaction borrows alice and
  // sends its group save; the writer then answers both, alice's own save
  // first, while alice is still lent.
  auto writer = rt.storage.writer;
  auto saved = rt.ask_unit_later(a->actor, save_atom::value);
  rt.run_except(writer);
  auto traded = rt.ask_unit_later(
    rt.n->actor(), transact_atom::value, std::vector<profile_handle>{*a, *b},
    transact_fn([](std::vector<profile_context*>& ps) {
      add_coins(-40)(*ps[0]);
      add_coins(40)(*ps[1]);
      return result<void>{};
    }));
  rt.run_except(writer);
  CHECK_FALSE(saved->has_value());
  CHECK_FALSE(traded->has_value());
  rt.run();
  REQUIRE(saved->has_value());
  REQUIRE(traded->has_value());
  CHECK_OK(**saved);
  CHECK_OK(**traded);
  CHECK(stored_coins(*rt.stored("players", "alice")) == 60);
  CHECK(stored_coins(*rt.stored("players", "bob")) == 40);
  auto sa = snap_of(rt, *a);
  CHECK(coins_in(sa.data) == 60);
  CHECK(coins_in(sa.last_saved_data) == 60);
  auto stored_info = rt.versions("players", "alice").back();
  CHECK(sa.info.updated_time == stored_info.updated_time);
}

TEST_CASE("a node destroyed while a transaction borrows its profiles ends them only after the transaction gave them back") {
  runtime rt;
  auto [a, b] = start_alice_with_100_and_bob(rt);
  auto alice_ended = watch_end(rt, a.actor);
  auto bob_ended = watch_end(rt, b.actor);
  rt.run();
  auto ran = std::make_shared<bool>(false);
  transact_later(rt, {a, b}, [ran](std::vector<profile_context*>& ps) {
    *ran = true;
    CHECK(coins_in(*ps[0]->data_value()) == 100);
    return pay_30(ps);
  });
  // The transaction borrows alice (key order); its lend of bob waits in
  // bob's mailbox. Then the node goes away without shutdown(): its end
  // tells alice and bob to end as well, and alice hears it while lent.
  rt.run_except(b.actor);
  rt.n.reset();
  rt.run_except(b.actor);
  CHECK_MESSAGE(!*alice_ended,
                "alice ended while a transaction held her context");
  CHECK_FALSE(*ran);
  // Bob lends himself before his end: the transaction runs on both
  // contexts, stores the trade whole, gives both back, and only then do
  // they end, without a final save, as in a crash.
  rt.run();
  CHECK(*ran);
  CHECK(stored_coins(*rt.stored("players", "alice")) == 70);
  CHECK(stored_coins(*rt.stored("players", "bob")) == 30);
  CHECK(*alice_ended);
  CHECK(*bob_ended);
  CHECK(rt.stored("players", "alice")->meta.active_session == a.session);
}
