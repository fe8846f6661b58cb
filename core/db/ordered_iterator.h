// OrderedIterator: the live keys of an ordered namespace in byte order
// (or reverse), inside a range [lo, hi), as of one snapshot, while writes
// and compaction go on (issue 12, item 1; firkin_range_iter_new).
//
// How: it takes keys from the namespace's OrderedIndex in small batches
// (12 keys first, growing by half up to 256, so a short scan reads little and a
// long one takes the index lock rarely), each batch strictly after the last
// key taken, and resolves each key at the snapshot: when the newest record
// the index points at is not newer than the snapshot, it is the visible
// version (a write still installing has a sequence number above every
// snapshot, so an entry the index has not caught up with is never needed);
// otherwise through the normal snapshot read (DB::Get: hash index, version
// chain). So a key appears at most once
// and in order whatever splits, moves or compaction happen between
// batches; a key written after the snapshot reads as absent and is
// skipped; a key deleted after it is still in the index (its tombstone is
// the newest record, kept while the snapshot needs what it hides) and is
// found. Values are borrowed from the log: the iterator pins (shares
// ownership of) the segments holding its batch's records, so they stay
// mapped and unchanged whatever compaction does meanwhile (today the
// snapshot already makes compaction keep those segments; the pin does not
// rely on that policy); a value is copied only when it has to be decoded
// (compressed, encrypted) or was found through a version chain. Keys are
// kept one after the other in one buffer per batch (no allocation per key).
//
// A transaction's iterator merges an overlay: the transaction's own puts
// (sorted) and every key it wrote (those hide the snapshot's version).
//
// Thread contract: one thread at a time. The snapshot must stay registered
// (by the caller) for the iterator's lifetime. On a read-only handle, a
// step that finds its snapshot's state left unanswerable by a refresh
// under way (the floors it raised) waits for that refresh to publish
// before it fails (DB::AwaitRefresh): not from the refreshing thread.
#ifndef FIRKIN_CORE_DB_ORDERED_ITERATOR_H_
#define FIRKIN_CORE_DB_ORDERED_ITERATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/db/scan_clock.h"
#include "core/keyspace/namespaces.h"
#include "core/log/format.h"
#include "core/util/status.h"

namespace firkin {

class DB;
class Segment;

// The keys an ordered iterator visits: [lo, hi) (each bound optional),
// ascending or, with `reverse`, descending.
struct OrderedRange {
  bool has_lo = false, has_hi = false;
  std::string lo, hi;
  bool reverse = false;
  // The range of keys starting with `prefix` ("" = every key).
  static OrderedRange Prefix(std::string_view prefix, bool reverse);
};

// A transaction's own writes to one namespace.
struct TxnOverlay {
  std::vector<std::pair<std::string, std::string>> puts;  // ascending keys
  std::unordered_set<std::string> shadow;                 // every key written
};

class OrderedIterator {
 public:
  OrderedIterator(const DB* db, std::shared_ptr<NamespaceInfo> ns, uint64_t snap,
                  OrderedRange range, std::unique_ptr<TxnOverlay> overlay);
  OrderedIterator(const OrderedIterator&) = delete;
  OrderedIterator& operator=(const OrderedIterator&) = delete;

  bool Valid() const { return valid_; }
  // REQUIRES: Valid().
  void Next();
  // Forward: moves to the first key >= target (and >= lo); reverse: to the
  // last key <= target (and < hi). Clears a previous end, not an error.
  void Seek(std::string_view target);
  std::string_view key() const { return from_overlay_ ? ov_key() : buf_[bi_].key; }
  std::string_view value() const { return from_overlay_ ? ov_val() : value_; }
  const Status& status() const { return status_; }

 private:
  std::string_view ov_key() const { return ov_->puts[oi_].first; }
  std::string_view ov_val() const { return ov_->puts[oi_].second; }
  // Starts the base stream at `from` (nullptr: the range's start).
  void Reset(const std::string* from, bool inclusive);
  // Refills buf_ with the next visible entries; false at the end or error.
  bool Fill();
  // Whether the base stream has a current entry (refilling as needed).
  bool BaseHas();
  bool OverlayHas() const;
  bool InRange(std::string_view k) const;
  // Picks the current entry of the merged streams.
  void Settle();

  // One resolved entry of the base stream: the visible version's record,
  // borrowed from a pinned segment, or (`copied`) its value as stored,
  // unsealed: compressed when codec (the record's codec flags) is not 0,
  // decoded by Settle when the entry is reached (until the session of
  // 2026-11-29 a batch's copies were decoded up front: up to 256 values
  // at their decoded size at once); seq names the record in errors.
  struct Entry {
    std::string_view key;  // in keys_
    RecordView rec;
    std::string value;
    bool copied = false;
    uint8_t codec = 0;
    uint64_t seq = 0;
  };

  // A compressed value decoded (DB::Value); at most
  // RecordCodec::kKeepScratch bytes of room kept once the iterator moves on
  // (and as much per entry's copy once its batch is done).
  std::string scratch_;
  std::string_view value_;  // the current base entry's value
  const DB* db_;
  std::shared_ptr<NamespaceInfo> ns_;
  const uint64_t snap_;
  // The clock when the iterator was made: expiry is decided at it, so a
  // key that expires during the scan is still returned (as the hash-order
  // iterator does; docs/api.md, TTL). Until 2026-11-27 each step read the
  // clock (found by review). Pinned while the iterator lives, so that
  // compaction keeps the puts it still yields (scan_clock.h).
  ScanClock clock_;
  const OrderedRange range_;
  std::unique_ptr<TxnOverlay> ov_;
  // Base stream: resolved entries, and where the index walk resumes.
  // Entries [0, bn_) of buf_ are the batch (the vector and its strings are
  // reused from batch to batch); pins_ the segments its records lie in.
  std::vector<Entry> buf_;
  size_t bn_ = 0;
  size_t bi_ = 0;
  std::vector<std::shared_ptr<const Segment>> pins_;
  std::string cursor_;
  bool has_cursor_ = false, cursor_inclusive_ = false;
  bool base_done_ = false;
  size_t batch_ = 0;  // set by Reset
  std::string keys_;            // the batch's keys, one after the other
  std::vector<size_t> key_ends_;  // where each ends in keys_
  std::vector<RecordView> recs_;   // scratch: the keys' newest records
  std::vector<const Segment*> segs_;  // scratch: the segments holding them
  // Overlay position (reverse: counts down; npos = before the first).
  size_t oi_ = 0;
  bool valid_ = false, from_overlay_ = false;
  Status status_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_ORDERED_ITERATOR_H_
