// Real message histories as marketplace events (`ghostwatch import`): e-mail
// corpora become contracts between pairs of people. Each pair who exchange
// messages is one contract, started at their first message, whose first
// sender is the client and the other the freelancer (its id
// "client-freelancer", made unique when ids hold '-'); every message is a
// `message` event on it. Each person becomes a `user` event at their first
// message, with no country and no time zone (unknown country, UTC: the
// corpora have neither). Events are written in time order (ties keep the
// input's order) in the spec's NDJSON, so `replay`, `train` and `score`
// read them as they are. Thread-safe: no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"

namespace gw::import {

// One message from one person to one other (a message to several people is
// one of these per recipient).
struct DirectedMessage {
  std::string from;
  std::string to;
  Instant at = 0;
};

// SNAP temporal edge lists ("SRC DST T" per line, fields separated by
// spaces, tabs or commas, T in seconds after `origin`, whole or decimal,
// kept to the millisecond, up to the year 9999, or an RFC 3339 time), plain or
// gzip-compressed; blank lines, comment lines (starting with "#", as
// SNAP's headers, or "%", as KONECT's) and a header row before the first
// edge (its third column a name, as "source,target,timestamp" or "src dst
// time") are skipped. In a KONECT file (a "%" line first), an edge may be
// "SRC DST WEIGHT T", the weight ignored. Errors name the file and line.
Result<std::vector<DirectedMessage>> read_snap_edges(const std::string& path, Instant origin);

// The Enron tables of Perry & Wolfe (messages.tsv: mid, file, unix time,
// subject, sender; recipients.tsv: mid, recipient number, receiver) in
// `dir`. Errors name the file and line.
Result<std::vector<DirectedMessage>> read_enron_tables(const std::string& dir);

struct ImportStats {
  std::uint64_t messages = 0;       // message events written
  std::uint64_t self_messages = 0;  // skipped: sender is the recipient
  std::uint64_t users = 0;
  std::uint64_t contracts = 0;
};

// Writes the events of `messages` (reordered in time) through `out`.
ImportStats write_contract_events(std::vector<DirectedMessage> messages,
                                  const std::function<void(std::string_view)>& out);

}  // namespace gw::import
