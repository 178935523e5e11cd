// profilestore-node's configuration: command-line flags, optionally read
// from a config file first (`--config FILE`, lines `key = value` with the
// flags' names; `#` comments; a `[global]` header is allowed). Flags given on
// the command line win; `storage` and `set` accumulate.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "profilestore/actors/cluster.hpp"
#include "profilestore/result.hpp"

namespace profilestore::node_app {

enum class role { storage, game, both };

struct node_options {
  std::string name;
  role node_role = role::both;
  std::string db;                           // storage, both
  endpoint listen{"127.0.0.1", 0};          // storage: the storage endpoint;
                                            // game: the client agent
  std::vector<endpoint> storage;            // game: one per shard
  std::uint64_t incarnation = 0;            // 0: the clock's milliseconds
  std::vector<std::pair<std::string, double>> constants; // --set NAME=VALUE
  std::string tls_certificate, tls_key, tls_ca;
  bool help = false;

  tls_options tls() const { return {tls_certificate, tls_key, tls_ca}; }
};

// Parses argv (argv[0] excluded); errors name the flag and what was wrong.
result<node_options> parse_node_options(int argc, char** argv);

std::string node_usage();

} // namespace profilestore::node_app
