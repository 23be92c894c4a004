// The freelancers' side of `ghostwatch report --events` (docs/report.md):
// from the events file that was replayed, each population freelancer's
// country and kind as they stood at their first trigger, and their first
// opt-out after it. Lines are read with the engine's LineParser (spec
// section 1, rules 1-7); a line it rejects is skipped, as replay skips it,
// so the events file itself may hold bad lines. Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"

namespace gw::report {

struct ReportFreelancer {
  Instant first_trigger = kNoInstant;  // given: the earliest trigger of the freelancer's population episodes
  // From the `user` events stamped at or before first_trigger, in file
  // order, fields given replacing earlier values (as in the engine). Empty
  // when never given. The country is upper-cased.
  std::string country;
  std::string kind;
  Instant opted_out_at = kNoInstant;  // the earliest `opt_out` stamped after first_trigger
};

// Keyed by freelancer id. The caller fills first_trigger for every
// population freelancer; load_report_users fills the rest.
using ReportFreelancers = std::unordered_map<std::string, ReportFreelancer>;

// Errors: an unreadable file (the message names it).
Status load_report_users(const std::string& events_path, ReportFreelancers& freelancers);

}  // namespace gw::report
