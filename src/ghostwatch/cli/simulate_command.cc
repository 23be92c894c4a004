// `ghostwatch simulate`: writes a deterministic synthetic marketplace as
// NDJSON events (see ghostwatch/sim/marketplace.h for the model); with
// --policy, in a closed loop with the engine, whose nudges the freelancers
// react to as --effect says (docs/simulation.md).
#include <fmt/core.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ghostwatch/cli/commands.h"
#include "ghostwatch/core/atomic_file.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/policy/policy.h"
#include "ghostwatch/sim/closed_loop.h"
#include "ghostwatch/sim/marketplace.h"

namespace gw::cli {
namespace {

struct SimulateFlags {
  std::string seed = "1";  // parsed by run_simulate: CLI11 reads "-1" as 2^64 - 1
  std::int64_t freelancers = 1000;
  std::int64_t clients = 500;
  std::int64_t days = 30;
  std::string start = "2019-08-01T00:00:00Z";
  double bad_lines = 0.002;
  std::string out = "-";
  std::string policy;  // empty: open loop
  std::string effect;  // empty: none
};

// --effect: "none", or "reply24h=P" / "reply24h=+P" with P a probability.
// Returns an error message, or "" with `lift` set.
std::string parse_effect(std::string_view text, double& lift) {
  lift = 0;
  if (text.empty() || text == "none") return "";
  constexpr std::string_view kKey = "reply24h=";
  std::string_view value = text;
  if (value.substr(0, kKey.size()) != kKey) {
    return "--effect must be 'none' or 'reply24h=+P' (P from 0 to 1), got '" + std::string(text) + "'";
  }
  value.remove_prefix(kKey.size());
  if (!value.empty() && value.front() == '+') value.remove_prefix(1);
  const char* end = value.data() + value.size();
  const auto [stop, error] = std::from_chars(value.data(), end, lift);
  if (value.empty() || error != std::errc() || stop != end || !(lift >= 0.0 && lift <= 1.0)) {
    return "--effect reply24h must be a probability from 0 to 1, got '" + std::string(text) + "'";
  }
  return "";
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One line: what was written, and how fast. `generating` is the time to
// generate and write; `syncing` the time to make the file durable.
void print_summary(const sim::MarketplaceStats& s, const sim::MarketplaceOptions& o, bool closed_loop,
                   double generating, double syncing) {
  const auto profile = [&s](sim::Profile p) { return s.freelancers_by_profile[static_cast<std::size_t>(p)]; };
  fmt::print(stderr,
             "ghostwatch simulate: {} events + {} bad lines, {} contracts ({} ended), {} messages; "
             "{} freelancers (fast {}, slow {}, ghoster {}), {} clients, {} days; "
             "{:.2f} s, {:.2f} M lines/s",
             s.events, s.bad_lines, s.contracts, s.contracts_ended, s.messages, o.freelancers,
             profile(sim::Profile::kFast), profile(sim::Profile::kSlow), profile(sim::Profile::kGhoster), o.clients,
             o.days, generating, generating > 0 ? static_cast<double>(s.lines) / generating / 1e6 : 0.0);
  if (syncing > 0) fmt::print(stderr, " (+{:.2f} s to sync the file)", syncing);
  fmt::print(stderr, "\n");
  if (closed_loop) {
    fmt::print(stderr,
               "  closed loop: {} nudges sent, {} to a freelancer with no reply planned within 24 h, "
               "{} converted into a reply ({} learnt of after 24 h)\n",
               s.nudges, s.nudges_eligible, s.nudges_converted, s.late_conversions);
  }
}

// Output goes to stdout, or through an AtomicFile, so that an interrupted
// run never leaves a half file under the final name.
int run_simulate(const SimulateFlags& flags) {
  sim::MarketplaceOptions options;
  const char* seed_end = flags.seed.data() + flags.seed.size();
  const auto [seed_stop, seed_error] = std::from_chars(flags.seed.data(), seed_end, options.seed);
  if (flags.seed.empty() || seed_error != std::errc() || seed_stop != seed_end) {
    print_command_error("simulate",
                        "--seed must be an integer from 0 to 18446744073709551615, got '" + flags.seed + "'");
    return kExitUsage;
  }
  options.freelancers = flags.freelancers;
  options.clients = flags.clients;
  options.days = flags.days;
  options.bad_line_share = flags.bad_lines;
  const std::optional<Instant> start = parse_rfc3339(flags.start);
  if (!start) {
    print_command_error("simulate",
                        "--start must be an RFC 3339 time such as 2019-08-01T00:00:00Z, got '" + flags.start + "'");
    return kExitUsage;
  }
  options.start = *start;
  if (const std::string problem = parse_effect(flags.effect, options.reply_24h_lift); !problem.empty()) {
    print_command_error("simulate", problem);
    return kExitUsage;
  }
  if (flags.policy.empty() && !flags.effect.empty()) {
    print_command_error("simulate", "--effect needs --policy: nudges come from the engine running that policy");
    return kExitUsage;
  }
  if (const std::string problem = sim::check_options(options); !problem.empty()) {
    print_command_error("simulate", problem);
    return kExitUsage;
  }
  std::optional<Policy> policy;
  std::unique_ptr<sim::EngineFeedback> feedback;
  if (!flags.policy.empty()) {
    Result<Policy> loaded = load_policy(flags.policy);
    if (!loaded) {
      print_command_error("simulate", "bad config: " + loaded.message());
      return kExitUsage;
    }
    policy = std::move(*loaded);
    feedback = std::make_unique<sim::EngineFeedback>(*policy);
  }

  const Clock::time_point began = Clock::now();
  sim::MarketplaceStats stats;
  double generating = 0;
  double syncing = 0;
  if (flags.out.empty() || flags.out == "-") {
    stats = sim::write_marketplace(options, stdout, feedback.get());
    if (!stats.complete || std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
      print_command_error("simulate", std::string("cannot write to standard output: ") + std::strerror(errno));
      return kExitFailure;
    }
    generating = seconds_since(began);
  } else {
    AtomicFile file;
    if (const Status opened = file.open(flags.out); !opened) {
      print_command_error("simulate", opened.message());
      return kExitUsage;
    }
    stats = sim::generate_marketplace(
        options,
        [&file](std::string_view chunk) {
          file.write(chunk);
          return true;  // AtomicFile reports write errors at commit
        },
        feedback.get());
    generating = seconds_since(began);
    const Clock::time_point commit_began = Clock::now();
    if (const Status committed = file.commit(); !committed) {
      print_command_error("simulate", committed.message());
      return kExitFailure;
    }
    syncing = seconds_since(commit_began);
  }
  print_summary(stats, options, feedback != nullptr, generating, syncing);
  return kExitOk;
}

}  // namespace

void add_simulate_command(CLI::App& app, int& exit_status) {
  CLI::App* cmd = app.add_subcommand("simulate", "Write a deterministic synthetic marketplace as NDJSON events");
  auto flags = std::make_shared<SimulateFlags>();
  cmd->add_option("--seed", flags->seed, "Random seed; the same seed and options give the same bytes")
      ->capture_default_str();
  cmd->add_option("--freelancers", flags->freelancers, "Number of freelancers")->capture_default_str();
  cmd->add_option("--clients", flags->clients, "Number of clients")->capture_default_str();
  cmd->add_option("--days", flags->days, "Simulated days")->capture_default_str();
  cmd->add_option("--start", flags->start, "Start time (RFC 3339)")->capture_default_str();
  cmd->add_option("--bad-lines", flags->bad_lines, "Share of deliberately bad lines, 0..0.5")->capture_default_str();
  cmd->add_option("--out", flags->out, "Output file; '-' is standard output")->capture_default_str();
  cmd->add_option("--policy", flags->policy,
                  "Closed loop: run the engine with this policy (TOML) and let freelancers react to its nudges");
  cmd->add_option("--effect", flags->effect,
                  "With --policy: 'none' (A/A) or 'reply24h=+P': a nudged freelancer with no reply planned "
                  "within 24 h replies within 24 h with probability P");
  cmd->callback([flags, &exit_status] { exit_status = run_simulate(*flags); });
}

}  // namespace gw::cli
