#include "ghostwatch/engine/event.h"

namespace gw {

std::string_view reject_reason_name(RejectReason r) {
  switch (r) {
    case RejectReason::kNone: return "none";
    case RejectReason::kBadJson: return "bad_json";
    case RejectReason::kMissingField: return "missing_field";
    case RejectReason::kBadField: return "bad_field";
    case RejectReason::kUnknownType: return "unknown_type";
    case RejectReason::kBadTime: return "bad_time";
    case RejectReason::kDuplicateContract: return "duplicate_contract";
    case RejectReason::kUnknownContract: return "unknown_contract";
    case RejectReason::kContractEnded: return "contract_ended";
    case RejectReason::kNotAParty: return "not_a_party";
  }
  return "unknown";
}

}  // namespace gw
