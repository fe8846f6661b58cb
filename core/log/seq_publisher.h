// SeqPublisher: the completed-prefix watermark of sequence numbers
// (DESIGN §3), and the published lengths of segments that go with it.
// Writers take sequence numbers in log order but finish their copies and
// index installs in any order; Complete(seq, seg, end) records that one
// finished (its record ends at `end` of `seg`), and published() is the
// highest S such that every sequence number <= S has completed. That is the
// snapshot boundary: a reader at published() never sees a write whose
// predecessor is still missing, and a write is acknowledged only once
// published() has reached it.
//
// Published lengths move with it: before the watermark is raised to S, the
// length of S's segment is raised over S's record (Segment::PublishUpTo).
// So a scan that takes the watermark and then the segments' lengths finds
// every record at or below the watermark below those lengths (an iterator
// at a snapshot, the change feed). Raising the length first is what makes
// that hold: when each writer raised its own length after the watermark
// had passed it, a snapshot taken in between saw the write in the index
// but not in the scan (an iterator missed it; invariants_test (h)). The
// records of a segment below S's are complete too (log order = sequence
// order within a segment); those of an earlier segment were published
// whole when it was sealed, before any later sequence number existed.
//
// Mechanism: a ring of kRing slots, one cache line each (consecutive
// sequence numbers are completed by different threads at about the same
// time); slot (s mod kRing) holds s, with its segment and end, once s has
// completed. The completer of the sequence number right after the
// watermark (the head) advances the watermark over every consecutive
// completed slot with one CAS, after raising the length of the last one's
// segment, and looks again after each CAS. A completer that is not the
// head only fills its slot: the head will find it. That needs no lost
// hand-over between the two: the completer stores its slot and then loads
// the watermark, the head CASes the watermark and then loads the next
// slot, all sequentially consistent, so either the completer sees that it
// became the head or the head sees its slot. Waiters read the watermark
// and the slot after it, and advance only when that slot is complete (see
// CompleteLazily below). (Every completer and every waiter used to advance, CASing
// the watermark's cache line: at 16 threads of YCSB A on 16 cores that
// line and the spinning on it took 42% of the CPU time, perf, in
// LogWriter::Publish and SeqPublisher::WaitFor.) A completer that does not
// wait for its publication (an overwrite, CompleteLazily) does not advance
// at all, nor load the watermark: whoever needs the watermark next does,
// over every completed slot in one pass: a waiter (WaitFor looks at the
// slot after the watermark while it spins), a reader of the snapshot
// boundary (Current), or the lazy completer itself when a waiter sleeps.
// (At 16 threads of YCSB A on 16 cores, 87% of the writes overwrite in
// place; their advancing, inlined in DB::Write, was 24% of the CPU time:
// the watermark's load, the slot scan and the CAS.) A sequence number may be
// at most kRing ahead of the watermark: LogWriter keeps it so (an
// appender holds one unpublished number until it is published, at most
// LogWriter::kFreeWriters + 1 threads append at once, and an overwrite,
// which does not wait, runs at most LogWriter::kAheadMax ahead).
//
// Thread contract: every method may be called from any thread at once;
// lock-free except WaitFor, which spins, yields and then sleeps; whoever
// advances the watermark wakes the sleepers. Complete, CompleteLazily,
// WaitFor and Current REQUIRE an Epoch::Guard: advancing raises the length of a
// segment named in a slot, which a guard taken before the watermark was
// read keeps mapped (a segment is retired only after the watermark passed
// all of it).
#ifndef FIRKIN_CORE_LOG_SEQ_PUBLISHER_H_
#define FIRKIN_CORE_LOG_SEQ_PUBLISHER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "core/log/segment.h"
#include "core/util/parking.h"
#include "core/util/prefetch.h"
#include "core/util/spin.h"

namespace firkin {

class SeqPublisher {
 public:
  static constexpr uint64_t kRing = 1u << 12;
  static constexpr uint32_t kSpinRounds = 256;  // about 6 us of pause on a Zen 5
  static constexpr uint32_t kYieldRounds = 8;

  // `guard_ns`: how long a sleeping waiter sleeps at most before it looks
  // again (Parking's guard; unit tests pass 0, no limit, so that a lost
  // wake-up hangs instead of costing a millisecond).
  explicit SeqPublisher(uint64_t last_seq, long guard_ns = 1000 * 1000)
      : slots_(new Slot[kRing]), parking_(guard_ns) {
    own_.store(last_seq, std::memory_order_release);
  }
  // Before the first Complete: the watermark lives at `word` from now on
  // (LiveFile's shared page, so that recovery after a kill -9 reads it),
  // starting at the current value.
  void Attach(std::atomic<uint64_t>* word) {
    word->store(own_.load(std::memory_order_acquire), std::memory_order_release);
    published_ = word;
  }
  SeqPublisher(const SeqPublisher&) = delete;
  SeqPublisher& operator=(const SeqPublisher&) = delete;

  uint64_t published() const { return published_->load(std::memory_order_acquire); }

  // A hint, as soon as seq is taken: fetch seq's slot for writing, so that
  // Complete's sequentially consistent store does not wait for the line
  // (the head completer read it last, on another core).
  void Prepare(uint64_t seq) const { PrefetchForWrite(&slots_[seq & (kRing - 1)]); }

  // Marks seq complete (its record, ending at `end` of `seg`, is written
  // and installed) and advances the watermark as far as it can, if seq is
  // the head. For a writer that waits for seq's publication next.
  void Complete(uint64_t seq, Segment* seg, uint64_t end) {
    Fill(seq, seg, end);
    // The head (or a later completer that finds the watermark caught up
    // with it: the head had looked at this slot too early) advances.
    if (published_->load(std::memory_order_seq_cst) + 1 >= seq) Advance();
  }

  // Marks seq complete without advancing the watermark over it, for a
  // writer that does not wait for its publication (an overwrite): the next
  // thread that needs the watermark does (WaitFor, Current). Advances only
  // if a waiter sleeps, to wake it: the slot's store and the count of
  // sleepers are sequentially consistent on both sides (Parking), so
  // either this sees the sleeper or the sleeper's look sees the slot.
  void CompleteLazily(uint64_t seq, Segment* seg, uint64_t end) {
    Fill(seq, seg, end);
    if (parking_.HasSleepers()) Advance();
  }

  // The watermark after advancing it over every completed slot: what every
  // reader of the snapshot boundary outside the hot path takes, so that a
  // write acknowledged without waiting (CompleteLazily) is below it once
  // every earlier one is complete. Costs two loads when there is nothing
  // to advance over. (Logically const: the watermark is a function of the
  // completed slots.)
  uint64_t Current() const {
    const_cast<SeqPublisher*>(this)->Advance();
    return published();
  }

  // Whether a waiter sleeps in WaitFor now.
  bool HasSleepers() const { return parking_.HasSleepers(); }

  // Waits until published() >= seq. REQUIRES: seq will complete.
  //
  // Spins first (a predecessor that is running finishes its copy within
  // a microsecond or two), then yields a few times (on an oversubscribed
  // core that runs the other writers queued there, often the one waited
  // for), then sleeps (Parking) until the watermark moves. Spinning or
  // yielding on, as this did before, kept the core busy when the
  // predecessor had been preempted on another core: it could not be moved
  // here. YCSB A on 2 cores, tmpfs, 3 s, alternating runs: 2 writers
  // 2.08 -> 2.33 M ops/s, 4 writers 2.22 -> 2.35 M (docs/write_path.md).
  void WaitFor(uint64_t seq) {
    for (uint32_t i = 0; i < kSpinRounds; i++) {
      if (Passed(seq)) return;
      CpuRelax();
    }
    for (uint32_t i = 0; i < kYieldRounds; i++) {
      if (Passed(seq)) return;
      std::this_thread::yield();
    }
    parking_.Wait([&] {
      Advance();
      return published_->load(std::memory_order_seq_cst) >= seq;
    });
  }

 private:
  // A seqlock writer: the slot's number is made invalid before its
  // segment and end change, so that an Advance that reads them while they
  // change (they may be for seq, the slot's number still seq - kRing, which
  // a slow Advance may be looking at) finds the number changed afterwards
  // and leaves them (Advance's check). Until 2026-11-29 the number was not
  // invalidated first: such an Advance could pair seq - kRing with seq's
  // segment and end, and raise that segment's published length to seq's
  // end over numbers not yet complete (its CAS then failed, the length
  // stayed). Found by reading (a review of reclamation and publication);
  // it needs an Advance stopped for kRing writes and then resumed within
  // the two stores below, and no test could make that happen.
  void Fill(uint64_t seq, Segment* seg, uint64_t end) {
    Slot& s = slots_[seq & (kRing - 1)];
    s.seq.store(kNoSeq, std::memory_order_relaxed);
    // (Release: an Advance whose acquire fence follows its load of either
    // sees the invalidation, or a later number, when it loads the number.)
    s.seg.store(seg, std::memory_order_release);
    s.end.store(end, std::memory_order_release);
    s.seq.store(seq, std::memory_order_seq_cst);
  }

  // Whether the watermark is at seq; advances it first if the number after
  // it is complete (a completer that did not advance: CompleteLazily, or
  // the head looked at its slot too early).
  bool Passed(uint64_t seq) {
    const uint64_t p = published();
    if (p >= seq) return true;
    if (slots_[(p + 1) & (kRing - 1)].seq.load(std::memory_order_acquire) != p + 1) return false;
    Advance();
    return published() >= seq;
  }

  void Advance() {
    uint64_t p = published_->load(std::memory_order_acquire);
    bool advanced = false;
    for (;;) {
      uint64_t q = p;
      while (slots_[(q + 1) & (kRing - 1)].seq.load(std::memory_order_seq_cst) == q + 1) q++;
      if (q == p) {
        if (advanced) parking_.Wake();
        return;
      }
      // q's segment and end, read seqlock-style: if the slot was taken by
      // q + kRing meanwhile, the watermark is past q already (go on from
      // where it is) and what was read may belong to the newer one.
      Slot& s = slots_[q & (kRing - 1)];
      Segment* seg = s.seg.load(std::memory_order_relaxed);
      const uint64_t end = s.end.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (s.seq.load(std::memory_order_relaxed) == q) {
        seg->PublishUpTo(end);
        // On failure p is reloaded: another thread advanced; go on from there.
        if (published_->compare_exchange_weak(p, q, std::memory_order_seq_cst,
                                             std::memory_order_acquire)) {
          p = q;
          advanced = true;
        }
      } else {
        p = published_->load(std::memory_order_acquire);
      }
    }
  }

  static constexpr uint64_t kNoSeq = ~uint64_t{0};  // a slot being filled
  struct alignas(64) Slot {
    std::atomic<uint64_t> seq{0};
    std::atomic<Segment*> seg{nullptr};
    std::atomic<uint64_t> end{0};
  };
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<uint64_t> own_{0};
  std::atomic<uint64_t>* published_ = &own_;  // own_, or the LiveFile's word
  Parking parking_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_SEQ_PUBLISHER_H_
