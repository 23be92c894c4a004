// Cases over a real SQLite store: escalations taken from the outbox by
// CaseOpener (one case per contract and team, idempotent across retries,
// reopened and linked by a later escalation), the timeline, updates and
// notes. The service runs in event time, driven by the test.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "case_support.h"

namespace gw::test {
namespace {

std::string ndjson(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

class CaseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = world_.store.get();
    service_ = world_.service.get();
    opener_ = std::make_unique<CaseOpener>(*store_, clock_, false);
  }

  // Ingests `lines`, evaluates every step through `until`, opens cases.
  void run(const std::vector<std::string>& lines, std::string_view until) {
    ASSERT_EQ(service_->ingest(ndjson(lines), "").status, 200);
    ASSERT_TRUE(service_->advance_to(parse_rfc3339(until).value()).is_ok());
    ASSERT_TRUE(opener_->run_once().is_ok());
  }

  std::vector<std::string> kinds(std::int64_t id) {
    std::vector<std::string> out;
    const std::vector<CaseEntry> entries = store_->case_timeline(id).value();
    for (const CaseEntry& e : entries) out.push_back(e.kind + ":" + e.text);
    return out;
  }

  TempDir dir_;
  CaseWorld world_{dir_};
  const SettableClock& clock_ = world_.clock;
  SqliteStore* store_ = nullptr;
  Service* service_ = nullptr;
  std::unique_ptr<CaseOpener> opener_;
};

TEST_F(CaseStoreTest, AnEscalationOpensOneCaseWithTheEpisodesHistory) {
  run({Started("2024-03-01T00:00:00Z"), Msg("2024-03-01T10:00:00Z", "k1")}, "2024-03-07T00:00:00Z");
  const auto cases = store_->cases({}).value();
  ASSERT_EQ(cases.size(), 1u);
  const CaseRow& c = cases[0];
  EXPECT_EQ(c.team, "ops");
  EXPECT_EQ(c.contract, "c1");
  EXPECT_EQ(c.episode, 1u);
  EXPECT_EQ(c.freelancer, "f1");
  EXPECT_EQ(c.client, "k1");
  EXPECT_EQ(c.status, CaseStatus::kNew);
  EXPECT_EQ(c.outcome, CaseOutcome::kNone);
  EXPECT_EQ(format_rfc3339(c.opened_at), "2024-03-06T10:00:00Z") << "the escalation's time";
  EXPECT_EQ(kinds(c.id),
            (std::vector<std::string>{"decision:nudge step 1 sent", "decision:nudge step 2 sent",
                                      "decision:escalate step 3 sent", "escalated:step 3 escalated to ops"}));
  EXPECT_TRUE(store_->due_outbox("case", clock_.now(), 10).value().empty()) << "the escalation was taken";
  EXPECT_EQ(opener_->run_once().value(), 0u);
}

TEST_F(CaseStoreTest, TakingTheSameEscalationAgainChangesNothing) {
  ASSERT_EQ(service_->ingest(ndjson({Started("2024-03-01T00:00:00Z"), Msg("2024-03-01T10:00:00Z", "k1")}), "").status,
            200);
  ASSERT_TRUE(service_->advance_to(parse_rfc3339("2024-03-07T00:00:00Z").value()).is_ok());
  const auto due = store_->due_outbox("case", clock_.now(), 10).value();
  ASSERT_EQ(due.size(), 1u);
  // A crash after the commit but before the delivery thread knew: it takes
  // the same entry again.
  const std::int64_t first = store_->take_escalation(due[0], clock_.now(), false).value();
  const std::int64_t again = store_->take_escalation(due[0], clock_.now(), false).value();
  EXPECT_EQ(first, again);
  EXPECT_EQ(store_->cases({}).value().size(), 1u);
  const std::vector<CaseEntry> entries = store_->case_timeline(first).value();
  EXPECT_EQ(std::count_if(entries.begin(), entries.end(), [](const CaseEntry& e) { return e.kind == "escalated"; }), 1);
}

TEST_F(CaseStoreTest, ALaterEscalationOfTheContractReopensAndLinksTheCase) {
  run({Started("2024-03-01T00:00:00Z"), Msg("2024-03-01T10:00:00Z", "k1")}, "2024-03-07T00:00:00Z");
  const std::int64_t id = store_->cases({}).value().at(0).id;
  CaseUpdate solved;
  solved.status = CaseStatus::kSolved;
  solved.outcome = CaseOutcome::kFreelancerResponded;
  solved.author = "ana";
  ASSERT_TRUE(store_->update_case(id, solved, clock_.now()).value());
  // The freelancer answers, the client writes again, silence again.
  run({Msg("2024-03-08T00:00:00Z", "f1"), Msg("2024-03-09T00:00:00Z", "k1")}, "2024-03-15T00:00:00Z");
  const auto cases = store_->cases({}).value();
  ASSERT_EQ(cases.size(), 1u) << "one case per contract and team";
  EXPECT_EQ(cases[0].episode, 2u);
  EXPECT_EQ(cases[0].status, CaseStatus::kOpen) << "reopened";
  const auto entries = store_->case_timeline(id).value();
  EXPECT_EQ(std::count_if(entries.begin(), entries.end(), [](const CaseEntry& e) { return e.kind == "escalated"; }), 2);
  EXPECT_EQ(entries.back().kind, "status");
  EXPECT_EQ(entries.back().text, "open");
}

TEST_F(CaseStoreTest, UpdatesAndNotesJoinTheTimelineWithTheirAuthor) {
  run({Started("2024-03-01T00:00:00Z"), Msg("2024-03-01T10:00:00Z", "k1")}, "2024-03-07T00:00:00Z");
  const std::int64_t id = store_->cases({}).value().at(0).id;
  CaseUpdate u;
  u.status = CaseStatus::kPending;
  u.assignee = "ana";
  u.author = "lead";
  ASSERT_TRUE(store_->update_case(id, u, clock_.now()).value());
  ASSERT_TRUE(store_->update_case(id, u, clock_.now()).value()) << "the same again: no new entries";
  ASSERT_TRUE(store_->add_case_note(id, "ana", "Client says they found someone else.", clock_.now()).value());
  const CaseRow c = *store_->find_case(id).value();
  EXPECT_EQ(c.status, CaseStatus::kPending);
  EXPECT_EQ(c.assignee, "ana");
  const auto entries = store_->case_timeline(id).value();
  ASSERT_EQ(entries.size(), 7u);
  EXPECT_EQ(entries[4].kind + "/" + entries[4].author + "/" + entries[4].text, "status/lead/pending");
  EXPECT_EQ(entries[5].kind + "/" + entries[5].author + "/" + entries[5].text, "assignee/lead/ana");
  EXPECT_EQ(entries[6].kind + "/" + entries[6].author + "/" + entries[6].text,
            "note/ana/Client says they found someone else.");
  EXPECT_FALSE(store_->update_case(id + 100, u, clock_.now()).value());
  EXPECT_FALSE(store_->add_case_note(id + 100, "ana", "x", clock_.now()).value());
  CaseQuery pending;
  pending.status = CaseStatus::kPending;
  EXPECT_EQ(store_->cases(pending).value().size(), 1u);
  CaseQuery other_team;
  other_team.team = "billing";
  EXPECT_TRUE(store_->cases(other_team).value().empty());
}

// A database from before the client check-in keyed its outbox by decision
// alone; opening it rebuilds the table keyed by (decision, channel) and
// keeps every row.
TEST(CaseStoreMigration, AnOutboxKeyedByDecisionIsRebuiltWithItsRows) {
  TempDir dir;
  {
    SQLite::Database db(dir.file("old.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec(R"sql(
CREATE TABLE decisions(
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, contract TEXT NOT NULL, episode INTEGER NOT NULL,
  step INTEGER NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, freelancer TEXT NOT NULL,
  client TEXT NOT NULL, arm TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
  UNIQUE(contract, episode, step));
CREATE TABLE outbox(
  decision_id INTEGER PRIMARY KEY REFERENCES decisions(id), channel TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0, first_attempt_at INTEGER, done_at INTEGER,
  message_id TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX outbox_by_state ON outbox(state, next_attempt_at);
INSERT INTO decisions VALUES(1, 0, 'c1', 1, 3, 'escalate', 'ops', 'f1', 'k1', 'treatment', 'sent', '');
INSERT INTO outbox(decision_id, channel, attempts, message_id) VALUES(1, 'case', 2, 'kept');
)sql");
  }
  auto store = SqliteStore::open(dir.file("old.db"));
  ASSERT_TRUE(store.is_ok()) << store.message();
  const auto rows = (*store)->outbox(std::nullopt, 0, 10).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].delivery.channel, "case");
  EXPECT_EQ(rows[0].delivery.attempts, 2u);
  EXPECT_EQ(rows[0].delivery.message_id, "kept");
  // The same decision can now have its check-in e-mail too.
  SettableClock clock;
  ASSERT_TRUE((*store)->take_escalation(rows[0], clock.now(), true).is_ok());
  const auto after = (*store)->outbox(std::nullopt, 0, 10).value();
  ASSERT_EQ(after.size(), 2u);
  const auto state = [](const OutboxItem& i) {
    return i.delivery.channel + "/" + std::string(delivery_state_name(i.delivery.state));
  };
  EXPECT_EQ(state(after[0]), "case/sent");
  EXPECT_EQ(state(after[1]), "email/pending");
}

TEST(CaseStoreMigration, ACasesTableWithTheOldUniqueConstraintIsRebuiltRowsKept) {
  TempDir dir;
  {
    SQLite::Database db(dir.file("old.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec(
        "CREATE TABLE cases(id INTEGER PRIMARY KEY, team TEXT NOT NULL, contract TEXT NOT NULL, episode INTEGER NOT "
        "NULL, freelancer TEXT NOT NULL, client TEXT NOT NULL, status TEXT NOT NULL, outcome TEXT NOT NULL DEFAULT '', "
        "assignee TEXT NOT NULL DEFAULT '', opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, "
        "UNIQUE(contract, team));"
        "INSERT INTO cases VALUES(7, 'ops', 'c1', 1, 'f1', 'k1', 'open', '', 'ana', 10, 20);");
  }
  auto opened = SqliteStore::open(dir.file("old.db"));
  ASSERT_TRUE(opened.is_ok()) << opened.message();
  auto store = std::move(opened).value();
  const CaseRow kept = store->find_case(7).value().value();
  EXPECT_EQ(kept.contract, "c1");
  EXPECT_EQ(kept.assignee, "ana");
  // Cases about no contract, one per freelancer: the old constraint is gone,
  // the contract's uniqueness stays.
  SQLite::Database db(dir.file("old.db"), SQLite::OPEN_READWRITE);
  db.exec(
      "INSERT INTO cases(team, contract, episode, freelancer, client, status, opened_at, updated_at) "
      "VALUES('ops', '', 0, 'f1', '', 'new', 1, 1), ('ops', '', 0, 'f2', '', 'new', 1, 1)");
  EXPECT_THROW(db.exec("INSERT INTO cases(team, contract, episode, freelancer, client, status, opened_at, updated_at) "
                       "VALUES('ops', 'c1', 2, 'f1', 'k1', 'new', 1, 1)"),
               SQLite::Exception);
  EXPECT_THROW(db.exec("INSERT INTO cases(team, contract, episode, freelancer, client, status, opened_at, updated_at) "
                       "VALUES('ops', '', 0, 'f1', '', 'new', 1, 1)"),
               SQLite::Exception);
}

}  // namespace
}  // namespace gw::test
