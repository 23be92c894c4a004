// End-to-end replay throughput on a simulated marketplace (issue #2's
// performance target), measured against the raw simdjson On-Demand parse
// rate of the same file in the same run:
//
//   build/bench/replay_throughput [--events 10000000] [--file PATH] [--repeat 3] [--out-dir DIR]
//
// Generates PATH with `ghostwatch simulate`'s generator when it is missing,
// then alternates, --repeat times, two phases, each in a fresh child process
// so that its peak RSS is its own:
//   raw:    read the file line by line and parse each line's `type` and `at`
//           with simdjson On-Demand (the parse ceiling);
//   replay: the whole `ghostwatch replay` path (read, validate, engine, write
//           actions, episodes and rejects to files in a temp dir).
// Reports the median and spread of each, their ratio, and the replay's peak
// memory beyond the raw phase's (I/O buffers, parser) per contract. Outputs
// go to --out-dir, by default under /dev/shm: replay fsyncs its outputs, and
// on a disk that flush of hundreds of MB measures the disk, not ghostwatch.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/ingest/line_reader.h"
#include "ghostwatch/replay/replay.h"
#include "ghostwatch/sim/marketplace.h"

namespace {

struct PhaseResult {
  double seconds = 0;
  std::uint64_t lines = 0;
  std::uint64_t contracts = 0;
  std::uint64_t engine_bytes = 0;
  long max_rss_kb = 0;
  bool ok = false;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

PhaseResult raw_parse(const std::string& path) {
  PhaseResult r;
  gw::LineReader reader;
  if (!reader.open(path)) return r;
  simdjson::ondemand::parser parser;
  std::string_view line;
  std::size_t capacity;
  std::uint64_t parsed = 0;
  double t0 = now_seconds();
  while (reader.next(line, capacity)) {
    ++r.lines;
    simdjson::ondemand::document doc;
    if (parser.iterate(line.data(), line.size(), capacity).get(doc)) continue;
    std::string_view type, at;
    if (doc["type"].get_string().get(type) || doc["at"].get_string().get(at)) continue;
    parsed += type.size() + at.size() > 0;
  }
  r.seconds = now_seconds() - t0;
  r.ok = parsed > 0;
  return r;
}

PhaseResult replay(const std::string& path, const gw::Policy& policy, const std::string& out_dir) {
  PhaseResult r;
  gw::ReplayOptions options;
  options.events_path = path;
  options.actions_path = out_dir + "/actions.ndjson";
  options.episodes_path = out_dir + "/episodes.ndjson";
  options.rejects_path = out_dir + "/rejects.ndjson";
  double t0 = now_seconds();
  auto stats = gw::run_replay(policy, options);
  r.seconds = now_seconds() - t0;
  if (!stats) {
    std::fprintf(stderr, "replay failed: %s\n", stats.message().c_str());
    return r;
  }
  r.lines = stats->lines;
  r.contracts = stats->contracts;
  r.engine_bytes = stats->engine_memory_bytes;
  r.ok = true;
  return r;
}

// Runs `phase` in a child process; returns its result and peak RSS.
template <typename Phase>
PhaseResult in_child(Phase phase) {
  int fds[2];
  if (::pipe(fds) != 0) std::exit(1);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    PhaseResult r = phase();
    ssize_t n = ::write(fds[1], &r, sizeof r);
    ::_exit(n == sizeof r ? 0 : 1);
  }
  ::close(fds[1]);
  PhaseResult r;
  ssize_t n = ::read(fds[0], &r, sizeof r);
  ::close(fds[0]);
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  if (n != sizeof r || !WIFEXITED(status) || WEXITSTATUS(status) != 0) r.ok = false;
  r.max_rss_kb = usage.ru_maxrss;
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t events = 10'000'000;
  std::string path;
  int repeat = 3;
  std::string out_dir = std::filesystem::exists("/dev/shm") ? "/dev/shm/ghostwatch-bench-out"
                                                            : std::filesystem::temp_directory_path() / "ghostwatch-bench-out";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--events") events = std::atoll(argv[i + 1]);
    else if (flag == "--file") path = argv[i + 1];
    else if (flag == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--out-dir") out_dir = argv[i + 1];
  }
  if (path.empty()) path = fmt::format("/tmp/ghostwatch-bench-{}.ndjson", events);

  if (!std::filesystem::exists(path)) {
    gw::sim::MarketplaceOptions sim;
    sim.seed = 2;
    sim.days = 80;
    sim.freelancers = static_cast<std::int64_t>(static_cast<double>(events) / gw::sim::kEventsPerFreelancerDay /
                                                static_cast<double>(sim.days));
    sim.clients = sim.freelancers * 2 / 5;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return 1;
    fmt::print(stderr, "generating {} ({} freelancers, {} days)...\n", path, sim.freelancers, sim.days);
    auto stats = gw::sim::write_marketplace(sim, f);
    std::fclose(f);
    fmt::print(stderr, "  {} lines, {} contracts\n", stats.lines, stats.contracts);
  }
  auto policy = gw::load_policy(GHOSTWATCH_SOURCE_DIR "/examples/policy.toml");
  if (!policy) {
    fmt::print(stderr, "{}\n", policy.message());
    return 1;
  }
  std::filesystem::create_directories(out_dir);

  std::vector<double> raw_rates, replay_rates;
  PhaseResult raw_last, replay_last;
  for (int i = 0; i < repeat; ++i) {
    raw_last = in_child([&] { return raw_parse(path); });
    replay_last = in_child([&] { return replay(path, *policy, out_dir); });
    if (!raw_last.ok || !replay_last.ok) {
      fmt::print(stderr, "a phase failed\n");
      return 1;
    }
    raw_rates.push_back(static_cast<double>(raw_last.lines) / raw_last.seconds);
    replay_rates.push_back(static_cast<double>(replay_last.lines) / replay_last.seconds);
    fmt::print("run {}: raw parse {:.2f} M lines/s, replay {:.2f} M lines/s\n", i + 1, raw_rates.back() / 1e6,
               replay_rates.back() / 1e6);
  }
  std::filesystem::remove_all(out_dir);
  auto spread = [](const std::vector<double>& v) {
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return fmt::format("{:.2f}..{:.2f}", *lo / 1e6, *hi / 1e6);
  };
  double raw = median(raw_rates), rep = median(replay_rates);
  long extra_kb = replay_last.max_rss_kb - raw_last.max_rss_kb;
  double contracts = static_cast<double>(std::max<std::uint64_t>(1, replay_last.contracts));
  fmt::print("lines: {}  contracts: {}\n", replay_last.lines, replay_last.contracts);
  fmt::print("raw simdjson parse: median {:.2f} M lines/s (runs {})\n", raw / 1e6, spread(raw_rates));
  fmt::print("replay end to end:  median {:.2f} M lines/s (runs {})\n", rep / 1e6, spread(replay_rates));
  fmt::print("replay / raw parse: {:.2f}x slower\n", raw / rep);
  fmt::print("peak RSS: raw {} KB, replay {} KB; replay beyond raw: {:.0f} bytes/contract\n", raw_last.max_rss_kb,
             replay_last.max_rss_kb, static_cast<double>(extra_kb) * 1024 / contracts);
  fmt::print("engine state (accounted): {:.0f} bytes/contract\n",
             static_cast<double>(replay_last.engine_bytes) / contracts);
  return 0;
}
