// Test-only helpers for the tests that run `serve --bus` workers as
// processes (cluster_fault_test.cc, bus_model_test.cc, bus_reload_test.cc):
// counts in PostgreSQL, the stream's end, waiting until every partition has
// applied the whole log, and comparing record lines with replay's.
#pragma once

#include <fmt/format.h>
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "serve_support.h"

namespace gw::test {

inline std::int64_t sql_count(const std::string& db, const std::string& query) {
  pqxx::connection c(db);
  pqxx::nontransaction tx(c);
  return tx.exec1(query)[0].as<std::int64_t>();
}

// The stream's last sequence number, 0 when it cannot be read. `url` may
// list several servers, comma-separated.
inline std::uint64_t last_stream_seq(const std::string& url) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  jsStreamInfo* si = nullptr;
  std::uint64_t last = 0;
  if (natsConnection_ConnectTo(&nc, url.c_str()) == NATS_OK && natsConnection_JetStream(&js, nc, nullptr) == NATS_OK &&
      js_GetStreamInfo(&si, js, "GHOSTWATCH_EVENTS", nullptr, nullptr) == NATS_OK) {
    last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
  }
  if (js != nullptr) jsCtx_Destroy(js);
  if (nc != nullptr) natsConnection_Destroy(nc);
  return last;
}

// Waits (checking every 100 ms, up to `seconds`) until `pred` holds.
template <typename Pred>
bool wait_until(Pred pred, int seconds) {
  for (int i = 0; i < seconds * 10 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return pred();
}

// Waits until each of the `partitions` partitions has committed the log up
// to its end, when the log ends with a control message (an advance), which
// goes to every partition: the last `partitions` messages.
inline bool wait_for_every_partition(const std::string& db, const std::string& nats, int partitions, int seconds) {
  const std::uint64_t last = last_stream_seq(nats);
  if (last == 0) return false;
  return wait_until(
      [&] {
        return sql_count(db, fmt::format("SELECT COUNT(*) FROM partition_positions WHERE stream_seq > {}",
                                         last - static_cast<std::uint64_t>(partitions))) == partitions;
      },
      seconds);
}

inline std::vector<std::string> sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

// What differs between two sorted lists of records, briefly ("": nothing).
inline std::string difference(const std::vector<std::string>& expected, const std::vector<std::string>& got) {
  std::vector<std::string> missing, extra;
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(extra));
  if (missing.empty() && extra.empty()) return "";
  return fmt::format("{} of {} expected records missing, the first: {}\n{} records not expected, the first: {}",
                     missing.size(), expected.size(), missing.empty() ? "" : missing[0], extra.size(),
                     extra.empty() ? "" : extra[0]);
}

// Replay's episode lines without the episodes still open at its end.
inline std::vector<std::string> closed_only(const std::vector<std::string>& episodes) {
  std::vector<std::string> out;
  for (const std::string& e : episodes) {
    if (e.find("\"outcome\":\"open\"") == std::string::npos) out.push_back(e);
  }
  return out;
}

}  // namespace gw::test
