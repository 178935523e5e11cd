// Readable output: aligned tables, and the choice between a table and JSON
// (--json) that every command makes the same way.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_args.hpp"

namespace profilestore::ctl {

class text_table {
public:
  explicit text_table(std::vector<std::string> headers);
  void add(std::vector<std::string> row);
  bool empty() const noexcept { return rows_.empty(); }
  // Columns padded to their widest cell; the last column is not padded.
  void print(std::ostream& out) const;

private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

inline bool wants_json(const parsed_args& args) { return args.has("--json"); }

// Pretty JSON for --json output (two-space indent, one trailing newline).
void print_json(std::ostream& out, const nlohmann::json& doc);

// A JSON value on one line, cut at `max` characters with "..." (for cells).
std::string short_json(const nlohmann::json& v, std::size_t max = 60);

} // namespace profilestore::ctl
