// Test-only: a small simulated marketplace and two risk models trained on
// it, for the tests of serve with a risk model (serve_risk_*_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "ghostwatch/risk/training.h"
#include "risk_support.h"

namespace gw::test {

using ServeRiskKey = std::pair<std::string, std::uint32_t>;  // contract, episode

// Each episode's risk (-1: none) in replay's or the service's episode lines.
inline std::map<ServeRiskKey, double> serve_risk_by_episode(const std::vector<std::string>& episodes) {
  std::map<ServeRiskKey, double> out;
  for (const std::string& line : episodes) {
    const auto e = nlohmann::json::parse(line);
    out[{e["contract"].get<std::string>(), e["episode"].get<std::uint32_t>()}] =
        e.contains("risk") ? e["risk"].get<double>() : -1.0;
  }
  return out;
}

// A small marketplace and two models trained on it (A: the usual, B: a
// different one, so that their scores differ), trained once per process.
struct ServeRiskWorld {
  TempDir dir;
  std::string events;  // the events' text
  std::string model_a, model_b;

  ServeRiskWorld() {
    events = risk_small_marketplace(5);
    write_file(dir.file("events.ndjson"), events);
    const risk::EpisodeHistory history = risk_history_of(dir, events, "history.ndjson");
    model_a = train(history, 20, 0.05, 0);
    model_b = train(history, 8, 0.3, 1);
    write_file(dir.file("model-a.json"), model_a);  // for serve --model
  }

  static std::string train(const risk::EpisodeHistory& history, int rounds, double eta, std::uint64_t seed) {
    risk::TrainOptions o;
    o.test_from = *parse_rfc3339("2019-08-14T00:00:00Z");
    o.params.rounds = rounds;
    o.params.eta = eta;
    o.params.seed = seed;
    auto report = risk::train_risk_model(history, o);
    EXPECT_TRUE(report.is_ok()) << report.message();
    return report.is_ok() ? report->model_json : std::string();
  }

  static const ServeRiskWorld& get() {
    static const ServeRiskWorld world;
    return world;
  }
};

}  // namespace gw::test
