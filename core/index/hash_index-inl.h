// Inline and template bodies of HashIndex (hash_index.h). Included at the
// bottom of hash_index.h only.
//
// Bit slicing of the 64-bit hash h:
//   shard = h[63:54]  (10 bits: 1024 sub-tables)
//   tag   = h[53:34]  (20 bits, stored in the entry)
//   home  = (tag * capacity) >> 20, multiply-shift range reduction of the
//           tag, so any capacity works and a sub-table can be rebuilt at a
//           new size from the entries alone (the hash is not stored).
// The low 34 bits are unused. Together with the shard the index knows 30
// bits of each key's hash; entries near a key's home share the high bits of
// its tag, so a tag match is rare unless the 30 bits agree (the false
// positive rate per lookup is about load * capacity / 2^20, under 1% up to
// ~10 M keys), and a false positive only costs the caller one key compare.
#ifndef FIRKIN_CORE_INDEX_HASH_INDEX_INL_H_
#define FIRKIN_CORE_INDEX_HASH_INDEX_INL_H_

#include <array>
#include <cassert>

#include "core/util/epoch.h"

namespace firkin {
namespace hash_index_internal {

// Sub-table capacities, one per size class: 8, 10, 12, 15, 18, 22, ...
// each step x1.2..x1.25. 64 classes reach ~8.4 M entries per sub-table.
constexpr std::array<uint32_t, 64> MakeClassCapacities() {
  std::array<uint32_t, 64> caps{};
  uint64_t c = 8;
  for (auto& cap : caps) {
    cap = static_cast<uint32_t>(c);
    c += (c / 4 > 1) ? c / 4 : 1;
  }
  return caps;
}
inline constexpr std::array<uint32_t, 64> kClassCapacity = MakeClassCapacities();

}  // namespace hash_index_internal

inline uint64_t HashIndex::ClassCapacity(unsigned cls) {
  static_assert(hash_index_internal::kClassCapacity.size() == kNumClasses);
  return hash_index_internal::kClassCapacity[cls];
}

// True when a sub-table of `cap` slots must be rebuilt before it holds
// `used_after` non-empty slots (load would pass 0.8).
inline bool HashIndex::NeedsRoomFor(uint64_t used_after, uint64_t cap) {
  return used_after * 5 > cap * 4;
}

template <typename Visit>
inline bool HashIndex::Find(uint64_t hash, Visit&& visit) const {
  const uint64_t word = shards_[ShardOf(hash)].load(std::memory_order_acquire);
  const Entry* table = TableOf(word);
  const uint64_t cap = ClassCapacity(ClassOf(word));
  const uint64_t tag = TagOf(hash);
  size_t i = HomeOf(tag, cap);
  for (;;) {
    const uint64_t e = table[i].load(std::memory_order_acquire);
    if (e == 0) return false;
    if ((e >> kLocatorBits) == tag && e != kDeletedEntry && visit(Locator{e & kLocatorMask})) {
      return true;
    }
    if (++i == cap) i = 0;
  }
}

inline void HashIndex::Prefetch(uint64_t hash) const {
  const uint64_t word = shards_[ShardOf(hash)].load(std::memory_order_acquire);
  const uint64_t cap = ClassCapacity(ClassOf(word));
  __builtin_prefetch(TableOf(word) + HomeOf(TagOf(hash), cap));
}

template <typename IsSame>
inline Locator HashIndex::Upsert(uint64_t hash, Locator loc, IsSame&& is_same) {
  // REQUIRES: loc is a valid Locator (non-zero, fits in 44 bits, not the
  // all-ones value reserved for the deleted marker).
  assert(loc != 0 && loc < kDeletedEntry);
  const size_t shard = ShardOf(hash);
  const uint64_t word = shards_[shard].load(std::memory_order_relaxed);
  Entry* table = TableOf(word);
  const uint64_t cap = ClassCapacity(ClassOf(word));
  const uint64_t tag = TagOf(hash);
  const uint64_t entry = (tag << kLocatorBits) | loc;
  size_t reuse = kNoSlot;  // first deleted marker on the probe path
  size_t i = HomeOf(tag, cap);
  // Scan the whole probe chain first: the key may sit past a deleted marker.
  for (;;) {
    const uint64_t e = table[i].load(std::memory_order_relaxed);
    if (e == 0) break;
    if (e == kDeletedEntry) {
      if (reuse == kNoSlot) reuse = i;
    } else if ((e >> kLocatorBits) == tag && is_same(Locator{e & kLocatorMask})) {
      table[i].store(entry, std::memory_order_release);  // readers: old or new
      return e & kLocatorMask;
    }
    if (++i == cap) i = 0;
  }
  ShardMeta& m = meta_[shard];
  if (reuse != kNoSlot) {
    table[reuse].store(entry, std::memory_order_release);
    ++m.live;
  } else if (!NeedsRoomFor(uint64_t{m.used()} + 1, cap)) {
    table[i].store(entry, std::memory_order_release);
    ++m.live;
    m.add_used(1);
  } else {
    InsertSlow(shard, entry);  // rebuilds the sub-table with `entry` in it
    return 0;
  }
  size_.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

inline void HashIndex::LoadEntry(uint64_t hash, Locator loc) {
  assert(loc != 0 && loc < kDeletedEntry);
  const size_t shard = ShardOf(hash);
  const uint64_t word = shards_[shard].load(std::memory_order_relaxed);
  Entry* table = TableOf(word);
  const uint64_t cap = ClassCapacity(ClassOf(word));
  const uint64_t tag = TagOf(hash);
  const uint64_t entry = (tag << kLocatorBits) | loc;
  ShardMeta& m = meta_[shard];
  const uint32_t used = m.used_lock.load(std::memory_order_relaxed);  // no lock bit: quiescent
  if (NeedsRoomFor(uint64_t{used} + 1, cap)) {
    InsertSlow(shard, entry);  // rebuilds the sub-table with `entry` in it
    return;
  }
  size_t i = HomeOf(tag, cap);
  while (table[i].load(std::memory_order_relaxed) != 0) {
    if (++i == cap) i = 0;
  }
  table[i].store(entry, std::memory_order_relaxed);
  ++m.live;
  m.used_lock.store(used + 1, std::memory_order_relaxed);
  size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

template <typename Fn>
inline void HashIndex::ForEachPacked(Fn&& fn) const {
  Epoch::Guard guard;  // as in ForEachEntry
  for (size_t s = 0; s < kShards; ++s) {
    const uint64_t word = shards_[s].load(std::memory_order_acquire);
    const Entry* table = TableOf(word);
    const uint64_t cap = ClassCapacity(ClassOf(word));
    for (uint64_t i = 0; i < cap; ++i) {
      const uint64_t e = table[i].load(std::memory_order_acquire);
      if (e != 0 && e != kDeletedEntry) fn(s, e);
    }
  }
}

template <typename IsSame>
inline Locator HashIndex::Remove(uint64_t hash, IsSame&& is_same) {
  const size_t shard = ShardOf(hash);
  const uint64_t word = shards_[shard].load(std::memory_order_relaxed);
  const Entry* table = TableOf(word);
  const uint64_t cap = ClassCapacity(ClassOf(word));
  const uint64_t tag = TagOf(hash);
  size_t i = HomeOf(tag, cap);
  for (;;) {
    const uint64_t e = table[i].load(std::memory_order_relaxed);
    if (e == 0) return 0;
    if ((e >> kLocatorBits) == tag && e != kDeletedEntry && is_same(Locator{e & kLocatorMask})) {
      EraseAt(shard, i);
      return e & kLocatorMask;
    }
    if (++i == cap) i = 0;
  }
}

}  // namespace firkin

#endif  // FIRKIN_CORE_INDEX_HASH_INDEX_INL_H_
