// The store contract, for every backend (SQLite and PostgreSQL): what a
// commit stores, in which order exports come back, that a failed commit
// stores nothing, that data survives reopening, the outbox's delivery
// records, users' contact updates (a batch may name a user twice) and
// finding users by address. Cases, inbound e-mail and the partitions' state
// have their own suites over both backends (case_store_test,
// inbound_intake_test, store_partition_state_contract_test).
#include <gtest/gtest.h>

#include <set>

#include "store_backends.h"

namespace gw::test {
namespace {

DecisionRow decision(std::string contract, std::uint32_t episode, std::uint32_t step, DecisionStatus status) {
  DecisionRow d;
  d.at = 1000 * step;
  d.contract = std::move(contract);
  d.episode = episode;
  d.step = step;
  d.target = "reminder-1";
  d.freelancer = "f1";
  d.client = "k1";
  d.status = status;
  if (status == DecisionStatus::kSuppressed) d.reason = DecisionReason::kOptedOut;
  return d;
}

EpisodeRow episode(std::string contract, std::uint32_t number, Outcome outcome, Instant closed_at = kNoInstant) {
  EpisodeRow e;
  e.contract = std::move(contract);
  e.episode = number;
  e.freelancer = "f1";
  e.client = "k1";
  e.in_segment = true;
  e.opened_at = 500;
  e.outcome = outcome;
  e.closed_at = closed_at;
  return e;
}

class StoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!opener_.available()) GTEST_SKIP() << kNoPostgres;
  }
  std::unique_ptr<Store> open_store() { return opener_.open(); }

  TempDir dir_;
  StoreOpener opener_{GetParam(), dir_};
};

std::vector<std::string> exported_episodes(Store& store, EpisodeQuery q = {}) {
  std::vector<std::string> out;
  EXPECT_TRUE(store.export_episodes(q, [&](const EpisodeRow& r) {
    out.push_back(r.contract + "/" + std::to_string(r.episode) + ":" + std::string(outcome_name(r.outcome)) + ":" +
                  std::to_string(r.steps_sent));
  }));
  return out;
}

TEST_P(StoreContract, SentDecisionsJoinTheOutbox) {
  auto store = open_store();
  Batch b;
  b.decisions.push_back(decision("c1", 1, 1, DecisionStatus::kSent));
  b.decisions.push_back(decision("c1", 1, 2, DecisionStatus::kSuppressed));
  b.decisions.push_back(decision("c2", 1, 1, DecisionStatus::kHeldOut));
  ASSERT_TRUE(store->commit(b));
  EXPECT_GT(b.decisions[0].id, 0);
  EXPECT_GT(b.decisions[1].id, b.decisions[0].id);
  EXPECT_GT(b.decisions[2].id, b.decisions[1].id);
  EXPECT_EQ(store->outbox_depth().value(), 1u);
  Batch c;
  c.decisions.push_back(decision("c1", 2, 1, DecisionStatus::kSent));
  ASSERT_TRUE(store->commit(c));
  EXPECT_EQ(store->outbox_depth().value(), 2u);
}

TEST_P(StoreContract, ClosedEpisodesExportInClosingOrderUpToABound) {
  auto store = open_store();
  Batch b;
  std::int64_t id = 0;
  for (const char* c : {"b", "a", "\xC3\xA9", "Z"}) {
    b.episodes.push_back(episode(c, 1, Outcome::kReplied, 600));
    b.episodes.back().id = ++id;
  }
  ASSERT_TRUE(store->commit(b));
  Batch close;
  close.episodes.push_back(episode("c", 1, Outcome::kContractEnded, 700));
  close.episodes.back().id = ++id;
  close.episodes.back().steps_sent = 2;
  ASSERT_TRUE(store->commit(close));
  EXPECT_EQ(exported_episodes(*store),
            (std::vector<std::string>{"b/1:replied:0", "a/1:replied:0", "\xC3\xA9/1:replied:0", "Z/1:replied:0",
                                      "c/1:contract_ended:2"}));
  EpisodeQuery bounded;
  bounded.through_id = 2;
  EXPECT_EQ(exported_episodes(*store, bounded), (std::vector<std::string>{"b/1:replied:0", "a/1:replied:0"}));
  EpisodeQuery open_only;  // no partition committed any open episode
  open_only.state = EpisodeState::kOpen;
  EXPECT_TRUE(exported_episodes(*store, open_only).empty());
  EXPECT_TRUE(store->episodes(open_only).value().empty());
  EpisodeQuery page;
  page.after_id = 3;
  auto rows = store->episodes(page).value();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, 4);
  EXPECT_EQ(rows[1].contract, "c");
  EXPECT_EQ(rows[1].closed_at, 700);
}

TEST_P(StoreContract, AFailedCommitStoresNothingOfItsBatch) {
  auto store = open_store();
  Batch first;
  first.decisions.push_back(decision("c1", 1, 1, DecisionStatus::kSent));
  ASSERT_TRUE(store->commit(first));
  Batch bad;
  bad.log.push_back(LogEntry{LogKind::kEvent, kNoInstant, R"({"type":"user","at":"2024-01-01T00:00:00Z","id":"u"})"});
  bad.rejects.push_back(RejectRow{1, RejectReason::kBadJson, "{"});
  bad.episodes.push_back(episode("c9", 1, Outcome::kReplied, 900));
  bad.episodes.back().id = 1;
  bad.decisions.push_back(decision("c1", 1, 1, DecisionStatus::kSent));  // decided twice: refused
  Status s = store->commit(bad);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("nothing of the batch was stored"), std::string::npos) << s.message();
  EXPECT_EQ(store->log_size().value(), 0u);
  EXPECT_TRUE(store->rejects(0, 10).value().empty());
  EXPECT_TRUE(exported_episodes(*store).empty());
  EXPECT_EQ(store->outbox_depth().value(), 1u);
}

TEST_P(StoreContract, LogIdempotentResponsesAndMetaSurviveReopening) {
  {
    auto store = open_store();
    Batch b;
    // A run of event lines is stored as one row and read back line by line.
    b.log.push_back(LogEntry{LogKind::kLiveEvent, kNoInstant, "line one"});
    b.log.push_back(LogEntry{LogKind::kLiveEvent, kNoInstant, "line\rtwo"});
    b.log.push_back(LogEntry{LogKind::kClockTick, 9, ""});
    b.log.push_back(LogEntry{LogKind::kLiveEvent, kNoInstant, "line three"});
    b.rejects.push_back(RejectRow{3, RejectReason::kNotAParty, std::string("raw\xFF", 4)});
    b.response = IdempotentResponse{"key-1", "abc", 200, "{\"accepted\":1}"};
    ASSERT_TRUE(store->commit(b));
    ASSERT_TRUE(store->set_meta("policy", "text"));
  }
  auto store = open_store();
  std::vector<std::string> log;
  ASSERT_TRUE(store->read_log(0, [&](const LogEntry& e) {
    log.push_back(std::to_string(static_cast<int>(e.kind)) + "@" +
                  (e.at == kNoInstant ? std::string("-") : std::to_string(e.at)) + ":" + e.line);
    return Status::ok();
  }));
  EXPECT_EQ(log, (std::vector<std::string>{"1@-:line one", "1@-:line\rtwo", "2@9:", "1@-:line three"}));
  EXPECT_EQ(store->log_size().value(), 4u);
  auto r = store->find_response("key-1").value();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->request_sha256, "abc");
  EXPECT_EQ(r->body, "{\"accepted\":1}");
  EXPECT_FALSE(store->find_response("key-2").value().has_value());
  EXPECT_EQ(store->get_meta("policy").value(), std::optional<std::string>("text"));
  auto rejects = store->rejects(0, 10).value();
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].row.raw, std::string("raw\xFF", 4));  // bytes kept as received
  EXPECT_EQ(rejects[0].row.reason, RejectReason::kNotAParty);
}

TEST_P(StoreContract, QueriesFilterAndPageById) {
  auto store = open_store();
  Batch b;
  for (std::uint32_t i = 1; i <= 5; ++i) {
    b.decisions.push_back(
        decision("c" + std::to_string(i), 1, 1, i % 2 ? DecisionStatus::kSent : DecisionStatus::kHeldOut));
  }
  ASSERT_TRUE(store->commit(b));
  DecisionQuery q;
  q.status = DecisionStatus::kSent;
  q.limit = 2;
  auto page = store->decisions(q).value();
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].contract, "c1");
  EXPECT_EQ(page[1].contract, "c3");
  q.since_id = page[1].id;
  page = store->decisions(q).value();
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].contract, "c5");
  q.since_id = page[0].id;
  EXPECT_TRUE(store->decisions(q).value().empty());
}

TEST_P(StoreContract, DeliveriesAreRecordedAndDueEntriesComeLongestDueFirst) {
  auto store = open_store();
  Batch b;
  for (std::uint32_t i = 1; i <= 3; ++i)
    b.decisions.push_back(decision("c" + std::to_string(i), 1, 1, DecisionStatus::kSent));
  b.decisions[1].episode_opened_at = 777;  // the others: unknown
  ASSERT_TRUE(store->commit(b));
  // c1 failed once and waits until 5000; c2 and c3 are due from 0.
  Delivery retry{b.decisions[0].id, "email", DeliveryState::kPending, 1, 5000, 100, kNoInstant, "gw-1@x", "421 busy"};
  ASSERT_TRUE(store->record_delivery(retry));
  auto due = store->due_outbox("email", 1000, 10).value();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].decision.contract, "c2");
  EXPECT_EQ(due[0].decision.episode_opened_at, 777);
  EXPECT_EQ(due[1].decision.episode_opened_at, kNoInstant);
  due = store->due_outbox("email", 6000, 10).value();
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].decision.contract, "c2") << "due at 0, before c1's 5000";
  EXPECT_EQ(due[2].delivery.last_error, "421 busy");
  EXPECT_EQ(due[2].delivery.first_attempt_at, 100);
  EXPECT_EQ(due[2].delivery.done_at, kNoInstant);
  Delivery sent{b.decisions[1].id, "email", DeliveryState::kSent, 1, 0, 200, 200, "gw-2@x", ""};
  ASSERT_TRUE(store->record_delivery(sent));
  EXPECT_EQ(store->outbox_depth().value(), 2u);
  auto page = store->outbox(DeliveryState::kSent, 0, 10).value();
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].delivery.message_id, "gw-2@x");
  EXPECT_EQ(page[0].delivery.done_at, 200);
  EXPECT_TRUE(store->due_outbox("case", 6000, 10).value().empty());
  Delivery nowhere{999999, "email", DeliveryState::kSent, 1, 0, 1, 1, "", ""};
  EXPECT_FALSE(store->record_delivery(nowhere)) << "no such entry";
}

TEST_P(StoreContract, UsersAreFoundByAddressWithoutCaseAndUpdatesKeepWhatIsNotGiven) {
  auto store = open_store();
  Batch b;
  b.users.push_back(UserContact{"f1", "Lena@Example.com", "Lena", "DE", "freelancer", std::nullopt});
  b.users.push_back(UserContact{"k1", "ana@example.com", std::nullopt, std::nullopt, "client", std::nullopt});
  ASSERT_TRUE(store->commit(b));
  Batch update;
  update.users.push_back(UserContact{"f1", std::nullopt, "Lena M.", std::nullopt, std::nullopt, true});
  ASSERT_TRUE(store->commit(update));
  Batch later;  // a user event after the opt-out leaves it
  later.users.push_back(UserContact{"f1", std::nullopt, std::nullopt, "PT", std::nullopt, std::nullopt});
  ASSERT_TRUE(store->commit(later));
  auto found = store->users_with_email("lena@EXAMPLE.com").value();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, "f1");
  EXPECT_EQ(found[0].name, "Lena M.");
  EXPECT_EQ(found[0].email, "Lena@Example.com");
  EXPECT_EQ(found[0].role, "freelancer");
  EXPECT_EQ(found[0].opted_out, true);
  EXPECT_EQ(found[0].country, "PT");
  EXPECT_TRUE(store->users_with_email("nobody@example.com").value().empty());
  const UserContact k1 = store->user_contact("k1").value().value();
  EXPECT_EQ(k1.name, "") << "never given: empty";
  EXPECT_EQ(k1.opted_out, false) << "never given: false";
  EXPECT_FALSE(store->user_contact("k2").value().has_value());
  // Several at once: those known, each once.
  std::set<std::string> ids;
  for (const UserContact& u : store->user_contacts({"k2", "f1", "k1", "it's"}).value())
    ids.insert(u.id + ":" + u.email.value_or(""));
  EXPECT_EQ(ids, (std::set<std::string>{"f1:Lena@Example.com", "k1:ana@example.com"}));
  EXPECT_TRUE(store->user_contacts({}).value().empty());
  ASSERT_TRUE(store->set_meta("policy", "one"));
  ASSERT_TRUE(store->set_meta("policy", "two"));
  EXPECT_EQ(store->get_meta("policy").value(), std::optional<std::string>("two"));
}

TEST_P(StoreContract, ABatchThatNamesAUserTwiceStoresItsUpdatesInOrder) {
  auto store = open_store();
  Batch b;
  b.users.push_back(UserContact{"f1", "old@example.com", "Lena", "DE", "freelancer", std::nullopt});
  b.users.push_back(UserContact{"k1", "ana@example.com", std::nullopt, std::nullopt, "client", std::nullopt});
  b.users.push_back(UserContact{"f1", "new@example.com", std::nullopt, std::nullopt, std::nullopt, true});
  b.users.push_back(UserContact{"f1", std::nullopt, std::nullopt, "PT", std::nullopt, false});
  ASSERT_TRUE(store->commit(b));
  const UserContact f1 = store->user_contact("f1").value().value();
  EXPECT_EQ(f1.email, "new@example.com");
  EXPECT_EQ(f1.name, "Lena") << "not given again: kept";
  EXPECT_EQ(f1.country, "PT");
  EXPECT_EQ(f1.role, "freelancer");
  EXPECT_EQ(f1.opted_out, false) << "the opt-in after the opt-out";
  EXPECT_EQ(store->user_contact("k1").value().value().email, "ana@example.com");
}

EpisodeRow open_row(std::string contract, std::uint32_t number, std::uint32_t steps_sent) {
  EpisodeRow e = episode(std::move(contract), number, Outcome::kOpen);
  e.steps_sent = steps_sent;
  return e;
}

Batch open_changes(std::uint64_t epoch, std::vector<OpenEpisodeChange> changes) {
  Batch b;
  b.fence = PartitionFence{epoch, std::nullopt};
  b.open_episodes = std::move(changes);
  return b;
}

std::vector<std::string> listed_open(Store& store, const EpisodeQuery& q = {},
                                     std::optional<std::string_view> after = std::nullopt, std::size_t limit = 100) {
  std::vector<std::string> out;
  for (const EpisodeRow& r : store.open_episodes(q, after, limit).value()) {
    out.push_back(r.contract + "/" + std::to_string(r.episode) + ":" + std::string(outcome_name(r.outcome)) + ":" +
                  std::to_string(r.steps_sent));
  }
  return out;
}

TEST_P(StoreContract, OpenEpisodesAreWhatThePartitionsCommittedLastKeyedByContract) {
  auto shared = open_store();
  if (GetParam() == Backend::kSqlite) {
    // A single serve's open episodes are its engine's: SQLite holds none.
    Batch b;
    b.open_episodes.push_back(OpenEpisodeChange{"a", open_row("a", 1, 0)});
    EXPECT_FALSE(shared->commit(b));
    EXPECT_TRUE(listed_open(*shared).empty());
    EXPECT_EQ(shared->open_episode_count().value(), 0u);
    return;
  }
  auto p0 = opener_.open_partition(0);
  auto p1 = opener_.open_partition(1);
  const std::uint64_t claim0 = p0->claim_partition().value().epoch;
  const std::uint64_t claim1 = p1->claim_partition().value().epoch;
  EpisodeRow scored = open_row("a1", 2, 1);
  scored.risk = 0.25f;
  scored.arm = Arm::kControl;
  scored.opened_at = 12345;
  Batch first = open_changes(claim0, {{"a1", scored}, {"B2", open_row("B2", 1, 0)}});
  ASSERT_TRUE(p0->commit(first));
  Batch other = open_changes(claim1, {{"\xC3\xA9", open_row("\xC3\xA9", 3, 0)}});
  ASSERT_TRUE(p1->commit(other));

  // Every partition's, in contract id byte order, as the engine lists them.
  EXPECT_EQ(listed_open(*shared), (std::vector<std::string>{"B2/1:open:0", "a1/2:open:1", "\xC3\xA9/3:open:0"}));
  const EpisodeRow a1 = shared->open_episodes(EpisodeQuery{}, "B2", 1).value().at(0);
  EXPECT_EQ(a1.id, 0);
  EXPECT_EQ(a1.contract, "a1");
  EXPECT_EQ(a1.freelancer, "f1");
  EXPECT_EQ(a1.client, "k1");
  EXPECT_EQ(a1.arm, Arm::kControl);
  EXPECT_TRUE(a1.in_segment);
  EXPECT_EQ(a1.opened_at, 12345);
  EXPECT_EQ(a1.closed_at, kNoInstant);
  EXPECT_FLOAT_EQ(a1.risk, 0.25f);
  EXPECT_LT(shared->open_episodes(EpisodeQuery{}, "a1", 1).value().at(0).risk, 0.0f) << "not scored";
  EpisodeQuery only_a1;
  only_a1.contract = "a1";
  EXPECT_EQ(listed_open(*shared, only_a1), (std::vector<std::string>{"a1/2:open:1"}));
  EXPECT_EQ(shared->open_episode_count().value(), 3u);

  // A step sent, an episode closed (its row joins the closed ones): each
  // change replaces the contract's row; committing it again changes nothing.
  Batch next = open_changes(claim0, {{"a1", open_row("a1", 2, 2)}, {"B2", std::nullopt}});
  next.episodes.push_back(episode("B2", 1, Outcome::kReplied, 700));
  ASSERT_TRUE(p0->commit(next));
  Batch again = open_changes(claim0, next.open_episodes);
  ASSERT_TRUE(p0->commit(again));
  EXPECT_EQ(listed_open(*shared), (std::vector<std::string>{"a1/2:open:2", "\xC3\xA9/3:open:0"}));
  // The export: closed ones, then the open ones, of one moment.
  EXPECT_EQ(exported_episodes(*shared),
            (std::vector<std::string>{"B2/1:replied:0", "a1/2:open:2", "\xC3\xA9/3:open:0"}));
  EpisodeQuery open_only;
  open_only.state = EpisodeState::kOpen;
  EXPECT_EQ(exported_episodes(*shared, open_only), (std::vector<std::string>{"a1/2:open:2", "\xC3\xA9/3:open:0"}));
  EpisodeQuery closed_only;
  closed_only.state = EpisodeState::kClosed;
  EXPECT_EQ(exported_episodes(*shared, closed_only), (std::vector<std::string>{"B2/1:replied:0"}));

  // Recovery replaces one partition's rows, and only that partition's.
  Batch replaced = open_changes(claim0, {{"c3", open_row("c3", 1, 0)}});
  replaced.replaces_open_episodes = true;
  ASSERT_TRUE(p0->commit(replaced));
  EXPECT_EQ(listed_open(*shared), (std::vector<std::string>{"c3/1:open:0", "\xC3\xA9/3:open:0"}));

  // A stale claim changes nothing; a store of no partition stores none.
  ASSERT_TRUE(opener_.open_partition(0)->claim_partition());
  Batch stale = open_changes(claim0, {{"c3", std::nullopt}});
  EXPECT_FALSE(p0->commit(stale));
  Batch unfenced;
  unfenced.open_episodes.push_back(OpenEpisodeChange{"z", open_row("z", 1, 0)});
  EXPECT_FALSE(shared->commit(unfenced));
  EXPECT_EQ(listed_open(*shared), (std::vector<std::string>{"c3/1:open:0", "\xC3\xA9/3:open:0"}));
  EXPECT_EQ(shared->open_episode_count().value(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, GW_ALL_BACKENDS);

}  // namespace
}  // namespace gw::test
