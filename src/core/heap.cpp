#include <bulwark/core/heap.hpp>

#include <cstdint>
#include <cstdlib>

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#define BULWARK_GLIBC_HEAP 1
#endif

namespace bulwark {

void prepare_heap_for_batch(std::size_t reserve) {
#ifdef BULWARK_GLIBC_HEAP
  constexpr std::uintptr_t k_huge = std::uintptr_t{2} << 20;
  const int pad = static_cast<int>(reserve);
  if (pad <= 0)
    return;
  // Freed memory stays in the heap for the next allocation (no trim), and a
  // vector of 100,000 findings comes from the heap too: from mmap, each of
  // its reallocations faulted in fresh pages.
  ::mallopt(M_TRIM_THRESHOLD, pad);
  ::mallopt(M_MMAP_THRESHOLD, pad / 4);
  ::mallopt(M_TOP_PAD, pad);
  // One allocation larger than what is left of the heap's top makes malloc
  // grow the heap by it plus the pad; freed, it returns to the top.
  void *probe = std::malloc(static_cast<std::size_t>(pad / 8));
  if (probe == nullptr)
    return;
  auto begin = reinterpret_cast<std::uintptr_t>(probe);
  std::free(probe);
  auto *top = static_cast<char *>(::sbrk(0));
  auto end = reinterpret_cast<std::uintptr_t>(top);
  begin = (begin + k_huge - 1) & ~(k_huge - 1);
  if (end > begin + k_huge)
    // Advice only: on a kernel without THP it fails and changes nothing.
    // The range is taken back from the break (no integer-to-pointer cast).
    (void)::madvise(top - (end - begin), (end - begin) & ~(k_huge - 1), MADV_HUGEPAGE);
#else
  (void)reserve;
#endif
}

} // namespace bulwark
