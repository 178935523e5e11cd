// record: one profile as stored under one (store, key), format version 1.
//
// The field names follow the Luau originals (Data, MetaData, GlobalUpdates,
// UserIds, ...), so their documentation maps one to one; docs/format.md
// specifies the bytes and record_codec.hpp encodes them.
//
// User data (Data, MetaTags, KeyMetaData, message payloads) is held as
// MessagePack bytes, validated but never decoded by the storage layer: a save
// splices the caller's bytes into the record, so saving costs a copy, not a
// decode and re-encode of the player's data.
//
// Thread safety: a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace profilestore {

// An empty MessagePack map (0x80): the default for tag and metadata maps.
inline const std::string empty_msgpack_map{"\x80", 1};

// Who holds or asks for a session: a node (stable, configured name), the
// incarnation of that node's process (changes at every restart), and a
// session or request id unique within the incarnation. ActiveSession and
// ForceLoadSession are session_refs; a ForceLoadSession's id becomes the
// session id when the lock is handed to that requester.
struct session_ref {
  std::string node;
  std::uint64_t incarnation = 0;
  std::uint64_t id = 0;

  // Same node process (the id may differ).
  bool same_process(const session_ref& other) const noexcept {
    return node == other.node && incarnation == other.incarnation;
  }
  friend bool operator==(const session_ref& a, const session_ref& b) noexcept {
    return a.id == b.id && a.incarnation == b.incarnation && a.node == b.node;
  }
  friend bool operator!=(const session_ref& a, const session_ref& b) noexcept {
    return !(a == b);
  }
};

// "node#incarnation/id", for messages and logs.
std::string to_string(const session_ref& s);

// One entry of the GlobalUpdates queue. ProfileStore messages are updates
// that are never locked; ProfileService global updates use version and
// locked as its state machine does.
struct queued_update {
  std::uint64_t id = 0;
  std::uint64_t version = 1;
  bool locked = false;
  std::string data; // encoded MessagePack

  friend bool operator==(const queued_update& a, const queued_update& b) {
    return a.id == b.id && a.version == b.version && a.locked == b.locked
           && a.data == b.data;
  }
};

struct record_metadata {
  std::int64_t profile_create_time = 0; // ms since the epoch, storage clock
  std::uint64_t session_load_count = 0;
  std::optional<session_ref> active_session;     // the lock owner
  std::optional<session_ref> force_load_session; // the newest requester
  std::int64_t last_update = 0; // ms; last write by the owner (ASSUME_DEAD)
  std::string meta_tags = empty_msgpack_map; // encoded map
  // MetaData fields this version does not know, kept as encoded values.
  std::vector<std::pair<std::string, std::string>> unknown_fields;
};

struct record {
  // False for a record that holds only GlobalUpdates: messages sent to a
  // profile that was never created. Data, MetaData, UserIds, KeyMetaData and
  // WasOverwritten are then absent.
  bool has_profile = true;
  std::string data; // encoded MessagePack map or array
  record_metadata meta;
  std::uint64_t last_update_id = 0; // the id given to the newest update
  std::vector<queued_update> updates;
  std::vector<std::int64_t> user_ids;
  std::string key_metadata = empty_msgpack_map; // encoded map
  bool was_overwritten = false;
  // Top-level fields this version does not know, kept as encoded values, in
  // key order, so that a newer minor writer's additions survive our saves.
  std::vector<std::pair<std::string, std::string>> unknown_fields;
};

// A new profile: Data is a copy of `template_data`, created `now`.
record make_new_profile(std::string_view template_data, std::int64_t now);

// Turns a messages-only record into a new profile that keeps its queue.
void add_profile_to(record& rec, std::string_view template_data,
                    std::int64_t now);

// The queued update with `id`, or nullptr.
const queued_update* find_update(const record& rec, std::uint64_t id);

// Sum of the payload bytes of every queued update.
std::size_t queued_update_bytes(const record& rec);

} // namespace profilestore
