// What the live service stores (spec section 5's records, owned), and the
// unit it commits: one Batch per request or clock tick. Rows own their
// strings, unlike the engine's records, whose views die with the sink call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/time.h"
#include "ghostwatch/engine/event.h"
#include "ghostwatch/engine/records.h"

namespace gw {

struct DecisionRow {
  std::int64_t id = 0;  // assigned by the store, increasing in processing order
  Instant at = 0;
  std::string contract;
  std::uint32_t episode = 0;
  std::uint32_t step = 0;
  StepAction action = StepAction::kNudge;
  std::string target;
  std::string freelancer;
  std::string client;
  Arm arm = Arm::kTreatment;
  DecisionStatus status = DecisionStatus::kSent;
  DecisionReason reason = DecisionReason::kNone;
  // Not a field of the spec's record: when the decision's episode opened
  // (the client's message waits since then), kept for the e-mail, which
  // may be composed by another process than the engine's. Stored with the
  // decision, read back with its outbox entries only; kNoInstant when
  // unknown (rows stored before it was kept).
  Instant episode_opened_at = kNoInstant;

  static DecisionRow from(const Decision& d);
  // A view for the output formatters; valid while this row lives.
  Decision view() const;
};

struct EpisodeRow {
  std::int64_t id = 0;  // the closing order: the n-th episode to close has id n
  std::string contract;
  std::uint32_t episode = 0;
  std::string freelancer;
  std::string client;
  Arm arm = Arm::kTreatment;
  bool in_segment = false;
  Instant opened_at = 0;
  Instant closed_at = kNoInstant;
  Outcome outcome = Outcome::kOpen;
  std::uint32_t steps_sent = 0;
  bool has_end_reason = false;
  std::string end_reason;
  float risk = -1;  // the risk score at opening; negative (NULL in the store): not scored

  static EpisodeRow from(const EpisodeRecord& e);
  EpisodeRecord view() const;
};

struct RejectRow {
  std::uint64_t line = 0;  // 1-based, within its request
  RejectReason reason = RejectReason::kNone;
  std::string raw;
};

// The operation log: replaying it through a fresh engine rebuilds the state
// exactly (the engine is deterministic), which is how the service recovers.
enum class LogKind : std::uint8_t {
  kEvent = 0,            // an accepted event, event-time clock: Engine::submit
  kLiveEvent = 1,        // an accepted event, wall clock: Engine::submit_live
  kClockTick = 2,        // Engine::advance_clock(at)
  kEvaluateThrough = 3,  // Engine::evaluate_through(at) (POST /v1/advance)
  kPolicy = 4,           // Engine::set_policy: a config reload; `line` is the new policy's text
  kBounce = 5,           // Engine::mark_bouncing; `line` is {"user": ..., "email": ...}
  kPartitionEvent = 6,   // a bus worker's partition, event time: Engine::advance_watermark(at), then submit
  kModel = 7             // the risk model in force from here: `line` is its model.json, empty for none
};

struct LogEntry {
  LogKind kind = LogKind::kEvent;
  Instant at =
      0;  // the tick's / advance's / reload's instant; kPartitionEvent's watermark (events carry their time in `line`)
  std::string line;  // the event line as received, or the policy text; empty for the others
};

// A user's contact details, from accepted `user` events (spec section 1:
// fields given replace earlier values). In an update, nullopt leaves the
// stored value; read back, a value never given is empty.
struct UserContact {
  std::string id;
  std::optional<std::string> email;
  std::optional<std::string> name;
  std::optional<std::string> country;
  std::optional<std::string> role;  // "freelancer", "client", ... as the event gave it
  // From accepted `opt_out` / `opt_in` events, so that whoever sends e-mail
  // knows without the engine; read back, false when never given.
  std::optional<bool> opted_out;
};

// Where a decision stands in the outbox: every `sent` decision joins it as
// kPending; delivery moves it to one of the other states exactly once.
enum class DeliveryState : std::uint8_t {
  kPending,       // not delivered yet (due at next_attempt_at)
  kSent,          // the server accepted it
  kFailed,        // refused for good (5xx), or temporary failures for too long
  kUndeliverable  // nothing to send to (no address), or nothing to send
};
std::string_view delivery_state_name(DeliveryState s);  // "pending", "sent", "failed", "undeliverable"
std::optional<DeliveryState> parse_delivery_state(std::string_view name);

struct Delivery {
  std::int64_t decision_id = 0;
  std::string channel;  // "email" (nudges) or "case" (escalations)
  DeliveryState state = DeliveryState::kPending;
  std::uint32_t attempts = 0;            // sends tried so far
  Instant next_attempt_at = 0;           // pending: not before this
  Instant first_attempt_at = kNoInstant;  // kNoInstant: never tried
  Instant done_at = kNoInstant;           // when it left kPending
  std::string message_id;                 // e-mail: the Message-ID sent (the same on every attempt)
  std::string last_error;                 // the last failure, as the server or the dispatcher said it
};

struct OutboxItem {
  DecisionRow decision;
  Delivery delivery;
};

// A stored response to a request with an Idempotency-Key.
struct IdempotentResponse {
  std::string key;
  std::string request_sha256;  // hex, of the request body
  int status = 200;
  std::string body;
};

// A bus worker's claim on its partition of the event log (docs/operations.md,
// "Workers"): every batch of the partition carries it, and the store commits
// the batch only while the claim is the partition's latest, so a worker that
// lost its lease can change nothing once another has claimed the partition.
// `consumed_through`, when set, is where the partition stands after the
// batch: its position moves there with the batch, so a message is applied
// once.
struct PartitionPosition {
  // Reading resumes after this stream sequence: every message of the
  // partition at or before it was applied, or passed over as a copy.
  std::uint64_t stream_seq = 0;
  std::uint64_t partition_seq = 0;  // Gw-Partition-Seq of the last message applied (0: none)
};
struct PartitionFence {
  std::uint64_t epoch = 0;
  std::optional<PartitionPosition> consumed_through;
  // The partition's event time after the batch: its engine's watermark and
  // the latest time it evaluated through (Store::partition_times).
  Instant watermark = kNoInstant;
  Instant evaluated_through = kNoInstant;
};

// A bus worker's partition keeps the episodes it holds open in the store,
// where the API of every worker reads them (store.h, "Open episodes"): what
// a batch left of a contract's open episode. Keyed by contract (a contract
// has one open episode at most), so writing it again changes nothing.
struct OpenEpisodeChange {
  std::string contract;
  std::optional<EpisodeRow> open;  // its open episode after the batch; nullopt: none (it closed)
};

// A contract as its partition's engine has it (ContractSnapshot, owning its
// ids), kept in the store for the API of every worker (store.h, "Partition
// state"). Keyed by contract, so writing it again changes nothing.
struct ContractStateRow {
  std::string contract;
  std::string client;
  std::string freelancer;
  Instant last_fl_at = kNoInstant;
  Instant last_client_at = kNoInstant;
  std::uint32_t episodes = 0;
  bool ended = false;
  bool open = false;
  Instant pending_since = kNoInstant;  // the open episode's, when open
  std::uint32_t steps_sent = 0;
  std::uint32_t tier = 0;

  static ContractStateRow from(std::string_view contract, const ContractSnapshot& c);
  // A view for the API; valid while this row lives.
  ContractSnapshot view() const;
};

// A user's attributes as the engine has them (UserSnapshot without what the
// policy makes of them: segment and arm), kept in the store like
// ContractStateRow. Keyed by user.
struct UserStateRow {
  std::string user;
  std::string country;  // upper-cased; empty when unknown
  std::string kind;     // empty when unknown
  std::string tz;       // the IANA zone in use; empty: UTC
  bool opted_out = false;
  bool bouncing = false;

  static UserStateRow from(std::string_view user, const UserSnapshot& u);
};

// Everything one request or tick changes, committed atomically in order:
// log entries, rejects, the episodes it closed, decisions (a sent one joins
// the outbox), user contact updates, the idempotent response, and (a
// partition's) its open episodes and the state of its contracts and users.
// A service's snapshot of its state (server/service_snapshot.h), written
// with the batch after which it was taken. It covers every log row up to
// and including the batch's last one (a batch with a snapshot has log
// entries) and replaces the store's previous snapshot; with `compact_log`,
// the rows it covers are deleted but the last (which keeps the rows'
// numbers increasing: recovery reads the rows after it).
struct SnapshotWrite {
  std::string bytes;
  bool compact_log = false;
};

// The latest snapshot a store keeps: its bytes, the number of the last log
// row it covers, and whether any snapshot of this log deleted rows (the log
// no longer starts at the first event).
struct StoredSnapshot {
  std::int64_t through_row = 0;
  std::string bytes;
  bool log_compacted = false;
};

struct Batch {
  Instant received_at = 0;
  std::vector<LogEntry> log;
  std::vector<UserContact> users;
  std::vector<RejectRow> rejects;
  std::vector<EpisodeRow> episodes;
  std::vector<DecisionRow> decisions;
  std::optional<IdempotentResponse> response;
  std::optional<PartitionFence> fence;  // a bus worker's partition only (PostgreSQL)
  // A partition's only, like `fence`: the contracts whose open episode the
  // batch opened, advanced (a step sent) or closed. With
  // replaces_open_episodes, the partition's stored open episodes become
  // exactly these (the ones with `open`), whatever was stored before.
  std::vector<OpenEpisodeChange> open_episodes;
  bool replaces_open_episodes = false;
  // A partition's only, like `fence`: the contracts the batch changed (an
  // event on them, a step sent), as they are after it. With
  // replaces_contract_states, the partition's stored contracts become
  // exactly these.
  std::vector<ContractStateRow> contract_states;
  bool replaces_contract_states = false;
  // A partition's only: the users whose attributes the batch changed (user,
  // opt-out and opt-in events, bounces), as they are after it. Every
  // partition applies these, so only partition 0 stores them. And the users
  // the batch named first (the parties of the contracts it started: a
  // partition may be the only one to know them), which a partition adds
  // when the store has none; partition 0 stores them like user_states.
  std::vector<UserStateRow> user_states;
  std::vector<UserStateRow> named_users;
  std::optional<SnapshotWrite> snapshot;

  bool empty() const {
    return !snapshot && log.empty() && users.empty() && rejects.empty() && episodes.empty() && decisions.empty() &&
           !response && !fence && open_episodes.empty() && !replaces_open_episodes && contract_states.empty() &&
           !replaces_contract_states && user_states.empty() && named_users.empty();
  }
  // True when the batch carries what only a partition's batch may.
  bool has_partition_state() const {
    return fence || !open_episodes.empty() || replaces_open_episodes || !contract_states.empty() ||
           replaces_contract_states || !user_states.empty() || !named_users.empty();
  }
};

// Names back to values (the store keeps the spec's names, readable in SQL).
std::optional<DecisionStatus> parse_decision_status(std::string_view name);
std::optional<DecisionReason> parse_decision_reason(std::string_view name);  // "" is kNone
std::optional<Outcome> parse_outcome(std::string_view name);
std::optional<StepAction> parse_step_action(std::string_view name);
std::optional<Arm> parse_arm(std::string_view name);
std::optional<RejectReason> parse_reject_reason(std::string_view name);

}  // namespace gw
