#include "ghostwatch/engine/engine.h"

#include <algorithm>
#include <cassert>

#include <date/tz.h>

#include "ghostwatch/core/ascii.h"

namespace gw {

Engine::Engine(const Policy& policy, EngineSink& sink)
    : policy_(&policy),
      sink_(sink),
      holdout_threshold_(holdout_threshold(policy.holdout_percent)),
      timers_(contract_ids_) {
  assert(!policy.ladder.empty());
}

void Engine::set_policy(const Policy& policy) {
  assert(!policy.ladder.empty());
  policy_ = &policy;
  holdout_threshold_ = holdout_threshold(policy.holdout_percent);
  for (std::size_t u = 0; u < users_.size(); ++u) {
    users_[u].in_segment = segment_matches(user_details_[u]);
    users_[u].arm = -1;  // a cache of assign_arm, whose salt and share may have changed
  }
  // Deferred evaluations of steps the new ladder still has stay as they are;
  // every open episode's next step is scheduled again from the new ladder.
  std::vector<Timer> deferred;
  while (!timers_.empty()) {
    const Timer t = timers_.pop();
    if (!t.first && open_episode_[t.contract] == t.episode &&
        t.step < ladder_of(policy, contracts_[t.contract]).size()) {
      deferred.push_back(t);
    }
  }
  for (const Timer& t : deferred) timers_.push(t);
  for (std::uint32_t contract = 0; contract < open_episode_.size(); ++contract) {
    if (open_episode_[contract] == 0) continue;
    ContractState& c = contracts_[contract];
    if (c.tier > policy.risk_tiers.size()) c.tier = 0;
    const std::vector<LadderStep>& ladder = ladder_of(policy, c);
    if (c.next_step >= ladder.size()) continue;
    const Instant due = std::max(c.pending_since + ladder[c.next_step].after, watermark_);
    timers_.push(Timer{due, Interner::prefix_key(contract_ids_.view(contract)), contract, open_episode_[contract],
                       c.freelancer, c.next_step, true});
  }
}

RejectReason Engine::check(const Event& e, EventIds& ids) const {
  const std::uint32_t id = ids.contract;
  switch (e.type) {
    case EventType::kContractStarted:
      if (id != Interner::kNone) return RejectReason::kDuplicateContract;
      if (e.get(Field::kClient) == e.get(Field::kFreelancer)) return RejectReason::kBadField;
      return RejectReason::kNone;
    case EventType::kContractEnded:
    case EventType::kMessage: {
      if (id == Interner::kNone) return RejectReason::kUnknownContract;
      const ContractState& c = contracts_[id];
      if (c.ended) return RejectReason::kContractEnded;
      if (e.type == EventType::kMessage) {
        ids.from = party_named(c, e.get(Field::kFrom));
        if (ids.from != c.client && ids.from != c.freelancer) return RejectReason::kNotAParty;
      }
      return RejectReason::kNone;
    }
    default:
      return RejectReason::kNone;
  }
}

RejectReason Engine::submit(const Event& e) { return check_and_apply(e, hash_ids(e), true); }

RejectReason Engine::submit(const Event& e, const EventIds& ids) { return check_and_apply(e, ids, true); }

RejectReason Engine::submit_live(const Event& e) { return check_and_apply(e, hash_ids(e), false); }

std::uint32_t Engine::party_named(const ContractState& c, std::string_view name) const {
  if (user_ids_.equals(c.client, name)) return c.client;
  if (user_ids_.equals(c.freelancer, name)) return c.freelancer;
  return Interner::kNone;
}

Engine::EventIds Engine::hash_ids(const Event& e) const {
  EventIds ids;
  if (e.has(Field::kContract)) ids.contract_hash = Interner::hash_of(e.get(Field::kContract));
  return ids;
}

void Engine::find_ids(const Event& e, EventIds& ids) const {
  if (ids.contract == Interner::kNone && e.has(Field::kContract)) {
    ids.contract = contract_ids_.find(e.get(Field::kContract), ids.contract_hash);
  }
}

RejectReason Engine::check_and_apply(const Event& e, EventIds ids, bool advance) {
  find_ids(e, ids);
  RejectReason r = check(e, ids);
  if (r != RejectReason::kNone) return r;
  if (advance) advance_watermark(e.at - policy_->allowed_lateness);
  apply(e, ids);
  latest_at_ = std::max(latest_at_, e.at);
  return RejectReason::kNone;
}

void Engine::advance_watermark(Instant w) { evaluate_before(w, kNoInstant, kNoInstant); }

void Engine::advance_clock(Instant now) {
  evaluate_before(now - policy_->allowed_lateness, now - policy_->catch_up, now);
}

void Engine::evaluate_before(Instant w, Instant stale_before, Instant now) {
  if (w <= watermark_) w = watermark_;  // W2 = max(W, w); steps behind W still run
  for (;;) {
    // The next timer's time alone decides in most calls (nothing is due).
    const Instant at = timers_.top_at();
    if (at < stale_before) {
      // Catch-up: the step's effective time becomes now, and it re-enters
      // the order there, so steps caught up together go out in (contract,
      // step) order; it is evaluated in this pass even when allowed_lateness
      // holds the watermark behind now.
      Timer t = timers_.pop();
      t.at = now;
      t.caught_up = true;
      timers_.push(t);
      continue;
    }
    if (!(at < w || (at <= now && !timers_.empty() && timers_.top().caught_up))) break;
    evaluate(pop_due());
  }
  watermark_ = w;
}

void Engine::prefetch_ids(const Event& e, EventIds& ids) const {
  ids = hash_ids(e);
  if (e.has(Field::kContract)) contract_ids_.prefetch(ids.contract_hash);
}

void Engine::prefetch_state(const Event& e, EventIds& ids) const {
  find_ids(e, ids);
  if (ids.contract == Interner::kNone) return;
  prefetch_contract(ids.contract);
  __builtin_prefetch(&open_episode_[ids.contract]);
}

void Engine::prefetch_parties(const EventIds& ids) const {
  if (ids.contract == Interner::kNone) return;
  const ContractState& c = contracts_[ids.contract];
  __builtin_prefetch(&users_[c.freelancer]);
  user_ids_.prefetch_text(c.freelancer);
  user_ids_.prefetch_text(c.client);
}

void Engine::evaluate_through(Instant until) {
  while (!timers_.empty() && timers_.top_at() <= until) evaluate(pop_due());
}

Timer Engine::pop_due() {
  const Timer t = timers_.pop();
  // The stages, from the farthest: the timer itself (4 gaps ahead); its
  // open_episode_ entry (3); for a live timer only, as most are stale, its
  // contract's state, the freelancer's UserState and UserDetail, and the
  // contract's and the freelancer's id text, which a decision record
  // writes (2); the client's id text and the freelancer's send times (1).
  __builtin_prefetch(timers_.upcoming(4 * kTimerStageGap));  // (a null hint is harmless)
  if (const Timer* u = timers_.upcoming(3 * kTimerStageGap)) __builtin_prefetch(&open_episode_[u->contract]);
  const bool cap = policy_->max_nudges_per_day > 0;
  const Timer* u = timers_.upcoming(2 * kTimerStageGap);
  if (u != nullptr && open_episode_[u->contract] == u->episode) {
    prefetch_contract(u->contract);
    __builtin_prefetch(&users_[u->freelancer]);
    if (cap) __builtin_prefetch(&user_details_[u->freelancer]);
    contract_ids_.prefetch_text(u->contract);
    user_ids_.prefetch_text(u->freelancer);
  }
  u = timers_.upcoming(kTimerStageGap);
  if (u != nullptr && open_episode_[u->contract] == u->episode) {
    user_ids_.prefetch_text(contracts_[u->contract].client);
    if (cap) __builtin_prefetch(user_details_[u->freelancer].sends.data());
  }
  return t;
}

void Engine::emit_open_episodes() {
  for_each_open_episode([this](const EpisodeRecord& r) { sink_.on_episode(r); });
}

void Engine::for_each_open_episode(const std::function<void(const EpisodeRecord&)>& fn) {
  std::vector<std::uint32_t> open;
  for (std::uint32_t id = 0; id < contracts_.size(); ++id) {
    if (open_episode_[id] != 0) open.push_back(id);
  }
  std::sort(open.begin(), open.end(),
            [this](std::uint32_t a, std::uint32_t b) { return contract_ids_.view(a) < contract_ids_.view(b); });
  for (std::uint32_t id : open) fn(episode_record(contracts_[id], contract_ids_.view(id)));
}

std::optional<EpisodeRecord> Engine::open_episode(std::string_view contract) {
  const std::uint32_t id = contract_ids_.find(contract);
  if (id == Interner::kNone || open_episode_[id] == 0) return std::nullopt;
  return episode_record(contracts_[id], contract_ids_.view(id));
}

EpisodeRecord Engine::episode_record(const ContractState& c, std::string_view contract_id) {
  EpisodeRecord r;
  r.contract = contract_id;
  r.episode = c.episodes;
  r.freelancer = user_ids_.view(c.freelancer);
  r.client = user_ids_.view(c.client);
  r.arm = arm_of(c.freelancer);
  r.in_segment = c.in_segment;
  r.opened_at = c.pending_since;
  r.outcome = Outcome::kOpen;
  r.steps_sent = c.steps_sent;
  r.risk = c.risk;
  return r;
}

void Engine::apply(const Event& e, const EventIds& ids) {
  const std::uint32_t contract = ids.contract;
  applied_ = AppliedIds{contract, ids.from};
  switch (e.type) {
    case EventType::kUser:
      apply_user(e);
      return;
    case EventType::kContractStarted: {
      const std::uint32_t id = contract_ids_.intern(e.get(Field::kContract), ids.contract_hash);
      assert(id == contracts_.size() && contract == Interner::kNone);
      applied_.contract = id;
      ContractState c;
      c.client = user_id(e.get(Field::kClient));
      c.freelancer = user_id(e.get(Field::kFreelancer));
      contracts_.push_back(c);
      open_episode_.push_back(0);
      return;
    }
    case EventType::kContractEnded: {
      ContractState& c = contracts_[contract];
      if (open_episode_[contract] != 0) close_episode(c, contract, e, Outcome::kContractEnded);
      c.ended = true;
      return;
    }
    case EventType::kMessage:
      apply_message(contracts_[contract], contract, ids.from, e);
      return;
    case EventType::kOptOut:
    case EventType::kOptIn:
      applied_.user = user_id(e.get(Field::kUser));
      users_[applied_.user].opted_out = e.type == EventType::kOptOut;
      return;
  }
}

void Engine::apply_user(const Event& e) {
  const std::uint32_t id = user_id(e.get(Field::kId));
  applied_.user = id;
  UserDetail& d = user_details_[id];
  if (e.has(Field::kCountry)) d.country = attributes_.intern(to_upper_ascii(e.get(Field::kCountry)));
  if (e.has(Field::kKind)) d.kind = attributes_.intern(e.get(Field::kKind));
  if (e.has(Field::kTz)) users_[id].zone = zone_for(e.get(Field::kTz));
  if (users_[id].bouncing && e.has(Field::kEmail) &&
      Interner::hash_of(to_lower_ascii(e.get(Field::kEmail))) != d.bounced_address) {
    users_[id].bouncing = false;  // a new address: worth trying
  }
  users_[id].in_segment = segment_matches(d);
}

void Engine::apply_message(ContractState& c, std::uint32_t contract, std::uint32_t from, const Event& e) {
  const Instant t = e.at;
  if (from == c.client) {
    c.last_client_at = std::max(c.last_client_at, t);
    if (open_episode_[contract] == 0 && t > c.last_fl_at) open_episode(c, contract, e.get(Field::kContract), t);
    return;
  }
  c.last_fl_at = std::max(c.last_fl_at, t);
  if (open_episode_[contract] != 0 && t >= c.pending_since) {
    close_episode(c, contract, e, Outcome::kReplied);
    // A reply that arrives after a newer client message answers only the
    // older one: the newer message is pending from its own time.
    if (c.last_client_at > t) open_episode(c, contract, e.get(Field::kContract), c.last_client_at);
  }
}

void Engine::open_episode(ContractState& c, std::uint32_t contract, std::string_view contract_id,
                          Instant pending_since) {
  open_episode_[contract] = ++c.episodes;
  c.pending_since = pending_since;
  c.steps_sent = 0;
  c.next_step = 0;
  c.risk = -1;
  // One record for the scorer and the sink: only the risk and the segment,
  // which the score decides, differ between the two.
  EpisodeRecord r = episode_record(c, contract_id);
  if (scorer_ != nullptr) c.risk = scorer_->score(r);
  c.in_segment = users_[c.freelancer].in_segment && meets_min_risk(c.risk);
  c.tier = tier_for(c.risk);
  timers_.push(Timer{pending_since + ladder_of(*policy_, c)[0].after, Interner::prefix_key(contract_id), contract,
                     c.episodes, c.freelancer, 0, true});
  r.risk = c.risk;
  r.in_segment = c.in_segment;
  sink_.on_episode_opened(r);
}

void Engine::close_episode(ContractState& c, std::uint32_t contract, const Event& e, Outcome outcome) {
  open_episode_[contract] = 0;
  EpisodeRecord r = episode_record(c, e.get(Field::kContract));
  r.closed_at = e.at;
  r.outcome = outcome;
  if (outcome == Outcome::kContractEnded && e.has(Field::kReason)) {
    r.has_end_reason = true;
    r.end_reason = e.get(Field::kReason);
  }
  sink_.on_episode(r);
}

void Engine::evaluate(const Timer& t) {
  // Most timers outlive their episode (a reply came first): the compact
  // open_episode_ array tells without loading the contract's state.
  if (open_episode_[t.contract] != t.episode) return;  // the episode closed: step dropped
  ContractState& c = contracts_[t.contract];
  const auto& ladder = ladder_of(*policy_, c);
  const std::size_t next = static_cast<std::size_t>(t.step) + 1;
  if (t.first) c.next_step = static_cast<std::uint16_t>(next);
  if (t.first && next < ladder.size()) {
    timers_.push(Timer{c.pending_since + ladder[next].after, t.order, t.contract, t.episode, t.freelancer,
                       static_cast<std::uint16_t>(next), true});
  }
  const Instant at = t.at;
  // Rule 1: campaign window. Rule 2: segment. Both decide with no record.
  if (at < policy_->start || at >= policy_->end) return;
  UserState& fl = users_[t.freelancer];  // c.freelancer, without waiting for c
  if (!fl.in_segment || !meets_min_risk(c.risk)) return;
  // Rule 3: quiet hours defer the step to the window's end.
  if (policy_->quiet_hours) {
    if (auto end = policy_->quiet_hours->deferral(at, fl.zone, zone_offsets_)) {
      timers_.push(Timer{*end, t.order, t.contract, t.episode, t.freelancer, t.step, false});
      return;
    }
  }
  // Rule 4: a later step already due supersedes this one.
  if (next < ladder.size() && c.pending_since + ladder[next].after <= at) {
    record(c, t, at, DecisionStatus::kSkipped, DecisionReason::kSuperseded);
    return;
  }
  // Rule 5: the control arm is held out.
  if (arm_of(t.freelancer) == Arm::kControl) {
    record(c, t, at, DecisionStatus::kHeldOut, DecisionReason::kNone);
    return;
  }
  const bool nudge = ladder[t.step].action == StepAction::kNudge;
  // Rule 6: opt-out. Ours: a bouncing address. Rule 7: frequency cap over
  // sends within 24 h either side.
  if (nudge && fl.opted_out) {
    record(c, t, at, DecisionStatus::kSuppressed, DecisionReason::kOptedOut);
    return;
  }
  if (nudge && fl.bouncing) {
    record(c, t, at, DecisionStatus::kSuppressed, DecisionReason::kBounced);
    return;
  }
  if (nudge && policy_->max_nudges_per_day > 0) {
    std::vector<Instant>& sends = user_details_[t.freelancer].sends;
    auto lo = std::upper_bound(sends.begin(), sends.end(), at - kDay);
    auto hi = std::lower_bound(lo, sends.end(), at + kDay);
    if (hi - lo >= policy_->max_nudges_per_day) {
      record(c, t, at, DecisionStatus::kSuppressed, DecisionReason::kFrequencyCap);
      return;
    }
    sends.insert(std::upper_bound(sends.begin(), sends.end(), at), at);
  }
  ++c.steps_sent;
  record(c, t, at, DecisionStatus::kSent, DecisionReason::kNone);
}

void Engine::record(const ContractState& c, const Timer& t, Instant at, DecisionStatus status,
                    DecisionReason reason) {
  const LadderStep& step = ladder_of(*policy_, c)[t.step];
  Decision d;
  d.at = at;
  d.contract = contract_ids_.view(t.contract);
  d.episode = t.episode;
  d.step = t.step + 1u;
  d.action = step.action;
  d.target = step.target;
  d.freelancer = user_ids_.view(c.freelancer);
  d.client = user_ids_.view(c.client);
  d.arm = arm_of(c.freelancer);
  d.status = status;
  d.reason = reason;
  sink_.on_decision(d);
}

std::uint16_t Engine::tier_for(float risk) const {
  std::uint16_t tier = 0;
  for (std::size_t i = 0; i < policy_->risk_tiers.size() && risk >= policy_->risk_tiers[i].min_risk; ++i) {
    tier = static_cast<std::uint16_t>(i + 1);
  }
  return tier;
}

void Engine::mark_bouncing(std::string_view user, std::string_view address) {
  const std::uint32_t id = user_id(user);
  users_[id].bouncing = true;
  user_details_[id].bounced_address = Interner::hash_of(to_lower_ascii(address));
}

std::optional<ContractSnapshot> Engine::find_contract(std::string_view id) const {
  const std::uint32_t contract = contract_ids_.find(id);
  if (contract == Interner::kNone) return std::nullopt;
  return contract_at(contract);
}

void Engine::for_each_contract(const std::function<void(std::string_view, const ContractSnapshot&)>& fn) const {
  for (std::uint32_t id = 0; id < contracts_.size(); ++id) fn(contract_ids_.view(id), contract_at(id));
}

void Engine::for_each_user(const std::function<void(std::string_view, const UserSnapshot&)>& fn) const {
  for (std::uint32_t id = 0; id < users_.size(); ++id) fn(user_ids_.view(id), user_at(id));
}

ContractSnapshot Engine::contract_at(std::uint32_t contract) const {
  const ContractState& c = contracts_[contract];
  ContractSnapshot s;
  s.client = user_ids_.view(c.client);
  s.freelancer = user_ids_.view(c.freelancer);
  s.last_fl_at = c.last_fl_at;
  s.last_client_at = c.last_client_at;
  s.episodes = c.episodes;
  s.ended = c.ended;
  s.open = open_episode_[contract] != 0;
  if (s.open) {
    s.pending_since = c.pending_since;
    s.steps_sent = c.steps_sent;
    s.tier = tier_of(*policy_, c);
  }
  return s;
}

std::optional<UserSnapshot> Engine::find_user(std::string_view id) const {
  const std::uint32_t user = user_ids_.find(id);
  if (user == Interner::kNone) return std::nullopt;
  return user_at(user);
}

UserSnapshot Engine::user_at(std::uint32_t user) const {
  const UserState& u = users_[user];
  const UserDetail& d = user_details_[user];
  UserSnapshot s;
  if (d.country != Interner::kNone) s.country = attributes_.view(d.country);
  if (d.kind != Interner::kNone) s.kind = attributes_.view(d.kind);
  if (u.zone != nullptr) s.tz = u.zone->name();
  s.zone = u.zone;
  s.opted_out = u.opted_out;
  s.bouncing = u.bouncing;
  s.in_segment = u.in_segment;
  s.arm = u.arm >= 0 ? static_cast<Arm>(u.arm) : assign_arm(policy_->salt, user_ids_.view(user), holdout_threshold_);
  return s;
}

bool Engine::segment_matches(const UserDetail& u) const {
  return policy_->segment.admits(u.country == Interner::kNone ? std::string_view() : attributes_.view(u.country),
                                 u.kind == Interner::kNone ? std::string_view() : attributes_.view(u.kind));
}

Arm Engine::arm_of(std::uint32_t user) {
  UserState& u = users_[user];
  if (u.arm < 0) u.arm = static_cast<std::int8_t>(assign_arm(policy_->salt, user_ids_.view(user), holdout_threshold_));
  return static_cast<Arm>(u.arm);
}

const date::time_zone* Engine::zone_for(std::string_view name) {
  std::uint32_t id = zone_names_.intern(name);
  if (id == zones_.size()) zones_.push_back(find_time_zone(name));
  return zones_[id];
}

std::uint32_t Engine::user_id(std::string_view name) {
  std::uint32_t id = user_ids_.intern(name);
  if (id == users_.size()) {
    user_details_.emplace_back();
    users_.push_back(UserState{nullptr, false, false, segment_matches(user_details_.back()), -1});
  }
  return id;
}

std::size_t Engine::memory_bytes() const {
  std::size_t n = contract_ids_.memory_bytes() + contracts_.capacity() * sizeof(ContractState) +
                  open_episode_.capacity() * sizeof(std::uint32_t) +
                  user_ids_.memory_bytes() + users_.capacity() * sizeof(UserState) +
                  user_details_.capacity() * sizeof(UserDetail) + attributes_.memory_bytes() +
                  zone_names_.memory_bytes() + timers_.memory_bytes();
  for (const UserDetail& u : user_details_) n += u.sends.capacity() * sizeof(Instant);
  return n;
}

}  // namespace gw
