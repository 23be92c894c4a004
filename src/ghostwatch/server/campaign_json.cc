#include "ghostwatch/server/campaign_json.h"

#include <fmt/format.h>

namespace gw {
namespace {

using Json = nlohmann::ordered_json;

// "3d", "72h", "5m", "90s" or "1500ms": the largest unit that divides it.
std::string campaign_duration_text(Duration d) {
  if (d != 0 && d % kDay == 0 && d / kDay > 3) return fmt::format("{}d", d / kDay);
  if (d != 0 && d % kHour == 0) return fmt::format("{}h", d / kHour);
  if (d % kMinute == 0) return fmt::format("{}m", d / kMinute);
  if (d % kSecond == 0) return fmt::format("{}s", d / kSecond);
  return fmt::format("{}ms", d);
}

Json campaign_duration(Duration d) {
  return {{"text", campaign_duration_text(d)}, {"hours", static_cast<double>(d) / static_cast<double>(kHour)}};
}

std::string campaign_clock_minute(int minute) { return fmt::format("{:02}:{:02}", minute / 60, minute % 60); }

}  // namespace

Json campaign_json(const Policy& policy) {
  Json ladder = Json::array();
  for (std::size_t i = 0; i < policy.ladder.size(); ++i) {
    const LadderStep& s = policy.ladder[i];
    ladder.push_back({{"step", i + 1},
                      {"after", campaign_duration(s.after)},
                      {"action", step_action_name(s.action)},
                      {s.action == StepAction::kNudge ? "template" : "team", s.target}});
  }
  Json quiet;
  if (policy.quiet_hours) {
    quiet = {{"start", campaign_clock_minute(policy.quiet_hours->start_minute())},
             {"end", campaign_clock_minute(policy.quiet_hours->end_minute())}};
  }
  return {{"name", policy.name},
          {"start", policy.start == kNoInstant ? Json() : Json(format_rfc3339(policy.start))},
          {"end", policy.end == kForever ? Json() : Json(format_rfc3339(policy.end))},
          {"holdout_percent", policy.holdout_percent},
          {"allowed_lateness", campaign_duration(policy.allowed_lateness)},
          {"catch_up", campaign_duration(policy.catch_up)},
          {"segment",
           {{"countries_include", policy.segment.countries_include},
            {"countries_exclude", policy.segment.countries_exclude},
            {"kinds", policy.segment.kinds}}},
          {"limits",
           {{"max_nudges_per_day", policy.max_nudges_per_day == 0 ? Json() : Json(policy.max_nudges_per_day)},
            {"quiet_hours", std::move(quiet)}}},
          {"ladder", std::move(ladder)}};
}

}  // namespace gw
