// StripedCounter: a statistics counter that many threads bump without
// sharing a cache line: each thread adds to one of kStripes padded cells
// (chosen once per thread); a read sums them. For counters on the write
// path (writes, bytes written), where one shared atomic would be written by
// every writer on every write.
//
// Thread contract: Add and Sum from any thread; Sum is not a snapshot
// (adds racing with it may or may not be counted).
#ifndef FIRKIN_CORE_UTIL_STRIPED_COUNTER_H_
#define FIRKIN_CORE_UTIL_STRIPED_COUNTER_H_

#include <atomic>
#include <cstdint>

namespace firkin {

class StripedCounter {
 public:
  void Add(uint64_t n) { cells_[Stripe()].v.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Sum() const {
    uint64_t s = 0;
    for (const Cell& c : cells_) s += c.v.load(std::memory_order_relaxed);
    return s;
  }

 private:
  static constexpr unsigned kStripes = 16;
  static unsigned Stripe() {
    static std::atomic<unsigned> next{0};
    thread_local unsigned mine = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return mine;
  }
  struct alignas(64) Cell {
    std::atomic<uint64_t> v{0};
  };
  Cell cells_[kStripes];
};

// ByteCount: a striped byte counter with the small part of std::atomic's
// interface that segment accounting uses. Cells are signed (bytes may be
// counted live in one cell and dead-subtracted in another); load() sums
// them and clamps at 0. store() is for single-threaded phases (recovery,
// a segment not yet published).
class ByteCount {
 public:
  uint64_t load(std::memory_order = std::memory_order_relaxed) const {
    int64_t s = 0;
    for (const Cell& c : cells_) s += c.v.load(std::memory_order_relaxed);
    return s < 0 ? 0 : static_cast<uint64_t>(s);
  }
  void store(uint64_t v) {
    for (Cell& c : cells_) c.v.store(0, std::memory_order_relaxed);
    cells_[0].v.store(static_cast<int64_t>(v), std::memory_order_relaxed);
  }
  void fetch_add(uint64_t n, std::memory_order = std::memory_order_relaxed) {
    cells_[Stripe()].v.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  }
  void fetch_sub(uint64_t n, std::memory_order = std::memory_order_relaxed) {
    cells_[Stripe()].v.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
  }
  ByteCount& operator+=(uint64_t n) {
    fetch_add(n);
    return *this;
  }

 private:
  static constexpr unsigned kStripes = 8;
  static unsigned Stripe() {
    static std::atomic<unsigned> next{0};
    thread_local unsigned mine = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return mine;
  }
  struct alignas(64) Cell {
    std::atomic<int64_t> v{0};
  };
  Cell cells_[kStripes];
};

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_STRIPED_COUNTER_H_
