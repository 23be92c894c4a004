// `ghostwatch report` over a large campaign (issue #6: a report over 10 M
// episodes in under a minute):
//
//   build/bench/report_throughput [--episodes 10000000] [--dir DIR] [--repeat 1]
//
// Writes DIR/episodes.ndjson and DIR/actions.ndjson (DIR defaults to
// /dev/shm/ghostwatch-report-bench; files already there with the same
// episode count are reused) with the engine's own record formatters
// (output/record_json.h), from a synthetic campaign:
//   * one freelancer per 8 episodes, one contract per 4, ids as the
//     simulator writes them; 10 % of freelancers in control, 80 % in segment;
//   * episodes open over 120 days; 85 % replied (70 % of those within 24 h),
//     8 % end with the contract (half of those cancelled or replaced), 7 %
//     open;
//   * every in-segment episode still unanswered at 24 h, 72 h, 120 h gets a
//     decision there (nudge, nudge, escalate): sent in treatment (3 % of
//     nudges suppressed), held_out in control.
// Then runs the report as `ghostwatch report` does, in phases (load both
// files, compute, format JSON and HTML), --repeat times, and prints each
// phase's time, the total, and the peak RSS.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ghostwatch/engine/records.h"
#include "ghostwatch/output/record_json.h"
#include "ghostwatch/report/experiment.h"
#include "ghostwatch/report/report_html.h"
#include "ghostwatch/report/report_input.h"
#include "ghostwatch/report/report_json.h"

namespace {

double bench_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::uint64_t bench_mix(std::uint64_t x) {  // splitmix64's finaliser: a hash of x
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A buffered NDJSON file.
class BenchWriter {
 public:
  explicit BenchWriter(const std::string& path) : file_(std::fopen(path.c_str(), "wb")) {}
  ~BenchWriter() {
    flush();
    if (file_ != nullptr) std::fclose(file_);
  }
  bool ok() const { return file_ != nullptr; }
  std::string& buffer() { return buffer_; }
  void line_done() {
    if (buffer_.size() >= (1u << 20)) flush();
  }

 private:
  void flush() {
    if (file_ != nullptr) std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
    buffer_.clear();
  }
  std::FILE* file_;
  std::string buffer_;
};

bool write_campaign(const std::string& dir, std::int64_t episodes) {
  BenchWriter ep(dir + "/episodes.ndjson");
  BenchWriter ac(dir + "/actions.ndjson");
  if (!ep.ok() || !ac.ok()) return false;
  const gw::Instant start = 1'564'617'600'000;  // 2019-08-01T00:00:00Z
  const std::int64_t contracts = std::max<std::int64_t>(1, episodes / 4);
  const std::int64_t freelancers = std::max<std::int64_t>(1, episodes / 8);
  std::string contract, freelancer, client;
  constexpr gw::Duration kSteps[] = {24 * gw::kHour, 72 * gw::kHour, 120 * gw::kHour};
  for (std::int64_t i = 0; i < episodes; ++i) {
    const std::int64_t c = i % contracts;
    const std::uint64_t r = bench_mix(static_cast<std::uint64_t>(i));
    const std::uint64_t f = bench_mix(static_cast<std::uint64_t>(c) ^ 0xf1) % static_cast<std::uint64_t>(freelancers);
    contract = fmt::format("c{:08d}", c);
    freelancer = fmt::format("fl{}", f);
    client = fmt::format("cl{}", c % 50'000);
    gw::EpisodeRecord e;
    e.contract = contract;
    e.episode = static_cast<std::uint32_t>(i / contracts + 1);
    e.freelancer = freelancer;
    e.client = client;
    e.arm = bench_mix(f ^ 0xa7) % 10 == 0 ? gw::Arm::kControl : gw::Arm::kTreatment;
    e.in_segment = bench_mix(f ^ 0x5e) % 5 != 0;
    e.opened_at = start + static_cast<gw::Instant>(r % (120 * gw::kDay));
    const std::uint64_t u = (r >> 20) % 100;
    const gw::Duration after = static_cast<gw::Duration>((r >> 40) % (8 * gw::kDay));
    gw::Instant decided_until = e.opened_at + 200 * gw::kHour;  // no close: every step is decided
    if (u < 85) {
      e.outcome = gw::Outcome::kReplied;
      e.closed_at = e.opened_at + ((r >> 8) % 10 < 7 ? after % (24 * gw::kHour) : 24 * gw::kHour + after);
      decided_until = e.closed_at;
    } else if (u < 93) {
      e.outcome = gw::Outcome::kContractEnded;
      e.closed_at = e.opened_at + after;
      e.has_end_reason = true;
      e.end_reason = u < 89 ? "completed" : (u < 91 ? "cancelled" : "replaced");
      decided_until = e.closed_at;
    }
    for (std::uint32_t s = 0; s < 3 && e.in_segment && e.opened_at + kSteps[s] < decided_until; ++s) {
      gw::Decision d;
      d.at = e.opened_at + kSteps[s];
      d.contract = contract;
      d.episode = e.episode;
      d.step = s + 1;
      d.action = s < 2 ? gw::StepAction::kNudge : gw::StepAction::kEscalate;
      d.target = s < 2 ? "reminder" : "support";
      d.freelancer = freelancer;
      d.client = client;
      d.arm = e.arm;
      if (e.arm == gw::Arm::kControl) {
        d.status = gw::DecisionStatus::kHeldOut;
      } else if (s < 2 && (r >> 50) % 100 < 3) {
        d.status = gw::DecisionStatus::kSuppressed;
        d.reason = gw::DecisionReason::kOptedOut;
      } else {
        d.status = gw::DecisionStatus::kSent;
        ++e.steps_sent;
      }
      gw::append_decision_json(ac.buffer(), d);
      ac.line_done();
    }
    gw::append_episode_json(ep.buffer(), e);
    ep.line_done();
  }
  return true;
}

long bench_peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

// User + system CPU seconds so far: on a shared machine the wall time also
// measures the neighbours.
double bench_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t episodes = 10'000'000;
  std::string dir = "/dev/shm/ghostwatch-report-bench";
  int repeat = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--episodes") == 0) {
      episodes = std::atoll(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--dir") == 0) {
      dir = argv[i + 1];
    } else if (std::strcmp(argv[i], "--repeat") == 0) {
      repeat = std::atoi(argv[i + 1]);
    } else {
      fmt::print(stderr, "usage: report_throughput [--episodes N] [--dir DIR] [--repeat N]\n");
      return 2;
    }
  }
  std::filesystem::create_directories(dir);
  const std::string stamp = dir + "/episodes.count";
  std::string have;
  if (std::FILE* f = std::fopen(stamp.c_str(), "r")) {
    char buf[32] = {};
    have = std::fgets(buf, sizeof buf, f) != nullptr ? buf : "";
    std::fclose(f);
  }
  if (have != std::to_string(episodes)) {
    const double t0 = bench_seconds();
    if (!write_campaign(dir, episodes)) {
      fmt::print(stderr, "report_throughput: cannot write to {}\n", dir);
      return 1;
    }
    if (std::FILE* f = std::fopen(stamp.c_str(), "w")) {
      std::fputs(std::to_string(episodes).c_str(), f);
      std::fclose(f);
    }
    fmt::print("generated {} episodes in {:.1f} s\n", episodes, bench_seconds() - t0);
  }
  const auto size_mb = [&](const char* name) {
    return static_cast<double>(std::filesystem::file_size(dir + "/" + name)) / 1e6;
  };
  fmt::print("inputs: episodes.ndjson {:.0f} MB, actions.ndjson {:.0f} MB\n", size_mb("episodes.ndjson"),
             size_mb("actions.ndjson"));

  gw::report::ReportOptions options;
  options.campaign = "bench";
  options.holdout_percent = 10;
  options.first_step_after = 24 * gw::kHour;
  options.campaign_start = 1'564'617'600'000 + 14 * gw::kDay;
  for (int run = 0; run < repeat; ++run) {
    const double t0 = bench_seconds();
    const double cpu0 = bench_cpu_seconds();
    auto input = gw::report::load_report_input(dir + "/episodes.ndjson", dir + "/actions.ndjson");
    if (!input) {
      fmt::print(stderr, "report_throughput: {}\n", input.message());
      return 1;
    }
    const double t1 = bench_seconds();
    const gw::report::ExperimentReport report = gw::report::compute_experiment(*input, options);
    const double t2 = bench_seconds();
    const std::string json = gw::report::experiment_json(report);
    const std::string html = gw::report::experiment_html(report);
    const double t3 = bench_seconds();
    fmt::print(
        "run {}: {} episodes ({} in the population): load {:.1f} s, compute {:.1f} s, JSON + HTML {:.2f} s; "
        "total {:.1f} s ({:.2f} M episodes/s; CPU {:.1f} s); peak RSS {} MB\n",
        run + 1, input->episodes.size(),
        report.arm(gw::Arm::kTreatment).episodes + report.arm(gw::Arm::kControl).episodes, t1 - t0, t2 - t1, t3 - t2,
        t3 - t0, static_cast<double>(input->episodes.size()) / (t3 - t0) / 1e6, bench_cpu_seconds() - cpu0,
        bench_peak_rss_mb());
    if (json.size() < 100 || html.size() < 100) return 1;
  }
  return 0;
}
