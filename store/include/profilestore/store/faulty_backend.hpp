// faulty_backend: wraps another backend and injects failures on demand, so
// that storage and actor tests can fail a commit, fill the map or slow the
// disk at will (the leveldb Env idea).
//
// Injected failures behave exactly like real ones: a failed commit leaves no
// trace (the inner transaction is aborted), a map_full put makes the caller
// abort, grow() and retry. All settings may change at any time from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "profilestore/store/backend.hpp"

namespace profilestore {

class faulty_backend final : public backend {
public:
  // Does not own `inner` when given a reference; owns it when given a
  // unique_ptr.
  explicit faulty_backend(backend& inner);
  explicit faulty_backend(std::unique_ptr<backend> inner);
  ~faulty_backend() override;

  // The next `n` commits fail with `code` (storage_error by default) and write
  // nothing. `n` = unlimited keeps failing until set back to 0.
  static constexpr std::uint64_t unlimited = ~std::uint64_t{0};
  void fail_commits(std::uint64_t n, errc code = errc::storage_error);
  // The next `n` puts fail with map_full, once `after` more have gone
  // through (to fail a batch part-way).
  void map_full_puts(std::uint64_t n, std::uint64_t after = 0);
  // The same with any error code (errc::internal stands for an allocation
  // failure inside the backend, for instance).
  void fail_puts(std::uint64_t n, errc code, std::uint64_t after = 0);
  // The next `n` calls to begin_read/begin_write fail with `code`
  // (unreachable storage, reader slots full, ...).
  void fail_begins(std::uint64_t n, errc code = errc::storage_error);
  // Every commit sleeps this long before committing (benchmarks only; tests
  // on the deterministic scheduler never use it).
  void commit_latency(std::chrono::microseconds latency);
  // Clears every injection.
  void heal();

  // Counters of injected failures.
  std::uint64_t injected_commit_failures() const noexcept;
  std::uint64_t injected_map_full() const noexcept;
  // How many gets write transactions have made (a test can tell whether an
  // operation read its key or knew it already).
  std::uint64_t write_transaction_gets() const noexcept;

  result<std::unique_ptr<read_transaction>> begin_read() override;
  result<std::unique_ptr<write_transaction>> begin_write() override;
  result<void> grow() override;
  bool durable() const noexcept override;
  backend_stats stats() const override;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace profilestore
