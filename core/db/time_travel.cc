// The database's clock, commit times, and time travel by clock time
// (DESIGN §5): mapping a time to the sequence number of the state then,
// the history of one key, and what history retention keeps.
//
// Time -> sequence number needs no index in memory: log segments (not
// compaction outputs) tile the sequence numbers in id order, each holds
// its records in sequence order, and every record written by format
// version 3 carries its commit time. So a lookup finds the newest log
// segment whose first commit is at or before the time and scans it. The
// cost is one scan of at most one segment per lookup, and no RAM.
#include <algorithm>

#include "core/db/db.h"
#include "core/log/log_reader.h"
#include "core/util/atomic_bound.h"
#include "core/util/epoch.h"
#include "core/util/realtime_clock.h"

namespace firkin {

uint64_t DB::RawClockMs() const {
  if (options_.clock != nullptr) return options_.clock(options_.clock_ctx);
  return RealtimeMsClock::Process().NowMs();
}

uint64_t DB::NowMs() const {
  // A high-water mark of every reading and commit time: the database's time
  // never goes back (an expired key never comes back when the clock does).
  const uint64_t now = RawClockMs();
  uint64_t last = last_commit_ms_.load(std::memory_order_acquire);
  while (now > last &&
         !last_commit_ms_.compare_exchange_weak(last, now, std::memory_order_acq_rel)) {
  }
  return std::max(now, last);
}

uint64_t DB::CommitTimeMs() {
  // Never 0: a record's size counts its time field, which 0 would omit.
  return std::max<uint64_t>(NowMs(), 1);
}

bool DB::ForgeableTime(const RecordView& r) const {
  return codec_.sealing() && !r.sealed() && r.type == RecordType::kCommit;
}

uint64_t DB::FirstRecordTime(const Segment& s, bool* overwritten, bool* found,
                             bool* damaged) const {
  LogReader reader(s.data(), kSegmentHeaderSize, s.published_len());
  RecordView r;
  uint64_t at;
  // Records updated in place carry a later commit than their place says
  // (docs/write_path.md): the first one that was not stands for the
  // segment's start (its time is at or after the first commit's), and
  // *overwritten says that earlier commits' times are unknown. So does a
  // damaged record before it (*damaged): passed over, its time unread.
  // (Until the session after 2026-11-28 a damaged first record ended the
  // look with nothing found: the segment read as "every commit later",
  // and a time inside it got the state before it, with FIRKIN_OK.)
  if (overwritten != nullptr) *overwritten = false;
  if (found != nullptr) *found = false;
  if (damaged != nullptr) *damaged = false;
  for (LogReader::Result res; (res = reader.Next(&r, &at)) != LogReader::Result::kEnd;) {
    if (res == LogReader::Result::kDamaged) {
      if (damaged != nullptr) *damaged = true;
      reader.Resync();
      continue;
    }
    // (Encrypted: a commit record's time is not authenticated, and a
    // batch's records carry it: passed over. ForgeableTime.)
    if (ForgeableTime(r)) continue;
    if (r.counter() == 0) {
      if (found != nullptr) *found = true;
      return r.time();
    }
    if (overwritten != nullptr) *overwritten = true;
  }
  return 0;
}

uint64_t DB::LastRecordTime(const Segment& s, uint64_t* scanned, uint64_t last_seq) const {
  // The last record's time, a scan's running maximum where the segment is
  // not sealed (or records were updated in place): a lower bound of the
  // segment's newest commit (a write moved back in time may end it), which
  // is exact where no write was moved back, and below the seal clock of a
  // sealed segment (the open takes both: NewestCommitTime). A scan costs
  // a segment read; look for the record that ends the segment first (as
  // SegmentLastSeq does).
  const uint64_t len = s.published_len();
  const char* d = s.data();
  // (Not where records may have been updated in place: one of them may
  // carry the latest time.)
  // In an encrypted database the time must be authentic: the last sealed
  // record is authenticated (its time is in its tag's additional data),
  // and unsealed records after it (a batch's commit record, whose batch
  // records before it carry its time; a failed CAS's filler) are stepped
  // over, a few at most, never believed: anyone can write one with a
  // fitting checksum and any time (until the session of authenticated
  // header values this look believed it, and a forged commit record at a
  // sealed segment's end moved every open's clock there).
  if (s.sealed.load(std::memory_order_acquire) && !s.inplace()) {
    uint64_t end = len;
    for (int steps = 0; steps < 64 && end >= kSegmentHeaderSize + kRecordMinSize; steps++) {
      RecordView v;
      uint64_t found = 0;
      for (uint64_t p = (end - kRecordMinSize) & ~uint64_t{kRecordAlign - 1};
           p >= kSegmentHeaderSize; p -= kRecordAlign) {
        RecordView r = PeekRecord(d + p);
        if (p + r.size() == end && ValidateRecord(d + p, end - p, &v, d)) {
          found = p;
          break;
        }
        if (p == kSegmentHeaderSize) break;
      }
      if (found == 0) break;  // no record ends there: read whole
      // The stored bytes of a record inside a value (a put whose value ends
      // with a copy of one) end the segment as well, and pass their
      // checksum: where the caller knows the last record's number, a
      // record with another is not believed (read whole). Until 2026-11-29
      // a read-only handle beside a live writer took its clock from such
      // a copy: a copy made on a clock years ahead put the handle's clock
      // there, and its keys with an expiry read as expired (timetravel_test
      // embedded_clock).
      if (last_seq != 0 && v.seq != last_seq) break;
      if (!codec_.sealing()) return v.time();
      if (v.sealed()) {
        if (codec_.Authentic(v)) return v.time();
        break;  // fails its tag: read whole (the scan passes it over)
      }
      end = found;
    }
  }
  return NewestRecordTime(s, UINT64_MAX, scanned);  // read whole: the running maximum
}

bool DB::HoldsTimeFrom(const std::vector<std::shared_ptr<Segment>>& logs, size_t i,
                       uint64_t t) const {
  // Two cheap looks first. The next log segment's first commit is at or
  // after every commit of this one (times never go back across segments:
  // its time floor, the clock once every number before it was published,
  // is at or after each of them): below t, none of this one is at t or
  // later. This one's last commit is one of its times: at t or later, it
  // holds one. Only where neither tells (the segment around t) are its
  // records read (NewestRecordTime; a review of the exact fix found every
  // log segment before the window read at each compaction plan).
  if (i + 1 < logs.size()) {
    bool found = false;
    const uint64_t next = FirstRecordTime(*logs[i + 1], nullptr, &found);
    if (found && next < t) return false;
  }
  // (The last record's look is cheap only on a sealed segment without
  // updates in place; elsewhere it reads the segment whole, which is
  // NewestRecordTime's answer already: not read twice.)
  const Segment& s = *logs[i];
  if (s.sealed.load(std::memory_order_acquire) && !s.inplace() && LastRecordTime(s) >= t) {
    return true;
  }
  return NewestRecordTime(s) >= t;
}

uint64_t DB::NewestRecordTime(const Segment& s, uint64_t end, uint64_t* scanned) const {
  // Not the last record's time: a write moved back in time
  // (CommitTimeBefore) may end a segment that holds later ones (a review
  // found history retention let compaction take the segment before such a
  // one while a time inside the window needed it). A scan of the records,
  // once per sealed segment where nothing changes them any more.
  // (A read-only handle's segments are marked sealed while the writer may
  // still add to the newest: kept only on the writer.)
  const bool fixed = end == UINT64_MAX && !options_.read_only &&
                     s.sealed.load(std::memory_order_acquire) && !s.inplace();
  if (fixed) {
    if (const uint64_t t = s.newest_time.load(std::memory_order_acquire)) return t;
  }
  uint64_t newest = 0;
  // Checked, and sealed records authenticated where their segment is not
  // validated yet: a record forged with a fitting checksum must not move
  // the database's clock (third code review of the session).
  const uint64_t until = std::min(end, s.published_len());
  if (scanned != nullptr && until > kSegmentHeaderSize) *scanned += until - kSegmentHeaderSize;
  LogReader reader(s.data(), kSegmentHeaderSize, until, /*checksums=*/true, AuthFor(s));
  RecordView r;
  uint64_t at;
  for (LogReader::Result res; (res = reader.Next(&r, &at)) != LogReader::Result::kEnd;) {
    if (res == LogReader::Result::kDamaged) {
      reader.Resync();
      continue;
    }
    // (Encrypted: only sealed records, authenticated by the reader above;
    // a commit record is not sealed, and a forged one must not count.)
    if (!codec_.sealing() || (r.flags & kRecordFlagSealed) != 0) {
      newest = std::max(newest, r.time());
    }
  }
  if (fixed) s.newest_time.store(newest, std::memory_order_release);
  return newest;
}

uint64_t DB::NewestCommitTime(uint64_t* scanned) const {
  std::vector<std::shared_ptr<Segment>> logs = LogSegments();
  uint64_t t = 0;
  // The newest segment may be empty (just rolled): look one further back.
  // Its last record's time is not always its newest: a write moved back in
  // time may end it. A segment's seal clock covers that: the clock when it
  // was sealed is at or past every commit it holds (and every commit
  // before it), so where there is one it is the answer, and the records
  // are not read (until 2026-11-28 the last record was looked at too,
  // which read the segment whole where records were updated in place,
  // the default: at every open). One without (the tail a crash left) is
  // read whole (after a crash that ended
  // the log with a moved-back write, a reopen with the clock behind stamped
  // the next write before the newest one, and time travel held a later
  // write at an earlier time; code review of the session after the fifth
  // review). A read-only handle too: its clock decides SeqAtTime's "now"
  // and the seal clocks of its backups (the third code review found both
  // wrong with a reader's exemption). Except beside a live writer, whose
  // active segment never has a seal clock (every reader's open would read
  // up to a segment; the fourth code review): such a reader takes the last
  // record and every record its recovery replayed (below), and each
  // refresh raises its clock to the commits it brings (DB::Refresh). A
  // writer's open after a crash reads the tail whole once: it then writes
  // the figure into the tail as its seal clock (RecordTailClock), so the
  // opens after it do not read it again (until 2026-11-28 every open did,
  // until a write and a clean close sealed a segment after it).
  const bool live_writer = options_.read_only && writer_seen_;
  for (size_t i = logs.size(); i-- > 0 && t == 0;) {
    const uint64_t sealed_at = DecodeSealClock(logs[i]->data(), codec_.cipher());
    if (sealed_at != 0) {
      t = sealed_at;
      break;
    }
    // (The newest log segment with records ends with the open's newest
    // number, unless compaction moved it: then it is read whole.)
    t = live_writer ? LastRecordTime(*logs[i], scanned, std::max<uint64_t>(recovery_.last_seq, 1))
                    : NewestRecordTime(*logs[i], UINT64_MAX, scanned);
  }
  t = std::max(t, recovery_.newest_time);  // every record the open replayed
  // The clock each seal recorded (the database's reading then, which may be
  // past its newest commit: reads move it too; until the review after the
  // fifth a key that had expired by the clock but after the newest commit
  // read as live again after a reopen with the system clock set back).
  // (Encrypted: only a clock whose MAC holds; one forged, or written by an
  // older library without a MAC, reads as none: docs/format.md,
  // "Authenticated header values".)
  for (const auto& s : logs) t = std::max(t, DecodeSealClock(s->data(), codec_.cipher()));
  // Compaction may have moved or dropped newer commits than the log
  // segments left hold: each output's done marker carries the newest
  // commit time its inputs held (none from libraries before the fifth outside review).
  if (keyspace_ == nullptr) return t;
  for (auto& s : keyspace_->segments().List()) {
    if ((s->flags() & kSegmentFlagCompacted) == 0) continue;
    // A named output is complete: its last record is the done marker.
    // (Encrypted: only if its MAC holds, as for a seal clock.)
    uint64_t off = 0;
    RecordView v;
    if (FindDoneMarker(s->data(), s->published_len(), &off, &v) &&
        (!codec_.sealing() || DoneMarkerMac(s->data(), s->published_len(), off,
                                            codec_.cipher()) == HeaderMac::kValid)) {
      t = std::max(t, v.time());
    }
  }
  return t;
}

Status DB::RecordTailClock(uint64_t ms) {
  // The segments NewestCommitTime reads records of: from the newest log
  // segment back to the first that holds records, while none has a seal
  // clock (the tail a crash left, never sealed by a roll or a close; the
  // recovery just made its records durable and its watermark final). ms is
  // the open's NewestCommitTime, at or past every commit they hold, as a
  // seal clock must be; the next open takes the same figure from here
  // without reading them. Written in the watermark page, as a seal writes
  // it, and made durable; a failure leaves it unwritten (the next open
  // reads the tail again, as before) and is returned.
  if (ms == 0) return Status::OK();
  std::vector<std::shared_ptr<Segment>> logs = LogSegments();
  for (size_t i = logs.size(); i-- > 0;) {
    const Segment& s = *logs[i];
    if (DecodeSealClock(s.data(), codec_.cipher()) != 0) break;
    // (A clock whose MAC fails, in an encrypted database, is left as it
    // is, for verify to report: not written over as if none were there.)
    if (codec_.sealing() && SealClockMac(s.data(), codec_.cipher()) == HeaderMac::kForged) break;
    std::unique_ptr<MappedFile> f;
    FIRKIN_RETURN_IF_ERROR(env_->OpenMappedFile(s.path(), /*writable=*/true, &f));
    if (f->size() < kSegmentHeaderSize) break;  // (recovery refused such a file)
    EncodeSealClock(f->data(), ms, codec_.cipher());
    FIRKIN_RETURN_IF_ERROR(f->Sync(kWatermarkOffset, kSegmentHeaderSize - kWatermarkOffset));
    if (s.published_len() > kSegmentHeaderSize) break;  // the one holding records
  }
  return Status::OK();
}

Status DB::SeqAtTime(uint64_t unix_ms, uint64_t* seq) {
  // A later time than now gives the latest state as of the call (firkin.h):
  // the clock is not moved into the future.
  // (The number first, then the clock: a reader's refresh raises the
  // clock before it publishes the number, so a number read first is never
  // one whose commits the clock read after it has not passed; the fifth
  // code review.)
  const uint64_t acknowledged = AcknowledgedSeq();
  if (unix_ms > NowMs()) {
    *seq = acknowledged;
    return Status::OK();
  }
  if (log_ != nullptr) {
    // A write takes its number, then reads the clock: one stamped at or
    // before unix_ms may still be in flight, its number not published, and
    // a state without it would change once it is (review: a writer held up
    // at a roll left a past time's answer short by one write for 90 ms).
    // The writes in flight are drained (they publish before they leave the
    // gate).
    //
    // unix_ms still now once they are: that millisecond is not over, and
    // writes may still commit in it (until 2026-11-28 a put in the same
    // millisecond, after the call, had that time and was not in the
    // snapshot). With none in flight, every number handed out so far was
    // stamped at or before now, and the clock moves past it (a high-water
    // mark of readings: at most 1 ms ahead of the real clock) before the
    // next write reads it: the state is exactly every write so far. Until
    // the review after the fifth, the clock moved before the drain, and a
    // write that read it in between, stamped later, was in the state.
    bool exact = false;
    uint64_t upto = 0;
    gate_.RunExclusive([&] {
      if (NowMs() != unix_ms) return;
      RaiseTo(&last_commit_ms_, unix_ms + 1);
      exact = true;
      upto = std::max(LastSeq(), log_->InPlaceMaxSeq());
    });
    if (exact) {
      if (upto > log_->published_seq()) {
        Epoch::Guard guard;
        log_->WaitPublished(upto);
      }
      *seq = upto;
      return Status::OK();
    }
  }
  // A past time (or now passed while the writes drained).
  return ScanSeqAtTime(unix_ms, seq);
}

std::string DB::UnknownTimeAt(const Segment& s, uint64_t unix_ms) {
  return "the state at time " + std::to_string(unix_ms) + " cannot be told: " + s.path() +
         " holds a damaged record whose commit time is unknown (firkin_verify names it)";
}

Status DB::ScanSeqAtTime(uint64_t unix_ms, uint64_t* seq) const {
  Epoch::Guard guard;
  // (Acknowledged: every write that returned, updates in place included.)
  const uint64_t published = AcknowledgedSeq();
  std::vector<std::shared_ptr<Segment>> logs;
  for (auto& s : LogSegments()) {
    if (s->min_seq.load(std::memory_order_relaxed) != UINT64_MAX) logs.push_back(s);
  }
  // Records updated in place (docs/write_path.md) lost the commit they had
  // before: the scan below passes them over, so the answer may lack such a
  // write (a single put: batches never go in place) that was at or before
  // the time. Never a wrong value: a read of its key through the snapshot
  // meets the record's newer number (or, once compacted, kPrevReplaced)
  // and says SnapshotTooOld, and a scan of that state does (ScanInexact).
  // Every other key reads as it was at the time. (Until 2026-11-27 any
  // record updated in place in a log segment made every time too old,
  // even one before the first write, against this call's contract.)
  if (logs.empty()) {
    if (published == 0) {
      *seq = 0;  // nothing was ever written
      return Status::OK();
    }
    return Status::SnapshotTooOld("no log is kept that tells the state at time " +
                                  std::to_string(unix_ms));
  }
  for (size_t i = logs.size(); i-- > 0;) {
    const Segment& s = *logs[i];
    bool overwritten = false, found = false, damaged = false;
    const uint64_t first_time = FirstRecordTime(s, &overwritten, &found, &damaged);
    if ((first_time > unix_ms || !found) && damaged) {
      // A damaged record before the first intact one: whether its commit
      // was at or before the time is not known.
      return Status::Corruption(UnknownTimeAt(s, unix_ms));
    }
    if ((first_time > unix_ms || !found) && overwritten) {
      // Its first commits were overwritten in place: whether one of them
      // was at or before the time is no longer known.
      return Status::SnapshotTooOld("the state at time " + std::to_string(unix_ms) +
                                    " is no longer kept (updated in place since)");
    }
    // (A segment with no record published yet, just rolled, holds no
    // commit at or before the time: the answer is before it. Until the
    // review after the fifth its first time read as 0, "before every
    // time", and the answer was the latest state whatever the time.)
    // (Times never go back across segments: a write moved back in time
    // stops at its segment's time floor, DB::CommitTimeBefore.)
    if (found && first_time <= unix_ms) {
      // The answer is in this segment: the last commit at or before the
      // time (times are compared as a running maximum in sequence order,
      // so writes in flight together whose times came out of order count
      // at the later time).
      uint64_t ans = s.min_seq.load(std::memory_order_relaxed);
      uint64_t mx = 0;
      bool found_later = false;  // a commit after the time, or past the published number
      LogReader reader(s.data(), kSegmentHeaderSize, s.published_len());
      RecordView r;
      uint64_t at;
      // A damaged record's time is not known, and with it where the
      // running maximum passes the time: no later record settles it (times
      // need not follow numbers: a write moved back in time, a writer
      // delayed before it read the clock; a code review's case had a
      // moved-back batch after the damage). The time cannot be told.
      // (Until the session after 2026-11-28 damage was passed over, and
      // the answer lacked a commit at or before the time: FIRKIN_OK.)
      for (LogReader::Result res; (res = reader.Next(&r, &at)) != LogReader::Result::kEnd;) {
        if (res == LogReader::Result::kDamaged) {
          return Status::Corruption(UnknownTimeAt(s, unix_ms));
        }
        // A record updated in place is a later commit than its place:
        // passed over (a read at the answer that needs it, or a version
        // it replaced, is told SnapshotTooOld: VersionAt).
        if (r.counter() != 0) continue;
        if (r.seq > published) {
          found_later = true;
          break;
        }
        // (Encrypted: not a commit record's time, which anyone can forge
        // with a fitting checksum; its batch's records carry it.)
        if (!ForgeableTime(r)) mx = std::max(mx, r.time());
        if (mx > unix_ms) {
          found_later = true;
          break;
        }
        ans = r.seq;
      }
      // Every commit of this segment was at or before the time: the answer
      // is its last one only if the next commit is in the log segment
      // after it (or there is none: the published number). Where
      // compaction retired the log segments after it, the commits between
      // are only in outputs, which keep no order: whether they were before
      // the time is not known (until 2026-11-28 the answer was this
      // segment's last number, a state that lacked writes committed before
      // the time: review of changes_test compacted_tail). The writer's
      // active segment takes every later number: nothing is after it. A
      // segment's last number counts those updates in place gave its
      // records (passed over above, as everywhere here).
      const bool active = !s.closed() && !s.sealed.load(std::memory_order_acquire);
      const uint64_t next =
          i + 1 < logs.size() ? logs[i + 1]->min_seq.load(std::memory_order_relaxed)
                              : published + 1;
      // (Not read for the active segment: SegmentLastSeq walks a segment
      // that is neither closed nor sealed whole, each time.)
      const uint64_t last = active ? 0 : std::max(SegmentLastSeq(s), s.InPlaceSeqBound());
      if (!found_later && !active && last + 1 < next) {
        return Status::SnapshotTooOld("the state at time " + std::to_string(unix_ms) +
                                      " is no longer kept (compaction retired the log "
                                      "segments after sequence " + std::to_string(last) + ")");
      }
      *seq = std::min(ans, published);
      return Status::OK();
    }
    // Every commit in this segment is later: the answer is before it, in
    // the previous log segment if that one is still kept whole.
    const uint64_t first = s.min_seq.load(std::memory_order_relaxed);
    if (i == 0 || SegmentLastSeq(*logs[i - 1]) + 1 != first) {
      if (first <= 1) {
        *seq = 0;  // before the database's first write
        return Status::OK();
      }
      return Status::SnapshotTooOld("the state at time " + std::to_string(unix_ms) +
                                    " is no longer kept (the oldest readable time is " +
                                    std::to_string(OldestReadableTime()) + ")");
    }
  }
  return Status::Internal("unreachable");
}

uint64_t DB::OldestReadableTime() const {
  Epoch::Guard guard;
  std::vector<std::shared_ptr<Segment>> logs;
  for (auto& s : LogSegments()) {
    if (s->min_seq.load(std::memory_order_relaxed) != UINT64_MAX) logs.push_back(s);
  }
  if (logs.empty()) return LastSeq() == 0 ? 0 : UINT64_MAX;
  // Compaction may retire the newest log segments and keep an older one:
  // the times after it are then not known, and SeqAtTime answers none
  // below now.
  if (!LogReaches(*logs.back(), LastSeq())) return UINT64_MAX;
  size_t i = logs.size() - 1;
  while (i > 0 &&
         SegmentLastSeq(*logs[i - 1]) + 1 == logs[i]->min_seq.load(std::memory_order_relaxed)) {
    i--;
  }
  if (logs[i]->min_seq.load(std::memory_order_relaxed) <= 1) return 0;
  return FirstRecordTime(*logs[i]);
}

uint64_t DB::HistoryRetentionSeq() const {
  const uint64_t keep = options_.history_retention_ms;
  if (keep == 0) return UINT64_MAX;
  const uint64_t now = NowMs();
  uint64_t seq = 0;
  if (now <= keep) return 0;
  if (!ScanSeqAtTime(now - keep, &seq).ok()) {
    // Older than what is kept: keep everything still there.
    const uint64_t oldest = OldestChangeSeq();
    return oldest > 0 ? oldest - 1 : 0;
  }
  return seq;
}

uint64_t DB::HistoryRetentionSegmentFloor() const {
  const uint64_t keep = options_.history_retention_ms;
  if (keep == 0) return UINT64_MAX;
  const uint64_t now = NowMs();
  const uint64_t cutoff = now > keep ? now - keep : 0;
  // Log segments holding a commit inside the window, and the one before
  // them (it holds the state at the window's start), stay log segments so
  // that SeqAtTime can tell times inside the window.
  std::vector<std::shared_ptr<Segment>> logs = LogSegments();
  for (size_t i = 0; i < logs.size(); i++) {
    if (HoldsTimeFrom(logs, i, cutoff)) return logs[i > 0 ? i - 1 : 0]->id();
  }
  // No commit inside the window (writes paused for longer than it): the
  // state at every time inside it is the newest commit's, which the
  // newest log segment with records holds. Until 2026-11-28 nothing was
  // kept then, and after a compaction every time inside the window said
  // SnapshotTooOld (found by review).
  for (size_t i = logs.size(); i-- > 0;) {
    if (logs[i]->min_seq.load(std::memory_order_relaxed) != UINT64_MAX) return logs[i]->id();
  }
  return UINT64_MAX;
}

// ---- History floors ----
//
// Compaction keeps, of each key, the versions from the one visible at the
// oldest snapshot (or the retention window's start) up; it drops the older
// ones, and tombstones and expired puts no snapshot needs, with the key's
// whole past. A snapshot at an older sequence number (firkin_snapshot_at,
// firkin_snapshot_at_time) may need what went. A read of one key finds
// out from the key's chain (its prev address names a record that is gone,
// or kPrevReplaced), but not when the key left the index altogether, and a
// scan (an iterator) cannot tell a version that is gone from one that
// never was. So the writer keeps two floors: below history_floor_ a scan
// says SnapshotTooOld, and below absent_floor_ a read that finds nothing
// does (and a key's history whose chain ends may be truncated). Until
// 2026-11-27 the writer kept neither: a snapshot at an older number read
// a deleted key as absent, and iterated without it, once compaction had
// dropped its tombstone (helpers' review, tests/c/timetravel_test.c).

void DB::RaiseHistoryFloors(uint64_t history, uint64_t absent) {
  RaiseTo(&history_floor_, std::max(history, absent));
  RaiseTo(&absent_floor_, absent);
}

void DB::HistoryDropped(uint64_t history, uint64_t absent) {
  RaiseHistoryFloors(history, absent);
}

void DB::LoadHistoryFloors() {
  // Each compaction output's first record (its input list) carries the
  // history floor at the time it was written, in its prev field (0 if an
  // older library wrote it: then nothing is known and the whole past is
  // taken as gone). Floors only rise, and an output is retired only by a
  // later one, which carries the later floor.
  // (A read-only handle: before StartFollowing publishes its number.)
  const uint64_t last = options_.read_only ? recovery_.last_seq : LastSeq();
  uint64_t floor = 0;
  bool unknown = false, any_output = false;
  uint64_t first_log = UINT64_MAX;
  for (const auto& s : keyspace_->segments().List()) {
    if ((s->flags() & kSegmentFlagCompacted) != 0) {
      any_output = true;
      RecordView r;
      if (s->published_len() < kSegmentHeaderSize + kRecordMinSize) {
        unknown = true;
        continue;
      }
      // (Validated: a damaged record says nothing about the floor.
      // Encrypted: nor does one whose output's done-marker MAC, which
      // covers it, is missing or wrong: a floor forged lower would let
      // reads below the real one take what compaction dropped.)
      uint64_t done_off = 0;
      RecordView done;
      if (!ValidateRecord(s->RecordAt(kSegmentHeaderSize),
                          s->published_len() - kSegmentHeaderSize, &r, s->data()) ||
          r.type != RecordType::kCompactInputs || r.prev == 0 ||
          (codec_.sealing() &&
           (!FindDoneMarker(s->data(), s->published_len(), &done_off, &done) ||
            DoneMarkerMac(s->data(), s->published_len(), done_off, codec_.cipher()) !=
                HeaderMac::kValid))) {
        unknown = true;
      } else {
        floor = std::max(floor, r.prev);
      }
    } else {
      first_log = std::min(first_log, s->min_seq.load(std::memory_order_relaxed));
    }
  }
  // No output, yet the log does not start at the first write: segments
  // were compacted into nothing (every record dropped), by a library that
  // recorded no floor there.
  if (!any_output && last > 0 && (first_log == UINT64_MAX || first_log > 1)) unknown = true;
  if (unknown) floor = last;
  floor = std::min(floor, last);
  if (options_.read_only) {
    // A reader's history_floor_ refuses every read below it, found or not
    // (a refresh dropped entries): these floors refuse what they should, a
    // key found absent and a scan.
    absent_floor_.store(floor, std::memory_order_release);
    reader_scan_floor_.store(floor, std::memory_order_release);
    return;
  }
  RaiseHistoryFloors(floor, floor);
}

bool DB::ScanInexact(uint64_t snap) const {
  if (snap < history_floor_.load(std::memory_order_acquire)) return true;
  // An update in place replaced a version with a newer number: a snapshot
  // below that number may need the version it replaced (a snapshot taken
  // of the latest state is above every one: LogWriter::Block). Recovery
  // found those of earlier processes; compaction outputs hold none (their
  // copies raised the floor).
  uint64_t hi = log_ != nullptr ? log_->InPlaceMaxSeq() : 0;
  for (const auto& s : keyspace_->segments().List()) {
    hi = std::max(hi, s->inplace_max_seq.load(std::memory_order_relaxed));
  }
  return snap < hi;
}

Status DB::History(const NamespaceInfo& ns, std::string_view key, std::vector<Version>* out,
                   bool* truncated) const {
  out->clear();
  *truncated = false;
  if (ns.dropped.load(std::memory_order_acquire)) {
    return Status::NamespaceNotFound("namespace '" + ns.name + "' was dropped");
  }
  // The newest record is copied below: no update goes in place meanwhile.
  InPlaceBlock no_in_place(this);
  Epoch::Guard guard;
  const uint64_t published = LastSeq();
  const uint64_t h = keyspace_->Hash(ns.id, key);
  RecordView r;
  // A chain that ends (no version, or a first one) may have had a past
  // before it: a tombstone compaction dropped with everything before it.
  const bool may_have_past = absent_floor_.load(std::memory_order_acquire) > 0;
  if (keyspace_->FindNewest(h, ns.id, key, &r) == 0) {
    *truncated = may_have_past;
    return Status::OK();
  }
  // Each version's value is kept as stored (opened, if sealed: `opened`);
  // a compressed one is decoded once into `decoded` to check it, and kept
  // compressed (RecordCodec::Stored). Until the session of 2026-11-29
  // every version was kept decoded: 16 versions of a compressible 16 MiB
  // value took 272 MB at once, from a log of 44 KB.
  std::string opened, decoded;
  for (uint64_t steps = 0;; steps++) {
    if (!keyspace_->Trusted(r, check_all_reads_)) {
      return Status::Corruption(
          "a version of the key failed its checksum "
          "(or, sealed, its authentication) (sequence " +
          std::to_string(r.seq) + ")");
    }
    if (r.ns_id != ns.id || !keyspace_->codec().KeyEquals(r, key)) {
      return Status::Corruption("version chain of a key leads to another key's record");
    }
    if (r.seq <= published) {  // a write not yet published is not history yet
      std::string_view stored;
      uint8_t codec = 0;
      if (r.type == RecordType::kPut) {
        FIRKIN_RETURN_IF_ERROR(codec_.Stored(r, &opened, &stored));
        codec = r.flags & kRecordFlagsCodec;
        std::string_view v;
        FIRKIN_RETURN_IF_ERROR(RecordCodec::DecodeStored(codec, r.seq, stored, &decoded, &v));
      }
      out->push_back(Version{r.seq, r.time(), r.expiry(), r.type != RecordType::kPut,
                             std::string(stored), codec});
    }
    if (r.counter() != 0) {
      *truncated = true;  // updated in place: the versions it replaced are gone
      return Status::OK();
    }
    if (r.prev == 0) {
      *truncated = may_have_past;
      return Status::OK();
    }
    if (r.prev == kPrevReplaced) {
      *truncated = true;  // its copy says so (it was updated in place)
      return Status::OK();
    }
    const Segment* s = keyspace_->segments().ById(DiskAddrSegment(r.prev));
    const uint64_t off = DiskAddrOffset(r.prev);
    if (s == nullptr || off + kRecordPeekSize > s->capacity()) {
      *truncated = true;  // older versions were compacted away
      return Status::OK();
    }
    RecordView p = s->Peek(off);
    if (p.size() > s->capacity() - off || p.seq >= r.seq || steps > (1u << 24)) {
      return Status::Corruption(s->path() + ": damaged version chain at offset " +
                                std::to_string(off));
    }
    r = p;
  }
}

}  // namespace firkin
