#include "ghostwatch/engine/snapshot.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <bit>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ghostwatch/core/byte_codec.h"

namespace gw {
namespace {

constexpr std::string_view kSnapshotMagic = "GWSNAP\r\n";
constexpr std::size_t kSnapshotHeaderBytes = 8 + 4 + 8 + 8;
constexpr std::size_t kSnapshotChecksumBytes = 8;

// User flags.
constexpr std::uint8_t kUserOptedOut = 1;
constexpr std::uint8_t kUserBouncing = 2;
constexpr std::uint8_t kUserInSegment = 4;
constexpr std::uint8_t kUserBouncedAddress = 8;  // a bounced address follows
constexpr std::uint8_t kUserArmShift = 4;        // 2 bits: the cached arm + 1 (0: not computed)
// Contract flags.
constexpr std::uint8_t kContractEnded = 1;
constexpr std::uint8_t kContractInSegment = 2;
// Timer flags.
constexpr std::uint8_t kTimerFirst = 1;
constexpr std::uint8_t kTimerCaughtUp = 2;

// An id or kNone as a varint: id + 1, 0 for kNone.
void write_id(ByteWriter& w, std::uint32_t id) { w.varint(id == Interner::kNone ? 0 : std::uint64_t{id} + 1); }

// Reads what write_id wrote; `ok` turns false for an id not below `limit`.
std::uint32_t read_id(ByteReader& r, std::uint32_t limit, bool& ok) {
  const std::uint64_t v = r.varint();
  if (v == 0) return Interner::kNone;
  if (v > limit) ok = false;
  return ok ? static_cast<std::uint32_t>(v - 1) : Interner::kNone;
}

void write_strings(ByteWriter& w, const Interner& ids) {
  w.varint(ids.size());
  for (std::uint32_t i = 0; i < ids.size(); ++i) w.bytes(ids.view(i));
}

// Interns the strings write_strings wrote, in order, into `ids`.
Status read_strings(ByteReader& r, Interner& ids, std::string_view what) {
  const std::uint64_t n = r.count();
  for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
    const std::string_view s = r.bytes();
    if (r.failed()) break;
    if (s.size() >= (1u << 24)) return Status::error(fmt::format("corrupt: {} {} is too long", what, i));
    if (ids.intern(s) != i) return Status::error(fmt::format("corrupt: {} '{}' appears twice", what, s));
  }
  if (r.failed()) return Status::error(fmt::format("corrupt: the {} end past the snapshot", what));
  return Status::ok();
}

void write_ladder(ByteWriter& w, const std::vector<LadderStep>& ladder) {
  w.varint(ladder.size());
  for (const LadderStep& s : ladder) {
    w.zigzag(s.after);
    w.u8(static_cast<std::uint8_t>(s.action));
    w.bytes(s.target);
  }
}

void write_list(ByteWriter& w, const std::vector<std::string>& list) {
  w.varint(list.size());
  for (const std::string& s : list) w.bytes(s);
}

Status snapshot_error(std::string_view what) { return Status::error(fmt::format("engine snapshot: {}", what)); }

}  // namespace

std::uint64_t policy_fingerprint(const Policy& p) {
  ByteWriter w;
  w.zigzag(p.start);
  w.zigzag(p.end);
  w.u64(std::bit_cast<std::uint64_t>(p.holdout_percent));
  w.bytes(p.salt);
  w.zigzag(p.allowed_lateness);
  w.zigzag(p.catch_up);
  write_list(w, p.segment.countries_include);
  write_list(w, p.segment.countries_exclude);
  write_list(w, p.segment.kinds);
  w.u8(p.segment.min_risk.has_value());
  if (p.segment.min_risk) w.u64(std::bit_cast<std::uint64_t>(*p.segment.min_risk));
  w.zigzag(p.max_nudges_per_day);
  w.u8(p.quiet_hours.has_value());
  if (p.quiet_hours) {
    w.varint(static_cast<std::uint64_t>(p.quiet_hours->start_minute()));
    w.varint(static_cast<std::uint64_t>(p.quiet_hours->end_minute()));
  }
  write_ladder(w, p.ladder);
  w.varint(p.risk_tiers.size());
  for (const RiskTier& t : p.risk_tiers) {
    w.u64(std::bit_cast<std::uint64_t>(t.min_risk));
    write_ladder(w, t.ladder);
  }
  return XXH3_64bits(w.buffer().data(), w.buffer().size());
}

std::string EngineSnapshot::write(const Engine& e) {
  ByteWriter w;
  w.buffer().append(kSnapshotMagic);
  w.u32(kEngineSnapshotVersion);
  w.u64(0);  // the payload's length, set below
  w.u64(policy_fingerprint(*e.policy_));

  w.zigzag(e.watermark_);
  w.zigzag(e.latest_at_);
  write_id(w, e.applied_.contract);
  write_id(w, e.applied_.user);
  write_strings(w, e.user_ids_);
  write_strings(w, e.attributes_);
  write_strings(w, e.zone_names_);

  std::unordered_map<const date::time_zone*, std::uint32_t> zone_ids;
  for (std::uint32_t i = e.zones_.size(); i-- > 0;) zone_ids[e.zones_[i]] = i;  // the first name of a zone wins
  for (std::size_t u = 0; u < e.users_.size(); ++u) {
    const Engine::UserState& s = e.users_[u];
    const Engine::UserDetail& d = e.user_details_[u];
    const std::uint8_t flags =
        (s.opted_out ? kUserOptedOut : 0) | (s.bouncing ? kUserBouncing : 0) | (s.in_segment ? kUserInSegment : 0) |
        (d.bounced_address != 0 ? kUserBouncedAddress : 0) | static_cast<std::uint8_t>((s.arm + 1) << kUserArmShift);
    w.u8(flags);
    write_id(w, s.zone == nullptr ? Interner::kNone : zone_ids.at(s.zone));
    write_id(w, d.country);
    write_id(w, d.kind);
    if (d.bounced_address != 0) w.u64(d.bounced_address);
    w.varint(d.sends.size());
    Instant previous = 0;
    for (std::size_t i = 0; i < d.sends.size(); ++i) {
      if (i == 0) {
        w.zigzag(d.sends[0]);
      } else {
        w.varint(static_cast<std::uint64_t>(d.sends[i] - previous));
      }
      previous = d.sends[i];
    }
  }

  w.varint(e.contracts_.size());
  for (std::uint32_t id = 0; id < e.contracts_.size(); ++id) {
    const Engine::ContractState& c = e.contracts_[id];
    w.bytes(e.contract_ids_.view(id));
    w.varint(c.client);
    w.varint(c.freelancer);
    w.zigzag(c.last_fl_at);
    w.zigzag(c.last_client_at);
    w.zigzag(c.pending_since);
    w.varint(c.episodes);
    w.varint(e.open_episode_[id]);
    w.varint(c.steps_sent);
    w.u32(std::bit_cast<std::uint32_t>(c.risk));
    w.varint(c.next_step);
    w.u8(static_cast<std::uint8_t>(c.tier));
    w.u8((c.ended ? kContractEnded : 0) | (c.in_segment ? kContractInSegment : 0));
  }

  const std::vector<Timer> timers = e.timers_.sorted();
  w.varint(timers.size());
  Instant previous = timers.empty() ? 0 : timers.front().at;
  if (!timers.empty()) w.zigzag(previous);
  for (const Timer& t : timers) {
    w.varint(static_cast<std::uint64_t>(t.at - previous));
    previous = t.at;
    w.varint(t.contract);
    w.varint(t.episode);
    w.varint(t.step);
    w.u8((t.first ? kTimerFirst : 0) | (t.caught_up ? kTimerCaughtUp : 0));
  }

  std::string& out = w.buffer();
  const std::uint64_t payload = out.size() - kSnapshotHeaderBytes;
  for (int i = 0; i < 8; ++i) out[kSnapshotMagic.size() + 4 + i] = static_cast<char>((payload >> (8 * i)) & 0xff);
  w.u64(XXH3_64bits(out.data(), out.size()));
  return std::move(out);
}

Status EngineSnapshot::restore(std::string_view bytes, Engine& e) {
  if (e.scorer_ != nullptr) {
    return snapshot_error("restore needs an engine without a risk scorer (attach it after)");
  }
  if (e.watermark_ != kNoInstant || e.latest_at_ != kNoInstant || e.user_ids_.size() != 0 ||
      e.contract_ids_.size() != 0 || !e.timers_.empty()) {
    return snapshot_error("restore needs a fresh engine, and this one has state");
  }
  if (bytes.size() < kSnapshotMagic.size() || bytes.substr(0, kSnapshotMagic.size()) != kSnapshotMagic) {
    return snapshot_error("not an engine snapshot (no GWSNAP header)");
  }
  ByteReader header(bytes.substr(kSnapshotMagic.size()));
  const std::uint32_t version = header.u32();
  if (header.failed()) return snapshot_error("truncated within its header");
  if (version != kEngineSnapshotVersion) {
    return snapshot_error(
        fmt::format("format version {}, and this build reads version {} only", version, kEngineSnapshotVersion));
  }
  const std::uint64_t payload_bytes = header.u64();
  const std::uint64_t fingerprint = header.u64();
  if (header.failed()) return snapshot_error("truncated within its header");
  const std::uint64_t expected = kSnapshotHeaderBytes + payload_bytes + kSnapshotChecksumBytes;
  if (payload_bytes > bytes.size() || bytes.size() != expected) {
    return snapshot_error(fmt::format("truncated or padded: {} bytes, and its header says a payload of {} bytes",
                                      bytes.size(), payload_bytes));
  }
  const std::size_t checked = bytes.size() - kSnapshotChecksumBytes;
  if (ByteReader(bytes.substr(checked)).u64() != XXH3_64bits(bytes.data(), checked)) {
    return snapshot_error("corrupt: its checksum does not match its contents");
  }
  if (fingerprint != policy_fingerprint(*e.policy_)) {
    return snapshot_error(
        fmt::format("taken under another policy (fingerprint {:016x}; this engine's policy has {:016x})", fingerprint,
                    policy_fingerprint(*e.policy_)));
  }

  // Everything is read into new containers and checked, and only then moved
  // into the engine.
  ByteReader r(bytes.substr(kSnapshotHeaderBytes, payload_bytes));
  const Instant watermark = r.zigzag();
  const Instant latest_at = r.zigzag();
  const std::uint64_t applied_contract = r.varint();
  const std::uint64_t applied_user = r.varint();
  Interner user_ids, attributes, zone_names;
  Status strings = read_strings(r, user_ids, "user ids");
  if (strings) strings = read_strings(r, attributes, "attributes");
  if (strings) strings = read_strings(r, zone_names, "zones");
  if (!strings) return snapshot_error(strings.message());
  std::vector<const date::time_zone*> zones;
  for (std::uint32_t i = 0; i < zone_names.size(); ++i) zones.push_back(find_time_zone(zone_names.view(i)));

  bool ok = true;
  Engine::Table<Engine::UserState> users(user_ids.size());
  Engine::Table<Engine::UserDetail> details(user_ids.size());
  for (std::size_t u = 0; u < users.size() && ok && !r.failed(); ++u) {
    Engine::UserState& s = users[u];
    Engine::UserDetail& d = details[u];
    const std::uint8_t flags = r.u8();
    s.opted_out = flags & kUserOptedOut;
    s.bouncing = flags & kUserBouncing;
    s.in_segment = flags & kUserInSegment;
    s.arm = static_cast<std::int8_t>((flags >> kUserArmShift) - 1);
    if (s.arm > static_cast<std::int8_t>(Arm::kControl)) ok = false;
    const std::uint32_t zone = read_id(r, zone_names.size(), ok);
    s.zone = zone == Interner::kNone ? nullptr : zones[zone];
    d.country = read_id(r, attributes.size(), ok);
    d.kind = read_id(r, attributes.size(), ok);
    if (flags & kUserBouncedAddress) d.bounced_address = r.u64();
    const std::uint64_t sends = r.count();
    d.sends.reserve(sends);
    for (std::uint64_t i = 0; i < sends && !r.failed(); ++i) {
      // Gaps are added as unsigned: a corrupt one wraps instead of overflowing.
      d.sends.push_back(i == 0 ? r.zigzag()
                               : static_cast<Instant>(static_cast<std::uint64_t>(d.sends.back()) + r.varint()));
      if (i > 0 && d.sends[i] < d.sends[i - 1]) ok = false;
    }
  }
  if (!ok || r.failed()) return snapshot_error("corrupt: a user's state does not hold");

  Interner contract_ids;
  Engine::Table<Engine::ContractState> contracts;
  Engine::Table<std::uint32_t> open_episode;
  const std::uint64_t contract_count = r.count();
  contracts.reserve(contract_count);
  open_episode.reserve(contract_count);
  const Policy& policy = *e.policy_;
  for (std::uint64_t id = 0; id < contract_count && ok && !r.failed(); ++id) {
    const std::string_view name = r.bytes();
    if (r.failed() || name.size() >= (1u << 24) || contract_ids.intern(name) != id) ok = false;
    Engine::ContractState c;
    const std::uint64_t client = r.varint();
    const std::uint64_t freelancer = r.varint();
    if (client >= users.size() || freelancer >= users.size()) ok = false;
    c.client = static_cast<std::uint32_t>(client);
    c.freelancer = static_cast<std::uint32_t>(freelancer);
    c.last_fl_at = r.zigzag();
    c.last_client_at = r.zigzag();
    c.pending_since = r.zigzag();
    const std::uint64_t episodes = r.varint();
    const std::uint64_t open = r.varint();
    const std::uint64_t steps_sent = r.varint();
    if (episodes > UINT32_MAX || (open != 0 && open != episodes) || steps_sent > UINT32_MAX) ok = false;
    c.episodes = static_cast<std::uint32_t>(episodes);
    c.steps_sent = static_cast<std::uint32_t>(steps_sent);
    c.risk = std::bit_cast<float>(r.u32());
    const std::uint64_t next_step = r.varint();
    const std::uint8_t tier = r.u8();
    if (next_step > kMaxLadderSteps || tier > policy.risk_tiers.size()) ok = false;
    c.next_step = static_cast<std::uint16_t>(next_step & 0xfff);
    c.tier = static_cast<std::uint16_t>(tier & 0xf);
    const std::uint8_t flags = r.u8();
    c.ended = flags & kContractEnded;
    c.in_segment = flags & kContractInSegment;
    contracts.push_back(c);
    open_episode.push_back(static_cast<std::uint32_t>(open));
  }
  if (!ok || r.failed()) return snapshot_error("corrupt: a contract's state does not hold");

  std::vector<Timer> timers;
  const std::uint64_t timer_count = r.count();
  timers.reserve(timer_count);
  Instant at = timer_count > 0 ? r.zigzag() : 0;
  for (std::uint64_t i = 0; i < timer_count && ok && !r.failed(); ++i) {
    at = static_cast<Instant>(static_cast<std::uint64_t>(at) + r.varint());
    const std::uint64_t contract = r.varint();
    const std::uint64_t episode = r.varint();
    const std::uint64_t step = r.varint();
    const std::uint8_t flags = r.u8();
    if (contract >= contracts.size() || episode > UINT32_MAX || step >= kMaxLadderSteps) {
      ok = false;
      break;
    }
    const auto c = static_cast<std::uint32_t>(contract);
    // The step of a live episode indexes its ladder.
    if (open_episode[c] == episode && step >= Engine::ladder_of(policy, contracts[c]).size()) ok = false;
    timers.push_back(Timer{at, Interner::prefix_key(contract_ids.view(c)), c, static_cast<std::uint32_t>(episode),
                           contracts[c].freelancer, static_cast<std::uint16_t>(step), (flags & kTimerFirst) != 0,
                           (flags & kTimerCaughtUp) != 0});
  }
  if (!ok || r.failed()) return snapshot_error("corrupt: a pending step does not hold");
  if (r.remaining() != 0) return snapshot_error("corrupt: bytes after its last pending step");
  if ((applied_contract > contracts.size()) || applied_user > users.size()) {
    return snapshot_error("corrupt: the last applied event's ids are out of range");
  }

  e.watermark_ = watermark;
  e.latest_at_ = latest_at;
  // write_id's id + 1: 0 (none) wraps to kNone.
  e.applied_ = Engine::AppliedIds{static_cast<std::uint32_t>(applied_contract - 1),
                                  static_cast<std::uint32_t>(applied_user - 1)};
  e.user_ids_ = std::move(user_ids);
  e.users_ = std::move(users);
  e.user_details_ = std::move(details);
  e.attributes_ = std::move(attributes);
  e.zone_names_ = std::move(zone_names);
  e.zones_ = std::move(zones);
  e.contract_ids_ = std::move(contract_ids);
  e.contracts_ = std::move(contracts);
  e.open_episode_ = std::move(open_episode);
  for (const Timer& t : timers) e.timers_.push(t);
  return Status::ok();
}

}  // namespace gw
