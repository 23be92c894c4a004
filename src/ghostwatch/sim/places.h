// Where the simulated users live: countries with their IANA zones, weighted
// like a global marketplace, and a DST rule close to each zone's own. Zones
// whose rules changed are given their current standard offset without DST:
// Mexico City and Tehran observed DST until 2022, Cairo again from 2023, so
// there local hours and `+HH:MM` stamps can be an hour off the tz database
// for part of the year. (The instant a stamp denotes is always exact.) No tz
// database is read: the bytes are the same on every machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ghostwatch/core/time.h"

namespace gw::sim {

enum class Dst : std::uint8_t { kNone, kEu, kUs, kAuSouth };
enum class Region : std::uint8_t { kSouthAsia, kSeAsia, kEastEurope, kWestEurope, kAfrica, kLatam, kAnglo, kMena };

struct Place {
  std::string_view country;
  std::string_view zone;
  std::int16_t std_offset_min;
  Dst dst;
  std::uint16_t weight;
  Region region;
  bool night_shift;  // freelancers there often work US hours
};

inline constexpr Place kFreelancerPlaces[] = {
    {"IN", "Asia/Kolkata", 330, Dst::kNone, 150, Region::kSouthAsia, true},
    {"PH", "Asia/Manila", 480, Dst::kNone, 100, Region::kSeAsia, true},
    {"PK", "Asia/Karachi", 300, Dst::kNone, 70, Region::kSouthAsia, true},
    {"UA", "Europe/Kyiv", 120, Dst::kEu, 55, Region::kEastEurope, false},
    {"BD", "Asia/Dhaka", 360, Dst::kNone, 50, Region::kSouthAsia, true},
    {"NG", "Africa/Lagos", 60, Dst::kNone, 45, Region::kAfrica, false},
    {"BR", "America/Sao_Paulo", -180, Dst::kNone, 35, Region::kLatam, false},
    {"US", "America/New_York", -300, Dst::kUs, 25, Region::kAnglo, false},
    {"US", "America/Chicago", -360, Dst::kUs, 12, Region::kAnglo, false},
    {"US", "America/Los_Angeles", -480, Dst::kUs, 18, Region::kAnglo, false},
    {"KE", "Africa/Nairobi", 180, Dst::kNone, 25, Region::kAfrica, false},
    {"EG", "Africa/Cairo", 120, Dst::kNone, 25, Region::kMena, false},
    {"RU", "Europe/Moscow", 180, Dst::kNone, 25, Region::kEastEurope, false},
    {"GB", "Europe/London", 0, Dst::kEu, 20, Region::kAnglo, false},
    {"VN", "Asia/Ho_Chi_Minh", 420, Dst::kNone, 20, Region::kSeAsia, true},
    {"ID", "Asia/Jakarta", 420, Dst::kNone, 20, Region::kSeAsia, true},
    {"AR", "America/Argentina/Buenos_Aires", -180, Dst::kNone, 15, Region::kLatam, false},
    {"RS", "Europe/Belgrade", 60, Dst::kEu, 15, Region::kEastEurope, false},
    {"PL", "Europe/Warsaw", 60, Dst::kEu, 15, Region::kEastEurope, false},
    {"RO", "Europe/Bucharest", 120, Dst::kEu, 12, Region::kEastEurope, false},
    {"CO", "America/Bogota", -300, Dst::kNone, 12, Region::kLatam, false},
    {"MX", "America/Mexico_City", -360, Dst::kNone, 12, Region::kLatam, false},
    {"LK", "Asia/Colombo", 330, Dst::kNone, 12, Region::kSouthAsia, true},
    {"TR", "Europe/Istanbul", 180, Dst::kNone, 12, Region::kMena, false},
    {"NP", "Asia/Kathmandu", 345, Dst::kNone, 10, Region::kSouthAsia, true},
    {"IR", "Asia/Tehran", 210, Dst::kNone, 10, Region::kMena, false},
    {"DE", "Europe/Berlin", 60, Dst::kEu, 10, Region::kWestEurope, false},
    {"ES", "Europe/Madrid", 60, Dst::kEu, 10, Region::kWestEurope, false},
    {"ZA", "Africa/Johannesburg", 120, Dst::kNone, 10, Region::kAfrica, false},
    {"CA", "America/Toronto", -300, Dst::kUs, 10, Region::kAnglo, false},
    {"AU", "Australia/Sydney", 600, Dst::kAuSouth, 8, Region::kAnglo, false},
    {"AM", "Asia/Yerevan", 240, Dst::kNone, 6, Region::kEastEurope, false},
    {"GE", "Asia/Tbilisi", 240, Dst::kNone, 6, Region::kEastEurope, false},
};

inline constexpr Place kClientPlaces[] = {
    {"US", "America/New_York", -300, Dst::kUs, 220, Region::kAnglo, false},
    {"US", "America/Los_Angeles", -480, Dst::kUs, 130, Region::kAnglo, false},
    {"US", "America/Chicago", -360, Dst::kUs, 80, Region::kAnglo, false},
    {"US", "America/Denver", -420, Dst::kUs, 30, Region::kAnglo, false},
    {"GB", "Europe/London", 0, Dst::kEu, 110, Region::kAnglo, false},
    {"CA", "America/Toronto", -300, Dst::kUs, 40, Region::kAnglo, false},
    {"CA", "America/Vancouver", -480, Dst::kUs, 20, Region::kAnglo, false},
    {"AU", "Australia/Sydney", 600, Dst::kAuSouth, 45, Region::kAnglo, false},
    {"AU", "Australia/Melbourne", 600, Dst::kAuSouth, 20, Region::kAnglo, false},
    {"DE", "Europe/Berlin", 60, Dst::kEu, 40, Region::kWestEurope, false},
    {"FR", "Europe/Paris", 60, Dst::kEu, 25, Region::kWestEurope, false},
    {"NL", "Europe/Amsterdam", 60, Dst::kEu, 25, Region::kWestEurope, false},
    {"IE", "Europe/Dublin", 0, Dst::kEu, 15, Region::kAnglo, false},
    {"CH", "Europe/Zurich", 60, Dst::kEu, 12, Region::kWestEurope, false},
    {"SE", "Europe/Stockholm", 60, Dst::kEu, 12, Region::kWestEurope, false},
    {"IL", "Asia/Jerusalem", 120, Dst::kEu, 12, Region::kMena, false},
    {"SG", "Asia/Singapore", 480, Dst::kNone, 12, Region::kSeAsia, false},
    {"AE", "Asia/Dubai", 240, Dst::kNone, 12, Region::kMena, false},
    {"ES", "Europe/Madrid", 60, Dst::kEu, 8, Region::kWestEurope, false},
    {"IN", "Asia/Kolkata", 330, Dst::kNone, 10, Region::kSouthAsia, false},
};

// Day of the week of a day number (days since 1970-01-01); 0 = Sunday.
inline std::int64_t weekday(std::int64_t day) { return floor_mod(day + 4, 7); }

// The span of time around `t` during which the place's offset is constant,
// and whether it is DST then.
struct DstSpan {
  Instant from;
  Instant until;
  bool dst;
};

DstSpan dst_span(const Place& p, Instant t);

}  // namespace gw::sim
