// The client agent of a game node: a small remote protocol so that tools,
// tests and the demo can drive a game node process (start and end sessions,
// change data, trade, send messages) over CAF, with plain strings and numbers
// only. It is an illustration of a game server's own logic, not part of the
// library: a real game links profilestore and calls the node directly.
//
// Requests (every one answers or fails with a profilestore error):
//   (ag_open, store, template_json)                  -> unit
//   (ag_start, store, key)                           -> unit
//   (ag_end, store, key)                             -> unit
//   (ag_add, store, key, path, int64 delta)          -> int64 new value
//   (ag_save, store, key)                            -> unit
//   (ag_data, store, key)                            -> json of live data
//   (ag_read, store, key)                            -> json of stored data,
//                                                       "" when absent
//   (ag_gift, store, key, path, int64 delta)         -> uint64 message id
//   (ag_trade, store, from, to, path, int64 amount)  -> unit (transact)
// A session started through the agent applies gifts (messages
// {"path": P, "delta": N}) to its data as they arrive.
// Each request runs on a thread of its own (the node's blocking facade), so
// a start waiting for a hand-off does not hold up the others.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include "profilestore/actors/node.hpp"

namespace profilestore::node_app {

using ag_open_atom = caf::atom_constant<caf::atom("ag_open")>;
using ag_start_atom = caf::atom_constant<caf::atom("ag_start")>;
using ag_end_atom = caf::atom_constant<caf::atom("ag_end")>;
using ag_add_atom = caf::atom_constant<caf::atom("ag_add")>;
using ag_save_atom = caf::atom_constant<caf::atom("ag_save")>;
using ag_data_atom = caf::atom_constant<caf::atom("ag_data")>;
using ag_read_atom = caf::atom_constant<caf::atom("ag_read")>;
using ag_gift_atom = caf::atom_constant<caf::atom("ag_gift")>;
using ag_trade_atom = caf::atom_constant<caf::atom("ag_trade")>;

// Spawns the agent for `n` (which must outlive it).
caf::actor spawn_game_agent(caf::actor_system& sys, node& n);

} // namespace profilestore::node_app
