// Races around the end of a session: a save in flight when the profile starts
// ending, a save refused for its content meanwhile, a storage notice that
// arrives after the save it announced, a final save that commits after it
// timed out. Each case orders the messages with run_except (an actor's
// mailbox held while the others run), so the interleaving is the same on
// every run.
#include <doctest/doctest.h>

#include "runtime_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

// Hooks that record into `log` and add 100 coins in on_last_save (a change
// only the final save can carry).
start_options ending_adds_100(runtime& rt,
                              const std::shared_ptr<hook_log>& log) {
  auto opts = rt.recorded(log);
  opts.hooks.on_last_save.push_back(
    [](profile_context& c, last_save_reason) { add_coins(100)(c); });
  return opts;
}

// A second node on rt's storage with the "players" store open.
struct other_node {
  std::unique_ptr<node> n;
  store<value> players;
};

other_node open_other_node(runtime& rt, const std::string& name) {
  auto n = rt.make_node(name, 1);
  rt.run();
  auto players = open_value_on(*n, "players");
  return other_node{std::move(n), players};
}

// user-1 started on rt's node with ending_adds_100's hooks recording into
// `log`, and 5 coins added since its start (not saved).
profile_handle start_owner_with_5_coins(runtime& rt,
                                        const std::shared_ptr<hook_log>& log) {
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1", ending_adds_100(rt, log));
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(5)));
  return *p;
}

} // namespace

TEST_CASE("a save that comes back with another node's request while the "
          "profile is already ending is followed by the hand-off save") {
  runtime rt;
  auto log = std::make_shared<hook_log>();
  auto p = start_owner_with_5_coins(rt, log);
  auto b = open_other_node(rt, "node-b");

  // The owner's mailbox is held while node-b's start reaches storage, which
  // records node-b in ForceLoadSession and sends the owner a release
  // request. The owner then sends its ordinary save, starts ending on the
  // release request, and the ordinary save comes back naming node-b.
  auto saved = rt.ask_unit_later(p.actor, save_atom::value);
  auto started = rt.start_later(*b.n, b.players, "user-1");
  rt.run_except(p.actor);
  CHECK_FALSE(started->has_value());
  rt.run();

  REQUIRE(saved->has_value());
  CHECK_OK(**saved);
  REQUIRE(log->last_saves.size() == 1);
  CHECK(log->last_saves[0] == last_save_reason::external);
  CHECK(log->session_ends == 1);
  CHECK_FALSE(rt.snapshot(p).ok());
  // The hand-off save went out at once, with on_last_save's change.
  CHECK(rt.lock_holder("players", "user-1") == "node-b");
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 105);
  REQUIRE_MESSAGE(started->has_value(), "node-b's start waits for a hand-off "
                                        "that was never sent");
  REQUIRE_MESSAGE((*started)->ok(), describe(**started));
  auto snap = rt.snapshot((*started)->value());
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->data) == 105);
  REQUIRE_OK(rt.end((*started)->value()));
}

TEST_CASE("a shutdown during a save that comes back with another node's "
          "request hands the lock over and completes") {
  runtime rt;
  auto log = std::make_shared<hook_log>();
  auto p = start_owner_with_5_coins(rt, log);
  auto b = open_other_node(rt, "node-b");

  // The owner gets, in this order: a save, the node's shutdown, node-b's
  // release request; storage saw node-b's start before the save.
  auto saved = rt.ask_unit_later(p.actor, save_atom::value);
  rt.run_except(p.actor);
  auto shut = rt.ask_unit_later(rt.n->actor(), shutdown_atom::value,
                                duration{30s});
  rt.run_except(p.actor);
  auto started = rt.start_later(*b.n, b.players, "user-1");
  rt.run_except(p.actor);
  rt.run();

  REQUIRE(saved->has_value());
  CHECK_OK(**saved);
  REQUIRE_MESSAGE(shut->has_value(), "the shutdown waits for a final save "
                                     "that was never sent");
  CHECK_OK(**shut);
  REQUIRE(log->last_saves.size() == 1);
  CHECK(log->last_saves[0] == last_save_reason::shutdown);
  CHECK(log->session_ends == 1);
  CHECK(rt.lock_holder("players", "user-1") == "node-b");
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 105);
  REQUIRE(started->has_value());
  REQUIRE_MESSAGE((*started)->ok(), describe(**started));
}

TEST_CASE("an ordinary save refused for its content while the session ends "
          "is followed by the final save, whose refusal answers the end") {
  runtime rt(runtime_options{"node-a", 1, data_limit(200)});
  // A node that cannot read its storage, as behind a storage connection:
  // its profiles send their saves unchecked, and the writer's refusal comes
  // back as the reply of a save in flight.
  auto remote = rt.make_connected_node("node-r");
  auto players = remote->open("players", value::object({{"coins", 0}}));
  REQUIRE(players.ok());
  auto log = std::make_shared<hook_log>();
  auto started = rt.start_later(*remote, *players, "user-1", rt.recorded(log));
  rt.run();
  REQUIRE(started->has_value());
  REQUIRE_MESSAGE((*started)->ok(), describe(**started));
  auto p = (*started)->value();
  REQUIRE_OK(rt.update(p, add_coins(3)));
  REQUIRE_OK(rt.update(p, [](profile_context& ctx) {
    (*ctx.data_value())["big"] = std::string(400, 'x');
  }));

  auto saved = rt.ask_unit_later(p.actor, save_atom::value);
  auto ended = rt.ask_unit_later(p.actor, end_atom::value);
  rt.run();
  REQUIRE(saved->has_value());
  REQUIRE_FALSE((*saved)->ok());
  CHECK((*saved)->err().code() == errc::data_too_large);
  // The final save was sent and refused too: the end hears why, and the
  // session stays with its data (docs/design.md, the profile).
  REQUIRE_MESSAGE(ended->has_value(), "end_session was never answered");
  REQUIRE_FALSE((*ended)->ok());
  CHECK((*ended)->err().code() == errc::data_too_large);
  auto snap = rt.snapshot(p);
  REQUIRE(snap.ok());
  CHECK(snap->active);
  CHECK(snap->data.get("big") != nullptr);
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  CHECK(rec->meta.active_session == p.session);
  CHECK(log->session_ends == 0);

  // Fixed, the session ends with its data.
  REQUIRE_OK(rt.update(p, [](profile_context& ctx) {
    ctx.data_value()->erase("big");
  }));
  REQUIRE_OK(rt.end(p));
  rec = rt.stored("players", "user-1");
  CHECK_FALSE(rec->meta.active_session.has_value());
  CHECK(stored_coins(*rec) == 3);
  CHECK(log->session_ends == 1);
  REQUIRE_OK(rt.ask_unit(remote->actor(), shutdown_atom::value, duration{30s}));
}

TEST_CASE("a message whose notice reaches the owner after the save that "
          "removed it is not applied again") {
  runtime rt;
  auto players = rt.open_value("players");
  auto calls = std::make_shared<int>(0);
  auto p = rt.start(players, "user-1", with_handler(gift_handler(calls)));
  REQUIRE(p.ok());
  auto b = open_other_node(rt, "node-b");

  // Sent through node-b, so that its answer does not pass node-a, whose
  // mailbox keeps the writer's notice to the owner.
  auto gift = encode_msgpack(value::object({{"gift", 7}}));
  auto id = rt.ask_later<std::uint64_t>(b.n->actor(), message_atom::value,
                                        b.players.spec(), std::string("user-1"),
                                        gift);
  rt.run_except(rt.n->actor());
  REQUIRE(id->has_value());
  REQUIRE((*id)->ok());
  CHECK(*calls == 0);

  // A save's reply shows the message; the handler runs and the next save
  // removes it, all before node-a forwards the notice.
  auto saved = rt.ask_unit_later(p->actor, save_atom::value);
  rt.run_except(rt.n->actor());
  REQUIRE(saved->has_value());
  CHECK_OK(**saved);
  CHECK(*calls == 1);
  auto rec = rt.stored("players", "user-1");
  CHECK(rec->updates.empty());
  CHECK(stored_coins(*rec) == 7);

  rt.run(); // the late notice
  CHECK(*calls == 1);
  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->data) == 7);
  REQUIRE_OK(rt.end(*p));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 7);

  // Later messages still arrive.
  auto p2 = rt.start(players, "user-1", with_handler(gift_handler(calls)));
  REQUIRE(p2.ok());
  REQUIRE(rt.message(players, "user-1", value::object({{"gift", 2}})).ok());
  rt.run();
  CHECK(*calls == 2);
  REQUIRE_OK(rt.end(*p2));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 9);
}

TEST_CASE("a final save that timed out but committed late ends the session "
          "as saved") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("STORE_REQUEST_TIMEOUT", 5));
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  auto log = std::make_shared<hook_log>();
  auto p = rt.start(players, "user-1", rt.recorded(log));
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(6)));

  // The writer holds the final save past STORE_REQUEST_TIMEOUT; the retry
  // (1 s after the timeout) queues behind it.
  auto ended = rt.ask_unit_later(p->actor, end_atom::value);
  rt.advance_without_writer(6s);
  rt.advance_without_writer(2s);
  CHECK_FALSE(ended->has_value());
  REQUIRE_FALSE(errors->empty());
  CHECK(errors->back().code == errc::timeout);

  // The writer wakes up: the first final save commits (the lock is
  // released), the retry finds the lock gone.
  rt.run();
  REQUIRE(ended->has_value());
  CHECK_OK(**ended);
  auto rec = rt.stored("players", "user-1");
  CHECK_FALSE(rec->meta.active_session.has_value());
  CHECK(stored_coins(*rec) == 6);
  REQUIRE(log->last_saves.size() == 1);
  CHECK(log->session_ends == 1);
  for (const auto& e : *errors)
    CHECK_MESSAGE(e.code == errc::timeout,
                  "unexpected on_error: " << to_string(e.code) << ": "
                                          << e.message);
}

TEST_CASE("a start of a key whose hand-off save is refused for its content "
          "fails at once with session_active, and the key starts again once "
          "that session ends") {
  runtime rt(runtime_options{"node-a", 1, data_limit(200)});
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, [](profile_context& ctx) {
    (*ctx.data_value())["big"] = std::string(400, 'x');
  }));
  auto b = open_other_node(rt, "node-b");

  // node-b's start makes storage ask node-a to release user-1: node-a's
  // entry is ending while the release request waits in the profile's
  // mailbox, and a new start of user-1 on node-a waits for that end.
  auto b_started = rt.start_later(*b.n, b.players, "user-1");
  rt.run_except(p->actor);
  auto again = rt.start_later(*rt.n, players, "user-1");
  rt.run_except(p->actor);
  CHECK_FALSE(again->has_value());

  // The hand-off save is refused for its size: the session stays, and the
  // waiting start learns why at once rather than after START_SESSION_TIMEOUT.
  rt.run();
  REQUIRE_MESSAGE(again->has_value(),
                  "the start waits for an end that will not come");
  REQUIRE_FALSE((*again)->ok());
  CHECK((*again)->err().code() == errc::session_active);
  CHECK((*again)->err().message().find("refused") != std::string::npos);
  REQUIRE_FALSE(errors->empty());
  CHECK(errors->back().code == errc::data_too_large);
  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(snap->active);
  CHECK(rt.stored("players", "user-1")->meta.active_session == p->session);

  // The node no longer counts the session as ending: a later start is
  // refused at once too.
  auto later = rt.start_later(*rt.n, players, "user-1");
  rt.run();
  REQUIRE_MESSAGE(later->has_value(),
                  "the node still counts the refused session as ending");
  REQUIRE_FALSE((*later)->ok());
  CHECK((*later)->err().code() == errc::session_active);

  // Fixed, the session ends; node-b gets the key at its next retry, and
  // once it ends the session there, node-a starts the key again.
  REQUIRE_OK(rt.update(*p, [](profile_context& ctx) {
    ctx.data_value()->erase("big");
  }));
  REQUIRE_OK(rt.end(*p));
  rt.advance(10s);
  REQUIRE(b_started->has_value());
  REQUIRE_MESSAGE((*b_started)->ok(), describe(**b_started));
  REQUIRE_OK(rt.end((*b_started)->value()));
  auto back = rt.start(players, "user-1");
  REQUIRE_MESSAGE(back.ok(), describe(back));
  REQUIRE_OK(rt.end(*back));
}

TEST_CASE("a final save refused before the profile heard that its key was "
          "removed does not fail a start waiting for the session's end") {
  runtime rt(runtime_options{"node-a", 1, data_limit(200)});
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, [](profile_context& ctx) {
    (*ctx.data_value())["big"] = std::string(400, 'x');
  }));

  // The profile's mailbox: the user's end, then the lost notice of the
  // key's removal, which the node has already counted as an end on its
  // way; a start of the key on this node waits for that end.
  auto ended = rt.ask_unit_later(p->actor, end_atom::value);
  auto removed = rt.ask_later<bool>(rt.n->actor(), remove_atom::value,
                                    players.spec(), std::string("user-1"));
  rt.run_except(p->actor);
  REQUIRE(removed->has_value());
  REQUIRE_MESSAGE((*removed)->ok(), describe(**removed));
  auto again = rt.start_later(*rt.n, players, "user-1");
  rt.run_except(p->actor);
  CHECK_FALSE(again->has_value());

  // The end's final save is refused for its size before the profile hears
  // of the removal; that refusal is out of date by then, and the start
  // waits for the end that the removal brings.
  rt.run();
  REQUIRE(ended->has_value());
  CHECK((*ended)->err().code() == errc::data_too_large);
  REQUIRE(again->has_value());
  REQUIRE_MESSAGE((*again)->ok(), describe(**again));
  auto snap = rt.snapshot((*again)->value());
  REQUIRE(snap.ok());
  CHECK(snap->data.get("big") == nullptr);
  REQUIRE_OK(rt.end((*again)->value()));
}

TEST_CASE("a shutdown is answered with the refusal even when the first "
          "refusal was out of date at the node") {
  runtime rt(runtime_options{"node-a", 1, data_limit(200)});
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, [](profile_context& ctx) {
    (*ctx.data_value())["big"] = std::string(400, 'x');
  }));
  auto b = open_other_node(rt, "node-b");

  // The profile's mailbox: the shutdown's end, then a release request
  // (node-b wants the key), which the node counts as an end on its way.
  auto down = rt.ask_unit_later(rt.n->actor(), shutdown_atom::value,
                                duration{30s});
  rt.run_except(p->actor);
  auto b_started = rt.start_later(*b.n, b.players, "user-1");
  rt.run_except(p->actor);
  CHECK_FALSE(down->has_value());

  // The shutdown's final save is refused before the profile hears the
  // release, so the node sets that refusal aside; the hand-off save the
  // release asks for is refused too, and that refusal answers the shutdown
  // at once instead of at its deadline.
  rt.run();
  REQUIRE_MESSAGE(down->has_value(),
                  "the shutdown waits for a session that stays");
  REQUIRE_FALSE((*down)->ok());
  CHECK((*down)->err().code() == errc::data_too_large);
  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(snap->active);
  CHECK_FALSE(b_started->has_value()); // node-b still waits for the key
}

TEST_CASE("a shutdown whose final save is refused for its content is "
          "answered at once with the refusal, and the session stays until "
          "it is fixed and ended") {
  runtime rt(runtime_options{"node-a", 1, data_limit(200)});
  // Behind a storage connection, the refusal comes back from the writer as
  // the reply of the final save in flight.
  auto remote = rt.make_connected_node("node-r");
  auto errors = rt.watch_errors(*remote);
  auto players = open_value_on(*remote, "players");
  auto log = std::make_shared<hook_log>();
  auto started = rt.start_later(*remote, players, "user-1", rt.recorded(log));
  rt.run();
  REQUIRE(started->has_value());
  REQUIRE_MESSAGE((*started)->ok(), describe(**started));
  auto p = (*started)->value();
  REQUIRE_OK(rt.update(p, add_coins(3)));
  REQUIRE_OK(rt.save(p));
  REQUIRE_OK(rt.update(p, [](profile_context& ctx) {
    (*ctx.data_value())["big"] = std::string(400, 'x');
  }));

  auto down = rt.ask_unit_later(remote->actor(), shutdown_atom::value,
                                duration{30s});
  rt.run();
  REQUIRE_MESSAGE(down->has_value(),
                  "the shutdown waits for a final save that was refused");
  REQUIRE_FALSE((*down)->ok());
  CHECK((*down)->err().code() == errc::data_too_large);
  CHECK((*down)->err().message().find("user-1") != std::string::npos);
  REQUIRE_FALSE(errors->empty());
  CHECK(errors->back().code == errc::data_too_large);
  // The session and its data stay; storage keeps the lock and the last
  // save that it accepted.
  auto snap = rt.snapshot(p);
  REQUIRE(snap.ok());
  CHECK(snap->active);
  CHECK(snap->data.get("big") != nullptr);
  auto rec = rt.stored("players", "user-1");
  CHECK(rec->meta.active_session == p.session);
  CHECK(stored_coins(*rec) == 3);
  CHECK(log->session_ends == 0);

  // Fixed, a second shutdown ends it with its final save.
  REQUIRE_OK(rt.update(p, [](profile_context& ctx) {
    ctx.data_value()->erase("big");
  }));
  REQUIRE_OK(rt.ask_unit(remote->actor(), shutdown_atom::value, duration{30s}));
  rec = rt.stored("players", "user-1");
  CHECK_FALSE(rec->meta.active_session.has_value());
  CHECK(stored_coins(*rec) == 3);
  CHECK(log->session_ends == 1);
  REQUIRE(log->last_saves.size() == 2);
  CHECK(log->last_saves[1] == last_save_reason::shutdown);
}
