// Races around starting sessions: late answers of timed-out attempts, locks
// handed to starts this node has given up, attempts the writer never
// answers, and the facade's wait for a transact.
#include <doctest/doctest.h>

#include "node_actor.hpp"       // transact_timeout
#include "shared_node_state.hpp" // facade_transact_timeout's argument
#include "runtime_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

// A node as behind a storage connection (each start attempt goes to the
// writer alone, with no CAF timeout) whose STORE_REQUEST_TIMEOUT is 5 s.
std::unique_ptr<node> connected_node_5s(runtime& rt) {
  auto n = rt.make_connected_node("node-r");
  REQUIRE_OK(n->set_constant("STORE_REQUEST_TIMEOUT", 5));
  rt.run();
  return n;
}

} // namespace

TEST_CASE("a late started answer to a timed-out retry does not release the session the hand-off made active") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(3)));
  auto node_b = rt.make_node("node-b", 1);
  REQUIRE_OK(node_b->set_constant("STORE_REQUEST_TIMEOUT", 5));
  rt.run();
  auto players_b = open_value_on(*node_b, "players");
  auto started = rt.start_later(*node_b, players_b, "user-1");
  // node-b's first attempt finds the key locked (ForceLoadSession = its
  // request); the owner's release request waits in the profile's mailbox.
  rt.run_except(p->actor);
  // The owner's final save (a hand-off to node-b's request) waits in the
  // writer's mailbox.
  rt.run_except(rt.storage.writer);
  // At FIRST_LOAD_REPEAT node-b retries (attempt A1, to the held writer);
  // the sweep times A1 out 5 s later.
  rt.advance_without_writer(5s);
  rt.advance_without_writer(5100ms);
  CHECK_FALSE(started->has_value());
  // The writer recovers: the hand-off, then A1 (which finds the lock its
  // own). The hand-off notice starts the session; A1's "started" comes after.
  rt.run();
  REQUIRE(started->has_value());
  REQUIRE_MESSAGE((*started)->ok(), describe(**started));
  const auto pb = (*started)->value();
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  REQUIRE_MESSAGE(rec->meta.active_session.has_value(),
                  "the active session's lock was released");
  CHECK(*rec->meta.active_session == pb.session);
  // The session still owns the key: its changes are saved.
  REQUIRE_OK(rt.update(pb, add_coins(4)));
  CHECK_OK(rt.save(pb));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 7);
  CHECK_OK(rt.end(pb));
}

TEST_CASE("a lock the owner hands to a start cancelled meanwhile is released at once") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE_OK(rt.update(*p, add_coins(6)));
  auto node_b = rt.make_node("node-b", 1);
  rt.run();
  auto players_b = open_value_on(*node_b, "players");
  start_options opts;
  opts.cancel = [] { return true; };
  auto started = rt.start_later(*node_b, players_b, "user-1", opts);
  // node-b asks for the lock, cancels on the "locked" answer and withdraws;
  // the withdrawal reaches the writer before the owner's final save, so
  // ForceLoadSession still names node-b's dead request.
  rt.run_except(p->actor);
  REQUIRE(started->has_value());
  REQUIRE_FALSE((*started)->ok());
  CHECK((*started)->err().code() == errc::cancelled);
  // The owner's final save hands the lock to that request.
  rt.run();
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 6);
  // The key is free: a third node gets it at once, without waiting for
  // SESSION_STEAL.
  rt.check_free_for_new_node("node-c", "players", "user-1");
}

TEST_CASE("a lock the owner hands to a start that timed out meanwhile is released at once") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  auto node_b = rt.make_node("node-b", 1);
  REQUIRE_OK(node_b->set_constant("START_SESSION_TIMEOUT", 3));
  rt.run();
  auto players_b = open_value_on(*node_b, "players");
  auto started = rt.start_later(*node_b, players_b, "user-1");
  rt.run_except(p->actor); // locked; the owner's release request waits
  CHECK_FALSE(started->has_value());
  // The retry at FIRST_LOAD_REPEAT (5 s) is past START_SESSION_TIMEOUT: the
  // start gives up and withdraws, while the owner still holds the lock.
  rt.sched.clock().advance_time(5s);
  rt.run_except(p->actor);
  REQUIRE(started->has_value());
  REQUIRE_FALSE((*started)->ok());
  CHECK((*started)->err().code() == errc::timeout);
  rt.run(); // the owner hands the lock to the dead request
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  CHECK_FALSE(rec->meta.active_session.has_value());
}

TEST_CASE("a start given up at shutdown whose attempt the writer never answers lets the shutdown finish within STORE_REQUEST_TIMEOUT") {
  runtime rt;
  auto remote = connected_node_5s(rt);
  auto players = open_value_on(*remote, "players");
  auto started = rt.start_later(*remote, players, "user-1");
  rt.run_except(rt.storage.writer); // the attempt waits in the writer
  auto down = rt.ask_unit_later(remote->actor(), shutdown_atom::value,
                                duration(60s));
  rt.run_except(rt.storage.writer);
  REQUIRE(started->has_value());
  REQUIRE_FALSE((*started)->ok());
  CHECK((*started)->err().code() == errc::closing);
  rt.advance_without_writer(4s);
  CHECK_FALSE(down->has_value()); // the attempt may still be answered
  rt.advance_without_writer(2s);
  REQUIRE_MESSAGE(down->has_value(),
                  "the shutdown still waits for an attempt nobody waits for");
  CHECK_OK(**down);
  // A second shutdown finds nothing in flight either.
  auto again = rt.ask_unit_later(remote->actor(), shutdown_atom::value,
                                 duration(60s));
  rt.run_except(rt.storage.writer);
  REQUIRE(again->has_value());
  CHECK_OK(**again);
  // The writer answers at last: the lock the attempt took is given back.
  rt.run();
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec.has_value());
  CHECK_FALSE(rec->meta.active_session.has_value());
}

TEST_CASE("a superseded start whose attempt the writer never answers is counted off within STORE_REQUEST_TIMEOUT") {
  runtime rt;
  auto remote = connected_node_5s(rt);
  auto players = open_value_on(*remote, "players");
  auto first = rt.start_later(*remote, players, "user-1");
  rt.run_except(rt.storage.writer);
  auto second = rt.start_later(*remote, players, "user-1");
  rt.run_except(rt.storage.writer);
  REQUIRE(first->has_value());
  CHECK((*first)->err().code() == errc::conflict);
  // Both attempts time out (the second start then waits for its retry);
  // the writer stays silent for good.
  rt.advance_without_writer(6s);
  CHECK_FALSE(second->has_value());
  auto down = rt.ask_unit_later(remote->actor(), shutdown_atom::value,
                                duration(60s));
  rt.run_except(rt.storage.writer);
  REQUIRE_MESSAGE(down->has_value(),
                  "the shutdown still waits for the superseded attempt");
  CHECK_OK(**down);
  REQUIRE(second->has_value());
  CHECK((*second)->err().code() == errc::closing);
}

TEST_CASE("the facade waits for a transact longer than the node's own bound, which outlasts the transaction, for any number of profiles") {
  for (auto t : {duration(1), duration(500), duration(5'000), duration(30'000)}) {
    shared_node_state shared;
    shared.consts.store_request_timeout = t;
    for (std::size_t n = 1; n <= 64; ++n) {
      CAPTURE(t.count());
      CAPTURE(n);
      // The transaction's own worst case: n borrows, each bounded by
      // STORE_REQUEST_TIMEOUT, and the group save's wait.
      auto worst = (t * static_cast<duration::rep>(
                          n + transact_group_save_timeouts))
                     .count();
      auto node_bound = transact_timeout(t, n).count();
      auto facade_wait = facade_transact_timeout(shared, n).count();
      CHECK(node_bound > worst);
      CHECK(facade_wait > node_bound);
      if (facade_wait <= worst || facade_wait <= node_bound)
        break; // one failure per timeout says it
    }
  }
}
