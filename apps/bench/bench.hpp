// Shared pieces of profilestore-bench: figures, timing, scratch folders.
//
// Every figure is printed beside its baseline measured in the same run, with
// the ratio and the target it is held to. Timings are wall-clock medians of
// repeated runs; they are measurements, never test assertions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace profilestore::bench {

// Measurements behind a figure, for the charts of the report (report.hpp):
// every sample of a distribution, e.g. each request's latency.
struct series {
  std::string name; // "start_session latency"
  std::string unit; // "ms"
  std::vector<double> samples;
};

struct figure {
  std::string name;          // "decode 1 KiB value"
  std::string unit;          // "ns/op", "ops/s", "ms"
  double value = 0;          // ours
  std::string baseline_name; // "msgpack::unpack"
  double baseline = 0;
  // value / baseline.
  double ratio = 0;
  std::string target; // "ratio <= 1.5", "" when none
  bool has_target = false;
  bool met = true;
  // Optional, for charts (report.hpp). `x`: the figure's place on an x axis
  // named `x_label` (e.g. batch size 100); the figures of one scenario that
  // share an x_label are drawn as one chart of value and baseline against x.
  std::optional<double> x;
  std::string x_label;
  // Distributions measured for this figure, drawn as cumulative
  // distributions in one chart per scenario.
  std::vector<series> distributions;
};

struct options {
  bool quick = false; // smaller runs (for smoke tests)
  std::map<std::string, std::string> params;
};

struct scenario {
  std::string name;
  std::string summary;
  std::function<std::vector<figure>(const options&)> run;
};

// Scenarios register themselves here (one function per scenario file).
std::vector<scenario>& registry();
struct registrar {
  registrar(std::string name, std::string summary,
            std::function<std::vector<figure>(const options&)> run);
};

// Runs `op` repeatedly: `repeats` samples of at least `min_time` each; returns
// the median time of one call in nanoseconds.
double median_ns_per_op(const std::function<void()>& op, int repeats,
                        std::chrono::milliseconds min_time);

// A figure comparing a time per op (lower is better): ratio = ours/baseline.
figure time_figure(std::string name, double ours_ns, std::string baseline_name,
                   double baseline_ns, double max_ratio);
// A figure comparing a throughput (higher is better): ratio = ours/baseline,
// met when ratio >= min_ratio (pass a negative min_ratio for no target).
figure rate_figure(std::string name, std::string unit, double ours,
                   std::string baseline_name, double baseline,
                   double min_ratio);

// A figure held to an absolute bound (lower is better), e.g. a latency in ms
// or bytes of memory: ratio = ours/baseline for reference, met when
// ours <= max_value; the target reads "<= max_value unit".
figure limit_figure(std::string name, std::string unit, double ours,
                    std::string baseline_name, double baseline,
                    double max_value);

// The JSON line of one scenario (see main.cpp for the format).
nlohmann::json figures_json(const std::string& scenario_name,
                            const std::vector<figure>& figures);

// A fresh folder under $TMPDIR, removed by the destructor.
class scratch_dir {
public:
  explicit scratch_dir(const std::string& prefix);
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

// Keeps the optimizer from deleting a computation.
void keep(const void* p);

// `s` as one word for /bin/sh, in single quotes.
std::string shell_quote(const std::string& s);

} // namespace profilestore::bench
