// Segment: one numbered log file, mapped into memory; and SegmentTable, the
// directory that resolves index locators (slot) and disk addresses (id) to
// segments for lock-free readers.
//
// Thread contract (Segment): immutable identity (id, slot, mapping); the
// record bytes below published_len() are immutable and readable by any
// thread. Appending is concurrent and lock-free: TryReserve hands out
// disjoint byte ranges together with sequence numbers from one atomic word,
// so log order and sequence order agree within a segment; each writer then
// fills its own range. Syncing happens under the log's sync mutex. Byte
// counters are atomics.
//
// Thread contract (SegmentTable): BySlot/ById are lock-free reader calls
// (REQUIRES an Epoch::Guard); AllocateSlot/FreeSlot/Add/Remove/List may be
// called from any thread (an internal mutex serializes them). Removed segments are released through Epoch::Retire, so the
// owner must call Epoch::Drain() before destroying the table.
#ifndef FIRKIN_CORE_LOG_SEGMENT_H_
#define FIRKIN_CORE_LOG_SEGMENT_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/env/env.h"
#include "core/index/hash_index.h"
#include "core/log/format.h"
#include "core/util/atomic_bound.h"
#include "core/util/prefetch.h"
#include "core/util/spin.h"
#include "core/util/striped_counter.h"

namespace firkin {

// A byte offset of a log segment: how far the log was published at some
// moment (LogWriter::PublishedPosition), to ask later whether it is all
// durable (LogWriter::Durable). segment_id 0: nothing was published.
struct LogPosition {
  uint64_t segment_id = 0;
  uint64_t offset = 0;
};

class Segment : public std::enable_shared_from_this<Segment> {
 public:
  Segment(uint64_t id, uint32_t slot, std::unique_ptr<MappedFile> file, uint64_t len,
          uint32_t flags);
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  uint64_t id() const { return id_; }
  uint32_t slot() const { return slot_; }
  uint32_t flags() const { return flags_; }
  const std::string& path() const { return file_->path(); }
  MappedFile* file() { return file_.get(); }
  // The mapping's start and size never change while the file is mapped
  // (MappedFile): kept here, so a read does not call through the file.
  const char* data() const { return data_; }
  char* mutable_data() { return data_; }
  uint64_t capacity() const { return capacity_; }

  // Bytes of the segment that hold published, readable records (header
  // included). Release/acquire: bytes below are fully written.
  uint64_t published_len() const { return published_len_.load(std::memory_order_acquire); }
  void set_published_len(uint64_t v) { published_len_.store(v, std::memory_order_release); }
  // Raises published_len to at least v (writers publish out of order).
  void PublishUpTo(uint64_t v) {
    uint64_t cur = published_len_.load(std::memory_order_relaxed);
    while (cur < v &&
           !published_len_.compare_exchange_weak(cur, v, std::memory_order_release,
                                                 std::memory_order_relaxed)) {
    }
  }

  // ---- lock-free reservation (active segment only) ----
  // One 64-bit word: bits [63:36] how many sequence numbers were handed out
  // in this segment, bits [35:0] the next free offset / 8. A reservation is
  // one fetch_add of both. It succeeds iff its range ends within the
  // capacity; the first one that does not (the unique failure whose range
  // starts within the capacity) closes the segment and records where it
  // ended; every later one fails too.
  enum class Reserve { kOk, kClosedByMe, kFull };
  // Starts the reservation word at `off` (records start there) with
  // sequence numbers following `base_seq`.
  void StartAppending(uint64_t off, uint64_t base_seq) {
    base_seq_ = base_seq;
    frozen.store(off, std::memory_order_relaxed);
    min_seq.store(base_seq + 1, std::memory_order_relaxed);  // its first record's
    tail_.store(off >> 3, std::memory_order_relaxed);
  }
  // REQUIRES: bytes is a multiple of 8, nseq <= 1.
  Reserve TryReserve(uint64_t nseq, uint64_t bytes, uint64_t* off, uint64_t* seq) {
    return Settle(Claim(nseq, bytes), nseq, bytes, off, seq);
  }
  // TryReserve in its two steps, the one atomic add and what follows from
  // the word it returned; apart only so that a test can stop a closer
  // between them (tests/unit/segment_test.cc). Use TryReserve.
  uint64_t Claim(uint64_t nseq, uint64_t bytes) {
    return tail_.fetch_add((nseq << kSeqShift) | (bytes >> 3), std::memory_order_acq_rel);
  }
  // A reservation succeeds iff its bytes end within the capacity and its
  // numbers within kMaxSeqs; the first that does not closes the segment
  // (unique: every claim after it finds the offset past the capacity or
  // the count past kMaxSeqs, and none before it did).
  Reserve Settle(uint64_t old, uint64_t nseq, uint64_t bytes, uint64_t* off, uint64_t* seq) {
    const uint64_t at = (old & kOffMask) << 3;
    const uint64_t count = old >> kSeqShift;
    if (at + bytes <= capacity() && count + nseq <= kMaxSeqs) {
      *off = at;
      *seq = base_seq_ + count + nseq;
      return Reserve::kOk;
    }
    if (at > capacity() || count > kMaxSeqs) return Reserve::kFull;
    end_off_ = at;
    end_seq_ = base_seq_ + count;
    closed_.store(true, std::memory_order_release);
    return Reserve::kClosedByMe;
  }
  // The most sequence numbers one segment hands out. Appends cannot come
  // near it (a record takes at least 40 bytes), but updates in place take
  // a number and no bytes: a hot key overwritten 2^28 times carried the
  // count out of the word's top bits, numbers went back to the segment's
  // base, and snapshots, conflicts and recovery's "highest number wins"
  // went wrong (found by review, 2026-11-29; about a minute of puts at one
  // thread). Now the segment closes there and the next write rolls. The
  // margin below 2^28: claims that lose to the closer still add theirs.
  static constexpr uint64_t kMaxSeqs = (uint64_t{1} << 28) - (uint64_t{1} << 20);
  // Closes the segment for a roll or a seal, unless a reservation has, and
  // returns once closed() is true. At most one add to the reservation word:
  // if a reservation closed it first, its writer may be preempted between
  // its add and its store of closed_, and this waits for that store. (It
  // once added again on every turn until closed() was true: each turn
  // moved the offset a capacity on, and a preemption of a few milliseconds
  // carried the offset into the sequence count, closing the segment a
  // second time with an end sequence number no writer ever had; the roll
  // then waited for it forever. Seen once, a CI timeout under ASan.)
  void Close() {
    uint64_t off, seq;
    if (!closed()) TryReserve(0, capacity() + 8, &off, &seq);
    for (uint32_t spins = 0; !closed(); ++spins) {
      if (spins < 256) {
        CpuRelax();
      } else {
        std::this_thread::yield();
      }
    }
  }
  // The sequence number the next reservation would take (a hint:
  // reservations move it concurrently; past the end once closed). For a
  // look just before a reservation: the word's line is fetched for
  // writing, so that the load and the reservation's add after it cost one
  // transfer of that contended line, not two (shared, then owned).
  uint64_t NextSeqHint() const {
    PrefetchForWrite(&tail_);
    return base_seq_ + (tail_.load(std::memory_order_relaxed) >> kSeqShift) + 1;
  }
  // Whether the segment was closed, and then where its records end and the
  // last sequence number it holds (valid once closed() is true).
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  uint64_t end_off() const { return end_off_; }
  uint64_t end_seq() const { return end_seq_; }
  // Next free offset (a hint: reservations move it concurrently).
  uint64_t reserved_len() const {
    return (tail_.load(std::memory_order_relaxed) & kOffMask) << 3;
  }

  // Accounting: bytes of records that are the newest version of a key
  // (live) and of superseded records (dead). Written only by Keyspace (the
  // one owner of the rule of what counts as live), read by anyone.
  uint64_t live_bytes() const { return live_.load(); }
  uint64_t dead_bytes() const { return dead_.load(); }
  // Smallest sequence number of any record in the segment (UINT64_MAX if
  // none yet); compaction uses it to know where older versions may live.
  std::atomic<uint64_t> min_seq{UINT64_MAX};
  void NoteSeq(uint64_t seq) { LowerTo(&min_seq, seq, std::memory_order_relaxed); }
  // Earliest expiry (TTL) of a record written into the segment by this
  // process, or found in it by compaction (UINT64_MAX: none known). Once
  // it has passed, compaction takes the segment even without dead bytes,
  // to reclaim the expired records.
  std::atomic<uint64_t> min_expiry{UINT64_MAX};
  void NoteExpiry(uint64_t e) { LowerTo(&min_expiry, e, std::memory_order_relaxed); }
  // No record of this segment is stamped before this: the database's clock
  // at the roll that made it, once every number of the segments before was
  // published (each stamped at or below it). A write whose commit time is
  // moved back (DB::CommitTimeBefore) goes no further, so times never go
  // back across segments (time travel keeps its running maximum per
  // segment). Set before the segment is active; 0 where unknown.
  std::atomic<uint64_t> time_floor{0};
  // Synced prefix (written under the log's sync mutex; read by anyone).
  std::atomic<uint64_t> synced_len{0};
  // What the watermark on disk claims (at most synced_len; it trails it by
  // one group commit: LogWriter::SyncSegmentLocked). Under the sync mutex.
  std::atomic<uint64_t> watermark_durable{0};
  // The record bytes below this offset are handed over to writeback
  // (MappedFile::WriteBehind: mapped again read-only). Raised by the log's
  // writeback thread and by the seal; the seal hands over only the rest.
  std::atomic<uint64_t> handed_over{0};
  // The record bytes below this offset were made durable by the
  // writeback thread's sync behind without raising synced_len (an update
  // in place below them numbered past records above: LogWriter::
  // SyncBehind). Written by the writeback thread under the sync mutex.
  std::atomic<uint64_t> synced_behind{0};
  // In-place updates (kSegmentFlagInPlace; docs/write_path.md): the
  // record bytes below `frozen` never change again. Raised (LogWriter::
  // Freeze) before any range is synced or handed over to writeback; a put
  // overwrites a record in place only at or above it. And the end of the
  // highest record overwritten in place so far (a sync over it persists the
  // watermark with it: LogWriter::SyncSegmentLocked).
  std::atomic<uint64_t> frozen{0};
  // (A line of its own: raised by overwrites of newly appended records,
  // while every overwrite reads `frozen` and every read `checked`.)
  alignas(64) std::atomic<uint64_t> inplace_hi{0};
  // The highest sequence number an in-place update gave a record of this
  // segment, found by recovery, or at least that, from the checkpoint that
  // let recovery skip the records (0: none): the change feed and time travel
  // cannot tell what happened before it here (the versions it replaced
  // are gone). See InPlaceSeqBound.
  alignas(64) std::atomic<uint64_t> inplace_max_seq{0};
  void NoteInPlaceSeq(uint64_t seq) { RaiseTo(&inplace_max_seq, seq); }
  // The largest commit time of its records, once read (DB::NewestRecordTime;
  // only when sealed and without in-place updates: fixed from then on).
  // 0: not read yet. (Here, on a line written rarely: placed beside
  // time_floor it moved `handed_over`, which the writeback thread writes,
  // onto the line of `frozen`, which every overwrite reads: YCSB A 6-11%
  // slower in an A/B.)
  mutable std::atomic<uint64_t> newest_time{0};
  // A put of this process went in place here. Set once: an update of a
  // shared word on every overwrite (NoteInPlaceSeq, as it once was) put a
  // contended cache line on the hot path, beside fields every writer reads.
  //
  // `gap_off`: where the records numbered before the update end (its
  // reservation's offset). The next record appended there does not follow
  // the number of the record before it, and a record overwritten below it
  // carries a number above those of the records up to it: recovery after
  // a power loss cuts the log at such a record past the watermark on disk
  // (recovery.cc), so a durable write's sync carries the watermark past it
  // (InPlaceGapAtOrAbove; LogWriter::SyncTo). Raised here, where the
  // overwriter holds this line from its reservation.
  void NoteInPlace(uint64_t gap_off) {
    if (!inplace_any_.load(std::memory_order_relaxed)) {
      inplace_any_.store(true, std::memory_order_release);
    }
    RaiseTo(&inplace_gap_, gap_off, std::memory_order_release);
  }
  // Whether an update in place took its number with the records ending at
  // or above `off` (NoteInPlace): then a record at or past `off` may not
  // follow its predecessor's number.
  bool InPlaceGapAtOrAbove(uint64_t off) const {
    return inplace_any_.load(std::memory_order_acquire) &&
           inplace_gap_.load(std::memory_order_acquire) >= off;
  }
  // At least every sequence number an in-place update gave a record of
  // this segment (0: none): recovery's exact figure, or, once this process
  // updated in place here, every number the segment handed out.
  uint64_t InPlaceSeqBound() const {
    uint64_t b = inplace_max_seq.load(std::memory_order_relaxed);
    if (inplace_any_.load(std::memory_order_acquire)) {
      b = std::max(b, closed() ? end_seq_
                               : base_seq_ + (tail_.load(std::memory_order_acquire) >> kSeqShift));
    }
    return b;
  }
  bool inplace() const { return (flags_ & kSegmentFlagInPlace) != 0; }
  // No more appends (set by the writer when it rolls, or at recovery).
  std::atomic<bool> sealed{false};
  // Compaction must leave this segment alone for now (a snapshot needs an
  // old version in it); cleared when snapshots are released.
  std::atomic<bool> compact_hold{false};
  // The log writer's active segment (LogWriter::active()): set before it
  // becomes active, cleared once another is (or none is: SealActive).
  // Compaction never takes it, even sealed: a roll that fails to make the
  // next segment (a full disk) leaves the full one active, closed and
  // queued for its seal, until the next roll; the writeback thread seals
  // it meanwhile. Until 2026-11-29 compaction then retired and freed it
  // while the writer, its threads and the close still used it
  // (invariants_test (o)).
  std::atomic<bool> log_active{false};

  // Every record of the segment that a reader can reach is known intact
  // in this process: it wrote the segment (log writer, compaction output),
  // or recovery, a read-only handle's refresh or the scrub (scrubber.h)
  // validated every record of it (a sealed one authenticated too). Reads
  // then skip the checksum (ReadIntact) and a sealed record's tag
  // (Keyspace::Trusted). Goes from false to true, and back to false only when
  // compaction's scan or verify's (which check every checksum) finds a
  // record of it damaged since: reads then check each record again.
  std::atomic<bool> checked{false};

  // Whether the segment holds records of ordered namespaces and whether
  // they lie in key order (each namespace's by itself), so that a range
  // scan reads them front to back: kKeyOrderUnknown until compaction writes
  // the segment or a full compaction scans it (Compactor::KeyOrderOf).
  enum : uint8_t {
    kKeyOrderUnknown = 0,
    kKeyOrderNone = 1,  // no record of an ordered namespace
    kKeyOrderSorted = 2,
    kKeyOrderUnsorted = 3,
  };
  std::atomic<uint8_t> key_order{kKeyOrderUnknown};

  const char* RecordAt(uint64_t offset) const { return data() + offset; }
  // The record at `offset` (not bounds checked), with `checked` set.
  RecordView Peek(uint64_t offset) const {
    RecordView r = PeekRecord(RecordAt(offset), data());
    r.checked = checked.load(std::memory_order_acquire);
    return r;
  }

 private:
  const uint64_t id_;
  const uint32_t slot_;
  const uint32_t flags_;
  std::unique_ptr<MappedFile> file_;
  char* const data_;
  const uint64_t capacity_;
  // Own cache line: raised on every publish, while writers read the fields above.
  alignas(64) std::atomic<uint64_t> published_len_;

  friend class Keyspace;
  // Striped: every write adds to the active segment's counters.
  ByteCount live_;
  ByteCount dead_;

  static constexpr int kSeqShift = 36;
  static_assert(kMaxSeqs + (uint64_t{1} << 20) <= (uint64_t{1} << (64 - kSeqShift)),
                "the count's margin fits in the word");
  static constexpr uint64_t kOffMask = (uint64_t{1} << kSeqShift) - 1;
  alignas(64) std::atomic<uint64_t> tail_{0};
  uint64_t base_seq_ = 0;
  std::atomic<bool> closed_{false};
  std::atomic<bool> inplace_any_{false};
  std::atomic<uint64_t> inplace_gap_{0};  // NoteInPlace; on tail_'s line
  uint64_t end_off_ = 0;  // written by the closer before closed_ (release)
  uint64_t end_seq_ = 0;

 public:
  // DB::SegmentLastSeq's walk of the records so far (on a line of its own,
  // written once per segment, or once per refresh of a read-only handle's
  // newest segment): `walked` is the record boundary it reached (0: not
  // walked), `last` the number of the record that ends there, `last_plain`
  // whether that record was never updated in place, `max` the highest
  // number of every record below it. Guarded by last_seq_mu.
  struct LastSeqWalk {
    uint64_t walked = 0;
    uint64_t last = 0;
    bool last_plain = false;
    uint64_t max = 0;
  };
  alignas(64) mutable std::mutex last_seq_mu;
  mutable LastSeqWalk last_seq_walk;
};

class SegmentTable {
 public:
  static constexpr uint32_t kSlots = 1u << kSlotBits;

  SegmentTable();
  ~SegmentTable();
  SegmentTable(const SegmentTable&) = delete;
  SegmentTable& operator=(const SegmentTable&) = delete;

  // READER. The segment in a locator's slot (nullptr if none).
  Segment* BySlot(uint32_t slot) const {
    return slots_[slot].load(std::memory_order_acquire);
  }
  // READER. The segment with this id, or nullptr (retired or never existed).
  // REQUIRES: an Epoch::Guard is held (the id-ordered directory it reads
  // is replaced copy-on-write and the old one freed through Epoch::Retire).
  Segment* ById(uint64_t id) const;

  // WRITER. Picks a free slot; kNoSpace-like failure if all are taken.
  Status AllocateSlot(uint32_t* slot);
  // Gives back a slot from AllocateSlot that was never used by Add.
  void FreeSlot(uint32_t slot) {
    std::lock_guard<std::mutex> l(mu_);
    free_slots_.push_back(slot);
  }
  // Recovery: takes a specific slot (from a checkpoint). kCorruption if it
  // is taken or out of range.
  Status ClaimSlot(uint32_t slot);
  // WRITER. Publishes a segment (its slot must come from AllocateSlot).
  void Add(std::shared_ptr<Segment> seg);
  // WRITER. Unpublishes a segment; its memory and slot are released once no
  // reader can hold it (epoch).
  void Remove(uint64_t id);
  // Any thread: the current segments in id order (shared ownership, so an
  // iterator can pin them).
  std::vector<std::shared_ptr<Segment>> List() const;

  // Any thread. Sets seg's compact_hold (compaction leaves it alone until
  // holds are released).
  void Hold(Segment* seg) {
    holds_.store(true, std::memory_order_seq_cst);
    seg->compact_hold.store(true, std::memory_order_seq_cst);
  }
  // Any thread. Clears every segment's compact_hold, if Hold was called
  // since the last release (or always, with `force`): a snapshot released
  // (its history may be compactable now) costs nothing while no segment is
  // held, neither a walk nor shared ownership of the list.
  void ReleaseHolds(bool force = false);

 private:
  std::unique_ptr<std::atomic<Segment*>[]> slots_;
  std::atomic<bool> holds_{false};  // Hold() called since the last release
  // Segments sorted by id, replaced copy-on-write (old copies retired).
  std::atomic<const std::vector<Segment*>*> by_id_;
  // Capacity for n slots in free_slots_ (grows by doubling). REQUIRES mu_.
  void ReserveFreeSlots(size_t n);
  mutable std::mutex mu_;  // guards owned_ and free_slots_
  std::vector<std::shared_ptr<Segment>> owned_;  // id order
  std::vector<uint32_t> free_slots_;
  uint32_t next_slot_ = 1;  // slot 0 is never used (locator 0 means empty)
};

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_SEGMENT_H_
