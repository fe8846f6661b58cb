// HashIndex: construction, sub-table rebuilds (growth, shrink, clean-up of
// deleted markers), removal, ReplaceIf, iteration and stats. The lookup and
// the common insert path are inline in hash_index-inl.h.
//
// Sizing rules (per sub-table, `used` = live entries + deleted markers):
//  - An insert that would take `used` past 0.8 * capacity rebuilds first:
//    normally one size class up (x1.2-x1.25, so load lands at ~0.64-0.67);
//    if deleted markers fill >= 1/8 of the slots, at the smallest class that
//    holds the live entries at load <= 0.7 (same size or smaller).
//  - A removal after which a smaller class holds the live entries at load
//    <= 0.7 (i.e. load < ~0.56) rebuilds at that class, so a shrinking index
//    keeps <= 16 bytes per key too. Growth lands at >= 0.64, so an insert /
//    remove mix needs ~8% churn of a sub-table per rebuild.
//  - A removal whose next slot is empty clears its slot (and the deleted
//    markers just before it) instead of leaving a marker: no probe chain
//    passes through a slot followed by an empty one, so no reader can miss.
//  - Rebuilds copy the live entries into a new array (deleted markers are
//    dropped), publish it with a release store of the shard word, and hand
//    the old array to Epoch::Retire (or, where Retire cannot allocate,
//    keep it for good: the step is done by then, and a growth step that
//    cannot allocate must throw before changing anything).
#include "core/index/hash_index.h"

#include <sys/mman.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "core/util/epoch.h"

namespace firkin {

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "firkin: HashIndex: %s\n", what);
  std::abort();
}

}  // namespace

// Bytes a table of `cap` entries costs, counting malloc's chunk overhead.
// Tables are not cache-line aligned on purpose: probes start at random
// positions, so alignment would not save misses, only waste memory.
uint64_t HashIndex::TableBytes(uint64_t cap) { return cap * sizeof(Entry) + 16; }

// Tables of 64 KiB and more are mapped directly, so a table freed after a
// growth step goes back to the OS at once instead of fragmenting the heap
// (with malloc, 10 M keys left ~40 bytes of RSS per key behind, not ~12).
constexpr uint64_t kMmapTableBytes = 64 << 10;

HashIndex::Entry* HashIndex::AllocTable(uint64_t cap) {
  // All-zero bytes are empty std::atomic<uint64_t> slots.
  void* p;
  const uint64_t bytes = cap * sizeof(Entry);
  if (bytes >= kMmapTableBytes) {
    // Populated at once: a table is filled right away (a growth step
    // moves every entry in; at open, the checkpoint's entries), and a page
    // faulted in by its first access costs two faults (a read maps the
    // zero page, the write copies it), a third of the time of loading
    // 10 M entries at open.
    p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
             -1, 0);
    if (p == MAP_FAILED) p = nullptr;
  } else {
    p = std::calloc(cap, sizeof(Entry));
  }
  if (p == nullptr) return nullptr;
  if ((reinterpret_cast<uint64_t>(p) & ~kPointerMask) != 0) Die("address above 2^56");
  return static_cast<Entry*>(p);
}

void HashIndex::FreeTable(Entry* table, uint64_t cap) {
  const uint64_t bytes = cap * sizeof(Entry);
  if (bytes >= kMmapTableBytes) {
    munmap(table, bytes);
  } else {
    std::free(table);
  }
}

unsigned HashIndex::ClassFor(uint64_t live) {
  for (unsigned cls = 0; cls < kNumClasses; ++cls) {
    if (live * 10 <= ClassCapacity(cls) * 7) return cls;
  }
  return kNumClasses - 1;
}

unsigned HashIndex::ClassForExpected(uint64_t expected_keys) {
  // (See the constructor.)
  const uint64_t per = (expected_keys + kShards - 1) / kShards;
  uint64_t root = 0;
  while ((root + 1) * (root + 1) <= per) root++;
  const uint64_t want = per + 2 * root;
  unsigned cls = 0;
  while (cls + 1 < kNumClasses && want * 10 > ClassCapacity(cls) * 8) cls++;
  return cls;
}

uint64_t HashIndex::BytesFor(uint64_t expected_keys) {
  return TableBytes(ClassCapacity(ClassForExpected(expected_keys))) * kShards +
         kShards * (sizeof(uint64_t) + sizeof(ShardMeta));
}

HashIndex::HashIndex(uint64_t expected_keys)
    : shards_(new std::atomic<uint64_t>[kShards]), meta_(new ShardMeta[kShards]) {
  static_assert(sizeof(Entry) == 8, "entries must be 8 bytes");
  static_assert(kTagBits == 20, "entry = 20-bit tag + 44-bit Locator");
  // Keys fall into sub-tables at random: about `per` each, give or take
  // sqrt(per). Every sub-table is made to hold per + 2 sqrt(per) below
  // the growth threshold (0.8), so that about one in forty grows once
  // while they fill, and the load, at ~0.72 when full, is what growth
  // would have left (growth lands between 0.64 and 0.8). Sized for `per`
  // at load <= 0.7 (ClassFor), as before, 1 M keys took classes of 1739
  // entries where growing left 1391 (25% more memory); now 1391. (The
  // classes step by 1.25, so for some counts every sub-table gets the
  // class that only the fuller half would have grown to: 300 K keys, 10%
  // more than growing; expected_keys_test.)
  const unsigned cls = ClassForExpected(expected_keys);
  const uint64_t cap = ClassCapacity(cls);
  for (size_t s = 0; s < kShards; ++s) {
    Entry* t = AllocTable(cap);
    if (t == nullptr) {
      for (size_t j = 0; j < s; ++j) {
        FreeTable(TableOf(shards_[j].load(std::memory_order_relaxed)), cap);
      }
      throw std::bad_alloc();
    }
    shards_[s].store(MakeWord(t, cls), std::memory_order_relaxed);
    meta_[s].live = 0;
    meta_[s].used_lock.store(0, std::memory_order_relaxed);
  }
  capacity_.store(cap * kShards, std::memory_order_relaxed);
  memory_.store(TableBytes(cap) * kShards + kShards * (sizeof(uint64_t) + sizeof(ShardMeta)),
                std::memory_order_relaxed);
}

HashIndex::~HashIndex() {
  // REQUIRES: no reader is inside Find() (retired tables are freed by Epoch).
  for (size_t s = 0; s < kShards; ++s) {
    const uint64_t word = shards_[s].load(std::memory_order_relaxed);
    FreeTable(TableOf(word), ClassCapacity(ClassOf(word)));
  }
}

bool HashIndex::Rebuild(size_t shard, unsigned cls, uint64_t extra_entry) {
  const uint64_t old_word = shards_[shard].load(std::memory_order_relaxed);
  Entry* old_table = TableOf(old_word);
  const uint64_t old_cap = ClassCapacity(ClassOf(old_word));
  const uint64_t cap = ClassCapacity(cls);
  Entry* table = AllocTable(cap);
  if (table == nullptr) return false;
  uint32_t live = 0;
  auto place = [&](uint64_t e) {
    size_t j = HomeOf(e >> kLocatorBits, cap);
    while (table[j].load(std::memory_order_relaxed) != 0) {
      if (++j == cap) j = 0;
    }
    table[j].store(e, std::memory_order_relaxed);
    ++live;
  };
  for (uint64_t i = 0; i < old_cap; ++i) {
    const uint64_t e = old_table[i].load(std::memory_order_relaxed);
    if (e != 0 && e != kDeletedEntry) place(e);
  }
  if (extra_entry != 0) place(extra_entry);
  if (NeedsRoomFor(live, cap)) Die("sub-table overflow (too many keys)");

  // Publish: the entries written above happen-before any reader's acquire
  // load that sees the new word.
  shards_[shard].store(MakeWord(table, cls), std::memory_order_release);
  // Retire allocates (its queue of deleters grows in blocks), and the new
  // table is in place already: a std::bad_alloc from it must not leave
  // this step half done. Until 2026-11-30 it did: the caller was told the
  // step failed, with its entry in the table, uncounted, and the shard's
  // counts were the old table's, which a later step could then size too
  // small for its entries ("sub-table overflow": the process ended;
  // hash_index_test GrowthWhoseRetireCannotAllocate). With the heap that
  // full, the old table is kept for good instead: it may be under a reader.
  try {
    Epoch::Retire([old_table, old_cap] { FreeTable(old_table, old_cap); });
  } catch (const std::bad_alloc&) {
  }

  meta_[shard].live = live;
  // Keep the lock bit as it is (held by the caller, or a lock-free phase).
  const uint32_t lock_bit = meta_[shard].used_lock.load(std::memory_order_relaxed) &
                            ShardMeta::kLockBit;
  meta_[shard].used_lock.store(live | lock_bit, std::memory_order_relaxed);
  capacity_.fetch_add(cap - old_cap, std::memory_order_relaxed);  // wraps when shrinking
  memory_.fetch_add(TableBytes(cap) - TableBytes(old_cap), std::memory_order_relaxed);
  if (cap > old_cap) grow_count_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void HashIndex::InsertSlow(size_t shard, uint64_t entry) {
  const unsigned cls = ClassOf(shards_[shard].load(std::memory_order_relaxed));
  const ShardMeta& m = meta_[shard];
  const uint64_t cap = ClassCapacity(cls);
  unsigned new_cls;
  if ((m.used() - m.live) * 8 >= cap) {
    new_cls = ClassFor(uint64_t{m.live} + 1);  // mostly deleted markers: clean up
  } else {
    new_cls = cls + 1 < kNumClasses ? cls + 1 : cls;
  }
  if (!Rebuild(shard, new_cls, entry)) throw std::bad_alloc();
  size_.fetch_add(1, std::memory_order_relaxed);
}

void HashIndex::EraseAt(size_t shard, size_t pos, bool may_shrink) {
  const uint64_t word = shards_[shard].load(std::memory_order_relaxed);
  Entry* table = TableOf(word);
  const unsigned cls = ClassOf(word);
  const uint64_t cap = ClassCapacity(cls);
  ShardMeta& m = meta_[shard];
  const size_t next = pos + 1 == cap ? 0 : pos + 1;
  if (table[next].load(std::memory_order_relaxed) == 0) {
    // End of a cluster: no chain runs through `pos`, so it can become empty,
    // and so can the deleted markers right before it (cleared back to front,
    // so each cleared slot is followed by an empty one when it is cleared).
    table[pos].store(0, std::memory_order_release);
    m.add_used(-1);
    size_t j = pos == 0 ? cap - 1 : pos - 1;
    while (table[j].load(std::memory_order_relaxed) == kDeletedEntry) {
      table[j].store(0, std::memory_order_release);
      m.add_used(-1);
      j = j == 0 ? cap - 1 : j - 1;
    }
  } else {
    table[pos].store(kDeletedEntry, std::memory_order_release);
  }
  --m.live;
  size_.fetch_sub(1, std::memory_order_relaxed);
  if (may_shrink && cls > 0 && uint64_t{m.live} * 5 < cap * 3) {  // cheap pre-check: load < 0.6
    const unsigned new_cls = ClassFor(m.live);
    if (new_cls < cls) Rebuild(shard, new_cls, 0);  // skipped if memory is short
  }
}

bool HashIndex::ReplaceIf(uint64_t hash, Locator expected, Locator desired) {
  // REQUIRES: expected != 0; desired == 0 or a valid Locator (see Upsert).
  assert(expected != 0 && expected < kDeletedEntry && desired < kDeletedEntry);
  const size_t shard = ShardOf(hash);
  const uint64_t word = shards_[shard].load(std::memory_order_relaxed);
  Entry* table = TableOf(word);
  const uint64_t cap = ClassCapacity(ClassOf(word));
  const uint64_t tag = TagOf(hash);
  const uint64_t want = (tag << kLocatorBits) | expected;
  size_t i = HomeOf(tag, cap);
  for (;;) {
    const uint64_t e = table[i].load(std::memory_order_relaxed);
    if (e == 0) return false;
    if (e == want) {
      if (desired == 0) {
        EraseAt(shard, i);
      } else {
        table[i].store((tag << kLocatorBits) | desired, std::memory_order_release);
      }
      return true;
    }
    if (++i == cap) i = 0;
  }
}

bool HashIndex::RemoveExact(uint64_t hash, Locator loc) {
  assert(loc != 0 && loc < kDeletedEntry);
  const size_t shard = ShardOf(hash);
  const uint64_t word = shards_[shard].load(std::memory_order_relaxed);
  const Entry* table = TableOf(word);
  const uint64_t cap = ClassCapacity(ClassOf(word));
  const uint64_t tag = TagOf(hash);
  const uint64_t want = (tag << kLocatorBits) | loc;
  size_t i = HomeOf(tag, cap);
  for (;;) {
    const uint64_t e = table[i].load(std::memory_order_relaxed);
    if (e == 0) return false;
    if (e == want) {
      EraseAt(shard, i, /*may_shrink=*/false);  // (a shrink allocates, and retires a table)
      return true;
    }
    if (++i == cap) i = 0;
  }
}

void HashIndex::ForEach(const std::function<void(Locator)>& fn) const {
  ForEachEntry([&fn](uint64_t, Locator l) { fn(l); });
}

void HashIndex::ForEachEntry(const std::function<void(uint64_t, Locator)>& fn) const {
  // fn may call writer methods (this is the writer's thread). A rebuild then
  // retires the table being walked; the guard keeps it alive until the end.
  // The walk goes on in that frozen table, so each entry present at the
  // start is seen at most once; entries written during the walk may or may
  // not be seen.
  for (size_t s = 0; s < kShards; ++s) ForEachInShard(s, fn);
}

void HashIndex::ForEachInShard(size_t shard,
                               const std::function<void(uint64_t, Locator)>& fn) const {
  Epoch::Guard guard;  // (as ForEachEntry: fn may grow this sub-table)
  const uint64_t word = shards_[shard].load(std::memory_order_acquire);
  const Entry* table = TableOf(word);
  const uint64_t cap = ClassCapacity(ClassOf(word));
  for (uint64_t i = 0; i < cap; ++i) {
    const uint64_t e = table[i].load(std::memory_order_acquire);
    if (e == 0 || e == kDeletedEntry) continue;
    const uint64_t tag = e >> kLocatorBits;
    fn((uint64_t{shard} << (64 - kShardBits)) | (tag << (64 - kShardBits - kTagBits)),
       e & kLocatorMask);
  }
}

uint64_t HashIndex::size() const { return size_.load(std::memory_order_relaxed); }
uint64_t HashIndex::capacity() const { return capacity_.load(std::memory_order_relaxed); }
uint64_t HashIndex::memory_bytes() const { return memory_.load(std::memory_order_relaxed); }
uint64_t HashIndex::grow_count() const { return grow_count_.load(std::memory_order_relaxed); }

}  // namespace firkin
