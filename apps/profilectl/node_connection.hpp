// A connection from profilectl to a running storage node (--connect): its
// own CAF actor system, joined to the node's storage endpoint like a game
// node (same wire version, same TLS options), and requests to the node's
// writer and reader, each bounded by --timeout.
//
// Contracts:
//  - open() fails with errc::unreachable (the peer cannot be reached, refused
//    TLS, nothing published there) or errc::timeout, naming HOST:PORT; it
//    never waits longer than the timeout per step (connect, join).
//  - Every request waits at most the timeout. A write that timed out may
//    still be applied by the node afterwards: the error says so.
//  - Not an actor: call it from one thread (profilectl's main thread).
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "admin_messages.hpp"
#include "profilestore/actors/cluster.hpp"
#include "profilestore/result.hpp"

namespace profilestore::ctl {

class node_connection {
public:
  static result<std::shared_ptr<node_connection>>
  open(const endpoint& where, const tls_options& tls, duration timeout);

  ~node_connection();
  node_connection(const node_connection&) = delete;
  node_connection& operator=(const node_connection&) = delete;

  // Reader requests: never wait behind the node's commits.
  result<admin_scan_page> scan(const admin_scan_request& req);
  result<std::uint64_t> map_size();
  // Writer requests: ordered with the node's own group commits.
  result<admin_write_reply> write(const admin_write_request& req);
  result<admin_prune_reply> prune(const admin_prune_request& req);

  const endpoint& where() const noexcept { return where_; }
  duration timeout() const noexcept { return timeout_; }

private:
  node_connection(endpoint where, duration timeout);
  // A CAF failure of a request as an error naming the node and the timeout.
  error explain(const error& e, const char* what, bool writes) const;

  endpoint where_;
  duration timeout_;
  // Destroyed in reverse order: the actor handles before the system, the
  // system before its configuration.
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::actor writer_;
  caf::actor reader_;
};

} // namespace profilestore::ctl
