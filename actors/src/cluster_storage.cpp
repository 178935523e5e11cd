// The storage side of a cluster, and what both sides share: type
// registration, endpoints, the shard function.
#include <charconv>
#include <fstream>
#include <optional>
#include <set>

#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>

#include "internal_messages.hpp"
#include "profilestore/actors/cluster.hpp"
#include "profilestore/actors/errors.hpp"

namespace profilestore {

result<void> tls_options::check() const {
  if (!enabled())
    return {};
  if (certificate.empty() || key.empty() || ca.empty())
    return make_error(errc::invalid_argument,
                      "TLS needs a certificate, a key and a CA together "
                      "(only some were given)");
  for (const auto* f : {&certificate, &key, &ca}) {
    std::ifstream in(*f);
    if (!in)
      return make_error(errc::invalid_argument,
                        "TLS: cannot read '" + *f + "'");
  }
  return {};
}

void add_cluster_types(caf::actor_system_config& cfg, const tls_options& tls) {
  cfg.load<caf::io::middleman>();
  if (tls.enabled()) {
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = tls.certificate;
    cfg.openssl_key = tls.key;
    cfg.openssl_cafile = tls.ca;
  }
#define PROFILESTORE_WIRE_REGISTER(T)                                          \
  cfg.add_message_type<T>("profilestore::" #T);
  PROFILESTORE_WIRE_TYPES(PROFILESTORE_WIRE_REGISTER)
#undef PROFILESTORE_WIRE_REGISTER
}

namespace {

// The published actor of a storage node: a game node joins by naming the
// wire version it speaks and gets the writer and the reader.
caf::behavior storage_endpoint(caf::event_based_actor* self,
                               store_actors storage) {
  // The endpoint ends with the writer (store_actors::stop()), so the actor
  // system does not wait for it at shutdown.
  self->link_to(storage.writer);
  return {
    [storage](join_atom, std::uint64_t version)
      -> caf::result<caf::actor, caf::actor> {
      if (version != wire::wire_version)
        return to_caf_error(errc::unsupported_format,
                            "this storage node speaks wire version "
                              + std::to_string(wire::wire_version)
                              + ", the joining node "
                              + std::to_string(version)
                              + "; run one profilestore version everywhere");
      return {storage.writer, storage.reader};
    },
  };
}

} // namespace

result<std::uint16_t> publish_storage(caf::actor_system& sys,
                                      const store_actors& storage,
                                      const std::string& host,
                                      std::uint16_t port) {
  if (!storage.writer || !storage.reader)
    return make_error(errc::invalid_argument, "no storage to publish");
  auto ep = sys.spawn(storage_endpoint, storage);
  auto published = publish_actor(sys, ep, host, port);
  if (!published)
    caf::anon_send_exit(ep, caf::exit_reason::user_shutdown);
  return published;
}

result<std::uint16_t> publish_actor(caf::actor_system& sys,
                                    const caf::actor& whom,
                                    const std::string& host,
                                    std::uint16_t port) {
  auto published = sys.has_openssl_manager()
                     ? caf::openssl::publish(whom, port, host.c_str(), true)
                     : sys.middleman().publish(whom, port, host.c_str(), true);
  if (!published)
    return make_error(errc::unreachable,
                      "cannot listen on " + host + ":" + std::to_string(port)
                        + ": " + sys.render(published.error()));
  return *published;
}

result<caf::actor> connect_actor(caf::actor_system& sys,
                                 const std::string& host, std::uint16_t port,
                                 duration timeout) {
  auto mm = sys.has_openssl_manager() ? sys.openssl_manager().actor_handle()
                                      : sys.middleman().actor_handle();
  caf::scoped_actor self{sys};
  std::optional<result<caf::actor>> out;
  self->request(mm, timeout, caf::connect_atom::value, host, port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>&) {
        if (ptr)
          out.emplace(caf::actor_cast<caf::actor>(ptr));
        else
          out.emplace(make_error(errc::unreachable,
                                 "nothing is published at " + host + ":"
                                   + std::to_string(port)));
      },
      [&](caf::error& e) {
        out.emplace(make_error(errc::unreachable,
                               "cannot connect to " + host + ":"
                                 + std::to_string(port) + ": "
                                 + sys.render(e)));
      });
  if (!out)
    return make_error(errc::internal, "no answer");
  return std::move(*out);
}

result<endpoint> parse_endpoint(std::string_view text) {
  endpoint out;
  auto colon = text.rfind(':');
  std::string_view port_text = text;
  if (colon != std::string_view::npos) {
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty())
    out.host = "127.0.0.1";
  constexpr std::size_t max_host_bytes = 253; // the longest DNS name
  if (out.host.size() > max_host_bytes)
    return make_error(errc::invalid_argument,
                      "a host name is at most "
                        + std::to_string(max_host_bytes) + " bytes; this one has "
                        + std::to_string(out.host.size()));
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port_text.data(),
                                   port_text.data() + port_text.size(), value);
  if (ec != std::errc{} || end != port_text.data() + port_text.size()
      || value > 65535 || port_text.empty())
    return make_error(errc::invalid_argument,
                      "'" + std::string(text)
                        + "' is not HOST:PORT (a port is 0..65535)");
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

std::string to_string(const endpoint& e) {
  return e.host + ":" + std::to_string(e.port);
}

std::size_t shard_of(std::string_view store, std::string_view key,
                     std::size_t shards) {
  if (shards <= 1)
    return 0;
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : store)
    mix(c);
  mix(0);
  for (unsigned char c : key)
    mix(c);
  return static_cast<std::size_t>(h % shards);
}

} // namespace profilestore
