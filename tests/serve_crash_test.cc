// Crash recovery of `ghostwatch serve`: a client posts a simulated
// marketplace while the server is killed with SIGKILL at random moments;
// after each kill the server restarts on the same data directory and the
// client retries the unanswered request with the same Idempotency-Key. The
// final decisions and episodes must equal `replay` of the same events: no
// accepted event, decision or episode lost, none duplicated. On both stores:
// SQLite (--data) and PostgreSQL (--store postgresql://...), replaying the
// whole log at each restart, or a snapshot and the log after it (serve
// --snapshot-every 400 --compact-log: killed while writing one too).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "serve_support.h"
#include "store_backends.h"

namespace gw::test {
namespace {

enum class Recovery { kWholeLog, kSnapshots };

class ServeCrash : public ::testing::TestWithParam<std::tuple<Backend, Recovery>> {};

TEST_P(ServeCrash, KilledAtRandomPointsItResumesExactly) {
  TempDir dir;
  std::vector<std::string> args = {"--config", kExamplePolicy, "--clock", "events", "--data", dir.file("data")};
  if (std::get<1>(GetParam()) == Recovery::kSnapshots)
    args.insert(args.end(), {"--snapshot-every", "400", "--compact-log"});
  if (std::get<0>(GetParam()) == Backend::kPostgres) {
    const auto url = pg_database_url();
    if (!url) GTEST_SKIP() << kNoPostgres;
    args.insert(args.end(), {"--store", *url});
  }
  const std::string events = dir.file("events.ndjson");
  simulate(events, 23, 400, 200, 30);
  const ReplayFiles expected = replay(dir, events);
  const std::vector<std::string> requests = bodies(read_file(events), 150);
  ASSERT_GT(requests.size(), 50u);

  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("random seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  // The server is killed once the client has reached each of these
  // requests, after a random delay of up to 5 ms (a few requests here; a
  // longer one lets the client finish before the last kills): sometimes
  // mid-request, sometimes between two, sometimes while it recovers.
  std::vector<std::size_t> kill_at(5);
  for (auto& k : kill_at) k = std::uniform_int_distribution<std::size_t>(1, requests.size() - 1)(rng);
  std::sort(kill_at.begin(), kill_at.end());
  std::size_t kills = 0;
  std::atomic<std::size_t> next = 0;  // the first request not yet answered
  bool advanced = false;
  for (int starts = 0; !advanced; ++starts) {
    ASSERT_LT(starts, 40) << "the client made no progress across restarts";
    ServeProcess serve(args, dir.file("serve.log"));
    ASSERT_TRUE(serve.running()) << serve.log();
    std::atomic<bool> done = false;
    const int delay_us = std::uniform_int_distribution<int>(0, 5000)(rng);
    std::thread killer([&] {
      if (kills == kill_at.size()) return;
      while (!done && next < kill_at[kills]) std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      if (!done) {
        serve.kill(SIGKILL);
        ++kills;
      }
    });
    auto c = serve.client();
    bool alive = true;
    while (alive && next < requests.size()) {
      auto r = c.Post("/v1/events", {{"Idempotency-Key", "batch-" + std::to_string(next)}}, requests[next],
                      "application/x-ndjson");
      if (!r) {
        alive = false;
        break;
      }
      ASSERT_EQ(r->status, 200) << r->body;
      ++next;
    }
    if (alive) {
      auto r = c.Post(std::string("/v1/advance?to=") + kUntil, "", "text/plain");
      advanced = r && r->status == 200;
    }
    done = true;
    killer.join();
  }
  EXPECT_GE(kills, 3u) << "the test should have crashed the server several times";

  // A last clean start: recovery alone must give the same records.
  ServeProcess serve(args, dir.file("serve.log"));
  auto c = serve.client();
  EXPECT_EQ(c.Get("/v1/decisions?format=ndjson")->body, expected.actions);
  EXPECT_EQ(c.Get("/v1/episodes?format=ndjson")->body, expected.episodes);
  if (std::get<1>(GetParam()) == Recovery::kSnapshots) {
    const std::string metrics = c.Get("/metrics")->body;
    EXPECT_NE(metrics.find("ghostwatch_snapshot_bytes "), std::string::npos) << metrics;
    EXPECT_EQ(metrics.find("ghostwatch_snapshot_bytes 0\n"), std::string::npos) << "it recovered from no snapshot";
  }
}

INSTANTIATE_TEST_SUITE_P(BackendsAndRecoveries, ServeCrash,
                         ::testing::Combine(::testing::Values(Backend::kSqlite, Backend::kPostgres),
                                            ::testing::Values(Recovery::kWholeLog, Recovery::kSnapshots)),
                         [](const ::testing::TestParamInfo<std::tuple<Backend, Recovery>>& info) {
                           return std::string(std::get<0>(info.param) == Backend::kSqlite ? "Sqlite" : "Postgres") +
                                  (std::get<1>(info.param) == Recovery::kSnapshots ? "Snapshots" : "WholeLog");
                         });

}  // namespace
}  // namespace gw::test
