// Micro-benchmarks of the hot path's pieces: RFC 3339 parsing, line
// validation, and engine submission. Run: build/bench/ghostwatch_microbench
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "ghostwatch/core/time.h"
#include "ghostwatch/engine/engine.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/output/record_json.h"

namespace {

void BM_ParseRfc3339(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(gw::parse_rfc3339("2019-08-01T12:34:56.789+05:30"));
}
BENCHMARK(BM_ParseRfc3339);

void BM_ValidateMessageLine(benchmark::State& state) {
  gw::LineParser parser;
  gw::Event event;
  const std::string line =
      R"({"type":"message","at":"2019-08-01T12:34:56Z","contract":"c0012345","from":"fl004321","id":"m99"})";
  for (auto _ : state) benchmark::DoNotOptimize(parser.parse_copy(line, event));
}
BENCHMARK(BM_ValidateMessageLine);

class NullSink : public gw::EngineSink {
 public:
  void on_decision(const gw::Decision& d) override { benchmark::DoNotOptimize(&d); }
  void on_episode(const gw::EpisodeRecord& e) override { benchmark::DoNotOptimize(&e); }
};

// Conversations on many contracts: each client message is answered an hour
// later, so every event opens or closes an episode.
void BM_EngineSubmit(benchmark::State& state) {
  gw::Policy policy;
  policy.ladder.push_back({24 * gw::kHour, gw::StepAction::kNudge, "r1"});
  NullSink sink;
  gw::Engine engine(policy, sink);
  const int contracts = 100000;
  std::vector<std::string> ids, clients, freelancers;
  for (int i = 0; i < contracts; ++i) {
    ids.push_back(fmt::format("c{}", i));
    clients.push_back(fmt::format("k{}", i % 5000));
    freelancers.push_back(fmt::format("f{}", i % 20000));
    gw::Event e;
    e.type = gw::EventType::kContractStarted;
    e.at = 0;
    e.set(gw::Field::kContract, ids.back());
    e.set(gw::Field::kClient, clients.back());
    e.set(gw::Field::kFreelancer, freelancers.back());
    engine.submit(e);
  }
  gw::Instant t = gw::kHour;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t c = i % contracts;
    const bool from_client = (i / contracts) % 2 == 0;
    gw::Event e;
    e.type = gw::EventType::kMessage;
    e.at = t;
    e.set(gw::Field::kContract, ids[c]);
    e.set(gw::Field::kFrom, from_client ? clients[c] : freelancers[c]);
    benchmark::DoNotOptimize(engine.submit(e));
    t += 10;
    ++i;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_EngineSubmit);

void BM_FormatDecision(benchmark::State& state) {
  gw::Decision d;
  d.at = 1564617600123;
  d.contract = "c0012345";
  d.episode = 2;
  d.step = 1;
  d.target = "reminder-1";
  d.freelancer = "fl004321";
  d.client = "cl000042";
  std::string out;
  for (auto _ : state) {
    out.clear();
    gw::append_decision_json(out, d);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_FormatDecision);

}  // namespace
