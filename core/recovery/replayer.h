// Replayer: applies log records to a keyspace and a namespace table, one
// segment at a time: newest sequence number wins, a batch applies only
// with its commit marker, namespace records create and drop. Used by open
// (recovery.cc) and by a read-only handle catching up with a live writer
// (follower.cc).
//
// Thread contract: one Replayer is used by one thread. Without
// `concurrent`, it REQUIRES that nothing else uses the keyspace (recovery,
// before the database is shared). With `concurrent`, other threads may
// read the keyspace meanwhile (lock-free readers): each install is made
// under its key's index sub-table lock, and the caller hides the records
// from readers by sequence number until it publishes the new state, and
// the namespace records' changes by staging them in the table
// (NamespaceTable::Stage; it publishes them with the new state); with a
// journal (set_journal), Undo takes the index changes back, and those of
// the namespaces' own fields (a catch-up that failed part way: nothing it
// installed stays; the caller discards the staged namespaces).
#ifndef FIRKIN_CORE_RECOVERY_REPLAYER_H_
#define FIRKIN_CORE_RECOVERY_REPLAYER_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/keyspace/keyspace.h"
#include "core/keyspace/namespaces.h"
#include "core/log/format.h"
#include "core/log/log_reader.h"
#include "core/recovery/recovery.h"
#include "core/util/coding.h"

namespace firkin {

class Replayer {
 public:
  // concurrent: see the thread contract. Also makes a copy written by
  // compaction (same sequence number as the record the index holds) take
  // over the index entry, so that the copied-from segment can go.
  Replayer(Keyspace* ks, NamespaceTable* ns, RecoveryResult* res, bool concurrent = false)
      : ks_(ks), ns_(ns), res_(res), concurrent_(concurrent) {}
  // The namespaces' key counts change in `counts` (applied by the caller
  // when it publishes the new state) instead of at once. REQUIRES: the
  // namespace table stages (a placeholder the create replaces must live
  // on until its changes moved: NsCountDeltas::Move).
  void set_counts(NsCountDeltas* counts) { counts_ = counts; }
  // Every index entry the replay changes is noted first (with
  // `concurrent`: a read-only handle's catch-up), so that Undo can put it
  // back. One entry per record installed, kept until Undo or the end.
  void set_journal() { journal_on_ = true; }
  // Puts every entry noted back as it was before the replay changed it
  // (newest change first), in the hash index and the ordered ones; an
  // entry changed since by someone else stays; and the fields of the
  // namespaces its namespace records changed (create_seg, seg_floor, the
  // create copy). Records the replay counted live or dead and the count
  // changes in set_counts' deltas are not taken back (the caller discards
  // the deltas), nor the namespaces it created or dropped (staged: the
  // caller discards them, NamespaceTable::Discard, after this) or the
  // ordered index it made for one (its entries above the published state
  // go back with the rest; nothing reads it before the namespace is
  // published, and a later replay of the create takes it again and fills
  // it: Keyspace::MakeOrdered, FillOrdered).
  // REQUIRES: an Epoch::Guard, the segments the replay installed records
  // of still in the table, and the namespaces it changed still alive.
  void Undo() {
    for (auto it = ns_journal_.rbegin(); it != ns_journal_.rend(); ++it) {
      NamespaceInfo* info = it->info;
      info->create_seg.store(it->create_seg, std::memory_order_relaxed);
      info->seg_floor.store(it->seg_floor, std::memory_order_relaxed);
      info->SetCreateCopy(it->create_loc, it->create_loc_seg, it->create_size);
    }
    ns_journal_.clear();
    for (auto it = journal_.rbegin(); it != journal_.rend(); ++it) {
      HashIndex::ShardGuard lock(&ks_->index(), it->h);
      if (!ks_->index().ReplaceIf(it->h, it->after, it->before)) continue;
      if (OrderedIndex* ord = ks_->OrderedFor(it->ns)) {
        RecordView r;
        std::string scratch;
        if (ks_->ResolveBounded(it->after, &r) != nullptr) {
          ord->Replace(ks_->Key(r, &scratch), it->before);
        }
      }
    }
    journal_.clear();
  }

  // `key`: r's key if the caller has it authenticated already
  // (LogReader::authenticated_key), else nullptr (decrypted here).
  void Apply(Segment* seg, uint64_t off, const RecordView& r, const std::string* key = nullptr) {
    res_->records++;
    if (r.expiry() != 0) seg->NoteExpiry(r.expiry());  // TTL: compaction reclaims
    const Locator loc = MakeLocator(seg->slot(), off);
    if (r.type == RecordType::kCompactInputs || r.type == RecordType::kCompactDone) {
      // Bookkeeping of compaction (handled before replay), no version: it
      // does not lower the segment's min_seq. Counted live: needed while
      // the output holds copies, and an output that kept nothing (Done
      // right after Inputs) is never picked alone either: the next pass
      // takes it along (Compactor::MarkerOnly), as the compactor counts it.
      // (Until 2026-11-27 those were counted dead, reclaimable alone.)
      ks_->CountLive(loc, r.size());
      // The done marker's prev: the highest number its inputs held
      // (Compactor::WriteOutput; 0 from older libraries).
      // Its time: the newest commit its inputs held (a refresh over an
      // output whose pass dropped the newest commits; the fifth code
      // review). Encrypted: the time only if the marker's MAC holds
      // (docs/format.md, "Authenticated header values"): anyone can write
      // a marker with a fitting checksum and any time; one whose MAC is
      // missing (an older library's) or wrong says nothing of the time.
      // The number is taken whatever the MAC says: a number forged up
      // costs numbers, one left out would let them go back and be given
      // out again (a code review zeroed a MAC and the next write reused
      // number 51; the segment header's floor is not authenticated
      // either, so up is open to a forger anyway).
      if (r.type == RecordType::kCompactDone) {
        const bool authentic =
            !ks_->codec().sealing() ||
            DoneMarkerMac(seg->data(), off + r.size(), off, ks_->codec().cipher()) ==
                HeaderMac::kValid;
        // (Not past kMaxUnauthenticatedSeq where the MAC does not hold: a
        // number forged near 2^64 would wrap the next ones to 0.)
        if (authentic || r.prev <= kMaxUnauthenticatedSeq) {
          res_->last_seq = std::max(res_->last_seq, r.prev);
        }
        if (authentic) res_->newest_time = std::max(res_->newest_time, r.time());
      }
      return;
    }
    seg->NoteSeq(r.seq);
    // The newest commit time replayed. In an encrypted database only a
    // sealed (authenticated) record's counts: a commit record is not
    // sealed, and one forged with a fitting checksum must not move the
    // clock (a batch's records carry its time; a failed CAS's filler need
    // not count).
    if (!ks_->codec().sealing() || (r.flags & kRecordFlagSealed) != 0) {
      res_->newest_time = std::max(res_->newest_time, r.time());
    }
    if (r.counter() != 0) seg->NoteInPlaceSeq(r.seq);
    res_->last_seq = std::max(res_->last_seq, r.seq);
    const bool copy = (seg->flags() & kSegmentFlagCompacted) != 0;
    // A batch's records wait for its commit record (BatchRule, shared with
    // verify): applied with it, or discarded.
    const bool held = batch_.Feed(
        r, Pending{loc, r},
        [&](std::vector<Pending>& batch) {
          for (auto& [l, pr] : batch) ApplyKV(l, pr, copy);
        },
        [&](std::vector<Pending>& batch) { Discard(batch); });
    if (held) return;
    switch (r.type) {
      case RecordType::kPut:
      case RecordType::kDelete:
        ApplyKV(loc, r, copy, key);
        break;
      case RecordType::kCommit:
        ks_->CountDeadOnly(loc, r.size());
        break;
      case RecordType::kNsCreate: {
        memo_id_ = UINT32_MAX;  // (Dropped's memo: the table changes)
        // The value holds the namespace flags (format version 4; empty
        // before). An ordered namespace replayed once the ordered indexes
        // are built (a read-only handle's refresh) gets its own now; at
        // open they are built after recovery (Keyspace::BuildOrdered).
        // A sealed record (encrypted database) is opened, authenticated:
        // the name and flags define the namespace.
        std::string plain;
        Status os = ks_->codec().Open(r, &plain);
        if (!os.ok()) {
          if (status_.ok()) status_ = os;
          break;
        }
        const uint32_t flags =
            r.value_len >= 4 ? DecodeU32(plain.data() + r.key_len) & kNsFlagsKnown : 0;
        OrderedIndex* ord = (flags & kNsFlagOrdered) != 0 && ks_->ordered_live()
                                ? ks_->MakeOrdered(r.ns_id)
                                : nullptr;
        // A placeholder (a refresh replays a compaction output holding the
        // create after the log segments with the keys): the create copies
        // its counts, and its count changes move to the namespace that
        // replaces it (until 2026-11-29 they were applied to it just
        // before the create copied its counts: a refresh that failed after
        // left the namespace counting keys it took back, readers_test
        // failed_ns_placeholder; before that the count lost them, and was
        // applied to freed memory; review of the session's change).
        const NamespaceInfo* ph = counts_ != nullptr ? ns_->ById(r.ns_id) : nullptr;
        if (ph != nullptr && !ph->name.empty()) ph = nullptr;
        const std::shared_ptr<NamespaceInfo> info =
            ns_->Create(r.ns_id, plain.substr(0, r.key_len), flags, ord);
        if (ph != nullptr && ph != info.get()) counts_->Move(ph, info.get());
        NoteNs(info.get());
        // (Where its create record lies: a refresh tells by it that the
        // writer compacted the record away, Follower::CatchUp.)
        info->create_seg.store(seg->id(), std::memory_order_relaxed);
        // A create record in a log segment lies where it was written: no
        // record of the namespace is in a segment of a lower id
        // (NamespaceInfo::seg_floor). A copy in a compaction output says
        // nothing of the sort (the log segments after the original may
        // have lower ids than the output).
        if ((seg->flags() & kSegmentFlagCompacted) == 0) {
          info->seg_floor.store(seg->id(), std::memory_order_relaxed);
        }
        // Keys of it met before its creation (a refresh replays a
        // compaction output, which may carry the creation, after the log
        // segments that followed it) are in the hash index only.
        if (ord != nullptr) ks_->FillOrdered(r.ns_id, ord);
        // The create record of a namespace whose drop was replayed already
        // (a compaction output that kept both) counts dead, as the pass
        // that kept it counted it (Compactor::BuildPlan); one replayed
        // before its drop stays live. (The drop may be staged.)
        if (ns_->IsDropped(r.ns_id)) {
          ks_->CountDeadOnly(loc, r.size());
        } else {
          ks_->CountLive(loc, r.size());
          // (Counted dead when its drop is replayed, wherever it lies:
          // NamespaceInfo::create_loc.)
          info->SetCreateCopy(loc, seg->id(), static_cast<uint32_t>(r.size()));
        }
        break;
      }
      case RecordType::kNsDrop: {
        memo_id_ = UINT32_MAX;
        ns_->Drop(r.ns_id);
        dropped_any_ = true;
        ks_->CountDeadOnly(loc, r.size());  // (as DB::AppendNamespaceRecord counts it)
        // Its create record replayed before it counts dead from here on,
        // as DB::DropNamespace counts it.
        if (NamespaceInfo* info = ns_->ById(r.ns_id)) {
          NoteNs(info);
          info->drop_seq.store(r.seq, std::memory_order_relaxed);  // (the writer's compactor)
          uint64_t cloc = 0, cseg = 0;
          uint32_t csize = 0;
          if (info->TakeCreateCopy(&cloc, &cseg, &csize)) ks_->CountDeadIn(cloc, cseg, csize);
        }
        break;
      }
      default:
        break;
    }
  }

  void Finish() {
    batch_.Finish([&](std::vector<Pending>& batch) { Discard(batch); });
  }
  // The number of a batch some of whose records were met, but not its
  // commit record (0 if none): at the end of a segment, a batch that the
  // end of its records cut short. Its number counts in last_seq (records
  // carry it) although none of the batch is applied.
  uint64_t pending_batch() const { return batch_.pending(); }
  bool dropped_any() const { return dropped_any_; }
  // Not OK if a sealed namespace record failed authentication (its bytes
  // pass their checksum, so it was changed on purpose or by a bad key).
  const Status& status() const { return status_; }

 private:
  using Pending = std::pair<Locator, RecordView>;

  void Discard(const std::vector<Pending>& batch) {
    for (auto& [l, pr] : batch) ks_->CountDeadOnly(l, pr.size());
    res_->discarded_batch_records += batch.size();
  }

  void ApplyKV(Locator loc, const RecordView& r, bool copy, const std::string* known = nullptr) {
    // A namespace id is never used again: a record of a namespace already
    // dropped is dead. (A reader's refresh may meet, after the drop, a
    // compaction output the writer named later, holding the namespace's
    // records copied while it was live: installed, they stayed in the
    // index for good, since only a refresh that replays a drop purges.
    // Found by review: verify on a reader following namespace churn.)
    if (Dropped(r.ns_id)) {
      ks_->CountDeadOnly(loc, r.size());
      return;
    }
    std::string kb;
    const std::string_view key = known != nullptr ? std::string_view(*known) : ks_->Key(r, &kb);
    uint64_t h = ks_->Hash(r.ns_id, key);
    if (concurrent_) {
      HashIndex::ShardGuard lock(&ks_->index(), h);
      ApplyKVLocked(h, key, loc, r, copy);
    } else {
      ApplyKVLocked(h, key, loc, r, copy);
    }
  }

  // Whether namespace id is known and dropped (its drop staged
  // included). The table's answer for the last id asked is kept (one
  // lookup, under the table's mutex, per run of records of one namespace,
  // not per record) until a namespace record changes the table (only this
  // replay changes it meanwhile).
  bool Dropped(uint32_t id) {
    if (id != memo_id_) {
      memo_id_ = id;
      memo_ = ns_->IsDropped(id);
    }
    return memo_;
  }

  void ApplyKVLocked(uint64_t h, std::string_view key, Locator loc, const RecordView& r,
                     bool copy) {
    RecordView old;
    Locator old_loc = ks_->FindNewest(h, r.ns_id, key, &old);
    if (old_loc != 0 && old.seq >= r.seq && ks_->Trusted(old, /*check_all=*/true)) {
      if (concurrent_ && copy && old.seq == r.seq && old_loc != loc) {
        // Compaction's copy of the record the index holds: same bytes, and
        // the original's segment is about to be retired. Counts stay.
        Note(h, old_loc, loc, r.ns_id);
        ks_->Install(h, old_loc, old.size(), loc, r.size(), ks_->OrderedFor(r.ns_id), key);
        return;
      }
      // An older version met after a newer one (compaction output).
      ks_->CountDeadOnly(loc, r.size());
      return;
    }
    if (NamespaceInfo* info = ns_->ByIdOrPlaceholder(r.ns_id)) {
      const bool was_live = old_loc != 0 && old.type == RecordType::kPut;
      const bool is_live = r.type == RecordType::kPut;
      info->AccountInto(counts_ != nullptr ? counts_->For(info) : nullptr, was_live,
                        was_live ? old.expiry() : 0, is_live, r.expiry());
    }
    Note(h, old_loc, loc, r.ns_id);
    ks_->Install(h, old_loc, old_loc ? old.size() : 0, loc, r.size(), ks_->OrderedFor(r.ns_id),
                 key);
  }

  // An index change about to be made, for Undo (before it: a note that
  // cannot be made throws before the change; one whose change then threw
  // finds the entry unchanged and is passed over).
  struct Change {
    uint64_t h;
    Locator before, after;
    uint32_t ns;
  };
  void Note(uint64_t h, Locator before, Locator after, uint32_t ns) {
    if (journal_on_) journal_.push_back(Change{h, before, after, ns});
  }
  bool journal_on_ = false;
  std::vector<Change> journal_;
  // A namespace's fields as they were before a namespace record changed
  // them, for Undo.
  struct NsChange {
    NamespaceInfo* info;
    uint64_t create_seg, seg_floor, create_loc, create_loc_seg;
    uint32_t create_size;
  };
  void NoteNs(NamespaceInfo* info) {
    if (!journal_on_) return;
    ns_journal_.push_back(NsChange{info, info->create_seg.load(std::memory_order_relaxed),
                                   info->seg_floor.load(std::memory_order_relaxed),
                                   info->create_loc.load(std::memory_order_relaxed),
                                   info->create_loc_seg.load(std::memory_order_relaxed),
                                   info->create_size.load(std::memory_order_relaxed)});
  }
  std::vector<NsChange> ns_journal_;

  Keyspace* ks_;
  NamespaceTable* ns_;
  // Dropped's memo: its answer for memo_id_.
  uint32_t memo_id_ = UINT32_MAX;
  bool memo_ = false;
  RecoveryResult* res_;
  const bool concurrent_;
  NsCountDeltas* counts_ = nullptr;
  BatchRule<Pending> batch_;
  bool dropped_any_ = false;
  Status status_;
  // The last compaction input-list marker replayed (an output that kept
  // nothing has its Done marker right after it).
};

}  // namespace firkin

#endif  // FIRKIN_CORE_RECOVERY_REPLAYER_H_
