// In-place updates of hot keys (docs/write_path.md, "In-place updates").
//
// An unconditional put of a key whose newest record is a plain put of the
// same value length, in the active segment at or above its freeze offset,
// in a published place (its append's number is published), overwrites
// that record instead of appending a new one: the index, the byte counts
// and the key counts do not change. What keeps the promises:
//
//  - bytes below the freeze offset never change again, and the offset is
//    raised before any range is synced or handed over to writeback
//    (LogWriter::Freeze), so synced bytes are never overwritten;
//  - the new record is first encoded into this thread's image slot of the
//    LIVE file, whose shared page also holds the published sequence
//    number, and copied from there: after a kill -9 recovery puts the
//    image in the record's place if the copy was cut short (the record is
//    not whole), and keeps every whole overwrite, published or not: the
//    put returns before its number is published (LogWriter::Complete), and
//    reads of the latest state see it then;
//  - the record's in-place counter (offset 36) is odd while it changes:
//    readers check it around their copy (ReadStable) and read again;
//  - holders of old versions (snapshots, iterators, transactions, change
//    cursors, backups, verify) turn it off while they live
//    (LogWriter::Block), and a new write sequence number goes on the record,
//    so a power loss that keeps it cuts the log before it (recovery.cc);
//  - counting walks (firkin_count, stats' keys: DB::CountKeys) need only
//    whether each key exists at their snapshot S, which an overwrite does
//    not change: while they run, a record numbered above every walk's S
//    is overwritten as usual, one at or below it appends its next version
//    (LogWriter::SetCountFloor; docs/write_path.md, "Counting walks beside
//    updates in place").
#include <cstring>

#include "core/db/db.h"
#include "core/util/epoch.h"
#include "core/util/prefetch.h"

namespace firkin {
namespace {

// Writes src over the record at dst (same size) as a seqlock writer:
// counter odd, the bytes (all but the counter), counter even again.
#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer does not know seqlocks: readers copy these bytes while
// they change and throw the copy away when the counter moved. The
// overwrite is left out of its view (no instrumentation, no intercepted
// memcpy), so it reports the races the readers handle, not these.
__attribute__((no_sanitize("thread"))) void OverwriteRecord(char* dst, const char* src,
                                                             size_t size, uint32_t counter) {
  const size_t co = RecordCounterOffset(RecordFlagsAt(src));
  volatile uint32_t* c = reinterpret_cast<volatile uint32_t*>(dst + co);
  *c = counter + 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  volatile char* d = dst;
  for (size_t i = 0; i < size; i++) {
    if (i < co || i >= co + 4) d[i] = src[i];
  }
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  *c = counter + 2;
}
#else
void OverwriteRecord(char* dst, const char* src, size_t size, uint32_t counter) {
  const size_t co = RecordCounterOffset(RecordFlagsAt(src));
  uint32_t* c = reinterpret_cast<uint32_t*>(dst + co);
  __atomic_store_n(c, counter + 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);  // odd before any byte changes
  std::memcpy(dst, src, co);
  std::memcpy(dst + co + 4, src + co + 4, size - co - 4);
  __atomic_store_n(c, counter + 2, __ATOMIC_RELEASE);
}
#endif

}  // namespace

bool DB::TryInPlace(const WriteOp& op, uint64_t hash, LogWriter::Reservation* r) {
  // (The caller checked: an unconditional put, not `always`, in-place on.)
  if (op.codec_flags != 0 || op.has_expiry() || op.ns->ordered != nullptr) return false;
  // (Threads alive at once, not threads ever made: a slot is reused once
  // its thread has exited.)
  const unsigned slot = Epoch::ThreadIndex();
  if (slot >= LiveFile::kSlots || !live_->SlotReady(slot)) return false;
  Locator cand = 0;
  int n = 0;
  keyspace_->SoleCandidate(hash, &cand, &n);
  if (n != 1) return false;
  Segment* seg = log_->active();
  if (seg == nullptr || LocatorSlot(cand) != seg->slot()) return false;
  const uint64_t off = LocatorOffset(cand);
  // Never a segment's first record: recovery reads the previous segment's
  // last sequence number off it (NextLogSegment), and an overwrite would
  // give it a newer one (the segment before would look cut short).
  if (off == kSegmentHeaderSize) return false;
  char* base = seg->mutable_data() + off;
  // A record this put can overwrite has exactly the size of the new one
  // (same key, same value length, a commit time and nothing else): every
  // line of it is fetched for writing now, all at once, before its header
  // is looked at (the header's miss was serial with the rest's until
  // 2026-11-27), and the clock is read while they arrive (21 ns here;
  // prefetches wait for no fence, the clock's LFENCE included). For
  // writing: a line that a reader's copy on another core holds would
  // otherwise be fetched by the overwrite's stores, paid at the latest by
  // Publish's fence. Hints only: a candidate that turns out not to fit
  // cost the bandwidth.
  const size_t size = OpRecordSize(op);
  if (size > LiveFile::kMaxRecord) return false;
  for (size_t o = 0; o < size; o += 64) PrefetchForWrite(base + o);
  PrefetchForWrite(base + size - 1);
  const uint64_t time_ms = CommitTimeMs();
  RecordView old;
  if (!keyspace_->IsRecordOf(cand, op.ns->id, op.key, &old)) return false;
  // (The short layout: the image below is encoded in it. Records of the
  // active segment are this library's, so always.)
  if (old.type != RecordType::kPut || old.flags != (kRecordFlagTime | kRecordFlagShort) ||
      old.value_len != op.value.size() || old.size() != size) {
    return false;
  }
  // No overwrite of this record is under way (we hold its key's lock). A
  // counter about to wrap to 0 (never overwritten, to recovery) appends.
  const uint32_t counter = LoadRecordCounter(base);
  if (counter >= 0xFFFFFFF0u) return false;
  // The record's place must be published (below the published length, in
  // every scan; recovery keeps every whole overwrite there). An appended
  // record is once its number is; an overwritten one was before its first
  // overwrite, whether the last overwrite's number is published or not
  // (overwrites do not wait for publication: LogWriter::Complete).
  if (counter == 0 && !log_->IsPublished(old.seq)) return false;
  // (old.seq: read under the key's lock, so no overwrite changes it
  // before ours. A counting walk needs it kept where it is at or below the
  // walk's snapshot: LogWriter::SetCountFloor.)
  if (!log_->BeginInPlace(slot, seg, off, old.seq)) return false;
  if (!log_->ReserveSeq(seg, r)) {  // closed (the append rolls), or too far ahead
    log_->EndInPlace(slot);
    return false;
  }
  // Now, while this core holds the line of the reservation word that the
  // flag shares: read after the overwrite, another writer's reservation
  // had often taken the line away (8% of TryInPlace's samples, 2 threads).
  seg->NoteInPlace(r->off);
  // The new record is encoded (and checksummed, in one pass) in this
  // thread's slot of LIVE, and copied from there over the old one: a kill
  // -9 that cuts the copy short leaves a torn record and a whole image of
  // what it was becoming, which recovery puts in its place. (The slot held
  // the old record until 2026-11-26, copied before the sequence number was
  // taken: one 1 KB copy more per put, for the same guarantee.)
  char* img = live_->BeginImage(slot);
  EncodeRecordCached(RecordFields{r->seq, old.prev, op.ns->id, RecordType::kPut, 0, op.key,
                                  op.value, time_ms, 0, counter + 2},
                     img);
  live_->EndImage(slot, seg->id(), off, size);
  // The image before the overwrite, and the slot's record and flag
  // (BeginInPlace) before the odd counter (LogWriter::OverwriteHolds).
  __atomic_thread_fence(__ATOMIC_RELEASE);
  OverwriteRecord(base, img, size, counter);
  uint64_t hi = seg->inplace_hi.load(std::memory_order_relaxed);
  while (off + size > hi && !seg->inplace_hi.compare_exchange_weak(hi, off + size)) {
  }
  log_->EndInPlace(slot, r->seq);
  // No log bytes were added: nothing for checkpoint_every or bytes_written
  // to count. r->off stays ReserveSeq's: the end of the records numbered
  // before this one, which the published length must cover once the
  // watermark passes this number (this record's own offset did not: the
  // watermark then covered appends past the published length, which
  // scans, verify and iterators did not see; stress_in_place, 2026-11-26).
  in_place_.Add(1);
  return true;
}

}  // namespace firkin
