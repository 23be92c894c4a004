// `ghostwatch serve` over real HTTP on loopback: every route, every kind of
// bad request (right status, JSON body, nothing changed), tokens, signals,
// and --clock events checked line for line against `replay`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "serve_support.h"

namespace gw::test {
namespace {

const std::string kStartLine = R"({"type":"contract_started","at":"2024-03-01T00:00:00Z","contract":"c1","client":"k1","freelancer":"f1"})"
                           "\n";
const std::string kAsk = R"({"type":"message","at":"2024-03-01T10:00:00Z","contract":"c1","from":"k1"})"
                         "\n";

// The accepted count and log size, which no refused request may change.
std::string state_of(httplib::Client& c, const httplib::Headers& h = {}) {
  auto r = c.Get("/metrics", h);
  if (!r) return "no response";
  std::string out;
  for (const char* name : {"ghostwatch_events_accepted_total ", "ghostwatch_log_entries "}) {
    const auto at = r->body.find(std::string("\n") + name);
    out += at == std::string::npos ? "?" : r->body.substr(at + 1, r->body.find('\n', at + 1) - at - 1);
    out += ";";
  }
  return out;
}

void expect_json_error(const httplib::Result& r, int status, const std::string& code) {
  ASSERT_TRUE(r) << "no response";
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r->body;
  EXPECT_EQ(j["error"]["code"], code) << r->body;
  EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
}

class ServeApi : public ::testing::Test {
 protected:
  std::unique_ptr<ServeProcess> start(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--config", kExamplePolicy, "--data", dir_.file("data")});
    auto p = std::make_unique<ServeProcess>(args, dir_.file("serve.log"), env);
    EXPECT_TRUE(p->running()) << p->log();
    return p;
  }
  TempDir dir_;
};

TEST_F(ServeApi, BadRequestsGetTheirStatusAndChangeNothing) {
  auto serve = start({"--clock", "events", "--max-body-mb", "1"});
  auto c = serve->client();
  ASSERT_EQ(c.Post("/v1/events", kStartLine + kAsk, kNdjson)->status, 200);
  const std::string before = state_of(c);
  EXPECT_EQ(before, "ghostwatch_events_accepted_total 2;ghostwatch_log_entries 2;");

  expect_json_error(c.Post("/v1/events", kStartLine, "application/json"), 415, "unsupported_media_type");
  expect_json_error(c.Post("/v1/events", kStartLine, "text/plain"), 415, "unsupported_media_type");
  expect_json_error(c.Post("/v1/events", std::string(2u << 20, ' '), kNdjson), 413, "payload_too_large");
  expect_json_error(c.Get("/v1/episodes?status=maybe"), 400, "bad_parameter");
  expect_json_error(c.Get("/v1/episodes?limit=0"), 400, "bad_parameter");
  expect_json_error(c.Get("/v1/episodes?opened_since=yesterday"), 400, "bad_parameter");
  expect_json_error(c.Get("/v1/decisions?since=-1"), 400, "bad_parameter");
  expect_json_error(c.Get("/v1/decisions?action=call"), 400, "bad_parameter");
  expect_json_error(c.Get("/v1/decisions?format=csv"), 400, "bad_parameter");
  expect_json_error(c.Post("/v1/advance", "", "text/plain"), 400, "bad_parameter");
  expect_json_error(c.Get("/v1/contracts/nope"), 404, "not_found");
  expect_json_error(c.Get("/v1/users/nope"), 404, "not_found");
  expect_json_error(c.Get("/v2/anything"), 404, "not_found");
  httplib::Headers key = {{"Idempotency-Key", "k"}};
  ASSERT_EQ(c.Post("/v1/events", key, "", kNdjson)->status, 200);
  expect_json_error(c.Post("/v1/events", key, kStartLine, kNdjson), 422, "idempotency_key_reused");

  EXPECT_EQ(state_of(c), before);
  // Lines the spec rejects are answered 200 with their reasons, and kept.
  auto r = c.Post("/v1/events", kStartLine + "{\"type\":1}\n", kNdjson);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(nlohmann::json::parse(r->body)["rejects"],
            nlohmann::json::parse(R"([{"line":1,"reason":"duplicate_contract"},{"line":2,"reason":"missing_field"}])"));
  EXPECT_EQ(state_of(c), before);
  auto kept = nlohmann::json::parse(c.Get("/v1/rejects")->body);
  ASSERT_EQ(kept["items"].size(), 2u);
  EXPECT_EQ(kept["items"][1]["raw"], "{\"type\":1}");
}

TEST_F(ServeApi, QueriesShowStateEpisodesAndDecisions) {
  auto serve = start({"--clock", "events"});
  auto c = serve->client();
  const std::string user = R"({"type":"user","at":"2024-03-01T00:00:00Z","id":"f1","country":"in","tz":"Asia/Kolkata"})"
                           "\n";
  ASSERT_EQ(c.Post("/v1/events", user + kStartLine + kAsk, kNdjson)->status, 200);
  auto adv = c.Post("/v1/advance?to=2024-03-02T12:00:00Z", "", "text/plain");
  ASSERT_EQ(adv->status, 200) << adv->body;
  EXPECT_EQ(nlohmann::json::parse(adv->body)["decisions"], 1);

  auto contract = nlohmann::json::parse(c.Get("/v1/contracts/c1")->body);
  EXPECT_EQ(contract["freelancer"], "f1");
  EXPECT_EQ(contract["last_client_at"], "2024-03-01T10:00:00Z");
  EXPECT_EQ(contract["open_episode"]["steps_sent"], 1);
  EXPECT_EQ(contract["episodes"].size(), 1u);
  EXPECT_EQ(contract["decisions"][0]["template"], "reminder-1");

  auto user_json = nlohmann::json::parse(c.Get("/v1/users/f1")->body);
  EXPECT_EQ(user_json["country"], "IN");
  EXPECT_EQ(user_json["tz"], "Asia/Kolkata");
  EXPECT_EQ(user_json["in_segment"], true);

  auto open = nlohmann::json::parse(c.Get("/v1/episodes?status=open&freelancer=f1")->body);
  ASSERT_EQ(open["items"].size(), 1u);
  EXPECT_EQ(open["items"][0]["outcome"], "open");
  EXPECT_EQ(nlohmann::json::parse(c.Get("/v1/episodes?status=closed")->body)["items"].size(), 0u);
  EXPECT_EQ(nlohmann::json::parse(c.Get("/v1/episodes?opened_since=2024-03-02T00:00:00Z")->body)["items"].size(), 0u);

  auto d = nlohmann::json::parse(c.Get("/v1/decisions?status=sent")->body);
  ASSERT_EQ(d["items"].size(), 1u);
  const auto cursor = d["next_since"].get<std::int64_t>();
  EXPECT_EQ(nlohmann::json::parse(c.Get("/v1/decisions?since=" + std::to_string(cursor))->body)["items"].size(), 0u);

  auto metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("ghostwatch_decisions_total{action=\"nudge\",status=\"sent\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("ghostwatch_open_episodes 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("ghostwatch_outbox_depth 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("ghostwatch_http_request_duration_seconds_count{route=\"events\"} 1\n"), std::string::npos);
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  EXPECT_EQ(c.Get("/readyz")->status, 200);
}

TEST_F(ServeApi, EventClockMatchesReplayLineForLine) {
  const std::string events = dir_.file("events.ndjson");
  simulate(events, 11, 250, 120, 25);
  const ReplayFiles expected = replay(dir_, events);
  ASSERT_FALSE(expected.actions.empty());

  auto serve = start({"--clock", "events"});
  auto c = serve->client();
  for (const std::string& b : bodies(read_file(events), 700)) {
    auto r = c.Post("/v1/events", b, kNdjson);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  ASSERT_EQ(c.Post(std::string("/v1/advance?to=") + kUntil, "", "text/plain")->status, 200);
  EXPECT_EQ(c.Get("/v1/decisions?format=ndjson")->body, expected.actions);
  EXPECT_EQ(c.Get("/v1/episodes?format=ndjson")->body, expected.episodes);
}

TEST_F(ServeApi, EpisodePagesWalkClosedThenOpenEpisodesInExportOrder) {
  const std::string events = dir_.file("events.ndjson");
  simulate(events, 5, 120, 60, 12);
  auto serve = start({"--clock", "events"});
  auto c = serve->client();
  for (const std::string& b : bodies(read_file(events), 1000)) ASSERT_EQ(c.Post("/v1/events", b, kNdjson)->status, 200);
  const std::string exported = c.Get("/v1/episodes?format=ndjson")->body;
  std::vector<nlohmann::json> expected;
  std::istringstream lines(exported);
  for (std::string line; std::getline(lines, line);) expected.push_back(nlohmann::json::parse(line));
  ASSERT_GT(expected.size(), 100u);
  ASSERT_EQ(expected.back()["outcome"], "open");  // both phases are walked

  std::vector<nlohmann::json> paged;
  std::string after;
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = nlohmann::json::parse(c.Get("/v1/episodes?limit=37" + (after.empty() ? "" : "&after=" + after))->body);
    for (auto& item : page["items"]) {
      EXPECT_EQ(item["id"].is_null(), item["outcome"] == "open") << item;
      if (!item["id"].is_null()) {
        EXPECT_EQ(item["id"], paged.size() + 1) << "closed episodes are numbered in closing order";
      }
      item.erase("id");
      paged.push_back(item);
    }
    if (page["next_after"].is_null()) break;
    after = httplib::detail::encode_query_param(page["next_after"].get<std::string>());
  }
  EXPECT_EQ(paged, expected);
  auto open = nlohmann::json::parse(c.Get("/v1/episodes?status=open&limit=1000")->body)["items"];
  auto closed = nlohmann::json::parse(c.Get("/v1/episodes?status=closed&limit=1000")->body)["items"];
  EXPECT_EQ(open.size() + closed.size(), expected.size());
}

TEST_F(ServeApi, TokensScopeReadAndWrite) {
  auto serve = start({}, {"GHOSTWATCH_READ_TOKENS=reader", "GHOSTWATCH_WRITE_TOKENS=writer,writer2"});
  auto c = serve->client();
  expect_json_error(c.Get("/v1/episodes"), 401, "unauthorized");
  expect_json_error(c.Get("/v1/episodes", bearer("guess")), 401, "unauthorized");
  expect_json_error(c.Post("/v1/events", bearer("reader"), kStartLine, kNdjson), 403, "forbidden");
  EXPECT_EQ(c.Get("/v1/episodes", bearer("reader"))->status, 200);
  EXPECT_EQ(c.Post("/v1/events", bearer("writer2"), kStartLine, kNdjson)->status, 200);
  EXPECT_EQ(c.Get("/metrics", bearer("writer"))->status, 200);
  EXPECT_EQ(c.Get("/healthz")->status, 200);  // probes need no token
  // The wall clock runs this service: advance is refused.
  expect_json_error(c.Post("/v1/advance?to=2024-01-01T00:00:00Z", bearer("writer"), "", "text/plain"), 409,
                    "wrong_clock");
}

TEST_F(ServeApi, RefusesAnOpenApiOffLoopback) {
  const std::string cmd = std::string(GHOSTWATCH_BINARY) + " serve --config " + kExamplePolicy + " --data " +
                          dir_.file("d") + " --listen 0.0.0.0:0 2>" + dir_.file("err");
  EXPECT_EQ(run_command(cmd), 2);
  EXPECT_NE(read_file(dir_.file("err")).find("without tokens"), std::string::npos) << read_file(dir_.file("err"));
}

TEST_F(ServeApi, SighupRefusesABadConfigAppliesAGoodOneAndSigtermDrains) {
  const std::string config = dir_.file("policy.toml");
  write_file(config, read_file(kExamplePolicy));
  auto serve = std::make_unique<ServeProcess>(
      std::vector<std::string>{"--config", config, "--data", dir_.file("data"), "--log-format", "json"},
      dir_.file("serve.log"));
  ASSERT_TRUE(serve->running()) << serve->log();
  write_file(config, "[campaign]\nholdout_percent = 400\n");
  serve->kill(SIGHUP);
  for (int i = 0; i < 100 && serve->log().find("reload refused") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(serve->log().find("reload refused"), std::string::npos) << serve->log();
  auto c = serve->client();
  EXPECT_EQ(c.Post("/v1/events", kStartLine, kNdjson)->status, 200);  // the old config keeps running
  // A valid change is applied.
  std::string faster = read_file(kExamplePolicy);
  faster.replace(faster.find("\"24h\""), 5, "\"12h\"");
  write_file(config, faster);
  serve->kill(SIGHUP);
  for (int i = 0; i < 100 && serve->log().find("the new rules apply") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(serve->log().find("config reloaded: the new rules apply from now on"), std::string::npos) << serve->log();
  serve->kill(SIGTERM);
  EXPECT_EQ(serve->wait(), 0);
  // Every log line is a JSON object.
  std::istringstream lines(serve->log());
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    EXPECT_FALSE(nlohmann::json::parse(line, nullptr, false).is_discarded()) << line;
  }
  EXPECT_GE(n, 3);
}

}  // namespace
}  // namespace gw::test
