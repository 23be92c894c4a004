#include "ghostwatch/sim/marketplace.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

#include "ghostwatch/core/json_text.h"
#include "ghostwatch/sim/action_queue.h"
#include "ghostwatch/sim/bad_lines.h"
#include "ghostwatch/sim/ids.h"
#include "ghostwatch/sim/line_buffer.h"
#include "ghostwatch/sim/names.h"
#include "ghostwatch/sim/places.h"
#include "ghostwatch/sim/random.h"

namespace gw::sim {
namespace {

// Behaviour tables (durations in ms).

constexpr Duration kMin = kMinute;

// Freelancer reply delay after a client's message block, by profile. The
// slow and ghoster tails straddle the default ladder (24 h, 72 h, 120 h).
constexpr Piece kFastReply[] = {{30, 2 * kMin, 20 * kMin},
                                {35, 20 * kMin, 90 * kMin},
                                {25, 90 * kMin, 6 * kHour},
                                {10, 6 * kHour, 20 * kHour}};
constexpr Piece kSlowReply[] = {{15, 8 * kHour, 20 * kHour},
                                {40, 20 * kHour, 40 * kHour},
                                {30, 40 * kHour, 80 * kHour},
                                {15, 80 * kHour, 150 * kHour}};
constexpr Piece kGhosterReply[] = {{20, 1 * kHour, 12 * kHour},
                                   {30, 12 * kHour, 48 * kHour},
                                   {30, 48 * kHour, 100 * kHour},
                                   {20, 100 * kHour, 200 * kHour}};
constexpr std::span<const Piece> kReplyDelay[kProfileCount] = {kFastReply, kSlowReply,
                                                               kGhosterReply};
// Chance that a client's message block is never answered, by profile. A
// ghoster who does not answer has left the contract for good.
constexpr std::uint32_t kNeverAnswerPpm[kProfileCount] = {ppm(0.03), ppm(0.12), ppm(0.40)};

constexpr Piece kFollowUpGap[] = {{50, 20 * kHour, 40 * kHour}, {50, 40 * kHour, 80 * kHour}};
constexpr Piece kGiveUpGap[] = {{60, 1 * kDay, 3 * kDay}, {40, 3 * kDay, 6 * kDay}};
constexpr Piece kRoundGap[] = {{30, 1 * kHour, 6 * kHour},
                               {40, 6 * kHour, 24 * kHour},
                               {20, 1 * kDay, 3 * kDay},
                               {10, 3 * kDay, 7 * kDay}};
constexpr Piece kStatusUpdateGap[] = {{50, 4 * kHour, 1 * kDay}, {50, 1 * kDay, 3 * kDay}};
constexpr Piece kWrapUpGap[] = {{50, 1 * kHour, 12 * kHour}, {50, 12 * kHour, 3 * kDay}};
constexpr Piece kContractLength[] = {{15, 1 * kDay, 4 * kDay},
                                     {35, 4 * kDay, 14 * kDay},
                                     {35, 14 * kDay, 45 * kDay},
                                     {15, 45 * kDay, 120 * kDay}};
// Gap to the next offer, in thousandths of the freelancer's mean gap: a
// piecewise stand-in for an exponential (mean 1.04).
constexpr Piece kOfferGapPermille[] = {
    {40, 0, 500}, {25, 500, 1000}, {20, 1000, 2000}, {10, 2000, 3000}, {5, 3000, 5000}};

constexpr std::uint32_t kClientBurstPpm = ppm(0.30);      // 1..2 extra messages follow
constexpr std::uint32_t kFreelancerBurstPpm = ppm(0.25);  // 1 extra message follows
constexpr std::uint32_t kFreelancerFirstPpm = ppm(0.25);  // freelancer writes the kick-off
constexpr std::uint32_t kStatusUpdatePpm = ppm(0.15);     // freelancer writes the next round
constexpr std::uint32_t kMessageIdPpm = ppm(0.55);
constexpr int kMaxFollowUps = 2;

// Timestamp styles.
constexpr std::uint32_t kLatePpm = ppm(0.01);
constexpr std::uint32_t kMillisPpm = ppm(0.12);
constexpr std::uint32_t kMicrosPpm = ppm(0.03);  // of the stamps with milliseconds
constexpr std::uint32_t kLocalOffsetPpm = ppm(0.06);
constexpr std::uint32_t kLowerCasePpm = ppm(0.001);

// ---------------------------------------------------------------------------
// The simulation: a discrete-event loop over a queue of actions.

struct Window {  // a daily window in local time, possibly wrapping midnight
  std::uint16_t open_min;
  std::uint16_t len_min;
};

struct Freelancer {
  std::uint32_t mean_offer_gap_min;
  Window window;
  std::uint8_t place;
  Profile profile;
  std::uint8_t capacity;
  std::uint8_t active = 0;  // contracts started or about to start
  bool agency;
  bool joined = false;
};

struct Client {
  Window window;
  std::uint8_t place;
};

enum class Step : std::uint8_t { kStart, kClientMessage, kFreelancerMessage, kEnd };
enum class EndReason : std::uint8_t { kCompleted, kCancelled, kReplaced, kNone };
constexpr std::string_view kEndReasonNames[] = {"completed", "cancelled", "replaced"};

struct Contract {
  std::uint64_t number;
  Instant started_at;
  Instant wrap_up_after;  // the planned length is over; the next good moment ends it
  std::uint32_t client;
  std::uint32_t freelancer;
  Step next;
  EndReason reason;
  std::uint8_t burst_left;
  std::uint8_t follow_ups;
  bool vanished;  // a ghoster stopped answering on this contract
  bool live;
  bool started;  // its contract_started line is written
  // The client's last message block is unanswered; the freelancer's answer
  // is planned at reply_at (kForever: never). Read by the closed loop.
  bool waiting;
  Instant reply_at;
  // The key of the contract's one live action; an action with another key
  // was replaced (a nudge made the freelancer answer sooner) and is dropped.
  std::uint64_t pending_key;
};

constexpr std::size_t kEndedRing = 64;

class Generator final : SimulationView {
 public:
  Generator(const MarketplaceOptions& options, const ChunkSink& sink, NudgeFeedback* feedback)
      : options_(options),
        sink_(sink),
        feedback_(feedback),
        rng_(options.seed),
        nudge_rng_(options.seed ^ 0x6e75646765736e74ULL),  // "nudgesnt": its own stream
        end_(options.start + options.days * kDay),
        queue_(options.start, end_) {
    dst_cache_.fill({kForever, kNoInstant, false});  // empty spans: computed on first use
    lift_per_billion_ = static_cast<std::uint64_t>(options.reply_24h_lift * 1e9 + 0.5);
  }

  MarketplaceStats run() {
    create_users();
    Action a;
    while (!failed_ && queue_.pop(a)) {
      // Contracts and freelancers sit at random places in memory; fetching
      // the next action's while this one runs hides most of the cache
      // misses. (Written inline: GCC deletes a call to a function that only
      // prefetches, as it has no effect.)
      if (const Action* next = queue_.peek(); next != nullptr) {
        if (next->kind() == ActionKind::kContract) {
          __builtin_prefetch(contracts_.data() + next->target);
          __builtin_prefetch(freelancers_.data() + next->freelancer);
        } else if (next->kind() == ActionKind::kOffer) {
          __builtin_prefetch(freelancers_.data() + next->target);
        }
      }
      dispatch(a);
      if (feedback_ != nullptr) react_to_nudges(a.at);
    }
    flush();
    stats_.events = stats_.lines - stats_.bad_lines;
    stats_.complete = !failed_;
    return stats_;
  }

 private:
  // --- Set-up -------------------------------------------------------------

  void create_users() {
    const std::int64_t nf = options_.freelancers;
    const std::int64_t nc = options_.clients;
    const Duration span = end_ - options_.start;
    freelancers_.resize(static_cast<std::size_t>(nf));
    clients_.resize(static_cast<std::size_t>(nc));
    for (std::int64_t i = 0; i < nc; ++i) {
      Client& c = clients_[static_cast<std::size_t>(i)];
      c.place = static_cast<std::uint8_t>(pick_by_weight(rng_, kClientPlaces));
      c.window = {static_cast<std::uint16_t>(rng_.between(7 * 60 + 30, 9 * 60 + 30)),
                  static_cast<std::uint16_t>(rng_.between(9 * 60, 11 * 60))};
      push(options_.start + rng_.between(0, 3 * kHour), ActionKind::kClientJoins, i);
    }
    for (std::int64_t i = 0; i < nf; ++i) {
      Freelancer& f = freelancers_[static_cast<std::size_t>(i)];
      init_freelancer(f);
      const bool early = rng_.chance(ppm(0.85));
      const Instant joins = options_.start + (early ? rng_.between(0, 3 * kHour)
                                                    : rng_.between(3 * kHour, span * 4 / 5));
      push(joins, ActionKind::kFreelancerJoins, i);
      if (rng_.chance(ppm(0.04))) push(joins + rng_.between(kHour, span), ActionKind::kOptOut, i);
      if (rng_.chance(ppm(0.03))) {
        push(joins + rng_.between(kDay, span), ActionKind::kProfileChange, i);
      }
    }
  }

  void init_freelancer(Freelancer& f) {
    f.place = static_cast<std::uint8_t>(pick_by_weight(rng_, kFreelancerPlaces));
    f.agency = rng_.chance(ppm(0.125));
    set_capacity(f);
    const std::uint64_t p = rng_.below(100);
    const std::uint64_t fast = f.agency ? 75 : 57;
    const std::uint64_t slow = f.agency ? 20 : 27;
    f.profile = p < fast ? Profile::kFast : p < fast + slow ? Profile::kSlow : Profile::kGhoster;
    ++stats_.freelancers_by_profile[static_cast<std::size_t>(f.profile)];
    if (kFreelancerPlaces[f.place].night_shift && rng_.chance(ppm(0.20))) {
      f.window = {static_cast<std::uint16_t>(rng_.between(17 * 60, 20 * 60)),
                  static_cast<std::uint16_t>(rng_.between(9 * 60, 11 * 60))};
    } else {
      f.window = {static_cast<std::uint16_t>(rng_.between(7 * 60, 10 * 60)),
                  static_cast<std::uint16_t>(rng_.between(10 * 60, 14 * 60))};
    }
  }

  void set_capacity(Freelancer& f) {
    f.capacity = static_cast<std::uint8_t>(f.agency ? rng_.between(3, 8) : rng_.between(1, 3));
    f.mean_offer_gap_min =
        static_cast<std::uint32_t>(f.agency ? rng_.between(3 * 24 * 60, 7 * 24 * 60)
                                            : rng_.between(10 * 24 * 60, 22 * 24 * 60));
  }

  // --- The event loop -----------------------------------------------------

  std::uint64_t push(Instant at, ActionKind kind, std::int64_t target, std::uint32_t freelancer = 0) {
    const std::uint64_t key = seq_++ << 8 | static_cast<std::uint64_t>(kind);
    queue_.push({at, key, static_cast<std::uint32_t>(target), freelancer});
    return key;
  }

  // The contract's next step, replacing any step it had pending.
  void push_contract(Contract& c, std::uint32_t slot, Instant at) {
    c.pending_key = push(at, ActionKind::kContract, slot, c.freelancer);
  }

  void dispatch(const Action& a) {
    switch (a.kind()) {
      case ActionKind::kFreelancerJoins: freelancer_joins(a.target, a.at); break;
      case ActionKind::kClientJoins: write_client_user(a.target, a.at); break;
      case ActionKind::kOffer: offer(a.target, a.at); break;
      case ActionKind::kReplacement: replacement(a.target, a.freelancer, a.at); break;
      case ActionKind::kProfileChange: profile_change(a.target, a.at); break;
      case ActionKind::kOptOut: opt(a.target, a.at, true); break;
      case ActionKind::kOptIn: opt(a.target, a.at, false); break;
      case ActionKind::kContract: contract_step(a.target, a.key, a.at); break;
    }
  }

  Instant offer_gap(const Freelancer& f) {
    return static_cast<Instant>(f.mean_offer_gap_min) * kMinute * sample(rng_, kOfferGapPermille) /
           1040;
  }

  void freelancer_joins(std::uint32_t i, Instant t) {
    Freelancer& f = freelancers_[i];
    f.joined = true;
    write_freelancer_user(i, t);
    if (t < options_.start + 3 * kHour) warm_start(i, t);
    push(t + 30 * kMinute + offer_gap(f), ActionKind::kOffer, i);
  }

  // A marketplace does not start empty: freelancers present from the start
  // bring running contracts, which start within the first day and a half
  // (close to the steady-state load, so the event rate hardly ramps up).
  void warm_start(std::uint32_t i, Instant t) {
    const Freelancer& f = freelancers_[i];
    const std::int64_t running = rng_.between(0, f.capacity);
    for (std::int64_t k = 0; k < running; ++k) {
      open_contract(pick_client(), i, t + rng_.between(kHour, 36 * kHour));
    }
  }

  // An offer reaches the freelancer, who takes it when below capacity.
  void offer(std::uint32_t i, Instant t) {
    Freelancer& f = freelancers_[i];
    if (f.active < f.capacity) open_contract(pick_client(), i, t);
    push(t + std::max<Duration>(kHour, offer_gap(f)), ActionKind::kOffer, i);
  }

  // Some clients hire far more than others: the minimum of two uniform
  // draws favours low indexes.
  std::uint32_t pick_client() {
    const std::uint64_t n = clients_.size();
    std::uint64_t c = rng_.below(n);
    if (rng_.chance(ppm(0.6))) c = std::min(c, rng_.below(n));
    return static_cast<std::uint32_t>(c);
  }

  // A client who replaced a freelancer hires another one.
  void replacement(std::uint32_t client, std::uint32_t replaced, Instant t) {
    for (int attempt = 0; attempt < 6; ++attempt) {
      const auto i = static_cast<std::uint32_t>(rng_.below(freelancers_.size()));
      const Freelancer& f = freelancers_[i];
      if (i != replaced && f.joined && f.active < f.capacity) {
        open_contract(client, i, t);
        return;
      }
    }
  }

  void open_contract(std::uint32_t client, std::uint32_t freelancer, Instant t) {
    std::uint32_t slot;
    if (free_slots_.empty()) {
      slot = static_cast<std::uint32_t>(contracts_.size());
      contracts_.emplace_back();
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
    }
    Contract& c = contracts_[slot];
    c = Contract{};
    c.number = ++contract_numbers_;
    c.client = client;
    c.freelancer = freelancer;
    c.next = Step::kStart;
    c.reason = EndReason::kNone;
    c.live = true;
    c.reply_at = kForever;
    ++freelancers_[freelancer].active;
    if (feedback_ != nullptr) slot_of_number_.push_back(slot);  // index c.number - 1
    push_contract(c, slot, client_time(client, t));
  }

  void contract_step(std::uint32_t slot, std::uint64_t key, Instant t) {
    Contract& c = contracts_[slot];
    if (key != c.pending_key) return;  // replaced by a sooner reply
    switch (c.next) {
      case Step::kStart: start_contract(c, slot, t); break;
      case Step::kClientMessage: client_message(c, slot, t); break;
      case Step::kFreelancerMessage: freelancer_message(c, slot, t); break;
      case Step::kEnd: end_contract(c, slot, t); break;
    }
  }

  void schedule(Contract& c, std::uint32_t slot, Step step, Instant at) {
    c.next = step;
    if (step == Step::kClientMessage) {
      c.burst_left =
          rng_.chance(kClientBurstPpm) ? static_cast<std::uint8_t>(rng_.between(1, 2)) : 0;
    } else if (step == Step::kFreelancerMessage) {
      c.burst_left = rng_.chance(kFreelancerBurstPpm) ? 1 : 0;
    }
    push_contract(c, slot, at);
  }

  void start_contract(Contract& c, std::uint32_t slot, Instant t) {
    c.started_at = t;
    c.wrap_up_after = t + sample(rng_, kContractLength);
    c.started = true;
    write_contract_started(c, t);
    if (rng_.chance(kFreelancerFirstPpm)) {
      schedule(c, slot, Step::kFreelancerMessage,
               freelancer_time(c.freelancer, t + rng_.between(5 * kMinute, 6 * kHour)));
    } else {
      schedule(c, slot, Step::kClientMessage,
               client_time(c.client, t + rng_.between(10 * kMinute, kDay)));
    }
  }

  void client_message(Contract& c, std::uint32_t slot, Instant t) {
    write_message(c, true, t);
    if (c.burst_left > 0) {
      --c.burst_left;
      push_contract(c, slot, t + rng_.between(kMinute, 12 * kMinute));
      return;
    }
    c.waiting = true;
    const Freelancer& f = freelancers_[c.freelancer];
    const auto profile = static_cast<std::size_t>(f.profile);
    // A ghoster who went silent on a contract stays silent; the others may
    // still answer a follow-up.
    const bool silent = c.vanished || rng_.chance(kNeverAnswerPpm[profile]);
    if (silent && f.profile == Profile::kGhoster) c.vanished = true;
    c.reply_at = kForever;
    if (!silent) {
      c.reply_at = freelancer_time(c.freelancer, t + sample(rng_, kReplyDelay[profile]));
      schedule(c, slot, Step::kFreelancerMessage, c.reply_at);
    } else if (c.follow_ups < kMaxFollowUps) {
      ++c.follow_ups;
      schedule(c, slot, Step::kClientMessage,
               client_time(c.client, t + sample(rng_, kFollowUpGap)));
    } else {
      // The client gives up on a silent freelancer.
      const std::uint64_t r = rng_.below(100);
      c.reason = r < 55   ? EndReason::kCancelled
                 : r < 90 ? EndReason::kReplaced
                          : EndReason::kCompleted;
      schedule(c, slot, Step::kEnd, client_time(c.client, t + sample(rng_, kGiveUpGap)));
    }
  }

  void freelancer_message(Contract& c, std::uint32_t slot, Instant t) {
    write_message(c, false, t);
    c.waiting = false;
    c.reply_at = kForever;
    if (c.burst_left > 0) {
      --c.burst_left;
      push_contract(c, slot, t + rng_.between(kMinute, 8 * kMinute));
      return;
    }
    c.follow_ups = 0;
    if (t >= c.wrap_up_after) {
      const std::uint64_t r = rng_.below(100);
      c.reason = r < 90   ? EndReason::kCompleted
                 : r < 96 ? EndReason::kCancelled
                          : EndReason::kReplaced;
      schedule(c, slot, Step::kEnd, client_time(c.client, t + sample(rng_, kWrapUpGap)));
    } else if (rng_.chance(kStatusUpdatePpm)) {
      schedule(c, slot, Step::kFreelancerMessage,
               freelancer_time(c.freelancer, t + sample(rng_, kStatusUpdateGap)));
    } else {
      schedule(c, slot, Step::kClientMessage, client_time(c.client, t + sample(rng_, kRoundGap)));
    }
  }

  void end_contract(Contract& c, std::uint32_t slot, Instant t) {
    if (rng_.chance(ppm(0.03))) c.reason = EndReason::kNone;
    write_contract_ended(c, t);
    ended_[ended_count_++ % kEndedRing] = {c.number, c.client, c.freelancer};
    --freelancers_[c.freelancer].active;
    if (c.reason == EndReason::kReplaced) {
      push(client_time(c.client, t + rng_.between(kHour, 2 * kDay)), ActionKind::kReplacement,
           c.client, c.freelancer);
    }
    c.live = false;
    free_slots_.push_back(slot);
  }

  void profile_change(std::uint32_t i, Instant t) {
    Freelancer& f = freelancers_[i];
    if (rng_.chance(ppm(0.6))) {
      std::size_t place = pick_by_weight(rng_, kFreelancerPlaces);
      if (place == f.place) place = (place + 1) % std::size(kFreelancerPlaces);
      f.place = static_cast<std::uint8_t>(place);
      write_user_update(i, t, true);
    } else {
      f.agency = !f.agency;
      set_capacity(f);
      write_user_update(i, t, false);
    }
  }

  void opt(std::uint32_t i, Instant t, bool out) {
    write_opt(i, t, out);
    if (out && rng_.chance(ppm(0.25))) {
      push(t + rng_.between(kDay, 30 * kDay), ActionKind::kOptIn, i);
    }
  }

  // --- The closed loop --------------------------------------------------

  // The nudges the engine sent while the lines up to `now` went out (it
  // decides a step once an event stamped after it arrives). A nudge is
  // eligible when its contract's client is waiting and the freelancer's
  // answer is not planned by N + 24 h; it converts with the lift's chance.
  void react_to_nudges(Instant now) {
    feedback_->take_nudges(nudges_);
    for (const SentNudge& n : nudges_) {
      ++stats_.nudges;
      if (n.contract_number == 0 || n.contract_number > slot_of_number_.size()) continue;
      const std::uint32_t slot = slot_of_number_[n.contract_number - 1];
      Contract& c = contracts_[slot];
      if (c.number != n.contract_number || !c.live || !c.waiting) continue;
      if (c.reply_at <= n.at + kDay) continue;
      ++stats_.nudges_eligible;
      if (nudge_rng_.below(1'000'000'000) >= lift_per_billion_) continue;
      const Instant reply = std::max(n.at + nudge_rng_.between(kMinute, kDay), now);
      ++stats_.nudges_converted;
      if (reply > n.at + kDay) ++stats_.late_conversions;
      c.vanished = false;
      c.follow_ups = 0;
      c.reply_at = reply;
      schedule(c, slot, Step::kFreelancerMessage, reply);
    }
  }

  // --- Local working hours -------------------------------------------------

  // The place's UTC offset at `t`, in minutes. Each place remembers the span
  // its last answer holds for: offsets change twice a year at most.
  int offset_minutes(const Place& p, Instant t) {
    if (p.dst == Dst::kNone) return p.std_offset_min;
    const std::less<const Place*> before;
    const bool client =
        !before(&p, std::begin(kClientPlaces)) && before(&p, std::end(kClientPlaces));
    const std::size_t slot = client ? std::size(kFreelancerPlaces) + (&p - kClientPlaces)
                                    : static_cast<std::size_t>(&p - kFreelancerPlaces);
    DstSpan& span = dst_cache_[slot];
    if (t < span.from || t >= span.until) span = dst_span(p, t);
    return p.std_offset_min + (span.dst ? 60 : 0);
  }

  Instant client_time(std::uint32_t i, Instant t) {
    const Client& c = clients_[i];
    return next_active(t, kClientPlaces[c.place], c.window, ppm(0.85));
  }

  Instant freelancer_time(std::uint32_t i, Instant t) {
    const Freelancer& f = freelancers_[i];
    return next_active(t, kFreelancerPlaces[f.place], f.window, ppm(0.35));
  }

  // The first instant at or after `t` inside the user's daily window. With
  // the given chance the user does not work on weekends this time. A time
  // moved to a window's opening gets up to 3 h of jitter so that not
  // everyone writes at the minute the window opens.
  Instant next_active(Instant t, const Place& place, Window w, std::uint32_t weekend_off_ppm) {
    const Duration off = offset_minutes(place, t) * kMinute;
    const Instant local = t + off;
    const bool weekend_off = rng_.chance(weekend_off_ppm);
    const std::int64_t day = floor_div(local, kDay);
    const Duration open = w.open_min * kMinute;
    const Duration len = w.len_min * kMinute;
    for (std::int64_t d = day - 1; d <= day; ++d) {  // a window opened yesterday may wrap
      const Instant opening = d * kDay + open;
      if (local >= opening && local < opening + len && !(weekend_off && is_weekend(d))) return t;
    }
    std::int64_t d = local < day * kDay + open ? day : day + 1;
    while (weekend_off && is_weekend(d)) ++d;
    return d * kDay + open + rng_.between(0, std::min(len, 3 * kHour)) - off;
  }

  static bool is_weekend(std::int64_t day) {
    const std::int64_t wd = weekday(day);
    return wd == 0 || wd == 6;
  }

  // --- Writing events -----------------------------------------------------

  void begin_line(Instant t) {
    if (bad_lines_.due()) write_bad_line(t);
    line_start_ = out_.size();
  }

  void end_line() {
    out_.lit("\"}\n");
    ++stats_.lines;
    show_line();
    if (out_.full()) flush();
  }

  // Shows the line that starts at line_start_ (and ends with a newline) to
  // the closed loop.
  void show_line() {
    if (feedback_ == nullptr) return;
    const std::string_view written = out_.view();
    feedback_->on_line(written.substr(line_start_, written.size() - line_start_ - 1));
  }

  void flush() {
    if (out_.size() == 0 || failed_) return;
    if (!sink_(out_.view())) failed_ = true;
    out_.clear();
  }

  // Appends `","key":"value` (the value's closing quote comes from the next
  // field or end_line).
  template <std::size_t N>
  void put_field(const char (&key)[N], std::string_view value) {
    out_.lit("\",\"");
    out_.lit(key);
    out_.lit("\":\"");
    out_.put(value);
  }

  // `YYYY-MM-DDTHH:MM:SS`, then `.mmm` when the milliseconds are not zero.
  // The date part is cached: consecutive events mostly share a day.
  void put_time(Instant t) {
    const std::int64_t day = floor_div(t, kDay);
    if (day != cached_day_) {
      std::string date;
      append_rfc3339(date, day * kDay);
      std::memcpy(cached_date_, date.data(), 11);  // YYYY-MM-DDT
      cached_day_ = day;
    }
    out_.lit(cached_date_);
    const auto ms = static_cast<unsigned>(t - day * kDay);
    const unsigned secs = ms / 1000;
    out_.put_two_digits(secs / 3600);
    out_.put(':');
    out_.put_two_digits(secs / 60 % 60);
    out_.put(':');
    out_.put_two_digits(secs % 60);
    if (ms % 1000 != 0) {
      out_.put('.');
      out_.put_uint(ms % 1000, 3);
    }
  }

  void put_offset(int offset_min) {
    out_.put(offset_min < 0 ? '-' : '+');
    const int a = offset_min < 0 ? -offset_min : offset_min;
    out_.put_two_digits(static_cast<unsigned>(a / 60));
    out_.put(':');
    out_.put_two_digits(static_cast<unsigned>(a % 60));
  }

  // Writes the timestamp of an event that happened at `t`, in one of the
  // styles real feeds mix. A late stamp never goes before `not_before`.
  void put_stamp(Instant t, const Place& place, Instant not_before) {
    if (rng_.chance(kLatePpm)) t = std::max(not_before, t - rng_.between(kMinute, 10 * kMinute));
    if (!rng_.chance(kMillisPpm)) t = floor_div(t, kSecond) * kSecond;
    const std::size_t mark = out_.size();
    const bool local = rng_.chance(kLocalOffsetPpm);
    const int offset = local ? offset_minutes(place, t) : 0;
    put_time(t + offset * kMinute);
    if (floor_mod(t, kSecond) != 0 && rng_.chance(kMicrosPpm)) out_.put_uint(rng_.below(1000), 3);
    if (local) {
      put_offset(offset);
    } else {
      out_.put('Z');
    }
    if (rng_.chance(kLowerCasePpm)) {
      out_[mark + 10] = 't';
      if (out_.back() == 'Z') out_.back() = 'z';
    }
  }

  void write_freelancer_user(std::uint32_t i, Instant t) {
    const Freelancer& f = freelancers_[i];
    const Place& place = kFreelancerPlaces[f.place];
    begin_line(t);
    out_.lit(R"({"type":"user","at":")");
    put_stamp(t, place, options_.start);
    out_.lit(R"(","id":")");
    put_freelancer_id(out_, i);
    out_.lit(R"(","role":"freelancer)");
    if (!rng_.chance(ppm(0.02))) put_field("country", place.country);
    if (!rng_.chance(ppm(0.03))) put_field("tz", place.zone);
    if (!rng_.chance(ppm(0.04))) put_field("kind", f.agency ? "agency" : "individual");
    out_.lit(R"(","email":")");
    put_freelancer_id(out_, i);
    out_.lit("@example.org");
    if (!rng_.chance(ppm(0.10))) put_name(place.region, f.agency);
    end_line();
    ++stats_.users;
  }

  void write_client_user(std::uint32_t i, Instant t) {
    const Place& place = kClientPlaces[clients_[i].place];
    begin_line(t);
    out_.lit(R"({"type":"user","at":")");
    put_stamp(t, place, options_.start);
    out_.lit(R"(","id":")");
    put_client_id(out_, i);
    out_.lit(R"(","role":"client)");
    put_field("country", place.country);
    if (!rng_.chance(ppm(0.2))) put_field("tz", place.zone);
    put_field("kind", rng_.chance(ppm(0.6)) ? "company" : "individual");
    out_.lit(R"(","email":")");
    put_client_id(out_, i);
    out_.lit("@example.com");
    end_line();
    ++stats_.users;
  }

  // A later profile edit: only the changed fields, as the spec allows.
  void write_user_update(std::uint32_t i, Instant t, bool moved) {
    const Freelancer& f = freelancers_[i];
    const Place& place = kFreelancerPlaces[f.place];
    begin_line(t);
    out_.lit(R"({"type":"user","at":")");
    put_stamp(t, place, options_.start);
    out_.lit(R"(","id":")");
    put_freelancer_id(out_, i);
    if (moved) {
      put_field("country", place.country);
      put_field("tz", place.zone);
    } else {
      put_field("kind", f.agency ? "agency" : "individual");
    }
    end_line();
    ++stats_.users;
  }

  void put_name(Region region, bool agency) {
    const NameTable& names = kNames[static_cast<std::size_t>(region)];
    std::string name;
    if (agency) {
      name = names.last[rng_.below(12)];
      name += kAgencySuffixes[rng_.below(std::size(kAgencySuffixes))];
    } else {
      name = names.first[rng_.below(12)];
      name += ' ';
      name += names.last[rng_.below(12)];
    }
    std::string json;
    append_json_string(json, name);
    json.pop_back();  // end_line writes the closing quote
    out_.lit(R"(","name":)");
    out_.put(json);
  }

  void write_contract_started(const Contract& c, Instant t) {
    begin_line(t);
    out_.lit(R"({"type":"contract_started","at":")");
    put_stamp(t, kClientPlaces[clients_[c.client].place], options_.start);
    out_.lit(R"(","contract":")");
    put_contract_id(out_, c.number);
    out_.lit(R"(","client":")");
    put_client_id(out_, c.client);
    out_.lit(R"(","freelancer":")");
    put_freelancer_id(out_, c.freelancer);
    end_line();
    ++stats_.contracts;
  }

  void write_message(const Contract& c, bool from_client, Instant t) {
    begin_line(t);
    out_.lit(R"({"type":"message","at":")");
    const Place& place = from_client ? kClientPlaces[clients_[c.client].place]
                                     : kFreelancerPlaces[freelancers_[c.freelancer].place];
    put_stamp(t, place, c.started_at);
    out_.lit(R"(","contract":")");
    put_contract_id(out_, c.number);
    out_.lit(R"(","from":")");
    if (from_client) {
      put_client_id(out_, c.client);
    } else {
      put_freelancer_id(out_, c.freelancer);
    }
    if (rng_.chance(kMessageIdPpm)) {
      out_.lit(R"(","id":"m)");
      out_.put_uint(++message_ids_);
    }
    end_line();
    ++stats_.messages;
  }

  void write_contract_ended(const Contract& c, Instant t) {
    begin_line(t);
    out_.lit(R"({"type":"contract_ended","at":")");
    put_stamp(t, kClientPlaces[clients_[c.client].place], c.started_at);
    out_.lit(R"(","contract":")");
    put_contract_id(out_, c.number);
    if (c.reason != EndReason::kNone) {
      put_field("reason", kEndReasonNames[static_cast<std::size_t>(c.reason)]);
    }
    end_line();
    ++stats_.contracts_ended;
  }

  void write_opt(std::uint32_t i, Instant t, bool out) {
    begin_line(t);
    if (out) {
      out_.lit(R"({"type":"opt_out","at":")");
    } else {
      out_.lit(R"({"type":"opt_in","at":")");
    }
    put_stamp(t, kFreelancerPlaces[freelancers_[i].place], options_.start);
    out_.lit(R"(","user":")");
    put_freelancer_id(out_, i);
    end_line();
    ++(out ? stats_.opt_outs : stats_.opt_ins);
  }

  // --- Bad lines (bad_lines.h) -------------------------------------------

  void write_bad_line(Instant t) {
    line_start_ = out_.size();
    const RejectReason reason = bad_lines_.write(t);
    show_line();
    ++stats_.lines;
    ++stats_.bad_lines;
    ++stats_.bad_by_reason[static_cast<std::size_t>(reason)];
  }

  std::size_t contract_slots() const override { return contracts_.size(); }
  std::optional<ContractParties> live_contract(std::size_t slot) const override {
    const Contract& c = contracts_[slot];
    if (!c.live || !c.started) return std::nullopt;
    return ContractParties{c.number, c.client, c.freelancer};
  }
  std::span<const ContractParties> recently_ended() const override {
    return std::span(ended_).first(std::min(ended_count_, kEndedRing));
  }
  std::uint64_t freelancers() const override { return freelancers_.size(); }

  const MarketplaceOptions& options_;
  const ChunkSink& sink_;
  NudgeFeedback* feedback_;
  Rng rng_;
  Rng nudge_rng_;
  const Instant end_;
  std::uint64_t lift_per_billion_ = 0;
  std::vector<std::uint32_t> slot_of_number_;  // closed loop: a contract's slot by number - 1
  std::vector<SentNudge> nudges_;
  std::size_t line_start_ = 0;

  ActionQueue queue_;
  std::uint64_t seq_ = 0;
  std::vector<Freelancer> freelancers_;
  std::vector<Client> clients_;
  std::vector<Contract> contracts_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t contract_numbers_ = 0;
  std::uint64_t message_ids_ = 0;
  std::array<ContractParties, kEndedRing> ended_{};
  std::size_t ended_count_ = 0;

  std::array<DstSpan, std::size(kFreelancerPlaces) + std::size(kClientPlaces)> dst_cache_;
  LineBuffer out_;
  BadLines bad_lines_{options_.seed, options_.bad_line_share, out_, *this};
  std::int64_t cached_day_ = std::numeric_limits<std::int64_t>::min();
  char cached_date_[12] = {};  // YYYY-MM-DDT and a NUL, so that lit() copies 11 bytes
  bool failed_ = false;
  MarketplaceStats stats_;
};

}  // namespace

std::string check_options(const MarketplaceOptions& o) {
  constexpr std::int64_t kMaxUsers = 50'000'000;
  if (o.freelancers < 1 || o.freelancers > kMaxUsers) {
    return "--freelancers must be between 1 and 50000000, got " + std::to_string(o.freelancers);
  }
  if (o.clients < 1 || o.clients > kMaxUsers) {
    return "--clients must be between 1 and 50000000, got " + std::to_string(o.clients);
  }
  if (o.days < 1 || o.days > 3650) {
    return "--days must be between 1 and 3650, got " + std::to_string(o.days);
  }
  const Instant earliest = days_from_civil(1971, 1, 1) * kDay;
  const Instant latest = days_from_civil(9000, 1, 1) * kDay;
  if (o.start < earliest || o.start > latest) {
    return "--start must lie between 1971 and 9000";
  }
  if (!(o.bad_line_share >= 0.0 && o.bad_line_share <= 0.5)) {  // also refuses NaN
    return fmt::format("--bad-lines must be a share between 0 and 0.5, got {}", o.bad_line_share);
  }
  if (!(o.reply_24h_lift >= 0.0 && o.reply_24h_lift <= 1.0)) {
    return fmt::format("--effect reply24h must be a probability between 0 and 1, got {}", o.reply_24h_lift);
  }
  return "";
}

MarketplaceStats generate_marketplace(const MarketplaceOptions& options, const ChunkSink& sink,
                                      NudgeFeedback* feedback) {
  if (std::string problem = check_options(options); !problem.empty()) {
    throw std::invalid_argument(problem);
  }
  Generator generator(options, sink, feedback);
  return generator.run();
}

MarketplaceStats write_marketplace(const MarketplaceOptions& options, std::FILE* out, NudgeFeedback* feedback) {
  return generate_marketplace(
      options,
      [out](std::string_view chunk) { return std::fwrite(chunk.data(), 1, chunk.size(), out) == chunk.size(); },
      feedback);
}

}  // namespace gw::sim
