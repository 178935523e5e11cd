// lmdb_backend_test: what only the LMDB backend promises, beyond the shared
// contracts of backend_test.cpp: data and map size survive a reopen,
// read-only opens, the layout version check, a map grown by another process,
// snapshot reads under concurrency, non-durable mode and reader slots.
#include <doctest/doctest.h>

#include <lmdb.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "profilestore/store/lmdb_backend.hpp"
#include "result_checks.hpp"
#include "temp_dir.hpp"

namespace profilestore {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;

using testing::code_of;
using testing::must;

lmdb_options small_options(const std::string& path) {
  lmdb_options options;
  options.path = path;
  options.initial_map_size = 64u << 10;
  options.max_map_size = 64u << 20;
  options.durable = false;
  return options;
}

std::optional<std::string> read_committed(backend& b, table t,
                                          std::string_view key) {
  auto txn = must(b.begin_read());
  auto found = must(txn->get(t, key));
  if (!found)
    return std::nullopt;
  return std::string(*found);
}

void write_committed(backend& b, table t, std::string_view key,
                     std::string_view value) {
  auto txn = must(b.begin_write());
  must(txn->put(t, key, value));
  must(txn->commit());
}

// Writes `entries` values of 4 KiB under "<prefix><i>", growing the map as
// often as needed. Returns the first error that is not map_full.
result<void> fill_growing(backend& b, const std::string& prefix, int entries) {
  const std::string value(4096, 'f');
  for (int attempt = 0; attempt < 30; ++attempt) {
    auto txn = b.begin_write();
    if (!txn.ok())
      return std::move(txn).err();
    result<void> outcome;
    for (int i = 0; i < entries && outcome.ok(); ++i)
      outcome = (*txn)->put(table::versions, prefix + std::to_string(i), value);
    if (outcome.ok())
      outcome = (*txn)->commit();
    if (outcome.ok() || outcome.err().code() != errc::map_full)
      return outcome;
    txn->reset();
    PROFILESTORE_TRY(b.grow());
  }
  return error{errc::internal, "fill_growing: too many attempts"};
}

class signal_flag {
public:
  void raise() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      raised_ = true;
    }
    changed_.notify_all();
  }
  bool wait_for(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, limit, [this] { return raised_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool raised_ = false;
};

TEST_CASE("reopening an lmdb environment keeps its data") {
  testing::temp_dir dir("lmdb");
  lmdb_options options = small_options(dir.file("env"));
  options.durable = true;
  {
    auto b = must(lmdb_backend::open(options));
    CHECK(b->durable());
    CHECK(b->path() == options.path);
    write_committed(*b, table::heads, "player", "profile");
    write_committed(*b, table::nodes, "node-1", "address");
  }
  auto b = must(lmdb_backend::open(options));
  CHECK(read_committed(*b, table::heads, "player") == "profile");
  CHECK(read_committed(*b, table::nodes, "node-1") == "address");
}

TEST_CASE("opening creates the directory with its parents") {
  testing::temp_dir dir("lmdb");
  const std::string nested = dir.file("a/b/c");
  auto b = must(lmdb_backend::open(small_options(nested)));
  CHECK(std::filesystem::exists(nested + "/data.mdb"));
  CHECK(std::filesystem::exists(nested + "/lock.mdb"));
}

TEST_CASE("a new lmdb environment records its layout version") {
  testing::temp_dir dir("lmdb");
  auto b = must(lmdb_backend::open(small_options(dir.path())));
  CHECK(read_committed(*b, table::meta, "layout_version") == "\0\0\0\x01"s);
}

TEST_CASE("reopening keeps a map grown beyond the initial size") {
  testing::temp_dir dir("lmdb");
  const lmdb_options options = small_options(dir.path());
  {
    auto b = must(lmdb_backend::open(options));
    must(b->grow());
    must(b->grow());
    CHECK(b->stats().map_size == (256u << 10));
    // Only a commit records the larger size in the environment.
    write_committed(*b, table::meta, "grown", "yes");
  }
  auto b = must(lmdb_backend::open(options));
  CHECK(b->stats().map_size == (256u << 10));
}

TEST_CASE("reopening with a larger initial size raises the map") {
  testing::temp_dir dir("lmdb");
  lmdb_options options = small_options(dir.path());
  { auto b = must(lmdb_backend::open(options)); }
  options.initial_map_size = 1u << 20;
  auto b = must(lmdb_backend::open(options));
  CHECK(b->stats().map_size == (1u << 20));
  write_committed(*b, table::heads, "k", "v");
}

TEST_CASE("a newer layout version in meta is refused as unsupported_format") {
  testing::temp_dir dir("lmdb");
  const lmdb_options options = small_options(dir.path());
  {
    auto b = must(lmdb_backend::open(options));
    write_committed(*b, table::meta, "layout_version", "\0\0\0\x02"s);
  }
  const auto writable = lmdb_backend::open(options);
  CHECK(code_of(writable) == errc::unsupported_format);
  lmdb_options read_only = options;
  read_only.read_only = true;
  const auto readable = lmdb_backend::open(read_only);
  CHECK(code_of(readable) == errc::unsupported_format);
  if (!readable.ok())
    CHECK(readable.err().message().find("version 2")
          != std::string::npos);
}

TEST_CASE("a malformed layout version is not a profilestore environment") {
  testing::temp_dir dir("lmdb");
  const lmdb_options options = small_options(dir.path());
  {
    auto b = must(lmdb_backend::open(options));
    write_committed(*b, table::meta, "layout_version", "1");
  }
  const auto reopened = lmdb_backend::open(options);
  REQUIRE(code_of(reopened) == errc::storage_error);
  CHECK(reopened.err().message().find("not a profilestore environment")
        != std::string::npos);
}

// One process opens an environment once (LMDB's rule), so the writer closes
// before the read-only open.
TEST_CASE("a read-only open reads the data and refuses writes") {
  testing::temp_dir dir("lmdb");
  lmdb_options options = small_options(dir.path());
  {
    auto writer = must(lmdb_backend::open(options));
    write_committed(*writer, table::heads, "k", "v");
  }
  options.read_only = true;
  auto reader = must(lmdb_backend::open(options));
  CHECK(read_committed(*reader, table::heads, "k") == "v");
  const auto refused = reader->begin_write();
  CHECK(code_of(refused) == errc::not_supported);
}

TEST_CASE("a read-only open of a missing directory fails with a clear error") {
  testing::temp_dir dir("lmdb");
  lmdb_options options = small_options(dir.file("missing"));
  options.read_only = true;
  const auto opened = lmdb_backend::open(options);
  REQUIRE(code_of(opened) == errc::storage_error);
  CHECK(opened.err().message().find(options.path) != std::string::npos);
  CHECK(opened.err().message().find("does not exist") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(options.path));
}

TEST_CASE("a read-only open of an empty directory fails with storage_error") {
  testing::temp_dir dir("lmdb");
  lmdb_options options = small_options(dir.path());
  options.read_only = true;
  const auto opened = lmdb_backend::open(options);
  REQUIRE(code_of(opened) == errc::storage_error);
  CHECK(opened.err().message().find(options.path) != std::string::npos);
}

// An environment some other program made with LMDB directly: no tables of
// ours, no layout version.
void create_plain_lmdb_environment(const std::string& path) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_open(env, path.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi main_table = 0;
  REQUIRE(mdb_dbi_open(txn, nullptr, 0, &main_table) == 0);
  char key_bytes[] = "key";
  char value_bytes[] = "value";
  MDB_val key{3, key_bytes};
  MDB_val value{5, value_bytes};
  REQUIRE(mdb_put(txn, main_table, &key, &value, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

TEST_CASE("a read-only open of a plain lmdb environment is refused") {
  testing::temp_dir dir("lmdb");
  create_plain_lmdb_environment(dir.path());
  lmdb_options options = small_options(dir.path());
  options.read_only = true;
  const auto opened = lmdb_backend::open(options);
  REQUIRE(code_of(opened) == errc::storage_error);
  CHECK(opened.err().message().find("not a profilestore environment")
        != std::string::npos);
}

TEST_CASE("an lmdb reader keeps the snapshot it began with") {
  testing::temp_dir dir("lmdb");
  auto b = must(lmdb_backend::open(small_options(dir.path())));
  write_committed(*b, table::heads, "a", "old");
  auto reader = must(b->begin_read());
  write_committed(*b, table::heads, "a", "new");
  write_committed(*b, table::heads, "b", "added");
  CHECK(std::string(*must(reader->get(table::heads, "a"))) == "old");
  CHECK_FALSE(must(reader->get(table::heads, "b")));
  auto c = must(reader->open_cursor(table::heads));
  must(c->last());
  REQUIRE(c->valid());
  CHECK(c->key() == "a");
}

// The child process grows the map past what this process mapped and writes
// beyond it; this process's next transaction meets MDB_MAP_RESIZED and must
// adopt the new size instead of failing.
int grow_in_child(const lmdb_options& options) {
  auto b = lmdb_backend::open(options);
  if (!b.ok())
    return 2;
  return fill_growing(**b, "child-", 256).ok() ? 0 : 3;
}

int wait_for_child(pid_t child, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(10ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_CASE("a map grown by another process is adopted") {
  testing::temp_dir dir("lmdb");
  const lmdb_options options = small_options(dir.path());
  auto b = must(lmdb_backend::open(options));
  write_committed(*b, table::heads, "parent", "before");
  const std::size_t size_before = b->stats().map_size;

  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0)
    ::_exit(grow_in_child(options));
  REQUIRE(wait_for_child(child, 60s) == 0);

  CHECK(read_committed(*b, table::versions, "child-255")
        == std::string(4096, 'f'));
  CHECK(b->stats().map_size > size_before);
  CHECK(b->stats().grows == 0);
  write_committed(*b, table::heads, "parent", "after");
  CHECK(read_committed(*b, table::heads, "parent") == "after");
}

// Writes `n` under both "x" and "y" in one transaction, with 1 KiB more data
// under "v<n>" so that the map fills up and must grow.
result<void> write_pair(backend& b, const std::string& n) {
  const std::string filler(1024, 'v');
  for (int attempt = 0; attempt < 30; ++attempt) {
    auto txn = b.begin_write();
    if (!txn.ok())
      return std::move(txn).err();
    result<void> outcome = (*txn)->put(table::heads, "x", n);
    if (outcome.ok())
      outcome = (*txn)->put(table::heads, "y", n);
    if (outcome.ok())
      outcome = (*txn)->put(table::versions, "v" + n, filler);
    if (outcome.ok())
      outcome = (*txn)->commit();
    if (outcome.ok() || outcome.err().code() != errc::map_full)
      return outcome;
    txn->reset();
    PROFILESTORE_TRY(b.grow());
  }
  return error{errc::internal, "write_pair: too many attempts"};
}

// Each commit writes the same counter under two keys; a snapshot reader must
// never see them differ. The small map makes the writer grow (remap) while
// readers hold views, which the gate must keep safe.
TEST_CASE("many concurrent lmdb readers see consistent snapshots") {
  testing::temp_dir dir("lmdb");
  auto b = must(lmdb_backend::open(small_options(dir.path())));
  must(write_pair(*b, "0"));
  constexpr int commits = 300;
  constexpr int readers = 8;
  std::atomic<bool> writer_done{false};
  std::atomic<int> torn{0};
  std::atomic<int> failures{0};
  std::atomic<long> reads{0};
  std::optional<error> writer_error;

  std::thread writer([&] {
    for (int i = 1; i <= commits && !writer_error; ++i) {
      auto outcome = write_pair(*b, std::to_string(i));
      if (!outcome.ok())
        writer_error = outcome.err();
    }
    writer_done = true;
  });
  std::vector<std::thread> reader_threads;
  for (int r = 0; r < readers; ++r)
    reader_threads.emplace_back([&] {
      do {
        auto txn = b->begin_read();
        if (!txn.ok()) {
          ++failures;
          continue;
        }
        auto x = (*txn)->get(table::heads, "x");
        auto y = (*txn)->get(table::heads, "y");
        if (!x.ok() || !y.ok() || !*x || !*y)
          ++failures;
        else if (**x != **y)
          ++torn;
        ++reads;
      } while (!writer_done);
    });
  writer.join();
  for (auto& t : reader_threads)
    t.join();
  if (writer_error)
    FAIL(writer_error->to_string());
  CHECK(failures == 0);
  CHECK(torn == 0);
  CHECK(reads >= readers);
  CHECK(read_committed(*b, table::heads, "x") == std::to_string(commits));
  CHECK(b->stats().grows >= 2);
}

TEST_CASE("a non-durable lmdb environment works and reopens") {
  testing::temp_dir dir("lmdb");
  lmdb_options options = small_options(dir.path());
  options.durable = false;
  {
    auto b = must(lmdb_backend::open(options));
    CHECK_FALSE(b->durable());
    for (int i = 0; i < 50; ++i)
      write_committed(*b, table::versions, "k" + std::to_string(i), "v");
    CHECK(b->stats().commits == 50);
  }
  options.durable = true;
  auto b = must(lmdb_backend::open(options));
  CHECK(read_committed(*b, table::versions, "k49") == "v");
}

TEST_CASE("running out of lmdb reader slots reports storage_busy") {
  testing::temp_dir dir("lmdb");
  lmdb_options options = small_options(dir.path());
  options.max_readers = 2;
  auto b = must(lmdb_backend::open(options));
  auto first = must(b->begin_read());
  auto second = must(b->begin_read());
  const auto third = b->begin_read();
  CHECK(code_of(third) == errc::storage_busy);
  second.reset();
  auto again = must(b->begin_read());
  CHECK_FALSE(must(again->get(table::heads, "k")));
}

// grow() remaps the file, so it must wait for every transaction of the
// process, including a reader on another thread holding a view.
TEST_CASE("grow waits until open transactions end") {
  testing::temp_dir dir("lmdb");
  auto b = must(lmdb_backend::open(small_options(dir.path())));
  write_committed(*b, table::heads, "k", "value");
  auto reader = must(b->begin_read());
  const std::string_view view = *must(reader->get(table::heads, "k"));

  signal_flag grown;
  result<void> grow_outcome = error{errc::internal, "grow did not run"};
  std::thread grower([&] {
    grow_outcome = b->grow();
    grown.raise();
  });
  CHECK_FALSE(grown.wait_for(50ms));
  CHECK(view == "value");
  reader.reset();
  REQUIRE(grown.wait_for(30s));
  grower.join();
  CHECK(grow_outcome.ok());
  CHECK(b->stats().grows == 1);
}

// A waiting grow holds new transactions back, but only briefly: a thread
// that holds a transaction and begins another must not deadlock with it.
TEST_CASE("a thread holding a transaction can begin another while grow waits") {
  testing::temp_dir dir("lmdb");
  auto b = must(lmdb_backend::open(small_options(dir.path())));
  write_committed(*b, table::heads, "k", "v");
  auto outer = must(b->begin_read());

  signal_flag grown;
  std::thread grower([&] {
    (void)b->grow();
    grown.raise();
  });
  CHECK_FALSE(grown.wait_for(20ms));
  {
    auto inner = must(b->begin_read());
    CHECK(std::string(*must(inner->get(table::heads, "k"))) == "v");
  }
  outer.reset();
  REQUIRE(grown.wait_for(30s));
  grower.join();
  CHECK(b->stats().grows == 1);
}

} // namespace
} // namespace profilestore
