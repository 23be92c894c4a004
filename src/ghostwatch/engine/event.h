// An input event as the engine sees it (spec section 1): its type, its
// instant, and the string fields it carries. Fields are views into the
// parser's buffers, valid only while the event is being handled.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ghostwatch/core/time.h"

namespace gw {

enum class EventType : std::uint8_t { kUser, kContractStarted, kContractEnded, kMessage, kOptOut, kOptIn };

// Every string field any event type lists (required or optional).
enum class Field : std::uint8_t {
  kId, kRole, kCountry, kTz, kEmail, kName, kKind,  // user
  kContract, kClient, kFreelancer,                  // contract_started (+ contract for others)
  kReason,                                          // contract_ended
  kFrom,                                            // message (+ id)
  kUser,                                            // opt_out, opt_in
  kCount
};
inline constexpr std::size_t kFieldCount = static_cast<std::size_t>(Field::kCount);

struct Event {
  EventType type = EventType::kUser;
  Instant at = 0;
  std::uint32_t present = 0;  // bit i set: Field(i) is present
  std::array<std::string_view, kFieldCount> fields{};

  bool has(Field f) const { return (present >> static_cast<unsigned>(f)) & 1u; }
  // REQUIRES: has(f); an absent field's slot may still view an earlier line.
  std::string_view get(Field f) const { return fields[static_cast<std::size_t>(f)]; }
  void set(Field f, std::string_view v) {
    present |= 1u << static_cast<unsigned>(f);
    fields[static_cast<std::size_t>(f)] = v;
  }
};

// Why a line was rejected (spec section 1), in the spec's wording.
enum class RejectReason : std::uint8_t {
  kNone,
  kBadJson,
  kMissingField,
  kBadField,
  kUnknownType,
  kBadTime,
  kDuplicateContract,
  kUnknownContract,
  kContractEnded,
  kNotAParty,
};
inline constexpr std::size_t kRejectReasonCount = 10;

std::string_view reject_reason_name(RejectReason r);

}  // namespace gw
