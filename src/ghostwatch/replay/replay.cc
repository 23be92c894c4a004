#include "ghostwatch/replay/replay.h"

#include "ghostwatch/core/atomic_file.h"
#include "ghostwatch/engine/engine.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/ingest/line_reader.h"
#include "ghostwatch/output/record_json.h"
#include "ghostwatch/risk/feature_store.h"
#include "ghostwatch/risk/live_scorer.h"

namespace gw {
namespace {

// Counts the engine's output and writes it to whichever files are open.
class ReplaySink : public EngineSink {
 public:
  ReplaySink(ReplayStats& stats, AtomicFile& actions, AtomicFile& episodes)
      : stats_(stats), actions_(actions), episodes_(episodes) {}
  // With a risk model: the feature store learns of every closed episode.
  void attach(risk::FeatureStore& store) { store_ = &store; }

  void on_decision(const Decision& d) override {
    ++stats_.decisions[static_cast<std::size_t>(d.status)];
    if (!actions_.is_open()) return;
    append_decision_json(actions_.buffer(), d);
    actions_.maybe_flush();
  }
  void on_episode(const EpisodeRecord& e) override {
    if (store_ != nullptr && e.outcome != Outcome::kOpen) store_->on_episode_closed(e);
    ++stats_.episodes[static_cast<std::size_t>(e.outcome)];
    if (!episodes_.is_open()) return;
    append_episode_json(episodes_.buffer(), e);
    episodes_.maybe_flush();
  }

 private:
  ReplayStats& stats_;
  AtomicFile& actions_;
  AtomicFile& episodes_;
  risk::FeatureStore* store_ = nullptr;
};

Status open_output(AtomicFile& file, const std::string& path) {
  return path.empty() ? Status::ok() : file.open(path);
}

constexpr std::uint64_t kProgressEveryLines = 1 << 18;
// Small enough that the lines read() copies are still in the core's L2
// cache when they are parsed (the engine's tables evict everything else).
constexpr std::size_t kReadBufferBytes = 256 << 10;
constexpr std::size_t kLookahead = 16;

}  // namespace

std::uint64_t ReplayStats::rejected() const {
  std::uint64_t n = 0;
  for (std::uint64_t r : rejects) n += r;
  return n;
}

Result<ReplayStats> run_replay(const Policy& policy, const ReplayOptions& options, const ReplayProgress& progress) {
  LineReader reader;
  if (Status s = reader.open(options.events_path, kReadBufferBytes); !s) return s;
  AtomicFile actions, episodes, rejects;
  for (auto [file, path] : {std::pair{&actions, &options.actions_path}, std::pair{&episodes, &options.episodes_path},
                            std::pair{&rejects, &options.rejects_path}}) {
    if (Status s = open_output(*file, *path); !s) return s;
  }

  ReplayStats stats;
  ReplaySink sink(stats, actions, episodes);
  Engine engine(policy, sink);
  std::optional<risk::FeatureStore> store;
  std::optional<risk::LiveRiskScorer> scorer;
  if (options.risk_model != nullptr) {
    // The model is fixed for the whole replay: the store keeps only what it reads.
    const risk::RiskModel& model = *options.risk_model;
    store.emplace(engine, model.reads(risk::NumericFeature::kClientMessages1h) ||
                              model.reads(risk::NumericFeature::kClientMessages24h));
    scorer.emplace(*store, *options.risk_model);
    sink.attach(*store);
    engine.set_scorer(&*scorer);
  }

  // Lines are validated kLookahead lines before the engine applies them, so
  // that the engine can prefetch what each event will touch (see
  // Engine::prefetch_ids): its ids' slots kLookahead lines ahead, its
  // contract's state kLookahead / 2, its parties' kLookahead / 4 (and the
  // feature store's state of them, with a model). Each slot has its own parser, whose buffers hold
  // the slot's line and event until it is applied.
  struct Pending {
    LineParser parser;
    Event event;
    Engine::EventIds ids;
    RejectReason reason = RejectReason::kNone;
    std::uint64_t line = 0;
  };
  std::vector<Pending> ring(kLookahead);
  std::size_t head = 0, count = 0;
  // Applies the oldest pending line; false when --strict must stop.
  auto apply_oldest = [&]() {
    Pending& p = ring[head];
    head = (head + 1) % kLookahead;
    --count;
    if (count >= kLookahead / 2) {
      Pending& ahead = ring[(head + kLookahead / 2 - 1) % kLookahead];
      if (ahead.reason == RejectReason::kNone) {
        engine.prefetch_state(ahead.event, ahead.ids);
        if (store) store->prefetch_contract(ahead.ids);
      }
    }
    if (count >= kLookahead / 4) {
      Pending& near = ring[(head + kLookahead / 4 - 1) % kLookahead];
      if (near.reason == RejectReason::kNone) {
        engine.prefetch_parties(near.ids);
        if (store) store->prefetch_parties(near.ids);
      }
    }
    RejectReason reason = p.reason;
    if (reason == RejectReason::kNone) {
      if (store) store->begin_event(p.event);
      reason = engine.submit(p.event, p.ids);
    }
    if (reason == RejectReason::kNone) {
      if (store) store->apply(p.event);
      ++stats.accepted;
      return true;
    }
    ++stats.rejects[static_cast<std::size_t>(reason)];
    if (options.strict) {
      stats.strict_line = p.line;
      stats.strict_reason = reason;
      return false;
    }
    if (rejects.is_open()) {
      append_reject_json(rejects.buffer(), p.line, reason, p.parser.line());
      rejects.maybe_flush();
    }
    return true;
  };

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
    if (count == kLookahead && !apply_oldest()) return stats;  // the AtomicFiles discard their temporary files
    Pending& p = ring[(head + count) % kLookahead];
    ++count;
    p.line = reader.line_number();
    p.reason = p.parser.parse(line, capacity, p.event);
    if (p.reason == RejectReason::kNone) engine.prefetch_ids(p.event, p.ids);
  }
  while (count > 0) {
    if (!apply_oldest()) return stats;
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
