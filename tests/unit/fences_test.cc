// Unit tests of the write path's handshakes without locked instructions:
//  - asymmetric fences (core/util/asymmetric_fence.h): the store-buffering
//    litmus test (each of two threads stores, fences, loads what the other
//    stored; never may both load the old value), with the light fence on
//    one side and the heavy one on the other, tens of thousands of times.
//    The same pairing with compiler barriers only is run beside it and its
//    reorderings are printed: that they occur on this machine shows the
//    test would see a broken fence (not asserted: how often a CPU reorders
//    is not a promise);
//  - WriterGate (core/db/writer_gate.h): writers inside the gate and an
//    exclusive holder never overlap, with more threads than it has owned
//    counters (the shared ones then take part), while threads come and go;
//  - striped counters (core/util/striped_counter.h): the sum is exact when
//    threads that each own a cell exit and new threads take their indices
//    over, and with more threads alive than there are owned cells.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "core/db/writer_gate.h"
#include "core/util/asymmetric_fence.h"
#include "core/util/striped_counter.h"

namespace firkin {
namespace {

// One round of the store-buffering litmus test per iteration; the two
// threads meet at a barrier before each round and start within a few
// cycles of each other (a short random delay each, as in Preshing's
// version of the test), so that their stores are still in flight when the
// other loads. Returns how many rounds both threads loaded 0.
template <typename FenceA, typename FenceB>
int StoreBuffering(int rounds, FenceA fa, FenceB fb) {
  std::atomic<int> x{0}, y{0}, arrived{0}, left{0};
  std::atomic<int> both_zero{0};
  std::atomic<int> r1{0}, r2{0};
  auto meet = [](std::atomic<int>& at, int target) {
    at.fetch_add(1, std::memory_order_acq_rel);
    while (at.load(std::memory_order_acquire) < target) {
    }
  };
  auto side = [&](bool a) {
    uint32_t rng = a ? 12345 : 67890;
    for (int i = 0; i < rounds; i++) {
      meet(arrived, 2 * (i + 1));
      rng = rng * 1103515245 + 12345;
      for (volatile int d = (rng >> 16) % 8; d > 0; d--) {
      }
      if (a) {
        x.store(1, std::memory_order_relaxed);
        fa();
        r1.store(y.load(std::memory_order_relaxed), std::memory_order_relaxed);
      } else {
        y.store(1, std::memory_order_relaxed);
        fb();
        r2.store(x.load(std::memory_order_relaxed), std::memory_order_relaxed);
      }
      meet(left, 2 * (i + 1));
      if (a) {  // B reaches the next round's barrier only after this reset
        if (r1.load() == 0 && r2.load() == 0) both_zero.fetch_add(1);
        x.store(0, std::memory_order_relaxed);
        y.store(0, std::memory_order_relaxed);
      }
    }
  };
  std::thread b([&] { side(false); });
  side(true);
  b.join();
  return both_zero.load();
}

TEST(AsymmetricFenceTest, LightAgainstHeavyNeverLetsBothMiss) {
  EnableAsymmetricFences();
  const int kRounds = 20000;
  const int broken = StoreBuffering(
      kRounds, [] { std::atomic_signal_fence(std::memory_order_seq_cst); },
      [] { std::atomic_signal_fence(std::memory_order_seq_cst); });
  std::printf("  compiler barriers only: both missed in %d of %d rounds (light fences: %s)\n",
              broken, kRounds,
              asymmetric_fence_detail::g_light.load() ? "membarrier" : "full fences");
  EXPECT_EQ(StoreBuffering(kRounds, [] { LightFence(); }, [] { HeavyFence(); }), 0);
  EXPECT_EQ(StoreBuffering(kRounds, [] { HeavyFence(); }, [] { LightFence(); }), 0);
}

void GateRun(int writers, int rounds_per_writer, int generations) {
  WriterGate gate;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<bool> stop{false};
  long plain = 0;  // written by the holder only, read by writers inside the gate
  std::thread holder([&] {
    long n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      gate.RunExclusive([&] {
        if (inside.load(std::memory_order_relaxed) != 0) overlaps.fetch_add(1);
        plain = ++n;
        if (inside.load(std::memory_order_relaxed) != 0) overlaps.fetch_add(1);
      });
      std::this_thread::yield();
    }
  });
  for (int g = 0; g < generations; g++) {  // threads come and go: indices are reused
    std::vector<std::thread> ts;
    for (int t = 0; t < writers; t++) {
      ts.emplace_back([&] {
        long seen = 0;
        for (int i = 0; i < rounds_per_writer; i++) {
          WriterGate::Scope s(&gate);
          inside.fetch_add(1, std::memory_order_relaxed);
          const long p = plain;  // a data race if the holder overlapped
          if (p < seen) overlaps.fetch_add(1);
          seen = p;
          inside.fetch_sub(1, std::memory_order_relaxed);
        }
      });
    }
    for (auto& t : ts) t.join();
  }
  stop = true;
  holder.join();
  EXPECT_EQ(overlaps.load(), 0) << writers << " writers";
}

TEST(WriterGateTest, HolderAndWritersNeverOverlap) {
  EnableAsymmetricFences();
  GateRun(4, 20000, 3);
}

TEST(WriterGateTest, MoreThreadsThanOwnedCounters) {
  EnableAsymmetricFences();
  GateRun(72, 500, 2);
}

TEST(StripedCounterTest, ExactAcrossThreadChurnAndSharedCells) {
  StripedCounter c;
  ByteCount b;
  const int kAdds = 2000;
  uint64_t want = 0;
  for (int threads : {8, 8, 80, 3, 80}) {  // reuse of indices, then shared cells
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++) {
      ts.emplace_back([&] {
        for (int i = 0; i < kAdds; i++) {
          c.Add(1);
          b.fetch_add(3);
          b.fetch_sub(1);
        }
      });
    }
    for (auto& t : ts) t.join();
    want += uint64_t(threads) * kAdds;
    EXPECT_EQ(c.Sum(), want);
    EXPECT_EQ(b.load(), 2 * want);
  }
}

}  // namespace
}  // namespace firkin
