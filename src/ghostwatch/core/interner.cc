#include "ghostwatch/core/interner.h"

// xxHash's header-only mode: XXH3 inlined for the short ids hashed here,
// where a call into the shared library (through the PLT, then XXH3's
// dispatch on the length) cost as much as the hash. The same function, so
// the same hashes.
#define XXH_INLINE_ALL
#include <xxhash.h>
#undef XXH_INLINE_ALL

#include <bit>
#include <cstring>
#include <stdexcept>

namespace gw {
std::uint64_t Interner::hash_of(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

std::uint64_t Interner::prefix_key(std::string_view s) {
  // The bytes in memory order, then as a big-endian number: one byte swap
  // on a little-endian machine (a loop of byte shifts cost some 30
  // instructions in every lookup).
  std::uint64_t k = 0;
  std::memcpy(&k, s.data(), s.size() < 8 ? s.size() : 8);
  if constexpr (std::endian::native == std::endian::little) k = __builtin_bswap64(k);
  return k;
}

Interner::Slot Interner::make_slot(std::string_view s, std::uint64_t hash, std::uint32_t id) {
  const std::uint32_t len = s.size() < 255 ? static_cast<std::uint32_t>(s.size()) : 255;
  return Slot{static_cast<std::uint32_t>(hash >> 40) << 8 | len, id + 1, prefix_key(s)};
}

bool Interner::matches(const Slot& slot, const Slot& key, std::string_view s) const {
  if (slot.check != key.check || slot.head != key.head) return false;
  // Equal length (below 255) and equal first 8 bytes: equal when that is all.
  if (s.size() <= 8) return true;
  return view(slot.id1 - 1) == s;
}

std::uint32_t Interner::probe(std::string_view s, const Slot& key, std::uint64_t hash, std::size_t& slot) const {
  const std::size_t mask = slots_.size() - 1;
  for (slot = hash & mask;; slot = (slot + 1) & mask) {
    const Slot& candidate = slots_[slot];
    if (candidate.id1 == 0) return kNone;
    if (matches(candidate, key, s)) return candidate.id1 - 1;
  }
}

void Interner::prefetch(std::uint64_t hash) const {
  if (!slots_.empty()) __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
}

std::uint32_t Interner::find(std::string_view s, std::uint64_t h) const {
  if (slots_.empty()) return kNone;
  std::size_t slot;
  return probe(s, make_slot(s, h, 0), h, slot);
}

std::uint32_t Interner::intern(std::string_view s, std::uint64_t h) {
  if ((spans_.size() + 1) * 2 > slots_.size()) grow();
  std::size_t slot;
  std::uint32_t id = probe(s, make_slot(s, h, 0), h, slot);
  if (id != kNone) return id;
  if (spans_.size() >= kNone - 1 || s.size() >= (1u << 24)) {
    throw std::length_error("interner: too many or too long ids");
  }
  id = static_cast<std::uint32_t>(spans_.size());
  Span span{};
  span.length = static_cast<std::uint32_t>(s.size());
  if (s.size() <= kInlineBytes) {
    std::memcpy(span.bytes, s.data(), s.size());
  } else {
    span.offset = bytes_.size();
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  spans_.push_back(span);
  slots_[slot] = make_slot(s, h, id);
  return id;
}

void Interner::grow() {
  const std::size_t n = slots_.empty() ? 1024 : slots_.size() * 2;
  slots_.assign(n, Slot{});
  const std::size_t mask = n - 1;
  for (std::uint32_t id = 0; id < spans_.size(); ++id) {
    const std::string_view s = view(id);
    const std::uint64_t h = hash_of(s);
    std::size_t slot = h & mask;
    while (slots_[slot].id1 != 0) slot = (slot + 1) & mask;
    slots_[slot] = make_slot(s, h, id);
  }
}

std::size_t Interner::memory_bytes() const {
  return bytes_.capacity() + spans_.capacity() * sizeof(Span) + slots_.capacity() * sizeof(Slot);
}

}  // namespace gw
