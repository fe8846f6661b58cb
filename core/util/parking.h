// Parking: lets a thread that waits for another thread's progress sleep in
// the kernel instead of spinning.
//
// Why: a writer waits for the writers before it in sequence order to
// publish (SeqPublisher::WaitFor). When one of those was preempted in the
// middle of its copy, spinning or sched_yield keeps the waiter's core busy,
// so the preempted thread cannot be moved there and the waiter burns its
// whole time slice: with two writers and the background threads on two
// cores this was 10-20% of the writers' time (perf, YCSB A). A thread that
// sleeps leaves its core idle; the scheduler then runs the preempted
// thread on it at once.
//
// Mechanism: a generation word and a count of sleepers. Wait(pred) counts
// itself in, reads the generation, re-checks pred and sleeps on the word
// (Linux futex) only if pred is still false; Wake(), called after the
// condition was made true, bumps the generation and wakes every sleeper,
// but only if the count is non-zero, so the common case costs one load.
// The count and the condition are read and written with sequentially
// consistent operations on both sides, so either the waker sees the
// sleeper or the sleeper sees the condition. A sleep also ends after 1 ms
// by default, as a guard (parking_test shows that no wake-up is lost
// without it); elsewhere than Linux, Wait polls every 50 us.
//
// Thread contract: every method may be called from any thread at once.
// The condition must be published with a sequentially consistent store or
// read-modify-write before Wake() is called.
#ifndef FIRKIN_CORE_UTIL_PARKING_H_
#define FIRKIN_CORE_UTIL_PARKING_H_

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <thread>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

namespace firkin {

class Parking {
 public:
  // `guard_ns`: the longest a sleep lasts before the condition is checked
  // again (0: no limit; unit tests use it to show that no wake-up is lost).
  explicit Parking(long guard_ns = 1000 * 1000) : guard_ns_(guard_ns) {}
  Parking(const Parking&) = delete;
  Parking& operator=(const Parking&) = delete;

  // Returns once pred() is true. pred must read the condition with
  // sequentially consistent loads (or itself be such a read-modify-write).
  template <class Pred>
  void Wait(Pred pred) {
    for (;;) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      const uint32_t gen = gen_.load(std::memory_order_seq_cst);
      if (pred()) {
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
        return;
      }
      Sleep(gen, guard_ns_);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      if (pred()) return;
    }
  }

  // Sleeps once, unless pred() is true: until Wake(), or `timeout_ns`
  // (0: the guard) passes. For a caller that checks its condition in a
  // loop of its own (one that also wakes on a timer, or on a condition a
  // waker of this Parking does not announce). Same contract as Wait.
  template <class Pred>
  void SleepUnless(Pred pred, long timeout_ns = 0) {
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    const uint32_t gen = gen_.load(std::memory_order_seq_cst);
    if (!pred()) Sleep(gen, timeout_ns > 0 ? timeout_ns : guard_ns_);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }

  // Whether a thread is in Wait or SleepUnless now (a sequentially
  // consistent load: the same pairing with the condition as Wake's).
  bool HasSleepers() const { return sleepers_.load(std::memory_order_seq_cst) != 0; }
  // Wakes every thread asleep in Wait or SleepUnless. Call after the condition was made
  // true (by a sequentially consistent store or read-modify-write).
  void Wake() {
    if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
    gen_.fetch_add(1, std::memory_order_seq_cst);
#ifdef __linux__
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&gen_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
            nullptr, 0);
#endif
  }

 private:
  // Sleeps while the generation is `gen`, for `limit_ns` at most (0: no limit).
  void Sleep(uint32_t gen, long limit_ns) {
#ifdef __linux__
    static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word");
    struct timespec limit = {limit_ns / 1000000000, limit_ns % 1000000000};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&gen_), FUTEX_WAIT_PRIVATE, gen,
            limit_ns > 0 ? &limit : nullptr, nullptr, 0);
#else
    (void)gen;
    (void)limit_ns;
    std::this_thread::sleep_for(std::chrono::microseconds(50));  // polls: no lost wake-up
#endif
  }

  const long guard_ns_;
  std::atomic<uint32_t> gen_{0};
  std::atomic<uint32_t> sleepers_{0};
};

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_PARKING_H_
