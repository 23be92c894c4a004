// Tests of reading the report's inputs (ghostwatch/report/report_input.h):
// the join of decisions to episodes, the trigger, the data end, and errors
// that name the file and line.
#include "ghostwatch/report/report_input.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace gw::report {
namespace {

class ReportInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("report_input_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  Result<ReportInput> load(const std::string& episodes, const std::string& actions) {
    return load_report_input(write("episodes.ndjson", episodes), write("actions.ndjson", actions));
  }

  std::filesystem::path dir_;
};

const char kReportTwoEpisodes[] =
    R"({"contract":"c1","episode":1,"freelancer":"u1","client":"u2","arm":"treatment","in_segment":true,)"
    R"("opened_at":"2019-08-01T12:00:00Z","closed_at":"2019-08-03T09:30:00Z","outcome":"replied",)"
    R"("response_seconds":163800,"steps_sent":1})"
    "\n"
    R"({"contract":"c2","episode":1,"freelancer":"u3","client":"u2","arm":"control","in_segment":true,)"
    R"("opened_at":"2019-08-01T00:00:00Z","closed_at":"2019-08-05T00:00:00.250Z","outcome":"contract_ended",)"
    R"("reason":"cancelled","response_seconds":null,"steps_sent":0})"
    "\n";

std::string report_decision(const std::string& at, const std::string& contract, const std::string& action,
                            const std::string& status) {
  return R"({"at":")" + at + R"(","contract":")" + contract + R"(","episode":1,"step":1,"action":")" + action +
         R"(","template":"t","freelancer":"u1","client":"u2","arm":"treatment","status":")" + status + "\"}\n";
}

TEST_F(ReportInputTest, FoldsDecisionsIntoTheirEpisodes) {
  auto input = load(kReportTwoEpisodes, report_decision("2019-08-03T12:00:00Z", "c1", "nudge", "sent") +
                                            report_decision("2019-08-02T12:00:00Z", "c1", "nudge", "sent") +
                                            report_decision("2019-08-04T12:00:00Z", "c1", "escalate", "sent") +
                                            report_decision("2019-08-02T13:00:00Z", "c1", "nudge", "suppressed") +
                                            report_decision("2019-08-02T00:00:00Z", "c2", "nudge", "held_out"));
  ASSERT_TRUE(input) << input.message();
  ASSERT_EQ(input->episodes.size(), 2u);
  const ReportEpisode& e = input->episodes[0];
  EXPECT_EQ(e.contract, "c1");
  EXPECT_EQ(e.arm, Arm::kTreatment);
  EXPECT_EQ(e.outcome, Outcome::kReplied);
  EXPECT_EQ(e.decisions, 4);
  EXPECT_EQ(e.trigger, *parse_rfc3339("2019-08-02T12:00:00Z"));  // the earliest, not the first in the file
  EXPECT_EQ(e.nudges_sent, 2);
  EXPECT_EQ(e.escalations_sent, 1);
  const ReportEpisode& c = input->episodes[1];
  EXPECT_EQ(c.arm, Arm::kControl);
  EXPECT_EQ(c.outcome, Outcome::kContractEnded);
  EXPECT_EQ(c.reason, "cancelled");
  EXPECT_EQ(c.trigger, *parse_rfc3339("2019-08-02T00:00:00Z"));  // held_out counts: intention to treat
  EXPECT_EQ(c.nudges_sent, 0);
  EXPECT_EQ(input->max_time, *parse_rfc3339("2019-08-05T00:00:00.250Z"));
}

TEST_F(ReportInputTest, OpenEpisodesAndNullReasons) {
  auto input = load(
      R"({"contract":"c1","episode":2,"freelancer":"u1","arm":"treatment","in_segment":false,)"
      R"("opened_at":"2019-08-01T12:00:00Z","closed_at":null,"outcome":"open"})"
      "\n"
      R"({"contract":"c2","episode":1,"freelancer":"u1","arm":"treatment","in_segment":true,)"
      R"("opened_at":"2019-08-01T12:00:00Z","closed_at":"2019-08-01T13:00:00Z","outcome":"contract_ended","reason":null})"
      "\n",
      "");
  ASSERT_TRUE(input) << input.message();
  EXPECT_EQ(input->episodes[0].closed_at, kNoInstant);
  EXPECT_EQ(input->episodes[0].trigger, kNoInstant);
  EXPECT_EQ(input->episodes[1].reason, "");
}

TEST_F(ReportInputTest, ABadLineNamesTheFileAndLine) {
  const std::string episodes = kReportTwoEpisodes;
  const std::string good = report_decision("2019-08-03T12:00:00Z", "c1", "nudge", "sent");
  const std::string actions_path = (dir_ / "actions.ndjson").string();
  const std::string episodes_path = (dir_ / "episodes.ndjson").string();
  const struct {
    std::string episodes, actions, message;
  } cases[] = {
      {episodes, good + "{\"at\":", actions_path + ":2: not a JSON object"},
      {episodes, good + good + "[1]\n", actions_path + ":3: not a JSON object"},
      {episodes,
       R"({"at":"2019-08-03T12:00:00Z","contract":"c1","episode":1,"action":"nudge","status":"sent","x":[1,]})"
       "\n",
       actions_path + ":1: the value of \"x\" is not valid JSON"},
      {episodes + R"({"contract":"c3","episode":1,"freelancer":"u1","arm":"control","in_segment":true,)"
                  R"("opened_at":"2019-08-01T12:00:00Z","closed_at":null,"outcome":"open","steps_sent":01})"
                  "\n",
       good, episodes_path + ":3: the value of \"steps_sent\" is not valid JSON"},
      {episodes + "{} x\n", good, episodes_path + ":3: "},
      {episodes, report_decision("2019-08-03T12:00:00", "c1", "nudge", "sent"),
       actions_path + ":1: \"at\" must be an RFC 3339 timestamp"},
      {episodes, report_decision("2019-08-03T12:00:00Z", "c1", "nudge", "mailed"), actions_path + ":1: \"status\""},
      {episodes, report_decision("2019-08-03T12:00:00Z", "c9", "nudge", "sent"),
       actions_path + ":1: a decision for episode 1 of contract \"c9\", which " + episodes_path + " does not hold"},
      {episodes,
       R"({"at":"2019-08-03T12:00:00Z","contract":"c1","episode":1,"action":"nudge"})"
       "\n",
       actions_path + ":1: missing key \"status\""},
      {episodes + episodes, good, episodes_path + ":3: episode 1 of contract \"c1\" appears twice"},
      {R"({"contract":"c1","episode":0,"freelancer":"u1","arm":"treatment","in_segment":true,)"
       R"("opened_at":"2019-08-01T12:00:00Z","closed_at":null,"outcome":"open"})"
       "\n",
       "", episodes_path + ":1: \"episode\" must be an integer of at least 1"},
      {R"({"contract":"c1","episode":1,"freelancer":"u1","arm":"both","in_segment":true,)"
       R"("opened_at":"2019-08-01T12:00:00Z","closed_at":null,"outcome":"open"})"
       "\n",
       "", episodes_path + ":1: \"arm\" must be"},
      {R"({"contract":"c1","episode":1,"freelancer":"u1","arm":"control","in_segment":true,)"
       R"("opened_at":"2019-08-01T12:00:00Z","closed_at":"2019-08-01T12:00:00Z","outcome":"open"})"
       "\n",
       "", episodes_path + ":1: \"closed_at\" must be null exactly when"},
      {R"({"contract":"c1","episode":1,"freelancer":"u1","arm":"control","in_segment":true,)"
       R"("opened_at":"2019-08-01T12:00:00Z","closed_at":"2019-08-01T12:00:00Z","outcome":"contract_ended"})"
       "\n",
       "", episodes_path + ":1: \"reason\" must be present exactly when"},
      {R"({"contract":"c1","contract":"c2","episode":1,"freelancer":"u1","arm":"control","in_segment":true,)"
       R"("opened_at":"2019-08-01T12:00:00Z","closed_at":null,"outcome":"open"})"
       "\n",
       "", episodes_path + ":1: duplicate key \"contract\""},
  };
  for (const auto& c : cases) {
    auto input = load(c.episodes, c.actions);
    ASSERT_FALSE(input) << c.message;
    EXPECT_EQ(input.message().rfind(c.message, 0), 0u) << input.message() << "\n  expected: " << c.message;
  }
}

TEST_F(ReportInputTest, AMissingFileIsAnError) {
  auto input = load_report_input((dir_ / "none.ndjson").string(), write("actions.ndjson", ""));
  ASSERT_FALSE(input);
  EXPECT_NE(input.message().find("none.ndjson: cannot open"), std::string::npos) << input.message();
}

}  // namespace
}  // namespace gw::report
