// The closed loop of `ghostwatch simulate --policy` (docs/simulation.md):
// the real Engine runs in-process over the lines the generator writes, in
// the order it writes them, and reports the nudges it sends back to the
// generator, whose freelancers react to them.
//
// Guarantees: the engine sees exactly what `ghostwatch replay` of the
// output sees (every line through the same LineParser, accepted events
// submitted in order, the watermark driven by their times), so the nudges
// the freelancers react to are the nudges that replay decides, up to the end
// of the input (replay's final evaluate_through decides steps that no line
// came after, which no freelancer could have reacted to).
//
// Not thread-safe: the generating thread drives it.
#pragma once

#include <string_view>
#include <vector>

#include "ghostwatch/engine/engine.h"
#include "ghostwatch/engine/event.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/policy/policy.h"
#include "ghostwatch/sim/marketplace.h"

namespace gw::sim {

class EngineFeedback final : public NudgeFeedback, private EngineSink {
 public:
  // `policy` must outlive the feedback.
  explicit EngineFeedback(const Policy& policy);

  void on_line(std::string_view line) override;
  void take_nudges(std::vector<SentNudge>& out) override;

 private:
  void on_decision(const Decision& d) override;
  void on_episode(const EpisodeRecord&) override {}

  LineParser parser_;
  Event event_;
  Engine engine_;
  std::vector<SentNudge> sent_;
};

}  // namespace gw::sim
