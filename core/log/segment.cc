#include "core/log/segment.h"

#include <algorithm>
#include <memory>
#include <new>

#include "core/util/epoch.h"

namespace firkin {

Segment::Segment(uint64_t id, uint32_t slot, std::unique_ptr<MappedFile> file, uint64_t len,
                 uint32_t flags)
    : id_(id),
      slot_(slot),
      flags_(flags),
      file_(std::move(file)),
      data_(file_->data()),
      capacity_(file_->size()),
      published_len_(len) {}

SegmentTable::SegmentTable()
    : slots_(new std::atomic<Segment*>[kSlots]), by_id_(new std::vector<Segment*>()) {
  for (uint32_t i = 0; i < kSlots; i++) slots_[i].store(nullptr, std::memory_order_relaxed);
}

SegmentTable::~SegmentTable() { delete by_id_.load(); }

Segment* SegmentTable::ById(uint64_t id) const {
  const std::vector<Segment*>* v = by_id_.load(std::memory_order_acquire);
  auto it = std::lower_bound(v->begin(), v->end(), id,
                             [](const Segment* s, uint64_t x) { return s->id() < x; });
  if (it == v->end() || (*it)->id() != id) return nullptr;
  return *it;
}

Status SegmentTable::AllocateSlot(uint32_t* slot) {
  std::lock_guard<std::mutex> l(mu_);
  if (!free_slots_.empty()) {
    *slot = free_slots_.back();
    free_slots_.pop_back();
    return Status::OK();
  }
  if (next_slot_ >= kSlots) {
    return Status::NoSpace("too many live segments (" + std::to_string(kSlots - 1) +
                           "); raise segment_size or compact");
  }
  ReserveFreeSlots(next_slot_ + 1);
  *slot = next_slot_++;
  return Status::OK();
}

void SegmentTable::ReserveFreeSlots(size_t n) {
  // Room for every slot handed out to come back: FreeSlot and the deleter
  // Remove retires (run by an epoch reclaim, wherever that is) then push
  // without allocating, so a full heap cannot fail them (until 2026-11-29
  // the deleter's push could throw inside a compaction's reclaim, and the
  // close then waited forever for it; oom_test).
  if (free_slots_.capacity() < n) free_slots_.reserve(std::max<size_t>(2 * free_slots_.capacity(), n));
}

Status SegmentTable::ClaimSlot(uint32_t slot) {
  std::lock_guard<std::mutex> l(mu_);
  if (slot == 0 || slot >= kSlots) return Status::Corruption("segment slot out of range");
  if (slot >= next_slot_) {
    ReserveFreeSlots(slot + 1);
    for (uint32_t s = next_slot_; s < slot; s++) free_slots_.push_back(s);
    next_slot_ = slot + 1;
    return Status::OK();
  }
  auto it = std::find(free_slots_.begin(), free_slots_.end(), slot);
  if (it == free_slots_.end()) return Status::Corruption("segment slot claimed twice");
  free_slots_.erase(it);
  return Status::OK();
}

void SegmentTable::Add(std::shared_ptr<Segment> seg) {
  const std::vector<Segment*>* old = nullptr;
  {
    std::lock_guard<std::mutex> l(mu_);
    Segment* raw = seg.get();
    auto pos = std::lower_bound(owned_.begin(), owned_.end(), seg->id(),
                                [](const std::shared_ptr<Segment>& s, uint64_t x) {
                                  return s->id() < x;
                                });
    // (What allocates, first: a full heap then changes nothing.)
    std::unique_ptr<std::vector<Segment*>> next(new std::vector<Segment*>());
    next->reserve(owned_.size() + 1);
    owned_.insert(pos, std::move(seg));
    for (auto& s : owned_) next->push_back(s.get());
    old = by_id_.exchange(next.release(), std::memory_order_acq_rel);
    slots_[raw->slot()].store(raw, std::memory_order_release);
  }
  // Outside mu_: Retire may run other deleters, and Remove's takes mu_.
  // (The segment is in: a full heap here keeps the old directory for good
  // rather than throw after the change; until 2026-11-30 Add threw with
  // the segment added. epoch_test SegmentTableChangesThatCannotAllocate.)
  try {
    Epoch::Retire([old] { delete old; });
  } catch (const std::bad_alloc&) {
  }
}

void SegmentTable::Remove(uint64_t id) {
  // What the deleter frees, held where a failed Retire cannot free it:
  // the deleter's captures fit in std::function's own room (no allocation
  // after the change), and a Retire that throws (its queue could not
  // grow) leaves the segment mapped and its slot resolving for good, not
  // freed under a reader. Until 2026-11-30 the deleter held the segment
  // and was allocated after the directory changed: a full heap there
  // freed the segment with its slot still resolving (epoch_test
  // SegmentTableChangesThatCannotAllocate).
  struct Gone {
    const std::vector<Segment*>* old = nullptr;
    std::shared_ptr<Segment> victim;
  };
  std::unique_ptr<Gone> gone(new Gone());
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = std::find_if(owned_.begin(), owned_.end(),
                           [id](const std::shared_ptr<Segment>& s) { return s->id() == id; });
    if (it == owned_.end()) return;
    // (What allocates, first: a full heap then changes nothing.)
    std::unique_ptr<std::vector<Segment*>> next(new std::vector<Segment*>());
    next->reserve(owned_.size());
    gone->victim = *it;
    owned_.erase(it);
    for (auto& s : owned_) next->push_back(s.get());
    gone->old = by_id_.exchange(next.release(), std::memory_order_acq_rel);
  }
  // The slot keeps resolving until no reader can hold a locator it loaded
  // before the index moved off this segment (compaction relocates, then
  // removes): clearing it now made such a read miss the key (NOT_FOUND)
  // though the record is still mapped (found by tests/c/readers_test.c).
  Gone* g = gone.release();
  try {
    Epoch::Retire([this, g] {
      const uint32_t slot = g->victim->slot();
      delete g->old;
      slots_[slot].store(nullptr, std::memory_order_release);
      delete g;
      std::lock_guard<std::mutex> l(mu_);
      free_slots_.push_back(slot);
    });
  } catch (const std::bad_alloc&) {
  }
}

std::vector<std::shared_ptr<Segment>> SegmentTable::List() const {
  std::lock_guard<std::mutex> l(mu_);
  return owned_;
}

void SegmentTable::ReleaseHolds(bool force) {
  // A plain load first: releases from many threads then only share the
  // flag's cache line while no hold is set.
  if (!force && !holds_.load(std::memory_order_seq_cst)) return;
  if (!holds_.exchange(false, std::memory_order_seq_cst) && !force) return;
  Epoch::Guard guard;  // the id-ordered directory is replaced copy-on-write
  for (Segment* s : *by_id_.load(std::memory_order_acquire)) {
    if (s->compact_hold.load(std::memory_order_relaxed)) {
      s->compact_hold.store(false, std::memory_order_relaxed);
    }
  }
}

}  // namespace firkin
