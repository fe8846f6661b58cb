// OrderedIndex: the in-memory ordered index of one ordered namespace
// (issue 12, item 1): the namespace's keys in byte order, beside the hash
// index, for seek, range, prefix and reverse scans.
//
// What it holds. Keys live in the log, so an entry is one 8-byte word: the
// 44-bit Locator of the key's newest record (the same one the hash index
// holds) and, in the 20 bits above it, 20 bits of the key taken right
// after the prefix every key of its chunk shares (big-endian, zero-padded;
// the chunk keeps that common prefix once). Two entries whose bits differ
// are ordered without touching the log; equal bits compare the full keys,
// read from the records. No per-key allocation, no pointers per key.
//
// Layout: a sorted directory of chunks, each a sorted array of up to
// kChunkCap entries (a two-level B+tree: the directory is its inner level).
// A full chunk first hands entries to a neighbour with room (B*-tree
// style), else splits in two halves, except when a key goes past the last
// entry of the last chunk (ascending loads): then a new chunk starts, so
// keys loaded in order fill chunks completely. Memory: 8 bytes per key at
// full chunks, about 11.5 at the ~70% fill random inserts give, plus per
// chunk its directory slot and common prefix (docs/format.md, "Ordered
// namespaces").
//
// Why the newest locator (updated by every write of the key, not only the
// first): compaction and retirement only keep segments the index points
// into, so an entry that followed only the first record would dangle once
// that record is compacted away. Following the hash index exactly (the
// same Install / Relocate / purge calls move both, under the key's index
// sub-table lock) keeps every entry pointing into a live segment.
// Visibility is not decided here: iterators take keys from this index and
// resolve each through the normal snapshot read (hash index + version
// chain), so keys written after a snapshot are skipped and keys deleted
// after it (their tombstone is the newest record, and stays in the index
// while a snapshot may need what it hides) are still found.
//
// Thread contract: writers (Insert, Replace) take an exclusive lock and are
// called with the key's hash-index sub-table lock held (lock order:
// sub-table lock, then this lock; nothing takes them the other way);
// readers (Collect, ForEachChunk, stats) take it shared. BulkLoad and
// LoadChunks are single-threaded (open, before the database is shared). Callers hold an Epoch::Guard or
// otherwise keep the segments alive.
#ifndef FIRKIN_CORE_KEYSPACE_ORDERED_INDEX_H_
#define FIRKIN_CORE_KEYSPACE_ORDERED_INDEX_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>  // std::unique_lock
#include <shared_mutex>  // std::shared_lock
#include <string>
#include <string_view>
#include <vector>

#include "core/index/hash_index.h"
#include "core/log/format.h"
#include "core/log/record_codec.h"
#include "core/log/segment.h"
#include "core/util/shared_spin_lock.h"

namespace firkin {

class OrderedIndex {
 public:
  static constexpr size_t kChunkCap = 256;

  // `codec` reads the keys of records (decrypting sealed ones).
  OrderedIndex(const SegmentTable* segments, const RecordCodec* codec)
      : segs_(segments), codec_(codec) {}
  ~OrderedIndex();
  OrderedIndex(const OrderedIndex&) = delete;
  OrderedIndex& operator=(const OrderedIndex&) = delete;

  // WRITER. Adds `key`, whose newest record is at loc (if present already,
  // points it at loc).
  void Insert(std::string_view key, Locator loc);
  // WRITER. Points `key` at `to` (0: removes it). A key that is missing is
  // inserted when to != 0 (never expected; keeps the index whole).
  void Replace(std::string_view key, Locator to);

  // WRITER. Takes back what an atomic write that failed part way did here
  // (DB::TakeBackBatch): each entry whose locator `back(loc, &to)` claims
  // (returns true, *to set) points at `to` again, or goes (to == 0).
  // back(Locator, Locator*) must not throw. Never allocates and reads no
  // key (a sealed key's decryption may allocate): a walk of every entry,
  // O(keys held) under the lock, done only after such a failure. An entry
  // changes in place (its bits come from its key, the same key) or leaves
  // its chunk, which is never split, merged or given a new prefix (the
  // keys left still share it; a chunk left empty goes). The caller holds
  // the hash index sub-table locks of the keys it takes back, as for
  // Insert and Replace.
  template <typename Back>
  void TakeBack(Back&& back);

  // Single-threaded. Replaces the content with these locators (any order;
  // the keys are read from their records and must be distinct). Out of
  // memory (a chunk, the directory, a sealed key's decryption), throws
  // std::bad_alloc with the content as it was and nothing leaked (until
  // 2026-11-29 the chunk being made leaked; ordered_index_test).
  void BulkLoad(std::vector<Locator> locs);

  // One chunk of a saved image (the checkpoint's ordered section): n entry
  // words (prefix bits above the locator) whose keys all start with
  // `common`, as ForEachChunk handed them out. `words`: n little-endian
  // u64, not necessarily aligned.
  struct ChunkImage {
    std::string_view common;
    const char* words;
    uint32_t n;
  };
  // Single-threaded. Replaces the content with these chunks, given in key
  // order and already validated (checkpoint_ordered.h): no key is read.
  // Out of memory, as BulkLoad.
  void LoadChunks(const std::vector<ChunkImage>& chunks);
  // READER. Calls fn(common, entries, n) for each chunk, in key order.
  void ForEachChunk(
      const std::function<void(std::string_view, const uint64_t*, uint32_t)>& fn) const;

  // The 20 prefix bits of key after its first `skip` bytes (zero-padded),
  // and the locator of an entry word.
  static uint64_t Bits(std::string_view key, size_t skip);
  static Locator EntryLoc(uint64_t e) { return e & ((uint64_t{1} << kLocatorBits) - 1); }

  // READER. Takes up to `max` keys in order (descending if `reverse`),
  // starting at `from` (inclusive or not; nullptr: the first, or the last
  // if reverse) and stopping before `stop` is passed (forward: keys >=
  // *stop are not taken; reverse: keys < *stop are not taken; nullptr: no
  // stop). Each key taken is appended to *keys (the keys one after the
  // other) and its end offset in *keys to *ends. Returns false when the end
  // of the index or the stop was reached (nothing follows what was taken).
  // `recs` (may be null) receives (appended), for each key, a view of the
  // key's newest record as the index held it, and `segs` (may be null) the
  // segment holding it (nullptr where the entry points nowhere): readable
  // while the caller's Epoch::Guard is held.
  bool Collect(const std::string* from, bool inclusive, bool reverse, const std::string* stop,
               size_t max, std::string* keys, std::vector<size_t>* ends,
               std::vector<RecordView>* recs = nullptr,
               std::vector<const Segment*>* segs = nullptr) const;

  // READER. Keys held, and bytes of memory (chunks and directory).
  uint64_t size() const { return size_.load(std::memory_order_relaxed); }
  uint64_t memory_bytes() const;

 private:
  // A sorted run of entries. Every key in it starts with `common` (the
  // longest common prefix of its first and last keys), and each entry's
  // 20 prefix bits are the key's bits right after `common`: neighbouring
  // keys (which share long prefixes, e.g. "user000123...") still differ
  // there, so most comparisons never read the log.
  struct Chunk {
    uint32_t n = 0;
    std::string common;
    uint64_t e[kChunkCap];
  };
  // Chunks owned by a load until they take the directory's place (and the
  // directory's old ones after): freed with it.
  struct OwnedChunks {
    std::vector<Chunk*> v;
    OwnedChunks() = default;
    OwnedChunks(const OwnedChunks&) = delete;
    OwnedChunks& operator=(const OwnedChunks&) = delete;
    ~OwnedChunks() {
      for (Chunk* c : v) delete c;
    }
  };
  // A position: chunk index and entry index inside it.
  struct Pos {
    size_t c;
    size_t i;
  };

  // The record of an entry (false if it cannot be resolved).
  bool ViewOf(uint64_t e, RecordView* r) const;
  // The key of an entry's record (empty if it cannot be resolved); a
  // sealed record's key is decrypted into *scratch.
  std::string_view KeyOf(uint64_t e, std::string* scratch) const {
    RecordView r;
    return ViewOf(e, &r) ? codec_->Key(r, scratch) : std::string_view();
  }
  // -1: key sorts before every key of c; +1: after every one; 0: key
  // starts with c->common (undecided).
  static int Side(const Chunk* c, std::string_view key);
  // <0, 0, >0: entry i of chunk c vs key.
  int Compare(const Chunk* c, size_t i, std::string_view key) const;
  // First position whose key is >= key (c == chunks_.size() at the end).
  Pos LowerBound(std::string_view key) const;
  // Makes *dst the chunk of the n entries src[0..n) (in key order; their
  // words' bits are ignored): their longest common prefix as dst->common
  // (out of memory for a longer one than dst->common's room, one that
  // fits it), each entry's bits after it, dst->n = n. The key of the
  // entry at `known_at` (n: none) is `known` (not read from its record).
  // Reads the keys from the records; a sealed one's decryption may throw
  // std::bad_alloc, and it throws only before *dst changes (src may be
  // dst->e). Writer (the lock held), or a chunk of its own.
  void Derive(const uint64_t* src, uint32_t n, uint32_t known_at, std::string_view known,
              Chunk* dst) const;
  // Recomputes c->common and every entry's bits (reads c->n keys): Derive
  // of c itself; throws only before c changes.
  void Rebuild(Chunk* c) const { Derive(c->e, c->n, c->n, std::string_view(), c); }
  // Rebuild where it only lengthens the prefix (the chunk is whole without
  // it: its prefix still starts every key it holds, each entry's bits
  // follow it); out of memory leaves the chunk as it is.
  void RebuildIfRoom(Chunk* c) const noexcept;
  // Inserts key (record at loc) at position p. Out of memory, throws with
  // nothing changed, or with the entries only moved between chunks, each
  // whole (never a chunk whose prefix or bits are wrong: until the session
  // after 2026-11-29 a sealed key that could not be decrypted in a
  // Rebuild left them so, and range scans on the handle went wrong).
  void InsertAt(Pos p, std::string_view key, Locator loc);
  // Inserts at entry i of ch, which has room; out of memory, throws with
  // nothing changed.
  void InsertIntoRoom(Chunk* ch, size_t i, std::string_view key, Locator loc);
  // Removes entry p; merges its chunk into the next one where Derive can
  // (out of memory, it does not). Never throws.
  void EraseAt(Pos p);

  const SegmentTable* segs_;
  const RecordCodec* codec_;
  // Held briefly (a batch picked, an insert placed): waiters spin rather
  // than sleep (shared_spin_lock.h).
  mutable SharedSpinLock mu_;
  std::vector<Chunk*> chunks_;  // sorted, none empty
  std::atomic<uint64_t> size_{0};
};

template <typename Back>
void OrderedIndex::TakeBack(Back&& back) {
  std::unique_lock<SharedSpinLock> l(mu_);
  for (size_t c = 0; c < chunks_.size();) {
    Chunk* ch = chunks_[c];
    for (uint32_t i = 0; i < ch->n;) {
      Locator to = 0;
      if (!back(EntryLoc(ch->e[i]), &to)) {
        i++;
      } else if (to != 0) {
        ch->e[i] = (ch->e[i] & ~((uint64_t{1} << kLocatorBits) - 1)) | to;
        i++;
      } else {
        std::memmove(ch->e + i, ch->e + i + 1, (ch->n - i - 1) * sizeof(uint64_t));
        ch->n--;
        size_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    if (ch->n == 0) {
      delete ch;
      chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c));  // (moves pointers only)
    } else {
      c++;
    }
  }
}

}  // namespace firkin

#endif  // FIRKIN_CORE_KEYSPACE_ORDERED_INDEX_H_
