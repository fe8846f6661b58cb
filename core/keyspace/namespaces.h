// NamespaceTable: the namespaces of a database (DESIGN §1): name <-> id,
// whether dropped, and the key counts of each.
//
// Namespace 0 is "default" and always exists. Ids are never reused, so a
// handle to a dropped namespace can never reach a namespace created later
// under the same name.
//
// Thread contract: Find/List/ById take an internal mutex and may be called
// from any thread. Create/Drop/Forget (mutations) are serialized by the
// caller (the database's namespace lock, the compactor's run, a read-only
// handle's refresh, or recovery before the database is shared). A dropped
// NamespaceInfo stays in the table until Forget, which the writer calls
// only once no record of the namespace is left in any segment (compaction
// dropped its create and drop records: Compactor, "namespace records"),
// and a read-only handle once it sees that the writer did so (the segment
// that held the create record went, and no segment carries it again:
// Follower::CatchUp); handles and operations hold it by shared_ptr, so a
// forgotten one lives on for them, dropped (until 2026-11-28 every
// namespace ever created stayed, about 590 B of RAM per create-and-drop
// cycle; a read-only handle's table kept every one until 2026-11-29). The
// table's slots move when Create or Forget changes it, which is why ById
// locks (until 2026-11-27 a compaction pass read the table unlocked while
// firkin_ns_create grew it: a TSan race, a dangling pointer at worst). A
// pointer ById returns stays valid while the namespace is not forgotten:
// only the thread that forgets (the writer's compactor, a reader's
// refresh) keeps a pointer from ById past a call.
#ifndef FIRKIN_CORE_KEYSPACE_NAMESPACES_H_
#define FIRKIN_CORE_KEYSPACE_NAMESPACES_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/keyspace/ns_write_tracker.h"
#include "core/log/format.h"
#include "core/util/atomic_bound.h"
#include "core/util/status.h"

namespace firkin {

class OrderedIndex;

// Namespace flags, durable in the namespace's create record (its value)
// and in the checkpoint (docs/format.md).
constexpr uint32_t kNsFlagOrdered = 1;  // keeps an OrderedIndex (ordered_index.h)
constexpr uint32_t kNsFlagsKnown = kNsFlagOrdered;

// The flags of a namespace create record: its value, a u32 (format
// version 4); an empty value (older records) means none. Unknown bits are
// ignored (a library that adds one also raises the format version).
inline uint32_t NsCreateFlags(const RecordView& r) {
  return r.value_len >= 4 ? (DecodeU32(r.value().data()) & kNsFlagsKnown) : 0;
}

struct NamespaceInfo {
  NamespaceInfo(uint32_t i, std::string n, uint32_t f = 0) : id(i), name(std::move(n)), flags(f) {}
  const uint32_t id;
  const std::string name;
  const uint32_t flags;
  bool is_ordered() const { return (flags & kNsFlagOrdered) != 0; }
  // The namespace's ordered index (owned by the Keyspace): set before the
  // namespace is published (or, at open, before the database is shared);
  // nullptr for hash-only namespaces.
  OrderedIndex* ordered = nullptr;
  std::atomic<bool> dropped{false};
  // The segment whose copy of the create record was replayed last (0: not
  // known: made by this process, or loaded from a checkpoint until a
  // read-only handle's refresh finds the record in a segment that goes).
  // A read-only handle's refresh tells by it that the writer compacted the
  // create record away, which it does only after a durable drop, and then
  // forgets the namespace (Follower::CatchUp). Written by the replaying
  // thread only.
  std::atomic<uint64_t> create_seg{0};
  // No segment whose id is below this one holds a record of the namespace
  // (0: not known). Set where its create record is written (the active log
  // segment: DB::CreateNamespace) or replayed from a log segment (not a
  // compaction output: Replayer). Every record of the namespace is
  // numbered at or above its create record's; a log segment with a lower
  // id was closed before that segment took records, and a compaction
  // output with a lower id took its id, after its inputs were picked
  // (all sealed), before that segment's id was handed out (ids only grow,
  // and log segments take records in id order). Compaction then asks only
  // the segments from here on whether they hold a record of the dropped
  // namespace (Compactor::NamespaceGoneOutside): those below (data that
  // predates it) are never scanned for it.
  std::atomic<uint64_t> seg_floor{0};
  // Keys whose newest record is a put (an expired one included, until
  // compaction drops it). (From here on a line away from `dropped`, which
  // every read loads: inserts and deletes write these.)
  alignas(64) std::atomic<int64_t> live_keys{0};
  // Of those, the keys whose newest put carries an expiry (TTL).
  std::atomic<int64_t> ttl_keys{0};
  // No key of ttl_keys expires before this: a lower bound, lowered by every
  // write with an expiry (after it bumps ttl_writes) and raised only by a
  // counting walk that saw every such key (DB::CountKeys). UINT64_MAX: none.
  // Mutable: a cache that readers may raise.
  mutable std::atomic<uint64_t> min_expiry{UINT64_MAX};
  mutable std::atomic<uint64_t> ttl_writes{0};

  // What the newest records of some keys changing does to live_keys and
  // ttl_keys: an atomic batch adds it up over its keys and applies it once
  // (ApplyCounts), so that a count never sees part of a batch.
  struct CountDelta {
    int64_t live = 0, ttl = 0;
  };
  // One key's newest record goes from (was_put, was_expiry) to (is_put,
  // expiry); an expiry of 0 is none. Called by whoever holds the key's
  // decision (its sub-table lock, or recovery). The expiry bound is lowered
  // here, before the counts change (a count that then sees the old counts
  // and the new bound walks the index).
  void AccountKey(CountDelta* d, bool was_put, uint64_t was_expiry, bool is_put,
                  uint64_t expiry) {
    if (is_put != was_put) d->live += is_put ? 1 : -1;
    const bool was_ttl = was_put && was_expiry != 0;
    const bool is_ttl = is_put && expiry != 0;
    if (is_ttl != was_ttl) d->ttl += is_ttl ? 1 : -1;
    if (is_ttl) {
      ttl_writes.fetch_add(1);  // before the bound is lowered: see DB::CountKeys
      NoteMinExpiry(expiry);
    }
  }
  void ApplyCounts(const CountDelta& d) {
    if (d.live != 0) live_keys.fetch_add(d.live, std::memory_order_relaxed);
    if (d.ttl != 0) ttl_keys.fetch_add(d.ttl, std::memory_order_relaxed);
  }
  // AccountKey and ApplyCounts for one key.
  void AccountNewest(bool was_put, uint64_t was_expiry, bool is_put, uint64_t expiry) {
    CountDelta d;
    AccountKey(&d, was_put, was_expiry, is_put, expiry);
    ApplyCounts(d);
  }
  // AccountKey into `d` if given (applied with the rest of a batch or
  // refresh), else applied now.
  void AccountInto(CountDelta* d, bool was_put, uint64_t was_expiry, bool is_put,
                   uint64_t expiry) {
    if (d != nullptr) {
      AccountKey(d, was_put, was_expiry, is_put, expiry);
    } else {
      AccountNewest(was_put, was_expiry, is_put, expiry);
    }
  }
  void NoteMinExpiry(uint64_t e) const { LowerTo(&min_expiry, e, std::memory_order_relaxed); }
  // Writes to this namespace, for serializable transactions that iterated it.
  NsWriteTracker writes;
};

// CountsSeqlock: tells a reader of several namespaces' key counts
// (live_keys, ttl_keys) whether a change set over more than one namespace
// (an atomic batch, a refresh: NsCountDeltas::Apply) was applied in part
// while it read them, so that a total over namespaces (firkin_stats'
// "keys") never holds part of a batch. A sequence lock that writers enter
// without waiting, any number at once: `begun_` counts the applies begun,
// `ended_` those done. A reader that finds them equal before it reads
// (ReadBegin) and `begun_` unchanged after (ReadValid) read no apply in
// part: one whose change it read any of had begun before its ReadValid
// (the writer's release fence, before its changes, and the reader's
// acquire fence, after its reads, synchronize through that counter; every
// change of a count is a read-modify-write, which continues the
// sequence); so either it was counted in the token, and then had ended
// (ended_, read first with acquire, equalled begun_: every apply the token
// counts was done, its changes visible), or the token differs.
// Thread contract: any number of threads, in either role.
class CountsSeqlock {
 public:
  // WRITER: around the count changes of one change set over several
  // namespaces.
  void BeginApply() {
    begun_.fetch_add(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);  // (before the changes)
  }
  void EndApply() { ended_.fetch_add(1, std::memory_order_release); }
  // READER: false while an apply is under way (try again); else *token,
  // for ReadValid after the counts are read.
  bool ReadBegin(uint64_t* token) const {
    const uint64_t ended = ended_.load(std::memory_order_acquire);
    *token = begun_.load(std::memory_order_relaxed);
    return *token == ended;
  }
  // READER: whether the counts read since ReadBegin gave `token` are one
  // state (no apply over several namespaces began meanwhile).
  bool ReadValid(uint64_t token) const {
    std::atomic_thread_fence(std::memory_order_acquire);  // (after the reads)
    return begun_.load(std::memory_order_relaxed) == token;
  }

 private:
  std::atomic<uint64_t> begun_{0};
  std::atomic<uint64_t> ended_{0};
};

// The count changes of several keys over several namespaces, applied at
// once per namespace (an atomic batch; a reader's refresh, whose counts
// move from one state to the next): a count never sees part of the way.
// A namespace must stay alive until its changes are applied: a reader's
// refresh forgets namespaces only after it applied them (DB::Refresh,
// Follower::ForgetGone), the writer's compactor forgets only namespaces no
// batch writes (dropped, their records gone), and the writer's batches
// hold theirs by shared_ptr; except a placeholder
// (recovery's, for keys met before their namespace's create record),
// which the create replaces: its changes are applied just before
// (ApplyFor; the placeholder is nobody's handle, so nobody sees them).
// Thread contract: one thread.
class NsCountDeltas {
 public:
  NamespaceInfo::CountDelta* For(NamespaceInfo* ns) {
    for (auto& d : deltas_) {
      if (d.first == ns) return &d.second;
    }
    deltas_.emplace_back(ns, NamespaceInfo::CountDelta{});
    return &deltas_.back().second;
  }
  // Applies and forgets them; changes of several namespaces inside
  // `lock` (their table's, NamespaceTable::counts_lock), so that a reader
  // of several counts sees all of them or none.
  void Apply(CountsSeqlock* lock) {
    const bool several = deltas_.size() > 1;
    if (several) lock->BeginApply();
    for (const auto& d : deltas_) d.first->ApplyCounts(d.second);
    if (several) lock->EndApply();
    deltas_.clear();
  }
  // Applies and forgets those of ns alone.
  void ApplyFor(NamespaceInfo* ns) {
    for (size_t i = 0; i < deltas_.size(); i++) {
      if (deltas_[i].first != ns) continue;
      ns->ApplyCounts(deltas_[i].second);
      deltas_.erase(deltas_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }

 private:
  std::vector<std::pair<NamespaceInfo*, NamespaceInfo::CountDelta>> deltas_;
};

class NamespaceTable {
 public:
  static constexpr char kDefaultName[] = "default";

  NamespaceTable();
  NamespaceTable(const NamespaceTable&) = delete;
  NamespaceTable& operator=(const NamespaceTable&) = delete;

  // 1..128 bytes of [A-Za-z0-9_.-].
  static Status ValidateName(std::string_view name);

  // Any thread. nullptr if no live namespace has this name.
  std::shared_ptr<NamespaceInfo> Find(std::string_view name) const;
  std::vector<std::shared_ptr<NamespaceInfo>> List() const;
  // Every namespace ever created (dropped ones too), by id.
  std::vector<std::shared_ptr<NamespaceInfo>> AllIncludingDropped() const {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::shared_ptr<NamespaceInfo>> out;
    out.reserve(by_id_.size());
    for (auto& p : by_id_) out.push_back(p.second);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
    return out;
  }
  // By reference: set once in the constructor, never replaced (a copy would
  // bump a shared reference count on every default-namespace call).
  const std::shared_ptr<NamespaceInfo>& Default() const { return default_; }

  // Any thread: whether namespace `id` exists and is not dropped.
  bool IsLive(uint32_t id) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = by_id_.find(id);
    return it != by_id_.end() && !it->second->dropped.load();
  }
  // Any thread. By id (dropped ones included, until forgotten); nullptr
  // if unknown or forgotten.
  NamespaceInfo* ById(uint32_t id) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second.get();
  }
  // Any thread: how many namespaces the table holds (live, and dropped
  // ones not forgotten yet; "default" included).
  size_t held() const {
    std::lock_guard<std::mutex> l(mu_);
    return by_id_.size();
  }
  // WRITER. Registers namespace `id` under `name` (id > 0), with its
  // flags (kNsFlag*) and, for an ordered one, its OrderedIndex if built.
  std::shared_ptr<NamespaceInfo> Create(uint32_t id, const std::string& name, uint32_t flags = 0,
                                        OrderedIndex* ordered = nullptr);
  // WRITER. Marks the namespace dropped and forgets its name.
  void Drop(uint32_t id);
  // WRITER (recovery). The namespace with this id, creating a nameless
  // placeholder if its create record has not been replayed yet (replay is
  // in segment order, and compaction may move a create record after keys
  // of its namespace); Create fills in the name and keeps the counts.
  NamespaceInfo* ByIdOrPlaceholder(uint32_t id) {
    if (NamespaceInfo* info = ById(id)) return info;
    std::lock_guard<std::mutex> l(mu_);
    auto& slot = by_id_[id];
    slot = std::make_shared<NamespaceInfo>(id, std::string());
    RaiseNextId(id);
    return slot.get();
  }
  // WRITER. Removes dropped namespace `id` from the table (REQUIRES: it is
  // dropped, and no record of it is left in any segment, nor an index
  // entry). Handles that hold it keep it alive, dropped.
  void Forget(uint32_t id);
  // WRITER. The id the next Create should use: above every id the table
  // ever held (forgotten ones too).
  uint32_t next_id() const {
    std::lock_guard<std::mutex> l(mu_);
    return next_id_;
  }
  // Any thread: the lock of count changes over several namespaces
  // (CountsSeqlock; NsCountDeltas::Apply, DB::CountKeys).
  CountsSeqlock* counts_lock() const { return &counts_lock_; }

 private:
  mutable CountsSeqlock counts_lock_;
  mutable std::mutex mu_;
  std::shared_ptr<NamespaceInfo> default_;
  std::map<std::string, std::shared_ptr<NamespaceInfo>, std::less<>> by_name_;
  // By id: live namespaces, and dropped ones not forgotten yet.
  std::unordered_map<uint32_t, std::shared_ptr<NamespaceInfo>> by_id_;
  uint32_t next_id_ = 1;  // above every id held or forgotten
  void RaiseNextId(uint32_t id) {  // REQUIRES: mu_ held
    if (id >= next_id_) next_id_ = id + 1;
  }
};

}  // namespace firkin

#endif  // FIRKIN_CORE_KEYSPACE_NAMESPACES_H_
