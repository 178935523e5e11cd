// apply_all_or_nothing (atomic_batch.hpp) and the catalog walks
// (catalog.hpp), on both backends.
#include "profilestore/store/atomic_batch.hpp"
#include "profilestore/store/catalog.hpp"
#include "result_checks.hpp"
#include "store_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

set_op set_of(const std::string& key, const value& data) {
  set_request req;
  req.data = bytes_of(data);
  return set_op{test_store, key, req};
}

} // namespace

BOTH_BACKENDS(all_succeed_commits_every_operation,
              "an all-or-nothing batch that succeeds commits every operation") {
  auto done = must(apply_all_or_nothing(h.faults(), {},
                                        {set_of("a", value::object({{"x", 1}})),
                                         set_of("b", value::object({{"x", 2}}))},
                                        10));
  CHECK(done.size() == 2);
  CHECK(must(h.store().get(test_store, "a")).has_value());
  CHECK(must(h.store().get(test_store, "b")).has_value());
}

BOTH_BACKENDS(one_refusal_writes_nothing,
              "an all-or-nothing batch with one refused operation writes none") {
  must(h.store().apply(set_of("a", value::object({{"x", 1}})), 5));
  set_request bad;
  bad.data = bytes_of(value(7)); // Data must be a map or an array
  atomic_batch_failure failure;
  auto done = apply_all_or_nothing(
    h.faults(), {},
    {set_of("a", value::object({{"x", 2}})), set_of("b", value::object({})),
     set_op{test_store, "c", bad}},
    10, &failure);
  CHECK(code_of(done) == errc::invalid_argument);
  CHECK(failure.index == 2);
  CHECK(value_of(must(h.store().get(test_store, "a"))->rec.data)
        == value::object({{"x", 1}}));
  CHECK_FALSE(must(h.store().get(test_store, "b")).has_value());
  // The backend is free again: a later write goes through.
  must(h.store().apply(set_of("b", value::object({})), 11));
}

BOTH_BACKENDS(commit_map_full_grows_and_reruns,
              "an all-or-nothing batch whose commit finds the map full grows "
              "it and commits") {
  h.faults().fail_commits(1, errc::map_full);
  auto done = apply_all_or_nothing(h.faults(), {},
                                   {set_of("a", value::object({{"x", 1}})),
                                    set_of("b", value::object({{"x", 2}}))},
                                   10);
  REQUIRE_MESSAGE(done.ok(), done.err().to_string());
  CHECK(done->size() == 2);
  CHECK(h.faults().injected_commit_failures() == 1);
  CHECK(value_of(must(h.store().get(test_store, "a"))->rec.data)
        == value::object({{"x", 1}}));
  CHECK(value_of(must(h.store().get(test_store, "b"))->rec.data)
        == value::object({{"x", 2}}));
}

BOTH_BACKENDS(commit_map_full_for_good_is_storage_full,
              "an all-or-nothing batch whose commits keep finding the map "
              "full fails as storage full and writes nothing") {
  h.faults().fail_commits(faulty_backend::unlimited, errc::map_full);
  auto done = apply_all_or_nothing(h.faults(), {},
                                   {set_of("a", value::object({{"x", 1}}))},
                                   10);
  CHECK(code_of(done) == errc::storage_full);
  h.faults().heal();
  CHECK_FALSE(must(h.store().get(test_store, "a")).has_value());
}

BOTH_BACKENDS(catalog_walks_every_head_and_version,
              "the catalog walks every head and version in key order") {
  must(h.store().apply(set_of("a", value::object({})), 1));
  must(h.store().apply(set_of("a", value::object({{"v", 2}})), 2));
  must(h.store().apply(set_op{"other", "z", set_of("z", value::object({})).request}, 1));
  auto txn = must(h.faults().begin_read());
  std::vector<std::string> heads;
  must(for_each_head(*txn, {}, [&](const head_visit& v) {
    REQUIRE(v.name);
    REQUIRE(v.head.ok());
    heads.push_back(std::string(v.name->store) + "/" + std::string(v.name->key));
    return true;
  }));
  CHECK(heads == std::vector<std::string>{"other/z", "players/a"});
  std::vector<std::uint64_t> versions;
  must(for_each_version(*txn, test_store, [&](const version_visit& v) {
    REQUIRE(v.name);
    CHECK(v.name->key == "a");
    versions.push_back(v.name->version);
    return true;
  }));
  CHECK(versions == std::vector<std::uint64_t>{1, 2});
  CHECK(must(count_entries(*txn, table::versions)) == 3);
  CHECK(must(count_entries(*txn, table::heads, "other")) == 1);
  CHECK_FALSE(split_versions_key("short"));
  CHECK_FALSE(split_heads_key(std::string("nosep")));
}

