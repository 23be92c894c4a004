#include "ghostwatch/store/sqlite/sqlite_cases.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "ghostwatch/store/case_timeline_sql.h"
#include "ghostwatch/store/sqlite/sqlite_support.h"

namespace gw::sqlite_cases {
namespace {

using sqlite_support::column_text;
using sqlite_support::failure;

constexpr const char* kCasesSchema = R"sql(
-- One case per contract and team; `episode` is the latest escalated one.
-- A case about no contract (contract '') is one per freelancer and team.
CREATE TABLE IF NOT EXISTS cases(
  id INTEGER PRIMARY KEY, team TEXT NOT NULL, contract TEXT NOT NULL, episode INTEGER NOT NULL,
  freelancer TEXT NOT NULL, client TEXT NOT NULL, status TEXT NOT NULL, outcome TEXT NOT NULL DEFAULT '',
  assignee TEXT NOT NULL DEFAULT '', opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS cases_by_contract ON cases(contract, team) WHERE contract <> '';
CREATE UNIQUE INDEX IF NOT EXISTS cases_by_freelancer ON cases(freelancer, team) WHERE contract = '';
CREATE INDEX IF NOT EXISTS cases_by_client ON cases(client);
-- A case's own timeline; decisions and e-mails are joined in when read.
-- An escalation is linked once: UNIQUE(case_id, kind, episode) for it.
CREATE TABLE IF NOT EXISTS case_entries(
  id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id), at INTEGER NOT NULL,
  kind TEXT NOT NULL, episode INTEGER NOT NULL DEFAULT 0, author TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX IF NOT EXISTS case_escalations ON case_entries(case_id, episode) WHERE kind = 'escalated';
CREATE INDEX IF NOT EXISTS case_entries_by_case ON case_entries(case_id, at);
)sql";

// Databases made before cases about no contract had UNIQUE(contract, team)
// in the table itself: the table is rebuilt without it (rows and ids
// unchanged), the partial unique indexes taking its place.
void migrate_case_uniqueness(SQLite::Database& db) {
  {
    SQLite::Statement old(db, "SELECT 1 FROM pragma_index_list('cases') WHERE origin = 'u'");
    if (!old.executeStep()) return;
  }
  SQLite::Transaction tx(db);
  db.exec("ALTER TABLE cases RENAME TO cases_v1");
  db.exec(kCasesSchema);
  db.exec("INSERT INTO cases SELECT * FROM cases_v1; DROP TABLE cases_v1;");
  tx.commit();
}

constexpr const char* kCaseColumns =
    "id, team, contract, episode, freelancer, client, status, outcome, assignee, opened_at, updated_at";

CaseRow read_case(SQLite::Statement& s) {
  CaseRow c;
  c.id = s.getColumn(0).getInt64();
  c.team = column_text(s.getColumn(1));
  c.contract = column_text(s.getColumn(2));
  c.episode = static_cast<std::uint32_t>(s.getColumn(3).getInt64());
  c.freelancer = column_text(s.getColumn(4));
  c.client = column_text(s.getColumn(5));
  const auto status = parse_case_status(column_text(s.getColumn(6)));
  const auto outcome = parse_case_outcome(column_text(s.getColumn(7)));
  if (!status || !outcome) throw SQLite::Exception(fmt::format("store: case {} has an unreadable status", c.id));
  c.status = *status;
  c.outcome = *outcome;
  c.assignee = column_text(s.getColumn(8));
  c.opened_at = s.getColumn(9).getInt64();
  c.updated_at = s.getColumn(10).getInt64();
  return c;
}

}  // namespace

void create_schema(SQLite::Database& db) {
  // The rebuild first: indexes made on the old table would leave with it.
  if (db.tableExists("cases")) migrate_case_uniqueness(db);
  db.exec(kCasesSchema);
}

void add_entry(SQLite::Database& db, std::int64_t id, const CaseEntry& e) {
  SQLite::Statement s(db,
                      "INSERT INTO case_entries(case_id, at, kind, episode, author, text) VALUES(?, ?, ?, ?, ?, ?)");
  s.bind(1, id);
  s.bind(2, e.at);
  s.bind(3, e.kind);
  s.bind(4, static_cast<std::int64_t>(e.episode));
  s.bind(5, e.author);
  s.bind(6, e.text);
  s.exec();
}

bool reopen(SQLite::Database& db, std::int64_t id, std::uint32_t episode, Instant now) {
  SQLite::Statement s(db,
                      "UPDATE cases SET status = 'open', updated_at = ? WHERE id = ? AND status IN ('pending', "
                      "'solved')");
  s.bind(1, now);
  s.bind(2, id);
  if (s.exec() == 0) return false;
  add_entry(db, id, CaseEntry{now, "status", episode, "", "open"});
  return true;
}

std::int64_t find_or_open(SQLite::Database& db, const CaseTarget& t, Instant now) {
  if (t.case_id != 0) {
    SQLite::Statement find(db, "SELECT id FROM cases WHERE id = ?");
    find.bind(1, t.case_id);
    return find.executeStep() ? t.case_id : 0;
  }
  {
    SQLite::Statement find(db, t.contract.empty()
                                   ? "SELECT id FROM cases WHERE contract = '' AND freelancer = ?1 AND team = ?2"
                                   : "SELECT id FROM cases WHERE contract = ?1 AND team = ?2");
    find.bind(1, t.contract.empty() ? t.freelancer : t.contract);
    find.bind(2, t.team);
    if (find.executeStep()) return find.getColumn(0).getInt64();
  }
  SQLite::Statement insert(db,
                           "INSERT INTO cases(team, contract, episode, freelancer, client, status, opened_at, "
                           "updated_at) VALUES(?, ?, ?, ?, ?, 'new', ?, ?)");
  insert.bind(1, t.team);
  insert.bind(2, t.contract);
  insert.bind(3, static_cast<std::int64_t>(t.episode));
  insert.bind(4, t.freelancer);
  insert.bind(5, t.client);
  insert.bind(6, now);
  insert.bind(7, now);
  insert.exec();
  return db.getLastInsertRowid();
}

Result<std::int64_t> take_escalation(SQLite::Database& db, const OutboxItem& item, Instant now, bool client_checkin) {
  const DecisionRow& d = item.decision;
  try {
    SQLite::Transaction tx(db);
    const std::int64_t id =
        find_or_open(db, CaseTarget{0, d.target, d.contract, d.episode, d.freelancer, d.client}, d.at);
    SQLite::Statement linked(db, "SELECT 1 FROM case_entries WHERE case_id = ? AND kind = 'escalated' AND episode = ?");
    linked.bind(1, id);
    linked.bind(2, static_cast<std::int64_t>(d.episode));
    if (!linked.executeStep()) {
      add_entry(db, id,
                CaseEntry{d.at, "escalated", d.episode, "", fmt::format("step {} escalated to {}", d.step, d.target)});
      SQLite::Statement link(db, "UPDATE cases SET episode = MAX(episode, ?), updated_at = ? WHERE id = ?");
      link.bind(1, static_cast<std::int64_t>(d.episode));
      link.bind(2, now);
      link.bind(3, id);
      link.exec();
      reopen(db, id, d.episode, now);
      if (client_checkin) {
        SQLite::Statement checkin(db,
                                  "INSERT OR IGNORE INTO outbox(decision_id, channel, next_attempt_at) "
                                  "VALUES(?, 'email', ?)");
        checkin.bind(1, d.id);
        checkin.bind(2, now);
        checkin.exec();
      }
    }
    SQLite::Statement done(db,
                           "UPDATE outbox SET state = 'sent', attempts = attempts + 1, first_attempt_at = "
                           "COALESCE(first_attempt_at, ?1), done_at = ?1 WHERE decision_id = ?2 AND channel = 'case' "
                           "AND state = 'pending'");
    done.bind(1, now);
    done.bind(2, d.id);
    done.exec();
    tx.commit();
    return id;
  } catch (const std::exception& e) {
    return failure("opening a case", e);
  }
}

Result<std::vector<CaseRow>> list(SQLite::Database& db, const CaseQuery& q) {
  try {
    std::string where = "id > ?1";
    if (!q.contract.empty()) where += " AND contract = ?2";
    if (!q.team.empty()) where += " AND team = ?3";
    if (q.status) where += " AND status = ?4";
    if (!q.assignee.empty()) where += " AND assignee = ?5";
    if (!q.freelancer.empty()) where += " AND freelancer = ?7";
    if (!q.client.empty()) where += " AND client = ?8";
    SQLite::Statement s(db, fmt::format("SELECT {} FROM cases WHERE {} ORDER BY id LIMIT ?6", kCaseColumns, where));
    s.bind(1, q.after_id);
    if (!q.contract.empty()) s.bind(2, q.contract);
    if (!q.team.empty()) s.bind(3, q.team);
    if (q.status) s.bind(4, std::string(case_status_name(*q.status)));
    if (!q.assignee.empty()) s.bind(5, q.assignee);
    if (!q.freelancer.empty()) s.bind(7, q.freelancer);
    if (!q.client.empty()) s.bind(8, q.client);
    s.bind(6, static_cast<std::int64_t>(q.limit));
    std::vector<CaseRow> out;
    while (s.executeStep()) out.push_back(read_case(s));
    return out;
  } catch (const std::exception& e) {
    return failure("listing cases", e);
  }
}

Result<std::optional<CaseRow>> find(SQLite::Database& db, std::int64_t id) {
  try {
    SQLite::Statement s(db, fmt::format("SELECT {} FROM cases WHERE id = ?", kCaseColumns));
    s.bind(1, id);
    if (!s.executeStep()) return std::optional<CaseRow>();
    return std::optional<CaseRow>(read_case(s));
  } catch (const std::exception& e) {
    return failure("reading a case", e);
  }
}

Result<std::vector<CaseEntry>> timeline(SQLite::Database& db, std::int64_t id) {
  try {
    SQLite::Statement s(db, kCaseTimelineSql);
    s.bind(1, id);
    std::vector<CaseEntry> out;
    while (s.executeStep()) {
      CaseEntry e;
      e.at = s.getColumn(0).getInt64();
      e.kind = column_text(s.getColumn(1));
      e.episode = static_cast<std::uint32_t>(s.getColumn(2).getInt64());
      e.author = column_text(s.getColumn(3));
      e.text = column_text(s.getColumn(4));
      out.push_back(std::move(e));
    }
    return out;
  } catch (const std::exception& e) {
    return failure("reading a case's timeline", e);
  }
}

Result<std::vector<CaseChange>> changes(SQLite::Database& db, std::int64_t after_id, std::size_t limit) {
  try {
    SQLite::Statement s(
        db, "SELECT id, case_id, at, kind, episode, author, text FROM case_entries WHERE id > ? ORDER BY id LIMIT ?");
    s.bind(1, after_id);
    s.bind(2, static_cast<std::int64_t>(limit));
    std::vector<CaseChange> out;
    while (s.executeStep()) {
      CaseChange c;
      c.id = s.getColumn(0).getInt64();
      c.case_id = s.getColumn(1).getInt64();
      c.entry.at = s.getColumn(2).getInt64();
      c.entry.kind = column_text(s.getColumn(3));
      c.entry.episode = static_cast<std::uint32_t>(s.getColumn(4).getInt64());
      c.entry.author = column_text(s.getColumn(5));
      c.entry.text = column_text(s.getColumn(6));
      out.push_back(std::move(c));
    }
    return out;
  } catch (const std::exception& e) {
    return failure("reading case changes", e);
  }
}

Result<bool> update(SQLite::Database& db, std::int64_t id, const CaseUpdate& u, Instant now) {
  try {
    SQLite::Transaction tx(db);
    SQLite::Statement current(db, fmt::format("SELECT {} FROM cases WHERE id = ?", kCaseColumns));
    current.bind(1, id);
    if (!current.executeStep()) return false;
    const CaseRow c = read_case(current);
    const auto change = [&](const char* column, const std::string& before, const std::string& after) {
      if (before == after) return;
      SQLite::Statement s(db, fmt::format("UPDATE cases SET {} = ?, updated_at = ? WHERE id = ?", column));
      s.bind(1, after);
      s.bind(2, now);
      s.bind(3, id);
      s.exec();
      add_entry(db, id, CaseEntry{now, column, 0, u.author, after});
    };
    if (u.status) change("status", std::string(case_status_name(c.status)), std::string(case_status_name(*u.status)));
    if (u.outcome) {
      change("outcome", std::string(case_outcome_name(c.outcome)), std::string(case_outcome_name(*u.outcome)));
    }
    if (u.assignee) change("assignee", c.assignee, *u.assignee);
    tx.commit();
    return true;
  } catch (const std::exception& e) {
    return failure("updating a case", e);
  }
}

Result<bool> add_note(SQLite::Database& db, std::int64_t id, const std::string& author, const std::string& text,
                      Instant now) {
  try {
    SQLite::Transaction tx(db);
    SQLite::Statement touch(db, "UPDATE cases SET updated_at = ? WHERE id = ?");
    touch.bind(1, now);
    touch.bind(2, id);
    if (touch.exec() == 0) return false;
    add_entry(db, id, CaseEntry{now, "note", 0, author, text});
    tx.commit();
    return true;
  } catch (const std::exception& e) {
    return failure("adding a note to a case", e);
  }
}

}  // namespace gw::sqlite_cases
