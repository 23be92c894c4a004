#include "ghostwatch/core/interner.h"

#include <xxhash.h>

#include <cstring>
#include <stdexcept>

namespace gw {

std::uint64_t Interner::hash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

std::uint32_t Interner::probe(std::string_view s, std::uint64_t h, std::size_t& slot) const {
  const std::size_t mask = slots_.size() - 1;
  const std::uint64_t tag = h >> 32;
  for (slot = h & mask;; slot = (slot + 1) & mask) {
    std::uint64_t v = slots_[slot];
    if (v == 0) return kNone;
    if ((v >> 32) == tag) {
      std::uint32_t id = static_cast<std::uint32_t>(v) - 1;
      if (view(id) == s) return id;
    }
  }
}

std::uint32_t Interner::find(std::string_view s) const {
  if (slots_.empty()) return kNone;
  std::size_t slot;
  return probe(s, hash(s), slot);
}

std::uint32_t Interner::intern(std::string_view s) {
  if ((spans_.size() + 1) * 2 > slots_.size()) grow();
  const std::uint64_t h = hash(s);
  std::size_t slot;
  std::uint32_t id = probe(s, h, slot);
  if (id != kNone) return id;
  if (spans_.size() >= kNone - 1 || s.size() >= (1u << 24)) {
    throw std::length_error("interner: too many or too long ids");
  }
  id = static_cast<std::uint32_t>(spans_.size());
  spans_.push_back(Span{bytes_.size(), s.size()});
  bytes_.insert(bytes_.end(), s.begin(), s.end());
  slots_[slot] = ((h >> 32) << 32) | (static_cast<std::uint64_t>(id) + 1);
  return id;
}

void Interner::grow() {
  std::size_t n = slots_.empty() ? 1024 : slots_.size() * 2;
  slots_.assign(n, 0);
  const std::size_t mask = n - 1;
  for (std::uint32_t id = 0; id < spans_.size(); ++id) {
    std::uint64_t h = hash(view(id));
    std::size_t slot = h & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
    slots_[slot] = ((h >> 32) << 32) | (static_cast<std::uint64_t>(id) + 1);
  }
}

std::size_t Interner::memory_bytes() const {
  return bytes_.capacity() + spans_.capacity() * sizeof(Span) + slots_.capacity() * sizeof(std::uint64_t);
}

}  // namespace gw
