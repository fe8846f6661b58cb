// RealtimeMsClock (realtime_clock.h): the window's slow path and its
// calibration.
#include "core/util/realtime_clock.h"

#include <sys/prctl.h>
#include <time.h>

#include <cstdio>
#include <cstring>

namespace firkin {
namespace {

constexpr uint64_t kNsPerMs = 1000000;
// The calibration's shortest interval, and how far two successive ones may
// differ before it starts over.
constexpr uint64_t kCalibrateNs = 10 * kNsPerMs;
constexpr double kRateTolerance = 0.01;
// A calibration pair (TSC, CLOCK_MONOTONIC_RAW) counts only if the TSC
// reads around it are this close (about 10-25 µs at 2-5 GHz: at most
// 0.25% of an interval).
constexpr uint64_t kTightTicks = 50000;
// A window ends this much before the millisecond boundary: a share of what
// is left of the millisecond (the rate's error) and a fixed time (how far a
// plain RDTSC may run ahead of the loads before it).
constexpr double kWindowShare = 0.98;
constexpr double kGuardNs = 5000;
// How often the slow path checks that the kernel still keeps time with the
// TSC (a file read, some microseconds).
constexpr uint64_t kRecheckNs = 1000 * kNsPerMs;

uint64_t Ns(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t ReadRealtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Ns(ts);
}

}  // namespace

// (The kernel then has found the TSC invariant and in step on every CPU.)
// A process that made RDTSC fault (prctl PR_SET_TSC, as some sandboxes
// do) is left on clock_gettime, which the kernel serves another way then.
bool RealtimeMsClock::KernelUsesTsc() {
#if defined(__x86_64__)
#if defined(PR_GET_TSC)
  int tsc_state = 0;
  if (prctl(PR_GET_TSC, &tsc_state, 0, 0, 0) != 0 || tsc_state != PR_TSC_ENABLE) return false;
#endif
  FILE* f = std::fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
  if (f == nullptr) return false;
  char buf[32] = {0};
  const bool read = std::fgets(buf, sizeof(buf), f) != nullptr;
  std::fclose(f);
  return read && std::strcmp(buf, "tsc\n") == 0;
#else
  return false;
#endif
}

RealtimeMsClock::RealtimeMsClock(Mode mode) {
#if defined(__x86_64__)
  tsc_ok_.store(mode == Mode::kAuto && KernelUsesTsc(), std::memory_order_relaxed);
#else
  (void)mode;
#endif
}

RealtimeMsClock& RealtimeMsClock::Process() {
  static RealtimeMsClock clock(Mode::kAuto);
  return clock;
}

uint64_t RealtimeMsClock::Slow() {
  uint32_t v = version_.load(std::memory_order_relaxed);
  if (!tsc_ok_.load(std::memory_order_relaxed) || (v & 1) != 0 ||
      !version_.compare_exchange_strong(v, v + 1, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
    return ReadRealtimeNs() / kNsPerMs;  // no TSC, or another thread rewrites the window
  }
  // The odd version is visible before any word of the window changes.
  std::atomic_thread_fence(std::memory_order_release);
#if defined(__x86_64__)
  // Ordered TSC reads around the clock's: the window starts no later than
  // the reading (t0), and the calibration's pair is taken at one moment
  // (t0..t1, or not at all: a thread preempted between them would skew
  // the rate by the time it waited, and the calibration would start over
  // again and again on a loaded machine).
  _mm_lfence();
  const uint64_t t0 = __rdtsc();
  _mm_lfence();
#else
  const uint64_t t0 = 0;
#endif
  const uint64_t real_ns = ReadRealtimeNs();
  timespec mono;
  clock_gettime(CLOCK_MONOTONIC_RAW, &mono);
  const uint64_t mono_ns = Ns(mono);
#if defined(__x86_64__)
  _mm_lfence();
  const uint64_t t1 = __rdtsc();
#else
  const uint64_t t1 = 0;
#endif
  const bool tight = t1 >= t0 && t1 - t0 < kTightTicks;
  const uint64_t tm = t0 + (t1 - t0) / 2;  // the pair's TSC (if tight)
  if (checked_ns_ == 0) checked_ns_ = mono_ns;
  if (mono_ns - checked_ns_ >= kRecheckNs) {
    checked_ns_ = mono_ns;
    if (!KernelUsesTsc()) tsc_ok_.store(false, std::memory_order_relaxed);
  }
  // Calibration: the TSC's rate against CLOCK_MONOTONIC_RAW over at least
  // kCalibrateNs; each interval's rate must agree with the one before. A
  // TSC or clock that went back starts it over.
  if (base_ns_ != 0 && (t0 < base_tsc_ || mono_ns < base_ns_)) {
    base_ns_ = 0;
    ticks_per_ns_ = 0;
    windows_ok_ = false;
  }
  if (!tight) {
    // No pair this time; the window (below) needs none.
  } else if (base_ns_ == 0) {
    base_tsc_ = tm;
    base_ns_ = mono_ns;
  } else if (mono_ns - base_ns_ >= kCalibrateNs) {
    const double rate =
        static_cast<double>(tm - base_tsc_) / static_cast<double>(mono_ns - base_ns_);
    const bool agrees = ticks_per_ns_ > 0 && rate > ticks_per_ns_ * (1 - kRateTolerance) &&
                        rate < ticks_per_ns_ * (1 + kRateTolerance);
    // A first estimate is kept to be checked; one that disagrees with the
    // one before starts the calibration over (no window meanwhile).
    ticks_per_ns_ = rate > 0 ? rate : 0;
    windows_ok_ = agrees;
    base_tsc_ = tm;
    base_ns_ = mono_ns;
  }
  const uint64_t ms = real_ns / kNsPerMs;
  uint64_t span = 0;
  if (windows_ok_ && tsc_ok_.load(std::memory_order_relaxed)) {
    const double left_ns =
        static_cast<double>(kNsPerMs - real_ns % kNsPerMs) * kWindowShare - kGuardNs;
    if (left_ns > 0) span = static_cast<uint64_t>(left_ns * ticks_per_ns_);
  }
  ms_.store(ms, std::memory_order_relaxed);
  from_.store(t0, std::memory_order_relaxed);
  span_.store(span, std::memory_order_relaxed);
  version_.store(v + 2, std::memory_order_release);
  if (span != 0) windows_.fetch_add(1, std::memory_order_relaxed);
  return ms;
}

}  // namespace firkin
