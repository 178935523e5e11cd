// profilectl --connect with TLS, and peers that never answer: a storage node
// with TLS answers a profilectl holding a certificate of the cluster's CA and
// refuses one without TLS or from another CA; a peer that accepts the TCP
// connection but never speaks is a timeout, not a hang.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "connect_harness.hpp"
#include "database.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

void shell(const std::string& cmd) {
  int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  REQUIRE_MESSAGE(rc == 0, "failed: " << cmd);
}

// A CA and one certificate signed by it, in `dir`/`name`-* (openssl).
tls_options make_ca_and_cert(const temp_dir& dir, const std::string& name) {
  auto f = [&](const std::string& s) {
    return dir.path() + "/" + name + "-" + s;
  };
  shell("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + name
        + "-ca -keyout " + f("ca.key") + " -out " + f("ca.pem"));
  shell("openssl req -newkey rsa:2048 -nodes -subj /CN=" + name
        + "-node -keyout " + f("node.key") + " -out " + f("node.csr"));
  shell("openssl x509 -req -days 2 -in " + f("node.csr") + " -CA "
        + f("ca.pem") + " -CAkey " + f("ca.key")
        + " -CAcreateserial -out " + f("node.pem"));
  return tls_options{f("node.pem"), f("node.key"), f("ca.pem")};
}

std::vector<std::string> tls_args(const tls_options& t) {
  return {"--tls-cert", t.certificate, "--tls-key", t.key, "--tls-ca", t.ca};
}

// A socket of 127.0.0.1 that listens (the kernel completes TCP handshakes)
// but never accepts or answers. Closed when destroyed.
class silent_peer {
public:
  silent_peer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 4) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~silent_peer() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

} // namespace

TEST_CASE("over TLS profilectl needs a certificate of the cluster's CA") {
  temp_dir certs{"profilectl-tls"};
  auto cluster = make_ca_and_cert(certs, "cluster");
  auto other = make_ca_and_cert(certs, "other");
  temp_dir folder{"profilectl-tls-db"};
  storage_node node(folder.path(), cluster);
  node.start();
  std::string where = "127.0.0.1:" + std::to_string(node.port());
  ctl_fixture f;
  auto with = [&](std::vector<std::string> args, const tls_options* t) {
    args.insert(args.end(), {"--connect", where, "--timeout", "5"});
    if (t)
      for (auto& a : tls_args(*t))
        args.push_back(a);
    return f.run(args, "", false, false);
  };
  auto wrote = with({"message", "S", "k", "--data", "{\"m\": 1}"}, &cluster);
  REQUIRE_MESSAGE(wrote.status == 0, wrote.err);
  auto stores = with({"stores", "--json"}, &cluster);
  REQUIRE_MESSAGE(stores.status == 0, stores.err);
  CHECK(nlohmann::json::parse(stores.out)["stores"]
        == nlohmann::json::array({"S"}));

  auto plain = with({"stores"}, nullptr);
  CHECK(plain.status == 1);
  CHECK(contains(plain.err, where));
  CHECK(plain.out.empty());
  auto foreign = with({"message", "S", "k2", "--data", "1"}, &other);
  CHECK(foreign.status == 1);
  CHECK(contains(foreign.err, "over TLS"));
  // Nothing a refused profilectl sent was written.
  auto k2 = node.actors().shared_storage->get("S", "k2");
  REQUIRE_OK(k2);
  CHECK_FALSE(k2->has_value());
}

TEST_CASE("a peer that accepts the connection but never answers is a timeout error, not a hang") {
  silent_peer peer;
  ctl_fixture f;
  auto r = f.run({"stores", "--connect",
                  "127.0.0.1:" + std::to_string(peer.port()), "--timeout",
                  "1"},
                 "", false, false);
  CHECK(r.status == 1);
  CHECK(contains(r.err, "cannot reach a storage node at 127.0.0.1:"
                          + std::to_string(peer.port())));
}

TEST_CASE("a write whose outcome is unknown does not claim that nothing was written") {
  CHECK(ctl::nothing_written_note(make_error(errc::timeout, "late")).empty());
  CHECK(ctl::nothing_written_note(make_error(errc::unreachable, "lost")).empty());
  CHECK(ctl::nothing_written_note(make_error(errc::not_owner, "no"))
        == "; nothing written");
}
