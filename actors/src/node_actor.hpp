// node_actor: the profile runtime of one node (ProfileStore's module).
//
// Owns the session registry (which keys this node holds, which starts are in
// flight), runs the start-session retry loop, routes the store writer's
// notices to profiles, counts errors for the critical state, and runs the
// shutdown. See messages.hpp for its public protocol.
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "profilestore/actors/messages.hpp"
#include "profilestore/actors/store_actor.hpp"
#include "shared_node_state.hpp"

namespace profilestore {

struct node_actor_args {
  std::string name;
  std::uint64_t incarnation = 0;
  store_actors live;
  // Options of the in-memory storage behind mock stores (made on first use).
  store_actor_options mock_options;
  std::shared_ptr<shared_node_state> shared;
};

caf::actor spawn_node_actor(caf::actor_system& sys, node_actor_args args);

// How many STORE_REQUEST_TIMEOUTs a transaction waits for the answer to its
// group save before it gives its profiles back unsaved (transaction_actor.cpp
// says why more than one).
inline constexpr int transact_group_save_timeouts = 4;

// How long the node waits for a transact of `profiles` profiles before it
// answers errc::timeout: longer than the transaction's own worst case, one
// STORE_REQUEST_TIMEOUT per borrowed profile plus
// transact_group_save_timeouts for the group save, so the node passes on the
// transaction's own answer. The blocking facade waits longer still
// (facade_transact_timeout, node.hpp). Both derive from this function.
duration transact_timeout(duration store_request_timeout, std::size_t profiles);

// An actor for one transaction (messages.hpp: transact_atom): send it
// (transact_atom) once; it answers caf::unit or the error, then quits.
caf::actor spawn_transaction(caf::actor_system& sys,
                             std::vector<profile_handle> profiles,
                             transact_fn fn, caf::actor writer,
                             duration timeout);

} // namespace profilestore
