#include "node_process.hpp"

#include <charconv>
#include <filesystem>

namespace profilestore::node_app {

std::string find_node_binary() {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (auto candidate : {self / "profilestore-node",
                         self / ".." / "node" / "profilestore-node"})
    if (fs::exists(candidate, ec))
      return candidate.lexically_normal().string();
  return {};
}

result<std::uint16_t> read_ready_port(child_process& p, const std::string& what,
                                      std::chrono::milliseconds timeout) {
  auto line = p.read_line(timeout);
  auto colon = line ? line->rfind(':') : std::string::npos;
  unsigned port = 0;
  if (line && line->rfind("ready ", 0) == 0 && colon != std::string::npos) {
    auto digits = std::string_view(*line).substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(),
                                     digits.data() + digits.size(), port);
    if (ec == std::errc{} && end == digits.data() + digits.size() && port > 0
        && port <= 65535)
      return static_cast<std::uint16_t>(port);
  }
  return make_error(errc::unreachable,
                    what + " did not report that it is ready"
                      + (line ? " (it said: " + *line + ")" : std::string()));
}

} // namespace profilestore::node_app
