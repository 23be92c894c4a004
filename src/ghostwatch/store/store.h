// The live service's durable storage: the operation log it recovers from
// (after the latest snapshot of its state, when it has one), the records it serves (decisions, closed episodes,
// rejects), the outbox that delivery drains, and idempotent responses. One interface, so SQLite (the embedded default)
// and PostgreSQL (shared, several workers) can stand behind it.
//
// Open episodes are engine state, rebuilt from the log. A single serve's
// service answers for its own, and its store holds none. A bus worker's
// partitions commit theirs with each batch (Batch::open_episodes;
// PostgreSQL only), so that the API of every worker, whose engine sees
// nothing, reads them here: open_episodes(), open_episode_count() and
// export_episodes() give exactly what the partitions have committed.
//
// Partition state: likewise, a bus worker's partitions commit with each
// batch the state of the contracts it changed and the attributes of the
// users it changed (Batch::contract_states, user_states, named_users;
// PostgreSQL only), which contract_states() and user_states() read for
// the API of every worker. A single serve's store holds none.
//
// Thread-safe: commit() and the log are for the one thread that drives the
// engine at a time; queries may run from any thread, concurrently with it,
// and see only committed batches; record_delivery() is for the delivery
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/store/cases.h"
#include "ghostwatch/store/inbound.h"
#include "ghostwatch/store/rows.h"

namespace gw {

enum class EpisodeState : std::uint8_t { kAny, kOpen, kClosed };

struct EpisodeQuery {
  EpisodeState state = EpisodeState::kAny;
  std::string freelancer;  // empty: any
  std::string contract;    // empty: any
  std::optional<Arm> arm;
  std::optional<Instant> opened_since;  // opened_at >= it
  std::int64_t after_id = 0;            // page cursor: rows with a larger id
  std::int64_t through_id = std::numeric_limits<std::int64_t>::max();  // export bound: rows with an id at or below it
  std::size_t limit = 100;
};

struct DecisionQuery {
  std::int64_t since_id = 0;  // cursor: decisions with a larger id
  std::optional<DecisionStatus> status;
  std::optional<StepAction> action;
  std::string contract;  // empty: any
  std::size_t limit = 100;
};

struct StoredReject {
  std::int64_t id = 0;
  Instant received_at = 0;
  RejectRow row;
};

class Store {
 public:
  virtual ~Store() = default;

  // Commits `batch` atomically: all of it or (on error) none of it. Sets the
  // ids of its decision rows (increasing in batch order); episode rows come
  // with theirs (the closing order, counted by the service).
  virtual Status commit(Batch& batch) = 0;

  // Calls `fn` for every log entry of the rows after row `after_row` (0:
  // the whole log; a StoredSnapshot's through_row: what it does not cover)
  // in commit order; stops at fn's first error and returns it.
  virtual Status read_log(std::int64_t after_row, const std::function<Status(const LogEntry&)>& fn) = 0;
  // The entries the log holds (a compacted log: only the rows kept).
  virtual Result<std::uint64_t> log_size() = 0;
  // The snapshot written with the latest batch that had one
  // (Batch::snapshot), if any.
  virtual Result<std::optional<StoredSnapshot>> latest_snapshot() = 0;
  // Whether a snapshot ever deleted log rows (StoredSnapshot::log_compacted),
  // without reading the snapshot's bytes.
  virtual Result<bool> log_compacted() = 0;

  virtual Result<std::optional<IdempotentResponse>> find_response(const std::string& key) = 0;

  // Small settings that must survive restarts (the policy in force, ...).
  virtual Result<std::optional<std::string>> get_meta(const std::string& key) = 0;
  virtual Status set_meta(const std::string& key, const std::string& value) = 0;

  // Pages in id order (closed episodes: closing order; nothing for kOpen).
  virtual Result<std::vector<EpisodeRow>> episodes(const EpisodeQuery& q) = 0;
  virtual Result<std::vector<DecisionRow>> decisions(const DecisionQuery& q) = 0;

  // Every row matching the filters (cursor and limit ignored; closed
  // episodes up to `through_id`), in the order `replay` writes them:
  // decisions in processing order, closed episodes in closing order, then
  // the open episodes the store holds (see above) in contract id byte
  // order, read at the same moment as the closed ones.
  virtual Status export_episodes(const EpisodeQuery& q, const std::function<void(const EpisodeRow&)>& fn) = 0;

  // The open episodes the store holds (see above) matching `q` (its state,
  // cursors and limit aside), ordered by contract id bytes, after
  // `after_contract` (nullopt: from the first), at most `limit`; rows as
  // the engine gives them (EpisodeRow::from: id 0, outcome open). And how
  // many it holds. A store that holds none (SQLite) returns none.
  virtual Result<std::vector<EpisodeRow>> open_episodes(const EpisodeQuery& q,
                                                        std::optional<std::string_view> after_contract,
                                                        std::size_t limit) = 0;
  virtual Result<std::uint64_t> open_episode_count() = 0;
  // The partition state (see above) of those of `ids` the store holds, in
  // no particular order; none from a store that holds none (SQLite).
  virtual Result<std::vector<ContractStateRow>> contract_states(const std::vector<std::string>& ids) = 0;
  virtual Result<std::vector<UserStateRow>> user_states(const std::vector<std::string>& ids) = 0;
  // How many contracts' partition state the store holds (0: SQLite).
  virtual Result<std::uint64_t> contract_state_count() = 0;
  // The latest watermark and evaluated-through any partition committed
  // (PartitionFence; kNoInstant where none did, and from SQLite).
  struct PartitionTimes {
    Instant watermark = kNoInstant;
    Instant evaluated_through = kNoInstant;
  };
  virtual Result<PartitionTimes> partition_times() = 0;
  virtual Status export_decisions(const DecisionQuery& q, const std::function<void(const DecisionRow&)>& fn) = 0;

  // Rejected lines, newest last, after the cursor.
  virtual Result<std::vector<StoredReject>> rejects(std::int64_t after_id, std::size_t limit) = 0;

  // Decisions waiting in the outbox for delivery.
  virtual Result<std::uint64_t> outbox_depth() = 0;

  // Pending entries of `channel` due at or before `now`, the longest due
  // first (then in decision order), at most `limit`.
  virtual Result<std::vector<OutboxItem>> due_outbox(std::string_view channel, Instant now, std::size_t limit) = 0;
  // Entries after `after_id` (a decision id) in decision order (then by
  // channel), in `state` when given: the API's view of delivery. At most
  // `limit` decisions' worth: one more row when the last decision has two
  // entries (an escalation's case and client check-in), so that a page never
  // splits a decision.
  virtual Result<std::vector<OutboxItem>> outbox(std::optional<DeliveryState> state, std::int64_t after_id,
                                                 std::size_t limit) = 0;
  // Writes what delivery made of the entry (`d.decision_id`, `d.channel`);
  // durable when it returns. Safe from any one thread beside
  // the engine's.
  virtual Status record_delivery(const Delivery& d) = 0;

  // The contact details of those of `ids` that a `user` event named (empty
  // fields where none were given), in no particular order.
  virtual Result<std::vector<UserContact>> user_contacts(const std::vector<std::string>& ids) = 0;
  // The same for one user: nullopt when no `user` event named it.
  Result<std::optional<UserContact>> user_contact(const std::string& id) {
    auto found = user_contacts({id});
    if (!found) return found.status();
    if (found->empty()) return std::optional<UserContact>();
    return std::optional<UserContact>(std::move(found->front()));
  }
  // Every user whose e-mail address is `address` (ASCII case ignored), in id order.
  virtual Result<std::vector<UserContact>> users_with_email(const std::string& address) = 0;

  // Cases (cases.h). Takes the escalation outbox entry `item` (channel
  // "case") in one transaction: opens or reopens its contract's case for the
  // team the decision names, links the episode, and marks the entry
  // delivered at `now`. An entry taken before (a retry after a crash) finds
  // its case and changes nothing. Returns the case's id. Delivery thread.
  // With `client_checkin`, a newly linked episode also gets an "email"
  // outbox entry for the same decision: the check-in e-mail to the client.
  virtual Result<std::int64_t> take_escalation(const OutboxItem& item, Instant now, bool client_checkin) = 0;
  // Cases matching `q`, in id order after its cursor.
  virtual Result<std::vector<CaseRow>> cases(const CaseQuery& q) = 0;
  virtual Result<std::optional<CaseRow>> find_case(std::int64_t id) = 0;
  // The case's own entries, the decisions of its linked episodes and their
  // delivered e-mails, oldest first.
  virtual Result<std::vector<CaseEntry>> case_timeline(std::int64_t id) = 0;
  // Applies `u` (a timeline entry per field that changes); false when there
  // is no such case.
  virtual Result<bool> update_case(std::int64_t id, const CaseUpdate& u, Instant now) = 0;
  // The cases' own timeline entries after `after_id`, oldest first.
  virtual Result<std::vector<CaseChange>> case_changes(std::int64_t after_id, std::size_t limit) = 0;
  virtual Result<bool> add_case_note(std::int64_t id, const std::string& author, const std::string& text,
                                     Instant now) = 0;

  // Inbound e-mail (inbound.h). The message taken before under `dedupe_key`, if any.
  virtual Result<std::optional<InboundRow>> find_inbound_by_key(const std::string& dedupe_key) = 0;
  // Stores `row` in one transaction with what it does to a case: with a
  // `target`, the message joins that case (opened when there is none; an
  // "email_in" or "auto_reply" timeline entry at row.received_at; a person's
  // e-mail reopens a pending or solved case) and is stored with route kCase;
  // without one it is stored as `row` says. A message taken before (same
  // dedupe_key) changes nothing and comes back as a duplicate.
  virtual Result<InboundTaken> take_inbound(const InboundRow& row, const CaseTarget* target, Instant now) = 0;
  // Messages matching `q` in id order after its cursor, without their raw bytes.
  virtual Result<std::vector<InboundRow>> inbound(const InboundQuery& q) = 0;
  // One message with its raw bytes.
  virtual Result<std::optional<InboundRow>> find_inbound(std::int64_t id) = 0;
  // A person attaches an unmatched message to case `case_id` (as take_inbound
  // would have); `author` is recorded in the message's reason.
  virtual Result<AttachResult> attach_inbound(std::int64_t id, std::int64_t case_id, const std::string& author,
                                              Instant now) = 0;
};

}  // namespace gw
