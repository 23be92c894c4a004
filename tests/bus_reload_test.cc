// SIGHUP in bus mode (docs/operations.md, "Workers"): two workers apply the
// first half of a simulated marketplace, a config they cannot take is
// refused, the config's ladder is edited and every worker gets SIGHUP, the rest is published (one worker killed and
// started again on the way), and the decisions and closed episodes equal
// those of one `serve` fed the same requests and reloaded at the same
// point: what was decided before the reload is as the old ladder decided
// it, what comes after follows the new one, and the restarted worker's
// partitions recover the switch from their logs.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bus_worker_support.h"
#include "ghostwatch/core/time.h"
#include "nats_server.h"
#include "pg_server.h"

namespace gw::test {
namespace {

constexpr int kReloadPartitions = 4;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The example policy, and the same with its second step later and under
// another template.
std::string old_ladder() { return read_file(kExamplePolicy); }
std::string new_ladder() {
  std::string text = read_file(kExamplePolicy);
  const std::string step = "after = \"72h\"\naction = \"nudge\"\ntemplate = \"reminder-2\"";
  text.replace(text.find(step), step.size(), "after = \"96h\"\naction = \"nudge\"\ntemplate = \"reminder-2b\"");
  return text;
}

// Posts `parts` to `serve`, one request each.
void post(const ServeProcess& serve, const std::vector<std::string>& parts) {
  auto c = serve.client();
  for (const std::string& body : parts) {
    auto r = c.Post("/v1/events", body, kNdjson);
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  }
}
// POST /v1/advance?to=`to`, answered with `status`.
void advance(const ServeProcess& serve, const std::string& to, int status) {
  auto r = serve.client().Post("/v1/advance?to=" + to, "", "text/plain");
  ASSERT_TRUE(r && r->status == status) << (r ? r->body : "no answer");
}

struct Records {
  std::vector<std::string> decisions, closed;
};
Records records_of(const ServeProcess& serve) {
  auto c = serve.client();
  return {sorted(bodies(c.Get("/v1/decisions?format=ndjson")->body, 1)),
          sorted(bodies(c.Get("/v1/episodes?format=ndjson&status=closed")->body, 1))};
}

TEST(BusReloadTest, SighupReachesEveryPartitionAsOneServeReloads) {
  auto nats = nats_url();
  if (!nats) GTEST_SKIP() << kNoNats;
  auto db = pg_database_url();
  if (!db) GTEST_SKIP() << kNoPostgres;
  delete_stream(*nats, "GHOSTWATCH_EVENTS");
  TempDir dir;
  simulate(dir.file("events.ndjson"), 23, 120, 60, 24);
  const std::vector<std::string> all = bodies(read_file(dir.file("events.ndjson")), 500);
  ASSERT_GE(all.size(), 8u);
  const auto cut1 = all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2);
  const auto cut2 = all.begin() + static_cast<std::ptrdiff_t>(all.size() * 3 / 4);
  const std::vector<std::string> first(all.begin(), cut1), second(cut1, cut2), third(cut2, all.end());
  // The reload's point: everything through the first half's last event.
  const std::vector<std::string> first_lines = bodies(first.back(), 1);
  const std::string reload_at = nlohmann::json::parse(first_lines.back())["at"];

  // One serve: the first half, the advance, SIGHUP, the rest.
  const std::string single_config = dir.file("single.toml");
  write_file(single_config, old_ladder());
  ServeProcess single({"--config", single_config, "--data", dir.file("single"), "--clock", "events"},
                      dir.file("single.log"));
  ASSERT_TRUE(single.running()) << single.log();
  post(single, first);
  advance(single, reload_at, 200);
  write_file(single_config, new_ladder());
  single.kill(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return single.log().find("config reloaded: the new rules") != std::string::npos; }, 30))
      << single.log();
  post(single, second);
  post(single, third);
  advance(single, kUntil, 200);
  const Records expected = records_of(single);

  // The workers, the same way.
  const std::string config = dir.file("worker.toml");
  const std::string bus = fmt::format("\n[bus]\nurl = \"{}\"\npartitions = {}\n", *nats, kReloadPartitions);
  write_file(config, old_ladder() + bus);
  auto worker = [&](const std::string& id) {
    return std::make_unique<ServeProcess>(
        std::vector<std::string>{"--config", config, "--store", *db, "--clock", "events", "--worker-id", id},
        dir.file(id + ".log"));
  };
  auto w1 = worker("w1");
  auto w2 = worker("w2");
  ASSERT_TRUE(w1->running() && w2->running()) << w1->log() << w2->log();
  // Each holds its share before anything moves: no partition changes hands around the reload.
  ASSERT_TRUE(wait_until(
      [&] {
        return occurrences(w2->log(), "partition started") == kReloadPartitions / 2 &&
               occurrences(w1->log(), "partition started") - occurrences(w1->log(), "partition stopped") ==
                   kReloadPartitions / 2;
      },
      60))
      << w1->log() << w2->log();
  post(*w1, first);
  advance(*w1, reload_at, 202);
  ASSERT_TRUE(wait_for_every_partition(*db, *nats, kReloadPartitions, 300)) << w1->log() << w2->log();
  // A config the workers cannot take (risk without a model) changes nothing.
  std::string on_risk = old_ladder();
  on_risk.replace(on_risk.find("[segment]\n"), 10, "[segment]\nmin_risk = 0.5\n");
  write_file(config, on_risk + bus);
  w1->kill(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return w1->log().find("config reload refused") != std::string::npos; }, 30))
      << w1->log();
  EXPECT_NE(w1->log().find("segment.min_risk: needs a risk model (--model)"), std::string::npos) << w1->log();
  write_file(config, new_ladder() + bus);
  w1->kill(SIGHUP);
  w2->kill(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] {
        return occurrences(w1->log() + w2->log(), "partition reloaded: the new rules apply from now on") ==
               kReloadPartitions;
      },
      60))
      << w1->log() << w2->log();
  post(*w2, second);
  // A worker dies and comes back: its partitions recover the switch from their logs.
  w1->kill(SIGKILL);
  w1->wait();
  w1 = worker("w1");
  ASSERT_TRUE(w1->running()) << w1->log();
  post(*w2, third);
  advance(*w2, kUntil, 202);
  ASSERT_TRUE(wait_for_every_partition(*db, *nats, kReloadPartitions, 300)) << w1->log() << w2->log();
  const Records got = records_of(*w1);

  ASSERT_GT(expected.decisions.size(), 100u);
  EXPECT_EQ(difference(expected.decisions, got.decisions), "");
  EXPECT_EQ(difference(expected.closed, got.closed), "");
  // The old ladder decided up to the reload, the new one after it.
  const Instant switched = *parse_rfc3339(reload_at);
  std::size_t old_step = 0, new_step = 0;
  for (const std::string& line : got.decisions) {
    const auto d = nlohmann::json::parse(line);
    const std::string target = d.value("template", "");
    const Instant at = *parse_rfc3339(d["at"].get<std::string>());
    if (target == "reminder-2") {
      EXPECT_LE(at, switched) << line;
      ++old_step;
    } else if (target == "reminder-2b") {
      EXPECT_GT(at, switched) << line;
      ++new_step;
    }
  }
  EXPECT_GT(old_step, 0u);
  EXPECT_GT(new_step, 0u);
  // One switch in each partition's log: the partitions started again found
  // the new policy in force there and logged no second one.
  EXPECT_EQ(sql_count(*db, "SELECT COALESCE(SUM(entries), 0) FROM log WHERE partition >= 0 AND kind = 4"),
            kReloadPartitions);
}

}  // namespace
}  // namespace gw::test
