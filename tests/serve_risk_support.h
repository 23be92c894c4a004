// Test-only: a small simulated marketplace and two risk models trained on
// it, for the tests of serve with a risk model (serve_risk_*_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "ghostwatch/risk/training.h"
#include "risk_support.h"

namespace gw::test {

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
