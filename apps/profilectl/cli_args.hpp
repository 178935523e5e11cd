// Argument parsing for profilectl: each command declares its positional
// arguments and options (command_spec); parse_args checks a command line
// against that declaration and says precisely what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "profilestore/result.hpp"

namespace profilestore::ctl {

struct option_spec {
  std::string name;       // "--limit"
  std::string value_name; // "N"; empty for a switch
  std::string help;
};

struct command_spec {
  std::string name;    // "keys"
  std::string usage;   // "STORE [--prefix P] [--limit N]"
  std::string summary; // one line for the command list
  std::string details; // more lines for --help (may be empty)
  std::size_t min_positional = 0;
  std::size_t max_positional = 0;
  std::vector<option_spec> options; // besides the global ones
  bool writes = false;              // takes --yes
};

// Options every command takes.
std::vector<option_spec> global_options(const command_spec& spec);

struct parsed_args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  std::set<std::string> switches;

  bool has(const std::string& name) const {
    return switches.count(name) != 0 || values.count(name) != 0;
  }
  std::optional<std::string> get(const std::string& name) const;
};

// Parses the arguments after the command name. Accepts "--opt VALUE" and
// "--opt=VALUE"; "--" ends the options (for keys that start with "--").
// invalid_argument on an unknown or repeated option, a missing value, or a
// wrong number of positional arguments.
result<parsed_args> parse_args(const command_spec& spec,
                               const std::vector<std::string>& args);

// "--limit N" as a number: invalid_argument naming the option otherwise.
result<std::uint64_t> parse_count(const std::string& option,
                                  const std::string& text);

// The --help text of a command.
std::string help_text(const command_spec& spec);

} // namespace profilestore::ctl
