#include "ghostwatch/replay/replay.h"

#include "ghostwatch/core/atomic_file.h"
#include "ghostwatch/engine/engine.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/ingest/line_reader.h"
#include "ghostwatch/output/record_json.h"

namespace gw {
namespace {

// Counts the engine's output and writes it to whichever files are open.
class ReplaySink : public EngineSink {
 public:
  ReplaySink(ReplayStats& stats, AtomicFile& actions, AtomicFile& episodes)
      : stats_(stats), actions_(actions), episodes_(episodes) {}

  void on_decision(const Decision& d) override {
    ++stats_.decisions[static_cast<std::size_t>(d.status)];
    if (!actions_.is_open()) return;
    append_decision_json(actions_.buffer(), d);
    actions_.maybe_flush();
  }
  void on_episode(const EpisodeRecord& e) override {
    ++stats_.episodes[static_cast<std::size_t>(e.outcome)];
    if (!episodes_.is_open()) return;
    append_episode_json(episodes_.buffer(), e);
    episodes_.maybe_flush();
  }

 private:
  ReplayStats& stats_;
  AtomicFile& actions_;
  AtomicFile& episodes_;
};

Status open_output(AtomicFile& file, const std::string& path) {
  return path.empty() ? Status::ok() : file.open(path);
}

constexpr std::uint64_t kProgressEveryLines = 1 << 18;

}  // namespace

std::uint64_t ReplayStats::rejected() const {
  std::uint64_t n = 0;
  for (std::uint64_t r : rejects) n += r;
  return n;
}

Result<ReplayStats> run_replay(const Policy& policy, const ReplayOptions& options, const ReplayProgress& progress) {
  LineReader reader;
  if (Status s = reader.open(options.events_path); !s) return s;
  AtomicFile actions, episodes, rejects;
  for (auto [file, path] : {std::pair{&actions, &options.actions_path}, std::pair{&episodes, &options.episodes_path},
                            std::pair{&rejects, &options.rejects_path}}) {
    if (Status s = open_output(*file, *path); !s) return s;
  }

  ReplayStats stats;
  ReplaySink sink(stats, actions, episodes);
  Engine engine(policy, sink);
  LineParser parser;
  Event event;
  std::string_view line;
  std::size_t capacity;
  while (reader.next(line, capacity)) {
    ++stats.lines;
    if (progress && stats.lines % kProgressEveryLines == 0) {
      stats.bytes = reader.bytes_read();
      progress(stats);
    }
    if (is_blank_line(line)) {
      ++stats.blank_lines;
      continue;
    }
    RejectReason reason = parser.parse(line, capacity, event);
    if (reason == RejectReason::kNone) reason = engine.submit(event);
    if (reason == RejectReason::kNone) {
      ++stats.accepted;
      continue;
    }
    ++stats.rejects[static_cast<std::size_t>(reason)];
    if (options.strict) {
      stats.strict_line = reader.line_number();
      stats.strict_reason = reason;
      return stats;  // the AtomicFiles discard their temporary files
    }
    if (rejects.is_open()) {
      append_reject_json(rejects.buffer(), reader.line_number(), reason, line);
      rejects.maybe_flush();
    }
  }
  if (!reader.status()) return reader.status();
  stats.bytes = reader.bytes_read();

  Instant until = options.until ? *options.until : engine.latest_event_at();
  if (until != kNoInstant) engine.evaluate_through(until);
  engine.emit_open_episodes();
  stats.contracts = engine.contract_count();
  stats.engine_memory_bytes = engine.memory_bytes();

  for (AtomicFile* f : {&actions, &episodes, &rejects}) {
    if (!f->is_open()) continue;
    if (Status s = f->commit(); !s) return s;
  }
  return stats;
}

}  // namespace gw
