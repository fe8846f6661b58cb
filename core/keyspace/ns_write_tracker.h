// NsWriteTracker: what a serializable transaction that iterated a namespace
// needs to learn at commit, without a global lock: whether any write to the
// namespace committed (or may commit before it) after its snapshot.
//
// State: kStripes cache lines (allocated when tracking is first enabled),
// one chosen per thread, each holding the
// number of writes in flight from its threads and the highest sequence
// number they installed; and one `checkers` count of serializable commits
// validating against the namespace right now (read by every writer, written
// only by such commits, so the line stays shared in the common case).
//
// Protocol (two-way Dekker, all seq_cst):
//   writer:  in_flight++; if checkers > 0 { in_flight--; wait; retry }
//            ... take shard locks, reserve seq w, install ...
//            max_seq = max(max_seq, w); in_flight--
//   checker: checkers++; read every stripe:
//            (in_flight - own) > 0 or max_seq > snapshot  =>  conflict
//            ... (no conflict) reserve seq T, install ...; checkers--
// Soundness: take a writer W and a checker T. If W's in_flight++ precedes
// T's stripe read, T sees W in flight, or (W done) sees max_seq >= w and
// conflicts whenever w > snapshot. Otherwise T's checkers++ precedes W's
// read of `checkers` (Dekker), so W waits until T has reserved its sequence
// number: w > T, and T rightly did not have to see W. So every write with a
// sequence number between T's snapshot and T's own is seen. A false
// conflict (a writer in flight whose seq turns out below the snapshot, or
// another namespace write raising max_seq) is allowed; a missed one is not.
// A writer waits only while such a commit is between its validation and
// its reservation (no lock held, so no deadlock: a checker never waits on
// the tracker, and a writer holds no lock while it waits).
//
// Enabling (the plain write's cost): a namespace no serializable
// transaction ever iterated is not tracked at all -- writers read one
// shared, read-mostly flag and skip the rest. The first such iteration
// enables tracking: it sets the flag, then drains every write in flight
// through the database's writer gate (a writer reads the flag inside the
// gate, so every write that may have missed the flag is published by the
// end of the drain), then records tracked_since = the published sequence
// number. A checker whose snapshot is below tracked_since conflicts (writes
// before that were not tracked); while tracking is being enabled
// tracked_since is UINT64_MAX, so a racing checker conflicts too.
//
// Thread contract: every method from any thread; Enable's caller
// serializes enabling and drains the writer gate (DB::TrackWrites).
#ifndef FIRKIN_CORE_KEYSPACE_NS_WRITE_TRACKER_H_
#define FIRKIN_CORE_KEYSPACE_NS_WRITE_TRACKER_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/util/spin.h"
#include "core/util/striped_counter.h"

namespace firkin {

class NsWriteTracker {
 public:
  static constexpr unsigned kStripes = 16;
  static unsigned MyStripe() { return ThreadSlot() % kStripes; }

  // Whether writers must enter (read inside the writer gate).
  bool enabled() const { return enabled_.load(std::memory_order_seq_cst); }
  // Enabling, in two steps around the caller's drain of in-flight writes.
  void BeginEnable() {
    if (stripes_ == nullptr) stripes_.reset(new Stripe[kStripes]);
    since_.store(UINT64_MAX, std::memory_order_seq_cst);
    enabled_.store(true, std::memory_order_seq_cst);
  }
  void FinishEnable(uint64_t published) { since_.store(published, std::memory_order_seq_cst); }

  // A writer enters before it takes its shard locks (only when enabled()).
  void EnterWriter() {
    std::atomic<int64_t>& c = stripes_[MyStripe()].in_flight;
    for (SpinWait w;; w.Once()) {
      c.fetch_add(1, std::memory_order_seq_cst);
      if (checkers_.load(std::memory_order_seq_cst) == 0) return;
      c.fetch_sub(1, std::memory_order_seq_cst);
      while (checkers_.load(std::memory_order_acquire) != 0) w.Once();
    }
  }
  // After the install: seq is the write's sequence number (0 if it wrote
  // nothing).
  void LeaveWriter(uint64_t seq) {
    Stripe& s = stripes_[MyStripe()];
    uint64_t cur = s.max_seq.load(std::memory_order_relaxed);
    while (cur < seq &&
           !s.max_seq.compare_exchange_weak(cur, seq, std::memory_order_seq_cst)) {
    }
    s.in_flight.fetch_sub(1, std::memory_order_seq_cst);
  }

  // A checker: announce, then Changed(); EndCheck once its reservation is
  // made (or it gave up).
  void BeginCheck() { checkers_.fetch_add(1, std::memory_order_seq_cst); }
  void EndCheck() { checkers_.fetch_sub(1, std::memory_order_seq_cst); }
  // Whether a write may have committed after `snap`; `own` writes of the
  // calling thread (its own EnterWriter calls) are not counted.
  bool Changed(uint64_t snap, int64_t own) const {
    // Not tracked back then (UINT64_MAX: not tracked yet, or being enabled;
    // stripes_ is read only past this, after FinishEnable's store).
    const uint64_t since = since_.load(std::memory_order_seq_cst);
    if (since == UINT64_MAX || snap < since) return true;
    int64_t in_flight = -own;
    for (unsigned i = 0; i < kStripes; i++) {
      const Stripe& s = stripes_[i];
      in_flight += s.in_flight.load(std::memory_order_seq_cst);
      if (s.max_seq.load(std::memory_order_seq_cst) > snap) return true;
    }
    return in_flight > 0;
  }

 private:
  struct alignas(64) Stripe {
    std::atomic<int64_t> in_flight{0};
    std::atomic<uint64_t> max_seq{0};
  };
  // Allocated by the first BeginEnable, before enabled_ and since_ are
  // stored (seq_cst): a writer that read enabled() set, and a checker that
  // read since_ below UINT64_MAX, see it. A namespace no serializable
  // transaction iterated has none: 1 KiB less per namespace, dropped ones
  // included, which the table keeps for good (namespaces.h).
  std::unique_ptr<Stripe[]> stripes_;
  alignas(64) std::atomic<int64_t> checkers_{0};
  std::atomic<bool> enabled_{false};
  std::atomic<uint64_t> since_{UINT64_MAX};
};

}  // namespace firkin

#endif  // FIRKIN_CORE_KEYSPACE_NS_WRITE_TRACKER_H_
