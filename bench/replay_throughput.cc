// End-to-end replay throughput on a simulated marketplace (issue #2's
// performance target), measured against the raw simdjson On-Demand parse
// rate of the same file in the same run:
//
//   build/bench/replay_throughput [--events 10000000] [--file PATH] [--repeat 3] [--out-dir DIR]
//
// Generates PATH with `ghostwatch simulate`'s generator when it is missing,
// then alternates, --repeat times, three phases, each in a fresh child
// process so that its peak RSS is its own:
//   raw (full):  read the file line by line through the same LineReader and
//                parse every line fully with simdjson On-Demand: every field
//                of the object is visited, its key read, and its value read
//                as what it is (strings as string_view, numbers as numbers,
//                literals as bool/null, nested objects and arrays walked).
//                That is the least any consumer must do to read the events,
//                and the file's parse rate: the baseline of the ratio;
//   raw (two fields): the same, reading only `type` and `at`. On-Demand
//                skips the bytes it is not asked for without looking at them,
//                so this is no parse of the file; it is reported beside the
//                full parse for comparison with earlier figures;
//   replay:      the whole `ghostwatch replay` path (read, validate, engine,
//                write actions, episodes and rejects to files).
// Reports the median and spread of each, the replay's ratio to both raw
// phases (of the medians, and the median of each run's ratio), and the
// replay's peak memory beyond the full raw phase's (I/O buffers, parser)
// per contract. Every phase runs on the CPU the benchmark started on
// (pin_cpu.h), and each replay writes its outputs afresh (the previous
// run's are removed untimed). Outputs go to --out-dir, by default under
// /dev/shm: replay fsyncs its outputs, and on a disk that flush of hundreds
// of MB measures the disk, not ghostwatch.
#include <fmt/format.h>
#include <simdjson.h>
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
#include <string_view>
#include <vector>

#include "bench_stats.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/ingest/line_reader.h"
#include "ghostwatch/replay/replay.h"
#include "ghostwatch/sim/marketplace.h"
#include "pin_cpu.h"

namespace {

struct PhaseResult {
  double seconds = 0;
  std::uint64_t lines = 0;
  std::uint64_t contracts = 0;
  std::uint64_t engine_bytes = 0;
  std::uint64_t checksum = 0;  // of what a raw phase read: keeps the reads from being optimized away
  long max_rss_kb = 0;
  bool ok = false;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

using simdjson::ondemand::json_type;

// Reads all of `v` as a consumer would (see the header) and folds what it
// read into `sum`, so that nothing is optimized away. False on an error.
bool read_value(simdjson::ondemand::value v, std::uint64_t& sum) {
  json_type type;
  if (v.type().get(type)) return false;
  switch (type) {
    case json_type::object: {
      simdjson::ondemand::object object;
      if (v.get_object().get(object)) return false;
      for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key) || !read_value(field.value(), sum)) return false;
        sum += key.size();
      }
      return true;
    }
    case json_type::array: {
      simdjson::ondemand::array array;
      if (v.get_array().get(array)) return false;
      for (auto element : array) {
        simdjson::ondemand::value e;
        if (element.get(e) || !read_value(e, sum)) return false;
      }
      return true;
    }
    case json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      sum += s.size();
      return true;
    }
    case json_type::number: {
      simdjson::ondemand::number n;
      if (v.get_number().get(n)) return false;
      sum += static_cast<std::uint64_t>(n.get_number_type());
      return true;
    }
    case json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return false;
      sum += b;
      return true;
    }
    case json_type::null: return v.is_null();
  }
  return false;
}

// How much of each line the raw phase reads.
enum class RawParse { kFull, kTypeAndAt };

PhaseResult raw_parse(const std::string& path, RawParse what) {
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
    if (what == RawParse::kFull) {
      simdjson::ondemand::value root;
      parsed += !doc.get_value().get(root) && read_value(root, r.checksum);
    } else {
      std::string_view type, at;
      if (doc["type"].get_string().get(type) || doc["at"].get_string().get(at)) continue;
      r.checksum += type.size() + at.size();
      ++parsed;
    }
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

using gw::bench::median;

}  // namespace

int main(int argc, char** argv) {
  gw::bench::pin_to_current_cpu();
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

  std::vector<double> full_rates, two_field_rates, replay_rates;
  PhaseResult full_last, replay_last;
  auto rate = [](const PhaseResult& r) { return static_cast<double>(r.lines) / r.seconds; };
  for (int i = 0; i < repeat; ++i) {
    full_last = in_child([&] { return raw_parse(path, RawParse::kFull); });
    PhaseResult two_fields = in_child([&] { return raw_parse(path, RawParse::kTypeAndAt); });
    // Each replay writes new outputs, as a first run does: the previous
    // run's are removed first, so that freeing them (about 900 MB of page
    // cache, some 2 % of a replay) is not timed as part of this one.
    std::filesystem::remove_all(out_dir);
    std::filesystem::create_directories(out_dir);
    replay_last = in_child([&] { return replay(path, *policy, out_dir); });
    if (!full_last.ok || !two_fields.ok || !replay_last.ok) {
      fmt::print(stderr, "a phase failed\n");
      return 1;
    }
    full_rates.push_back(rate(full_last));
    two_field_rates.push_back(rate(two_fields));
    replay_rates.push_back(rate(replay_last));
    fmt::print("run {}: raw parse {:.2f} (type+at {:.2f}) M lines/s, replay {:.2f} M lines/s\n", i + 1,
               full_rates.back() / 1e6, two_field_rates.back() / 1e6, replay_rates.back() / 1e6);
  }
  std::filesystem::remove_all(out_dir);
  // "lowest..highest" of `v` in `unit`s, each followed by `suffix`.
  auto spread = [](const std::vector<double>& v, double unit = 1e6, std::string_view suffix = "") {
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return fmt::format("{:.2f}{}..{:.2f}{}", *lo / unit, suffix, *hi / unit, suffix);
  };
  double full = median(full_rates), two_fields = median(two_field_rates), rep = median(replay_rates);
  long extra_kb = replay_last.max_rss_kb - full_last.max_rss_kb;
  double contracts = static_cast<double>(std::max<std::uint64_t>(1, replay_last.contracts));
  fmt::print("lines: {}  contracts: {}\n", replay_last.lines, replay_last.contracts);
  fmt::print("raw simdjson parse, every value: median {:.2f} M lines/s (runs {})\n", full / 1e6, spread(full_rates));
  fmt::print("raw simdjson parse, type + at:   median {:.2f} M lines/s (runs {})\n", two_fields / 1e6,
             spread(two_field_rates));
  fmt::print("replay end to end:               median {:.2f} M lines/s (runs {})\n", rep / 1e6, spread(replay_rates));
  fmt::print("replay / raw parse: {:.2f}x slower than every value, {:.2f}x than type + at\n", full / rep,
             two_fields / rep);
  // The same ratio per run, from phases run one after the other: on a host
  // whose speed drifts between runs, their median is the steadier figure.
  std::vector<double> run_ratios;
  for (std::size_t i = 0; i < replay_rates.size(); ++i) run_ratios.push_back(full_rates[i] / replay_rates[i]);
  fmt::print("replay / raw parse per run: {:.2f}x (median; runs {})\n", median(run_ratios), spread(run_ratios, 1, "x"));
  fmt::print("peak RSS: raw {} KB, replay {} KB; replay beyond raw: {:.0f} bytes/contract\n", full_last.max_rss_kb,
             replay_last.max_rss_kb, static_cast<double>(extra_kb) * 1024 / contracts);
  fmt::print("engine state (accounted): {:.0f} bytes/contract\n",
             static_cast<double>(replay_last.engine_bytes) / contracts);
  return 0;
}
