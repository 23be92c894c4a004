// Store on PostgreSQL (libpqxx), for when one machine is not enough: the
// same interface and guarantees as SqliteStore (store.h), on a server that
// several processes share. Every write is one transaction, durable when it
// returns (the server's synchronous_commit decides how durable). The schema
// is brought up to date when the store opens (pg_schema.h). A pool of
// connections serves queries from any thread; writes are serialised within
// the process, as with SQLite. A dropped connection is replaced on next use.
#pragma once

#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "ghostwatch/store/store.h"

namespace gw {

class PostgresStore final : public Store {
 public:
  // `url`: a postgres:// URI or a libpq "host=... dbname=..." string.
  // Connects and migrates the schema.
  static Result<std::unique_ptr<PostgresStore>> open(const std::string& url);
  ~PostgresStore() override;

  Status commit(Batch& batch) override;
  Status read_log(const std::function<Status(const LogEntry&)>& fn) override;
  Result<std::uint64_t> log_size() override;
  Result<std::optional<IdempotentResponse>> find_response(const std::string& key) override;
  Result<std::optional<std::string>> get_meta(const std::string& key) override;
  Status set_meta(const std::string& key, const std::string& value) override;
  Result<std::vector<EpisodeRow>> episodes(const EpisodeQuery& q) override;
  Result<std::vector<DecisionRow>> decisions(const DecisionQuery& q) override;
  Status export_episodes(const EpisodeQuery& q, const std::function<void(const EpisodeRow&)>& fn) override;
  Status export_decisions(const DecisionQuery& q, const std::function<void(const DecisionRow&)>& fn) override;
  Result<std::vector<StoredReject>> rejects(std::int64_t after_id, std::size_t limit) override;
  Result<std::uint64_t> outbox_depth() override;
  Result<std::vector<OutboxItem>> due_outbox(std::string_view channel, Instant now, std::size_t limit) override;
  Result<std::vector<OutboxItem>> outbox(std::optional<DeliveryState> state, std::int64_t after_id,
                                         std::size_t limit) override;
  Status record_delivery(const Delivery& d) override;
  Result<std::optional<UserContact>> user_contact(const std::string& id) override;
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
  class Lease;  // a pooled connection, returned on destruction when still open

  explicit PostgresStore(std::string url) : url_(std::move(url)) {}
  Lease lease();
  // Runs `fn(tx)` in a read-only transaction; `what` names it in errors.
  template <typename T, typename F>
  Result<T> read(const char* what, F&& fn);
  // Runs `fn(tx)` in a read-write transaction under the writer lock and
  // commits it.
  template <typename T, typename F>
  Result<T> write(const char* what, F&& fn);

  std::string url_;
  std::mutex writer_mu_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<pqxx::connection>> pool_;
};

}  // namespace gw
