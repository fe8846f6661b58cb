// Keyspace: the index and the segments together: finds the newest record
// of a key, walks its version chain back to a snapshot, and installs new
// records with the live/dead byte accounting. It is the one mechanism used
// by the read path, the write path, iterators and recovery.
//
// Thread contract: reader methods (Hash, FindNewest, ResolveBounded,
// DamagedCandidate, VersionAt) are lock-free and REQUIRE an Epoch::Guard
// held across the call and any use of the returned views. Install
// REQUIRES the caller to hold the index sub-table lock of its hash (see
// HashIndex::ShardGuard), so that deciding about a key and installing its
// new record are one atomic step. PurgeIf and Relocate take the sub-table
// locks themselves. Any number of threads may call any method at once.
//
// Ordered namespaces (ordered_index.h): every change of the hash index
// entry of a key of an ordered namespace (Install, Relocate, PurgeIf,
// DropEntry) makes the same change in that namespace's OrderedIndex, under
// the same sub-table lock, so both always point at the same record.
#ifndef FIRKIN_CORE_KEYSPACE_KEYSPACE_H_
#define FIRKIN_CORE_KEYSPACE_KEYSPACE_H_

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "core/index/hash_index.h"
#include "core/keyspace/ordered_index.h"
#include "core/log/format.h"
#include "core/log/record_codec.h"
#include "core/log/segment.h"
#include "core/util/hash.h"

namespace firkin {

// One index move requested by compaction: point `hash` at `to` (0 =
// remove) if it still points at `from`.
struct Relocation {
  uint64_t hash;
  Locator from;
  Locator to;
  uint32_t size;  // record bytes (for live/dead accounting)
  bool moved = false;  // set by Relocate: whether the entry was moved
};

// What a walk back along a key's versions (Keyspace::VersionAt) does at a
// record updated in place (docs/write_path.md) numbered above the
// snapshot: the versions it replaced, between its prev and itself, are
// gone.
enum class Overwritten {
  // The version at the snapshot may be among them: kSnapshotTooOld.
  kTooOld,
  // The record is the answer (a read of the latest state, the snapshot its
  // published number: the newest version whose put may have returned; an
  // overwrite returns before its publication, the newer records skipped
  // are appends whose puts have not).
  kTake,
  // The walk goes on through its prev: the caller knows that every version
  // it replaced is above the snapshot too (a counting walk: its snapshot
  // lets only records numbered above it be overwritten,
  // LogWriter::SetCountFloor). A compacted copy of such a record
  // (kPrevReplaced) still ends the walk with kSnapshotTooOld.
  kFollow,
};

class Keyspace {
 public:
  // `cipher`: the data key of an encrypted database (records are sealed;
  // keys are read through codec()), else nullptr.
  Keyspace(uint64_t hash_seed, uint64_t expected_keys, const Aead* cipher = nullptr)
      : seed_(hash_seed), index_(expected_keys) {
    codec_.set_cipher(cipher);
  }
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  HashIndex& index() { return index_; }
  const HashIndex& index() const { return index_; }
  SegmentTable& segments() { return segments_; }
  const SegmentTable& segments() const { return segments_; }

  uint64_t Hash(uint32_t ns, std::string_view key) const { return KeyHash(seed_, ns, key); }

  // The codec that reads keys of records (decrypting sealed ones; it does
  // no compression: values are read through the database's codec).
  const RecordCodec& codec() const { return codec_; }
  // The key of r (decrypted into *scratch if r is sealed; see RecordCodec::Key).
  std::string_view Key(const RecordView& r, std::string* scratch) const {
    return codec_.Key(r, scratch);
  }
  // The key hash of record r.
  uint64_t HashOf(const RecordView& r) const {
    std::string scratch;
    return Hash(r.ns_id, Key(r, &scratch));
  }

  // READER. The record a locator points at, if its header and its stated
  // size fit in the segment's mapping (a damaged length field must never
  // send a reader past it); nullptr otherwise. (Not the published length:
  // the writer points the index at records it has not published yet, and
  // readers skip those by sequence number.)
  const char* ResolveBounded(Locator l, RecordView* out) const {
    Segment* s = segments_.BySlot(LocatorSlot(l));
    if (s == nullptr) return nullptr;
    const uint64_t off = LocatorOffset(l), end = s->capacity();
    if (off + kRecordPeekSize > end) return nullptr;
    const char* p = s->RecordAt(off);
    *out = s->Peek(off);
    if (out->size() > end - off) return nullptr;
    return p;
  }

  // READER. Finds the newest record (any seq, tombstones included) of
  // (ns, key). Returns its locator and view, or 0 if the key has none.
  Locator FindNewest(uint64_t h, uint32_t ns, std::string_view key, RecordView* out) const {
    Locator found = 0;
    index_.Find(h, [&](Locator l) {
      if (!IsRecordOf(l, ns, key, out)) return false;
      found = l;
      return true;
    });
    return found;
  }

  // READER. Whether the record at l is one of (ns, key); then *out is it.
  bool IsRecordOf(Locator l, uint32_t ns, std::string_view key, RecordView* out) const {
    RecordView r;
    const char* p = ResolveBounded(l, &r);
    if (p == nullptr || r.ns_id != ns || r.key_len != key.size()) return false;
    if (r.sealed() ? !codec_.KeyEquals(r, key)
                   : std::memcmp(p + r.head_len(), key.data(), key.size()) != 0) {
      return false;
    }
    *out = r;
    return true;
  }

  // READER. The one index entry under h's tag (*n = 1), or none (*n = 0);
  // *n = 2 when there are more (then *out is unset). An entry found is the
  // newest record of the key being looked for or of another key with the
  // same tag: IsRecordOf tells which.
  void SoleCandidate(uint64_t h, Locator* out, int* n) const {
    *n = 0;
    index_.Find(h, [&](Locator l) {
      *out = l;
      return ++*n > 1;
    });
  }

  // READER. Whether the index holds `loc` under h's tag. A locator names
  // one record, and the index holds one entry per key, so then that record
  // is its key's newest, found without reading any record (FindNewest reads
  // each candidate's header to compare keys: a cache miss per call).
  bool Indexes(uint64_t h, Locator loc) const {
    return index_.Find(h, [loc](Locator l) { return l == loc; });
  }

  // READER. Whether a read may rely on record r: ReadIntact, and a sealed
  // record of a segment not known intact (r.checked false: a checkpoint let
  // the open skip it and the scrub has not validated it yet, or compaction
  // found damage in it) must be authentic too (RecordCodec::Authentic): its
  // checksum can be made to match changed bytes, and its type, sequence,
  // previous version, namespace and key (not authenticated by Key /
  // KeyEquals) would then decide the read. In a checked segment every
  // sealed record was authenticated already (recovery, a refresh and the
  // scrub authenticate what they validate; this process wrote the rest).
  // An unsealed record costs one flag test more than ReadIntact.
  bool Trusted(const RecordView& r, bool check_all) const {
    return ReadIntact(r, check_all) && (r.checked || codec_.Authentic(r));
  }
  // The codec a scan of segment s must authenticate sealed records with
  // (LogReader's `auth`): the database's while s is not known intact;
  // nullptr for a checked segment, or an unencrypted database.
  const RecordCodec* AuthFor(const Segment& s) const {
    return codec_.sealing() && !s.checked.load(std::memory_order_acquire) ? &codec_ : nullptr;
  }

  // READER. Whether a record the index holds under h's tag is damaged (out
  // of bounds, or not Trusted): a key whose record is damaged must read
  // as corruption, not as absent. (A sealed record whose key or namespace
  // was changed on purpose is not the key's any more; its tag tells.)
  bool DamagedCandidate(uint64_t h, bool check_all) const {
    return index_.Find(h, [&](Locator l) {
      RecordView r;
      return ResolveBounded(l, &r) == nullptr || !Trusted(r, check_all);
    });
  }

  // READER. From the newest record `rec`, the newest version with
  // seq <= snap. kNotFound if the key had no version then;
  // kSnapshotTooOld if the chain leads into history no longer kept.
  // Every record the walk skips (its seq and prev decide where the walk
  // goes) must be Trusted(r, check_all), else kCorruption; the record
  // returned is not checked here (the caller checks it once, so a read
  // whose newest record is the answer costs one checksum at most). A
  // record not checked that way is checksummed when the chain leaves the
  // kept segments (a damaged prev would look like history compacted away).
  // A record updated in place above snap: as `overwritten` says.
  Status VersionAt(const RecordView& rec, uint64_t snap, RecordView* out, bool check_all = true,
                   Overwritten overwritten = Overwritten::kTooOld) const;

  // Points the key (hash h) at the record at new_loc, replacing old_loc
  // (from FindNewest; 0 if the key had no record). Moves the old record's
  // bytes from live to dead. REQUIRES: h's sub-table lock is held (or a
  // single-threaded phase). May throw std::bad_alloc (index growth).
  // `ord`: the OrderedIndex of the record's namespace, if it is ordered
  // (nullptr otherwise, and during recovery before BuildOrdered). `key`:
  // the record's key in plaintext if the caller has it (else it is read
  // from the record, decrypted if sealed).
  void Install(uint64_t h, Locator old_loc, size_t old_size, Locator new_loc, size_t new_size,
               OrderedIndex* ord = nullptr, std::string_view key = std::string_view());

  // Takes back Install(h, old_loc, old_size, new_loc, new_size) in the
  // hash index, for an atomic batch whose install ran out of memory part
  // way (DB::TakeBackBatch): if the key's entry is new_loc, points it at
  // old_loc again (0: removes it) and moves the byte counts back (old_loc's
  // live again; new_loc's counted nowhere, as those of the batch's records
  // never installed). Returns whether it did: false where Install had not
  // changed the entry (it threw before), and then nothing changed. Not the
  // ordered index (the caller takes its entries back per namespace,
  // OrderedIndex::TakeBack), nor the segment's expiry bound, which stays
  // lowered (a hint: compaction looks at the segment for expired records
  // sooner than it needs). Never allocates, never throws: a removal does
  // not shrink the sub-table (HashIndex::RemoveExact), a replacement is a
  // store. REQUIRES: h's sub-table lock, held since the Install.
  bool Uninstall(uint64_t h, Locator old_loc, size_t old_size, Locator new_loc,
                 size_t new_size) noexcept;

  // Removes the entry (hash h, record r at l) if the index still holds it
  // (a read-only handle dropping entries of retired segments). REQUIRES:
  // h's sub-table lock. Returns whether it was removed.
  bool DropEntry(uint64_t h, Locator l, const RecordView& r);

  // ---- ordered namespaces ----
  // The OrderedIndex of namespace ns, creating it (empty) if needed. Any
  // thread.
  OrderedIndex* MakeOrdered(uint32_t ns);
  // Whether any namespace has an OrderedIndex. Any thread.
  bool HasOrdered() const { return has_ordered_.load(std::memory_order_acquire); }
  // The OrderedIndex of ns, or nullptr (not ordered, or not built yet).
  // Any thread; a relaxed load when no namespace is ordered.
  OrderedIndex* OrderedFor(uint32_t ns) const {
    if (!has_ordered_.load(std::memory_order_acquire)) return nullptr;
    std::lock_guard<std::mutex> l(ordered_mu_);
    auto it = ordered_.find(ns);
    return it == ordered_.end() ? nullptr : it->second.get();
  }
  // Single-threaded (open, after recovery): builds the OrderedIndex of
  // each namespace in `ns_ids` from the hash index, except those that
  // exist already (loaded from the checkpoint and kept in step by the
  // replay since, Install's `ord`); from then on
  // ordered_live() is true and replayed namespace creations make theirs.
  void BuildOrdered(const std::vector<uint32_t>& ns_ids);
  bool ordered_live() const { return ordered_live_.load(std::memory_order_acquire); }
  // The index's writer (a read-only handle's refresh): adds to `ord`, the
  // OrderedIndex just made for namespace ns, every hash index entry of ns
  // installed before it existed. A refresh replays segments in id order,
  // and a compaction output (a higher id) can carry a namespace's creation
  // that the log segments before it already hold keys of.
  void FillOrdered(uint32_t ns, OrderedIndex* ord);
  // Bytes of memory of every OrderedIndex, and keys they hold.
  uint64_t OrderedMemory() const;
  uint64_t OrderedKeys() const;

  // READER. Calls fn(l, r) for every index entry l whose record r
  // resolves (ResolveBounded), in index order. Each record's header is
  // fetched a few entries ahead of fn: a walk of the whole index is
  // otherwise one cache miss per key, one after the other (a namespace
  // drop in a database of 2 M keys spent 150-330 ms in them). The caller
  // keeps the segments mapped (an Epoch::Guard, or compaction held off).
  // fn may not change the index.
  void ForEachRecord(const std::function<void(Locator, const RecordView&)>& fn) const;
  // READER. ForEachRecord, with each key's version at snapshot snap:
  // fn(newest, at, s), `at` the version VersionAt(newest, snap) finds
  // (newest itself where its number is at most snap), `s` its status:
  // NotFound where the key has no version at snap, another error where
  // the chain cannot be followed (damage; `at` unset then). The caller
  // keeps snap registered (or its versions otherwise kept) and the
  // segments mapped, as for ForEachRecord. `overwritten`: VersionAt's; with
  // kFollow, updates in place may run beside the walk (of records numbered
  // above snap only): a newest record in a segment that allows them is
  // read as a seqlock reader reads it (its in-place counter even and the
  // same before and after).
  // `overwrite_holds(base, counter)`: whether an overwriter holds the
  // record at base, whose counter was read odd (LogWriter::OverwriteHolds):
  // the walk waits for it while it does.
  void ForEachVersionAt(
      uint64_t snap, bool check_all,
      const std::function<void(const RecordView& newest, const RecordView& at,
                               const Status& s)>& fn,
      Overwritten overwritten = Overwritten::kTooOld,
      const std::function<bool(const char* base, uint32_t counter)>& overwrite_holds = {}) const;

  // Removes from the index every key whose newest record matches pred
  // (e.g. it belongs to a dropped namespace). Returns how many.
  uint64_t PurgeIf(const std::function<bool(const RecordView&)>& pred);

  // Applies compaction's index moves, each only if its entry still points
  // at `from` (a newer write always wins). Returns how many did not apply.
  // A removal (`to` 0) that applies calls before_remove(i), i its place in
  // `moves`, under the key's sub-table lock and before the entry goes: a
  // key count it changes is changed before the key leaves the index, so
  // no count that walks the index and misses the entry reads the count
  // from before, and no write of the key after it (under the same lock)
  // adds the key back to the count before it was taken off.
  uint64_t Relocate(Relocation* moves, size_t n,
                    const std::function<void(size_t)>& before_remove = nullptr);

  // Byte accounting (the one owner of Segment::live_bytes/dead_bytes).
  // A record's bytes move from live to dead (it was superseded or purged).
  void CountDead(Locator loc, size_t size);
  // Bytes that are live (or dead) from the start in the segment of loc.
  void CountLive(Locator loc, size_t size);
  void CountDeadOnly(Locator loc, size_t size);
  // CountDead, only if loc's slot still holds segment `seg_id` (a
  // locator kept across passes, whose segment may have retired and its
  // slot gone to another: NamespaceInfo::create_loc).
  void CountDeadIn(Locator loc, uint64_t seg_id, size_t size);
  // CountDead and CountLive taken back (an install undone: Uninstall).
  // Never throw.
  void UncountDead(Locator loc, size_t size) noexcept;
  void UncountLive(Locator loc, size_t size) noexcept;
  // Sets a segment's counts outright (restored from a checkpoint, or a
  // compaction output before it is published).
  static void SetCounts(Segment* s, uint64_t live, uint64_t dead) {
    s->live_.store(live);
    s->dead_.store(dead);
  }

 private:
  // The OrderedIndex of the record at loc's namespace (nullptr if none).
  OrderedIndex* OrderedOfRecord(const RecordView& r) const {
    return has_ordered_.load(std::memory_order_acquire) ? OrderedFor(r.ns_id) : nullptr;
  }

  const uint64_t seed_;
  RecordCodec codec_;  // key reads only (the cipher)
  HashIndex index_;
  SegmentTable segments_;
  mutable std::mutex ordered_mu_;
  std::map<uint32_t, std::unique_ptr<OrderedIndex>> ordered_;  // never shrinks
  std::atomic<bool> has_ordered_{false};
  std::atomic<bool> ordered_live_{false};
};

}  // namespace firkin

#endif  // FIRKIN_CORE_KEYSPACE_KEYSPACE_H_
