// lmdb_backend: the durable backend, one LMDB environment in a directory.
//
// - The map size is set explicitly at open and doubled by grow() after
//   MDB_MAP_FULL (the storage layer aborts, grows and retries), up to
//   max_map_size. A map grown by another process on the same environment is
//   adopted transparently (MDB_MAP_RESIZED).
// - Read transactions use MDB_NOTLS, so actors may move between threads.
// - Default mode is fully durable (fsync at every commit). Other processes
//   on the same host may open the same directory at the same time (e.g. the
//   admin CLI read-only beside a running storage node); never use a network
//   filesystem.
// - Stale reader slots left by crashed processes are cleared at open.
//
// - Open each environment once per process: LMDB's locks are per process, and
//   closing a second handle on the same files would drop them for the first.
// - A write transaction holds LMDB's writer lock (shared with other
//   processes) from begin_write() to its end, and must begin and end on the
//   same thread. Read transactions may move between threads.
//
// Thread safety: the backend object is thread-safe; each transaction is used
// by one thread at a time (see backend.hpp). REQUIRES: every transaction and
// cursor ends before the backend is destroyed.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "profilestore/store/backend.hpp"

namespace profilestore {

struct lmdb_options {
  // Directory of the environment; created (with parents) when missing unless
  // read_only.
  std::string path;
  // Initial map size; raised to the size of an existing environment.
  std::size_t initial_map_size = std::size_t{64} << 20;
  // grow() fails with storage_full beyond this.
  std::size_t max_map_size = std::size_t{1} << 40;
  // Open without write access; begin_write() then fails with not_supported.
  bool read_only = false;
  // false trades the durability of the last transactions after an OS crash
  // for speed (MDB_NOSYNC); the environment stays consistent either way.
  // Benchmarks compare both; the default is durable.
  bool durable = true;
  unsigned max_readers = 126;
  // File mode of data.mdb and lock.mdb.
  unsigned file_mode = 0644;
};

class lmdb_backend final : public backend {
public:
  // Opens (creating when allowed) the environment and its tables. Fails with
  // storage_error naming the path and LMDB's reason, or unsupported_format
  // when the environment was written by a newer layout version. A read-only
  // open never creates anything: a missing directory, or an LMDB environment
  // without profilestore's tables and layout version, is a storage_error.
  static result<std::unique_ptr<lmdb_backend>> open(const lmdb_options& options);

  ~lmdb_backend() override;

  result<std::unique_ptr<read_transaction>> begin_read() override;
  result<std::unique_ptr<write_transaction>> begin_write() override;
  result<void> grow() override;
  bool durable() const noexcept override;
  backend_stats stats() const override;

  // The environment's directory, as given in lmdb_options::path.
  const std::string& path() const noexcept;

  struct impl;

private:
  explicit lmdb_backend(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// The layout version written into table::meta; an environment with a higher
// number is refused (docs/format.md says when it changes).
inline constexpr std::uint32_t storage_layout_version = 1;

} // namespace profilestore
