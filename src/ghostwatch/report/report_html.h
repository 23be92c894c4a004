// The experiment report as one self-contained HTML page: no script, no
// stylesheet or font from the network, charts as inline SVG (Kaplan-Meier
// curves per arm, a forest plot of the four metrics' differences with their
// CIs), plain-language verdicts, CUPED and always-valid intervals, with
// --events the opt-out rate and reply_24h by country and kind, and a loud
// warning block when the SRM test's
// p-value is below kSrmAlarmP. Every text that comes from the inputs or the
// policy is HTML-escaped. Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "ghostwatch/report/experiment.h"

namespace gw::report {

std::string experiment_html(const ExperimentReport& report);

// One metric's verdict in a sentence, e.g. "Nudged freelancers replied within
// 24 h more often: 61.2 % vs 55.0 %, +6.2 points (95 % CI +3.1 to +9.3),
// p = 0.0001". Significant means p < 0.05. Plain text (not escaped).
std::string metric_verdict(const MetricResult& metric);

// `text` with & < > " ' replaced by their character references.
std::string html_escape(std::string_view text);

}  // namespace gw::report
