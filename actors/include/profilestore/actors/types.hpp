// The value types of the profile runtime's API: what a store is, what a start
// asks for, what a caller gets back, and the callbacks a profile runs.
//
// Callbacks (hooks, message handlers, update functions) run inside the
// profile's actor, one at a time, never concurrently with each other or with
// a save: they may read and change the profile freely but must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "profilestore/actors/profile_data.hpp"
#include "profilestore/codec/value.hpp"
#include "profilestore/store/record.hpp"
#include "profilestore/store/versions.hpp"

namespace profilestore {

class profile_context;

// A store as opened on a node: its name, its template, and how its data is
// held in memory (dynamic value or typed struct). Mock stores live in an
// in-memory storage of their own and never mix with live keys.
struct store_spec {
  std::string name;
  bool mock = false;
  std::shared_ptr<const std::string> template_bytes; // encoded map or array
  std::shared_ptr<const data_factory> factory;
};
using store_spec_ptr = std::shared_ptr<const store_spec>;

// Why a session's last save happens (ProfileStore's OnLastSave reason).
enum class last_save_reason : std::uint8_t {
  manual,   // end_session() was called
  external, // another node asked for the session (ForceLoadSession)
  shutdown, // the node is closing
};

std::string_view to_string(last_save_reason r) noexcept;

// A message (MessageAsync) offered to a handler.
struct incoming_message {
  std::uint64_t id = 0;
  value data;
};

using profile_hook = std::function<void(profile_context&)>;
using last_save_hook = std::function<void(profile_context&, last_save_reason)>;
// Call `processed()` once the message's effect is in the data: the removal
// from the queue is then saved in the same write as that data. It counts
// only during the handler's call (the profile's data belongs to its actor);
// a call after the handler returned does nothing: the message goes on to
// the next handler, and stays queued for a handler added later or the next
// session if none processes it.
using message_handler = std::function<void(
  profile_context&, const incoming_message&, const std::function<void()>&)>;
using context_fn = std::function<void(profile_context&)>;

struct profile_hooks {
  std::vector<profile_hook> on_save;        // before every save
  std::vector<last_save_hook> on_last_save; // before the final save
  std::vector<profile_hook> on_session_end; // after the session ended
  std::vector<profile_hook> on_after_save;  // after every successful save
  std::vector<message_handler> message_handlers;
};

struct start_options {
  // Polled while the key is locked elsewhere; true stops the retries and
  // the start fails with errc::cancelled. Runs in the node's actor. When
  // set, START_SESSION_TIMEOUT does not apply (as in the original).
  std::function<bool()> cancel;
  // Take the lock at once even if another node holds it.
  bool steal = false;
  // Installed before the profile is handed out, so nothing is missed.
  profile_hooks hooks;
};

// A handle to an active profile: its actor and what never changes.
struct profile_handle {
  caf::actor actor;
  store_spec_ptr store;
  std::string key;
  session_ref session;
};

// A copy of a stored profile (get, version_query): never auto-saved. Pass it
// to set() to overwrite the key.
struct profile_copy {
  std::string store;
  std::string key;
  value data;
  record_metadata meta;
  std::vector<std::int64_t> user_ids;
  value key_metadata; // a map
  value meta_tags;    // a map
  key_info info;
  std::vector<queued_update> messages; // the queue as stored
  bool overwritten = false;            // corrupt bytes were replaced
};

// A point-in-time view of an active profile (for code outside its actor).
struct profile_snapshot {
  value data;
  value last_saved_data;
  record_metadata meta;
  std::vector<std::int64_t> user_ids;
  value key_metadata;
  key_info info;
  bool active = false;
};

// ProfileStore's DataStoreState.
enum class datastore_state : std::uint8_t { not_ready, no_access, access };

std::string_view to_string(datastore_state s) noexcept;

} // namespace profilestore
