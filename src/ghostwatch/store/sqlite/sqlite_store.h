// Store on one SQLite file in WAL mode, the embedded default. Commits are
// durable when commit() returns (synchronous = FULL): a process crash or a
// power cut after it loses nothing. One writer connection (serialised by a
// mutex) and a pool of reader connections, so queries run while the writer
// commits and see only committed batches.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ghostwatch/store/store.h"

namespace SQLite {
class Database;
}

namespace gw {

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database at `path` and its schema.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;

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
  // None: a single serve's open episodes are its engine's (store.h).
  Result<std::vector<EpisodeRow>> open_episodes(const EpisodeQuery& q, std::optional<std::string_view> after_contract,
                                                std::size_t limit) override;
  Result<std::uint64_t> open_episode_count() override;
  // None: a single serve's contracts and users are its engine's (store.h).
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

 private:
  class Reader;  // a pooled reader connection, returned on destruction
  struct Writer;

  explicit SqliteStore(std::string path);
  Reader reader();

  std::string path_;
  std::mutex writer_mu_;
  std::unique_ptr<Writer> writer_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<SQLite::Database>> pool_;
};

}  // namespace gw
