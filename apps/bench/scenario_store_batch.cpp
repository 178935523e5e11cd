// Scenario "store-batch": durable group commit of profile saves against raw
// LMDB. Ours: storage::apply_batch of save operations (fencing check, record
// decode and re-encode, version entry and head written) on an lmdb_backend
// with default options. Baseline: raw LMDB puts of values of the same size,
// the same number per transaction, one durable commit each. Both overwrite a
// pre-populated key space of 10,000 keys.
#include <lmdb.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "bench.hpp"
#include "profiles.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/storage.hpp"

namespace profilestore::bench {
namespace {

constexpr std::size_t key_space = 10'000;
constexpr const char* store_name = "bench";

[[noreturn]] void die(const char* what, int rc) {
  std::fprintf(stderr, "error: %s: %s\n", what, mdb_strerror(rc));
  std::exit(1);
}

void check_mdb(int rc, const char* what) {
  if (rc != MDB_SUCCESS)
    die(what, rc);
}

std::string key_name(std::size_t i) {
  return "player-" + std::to_string(i);
}

// Raw LMDB: `total` puts of `value`, `batch` per durable transaction.
double raw_lmdb_rate(std::size_t batch, std::size_t total,
                     const std::string& value) {
  scratch_dir dir("raw");
  MDB_env* env = nullptr;
  check_mdb(mdb_env_create(&env), "mdb_env_create");
  check_mdb(mdb_env_set_mapsize(env, std::size_t{2} << 30), "set_mapsize");
  check_mdb(mdb_env_open(env, dir.path().c_str(), MDB_NOTLS, 0644), "open");
  MDB_dbi dbi = 0;
  auto put_range = [&](std::size_t first, std::size_t count) {
    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env, nullptr, 0, &txn), "txn_begin");
    if (dbi == 0)
      check_mdb(mdb_dbi_open(txn, nullptr, 0, &dbi), "dbi_open");
    for (std::size_t i = first; i < first + count; ++i) {
      std::string k = key_name(i % key_space);
      MDB_val mk{k.size(), k.data()};
      MDB_val mv{value.size(), const_cast<char*>(value.data())};
      check_mdb(mdb_put(txn, dbi, &mk, &mv, 0), "put");
    }
    check_mdb(mdb_txn_commit(txn), "commit");
  };
  put_range(0, key_space); // populate, untimed
  auto start = std::chrono::steady_clock::now();
  for (std::size_t done = 0; done < total; done += batch)
    put_range(done, batch);
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now()
                                          - start;
  mdb_env_close(env);
  return static_cast<double>(total) / elapsed.count();
}

// Ours: the same through storage::apply_batch of saves by session owners.
double storage_rate(std::size_t batch, std::size_t total,
                    const std::string& data) {
  scratch_dir dir("store");
  lmdb_options lo;
  lo.path = dir.path();
  lo.initial_map_size = std::size_t{2} << 30;
  auto env = lmdb_backend::open(lo);
  if (!env.ok()) {
    std::fprintf(stderr, "error: %s\n", env.err().to_string().c_str());
    std::exit(1);
  }
  storage s(**env);
  session_ref owner{"bench-node", 1, 1};
  std::vector<operation> starts;
  for (std::size_t i = 0; i < key_space; ++i) {
    start_session_op op{store_name, key_name(i), {}, nullptr};
    op.request.requester = owner;
    starts.push_back(std::move(op));
  }
  for (auto& r : s.apply_batch(starts, 1))
    if (!r.ok()) {
      std::fprintf(stderr, "error: %s\n", r.err().to_string().c_str());
      std::exit(1);
    }
  std::vector<save_op> saves;
  for (std::size_t i = 0; i < key_space; ++i) {
    save_request req;
    req.session = owner;
    req.data = data;
    saves.push_back(save_op{store_name, key_name(i), std::move(req)});
  }
  auto start = std::chrono::steady_clock::now();
  std::int64_t now = 2;
  for (std::size_t done = 0; done < total; done += batch) {
    std::vector<operation> ops;
    ops.reserve(batch);
    for (std::size_t i = done; i < done + batch; ++i)
      ops.push_back(saves[i % key_space]);
    for (auto& r : s.apply_batch(ops, now++))
      if (!r.ok()) {
        std::fprintf(stderr, "error: %s\n", r.err().to_string().c_str());
        std::exit(1);
      }
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now()
                                          - start;
  return static_cast<double>(total) / elapsed.count();
}

std::vector<figure> run(const options& opts) {
  std::string data = encode_msgpack(make_value_profile(1024));
  std::vector<figure> out;
  struct plan {
    std::size_t batch;
    std::size_t total;
  };
  std::size_t scale = opts.quick ? 10 : 1;
  for (plan p : {plan{1, 1500}, plan{100, 50'000}, plan{1000, 200'000}}) {
    std::size_t total = std::max(p.batch, p.total / scale);
    double raw = raw_lmdb_rate(p.batch, total, data);
    double ours = storage_rate(p.batch, total, data);
    out.push_back(rate_figure("durable saves, batch " + std::to_string(p.batch),
                              "ops/s", ours,
                              "raw LMDB puts, batch " + std::to_string(p.batch),
                              raw, p.batch == 1000 ? 0.5 : -1));
    out.back().x = static_cast<double>(p.batch);
    out.back().x_label = "batch size";
  }
  return out;
}

registrar reg("store-batch",
              "durable apply_batch of 1 KiB saves (batch 1/100/1000) vs raw "
              "LMDB puts",
              run);

} // namespace
} // namespace profilestore::bench
