// profile_handler: the small ProfileHandler API on a profilestore node, as a
// blocking facade (its Luau calls yield; here they block the calling thread,
// never an actor's, and each waits at most the node's request bounds).
//
//   compat::profile_handler handler(node);
//   auto p = handler.new_profile("player_data", "42", true, tmpl);
//   (*p)->set_data("stats.level", 2);        // dot paths walk nested maps
//   (*p)->save(true);                        // the final save
//
// Differences from the original, each on purpose:
//  - The lock is profilestore's session lock with fencing. With
//    respect_session_lock = false the lock is taken at once (a steal) rather
//    than ignored: the previous owner's saves are refused from then on, so
//    the two never both write.
//  - set_data walks into nested maps ("a.b.c"), creating missing maps; the
//    original could not. reconcile is deep (value::reconcile).
//  - update_profile on a key not loaded here takes a session, changes the
//    data, and ends it (a final save), so it waits for another node's
//    session to be released like any start; on a profile loaded here it runs
//    inside that session.
//
// Thread safety: a profile_handler and its profiles may be used from any
// threads at once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "profilestore/actors/node.hpp"
#include "profilestore/codec/value.hpp"

namespace profilestore::compat {

// ProfileClass: one profile loaded by a profile_handler.
class handler_profile {
public:
  handler_profile(store<value> st, profile<value> session,
                  std::function<void()> uncache)
    : store_(std::move(st)), session_(std::move(session)),
      uncache_(std::move(uncache)) {}

  const std::string& key() const noexcept { return session_.key(); }
  const std::string& store_name() const noexcept {
    return session_.store_name();
  }

  // Save(session_ending): durable when it returns; session_ending = true is
  // the final save, after which the profile is destroyed.
  result<void> save(bool session_ending);
  // Destroy(): ends the session (final save) if it still runs and drops the
  // profile from the handler's cache. Calling it twice is harmless.
  result<void> destroy();
  bool is_destroyed() const;
  // Delete(): ends the session and removes the key from storage (a
  // tombstone version, so it can be rolled back); true when it existed.
  result<bool> remove();

  // GetData(path): the value at a dot path ("" = all the data); not_found
  // when a step is missing.
  result<value> get_data(std::string_view path = {}) const;
  // SetData(path, value): stores `v` at the path, creating missing maps;
  // errors when a step runs into a non-map value or the path is malformed.
  result<void> set_data(std::string_view path, value v);
  // True while the session runs (the data is loaded and owned here).
  bool is_data_loaded() const;
  // Reconcile(template): fills keys missing from the data, deeply; existing
  // values are never changed. `tmpl` must be a map.
  result<void> reconcile(const value& tmpl);

  const profile<value>& session() const noexcept { return session_; }

private:
  result<void> check_alive(const char* call) const;
  void mark_destroyed();

  store<value> store_;
  profile<value> session_;
  std::function<void()> uncache_;
  mutable std::mutex mtx_;
  bool destroyed_ = false;
};

class profile_handler {
public:
  // REQUIRES: `n` outlives the handler and its profiles. Profiles may
  // outlive the handler (their destroy() then has no cache to leave).
  explicit profile_handler(node& n);
  profile_handler(const profile_handler&) = delete;
  profile_handler& operator=(const profile_handler&) = delete;

  // newProfile: opens the store with `tmpl` (a map) and starts a session;
  // the profile is cached until destroyed. session_active when this handler
  // already has the key loaded.
  result<std::shared_ptr<handler_profile>>
  new_profile(const std::string& store, const std::string& key,
              bool respect_session_lock, const value& tmpl);
  // getProfile: the cached profile, or nullptr.
  std::shared_ptr<handler_profile> get_profile(const std::string& store,
                                               const std::string& key) const;
  // updateProfileAsync: runs `transform` on the data and saves it; ok means
  // success, with the new value.
  result<value> update_profile(const std::string& store,
                               const std::string& key,
                               std::function<void(value&)> transform);
  // getProfileAsync: the stored data (the live data for a cached profile);
  // an empty optional when the key has no profile.
  result<std::optional<value>> get_profile_data(const std::string& store,
                                                const std::string& key);

private:
  using cache_key = std::pair<std::string, std::string>;

  result<store<value>> open_store(const std::string& name, const value& tmpl);
  // The store opened before under `name`, or opened now with an empty map as
  // its template (for calls on keys this handler has no profile of).
  result<store<value>> known_or_open_store(const std::string& name);
  void uncache(const cache_key& k, const handler_profile* p);

  node* node_;
  // What a profile's destroy() reaches to leave the cache; expires with the
  // handler.
  std::shared_ptr<profile_handler*> self_
    = std::make_shared<profile_handler*>(this);
  mutable std::mutex mtx_;
  std::map<cache_key, std::shared_ptr<handler_profile>> cache_;
  std::map<std::string, store<value>> stores_;
};

} // namespace profilestore::compat
