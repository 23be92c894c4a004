#include "ghostwatch/report/case_outcomes.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "ghostwatch/report/experiment.h"

namespace gw::report {

Result<std::vector<ReportCase>> load_report_cases(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(fmt::format("{}: cannot open", path));
  std::vector<ReportCase> out;
  std::string line;
  for (std::uint64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    const auto text = [&](const char* key) { return j.contains(key) && j[key].is_string(); };
    if (!j.is_object() || !text("contract") || !j.contains("episode") || !j["episode"].is_number_integer() ||
        !text("status") || !j.contains("outcome") || !(j["outcome"].is_null() || j["outcome"].is_string())) {
      return Status::error(fmt::format(
          "{}:{}: not a case: a JSON object with contract, episode, status and outcome (GET /v1/cases?format=ndjson)",
          path, number));
    }
    out.push_back({j["contract"], j["episode"], j["status"], j["outcome"].is_null() ? "" : j["outcome"]});
  }
  return out;
}

std::array<ArmCases, 2> case_outcomes(const ReportInput& input, const std::vector<ReportCase>& cases) {
  std::map<std::pair<std::string, std::int64_t>, const ReportCase*> by_episode;
  for (const ReportCase& c : cases) by_episode[{c.contract, c.episode}] = &c;
  std::array<ArmCases, 2> out;
  for (const ReportEpisode* e : population(input)) {
    const auto it = by_episode.find({e->contract, e->episode});
    if (it == by_episode.end()) continue;
    ArmCases& arm = out[static_cast<std::size_t>(e->arm)];
    ++arm.episodes_with_case;
    ++arm.by_outcome[it->second->outcome.empty() ? "none" : it->second->outcome];
    ++arm.by_status[it->second->status];
  }
  return out;
}

}  // namespace gw::report
