// record_cache: the records storage's saves wrote last, kept decoded, so that
// the next save skips reading and decoding what it is about to replace. Used
// when storage_options::record_cache_entries > 0 (the default).
//
// A save needs its key's head and record (without Data) to judge ownership
// and to write the next version. Reading them costs two B-tree lookups and a
// MessagePack decode, about half of a save's time in the store writer
// (measured in save-throughput). Storage just wrote these bytes itself, so it
// keeps the record it encoded (Data dropped) and the head it wrote.
//
// Correctness rests on three rules:
//  1. Entries written in a batch are visible at once to later operations of
//     the same batch; an aborted batch (or one that never ended, after an
//     exception) empties the whole cache (begin/stage/committed/aborted).
//     Aborts are rare (a failed commit, map full), and emptying costs one
//     read per key afterwards, where an undo log cost every save a copy of
//     the entry it replaced.
//  2. Every write of a key goes through stage() (the write of a save that
//     keeps its session) or forget() (any other write: a final save, a
//     start, a message, a set, a removal), so an entry
//     always holds what the key's latest version says.
//  3. Anyone else's write (another process on the same LMDB environment,
//     prune, a node lease, an admin batch) is noticed by the transaction id:
//     a write transaction numbered other than expected empties the cache
//     (backend.hpp, contract 9). Expected is one past the last batch this
//     cache saw commit, or that batch's own number when it wrote nothing
//     (LMDB does not use a number for an empty commit; on a backend that
//     does, the cache is merely emptied once more than needed).
// Bounded: at most `max_entries` keys, and only records whose encoding
// without Data is at most max_cached_record_bytes; when full, it starts over
// empty (cheap, and a miss only costs the read it would have cost anyway).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "profilestore/store/ops.hpp"
#include "profilestore/store/versions.hpp"

namespace profilestore {

class record_cache {
public:
  // A record bigger than this (without Data: queued messages, key metadata)
  // is not kept.
  static constexpr std::size_t max_cached_record_bytes = 4096;

  struct entry {
    head_entry head;
    current_record current; // current.rec has an empty Data
  };

  explicit record_cache(std::size_t max_entries) : max_entries_(max_entries) {}

  // A write transaction numbered `txn_id` began.
  void begin(std::uint64_t txn_id);
  // The entry of `key` of `store` as of this batch so far, or nullptr
  // (always, and without building a key, when the cache is off).
  const entry* find(std::string_view store, std::string_view key) const;
  // the key was written in this batch: its head and record are now
  // these. `rec.data` is dropped; `bytes_without_data` is the size of the
  // record's encoding less its Data, compared with max_cached_record_bytes.
  void stage(std::string_view store, std::string_view key,
             const head_entry& head, record rec,
             std::size_t bytes_without_data);
  // The key was written in a way the cache does not keep (a removal, a
  // write that failed half-way): its next save reads it.
  void forget(std::string_view store, std::string_view key);
  // The batch begun last committed (its writes stay) or was aborted (they
  // are undone).
  void committed();
  void aborted();

  bool enabled() const noexcept { return max_entries_ > 0; }

private:
  // The map key of `key` of `store` (heads_key's bytes), built in a buffer
  // kept for it, so that a lookup allocates nothing.
  const std::string& map_key(std::string_view store,
                             std::string_view key) const;

  std::size_t max_entries_;
  // The number the next write transaction has if nobody else commits first.
  std::optional<std::uint64_t> expected_next_;
  std::uint64_t current_txn_ = 0;
  bool in_batch_ = false;    // begin() without committed() or aborted()
  bool batch_wrote_ = false; // stage() or forget() since begin()
  std::unordered_map<std::string, entry> entries_;
  mutable std::string map_key_; // map_key's buffer
};

} // namespace profilestore
