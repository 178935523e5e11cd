// Argument parsing for profilectl (cli_args.hpp).
#include "cli_args.hpp"

#include <sstream>

namespace profilestore::ctl {
namespace {

const option_spec* find_option(const std::vector<option_spec>& options,
                               const std::string& name) {
  for (const auto& o : options)
    if (o.name == name)
      return &o;
  return nullptr;
}

error usage_error(const command_spec& spec, const std::string& what) {
  return make_error(errc::invalid_argument,
                    what + " (usage: profilectl " + spec.name + " "
                      + spec.usage + "; see profilectl " + spec.name
                      + " --help)");
}

} // namespace

std::vector<option_spec> global_options(const command_spec& spec) {
  std::vector<option_spec> out{
    {"--db", "DIR", "the LMDB folder of the storage"},
    {"--connect", "HOST:PORT",
     "a running storage node instead of --db (profilestore-node --listen)"},
    {"--tls-cert", "FILE", "with --connect: this client's certificate (PEM)"},
    {"--tls-key", "FILE", "with --connect: its private key (PEM)"},
    {"--tls-ca", "FILE", "with --connect: the cluster's CA (PEM)"},
    {"--timeout", "SECONDS",
     "with --connect: bound of each request (default 10)"},
    {"--json", "", "print JSON instead of a table"},
    {"--help", "", "show this help"},
  };
  if (spec.writes)
    out.push_back({"--yes", "", "write without asking for confirmation"});
  return out;
}

std::optional<std::string> parsed_args::get(const std::string& name) const {
  auto i = values.find(name);
  if (i == values.end())
    return std::nullopt;
  return i->second;
}

result<parsed_args> parse_args(const command_spec& spec,
                               const std::vector<std::string>& args) {
  auto all = global_options(spec);
  all.insert(all.end(), spec.options.begin(), spec.options.end());
  parsed_args out;
  bool options_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_ended || arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      out.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    const option_spec* o = find_option(all, name);
    if (!o)
      return usage_error(spec, "unknown option '" + name + "'");
    if (out.has(name))
      return usage_error(spec, "option " + name + " is given twice");
    if (o->value_name.empty()) {
      if (inline_value)
        return usage_error(spec, "option " + name + " takes no value");
      out.switches.insert(name);
      continue;
    }
    if (inline_value) {
      out.values[name] = *inline_value;
    } else if (i + 1 < args.size()) {
      out.values[name] = args[++i];
    } else {
      return usage_error(spec, "option " + name + " needs a value ("
                                 + o->value_name + ")");
    }
  }
  if (out.has("--help"))
    return out; // the caller prints the help, whatever else was given
  if (out.positional.size() < spec.min_positional)
    return usage_error(spec, "missing arguments");
  if (out.positional.size() > spec.max_positional)
    return usage_error(spec, "unexpected argument '"
                               + out.positional[spec.max_positional] + "'");
  return out;
}

result<std::uint64_t> parse_count(const std::string& option,
                                  const std::string& text) {
  if (text.empty() || text.size() > 19
      || text.find_first_not_of("0123456789") != std::string::npos)
    return make_error(errc::invalid_argument,
                      option + " takes a whole number, got '" + text + "'");
  return static_cast<std::uint64_t>(std::stoull(text));
}

std::string help_text(const command_spec& spec) {
  std::ostringstream out;
  out << "usage: profilectl " << spec.name << " " << spec.usage
      << " (--db DIR | --connect HOST:PORT) [--json]"
      << (spec.writes ? " [--yes]" : "") << "\n\n"
      << spec.summary << "\n";
  if (!spec.details.empty())
    out << "\n" << spec.details << "\n";
  out << "\noptions:\n";
  auto all = spec.options;
  auto globals = global_options(spec);
  all.insert(all.end(), globals.begin(), globals.end());
  for (const auto& o : all) {
    std::string left = o.name + (o.value_name.empty() ? "" : " " + o.value_name);
    out << "  " << left;
    for (std::size_t n = left.size(); n < 22; ++n)
      out << ' ';
    out << " " << o.help << "\n";
  }
  return out.str();
}

} // namespace profilestore::ctl
