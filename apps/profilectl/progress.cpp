// The progress bar (progress.hpp).
#include "progress.hpp"

#include <algorithm>
#include <utility>

namespace profilestore::ctl {

progress_bar::progress_bar(std::ostream& err, bool enabled, std::string label,
                           std::uint64_t total)
  : err_(err), enabled_(enabled), label_(std::move(label)), total_(total) {
  draw();
}

progress_bar::~progress_bar() { finish(); }

void progress_bar::update(std::uint64_t done) {
  done_ = std::min(done, total_);
  draw();
}

void progress_bar::finish() {
  if (finished_)
    return;
  done_ = total_;
  draw();
  if (enabled_)
    err_ << "\n" << std::flush;
  finished_ = true;
}

void progress_bar::draw() {
  if (!enabled_ || finished_)
    return;
  int percent = total_ == 0 ? 100 : static_cast<int>(done_ * 100 / total_);
  if (percent == drawn_percent_)
    return;
  drawn_percent_ = percent;
  constexpr int width = 30;
  int filled = percent * width / 100;
  err_ << "\r" << label_ << " [" << std::string(filled, '#')
       << std::string(width - filled, ' ') << "] " << percent << "% ("
       << done_ << "/" << total_ << ")" << std::flush;
}

} // namespace profilestore::ctl
