// Tables and JSON output (output.hpp).
#include "output.hpp"

#include <algorithm>

namespace profilestore::ctl {

text_table::text_table(std::vector<std::string> headers)
  : headers_(std::move(headers)) {}

void text_table::add(std::vector<std::string> row) {
  row.resize(headers_.size());
  rows_.push_back(std::move(row));
}

void text_table::print(std::ostream& out) const {
  std::vector<std::size_t> width(headers_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  };
  measure(headers_);
  for (const auto& r : rows_)
    measure(r);
  auto line = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size())
        out << std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << "\n";
  };
  line(headers_);
  for (const auto& r : rows_)
    line(r);
}

void print_json(std::ostream& out, const nlohmann::json& doc) {
  out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
      << "\n";
}

std::string short_json(const nlohmann::json& v, std::size_t max) {
  std::string s = v.dump(-1, ' ', false,
                         nlohmann::json::error_handler_t::replace);
  if (s.size() > max)
    s = s.substr(0, max - 3) + "...";
  return s;
}

} // namespace profilestore::ctl
