// backend_test: every contract of backend.hpp, held against both
// memory_backend and lmdb_backend (each case runs once per backend, named
// "<sentence><memory_backend>" and "<sentence><lmdb_backend>"). What only one
// backend promises (LMDB's snapshot reads, reopening) is tested beside it in
// lmdb_backend_test.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "profilestore/store/backend.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/memory_backend.hpp"
#include "result_checks.hpp"
#include "temp_dir.hpp"

namespace profilestore {
namespace {

using namespace std::string_literals;
using namespace std::chrono_literals;

using testing::code_of;
using testing::must;

std::optional<std::string> read_value(read_transaction& txn, table t,
                                      std::string_view key) {
  auto found = must(txn.get(t, key));
  if (!found)
    return std::nullopt;
  return std::string(*found);
}

std::optional<std::string> read_committed(backend& b, table t,
                                          std::string_view key) {
  auto txn = must(b.begin_read());
  return read_value(*txn, t, key);
}

void write_committed(backend& b, table t, std::string_view key,
                     std::string_view value) {
  auto txn = must(b.begin_write());
  must(txn->put(t, key, value));
  must(txn->commit());
}

// The keys of a table in cursor order, walking forwards or backwards.
std::vector<std::string> keys_forward(read_transaction& txn, table t) {
  auto c = must(txn.open_cursor(t));
  std::vector<std::string> keys;
  for (must(c->first()); c->valid(); must(c->next()))
    keys.emplace_back(c->key());
  return keys;
}

std::vector<std::string> keys_backward(read_transaction& txn, table t) {
  auto c = must(txn.open_cursor(t));
  std::vector<std::string> keys;
  for (must(c->last()); c->valid(); must(c->prev()))
    keys.emplace_back(c->key());
  return keys;
}

// "61 62 | ff" for {"ab", "\xff"}: byte keys made readable in failures.
std::string render(const std::vector<std::string>& keys) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (const auto& key : keys) {
    if (!out.empty())
      out += " | ";
    for (std::size_t i = 0; i < key.size(); ++i) {
      const auto byte = static_cast<unsigned char>(key[i]);
      if (i != 0)
        out += ' ';
      out += digits[byte >> 4];
      out += digits[byte & 0xf];
    }
  }
  return out;
}

// A one-shot flag another thread can wait on with a deadline.
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

// How each backend under test is made. `open_limited` gives a backend that
// reports map_full beyond `size` bytes until grown, up to `max_size`.
struct memory_kind {
  std::unique_ptr<backend> open() { return std::make_unique<memory_backend>(); }
  std::unique_ptr<backend> open_limited(std::size_t size, std::size_t max_size) {
    memory_options options;
    options.capacity_bytes = size;
    options.max_capacity_bytes = max_size;
    return std::make_unique<memory_backend>(options);
  }
};

struct lmdb_kind {
  testing::temp_dir dir{"backend"};
  std::unique_ptr<backend> open() { return open_limited(8u << 20, 1u << 30); }
  std::unique_ptr<backend> open_limited(std::size_t size, std::size_t max_size) {
    lmdb_options options;
    options.path = dir.file("env");
    options.initial_map_size = size;
    options.max_map_size = max_size;
    options.durable = false;
    return must(lmdb_backend::open(options));
  }
};

} // namespace
} // namespace profilestore

TYPE_TO_STRING_AS("memory_backend", profilestore::memory_kind);
TYPE_TO_STRING_AS("lmdb_backend", profilestore::lmdb_kind);

namespace profilestore {
namespace {

#define BACKEND_TEST(sentence) \
  TEST_CASE_TEMPLATE(sentence, Kind, memory_kind, lmdb_kind)

BACKEND_TEST("keys are ordered bytewise with a shorter prefix first") {
  Kind kind;
  auto b = kind.open();
  const std::vector<std::string> sorted = {
    "\x00"s, "\x00\x00"s, "\x00\x01"s, "\x01"s,   "a"s,       "ab"s,
    "ab\x00"s, "abc"s,    "ab\xff"s,   "b"s,      "\x7f"s,    "\x80"s,
    "\xfe"s, "\xff"s,     "\xff\x00"s, "\xff\xff"s};
  std::vector<std::string> shuffled = sorted;
  std::reverse(shuffled.begin(), shuffled.end());
  std::rotate(shuffled.begin(), shuffled.begin() + 5, shuffled.end());
  {
    auto txn = must(b->begin_write());
    for (const auto& key : shuffled)
      must(txn->put(table::heads, key, "v"));
    CHECK(render(keys_forward(*txn, table::heads)) == render(sorted));
    must(txn->commit());
  }
  auto txn = must(b->begin_read());
  CHECK(render(keys_forward(*txn, table::heads)) == render(sorted));
  std::vector<std::string> reversed(sorted.rbegin(), sorted.rend());
  CHECK(render(keys_backward(*txn, table::heads)) == render(reversed));
}

BACKEND_TEST("write transactions are numbered one past the last commit that "
             "wrote, and an abort or a failed commit uses no number") {
  Kind kind;
  auto b = kind.open();
  std::uint64_t first = 0;
  {
    auto txn = must(b->begin_write());
    first = txn->id();
    CHECK(first > 0);
    must(txn->put(table::heads, "k", "1"));
    must(txn->commit());
  }
  {
    auto txn = must(b->begin_write());
    CHECK(txn->id() == first + 1);
    must(txn->put(table::heads, "k", "2"));
    // Destroyed without a commit: aborted.
  }
  {
    auto txn = must(b->begin_write());
    CHECK(txn->id() == first + 1);
    must(txn->put(table::heads, "k", "3"));
    must(txn->commit());
  }
  auto txn = must(b->begin_write());
  CHECK(txn->id() == first + 2);
}

BACKEND_TEST("get of an absent key finds nothing") {
  Kind kind;
  auto b = kind.open();
  CHECK_FALSE(read_committed(*b, table::heads, "missing"));
  write_committed(*b, table::heads, "present", "1");
  auto txn = must(b->begin_read());
  CHECK_FALSE(read_value(*txn, table::heads, "missing"));
  CHECK_FALSE(read_value(*txn, table::heads, "presen"));
  CHECK_FALSE(read_value(*txn, table::heads, "present\0"s));
  CHECK_FALSE(read_value(*txn, table::heads, ""));
  CHECK_FALSE(read_value(*txn, table::heads, std::string(600, 'p')));
}

BACKEND_TEST("put then get then del round trips a value") {
  Kind kind;
  auto b = kind.open();
  auto txn = must(b->begin_write());
  must(txn->put(table::versions, "key", "one"));
  CHECK(read_value(*txn, table::versions, "key") == "one");
  must(txn->put(table::versions, "key", "two"));
  CHECK(read_value(*txn, table::versions, "key") == "two");
  must(txn->del(table::versions, "key"));
  CHECK_FALSE(read_value(*txn, table::versions, "key"));
  must(txn->del(table::versions, "never-written"));
  must(txn->put(table::versions, "key", "three"));
  must(txn->commit());
  CHECK(read_committed(*b, table::versions, "key") == "three");

  auto second = must(b->begin_write());
  must(second->del(table::versions, "key"));
  must(second->commit());
  CHECK_FALSE(read_committed(*b, table::versions, "key"));
}

BACKEND_TEST("empty values are stored and read back empty") {
  Kind kind;
  auto b = kind.open();
  write_committed(*b, table::meta, "empty", "");
  auto txn = must(b->begin_read());
  const auto found = must(txn->get(table::meta, "empty"));
  REQUIRE(found.has_value());
  CHECK(found->empty());
  auto c = must(txn->open_cursor(table::meta));
  must(c->seek("empty"));
  REQUIRE(c->valid());
  CHECK(c->key() == "empty");
  CHECK(c->value().empty());
}

BACKEND_TEST("put refuses keys that no backend can store") {
  Kind kind;
  auto b = kind.open();
  auto txn = must(b->begin_write());
  CHECK(code_of(txn->put(table::heads, "", "v")) == errc::invalid_argument);
  const std::string too_long(max_backend_key_bytes + 1, 'k');
  CHECK(code_of(txn->put(table::heads, too_long, "v"))
        == errc::invalid_argument);
  const std::string longest(max_backend_key_bytes, 'k');
  must(txn->put(table::heads, longest, "v"));
  must(txn->del(table::heads, ""));
  must(txn->del(table::heads, too_long));
  must(txn->commit());
  CHECK(read_committed(*b, table::heads, longest) == "v");
}

BACKEND_TEST("a write transaction sees its own writes") {
  Kind kind;
  auto b = kind.open();
  {
    auto setup = must(b->begin_write());
    must(setup->put(table::heads, "a", "1"));
    must(setup->put(table::heads, "b", "2"));
    must(setup->put(table::heads, "c", "3"));
    must(setup->commit());
  }
  auto txn = must(b->begin_write());
  must(txn->put(table::heads, "b", "20"));
  must(txn->del(table::heads, "c"));
  must(txn->put(table::heads, "d", "4"));
  CHECK(read_value(*txn, table::heads, "a") == "1");
  CHECK(read_value(*txn, table::heads, "b") == "20");
  CHECK_FALSE(read_value(*txn, table::heads, "c"));
  CHECK(read_value(*txn, table::heads, "d") == "4");

  auto c = must(txn->open_cursor(table::heads));
  must(c->first());
  std::vector<std::string> seen;
  for (; c->valid(); must(c->next()))
    seen.push_back(std::string(c->key()) + "=" + std::string(c->value()));
  CHECK(seen == std::vector<std::string>{"a=1", "b=20", "d=4"});
  must(c->seek("c"));
  REQUIRE(c->valid());
  CHECK(c->key() == "d");
  must(c->prev());
  REQUIRE(c->valid());
  CHECK(c->value() == "20");
}

BACKEND_TEST("a write transaction that ends without commit leaves no trace") {
  Kind kind;
  auto b = kind.open();
  write_committed(*b, table::heads, "kept", "original");
  {
    auto txn = must(b->begin_write());
    must(txn->put(table::heads, "kept", "changed"));
    must(txn->put(table::heads, "new", "value"));
    must(txn->put(table::nodes, "node", "value"));
  }
  {
    auto txn = must(b->begin_write());
    must(txn->del(table::heads, "kept"));
  }
  auto txn = must(b->begin_read());
  CHECK(read_value(*txn, table::heads, "kept") == "original");
  CHECK_FALSE(read_value(*txn, table::heads, "new"));
  CHECK(keys_forward(*txn, table::nodes).empty());
  CHECK(b->stats().commits == 1);
}

BACKEND_TEST("a committed write is visible to transactions begun afterwards") {
  Kind kind;
  auto b = kind.open();
  write_committed(*b, table::versions, "v", "1");
  CHECK(read_committed(*b, table::versions, "v") == "1");
  auto writer = must(b->begin_write());
  CHECK(read_value(*writer, table::versions, "v") == "1");
  must(writer->put(table::versions, "v", "2"));
  must(writer->commit());
  CHECK(read_committed(*b, table::versions, "v") == "2");
  CHECK(b->stats().commits == 2);
}

// Both backends promise that what a reader was handed stays intact; LMDB
// also keeps the whole snapshot (lmdb_backend_test.cpp), memory reads the
// latest commit at each call.
BACKEND_TEST("views from a reader begun before a commit stay intact") {
  Kind kind;
  auto b = kind.open();
  write_committed(*b, table::heads, "a", "old-a");
  write_committed(*b, table::heads, "b", "old-b");
  auto reader = must(b->begin_read());
  const std::string_view a = *must(reader->get(table::heads, "a"));
  auto c = must(reader->open_cursor(table::heads));
  must(c->seek("b"));
  REQUIRE(c->valid());

  auto writer = must(b->begin_write());
  must(writer->put(table::heads, "a", "new-a"));
  must(writer->put(table::heads, "b", "new-b"));
  must(writer->put(table::heads, "c", "new-c"));
  must(writer->commit());

  CHECK(a == "old-a");
  CHECK(c->key() == "b");
  CHECK(c->value() == "old-b");
  const auto again = read_value(*reader, table::heads, "a");
  CHECK((again == "old-a" || again == "new-a"));
  CHECK(read_committed(*b, table::heads, "a") == "new-a");
}

BACKEND_TEST("cursors seek and step through first last next and prev") {
  Kind kind;
  auto b = kind.open();
  const std::string longest(max_backend_key_bytes, 'm');
  {
    auto txn = must(b->begin_write());
    for (const char* key : {"b", "d", "f"})
      must(txn->put(table::versions, key, std::string("value-") + key));
    must(txn->put(table::versions, longest, "longest"));
    must(txn->put(table::heads, "a", "other table"));
    must(txn->put(table::heads, "z", "other table"));
    must(txn->commit());
  }
  auto txn = must(b->begin_read());
  auto c = must(txn->open_cursor(table::versions));
  auto other = must(txn->open_cursor(table::heads));
  CHECK_FALSE(c->valid());

  const auto at = [&](std::string_view expected) {
    return c->valid() && c->key() == expected;
  };
  must(c->seek("a"));
  CHECK(at("b"));
  CHECK(c->value() == "value-b");
  must(c->seek("b"));
  CHECK(at("b"));
  must(c->seek("c"));
  CHECK(at("d"));
  must(c->seek(""));
  CHECK(at("b"));
  must(c->seek(longest));
  CHECK(at(longest));
  must(c->seek(longest + "m"));
  CHECK(c->valid() == false);
  must(c->seek(std::string(600, 'e')));
  CHECK(at("f"));
  must(c->seek("g"));
  CHECK(at(longest));
  must(c->seek("n"));
  CHECK_FALSE(c->valid());
  must(c->next());
  CHECK_FALSE(c->valid());
  must(c->prev());
  CHECK_FALSE(c->valid());

  must(c->first());
  CHECK(at("b"));
  must(c->prev());
  CHECK_FALSE(c->valid());
  must(c->last());
  CHECK(at(longest));
  must(c->prev());
  CHECK(at("f"));
  must(c->next());
  must(c->next());
  CHECK_FALSE(c->valid());

  must(other->first());
  CHECK((other->valid() && other->key() == "a"));
  must(other->next());
  CHECK((other->valid() && other->key() == "z"));
  must(other->seek("b"));
  CHECK((other->valid() && other->key() == "z"));
}

BACKEND_TEST("cursors on an empty table are never valid") {
  Kind kind;
  auto b = kind.open();
  write_committed(*b, table::heads, "elsewhere", "v");
  auto txn = must(b->begin_read());
  auto c = must(txn->open_cursor(table::nodes));
  must(c->first());
  CHECK_FALSE(c->valid());
  must(c->last());
  CHECK_FALSE(c->valid());
  must(c->seek("a"));
  CHECK_FALSE(c->valid());
}

BACKEND_TEST("a write cursor moves on correctly after its key is deleted") {
  Kind kind;
  auto b = kind.open();
  {
    auto txn = must(b->begin_write());
    for (const char* key : {"a", "b", "c", "d"})
      must(txn->put(table::versions, key, key));
    must(txn->commit());
  }
  auto txn = must(b->begin_write());
  auto c = must(txn->open_cursor(table::versions));
  must(c->seek("b"));
  REQUIRE(c->valid());
  must(txn->del(table::versions, "b"));
  must(c->next());
  REQUIRE(c->valid());
  CHECK(c->key() == "c");
  must(txn->del(table::versions, "c"));
  must(c->prev());
  REQUIRE(c->valid());
  CHECK(c->key() == "a");
}

BACKEND_TEST("tables are isolated from each other") {
  Kind kind;
  auto b = kind.open();
  const table all[] = {table::versions, table::heads, table::nodes,
                       table::meta};
  {
    auto txn = must(b->begin_write());
    for (table t : all)
      must(txn->put(t, "shared-key", std::string(to_string(t))));
    must(txn->put(table::nodes, "only-in-nodes", "x"));
    must(txn->commit());
  }
  {
    auto txn = must(b->begin_write());
    must(txn->del(table::heads, "shared-key"));
    must(txn->commit());
  }
  auto txn = must(b->begin_read());
  CHECK(read_value(*txn, table::versions, "shared-key") == "versions");
  CHECK_FALSE(read_value(*txn, table::heads, "shared-key"));
  CHECK(read_value(*txn, table::nodes, "shared-key") == "nodes");
  CHECK(read_value(*txn, table::meta, "shared-key") == "meta");
  CHECK_FALSE(read_value(*txn, table::meta, "only-in-nodes"));
  CHECK(keys_forward(*txn, table::nodes)
        == std::vector<std::string>{"only-in-nodes", "shared-key"});
}

// The second writer runs on its own thread and raises `began` once
// begin_write() returned. If it never returns the REQUIRE fails with the
// thread still joinable, and the process ends (std::terminate) instead of
// hanging: a failure either way.
void check_second_writer_waits(backend& b, bool commit_first) {
  auto first = must(b.begin_write());
  must(first->put(table::heads, "k", "first"));

  signal_flag began;
  std::optional<std::string> seen_by_second;
  errc second_outcome = errc::internal;
  std::thread second([&] {
    auto txn = b.begin_write();
    began.raise();
    if (!txn.ok()) {
      second_outcome = txn.err().code();
      return;
    }
    auto seen = (*txn)->get(table::heads, "k");
    if (seen.ok() && *seen)
      seen_by_second = std::string(**seen);
    auto put = (*txn)->put(table::heads, "k2", "second");
    second_outcome = put.ok() ? code_of((*txn)->commit()) : put.err().code();
  });

  CHECK_FALSE(began.wait_for(50ms));
  if (commit_first)
    must(first->commit());
  else
    first.reset();
  REQUIRE(began.wait_for(30s));
  second.join();
  CHECK(second_outcome == errc::ok);
  if (commit_first)
    CHECK(seen_by_second == "first");
  else
    CHECK_FALSE(seen_by_second);
  CHECK(read_committed(b, table::heads, "k2") == "second");
}

BACKEND_TEST("a second write transaction waits until the first commits") {
  Kind kind;
  auto b = kind.open();
  check_second_writer_waits(*b, true);
}

BACKEND_TEST("a second write transaction waits until the first is dropped") {
  Kind kind;
  auto b = kind.open();
  check_second_writer_waits(*b, false);
}

// The storage layer's loop for contract 5: abort, grow, run it all again.
BACKEND_TEST("map full then grow then retry succeeds") {
  Kind kind;
  auto b = kind.open_limited(64u << 10, 64u << 20);
  const std::string value(4096, 'v');
  constexpr int entries = 256; // 1 MiB of values
  int attempts = 0;
  for (bool committed = false; !committed; ++attempts) {
    REQUIRE(attempts < 20);
    auto txn = must(b->begin_write());
    result<void> outcome;
    for (int i = 0; i < entries && outcome.ok(); ++i)
      outcome = txn->put(table::versions, "entry-" + std::to_string(i), value);
    if (outcome.ok())
      outcome = txn->commit();
    committed = outcome.ok();
    if (!committed) {
      REQUIRE(code_of(outcome) == errc::map_full);
      txn.reset();
      must(b->grow());
    }
  }
  CHECK(attempts > 1);
  CHECK(b->stats().grows == static_cast<std::uint64_t>(attempts - 1));
  CHECK(b->stats().commits == 1);
  CHECK(b->stats().map_size > (64u << 10));
  auto txn = must(b->begin_read());
  CHECK(keys_forward(*txn, table::versions).size() == entries);
  CHECK(read_value(*txn, table::versions, "entry-255") == value);
}

BACKEND_TEST("grow past the maximum size fails with storage_full") {
  Kind kind;
  auto b = kind.open_limited(64u << 10, 256u << 10);
  CHECK(b->stats().map_size == (64u << 10));
  must(b->grow());
  CHECK(b->stats().map_size == (128u << 10));
  must(b->grow());
  CHECK(b->stats().map_size == (256u << 10));
  const auto refused = b->grow();
  CHECK(code_of(refused) == errc::storage_full);
  CHECK(b->stats().grows == 2);
  CHECK(b->stats().map_size == (256u << 10));
  write_committed(*b, table::meta, "still", "works");
}

BACKEND_TEST("a read transaction may move to another thread") {
  Kind kind;
  auto b = kind.open();
  write_committed(*b, table::heads, "k", "v");
  auto txn = must(b->begin_read());
  std::optional<std::string> seen;
  bool cursor_valid = false;
  std::thread elsewhere([&] {
    auto found = txn->get(table::heads, "k");
    if (found.ok() && *found)
      seen = std::string(**found);
    auto c = txn->open_cursor(table::heads);
    cursor_valid = c.ok() && (*c)->first().ok() && (*c)->valid();
  });
  elsewhere.join();
  CHECK(seen == "v");
  CHECK(cursor_valid);
  CHECK(read_value(*txn, table::heads, "k") == "v");
  txn.reset();
  write_committed(*b, table::heads, "k", "after");
}

BACKEND_TEST("a write transaction refuses use after commit") {
  Kind kind;
  auto b = kind.open();
  auto txn = must(b->begin_write());
  must(txn->put(table::heads, "k", "v"));
  must(txn->commit());
  CHECK_FALSE(txn->put(table::heads, "k", "again").ok());
  CHECK_FALSE(txn->get(table::heads, "k").ok());
  CHECK_FALSE(txn->commit().ok());
  CHECK(b->stats().commits == 1);
  CHECK(read_committed(*b, table::heads, "k") == "v");
}

} // namespace
} // namespace profilestore
