// Runs profilectl in-process against a temporary LMDB folder: string streams
// for stdin/stdout/stderr, a fixed clock, and helpers that seed the storage
// through the store layer (the CLI opens the folder itself, so seeding closes
// its handle first: LMDB wants one handle per process).
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "profilestore/codec/json.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/storage.hpp"
#include "result_checks.hpp"
#include "temp_dir.hpp"

namespace profilestore::testing {

struct ctl_run {
  int status = -1;
  std::string out;
  std::string err;
};

// 2026-11-17T10:00:00Z
inline constexpr std::int64_t fixed_now = 1'794'909'600'000;

class ctl_fixture {
public:
  ctl_fixture() : dir_("profilectl") {}

  const std::string& db() const { return dir_.path(); }
  std::string file(const std::string& name) const { return dir_.file(name); }

  // Runs `profilectl args... --db DIR` with `stdin_text`.
  ctl_run run(std::vector<std::string> args, const std::string& stdin_text = "",
              bool stdin_tty = false, bool with_db = true) {
    if (with_db) {
      args.push_back("--db");
      args.push_back(db());
    }
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    ctl::cli_io io{in, out, err, stdin_tty, false, [this] { return now; }};
    ctl_run r;
    r.status = ctl::run(args, io);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  // Opens the storage, runs `fn`, closes it.
  void with_storage(const std::function<void(lmdb_backend&, storage&)>& fn,
                    storage_options options = {}) {
    lmdb_options lo;
    lo.path = db();
    auto env = must(lmdb_backend::open(lo));
    storage s(*env, options);
    fn(*env, s);
  }

  // Starts a session of `node` on store/key (creating the profile with
  // `data_json`), then saves `data_json` from it, at time `t`.
  void start(const std::string& store, const std::string& key,
             const std::string& data_json, const std::string& node = "node-a",
             std::int64_t t = fixed_now - 60'000) {
    with_storage([&](lmdb_backend&, storage& s) {
      auto tmpl = std::make_shared<const std::string>(
        encode_msgpack(must(from_json(data_json))));
      start_session_op op{store, key, {}, tmpl};
      op.request.requester = session_ref{node, 1, 7};
      auto r = must(s.apply(op, t));
      REQUIRE(std::get<start_session_reply>(r.reply).outcome
              == start_outcome::started);
    });
  }

  // Writes Data through a set (no session) at time `t`.
  void put(const std::string& store, const std::string& key,
           const std::string& data_json, std::int64_t t) {
    with_storage([&](lmdb_backend&, storage& s) {
      set_request req;
      req.data = encode_msgpack(must(from_json(data_json)));
      must(s.apply(set_op{store, key, req}, t));
    });
  }

  // The latest record, read through the store layer.
  std::optional<read_reply> read(const std::string& store,
                                 const std::string& key,
                                 std::optional<std::uint64_t> version = {}) {
    std::optional<read_reply> out;
    with_storage([&](lmdb_backend&, storage& s) {
      out = must(s.get(store, key, version));
    });
    return out;
  }

  std::string data_json(const std::string& store, const std::string& key) {
    auto r = read(store, key);
    REQUIRE(r.has_value());
    return to_json(must(decode_msgpack(r->rec.data)));
  }

  std::int64_t now = fixed_now;

private:
  temp_dir dir_;
};

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace profilestore::testing
