// Opening the storage folder, and the JSON views of what it holds.
//
// Commands that only read open the LMDB environment with MDB_RDONLY, which
// creates nothing and never takes the writer lock, so they are safe beside a
// running storage node on the same host. Commands that write open it
// read-write and go through the store layer's operations (storage.hpp,
// atomic_batch.hpp), never raw bytes, so fencing and versioning hold.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli_args.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/record.hpp"
#include "profilestore/store/storage.hpp"

namespace profilestore::ctl {

enum class access : std::uint8_t {
  read_only,
  read_write,        // the environment must exist already
  read_write_create, // import: may create a new environment
};

struct database {
  std::unique_ptr<lmdb_backend> env;
  storage_options options;
  std::unique_ptr<storage> store;
};

// Opens --db DIR. invalid_argument when --db is missing; storage_error
// naming the folder when it holds no profilestore environment.
result<database> open_database(const parsed_args& args, access mode);

// Refuses a store name that has no keys in `db` (typos would otherwise list
// nothing and look like success).
result<void> require_store(const database& db, const std::string& store);

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
