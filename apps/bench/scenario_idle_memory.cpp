// Scenario "idle-memory": resident memory per active, idle profile.
//
// Ours: 100,000 sessions (--quick: 10,000) of a store whose template is a
// 1 KiB typed profile, started from actor code (1,000 starts in flight at a
// time) on one node with LMDB storage (temporary folder, durable sync), then
// left idle (auto-save far away). Resident memory (VmRSS of /proc/self/status)
// is read before and after, both times after giving free heap back to the
// system (malloc_trim), so the difference is live memory; a small warm-up of
// profiles started first keeps the node's one-time costs out of it. Per
// profile: (after - before) / N; beyond its data: that minus the encoded
// data size.
// Baselines (same run, same method): the MessagePack data size itself; the
// RSS of N plain std::string copies of it; and, for reference, the RSS of N
// decoded copies of the typed struct (what the profile's data costs in the
// form the application uses). Target: <= 4 KiB per profile beyond its data.
// Also reported: the same difference in RssAnon alone (the heap, without
// LMDB's pages mapped into the process).
//
// Runs in a child process of its own (a fresh heap; see run_in_child). The
// node is then shut down cleanly within 60 s (--quick: 30 s); when that
// cannot finish, the figures still stand, a warning says so, and the child
// ends without waiting further.
// Parameters: --param profiles=N, window=N; threads=N, policy=... .
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <system_error>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench.hpp"
#include "profiles.hpp"
#include "runtime.hpp"

namespace profilestore::bench {
namespace {

constexpr double max_overhead_bytes = 4096;

std::size_t param(const options& opts, const char* name, std::size_t dflt) {
  auto i = opts.params.find(name);
  return i == opts.params.end() ? dflt : std::stoul(i->second);
}

double per_item(const rss_reading& before, const rss_reading& after,
                std::size_t n) {
  return (static_cast<double>(after.total) - static_cast<double>(before.total))
         / static_cast<double>(n);
}

// RSS per item of `n` objects made by `make`, kept alive together.
template <class T, class Make>
double rss_per_copy(std::size_t n, Make make) {
  trim_heap();
  auto before = read_rss();
  double out = 0;
  {
    std::vector<T> copies;
    copies.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      copies.push_back(make());
    keep(copies.data());
    auto after = read_rss();
    out = per_item(before, after, n);
  }
  trim_heap();
  return out;
}

constexpr int abandoned_status = 3;

std::vector<figure> make_figures(std::size_t n, std::size_t data_size,
                                 const rss_reading& before,
                                 const rss_reading& after,
                                 const rss_reading& after_untrimmed,
                                 double start_s, double string_rss,
                                 double typed_rss) {
  const double size = static_cast<double>(data_size);
  const double count = static_cast<double>(n);
  double per_profile = per_item(before, after, n);
  double heap = (static_cast<double>(after.anon)
                 - static_cast<double>(before.anon))
                / count;
  double mapped = (static_cast<double>(after.file)
                   - static_cast<double>(before.file))
                  / count;
  auto mib = [](std::size_t b) { return static_cast<double>(b) / (1 << 20); };
  std::fprintf(stderr,
               "idle-memory: %zu profiles of %zu B data (%.0f starts/s)\n"
               "idle-memory: RSS before %.1f MiB (anon %.1f, file %.1f), "
               "after %.1f MiB (anon %.1f, file %.1f), after before trim "
               "%.1f MiB\n"
               "idle-memory: per profile: %.0f B total (%.0f B heap, %.0f B "
               "mapped files), %.0f B before trim\n",
               n, data_size, count / start_s, mib(before.total),
               mib(before.anon), mib(before.file), mib(after.total),
               mib(after.anon), mib(after.file), mib(after_untrimmed.total),
               per_profile, heap, mapped, per_item(before, after_untrimmed, n));
  return {
    limit_figure("RSS per idle profile beyond its data", "B",
                 per_profile - size, "msgpack data size", size,
                 max_overhead_bytes),
    rate_figure("heap per idle profile beyond its data", "B", heap - size,
                "msgpack data size", size, -1),
    rate_figure("RSS per idle profile, total", "B", per_profile,
                "std::string copy of the data, RSS", string_rss, -1),
    rate_figure("decoded typed data alone, RSS", "B", typed_rss,
                "msgpack data size", size, -1),
  };
}

std::vector<figure> measure(const options& opts) {
  const std::size_t n = param(opts, "profiles", opts.quick ? 10'000 : 100'000);
  const std::size_t window = param(opts, "window", 1000);
  const std::size_t warm = std::max<std::size_t>(100, n / 100);
  watchdog guard("idle-memory", std::chrono::seconds(600));

  sample_profile tmpl = make_typed_profile(1024);
  const std::string data = encode_typed(tmpl);

  // Baselines: the data as plain bytes, and as the decoded struct.
  double string_rss
    = rss_per_copy<std::string>(n, [&] { return std::string(data); });
  double typed_rss = rss_per_copy<sample_profile>(n, [&] {
    sample_profile p;
    auto r = decode_typed(data, p);
    if (!r)
      die("decode_typed: " + r.err().to_string());
    return p;
  });

  rss_reading before, after, after_untrimmed;
  double start_s = 0;
  std::vector<figure> figures;
  {
    scratch_dir dir("idle");
    bench_config cfg(opts);
    caf::actor_system sys{cfg};
    lmdb_runtime rt(sys, dir.path(), std::size_t{2} << 30);
    auto store = rt.get_node().open<sample_profile>("bench", tmpl);
    if (!store)
      die("open store: " + store.err().to_string());
    auto start_all = [&](const std::string& prefix, std::size_t count) {
      std::vector<std::string> keys;
      keys.reserve(count);
      for (std::size_t i = 0; i < count; ++i)
        keys.push_back(bench_key(prefix, i));
      auto r = start_sessions(sys, rt.get_node().actor(), store->spec(), keys,
                              window, std::chrono::seconds(300));
      if (r.errors > 0)
        die("start_session: " + std::to_string(r.errors)
            + " failed, first: " + r.first_error);
      return r;
    };
    auto warm_started = start_all("warm", warm);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    trim_heap();
    before = read_rss();

    auto started = start_all("player", n);
    start_s = started.elapsed_s;
    std::fprintf(stderr, "idle-memory: %zu sessions started in %.1f s\n", n,
                 start_s);
    // Keep only the actor handles, as an application would.
    std::vector<caf::actor> handles;
    handles.reserve(n);
    for (auto& h : started.handles)
      handles.push_back(std::move(h.actor));
    started = started_sessions{};
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    after_untrimmed = read_rss();
    trim_heap();
    after = read_rss();
    handles.clear();
    warm_started = started_sessions{};

    figures = make_figures(n, data.size(), before, after, after_untrimmed,
                           start_s, string_rss, typed_rss);

    // A clean shutdown: every session's final save, bounded in time. When
    // it cannot finish (see the report), this child process prints its
    // figures, removes its folder and ends at once with status 3 rather
    // than wait for actors that are still busy.
    auto t0 = std::chrono::steady_clock::now();
    auto done = rt.get_node().shutdown(std::chrono::seconds(opts.quick ? 30 : 60));
    double stop_s
      = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!done) {
      std::fprintf(stderr,
                   "idle-memory: WARNING: the clean shutdown of %zu sessions "
                   "did not finish within %.0f s (%s); abandoning the node\n",
                   n + warm, stop_s, done.err().to_string().c_str());
      std::cout << figures_json("idle-memory", figures).dump() << std::endl;
      std::error_code ec;
      std::filesystem::remove_all(dir.path(), ec);
      std::fflush(stderr);
      std::_Exit(abandoned_status);
    }
    auto stopped = rt.stop(std::chrono::seconds(30));
    if (!stopped)
      die("shutdown: " + stopped.err().to_string());
    std::fprintf(stderr, "idle-memory: final saves and shutdown took %.1f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                   .count());
  }
  return figures;
}

// RSS differences are only meaningful in a fresh process: heap left free
// by scenarios run before (--all) would absorb the profiles' allocations.
// So the scenario runs itself in a child process (this binary, the same
// options) and reads the child's JSON line back.
constexpr const char* child_marker = "PROFILESTORE_BENCH_CHILD";

std::vector<figure> run_in_child(const options& opts) {
  char exe[4096];
  auto len = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0)
    die("idle-memory: cannot find this executable (/proc/self/exe)");
  exe[len] = '\0';
  std::string cmd = std::string(child_marker) + "=1 exec " + shell_quote(exe)
                    + " --scenario idle-memory";
  if (opts.quick)
    cmd += " --quick";
  for (const auto& [k, v] : opts.params)
    cmd += " --param " + shell_quote(k + "=" + v);
  std::fflush(stdout);
  std::fflush(stderr);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe)
    die("idle-memory: cannot start the child process");
  std::string out;
  char buf[4096];
  while (auto got = std::fread(buf, 1, sizeof buf, pipe))
    out.append(buf, got);
  int status = ::pclose(pipe);
  bool abandoned = WIFEXITED(status) && WEXITSTATUS(status) == abandoned_status;
  if (status != 0 && !abandoned)
    die("idle-memory: the child process failed (status "
        + std::to_string(status) + ")");
  if (abandoned)
    std::fprintf(stderr, "idle-memory: WARNING: figures measured, but the "
                         "node could not shut down cleanly in time\n");
  auto start = out.find('{');
  auto j = nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start),
                                 nullptr, false);
  if (j.is_discarded() || !j.contains("figures"))
    die("idle-memory: no JSON line from the child process");
  std::vector<figure> figures;
  for (const auto& jf : j["figures"]) {
    figure f;
    f.name = jf.value("name", "");
    f.unit = jf.value("unit", "");
    f.value = jf.value("value", 0.0);
    f.baseline_name = jf.value("baseline_name", "");
    f.baseline = jf.value("baseline", 0.0);
    f.ratio = jf.value("ratio", 0.0);
    f.has_target = jf.contains("target");
    if (f.has_target) {
      f.target = jf.value("target", "");
      f.met = jf.value("met", false);
    }
    figures.push_back(std::move(f));
  }
  return figures;
}

std::vector<figure> run(const options& opts) {
  if (std::getenv(child_marker) != nullptr)
    return measure(opts);
  return run_in_child(opts);
}

registrar reg("idle-memory",
              "resident memory per idle active profile (100,000 of 1 KiB) "
              "beyond its data",
              run);

} // namespace
} // namespace profilestore::bench
