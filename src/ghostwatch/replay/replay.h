// `ghostwatch replay` as a library call (spec section 6): reads an NDJSON
// event file, runs the engine over it with the watermark driven by event
// times, and writes decisions, episodes and rejects as NDJSON. Output files
// are written atomically: they appear complete or not at all.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/engine/event.h"
#include "ghostwatch/engine/records.h"
#include "ghostwatch/policy/policy.h"

namespace gw {

namespace risk {
class RiskModel;
}

struct ReplayOptions {
  std::string events_path;  // "-" reads standard input
  std::optional<Instant> until;  // default: the largest accepted `at`
  std::string actions_path;   // empty: not written
  std::string episodes_path;  // empty: not written
  std::string rejects_path;   // empty: not written
  bool strict = false;        // stop at the first reject, writing nothing
  // Scores every episode at its opening (its records carry `risk`); nullptr:
  // no model, and the outputs are exactly the spec's.
  const risk::RiskModel* risk_model = nullptr;
};

struct ReplayStats {
  std::uint64_t lines = 0;
  std::uint64_t blank_lines = 0;
  std::uint64_t accepted = 0;
  std::uint64_t bytes = 0;
  std::array<std::uint64_t, kRejectReasonCount> rejects{};
  std::array<std::uint64_t, kDecisionStatusCount> decisions{};
  std::array<std::uint64_t, kOutcomeCount> episodes{};
  std::uint64_t contracts = 0;
  std::size_t engine_memory_bytes = 0;
  // Set when --strict stopped at a reject.
  std::uint64_t strict_line = 0;
  RejectReason strict_reason = RejectReason::kNone;

  std::uint64_t rejected() const;
};

// Called every so many lines with the stats so far (for a progress line).
using ReplayProgress = std::function<void(const ReplayStats&)>;

// Errors: unreadable events, unwritable outputs. A --strict stop is not an
// error: it returns stats with strict_reason set and writes no file.
Result<ReplayStats> run_replay(const Policy& policy, const ReplayOptions& options,
                               const ReplayProgress& progress = nullptr);

}  // namespace gw
