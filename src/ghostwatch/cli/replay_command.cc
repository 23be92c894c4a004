// `ghostwatch replay`: spec section 6.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "ghostwatch/cli/commands.h"
#include "ghostwatch/replay/replay.h"
#include "ghostwatch/risk/risk_model.h"

namespace gw::cli {
namespace {

struct ReplayArgs {
  std::string config;
  std::string events;
  std::string until;
  std::string actions, episodes, rejects;
  std::string model;
  bool strict = false;
};

std::string summary(const ReplayStats& s, double seconds) {
  std::string out = fmt::format("ghostwatch replay: {} lines, {} events accepted, {} rejected", s.lines, s.accepted,
                                s.rejected());
  if (s.rejected() > 0) {
    std::string parts;
    for (std::size_t r = 1; r < kRejectReasonCount; ++r) {
      if (s.rejects[r] == 0) continue;
      parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", reject_reason_name(static_cast<RejectReason>(r)),
                           s.rejects[r]);
    }
    out += " (" + parts + ")";
  }
  out += fmt::format("\n  contracts: {}\n  episodes: {} replied, {} contract_ended, {} open\n", s.contracts,
                     s.episodes[0], s.episodes[1], s.episodes[2]);
  out += fmt::format("  decisions: {} sent, {} held_out, {} suppressed, {} skipped\n", s.decisions[0], s.decisions[1],
                     s.decisions[2], s.decisions[3]);
  double rate = seconds > 0 ? static_cast<double>(s.lines) / seconds : 0;
  out += fmt::format("  {:.2f} s, {:.2f} M lines/s, {:.1f} MB/s\n", seconds, rate / 1e6,
                     seconds > 0 ? static_cast<double>(s.bytes) / seconds / 1e6 : 0);
  return out;
}

int run(const ReplayArgs& args) {
  auto policy = load_policy(args.config);
  if (!policy) {
    fmt::print(stderr, "ghostwatch replay: bad config: {}\n", policy.message());
    return kExitUsage;
  }
  for (const auto& key : policy->unknown_keys) {
    fmt::print(stderr, "ghostwatch replay: warning: {}: unknown key {} ignored\n", args.config, key);
  }
  std::optional<risk::RiskModel> model;
  if (!args.model.empty()) {
    auto loaded = risk::RiskModel::load(args.model);
    if (!loaded) {
      fmt::print(stderr, "ghostwatch replay: bad model: {}\n", loaded.message());
      return kExitUsage;
    }
    model.emplace(std::move(*loaded));
  }
  if (Status s = require_risk_model(*policy, args.config, model.has_value()); !s) {
    fmt::print(stderr, "ghostwatch replay: bad config: {}\n", s.message());
    return kExitUsage;
  }
  ReplayOptions options;
  options.risk_model = model ? &*model : nullptr;
  options.events_path = args.events;
  if (!args.until.empty()) {
    options.until = parse_rfc3339(args.until);
    if (!options.until) {
      fmt::print(stderr, "ghostwatch replay: --until: must be an RFC 3339 timestamp, not \"{}\"\n", args.until);
      return kExitUsage;
    }
  }
  options.actions_path = args.actions;
  options.episodes_path = args.episodes;
  options.rejects_path = args.rejects;
  options.strict = args.strict;

  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  ReplayProgress progress;
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  if (tty) {
    progress = [&](const ReplayStats& s) {
      double t = elapsed();
      fmt::print(stderr, "\r  {} lines, {} rejected, {:.1f} MB, {:.2f} M lines/s   ", s.lines, s.rejected(),
                 static_cast<double>(s.bytes) / 1e6, t > 0 ? static_cast<double>(s.lines) / t / 1e6 : 0);
    };
  }
  auto stats = run_replay(*policy, options, progress);
  if (tty) fmt::print(stderr, "\r\033[K");
  if (!stats) {
    fmt::print(stderr, "ghostwatch replay: {}\n", stats.message());
    return kExitUsage;
  }
  if (stats->strict_reason != RejectReason::kNone) {
    fmt::print(stderr, "ghostwatch replay: {}:{}: rejected ({}); --strict: stopping, no output written\n", args.events,
               stats->strict_line, reject_reason_name(stats->strict_reason));
    return kExitUsage;
  }
  fmt::print(stderr, "{}", summary(*stats, elapsed()));
  return kExitOk;
}

}  // namespace

void add_replay_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* cmd = app.add_subcommand("replay", "Run the engine over an NDJSON event file (event time)");
  cmd->add_option("--config", args->config, "Policy TOML file")->required();
  cmd->add_option("--events", args->events, "NDJSON events file, or - for standard input")->required();
  cmd->add_option("--until", args->until, "Evaluate steps due at or before this time at the end (RFC 3339)");
  cmd->add_option("--actions", args->actions, "Write step decisions (NDJSON) here");
  cmd->add_option("--episodes", args->episodes, "Write episode records (NDJSON) here");
  cmd->add_option("--rejects", args->rejects, "Write rejected lines (NDJSON) here");
  cmd->add_option("--model", args->model,
                  "Risk model (from train): every episode is scored at its opening and its records carry `risk`");
  cmd->add_flag("--strict", args->strict, "Stop at the first rejected line with exit status 2");
  cmd->callback([args, &exit_status] { exit_status = run(*args); });
}

}  // namespace gw::cli
