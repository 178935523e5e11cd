// Running profilestore-node as a child process (the demo, the takeover
// benchmark, the multi-process tests).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "child_process.hpp"
#include "profilestore/result.hpp"

namespace profilestore::node_app {

// profilestore-node beside the running binary: in the same folder (an
// install's bin) or in ../node (the build tree's apps/node); "" when absent.
std::string find_node_binary();

// Waits for the node's "ready ROLE NAME HOST:PORT" line and returns PORT;
// errc::unreachable naming `what` when it does not come within `timeout`.
result<std::uint16_t> read_ready_port(child_process& p, const std::string& what,
                                      std::chrono::milliseconds timeout
                                      = std::chrono::seconds(30));

} // namespace profilestore::node_app
