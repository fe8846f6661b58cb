// NamespaceTable: the namespaces of a database (DESIGN §1): name <-> id,
// whether dropped, and the key counts of each.
//
// Namespace 0 is "default" and always exists. Ids are never reused, so a
// handle to a dropped namespace can never reach a namespace created later
// under the same name.
//
// Thread contract: Find/List/ById take an internal mutex and may be called
// from any thread. Create/Drop/ByIdOrPlaceholder/Forget and
// Stage/Publish/Discard (mutations) are serialized by the caller (the
// database's namespace lock, the compactor's run, a read-only handle's
// refresh, or recovery before the database is shared). A dropped
// NamespaceInfo stays in the table until Forget, which the writer calls
// only once no record of the namespace is left in any segment (compaction
// dropped its create and drop records: Compactor, "namespace records"),
// and a read-only handle once it sees that the writer did so (the segment
// that held the create record went, and no segment carries it again:
// Follower::Retire); handles and operations hold it by shared_ptr, so a
// forgotten one lives on for them, dropped (until 2026-11-28 every
// namespace ever created stayed, about 590 B of RAM per create-and-drop
// cycle; a read-only handle's table kept every one until 2026-11-29). The
// table's slots move when Create or Forget changes it, which is why ById
// locks (until 2026-11-27 a compaction pass read the table unlocked while
// firkin_ns_create grew it: a TSan race, a dangling pointer at worst). A
// pointer ById returns stays valid while the namespace is not forgotten
// (a staged one's: until Publish or Discard, and past Publish as a held
// one's): only the thread that forgets or stages (the writer's compactor,
// a reader's refresh) keeps a pointer from ById past a call.
//   Staging (a read-only handle's refresh: Follower::CatchUp stages,
// Follower::Retire publishes): between Stage and Publish (or Discard),
// Create, Drop and ByIdOrPlaceholder change only what the staging thread
// sees (ById, IsDropped, and the NamespaceInfo objects they make, which
// nobody else holds yet); every other caller (Find, List, IsLive,
// AllIncludingDropped, held, and the `dropped` flag every handle reads)
// sees the table as it was until Publish applies the staged changes in
// one step under the mutex; Discard forgets them (a refresh that failed
// part way). Until 2026-11-29 a refresh applied namespace records as it
// replayed them: other threads listed and opened namespaces of a state
// not published, and lost dropped ones, and a refresh that failed kept
// both (readers_test failed_ns_create, failed_ns_drop, failed_ns_threads).
#ifndef FIRKIN_CORE_KEYSPACE_NAMESPACES_H_
#define FIRKIN_CORE_KEYSPACE_NAMESPACES_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
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

// NamespaceInfo: one namespace of a NamespaceTable: its id, name and
// flags (fixed), whether it is dropped, and its key counts (live_keys,
// ttl_keys, min_expiry) with the TTL seqlock that lets DB::CountKeys read
// them as of a moment no write was part way through.
// Thread contract: any thread reads it; the counts change through
// ApplyCounts (any number of writers at once, each holding the keys'
// decisions it accounts), min_expiry also through a counting walk's
// RaiseMinExpiry; create_seg is written by the replaying thread only.
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
  // The segment whose copy of the create record was replayed last, or
  // that a version-8 checkpoint placed it in (0: not known: made by this
  // process, or loaded from a version-7 checkpoint until a read-only
  // handle's refresh finds the record in a segment that goes).
  // A read-only handle's refresh tells by it that the writer compacted the
  // create record away, which it does only after a durable drop, and then
  // forgets the namespace (Follower::Retire). Written by the replaying
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
  // Where the copy of its create record that the byte counts hold live
  // lies (Keyspace::CountLive): the locator, the id of the segment it was
  // taken in (a locator names a slot, which a retired segment hands on)
  // and the record's size; loc 0: none counted live that is known (not
  // known after the load of a version-7 checkpoint until a pass copies
  // the record, and none once counted dead). Set where the record is
  // written (DB::CreateNamespace), replayed (Replayer) or loaded from a
  // checkpoint, which records it (version 8: DB::Checkpoint,
  // InstallCheckpoint; until 2026-11-29 a checkpoint load left it unknown
  // and the drop left the record counted live: ns_churn_test ckpt_drop),
  // moved to its copy by
  // the pass that copies it (Compactor::RunPass, before the inputs
  // retire), and taken at the drop, which counts that copy dead
  // (DB::DropNamespace, the replay of the drop record), wherever it lies:
  // until 2026-11-29 a dropped namespace's create record counted live in
  // a log segment or output until a pass took that segment, and one
  // beside live data (under compact_dead_ratio) was never taken: the
  // table held every such namespace for good (ns_churn_test
  // interleaved). Written by the writer under its retire mutex once the
  // namespace is shared (the drop and the pass both hold it), by the
  // replaying thread, or by the creating thread before the record is
  // sealed (no pass reads it earlier).
  std::atomic<uint64_t> create_loc{0};
  std::atomic<uint64_t> create_loc_seg{0};
  std::atomic<uint32_t> create_size{0};
  // A number at or above its drop record's (0: not dropped, or not
  // known): the drop record's, or for one dropped when a checkpoint was
  // written, that checkpoint's last number. Every record of the namespace
  // is numbered at or below it, so a segment whose smallest number is
  // above it holds none (Compactor::PickNsPartners, which can then tell
  // that the active segment holds none). Set by the drop
  // (DB::DropNamespace, under the retire mutex), the replay of its record
  // or the checkpoint load; read by the writer's compactor (a read-only
  // handle's refresh sets it too, and its undo leaves it: nothing there
  // reads it).
  std::atomic<uint64_t> drop_seq{0};
  void SetCreateCopy(uint64_t loc, uint64_t seg, uint32_t size) {
    create_size.store(size, std::memory_order_relaxed);
    create_loc_seg.store(seg, std::memory_order_relaxed);
    create_loc.store(loc, std::memory_order_relaxed);
  }
  // Takes the copy counted live (false if none is known): the caller
  // counts it dead.
  bool TakeCreateCopy(uint64_t* loc, uint64_t* seg, uint32_t* size) {
    *loc = create_loc.exchange(0, std::memory_order_relaxed);
    *seg = create_loc_seg.load(std::memory_order_relaxed);
    *size = create_size.load(std::memory_order_relaxed);
    return *loc != 0;
  }
  // Keys whose newest record is a put (an expired one included, until
  // compaction drops it). (From here on a line away from `dropped`, which
  // every read loads: inserts and deletes write these.)
  alignas(64) std::atomic<int64_t> live_keys{0};
  // Of those, the keys whose newest put carries an expiry (TTL).
  std::atomic<int64_t> ttl_keys{0};
  // No key of ttl_keys expires before this: a lower bound, lowered by every
  // change that puts a key with an expiry and raised only by a counting
  // walk that saw every such key (DB::CountKeys, RaiseMinExpiry).
  // UINT64_MAX: none. Mutable: a cache that readers may raise.
  mutable std::atomic<uint64_t> min_expiry{UINT64_MAX};
  // The TTL seqlock (ReadCounts), one word: above bit 32, how many
  // changes that involve a key with an expiry (ApplyCounts) and raises of
  // min_expiry (RaiseMinExpiry) have begun (mod 2^32); below it, how many
  // of them are under way (at most one per thread: never a carry). A
  // change that involves none (a put or delete of keys without an
  // expiry, the hot path) only adds to live_keys, as before. The begun
  // count also tells a counting walk whether such a change began while it
  // walked (RaiseMinExpiry; a walk would have to last 2^32 of them to be
  // fooled).
  mutable std::atomic<uint64_t> ttl_changes{0};
  static constexpr uint64_t kTtlBegun = uint64_t{1} << 32;
  static constexpr uint64_t kTtlUnderWay = 1;
  static uint32_t TtlBegun(uint64_t w) { return static_cast<uint32_t>(w >> 32); }
  static bool TtlUnderWay(uint64_t w) { return static_cast<uint32_t>(w) != 0; }

  // What the newest records of some keys changing does to live_keys,
  // ttl_keys and min_expiry: a write, an atomic batch or a refresh adds it
  // up over its keys and applies it once (ApplyCounts), so that a count
  // never sees part of one.
  struct CountDelta {
    int64_t live = 0, ttl = 0;
    uint64_t expiry = UINT64_MAX;  // the lowest expiry put (UINT64_MAX: none)
  };
  // One key's newest record goes from (was_put, was_expiry) to (is_put,
  // expiry); an expiry of 0 is none. Called by whoever holds the key's
  // decision (its sub-table lock, or recovery); changes nothing shared.
  static void AccountKey(CountDelta* d, bool was_put, uint64_t was_expiry, bool is_put,
                         uint64_t expiry) {
    if (is_put != was_put) d->live += is_put ? 1 : -1;
    const bool was_ttl = was_put && was_expiry != 0;
    const bool is_ttl = is_put && expiry != 0;
    if (is_ttl != was_ttl) d->ttl += is_ttl ? 1 : -1;
    if (is_ttl) d->expiry = std::min(d->expiry, expiry);
  }
  // Applies d. A change of one word (live_keys or ttl_keys alone, no put
  // with an expiry) is one add: a count reads it before or after. Any
  // other goes inside the TTL seqlock: begun and under way (seq_cst:
  // before the bound is lowered, as RaiseMinExpiry needs), the bound, the
  // counts, then no longer under way. One that only lowers the bound
  // (puts with an expiry over keys that had one: the common TTL put) is
  // begun and ended in one add before it: the bound alone is one word.
  //   Why not just an order of the adds (raise ttl_keys before live_keys,
  // lower live_keys before ttl_keys): the count's loads would then have to
  // come in the opposite order of both, live then ttl for a key that comes
  // (its live add seen, so its ttl add too) and ttl then live for one that
  // goes (its ttl drop seen, so its live drop too). Loading ttl, live, ttl
  // gets each single change right, but not two changes of one key that
  // both land between the count's loads: a put of an expired key (live
  // and ttl up) after the first ttl load, then compaction dropping it
  // (live and ttl down) before the second: live holds the key, neither
  // ttl load does, and the count takes live_keys past an expired key. Nor
  // does it cover min_expiry, which a walk raises and takes back (below).
  // Until 2026-11-29 live_keys went up first and a count could read
  // between the two adds: ttl_test count_expired_put.
  void ApplyCounts(const CountDelta& d) {
    const bool puts_expiry = d.expiry != UINT64_MAX;
    const int words = (d.live != 0) + (d.ttl != 0);
    if (!puts_expiry && words <= 1) {
      if (d.live != 0) live_keys.fetch_add(d.live, std::memory_order_relaxed);
      if (d.ttl != 0) ttl_keys.fetch_add(d.ttl, std::memory_order_relaxed);
      return;
    }
    if (words == 0) {
      ttl_changes.fetch_add(kTtlBegun);
      NoteMinExpiry(d.expiry);
      return;
    }
    ttl_changes.fetch_add(kTtlBegun + kTtlUnderWay);
    std::atomic_thread_fence(std::memory_order_release);  // (before the changes)
    if (puts_expiry) NoteMinExpiry(d.expiry);
    if (d.live != 0) live_keys.fetch_add(d.live, std::memory_order_relaxed);
    if (d.ttl != 0) ttl_keys.fetch_add(d.ttl, std::memory_order_relaxed);
    ttl_changes.fetch_sub(kTtlUnderWay, std::memory_order_release);
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
  // (A seq_cst first load: one that follows a walk's raise in the total
  // order sees it; RaiseMinExpiry.)
  void NoteMinExpiry(uint64_t e) const {
    uint64_t cur = min_expiry.load();
    while (e < cur && !min_expiry.compare_exchange_weak(cur, e)) {
    }
  }

  // One reading of the counts for DB::CountKeys.
  struct CountsRead {
    int64_t live = 0, ttl = 0;
    uint64_t bound = UINT64_MAX;  // min_expiry
    uint32_t begun = 0;           // TtlBegun (RaiseMinExpiry's `begun`)
  };
  // Reads the counts and the bound as no change with an expiry and no
  // raise of the bound left them part way: false (read again) if one was
  // under way or began meanwhile. The proof is CountsSeqlock's (below),
  // per namespace, with the two counters in one word: a reading that saw
  // any effect of such a change saw it begin (the writer's release fence
  // before its changes, the acquire fence here after the reads), so the
  // word moved, unless the change had begun before the first load; then,
  // none under way there (each begins and ends in the word's order), it
  // had ended, and every effect of it was seen (the acquire load read its
  // release end or a later add). A change of one word is seen whole or
  // not at all anyway. Changes without an expiry are single adds to
  // live_keys: `live` is live_keys at the moment of its load, whose keys
  // with an expiry are those of ttl_keys and min_expiry, none of which
  // moved part way while they were read. So when no key counted may have
  // expired (ttl 0, or `bound` ahead of the clock), `live` is the number
  // of keys that existed at that moment.
  bool ReadCounts(CountsRead* r) const {
    const uint64_t w = ttl_changes.load(std::memory_order_acquire);
    if (TtlUnderWay(w)) return false;
    r->begun = TtlBegun(w);
    r->live = live_keys.load(std::memory_order_relaxed);
    r->ttl = ttl_keys.load(std::memory_order_relaxed);
    r->bound = min_expiry.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);  // (after the reads)
    return ttl_changes.load(std::memory_order_relaxed) == w;
  }
  // A counting walk that began with TtlBegun at `begun` and min_expiry at
  // `from` (a CountsRead), and saw every key's newest record, found no
  // expiry below `to`: raises the bound to it, unless a change with an
  // expiry began since (it may be one the walk missed, with an expiry
  // below `to`). Inside the TTL seqlock, so that no count reads a raise
  // that is taken back. A change that begins after this one's begin is
  // seen below, and the old bound comes back; one that begins after that
  // check lowers the bound after the raise (NoteMinExpiry's seq_cst load,
  // after its seq_cst begin, follows the raise in the total order). Two
  // walks raising at once each see the other's begin and both give up
  // (the next walk raises).
  void RaiseMinExpiry(uint64_t from, uint64_t to, uint32_t begun) const {
    const uint64_t mine = ttl_changes.fetch_add(kTtlBegun + kTtlUnderWay);
    std::atomic_thread_fence(std::memory_order_release);  // (before the changes)
    uint64_t expected = from;
    if (TtlBegun(mine) == begun && min_expiry.compare_exchange_strong(expected, to) &&
        TtlBegun(ttl_changes.load()) != static_cast<uint32_t>(begun + 1)) {
      NoteMinExpiry(from);
    }
    ttl_changes.fetch_sub(kTtlUnderWay, std::memory_order_release);
  }
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
// (Also a read-only handle's refresh cut, DB::refresh_cut_: the change
// set there is a refresh's index removals, count changes and publication,
// and the readers are counting walks.)
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
// move from one state to the next): a count never sees part of the way
// (nor does it see the expiry bound lowered for keys it does not count:
// the bound goes with the counts, NamespaceInfo::ApplyCounts).
// A namespace must stay alive until its changes are applied: a reader's
// refresh forgets namespaces only after it applied them (DB::Refresh,
// Follower::ForgetGone), the writer's compactor forgets only namespaces no
// batch writes (dropped, their records gone), and the writer's batches
// hold theirs by shared_ptr. A placeholder (for keys a refresh met before
// their namespace's create record), which the create replaces, keeps its
// counts as they were: its changes move to the namespace that replaces it
// (Move), applied with the rest (until 2026-11-29 they were applied to
// the placeholder just before the create copied its counts: a refresh that
// failed after left the namespace counting keys it took back, and the
// next one counted them again: readers_test failed_ns_placeholder, 1800
// of 900).
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
  // Forgets them, applying none (an atomic batch taken back,
  // DB::ApplyBatch). Never allocates.
  void Clear() noexcept { deltas_.clear(); }
  // The changes noted for `from` become `to`'s (added to any it has).
  // `from` is only compared, never read.
  void Move(const NamespaceInfo* from, NamespaceInfo* to) {
    for (size_t i = 0; i < deltas_.size(); i++) {
      if (deltas_[i].first != from) continue;
      const NamespaceInfo::CountDelta d = deltas_[i].second;
      deltas_.erase(deltas_.begin() + static_cast<std::ptrdiff_t>(i));
      NamespaceInfo::CountDelta* t = For(to);
      t->live += d.live;
      t->ttl += d.ttl;
      t->expiry = std::min(t->expiry, d.expiry);
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
  // Every namespace held (dropped ones too, until forgotten), by id.
  // (Neither these three nor IsLive or held see staged changes.)
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
  // if unknown or forgotten. While changes are staged, the staged
  // namespace of that id if there is one (the staging thread's view: only
  // it asks then).
  NamespaceInfo* ById(uint32_t id) const {
    std::lock_guard<std::mutex> l(mu_);
    return LookupLocked(id);
  }
  // Any thread: whether namespace `id` is known and dropped; while changes
  // are staged, in the staging thread's view (a staged drop counts).
  bool IsDropped(uint32_t id) const {
    std::lock_guard<std::mutex> l(mu_);
    const NamespaceInfo* info = LookupLocked(id);
    return info != nullptr &&
           (info->dropped.load(std::memory_order_acquire) || staged_drops_.count(id) != 0);
  }
  // Any thread: how many namespaces the table holds (live, and dropped
  // ones not forgotten yet; "default" included).
  size_t held() const {
    std::lock_guard<std::mutex> l(mu_);
    return by_id_.size();
  }
  // WRITER. Registers namespace `id` under `name` (id > 0), with its
  // flags (kNsFlag*) and, for an ordered one, its OrderedIndex if built.
  // One already held under that name is returned as it is (replayed
  // again). One that replaces a placeholder takes its counts and whether
  // it was dropped. Staged: held by the table and visible to others only
  // from Publish (the placeholder it replaces stays alive until then).
  std::shared_ptr<NamespaceInfo> Create(uint32_t id, const std::string& name, uint32_t flags = 0,
                                        OrderedIndex* ordered = nullptr);
  // WRITER. Marks the namespace dropped and forgets its name. Staged: a
  // namespace others see is marked, and loses its name, at Publish.
  void Drop(uint32_t id);
  // WRITER (recovery, a refresh). The namespace with this id, creating a
  // nameless placeholder if its create record has not been replayed yet
  // (replay is in segment order, and compaction may move a create record
  // after keys of its namespace); Create fills in the name and keeps the
  // counts. Staged: a new placeholder is staged too.
  NamespaceInfo* ByIdOrPlaceholder(uint32_t id) {
    std::lock_guard<std::mutex> l(mu_);
    if (NamespaceInfo* info = LookupLocked(id)) return info;
    auto& slot = staging_ ? staged_[id] : by_id_[id];
    slot = std::make_shared<NamespaceInfo>(id, std::string());
    RaiseNextId(id);
    return slot.get();
  }
  // WRITER. Removes dropped namespace `id` from the table (REQUIRES: it is
  // dropped, and no record of it is left in any segment, nor an index
  // entry; nothing staged). Handles that hold it keep it alive, dropped.
  void Forget(uint32_t id);
  // WRITER (a read-only handle's refresh). From here to Publish or
  // Discard, Create, Drop and ByIdOrPlaceholder are staged (see the class
  // comment). REQUIRES: nothing staged.
  void Stage();
  // WRITER. Applies what was staged, as one change under the mutex: the
  // drops first (marked dropped, names freed), then the namespaces made
  // (each takes its name as Create would: not dropped, no namespace of a
  // higher id holding it), and ends the staging.
  void Publish();
  // WRITER. Forgets what was staged and ends the staging: the table is as
  // it was at Stage (ids aside: next_id stays raised, which only the
  // writer uses). The NamespaceInfo objects it made die with their last
  // holder.
  void Discard();
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
  // Staging (Stage to Publish or Discard): the namespaces made (created,
  // or placeholders; dropped ones marked in place: nobody else holds
  // them), the ids of held namespaces dropped, and the staged namespaces
  // a later Create replaced (kept alive until the end: a refresh's count
  // deltas may still name them until it moves them, NsCountDeltas::Move).
  bool staging_ = false;
  std::map<uint32_t, std::shared_ptr<NamespaceInfo>> staged_;
  std::set<uint32_t> staged_drops_;
  std::vector<std::shared_ptr<NamespaceInfo>> staged_replaced_;
  // REQUIRES: mu_ held. The staged namespace of `id`, else the held one.
  NamespaceInfo* LookupLocked(uint32_t id) const {
    if (auto it = staged_.find(id); it != staged_.end()) return it->second.get();
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second.get();
  }
  // REQUIRES: mu_ held. Gives `info` (held in by_id_) its name, unless it
  // is dropped or a namespace of a higher id holds the name.
  void NameLocked(const std::shared_ptr<NamespaceInfo>& info);
  // REQUIRES: mu_ held. Marks `info` dropped and frees its name.
  void DropLocked(const std::shared_ptr<NamespaceInfo>& info);
  void RaiseNextId(uint32_t id) {  // REQUIRES: mu_ held
    if (id >= next_id_) next_id_ = id + 1;
  }
};

}  // namespace firkin

#endif  // FIRKIN_CORE_KEYSPACE_NAMESPACES_H_
