// BadLines: the deliberately bad lines the simulator mixes into a
// marketplace (--bad-lines), in the ways real feeds break the spec's rules:
// every reject reason of its section 1, from broken JSON and bytes that are
// not UTF-8 to a contract started twice, a message into an ended contract,
// or one from a stranger, each with a plausible line around the fault.
// They draw on their own random stream and only read the simulation
// (SimulationView), so the valid lines are the same whatever the share of
// bad ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ghostwatch/core/time.h"
#include "ghostwatch/engine/event.h"
#include "ghostwatch/sim/line_buffer.h"
#include "ghostwatch/sim/random.h"

namespace gw::sim {

// A contract's number and parties (the indices of its client and freelancer).
struct ContractParties {
  std::uint64_t number = 0;
  std::uint32_t client = 0;
  std::uint32_t freelancer = 0;
};

// What a bad line reads of the simulation.
class SimulationView {
 public:
  virtual ~SimulationView() = default;
  virtual std::size_t contract_slots() const = 0;
  // The contract in `slot` (< contract_slots()) when it is started and not
  // yet ended; nullopt otherwise.
  virtual std::optional<ContractParties> live_contract(std::size_t slot) const = 0;
  // The contracts ended last (a few dozen at most), in no particular order.
  virtual std::span<const ContractParties> recently_ended() const = 0;
  virtual std::uint64_t freelancers() const = 0;
};

class BadLines {
 public:
  // `out` and `sim` must outlive it. `share` is the share of all lines that
  // are bad, in [0, 0.5].
  BadLines(std::uint64_t seed, double share, LineBuffer& out, const SimulationView& sim);

  // Whether a bad line goes before the next valid one (a draw per call).
  bool due() { return threshold_ != 0 && (rng_.next() >> 32) < threshold_; }
  // Writes a bad line stamped about `t`, with its newline, and returns the
  // reason a replay rejects it with.
  RejectReason write(Instant t);

 private:
  enum BadVariant {
    kTruncated,
    kInvalidUtf8,
    kNanValue,
    kNotObject,
    kNoAt,
    kNoType,
    kNonStringCore,
    kDuplicateKey,
    kUnknownType,
    kMissingTypeField,
    kNonStringField,
    kUnparseableTime,
    kDuplicateStart,
    kSelfContract,
    kUnknownContract,
    kEndedContract,
    kStranger,
    kBadVariantCount
  };

  // Each writes a line of its kind (without the newline) and returns the
  // reason a replay rejects it with.
  RejectReason write_bad_variant(BadVariant variant);
  RejectReason write_truncated();
  RejectReason write_invalid_utf8();
  RejectReason write_not_object();
  RejectReason write_non_string_core();
  RejectReason write_duplicate_key();
  RejectReason write_unknown_type();
  RejectReason write_missing_type_field();
  RejectReason write_non_string_field();
  RejectReason write_unparseable_time();
  RejectReason write_duplicate_start();
  RejectReason write_self_contract();
  RejectReason write_unknown_contract();
  RejectReason write_ended_contract();
  RejectReason write_stranger();

  // The pieces the lines are made of.
  std::optional<ContractParties> live_contract();
  void put_unknown_contract();
  void put_quoted_at();
  void put_head(std::string_view type);
  void put_message_body();
  void put_message_parties();

  Rng rng_;
  std::uint64_t threshold_ = 0;  // per 2^32 lines
  LineBuffer& out_;
  const SimulationView& sim_;
  std::string at_;  // the line's time: YYYY-MM-DDTHH:MM:SSZ
};

}  // namespace gw::sim
