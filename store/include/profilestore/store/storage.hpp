// storage: profile records on a backend, with group commit.
//
// apply_batch() runs many operations in one write transaction and makes them
// durable with one commit: each operation gets its own result, computed as if
// the operations ran one after another in the given order (a later operation
// on the same key sees the earlier one's write). An operation that fails
// (bad input, not the owner, queue full) writes nothing and does not affect
// the others. A failure of the backend itself (commit failed, disk full) fails
// every operation of the batch, and then nothing of the batch was written.
// MDB_MAP_FULL is handled here: abort, grow the map, run the batch again.
//
// Reads (get, list_versions, list_keys, list_stores) run in their own read
// transactions and never wait for a writer.
//
// Thread safety: apply_batch and prune may be called from one thread at a time
// (the backend serialises writers anyway); reads from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "profilestore/result.hpp"
#include "profilestore/store/backend.hpp"
#include "profilestore/store/limits.hpp"
#include "profilestore/store/ops.hpp"
#include "profilestore/store/record.hpp"
#include "profilestore/store/versions.hpp"

namespace profilestore {

struct storage_options {
  version_policy versions{};
  storage_limits limits{};
  // How many times one batch may grow the map and run again before giving
  // up with storage_full.
  int max_grow_attempts = 8;
  // How many keys' latest records (without Data) storage keeps decoded after
  // a save that keeps its session wrote them, so that the session's next
  // save reads nothing (record_cache.hpp in store/src); each holds a
  // record's metadata, user ids and queued messages (at most 4 KiB of them).
  // 0 turns it off. On the 2-core test machine 16384 raised save-throughput
  // by 11-17 % and left session-start as it was (docs/performance.md).
  std::size_t record_cache_entries = 16384;
};

// ---- operations -------------------------------------------------------------

struct start_session_op {
  std::string store;
  std::string key;
  start_session_request request;
  // Data of a new profile: an encoded map or array (shared, since one store's
  // template goes with every start).
  std::shared_ptr<const std::string> template_data;
};

struct save_op {
  std::string store;
  std::string key;
  save_request request;
};

// Several saves applied all or nothing (profilestore's `transact`): if any of
// them is refused, none is written and the group fails with that error. Keys
// must be distinct.
struct save_group_op {
  std::string store;
  std::vector<save_op> saves; // each save's own store must equal `store`
};

struct message_op {
  std::string store;
  std::string key;
  message_request request;
};

struct set_op {
  std::string store;
  std::string key;
  set_request request;
};

struct remove_op {
  std::string store;
  std::string key;
};

// ProfileService's senders: add, change or clear active global updates
// (ops.hpp, rules U1-U4).
struct edit_updates_op {
  std::string store;
  std::string key;
  edit_updates_request request;
};

// New alternatives go at the end: the index is part of the wire format.
using operation
  = std::variant<start_session_op, save_op, save_group_op, message_op, set_op,
                 remove_op, edit_updates_op>;

// The bytes `op` carries (names, Data, messages, metadata, a template): about
// what it adds to a transaction. A message or an edit of the queue rewrites
// its key's whole record, which this does not count.
std::size_t payload_bytes(const operation& op) noexcept;

using op_reply = std::variant<start_session_reply, save_reply,
                              std::vector<save_reply>, message_reply, set_reply,
                              remove_reply, edit_updates_reply>;

struct applied_op {
  op_reply reply;
  // The version written by this operation (the last one for a group).
  std::optional<key_info> written;
  // save_group_op: the version written for each save, in the group's order.
  std::vector<key_info> group_written;
};

// ---- reads ------------------------------------------------------------------

struct read_reply {
  // The record, or a fresh one when the stored bytes were corrupt (with
  // `overwritten` set and was_overwritten = true). For a removed key or an
  // absent version, get() returns std::nullopt instead.
  record rec;
  key_info info;
  bool overwritten = false;
};

class record_cache;

class storage {
public:
  storage(backend& b, storage_options options = {});
  ~storage();
  storage(storage&&) noexcept;

  std::vector<result<applied_op>> apply_batch(const std::vector<operation>& ops,
                                              std::int64_t now);
  result<applied_op> apply(const operation& op, std::int64_t now);

  // The latest version, or `version`. std::nullopt when the key is absent or
  // removed (a tombstone), or the version does not exist or is a tombstone.
  // unsupported_format when written by a newer format. `template_data` shapes
  // the fresh record returned for corrupt bytes (empty map when null).
  result<std::optional<read_reply>>
  get(std::string_view store, std::string_view key,
      std::optional<std::uint64_t> version = std::nullopt,
      const std::string* template_data = nullptr) const;

  // Paging limits (query.limit, limit, max_versions, max_keys) must be at
  // least 1; 0 is invalid_argument.
  result<version_page> list_versions(std::string_view store,
                                     std::string_view key,
                                     const version_query& query) const;
  result<key_listing> list_keys(std::string_view store,
                                std::string_view prefix = {},
                                std::string_view after = {},
                                std::size_t limit = 1000,
                                bool include_removed = false) const;
  result<std::vector<std::string>> list_stores() const;

  // One bounded pruning step over all keys (versions.hpp rule 3) in its own
  // durable transaction.
  result<prune_progress> prune(std::int64_t now, std::string_view resume_after,
                               std::size_t max_versions = 1000,
                               std::size_t max_keys = 10'000);

  const storage_options& options() const noexcept { return options_; }
  backend& get_backend() const noexcept { return backend_; }

private:
  backend& backend_;
  storage_options options_;
  // Templates that passed the Data checks, newest last (the last 16; see
  // storage.cpp). A store's template goes with every start of that store,
  // so it is walked once rather than once per start. Compared by content,
  // since a start from another node brings its own copy. Touched only by
  // apply_batch (one thread at a time).
  std::vector<std::string> checked_templates_;
  // The records this storage wrote last (record_cache.hpp). Touched only by
  // apply_batch.
  std::unique_ptr<record_cache> cache_;
};

} // namespace profilestore
