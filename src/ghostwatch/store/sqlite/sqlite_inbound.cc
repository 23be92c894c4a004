#include "ghostwatch/store/sqlite/sqlite_inbound.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "ghostwatch/store/sqlite/sqlite_cases.h"
#include "ghostwatch/store/sqlite/sqlite_support.h"

namespace gw::sqlite_inbound {
namespace {

using sqlite_cases::add_entry;
using sqlite_support::column_text;
using sqlite_support::failure;

constexpr const char* kInboundSchema = R"sql(
-- Every e-mail received, raw bytes included, and where it went.
CREATE TABLE IF NOT EXISTS inbound(
  id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, dedupe_key TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL, from_address TEXT NOT NULL, from_name TEXT NOT NULL, subject TEXT NOT NULL,
  text TEXT NOT NULL, auto_reply INTEGER NOT NULL, bounce INTEGER NOT NULL, route TEXT NOT NULL,
  case_id INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL, raw BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS inbound_by_route ON inbound(route, id);
)sql";

constexpr const char* kListColumns =
    "id, received_at, dedupe_key, message_id, from_address, from_name, subject, text, auto_reply, bounce, route, "
    "case_id, reason";

InboundRow read_row(SQLite::Statement& s) {
  InboundRow r;
  r.id = s.getColumn(0).getInt64();
  r.received_at = s.getColumn(1).getInt64();
  r.dedupe_key = column_text(s.getColumn(2));
  r.message_id = column_text(s.getColumn(3));
  r.from_address = column_text(s.getColumn(4));
  r.from_name = column_text(s.getColumn(5));
  r.subject = column_text(s.getColumn(6));
  r.text = column_text(s.getColumn(7));
  r.auto_reply = s.getColumn(8).getInt() != 0;
  r.bounce = s.getColumn(9).getInt() != 0;
  const auto route = parse_inbound_route(column_text(s.getColumn(10)));
  if (!route) throw SQLite::Exception(fmt::format("store: inbound message {} has an unreadable route", r.id));
  r.route = *route;
  r.case_id = s.getColumn(11).getInt64();
  r.reason = column_text(s.getColumn(12));
  return r;
}

std::optional<InboundRow> select_one(SQLite::Database& db, const char* where, const auto& key, bool with_raw) {
  SQLite::Statement s(db,
                      fmt::format("SELECT {}{} FROM inbound WHERE {}", kListColumns, with_raw ? ", raw" : "", where));
  s.bind(1, key);
  if (!s.executeStep()) return std::nullopt;
  InboundRow r = read_row(s);
  if (with_raw) r.raw = column_text(s.getColumn(13));
  return r;
}

// The timeline entry of a message that joins case `case_id`; a person's
// e-mail reopens a pending or solved case, an automatic reply does not.
void add_to_case(SQLite::Database& db, std::int64_t case_id, const InboundRow& row, std::uint32_t episode,
                 Instant now) {
  add_entry(
      db, case_id,
      CaseEntry{row.received_at, row.auto_reply ? "auto_reply" : "email_in", episode, row.from_address, row.text});
  SQLite::Statement touch(db, "UPDATE cases SET updated_at = ? WHERE id = ?");
  touch.bind(1, now);
  touch.bind(2, case_id);
  touch.exec();
  if (!row.auto_reply) sqlite_cases::reopen(db, case_id, episode, now);
}

}  // namespace

void create_schema(SQLite::Database& db) { db.exec(kInboundSchema); }

Result<std::optional<InboundRow>> find_by_key(SQLite::Database& db, const std::string& dedupe_key) {
  try {
    return select_one(db, "dedupe_key = ?", dedupe_key, false);
  } catch (const std::exception& e) {
    return failure("reading an inbound message", e);
  }
}

Result<InboundTaken> take(SQLite::Database& db, const InboundRow& row, const CaseTarget* target, Instant now) {
  try {
    SQLite::Transaction tx(db);
    if (auto earlier = select_one(db, "dedupe_key = ?", row.dedupe_key, false)) {
      return InboundTaken{earlier->id, earlier->case_id, earlier->route, true};
    }
    InboundRow stored = row;
    if (target != nullptr) {
      stored.case_id = sqlite_cases::find_or_open(db, *target, now);
      if (stored.case_id == 0) {
        stored.route = InboundRoute::kUnmatched;
        stored.reason += fmt::format("; but case {} does not exist", target->case_id);
      } else {
        stored.route = InboundRoute::kCase;
        add_to_case(db, stored.case_id, stored, target->episode, now);
      }
    }
    SQLite::Statement insert(db,
                             "INSERT INTO inbound(received_at, dedupe_key, message_id, from_address, from_name, "
                             "subject, text, auto_reply, bounce, route, case_id, reason, raw) "
                             "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, stored.received_at);
    insert.bind(2, stored.dedupe_key);
    insert.bind(3, stored.message_id);
    insert.bind(4, stored.from_address);
    insert.bind(5, stored.from_name);
    insert.bind(6, stored.subject);
    insert.bind(7, stored.text);
    insert.bind(8, stored.auto_reply ? 1 : 0);
    insert.bind(9, stored.bounce ? 1 : 0);
    insert.bind(10, std::string(inbound_route_name(stored.route)));
    insert.bind(11, stored.case_id);
    insert.bind(12, stored.reason);
    insert.bind(13, stored.raw.data(), static_cast<int>(stored.raw.size()));
    insert.exec();
    const std::int64_t id = db.getLastInsertRowid();
    tx.commit();
    return InboundTaken{id, stored.case_id, stored.route, false};
  } catch (const std::exception& e) {
    return failure("storing an inbound message", e);
  }
}

Result<std::vector<InboundRow>> list(SQLite::Database& db, const InboundQuery& q) {
  try {
    SQLite::Statement s(db, fmt::format("SELECT {} FROM inbound WHERE id > ?1{} ORDER BY id LIMIT ?3", kListColumns,
                                        q.route ? " AND route = ?2" : ""));
    s.bind(1, q.after_id);
    if (q.route) s.bind(2, std::string(inbound_route_name(*q.route)));
    s.bind(3, static_cast<std::int64_t>(q.limit));
    std::vector<InboundRow> out;
    while (s.executeStep()) out.push_back(read_row(s));
    return out;
  } catch (const std::exception& e) {
    return failure("listing inbound messages", e);
  }
}

Result<std::optional<InboundRow>> find(SQLite::Database& db, std::int64_t id) {
  try {
    return select_one(db, "id = ?", id, true);
  } catch (const std::exception& e) {
    return failure("reading an inbound message", e);
  }
}

Result<AttachResult> attach(SQLite::Database& db, std::int64_t id, std::int64_t case_id, const std::string& author,
                            Instant now) {
  try {
    SQLite::Transaction tx(db);
    auto row = select_one(db, "id = ?", id, false);
    if (!row) return AttachResult::kNoMessage;
    if (row->route != InboundRoute::kUnmatched) return AttachResult::kNotUnmatched;
    {
      SQLite::Statement exists(db, "SELECT 1 FROM cases WHERE id = ?");
      exists.bind(1, case_id);
      if (!exists.executeStep()) return AttachResult::kNoCase;
    }
    add_to_case(db, case_id, *row, 0, now);
    SQLite::Statement routed(db, "UPDATE inbound SET route = 'case', case_id = ?, reason = ? WHERE id = ?");
    routed.bind(1, case_id);
    routed.bind(2, fmt::format("{}; attached to case {}{}", row->reason, case_id,
                               author.empty() ? "" : fmt::format(" by {}", author)));
    routed.bind(3, id);
    routed.exec();
    tx.commit();
    return AttachResult::kAttached;
  } catch (const std::exception& e) {
    return failure("attaching an inbound message to a case", e);
  }
}

}  // namespace gw::sqlite_inbound
