// memory_backend: the backend contracts (backend.hpp) on std::map, for mock
// stores and tests that need no disk.
//
// Committed data lives in one sorted map per table under a mutex. A write
// transaction buffers its puts and deletes in its own "pending" maps and
// applies them at commit, so a transaction that never commits leaves no
// trace; its reads and cursors see the pending writes over the committed
// data. Read transactions see committed data as of each call and copy what
// they hand out, so a concurrent commit never invalidates a view.
//
// std::map<std::string, ...> orders keys by char_traits<char>::compare, which
// compares as unsigned bytes like memcmp and puts a prefix first: the same
// order as LMDB.
#include "profilestore/store/memory_backend.hpp"

#include <array>
#include <condition_variable>
#include <deque>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "exception_boundary.hpp"

namespace profilestore {

namespace {

using detail::without_exceptions;

using committed_table = std::map<std::string, std::string, std::less<>>;
// A pending write: a value to store, or std::nullopt to delete the key.
using pending_table
  = std::map<std::string, std::optional<std::string>, std::less<>>;

std::size_t index_of(table t) noexcept { return static_cast<std::size_t>(t); }

bool storable_key(std::string_view key) noexcept {
  return !key.empty() && key.size() <= max_backend_key_bytes;
}

// The bytes an entry counts against memory_options::capacity_bytes.
std::size_t entry_bytes(std::string_view key, std::string_view value) noexcept {
  return key.size() + value.size();
}

error ended_transaction_error() {
  return error{errc::internal, "write transaction used after commit"};
}

// A copy of one entry of the merged view, taken under the lock.
struct entry_copy {
  std::string key;
  std::string value;
};

// Walks committed and pending entries together in the order `comes_first`
// (std::less forwards, std::greater backwards) and returns the first live
// entry: a pending write shadows the committed entry of the same key, and a
// pending delete hides it.
template <class CommittedIt, class PendingIt, class ComesFirst>
std::optional<entry_copy> first_live(CommittedIt c, CommittedIt c_end,
                                     PendingIt p, PendingIt p_end,
                                     ComesFirst comes_first) {
  for (;;) {
    const bool committed_left = c != c_end;
    if (p == p_end) {
      if (!committed_left)
        return std::nullopt;
      return entry_copy{c->first, c->second};
    }
    if (committed_left && comes_first(c->first, p->first))
      return entry_copy{c->first, c->second};
    if (committed_left && c->first == p->first)
      ++c;
    if (p->second)
      return entry_copy{p->first, *p->second};
    ++p;
  }
}

std::optional<entry_copy> first_at_or_after(const committed_table& committed,
                                            const pending_table& pending,
                                            std::string_view key) {
  return first_live(committed.lower_bound(key), committed.end(),
                    pending.lower_bound(key), pending.end(), std::less<>{});
}

std::optional<entry_copy> first_after(const committed_table& committed,
                                      const pending_table& pending,
                                      std::string_view key) {
  return first_live(committed.upper_bound(key), committed.end(),
                    pending.upper_bound(key), pending.end(), std::less<>{});
}

std::optional<entry_copy> last_entry(const committed_table& committed,
                                     const pending_table& pending) {
  return first_live(committed.rbegin(), committed.rend(), pending.rbegin(),
                    pending.rend(), std::greater<>{});
}

std::optional<entry_copy> last_before(const committed_table& committed,
                                      const pending_table& pending,
                                      std::string_view key) {
  return first_live(std::make_reverse_iterator(committed.lower_bound(key)),
                    committed.rend(),
                    std::make_reverse_iterator(pending.lower_bound(key)),
                    pending.rend(), std::greater<>{});
}

// What read transactions merge with: nothing.
const pending_table& no_pending_writes() {
  static const pending_table empty;
  return empty;
}

} // namespace

struct memory_backend::impl {
  explicit impl(const memory_options& options)
    : capacity_bytes(options.capacity_bytes),
      max_capacity_bytes(options.max_capacity_bytes) {}

  mutable std::mutex mutex;
  // Signalled when the open write transaction ends.
  std::condition_variable writer_ended;

  // Guarded by mutex.
  std::array<committed_table, table_count> committed;
  std::size_t committed_bytes = 0;
  std::size_t capacity_bytes;
  bool writer_open = false;
  std::uint64_t commits = 0;
  std::uint64_t grows = 0;

  // Constant after construction.
  const std::size_t max_capacity_bytes;
};

namespace {

using backend_impl = memory_backend::impl;

// A cursor over one table: committed data merged with the pending writes of
// its write transaction (none for a read transaction). It remembers a copy of
// its current entry and finds the neighbour afresh at every move, so commits
// in between never leave it pointing at freed memory.
class memory_cursor final : public cursor {
public:
  memory_cursor(std::shared_ptr<backend_impl> owner, table t,
                const pending_table& pending)
    : owner_(std::move(owner)), table_(t), pending_(pending) {}

  result<void> seek(std::string_view key) override {
    return move_to([&](const committed_table& c, const pending_table& p) {
      return first_at_or_after(c, p, key);
    });
  }
  result<void> first() override {
    return move_to([](const committed_table& c, const pending_table& p) {
      return first_at_or_after(c, p, std::string_view{});
    });
  }
  result<void> last() override {
    return move_to([](const committed_table& c, const pending_table& p) {
      return last_entry(c, p);
    });
  }
  result<void> next() override {
    if (!current_)
      return {};
    return move_to([this](const committed_table& c, const pending_table& p) {
      return first_after(c, p, current_->key);
    });
  }
  result<void> prev() override {
    if (!current_)
      return {};
    return move_to([this](const committed_table& c, const pending_table& p) {
      return last_before(c, p, current_->key);
    });
  }

  bool valid() const noexcept override { return current_.has_value(); }
  std::string_view key() const noexcept override { return current_->key; }
  std::string_view value() const noexcept override { return current_->value; }

private:
  template <class Find>
  result<void> move_to(Find&& find) {
    return without_exceptions([&]() -> result<void> {
      std::optional<entry_copy> found;
      {
        std::lock_guard<std::mutex> lock(owner_->mutex);
        found = find(owner_->committed[index_of(table_)], pending_);
      }
      current_ = std::move(found);
      return {};
    });
  }

  std::shared_ptr<backend_impl> owner_;
  table table_;
  const pending_table& pending_;
  std::optional<entry_copy> current_;
};

class memory_read_transaction final : public read_transaction {
public:
  explicit memory_read_transaction(std::shared_ptr<backend_impl> owner)
    : owner_(std::move(owner)) {}

  result<std::optional<std::string_view>> get(table t,
                                               std::string_view key) override {
    return without_exceptions(
      [&]() -> result<std::optional<std::string_view>> {
        std::lock_guard<std::mutex> lock(owner_->mutex);
        const committed_table& committed = owner_->committed[index_of(t)];
        auto found = committed.find(key);
        if (found == committed.end())
          return std::optional<std::string_view>{};
        return std::optional<std::string_view>{
          handed_out_.emplace_back(found->second)};
      });
  }

  result<std::unique_ptr<cursor>> open_cursor(table t) override {
    return without_exceptions([&]() -> result<std::unique_ptr<cursor>> {
      return std::unique_ptr<cursor>(
        std::make_unique<memory_cursor>(owner_, t, no_pending_writes()));
    });
  }

private:
  std::shared_ptr<backend_impl> owner_;
  // Every value get() returned, kept so its view lives as long as the
  // transaction (contract 4). A deque never moves its elements.
  std::deque<std::string> handed_out_;
};

class memory_write_transaction final : public write_transaction {
public:
  // Blocks until no other write transaction is open.
  explicit memory_write_transaction(std::shared_ptr<backend_impl> owner)
    : owner_(std::move(owner)) {
    std::unique_lock<std::mutex> lock(owner_->mutex);
    owner_->writer_ended.wait(lock, [this] { return !owner_->writer_open; });
    owner_->writer_open = true;
    total_bytes_ = owner_->committed_bytes;
    id_ = owner_->commits + 1;
  }

  ~memory_write_transaction() override {
    if (open_)
      end();
  }

  result<std::optional<std::string_view>> get(table t,
                                               std::string_view key) override {
    return without_exceptions(
      [&]() -> result<std::optional<std::string_view>> {
        if (!open_)
          return ended_transaction_error();
        return current_value(t, key);
      });
  }

  result<std::unique_ptr<cursor>> open_cursor(table t) override {
    return without_exceptions([&]() -> result<std::unique_ptr<cursor>> {
      if (!open_)
        return ended_transaction_error();
      return std::unique_ptr<cursor>(
        std::make_unique<memory_cursor>(owner_, t, pending_[index_of(t)]));
    });
  }

  result<void> put(table t, std::string_view key,
                   std::string_view value) override {
    return without_exceptions([&]() -> result<void> {
      if (!open_)
        return ended_transaction_error();
      if (!storable_key(key))
        return error{errc::invalid_argument,
                     "key of " + std::to_string(key.size())
                       + " bytes cannot be stored (keys are 1.."
                       + std::to_string(max_backend_key_bytes) + " bytes)"};
      PROFILESTORE_TRY(reserve(t, key, value));
      pending_[index_of(t)].insert_or_assign(std::string(key),
                                             std::string(value));
      return {};
    });
  }

  result<void> del(table t, std::string_view key) override {
    return without_exceptions([&]() -> result<void> {
      if (!open_)
        return ended_transaction_error();
      if (!storable_key(key))
        return {};
      PROFILESTORE_TRY(reserve(t, key, std::nullopt));
      pending_[index_of(t)].insert_or_assign(std::string(key), std::nullopt);
      return {};
    });
  }

  result<void> commit() override {
    return without_exceptions([&]() -> result<void> {
      if (!open_)
        return ended_transaction_error();
      {
        std::lock_guard<std::mutex> lock(owner_->mutex);
        apply_pending_writes();
        owner_->committed_bytes = total_bytes_;
        ++owner_->commits;
      }
      end();
      return {};
    });
  }

  std::uint64_t id() const noexcept override { return id_; }

private:
  // The value `key` has in this transaction's view: pending, then committed.
  // A committed value may be returned by reference: only this transaction
  // changes committed data, and only when it commits.
  std::optional<std::string_view> current_value(table t,
                                                std::string_view key) {
    const pending_table& pending = pending_[index_of(t)];
    if (auto written = pending.find(key); written != pending.end()) {
      if (!written->second)
        return std::nullopt;
      return std::string_view{*written->second};
    }
    std::lock_guard<std::mutex> lock(owner_->mutex);
    const committed_table& committed = owner_->committed[index_of(t)];
    auto found = committed.find(key);
    if (found == committed.end())
      return std::nullopt;
    return std::string_view{found->second};
  }

  // Accounts for replacing the entry under `key` by `value` (or deleting
  // it), failing with map_full when that would pass the capacity.
  result<void> reserve(table t, std::string_view key,
                       std::optional<std::string_view> value) {
    const auto old_value = current_value(t, key);
    const std::size_t old_bytes = old_value ? entry_bytes(key, *old_value) : 0;
    const std::size_t new_bytes = value ? entry_bytes(key, *value) : 0;
    const std::size_t total = total_bytes_ - old_bytes + new_bytes;
    std::size_t capacity = 0;
    {
      std::lock_guard<std::mutex> lock(owner_->mutex);
      capacity = owner_->capacity_bytes;
    }
    if (capacity != 0 && total > capacity)
      return error{errc::map_full,
                   "memory backend capacity of " + std::to_string(capacity)
                     + " bytes reached by put into " + std::string(to_string(t))
                     + " (abort, grow() and retry)"};
    total_bytes_ = total;
    return {};
  }

  // REQUIRES: owner_->mutex is held.
  void apply_pending_writes() {
    for (std::size_t i = 0; i < table_count; ++i) {
      committed_table& committed = owner_->committed[i];
      for (auto& [key, value] : pending_[i]) {
        if (value)
          committed.insert_or_assign(key, std::move(*value));
        else
          committed.erase(key);
      }
      pending_[i].clear();
    }
  }

  // Releases the writer slot. Runs exactly once per transaction.
  void end() noexcept {
    open_ = false;
    {
      std::lock_guard<std::mutex> lock(owner_->mutex);
      owner_->writer_open = false;
    }
    owner_->writer_ended.notify_one();
  }

  std::shared_ptr<backend_impl> owner_;
  std::array<pending_table, table_count> pending_;
  // Key and value bytes of every entry in this transaction's view.
  std::size_t total_bytes_ = 0;
  std::uint64_t id_ = 0; // contract 9: one past the commits before it
  bool open_ = true;
};

} // namespace

memory_backend::memory_backend(memory_options options)
  : impl_(std::make_shared<impl>(options)) {}

memory_backend::~memory_backend() = default;

result<std::unique_ptr<read_transaction>> memory_backend::begin_read() {
  return without_exceptions([&]() -> result<std::unique_ptr<read_transaction>> {
    return std::unique_ptr<read_transaction>(
      std::make_unique<memory_read_transaction>(impl_));
  });
}

result<std::unique_ptr<write_transaction>> memory_backend::begin_write() {
  return without_exceptions(
    [&]() -> result<std::unique_ptr<write_transaction>> {
      return std::unique_ptr<write_transaction>(
        std::make_unique<memory_write_transaction>(impl_));
    });
}

// Without a capacity there is nothing to grow: success, not counted.
result<void> memory_backend::grow() {
  return without_exceptions([&]() -> result<void> {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    std::size_t& capacity = impl_->capacity_bytes;
    const std::size_t limit = impl_->max_capacity_bytes;
    if (capacity == 0)
      return {};
    if (limit != 0 && capacity >= limit)
      return error{errc::storage_full, "memory backend capacity limit of "
                                         + std::to_string(limit)
                                         + " bytes reached"};
    const std::size_t most = limit != 0
                               ? limit
                               : std::numeric_limits<std::size_t>::max();
    capacity = capacity > most / 2 ? most : capacity * 2;
    ++impl_->grows;
    return {};
  });
}

backend_stats memory_backend::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  backend_stats s;
  s.commits = impl_->commits;
  s.grows = impl_->grows;
  s.map_size = impl_->capacity_bytes;
  return s;
}

} // namespace profilestore
