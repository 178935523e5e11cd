// The command table and the dispatcher of profilectl (commands.hpp).
#include <iostream>

#include "commands.hpp"

namespace profilestore::ctl {
namespace {

command_spec spec(std::string name, std::string usage, std::string summary,
                  std::size_t min_pos, std::size_t max_pos,
                  std::vector<option_spec> options = {}, bool writes = false,
                  std::string details = {}) {
  command_spec s;
  s.name = std::move(name);
  s.usage = std::move(usage);
  s.summary = std::move(summary);
  s.min_positional = min_pos;
  s.max_positional = max_pos;
  s.options = std::move(options);
  s.writes = writes;
  s.details = std::move(details);
  return s;
}

const char* time_help
  = "TIME is unix seconds (1763373600) or ISO 8601 with a zone "
    "(2026-11-17T10:00:00Z).";

void general_help(std::ostream& out) {
  out << "usage: profilectl COMMAND [ARGS] (--db DIR | --connect HOST:PORT "
         "[--tls-cert F --tls-key F --tls-ca F] [--timeout S]) [--json] "
         "[--yes]\n\n"
         "Looks inside, and repairs, the profiles of a profilestore storage: "
         "a local LMDB\nfolder (--db; commands that only read open it "
         "read-only, safe beside a running\nnode) or a running storage node "
         "(--connect; writes go through the node's writer).\n\ncommands:\n";
  for (const auto& c : commands()) {
    std::string left = c.spec.name;
    out << "  " << left << std::string(left.size() < 10 ? 10 - left.size() : 1, ' ')
        << c.spec.summary << "\n";
  }
  out << "\n'profilectl COMMAND --help' shows a command's arguments.\n"
         "Exit status: 0 ok, 1 an error (nothing written) or check found "
         "damage, 2 a wrong command line.\n";
}

} // namespace

const std::vector<command>& commands() {
  static const std::vector<command> all{
    {spec("stores", "", "list the stores that hold profiles", 0, 0), cmd_stores},
    {spec("keys", "STORE [--prefix P] [--limit N] [--removed]",
          "list a store's keys in byte order", 1, 1,
          {{"--prefix", "P", "only keys starting with P"},
           {"--limit", "N", "at most N keys (default: all)"},
           {"--removed", "", "include removed keys"}}),
     cmd_keys},
    {spec("get", "STORE KEY [--version V]",
          "show a profile: data, metadata, session, messages, key info", 2, 2,
          {{"--version", "V", "that version instead of the latest"}}),
     cmd_get},
    {spec("versions", "STORE KEY [--desc] [--after TIME] [--before TIME] [--limit N]",
          "list a key's versions", 2, 2,
          {{"--desc", "", "newest first"},
           {"--after", "TIME", "only versions created after TIME"},
           {"--before", "TIME", "only versions created before TIME"},
           {"--limit", "N", "at most N versions (default 100)"}},
          false, time_help),
     cmd_versions},
    {spec("set", "STORE KEY --data FILE|-",
          "replace a profile's Data with JSON (ends its session)", 2, 2,
          {{"--data", "FILE", "a JSON object or array; - reads standard input"}},
          true,
          "MetaTags, user ids and key metadata stay as they are; the queued "
          "messages too.\nThe session holding the profile (if any) ends: its "
          "next save is refused."),
     cmd_set},
    {spec("rollback", "STORE KEY (--to VERSION | --before TIME)",
          "restore a profile to an older version (ends its session)", 2, 2,
          {{"--to", "VERSION", "the version to restore"},
           {"--before", "TIME", "the version that was current just before TIME"}},
          true,
          std::string("Restores Data, MetaTags, user ids and key metadata as a "
                      "new write; queued messages stay.\n")
            + time_help),
     cmd_rollback},
    {spec("remove", "STORE KEY", "remove a profile (restorable with rollback)",
          2, 2, {}, true),
     cmd_remove},
    {spec("message", "STORE KEY --data JSON",
          "queue a message for a profile (MessageAsync)", 2, 2,
          {{"--data", "JSON", "the message, as JSON text"}}),
     cmd_message},
    {spec("sessions", "[STORE]",
          "active locks: owner, last write, pending requests", 0, 1),
     cmd_sessions},
    {spec("nodes", "", "the node directory and its leases", 0, 0), cmd_nodes},
    {spec("export", "[STORE] [--out FILE]",
          "every profile's latest version as JSON lines", 0, 1,
          {{"--out", "FILE", "write to FILE (default: standard output)"}}, false,
          "The layout is in docs/profilectl.md; import reads it back."),
     cmd_export},
    {spec("import", "FILE|- [--dry-run]",
          "write profiles from JSON lines (also ProfileService/ProfileStore "
          "layouts)",
          1, 1, {{"--dry-run", "", "check every line, write nothing"}}, true,
          "All lines are checked first, then written in one transaction, or "
          "none is.\nAccepted layouts: docs/profilectl.md."),
     cmd_import},
    {spec("compact", "[--retention-days D]",
          "prune versions older than the retention", 0, 0,
          {{"--retention-days", "D", "keep superseded versions D days (default 30)"}}),
     cmd_compact},
    {spec("check", "[STORE]",
          "decode every record and version; report each corrupt one", 0, 1),
     cmd_check},
    {spec("stats", "", "counts, sizes, versions, sessions per store", 0, 0),
     cmd_stats},
  };
  return all;
}

int run(const std::vector<std::string>& args, cli_io& io) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h"
      || args[0] == "help") {
    general_help(args.empty() ? io.err : io.out);
    return args.empty() ? exit_usage : exit_ok;
  }
  const command* found = nullptr;
  for (const auto& c : commands())
    if (c.spec.name == args[0])
      found = &c;
  if (!found) {
    io.err << "error: unknown command '" << args[0]
           << "' (profilectl --help lists them)\n";
    return exit_usage;
  }
  auto parsed = parse_args(found->spec,
                           std::vector<std::string>(args.begin() + 1, args.end()));
  if (!parsed) {
    io.err << "error: " << parsed.err().message() << "\n";
    return exit_usage;
  }
  if (parsed->has("--help")) {
    io.out << help_text(found->spec);
    return exit_ok;
  }
  try {
    auto status = found->run(*parsed, io);
    if (!status) {
      io.err << "error: " << status.err().to_string() << "\n";
      return exit_failed;
    }
    return *status;
  } catch (const std::exception& e) {
    // Library code reports errors as values; this catches what the standard
    // library throws (bad_alloc, a stream failure) so that it is said plainly.
    io.err << "error: internal: " << e.what() << "\n";
    return exit_failed;
  }
}

} // namespace profilestore::ctl
