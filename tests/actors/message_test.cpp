// Messages (MessageAsync / MessageHandler): delivery to the owner, removal in
// the same write as the handler's change, at-least-once delivery across
// crashes with exactly-once effect, handlers in turn, a full queue.
#include <doctest/doctest.h>

#include <algorithm>

#include "runtime_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

value gift(std::int64_t n) {
  return value::object({{"gift", n}});
}

std::vector<std::uint64_t> queued_ids(const record& rec) {
  std::vector<std::uint64_t> out;
  for (const auto& u : rec.updates)
    out.push_back(u.id);
  return out;
}

} // namespace

TEST_CASE("a message to an active profile reaches its handler at once and its removal is saved with the handler's change") {
  runtime_options o;
  o.storage = every_write_a_version();
  runtime rt(o);
  auto players = rt.open_value("players");
  auto calls = std::make_shared<int>(0);
  auto p = rt.start(players, "user-1", with_handler(gift_handler(calls)));
  REQUIRE(p.ok());
  rt.run();
  CHECK(*calls == 0);
  auto commits = rt.commits();

  auto id = rt.message(players, "user-1", gift(7));
  REQUIRE(id.ok());
  CHECK(*id == 1);
  rt.run(); // no virtual time passes
  CHECK(*calls == 1);
  CHECK(rt.elapsed() == 0ms);

  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  CHECK(rec->updates.empty());
  CHECK(stored_coins(*rec) == 7);
  CHECK(rec->last_update_id == 1);
  CHECK(rt.commits() == commits + 2); // the message, then one save

  // Every version: the start, the queued message, and one save that both
  // removed it and stored the gift. No version has one without the other.
  auto versions = rt.versions("players", "user-1");
  REQUIRE(versions.size() == 3);
  auto queued = rt.stored_version("players", "user-1", versions[1].version);
  REQUIRE(queued);
  CHECK(queued_ids(*queued) == std::vector<std::uint64_t>{1});
  CHECK(stored_coins(*queued) == 0);
  auto saved = rt.stored_version("players", "user-1", versions[2].version);
  REQUIRE(saved);
  CHECK(saved->updates.empty());
  CHECK(stored_coins(*saved) == 7);

  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->last_saved_data) == 7);
}

TEST_CASE("a processed message is not delivered again after a save or in a later session") {
  runtime rt;
  auto players = rt.open_value("players");
  auto calls = std::make_shared<int>(0);
  auto p = rt.start(players, "user-1", with_handler(gift_handler(calls)));
  REQUIRE(p.ok());
  REQUIRE(rt.message(players, "user-1", gift(3)).ok());
  rt.run();
  CHECK(*calls == 1);
  REQUIRE_OK(rt.save(*p));
  rt.advance(900s); // auto-saves
  CHECK(*calls == 1);
  REQUIRE_OK(rt.end(*p));

  auto p2 = rt.start(players, "user-1", with_handler(gift_handler(calls)));
  REQUIRE(p2.ok());
  rt.run();
  CHECK(*calls == 1);
  auto snap = rt.snapshot(*p2);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->data) == 3);
  // The next message gets the next id.
  auto id = rt.message(players, "user-1", gift(1));
  REQUIRE(id.ok());
  CHECK(*id == 2);
  rt.run();
  CHECK(*calls == 2);
  REQUIRE_OK(rt.end(*p2));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 4);
}

TEST_CASE("a message processed but not saved before a crash is offered again and applied exactly once") {
  runtime rt;
  auto players = rt.open_value("players");
  auto calls = std::make_shared<int>(0);
  auto backend = rt.backend;
  auto break_storage = std::make_shared<bool>(true);
  auto handler = [calls, backend, break_storage](
                   profile_context& c, const incoming_message& m,
                   const std::function<void()>& processed) {
    gift_handler(calls)(c, m, processed);
    // The save that would carry the change and the removal fails.
    if (*break_storage)
      backend->fail_commits(faulty_backend::unlimited);
  };
  auto p = rt.start(players, "user-1", with_handler(handler));
  REQUIRE(p.ok());
  REQUIRE(rt.message(players, "user-1", gift(7)).ok());
  rt.run();
  CHECK(*calls == 1);
  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(coins_in(snap->data) == 7); // applied in memory only
  auto rec = rt.stored("players", "user-1");
  CHECK(queued_ids(*rec) == std::vector<std::uint64_t>{1});
  CHECK(stored_coins(*rec) == 0);

  rt.n.reset(); // crash before any save got through
  rt.run();
  rt.backend->heal();
  *break_storage = false;
  rt.advance(60s);
  rec = rt.stored("players", "user-1");
  CHECK(queued_ids(*rec) == std::vector<std::uint64_t>{1});
  CHECK(stored_coins(*rec) == 0);

  rt.n = rt.make_node("node-a", 2);
  rt.run();
  auto players2 = rt.open_value("players");
  auto p2 = rt.start(players2, "user-1", with_handler(handler));
  REQUIRE(p2.ok());
  rt.run();
  CHECK(*calls == 2); // offered again ...
  rec = rt.stored("players", "user-1");
  CHECK(rec->updates.empty());
  CHECK(stored_coins(*rec) == 7); // ... and its effect counted once
  REQUIRE_OK(rt.end(*p2));
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 7);
}

TEST_CASE("a message processed by the first handler is not offered to the second and an unprocessed one is") {
  runtime rt;
  auto players = rt.open_value("players");
  auto first_saw = std::make_shared<std::vector<std::uint64_t>>();
  auto first_took = std::make_shared<std::vector<std::uint64_t>>();
  auto second_saw = std::make_shared<std::vector<std::uint64_t>>();
  start_options o;
  o.hooks.message_handlers.push_back(
    [first_saw, first_took](profile_context&, const incoming_message& m,
                            const std::function<void()>& processed) {
      first_saw->push_back(m.id);
      if (*m.data.get("to") == value("first")) {
        first_took->push_back(m.id);
        processed();
      }
    });
  o.hooks.message_handlers.push_back(
    [second_saw](profile_context&, const incoming_message& m,
                 const std::function<void()>& processed) {
      second_saw->push_back(m.id);
      processed();
    });
  auto p = rt.start(players, "user-1", o);
  REQUIRE(p.ok());
  REQUIRE(rt.message(players, "user-1", value::object({{"to", "first"}})).ok());
  REQUIRE(rt.message(players, "user-1", value::object({{"to", "second"}})).ok());
  rt.run();
  CHECK(*first_saw == std::vector<std::uint64_t>{1, 2});
  CHECK(*first_took == std::vector<std::uint64_t>{1});
  CHECK(*second_saw == std::vector<std::uint64_t>{2});
  CHECK(rt.stored("players", "user-1")->updates.empty());
}

TEST_CASE("a handler added later gets the messages no handler processed") {
  runtime rt;
  auto players = rt.open_value("players");
  auto looked = std::make_shared<int>(0);
  start_options o;
  // A handler that looks but never processes.
  o.hooks.message_handlers.push_back(
    [looked](profile_context&, const incoming_message&,
             const std::function<void()>&) { ++*looked; });
  auto p = rt.start(players, "user-1", o);
  REQUIRE(p.ok());
  REQUIRE(rt.message(players, "user-1", gift(5)).ok());
  rt.run();
  CHECK(*looked == 1);
  REQUIRE_OK(rt.save(*p));
  // Unprocessed messages stay queued through saves.
  CHECK(queued_ids(*rt.stored("players", "user-1"))
        == std::vector<std::uint64_t>{1});
  rt.run();
  CHECK(*looked == 1); // offered once to each handler

  auto calls = std::make_shared<int>(0);
  profile_hooks more;
  more.message_handlers.push_back(gift_handler(calls));
  REQUIRE_OK(rt.ask_unit(p->actor, hooks_atom::value, more));
  CHECK(*calls == 1);
  CHECK(*looked == 1);
  auto rec = rt.stored("players", "user-1");
  CHECK(rec->updates.empty());
  CHECK(stored_coins(*rec) == 5);
}

TEST_CASE("a processed callback kept and called after its handler returned does nothing") {
  runtime rt;
  auto players = rt.open_value("players");
  auto kept = std::make_shared<std::function<void()>>();
  start_options o;
  o.hooks.message_handlers.push_back(
    [kept](profile_context&, const incoming_message&,
           const std::function<void()>& processed) { *kept = processed; });
  auto p = rt.start(players, "user-1", o);
  REQUIRE(p.ok());
  REQUIRE(rt.message(players, "user-1", gift(5)).ok());
  rt.run();
  REQUIRE(*kept);
  // Later, outside the handler: no effect, and the message stays queued.
  REQUIRE_OK(rt.update(*p, [kept](profile_context&) { (*kept)(); }));
  REQUIRE_OK(rt.save(*p));
  CHECK(queued_ids(*rt.stored("players", "user-1"))
        == std::vector<std::uint64_t>{1});
  // A handler added afterwards still gets it and processes it.
  auto calls = std::make_shared<int>(0);
  profile_hooks more;
  more.message_handlers.push_back(gift_handler(calls));
  REQUIRE_OK(rt.ask_unit(p->actor, hooks_atom::value, more));
  CHECK(*calls == 1);
  CHECK(rt.stored("players", "user-1")->updates.empty());
}

TEST_CASE("a message that no handler processed is offered again in the next session") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE(rt.message(players, "user-1", gift(2)).ok());
  rt.run();
  REQUIRE_OK(rt.end(*p));
  CHECK(queued_ids(*rt.stored("players", "user-1"))
        == std::vector<std::uint64_t>{1});
  auto calls = std::make_shared<int>(0);
  auto p2 = rt.start(players, "user-1", with_handler(gift_handler(calls)));
  REQUIRE(p2.ok());
  rt.run();
  CHECK(*calls == 1);
  REQUIRE_OK(rt.end(*p2));
  auto rec = rt.stored("players", "user-1");
  CHECK(rec->updates.empty());
  CHECK(stored_coins(*rec) == 2);
}

TEST_CASE("a message sent from inside a handler arrives") {
  runtime rt;
  auto players = rt.open_value("players");
  auto seen = std::make_shared<std::vector<std::string>>();
  auto spec = players.spec();
  auto node_actor = rt.n->actor();
  auto handler = [&rt, seen, spec, node_actor](
                   profile_context& c, const incoming_message& m,
                   const std::function<void()>& processed) {
    seen->push_back(*m.data.if_string());
    if (*m.data.if_string() == "ping") {
      // Answer to this very profile, and to another one.
      rt.ask_later<std::uint64_t>(node_actor, message_atom::value, spec,
                                  std::string("user-1"),
                                  encode_msgpack(value("pong")));
      rt.ask_later<std::uint64_t>(node_actor, message_atom::value, spec,
                                  std::string("user-2"),
                                  encode_msgpack(value("pong")));
    }
    add_coins(1)(c);
    processed();
  };
  auto p1 = rt.start(players, "user-1", with_handler(handler));
  auto p2 = rt.start(players, "user-2", with_handler(handler));
  REQUIRE(p1.ok());
  REQUIRE(p2.ok());
  REQUIRE(rt.message(players, "user-1", value("ping")).ok());
  rt.run();
  CHECK(*seen == std::vector<std::string>{"ping", "pong", "pong"});
  auto r1 = rt.stored("players", "user-1");
  auto r2 = rt.stored("players", "user-2");
  CHECK(r1->updates.empty());
  CHECK(r2->updates.empty());
  CHECK(stored_coins(*r1) == 2);
  CHECK(stored_coins(*r2) == 1);
}

TEST_CASE("a full message queue refuses the sender with message_queue_full and drops nothing") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("MAX_MESSAGE_QUEUE", 3));
  auto players = rt.open_value("players");
  // Messages to a key that was never started wait in a messages-only record.
  for (int i = 1; i <= 3; ++i) {
    auto id = rt.message(players, "user-1", gift(i));
    REQUIRE(id.ok());
    CHECK(*id == static_cast<std::uint64_t>(i));
  }
  auto refused = rt.message(players, "user-1", gift(100));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code() == errc::message_queue_full);
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  CHECK_FALSE(rec->has_profile);
  CHECK(queued_ids(*rec) == std::vector<std::uint64_t>{1, 2, 3});
  // A key holding only messages has no profile to copy yet.
  auto copy = rt.get(players, "user-1");
  REQUIRE(copy.ok());
  CHECK_FALSE(copy->has_value());

  auto order = std::make_shared<std::vector<std::uint64_t>>();
  auto calls = std::make_shared<int>(0);
  auto handler = [order, calls](profile_context& c, const incoming_message& m,
                                const std::function<void()>& processed) {
    order->push_back(m.id);
    gift_handler(calls)(c, m, processed);
  };
  auto p = rt.start(players, "user-1", with_handler(handler));
  REQUIRE(p.ok());
  rt.run();
  CHECK(*order == std::vector<std::uint64_t>{1, 2, 3});
  rec = rt.stored("players", "user-1");
  CHECK(rec->has_profile);
  CHECK(rec->updates.empty());
  CHECK(stored_coins(*rec) == 6);
  // Room again.
  auto id = rt.message(players, "user-1", gift(4));
  REQUIRE(id.ok());
  CHECK(*id == 4);
  rt.run();
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 10);
}

TEST_CASE("a message queue filled while the owner does not process is refused without dropping") {
  runtime rt;
  REQUIRE_OK(rt.n->set_constant("MAX_MESSAGE_QUEUE", 2));
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  REQUIRE(rt.message(players, "user-1", gift(1)).ok());
  REQUIRE(rt.message(players, "user-1", gift(2)).ok());
  auto refused = rt.message(players, "user-1", gift(3));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code() == errc::message_queue_full);
  REQUIRE_OK(rt.save(*p));
  CHECK(queued_ids(*rt.stored("players", "user-1"))
        == std::vector<std::uint64_t>{1, 2});
  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(snap->active);
}

TEST_CASE("a handler that throws is reported and neither the message nor the session is lost") {
  runtime rt;
  auto errors = rt.watch_errors();
  auto players = rt.open_value("players");
  auto calls = std::make_shared<int>(0);
  start_options o;
  o.hooks.message_handlers.push_back(
    [](profile_context&, const incoming_message&, const std::function<void()>&) {
      throw std::runtime_error("handler bug");
    });
  o.hooks.message_handlers.push_back(gift_handler(calls));
  auto p = rt.start(players, "user-1", o);
  REQUIRE(p.ok());
  REQUIRE(rt.message(players, "user-1", gift(9)).ok());
  rt.run();
  CHECK(*calls == 1); // the next handler still got it
  bool reported = false;
  for (const auto& e : *errors)
    reported = reported
               || (e.code == errc::internal
                   && e.message.find("handler bug") != std::string::npos);
  CHECK(reported);
  auto snap = rt.snapshot(*p);
  REQUIRE(snap.ok());
  CHECK(snap->active);
  CHECK(stored_coins(*rt.stored("players", "user-1")) == 9);
}
