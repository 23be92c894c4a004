// Engine snapshots: the complete state of a gw::Engine as compact,
// versioned bytes, and back (the foundation of log compaction, issue #9).
//
// Guarantees:
//  * Exactness: an engine restored from a snapshot taken at any point
//    (between two calls on the engine) makes, from then on, byte-identical
//    decisions and episode records to the engine the snapshot was taken of,
//    given the same calls. Everything the engine keeps is in it: ids in
//    order of first appearance, contracts, users (attributes, zones,
//    opt-outs, bounces, frequency-cap sends), pending steps, the watermark
//    and the latest event time.
//  * Refusal, never a crash: restore bounds-checks every read and checks
//    every index, and refuses with a message naming what is wrong a
//    snapshot of another format version, one taken under another policy
//    (the decision-relevant fields, see policy_fingerprint), a truncated
//    one, or one whose checksum or contents do not hold. A refused restore
//    leaves the engine as it was.
//  * No risk scorer: neither an engine's scorer nor the risk feature store
//    beside it is part of its snapshot (the risks the engine gave are). A
//    driver that scores snapshots the store beside it
//    (risk::FeatureStore::encode; server/service_snapshot.h) and attaches
//    the scorer again after restore, which refuses an engine with one.
//
// Format (version 1; integers little-endian, "varint" LEB128, "zz" a
// zigzag varint):
//   header: "GWSNAP\r\n", u32 version, u64 payload length, u64 policy
//           fingerprint
//   payload: watermark zz, latest event time zz, applied ids (varint id+1);
//           user ids, attributes, zone names (varint count, then varint
//           length + bytes each); per user a flags byte and its zone,
//           country and kind (varint id+1), its bounced address (u64, when
//           flagged) and its sends (count, first zz, then varint gaps); per
//           contract its id and state (ids varint, times zz, risk as its
//           u32 bits); the pending steps in evaluation order (varint gap
//           from the previous time, contract, episode, step, flags)
//   trailer: u64 XXH3-64 of header and payload
//
// Thread-safety: as the engine's; the engine must not change during a call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ghostwatch/core/status.h"
#include "ghostwatch/engine/engine.h"
#include "ghostwatch/policy/policy.h"

namespace gw {

inline constexpr std::uint32_t kEngineSnapshotVersion = 1;

// A hash of every policy field the engine's decisions depend on (all but the
// campaign's name and unknown keys): equal policies have equal fingerprints.
std::uint64_t policy_fingerprint(const Policy& policy);

class EngineSnapshot {
 public:
  // The snapshot of `engine`'s state under its current policy.
  static std::string write(const Engine& engine);
  // Restores `bytes` into `engine`. REQUIRES: `engine` is fresh (built, with
  // the snapshot's policy, and given nothing since); a used one is refused.
  static Status restore(std::string_view bytes, Engine& engine);
};

}  // namespace gw
