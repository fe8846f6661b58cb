// Unit tests of Epoch (core/util/epoch.h): a deleter never runs while a
// guard that predates its Retire is active and does run after; nesting;
// Drain; deleters that retire; many threads (more than one slot block) and
// slot reuse; a reader/reclaimer stress with a use-after-free detector;
// a fork child's Drain, whatever the parent's other threads were doing.
//
// Epoch is process-wide: every test starts and ends with Drain().
#include "core/util/epoch.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "core/log/segment.h"
#include "tests/unit/leaks_expected.h"
#include "tests/unit/memory_file.h"

// This binary replaces the global operator new and delete, to stop a
// thread in its next allocation on demand (t_stop_in_new: the stopped
// thread calls it once), for ForkChildRunsNoneOfTheParentsDeleters: a
// thread stopped that way inside SegmentTable::Add holds the table's mutex.
// The core is linked in statically, so its allocations come here too.
// Also to make the thread's n-th allocation from now fail (t_fail_new_at:
// SegmentTableChangesThatCannotAllocate).
namespace {
thread_local void (*t_stop_in_new)() = nullptr;
thread_local int t_fail_new_at = 0;
}  // namespace

void* operator new(size_t n) {
  if (void (*stop)() = t_stop_in_new) {
    t_stop_in_new = nullptr;
    stop();
  }
  if (t_fail_new_at > 0 && --t_fail_new_at == 0) throw std::bad_alloc();
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return ::operator new(n); }
// (The replacements: memory from this operator new is malloc's, so free is
// its match; see ordered_index_test.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
#pragma GCC diagnostic pop
void operator delete[](void* p) noexcept { ::operator delete(p); }
void operator delete(void* p, size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, size_t) noexcept { ::operator delete(p); }

namespace firkin {
namespace {

// CPU time of the calling thread in ns: unlike wall time, it does not count
// time the thread spent descheduled on a busy machine.
double ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// A one-shot latch (C++17 has no std::latch).
class Latch {
 public:
  void Set() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

// SegmentTable::Add and Remove with the n-th allocation failing, for each
// n: one that throws changed nothing (the segment is where it was, and
// alive), and a slot that resolves always resolves to a live segment.
// Until 2026-11-30 each replaced the id-ordered directory and then handed
// the old one to Epoch::Retire, whose allocations (Remove's deleter, 40
// bytes of captures, is allocated; the queue of deleters grows in blocks)
// could throw after the change: Add threw with the segment added, and
// Remove threw with the segment out of the directory but its slot still
// resolving, the segment itself freed as its last reference went (a
// reader that resolved a locator of it read freed memory).
TEST(EpochTest, SegmentTableChangesThatCannotAllocate) {
  // (What a failed Retire keeps for good is leaked on purpose.)
  firkin::LeaksExpected leaks_expected;
  using firkin::Segment;
  uint64_t broken = 0, remove_threw = 0, add_threw = 0;
  for (int round = 0; round < 64; ++round) {
    for (int n = 1; n <= 6; ++n) {
      Epoch::Drain();
      firkin::SegmentTable table;
      uint32_t slot = 0;
      ASSERT_TRUE(table.AllocateSlot(&slot).ok());
      auto seg = std::make_shared<Segment>(1, slot, std::make_unique<firkin::MemoryFile>(4096),
                                           firkin::kSegmentHeaderSize, 0);
      std::weak_ptr<Segment> weak = seg;
      Segment* raw = seg.get();
      // (Retires before the change, from 0 to 15 of them: the queue grows
      // by a block about every twelfth, and some change's Retire is one.)
      for (int i = 0; i < round / 2 % 16; ++i) Epoch::Retire([] {});
      bool threw = false;
      t_fail_new_at = round % 2 == 0 ? n : 0;
      try {
        table.Add(std::move(seg));
      } catch (const std::bad_alloc&) {
        threw = true;
      }
      t_fail_new_at = 0;
      {
        Epoch::Guard guard;
        if (threw) {
          ++add_threw;
          if (table.ById(1) != nullptr || table.BySlot(slot) != nullptr) ++broken;
          continue;
        }
        if (table.ById(1) != raw || table.BySlot(slot) != raw) ++broken;
      }
      for (int i = 0; i < round / 2 % 16; ++i) Epoch::Retire([] {});
      t_fail_new_at = round % 2 == 1 ? n : 0;
      try {
        table.Remove(1);
      } catch (const std::bad_alloc&) {
        threw = true;
      }
      t_fail_new_at = 0;
      Epoch::Drain();
      Epoch::Guard guard;
      if (threw) {
        ++remove_threw;
        if (table.ById(1) != raw || table.BySlot(slot) != raw || weak.expired()) ++broken;
      } else if (table.ById(1) != nullptr) {
        ++broken;
      }
      if (table.BySlot(slot) != nullptr && weak.expired()) ++broken;  // a freed segment
    }
  }
  std::printf("segment table: %llu adds and %llu removes threw, %llu broken\n",
              static_cast<unsigned long long>(add_threw),
              static_cast<unsigned long long>(remove_threw),
              static_cast<unsigned long long>(broken));
  EXPECT_GT(remove_threw, 0u);
  EXPECT_GT(add_threw, 0u);
  EXPECT_EQ(broken, 0u);
}

TEST(EpochTest, RetireWithoutGuardsRunsAtOnce) {
  Epoch::Drain();
  std::atomic<int> ran{0};
  Epoch::Retire([&] { ran.fetch_add(1); });
  EXPECT_EQ(ran.load(), 1);  // no guard anywhere: Retire reclaims it
  EXPECT_EQ(Epoch::Pending(), 0u);
}

TEST(EpochTest, OwnGuardDelaysDeleter) {
  Epoch::Drain();
  std::atomic<int> ran{0};
  {
    Epoch::Guard guard;
    Epoch::Retire([&] { ran.fetch_add(1); });
    EXPECT_EQ(Epoch::Reclaim(), 0u);
    EXPECT_EQ(ran.load(), 0);
    EXPECT_EQ(Epoch::Pending(), 1u);
  }
  EXPECT_EQ(Epoch::Reclaim(), 1u);
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(Epoch::Pending(), 0u);
}

TEST(EpochTest, NestedGuardsProtectUntilOutermostEnds) {
  Epoch::Drain();
  std::atomic<int> ran{0};
  {
    Epoch::Guard outer;
    {
      Epoch::Guard inner;
      Epoch::Retire([&] { ran.fetch_add(1); });
    }
    Epoch::Reclaim();
    EXPECT_EQ(ran.load(), 0);  // the outer guard still predates the retire
    {
      Epoch::Guard inner2;  // re-entering does not refresh the epoch
      Epoch::Reclaim();
      EXPECT_EQ(ran.load(), 0);
    }
  }
  Epoch::Reclaim();
  EXPECT_EQ(ran.load(), 1);
}

TEST(EpochTest, OtherThreadsOlderGuardDelaysDeleter) {
  Epoch::Drain();
  Latch entered, release;
  std::thread reader([&] {
    Epoch::Guard guard;
    entered.Set();
    release.Wait();
  });
  entered.Wait();
  std::atomic<int> ran{0};
  Epoch::Retire([&] { ran.fetch_add(1); });
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Epoch::Reclaim(), 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(Epoch::Pending(), 1u);
  // A guard entered after the retire does not hold it back.
  std::thread late([&] {
    Epoch::Guard guard;
    Epoch::Reclaim();
  });
  late.join();
  EXPECT_EQ(ran.load(), 0);
  release.Set();
  reader.join();
  EXPECT_EQ(Epoch::Reclaim(), 1u);
  EXPECT_EQ(ran.load(), 1);
}

TEST(EpochTest, NewerGuardDoesNotDelayDeleter) {
  Epoch::Drain();
  Latch entered, release;
  std::atomic<int> ran{0};
  std::thread holder;
  {
    Epoch::Guard mine;
    Epoch::Retire([&] { ran.fetch_add(1); });
    holder = std::thread([&] {
      Epoch::Guard guard;  // entered after the retire
      entered.Set();
      release.Wait();
    });
    entered.Wait();
  }
  EXPECT_EQ(Epoch::Reclaim(), 1u);  // only `mine` predated it, and it ended
  EXPECT_EQ(ran.load(), 1);
  release.Set();
  holder.join();
}

TEST(EpochTest, DrainWaitsForReaders) {
  Epoch::Drain();
  Latch entered;
  std::atomic<bool> reader_done{false};
  std::atomic<int> ran{0};
  std::thread reader([&] {
    Epoch::Guard guard;
    entered.Set();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    reader_done.store(true);
  });
  entered.Wait();
  for (int i = 0; i < 5; ++i) {
    Epoch::Retire([&] {
      EXPECT_TRUE(reader_done.load());
      ran.fetch_add(1);
    });
  }
  EXPECT_EQ(ran.load(), 0);
  Epoch::Drain();
  EXPECT_EQ(ran.load(), 5);
  EXPECT_EQ(Epoch::Pending(), 0u);
  reader.join();
}

TEST(EpochTest, DeleterMayRetire) {
  Epoch::Drain();
  std::atomic<int> ran{0};
  {
    Epoch::Guard guard;
    Epoch::Retire([&] {
      ran.fetch_add(1);
      Epoch::Retire([&] { ran.fetch_add(10); });
    });
  }
  Epoch::Drain();
  EXPECT_EQ(ran.load(), 11);
}

// More threads than a slot block holds, all inside guards at once, then all
// gone; later threads reuse the released slots.
TEST(EpochTest, ManyThreadsRegisterAndRelease) {
  Epoch::Drain();
  constexpr int kThreads = 150;
  std::atomic<int> inside{0};
  Latch all_inside;
  Latch release;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      Epoch::Guard guard;
      if (inside.fetch_add(1) + 1 == kThreads) all_inside.Set();
      release.Wait();
    });
  }
  all_inside.Wait();
  std::atomic<int> ran{0};
  Epoch::Retire([&] { ran.fetch_add(1); });
  EXPECT_EQ(Epoch::Reclaim(), 0u);
  EXPECT_EQ(ran.load(), 0);
  release.Set();
  for (auto& t : threads) t.join();
  EXPECT_EQ(Epoch::Reclaim(), 1u);
  // Short-lived threads, one after another: slots are recycled.
  for (int round = 0; round < 300; ++round) {
    std::thread([] { Epoch::Guard guard; }).join();
  }
  Epoch::Drain();
  EXPECT_EQ(ran.load(), 1);
}

// Readers dereference a shared object under a guard while writers swap it
// and retire the old one. The deleter poisons the object before freeing it,
// so a reader that could still see a reclaimed object reads the poison (and
// ASan reports the use after free).
TEST(EpochTest, StressNoUseAfterReclaim) {
  Epoch::Drain();
  struct Obj {
    std::atomic<uint64_t> magic{0x600DF00D};
    uint64_t payload[7] = {};
  };
  std::atomic<Obj*> shared{new Obj()};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad{0}, reads{0}, deleted{0};
  auto reader = [&] {
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      Epoch::Guard guard;
      for (int i = 0; i < 16; ++i) {
        Obj* o = shared.load(std::memory_order_acquire);
        if (o->magic.load(std::memory_order_relaxed) != 0x600DF00D) bad.fetch_add(1);
        ++n;
      }
    }
    reads.fetch_add(n);
  };
  auto writer = [&](int swaps) {
    for (int i = 0; i < swaps; ++i) {
      Obj* old = shared.exchange(new Obj(), std::memory_order_acq_rel);
      Epoch::Retire([old, &deleted] {
        old->magic.store(0xDEAD, std::memory_order_relaxed);
        delete old;
        deleted.fetch_add(1);
      });
      if (i % 64 == 0) std::this_thread::yield();
    }
  };
  std::vector<std::thread> threads;
  for (int r = 0; r < 3; ++r) threads.emplace_back(reader);
  std::thread w1(writer, 20000), w2(writer, 20000);
  w1.join();
  w2.join();
  stop.store(true);
  for (auto& t : threads) t.join();
  Epoch::Drain();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(deleted.load(), 40000u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(Epoch::Pending(), 0u);
  delete shared.load();
}

// A reclaimer scans the slots, then runs the deleters its scan allows, one
// at a time. A deleter retired after that scan must wait for a fresh one:
// a reader that entered its guard after the scan (unseen by it) may hold
// the object. Until 2026-11-29 Reclaim ran every deleter older than the
// smallest epoch its scan saw, and with no reader in a guard at the scan
// that bound was "everything": the log's prefault thread, reclaiming
// after every round, freed an index sub-table a counting walk was reading
// (TSan, ttl_test count_reclaim, in CI).
//   The interleaving is made, not hoped for: the first deleter (run by
// Retire's own reclaim, whose scan finds no guard) lets the reader into a
// guard on object `a`, then swaps in `b` and retires `a`. The retire's
// nested reclaim sees the reader and keeps `a`'s deleter; the outer
// reclaim's loop then meets it next.
TEST(EpochTest, ReclaimRunsNothingRetiredAfterItsScan) {
  Epoch::Drain();
  struct Obj {
    std::atomic<uint64_t> magic{0x600DF00D};
  };
  Obj a, b;
  std::atomic<Obj*> shared{&a};
  std::atomic<int> step{0};  // 1: reader may enter; 2: it holds; 3: it may check
  std::atomic<uint64_t> seen{0};
  auto wait_for = [&step](int s) {
    while (step.load(std::memory_order_acquire) < s) std::this_thread::yield();
  };
  std::thread reader([&] {
    wait_for(1);
    {
      Epoch::Guard guard;
      Obj* o = shared.load(std::memory_order_acquire);
      step.store(2, std::memory_order_release);
      wait_for(3);
      seen.store(o->magic.load(std::memory_order_relaxed));
    }
  });
  std::atomic<bool> a_reclaimed{false};
  Epoch::Retire([&] {
    step.store(1, std::memory_order_release);
    wait_for(2);
    shared.store(&b, std::memory_order_release);
    Epoch::Retire([&] {
      a.magic.store(0xDEAD, std::memory_order_relaxed);
      a_reclaimed.store(true);
    });
  });
  const bool early = a_reclaimed.load();
  step.store(3, std::memory_order_release);
  reader.join();
  Epoch::Drain();
  EXPECT_FALSE(early) << "the retired object was reclaimed while a guard that reached it was active";
  EXPECT_EQ(seen.load(), 0x600DF00Du);
  EXPECT_TRUE(a_reclaimed.load());
  EXPECT_EQ(Epoch::Pending(), 0u);
}

// Prints the cost of entering and leaving a guard (outermost and nested).
// Asserts only that guards leave nothing pending, never the speed.
TEST(EpochTest, GuardMicroBenchmark) {
  Epoch::Drain();
  constexpr int kIters = 5000000;
  auto time_it = [](auto&& body) {
    const double t0 = ThreadCpuNs();
    body();
    return (ThreadCpuNs() - t0) / kIters;
  };
  const double outer = time_it([] {
    for (int i = 0; i < kIters; ++i) Epoch::Guard guard;
  });
  double nested;
  {
    Epoch::Guard outer_guard;
    nested = time_it([] {
      for (int i = 0; i < kIters; ++i) Epoch::Guard guard;
    });
  }
  std::printf("Guard enter+exit: %.1f ns (outermost), %.1f ns (nested), thread CPU time\n", outer, nested);
  std::atomic<int> ran{0};
  Epoch::Retire([&] { ran.fetch_add(1); });
  EXPECT_EQ(ran.load(), 1);  // no guard left active
  EXPECT_EQ(Epoch::Pending(), 0u);
}

}  // namespace
}  // namespace firkin

// fork() while another thread is inside a guard: the child (where that
// thread does not exist) must still drain, not wait forever. (The deleter
// the guard holds back is the parent's: the child does not run it, since
// 2026-11-29; see ForkChildRunsNoneOfTheParentsDeleters.)
TEST(EpochTest, ForkChildIgnoresTheParentsOtherThreads) {
  std::mutex mu;
  std::condition_variable cv;
  bool inside = false, release = false;
  std::thread holder([&] {
    firkin::Epoch::Guard g;
    std::unique_lock<std::mutex> l(mu);
    inside = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return inside; });
  }
  std::atomic<int> ran{0};
  firkin::Epoch::Retire([&ran] { ran++; });
  EXPECT_EQ(ran.load(), 0) << "the holder's guard delays the deleter in the parent";
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(10);  // a hang becomes a SIGALRM death
    firkin::Epoch::Drain();
    _exit(ran.load() == 0 && firkin::Epoch::Pending() == 0 ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child: drained, without running the parent's deleter (status " << status << ")";
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  holder.join();
  firkin::Epoch::Drain();
  EXPECT_EQ(ran.load(), 1);
}

namespace {

// Runs `child` in a fork child (alarm(10): a hang is a SIGALRM death) and
// returns its wait status.
template <typename Child>
int ForkAndWait(Child&& child) {
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(10);
    _exit(child());
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

}  // namespace

// A deleter that a parent thread was running when the process forked will
// never finish in the child (that thread is not there), so it must not be
// counted there: the child's Drain (a database the child opens and closes
// itself, firkin.h "Lifetimes") waited for it forever until 2026-11-29.
// Nor does the child run the one pending (the parent's), nor wait for it;
// what the child retires itself it runs.
TEST(EpochTest, ForkChildDrainsThoughAParentThreadWasRunningADeleter) {
  firkin::Epoch::Drain();
  firkin::Latch running, finish;
  std::thread reclaimer([&] {
    // No guard is active: Retire runs it at once, on this thread.
    firkin::Epoch::Retire([&] {
      running.Set();
      finish.Wait();
    });
  });
  running.Wait();
  // A second one stays pending behind another thread's guard.
  std::mutex mu;
  std::condition_variable cv;
  bool inside = false, release = false;
  std::thread holder([&] {
    firkin::Epoch::Guard g;
    std::unique_lock<std::mutex> l(mu);
    inside = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return inside; });
  }
  std::atomic<int> ran{0};
  firkin::Epoch::Retire([&ran] { ran++; });
  ASSERT_EQ(ran.load(), 0) << "the holder's guard delays the second deleter";
  ASSERT_EQ(firkin::Epoch::Pending(), 2u) << "one running, one pending";
  const int status = ForkAndWait([&] {
    firkin::Epoch::Drain();
    if (ran.load() != 0 || firkin::Epoch::Pending() != 0) return 3;
    // Its own, behind the parent's abandoned one: one at once, three held
    // by a guard of its own first.
    std::atomic<int> own{0};
    firkin::Epoch::Retire([&own] { own++; });
    if (own.load() != 1) return 4;
    {
      firkin::Epoch::Guard g;
      for (int i = 0; i < 3; i++) firkin::Epoch::Retire([&own] { own++; });
      if (own.load() != 1 || firkin::Epoch::Pending() != 3) return 5;
    }
    firkin::Epoch::Drain();
    return own.load() == 4 && ran.load() == 0 && firkin::Epoch::Pending() == 0 ? 0 : 6;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child: drained, ran its own deleter and none of the parent's, waited for none of "
         "them (status "
      << status << (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? ": hung in Drain" : "")
      << ")";
  finish.Set();
  reclaimer.join();
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  holder.join();
  firkin::Epoch::Drain();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(firkin::Epoch::Pending(), 0u);
}

// The same for a parent thread inside Retire when the process forked: it
// had counted its deleter and waited for the epoch's lock, which the fork
// holds (its prepare handler), so the child counted a deleter it never
// held. A prepare handler registered before the epoch's (by a static
// initializer, before any test touches Epoch) runs after the epoch's, with
// its lock held: it has such a thread call Retire then, and waits until
// that thread has counted its deleter.
namespace {
std::atomic<bool> g_retire_in_fork{false};  // the handler acts only in that test
std::atomic<bool> g_retire_go{false};
std::atomic<bool> g_retire_returned{false};
std::atomic<bool> g_retire_was_blocked{false};
std::atomic<size_t> g_pending_before{0};
void RetireWhileForking() {
  if (!g_retire_in_fork.load()) return;
  g_retire_go.store(true);
  while (firkin::Epoch::Pending() == g_pending_before.load()) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Counted, and still waiting for the lock the fork holds.
  g_retire_was_blocked.store(!g_retire_returned.load());
}
const bool g_retire_handler = [] {
  return pthread_atfork(RetireWhileForking, nullptr, nullptr) == 0;
}();
}  // namespace

TEST(EpochTest, ForkChildDrainsThoughAParentThreadWasInsideRetire) {
  ASSERT_TRUE(g_retire_handler);
  firkin::Epoch::Drain();
  g_pending_before.store(firkin::Epoch::Pending());
  std::thread retirer([] {
    while (!g_retire_go.load()) std::this_thread::yield();
    firkin::Epoch::Retire([] {});
    g_retire_returned.store(true);
  });
  g_retire_in_fork.store(true);
  const int status = ForkAndWait([] {
    firkin::Epoch::Drain();
    return firkin::Epoch::Pending() == 0 ? 0 : 3;
  });
  g_retire_in_fork.store(false);
  retirer.join();
  ASSERT_TRUE(g_retire_was_blocked.load())
      << "the interleaving was not made: the retiring thread was not waiting for the epoch's "
         "lock when the process forked (the test's prepare handler ran before the epoch's)";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child: drained without waiting for the deleter a parent thread was retiring (status "
      << status << (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? ": hung in Drain" : "")
      << ")";
  firkin::Epoch::Drain();
  EXPECT_EQ(firkin::Epoch::Pending(), 0u);
}

// The parent's deleters free the parent's objects, which a fork child must
// not use (firkin.h, "Lifetimes"), and they may take the parent's locks,
// which a thread that does not exist in the child may have held at the
// fork: SegmentTable::Remove's deleter gives the slot back under the
// table's mutex. Until 2026-11-29 the child ran them in its Drain (the
// close of a database it opened itself), and one that met such a mutex
// waited forever. Made here: a thread stopped in an allocation inside
// SegmentTable::Add (holding the table's mutex) as the process forks, and
// a Remove's deleter pending behind another thread's guard.
namespace {
firkin::Latch* g_in_new = nullptr;
firkin::Latch* g_leave_new = nullptr;
void StopInNew() {
  g_in_new->Set();
  g_leave_new->Wait();
}
}  // namespace

TEST(EpochTest, ForkChildRunsNoneOfTheParentsDeleters) {
  using firkin::Segment;
  firkin::Epoch::Drain();
  firkin::SegmentTable table;
  uint32_t slot1 = 0, slot2 = 0;
  ASSERT_TRUE(table.AllocateSlot(&slot1).ok());
  ASSERT_TRUE(table.AllocateSlot(&slot2).ok());
  table.Add(std::make_shared<Segment>(1, slot1, std::make_unique<firkin::MemoryFile>(4096),
                                      firkin::kSegmentHeaderSize, 0));
  firkin::Epoch::Drain();
  std::mutex mu;
  std::condition_variable cv;
  bool inside = false, release = false;
  std::thread holder([&] {
    firkin::Epoch::Guard g;
    std::unique_lock<std::mutex> l(mu);
    inside = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return inside; });
  }
  table.Remove(1);  // its deleter waits for the holder's guard
  ASSERT_EQ(firkin::Epoch::Pending(), 1u);
  firkin::Latch in_new, leave_new;
  g_in_new = &in_new;
  g_leave_new = &leave_new;
  auto seg2 = std::make_shared<Segment>(2, slot2, std::make_unique<firkin::MemoryFile>(4096),
                                        firkin::kSegmentHeaderSize, 0);
  std::thread adder([&] {
    t_stop_in_new = &StopInNew;  // (its first allocation is under the table's mutex)
    table.Add(std::move(seg2));
  });
  in_new.Wait();
  const int status = ForkAndWait([] {
    firkin::Epoch::Drain();
    return firkin::Epoch::Pending() == 0 ? 0 : 3;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child: drained without running the parent's deleter (status " << status
      << (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM
              ? ": hung, the deleter waiting for the table's mutex"
              : "")
      << ")";
  leave_new.Set();
  adder.join();
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  holder.join();
  firkin::Epoch::Drain();
  EXPECT_EQ(firkin::Epoch::Pending(), 0u);
  EXPECT_EQ(table.BySlot(slot1), nullptr);
  EXPECT_NE(table.BySlot(slot2), nullptr);
}
