// Validates one NDJSON line against the event rules of spec section 1
// (rules 1-7: JSON, fields, types, time) and extracts the event. State rules
// (rule 8) belong to the engine. A line is accepted only when it is entirely
// valid JSON. Not thread-safe: one parser per thread; an Event's views, and
// line(), are valid until the next parse().
//
// The parser works on its own copy of the line. Most lines are a flat
// object of plain strings ({"key":"value",...} or {"key": "value", ...},
// no escapes): the copy is made 64 bytes at a time (AVX2 or SSE2 on
// x86-64), noting the positions of the quotes on the way, those lines are
// read from the quotes' positions (the usual layout, {"type":…,"at":… then
// the type's keys in the simulator's order, by compares of its known
// bytes), and their values are views of the copy. Any other line goes to
// simdjson's On-Demand API, which visits every value. Every path gives the
// same verdict and event.
#pragma once

#include <string_view>
#include <vector>

#include <simdjson.h>

#include "ghostwatch/engine/event.h"

namespace gw {

class LineParser {
 public:
  // JSON nested deeper than this is rejected as bad_json (it protects the
  // validator's recursion; no real event comes near it).
  static constexpr int kMaxDepth = 256;

  // Parses `line` (no newline, trailing CR already removed). Returns kNone
  // and fills `out` for a valid event. `line` is copied, so it need not stay
  // valid. `capacity` is its readable size (callers that parse in a padded
  // buffer): with room for the line rounded up to 64 bytes, the copy is read
  // in whole 64-byte blocks; parse and parse_copy give the same results.
  RejectReason parse(std::string_view line, std::size_t capacity, Event& out);
  RejectReason parse_copy(std::string_view line, Event& out);

  // On x86-64 a plain line is copied with AVX2 when the CPU has it, else
  // with SSE2; both give the same results. For tests, which check that:
  // `on` false makes every parser use SSE2, true AVX2 where the CPU has it.
  // Returns whether AVX2 was in use. Not thread-safe.
  static bool use_avx2(bool on);

  // The line last parsed.
  std::string_view line() const { return {line_.data(), line_size_}; }

 private:
  // Parses the `size` bytes at `src` (line_ itself, or a buffer with room
  // for `size` rounded up to 64 bytes): copies them to line_, through the
  // scanner of flat plain-string lines when they fit it. REQUIRES:
  // reserve(size) was called.
  RejectReason parse_from(const char* src, std::size_t size, Event& out);
  // Makes line_ hold `size` bytes and simdjson's padding.
  void reserve(std::size_t size);
  RejectReason parse_json(Event& out);

  simdjson::ondemand::parser parser_;
  std::vector<char> line_;  // the line and simdjson's padding
  std::size_t line_size_ = 0;
};

// True for lines that are empty or hold only spaces and tabs (skipped).
bool is_blank_line(std::string_view line);

// Takes the next line of a request body off the front of `rest`: up to the
// '\n' (dropped) or the end, without one trailing '\r'.
std::string_view take_body_line(std::string_view& rest);

// Walks all of `v` (an On-Demand value, which would otherwise be skipped
// unchecked): true when it is valid JSON nested at most kMaxDepth deep.
bool is_valid_json_value(simdjson::ondemand::value v);

}  // namespace gw
