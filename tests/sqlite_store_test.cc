// SqliteStore: what a commit stores, in which order exports come back, that
// a failed commit stores nothing, and that data survives reopening.
#include "ghostwatch/store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include "serve_process.h"

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

std::unique_ptr<SqliteStore> open_store(const TempDir& dir) {
  auto store = SqliteStore::open(dir.file("store.db"));
  EXPECT_TRUE(store.is_ok()) << store.message();
  return store ? std::move(*store) : nullptr;
}

std::vector<std::string> exported_episodes(Store& store, EpisodeQuery q = {}) {
  std::vector<std::string> out;
  EXPECT_TRUE(store.export_episodes(q, [&](const EpisodeRow& r) {
    out.push_back(r.contract + "/" + std::to_string(r.episode) + ":" + std::string(outcome_name(r.outcome)) + ":" +
                  std::to_string(r.steps_sent));
  }));
  return out;
}

TEST(SqliteStore, SentDecisionsJoinTheOutbox) {
  TempDir dir;
  auto store = open_store(dir);
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

TEST(SqliteStore, ClosedEpisodesExportInClosingOrderUpToABound) {
  TempDir dir;
  auto store = open_store(dir);
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
  EXPECT_EQ(exported_episodes(*store), (std::vector<std::string>{"b/1:replied:0", "a/1:replied:0",
                                                                 "\xC3\xA9/1:replied:0", "Z/1:replied:0",
                                                                 "c/1:contract_ended:2"}));
  EpisodeQuery bounded;
  bounded.through_id = 2;
  EXPECT_EQ(exported_episodes(*store, bounded), (std::vector<std::string>{"b/1:replied:0", "a/1:replied:0"}));
  EpisodeQuery open_only;  // open episodes are the engine's, never rows
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

TEST(SqliteStore, AFailedCommitStoresNothingOfItsBatch) {
  TempDir dir;
  auto store = open_store(dir);
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

TEST(SqliteStore, LogIdempotentResponsesAndMetaSurviveReopening) {
  TempDir dir;
  {
    auto store = open_store(dir);
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
  auto store = open_store(dir);
  std::vector<std::string> log;
  ASSERT_TRUE(store->read_log([&](const LogEntry& e) {
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

TEST(SqliteStore, QueriesFilterAndPageById) {
  TempDir dir;
  auto store = open_store(dir);
  Batch b;
  for (std::uint32_t i = 1; i <= 5; ++i) {
    b.decisions.push_back(decision("c" + std::to_string(i), 1, 1, i % 2 ? DecisionStatus::kSent : DecisionStatus::kHeldOut));
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

}  // namespace
}  // namespace gw::test
