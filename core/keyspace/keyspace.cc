#include "core/keyspace/keyspace.h"

#include "core/util/epoch.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace firkin {

Status Keyspace::VersionAt(const RecordView& rec, uint64_t snap, RecordView* out, bool check_all,
                           Overwritten overwritten) const {
  RecordView r = rec;
  // Each step goes strictly back in sequence order; a bound guards against
  // a damaged chain that loops.
  for (int steps = 0; r.seq > snap; steps++) {
    // r is skipped on the strength of its sequence number and left through
    // its prev address: both must be intact, or a damaged seq turns a newer
    // version (a tombstone) into a detour to an older value.
    const bool checksummed = check_all || !r.checked;
    if (checksummed && !(RecordIntact(r) && (r.checked || codec_.Authentic(r)))) {
      return Status::Corruption(
          "a newer version of the key failed its checksum "
          "(or, sealed, its authentication) (sequence " +
          std::to_string(r.seq) + "); the version visible at the snapshot cannot be told");
    }
    if (r.counter() != 0 && overwritten != Overwritten::kFollow) {
      // (its checksum held above, or its segment is checked)
      if (overwritten == Overwritten::kTake) break;
      // Updated in place (docs/write_path.md): the versions it replaced,
      // between its prev and itself, are gone; the one visible at snap may
      // be among them. Never a wrong value: too old.
      return Status::SnapshotTooOld("the version needed at sequence " + std::to_string(snap) +
                                    " was overwritten in place (sequence " +
                                    std::to_string(r.seq) + ")");
    }
    if (r.prev == 0) return Status::NotFound();
    if (r.prev == kPrevReplaced) {  // (a compacted copy of such a record)
      if (overwritten == Overwritten::kTake) break;
      return Status::SnapshotTooOld("the version needed at sequence " + std::to_string(snap) +
                                    " was overwritten in place (sequence " +
                                    std::to_string(r.seq) + ")");
    }
    Segment* s = segments_.ById(DiskAddrSegment(r.prev));
    uint64_t off = DiskAddrOffset(r.prev);
    if (s == nullptr || off + kRecordPeekSize > s->capacity()) {
      // A damaged record can point anywhere: only an intact one means the
      // history is really gone.
      if (!checksummed && !RecordIntact(r)) {
        return Status::Corruption("record of a key failed its checksum (sequence " +
                                  std::to_string(r.seq) + ")");
      }
      return Status::SnapshotTooOld("the version needed at sequence " + std::to_string(snap) +
                                    " is no longer kept");
    }
    RecordView p = s->Peek(off);
    if (p.size() > s->capacity() - off) {
      return Status::Corruption(s->path() + ": damaged record length at offset " +
                                std::to_string(off));
    }
    if (p.seq >= r.seq || steps > (1 << 24)) {
      return Status::Corruption(s->path() + ": version chain out of order at offset " +
                                std::to_string(off));
    }
    r = p;
  }
  *out = r;
  return Status::OK();
}

void Keyspace::Install(uint64_t h, Locator old_loc, size_t old_size, Locator new_loc,
                       size_t new_size, OrderedIndex* ord, std::string_view key) {
  if (old_loc != 0) {
    index_.ReplaceIf(h, old_loc, new_loc);
    CountDead(old_loc, old_size);
  } else {
    index_.Upsert(h, new_loc, [](Locator) { return false; });
  }
  CountLive(new_loc, new_size);
  if (ord != nullptr) {
    RecordView r;
    std::string scratch;
    if (!key.empty() || ResolveBounded(new_loc, &r) != nullptr) {
      const std::string_view k = !key.empty() ? key : Key(r, &scratch);
      if (old_loc != 0) {
        ord->Replace(k, new_loc);
      } else {
        ord->Insert(k, new_loc);
      }
    }
  }
}

bool Keyspace::Uninstall(uint64_t h, Locator old_loc, size_t old_size, Locator new_loc,
                         size_t new_size) noexcept {
  const bool undone =
      old_loc != 0 ? index_.ReplaceIf(h, new_loc, old_loc) : index_.RemoveExact(h, new_loc);
  if (!undone) return false;
  if (old_loc != 0) UncountDead(old_loc, old_size);
  UncountLive(new_loc, new_size);
  return true;
}

bool Keyspace::DropEntry(uint64_t h, Locator l, const RecordView& r) {
  if (!index_.ReplaceIf(h, l, 0)) return false;
  if (OrderedIndex* ord = OrderedOfRecord(r)) {
    std::string scratch;
    ord->Replace(Key(r, &scratch), 0);
  }
  return true;
}

OrderedIndex* Keyspace::MakeOrdered(uint32_t ns) {
  std::lock_guard<std::mutex> l(ordered_mu_);
  auto& slot = ordered_[ns];
  if (!slot) slot = std::make_unique<OrderedIndex>(&segments_, &codec_);
  has_ordered_.store(true, std::memory_order_release);
  return slot.get();
}

void Keyspace::ForEachRecord(const std::function<void(Locator, const RecordView&)>& fn) const {
  // A ring of the entries whose headers are on their way.
  constexpr size_t kAhead = 16;
  Locator ring[kAhead];
  size_t n = 0;
  auto visit = [&](Locator l) {
    RecordView r;
    if (ResolveBounded(l, &r) != nullptr) fn(l, r);
  };
  index_.ForEach([&](Locator l) {
    if (Segment* s = segments_.BySlot(LocatorSlot(l))) {
      const uint64_t off = LocatorOffset(l);
      if (off + kRecordPeekSize <= s->capacity()) {
        const char* p = s->RecordAt(off);
        __builtin_prefetch(p);
        __builtin_prefetch(p + kRecordPeekSize - 1);
      }
    }
    if (n >= kAhead) visit(ring[n % kAhead]);
    ring[n % kAhead] = l;
    n++;
  });
  for (size_t i = n > kAhead ? n - kAhead : 0; i < n; i++) visit(ring[i % kAhead]);
}

void Keyspace::ForEachVersionAt(
    uint64_t snap, bool check_all,
    const std::function<void(const RecordView&, const RecordView&, const Status&)>& fn,
    Overwritten overwritten,
    const std::function<bool(const char* base, uint32_t counter)>& overwrite_holds) const {
  ForEachRecord([&](Locator, const RecordView& rec) {
    // With kFollow, overwrites run beside the walk, of records numbered
    // above snap (LogWriter::SetCountFloor): such a record's number,
    // counter, value and checksum change under it. Its number is read as
    // a seqlock reader reads (the in-place counter even and the same
    // before and after; the overwrite's 8-byte store is a byte loop in a
    // ThreadSanitizer build, and the read must not see half of it), and
    // so is the walk back from it, whose checksum of it (check_all, or a
    // segment not known intact) would fail on a copy under way. Its other
    // bytes the walk uses (prev, type, key, flags, no expiry) do not
    // change, and both its numbers are above snap: the walk takes the same
    // way whichever it reads. An odd counter is waited for as long as an
    // overwriter holds the record (`overwrite_holds`, exact: an overwriter
    // preempted in its copy may hold it for a while; until a review, the
    // walk gave up after 4096 tries and read the copy under way); one no
    // overwriter holds is damage, and the walk goes on with what it reads.
    // (Without `overwrite_holds`: 4096 tries.)
    RecordView newest = rec;
    const bool watch =
        overwritten == Overwritten::kFollow && newest.seg != nullptr && SegmentInPlace(newest.seg);
    RecordView at;
    Status s;
    for (uint32_t tries = 0;; tries++) {
      uint32_t c0 = 0;
      if (watch) {
        c0 = LoadRecordCounter(newest.base);  // (acquire)
        if ((c0 & 1) != 0) {
          const bool held = tries < 64 || (overwrite_holds ? overwrite_holds(newest.base, c0)
                                                           : tries < 4096);
          if (held) {
            if (tries > 64) std::this_thread::yield();
            continue;
          }
        }
        newest.seq = DecodeU64(newest.base + 8);
      }
      if (newest.seq <= snap) {
        at = newest;
        s = Status::OK();
      } else {
        s = VersionAt(newest, snap, &at, check_all, overwritten);
      }
      // (A counter that changed: an overwrite ended meanwhile; read again.
      // The bound only stops a walk from chasing a key overwritten without
      // pause forever.)
      if (!watch || (c0 & 1) != 0 || tries >= (1u << 20)) break;
      std::atomic_thread_fence(std::memory_order_acquire);
      if (LoadRecordCounter(newest.base) == c0) break;
    }
    fn(newest, at, s);
  });
}

void Keyspace::BuildOrdered(const std::vector<uint32_t>& ns_ids) {
  std::map<uint32_t, std::vector<Locator>> locs;
  for (uint32_t id : ns_ids) {
    if (OrderedFor(id) == nullptr) locs[id];  // (one loaded from the checkpoint is kept)
  }
  if (!locs.empty()) {
    ForEachRecord([&](Locator l, const RecordView& r) {
      auto it = locs.find(r.ns_id);
      if (it != locs.end()) it->second.push_back(l);
    });
  }
  for (auto& [id, v] : locs) MakeOrdered(id)->BulkLoad(std::move(v));
  ordered_live_.store(true, std::memory_order_release);
}

void Keyspace::FillOrdered(uint32_t ns, OrderedIndex* ord) {
  std::vector<Locator> locs;
  ForEachRecord([&](Locator l, const RecordView& r) {
    if (r.ns_id == ns) locs.push_back(l);
  });
  std::string scratch;
  for (Locator l : locs) {
    RecordView r;
    if (ResolveBounded(l, &r) != nullptr) ord->Insert(Key(r, &scratch), l);
  }
}

uint64_t Keyspace::OrderedMemory() const {
  std::lock_guard<std::mutex> l(ordered_mu_);
  uint64_t n = 0;
  for (auto& [id, o] : ordered_) n += o->memory_bytes();
  return n;
}

uint64_t Keyspace::OrderedKeys() const {
  std::lock_guard<std::mutex> l(ordered_mu_);
  uint64_t n = 0;
  for (auto& [id, o] : ordered_) n += o->size();
  return n;
}

uint64_t Keyspace::PurgeIf(const std::function<bool(const RecordView&)>& pred) {
  std::vector<Locator> victims;
  ForEachRecord([&](Locator l, const RecordView& r) {
    if (pred(r)) victims.push_back(l);
  });
  Epoch::Guard guard;  // the records are read; compaction may retire segments
  for (Locator l : victims) {
    RecordView r;
    if (ResolveBounded(l, &r) == nullptr) continue;
    const uint64_t h = HashOf(r);
    HashIndex::ShardGuard lock(&index_, h);
    if (DropEntry(h, l, r)) CountDead(l, r.size());
  }
  return victims.size();
}

uint64_t Keyspace::Relocate(Relocation* moves, size_t n,
                            const std::function<void(size_t)>& before_remove) {
  uint64_t failed = 0;
  for (size_t i = 0; i < n; i++) {
    Relocation& m = moves[i];
    {
      HashIndex::ShardGuard lock(&index_, m.hash);
      // (Under the lock the entry found stays until ReplaceIf removes it.
      // The release store that removes it, or publishes the sub-table a
      // removal rebuilt, follows the caller's count change: a walk that
      // finds the entry gone sees the change too.)
      if (m.to == 0 && before_remove && Indexes(m.hash, m.from)) before_remove(i);
      m.moved = index_.ReplaceIf(m.hash, m.from, m.to);
      if (m.moved && has_ordered_.load(std::memory_order_acquire)) {
        // The record at `from` is still mapped (the caller holds its
        // segment); its key places the move in the ordered index.
        Epoch::Guard guard;
        RecordView r;
        if (ResolveBounded(m.from, &r) != nullptr) {
          if (OrderedIndex* ord = OrderedFor(r.ns_id)) {
            std::string scratch;
            ord->Replace(Key(r, &scratch), m.to);
          }
        }
      }
    }
    if (m.moved) {
      CountDead(m.from, m.size);
      if (m.to != 0) CountLive(m.to, m.size);
    } else {
      ++failed;
      if (m.to != 0) CountDeadOnly(m.to, m.size);
    }
  }
  return failed;
}

void Keyspace::CountLive(Locator loc, size_t size) {
  if (Segment* s = segments_.BySlot(LocatorSlot(loc))) {
    s->live_.fetch_add(size);
  }
}

void Keyspace::CountDeadOnly(Locator loc, size_t size) {
  if (Segment* s = segments_.BySlot(LocatorSlot(loc))) {
    s->dead_.fetch_add(size);
  }
}

void Keyspace::CountDeadIn(Locator loc, uint64_t seg_id, size_t size) {
  Epoch::Guard guard;  // (the segment a slot holds is read)
  if (Segment* s = segments_.BySlot(LocatorSlot(loc)); s != nullptr && s->id() == seg_id) {
    s->live_.fetch_sub(size);
    s->dead_.fetch_add(size);
  }
}

void Keyspace::UncountDead(Locator loc, size_t size) noexcept {
  if (Segment* s = segments_.BySlot(LocatorSlot(loc))) {
    s->dead_.fetch_sub(size);
    s->live_.fetch_add(size);
  }
}

void Keyspace::UncountLive(Locator loc, size_t size) noexcept {
  if (Segment* s = segments_.BySlot(LocatorSlot(loc))) s->live_.fetch_sub(size);
}

void Keyspace::CountDead(Locator loc, size_t size) {
  if (Segment* s = segments_.BySlot(LocatorSlot(loc))) {
    s->live_.fetch_sub(size);
    s->dead_.fetch_add(size);
  }
}

}  // namespace firkin
