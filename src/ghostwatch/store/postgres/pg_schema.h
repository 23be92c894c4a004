// The PostgreSQL store's schema as numbered migrations, applied in order,
// each in its own transaction with its number recorded in
// schema_migrations, so a database is brought up to date at start (and by
// `ghostwatch migrate`) whatever version it was left at, and a migration is
// never applied twice. Several processes may migrate at once: an advisory
// lock makes them take turns.
#pragma once

#include <pqxx/pqxx>

#include "ghostwatch/core/status.h"

namespace gw::pg {

// The newest schema version this build knows.
int latest_schema_version();

// Applies every migration newer than the database's version; returns the
// version it is at afterwards. Refuses a database newer than this build.
Result<int> migrate(pqxx::connection& conn);

}  // namespace gw::pg
