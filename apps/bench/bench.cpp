// Shared pieces of profilestore-bench (bench.hpp).
#include "bench.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

namespace profilestore::bench {

std::vector<scenario>& registry() {
  static std::vector<scenario> all;
  return all;
}

registrar::registrar(std::string name, std::string summary,
                     std::function<std::vector<figure>(const options&)> run) {
  registry().push_back({std::move(name), std::move(summary), std::move(run)});
}

double median_ns_per_op(const std::function<void()>& op, int repeats,
                        std::chrono::milliseconds min_time) {
  using clock = std::chrono::steady_clock;
  op(); // warm up caches and allocators
  std::vector<double> samples;
  for (int r = 0; r < repeats; ++r) {
    std::uint64_t calls = 0;
    auto start = clock::now();
    auto elapsed = clock::duration::zero();
    do {
      for (int i = 0; i < 16; ++i)
        op();
      calls += 16;
      elapsed = clock::now() - start;
    } while (elapsed < min_time);
    samples.push_back(
      std::chrono::duration<double, std::nano>(elapsed).count()
      / static_cast<double>(calls));
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

namespace {

// A figure beside its baseline, with their ratio; no target yet.
figure compared(std::string name, std::string unit, double ours,
                std::string baseline_name, double baseline) {
  figure f;
  f.name = std::move(name);
  f.unit = std::move(unit);
  f.value = ours;
  f.baseline_name = std::move(baseline_name);
  f.baseline = baseline;
  f.ratio = baseline > 0 ? ours / baseline : 0;
  return f;
}

} // namespace

figure time_figure(std::string name, double ours_ns, std::string baseline_name,
                   double baseline_ns, double max_ratio) {
  auto f = compared(std::move(name), "ns/op", ours_ns, std::move(baseline_name),
                    baseline_ns);
  if (max_ratio > 0) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "ratio <= %.2f", max_ratio);
    f.target = buf;
    f.has_target = true;
    f.met = f.ratio <= max_ratio;
  }
  return f;
}

figure rate_figure(std::string name, std::string unit, double ours,
                   std::string baseline_name, double baseline,
                   double min_ratio) {
  auto f = compared(std::move(name), std::move(unit), ours,
                    std::move(baseline_name), baseline);
  if (min_ratio >= 0) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "ratio >= %.2f", min_ratio);
    f.target = buf;
    f.has_target = true;
    f.met = f.ratio >= min_ratio;
  }
  return f;
}

figure limit_figure(std::string name, std::string unit, double ours,
                    std::string baseline_name, double baseline,
                    double max_value) {
  auto f = compared(std::move(name), std::move(unit), ours,
                    std::move(baseline_name), baseline);
  char buf[64];
  std::snprintf(buf, sizeof buf, "<= %g %s", max_value, f.unit.c_str());
  f.target = buf;
  f.has_target = true;
  f.met = ours <= max_value;
  return f;
}

nlohmann::json figures_json(const std::string& scenario_name,
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

scratch_dir::scratch_dir(const std::string& prefix) {
  auto base = std::filesystem::temp_directory_path()
              / ("profilestore-bench-" + prefix + "-XXXXXX");
  std::string pattern = base.string();
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  path_ = pattern;
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void keep(const void* p) {
  asm volatile("" : : "r"(p) : "memory");
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

} // namespace profilestore::bench
