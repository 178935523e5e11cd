// node: profilestore's runtime on one CAF node, with a blocking facade.
//
//   caf::actor_system sys{cfg};
//   auto storage = spawn_store_actors(sys, std::make_shared<lmdb_backend>(...));
//   profilestore::node node(sys, storage, {"game-1"});
//   auto players = node.open<player>("Players", player{});
//   auto p = players.start_session("user_42");      // result<profile<player>>
//   p->update([](player& d) { d.coins += 10; });
//   p->end_session();
//
// The facade's calls block the calling thread (never an actor's) until the
// answer or a timeout (STORE_REQUEST_TIMEOUT; start_session: the start
// timeout plus that; transact of n profiles: (n + 5) x STORE_REQUEST_TIMEOUT,
// see node::transact), each a little longer than the runtime's own bound so
// that the runtime's answer, even a timeout error, comes first; they return
// result<T>. Actor code uses the same runtime without blocking: send the
// messages of messages.hpp to node.actor() and to profile_handle::actor with
// request(...).then(...).
//
// Thread safety: a node and its store/profile objects may be used from any
// threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "profilestore/actors/constants.hpp"
#include "profilestore/actors/errors.hpp"
#include "profilestore/actors/messages.hpp"
#include "profilestore/actors/profile_context.hpp"
#include "profilestore/actors/store_actor.hpp"
#include "profilestore/actors/types.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/typed.hpp"

namespace profilestore {

struct shared_node_state;

struct node_config {
  // This node's stable name (ActiveSession's node); 1..64 bytes.
  std::string name = "node";
  // Changes at every start of the process; 0 picks one from the clock.
  std::uint64_t incarnation = 0;
  constants consts{};
  // The in-memory storage behind mock stores.
  store_actor_options mock_storage{};
};

namespace detail {

// Sends one request from a scoped actor and waits at most `timeout`.
template <class T, class... Ts>
result<T> ask(caf::actor_system& sys, const caf::actor& to, duration timeout,
              Ts&&... xs) {
  caf::scoped_actor self{sys};
  std::optional<result<T>> out;
  self->request(to, timeout, std::forward<Ts>(xs)...)
    .receive([&](T& v) { out.emplace(std::move(v)); },
             [&](caf::error& e) { out.emplace(from_caf_error(e)); });
  if (!out)
    return make_error(errc::internal, "no answer");
  return std::move(*out);
}

// For requests answered with caf::unit (an empty message).
template <class... Ts>
result<void> ask_unit(caf::actor_system& sys, const caf::actor& to,
                      duration timeout, Ts&&... xs) {
  caf::scoped_actor self{sys};
  std::optional<result<void>> out;
  self->request(to, timeout, std::forward<Ts>(xs)...)
    .receive([&]() { out.emplace(); },
             [&](caf::error& e) { out.emplace(from_caf_error(e)); });
  if (!out)
    return make_error(errc::internal, "no answer");
  return std::move(*out);
}

} // namespace detail

// An active profile (blocking facade over its actor). T is the store's data
// type: a MSGPACK_DEFINE_MAP struct, or profilestore::value.
template <class T>
class profile {
public:
  profile(caf::actor_system& sys, profile_handle h, duration timeout)
    : sys_(&sys), handle_(std::move(h)), timeout_(timeout) {}

  const profile_handle& handle() const noexcept { return handle_; }
  const std::string& key() const noexcept { return handle_.key; }
  const std::string& store_name() const noexcept { return handle_.store->name; }
  const session_ref& session() const noexcept { return handle_.session; }

  // Runs `fn` on the data inside the profile's actor; waits until it ran.
  result<void> update(std::function<void(T&)> fn) const {
    return with_context([fn = std::move(fn)](profile_context& c) {
      fn(*c.data_as<T>());
    });
  }
  // Runs `fn` on the whole profile (user ids, metadata, save/end requests).
  result<void> with_context(context_fn fn) const {
    return detail::ask_unit(*sys_, handle_.actor, timeout_, update_atom::value,
                            std::move(fn));
  }
  // A copy of the current data.
  result<T> data() const {
    auto out = std::make_shared<T>();
    auto r = with_context(
      [out](profile_context& c) { *out = *c.data_as<T>(); });
    if (!r)
      return r.err();
    return std::move(*out);
  }
  // Everything at once, dynamically typed (LastSavedData, KeyInfo, ...).
  result<profile_snapshot> snapshot() const {
    return detail::ask<profile_snapshot>(*sys_, handle_.actor, timeout_,
                                         info_atom::value);
  }
  bool is_active() const {
    auto s = snapshot();
    return s && s->active;
  }
  result<void> add_user_id(std::int64_t id) const {
    return with_context([id](profile_context& c) { c.add_user_id(id); });
  }
  result<void> remove_user_id(std::int64_t id) const {
    return with_context([id](profile_context& c) { c.remove_user_id(id); });
  }
  result<void> reconcile() const {
    return with_context([](profile_context& c) { c.reconcile(); });
  }
  result<void> add_hooks(profile_hooks hooks) const {
    return detail::ask_unit(*sys_, handle_.actor, timeout_, hooks_atom::value,
                            std::move(hooks));
  }
  result<void> message_handler(message_handler fn) const {
    profile_hooks h;
    h.message_handlers.push_back(std::move(fn));
    return add_hooks(std::move(h));
  }
  // Durable when it returns.
  result<void> save() const {
    return detail::ask_unit(*sys_, handle_.actor, timeout_, save_atom::value);
  }
  // The final save (reason manual); the session is over when it returns.
  result<void> end_session() const {
    return detail::ask_unit(*sys_, handle_.actor, timeout_, end_atom::value);
  }

private:
  caf::actor_system* sys_;
  profile_handle handle_;
  duration timeout_;
};

// Pages through the stored versions of one key (ProfileStore's VersionQuery).
class version_cursor {
public:
  version_cursor(caf::actor_system& sys, caf::actor node, store_spec_ptr spec,
                 std::string key, version_query query, duration timeout)
    : sys_(&sys), node_(std::move(node)), spec_(std::move(spec)),
      key_(std::move(key)), query_(query), timeout_(timeout) {}

  // The next version's profile copy; nullopt when there are no more.
  result<std::optional<profile_copy>> next();

private:
  caf::actor_system* sys_;
  caf::actor node_;
  store_spec_ptr spec_;
  std::string key_;
  version_query query_;
  duration timeout_;
  std::vector<key_info> page_;
  std::size_t at_ = 0;
  bool done_ = false;
};

// A store opened on a node (ProfileStore's store object).
template <class T>
class store {
public:
  store(caf::actor_system& sys, caf::actor node, store_spec_ptr spec,
        std::shared_ptr<shared_node_state> shared)
    : sys_(&sys), node_(std::move(node)), spec_(std::move(spec)),
      shared_(std::move(shared)) {}

  const std::string& name() const noexcept { return spec_->name; }
  const store_spec_ptr& spec() const noexcept { return spec_; }
  bool is_mock() const noexcept { return spec_->mock; }

  // The same store in the node's isolated in-memory storage.
  store mock() const {
    auto spec = std::make_shared<store_spec>(*spec_);
    spec->mock = true;
    return store(*sys_, node_, std::move(spec), shared_);
  }

  result<profile<T>> start_session(const std::string& key,
                                   start_options options = {}) const;
  // Queues a message for the key's owner (or its next session).
  result<std::uint64_t> message(const std::string& key, const value& msg) const {
    return detail::ask<std::uint64_t>(*sys_, node_, request_timeout(),
                                      message_atom::value, spec_, key,
                                      encode_msgpack(msg));
  }
  // A copy of the latest version, or of `version`; nullopt when absent.
  result<std::optional<profile_copy>>
  get(const std::string& key,
      std::optional<std::uint64_t> version = std::nullopt) const {
    return detail::ask<std::optional<profile_copy>>(
      *sys_, node_, request_timeout(), get_atom::value, spec_, key, version);
  }
  // Overwrites the key with a copy from get(); ends any active session.
  result<void> set(const profile_copy& copy) const {
    return detail::ask_unit(*sys_, node_, request_timeout(), set_atom::value,
                            spec_, copy);
  }
  // Writes a tombstone; true when the key existed.
  result<bool> remove(const std::string& key) const {
    return detail::ask<bool>(*sys_, node_, request_timeout(),
                             remove_atom::value, spec_, key);
  }
  version_cursor version_query(const std::string& key,
                               bool descending = false,
                               std::optional<std::int64_t> min_time = {},
                               std::optional<std::int64_t> max_time = {}) const {
    profilestore::version_query q;
    q.descending = descending;
    q.min_time = min_time;
    q.max_time = max_time;
    return version_cursor(*sys_, node_, spec_, key, q, request_timeout());
  }

private:
  duration request_timeout() const;

  caf::actor_system* sys_;
  caf::actor node_;
  store_spec_ptr spec_;
  std::shared_ptr<shared_node_state> shared_;
};

class node {
public:
  // Runs a node whose live stores are kept by `storage` (a local store actor
  // pair, or in a cluster a remote one).
  node(caf::actor_system& sys, store_actors storage, node_config config = {});
  // Stops the node's actors. Profiles still active stop without a final
  // save, as in a crash: call shutdown() first.
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  caf::actor actor() const noexcept { return actor_; }
  const std::string& name() const noexcept { return name_; }

  bool is_closing() const noexcept;
  bool is_critical_state() const noexcept;
  datastore_state state() const noexcept;

  // Signals, called from the node's actor (keep them short).
  void on_error(std::function<void(const error&, const std::string& store,
                                   const std::string& key)> fn);
  void on_overwrite(
    std::function<void(const std::string& store, const std::string& key)> fn);
  void on_critical_toggle(std::function<void(bool critical)> fn);

  result<void> set_constant(std::string_view name, double value);
  constants current_constants() const;

  // Opens a store with a dynamic template (a map) ...
  result<store<value>> open(const std::string& name, const value& tmpl);
  // ... or with a typed struct whose values are the template.
  template <class T>
  result<store<T>> open(const std::string& name, T tmpl) {
    auto bytes = std::make_shared<const std::string>(encode_typed(tmpl));
    auto spec = make_spec(name, std::move(bytes),
                          std::make_shared<typed_data_factory<T>>(std::move(tmpl)));
    if (!spec)
      return spec.err();
    return store<T>(*sys_, actor_, std::move(*spec), shared_);
  }

  // Every atomic multi-profile change: fn runs on all the profiles' data at
  // once and they are saved in one storage transaction, or none is changed.
  // Waits facade_transact_timeout: (n + 5) x STORE_REQUEST_TIMEOUT + 1 s for
  // n profiles, longer than the node's own bound, which is longer than the
  // transaction's worst case (n borrows, each bounded by
  // STORE_REQUEST_TIMEOUT, and the group save, by 4 of them). So the caller
  // gets the transaction's own answer rather than a timeout of the facade's
  // while the transaction still runs and may commit (a caller who retried
  // then would trade twice). Only a writer stuck past the group save's wait
  // leaves the outcome unknown: the transaction then gives its profiles back
  // unchanged and answers errc::timeout, though storage may still commit it.
  result<void> transact(std::vector<profile_handle> profiles, transact_fn fn);

  // is_closing becomes true, new starts are refused, every session does its
  // final save (reason shutdown) in parallel; returns when all are done or
  // after `timeout` (errc::timeout). A session whose final save storage
  // refuses for its content (data_too_large, ...) stays active: the call
  // then returns that refusal, naming the key, once every other session is
  // done. A later call returns when the sessions are done (with an earlier
  // call still waiting, at the same time as it) or after its own `timeout`,
  // and asks the sessions kept that way for their final save again.
  result<void> shutdown(duration timeout = std::chrono::seconds(30));

private:
  result<store_spec_ptr> make_spec(const std::string& name,
                                   std::shared_ptr<const std::string> tmpl,
                                   std::shared_ptr<const data_factory> factory);

  caf::actor_system* sys_;
  caf::actor actor_;
  std::string name_;
  std::shared_ptr<shared_node_state> shared_;
  store_actors storage_;
};

// The timeouts the facade uses, from the node's current constants.
duration facade_request_timeout(const shared_node_state& shared);
duration facade_start_timeout(const shared_node_state& shared);
// transact's wait for `profiles` profiles: strictly longer than the node's
// own bound for them (transact_timeout in actors/src/node_actor.hpp).
duration facade_transact_timeout(const shared_node_state& shared,
                                 std::size_t profiles);

template <class T>
duration store<T>::request_timeout() const {
  return facade_request_timeout(*shared_);
}

template <class T>
result<profile<T>> store<T>::start_session(const std::string& key,
                                           start_options options) const {
  auto h = detail::ask<profile_handle>(*sys_, node_,
                                       facade_start_timeout(*shared_),
                                       start_atom::value, spec_, key,
                                       std::move(options));
  if (!h)
    return h.err();
  return profile<T>(*sys_, std::move(*h), request_timeout());
}

} // namespace profilestore
