// apply_all_or_nothing: a batch of storage operations that is written
// entirely or not at all.
//
// storage::apply_batch commits the operations that succeeded even when others
// of the batch were refused: right for group commit, where the operations
// come from unrelated callers. An administrator's import or rollback wants
// the opposite: if any operation is refused, nothing is written. This runs
// the same apply_batch (so every session-lock, fencing and versioning rule of
// ops.hpp and versions.hpp holds) inside one write transaction whose commit
// is held back until every operation has succeeded, and aborted otherwise.
//
// Thread safety: like storage::apply_batch (one writer at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "profilestore/result.hpp"
#include "profilestore/store/backend.hpp"
#include "profilestore/store/storage.hpp"

namespace profilestore {

struct atomic_batch_failure {
  // The index of the first refused operation, or ops.size() when the backend
  // itself failed (commit, disk full).
  std::size_t index = 0;
  error err;
};

// Every operation's result when all succeeded and were committed in one
// durable transaction; otherwise the first failure, and nothing was written.
// `failure` may be null.
result<std::vector<applied_op>>
apply_all_or_nothing(backend& b, const storage_options& options,
                     const std::vector<operation>& ops, std::int64_t now,
                     atomic_batch_failure* failure = nullptr);

} // namespace profilestore
