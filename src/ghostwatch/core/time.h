// Event time: instants are integer milliseconds since the Unix epoch (UTC),
// durations integer milliseconds. Parsing and formatting follow the engine
// contract (spec section 1 and 5). Thread-safe: every function is pure (the
// RFC 3339 ones keep the last date they read or wrote per thread, as a cache).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

using Instant = std::int64_t;   // ms since 1970-01-01T00:00:00Z
using Duration = std::int64_t;  // ms

inline constexpr Instant kNoInstant = std::numeric_limits<Instant>::min();
inline constexpr Instant kForever = std::numeric_limits<Instant>::max();
inline constexpr Duration kSecond = 1000;
inline constexpr Duration kMinute = 60 * kSecond;
inline constexpr Duration kHour = 60 * kMinute;
inline constexpr Duration kDay = 24 * kHour;

// Parses RFC 3339 `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `T` and `Z`
// may be lower case. Fractions beyond milliseconds are truncated. Rejects a
// space separator, leap seconds and impossible dates. Returns nullopt when
// the text does not parse.
std::optional<Instant> parse_rfc3339(std::string_view text);

// Appends `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` only when milliseconds are
// non-zero. REQUIRES: t is within years 0000..9999.
void append_rfc3339(std::string& out, Instant t);
// The same, written at `p`; returns the end. Writes at most kRfc3339MaxSize bytes.
inline constexpr std::size_t kRfc3339MaxSize = 24;
char* write_rfc3339(char* p, Instant t);
std::string format_rfc3339(Instant t);

// Parses `<int><unit>` groups with units s, m, h, d, e.g. "1d12h", "90m",
// "0s". Returns nullopt for anything else (empty text, no unit, overflow).
std::optional<Duration> parse_duration(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d);

// Floor division and modulo for negative instants.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) { return a - floor_div(a, b) * b; }

}  // namespace gw
