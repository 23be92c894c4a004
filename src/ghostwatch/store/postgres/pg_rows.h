// Reading PostgreSQL result rows into the store's row types, shared by the
// PostgreSQL store's files. Every function throws (a std::exception) on a
// value the store could not have written, which the store turns into an
// error Status.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>

#include "ghostwatch/store/cases.h"
#include "ghostwatch/store/inbound.h"
#include "ghostwatch/store/rows.h"

namespace gw::pg {

inline std::string text(const pqxx::field& f) { return f.is_null() ? std::string() : std::string(f.c_str(), f.size()); }
inline std::int64_t int64(const pqxx::field& f) { return f.as<std::int64_t>(); }
inline Instant instant_or_none(const pqxx::field& f) { return f.is_null() ? kNoInstant : f.as<std::int64_t>(); }
inline std::string bytes(const pqxx::field& f) { return pqxx::binarystring(f).str(); }

// A nullable instant parameter: NULL for kNoInstant.
inline const char* nullable_instant(Instant at, std::string& buffer) {
  if (at == kNoInstant) return nullptr;
  buffer = std::to_string(at);
  return buffer.c_str();
}

inline constexpr const char* kDecisionColumns =
    "id, at, contract, episode, step, action, target, freelancer, client, arm, status, reason";
inline constexpr const char* kEpisodeColumns =
    "id, contract, episode, freelancer, client, arm, in_segment, opened_at, closed_at, outcome, steps_sent, "
    "has_end_reason, end_reason, risk";
// An open_episodes row as kEpisodeColumns, for read_episode (the open
// record's constants: id 0, outcome open, no end).
inline constexpr const char* kOpenEpisodeColumns =
    "0, contract, episode, freelancer, client, arm, in_segment, opened_at, NULL::bigint, 'open', steps_sent, false, "
    "'', risk";
inline constexpr const char* kCaseColumns =
    "id, team, contract, episode, freelancer, client, status, outcome, assignee, opened_at, updated_at";
inline constexpr const char* kInboundColumns =
    "id, received_at, dedupe_key, message_id, from_address, from_name, subject, text, auto_reply, bounce, route, "
    "case_id, reason";

DecisionRow read_decision(const pqxx::row& r);  // kDecisionColumns, from column 0
EpisodeRow read_episode(const pqxx::row& r);    // kEpisodeColumns
CaseRow read_case(const pqxx::row& r);          // kCaseColumns
InboundRow read_inbound(const pqxx::row& r);    // kInboundColumns (raw: column 13 when selected)

}  // namespace gw::pg
