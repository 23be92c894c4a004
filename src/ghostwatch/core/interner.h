// Interner: maps byte strings to dense 32-bit ids (0, 1, 2, ... in order of
// first appearance) and back. Ids are stable for the interner's lifetime;
// views returned by view() are invalidated by the next intern() of a new
// string. Open addressing with the string's hash kept in the slot, so a
// lookup touches the bytes only on a hash match. Not thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace gw {

class Interner {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  // Returns the id of `s`, adding it when new.
  std::uint32_t intern(std::string_view s);
  // Returns the id of `s`, or kNone when it was never interned.
  std::uint32_t find(std::string_view s) const;
  std::string_view view(std::uint32_t id) const {
    const Span& sp = spans_[id];
    return {bytes_.data() + sp.offset, sp.length};
  }
  std::uint32_t size() const { return static_cast<std::uint32_t>(spans_.size()); }
  // Heap bytes held, for memory accounting.
  std::size_t memory_bytes() const;

 private:
  struct Span {
    std::uint64_t offset : 40;
    std::uint64_t length : 24;
  };
  static std::uint64_t hash(std::string_view s);
  std::uint32_t probe(std::string_view s, std::uint64_t h, std::size_t& slot) const;
  void grow();

  std::vector<char> bytes_;
  std::vector<Span> spans_;
  // Slot: high 32 bits hash, low 32 bits id + 1 (0 = empty).
  std::vector<std::uint64_t> slots_;
};

}  // namespace gw
