// The live service's core: one engine, driven by ingested events and a
// clock, whose every change is committed to a Store before it is
// acknowledged. It recovers by replaying the store's operation log through
// a fresh engine (the engine is deterministic), or, once it has taken
// snapshots (set_snapshots), by restoring the latest and replaying the log
// after it; so a crash at any point loses no accepted event and duplicates
// no decision.
//
// With a risk model, a risk::FeatureStore runs beside the engine (in the
// order feature_store.h gives) and every episode is scored as it opens, as
// `replay --model` scores it. The model in force is part of the log (like a
// reload's policy): recovery scores each episode with the model that scored
// it before, so a restart gives every episode the same risk, and a new
// model scores the episodes opened after it came in.
//
// Thread-safe: every call takes the service's mutex; queries that only read
// the store do not need the service at all.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/clock.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/engine/engine.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/policy/policy.h"
#include "ghostwatch/store/store.h"

namespace gw {

namespace risk {
class FeatureStore;
class LiveRiskScorer;
class RiskModel;
}  // namespace risk
struct ServiceSnapshot;

// What drives the watermark (spec section 4).
enum class ClockMode : std::uint8_t {
  kWall,   // the wall clock minus allowed_lateness, with catch-up
  kEvents  // event times, exactly as replay; POST /v1/advance ends a "replay"
};

// Totals since the data directory was created (recovery recounts them).
struct ServiceCounters {
  std::uint64_t accepted = 0;
  std::array<std::uint64_t, kRejectReasonCount> rejected{};
  // [action][status]
  std::array<std::array<std::uint64_t, kDecisionStatusCount>, 2> decisions{};
  // In front of a bus: the open episodes the partitions committed (0 when
  // the store cannot say).
  std::uint64_t open_episodes = 0;
  std::uint64_t closed_episodes = 0;  // also the id of the last one closed
  std::uint64_t contracts = 0;
  // In front of a bus, the watermark and evaluated-through are the latest
  // any partition committed (Store::partition_times), so every worker's
  // dashboard has the same "now", across restarts.
  Instant watermark = kNoInstant;
  Instant next_due = kForever;
  // --clock events: the latest time POST /v1/advance evaluated through.
  Instant evaluated_through = kNoInstant;
  std::uint64_t log_entries = 0;
  // Log entries after the latest snapshot (what a recovery replays), and
  // that snapshot's size in bytes (0: none; Service::set_snapshots).
  std::uint64_t log_entries_since_snapshot = 0;
  std::uint64_t snapshot_bytes = 0;

  // How far the oldest due step is behind the watermark (0 when none is).
  double timer_lag_seconds() const {
    return next_due != kForever && watermark != kNoInstant && next_due < watermark
               ? static_cast<double>(watermark - next_due) / 1000.0
               : 0.0;
  }
};

// A message of a bus worker's partition of the event log
// (docs/operations.md lists its headers; bus/partition_consumer.h reads it):
// an event line, or one of the controls that go to every partition.
enum class PartitionControl : std::uint8_t {
  kNone,             // an event; `line` is its line
  kEvaluateThrough,  // POST /v1/advance: evaluate through `at`
  kBounce            // an e-mail bounced for good: `line` is {"user": ..., "email": ...}
};

// The text of a bounce, as the log and its control message carry it.
std::string bounce_text(std::string_view user, std::string_view address);

struct PartitionMessage {
  std::uint64_t stream_seq = 0;
  std::uint64_t seq = 0;           // Gw-Seq: its line's number in the whole log
  std::uint64_t partition_seq = 0;  // Gw-Partition-Seq: its number in the partition (0: not given)
  Instant watermark = kNoInstant;  // Gw-Watermark: the largest event time up to it
  PartitionControl control = PartitionControl::kNone;
  Instant at = kNoInstant;  // kEvaluateThrough's time
  std::string line;
};

// The outcome of one ingest request, as the HTTP layer answers it.
struct IngestReply {
  int status = 200;
  std::string body;       // JSON
  bool replayed = false;  // an earlier response to the same Idempotency-Key
};

// Bus mode (docs/operations.md, "Workers"): where a service's input goes
// instead of its own engine, which then sees nothing: the event log, whose
// partitions the workers apply. Each call returns once the log has it.
struct BusFront {
  std::function<IngestReply(std::string_view body, const std::string& idempotency_key)> publish;
  std::function<Status(Instant to)> advance;  // --clock events: every partition evaluates through `to`
  std::function<Status(std::string_view user, std::string_view address)> bounce;
};

class Service {
 public:
  // Recovers the engine from `store`'s log: under the policy the data
  // directory was created with, switching to each reload's policy where the
  // log has it. Then `policy_text` (the config's policy part, valid) is
  // applied as a reload if it differs from the rules in force, so a restart
  // with an edited config works like SIGHUP. `model_text` is the risk
  // model (a model.json's text; empty: none): when it differs from the one
  // in force in the log, it is logged and scores every episode opened from
  // then on (before the new policy applies, which may need it). Errors: a
  // model that does not load, naming `model_source`. `store` and `clock`
  // must outlive the service.
  //
  // A bus worker's partition: `store` keeps the partition's log and
  // `claim` is the worker's claim on it (PostgresStore::claim_partition),
  // under which every batch is committed (rows.h, PartitionFence) with the
  // open episodes, contracts and users it changed (Batch::open_episodes,
  // contract_states, user_states, named_users; once recovered, the service
  // first writes the partition's stored ones from its engine, and a reload
  // rewrites its open episodes, whose arm and tier the policy decides). A
  // batch refused (another worker claimed the partition
  // since, or the store failed) leaves the service ahead of its log: the
  // worker must drop it.
  static Result<std::unique_ptr<Service>> open(const std::string& policy_text, Store& store, const Clock& clock,
                                               ClockMode mode, std::optional<std::uint64_t> claim = std::nullopt,
                                               const std::string& model_text = {},
                                               std::string_view model_source = "the model");
  ~Service();

  // A config reload: `policy_text` rules every evaluation from now on
  // (Engine::set_policy says how open episodes continue; the past is never
  // re-decided). It is logged, so recovery switches at the same point. With
  // the wall clock the watermark is first brought to now (a logged tick), so
  // the switch happens at a recorded time. Returns false, changing nothing,
  // when the text equals the rules in force; refuses an invalid policy and a
  // different campaign name (a data directory holds one campaign: its arms,
  // Message-IDs and report) with an error naming the key.
  Result<bool> reload(const std::string& policy_text);
  // Makes the risk model in `text` (a model.json's, checked as at open;
  // `source` names it in errors) the one episodes opening from now on are
  // scored with; logged, so recovery switches at the same point. Returns
  // false, changing nothing, when it is the model in force. Refused for a
  // service opened without a model: it kept no features to score with.
  Result<bool> reload_model(const std::string& text, std::string_view source);
  // The rules in force (a copy: a reload replaces them).
  Policy policy() const;
  // True when a risk model scores the episodes that open now.
  bool scores_risk() const;

  // Applies an NDJSON body (spec section 1 rules; line numbers count from 1
  // within the body) and commits it. With a non-empty `idempotency_key`, a
  // repeat of the same body returns the first response and changes nothing;
  // the same key with another body is refused (422).
  IngestReply ingest(std::string_view body, const std::string& idempotency_key);

  // A bus worker's partition: applies `messages` (the next ones of the
  // partition, in its order) as one batch, and moves the partition's
  // position to `after` with it. With --clock
  // events, the watermark is first raised to each message's Gw-Watermark
  // minus allowed_lateness (logged with the event: kPartitionEvent), so that the
  // partitions' engines together decide what one replay of the whole log
  // decides; an advance message evaluates through its time. Rejected lines
  // are stored with their Gw-Seq as the line number.
  Status apply_partition(const std::vector<PartitionMessage>& messages, const PartitionPosition& after);

  // kEvents only: evaluates every step due at or before `to` (the end of a
  // replay). Returns the number of decisions it made (in front of a bus:
  // 0, once every partition has the advance; the workers decide; the
  // counters' evaluated_through is at least `to` from then on).
  Result<std::uint64_t> advance_to(Instant to);

  // kWall only: moves the watermark to the clock's now - allowed_lateness,
  // firing due steps. Call it often (the serve loop does, every 100 ms).
  Status tick();

  // Records an `opt_out` event for `user` (an unsubscribe link or button),
  // at the clock's now (wall clock) or the latest event's time (event time).
  IngestReply opt_out(std::string_view user);

  // An e-mail to `address` (the address of `user`) bounced for good: the
  // user's nudges are suppressed from now on (Engine::mark_bouncing). Logged,
  // so recovery marks it at the same point. Marking again is harmless.
  Status mark_bouncing(std::string_view user, std::string_view address);

  // The opening time of episode `episode` of `contract` while it is open;
  // nullopt once it has closed (the store has it then) or if it never opened.
  std::optional<Instant> open_episode_opened_at(std::string_view contract, std::uint32_t episode) const;

  // Calls `fn` with the state of each of `ids` that is known, as it
  // stands, with its id (the views die with each call; the order is
  // unspecified). In front of a bus: the state the partitions have
  // committed (Store::contract_states, user_states), read in one go, the
  // only case that can fail; a user's segment and arm are what the policy
  // in force here makes of its attributes, and a contract's tier is 0
  // when this policy has no such tier.
  Status with_contracts(const std::vector<std::string>& ids,
                        const std::function<void(std::string_view, const ContractSnapshot&)>& fn) const;
  Status with_users(const std::vector<std::string>& ids,
                    const std::function<void(std::string_view, const UserSnapshot&)>& fn) const;
  // The same for one id; false when it is unknown.
  Result<bool> with_contract(std::string_view id, const std::function<void(const ContractSnapshot&)>& fn) const;
  Result<bool> with_user(std::string_view id, const std::function<void(const UserSnapshot&)>& fn) const;

  // Open episodes matching `q` (its state, cursor and limit aside), ordered
  // by contract id bytes, after `after_contract` (nullopt: from the first),
  // at most `limit`. In front of a bus: the ones every partition has
  // committed, from the store (Store::open_episodes), the only case that
  // can fail.
  Result<std::vector<EpisodeRow>> open_episodes(const EpisodeQuery& q, std::optional<std::string_view> after_contract,
                                                std::size_t limit);

  // A consistent view for an export: every open episode matching `q` (as
  // above, all of them), and the id of the last closed episode at the same
  // moment, up to which the store's closed episodes complete the picture.
  // In front of a bus (set_bus_front) the store has both: its closed
  // episodes are the workers', all of them count, and its export gives the
  // partitions' open ones after them, read at the same moment (store.h);
  // `open` is empty.
  struct EpisodeSnapshot {
    std::int64_t closed_through = 0;
    std::vector<EpisodeRow> open;
  };
  EpisodeSnapshot episode_snapshot(const EpisodeQuery& q);

  // Bus mode: from now on ingest(), opt_out(), advance_to() and
  // mark_bouncing() go to `front` (the event log), not to this engine, and
  // episode_snapshot(), open_episodes() and counters() take the episodes
  // the store has, with_contracts() and with_users() its contracts and
  // users. Call it before the service is shared.
  void set_bus_front(BusFront front) { front_ = std::move(front); }
  bool bus_front() const { return front_.has_value(); }

  // Log compaction (docs/operations.md, "Snapshots"): from now on, a
  // commit that brings the log entries since the latest snapshot to
  // `every_entries` (0: never) stores a snapshot of the service's state
  // with its batch, from which recovery replays only the later entries;
  // with `compact_log`, the log rows it covers are deleted. A service that
  // keeps risk features (a model was ever configured) puts the model in
  // force and the feature store in it too. None is taken larger than the
  // stores keep in a value (kMaxSnapshotBytes). Call it
  // before the service is shared. Recovery uses the latest snapshot
  // whatever this says.
  void set_snapshots(std::uint64_t every_entries, bool compact_log) {
    snapshot_every_ = every_entries;
    compact_log_ = compact_log;
  }

  ServiceCounters counters() const;
  ClockMode mode() const { return mode_; }
  const Clock& clock() const { return clock_; }
  // Seconds the recovery took when the service opened.
  double recovery_seconds() const { return recovery_seconds_; }

 private:
  class Sink;
  Service(std::string first_policy_text, Store& store, const Clock& clock, ClockMode mode,
          std::optional<std::uint64_t> claim);
  // Rebuilds the engine (and the feature store, when features are kept)
  // from the store: from its latest snapshot, then the log after it. A
  // service that keeps features replays the whole log instead when the
  // snapshot holds none (taken before it kept them), and refuses to when
  // the log was compacted.
  Status recover();
  // Makes the engine, the rules in force, the counters and, when features
  // are kept, the feature store the ones of `snapshot` (`bytes` long); the
  // model in force is the caller's to switch to.
  Status restore(const ServiceSnapshot& snapshot, std::size_t bytes);
  // Adds to `batch` (the engine has applied it) the snapshot of the state
  // after it, when set_snapshots says one is due.
  void add_snapshot(Batch& batch);
  // A partition's: makes the store's rows of its open episodes and
  // contracts exactly its engine's, whatever they were (a database from
  // before partitions kept them has none), and adds its users to the
  // store's, in one batch under the claim.
  Status replace_partition_state();
  // Makes `text` the rules in force; the engine switches to it now.
  Status switch_policy(const std::string& text, std::string_view source);
  // Makes `model` (parsed from `text`, a model.json; null and empty: none)
  // the risk model in force; the engine scores the episodes it opens from
  // now on with it.
  Status switch_model(const std::string& text, std::unique_ptr<const risk::RiskModel> model, std::string_view source);
  // Logs and applies `model` (as switch_model) when `text` differs from the
  // model in force.
  Status change_model(const std::string& text, std::unique_ptr<const risk::RiskModel> model, std::string_view source);
  // The engine's submit (or submit_live), with the feature store kept in
  // step (feature_store.h's driving order).
  RejectReason submit(const Event& e, bool live);
  // Counts a line `submit` (or the parser) answered `r` for, and adds it to
  // `batch`: a reject row under `line_number`, or, accepted, the users row
  // `e` gives and its log entry (`kind`, `at`, the line).
  void record_line(Batch& batch, RejectReason r, std::uint64_t line_number, std::string_view line, const Event& e,
                   LogKind kind, Instant at);
  // Commits the batch being built; on failure the engine is ahead of the
  // store, so it is rebuilt from the log before the error is returned (but
  // for a partition's, which its worker drops). `consumed_through`: a
  // partition's position after the batch.
  Status commit(std::optional<PartitionPosition> consumed_through = std::nullopt);

  const std::string first_policy_text_;   // the data directory's, where the log starts
  std::unique_ptr<const Policy> policy_;  // in force; the engine points at it
  std::string policy_text_;
  Store& store_;
  const Clock& clock_;
  const ClockMode mode_;
  const std::optional<std::uint64_t> claim_;  // a bus worker's partition: its claim
  std::optional<BusFront> front_;
  mutable std::mutex mu_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<Engine> engine_;
  // Kept from the log's first event once a model was ever configured for
  // this store (meta "risk_features"), whether or not one is in force now:
  // features need the whole history (from the log's start, or a snapshot
  // that holds them), and recovery must score as before.
  bool keeps_features_ = false;
  std::unique_ptr<risk::FeatureStore> features_;
  std::string model_text_;  // in force; empty: none
  std::unique_ptr<const risk::RiskModel> model_;
  std::unique_ptr<risk::LiveRiskScorer> scorer_;
  LineParser parser_;
  ServiceCounters counters_;
  Instant last_tick_ = kNoInstant;
  std::uint64_t snapshot_every_ = 0;
  bool compact_log_ = false;
  double recovery_seconds_ = 0;
};

}  // namespace gw
