// catalog: walks over everything a storage holds, for administration tools
// (profilectl's export, check, stats, sessions): every key of every store,
// every stored version, the node directory. Reads only, inside the caller's
// read transaction, so a walk sees one consistent snapshot.
//
// The walks go over the raw tables of docs/format.md and report what they
// find as it is, damaged entries included (a key that cannot be split, a head
// or version entry that does not decode), so that a checker can name them;
// storage::get, by contrast, turns a corrupt record into a fresh profile.
//
// Thread safety: like the transaction passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "profilestore/result.hpp"
#include "profilestore/store/backend.hpp"
#include "profilestore/store/versions.hpp"

namespace profilestore {

// A `heads` key split into its store and profile key (views into `k`);
// std::nullopt when it has no separator.
struct head_key_parts {
  std::string_view store;
  std::string_view key;
};
std::optional<head_key_parts> split_heads_key(std::string_view k);

// A `versions` key split into store, profile key and version number;
// std::nullopt when it does not have the shape store 0 key 0 be64.
struct version_key_parts {
  std::string_view store;
  std::string_view key;
  std::uint64_t version = 0;
};
std::optional<version_key_parts> split_versions_key(std::string_view k);

// One entry of the heads table. `head` is the decoded entry or its decoding
// error.
struct head_visit {
  std::string_view raw_key;
  std::optional<head_key_parts> name; // nullopt: the key is damaged
  result<head_entry> head;
};

// One entry of the versions table, decoded as far as its header (the record
// bytes are not decoded: see record_codec.hpp).
struct version_visit {
  std::string_view raw_key;
  std::optional<version_key_parts> name; // nullopt: the key is damaged
  stored_version entry;
};

// Return false from a visitor to stop the walk early.
using head_visitor = std::function<bool(const head_visit&)>;
using version_visitor = std::function<bool(const version_visit&)>;

// Every head, in key order; only those of `store` when it is not empty.
result<void> for_each_head(read_transaction& txn, std::string_view store,
                           const head_visitor& visit);

// Every version entry, in key order (a key's versions in increasing order);
// only those of `store` when it is not empty.
result<void> for_each_version(read_transaction& txn, std::string_view store,
                              const version_visitor& visit);

// Entries in a table (a full pass over its keys), for progress totals.
result<std::uint64_t> count_entries(read_transaction& txn, table t,
                                    std::string_view store = {});

// Every entry of the node directory (table::nodes): name and raw entry. The
// entry's format belongs to the cluster layer; the catalog does not decode it.
using node_visitor
  = std::function<bool(std::string_view name, std::string_view entry)>;
result<void> for_each_node(read_transaction& txn, const node_visitor& visit);

} // namespace profilestore
