// EpisodeScorer: what gives an episode its risk score when it opens (the
// risk model, when one is configured; see risk/live_scorer.h). The engine
// calls it once per opening, on the thread that drives the engine.
#pragma once

#include "ghostwatch/engine/records.h"

namespace gw {

class EpisodeScorer {
 public:
  virtual ~EpisodeScorer() = default;
  // `opening` is the episode as it opens (outcome open, no risk yet).
  // Returns a probability in [0, 1].
  virtual float score(const EpisodeRecord& opening) = 0;
};

}  // namespace gw
