// DB::Checkpoint: captures the index, segments and namespaces as the writer
// (a consistent cut), then writes the checkpoint file atomically: temp
// file, fdatasync, rename, directory fsync.
#include "core/db/db.h"
#include "core/recovery/checkpoint.h"
#include "core/recovery/checkpoint_ordered.h"
#include "core/recovery/checkpoint_seal.h"
#include "core/util/coding.h"

namespace firkin {

Status DB::Checkpoint() {
  if (options_.read_only) return Status::ReadOnly("database was opened read-only");
  std::lock_guard<std::mutex> one_at_a_time(checkpoint_mu_);
  CheckpointData c;
  c.db_id = identity_.db_id;
  // Readied before the gate closes, since every writer waits while it is
  // closed: room for the entries with its pages faulted in (a fault per
  // 4 KiB under the gate made the wait longer), and the log synced, so
  // that the sync under the gate has only the last moments' writes left.
  // At 10 M keys the writers' longest wait fell from 235-410 ms to 60-115
  // ms (with the walk below in HashIndex::ForEachPacked, no call per entry);
  // the walk of the index is what is left of it.
  const uint64_t expected = keyspace_->index().size();
  c.packed_entries.resize(expected + expected / 16 + 1024);
  c.shard_counts.assign(HashIndex::kShards, 0);
  FIRKIN_RETURN_IF_ERROR(log_->SyncPublished());
  // Between writes (the gate is closed: every write is published or not
  // begun), so the index, the segments' lengths and the last sequence
  // number agree exactly.
  // With segment retirement held too (the order backup takes them in): a
  // compaction pass's index moves (Keyspace::Relocate) do not fall between
  // the hash entries and the ordered indexes taken below.
  std::unique_lock<std::mutex> retire(retire_mu_);
  FIRKIN_RETURN_IF_ERROR(gate_.RunExclusive([&]() -> Status {
    // The checkpoint covers only durable log: open does not re-read what it
    // covers, so nothing it covers may be lost by a power failure.
    FIRKIN_RETURN_IF_ERROR(log_->SyncPublished());
    c.last_seq = LastSeq();
    for (const auto& s : keyspace_->segments().List()) {
      const uint64_t len = s->published_len();
      c.segments.push_back({s->id(), len, s->live_bytes(), s->dead_bytes(),
                            s->min_seq.load(), CheckpointTailCheck(s->data(), len), s->slot(),
                            s->flags(), s->min_expiry.load()});
    }
    // A spare whose id is below one listed here takes a fresh one when a
    // roll names it: every segment a checkpoint does not list must be
    // newer than all it lists.
    uint64_t max_listed = 0;
    for (const CheckpointSegment& cs : c.segments) max_listed = std::max(max_listed, cs.id);
    log_->NoteListed(max_listed);
    for (const auto& info : ns_.AllIncludingDropped()) {
      c.namespaces.push_back({info->id, info->dropped.load(), info->name,
                              info->live_keys.load(), info->ttl_keys.load(),
                              info->min_expiry.load(), info->flags});
    }
    // The entries in 8 bytes each (the file's are 16), counted per shard;
    // the file is made from them in pieces after the gate reopens.
    size_t n = 0;
    keyspace_->index().ForEachPacked([&](size_t shard, uint64_t packed) {
      if (n < c.packed_entries.size()) {
        c.packed_entries[n] = packed;
      } else {  // more keys than when the room was made
        c.packed_entries.push_back(packed);
      }
      ++n;
      ++c.shard_counts[shard];
    });
    c.packed_entries.resize(n);
    // Each ordered namespace's index, as its chunks: open loads it instead
    // of rebuilding it (checkpoint_ordered.h).
    for (const auto& info : ns_.AllIncludingDropped()) {
      if (!info->is_ordered() || info->dropped.load()) continue;
      if (const OrderedIndex* ord = keyspace_->OrderedFor(info->id)) {
        AppendOrderedSection(info->id, *ord, &c.ordered);
      }
    }
    bytes_at_checkpoint_.store(bytes_written_.Sum());
    return Status::OK();
  }));
  retire.unlock();
  const std::string final_path = path_ + "/" + kCheckpointFileName;
  const std::string tmp = final_path + ".tmp";
  std::unique_ptr<WritableFile> f;
  FIRKIN_RETURN_IF_ERROR(env_->NewWritableFile(tmp, &f));
  Status s;
  if (options_.cipher != nullptr) {  // encrypted database: the whole file sealed
    std::string sealed;
    s = SealCheckpoint(*options_.cipher, identity_.db_id, EncodeCheckpoint(c), &sealed);
    if (s.ok()) s = f->Append(sealed);
  } else {
    // Written in pieces: the file (16 bytes a key) is never in memory.
    s = WriteCheckpoint(c, [&](std::string_view piece) { return f->Append(piece); });
  }
  if (s.ok()) s = f->Sync();
  Status cs = f->Close();
  if (s.ok()) s = cs;
  if (s.ok()) s = env_->RenameFile(tmp, final_path);
  if (s.ok()) s = env_->SyncDir(path_);
  if (!s.ok()) {
    env_->RemoveFile(tmp);
    return s;
  }
  checkpoints_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

bool DB::CheckpointDue() const {
  return options_.checkpoint_every != 0 && log_ != nullptr &&
         bytes_written_.Sum() - bytes_at_checkpoint_.load() >=
             options_.checkpoint_every;
}

}  // namespace firkin
