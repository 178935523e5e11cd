// catalog (catalog.hpp): cursor walks over the raw tables of docs/format.md.
#include "profilestore/store/catalog.hpp"

namespace profilestore {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The key prefix of one store's entries in heads and versions, or "" for all.
std::string store_prefix(std::string_view store) {
  if (store.empty())
    return {};
  std::string p(store);
  p.push_back('\0');
  return p;
}

// Walks table `t` from `prefix` while keys start with it.
template <class Visit>
result<void> walk(read_transaction& txn, table t, std::string_view prefix,
                  Visit&& visit) {
  auto cur = txn.open_cursor(t);
  if (!cur)
    return std::move(cur).err();
  auto& c = **cur;
  if (prefix.empty())
    PROFILESTORE_TRY(c.first());
  else
    PROFILESTORE_TRY(c.seek(prefix));
  while (c.valid() && starts_with(c.key(), prefix)) {
    if (!visit(c.key(), c.value()))
      break;
    PROFILESTORE_TRY(c.next());
  }
  return {};
}

} // namespace

std::optional<head_key_parts> split_heads_key(std::string_view k) {
  auto sep = k.find('\0');
  if (sep == std::string_view::npos || sep == 0 || sep + 1 == k.size())
    return std::nullopt;
  return head_key_parts{k.substr(0, sep), k.substr(sep + 1)};
}

std::optional<version_key_parts> split_versions_key(std::string_view k) {
  // store 0 key 0 be64: at least 1 + 1 + 1 + 1 + 8 bytes.
  if (k.size() < 12 || k[k.size() - 9] != '\0')
    return std::nullopt;
  auto name = split_heads_key(k.substr(0, k.size() - 9));
  if (!name || name->key.find('\0') != std::string_view::npos)
    return std::nullopt;
  std::uint64_t version = 0;
  for (std::size_t i = k.size() - 8; i < k.size(); ++i)
    version = (version << 8) | static_cast<unsigned char>(k[i]);
  return version_key_parts{name->store, name->key, version};
}

result<void> for_each_head(read_transaction& txn, std::string_view store,
                           const head_visitor& visit) {
  return walk(txn, table::heads, store_prefix(store),
              [&](std::string_view k, std::string_view v) {
                return visit(head_visit{k, split_heads_key(k),
                                        decode_head_entry(v)});
              });
}

result<void> for_each_version(read_transaction& txn, std::string_view store,
                              const version_visitor& visit) {
  return walk(txn, table::versions, store_prefix(store),
              [&](std::string_view k, std::string_view v) {
                auto name = split_versions_key(k);
                std::uint64_t number = name ? name->version : 0;
                return visit(
                  version_visit{k, name, decode_version_entry(number, v)});
              });
}

result<std::uint64_t> count_entries(read_transaction& txn, table t,
                                    std::string_view store) {
  std::uint64_t n = 0;
  PROFILESTORE_TRY(walk(txn, t, store_prefix(store),
                        [&](std::string_view, std::string_view) {
                          ++n;
                          return true;
                        }));
  return n;
}

result<void> for_each_node(read_transaction& txn, const node_visitor& visit) {
  return walk(txn, table::nodes, {}, visit);
}

} // namespace profilestore
