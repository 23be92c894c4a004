// An event history's episodes with their features at opening and their
// outcomes, and the label the risk model learns (unanswered72h), for
// training and evaluation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/engine/records.h"
#include "ghostwatch/risk/feature_stream.h"
#include "ghostwatch/risk/features.h"

namespace gw::risk {

struct EpisodeRow {
  std::string contract;
  std::uint32_t episode = 0;
  Instant opened_at = 0;
  EpisodeFeatures features;
  Outcome outcome = Outcome::kOpen;  // open: still open at the end of the data
  Instant closed_at = kNoInstant;
};

struct EpisodeHistory {
  std::vector<EpisodeRow> rows;  // in the order the episodes opened
  FeatureStreamStats stream;
};

// Errors: an unreadable file.
Result<EpisodeHistory> read_episode_history(const std::string& events_path);

// The label "unanswered72h": true when the episode was not replied within
// 72 h of its opening (outcome not replied, or replied more than 259200 s
// after); nullopt when the episode opened less than 72 h before `data_end`
// (its label is not known yet).
inline constexpr Duration kUnansweredHorizon = 3 * kDay;
std::optional<bool> unanswered72h(const EpisodeRow& row, Instant data_end);

}  // namespace gw::risk
