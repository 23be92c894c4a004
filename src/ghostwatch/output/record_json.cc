#include "ghostwatch/output/record_json.h"

#include <fmt/format.h>

#include "ghostwatch/core/json_text.h"
#include "ghostwatch/core/time.h"

namespace gw {
namespace {

void append_time(std::string& out, Instant t) {
  out.push_back('"');
  append_rfc3339(out, t);
  out.push_back('"');
}

void append_uint(std::string& out, std::uint64_t v) { fmt::format_to(std::back_inserter(out), "{}", v); }

}  // namespace

void append_decision_json(std::string& out, const Decision& d) {
  out.append("{\"at\":");
  append_time(out, d.at);
  out.append(",\"contract\":");
  append_json_string(out, d.contract);
  out.append(",\"episode\":");
  append_uint(out, d.episode);
  out.append(",\"step\":");
  append_uint(out, d.step);
  out.append(",\"action\":\"");
  out.append(step_action_name(d.action));
  out.append(d.action == StepAction::kNudge ? "\",\"template\":" : "\",\"team\":");
  append_json_string(out, d.target);
  out.append(",\"freelancer\":");
  append_json_string(out, d.freelancer);
  out.append(",\"client\":");
  append_json_string(out, d.client);
  out.append(",\"arm\":\"");
  out.append(arm_name(d.arm));
  out.append("\",\"status\":\"");
  out.append(decision_status_name(d.status));
  out.push_back('"');
  if (d.reason != DecisionReason::kNone) {
    out.append(",\"reason\":\"");
    out.append(decision_reason_name(d.reason));
    out.push_back('"');
  }
  out.append("}\n");
}

void append_episode_json(std::string& out, const EpisodeRecord& e) {
  out.append("{\"contract\":");
  append_json_string(out, e.contract);
  out.append(",\"episode\":");
  append_uint(out, e.episode);
  out.append(",\"freelancer\":");
  append_json_string(out, e.freelancer);
  out.append(",\"client\":");
  append_json_string(out, e.client);
  out.append(",\"arm\":\"");
  out.append(arm_name(e.arm));
  out.append(e.in_segment ? "\",\"in_segment\":true" : "\",\"in_segment\":false");
  out.append(",\"opened_at\":");
  append_time(out, e.opened_at);
  out.append(",\"closed_at\":");
  if (e.outcome == Outcome::kOpen) {
    out.append("null");
  } else {
    append_time(out, e.closed_at);
  }
  out.append(",\"outcome\":\"");
  out.append(outcome_name(e.outcome));
  out.append("\",\"response_seconds\":");
  if (e.outcome == Outcome::kReplied) {
    fmt::format_to(std::back_inserter(out), "{}", floor_div(e.closed_at - e.opened_at, kSecond));
  } else {
    out.append("null");
  }
  out.append(",\"steps_sent\":");
  append_uint(out, e.steps_sent);
  if (e.outcome == Outcome::kContractEnded) {
    out.append(",\"reason\":");
    if (e.has_end_reason) {
      append_json_string(out, e.end_reason);
    } else {
      out.append("null");
    }
  }
  out.append("}\n");
}

void append_reject_json(std::string& out, std::uint64_t line, RejectReason reason, std::string_view raw) {
  out.append("{\"line\":");
  append_uint(out, line);
  out.append(",\"reason\":\"");
  out.append(reject_reason_name(reason));
  out.append("\",\"raw\":");
  std::string clean;
  append_utf8_replacing_invalid(clean, raw);
  append_json_string(out, clean);
  out.append("}\n");
}

}  // namespace gw
