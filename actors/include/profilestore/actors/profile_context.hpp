// profile_context: an active profile as its own callbacks see it.
//
// Every hook, message handler and update function receives the context of
// the profile it runs for, inside that profile's actor. Changes made here are
// what the next save writes. Contracts:
//  - data(), user ids, key metadata and meta tags may be changed freely;
//    sizes are checked at the save, and a refused save keeps everything.
//  - save() and end_session() only ask: the save or the end starts after the
//    current callback returns.
//  - A context must not be kept beyond the callback it was given to.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "profilestore/actors/profile_data.hpp"
#include "profilestore/actors/types.hpp"
#include "profilestore/codec/value.hpp"
#include "profilestore/store/record.hpp"
#include "profilestore/store/versions.hpp"

namespace profilestore {

class storage;

class profile_context {
public:
  virtual ~profile_context() = default;

  const std::string& key() const noexcept { return key_; }
  const store_spec& store() const noexcept { return *spec_; }
  const session_ref& session() const noexcept { return session_; }

  // The profile's data. data_as<T>() is the typed struct of a store opened
  // with a T (nullptr otherwise); data_value() the dynamic value of a store
  // opened with a value template (nullptr otherwise).
  profile_data& data() noexcept { return *data_; }
  template <class T>
  T* data_as() noexcept {
    return data_->get_if<T>();
  }
  value* data_value() noexcept { return data_->get_if<value>(); }

  // The data as of the last successful save: read from storage and decoded
  // on each call (a profile does not keep a second copy of its data in
  // memory). This session owns the key, so the stored Data is what it last
  // saved; while a save is in flight it may already be that save's data once
  // it is durable. A null value when storage cannot be read.
  value last_saved_data() const;

  // MetaData, as of the last save (session_load_count, first session time,
  // ActiveSession, ...).
  const record_metadata& metadata() const noexcept { return meta_; }
  std::int64_t first_session_time() const noexcept {
    return meta_.profile_create_time;
  }
  std::uint64_t session_load_count() const noexcept {
    return meta_.session_load_count;
  }
  // The key info of the version the last save wrote (or the load read).
  const key_info& info() const noexcept { return info_; }

  const std::vector<std::int64_t>& user_ids() const noexcept {
    return user_ids_;
  }
  void add_user_id(std::int64_t id);
  void remove_user_id(std::int64_t id);

  // Key metadata and ProfileService's meta tags: maps.
  value& key_metadata() noexcept { return key_metadata_; }
  value& meta_tags() noexcept { return meta_tags_; }

  // False once end_session() was asked for or the session was lost.
  bool is_active() const noexcept { return active_; }

  // Fills keys missing from the data with the store's template, deeply.
  void reconcile();

  // The GlobalUpdates queue as storage last reported it (at the start, after
  // each save, and when a sender's update arrives), locked entries included.
  // ProfileService's global updates (compat layer) read it.
  const std::vector<queued_update>& stored_updates() const noexcept {
    static const std::vector<queued_update> none;
    return updates_ ? updates_->stored : none;
  }
  // ProfileService's state machine, carried out by the next save: mark an
  // active update locked (lock_update_ids), or remove an update the owner has
  // processed (processed_update_ids). Kept until a save shows them done.
  void lock_update(std::uint64_t id) { update_book().lock_asked.insert(id); }
  void clear_update(std::uint64_t id) { update_book().clear_asked.insert(id); }
  const std::set<std::uint64_t>& updates_to_lock() const noexcept {
    static const std::set<std::uint64_t> none;
    return updates_ ? updates_->lock_asked : none;
  }
  const std::set<std::uint64_t>& updates_to_clear() const noexcept {
    static const std::set<std::uint64_t> none;
    return updates_ ? updates_->clear_asked : none;
  }

  // Ask for a save (or the end of the session) after this callback.
  void save() noexcept { save_asked_ = true; }
  void end_session() noexcept { end_asked_ = true; }

protected:
  // A failed transaction restores what its function changed in a profile it
  // borrowed (transaction_actor.cpp).
  friend struct transaction_access;

  store_spec_ptr spec_;
  std::string key_;
  session_ref session_;
  std::unique_ptr<profile_data> data_;
  // Where last_saved_data() reads from (the storage this session writes to;
  // reads there never wait for its writer).
  std::shared_ptr<const storage> storage_;
  // LastSavedData's bytes, kept only when storage_ is null (storage on
  // another node cannot be read synchronously).
  std::shared_ptr<const std::string> saved_copy_;
  record_metadata meta_;
  key_info info_;
  std::vector<std::int64_t> user_ids_;
  value key_metadata_;
  value meta_tags_;
  // The queue as last reported and the pending lock/clear requests,
  // allocated on first need: most profiles never have a queued update, and
  // an idle profile's size is a target (docs/design.md).
  struct update_book_t {
    std::vector<queued_update> stored;
    std::set<std::uint64_t> lock_asked;
    std::set<std::uint64_t> clear_asked;
  };
  std::unique_ptr<update_book_t> updates_;
  update_book_t& update_book() {
    if (!updates_)
      updates_ = std::make_unique<update_book_t>();
    return *updates_;
  }
  bool active_ = true;
  bool save_asked_ = false;
  bool end_asked_ = false;
};

} // namespace profilestore
