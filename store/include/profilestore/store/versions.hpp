// Versioned keys over a backend: the storage layout of docs/format.md.
//
//   versions: store \0 key \0 be64(version) -> version entry (key info + record)
//   heads:    store \0 key                  -> head entry (latest version, times)
//
// Rules (all times are the storage node's clock, ms since the epoch):
//  1. A write within `window_ms` of the creation of the latest version
//     replaces that version in place (Roblox keeps one version per hour);
//     otherwise, and always when the caller forces it, a new version is
//     appended. window_ms = 0 makes every write a version. A latest version
//     created after `now` (the clock was set back, or damaged bytes) is not
//     within the window: the write appends, once, and the next writes fall
//     in the new version's window.
//  2. remove writes a tombstone version; the data before it stays as an older
//     version and can be restored until it expires. A write after a tombstone
//     starts a new version and a new key life (created time resets).
//  3. A version that is not the latest expires `retention_ms` after it was
//     superseded (the creation time of the next version) and is pruned in
//     bounded batches: at most `prune_batch` per appended version of the same
//     key, and by prune_versions() for keys nobody writes.
//  4. Version numbers start at 1 and only grow; pruning never renumbers.
//
// These functions run inside a caller's transaction and never commit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "profilestore/result.hpp"
#include "profilestore/store/backend.hpp"

namespace profilestore {

struct version_policy {
  std::int64_t window_ms = 3'600'000;              // one hour
  std::int64_t retention_ms = 30LL * 24 * 3'600'000; // thirty days
  std::size_t prune_batch = 16;
};

// What Roblox calls DataStoreKeyInfo, for one version.
struct key_info {
  std::uint64_t version = 0;
  std::int64_t created_time = 0;         // the key's creation (this life)
  std::int64_t version_created_time = 0; // this version's first write
  std::int64_t updated_time = 0;         // this version's last write
  std::uint64_t size = 0;                // bytes of the record
  std::vector<std::int64_t> user_ids;
  std::string key_metadata; // encoded MessagePack map
  bool deleted = false;     // a tombstone
};

// A version read from a transaction. `record_bytes` follows contract 4 of
// backend.hpp (valid until the next write or the end of the transaction).
// When the entry's own header is damaged, `header_corrupt` is set, `info`
// holds only the version number and `record_bytes` is the whole entry, so
// that decoding the record fails and the caller treats it as corrupt.
struct stored_version {
  key_info info;
  std::string_view record_bytes;
  bool header_corrupt = false;
};

// The heads table's entry of a key: its newest version's number, creation
// times and tombstone flag (docs/format.md, Head entry).
struct head_entry {
  std::uint64_t latest_version = 0;
  std::int64_t created_time = 0;
  std::int64_t version_created_time = 0;
  // The time of the last write that stored this entry. A write that
  // replaces the latest version in place leaves the head as it is, so this
  // can be older than that version's own updated_time, which is the one
  // key_info reports.
  std::int64_t updated_time = 0;
  bool deleted = false;
  // Not stored: read_head rebuilt this from the newest version entry
  // because the stored entry did not decode; the next write stores it.
  bool rebuilt = false;
};

// The storage keys.
std::string heads_key(std::string_view store, std::string_view key);
std::string versions_prefix(std::string_view store, std::string_view key);
std::string versions_key(std::string_view store, std::string_view key,
                         std::uint64_t version);

// Entry bytes (exposed for golden-byte tests and the admin tools).
std::string encode_head_entry(const head_entry& head);
result<head_entry> decode_head_entry(std::string_view bytes);
void encode_version_entry(const key_info& info, std::string_view record_bytes,
                          std::string& out);
// An entry's bytes before its record: the header and the key metadata.
void encode_version_entry_header(const key_info& info, std::string& out);
stored_version decode_version_entry(std::uint64_t version,
                                    std::string_view bytes);

result<std::optional<head_entry>> read_head(read_transaction& txn,
                                            std::string_view store,
                                            std::string_view key);
result<std::optional<stored_version>> read_version(read_transaction& txn,
                                                   std::string_view store,
                                                   std::string_view key,
                                                   std::uint64_t version);
// The latest version, tombstones included (check info.deleted).
result<std::optional<stored_version>> read_latest(read_transaction& txn,
                                                  std::string_view store,
                                                  std::string_view key);

struct version_write {
  std::string_view record_bytes; // empty for a tombstone
  // When set, appends the record's bytes to the entry in place of
  // record_bytes (which stays empty): the record is encoded straight into
  // the entry, with no string of its own. `record_size_hint` sizes the entry.
  std::function<void(std::string&)> append_record;
  std::size_t record_size_hint = 0;
  const std::vector<std::int64_t>* user_ids = nullptr;
  std::string_view key_metadata; // encoded map; empty means an empty map
  bool force_new_version = false;
  bool tombstone = false;
  // The key's head as the caller read it earlier in this transaction, with
  // no write to the key since (saves a lookup); null: read it here.
  const std::optional<head_entry>* known_head = nullptr;
};

// Writes per rules 1-3 and returns the key info of the written version.
// The head is stored when the write appends a version (a new key included)
// or the head was rebuilt; a write that replaces the latest version in
// place changes nothing the head holds but its updated_time, and leaves it.
result<key_info> write_version(write_transaction& txn, std::string_view store,
                               std::string_view key, const version_write& w,
                               std::int64_t now, const version_policy& policy);

struct version_query {
  bool descending = false;
  // Bounds on version_created_time, inclusive.
  std::optional<std::int64_t> min_time;
  std::optional<std::int64_t> max_time;
  std::size_t limit = 100;
  // Paging: continue after this version (exclusive, in query direction).
  std::optional<std::uint64_t> after_version;
};

struct version_page {
  std::vector<key_info> versions;
  // Pass as after_version for the next page; nullopt when there is no more.
  std::optional<std::uint64_t> next_after;
};

result<version_page> list_versions(read_transaction& txn,
                                   std::string_view store,
                                   std::string_view key,
                                   const version_query& query);

// Removes expired versions of one key (rule 3), at most `max_versions`;
// returns how many were removed.
result<std::size_t> prune_key(write_transaction& txn, std::string_view store,
                              std::string_view key, std::int64_t now,
                              const version_policy& policy,
                              std::size_t max_versions);

struct prune_progress {
  std::size_t keys_visited = 0;
  std::size_t versions_removed = 0;
  // Pass as resume_after to the next step (a heads key; empty: the start).
  std::string resume_after;
  // True when the pass reached the last key.
  bool complete = false;
};

// One bounded step of a pruning pass over every key: visits keys after
// `resume_after` until `max_versions` were removed or `max_keys` visited.
result<prune_progress> prune_versions(write_transaction& txn, std::int64_t now,
                                      const version_policy& policy,
                                      std::string_view resume_after,
                                      std::size_t max_versions,
                                      std::size_t max_keys);

struct key_listing {
  std::vector<std::string> keys;
  std::optional<std::string> next_after; // resume position, or none
};

// Keys of `store` starting with `prefix`, after `after` (exclusive), in byte
// order. Removed keys (latest version a tombstone) are skipped unless
// `include_removed`.
result<key_listing> list_keys(read_transaction& txn, std::string_view store,
                              std::string_view prefix, std::string_view after,
                              std::size_t limit, bool include_removed = false);

// Every store name that has at least one key.
result<std::vector<std::string>> list_stores(read_transaction& txn);

} // namespace profilestore
