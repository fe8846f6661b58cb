// SpinWait and SpinLock: the two waiting primitives of the write path.
//
// SpinWait backs off from a busy-wait: a few thousand pause instructions
// (the awaited event is normally a few hundred nanoseconds away: another
// writer finishing its copy), then sched_yield, so that on a machine with
// fewer cores than writers the thread that holds up progress gets to run.
//
// SpinLock is a test-and-test-and-set lock for critical sections of tens of
// nanoseconds (an index sub-table mutation, a key's condition check and its
// install). It never sleeps in the kernel; waiters back off with SpinWait.
//
// Thread contract: SpinWait is a per-call local object. SpinLock may be
// locked and unlocked from any thread; it is not recursive.
#ifndef FIRKIN_CORE_UTIL_SPIN_H_
#define FIRKIN_CORE_UTIL_SPIN_H_

#include <atomic>
#include <cstdint>
#include <thread>

namespace firkin {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class SpinWait {
 public:
  void Once() {
    if (++rounds_ < kSpinRounds) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }

 private:
  static constexpr uint32_t kSpinRounds = 2000;
  uint32_t rounds_ = 0;
};

class SpinLock {
 public:
  void lock() {
    for (SpinWait w;; w.Once()) {
      if (!locked_.load(std::memory_order_relaxed) &&
          !locked_.exchange(true, std::memory_order_acquire)) {
        return;
      }
    }
  }
  bool try_lock() {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_SPIN_H_
