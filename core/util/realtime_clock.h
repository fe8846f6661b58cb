// The system's real-time clock (CLOCK_REALTIME) in whole milliseconds, read
// for the commit time of every write (DESIGN §5), at the cost of a TSC read.
//
// clock_gettime through the vDSO costs about 20 ns on the reference
// machines: it orders its TSC read with a fence and scales it. A write needs
// only the millisecond, which stays the same for a million TSC ticks or so,
// so RealtimeMsClock keeps the last reading with the TSC value before which
// it is certainly still current (the next millisecond boundary, converted
// to TSC ticks at a calibrated rate, minus a margin), and a read compares a
// plain RDTSC against it: about 9 ns, and no fence that waits for the
// caller's outstanding loads. About once per millisecond a read finds the
// window over and reads the clock again.
//
// What it promises, exactly as reading CLOCK_REALTIME would: a reading is
// never behind a clock reading that happened before the call, and never
// ahead of one that happens after it (both in milliseconds). The window is
// conservative for that: it ends before the boundary by 2% of its length
// (the rate's error, NTP slewing included, is far smaller) and by 5 µs (a
// plain RDTSC may run some hundred instructions ahead of the loads before
// it, e.g. the one that saw another thread's later clock reading).
//
// When it uses the TSC: only where the kernel itself keeps time with it
// (clocksource `tsc`: it has checked that the counter is invariant and in
// step on every CPU) and the process may execute RDTSC (prctl PR_GET_TSC;
// a process that turns it off after the clock's first use is not
// supported), and only once a calibration over at least 10 ms of
// CLOCK_MONOTONIC_RAW agrees with the last one within 1% (a rate that
// moves, as after a migration to another host, restarts the calibration,
// and meanwhile every read goes to the clock). Anywhere else every read is
// a clock_gettime, as before. The clocksource is looked at again about
// once a second: if the kernel has left the TSC (it found it unstable),
// so does this clock, for good. A TSC that goes back (one reset across a
// suspend) is below the window's start, which ends the window and starts
// the calibration over. A clock that is set back is read back at the
// next window, as CLOCK_REALTIME would be; DB::NowMs keeps the database's
// time from going back.
//
// Thread contract: any thread, concurrently. NowMs is wait-free: the
// window is a seqlock over three words, rewritten by one thread at a time
// (the one that wins a compare-and-swap on its version); a reader that
// finds it being rewritten reads the clock itself.
#ifndef FIRKIN_CORE_UTIL_REALTIME_CLOCK_H_
#define FIRKIN_CORE_UTIL_REALTIME_CLOCK_H_

#include <atomic>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace firkin {

class RealtimeMsClock {
 public:
  enum class Mode {
    kAuto,    // the TSC where the kernel's clocksource is `tsc`
    kDirect,  // clock_gettime on every read
  };
  explicit RealtimeMsClock(Mode mode = Mode::kAuto);
  RealtimeMsClock(const RealtimeMsClock&) = delete;
  RealtimeMsClock& operator=(const RealtimeMsClock&) = delete;

  // The process's clock (Mode::kAuto).
  static RealtimeMsClock& Process();

  // Milliseconds since the Unix epoch.
  uint64_t NowMs() {
#if defined(__x86_64__)
    const uint32_t v = version_.load(std::memory_order_acquire);
    const uint64_t ms = ms_.load(std::memory_order_relaxed);
    const uint64_t from = from_.load(std::memory_order_relaxed);
    const uint64_t span = span_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    // (One compare for both ends: a TSC below the window's start wraps.)
    if (__builtin_expect((v & 1) == 0 && Tsc() - from < span &&
                             version_.load(std::memory_order_relaxed) == v,
                         1)) {
      return ms;
    }
#endif
    return Slow();
  }

  // How many windows were opened (for tests).
  uint64_t windows() const { return windows_.load(std::memory_order_relaxed); }
  // Whether the kernel keeps time with the TSC (clocksource `tsc`), which
  // Mode::kAuto requires.
  static bool KernelUsesTsc();

 private:
  // A plain RDTSC (not ordered with the loads before it: the window's
  // guard covers that).
  static uint64_t Tsc() {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return 0;
#endif
  }
  uint64_t Slow();

  // The window: ms_ is the clock's reading while the TSC is in [from_,
  // from_ + span_) (span_ 0: no window). version_ is odd while they are
  // rewritten.
  alignas(64) std::atomic<uint32_t> version_{0};
  std::atomic<uint64_t> ms_{0};
  std::atomic<uint64_t> from_{0};
  std::atomic<uint64_t> span_{0};
  // Whether this clock may use the TSC: set at construction, turned off
  // for good if the kernel stops keeping time with it (checked again about
  // once a second, by the slow path).
  std::atomic<bool> tsc_ok_{false};
  // Written only by the thread holding the odd version.
  uint64_t checked_ns_ = 0;     // when the clocksource was last checked (MONOTONIC_RAW)
  uint64_t base_tsc_ = 0;       // the calibration's start
  uint64_t base_ns_ = 0;        // (CLOCK_MONOTONIC_RAW; 0 = none)
  double ticks_per_ns_ = 0;     // the last interval's rate (0 = none yet)
  bool windows_ok_ = false;     // it agreed with the one before
  std::atomic<uint64_t> windows_{0};
};

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_REALTIME_CLOCK_H_
