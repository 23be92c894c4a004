// Test-only helpers shared by the tests that drive `ghostwatch serve` over
// HTTP: the sample policy, a simulated marketplace cut into request bodies,
// and the replay of the same events to compare against.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "serve_process.h"

namespace gw::test {

inline constexpr const char* kNdjson = "application/x-ndjson";

inline const std::string kExamplePolicy = std::string(GHOSTWATCH_SOURCE_DIR) + "/examples/policy.toml";

// Far after every simulated event: both the replay and the service evaluate
// every step through it.
inline constexpr const char* kUntil = "2030-01-01T00:00:00Z";

inline int run_command(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// `ghostwatch simulate` into `path`.
inline void simulate(const std::string& path, int seed, int freelancers, int clients, int days) {
  ASSERT_EQ(run_command(std::string(GHOSTWATCH_BINARY) + " simulate --seed " + std::to_string(seed) +
                        " --freelancers " + std::to_string(freelancers) + " --clients " + std::to_string(clients) +
                        " --days " + std::to_string(days) + " --out " + path + " 2>/dev/null"),
            0);
}

// Request bodies of `lines_per_body` lines each (the last may be shorter).
inline std::vector<std::string> bodies(const std::string& ndjson, std::size_t lines_per_body) {
  std::vector<std::string> out;
  std::size_t start = 0, lines = 0;
  for (std::size_t i = 0; i < ndjson.size(); ++i) {
    if (ndjson[i] != '\n' || ++lines < lines_per_body) continue;
    out.push_back(ndjson.substr(start, i + 1 - start));
    start = i + 1;
    lines = 0;
  }
  if (start < ndjson.size()) out.push_back(ndjson.substr(start));
  return out;
}

struct ReplayFiles {
  std::string actions;
  std::string episodes;
};

// `ghostwatch replay --until kUntil` of `events` with the example policy.
inline ReplayFiles replay(const TempDir& dir, const std::string& events) {
  const std::string cmd = std::string(GHOSTWATCH_BINARY) + " replay --config " + kExamplePolicy + " --events " +
                          events + " --until " + kUntil + " --actions " + dir.file("replay-actions.ndjson") +
                          " --episodes " + dir.file("replay-episodes.ndjson") + " 2>/dev/null";
  EXPECT_EQ(run_command(cmd), 0) << cmd;
  return {read_file(dir.file("replay-actions.ndjson")), read_file(dir.file("replay-episodes.ndjson"))};
}

inline httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

}  // namespace gw::test
