// RaiseTo / LowerTo: an atomic word moved to at least (at most) a value by
// compare-and-swap, never the other way: the high-water marks, floors and
// lower bounds that many threads (or a thread and a reader) keep.
//
// Thread contract: any thread, concurrently. The store, when one is made,
// has the given order (seq_cst by default); the loads before it are
// relaxed, so a call that finds the word already there synchronizes with
// nothing. Where a handshake depends on the failing read's order (the
// freeze offset against overwriters' flags, LogWriter::Freeze), the loop is
// written out instead.
#ifndef FIRKIN_CORE_UTIL_ATOMIC_BOUND_H_
#define FIRKIN_CORE_UTIL_ATOMIC_BOUND_H_

#include <atomic>

namespace firkin {

template <typename T>
inline void RaiseTo(std::atomic<T>* a, T v,
                    std::memory_order order = std::memory_order_seq_cst) {
  T cur = a->load(std::memory_order_relaxed);
  while (cur < v && !a->compare_exchange_weak(cur, v, order, std::memory_order_relaxed)) {
  }
}

template <typename T>
inline void LowerTo(std::atomic<T>* a, T v,
                    std::memory_order order = std::memory_order_seq_cst) {
  T cur = a->load(std::memory_order_relaxed);
  while (v < cur && !a->compare_exchange_weak(cur, v, order, std::memory_order_relaxed)) {
  }
}

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_ATOMIC_BOUND_H_
