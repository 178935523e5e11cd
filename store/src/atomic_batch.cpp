// apply_all_or_nothing (atomic_batch.hpp): storage::apply_batch over a thin
// backend whose write transactions only pretend to commit; the real commit
// happens here once every operation's result is known.
#include "profilestore/store/atomic_batch.hpp"

#include <memory>
#include <string>

namespace profilestore {
namespace {

// Forwards to the real write transaction held by held_commit_backend.
// commit() records that apply_batch wanted to commit and leaves the real
// transaction open; destroying the proxy without that (apply_batch aborting,
// e.g. before growing the map) aborts the real one.
class held_commit_backend;

class held_commit_txn final : public write_transaction {
public:
  explicit held_commit_txn(held_commit_backend& owner) : owner_(owner) {}
  ~held_commit_txn() override;

  result<std::optional<std::string_view>> get(table t,
                                               std::string_view key) override;
  result<std::unique_ptr<cursor>> open_cursor(table t) override;
  result<void> put(table t, std::string_view key,
                   std::string_view value) override;
  result<void> del(table t, std::string_view key) override;
  result<void> commit() override;
  std::uint64_t id() const noexcept override;

private:
  held_commit_backend& owner_;
  bool commit_requested_ = false;
};

class held_commit_backend final : public backend {
public:
  explicit held_commit_backend(backend& real) : real_(real) {}

  result<std::unique_ptr<read_transaction>> begin_read() override {
    return real_.begin_read();
  }
  result<std::unique_ptr<write_transaction>> begin_write() override {
    auto txn = real_.begin_write();
    if (!txn)
      return std::move(txn).err();
    held_ = std::move(*txn);
    return std::unique_ptr<write_transaction>(
      std::make_unique<held_commit_txn>(*this));
  }
  result<void> grow() override { return real_.grow(); }
  bool durable() const noexcept override { return real_.durable(); }
  backend_stats stats() const override { return real_.stats(); }

  write_transaction& held() { return *held_; }
  bool holding() const noexcept { return held_ != nullptr; }
  void abort() { held_.reset(); }
  result<void> commit() {
    auto done = held_->commit();
    held_.reset();
    return done;
  }

private:
  backend& real_;
  std::unique_ptr<write_transaction> held_;
};

held_commit_txn::~held_commit_txn() {
  if (!commit_requested_)
    owner_.abort();
}

result<std::optional<std::string_view>>
held_commit_txn::get(table t, std::string_view key) {
  return owner_.held().get(t, key);
}

result<std::unique_ptr<cursor>> held_commit_txn::open_cursor(table t) {
  return owner_.held().open_cursor(t);
}

result<void> held_commit_txn::put(table t, std::string_view key,
                                  std::string_view value) {
  return owner_.held().put(t, key, value);
}

result<void> held_commit_txn::del(table t, std::string_view key) {
  return owner_.held().del(t, key);
}

std::uint64_t held_commit_txn::id() const noexcept {
  return owner_.held().id();
}

result<void> held_commit_txn::commit() {
  commit_requested_ = true;
  return {};
}

} // namespace

result<std::vector<applied_op>>
apply_all_or_nothing(backend& b, const storage_options& options,
                     const std::vector<operation>& ops, std::int64_t now,
                     atomic_batch_failure* failure) {
  auto fail = [&](std::size_t index, error e) -> result<std::vector<applied_op>> {
    if (failure)
      *failure = atomic_batch_failure{index, e};
    return e;
  };
  // apply_batch grows the map and reruns when a put finds it full; the
  // commit held back to here can find it full too (LMDB allocates pages
  // for the commit's own bookkeeping), and is handled the same way: the
  // failed commit wrote nothing, so the whole batch runs again.
  for (int attempt = 0;; ++attempt) {
    held_commit_backend held(b);
    storage s(held, options);
    auto results = s.apply_batch(ops, now);
    std::vector<applied_op> out;
    out.reserve(results.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!results[i]) {
        held.abort();
        return fail(i, results[i].err());
      }
      out.push_back(std::move(*results[i]));
    }
    if (!held.holding()) // apply_batch ended without asking to commit
      return fail(ops.size(), make_error(errc::internal,
                                         "the batch ended without a commit"));
    auto committed = held.commit();
    if (committed)
      return out;
    if (committed.err().code() != errc::map_full)
      return fail(ops.size(), committed.err());
    if (attempt >= options.max_grow_attempts)
      return fail(ops.size(),
                  make_error(errc::storage_full,
                             "the batch's commit does not fit even after "
                             "growing the map "
                               + std::to_string(attempt) + " times"));
    if (auto grown = b.grow(); !grown)
      return fail(ops.size(), grown.err());
  }
}

} // namespace profilestore
