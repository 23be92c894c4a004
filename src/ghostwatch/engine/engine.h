// The engine: a deterministic event-time state machine (spec sections 3 and
// 4). Events and watermarks go in; decisions and episode records come out
// through an EngineSink. No I/O, no wall clock, no threads: `replay` drives
// the watermark from event times, `serve` from the clock.
//
// State is small and flat: per contract a few timestamps and the open
// episode; per user the attributes the rules read; all pending steps in one
// TimerQueue ordered by (effective time, contract id bytes, step index).
// Only the next step of an episode is pending: step i+1 is scheduled when
// step i is first evaluated, which keeps about one timer per open episode
// and yields exactly the spec's evaluation order, because due times strictly
// increase along the ladder.
//
// Not thread-safe: one thread drives an Engine.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "ghostwatch/core/huge_page_allocator.h"
#include "ghostwatch/core/interner.h"
#include "ghostwatch/engine/episode_scorer.h"
#include "ghostwatch/engine/event.h"
#include "ghostwatch/engine/records.h"
#include "ghostwatch/engine/timer_queue.h"
#include "ghostwatch/policy/policy.h"
#include "ghostwatch/policy/zone_offsets.h"

namespace date {
class time_zone;
}

namespace gw {

class Engine {
 public:
  // `policy` and `sink` must outlive the engine.
  Engine(const Policy& policy, EngineSink& sink);

  // The live service's config reload: `policy` (which must outlive the
  // engine, or the next set_policy) rules every evaluation from now on; the
  // past is never re-decided. Segment membership and arms are taken from it
  // for every user; every open episode's next step is scheduled again on the
  // new ladder, from the episode's opening as always, but not before the
  // watermark (a step the new ladder makes overdue is evaluated at the next
  // evaluation, at the watermark), and an episode past the end of the new
  // ladder has no more steps; a step deferred by quiet hours keeps its
  // deferral when the new ladder still has it. A frequency cap counts only
  // the sends made while a cap was in force.
  void set_policy(const Policy& policy);

  // Scores every episode from its opening on (nullptr: none, the default):
  // its records carry the risk, and with [segment] min_risk an episode
  // scored below it is outside the segment. `scorer` must outlive the
  // engine or the next call.
  void set_scorer(EpisodeScorer* scorer) { scorer_ = scorer; }

  // The replay loop's body for one accepted-so-far line: returns the state
  // rule (spec section 1, rule 8) the event breaks, changing nothing; else
  // advances the watermark to max(W, at - allowed_lateness), evaluating every
  // step due before it, then applies the event and returns kNone.
  RejectReason submit(const Event& e);

  // The live service's loop body (spec section 4, "the live service"): the
  // state rules, then the event is applied; the watermark is left to the
  // clock, which advance_clock drives.
  RejectReason submit_live(const Event& e);

  // The live service's clock tick: raises the watermark to
  // now - allowed_lateness, evaluating every step due before it in order; a
  // step whose effective time is more than catch_up behind `now` (the
  // service was down) is evaluated at `now` instead.
  void advance_clock(Instant now);

  // Evaluates every undecided step whose effective time is before `w` and
  // raises the watermark to `w` (no-op for a `w` behind it).
  void advance_watermark(Instant w);

  // Lookahead: an event's lookups miss the cache (hundreds of thousands of
  // contracts), so a driver that reads ahead calls prefetch_ids(e, ids)
  // several events before submit(e, ids), and prefetch_state(e, ids) a few
  // events later. The first hashes the event's contract id and starts
  // loading its hash slot; the second finds it and starts loading the
  // contract's state; submit(e, ids) then reuses the hash and the id found
  // (an id not found yet is looked up again: the events in between may have
  // added it). prefetch_parties(ids), a few events later still, when the
  // contract's state has arrived, starts loading what the event reads of the
  // contract's parties: the freelancer's state, and both parties' id text,
  // which tells a message's sender (the party whose id it names) and which
  // an episode's records write. Same results as submit(e).
  //
  // The sender's id is never looked up: submit tells it by the parties' id
  // text. State kept beside the engine (a scorer's feature store) prefetches
  // its own state of both parties instead.
  struct EventIds {
    std::uint64_t contract_hash = 0;           // Interner::hash_of the id, when present
    std::uint32_t contract = Interner::kNone;  // kNone: absent or not found yet
    std::uint32_t from = Interner::kNone;      // a message's sender: set by submit's check
  };
  void prefetch_ids(const Event& e, EventIds& ids) const;
  void prefetch_state(const Event& e, EventIds& ids) const;
  void prefetch_parties(const EventIds& ids) const;
  // REQUIRES: prefetch_ids(e, ids) was called.
  RejectReason submit(const Event& e, const EventIds& ids);

  // End of input: evaluates every undecided step whose effective time is at
  // or before `until`. The watermark is left as it is.
  void evaluate_through(Instant until);

  // Emits a record (outcome open) for every episode still open, ordered by
  // contract id bytes. Call once, at the end of a replay.
  void emit_open_episodes();

  // Calls `fn` with the record (outcome open) of every episode still open,
  // ordered by contract id bytes, without emitting anything. The record's
  // views die with the call.
  void for_each_open_episode(const std::function<void(const EpisodeRecord&)>& fn);
  // The record (outcome open) of `contract`'s open episode, as
  // for_each_open_episode gives it; nullopt when the contract has none or
  // is unknown. Its views die when the engine next changes.
  std::optional<EpisodeRecord> open_episode(std::string_view contract);

  // An e-mail to `address`, the address of `user`, bounced for good (an
  // inbound delivery status notification): from now on the user's nudges
  // are suppressed with reason `bounced` (after the opt-out rule, before
  // the frequency cap), until a `user` event gives another address.
  void mark_bouncing(std::string_view user, std::string_view address);

  // Inspection, for the live service's API; nullopt for an unknown id.
  std::optional<ContractSnapshot> find_contract(std::string_view id) const;
  std::optional<UserSnapshot> find_user(std::string_view id) const;
  // Every contract and every user the engine knows, with its id, in order
  // of first appearance. The views die with each call.
  void for_each_contract(const std::function<void(std::string_view, const ContractSnapshot&)>& fn) const;
  void for_each_user(const std::function<void(std::string_view, const UserSnapshot&)>& fn) const;

  // For state kept beside the engine (the risk feature store), so that it
  // need not look ids up again: contracts and users have dense indices (0,
  // 1, ... in order of first appearance, never reused). applied() names
  // those of the event being applied (from the start of its application),
  // or last applied: its contract (kNone for user, opt_out and opt_in
  // events) and its user (a message's sender, the user of a user, opt_out
  // or opt_in event; kNone for contract_started and contract_ended).
  // Episodes open and close only while an event on their contract is
  // applied, so a sink or scorer called then may read it.
  struct AppliedIds {
    std::uint32_t contract = Interner::kNone;
    std::uint32_t user = Interner::kNone;
  };
  const AppliedIds& applied() const { return applied_; }
  // REQUIRES: contract < contract_count().
  std::uint32_t client_of(std::uint32_t contract) const { return contracts_[contract].client; }
  std::uint32_t freelancer_of(std::uint32_t contract) const { return contracts_[contract].freelancer; }
  // find_user by index. REQUIRES: the index of a user the engine knows.
  UserSnapshot user_at(std::uint32_t user) const;

  Instant watermark() const { return watermark_; }
  // The effective time of the next pending step evaluation; kForever when
  // none is pending.
  Instant next_due() const { return timers_.empty() ? kForever : timers_.top().at; }
  // The largest `at` of all applied events; kNoInstant before the first.
  Instant latest_event_at() const { return latest_at_; }
  std::uint32_t contract_count() const { return contract_ids_.size(); }
  // Heap bytes of the engine's state, for memory accounting.
  std::size_t memory_bytes() const;

 private:
  friend class EngineSnapshot;  // engine/snapshot.h: writes and restores all of the state below

  // Per user, split by how often the rules read it: every episode opening
  // and step evaluation reads UserState (16 bytes, so the array of them
  // stays in cache); only user events and the frequency cap read UserDetail.
  struct UserState {
    const date::time_zone* zone = nullptr;  // nullptr: UTC
    bool opted_out = false;
    bool bouncing = false;    // mark_bouncing, until the address changes
    bool in_segment = false;  // the segment test on the current attributes
    std::int8_t arm = -1;     // cached Arm, -1 until first needed
  };
  struct UserDetail {
    std::uint32_t country = Interner::kNone;  // in attributes_, upper-cased
    std::uint32_t kind = Interner::kNone;     // in attributes_
    std::vector<Instant> sends;               // sent nudges, sorted; kept only with a cap
    std::uint64_t bounced_address = 0;        // while bouncing: the address's hash (lower-cased)
  };
  struct ContractState {
    std::uint32_t client = 0;
    std::uint32_t freelancer = 0;
    Instant last_fl_at = kNoInstant;
    Instant last_client_at = kNoInstant;
    Instant pending_since = kNoInstant;
    std::uint32_t episodes = 0;  // episodes opened; the open one is the last
    std::uint32_t steps_sent = 0;
    float risk = -1;              // the open episode's risk score; negative: none (fits the 48 bytes' padding)
    // The open episode's first ladder step not evaluated yet, and its risk
    // tier (0: the main ladder; the bits keep the state at 48 bytes).
    std::uint16_t next_step : 12 = 0;
    std::uint16_t tier : 4 = 0;
    bool ended = false;
    bool in_segment = false;
  };
  static_assert(sizeof(ContractState) == 48, "the per-contract state is what replay's memory budget is made of");

  // Fills the hash of `e`'s contract id.
  EventIds hash_ids(const Event& e) const;
  // Looks up the contract's id when not found yet.
  void find_ids(const Event& e, EventIds& ids) const;
  RejectReason check_and_apply(const Event& e, EventIds ids, bool advance);
  // Pops and evaluates every step due before `w`; steps due before
  // `stale_before` are evaluated at `now` (kNoInstant: never).
  void evaluate_before(Instant w, Instant stale_before, Instant now);
  // `ids.contract` is the id of the event's contract, kNone when unknown or
  // absent. Sets `ids.from` to a message's sender when it is a party.
  RejectReason check(const Event& e, EventIds& ids) const;
  // The party of `c` whose id is `name`; kNone when neither.
  std::uint32_t party_named(const ContractState& c, std::string_view name) const;
  void apply(const Event& e, const EventIds& ids);
  void apply_user(const Event& e);
  void apply_message(ContractState& c, std::uint32_t contract, std::uint32_t from, const Event& e);
  // `contract_id` is the contract's id text (from the event at hand).
  void open_episode(ContractState& c, std::uint32_t contract, std::string_view contract_id, Instant pending_since);
  // `e` is the event that closes the episode (a reply or contract_ended).
  void close_episode(ContractState& c, std::uint32_t contract, const Event& e, Outcome outcome);
  // The record of `c`'s current episode as it stands, outcome open.
  EpisodeRecord episode_record(const ContractState& c, std::string_view contract_id);
  void evaluate(const Timer& t);
  // Pops the next timer and starts loading what evaluating the timers its
  // FIFO gives next will read, in stages kTimerStageGap FIFO places apart,
  // each reading what the one before loaded (the stages are listed in
  // engine.cc).
  Timer pop_due();
  static constexpr std::size_t kTimerStageGap = 4;
  // Starts loading contracts_[contract]: both cache lines, as 48-byte states
  // straddle one half of the time.
  void prefetch_contract(std::uint32_t contract) const {
    const char* state = reinterpret_cast<const char*>(&contracts_[contract]);
    __builtin_prefetch(state);
    __builtin_prefetch(state + sizeof(ContractState) - 1);
  }
  void record(const ContractState& c, const Timer& t, Instant at, DecisionStatus status,
              DecisionReason reason);
  // find_contract by index. REQUIRES: contract < contract_count().
  ContractSnapshot contract_at(std::uint32_t contract) const;
  bool segment_matches(const UserDetail& u) const;
  // [segment] min_risk: false when the episode's risk is below it.
  bool meets_min_risk(float risk) const { return !policy_->segment.min_risk || risk >= *policy_->segment.min_risk; }
  // The highest risk tier whose min_risk `risk` reaches; 0 (the main ladder)
  // for none, or for no score.
  std::uint16_t tier_for(float risk) const;
  // The tier whose ladder the open episode of `c` follows under `policy`:
  // its own, or 0 (the main ladder) when `policy` has no such tier (a reload
  // removed it).
  static std::size_t tier_of(const Policy& policy, const ContractState& c) { return tier_under(policy, c.tier); }
  static const std::vector<LadderStep>& ladder_of(const Policy& policy, const ContractState& c) {
    return ladder_of_tier(policy, tier_of(policy, c));
  }
  Arm arm_of(std::uint32_t user);
  const date::time_zone* zone_for(std::string_view name);
  std::uint32_t user_id(std::string_view name);

  const Policy* policy_;
  EngineSink& sink_;
  EpisodeScorer* scorer_ = nullptr;
  std::uint32_t holdout_threshold_;
  Instant watermark_ = kNoInstant;
  Instant latest_at_ = kNoInstant;
  AppliedIds applied_;

  // The per-contract and per-user tables: read at random, and grown to
  // megabytes, so on huge pages (HugePageAllocator).
  template <typename T>
  using Table = std::vector<T, HugePageAllocator<T>>;
  Interner contract_ids_;
  Table<ContractState> contracts_;
  Table<std::uint32_t> open_episode_;  // per contract: the open episode's number, 0 when none
  Interner user_ids_;
  Table<UserState> users_;
  Table<UserDetail> user_details_;
  Interner attributes_;  // countries and kinds
  Interner zone_names_;
  std::vector<const date::time_zone*> zones_;
  ZoneOffsets zone_offsets_;  // for quiet hours: a cache, not state
  TimerQueue timers_;
};

}  // namespace gw
