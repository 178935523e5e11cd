// profilectl's connection to a storage node (node_connection.hpp).
#include "node_connection.hpp"

#include <optional>

#include <caf/scoped_actor.hpp>

#include "internal_messages.hpp"
#include "profilestore/actors/errors.hpp"
#include "profilestore/actors/node.hpp" // detail::ask

namespace profilestore::ctl {
namespace {

std::string seconds_text(duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    std::string frac = std::to_string(1000 + ms % 1000).substr(1);
    while (!frac.empty() && frac.back() == '0')
      frac.pop_back();
    s += "." + frac;
  }
  return s + " s";
}

} // namespace

node_connection::node_connection(endpoint where, duration timeout)
  : where_(std::move(where)), timeout_(timeout) {}

node_connection::~node_connection() {
  writer_ = caf::actor{};
  reader_ = caf::actor{};
  sys_.reset();
}

result<std::shared_ptr<node_connection>>
node_connection::open(const endpoint& where, const tls_options& tls,
                      duration timeout) {
  PROFILESTORE_TRY(tls.check());
  std::shared_ptr<node_connection> c(new node_connection(where, timeout));
  add_cluster_types(c->cfg_, tls);
  c->sys_ = std::make_unique<caf::actor_system>(c->cfg_);
  auto endpoint_actor = connect_actor(*c->sys_, where.host, where.port,
                                      timeout);
  if (!endpoint_actor)
    return make_error(errc::unreachable,
                      "cannot reach a storage node at " + to_string(where)
                        + (tls.enabled() ? " over TLS" : "") + ": "
                        + endpoint_actor.err().message()
                        + "; nothing was read or written");
  // The join handshake of game nodes: same wire version, or a clear refusal.
  caf::scoped_actor self{*c->sys_};
  std::optional<error> failed;
  self->request(*endpoint_actor, timeout, join_atom::value, wire::wire_version)
    .receive(
      [&](caf::actor& writer, caf::actor& reader) {
        c->writer_ = std::move(writer);
        c->reader_ = std::move(reader);
      },
      [&](caf::error& e) { failed = from_caf_error(e); });
  if (failed || !c->writer_ || !c->reader_)
    return make_error(
      failed ? failed->code() : errc::unreachable,
      "the storage node at " + to_string(where) + " did not accept profilectl"
        + (failed ? ": " + failed->message()
                  : std::string(": no writer and reader in its answer"))
        + " (is it a profilestore storage node, reached within "
        + seconds_text(timeout) + "?)");
  return c;
}

error node_connection::explain(const error& e, const char* what,
                               bool writes) const {
  std::string msg = "storage node " + to_string(where_) + ", " + what + ": ";
  if (e.code() == errc::timeout)
    return make_error(errc::timeout,
                      msg + "no answer within " + seconds_text(timeout_)
                        + " (--timeout)"
                        + (writes ? "; the node may still apply the write: "
                                    "check with profilectl get before "
                                    "repeating it"
                                  : ""));
  if (e.code() == errc::unreachable)
    return make_error(errc::unreachable,
                      msg + "the connection was lost (" + e.message() + ")"
                        + (writes ? "; the write may or may not have been "
                                    "applied: check with profilectl get"
                                  : ""));
  return make_error(e.code(), msg + e.message());
}

result<admin_scan_page> node_connection::scan(const admin_scan_request& req) {
  auto r = detail::ask<admin_scan_page>(*sys_, reader_, timeout_, req);
  if (!r)
    return explain(r.err(), "reading", false);
  return r;
}

result<std::uint64_t> node_connection::map_size() {
  auto r = detail::ask<std::uint64_t>(*sys_, reader_, timeout_,
                                      admin_atom::value, info_atom::value);
  if (!r)
    return explain(r.err(), "asking its map size", false);
  return r;
}

result<admin_write_reply>
node_connection::write(const admin_write_request& req) {
  auto r = detail::ask<admin_write_reply>(*sys_, writer_, timeout_, req);
  if (!r)
    return explain(r.err(), "writing", true);
  return r;
}

result<admin_prune_reply>
node_connection::prune(const admin_prune_request& req) {
  auto r = detail::ask<admin_prune_reply>(*sys_, writer_, timeout_, req);
  if (!r)
    return explain(r.err(), "pruning", true);
  return r;
}

} // namespace profilestore::ctl
