// The at-risk list of serve with a risk model (docs/dashboard.md): each
// open episode's risk, the order by risk or by waiting time, the tier's
// ladder for the next step and team; without a model, no risk and no
// sorting by it. Through the real binary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "serve_risk_support.h"
#include "serve_support.h"

namespace gw::test {
namespace {

TEST(ServeRiskDashboard, AtRiskShowsAndSortsByRiskOnlyWithAModel) {
  const ServeRiskWorld& w = ServeRiskWorld::get();
  TempDir dir;
  const std::string config = dir.file("policy.toml");
  write_file(config, read_file(kExamplePolicy) +
                         "\n[[risk_tiers]]\nmin_risk = 0.15\n[[risk_tiers.ladder]]\nafter = \"12h\"\n"
                         "action = \"escalate\"\nteam = \"fast-lane\"\n");
  ServeProcess serve(
      {"--config", config, "--data", dir.file("d"), "--clock", "events", "--model", w.dir.file("model-a.json")},
      dir.file("serve.log"));
  ASSERT_TRUE(serve.running()) << serve.log();
  auto c = serve.client();
  ASSERT_EQ(c.Post("/v1/events", w.events, kNdjson)->status, 200);
  ASSERT_EQ(c.Post("/v1/advance?to=2019-08-21T00:00:00Z", "", "text/plain")->status, 200);

  auto by_risk = c.Get("/v1/at-risk?sort=risk&limit=1000");
  ASSERT_TRUE(by_risk);
  ASSERT_EQ(by_risk->status, 200) << by_risk->body;
  const auto j = nlohmann::json::parse(by_risk->body);
  EXPECT_EQ(j["sort"], "risk");
  ASSERT_GT(j["items"].size(), 1u);
  double last = 2;
  std::size_t fast_lane = 0;
  for (const auto& item : j["items"]) {
    const double risk = item["risk"].get<double>();
    EXPECT_LE(risk, last);
    last = risk;
    // The riskiest follow their tier's ladder: its step and its team.
    if (risk >= 0.15 && item["in_segment"] == true) {
      ++fast_lane;
      EXPECT_EQ(item["team"], "fast-lane") << item.dump();
    }
  }
  EXPECT_GT(fast_lane, 0u);
  // Each item's risk is its episode record's.
  const auto first = j["items"][0];
  auto episodes = c.Get("/v1/episodes?status=open&contract=" + first["contract"].get<std::string>());
  ASSERT_TRUE(episodes);
  EXPECT_EQ(nlohmann::json::parse(episodes->body)["items"][0]["risk"], first["risk"]) << episodes->body;

  // By waiting time (the default), the same episodes, longest waiting first.
  const auto by_wait = nlohmann::json::parse(c.Get("/v1/at-risk?limit=1000")->body);
  EXPECT_EQ(by_wait["sort"], "waiting");
  ASSERT_EQ(by_wait["items"].size(), j["items"].size());
  for (std::size_t i = 1; i < by_wait["items"].size(); ++i) {
    EXPECT_LE(by_wait["items"][i - 1]["opened_at"].get<std::string>(),
              by_wait["items"][i]["opened_at"].get<std::string>());
  }

  // Without a model: no risk, and no sorting by it.
  ServeProcess plain({"--config", kExamplePolicy, "--data", dir.file("d-plain"), "--clock", "events"},
                     dir.file("plain.log"));
  ASSERT_TRUE(plain.running()) << plain.log();
  auto p = plain.client();
  ASSERT_EQ(p.Post("/v1/events", w.events, kNdjson)->status, 200);
  const auto plain_list = nlohmann::json::parse(p.Get("/v1/at-risk?limit=5")->body);
  EXPECT_FALSE(plain_list.contains("sort"));
  ASSERT_GT(plain_list["items"].size(), 0u);
  EXPECT_FALSE(plain_list["items"][0].contains("risk"));
  auto refused = p.Get("/v1/at-risk?sort=risk");
  EXPECT_EQ(refused->status, 400);
  EXPECT_NE(refused->body.find("sort: risk needs a risk model"), std::string::npos) << refused->body;
}

}  // namespace
}  // namespace gw::test
