// backend: the ordered, transactional key-value seam under the versioned store.
//
// A backend holds a few named tables of byte keys to byte values, sorted
// bytewise (memcmp order, shorter first on a common prefix), and offers
// transactions: any number of readers, one writer at a time. Versioning,
// records and session rules live above it (versions.hpp, storage.hpp), written
// once for every backend:
//   lmdb_backend    durable, embedded (lmdb_backend.hpp)
//   memory_backend  in-process, for mocks and tests (memory_backend.hpp)
//   faulty_backend  wraps another and injects failures (faulty_backend.hpp)
//
// Contracts every backend keeps (the tests in tests/store/backend_test.cpp
// hold each one to them):
//  1. A committed write transaction is durable when commit() returns ok (for
//     backends that persist) and visible to transactions begun afterwards.
//  2. A write transaction that is destroyed or aborted without a successful
//     commit leaves no trace. A failed commit() leaves no trace either.
//  3. A write transaction sees its own writes.
//  4. Views (std::string_view) returned by get() and by cursors stay valid
//     until the next put/del in the same transaction, the next move of that
//     cursor, or the end of the transaction, whichever comes first.
//  5. put() may fail with errc::map_full: the caller must abort the
//     transaction, call grow(), and run the whole transaction again.
//  6. Transactions are not thread-safe objects: use each one from one thread
//     at a time. A write transaction must begin and end on one thread (LMDB's
//     rule). Read transactions may move between threads (LMDB: MDB_NOTLS).
//  7. Keys are 1..max_backend_key_bytes bytes (LMDB's limit, kept by every
//     backend so that a mock refuses what LMDB would). put() fails with
//     invalid_argument outside that range; get(), del() and seek() accept
//     any key (one that cannot be stored is simply absent).
//  8. Cursors (and views from them) must not outlive their transaction.
//  9. Write transactions are numbered: id() is one more than the id of the
//     last write transaction that committed a write on the backend (by any
//     writer, in any process). An aborted one or a failed commit uses no
//     number, so the next write transaction has the same id. A commit that
//     wrote nothing may leave its number unused (LMDB does) or use it (the
//     memory backend does). Storage relies on this to notice writes it did
//     not make (store/src/record_cache.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "profilestore/result.hpp"

namespace profilestore {

// The tables of the storage layout (see docs/format.md).
enum class table : std::uint8_t {
  versions = 0, // store \0 key \0 be64(version) -> version entry
  heads = 1,    // store \0 key -> head entry (latest version, times)
  nodes = 2,    // node name -> directory entry (address, incarnation, lease)
  meta = 3,     // layout metadata ("layout_version" -> be32)
};
inline constexpr std::size_t table_count = 4;
std::string_view to_string(table t) noexcept;

// The longest key a backend stores (contract 7).
inline constexpr std::size_t max_backend_key_bytes = 511;

// A position in one table. Starts unpositioned (valid() == false).
class cursor {
public:
  virtual ~cursor() = default;

  // Positions at the first key >= `key`.
  virtual result<void> seek(std::string_view key) = 0;
  virtual result<void> first() = 0;
  virtual result<void> last() = 0;
  // Move one key on or back. On an invalid cursor they do nothing: a cursor
  // that ran off either end stays invalid until seek(), first() or last().
  virtual result<void> next() = 0;
  virtual result<void> prev() = 0;

  // False when unpositioned or moved past either end.
  virtual bool valid() const noexcept = 0;
  // REQUIRES: valid().
  virtual std::string_view key() const noexcept = 0;
  virtual std::string_view value() const noexcept = 0;
};

class read_transaction {
public:
  virtual ~read_transaction() = default;

  // std::nullopt when the key is absent.
  virtual result<std::optional<std::string_view>> get(table t,
                                                       std::string_view key)
    = 0;
  virtual result<std::unique_ptr<cursor>> open_cursor(table t) = 0;
};

class write_transaction : public read_transaction {
public:
  // Values may be empty. May fail with errc::map_full (see contract 5).
  virtual result<void> put(table t, std::string_view key,
                           std::string_view value)
    = 0;
  // Deleting an absent key is not an error.
  virtual result<void> del(table t, std::string_view key) = 0;
  // Makes every write durable and visible, or none of them. Ends the
  // transaction either way; may fail with map_full, storage_full or
  // storage_error.
  virtual result<void> commit() = 0;
  // This transaction's number (contract 9).
  virtual std::uint64_t id() const noexcept = 0;
};

struct backend_stats {
  std::uint64_t commits = 0;        // successful write commits
  std::uint64_t failed_commits = 0; // commits that returned an error
  std::uint64_t grows = 0;          // map size increases
  std::size_t map_size = 0;         // current map size (0 when unbounded)
};

class backend {
public:
  virtual ~backend() = default;

  virtual result<std::unique_ptr<read_transaction>> begin_read() = 0;
  // Blocks while another write transaction of this backend is open (in this
  // process or, for LMDB, in another process on the same environment).
  virtual result<std::unique_ptr<write_transaction>> begin_write() = 0;

  // Makes room after errc::map_full. REQUIRES: the calling thread holds no
  // transaction of this backend. Fails with storage_full when the configured
  // maximum size is reached.
  virtual result<void> grow() = 0;

  // True when writes are durable across process crashes.
  virtual bool durable() const noexcept = 0;

  virtual backend_stats stats() const = 0;
};

} // namespace profilestore
