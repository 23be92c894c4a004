// Test-only: a PostgreSQL server for the store tests, and a fresh database
// on it per store. Under CTest the `postgres` fixture (tests/pg_cluster.sh)
// starts one cluster for the whole run and names it in the file that
// GHOSTWATCH_TEST_PG_FILE points at; a test binary run by hand starts its
// own cluster on first use and stops it at exit. Without PostgreSQL 15
// installed there is no server: pg_database_url() returns nullopt and the
// caller skips, naming the package.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "serve_process.h"

namespace gw::test {

class PgCluster {
 public:
  // The cluster's connection string (database "postgres"), or "" when none.
  static const std::string& conninfo() {
    static PgCluster cluster;
    return cluster.conninfo_;
  }

 private:
  PgCluster() {
    if (const char* file = std::getenv("GHOSTWATCH_TEST_PG_FILE")) {
      conninfo_ = trimmed(read_file(file));
      if (!conninfo_.empty()) return;
    }
    own_ = std::make_unique<TempDir>();
    const std::string script = std::string(GHOSTWATCH_SOURCE_DIR) + "/tests/pg_cluster.sh";
    if (std::system((script + " start " + own_->path() + " >/dev/null").c_str()) == 0) {
      conninfo_ = trimmed(read_file(own_->file("conninfo")));
    }
  }
  ~PgCluster() {
    if (own_) {
      const std::string script = std::string(GHOSTWATCH_SOURCE_DIR) + "/tests/pg_cluster.sh";
      [[maybe_unused]] int rc = std::system((script + " stop " + own_->path()).c_str());
    }
  }
  static std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  std::unique_ptr<TempDir> own_;
  std::string conninfo_;
};

// A new, empty database on the test cluster: its postgresql:// URI (what
// `--store` takes), or nullopt when there is no PostgreSQL server.
inline std::optional<std::string> pg_database_url() {
  const std::string& cluster = PgCluster::conninfo();
  if (cluster.empty()) return std::nullopt;
  static std::atomic<int> counter = 0;
  const std::string name = fmt::format("t_{}_{}", ::getpid(), counter++);
  pqxx::connection admin(cluster);
  pqxx::nontransaction tx(admin);
  tx.exec0("CREATE DATABASE " + name);
  return fmt::format("postgresql://{}@{}:{}/{}", admin.username(), admin.hostname(), admin.port(), name);
}

inline constexpr const char* kNoPostgres =
    "no PostgreSQL server for the tests: apt-get install postgresql-15 (tests/pg_cluster.sh)";

}  // namespace gw::test
