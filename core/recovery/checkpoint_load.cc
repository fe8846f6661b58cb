#include "core/recovery/checkpoint_load.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "core/keyspace/keyspace.h"
#include "core/keyspace/namespaces.h"
#include "core/keyspace/options.h"
#include "core/log/log_reader.h"
#include "core/recovery/checkpoint_seal.h"
#include "core/recovery/recovery.h"
#include "core/util/hash.h"

namespace firkin {
namespace {

// Bits of a hash the index keeps (shard + tag): the rest of hash_bits is 0.
constexpr int kKeptHashBits = 64 - kLocatorBits + 10;
constexpr uint64_t kDroppedHashMask = (uint64_t{1} << (64 - kKeptHashBits)) - 1;
constexpr uint64_t kLocatorMaskAll = (uint64_t{1} << kLocatorBits) - 1;

// A checkpoint that counts more than the segment files present can hold is
// still read (checksummed) up to this size, to tell whether a segment file
// it lists is missing: the bound keeps a forged count from making the open
// read a huge sparse file.
constexpr uint64_t kMissingCheckMaxBytes = uint64_t{4} << 30;

// Marks the checkpoint as not to be used; returns OK (ignoring it is not
// an error: the caller scans).
Status Ignore(LoadedCheckpoint* ck, const std::string& why) {
  ck->note = "checkpoint ignored: " + why;
  ck->valid = false;
  ck->files.clear();
  return Status::OK();
}

// Whether compaction may have retired segment `gone` since the checkpoint
// was written: a compaction output it does not list is among `ids` (a pass
// published it after the checkpoint; an output there then is listed, and
// its id may be lower than a listed log segment's, taken before that one
// was made; every pass leaves one, and a later pass that retires it leaves
// another), or an output present names `gone` among its inputs (a pass
// kept its inputs in the table for a while, where a checkpoint listed
// them beside the output, and retired them later, or recovery removed them
// just now: FinishCompactions).
bool CompactedSince(Env* env, const std::string& dir, const std::vector<uint64_t>& ids,
                    const CheckpointData& c, uint64_t gone) {
  std::set<uint64_t> listed;
  for (const CheckpointSegment& cs : c.segments) listed.insert(cs.id);
  for (uint64_t id : ids) {
    std::unique_ptr<MappedFile> f;
    SegmentHeader h;
    const std::string path = dir + "/" + SegmentFileName(id);
    if (!env->OpenMappedFile(path, false, &f).ok() ||
        !DecodeSegmentHeader(f->data(), f->size(), path, &h).ok()) {
      return true;  // unreadable: not this check's to judge (the replay reports it)
    }
    if ((h.flags & kSegmentFlagCompacted) == 0) continue;
    if (listed.count(id) == 0) return true;
    std::vector<uint64_t> inputs;
    if (!ReadCompactionInputs(f->data(), f->size(), &inputs)) return true;  // (as above)
    if (std::find(inputs.begin(), inputs.end(), gone) != inputs.end()) return true;
  }
  return false;
}

}  // namespace

bool LoadedCheckpoint::Lists(uint64_t id) const {
  if (!decoded) return false;
  return std::any_of(data.segments.begin(), data.segments.end(),
                     [id](const CheckpointSegment& cs) { return cs.id == id; });
}

void ReadCheckpoint(Env* env, const std::string& dir, const Identity& identity,
                    const Aead* cipher, const std::vector<uint64_t>& ids,
                    LoadedCheckpoint* ck) {
  const std::string path = dir + "/" + kCheckpointFileName;
  bool is_dir = false;
  uint64_t fsize = 0;
  if (!env->Stat(path, &is_dir, &fsize).ok()) return;  // none: nothing to note
  if (is_dir) {
    ck->note = "checkpoint ignored: " + path + " is a directory";
    return;
  }
  // Each entry points at a distinct record of at least a record header:
  // more entries than the segments can hold is a forged or foreign count
  // (checked before the body is read: a sparse 64 GiB file costs nothing).
  uint64_t seg_bytes = 0;
  for (uint64_t id : ids) {
    uint64_t sz = 0;
    bool d = false;
    if (env->Stat(dir + "/" + SegmentFileName(id), &d, &sz).ok() && !d) {
      seg_bytes += std::min<uint64_t>(sz, kMaxSegmentBytes);
    }
  }
  // Mapped, not read: the index image is used in place. The env refuses
  // anything that is not a regular file (FIFO, device).
  Status s = env->OpenMappedFile(path, false, &ck->map);
  std::string_view bytes;
  if (s.ok()) bytes = std::string_view(ck->map->data(), ck->map->size());
  if (s.ok() && cipher != nullptr) {
    // Encrypted: the counts are inside, so the size is bounded first by
    // what the segments could hold (every entry and namespace stands for a
    // record), then the whole file is authenticated and decrypted.
    const uint64_t max_records = seg_bytes / kRecordMinSize;
    // (The ordered section: 8 bytes a key, plus per chunk and namespace a
    // header and a common prefix no longer than a record.)
    const uint64_t max_plain = kCheckpointHeaderSize + ids.size() * kCheckpointSegmentSize +
                               kCheckpointShardCountsSize +
                               max_records * (kCheckpointEntrySize + kCheckpointNamespaceMax) +
                               max_records * 36 + seg_bytes;
    if (bytes.size() > max_plain + kSealedCheckpointOverhead && fsize > kMissingCheckMaxBytes) {
      s = Status::Corruption(path + ": " + std::to_string(bytes.size()) +
                             " bytes are more than the segment files can need");
    }
    if (s.ok()) s = OpenSealedCheckpoint(*cipher, bytes, path, identity.db_id, &ck->plain);
    if (s.ok()) {
      bytes = ck->plain;
      ck->map.reset();  // the sealed bytes are no longer needed
    }
  }
  CheckpointHeader h;
  if (s.ok()) s = DecodeCheckpointHeader(bytes, path, &h);
  if (s.ok() && h.db_id != identity.db_id) {
    s = Status::Corruption(path + ": checkpoint of another database");
  }
  std::string over;
  if (s.ok() && (h.n_entries > seg_bytes / kRecordMinSize || h.n_segments > ids.size() ||
                h.ordered_bytes > seg_bytes + (seg_bytes / kRecordMinSize) * 36)) {
    over = path + ": " + std::to_string(h.n_entries) + " entries and " +
           std::to_string(h.n_segments) + " segments are more than the segment files can hold";
    // A segment file it lists may be missing (the open must then refuse
    // the database, not scan on without it): a checkpoint of a library
    // whose passes leave outputs, of a size whose check is cheap, is read
    // to tell (ValidateCheckpoint); never installed.
    if ((h.flags & kCheckpointFlagPassesLeaveOutputs) == 0 || fsize > kMissingCheckMaxBytes) {
      s = Status::Corruption(over);
    }
  }
  if (s.ok()) s = DecodeCheckpoint(bytes, path, &ck->data);
  if (s.ok()) ck->over_bound = over;
  if (!s.ok()) {
    ck->note = "checkpoint ignored: " + s.message();
    ck->map.reset();
    ck->plain.clear();
    ck->data = CheckpointData();
    return;
  }
  ck->decoded = true;
}

Status ValidateCheckpoint(Env* env, const std::string& dir, const Identity& identity,
                          const Options& options, const std::vector<uint64_t>& ids,
                          uint64_t tail_id, LoadedCheckpoint* ck, bool writer_live) {
  if (!ck->decoded) return Status::OK();
  const CheckpointData& c = ck->data;
  // Segments: distinct ids and slots, present, ours, long enough, and the
  // same bytes below the covered length.
  std::set<uint64_t> seen_ids;
  std::set<uint32_t> seen_slots;
  // slot -> index in c.segments (-1: none). A flat table, not a map: it
  // is looked up once per index entry (10 M lookups at 10 M keys).
  std::vector<int32_t> by_slot(SegmentTable::kSlots, -1);
  uint64_t max_listed = 0, covered = 0;
  ck->files.clear();
  for (size_t i = 0; i < c.segments.size(); i++) {
    const CheckpointSegment& cs = c.segments[i];
    const std::string name = SegmentFileName(cs.id);
    if (!seen_ids.insert(cs.id).second || cs.slot == 0 || cs.slot >= SegmentTable::kSlots ||
        !seen_slots.insert(cs.slot).second) {
      return Ignore(ck, "duplicate or invalid segment id/slot (" + name + ")");
    }
    if (std::find(ids.begin(), ids.end(), cs.id) == ids.end()) {
      if ((c.flags & kCheckpointFlagPassesLeaveOutputs) != 0 && !writer_live &&
          !CompactedSince(env, dir, ids, c, cs.id)) {
        // No compaction retired it (that would have left an output the
        // checkpoint does not list, or one that names it): the file went
        // some other way, with the records it held. Until 2026-11-27 the
        // open went on without them.
        return Status::Corruption(dir + "/" + name +
                                  " is missing: the checkpoint lists it and no compaction "
                                  "since retired it (restore it, or the database from a "
                                  "backup)");
      }
      return Ignore(ck, "it lists a segment that is gone (" + name + ")");
    }
    if (cs.len < kSegmentHeaderSize || cs.len % kRecordAlign != 0 || cs.len > kMaxSegmentBytes ||
        (cs.flags & ~kSegmentFlagsKnown) != 0 || cs.live > cs.len || cs.dead > cs.len ||
        (cs.min_seq != UINT64_MAX && cs.min_seq > c.last_seq) || cs.inplace_seq > c.last_seq) {
      // (An in-place bound is a number an update in place gave a record
      // below the covered length, taken under the writer gate with
      // last_seq: never past it. Until 2026-11-28 a forged one was
      // installed: every iterator over the latest state then said
      // SNAPSHOT_TOO_OLD, and the close wrote it into the next checkpoint;
      // found by review.)
      return Ignore(ck, "implausible entry for " + name);
    }
    std::unique_ptr<MappedFile> f;
    Status s = env->OpenMappedFile(dir + "/" + name, cs.id == tail_id && !options.read_only, &f);
    if (!s.ok()) return Ignore(ck, s.message());
    SegmentHeader h;
    if (f->size() < cs.len || !DecodeSegmentHeader(f->data(), f->size(), f->path(), &h).ok() ||
        h.db_id != identity.db_id || h.segment_id != cs.id || h.flags != cs.flags) {
      return Ignore(ck, "segment " + name + " does not match it");
    }
    if (CheckpointTailCheck(f->data(), cs.len) != cs.tail_check) {
      return Ignore(ck, "segment " + name + " holds other bytes than it covered (a stale " +
                            "checkpoint of a diverged copy, or a forged one)");
    }
    max_listed = std::max(max_listed, cs.id);
    covered += cs.len - kSegmentHeaderSize;
    by_slot[cs.slot] = static_cast<int32_t>(i);
    ck->files.push_back(std::move(f));
  }
  if (!ck->over_bound.empty()) return Ignore(ck, ck->over_bound);
  for (uint64_t id : ids) {
    if (seen_ids.count(id) || id >= max_listed) continue;
    // A segment file older than one the checkpoint lists, which it does
    // not list. A compaction output may be one (its id is taken when its
    // pass starts, and a checkpoint may be cut between the log rolling
    // past that id and the pass publishing it): the checkpoint is then
    // ignored and every segment scanned. A log segment may not, with a
    // checkpoint of a library whose passes leave outputs (it keeps both
    // rules below since 2026-11-25):
    //  - every log segment named after a checkpoint is newer than all it
    //    lists (LogWriter::NoteListed: a spare is given a fresh id), and
    //    one named before it is listed (a roll names and adds a segment
    //    inside the writer gate, which the cut closes);
    //  - a retired segment left the table, and its file its name (removed
    //    or pooled, ".free"), with a directory sync, all under the retire
    //    mutex, which the cut holds too: a checkpoint that leaves it out
    //    was cut after its name was durably gone, and a power loss cannot
    //    bring it back. A crash between an output and the removal of its
    //    inputs leaves inputs the output names: FinishCompactions removed
    //    them before this. (A pooled file taken for a new segment gets the
    //    new segment's id and header. A removal or rename that failed, an
    //    I/O error the pass reported, would leave the file too: refused as
    //    well, which is the safe side, since scanning it would bring old
    //    records back just the same.)
    // So it is a retired file put back (an older copy of the database
    // restored over this one), whose records are older than the state the
    // checkpoint holds: scanning it brought back what was deleted or
    // overwritten since, deleted keys among them, with open and verify ok
    // (until 2026-11-28; found by review: bad_input_test stale segment).
    // The open refuses it, as it refuses a listed file that is missing;
    // salvage skips it (and leaves it there). Beside a live writer the
    // directory may be listed before a pass retires a segment and the
    // checkpoint read after: the checkpoint is only ignored then.
    const std::string path = dir + "/" + SegmentFileName(id);
    std::unique_ptr<MappedFile> f;
    SegmentHeader h;
    const bool retired_log_segment =
        (c.flags & kCheckpointFlagPassesLeaveOutputs) != 0 && !writer_live &&
        env->OpenMappedFile(path, false, &f).ok() &&
        DecodeSegmentHeader(f->data(), f->size(), path, &h).ok() &&
        h.db_id == identity.db_id && h.segment_id == id &&
        (h.flags & kSegmentFlagCompacted) == 0;
    f.reset();
    if (!retired_log_segment) {
      return Ignore(ck, "an older segment is not in it (" + SegmentFileName(id) + ")");
    }
    const std::string why =
        path + " is a log segment older than segments the checkpoint lists, which does not list "
               "it: a file compaction retired, put back (from an older copy?); its records would "
               "bring back keys deleted or overwritten since";
    if (!options.salvage) {
      return Status::Corruption(why + " (remove it, or open with the salvage option to skip it)");
    }
    ck->stale.push_back(id);
    ck->stale_notes.push_back(why + " (file skipped)");
  }
  // Namespaces: distinct ids, the default one, sane counts.
  std::set<uint32_t> ns_ids;
  for (const CheckpointNamespace& n : c.namespaces) {
    if (!ns_ids.insert(n.id).second || n.live_keys < 0 || n.ttl_keys < 0 ||
        n.ttl_keys > n.live_keys ||
        (n.id != 0 && !NamespaceTable::ValidateName(n.name).ok()) || (n.id == 0 && n.dropped)) {
      return Ignore(ck, "implausible namespace table");
    }
  }
  if (!ns_ids.count(0)) return Ignore(ck, "no default namespace");
  // Each create record it places (version 8): inside a listed segment's
  // covered bytes, a whole create record of that namespace, no newer than
  // the checkpoint, of the size given; a dropped namespace has none (its
  // drop counted it dead). One record read and checked per namespace.
  for (const CheckpointNamespace& n : c.namespaces) {
    if (n.create_loc == 0) continue;
    const Locator loc = n.create_loc;
    const uint32_t slot = LocatorSlot(loc);
    const int32_t at = slot < SegmentTable::kSlots ? by_slot[slot] : -1;
    const uint64_t off = LocatorOffset(loc);
    RecordView r;
    if (n.dropped || n.id == 0 || at < 0 || off < kSegmentHeaderSize ||
        off >= c.segments[at].len ||
        !ValidateRecord(ck->files[at]->data() + off, c.segments[at].len - off, &r,
                        ck->files[at]->data()) ||
        r.type != RecordType::kNsCreate || r.ns_id != n.id || r.size() != n.create_size ||
        r.seq > c.last_seq) {
      return Ignore(ck, "namespace " + std::to_string(n.id) +
                            ": its create record is not where it says");
    }
  }
  // Entries: every one inside a listed segment's covered bytes.
  const uint64_t n = c.entries_view.size() / kCheckpointEntrySize;
  if (n > covered / kRecordMinSize) return Ignore(ck, "too many entries");
  const uint64_t stride = n > kSampledEntries ? n / kSampledEntries : 1;
  RecordCodec key_codec;  // reads keys of sealed records (encrypted databases)
  key_codec.set_cipher(options.cipher.get());
  std::string key_buf;
  // Keys per namespace, known when every entry's record is read (the
  // ordered section must hold exactly its namespace's entries).
  std::map<uint32_t, uint64_t> keys_per_ns;
  uint32_t last_ns = UINT32_MAX;
  uint64_t* last_count = nullptr;
  const bool count_ns = !c.ordered_view.empty() && n <= kFullCheckEntries;
  // Records are read in index order, anywhere in the log: the one
  // kPrefetchAhead entries on is fetched early, so the misses overlap.
  constexpr uint64_t kPrefetchAhead = 16;
  std::string why;  // the first entry found bad
  ForEachCheckpointEntry(c, [&](uint64_t i, uint64_t hash_bits, Locator loc) {
    if (!why.empty()) return;
    if (n <= kFullCheckEntries && i + kPrefetchAhead < n) {
      const Locator ahead = HashIndex::UnpackLocator(
          DecodeU64(c.entries_view.data() + (i + kPrefetchAhead) * kCheckpointEntrySize));
      const int32_t at = by_slot[LocatorSlot(ahead)];
      if (at >= 0 && LocatorOffset(ahead) + kRecordPeekSize <= c.segments[at].len) {
        __builtin_prefetch(ck->files[at]->data() + LocatorOffset(ahead));
      }
    }
    // (A Locator's slot is below kSlots by construction; the all-ones one,
    // the index's deleted marker, is refused before the table is indexed.
    // The entry's hash bits hold only the shard and tag by construction.)
    if (loc == kLocatorMaskAll) {
      why = "index entry " + std::to_string(i) + " points outside the log";
      return;
    }
    const int32_t at = by_slot[LocatorSlot(loc)];
    const uint64_t off = LocatorOffset(loc);
    if (at < 0 || off < kSegmentHeaderSize || off + kRecordPeekSize > c.segments[at].len) {
      why = "index entry " + std::to_string(i) + " points outside the log";
      return;
    }
    const bool sampled = i % stride == 0;
    if (!sampled && n > kFullCheckEntries) return;
    // A key record inside the covered bytes, no newer than the checkpoint,
    // whose key hashes to the entry (sampled ones: checksum too).
    const CheckpointSegment& cs = c.segments[at];
    const char* base = ck->files[at]->data();
    RecordView r = PeekRecord(base + off, base);
    // (Not sampled: the layout too, cheaply; reads check the rest,
    // RecordIntact, until the scrub has validated the segment.)
    const bool ok = sampled ? ValidateRecord(base + off, cs.len - off, &r, base)
                            : r.size() <= cs.len - off && RecordLayoutFits(r.flags, base);
    if (!ok || (r.type != RecordType::kPut && r.type != RecordType::kDelete) ||
        r.seq > c.last_seq ||
        (KeyHash(identity.hash_seed, r.ns_id, key_codec.Key(r, &key_buf)) & ~kDroppedHashMask) !=
            hash_bits) {
      why = "index entry " + std::to_string(i) + " does not point at its key's " +
            "record in " + SegmentFileName(cs.id);
      return;
    }
    if (count_ns) {
      if (r.ns_id != last_ns) {
        last_ns = r.ns_id;
        last_count = &keys_per_ns[r.ns_id];
      }
      ++*last_count;
    }
  });
  if (!why.empty()) return Ignore(ck, why);
  ck->valid = true;
  // The ordered section: used only if it matches the entries exactly; if
  // not, the hash entries are still loaded and the ordered indexes rebuilt.
  ck->ordered_note = CheckOrderedSection(*ck, key_codec, count_ns ? &keys_per_ns : nullptr, &ck->ordered);
  return Status::OK();
}

Status InstallCheckpoint(LoadedCheckpoint* ck, Keyspace* ks, NamespaceTable* ns,
                         RecoveryResult* res,
                         std::map<uint64_t, std::pair<std::shared_ptr<Segment>, uint64_t>>* out) {
  const CheckpointData& c = ck->data;
  std::unordered_map<uint32_t, uint64_t> id_of_slot;  // (the namespaces' create records)
  for (size_t i = 0; i < c.segments.size(); i++) {
    const CheckpointSegment& cs = c.segments[i];
    id_of_slot[cs.slot] = cs.id;
    FIRKIN_RETURN_IF_ERROR(ks->segments().ClaimSlot(cs.slot));
    auto seg = std::make_shared<Segment>(cs.id, cs.slot, std::move(ck->files[i]), cs.len, cs.flags);
    seg->sealed.store(true);
    Keyspace::SetCounts(seg.get(), cs.live, cs.dead);
    seg->min_seq.store(cs.min_seq);
    seg->min_expiry.store(cs.min_expiry);
    seg->NoteInPlaceSeq(cs.inplace_seq);
    ks->segments().Add(seg);
    (*out)[cs.id] = {seg, cs.len};
    res->segments++;
  }
  for (const CheckpointNamespace& n : c.namespaces) {
    NamespaceInfo* info = n.id == 0 ? ns->Default().get() : ns->Create(n.id, n.name, n.flags).get();
    info->live_keys.store(n.live_keys);
    info->ttl_keys.store(n.ttl_keys);
    info->min_expiry.store(n.min_expiry);
    // Where its create record counts live (validated): a drop counts it
    // dead (NamespaceInfo::create_loc). Until 2026-11-29 it was not known
    // after a checkpoint load (version 7 still leaves it so).
    // It is also the segment whose copy a read-only handle's refresh
    // watches go (NamespaceInfo::create_seg): known here, that handle need
    // not read the checkpoint's segments for it as they go (until
    // 2026-11-29 it read each once, FindCheckpointCreates, which now
    // serves version-7 files only).
    if (n.create_loc != 0) {
      const uint64_t seg_id = id_of_slot.at(LocatorSlot(n.create_loc));
      info->SetCreateCopy(n.create_loc, seg_id, n.create_size);
      info->create_seg.store(seg_id, std::memory_order_relaxed);
    }
    if (n.dropped) {
      ns->Drop(n.id);
      info->drop_seq.store(c.last_seq);  // (at or above its drop record's)
    }
  }
  const uint64_t n = c.entries_view.size() / kCheckpointEntrySize;
  ForEachCheckpointEntry(c, [&](uint64_t, uint64_t hash_bits, Locator loc) {
    ks->index().LoadEntry(hash_bits, loc);  // open: no other thread yet
  });
  // The ordered indexes saved with it: from now on the replay of the log
  // past the checkpoint keeps them in step (Keyspace::Install), and open
  // builds only the ordered namespaces that were not loaded here.
  for (const OrderedImage& img : ck->ordered) {
    ks->MakeOrdered(img.ns_id)->LoadChunks(img.chunks);
    res->ordered_keys_loaded += img.n_keys;
  }
  res->ordered_note = ck->ordered_note;
  res->last_seq = c.last_seq;
  res->checkpoint_entries = n;
  res->used_checkpoint = true;
  return Status::OK();
}

}  // namespace firkin
