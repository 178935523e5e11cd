// Saving: auto-save timing and spread in virtual time, final saves, refused
// saves, storage failures and the critical state, shutdown.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "runtime_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

TEST_CASE("each profile auto-saves once per AUTO_SAVE_PERIOD and the first saves are spread over the period") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 100));
  auto players = rt.open_value("players");
  constexpr int count = 10;
  std::vector<std::shared_ptr<hook_log>> logs;
  std::vector<profile_handle> profiles;
  for (int i = 0; i < count; ++i) {
    logs.push_back(std::make_shared<hook_log>());
    auto p = rt.start(players, "user-" + std::to_string(i),
                      rt.recorded(logs.back()));
    REQUIRE(p.ok());
    profiles.push_back(*p);
  }
  auto commits = rt.commits();

  rt.advance(100s);
  std::vector<duration> firsts;
  for (const auto& log : logs) {
    REQUIRE(log->after_saves.size() == 1);
    CHECK(log->after_saves[0] > 0ms);
    CHECK(log->after_saves[0] <= 100s);
    firsts.push_back(log->after_saves[0]);
  }
  std::sort(firsts.begin(), firsts.end());
  for (std::size_t i = 1; i < firsts.size(); ++i)
    CHECK_MESSAGE(firsts[i] - firsts[i - 1] >= 5s,
                  "auto-saves at " << firsts[i - 1].count() << " and "
                                   << firsts[i].count() << " ms are too close");
  // Spread over the whole period, not bunched at one end.
  CHECK(firsts.front() < 20s);
  CHECK(firsts.back() > 80s);
  CHECK(rt.commits() == commits + count); // one write each, at its own time

  rt.advance(100s);
  for (std::size_t i = 0; i < logs.size(); ++i) {
    const auto& log = *logs[i];
    REQUIRE(log.after_saves.size() == 2);
    CHECK(log.after_saves[1] - log.after_saves[0] == 100s);
    // The stored LastUpdate is the virtual time of that save.
    auto rec = rt.stored("players", "user-" + std::to_string(i));
    REQUIRE(rec);
    CHECK(rec->meta.last_update == epoch_ms + log.after_saves[1].count());
  }
  CHECK(rt.commits() == commits + 2 * count);
  for (const auto& p : profiles)
    REQUIRE_OK(rt.end(p));
}

TEST_CASE("profiles started later join the spread and still save once per period") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 60));
  auto players = rt.open_value("players");
  std::vector<std::shared_ptr<hook_log>> logs;
  for (int i = 0; i < 4; ++i) {
    logs.push_back(std::make_shared<hook_log>());
    auto p = rt.start(players, "user-" + std::to_string(i),
                      rt.recorded(logs.back()));
    REQUIRE(p.ok());
    rt.advance(7s);
  }
  rt.advance(600s);
  for (const auto& log : logs) {
    REQUIRE(log->after_saves.size() >= 9);
    for (std::size_t i = 1; i < log->after_saves.size(); ++i)
      CHECK(log->after_saves[i] - log->after_saves[i - 1] == 60s);
  }
}

TEST_CASE("the final save of end_session writes the newest data and stops the auto-saves") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 60));
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(log));
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(1)));
  rt.advance(60s);
  REQUIRE(log->after_saves.size() == 1);
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 1);
  REQUIRE_OK(rt.update(*p, add_coins(2)));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 1);
  REQUIRE_OK(rt.end(*p));
  auto rec = rt.stored("players", "user-1");
  CHECK(stored_coins(*rec) == 3);
  CHECK_FALSE(rec->meta.active_session.has_value());
  CHECK(rec->meta.last_update == rt.now_ms());
  REQUIRE(log->last_saves.size() == 1);
  CHECK(log->last_saves[0] == last_save_reason::manual);
  CHECK(log->session_ends == 1);
  auto commits = rt.commits();
  rt.advance(600s);
  CHECK(rt.commits() == commits);
  CHECK(log->after_saves.size() == 2);
}

TEST_CASE("save requested from inside a callback and manual saves coalesce while one is in flight") {
  runtime rt;
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(log));
  REQUIRE(p.ok());
  auto commits = rt.commits();
  // Three save requests in one go: the first starts a save, the other two
  // wait for one more save that covers them both.
  auto s1 = rt.ask_unit_later(p->actor, save_atom::value);
  auto s2 = rt.ask_unit_later(p->actor, save_atom::value);
  auto s3 = rt.ask_unit_later(p->actor, save_atom::value);
  rt.run();
  REQUIRE(s1->has_value());
  REQUIRE(s2->has_value());
  REQUIRE(s3->has_value());
  CHECK_OK(**s1);
  CHECK_OK(**s2);
  CHECK_OK(**s3);
  CHECK(log->after_saves.size() <= 2);
  CHECK(rt.commits() - commits <= 2);

  // profile_context::save() from an update asks for a save afterwards.
  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    add_coins(4)(c);
    c.save();
  }));
  rt.run();
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 4);
  // end_session() from a callback ends the session with reason manual.
  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    add_coins(1)(c);
    c.end_session();
  }));
  rt.run();
  CHECK(log->session_ends == 1);
  REQUIRE(log->last_saves.size() == 1);
  CHECK(log->last_saves[0] == last_save_reason::manual);
  auto rec = rt.stored("players", "user-1");
  CHECK(stored_coins(*rec) == 5);
  CHECK_FALSE(rec->meta.active_session.has_value());
}

TEST_CASE("a save refused for its size keeps the session and the data and reports the error") {
  runtime_options o;
  o.storage = data_limit(64);
  runtime rt(o);
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(log));
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(2)));
  REQUIRE_OK(rt.save(*p));

  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    (*c.data_value())["blob"] = std::string(200, 'x');
    add_coins(1)(c);
  }));
  auto commits_before = rt.commits();
  auto saved = rt.save(*p);
  REQUIRE_FALSE(saved.ok());
  CHECK(saved.err().code() == errc::data_too_large);
  // Beside its storage the profile checks its bytes itself: the refused
  // save never reached the writer.
  CHECK(rt.commits() == commits_before);
  REQUIRE(errors->size() == 1);
  CHECK(errors->at(0).code == errc::data_too_large);
  CHECK(errors->at(0).store == "players");
  CHECK(errors->at(0).key == "user-1");

  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(snap->active);
  CHECK(snap->data.get("blob") != nullptr);
  CHECK(coins_in(snap->data) == 3);
  CHECK(coins_in(snap->last_saved_data) == 2);
  CHECK(rt.stored("players", "user-1")->meta.active_session == p->session);
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 2);

  // A refused final save keeps the session too.
  auto ended = rt.end(*p);
  REQUIRE_FALSE(ended.ok());
  CHECK(ended.err().code() == errc::data_too_large);
  snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(snap->active);
  CHECK(log->session_ends == 0);
  CHECK(rt.stored("players", "user-1")->meta.active_session == p->session);

  // Fixed, it saves and ends normally.
  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    c.data_value()->erase("blob");
  }));
  REQUIRE_OK(rt.save(*p));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 3);
  REQUIRE_OK(rt.end(*p));
  CHECK(log->session_ends == 1);
  CHECK_FALSE(rt.stored("players", "user-1")->meta.active_session.has_value());
  // Refused requests are the caller's problem, not storage trouble.
  CHECK_FALSE(rt.n->is_critical_state());
}

TEST_CASE("storage failures enter the critical state and leave it after CRITICAL_STATE_EXPIRE without losing a save") {
  runtime rt;
  auto toggles = std::make_shared<std::vector<bool>>();
  rt.n->on_critical_toggle([toggles](bool on) { toggles->push_back(on); });
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(10)));
  REQUIRE_OK(rt.save(*p)); // acknowledged: must never be lost
  REQUIRE_OK(rt.update(*p, add_coins(10)));

  rt.backend->fail_commits(faulty_backend::unlimited);
  auto saved = rt.save(*p);
  REQUIRE_FALSE(saved.ok());
  CHECK(saved.err().code() == errc::storage_error);
  CHECK_FALSE(rt.n->is_critical_state());
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 10);

  // Retries after 1, 2, 4, 8 s: the fifth failure (at 15 s) is the
  // CRITICAL_STATE_ERROR_COUNT-th within CRITICAL_STATE_ERROR_EXPIRE.
  rt.advance(14s);
  CHECK(errors->size() == 4);
  CHECK_FALSE(rt.n->is_critical_state());
  CHECK(toggles->empty());
  rt.advance(1s);
  CHECK(errors->size() == 5);
  CHECK(rt.n->is_critical_state());
  REQUIRE(toggles->size() == 1);
  CHECK(toggles->at(0) == true);
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 10);
  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(snap->active);
  CHECK(coins_in(snap->data) == 20);

  // Newer changes meanwhile go out with the retry once storage heals.
  REQUIRE_OK(rt.update(*p, add_coins(10)));
  rt.backend->heal();
  rt.advance(16s); // the retry at 31 s commits
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 30);
  snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->last_saved_data) == 30);
  CHECK(errors->size() == 5);
  CHECK(rt.n->is_critical_state());

  // CRITICAL_STATE_EXPIRE (120 s) after the threshold was last met (15 s).
  rt.advance(103s);
  CHECK(rt.n->is_critical_state());
  rt.advance(2s);
  CHECK_FALSE(rt.n->is_critical_state());
  REQUIRE(toggles->size() == 2);
  CHECK(toggles->at(1) == false);
  REQUIRE_OK(rt.end(*p));
}

TEST_CASE("errors spread wider than CRITICAL_STATE_ERROR_EXPIRE do not enter the critical state") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("CRITICAL_STATE_ERROR_COUNT", 3));
  REQUIRE_OK(rt.n->set_constant("CRITICAL_STATE_ERROR_EXPIRE", 10));
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  for (int i = 0; i < 4; ++i) {
    rt.backend->fail_commits(1);
    CHECK_FALSE(rt.save(*p).ok());
    rt.advance(6s); // the retry after 1 s succeeds
    CHECK_OK(rt.save(*p));
  }
  CHECK_FALSE(rt.n->is_critical_state());
  // Three within ten seconds do.
  rt.backend->fail_commits(3);
  CHECK_FALSE(rt.save(*p).ok());
  rt.advance(3s); // retries at 1 and 3 s fail
  CHECK(rt.n->is_critical_state());
}

TEST_CASE("a final save retries storage failures until it is durable") {
  runtime rt;
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(log));
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(8)));
  rt.backend->fail_commits(faulty_backend::unlimited);
  auto ended = rt.ask_unit_later(p->actor, end_atom::value);
  rt.advance(300s);
  CHECK_FALSE(ended->has_value()); // still retrying, every 20 s by now
  CHECK(log->session_ends == 0);
  CHECK(rt.stored("players", "user-1")->meta.active_session == p->session);
  rt.backend->heal();
  rt.advance(20s);
  REQUIRE(ended->has_value());
  CHECK_OK(**ended);
  CHECK(log->session_ends == 1);
  REQUIRE(log->last_saves.size() == 1);
  auto rec = rt.stored("players", "user-1");
  CHECK(stored_coins(*rec) == 8);
  CHECK_FALSE(rec->meta.active_session.has_value());
}

TEST_CASE("shutdown makes every active profile do its final save with reason shutdown and refuses new starts") {
  runtime rt;
  auto players = rt.open_value("players");
  std::vector<std::shared_ptr<hook_log>> logs;
  std::vector<profile_handle> profiles;
  for (int i = 0; i < 3; ++i) {
    logs.push_back(std::make_shared<hook_log>());
    auto opts = rt.recorded(logs.back());
    // A change made in on_last_save is part of the final save.
    opts.hooks.on_last_save.push_back(
      [](profile_context& c, last_save_reason) { add_coins(100)(c); });
    auto p = rt.start(players, "user-" + std::to_string(i), opts);
    REQUIRE(p.ok());
    REQUIRE_OK(rt.update(*p, add_coins(i + 1)));
    profiles.push_back(*p);
  }
  CHECK_FALSE(rt.n->is_closing());
  REQUIRE_OK(rt.shutdown(10s));
  CHECK(rt.n->is_closing());
  for (int i = 0; i < 3; ++i) {
    const auto& log = *logs[static_cast<std::size_t>(i)];
    REQUIRE(log.last_saves.size() == 1);
    CHECK(log.last_saves[0] == last_save_reason::shutdown);
    CHECK(log.session_ends == 1);
    auto rec = rt.stored("players", "user-" + std::to_string(i));
    REQUIRE(rec);
    CHECK_FALSE(rec->meta.active_session.has_value());
    CHECK(stored_coins(*rec) == 100 + i + 1);
  }
  auto refused = rt.start(players, "user-9");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code() == errc::closing);
  refused = rt.start(players, "user-0");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code() == errc::closing);
  CHECK_FALSE(rt.stored("players", "user-9").has_value());
}

TEST_CASE("a start still in flight when shutdown begins leaves no lock behind") {
  runtime rt;
  auto players = rt.open_value("players");
  auto started = rt.start_later(*rt.n, players, "user-1");
  auto down = rt.ask_unit_later(rt.n->actor(), shutdown_atom::value,
                                duration(10s));
  rt.run();
  REQUIRE(started->has_value());
  REQUIRE_FALSE((*started)->ok());
  CHECK((*started)->err().code() == errc::closing);
  REQUIRE(down->has_value());
  CHECK_OK(**down);
  auto rec = rt.stored("players", "user-1");
  if (rec)
    CHECK_FALSE(rec->meta.active_session.has_value());
}

TEST_CASE("a start waiting for a locked key is refused with closing when shutdown begins") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  auto node_b = rt.make_node("node-b", 1);
  rt.run();
  auto players_b = node_b->open("players", value::object({{"coins", 0}}));
  REQUIRE(players_b.ok());
  // The key's owner is a node that never answers (no release, no hand-off):
  // node-b waits for its retry and shuts down meanwhile.
  session_ref silent{"node-x", 1, 1};
  rt.inject_owner("players", "user-1", silent);
  auto started = rt.start_later(*node_b, *players_b, "user-1");
  rt.run();
  CHECK_FALSE(started->has_value());
  REQUIRE_OK(rt.ask_unit(node_b->actor(), shutdown_atom::value, duration(10s)));
  REQUIRE(started->has_value());
  REQUIRE_FALSE((*started)->ok());
  CHECK((*started)->err().code() == errc::closing);
  rt.advance(60s);
  // node-b left nothing behind: the lock is still the silent owner's.
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  REQUIRE(rec->meta.active_session);
  CHECK(*rec->meta.active_session == silent);
}

// user-1 of "players" active with 4 coins, and every commit failing from
// now on: its final save is retried until the backend heals.
void start_4_coins_then_fail_commits(runtime& rt) {
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(4)));
  rt.backend->fail_commits(faulty_backend::unlimited);
}

TEST_CASE("a shutdown whose final saves cannot be stored reports timeout and the saves go on") {
  runtime rt;
  start_4_coins_then_fail_commits(rt);
  auto down = rt.ask_unit_later(rt.n->actor(), shutdown_atom::value,
                                duration(5s));
  rt.advance(4s);
  CHECK_FALSE(down->has_value());
  rt.advance(2s);
  REQUIRE(down->has_value());
  REQUIRE_FALSE((*down)->ok());
  CHECK((*down)->err().code() == errc::timeout);
  rt.backend->heal();
  rt.advance(20s);
  auto rec = rt.stored("players", "user-1");
  CHECK(stored_coins(*rec) == 4);
  CHECK_FALSE(rec->meta.active_session.has_value());
}

TEST_CASE("a second shutdown is answered when the sessions end, not at the first call's deadline") {
  runtime rt;
  start_4_coins_then_fail_commits(rt);
  auto first = rt.ask_unit_later(rt.n->actor(), shutdown_atom::value,
                                 duration(5s));
  rt.advance(1s);
  auto second = rt.ask_unit_later(rt.n->actor(), shutdown_atom::value,
                                  duration(60s));
  // The first call's deadline: it alone gives up.
  rt.advance(5s);
  REQUIRE(first->has_value());
  REQUIRE_FALSE((*first)->ok());
  CHECK((*first)->err().code() == errc::timeout);
  CHECK_MESSAGE(!second->has_value(),
                "the second shutdown was answered at the first one's deadline");
  // Storage recovers: the final save's retry ends the session, and the
  // second call hears it then, long before its own deadline.
  rt.backend->heal();
  rt.advance(20s);
  REQUIRE(second->has_value());
  CHECK_OK(**second);
  auto rec = rt.stored("players", "user-1");
  CHECK(stored_coins(*rec) == 4);
  CHECK_FALSE(rec->meta.active_session.has_value());
}

// Pending timers of the virtual clock: delayed messages (auto-save
// wake-ups, deadlines, retries), or CAF request timeouts.
std::size_t pending(runtime& rt, caf::detail::simple_actor_clock::event_type type) {
  std::size_t n = 0;
  for (const auto& entry : rt.sched.clock().schedule())
    if (entry.second->subtype == type)
      ++n;
  return n;
}
constexpr auto delayed_message = caf::detail::simple_actor_clock::actor_msg_type;
constexpr auto request_timeout = caf::detail::simple_actor_clock::request_timeout_type;

TEST_CASE("the node keeps one timer for all its profiles' auto-saves, not one per profile") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 100));
  auto players = rt.open_value("players");
  std::vector<profile_handle> profiles;
  for (int i = 0; i < 40; ++i) {
    auto p = rt.start(players, "user-" + std::to_string(i));
    REQUIRE(p.ok());
    profiles.push_back(*p);
  }
  rt.run();
  // One auto-save wake-up (plus a few made obsolete when a new profile came
  // due earlier than every other; they fire and do nothing) and the node's
  // sweep over start attempts; no request timeouts left behind by the starts
  // (one is the node's hello to the writer).
  CHECK(pending(rt, delayed_message) < 12);
  CHECK(pending(rt, request_timeout) <= 1);
  auto commits = rt.commits();
  rt.advance(100s);
  CHECK(rt.commits() == commits + 40); // still one auto-save each
  // The wake-up, and at most one save deadline per profile; still no
  // request timeout per save.
  CHECK(pending(rt, delayed_message) <= 41);
  CHECK(pending(rt, request_timeout) == 0);
  for (const auto& p : profiles)
    REQUIRE_OK(rt.end(p));
  // Nothing left to wake up for once no session is active.
  rt.advance(1000s);
  CHECK(pending(rt, delayed_message) == 0);
  CHECK(pending(rt, request_timeout) == 0);
}

TEST_CASE("ended sessions leave the auto-save schedule and a new session of the key saves on its own time") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 50));
  auto players = rt.open_value("players");
  auto first = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(first));
  REQUIRE(p.ok());
  auto other = std::make_shared<hook_log>();
  auto q = rt.start(players, "user-2", rt.recorded(other));
  REQUIRE(q.ok());
  REQUIRE_OK(rt.end(*p));
  auto saves_at_end = first->after_saves.size();
  // The same key again: a new session and a new place in the schedule.
  auto again = std::make_shared<hook_log>();
  auto p2 = rt.start(players, "user-1", rt.recorded(again));
  REQUIRE(p2.ok());
  rt.advance(500s);
  CHECK(first->after_saves.size() == saves_at_end); // the ended session is gone
  REQUIRE(again->after_saves.size() >= 9);
  REQUIRE(other->after_saves.size() >= 9);
  for (const auto* log : {again.get(), other.get()})
    for (std::size_t i = 1; i < log->after_saves.size(); ++i)
      CHECK(log->after_saves[i] - log->after_saves[i - 1] == 50s);
  REQUIRE_OK(rt.end(*p2));
  REQUIRE_OK(rt.end(*q));
}

TEST_CASE("a changed AUTO_SAVE_PERIOD applies from each profile's next auto-save") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 100));
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(log));
  REQUIRE(p.ok());
  rt.advance(100s);
  REQUIRE(log->after_saves.size() == 1);
  REQUIRE_OK(rt.n->set_constant("AUTO_SAVE_PERIOD", 10));
  rt.advance(100s); // the save already scheduled comes 100 s after the first
  REQUIRE(log->after_saves.size() >= 2);
  CHECK(log->after_saves[1] - log->after_saves[0] == 100s);
  rt.advance(30s);
  REQUIRE(log->after_saves.size() >= 4);
  CHECK(log->after_saves.back() - log->after_saves[log->after_saves.size() - 2] == 10s);
  REQUIRE_OK(rt.end(*p));
}

TEST_CASE("LastSavedData stays the last durable data through failed commits and a refused save") {
  runtime rt(runtime_options{"node-a", 1, data_limit(200)});
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(3)));
  REQUIRE_OK(rt.save(*p));
  // A commit that fails writes nothing: LastSavedData is still 3.
  REQUIRE_OK(rt.update(*p, add_coins(4)));
  rt.backend->fail_commits(1);
  auto failed = rt.save(*p);
  CHECK_FALSE(failed.ok());
  rt.run();
  CHECK(coins_in(rt.snapshot(*p)->last_saved_data) == 3);
  CHECK(coins_in(rt.snapshot(*p)->data) == 7);
  // A save refused for its size writes nothing either.
  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    (*c.data_value())["big"] = std::string(400, 'x');
  }));
  CHECK_FALSE(rt.save(*p).ok());
  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->last_saved_data) == 3);
  CHECK(snap->last_saved_data.get("big") == nullptr);
  // Once a save goes through, it follows.
  REQUIRE_OK(rt.update(*p, [](profile_context& c) {
    c.data_value()->erase("big");
  }));
  REQUIRE_OK(rt.save(*p));
  CHECK(coins_in(rt.snapshot(*p)->last_saved_data) == 7);
  REQUIRE_OK(rt.end(*p));
}

TEST_CASE("a save the writer does not answer within STORE_REQUEST_TIMEOUT fails with timeout and is retried") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("STORE_REQUEST_TIMEOUT", 5));
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(6)));
  auto saved = rt.ask_unit_later(p->actor, save_atom::value);
  rt.advance_without_writer(4s);
  CHECK_FALSE(saved->has_value()); // not yet: 4 s of 5
  rt.advance_without_writer(2s);
  REQUIRE(saved->has_value());
  REQUIRE_FALSE(saved->value().ok());
  CHECK(saved->value().err().code() == errc::timeout);
  REQUIRE_FALSE(errors->empty());
  CHECK(errors->back().code == errc::timeout);
  // The writer wakes up: the late answer is ignored, the retry (1 s later)
  // stores the data, and the session goes on.
  rt.advance(2s);
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 6);
  REQUIRE_OK(rt.update(*p, add_coins(1)));
  REQUIRE_OK(rt.save(*p));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 7);
  REQUIRE_OK(rt.end(*p));
}

TEST_CASE("a start the writer does not answer within STORE_REQUEST_TIMEOUT is retried and takes the lock once") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("STORE_REQUEST_TIMEOUT", 5));
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  auto started = rt.start_later(*rt.n, players, "user-1");
  rt.advance_without_writer(6s);
  CHECK_FALSE(started->has_value()); // timed out, retrying
  REQUIRE_FALSE(errors->empty());
  CHECK(errors->back().code == errc::timeout);
  // The first attempt's late answer (it took the lock) changes nothing; the
  // retry takes the same lock again (same node process, rule S2).
  rt.advance(2s);
  REQUIRE(started->has_value());
  REQUIRE(started->value().ok());
  auto p = started->value().value();
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  CHECK(rec->meta.active_session == p.session);
  REQUIRE_OK(rt.update(p, add_coins(2)));
  REQUIRE_OK(rt.end(p));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 2);
  // Nothing left in flight: a shutdown completes at once.
  REQUIRE_OK(rt.shutdown());
}

TEST_CASE("an AUTO_SAVE_PERIOD of zero given in node_config saves every millisecond instead of hanging the node") {
  runtime rt;
  node_config c;
  c.name = "node-z";
  c.incarnation = 1;
  c.consts.auto_save_period = duration{0};
  c.mock_storage = rt.store_options();
  node zero(rt.sys, rt.storage, std::move(c));
  auto players = zero.open("players", value::object({{"coins", 0}}));
  REQUIRE(players.ok());
  auto log = std::make_shared<hook_log>();
  auto started = rt.start_later(zero, *players, "user-1", rt.recorded(log));
  rt.run();
  REQUIRE(started->has_value());
  REQUIRE(started->value().ok());
  rt.advance(10ms);
  CHECK(log->after_saves.size() >= 5);
  CHECK(log->after_saves.size() <= 11);
  REQUIRE_OK(rt.end(started->value().value()));
}
