// From a simulated launch to the report, end to end through the binary:
// `simulate --policy --effect` then `replay` then `report`. With an effect
// the report finds it; with none (A/A, the same marketplace) it finds
// nothing. One seed each: the coverage over many seeds is bench/calibrate.py's.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

constexpr char kLoopReportPolicy[] = R"([campaign]
name = "launch"
start = "2019-08-08T00:00:00Z"
holdout_percent = 50.0
salt = "launch"
[limits]
max_nudges_per_day = 3
quiet_hours = "22:00-08:00"
[[ladder]]
after = "24h"
action = "nudge"
template = "reminder-1"
[[ladder]]
after = "72h"
action = "escalate"
team = "support"
)";

int loop_report_run(const std::string& args) {
  const int status = std::system((std::string(GHOSTWATCH_BINARY) + " " + args + " 2>/dev/null").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// simulate -> replay -> report; the report's reply_24h.
nlohmann::json loop_report_reply_24h(const std::string& effect) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / ("closed_loop_report." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto at = [&dir](const char* name) { return (dir / name).string(); };
  std::ofstream(at("policy.toml")) << kLoopReportPolicy;
  EXPECT_EQ(loop_report_run("simulate --seed 11 --freelancers 1500 --clients 600 --days 35 --policy " +
                            at("policy.toml") + " --effect " + effect + " --out " + at("events.ndjson")),
            0);
  EXPECT_EQ(loop_report_run("replay --config " + at("policy.toml") + " --events " + at("events.ndjson") +
                            " --actions " + at("actions.ndjson") + " --episodes " + at("episodes.ndjson")),
            0);
  EXPECT_EQ(loop_report_run("report --config " + at("policy.toml") + " --episodes " + at("episodes.ndjson") +
                            " --actions " + at("actions.ndjson") + " --json " + at("report.json")),
            0);
  std::ifstream in(at("report.json"));
  const nlohmann::json report = nlohmann::json::parse(in, nullptr, false);
  std::filesystem::remove_all(dir);
  return report.is_object() ? report["metrics"]["reply_24h"] : nlohmann::json();
}

TEST(SimClosedLoopReport, TheReportFindsAnInjectedEffectAndNothingInAnAATest) {
  const nlohmann::json lifted = loop_report_reply_24h("reply24h=+0.3");
  ASSERT_TRUE(lifted.is_object());
  EXPECT_GT(lifted["ci_low"].get<double>(), 0.1) << lifted.dump();  // P = 0.3 moves reply_24h by about 0.2
  EXPECT_LT(lifted["diff"].get<double>(), 0.3) << lifted.dump();    // never more than P
  const nlohmann::json aa = loop_report_reply_24h("none");
  ASSERT_TRUE(aa.is_object());
  EXPECT_LT(aa["ci_low"].get<double>(), 0.0) << aa.dump();
  EXPECT_GT(aa["ci_high"].get<double>(), 0.0) << aa.dump();
}

}  // namespace
