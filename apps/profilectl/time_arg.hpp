// Times on profilectl's command line and in its tables. Storage keeps
// milliseconds since the Unix epoch (UTC); people type ISO 8601.
#pragma once

#include <cstdint>
#include <string>

#include "profilestore/result.hpp"

namespace profilestore::ctl {

// Parses a TIME argument into ms since the epoch. Accepts
//   unix seconds:  1763373600 (optionally with a fraction: 1763373600.5)
//   ISO 8601:      2026-11-17, 2026-11-17T10:00:00Z, 2026-11-17T10:00Z,
//                  2026-11-17T10:00:00.250+02:00 (a time without a zone is
//                  refused rather than guessed)
// invalid_argument naming `option` and the accepted forms otherwise.
result<std::int64_t> parse_time(const std::string& option,
                                const std::string& text);

// "2026-11-17T10:00:00.250Z".
std::string format_time(std::int64_t ms);

// "3 s", "5 min", "2 h", "4 d": a short rendering of a duration in ms.
std::string format_duration(std::int64_t ms);

} // namespace profilestore::ctl
