// The administration protocol of a storage node (profilectl --connect).
//
// An administration tool joins the storage endpoint like a game node
// (join_atom with the wire version; it gets the writer and the reader) and
// then uses three requests besides the ordinary ones:
//
//   reader:  (admin_scan_request)            -> admin_scan_page
//            (admin_atom, info_atom)         -> std::uint64_t map size
//   writer:  (admin_write_request)           -> admin_write_reply
//            (admin_prune_request)           -> admin_prune_reply
//
// Contracts:
//  - A scan is one bounded page of one backend table, read in its own read
//    transaction on the reader (never behind a commit): at most max_entries
//    entries and about max_bytes bytes (at least one entry when there is one,
//    so a single large value still moves). Pages of one walk come from
//    different transactions: a walk is consistent page by page, not as a
//    whole.
//  - A write request runs on the writer, after every write queued before it
//    (mailbox order), as one all-or-nothing transaction
//    (store/atomic_batch.hpp) with the storage node's clock; the owners of
//    the keys are told as for the same operations sent one by one. It carries
//    set_op, message_op and remove_op only: session operations belong to game
//    nodes.
//  - A prune request is one bounded pruning step on the writer, its own
//    durable transaction (storage::prune), with the node's retention or the
//    one given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "profilestore/store/backend.hpp"
#include "profilestore/store/storage.hpp"

namespace profilestore {

// Where a scan starts, and its direction.
enum class scan_from : std::uint8_t {
  at_or_after = 0, // forward from the first key >= key
  after = 1,       // forward from the first key > key
  before = 2,      // backward from the last key < key
  last = 3,        // backward from the last key of the table (key unused)
};

struct admin_scan_request {
  table tab = table::heads;
  scan_from from = scan_from::at_or_after;
  std::string key;
  std::uint32_t max_entries = 256;
  std::uint32_t max_bytes = 1u << 20;
};

// Entries in scan order (ascending for forward scans, descending for
// backward ones). `complete`: the scan reached the end of the table in its
// direction (no further page holds anything).
struct admin_scan_page {
  std::vector<std::pair<std::string, std::string>> entries;
  bool complete = false;
};

// Largest page a storage node sends, whatever the request asks: bounds the
// memory of one reply on both sides.
inline constexpr std::uint32_t max_scan_entries = 4096;
inline constexpr std::uint32_t max_scan_bytes = 8u << 20;

struct admin_write_request {
  std::vector<operation> ops; // set_op, message_op, remove_op only
};

// Either every operation's result, or the first refused one (its index, or
// ops.size() when the backend itself failed) and why; then nothing was
// written.
struct admin_write_failure {
  std::uint64_t index = 0;
  errc code = errc::internal;
  std::string message;
};

struct admin_write_reply {
  std::vector<applied_op> applied;
  std::optional<admin_write_failure> failure;
};

struct admin_prune_request {
  std::string resume_after;
  // Milliseconds; 0 keeps the storage node's own retention.
  std::int64_t retention_ms = 0;
  std::uint64_t max_versions = 1000;
  std::uint64_t max_keys = 10'000;
};

struct admin_prune_reply {
  prune_progress progress;
  std::int64_t retention_ms = 0; // the retention the step applied
};

// The work behind each request, for the store actors (admin_ops.cpp). They
// take the storage by reference and run in the calling actor's thread.
result<admin_scan_page> admin_scan(backend& b, const admin_scan_request& req);
admin_write_reply admin_write(storage& st, const admin_write_request& req,
                              std::int64_t now);
result<admin_prune_reply> admin_prune(storage& st,
                                      const admin_prune_request& req,
                                      std::int64_t now);

} // namespace profilestore
