#include "ghostwatch/store/cases.h"

#include <array>
#include <utility>

namespace gw {
namespace {

constexpr std::array<std::pair<CaseStatus, std::string_view>, 4> kStatusNames = {{
    {CaseStatus::kNew, "new"},
    {CaseStatus::kOpen, "open"},
    {CaseStatus::kPending, "pending"},
    {CaseStatus::kSolved, "solved"},
}};

constexpr std::array<std::pair<CaseOutcome, std::string_view>, 5> kOutcomeNames = {{
    {CaseOutcome::kNone, ""},
    {CaseOutcome::kFreelancerResponded, "freelancer_responded"},
    {CaseOutcome::kFreelancerReplaced, "freelancer_replaced"},
    {CaseOutcome::kClientWithdrew, "client_withdrew"},
    {CaseOutcome::kNoAction, "no_action"},
}};

}  // namespace

std::string_view case_status_name(CaseStatus s) { return kStatusNames[static_cast<std::size_t>(s)].second; }
std::string_view case_outcome_name(CaseOutcome o) { return kOutcomeNames[static_cast<std::size_t>(o)].second; }

std::optional<CaseStatus> parse_case_status(std::string_view name) {
  for (const auto& [value, text] : kStatusNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

std::optional<CaseOutcome> parse_case_outcome(std::string_view name) {
  for (const auto& [value, text] : kOutcomeNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

}  // namespace gw
