// lmdb_backend: the backend contracts (backend.hpp) on one LMDB environment.
//
// The pieces, in the order a reader should meet them:
//  - lmdb_failure: LMDB return codes to errc (map_full, storage_full,
//    storage_busy, storage_error) with the operation and LMDB's reason.
//  - lmdb_backend::impl: the environment, its four tables, the map size and
//    the gate (lmdb_txn_gate.hpp) that keeps the map still while a
//    transaction of this process is open.
//  - lmdb_txn_state: what read and write transactions share: the MDB_txn, the
//    gate pass and the cursors to close before the MDB_txn ends.
//  - lmdb_cursor, lmdb_read_transaction, lmdb_write_transaction.
//  - lmdb_backend itself: open, begin, grow.
//
// Behaviour of LMDB 0.9.24 this file relies on (the first two are checked by
// lmdb_backend_test.cpp, the last by backend_test.cpp; the third is LMDB's
// documented rule for mdb_txn_commit):
//  - A map size set before mdb_env_open replaces the size recorded in an
//    existing environment (rounded up only to the space in use), it does not
//    raise it; so an existing environment is opened without one and raised
//    afterwards when smaller than lmdb_options::initial_map_size.
//  - When another process has written beyond this process's map,
//    mdb_txn_begin fails with MDB_MAP_RESIZED (read and write alike);
//    mdb_env_set_mapsize(env, 0) adopts the size that process recorded.
//  - A failed mdb_txn_commit frees the transaction, as a successful one does.
//  - Zero-length keys are refused (MDB_BAD_VALSIZE), even by get and
//    MDB_SET_RANGE, so such keys are answered here without asking LMDB.
#include "profilestore/store/lmdb_backend.hpp"

#include <lmdb.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "exception_boundary.hpp"
#include "lmdb_txn_gate.hpp"

namespace profilestore {

namespace {

using detail::without_exceptions;

constexpr std::string_view layout_version_key = "layout_version";
// How long adopting a map grown by another process waits for this process's
// open transactions to end.
constexpr std::chrono::seconds adopt_patience{5};

std::size_t index_of(table t) noexcept { return static_cast<std::size_t>(t); }

bool storable_key(std::string_view key) noexcept {
  return !key.empty() && key.size() <= max_backend_key_bytes;
}

// LMDB takes non-const pointers but never writes through them for the calls
// made here (no MDB_RESERVE).
MDB_val as_val(std::string_view bytes) noexcept {
  return MDB_val{bytes.size(),
                 const_cast<char*>(bytes.data() != nullptr ? bytes.data() : "")};
}

std::string_view as_view(const MDB_val& val) noexcept {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

std::string encode_be32(std::uint32_t n) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i, n >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xffu);
  return out;
}

std::uint32_t decode_be32(std::string_view bytes) noexcept {
  std::uint32_t n = 0;
  for (char c : bytes)
    n = (n << 8) | static_cast<unsigned char>(c);
  return n;
}

// LMDB wants the map size to be a multiple of the OS page size.
std::size_t round_up_to_page(std::size_t bytes) noexcept {
  const long page = ::sysconf(_SC_PAGESIZE);
  const std::size_t unit = page > 0 ? static_cast<std::size_t>(page) : 4096;
  return std::max(unit, (bytes + unit - 1) / unit * unit);
}

errc code_of(int rc) noexcept {
  switch (rc) {
    case MDB_MAP_FULL:
      return errc::map_full;
    case ENOSPC:
    case EDQUOT:
      return errc::storage_full;
    case MDB_READERS_FULL:
      return errc::storage_busy;
    default:
      return errc::storage_error;
  }
}

error ended_transaction_error() {
  return error{errc::internal, "transaction used after it ended"};
}

struct env_closer {
  void operator()(MDB_env* env) const noexcept { mdb_env_close(env); }
};
struct txn_aborter {
  void operator()(MDB_txn* txn) const noexcept { mdb_txn_abort(txn); }
};
using txn_handle = std::unique_ptr<MDB_txn, txn_aborter>;

} // namespace

struct lmdb_backend::impl {
  explicit impl(lmdb_options opts) : options(std::move(opts)) {}

  // "LMDB commit at '/var/lib/x' failed: MDB_MAP_FULL: ..."
  error lmdb_failure(int rc, std::string_view operation) const {
    return error{code_of(rc), "LMDB " + std::string(operation) + " at '"
                                + options.path + "' failed: "
                                + mdb_strerror(rc)};
  }

  error not_profilestore(std::string_view why) const {
    return error{errc::storage_error, "'" + options.path
                                        + "' is not a profilestore environment ("
                                        + std::string(why) + ")"};
  }

  MDB_dbi dbi(table t) const noexcept { return dbis[index_of(t)]; }

  std::size_t current_map_size() const noexcept {
    MDB_envinfo info{};
    mdb_env_info(env.get(), &info);
    return info.me_mapsize;
  }

  result<void> open();
  result<void> prepare_directory() const;
  result<void> open_environment();
  result<void> create_environment();
  bool holds_data_file() const;
  result<void> apply_initial_map_size(bool fresh);
  result<void> open_tables();
  result<void> open_tables_read_only();
  result<void> check_layout_version(MDB_txn* txn, bool may_write);
  result<void> write_layout_version(MDB_txn* txn);
  result<void> set_map_size(std::size_t bytes, std::string_view operation);
  result<void> grow();
  result<void> adopt_map_size();

  // Constant after open().
  const lmdb_options options;
  std::unique_ptr<MDB_env, env_closer> env;
  std::array<MDB_dbi, table_count> dbis{};

  detail::lmdb_txn_gate gate;
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> failed_commits{0};
  std::atomic<std::uint64_t> grows{0};
  std::atomic<std::size_t> map_size{0};
};

result<void> lmdb_backend::impl::open() {
  PROFILESTORE_TRY(prepare_directory());
  PROFILESTORE_TRY(open_environment());
  return options.read_only ? open_tables_read_only() : open_tables();
}

result<void> lmdb_backend::impl::prepare_directory() const {
  if (options.path.empty())
    return error{errc::invalid_argument, "lmdb_options::path is empty"};
  std::error_code ec;
  if (options.read_only) {
    if (!std::filesystem::is_directory(options.path, ec))
      return error{errc::storage_error,
                   "no LMDB environment at '" + options.path
                     + "': the directory does not exist (a read-only open "
                       "creates nothing)"};
    return {};
  }
  std::filesystem::create_directories(options.path, ec);
  if (ec)
    return error{errc::storage_error, "cannot create the directory '"
                                        + options.path + "': " + ec.message()};
  return {};
}

result<void> lmdb_backend::impl::open_environment() {
  PROFILESTORE_TRY(create_environment());
  const bool fresh = !holds_data_file();
  if (fresh)
    PROFILESTORE_TRY(set_map_size(options.initial_map_size, "set map size"));
  unsigned flags = MDB_NOTLS;
  if (options.read_only)
    flags |= MDB_RDONLY;
  if (!options.durable)
    flags |= MDB_NOSYNC;
  if (int rc = mdb_env_open(env.get(), options.path.c_str(), flags,
                            static_cast<mdb_mode_t>(options.file_mode));
      rc != 0)
    return lmdb_failure(rc, "open environment");
  PROFILESTORE_TRY(apply_initial_map_size(fresh));
  int stale_readers = 0;
  if (int rc = mdb_reader_check(env.get(), &stale_readers); rc != 0)
    return lmdb_failure(rc, "clear stale reader slots");
  return {};
}

result<void> lmdb_backend::impl::create_environment() {
  MDB_env* raw = nullptr;
  if (int rc = mdb_env_create(&raw); rc != 0)
    return lmdb_failure(rc, "create environment");
  env.reset(raw);
  if (int rc = mdb_env_set_maxdbs(env.get(), table_count); rc != 0)
    return lmdb_failure(rc, "set the number of tables");
  if (int rc = mdb_env_set_maxreaders(env.get(), options.max_readers); rc != 0)
    return lmdb_failure(rc, "set max_readers to "
                              + std::to_string(options.max_readers));
  const int max_key = mdb_env_get_maxkeysize(env.get());
  if (max_key < static_cast<int>(max_backend_key_bytes))
    return error{errc::storage_error,
                 "this LMDB build stores keys of at most "
                   + std::to_string(max_key) + " bytes; profilestore needs "
                   + std::to_string(max_backend_key_bytes)};
  return {};
}

// An empty data.mdb (a creation that never finished) counts as new, as it
// does for LMDB.
bool lmdb_backend::impl::holds_data_file() const {
  std::error_code ec;
  const auto size
    = std::filesystem::file_size(options.path + "/data.mdb", ec);
  return !ec && size > 0;
}

// An existing environment opened with its recorded size; raise it to the
// configured initial size when that is larger (never shrink it).
result<void> lmdb_backend::impl::apply_initial_map_size(bool fresh) {
  if (!fresh && current_map_size() < options.initial_map_size)
    PROFILESTORE_TRY(set_map_size(options.initial_map_size, "set map size"));
  map_size = current_map_size();
  return {};
}

result<void> lmdb_backend::impl::set_map_size(std::size_t bytes,
                                              std::string_view operation) {
  const std::size_t rounded = round_up_to_page(bytes);
  if (int rc = mdb_env_set_mapsize(env.get(), rounded); rc != 0)
    return lmdb_failure(rc, std::string(operation) + " to "
                              + std::to_string(rounded) + " bytes");
  return {};
}

result<void> lmdb_backend::impl::open_tables() {
  MDB_txn* raw = nullptr;
  if (int rc = mdb_txn_begin(env.get(), nullptr, 0, &raw); rc != 0)
    return lmdb_failure(rc, "begin the opening transaction");
  txn_handle txn(raw);
  for (std::size_t i = 0; i < table_count; ++i) {
    const std::string name(to_string(static_cast<table>(i)));
    if (int rc = mdb_dbi_open(txn.get(), name.c_str(), MDB_CREATE, &dbis[i]);
        rc != 0)
      return lmdb_failure(rc, "open table " + name);
  }
  PROFILESTORE_TRY(check_layout_version(txn.get(), true));
  if (int rc = mdb_txn_commit(txn.release()); rc != 0)
    return lmdb_failure(rc, "commit the opening transaction");
  return {};
}

// Read-only: the tables must exist already. The read transaction is
// committed, not aborted, because table handles opened in a transaction
// survive it only when it commits.
result<void> lmdb_backend::impl::open_tables_read_only() {
  MDB_txn* raw = nullptr;
  if (int rc = mdb_txn_begin(env.get(), nullptr, MDB_RDONLY, &raw); rc != 0)
    return lmdb_failure(rc, "begin the opening transaction");
  txn_handle txn(raw);
  for (std::size_t i = 0; i < table_count; ++i) {
    const std::string name(to_string(static_cast<table>(i)));
    const int rc = mdb_dbi_open(txn.get(), name.c_str(), 0, &dbis[i]);
    if (rc == MDB_NOTFOUND)
      return not_profilestore("table " + name + " is missing");
    if (rc != 0)
      return lmdb_failure(rc, "open table " + name);
  }
  PROFILESTORE_TRY(check_layout_version(txn.get(), false));
  if (int rc = mdb_txn_commit(txn.release()); rc != 0)
    return lmdb_failure(rc, "commit the opening transaction");
  return {};
}

result<void> lmdb_backend::impl::check_layout_version(MDB_txn* txn,
                                                      bool may_write) {
  MDB_val key = as_val(layout_version_key);
  MDB_val value{};
  const int rc = mdb_get(txn, dbi(table::meta), &key, &value);
  if (rc == MDB_NOTFOUND)
    return may_write ? write_layout_version(txn)
                     : not_profilestore("no layout_version in table meta");
  if (rc != 0)
    return lmdb_failure(rc, "read layout_version");
  if (value.mv_size != 4)
    return not_profilestore("layout_version is "
                            + std::to_string(value.mv_size)
                            + " bytes, expected 4");
  const std::uint32_t found = decode_be32(as_view(value));
  if (found > storage_layout_version)
    return error{errc::unsupported_format,
                 "the environment at '" + options.path
                   + "' has storage layout version " + std::to_string(found)
                   + "; this build reads versions up to "
                   + std::to_string(storage_layout_version)
                   + " (open it with a newer profilestore)"};
  return {};
}

// Only a new environment lacks the version: tables holding data without one
// were written by something else, and are left alone.
result<void> lmdb_backend::impl::write_layout_version(MDB_txn* txn) {
  for (std::size_t i = 0; i < table_count; ++i) {
    MDB_stat stat{};
    if (int rc = mdb_stat(txn, dbis[i], &stat); rc != 0)
      return lmdb_failure(rc, "count entries");
    if (stat.ms_entries != 0)
      return not_profilestore("data without a layout_version");
  }
  const std::string encoded = encode_be32(storage_layout_version);
  MDB_val key = as_val(layout_version_key);
  MDB_val value = as_val(encoded);
  if (int rc = mdb_put(txn, dbi(table::meta), &key, &value, 0); rc != 0)
    return lmdb_failure(rc, "write layout_version");
  return {};
}

result<void> lmdb_backend::impl::grow() {
  detail::exclusive_hold hold(gate);
  const std::size_t current = current_map_size();
  const std::size_t limit = options.max_map_size;
  if (current >= limit)
    return error{errc::storage_full,
                 "map size limit of " + std::to_string(limit)
                   + " bytes reached (lmdb_options::max_map_size) at '"
                   + options.path + "'"};
  const std::size_t target = current > limit / 2 ? limit : current * 2;
  PROFILESTORE_TRY(set_map_size(target, "grow the map"));
  map_size = current_map_size();
  ++grows;
  return {};
}

// Runs inside begin_read()/begin_write(), whose caller may legitimately hold
// another transaction (a read one: MDB_NOTLS allows it), so the wait for
// exclusivity is bounded instead of risking a wait for itself.
// mdb_env_set_mapsize(env, 0) takes the size recorded by the last commit of
// any process; ours is kept when this process grew further since.
result<void> lmdb_backend::impl::adopt_map_size() {
  detail::exclusive_hold hold(gate, std::chrono::steady_clock::now()
                                      + adopt_patience);
  if (!hold.held())
    return error{errc::storage_busy,
                 "another process grew the LMDB map at '" + options.path
                   + "'; it cannot be adopted while transactions of this "
                     "process stay open (end them and retry)"};
  const std::size_t before = current_map_size();
  if (int rc = mdb_env_set_mapsize(env.get(), 0); rc != 0)
    return lmdb_failure(rc, "adopt the map size grown by another process");
  if (current_map_size() < before)
    PROFILESTORE_TRY(set_map_size(before, "restore the map size"));
  map_size = current_map_size();
  return {};
}

namespace {

using backend_impl = lmdb_backend::impl;
class lmdb_cursor;

// The state read and write transactions share. LMDB requires every cursor to
// be closed before its transaction ends (and a closed write transaction frees
// its cursors itself), so the transaction keeps a list of its open cursors,
// closes them first at its end and detaches them: a cursor destroyed later
// does nothing, one used later reports an error.
class lmdb_txn_state {
public:
  explicit lmdb_txn_state(backend_impl& owner) : owner_(owner) {}
  lmdb_txn_state(const lmdb_txn_state&) = delete;
  lmdb_txn_state& operator=(const lmdb_txn_state&) = delete;
  ~lmdb_txn_state() { abort(); }

  result<void> begin(unsigned flags);
  result<std::optional<std::string_view>> get(table t, std::string_view key);
  result<std::unique_ptr<cursor>> open_cursor(table t);
  // Ends the transaction and returns LMDB's answer (0 on success).
  int commit() noexcept;
  void abort() noexcept;

  bool open() const noexcept { return txn_ != nullptr; }
  MDB_txn* handle() const noexcept { return txn_; }
  backend_impl& owner() const noexcept { return owner_; }
  void forget(lmdb_cursor* c) noexcept;

private:
  void close_cursors() noexcept;

  backend_impl& owner_;
  MDB_txn* txn_ = nullptr;
  // Admission while txn_ is open: the map must not move under its views.
  detail::gate_pass pass_;
  std::vector<lmdb_cursor*> cursors_;
};

class lmdb_cursor final : public cursor {
public:
  lmdb_cursor(lmdb_txn_state& txn, table t) : txn_(&txn), table_(t) {}
  lmdb_cursor(const lmdb_cursor&) = delete;
  lmdb_cursor& operator=(const lmdb_cursor&) = delete;
  ~lmdb_cursor() override {
    if (txn_ != nullptr)
      txn_->forget(this);
    detach();
  }

  void attach(MDB_cursor* handle) noexcept { handle_ = handle; }
  // Called by the transaction as it ends.
  void detach() noexcept {
    if (handle_ != nullptr)
      mdb_cursor_close(handle_);
    handle_ = nullptr;
    txn_ = nullptr;
    valid_ = false;
  }

  result<void> seek(std::string_view key) override {
    if (key.empty())
      return first();
    if (key.size() <= max_backend_key_bytes)
      return move(MDB_SET_RANGE, key);
    // No stored key is longer than the limit, so the first key >= `key` is
    // the first one >= its truncation, skipping the truncation itself.
    const std::string_view truncated = key.substr(0, max_backend_key_bytes);
    PROFILESTORE_TRY(move(MDB_SET_RANGE, truncated));
    if (valid_ && this->key() == truncated)
      return move(MDB_NEXT);
    return {};
  }
  result<void> first() override { return move(MDB_FIRST); }
  result<void> last() override { return move(MDB_LAST); }
  // LMDB would wrap an unpositioned cursor to the first or last key; the
  // contract keeps it invalid instead.
  result<void> next() override { return valid_ ? move(MDB_NEXT) : result<void>{}; }
  result<void> prev() override { return valid_ ? move(MDB_PREV) : result<void>{}; }

  bool valid() const noexcept override { return valid_; }
  std::string_view key() const noexcept override { return as_view(key_); }
  std::string_view value() const noexcept override { return as_view(value_); }

private:
  result<void> move(MDB_cursor_op op, std::string_view key = {}) {
    return without_exceptions([&]() -> result<void> {
      if (handle_ == nullptr)
        return ended_transaction_error();
      MDB_val k = as_val(key);
      MDB_val v{};
      const int rc = mdb_cursor_get(handle_, &k, &v, op);
      valid_ = rc == 0;
      if (rc == MDB_NOTFOUND)
        return {};
      if (rc != 0)
        return txn_->owner().lmdb_failure(
          rc, "move a cursor in " + std::string(to_string(table_)));
      key_ = k;
      value_ = v;
      return {};
    });
  }

  MDB_cursor* handle_ = nullptr;
  lmdb_txn_state* txn_;
  table table_;
  bool valid_ = false;
  MDB_val key_{};
  MDB_val value_{};
};

// Retries once after adopting a map another process grew (MDB_MAP_RESIZED).
result<void> lmdb_txn_state::begin(unsigned flags) {
  const char* operation = (flags & MDB_RDONLY) != 0
                            ? "begin a read transaction"
                            : "begin a write transaction";
  for (int attempt = 0;; ++attempt) {
    pass_ = detail::gate_pass(owner_.gate);
    const int rc = mdb_txn_begin(owner_.env.get(), nullptr, flags, &txn_);
    if (rc == 0)
      return {};
    txn_ = nullptr;
    pass_.release();
    if (rc != MDB_MAP_RESIZED || attempt > 0)
      return owner_.lmdb_failure(rc, operation);
    PROFILESTORE_TRY(owner_.adopt_map_size());
  }
}

result<std::optional<std::string_view>> lmdb_txn_state::get(
  table t, std::string_view key) {
  if (txn_ == nullptr)
    return ended_transaction_error();
  if (!storable_key(key))
    return std::optional<std::string_view>{};
  MDB_val k = as_val(key);
  MDB_val v{};
  const int rc = mdb_get(txn_, owner_.dbi(t), &k, &v);
  if (rc == MDB_NOTFOUND)
    return std::optional<std::string_view>{};
  if (rc != 0)
    return owner_.lmdb_failure(rc, "get from " + std::string(to_string(t)));
  return std::optional<std::string_view>{as_view(v)};
}

result<std::unique_ptr<cursor>> lmdb_txn_state::open_cursor(table t) {
  if (txn_ == nullptr)
    return ended_transaction_error();
  auto c = std::make_unique<lmdb_cursor>(*this, t);
  cursors_.push_back(c.get());
  MDB_cursor* handle = nullptr;
  if (int rc = mdb_cursor_open(txn_, owner_.dbi(t), &handle); rc != 0)
    return owner_.lmdb_failure(rc, "open a cursor on "
                                     + std::string(to_string(t)));
  c->attach(handle);
  return std::unique_ptr<cursor>(std::move(c));
}

int lmdb_txn_state::commit() noexcept {
  close_cursors();
  const int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
  pass_.release();
  return rc;
}

void lmdb_txn_state::abort() noexcept {
  close_cursors();
  if (txn_ != nullptr)
    mdb_txn_abort(std::exchange(txn_, nullptr));
  pass_.release();
}

void lmdb_txn_state::forget(lmdb_cursor* c) noexcept {
  cursors_.erase(std::remove(cursors_.begin(), cursors_.end(), c),
                 cursors_.end());
}

void lmdb_txn_state::close_cursors() noexcept {
  for (lmdb_cursor* c : cursors_)
    c->detach();
  cursors_.clear();
}

class lmdb_read_transaction final : public read_transaction {
public:
  explicit lmdb_read_transaction(backend_impl& owner) : state_(owner) {}

  result<void> begin() { return state_.begin(MDB_RDONLY); }

  result<std::optional<std::string_view>> get(table t,
                                               std::string_view key) override {
    return without_exceptions([&] { return state_.get(t, key); });
  }
  result<std::unique_ptr<cursor>> open_cursor(table t) override {
    return without_exceptions([&] { return state_.open_cursor(t); });
  }

private:
  lmdb_txn_state state_;
};

// LMDB's writer lock belongs to the thread that took it, so a write
// transaction must end on the thread that began it (checked in debug builds).
class lmdb_write_transaction final : public write_transaction {
public:
  explicit lmdb_write_transaction(backend_impl& owner) : state_(owner) {}
  ~lmdb_write_transaction() override {
    assert(!state_.open() || std::this_thread::get_id() == began_on_);
  }

  result<void> begin() {
    began_on_ = std::this_thread::get_id();
    return state_.begin(0);
  }

  result<std::optional<std::string_view>> get(table t,
                                               std::string_view key) override {
    return without_exceptions([&] { return state_.get(t, key); });
  }
  result<std::unique_ptr<cursor>> open_cursor(table t) override {
    return without_exceptions([&] { return state_.open_cursor(t); });
  }
  result<void> put(table t, std::string_view key,
                   std::string_view value) override {
    return without_exceptions([&] { return put_entry(t, key, value); });
  }
  result<void> del(table t, std::string_view key) override {
    return without_exceptions([&] { return delete_entry(t, key); });
  }
  result<void> commit() override {
    return without_exceptions([&] { return commit_all(); });
  }
  std::uint64_t id() const noexcept override {
    return state_.open() ? mdb_txn_id(state_.handle()) : 0;
  }

private:
  result<void> put_entry(table t, std::string_view key,
                         std::string_view value) {
    if (!state_.open())
      return ended_transaction_error();
    if (!storable_key(key))
      return error{errc::invalid_argument,
                   "key of " + std::to_string(key.size())
                     + " bytes cannot be stored (keys are 1.."
                     + std::to_string(max_backend_key_bytes) + " bytes)"};
    MDB_val k = as_val(key);
    MDB_val v = as_val(value);
    if (int rc = mdb_put(state_.handle(), state_.owner().dbi(t), &k, &v, 0);
        rc != 0)
      return state_.owner().lmdb_failure(
        rc, "put into " + std::string(to_string(t)));
    return {};
  }

  result<void> delete_entry(table t, std::string_view key) {
    if (!state_.open())
      return ended_transaction_error();
    if (!storable_key(key))
      return {};
    MDB_val k = as_val(key);
    const int rc = mdb_del(state_.handle(), state_.owner().dbi(t), &k, nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return state_.owner().lmdb_failure(
        rc, "delete from " + std::string(to_string(t)));
    return {};
  }

  result<void> commit_all() {
    if (!state_.open())
      return ended_transaction_error();
    assert(std::this_thread::get_id() == began_on_);
    backend_impl& owner = state_.owner();
    if (int rc = state_.commit(); rc != 0) {
      ++owner.failed_commits;
      return owner.lmdb_failure(rc, "commit");
    }
    ++owner.commits;
    return {};
  }

  lmdb_txn_state state_;
  std::thread::id began_on_;
};

} // namespace

lmdb_backend::lmdb_backend(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

lmdb_backend::~lmdb_backend() {
  assert(impl_->gate.open_transactions() == 0
         && "every transaction must end before its lmdb_backend");
}

result<std::unique_ptr<lmdb_backend>> lmdb_backend::open(
  const lmdb_options& options) {
  return without_exceptions([&]() -> result<std::unique_ptr<lmdb_backend>> {
    auto state = std::make_unique<impl>(options);
    PROFILESTORE_TRY(state->open());
    return std::unique_ptr<lmdb_backend>(new lmdb_backend(std::move(state)));
  });
}

result<std::unique_ptr<read_transaction>> lmdb_backend::begin_read() {
  return without_exceptions([&]() -> result<std::unique_ptr<read_transaction>> {
    auto txn = std::make_unique<lmdb_read_transaction>(*impl_);
    PROFILESTORE_TRY(txn->begin());
    return std::unique_ptr<read_transaction>(std::move(txn));
  });
}

result<std::unique_ptr<write_transaction>> lmdb_backend::begin_write() {
  return without_exceptions(
    [&]() -> result<std::unique_ptr<write_transaction>> {
      if (impl_->options.read_only)
        return error{errc::not_supported,
                     "the LMDB environment at '" + impl_->options.path
                       + "' was opened read-only"};
      auto txn = std::make_unique<lmdb_write_transaction>(*impl_);
      PROFILESTORE_TRY(txn->begin());
      return std::unique_ptr<write_transaction>(std::move(txn));
    });
}

result<void> lmdb_backend::grow() {
  return without_exceptions([&] { return impl_->grow(); });
}

bool lmdb_backend::durable() const noexcept { return impl_->options.durable; }

backend_stats lmdb_backend::stats() const {
  backend_stats s;
  s.commits = impl_->commits.load();
  s.failed_commits = impl_->failed_commits.load();
  s.grows = impl_->grows.load();
  s.map_size = impl_->map_size.load();
  return s;
}

const std::string& lmdb_backend::path() const noexcept {
  return impl_->options.path;
}

} // namespace profilestore
