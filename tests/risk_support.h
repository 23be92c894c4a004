// Test-only helpers for the risk model tests: event lines written to a
// temporary file and read back as an episode history, a small simulated
// marketplace, and a feature comparison under which NaN equals NaN.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ghostwatch/risk/episode_history.h"
#include "ghostwatch/sim/marketplace.h"
#include "serve_process.h"

namespace gw::test {

inline std::string risk_join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  return text;
}

// The history of `text` (NDJSON events), read from a file in `dir`.
inline risk::EpisodeHistory risk_history_of(const TempDir& dir, const std::string& text,
                                            const std::string& name = "events.ndjson") {
  write_file(dir.file(name), text);
  auto h = risk::read_episode_history(dir.file(name));
  EXPECT_TRUE(h.is_ok()) << (h.is_ok() ? "" : h.message());
  return h.is_ok() ? *h : risk::EpisodeHistory{};
}

// A small simulated marketplace's events (a few thousand lines).
inline std::string risk_small_marketplace(std::uint64_t seed, std::int64_t days = 20) {
  sim::MarketplaceOptions o;
  o.seed = seed;
  o.freelancers = 120;
  o.clients = 60;
  o.days = days;
  std::string text;
  sim::generate_marketplace(o, [&text](std::string_view chunk) {
    text.append(chunk);
    return true;
  });
  return text;
}

inline bool risk_same_value(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

inline ::testing::AssertionResult risk_same_features(const risk::EpisodeFeatures& a, const risk::EpisodeFeatures& b) {
  for (std::size_t i = 0; i < risk::kNumericFeatureCount; ++i) {
    if (!risk_same_value(a.numeric[i], b.numeric[i])) {
      return ::testing::AssertionFailure() << risk::kFeatureNames[i] << ": " << a.numeric[i] << " vs " << b.numeric[i];
    }
  }
  if (a.categorical != b.categorical) return ::testing::AssertionFailure() << "categorical features differ";
  return ::testing::AssertionSuccess();
}

}  // namespace gw::test
