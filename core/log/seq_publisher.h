// SeqPublisher: the completed-prefix watermark of sequence numbers
// (DESIGN §3). Writers take sequence numbers in log order but finish their
// copies and index installs in any order; Complete(seq) records that one
// finished, and published() is the highest S such that every sequence
// number <= S has completed. That is the snapshot boundary: a reader at
// published() never sees a write whose predecessor is still missing, and a
// write is acknowledged only once published() has reached it.
//
// Mechanism: a ring of kRing slots, one cache line each (consecutive
// sequence numbers are completed by different threads at about the same
// time); slot (s mod kRing) holds s once s has completed. Whoever completes advances the watermark over every
// consecutive completed slot with one CAS. A sequence number may be at most
// kRing ahead of the watermark: every writer holds at most one unpublished
// sequence number (it waits for publication before it returns), so this
// holds while fewer than kRing threads write at once.
//
// Thread contract: every method may be called from any thread at once;
// lock-free except WaitFor, which spins and then yields.
#ifndef FIRKIN_CORE_LOG_SEQ_PUBLISHER_H_
#define FIRKIN_CORE_LOG_SEQ_PUBLISHER_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/util/spin.h"

namespace firkin {

class SeqPublisher {
 public:
  static constexpr uint64_t kRing = 1u << 12;

  explicit SeqPublisher(uint64_t last_seq) : slots_(new Slot[kRing]) {
    published_.store(last_seq, std::memory_order_release);
  }
  SeqPublisher(const SeqPublisher&) = delete;
  SeqPublisher& operator=(const SeqPublisher&) = delete;

  uint64_t published() const { return published_.load(std::memory_order_acquire); }

  // Marks seq complete (its records are written and installed, or it holds
  // nothing) and advances the watermark as far as it can.
  void Complete(uint64_t seq) {
    slots_[seq & (kRing - 1)].seq.store(seq, std::memory_order_release);
    Advance();
  }

  // Waits until published() >= seq. REQUIRES: seq will complete.
  void WaitFor(uint64_t seq) {
    for (SpinWait w; published() < seq; w.Once()) Advance();
  }

 private:
  void Advance() {
    uint64_t p = published_.load(std::memory_order_acquire);
    for (;;) {
      uint64_t q = p;
      while (slots_[(q + 1) & (kRing - 1)].seq.load(std::memory_order_acquire) == q + 1) q++;
      if (q == p) return;
      // On failure p is reloaded: another thread advanced; go on from there.
      if (published_.compare_exchange_weak(p, q, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
        p = q;
      }
    }
  }

  struct alignas(64) Slot {
    std::atomic<uint64_t> seq{0};
  };
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<uint64_t> published_{0};
};

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_SEQ_PUBLISHER_H_
