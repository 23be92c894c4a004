// FeatureStore: the risk model's streaming, causal feature store. It runs
// beside an Engine, sees every event the engine accepts and every episode
// the engine opens and closes (so episodes are the engine's, numbered as it
// numbers them), and computes an episode's features (features.h) when it
// opens, from the events applied before the one that opened it. Nothing an
// event changes is visible to episodes opened before it: features never
// look ahead.
//
// Every update is O(1) (amortised): per user and per contract a few
// counters, a 180-byte reply-time histogram per user (its median and 90th
// percentile kept up to date), the user's time zone offset period, and two
// queues of pending 24 h / 72 h horizons, resolved as event time passes
// them. An episode counts towards the "unanswered after H" shares only once its
// horizon H lies strictly before the latest accepted event time: by then
// any reply up to the horizon has been applied (in time-ordered input).
//
// Contracts and users are the engine's: the store keeps its state by the
// engine's indices (Engine::applied(), the contract's parties), so an event
// costs it a few counter updates and no id lookup; user attributes
// (country, kind, time zone) are read from the engine at the user's first
// opening after a user event (the only events that change them), and kept,
// the categorical ones as the store's ids of their texts (category_text). Not thread-safe; one
// thread drives the engine and the store.
//
// The driving order for each event e (see feature_stream.h):
//   begin_event(e); engine.submit(e) (calling on_episode_closed /
//   on_episode_opened); apply(e) when the engine accepted it.
//
// Snapshots (a service's, server/service_snapshot.h): encode() writes every
// part of the store's state that later features depend on, and restore()
// reads it into a fresh store beside an engine restored from the engine
// snapshot taken at the same point (engine/snapshot.h); driven alike from
// there, the restored store computes exactly the features the encoded one
// would have. What is only a cache is not written: a user's zone offset
// period (LocalClock looks it up again) and the periods remembered by zone,
// the FIFO's popped part.
//
// Format (version 1; byte_codec.h's encodings): "GWFEATS\n", u32 version,
// u8 client_messages; zz pending_at, now; the category texts after "" and
// the users' zone names (count, then bytes each); the users (count; per
// user zz first_seen, last_message_at, varint counters, category ids,
// u8 median and p90 buckets, u8 attributes_stale, varint zone + 1, then
// the reply histogram's cursors and counts); the contracts (count; varint
// parties, messages, open slot + 1, zz times and last reply, the client
// messages' sums as u64 bits and their zz time); the episode slots (count;
// varint contract, zz times) and the free ones (count; varint each); the
// 24 h and 72 h horizon queues, each its FIFO's queued part and its heap's
// container as they are (count; zz at, varint slot, freelancer each); u64
// XXH3-64 of everything before it.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ghostwatch/core/huge_page_allocator.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/engine/engine.h"
#include "ghostwatch/engine/event.h"
#include "ghostwatch/engine/records.h"
#include "ghostwatch/risk/features.h"
#include "ghostwatch/risk/local_clock.h"
#include "ghostwatch/risk/reply_histogram.h"

namespace gw {
class ByteReader;
class ByteWriter;
}  // namespace gw

namespace gw::risk {

inline constexpr std::uint32_t kFeatureStoreSnapshotVersion = 1;

class FeatureStore {
  static constexpr std::uint32_t kNoSlot = UINT32_MAX;

 public:
  // An opening's features, the categorical ones as the ids of their texts.
  using Features = BasicEpisodeFeatures<std::uint32_t>;

  // `engine` must outlive the store; it is only read. Without
  // `client_messages`, the store does not keep the contract's decayed client
  // messages (the only features whose upkeep is costly: two exp per client
  // message), and an opening's kClientMessages1h and kClientMessages24h are
  // NaN: for a model fixed for the store's life that does not read them
  // (RiskModel::reads), as the sums cannot be caught up later.
  explicit FeatureStore(const Engine& engine, bool client_messages = true);

  // For a driver that reads ahead (replay; see Engine::prefetch_ids): after
  // Engine::prefetch_state(e, ids), prefetch_contract(ids) starts loading
  // the store's state of the event's contract; after
  // Engine::prefetch_parties(ids), prefetch_parties(ids) what applying the
  // event reads of its parties (the sender, not known yet, is either) and
  // its open episode (and, as it may be a reply, the freelancer's reply
  // histogram). Same results without.
  // prefetch_contract is inlined into the driver's loop (it runs for every
  // event).
  void prefetch_contract(const Engine::EventIds& ids) const {
    if (ids.contract >= contracts_.size()) return;
    __builtin_prefetch(&contracts_[ids.contract]);  // one line (Table aligns it)
  }
  // Kept from interprocedural analysis (noipa): GCC finds that it only
  // reads memory and drops the call (with link-time optimisation, even
  // from another file), or, inlined into replay's loop, its prefetches.
  [[gnu::noipa]] void prefetch_parties(const Engine::EventIds& ids) const;

  void begin_event(const Event& e) { pending_at_ = e.at; }
  // A bus worker's partition, before begin_event: the whole log's event
  // time has reached `t` (Gw-Watermark, the largest time up to and including
  // the event), so horizons before it pass as they pass in a replay of the
  // whole log, where the other partitions' events move the time too.
  void pass_time(Instant t) {
    now_ = std::max(now_, t);
    pass_horizons(now_);
  }
  // Called while the engine applies the event that opens (closes) the
  // episode. REQUIRES: the episode's contract was started (apply saw it).
  Features open(const EpisodeRecord& r);
  // The same, the numeric values written as floats (each value of open()'s,
  // converted) to numeric[0, kNumericFeatureCount) (the model's input row,
  // FeatureEncoding's layout), and the category ids returned.
  using Categories = std::array<std::uint32_t, kCategoricalFeatureCount>;
  Categories open(const EpisodeRecord& r, float* numeric);
  void on_episode_closed(const EpisodeRecord& r);
  // open() with the categorical values' texts.
  EpisodeFeatures on_episode_opened(const EpisodeRecord& r);
  void apply(const Event& e);

  // The store's state as bytes (the format above).
  std::string encode() const;
  // Reads encode()'s bytes (see "Snapshots" above). Refuses, naming what is
  // wrong, bytes of another format or version, from a store that kept the
  // client messages when this one does not (or the reverse), truncated or
  // corrupt ones (the checksum, an index out of range, a zone this build
  // does not know). REQUIRES: the store is fresh (constructed, given
  // nothing since); a refused restore leaves it to be discarded.
  Status restore(std::string_view bytes);

  // The text of a category id (a country or a kind as the engine has it;
  // "" when unknown). REQUIRES: an id open() gave.
  const std::string& category_text(std::uint32_t id) const { return *category_texts_[id]; }

 private:
  // The contract's client messages, decayed over 1 h and over 24 h: the
  // sums of exp(-(now - t_i) / tau) over their times t_i, as of `at`.
  struct ClientMessages {
    double hour = 0, day = 0;
    Instant at = kNoInstant;
    void add(Instant t);
    // The sums as of `t` when it is later than `at` (else as they are):
    // what an opening at `t` reads, and what add(t) decays before adding,
    // so the opening's own message (added next) costs no second exp.
    void decay_to(Instant t);
  };
  // What every event and opening reads of a user (96 bytes), so that the
  // lookahead (prefetch_parties) loads it; their reply histogram is apart
  // (reply_times_), read only when they reply. Neither this nor
  // ContractStats is an over-aligned type (vectors of those made the
  // allocations around them, replay's own and the next run's, measurably
  // slower in the benchmark): their tables are aligned instead (Table).
  struct UserStats {
    Instant first_seen = kNoInstant;
    Instant last_message_at = kNoInstant;
    std::uint32_t active_contracts = 0;
    std::uint32_t open_episodes = 0;
    std::uint32_t episodes = 0;
    std::uint32_t replies_count = 0;  // exact; the histogram's counts may be halved
    std::uint32_t matured24 = 0, unanswered24 = 0;
    std::uint32_t matured72 = 0, unanswered72 = 0;
    // The user's attributes, category ids and zone (the clock's), as the
    // engine had them at their last opening; stale after a user event,
    // until the next one.
    Categories categories{};  // 0: ""
    // The reply histogram's median and 90th percentile buckets, as of its last reply.
    std::uint8_t median_bucket = 0, p90_bucket = 0;
    bool attributes_stale = false;
    LocalClock clock;
  };
  static_assert(sizeof(UserStats) == 96,
                "what an opening reads of its freelancer: two cache lines (Table aligns them)");
  // 64 bytes: at most two cache lines.
  struct ContractStats {
    std::uint32_t client = 0;
    std::uint32_t freelancer = 0;
    std::uint32_t messages = 0;
    std::uint32_t open_slot = kNoSlot;  // the open episode's slot
    Instant started_at = 0;
    Instant last_fl_at = kNoInstant;
    Duration last_reply = -1;  // the previous episode's wait for its reply; -1: none
    ClientMessages client_messages;
  };
  static_assert(sizeof(ContractStats) == 64, "a cache line's size");
  // An episode until its 72 h horizon has passed (its 24 h one, earlier,
  // is resolved by then: pass_horizons resolves the 24 h queue first); then
  // the slot is free for another episode, even while its own is still open.
  struct EpisodeSlot {
    std::uint32_t contract = 0;  // the engine's index of the episode's contract
    Instant opened_at = 0;
    Instant replied_at = kNoInstant;
  };
  // The episode's freelancer travels with its horizon, so that resolving it
  // loads the slot and the freelancer's state at once.
  struct Horizon {
    Instant at;
    std::uint32_t slot;
    std::uint32_t freelancer;
    bool operator>(const Horizon& o) const { return at > o.at; }
  };
  // Horizons in time order: a FIFO for those pushed in order (nearly all:
  // episodes open in event order), a heap for the rest. The FIFO is a
  // vector read from `head_`, compacted when its read half grows large, so
  // that a push or pop is a few inlined instructions.
  class HorizonQueue {
   public:
    void push(Horizon h) {
      if (fifo_empty() || h.at >= fifo_.back().at) {
        fifo_.push_back(h);
      } else {
        heap_.push(h);
      }
      next_at_ = std::min(next_at_, h.at);
    }
    // The earliest horizon's time; kForever when none is queued.
    Instant next_at() const { return next_at_; }
    // REQUIRES: a horizon is queued.
    const Horizon& top() const { return top_in_fifo() ? fifo_[head_] : heap_.top(); }
    // The queued horizons as bytes (the format above), and back: read
    // returns false when the reader fails, a horizon's slot or freelancer
    // is not below `slots` or `users`, or the FIFO's or the heap's order
    // does not hold. REQUIRES for read: the queue is empty.
    void write(ByteWriter& w) const;
    bool read(ByteReader& r, std::size_t slots, std::size_t users);
    // Pops every horizon before `now`, in time order, and passes it to `f`
    // (which must not push), with the FIFO's horizon kAhead places after
    // it when it came from the FIFO and one is queued there (else nullptr):
    // what the resolution kAhead horizons later reads, to prefetch. With
    // the heap empty (nearly always), a run of the FIFO, with no
    // comparison of heads.
    template <std::size_t kAhead, class F>
    void pop_before(Instant now, F&& f) {
      if (!heap_.empty()) {
        while (next_at_ < now) {
          const bool from_fifo = top_in_fifo();
          const Horizon h = top();
          f(h, from_fifo && head_ + kAhead < fifo_.size() ? &fifo_[head_ + kAhead] : nullptr);
          pop();
        }
        return;
      }
      std::size_t i = head_;
      for (; i < fifo_.size() && fifo_[i].at < now; ++i)
        f(fifo_[i], i + kAhead < fifo_.size() ? &fifo_[i + kAhead] : nullptr);
      drop_fifo_before(i);
      next_at_ = fifo_empty() ? kForever : fifo_[head_].at;
    }

   private:
    static constexpr std::size_t kCompactAfter = 4096;  // popped horizons
    bool fifo_empty() const { return head_ == fifo_.size(); }
    bool top_in_fifo() const { return heap_.empty() || (!fifo_empty() && fifo_[head_].at <= heap_.top().at); }
    void pop() {
      if (top_in_fifo()) {
        drop_fifo_before(head_ + 1);
      } else {
        heap_.pop();
      }
      next_at_ = fifo_empty() && heap_.empty() ? kForever : top().at;
    }
    // The FIFO's head moves to `i`.
    void drop_fifo_before(std::size_t i) {
      head_ = i;
      if (head_ >= kCompactAfter && 2 * head_ >= fifo_.size()) {
        fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
    }
    Instant next_at_ = kForever;
    std::vector<Horizon> fifo_;  // [head_, end): queued, in time order
    std::size_t head_ = 0;
    // Its container open to write and read, so that a read heap pops
    // horizons of equal times in the written one's order.
    struct Heap : std::priority_queue<Horizon, std::vector<Horizon>, std::greater<>> {
      using std::priority_queue<Horizon, std::vector<Horizon>, std::greater<>>::c;
    };
    Heap heap_;
  };
  // The state of the engine's user `u`, first seen no later than `at`.
  UserStats& user(std::uint32_t u, Instant at) {
    if (u >= users_.size()) add_users(u);
    UserStats& s = users_[u];
    seen(s, at);
    return s;
  }
  // `s` was named by an event at `at`.
  static void seen(UserStats& s, Instant at) {
    if (s.first_seen == kNoInstant || at < s.first_seen) s.first_seen = at;
  }
  // A message at `at` on the applied contract. Its sender is one of the
  // contract's parties, whose records contract_started made (or restore
  // read): no bounds check.
  void apply_message(Instant at) {
    const Engine::AppliedIds& ids = engine_.applied();
    ContractStats& s = contracts_[ids.contract];
    assert(ids.user < users_.size());
    UserStats& sender = users_[ids.user];
    seen(sender, at);
    ++s.messages;
    sender.last_message_at = std::max(sender.last_message_at, at);
    // Half of the messages are each party's: the sender's side is chosen
    // by a select rather than a branch (the decayed client messages, when
    // kept, still branch: they cost two exp).
    const bool from_client = ids.user == s.client;
    s.last_fl_at = masked_select(from_client, s.last_fl_at, std::max(s.last_fl_at, at));
    if (client_messages_ && from_client) s.client_messages.add(at);
  }
  // `a` when `take_a`, else `b`, by a mask rather than a branch: GCC makes
  // a branch of a plain conditional here (sharing it with one nearby), and
  // a branch on which party wrote, or on whether a contract has an open
  // episode, mispredicts about as often as not.
  static std::uint64_t masked_select(bool take_a, std::uint64_t a, std::uint64_t b) {
    const std::uint64_t mask = std::uint64_t{0} - static_cast<std::uint64_t>(take_a);
    return b ^ ((a ^ b) & mask);
  }
  static Instant masked_select(bool take_a, Instant a, Instant b) {
    return static_cast<Instant>(masked_select(take_a, static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(b)));
  }
  static const char* masked_select(bool take_a, const char* a, const char* b) {
    return reinterpret_cast<const char*>(
        masked_select(take_a, reinterpret_cast<std::uintptr_t>(a), reinterpret_cast<std::uintptr_t>(b)));
  }
  // Makes room for the users up to `u`: rare, kept out of user()'s inlined path.
  [[gnu::cold]] void add_users(std::uint32_t u);
  // Reads the user's attributes from the engine. At an opening, not at the
  // user event: by then the engine has the user's arm, which
  // Engine::user_at computes (thousands of instructions) until it does.
  void read_attributes(std::uint32_t u, UserStats& s);
  std::uint32_t category_id(std::string_view text);
  // open(), the numeric values as Value (double, or float for the model's row).
  template <class Value>
  Categories open_as(const EpisodeRecord& r, Value* numeric);
  // Resolves every horizon strictly before `now`.
  void pass_horizons(Instant now) {
    if (horizons24_.next_at() < now) resolve<false>(horizons24_, now);
    if (horizons72_.next_at() < now) resolve<true>(horizons72_, now);
  }
  // The same for one queue, whose next horizon is before `now`. Each
  // horizon resolved starts loading what the FIFO's horizon
  // kResolveAhead places after it reads, so that every horizon of the
  // FIFO (but the first few) has started to load that long before it is
  // resolved, also in runs resolved together (nearly half of the
  // horizons pass in runs of two or more, whose loads then overlap). The
  // 72 h queue frees the episodes' slots.
  template <bool kIs72>
  void resolve(HorizonQueue& q, Instant now);
  // Starts loading what resolving `h` reads (nothing for nullptr).
  void prefetch_horizon(const Horizon* h) const {
    if (h == nullptr) return;
    __builtin_prefetch(&slots_[h->slot]);
    __builtin_prefetch(&users_[h->freelancer].matured24);
  }
  static constexpr std::size_t kResolveAhead = 3;  // FIFO places

  const Engine& engine_;
  bool client_messages_;
  Instant pending_at_ = kNoInstant;
  Instant now_ = kNoInstant;  // the latest accepted event time
  // Read at random, as the engine's per-contract state: on huge pages, and
  // smaller tables aligned to cache lines (a contract's record then spans
  // one line, a user's two).
  template <typename T>
  using Table = std::vector<T, HugePageAllocator<T, 64>>;
  Table<UserStats> users_;             // by the engine's user index
  Table<ReplyHistogram> reply_times_;  // the same
  ZoneOffsets zone_offsets_;           // the users' clocks' periods, by zone
  // Looked up by a text's view (read_attributes: once per user and user event).
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint32_t, TextHash, std::equal_to<>> category_ids_;
  std::vector<const std::string*> category_texts_;  // by id: keys of category_ids_ (nodes: they stay put)
  Table<ContractStats> contracts_;                  // by the engine's contract index
  Table<EpisodeSlot> slots_;  // read at random too (by the horizons, the replies and the lookahead)
  std::vector<std::uint32_t> free_slots_;
  HorizonQueue horizons24_, horizons72_;
};

}  // namespace gw::risk
