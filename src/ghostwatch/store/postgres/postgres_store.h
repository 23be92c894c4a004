// Store on PostgreSQL (libpqxx), for when one machine is not enough: the
// same interface and guarantees as SqliteStore (store.h), on a server that
// several processes share. Every write is one transaction, durable when it
// returns (the server's synchronous_commit decides how durable). The schema
// is brought up to date when the store opens (pg_schema.h). A pool of
// connections serves queries from any thread; writes are serialised within
// the process, as with SQLite. A dropped connection is replaced on next use.
//
// A store opened for one partition of the event log (a bus worker's; see
// docs/operations.md, "Workers") keeps that partition's operation log:
// commit() writes to it and read_log() reads it, while everything else
// (decisions, episodes, the outbox, cases, ...) is shared by all
// partitions. Its closed episodes take their ids from a sequence, its
// open episodes are rows of the shared open_episodes table (store.h, "Open
// episodes"), its contracts' and users' state rows of contract_states and
// user_states (store.h, "Partition state"; users: partition 0's, see
// pg_partition_state.h), and its batches commit only under the latest
// claim (rows.h, PartitionFence).
// Every partition applies (and writes) every user, opt-out and opt-in
// event's contact details, so a decision's user is in the table when the
// decision is: the partition that wrote it wrote the user before.
#pragma once

#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "ghostwatch/store/store.h"

namespace gw {

struct PartitionClaim {
  std::uint64_t epoch = 0;
  PartitionPosition consumed_through;  // where the partition stands (zeros: nothing applied)
};

class PostgresStore final : public Store {
 public:
  // `url`: a postgres:// URI or a libpq "host=... dbname=..." string.
  // Connects and migrates the schema. `log_partition`: the partition of
  // the event log whose operation log this store keeps; -1 (a serve
  // without a bus) for none.
  static Result<std::unique_ptr<PostgresStore>> open(const std::string& url, int log_partition = -1);
  ~PostgresStore() override;

  Status commit(Batch& batch) override;
  Status read_log(std::int64_t after_row, const std::function<Status(const LogEntry&)>& fn) override;
  Result<std::uint64_t> log_size() override;
  Result<std::optional<StoredSnapshot>> latest_snapshot() override;
  Result<bool> log_compacted() override;
  Result<std::optional<IdempotentResponse>> find_response(const std::string& key) override;
  Result<std::optional<std::string>> get_meta(const std::string& key) override;
  Status set_meta(const std::string& key, const std::string& value) override;
  Result<std::vector<EpisodeRow>> episodes(const EpisodeQuery& q) override;
  Result<std::vector<DecisionRow>> decisions(const DecisionQuery& q) override;
  Status export_episodes(const EpisodeQuery& q, const std::function<void(const EpisodeRow&)>& fn) override;
  Result<std::vector<EpisodeRow>> open_episodes(const EpisodeQuery& q, std::optional<std::string_view> after_contract,
                                                std::size_t limit) override;
  Result<std::uint64_t> open_episode_count() override;
  Result<std::vector<ContractStateRow>> contract_states(const std::vector<std::string>& ids) override;
  Result<std::vector<UserStateRow>> user_states(const std::vector<std::string>& ids) override;
  Result<std::uint64_t> contract_state_count() override;
  Result<PartitionTimes> partition_times() override;
  Status export_decisions(const DecisionQuery& q, const std::function<void(const DecisionRow&)>& fn) override;
  Result<std::vector<StoredReject>> rejects(std::int64_t after_id, std::size_t limit) override;
  Result<std::uint64_t> outbox_depth() override;
  Result<std::vector<OutboxItem>> due_outbox(std::string_view channel, Instant now, std::size_t limit) override;
  Result<std::vector<OutboxItem>> outbox(std::optional<DeliveryState> state, std::int64_t after_id,
                                         std::size_t limit) override;
  Status record_delivery(const Delivery& d) override;
  Result<std::vector<UserContact>> user_contacts(const std::vector<std::string>& ids) override;
  Result<std::vector<UserContact>> users_with_email(const std::string& address) override;
  Result<std::int64_t> take_escalation(const OutboxItem& item, Instant now, bool client_checkin) override;
  Result<std::vector<CaseRow>> cases(const CaseQuery& q) override;
  Result<std::optional<CaseRow>> find_case(std::int64_t id) override;
  Result<std::vector<CaseEntry>> case_timeline(std::int64_t id) override;
  Result<bool> update_case(std::int64_t id, const CaseUpdate& u, Instant now) override;
  Result<std::vector<CaseChange>> case_changes(std::int64_t after_id, std::size_t limit) override;
  Result<bool> add_case_note(std::int64_t id, const std::string& author, const std::string& text, Instant now) override;
  Result<std::optional<InboundRow>> find_inbound_by_key(const std::string& dedupe_key) override;
  Result<InboundTaken> take_inbound(const InboundRow& row, const CaseTarget* target, Instant now) override;
  Result<std::vector<InboundRow>> inbound(const InboundQuery& q) override;
  Result<std::optional<InboundRow>> find_inbound(std::int64_t id) override;
  Result<AttachResult> attach_inbound(std::int64_t id, std::int64_t case_id, const std::string& author,
                                      Instant now) override;

  // A new claim on the log partition, which every earlier claim's batches
  // now fail against; read the log after it. Only for a store opened with
  // a log partition.
  Result<PartitionClaim> claim_partition();

 private:
  class Lease;  // a pooled connection, returned on destruction when still open

  PostgresStore(std::string url, int log_partition) : url_(std::move(url)), log_partition_(log_partition) {}
  Lease lease();
  // Runs `fn(tx)` without a transaction: each statement is one round trip
  // (no BEGIN/COMMIT) and sees its own snapshot, which is all a read of one
  // statement needs; `what` names it in errors.
  template <typename T, typename F>
  Result<T> read(const char* what, F&& fn);
  // Runs `fn(tx)` in a read-write transaction under the writer lock and
  // commits it.
  template <typename T, typename F>
  Result<T> write(const char* what, F&& fn);

  std::string url_;
  const int log_partition_;
  std::mutex writer_mu_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<pqxx::connection>> pool_;
};

}  // namespace gw
