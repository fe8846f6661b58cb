// WriterGate: lets the rare operation that needs a still index and log
// (an exact checkpoint, verify, sealing the active segment for a full
// compaction) run while no write is in flight, without making writers
// share a lock. Writers enter and leave the gate through a counter on a
// cache line of their own (one of kStripes, chosen per thread), so the
// write path touches no shared, written cache line here; an exclusive
// holder closes the gate and waits until every stripe is empty.
//
// Protocol (Dekker): a writer increments its stripe, then reads `closed_`
// (seq_cst); the exclusive holder sets `closed_`, then reads every stripe
// (seq_cst). At least one of them sees the other: either the writer sees
// the gate closed (it backs out and waits), or the holder sees the writer
// and waits for it to leave.
//
// Thread contract: Enter/Leave from any thread (not re-entrant: a thread
// inside the gate must not call RunExclusive). RunExclusive from any
// thread; exclusive holders are serialized by an internal mutex.
#ifndef FIRKIN_CORE_DB_WRITER_GATE_H_
#define FIRKIN_CORE_DB_WRITER_GATE_H_

#include <atomic>
#include <cstdint>
#include <mutex>

#include "core/util/spin.h"
#include "core/util/striped_counter.h"

namespace firkin {

class WriterGate {
 public:
  void Enter() {
    std::atomic<int64_t>& c = stripes_[ThreadStripe()].count;
    for (SpinWait w;; w.Once()) {
      c.fetch_add(1, std::memory_order_seq_cst);
      if (!closed_.load(std::memory_order_seq_cst)) return;
      c.fetch_sub(1, std::memory_order_release);
      while (closed_.load(std::memory_order_acquire)) w.Once();
    }
  }
  void Leave() { stripes_[ThreadStripe()].count.fetch_sub(1, std::memory_order_release); }

  // Runs fn with no writer inside the gate; returns its result.
  template <typename Fn>
  auto RunExclusive(Fn&& fn) -> decltype(fn()) {
    std::lock_guard<std::mutex> l(mu_);
    closed_.store(true, std::memory_order_seq_cst);
    for (auto& s : stripes_) {
      for (SpinWait w; s.count.load(std::memory_order_seq_cst) != 0;) w.Once();
    }
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
  static constexpr unsigned kStripes = 64;
  static unsigned ThreadStripe() { return ThreadSlot() % kStripes; }
  struct alignas(64) Stripe {
    std::atomic<int64_t> count{0};
  };
  Stripe stripes_[kStripes];
  alignas(64) std::atomic<bool> closed_{false};
  std::mutex mu_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_WRITER_GATE_H_
