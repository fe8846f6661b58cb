// Striped counters: statistics and byte counts that many threads bump
// without sharing a cache line. The first N threads alive
// (Epoch::ThreadIndex() < N) each add to a padded cell of their own, with a
// plain load and store: no locked instruction, which on x86 would also wait
// for every store before it to drain (after an in-place put's copy of a
// 1 KB record that was 2% of a YCSB A writer's time). Threads beyond
// share S cells with atomic adds. A read sums them all.
//
// StripedCounter counts up. ByteCount is signed per cell (bytes may be
// counted live in one cell and subtracted in another) and clamps its sum at
// 0, with the small part of std::atomic's interface that segment
// accounting uses; its store() is for single-threaded phases (recovery, a
// segment not yet published).
//
// Thread contract: adds and reads from any thread; a read is not a snapshot
// (adds racing with it may or may not be counted). An owned cell has one
// writer at a time: its thread's index is not handed to another thread
// until it exits (Epoch; the registry takes a released index with acquire,
// so the next owner starts from the last value).
#ifndef FIRKIN_CORE_UTIL_STRIPED_COUNTER_H_
#define FIRKIN_CORE_UTIL_STRIPED_COUNTER_H_

#include <atomic>
#include <cstdint>

#include "core/util/epoch.h"

namespace firkin {

// A small number that identifies the calling thread (0, 1, 2, ... in the
// order threads first ask; never reused), for picking a stripe that
// threads may share (NsWriteTracker: updated atomically).
// Initial-exec TLS (one %fs access, not a call into the dynamic linker's
// TLS descriptor), and constant-initialized (a dynamic initializer would
// add a guard variable, reached through the descriptor): a write to a
// tracked namespace looks it up. 4 bytes of the static TLS that a
// dlopen'ed library may take.
inline unsigned ThreadSlot() {
  static std::atomic<unsigned> next{0};
  __attribute__((tls_model("initial-exec"))) thread_local unsigned mine = 0;  // slot + 1
  if (__builtin_expect(mine == 0, 0)) mine = next.fetch_add(1, std::memory_order_relaxed) + 1;
  return mine - 1;
}

// kOrdered: each add releases what its thread did before it, and Sum
// acquires what every add it sees released (WriterGate's counts); without
// it, adds and the sum are relaxed (statistics).
template <typename T, unsigned N, unsigned S, bool kOrdered = false>
class Striped {
 public:
  void Add(T n) { AddAt(Epoch::ThreadIndex(), n); }
  // Add for a caller that has its Epoch::ThreadIndex() at hand.
  void AddAt(uint32_t i, T n) {
    if (__builtin_expect(i < N, 1)) {
      std::atomic<T>& c = owned_[i].v;  // this thread's alone
      c.store(c.load(std::memory_order_relaxed) + n, kAddOrder);
    } else {
      shared_[i % S].v.fetch_add(n, kOrdered ? std::memory_order_acq_rel : kAddOrder);
    }
  }
  T Sum() const {
    T s = 0;
    for (const Cell& c : owned_) s += c.v.load(kSumOrder);
    for (const Cell& c : shared_) s += c.v.load(kSumOrder);
    return s;
  }
  void Set(T v) {
    for (Cell& c : owned_) c.v.store(0, std::memory_order_relaxed);
    for (Cell& c : shared_) c.v.store(0, std::memory_order_relaxed);
    shared_[0].v.store(v, std::memory_order_relaxed);
  }

 private:
  static constexpr std::memory_order kAddOrder =
      kOrdered ? std::memory_order_release : std::memory_order_relaxed;
  static constexpr std::memory_order kSumOrder =
      kOrdered ? std::memory_order_acquire : std::memory_order_relaxed;
  struct alignas(64) Cell {
    std::atomic<T> v{0};
  };
  Cell owned_[N];
  Cell shared_[S];
};

class StripedCounter {
 public:
  void Add(uint64_t n) { s_.Add(n); }
  uint64_t Sum() const { return s_.Sum(); }

 private:
  // 64: every thread that may update in place (LiveFile::kSlots) owns one.
  Striped<uint64_t, 64, 4> s_;
};

class ByteCount {
 public:
  uint64_t load(std::memory_order = std::memory_order_relaxed) const {
    const int64_t s = s_.Sum();
    return s < 0 ? 0 : static_cast<uint64_t>(s);
  }
  void store(uint64_t v) { s_.Set(static_cast<int64_t>(v)); }
  void fetch_add(uint64_t n, std::memory_order = std::memory_order_relaxed) {
    s_.Add(static_cast<int64_t>(n));
  }
  void fetch_sub(uint64_t n, std::memory_order = std::memory_order_relaxed) {
    s_.Add(-static_cast<int64_t>(n));
  }

 private:
  // Two in every segment: fewer cells than StripedCounter's.
  Striped<int64_t, 32, 4> s_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_STRIPED_COUNTER_H_
