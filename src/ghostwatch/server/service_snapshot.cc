#include "ghostwatch/server/service_snapshot.h"

#include <fmt/format.h>
#include <xxhash.h>

#include "ghostwatch/core/byte_codec.h"

namespace gw {
namespace {

constexpr std::string_view kServiceSnapshotMagic = "GWSVCSN\n";
constexpr std::size_t kServiceChecksumBytes = 8;

Status service_snapshot_error(std::string_view what) {
  return Status::error(fmt::format("service snapshot: {}", what));
}

}  // namespace

std::string ServiceSnapshot::write(const ServiceSnapshot& s) {
  ByteWriter w;
  w.buffer().append(kServiceSnapshotMagic);
  w.u32(kServiceSnapshotVersion);
  const ServiceCounters& c = s.counters;
  w.varint(c.log_entries);
  w.varint(c.accepted);
  for (const auto& by_status : c.decisions) {
    for (std::uint64_t n : by_status) w.varint(n);
  }
  w.varint(c.open_episodes);
  w.varint(c.closed_episodes);
  w.zigzag(c.evaluated_through);
  w.zigzag(s.last_tick);
  w.bytes(s.policy_text);
  w.bytes(s.engine);
  w.bytes(s.model_text);
  w.bytes(s.features);
  std::string& out = w.buffer();
  w.u64(XXH3_64bits(out.data(), out.size()));
  return std::move(out);
}

Result<ServiceSnapshot> ServiceSnapshot::read(std::string_view bytes) {
  if (bytes.substr(0, kServiceSnapshotMagic.size()) != kServiceSnapshotMagic) {
    return service_snapshot_error("not a service snapshot (no GWSVCSN header)");
  }
  if (bytes.size() < kServiceSnapshotMagic.size() + 4 + kServiceChecksumBytes) {
    return service_snapshot_error(fmt::format("truncated: {} bytes", bytes.size()));
  }
  const std::size_t checked = bytes.size() - kServiceChecksumBytes;
  ByteReader r(bytes.substr(kServiceSnapshotMagic.size(), checked - kServiceSnapshotMagic.size()));
  const std::uint32_t version = r.u32();
  constexpr std::uint32_t kWithoutFeatures = 1;  // the version before model_text and features
  if (version < kWithoutFeatures || version > kServiceSnapshotVersion) {
    return service_snapshot_error(fmt::format("format version {}, and this build reads versions {} to {} only", version,
                                              kWithoutFeatures, kServiceSnapshotVersion));
  }
  if (ByteReader(bytes.substr(checked)).u64() != XXH3_64bits(bytes.data(), checked)) {
    return service_snapshot_error("corrupt or truncated: its checksum does not match its contents");
  }
  ServiceSnapshot s;
  ServiceCounters& c = s.counters;
  c.log_entries = r.varint();
  c.accepted = r.varint();
  for (auto& by_status : c.decisions) {
    for (std::uint64_t& n : by_status) n = r.varint();
  }
  c.open_episodes = r.varint();
  c.closed_episodes = r.varint();
  c.evaluated_through = r.zigzag();
  s.last_tick = r.zigzag();
  s.policy_text = std::string(r.bytes());
  s.engine = std::string(r.bytes());
  if (version > kWithoutFeatures) {
    s.model_text = std::string(r.bytes());
    s.features = std::string(r.bytes());
  }
  if (r.failed() || r.remaining() != 0) {
    return service_snapshot_error("its contents do not hold (a field runs past the end, or bytes are left over)");
  }
  return s;
}

}  // namespace gw
