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

TEST(SqliteStore, SentDecisionsJoinTheOutboxAndCountOnTheirOpenEpisode) {
  TempDir dir;
  auto store = open_store(dir);
  Batch b;
  b.episodes.push_back(episode("c1", 1, Outcome::kOpen));
  b.decisions.push_back(decision("c1", 1, 1, DecisionStatus::kSent));
  b.decisions.push_back(decision("c1", 1, 2, DecisionStatus::kSuppressed));
  ASSERT_TRUE(store->commit(b));
  EXPECT_GT(b.decisions[0].id, 0);
  EXPECT_GT(b.decisions[1].id, b.decisions[0].id);
  EXPECT_EQ(store->outbox_depth().value(), 1u);
  EXPECT_EQ(exported_episodes(*store), (std::vector<std::string>{"c1/1:open:1"}));

  // Closing carries the engine's final count; later sends of another open
  // episode count there only.
  Batch c;
  EpisodeRow closed = episode("c1", 1, Outcome::kReplied, 9000);
  closed.steps_sent = 1;
  c.episodes.push_back(closed);
  c.episodes.push_back(episode("c1", 2, Outcome::kOpen));
  c.decisions.push_back(decision("c1", 2, 1, DecisionStatus::kSent));
  ASSERT_TRUE(store->commit(c));
  EXPECT_EQ(exported_episodes(*store), (std::vector<std::string>{"c1/1:replied:1", "c1/2:open:1"}));
  EXPECT_EQ(store->outbox_depth().value(), 2u);
}

TEST(SqliteStore, ExportOrderIsClosingOrderThenOpenEpisodesByContractBytes) {
  TempDir dir;
  auto store = open_store(dir);
  Batch b;
  for (const char* c : {"b", "a", "\xC3\xA9", "Z", "c"}) b.episodes.push_back(episode(c, 1, Outcome::kOpen));
  ASSERT_TRUE(store->commit(b));
  Batch close;
  close.episodes.push_back(episode("c", 1, Outcome::kContractEnded, 700));
  close.episodes.push_back(episode("a", 1, Outcome::kReplied, 600));
  ASSERT_TRUE(store->commit(close));
  EXPECT_EQ(exported_episodes(*store),
            (std::vector<std::string>{"c/1:contract_ended:0", "a/1:replied:0", "Z/1:open:0", "b/1:open:0",
                                      "\xC3\xA9/1:open:0"}));
  EpisodeQuery open_only;
  open_only.state = EpisodeState::kOpen;
  EXPECT_EQ(exported_episodes(*store, open_only).size(), 3u);
}

TEST(SqliteStore, AFailedCommitStoresNothingOfItsBatch) {
  TempDir dir;
  auto store = open_store(dir);
  Batch first;
  first.decisions.push_back(decision("c1", 1, 1, DecisionStatus::kSent));
  ASSERT_TRUE(store->commit(first));
  Batch bad;
  bad.log.push_back(LogEntry{LogKind::kEvent, 5, R"({"type":"user","at":"2024-01-01T00:00:00Z","id":"u"})"});
  bad.rejects.push_back(RejectRow{1, RejectReason::kBadJson, "{"});
  bad.episodes.push_back(episode("c9", 1, Outcome::kOpen));
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
    b.log.push_back(LogEntry{LogKind::kLiveEvent, 7, "line one"});
    b.log.push_back(LogEntry{LogKind::kClockTick, 9, ""});
    b.rejects.push_back(RejectRow{3, RejectReason::kNotAParty, std::string("raw\xFF", 4)});
    b.response = IdempotentResponse{"key-1", "abc", 200, "{\"accepted\":1}"};
    ASSERT_TRUE(store->commit(b));
    ASSERT_TRUE(store->set_meta("policy", "text"));
  }
  auto store = open_store(dir);
  std::vector<std::string> log;
  ASSERT_TRUE(store->read_log([&](const LogEntry& e) {
    log.push_back(std::to_string(static_cast<int>(e.kind)) + "@" + std::to_string(e.at) + ":" + e.line);
    return Status::ok();
  }));
  EXPECT_EQ(log, (std::vector<std::string>{"1@7:line one", "2@9:"}));
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
