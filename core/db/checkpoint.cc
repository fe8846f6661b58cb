// DB::Checkpoint: captures the index, segments and namespaces as the writer
// (a consistent cut), then writes the checkpoint file atomically: temp
// file, fdatasync, rename, directory fsync.
#include <cstring>
#include <unordered_map>

#include "core/db/db.h"
#include "core/recovery/checkpoint.h"
#include "core/recovery/checkpoint_ordered.h"
#include "core/recovery/checkpoint_seal.h"
#include "core/util/coding.h"
#include "core/util/hash.h"

namespace firkin {

namespace {

// Room for the ordered section of these namespaces' indexes, as
// AppendOrderedSection writes it: 8 bytes a key, a chunk header and
// common prefix per chunk (of up to 256 keys), a header per namespace;
// chunks are assumed a quarter full with 64-byte prefixes. A section that
// outgrows it sends the checkpoint down the in-memory path.
uint64_t OrderedRoom(const Keyspace& ks, const NamespaceTable& ns) {
  uint64_t room = 4096;
  for (const auto& info : ns.AllIncludingDropped()) {
    if (!info->is_ordered() || info->dropped.load()) continue;
    if (const OrderedIndex* ord = ks.OrderedFor(info->id)) {
      room += 16 + ord->size() * 8 + (ord->size() / 64 + 1) * (4 + 64);
    }
  }
  return room;
}

}  // namespace

Status DB::Checkpoint() {
  if (options_.read_only) return Status::ReadOnly("database was opened read-only");
  std::lock_guard<std::mutex> one_at_a_time(checkpoint_mu_);
  CheckpointData c;
  c.db_id = identity_.db_id;
  c.flags = kCheckpointFlagPassesLeaveOutputs;  // (Compactor::RunPass)
  const std::string final_path = path_ + "/" + kCheckpointFileName;
  const std::string tmp = final_path + ".tmp";
  // Readied before the gate closes, since every writer waits while it is
  // closed: room for the entries with its pages faulted in (a fault per
  // 4 KiB under the gate made the wait longer), and the log synced, so
  // that the sync under the gate has only the last moments' writes left.
  //
  // Where the entries go: in a plain database, straight into the
  // checkpoint file, created at a size with room for them and mapped (its
  // page cache is the only memory a checkpoint takes; at 10 M keys the
  // in-memory copy below was 8 bytes a key on top of the index's 11-13,
  // past the 16-byte budget). An encrypted database seals the file whole,
  // and never lets its plaintext reach a file: its entries are copied into
  // memory, 8 bytes each; so are a plain database's when the file cannot
  // be made or the keys outgrew its room.
  // (Room for a sixteenth more keys was too little while a bulk load ran:
  // faulting in the file's pages takes a while, and at 2 M inserts a second
  // the keys outgrew it.)
  const uint64_t expected = keyspace_->index().size();
  const uint64_t room_entries = expected + expected / 8 + 8192;
  std::unique_ptr<MappedFile> map;
  if (options_.cipher == nullptr) {
    const uint64_t size =
        kCheckpointHeaderSize +
        (keyspace_->segments().List().size() + 64) * kCheckpointSegmentSize +
        (ns_.AllIncludingDropped().size() + 16) * kCheckpointNamespaceMax +
        kCheckpointShardCountsSize + room_entries * kCheckpointEntrySize +
        OrderedRoom(*keyspace_, ns_);
    env_->RemoveFile(tmp);  // a leftover of a checkpoint that failed
    if (env_->NewMappedFile(tmp, size, &map).ok()) {
      map->Prefault(0, size);
    } else {
      map.reset();
      env_->RemoveFile(tmp);
    }
  }
  if (map == nullptr) c.packed_entries.resize(room_entries);
  c.shard_counts.assign(HashIndex::kShards, 0);
  Status s = log_->SyncPublished();
  if (!s.ok()) {
    map.reset();
    env_->RemoveFile(tmp);
    return s;
  }
  bool laid_out = false;  // the body is in `map` (else in `c`, entries packed)
  uint64_t in_file = 0;   // entries written into `map`
  uint64_t tables_len = 0;
  // Between writes (the gate is closed: every write is published or not
  // begun), so the index, the segments' lengths and the last sequence
  // number agree exactly.
  // With segment retirement held too (the order backup takes them in): a
  // compaction pass's index moves (Keyspace::Relocate) do not fall between
  // the hash entries and the ordered indexes taken below.
  std::unique_lock<std::mutex> retire(retire_mu_);
  s = gate_.RunExclusive([&]() -> Status {
    // The checkpoint covers only durable log: open does not re-read what it
    // covers, so nothing it covers may be lost by a power failure.
    FIRKIN_RETURN_IF_ERROR(log_->SyncPublished());
    c.last_seq = LastSeq();
    for (const auto& s : keyspace_->segments().List()) {
      const uint64_t len = s->published_len();
      // (InPlaceSeqBound: the sync above froze every byte below len, so
      // no update in place lands there after this.)
      c.segments.push_back({s->id(), len, s->live_bytes(), s->dead_bytes(),
                            s->min_seq.load(), CheckpointTailCheck(s->data(), len), s->slot(),
                            s->flags(), s->min_expiry.load(), s->InPlaceSeqBound()});
    }
    // A spare whose id is below one listed here takes a fresh one when a
    // roll names it: every segment a checkpoint does not list must be
    // newer than all it lists.
    uint64_t max_listed = 0;
    for (const CheckpointSegment& cs : c.segments) max_listed = std::max(max_listed, cs.id);
    log_->NoteListed(max_listed);
    std::unordered_map<uint32_t, uint64_t> listed_slots;  // slot -> segment id
    for (const CheckpointSegment& cs : c.segments) listed_slots[cs.slot] = cs.id;
    for (const auto& info : ns_.AllIncludingDropped()) {
      c.namespaces.push_back({info->id, info->dropped.load(), info->name,
                              info->live_keys.load(), info->ttl_keys.load(),
                              info->min_expiry.load(), info->flags});
      // Where its create record counts live (NamespaceInfo::create_loc:
      // the drop and the pass that copies it move it under the retire
      // mutex, held here, and the create writes it inside the gate), so
      // that a drop after the open counts it dead. Only a locator into a
      // segment listed here: the writer's copy is in one, since a pass
      // moves it to its output before the inputs retire.
      const uint64_t loc = info->create_loc.load(std::memory_order_relaxed);
      const uint64_t loc_seg = info->create_loc_seg.load(std::memory_order_relaxed);
      const auto at = loc != 0 ? listed_slots.find(LocatorSlot(loc)) : listed_slots.end();
      if (at != listed_slots.end() && at->second == loc_seg) {
        c.namespaces.back().create_loc = loc;
        c.namespaces.back().create_size = info->create_size.load(std::memory_order_relaxed);
      }
    }
    // Each ordered namespace's index, as its chunks: open loads it instead
    // of rebuilding it (checkpoint_ordered.h).
    for (const auto& info : ns_.AllIncludingDropped()) {
      if (!info->is_ordered() || info->dropped.load()) continue;
      if (const OrderedIndex* ord = keyspace_->OrderedFor(info->id)) {
        AppendOrderedSection(info->id, *ord, &c.ordered);
      }
    }
    const std::string tables = EncodeCheckpointTables(c);
    tables_len = tables.size();
    const uint64_t n = keyspace_->index().size();  // exact: no write is in flight
    if (map != nullptr && kCheckpointHeaderSize + tables_len + kCheckpointShardCountsSize +
                                  n * kCheckpointEntrySize + c.ordered.size() <=
                              map->size()) {
      // The body laid out in the file: tables, shard counts, entries (the
      // index's own 8-byte form), ordered section.
      char* body = map->data() + kCheckpointHeaderSize;
      std::memcpy(body, tables.data(), tables_len);
      char* out = body + tables_len + kCheckpointShardCountsSize;
      keyspace_->index().ForEachPacked([&](size_t shard, uint64_t packed) {
        if (in_file < n) EncodeCheckpointEntry(packed, out + in_file * kCheckpointEntrySize);
        ++in_file;
        ++c.shard_counts[shard];
      });
      if (in_file != n) return Status::Corruption("checkpoint: the index changed under the gate");
      EncodeCheckpointShardCounts(c.shard_counts, body + tables_len);
      std::memcpy(out + n * kCheckpointEntrySize, c.ordered.data(), c.ordered.size());
      laid_out = true;
    } else {
      // The entries in memory, counted per shard; the file is made from
      // them in pieces after the gate reopens.
      c.packed_entries.reserve(n);  // no regrowth (a copy) if the room was made elsewhere
      size_t k = 0;
      keyspace_->index().ForEachPacked([&](size_t shard, uint64_t packed) {
        if (k < c.packed_entries.size()) {
          c.packed_entries[k] = packed;
        } else {  // more keys than when the room was made
          c.packed_entries.push_back(packed);
        }
        ++k;
        ++c.shard_counts[shard];
      });
      c.packed_entries.resize(k);
    }
    bytes_at_checkpoint_.store(bytes_written_.Sum());
    return Status::OK();
  });
  retire.unlock();
  if (!s.ok()) {
    map.reset();
    env_->RemoveFile(tmp);
    return s;
  }
  if (laid_out) {
    // Laid out in the mapped file: its header, then handed over read-only
    // (its writeback then write-protects no page-table entry one page at a
    // time) and cut to its length, which syncs it.
    const uint64_t end = kCheckpointHeaderSize + tables_len + kCheckpointShardCountsSize +
                         in_file * kCheckpointEntrySize + c.ordered.size();
    EncodeCheckpointHeader(c, in_file,
                           Checksum(map->data() + kCheckpointHeaderSize,
                                    end - kCheckpointHeaderSize),
                           map->data());
    const uint64_t pages = end & ~uint64_t{4095};
    for (uint64_t at = 0; at < pages;) {
      const uint64_t got = map->WriteBehind(at, pages - at);
      if (got == 0) break;
      at += got;
    }
    s = map->Truncate(end);
    map.reset();
  } else {
    map.reset();
    std::unique_ptr<WritableFile> f;
    s = env_->NewWritableFile(tmp, &f);
    if (s.ok() && options_.cipher != nullptr) {  // encrypted: the whole file sealed
      std::string sealed;
      s = SealCheckpoint(*options_.cipher, identity_.db_id, EncodeCheckpoint(c), &sealed);
      if (s.ok()) s = f->Append(sealed);
    } else if (s.ok()) {
      // Written in pieces: the file is never in memory twice.
      s = WriteCheckpoint(c, [&](std::string_view piece) { return f->Append(piece); });
    }
    if (s.ok()) s = f->Sync();
    if (f != nullptr) {
      Status cs = f->Close();
      if (s.ok()) s = cs;
    }
  }
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
