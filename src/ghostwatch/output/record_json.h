// The NDJSON forms of the engine's outputs (spec section 5): one JSON object
// per line, keys in the spec's order, timestamps in UTC. Thread-safe: pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ghostwatch/engine/event.h"
#include "ghostwatch/engine/records.h"

namespace gw {

// Each appends one line, with its '\n'.
void append_decision_json(std::string& out, const Decision& d);
void append_episode_json(std::string& out, const EpisodeRecord& e);
// The number an episode record writes for `risk` (a score in [0, 1], six
// decimals), for other JSON that shows the same value.
double risk_json_value(float risk);
// `raw` is the line as read (after CR removal); invalid UTF-8 becomes U+FFFD.
void append_reject_json(std::string& out, std::uint64_t line, RejectReason reason, std::string_view raw);

}  // namespace gw
