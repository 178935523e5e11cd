// What a profilectl command runs with: its streams, whether they are
// terminals, and the clock. main.cpp wires the process's own; tests pass
// string streams and a fixed clock, and call the commands in-process.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <ostream>

namespace profilestore::ctl {

struct cli_io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool in_is_tty = false;  // confirmations may be asked on stdin
  bool err_is_tty = false; // progress bars are drawn on stderr
  // Milliseconds since the epoch: the clock of writes (docs/format.md:
  // times are the storage node's clock; profilectl writing directly is that
  // node) and of ages in tables.
  std::function<std::int64_t()> now_ms;
};

// Exit statuses.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1; // an error, or check found damage
inline constexpr int exit_usage = 2;  // the command line was wrong

} // namespace profilestore::ctl
