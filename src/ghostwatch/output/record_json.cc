#include "ghostwatch/output/record_json.h"

#include "ghostwatch/core/json_text.h"
#include "ghostwatch/core/time.h"

namespace gw {
namespace {

using namespace std::string_view_literals;

void append_time(std::string& out, Instant t) {
  out.push_back('"');
  append_rfc3339(out, t);
  out.push_back('"');
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[20];
  char* end = buf + sizeof buf;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<std::size_t>(end - p));
}

void append_int(std::string& out, std::int64_t v) {
  if (v < 0) {
    out.push_back('-');
    append_uint(out, static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(v));
  } else {
    append_uint(out, static_cast<std::uint64_t>(v));
  }
}

}  // namespace

void append_decision_json(std::string& out, const Decision& d) {
  out.append("{\"at\":"sv);
  append_time(out, d.at);
  out.append(",\"contract\":"sv);
  append_json_string(out, d.contract);
  out.append(",\"episode\":"sv);
  append_uint(out, d.episode);
  out.append(",\"step\":"sv);
  append_uint(out, d.step);
  out.append(",\"action\":\""sv);
  out.append(step_action_name(d.action));
  out.append(d.action == StepAction::kNudge ? "\",\"template\":"sv : "\",\"team\":"sv);
  append_json_string(out, d.target);
  out.append(",\"freelancer\":"sv);
  append_json_string(out, d.freelancer);
  out.append(",\"client\":"sv);
  append_json_string(out, d.client);
  out.append(",\"arm\":\""sv);
  out.append(arm_name(d.arm));
  out.append("\",\"status\":\""sv);
  out.append(decision_status_name(d.status));
  out.push_back('"');
  if (d.reason != DecisionReason::kNone) {
    out.append(",\"reason\":\""sv);
    out.append(decision_reason_name(d.reason));
    out.push_back('"');
  }
  out.append("}\n"sv);
}

void append_episode_json(std::string& out, const EpisodeRecord& e) {
  out.append("{\"contract\":"sv);
  append_json_string(out, e.contract);
  out.append(",\"episode\":"sv);
  append_uint(out, e.episode);
  out.append(",\"freelancer\":"sv);
  append_json_string(out, e.freelancer);
  out.append(",\"client\":"sv);
  append_json_string(out, e.client);
  out.append(",\"arm\":\""sv);
  out.append(arm_name(e.arm));
  out.append(e.in_segment ? "\",\"in_segment\":true"sv : "\",\"in_segment\":false"sv);
  out.append(",\"opened_at\":"sv);
  append_time(out, e.opened_at);
  out.append(",\"closed_at\":"sv);
  if (e.outcome == Outcome::kOpen) {
    out.append("null"sv);
  } else {
    append_time(out, e.closed_at);
  }
  out.append(",\"outcome\":\""sv);
  out.append(outcome_name(e.outcome));
  out.append("\",\"response_seconds\":"sv);
  if (e.outcome == Outcome::kReplied) {
    append_int(out, floor_div(e.closed_at - e.opened_at, kSecond));
  } else {
    out.append("null"sv);
  }
  out.append(",\"steps_sent\":"sv);
  append_uint(out, e.steps_sent);
  if (e.outcome == Outcome::kContractEnded) {
    out.append(",\"reason\":"sv);
    if (e.has_end_reason) {
      append_json_string(out, e.end_reason);
    } else {
      out.append("null"sv);
    }
  }
  out.append("}\n"sv);
}

void append_reject_json(std::string& out, std::uint64_t line, RejectReason reason, std::string_view raw) {
  out.append("{\"line\":"sv);
  append_uint(out, line);
  out.append(",\"reason\":\""sv);
  out.append(reject_reason_name(reason));
  out.append("\",\"raw\":"sv);
  std::string clean;
  append_utf8_replacing_invalid(clean, raw);
  append_json_string(out, clean);
  out.append("}\n"sv);
}

}  // namespace gw
