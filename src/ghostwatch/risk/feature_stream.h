// Runs an NDJSON event file through the engine (spec sections 1 and 3: the
// same validation, the same episodes with the same numbers as `replay`) with
// a FeatureStore beside it, and hands every episode's features at its
// opening, and every episode's close, to an observer in processing order.
// No decisions are made: the campaign's steps play no part in features.
#pragma once

#include <cstdint>
#include <string>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/engine/records.h"
#include "ghostwatch/risk/features.h"

namespace gw::risk {

// Calls arrive in processing order; the record's views die with the call.
class EpisodeObserver {
 public:
  virtual ~EpisodeObserver() = default;
  virtual void on_opened(const EpisodeRecord& r, const EpisodeFeatures& f) = 0;
  // Closed by a reply or contract_ended; episodes open at the end of the
  // input are not reported.
  virtual void on_closed(const EpisodeRecord& r) = 0;
};

struct FeatureStreamStats {
  std::uint64_t lines = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t episodes = 0;
  Instant first_at = kNoInstant;  // of accepted events
  Instant last_at = kNoInstant;   // the largest accepted `at`: the data's end
};

// Errors: an unreadable file. Rejected lines are counted and skipped, as
// replay does.
Result<FeatureStreamStats> stream_episode_features(const std::string& events_path, EpisodeObserver& observer);

}  // namespace gw::risk
