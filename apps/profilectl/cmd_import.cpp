// import: JSON lines in the layouts of import_layouts.hpp. Every line is
// parsed and checked first; then all of them are written in one transaction
// through the store's own operations (a set per profile, which ends any
// session, and a message per queued update), or none is.
#include <map>

#include "commands.hpp"
#include "database.hpp"
#include "import_layouts.hpp"
#include "output.hpp"
#include "profilestore/store/atomic_batch.hpp"
#include "profilestore/store/record_codec.hpp"
#include "progress.hpp"

namespace profilestore::ctl {
namespace {

error at_line(std::size_t line, const error& e) {
  return make_error(e.code(), "line " + std::to_string(line) + ": "
                                + e.message() + nothing_written_note(e));
}

// Parses every non-empty line; the first error ends the import.
result<std::vector<import_item>> parse_all(const std::string& text,
                                           const storage_limits& limits,
                                           cli_io& io) {
  std::vector<import_item> items;
  std::map<std::pair<std::string, std::string>, std::size_t> seen;
  progress_bar bar(io.err, io.err_is_tty, "import: reading", text.size());
  std::size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    bar.update(pos);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos)
      continue;
    auto item = parse_import_line(line, limits);
    if (!item)
      return at_line(line_no, item.err());
    item->line = line_no;
    auto [at, fresh] = seen.emplace(std::make_pair(item->store, item->key),
                                    line_no);
    if (!fresh)
      return at_line(line_no, make_error(errc::invalid_argument,
                                         "'" + item->store + "/" + item->key
                                           + "' was already given on line "
                                           + std::to_string(at->second)));
    items.push_back(std::move(*item));
  }
  return items;
}

} // namespace

result<int> cmd_import(const parsed_args& a, cli_io& io) {
  const std::string& source = a.positional[0];
  auto text = read_input(source, io.in);
  if (!text)
    return std::move(text).err();
  storage_limits limits;
  auto items = parse_all(*text, limits, io);
  if (!items)
    return std::move(items).err();
  if (items->empty())
    return make_error(errc::invalid_argument,
                      "'" + source + "' holds no records; nothing written");
  bool dry_run = a.has("--dry-run");
  auto db = open_database(a, dry_run ? access::read_only
                                     : access::read_write_create);
  if (!db)
    return std::move(db).err();
  // A set keeps the target's queued messages unless told which to drop:
  // the import replaces the queue, so that running it twice gives the same
  // profiles, not twice the messages.
  std::size_t replaced = 0;
  std::vector<operation> ops;
  std::vector<std::size_t> op_line;
  {
    auto txn = db->env->begin_read();
    if (!txn)
      return std::move(txn).err();
    for (auto& item : *items) {
      auto latest = read_latest(**txn, item.store, item.key);
      if (!latest)
        return std::move(latest).err();
      if (*latest && !(*latest)->info.deleted) {
        ++replaced;
        auto rec = decode_record((*latest)->record_bytes,
                                 db->options.limits.record_decode);
        if (!rec && rec.err().code() == errc::unsupported_format)
          return at_line(item.line, rec.err());
        if (rec && item.profile)
          for (const auto& u : rec->updates)
            item.profile->processed_update_ids.push_back(u.id);
      }
      if (item.profile) {
        ops.push_back(set_op{item.store, item.key, *item.profile});
        op_line.push_back(item.line);
      }
      for (const auto& m : item.messages) {
        message_request req;
        req.data = m;
        ops.push_back(message_op{item.store, item.key, std::move(req)});
        op_line.push_back(item.line);
      }
    }
  }
  std::map<std::string, std::size_t> layouts;
  std::size_t messages = 0;
  for (const auto& item : *items) {
    ++layouts[item.layout];
    messages += item.messages.size();
  }
  nlohmann::json summary = {{"records", items->size()},
                            {"replaced", replaced},
                            {"messages", messages},
                            {"layouts", layouts},
                            {"dry_run", dry_run}};
  if (!dry_run) {
    auto yes = confirm(a, io,
                       "import " + std::to_string(items->size())
                         + " record(s), replacing " + std::to_string(replaced)
                         + " existing key(s) and ending their sessions",
                       source == "-");
    if (!yes)
      return std::move(yes).err();
    if (!*yes) {
      io.err << "not confirmed; nothing written\n";
      return exit_failed;
    }
    atomic_batch_failure failure;
    auto applied = db->link->write_all_or_nothing(ops, io.now_ms(),
                                                  &failure);
    if (!applied) {
      if (failure.index < op_line.size())
        return at_line(op_line[failure.index], failure.err);
      return make_error(failure.err.code(),
                        failure.err.message()
                          + nothing_written_note(failure.err));
    }
  }
  if (wants_json(a)) {
    print_json(io.out, summary);
    return exit_ok;
  }
  io.out << (dry_run ? "checked " : "imported ") << items->size()
         << " record(s) (";
  bool first = true;
  for (const auto& [layout, n] : layouts) {
    io.out << (first ? "" : ", ") << n << " " << layout;
    first = false;
  }
  io.out << "), " << replaced << " replacing existing keys, " << messages
         << " message(s) queued" << (dry_run ? "; nothing written" : "")
         << "\n";
  return exit_ok;
}

} // namespace profilestore::ctl
