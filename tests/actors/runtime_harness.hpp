// Test harness for the actor runtime: an actor system on CAF's deterministic
// test coordinator (one thread, virtual time), a faulty backend over a memory
// backend, a store actor pair whose storage clock follows the virtual time,
// and a node on top.
//
//   runtime rt;                       // node "node-a"
//   auto players = rt.open_value("players");
//   auto p = rt.start(players, "k");  // result<profile_handle>
//   rt.advance(std::chrono::seconds(300)); // fires timers in time order
//
// Nothing sleeps: time moves only in advance(); run() processes every
// message that is ready. The blocking facade must not be used here (it
// would wait for a scheduler that only runs when the test calls it).
#pragma once

#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "profilestore/actors/errors.hpp"
#include "profilestore/actors/messages.hpp"
#include "profilestore/actors/node.hpp"
#include "profilestore/actors/profile_context.hpp"
#include "profilestore/actors/store_actor.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/faulty_backend.hpp"
#include "profilestore/store/memory_backend.hpp"
#include "profilestore/store/record_codec.hpp"

namespace profilestore::testing {

// The storage clock at virtual time zero: 2026-01-01T00:00:00Z.
inline constexpr std::int64_t epoch_ms = 1'767'225'600'000;

struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
  }
};

// One actor system with the test coordinator.
struct test_system {
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  std::int64_t now_ms() const {
    using namespace std::chrono;
    return epoch_ms
           + duration_cast<milliseconds>(sched.clock().now().time_since_epoch())
               .count();
  }

  void run() { sched.run(); }

  // Moves virtual time forward by `d`, firing every timer due on the way in
  // time order and running the actors after each.
  void advance(duration d) {
    run();
    auto target = sched.clock().now() + d;
    while (!sched.clock().schedule().empty()
           && sched.clock().schedule().begin()->first <= target) {
      sched.clock().trigger_timeout();
      run();
    }
    if (sched.clock().current_time < target)
      sched.clock().current_time = target;
    run();
  }

  // Sends a request from a fresh actor; the answer lands in the returned
  // slot once the actors have run.
  template <class T, class... Ts>
  std::shared_ptr<std::optional<result<T>>> ask_later(const caf::actor& to,
                                                      Ts... xs) {
    auto out = std::make_shared<std::optional<result<T>>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(to, std::chrono::seconds(86400), xs...)
        .then([out](T& v) { out->emplace(std::move(v)); },
              [out](caf::error& e) { out->emplace(from_caf_error(e)); });
    });
    return out;
  }

  // Sends a request and runs the actors until it is answered (no time passes).
  template <class T, class... Ts>
  result<T> ask(const caf::actor& to, Ts... xs) {
    auto slot = ask_later<T>(to, std::move(xs)...);
    run();
    REQUIRE_MESSAGE(slot->has_value(), "the request was not answered");
    return std::move(**slot);
  }

  // For requests answered with caf::unit (an empty message).
  template <class... Ts>
  result<void> ask_unit(const caf::actor& to, Ts... xs) {
    auto out = std::make_shared<std::optional<result<void>>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(to, std::chrono::seconds(86400), xs...)
        .then([out]() { out->emplace(); },
              [out](caf::error& e) { out->emplace(from_caf_error(e)); });
    });
    run();
    REQUIRE_MESSAGE(out->has_value(), "the request was not answered");
    return std::move(**out);
  }
};

struct runtime : test_system {
  std::shared_ptr<faulty_backend> backend
    = std::make_shared<faulty_backend>(std::make_unique<memory_backend>());
  store_actors storage;
  std::unique_ptr<node> n;

  explicit runtime(std::string node_name = "node-a",
                   std::uint64_t incarnation = 1) {
    storage = spawn_store_actors(sys, backend, store_options());
    n = make_node(std::move(node_name), incarnation);
    run();
  }

  ~runtime() {
    n.reset();
    caf::anon_send_exit(storage.writer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(storage.reader, caf::exit_reason::user_shutdown);
    run();
  }

  store_actor_options store_options() {
    store_actor_options o;
    o.clock = [this] { return now_ms(); };
    return o;
  }

  std::unique_ptr<node> make_node(std::string name, std::uint64_t incarnation) {
    node_config c;
    c.name = std::move(name);
    c.incarnation = incarnation;
    c.mock_storage = store_options();
    return std::make_unique<node>(sys, storage, std::move(c));
  }

  store<value> open_value(const std::string& name,
                          value tmpl = value::object({{"coins", 0}})) {
    auto s = n->open(name, tmpl);
    REQUIRE(s.ok());
    return *s;
  }

  template <class T>
  result<profile_handle> start(const store<T>& s, const std::string& key,
                               start_options options = {}) {
    return ask<profile_handle>(n->actor(), start_atom::value, s.spec(), key,
                               std::move(options));
  }

  // Runs fn inside the profile's actor.
  result<void> update(const profile_handle& p, context_fn fn) {
    return ask_unit(p.actor, update_atom::value, std::move(fn));
  }
  result<void> save(const profile_handle& p) {
    return ask_unit(p.actor, save_atom::value);
  }
  result<void> end(const profile_handle& p) {
    return ask_unit(p.actor, end_atom::value);
  }
  result<profile_snapshot> snapshot(const profile_handle& p) {
    return ask<profile_snapshot>(p.actor, info_atom::value);
  }

  // The record as stored now (latest version), straight from storage.
  std::optional<record> stored(const std::string& store_name,
                               const std::string& key) {
    auto r = storage.shared_storage->get(store_name, key);
    REQUIRE(r.ok());
    if (!*r)
      return std::nullopt;
    return (*r)->rec;
  }

  std::uint64_t commits() const { return backend->stats().commits; }
};

// Adds `n` coins to a value profile.
inline context_fn add_coins(std::int64_t n) {
  return [n](profile_context& c) {
    auto& coins = (*c.data_value())["coins"];
    coins = *coins.to_int64() + n;
  };
}

inline std::int64_t coins_in(const value& data) {
  auto* c = data.get("coins");
  REQUIRE(c != nullptr);
  return *c->to_int64();
}

inline std::int64_t stored_coins(const record& rec) {
  auto v = decode_msgpack(rec.data);
  REQUIRE(v.ok());
  return coins_in(*v);
}

} // namespace profilestore::testing

namespace profilestore::testing {

// "ok" or the error, for failure messages.
template <class T>
std::string describe(const result<T>& r) {
  return r.ok() ? std::string("ok") : r.err().to_string();
}

} // namespace profilestore::testing

#define REQUIRE_OK(expr)                                                       \
  do {                                                                         \
    auto&& ps_result_ = (expr);                                                \
    REQUIRE_MESSAGE(ps_result_.ok(), ::profilestore::testing::describe(ps_result_)); \
  } while (false)
#define CHECK_OK(expr)                                                         \
  do {                                                                         \
    auto&& ps_result_ = (expr);                                                \
    CHECK_MESSAGE(ps_result_.ok(), ::profilestore::testing::describe(ps_result_)); \
  } while (false)
