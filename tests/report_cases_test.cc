// `ghostwatch report --cases`: the case export read back, and per arm the
// population episodes that led to a case with the cases' outcomes and
// statuses.
#include <gtest/gtest.h>

#include "ghostwatch/report/case_outcomes.h"
#include "serve_process.h"

namespace gw::report {
namespace {

ReportEpisode case_test_episode(const std::string& contract, Arm arm, bool in_segment = true) {
  ReportEpisode e;
  e.contract = contract;
  e.episode = 1;
  e.freelancer = "f-" + contract;
  e.arm = arm;
  e.in_segment = in_segment;
  e.decisions = 3;
  e.trigger = 0;
  return e;
}

TEST(ReportCases, PopulationEpisodesAreMatchedToTheirCasesPerArm) {
  ReportInput input;
  input.episodes = {case_test_episode("c1", Arm::kTreatment), case_test_episode("c2", Arm::kTreatment),
                    case_test_episode("c3", Arm::kControl), case_test_episode("c4", Arm::kTreatment, false)};
  const std::vector<ReportCase> cases = {{"c1", 1, "solved", "freelancer_replaced"},
                                         {"c2", 1, "open", ""},
                                         {"c3", 1, "solved", "freelancer_responded"},
                                         {"c4", 1, "new", ""},   // out of the segment: not in the population
                                         {"c9", 1, "new", ""}};  // no such episode
  const auto by_arm = case_outcomes(input, cases);
  const ArmCases& t = by_arm[static_cast<std::size_t>(Arm::kTreatment)];
  const ArmCases& c = by_arm[static_cast<std::size_t>(Arm::kControl)];
  EXPECT_EQ(t.episodes_with_case, 2);
  EXPECT_EQ(t.by_outcome, (std::map<std::string, std::int64_t>{{"freelancer_replaced", 1}, {"none", 1}}));
  EXPECT_EQ(t.by_status, (std::map<std::string, std::int64_t>{{"open", 1}, {"solved", 1}}));
  EXPECT_EQ(c.episodes_with_case, 1);
  EXPECT_EQ(c.by_outcome.at("freelancer_responded"), 1);
}

TEST(ReportCases, TheExportIsReadAndABadLineIsNamed) {
  test::TempDir dir;
  test::write_file(dir.file("cases.ndjson"),
                   R"({"id":1,"team":"improving-outcomes","contract":"c1","episode":2,"freelancer":"f1","client":"k1",)"
                   R"("status":"new","outcome":null,"assignee":null,"opened_at":"2024-03-06T10:00:00Z",)"
                   R"("updated_at":"2024-03-06T10:00:01Z"})"
                   "\n\n"
                   R"({"contract":"c2","episode":1,"status":"solved","outcome":"no_action"})"
                   "\n");
  auto cases = load_report_cases(dir.file("cases.ndjson"));
  ASSERT_TRUE(cases.is_ok()) << cases.message();
  ASSERT_EQ(cases->size(), 2u);
  EXPECT_EQ((*cases)[0].contract, "c1");
  EXPECT_EQ((*cases)[0].episode, 2);
  EXPECT_EQ((*cases)[0].outcome, "");
  EXPECT_EQ((*cases)[1].outcome, "no_action");
  test::write_file(dir.file("bad.ndjson"),
                   "{\"contract\":\"c1\",\"episode\":1,\"status\":\"new\",\"outcome\":null}\n"
                   "{\"contract\":\"c2\",\"episode\":\"1\",\"status\":\"new\",\"outcome\":null}\n");
  auto bad = load_report_cases(dir.file("bad.ndjson"));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.message().rfind(dir.file("bad.ndjson") + ":2: not a case", 0), 0u) << bad.message();
  EXPECT_FALSE(load_report_cases(dir.file("missing.ndjson")).is_ok());
}

TEST(ReportCases, TheCommandWritesThemUnderCases) {
  test::TempDir dir;
  const std::string events = dir.file("events.ndjson");
  ASSERT_EQ(test::run_ghostwatch("simulate --seed 5 --freelancers 300 --clients 120 --days 30 --out " + events).status,
            0);
  const std::string policy = std::string(GHOSTWATCH_SOURCE_DIR) + "/examples/policy.toml";
  ASSERT_EQ(test::run_ghostwatch("replay --config " + policy + " --events " + events + " --actions " +
                                 dir.file("a.ndjson") + " --episodes " + dir.file("e.ndjson"))
                .status,
            0);
  test::write_file(dir.file("cases.ndjson"), "");
  const auto r = test::run_ghostwatch("report --config " + policy + " --episodes " + dir.file("e.ndjson") +
                                      " --actions " + dir.file("a.ndjson") + " --cases " + dir.file("cases.ndjson") +
                                      " --json " + dir.file("r.json"));
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string json = test::read_file(dir.file("r.json"));
  EXPECT_NE(json.find("\"cases\""), std::string::npos);
  EXPECT_NE(json.find("\"episodes_with_case\": 0"), std::string::npos) << json;
}

}  // namespace
}  // namespace gw::report
