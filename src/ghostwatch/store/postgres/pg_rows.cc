#include "ghostwatch/store/postgres/pg_rows.h"

#include <fmt/format.h>

#include <stdexcept>

namespace gw::pg {
namespace {

template <typename T>
T must(std::optional<T> v, const char* what) {
  if (!v) throw std::runtime_error(fmt::format("store: unreadable {} in database", what));
  return *v;
}

}  // namespace

DecisionRow read_decision(const pqxx::row& r) {
  DecisionRow d;
  d.id = int64(r[0]);
  d.at = int64(r[1]);
  d.contract = text(r[2]);
  d.episode = static_cast<std::uint32_t>(int64(r[3]));
  d.step = static_cast<std::uint32_t>(int64(r[4]));
  d.action = must(parse_step_action(text(r[5])), "action");
  d.target = text(r[6]);
  d.freelancer = text(r[7]);
  d.client = text(r[8]);
  d.arm = must(parse_arm(text(r[9])), "arm");
  d.status = must(parse_decision_status(text(r[10])), "status");
  d.reason = must(parse_decision_reason(text(r[11])), "reason");
  return d;
}

EpisodeRow read_episode(const pqxx::row& r) {
  EpisodeRow e;
  e.id = int64(r[0]);
  e.contract = text(r[1]);
  e.episode = static_cast<std::uint32_t>(int64(r[2]));
  e.freelancer = text(r[3]);
  e.client = text(r[4]);
  e.arm = must(parse_arm(text(r[5])), "arm");
  e.in_segment = r[6].as<bool>();
  e.opened_at = int64(r[7]);
  e.closed_at = instant_or_none(r[8]);
  e.outcome = must(parse_outcome(text(r[9])), "outcome");
  e.steps_sent = static_cast<std::uint32_t>(int64(r[10]));
  e.has_end_reason = r[11].as<bool>();
  e.end_reason = text(r[12]);
  e.risk = r[13].is_null() ? -1.0f : static_cast<float>(r[13].as<double>());
  return e;
}

CaseRow read_case(const pqxx::row& r) {
  CaseRow c;
  c.id = int64(r[0]);
  c.team = text(r[1]);
  c.contract = text(r[2]);
  c.episode = static_cast<std::uint32_t>(int64(r[3]));
  c.freelancer = text(r[4]);
  c.client = text(r[5]);
  c.status = must(parse_case_status(text(r[6])), "case status");
  c.outcome = must(parse_case_outcome(text(r[7])), "case outcome");
  c.assignee = text(r[8]);
  c.opened_at = int64(r[9]);
  c.updated_at = int64(r[10]);
  return c;
}

InboundRow read_inbound(const pqxx::row& r) {
  InboundRow m;
  m.id = int64(r[0]);
  m.received_at = int64(r[1]);
  m.dedupe_key = text(r[2]);
  m.message_id = text(r[3]);
  m.from_address = text(r[4]);
  m.from_name = text(r[5]);
  m.subject = text(r[6]);
  m.text = text(r[7]);
  m.auto_reply = r[8].as<bool>();
  m.bounce = r[9].as<bool>();
  m.route = must(parse_inbound_route(text(r[10])), "inbound route");
  m.case_id = int64(r[11]);
  m.reason = text(r[12]);
  if (r.size() > 13) m.raw = bytes(r[13]);
  return m;
}

}  // namespace gw::pg
