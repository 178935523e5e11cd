// elapsed_ms: the time between two storage times, safe for stored times.
#pragma once

#include <cstdint>
#include <limits>

namespace profilestore {

// Milliseconds from `since` to `now`, saturated to the int64 range. Stored
// times are untrusted (a damaged or hostile record may hold any int64), and
// a plain subtraction of the lowest one from a present time overflows,
// which is undefined behaviour. A `since` after `now` gives a negative age.
inline std::int64_t elapsed_ms(std::int64_t now, std::int64_t since) noexcept {
  std::int64_t out = 0;
  if (__builtin_sub_overflow(now, since, &out))
    return since < 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
  return out;
}

} // namespace profilestore
