// A small cluster inside one test process: storage nodes and game nodes are
// separate CAF actor systems that talk over real TCP on 127.0.0.1 with
// ephemeral ports, exactly as separate processes would (CAF serialises every
// message between systems). Every wait is bounded by the facade's timeouts.
#pragma once

#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <memory>
#include <string>
#include <vector>

#include "profilestore/actors/cluster.hpp"
#include "profilestore/actors/node.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/node_directory.hpp"
#include "result_checks.hpp"
#include "temp_dir.hpp"

namespace profilestore::testing {

// One storage node: an LMDB folder published on 127.0.0.1. stop() and
// start() again on the same folder and port model a storage restart.
class storage_node {
public:
  explicit storage_node(std::string folder, tls_options tls = {})
    : folder_(std::move(folder)), tls_(std::move(tls)) {}
  ~storage_node() { stop(); }

  void start(std::uint16_t port = 0) {
    cfg_ = std::make_unique<caf::actor_system_config>();
    add_cluster_types(*cfg_, tls_);
    sys_ = std::make_unique<caf::actor_system>(*cfg_);
    lmdb_options lo;
    lo.path = folder_;
    lo.initial_map_size = std::size_t{4} << 20;
    auto b = lmdb_backend::open(lo);
    REQUIRE_MESSAGE(b.ok(), describe(b));
    storage_ = spawn_store_actors(*sys_,
                                  std::shared_ptr<backend>(std::move(*b)));
    auto p = publish_storage(*sys_, storage_, "127.0.0.1", port);
    REQUIRE_MESSAGE(p.ok(), describe(p));
    port_ = *p;
  }

  void stop() {
    if (!sys_)
      return;
    storage_.stop();
    storage_ = store_actors{};
    sys_.reset();
    cfg_.reset();
  }

  std::uint16_t port() const noexcept { return port_; }
  endpoint where() const { return endpoint{"127.0.0.1", port_}; }
  const store_actors& actors() const noexcept { return storage_; }
  caf::actor_system& system() { return *sys_; }

private:
  std::string folder_;
  tls_options tls_;
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  store_actors storage_;
  std::uint16_t port_ = 0;
};

struct game_options {
  game_options(std::string n, std::uint64_t inc, std::vector<endpoint> s,
               duration hb = std::chrono::seconds(2),
               duration l = std::chrono::seconds(10))
    : name(std::move(n)), incarnation(inc), shards(std::move(s)),
      heartbeat(hb), lease(l) {}

  std::string name;
  std::uint64_t incarnation = 1;
  std::vector<endpoint> shards;
  duration heartbeat = std::chrono::seconds(2);
  duration lease = std::chrono::seconds(10);
  duration shutdown_timeout = std::chrono::seconds(10);
  tls_options tls;
};

// One game node: its own actor system, the storage connection and a node.
class game_node {
public:
  explicit game_node(game_options o) : shutdown_timeout_(o.shutdown_timeout) {
    add_cluster_types(cfg_, o.tls);
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    remote_storage_options ro;
    ro.shards = o.shards;
    ro.node_name = o.name;
    ro.incarnation = o.incarnation;
    ro.heartbeat = o.heartbeat;
    ro.lease = o.lease;
    remote_ = connect_storage(*sys_, ro);
    auto ok = wait_connected(*sys_, remote_, std::chrono::seconds(10));
    REQUIRE_MESSAGE(ok.ok(), describe(ok));
    node_config nc;
    nc.name = o.name;
    nc.incarnation = o.incarnation;
    node_ = std::make_unique<node>(*sys_, remote_, nc);
  }
  ~game_node() {
    if (node_)
      (void) node_->shutdown(shutdown_timeout_);
    node_.reset();
    remote_.stop();
    sys_.reset();
  }

  node& get() { return *node_; }
  caf::actor_system& system() { return *sys_; }
  const store_actors& remote() const noexcept { return remote_; }

private:
  duration shutdown_timeout_;
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  store_actors remote_;
  std::unique_ptr<node> node_;
};

} // namespace profilestore::testing
