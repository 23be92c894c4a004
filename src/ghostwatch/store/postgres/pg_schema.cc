#include "ghostwatch/store/postgres/pg_schema.h"

#include <fmt/format.h>

#include <array>

namespace gw::pg {
namespace {

// Never edit a migration that has shipped: add a new one.
constexpr std::array<const char*, 9> kMigrations = {
    // 1: the service's tables, cases and inbound e-mail.
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The operation log: a run of event lines per row (entries of them), or one
-- clock tick, advance, reload or bounce.
CREATE TABLE log(
  seq BIGSERIAL PRIMARY KEY, kind INTEGER NOT NULL, at BIGINT NOT NULL, entries BIGINT NOT NULL,
  lines TEXT NOT NULL);
CREATE TABLE rejects(
  id BIGSERIAL PRIMARY KEY, received_at BIGINT NOT NULL, line BIGINT NOT NULL, reason TEXT NOT NULL,
  raw BYTEA NOT NULL);
CREATE TABLE decisions(
  id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, contract TEXT NOT NULL, episode BIGINT NOT NULL,
  step BIGINT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, freelancer TEXT NOT NULL,
  client TEXT NOT NULL, arm TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
  UNIQUE(contract, episode, step));
-- Closed episodes only; id is the closing order, given by the service.
CREATE TABLE episodes(
  id BIGINT PRIMARY KEY, contract TEXT NOT NULL, episode BIGINT NOT NULL, freelancer TEXT NOT NULL,
  client TEXT NOT NULL, arm TEXT NOT NULL, in_segment BOOLEAN NOT NULL, opened_at BIGINT NOT NULL,
  closed_at BIGINT NOT NULL, outcome TEXT NOT NULL, steps_sent BIGINT NOT NULL, has_end_reason BOOLEAN NOT NULL,
  end_reason TEXT NOT NULL, UNIQUE(contract, episode));
CREATE INDEX episodes_by_freelancer ON episodes(freelancer);
CREATE TABLE outbox(
  decision_id BIGINT NOT NULL REFERENCES decisions(id), channel TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0, first_attempt_at BIGINT, done_at BIGINT,
  message_id TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(decision_id, channel));
CREATE INDEX outbox_by_state ON outbox(state, next_attempt_at);
CREATE TABLE users(id TEXT PRIMARY KEY, email TEXT, name TEXT, country TEXT, role TEXT);
CREATE INDEX users_by_email ON users(lower(email));
CREATE TABLE idempotency(
  key TEXT PRIMARY KEY, request_sha256 TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
  created_at BIGINT NOT NULL);
CREATE TABLE cases(
  id BIGSERIAL PRIMARY KEY, team TEXT NOT NULL, contract TEXT NOT NULL, episode BIGINT NOT NULL,
  freelancer TEXT NOT NULL, client TEXT NOT NULL, status TEXT NOT NULL, outcome TEXT NOT NULL DEFAULT '',
  assignee TEXT NOT NULL DEFAULT '', opened_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE UNIQUE INDEX cases_by_contract ON cases(contract, team) WHERE contract <> '';
CREATE UNIQUE INDEX cases_by_freelancer ON cases(freelancer, team) WHERE contract = '';
CREATE INDEX cases_by_client ON cases(client);
CREATE TABLE case_entries(
  id BIGSERIAL PRIMARY KEY, case_id BIGINT NOT NULL REFERENCES cases(id), at BIGINT NOT NULL,
  kind TEXT NOT NULL, episode BIGINT NOT NULL DEFAULT 0, author TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX case_escalations ON case_entries(case_id, episode) WHERE kind = 'escalated';
CREATE INDEX case_entries_by_case ON case_entries(case_id, at);
CREATE TABLE inbound(
  id BIGSERIAL PRIMARY KEY, received_at BIGINT NOT NULL, dedupe_key TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL, from_address TEXT NOT NULL, from_name TEXT NOT NULL, subject TEXT NOT NULL,
  text TEXT NOT NULL, auto_reply BOOLEAN NOT NULL, bounce BOOLEAN NOT NULL, route TEXT NOT NULL,
  case_id BIGINT NOT NULL DEFAULT 0, reason TEXT NOT NULL, raw BYTEA NOT NULL);
CREATE INDEX inbound_by_route ON inbound(route, id);
)sql",
    // 2: the event log's publish side (bus/, docs/operations.md): each
    // contract's partition and what the state rules need of it, and the
    // log's position (the last line's sequence number and the running
    // maximum event time), one row updated under a row lock.
    R"sql(
CREATE TABLE contract_partitions(
  contract TEXT PRIMARY KEY, partition INTEGER NOT NULL, client TEXT NOT NULL, freelancer TEXT NOT NULL,
  ended BOOLEAN NOT NULL DEFAULT false);
CREATE TABLE bus_position(
  id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, watermark BIGINT NOT NULL, partitions INTEGER NOT NULL);
INSERT INTO bus_position(id, seq, watermark, partitions) VALUES (1, 0, -9223372036854775808, 0);
)sql",
    // 3: the workers (docs/operations.md, "Workers"). Each partition of the
    // event log has its own operation log (log.partition; -1 is the log of
    // a single serve without a bus) and its position in the stream; closed
    // episodes of partitions take ids from a sequence; workers say they are
    // alive, so that partitions spread over the live ones. What delivery needs
    // from the engine is stored for it (rows.h): opt-outs and when a
    // decision's episode opened.
    R"sql(
ALTER TABLE log ADD COLUMN partition INTEGER NOT NULL DEFAULT -1;
CREATE INDEX log_by_partition ON log(partition, seq);
ALTER TABLE episodes ADD COLUMN partition INTEGER NOT NULL DEFAULT -1;
CREATE SEQUENCE episode_ids;
SELECT setval('episode_ids', GREATEST(1, (SELECT COALESCE(MAX(id), 0) FROM episodes)), (SELECT COUNT(*) > 0 FROM episodes));
ALTER TABLE users ADD COLUMN opted_out BOOLEAN;
ALTER TABLE decisions ADD COLUMN episode_opened_at BIGINT;
CREATE TABLE partition_positions(
  partition INTEGER PRIMARY KEY, stream_seq BIGINT NOT NULL DEFAULT 0, epoch BIGINT NOT NULL DEFAULT 0);
CREATE TABLE workers(
  id TEXT PRIMARY KEY, seen_at TIMESTAMPTZ NOT NULL, partitions TEXT NOT NULL DEFAULT '',
  delivery BOOLEAN NOT NULL DEFAULT false);
)sql",
    // 4: each closed episode's risk score at opening (serve --model,
    // docs/risk-model.md); NULL when no model scored it.
    R"sql(
ALTER TABLE episodes ADD COLUMN risk DOUBLE PRECISION;
)sql",
    // 5: the episodes the partitions hold open (store.h, "Open episodes"),
    // written with each partition's batch: one per contract at most, in
    // byte order of contract ids as the API lists them.
    R"sql(
CREATE TABLE open_episodes(
  contract TEXT COLLATE "C" PRIMARY KEY, partition INTEGER NOT NULL, episode BIGINT NOT NULL,
  freelancer TEXT NOT NULL, client TEXT NOT NULL, arm TEXT NOT NULL, in_segment BOOLEAN NOT NULL,
  opened_at BIGINT NOT NULL, steps_sent BIGINT NOT NULL, risk DOUBLE PRECISION);
CREATE INDEX open_episodes_by_partition ON open_episodes(partition);
CREATE INDEX open_episodes_by_freelancer ON open_episodes(freelancer);
)sql",
    // 6: the event log's messages in order per partition (bus/bus_ledger.h):
    // each partition's last Gw-Partition-Seq given, the messages recorded
    // and not yet acknowledged by JetStream, and how far each partition's
    // worker applied them.
    R"sql(
ALTER TABLE bus_position ADD COLUMN partition_seqs BIGINT[] NOT NULL DEFAULT '{}';
CREATE TABLE bus_pending(
  partition INTEGER NOT NULL, partition_seq BIGINT NOT NULL, seq BIGINT NOT NULL, watermark BIGINT NOT NULL,
  msg_id TEXT NOT NULL, control TEXT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY(partition, partition_seq));
CREATE INDEX bus_pending_in_order ON bus_pending(seq, partition);
ALTER TABLE partition_positions ADD COLUMN partition_seq BIGINT NOT NULL DEFAULT 0;
)sql",
    // 7: the state of the partitions' contracts and users (store.h,
    // "Partition state"), written with each partition's batch: a contract
    // as the API shows it (its open episode's tier too), and a user's
    // attributes as the engine reads them (without the segment and arm the
    // policy makes of them). Instants are NULL where the engine has none.
    R"sql(
CREATE TABLE contract_states(
  contract TEXT COLLATE "C" PRIMARY KEY, partition INTEGER NOT NULL, client TEXT NOT NULL,
  freelancer TEXT NOT NULL, last_freelancer_at BIGINT, last_client_at BIGINT, episodes BIGINT NOT NULL,
  ended BOOLEAN NOT NULL, open BOOLEAN NOT NULL, pending_since BIGINT, steps_sent BIGINT NOT NULL,
  tier INTEGER NOT NULL);
CREATE INDEX contract_states_by_partition ON contract_states(partition);
CREATE TABLE user_states(
  id TEXT COLLATE "C" PRIMARY KEY, country TEXT NOT NULL, kind TEXT NOT NULL, tz TEXT NOT NULL,
  opted_out BOOLEAN NOT NULL, bouncing BOOLEAN NOT NULL);
)sql",
    // 8: each operation log's latest snapshot of its service's state
    // (rows.h, SnapshotWrite; partition -1: a single serve's log), covering
    // the log rows through through_row; log_compacted once one deleted rows.
    R"sql(
CREATE TABLE snapshots(
  partition INTEGER PRIMARY KEY, through_row BIGINT NOT NULL, taken_at BIGINT NOT NULL, bytes BYTEA NOT NULL,
  log_compacted BOOLEAN NOT NULL);
)sql",
    // 9: each partition's event time as of its last batch (rows.h,
    // PartitionFence), so that every worker's dashboard knows "now" under
    // --clock events; NULL where the partition has none.
    R"sql(
ALTER TABLE partition_positions ADD COLUMN watermark BIGINT, ADD COLUMN evaluated_through BIGINT;
)sql",
};

// Any fixed number: the key of the advisory lock migrations take turns on.
constexpr std::int64_t kMigrationLock = 0x67686f737477;  // "ghostw"

}  // namespace

int latest_schema_version() { return static_cast<int>(kMigrations.size()); }

Result<int> migrate(pqxx::connection& conn) {
  try {
    {
      pqxx::nontransaction setup(conn);
      setup.exec0(
          "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT "
          "NULL DEFAULT now())");
    }
    for (;;) {
      pqxx::work tx(conn);
      tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
      const int current = tx.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0].as<int>();
      if (current > latest_schema_version()) {
        return Status::error(fmt::format(
            "store: the database is at schema version {}, newer than this ghostwatch knows ({}): upgrade ghostwatch",
            current, latest_schema_version()));
      }
      if (current == latest_schema_version()) return current;
      tx.exec0(kMigrations[static_cast<std::size_t>(current)]);
      tx.exec_params0("INSERT INTO schema_migrations(version) VALUES($1)", current + 1);
      tx.commit();
    }
  } catch (const std::exception& e) {
    return Status::error(fmt::format("store: migrating the PostgreSQL schema failed: {}", e.what()));
  }
}

}  // namespace gw::pg
