#include "ghostwatch/sim/closed_loop.h"

#include <charconv>

namespace gw::sim {
namespace {

// The number of a generated contract id ("c" + digits); 0 for any other id.
std::uint64_t loop_contract_number(std::string_view id) {
  std::uint64_t number = 0;
  if (id.size() < 2 || id[0] != 'c') return 0;
  const char* end = id.data() + id.size();
  const auto [stop, error] = std::from_chars(id.data() + 1, end, number);
  return error == std::errc() && stop == end ? number : 0;
}

}  // namespace

EngineFeedback::EngineFeedback(const Policy& policy) : engine_(policy, *this) {}

void EngineFeedback::on_line(std::string_view line) {
  if (is_blank_line(line)) return;
  if (parser_.parse_copy(line, event_) == RejectReason::kNone) engine_.submit(event_);
}

void EngineFeedback::take_nudges(std::vector<SentNudge>& out) {
  out.clear();
  out.swap(sent_);
}

void EngineFeedback::on_decision(const Decision& d) {
  if (d.action != StepAction::kNudge || d.status != DecisionStatus::kSent) return;
  sent_.push_back({d.at, loop_contract_number(d.contract)});
}

}  // namespace gw::sim
