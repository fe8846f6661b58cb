// Unit tests of RealtimeMsClock (core/util/realtime_clock.h), the clock of
// commit times: a reading is never behind CLOCK_REALTIME read before the
// call and never ahead of it read after, from many threads at once, in
// both modes; where the kernel keeps time with the TSC, the windows are in
// use (most reads are answered by them), so the test checks the TSC path
// and not only the fallback.
#include <gtest/gtest.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "core/util/realtime_clock.h"

namespace firkin {
namespace {

uint64_t SystemMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

// Reads the clock between two system readings, from `threads` threads for
// `ms` milliseconds; returns how many reads were out of their bounds.
uint64_t Bracket(RealtimeMsClock* clock, int threads, int ms, uint64_t* reads) {
  std::atomic<uint64_t> bad{0}, total{0};
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++) {
    ts.emplace_back([&] {
      uint64_t n = 0, b = 0;
      while (std::chrono::steady_clock::now() < end) {
        for (int i = 0; i < 1000; i++) {
          const uint64_t before = SystemMs();
          const uint64_t now = clock->NowMs();
          const uint64_t after = SystemMs();
          if (now < before || now > after) {
            if (b++ < 5) {
              std::fprintf(stderr, "reading %llu outside [%llu, %llu]\n",
                           static_cast<unsigned long long>(now),
                           static_cast<unsigned long long>(before),
                           static_cast<unsigned long long>(after));
            }
          }
          n++;
        }
      }
      bad += b;
      total += n;
    });
  }
  for (auto& t : ts) t.join();
  *reads = total.load();
  return bad.load();
}

TEST(RealtimeClock, NeverBehindNorAheadOfTheSystemClock) {
  RealtimeMsClock clock;
  uint64_t reads = 0;
  EXPECT_EQ(Bracket(&clock, 4, 600, &reads), 0u);
  std::printf("auto: %llu reads, %llu windows, kernel clocksource tsc: %s\n",
              static_cast<unsigned long long>(reads),
              static_cast<unsigned long long>(clock.windows()),
              RealtimeMsClock::KernelUsesTsc() ? "yes" : "no");
  if (RealtimeMsClock::KernelUsesTsc()) {
    // Calibrated after 20 ms (longer on a loaded machine), then a few
    // windows per millisecond: far fewer windows than reads means the
    // reads were answered by them.
    EXPECT_GT(clock.windows(), 10u);
    EXPECT_LT(clock.windows() * 10, reads);
  } else {
    EXPECT_EQ(clock.windows(), 0u);
  }
}

TEST(RealtimeClock, WindowsAnswerReadsWithoutTheClock) {
  if (!RealtimeMsClock::KernelUsesTsc()) GTEST_SKIP() << "the kernel's clocksource is not tsc";
  RealtimeMsClock clock;
  // Past the calibration (two intervals of at least 10 ms; a pair taken
  // across a preemption does not count, so on a loaded machine it may
  // take longer: up to 2 s here).
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (clock.windows() == 0 && std::chrono::steady_clock::now() < end) clock.NowMs();
  const uint64_t w0 = clock.windows();
  EXPECT_GT(w0, 0u);
  // A tight loop of reads for about 100 ms: a window closes before each
  // millisecond boundary (and a few short ones follow it up to the
  // boundary), so there are some per millisecond, and each answers
  // thousands of reads.
  uint64_t n = 0;
  const auto end2 = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (std::chrono::steady_clock::now() < end2) {
    for (int i = 0; i < 1000; i++) clock.NowMs();
    n += 1000;
  }
  const uint64_t opened = clock.windows() - w0;
  std::printf("%llu reads, %llu windows opened\n", static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(opened));
  EXPECT_GE(opened, 10u);
  EXPECT_LT(opened * 100, n);
}

TEST(RealtimeClock, DirectModeReadsTheClockEachTime) {
  RealtimeMsClock clock(RealtimeMsClock::Mode::kDirect);
  uint64_t reads = 0;
  EXPECT_EQ(Bracket(&clock, 2, 100, &reads), 0u);
  EXPECT_EQ(clock.windows(), 0u);
  EXPECT_GT(reads, 0u);
}

TEST(RealtimeClock, ProcessClockIsOneObject) {
  EXPECT_EQ(&RealtimeMsClock::Process(), &RealtimeMsClock::Process());
  const uint64_t a = SystemMs();
  const uint64_t b = RealtimeMsClock::Process().NowMs();
  const uint64_t c = SystemMs();
  EXPECT_LE(a, b);
  EXPECT_LE(b, c);
}

}  // namespace
}  // namespace firkin
