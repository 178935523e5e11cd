#include "node_options.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "profilestore/store/names.hpp"

namespace profilestore::node_app {
namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

error bad(const std::string& flag, const std::string& why) {
  return make_error(errc::invalid_argument, "--" + flag + ": " + why);
}

// Applies one `name value` setting.
result<void> apply(node_options& o, const std::string& name,
                   const std::string& v) {
  if (name == "name") {
    if (auto ok = check_node_name(v); !ok)
      return bad(name, ok.err().message());
    o.name = v;
  } else if (name == "role") {
    if (v == "storage")
      o.node_role = role::storage;
    else if (v == "game")
      o.node_role = role::game;
    else if (v == "both")
      o.node_role = role::both;
    else
      return bad(name, "'" + v + "' is not storage, game or both");
  } else if (name == "db") {
    o.db = v;
  } else if (name == "listen" || name == "storage") {
    auto e = parse_endpoint(v);
    if (!e)
      return bad(name, e.err().message());
    if (name == "listen")
      o.listen = *e;
    else
      o.storage.push_back(*e);
  } else if (name == "incarnation") {
    std::uint64_t x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc{} || p != v.data() + v.size() || x == 0)
      return bad(name, "'" + v + "' is not a positive integer");
    o.incarnation = x;
  } else if (name == "set") {
    auto eq = v.find('=');
    if (eq == std::string::npos)
      return bad(name, "expected NAME=VALUE, got '" + v + "'");
    double x = 0;
    std::istringstream in(v.substr(eq + 1));
    if (!(in >> x) || !in.eof())
      return bad(name, "'" + v.substr(eq + 1) + "' is not a number");
    o.constants.emplace_back(v.substr(0, eq), x);
  } else if (name == "tls-cert") {
    o.tls_certificate = v;
  } else if (name == "tls-key") {
    o.tls_key = v;
  } else if (name == "tls-ca") {
    o.tls_ca = v;
  } else {
    return make_error(errc::invalid_argument,
                      "unknown option --" + name + " (see --help)");
  }
  return {};
}

result<void> read_config(node_options& o, const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return make_error(errc::invalid_argument,
                      "--config: cannot read '" + path + "'");
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = trim(line.substr(0, line.find('#')));
    if (line.empty() || line == "[global]")
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos)
      return make_error(errc::invalid_argument,
                        path + ":" + std::to_string(number)
                          + ": expected 'key = value'");
    auto r = apply(o, trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
    if (!r)
      return make_error(errc::invalid_argument,
                        path + ":" + std::to_string(number) + ": "
                          + r.err().message());
  }
  return {};
}

} // namespace

result<node_options> parse_node_options(int argc, char** argv) {
  node_options o;
  std::vector<std::pair<std::string, std::string>> flags;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      return o;
    }
    if (arg.rfind("--", 0) != 0)
      return make_error(errc::invalid_argument,
                        "unexpected argument '" + arg + "' (see --help)");
    auto eq = arg.find('=');
    std::string name, v;
    if (eq != std::string::npos) {
      name = arg.substr(2, eq - 2);
      v = arg.substr(eq + 1);
    } else {
      name = arg.substr(2);
      if (i + 1 >= argc)
        return bad(name, "needs a value");
      v = argv[++i];
    }
    flags.emplace_back(name, v);
  }
  for (auto& [name, v] : flags)
    if (name == "config")
      PROFILESTORE_TRY(read_config(o, v));
  for (auto& [name, v] : flags)
    if (name != "config")
      PROFILESTORE_TRY(apply(o, name, v));
  // Checks across options.
  if (auto tls = o.tls().check(); !tls)
    return make_error(errc::invalid_argument,
                      tls.err().message()
                        + " (--tls-cert, --tls-key and --tls-ca)");
  if (o.node_role != role::game && o.db.empty())
    return make_error(errc::invalid_argument,
                      "--db DIR is required for the storage role");
  if (o.node_role == role::game && o.storage.empty())
    return make_error(errc::invalid_argument,
                      "--storage HOST:PORT is required for the game role");
  if (o.node_role != role::game && !o.storage.empty())
    return make_error(errc::invalid_argument,
                      "--storage is for the game role only (role both uses "
                      "its own --db)");
  if (o.name.empty())
    o.name = o.node_role == role::storage ? "storage" : "game";
  return o;
}

std::string node_usage() {
  return R"(usage: profilestore-node [--config FILE] [options]

One node of a profilestore cluster.

  --role storage|game|both   storage owns an LMDB folder and publishes it;
                             game hosts profiles and the client agent;
                             both does both in one process (default)
  --name NAME                this node's stable name (1..64 bytes)
  --db DIR                   the LMDB folder (storage, both)
  --listen HOST:PORT         where to listen (default 127.0.0.1:0, an
                             ephemeral port); storage: the storage endpoint,
                             game and both: the client agent
  --storage HOST:PORT        a storage node, once per shard in shard order
                             (game); every game node lists the same ones
  --incarnation N            this process's incarnation (default: the clock)
  --set NAME=VALUE           a constant, e.g. --set NODE_LEASE=10 (seconds)
  --tls-cert F --tls-key F --tls-ca F
                             TLS with this node's certificate and key (PEM)
                             and the cluster's CA: all three or none; peers
                             without a certificate from that CA are refused
  --config FILE              read 'key = value' lines first (same names)

Prints one line "ready ROLE NAME HOST:PORT" when it listens, and stops on
SIGINT or SIGTERM after the final saves of its sessions.
)";
}

} // namespace profilestore::node_app
