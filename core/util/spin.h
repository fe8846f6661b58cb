// SpinWait: how the write path waits.
//
// SpinWait backs off from a busy-wait: a few thousand pause instructions
// (the awaited event is normally a few hundred nanoseconds away: another
// writer finishing its copy), then sched_yield, so that on a machine with
// fewer cores than writers the thread that holds up progress gets to run.
//
// Thread contract: SpinWait is a per-call local object.
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

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_SPIN_H_
