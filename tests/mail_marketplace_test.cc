// Issue #4's end-to-end check: a simulated marketplace goes through
// `ghostwatch serve` with e-mail on and a real SMTP server (aiosmtpd) while
// the service is killed with SIGKILL a few times. Every nudge that `replay`
// of the same events records as sent must arrive as an e-mail to that
// freelancer: threaded on the episode's earlier e-mails, with the one-click
// opt-out, under the Message-ID derived from the decision. No e-mail arrives
// that replay did not decide, and a Message-ID arrives twice only when a
// kill fell between the server's acceptance and its record (at most once a
// kill: the dispatcher records each outcome before the next send). Skipped,
// with a message, without python3-aiosmtpd.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "ghostwatch/mail/message_builder.h"
#include "mail_support.h"
#include "serve_support.h"
#include "smtp_sink.h"

namespace gw::test {
namespace {

TEST(MailMarketplace, EverySentNudgeArrivesOnceThreadedAcrossCrashes) {
  if (!have_aiosmtpd()) GTEST_SKIP() << kPython << " has no aiosmtpd module: apt-get install python3-aiosmtpd";
  TempDir dir;
  SmtpSink sink;
  ASSERT_TRUE(sink.ready()) << sink.log();
  const std::string events = dir.file("events.ndjson");
  simulate(events, 31, 120, 60, 21);
  const std::string policy = dir.file("policy.toml");
  write_file(policy, example_policy_with_mail(sink.url()));

  // What replay decides, and the freelancers' addresses from the user events.
  const std::string cmd = std::string(GHOSTWATCH_BINARY) + " replay --config " + policy + " --events " + events +
                          " --until " + kUntil + " --actions " + dir.file("actions.ndjson") + " --episodes " +
                          dir.file("episodes.ndjson") + " 2>/dev/null";
  ASSERT_EQ(run_command(cmd), 0) << cmd;
  std::map<std::string, SentNudge> expected;  // Message-ID -> decision
  for (const std::string& line : bodies(read_file(dir.file("actions.ndjson")), 1)) {
    const auto d = nlohmann::json::parse(line);
    if (d["action"] != "nudge" || d["status"] != "sent") continue;
    SentNudge s{d["contract"], d["episode"], d["step"], d["freelancer"]};
    expected[message_id_of(s)] = s;
  }
  std::map<std::string, std::string> email_of;
  for (const std::string& line : bodies(read_file(events), 1)) {
    const auto e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_object() && e.value("type", "") == "user" && e.contains("email")) email_of[e["id"]] = e["email"];
  }
  ASSERT_GT(expected.size(), 100u) << "the simulated marketplace should produce plenty of nudges";

  // Post everything, killing the service after three random requests.
  const std::vector<std::string> requests = bodies(read_file(events), 200);
  std::mt19937 rng(7);
  std::set<std::size_t> kill_after;
  while (kill_after.size() < 3)
    kill_after.insert(std::uniform_int_distribution<std::size_t>(2, requests.size() - 1)(rng));
  const std::vector<std::string> args = {"--config", policy, "--data", dir.file("data"), "--clock", "events"};
  const std::vector<std::string> env = {std::string(kSampleMailKeyEnv) + "=" + kSampleMailKey};
  auto serve = std::make_unique<ServeProcess>(args, dir.file("serve.log"), env);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto r = serve->client().Post("/v1/events", {{"Idempotency-Key", "batch-" + std::to_string(i)}}, requests[i],
                                  "application/x-ndjson");
    ASSERT_TRUE(r && r->status == 200) << serve->log();
    if (kill_after.count(i) != 0) {
      // Steps fire as event time passes, so the dispatcher may be mid-send.
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 30)(rng)));
      serve->kill(SIGKILL);
      serve->wait();
      serve = std::make_unique<ServeProcess>(args, dir.file("serve.log"), env);
    }
  }
  ASSERT_EQ(serve->client().Post(std::string("/v1/advance?to=") + kUntil, "", "text/plain")->status, 200);
  for (int i = 0; i < 1200; ++i) {
    auto r = serve->client().Get("/v1/outbox?state=pending");
    ASSERT_TRUE(r && r->status == 200);
    const auto pending = nlohmann::json::parse(r->body)["items"];
    if (std::none_of(pending.begin(), pending.end(), [](const auto& e) { return e["channel"] == "email"; })) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  std::map<std::string, int> copies;
  for (const std::string& bytes : sink.delivered()) {
    const ParsedMail m = parse_mail(bytes);
    ASSERT_TRUE(m.ok);
    ++copies[m.message_id];
    const auto it = expected.find(m.message_id);
    ASSERT_NE(it, expected.end()) << "an e-mail replay did not decide: " << m.message_id;
    const SentNudge& s = it->second;
    EXPECT_EQ(m.to.address, email_of[s.freelancer]) << m.message_id;
    EXPECT_EQ(m.headers.at("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    EXPECT_EQ(
        m.headers.at("List-Unsubscribe").rfind("<https://ghostwatch.marketplace.example/v1/unsubscribe?token=", 0), 0u);
    // Threaded on the latest earlier step of the episode that was sent.
    std::string previous;
    for (int earlier = 1; earlier < s.step; ++earlier) {
      const std::string id = message_id_of({s.contract, s.episode, earlier, s.freelancer});
      if (expected.count(id) != 0) previous = id;
    }
    if (previous.empty()) {
      EXPECT_EQ(m.headers.count("In-Reply-To"), 0u) << m.message_id;
    } else {
      EXPECT_EQ(m.headers.at("In-Reply-To"), "<" + previous + ">") << m.message_id;
    }
  }
  std::size_t duplicates = 0;
  for (const auto& [id, n] : copies) duplicates += static_cast<std::size_t>(n - 1);
  EXPECT_EQ(copies.size(), expected.size()) << "every sent nudge arrived";
  EXPECT_LE(duplicates, kill_after.size()) << "a resend only for a kill between acceptance and record";

  std::set<std::string> recorded;
  for (std::string after = "0"; after != "null";) {
    auto r = serve->client().Get("/v1/outbox?state=sent&limit=1000&after=" + after);
    ASSERT_TRUE(r && r->status == 200);
    const auto page = nlohmann::json::parse(r->body);
    for (const auto& e : page["items"]) {
      if (e["channel"] == "email") recorded.insert(e["message_id"].get<std::string>());
    }
    after = page["next_after"].dump();
  }
  std::set<std::string> ids;
  for (const auto& [id, step] : expected) ids.insert(id);
  EXPECT_EQ(recorded, ids) << "the outbox records each e-mail as sent under its Message-ID";
}

}  // namespace
}  // namespace gw::test
