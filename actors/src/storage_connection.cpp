// The game side of a cluster: one actor that stands in for the store writer
// and reader of every shard (cluster.hpp has the contracts).
//
// Requests are routed by shard_of() and delegated to the shard's remote
// writer or reader, so the reply goes straight from the storage node to the
// original requester and the requester's own timeout bounds it. The actor
// connects, re-connects with backoff after a storage node went away (CAF
// sends a down message when the connection drops), introduces the node to
// each shard (hello) and renews the node's lease there.
#include <algorithm>
#include <chrono>
#include <set>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/stateful_actor.hpp>

#include "internal_messages.hpp"
#include "profilestore/actors/cluster.hpp"
#include "profilestore/actors/errors.hpp"
#include "profilestore/actors/node.hpp" // detail::ask_unit

namespace profilestore {
namespace {

using time_point = caf::actor_clock::time_point;
using connect_retry_atom = caf::atom_constant<caf::atom("ps_reconn")>;
using lease_check_atom = caf::atom_constant<caf::atom("ps_leasech")>;

struct shard_connection {
  endpoint where;
  caf::actor writer;
  caf::actor reader;
  bool connecting = false;
  unsigned failures = 0;
  // The lease as this node must assume it: from the sending of the last
  // renewal that succeeded, plus NODE_LEASE.
  std::optional<time_point> lease_until;
  std::uint64_t lease_sequence = 0; // successful renewals
  bool renewing = false;
  bool lease_lost = false; // told the node; cleared by the next renewal
  std::string last_error;
};

struct connection_state {
  remote_storage_options options;
  std::vector<shard_connection> shards;
  caf::actor node; // from the node's hello
  std::vector<caf::response_promise> waiting_connected;
  static inline const char* name = "profilestore.storage_connection";
};

using connection_actor = caf::stateful_actor<connection_state>;

// Ready: every shard connected and holding this node's lease.
bool all_ready(const connection_state& s) {
  return std::all_of(s.shards.begin(), s.shards.end(),
                     [](const shard_connection& c) {
                       return c.writer && c.lease_until;
                     });
}

void deliver_if_ready(connection_state& s) {
  if (!all_ready(s))
    return;
  for (auto& rp : s.waiting_connected)
    rp.deliver(caf::unit);
  s.waiting_connected.clear();
}

void renew_lease(connection_actor* self, std::size_t i);

void schedule_reconnect(connection_actor* self, std::size_t i,
                        std::string why) {
  auto& c = self->state.shards[i];
  c.connecting = false;
  c.last_error = std::move(why);
  auto step = std::min<unsigned>(c.failures, 5);
  c.failures++;
  auto delay = std::chrono::milliseconds(50 << step); // 50 ms .. 1.6 s
  self->delayed_send(self, delay, connect_retry_atom::value, i);
}

void on_connected(connection_actor* self, std::size_t i, caf::actor writer,
                  caf::actor reader) {
  auto& s = self->state;
  auto& c = s.shards[i];
  c.connecting = false;
  c.failures = 0;
  c.last_error.clear();
  c.writer = std::move(writer);
  c.reader = std::move(reader);
  self->monitor(c.writer);
  if (s.node)
    self->send(c.writer, hello_atom::value, s.options.node_name, s.node);
  renew_lease(self, i);
}

void connect(connection_actor* self, std::size_t i) {
  auto& s = self->state;
  auto& c = s.shards[i];
  if (c.connecting || c.writer)
    return;
  c.connecting = true;
  auto timeout = s.options.connect_timeout;
  auto& sys = self->system();
  auto mm = sys.has_openssl_manager() ? sys.openssl_manager().actor_handle()
                                      : sys.middleman().actor_handle();
  self->request(mm, timeout, caf::connect_atom::value, c.where.host,
                c.where.port)
    .then(
      [self, i, timeout](const caf::node_id&, caf::strong_actor_ptr& ptr,
                         const std::set<std::string>&) {
        if (!ptr) {
          schedule_reconnect(self, i, "no storage endpoint published there");
          return;
        }
        auto ep = caf::actor_cast<caf::actor>(ptr);
        self->request(ep, timeout, join_atom::value, wire::wire_version)
          .then(
            [self, i](caf::actor& writer, caf::actor& reader) {
              on_connected(self, i, std::move(writer), std::move(reader));
            },
            [self, i](caf::error& err) {
              schedule_reconnect(self, i, from_caf_error(err).message());
            });
      },
      [self, i](caf::error& err) {
        schedule_reconnect(self, i, self->system().render(err));
      });
}

void lease_lost(connection_actor* self, std::size_t i) {
  auto& s = self->state;
  auto& c = s.shards[i];
  if (c.lease_lost)
    return;
  c.lease_lost = true;
  c.lease_until.reset();
  if (s.node)
    self->send(s.node, lease_lost_atom::value);
}

void renew_lease(connection_actor* self, std::size_t i) {
  auto& s = self->state;
  auto& c = s.shards[i];
  if (!c.writer || c.renewing)
    return;
  c.renewing = true;
  auto sent = self->clock().now();
  lease_request req{s.options.node_name, s.options.incarnation,
                    s.options.address, s.options.lease.count()};
  self->request(c.writer, s.options.connect_timeout, lease_atom::value,
                std::move(req))
    .then(
      [self, i, sent](lease_reply&) {
        auto& st = self->state;
        auto& sc = st.shards[i];
        sc.renewing = false;
        sc.lease_until = sent + st.options.lease;
        sc.lease_lost = false;
        auto seq = ++sc.lease_sequence;
        auto left = *sc.lease_until - self->clock().now();
        self->delayed_send(self,
                           std::chrono::duration_cast<duration>(left)
                             + duration(1),
                           lease_check_atom::value, i, seq);
        deliver_if_ready(st);
      },
      [self, i](caf::error& err) {
        auto& sc = self->state.shards[i];
        sc.renewing = false;
        auto e = from_caf_error(err);
        sc.last_error = e.message();
        // A newer process of this node holds the directory entry: this
        // process has been replaced and must not hold sessions.
        if (e.code() == errc::conflict)
          lease_lost(self, i);
      });
}

caf::error not_connected(const shard_connection& c) {
  return to_caf_error(errc::unreachable,
                      "storage node " + to_string(c.where)
                        + " is not connected"
                        + (c.last_error.empty() ? std::string()
                                                : " (" + c.last_error + ")")
                        + "; retrying in the background");
}

// Hands the current request on to `dest`: its reply goes to the original
// requester.
template <class... Ts>
caf::response_promise forward(connection_actor* self, const caf::actor& dest,
                              Ts&&... xs) {
  auto rp = self->make_response_promise();
  rp.delegate(dest, std::forward<Ts>(xs)...);
  return rp;
}

template <class Op>
caf::result<applied_op> route_write(connection_actor* self, Op& op) {
  auto& s = self->state;
  auto& c = s.shards[shard_of(op.store, op.key, s.shards.size())];
  if (!c.writer)
    return not_connected(c);
  return forward(self, c.writer, std::move(op));
}

caf::behavior connection_behavior(connection_actor* self,
                                  remote_storage_options options) {
  auto& s = self->state;
  s.options = std::move(options);
  for (auto& where : s.options.shards)
    s.shards.push_back(shard_connection{where, {}, {}, false, 0, {}, 0,
                                        false, false, {}});
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (std::size_t i = 0; i < st.shards.size(); ++i) {
      auto& c = st.shards[i];
      if (c.writer && c.writer.address() == msg.source) {
        c.writer = nullptr;
        c.reader = nullptr;
        c.renewing = false;
        // The lease itself runs on (lease_until stays): sessions go on if
        // the shard is back before it runs out.
        schedule_reconnect(self, i, "the connection was lost");
      }
    }
  });
  for (std::size_t i = 0; i < s.shards.size(); ++i)
    connect(self, i);
  self->delayed_send(self, s.options.heartbeat, tick_atom::value);
  return {
    [self](start_session_op& op) { return route_write(self, op); },
    [self](save_op& op) { return route_write(self, op); },
    [self](message_op& op) { return route_write(self, op); },
    [self](set_op& op) { return route_write(self, op); },
    [self](remove_op& op) { return route_write(self, op); },
    [self](edit_updates_op& op) { return route_write(self, op); },
    [self](save_group_op& op) -> caf::result<applied_op> {
      auto& st = self->state;
      if (op.saves.empty())
        return to_caf_error(errc::invalid_argument, "an empty save group");
      auto shard = shard_of(op.store, op.saves.front().key, st.shards.size());
      for (const auto& save : op.saves)
        if (shard_of(op.store, save.key, st.shards.size()) != shard)
          return to_caf_error(errc::invalid_argument,
                              "transact across storage shards is not "
                              "supported: "
                                + op.saves.front().key + " and " + save.key
                                + " live on different shards");
      auto& c = st.shards[shard];
      if (!c.writer)
        return not_connected(c);
      return forward(self, c.writer, std::move(op));
    },
    [self](read_atom, read_request& req) -> caf::result<read_result> {
      auto& st = self->state;
      auto& c = st.shards[shard_of(req.store, req.key, st.shards.size())];
      if (!c.reader)
        return not_connected(c);
      return forward(self, c.reader, read_atom::value, std::move(req));
    },
    [self](list_atom, list_request& req) -> caf::result<list_result> {
      auto& st = self->state;
      auto& c = st.shards[shard_of(req.store, req.key, st.shards.size())];
      if (!c.reader)
        return not_connected(c);
      return forward(self, c.reader, list_atom::value, std::move(req));
    },
    [self](hello_atom, const std::string&, const caf::actor& node) {
      auto& st = self->state;
      st.node = node;
      for (auto& c : st.shards)
        if (c.writer)
          self->send(c.writer, hello_atom::value, st.options.node_name, node);
      return caf::unit;
    },
    [self](join_atom) -> caf::result<caf::unit_t> {
      auto& st = self->state;
      if (all_ready(st))
        return caf::unit;
      auto rp = self->make_response_promise();
      st.waiting_connected.push_back(rp);
      return rp;
    },
    [self](connect_retry_atom, std::size_t i) { connect(self, i); },
    [self](tick_atom) {
      auto& st = self->state;
      for (std::size_t i = 0; i < st.shards.size(); ++i)
        renew_lease(self, i);
      self->delayed_send(self, st.options.heartbeat, tick_atom::value);
    },
    [self](lease_check_atom, std::size_t i, std::uint64_t sequence) {
      auto& c = self->state.shards[i];
      if (c.lease_sequence == sequence && c.lease_until
          && self->clock().now() >= *c.lease_until)
        lease_lost(self, i);
    },
  };
}

} // namespace

store_actors connect_storage(caf::actor_system& sys,
                             remote_storage_options options) {
  auto conn = sys.spawn(connection_behavior, std::move(options));
  return store_actors{conn, conn, nullptr};
}

result<void> wait_connected(caf::actor_system& sys, const store_actors& remote,
                            duration timeout) {
  auto r = detail::ask_unit(sys, remote.writer, timeout, join_atom::value);
  if (!r && r.err().code() == errc::timeout)
    return make_error(errc::unreachable,
                      "storage was not reachable within the timeout: "
                        + r.err().message());
  return r;
}

} // namespace profilestore
