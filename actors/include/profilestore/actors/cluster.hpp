// cluster: profilestore across processes and machines, over CAF's remote
// actors (caf_io).
//
// A storage node owns an LMDB environment and publishes a storage endpoint:
//
//   add_cluster_types(cfg);                 // before the actor_system exists
//   caf::actor_system sys{cfg};
//   auto storage = spawn_store_actors(sys, std::make_shared<lmdb_backend>(...));
//   auto port = publish_storage(sys, storage, "127.0.0.1", 0);  // result<port>
//
// A game node connects to one storage node per shard and runs the ordinary
// node (node.hpp) on top of the connection:
//
//   auto remote = connect_storage(sys, {{{"127.0.0.1", port}}, "game-1", inc});
//   profilestore::node node(sys, remote, {"game-1", inc});
//
// Contracts:
//  - Every type that crosses nodes is registered by add_cluster_types (CAF
//    drops an unregistered type silently); call it on every node's config.
//  - The connection (connect_storage's actors) routes each key to its shard
//    by shard_of(); it reconnects by itself when a storage node goes away and
//    comes back (with backoff), and answers errc::unreachable meanwhile. Every
//    request has the caller's timeout; nothing waits forever.
//  - Leases: the connection renews the node's lease on every shard each
//    NODE_HEARTBEAT. When a shard's lease could not be renewed for NODE_LEASE
//    (measured from the sending of the last renewal that succeeded, so the
//    node gives up no later than storage does), the node ends every session
//    without saving: another node may own them by then.
//  - Hand-off: a start of a key another node owns asks storage, storage tells
//    the owner's node at once, the owner's final save hands the lock over in
//    the same write, and storage tells the requester at once. If the owner
//    does not answer, the requester is told to try again when the owner's
//    lease runs out (ops.hpp rule S3), then SESSION_STEAL and ASSUME_DEAD
//    apply as on one node.
//  - Sharding: transact() across shards is refused with errc::invalid_argument.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "profilestore/actors/constants.hpp"
#include "profilestore/actors/store_actor.hpp"
#include "profilestore/actors/types.hpp"
#include "profilestore/result.hpp"

namespace profilestore {

// TLS between nodes (CAF's openssl module): this node's certificate and key
// (PEM files) and the CA that signs every node's certificate. All three or
// none; with them, every connection in and out is encrypted and a peer
// without a certificate from that CA is refused. CAF does not check host
// names: use a private CA for the cluster.
struct tls_options {
  std::string certificate;
  std::string key;
  std::string ca;
  bool enabled() const noexcept {
    return !certificate.empty() || !key.empty() || !ca.empty();
  }
  // errc::invalid_argument naming what is missing when only some are set,
  // or when a file cannot be read.
  result<void> check() const;
};

// Registers the remote message types and loads CAF's io module (and, with
// `tls` enabled, the openssl module with those files). REQUIRES: tls.check().
void add_cluster_types(caf::actor_system_config& cfg,
                       const tls_options& tls = {});

// Publishes `whom` on host:port (port 0: an ephemeral one), over TLS when the
// system was configured with it. Returns the port.
result<std::uint16_t> publish_actor(caf::actor_system& sys,
                                    const caf::actor& whom,
                                    const std::string& host,
                                    std::uint16_t port);

// Connects to the actor published at host:port (over TLS when configured);
// blocks at most `timeout`. Not from inside an actor.
result<caf::actor> connect_actor(caf::actor_system& sys,
                                 const std::string& host, std::uint16_t port,
                                 duration timeout);

// Publishes `storage` (its writer and reader) on host:port (port 0: an
// ephemeral one). Returns the port. The storage node keeps running until its
// actor system ends; stop the store actors first (store_actors::stop()).
result<std::uint16_t> publish_storage(caf::actor_system& sys,
                                      const store_actors& storage,
                                      const std::string& host,
                                      std::uint16_t port);

struct endpoint {
  std::string host;
  std::uint16_t port = 0;
};

// "host:port" -> endpoint; a bare port means 127.0.0.1. A host is at most
// 253 bytes (the longest DNS name), so that a node's address always fits its
// node directory entry (node_directory.hpp, max_node_address_bytes).
result<endpoint> parse_endpoint(std::string_view text);
std::string to_string(const endpoint& e);

struct remote_storage_options {
  // One storage node per shard, in shard order. Every game node of a cluster
  // must list the same shards in the same order.
  std::vector<endpoint> shards;
  // This node (the lease's holder); must match the node's own config.
  std::string node_name;
  std::uint64_t incarnation = 0;
  // Where this node listens, for tools (profilectl nodes); may be empty.
  std::string address;
  duration heartbeat = std::chrono::seconds(2); // NODE_HEARTBEAT
  duration lease = std::chrono::seconds(10);    // NODE_LEASE
  // Bounds connecting and each lease renewal.
  duration connect_timeout = std::chrono::seconds(5);
};

// The shard of a key: FNV-1a (64 bit) of store ‖ 0x00 ‖ key, modulo `shards`.
// Stable across builds and platforms (docs/design.md, "Sharding").
std::size_t shard_of(std::string_view store, std::string_view key,
                     std::size_t shards);

// Spawns the connection to remote storage; returns it as store_actors (writer
// and reader are the same routing actor; shared_storage is null). Connecting
// happens in the background: until a shard is connected its requests fail
// with errc::unreachable. wait_connected() blocks until every shard is
// connected and holds this node's lease, or the timeout passes.
store_actors connect_storage(caf::actor_system& sys,
                             remote_storage_options options);
result<void> wait_connected(caf::actor_system& sys, const store_actors& remote,
                            duration timeout);

} // namespace profilestore
