// Shared pieces of the actor-runtime scenarios (runtime.hpp).
#include "runtime.hpp"

#include <lmdb.h>
#include <sys/resource.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "bench.hpp"
#include "profilestore/actors/store_actor.hpp"

namespace profilestore::bench {

using steady = std::chrono::steady_clock;

void die(const std::string& what) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  std::fflush(stderr);
  std::fflush(stdout);
  std::_Exit(1);
}

// ---- watchdog and bounded waits ---------------------------------------------

watchdog::watchdog(std::string what, std::chrono::seconds limit)
  : what_(std::move(what)) {
  thread_ = std::thread([this, limit] {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, limit, [this] { return done_; }))
      die(what_ + " did not finish within " + std::to_string(limit.count())
          + " s (watchdog)");
  });
}

watchdog::~watchdog() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds limit, const std::string& what) {
  auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() >= deadline)
      die("timed out after " + std::to_string(limit.count()) + " ms waiting for "
          + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// ---- actor system, node ---------------------------------------------------------

bench_config::bench_config(const options& opts) {
  set("logger.verbosity", caf::atom("quiet"));
  // These scenarios run storage in the process, as profilestore-node with a
  // storage role does: the same worker count as it uses.
  use_recommended_workers(*this, true);
  if (auto i = opts.params.find("threads"); i != opts.params.end())
    set("scheduler.max-threads", std::stoul(i->second));
  if (auto i = opts.params.find("policy"); i != opts.params.end())
    set("scheduler.policy", caf::atom_from_string(i->second));
}

constants bench_constants() {
  using namespace std::chrono;
  constants c;
  // Far beyond any run: no auto-save, no lock retry fires while we measure.
  c.auto_save_period = hours(24 * 365 * 10);
  c.load_repeat_period = hours(24);
  c.first_load_repeat = hours(24);
  c.session_steal = hours(24 * 2);
  c.start_session_timeout = seconds(120);
  c.store_request_timeout = seconds(60);
  return c;
}

lmdb_runtime::lmdb_runtime(caf::actor_system& sys, const std::string& dir,
                           std::size_t map_size)
  : sys_(&sys) {
  lmdb_options lo;
  lo.path = dir;
  lo.initial_map_size = map_size;
  lo.durable = true; // fsync at every commit: a reply means durable
  auto env = lmdb_backend::open(lo);
  if (!env.ok())
    die("opening LMDB in " + dir + ": " + env.err().to_string());
  std::shared_ptr<backend> b(std::move(*env));
  storage_ = spawn_store_actors(sys, std::move(b));
  node_config nc;
  nc.name = "bench-node";
  nc.consts = bench_constants();
  node_ = std::make_unique<node>(sys, storage_, std::move(nc));
}

lmdb_runtime::~lmdb_runtime() {
  if (!stopped_) {
    auto r = stop(std::chrono::seconds(60));
    if (!r)
      std::fprintf(stderr, "warning: shutdown: %s\n",
                   r.err().to_string().c_str());
  }
}

result<void> lmdb_runtime::stop(std::chrono::seconds timeout) {
  stopped_ = true;
  auto done = node_->shutdown(std::chrono::duration_cast<duration>(timeout));
  node_.reset(); // ends the node actor (and anything linked to it)
  storage_.stop();
  auto* sys = sys_;
  wait_until([sys] { return sys->registry().running() == 0; },
             std::chrono::seconds(60), "every actor to terminate");
  return done;
}

// ---- starting sessions from actor code ------------------------------------------

namespace {

struct start_shared {
  std::vector<std::string> keys;
  store_spec_ptr spec;
  caf::actor node;
  std::size_t window = 1;
  started_sessions out;
  std::vector<steady::time_point> sent;
  std::size_t next = 0;
  std::size_t answered = 0;
  steady::time_point first;
  std::atomic<bool> done{false};
};

void finish_one(const std::shared_ptr<start_shared>& s) {
  if (++s->answered == s->keys.size()) {
    s->out.elapsed_s
      = std::chrono::duration<double>(steady::now() - s->first).count();
    s->done.store(true, std::memory_order_release);
  }
}

// Requests here carry no CAF timeout (see scenario_save_throughput.cpp: a
// request timeout costs a clock entry until it expires, answered or not);
// wait_until bounds the whole burst instead.
void send_start(caf::event_based_actor* self,
                const std::shared_ptr<start_shared>& s) {
  if (s->next >= s->keys.size())
    return;
  auto i = s->next++;
  s->sent[i] = steady::now();
  self
    ->request(s->node, caf::infinite, start_atom::value, s->spec, s->keys[i],
              start_options{})
    .then(
      [self, s, i](profile_handle& h) {
        s->out.latency_ms[i] = std::chrono::duration<double, std::milli>(
                                 steady::now() - s->sent[i])
                                 .count();
        s->out.handles[i] = std::move(h);
        send_start(self, s);
        finish_one(s);
      },
      [self, s, i](caf::error& e) {
        s->out.latency_ms[i] = std::chrono::duration<double, std::milli>(
                                 steady::now() - s->sent[i])
                                 .count();
        if (s->out.errors++ == 0)
          s->out.first_error = from_caf_error(e).to_string();
        send_start(self, s);
        finish_one(s);
      });
}

} // namespace

started_sessions start_sessions(caf::actor_system& sys, const caf::actor& node,
                                const store_spec_ptr& spec,
                                const std::vector<std::string>& keys,
                                std::size_t window, std::chrono::seconds limit) {
  auto s = std::make_shared<start_shared>();
  s->keys = keys;
  s->spec = spec;
  s->node = node;
  s->window = std::max<std::size_t>(1, window);
  s->out.handles.resize(keys.size());
  s->out.latency_ms.resize(keys.size());
  s->sent.resize(keys.size());
  if (keys.empty())
    return std::move(s->out);
  // The state goes in as a spawn argument: CAF 0.17 dereferences a null
  // argument tuple when the function takes none besides `self`.
  sys.spawn([](caf::event_based_actor* self, std::shared_ptr<start_shared> shared)
              -> caf::behavior {
    shared->first = steady::now();
    auto n = std::min(shared->window, shared->keys.size());
    for (std::size_t k = 0; k < n; ++k)
      send_start(self, shared);
    // No behavior of its own: the actor ends after its last reply.
    return {};
  }, s);
  wait_until([s] { return s->done.load(std::memory_order_acquire); },
             std::chrono::duration_cast<std::chrono::milliseconds>(limit)
               + std::chrono::seconds(5),
             std::to_string(keys.size()) + " session starts");
  return std::move(s->out);
}

std::size_t end_sessions(caf::actor_system& sys,
                         const std::vector<caf::actor>& profiles,
                         std::chrono::seconds limit) {
  struct end_shared {
    std::atomic<std::size_t> answered{0};
    std::atomic<std::size_t> failed{0};
  };
  auto s = std::make_shared<end_shared>();
  if (profiles.empty())
    return 0;
  sys.spawn([profiles](caf::event_based_actor* self,
                                std::shared_ptr<end_shared> shared) -> caf::behavior {
    for (const auto& p : profiles)
      self->request(p, caf::infinite, end_atom::value)
        .then([shared] { shared->answered++; },
              [shared](caf::error&) {
                shared->failed++;
                shared->answered++;
              });
    return {};
  }, s);
  auto n = profiles.size();
  wait_until([s, n] { return s->answered.load() == n; },
             std::chrono::duration_cast<std::chrono::milliseconds>(limit)
               + std::chrono::seconds(5),
             std::to_string(n) + " session ends");
  return s->failed.load();
}

std::uint64_t backend_commits(const lmdb_runtime& rt) {
  return rt.storage().shared_storage->get_backend().stats().commits;
}

std::string bench_key(const std::string& prefix, std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%07zu", i);
  return prefix + buf;
}

// ---- memory -------------------------------------------------------------------------

rss_reading read_rss() {
  std::ifstream in("/proc/self/status");
  rss_reading r;
  std::string line;
  while (std::getline(in, line)) {
    auto field = [&](const char* name, std::size_t& out) {
      auto len = std::char_traits<char>::length(name);
      if (line.compare(0, len, name) == 0) {
        std::istringstream rest(line.substr(len));
        std::size_t kb = 0;
        rest >> kb;
        out = kb * 1024;
      }
    };
    field("VmRSS:", r.total);
    field("RssAnon:", r.anon);
    field("RssFile:", r.file);
  }
  return r;
}

double process_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec)
           + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

write_counters process_writes() {
  std::ifstream in("/proc/self/io");
  std::string field;
  std::uint64_t value = 0;
  write_counters out;
  while (in >> field >> value) {
    if (field == "wchar:")
      out.bytes = value;
    else if (field == "syscw:")
      out.calls = value;
  }
  return out;
}

void trim_heap() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

double quantile(std::vector<double> samples, double p) {
  if (samples.empty())
    return 0;
  std::sort(samples.begin(), samples.end());
  auto rank = static_cast<std::size_t>(
    std::ceil(p * static_cast<double>(samples.size())));
  rank = std::clamp<std::size_t>(rank, 1, samples.size());
  return samples[rank - 1];
}

// ---- raw LMDB baselines ---------------------------------------------------------------

namespace {

void check_mdb(int rc, const char* what) {
  if (rc != MDB_SUCCESS)
    die(std::string("raw LMDB: ") + what + ": " + mdb_strerror(rc));
}

struct raw_env {
  scratch_dir dir{"raw"};
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;

  explicit raw_env(std::size_t map_size) {
    check_mdb(mdb_env_create(&env), "mdb_env_create");
    check_mdb(mdb_env_set_mapsize(env, map_size), "mdb_env_set_mapsize");
    check_mdb(mdb_env_open(env, dir.path().c_str(), MDB_NOTLS, 0644),
              "mdb_env_open");
    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    check_mdb(mdb_dbi_open(txn, nullptr, 0, &dbi), "mdb_dbi_open");
    check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  ~raw_env() { mdb_env_close(env); }
  raw_env(const raw_env&) = delete;
  raw_env& operator=(const raw_env&) = delete;

  // One durable transaction putting `value` under keys[first, first+count).
  void put(const std::vector<std::string>& keys, std::size_t first,
           std::size_t count, const std::string& value) {
    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    for (std::size_t i = first; i < first + count; ++i) {
      const auto& k = keys[i % keys.size()];
      MDB_val mk{k.size(), const_cast<char*>(k.data())};
      MDB_val mv{value.size(), const_cast<char*>(value.data())};
      check_mdb(mdb_put(txn, dbi, &mk, &mv, 0), "mdb_put");
    }
    check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  }
};

} // namespace

double raw_lmdb_batch_rate(std::size_t key_space, std::size_t batch,
                           std::size_t total, const std::string& value,
                           std::uint64_t shuffle_seed, raw_write_cost* cost) {
  raw_env e(std::size_t{2} << 30);
  std::vector<std::string> keys;
  keys.reserve(key_space);
  for (std::size_t i = 0; i < key_space; ++i)
    keys.push_back(bench_key("player", i));
  e.put(keys, 0, key_space, value); // populate, untimed
  if (shuffle_seed != 0) {
    std::mt19937_64 rng(shuffle_seed);
    std::shuffle(keys.begin(), keys.end(), rng);
  }
  const auto written0 = process_writes();
  auto start = steady::now();
  for (std::size_t done = 0; done < total; done += batch)
    e.put(keys, done, std::min(batch, total - done), value);
  std::chrono::duration<double> elapsed = steady::now() - start;
  if (cost) {
    const auto written1 = process_writes();
    cost->bytes_per_put = static_cast<double>(written1.bytes - written0.bytes)
                          / static_cast<double>(total);
    cost->calls_per_put = static_cast<double>(written1.calls - written0.calls)
                          / static_cast<double>(total);
  }
  return static_cast<double>(total) / elapsed.count();
}

std::vector<double> raw_lmdb_commit_latencies_ms(std::size_t count,
                                                 const std::string& value) {
  raw_env e(std::size_t{256} << 20);
  std::vector<std::string> keys;
  keys.reserve(count + 1);
  for (std::size_t i = 0; i <= count; ++i)
    keys.push_back(bench_key("commit", i));
  e.put(keys, count, 1, value); // warm up: first commit of the file
  std::vector<double> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto start = steady::now();
    e.put(keys, i, 1, value);
    out.push_back(
      std::chrono::duration<double, std::milli>(steady::now() - start).count());
  }
  return out;
}

} // namespace profilestore::bench
