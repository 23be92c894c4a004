// Ingest throughput of `ghostwatch serve` over loopback HTTP with durable
// commits (issue #3), against `ghostwatch replay` of the same file as the
// ceiling; and, with --recovery, the time a crashed server takes to listen
// again.
//
//   build/bench/serve_ingest [--events 2000000] [--file PATH] [--batch 1000] [--repeat 3]
//                            [--data-dir DIR] [--out-dir DIR] [--binary PATH] [--config PATH]
//   build/bench/serve_ingest --recovery [--freelancers 160000] [--clients 65000] [--days 100]
//                            [--batch 1000] [--repeat 3] [--snapshot-every 1000000] [--file PATH]
//                            [--data-dir DIR] ...
//
// Ingest mode generates PATH with `ghostwatch simulate`'s generator when it
// is missing, then alternates, --repeat times:
//   replay: `ghostwatch replay` of the file, outputs in --out-dir (by default
//           under /dev/shm, as bench/replay_throughput does);
//   serve:  `ghostwatch serve --clock events --listen 127.0.0.1:0` on a fresh
//           data directory under --data-dir (by default /var/tmp, on the
//           disk: each commit is fsynced, SQLite WAL with synchronous=FULL),
//           fed the file in order as POST /v1/events bodies of --batch lines
//           over one keep-alive connection (cpp-httplib, TCP_NODELAY). One
//           connection, because in event-time mode the engine needs the
//           stream in order and the service applies one batch at a time.
// It reports lines/s and accepted events/s, requests/s, the client-side
// request latency percentiles, the server's CPU time, and the medians over
// the runs with the ratio to replay.
//
// Recovery mode builds a marketplace of about a million contracts and
// ingests it the same way (--batch may be raised to shorten this phase; the
// output says what was used) twice, into two data directories: one server
// replaying its whole log at a start (serve --snapshot-every 0) and one
// taking a snapshot every --snapshot-every log entries (serve's default).
// Then --repeat times, alternating the two, it kills each server with
// SIGKILL and restarts it on its data directory, measuring the wall time
// from spawn to the "listening" log line and the recovery_seconds it logs.
// The database files stay in the page cache: this is a process crash, not a
// machine restart.
#include <fmt/format.h>
#include <httplib.h>
#include <sys/vfs.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench_stats.h"
#include "child_process.h"
#include "ghostwatch/ingest/line_reader.h"
#include "ghostwatch/sim/marketplace.h"

namespace {

namespace fs = std::filesystem;
using gw::bench::ChildProcess;

struct Args {
  bool recovery = false;
  std::int64_t events = 2'000'000;
  std::int64_t freelancers = 160'000;
  std::int64_t clients = 65'000;
  std::int64_t days = 100;
  std::string file;
  std::size_t batch = 1000;
  int repeat = 3;
  std::uint64_t snapshot_every = 1'000'000;  // recovery mode's second server
  std::string data_dir = "/var/tmp";
  std::string out_dir = "/dev/shm";
  std::string binary = GHOSTWATCH_BINARY;
  std::string config = GHOSTWATCH_SOURCE_DIR "/examples/policy.toml";
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

using gw::bench::median;

// "median (lo..hi)" with `scale` and `digits` decimals.
std::string summary(const std::vector<double>& v, double scale, int digits) {
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return fmt::format("{:.{}f} ({:.{}f}..{:.{}f})", median(v) * scale, digits, *lo * scale, digits, *hi * scale,
                     digits);
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::string filesystem_kind(const std::string& path) {
  struct statfs s {};
  if (::statfs(path.c_str(), &s) != 0) return "unknown filesystem";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0x01021994: return "tmpfs, in memory";
    case 0xEF53: return "ext4, on disk";
    case 0x58465342: return "xfs, on disk";
    case 0x9123683E: return "btrfs, on disk";
    case 0x794C7630: return "overlayfs";
  }
  return fmt::format("filesystem type {:#x}", static_cast<unsigned long>(s.f_type));
}

// The value of `key=` in a text log line ("" when absent).
std::string log_field(const std::string& line, const std::string& key) {
  const std::size_t at = line.find(" " + key + "=");
  if (at == std::string::npos) return "";
  const std::size_t begin = at + key.size() + 2;
  return line.substr(begin, line.find(' ', begin) - begin);
}

void generate_if_missing(const std::string& path, const gw::sim::MarketplaceOptions& sim) {
  if (fs::exists(path)) return;
  fmt::print(stderr, "generating {} ({} freelancers, {} clients, {} days, seed {})...\n", path, sim.freelancers,
             sim.clients, sim.days, sim.seed);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path);
  auto stats = gw::sim::write_marketplace(sim, f);
  if (std::fclose(f) != 0 || !stats.complete) throw std::runtime_error("cannot write " + path);
  fmt::print(stderr, "  {} lines, {} contracts\n", stats.lines, stats.contracts);
}

std::uint64_t count_lines(const std::string& path) {
  gw::LineReader reader;
  if (!reader.open(path)) throw std::runtime_error("cannot read " + path);
  std::string_view line;
  std::size_t capacity;
  while (reader.next(line, capacity)) {
  }
  return reader.line_number();
}

// `ghostwatch replay` of the file; returns its wall seconds.
double run_replay(const Args& args, const std::string& file) {
  const std::string out = fs::path(args.out_dir) / "ghostwatch-serve-bench-replay";
  fs::create_directories(out);
  const auto t0 = std::chrono::steady_clock::now();
  ChildProcess replay({args.binary, "replay", "--config", args.config, "--events", file, "--actions",
                       out + "/actions.ndjson", "--episodes", out + "/episodes.ndjson", "--rejects",
                       out + "/rejects.ndjson"},
                      out + "/stderr.log");
  const int status = replay.wait().status;
  const double seconds = seconds_since(t0);
  if (status != 0) throw std::runtime_error("replay failed: " + replay.stderr_text());
  fs::remove_all(out);
  return seconds;
}

// A running `ghostwatch serve --clock events` and what its "listening" line said.
struct Server {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  double seconds_to_listen = 0;  // wall time from spawn to the "listening" line
  std::string listening_line;
};

// `snapshot_every`: serve's --snapshot-every (nullopt: its default).
Server start_server(const Args& args, const std::string& data, const std::string& log_path,
                    std::optional<std::uint64_t> snapshot_every = std::nullopt) {
  Server s;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> argv{args.binary, "serve",   "--config",     args.config, "--clock",
                                "events",    "--listen", "127.0.0.1:0", "--data",    data};
  if (snapshot_every) argv.insert(argv.end(), {"--snapshot-every", std::to_string(*snapshot_every)});
  s.process = std::make_unique<ChildProcess>(argv, log_path);
  auto line = s.process->wait_for_line(" listening ", std::chrono::seconds(3600));
  s.seconds_to_listen = seconds_since(t0);
  if (!line) throw std::runtime_error("serve did not start: " + s.process->stderr_text());
  s.listening_line = *line;
  const std::string url = log_field(*line, "url");
  s.port = std::atoi(url.c_str() + url.rfind(':') + 1);
  return s;
}

struct IngestResult {
  double seconds = 0;  // first request sent to last response received
  std::uint64_t lines = 0;
  std::uint64_t accepted = 0;
  std::uint64_t requests = 0;
  std::vector<double> latencies;  // seconds, sorted
};

// Posts the file in order, `batch` lines a request, over one connection.
IngestResult post_file(int port, const std::string& file, std::size_t batch) {
  httplib::Client client("127.0.0.1", port);
  client.set_tcp_nodelay(true);
  client.set_keep_alive(true);
  client.set_read_timeout(600, 0);
  client.set_write_timeout(600, 0);
  gw::LineReader reader;
  if (!reader.open(file)) throw std::runtime_error("cannot read " + file);
  IngestResult r;
  std::string body;
  std::size_t in_body = 0;
  auto post = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    auto res = client.Post("/v1/events", body, "application/x-ndjson");
    r.latencies.push_back(seconds_since(t0));
    if (!res || res->status != 200) {
      throw std::runtime_error(res ? fmt::format("POST /v1/events: {} {}", res->status, res->body)
                                   : "POST /v1/events: " + httplib::to_string(res.error()));
    }
    r.accepted += nlohmann::json::parse(res->body).at("accepted").get<std::uint64_t>();
    ++r.requests;
    body.clear();
    in_body = 0;
  };
  std::string_view line;
  std::size_t capacity;
  const auto t0 = std::chrono::steady_clock::now();
  while (reader.next(line, capacity)) {
    body.append(line).push_back('\n');
    if (++in_body == batch) post();
  }
  if (in_body > 0) post();
  r.seconds = seconds_since(t0);
  r.lines = reader.line_number();
  std::sort(r.latencies.begin(), r.latencies.end());
  return r;
}

std::string fresh_data_dir(const Args& args) {
  std::string tmpl = (fs::path(args.data_dir) / "ghostwatch-serve-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("cannot create a directory in " + args.data_dir);
  return tmpl;
}

void print_ingest(const IngestResult& r) {
  fmt::print("  serve: {} lines, {} accepted in {:.2f} s: {:.0f} lines/s, {:.0f} events/s, {:.0f} requests/s\n",
             r.lines, r.accepted, r.seconds, static_cast<double>(r.lines) / r.seconds,
             static_cast<double>(r.accepted) / r.seconds, static_cast<double>(r.requests) / r.seconds);
  fmt::print("  latency ms: p50 {:.2f}  p90 {:.2f}  p99 {:.2f}  max {:.2f}\n", percentile(r.latencies, 0.50) * 1e3,
             percentile(r.latencies, 0.90) * 1e3, percentile(r.latencies, 0.99) * 1e3, r.latencies.back() * 1e3);
}

int run_ingest(const Args& args) {
  const std::uint64_t lines = count_lines(args.file);
  fmt::print("file: {} ({} lines); batches of {} lines, 1 connection\n", args.file, lines, args.batch);
  fmt::print("serve data under {} ({}); replay outputs under {} ({})\n", args.data_dir,
             filesystem_kind(args.data_dir), args.out_dir, filesystem_kind(args.out_dir));
  std::vector<double> replay_rate, lines_rate, events_rate, request_rate, p50, p90, p99, max, ratio, cpu;
  for (int i = 1; i <= args.repeat; ++i) {
    const double replay_seconds = run_replay(args, args.file);
    replay_rate.push_back(static_cast<double>(lines) / replay_seconds);
    fmt::print("run {}: replay {:.2f} s: {:.0f} lines/s\n", i, replay_seconds, replay_rate.back());

    const std::string data = fresh_data_dir(args);
    Server server = start_server(args, data, data + "/serve.log");
    const IngestResult r = post_file(server.port, args.file, args.batch);
    server.process->signal(SIGTERM);
    const gw::bench::ChildExit& exit = server.process->wait();
    print_ingest(r);
    fmt::print("  server CPU: user {:.2f} s, system {:.2f} s ({:.0f}% of the wall time)\n", exit.cpu_user_seconds,
               exit.cpu_system_seconds, (exit.cpu_user_seconds + exit.cpu_system_seconds) / r.seconds * 100);
    fs::remove_all(data);

    lines_rate.push_back(static_cast<double>(r.lines) / r.seconds);
    events_rate.push_back(static_cast<double>(r.accepted) / r.seconds);
    request_rate.push_back(static_cast<double>(r.requests) / r.seconds);
    p50.push_back(percentile(r.latencies, 0.50));
    p90.push_back(percentile(r.latencies, 0.90));
    p99.push_back(percentile(r.latencies, 0.99));
    max.push_back(r.latencies.back());
    ratio.push_back(replay_rate.back() / lines_rate.back());
    cpu.push_back((exit.cpu_user_seconds + exit.cpu_system_seconds) / r.seconds);
    std::fflush(stdout);
  }
  fmt::print("medians over {} runs (min..max):\n", args.repeat);
  fmt::print("  serve ingest:   {} k events/s, {} k lines/s, {} requests/s\n", summary(events_rate, 1e-3, 1),
             summary(lines_rate, 1e-3, 1), summary(request_rate, 1, 0));
  fmt::print("  latency ms:     p50 {}  p90 {}  p99 {}  max {}\n", summary(p50, 1e3, 2), summary(p90, 1e3, 2),
             summary(p99, 1e3, 2), summary(max, 1e3, 2));
  fmt::print("  server CPU:     {} % of the wall time\n", summary(cpu, 100, 0));
  fmt::print("  replay ceiling: {} k lines/s\n", summary(replay_rate, 1e-3, 1));
  fmt::print("  replay / serve: {}x (same run)\n", summary(ratio, 1, 2));
  return 0;
}

int run_recovery(const Args& args) {
  fmt::print("file: {} ({} lines)\n", args.file, count_lines(args.file));
  struct Setup {
    const char* name;
    std::uint64_t snapshot_every;
    std::string data;
    std::vector<double> wall, recovery;
  };
  std::vector<Setup> setups = {{"whole log (--snapshot-every 0)", 0, {}, {}, {}},
                               {"snapshots (--snapshot-every N)", args.snapshot_every, {}, {}, {}}};
  for (Setup& setup : setups) {
    setup.data = fresh_data_dir(args);
    fmt::print("{}: data {} ({}), ingesting in batches of {} lines{}...\n", setup.name, setup.data,
               filesystem_kind(setup.data), args.batch,
               args.batch == 1000 ? "" : " (larger than the API benchmark's 1,000, to shorten this phase)");
    std::fflush(stdout);
    Server server = start_server(args, setup.data, setup.data + "/serve-0.log", setup.snapshot_every);
    const IngestResult r = post_file(server.port, args.file, args.batch);
    print_ingest(r);
    server.process->signal(SIGKILL);
    server.process->wait();
    std::error_code ec;
    const std::string db = setup.data + "/ghostwatch.db";
    fmt::print("database: {:.2f} GB (with its WAL: {:.2f} GB)\n", static_cast<double>(fs::file_size(db, ec)) / 1e9,
               static_cast<double>(fs::file_size(db, ec) + fs::file_size(db + "-wal", ec)) / 1e9);
  }
  for (int i = 1; i <= args.repeat; ++i) {
    for (Setup& setup : setups) {
      Server server =
          start_server(args, setup.data, fmt::format("{}/serve-{}.log", setup.data, i), setup.snapshot_every);
      setup.wall.push_back(server.seconds_to_listen);
      setup.recovery.push_back(std::atof(log_field(server.listening_line, "recovery_seconds").c_str()));
      fmt::print("{}: restart {} after SIGKILL: listening after {:.2f} s wall, recovery_seconds={:.2f}, {} log "
                 "entries\n",
                 setup.name, i, setup.wall.back(), setup.recovery.back(),
                 log_field(server.listening_line, "recovered_log_entries"));
      std::fflush(stdout);
      server.process->signal(SIGKILL);
      server.process->wait();
    }
  }
  for (Setup& setup : setups) {
    fmt::print("{}: medians over {} restarts (min..max): wall to listening {} s, recovery_seconds {} s\n", setup.name,
               args.repeat, summary(setup.wall, 1, 2), summary(setup.recovery, 1, 2));
    fs::remove_all(setup.data);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--recovery") {
      args.recovery = true;
      continue;
    }
    if (i + 1 == argc) {
      fmt::print(stderr, "{}: missing value\n", flag);
      return 2;
    }
    const char* v = argv[++i];
    if (flag == "--events") args.events = std::atoll(v);
    else if (flag == "--freelancers") args.freelancers = std::atoll(v);
    else if (flag == "--clients") args.clients = std::atoll(v);
    else if (flag == "--days") args.days = std::atoll(v);
    else if (flag == "--file") args.file = v;
    else if (flag == "--batch") args.batch = std::max<std::size_t>(1, std::strtoull(v, nullptr, 10));
    else if (flag == "--repeat") args.repeat = std::max(1, std::atoi(v));
    else if (flag == "--snapshot-every") args.snapshot_every = std::strtoull(v, nullptr, 10);
    else if (flag == "--data-dir") args.data_dir = v;
    else if (flag == "--out-dir") args.out_dir = v;
    else if (flag == "--binary") args.binary = v;
    else if (flag == "--config") args.config = v;
    else {
      fmt::print(stderr, "unknown option {}\n", flag);
      return 2;
    }
  }
  gw::sim::MarketplaceOptions sim;
  sim.seed = 2;
  if (args.recovery) {
    sim.freelancers = args.freelancers;
    sim.clients = args.clients;
    sim.days = args.days;
  } else {
    sim.days = 80;
    sim.freelancers = static_cast<std::int64_t>(static_cast<double>(args.events) / gw::sim::kEventsPerFreelancerDay /
                                                static_cast<double>(sim.days));
    sim.clients = sim.freelancers * 2 / 5;
  }
  if (args.file.empty()) {
    args.file = args.recovery ? fmt::format("/var/tmp/ghostwatch-bench-recovery-{}.ndjson", sim.freelancers)
                              : fmt::format("/tmp/ghostwatch-bench-serve-{}.ndjson", args.events);
  }
  try {
    generate_if_missing(args.file, sim);
    return args.recovery ? run_recovery(args) : run_ingest(args);
  } catch (const std::exception& e) {
    fmt::print(stderr, "serve_ingest: {}\n", e.what());
    return 1;
  }
}
