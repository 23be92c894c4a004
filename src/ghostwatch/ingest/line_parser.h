// Validates one NDJSON line against the event rules of spec section 1
// (rules 1-7: JSON, fields, types, time) and extracts the event. State rules
// (rule 8) belong to the engine. Uses simdjson's On-Demand API and walks
// every value, so a line is accepted only when it is entirely valid JSON.
// Not thread-safe: one parser per thread; an Event's views are valid until
// the next parse().
#pragma once

#include <string_view>

#include <simdjson.h>

#include "ghostwatch/engine/event.h"

namespace gw {

class LineParser {
 public:
  // JSON nested deeper than this is rejected as bad_json (it protects the
  // validator's recursion; no real event comes near it).
  static constexpr int kMaxDepth = 256;

  // Parses `line` (no newline, trailing CR already removed). The bytes
  // line.data()[line.size() .. capacity) must be readable: simdjson reads up
  // to SIMDJSON_PADDING bytes past the end. REQUIRES: capacity >= line.size()
  // + SIMDJSON_PADDING. Returns kNone and fills `out` for a valid event.
  RejectReason parse(std::string_view line, std::size_t capacity, Event& out);

  // Convenience for tests and small inputs: copies into a padded buffer.
  RejectReason parse_copy(std::string_view line, Event& out);

 private:
  simdjson::ondemand::parser parser_;
  simdjson::padded_string scratch_;
};

// True for lines that are empty or hold only spaces and tabs (skipped).
bool is_blank_line(std::string_view line);

}  // namespace gw
