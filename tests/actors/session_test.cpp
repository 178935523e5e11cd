// Sessions on one node and across nodes sharing one storage: start, end, the
// lock rules as nodes see them, the retry loop in virtual time, mock stores.
#include <doctest/doctest.h>

#include "internal_messages.hpp" // lease_lost_atom
#include "runtime_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

TEST_CASE("a started session loads the template and its final save releases the lock") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  CHECK(rec->meta.active_session == p->session);
  CHECK(rec->meta.session_load_count == 1);
  CHECK(rt.n->state() == datastore_state::access);

  REQUIRE_OK(rt.update(*p, add_coins(25)));
  REQUIRE_OK(rt.end(*p));
  rec = rt.stored("players", "user-1");
  CHECK_FALSE(rec->meta.active_session.has_value());
  CHECK(stored_coins(*rec) == 25);
}

TEST_CASE("starting a key that is already active on this node is an error") {
  runtime rt;
  auto players = rt.open_value("players");
  auto first = rt.start(players, "user-1");
  REQUIRE(first.ok());
  auto second = rt.start(players, "user-1");
  REQUIRE_FALSE(second.ok());
  CHECK(second.err().code() == errc::session_active);
  // The first session is untouched by the refused start.
  auto snap = rt.snapshot(*first);
  REQUIRE(snap.ok());
  CHECK(snap->active);
}

TEST_CASE("of three concurrent starts of one key on one node only the last gets the profile") {
  runtime rt;
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  auto a = rt.start_later(*rt.n, players, "user-1");
  auto b = rt.start_later(*rt.n, players, "user-1");
  auto c = rt.start_later(*rt.n, players, "user-1");
  rt.run();
  REQUIRE(a->has_value());
  REQUIRE(b->has_value());
  REQUIRE(c->has_value());
  REQUIRE_FALSE((*a)->ok());
  CHECK((*a)->err().code() == errc::conflict);
  REQUIRE_FALSE((*b)->ok());
  CHECK((*b)->err().code() == errc::conflict);
  REQUIRE((*c)->ok());
  const auto& p = (*c)->value();

  // The lock is the winner's, and the superseded starts left nothing behind.
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  REQUIRE(rec->meta.active_session);
  CHECK(*rec->meta.active_session == p.session);
  // A fast rejoin is not a storage error.
  for (const auto& e : *errors)
    FAIL_CHECK("unexpected on_error: " << to_string(e.code) << ": " << e.message);

  REQUIRE_OK(rt.update(p, add_coins(3)));
  REQUIRE_OK(rt.end(p));
  rec = rt.stored("players", "user-1");
  CHECK_FALSE(rec->meta.active_session.has_value());
  CHECK(stored_coins(*rec) == 3);
}

TEST_CASE("a burst of starts larger than one start group keeps its order "
          "across the groups") {
  // The node sends a burst's starts to the writer in groups of at most 256
  // (node_actor.cpp, max_start_group). The askers all send before the node
  // runs, so the node holds the whole burst at once: the first start of
  // "user-x" goes in the first group, the second in the next, and the later
  // one must still win.
  runtime rt;
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  std::vector<decltype(rt.start_later(*rt.n, players, "k"))> others;
  decltype(others) contested;
  for (int i = 0; i < 300; ++i) {
    if (i == 250 || i == 280)
      contested.push_back(rt.start_later(*rt.n, players, "user-x"));
    others.push_back(
      rt.start_later(*rt.n, players, "user-" + std::to_string(i)));
  }
  rt.run();
  for (std::size_t i = 0; i < others.size(); ++i) {
    REQUIRE(others[i]->has_value());
    REQUIRE((*others[i])->ok());
    auto rec = rt.stored("players", "user-" + std::to_string(i));
    REQUIRE(rec);
    REQUIRE(rec->meta.active_session);
    CHECK(*rec->meta.active_session == (*others[i])->value().session);
  }
  REQUIRE(contested[0]->has_value());
  REQUIRE_FALSE((*contested[0])->ok());
  CHECK((*contested[0])->err().code() == errc::conflict);
  REQUIRE(contested[1]->has_value());
  REQUIRE((*contested[1])->ok());
  auto rec = rt.stored("players", "user-x");
  REQUIRE(rec);
  REQUIRE(rec->meta.active_session);
  CHECK(*rec->meta.active_session == (*contested[1])->value().session);
  for (const auto& e : *errors)
    FAIL_CHECK("unexpected on_error: " << to_string(e.code) << ": " << e.message);
}

TEST_CASE("a key can be started and ended twice and then removed") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p1 = rt.start(players, "user-1");
  REQUIRE(p1.ok());
  REQUIRE_OK(rt.update(*p1, add_coins(1)));
  REQUIRE_OK(rt.end(*p1));

  auto p2 = rt.start(players, "user-1");
  REQUIRE(p2.ok());
  CHECK(p2->session != p1->session);
  auto snap = rt.snapshot(*p2);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->data) == 1);
  CHECK(snap->meta.session_load_count == 2);
  REQUIRE_OK(rt.update(*p2, add_coins(1)));
  REQUIRE_OK(rt.end(*p2));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 2);

  // The ended sessions' actors are gone: nothing leaks.
  CHECK_FALSE(rt.snapshot(*p1).ok());
  CHECK_FALSE(rt.snapshot(*p2).ok());
  CHECK(rt.update(*p2, add_coins(1)).err().code() == errc::unreachable);

  auto removed = rt.remove(players, "user-1");
  REQUIRE(removed.ok());
  CHECK(*removed);
  auto got = rt.get(players, "user-1");
  REQUIRE(got.ok());
  CHECK_FALSE(got->has_value());
  CHECK_FALSE(rt.stored("players", "user-1").has_value());
  auto again = rt.remove(players, "user-1");
  REQUIRE(again.ok());
  CHECK_FALSE(*again);

  // A start after the removal begins a new profile from the template.
  auto p3 = rt.start(players, "user-1");
  REQUIRE(p3.ok());
  snap = rt.snapshot(*p3);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->data) == 0);
  CHECK(snap->meta.session_load_count == 1);
  REQUIRE_OK(rt.end(*p3));
}

TEST_CASE("a foreign ActiveSession ends the local session at its next save without on_last_save") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 60));
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(log));
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(5)));
  REQUIRE_OK(rt.save(*p));
  REQUIRE_OK(rt.update(*p, add_coins(7))); // never stored

  session_ref thief{"node-x", 9, 1};
  rt.inject_owner("players", "user-1", thief);
  auto stolen_at = rt.versions("players", "user-1").back();
  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(snap->active); // nothing tells the local node before it saves

  rt.advance(60s); // the next auto-save finds the lock taken
  CHECK(log->session_ends == 1);
  CHECK(log->last_saves.empty());
  CHECK(log->after_saves.size() == 1); // only the save before the theft
  // The refused save wrote nothing.
  CHECK(rt.versions("players", "user-1").back().updated_time
        == stolen_at.updated_time);
  CHECK_FALSE(rt.snapshot(*p).ok());   // the profile actor is gone
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  CHECK(rec->meta.active_session == thief);
  CHECK(stored_coins(*rec) == 5);
  bool reported = false;
  for (const auto& e : *errors)
    reported = reported || (e.code == errc::session_ended && e.key == "user-1");
  CHECK(reported);

  // The registry forgot the session: a new start is not session_active (it
  // waits for the thief instead).
  auto again = rt.start_later(*rt.n, players, "user-1");
  rt.run();
  CHECK_FALSE(again->has_value());
}

TEST_CASE("a manual save after a foreign ActiveSession fails with not_owner and ends the session") {
  runtime rt;
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(log));
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(5)));
  rt.inject_owner("players", "user-1", session_ref{"node-x", 1, 1});
  auto saved = rt.save(*p);
  REQUIRE_FALSE(saved.ok());
  CHECK(saved.err().code() == errc::not_owner);
  CHECK(log->session_ends == 1);
  CHECK(log->last_saves.empty());
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 0);
}

TEST_CASE("a start on another node makes the owner do its last save and hand the lock over") {
  runtime rt;
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto opts = rt.recorded(log);
  // Changes made in on_last_save are part of the final save.
  opts.hooks.on_last_save.push_back(
    [](profile_context& c, last_save_reason) { add_coins(100)(c); });
  auto p = rt.start(players, "user-1", opts);
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(5))); // not saved yet

  auto node_b = rt.make_node("node-b", 1);
  rt.run();
  auto players_b = node_b->open("players", value::object({{"coins", 0}}));
  REQUIRE(players_b.ok());
  auto started = rt.start_later(*node_b, *players_b, "user-1");
  rt.run();

  // The owner heard the request at once and released with reason external.
  REQUIRE(log->last_saves.size() == 1);
  CHECK(log->last_saves[0] == last_save_reason::external);
  CHECK(log->session_ends == 1);
  CHECK_FALSE(rt.snapshot(*p).ok());
  CHECK(rt.lock_holder("players", "user-1") == "node-b");
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 105);

  // Storage told node-b at once: no FIRST_LOAD_REPEAT to wait for.
  REQUIRE(started->has_value());
  REQUIRE_MESSAGE((*started)->ok(), describe(**started));
  const auto& pb = (*started)->value();
  CHECK(pb.session.node == "node-b");
  auto snap = rt.ask<profile_snapshot>(pb.actor, info_atom::value);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->data) == 105);
  CHECK(coins_in(snap->last_saved_data) == 105);
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec->meta.active_session);
  CHECK(*rec->meta.active_session == pb.session);
  CHECK_FALSE(rec->meta.force_load_session.has_value());
  // Two sessions in all: the hand-over counts node-b's load once.
  CHECK(rec->meta.session_load_count == 2);
  CHECK(snap->meta.session_load_count == 2);

  REQUIRE_OK(rt.ask_unit(pb.actor, end_atom::value));
  CHECK(rt.lock_holder("players", "user-1").empty());
}

TEST_CASE("a start steals the lock after SESSION_STEAL when the owner crashed without a final save") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(5)));
  REQUIRE_OK(rt.save(*p));
  REQUIRE_OK(rt.update(*p, add_coins(7))); // lost in the crash
  auto owner = p->session;

  rt.n.reset(); // a crash: the profile actors die without saving
  rt.run();
  CHECK(rt.lock_holder("players", "user-1") == "node-a");

  auto node_b = rt.make_node("node-b", 1);
  rt.run();
  auto players_b = node_b->open("players", value::object({{"coins", 0}}));
  REQUIRE(players_b.ok());
  auto started = rt.start_later(*node_b, *players_b, "user-1");
  rt.run();
  CHECK_FALSE(started->has_value());
  auto rec = rt.stored("players", "user-1");
  CHECK(rec->meta.active_session == owner); // asked, not taken
  REQUIRE(rec->meta.force_load_session);
  CHECK(rec->meta.force_load_session->node == "node-b");

  // Retries at 5, 15, 25, 35 s find the lock still held; the one at 45 s
  // steals (FIRST_LOAD_REPEAT, then LOAD_REPEAT_PERIOD, SESSION_STEAL 40 s).
  rt.advance(44s);
  CHECK_FALSE(started->has_value());
  CHECK(rt.stored("players", "user-1")->meta.active_session == owner);
  rt.advance(2s);
  REQUIRE(started->has_value());
  REQUIRE_MESSAGE((*started)->ok(), describe(**started));
  const auto& pb = (*started)->value();
  auto snap = rt.ask<profile_snapshot>(pb.actor, info_atom::value);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->data) == 5); // the last saved data
  CHECK(rt.stored("players", "user-1")->meta.active_session == pb.session);
}

TEST_CASE("a restarted node takes back its own lock at once") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(5)));
  REQUIRE_OK(rt.save(*p));
  rt.n.reset();
  rt.run();
  rt.n = rt.make_node("node-a", 2); // the same node, a new incarnation
  rt.run();
  auto players2 = rt.open_value("players");
  auto p2 = rt.start(players2, "user-1");
  REQUIRE_MESSAGE(p2.ok(), describe(p2));
  CHECK(p2->session.incarnation == 2);
  auto snap = rt.snapshot(*p2);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->data) == 5);
}

TEST_CASE("a cancel predicate stops the retries and replaces START_SESSION_TIMEOUT") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  auto owner = p->session;
  rt.n.reset(); // the owner never answers
  rt.run();

  auto node_b = rt.make_node("node-b", 1);
  REQUIRE_OK(node_b->set_constant("SESSION_STEAL", 1000));
  REQUIRE_OK(node_b->set_constant("START_SESSION_TIMEOUT", 10));
  rt.run();
  auto players_b = node_b->open("players", value::object({{"coins", 0}}));
  REQUIRE(players_b.ok());
  auto cancel = std::make_shared<bool>(false);
  auto polls = std::make_shared<int>(0);
  start_options opts;
  opts.cancel = [cancel, polls] {
    ++*polls;
    return *cancel;
  };
  auto started = rt.start_later(*node_b, *players_b, "user-1", opts);
  rt.advance(30s); // past the start timeout: the predicate decides alone
  CHECK_FALSE(started->has_value());
  CHECK(*polls >= 3);
  *cancel = true;
  rt.advance(10s);
  REQUIRE(started->has_value());
  REQUIRE_FALSE((*started)->ok());
  CHECK((*started)->err().code() == errc::cancelled);
  auto polls_at_cancel = *polls;
  rt.advance(120s);
  CHECK(*polls == polls_at_cancel); // no more retries
  CHECK(rt.stored("players", "user-1")->meta.active_session == owner);
}

TEST_CASE("a start cancelled after the owner handed it the lock leaves the key free") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(6)));
  auto node_b = rt.make_node("node-b", 1);
  rt.run();
  auto players_b = node_b->open("players", value::object({{"coins", 0}}));
  REQUIRE(players_b.ok());
  // The player leaves while the owner hands over: the predicate says "go
  // on" when the key is found locked, and "cancel" when storage tells node-b
  // that the lock is now its request's.
  auto calls = std::make_shared<int>(0);
  start_options opts;
  opts.cancel = [calls] { return ++*calls > 1; };
  auto started = rt.start_later(*node_b, *players_b, "user-1", opts);
  rt.run();
  CHECK(*calls == 2);
  REQUIRE(started->has_value());
  REQUIRE_FALSE((*started)->ok());
  CHECK((*started)->err().code() == errc::cancelled);
  rt.run();
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 6);
  // The key is free: a third node gets it at once, without waiting for
  // SESSION_STEAL.
  rt.check_free_for_new_node("node-c", "players", "user-1");
}

TEST_CASE("a start that finds the key locked gives up with timeout after START_SESSION_TIMEOUT") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  rt.n.reset();
  rt.run();
  auto node_b = rt.make_node("node-b", 1);
  REQUIRE_OK(node_b->set_constant("SESSION_STEAL", 1000));
  REQUIRE_OK(node_b->set_constant("START_SESSION_TIMEOUT", 30));
  rt.run();
  auto players_b = node_b->open("players", value::object({{"coins", 0}}));
  REQUIRE(players_b.ok());
  auto started = rt.start_later(*node_b, *players_b, "user-1");
  rt.advance(29s);
  CHECK_FALSE(started->has_value());
  rt.advance(11s); // the retry at 35 s is past the timeout
  REQUIRE(started->has_value());
  REQUIRE_FALSE((*started)->ok());
  CHECK((*started)->err().code() == errc::timeout);
  CHECK(rt.lock_holder("players", "user-1") == "node-a");
}

TEST_CASE("a start gives up after START_SESSION_TIMEOUT while storage keeps failing") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("START_SESSION_TIMEOUT", 30));
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  rt.backend->fail_commits(faulty_backend::unlimited);
  auto started = rt.start_later(*rt.n, players, "user-1");
  rt.advance(29s); // attempts at 0, 1, 3, 7, 15 s fail (back-off 1, 2, 4, 8, 16)
  CHECK_FALSE(started->has_value());
  CHECK(errors->size() == 5);
  rt.advance(21s); // the attempt at 31 s fails past the timeout
  REQUIRE(started->has_value());
  REQUIRE_FALSE((*started)->ok());
  CHECK((*started)->err().code() == errc::timeout);
  CHECK(errors->size() == 6);
  for (const auto& e : *errors)
    CHECK(e.code == errc::storage_error);
  rt.backend->heal();
  rt.advance(60s);
  CHECK_FALSE(rt.stored("players", "user-1").has_value());
  // Nothing is left in flight: a new start works at once.
  auto again = rt.start(players, "user-1");
  CHECK_OK(again);
}

TEST_CASE("a cancel predicate also stops the retries of a start while storage fails") {
  runtime rt;
  auto players = rt.open_value("players");
  rt.backend->fail_commits(faulty_backend::unlimited);
  auto cancel = std::make_shared<bool>(false);
  start_options opts;
  opts.cancel = [cancel] { return *cancel; };
  auto started = rt.start_later(*rt.n, players, "user-1", opts);
  rt.advance(200s); // no START_SESSION_TIMEOUT with a cancel predicate
  CHECK_FALSE(started->has_value());
  *cancel = true;
  rt.advance(20s);
  REQUIRE(started->has_value());
  REQUIRE_FALSE((*started)->ok());
  CHECK((*started)->err().code() == errc::cancelled);
  rt.backend->heal();
  rt.advance(60s);
  CHECK_FALSE(rt.stored("players", "user-1").has_value());
}

TEST_CASE("a start retries storage failures and succeeds once storage heals") {
  runtime rt;
  auto players = rt.open_value("players");
  rt.backend->fail_commits(2);
  auto started = rt.start_later(*rt.n, players, "user-1");
  rt.run();
  CHECK_FALSE(started->has_value());
  rt.advance(3s); // attempts at 0 and 1 s fail, the one at 3 s commits
  REQUIRE(started->has_value());
  CHECK_OK(**started);
}

TEST_CASE("mock stores and live stores never see each other's keys") {
  runtime rt;
  auto live = rt.open_value("players");
  auto mock = live.mock();
  CHECK(mock.is_mock());
  CHECK_FALSE(live.is_mock());

  auto pm = rt.start(mock, "user-1");
  REQUIRE(pm.ok());
  // The same key may be active in both at once.
  auto pl = rt.start(live, "user-1");
  REQUIRE(pl.ok());
  REQUIRE_OK(rt.update(*pm, add_coins(3)));
  REQUIRE_OK(rt.update(*pl, add_coins(10)));
  REQUIRE_OK(rt.end(*pm));
  auto from_live = rt.get(live, "user-1");
  REQUIRE(from_live.ok());
  REQUIRE(from_live->has_value());
  CHECK(coins_in((*from_live)->data) == 0); // the live session's start
  REQUIRE_OK(rt.end(*pl));

  auto m = rt.get(mock, "user-1");
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  CHECK(coins_in((*m)->data) == 3);
  auto l = rt.get(live, "user-1");
  REQUIRE(l.ok());
  REQUIRE(l->has_value());
  CHECK(coins_in((*l)->data) == 10);
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 10);

  // A key only the mock has is absent live, and the other way round.
  auto only_mock = rt.start(mock, "mock-only");
  REQUIRE(only_mock.ok());
  REQUIRE_OK(rt.end(*only_mock));
  auto absent = rt.get(live, "mock-only");
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());
  CHECK_FALSE(rt.stored("players", "mock-only").has_value());
  auto only_live = rt.start(live, "live-only");
  REQUIRE(only_live.ok());
  REQUIRE_OK(rt.end(*only_live));
  absent = rt.get(mock, "live-only");
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());
}

TEST_CASE("a mock message reaches the mock session only") {
  runtime rt;
  auto live = rt.open_value("players");
  auto mock = live.mock();
  auto seen_live = std::make_shared<int>(0);
  auto seen_mock = std::make_shared<int>(0);
  auto counting = [](std::shared_ptr<int> n) {
    start_options o;
    o.hooks.message_handlers.push_back(
      [n](profile_context&, const incoming_message&,
          const std::function<void()>& processed) {
        ++*n;
        processed();
      });
    return o;
  };
  auto pl = rt.start(live, "user-1", counting(seen_live));
  auto pm = rt.start(mock, "user-1", counting(seen_mock));
  REQUIRE(pl.ok());
  REQUIRE(pm.ok());
  REQUIRE_OK(rt.message(mock, "user-1", value("gift")));
  rt.run();
  CHECK(*seen_mock == 1);
  CHECK(*seen_live == 0);
  REQUIRE_OK(rt.message(live, "user-1", value("gift")));
  rt.run();
  CHECK(*seen_mock == 1);
  CHECK(*seen_live == 1);
}

TEST_CASE("a start of a key whose session on this node is ending waits for that end instead of failing") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  // The node hears that its lease is lost (its sessions end without saving)
  // and a start of the same key arrives before the session has ended.
  caf::anon_send(rt.n->actor(), lease_lost_atom::value);
  auto again = rt.start_later(*rt.n, players, "user-1");
  rt.run();
  REQUIRE(again->has_value());
  REQUIRE_MESSAGE((*again)->ok(), describe(**again));
  CHECK((*again)->value().session.id != p->session.id);
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec->meta.active_session);
  CHECK(*rec->meta.active_session == (*again)->value().session);
}

TEST_CASE("starts sent together go to each store's writer and are each "
          "answered, the live ones in one transaction") {
  runtime rt;
  auto live = rt.open_value("players");
  auto mock = live.mock();
  auto before = rt.commits();
  std::vector<std::shared_ptr<std::optional<result<profile_handle>>>> live_starts;
  std::vector<std::shared_ptr<std::optional<result<profile_handle>>>> mock_starts;
  for (auto key : {"l1", "l2", "l3"})
    live_starts.push_back(rt.start_later(*rt.n, live, key));
  for (auto key : {"m1", "m2"})
    mock_starts.push_back(rt.start_later(*rt.n, mock, key));
  rt.run();
  for (auto& s : live_starts) {
    REQUIRE(s->has_value());
    REQUIRE_MESSAGE((*s)->ok(), (*s)->err().to_string());
    CHECK_FALSE((*s)->value().store->mock);
  }
  for (auto& s : mock_starts) {
    REQUIRE(s->has_value());
    REQUIRE_MESSAGE((*s)->ok(), (*s)->err().to_string());
  }
  // The live storage (rt.backend) holds the live keys only, written in one
  // transaction; the mock keys went to the mock store's own writer.
  CHECK(rt.commits() - before == 1);
  for (auto key : {"l1", "l2", "l3"})
    CHECK(rt.stored("players", key).has_value());
  for (auto key : {"m1", "m2"})
    CHECK_FALSE(rt.stored("players", key).has_value());
  for (auto& s : mock_starts) {
    auto got = rt.get(mock, (*s)->value().key);
    REQUIRE(got.ok());
    CHECK(got->has_value());
  }
  for (auto* all : {&live_starts, &mock_starts})
    for (auto& s : *all)
      REQUIRE_OK(rt.end((*s)->value()));
}

TEST_CASE("a removal asked right after a start on the same node reaches "
          "storage after the start") {
  // The node holds starts back to send them together; a write it forwards
  // meanwhile must not overtake them.
  runtime rt;
  auto players = rt.open_value("players");
  auto started = rt.start_later(*rt.n, players, "user-1");
  auto removed = rt.ask_later<bool>(rt.n->actor(), remove_atom::value,
                                    players.spec(), std::string("user-1"));
  rt.run();
  REQUIRE(started->has_value());
  REQUIRE_MESSAGE((*started)->ok(), (*started)->err().to_string());
  REQUIRE(removed->has_value());
  REQUIRE((*removed)->ok());
  // The start created the profile, then the removal removed it (the other
  // way round, the removal would find nothing and the profile would stay).
  CHECK(**removed);
  CHECK_FALSE(rt.stored("players", "user-1").has_value());
}
