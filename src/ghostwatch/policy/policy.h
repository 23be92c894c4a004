// The campaign policy (spec section 2): window, arms, segment, limits and the
// ladder of steps, loaded from TOML and validated. A Policy that load/parse
// returns satisfies every rule of the spec; a config that breaks one is
// refused with a message naming the key and the rule. Immutable once built.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/policy/quiet_hours.h"

namespace gw {

enum class StepAction : std::uint8_t { kNudge, kEscalate };

inline std::string_view step_action_name(StepAction a) {
  return a == StepAction::kNudge ? "nudge" : "escalate";
}

// More steps than any ladder needs; it bounds the engine's step index.
inline constexpr std::size_t kMaxLadderSteps = 1000;

struct LadderStep {
  Duration after = 0;
  StepAction action = StepAction::kNudge;
  std::string target;  // the template of a nudge, the team of an escalation
};

struct Segment {
  std::vector<std::string> countries_include;  // upper-cased; empty: every country
  std::vector<std::string> countries_exclude;  // upper-cased
  std::vector<std::string> kinds;              // compared exactly; empty: every kind
  // Only episodes the risk model scores at least this high (0..1); needs a
  // model (docs/risk-model.md).
  std::optional<double> min_risk;

  // The segment test on a user's attributes (min_risk aside): `country`
  // upper-cased, "" when unknown, as `kind`.
  bool admits(std::string_view country, std::string_view kind) const;
};

// A ladder for the riskiest episodes: an episode whose risk score at
// opening is at least `min_risk` follows this ladder instead of the main one
// (the highest tier it reaches). Needs a risk model.
struct RiskTier {
  double min_risk = 0;
  std::vector<LadderStep> ladder;
};

// Tiers above the main ladder: the engine keeps an episode's tier in 4 bits.
inline constexpr std::size_t kMaxRiskTiers = 15;

struct Policy {
  std::string name;
  Instant start = kNoInstant;  // steps fire only at or after it
  Instant end = kForever;      // steps fire only before it
  double holdout_percent = 0;
  std::string salt;
  Duration allowed_lateness = 0;
  Duration catch_up = 10 * kMinute;  // live service only (spec section 4)
  Segment segment;
  std::int64_t max_nudges_per_day = 0;  // 0: no cap
  std::optional<QuietHours> quiet_hours;
  std::vector<LadderStep> ladder;
  std::vector<RiskTier> risk_tiers;  // [[risk_tiers]], min_risk strictly increasing
  // Keys the spec does not define: not an error, but worth a warning.
  std::vector<std::string> unknown_keys;
};

// `tier` under `policy`: itself, or 0 (the main ladder) when `policy` has
// no such tier (a reload removed it).
inline std::size_t tier_under(const Policy& policy, std::size_t tier) {
  return tier <= policy.risk_tiers.size() ? tier : 0;
}

// The ladder of tier `tier`: 0 is the main ladder, i the i-th risk tier's.
// REQUIRES: tier <= policy.risk_tiers.size().
inline const std::vector<LadderStep>& ladder_of_tier(const Policy& policy, std::size_t tier) {
  return tier == 0 ? policy.ladder : policy.risk_tiers[tier - 1].ladder;
}

// True when the policy reads risk scores ([segment] min_risk or risk tiers):
// it needs a risk model.
inline bool policy_uses_risk(const Policy& policy) {
  return policy.segment.min_risk.has_value() || !policy.risk_tiers.empty();
}

// Refuses a policy that reads risk scores when no risk model is configured
// (`replay --model`, `serve --model`), naming the config and the key:
// "policy.toml: segment.min_risk: needs a risk model (--model)".
Status require_risk_model(const Policy& policy, std::string_view source, bool has_model);

// The support team that takes over when nudges do not work: where e-mail
// from freelancers goes when it is about no open episode.
inline constexpr std::string_view kDefaultTeam = "improving-outcomes";

// The team the ladder escalates to (its first escalate step's target), or
// kDefaultTeam when it has no escalate step.
std::string escalation_team(const Policy& policy);

// `source` names the config in messages (usually its path).
Result<Policy> parse_policy(std::string_view toml_text, std::string_view source);
Result<Policy> load_policy(const std::string& path);

}  // namespace gw
