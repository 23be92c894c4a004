// A deterministic synthetic freelance marketplace, written as the NDJSON
// events of the engine contract (spec section 1). It feeds the demo, the
// tests and the benchmarks.
//
// Guarantees:
//  * Determinism: the same MarketplaceOptions give the same bytes on every
//    machine and build. The generator uses its own PRNG (xoshiro256**
//    seeded by splitmix64) and its own integer-only distributions; no
//    std::*_distribution, no libm, no tz database, no hash-map iteration.
//  * Validity: every line is either a valid event of the spec that the
//    engine accepts given the lines before it, or a deliberate bad line.
//    Bad lines are counted per reject reason in MarketplaceStats and, as
//    the spec requires of rejects, change no state, so the generator never
//    relies on them. Each bad line is written so that exactly the reason it
//    is counted under is the first rule of the spec's list that applies.
//    Bad lines draw from their own random stream: the valid lines are the
//    same bytes whatever the bad-line share.
//  * Streaming: output goes to the sink in chunks of about 1 MiB that end
//    at line boundaries. Memory is O(freelancers + clients + active
//    contracts + days), independent of the number of events (~25 MB for
//    70 000 freelancers); the closed loop adds 4 bytes per contract started
//    and the engine's own state.
//  * Speed: over 2 million lines per second on one core.
//
// The model (all figures are the generator's defaults):
//  * Ids. Freelancers "fl0", "fl1", ...; clients "cl0", ...; contracts
//    "c000001", ... in order of start; message ids "m1", .... Bad lines
//    name never-started contracts "cx" + digits.
//  * Users. Freelancers live in ~30 countries with real IANA zones (IN, PH,
//    PK, BD, UA, NG, BR, US, GB, ...), weighted like a global marketplace;
//    about 1 in 8 are agencies. Clients are mostly US, GB, CA, AU and
//    western Europe. 85% of freelancers register in the first hours, the
//    rest join over the run. A few profile fields are missing, as in real
//    exports (freelancers: no tz 3%, no country 2%, no kind 4%, no name
//    10%; clients: no tz 20%). About 3% of freelancers later get a `user`
//    event that moves them to another country (country + tz) or switches
//    their kind.
//  * Working hours. Every user has a personal daily window in local time
//    (clients about 08:00 to 18:00 and mostly not on weekends; freelancers
//    about 08:00 to 21:00, weekends often; 20% of South and South-East
//    Asian freelancers work a night shift matching US hours). Local time
//    uses each zone's standard offset with EU, US and southern-Australian
//    DST rules: the tz database's offsets for 2019 on, except that Mexico
//    City's and Tehran's DST (until 2022) is ignored; independent of the
//    machine's tzdata.
//  * Contracts. Each freelancer gets offers as a renewal process (mean gap
//    ~16 days for individuals, ~5 for agencies) and takes them while below
//    a capacity (1..3 concurrent for individuals, 3..8 for agencies);
//    the client is drawn with a skew so some clients hire a lot. A
//    contract has a planned length (1 day to 4 months, median about two
//    weeks) and proceeds in rounds: a block of 1..3 client messages at the
//    client's working hours, then the freelancer's reply block, then a gap
//    of hours to days. Sometimes the freelancer writes first (kick-off or
//    status update). About 55% of messages carry an `id`.
//  * Responsiveness, per freelancer: fast (~60%: replies in minutes to
//    hours, rarely never), slow (~26%: replies after about a day or more,
//    sometimes never) and ghoster (~14%: slow when answering, and 40% of
//    the client's message blocks are never answered, after which the
//    freelancer stays silent on that contract). An unanswered client
//    follows up up to twice, then ends the contract.
//  * Endings. A contract that ran its course ends `completed` (90%),
//    `cancelled` or `replaced`; one that ended because the freelancer went
//    silent ends `cancelled` (55%), `replaced` (35%) or `completed`. A
//    replaced freelancer's client soon starts a contract with another
//    freelancer. 3% of endings carry no `reason`. Contracts still running
//    at the end of the run stay open.
//  * Opt-outs. About 4% of freelancers send `opt_out` at some point; a
//    quarter of those later send `opt_in`.
//  * Nudges (closed loop only, with a NudgeFeedback; docs/simulation.md).
//    Every line is shown to the feedback as it is written, and after each
//    step of the simulation the generator takes the nudges sent so far. A
//    nudge sent at N on a contract whose client is waiting, and whose
//    freelancer has no reply planned by N + 24 h (silent, or answering
//    later), converts with probability `reply_24h_lift`: the freelancer
//    replies at N + U(1 min, 24 h) (or at once, when the simulation learns
//    of the nudge later than that), and a ghoster who had gone silent on the
//    contract is back. Conversions draw from their own random stream, so
//    with no lift the output is the open loop's, byte for byte.
//  * Timestamps. Lines come in event-time order except that about 1% are
//    stamped 1 to 10 minutes before their place in the stream (late
//    delivery). About 12% carry milliseconds (a few of those microseconds),
//    6% are written in the sender's local offset (`+05:30`), 0.1% use a
//    lower-case `t` and `z`. All are valid RFC 3339 per the spec.
//  * Bad lines. Before each event, with probability share/(1-share), one bad
//    line covering, in turn at random: invalid JSON (truncated line,
//    invalid UTF-8, NaN, not an object), missing `type`/`at`, non-string
//    `type`/`at` or a duplicate key, unknown type, a missing or non-string
//    field of the type, unparseable time, duplicate contract, client equal
//    to freelancer, unknown contract, message on an ended contract, and a
//    sender who is not a party.
//
// Scale: about kEventsPerFreelancerDay (1.45) events per freelancer per
// simulated day, averaged over runs of one to four months (within ~5%; the
// daily rate itself rises from ~1.4 to ~1.9 over the first months as late
// joiners arrive and freelancers fill their capacity). Events scale
// linearly with freelancers at a fixed freelancer/client ratio. So 10 M
// events is about 6.9 M freelancer-days: --freelancers 70000 --clients
// 28000 --days 100 gives 10.2 M lines.
//
// Thread-safety: generate_marketplace has no shared state; concurrent calls
// are fine.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/time.h"
#include "ghostwatch/engine/event.h"

namespace gw::sim {

// Events per freelancer per simulated day, for sizing runs (measured, see above).
inline constexpr double kEventsPerFreelancerDay = 1.45;

struct MarketplaceOptions {
  std::uint64_t seed = 1;
  std::int64_t freelancers = 1000;
  std::int64_t clients = 500;
  std::int64_t days = 30;
  Instant start = 1'564'617'600'000;  // 2019-08-01T00:00:00Z; the run covers [start, start + days)
  double bad_line_share = 0.002;      // share of all lines that are deliberately bad, 0..0.5
  // Closed loop: the chance that a nudge converts a waiting client's late or
  // missing reply into one within 24 h of the nudge, 0..1.
  double reply_24h_lift = 0.0;
};

// A nudge e-mail the engine sent, as the closed loop reports it.
struct SentNudge {
  Instant at = 0;
  std::uint64_t contract_number = 0;  // of the contract id "c" + digits
};

// The other side of the closed loop: what the engine makes of the lines.
// Calls arrive on the generating thread.
class NudgeFeedback {
 public:
  virtual ~NudgeFeedback() = default;
  // Every line, without its newline, right after it is written, in output
  // order (deliberately bad lines included).
  virtual void on_line(std::string_view line) = 0;
  // Moves the nudges sent since the last call into `out` (cleared first), in
  // the order they were decided.
  virtual void take_nudges(std::vector<SentNudge>& out) = 0;
};

// Responsiveness profiles of freelancers.
enum class Profile : std::uint8_t { kFast, kSlow, kGhoster };
inline constexpr std::size_t kProfileCount = 3;

struct MarketplaceStats {
  std::uint64_t lines = 0;      // every line written
  std::uint64_t events = 0;     // valid events: lines - bad_lines
  std::uint64_t bad_lines = 0;  // deliberate bad lines
  std::array<std::uint64_t, kRejectReasonCount> bad_by_reason{};  // indexed by RejectReason
  std::uint64_t users = 0;      // `user` events, creations and updates
  std::uint64_t contracts = 0;  // `contract_started` events
  std::uint64_t contracts_ended = 0;
  std::uint64_t messages = 0;
  std::uint64_t opt_outs = 0;
  std::uint64_t opt_ins = 0;
  std::array<std::uint64_t, kProfileCount> freelancers_by_profile{};  // indexed by Profile
  // Closed loop only:
  std::uint64_t nudges = 0;            // nudges sent by the engine
  std::uint64_t nudges_eligible = 0;   // of those, to a freelancer with no reply planned by N + 24 h
  std::uint64_t nudges_converted = 0;  // of those, converted into a reply
  std::uint64_t late_conversions = 0;  // of those, replied later than N + 24 h (learnt late)
  bool complete = true;  // false when the sink refused a chunk and generation stopped
};

// Receives the output in chunks that end at line boundaries; returns false to
// stop generation (e.g. on a write error).
using ChunkSink = std::function<bool(std::string_view chunk)>;

// Returns "" when the options are usable, else a message naming the option
// (by its command-line name) and the rule, e.g. "--days must be at least 1".
std::string check_options(const MarketplaceOptions& options);

// Generates the marketplace into `sink`, closing the loop through `feedback`
// when it is not null. Throws std::invalid_argument when check_options()
// reports a problem.
MarketplaceStats generate_marketplace(const MarketplaceOptions& options, const ChunkSink& sink,
                                      NudgeFeedback* feedback = nullptr);

// The same, writing to a stdio stream. Write errors stop
// generation and clear `complete`; the caller still checks and closes the
// stream.
MarketplaceStats write_marketplace(const MarketplaceOptions& options, std::FILE* out,
                                   NudgeFeedback* feedback = nullptr);

}  // namespace gw::sim
