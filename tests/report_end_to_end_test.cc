// `ghostwatch report` end to end: a simulated marketplace is replayed with
// the example policy, reported on, and every number of the report is
// recomputed by tests/report_check.py (numpy and scipy, no code shared with
// the C++). Skipped, with a message, when /usr/bin/python3 lacks scipy.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

constexpr char kReportPython[] = "/usr/bin/python3";

struct ReportRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

ReportRun report_run(const std::string& command) {
  ReportRun run;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return run;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) run.output.append(buffer, n);
  const int status = ::pclose(p);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

bool report_have_scipy() {
  return report_run(std::string(kReportPython) + " -c 'import numpy, scipy.stats'").status == 0;
}

class ReportEndToEnd : public ::testing::Test {
 protected:
  // One simulated marketplace and its replay for every test of the suite.
  static void SetUpTestSuite() {
    // CTest runs each test in its own process, in parallel: one directory per process.
    dir_ = new std::filesystem::path(std::filesystem::path(::testing::TempDir()) /
                                     ("report_end_to_end." + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    const std::string bin = GHOSTWATCH_BINARY;
    const ReportRun sim = report_run(bin + " simulate --seed 5 --freelancers 3000 --clients 1200 --days 60 --out " +
                                     path("events.ndjson"));
    ASSERT_EQ(sim.status, 0) << sim.output;
    const ReportRun replay =
        report_run(bin + " replay --config " + policy() + " --events " + path("events.ndjson") + " --actions " +
                   path("actions.ndjson") + " --episodes " + path("episodes.ndjson"));
    ASSERT_EQ(replay.status, 0) << replay.output;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static std::string path(const std::string& name) { return (*dir_ / name).string(); }
  static std::string policy() { return std::string(GHOSTWATCH_SOURCE_DIR) + "/examples/policy.toml"; }

  static ReportRun report(const std::string& config, const std::string& json, const std::string& extra = "") {
    return report_run(std::string(GHOSTWATCH_BINARY) + " report --config " + config + " --episodes " +
                      path("episodes.ndjson") + " --actions " + path("actions.ndjson") + " --json " + json + extra);
  }
  static ReportRun check(const std::string& config, const std::string& json, const std::string& until = "") {
    return report_run(std::string(kReportPython) + " " + GHOSTWATCH_SOURCE_DIR + "/tests/report_check.py " + config +
                      " " + path("episodes.ndjson") + " " + path("actions.ndjson") + " " + json + " " + until);
  }

  static std::filesystem::path* dir_;
};

std::filesystem::path* ReportEndToEnd::dir_ = nullptr;

TEST_F(ReportEndToEnd, EveryNumberMatchesAnIndependentComputation) {
  if (!report_have_scipy()) GTEST_SKIP() << kReportPython << " has no scipy: apt-get install python3-scipy";
  const ReportRun r = report(policy(), path("report.json"), " --out " + path("report.html"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("SAMPLE RATIO MISMATCH"), std::string::npos) << r.output;
  std::ifstream html_file(path("report.html"));
  std::stringstream html;
  html << html_file.rdbuf();
  EXPECT_NE(html.str().find("<svg"), std::string::npos);
  EXPECT_NE(html.str().find("replied within 24 h"), std::string::npos);
  EXPECT_EQ(html.str().find("class=\"srm\""), std::string::npos);
  const ReportRun c = check(policy(), path("report.json"));
  EXPECT_EQ(c.status, 0) << c.output;
  EXPECT_NE(c.output.find(" 0 mismatches"), std::string::npos) << c.output;
}

TEST_F(ReportEndToEnd, AnEarlierDataEndLeavesOutLateWindows) {
  if (!report_have_scipy()) GTEST_SKIP() << kReportPython << " has no scipy: apt-get install python3-scipy";
  const std::string until = "2019-09-10T12:00:00.500Z";
  const ReportRun r = report(policy(), path("until.json"), " --until " + until);
  ASSERT_EQ(r.status, 0) << r.output;
  const ReportRun c = check(policy(), path("until.json"), until);
  EXPECT_EQ(c.status, 0) << c.output;
}

TEST_F(ReportEndToEnd, AWrongHoldoutShareRaisesTheSrmAlarm) {
  if (!report_have_scipy()) GTEST_SKIP() << kReportPython << " has no scipy: apt-get install python3-scipy";
  // The same data judged against a 30 % holdout: the arms (about 10 %) no longer fit.
  std::ifstream in(policy());
  std::stringstream text;
  text << in.rdbuf();
  std::string toml = text.str();
  const std::size_t at = toml.find("holdout_percent = 10.0");
  ASSERT_NE(at, std::string::npos);
  toml.replace(at, 22, "holdout_percent = 30.0");
  const std::string skewed = path("skewed.toml");
  std::ofstream(skewed) << toml;
  const ReportRun r = report(skewed, path("skewed.json"), " --out " + path("skewed.html"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("WARNING: SAMPLE RATIO MISMATCH"), std::string::npos) << r.output;
  std::ifstream html_file(path("skewed.html"));
  std::stringstream html;
  html << html_file.rdbuf();
  EXPECT_NE(html.str().find("<div class=\"srm\">Sample ratio mismatch"), std::string::npos);
  const ReportRun c = check(skewed, path("skewed.json"));
  EXPECT_EQ(c.status, 0) << c.output;
}

TEST_F(ReportEndToEnd, CupedSequentialOptOutsAndBreakdownsMatchTooWithALaterStart) {
  if (!report_have_scipy()) GTEST_SKIP() << kReportPython << " has no scipy: apt-get install python3-scipy";
  // A campaign that starts two weeks into the data, so that CUPED has a pre-period.
  std::ifstream in(policy());
  std::stringstream text;
  text << in.rdbuf();
  std::string toml = text.str();
  const std::size_t at = toml.find("start = \"2019-08-01T00:00:00Z\"");
  ASSERT_NE(at, std::string::npos);
  toml.replace(at, 30, "start = \"2019-08-15T00:00:00Z\"");
  const std::string late = path("late.toml");
  std::ofstream(late) << toml;
  const std::string bin = GHOSTWATCH_BINARY;
  const ReportRun replay =
      report_run(bin + " replay --config " + late + " --events " + path("events.ndjson") + " --actions " +
                 path("late_actions.ndjson") + " --episodes " + path("late_episodes.ndjson"));
  ASSERT_EQ(replay.status, 0) << replay.output;
  const std::string files = " --episodes " + path("late_episodes.ndjson") + " --actions " + path("late_actions.ndjson");
  const ReportRun r = report_run(bin + " report --config " + late + files + " --events " + path("events.ndjson") +
                                 " --json " + path("late.json") + " --out " + path("late.html"));
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream json_file(path("late.json"));
  std::stringstream json;
  json << json_file.rdbuf();
  EXPECT_NE(json.str().find("\"variance_reduction\""), std::string::npos);
  EXPECT_NE(json.str().find("\"group\": \"IN\""), std::string::npos);
  EXPECT_NE(json.str().find("\"opted_out_treatment\""), std::string::npos);
  const ReportRun c =
      report_run(std::string(kReportPython) + " " + GHOSTWATCH_SOURCE_DIR + "/tests/report_check.py --events " +
                 path("events.ndjson") + " " + late + " " + path("late_episodes.ndjson") + " " +
                 path("late_actions.ndjson") + " " + path("late.json"));
  EXPECT_EQ(c.status, 0) << c.output;
  EXPECT_NE(c.output.find(" 0 mismatches"), std::string::npos) << c.output;
}

TEST_F(ReportEndToEnd, ABadInputLineIsAnErrorNamingFileAndLine) {
  const std::string bad = path("bad_actions.ndjson");
  std::filesystem::copy_file(path("actions.ndjson"), bad, std::filesystem::copy_options::overwrite_existing);
  std::ofstream(bad, std::ios::app) << "{\"at\":\n";
  std::size_t lines = 0;
  std::ifstream in(bad);
  for (std::string line; std::getline(in, line);) ++lines;
  const ReportRun r = report_run(std::string(GHOSTWATCH_BINARY) + " report --config " + policy() + " --episodes " +
                                 path("episodes.ndjson") + " --actions " + bad + " --json " + path("bad.json"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(bad + ":" + std::to_string(lines) + ": not a JSON object"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(path("bad.json")));
}

}  // namespace
