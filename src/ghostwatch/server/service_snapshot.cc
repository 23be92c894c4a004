#include "ghostwatch/server/service_snapshot.h"

#include <fmt/format.h>

#include "ghostwatch/core/byte_codec.h"
#include "ghostwatch/core/sealed_bytes.h"

namespace gw {
namespace {

constexpr std::string_view kServiceSnapshotMagic = "GWSVCSN\n";
constexpr std::uint32_t kWithoutFeatures = 1;  // the version before model_text and features

Status service_snapshot_error(std::string_view what) {
  return Status::error(fmt::format("service snapshot: {}", what));
}

}  // namespace

std::string ServiceSnapshot::write(const ServiceSnapshot& s) {
  ByteWriter w = begin_sealed(kServiceSnapshotMagic, kServiceSnapshotVersion);
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
  return seal(w);
}

Result<ServiceSnapshot> ServiceSnapshot::read(std::string_view bytes) {
  auto sealed =
      open_sealed(bytes, kServiceSnapshotMagic, "service snapshot", kWithoutFeatures, kServiceSnapshotVersion);
  if (!sealed) return service_snapshot_error(sealed.message());
  ByteReader& r = sealed->body;
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
  if (sealed->version > kWithoutFeatures) {
    s.model_text = std::string(r.bytes());
    s.features = std::string(r.bytes());
  }
  if (r.failed() || r.remaining() != 0) {
    return service_snapshot_error("its contents do not hold (a field runs past the end, or bytes are left over)");
  }
  return s;
}

}  // namespace gw
