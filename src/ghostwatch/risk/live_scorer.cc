#include "ghostwatch/risk/live_scorer.h"

namespace gw::risk {

float LiveRiskScorer::score(const EpisodeRecord& opening) {
  const EpisodeFeatures f = store_.on_episode_opened(opening);
  auto risk = model_.score({&f});
  if (!risk) {
    if (status_) status_ = risk.status();
    return 0;
  }
  return static_cast<float>((*risk)[0]);
}

}  // namespace gw::risk
