// Messages between the runtime's own actors (store writer and reader, node,
// profiles). Not part of the public protocol (messages.hpp): they may change
// between versions. Types that cross nodes have inspect() (wire_types.hpp);
// the rest stay local (CAF_ALLOW_UNSAFE_MESSAGE_TYPE below).
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "profilestore/actors/messages.hpp"
#include "profilestore/store/storage.hpp"
#include "wire_types.hpp"

namespace profilestore {

using commit_atom = caf::atom_constant<caf::atom("ps_commit")>;
using hello_atom = caf::atom_constant<caf::atom("ps_hello")>;
using notify_atom = caf::atom_constant<caf::atom("ps_notify")>;
using release_atom = caf::atom_constant<caf::atom("ps_release")>;
using read_atom = caf::atom_constant<caf::atom("ps_read")>;
using list_atom = caf::atom_constant<caf::atom("ps_list")>;
using tick_atom = caf::atom_constant<caf::atom("ps_tick")>;
using retry_atom = caf::atom_constant<caf::atom("ps_retry")>;
using ended_atom = caf::atom_constant<caf::atom("ps_ended")>;
using report_atom = caf::atom_constant<caf::atom("ps_report")>;
using lend_atom = caf::atom_constant<caf::atom("ps_lend")>;
using return_atom = caf::atom_constant<caf::atom("ps_return")>;
using critical_atom = caf::atom_constant<caf::atom("ps_critic")>;
using deadline_atom = caf::atom_constant<caf::atom("ps_deadln")>;
// Cluster: a lock handed to a waiting requester, a lease renewal, a lease
// lost, the storage endpoint's join handshake.
using handed_atom = caf::atom_constant<caf::atom("ps_handed")>;
using lease_atom = caf::atom_constant<caf::atom("ps_lease")>;
using lease_lost_atom = caf::atom_constant<caf::atom("ps_leaselo")>;
using join_atom = caf::atom_constant<caf::atom("ps_join")>;
// Administration (admin_messages.hpp): the reader's (admin_atom, info_atom)
// answers the backend's map size (info_atom: messages.hpp).
using admin_atom = caf::atom_constant<caf::atom("ps_admin")>;
// The node's periodic check of start and save deadlines.
using sweep_atom = caf::atom_constant<caf::atom("ps_sweep")>;
// Storage to an owner's node, then node to profile: the key was overwritten
// or removed outside the session (set, remove, profilectl), so the session
// is over (it ends without a last save, as when a save is refused).
using lost_atom = caf::atom_constant<caf::atom("ps_lost")>;
// A profile to its node: its final save was refused for its content, so the
// session goes on (node_actor.cpp, on_end_refused).
using refused_atom = caf::atom_constant<caf::atom("ps_refused")>;
// The node to itself: send the start attempts queued while it handled the
// messages before this one to their writer (flush_starts, node_actor.cpp).
using flush_atom = caf::atom_constant<caf::atom("ps_flush")>;

// A profile lent to a transaction: its context, valid until it is returned.
struct lent_profile {
  profile_context* context = nullptr;
};

// What a transaction hands back to a lent profile.
struct return_outcome {
  bool saved = false;          // the group save committed
  save_reply reply;            // when saved
  std::optional<key_info> written;
};

// Session starts sent to a store writer in one message, by a node beside its
// storage (never over the wire): a burst of starts then reaches the writer
// at once, costs one message each way instead of one per start, and goes
// into one transaction instead of a first one holding just the first start.
// The writer applies them in this order, as if each had come alone.
struct start_group_op {
  std::vector<start_session_op> ops;
};

// One start of a group: what the writer would have answered alone.
struct start_group_result {
  std::optional<applied_op> applied; // committed
  error err;                         // otherwise, why not
};

// The writer's answer to a start_group_op, when the last of its starts is
// committed: one result per start, in the order of the request.
struct start_group_reply {
  std::vector<start_group_result> results;
};

} // namespace profilestore

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::start_group_op)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::start_group_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::lent_profile)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::return_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::error)
