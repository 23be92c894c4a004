#include "ghostwatch/store/postgres/pg_cases.h"

#include <fmt/format.h>

#include "ghostwatch/store/case_timeline_sql.h"
#include "ghostwatch/store/postgres/pg_rows.h"

namespace gw::pg {
namespace {

void add_entry(pqxx::work& tx, std::int64_t id, const CaseEntry& e) {
  tx.exec_params0("INSERT INTO case_entries(case_id, at, kind, episode, author, text) VALUES($1, $2, $3, $4, $5, $6)",
                  id, e.at, e.kind, static_cast<std::int64_t>(e.episode), e.author, e.text);
}

bool reopen(pqxx::work& tx, std::int64_t id, std::uint32_t episode, Instant now) {
  const pqxx::result r = tx.exec_params(
      "UPDATE cases SET status = 'open', updated_at = $1 WHERE id = $2 AND status IN ('pending', 'solved')", now, id);
  if (r.affected_rows() == 0) return false;
  add_entry(tx, id, CaseEntry{now, "status", episode, "", "open"});
  return true;
}

// The case `t` names, opened with `now` when there is none (cases.h); 0 when
// t.case_id names no case. ON CONFLICT makes a concurrent opening find the
// same case.
std::int64_t find_or_open(pqxx::work& tx, const CaseTarget& t, Instant now) {
  if (t.case_id != 0) return tx.exec_params("SELECT id FROM cases WHERE id = $1", t.case_id).empty() ? 0 : t.case_id;
  const char* find = t.contract.empty() ? "SELECT id FROM cases WHERE contract = '' AND freelancer = $1 AND team = $2"
                                        : "SELECT id FROM cases WHERE contract = $1 AND team = $2";
  const std::string& key = t.contract.empty() ? t.freelancer : t.contract;
  if (auto found = tx.exec_params(find, key, t.team); !found.empty()) return int64(found[0][0]);
  const pqxx::result made = tx.exec_params(
      fmt::format("INSERT INTO cases(team, contract, episode, freelancer, client, status, opened_at, updated_at) "
                  "VALUES($1, $2, $3, $4, $5, 'new', $6, $6) ON CONFLICT ({}) WHERE {} DO NOTHING RETURNING id",
                  t.contract.empty() ? "freelancer, team" : "contract, team",
                  t.contract.empty() ? "contract = ''" : "contract <> ''"),
      t.team, t.contract, static_cast<std::int64_t>(t.episode), t.freelancer, t.client, now);
  if (!made.empty()) return int64(made[0][0]);
  return int64(tx.exec_params1(find, key, t.team)[0]);
}

void add_to_case(pqxx::work& tx, std::int64_t case_id, const InboundRow& row, std::uint32_t episode, Instant now) {
  add_entry(
      tx, case_id,
      CaseEntry{row.received_at, row.auto_reply ? "auto_reply" : "email_in", episode, row.from_address, row.text});
  tx.exec_params0("UPDATE cases SET updated_at = $1 WHERE id = $2", now, case_id);
  if (!row.auto_reply) reopen(tx, case_id, episode, now);
}

std::optional<InboundRow> select_inbound(pqxx::transaction_base& tx, const char* where, const auto& key,
                                         bool with_raw) {
  const pqxx::result r = tx.exec_params(
      fmt::format("SELECT {}{} FROM inbound WHERE {}", kInboundColumns, with_raw ? ", raw" : "", where), key);
  if (r.empty()) return std::nullopt;
  return read_inbound(r[0]);
}

}  // namespace

std::int64_t take_escalation(pqxx::work& tx, const OutboxItem& item, Instant now, bool client_checkin) {
  const DecisionRow& d = item.decision;
  const std::int64_t id =
      find_or_open(tx, CaseTarget{0, d.target, d.contract, d.episode, d.freelancer, d.client}, d.at);
  const bool linked = !tx.exec_params(
                             "SELECT 1 FROM case_entries WHERE case_id = $1 AND kind = 'escalated' AND "
                             "episode = $2",
                             id, static_cast<std::int64_t>(d.episode))
                           .empty();
  if (!linked) {
    add_entry(tx, id,
              CaseEntry{d.at, "escalated", d.episode, "", fmt::format("step {} escalated to {}", d.step, d.target)});
    tx.exec_params0("UPDATE cases SET episode = GREATEST(episode, $1), updated_at = $2 WHERE id = $3",
                    static_cast<std::int64_t>(d.episode), now, id);
    reopen(tx, id, d.episode, now);
    if (client_checkin) {
      tx.exec_params0(
          "INSERT INTO outbox(decision_id, channel, next_attempt_at) VALUES($1, 'email', $2) ON CONFLICT DO NOTHING",
          d.id, now);
    }
  }
  tx.exec_params0(
      "UPDATE outbox SET state = 'sent', attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $1), "
      "done_at = $1 WHERE decision_id = $2 AND channel = 'case' AND state = 'pending'",
      now, d.id);
  return id;
}

std::vector<CaseRow> list_cases(pqxx::transaction_base& tx, const CaseQuery& q) {
  std::string where = "id > $1";
  std::vector<std::string> params = {std::to_string(q.after_id)};
  const auto add = [&](const char* column, const std::string& value) {
    if (value.empty()) return;
    params.push_back(value);
    where += fmt::format(" AND {} = ${}", column, params.size());
  };
  add("contract", q.contract);
  add("team", q.team);
  add("status", q.status ? std::string(case_status_name(*q.status)) : "");
  add("assignee", q.assignee);
  add("freelancer", q.freelancer);
  add("client", q.client);
  const std::string limit = q.limit >= static_cast<std::size_t>(INT64_MAX) ? "ALL" : std::to_string(q.limit);
  std::vector<CaseRow> out;
  for (const auto& r :
       tx.exec_params(fmt::format("SELECT {} FROM cases WHERE {} ORDER BY id LIMIT {}", kCaseColumns, where, limit),
                      pqxx::prepare::make_dynamic_params(params))) {
    out.push_back(read_case(r));
  }
  return out;
}

std::optional<CaseRow> find_case(pqxx::transaction_base& tx, std::int64_t id) {
  const pqxx::result r = tx.exec_params(fmt::format("SELECT {} FROM cases WHERE id = $1", kCaseColumns), id);
  if (r.empty()) return std::nullopt;
  return read_case(r[0]);
}

std::vector<CaseEntry> case_timeline(pqxx::transaction_base& tx, std::int64_t id) {
  const pqxx::result r = tx.exec_params(kCaseTimelineSql, id);
  std::vector<CaseEntry> out;
  for (const auto& row : r) {
    out.push_back(
        CaseEntry{int64(row[0]), text(row[1]), static_cast<std::uint32_t>(int64(row[2])), text(row[3]), text(row[4])});
  }
  return out;
}

std::vector<CaseChange> case_changes(pqxx::transaction_base& tx, std::int64_t after_id, std::size_t limit) {
  std::vector<CaseChange> out;
  for (const auto& row : tx.exec_params("SELECT id, case_id, at, kind, episode, author, text FROM case_entries WHERE "
                                        "id > $1 ORDER BY id LIMIT $2",
                                        after_id, static_cast<std::int64_t>(limit))) {
    out.push_back(CaseChange{
        int64(row[0]), int64(row[1]),
        CaseEntry{int64(row[2]), text(row[3]), static_cast<std::uint32_t>(int64(row[4])), text(row[5]), text(row[6])}});
  }
  return out;
}

bool update_case(pqxx::work& tx, std::int64_t id, const CaseUpdate& u, Instant now) {
  const pqxx::result current =
      tx.exec_params(fmt::format("SELECT {} FROM cases WHERE id = $1 FOR UPDATE", kCaseColumns), id);
  if (current.empty()) return false;
  const CaseRow c = read_case(current[0]);
  const auto change = [&](const char* column, const std::string& before, const std::string& after) {
    if (before == after) return;
    tx.exec_params0(fmt::format("UPDATE cases SET {} = $1, updated_at = $2 WHERE id = $3", column), after, now, id);
    add_entry(tx, id, CaseEntry{now, column, 0, u.author, after});
  };
  if (u.status) change("status", std::string(case_status_name(c.status)), std::string(case_status_name(*u.status)));
  if (u.outcome) {
    change("outcome", std::string(case_outcome_name(c.outcome)), std::string(case_outcome_name(*u.outcome)));
  }
  if (u.assignee) change("assignee", c.assignee, *u.assignee);
  return true;
}

bool add_case_note(pqxx::work& tx, std::int64_t id, const std::string& author, const std::string& text, Instant now) {
  if (tx.exec_params("UPDATE cases SET updated_at = $1 WHERE id = $2", now, id).affected_rows() == 0) return false;
  add_entry(tx, id, CaseEntry{now, "note", 0, author, text});
  return true;
}

std::optional<InboundRow> find_inbound_by_key(pqxx::transaction_base& tx, const std::string& key) {
  return select_inbound(tx, "dedupe_key = $1", key, false);
}

InboundTaken take_inbound(pqxx::work& tx, const InboundRow& row, const CaseTarget* target, Instant now) {
  // Concurrent takers of one message wait here for each other.
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", row.dedupe_key);
  if (auto earlier = select_inbound(tx, "dedupe_key = $1", row.dedupe_key, false)) {
    return InboundTaken{earlier->id, earlier->case_id, earlier->route, true};
  }
  InboundRow stored = row;
  if (target != nullptr) {
    stored.case_id = find_or_open(tx, *target, now);
    if (stored.case_id == 0) {
      stored.route = InboundRoute::kUnmatched;
      stored.reason += fmt::format("; but case {} does not exist", target->case_id);
    } else {
      stored.route = InboundRoute::kCase;
      add_to_case(tx, stored.case_id, stored, target->episode, now);
    }
  }
  const pqxx::row made = tx.exec_params1(
      "INSERT INTO inbound(received_at, dedupe_key, message_id, from_address, from_name, subject, text, auto_reply, "
      "bounce, route, case_id, reason, raw) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
      "RETURNING id",
      stored.received_at, stored.dedupe_key, stored.message_id, stored.from_address, stored.from_name, stored.subject,
      stored.text, stored.auto_reply, stored.bounce, std::string(inbound_route_name(stored.route)), stored.case_id,
      stored.reason, pqxx::binarystring(stored.raw.data(), stored.raw.size()));
  return InboundTaken{int64(made[0]), stored.case_id, stored.route, false};
}

std::vector<InboundRow> list_inbound(pqxx::transaction_base& tx, const InboundQuery& q) {
  const pqxx::result r =
      q.route
          ? tx.exec_params(fmt::format("SELECT {} FROM inbound WHERE id > $1 AND route = $2 ORDER BY id LIMIT $3",
                                       kInboundColumns),
                           q.after_id, std::string(inbound_route_name(*q.route)), static_cast<std::int64_t>(q.limit))
          : tx.exec_params(fmt::format("SELECT {} FROM inbound WHERE id > $1 ORDER BY id LIMIT $2", kInboundColumns),
                           q.after_id, static_cast<std::int64_t>(q.limit));
  std::vector<InboundRow> out;
  for (const auto& row : r) out.push_back(read_inbound(row));
  return out;
}

std::optional<InboundRow> find_inbound(pqxx::transaction_base& tx, std::int64_t id) {
  return select_inbound(tx, "id = $1", id, true);
}

AttachResult attach_inbound(pqxx::work& tx, std::int64_t id, std::int64_t case_id, const std::string& author,
                            Instant now) {
  const pqxx::result found =
      tx.exec_params(fmt::format("SELECT {} FROM inbound WHERE id = $1 FOR UPDATE", kInboundColumns), id);
  if (found.empty()) return AttachResult::kNoMessage;
  const InboundRow row = read_inbound(found[0]);
  if (row.route != InboundRoute::kUnmatched) return AttachResult::kNotUnmatched;
  if (tx.exec_params("SELECT 1 FROM cases WHERE id = $1", case_id).empty()) return AttachResult::kNoCase;
  add_to_case(tx, case_id, row, 0, now);
  tx.exec_params0("UPDATE inbound SET route = 'case', case_id = $1, reason = $2 WHERE id = $3", case_id,
                  fmt::format("{}; attached to case {}{}", row.reason, case_id,
                              author.empty() ? "" : fmt::format(" by {}", author)),
                  id);
  return AttachResult::kAttached;
}

}  // namespace gw::pg
