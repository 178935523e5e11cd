// memory_backend: an in-process backend for mock stores and tests.
//
// Same ordering and transaction contracts as lmdb_backend (backend.hpp), minus
// durability: everything is gone when the object is destroyed. Writes are
// buffered in the write transaction and applied at commit under a lock, so an
// uncommitted transaction leaves no trace. Reads see committed data as of each
// call (read-committed, not a snapshot): values are copied into the
// transaction or cursor, so a concurrent commit never invalidates a view.
//
// Thread safety: thread-safe; one write transaction at a time (begin_write
// blocks while another is open).
#pragma once

#include <cstddef>
#include <memory>

#include "profilestore/store/backend.hpp"

namespace profilestore {

struct memory_options {
  // When non-zero, a put that would take the total of key and value bytes
  // past this fails with map_full until grow() doubles it (so tests can
  // exercise the grow-and-retry path without LMDB).
  std::size_t capacity_bytes = 0;
  // grow() fails with storage_full beyond this (0: no limit).
  std::size_t max_capacity_bytes = 0;
};

class memory_backend final : public backend {
public:
  explicit memory_backend(memory_options options = {});
  ~memory_backend() override;

  result<std::unique_ptr<read_transaction>> begin_read() override;
  result<std::unique_ptr<write_transaction>> begin_write() override;
  result<void> grow() override;
  bool durable() const noexcept override { return false; }
  backend_stats stats() const override;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace profilestore
