// lmdb_txn_gate: keeps LMDB's map still while any transaction of this process
// is open.
//
// mdb_env_set_mapsize unmaps and remaps the file, so it may run only when no
// transaction of the process is open: every view a transaction handed out
// points into the map. The gate admits any number of transactions at once, or
// one remap (exclusive_hold) with none open.
//
// It is not a std::shared_mutex on purpose: a read transaction (MDB_NOTLS) may
// begin on one thread and end on another, and a shared_mutex must be unlocked
// by the thread that locked it. Here a transaction holds a gate_pass, which
// any thread may release.
//
// Fairness: a waiting remap holds back new transactions, otherwise a steady
// stream of overlapping readers could keep it waiting forever. It holds them
// back only for `remap_priority` though: a thread that already has a
// transaction open and begins another must not deadlock with a remap that
// waits for that very transaction.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>

namespace profilestore::detail {

class lmdb_txn_gate {
public:
  static constexpr std::chrono::milliseconds remap_priority{100};

  // Blocks while a remap runs, and for up to remap_priority while one waits.
  void enter() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, remap_priority, [this] {
      return remaps_waiting_ == 0 && !remapping_;
    });
    changed_.wait(lock, [this] { return !remapping_; });
    ++open_;
  }

  void leave() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    --open_;
    if (open_ == 0)
      changed_.notify_all();
  }

  // Waits until no transaction is open, then holds back new ones until
  // unlock_exclusive(). With a deadline, gives up (returns false, holding
  // nothing) when it passes first. REQUIRES without a deadline: the calling
  // thread holds no transaction (it would wait for itself forever).
  bool lock_exclusive(
    std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    ++remaps_waiting_;
    const auto may_remap = [this] { return open_ == 0 && !remapping_; };
    const bool acquired = deadline
                            ? changed_.wait_until(lock, *deadline, may_remap)
                            : (changed_.wait(lock, may_remap), true);
    --remaps_waiting_;
    remapping_ = acquired;
    if (!acquired)
      changed_.notify_all();
    return acquired;
  }

  void unlock_exclusive() noexcept {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      remapping_ = false;
    }
    changed_.notify_all();
  }

  std::size_t open_transactions() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return open_;
  }

private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  // Guarded by mutex_.
  std::size_t open_ = 0;
  std::size_t remaps_waiting_ = 0;
  bool remapping_ = false;
};

// Holds the gate exclusively from a successful lock_exclusive() to its end.
class exclusive_hold {
public:
  exclusive_hold(
    lmdb_txn_gate& gate,
    std::optional<std::chrono::steady_clock::time_point> deadline = {})
    : gate_(gate), held_(gate.lock_exclusive(deadline)) {}
  exclusive_hold(const exclusive_hold&) = delete;
  exclusive_hold& operator=(const exclusive_hold&) = delete;
  ~exclusive_hold() {
    if (held_)
      gate_.unlock_exclusive();
  }

  bool held() const noexcept { return held_; }

private:
  lmdb_txn_gate& gate_;
  bool held_;
};

// One admission through the gate, released when destroyed (by any thread).
class gate_pass {
public:
  gate_pass() = default;
  explicit gate_pass(lmdb_txn_gate& gate) : gate_(&gate) { gate.enter(); }
  gate_pass(gate_pass&& other) noexcept
    : gate_(std::exchange(other.gate_, nullptr)) {}
  gate_pass& operator=(gate_pass&& other) noexcept {
    if (this != &other) {
      release();
      gate_ = std::exchange(other.gate_, nullptr);
    }
    return *this;
  }
  gate_pass(const gate_pass&) = delete;
  gate_pass& operator=(const gate_pass&) = delete;
  ~gate_pass() { release(); }

  void release() noexcept {
    if (gate_ != nullptr)
      std::exchange(gate_, nullptr)->leave();
  }

private:
  lmdb_txn_gate* gate_ = nullptr;
};

} // namespace profilestore::detail
