// A std::allocator for the engine's big randomly accessed tables (the id
// hash slots, the per-contract state). Their lookups land anywhere in tens
// of MB, so with 4 KiB pages nearly every one also misses the TLB, and a
// page walk is costly under virtualization (a software prefetch waits for
// it). Tables that grow to megabytes gain too: each page's first touch is a
// page fault, dear under virtualization (on the benchmark machine 17 us
// for 4 KiB, 0.15 ms for 2 MiB: a 57th of the cost per byte). A block of
// at least one huge page (2 MiB) is therefore 2 MiB-aligned, rounded up
// to whole huge pages and marked for transparent huge pages (madvise
// MADV_HUGEPAGE; a hint, ignored where THP is off). Memory is committed a
// huge page at a time where the block is touched, so a table costs at most
// one huge page more than with small pages. Smaller blocks come from
// operator new (aligned to kSmallAlignment, below).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace gw {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// kSmallAlignment: the alignment of smaller blocks. Above operator new's
// (e.g. 64, a cache line, for a table of 64-byte records), a smaller block
// is operator new's block of kSmallAlignment bytes more, started at the
// first aligned address past its start, which keeps operator new's pointer
// just below it: the allocation is the same as an unaligned one (big ones
// still mapped), where an aligned operator new would carve it from the heap.
template <typename T, std::size_t kSmallAlignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__>
class HugePageAllocator {
  static_assert(kSmallAlignment >= __STDCPP_DEFAULT_NEW_ALIGNMENT__ && (kSmallAlignment & (kSmallAlignment - 1)) == 0,
                "a power of two, at least operator new's");

 public:
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = HugePageAllocator<U, kSmallAlignment>;
  };

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U, kSmallAlignment>&) {}  // NOLINT: rebinding, as std::allocator

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return static_cast<T*>(allocate_small(bytes));
    const std::size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* p = std::aligned_alloc(kHugePageBytes, rounded);
    if (p == nullptr) throw std::bad_alloc();
    ::madvise(p, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) {
    if (n * sizeof(T) < kHugePageBytes) {
      deallocate_small(p);
    } else {
      std::free(p);
    }
  }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }

 private:
  static constexpr bool kWider = kSmallAlignment > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  static void* allocate_small(std::size_t bytes) {
    if constexpr (!kWider) {
      return ::operator new(bytes);
    } else {
      // operator new's alignment leaves room for its pointer below the start.
      static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= sizeof(void*));
      char* block = static_cast<char*>(::operator new(bytes + kSmallAlignment));
      char* start = block + kSmallAlignment - reinterpret_cast<std::uintptr_t>(block) % kSmallAlignment;
      std::memcpy(start - sizeof(void*), &block, sizeof(void*));
      return start;
    }
  }
  static void deallocate_small(void* p) {
    if constexpr (!kWider) {
      ::operator delete(p);
    } else {
      void* block;
      std::memcpy(&block, static_cast<char*>(p) - sizeof(void*), sizeof(void*));
      ::operator delete(block);
    }
  }
};

}  // namespace gw
