// A std::allocator for the engine's big randomly accessed tables (the id
// hash slots, the per-contract state). Their lookups land anywhere in tens
// of MB, so with 4 KiB pages nearly every one also misses the TLB, and a
// page walk is costly under virtualization (a software prefetch waits for
// it). A block of at least one huge page (2 MiB) is therefore 2 MiB-aligned,
// rounded up to whole huge pages and marked for transparent huge pages
// (madvise MADV_HUGEPAGE; a hint, ignored where THP is off). Memory is
// committed a huge page at a time where the block is touched, so a table
// costs at most one huge page more than with small pages. Smaller blocks
// come from operator new.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace gw {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return static_cast<T*>(::operator new(bytes));
    const std::size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* p = std::aligned_alloc(kHugePageBytes, rounded);
    if (p == nullptr) throw std::bad_alloc();
    ::madvise(p, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) {
    if (n * sizeof(T) < kHugePageBytes) {
      ::operator delete(p);
    } else {
      std::free(p);
    }
  }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

}  // namespace gw
