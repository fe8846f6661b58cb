// PrefetchForWrite: a hint to the CPU to fetch a cache line in the owned
// (exclusive) state ahead of a store to it, so that a line another core
// holds is fetched once, not first shared for a read and then again for
// the write. Only a hint: no effect on what the program computes.
//
// Thread contract: none (a pure hint, any thread).
#ifndef FIRKIN_CORE_UTIL_PREFETCH_H_
#define FIRKIN_CORE_UTIL_PREFETCH_H_

namespace firkin {

inline void PrefetchForWrite(const void* p) {
#if defined(__x86_64__)
  // PREFETCHW (AMD64 since K8, Intel since Broadwell; a no-op before).
  // GCC emits it for __builtin_prefetch(p, 1) only with -mprfchw.
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1, 3);
#endif
}

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_PREFETCH_H_
