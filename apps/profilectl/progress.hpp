// A progress bar on stderr for long commands (export, import, compact,
// check). Drawn only when stderr is a terminal; redrawn only when the
// percentage changes, so it costs nothing per item.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace profilestore::ctl {

class progress_bar {
public:
  progress_bar(std::ostream& err, bool enabled, std::string label,
               std::uint64_t total);
  ~progress_bar();
  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;

  // Sets the count done so far (capped at the total).
  void update(std::uint64_t done);
  // Draws 100 % and ends the line (also done by the destructor).
  void finish();

private:
  void draw();

  std::ostream& err_;
  bool enabled_;
  std::string label_;
  std::uint64_t total_;
  std::uint64_t done_ = 0;
  int drawn_percent_ = -1;
  bool finished_ = false;
};

} // namespace profilestore::ctl
