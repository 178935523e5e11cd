// profilestore-bench: every performance figure of profilestore, each printed
// beside a baseline measured in the same run on the same machine.
//
// Scenarios (--scenario NAME; --all runs every one; --list names them):
//   codec        encode/decode of a 1 KiB and a 64 KiB profile (dynamic value
//                and typed struct) against raw msgpack-c on the same data.
//                Target: within 1.5x of raw.
//   store-batch  durable storage::apply_batch of saves of 1 KiB profiles in
//                batches of 1, 100 and 1,000 against raw LMDB puts of the same
//                size and batching. Target: >= 50 % of raw at batch 1,000.
//   save-throughput
//                durable saves/s of 10,000 active 1 KiB profiles on one node
//                (LMDB, default sync), each always with one update+save in
//                flight from driver actors, against raw LMDB puts of the same
//                size, 1,000 per durable transaction. Target: >= 50 % of raw.
//   session-start
//                p50 and p99 latency, request to usable profile, of 1,000
//                concurrent start_session of new keys sent from actor code,
//                beside the latency of one durable LMDB commit.
//                Target: p99 <= 10 ms.
//   idle-memory  resident memory per idle active profile (100,000 profiles
//                of 1 KiB data; --quick 10,000) beyond its data, beside the
//                data's MessagePack size and the RSS of plain copies of it.
//                Target: <= 4 KiB per profile beyond its data. Runs in a
//                child process of this binary, so that its RSS readings see
//                a fresh heap.
//
// The actor scenarios (runtime.hpp) run a threaded CAF actor system (CAF's
// defaults; --param threads=N or policy=sharing change them), push
// auto-saves far beyond the run, shut the node down cleanly, and bound
// every wait.
// Output: one JSON line per scenario on stdout,
//   {"scenario": ..., "figures": [{"name", "unit", "value", "baseline_name",
//    "baseline", "ratio", "target", "met"}...]}
// and a readable table on stderr. --quick shortens every run (smoke tests).
// --report DIR also writes DIR/report.md and PNG charts (report.hpp); exit
// status 3 when report.md was written but a chart could not be drawn (e.g.
// gnuplot missing), 1 when the report could not be written at all.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "allocator.hpp"
#include "bench.hpp"
#include "report.hpp"

using namespace profilestore::bench;

namespace {

void usage(std::ostream& out) {
  out << "usage: profilestore-bench (--scenario NAME ... | --all | --list)"
         " [--quick] [--param KEY=VALUE ...] [--report DIR]\n";
}

void print_table(const std::string& scenario_name,
                 const std::vector<figure>& figures) {
  std::fprintf(stderr, "\n%s\n", scenario_name.c_str());
  for (const auto& f : figures)
    std::fprintf(stderr, "  %-38s %14.1f %-6s | %-30s %14.1f | ratio %6.3f %s%s\n",
                 f.name.c_str(), f.value, f.unit.c_str(),
                 f.baseline_name.c_str(), f.baseline, f.ratio,
                 f.target.c_str(),
                 f.has_target ? (f.met ? " met" : " NOT MET") : "");
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  std::vector<std::string> wanted;
  bool all = false;
  std::string report_dir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--scenario" && i + 1 < argc) {
      wanted.push_back(argv[++i]);
    } else if (arg == "--all") {
      all = true;
    } else if (arg == "--report" && i + 1 < argc) {
      report_dir = argv[++i];
    } else if (arg == "--quick") {
      opts.quick = true;
    } else if (arg == "--param" && i + 1 < argc) {
      std::string kv = argv[++i];
      auto eq = kv.find('=');
      if (eq == std::string::npos) {
        std::cerr << "error: --param takes KEY=VALUE, got '" << kv << "'\n";
        return 2;
      }
      opts.params[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (arg == "--list") {
      for (const auto& s : registry())
        std::cout << s.name << "\t" << s.summary << "\n";
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    } else {
      std::cerr << "error: unknown argument '" << arg << "'\n";
      usage(std::cerr);
      return 2;
    }
  }
  if (!all && wanted.empty()) {
    usage(std::cerr);
    return 2;
  }
  std::vector<const scenario*> to_run;
  if (all)
    for (const auto& s : registry())
      to_run.push_back(&s);
  for (const auto& name : wanted) {
    const scenario* found = nullptr;
    for (const auto& s : registry())
      if (s.name == name)
        found = &s;
    if (!found) {
      std::cerr << "error: no scenario named '" << name
                << "' (--list shows them)\n";
      return 2;
    }
    to_run.push_back(found);
  }
  // Which malloc this run uses: the figures depend on it (allocator.hpp).
  if (!std::getenv("PROFILESTORE_BENCH_CHILD"))
    std::fprintf(stderr, "profilestore-bench: allocator %s\n",
                 profilestore::node_app::allocator_name().c_str());
  std::vector<scenario_result> results;
  for (const auto* s : to_run) {
    auto figures = s->run(opts);
    if (!report_dir.empty())
      results.push_back({s->name, figures});
    std::cout << figures_json(s->name, figures).dump() << std::endl;
    // A scenario run as a child of another bench process: its parent
    // prints the table.
    if (!std::getenv("PROFILESTORE_BENCH_CHILD"))
      print_table(s->name, figures);
  }
  if (!report_dir.empty()) {
    auto outcome = write_report(report_dir, results);
    if (!outcome.written) {
      std::cerr << "error: report: " << outcome.problem << "\n";
      return 1;
    }
    std::cerr << "report: " << report_dir << "/report.md\n";
    if (!outcome.charts) {
      std::cerr << "error: report written without every chart: "
                << outcome.problem << "\n";
      return 3;
    }
  }
  return 0;
}
