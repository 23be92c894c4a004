#include "ghostwatch/core/time.h"

#include <array>
#include <bit>
#include <cstring>

#include "ghostwatch/core/decimal.h"

namespace gw {
namespace {

// Reads n decimal digits at pos; false when any is not a digit. Callers
// check the length first.
bool digits(const char* p, int n, int& value) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    unsigned d = static_cast<unsigned char>(p[i]) - unsigned{'0'};
    if (d > 9) return false;
    v = v * 10 + static_cast<int>(d);
  }
  value = v;
  return true;
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days algorithms.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

std::optional<Instant> parse_rfc3339(std::string_view s) {
  if (s.size() < 20) return std::nullopt;
  const char* p = s.data();
  // Consecutive events nearly always share their date: the days of the last
  // valid date text parsed on this thread are kept (at first, the epoch's).
  thread_local char last_date[10] = {'1', '9', '7', '0', '-', '0', '1', '-', '0', '1'};
  thread_local std::int64_t last_days = 0;
  std::int64_t days = last_days;
  if (std::memcmp(p, last_date, sizeof last_date) != 0) {
    int year, month, day;
    if (!digits(p, 4, year) || p[4] != '-' || !digits(p + 5, 2, month) || p[7] != '-' || !digits(p + 8, 2, day) ||
        month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > days_in_month(year, month)) {
      return std::nullopt;
    }
    days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    std::memcpy(last_date, p, sizeof last_date);
    last_days = days;
  }
  if (p[10] != 'T' && p[10] != 't') return std::nullopt;
  // "HH:MM:SS" as one word, byte i of the text in bits 8i..8i+7: xor-ed
  // with the expected "00:00:00", each digit becomes its value and each ':'
  // zero. Then adding 0x76 to a digit's byte (0x7f to a colon's) sets its
  // top bit exactly when it is 10 or more (1 or more); a byte that already
  // had its top bit set fails through `x` itself, and no byte carries into
  // the next unless one of them does.
  std::uint64_t x;
  std::memcpy(&x, p + 11, sizeof x);
  if constexpr (std::endian::native == std::endian::big) x = __builtin_bswap64(x);
  x ^= 0x30303a30303a3030u;
  if (((x + 0x76767f76767f7676u) | x) & 0x8080808080808080u) return std::nullopt;
  const auto digit = [x](int i) { return static_cast<int>(x >> (8 * i) & 0xff); };
  const int hour = digit(0) * 10 + digit(1), minute = digit(3) * 10 + digit(4), second = digit(6) * 10 + digit(7);
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  size_t pos = 19;
  int millis = 0;
  if (s[pos] == '.') {
    // Milliseconds from the first three digits; the rest are truncated.
    static constexpr int kScale[] = {100, 10, 1};
    const size_t start = ++pos;
    for (unsigned d; pos < s.size() && (d = static_cast<unsigned char>(s[pos]) - unsigned{'0'}) <= 9; ++pos) {
      if (pos - start < 3) millis += static_cast<int>(d) * kScale[pos - start];
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  std::int64_t offset_minutes = 0;
  char zone = s[pos];
  if (zone == 'Z' || zone == 'z') {
    ++pos;
  } else if (zone == '+' || zone == '-') {
    int oh, om;
    if (s.size() - pos != 6 || !digits(p + pos + 1, 2, oh) || s[pos + 3] != ':' || !digits(p + pos + 4, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (zone == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return secs * 1000 + millis;
}

char* write_rfc3339(char* p, Instant t) {
  const std::int64_t days = floor_div(t, kDay);
  const std::int64_t ms_of_day = t - days * kDay;
  auto put = [&p](unsigned v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
  };
  // Records nearly always carry one of a few recent dates (an episode record
  // its opening's and its closing's, between decisions of the day): the
  // text of the last date written on this thread for each day number
  // modulo kDates is kept.
  constexpr std::size_t kDates = 4;
  struct DateText {
    std::int64_t days = kNoInstant;
    char text[10];
  };
  thread_local std::array<DateText, kDates> dates;
  DateText& date = dates[static_cast<std::uint64_t>(days) % kDates];
  if (days != date.days) {
    std::int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    char* start = p;
    put(static_cast<unsigned>(y), 4);
    *p++ = '-';
    put(m, 2);
    *p++ = '-';
    put(d, 2);
    std::memcpy(date.text, start, sizeof date.text);
    date.days = days;
  } else {
    std::memcpy(p, date.text, sizeof date.text);
    p += sizeof date.text;
  }
  const unsigned secs = static_cast<unsigned>(ms_of_day / 1000);
  const unsigned ms = static_cast<unsigned>(ms_of_day % 1000);
  auto put2 = [&p](unsigned v) { p = write_two_digits(p, v); };
  *p++ = 'T';
  put2(secs / 3600);
  *p++ = ':';
  put2(secs / 60 % 60);
  *p++ = ':';
  put2(secs % 60);
  if (ms != 0) {
    *p++ = '.';
    *p++ = static_cast<char>('0' + ms / 100);
    put2(ms % 100);
  }
  *p++ = 'Z';
  return p;
}

void append_rfc3339(std::string& out, Instant t) {
  char buf[kRfc3339MaxSize];
  out.append(buf, static_cast<std::size_t>(write_rfc3339(buf, t) - buf));
}

std::string format_rfc3339(Instant t) {
  std::string out;
  append_rfc3339(out, t);
  return out;
}

std::optional<Duration> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  Duration total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    std::int64_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n > 1'000'000'000'000) return std::nullopt;
      n = n * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start || pos == s.size()) return std::nullopt;
    Duration unit;
    switch (s[pos]) {
      case 's': unit = kSecond; break;
      case 'm': unit = kMinute; break;
      case 'h': unit = kHour; break;
      case 'd': unit = kDay; break;
      default: return std::nullopt;
    }
    ++pos;
    if (n > (std::numeric_limits<Duration>::max() / 4 - total) / unit) return std::nullopt;
    total += n * unit;
  }
  return total;
}

}  // namespace gw
