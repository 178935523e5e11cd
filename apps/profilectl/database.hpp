// Opening the storage (a local folder or a running storage node), and the
// JSON views of what it holds.
//
// --db DIR: commands that only read open the LMDB environment with
// MDB_RDONLY, which creates nothing and never takes the writer lock, so they
// are safe beside a running storage node on the same host. Commands that
// write open it read-write and go through the store layer's operations
// (storage.hpp, atomic_batch.hpp), never raw bytes, so fencing and
// versioning hold.
//
// --connect HOST:PORT: reads go through the same store layer on a
// remote_backend (bounded scans answered by the node's reader); writes go to
// the node's writer (storage_link.hpp). The command code is the same.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli_args.hpp"
#include "profilestore/actors/constants.hpp"
#include "profilestore/store/backend.hpp"
#include "profilestore/store/record.hpp"
#include "profilestore/store/storage.hpp"
#include "storage_link.hpp"

namespace profilestore::ctl {

enum class access : std::uint8_t {
  read_only,
  read_write,        // the environment must exist already
  read_write_create, // import: may create a new environment
};

// Members are destroyed in reverse order: the storage before the backend it
// reads, the backend before the link (which may own the connection).
struct database {
  std::unique_ptr<storage_link> link; // writes, pruning, sizes
  std::unique_ptr<backend> env;       // reads (catalog walks, storage)
  storage_options options;
  std::unique_ptr<storage> store;
};

// Opens --db DIR or --connect HOST:PORT (exactly one). invalid_argument when
// neither or both are given, or the TLS options are incomplete;
// storage_error naming the folder when it holds no profilestore
// environment; unreachable or timeout naming the node when it cannot be
// reached. `mode` matters for a local folder only.
result<database> open_database(const parsed_args& args, access mode);

// "; nothing written" for a write that failed, or "" when its outcome is
// unknown: a storage node that did not answer in time, or whose connection
// was lost, may still apply it (its own error says so).
std::string nothing_written_note(const error& e);

// --timeout SECONDS as a duration (10 s when absent): the bound of every
// request to a storage node. invalid_argument outside 0.001..3600.
result<duration> remote_timeout(const parsed_args& args);

// Refuses a store name that has no keys in `db` (typos would otherwise list
// nothing and look like success).
result<void> require_store(const database& db, const std::string& store);

// What the read-only commands that take an optional STORE (check, export,
// sessions) work on: the storage opened read-only, and the store named by
// the first positional argument, "" for every store. A store given is
// checked as a name before anything is opened, and refused when it has no
// keys (require_store).
struct scan_target {
  database db;
  std::string store; // "" = every store
};
result<scan_target> open_scan_target(const parsed_args& args);

// A MessagePack blob (Data, MetaTags, a message) as JSON, through the codec's
// JSON view (binary as {"$binary": ...}, NaN as {"$double": ...}).
result<nlohmann::json> json_of_msgpack(std::string_view bytes);
// JSON text as a MessagePack blob, decoded under the record limits.
result<std::string> msgpack_of_json_text(std::string_view text);

nlohmann::json json_of_session(const std::optional<session_ref>& s);
nlohmann::json json_of_key_info(const key_info& info);
// The record in the field layout of docs/format.md (times in ms): what `get`
// and `export` print.
result<nlohmann::json> json_of_record(const record& rec);

// Reads a file, or standard input for "-".
result<std::string> read_input(const std::string& path, std::istream& in);

} // namespace profilestore::ctl
