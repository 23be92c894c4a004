// Tests of engine snapshots (engine/snapshot.h): a replay cut anywhere,
// snapshotted and restored into a new engine that goes on, writes exactly
// the records of a straight replay (a simulated marketplace, every
// conformance case, a reload, a bounce, a live clock); and damaged or
// mismatched snapshots are refused with a message naming what is wrong.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine_test_harness.h"
#include "ghostwatch/core/byte_codec.h"
#include "ghostwatch/engine/snapshot.h"
#include "ghostwatch/sim/marketplace.h"

namespace gw::test {
namespace {

std::vector<std::string> split_snapshot_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    lines.emplace_back(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return lines;
}

std::string read_snapshot_test_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Restores a snapshot of `from` into a new engine under `policy` with
// `sink`, checking that it is accepted and that the new engine's snapshot is
// the same bytes.
std::unique_ptr<Engine> restored_copy(const Engine& from, const Policy& policy, EngineSink& sink) {
  const std::string bytes = EngineSnapshot::write(from);
  auto engine = std::make_unique<Engine>(policy, sink);
  const Status restored = EngineSnapshot::restore(bytes, *engine);
  EXPECT_TRUE(restored.is_ok()) << restored.message();
  EXPECT_EQ(EngineSnapshot::write(*engine), bytes) << "a restored engine's snapshot differs";
  return engine;
}

// Replays `lines` as `ghostwatch replay` does (submit each, then evaluate
// through `until` or the latest event, then emit the open episodes). With a
// `cut`, the engine is snapshotted before line `cut` (lines.size(): before
// the evaluation at the end) and a restored copy goes on in its place: the
// output is both engines' records, in order, and every reject.
Output replay_with_cut(const Policy& policy, const std::vector<std::string>& lines, std::optional<Instant> until,
                       std::optional<std::size_t> cut) {
  Output out;
  CollectingSink first_sink(out), second_sink(out);
  auto first = std::make_unique<Engine>(policy, first_sink);
  std::unique_ptr<Engine> second;
  Engine* engine = first.get();
  LineParser parser;
  Event event;
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    if (cut && *cut == i) {
      second = restored_copy(*first, policy, second_sink);
      engine = second.get();
    }
    if (i == lines.size() || is_blank_line(lines[i])) continue;
    RejectReason reason = parser.parse_copy(lines[i], event);
    if (reason == RejectReason::kNone) reason = engine->submit(event);
    if (reason != RejectReason::kNone) {
      out.rejects.push_back(std::to_string(i + 1) + ":" + std::string(reject_reason_name(reason)));
    }
  }
  const Instant end = until ? *until : engine->latest_event_at();
  if (end != kNoInstant) engine->evaluate_through(end);
  engine->emit_open_episodes();
  return out;
}

// Every cut in `cuts` gives the straight replay's output.
void expect_cuts_change_nothing(const Policy& policy, const std::vector<std::string>& lines,
                                std::optional<Instant> until, const std::vector<std::size_t>& cuts) {
  const Output straight = replay_with_cut(policy, lines, until, std::nullopt);
  for (std::size_t cut : cuts) {
    const Output resumed = replay_with_cut(policy, lines, until, cut);
    EXPECT_EQ(resumed.decisions, straight.decisions) << "cut before line " << cut + 1;
    EXPECT_EQ(resumed.episodes, straight.episodes) << "cut before line " << cut + 1;
    EXPECT_EQ(resumed.rejects, straight.rejects) << "cut before line " << cut + 1;
  }
}

// 10%, 50% and 90% of the lines, and before the evaluation at the end.
std::vector<std::size_t> usual_cuts(std::size_t lines) { return {lines / 10, lines / 2, lines * 9 / 10, lines}; }

TEST(EngineSnapshot, SimulatedMarketplaceResumesExactly) {
  sim::MarketplaceOptions options;  // `ghostwatch simulate --seed 3 --freelancers 300 --days 30`
  options.seed = 3;
  options.freelancers = 300;
  options.days = 30;
  std::string text;
  sim::generate_marketplace(options, [&text](std::string_view chunk) {
    text.append(chunk);
    return true;
  });
  const std::vector<std::string> lines = split_snapshot_lines(text);
  Result<Policy> policy = load_policy(std::string(GHOSTWATCH_SOURCE_DIR) + "/examples/policy.toml");
  ASSERT_TRUE(policy.is_ok()) << policy.message();
  const Output straight = replay_with_cut(policy.value(), lines, std::nullopt, std::nullopt);
  ASSERT_GT(straight.decisions.size(), 1000u) << "the marketplace should exercise the ladder";
  expect_cuts_change_nothing(policy.value(), lines, std::nullopt, usual_cuts(lines.size()));
}

TEST(EngineSnapshot, EveryConformanceCaseResumesExactly) {
  const std::filesystem::path cases = std::filesystem::path(GHOSTWATCH_SHARED_DIR) / "conformance" / "cases";
  if (!std::filesystem::exists(cases)) GTEST_SKIP() << "no conformance cases at " << cases;
  int checked = 0;
  for (const auto& dir : std::filesystem::directory_iterator(cases)) {
    SCOPED_TRACE(dir.path().filename().string());
    Result<Policy> policy = load_policy((dir.path() / "policy.toml").string());
    ASSERT_TRUE(policy.is_ok()) << policy.message();
    std::optional<Instant> until;
    std::istringstream args(read_snapshot_test_file(dir.path() / "args.txt"));
    for (std::string flag, value; args >> flag;) {
      ASSERT_EQ(flag, "--until") << "an argument this test does not know";
      ASSERT_TRUE(args >> value);
      until = parse_rfc3339(value);
      ASSERT_TRUE(until.has_value()) << value;
    }
    const std::vector<std::string> lines = split_snapshot_lines(read_snapshot_test_file(dir.path() / "events.ndjson"));
    std::vector<std::size_t> cuts = usual_cuts(lines.size());
    if (lines.size() <= 50) {  // the hand-made corner cases: a cut before every line
      cuts.clear();
      for (std::size_t i = 0; i <= lines.size(); ++i) cuts.push_back(i);
    }
    expect_cuts_change_nothing(policy.value(), lines, until, cuts);
    ++checked;
  }
  EXPECT_GE(checked, 32);
}

// The segment and ladder change, and a freelancer's address bounces, before
// the cut: the restored engine runs under the new policy, with the bounce.
TEST(EngineSnapshot, ResumesAfterReloadAndBounce) {
  const Policy before = MustParsePolicy(std::string("[segment]\ncountries_exclude = [\"US\"]\n") + kLadder);
  const Policy after = MustParsePolicy(std::string("[segment]\nkinds = [\"agency\"]\n") + kShortLadder);
  const std::vector<std::string> first = {
      UserLine("2019-08-01T00:00:00Z", "f1", R"("country":"IN","kind":"agency","tz":"Asia/Kolkata")"),
      UserLine("2019-08-01T00:00:00Z", "f2", R"("country":"US","kind":"agency")"),
      Started("2019-08-01T00:00:00Z"),
      Started("2019-08-01T00:00:00Z", "c2", "k1", "f2"),
      Msg("2019-08-01T01:00:00Z", "k1"),
      Msg("2019-08-01T01:00:00Z", "k1", "c2"),
  };
  const std::vector<std::string> second = {
      Tick("2019-08-02T02:00:00Z"),
      Msg("2019-08-02T03:00:00Z", "f2", "c2"),
      Msg("2019-08-02T04:00:00Z", "k1", "c2"),
      UserLine("2019-08-03T00:00:00Z", "f2", R"("email":"f2@example.com")"),
      Tick("2019-08-09T00:00:00Z"),
  };
  const auto reload = [&after](Engine& engine) {
    engine.set_policy(after);
    engine.mark_bouncing("f1", "f1@example.com");
  };
  const Output straight = RunInTwoParts(before, first, reload, second, "2019-08-10T00:00:00Z");
  ASSERT_FALSE(straight.decisions.empty());

  Output resumed;
  CollectingSink first_sink(resumed), second_sink(resumed);
  Engine engine(before, first_sink);
  SubmitAll(engine, first);
  reload(engine);
  std::unique_ptr<Engine> copy = restored_copy(engine, after, second_sink);
  SubmitAll(*copy, second);
  copy->evaluate_through(parse_rfc3339("2019-08-10T00:00:00Z").value());
  EXPECT_EQ(resumed.decisions, straight.decisions);
  EXPECT_EQ(resumed.episodes, straight.episodes);
}

// The live service's clock: a restored engine, driven by the clock after an
// outage, catches up the pending steps as the first engine does.
TEST(EngineSnapshot, ResumesTheLiveClockAfterAnOutage) {
  const Policy policy = MustParsePolicy(std::string("[campaign]\nallowed_lateness = \"2h\"\n") + kOneHourLadder);
  const std::vector<std::string> events = {Started("2019-08-01T00:00:00Z"), Msg("2019-08-01T01:00:00Z", "k1"),
                                           Started("2019-08-01T00:00:00Z", "c2", "k2", "f2"),
                                           Msg("2019-08-01T01:30:00Z", "k2", "c2")};
  const auto run = [&](bool cut) {
    Output out;
    CollectingSink first_sink(out), second_sink(out);
    Engine engine(policy, first_sink);
    SubmitAll(engine, events, /*live=*/true);
    engine.advance_clock(parse_rfc3339("2019-08-01T01:45:00Z").value());
    std::unique_ptr<Engine> copy;
    Engine* live = &engine;
    if (cut) {
      copy = restored_copy(engine, policy, second_sink);
      live = copy.get();
    }
    // Both steps are long overdue: they go out at now, although
    // allowed_lateness holds the watermark behind it.
    live->advance_clock(parse_rfc3339("2019-08-01T05:00:00Z").value());
    live->emit_open_episodes();
    return out;
  };
  const Output straight = run(false);
  EXPECT_EQ(straight.decisions.size(), 2u);
  const Output resumed = run(true);
  EXPECT_EQ(resumed.decisions, straight.decisions);
  EXPECT_EQ(resumed.episodes, straight.episodes);
}

// ---------------------------------------------------------------------------
// Refusals.

class EngineSnapshotRefusal : public ::testing::Test {
 protected:
  EngineSnapshotRefusal() : policy_(MustParsePolicy(kLadder)), engine_(policy_, sink_) {
    SubmitAll(engine_, {UserLine("2019-08-01T00:00:00Z", "f1", R"("country":"IN","tz":"Asia/Kolkata")"),
                        Started("2019-08-01T00:00:00Z"), Msg("2019-08-01T01:00:00Z", "k1"),
                        OptOut("2019-08-01T02:00:00Z", "f1"), Tick("2019-08-02T03:00:00Z")});
    bytes_ = EngineSnapshot::write(engine_);
  }

  // Restores `bytes` into a fresh engine under `policy`: the refusal's
  // message, or "" when accepted.
  std::string refusal(std::string_view bytes, const Policy& policy) {
    Output out;
    CollectingSink sink(out);
    Engine fresh(policy, sink);
    const Status s = EngineSnapshot::restore(bytes, fresh);
    return s.is_ok() ? "" : s.message();
  }
  std::string refusal(std::string_view bytes) { return refusal(bytes, policy_); }

  static void expect_mentions(const std::string& message, std::string_view what) {
    EXPECT_NE(message.find(what), std::string::npos) << "'" << message << "' should say '" << what << "'";
  }

  Output out_;
  CollectingSink sink_{out_};
  Policy policy_;
  Engine engine_;
  std::string bytes_;
};

TEST_F(EngineSnapshotRefusal, AcceptsItsOwnSnapshot) { EXPECT_EQ(refusal(bytes_), ""); }

TEST_F(EngineSnapshotRefusal, RefusesEveryTruncation) {
  for (std::size_t n = 0; n < bytes_.size(); ++n) {
    const std::string message = refusal(std::string_view(bytes_).substr(0, n));
    EXPECT_NE(message, "") << "truncated to " << n << " bytes";
  }
  expect_mentions(refusal(std::string_view(bytes_).substr(0, bytes_.size() - 1)), "truncated");
  expect_mentions(refusal(std::string_view(bytes_).substr(0, 3)), "not an engine snapshot");
}

TEST_F(EngineSnapshotRefusal, RefusesEveryFlippedByte) {
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    std::string damaged = bytes_;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    EXPECT_NE(refusal(damaged), "") << "byte " << i << " flipped";
  }
  std::string damaged = bytes_;
  damaged[bytes_.size() / 2] ^= 1;
  expect_mentions(refusal(damaged), "checksum");
}

TEST_F(EngineSnapshotRefusal, RefusesAnotherVersion) {
  std::string other = bytes_;
  other[8] = static_cast<char>(kEngineSnapshotVersion + 1);  // the version follows the 8-byte magic
  expect_mentions(refusal(other), "format version 2");
}

TEST_F(EngineSnapshotRefusal, RefusesAnotherPolicy) {
  const Policy other = MustParsePolicy(kShortLadder);
  expect_mentions(refusal(bytes_, other), "another policy");
  Policy renamed = policy_;
  renamed.name = "another name";  // not read by the engine
  EXPECT_EQ(refusal(bytes_, renamed), "");
}

// Damage the checksum cannot see (it is no signature): every byte of the
// payload changed, with the checksum made to match, is refused or restores
// an engine; never a crash or a read out of bounds.
TEST_F(EngineSnapshotRefusal, SurvivesDamageBehindAValidChecksum) {
  int refused = 0;
  for (std::size_t i = 28; i + 8 < bytes_.size(); ++i) {
    for (unsigned char value : {0x00, 0x7f, 0x80, 0xff}) {
      std::string damaged = bytes_.substr(0, bytes_.size() - 8);
      damaged[i] = static_cast<char>(value);
      ByteWriter checksum;
      checksum.u64(XXH3_64bits(damaged.data(), damaged.size()));
      damaged += checksum.buffer();
      if (!refusal(damaged).empty()) ++refused;
    }
  }
  EXPECT_GT(refused, 0);
}

TEST_F(EngineSnapshotRefusal, RefusesAnEngineWithState) {
  Output out;
  CollectingSink sink(out);
  Engine used(policy_, sink);
  LineParser parser;
  Event e;
  ASSERT_EQ(parser.parse_copy(Started("2019-08-01T00:00:00Z"), e), RejectReason::kNone);
  ASSERT_EQ(used.submit(e), RejectReason::kNone);
  expect_mentions(EngineSnapshot::restore(bytes_, used).message(), "fresh engine");
}

class FixedScorer : public EpisodeScorer {
 public:
  float score(const EpisodeRecord&) override { return 0.5f; }
};

// A scorer is no part of a snapshot (the feature store beside it is the
// driver's to snapshot): written as without one, restored only without one.
TEST_F(EngineSnapshotRefusal, WritesAnEngineWithARiskScorerAsWithoutAndRestoresOnlyWithoutOne) {
  FixedScorer scorer;
  engine_.set_scorer(&scorer);
  EXPECT_EQ(EngineSnapshot::write(engine_), bytes_);
  Output out;
  CollectingSink sink(out);
  Engine fresh(policy_, sink);
  fresh.set_scorer(&scorer);
  expect_mentions(EngineSnapshot::restore(bytes_, fresh).message(), "risk scorer");
}

// A refused restore leaves the engine fresh: a good snapshot restores next.
TEST_F(EngineSnapshotRefusal, RefusalLeavesTheEngineFresh) {
  Output out;
  CollectingSink sink(out);
  Engine fresh(policy_, sink);
  std::string damaged = bytes_;
  damaged[20] ^= 1;
  EXPECT_FALSE(EngineSnapshot::restore(damaged, fresh).is_ok());
  const Status s = EngineSnapshot::restore(bytes_, fresh);
  EXPECT_TRUE(s.is_ok()) << s.message();
}

}  // namespace
}  // namespace gw::test
