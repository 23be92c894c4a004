// Snapshots of the live service (log compaction; docs/operations.md,
// "Snapshots"): the format refuses what it cannot trust; a store keeps the
// latest snapshot with the batch it follows and, compacting, only the log
// after it; and a service that takes snapshots, compacts its log and
// restarts again and again decides, records and counts exactly what one
// that replays its whole log does, under either clock, and with a risk
// model gives every episode the same risk; a start refuses a snapshot that
// does not read (its feature store's part too), and a risk model on a
// compacted log. On both stores.
#include "ghostwatch/server/service_snapshot.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine_test_harness.h"
#include "ghostwatch/core/byte_codec.h"
#include "ghostwatch/output/record_json.h"
#include "ghostwatch/server/service.h"
#include "serve_risk_support.h"
#include "store_backends.h"

namespace gw::test {
namespace {

ServiceSnapshot sample_snapshot() {
  ServiceSnapshot s;
  s.policy_text = "[campaign]\nname = \"c\"\n";
  s.counters.log_entries = 1234;
  s.counters.accepted = 1200;
  s.counters.decisions[1][2] = 7;
  s.counters.open_episodes = 5;
  s.counters.closed_episodes = 99;
  s.counters.evaluated_through = -3;
  s.last_tick = 1'700'000'000'000;
  s.engine = std::string("engine\0bytes", 12);
  s.model_text = "{\"model\": 1}";
  s.features = std::string("features\0bytes", 14);
  return s;
}

TEST(ServiceSnapshotFormat, ReadsBackWhatItWroteAndRefusesEveryTruncationFlipAndPadding) {
  const ServiceSnapshot s = sample_snapshot();
  const std::string bytes = ServiceSnapshot::write(s);
  auto back = ServiceSnapshot::read(bytes);
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_EQ(back->policy_text, s.policy_text);
  EXPECT_EQ(back->counters.log_entries, 1234u);
  EXPECT_EQ(back->counters.accepted, 1200u);
  EXPECT_EQ(back->counters.decisions, s.counters.decisions);
  EXPECT_EQ(back->counters.open_episodes, 5u);
  EXPECT_EQ(back->counters.closed_episodes, 99u);
  EXPECT_EQ(back->counters.evaluated_through, -3);
  EXPECT_EQ(back->last_tick, s.last_tick);
  EXPECT_EQ(back->engine, s.engine);
  EXPECT_EQ(back->model_text, s.model_text);
  EXPECT_EQ(back->features, s.features);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto cut = ServiceSnapshot::read(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(cut.is_ok()) << "read a snapshot cut to " << n << " bytes";
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x10);
    auto r = ServiceSnapshot::read(flipped);
    EXPECT_FALSE(r.is_ok()) << "read a snapshot with byte " << i << " flipped";
  }
  auto padded = ServiceSnapshot::read(bytes + "x");
  ASSERT_FALSE(padded.is_ok());
  EXPECT_NE(padded.message().find("service snapshot:"), std::string::npos) << padded.message();
  auto engine = ServiceSnapshot::read("GWSNAP\r\n...");
  ASSERT_FALSE(engine.is_ok());
  EXPECT_NE(engine.message().find("not a service snapshot"), std::string::npos) << engine.message();

  std::string later = bytes;
  later[8] = 3;  // the version's low byte
  EXPECT_NE(ServiceSnapshot::read(later).message().find("format version 3, and this build reads versions 1 to 2 only"),
            std::string::npos)
      << ServiceSnapshot::read(later).message();
}

TEST(ServiceSnapshotFormat, ReadsAVersion1SnapshotAsOneWithoutModelAndFeatures) {
  ServiceSnapshot s = sample_snapshot();
  s.model_text.clear();
  s.features.clear();
  // Version 1: the same without the (empty) model text and features, two bytes.
  std::string v1 = ServiceSnapshot::write(s);
  v1.resize(v1.size() - 8 - 2);
  v1[8] = 1;
  ByteWriter checksum;
  checksum.u64(XXH3_64bits(v1.data(), v1.size()));
  v1 += checksum.buffer();
  auto back = ServiceSnapshot::read(v1);
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_EQ(back->engine, s.engine);
  EXPECT_EQ(back->last_tick, s.last_tick);
  EXPECT_TRUE(back->model_text.empty());
  EXPECT_TRUE(back->features.empty());
}

// ---- the store's side

class StoreSnapshotContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!opener_.available()) GTEST_SKIP() << kNoPostgres;
    store_ = opener_.open();
  }
  // Commits event lines `lines` (and a snapshot `bytes`, when given).
  void commit(const std::vector<std::string>& lines, std::optional<std::string> bytes = std::nullopt,
              bool compact = false) {
    Batch b;
    for (const std::string& l : lines) b.log.push_back(LogEntry{LogKind::kEvent, 0, l});
    if (bytes) b.snapshot = SnapshotWrite{*bytes, compact};
    ASSERT_TRUE(store_->commit(b));
  }
  std::vector<std::string> log_after(std::int64_t row) {
    std::vector<std::string> out;
    EXPECT_TRUE(store_->read_log(row, [&](const LogEntry& e) {
      out.push_back(e.line);
      return Status::ok();
    }));
    return out;
  }
  StoredSnapshot latest() {
    auto s = store_->latest_snapshot();
    EXPECT_TRUE(s.is_ok()) << s.message();
    return s.is_ok() && *s ? **s : StoredSnapshot{};
  }

  TempDir dir_;
  StoreOpener opener_{GetParam(), dir_};
  std::unique_ptr<Store> store_;
};

TEST_P(StoreSnapshotContract, ASnapshotCoversTheLogThroughItsBatchAndCompactionDeletesWhatItCovers) {
  EXPECT_FALSE(store_->latest_snapshot().value().has_value());
  EXPECT_FALSE(store_->log_compacted().value());
  commit({"a", "b"});
  commit({"c"}, "S1");
  const StoredSnapshot first = latest();
  EXPECT_EQ(first.bytes, "S1");
  EXPECT_FALSE(first.log_compacted);
  EXPECT_FALSE(store_->log_compacted().value());
  EXPECT_TRUE(log_after(first.through_row).empty());
  EXPECT_EQ(log_after(0), (std::vector<std::string>{"a", "b", "c"}));  // kept: not compacted
  commit({"d", "e"});
  EXPECT_EQ(log_after(first.through_row), (std::vector<std::string>{"d", "e"}));

  commit({"f"}, std::string("S2\0\xff", 4), /*compact=*/true);
  const StoredSnapshot second = latest();
  EXPECT_EQ(second.bytes, std::string("S2\0\xff", 4));
  EXPECT_TRUE(second.log_compacted);
  EXPECT_TRUE(store_->log_compacted().value());
  EXPECT_GT(second.through_row, first.through_row);
  EXPECT_TRUE(log_after(second.through_row).empty());
  EXPECT_EQ(log_after(0), (std::vector<std::string>{"f"}));  // the covered rows but the last are gone
  EXPECT_EQ(store_->log_size().value(), 1u);

  // Rows go on being numbered after it, across a reopening.
  store_.reset();
  store_ = opener_.open();
  commit({"g"});
  EXPECT_EQ(log_after(latest().through_row), (std::vector<std::string>{"g"}));
  // A later snapshot that does not compact: the log stays known as compacted.
  commit({"h"}, "S3");
  EXPECT_EQ(latest().bytes, "S3");
  EXPECT_TRUE(latest().log_compacted);
  EXPECT_TRUE(store_->log_compacted().value());
}

TEST_P(StoreSnapshotContract, ASnapshotWithoutLogRowsIsRefusedAndNothingOfItsBatchIsStored) {
  commit({"a"}, "S1");
  Batch b;
  b.snapshot = SnapshotWrite{"S2", true};
  b.rejects.push_back(RejectRow{1, RejectReason::kBadJson, "{"});
  EXPECT_FALSE(store_->commit(b));
  EXPECT_EQ(latest().bytes, "S1");
  EXPECT_TRUE(store_->rejects(0, 10).value().empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreSnapshotContract, GW_ALL_BACKENDS);

// ---- the service's side

class MovableClock final : public Clock {
 public:
  Instant now() const override { return now_; }
  Instant now_ = 0;
};

// The ladder of the engine's tests, with a catch-up for the wall clock's restarts.
const std::string kSnapshotPolicy = std::string("[campaign]\ncatch_up = \"10m\"\n") + kLadder;
// The reload half-way: another ladder and quiet hours.
const std::string kSnapshotReload = R"([campaign]
catch_up = "10m"

[quiet_hours]
start = "21:00"
end = "08:00"

[[ladder]]
after = "12h"
action = "nudge"
template = "r1"

[[ladder]]
after = "48h"
action = "escalate"
team = "support"
)";

// What a run shows: its decisions, its episodes (closed, then open) and its
// counters, as text.
struct SnapshotRunOutputs {
  std::vector<std::string> decisions, episodes;
  std::string counters;
};

// "" when equal, else where the two first differ.
std::string first_difference(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (got[i] != want[i]) return fmt::format("line {}: {}\nwanted:  {}", i + 1, got[i], want[i]);
  }
  return got.size() == want.size() ? "" : fmt::format("{} lines, wanted {}", got.size(), want.size());
}

class ServiceSnapshots : public ::testing::TestWithParam<std::tuple<Backend, ClockMode>> {
 protected:
  void SetUp() override {
    if (!reference_.available()) GTEST_SKIP() << kNoPostgres;
    std::istringstream in(risk_small_marketplace(11, 16));
    std::string body;
    int lines = 0;
    for (std::string line; std::getline(in, line);) {
      if (lines == 0) times_.push_back(parse_rfc3339(nlohmann::json::parse(line)["at"].get<std::string>()).value());
      body += line + "\n";
      if (++lines == 97) {
        bodies_.push_back(std::move(body));
        body.clear();
        lines = 0;
      }
    }
    if (!body.empty()) bodies_.push_back(std::move(body));
  }
  ClockMode mode() const { return std::get<1>(GetParam()); }

  // A restart's config is the one in force (another would be a reload).
  std::unique_ptr<Service> open(Store& store, const std::string& policy = kSnapshotPolicy) {
    auto s = Service::open(policy, store, clock_, mode());
    EXPECT_TRUE(s.is_ok()) << s.message();
    return s ? std::move(*s) : nullptr;
  }

  // Sends every body (a reload after a third, a bounce after half), the
  // wall clock at each body's first event time and ticking after it. With
  // `snapshot_every`, the service snapshots and compacts, and restarts (a
  // new store and service, as a new process) after every third body.
  SnapshotRunOutputs run(const StoreOpener& opener, std::uint64_t snapshot_every) {
    auto store = opener.open();
    auto service = open(*store);
    service->set_snapshots(snapshot_every, true);
    std::string policy = kSnapshotPolicy;
    for (std::size_t i = 0; i < bodies_.size(); ++i) {
      clock_.now_ = times_[i];
      const IngestReply r = service->ingest(bodies_[i], "");
      EXPECT_EQ(r.status, 200) << r.body;
      if (mode() == ClockMode::kWall) {
        EXPECT_TRUE(service->tick());
      }
      if (i == bodies_.size() / 3) {
        policy = kSnapshotReload;
        auto reloaded = service->reload(policy);
        EXPECT_TRUE(reloaded.is_ok() && *reloaded);
      }
      if (i == bodies_.size() / 2) {
        EXPECT_TRUE(service->mark_bouncing("fl3", "fl3@example.org"));
      }
      if (snapshot_every > 0 && i % 3 == 2) {
        service.reset();
        store = opener.open();
        service = open(*store, policy);
        service->set_snapshots(snapshot_every, true);
        const ServiceCounters c = service->counters();
        EXPECT_LT(c.log_entries_since_snapshot, snapshot_every + 97 + 2) << "after body " << i;
        if (c.snapshot_bytes > 0) ++restored_;
        EXPECT_LE(store->log_size().value(), c.log_entries_since_snapshot + 97) << "compacted";
      }
    }
    if (mode() == ClockMode::kEvents) {
      EXPECT_TRUE(service->advance_to(times_.back() + 10LL * 24 * 3600 * 1000).is_ok());
    } else {
      clock_.now_ = times_.back() + 10LL * 24 * 3600 * 1000;
      EXPECT_TRUE(service->tick());
    }
    return outputs(*service, *store);
  }

  static SnapshotRunOutputs outputs(Service& s, Store& store) {
    SnapshotRunOutputs out;
    EXPECT_TRUE(store.export_decisions({}, [&](const DecisionRow& r) {
      std::string line;
      append_decision_json(line, r.view());
      out.decisions.push_back(line);
    }));
    EXPECT_TRUE(store.export_episodes({}, [&](const EpisodeRow& r) {
      std::string line;
      append_episode_json(line, r.view());
      out.episodes.push_back(line);
    }));
    for (const EpisodeRow& r : s.open_episodes({}, std::nullopt, SIZE_MAX).value()) {
      std::string line;
      append_episode_json(line, r.view());
      out.episodes.push_back(line);
    }
    const ServiceCounters c = s.counters();
    out.counters = fmt::format(
        "accepted {} decisions {} open {} closed {} contracts {} log {} watermark {} next {} "
        "evaluated {}",
        c.accepted, fmt::join(c.decisions[0], ","), c.open_episodes, c.closed_episodes, c.contracts, c.log_entries,
        c.watermark, c.next_due, c.evaluated_through);
    out.counters += fmt::format(" escalations {}", fmt::join(c.decisions[1], ","));
    return out;
  }

  TempDir dir_, reference_dir_;
  StoreOpener opener_{std::get<0>(GetParam()), dir_};
  StoreOpener reference_{std::get<0>(GetParam()), reference_dir_};
  MovableClock clock_;
  std::vector<std::string> bodies_;
  std::vector<Instant> times_;  // each body's first event time
  int restored_ = 0;            // restarts that recovered from a snapshot
};

TEST_P(ServiceSnapshots, RestartsFromSnapshotsOfACompactedLogDecideExactlyAsTheWholeLog) {
  ASSERT_GE(bodies_.size(), 20u);
  const SnapshotRunOutputs whole = run(reference_, 0);
  const SnapshotRunOutputs snapshots = run(opener_, 250);
  EXPECT_GE(restored_, 5);
  EXPECT_GT(whole.decisions.size(), 20u);
  EXPECT_EQ(first_difference(snapshots.decisions, whole.decisions), "");
  EXPECT_EQ(first_difference(snapshots.episodes, whole.episodes), "");
  EXPECT_EQ(snapshots.counters, whole.counters);
}

INSTANTIATE_TEST_SUITE_P(BackendsAndClocks, ServiceSnapshots,
                         ::testing::Combine(::testing::Values(Backend::kSqlite, Backend::kPostgres),
                                            ::testing::Values(ClockMode::kEvents, ClockMode::kWall)),
                         [](const ::testing::TestParamInfo<std::tuple<Backend, ClockMode>>& info) {
                           return std::string(std::get<0>(info.param) == Backend::kSqlite ? "Sqlite" : "Postgres") +
                                  (std::get<1>(info.param) == ClockMode::kEvents ? "EventClock" : "WallClock");
                         });

// What a start makes of snapshots it cannot use: a risk model's features
// need the whole log (docs/operations.md, "Snapshots"), and a snapshot that
// does not read stops the start.
class ServiceSnapshotStarts : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!opener_.available()) GTEST_SKIP() << kNoPostgres;
    store_ = opener_.open();
    std::istringstream in(ServeRiskWorld::get().events);
    for (std::string line; std::getline(in, line) && lines_.size() < 3000;) lines_.push_back(line + "\n");
  }
  Result<std::unique_ptr<Service>> open(const std::string& model) {
    return Service::open(kSnapshotPolicy, *store_, clock_, ClockMode::kEvents, std::nullopt, model, "model.json");
  }
  void ingest(Service& s, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; i += 100) {
      std::string body;
      for (std::size_t j = i; j < std::min(to, i + 100); ++j) body += lines_[j];
      ASSERT_EQ(s.ingest(body, "").status, 200);
    }
  }

  TempDir dir_;
  StoreOpener opener_{GetParam(), dir_};
  std::unique_ptr<Store> store_;
  SystemClock clock_;
  std::vector<std::string> lines_;
};

// Every episode (closed, then open) as its JSON line, its risk included.
std::vector<std::string> episode_lines(Service& s, Store& store) {
  std::vector<std::string> lines;
  EXPECT_TRUE(store.export_episodes({}, [&](const EpisodeRow& r) {
    std::string line;
    append_episode_json(line, r.view());
    lines.push_back(line);
  }));
  for (const EpisodeRow& r : s.open_episodes({}, std::nullopt, SIZE_MAX).value()) {
    std::string line;
    append_episode_json(line, r.view());
    lines.push_back(line);
  }
  return lines;
}

TEST_P(ServiceSnapshotStarts, AServiceThatScoresRiskRestartsFromSnapshotsOfACompactedLogScoringAsTheWholeLog) {
  const ServeRiskWorld& world = ServeRiskWorld::get();
  // The whole log's scores: model a, then model b from half-way.
  TempDir reference_dir;
  auto reference_store = StoreOpener(GetParam(), reference_dir).open();
  auto reference = Service::open(kSnapshotPolicy, *reference_store, clock_, ClockMode::kEvents, std::nullopt,
                                 world.model_a, "model.json");
  ASSERT_TRUE(reference.is_ok()) << reference.message();
  const std::size_t half = lines_.size() / 2;
  ingest(**reference, 0, half);
  ASSERT_TRUE((*reference)->reload_model(world.model_b, "model-b.json").is_ok());
  ingest(**reference, half, lines_.size());
  const std::vector<std::string> whole = episode_lines(**reference, *reference_store);

  // A snapshot every 400 log entries, the log compacted, a restart (a new
  // store and service, as a new process) after every 300 lines.
  std::string model = world.model_a;
  auto s = open(model);
  ASSERT_TRUE(s.is_ok()) << s.message();
  std::unique_ptr<Service> service = std::move(*s);
  int restored = 0;
  for (std::size_t i = 0; i < lines_.size(); i += 300) {
    service->set_snapshots(400, true);
    if (i == half) {
      model = world.model_b;
      ASSERT_TRUE(service->reload_model(model, "model-b.json").is_ok());
    }
    ingest(*service, i, std::min(lines_.size(), i + 300));
    service.reset();
    store_ = opener_.open();
    auto again = open(model);
    ASSERT_TRUE(again.is_ok()) << again.message();
    service = std::move(*again);
    ASSERT_TRUE(service->scores_risk());
    if (service->counters().snapshot_bytes > 0) ++restored;
  }
  EXPECT_GE(restored, 6);
  EXPECT_LT(store_->log_size().value(), 500u) << "the log was compacted";
  EXPECT_EQ(service->counters().accepted, (*reference)->counters().accepted);
  const std::vector<std::string> snapshots = episode_lines(*service, *store_);
  ASSERT_GT(whole.size(), 300u);
  EXPECT_GT(std::count_if(whole.begin(), whole.end(),
                          [](const std::string& e) { return e.find("\"risk\":") != std::string::npos; }),
            100);
  EXPECT_EQ(first_difference(snapshots, whole), "");
}

TEST_P(ServiceSnapshotStarts, ARiskModelOnALogWithSnapshotsWithoutFeaturesReplaysItFromItsStart) {
  std::uint64_t accepted = 0;
  {
    auto s = open("");
    ASSERT_TRUE(s.is_ok()) << s.message();
    (*s)->set_snapshots(500, false);
    ingest(**s, 0, 1000);
    EXPECT_GT((*s)->counters().snapshot_bytes, 0u);
    accepted = (*s)->counters().accepted;
  }
  auto s = open(ServeRiskWorld::get().model_a);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_TRUE((*s)->scores_risk());
  EXPECT_EQ((*s)->counters().snapshot_bytes, 0u) << "replayed from the log's start";
  EXPECT_EQ((*s)->counters().accepted, accepted);
  (*s)->set_snapshots(500, true);
  ingest(**s, 1000, 2000);
  auto latest = store_->latest_snapshot().value();
  ASSERT_TRUE(latest.has_value());
  EXPECT_FALSE(ServiceSnapshot::read(latest->bytes).value().features.empty());

  // Recovery needs the log from its start with a snapshot without features,
  // and refuses a compacted one.
  s->reset();
  Batch old;  // a bounce of nobody (harmless to replay) and a snapshot without features
  old.log.push_back(LogEntry{LogKind::kBounce, 0, bounce_text("nobody", "nobody@example.org")});
  ServiceSnapshot without = ServiceSnapshot::read(latest->bytes).value();
  without.model_text.clear();
  without.features.clear();
  old.snapshot = SnapshotWrite{ServiceSnapshot::write(without), true};
  ASSERT_TRUE(store_->commit(old));
  auto refused = open(ServeRiskWorld::get().model_a);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("recovery: the snapshot through log row"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("it holds no risk features, and a risk model's features are computed from the "
                                   "operation log's first event, and this log was compacted"),
            std::string::npos)
      << refused.message();
}

TEST_P(ServiceSnapshotStarts, ASnapshotWhoseFeaturesDoNotReadStopsTheStartNamingThem) {
  {
    auto s = open(ServeRiskWorld::get().model_a);
    ASSERT_TRUE(s.is_ok()) << s.message();
    (*s)->set_snapshots(500, false);
    ingest(**s, 0, 1000);
  }
  auto latest = store_->latest_snapshot().value();
  ASSERT_TRUE(latest.has_value());
  ServiceSnapshot cut = ServiceSnapshot::read(latest->bytes).value();
  ASSERT_GT(cut.features.size(), 100u);
  cut.features.resize(cut.features.size() / 2);
  Batch bad;  // a bounce of nobody (harmless to replay) and a snapshot whose features are cut short
  bad.log.push_back(LogEntry{LogKind::kBounce, 0, bounce_text("nobody", "nobody@example.org")});
  bad.snapshot = SnapshotWrite{ServiceSnapshot::write(cut), false};
  ASSERT_TRUE(store_->commit(bad));
  auto refused = open(ServeRiskWorld::get().model_a);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("recovery: the snapshot through log row"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("feature store snapshot: corrupt or truncated"), std::string::npos)
      << refused.message();
}

TEST_P(ServiceSnapshotStarts, AModelIsRefusedOnACompactedLogAndTheServiceStartsWithoutOne) {
  std::uint64_t accepted = 0;
  {
    auto s = open("");
    ASSERT_TRUE(s.is_ok()) << s.message();
    (*s)->set_snapshots(500, true);
    ingest(**s, 0, lines_.size());
    EXPECT_GT((*s)->counters().snapshot_bytes, 0u);
    accepted = (*s)->counters().accepted;
  }
  auto refused = open(ServeRiskWorld::get().model_a);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("model.json: a risk model's features are computed from the operation log's first "
                                   "event, and this log was compacted"),
            std::string::npos)
      << refused.message();
  auto again = open("");  // nothing was changed by the refusal
  ASSERT_TRUE(again.is_ok()) << again.message();
  EXPECT_FALSE((*again)->scores_risk());
  EXPECT_EQ((*again)->counters().accepted, accepted);
}

TEST_P(ServiceSnapshotStarts, ASnapshotThatDoesNotReadStopsTheStartNamingIt) {
  {
    auto s = open("");
    ASSERT_TRUE(s.is_ok()) << s.message();
    (*s)->set_snapshots(500, false);
    ingest(**s, 0, 1000);
  }
  Batch bad;  // a bounce of nobody (harmless to replay) and bytes that are no snapshot
  bad.log.push_back(LogEntry{LogKind::kBounce, 0, bounce_text("nobody", "nobody@example.org")});
  bad.snapshot = SnapshotWrite{"GWSNAP\r\n not a service snapshot", false};
  ASSERT_TRUE(store_->commit(bad));
  auto refused = open("");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("recovery: the snapshot through log row"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("not a service snapshot"), std::string::npos) << refused.message();
}

INSTANTIATE_TEST_SUITE_P(Backends, ServiceSnapshotStarts, GW_ALL_BACKENDS);

}  // namespace
}  // namespace gw::test
