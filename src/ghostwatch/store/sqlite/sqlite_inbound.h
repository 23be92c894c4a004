// The inbound e-mail part of SqliteStore (store.h, inbound.h): its table and
// the SQL behind taking a message (with the case entry it makes, in one
// transaction), the unmatched queue and attaching a message to a case, on a
// connection the caller holds (the writer's, under its lock, for writes).
// Errors come back as Status, naming what failed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/store/cases.h"
#include "ghostwatch/store/inbound.h"

namespace SQLite {
class Database;
}

namespace gw::sqlite_inbound {

// Creates the inbound table if it is missing.
void create_schema(SQLite::Database& db);

Result<std::optional<InboundRow>> find_by_key(SQLite::Database& db, const std::string& dedupe_key);
Result<InboundTaken> take(SQLite::Database& db, const InboundRow& row, const CaseTarget* target, Instant now);
Result<std::vector<InboundRow>> list(SQLite::Database& db, const InboundQuery& q);
Result<std::optional<InboundRow>> find(SQLite::Database& db, std::int64_t id);
Result<AttachResult> attach(SQLite::Database& db, std::int64_t id, std::int64_t case_id, const std::string& author,
                            Instant now);

}  // namespace gw::sqlite_inbound
