// The risk model's features: what the feature store computes for an episode
// at its opening (docs/risk-model.md defines each one). A feature vector is
// the numeric features, in kNumericFeatures order, then the categorical
// ones, in kCategoricalFeatures order. Numeric values are NaN where the
// history has nothing to say (e.g. no past reply); models treat NaN as
// missing. Thread-safe: constants and plain values.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace gw::risk {

enum class NumericFeature : std::size_t {
  kFlReplyMedianS,           // median of the freelancer's past reply times, seconds
  kFlReplyP90S,              // their 90th percentile, seconds
  kFlReplies,                // past replies (episodes they closed by replying)
  kFlEpisodes,               // past episodes (opened before this one)
  kFlUnanswered24Share,      // share of matured episodes unanswered after 24 h
  kFlUnanswered72Share,      // share of matured episodes unanswered after 72 h
  kFlMatured72,              // episodes whose 72 h horizon has passed
  kFlOpenEpisodes,           // their other episodes open now
  kFlActiveContracts,        // their contracts started and not ended
  kFlSinceLastMessageS,      // since their last message on any contract, seconds
  kFlTenureS,                // since they were first named by an event, seconds
  kLocalHour,                // hour of the opening in the freelancer's zone
  kLocalWeekday,             // weekday of the opening there, 0 = Monday
  kClientMessages1h,         // the contract's client messages, decayed over 1 h
  kClientMessages24h,        // the same over 24 h
  kContractAgeS,             // since contract_started, seconds
  kContractMessages,         // messages on the contract so far, both sides
  kContractEpisode,          // the episode's number on its contract
  kContractSinceFlMessageS,  // since the freelancer last wrote on this contract
  kContractLastReplyS,       // how long the contract's previous episode waited for its reply
  kCount
};
inline constexpr std::size_t kNumericFeatureCount = static_cast<std::size_t>(NumericFeature::kCount);

enum class CategoricalFeature : std::size_t {
  kFlCountry,  // upper-cased ISO code; "" when unknown
  kFlKind,     // individual, agency, ...; "" when unknown
  kCount
};
inline constexpr std::size_t kCategoricalFeatureCount = static_cast<std::size_t>(CategoricalFeature::kCount);
inline constexpr std::size_t kFeatureCount = kNumericFeatureCount + kCategoricalFeatureCount;

// Names in feature-vector order, as model.json and the docs spell them.
inline constexpr std::array<std::string_view, kFeatureCount> kFeatureNames = {"fl_reply_median_s",
                                                                              "fl_reply_p90_s",
                                                                              "fl_replies",
                                                                              "fl_episodes",
                                                                              "fl_unanswered24_share",
                                                                              "fl_unanswered72_share",
                                                                              "fl_matured72",
                                                                              "fl_open_episodes",
                                                                              "fl_active_contracts",
                                                                              "fl_since_last_message_s",
                                                                              "fl_tenure_s",
                                                                              "local_hour",
                                                                              "local_weekday",
                                                                              "client_messages_1h",
                                                                              "client_messages_24h",
                                                                              "contract_age_s",
                                                                              "contract_messages",
                                                                              "contract_episode",
                                                                              "contract_since_fl_message_s",
                                                                              "contract_last_reply_s",
                                                                              "fl_country",
                                                                              "fl_kind"};

static_assert(
    [] {
      for (std::string_view name : kFeatureNames) {
        if (name.empty()) return false;
      }
      return true;
    }(),
    "every feature has a name");

// Heavy-tailed numeric features (durations and counts): the logistic
// regression baseline reads them as log1p(x) so that a few huge values do
// not dominate it. Trees do not care.
bool is_heavy_tailed(NumericFeature f);

// An episode's features, with its categorical values as Category: their
// texts (EpisodeFeatures), or FeatureStore's ids of them.
template <class Category>
struct BasicEpisodeFeatures {
  std::array<double, kNumericFeatureCount> numeric{};
  std::array<Category, kCategoricalFeatureCount> categorical{};

  double& operator[](NumericFeature f) { return numeric[static_cast<std::size_t>(f)]; }
  double operator[](NumericFeature f) const { return numeric[static_cast<std::size_t>(f)]; }
  Category& operator[](CategoricalFeature f) { return categorical[static_cast<std::size_t>(f)]; }
  const Category& operator[](CategoricalFeature f) const { return categorical[static_cast<std::size_t>(f)]; }
  bool operator==(const BasicEpisodeFeatures&) const = default;
};
using EpisodeFeatures = BasicEpisodeFeatures<std::string>;

}  // namespace gw::risk
