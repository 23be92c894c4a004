// What the engine produces (spec section 5): step decisions and episode
// records, handed to an EngineSink as they happen. String fields are views
// into the engine's interned ids, valid only during the sink call.
#pragma once

#include <cstdint>
#include <string_view>

#include "ghostwatch/core/time.h"
#include "ghostwatch/policy/arm.h"
#include "ghostwatch/policy/policy.h"

namespace date {
class time_zone;
}

namespace gw {

enum class DecisionStatus : std::uint8_t { kSent, kHeldOut, kSuppressed, kSkipped };
// kBounced is ours, not the spec's: the freelancer's address bounced
// (Engine::mark_bouncing); it never occurs without an inbound bounce.
enum class DecisionReason : std::uint8_t { kNone, kOptedOut, kFrequencyCap, kSuperseded, kBounced };
inline constexpr std::size_t kDecisionReasonCount = 5;
inline constexpr std::size_t kDecisionStatusCount = 4;

std::string_view decision_status_name(DecisionStatus s);
std::string_view decision_reason_name(DecisionReason r);

struct Decision {
  Instant at = 0;  // effective decision time, after any deferral
  std::string_view contract;
  std::uint32_t episode = 0;  // 1-based, per contract
  std::uint32_t step = 0;     // 1-based ladder index
  StepAction action = StepAction::kNudge;
  std::string_view target;  // template (nudge) or team (escalate)
  std::string_view freelancer;
  std::string_view client;
  Arm arm = Arm::kTreatment;
  DecisionStatus status = DecisionStatus::kSent;
  DecisionReason reason = DecisionReason::kNone;
};

enum class Outcome : std::uint8_t { kReplied, kContractEnded, kOpen };
inline constexpr std::size_t kOutcomeCount = 3;
std::string_view outcome_name(Outcome o);

struct EpisodeRecord {
  std::string_view contract;
  std::uint32_t episode = 0;
  std::string_view freelancer;
  std::string_view client;
  Arm arm = Arm::kTreatment;
  bool in_segment = false;  // the segment test when the episode opened
  Instant opened_at = 0;
  Instant closed_at = kNoInstant;  // kNoInstant while open
  Outcome outcome = Outcome::kOpen;
  std::uint32_t steps_sent = 0;
  // The risk model's score at opening (docs/risk-model.md); negative when no
  // model is configured, and then the record is exactly the spec's.
  float risk = -1;
  // For kContractEnded: the event's reason, or none (JSON null) when absent.
  bool has_end_reason = false;
  std::string_view end_reason;
};

// Receives the engine's output. Calls arrive in processing order on the
// thread that drives the engine.
class EngineSink {
 public:
  virtual ~EngineSink() = default;
  virtual void on_decision(const Decision& d) = 0;
  // An episode closed (or, from emit_open_episodes, is still open).
  virtual void on_episode(const EpisodeRecord& e) = 0;
  // An episode opened (outcome open). Only the live service stores these.
  virtual void on_episode_opened(const EpisodeRecord&) {}
};

// A contract's conversation state as it stands (spec section 3), for
// inspection. Views are valid until the engine next changes.
struct ContractSnapshot {
  std::string_view client;
  std::string_view freelancer;
  Instant last_fl_at = kNoInstant;     // kNoInstant: none yet
  Instant last_client_at = kNoInstant;
  std::uint32_t episodes = 0;          // episodes opened so far
  bool ended = false;
  // The open episode, when one is: its number is `episodes`.
  bool open = false;
  Instant pending_since = kNoInstant;
  std::uint32_t steps_sent = 0;
  std::size_t tier = 0;  // its ladder: 0 the main one, i the policy's i-th risk tier's (ladder_of_tier)
};

// A user's attributes as the rules read them.
struct UserSnapshot {
  std::string_view country;  // upper-cased; empty when unknown
  std::string_view kind;     // empty when unknown
  std::string_view tz;       // the IANA zone in use; empty: UTC (unknown or none)
  const date::time_zone* zone = nullptr;  // that zone, resolved; nullptr: UTC
  bool opted_out = false;
  bool bouncing = false;  // nudges are suppressed: the address bounced
  bool in_segment = false;
  Arm arm = Arm::kTreatment;
};

}  // namespace gw
