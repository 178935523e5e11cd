// Shared pieces of the scenarios that run the actor runtime (save-throughput,
// session-start, idle-memory): a threaded CAF actor system, an LMDB-backed
// node with benchmark constants, a driver actor that starts many sessions
// from actor code, a clean and bounded shutdown, a watchdog, resident memory
// readings, and the raw LMDB baselines these scenarios compare against.
//
// Every wait here is bounded: a helper that runs out of time prints what it
// was waiting for and ends the process with status 1 (a benchmark that hangs
// would be worse than one that fails).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "bench.hpp"
#include "profilestore/actors/node.hpp"
#include "profilestore/store/lmdb_backend.hpp"

namespace profilestore::bench {

// Prints "error: <what>" and ends the process at once (status 1), without
// running destructors that could wait on actors.
[[noreturn]] void die(const std::string& what);

// Ends the process (status 1) if the enclosing scope takes longer than
// `limit`: the last line of defence against a wait nobody bounded (the actor
// system's destructor waits for every actor, for instance).
class watchdog {
public:
  watchdog(std::string what, std::chrono::seconds limit);
  ~watchdog();
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

private:
  std::string what_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Polls `done` every millisecond until it is true; dies naming `what` after
// `limit`.
void wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit,
                const std::string& what);

// A threaded actor system, quiet: work-stealing with the workers
// recommended_workers() gives a process that hosts storage (cores - 1, at
// least 1; store_actor.hpp), as profilestore-node uses, unless
// --param threads=N or policy=stealing|sharing say otherwise.
struct bench_config : caf::actor_system_config {
  explicit bench_config(const options& opts);
};

// Constants for benchmarks: auto-saves and retries far beyond the run, so
// nothing but the scenario's own work happens; generous request bounds.
constants bench_constants();

// A node on an LMDB environment in `dir` (default, durable sync), plus the
// store actors it writes through. stop() ends it cleanly: node shutdown
// (every session's final save) within `timeout`, then the node's and the
// store's actors, then waits (bounded) until no actor of the system runs.
class lmdb_runtime {
public:
  lmdb_runtime(caf::actor_system& sys, const std::string& dir,
               std::size_t map_size = std::size_t{1} << 30);
  ~lmdb_runtime();
  lmdb_runtime(const lmdb_runtime&) = delete;
  lmdb_runtime& operator=(const lmdb_runtime&) = delete;

  node& get_node() { return *node_; }
  const store_actors& storage() const { return storage_; }
  result<void> stop(std::chrono::seconds timeout);

private:
  caf::actor_system* sys_;
  store_actors storage_;
  std::unique_ptr<node> node_;
  bool stopped_ = false;
};

// What start_sessions() did.
struct started_sessions {
  std::vector<profile_handle> handles; // in the order of the keys
  // Milliseconds from each request to its reply (the profile is usable then).
  std::vector<double> latency_ms;
  std::size_t errors = 0;
  std::string first_error;
  double elapsed_s = 0; // first request to last reply
};

// Starts one session per key from an event-based driver actor with
// request(...).then(...): `window` requests in flight at a time (keys.size()
// sends them all at once). Dies when the whole batch is not answered within
// `limit`.
started_sessions start_sessions(caf::actor_system& sys, const caf::actor& node,
                                const store_spec_ptr& spec,
                                const std::vector<std::string>& keys,
                                std::size_t window, std::chrono::seconds limit);

// Ends every session of `profiles` at once from an event-based actor
// (end_atom: the final save is durable when each replies); the number that
// failed. Dies when not all are answered within `limit`.
std::size_t end_sessions(caf::actor_system& sys,
                         const std::vector<caf::actor>& profiles,
                         std::chrono::seconds limit);

// Durable commits the runtime's backend has made so far.
std::uint64_t backend_commits(const lmdb_runtime& rt);

// "<prefix>-000042": fixed width, so LMDB sees keys in ascending order.
std::string bench_key(const std::string& prefix, std::size_t i);

// Resident memory of this process in bytes, from /proc/self/status.
struct rss_reading {
  std::size_t total = 0; // VmRSS
  std::size_t anon = 0;  // RssAnon (heap, stacks, anonymous maps)
  std::size_t file = 0;  // RssFile (mapped files: code, LMDB's map)
};
rss_reading read_rss();

// CPU time (user + system, all threads) this process has used, in seconds.
double process_cpu_seconds();

// What this process has handed to write system calls so far: bytes (wchar
// in /proc/self/io) and calls (syscw), zeros when that cannot be read. LMDB
// writes its dirty pages with write calls, one call per run of adjacent
// pages, so differences over a run are what its commits wrote and in how
// many pieces.
struct write_counters {
  std::uint64_t bytes = 0;
  std::uint64_t calls = 0;
};
write_counters process_writes();

// What a run of raw puts wrote, per put.
struct raw_write_cost {
  double bytes_per_put = 0;
  double calls_per_put = 0;
};

// Gives free heap memory back to the system (malloc_trim), so that RSS
// readings show live memory.
void trim_heap();

// The p-quantile (0..1) of `samples` by nearest rank; sorts a copy.
double quantile(std::vector<double> samples, double p);

// Raw LMDB: `total` puts of `value` over `key_space` distinct keys (written
// once first, untimed, then overwritten in key order, or with a non-zero
// `shuffle_seed` in one fixed random order of all keys, as the saves of
// independent players arrive), `batch` per durable transaction; puts per
// second. With `cost`, also what the timed commits wrote (process_writes)
// per put.
double raw_lmdb_batch_rate(std::size_t key_space, std::size_t batch,
                           std::size_t total, const std::string& value,
                           std::uint64_t shuffle_seed = 0,
                           raw_write_cost* cost = nullptr);

// Raw LMDB: `count` transactions of one put of `value` under a new key, each
// committed durably; the latency of each (begin to commit returned) in ms.
std::vector<double> raw_lmdb_commit_latencies_ms(std::size_t count,
                                                 const std::string& value);

} // namespace profilestore::bench
