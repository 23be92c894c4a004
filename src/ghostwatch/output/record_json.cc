#include "ghostwatch/output/record_json.h"

#include <array>
#include <cassert>
#include <cstdlib>
#include <cstring>

#include "ghostwatch/core/decimal.h"
#include "ghostwatch/core/json_text.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/output/probability_text.h"

namespace gw {
namespace {

// Room for everything in a record but its free-text strings: the keys and
// punctuation (under 300 bytes in either record), numbers (up to 20 digits
// and a sign), times (26 bytes with quotes) and the enum names (each
// stored as kNameRoom bytes).
constexpr std::size_t kMaxFixedSize = 512;

// The names of the enums a record holds that are not inline functions,
// each padded to kNameRoom bytes: a record stores one with a copy of fixed
// size and advances by its length (a copy of a length known only at run
// time was a call to memcpy, after the call for the name). Built from the
// names' functions, which stay their one definition.
constexpr std::size_t kNameRoom = 16;
struct PaddedName {
  char text[kNameRoom] = {};
  std::size_t size = 0;
};

template <typename Enum, std::size_t N>
std::array<PaddedName, N> padded_names(std::string_view (*name)(Enum)) {
  std::array<PaddedName, N> names;
  for (std::size_t i = 0; i < N; ++i) {
    const std::string_view text = name(static_cast<Enum>(i));
    if (text.size() > kNameRoom) std::abort();  // a name outgrew its room
    std::memcpy(names[i].text, text.data(), text.size());
    names[i].size = text.size();
  }
  return names;
}

const auto kOutcomeNames = padded_names<Outcome, kOutcomeCount>(outcome_name);
const auto kStatusNames = padded_names<DecisionStatus, kDecisionStatusCount>(decision_status_name);
const auto kReasonNames = padded_names<DecisionReason, kDecisionReasonCount>(decision_reason_name);

// Stores the pieces of one record through a cursor into room for an upper
// bound of its size. A record has some 25 pieces, and one
// std::string::append each (a capacity check and an out-of-line copy) cost
// more than the formatting itself.
class RecordWriter {
 public:
  explicit RecordWriter(char* room) : begin_(room), p_(room) {}

  template <std::size_t N>
  void literal(const char (&text)[N]) {  // N counts the terminating NUL
    std::memcpy(p_, text, N - 1);
    p_ += N - 1;
  }

  void name(std::string_view text) {
    std::memcpy(p_, text.data(), text.size());
    p_ += text.size();
  }

  void name(const PaddedName& text) {
    std::memcpy(p_, text.text, kNameRoom);
    p_ += text.size;
  }

  void string(std::string_view s) { p_ = write_json_string(p_, s); }

  void uint(std::uint64_t v) { p_ = write_decimal(p_, v); }

  void int64(std::int64_t v) {
    if (v < 0) {
      *p_++ = '-';
      uint(static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(v));
    } else {
      uint(static_cast<std::uint64_t>(v));
    }
  }

  void time(Instant t) {
    *p_++ = '"';
    p_ = write_rfc3339(p_, t);
    *p_++ = '"';
  }

  void probability(float v) { p_ = write_probability(p_, v); }

  std::size_t size() const { return static_cast<std::size_t>(p_ - begin_); }

 private:
  char* begin_;
  char* p_;
};

// A record whose bound fits is built on the stack and appended (a copy of
// what was written); a larger one in `out` itself, grown by the bound (which
// std::string fills with zeros first) and trimmed after.
constexpr std::size_t kStackRecordBytes = 2048;

// Appends to `out` the record `write(RecordWriter&)` stores, of at most
// `max_size` bytes.
template <typename Write>
void append_record(std::string& out, std::size_t max_size, const Write& write) {
  if (max_size <= kStackRecordBytes) {
    char room[kStackRecordBytes];
    RecordWriter w(room);
    write(w);
    assert(w.size() <= max_size);
    out.append(room, w.size());
    return;
  }
  const std::size_t start = out.size();
  out.resize(start + max_size);
  RecordWriter w(out.data() + start);
  write(w);
  assert(w.size() <= max_size);
  out.resize(start + w.size());
}

// Each record writer works on a local copy of the writer, stored back at
// the end: through the caller's, every byte stored through the cursor might
// have changed the cursor itself (a char store may alias anything), so each
// piece reloaded and stored it; a local whose address is not taken keeps
// its cursor in a register.
void write_decision(RecordWriter& out, const Decision& d) {
  RecordWriter w = out;
  w.literal("{\"at\":");
  w.time(d.at);
  w.literal(",\"contract\":");
  w.string(d.contract);
  w.literal(",\"episode\":");
  w.uint(d.episode);
  w.literal(",\"step\":");
  w.uint(d.step);
  w.literal(",\"action\":\"");
  w.name(step_action_name(d.action));
  if (d.action == StepAction::kNudge) {
    w.literal("\",\"template\":");
  } else {
    w.literal("\",\"team\":");
  }
  w.string(d.target);
  w.literal(",\"freelancer\":");
  w.string(d.freelancer);
  w.literal(",\"client\":");
  w.string(d.client);
  w.literal(",\"arm\":\"");
  w.name(arm_name(d.arm));
  w.literal("\",\"status\":\"");
  w.name(kStatusNames[static_cast<std::size_t>(d.status)]);
  w.literal("\"");
  if (d.reason != DecisionReason::kNone) {
    w.literal(",\"reason\":\"");
    w.name(kReasonNames[static_cast<std::size_t>(d.reason)]);
    w.literal("\"");
  }
  w.literal("}\n");
  out = w;
}

void write_episode(RecordWriter& out, const EpisodeRecord& e) {
  RecordWriter w = out;
  w.literal("{\"contract\":");
  w.string(e.contract);
  w.literal(",\"episode\":");
  w.uint(e.episode);
  w.literal(",\"freelancer\":");
  w.string(e.freelancer);
  w.literal(",\"client\":");
  w.string(e.client);
  w.literal(",\"arm\":\"");
  w.name(arm_name(e.arm));
  if (e.in_segment) {
    w.literal("\",\"in_segment\":true");
  } else {
    w.literal("\",\"in_segment\":false");
  }
  w.literal(",\"opened_at\":");
  w.time(e.opened_at);
  w.literal(",\"closed_at\":");
  if (e.outcome == Outcome::kOpen) {
    w.literal("null");
  } else {
    w.time(e.closed_at);
  }
  w.literal(",\"outcome\":\"");
  w.name(kOutcomeNames[static_cast<std::size_t>(e.outcome)]);
  w.literal("\",\"response_seconds\":");
  if (e.outcome == Outcome::kReplied) {
    w.int64(floor_div(e.closed_at - e.opened_at, kSecond));
  } else {
    w.literal("null");
  }
  w.literal(",\"steps_sent\":");
  w.uint(e.steps_sent);
  if (e.outcome == Outcome::kContractEnded) {
    w.literal(",\"reason\":");
    if (e.has_end_reason) {
      w.string(e.end_reason);
    } else {
      w.literal("null");
    }
  }
  if (e.risk >= 0) {
    w.literal(",\"risk\":");
    w.probability(e.risk);
  }
  w.literal("}\n");
  out = w;
}

}  // namespace

void append_decision_json(std::string& out, const Decision& d) {
  const std::size_t max_size = kMaxFixedSize + json_string_max_size(d.contract.size()) +
                               json_string_max_size(d.target.size()) + json_string_max_size(d.freelancer.size()) +
                               json_string_max_size(d.client.size());
  append_record(out, max_size, [&d](RecordWriter& w) { write_decision(w, d); });
}

void append_episode_json(std::string& out, const EpisodeRecord& e) {
  const std::size_t max_size = kMaxFixedSize + json_string_max_size(e.contract.size()) +
                               json_string_max_size(e.freelancer.size()) + json_string_max_size(e.client.size()) +
                               json_string_max_size(e.end_reason.size());
  append_record(out, max_size, [&e](RecordWriter& w) { write_episode(w, e); });
}

double risk_json_value(float risk) {
  char text[32];
  *write_probability(text, risk) = '\0';  // at most "1.000000"
  return std::strtod(text, nullptr);
}

void append_reject_json(std::string& out, std::uint64_t line, RejectReason reason, std::string_view raw) {
  std::string clean;
  append_utf8_replacing_invalid(clean, raw);
  append_record(out, kMaxFixedSize + json_string_max_size(clean.size()), [&](RecordWriter& w) {
    w.literal("{\"line\":");
    w.uint(line);
    w.literal(",\"reason\":\"");
    w.name(reject_reason_name(reason));
    w.literal("\",\"raw\":");
    w.string(clean);
    w.literal("}\n");
  });
}

}  // namespace gw
