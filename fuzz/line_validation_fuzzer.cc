// libFuzzer target: any bytes as an NDJSON input. Every line goes through the
// same path as `ghostwatch replay` (blank-line test, validation, the engine's
// state rules and step evaluation, the reject record), under ASan and UBSan.
// Finds crashes, hangs, leaks and undefined behaviour; it asserts invariants
// that hold for every input. Each line is also judged by simdjson alone (the
// line with a space before it, which the plain-line scanner never takes):
// both verdicts and every field read must agree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ghostwatch/engine/engine.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/output/record_json.h"
#include "ghostwatch/policy/policy.h"

namespace {

constexpr std::string_view kPolicy = R"(
[campaign]
holdout_percent = 20
salt = "fuzz"
[limits]
max_nudges_per_day = 1
quiet_hours = "22:00-08:00"
[[ladder]]
after = "1h"
action = "nudge"
template = "r1"
[[ladder]]
after = "3h"
action = "escalate"
team = "t"
)";

class CheckingSink : public gw::EngineSink {
 public:
  void on_decision(const gw::Decision& d) override {
    if (d.step < 1 || d.step > 2 || d.episode < 1) std::abort();
    out.clear();
    gw::append_decision_json(out, d);
  }
  void on_episode(const gw::EpisodeRecord& e) override {
    if (e.outcome == gw::Outcome::kReplied && e.closed_at < e.opened_at) std::abort();
    out.clear();
    gw::append_episode_json(out, e);
  }
  std::string out;
};

// Aborts unless `a` and `b` (two parses of the same line) agree.
void check_same(gw::RejectReason ra, const gw::Event& a, gw::RejectReason rb, const gw::Event& b) {
  if (ra != rb) std::abort();
  if (ra != gw::RejectReason::kNone) return;
  if (a.type != b.type || a.at != b.at || a.present != b.present) std::abort();
  for (std::size_t f = 0; f < gw::kFieldCount; ++f) {
    const auto field = static_cast<gw::Field>(f);
    if (a.has(field) && a.get(field) != b.get(field)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const gw::Policy policy = *gw::parse_policy(kPolicy, "fuzz");
  CheckingSink sink;
  gw::Engine engine(policy, sink);
  gw::LineParser parser, general;
  gw::Event event, general_event;
  std::string spaced;
  std::string reject;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::uint64_t line_number = 0;
  while (!input.empty()) {
    std::size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (gw::is_blank_line(line)) continue;
    gw::RejectReason r = parser.parse_copy(line, event);
    spaced.assign(1, ' ').append(line);
    check_same(r, event, general.parse_copy(spaced, general_event), general_event);
    if (r == gw::RejectReason::kNone) r = engine.submit(event);
    if (r != gw::RejectReason::kNone) {
      reject.clear();
      gw::append_reject_json(reject, line_number, r, line);
    }
  }
  if (engine.latest_event_at() != gw::kNoInstant) engine.evaluate_through(engine.latest_event_at());
  engine.emit_open_episodes();
  return 0;
}
