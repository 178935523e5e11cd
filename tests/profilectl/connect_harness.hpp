// profilectl --connect against a storage node inside the test process: the
// folder is seeded through the store layer first (ctl_fixture), then a
// storage node (cluster_harness.hpp) opens it and listens on an ephemeral
// port of 127.0.0.1; profilectl talks to it over real TCP. LMDB wants one
// handle per process, so --db runs happen before the node starts or after
// it stopped.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster_harness.hpp"
#include "ctl_harness.hpp"

namespace profilestore::testing {

class connect_fixture : public ctl_fixture {
public:
  connect_fixture() : node_(db()) {}

  void start_node() { node_.start(); }
  void stop_node() { node_.stop(); }
  storage_node& node() { return node_; }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(node_.port());
  }

  // Runs `profilectl args... --connect 127.0.0.1:PORT --timeout 10`.
  ctl_run remote(std::vector<std::string> args,
                 const std::string& stdin_text = "") {
    args.push_back("--connect");
    args.push_back(address());
    args.push_back("--timeout");
    args.push_back("10");
    return run(std::move(args), stdin_text, false, false);
  }

private:
  storage_node node_;
};

// A port of 127.0.0.1 where nothing listens: bound, then closed again.
inline std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

} // namespace profilestore::testing
