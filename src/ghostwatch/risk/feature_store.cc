#include "ghostwatch/risk/feature_store.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <bit>
#include <cassert>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "ghostwatch/core/byte_codec.h"
#include "ghostwatch/core/sealed_bytes.h"
#include "ghostwatch/policy/quiet_hours.h"

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

constexpr std::string_view kFeatureStoreMagic = "GWFEATS\n";

Status feature_store_error(std::string_view what) {
  return Status::error(fmt::format("feature store snapshot: {}", what));
}

// An index as varint index + 1, `none` as 0.
void write_index(ByteWriter& w, std::uint32_t i, std::uint32_t none) { w.varint(i == none ? 0 : std::uint64_t{i} + 1); }
// The same, read: false for one not below `size`.
bool read_index(ByteReader& r, std::size_t size, std::uint32_t none, std::uint32_t& i) {
  const std::uint64_t v = r.varint();
  i = v == 0 ? none : static_cast<std::uint32_t>(v - 1);
  return v <= size;
}

void write_double(ByteWriter& w, double v) { w.u64(std::bit_cast<std::uint64_t>(v)); }
double read_double(ByteReader& r) { return std::bit_cast<double>(r.u64()); }

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

void FeatureStore::prefetch_parties(const Engine::EventIds& ids) const {
  if (ids.contract >= contracts_.size()) return;
  const ContractStats& c = contracts_[ids.contract];
  // The sender is not known yet (Engine::EventIds): a message reads the
  // start of its sender's record, the client's or the freelancer's.
  __builtin_prefetch(&users_[c.client]);
  const char* fl = reinterpret_cast<const char*>(&users_[c.freelancer]);
  __builtin_prefetch(fl);
  __builtin_prefetch(fl + sizeof(UserStats) - 1);
  // With an open episode, its slot and, as the event may be a reply added
  // to the freelancer's histogram, all of the histogram's lines (also for
  // the client's messages, which do not read it). Without one, the same
  // prefetches all go to the freelancer's record, already on its way: a
  // branch on whether the contract has an open episode mispredicts often.
  const bool open = c.open_slot != kNoSlot;
  const std::uint32_t slot =
      static_cast<std::uint32_t>(masked_select(open, std::uint64_t{c.open_slot}, std::uint64_t{0}));
  __builtin_prefetch(masked_select(open, reinterpret_cast<const char*>(slots_.data() + slot), fl));
  const char* h = masked_select(open, reinterpret_cast<const char*>(&reply_times_[c.freelancer]), fl);
  const std::uint64_t line = masked_select(open, std::uint64_t{64}, std::uint64_t{0});
  for (std::uint64_t i = 0; i * 64 < sizeof(ReplyHistogram); ++i) __builtin_prefetch(h + i * line);
  __builtin_prefetch(h + masked_select(open, std::uint64_t{sizeof(ReplyHistogram) - 1}, std::uint64_t{0}));
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

template <bool kIs72>
void FeatureStore::resolve(HorizonQueue& q, Instant now) {
  constexpr Duration kHorizon = kIs72 ? 3 * kDay : kDay;
  q.pop_before<kResolveAhead>(now, [&](const Horizon& h, const Horizon* ahead) {
    prefetch_horizon(ahead);
    const EpisodeSlot& e = slots_[h.slot];
    const bool unanswered = e.replied_at == kNoInstant || e.replied_at - e.opened_at > kHorizon;
    UserStats& fl = users_[h.freelancer];
    ++(kIs72 ? fl.matured72 : fl.matured24);
    (kIs72 ? fl.unanswered72 : fl.unanswered24) += unanswered ? 1 : 0;
    if constexpr (kIs72) free_slots_.push_back(h.slot);
  });
}
template void FeatureStore::resolve<false>(HorizonQueue& q, Instant now);
template void FeatureStore::resolve<true>(HorizonQueue& q, Instant now);

EpisodeFeatures FeatureStore::on_episode_opened(const EpisodeRecord& r) {
  const Features f = open(r);
  EpisodeFeatures texts;
  texts.numeric = f.numeric;
  for (std::size_t i = 0; i < kCategoricalFeatureCount; ++i) texts.categorical[i] = category_text(f.categorical[i]);
  return texts;
}

FeatureStore::Features FeatureStore::open(const EpisodeRecord& r) {
  Features f;
  f.categorical = open_as(r, f.numeric.data());
  return f;
}

FeatureStore::Categories FeatureStore::open(const EpisodeRecord& r, float* numeric) { return open_as(r, numeric); }

template <class Value>
FeatureStore::Categories FeatureStore::open_as(const EpisodeRecord& r, Value* numeric) {
  pass_horizons(std::max(now_, pending_at_));
  ContractStats& contract = contracts_[engine_.applied().contract];
  UserStats& fl = users_[contract.freelancer];
  const Instant t = r.opened_at;

  const auto set = [numeric](NumericFeature f, double v) { numeric[static_cast<std::size_t>(f)] = static_cast<Value>(v); };
  using N = NumericFeature;
  const bool replied = fl.replies_count > 0;
  set(N::kFlReplyMedianS, replied ? ReplyHistogram::bucket_seconds(fl.median_bucket) : kNaN);
  set(N::kFlReplyP90S, replied ? ReplyHistogram::bucket_seconds(fl.p90_bucket) : kNaN);
  set(N::kFlReplies, fl.replies_count);
  set(N::kFlEpisodes, fl.episodes);
  set(N::kFlUnanswered24Share, share(fl.unanswered24, fl.matured24));
  set(N::kFlUnanswered72Share, share(fl.unanswered72, fl.matured72));
  set(N::kFlMatured72, fl.matured72);
  set(N::kFlOpenEpisodes, fl.open_episodes);
  set(N::kFlActiveContracts, fl.active_contracts);
  set(N::kFlSinceLastMessageS, seconds_between(fl.last_message_at, t));
  set(N::kFlTenureS, seconds_between(fl.first_seen, t));
  if (fl.attributes_stale) read_attributes(contract.freelancer, fl);
  const Instant local = fl.clock.local(t, zone_offsets_);
  set(N::kLocalHour, static_cast<double>(floor_mod(local, kDay) / kHour));
  set(N::kLocalWeekday, static_cast<double>(floor_mod(floor_div(local, kDay) + 3, 7)));  // 1970-01-01 was a Thursday
  if (client_messages_) {
    contract.client_messages.decay_to(t);
    set(N::kClientMessages1h, contract.client_messages.hour);
    set(N::kClientMessages24h, contract.client_messages.day);
  } else {
    set(N::kClientMessages1h, kNaN);
    set(N::kClientMessages24h, kNaN);
  }
  set(N::kContractAgeS, seconds_between(contract.started_at, t));
  set(N::kContractMessages, contract.messages);
  set(N::kContractEpisode, r.episode);
  set(N::kContractSinceFlMessageS, seconds_between(contract.last_fl_at, t));
  // A contract's episodes open one at a time and only contract_ended closes
  // one without a reply: the previous episode, if any, was replied.
  set(N::kContractLastReplyS,
      contract.last_reply < 0 ? kNaN : static_cast<double>(contract.last_reply) / static_cast<double>(kSecond));

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
  return fl.categories;
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
  // Messages first, without the switch's indirect jump: nearly every event
  // is one.
  if (e.type == EventType::kMessage) {
    apply_message(e.at);
    return;
  }
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
    case EventType::kMessage: return;  // apply_message
  }
}

void FeatureStore::HorizonQueue::write(ByteWriter& w) const {
  auto horizons = [&w](auto begin, auto end) {
    w.varint(static_cast<std::uint64_t>(end - begin));
    for (auto h = begin; h != end; ++h) {
      w.zigzag(h->at);
      w.varint(h->slot);
      w.varint(h->freelancer);
    }
  };
  horizons(fifo_.begin() + static_cast<std::ptrdiff_t>(head_), fifo_.end());
  horizons(heap_.c.begin(), heap_.c.end());
}

bool FeatureStore::HorizonQueue::read(ByteReader& r, std::size_t slots, std::size_t users) {
  auto horizons = [&](std::vector<Horizon>& out) {
    out.resize(r.count());
    for (Horizon& h : out) {
      h.at = r.zigzag();
      const std::uint64_t slot = r.varint(), freelancer = r.varint();
      if (slot >= slots || freelancer >= users) return false;
      h.slot = static_cast<std::uint32_t>(slot);
      h.freelancer = static_cast<std::uint32_t>(freelancer);
    }
    return !r.failed();
  };
  if (!horizons(fifo_) || !horizons(heap_.c)) return false;
  head_ = 0;
  const auto by_time = [](const Horizon& a, const Horizon& b) { return a.at < b.at; };
  if (!std::is_sorted(fifo_.begin(), fifo_.end(), by_time) ||
      !std::is_heap(heap_.c.begin(), heap_.c.end(), std::greater<>())) {
    return false;
  }
  next_at_ = fifo_empty() && heap_.empty() ? kForever : top().at;
  return true;
}

std::string FeatureStore::encode() const {
  ByteWriter w = begin_sealed(kFeatureStoreMagic, kFeatureStoreSnapshotVersion);
  w.u8(client_messages_ ? 1 : 0);
  w.zigzag(pending_at_);
  w.zigzag(now_);
  w.varint(category_texts_.size() - 1);
  for (std::size_t i = 1; i < category_texts_.size(); ++i) w.bytes(*category_texts_[i]);
  std::unordered_map<const date::time_zone*, std::uint32_t> zone_ids;
  std::vector<const date::time_zone*> zones;
  for (const UserStats& u : users_) {
    if (u.clock.zone() != nullptr && zone_ids.emplace(u.clock.zone(), zones.size()).second)
      zones.push_back(u.clock.zone());
  }
  w.varint(zones.size());
  for (const date::time_zone* z : zones) w.bytes(z->name());
  w.varint(users_.size());
  for (std::size_t i = 0; i < users_.size(); ++i) {
    const UserStats& u = users_[i];
    w.zigzag(u.first_seen);
    w.zigzag(u.last_message_at);
    for (std::uint32_t n : {u.active_contracts, u.open_episodes, u.episodes, u.replies_count, u.matured24,
                            u.unanswered24, u.matured72, u.unanswered72}) {
      w.varint(n);
    }
    for (std::uint32_t c : u.categories) w.varint(c);
    w.u8(u.median_bucket);
    w.u8(u.p90_bucket);
    w.u8(u.attributes_stale ? 1 : 0);
    write_index(w, u.clock.zone() == nullptr ? Interner::kNone : zone_ids.at(u.clock.zone()), Interner::kNone);
    reply_times_[i].write(w);
  }
  w.varint(contracts_.size());
  for (const ContractStats& c : contracts_) {
    w.varint(c.client);
    w.varint(c.freelancer);
    w.varint(c.messages);
    write_index(w, c.open_slot, kNoSlot);
    w.zigzag(c.started_at);
    w.zigzag(c.last_fl_at);
    w.zigzag(c.last_reply);
    write_double(w, c.client_messages.hour);
    write_double(w, c.client_messages.day);
    w.zigzag(c.client_messages.at);
  }
  w.varint(slots_.size());
  for (const EpisodeSlot& e : slots_) {
    w.varint(e.contract);
    w.zigzag(e.opened_at);
    w.zigzag(e.replied_at);
  }
  w.varint(free_slots_.size());
  for (std::uint32_t slot : free_slots_) w.varint(slot);
  horizons24_.write(w);
  horizons72_.write(w);
  return seal(w);
}

Status FeatureStore::restore(std::string_view bytes) {
  if (now_ != kNoInstant || pending_at_ != kNoInstant || !users_.empty() || !contracts_.empty() ||
      category_texts_.size() != 1) {
    return feature_store_error("restore needs a fresh store, and this one has state");
  }
  auto sealed = open_sealed(bytes, kFeatureStoreMagic, "feature store snapshot", kFeatureStoreSnapshotVersion,
                            kFeatureStoreSnapshotVersion);
  if (!sealed) return feature_store_error(sealed.message());
  ByteReader& r = sealed->body;
  if (const bool kept = r.u8() != 0; kept != client_messages_) {
    return feature_store_error(kept ? "its store kept the contracts' client messages, and this one does not"
                                    : "its store did not keep the contracts' client messages, and this one does");
  }
  pending_at_ = r.zigzag();
  now_ = r.zigzag();
  for (std::uint64_t i = 1, n = r.count() + 1; i < n; ++i) {
    if (category_id(r.bytes()) != i) {
      return feature_store_error("corrupt: the category texts do not hold (one runs past the end, or appears twice)");
    }
  }
  std::vector<const date::time_zone*> zones(r.count());
  for (const date::time_zone*& z : zones) {
    const std::string_view name = r.bytes();
    z = find_time_zone(name);
    if (z == nullptr && !r.failed()) {
      return feature_store_error(fmt::format("the time zone '{}' is not in this build's zone database", name));
    }
  }
  const std::size_t users = r.count();
  users_.resize(users);
  reply_times_.resize(users);
  for (std::size_t i = 0; i < users; ++i) {
    UserStats& u = users_[i];
    u.first_seen = r.zigzag();
    u.last_message_at = r.zigzag();
    for (std::uint32_t* n : {&u.active_contracts, &u.open_episodes, &u.episodes, &u.replies_count, &u.matured24,
                             &u.unanswered24, &u.matured72, &u.unanswered72}) {
      *n = static_cast<std::uint32_t>(r.varint());
    }
    bool ok = true;
    for (std::uint32_t& c : u.categories) {
      const std::uint64_t id = r.varint();
      ok = ok && id < category_texts_.size();
      c = static_cast<std::uint32_t>(id);
    }
    u.median_bucket = r.u8();
    u.p90_bucket = r.u8();
    u.attributes_stale = r.u8() != 0;
    std::uint32_t zone = Interner::kNone;
    ok = read_index(r, zones.size(), Interner::kNone, zone) && ok;
    u.clock.set_zone(ok && zone != Interner::kNone ? zones[zone] : nullptr);
    ok = ok && reply_times_[i].read(r) && u.median_bucket < ReplyHistogram::kBuckets &&
         u.p90_bucket < ReplyHistogram::kBuckets;
    if (!ok || r.failed()) return feature_store_error(fmt::format("corrupt: user {}'s state does not hold", i));
  }
  contracts_.resize(r.count());
  std::vector<std::uint32_t> open_slots;
  for (std::size_t i = 0; i < contracts_.size(); ++i) {
    ContractStats& c = contracts_[i];
    const std::uint64_t client = r.varint(), freelancer = r.varint();
    c.client = static_cast<std::uint32_t>(client);
    c.freelancer = static_cast<std::uint32_t>(freelancer);
    c.messages = static_cast<std::uint32_t>(r.varint());
    const bool slot_ok = read_index(r, kNoSlot, kNoSlot, c.open_slot);  // checked against the slots below
    c.started_at = r.zigzag();
    c.last_fl_at = r.zigzag();
    c.last_reply = r.zigzag();
    c.client_messages.hour = read_double(r);
    c.client_messages.day = read_double(r);
    c.client_messages.at = r.zigzag();
    if (r.failed() || client >= users || freelancer >= users || !slot_ok) {
      return feature_store_error(fmt::format("corrupt: contract {}'s state does not hold", i));
    }
  }
  slots_.resize(r.count());
  for (EpisodeSlot& e : slots_) {
    const std::uint64_t contract = r.varint();
    e.contract = static_cast<std::uint32_t>(contract);
    e.opened_at = r.zigzag();
    e.replied_at = r.zigzag();
    if (r.failed() || contract >= contracts_.size())
      return feature_store_error("corrupt: an episode slot does not hold");
  }
  for (const ContractStats& c : contracts_) {
    if (c.open_slot != kNoSlot && c.open_slot >= slots_.size()) {
      return feature_store_error("corrupt: a contract's open episode has no slot");
    }
  }
  free_slots_.resize(r.count());
  for (std::uint32_t& slot : free_slots_) {
    const std::uint64_t v = r.varint();
    slot = static_cast<std::uint32_t>(v);
    if (v >= slots_.size()) return feature_store_error("corrupt: a free episode slot is out of range");
  }
  if (!horizons24_.read(r, slots_.size(), users) || !horizons72_.read(r, slots_.size(), users)) {
    return feature_store_error("corrupt: a horizon queue does not hold");
  }
  if (r.failed() || r.remaining() != 0) {
    return feature_store_error("corrupt: its contents do not hold (a field runs past the end, or bytes are left over)");
  }
  return Status::ok();
}

}  // namespace gw::risk
