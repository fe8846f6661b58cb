/*
 * alloc_fail.h — allocation failure on demand, for the test program that
 * includes it (once): it defines malloc, calloc, realloc, free and the
 * aligned allocators over glibc's own (__libc_malloc and the rest), which
 * the process then uses everywhere, libfirkin and libstdc++'s operator new
 * included (the executable's definitions come first in symbol lookup).
 * Test machinery only: nothing of it is in libfirkin.so.
 *
 *   af_fail_nth(n, sticky)  the calling thread's n-th allocation from now
 *                           fails (returns NULL, errno ENOMEM), and with
 *                           `sticky` every one after it too, until
 *                           af_off(); other threads are not touched
 *   af_fail_all(per_million) every thread's allocations fail at random,
 *                           that many in a million, until af_off()
 *   af_off()                stops both (for the calling thread's n-th)
 *   af_failed()             how many allocations were failed since the
 *                           last arm (this thread's; all threads' for
 *                           af_fail_all)
 *   af_pending()            whether this thread's n-th has not come yet
 *
 * Not with a sanitizer's allocator (ASan, TSan): AF_AVAILABLE is 0 there
 * and the program should skip what needs it.
 * Thread contract: each arm/off from any thread; the state is per thread
 * for af_fail_nth, global (atomics) for af_fail_all.
 */
#ifndef FIRKIN_TESTS_SUPPORT_ALLOC_FAIL_H_
#define FIRKIN_TESTS_SUPPORT_ALLOC_FAIL_H_

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AF_AVAILABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AF_AVAILABLE 0
#endif
#endif
#ifndef AF_AVAILABLE
#define AF_AVAILABLE 1
#endif

static _Thread_local long af_countdown_; /* 0: off; else allocations until the failing one */
static _Thread_local bool af_sticky_, af_tripped_;
static _Thread_local long af_failed_here_;
static atomic_uint af_all_ppm_;
static atomic_long af_failed_all_;
static atomic_uint_fast64_t af_rng_ = 0x9E3779B97F4A7C15u;

static inline void af_fail_nth(long n, bool sticky) {
  af_tripped_ = false;
  af_sticky_ = sticky;
  af_failed_here_ = 0;
  af_countdown_ = n;
}
static inline void af_fail_all(unsigned per_million) {
  atomic_store(&af_failed_all_, 0);
  atomic_store(&af_all_ppm_, per_million);
}
static inline void af_off(void) {
  af_countdown_ = 0;
  af_tripped_ = false;
  atomic_store(&af_all_ppm_, 0);
}
static inline long af_failed(void) { return af_failed_here_ + atomic_load(&af_failed_all_); }
static inline bool af_pending(void) { return af_countdown_ > 0 && !af_tripped_; }

/* Called at each failure made on purpose: a place for a debugger's
 * breakpoint (`break af_trip_hook`). */
__attribute__((noinline, used)) static void af_trip_hook(void) { __asm__ volatile(""); }

/* Whether this allocation fails. */
static inline bool af_fail_now_(void) {
  if (af_tripped_) {
    if (af_sticky_) {
      af_failed_here_++;
      return true;
    }
  } else if (af_countdown_ > 0 && --af_countdown_ == 0) {
    af_tripped_ = true;
    af_failed_here_++;
    af_trip_hook();
    return true;
  }
  const unsigned ppm = atomic_load_explicit(&af_all_ppm_, memory_order_relaxed);
  if (ppm != 0) {
    /* splitmix64 over a shared counter: no allocation, no lock */
    uint64_t z = atomic_fetch_add_explicit(&af_rng_, 0x9E3779B97F4A7C15u, memory_order_relaxed);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    if (z % 1000000u < ppm) {
      atomic_fetch_add_explicit(&af_failed_all_, 1, memory_order_relaxed);
      return true;
    }
  }
  return false;
}

#if AF_AVAILABLE
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n) {
  if (af_fail_now_()) {
    errno = ENOMEM;
    return NULL;
  }
  return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
  if (af_fail_now_()) {
    errno = ENOMEM;
    return NULL;
  }
  return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
  if (n != 0 && af_fail_now_()) {
    errno = ENOMEM;
    return NULL;
  }
  return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
void *memalign(size_t align, size_t n) {
  if (af_fail_now_()) {
    errno = ENOMEM;
    return NULL;
  }
  return __libc_memalign(align, n);
}
void *aligned_alloc(size_t align, size_t n) { return memalign(align, n); }
int posix_memalign(void **out, size_t align, size_t n) {
  if (af_fail_now_()) return ENOMEM;
  void *p = __libc_memalign(align, n);
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}
#endif

#endif /* FIRKIN_TESTS_SUPPORT_ALLOC_FAIL_H_ */
