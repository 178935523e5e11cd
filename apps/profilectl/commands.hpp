// The profilectl commands. Each takes its parsed arguments and the streams,
// prints its answer, and returns the exit status, or an error that the
// dispatcher (profilectl.cpp) prints as "error: ..." with exit status 1.
// Every write happens in one write transaction after every input was
// checked, so an error leaves the storage as it was.
#pragma once

#include <vector>

#include "cli_args.hpp"
#include "context.hpp"
#include "profilestore/result.hpp"

namespace profilestore::ctl {

using command_fn = result<int> (*)(const parsed_args&, cli_io&);

struct command {
  command_spec spec;
  command_fn run;
};

// Every command, in the order `profilectl --help` lists them.
const std::vector<command>& commands();

// cmd_read.cpp
result<int> cmd_stores(const parsed_args& a, cli_io& io);
result<int> cmd_keys(const parsed_args& a, cli_io& io);
result<int> cmd_get(const parsed_args& a, cli_io& io);
result<int> cmd_versions(const parsed_args& a, cli_io& io);
// cmd_write.cpp
result<int> cmd_set(const parsed_args& a, cli_io& io);
result<int> cmd_rollback(const parsed_args& a, cli_io& io);
result<int> cmd_remove(const parsed_args& a, cli_io& io);
result<int> cmd_message(const parsed_args& a, cli_io& io);
// cmd_sessions.cpp
result<int> cmd_sessions(const parsed_args& a, cli_io& io);
result<int> cmd_nodes(const parsed_args& a, cli_io& io);
// cmd_export.cpp, cmd_import.cpp
result<int> cmd_export(const parsed_args& a, cli_io& io);
result<int> cmd_import(const parsed_args& a, cli_io& io);
// cmd_maintain.cpp
result<int> cmd_compact(const parsed_args& a, cli_io& io);
result<int> cmd_check(const parsed_args& a, cli_io& io);
result<int> cmd_stats(const parsed_args& a, cli_io& io);

// Asks on stdin before a write unless --yes. Refuses (invalid_argument) when
// stdin is not a terminal or was the input, instead of waiting for an answer
// that cannot come. Returns false when the answer was not yes.
result<bool> confirm(const parsed_args& a, cli_io& io,
                     const std::string& question, bool stdin_was_input);

// Runs profilectl with `args` (without the program name): the whole CLI,
// in-process. Returns the exit status.
int run(const std::vector<std::string>& args, cli_io& io);

} // namespace profilestore::ctl
