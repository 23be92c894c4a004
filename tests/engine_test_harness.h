// Test-only harness for the engine rule tests: runs NDJSON event lines
// through gw::LineParser and gw::Engine exactly as src/ghostwatch/replay/
// replay.cc does (parse, submit, then evaluate_through(until) and
// emit_open_episodes), and collects decisions and episode records as the
// NDJSON lines of spec section 5.
//
// Expected lines are written with the Dec and Ep builders below: plain
// structs with the usual test defaults (contract "c1", client "k1",
// freelancer "f1", step 1 "nudge" with template "r1", treatment arm), so a
// test names only what differs. They format JSON on their own, field by
// field in the spec's order; they share no code with the output module.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ghostwatch/core/time.h"
#include "ghostwatch/engine/engine.h"
#include "ghostwatch/engine/event.h"
#include "ghostwatch/engine/records.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/output/record_json.h"
#include "ghostwatch/policy/policy.h"

namespace gw::test {

using Strings = std::vector<std::string>;

// The usual ladder: two nudges and an escalation, no other limits.
inline constexpr const char* kLadder = R"(
[[ladder]]
after = "24h"
action = "nudge"
template = "r1"

[[ladder]]
after = "72h"
action = "nudge"
template = "r2"

[[ladder]]
after = "120h"
action = "escalate"
team = "ops"
)";

// A faster two-step ladder (12 h, 36 h; the second template "fast"), for
// changing the rules of a running engine.
inline constexpr const char* kShortLadder = R"(
[[ladder]]
after = "12h"
action = "nudge"
template = "r1"

[[ladder]]
after = "36h"
action = "nudge"
template = "fast"
)";

inline constexpr const char* kOneHourLadder = R"(
[[ladder]]
after = "1h"
action = "nudge"
template = "r1"
)";

// ---------------------------------------------------------------------------
// Input builders: one NDJSON event line each.

inline std::string UserLine(std::string_view at, std::string_view id, std::string_view extra = "") {
  std::string s = R"({"type":"user","at":")" + std::string(at) + R"(","id":")" + std::string(id) + "\"";
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}

// A user event for a user no contract names: it only moves the watermark.
inline std::string Tick(std::string_view at) { return UserLine(at, "tick"); }

inline std::string Started(std::string_view at, std::string_view contract = "c1",
                           std::string_view client = "k1", std::string_view freelancer = "f1") {
  return R"({"type":"contract_started","at":")" + std::string(at) + R"(","contract":")" +
         std::string(contract) + R"(","client":")" + std::string(client) + R"(","freelancer":")" +
         std::string(freelancer) + "\"}";
}

inline std::string Ended(std::string_view at, std::string_view contract = "c1",
                         std::optional<std::string_view> reason = std::nullopt) {
  std::string s = R"({"type":"contract_ended","at":")" + std::string(at) + R"(","contract":")" +
                  std::string(contract) + "\"";
  if (reason) s += R"(,"reason":")" + std::string(*reason) + "\"";
  return s + "}";
}

inline std::string Msg(std::string_view at, std::string_view from, std::string_view contract = "c1") {
  return R"({"type":"message","at":")" + std::string(at) + R"(","contract":")" + std::string(contract) +
         R"(","from":")" + std::string(from) + "\"}";
}

inline std::string OptOut(std::string_view at, std::string_view user) {
  return R"({"type":"opt_out","at":")" + std::string(at) + R"(","user":")" + std::string(user) + "\"}";
}

inline std::string OptIn(std::string_view at, std::string_view user) {
  return R"({"type":"opt_in","at":")" + std::string(at) + R"(","user":")" + std::string(user) + "\"}";
}

// Marks a line the test expects to be rejected. Replay fails the test when
// an unmarked line is rejected (usually a typo in the scenario) or a marked
// one is accepted.
inline constexpr std::string_view kRejectMark = "\x01expect-reject\x01";
inline std::string Rejected(std::string_view line) { return std::string(kRejectMark) + std::string(line); }

// ---------------------------------------------------------------------------
// Expected output builders (spec section 5 key order).

struct Dec {
  std::string at = "";
  std::string contract = "c1";
  int episode = 1;
  int step = 1;
  std::string action = "nudge";  // "nudge" writes "template", "escalate" writes "team"
  std::string target = "r1";
  std::string freelancer = "f1";
  std::string client = "k1";
  std::string arm = "treatment";
  std::string status = "sent";
  std::string reason = "";  // written only when non-empty
};

inline std::string Json(const Dec& d) {
  std::string s = R"({"at":")" + d.at + R"(","contract":")" + d.contract + R"(","episode":)" +
                  std::to_string(d.episode) + R"(,"step":)" + std::to_string(d.step) + R"(,"action":")" +
                  d.action + (d.action == "escalate" ? R"(","team":")" : R"(","template":")") + d.target +
                  R"(","freelancer":")" + d.freelancer + R"(","client":")" + d.client + R"(","arm":")" +
                  d.arm + R"(","status":")" + d.status + "\"";
  if (!d.reason.empty()) s += R"(,"reason":")" + d.reason + "\"";
  return s + "}";
}

struct Ep {
  std::string contract = "c1";
  int episode = 1;
  std::string freelancer = "f1";
  std::string client = "k1";
  std::string arm = "treatment";
  bool in_segment = true;
  std::string opened_at = "";
  std::string closed_at = "";          // empty: null (still open)
  std::string outcome = "open";        // replied, contract_ended, open
  std::int64_t response_seconds = -1;  // -1: null
  int steps_sent = 0;
  std::optional<std::string> reason = std::nullopt;  // written for contract_ended only; nullopt: null
};

inline std::string Json(const Ep& e) {
  std::string s =
      R"({"contract":")" + e.contract + R"(","episode":)" + std::to_string(e.episode) + R"(,"freelancer":")" +
      e.freelancer + R"(","client":")" + e.client + R"(","arm":")" + e.arm + R"(","in_segment":)" +
      (e.in_segment ? "true" : "false") + R"(,"opened_at":")" + e.opened_at + R"(","closed_at":)" +
      (e.closed_at.empty() ? "null" : "\"" + e.closed_at + "\"") + R"(,"outcome":")" + e.outcome +
      R"(","response_seconds":)" + (e.response_seconds < 0 ? "null" : std::to_string(e.response_seconds)) +
      R"(,"steps_sent":)" + std::to_string(e.steps_sent);
  if (e.outcome == "contract_ended") s += R"(,"reason":)" + (e.reason ? "\"" + *e.reason + "\"" : "null");
  return s + "}";
}

inline std::vector<std::string> Lines(std::initializer_list<Dec> ds) {
  std::vector<std::string> out;
  for (const Dec& d : ds) out.push_back(Json(d));
  return out;
}

inline std::vector<std::string> Lines(std::initializer_list<Ep> es) {
  std::vector<std::string> out;
  for (const Ep& e : es) out.push_back(Json(e));
  return out;
}

// ---------------------------------------------------------------------------
// The run itself.

struct Output {
  std::vector<std::string> decisions;  // NDJSON lines, without '\n'
  std::vector<std::string> episodes;   // NDJSON lines, without '\n'
  std::vector<std::string> rejects;    // "<line>:<reason>"
};

class CollectingSink : public EngineSink {
 public:
  explicit CollectingSink(Output& out) : out_(out) {}

  void on_decision(const Decision& d) override {
    std::string line;
    append_decision_json(line, d);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    out_.decisions.push_back(line);
    // Spec section 4: "A step is decided at most once per episode, whatever
    // its status." Checked for every run.
    if (!decided_.emplace(std::string(d.contract), d.episode, d.step).second) {
      ADD_FAILURE() << "step decided twice in one episode: " << line;
    }
  }
  void on_episode(const EpisodeRecord& e) override {
    std::string line;
    append_episode_json(line, e);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    out_.episodes.push_back(line);
  }

 private:
  Output& out_;
  std::set<std::tuple<std::string, std::uint32_t, std::uint32_t>> decided_;
};

inline Policy MustParsePolicy(std::string_view toml) {
  Result<Policy> p = parse_policy(toml, "test");
  if (!p) {
    ADD_FAILURE() << "policy refused: " << p.message();
    return Policy{};
  }
  return std::move(p.value());
}

// Parses `lines` and submits them to `engine` (live: submit_live), as they
// come; every line must be accepted.
inline void SubmitAll(Engine& engine, const std::vector<std::string>& lines, bool live = false) {
  LineParser parser;
  Event e;
  for (const std::string& line : lines) {
    EXPECT_EQ(parser.parse_copy(line, e), RejectReason::kNone) << line;
    EXPECT_EQ(live ? engine.submit_live(e) : engine.submit(e), RejectReason::kNone) << line;
  }
}

// Runs `before` through an engine under `policy`, then `between(engine)`
// (a reload, a bounce...), then `after`, then evaluates through `until`, in
// event time as replay does. Every line must be accepted.
inline Output RunInTwoParts(const Policy& policy, const std::vector<std::string>& before,
                            const std::function<void(Engine&)>& between, const std::vector<std::string>& after,
                            std::string_view until) {
  Output out;
  CollectingSink sink(out);
  Engine engine(policy, sink);
  SubmitAll(engine, before);
  between(engine);
  SubmitAll(engine, after);
  engine.evaluate_through(parse_rfc3339(until).value());
  return out;
}

// Runs `lines` (one event each; blank ones skipped but numbered) through the
// engine. Lines not wrapped in Rejected() must be accepted. `until` is --until; empty: the largest accepted
// `at`.
inline Output Replay(std::string_view toml, const std::vector<std::string>& lines,
                     std::optional<std::string_view> until = std::nullopt) {
  Output out;
  Policy policy = MustParsePolicy(toml);
  if (policy.ladder.empty()) return out;
  CollectingSink sink(out);
  Engine engine(policy, sink);
  LineParser parser;
  Event event;
  std::uint64_t line_number = 0;
  for (const std::string& raw : lines) {
    ++line_number;
    std::string_view line = raw;
    const bool expect_reject = line.starts_with(kRejectMark);
    if (expect_reject) line.remove_prefix(kRejectMark.size());
    if (is_blank_line(line)) continue;
    RejectReason reason = parser.parse_copy(line, event);
    if (reason == RejectReason::kNone) reason = engine.submit(event);
    if (reason != RejectReason::kNone) {
      out.rejects.push_back(std::to_string(line_number) + ":" + std::string(reject_reason_name(reason)));
    }
    if (expect_reject != (reason != RejectReason::kNone)) {
      ADD_FAILURE() << "line " << line_number
                    << (expect_reject ? " was accepted, expected a reject: "
                                      : " was rejected (" + out.rejects.back() + "): ")
                    << line;
    }
  }
  Instant end = engine.latest_event_at();
  if (until) {
    std::optional<Instant> u = parse_rfc3339(*until);
    if (!u) {
      ADD_FAILURE() << "bad until in test: " << *until;
      return out;
    }
    end = *u;
  }
  if (end != kNoInstant) engine.evaluate_through(end);
  engine.emit_open_episodes();
  return out;
}

}  // namespace gw::test
