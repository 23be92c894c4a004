#include "ghostwatch/risk/feature_store.h"

#include <cassert>
#include <cmath>
#include <limits>

namespace gw::risk {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double seconds_between(Instant from, Instant to) {
  return from == kNoInstant ? kNaN : static_cast<double>(to - from) / static_cast<double>(kSecond);
}

double share(std::uint32_t part, std::uint32_t whole) {
  return whole == 0 ? kNaN : static_cast<double>(part) / static_cast<double>(whole);
}

// `value`, a decayed count as of `from`, at `to` (later).
double decayed(double value, Instant from, Instant to, Duration tau) {
  return value * std::exp(-static_cast<double>(to - from) / static_cast<double>(tau));
}

}  // namespace

FeatureStore::FeatureStore(const Engine& engine, bool client_messages)
    : engine_(engine), client_messages_(client_messages) {
  category_id("");  // id 0: what users without attributes have
}

void FeatureStore::ClientMessages::add(Instant t) {
  if (at == kNoInstant || t >= at) {
    decay_to(t);  // none before the first message: both sums are 0
    hour += 1.0;
    day += 1.0;
    at = t;
  } else {  // an out-of-order message counts with its own age
    hour += std::exp(-static_cast<double>(at - t) / static_cast<double>(kHour));
    day += std::exp(-static_cast<double>(at - t) / static_cast<double>(kDay));
  }
}

void FeatureStore::ClientMessages::decay_to(Instant t) {
  if (at == kNoInstant || t <= at) return;
  hour = decayed(hour, at, t, kHour);
  day = decayed(day, at, t, kDay);
  at = t;
}

void FeatureStore::prefetch_contract(const Engine::EventIds& ids) const {
  if (ids.contract >= contracts_.size()) return;
  const char* c = reinterpret_cast<const char*>(&contracts_[ids.contract]);
  __builtin_prefetch(c);
  __builtin_prefetch(c + sizeof(ContractStats) - 1);
}

void FeatureStore::prefetch_parties(const Engine::EventIds& ids) const {
  if (ids.contract >= contracts_.size()) return;
  const ContractStats& c = contracts_[ids.contract];
  // The sender is not known yet (Engine::EventIds): a message reads the
  // start of its sender's record, the client's or the freelancer's.
  __builtin_prefetch(&users_[c.client]);
  const char* fl = reinterpret_cast<const char*>(&users_[c.freelancer]);
  __builtin_prefetch(fl);
  __builtin_prefetch(fl + sizeof(UserStats) - 1);
  if (c.open_slot == kNoSlot) return;
  __builtin_prefetch(&slots_[c.open_slot]);
  // Perhaps a reply, added to the freelancer's histogram: all of it, a few
  // lines (also for the client's messages, which do not read it).
  const char* h = reinterpret_cast<const char*>(&reply_times_[c.freelancer]);
  for (std::size_t at = 0; at < sizeof(ReplyHistogram); at += 64) __builtin_prefetch(h + at);
  __builtin_prefetch(h + sizeof(ReplyHistogram) - 1);
}

void FeatureStore::add_users(std::uint32_t u) {
  assert(u != Interner::kNone);
  users_.resize(u + 1);
  reply_times_.resize(u + 1);
}

void FeatureStore::read_attributes(std::uint32_t u, UserStats& s) {
  const UserSnapshot attributes = engine_.user_at(u);
  s.clock.set_zone(attributes.zone);
  s.categories[static_cast<std::size_t>(CategoricalFeature::kFlCountry)] = category_id(attributes.country);
  s.categories[static_cast<std::size_t>(CategoricalFeature::kFlKind)] = category_id(attributes.kind);
  s.attributes_stale = false;
}

std::uint32_t FeatureStore::category_id(std::string_view text) {
  auto it = category_ids_.find(text);
  if (it == category_ids_.end()) {
    it = category_ids_.emplace(std::string(text), static_cast<std::uint32_t>(category_texts_.size())).first;
    category_texts_.push_back(&it->first);
  }
  return it->second;
}

void FeatureStore::pass_horizons(Instant now) {
  if (horizons24_.next_at() < now) resolve<false>(horizons24_, now);
  if (horizons72_.next_at() < now) resolve<true>(horizons72_, now);
}

template <bool kIs72>
void FeatureStore::resolve(HorizonQueue& q, Instant now) {
  constexpr Duration kHorizon = kIs72 ? 3 * kDay : kDay;
  q.pop_before(now, [&](const Horizon& h) {
    const EpisodeSlot& e = slots_[h.slot];
    const bool unanswered = e.replied_at == kNoInstant || e.replied_at - e.opened_at > kHorizon;
    UserStats& fl = users_[h.freelancer];
    ++(kIs72 ? fl.matured72 : fl.matured24);
    if (unanswered) ++(kIs72 ? fl.unanswered72 : fl.unanswered24);
    if constexpr (kIs72) free_slots_.push_back(h.slot);
  });
  if (q.next_at() != kForever) {
    __builtin_prefetch(&slots_[q.top().slot]);
    __builtin_prefetch(&users_[q.top().freelancer].matured24);
  }
}

EpisodeFeatures FeatureStore::on_episode_opened(const EpisodeRecord& r) {
  const Features f = open(r);
  EpisodeFeatures texts;
  texts.numeric = f.numeric;
  for (std::size_t i = 0; i < kCategoricalFeatureCount; ++i) texts.categorical[i] = category_text(f.categorical[i]);
  return texts;
}

FeatureStore::Features FeatureStore::open(const EpisodeRecord& r) {
  pass_horizons(std::max(now_, pending_at_));
  ContractStats& contract = contracts_[engine_.applied().contract];
  UserStats& fl = users_[contract.freelancer];
  const Instant t = r.opened_at;

  Features f;
  using N = NumericFeature;
  const bool replied = fl.replies_count > 0;
  f[N::kFlReplyMedianS] = replied ? ReplyHistogram::bucket_seconds(fl.median_bucket) : kNaN;
  f[N::kFlReplyP90S] = replied ? ReplyHistogram::bucket_seconds(fl.p90_bucket) : kNaN;
  f[N::kFlReplies] = fl.replies_count;
  f[N::kFlEpisodes] = fl.episodes;
  f[N::kFlUnanswered24Share] = share(fl.unanswered24, fl.matured24);
  f[N::kFlUnanswered72Share] = share(fl.unanswered72, fl.matured72);
  f[N::kFlMatured72] = fl.matured72;
  f[N::kFlOpenEpisodes] = fl.open_episodes;
  f[N::kFlActiveContracts] = fl.active_contracts;
  f[N::kFlSinceLastMessageS] = seconds_between(fl.last_message_at, t);
  f[N::kFlTenureS] = seconds_between(fl.first_seen, t);
  if (fl.attributes_stale) read_attributes(contract.freelancer, fl);
  const Instant local = fl.clock.local(t);
  f[N::kLocalHour] = static_cast<double>(floor_mod(local, kDay) / kHour);
  f[N::kLocalWeekday] = static_cast<double>(floor_mod(floor_div(local, kDay) + 3, 7));  // 1970-01-01 was a Thursday
  if (client_messages_) {
    contract.client_messages.decay_to(t);
    f[N::kClientMessages1h] = contract.client_messages.hour;
    f[N::kClientMessages24h] = contract.client_messages.day;
  } else {
    f[N::kClientMessages1h] = f[N::kClientMessages24h] = kNaN;
  }
  f[N::kContractAgeS] = seconds_between(contract.started_at, t);
  f[N::kContractMessages] = contract.messages;
  f[N::kContractEpisode] = r.episode;
  f[N::kContractSinceFlMessageS] = seconds_between(contract.last_fl_at, t);
  // A contract's episodes open one at a time and only contract_ended closes
  // one without a reply: the previous episode, if any, was replied.
  f[N::kContractLastReplyS] =
      contract.last_reply < 0 ? kNaN : static_cast<double>(contract.last_reply) / static_cast<double>(kSecond);
  f.categorical = fl.categories;

  ++fl.episodes;
  ++fl.open_episodes;
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  slots_[slot] = EpisodeSlot{engine_.applied().contract, t, kNoInstant};
  horizons24_.push(Horizon{t + kDay, slot, contract.freelancer});
  horizons72_.push(Horizon{t + 3 * kDay, slot, contract.freelancer});
  contract.open_slot = slot;
  return f;
}

void FeatureStore::on_episode_closed(const EpisodeRecord& r) {
  ContractStats& contract = contracts_[engine_.applied().contract];
  UserStats& fl = users_[contract.freelancer];
  --fl.open_episodes;
  if (r.outcome == Outcome::kReplied) {
    const Duration wait = std::max<Duration>(0, r.closed_at - r.opened_at);
    ReplyHistogram& reply_times = reply_times_[contract.freelancer];
    reply_times.add(wait);
    fl.median_bucket = reply_times.median_bucket();
    fl.p90_bucket = reply_times.p90_bucket();
    ++fl.replies_count;
    contract.last_reply = wait;
    // Both horizons may have passed, and the slot gone to another
    // contract's episode, whose reply this is not.
    EpisodeSlot& slot = slots_[contract.open_slot];
    if (slot.contract == engine_.applied().contract) slot.replied_at = r.closed_at;
  }
  contract.open_slot = kNoSlot;
}

void FeatureStore::apply(const Event& e) {
  now_ = std::max(now_, e.at);
  pass_horizons(now_);
  const Engine::AppliedIds& ids = engine_.applied();
  switch (e.type) {
    case EventType::kUser: user(ids.user, e.at).attributes_stale = true; return;
    case EventType::kOptOut:
    case EventType::kOptIn: user(ids.user, e.at); return;
    case EventType::kContractStarted: {
      assert(ids.contract == contracts_.size());
      ContractStats s;
      s.client = engine_.client_of(ids.contract);
      s.freelancer = engine_.freelancer_of(ids.contract);
      user(s.client, e.at);
      ++user(s.freelancer, e.at).active_contracts;
      s.started_at = e.at;
      contracts_.push_back(s);
      return;
    }
    case EventType::kContractEnded: --users_[contracts_[ids.contract].freelancer].active_contracts; return;
    case EventType::kMessage: {
      ContractStats& s = contracts_[ids.contract];
      UserStats& sender = user(ids.user, e.at);
      ++s.messages;
      sender.last_message_at = std::max(sender.last_message_at, e.at);
      if (ids.user == s.client) {
        if (client_messages_) s.client_messages.add(e.at);
      } else {
        s.last_fl_at = std::max(s.last_fl_at, e.at);
      }
      return;
    }
  }
}

}  // namespace gw::risk
