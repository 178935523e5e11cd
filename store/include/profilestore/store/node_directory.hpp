// node_directory: the cluster's nodes and their leases, in the backend's
// `nodes` table (docs/format.md, "Node directory entry").
//
// A game node renews its lease every NODE_HEARTBEAT; the entry says until when
// (storage clock) the node's sessions are vouched for. Storage consults it
// when a start finds a key locked by another node (rule S3 in ops.hpp): the
// owner's lease has expired when the directory holds the owner's incarnation
// with a lease in the past, or a newer incarnation of the owner's node (its
// process restarted). A node absent from the directory (single-process use,
// no heartbeats) never has an expired lease: SESSION_STEAL and ASSUME_DEAD
// still apply.
//
// Leases only decide when a lock may be taken over; safety comes from fencing
// (every save names its session and is refused once the lock moved).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "profilestore/result.hpp"
#include "profilestore/store/backend.hpp"
#include "profilestore/store/record.hpp"

namespace profilestore {

struct node_entry {
  std::uint64_t incarnation = 0;
  std::string address;        // where the node listens (for tools), may be ""
  std::int64_t heartbeat = 0;   // ms, storage clock: the last renewal
  std::int64_t lease_until = 0; // ms, storage clock
};

std::string encode_node_entry(const node_entry& e);
result<node_entry> decode_node_entry(std::string_view bytes);

result<std::optional<node_entry>> read_node(read_transaction& txn,
                                            std::string_view node);
result<std::vector<std::pair<std::string, node_entry>>>
list_nodes(read_transaction& txn);

// True when the directory says `owner`'s sessions are no longer vouched for.
bool owner_lease_expired(const std::optional<node_entry>& entry,
                         const session_ref& owner, std::int64_t now);

// The longest address a node may record: decode_node_entry reads entries of
// at most 4096 bytes, and an entry it cannot read vouches for nothing.
inline constexpr std::size_t max_node_address_bytes = 1024;

// Renews (or creates) the lease of `node` until now + lease_ms in its own
// durable write transaction. Refused with errc::conflict when the directory
// already holds a newer incarnation of the node (this process was replaced),
// and with errc::invalid_argument for an address over
// max_node_address_bytes or a lease that is not positive or runs past the
// int64 range.
result<node_entry> renew_lease(backend& b, std::string_view node,
                               std::uint64_t incarnation,
                               std::string_view address, std::int64_t lease_ms,
                               std::int64_t now);

} // namespace profilestore
