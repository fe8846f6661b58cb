#include "core/recovery/recovery.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "core/db/keyspace.h"
#include "core/db/namespaces.h"
#include "core/db/options.h"
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
    if (old_loc != 0 && old.seq >= r.seq) {
      // An older version met after a newer one (compaction output).
      ks_->segments().BySlot(LocatorSlot(loc))->dead_bytes += r.size();
      return;
    }
    if (NamespaceInfo* info = ns_->ById(r.ns_id)) {
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
  Replayer replay(ks, ns, res);
  Epoch::Guard guard;  // FindNewest is a reader call

  for (size_t i = 0; i < ids.size(); i++) {
    const uint64_t id = ids[i];
    const bool last = (i + 1 == ids.size());
    const std::string path = dir + "/" + SegmentFileName(id);
    res->next_segment_id = std::max(res->next_segment_id, id + 1);
    std::unique_ptr<MappedFile> file;
    FIRKIN_RETURN_IF_ERROR(env->OpenMappedFile(path, last && !options.read_only, &file));
    const char* data = file->data();
    const uint64_t size = file->size();

    SegmentHeader h;
    Status hs = DecodeSegmentHeader(data, size, path, &h);
    if (!hs.ok()) {
      if (hs.code() == Status::Code::kVersion) return hs;
      if (last && (size < kSegmentHeaderSize || AllZero(data, kSegmentHeaderSize))) {
        // Crash while the segment was being created: it never held data.
        file.reset();
        if (!options.read_only) {
          FIRKIN_RETURN_IF_ERROR(env->RemoveFile(path));
          res->removed_leftovers++;
        }
        continue;
      }
      if (!options.salvage) return hs;
      res->salvaged_bytes += size;
      res->salvaged_regions++;
      res->salvage_report.push_back(hs.message() + " (file skipped)");
      continue;
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
      continue;
    }

    uint32_t slot = 0;
    FIRKIN_RETURN_IF_ERROR(ks->segments().AllocateSlot(&slot));
    const uint64_t durable = DecodeDurableLen(data);
    auto seg = std::make_shared<Segment>(id, slot, std::move(file), size, h.flags);
    seg->sealed = true;
    ks->segments().Add(seg);
    res->segments++;

    uint64_t off = kSegmentHeaderSize;
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
