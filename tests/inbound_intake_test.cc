// Inbound e-mail intake (inbound/intake.h) over a real store (SQLite and
// PostgreSQL) and a service in event time: the routing rules of docs/inbound.md, one test
// each, with the visible reply on the case's timeline.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "case_support.h"
#include "ghostwatch/inbound/intake.h"
#include "ghostwatch/mail/tokens.h"

namespace gw::test {
namespace {

const std::string kKey = "an inbound test signing key of 32+ bytes";
const std::string kDomain = "in.example";

const std::vector<std::string> kUsers = {
    UserLine("2024-02-01T00:00:00Z", "f1", R"("role":"freelancer","email":"f1@example.com")"),
    UserLine("2024-02-01T00:00:00Z", "k1", R"("role":"client","email":"k1@example.com")"),
    UserLine("2024-02-01T00:00:00Z", "f2", R"("role":"freelancer","email":"f2@example.com")")};

std::string Mail(std::string_view from, std::string_view to, std::string_view message_id, std::string_view body,
                 std::string_view extra_headers = "") {
  return fmt::format(
      "From: {}\r\nTo: {}\r\nSubject: Re: your unanswered message\r\nMessage-ID: <{}>\r\n{}"
      "Content-Type: text/plain; charset=utf-8\r\n\r\n{}",
      from, to, message_id, extra_headers, body);
}

const std::string kReplyBody =
    "Sorry, I'm on it now.\r\n\r\nOn Fri, 1 Mar 2024 at 10:00, Ghostwatch <nudge@example.com> wrote:\r\n"
    "> Your client is waiting for an answer.\r\n";

class InboundIntakeTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!world.available()) GTEST_SKIP() << kNoPostgres;
    intake.emplace(*world.service, *world.store, world.clock, inbound::IntakeSettings{&signer, kDomain});
  }

  // Contract c1's client message at 2024-03-01T10:00Z, open (no step yet).
  void open_episode() {
    std::string body;
    for (const std::string& l : kUsers) body += l + "\n";
    body += Started("2024-03-01T00:00:00Z") + "\n" + Msg("2024-03-01T10:00:00Z", "k1") + "\n";
    ASSERT_EQ(world.service->ingest(body, "").status, 200);
  }
  std::string reply_to(std::string_view contract, std::int64_t episode) const {
    return fmt::format("reply+{}@{}", signer.reply_token({std::string(contract), episode}), kDomain);
  }
  InboundTaken take(const std::string& raw) { return intake->take(raw, "test").value(); }
  std::vector<CaseEntry> entries(std::int64_t case_id, std::string_view kind) {
    std::vector<CaseEntry> out;
    for (CaseEntry& e : world.store->case_timeline(case_id).value()) {
      if (e.kind == kind) out.push_back(std::move(e));
    }
    return out;
  }
  InboundRow stored(std::int64_t id) { return world.store->find_inbound(id).value().value(); }

  TempDir dir;
  CaseWorld world{dir, GetParam()};
  mail::TokenSigner signer{kKey};
  std::optional<inbound::Intake> intake;
};

TEST_P(InboundIntakeTest, AReplyToTheThreadJoinsTheEscalatedCaseWithOnlyTheVisibleText) {
  const std::int64_t case_id = world.escalate(kUsers);
  const InboundTaken t = take(Mail("Freelancer One <f1@example.com>", reply_to("c1", 1), "r1@example.com", kReplyBody));
  EXPECT_EQ(t.route, InboundRoute::kCase);
  EXPECT_EQ(t.case_id, case_id);
  EXPECT_FALSE(t.duplicate);
  const auto in = entries(case_id, "email_in");
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].text, "Sorry, I'm on it now.");
  EXPECT_EQ(in[0].author, "f1@example.com");
  EXPECT_EQ(in[0].episode, 1u);
  EXPECT_EQ(in[0].at, world.clock.now_);
  const InboundRow row = stored(t.id);
  EXPECT_EQ(row.message_id, "r1@example.com");
  EXPECT_NE(row.raw.find("Your client is waiting"), std::string::npos) << "the raw message is kept whole";
}

TEST_P(InboundIntakeTest, AReplyBeforeAnyEscalationOpensACaseForTheLaddersTeam) {
  open_episode();
  const InboundTaken t = take(Mail("f1@example.com", reply_to("c1", 1), "r2@example.com", kReplyBody));
  ASSERT_EQ(t.route, InboundRoute::kCase);
  const CaseRow c = world.store->find_case(t.case_id).value().value();
  EXPECT_EQ(c.team, "ops");  // kLadder escalates to ops
  EXPECT_EQ(c.contract, "c1");
  EXPECT_EQ(c.episode, 1u);
  EXPECT_EQ(c.freelancer, "f1");
  EXPECT_EQ(c.client, "k1");
  EXPECT_EQ(c.status, CaseStatus::kNew);
  // The escalation later joins the same case.
  ASSERT_TRUE(world.service->advance_to(parse_rfc3339("2024-03-07T00:00:00Z").value()).is_ok());
  ASSERT_EQ(CaseOpener(*world.store, world.clock, false).run_once().value(), 1u);
  ASSERT_EQ(world.store->cases({}).value().size(), 1u);
  EXPECT_EQ(entries(t.case_id, "escalated").size(), 1u);
}

TEST_P(InboundIntakeTest, TheTokenIsFoundInCcOrTheEnvelopeRecipientToo) {
  open_episode();
  // Reply-all puts our address in Cc; a list rewrites To, the MTA records the envelope.
  const InboundTaken cc = take(Mail("someone@lists.example", "team@lists.example", "cc@example.com", "Via cc.",
                                    "Cc: " + reply_to("c1", 1) + "\r\n"));
  const InboundTaken envelope = take(Mail("someone@lists.example", "team@lists.example", "env@example.com",
                                          "Via the envelope.", "Delivered-To: " + reply_to("c1", 1) + "\r\n"));
  EXPECT_EQ(cc.route, InboundRoute::kCase);
  EXPECT_EQ(envelope.route, InboundRoute::kCase);
  EXPECT_EQ(envelope.case_id, cc.case_id);
  EXPECT_EQ(entries(cc.case_id, "email_in").size(), 2u);
}

TEST_P(InboundIntakeTest, AForgedOrAlteredTokenIsNeverTrusted) {
  open_episode();
  const mail::TokenSigner other("somebody else's key, also 32+ bytes long");
  const std::string forged = fmt::format("reply+{}@{}", other.reply_token({"c1", 1}), kDomain);
  std::string altered = reply_to("c1", 1);
  altered[6] = altered[6] == 'a' ? 'b' : 'a';
  for (const std::string& to : {forged, altered}) {
    const InboundTaken t = take(Mail("f1@example.com", to, "forged-" + to + "@example.com", kReplyBody));
    EXPECT_EQ(t.route, InboundRoute::kUnmatched) << to;
    EXPECT_EQ(t.case_id, 0);
    EXPECT_NE(stored(t.id).reason.find("invalid reply token"), std::string::npos) << stored(t.id).reason;
  }
  EXPECT_TRUE(world.store->cases({}).value().empty()) << "not even by the sender's address";
}

TEST_P(InboundIntakeTest, AFreelancersNewEmailJoinsTheCaseOfTheirMostRecentOpenEpisode) {
  open_episode();
  const InboundTaken t = take(Mail("F1@Example.com", "support@example.com", "n1@example.com", "Is the job still on?"));
  ASSERT_EQ(t.route, InboundRoute::kCase);
  const CaseRow c = world.store->find_case(t.case_id).value().value();
  EXPECT_EQ(c.contract, "c1");
  EXPECT_EQ(c.team, "ops");
  EXPECT_EQ(entries(t.case_id, "email_in").at(0).text, "Is the job still on?");
}

TEST_P(InboundIntakeTest, AFreelancerWithNoOpenEpisodeGetsOneCaseAboutNoContract) {
  open_episode();
  const InboundTaken a = take(Mail("f2@example.com", "support@example.com", "n2@example.com", "Hello?"));
  const InboundTaken b = take(Mail("f2@example.com", "support@example.com", "n3@example.com", "Anyone?"));
  ASSERT_EQ(a.route, InboundRoute::kCase);
  EXPECT_EQ(b.case_id, a.case_id);
  const CaseRow c = world.store->find_case(a.case_id).value().value();
  EXPECT_EQ(c.team, "improving-outcomes");
  EXPECT_EQ(c.contract, "");
  EXPECT_EQ(c.freelancer, "f2");
  EXPECT_EQ(entries(a.case_id, "email_in").size(), 2u);
}

TEST_P(InboundIntakeTest, TheClientsReplyWithoutATokenJoinsTheirCase) {
  const std::int64_t case_id = world.escalate(kUsers);
  const InboundTaken t = take(Mail("k1@example.com", "help@example.com", "k@example.com", "Yes, I still need help."));
  EXPECT_EQ(t.route, InboundRoute::kCase);
  EXPECT_EQ(t.case_id, case_id);
  EXPECT_EQ(entries(case_id, "email_in").at(0).author, "k1@example.com");
}

TEST_P(InboundIntakeTest, AnUnknownSenderWaitsUnmatchedUntilAPersonAttachesIt) {
  const std::int64_t case_id = world.escalate(kUsers);
  const InboundTaken t = take(Mail("stranger@example.org", "help@example.com", "s@example.org", "Who are you?"));
  EXPECT_EQ(t.route, InboundRoute::kUnmatched);
  auto queue = world.store->inbound({InboundRoute::kUnmatched, 0, 100}).value();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].reason, "unknown sender stranger@example.org");
  EXPECT_TRUE(queue[0].raw.empty()) << "listings leave the raw bytes out";
  EXPECT_EQ(world.store->attach_inbound(t.id, case_id + 100, "ana", world.clock.now_).value(), AttachResult::kNoCase);
  EXPECT_EQ(world.store->attach_inbound(t.id, case_id, "ana", world.clock.now_).value(), AttachResult::kAttached);
  EXPECT_EQ(world.store->attach_inbound(t.id, case_id, "ana", world.clock.now_).value(), AttachResult::kNotUnmatched);
  EXPECT_EQ(entries(case_id, "email_in").at(0).text, "Who are you?");
  EXPECT_TRUE(world.store->inbound({InboundRoute::kUnmatched, 0, 100}).value().empty());
  EXPECT_EQ(stored(t.id).case_id, case_id);
}

TEST_P(InboundIntakeTest, TheSameMessageTwiceIsTakenOnce) {
  const std::int64_t case_id = world.escalate(kUsers);
  const std::string raw = Mail("f1@example.com", reply_to("c1", 1), "same@example.com", kReplyBody);
  const InboundTaken first = take(raw);
  const InboundTaken again = take(raw);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.case_id, case_id);
  EXPECT_EQ(entries(case_id, "email_in").size(), 1u);
  // Without a Message-ID the bytes identify it.
  const std::string no_id = "From: f1@example.com\r\nSubject: hi\r\n\r\nNo id here.\r\n";
  EXPECT_FALSE(take(no_id).duplicate);
  EXPECT_TRUE(take(no_id).duplicate);
}

TEST_P(InboundIntakeTest, AnAutomaticReplyIsMarkedAndDoesNotReopenASolvedCase) {
  const std::int64_t case_id = world.escalate(kUsers);
  CaseUpdate solve;
  solve.status = CaseStatus::kSolved;
  ASSERT_TRUE(world.store->update_case(case_id, solve, world.clock.now_).value());
  take(Mail("f1@example.com", reply_to("c1", 1), "ooo@example.com", "I am away until Monday.",
            "Auto-Submitted: auto-replied\r\n"));
  EXPECT_EQ(entries(case_id, "auto_reply").size(), 1u);
  EXPECT_EQ(world.store->find_case(case_id).value()->status, CaseStatus::kSolved);
  take(Mail("f1@example.com", reply_to("c1", 1), "human@example.com", "Back now, answering the client."));
  EXPECT_EQ(world.store->find_case(case_id).value()->status, CaseStatus::kOpen);
}

TEST_P(InboundIntakeTest, ABounceStopsTheFreelancersNudgesAndSurvivesRecovery) {
  open_episode();
  const std::string dsn =
      "From: MAILER-DAEMON@mx.example.com\r\nTo: nudge@example.com\r\nSubject: Undelivered Mail\r\n"
      "Message-ID: <dsn1@mx.example.com>\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--b\r\n"
      "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
      "Final-Recipient: rfc822; f1@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n";
  const InboundTaken t = take(dsn);
  EXPECT_EQ(t.route, InboundRoute::kBounce);
  EXPECT_EQ(stored(t.id).reason, "a bounce for f1@example.com: marked bouncing: f1");
  // Recovery replays the bounce from the log.
  world.service.reset();
  world.service = std::move(Service::open(kLadder, *world.store, world.clock, ClockMode::kEvents).value());
  bool bouncing = false;
  world.service->with_user("f1", [&](const UserSnapshot& u) { bouncing = u.bouncing; });
  EXPECT_TRUE(bouncing);
  ASSERT_TRUE(world.service->advance_to(parse_rfc3339("2024-03-03T00:00:00Z").value()).is_ok());
  const auto decisions = world.store->decisions({}).value();
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].status, DecisionStatus::kSuppressed);
  EXPECT_EQ(decisions[0].reason, DecisionReason::kBounced);
}

TEST_P(InboundIntakeTest, AMailToTheOptOutAddressOptsTheUserOut) {
  open_episode();
  const std::string to = fmt::format("opt-out+{}@{}", signer.opt_out_token("f1"), kDomain);
  const InboundTaken t = take(Mail("f1@example.com", to, "unsub@example.com", "opt-out"));
  EXPECT_EQ(t.route, InboundRoute::kOptOut);
  bool opted_out = false;
  world.service->with_user("f1", [&](const UserSnapshot& u) { opted_out = u.opted_out; });
  EXPECT_TRUE(opted_out);
}

TEST_P(InboundIntakeTest, WithoutASigningKeyTokensAreNotReadAndTheSenderDecides) {
  open_episode();
  inbound::Intake plain(*world.service, *world.store, world.clock, {});
  const InboundTaken t =
      plain.take(Mail("f1@example.com", reply_to("c1", 1), "plain@example.com", kReplyBody), "test").value();
  EXPECT_EQ(t.route, InboundRoute::kCase);
  EXPECT_NE(stored(t.id).reason.find("sender is freelancer f1"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, InboundIntakeTest, GW_ALL_BACKENDS);

}  // namespace
}  // namespace gw::test
