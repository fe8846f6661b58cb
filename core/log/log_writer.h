// LogWriter: the concurrent append side of the log (DESIGN §3). Many
// threads append at once:
//
//  1. Reserve: one fetch_add on the active segment's reservation word
//     hands out a disjoint byte range and the next sequence number
//     together (no lock; log order = sequence order within a segment).
//  2. The caller fills its range (records are encoded in place, in
//     parallel with other writers) and installs its index entries.
//  3. Publish: the sequence number is marked complete; the caller waits
//     until every earlier one is complete too (SeqPublisher), so that a
//     snapshot boundary never has a hole. Whoever raises that watermark
//     first raises the segment's published length over the records it
//     passes, so a scan never finds the watermark ahead of the length.
//  4. SyncTo (sync mode `always`): group commit. The durable writer that
//     takes the sync mutex syncs everything published so far, so one flush
//     covers every writer that published before it started; the others
//     wait for that sync to end (not for the mutex: a write the sync in
//     flight covers returns as soon as it ends), and writers that do not
//     sync keep appending meanwhile (pipelined). Before it syncs, the
//     leader gathers its group: it sleeps until as many durable writers
//     have arrived since the last sync's cover point as were inside SyncTo
//     when that sync ended (the writers it covered come back a moment
//     later with their next write), for at most half the last sync's time
//     (and at most 5 ms). Without that, 8 writers formed two alternating
//     groups of about 4.
//
// A segment that fills up is closed by the first reservation that does not
// fit; that writer (or any writer that meets the closed segment) rolls
// under the roll mutex: wait for the old one's writers to finish their
// copies, queue it to be sealed (sync, watermark, truncate), name the new
// segment (its header is durable; its name is made durable by the next
// sync, before any of its records is), then switch. The seal runs on the
// writeback thread, not on the writers' path (it waits for the disk: at 16
// threads a third of the writers' time went to it). The new segment's
// header says so (kSegmentFlagAfterUnsealed, with the old segment's last
// sequence number): a power loss that cut the old segment short makes
// recovery keep nothing of the new one, so there is never a hole. Anything
// that promises durability (a sync, a checkpoint, close) seals the queued
// segments first; at most two wait (a roll that finds two still queued
// seals them itself). A spare's header is written and made durable when
// the spare is readied, so a roll that takes it waits for no flush.
// A background thread (the prefault thread) faults in pages of the active
// segment ahead of the writers (MappedFile::Prefault), so writers take no
// page faults. A second one (the writeback thread) hands the published
// bytes behind them to writeback (MappedFile::WriteBehind: mapped again
// read-only, writeback started), so that the kernel writes them back
// without a TLB shootdown per page; every sixteenth of a segment handed
// over is then synced there too (SyncBehind), so that sealing a full
// segment, which every writer waits for, has little left to do. Two
// threads, not one: a sync blocks for milliseconds, and while one thread
// did both, the prefault work (and readying the spare) held write-behind
// up: seals found 18-60 MiB of their 64 MiB still unsynced. A new
// segment reuses a retired one's file when the pool (SegmentPool) has one,
// so its pages are already written blocks, often still cached. The same
// thread readies that file (the spare) while the active segment fills:
// taken from the pool or created, mapped, its first pages faulted in,
// under a temporary name that recovery removes. The roll then only writes
// and syncs its header and names it, instead of every writer waiting while
// the file is made and mapped and its pages are faulted in.
//
// Durability watermark: the length a sync reached is written into the
// watermark page only after that sync has ended, so the page never claims
// a byte that is not durable. A later sync writes the page together with
// its new records, one flush for both (MappedFile::SyncTwo), once the page
// on disk is 10 ms old (the page in every sync cost 5-17% of the durable
// writes' throughput): the watermark on disk trails the acknowledged
// durable writes by at most that plus one group, until the writeback
// thread (once syncs pause), the seal, or an explicit sync
// (SyncPublished) persists it (docs/format.md).
//
// After any failed sync the writer enters a sticky error state: every later
// Reserve/Sync fails with that error until the database is reopened.
//
// Thread contract: Reserve, Publish, SyncTo, SyncPublished and
// sticky_error may be called from any number of threads at once.
// SealActive REQUIRES that no Reserve/Publish is in flight (the caller
// holds the database's writer gate exclusively, or is closing).
#ifndef FIRKIN_CORE_LOG_LOG_WRITER_H_
#define FIRKIN_CORE_LOG_LOG_WRITER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/env/env.h"
#include "core/log/live_file.h"
#include "core/log/segment.h"
#include "core/log/segment_pool.h"
#include "core/log/seq_publisher.h"
#include "core/util/epoch.h"
#include "core/util/parking.h"

namespace firkin {

class LogWriter {
 public:
  // A reserved range: `seq` and bytes [off, off + bytes) of `seg`.
  struct Reservation {
    Segment* seg = nullptr;
    uint64_t off = 0;
    uint64_t bytes = 0;
    uint64_t seq = 0;
    bool overwrite = false;  // ReserveSeq's: an in-place update (Complete, not Publish)
    bool queued = false;     // Reserve's, past kFreeWriters: Publish releases the queue
  };

  // Threads whose Epoch::ThreadIndex is below this append freely; the
  // others take turns (one at a time, from Reserve until Publish
  // returns). So at most kFreeWriters + 1 appends hold an unpublished
  // number at once, however many threads write: with the overwrites'
  // allowance (kAheadMax, for the LiveFile::kSlots threads that may
  // overwrite) every number stays less than SeqPublisher::kRing past the
  // watermark, which the publisher's ring needs (a number a whole ring
  // ahead would take the slot of one not yet published, and the watermark
  // would stop there for good).
  static constexpr uint32_t kFreeWriters = 1024;

  // `recycle`: how many retired segment files to keep for reuse (0: none).
  // `directory`: `dir` held open (Env::OpenDirectory), for the syncs that
  // make new segments' names durable.
  LogWriter(Env* env, std::string dir, std::unique_ptr<Directory> directory, uint64_t db_id,
            uint64_t segment_size, SegmentTable* table, uint64_t next_segment_id,
            uint64_t last_seq, size_t recycle = 0);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Before the first write: new segments get a salted header (encrypted
  // databases: their records are sealed with nonces from the salt).
  void set_salted(bool salted) { salted_ = salted; }
  // Before the first write: the database's clock (a high-water mark of its
  // readings, ms), written into each segment's watermark page when it is
  // sealed (EncodeSealClock), so that a reopen's clock does not go back.
  // `key`: an encrypted database's data-key cipher, which MACs the clock
  // (nullptr: unencrypted, the clock has its XXH3 check only).
  void set_clock(const std::atomic<uint64_t>* clock_ms, const Aead* key) {
    clock_ms_ = clock_ms;
    clock_key_ = key;
  }
  // Before the first write: new segments' mappings are backed by 2 MiB
  // pages where the file system can (MappedFile::AdviseHugePages). For
  // databases that sync rarely (sync mode none): a sync inside a large
  // folio writes all 2 MiB of it, which group commit and the interval
  // flush would pay on every sync.
  void set_huge_pages(bool huge) { huge_pages_ = huge; }
  // Before the first write: called after each roll, on the rolling
  // writer's thread while it holds its key locks and the roll mutex (so it
  // must not block); the database's compactor decides there whether
  // writers must wait for it (backpressure).
  void set_roll_listener(std::function<void()> f) { on_roll_ = std::move(f); }

  // Before the first write: in-place updates (docs/write_path.md, "In-place
  // updates"). New log segments say kSegmentFlagInPlace, and the published
  // sequence number lives in `live` (which must outlive this writer), so
  // that recovery after a kill -9 reads it.
  void EnableInPlace(LiveFile* live) {
    live_ = live;
    publisher_.Attach(live->published_word());
  }
  bool inplace_enabled() const { return live_ != nullptr; }
  LiveFile* live() const { return live_; }

  // ---- in-place updates (the gate between overwriters and freezers) ----
  // An overwriter (a put under its key's lock, thread slot `slot` <
  // LiveFile::kSlots) calls BeginInPlace; on true it may overwrite the
  // record at `off` of `seg`, whose sequence number is now `seq`, takes
  // its new number with ReserveSeq, and calls EndInPlace once the bytes
  // are written (before Publish). False: not now (the record is frozen,
  // the segment is not active, a holder of old versions is registered:
  // Block, or a counting walk may still need the record's version:
  // `seq` is not above the count floor, SetCountFloor).
  bool BeginInPlace(size_t slot, Segment* seg, uint64_t off, uint64_t seq) {
    InPlaceSlot& me = ip_slots_[slot];
    // (The slot is counted before its flag is set: a freezer that reads
    // the count after its store then sees the flag. Acquire, when another
    // thread's raise already counts it: that raise then happens before the
    // flag's store, so a freezer whose load follows the store in the
    // single total order sees the count; a relaxed load left that to the
    // hardware, x86 and ARMv8 both giving it, the C++ model not. A review
    // of 2026-11-29; free on x86.)
    if (slot >= ip_hi_.load(std::memory_order_acquire)) RaiseSlots(slot);
    // (The record before the flag, both released: OverwriteHolds.)
    me.record.store(seg->data() + off, std::memory_order_release);
    me.active.store(1, std::memory_order_seq_cst);
    if (ip_blockers_.load(std::memory_order_seq_cst) == 0 &&
        seq > count_floor_.load(std::memory_order_seq_cst) && seg->inplace() &&
        off >= seg->frozen.load(std::memory_order_seq_cst) &&
        active_.load(std::memory_order_acquire) == seg) {
      return true;
    }
    me.active.store(0, std::memory_order_release);
    return false;
  }
  // For a reader that loaded `counter`, odd, from the in-place counter of
  // the record at `base` (before this call): true while an overwriter may
  // be writing that record (the reader waits and reads again); false when
  // none is and the counter is still that value: the odd counter is then
  // no overwrite under way but damage (a flipped bit in the file), which
  // no wait would end. Exact, not a timeout: an overwriter publishes its
  // record and flag (BeginInPlace) before the release fence that precedes
  // its odd store, so a reader that saw the odd value (and fences after)
  // finds the flag raised, or finds it lowered or the slot on another
  // record only after the overwrite ended, when the counter has moved on.
  // The slow path of a read: scans every slot ever used.
  bool OverwriteHolds(const char* base, uint32_t counter) const {
    std::atomic_thread_fence(std::memory_order_acquire);
    const uint32_t n = ip_hi_.load(std::memory_order_acquire);
    for (uint32_t i = 0; i < n; i++) {
      if (ip_slots_[i].active.load(std::memory_order_acquire) != 0 &&
          ip_slots_[i].record.load(std::memory_order_acquire) == base) {
        return true;
      }
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    return LoadRecordCounter(base) != counter;
  }
  // `seq`: the number the overwrite took (0: it did not overwrite), noted
  // in the slot's own line for Block.
  void EndInPlace(size_t slot, uint64_t seq = 0) {
    if (seq != 0) ip_slots_[slot].seq.store(seq, std::memory_order_relaxed);
    ip_slots_[slot].active.store(0, std::memory_order_release);
  }
  // A sequence number without bytes, from `seg` (false: it is closed).
  // r->off is the segment's tail then, the end of every record numbered
  // before it, with no bytes: its publication raises the published length
  // over them (SeqPublisher raises it to the end of the last number it
  // passes, and an overwritten record's own offset lies below theirs).
  //
  // An overwrite does not wait for its publication (Complete), so a thread
  // may take number after number while an earlier one, another thread's,
  // is still being written: the publisher's ring holds kRing numbers. So
  // ReserveSeq first looks at the number the segment would hand out next
  // (NextSeqHint), and takes none if that is more than kAheadMax past the
  // watermark: it returns false, the put appends, and waits for its
  // publication as every append does, holding neither its key's lock nor
  // the overwriter's flag (which freezers and holders of old versions wait
  // for). A thread that passed the look takes one number after it; while
  // it is between the two, the others' looks stop them once the hint is
  // past the line. So no number is more than kAheadMax + (threads
  // writing) past the watermark: under kRing, as at most kSlots threads
  // overwrite and kFreeWriters + 1 append at once.
  //
  // Every number a segment hands out is on one of its records (an
  // overwritten record carries its last overwrite's): recovery reads a
  // segment's last number as the highest on its records, and checks the
  // next segment's first record against it (recovery.cc). Until
  // 2026-11-27 a number too far ahead was taken, then completed with no
  // record: when such a gap was the last number of a segment, recovery
  // after a kill -9 took the next segment for one that followed a hole and
  // dropped it, with every acknowledged write in it (inplace_test
  // killroll, about 1 run in 15 with the CPU shared).
  static constexpr uint64_t kAheadMax = SeqPublisher::kRing / 2;
  static_assert(kAheadMax + LiveFile::kSlots + kFreeWriters + 1 < SeqPublisher::kRing,
                "every unpublished number within the publisher's ring");
  bool ReserveSeq(Segment* seg, Reservation* r) {
    // (The thread's last look first: the watermark's line only when far ahead.)
    const uint64_t next = seg->NextSeqHint();
    if (next > PublishedSeen() + kAheadMax && next > PublishedCaughtUp() + kAheadMax) {
      ahead_appends_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    uint64_t off = 0, seq = 0;
    if (seg->TryReserve(1, 0, &off, &seq) != Segment::Reserve::kOk) return false;
    publisher_.Prepare(seq);
    r->seg = seg;
    r->seq = seq;
    r->off = off;
    r->bytes = 0;
    r->overwrite = true;
    return true;
  }
  // How many overwrites appended instead, their number too far ahead.
  uint64_t ahead_appends() const { return ahead_appends_.load(std::memory_order_relaxed); }
  // Any thread: a holder of old versions (a snapshot, iterator,
  // transaction, change cursor, backup, verify) registers. Once it
  // returns, no update goes in place until Unblock, and every overwrite
  // that began before is published.
  void Block();
  void Unblock() { ip_blockers_.fetch_sub(1, std::memory_order_seq_cst); }
  // Any thread (the database, under its snapshot lock): counting walks
  // (DB::CountKeys) need the version of each key at their snapshot S, but
  // only whether it exists, which an overwrite never changes. What an
  // overwrite does change is the record's number: one at or below S
  // replaced by one above it would send the walk back along the record's
  // prev, past the version it needs. So while walks are registered the
  // database sets a floor (docs/write_path.md, "Counting walks beside
  // updates in place"): the newest registered walk's S, or UINT64_MAX while
  // a walk is choosing its S; an overwrite goes in place only where the
  // record's number is above it (BeginInPlace), and a record numbered at
  // or below it appends its next version. 0: no walk, no floor. A walk
  // raises the floor to UINT64_MAX, then WaitOverwrites, then takes S:
  // every overwrite that did not see the raise (its flag was up before the
  // raise, seq_cst both ways, as Block's count) has ended and is
  // published, so S is at or above its number.
  void SetCountFloor(uint64_t floor) { count_floor_.store(floor, std::memory_order_seq_cst); }
  uint64_t count_floor() const { return count_floor_.load(std::memory_order_relaxed); }
  // Any thread: waits until every overwrite under way has ended and every
  // number an overwrite took is published (Block's wait, without blocking
  // any later overwrite).
  void WaitOverwrites();
  // The highest sequence number an in-place update of this process gave a
  // record (0: none). Exact once Block returned (no overwrite under way).
  uint64_t InPlaceMaxSeq() const;
  uint64_t inplace_blocked() const { return ip_blockers_.load(std::memory_order_relaxed); }
  // Raises seg's freeze offset to at least `target` and waits for the
  // overwriters that may not have seen it. Returns the offset.
  uint64_t Freeze(Segment* seg, uint64_t target);
  // Under the sync mutex, before a sync of `seg` up to `upto` (a published
  // length) that raises its watermark: freezes what was reserved, and
  // returns the length to sync, `upto` or more, such that the records
  // below it are a completed prefix of the log by sequence number (what a
  // read-only handle reads, Follower; and recovery after a power loss). An
  // update in place below `upto` may carry a number above appends still
  // being copied past it (ReserveSeq does not wait for them): then the
  // length is raised over them, once they are published (Block).
  uint64_t FreezeForSync(Segment* seg, uint64_t upto);
  // How long FreezeForSync waits for appends in flight (then goes on).
  static constexpr int64_t kPrefixWaitNs = 100 * 1000 * 1000;
  // How often it went on without them (a writer stalled that long).
  uint64_t prefix_waits_timed_out() const {
    return prefix_waits_timed_out_.load(std::memory_order_relaxed);
  }

  // Any thread. Reserves `bytes` (a multiple of 8) and one sequence number.
  // The caller MUST call Publish(r) afterwards, whatever happens, so the
  // sequence number completes. REQUIRES: an Epoch::Guard held from before
  // the call until r.seg is no longer used (every writer of DB does): the
  // segment it loads may be closed by another writer's roll, sealed,
  // compacted and retired meanwhile, and only the guard keeps it from being
  // freed; the roll tells the segment it was asked to replace from the
  // active one by address, which is exact only while that one cannot be
  // freed and another allocated at its address (review of 2026-11-29).
  Status Reserve(uint64_t bytes, Reservation* r);
  // Any thread. The reservation's bytes are written and installed: marks
  // its sequence number complete and waits until it is published (its
  // bytes are then visible to scans: below the published length).
  void Publish(const Reservation& r);
  // Any thread, for an overwrite (ReserveSeq) whose bytes are written:
  // marks its number complete and returns without waiting for every
  // earlier number (docs/write_path.md, "Overwrites that do not wait").
  // The watermark passes it once they complete. What makes that safe: a
  // read of the latest state takes an overwritten record as it is, without
  // its publication (DB::GetAt); recovery after a kill keeps every
  // overwrite that is whole (recovery.cc); a holder of old versions waits
  // for the publication of every overwrite (Block); and a sync covers it
  // whether published or not (the record's place was published before its
  // first overwrite: it lies below the published length).
  // It does not advance the watermark either (SeqPublisher::CompleteLazily):
  // the next thread that needs it does.
  void Complete(const Reservation& r) {
    publisher_.CompleteLazily(r.seq, r.seg, r.off + r.bytes);
  }
  // The snapshot boundary: every sequence number up to it is complete
  // (advanced over every completed number first: SeqPublisher::Current).
  uint64_t published_seq() const {
    Epoch::Guard guard;  // (advancing raises a segment's published length)
    return publisher_.Current();
  }
  // Any thread: the published number as this thread last saw it (a lower
  // bound of published_seq(), 0 if it never looked), read without touching
  // the watermark's cache line, which every publication writes and which,
  // at 16 threads of YCSB A, every read and in-place update missed on.
  // Reads of the latest state and in-place updates compare a record's
  // number with it first and look at the watermark (PublishedNow) only for
  // a newer record. A thread learns the number by looking, and by its own
  // writes (Publish). Kept per Epoch::ThreadIndex, in lines of their own;
  // threads past kSeenSlots always look.
  uint64_t PublishedSeen() const {
    const uint32_t i = Epoch::ThreadIndex();
    return i < kSeenSlots ? seen_[i].seq.load(std::memory_order_relaxed) : 0;
  }
  // Any thread: published_seq(), noted as this thread's last look.
  uint64_t PublishedNow() {
    const uint64_t p = publisher_.published();
    NoteSeen(p);
    return p;
  }
  // Any thread (holding an Epoch::Guard): published_seq(), noted as this
  // thread's last look.
  uint64_t PublishedCaughtUp() {
    const uint64_t p = publisher_.Current();
    NoteSeen(p);
    return p;
  }
  // Any thread: whether seq is published (a record of it is visible).
  bool IsPublished(uint64_t seq) { return seq <= PublishedSeen() || seq <= PublishedNow(); }
  // Any thread (holding an Epoch::Guard): waits until `seq`, which a writer
  // holds, is published.
  void WaitPublished(uint64_t seq) { publisher_.WaitFor(seq); }

  // Any thread: makes every published byte up to `end` of `seg` durable
  // (group commit). REQUIRES: the bytes are published.
  Status SyncTo(Segment* seg, uint64_t end);
  // Any thread (the interval flusher, DB::Sync): makes everything published
  // so far durable.
  Status SyncPublished();
  // Any thread: the end of what is published now.
  LogPosition PublishedPosition() const;
  // Any thread: whether everything published at `p` is durable: below the
  // active segment's watermark on disk (records there are trusted after a
  // power loss), every segment before it sealed. It gets there without a
  // sync of its own: write-behind syncs what it hands over, the interval
  // flusher, group commits and seals sync too. A sync made only to get
  // there would freeze the active segment up to its tail (a synced record
  // is never overwritten in place), so the next update of every record
  // below it would append instead.
  bool Durable(const LogPosition& p) const;
  // EXCLUSIVE (no writer in flight). Seals the active segment (the next
  // write starts a new one). Used by close and full compaction.
  Status SealActive();
  // Any thread. Seals now the full segments whose seal a roll queued for
  // the writeback thread (a full compaction must see them sealed).
  Status SealQueued();

  // Inline: every write asks, and almost always there is none.
  Status sticky_error() const {
    if (__builtin_expect(!has_sticky_.load(std::memory_order_acquire), 1)) return Status();
    return StickyErrorSlow();
  }
  // Any thread: puts the log into the sticky failed state with `s` (the
  // in-memory state no longer matches the log); returns the sticky error.
  Status Fail(const Status& s) {
    std::lock_guard<std::mutex> l(sync_mu_);
    SetSticky(s);
    return sticky_;
  }
  // Any thread: an allocation failed where the in-memory state may be
  // half changed (a roll, a compaction pass, a namespace's drop): the log
  // fails as after a failed sync (sticky NO_MEMORY; reads go on, a reopen
  // recovers from the files). Returns that status. Needs no memory itself:
  // a message is added only if it can be.
  Status FailOutOfMemory(const char* what) noexcept;
  uint64_t sync_count() const { return syncs_.load(std::memory_order_relaxed); }
  uint64_t roll_count() const { return rolls_.load(std::memory_order_relaxed); }
  // Time spent in rolls (every writer waits for one), in microseconds: the
  // total and the longest; and the time spent sealing full segments (their
  // last records synced, truncated, synced again), mostly off the rolls.
  uint64_t roll_us() const { return roll_us_.load(std::memory_order_relaxed); }
  uint64_t roll_us_max() const { return roll_us_max_.load(std::memory_order_relaxed); }
  uint64_t seal_us() const { return seal_us_.load(std::memory_order_relaxed); }
  // How many full segments the writeback thread sealed (off the writers'
  // path); the others were sealed by a sync, a checkpoint, close, or a roll
  // that found the previous seal still queued.
  uint64_t seals_behind() const { return seals_behind_.load(std::memory_order_relaxed); }
  // How many segments were created by reusing a retired file.
  uint64_t recycled_count() const { return recycled_.load(std::memory_order_relaxed); }
  // A checkpoint listed the segments up to `max_id` (under the writer
  // gate, so no roll runs meanwhile): a spare whose id is below it takes a
  // fresh id when it is named (a checkpoint requires every segment it does
  // not list to be newer than all it lists).
  void NoteListed(uint64_t max_id);
  // How many spares were given a fresh id (and header) at the roll: a
  // checkpoint listed a newer id, or a roll made a segment itself, after
  // the spare's id was taken.
  uint64_t spares_restamped() const { return restamped_.load(std::memory_order_relaxed); }
  // How many rolls took the spare file the prefault thread had readied.
  uint64_t spare_count() const { return spares_used_.load(std::memory_order_relaxed); }
  // How many times readying a spare failed (the roll then made its file
  // itself; nothing was acknowledged on it, so nothing reports it).
  uint64_t spare_failures() const { return spares_failed_.load(std::memory_order_relaxed); }
  // Bytes handed to writeback behind the writers (MappedFile::WriteBehind).
  uint64_t written_behind() const { return written_behind_.load(std::memory_order_relaxed); }
  // Any thread: the file of a retired segment (already out of the segment
  // table), whose records all have sequence numbers <= max_seq, is kept for
  // reuse or removed (SegmentPool::Offer). The caller syncs the directory.
  Status Retire(const std::shared_ptr<Segment>& seg, uint64_t max_seq) {
    return pool_.Offer(seg, max_seq);
  }
  // Any thread: a fresh segment id (never reused), for compaction outputs.
  uint64_t AllocateSegmentId() { return next_id_.fetch_add(1); }
  Segment* active() const { return active_.load(std::memory_order_acquire); }

 private:
  Status Roll(Segment* full, uint64_t bytes);
  Status RollSteps(Segment* full, uint64_t bytes);  // Roll's work (Roll catches bad_alloc)
  // A new segment for a roll (*spare_used: it is the prepared spare).
  // after_unsealed: the previous log segment is queued for its seal (the
  // header then says so, with next_base_seq_ as its floor).
  Status CreateSegment(uint64_t bytes, bool after_unsealed, std::shared_ptr<Segment>* out,
                       bool* spare_used);
  Status SealLocked(Segment* seg, uint64_t end);
  // Seals the segments a roll queued (unsealed_), oldest first (*sealed:
  // how many).
  Status SealQueuedLocked(size_t* sealed = nullptr);
  // Makes [synced, upto) of `seg` durable; the queued seals first, as a
  // record is durable only once every earlier one is. The watermark on disk
  // trails by this sync (one flush, see SyncSegmentLocked) unless
  // `watermark` asks for it to reach `upto` too (a second flush).
  Status SyncRangeLocked(Segment* seg, uint64_t upto, bool watermark);
  Status SyncSegmentLocked(Segment* seg, uint64_t upto, bool watermark);
  // Makes the watermark on disk claim all of seg's synced bytes (a flush of
  // the watermark page) if it does not yet.
  Status PersistWatermarkLocked(Segment* seg);
  // Group commit's leader (sync_mu_ held): waits briefly for the group to
  // gather before its sync (see SyncTo).
  void GatherGroupLocked();
  // Whether a durable write's sync in `seg` must carry the watermark: an
  // update in place left a record past the watermark on disk that
  // recovery after a power loss would cut at (log_writer.cc).
  static bool WatermarkNeeded(const Segment* seg);
  // The writeback thread: makes [synced, upto) of the active segment
  // durable ahead of its seal (nothing if it was sealed meanwhile).
  void SyncBehind(Segment* seg, uint64_t upto);
  // Puts the writer in its failed state (every later write gets s). With
  // `pages_at_risk` (a sync of a segment's records or watermark page
  // failed: the kernel may have dropped their dirty pages), the LIVE file
  // is distrusted too, so the next open recovers as after a power loss.
  // Not for failures that leave no record's page in doubt (a directory
  // sync, a new segment's header, a seal's truncate after its records were
  // synced): until the review after the fifth, every failure did, and the
  // next open cut the log at the first record updated in place since the
  // last sync, losing acknowledged writes that no failure had touched.
  void SetSticky(const Status& s, bool pages_at_risk = false);
  void PrefaultLoop();
  void WritebackLoop();
  // One round of each loop's work (the loops catch bad_alloc around them).
  // `last`: the id of the active segment the loop worked on last (0: none),
  // and how far it got there.
  void PrefaultRound(uint64_t* last, uint64_t* done);
  bool WritebackRound(uint64_t* last, uint64_t* written);  // true: look again at once
  // Wakes the writeback thread (the prefault thread calls it each round).
  void PokeWriteback();
  // The prefault thread: readies the spare file if there is none (failures
  // leave none; the roll then makes its file itself).
  void PrepareSpare();
  // A file of at least `size` bytes named `name` for a new segment: a
  // pooled one whose records are all at or below `floor` (*recycled), or a
  // new one.
  Status MakeSegmentFile(uint64_t floor, uint64_t size, const std::string& name,
                         std::unique_ptr<MappedFile>* file, bool* recycled);
  // The roll: the spare file if it is at least `size` bytes (else null).
  // Until SpareNamed, no new spare is readied (it would take the same name).
  std::unique_ptr<MappedFile> TakeSpare(uint64_t size, bool* recycled, uint64_t* id,
                                        uint32_t* flags);
  // A fresh segment id (ids are never reused once a file carried one), or
  // NoSpace once they are exhausted.
  Status TakeSegmentId(uint64_t* id);
  // A roll that failed before it named its segment (its temporary file at
  // `tmp` is gone) returns `id`, if it is still the newest taken.
  void GiveBackSegmentId(uint64_t id, const std::string& tmp);
  // The header of a new segment file (a spare's, or one the roll makes),
  // written into its mapping and made durable (*sync_failed: the sync
  // failed, which the roll makes sticky).
  Status WriteHeader(MappedFile* file, uint64_t id, uint32_t flags, uint64_t floor,
                     uint32_t* flags_out, bool* sync_failed);
  void SpareNamed();
  void DropSpare();

  void RaiseSlots(size_t slot) {
    uint32_t cur = ip_hi_.load(std::memory_order_relaxed);
    while (slot + 1 > cur && !ip_hi_.compare_exchange_weak(cur, static_cast<uint32_t>(slot + 1))) {
    }
  }
  // Waits until no overwriter that began before this call is still writing.
  void WaitInPlaceIdle();

  Env* const env_;
  const std::string dir_;
  const std::unique_ptr<Directory> directory_;  // dir_, held open
  // In-place updates (EnableInPlace): one flag per thread slot, set while
  // that thread overwrites a record, the record, and the number its last overwrite
  // took (Block waits for the highest); 1 + the highest slot ever used;
  // the registered holders of old versions; the counting walks' floor.
  // (The highest number was one
  // shared word that every overwrite CASed, on the line of the two counts
  // that every overwrite reads.)
  struct alignas(64) InPlaceSlot {
    std::atomic<uint32_t> active{0};
    std::atomic<uint64_t> seq{0};
    std::atomic<const char*> record{nullptr};  // what it overwrites (or last did)
  };
  LiveFile* live_ = nullptr;
  std::unique_ptr<InPlaceSlot[]> ip_slots_{new InPlaceSlot[LiveFile::kSlots]};
  std::atomic<uint32_t> ip_hi_{0};
  std::atomic<uint32_t> ip_blockers_{0};
  std::atomic<uint64_t> count_floor_{0};  // SetCountFloor
  const uint64_t db_id_;
  const uint64_t segment_size_;
  SegmentTable* const table_;
  std::atomic<uint64_t> next_id_;
  SeqPublisher publisher_;
  // PublishedSeen: what each thread last saw published (only that thread
  // writes its slot; a slot a new thread reuses still holds a lower bound,
  // since the watermark only grows).
  static constexpr uint32_t kSeenSlots = 64;
  struct alignas(64) SeenSlot {
    std::atomic<uint64_t> seq{0};
  };
  std::unique_ptr<SeenSlot[]> seen_{new SeenSlot[kSeenSlots]};
  std::atomic<uint64_t> ahead_appends_{0};
  std::atomic<uint64_t> prefix_waits_timed_out_{0};  // FreezeForSync
  std::mutex crowd_mu_;  // the appenders past kFreeWriters, one at a time
  void NoteSeen(uint64_t seq) {
    const uint32_t i = Epoch::ThreadIndex();
    if (i < kSeenSlots && seq > seen_[i].seq.load(std::memory_order_relaxed)) {
      seen_[i].seq.store(seq, std::memory_order_relaxed);
    }
  }

  std::atomic<Segment*> active_{nullptr};  // owned by table_
  std::mutex roll_mu_;                     // one roll at a time
  uint64_t next_base_seq_;                 // under roll_mu_: seq before the next segment's

  mutable std::mutex sync_mu_;  // guards syncs, seals and sticky_
  // Closed, fully published segments waiting for their seal (at most one;
  // owned by table_, and never compacted before they are sealed).
  // Pushed by a roll, popped by whoever seals (sync_mu_ held) once sealed.
  std::mutex queue_mu_;
  std::vector<Segment*> unsealed_;        // under queue_mu_
  std::atomic<bool> seal_queued_{false};  // set by a roll before the next segment is active
  // A roll named a segment and the directory was not synced since: the
  // next SyncSegmentLocked syncs it first. Set by a roll before the segment
  // is active; cleared under sync_mu_.
  std::atomic<bool> dir_unsynced_{false};
  uint64_t last_log_id_ = 0;             // under roll_mu_: the newest log segment's id
  std::atomic<uint64_t> listed_max_{0};  // NoteListed
  // Group commit's followers sleep here until the sync in flight ends
  // (SyncTo): group_gen_ counts the syncs SyncTo has finished, and its
  // leader wakes them all at once. (A condition variable woke them into a
  // convoy on its mutex, each taking it in turn.)
  std::atomic<uint64_t> group_gen_{0};
  Parking group_park_;
  // Gathering a group (SyncTo): durable writers inside SyncTo, and how
  // many entered SyncTo ever; then, written by the leader under sync_mu_:
  // that count when the last group's sync read the published length
  // (writers that entered after it are not covered), how many were inside
  // when that sync ended (the writers to expect), and how long it took.
  std::atomic<uint32_t> in_sync_{0};
  std::atomic<uint64_t> arrivals_{0};
  uint64_t cover_mark_ = 0;    // under sync_mu_
  uint32_t expect_ = 0;        // under sync_mu_
  uint64_t last_sync_ns_ = 0;  // under sync_mu_
  // When the last sync of any kind ended (steady-clock ns; written under
  // sync_mu_): the writeback thread persists a trailing watermark only once
  // no sync has come for a while (WritebackLoop).
  std::atomic<int64_t> last_sync_end_ns_{0};
  // When a sync last wrote a watermark page (steady-clock ns; under
  // sync_mu_): group commits carry the page only once it is
  // kWatermarkLagNs old (SyncSegmentLocked).
  int64_t watermark_written_ns_ = 0;
  // A leader gathering its group sleeps here until the arrivals count
  // reaches gather_until_ (0: no leader gathering); the entrant that makes
  // it reach it wakes the leader.
  Parking gather_park_;
  std::atomic<uint64_t> gather_until_{0};
  Status sticky_;
  Status StickyErrorSlow() const;  // takes sync_mu_ to copy sticky_
  std::atomic<bool> has_sticky_{false};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> rolls_{0};
  std::atomic<uint64_t> roll_us_{0};      // written under roll_mu_
  std::atomic<uint64_t> roll_us_max_{0};  // written under roll_mu_
  std::atomic<uint64_t> seal_us_{0};      // written under sync_mu_
  std::atomic<uint64_t> seals_behind_{0};  // seals the writeback thread ran
  std::atomic<uint64_t> recycled_{0};
  std::atomic<uint64_t> written_behind_{0};
  std::atomic<uint64_t> spares_used_{0};
  std::atomic<uint64_t> restamped_{0};  // spares whose id was taken again at the roll
  std::atomic<uint64_t> spares_failed_{0};
  SegmentPool pool_;
  bool salted_ = false;
  const std::atomic<uint64_t>* clock_ms_ = nullptr;
  const Aead* clock_key_ = nullptr;  // set_clock's key
  bool huge_pages_ = false;
  std::function<void()> on_roll_;  // set before the first write

  // Prefaulting ahead of the writers.
  std::mutex pf_mu_;
  std::condition_variable pf_cv_;
  bool pf_stop_ = false;
  bool pf_poked_ = false;
  std::thread pf_thread_;
  std::mutex wb_mu_;
  std::condition_variable wb_cv_;
  bool wb_stop_ = false;    // under wb_mu_
  bool wb_poked_ = false;   // under wb_mu_
  std::thread wb_thread_;

  // The next segment's file, readied ahead of the roll (PrepareSpare).
  std::mutex spare_mu_;
  std::unique_ptr<MappedFile> spare_;  // under spare_mu_; named spare_path()
  bool spare_recycled_ = false;        // under spare_mu_
  // Its header, written and made durable when it was readied (so that the
  // roll, which waits for no disk flush when it takes a spare, only names
  // it): its segment id and header flags.
  uint64_t spare_id_ = 0;     // under spare_mu_
  uint32_t spare_flags_ = 0;  // under spare_mu_
  bool spare_naming_ = false;          // under spare_mu_: a roll renames the spare
  std::string spare_path() const;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_LOG_WRITER_H_
