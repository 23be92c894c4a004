// The inputs of `ghostwatch report`: the episode records and the decision
// records (spec section 5) that `ghostwatch replay --episodes/--actions`
// writes, read line by line and joined by (contract, episode). A loaded
// ReportInput holds one ReportEpisode per episode line, in file order, with
// the decisions of that episode folded in (earliest `at`, sends by action),
// and the largest timestamp found in either file. Every line is checked: a
// line that is not a JSON object with the fields the spec gives it (types and
// values included), a duplicate episode, or a decision of an episode the
// episodes file lacks is an error naming the file and line. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/policy/arm.h"

namespace gw::report {

enum class Outcome : std::uint8_t { kReplied, kContractEnded, kOpen };

struct ReportEpisode {
  std::string contract;
  std::int64_t episode = 0;
  std::string freelancer;
  Arm arm = Arm::kTreatment;
  bool in_segment = false;
  Instant opened_at = 0;
  Instant closed_at = kNoInstant;  // kNoInstant while open
  Outcome outcome = Outcome::kOpen;
  std::string reason;  // contract_ended only; empty when null
  // Folded in from the decision records of this episode.
  std::int64_t decisions = 0;         // of any status
  Instant trigger = kNoInstant;       // the earliest decision `at`; kNoInstant without decisions
  std::int64_t nudges_sent = 0;       // nudge decisions with status sent
  std::int64_t escalations_sent = 0;  // escalate decisions with status sent
};

struct ReportInput {
  std::vector<ReportEpisode> episodes;
  Instant max_time = kNoInstant;  // the largest `at`, `opened_at` or `closed_at` of both files
};

// Joins episode and decision records into a ReportInput, whatever they are
// read from (the files of replay, or the live service's store): episodes
// first, then their decisions folded in. Not thread-safe.
class ReportEpisodeIndex;

class ReportInputBuilder {
 public:
  // `expected_episodes`: room reserved up front (0: none).
  explicit ReportInputBuilder(std::size_t expected_episodes = 0);
  ~ReportInputBuilder();
  ReportInputBuilder(const ReportInputBuilder&) = delete;
  ReportInputBuilder& operator=(const ReportInputBuilder&) = delete;

  // Adds an episode (its decision fields zero); an error when the same
  // (contract, episode) was added before.
  Status add_episode(ReportEpisode e);
  // Folds a decision into its episode; an error when no such episode was added.
  Status add_decision(std::string_view contract, std::int64_t episode, Instant at, bool escalate, bool sent);
  // The joined input; the builder is done after it.
  ReportInput take() { return std::move(input_); }

 private:
  ReportInput input_;
  std::unique_ptr<ReportEpisodeIndex> index_;  // over input_.episodes
};

// Reads both files ("-" is not accepted: each is read once, by name).
Result<ReportInput> load_report_input(const std::string& episodes_path, const std::string& actions_path);

}  // namespace gw::report
