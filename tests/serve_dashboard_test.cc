// The dashboard's routes of `ghostwatch serve` over real HTTP (docs/api.md,
// "Dashboard"): the campaign as the policy says, an open episode at risk
// with the freelancer's local time and the next step due, the overview's
// counts, the experiment report equal to `ghostwatch report` over the
// service's own exports, and the dashboard's files at / with their
// security headers.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "serve_support.h"

namespace gw::test {
namespace {

constexpr const char* kDashWrite = "dash-write-token";
constexpr const char* kDashRead = "dash-read-token";

class ServeDashboard : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}) {
    write_file(dir_.file("tokens"), std::string("write ") + kDashWrite + "\nread " + kDashRead + "\n");
    std::vector<std::string> args = {"--config", kExamplePolicy, "--data",       dir_.file("data"),
                                     "--clock",  "events",       "--token-file", dir_.file("tokens")};
    args.insert(args.end(), extra.begin(), extra.end());
    serve_ = std::make_unique<ServeProcess>(args, dir_.file("serve.log"));
    ASSERT_TRUE(serve_->running()) << serve_->log();
  }

  nlohmann::json get(const std::string& path, int status = 200) {
    auto r = serve_->client().Get(path, bearer(kDashRead));
    EXPECT_EQ(r->status, status) << path << ": " << r->body;
    return nlohmann::json::parse(r->body, nullptr, false);
  }

  void post_events(const std::string& body) {
    ASSERT_EQ(serve_->client().Post("/v1/events", bearer(kDashWrite), body, kNdjson)->status, 200);
  }

  void advance(const std::string& to) {
    ASSERT_EQ(serve_->client().Post("/v1/advance?to=" + to, bearer(kDashWrite), "", "text/plain")->status, 200);
  }

  // A freelancer in Mexico City (UTC-6, no DST) in the arm `arm`.
  std::string mexican_freelancer(const std::string& arm = "treatment") {
    for (int i = 1; i < 200; ++i) {
      const std::string id = "f" + std::to_string(i);
      post_events(R"({"type":"user","at":"2024-03-01T00:00:00Z","id":")" + id +
                  R"(","role":"freelancer","country":"MX","tz":"America/Mexico_City"})" + "\n");
      if (get("/v1/users/" + id)["arm"] == arm) return id;
    }
    ADD_FAILURE() << "no " << arm << " freelancer among 199";
    return "";
  }

  TempDir dir_;
  std::unique_ptr<ServeProcess> serve_;
};

TEST_F(ServeDashboard, CampaignIsThePolicyInForceWithoutItsSalt) {
  start();
  const nlohmann::json c = get("/v1/campaign");
  EXPECT_EQ(c["name"], "anti-ghosting");
  EXPECT_EQ(c["start"], "2019-08-01T00:00:00Z");
  EXPECT_TRUE(c["end"].is_null());
  EXPECT_EQ(c["holdout_percent"], 10.0);
  EXPECT_EQ(c["allowed_lateness"]["text"], "5m");
  EXPECT_EQ(c["segment"]["countries_exclude"].size(), 10u);
  EXPECT_EQ(c["limits"]["max_nudges_per_day"], 3);
  EXPECT_EQ(c["limits"]["quiet_hours"], nlohmann::json({{"start", "22:00"}, {"end", "08:00"}}));
  ASSERT_EQ(c["ladder"].size(), 3u);
  EXPECT_EQ(c["ladder"][0]["after"]["hours"], 24.0);
  EXPECT_EQ(c["ladder"][0]["template"], "reminder-1");
  EXPECT_EQ(c["ladder"][2]["action"], "escalate");
  EXPECT_EQ(c["ladder"][2]["team"], "improving-outcomes");
  EXPECT_EQ(c["ladder"][2]["after"]["text"], "5d");
  EXPECT_EQ(c.dump().find("salt"), std::string::npos);
  EXPECT_EQ(c.dump().find("ag-2019"), std::string::npos);
}

TEST_F(ServeDashboard, AnOpenEpisodeIsAtRiskWithLocalTimeAndNextStep) {
  start();
  const std::string fl = mexican_freelancer();
  post_events(R"({"type":"contract_started","at":"2024-03-01T00:00:00Z","contract":"c1","client":"k1","freelancer":")" +
              fl + "\"}\n" + R"({"type":"message","at":"2024-03-01T16:00:00Z","contract":"c1","from":"k1"})" + "\n");
  advance("2024-03-02T20:00:00Z");  // step 1 went out at 16:00Z, 10:00 in Mexico City

  const nlohmann::json r = get("/v1/at-risk");
  EXPECT_EQ(r["now"], "2024-03-02T20:00:00Z");
  EXPECT_EQ(r["total"], 1);
  ASSERT_EQ(r["items"].size(), 1u);
  const nlohmann::json& e = r["items"][0];
  EXPECT_EQ(e["contract"], "c1");
  EXPECT_EQ(e["freelancer"], fl);
  EXPECT_EQ(e["arm"], "treatment");
  EXPECT_EQ(e["country"], "MX");
  EXPECT_EQ(e["tz"], "America/Mexico_City");
  EXPECT_EQ(e["local_time"], "Sat 14:00");
  EXPECT_EQ(e["in_quiet_hours"], false);
  EXPECT_EQ(e["waiting_hours"], 28.0);
  EXPECT_EQ(e["steps_decided"], 1);
  EXPECT_EQ(e["steps_sent"], 1);
  EXPECT_EQ(
      e["next_step"],
      nlohmann::json({{"step", 2}, {"action", "nudge"}, {"target", "reminder-2"}, {"due_at", "2024-03-04T16:00:00Z"}}));
  EXPECT_EQ(e["team"], "improving-outcomes");
  EXPECT_EQ(r["countries"], nlohmann::json({"MX"}));

  EXPECT_EQ(get("/v1/at-risk?country=mx")["total"], 1);
  EXPECT_EQ(get("/v1/at-risk?country=US")["total"], 0);
  EXPECT_EQ(get("/v1/at-risk?team=improving-outcomes")["total"], 1);
  EXPECT_EQ(get("/v1/at-risk?team=other")["total"], 0);
  EXPECT_EQ(get("/v1/at-risk?arm=control")["total"], 0);
  EXPECT_EQ(get("/v1/at-risk?arm=both", 400)["error"]["code"], "bad_parameter");

  // At 23:00 local the freelancer is in quiet hours.
  advance("2024-03-03T05:00:00Z");
  const nlohmann::json late = get("/v1/at-risk")["items"][0];
  EXPECT_EQ(late["local_time"], "Sat 23:00");
  EXPECT_EQ(late["in_quiet_hours"], true);

  const nlohmann::json o = get("/v1/overview");
  EXPECT_EQ(o["now"], "2024-03-03T05:00:00Z");
  EXPECT_EQ(o["today"], "2024-03-03");
  EXPECT_EQ(o["week_start"], "2024-02-26");  // a Monday
  EXPECT_EQ(o["open_episodes"], 1);
  EXPECT_EQ(o["decisions_week"]["treatment"]["nudge"]["sent"], 1);
  EXPECT_EQ(o["decisions_today"]["treatment"]["nudge"]["sent"], 0);  // it went out yesterday
  ASSERT_EQ(o["open_by_age"].size(), 4u);                            // bands end at the three steps
  EXPECT_EQ(o["open_by_age"][1],
            nlohmann::json({{"from_hours", 24.0}, {"to_hours", 72.0}, {"treatment", 1}, {"control", 0}}));
  ASSERT_EQ(o["daily"].size(), 14u);
  EXPECT_EQ(o["daily"][12]["day"], "2024-03-02");
  EXPECT_EQ(o["daily"][12]["treatment"]["nudge"], 1);
  EXPECT_EQ(o["outbox_depth"], 1);  // no [mail]: the nudge waits in the outbox
}

TEST_F(ServeDashboard, AControlEpisodeMovesAlongItsLadderHeldOut) {
  start();
  const std::string fl = mexican_freelancer("control");
  post_events(R"({"type":"contract_started","at":"2024-03-01T00:00:00Z","contract":"c2","client":"k2","freelancer":")" +
              fl + "\"}\n" + R"({"type":"message","at":"2024-03-01T16:00:00Z","contract":"c2","from":"k2"})" + "\n");
  advance("2024-03-04T20:00:00Z");  // steps 1 (24 h) and 2 (72 h) decided, held out
  const nlohmann::json e = get("/v1/at-risk?arm=control")["items"][0];
  EXPECT_EQ(e["contract"], "c2");
  EXPECT_EQ(e["steps_decided"], 2);
  EXPECT_EQ(e["steps_sent"], 0);
  EXPECT_EQ(e["next_step"]["step"], 3);
  EXPECT_EQ(e["next_step"]["action"], "escalate");
  EXPECT_EQ(e["next_step"]["due_at"], "2024-03-06T16:00:00Z");
  const nlohmann::json o = get("/v1/overview");
  // 2024-03-04 is a Monday: step 2 today, step 1 on Saturday, last week.
  EXPECT_EQ(o["decisions_today"]["control"]["nudge"]["held_out"], 1);
  EXPECT_EQ(o["decisions_week"]["control"]["nudge"]["held_out"], 1);
  EXPECT_EQ(o["daily"][11]["day"], "2024-03-02");
  EXPECT_EQ(o["daily"][11]["control"]["nudge"], 1);
  EXPECT_EQ(o["decisions_week"]["treatment"]["nudge"]["sent"], 0);
}

TEST_F(ServeDashboard, ExperimentIsTheReportOfTheServicesOwnExports) {
  start();
  const std::string events = dir_.file("events.ndjson");
  simulate(events, 11, 120, 50, 21);
  post_events(read_file(events));
  advance("2019-08-22T00:00:00Z");
  // Every escalation's case is open before the report reads the cases.
  for (int i = 0; i < 200; ++i) {
    const nlohmann::json pending = get("/v1/outbox?state=pending&limit=1000");
    bool case_pending = false;
    for (const auto& item : pending["items"]) case_pending |= item["channel"] == "case";
    if (!case_pending) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  nlohmann::json live = get("/v1/experiment");
  ASSERT_FALSE(live.is_discarded());
  EXPECT_EQ(live["data_end"], "2019-08-22T00:00:00Z");
  ASSERT_GT(live["population"]["treatment"]["episodes"].get<int>(), 0);
  ASSERT_EQ(live["verdicts"].size(), 4u);
  EXPECT_EQ(live["verdicts"][0]["metric"], "reply_24h");
  EXPECT_FALSE(live["km_curves"]["treatment"].empty());

  auto c = serve_->client();
  write_file(dir_.file("episodes.ndjson"), c.Get("/v1/episodes?format=ndjson", bearer(kDashRead))->body);
  write_file(dir_.file("actions.ndjson"), c.Get("/v1/decisions?format=ndjson", bearer(kDashRead))->body);
  write_file(dir_.file("cases.ndjson"), c.Get("/v1/cases?format=ndjson", bearer(kDashRead))->body);
  const CommandOutput report =
      run_ghostwatch("report --config " + kExamplePolicy + " --episodes " + dir_.file("episodes.ndjson") +
                     " --actions " + dir_.file("actions.ndjson") + " --cases " + dir_.file("cases.ndjson") +
                     " --until 2019-08-22T00:00:00Z --json " + dir_.file("report.json"));
  ASSERT_EQ(report.status, 0) << report.out;
  const nlohmann::json offline = nlohmann::json::parse(read_file(dir_.file("report.json")));
  for (const auto& [key, value] : offline.items()) EXPECT_EQ(live[key], value) << key;
  EXPECT_GT(live["cases"]["treatment"]["episodes_with_case"].get<int>(), 0);
}

TEST_F(ServeDashboard, RoutesNeedAToken) {
  start();
  auto c = serve_->client();
  for (const char* path : {"/v1/overview", "/v1/at-risk", "/v1/campaign", "/v1/experiment"}) {
    EXPECT_EQ(c.Get(path)->status, 401) << path;
    EXPECT_EQ(c.Get(path, bearer(kDashRead))->status, 200) << path;
  }
}

TEST_F(ServeDashboard, ServesTheDashboardFilesWithSecurityHeaders) {
  const std::string web = dir_.file("web");
  std::filesystem::create_directories(web + "/assets");
  write_file(web + "/index.html", "<!doctype html><title>dash</title>");
  write_file(web + "/assets/app-1.js", "console.log(1)");
  start({"--web-root", web});
  auto c = serve_->client();
  auto index = c.Get("/");  // no token: the files are public, the data is not
  ASSERT_EQ(index->status, 200);
  EXPECT_EQ(index->body, "<!doctype html><title>dash</title>");
  EXPECT_NE(index->get_header_value("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_NE(index->get_header_value("Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(index->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(index->get_header_value("Cache-Control"), "no-cache");
  auto js = c.Get("/assets/app-1.js");
  ASSERT_EQ(js->status, 200);
  EXPECT_NE(js->get_header_value("Cache-Control").find("immutable"), std::string::npos);
  EXPECT_EQ(c.Get("/v1/overview")->status, 401);  // the API keeps its tokens
  EXPECT_NE(serve_->log().find("dashboard"), std::string::npos);
}

TEST(ServeDashboardFlags, AWebRootWithoutIndexIsRefused) {
  TempDir dir;
  const CommandOutput r = run_ghostwatch("serve --config " + kExamplePolicy + " --data " + dir.file("data") +
                                         " --listen 127.0.0.1:0 --web-root " + dir.path());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--web-root " + dir.path() + ": no index.html there"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gw::test
