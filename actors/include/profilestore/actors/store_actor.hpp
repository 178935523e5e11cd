// store_actor: the only writer of one storage (a backend with its versioned
// records), and its reader.
//
// Contracts:
//  - Write operations (start_session_op, save_op, save_group_op, message_op,
//    set_op, remove_op; replies: applied_op) apply in mailbox order, so the
//    calls on one key keep the order they were sent in.
//  - Group commit: the first write that arrives while none is pending sends
//    the actor a commit message; every write queued before that message
//    joins the same transaction, one durable commit covers them all, and only
//    then is each caller answered. A reply means durable.
//  - Reads go to the separate reader actor, which shares the storage and
//    reads in its own transactions: a read never waits behind a commit.
//  - Owners are told at once: after a committed message_op the node actor of
//    the profile's owner gets (notify_atom, store, key, queued_update); after
//    a start_session_op that found the key locked by another node, that node
//    gets (release_atom, store, key, owner, requester). Nodes announce
//    themselves with (hello_atom, node name, node actor).
//  - Times are the storage's clock (`clock`), never a caller's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "profilestore/store/backend.hpp"
#include "profilestore/store/storage.hpp"

namespace profilestore {

struct store_actor_options {
  storage_options storage{};
  // Milliseconds since the epoch; the system clock when empty. Tests pass a
  // clock driven by CAF's test coordinator.
  std::function<std::int64_t()> clock;
  // At most this many writes join one transaction (the rest the next one)...
  std::size_t max_batch = 16384;
  // ...and, beyond its first write, at most this many bytes of what they
  // carry (storage::payload_bytes: Data, messages, metadata, templates). A
  // burst of large profiles so makes several transactions, not one that
  // holds every caller until all of it is written.
  std::size_t max_batch_bytes = std::size_t{64} << 20;
  // Run the writer on a thread of its own, so the scheduler's workers keep
  // running profiles while it waits for the disk. Tests on CAF's
  // deterministic test coordinator set this to false.
  bool detached_writer = true;
};

struct store_actors {
  caf::actor writer;
  caf::actor reader;
  // Set by spawn_store_actors, null for a storage connection
  // (connect_storage): tools and tests read through it, and a node takes it
  // as the sign that `writer` is a store writer beside it, which also takes
  // session starts grouped in one message.
  std::shared_ptr<storage> shared_storage;

  // Stops both actors (an actor system waits for its actors before it can
  // be destroyed). Call it after the nodes using them have shut down:
  // writes still queued are not answered.
  void stop() const;
};

store_actors spawn_store_actors(caf::actor_system& sys,
                                std::shared_ptr<backend> b,
                                store_actor_options options = {});

// How many scheduler workers an actor system running profilestore should
// have: the machine's cores, less one for the store writer's own thread when
// the process hosts storage (the writer runs detached), at least one; 4, as
// CAF does, when the core count is unknown (0). CAF 0.17's default,
// max(cores, 4), puts more busy threads than cores on small machines: on the
// 2-core development machine one worker beside the writer gave 47,000-56,000
// durable saves per second where CAF's four gave 33,000-39,000, and used
// half the CPU per burst of session starts (docs/performance.md).
std::size_t recommended_workers(bool hosts_storage, unsigned cores);

// Sets `cfg`'s scheduler.max-threads to recommended_workers(hosts_storage,
// this machine's cores). Call it before creating the actor system; a value
// set afterwards on `cfg` wins.
void use_recommended_workers(caf::actor_system_config& cfg,
                             bool hosts_storage);

// Milliseconds since the epoch by the system clock.
std::int64_t system_clock_ms();

} // namespace profilestore
