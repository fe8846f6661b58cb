// Epoch: process-wide epoch-based memory reclamation (DESIGN §4).
//
// Readers wrap every access to shared, replaceable structures (index
// sub-tables, segment mappings, the segment directory) in an Epoch::Guard.
// A writer that unlinks such a structure hands its destruction to
// Epoch::Retire(); the deleter runs only after every guard that was active
// at the time of the Retire call has ended. Readers do no locking and no
// CAS: entering a guard is one store to a thread-private, cache-line sized
// slot plus a fence; leaving it is one store.
//
// Thread contract: Guard is used by the thread that created it (nesting is
// allowed and cheap). Retire() and Reclaim() may be called from any thread.
// Deleters run on whichever thread calls Retire()/Reclaim() (never inside a
// guard of that thread's own making while nested), so they must not block on
// readers. In a fork child (one thread: the forking one) the other threads'
// guards are gone, and the deleters retired in the parent are the
// parent's: the child never runs them, and Drain waits only for those
// retired in the child.
#ifndef FIRKIN_CORE_UTIL_EPOCH_H_
#define FIRKIN_CORE_UTIL_EPOCH_H_

#include <cstddef>
#include <cstdint>
#include <functional>

namespace firkin {

class Epoch {
 public:
  // A reader critical section. RAII; re-entrant on the same thread.
  class Guard {
   public:
    Guard();
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
  };

  // Schedules `deleter` to run once no guard active now remains active.
  // May run some earlier deleters that have become safe.
  static void Retire(std::function<void()> deleter);

  // Runs the deleters that are safe to run now. Returns how many ran.
  static size_t Reclaim();

  // Blocks until every retired deleter has run (waits for active guards to
  // end). Used at database close. Must not be called inside a guard.
  static void Drain();

  // Number of retired deleters not yet run (for stats and tests).
  static size_t Pending();

  // A small number naming the calling thread among the threads alive now:
  // the place of its slot, 0, 1, 2, ... A thread keeps it until it exits;
  // then a new thread may get it (unlike ThreadSlot, which never reuses
  // one). Used for per-thread state that must not grow with thread churn
  // (the in-place updates' image slots, LiveFile).
  static uint32_t ThreadIndex();

 private:
  static uint32_t ThreadIndexSlow();
};

namespace epoch_detail {
// 1 + Epoch::ThreadIndex() of the calling thread once it has a slot, 0
// before (and after it exits). `__thread`, a plain initial-exec variable
// with no dynamic initializer, so that reading it from another file is one
// %fs-relative load, not a call (ThreadIndex is on the read path: 4 of the
// static TLS bytes a dlopen'ed library may take, beside epoch.cc's 12).
extern __thread uint32_t t_index1 __attribute__((tls_model("initial-exec")));
}  // namespace epoch_detail

inline uint32_t Epoch::ThreadIndex() {
  const uint32_t i = epoch_detail::t_index1;
  return i != 0 ? i - 1 : ThreadIndexSlow();
}

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_EPOCH_H_
