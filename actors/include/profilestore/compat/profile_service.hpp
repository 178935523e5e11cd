// profile_service: ProfileService's API (the module, its ProfileStore
// objects) on a profilestore node: same actors, same storage, same records.
//
//   compat::profile_service service(sys, node);
//   auto players = service.get_profile_store("Players", value::object({{"coins", 0}}));
//   auto p = players->load_profile("user_42");   // result<optional<service_profile>>
//   p->value().with([](compat::service_profile_view& v) { v.data()["coins"] = 10; });
//   p->value().release();
//
// Each call has two forms: *_async(..., done) for actor code and for tests on
// CAF's test coordinator (the work runs in a short-lived helper actor; `done`
// runs there; a call refused before any work, e.g. while the service is
// locked, answers at once on the caller's thread), and a blocking form for plain threads that waits at most a
// bound derived from the node's constants (errc::timeout beyond it).
//
// load_profile's not_released_handler, as in the original: "force_load" (the
// default: ask the owner to release, steal after SESSION_STEAL), or a
// function called with the owner's node and incarnation while another node
// holds the key, returning
//   repeat     - read again after LOAD_REPEAT_PERIOD and ask again (bounded:
//                errc::timeout after START_SESSION_TIMEOUT in all),
//   cancel     - give up: the result is an empty optional (the original's nil),
//   force_load - from now on behave as "force_load",
//   steal      - take the lock at once (the owner's next save is refused).
// The function runs in the helper actor and must not block. An empty
// optional is also the answer when a newer load of the key took over (the
// original returns nil then too).
//
// Thread safety: profile_service and service_store may be used from any
// thread; signal listeners run in the node's actor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "profilestore/actors/node.hpp"
#include "profilestore/compat/global_updates.hpp"
#include "profilestore/compat/service_profile.hpp"

namespace profilestore::compat {

enum class not_released_action : std::uint8_t {
  repeat,
  cancel,
  force_load,
  steal
};

using not_released_fn = std::function<not_released_action(
  const std::string& owner_node, std::uint64_t owner_incarnation)>;

// "force_load" (empty) or a function.
struct not_released_handler {
  not_released_fn fn;

  static not_released_handler force_load() { return {}; }
  bool is_force_load() const noexcept { return !fn; }
};

struct load_options {
  not_released_handler not_released = not_released_handler::force_load();
  service_listeners listeners;
};

// ViewProfileAsync's answer: a copy that is never saved.
struct profile_view {
  std::string key;
  value data;
  service_meta_data meta_data;
  compat::global_updates global_updates = compat::global_updates::make_view({});
  key_info info;
};

// GlobalUpdateProfileAsync's handler: edits through `updates` (sender place).
using update_handler = std::function<void(global_updates& updates)>;

template <class T>
using done_fn = std::function<void(result<T>)>;

class service_store {
public:
  service_store(caf::actor_system& sys, node& n, store_spec_ptr spec)
    : sys_(&sys), node_(&n), spec_(std::move(spec)) {}

  const std::string& name() const noexcept { return spec_->name; }
  const store_spec_ptr& spec() const noexcept { return spec_; }

  void load_profile_async(const std::string& key, load_options options,
                          done_fn<std::optional<service_profile>> done) const;
  void view_profile_async(const std::string& key,
                          std::optional<std::uint64_t> version,
                          done_fn<std::optional<profile_view>> done) const;
  // Reads the queue, runs `handler` on it, and writes its edits in one
  // storage write (all or none; storage checks them again, so an update
  // locked meanwhile fails the call). Answers with the queue after the
  // write (as read, when the handler made no edit).
  void global_update_profile_async(const std::string& key,
                                   update_handler handler,
                                   done_fn<global_updates> done) const;

  result<std::optional<service_profile>>
  load_profile(const std::string& key, load_options options = {}) const;
  result<std::optional<profile_view>>
  view_profile(const std::string& key,
               std::optional<std::uint64_t> version = std::nullopt) const;
  result<global_updates> global_update_profile(const std::string& key,
                                               update_handler handler) const;

private:
  caf::actor_system* sys_;
  node* node_;
  store_spec_ptr spec_;
};

// The module. REQUIRES: `sys` and `n` outlive it and every store it opened.
class profile_service {
public:
  profile_service(caf::actor_system& sys, node& n);

  // ServiceLocked: true once the node is shutting down (no new loads).
  bool service_locked() const noexcept { return node_->is_closing(); }

  // IssueSignal (every error the node reports, as text),
  // CorruptionSignal (store, key: corrupt bytes were replaced),
  // CriticalStateSignal (entered or left the critical state).
  void issue_signal(std::function<void(const std::string& message)> fn);
  void corruption_signal(
    std::function<void(const std::string& store, const std::string& key)> fn);
  void critical_state_signal(std::function<void(bool critical)> fn);

  // GetProfileStore: `tmpl` must be a map; new profiles start as a copy.
  result<service_store> get_profile_store(const std::string& name,
                                          const value& tmpl);

private:
  struct signals;
  caf::actor_system* sys_;
  node* node_;
  std::shared_ptr<signals> signals_;
};

} // namespace profilestore::compat
