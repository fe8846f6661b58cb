#include "core/db/ordered_iterator.h"

#include <algorithm>

#include "core/db/db.h"
#include "core/keyspace/ordered_index.h"
#include "core/log/segment.h"
#include "core/util/epoch.h"

namespace firkin {

namespace {
constexpr size_t kNone = ~size_t{0};
constexpr size_t kFirstBatch = 12;
constexpr size_t kMaxBatch = 256;
constexpr size_t kPrefetchAhead = 4;

using Puts = std::vector<std::pair<std::string, std::string>>;
// Index of the first put whose key is >= k (or > k with `after`).
size_t PutsBound(const Puts& puts, std::string_view k, bool after) {
  auto it = std::partition_point(puts.begin(), puts.end(), [&](const auto& p) {
    const int c = std::string_view(p.first).compare(k);
    return after ? c <= 0 : c < 0;
  });
  return static_cast<size_t>(it - puts.begin());
}
}  // namespace

OrderedRange OrderedRange::Prefix(std::string_view prefix, bool reverse) {
  OrderedRange r;
  r.reverse = reverse;
  if (prefix.empty()) return r;
  r.has_lo = true;
  r.lo.assign(prefix.data(), prefix.size());
  // The first key after every key with the prefix: drop trailing 0xFF
  // bytes and increment the last other byte; none (all 0xFF): no end.
  std::string hi = r.lo;
  while (!hi.empty() && static_cast<unsigned char>(hi.back()) == 0xFF) hi.pop_back();
  if (!hi.empty()) {
    hi.back() = static_cast<char>(static_cast<unsigned char>(hi.back()) + 1);
    r.has_hi = true;
    r.hi = std::move(hi);
  }
  return r;
}

OrderedIterator::OrderedIterator(const DB* db, std::shared_ptr<NamespaceInfo> ns, uint64_t snap,
                                 OrderedRange range, std::unique_ptr<TxnOverlay> overlay)
    : db_(db),
      ns_(std::move(ns)),
      snap_(snap),
      clock_(db),
      range_(std::move(range)),
      ov_(std::move(overlay)) {
  Reset(nullptr, true);
  if (ov_ != nullptr) {
    if (!range_.reverse) {
      oi_ = range_.has_lo ? PutsBound(ov_->puts, range_.lo, false) : 0;
    } else {
      const size_t end = range_.has_hi ? PutsBound(ov_->puts, range_.hi, false) : ov_->puts.size();
      oi_ = end == 0 ? kNone : end - 1;
    }
  }
  Settle();
}

void OrderedIterator::Reset(const std::string* from, bool inclusive) {
  bn_ = 0;
  bi_ = 0;
  base_done_ = false;
  batch_ = kFirstBatch;
  if (from != nullptr) {
    cursor_ = *from;
    has_cursor_ = true;
    cursor_inclusive_ = inclusive;
  } else if (!range_.reverse && range_.has_lo) {
    cursor_ = range_.lo;
    has_cursor_ = true;
    cursor_inclusive_ = true;
  } else if (range_.reverse && range_.has_hi) {
    cursor_ = range_.hi;
    has_cursor_ = true;
    cursor_inclusive_ = false;
  } else {
    has_cursor_ = false;
  }
}

bool OrderedIterator::Fill() {
  bn_ = 0;
  bi_ = 0;
  pins_.clear();  // the previous batch's values are no longer handed out
  // (Nor its copies: each keeps at most RecordCodec::kKeepScratch bytes
  // of room for the next batch.)
  for (size_t i = 0; i < buf_.size(); i++) RecordCodec::ReleaseLarge(&buf_[i].value);
  const std::string* stop = !range_.reverse ? (range_.has_hi ? &range_.hi : nullptr)
                                            : (range_.has_lo ? &range_.lo : nullptr);
  while (!base_done_ && status_.ok()) {
    if (ns_->dropped.load(std::memory_order_acquire)) {
      status_ =
          Status::NamespaceNotFound("namespace '" + ns_->name + "' was dropped during iteration");
      return false;
    }
    // (No entry refers to keys_ now: bn_ is 0.)
    keys_.clear();
    key_ends_.clear();
    recs_.clear();
    segs_.clear();
    Epoch::Guard guard;  // records read by the index walk and by Get
    const bool more =
        ns_->ordered->Collect(has_cursor_ ? &cursor_ : nullptr, cursor_inclusive_, range_.reverse,
                              stop, batch_, &keys_, &key_ends_, &recs_, &segs_);
    // The index holds the keys that are there now: a key compaction
    // dropped with its tombstone may have been there at the snapshot
    // (time_travel.cc, "History floors").
    // (A read-only handle: a refresh dropped segments the writer retired.)
    // Read after the walk: the floor rises before any key goes, so a walk
    // that missed one finds it raised (until 2026-11-29 it was read
    // before, and a walk that lost the range's last keys that way ended
    // OK). A read-only handle's scan of its published state fails only
    // once the refresh has published (DB::AwaitRefresh).
    const uint64_t floor = db_->read_only() ? db_->reader_scan_floor() : db_->absent_floor();
    if (snap_ < floor) {
      db_->AwaitRefresh(snap_);
      status_ = Status::SnapshotTooOld(
          "the state at sequence " + std::to_string(snap_) +
          " can no longer be scanned whole: compaction dropped deleted keys' history up to "
          "sequence " + std::to_string(floor));
      return false;
    }
    if (!more) base_done_ = true;
    if (batch_ < kMaxBatch) batch_ = std::min(kMaxBatch, batch_ + batch_ / 2);
    const size_t nk = key_ends_.size();
    if (nk == 0) return false;
    if (buf_.size() < nk) buf_.resize(nk);
    const size_t last = nk == 1 ? 0 : key_ends_[nk - 2];
    cursor_.assign(keys_, last, key_ends_[nk - 1] - last);
    has_cursor_ = true;
    cursor_inclusive_ = false;
    // A read-only handle's refresh may drop versions below its floor:
    // those reads go through Get, which reports it. (A writer's floor
    // leaves the newest version alone: it is the one visible when it is
    // not newer than the snapshot.)
    const bool fast = !db_->read_only() || snap_ >= db_->history_floor();
    for (size_t i = 0; i < nk; i++) {
      const size_t from = i == 0 ? 0 : key_ends_[i - 1];
      const std::string_view k(keys_.data() + from, key_ends_[i] - from);
      // The transaction's own write wins.
      if (ov_ != nullptr && ov_->shadow.count(std::string(k)) != 0) continue;
      const RecordView& newest = recs_[i];
      if (fast && newest.base != nullptr && newest.seq <= snap_) {
        // The newest version is the one visible at the snapshot. (A
        // sealed one is checked before its type says whether the key is
        // there: in a segment not validated yet it is authenticated,
        // Keyspace::Trusted, as its type may have been changed on purpose.)
        const bool absent = newest.type != RecordType::kPut ||
                            (newest.expiry() != 0 && newest.expiry() <= clock_.ms());
        if ((!absent || newest.sealed()) && !db_->Trusted(newest)) {
          status_ = Status::Corruption(
              "record of a key failed its checksum "
              "(or, sealed, its authentication) (sequence " +
              std::to_string(newest.seq) + ") during ordered iteration");
          return false;
        }
        if (absent) continue;
        // Borrowed: its segment is pinned (under the guard it is still
        // owned by the segment table or by the epoch's retired list).
        const Segment* seg = segs_[i];
        if (seg == nullptr) {
          status_ = Status::Corruption("ordered index entry points at no segment");
          return false;
        }
        bool pinned = false;
        for (const auto& p : pins_) pinned = pinned || p.get() == seg;
        if (!pinned) pins_.push_back(seg->shared_from_this());
        Entry& e = buf_[bn_++];
        e.key = k;
        e.rec = newest;
        e.copied = false;
        continue;
      }
      RecordView r;
      Status s = db_->Get(snap_, *ns_, k, &r, clock_.ms());
      if (s.ok()) {
        // Copied as stored (opened, if sealed); Settle decodes it.
        std::string_view v;
        status_ = db_->codec().Stored(r, &scratch_, &v);
        if (!status_.ok()) return false;
        Entry& e = buf_[bn_++];
        e.key = k;
        e.value.assign(v.data(), v.size());
        e.copied = true;
        e.codec = r.flags & kRecordFlagsCodec;
        e.seq = r.seq;
      } else if (!s.IsNotFound()) {
        status_ = s;
        return false;
      }
    }
    if (bn_ > 0) return true;
  }
  return false;
}

bool OrderedIterator::BaseHas() {
  if (bi_ < bn_) return true;
  if (!status_.ok()) return false;
  return Fill();
}

bool OrderedIterator::InRange(std::string_view k) const {
  if (range_.has_lo && k.compare(range_.lo) < 0) return false;
  if (range_.has_hi && k.compare(range_.hi) >= 0) return false;
  return true;
}

bool OrderedIterator::OverlayHas() const {
  return ov_ != nullptr && oi_ != kNone && oi_ < ov_->puts.size() && InRange(ov_key());
}

void OrderedIterator::Settle() {
  // The value the iterator was on is no longer handed out: its buffer
  // keeps at most RecordCodec::kKeepScratch bytes of room (until
  // 2026-11-29 the largest value decoded, until the iterator was freed).
  RecordCodec::ReleaseLarge(&scratch_);
  const bool b = BaseHas();
  const bool o = OverlayHas();
  if (!status_.ok() || (!b && !o)) {
    valid_ = false;
    return;
  }
  if (b && o) {
    const int c = std::string_view(buf_[bi_].key).compare(ov_key());
    from_overlay_ = range_.reverse ? c < 0 : c > 0;
  } else {
    from_overlay_ = o;
  }
  if (!from_overlay_) {
    // The records of a range lie anywhere in the log: the value of the
    // entry kPrefetchAhead - 1 places on is fetched while this one is used
    // (on a batch's first entry, all of the first kPrefetchAhead), so the
    // caller's reads of values overlap their misses. Fetching the whole
    // batch at once was slower: most of those fetches were dropped or
    // evicted before use, and a short scan needs few of them.
    const size_t first = bi_ == 0 ? 0 : bi_ + kPrefetchAhead - 1;
    for (size_t j = first; j < bi_ + kPrefetchAhead && j < bn_; j++) {
      const Entry& a = buf_[j];
      if (a.copied || a.rec.base == nullptr) continue;
      const size_t n = std::min<size_t>(a.rec.size(), 2048);
      for (size_t off = 64; off < n; off += 64) __builtin_prefetch(a.rec.base + off);
    }
    const Entry& e = buf_[bi_];
    if (e.copied) {
      // (A compressed copy is decoded into scratch_.)
      status_ = RecordCodec::DecodeStored(e.codec, e.seq, e.value, &scratch_, &value_);
      if (!status_.ok()) {
        valid_ = false;
        return;
      }
    } else {
      // A plain value is a view into the pinned segment; a coded one is
      // decoded into scratch_ (record codec).
      status_ = db_->Value(e.rec, &scratch_, &value_);
      if (!status_.ok()) {
        valid_ = false;
        return;
      }
    }
  }
  valid_ = true;
}

void OrderedIterator::Next() {
  if (!valid_) return;
  if (from_overlay_) {
    if (!range_.reverse) {
      oi_++;
    } else {
      oi_ = oi_ == 0 ? kNone : oi_ - 1;
    }
  } else {
    bi_++;
  }
  Settle();
}

void OrderedIterator::Seek(std::string_view target) {
  std::string t(target);
  if (!range_.reverse) {
    if (range_.has_lo && t.compare(range_.lo) < 0) t = range_.lo;
    Reset(&t, true);
    if (ov_ != nullptr) oi_ = PutsBound(ov_->puts, t, false);
  } else {
    size_t end;
    if (range_.has_hi && t.compare(range_.hi) >= 0) {
      Reset(nullptr, true);  // from the end of the range
      end = ov_ != nullptr ? PutsBound(ov_->puts, range_.hi, false) : 0;
    } else {
      Reset(&t, true);
      end = ov_ != nullptr ? PutsBound(ov_->puts, t, true) : 0;
    }
    if (ov_ != nullptr) oi_ = end == 0 ? kNone : end - 1;
  }
  Settle();
}

}  // namespace firkin
