#include "profilestore/store/node_directory.hpp"

#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/typed.hpp"
#include "profilestore/store/names.hpp"

namespace profilestore {

std::string encode_node_entry(const node_entry& e) {
  std::string out;
  {
    string_sink sink(out);
    msgpack::packer<string_sink> pk(sink);
    pk.pack_array(4);
    pk.pack_uint64(e.incarnation);
    pk.pack_str(static_cast<std::uint32_t>(e.address.size()));
    pk.pack_str_body(e.address.data(),
                     static_cast<std::uint32_t>(e.address.size()));
    pk.pack_int64(e.heartbeat);
    pk.pack_int64(e.lease_until);
  }
  return out;
}

result<node_entry> decode_node_entry(std::string_view bytes) {
  auto bad = [](const error& cause) {
    return make_error(errc::corrupt_record,
                      "node directory entry: " + cause.message());
  };
  decode_limits limits;
  limits.max_total_bytes = 4096;
  msgpack_reader r(bytes, limits);
  auto n = r.read_array_header();
  if (!n)
    return bad(n.err());
  if (*n != 4)
    return make_error(errc::corrupt_record,
                      "node directory entry has " + std::to_string(*n)
                        + " fields, not 4");
  node_entry e;
  auto inc = r.read_uint64();
  if (!inc)
    return bad(inc.err());
  auto addr = r.read_string();
  if (!addr)
    return bad(addr.err());
  auto hb = r.read_int64();
  if (!hb)
    return bad(hb.err());
  auto until = r.read_int64();
  if (!until)
    return bad(until.err());
  if (!r.at_end())
    return make_error(errc::corrupt_record,
                      "node directory entry has trailing bytes");
  e.incarnation = *inc;
  e.address.assign(addr->data(), addr->size());
  e.heartbeat = *hb;
  e.lease_until = *until;
  return e;
}

result<std::optional<node_entry>> read_node(read_transaction& txn,
                                            std::string_view node) {
  auto bytes = txn.get(table::nodes, node);
  if (!bytes)
    return std::move(bytes).err();
  if (!*bytes)
    return std::optional<node_entry>{};
  auto e = decode_node_entry(**bytes);
  if (!e)
    return std::move(e).err();
  return std::optional<node_entry>{std::move(*e)};
}

result<std::vector<std::pair<std::string, node_entry>>>
list_nodes(read_transaction& txn) {
  auto c = txn.open_cursor(table::nodes);
  if (!c)
    return std::move(c).err();
  std::vector<std::pair<std::string, node_entry>> out;
  PROFILESTORE_TRY((*c)->first());
  while ((*c)->valid()) {
    auto e = decode_node_entry((*c)->value());
    if (!e)
      return std::move(e).err();
    out.emplace_back(std::string((*c)->key()), std::move(*e));
    PROFILESTORE_TRY((*c)->next());
  }
  return out;
}

bool owner_lease_expired(const std::optional<node_entry>& entry,
                         const session_ref& owner, std::int64_t now) {
  if (!entry)
    return false;
  if (entry->incarnation > owner.incarnation)
    return true; // the owner's process was replaced
  return entry->incarnation == owner.incarnation && now >= entry->lease_until;
}

result<node_entry> renew_lease(backend& b, std::string_view node,
                               std::uint64_t incarnation,
                               std::string_view address, std::int64_t lease_ms,
                               std::int64_t now) {
  PROFILESTORE_TRY(check_node_name(node));
  if (lease_ms <= 0)
    return make_error(errc::invalid_argument, "a lease must be positive");
  std::int64_t until = 0;
  if (__builtin_add_overflow(now, lease_ms, &until))
    return make_error(errc::invalid_argument,
                      "a lease of " + std::to_string(lease_ms)
                        + " ms runs past the end of time");
  if (address.size() > max_node_address_bytes)
    return make_error(errc::invalid_argument,
                      "a node address is at most "
                        + std::to_string(max_node_address_bytes)
                        + " bytes; this one has "
                        + std::to_string(address.size()));
  for (int attempt = 0;; ++attempt) {
    auto txn = b.begin_write();
    if (!txn)
      return std::move(txn).err();
    auto current = read_node(**txn, node);
    // A corrupt entry is replaced: the directory is soft state, renewed
    // every heartbeat.
    if (current && *current && (*current)->incarnation > incarnation)
      return make_error(errc::conflict,
                        "node " + std::string(node) + " incarnation "
                          + std::to_string(incarnation)
                          + " was replaced by a newer process (incarnation "
                          + std::to_string((*current)->incarnation) + ")");
    node_entry e{incarnation, std::string(address), now, until};
    auto put = (*txn)->put(table::nodes, node, encode_node_entry(e));
    if (put.ok())
      put = (*txn)->commit();
    if (put.ok())
      return e;
    if (put.err().code() != errc::map_full || attempt >= 3)
      return std::move(put).err();
    txn->reset(); // abort before growing (backend contract 5)
    PROFILESTORE_TRY(b.grow());
  }
}

} // namespace profilestore
