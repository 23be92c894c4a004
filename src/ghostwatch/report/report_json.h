// The experiment report as JSON text (every key is listed in docs/report.md).
// Numbers that are undefined for the data (see stats.h) and infinite ones are
// null; doubles are written with enough digits to round-trip. Thread-safe.
#pragma once

#include <string>

#include "ghostwatch/report/experiment.h"

namespace gw::report {

std::string experiment_json(const ExperimentReport& report);

}  // namespace gw::report
