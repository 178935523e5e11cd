// faulty_backend: another backend with failures injected on demand (see
// faulty_backend.hpp), so storage and actor tests can fail a commit, fill the
// map or slow the disk without a real disk misbehaving.
//
// Read transactions are the inner backend's own: nothing is injected into
// them after they began. Write transactions are wrapped so that put() and
// commit() can fail as LMDB would, leaving no trace. Every setting is an
// atomic because tests change them from other threads while transactions run.
#include "profilestore/store/faulty_backend.hpp"

#include <atomic>
#include <thread>
#include <utility>

#include "exception_boundary.hpp"

namespace profilestore {

namespace {

using detail::without_exceptions;

// A number of injections still to make; `faulty_backend::unlimited` never
// runs out.
class injection_budget {
public:
  void set(std::uint64_t n) noexcept { left_.store(n); }

  // True when this call should fail; uses up one injection.
  bool take() noexcept {
    std::uint64_t left = left_.load();
    while (left != 0) {
      if (left == faulty_backend::unlimited)
        return true;
      if (left_.compare_exchange_weak(left, left - 1))
        return true;
    }
    return false;
  }

private:
  std::atomic<std::uint64_t> left_{0};
};

error ended_transaction_error() {
  return error{errc::internal, "write transaction used after commit"};
}

} // namespace

struct faulty_backend::impl {
  explicit impl(backend& b) : inner(b) {}
  explicit impl(std::unique_ptr<backend> b) : owned(std::move(b)), inner(*owned) {}

  // Constant after construction.
  std::unique_ptr<backend> owned;
  backend& inner;

  // Settings, changed from any thread at any time.
  injection_budget commit_failures;
  std::atomic<errc> commit_failure_code{errc::storage_error};
  injection_budget map_full_puts; // failed puts, map_full or put_failure_code
  injection_budget map_full_skips; // puts that go through first
  std::atomic<errc> put_failure_code{errc::map_full};
  injection_budget begin_failures;
  std::atomic<errc> begin_failure_code{errc::storage_error};
  std::atomic<std::chrono::microseconds::rep> commit_latency_us{0};

  // Counters.
  std::atomic<std::uint64_t> injected_commit_failures{0};
  std::atomic<std::uint64_t> injected_map_full{0};
  std::atomic<std::uint64_t> write_transaction_gets{0};

  // The error to return from a begin_* call, if one is due.
  std::optional<error> injected_begin_failure(std::string_view what) {
    if (!begin_failures.take())
      return std::nullopt;
    return error{begin_failure_code.load(),
                 "injected failure to begin a " + std::string(what)
                   + " transaction (faulty_backend)"};
  }
};

namespace {

class faulty_write_transaction final : public write_transaction {
public:
  faulty_write_transaction(std::shared_ptr<faulty_backend::impl> owner,
                           std::unique_ptr<write_transaction> inner)
    : owner_(std::move(owner)), inner_(std::move(inner)) {}

  result<std::optional<std::string_view>> get(table t,
                                               std::string_view key) override {
    return without_exceptions(
      [&]() -> result<std::optional<std::string_view>> {
        if (!inner_)
          return ended_transaction_error();
        ++owner_->write_transaction_gets;
        return inner_->get(t, key);
      });
  }

  result<std::unique_ptr<cursor>> open_cursor(table t) override {
    return without_exceptions([&]() -> result<std::unique_ptr<cursor>> {
      if (!inner_)
        return ended_transaction_error();
      return inner_->open_cursor(t);
    });
  }

  result<void> put(table t, std::string_view key,
                   std::string_view value) override {
    return without_exceptions([&]() -> result<void> {
      if (!inner_)
        return ended_transaction_error();
      if (!owner_->map_full_skips.take() && owner_->map_full_puts.take()) {
        const errc code = owner_->put_failure_code.load();
        if (code != errc::map_full)
          return error{code, "injected failure of a put into "
                               + std::string(to_string(t))
                               + " (faulty_backend)"};
        ++owner_->injected_map_full;
        return error{errc::map_full,
                     "injected map full on put into "
                       + std::string(to_string(t))
                       + " (faulty_backend; abort, grow() and retry)"};
      }
      return inner_->put(t, key, value);
    });
  }

  result<void> del(table t, std::string_view key) override {
    return without_exceptions([&]() -> result<void> {
      if (!inner_)
        return ended_transaction_error();
      return inner_->del(t, key);
    });
  }

  // An injected failure aborts the inner transaction, so it leaves no trace
  // exactly like a real failed commit.
  result<void> commit() override {
    return without_exceptions([&]() -> result<void> {
      if (!inner_)
        return ended_transaction_error();
      const auto latency
        = std::chrono::microseconds(owner_->commit_latency_us.load());
      if (latency.count() > 0)
        std::this_thread::sleep_for(latency);
      std::unique_ptr<write_transaction> inner = std::move(inner_);
      if (owner_->commit_failures.take()) {
        inner.reset();
        ++owner_->injected_commit_failures;
        return error{owner_->commit_failure_code.load(),
                     "injected commit failure (faulty_backend): nothing "
                     "was written"};
      }
      return inner->commit();
    });
  }

  std::uint64_t id() const noexcept override {
    return inner_ ? inner_->id() : 0;
  }

private:
  std::shared_ptr<faulty_backend::impl> owner_;
  // Empty once the transaction ended.
  std::unique_ptr<write_transaction> inner_;
};

} // namespace

faulty_backend::faulty_backend(backend& inner)
  : impl_(std::make_shared<impl>(inner)) {}

faulty_backend::faulty_backend(std::unique_ptr<backend> inner)
  : impl_(std::make_shared<impl>(std::move(inner))) {}

faulty_backend::~faulty_backend() = default;

void faulty_backend::fail_commits(std::uint64_t n, errc code) {
  impl_->commit_failure_code.store(code);
  impl_->commit_failures.set(n);
}

void faulty_backend::map_full_puts(std::uint64_t n, std::uint64_t after) {
  fail_puts(n, errc::map_full, after);
}

void faulty_backend::fail_puts(std::uint64_t n, errc code, std::uint64_t after) {
  impl_->put_failure_code.store(code);
  impl_->map_full_skips.set(after);
  impl_->map_full_puts.set(n);
}

void faulty_backend::fail_begins(std::uint64_t n, errc code) {
  impl_->begin_failure_code.store(code);
  impl_->begin_failures.set(n);
}

void faulty_backend::commit_latency(std::chrono::microseconds latency) {
  impl_->commit_latency_us.store(latency.count());
}

void faulty_backend::heal() {
  impl_->commit_failures.set(0);
  impl_->map_full_puts.set(0);
  impl_->map_full_skips.set(0);
  impl_->begin_failures.set(0);
  impl_->commit_latency_us.store(0);
}

std::uint64_t faulty_backend::injected_commit_failures() const noexcept {
  return impl_->injected_commit_failures.load();
}

std::uint64_t faulty_backend::injected_map_full() const noexcept {
  return impl_->injected_map_full.load();
}

std::uint64_t faulty_backend::write_transaction_gets() const noexcept {
  return impl_->write_transaction_gets.load();
}

result<std::unique_ptr<read_transaction>> faulty_backend::begin_read() {
  return without_exceptions([&]() -> result<std::unique_ptr<read_transaction>> {
    if (auto failure = impl_->injected_begin_failure("read"))
      return std::move(*failure);
    return impl_->inner.begin_read();
  });
}

result<std::unique_ptr<write_transaction>> faulty_backend::begin_write() {
  return without_exceptions(
    [&]() -> result<std::unique_ptr<write_transaction>> {
      if (auto failure = impl_->injected_begin_failure("write"))
        return std::move(*failure);
      auto inner = impl_->inner.begin_write();
      if (!inner)
        return std::move(inner).err();
      return std::unique_ptr<write_transaction>(
        std::make_unique<faulty_write_transaction>(impl_,
                                                   std::move(*inner)));
    });
}

result<void> faulty_backend::grow() { return impl_->inner.grow(); }

bool faulty_backend::durable() const noexcept {
  return impl_->inner.durable();
}

// Injected commit failures count as failed commits, as real ones would.
backend_stats faulty_backend::stats() const {
  backend_stats s = impl_->inner.stats();
  s.failed_commits += impl_->injected_commit_failures.load();
  return s;
}

} // namespace profilestore
