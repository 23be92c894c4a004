// Test-only helpers for the tests that drive a bus worker's partition in
// process against a real PostgreSQL (partition_open_episodes_test.cc,
// partition_state_test.cc): a simulated log as one partition's messages
// and a service that claims partition 0 of it.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "ghostwatch/server/service.h"
#include "ghostwatch/store/postgres/postgres_store.h"
#include "serve_support.h"

namespace gw::test {

class FixedPartitionClock final : public Clock {
 public:
  Instant now() const override { return 1'700'000'000'000; }
};

// The replay-accepted lines of `events` (`rejects`: replay's rejects file)
// as the messages of one partition: stream and log sequence numbers, and
// the running maximum event time; then the end of a replay, an advance
// through the largest event time.
inline std::vector<PartitionMessage> one_partition(const std::string& events, const std::string& rejects) {
  std::set<std::uint64_t> rejected;
  for (const std::string& line : bodies(rejects, 1)) {
    rejected.insert(nlohmann::json::parse(line)["line"].get<std::uint64_t>());
  }
  std::vector<PartitionMessage> out;
  Instant watermark = kNoInstant;
  std::uint64_t number = 0;
  for (std::string line : bodies(events, 1)) {
    if (rejected.count(++number) != 0) continue;
    while (!line.empty() && line.back() == '\n') line.pop_back();
    watermark = std::max(watermark, parse_rfc3339(nlohmann::json::parse(line)["at"].get<std::string>()).value());
    PartitionMessage m;
    m.stream_seq = m.seq = out.size() + 1;
    m.watermark = watermark;
    m.line = std::move(line);
    out.push_back(std::move(m));
  }
  PartitionMessage advance;
  advance.stream_seq = advance.seq = out.size() + 1;
  advance.watermark = out.empty() ? kNoInstant : out.back().watermark;
  advance.control = PartitionControl::kEvaluateThrough;
  advance.at = advance.watermark;
  out.push_back(advance);
  return out;
}

// A marketplace of `simulate` (seed, freelancers, clients, days) in
// dir/ev.ndjson, replayed (dir/rejects.ndjson, dir/episodes.ndjson), as the
// messages of one partition.
inline std::vector<PartitionMessage> simulated_partition(const TempDir& dir, int seed, int freelancers, int clients,
                                                         int days) {
  simulate(dir.file("ev.ndjson"), seed, freelancers, clients, days);
  EXPECT_EQ(run_command(std::string(GHOSTWATCH_BINARY) + " replay --config " + kExamplePolicy + " --events " +
                        dir.file("ev.ndjson") + " --rejects " + dir.file("rejects.ndjson") + " --episodes " +
                        dir.file("episodes.ndjson") + " 2>/dev/null"),
            0);
  return one_partition(read_file(dir.file("ev.ndjson")), read_file(dir.file("rejects.ndjson")));
}

// Messages [from, to) of `messages`.
inline std::vector<PartitionMessage> message_range(const std::vector<PartitionMessage>& messages, std::size_t from,
                                                   std::size_t to) {
  return std::vector<PartitionMessage>(messages.begin() + static_cast<std::ptrdiff_t>(from),
                                       messages.begin() + static_cast<std::ptrdiff_t>(to));
}

// Applies messages [from, to) of `messages` to a partition's service, as
// its worker does (the position: after the last of them, none held).
inline Status apply_range(Service& service, const std::vector<PartitionMessage>& messages, std::size_t from,
                          std::size_t to) {
  return service.apply_partition(message_range(messages, from, to), PartitionPosition{messages[to - 1].stream_seq, 0});
}

struct PartitionOwner {
  std::unique_ptr<PostgresStore> store;
  std::unique_ptr<Service> service;
};

// A new claim on partition `partition` of the database at `url`, and its
// service (recovered from the partition's log) under the example policy,
// with the risk model `model` ("": none).
inline PartitionOwner take_partition(const std::string& url, const Clock& clock, int partition = 0,
                                     const std::string& model = "") {
  PartitionOwner o;
  o.store = PostgresStore::open(url, partition).value();
  const std::uint64_t claim = o.store->claim_partition().value().epoch;
  auto service =
      Service::open(read_file(kExamplePolicy), *o.store, clock, ClockMode::kEvents, claim, model, "model.json");
  EXPECT_TRUE(service) << service.message();
  if (service) o.service = std::move(*service);
  return o;
}

}  // namespace gw::test
