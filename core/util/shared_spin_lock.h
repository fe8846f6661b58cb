// SharedSpinLock: a reader-writer lock for short critical sections that
// waits by spinning (then yielding, then short sleeps) instead of sleeping
// on a futex at once. A writer that waits blocks new readers (no writer
// starvation). Meets the SharedMutex requirements used here (lock, unlock,
// lock_shared, unlock_shared), so std::unique_lock / std::shared_lock work.
//
// Why: the ordered index's lock is held for a few hundred nanoseconds to a
// few microseconds (picking a batch of entries; an insert's binary search,
// which may read keys from the log). With std::shared_mutex, a scan that met
// an insert slept on the futex and was woken by the kernel, which cost more
// than the wait itself (YCSB E at 2 threads: futex wake and schedule were
// 5% of the profile).
//
// Thread contract: any thread; not recursive; a thread holding it shared
// must not ask for it exclusively.
#ifndef FIRKIN_CORE_UTIL_SHARED_SPIN_LOCK_H_
#define FIRKIN_CORE_UTIL_SHARED_SPIN_LOCK_H_

#include <time.h>

#include <atomic>
#include <cstdint>

#include "core/util/spin.h"

namespace firkin {

class SharedSpinLock {
 public:
  void lock_shared() {
    Backoff b;
    for (;;) {
      uint64_t s = state_.load(std::memory_order_relaxed);
      if ((s & (kWriter | kWaiting)) == 0 &&
          state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
      b.Once();
    }
  }
  void unlock_shared() { state_.fetch_sub(1, std::memory_order_release); }

  void lock() {
    Backoff b;
    for (;;) {
      uint64_t s = state_.load(std::memory_order_relaxed);
      if ((s & ~kWaiting) == 0) {
        // Free (maybe with writers waiting, this one among them): take it.
        if (state_.compare_exchange_weak(s, kWriter, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
          return;
        }
        continue;
      }
      if ((s & kWaiting) == 0) state_.fetch_or(kWaiting, std::memory_order_relaxed);
      b.Once();
    }
  }
  // Keeps kWaiting if another writer set it meanwhile.
  void unlock() { state_.fetch_and(~kWriter, std::memory_order_release); }

 private:
  // Spins, then yields, then sleeps 50 us at a time: a holder that stays
  // long (a checkpoint walking every chunk) does not cost a core.
  class Backoff {
   public:
    void Once() {
      if (++n_ < 2000) {
        CpuRelax();
      } else if (n_ < 2100) {
        std::this_thread::yield();
      } else {
        struct timespec ts = {0, 50 * 1000};
        nanosleep(&ts, nullptr);
      }
    }

   private:
    uint32_t n_ = 0;
  };

  static constexpr uint64_t kWriter = uint64_t{1} << 63;
  static constexpr uint64_t kWaiting = uint64_t{1} << 62;
  std::atomic<uint64_t> state_{0};  // readers in the low bits
};

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_SHARED_SPIN_LOCK_H_
