// Iterator: every live key of one namespace exactly once, unordered, as of
// one snapshot, while writes go on (DESIGN §1, firkin_iter).
//
// It scans the segments that existed when it was created (pinned by shared
// ownership, so their mappings stay valid), up to the lengths published
// then (a read-only handle: those of its last refresh that completed,
// DB::PublishReaderView; a refresh drops the inputs of every output it
// replays, so the same holds there for the handle's own state). A record is yielded only if it is the version of its key visible at
// the snapshot (same sequence number as the index's version at the
// snapshot) and a put, so each live key appears once, whatever was
// overwritten, deleted or relocated meanwhile.
//
// Compaction copies records (same sequence number) into an output segment
// that names its inputs; an output and some of its inputs can both be
// pinned. Which copy is yielded is decided once, from the pinned set alone,
// never from where the index points (that moves while the iterator runs,
// and a choice made per record at different times could skip both copies
// or yield both): an input of a pinned output is not scanned, because the
// output holds every record of it that any snapshot still open when the
// pass was planned could see (an input holding an older version a snapshot
// needs is never an input). Keys and values are
// borrowed views into the pinned mappings (a compressed value: into the
// iterator's own buffer, decoded by the record codec when the iterator
// lands on it; one that does not decode ends it with kCorruption).
//
// Damage is reported, never passed over in silence: every record the scan
// relies on, the ones it yields and the ones whose length it steps by,
// passes the read path's checks (Keyspace::Trusted: its checksum, and a
// sealed one's tag, where its segment is not known intact). A record that
// fails them ends the scan with kCorruption naming its offset (the one
// firkin_verify names), unless no key's version at the snapshot lies in
// the bytes it claims and a valid record starts where they end: then it is
// stepped over (MayStepOver, RecordStartsAt).
//
// If the namespace is dropped while the iterator is open, its keys leave
// the index and the visible version of the rest can no longer be told: the
// iterator then ends with status() NamespaceNotFound (never an early end
// with OK). Entries yielded before were correct for the snapshot.
//
// Thread contract: one thread at a time. The snapshot must stay registered
// (by the caller) for the iterator's lifetime. On a read-only handle, a
// step that finds its snapshot's state left unanswerable by a refresh
// under way (a floor it raised, a version it dropped) waits for that
// refresh to publish before it fails (DB::AwaitRefresh): not from the
// refreshing thread.
#ifndef FIRKIN_CORE_DB_ITERATOR_H_
#define FIRKIN_CORE_DB_ITERATOR_H_

#include <cstdint>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/db/scan_clock.h"
#include "core/keyspace/keyspace.h"
#include "core/keyspace/namespaces.h"
#include "core/log/record_codec.h"
#include "core/log/segment.h"
#include "core/recovery/recovery.h"

namespace firkin {

class DB;

class Iterator {
 public:
  Iterator(const Keyspace* ks, std::shared_ptr<NamespaceInfo> ns, uint64_t snap,
           std::vector<std::shared_ptr<Segment>> segs, std::vector<uint64_t> ends,
           bool check_all, const DB* reader, ScanClock clock, const RecordCodec* codec = nullptr,
           const RecoveryResult* recovery = nullptr);
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;

  bool Valid() const { return valid_; }
  // REQUIRES: Valid().
  void Next();
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }
  uint64_t seq() const { return cur_.seq; }
  const Status& status() const { return status_; }
  // Ends the iteration with `s` (the database found at its start that the
  // snapshot's state can no longer be scanned whole).
  void Fail(Status s) {
    valid_ = false;
    status_ = std::move(s);
  }

 private:
  void Advance();  // moves to the next yieldable record from (seg_, off_)
  // Whether r is the version of its key visible at the snapshot (a put):
  // Lookup, then, on a read-only handle, its history floor, read after
  // the lookup (a refresh raises it before it takes entries out, so a
  // lookup that missed one finds it raised; until 2026-11-29 it was read
  // before, and a scan whose last key went that way ended OK without it).
  bool Visible(const RecordView& r);
  bool Lookup(const RecordView& r);
  // Ends the scan with s, a kSnapshotTooOld; a read-only handle's once the
  // refresh whose removals it met has published (DB::AwaitRefresh).
  void TooOld(Status s);
  // Marks the pinned segments that are inputs of a pinned compaction output
  // (skip_), from the input list in each output's first record.
  void SkipReplacedInputs();
  // Whether the scan may step over the bytes [off_, off_ + len) of segment
  // seg_, a record it would pass over that failed its checks (its checksum,
  // or a sealed one's authentication; its length may be damaged too):
  // true when no key's version at the snapshot lies in them. Each key's
  // version is found once per damaged segment (a walk of the index, paid
  // only where there is damage); one that cannot be told (a damaged chain,
  // or a version in a segment the scan does not read, where a copy of it
  // may be among the damaged bytes) answers false.
  bool MayStepOver(uint64_t len);
  // Whether the scan, stepping over a damaged record of segment seg_, lands
  // where the records go on: at `end`, at a region the open's salvage
  // skipped, or at a record that passes every check (ValidateRecord, and
  // authentication if sealed). If not, the damaged record's length is not
  // to be trusted, and the scan ends there, naming it.
  bool RecordStartsAt(uint64_t at, uint64_t end) const;
  // Where the damage that stopped the scan at `failed` (in segment seg_)
  // starts: the first record from the segment's start that fails its
  // checks (as firkin_verify's scan finds it), or `failed` if every record
  // before it holds. A record the scan passes over in a segment known
  // intact (Segment::checked) is trusted without its checksum, so there a
  // damaged length field (damage since the segment was validated) sends it
  // into the middle of a later record, where it meets the damage it
  // reports; read only then.
  uint64_t DamageAt(uint64_t failed) const;

  const Keyspace* ks_;
  std::shared_ptr<NamespaceInfo> ns_;
  const uint64_t snap_;
  std::vector<std::shared_ptr<Segment>> segs_;
  std::vector<uint64_t> ends_;
  std::vector<bool> skip_;  // per pinned segment: its records are read from its output
  const bool check_all_;  // check every record read (ReadIntact)
  // A read-only handle (nullptr: a writable one): its refreshes that drop
  // retired segments raise its history floor, below which a snapshot can
  // no longer be told (kSnapshotTooOld).
  const DB* const reader_;
  // Visible version of keys with long chains past the snapshot.
  struct HotKey {
    bool found;
    RecordView at;
  };
  static constexpr uint64_t kHotDistance = 32;      // sequence numbers past snap
  static constexpr size_t kMaxHotKeys = 1 << 16;
  std::unordered_map<std::string, HotKey> hot_;
  // The clock the iterator was made at, pinned while it lives
  // (scan_clock.h): records whose expiry is at or before it read as absent.
  ScanClock clock_;
  size_t seg_ = 0;
  uint64_t off_ = 0;
  bool valid_ = false;
  RecordView cur_;
  // The value of cur_: a view into the record, or into scratch_ (decoded;
  // at most RecordCodec::kKeepScratch bytes of room kept once the
  // iterator moves on).
  const RecordCodec* const codec_;
  // The regions the open's salvage skipped (recovery's; may be null):
  // stepped over as the open did, not read as records.
  const RecoveryResult* const recovery_;
  // MayStepOver's walk: for segment damaged_seg_ (SIZE_MAX: none yet), the
  // sorted offsets of the versions the snapshot sees in it, and whether
  // every key's version was told.
  size_t damaged_seg_ = SIZE_MAX;
  std::vector<uint64_t> seen_offsets_;
  bool all_told_ = false;
  // The end of the last damaged record the scan stepped over (in segment
  // stepped_seg_; SIZE_MAX: none), where DamageAt starts looking.
  size_t stepped_seg_ = SIZE_MAX;
  uint64_t stepped_to_ = 0;
  std::string_view key_;     // of cur_ (decrypted into key_scratch_ if sealed)
  std::string key_scratch_;
  std::string_view value_;
  std::string scratch_;
  Status status_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_ITERATOR_H_
