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
//
// Output: one JSON line per scenario on stdout,
//   {"scenario": ..., "figures": [{"name", "unit", "value", "baseline_name",
//    "baseline", "ratio", "target", "met"}...]}
// and a readable table on stderr. --quick shortens every run (smoke tests).
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "bench.hpp"

using namespace profilestore::bench;

namespace {

void usage(std::ostream& out) {
  out << "usage: profilestore-bench (--scenario NAME ... | --all | --list)"
         " [--quick] [--param KEY=VALUE ...]\n";
}

nlohmann::json to_json(const std::string& scenario_name,
                       const std::vector<figure>& figures) {
  nlohmann::json out;
  out["scenario"] = scenario_name;
  out["figures"] = nlohmann::json::array();
  for (const auto& f : figures) {
    nlohmann::json j;
    j["name"] = f.name;
    j["unit"] = f.unit;
    j["value"] = f.value;
    j["baseline_name"] = f.baseline_name;
    j["baseline"] = f.baseline;
    j["ratio"] = f.ratio;
    if (f.has_target) {
      j["target"] = f.target;
      j["met"] = f.met;
    }
    out["figures"].push_back(std::move(j));
  }
  return out;
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
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--scenario" && i + 1 < argc) {
      wanted.push_back(argv[++i]);
    } else if (arg == "--all") {
      all = true;
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
  for (const auto* s : to_run) {
    auto figures = s->run(opts);
    std::cout << to_json(s->name, figures).dump() << std::endl;
    print_table(s->name, figures);
  }
  return 0;
}
