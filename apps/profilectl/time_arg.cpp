// TIME arguments and time rendering (time_arg.hpp).
#include "time_arg.hpp"

#include <cstdio>
#include <ctime>

namespace profilestore::ctl {
namespace {

error bad_time(const std::string& option, const std::string& text,
               const std::string& why) {
  return make_error(errc::invalid_argument,
                    option + ": '" + text + "' is not a time (" + why
                      + "); give unix seconds (1763373600) or ISO 8601 "
                        "with a zone (2026-11-17T10:00:00Z)");
}

bool digits(const std::string& s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

result<std::int64_t> parse_unix_seconds(const std::string& option,
                                        const std::string& text) {
  auto dot = text.find('.');
  std::string whole = text.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 12
      || (dot != std::string::npos && frac.empty()))
    return bad_time(option, text, "too long or empty");
  std::int64_t ms = std::stoll(whole) * 1000;
  for (std::size_t i = 0; i < 3 && i < frac.size(); ++i)
    ms += (frac[i] - '0') * (i == 0 ? 100 : i == 1 ? 10 : 1);
  return ms;
}

} // namespace

result<std::int64_t> parse_time(const std::string& option,
                                const std::string& text) {
  if (!text.empty()
      && text.find_first_not_of("0123456789.") == std::string::npos
      && text.find('.') == text.rfind('.'))
    return parse_unix_seconds(option, text);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (!digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-'
      || !digits(text, 5, 2, mo) || text[7] != '-' || !digits(text, 8, 2, d))
    return bad_time(option, text, "expected YYYY-MM-DD");
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
    return bad_time(option, text, "no such date");
  std::size_t pos = 10;
  std::int64_t offset_min = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')
      return bad_time(option, text, "expected 'T' after the date");
    if (!digits(text, pos + 1, 2, h) || text.size() < pos + 6
        || text[pos + 3] != ':' || !digits(text, pos + 4, 2, mi))
      return bad_time(option, text, "expected HH:MM after the date");
    pos += 6;
    if (pos < text.size() && text[pos] == ':') {
      if (!digits(text, pos + 1, 2, s))
        return bad_time(option, text, "expected seconds after HH:MM:");
      pos += 3;
      if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
        std::size_t start = ++pos;
        int scale = 100;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          ms += (text[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start)
          return bad_time(option, text, "empty fraction of a second");
      }
    }
    if (h > 23 || mi > 59 || s > 60)
      return bad_time(option, text, "no such time of day");
    if (pos >= text.size())
      return bad_time(option, text, "no zone: end with Z or +HH:MM");
    if (text[pos] == 'Z' || text[pos] == 'z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      int oh = 0, om = 0;
      if (!digits(text, pos + 1, 2, oh) || text.size() < pos + 6
          || text[pos + 3] != ':' || !digits(text, pos + 4, 2, om)
          || oh > 23 || om > 59)
        return bad_time(option, text, "zone offset must be +HH:MM");
      offset_min = (text[pos] == '+' ? 1 : -1) * (oh * 60 + om);
      pos += 6;
    } else {
      return bad_time(option, text, "unexpected text after the time");
    }
    if (pos != text.size())
      return bad_time(option, text, "unexpected text after the zone");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  std::int64_t secs = static_cast<std::int64_t>(timegm(&tm));
  return (secs - offset_min * 60) * 1000 + ms;
}

std::string format_time(std::int64_t ms) {
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms - secs * 1000));
  return buf;
}

std::string format_duration(std::int64_t ms) {
  if (ms < 0)
    return "-" + format_duration(-ms);
  if (ms < 1000)
    return std::to_string(ms) + " ms";
  std::int64_t s = ms / 1000;
  if (s < 120)
    return std::to_string(s) + " s";
  if (s < 7200)
    return std::to_string(s / 60) + " min";
  if (s < 2 * 86400)
    return std::to_string(s / 3600) + " h";
  return std::to_string(s / 86400) + " d";
}

} // namespace profilestore::ctl
