// The benchmark report (report.hpp): report.md and gnuplot charts.
#include "report.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "allocator.hpp"

namespace profilestore::bench {
namespace {

namespace fs = std::filesystem;

std::string first_line_with(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size(), key) == 0) {
      auto colon = line.find(':');
      auto value = colon == std::string::npos ? line : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  return "unknown";
}

std::string machine_section() {
  std::ostringstream out;
  utsname u{};
  std::string kernel = uname(&u) == 0 ? std::string(u.sysname) + " "
                                          + u.release
                                      : "unknown";
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
  out << "| machine | |\n|---|---|\n"
      << "| CPU | " << first_line_with("/proc/cpuinfo", "model name") << " |\n"
      << "| cores | " << std::thread::hardware_concurrency() << " |\n"
      << "| memory | " << first_line_with("/proc/meminfo", "MemTotal") << " |\n"
      << "| kernel | " << kernel << " |\n"
      << "| allocator | " << node_app::allocator_name() << " |\n"
      << "| date | " << date << " |\n";
  return out.str();
}

std::string number(double v) {
  char buf[64];
  if (v != 0 && (std::abs(v) >= 1e6 || std::abs(v) < 1e-2))
    std::snprintf(buf, sizeof buf, "%.3g", v);
  else
    std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s = buf;
  if (s.find('.') != std::string::npos && s.find('e') == std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.')
      s.pop_back();
  }
  return s;
}

std::string md_cell(std::string s) {
  std::string out;
  for (char c : s)
    out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string figures_table(const std::vector<scenario_result>& results) {
  std::ostringstream out;
  out << "| scenario | figure | value | baseline | ratio | target | met |\n"
         "|---|---|---|---|---|---|---|\n";
  for (const auto& r : results)
    for (const auto& f : r.figures)
      out << "| " << md_cell(r.scenario) << " | " << md_cell(f.name) << " | "
          << number(f.value) << " " << md_cell(f.unit) << " | "
          << md_cell(f.baseline_name) << ": " << number(f.baseline) << " | "
          << number(f.ratio) << " | "
          << (f.has_target ? md_cell(f.target) : "-") << " | "
          << (f.has_target ? (f.met ? "yes" : "**no**") : "-") << " |\n";
  return out.str();
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path)
    return false;
  std::stringstream dirs(path);
  std::string d;
  while (std::getline(dirs, d, ':'))
    if (!d.empty() && access((d + "/" + program).c_str(), X_OK) == 0)
      return true;
  return false;
}

// A file name part made of [a-z0-9-].
std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      out.push_back(c);
    else if (c >= 'A' && c <= 'Z')
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    else if (!out.empty() && out.back() != '-')
      out.push_back('-');
  }
  while (!out.empty() && out.back() == '-')
    out.pop_back();
  return out.empty() ? "chart" : out;
}

// gnuplot string literal (single quotes double themselves).
std::string gp_string(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

struct chart {
  std::string name; // file stem
  std::string title;
  std::string script_body; // after the common preamble
  std::vector<std::pair<std::string, std::string>> data; // file, content
};

std::string preamble(const std::string& png, const std::string& title) {
  return "set terminal pngcairo size 900,540 noenhanced\n"
         "set output " + gp_string(png) + "\n"
         "set title " + gp_string(title) + "\n"
         "set grid\nset key top left\n";
}

chart ratio_chart(const scenario_result& r) {
  chart c{slug(r.scenario) + "-ratios", r.scenario + ": ours / baseline", "", {}};
  std::ostringstream dat;
  for (std::size_t i = 0; i < r.figures.size(); ++i)
    dat << i << " " << r.figures[i].ratio << " \"" << slug(r.figures[i].name)
        << "\"\n";
  std::string file = c.name + ".dat";
  c.data.push_back({file, dat.str()});
  c.script_body = "set style fill solid 0.6\nset boxwidth 0.6\n"
                  "set ylabel 'ratio (ours / baseline)'\nset yrange [0:*]\n"
                  "set xtics rotate by -30\nunset key\n"
                  "plot " + gp_string(file)
                  + " using 1:2:xtic(3) with boxes lc rgb '#4477aa'\n";
  return c;
}

std::vector<chart> distribution_charts(const scenario_result& r) {
  std::vector<const series*> all;
  for (const auto& f : r.figures)
    for (const auto& s : f.distributions)
      if (!s.samples.empty())
        all.push_back(&s);
  if (all.empty())
    return {};
  chart c{slug(r.scenario) + "-distribution",
          r.scenario + ": cumulative distribution", "", {}};
  std::string plot = "plot ";
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::vector<double> v = all[i]->samples;
    std::sort(v.begin(), v.end());
    std::ostringstream dat;
    for (std::size_t k = 0; k < v.size(); ++k)
      dat << v[k] << " " << static_cast<double>(k + 1) / v.size() << "\n";
    std::string file = c.name + "-" + std::to_string(i) + ".dat";
    c.data.push_back({file, dat.str()});
    plot += (i ? ", " : "") + gp_string(file) + " using 1:2 with steps lw 2 title "
            + gp_string(all[i]->name + " (" + std::to_string(v.size())
                        + " samples)");
  }
  c.script_body = "set logscale x\nset xlabel " + gp_string(all[0]->unit)
                  + "\nset ylabel 'fraction of samples at or below'\n"
                    "set yrange [0:1]\nset key bottom right\n"
                  + plot + "\n";
  return {c};
}

std::vector<chart> x_charts(const scenario_result& r) {
  std::vector<std::string> labels;
  for (const auto& f : r.figures)
    if (f.x && std::find(labels.begin(), labels.end(), f.x_label) == labels.end())
      labels.push_back(f.x_label);
  std::vector<chart> out;
  for (const auto& label : labels) {
    chart c{slug(r.scenario) + "-vs-" + slug(label),
            r.scenario + " against " + label, "", {}};
    std::ostringstream dat;
    std::string unit, base;
    for (const auto& f : r.figures)
      if (f.x && f.x_label == label) {
        dat << *f.x << " " << f.value << " " << f.baseline << "\n";
        unit = f.unit;
        // The baselines' common name: "raw LMDB puts, batch 100" differs
        // per point only after the comma.
        base = f.baseline_name.substr(0, f.baseline_name.find(','));
      }
    std::string file = c.name + ".dat";
    c.data.push_back({file, dat.str()});
    c.script_body = "set logscale x\nset xlabel " + gp_string(label)
                    + "\nset ylabel " + gp_string(unit)
                    + "\nset yrange [0:*]\nplot " + gp_string(file)
                    + " using 1:2 with linespoints lw 2 pt 7 title 'ours', "
                    + gp_string(file)
                    + " using 1:3 with linespoints lw 2 pt 5 title "
                    + gp_string("baseline (" + base + ")") + "\n";
    out.push_back(std::move(c));
  }
  return out;
}

// Writes the chart's data and script and runs gnuplot; "" when the PNG is
// there afterwards, else what went wrong. The script names its files
// relative to `dir` and gnuplot runs there, so that a report can be moved
// (docs/benchmarks) and drawn again with `cd DIR && gnuplot NAME.gp`.
std::string draw(const fs::path& dir, const chart& c) {
  for (const auto& [file, content] : c.data)
    std::ofstream(dir / file) << content;
  const std::string png = c.name + ".png";
  const std::string gp = c.name + ".gp";
  const std::string log = c.name + ".log";
  std::ofstream(dir / gp) << preamble(png, c.title) << c.script_body;
  std::error_code ec;
  fs::remove(dir / png, ec);
  std::string cmd = "cd " + shell_quote(dir.string()) + " && gnuplot "
                    + shell_quote(gp) + " > " + shell_quote(log) + " 2>&1";
  int rc = std::system(cmd.c_str());
  if (rc != 0 || !fs::exists(dir / png, ec)) {
    std::ifstream in(dir / log);
    std::string first;
    std::getline(in, first);
    return c.name + ".png: gnuplot failed (" + first + ")";
  }
  fs::remove(dir / log, ec);
  return "";
}

} // namespace

report_outcome write_report(const std::string& dir_text,
                            const std::vector<scenario_result>& results) {
  report_outcome outcome;
  fs::path dir = fs::absolute(dir_text);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    outcome.problem = "cannot create '" + dir.string() + "': " + ec.message();
    return outcome;
  }
  std::vector<chart> charts;
  for (const auto& r : results) {
    charts.push_back(ratio_chart(r));
    for (auto& c : distribution_charts(r))
      charts.push_back(std::move(c));
    for (auto& c : x_charts(r))
      charts.push_back(std::move(c));
  }
  std::vector<std::string> drawn, failures;
  if (!on_path("gnuplot")) {
    failures.push_back("gnuplot was not found on PATH (Debian: apt-get "
                       "install gnuplot-nox); no chart was drawn");
  } else {
    for (const auto& c : charts) {
      auto problem = draw(dir, c);
      if (problem.empty())
        drawn.push_back(c.name);
      else
        failures.push_back(problem);
    }
  }
  std::ofstream md(dir / "report.md");
  md << "# profilestore benchmark report\n\n"
        "Each figure beside its baseline measured in the same run on the "
        "same machine (`profilestore-bench`; scenarios described in "
        "apps/bench/main.cpp). Ratio = ours / baseline.\n\n"
     << figures_table(results) << "\n" << machine_section() << "\n## Charts\n\n";
  for (const auto& c : charts)
    if (std::find_if(drawn.begin(), drawn.end(),
                     [&](const std::string& d) { return d == c.name; })
        != drawn.end())
      md << "### " << c.title << "\n\n![" << c.title << "](" << c.name
         << ".png)\n\n";
  for (const auto& f : failures)
    md << "- not drawn: " << f << "\n";
  md.close();
  outcome.written = static_cast<bool>(md);
  outcome.charts = failures.empty();
  if (!outcome.written)
    outcome.problem = "cannot write '" + (dir / "report.md").string() + "'";
  else if (!failures.empty())
    outcome.problem = failures.front();
  return outcome;
}

} // namespace profilestore::bench
