// storage_link: how profilectl's writes and storage facts reach a storage,
// with two implementations: the local LMDB folder (--db DIR) and a running
// storage node (--connect HOST:PORT). Reads go through the store layer on a
// backend (database.hpp: lmdb_backend, or remote_backend for a node), so the
// command code is the same for both.
//
// Contracts:
//  - write_all_or_nothing writes every operation in one durable transaction,
//    or none (store/atomic_batch.hpp). Locally it runs at `now` (this
//    machine's clock); on a node it runs on the node's writer, after the
//    writes queued there before it, at the node's clock, and the owners of
//    the keys are told as for the node's own writes.
//  - prune_step is one bounded pruning step in its own durable transaction.
//    retention_ms 0 keeps the storage's retention (profilectl's default
//    locally, the node's own remotely).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "profilestore/store/atomic_batch.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/storage.hpp"

namespace profilestore::ctl {

class node_connection;

struct pruned_step {
  prune_progress progress;
  std::int64_t retention_ms = 0; // the retention the step applied
};

struct storage_sizes {
  std::optional<std::uint64_t> data_file_bytes; // unknown over a connection
  std::uint64_t map_size = 0;
};

class storage_link {
public:
  virtual ~storage_link() = default;

  // "'DIR'" or "the storage node at HOST:PORT", for messages.
  virtual std::string where() const = 0;
  virtual bool remote() const noexcept = 0;

  virtual result<std::vector<applied_op>>
  write_all_or_nothing(const std::vector<operation>& ops, std::int64_t now,
                       atomic_batch_failure* failure)
    = 0;
  virtual result<pruned_step> prune_step(std::int64_t now,
                                         const std::string& resume_after,
                                         std::int64_t retention_ms)
    = 0;
  virtual result<storage_sizes> sizes() = 0;
};

// The local folder `dir` opened as `env` (which must outlive the link).
std::unique_ptr<storage_link> local_link(lmdb_backend& env,
                                         storage_options options,
                                         std::string dir);
// A running storage node.
std::unique_ptr<storage_link> remote_link(std::shared_ptr<node_connection> c);

} // namespace profilestore::ctl
