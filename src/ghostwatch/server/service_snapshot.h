// A live service's snapshot (log compaction, docs/operations.md
// "Snapshots"): what a Service needs, beside its engine's state, to go on
// from a point of its operation log as if it had replayed the log up to
// there: the rules in force (their text; the engine's snapshot holds only
// their fingerprint), the counters recovery recounts from the log, the last
// clock tick, the engine's snapshot (engine/snapshot.h) and, for a service
// that keeps risk features, the risk model in force (its text) and the
// feature store's snapshot (risk/feature_store.h).
//
// Guarantees: read(write(s)) == s; read refuses, naming what is wrong, bytes
// of another format or a later version, truncated ones, trailing bytes and
// any change the checksum catches. It reads version 1 (before features were
// kept: as a snapshot without a model and features). Pure functions,
// thread-safe.
//
// Format (version 2; byte_codec.h's encodings): "GWSVCSN\n", u32 version;
// varints log_entries, accepted, the decision counts ([action][status]),
// open_episodes, closed_episodes; zz evaluated_through, last_tick; the
// policy text, the engine's snapshot, the model text and the feature
// store's snapshot as byte strings (the last two empty without features;
// version 1 ends before them); u64 XXH3-64 of everything before it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ghostwatch/core/status.h"
#include "ghostwatch/server/service.h"

namespace gw {

inline constexpr std::uint32_t kServiceSnapshotVersion = 2;
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
  // A service that keeps risk features: the model in force ("" for none
  // yet) and FeatureStore::encode's bytes; both empty for one that does not.
  std::string model_text;
  std::string features;

  static std::string write(const ServiceSnapshot& s);
  static Result<ServiceSnapshot> read(std::string_view bytes);
};

}  // namespace gw
