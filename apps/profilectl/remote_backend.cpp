// Reading a storage node through bounded scans (remote_backend.hpp).
#include "remote_backend.hpp"

#include <algorithm>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace profilestore::ctl {
namespace {

using entry = std::pair<std::string, std::string>;

// Page sizes of a cursor: the first fetch after a positioning is small (a
// point lookup, a version check), each further one in the same direction
// twice as large, up to the node's own bound.
constexpr std::uint32_t first_page_entries = 8;
constexpr std::uint32_t first_page_bytes = 64u << 10;
constexpr std::uint32_t last_page_entries = 1024;
constexpr std::uint32_t last_page_bytes = 4u << 20;

class remote_cursor final : public cursor {
public:
  remote_cursor(node_connection& conn, table t) : conn_(conn), table_(t) {}

  result<void> seek(std::string_view key) override {
    reset_growth();
    return fetch(scan_from::at_or_after, key);
  }
  result<void> first() override {
    reset_growth();
    return fetch(scan_from::at_or_after, {});
  }
  result<void> last() override {
    reset_growth();
    return fetch(scan_from::last, {});
  }
  result<void> next() override {
    if (!valid_)
      return {};
    if (index_ + 1 < page_.size()) {
      ++index_;
      return {};
    }
    if (nothing_after_) {
      valid_ = false;
      return {};
    }
    std::string from = page_[index_].first;
    return fetch(scan_from::after, from);
  }
  result<void> prev() override {
    if (!valid_)
      return {};
    if (index_ > 0) {
      --index_;
      return {};
    }
    if (nothing_before_) {
      valid_ = false;
      return {};
    }
    std::string from = page_[index_].first;
    return fetch(scan_from::before, from);
  }

  bool valid() const noexcept override { return valid_; }
  std::string_view key() const noexcept override { return page_[index_].first; }
  std::string_view value() const noexcept override {
    return page_[index_].second;
  }

private:
  void reset_growth() {
    entries_ = first_page_entries;
    bytes_ = first_page_bytes;
  }

  // Replaces the page by the one the node returns for this start; the page
  // is kept in ascending order whatever the direction of the scan.
  result<void> fetch(scan_from from, std::string_view key) {
    admin_scan_request req;
    req.tab = table_;
    req.from = from;
    req.key = std::string(key);
    req.max_entries = entries_;
    req.max_bytes = bytes_;
    entries_ = std::min(entries_ * 2, last_page_entries);
    bytes_ = std::min(bytes_ * 2, last_page_bytes);
    auto page = conn_.scan(req);
    if (!page) {
      valid_ = false;
      return std::move(page).err();
    }
    bool forward = from == scan_from::at_or_after || from == scan_from::after;
    page_ = std::move(page->entries);
    valid_ = !page_.empty();
    if (forward) {
      nothing_after_ = page->complete;
      nothing_before_ = false;
      index_ = 0;
    } else {
      std::reverse(page_.begin(), page_.end());
      nothing_before_ = page->complete;
      nothing_after_ = from == scan_from::last;
      index_ = page_.empty() ? 0 : page_.size() - 1;
    }
    return {};
  }

  node_connection& conn_;
  table table_;
  std::vector<entry> page_;
  std::size_t index_ = 0;
  bool valid_ = false;
  bool nothing_after_ = false;
  bool nothing_before_ = false;
  std::uint32_t entries_ = first_page_entries;
  std::uint32_t bytes_ = first_page_bytes;
};

class remote_read_transaction final : public read_transaction {
public:
  explicit remote_read_transaction(std::shared_ptr<node_connection> conn)
    : conn_(std::move(conn)) {}

  result<std::optional<std::string_view>> get(table t,
                                              std::string_view key) override {
    // The first entry at or after `key`, if it is `key` itself.
    admin_scan_request req;
    req.tab = t;
    req.from = scan_from::at_or_after;
    req.key = std::string(key);
    req.max_entries = 1;
    req.max_bytes = 1;
    auto page = conn_->scan(req);
    if (!page)
      return std::move(page).err();
    if (page->entries.empty() || page->entries.front().first != key)
      return std::optional<std::string_view>{};
    if (recent_.size() == remote_backend::recent_values)
      recent_.pop_front();
    recent_.push_back(std::move(page->entries.front().second));
    return std::optional<std::string_view>{recent_.back()};
  }

  result<std::unique_ptr<cursor>> open_cursor(table t) override {
    return std::unique_ptr<cursor>(new remote_cursor(*conn_, t));
  }

private:
  std::shared_ptr<node_connection> conn_;
  // std::deque keeps its elements in place when growing at either end, so
  // the views handed out stay valid until their value is dropped.
  std::deque<std::string> recent_;
};

} // namespace

result<std::unique_ptr<read_transaction>> remote_backend::begin_read() {
  return std::unique_ptr<read_transaction>(
    new remote_read_transaction(conn_));
}

result<std::unique_ptr<write_transaction>> remote_backend::begin_write() {
  return make_error(errc::invalid_argument,
                    "profilectl writes to a storage node through the node's "
                    "writer, never as a second writer");
}

result<void> remote_backend::grow() {
  return make_error(errc::invalid_argument,
                    "the map of a storage node grows on the node itself");
}

} // namespace profilestore::ctl
