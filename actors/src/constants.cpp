#include "profilestore/actors/constants.hpp"

#include <cmath>
#include <string>

namespace profilestore {

namespace {

struct constant_slot {
  duration* span = nullptr;
  std::size_t* count = nullptr;
};

template <class Constants, class Slot>
bool find_slot(Constants& c, std::string_view name, Slot& out) {
  struct named {
    std::string_view name;
    decltype(&c.auto_save_period) span;
    decltype(&c.max_message_queue) count;
  };
  const named table[] = {
    {"AUTO_SAVE_PERIOD", &c.auto_save_period, nullptr},
    {"LOAD_REPEAT_PERIOD", &c.load_repeat_period, nullptr},
    {"FIRST_LOAD_REPEAT", &c.first_load_repeat, nullptr},
    {"SESSION_STEAL", &c.session_steal, nullptr},
    {"ASSUME_DEAD", &c.assume_dead, nullptr},
    {"START_SESSION_TIMEOUT", &c.start_session_timeout, nullptr},
    {"CRITICAL_STATE_ERROR_COUNT", nullptr, &c.critical_state_error_count},
    {"CRITICAL_STATE_ERROR_EXPIRE", &c.critical_state_error_expire, nullptr},
    {"CRITICAL_STATE_EXPIRE", &c.critical_state_expire, nullptr},
    {"MAX_MESSAGE_QUEUE", nullptr, &c.max_message_queue},
    {"NODE_HEARTBEAT", &c.node_heartbeat, nullptr},
    {"NODE_LEASE", &c.node_lease, nullptr},
    {"STORE_REQUEST_TIMEOUT", &c.store_request_timeout, nullptr},
  };
  for (const auto& entry : table) {
    if (entry.name == name) {
      out.span = entry.span;
      out.count = entry.count;
      return true;
    }
  }
  return false;
}

error unknown_constant(std::string_view name) {
  return make_error(errc::invalid_argument,
                    "unknown constant '" + std::string(name)
                      + "' (names are as in the originals, e.g. "
                        "AUTO_SAVE_PERIOD)");
}

} // namespace

result<void> constants::set(std::string_view name, double value) {
  constant_slot slot;
  if (!find_slot(*this, name, slot))
    return unknown_constant(name);
  if (!std::isfinite(value))
    return make_error(errc::invalid_argument,
                      std::string(name) + " must be a finite number");
  if (slot.count != nullptr) {
    if (value < 1 || value > 1e9 || std::floor(value) != value)
      return make_error(errc::invalid_argument,
                        std::string(name)
                          + " must be a whole number from 1 to 1e9");
    *slot.count = static_cast<std::size_t>(value);
    return {};
  }
  // Durations: seconds, at least one millisecond, at most about 30 years.
  if (value < 0.001 || value > 1e9)
    return make_error(errc::invalid_argument,
                      std::string(name)
                        + " must be a duration in seconds from 0.001 to 1e9");
  *slot.span = duration(static_cast<duration::rep>(std::llround(value * 1000)));
  return {};
}

result<double> constants::get(std::string_view name) const {
  struct const_slot {
    const duration* span = nullptr;
    const std::size_t* count = nullptr;
  } slot;
  if (!find_slot(*this, name, slot))
    return unknown_constant(name);
  if (slot.count != nullptr)
    return static_cast<double>(*slot.count);
  return static_cast<double>(slot.span->count()) / 1000.0;
}

} // namespace profilestore
