#include "ghostwatch/store/postgres/postgres_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <pqxx/pqxx>
#include <unordered_map>

#include "ghostwatch/store/log_rows.h"
#include "ghostwatch/store/postgres/pg_cases.h"
#include "ghostwatch/store/postgres/pg_partition_state.h"
#include "ghostwatch/store/postgres/pg_rows.h"
#include "ghostwatch/store/postgres/pg_schema.h"
#include "ghostwatch/store/postgres/pg_values.h"

namespace gw {
namespace pg {
namespace {

Status failure(const char* what, const std::exception& e) {
  return Status::error(fmt::format("store: {} failed: {}", what, e.what()));
}

// A WHERE clause and its parameters ($1, $2, ... as text; the server casts).
struct Filter {
  std::string where;
  std::vector<std::string> params;

  void add(const std::string& clause, std::string value) {
    params.push_back(std::move(value));
    where += fmt::format("{}{}${}", where.empty() ? " WHERE " : " AND ", clause, params.size());
  }
};

Filter episode_filter(const EpisodeQuery& q) {
  Filter f;
  if (!q.freelancer.empty()) f.add("freelancer = ", q.freelancer);
  if (!q.contract.empty()) f.add("contract = ", q.contract);
  if (q.arm) f.add("arm = ", std::string(arm_name(*q.arm)));
  if (q.opened_since) f.add("opened_at >= ", std::to_string(*q.opened_since));
  return f;
}

Filter decision_filter(const DecisionQuery& q) {
  Filter f;
  if (q.status) f.add("status = ", std::string(decision_status_name(*q.status)));
  if (q.action) f.add("action = ", std::string(step_action_name(*q.action)));
  if (!q.contract.empty()) f.add("contract = ", q.contract);
  return f;
}

constexpr const char* kOutboxSelect =
    "SELECT d.id, d.at, d.contract, d.episode, d.step, d.action, d.target, d.freelancer, d.client, d.arm, "
    "d.status, d.reason, o.channel, o.state, o.attempts, o.next_attempt_at, o.first_attempt_at, o.done_at, "
    "o.message_id, o.last_error, d.episode_opened_at FROM outbox o JOIN decisions d ON d.id = o.decision_id";

OutboxItem read_outbox_item(const pqxx::row& r) {
  OutboxItem item;
  item.decision = pg::read_decision(r);
  Delivery& d = item.delivery;
  d.decision_id = item.decision.id;
  d.channel = text(r[12]);
  const auto state = parse_delivery_state(text(r[13]));
  if (!state) throw std::runtime_error("store: unreadable delivery state in database");
  d.state = *state;
  d.attempts = static_cast<std::uint32_t>(int64(r[14]));
  d.next_attempt_at = int64(r[15]);
  d.first_attempt_at = pg::instant_or_none(r[16]);
  d.done_at = pg::instant_or_none(r[17]);
  d.message_id = text(r[18]);
  d.last_error = text(r[19]);
  item.decision.episode_opened_at = pg::instant_or_none(r[20]);
  return item;
}

UserContact read_contact(const pqxx::row& r) {
  return UserContact{text(r[0]), text(r[1]), text(r[2]), text(r[3]), text(r[4]), !r[5].is_null() && r[5].as<bool>()};
}

constexpr const char* kContactColumns = "id, email, name, country, role, opted_out";

// A partition's batch's open episodes (rows.h, OpenEpisodeChange): an
// upsert or a delete by contract, so that writing a change again is
// harmless; many rows to a statement (a batch names each contract once).
void write_open_episodes(pqxx::work& tx, const Batch& batch, int partition) {
  if (batch.open_episodes.empty() && !batch.replaces_open_episodes) return;
  if (partition < 0) throw std::logic_error("open episodes in a batch of no log partition");
  if (batch.replaces_open_episodes) tx.exec_params0("DELETE FROM open_episodes WHERE partition = $1", partition);
  StatementRows closed(tx, "DELETE FROM open_episodes WHERE contract IN (", ")");
  StatementRows open(tx,
                     "INSERT INTO open_episodes(contract, partition, episode, freelancer, client, arm, in_segment, "
                     "opened_at, steps_sent, risk) VALUES ",
                     " ON CONFLICT(contract) DO UPDATE SET partition = EXCLUDED.partition, episode = "
                     "EXCLUDED.episode, freelancer = EXCLUDED.freelancer, client = EXCLUDED.client, arm = "
                     "EXCLUDED.arm, in_segment = EXCLUDED.in_segment, opened_at = EXCLUDED.opened_at, steps_sent = "
                     "EXCLUDED.steps_sent, risk = EXCLUDED.risk");
  for (const OpenEpisodeChange& change : batch.open_episodes) {
    if (!change.open) {
      closed.add(closed.text(change.contract));
      continue;
    }
    const EpisodeRow& e = *change.open;
    open.add(fmt::format("({},{},{},{},{},{},{},{},{},{})", open.text(change.contract), partition, e.episode,
                         open.text(e.freelancer), open.text(e.client), open.text(arm_name(e.arm)),
                         StatementRows::boolean(e.in_segment), e.opened_at, e.steps_sent,
                         StatementRows::risk_or_null(e.risk)));
  }
  closed.flush();
  open.flush();
}

// A batch's closed episodes. In a partition's batch the id comes from the
// shared sequence; otherwise it is the service's closing order.
void write_episodes(pqxx::work& tx, const Batch& batch, int partition) {
  StatementRows rows(tx,
                     "INSERT INTO episodes(contract, episode, freelancer, client, arm, in_segment, opened_at, "
                     "closed_at, outcome, steps_sent, has_end_reason, end_reason, risk, partition, id) VALUES ");
  for (const EpisodeRow& e : batch.episodes) {
    rows.add(fmt::format("({},{},{},{},{},{},{},{},{},{},{},{},{},{},{})", rows.text(e.contract), e.episode,
                         rows.text(e.freelancer), rows.text(e.client), rows.text(arm_name(e.arm)),
                         StatementRows::boolean(e.in_segment), e.opened_at, e.closed_at,
                         rows.text(outcome_name(e.outcome)), e.steps_sent, StatementRows::boolean(e.has_end_reason),
                         rows.text(e.end_reason), StatementRows::risk_or_null(e.risk), partition,
                         partition < 0 ? std::to_string(e.id) : std::string("nextval('episode_ids')")));
  }
  rows.flush();
}

// A batch's decisions, each given its id (ascending in the batch's order),
// and an outbox entry for every sent one.
void write_decisions(pqxx::work& tx, Batch& batch) {
  if (batch.decisions.empty()) return;
  std::vector<std::int64_t> ids;
  for (const auto& r : tx.exec_params("SELECT nextval(pg_get_serial_sequence('decisions', 'id')) FROM "
                                      "generate_series(1, $1)",
                                      static_cast<std::int64_t>(batch.decisions.size()))) {
    ids.push_back(int64(r[0]));
  }
  std::sort(ids.begin(), ids.end());
  StatementRows decisions(tx,
                          "INSERT INTO decisions(id, at, contract, episode, step, action, target, freelancer, client, "
                          "arm, status, reason, episode_opened_at) VALUES ");
  StatementRows outbox(tx, "INSERT INTO outbox(decision_id, channel) VALUES ");
  for (std::size_t i = 0; i < batch.decisions.size(); ++i) {
    DecisionRow& d = batch.decisions[i];
    d.id = ids[i];
    decisions.add(fmt::format(
        "({},{},{},{},{},{},{},{},{},{},{},{},{})", d.id, d.at, decisions.text(d.contract), d.episode, d.step,
        decisions.text(step_action_name(d.action)), decisions.text(d.target), decisions.text(d.freelancer),
        decisions.text(d.client), decisions.text(arm_name(d.arm)), decisions.text(decision_status_name(d.status)),
        decisions.text(decision_reason_name(d.reason)), StatementRows::instant_or_null(d.episode_opened_at)));
    if (d.status == DecisionStatus::kSent) {
      outbox.add(fmt::format("({},'{}')", d.id, d.action == StepAction::kNudge ? "email" : "case"));
    }
  }
  decisions.flush();  // before the outbox, which refers to them
  outbox.flush();
}

// A batch's contact updates, one row per user (a batch may name a user
// twice: the later update's fields win, as they would one after the other),
// in a few multi-row statements. A field not given keeps what is stored.
void write_contacts(pqxx::work& tx, const Batch& batch) {
  std::vector<UserContact> merged;
  std::unordered_map<std::string_view, std::size_t> at;
  for (const UserContact& u : batch.users) {
    const auto [it, first] = at.try_emplace(u.id, merged.size());
    if (first) {
      merged.push_back(u);
      continue;
    }
    UserContact& m = merged[it->second];
    for (auto [given, kept] : {std::pair{&u.email, &m.email}, std::pair{&u.name, &m.name},
                               std::pair{&u.country, &m.country}, std::pair{&u.role, &m.role}}) {
      if (*given) *kept = *given;
    }
    if (u.opted_out) m.opted_out = u.opted_out;
  }
  StatementRows rows(tx, "INSERT INTO users(id, email, name, country, role, opted_out) VALUES ",
                     " ON CONFLICT(id) DO UPDATE SET email = COALESCE(EXCLUDED.email, users.email), name = "
                     "COALESCE(EXCLUDED.name, users.name), country = COALESCE(EXCLUDED.country, users.country), role "
                     "= COALESCE(EXCLUDED.role, users.role), opted_out = COALESCE(EXCLUDED.opted_out, "
                     "users.opted_out)");
  for (const UserContact& u : merged) {
    rows.add(fmt::format("({},{},{},{},{},{})", rows.text(u.id), rows.text_or_null(u.email), rows.text_or_null(u.name),
                         rows.text_or_null(u.country), rows.text_or_null(u.role),
                         u.opted_out ? StatementRows::boolean(*u.opted_out) : "NULL"));
  }
  rows.flush();
}

// Keeps `snapshot` as the latest of `partition`'s log, covering its rows
// through `last_row` (the batch's last; 0: it wrote none), within `tx`.
void write_snapshot(pqxx::work& tx, int partition, const SnapshotWrite& snapshot, Instant taken_at,
                    std::int64_t last_row) {
  if (last_row == 0) throw std::logic_error("a snapshot without log rows of its batch covers nothing new");
  tx.exec_params0(
      "INSERT INTO snapshots(partition, through_row, taken_at, bytes, log_compacted) VALUES($1, $2, $3, $4, $5) ON "
      "CONFLICT(partition) DO UPDATE SET through_row = EXCLUDED.through_row, taken_at = EXCLUDED.taken_at, bytes = "
      "EXCLUDED.bytes, log_compacted = snapshots.log_compacted OR EXCLUDED.log_compacted",
      partition, last_row, taken_at, pqxx::binarystring(snapshot.bytes.data(), snapshot.bytes.size()),
      snapshot.compact_log);
  if (snapshot.compact_log) {
    tx.exec_params0("DELETE FROM log WHERE partition = $1 AND seq < $2", partition, last_row);
  }
}

// A Status from a transaction whose value says nothing.
Status done(const Result<bool>& r) { return r ? Status::ok() : r.status(); }

}  // namespace
}  // namespace pg

using pg::int64;
using pg::text;

class PostgresStore::Lease {
 public:
  Lease(PostgresStore& store, std::unique_ptr<pqxx::connection> conn) : store_(store), conn_(std::move(conn)) {}
  Lease(Lease&&) = default;
  ~Lease() {
    if (!conn_ || !conn_->is_open()) return;
    std::lock_guard lock(store_.pool_mu_);
    store_.pool_.push_back(std::move(conn_));
  }
  pqxx::connection& conn() { return *conn_; }

 private:
  PostgresStore& store_;
  std::unique_ptr<pqxx::connection> conn_;
};

PostgresStore::Lease PostgresStore::lease() {
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      auto conn = std::move(pool_.back());
      pool_.pop_back();
      return Lease(*this, std::move(conn));
    }
  }
  return Lease(*this, std::make_unique<pqxx::connection>(url_));
}

template <typename T, typename F>
Result<T> PostgresStore::read(const char* what, F&& fn) {
  try {
    Lease c = lease();
    pqxx::nontransaction tx(c.conn());
    return T(fn(tx));
  } catch (const std::exception& e) {
    return pg::failure(what, e);
  }
}

template <typename T, typename F>
Result<T> PostgresStore::write(const char* what, F&& fn) {
  std::lock_guard lock(writer_mu_);
  try {
    Lease c = lease();
    pqxx::work tx(c.conn());
    T out = fn(tx);
    tx.commit();
    return out;
  } catch (const std::exception& e) {
    return pg::failure(what, e);
  }
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& url, int log_partition) {
  std::unique_ptr<PostgresStore> store(new PostgresStore(url, log_partition));
  try {
    Lease c = store->lease();
    if (auto version = pg::migrate(c.conn()); !version) return version.status();
  } catch (const std::exception& e) {
    return Status::error(fmt::format("store: cannot connect to PostgreSQL: {}", e.what()));
  }
  return store;
}

PostgresStore::~PostgresStore() = default;

Status PostgresStore::commit(Batch& batch) {
  return pg::done(write<bool>("commit (nothing of the batch was stored)", [&](pqxx::work& tx) {
    if (log_partition_ >= 0) {
      if (!batch.fence) throw std::logic_error("a batch of a log partition without its claim");
      const PartitionFence& fence = *batch.fence;
      const auto& through = fence.consumed_through;
      std::string watermark, evaluated;
      const pqxx::result moved = tx.exec_params(
          "UPDATE partition_positions SET stream_seq = COALESCE($1, stream_seq), partition_seq = COALESCE($2, "
          "partition_seq), watermark = $3, evaluated_through = $4 WHERE partition = $5 AND epoch = $6",
          through ? std::optional<std::int64_t>(static_cast<std::int64_t>(through->stream_seq)) : std::nullopt,
          through ? std::optional<std::int64_t>(static_cast<std::int64_t>(through->partition_seq)) : std::nullopt,
          pg::nullable_instant(fence.watermark, watermark), pg::nullable_instant(fence.evaluated_through, evaluated),
          log_partition_, static_cast<std::int64_t>(fence.epoch));
      if (moved.affected_rows() != 1) {
        throw std::runtime_error(
            fmt::format("partition {} was claimed by another worker since claim {} (this one lost its lease)",
                        log_partition_, batch.fence->epoch));
      }
    }
    std::int64_t last_row = 0;
    for (const LogRow& row : log_rows(batch.log)) {
      last_row = int64(tx.exec_params1(
          "INSERT INTO log(kind, at, entries, lines, partition) VALUES($1, $2, $3, $4, $5) RETURNING seq",
          static_cast<int>(row.kind), row.at, row.entries, row.text, log_partition_)[0]);
    }
    if (batch.snapshot) pg::write_snapshot(tx, log_partition_, *batch.snapshot, batch.received_at, last_row);
    pg::write_open_episodes(tx, batch, log_partition_);
    for (const RejectRow& r : batch.rejects) {
      tx.exec_params0("INSERT INTO rejects(received_at, line, reason, raw) VALUES($1, $2, $3, $4)", batch.received_at,
                      static_cast<std::int64_t>(r.line), std::string(reject_reason_name(r.reason)),
                      pqxx::binarystring(r.raw.data(), r.raw.size()));
    }
    pg::write_episodes(tx, batch, log_partition_);
    pg::write_decisions(tx, batch);
    pg::write_contacts(tx, batch);
    pg::write_contract_states(tx, batch, log_partition_);
    pg::write_user_states(tx, batch, log_partition_);
    if (batch.response) {
      const IdempotentResponse& r = *batch.response;
      tx.exec_params0(
          "INSERT INTO idempotency(key, request_sha256, status, body, created_at) VALUES($1, $2, $3, $4, $5)", r.key,
          r.request_sha256, r.status, r.body, batch.received_at);
    }
    return true;
  }));
}

Status PostgresStore::read_log(std::int64_t after_row, const std::function<Status(const LogEntry&)>& fn) {
  try {
    Lease c = lease();
    pqxx::read_transaction tx(c.conn());
    // Pages by seq, so a long log is not held in memory at once.
    for (std::int64_t after = after_row;;) {
      const pqxx::result page = tx.exec_params(
          "SELECT seq, kind, at, entries, lines FROM log WHERE partition = $1 AND seq > $2 ORDER BY "
          "seq LIMIT 1000",
          log_partition_, after);
      if (page.empty()) break;
      for (const auto& row : page) {
        after = int64(row[0]);
        Status st = for_each_log_entry(row[1].as<int>(), int64(row[2]), int64(row[3]),
                                       std::string_view(row[4].c_str(), row[4].size()), fn);
        if (!st) return st;
      }
    }
    return Status::ok();
  } catch (const std::exception& e) {
    return pg::failure("reading the log", e);
  }
}

Result<std::uint64_t> PostgresStore::log_size() {
  return read<std::uint64_t>("counting the log", [&](pqxx::transaction_base& tx) {
    return static_cast<std::uint64_t>(
        int64(tx.exec_params1("SELECT COALESCE(SUM(entries), 0) FROM log WHERE partition = $1", log_partition_)[0]));
  });
}

Result<std::optional<StoredSnapshot>> PostgresStore::latest_snapshot() {
  return read<std::optional<StoredSnapshot>>(
      "reading the latest snapshot", [&](pqxx::transaction_base& tx) -> std::optional<StoredSnapshot> {
        const pqxx::result r = tx.exec_params(
            "SELECT through_row, bytes, log_compacted FROM snapshots WHERE partition = $1", log_partition_);
        if (r.empty()) return std::nullopt;
        return StoredSnapshot{int64(r[0][0]), pg::bytes(r[0][1]), r[0][2].as<bool>()};
      });
}

Result<bool> PostgresStore::log_compacted() {
  return read<bool>("reading whether the log was compacted", [&](pqxx::transaction_base& tx) {
    const pqxx::result r = tx.exec_params("SELECT log_compacted FROM snapshots WHERE partition = $1", log_partition_);
    return !r.empty() && r[0][0].as<bool>();
  });
}

Result<PartitionClaim> PostgresStore::claim_partition() {
  return write<PartitionClaim>("claiming the log partition", [&](pqxx::work& tx) {
    tx.exec_params0("INSERT INTO partition_positions(partition) VALUES($1) ON CONFLICT DO NOTHING", log_partition_);
    const pqxx::row r = tx.exec_params1(
        "UPDATE partition_positions SET epoch = epoch + 1 WHERE partition = $1 RETURNING epoch, stream_seq, "
        "partition_seq",
        log_partition_);
    return PartitionClaim{
        static_cast<std::uint64_t>(int64(r[0])),
        PartitionPosition{static_cast<std::uint64_t>(int64(r[1])), static_cast<std::uint64_t>(int64(r[2]))}};
  });
}

Result<std::optional<IdempotentResponse>> PostgresStore::find_response(const std::string& key) {
  return read<std::optional<IdempotentResponse>>(
      "reading an idempotent response", [&](pqxx::transaction_base& tx) -> std::optional<IdempotentResponse> {
        const pqxx::result r =
            tx.exec_params("SELECT request_sha256, status, body FROM idempotency WHERE key = $1", key);
        if (r.empty()) return std::nullopt;
        return IdempotentResponse{key, text(r[0][0]), r[0][1].as<int>(), text(r[0][2])};
      });
}

Result<std::optional<std::string>> PostgresStore::get_meta(const std::string& key) {
  return read<std::optional<std::string>>(
      "reading meta", [&](pqxx::transaction_base& tx) -> std::optional<std::string> {
        const pqxx::result r = tx.exec_params("SELECT value FROM meta WHERE key = $1", key);
        if (r.empty()) return std::nullopt;
        return text(r[0][0]);
      });
}

Status PostgresStore::set_meta(const std::string& key, const std::string& value) {
  return pg::done(write<bool>("writing meta", [&](pqxx::work& tx) {
    tx.exec_params0("INSERT INTO meta(key, value) VALUES($1, $2) ON CONFLICT(key) DO UPDATE SET value = EXCLUDED.value",
                    key, value);
    return true;
  }));
}

Result<std::vector<EpisodeRow>> PostgresStore::episodes(const EpisodeQuery& q) {
  if (q.state == EpisodeState::kOpen) return std::vector<EpisodeRow>();
  return read<std::vector<EpisodeRow>>("querying episodes", [&](pqxx::transaction_base& tx) {
    pg::Filter f = pg::episode_filter(q);
    f.add("id > ", std::to_string(q.after_id));
    std::vector<EpisodeRow> out;
    for (const auto& r : tx.exec_params(
             fmt::format("SELECT {} FROM episodes{} ORDER BY id LIMIT {}", pg::kEpisodeColumns, f.where, q.limit),
             pqxx::prepare::make_dynamic_params(f.params))) {
      out.push_back(pg::read_episode(r));
    }
    return out;
  });
}

Result<std::vector<DecisionRow>> PostgresStore::decisions(const DecisionQuery& q) {
  return read<std::vector<DecisionRow>>("querying decisions", [&](pqxx::transaction_base& tx) {
    pg::Filter f = pg::decision_filter(q);
    f.add("id > ", std::to_string(q.since_id));
    std::vector<DecisionRow> out;
    for (const auto& r : tx.exec_params(
             fmt::format("SELECT {} FROM decisions{} ORDER BY id LIMIT {}", pg::kDecisionColumns, f.where, q.limit),
             pqxx::prepare::make_dynamic_params(f.params))) {
      out.push_back(pg::read_decision(r));
    }
    return out;
  });
}

Status PostgresStore::export_episodes(const EpisodeQuery& q, const std::function<void(const EpisodeRow&)>& fn) {
  try {
    Lease c = lease();
    // One snapshot for both tables: an episode that closes meanwhile is
    // either open or closed here, never both or neither.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c.conn());
    if (q.state != EpisodeState::kOpen) {
      pg::Filter f = pg::episode_filter(q);
      f.add("id <= ", std::to_string(q.through_id));
      for (const auto& r :
           tx.exec_params(fmt::format("SELECT {} FROM episodes{} ORDER BY id", pg::kEpisodeColumns, f.where),
                          pqxx::prepare::make_dynamic_params(f.params))) {
        fn(pg::read_episode(r));
      }
    }
    if (q.state != EpisodeState::kClosed) {
      const pg::Filter f = pg::episode_filter(q);
      for (const auto& r : tx.exec_params(
               fmt::format("SELECT {} FROM open_episodes{} ORDER BY contract", pg::kOpenEpisodeColumns, f.where),
               pqxx::prepare::make_dynamic_params(f.params))) {
        fn(pg::read_episode(r));
      }
    }
    return Status::ok();
  } catch (const std::exception& e) {
    return pg::failure("exporting episodes", e);
  }
}

Result<std::vector<EpisodeRow>> PostgresStore::open_episodes(const EpisodeQuery& q,
                                                             std::optional<std::string_view> after_contract,
                                                             std::size_t limit) {
  return read<std::vector<EpisodeRow>>("querying open episodes", [&](pqxx::transaction_base& tx) {
    pg::Filter f = pg::episode_filter(q);
    if (after_contract) f.add("contract > ", std::string(*after_contract));
    std::vector<EpisodeRow> out;
    const std::size_t most = std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max());
    for (const auto& r : tx.exec_params(fmt::format("SELECT {} FROM open_episodes{} ORDER BY contract LIMIT {}",
                                                    pg::kOpenEpisodeColumns, f.where, most),
                                        pqxx::prepare::make_dynamic_params(f.params))) {
      out.push_back(pg::read_episode(r));
    }
    return out;
  });
}

Result<std::uint64_t> PostgresStore::contract_state_count() {
  return read<std::uint64_t>("counting contract states", [](pqxx::transaction_base& tx) {
    return static_cast<std::uint64_t>(int64(tx.exec1("SELECT COUNT(*) FROM contract_states")[0]));
  });
}

Result<Store::PartitionTimes> PostgresStore::partition_times() {
  return read<PartitionTimes>("reading the partitions' event time", [](pqxx::transaction_base& tx) {
    const pqxx::row r = tx.exec1("SELECT MAX(watermark), MAX(evaluated_through) FROM partition_positions");
    return PartitionTimes{pg::instant_or_none(r[0]), pg::instant_or_none(r[1])};
  });
}

Result<std::uint64_t> PostgresStore::open_episode_count() {
  return read<std::uint64_t>("counting open episodes", [](pqxx::transaction_base& tx) {
    return static_cast<std::uint64_t>(int64(tx.exec1("SELECT COUNT(*) FROM open_episodes")[0]));
  });
}

Result<std::vector<ContractStateRow>> PostgresStore::contract_states(const std::vector<std::string>& ids) {
  return read<std::vector<ContractStateRow>>(
      "reading contract states", [&](pqxx::transaction_base& tx) { return pg::read_contract_states(tx, ids); });
}

Result<std::vector<UserStateRow>> PostgresStore::user_states(const std::vector<std::string>& ids) {
  return read<std::vector<UserStateRow>>("reading user states",
                                         [&](pqxx::transaction_base& tx) { return pg::read_user_states(tx, ids); });
}

Status PostgresStore::export_decisions(const DecisionQuery& q, const std::function<void(const DecisionRow&)>& fn) {
  return pg::done(read<bool>("exporting decisions", [&](pqxx::transaction_base& tx) {
    const pg::Filter f = pg::decision_filter(q);
    for (const auto& r :
         tx.exec_params(fmt::format("SELECT {} FROM decisions{} ORDER BY id", pg::kDecisionColumns, f.where),
                        pqxx::prepare::make_dynamic_params(f.params))) {
      fn(pg::read_decision(r));
    }
    return true;
  }));
}

Result<std::vector<StoredReject>> PostgresStore::rejects(std::int64_t after_id, std::size_t limit) {
  return read<std::vector<StoredReject>>("querying rejects", [&](pqxx::transaction_base& tx) {
    std::vector<StoredReject> out;
    for (const auto& r : tx.exec_params("SELECT id, received_at, line, reason, raw FROM rejects WHERE id > $1 ORDER "
                                        "BY id LIMIT $2",
                                        after_id, static_cast<std::int64_t>(limit))) {
      StoredReject x;
      x.id = int64(r[0]);
      x.received_at = int64(r[1]);
      x.row.line = static_cast<std::uint64_t>(int64(r[2]));
      const auto reason = parse_reject_reason(text(r[3]));
      if (!reason) throw std::runtime_error("store: unreadable reject reason in database");
      x.row.reason = *reason;
      x.row.raw = pg::bytes(r[4]);
      out.push_back(std::move(x));
    }
    return out;
  });
}

Result<std::uint64_t> PostgresStore::outbox_depth() {
  return read<std::uint64_t>("counting the outbox", [](pqxx::transaction_base& tx) {
    return static_cast<std::uint64_t>(int64(tx.exec1("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")[0]));
  });
}

Result<std::vector<OutboxItem>> PostgresStore::due_outbox(std::string_view channel, Instant now, std::size_t limit) {
  return read<std::vector<OutboxItem>>("reading the due outbox", [&](pqxx::transaction_base& tx) {
    std::vector<OutboxItem> out;
    for (const auto& r : tx.exec_params(fmt::format("{} WHERE o.state = 'pending' AND o.channel = $1 AND "
                                                    "o.next_attempt_at <= $2 ORDER BY o.next_attempt_at, "
                                                    "o.decision_id LIMIT $3",
                                                    pg::kOutboxSelect),
                                        std::string(channel), now, static_cast<std::int64_t>(limit))) {
      out.push_back(pg::read_outbox_item(r));
    }
    return out;
  });
}

Result<std::vector<OutboxItem>> PostgresStore::outbox(std::optional<DeliveryState> state, std::int64_t after_id,
                                                      std::size_t limit) {
  return read<std::vector<OutboxItem>>("querying the outbox", [&](pqxx::transaction_base& tx) {
    // One more row than asked: a decision's entries stay on one page.
    pg::Filter f;
    f.add("o.decision_id > ", std::to_string(after_id));
    if (state) f.add("o.state = ", std::string(delivery_state_name(*state)));
    std::vector<OutboxItem> out;
    for (const auto& r : tx.exec_params(fmt::format("{}{} ORDER BY o.decision_id, o.channel COLLATE \"C\" LIMIT {}",
                                                    pg::kOutboxSelect, f.where, limit + 1),
                                        pqxx::prepare::make_dynamic_params(f.params))) {
      out.push_back(pg::read_outbox_item(r));
    }
    if (out.size() > limit && out[limit].delivery.decision_id != out[limit - 1].delivery.decision_id) out.pop_back();
    return out;
  });
}

Status PostgresStore::record_delivery(const Delivery& d) {
  return pg::done(write<bool>("recording a delivery", [&](pqxx::work& tx) {
    std::string first, finished;
    const pqxx::result r = tx.exec_params(
        "UPDATE outbox SET state = $1, attempts = $2, next_attempt_at = $3, first_attempt_at = $4, done_at = $5, "
        "message_id = $6, last_error = $7 WHERE decision_id = $8 AND channel = $9",
        std::string(delivery_state_name(d.state)), static_cast<std::int64_t>(d.attempts), d.next_attempt_at,
        pg::nullable_instant(d.first_attempt_at, first), pg::nullable_instant(d.done_at, finished), d.message_id,
        d.last_error, d.decision_id, d.channel);
    if (r.affected_rows() != 1) {
      throw std::runtime_error(fmt::format("no {} outbox entry for decision {}", d.channel, d.decision_id));
    }
    return true;
  }));
}

Result<std::vector<UserContact>> PostgresStore::user_contacts(const std::vector<std::string>& ids) {
  return read<std::vector<UserContact>>("reading users' contact details", [&](pqxx::transaction_base& tx) {
    std::vector<UserContact> out;
    pg::select_by_ids(tx, fmt::format("SELECT {} FROM users WHERE id IN ", pg::kContactColumns), ids,
                      [&](const pqxx::row& r) { out.push_back(pg::read_contact(r)); });
    return out;
  });
}

Result<std::vector<UserContact>> PostgresStore::users_with_email(const std::string& address) {
  return read<std::vector<UserContact>>("finding users by e-mail address", [&](pqxx::transaction_base& tx) {
    std::vector<UserContact> out;
    for (const auto& r :
         tx.exec_params(fmt::format("SELECT {} FROM users WHERE lower(email) = lower($1) ORDER BY id COLLATE \"C\"",
                                    pg::kContactColumns),
                        address)) {
      out.push_back(pg::read_contact(r));
    }
    return out;
  });
}

Result<std::int64_t> PostgresStore::take_escalation(const OutboxItem& item, Instant now, bool client_checkin) {
  return write<std::int64_t>("opening a case",
                             [&](pqxx::work& tx) { return pg::take_escalation(tx, item, now, client_checkin); });
}

Result<std::vector<CaseRow>> PostgresStore::cases(const CaseQuery& q) {
  return read<std::vector<CaseRow>>("listing cases", [&](pqxx::transaction_base& tx) { return pg::list_cases(tx, q); });
}

Result<std::optional<CaseRow>> PostgresStore::find_case(std::int64_t id) {
  return read<std::optional<CaseRow>>("reading a case",
                                      [&](pqxx::transaction_base& tx) { return pg::find_case(tx, id); });
}

Result<std::vector<CaseEntry>> PostgresStore::case_timeline(std::int64_t id) {
  return read<std::vector<CaseEntry>>("reading a case's timeline",
                                      [&](pqxx::transaction_base& tx) { return pg::case_timeline(tx, id); });
}

Result<bool> PostgresStore::update_case(std::int64_t id, const CaseUpdate& u, Instant now) {
  return write<bool>("updating a case", [&](pqxx::work& tx) { return pg::update_case(tx, id, u, now); });
}

Result<std::vector<CaseChange>> PostgresStore::case_changes(std::int64_t after_id, std::size_t limit) {
  return read<std::vector<CaseChange>>(
      "reading case changes", [&](pqxx::transaction_base& tx) { return pg::case_changes(tx, after_id, limit); });
}

Result<bool> PostgresStore::add_case_note(std::int64_t id, const std::string& author, const std::string& text,
                                          Instant now) {
  return write<bool>("adding a note to a case",
                     [&](pqxx::work& tx) { return pg::add_case_note(tx, id, author, text, now); });
}

Result<std::optional<InboundRow>> PostgresStore::find_inbound_by_key(const std::string& dedupe_key) {
  return read<std::optional<InboundRow>>("reading an inbound message", [&](pqxx::transaction_base& tx) {
    return pg::find_inbound_by_key(tx, dedupe_key);
  });
}

Result<InboundTaken> PostgresStore::take_inbound(const InboundRow& row, const CaseTarget* target, Instant now) {
  return write<InboundTaken>("storing an inbound message",
                             [&](pqxx::work& tx) { return pg::take_inbound(tx, row, target, now); });
}

Result<std::vector<InboundRow>> PostgresStore::inbound(const InboundQuery& q) {
  return read<std::vector<InboundRow>>("listing inbound messages",
                                       [&](pqxx::transaction_base& tx) { return pg::list_inbound(tx, q); });
}

Result<std::optional<InboundRow>> PostgresStore::find_inbound(std::int64_t id) {
  return read<std::optional<InboundRow>>("reading an inbound message",
                                         [&](pqxx::transaction_base& tx) { return pg::find_inbound(tx, id); });
}

Result<AttachResult> PostgresStore::attach_inbound(std::int64_t id, std::int64_t case_id, const std::string& author,
                                                   Instant now) {
  return write<AttachResult>("attaching an inbound message to a case",
                             [&](pqxx::work& tx) { return pg::attach_inbound(tx, id, case_id, author, now); });
}

}  // namespace gw
