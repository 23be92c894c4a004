// The cases side of `ghostwatch report --cases C`: C is the case export of
// `serve` (GET /v1/cases?format=ndjson: one case a line with at least
// `contract`, `episode`, `status`, `outcome`). Per arm, how many population
// episodes led to a case (the case's latest escalated episode), and the
// cases' outcomes and statuses: what the support team made of the
// escalations. A line that is not such a case is an error naming the file
// and line. Thread-safe: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/report/report_input.h"

namespace gw::report {

struct ReportCase {
  std::string contract;
  std::int64_t episode = 0;
  std::string status;   // new, open, pending, solved
  std::string outcome;  // "" while none is set
};

Result<std::vector<ReportCase>> load_report_cases(const std::string& path);

struct ArmCases {
  std::int64_t episodes_with_case = 0;
  std::map<std::string, std::int64_t> by_outcome;  // "none" for a case without one
  std::map<std::string, std::int64_t> by_status;
};

// Indexed by Arm.
std::array<ArmCases, 2> case_outcomes(const ReportInput& input, const std::vector<ReportCase>& cases);

}  // namespace gw::report
