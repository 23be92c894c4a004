// `ghostwatch publish`: bulk-loads an NDJSON event file into the event log
// (docs/operations.md, "Scaling out: the event log"), as POST /v1/events
// does in bus mode, a block of lines per transaction. Each block's
// Idempotency-Key is its first line number and SHA-256, so publishing the
// same file again publishes nothing twice. A block refused for now (a
// server away) is sent again for up to two minutes before publish gives up;
// a block recorded while the bus failed goes out before the next one, and
// publish ends once the bus has taken every recorded message.
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ghostwatch/bus/event_publisher.h"
#include "ghostwatch/cli/commands.h"
#include "ghostwatch/core/hex.h"
#include "ghostwatch/engine/event.h"

namespace gw::cli {
namespace {

struct PublishArgs {
  std::string config;
  std::string bus;
  std::string store;
  std::string file;
  std::int64_t in_flight = 4096;
};

// Bytes read per block; a block ends at its last newline.
constexpr std::size_t kPublishBlock = 4u << 20;
// How long a block refused with 503 is retried.
constexpr auto kRetryFor = std::chrono::minutes(2);

struct PublishTotals {
  std::uint64_t lines = 0, accepted = 0, rejected = 0, messages = 0, duplicates = 0, replayed_blocks = 0;
  std::array<std::uint64_t, kRejectReasonCount> reasons{};
};

// Adds a block's reply (its JSON body, also when replayed) to the totals.
void add_reply(const bus::PublishReply& reply, PublishTotals& t) {
  const nlohmann::json body = nlohmann::json::parse(reply.body);
  t.accepted += body.at("accepted").get<std::uint64_t>();
  t.rejected += body.at("rejected").get<std::uint64_t>();
  for (const auto& r : body.at("rejects")) {
    for (std::size_t i = 1; i < kRejectReasonCount; ++i) {
      if (r.at("reason") == reject_reason_name(static_cast<RejectReason>(i))) ++t.reasons[i];
    }
  }
  t.messages += reply.messages;
  t.duplicates += reply.duplicates;
  if (reply.replayed) ++t.replayed_blocks;
}

// Calls `attempt` until `refused` (the reason, or empty) says it was not
// refused for now, after 1, 2, 4, ... 16 s, for up to kRetryFor.
template <typename Attempt, typename Refused>
auto retry_refused(const std::string& what, Attempt attempt, Refused refused) {
  auto result = attempt();
  const auto refused_at = std::chrono::steady_clock::now();
  for (auto pause = std::chrono::seconds(1);;
       pause = std::min<std::chrono::seconds>(2 * pause, std::chrono::seconds(16))) {
    const std::string why = refused(result);
    if (why.empty() || std::chrono::steady_clock::now() - refused_at >= kRetryFor) return result;
    fmt::print(stderr, "ghostwatch publish: {} refused for now, again in {} s: {}\n", what, pause.count(), why);
    std::this_thread::sleep_for(pause);
    result = attempt();
  }
}

std::string publish_summary(const PublishTotals& t, std::uint32_t partitions, double seconds) {
  std::string out =
      fmt::format("ghostwatch publish: {} lines, {} events accepted, {} rejected", t.lines, t.accepted, t.rejected);
  std::string parts;
  for (std::size_t r = 1; r < kRejectReasonCount; ++r) {
    if (t.reasons[r] == 0) continue;
    parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", reject_reason_name(static_cast<RejectReason>(r)),
                         t.reasons[r]);
  }
  if (!parts.empty()) out += " (" + parts + ")";
  out += fmt::format("\n  {} messages stored on {} partitions, {} duplicates dropped, {} blocks published before\n",
                     t.messages, partitions, t.duplicates, t.replayed_blocks);
  out += fmt::format("  {:.2f} s, {:.0f} events/s, {:.0f} messages/s\n", seconds,
                     seconds > 0 ? static_cast<double>(t.accepted) / seconds : 0,
                     seconds > 0 ? static_cast<double>(t.messages) / seconds : 0);
  return out;
}

int run(const PublishArgs& args) {
  auto fail = [](const std::string& message) {
    print_command_error("publish", message);
    return kExitUsage;
  };
  std::ifstream config_in(args.config, std::ios::binary);
  if (!config_in) return fail(fmt::format("--config {}: cannot read it", args.config));
  std::ostringstream config_text;
  config_text << config_in.rdbuf();
  std::vector<std::string> unknown;
  auto settings = bus::bus_settings(config_text.str(), args.config, args.bus, &unknown);
  if (!settings) return fail("bad config: " + settings.message());
  for (const auto& key : unknown) {
    fmt::print(stderr, "ghostwatch publish: warning: {}: unknown key {} ignored\n", args.config, key);
  }
  if (!settings->has_value()) return fail("no bus: give --bus nats://HOST:PORT or a [bus] section in the config");
  if (args.store.rfind("postgres://", 0) != 0 && args.store.rfind("postgresql://", 0) != 0) {
    return fail(
        fmt::format("--store: the event log needs a PostgreSQL store (postgres://...), not \"{}\"", args.store));
  }
  std::ifstream in(args.file, std::ios::binary);
  if (!in) return fail(fmt::format("{}: cannot read it", args.file));

  SystemClock clock;
  auto publisher = bus::EventPublisher::open(**settings, args.store, clock, args.in_flight);
  if (!publisher) return fail(publisher.message());

  const auto started = std::chrono::steady_clock::now();
  PublishTotals totals;
  std::string block;
  std::string carry;
  std::vector<char> buffer(kPublishBlock);
  for (;;) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    block = std::move(carry);
    block.append(buffer.data(), got);
    carry.clear();
    const bool last = got == 0 || in.eof();
    if (!last) {
      const std::size_t nl = block.rfind('\n');
      if (nl == std::string::npos) {
        carry = std::move(block);
        continue;
      }
      carry.assign(block, nl + 1);
      block.resize(nl + 1);
    }
    if (!block.empty()) {
      std::uint64_t lines = static_cast<std::uint64_t>(std::count(block.begin(), block.end(), '\n'));
      if (block.back() != '\n') ++lines;
      const std::string key = fmt::format("publish:{}:{}", totals.lines + 1, sha256_hex(block));
      const std::string what = fmt::format("lines {} to {}", totals.lines + 1, totals.lines + lines);
      // Refused for now (503: a JetStream or PostgreSQL server away, e.g.
      // restarting; nothing recorded): the same block under the same key again.
      const bus::PublishReply reply = retry_refused(
          what, [&] { return (*publisher)->publish(block, key, totals.lines + 1); },
          [](const bus::PublishReply& r) { return r.status == 503 ? r.body : std::string(); });
      if (reply.status == 202) {
        fmt::print(stderr, "ghostwatch publish: {} recorded; they go out before the next ones: {}\n", what, reply.body);
      } else if (reply.status != 200) {
        print_command_error("publish",
                            fmt::format("lines {} to {}: {}", totals.lines + 1, totals.lines + lines, reply.body));
        fmt::print(stderr, "{}", publish_summary(totals, (**settings).partitions, 0));
        return kExitFailure;
      }
      add_reply(reply, totals);
      totals.lines += lines;
    }
    if (last) break;
  }
  // The messages recorded while the bus failed, if any.
  const auto flushed = retry_refused(
      "the recorded messages", [&] { return (*publisher)->flush_pending(); },
      [](const Result<bus::JetStream::Acks>& r) { return r ? std::string() : r.message(); });
  if (!flushed) {
    print_command_error("publish", fmt::format("every line is recorded, but the bus did not take all of them: {}; "
                                               "the next publish or serve --bus sends them",
                                               flushed.message()));
    fmt::print(stderr, "{}", publish_summary(totals, (**settings).partitions, 0));
    return kExitFailure;
  }
  totals.messages += flushed->stored;
  totals.duplicates += flushed->duplicates;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("{}", publish_summary(totals, (**settings).partitions, seconds));
  return kExitOk;
}

}  // namespace

void add_publish_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<PublishArgs>();
  CLI::App* cmd = app.add_subcommand("publish", "Bulk-load an NDJSON event file into the event log (NATS JetStream)");
  cmd->add_option("--config", args->config, "Policy TOML file (its [bus] section)")->required();
  cmd->add_option("--bus", args->bus, "NATS servers, nats://HOST:PORT[,nats://...] (default: bus.url)");
  cmd->add_option("--store", args->store, "postgres://USER@HOST/DB: the event log's contracts and position")
      ->required();
  cmd->add_option("--in-flight", args->in_flight, "Messages sent and not yet acknowledged at most")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("FILE", args->file, "NDJSON events")->required();
  cmd->callback([args, &exit_status] { exit_status = run(*args); });
}

}  // namespace gw::cli
