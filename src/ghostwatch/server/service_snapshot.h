// A live service's snapshot (log compaction, docs/operations.md
// "Snapshots"): what a Service needs, beside its engine's state, to go on
// from a point of its operation log as if it had replayed the log up to
// there: the rules in force (their text; the engine's snapshot holds only
// their fingerprint), the counters recovery recounts from the log, the last
// clock tick, and the engine's snapshot (engine/snapshot.h).
//
// Guarantees: read(write(s)) == s; read refuses, naming what is wrong, bytes
// of another format or version, truncated ones, trailing bytes and any
// change the checksum catches. Pure functions, thread-safe.
//
// Format (version 1; byte_codec.h's encodings): "GWSVCSN\n", u32 version;
// varints log_entries, accepted, the decision counts ([action][status]),
// open_episodes, closed_episodes; zz evaluated_through, last_tick; the
// policy text and the engine's snapshot as byte strings; u64 XXH3-64 of
// everything before it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ghostwatch/core/status.h"
#include "ghostwatch/server/service.h"

namespace gw {

inline constexpr std::uint32_t kServiceSnapshotVersion = 1;
// The largest snapshot a service stores: both stores keep it in one value,
// which neither takes beyond 1 GB (about 18 million contracts).
inline constexpr std::size_t kMaxSnapshotBytes = 1000u * 1000u * 1000u - (16u << 20);

struct ServiceSnapshot {
  std::string policy_text;
  // accepted, decisions, open_episodes, closed_episodes, evaluated_through
  // and log_entries (through the snapshot); the others are not kept (rejects are counted from the
  // store, the rest read from the engine).
  ServiceCounters counters;
  Instant last_tick = kNoInstant;
  std::string engine;  // EngineSnapshot::write's bytes

  static std::string write(const ServiceSnapshot& s);
  static Result<ServiceSnapshot> read(std::string_view bytes);
};

}  // namespace gw
