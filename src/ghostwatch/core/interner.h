// Interner: maps byte strings to dense 32-bit ids (0, 1, 2, ... in order of
// first appearance) and back. Ids are stable for the interner's lifetime;
// views returned by view() are invalidated by the next intern() of a new
// string. Not thread-safe.
//
// Lookups are the engine's hottest memory accesses (one per event, over
// hundreds of thousands of contracts), so a slot of the open-addressing
// table holds, besides the id, part of the hash, the length and the first
// 8 bytes of the string: a lookup of an id of up to 8 bytes (most
// marketplace ids) is decided within its slot's cache line, and such an id
// is stored in its span, not in the string arena.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "ghostwatch/core/huge_page_allocator.h"
#include "ghostwatch/core/short_word.h"

namespace gw {

class Interner {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  // The hash the table uses, for callers that look a string up more than
  // once: the overloads taking `hash` require hash == hash_of(s).
  static std::uint64_t hash_of(std::string_view s);

  // Returns the id of `s`, adding it when new.
  std::uint32_t intern(std::string_view s) { return intern(s, hash_of(s)); }
  std::uint32_t intern(std::string_view s, std::uint64_t hash);
  // Returns the id of `s`, or kNone when it was never interned.
  std::uint32_t find(std::string_view s) const { return find(s, hash_of(s)); }
  std::uint32_t find(std::string_view s, std::uint64_t hash) const;
  // Starts loading the table slot where a string of this hash would be
  // found (a hint).
  void prefetch(std::uint64_t hash) const;
  // Starts loading what view(id) reads (a hint). REQUIRES: id < size().
  void prefetch_text(std::uint32_t id) const { __builtin_prefetch(&spans_[id]); }
  std::string_view view(std::uint32_t id) const {
    const Span& sp = spans_[id];
    return {sp.length <= kInlineBytes ? sp.bytes : bytes_.data() + sp.offset, sp.length};
  }
  // view(id) == s, for an id of up to 8 bytes without a call: its span
  // holds its bytes and zeros after them, compared as one word with `s`
  // read in at most two loads that stay within it. REQUIRES: id < size().
  bool equals(std::uint32_t id, std::string_view s) const {
    const Span& sp = spans_[id];
    if (sp.length != s.size()) return false;
    if (std::endian::native != std::endian::little || s.size() > kInlineBytes) return view(id) == s;
    return std::bit_cast<std::uint64_t>(sp.bytes) == short_word(s.data(), s.size());
  }
  std::uint32_t size() const { return static_cast<std::uint32_t>(spans_.size()); }
  // Heap bytes held, for memory accounting.
  std::size_t memory_bytes() const;

  // The first 8 bytes of `s`, big-endian, zero-padded: comparing two of
  // these orders strings by their bytes, up to ties that need view().
  static std::uint64_t prefix_key(std::string_view s);

 private:
  // Where a string's bytes are: a string of up to kInlineBytes is kept in
  // its span, so that view() of a short id (most marketplace ids, written
  // to every record) reads one place, not a span and then the arena.
  static constexpr std::size_t kInlineBytes = 8;
  struct Span {
    union {
      char bytes[kInlineBytes];  // length <= kInlineBytes
      std::uint64_t offset;      // longer: in bytes_
    };
    std::uint32_t length;
  };
  struct Slot {
    std::uint32_t check = 0;  // 24 bits of hash, 8 bits of length (255: longer)
    std::uint32_t id1 = 0;    // id + 1; 0 marks an empty slot
    std::uint64_t head = 0;   // prefix_key() of the string
  };
  static Slot make_slot(std::string_view s, std::uint64_t hash, std::uint32_t id);
  bool matches(const Slot& slot, const Slot& probe, std::string_view s) const;
  // Returns the id, or kNone with `slot` at the empty slot where `s` goes.
  std::uint32_t probe(std::string_view s, const Slot& key, std::uint64_t hash, std::size_t& slot) const;
  void grow();

  // Grown to megabytes, and the slots probed at random: on huge pages.
  std::vector<char, HugePageAllocator<char>> bytes_;
  std::vector<Span, HugePageAllocator<Span>> spans_;
  std::vector<Slot, HugePageAllocator<Slot>> slots_;
};

}  // namespace gw
