// Opens the store a `--store` value names: `sqlite:PATH` (the embedded
// default) or `postgres://...` / `postgresql://...` (a PostgreSQL server;
// any libpq URI). Either way the schema is brought up to date first.
#pragma once

#include <memory>
#include <string>

#include "ghostwatch/core/status.h"
#include "ghostwatch/store/store.h"

namespace gw {

struct OpenedStore {
  std::unique_ptr<Store> store;
  std::string description;  // for logs: the SQLite path, or the PostgreSQL URI without its password
  int schema_version = 0;   // PostgreSQL's migration number; 0 for SQLite (no numbered migrations)
};

Result<OpenedStore> open_store(const std::string& spec);

}  // namespace gw
