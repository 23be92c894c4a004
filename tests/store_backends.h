// Test-only: the store contract tests run against every backend behind the
// Store interface: SQLite (a file in a temp dir) and PostgreSQL (a fresh
// database on the test cluster, pg_server.h). A StoreOpener opens the same
// store again after it was closed, for the tests of what survives.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "ghostwatch/store/postgres/postgres_store.h"
#include "ghostwatch/store/sqlite/sqlite_store.h"
#include "pg_server.h"
#include "serve_process.h"

namespace gw::test {

enum class Backend { kSqlite, kPostgres };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

#define GW_ALL_BACKENDS \
  ::testing::Values(::gw::test::Backend::kSqlite, ::gw::test::Backend::kPostgres), ::gw::test::backend_name

class StoreOpener {
 public:
  StoreOpener(Backend backend, const TempDir& dir) : backend_(backend) {
    if (backend == Backend::kSqlite) {
      where_ = dir.file("store.db");
    } else if (auto url = pg_database_url()) {
      where_ = *url;
    }
  }
  // False for PostgreSQL without a server: skip with kNoPostgres.
  bool available() const { return !where_.empty(); }
  std::unique_ptr<Store> open() const {
    if (backend_ == Backend::kSqlite) {
      auto s = SqliteStore::open(where_);
      EXPECT_TRUE(s.is_ok()) << s.message();
      return s ? std::unique_ptr<Store>(std::move(*s)) : nullptr;
    }
    auto s = PostgresStore::open(where_);
    EXPECT_TRUE(s.is_ok()) << s.message();
    return s ? std::unique_ptr<Store>(std::move(*s)) : nullptr;
  }
  // The same database, as the store of a bus worker's `partition`
  // (PostgreSQL only: nullptr for SQLite).
  std::unique_ptr<PostgresStore> open_partition(int partition) const {
    if (backend_ != Backend::kPostgres) return nullptr;
    auto s = PostgresStore::open(where_, partition);
    EXPECT_TRUE(s.is_ok()) << s.message();
    return s ? std::move(*s) : nullptr;
  }

 private:
  Backend backend_;
  std::string where_;
};

}  // namespace gw::test
