// State of one node shared between its actors and the blocking facade:
// flags readable from any thread without a message, the current constants,
// and the signal callbacks. Callbacks are invoked by the node actor only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "profilestore/actors/constants.hpp"
#include "profilestore/actors/types.hpp"
#include "profilestore/error.hpp"

namespace profilestore {

using error_signal
  = std::function<void(const error&, const std::string& store,
                       const std::string& key)>;
using overwrite_signal
  = std::function<void(const std::string& store, const std::string& key)>;
using critical_signal = std::function<void(bool critical)>;

struct shared_node_state {
  std::atomic<bool> closing{false};
  std::atomic<bool> critical{false};
  std::atomic<std::uint8_t> store_state{
    static_cast<std::uint8_t>(datastore_state::not_ready)};

  constants current_constants() const {
    std::lock_guard<std::mutex> guard(mutex);
    return consts;
  }

  mutable std::mutex mutex; // guards everything below
  constants consts;
  std::vector<error_signal> on_error;
  std::vector<overwrite_signal> on_overwrite;
  std::vector<critical_signal> on_critical_toggle;
};

} // namespace profilestore
