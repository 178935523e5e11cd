// ProfileService's loading scenarios, ported from its own harness: the
// not_released handler's four answers, injected foreign sessions, double and
// concurrent loads, ListenToRelease, ViewProfileAsync with versions, and the
// module's signals. Foreign servers are simulated by writing the record, as
// the original's harness does, or by a second node on the same storage.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "service_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

const session_ref foreign{"node-x", 7, 1};

struct handler_calls {
  std::vector<std::string> nodes;
  std::vector<std::uint64_t> incarnations;
};

// A handler that answers from `script` in turn (the last answer repeats).
compat::load_options scripted(std::shared_ptr<handler_calls> calls,
                              std::vector<compat::not_released_action> script) {
  compat::load_options o;
  o.not_released.fn = [calls, script](const std::string& node,
                                      std::uint64_t incarnation) {
    calls->nodes.push_back(node);
    calls->incarnations.push_back(incarnation);
    auto i = std::min(calls->nodes.size(), script.size()) - 1;
    return script[i];
  };
  return o;
}

} // namespace

TEST_CASE("a not_released handler that cancels gets no profile and asks nothing of the owner") {
  service_runtime rt;
  auto players = rt.open();
  rt.inject_owner("players", "user-1", foreign);
  auto calls = std::make_shared<handler_calls>();
  auto slot = rt.load_later(players, "user-1",
                            scripted(calls, {compat::not_released_action::cancel}));
  rt.run();
  REQUIRE_OK(slot.get());
  CHECK_FALSE(slot.get()->has_value());
  REQUIRE(calls->nodes.size() == 1);
  CHECK(calls->nodes[0] == "node-x");
  CHECK(calls->incarnations[0] == 7);
  auto rec = rt.stored("players", "user-1");
  CHECK(rec->meta.active_session == foreign);
  CHECK_FALSE(rec->meta.force_load_session.has_value());
}

TEST_CASE("a not_released handler that repeats is asked again each LOAD_REPEAT_PERIOD and may then steal") {
  service_runtime rt;
  auto players = rt.open();
  rt.inject_owner("players", "user-1", foreign);
  auto calls = std::make_shared<handler_calls>();
  auto slot = rt.load_later(players, "user-1",
                            scripted(calls, {compat::not_released_action::repeat,
                                             compat::not_released_action::repeat,
                                             compat::not_released_action::steal}));
  rt.run();
  CHECK(calls->nodes.size() == 1);
  CHECK_FALSE(slot.ready());
  // Repeating wrote nothing: the owner was not asked to release.
  CHECK_FALSE(rt.stored("players", "user-1")->meta.force_load_session);
  rt.advance(10s); // LOAD_REPEAT_PERIOD
  CHECK(calls->nodes.size() == 2);
  CHECK_FALSE(slot.ready());
  rt.advance(10s);
  CHECK(calls->nodes.size() == 3);
  REQUIRE_OK(slot.get());
  REQUIRE(slot.get()->has_value());
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec->meta.active_session);
  CHECK(rec->meta.active_session->node == "node-a");
  CHECK(rec->meta.session_load_count == 2);
  REQUIRE_OK(rt.end((*slot.get())->handle()));
}

TEST_CASE("a not_released handler that keeps repeating gives up after START_SESSION_TIMEOUT") {
  service_runtime rt;
  auto players = rt.open();
  rt.inject_owner("players", "user-1", foreign);
  auto calls = std::make_shared<handler_calls>();
  auto slot = rt.load_later(players, "user-1",
                            scripted(calls, {compat::not_released_action::repeat}));
  rt.advance(130s);
  REQUIRE(slot.ready());
  REQUIRE_FALSE(slot.get().ok());
  CHECK(slot.get().err().code() == errc::timeout);
  CHECK(calls->nodes.size() >= 12);
}

TEST_CASE("a not_released handler that force-loads asks the owner and steals after SESSION_STEAL") {
  service_runtime rt;
  auto players = rt.open();
  rt.inject_owner("players", "user-1", foreign);
  auto calls = std::make_shared<handler_calls>();
  auto slot = rt.load_later(players, "user-1",
                            scripted(calls, {compat::not_released_action::force_load}));
  rt.run();
  CHECK(calls->nodes.size() == 1);
  CHECK_FALSE(slot.ready());
  // The request for the lock is written (ForceLoadSession).
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec->meta.force_load_session);
  CHECK(rec->meta.force_load_session->node == "node-a");
  rt.advance(60s); // the owner never answers: stolen after SESSION_STEAL
  REQUIRE(slot.ready());
  REQUIRE_OK(slot.get());
  REQUIRE(slot.get()->has_value());
  CHECK(calls->nodes.size() == 1); // force_load is not asked again
  REQUIRE_OK(rt.end((*slot.get())->handle()));
}

TEST_CASE("the default force_load makes the owning node release with its last save, and its release listeners fire") {
  service_runtime rt;
  auto players = rt.open();
  auto released = std::make_shared<int>(0);
  compat::load_options o;
  o.listeners.on_release.push_back(
    [released](compat::service_profile_view& v) {
      ++*released;
      CHECK_FALSE(v.is_active());
    });
  auto p = rt.load(players, "user-1", std::move(o));
  REQUIRE_OK(rt.with(p, [](compat::service_profile_view& v) {
    v.data()["coins"] = 12;
  }));

  auto node_b = rt.make_node("node-b", 1);
  rt.run();
  compat::profile_service service_b(rt.sys, *node_b);
  auto players_b = service_b.get_profile_store("players", coins_template());
  REQUIRE_OK(players_b);
  auto slot = rt.load_later(*players_b, "user-1");
  rt.advance(1s);
  REQUIRE(slot.ready());
  REQUIRE_OK(slot.get());
  REQUIRE(slot.get()->has_value());
  CHECK(*released == 1);
  value data;
  REQUIRE_OK(rt.with(**slot.get(), [&](compat::service_profile_view& v) {
    data = v.data();
    CHECK(v.meta_data().session_load_count == 2);
  }));
  CHECK(coins_in(data) == 12);
  REQUIRE_OK(rt.end((*slot.get())->handle()));
  node_b.reset();
  rt.run();
}

TEST_CASE("an injected foreign ActiveSession ends the local session at its next save and fires ListenToRelease") {
  service_runtime rt;
  auto players = rt.open();
  auto released = std::make_shared<int>(0);
  compat::load_options o;
  o.listeners.on_release.push_back(
    [released](compat::service_profile_view&) { ++*released; });
  auto p = rt.load(players, "user-1", std::move(o));
  REQUIRE_OK(rt.with(p, [](compat::service_profile_view& v) {
    v.data()["coins"] = 99; // never stored: the lock is gone first
  }));
  rt.inject_owner("players", "user-1", foreign);
  rt.advance(301s);
  CHECK(*released == 1);
  CHECK_FALSE(rt.with(p, [](compat::service_profile_view&) {}).ok());
  auto rec = rt.stored("players", "user-1");
  CHECK(rec->meta.active_session == foreign);
  CHECK(stored_coins(*rec) == 0);
}

TEST_CASE("loading a key already loaded here is an error until it is released") {
  service_runtime rt;
  auto players = rt.open();
  auto p = rt.load(players, "user-1");
  auto again = rt.load_later(players, "user-1");
  rt.run();
  REQUIRE_FALSE(again.get().ok());
  CHECK(again.get().err().code() == errc::session_active);
  REQUIRE_OK(rt.with(p, [](compat::service_profile_view& v) {
    INNER_OK(v.release());
  }));
  rt.run();
  auto third = rt.load(players, "user-1");
  REQUIRE_OK(rt.end(third.handle()));
  CHECK(rt.stored("players", "user-1")->meta.session_load_count == 2);
}

TEST_CASE("of three concurrent loads of one key only the last gets the profile") {
  service_runtime rt;
  auto players = rt.open();
  rt.inject_owner("players", "user-1", foreign); // keeps them waiting
  auto a = rt.load_later(players, "user-1");
  rt.run();
  auto b = rt.load_later(players, "user-1");
  rt.run();
  auto c = rt.load_later(players, "user-1");
  rt.run();
  // The earlier two answer like the original's nil.
  REQUIRE(a.ready());
  REQUIRE(b.ready());
  REQUIRE_OK(a.get());
  REQUIRE_OK(b.get());
  CHECK_FALSE(a.get()->has_value());
  CHECK_FALSE(b.get()->has_value());
  CHECK_FALSE(c.ready());
  rt.advance(60s);
  REQUIRE(c.ready());
  REQUIRE_OK(c.get());
  REQUIRE(c.get()->has_value());
  REQUIRE_OK(rt.end((*c.get())->handle()));
}

TEST_CASE("view_profile reads without a lock, also an older version, and nothing for an absent key") {
  runtime_options o;
  o.storage = every_write_a_version();
  service_runtime rt(o);
  auto players = rt.open();
  auto none = rt.view(players, "nobody");
  REQUIRE_OK(none);
  CHECK_FALSE(none->has_value());

  auto p = rt.load(players, "user-1");
  REQUIRE_OK(rt.with(p, [](compat::service_profile_view& v) {
    v.data()["coins"] = 1;
  }));
  REQUIRE_OK(rt.save(p.handle()));
  auto first = rt.versions("players", "user-1").back().version;
  REQUIRE_OK(rt.with(p, [](compat::service_profile_view& v) {
    v.data()["coins"] = 2;
  }));
  REQUIRE_OK(rt.save(p.handle()));

  auto latest = rt.view(players, "user-1");
  REQUIRE_OK(latest);
  REQUIRE(latest->has_value());
  CHECK(coins_in((*latest)->data) == 2);
  REQUIRE((*latest)->meta_data.active_session);
  CHECK((*latest)->meta_data.active_session->node == "node-a");
  auto older = rt.view(players, "user-1", first);
  REQUIRE_OK(older);
  REQUIRE(older->has_value());
  CHECK(coins_in((*older)->data) == 1);
  // The view changed nothing: the session goes on.
  REQUIRE_OK(rt.save(p.handle()));
  REQUIRE_OK(rt.end(p.handle()));
}

TEST_CASE("the module reports corruption, issues and ServiceLocked") {
  service_runtime rt;
  auto corrupt = std::make_shared<std::vector<std::string>>();
  auto issues = std::make_shared<std::vector<std::string>>();
  rt.service.corruption_signal(
    [corrupt](const std::string& store, const std::string& key) {
      corrupt->push_back(store + "/" + key);
    });
  rt.service.issue_signal(
    [issues](const std::string& m) { issues->push_back(m); });
  auto players = rt.open();
  rt.inject_raw("players", "user-1", "garbage");
  auto p = rt.load(players, "user-1");
  CHECK(*corrupt == std::vector<std::string>{"players/user-1"});

  rt.backend->fail_commits(1);
  REQUIRE_FALSE(rt.save(p.handle()).ok());
  CHECK_FALSE(issues->empty());

  auto bad = rt.service.get_profile_store("players", value(3));
  CHECK(bad.err().code() == errc::invalid_argument);

  CHECK_FALSE(rt.service.service_locked());
  REQUIRE_OK(rt.shutdown());
  CHECK(rt.service.service_locked());
  auto late = rt.load_later(players, "user-2");
  REQUIRE(late.ready());
  CHECK(late.get().err().code() == errc::closing);
}
