// Inbound e-mail as the store keeps it: every message received (through
// POST /v1/inbound or the maildir), raw bytes included, with where it went.
// Nothing is dropped: a message that fits nowhere waits in the `unmatched`
// queue for a person to attach it to a case. A message is taken once: the
// same Message-ID (or, without one, the same bytes) again is a duplicate
// and changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ghostwatch/core/time.h"

namespace gw {

enum class InboundRoute : std::uint8_t {
  kCase,       // joined a case's timeline
  kUnmatched,  // waits for a person (unknown sender, invalid token, unreadable)
  kBounce,     // a delivery status notification: the address was marked bouncing
  kOptOut      // sent to an opt-out address: the user opted out
};
inline constexpr std::size_t kInboundRouteCount = 4;
std::string_view inbound_route_name(InboundRoute r);  // "case", "unmatched", "bounce", "opt_out"
std::optional<InboundRoute> parse_inbound_route(std::string_view name);

struct InboundRow {
  std::int64_t id = 0;
  Instant received_at = 0;
  std::string dedupe_key;  // "mid:" + the Message-ID, else "sha256:" + the raw bytes' digest
  std::string message_id;
  std::string from_address;
  std::string from_name;
  std::string subject;
  std::string text;  // the visible reply
  bool auto_reply = false;
  bool bounce = false;
  InboundRoute route = InboundRoute::kUnmatched;
  std::int64_t case_id = 0;  // kCase: the case it joined
  std::string reason;        // why it went where it did, for people
  std::string raw;           // left empty by listings
};

struct InboundQuery {
  std::optional<InboundRoute> route;  // nullopt: any
  std::int64_t after_id = 0;          // page cursor
  std::size_t limit = 100;
};

// What taking a message did.
struct InboundTaken {
  std::int64_t id = 0;       // the stored message
  std::int64_t case_id = 0;  // the case it joined, 0 when none
  InboundRoute route = InboundRoute::kUnmatched;
  bool duplicate = false;  // taken before: nothing changed now
};

// What attaching an unmatched message to a case did.
enum class AttachResult : std::uint8_t { kAttached, kNoMessage, kNoCase, kNotUnmatched };

}  // namespace gw
