#include "ghostwatch/engine/records.h"

namespace gw {

std::string_view decision_status_name(DecisionStatus s) {
  switch (s) {
    case DecisionStatus::kSent: return "sent";
    case DecisionStatus::kHeldOut: return "held_out";
    case DecisionStatus::kSuppressed: return "suppressed";
    case DecisionStatus::kSkipped: return "skipped";
  }
  return "unknown";
}

std::string_view decision_reason_name(DecisionReason r) {
  switch (r) {
    case DecisionReason::kNone: return "";
    case DecisionReason::kOptedOut: return "opted_out";
    case DecisionReason::kFrequencyCap: return "frequency_cap";
    case DecisionReason::kSuperseded: return "superseded";
    case DecisionReason::kBounced: return "bounced";
  }
  return "unknown";
}

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kReplied: return "replied";
    case Outcome::kContractEnded: return "contract_ended";
    case Outcome::kOpen: return "open";
  }
  return "unknown";
}

}  // namespace gw
