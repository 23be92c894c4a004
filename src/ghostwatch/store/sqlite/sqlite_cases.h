// The cases part of SqliteStore (store.h, cases.h): its tables and the SQL
// behind take_escalation and the case queries, on a connection the caller
// holds (the writer's, under its lock, for the writes). Each write is one
// transaction. Errors come back as Status, naming what failed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/store/cases.h"
#include "ghostwatch/store/rows.h"

namespace SQLite {
class Database;
}

namespace gw::sqlite_cases {

// Creates the cases tables if they are missing (and brings older ones up
// to date).
void create_schema(SQLite::Database& db);

// Inside the caller's transaction: the case `t` names (cases.h), opened
// with `now` as its opening time when there is none; 0 when t.case_id names
// no case.
std::int64_t find_or_open(SQLite::Database& db, const CaseTarget& t, Instant now);
// Inside the caller's transaction: appends `e` to case `id`'s timeline.
void add_entry(SQLite::Database& db, std::int64_t id, const CaseEntry& e);
// Inside the caller's transaction: a `pending` or `solved` case becomes
// `open` again, with a status entry at `now`; false when it was neither.
bool reopen(SQLite::Database& db, std::int64_t id, std::uint32_t episode, Instant now);

Result<std::int64_t> take_escalation(SQLite::Database& db, const OutboxItem& item, Instant now, bool client_checkin);
Result<std::vector<CaseRow>> list(SQLite::Database& db, const CaseQuery& q);
Result<std::optional<CaseRow>> find(SQLite::Database& db, std::int64_t id);
Result<std::vector<CaseEntry>> timeline(SQLite::Database& db, std::int64_t id);
Result<std::vector<CaseChange>> changes(SQLite::Database& db, std::int64_t after_id, std::size_t limit);
Result<bool> update(SQLite::Database& db, std::int64_t id, const CaseUpdate& u, Instant now);
Result<bool> add_note(SQLite::Database& db, std::int64_t id, const std::string& author, const std::string& text,
                      Instant now);

}  // namespace gw::sqlite_cases
