// WriterGate: lets the rare operation that needs a still index and log
// (an exact checkpoint, verify, sealing the active segment for a full
// compaction) run while no write is in flight, without making writers
// share a lock. Writers enter and leave the gate through a counter on a
// cache line of their own (each of the first kOwned threads alive owns
// one, by Epoch::ThreadIndex(), and changes it with a plain load and
// store; threads beyond share kShared counters changed atomically), so the
// write path touches no shared, written cache line here and runs no locked
// instruction; an exclusive holder closes the gate and waits until every
// counter is zero.
//
// Protocol (Dekker): a writer increments its counter, fences, then reads
// `closed_`; the exclusive holder sets `closed_`, fences, then reads every
// counter. At least one of them sees the other: either the writer sees
// the gate closed (it backs out and waits), or the holder sees the writer
// and waits for it to leave. The writer's fence is a LightFence and the
// holder's a HeavyFence (core/util/asymmetric_fence.h): a full fence on
// every write waited for the stores before it to drain.
//
// Thread contract: Enter/Leave from any thread (not re-entrant: a thread
// inside the gate must not call RunExclusive); a thread leaves from the
// thread it entered on. RunExclusive from any thread; exclusive holders
// are serialized by an internal mutex.
#ifndef FIRKIN_CORE_DB_WRITER_GATE_H_
#define FIRKIN_CORE_DB_WRITER_GATE_H_

#include <atomic>
#include <cstdint>
#include <mutex>

#include "core/util/asymmetric_fence.h"
#include "core/util/epoch.h"
#include "core/util/spin.h"
#include "core/util/striped_counter.h"

namespace firkin {

class WriterGate {
 public:
  void Enter() {
    const uint32_t i = Epoch::ThreadIndex();
    for (SpinWait w;; w.Once()) {
      counts_.AddAt(i, 1);
      LightFence();
      if (!closed_.load(std::memory_order_acquire)) return;
      counts_.AddAt(i, -1);
      while (closed_.load(std::memory_order_acquire)) w.Once();
    }
  }
  void Leave() { counts_.Add(-1); }

  // Runs fn with no writer inside the gate; returns its result.
  template <typename Fn>
  auto RunExclusive(Fn&& fn) -> decltype(fn()) {
    std::lock_guard<std::mutex> l(mu_);
    closed_.store(true, std::memory_order_seq_cst);
    HeavyFence();
    // (A thread leaves on the thread it entered on, so no counter is ever
    // below zero: the sum is zero only when every counter is.)
    for (SpinWait w; counts_.Sum() != 0;) w.Once();
    struct Reopen {
      std::atomic<bool>* closed;
      ~Reopen() { closed->store(false, std::memory_order_release); }
    } reopen{&closed_};
    return fn();
  }

  // Holds the gate (as a writer) for a scope.
  class Scope {
   public:
    explicit Scope(WriterGate* g) : g_(g) { g_->Enter(); }
    ~Scope() { g_->Leave(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    WriterGate* g_;
  };

 private:
  // Writers inside: each of the first 64 threads alive owns a counter
  // (a plain load and store), later ones share 4 (atomic adds); an add
  // releases what its writer did inside the gate to the holder's Sum.
  Striped<int64_t, 64, 4, /*kOrdered=*/true> counts_;
  alignas(64) std::atomic<bool> closed_{false};
  std::mutex mu_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_WRITER_GATE_H_
