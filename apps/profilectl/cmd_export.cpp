// export: every profile's latest version as JSON lines (docs/profilectl.md),
// read from one snapshot, read-only. A corrupt record is reported and
// skipped, and the exit status says so.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "commands.hpp"
#include "database.hpp"
#include "output.hpp"
#include "profilestore/store/catalog.hpp"
#include "profilestore/store/record_codec.hpp"
#include "progress.hpp"

namespace profilestore::ctl {

result<int> cmd_export(const parsed_args& a, cli_io& io) {
  auto target = open_scan_target(a);
  if (!target)
    return std::move(target).err();
  auto& db = target->db;
  const std::string& store = target->store;
  // To a file: written beside it and renamed at the end, so a failed export
  // never leaves a half file under the name asked for.
  auto out_path = a.get("--out");
  std::string temp_path;
  std::ofstream file;
  if (out_path) {
    temp_path = *out_path + ".partial";
    file.open(temp_path, std::ios::binary | std::ios::trunc);
    if (!file)
      return make_error(errc::invalid_argument,
                        "cannot write '" + temp_path + "'");
  }
  std::ostream& out = out_path ? static_cast<std::ostream&>(file) : io.out;
  auto txn = db.env->begin_read();
  if (!txn)
    return std::move(txn).err();
  // The total only feeds the progress bar: counted only when one is drawn
  // (over --connect, counting moves the table over the network once more).
  bool draw = io.err_is_tty && out_path.has_value();
  std::uint64_t total = 0;
  if (draw) {
    auto n = count_entries(**txn, table::heads, store);
    if (!n)
      return std::move(n).err();
    total = *n;
  }
  progress_bar bar(io.err, draw, "export", total);
  std::uint64_t seen = 0, written = 0, skipped = 0;
  error failure;
  auto walked = for_each_head(**txn, store, [&](const head_visit& h) {
    bar.update(++seen);
    if (!h.name || !h.head) {
      ++skipped;
      io.err << "warning: skipped a damaged head entry (run profilectl check)\n";
      return true;
    }
    if (h.head->deleted)
      return true;
    std::string s(h.name->store), k(h.name->key);
    auto latest = read_version(**txn, s, k, h.head->latest_version);
    if (!latest) {
      failure = latest.err();
      return false;
    }
    if (!*latest || (*latest)->info.deleted)
      return true;
    auto rec = decode_record((*latest)->record_bytes,
                             db.options.limits.record_decode);
    auto doc = rec ? json_of_record(*rec) : result<nlohmann::json>(rec.err());
    if (!doc) {
      ++skipped;
      io.err << "warning: skipped " << s << "/" << k << " version "
             << h.head->latest_version << ": " << doc.err().to_string()
             << "\n";
      return true;
    }
    const key_info& info = (*latest)->info;
    nlohmann::json line = {{"store", s},
                           {"key", k},
                           {"version", info.version},
                           {"created_time", info.created_time},
                           {"updated_time", info.updated_time},
                           {"record", std::move(*doc)}};
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
    ++written;
    return true;
  });
  bar.finish();
  if (!walked || failure) {
    if (out_path) {
      file.close();
      std::remove(temp_path.c_str());
    }
    return walked ? failure : std::move(walked).err();
  }
  if (out_path) {
    file.close();
    if (!file) {
      std::remove(temp_path.c_str());
      return make_error(errc::storage_error,
                        "writing '" + temp_path + "' failed");
    }
    std::error_code ec;
    std::filesystem::rename(temp_path, *out_path, ec);
    if (ec)
      return make_error(errc::storage_error, "cannot rename '" + temp_path
                                               + "' to '" + *out_path
                                               + "': " + ec.message());
  }
  std::ostream& summary = out_path ? io.out : io.err;
  if (wants_json(a) && out_path)
    print_json(summary, {{"exported", written}, {"skipped", skipped}});
  else
    summary << "exported " << written << " profile(s)"
            << (skipped ? ", skipped " + std::to_string(skipped)
                            + " damaged (see the warnings)"
                        : "")
            << "\n";
  return skipped ? exit_failed : exit_ok;
}

} // namespace profilestore::ctl
