// The change feed: ChangeCursor, and the DB's change-history bookkeeping
// (which log segments hold it, the oldest retained change, the retention
// floor compaction respects).
#include "core/db/changes.h"

#include <algorithm>

#include "core/db/db.h"
#include "core/log/log_reader.h"

namespace firkin {

// ---- DB: change history ----

std::vector<std::shared_ptr<Segment>> DB::LogSegments() const {
  std::vector<std::shared_ptr<Segment>> out;
  if (keyspace_ == nullptr) return out;
  for (auto& s : keyspace_->segments().List()) {
    if ((s->flags() & kSegmentFlagCompacted) == 0) out.push_back(s);
  }
  return out;  // List() is in id order
}

uint64_t DB::SegmentLastSeq(const Segment& s) const {
  if (s.closed()) return s.end_seq();  // closed by this process's writer: exact
  // The records are walked from the first, record by record: the number of
  // the one that ends the published length (where it was never updated in
  // place), else the highest number of any. Until 2026-11-29 this looked
  // first for a record that ends exactly at the length, from the end
  // backwards, and took the first one that passed its checksum: the
  // stored bytes of a record (a value that ends with a copy of one, such
  // as a chunk of another database's segment file) passed, and the
  // segment's last number was read from the value. The change feed then
  // refused history it still had, after a reopen (firkin_changes_open:
  // SNAPSHOT_TOO_OLD, firkin_changes_oldest_seq past it), and time travel
  // took the log segments for not tiling (changes_test embedded_record).
  // A walk reads the segment once: what it found is kept for a sealed
  // segment (the writer never changes one; on a read-only handle the
  // records below a segment's published length do not change, and a
  // refresh that raised the length goes on from where the walk ended).
  const uint64_t len = s.published_len();
  const char* d = s.data();
  const bool keep = s.sealed.load(std::memory_order_acquire);
  std::unique_lock<std::mutex> l(s.last_seq_mu, std::defer_lock);
  Segment::LastSeqWalk w;
  if (keep) {
    l.lock();
    // (A refresh that failed lowers the length again: walk it anew.)
    if (s.last_seq_walk.walked != 0 && s.last_seq_walk.walked <= len) w = s.last_seq_walk;
  }
  if (w.walked < len) {
    LogReader reader(d, std::max<uint64_t>(w.walked, kSegmentHeaderSize), len);
    RecordView r;
    uint64_t at;
    for (LogReader::Result res; (res = reader.Next(&r, &at)) != LogReader::Result::kEnd;) {
      if (res == LogReader::Result::kDamaged) {
        // (Damage that salvage skipped: no record ends the segment there.)
        w.last = 0;
        w.last_plain = false;
        reader.Resync();
        continue;
      }
      w.last = r.seq;
      w.last_plain = r.counter() == 0;
      w.max = std::max(w.max, r.seq);
    }
    w.walked = len;
    if (keep) s.last_seq_walk = w;
  }
  return w.last_plain ? w.last : w.max;
}

bool DB::LogReaches(const Segment& newest, uint64_t latest) const {
  if (!newest.closed() && !newest.sealed.load(std::memory_order_acquire)) return true;
  const uint64_t starts = newest.min_seq.load(std::memory_order_relaxed);
  return std::max({SegmentLastSeq(newest), newest.InPlaceSeqBound(),
                   starts > 0 ? starts - 1 : 0}) >= latest;
}

uint64_t DB::OldestChangeSeq() const {
  // The last number before the listing: a segment is listed before any of
  // its numbers is published, so every change up to it lies in a listed
  // log segment unless compaction took it (as in ChangeCursor::Fill).
  const uint64_t latest = LastSeq();
  const uint64_t next = latest + 1;
  std::vector<std::shared_ptr<Segment>> logs;
  for (auto& s : LogSegments()) {
    if (s->min_seq.load(std::memory_order_relaxed) != UINT64_MAX) logs.push_back(s);
  }
  if (logs.empty()) return next;
  // The run of log segments must reach the newest change. Compaction may
  // retire the newest log segments (firkin_compact seals the active one)
  // and keep an older one whose records are all live: the changes after
  // it are then only in compaction outputs, which the feed does not read,
  // and nothing is retained from which a cursor reaches the end. Until
  // 2026-11-28 this walked back from that older segment and named its
  // first change: a cursor opened there ended with SNAPSHOT_TOO_OLD at its
  // end (found by review: changes_test compacted_tail). The writer's
  // active segment (neither closed nor sealed) is never compacted and
  // takes every later number: it reaches the end by definition (and is
  // not scanned for it). An empty one ends where its numbers start.
  if (!LogReaches(*logs.back(), latest)) return next;
  // Log segments tile the sequence numbers in id order (each starts where
  // the previous one ended); walk back while the next older one ends
  // right before the newer one starts.
  uint64_t oldest = logs.back()->min_seq.load(std::memory_order_relaxed);
  for (size_t i = logs.size() - 1; i-- > 0;) {
    if (SegmentLastSeq(*logs[i]) + 1 != oldest) break;
    oldest = logs[i]->min_seq.load(std::memory_order_relaxed);
  }
  // A record updated in place replaced versions older than its number:
  // the changes up to it are no longer all in the log. (Those of an
  // earlier process that recovery did not read, a checkpoint covering
  // them, are in the bound the checkpoint gave the segment.)
  uint64_t overwritten = 0;
  for (const auto& s : logs) {
    overwritten = std::max(overwritten, s->InPlaceSeqBound());
  }
  return std::min(std::max(oldest, overwritten + 1), next);
}

uint64_t DB::ChangeRetentionSegmentFloor() const {
  const uint64_t bytes = options_.change_retention_bytes;
  const uint64_t seqs = options_.change_retention_seqs;
  // History retention (time travel, time_travel.cc) keeps log segments too.
  uint64_t floor = HistoryRetentionSegmentFloor();
  if (bytes == 0 && seqs == 0) return floor;
  std::vector<std::shared_ptr<Segment>> logs = LogSegments();
  // The newest log segments holding at least `bytes` of log.
  uint64_t acc = 0;
  for (size_t i = logs.size(); i-- > 0 && acc < bytes;) {
    floor = std::min(floor, logs[i]->id());
    acc += logs[i]->published_len() - kSegmentHeaderSize;
  }
  // Every log segment holding a change with seq > last - seqs. A segment's
  // last change is just before the next log segment's first (or later,
  // when one between was compacted away: then it is kept for nothing, which
  // errs on the side of keeping).
  if (seqs > 0) {
    const uint64_t last = LastSeq();
    const uint64_t keep_above = last > seqs ? last - seqs : 0;
    for (size_t i = logs.size(); i-- > 0;) {
      uint64_t seg_last = last;
      if (i + 1 < logs.size()) {
        const uint64_t m = logs[i + 1]->min_seq.load(std::memory_order_relaxed);
        if (m != UINT64_MAX && m > 0) seg_last = m - 1;
      }
      if (seg_last <= keep_above) break;
      floor = std::min(floor, logs[i]->id());
    }
  }
  return floor;
}

// ---- ChangeCursor ----

ChangeCursor::~ChangeCursor() {
  if (blocked_) db_->UnblockInPlace();
}

Status ChangeCursor::Init() {
  if (!blocked_) {
    db_->BlockInPlace();
    blocked_ = true;
  }
  const uint64_t latest = db_->LastSeq();
  if (last_ > latest) {
    return Status::InvalidArgument("since_seq " + std::to_string(last_) +
                                   " is in the future (the last sequence number is " +
                                   std::to_string(latest) + ")");
  }
  const uint64_t oldest = db_->OldestChangeSeq();
  if (last_ + 1 < oldest) {
    return Status::SnapshotTooOld(
        "the changes after sequence number " + std::to_string(last_) +
        " are no longer retained (the oldest retained change is " + std::to_string(oldest) +
        "; resume from since_seq >= " + std::to_string(oldest - 1) +
        ", or keep more history with change_retention_bytes / change_retention_seqs)");
  }
  // Every namespace's name, now, before the log segments are listed: a
  // dropped namespace is forgotten once compaction retired its records'
  // segments (NamespaceTable::Forget), which a cursor that listed them
  // still reads; looked up on the way, its changes had an empty name (a
  // code review's case). Those created later are learned from their
  // create records, which the cursor reads before any of their changes.
  for (auto& info : db_->namespaces().AllIncludingDropped()) {
    if (!info->name.empty()) names_.emplace(info->id, info->name);
  }
  // Start in the newest log segment whose first change is at or before
  // last_ + 1; the records up to last_ are passed over. (A read-only
  // handle: of its last completed refresh's segments, as Fill reads.)
  uint64_t bound = 0;
  const std::vector<std::shared_ptr<Segment>> logs = Listing(db_->ReaderCut(&bound).get());
  for (auto& s : logs) {
    const uint64_t m = s->min_seq.load(std::memory_order_relaxed);
    if (m != UINT64_MAX && m <= last_ + 1) seg_ = s;
  }
  if (seg_ == nullptr && !logs.empty()) seg_ = logs.front();
  off_ = kSegmentHeaderSize;
  Fill();
  return status_;
}

std::vector<std::shared_ptr<Segment>> ChangeCursor::Listing(const ReaderView* view) const {
  if (view == nullptr) return db_->LogSegments();
  std::vector<std::shared_ptr<Segment>> out;
  for (const auto& s : view->segs) {
    if ((s->flags() & kSegmentFlagCompacted) == 0) out.push_back(s);
  }
  return out;
}

std::shared_ptr<Segment> ChangeCursor::NextLogSegment(uint64_t after,
                                                      const ReaderView* view) const {
  for (auto& s : Listing(view)) {
    if (s->id() > after) return s;
  }
  return nullptr;
}

std::string_view ChangeCursor::NsName(uint32_t id) {
  auto it = names_.find(id);
  if (it == names_.end()) {
    for (auto& info : db_->namespaces().AllIncludingDropped()) {
      if (!info->name.empty()) names_.emplace(info->id, info->name);
    }
    it = names_.find(id);
    if (it == names_.end()) it = names_.emplace(id, std::string()).first;
  }
  return it->second;
}

Status ChangeCursor::GapError(uint64_t seq) const {
  return Status::SnapshotTooOld(
      "changes " + std::to_string(last_ + 1) + ".." + std::to_string(seq - 1) +
      " are no longer retained (compacted away, or lost to salvage); the cursor cannot "
      "continue past sequence number " + std::to_string(last_));
}

void ChangeCursor::Next() {
  if (status_.code() == Status::Code::kNoMemory) status_ = Status::OK();  // tries again
  if (pos_ < buf_.size()) pos_++;
  if (pos_ >= buf_.size()) Fill();
}

void ChangeCursor::Fill() {
  // Out of memory part way (a std::bad_alloc from a change's key, value or
  // namespace name, or from buf_'s growth) came after the write was read
  // past (off_, last_ moved) with buf_ half filled: until 2026-11-29 the
  // cursor ended with an OK status, or handed out a batch
  // without its end, and the next step went on after the write, which was
  // never delivered, and position() was past it (oom_test
  // sweep_changes_resume). Now the position stays before it and the status
  // is NO_MEMORY until the next step, which reads it again.
  std::shared_ptr<Segment> seg = seg_;  // (a copy: a count, no allocation)
  const uint64_t off = off_, last = last_;
  try {
    FillUnguarded();
  } catch (const std::bad_alloc&) {
    seg_ = std::move(seg);
    off_ = off;
    last_ = last;
    buf_.clear();
    pos_ = 0;
    status_ = Status::NoMemory("");  // (no message: nothing allocated)
  }
}

Status ChangeCursor::Value(std::string_view* out) {
  const Change& c = buf_[pos_];
  if (c.codec == 0) {
    *out = c.value;
    return Status::OK();
  }
  if (decoded_at_ != pos_) {
    decoded_at_ = SIZE_MAX;
    std::string_view v;
    FIRKIN_RETURN_IF_ERROR(RecordCodec::DecodeStored(c.codec, c.seq, c.value, &decoded_, &v));
    decoded_at_ = pos_;
  }
  *out = decoded_;
  return Status::OK();
}

void ChangeCursor::FillUnguarded() {
  buf_.clear();
  pos_ = 0;
  decoded_at_ = SIZE_MAX;
  if (!status_.ok()) return;
  for (;;) {
    // A read-only handle reads the cut of its last completed refresh
    // (DB::ReaderCut): the number it published and segment ends that hold
    // every record up to it. A refresh under way raises the newest
    // segment's length and lists new segments before it publishes its
    // number; read live, the cursor handed out changes past LastSeq() (a
    // position then refused by firkin_changes_open as in the future) and,
    // at the newest segment's end, took a number not yet published for a
    // gap: SNAPSHOT_TOO_OLD with nothing compacted (the review of
    // 2026-11-29). Its segments are all marked sealed, the newest too.
    uint64_t bound = UINT64_MAX;
    const std::shared_ptr<const ReaderView> view = db_->ReaderCut(&bound);
    if (seg_ == nullptr) {
      seg_ = NextLogSegment(0, view.get());
      if (seg_ == nullptr) return;
      off_ = kSegmentHeaderSize;
    }
    // Sealed first: once it is, the published length is final. (In a
    // reader's view every length is final for that view; a segment the
    // view no longer holds was retired, and is read to its end.)
    const bool sealed = view != nullptr || seg_->sealed.load(std::memory_order_acquire);
    const uint64_t end =
        view != nullptr ? view->EndOf(*seg_, seg_->published_len()) : seg_->published_len();
    // (Sealed records of a segment not validated yet are authenticated: a
    // change's key, type and number are handed out as they are.)
    LogReader reader(seg_->data(), off_, end, /*checksums=*/true,
                     db_->AuthFor(*seg_));
    RecordView r;
    uint64_t at;
    LogReader::Result res = reader.Next(&r, &at);
    if (res == LogReader::Result::kEnd) {
      if (!sealed) {
        // Closed by a roll, its seal still queued for the writeback thread:
        // once every number it handed out is published, its published
        // length is final (read again: it may have grown since `end`), and
        // the cursor goes on to the next segment without waiting for the
        // seal, which wakes no waiter. (Until 2026-11-27 it waited: a
        // change at the start of the next segment was not seen, and
        // firkin_changes_wait slept its whole timeout: found by review.)
        if (!seg_->closed() || db_->LastSeq() < seg_->end_seq()) return;
        if (seg_->published_len() > end) continue;
      }
      // The last sequence number before the listing: a segment is listed
      // before any of its numbers is published, so every change up to it
      // lies in a segment the listing holds. (Read after the listing, it
      // could count writes into a segment the writer added meanwhile: a
      // false gap, seen under ASan in CI.)
      const uint64_t latest = view != nullptr ? bound : db_->LastSeq();
      std::shared_ptr<Segment> next = NextLogSegment(seg_->id(), view.get());
      if (next == nullptr) {
        // No later log segment: every later change was compacted away
        // (the newest segment was sealed and compacted before the next
        // write opened a new one), unless there is none.
        if (latest > last_) status_ = GapError(latest + 1);
        return;
      }
      seg_ = std::move(next);
      off_ = kSegmentHeaderSize;
      continue;
    }
    if (res == LogReader::Result::kDamaged) {
      status_ = Status::Corruption(seg_->path() + ": damaged record at offset " +
                                   std::to_string(at) + " found by the change feed");
      return;
    }
    if (r.seq > bound && r.seq > last_ && r.type != RecordType::kCompactInputs &&
        r.type != RecordType::kCompactDone) {
      return;  // (a reader's) not published yet: read again after a refresh
    }
    if (r.type == RecordType::kCommit && r.seq > last_ && r.value_len >= 4 &&
        DecodeU32(r.value().data()) == 0) {
      // A commit record of no records (DB::FillWithoutWrite): a number
      // that holds no change. (A batch's own marker is read with its
      // records below, or passed over with them.) One past a gap is the
      // gap's end, as any write's.
      if (r.seq != last_ + 1) {
        status_ = GapError(r.seq);
        return;
      }
      last_ = r.seq;
      off_ = reader.offset();
      continue;
    }
    if (r.type == RecordType::kCompactInputs || r.type == RecordType::kCompactDone ||
        r.type == RecordType::kCommit) {
      off_ = reader.offset();  // bookkeeping, or the marker of a batch passed over
      continue;
    }
    if (r.seq <= last_) {  // before the start position
      off_ = reader.offset();
      continue;
    }
    // Gather the write: one record, or a batch's records and its marker.
    std::vector<RecordView> ops{r};
    if (r.is_batch()) {
      bool committed = false;
      for (;;) {
        const uint64_t before = reader.offset();
        RecordView n;
        if (reader.Next(&n, &at) != LogReader::Result::kRecord || n.seq != r.seq) {
          off_ = before;  // no marker: the batch was never applied
          break;
        }
        if (n.type == RecordType::kCommit) {
          const uint32_t count = n.value_len >= 4 ? DecodeU32(n.value().data()) : 0;
          committed = count == ops.size();
          off_ = reader.offset();
          break;
        }
        ops.push_back(n);
      }
      if (!committed) {
        // Salvage, or a write that failed mid-way (the database then
        // refuses writes): its number holds no change.
        if (r.seq != last_ + 1) {
          status_ = GapError(r.seq);
          return;
        }
        last_ = r.seq;
        continue;
      }
    } else {
      off_ = reader.offset();
    }
    if (r.seq != last_ + 1) {
      status_ = GapError(r.seq);
      return;
    }
    last_ = r.seq;
    const bool batch = ops.size() > 1 || r.is_batch();
    if (batch && markers_) {
      Change c;
      c.type = ChangeType::kBatchBegin;
      c.seq = r.seq;
      c.batch_count = static_cast<uint32_t>(ops.size());
      buf_.push_back(c);
    }
    values_.clear();
    values_.resize(ops.size());  // no reallocation below: views stay valid
    keys_.clear();
    keys_.resize(ops.size());
    for (size_t i = 0; i < ops.size(); i++) {
      const RecordView& o = ops[i];
      Change c;
      c.seq = o.seq;
      c.ns_id = o.ns_id;
      switch (o.type) {
        case RecordType::kPut: {
          c.type = ChangeType::kPut;
          c.key = db_->codec().Key(o, &keys_[i]);
          // The value as stored (opened, if sealed). A compressed one is
          // checked here, so that a write is delivered whole or not at
          // all, and kept compressed, in values_ (Value decodes it).
          Status vs = db_->codec().Stored(o, &values_[i], &c.value);
          c.codec = o.flags & kRecordFlagsCodec;
          if (vs.ok() && c.codec != 0) {
            std::string_view v;
            decoded_at_ = SIZE_MAX;
            vs = RecordCodec::DecodeStored(c.codec, o.seq, c.value, &decoded_, &v);
            if (vs.ok()) {
              decoded_at_ = buf_.size();  // where c goes
              if (!o.sealed()) c.value = values_[i].assign(c.value);
            }
          }
          if (!vs.ok()) {
            status_ = vs;
            buf_.clear();
            decoded_at_ = SIZE_MAX;
            last_ = r.seq - 1;  // not delivered: the position stays before it
            return;
          }
          c.ns_name = NsName(o.ns_id);
          break;
        }
        case RecordType::kDelete:
          c.type = ChangeType::kDelete;
          c.key = db_->codec().Key(o, &keys_[i]);
          c.ns_name = NsName(o.ns_id);
          break;
        case RecordType::kNsCreate:
        case RecordType::kNsDrop: {
          c.type = o.type == RecordType::kNsCreate ? ChangeType::kNsCreate : ChangeType::kNsDrop;
          const std::string_view name = db_->codec().Key(o, &keys_[i]);
          auto it = names_.find(o.ns_id);
          if (it == names_.end() || it->second != name) names_[o.ns_id] = std::string(name);
          c.ns_name = names_[o.ns_id];
          break;
        }
        default:
          continue;
      }
      buf_.push_back(c);
    }
    if (batch && markers_) {
      Change c;
      c.type = ChangeType::kBatchEnd;
      c.seq = r.seq;
      c.batch_count = static_cast<uint32_t>(ops.size());
      buf_.push_back(c);
    }
    if (!buf_.empty()) return;
  }
}

Status ChangeCursor::Wait(uint32_t timeout_ms) {
  if (status_.code() == Status::Code::kNoMemory && !Valid()) status_ = Status::OK();  // tries again
  if (Valid() || !status_.ok()) return status_;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  ChangeNotifier& n = db_->change_notifier();
  for (;;) {
    const uint64_t gen = n.BeginWait();
    Fill();
    if (Valid() || !status_.ok()) {
      n.EndWait();
      return status_;
    }
    const bool woken = n.WaitUntil(gen, deadline);
    n.EndWait();
    if (!woken) {
      Fill();  // a last look at the deadline
      return status_;
    }
  }
}

}  // namespace firkin
