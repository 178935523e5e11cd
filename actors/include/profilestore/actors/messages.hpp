// The message protocol of the profile runtime, for actor code that talks to
// the node and profile actors with request(...).then(...). The blocking
// facade (node.hpp) sends exactly these messages.
//
// Node actor (node::actor()):
//   (start_atom, store_spec_ptr, key, start_options)      -> profile_handle
//   (message_atom, store_spec_ptr, key, std::string msgpack) -> std::uint64_t id
//   (global_update_atom, store_spec_ptr, key, edit_updates_request)
//                                                 -> edit_updates_reply
//   (get_atom, store_spec_ptr, key, std::optional<std::uint64_t> version)
//                                                 -> std::optional<profile_copy>
//   (versions_atom, store_spec_ptr, key, version_query)   -> version_page
//   (set_atom, store_spec_ptr, profile_copy)              -> caf::unit
//   (remove_atom, store_spec_ptr, key)                    -> bool existed
//   (transact_atom, std::vector<profile_handle>, transact_fn) -> caf::unit
//   (shutdown_atom, duration timeout)                     -> caf::unit
//   (constant_atom, std::string name, double value)       -> caf::unit
// Profile actor (profile_handle::actor):
//   (update_atom, context_fn)  -> caf::unit once fn has run
//   (save_atom)                -> caf::unit once a save begun after the call is durable
//   (end_atom)                 -> caf::unit once the final save is durable
//   (hooks_atom, profile_hooks) -> caf::unit (adds them)
//   (info_atom)                -> profile_snapshot
// Failures arrive as caf::error of profilestore's category (errors.hpp).
//
// These types travel inside one process only (they hold closures and shared
// pointers); the cluster protocol between nodes has its own serialisable
// messages.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "profilestore/actors/constants.hpp"
#include "profilestore/actors/types.hpp"
#include "profilestore/store/storage.hpp"

namespace profilestore {

using start_atom = caf::atom_constant<caf::atom("ps_start")>;
using message_atom = caf::atom_constant<caf::atom("ps_message")>;
// ProfileService's senders: add, change or clear active global updates.
using global_update_atom = caf::atom_constant<caf::atom("ps_gupdate")>;
using get_atom = caf::atom_constant<caf::atom("ps_get")>;
using versions_atom = caf::atom_constant<caf::atom("ps_version")>;
using set_atom = caf::atom_constant<caf::atom("ps_set")>;
using remove_atom = caf::atom_constant<caf::atom("ps_remove")>;
using transact_atom = caf::atom_constant<caf::atom("ps_transac")>;
using shutdown_atom = caf::atom_constant<caf::atom("ps_shutdn")>;
using constant_atom = caf::atom_constant<caf::atom("ps_const")>;
using update_atom = caf::atom_constant<caf::atom("ps_update")>;
using save_atom = caf::atom_constant<caf::atom("ps_save")>;
using end_atom = caf::atom_constant<caf::atom("ps_end")>;
using hooks_atom = caf::atom_constant<caf::atom("ps_hooks")>;
using info_atom = caf::atom_constant<caf::atom("ps_info")>;

// transact: runs on the data of every listed profile at once (in the order
// given) inside the transaction; returning an error aborts it and restores
// every profile's data.
using transact_fn
  = std::function<result<void>(std::vector<profile_context*>&)>;

} // namespace profilestore

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::store_spec_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::start_options)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::profile_handle)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<profilestore::profile_handle>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<std::uint64_t>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<profilestore::profile_copy>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::profile_copy)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::version_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::version_page)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::transact_fn)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::context_fn)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::profile_hooks)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::profile_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::duration)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::edit_updates_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(profilestore::edit_updates_reply)
