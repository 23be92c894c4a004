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

// Creates the cases tables if they are missing.
void create_schema(SQLite::Database& db);

Result<std::int64_t> take_escalation(SQLite::Database& db, const OutboxItem& item, Instant now, bool client_checkin);
Result<std::vector<CaseRow>> list(SQLite::Database& db, const CaseQuery& q);
Result<std::optional<CaseRow>> find(SQLite::Database& db, std::int64_t id);
Result<std::vector<CaseEntry>> timeline(SQLite::Database& db, std::int64_t id);
Result<std::vector<CaseChange>> changes(SQLite::Database& db, std::int64_t after_id, std::size_t limit);
Result<bool> update(SQLite::Database& db, std::int64_t id, const CaseUpdate& u, Instant now);
Result<bool> add_note(SQLite::Database& db, std::int64_t id, const std::string& author, const std::string& text,
                      Instant now);

}  // namespace gw::sqlite_cases
