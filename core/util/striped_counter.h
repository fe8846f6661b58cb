// Striped counters: statistics and byte counts that many threads bump
// without sharing a cache line. Each thread adds to one of N padded cells
// (chosen once per thread, ThreadSlot() % N); a read sums them. Used on the
// write path, where one shared atomic would be written by every writer on
// every write.
//
// StripedCounter counts up. ByteCount is signed per cell (bytes may be
// counted live in one cell and subtracted in another) and clamps its sum at
// 0, with the small part of std::atomic's interface that segment
// accounting uses; its store() is for single-threaded phases (recovery, a
// segment not yet published).
//
// Thread contract: adds and reads from any thread; a read is not a snapshot
// (adds racing with it may or may not be counted).
#ifndef FIRKIN_CORE_UTIL_STRIPED_COUNTER_H_
#define FIRKIN_CORE_UTIL_STRIPED_COUNTER_H_

#include <atomic>
#include <cstdint>

namespace firkin {

// A small number that identifies the calling thread (0, 1, 2, ... in the
// order threads first ask), for picking a stripe. Initial-exec TLS (one
// %fs access, not a call into the dynamic linker's TLS descriptor), and
// constant-initialized (a dynamic initializer would add a guard variable,
// reached through the descriptor): every write counts itself here twice.
// 4 bytes of the static TLS that a dlopen'ed library may take.
inline unsigned ThreadSlot() {
  static std::atomic<unsigned> next{0};
  __attribute__((tls_model("initial-exec"))) thread_local unsigned mine = 0;  // slot + 1
  if (__builtin_expect(mine == 0, 0)) mine = next.fetch_add(1, std::memory_order_relaxed) + 1;
  return mine - 1;
}

template <typename T, unsigned N>
class Striped {
 public:
  void Add(T n) { cells_[ThreadSlot() % N].v.fetch_add(n, std::memory_order_relaxed); }
  T Sum() const {
    T s = 0;
    for (const Cell& c : cells_) s += c.v.load(std::memory_order_relaxed);
    return s;
  }
  void Set(T v) {
    for (Cell& c : cells_) c.v.store(0, std::memory_order_relaxed);
    cells_[0].v.store(v, std::memory_order_relaxed);
  }

 private:
  struct alignas(64) Cell {
    std::atomic<T> v{0};
  };
  Cell cells_[N];
};

class StripedCounter {
 public:
  void Add(uint64_t n) { s_.Add(n); }
  uint64_t Sum() const { return s_.Sum(); }

 private:
  Striped<uint64_t, 16> s_;
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
  Striped<int64_t, 8> s_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_STRIPED_COUNTER_H_
