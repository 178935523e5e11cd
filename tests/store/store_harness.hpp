// Test harness for the store layer: a storage on a fresh backend of either
// kind, a fixed clock moved by hand, and short helpers for the operations.
//
// BOTH_BACKENDS(fn, "sentence") defines two test cases, "sentence (memory)"
// and "sentence (lmdb)", each running `fn` on its own fresh backend (every
// write a version); BOTH_BACKENDS_WITH takes the storage options.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>

#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/value.hpp"
#include "profilestore/store/faulty_backend.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/memory_backend.hpp"
#include "profilestore/store/record_codec.hpp"
#include "profilestore/store/storage.hpp"
#include "temp_dir.hpp"

namespace profilestore::testing {

enum class backend_kind { memory, lmdb };

inline constexpr const char* test_store = "players";

// A session of node `node` (incarnation 1 unless given).
inline session_ref session_of(std::string node, std::uint64_t id,
                              std::uint64_t incarnation = 1) {
  return session_ref{std::move(node), incarnation, id};
}

inline std::string bytes_of(const value& v) {
  return encode_msgpack(v);
}

inline value value_of(std::string_view bytes) {
  auto v = decode_msgpack(bytes);
  REQUIRE_MESSAGE(v.ok(), "stored bytes do not decode");
  return *v;
}

class store_harness {
public:
  explicit store_harness(backend_kind kind, storage_options options = {})
    : kind_(kind) {
    if (kind == backend_kind::memory) {
      inner_ = std::make_unique<memory_backend>();
    } else {
      dir_ = std::make_unique<temp_dir>("store");
      lmdb_options lo;
      lo.path = dir_->path();
      lo.initial_map_size = std::size_t{1} << 20;
      auto opened = lmdb_backend::open(lo);
      REQUIRE_MESSAGE(opened.ok(), opened.err().to_string());
      inner_ = std::move(*opened);
    }
    faulty_ = std::make_unique<faulty_backend>(*inner_);
    store_ = std::make_unique<storage>(*faulty_, options);
    template_ = std::make_shared<const std::string>(
      bytes_of(value::object({{"coins", 0}, {"items", value_array{}}})));
  }

  backend_kind kind() const { return kind_; }
  storage& store() { return *store_; }
  faulty_backend& faults() { return *faulty_; }
  backend& inner() { return *inner_; }
  std::int64_t now() const { return now_; }
  void advance(std::int64_t ms) { now_ += ms; }
  const std::shared_ptr<const std::string>& template_data() const {
    return template_;
  }

  result<applied_op> run(operation op) {
    return store_->apply(op, now_);
  }

  start_session_reply start(std::string key, session_ref who,
                            bool first_attempt = true, bool steal = false) {
    start_session_op op{test_store, std::move(key), {}, template_};
    op.request.requester = std::move(who);
    op.request.first_attempt = first_attempt;
    op.request.steal = steal;
    auto r = run(op);
    REQUIRE_MESSAGE(r.ok(), r.err().to_string());
    return std::get<start_session_reply>(r->reply);
  }

  save_request save_of(session_ref who, const value& data,
                       final_action final = final_action::none) {
    save_request req;
    req.session = std::move(who);
    req.data = bytes_of(data);
    req.final = final;
    return req;
  }

  result<applied_op> save(std::string key, save_request req) {
    return run(save_op{test_store, std::move(key), std::move(req)});
  }

  result<applied_op> message(std::string key, const value& msg,
                             std::size_t max_queue = 0) {
    return run(message_op{test_store, std::move(key),
                          message_request{bytes_of(msg), max_queue}});
  }

  // The latest record; fails the test when absent.
  record stored(const std::string& key) {
    auto r = store_->get(test_store, key);
    REQUIRE_MESSAGE(r.ok(), r.err().to_string());
    REQUIRE_MESSAGE(r->has_value(), "no record under " << key);
    return (*r)->rec;
  }

  // Every version of a key, ascending.
  std::vector<key_info> versions(const std::string& key) {
    version_query q;
    q.limit = 100000;
    auto page = store_->list_versions(test_store, key, q);
    REQUIRE_MESSAGE(page.ok(), page.err().to_string());
    return page->versions;
  }

  // Writes raw bytes as the latest version of a key (to inject corruption or
  // records from elsewhere), bypassing the record codec.
  void inject_raw(const std::string& key, std::string_view bytes) {
    auto txn = faulty_->begin_write();
    REQUIRE(txn.ok());
    version_write w;
    w.record_bytes = bytes;
    w.force_new_version = true;
    auto info = write_version(**txn, test_store, key, w, now_,
                              store_->options().versions);
    REQUIRE_MESSAGE(info.ok(), info.err().to_string());
    REQUIRE((*txn)->commit().ok());
  }

private:
  backend_kind kind_;
  std::unique_ptr<temp_dir> dir_;
  std::unique_ptr<backend> inner_;
  std::unique_ptr<faulty_backend> faulty_;
  std::unique_ptr<storage> store_;
  std::shared_ptr<const std::string> template_;
  std::int64_t now_ = 1'700'000'000'000; // a fixed storage clock, in ms
};

// Storage options with every write a version (version tests set their own).
inline storage_options every_write_versioned() {
  storage_options o;
  o.versions.window_ms = 0;
  return o;
}

} // namespace profilestore::testing

#define PROFILESTORE_CAT2(a, b) a##b
#define PROFILESTORE_CAT(a, b) PROFILESTORE_CAT2(a, b)

// BOTH_BACKENDS_WITH(fn, "sentence", options): the same with the storage
// options `options` (an expression evaluated for each case).
#define BOTH_BACKENDS_WITH(fn, sentence, options)                              \
  static void fn(::profilestore::testing::store_harness& h);                   \
  TEST_CASE(sentence " (memory)") {                                            \
    ::profilestore::testing::store_harness h(                                  \
      ::profilestore::testing::backend_kind::memory, options);                 \
    fn(h);                                                                     \
  }                                                                            \
  TEST_CASE(sentence " (lmdb)") {                                              \
    ::profilestore::testing::store_harness h(                                  \
      ::profilestore::testing::backend_kind::lmdb, options);                   \
    fn(h);                                                                     \
  }                                                                            \
  static void fn(::profilestore::testing::store_harness& h)

#define BOTH_BACKENDS(fn, sentence)                                            \
  BOTH_BACKENDS_WITH(fn, sentence,                                             \
                     ::profilestore::testing::every_write_versioned())
