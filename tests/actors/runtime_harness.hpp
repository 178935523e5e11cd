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
#include <string_view>
#include <utility>
#include <vector>

#include "profilestore/actors/errors.hpp"
#include "profilestore/actors/messages.hpp"
#include "profilestore/actors/node.hpp"
#include "profilestore/actors/profile_context.hpp"
#include "profilestore/actors/store_actor.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/faulty_backend.hpp"
#include "profilestore/store/memory_backend.hpp"
#include "profilestore/store/record_codec.hpp"
#include "profilestore/store/versions.hpp"
#include "result_checks.hpp"

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
  // The actors ask_later spawned; a request nobody answered keeps its asker
  // alive, and the actor system waits for every actor before it goes away,
  // so the destructor kills the askers first.
  std::vector<caf::actor> askers;

  test_system() = default;
  test_system(const test_system&) = delete;
  test_system& operator=(const test_system&) = delete;
  ~test_system() {
    for (auto& a : askers)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    askers.clear();
    run();
  }

  // Virtual time since the system started.
  duration elapsed() const {
    return std::chrono::duration_cast<duration>(
      sched.clock().now().time_since_epoch());
  }

  std::int64_t now_ms() const {
    using namespace std::chrono;
    return epoch_ms
           + duration_cast<milliseconds>(sched.clock().now().time_since_epoch())
               .count();
  }

  void run() { sched.run(); }

  // Runs every ready actor except `held`, whose mailbox keeps filling until
  // the next run(): orders interleavings that plain FIFO scheduling never
  // produces (a reply arriving after a later request, ...).
  void run_except(const caf::actor& held) {
    auto* ptr = dynamic_cast<caf::resumable*>(
      caf::actor_cast<caf::abstract_actor*>(held));
    sched.run_jobs_filtered([ptr](caf::resumable* r) { return r != ptr; });
  }

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
    // The slot goes in as a spawn argument: CAF 0.17 binds a null reference
    // for a function spawned without arguments (UBSan reports it).
    askers.push_back(sys.spawn(
      [=](caf::event_based_actor* self,
          std::shared_ptr<std::optional<result<T>>> slot) {
        self->request(to, std::chrono::seconds(86400), xs...)
          .then([slot](T& v) { slot->emplace(std::move(v)); },
                [slot](caf::error& e) { slot->emplace(from_caf_error(e)); });
      },
      out));
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
  std::shared_ptr<std::optional<result<void>>>
  ask_unit_later(const caf::actor& to, Ts... xs) {
    auto out = std::make_shared<std::optional<result<void>>>();
    askers.push_back(sys.spawn(
      [=](caf::event_based_actor* self,
          std::shared_ptr<std::optional<result<void>>> slot) {
        self->request(to, std::chrono::seconds(86400), xs...)
          .then([slot]() { slot->emplace(); },
                [slot](caf::error& e) { slot->emplace(from_caf_error(e)); });
      },
      out));
    return out;
  }

  template <class... Ts>
  result<void> ask_unit(const caf::actor& to, Ts... xs) {
    auto out = ask_unit_later(to, std::move(xs)...);
    run();
    REQUIRE_MESSAGE(out->has_value(), "the request was not answered");
    return std::move(**out);
  }
};

// What a profile's hooks saw (the hooks share it with the test).
struct hook_log {
  std::vector<last_save_reason> last_saves; // on_last_save reasons
  int session_ends = 0;                     // on_session_end calls
  int before_saves = 0;                     // on_save calls
  std::vector<duration> after_saves;        // virtual times of on_after_save
};

// An error the node signalled (on_error).
struct error_event {
  errc code;
  std::string store;
  std::string key;
  std::string message;
};

struct runtime_options {
  std::string node_name = "node-a";
  std::uint64_t incarnation = 1;
  // Limits and version policy of the live storage (and of mock stores).
  storage_options storage{};
};

// Storage options whose every write is a version of its own.
inline storage_options every_write_a_version() {
  storage_options o;
  o.versions.window_ms = 0;
  return o;
}

// Storage options that refuse Data over `max_data_bytes`.
inline storage_options data_limit(std::size_t max_data_bytes) {
  storage_options o;
  o.limits.max_data_bytes = max_data_bytes;
  return o;
}

struct runtime : test_system {
  std::shared_ptr<faulty_backend> backend
    = std::make_shared<faulty_backend>(std::make_unique<memory_backend>());
  runtime_options options;
  store_actors storage;
  std::unique_ptr<node> n;

  explicit runtime(std::string node_name = "node-a",
                   std::uint64_t incarnation = 1)
    : runtime(runtime_options{std::move(node_name), incarnation, {}}) {}

  explicit runtime(runtime_options opts) : options(std::move(opts)) {
    storage = spawn_store_actors(sys, backend, store_options());
    n = make_node(options.node_name, options.incarnation);
    run();
  }

  ~runtime() {
    n.reset();
    caf::anon_send_exit(storage.writer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(storage.reader, caf::exit_reason::user_shutdown);
    run();
  }

  // Moves virtual time by `d` and runs every actor but the store writer,
  // whose mailbox keeps what it got: a writer that does not answer (until
  // the next run() or advance()).
  void advance_without_writer(duration d) {
    run_except(storage.writer);
    sched.clock().advance_time(d);
    run_except(storage.writer);
  }

  store_actor_options store_options() {
    store_actor_options o;
    o.storage = options.storage;
    o.clock = [this] { return now_ms(); };
    o.detached_writer = false; // everything on the test coordinator
    return o;
  }

  std::unique_ptr<node> make_node(std::string name, std::uint64_t incarnation) {
    node_config c;
    c.name = std::move(name);
    c.incarnation = incarnation;
    c.mock_storage = store_options();
    return std::make_unique<node>(sys, storage, std::move(c));
  }

  // A node whose storage is reached as over a storage connection: it has
  // no shared storage to read, so its profiles send their saves unchecked
  // and each start attempt goes to the writer alone.
  std::unique_ptr<node> make_connected_node(std::string name) {
    node_config c;
    c.name = std::move(name);
    c.incarnation = 1;
    c.mock_storage = store_options();
    store_actors remote{storage.writer, storage.reader, nullptr};
    auto out = std::make_unique<node>(sys, remote, std::move(c));
    run();
    return out;
  }

  store<value> open_value(const std::string& name,
                          value tmpl = value::object({{"coins", 0}})) {
    auto s = n->open(name, tmpl);
    REQUIRE(s.ok());
    return *s;
  }

  template <class T>
  result<profile_handle> start(const store<T>& s, const std::string& key,
                               start_options opts = {}) {
    return ask<profile_handle>(n->actor(), start_atom::value, s.spec(), key,
                               std::move(opts));
  }

  // A start on `on` (another node on the same storage, or rt.n) whose answer
  // may take virtual time: the slot fills once it is answered.
  template <class T>
  std::shared_ptr<std::optional<result<profile_handle>>>
  start_later(const node& on, const store<T>& s, const std::string& key,
              start_options opts = {}) {
    return ask_later<profile_handle>(on.actor(), start_atom::value, s.spec(),
                                     key, std::move(opts));
  }

  template <class T>
  result<std::uint64_t> message(const store<T>& s, const std::string& key,
                                const value& msg) {
    return ask<std::uint64_t>(n->actor(), message_atom::value, s.spec(), key,
                              encode_msgpack(msg));
  }

  template <class T>
  result<std::optional<profile_copy>>
  get(const store<T>& s, const std::string& key,
      std::optional<std::uint64_t> version = std::nullopt) {
    return ask<std::optional<profile_copy>>(n->actor(), get_atom::value,
                                            s.spec(), key, version);
  }

  template <class T>
  result<version_page> list_versions(const store<T>& s, const std::string& key,
                                     version_query q = {}) {
    return ask<version_page>(n->actor(), versions_atom::value, s.spec(), key,
                             q);
  }

  template <class T>
  result<void> set(const store<T>& s, const profile_copy& copy) {
    return ask_unit(n->actor(), set_atom::value, s.spec(), copy);
  }

  template <class T>
  result<bool> remove(const store<T>& s, const std::string& key) {
    return ask<bool>(n->actor(), remove_atom::value, s.spec(), key);
  }

  result<void> transact(std::vector<profile_handle> profiles, transact_fn fn) {
    return ask_unit(n->actor(), transact_atom::value, std::move(profiles),
                    std::move(fn));
  }

  result<void> shutdown(duration timeout = std::chrono::seconds(30)) {
    return ask_unit(n->actor(), shutdown_atom::value, timeout);
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

  // Every version of the key, oldest first, straight from storage.
  std::vector<key_info> versions(const std::string& store_name,
                                 const std::string& key) {
    version_query q;
    q.limit = 10'000;
    auto page = storage.shared_storage->list_versions(store_name, key, q);
    REQUIRE_MESSAGE(page.ok(), describe(page));
    return page->versions;
  }

  // One version's record, straight from storage.
  std::optional<record> stored_version(const std::string& store_name,
                                       const std::string& key,
                                       std::uint64_t version) {
    auto r = storage.shared_storage->get(store_name, key, version);
    REQUIRE(r.ok());
    if (!*r)
      return std::nullopt;
    return (*r)->rec;
  }

  // Writes `bytes` as a new latest version of the key, as a damaged disk or
  // a foreign writer would, bypassing the record format.
  void inject_raw(const std::string& store_name, const std::string& key,
                  std::string_view bytes) {
    auto txn = backend->begin_write();
    REQUIRE(txn.ok());
    version_write w;
    w.record_bytes = bytes;
    w.force_new_version = true;
    auto info = write_version(**txn, store_name, key, w, now_ms(),
                              storage.shared_storage->options().versions);
    REQUIRE_MESSAGE(info.ok(), describe(info));
    REQUIRE((*txn)->commit().ok());
  }

  // Makes `owner` the key's ActiveSession in storage, as another server
  // stealing the lock would (the local node hears nothing of it).
  void inject_owner(const std::string& store_name, const std::string& key,
                    const session_ref& owner) {
    start_session_op op;
    op.store = store_name;
    op.key = key;
    op.request.requester = owner;
    op.request.steal = true;
    op.template_data
      = std::make_shared<const std::string>(encode_msgpack(value_map{}));
    auto r = storage.shared_storage->apply(op, now_ms());
    REQUIRE_MESSAGE(r.ok(), describe(r));
    REQUIRE(std::get<start_session_reply>(r->reply).outcome
            == start_outcome::started);
  }

  std::uint64_t commits() const { return backend->stats().commits; }

  // Hooks that record into `log`, with virtual times.
  profile_hooks recording(const std::shared_ptr<hook_log>& log) {
    profile_hooks h;
    h.on_last_save.push_back(
      [log](profile_context&, last_save_reason r) { log->last_saves.push_back(r); });
    h.on_session_end.push_back([log](profile_context&) { log->session_ends++; });
    h.on_save.push_back([log](profile_context&) { log->before_saves++; });
    h.on_after_save.push_back(
      [log, this](profile_context&) { log->after_saves.push_back(elapsed()); });
    return h;
  }
  start_options recorded(const std::shared_ptr<hook_log>& log) {
    start_options o;
    o.hooks = recording(log);
    return o;
  }

  // Every error `on` signals from now on.
  std::shared_ptr<std::vector<error_event>> watch_errors(node& on) {
    auto out = std::make_shared<std::vector<error_event>>();
    on.on_error([out](const error& e, const std::string& st,
                      const std::string& key) {
      out->push_back(error_event{e.code(), st, key, e.message()});
    });
    return out;
  }
  std::shared_ptr<std::vector<error_event>> watch_errors() {
    return watch_errors(*n);
  }

  // Checks that (store, key) is stored without an ActiveSession and that a
  // start of it on a new node `name` gets the profile at once, without any
  // time passing (no lock to wait out), then ends that session again.
  void check_free_for_new_node(const std::string& name,
                               const std::string& store,
                               const std::string& key);

  // The stored ActiveSession's node, or "" when the key is not locked.
  std::string lock_holder(const std::string& store, const std::string& key) {
    auto rec = stored(store, key);
    if (!rec || !rec->meta.active_session)
      return {};
    return rec->meta.active_session->node;
  }
};

// A value store opened on `on` (another node of the runtime, or rt.n) with
// the template {"coins": 0} that open_value uses.
inline store<value> open_value_on(node& on, const std::string& name) {
  auto s = on.open(name, value::object({{"coins", 0}}));
  REQUIRE(s.ok());
  return *s;
}

inline void runtime::check_free_for_new_node(const std::string& name,
                                             const std::string& store,
                                             const std::string& key) {
  auto rec = stored(store, key);
  REQUIRE(rec);
  CHECK_MESSAGE(!rec->meta.active_session.has_value(),
                key << " is still locked by "
                    << to_string(*rec->meta.active_session));
  auto other = make_node(name, 1);
  run();
  auto opened = open_value_on(*other, store);
  auto started = start_later(*other, opened, key);
  run();
  REQUIRE_MESSAGE(started->has_value(), key << " is not free for " << name);
  REQUIRE_MESSAGE((*started)->ok(), describe(**started));
  REQUIRE_OK(end((*started)->value()));
}

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

// A message handler that adds the message's "gift" to the coins and marks it
// processed; every call is counted in `calls`.
inline message_handler gift_handler(std::shared_ptr<int> calls) {
  return [calls](profile_context& c, const incoming_message& m,
                 const std::function<void()>& processed) {
    ++*calls;
    auto* gift = m.data.get("gift");
    REQUIRE(gift != nullptr);
    add_coins(*gift->to_int64())(c);
    processed();
  };
}

inline start_options with_handler(message_handler h) {
  start_options o;
  o.hooks.message_handlers.push_back(std::move(h));
  return o;
}

} // namespace profilestore::testing
