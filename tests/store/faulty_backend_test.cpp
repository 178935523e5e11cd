// faulty_backend_test: injected failures behave like real ones (no trace,
// counted, the grow-and-retry path works), last as long as asked, and can be
// switched from another thread while transactions run.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "profilestore/store/faulty_backend.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/memory_backend.hpp"
#include "result_checks.hpp"
#include "temp_dir.hpp"

namespace profilestore {
namespace {

using namespace std::chrono_literals;

using testing::code_of;
using testing::must;

std::optional<std::string> read_committed(backend& b, table t,
                                          std::string_view key) {
  auto txn = must(b.begin_read());
  auto found = must(txn->get(t, key));
  if (!found)
    return std::nullopt;
  return std::string(*found);
}

// One write transaction putting `key` = `value`; returns what commit() said.
result<void> try_write(backend& b, std::string_view key,
                       std::string_view value) {
  auto txn = b.begin_write();
  if (!txn.ok())
    return std::move(txn).err();
  PROFILESTORE_TRY((*txn)->put(table::heads, key, value));
  return (*txn)->commit();
}

TEST_CASE("an injected commit failure leaves no trace and is counted") {
  memory_backend inner;
  faulty_backend faulty(inner);
  faulty.fail_commits(1);
  const auto failed = try_write(faulty, "k", "lost");
  CHECK(code_of(failed) == errc::storage_error);
  CHECK(faulty.injected_commit_failures() == 1);
  CHECK(faulty.stats().failed_commits == 1);
  CHECK(faulty.stats().commits == 0);
  CHECK_FALSE(read_committed(faulty, table::heads, "k"));
  CHECK_FALSE(read_committed(inner, table::heads, "k"));

  // It used no transaction number either (backend.hpp, contract 9).
  std::uint64_t next = 0;
  {
    auto txn = must(faulty.begin_write());
    next = txn->id();
  }
  CHECK(next == 1);

  must(try_write(faulty, "k", "kept"));
  CHECK(read_committed(faulty, table::heads, "k") == "kept");
  CHECK(faulty.injected_commit_failures() == 1);
  CHECK(faulty.stats().commits == 1);
}

TEST_CASE("an injected commit failure carries the requested code") {
  memory_backend inner;
  faulty_backend faulty(inner);
  faulty.fail_commits(2, errc::storage_full);
  CHECK(code_of(try_write(faulty, "a", "1")) == errc::storage_full);
  CHECK(code_of(try_write(faulty, "b", "2")) == errc::storage_full);
  must(try_write(faulty, "c", "3"));
  CHECK(faulty.injected_commit_failures() == 2);
}

TEST_CASE("unlimited commit failures last until heal") {
  memory_backend inner;
  faulty_backend faulty(inner);
  faulty.fail_commits(faulty_backend::unlimited);
  for (int i = 0; i < 20; ++i)
    CHECK(code_of(try_write(faulty, "k", "v")) == errc::storage_error);
  CHECK(faulty.injected_commit_failures() == 20);
  faulty.heal();
  must(try_write(faulty, "k", "v"));
  CHECK(read_committed(faulty, table::heads, "k") == "v");
  CHECK(faulty.injected_commit_failures() == 20);
}

TEST_CASE("injected map full puts make the caller grow and retry") {
  memory_options options;
  options.capacity_bytes = 1u << 20;
  faulty_backend faulty(std::make_unique<memory_backend>(options));
  faulty.map_full_puts(2);
  int attempts = 0;
  for (bool committed = false; !committed; ++attempts) {
    REQUIRE(attempts < 10);
    auto outcome = try_write(faulty, "k", "v");
    committed = outcome.ok();
    if (!committed) {
      REQUIRE(code_of(outcome) == errc::map_full);
      must(faulty.grow());
    }
  }
  CHECK(attempts == 3);
  CHECK(faulty.injected_map_full() == 2);
  CHECK(faulty.stats().grows == 2);
  CHECK(faulty.stats().map_size == (4u << 20));
  CHECK(read_committed(faulty, table::heads, "k") == "v");
}

TEST_CASE("a put refused with map full writes nothing of its transaction") {
  memory_backend inner;
  faulty_backend faulty(inner);
  {
    auto txn = must(faulty.begin_write());
    must(txn->put(table::heads, "first", "1"));
    faulty.map_full_puts(1);
    CHECK(code_of(txn->put(table::heads, "second", "2")) == errc::map_full);
  }
  CHECK_FALSE(read_committed(faulty, table::heads, "first"));
  CHECK_FALSE(read_committed(faulty, table::heads, "second"));
}

TEST_CASE("injected begin failures fail the next begins with their code") {
  memory_backend inner;
  faulty_backend faulty(inner);
  faulty.fail_begins(2, errc::storage_busy);
  CHECK(code_of(faulty.begin_read()) == errc::storage_busy);
  CHECK(code_of(faulty.begin_write()) == errc::storage_busy);
  auto reader = must(faulty.begin_read());
  CHECK_FALSE(must(reader->get(table::heads, "k")));
  reader.reset();
  must(try_write(faulty, "k", "v"));

  faulty.fail_begins(faulty_backend::unlimited);
  for (int i = 0; i < 5; ++i)
    CHECK(code_of(faulty.begin_read()) == errc::storage_error);
  faulty.heal();
  CHECK(read_committed(faulty, table::heads, "k") == "v");
}

TEST_CASE("settings changed on another thread take effect") {
  memory_backend inner;
  faulty_backend faulty(inner);
  auto txn = must(faulty.begin_write());
  must(txn->put(table::heads, "k", "v"));
  std::thread other([&] {
    faulty.fail_commits(1, errc::storage_full);
    faulty.map_full_puts(1);
  });
  other.join();
  CHECK(code_of(txn->put(table::heads, "k2", "v")) == errc::map_full);
  CHECK(code_of(txn->commit()) == errc::storage_full);

  // Many threads taking from one budget use it up exactly.
  faulty.map_full_puts(100);
  std::atomic<int> refused{0};
  std::thread takers[4];
  for (auto& t : takers)
    t = std::thread([&] {
      for (int i = 0; i < 50; ++i) {
        auto w = faulty.begin_write();
        if (w.ok() && !(*w)->put(table::nodes, "n", "v").ok())
          ++refused;
      }
    });
  for (auto& t : takers)
    t.join();
  CHECK(refused == 100);
  CHECK(faulty.injected_map_full() == 101);
}

TEST_CASE("commit latency delays every commit until healed") {
  memory_backend inner;
  faulty_backend faulty(inner);
  faulty.commit_latency(20ms);
  const auto start = std::chrono::steady_clock::now();
  must(try_write(faulty, "k", "v"));
  CHECK(std::chrono::steady_clock::now() - start >= 20ms);
  faulty.heal();
  must(try_write(faulty, "k", "v2"));
  CHECK(read_committed(faulty, table::heads, "k") == "v2");
}

TEST_CASE("grow forwards to the inner backend and its limit") {
  memory_options options;
  options.capacity_bytes = 1u << 10;
  options.max_capacity_bytes = 2u << 10;
  faulty_backend faulty(std::make_unique<memory_backend>(options));
  must(faulty.grow());
  CHECK(code_of(faulty.grow()) == errc::storage_full);
  CHECK(faulty.stats().map_size == (2u << 10));
}

TEST_CASE("a faulty backend over lmdb fails commits without a trace") {
  testing::temp_dir dir("faulty");
  lmdb_options options;
  options.path = dir.path();
  options.initial_map_size = 1u << 20;
  options.durable = false;
  faulty_backend faulty(must(lmdb_backend::open(options)));
  CHECK_FALSE(faulty.durable());
  faulty.fail_commits(1);
  CHECK(code_of(try_write(faulty, "k", "lost")) == errc::storage_error);
  CHECK_FALSE(read_committed(faulty, table::heads, "k"));
  must(try_write(faulty, "k", "kept"));
  CHECK(read_committed(faulty, table::heads, "k") == "kept");
  CHECK(faulty.stats().commits == 1);
  CHECK(faulty.stats().failed_commits == 1);
  CHECK(faulty.stats().map_size == (1u << 20));
}

} // namespace
} // namespace profilestore
