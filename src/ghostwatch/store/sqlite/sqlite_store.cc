#include "ghostwatch/store/sqlite/sqlite_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "ghostwatch/store/log_rows.h"
#include "ghostwatch/store/sqlite/sqlite_cases.h"
#include "ghostwatch/store/sqlite/sqlite_inbound.h"
#include "ghostwatch/store/sqlite/sqlite_support.h"

namespace gw {
namespace {

using sqlite_support::column_text;
using sqlite_support::failure;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- One row per run of accepted event lines of one request (joined by '\n',
-- which no line holds), or per clock tick / advance: one B-tree append per
-- request instead of one per event.
CREATE TABLE IF NOT EXISTS log(
  seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, at INTEGER NOT NULL, entries INTEGER NOT NULL,
  lines TEXT NOT NULL);
-- The service's latest snapshot (rows.h, SnapshotWrite): one row at most.
CREATE TABLE IF NOT EXISTS snapshots(
  id INTEGER PRIMARY KEY CHECK(id = 1), through_row INTEGER NOT NULL, taken_at INTEGER NOT NULL,
  bytes BLOB NOT NULL, log_compacted INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejects(
  id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, line INTEGER NOT NULL,
  reason TEXT NOT NULL, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS decisions(
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, contract TEXT NOT NULL, episode INTEGER NOT NULL,
  step INTEGER NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, freelancer TEXT NOT NULL,
  client TEXT NOT NULL, arm TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
  UNIQUE(contract, episode, step));
-- Closed episodes only, appended as they close: id is the closing order.
-- Open episodes live in the engine's state (the service answers for them),
-- so an episode is written once, by one append, and never updated. risk is
-- the risk model's score at opening, NULL when none scored it.
CREATE TABLE IF NOT EXISTS episodes(
  id INTEGER PRIMARY KEY, contract TEXT NOT NULL, episode INTEGER NOT NULL,
  freelancer TEXT NOT NULL, client TEXT NOT NULL, arm TEXT NOT NULL, in_segment INTEGER NOT NULL,
  opened_at INTEGER NOT NULL, closed_at INTEGER NOT NULL, outcome TEXT NOT NULL, steps_sent INTEGER NOT NULL,
  has_end_reason INTEGER NOT NULL, end_reason TEXT NOT NULL, risk REAL,
  UNIQUE(contract, episode));
CREATE INDEX IF NOT EXISTS episodes_by_freelancer ON episodes(freelancer);
-- Every sent decision, until delivery is done with it; times are ms since
-- the epoch, NULL for "never".
CREATE TABLE IF NOT EXISTS outbox(
  decision_id INTEGER NOT NULL REFERENCES decisions(id), channel TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0, first_attempt_at INTEGER, done_at INTEGER,
  message_id TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(decision_id, channel));
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox(state, next_attempt_at);
-- Contact details from user events (the engine keeps only what its rules read).
CREATE TABLE IF NOT EXISTS users(id TEXT PRIMARY KEY, email TEXT, name TEXT, country TEXT, role TEXT);
CREATE TABLE IF NOT EXISTS idempotency(
  key TEXT PRIMARY KEY, request_sha256 TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
  created_at INTEGER NOT NULL);
)sql";

constexpr const char* kDecisionColumns =
    "id, at, contract, episode, step, action, target, freelancer, client, arm, status, reason";
constexpr const char* kEpisodeColumns =
    "id, contract, episode, freelancer, client, arm, in_segment, opened_at, closed_at, outcome, steps_sent, "
    "has_end_reason, end_reason, risk";

template <typename T>
T must(std::optional<T> v, const char* what) {
  if (!v) throw SQLite::Exception(fmt::format("store: unreadable {} in database", what));
  return *v;
}

Instant instant_or_none(const SQLite::Column& c) { return c.isNull() ? kNoInstant : c.getInt64(); }

void bind_instant(SQLite::Statement& s, int i, Instant at) {
  if (at == kNoInstant) {
    s.bind(i);
  } else {
    s.bind(i, at);
  }
}

DecisionRow read_decision(SQLite::Statement& s) {
  DecisionRow r;
  r.id = s.getColumn(0).getInt64();
  r.at = s.getColumn(1).getInt64();
  r.contract = column_text(s.getColumn(2));
  r.episode = static_cast<std::uint32_t>(s.getColumn(3).getInt64());
  r.step = static_cast<std::uint32_t>(s.getColumn(4).getInt64());
  r.action = must(parse_step_action(column_text(s.getColumn(5))), "action");
  r.target = column_text(s.getColumn(6));
  r.freelancer = column_text(s.getColumn(7));
  r.client = column_text(s.getColumn(8));
  r.arm = must(parse_arm(column_text(s.getColumn(9))), "arm");
  r.status = must(parse_decision_status(column_text(s.getColumn(10))), "status");
  r.reason = must(parse_decision_reason(column_text(s.getColumn(11))), "reason");
  return r;
}

EpisodeRow read_episode(SQLite::Statement& s) {
  EpisodeRow r;
  r.id = s.getColumn(0).getInt64();
  r.contract = column_text(s.getColumn(1));
  r.episode = static_cast<std::uint32_t>(s.getColumn(2).getInt64());
  r.freelancer = column_text(s.getColumn(3));
  r.client = column_text(s.getColumn(4));
  r.arm = must(parse_arm(column_text(s.getColumn(5))), "arm");
  r.in_segment = s.getColumn(6).getInt() != 0;
  r.opened_at = s.getColumn(7).getInt64();
  r.closed_at = s.getColumn(8).isNull() ? kNoInstant : s.getColumn(8).getInt64();
  r.outcome = must(parse_outcome(column_text(s.getColumn(9))), "outcome");
  r.steps_sent = static_cast<std::uint32_t>(s.getColumn(10).getInt64());
  r.has_end_reason = s.getColumn(11).getInt() != 0;
  r.end_reason = column_text(s.getColumn(12));
  r.risk = s.getColumn(13).isNull() ? -1.0f : static_cast<float>(s.getColumn(13).getDouble());
  return r;
}

// Binds as TEXT (ids sort by their bytes as TEXT); `v` must outlive exec.
void bind_text(SQLite::Statement& s, int i, const std::string& v) { s.bindNoCopy(i, v); }

// A WHERE clause and its parameters, built from a query's filters.
struct Filter {
  std::string where;
  std::vector<std::string> texts;  // bound in order as ?1, ?2, ...
  std::vector<std::int64_t> ints;  // bound after the texts
  std::vector<bool> is_text;

  void add(const std::string& clause, std::string v) {
    where += (where.empty() ? " WHERE " : " AND ") + clause;
    texts.push_back(std::move(v));
    is_text.push_back(true);
  }
  void add(const std::string& clause, std::int64_t v) {
    where += (where.empty() ? " WHERE " : " AND ") + clause;
    ints.push_back(v);
    is_text.push_back(false);
  }
  void add(const std::string& clause) { where += (where.empty() ? " WHERE " : " AND ") + clause; }
  void bind(SQLite::Statement& s) const {
    std::size_t t = 0, n = 0;
    for (std::size_t i = 0; i < is_text.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      if (is_text[i]) {
        s.bind(index, texts[t++]);
      } else {
        s.bind(index, ints[n++]);
      }
    }
  }
};

Filter episode_filter(const EpisodeQuery& q, bool with_cursor) {
  Filter f;
  if (!q.freelancer.empty()) f.add("freelancer = ?", q.freelancer);
  if (!q.contract.empty()) f.add("contract = ?", q.contract);
  if (q.arm) f.add("arm = ?", std::string(arm_name(*q.arm)));
  if (q.opened_since) f.add("opened_at >= ?", *q.opened_since);
  if (with_cursor) f.add("id > ?", q.after_id);
  return f;
}

Filter decision_filter(const DecisionQuery& q, bool with_cursor) {
  Filter f;
  if (q.status) f.add("status = ?", std::string(decision_status_name(*q.status)));
  if (q.action) f.add("action = ?", std::string(step_action_name(*q.action)));
  if (!q.contract.empty()) f.add("contract = ?", q.contract);
  if (with_cursor) f.add("id > ?", q.since_id);
  return f;
}

std::unique_ptr<SQLite::Database> connect(const std::string& path, int flags) {
  auto db = std::make_unique<SQLite::Database>(path, flags);
  db->setBusyTimeout(10000);
  return db;
}

// Databases made before an escalation could have both a case and an e-mail
// (the client check-in) keyed the outbox by decision alone: the table is
// rebuilt keyed by (decision, channel), rows unchanged.
void migrate_outbox_key(SQLite::Database& db) {
  {
    SQLite::Statement pk(db, "SELECT pk FROM pragma_table_info('outbox') WHERE name = 'channel'");
    if (!pk.executeStep() || pk.getColumn(0).getInt() != 0) return;
  }
  SQLite::Transaction tx(db);
  db.exec("ALTER TABLE outbox RENAME TO outbox_by_decision");
  db.exec(kSchema);  // the new outbox table and its index
  db.exec("INSERT INTO outbox SELECT * FROM outbox_by_decision; DROP TABLE outbox_by_decision;");
  db.exec(kSchema);  // the index again: it had moved with the renamed table
  tx.commit();
}

void add_column_if_missing(SQLite::Database& db, const char* table, const char* column, const char* type) {
  SQLite::Statement has(db, fmt::format("SELECT 1 FROM pragma_table_info('{}') WHERE name = '{}'", table, column));
  if (!has.executeStep()) db.exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", table, column, type));
}

// Columns added since databases were first made: users.role and the index
// that finds a sender by address (inbound e-mail); users.opted_out and
// decisions.episode_opened_at (the bus workers, rows.h); episodes.risk
// (serve scoring risk; older episodes were not scored: NULL).
void migrate_columns(SQLite::Database& db) {
  add_column_if_missing(db, "users", "role", "TEXT");
  add_column_if_missing(db, "users", "opted_out", "INTEGER");
  add_column_if_missing(db, "decisions", "episode_opened_at", "INTEGER");
  add_column_if_missing(db, "episodes", "risk", "REAL");
  db.exec("CREATE INDEX IF NOT EXISTS users_by_email ON users(email COLLATE NOCASE)");
}

// Keeps `snapshot` as the latest, covering the log rows through the last
// one written (`wrote_log`: the batch wrote some), within the caller's
// transaction.
void write_snapshot(SQLite::Database& db, const SnapshotWrite& snapshot, Instant taken_at, bool wrote_log) {
  if (!wrote_log) throw std::logic_error("a snapshot without log rows of its batch covers nothing new");
  const std::int64_t through = db.getLastInsertRowid();
  SQLite::Statement keep(db,
                         "INSERT INTO snapshots(id, through_row, taken_at, bytes, log_compacted) VALUES(1, ?, ?, ?, ?) "
                         "ON CONFLICT(id) DO UPDATE SET through_row = excluded.through_row, taken_at = "
                         "excluded.taken_at, bytes = excluded.bytes, log_compacted = log_compacted OR "
                         "excluded.log_compacted");
  keep.bind(1, through);
  keep.bind(2, taken_at);
  keep.bind(3, snapshot.bytes.data(), static_cast<int>(snapshot.bytes.size()));
  keep.bind(4, snapshot.compact_log ? 1 : 0);
  keep.exec();
  if (!snapshot.compact_log) return;
  SQLite::Statement drop(db, "DELETE FROM log WHERE seq < ?");
  drop.bind(1, through);
  drop.exec();
}

// The writer's connection: WAL (readers never block it), and a commit is on
// disk when it returns.
SQLite::Database open_writer(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
  db.setBusyTimeout(10000);
  // A 256 MiB page cache (allocated as used) keeps the indexes' hot pages
  // out of pread(). A checkpoint every 8,000 WAL pages (32 MiB) instead of
  // SQLite's 1,000: each checkpoint is two more fsyncs, and a request of
  // 1,000 events writes a few hundred pages. Measured with
  // bench/serve_ingest: 94 k -> 116 k events/s, p99 25 -> 43 ms
  // (docs/benchmarks.md).
  db.exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-262144; "
      "PRAGMA wal_autocheckpoint=8000;");
  db.exec(kSchema);
  migrate_outbox_key(db);
  migrate_columns(db);
  sqlite_cases::create_schema(db);
  sqlite_inbound::create_schema(db);
  return db;
}

}  // namespace

struct SqliteStore::Writer {
  explicit Writer(const std::string& path)
      : db(open_writer(path)),
        log(db, "INSERT INTO log(kind, at, entries, lines) VALUES(?, ?, ?, ?)"),
        reject(db, "INSERT INTO rejects(received_at, line, reason, raw) VALUES(?, ?, ?, ?)"),
        closed(
            db,
            "INSERT INTO episodes(contract, episode, freelancer, client, arm, in_segment, opened_at, closed_at, "
            "outcome, steps_sent, has_end_reason, end_reason, risk, id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?)"),
        decision(db,
                 "INSERT INTO decisions(at, contract, episode, step, action, target, freelancer, client, arm, "
                 "status, reason, episode_opened_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        outbox(db, "INSERT INTO outbox(decision_id, channel) VALUES(?, ?)"),
        user(db,
             "INSERT INTO users(id, email, name, country, role, opted_out) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON "
             "CONFLICT(id) DO UPDATE SET email = COALESCE(?2, email), name = COALESCE(?3, name), country = "
             "COALESCE(?4, country), role = COALESCE(?5, role), opted_out = COALESCE(?6, opted_out)"),
        response(db, "INSERT INTO idempotency(key, request_sha256, status, body, created_at) VALUES(?, ?, ?, ?, ?)") {}

  SQLite::Database db;
  SQLite::Statement log, reject, closed, decision, outbox, user, response;
};

class SqliteStore::Reader {
 public:
  Reader(SqliteStore& store, std::unique_ptr<SQLite::Database> db) : store_(store), db_(std::move(db)) {}
  ~Reader() {
    std::lock_guard lock(store_.pool_mu_);
    store_.pool_.push_back(std::move(db_));
  }
  SQLite::Database& db() { return *db_; }

 private:
  SqliteStore& store_;
  std::unique_ptr<SQLite::Database> db_;
};

SqliteStore::SqliteStore(std::string path) : path_(std::move(path)) {}
SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  try {
    std::unique_ptr<SqliteStore> store(new SqliteStore(path));
    store->writer_ = std::make_unique<Writer>(path);
    return store;
  } catch (const std::exception& e) {
    return Status::error(fmt::format("store: cannot open SQLite database {}: {}", path, e.what()));
  }
}

SqliteStore::Reader SqliteStore::reader() {
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      auto db = std::move(pool_.back());
      pool_.pop_back();
      return Reader(*this, std::move(db));
    }
  }
  return Reader(*this, connect(path_, SQLite::OPEN_READONLY));
}

Status SqliteStore::commit(Batch& batch) {
  if (batch.has_partition_state()) {
    return Status::error("store: the event log's partitions need a PostgreSQL store");
  }
  std::lock_guard lock(writer_mu_);
  Writer& w = *writer_;
  try {
    SQLite::Transaction tx(w.db);
    for (const LogRow& row : log_rows(batch.log)) {
      w.log.reset();
      w.log.bind(1, static_cast<int>(row.kind));
      w.log.bind(2, row.at);
      w.log.bind(3, row.entries);
      bind_text(w.log, 4, row.text);
      w.log.exec();
    }
    if (batch.snapshot) write_snapshot(w.db, *batch.snapshot, batch.received_at, !batch.log.empty());
    for (const RejectRow& r : batch.rejects) {
      w.reject.reset();
      w.reject.bind(1, batch.received_at);
      w.reject.bind(2, static_cast<std::int64_t>(r.line));
      w.reject.bind(3, std::string(reject_reason_name(r.reason)));
      w.reject.bind(4, r.raw.data(), static_cast<int>(r.raw.size()));
      w.reject.exec();
    }
    for (const EpisodeRow& e : batch.episodes) {
      SQLite::Statement& s = w.closed;
      s.reset();
      bind_text(s, 1, e.contract);
      s.bind(2, static_cast<std::int64_t>(e.episode));
      bind_text(s, 3, e.freelancer);
      bind_text(s, 4, e.client);
      s.bind(5, std::string(arm_name(e.arm)));
      s.bind(6, e.in_segment ? 1 : 0);
      s.bind(7, e.opened_at);
      s.bind(8, e.closed_at);
      s.bind(9, std::string(outcome_name(e.outcome)));
      s.bind(10, static_cast<std::int64_t>(e.steps_sent));
      s.bind(11, e.has_end_reason ? 1 : 0);
      bind_text(s, 12, e.end_reason);
      if (e.risk >= 0) {
        s.bind(13, static_cast<double>(e.risk));
      } else {
        s.bind(13);  // NULL
      }
      s.bind(14, e.id);
      s.exec();
    }
    for (DecisionRow& d : batch.decisions) {
      SQLite::Statement& s = w.decision;
      s.reset();
      s.bind(1, d.at);
      bind_text(s, 2, d.contract);
      s.bind(3, static_cast<std::int64_t>(d.episode));
      s.bind(4, static_cast<std::int64_t>(d.step));
      s.bind(5, std::string(step_action_name(d.action)));
      bind_text(s, 6, d.target);
      bind_text(s, 7, d.freelancer);
      bind_text(s, 8, d.client);
      s.bind(9, std::string(arm_name(d.arm)));
      s.bind(10, std::string(decision_status_name(d.status)));
      s.bind(11, std::string(decision_reason_name(d.reason)));
      bind_instant(s, 12, d.episode_opened_at);
      s.exec();
      d.id = w.db.getLastInsertRowid();
      if (d.status != DecisionStatus::kSent) continue;
      w.outbox.reset();
      w.outbox.bind(1, d.id);
      w.outbox.bind(2, d.action == StepAction::kNudge ? "email" : "case");
      w.outbox.exec();
    }
    for (const UserContact& u : batch.users) {
      SQLite::Statement& s = w.user;
      s.reset();
      s.clearBindings();
      bind_text(s, 1, u.id);
      if (u.email) bind_text(s, 2, *u.email);
      if (u.name) bind_text(s, 3, *u.name);
      if (u.country) bind_text(s, 4, *u.country);
      if (u.role) bind_text(s, 5, *u.role);
      if (u.opted_out) s.bind(6, *u.opted_out ? 1 : 0);
      s.exec();
    }
    if (batch.response) {
      const IdempotentResponse& r = *batch.response;
      w.response.reset();
      w.response.bind(1, r.key);
      w.response.bind(2, r.request_sha256);
      w.response.bind(3, r.status);
      w.response.bind(4, r.body);
      w.response.bind(5, batch.received_at);
      w.response.exec();
    }
    tx.commit();
    return Status::ok();
  } catch (const std::exception& e) {
    return failure("commit failed, nothing of the batch was stored", e);
  }
}

Status SqliteStore::read_log(std::int64_t after_row, const std::function<Status(const LogEntry&)>& fn) {
  try {
    Reader r = reader();
    SQLite::Statement s(r.db(), "SELECT kind, at, entries, lines FROM log WHERE seq > ? ORDER BY seq");
    s.bind(1, after_row);
    while (s.executeStep()) {
      const SQLite::Column text = s.getColumn(3);
      Status st = for_each_log_entry(
          s.getColumn(0).getInt(), s.getColumn(1).getInt64(), s.getColumn(2).getInt64(),
          std::string_view(static_cast<const char*>(text.getBlob()), static_cast<std::size_t>(text.getBytes())), fn);
      if (!st) return st;
    }
    return Status::ok();
  } catch (const std::exception& e) {
    return failure("reading the log", e);
  }
}

Result<std::uint64_t> SqliteStore::log_size() {
  try {
    Reader r = reader();
    SQLite::Statement s(r.db(), "SELECT COALESCE(SUM(entries), 0) FROM log");
    s.executeStep();
    return static_cast<std::uint64_t>(s.getColumn(0).getInt64());
  } catch (const std::exception& e) {
    return failure("counting the log", e);
  }
}

Result<std::optional<IdempotentResponse>> SqliteStore::find_response(const std::string& key) {
  try {
    Reader r = reader();
    SQLite::Statement s(r.db(), "SELECT request_sha256, status, body FROM idempotency WHERE key = ?");
    s.bind(1, key);
    if (!s.executeStep()) return std::optional<IdempotentResponse>();
    IdempotentResponse resp;
    resp.key = key;
    resp.request_sha256 = column_text(s.getColumn(0));
    resp.status = s.getColumn(1).getInt();
    resp.body = column_text(s.getColumn(2));
    return std::optional<IdempotentResponse>(std::move(resp));
  } catch (const std::exception& e) {
    return failure("reading an idempotent response", e);
  }
}

Result<std::optional<StoredSnapshot>> SqliteStore::latest_snapshot() {
  try {
    Reader r = reader();
    SQLite::Statement s(r.db(), "SELECT through_row, bytes, log_compacted FROM snapshots");
    if (!s.executeStep()) return std::optional<StoredSnapshot>();
    return std::optional<StoredSnapshot>(
        StoredSnapshot{s.getColumn(0).getInt64(), column_text(s.getColumn(1)), s.getColumn(2).getInt() != 0});
  } catch (const std::exception& e) {
    return failure("reading the latest snapshot", e);
  }
}

Result<bool> SqliteStore::log_compacted() {
  try {
    Reader r = reader();
    SQLite::Statement s(r.db(), "SELECT log_compacted FROM snapshots");
    return s.executeStep() && s.getColumn(0).getInt() != 0;
  } catch (const std::exception& e) {
    return failure("reading whether the log was compacted", e);
  }
}

Result<std::optional<std::string>> SqliteStore::get_meta(const std::string& key) {
  try {
    Reader r = reader();
    SQLite::Statement s(r.db(), "SELECT value FROM meta WHERE key = ?");
    s.bind(1, key);
    if (!s.executeStep()) return std::optional<std::string>();
    return std::optional<std::string>(column_text(s.getColumn(0)));
  } catch (const std::exception& e) {
    return failure("reading meta", e);
  }
}

Status SqliteStore::set_meta(const std::string& key, const std::string& value) {
  std::lock_guard lock(writer_mu_);
  try {
    SQLite::Statement s(writer_->db,
                        "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.bind(1, key);
    s.bind(2, value);
    s.exec();
    return Status::ok();
  } catch (const std::exception& e) {
    return failure("writing meta", e);
  }
}

Result<std::vector<EpisodeRow>> SqliteStore::episodes(const EpisodeQuery& q) {
  if (q.state == EpisodeState::kOpen) return std::vector<EpisodeRow>();
  try {
    Reader r = reader();
    Filter f = episode_filter(q, true);
    SQLite::Statement s(r.db(), fmt::format("SELECT {} FROM episodes{} ORDER BY id LIMIT {}", kEpisodeColumns,
                                            f.where, q.limit));
    f.bind(s);
    std::vector<EpisodeRow> out;
    while (s.executeStep()) out.push_back(read_episode(s));
    return out;
  } catch (const std::exception& e) {
    return failure("querying episodes", e);
  }
}

Result<std::vector<DecisionRow>> SqliteStore::decisions(const DecisionQuery& q) {
  try {
    Reader r = reader();
    Filter f = decision_filter(q, true);
    SQLite::Statement s(r.db(), fmt::format("SELECT {} FROM decisions{} ORDER BY id LIMIT {}", kDecisionColumns,
                                            f.where, q.limit));
    f.bind(s);
    std::vector<DecisionRow> out;
    while (s.executeStep()) out.push_back(read_decision(s));
    return out;
  } catch (const std::exception& e) {
    return failure("querying decisions", e);
  }
}

Status SqliteStore::export_episodes(const EpisodeQuery& q, const std::function<void(const EpisodeRow&)>& fn) {
  if (q.state == EpisodeState::kOpen) return Status::ok();
  try {
    Reader r = reader();
    Filter f = episode_filter(q, false);
    const std::string bound = f.where.empty() ? " WHERE id <= ?" : f.where + " AND id <= ?";
    SQLite::Statement s(r.db(), fmt::format("SELECT {} FROM episodes{} ORDER BY id", kEpisodeColumns, bound));
    f.bind(s);
    s.bind(static_cast<int>(f.is_text.size()) + 1, q.through_id);
    while (s.executeStep()) fn(read_episode(s));
    return Status::ok();
  } catch (const std::exception& e) {
    return failure("exporting episodes", e);
  }
}

Result<std::vector<EpisodeRow>> SqliteStore::open_episodes(const EpisodeQuery&, std::optional<std::string_view>,
                                                           std::size_t) {
  return std::vector<EpisodeRow>();
}

Result<std::uint64_t> SqliteStore::open_episode_count() { return std::uint64_t{0}; }

Result<std::uint64_t> SqliteStore::contract_state_count() { return std::uint64_t{0}; }

Result<Store::PartitionTimes> SqliteStore::partition_times() { return PartitionTimes{}; }

Result<std::vector<ContractStateRow>> SqliteStore::contract_states(const std::vector<std::string>&) {
  return std::vector<ContractStateRow>();
}

Result<std::vector<UserStateRow>> SqliteStore::user_states(const std::vector<std::string>&) {
  return std::vector<UserStateRow>();
}

Status SqliteStore::export_decisions(const DecisionQuery& q, const std::function<void(const DecisionRow&)>& fn) {
  try {
    Reader r = reader();
    Filter f = decision_filter(q, false);
    SQLite::Statement s(r.db(), fmt::format("SELECT {} FROM decisions{} ORDER BY id", kDecisionColumns, f.where));
    f.bind(s);
    while (s.executeStep()) fn(read_decision(s));
    return Status::ok();
  } catch (const std::exception& e) {
    return failure("exporting decisions", e);
  }
}

Result<std::vector<StoredReject>> SqliteStore::rejects(std::int64_t after_id, std::size_t limit) {
  try {
    Reader r = reader();
    SQLite::Statement s(r.db(), fmt::format("SELECT id, received_at, line, reason, raw FROM rejects WHERE id > ? "
                                            "ORDER BY id LIMIT {}",
                                            limit));
    s.bind(1, after_id);
    std::vector<StoredReject> out;
    while (s.executeStep()) {
      StoredReject x;
      x.id = s.getColumn(0).getInt64();
      x.received_at = s.getColumn(1).getInt64();
      x.row.line = static_cast<std::uint64_t>(s.getColumn(2).getInt64());
      x.row.reason = must(parse_reject_reason(column_text(s.getColumn(3))), "reject reason");
      x.row.raw = column_text(s.getColumn(4));
      out.push_back(std::move(x));
    }
    return out;
  } catch (const std::exception& e) {
    return failure("querying rejects", e);
  }
}

Result<std::uint64_t> SqliteStore::outbox_depth() {
  try {
    Reader r = reader();
    SQLite::Statement s(r.db(), "SELECT COUNT(*) FROM outbox WHERE state = 'pending'");
    s.executeStep();
    return static_cast<std::uint64_t>(s.getColumn(0).getInt64());
  } catch (const std::exception& e) {
    return failure("counting the outbox", e);
  }
}

namespace {

constexpr const char* kOutboxSelect =
    "SELECT d.id, d.at, d.contract, d.episode, d.step, d.action, d.target, d.freelancer, d.client, d.arm, "
    "d.status, d.reason, o.channel, o.state, o.attempts, o.next_attempt_at, o.first_attempt_at, o.done_at, "
    "o.message_id, o.last_error, d.episode_opened_at FROM outbox o JOIN decisions d ON d.id = o.decision_id";

OutboxItem read_outbox_item(SQLite::Statement& s) {
  OutboxItem item;
  item.decision = read_decision(s);
  Delivery& d = item.delivery;
  d.decision_id = item.decision.id;
  d.channel = column_text(s.getColumn(12));
  d.state = must(parse_delivery_state(column_text(s.getColumn(13))), "delivery state");
  d.attempts = static_cast<std::uint32_t>(s.getColumn(14).getInt64());
  d.next_attempt_at = s.getColumn(15).getInt64();
  d.first_attempt_at = instant_or_none(s.getColumn(16));
  d.done_at = instant_or_none(s.getColumn(17));
  d.message_id = column_text(s.getColumn(18));
  d.last_error = column_text(s.getColumn(19));
  item.decision.episode_opened_at = instant_or_none(s.getColumn(20));
  return item;
}

}  // namespace

Result<std::vector<OutboxItem>> SqliteStore::due_outbox(std::string_view channel, Instant now, std::size_t limit) {
  try {
    Reader r = reader();
    SQLite::Statement s(r.db(), fmt::format("{} WHERE o.state = 'pending' AND o.channel = ? AND o.next_attempt_at <= ? "
                                            "ORDER BY o.next_attempt_at, o.decision_id LIMIT {}",
                                            kOutboxSelect, limit));
    s.bind(1, std::string(channel));
    s.bind(2, now);
    std::vector<OutboxItem> out;
    while (s.executeStep()) out.push_back(read_outbox_item(s));
    return out;
  } catch (const std::exception& e) {
    return failure("reading the due outbox", e);
  }
}

Result<std::vector<OutboxItem>> SqliteStore::outbox(std::optional<DeliveryState> state, std::int64_t after_id,
                                                    std::size_t limit) {
  try {
    Reader r = reader();
    // One more row than asked: a decision's entries (a case and an e-mail)
    // stay on one page, since the cursor is the decision id.
    SQLite::Statement s(r.db(), fmt::format("{} WHERE o.decision_id > ?{} ORDER BY o.decision_id, o.channel LIMIT {}",
                                            kOutboxSelect, state ? " AND o.state = ?" : "", limit + 1));
    s.bind(1, after_id);
    if (state) s.bind(2, std::string(delivery_state_name(*state)));
    std::vector<OutboxItem> out;
    while (s.executeStep()) out.push_back(read_outbox_item(s));
    if (out.size() > limit && out[limit].delivery.decision_id != out[limit - 1].delivery.decision_id) out.pop_back();
    return out;
  } catch (const std::exception& e) {
    return failure("querying the outbox", e);
  }
}

Status SqliteStore::record_delivery(const Delivery& d) {
  std::lock_guard lock(writer_mu_);
  try {
    SQLite::Statement s(writer_->db,
                        "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, first_attempt_at = ?, "
                        "done_at = ?, message_id = ?, last_error = ? WHERE decision_id = ? AND channel = ?");
    s.bind(1, std::string(delivery_state_name(d.state)));
    s.bind(2, static_cast<std::int64_t>(d.attempts));
    s.bind(3, d.next_attempt_at);
    bind_instant(s, 4, d.first_attempt_at);
    bind_instant(s, 5, d.done_at);
    s.bind(6, d.message_id);
    s.bind(7, d.last_error);
    s.bind(8, d.decision_id);
    s.bind(9, d.channel);
    if (s.exec() != 1) {
      return Status::error(fmt::format("store: no {} outbox entry for decision {}", d.channel, d.decision_id));
    }
    return Status::ok();
  } catch (const std::exception& e) {
    return failure("recording a delivery", e);
  }
}

namespace {

UserContact read_contact(SQLite::Statement& s) {
  UserContact u;
  u.id = column_text(s.getColumn(0));
  u.email = column_text(s.getColumn(1));
  u.name = column_text(s.getColumn(2));
  u.country = column_text(s.getColumn(3));
  u.role = column_text(s.getColumn(4));
  u.opted_out = s.getColumn(5).getInt() != 0;
  return u;
}

constexpr const char* kContactColumns = "id, email, name, country, role, opted_out";

}  // namespace

Result<std::vector<UserContact>> SqliteStore::user_contacts(const std::vector<std::string>& ids) {
  try {
    Reader r = reader();
    SQLite::Statement s(r.db(), fmt::format("SELECT {} FROM users WHERE id = ?", kContactColumns));
    std::vector<UserContact> out;
    for (const std::string& id : ids) {
      s.reset();
      s.bind(1, id);
      if (s.executeStep()) out.push_back(read_contact(s));
    }
    return out;
  } catch (const std::exception& e) {
    return failure("reading users' contact details", e);
  }
}

Result<std::vector<UserContact>> SqliteStore::users_with_email(const std::string& address) {
  try {
    Reader r = reader();
    SQLite::Statement s(
        r.db(), fmt::format("SELECT {} FROM users WHERE email = ? COLLATE NOCASE ORDER BY id", kContactColumns));
    s.bind(1, address);
    std::vector<UserContact> out;
    while (s.executeStep()) out.push_back(read_contact(s));
    return out;
  } catch (const std::exception& e) {
    return failure("finding users by e-mail address", e);
  }
}

Result<std::int64_t> SqliteStore::take_escalation(const OutboxItem& item, Instant now, bool client_checkin) {
  std::lock_guard lock(writer_mu_);
  return sqlite_cases::take_escalation(writer_->db, item, now, client_checkin);
}

Result<std::vector<CaseRow>> SqliteStore::cases(const CaseQuery& q) {
  Reader r = reader();
  return sqlite_cases::list(r.db(), q);
}

Result<std::optional<CaseRow>> SqliteStore::find_case(std::int64_t id) {
  Reader r = reader();
  return sqlite_cases::find(r.db(), id);
}

Result<std::vector<CaseEntry>> SqliteStore::case_timeline(std::int64_t id) {
  Reader r = reader();
  return sqlite_cases::timeline(r.db(), id);
}

Result<std::vector<CaseChange>> SqliteStore::case_changes(std::int64_t after_id, std::size_t limit) {
  Reader r = reader();
  return sqlite_cases::changes(r.db(), after_id, limit);
}

Result<bool> SqliteStore::update_case(std::int64_t id, const CaseUpdate& u, Instant now) {
  std::lock_guard lock(writer_mu_);
  return sqlite_cases::update(writer_->db, id, u, now);
}

Result<bool> SqliteStore::add_case_note(std::int64_t id, const std::string& author, const std::string& text,
                                        Instant now) {
  std::lock_guard lock(writer_mu_);
  return sqlite_cases::add_note(writer_->db, id, author, text, now);
}

Result<std::optional<InboundRow>> SqliteStore::find_inbound_by_key(const std::string& dedupe_key) {
  Reader r = reader();
  return sqlite_inbound::find_by_key(r.db(), dedupe_key);
}

Result<InboundTaken> SqliteStore::take_inbound(const InboundRow& row, const CaseTarget* target, Instant now) {
  std::lock_guard lock(writer_mu_);
  return sqlite_inbound::take(writer_->db, row, target, now);
}

Result<std::vector<InboundRow>> SqliteStore::inbound(const InboundQuery& q) {
  Reader r = reader();
  return sqlite_inbound::list(r.db(), q);
}

Result<std::optional<InboundRow>> SqliteStore::find_inbound(std::int64_t id) {
  Reader r = reader();
  return sqlite_inbound::find(r.db(), id);
}

Result<AttachResult> SqliteStore::attach_inbound(std::int64_t id, std::int64_t case_id, const std::string& author,
                                                 Instant now) {
  std::lock_guard lock(writer_mu_);
  return sqlite_inbound::attach(writer_->db, id, case_id, author, now);
}

}  // namespace gw
