#include "core/recovery/recovery.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "core/keyspace/keyspace.h"
#include "core/keyspace/namespaces.h"
#include "core/keyspace/options.h"
#include "core/recovery/checkpoint.h"
#include "core/util/epoch.h"

namespace firkin {
namespace {

// Replays records into the keyspace, one segment at a time.
class Replayer {
 public:
  Replayer(Keyspace* ks, NamespaceTable* ns, RecoveryResult* res)
      : ks_(ks), ns_(ns), res_(res) {}

  void Apply(Segment* seg, uint64_t off, const RecordView& r) {
    res_->records++;
    seg->NoteSeq(r.seq);
    if (r.type == RecordType::kCompactInputs || r.type == RecordType::kCompactDone) {
      // Needed bookkeeping, never reclaimable on its own: counted live.
      seg->live_bytes.fetch_add(r.size(), std::memory_order_relaxed);
      return;  // bookkeeping of compaction, handled before replay
    }
    res_->last_seq = std::max(res_->last_seq, r.seq);
    Locator loc = MakeLocator(seg->slot(), off);
    switch (r.type) {
      case RecordType::kPut:
      case RecordType::kDelete:
        if (r.is_batch()) {
          if (!pending_.empty() && pending_seq_ != r.seq) DiscardPending();
          pending_seq_ = r.seq;
          pending_.emplace_back(loc, r);
        } else {
          DiscardPending();
          ApplyKV(loc, r);
        }
        break;
      case RecordType::kCommit: {
        uint32_t count = r.value_len >= 4 ? DecodeU32(r.value().data()) : 0;
        if (!pending_.empty() && pending_seq_ == r.seq && pending_.size() == count) {
          for (auto& [l, pr] : pending_) ApplyKV(l, pr);
          pending_.clear();
        } else {
          DiscardPending();
        }
        seg->dead_bytes.fetch_add(r.size(), std::memory_order_relaxed);
        break;
      }
      case RecordType::kNsCreate:
        DiscardPending();
        ns_->Create(r.ns_id, std::string(r.key()));
        seg->live_bytes.fetch_add(r.size(), std::memory_order_relaxed);
        break;
      case RecordType::kNsDrop:
        DiscardPending();
        ns_->Drop(r.ns_id);
        dropped_any_ = true;
        seg->live_bytes.fetch_add(r.size(), std::memory_order_relaxed);
        break;
      default:
        break;
    }
  }

  void Finish() { DiscardPending(); }
  bool dropped_any() const { return dropped_any_; }

 private:
  void DiscardPending() {
    for (auto& [l, pr] : pending_) ks_->segments().BySlot(LocatorSlot(l))->dead_bytes +=
        pr.size();
    res_->discarded_batch_records += pending_.size();
    pending_.clear();
  }

  void ApplyKV(Locator loc, const RecordView& r) {
    uint64_t h = ks_->Hash(r.ns_id, r.key());
    RecordView old;
    Locator old_loc = ks_->FindNewest(h, r.ns_id, r.key(), &old);
    if (old_loc != 0 && old.seq >= r.seq && RecordChecksumOk(old)) {
      // An older version met after a newer one (compaction output).
      ks_->segments().BySlot(LocatorSlot(loc))->dead_bytes += r.size();
      return;
    }
    if (NamespaceInfo* info = ns_->ByIdOrPlaceholder(r.ns_id)) {
      bool was_live = old_loc != 0 && old.type == RecordType::kPut;
      bool is_live = r.type == RecordType::kPut;
      if (is_live && !was_live) info->live_keys.fetch_add(1, std::memory_order_relaxed);
      if (!is_live && was_live) info->live_keys.fetch_sub(1, std::memory_order_relaxed);
    }
    ks_->Install(h, old_loc, old_loc ? old.size() : 0, loc, r.size());
  }

  Keyspace* ks_;
  NamespaceTable* ns_;
  RecoveryResult* res_;
  std::vector<std::pair<Locator, RecordView>> pending_;
  uint64_t pending_seq_ = 0;
  bool dropped_any_ = false;
};

bool AllZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0) return false;
  return true;
}

// Bytes from `from` to the last non-zero byte (how much a cut really lost).
uint64_t NonZeroExtent(const char* data, uint64_t from, uint64_t end) {
  uint64_t e = end;
  while (e > from && data[e - 1] == 0) e--;
  return e - from;
}

// Compaction outputs carry the ids of their inputs in a first record and
// again in a last record written only when the output is complete. A
// complete output whose inputs still exist means a crash between making
// the output durable and deleting the inputs: finish the job (delete the
// inputs). An incomplete output is a leftover: delete it. In read-only
// mode nothing is deleted; the files are skipped instead.
Status FinishCompactions(Env* env, const std::string& dir, const Options& options,
                         std::vector<uint64_t>* ids, RecoveryResult* res, uint64_t* tail_id) {
  std::vector<uint64_t> skip;
  std::vector<uint64_t> unreadable;  // ids whose header does not decode
  *tail_id = 0;
  bool removed = false;
  for (uint64_t id : *ids) {
    const std::string path = dir + "/" + SegmentFileName(id);
    std::unique_ptr<MappedFile> file;
    if (!env->OpenMappedFile(path, false, &file).ok()) continue;
    SegmentHeader h;
    if (!DecodeSegmentHeader(file->data(), file->size(), path, &h).ok()) {
      // A header is written before any record. A file with no valid header
      // and no first record is a segment whose creation was cut short (by
      // the log writer or by compaction): it holds no data and goes.
      // (Segment files are created at their full preallocated size, so a
      // short non-empty file is a truncated one: damage, not a leftover.)
      const bool no_record =
          file->size() == 0 ||
          (file->size() >= kSegmentHeaderSize + kRecordHeaderSize &&
           AllZero(file->data(), kSegmentHeaderSize + kRecordHeaderSize));
      if (no_record) unreadable.push_back(id);
      else *tail_id = id;  // damaged: the main scan reports it
      continue;
    }
    if ((h.flags & kSegmentFlagCompacted) == 0) {
      *tail_id = id;  // the newest segment written by the log writer
      continue;
    }
    const char* data = file->data();
    uint64_t off = kSegmentHeaderSize;
    RecordView r, first, last;
    bool valid = true, any = false;
    while (off < file->size()) {
      if (!ValidateRecord(data + off, file->size() - off, &r)) {
        valid = false;
        break;
      }
      if (!any) first = r;
      any = true;
      last = r;
      off += r.size();
    }
    const bool complete = valid && any && first.type == RecordType::kCompactInputs &&
                          last.type == RecordType::kCompactDone;
    const std::string inputs = complete ? std::string(last.value()) : std::string();
    // Inputs are deleted only after their output is complete and durable, so
    // an output whose first record names an input that is gone had been
    // completed: if it no longer reads as complete it is damaged, and must
    // be reported (main scan), never deleted as a leftover.
    bool inputs_gone = false;
    if (!complete && any && first.type == RecordType::kCompactInputs) {
      for (size_t i = 0; i + 8 <= first.value_len; i += 8) {
        uint64_t in = DecodeU64(first.value().data() + i);
        if (std::find(ids->begin(), ids->end(), in) == ids->end()) inputs_gone = true;
      }
    } else if (!complete && !any) {
      // The first record itself is unreadable: a leftover only if nothing
      // was ever written after the header.
      inputs_gone = !AllZero(data + kSegmentHeaderSize, file->size() - kSegmentHeaderSize);
    }
    file.reset();
    if (!complete && inputs_gone) continue;  // damaged output: the scan reports it
    if (!complete) {
      skip.push_back(id);
      if (!options.read_only) {
        FIRKIN_RETURN_IF_ERROR(env->RemoveFile(path));
        res->removed_leftovers++;
        removed = true;
      }
      continue;
    }
    for (size_t i = 0; i + 8 <= inputs.size(); i += 8) {
      uint64_t in = DecodeU64(inputs.data() + i);
      if (std::find(ids->begin(), ids->end(), in) == ids->end() || in == id) continue;
      skip.push_back(in);
      if (!options.read_only) {
        FIRKIN_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + SegmentFileName(in)));
        res->finished_compactions++;
        removed = true;
      }
    }
  }
  for (uint64_t id : unreadable) {  // they hold no data: safe to delete anywhere
    skip.push_back(id);
    if (!options.read_only) {
      FIRKIN_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + SegmentFileName(id)));
      res->removed_leftovers++;
      removed = true;
    }
  }
  if (removed) FIRKIN_RETURN_IF_ERROR(env->SyncDir(dir));
  std::vector<uint64_t> keep;
  for (uint64_t id : *ids)
    if (std::find(skip.begin(), skip.end(), id) == skip.end()) keep.push_back(id);
  ids->swap(keep);
  return Status::OK();
}

// Opens and registers one segment for a full scan. *out stays null when the
// segment is skipped (a half-created leftover, or a damaged/foreign file
// under salvage).
Status OpenSegment(Env* env, const std::string& path, uint64_t id, bool last,
                   const Identity& identity, const Options& options, Keyspace* ks,
                   RecoveryResult* res, std::shared_ptr<Segment>* out) {
  std::unique_ptr<MappedFile> file;
  FIRKIN_RETURN_IF_ERROR(env->OpenMappedFile(path, last && !options.read_only, &file));
  const char* data = file->data();
  const uint64_t size = file->size();
  SegmentHeader h;
  Status hs = DecodeSegmentHeader(data, size, path, &h);
  if (!hs.ok()) {
    if (hs.code() == Status::Code::kVersion) return hs;
    // (Segments cut short while being created were removed before the scan;
    // a bad header here is damage.)
    if (!options.salvage) return hs;
    res->salvaged_bytes += size;
    res->salvaged_regions++;
    res->salvage_report.push_back(hs.message() + " (file skipped)");
    return Status::OK();
  }
  if (h.db_id != identity.db_id || h.segment_id != id) {
    Status s = Status::Corruption(
        path + ": segment belongs to another database or was renamed (segment id " +
        std::to_string(h.segment_id) + ", database id " + std::to_string(h.db_id) +
        "; expected " + std::to_string(id) + ", " + std::to_string(identity.db_id) +
        "); the file was left untouched");
    if (!options.salvage) return s;
    res->salvage_report.push_back(s.message() + " (file skipped)");
    res->salvaged_regions++;
    return Status::OK();
  }
  uint32_t slot = 0;
  FIRKIN_RETURN_IF_ERROR(ks->segments().AllocateSlot(&slot));
  auto seg = std::make_shared<Segment>(id, slot, std::move(file), size, h.flags);
  seg->sealed.store(true);
  ks->segments().Add(seg);
  *out = std::move(seg);
  return Status::OK();
}

// Loads the index checkpoint if there is one that matches the segments on
// disk: every segment it lists exists and is at least as long as the length
// it covers, and every segment it does not list is newer than all it lists.
// Anything else (missing, damaged, stale) leaves the state untouched: the
// caller scans everything.
Status LoadCheckpoint(Env* env, const std::string& dir, const Identity& identity,
                      const Options& options, const std::vector<uint64_t>& ids, uint64_t tail_id,
                      Keyspace* ks, NamespaceTable* ns, RecoveryResult* res,
                      std::map<uint64_t, std::pair<std::shared_ptr<Segment>, uint64_t>>* out) {
  const std::string path = dir + "/" + kCheckpointFileName;
  bool is_dir = false;
  uint64_t fsize = 0;
  if (!env->Stat(path, &is_dir, &fsize).ok() || is_dir) return Status::OK();
  // Mapped, not read: the index image is used in place.
  std::unique_ptr<MappedFile> map;
  CheckpointData c;
  Status s = env->OpenMappedFile(path, false, &map);
  if (s.ok()) s = DecodeCheckpoint(std::string_view(map->data(), map->size()), path, &c);
  if (s.ok() && c.db_id != identity.db_id) s = Status::Corruption(path + ": foreign checkpoint");
  if (!s.ok()) {
    res->checkpoint_note = "checkpoint ignored: " + s.message();
    return Status::OK();
  }
  // Consistency with the files on disk.
  uint64_t max_listed = 0;
  std::vector<std::unique_ptr<MappedFile>> files;
  for (const CheckpointSegment& cs : c.segments) {
    max_listed = std::max(max_listed, cs.id);
    if (std::find(ids.begin(), ids.end(), cs.id) == ids.end()) {
      res->checkpoint_note = "checkpoint ignored: it lists a segment that is gone";
      return Status::OK();
    }
    std::unique_ptr<MappedFile> f;
    FIRKIN_RETURN_IF_ERROR(env->OpenMappedFile(dir + "/" + SegmentFileName(cs.id),
                                               cs.id == tail_id && !options.read_only, &f));
    SegmentHeader h;
    if (f->size() < cs.len || f->size() < kSegmentHeaderSize ||
        !DecodeSegmentHeader(f->data(), f->size(), f->path(), &h).ok() ||
        h.db_id != identity.db_id || h.segment_id != cs.id) {
      res->checkpoint_note = "checkpoint ignored: a segment does not match it";
      return Status::OK();
    }
    files.push_back(std::move(f));
  }
  for (uint64_t id : ids) {
    bool listed = std::any_of(c.segments.begin(), c.segments.end(),
                              [id](const CheckpointSegment& cs) { return cs.id == id; });
    if (!listed && id < max_listed) {
      res->checkpoint_note = "checkpoint ignored: an older segment is not in it";
      return Status::OK();
    }
  }
  // It matches: install it.
  for (size_t i = 0; i < c.segments.size(); i++) {
    const CheckpointSegment& cs = c.segments[i];
    FIRKIN_RETURN_IF_ERROR(ks->segments().ClaimSlot(cs.slot));
    auto seg = std::make_shared<Segment>(cs.id, cs.slot, std::move(files[i]), cs.len, cs.flags);
    seg->sealed.store(true);
    seg->live_bytes.store(cs.live);
    seg->dead_bytes.store(cs.dead);
    seg->min_seq.store(cs.min_seq);
    ks->segments().Add(seg);
    (*out)[cs.id] = {seg, cs.len};
    res->segments++;
  }
  for (const CheckpointNamespace& n : c.namespaces) {
    NamespaceInfo* info = n.id == 0 ? ns->Default().get() : ns->Create(n.id, n.name).get();
    info->live_keys.store(n.live_keys);
    if (n.dropped) ns->Drop(n.id);
  }
  const char* e = c.entries_view.data();
  const uint64_t n = c.entries_view.size() / 16;
  for (uint64_t i = 0; i < n; i++, e += 16) {
    ks->index().Upsert(DecodeU64(e), DecodeU64(e + 8), [](Locator) { return false; });
  }
  res->last_seq = c.last_seq;
  res->checkpoint_entries = n;
  res->used_checkpoint = true;
  return Status::OK();
}

}  // namespace

Status Recover(Env* env, const std::string& dir, const Identity& identity,
               const Options& options, Keyspace* ks, NamespaceTable* ns,
               RecoveryResult* res) {
  std::vector<std::string> names;
  FIRKIN_RETURN_IF_ERROR(env->ListDir(dir, &names));
  std::vector<uint64_t> ids;
  for (const std::string& n : names) {
    uint64_t id;
    if (ParseSegmentFileName(n, &id)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  if (!ids.empty()) res->next_segment_id = ids.back() + 1;
  // The tail of the log is the newest segment the log writer wrote
  // (compaction outputs may have higher ids but are always complete).
  uint64_t tail_id = 0;
  FIRKIN_RETURN_IF_ERROR(FinishCompactions(env, dir, options, &ids, res, &tail_id));
  Replayer replay(ks, ns, res);
  Epoch::Guard guard;  // FindNewest is a reader call

  // Segments covered by a valid checkpoint are registered by it, with the
  // offset from which the log must still be replayed.
  std::map<uint64_t, std::pair<std::shared_ptr<Segment>, uint64_t>> covered;
  FIRKIN_RETURN_IF_ERROR(
      LoadCheckpoint(env, dir, identity, options, ids, tail_id, ks, ns, res, &covered));

  for (size_t i = 0; i < ids.size(); i++) {
    const uint64_t id = ids[i];
    const bool last = (id == tail_id);
    const std::string path = dir + "/" + SegmentFileName(id);
    res->next_segment_id = std::max(res->next_segment_id, id + 1);
    std::shared_ptr<Segment> seg;
    uint64_t off = kSegmentHeaderSize;
    auto ck = covered.find(id);
    if (ck != covered.end()) {
      seg = ck->second.first;
      off = ck->second.second;
    } else {
      FIRKIN_RETURN_IF_ERROR(OpenSegment(env, path, id, last, identity, options, ks, res, &seg));
      if (seg == nullptr) continue;  // skipped (leftover, or salvage)
      res->segments++;
    }
    const char* data = seg->data();
    const uint64_t size = seg->capacity();
    const uint64_t durable = DecodeDurableLen(data);
    // Replay reads earlier records of this segment through the index: all
    // of the file is readable while it is scanned; the end is fixed below.
    seg->set_published_len(size);
    if (durable > size) {
      // Sealing records the full length as durable: the file lost its end.
      Status s = Status::Corruption(path + ": file is " + std::to_string(size) +
                                    " bytes but " + std::to_string(durable) +
                                    " were made durable (truncated)");
      if (!options.salvage) return s;
      res->salvaged_regions++;
      res->salvaged_bytes += durable - size;
      res->salvage_report.push_back(s.message());
    }
    uint64_t end = size;
    while (off < end) {
      RecordView r;
      if (ValidateRecord(data + off, end - off, &r)) {
        replay.Apply(seg.get(), off, r);
        off += r.size();
        continue;
      }
      if (last && off >= durable) {
        // The torn tail of the log: cut it off.
        res->torn_bytes += NonZeroExtent(data, off, end);
        end = off;
        if (!options.read_only) FIRKIN_RETURN_IF_ERROR(seg->file()->Truncate(end));
        break;
      }
      std::string where = path + ": damaged record at offset " + std::to_string(off);
      if (!options.salvage) {
        return Status::Corruption(where + " (open with the salvage option to skip it)");
      }
      uint64_t next = off + kRecordAlign;
      while (next < end && !ValidateRecord(data + next, end - next, &r)) next += kRecordAlign;
      res->salvaged_regions++;
      res->salvaged_bytes += next - off;
      res->salvage_report.push_back(where + ", " + std::to_string(next - off) +
                                    " bytes skipped");
      off = next;
    }
    seg->set_published_len(end);
    seg->synced_len = end;
  }
  replay.Finish();
  if (replay.dropped_any()) {
    // Keys of namespaces dropped later in the log leave the index.
    ks->PurgeIf([ns](const RecordView& r) {
      NamespaceInfo* info = ns->ById(r.ns_id);
      return info == nullptr || info->dropped.load(std::memory_order_relaxed);
    });
  }
  return Status::OK();
}

}  // namespace firkin
