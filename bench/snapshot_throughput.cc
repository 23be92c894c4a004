// Engine snapshots against replaying the log (issue #9): how big a snapshot
// is per contract, and how fast it is written and restored, beside the time
// to rebuild the same state by replaying the events.
//
//   build/bench/snapshot_throughput [--file PATH] [--lines N] [--policy PATH]
//
// Reads the first N lines of PATH (default: all of
// /tmp/ghostwatch-bench-10000000.ndjson; replay_throughput generates it),
// replays them into an engine (read, parse, submit; records counted, not
// written: what a service's recovery does), then writes the engine's
// snapshot, restores it into a fresh engine, and checks that the restored
// engine's snapshot is the same bytes. Prints one line per phase.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ghostwatch/engine/engine.h"
#include "ghostwatch/engine/snapshot.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/ingest/line_reader.h"
#include "ghostwatch/policy/policy.h"

namespace {

class CountingSink : public gw::EngineSink {
 public:
  void on_decision(const gw::Decision&) override { ++records; }
  void on_episode(const gw::EpisodeRecord&) override { ++records; }
  std::uint64_t records = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string file = "/tmp/ghostwatch-bench-10000000.ndjson";
  std::string policy_path = std::string(GHOSTWATCH_SOURCE_DIR) + "/examples/policy.toml";
  std::uint64_t max_lines = UINT64_MAX;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--file") == 0) {
      file = argv[i + 1];
    } else if (std::strcmp(argv[i], "--lines") == 0) {
      max_lines = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (std::strcmp(argv[i], "--policy") == 0) {
      policy_path = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: %s [--file PATH] [--lines N] [--policy PATH]\n", argv[0]);
      return 2;
    }
  }
  gw::Result<gw::Policy> policy = gw::load_policy(policy_path);
  if (!policy) {
    std::fprintf(stderr, "%s\n", policy.message().c_str());
    return 1;
  }

  CountingSink sink;
  gw::Engine engine(policy.value(), sink);
  gw::LineReader reader;
  if (gw::Status s = reader.open(file); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  gw::LineParser parser;
  gw::Event event;
  std::string_view line;
  std::size_t capacity = 0;
  std::uint64_t lines = 0;
  auto start = std::chrono::steady_clock::now();
  while (lines < max_lines && reader.next(line, capacity)) {
    ++lines;
    if (gw::is_blank_line(line)) continue;
    if (parser.parse(line, capacity, event) == gw::RejectReason::kNone) engine.submit(event);
  }
  const double replay = seconds_since(start);
  fmt::print("replay   {} lines, {} contracts, {} records: {:.2f} s ({:.2f} M lines/s)\n", lines,
             engine.contract_count(), sink.records, replay, lines / replay / 1e6);

  start = std::chrono::steady_clock::now();
  const std::string bytes = gw::EngineSnapshot::write(engine);
  const double write = seconds_since(start);
  const double mb = bytes.size() / 1e6;
  fmt::print("write    {:.1f} MB, {:.1f} bytes per contract: {:.3f} s ({:.0f} MB/s)\n", mb,
             static_cast<double>(bytes.size()) / engine.contract_count(), write, mb / write);

  CountingSink restored_sink;
  gw::Engine restored(policy.value(), restored_sink);
  start = std::chrono::steady_clock::now();
  const gw::Status s = gw::EngineSnapshot::restore(bytes, restored);
  const double read = seconds_since(start);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  fmt::print("restore  {:.3f} s ({:.0f} MB/s): {:.0f}x faster than the replay\n", read, mb / read, replay / read);
  if (gw::EngineSnapshot::write(restored) != bytes) {
    std::fprintf(stderr, "the restored engine's snapshot differs\n");
    return 1;
  }
  return 0;
}
