// The benchmark report: `profilestore-bench ... --report DIR` writes
// DIR/report.md (every figure beside its baseline, ratio and target, and the
// machine the run was taken on) and PNG charts drawn by gnuplot:
//   <scenario>-ratios.png       each figure's ratio to its baseline
//   <scenario>-distribution.png cumulative distributions of the samples a
//                               scenario attached (figure::distributions),
//                               e.g. session-start latencies
//   <scenario>-vs-<x>.png       value and baseline against figure::x, e.g.
//                               store-batch throughput against batch size
// The data (.dat) and gnuplot scripts (.gp) stay beside the charts, so a
// chart can be redrawn or restyled by hand.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "bench.hpp"

namespace profilestore::bench {

struct scenario_result {
  std::string scenario;
  std::vector<figure> figures;
};

struct report_outcome {
  bool written = false;  // report.md is there
  bool charts = false;   // every chart was drawn
  std::string problem;   // what went wrong, when something did
};

// Writes the report into `dir` (created when missing). Without gnuplot on
// PATH, report.md is still written and says that the charts are missing.
report_outcome write_report(const std::string& dir,
                            const std::vector<scenario_result>& results);

} // namespace profilestore::bench
