// profilestore-node: one node of a profilestore cluster (storage, game, or
// both in one process). See node_options.cpp for the flags, README "Running a
// cluster" for a walk-through.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>

#include <pthread.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "game_agent.hpp"
#include "node_options.hpp"
#include "profilestore/actors/cluster.hpp"
#include "profilestore/actors/node.hpp"
#include "profilestore/actors/store_actor.hpp"
#include "profilestore/store/lmdb_backend.hpp"

using namespace profilestore;
using namespace profilestore::node_app;

namespace {

// One line to stderr in one write: std::cerr is unbuffered, so a line
// written piece by piece interleaves with the lines of other node processes
// sharing the terminal (the demo stops several at once).
void say(const std::string& what) {
  std::string line = "profilestore-node: " + what + "\n";
  std::cerr.write(line.data(), static_cast<std::streamsize>(line.size()));
}

int fail(const std::string& what) {
  say(what);
  return 1;
}

std::string role_name(role r) {
  return r == role::storage ? "storage" : r == role::game ? "game" : "both";
}

// The constant `name` from --set, in milliseconds, or `fallback`.
duration constant_ms(const node_options& o, const std::string& name,
                     duration fallback) {
  for (auto& [n, v] : o.constants)
    if (n == name)
      return duration(static_cast<std::int64_t>(v * 1000));
  return fallback;
}

} // namespace

int main(int argc, char** argv) {
  // SIGINT and SIGTERM are taken with sigwait below; block them before any
  // thread exists so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto parsed = parse_node_options(argc - 1, argv + 1);
  if (!parsed)
    return fail(parsed.err().message());
  auto opts = std::move(*parsed);
  if (opts.help) {
    std::cout << node_usage();
    return 0;
  }
  if (opts.incarnation == 0)
    opts.incarnation = static_cast<std::uint64_t>(system_clock_ms());

  caf::actor_system_config cfg;
  add_cluster_types(cfg, opts.tls());
  use_recommended_workers(cfg, opts.node_role != role::game);
  caf::actor_system sys{cfg};

  store_actors storage;
  if (opts.node_role != role::game) {
    lmdb_options lo;
    lo.path = opts.db;
    auto b = lmdb_backend::open(lo);
    if (!b)
      return fail("cannot open --db " + opts.db + ": " + b.err().message());
    storage = spawn_store_actors(sys, std::shared_ptr<backend>(std::move(*b)));
  } else {
    remote_storage_options ro;
    ro.shards = opts.storage;
    ro.node_name = opts.name;
    ro.incarnation = opts.incarnation;
    ro.address = to_string(opts.listen);
    ro.heartbeat = constant_ms(opts, "NODE_HEARTBEAT", ro.heartbeat);
    ro.lease = constant_ms(opts, "NODE_LEASE", ro.lease);
    storage = connect_storage(sys, ro);
    auto up = wait_connected(sys, storage, std::chrono::seconds(30));
    if (!up) {
      storage.stop();
      return fail("storage is not reachable: " + up.err().message());
    }
  }

  std::optional<node> game;
  caf::actor agent;
  std::uint16_t port = 0;
  if (opts.node_role == role::storage) {
    auto p = publish_storage(sys, storage, opts.listen.host, opts.listen.port);
    if (!p) {
      storage.stop();
      return fail(p.err().message());
    }
    port = *p;
  } else {
    node_config nc;
    nc.name = opts.name;
    nc.incarnation = opts.incarnation;
    game.emplace(sys, storage, nc);
    for (auto& [name, v] : opts.constants) {
      auto ok = game->set_constant(name, v);
      if (!ok) {
        storage.stop();
        return fail("--set " + name + ": " + ok.err().message());
      }
    }
    agent = spawn_game_agent(sys, *game);
    auto p = publish_actor(sys, agent, opts.listen.host, opts.listen.port);
    if (!p) {
      storage.stop();
      return fail(p.err().message());
    }
    port = *p;
  }
  std::cout << "ready " << role_name(opts.node_role) << " " << opts.name << " "
            << opts.listen.host << ":" << port << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  say(std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + ": stopping");
  int rc = 0;
  if (game) {
    auto down = game->shutdown(std::chrono::seconds(30));
    if (!down) {
      say("shutdown: " + down.err().message());
      rc = 1;
    }
    game.reset();
  }
  if (agent)
    caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
  storage.stop();
  return rc;
}
