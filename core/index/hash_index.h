// HashIndex: the in-memory hash index (DESIGN §4). Maps the 64-bit hash of
// (namespace, key) to a Locator: the compact address of the newest record of
// that key in the log. Keys are not stored; a candidate is confirmed by the
// caller reading the key from the record, so hash collisions are harmless.
//
// Layout: many independent open-addressing sub-tables (chosen by the top
// bits of the hash), each an array of 8-byte entries = 20-bit tag from the
// hash + 44-bit Locator, linear probing. A sub-table grows on its own, in a
// small step (about x1.25, build-aside and swap), when its load passes a
// threshold, so memory stays at <= 16 bytes per live key at every size
// (about 11-12 on average) and no operation waits for a whole-table rebuild.
// Replaced sub-tables are freed through Epoch::Retire.
//
// Thread contract: any number of reader threads call Find() concurrently
// with any number of writers, without locks or CAS (atomic loads/stores
// only); readers must hold an Epoch::Guard across Find() and their use of
// the result. Writer methods (Upsert, Remove, ReplaceIf) mutate one
// sub-table and REQUIRE the caller to hold that sub-table's lock
// (LockShard(ShardOf(hash)), or a ShardGuard); writers of different
// sub-tables run in parallel. A caller that holds the lock of a key's
// sub-table also owns the decision about that key (its condition and its
// install happen atomically). Single-threaded phases (recovery, tests) may
// skip the locks. ForEach/ForEachEntry may run beside writers: they see
// every entry that existed when the walk started and was not removed, and
// may or may not see entries written during the walk.
//
// Allocation failure: a growth step that cannot allocate throws
// std::bad_alloc before changing anything (the caller turns it into a
// no-memory status); a shrink step that cannot allocate is skipped.
#ifndef FIRKIN_CORE_INDEX_HASH_INDEX_H_
#define FIRKIN_CORE_INDEX_HASH_INDEX_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/util/spin.h"

namespace firkin {

// A compact record address: bits [43:28] a segment slot (0..65535), bits
// [27:0] the record's byte offset in the segment divided by 8 (records are
// 8-byte aligned, segments at most 2 GiB). 0 is never a valid Locator (offset
// 0 holds the segment header). The all-ones Locator ((1 << 44) - 1: slot
// 65535, the last 8 bytes of a 2 GiB segment, where no record fits) is
// reserved by HashIndex for its deleted-slot marker.
using Locator = uint64_t;
constexpr int kLocatorBits = 44;
constexpr int kSlotBits = 16;
constexpr int kOffsetBits = 28;
inline Locator MakeLocator(uint32_t slot, uint64_t offset) {
  return (static_cast<uint64_t>(slot) << kOffsetBits) | (offset >> 3);
}
inline uint32_t LocatorSlot(Locator l) { return static_cast<uint32_t>(l >> kOffsetBits); }
inline uint64_t LocatorOffset(Locator l) { return (l & ((1ull << kOffsetBits) - 1)) << 3; }

class HashIndex {
 public:
  // expected_keys sizes the initial sub-tables (0 = small).
  // Made to hold expected_keys entries without growing (about 1 in 40
  // sub-tables grows once while they fill); its memory is taken at once.
  // Throws std::bad_alloc.
  explicit HashIndex(uint64_t expected_keys = 0);
  // The memory the constructor takes for expected_keys.
  static uint64_t BytesFor(uint64_t expected_keys);
  ~HashIndex();
  HashIndex(const HashIndex&) = delete;
  HashIndex& operator=(const HashIndex&) = delete;

  // READER. Calls visit(Locator) for every entry whose tag matches `hash`,
  // in probe order, until visit returns true. Returns true iff visit
  // returned true. REQUIRES: an Epoch::Guard is held.
  template <typename Visit>
  bool Find(uint64_t hash, Visit&& visit) const;

  // WRITER. Looks for an entry of `hash` for which is_same(Locator) is true
  // (the caller compares keys); if found, replaces it with `loc` and returns
  // the old Locator; otherwise inserts `loc` and returns 0. May grow the
  // sub-table. Readers see either the old or the new entry, never neither.
  template <typename IsSame>
  Locator Upsert(uint64_t hash, Locator loc, IsSame&& is_same);

  // QUIESCENT (no other thread uses the index: loading a checkpoint at
  // open). Inserts an entry without looking for another of its key, as
  // Upsert does with an is_same that is never true, but with plain stores
  // where Upsert has atomic read-modify-writes (two locked instructions an
  // entry, about a fifth of the time to load 10 M entries).
  void LoadEntry(uint64_t hash, Locator loc);
  // WRITER. Removes the entry for which is_same is true; returns it or 0.
  template <typename IsSame>
  Locator Remove(uint64_t hash, IsSame&& is_same);

  // WRITER. If an entry of `hash` equals `expected`, sets it to `desired`
  // (0 = remove) and returns true; else false. Used by compaction to move an
  // entry only if no newer write replaced it.
  bool ReplaceIf(uint64_t hash, Locator expected, Locator desired);

  // WRITER. Removes the entry (hash, loc) if there is one, and returns
  // whether there was. Unlike ReplaceIf(hash, loc, 0) it never shrinks the
  // sub-table: it allocates nothing and retires no table, so it cannot
  // fail (the undo of an atomic batch's install that ran out of memory,
  // Keyspace::Uninstall). Same thread contract as the other writers.
  bool RemoveExact(uint64_t hash, Locator loc);

  // WRITER (or quiescent). Calls fn(Locator) for every entry.
  void ForEach(const std::function<void(Locator)>& fn) const;
  // Calls fn(hash_bits, Locator) (as ForEachEntry) for every entry of one
  // sub-table. REQUIRES: its writer lock is held (LockShard), or the
  // caller is the writer.
  void ForEachInShard(size_t shard, const std::function<void(uint64_t, Locator)>& fn) const;

  // WRITER (or quiescent). Calls fn(hash_bits, Locator) for every entry,
  // where hash_bits keeps exactly the bits of the original hash that the
  // index uses, so Upsert(hash_bits, ...) puts the entry back where it
  // belongs (used to save and load index checkpoints).
  void ForEachEntry(const std::function<void(uint64_t, Locator)>& fn) const;

  // WRITER (or quiescent). ForEachEntry's walk, each entry given packed
  // (PackEntry's form, which is how the table stores it) with its shard:
  // fn(size_t shard, uint64_t packed). Inlined, no call per entry: a
  // checkpoint walks every entry while writers wait.
  template <typename Fn>
  void ForEachPacked(Fn&& fn) const;
  // An entry of ForEachEntry in 8 bytes (the tag and Locator the index
  // stores), for a caller that holds the entries in memory for a while (a
  // checkpoint being written). The shard is not in it: a walk in
  // ForEachEntry's order meets the shards one after the other, ascending,
  // so the caller counts the entries of each and gives the shard back.
  static uint64_t PackEntry(uint64_t hash_bits, Locator loc) {
    return (TagOf(hash_bits) << kLocatorBits) | loc;
  }
  static uint64_t UnpackHashBits(size_t shard, uint64_t packed) {
    return (uint64_t{shard} << (64 - kShardBits)) |
           ((packed >> kLocatorBits) << (64 - kShardBits - kTagBits));
  }
  static Locator UnpackLocator(uint64_t packed) { return packed & kLocatorMask; }
  // Number of entries; allocated entry slots; bytes of memory held
  // (tables included, retired-but-not-freed ones excluded).
  uint64_t size() const;
  uint64_t capacity() const;
  uint64_t memory_bytes() const;
  // Number of sub-table growth steps done so far.
  uint64_t grow_count() const;

  // The sub-table a hash belongs to, and its writer lock.
  static size_t ShardOf(uint64_t hash) { return static_cast<size_t>(hash >> (64 - kShardBits)); }
  static constexpr size_t kShards = size_t{1} << 10;
  void LockShard(size_t shard) { meta_[shard].lock(); }
  void UnlockShard(size_t shard) { meta_[shard].unlock(); }

  // Holds one sub-table's writer lock for a scope.
  class ShardGuard {
   public:
    ShardGuard(HashIndex* index, uint64_t hash) : index_(index), shard_(ShardOf(hash)) {
      index_->LockShard(shard_);
    }
    ~ShardGuard() { index_->UnlockShard(shard_); }
    ShardGuard(const ShardGuard&) = delete;
    ShardGuard& operator=(const ShardGuard&) = delete;

   private:
    HashIndex* index_;
    size_t shard_;
  };

  // READER. Hints the CPU to fetch the cache line where Find(hash) starts
  // probing (for multi-get: prefetch a batch, then Find each). Never faults.
  // REQUIRES: an Epoch::Guard is held.
  void Prefetch(uint64_t hash) const;

 private:
  // Entry: bits [63:44] tag, bits [43:0] Locator. 0 = empty slot;
  // kDeletedEntry (tag 0, Locator bits all ones) = removed, keep probing.
  using Entry = std::atomic<uint64_t>;

  static constexpr int kShardBits = 10;
  static constexpr int kTagBits = 64 - kLocatorBits;  // 20
  static constexpr uint64_t kLocatorMask = (uint64_t{1} << kLocatorBits) - 1;
  static constexpr uint64_t kDeletedEntry = kLocatorMask;
  // A shard word is the table pointer in bits [55:0] (user-space addresses
  // fit in 56 bits on x86-64 and AArch64) | the table's size class << 56.
  static constexpr int kClassShift = 56;
  static constexpr uint64_t kPointerMask = (uint64_t{1} << kClassShift) - 1;
  static constexpr unsigned kNumClasses = 64;
  static constexpr size_t kNoSlot = ~size_t{0};

  // Writer-only bookkeeping of one shard, guarded by its lock, which is the
  // top bit of `used_lock` (8 bytes per shard, as without a lock: the index
  // budget counts every byte per key at small sizes).
  struct ShardMeta {
    static constexpr uint32_t kLockBit = 0x80000000u;
    uint32_t live = 0;                     // entries holding a Locator
    std::atomic<uint32_t> used_lock{0};    // live + deleted markers | lock bit
    uint32_t used() const { return used_lock.load(std::memory_order_relaxed) & ~kLockBit; }
    void add_used(int32_t d) {
      used_lock.fetch_add(static_cast<uint32_t>(d), std::memory_order_relaxed);
    }
    void lock() {
      for (SpinWait w;; w.Once()) {
        uint32_t v = used_lock.load(std::memory_order_relaxed);
        if ((v & kLockBit) == 0 &&
            used_lock.compare_exchange_weak(v, v | kLockBit, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
          return;
        }
      }
    }
    void unlock() { used_lock.fetch_and(~kLockBit, std::memory_order_release); }
  };

  static uint64_t TagOf(uint64_t hash) {
    return (hash >> (64 - kShardBits - kTagBits)) & ((uint64_t{1} << kTagBits) - 1);
  }
  static size_t HomeOf(uint64_t tag, uint64_t cap) {
    return static_cast<size_t>((tag * cap) >> kTagBits);
  }
  static inline uint64_t ClassCapacity(unsigned cls);
  static inline bool NeedsRoomFor(uint64_t used_after, uint64_t cap);
  static Entry* TableOf(uint64_t word) { return reinterpret_cast<Entry*>(word & kPointerMask); }
  static unsigned ClassOf(uint64_t word) { return static_cast<unsigned>(word >> kClassShift); }
  static uint64_t MakeWord(const Entry* table, unsigned cls) {
    return reinterpret_cast<uint64_t>(table) | (uint64_t{cls} << kClassShift);
  }

  // Writer slow paths (hash_index.cc).
  void InsertSlow(size_t shard, uint64_t entry);
  // may_shrink false: no rebuild at a smaller class (RemoveExact).
  void EraseAt(size_t shard, size_t pos, bool may_shrink = true);
  // False (nothing changed) if the new table cannot be allocated.
  bool Rebuild(size_t shard, unsigned cls, uint64_t extra_entry);
  static unsigned ClassFor(uint64_t live);
  static unsigned ClassForExpected(uint64_t expected_keys);
  static Entry* AllocTable(uint64_t cap);
  static void FreeTable(Entry* table, uint64_t cap);
  static uint64_t TableBytes(uint64_t cap);

  std::unique_ptr<std::atomic<uint64_t>[]> shards_;  // read by Find()
  std::unique_ptr<ShardMeta[]> meta_;                // writer only
  // Stats, updated by writers (relaxed atomics), readable by any thread.
  std::atomic<uint64_t> size_{0};
  std::atomic<uint64_t> capacity_{0};
  std::atomic<uint64_t> memory_{0};
  std::atomic<uint64_t> grow_count_{0};
};

}  // namespace firkin

#include "core/index/hash_index-inl.h"

#endif  // FIRKIN_CORE_INDEX_HASH_INDEX_H_
