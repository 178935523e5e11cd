#include "auto_save_schedule.hpp"

#include <algorithm>
#include <utility>

namespace profilestore {

namespace {

// std::push_heap and pop_heap build a max-heap; this order makes the
// earliest due time the top.
struct later {
  template <class E>
  bool operator()(const E& a, const E& b) const noexcept {
    return a.due > b.due;
  }
};

} // namespace

std::uint32_t auto_save_schedule::add(caf::actor profile, time_point first_due) {
  std::uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  auto& s = slots_[id];
  s.actor = std::move(profile);
  push(entry{first_due, id, s.generation});
  return id;
}

void auto_save_schedule::remove(std::uint32_t id) {
  if (id >= slots_.size() || !slots_[id].actor)
    return;
  auto& s = slots_[id];
  s.actor = nullptr;
  s.generation++; // its heap entry is stale now
  free_.push_back(id);
  skip_removed();
  // Ended profiles' entries stay in the heap until they come up; when they
  // outnumber the live ones, rebuild the heap without them.
  if (heap_.size() > 2 * size() + 64) {
    heap_.erase(std::remove_if(heap_.begin(), heap_.end(),
                               [this](const entry& e) {
                                 const auto& sl = slots_[e.slot];
                                 return sl.generation != e.generation
                                        || !sl.actor;
                               }),
                heap_.end());
    std::make_heap(heap_.begin(), heap_.end(), later{});
  }
}

std::optional<auto_save_schedule::time_point> auto_save_schedule::next_due() {
  skip_removed();
  if (heap_.empty())
    return std::nullopt;
  return heap_.front().due;
}

void auto_save_schedule::push(entry e) {
  heap_.push_back(e);
  std::push_heap(heap_.begin(), heap_.end(), later{});
}

auto_save_schedule::entry auto_save_schedule::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), later{});
  entry e = heap_.back();
  heap_.pop_back();
  return e;
}

void auto_save_schedule::skip_removed() {
  while (!heap_.empty()) {
    const auto& top = heap_.front();
    const auto& s = slots_[top.slot];
    if (s.generation == top.generation && s.actor)
      return;
    pop();
  }
}

} // namespace profilestore
