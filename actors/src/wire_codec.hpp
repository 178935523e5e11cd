// wire_codec: the bytes of the runtime's messages between nodes.
//
// Messages between a game node and a storage node (operations, their replies,
// reads, notices) carry C++ structs with optionals, variants and shared
// pointers, which CAF 0.17 cannot serialise by itself. Each such type gets a
// CAF inspect() (wire_types.hpp) that turns it into one MessagePack blob with
// these functions, so the same handlers serve local and remote senders and
// nothing is encoded for a local send (CAF serialises only across nodes).
//
// Contracts:
//  - decode() never trusts its input: every read is bounded (msgpack_reader
//    under wire_limits()), user payloads (Data, tags, key metadata, message
//    data) are validated as MessagePack under the same limits storage uses,
//    and a failure is a caf::error naming the type, never a crash. A message
//    that fails to decode is dropped by CAF; its sender's request times out.
//  - Every blob starts with wire_version; a peer speaking another version is
//    refused with a clear error (nodes also compare versions when joining).
//  - Records inside replies use the record format (record_codec.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "admin_messages.hpp"
#include "profilestore/store/storage.hpp"

namespace profilestore {

// Replies of the store reader: a read request and its answer.
struct read_request {
  std::string store;
  std::string key;
  std::optional<std::uint64_t> version;
  // Shapes the fresh record returned for corrupt bytes (may be null).
  std::shared_ptr<const std::string> template_data;
};

struct read_result {
  std::optional<read_reply> found; // nullopt: absent, removed, no such version
};

// A page of a key's versions (the public version_query / version_page stay
// local-only types; these wrap them for the reader's protocol).
struct list_request {
  std::string store;
  std::string key;
  version_query query;
};

struct list_result {
  version_page page;
};

// A node's lease renewal (heartbeat), written to the node directory.
struct lease_request {
  std::string node;
  std::uint64_t incarnation = 0;
  std::string address; // where the node listens, for tools
  std::int64_t lease_ms = 10'000;
};

struct lease_reply {
  std::int64_t lease_until = 0; // storage clock, ms since the epoch
  std::int64_t now = 0;         // storage clock at the renewal
};

namespace wire {

inline constexpr std::uint64_t wire_version = 1;

// Every type that crosses nodes, once: X(type) for each. The codec, the CAF
// inspect() overloads (wire_types.hpp) and the registration with the actor
// system (add_cluster_types) all expand this list.
#define PROFILESTORE_WIRE_TYPES(X)                                             \
  X(session_ref)                                                               \
  X(queued_update)                                                             \
  X(start_session_op)                                                          \
  X(save_op)                                                                   \
  X(save_group_op)                                                             \
  X(message_op)                                                                \
  X(set_op)                                                                    \
  X(remove_op)                                                                 \
  X(edit_updates_op)                                                           \
  X(applied_op)                                                                \
  X(read_request)                                                              \
  X(read_result)                                                               \
  X(list_request)                                                              \
  X(list_result)                                                               \
  X(lease_request)                                                             \
  X(lease_reply)                                                               \
  X(admin_scan_request)                                                        \
  X(admin_scan_page)                                                           \
  X(admin_write_request)                                                       \
  X(admin_write_reply)                                                         \
  X(admin_prune_request)                                                       \
  X(admin_prune_reply)

#define PROFILESTORE_WIRE_DECLARE(T)                                           \
  std::string encode(const T& x);                                              \
  caf::error decode(std::string_view bytes, T& x);
PROFILESTORE_WIRE_TYPES(PROFILESTORE_WIRE_DECLARE)
#undef PROFILESTORE_WIRE_DECLARE

} // namespace wire
} // namespace profilestore
