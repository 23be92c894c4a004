#include "ghostwatch/risk/feature_stream.h"

#include <algorithm>

#include "ghostwatch/engine/engine.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/ingest/line_reader.h"
#include "ghostwatch/risk/feature_store.h"

namespace gw::risk {
namespace {

// Forwards the engine's episodes to the store and the observer.
class FeatureSink : public EngineSink {
 public:
  FeatureSink(EpisodeObserver& observer, std::uint64_t& episodes) : observer_(observer), episodes_(episodes) {}
  void attach(FeatureStore& store) { store_ = &store; }

  void on_decision(const Decision&) override {}
  void on_episode(const EpisodeRecord& r) override {
    store_->on_episode_closed(r);
    observer_.on_closed(r);
  }
  void on_episode_opened(const EpisodeRecord& r) override {
    ++episodes_;
    observer_.on_opened(r, store_->on_episode_opened(r));
  }

 private:
  EpisodeObserver& observer_;
  std::uint64_t& episodes_;
  FeatureStore* store_ = nullptr;
};

// The engine needs a ladder; a campaign that starts at the end of time
// decides nothing (rule 1) and leaves episodes exactly as they are. Its one
// step comes due a millisecond after an opening, so that its timer is
// dropped at once instead of piling up.
Policy feature_policy() {
  Policy p;
  p.name = "risk-features";
  p.start = kForever;
  p.ladder.push_back(LadderStep{1, StepAction::kNudge, "none"});
  return p;
}

}  // namespace

Result<FeatureStreamStats> stream_episode_features(const std::string& events_path, EpisodeObserver& observer) {
  LineReader reader;
  if (Status s = reader.open(events_path); !s) return s;
  FeatureStreamStats stats;
  const Policy policy = feature_policy();
  FeatureSink sink(observer, stats.episodes);
  Engine engine(policy, sink);
  FeatureStore store(engine);
  sink.attach(store);

  LineParser parser;
  Event event;
  std::string_view line;
  std::size_t capacity;
  while (reader.next(line, capacity)) {
    ++stats.lines;
    if (is_blank_line(line)) continue;
    RejectReason reason = parser.parse(line, capacity, event);
    if (reason == RejectReason::kNone) {
      store.begin_event(event);
      reason = engine.submit(event);
    }
    if (reason != RejectReason::kNone) {
      ++stats.rejected;
      continue;
    }
    store.apply(event);
    ++stats.accepted;
    stats.first_at = stats.first_at == kNoInstant ? event.at : std::min(stats.first_at, event.at);
    stats.last_at = std::max(stats.last_at, event.at);
  }
  if (!reader.status()) return reader.status();
  return stats;
}

}  // namespace gw::risk
