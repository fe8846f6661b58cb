#include "core/log/log_reader.h"
#include "core/recovery/recovery.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <utility>

#include "core/keyspace/keyspace.h"
#include "core/keyspace/namespaces.h"
#include "core/keyspace/options.h"
#include "core/log/live_file.h"
#include "core/log/seq_publisher.h"
#include "core/recovery/checkpoint.h"
#include "core/recovery/checkpoint_load.h"
#include "core/recovery/leftovers.h"
#include "core/recovery/replayer.h"
#include "core/util/epoch.h"

namespace firkin {
namespace {

// How much a cut of the log tail at `from` really lost: the bytes up to the
// last non-zero byte, looking no further than kTornScanGap zero bytes past
// the last non-zero one (a record written after a hole left by a writer
// that died mid-copy is found; the zeros of a preallocated 64 MiB segment
// are not all read: recovery costs what was written, issue 9 item 11).
constexpr uint64_t kTornScanGap = 64 * 1024;
uint64_t TornExtent(const char* data, uint64_t from, uint64_t end, const LogReader& reader) {
  uint64_t last = from;  // one past the last non-zero byte seen
  for (uint64_t p = from; p < end && p < last + kTornScanGap; p += 8) {
    // A recycled segment's earlier life is not part of the torn tail.
    if (reader.StaleAt(p)) break;
    const uint64_t n = std::min<uint64_t>(8, end - p);
    for (uint64_t i = 0; i < n; i++) {
      if (data[p + i] != 0) last = p + i + 1;
    }
  }
  return last - from;
}

// Opens and registers one segment for a full scan. *out stays null when the
// segment is skipped (a half-created leftover, or a damaged/foreign file
// under salvage).
Status OpenSegment(Env* env, const std::string& path, uint64_t id, bool last,
                   const Identity& identity, const Options& options, Keyspace* ks,
                   RecoveryResult* res, std::shared_ptr<Segment>* out) {
  std::unique_ptr<MappedFile> file;
  Status hs = env->OpenMappedFile(path, last && !options.read_only, &file);
  if (hs.IsNotFound()) {
    // Listed, then not there: a dangling symbolic link, or a file removed
    // meanwhile (a read-only open beside a writer starts over on it, and
    // salvage must not skip it as damage: returned at once). Not the
    // key-absent status, which firkin_open gives only for a missing
    // database directory.
    return Status::Corruption(path + " is listed in the database directory but cannot be " +
                              "opened (" + hs.message() + "; a dangling symbolic link?)");
  }
  if (hs.ok() && file->size() > kMaxSegmentBytes) {
    hs = Status::Corruption(path + ": " + std::to_string(file->size()) +
                            " bytes is larger than any segment can be");
  }
  if (!hs.ok() && hs.code() != Status::Code::kCorruption) return hs;  // I/O error
  const char* data = hs.ok() ? file->data() : nullptr;
  const uint64_t size = hs.ok() ? file->size() : 0;
  SegmentHeader h;
  if (hs.ok()) hs = DecodeSegmentHeader(data, size, path, &h);
  if (!hs.ok()) {
    if (hs.code() == Status::Code::kVersion) return hs;
    // (Segments cut short while being created were removed before the scan
    // when that could be proved; an empty, zeroed or special file, or a bad
    // header here is damage.)
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

// The first log segment (not a compaction output) after ids[i]: its
// header, its watermark, and the sequence number of its first record (0
// if it has no valid one of its own). False if there is none or it cannot
// be read (it is then opened, and judged, when its turn comes).
bool NextLogSegment(Env* env, const std::string& dir, const std::vector<uint64_t>& ids, size_t i,
                    SegmentHeader* h, uint64_t* first_seq, uint64_t* durable) {
  for (size_t k = i + 1; k < ids.size(); k++) {
    const std::string path = dir + "/" + SegmentFileName(ids[k]);
    std::unique_ptr<MappedFile> file;
    if (!env->OpenMappedFile(path, /*writable=*/false, &file).ok()) return false;
    if (!DecodeSegmentHeader(file->data(), file->size(), path, h).ok()) return false;
    if ((h->flags & kSegmentFlagCompacted) != 0) continue;
    *durable = DecodeDurableLen(file->data());
    LogReader reader(file->data(), kSegmentHeaderSize, file->size());
    RecordView r;
    uint64_t at;
    // (A record at or below a recycled file's floor is from its earlier
    // life: this one holds no record of its own there.)
    *first_seq = reader.Next(&r, &at) == LogReader::Result::kRecord && r.seq > h->seq_floor
                     ? r.seq
                     : 0;
    // (A first record updated in place, which only the build of
    // 2026-11-25 wrote, carries a newer number than the one that followed
    // the previous segment: after a power loss the next segment is then
    // cut, as it would be after a hole; it was never synced, see below.)
    return true;
  }
  return false;
}

// In-place updates, after a kill -9 on this boot (LiveFile): puts the
// slot image of every record of segment `id` (mapped writable at `data`,
// `size` bytes) that an overwrite left torn (not a whole record) in its
// place. A whole overwrite stays, published or not: its put may have
// returned before its number was published (LogWriter::Complete). Of
// several images of one place (slots of earlier overwrites stay behind),
// the newest is that of the overwrite the kill cut short: overwrites of
// one record take turns under its key's lock, and each writes its whole
// image, the record it makes, before it changes the record. (A LIVE file
// of a library before 2026-11-26 holds undo images, the records the
// overwrites replaced: the newest is then the version the torn overwrite
// replaced, and putting it back is as right.)
// Synced bytes (below `durable`) never change, so no image is put back
// there.
// `overlay`: a read-only open (no writer), which writes nothing: each image
// goes into private copies of its pages in the segment's own mapping
// (MappedFile::OverlayPrivate), and `data` is that mapping. Where the Env
// cannot, the torn record stays and ends what the handle reads, as before
// 2026-11-30, when every read-only open did that: it read nothing past
// the record, though the records past it were whole and acknowledged, and
// overwrites below it numbered after them were read (a hole the writer
// never had: readers_test torn_image).
void RestoreImages(char* data, uint64_t size, uint64_t id, uint64_t durable,
                   const LiveFile::Recovered& live, RecoveryResult* res,
                   MappedFile* overlay = nullptr) {
  std::map<uint64_t, const LiveFile::Recovered::Image*> pick;  // offset -> image
  for (const LiveFile::Recovered::Image& u : live.images) {
    if (u.segment_id != id || u.offset < std::max<uint64_t>(kSegmentHeaderSize, durable) ||
        u.offset > size || u.image.size() > size - u.offset) {
      continue;
    }
    const uint64_t seq = DecodeU64(u.image.data() + 8);
    auto [it, fresh] = pick.emplace(u.offset, &u);
    if (!fresh && DecodeU64(it->second->image.data() + 8) < seq) it->second = &u;
  }
  for (const auto& [off, u] : pick) {
    char* cur = data + off;
    RecordView r;
    if (ValidateRecord(cur, size - off, &r, data)) continue;
    // The lengths an overwrite never changes must agree with the image's,
    // and its layout must fit the segment (LiveFile::Read checked its
    // checksum, without a segment to check the layout against).
    const RecordView img = PeekRecord(u->image.data());
    const RecordView now = PeekRecord(cur);
    if (now.key_len != img.key_len || now.value_len != img.value_len || now.flags != img.flags ||
        now.type != img.type || !RecordLayoutFits(img.flags, data)) {
      continue;
    }
    if (overlay != nullptr) {
      if (!overlay->OverlayPrivate(off, u->image.data(), u->image.size())) continue;
    } else {
      std::memcpy(cur, u->image.data(), u->image.size());
    }
    res->images_restored++;
  }
}

}  // namespace

Status Recover(Env* env, const std::string& dir, const Identity& identity,
               const Options& options, std::unique_ptr<Keyspace>* keyspace,
               NamespaceTable* ns, RecoveryResult* res, bool watermark_bound) {
  std::vector<std::string> names;
  FIRKIN_RETURN_IF_ERROR(env->ListDir(dir, &names));
  std::vector<uint64_t> ids;
  for (const std::string& n : names) {
    uint64_t id;
    if (ParseSegmentFileName(n, &id)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  res->listed_ids = ids;
  if (!ids.empty()) res->next_segment_id = ids.back() + 1;
  // The checkpoint is read first (bounded, nothing trusted yet): the
  // segments it lists are never taken for leftovers.
  LoadedCheckpoint ck;
  ReadCheckpoint(env, dir, identity, options.cipher.get(), ids, &ck);
  // The previous writer's LIVE file (in-place updates): on the same boot
  // the page cache it wrote is intact.
  // (Not beside a live writer: a reader reads only what that writer made
  // durable or closed, bytes no overwrite changes any more; its LIVE page
  // moves on meanwhile.)
  LiveFile::Recovered live;
  if (!watermark_bound) FIRKIN_RETURN_IF_ERROR(LiveFile::Read(env, dir, &live));
  res->same_boot = live.same_boot;
  // The tail of the log is the newest segment the log writer wrote
  // (compaction outputs may have higher ids but are always complete).
  uint64_t tail_id = 0;
  FIRKIN_RETURN_IF_ERROR(FinishCompactions(env, dir, options, &ids, res, &tail_id));
  res->tail_id = tail_id;
  FIRKIN_RETURN_IF_ERROR(
      ValidateCheckpoint(env, dir, identity, options, ids, tail_id, &ck, watermark_bound));
  res->checkpoint_note = ck.note;
  // Retired log segments put back, which salvage skips (ValidateCheckpoint):
  // left in place, never scanned.
  for (size_t i = 0; i < ck.stale.size(); i++) {
    ids.erase(std::remove(ids.begin(), ids.end(), ck.stale[i]), ids.end());
    uint64_t size = 0;
    bool is_dir = false;
    if (env->Stat(dir + "/" + SegmentFileName(ck.stale[i]), &is_dir, &size).ok()) {
      res->salvaged_bytes += size;
    }
    res->salvaged_regions++;
    res->salvage_report.push_back(ck.stale_notes[i]);
  }
  // The index is sized only from a validated checkpoint (issue 9, item 7),
  // or from the option expected_keys if that is larger: made that large at
  // once, its pages populated. A hint whose index would take more than
  // half of this machine's memory is refused here, before the kernel's
  // OOM killer meets it (4 G keys took 24 GiB on a 24 GiB machine and the
  // process was killed).
  const uint64_t ck_keys = ck.valid ? ck.data.entries_view.size() / kCheckpointEntrySize : 0;
  if (options.expected_keys > ck_keys) {
    const uint64_t need = HashIndex::BytesFor(options.expected_keys);
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    const uint64_t phys = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
    if (phys != 0 && need > phys / 2) {
      return Status::InvalidArgument(
          "option expected_keys=" + std::to_string(options.expected_keys) + ": its index would take " +
          std::to_string(need >> 20) + " MiB at open, more than half of this machine's " +
          std::to_string(phys >> 20) + " MiB of memory");
    }
  }
  const uint64_t index_keys = std::max<uint64_t>(options.expected_keys, ck_keys);
  try {
    *keyspace = std::make_unique<Keyspace>(identity.hash_seed, index_keys, options.cipher.get());
  } catch (const std::bad_alloc&) {
    return Status::NoMemory("out of memory making the index for " + std::to_string(index_keys) +
                            " keys (expected_keys, or the checkpoint's count)");
  }
  Keyspace* ks = keyspace->get();
  Replayer replay(ks, ns, res);
  Epoch::Guard guard;  // FindNewest is a reader call

  // Segments covered by a valid checkpoint are registered by it, with the
  // offset from which the log must still be replayed.
  std::map<uint64_t, std::pair<std::shared_ptr<Segment>, uint64_t>> covered;
  if (ck.valid) FIRKIN_RETURN_IF_ERROR(InstallCheckpoint(&ck, ks, ns, res, &covered));
  ck.map.reset();  // the entries were copied into the index (and the ordered ones)
  ck.ordered.clear();
  std::string().swap(ck.plain);  // (an encrypted checkpoint's plaintext too)

  // A log segment is sealed in the background after the next one exists
  // (LogWriter::Roll), and that next one says so (kSegmentFlagAfterUnsealed,
  // with the sealing one's last sequence number). Such an unsealed segment
  // is read like the tail of the log: a power loss may have cut it short,
  // and then every later log segment follows a hole and is dropped (`cut`).
  bool cut = false;
  for (size_t i = 0; i < ids.size(); i++) {
    const uint64_t id = ids[i];
    const bool last = (id == tail_id);
    const std::string path = dir + "/" + SegmentFileName(id);
    res->next_segment_id = std::max(res->next_segment_id, id + 1);
    if (cut) {
      // Compaction outputs stay (their inputs were sealed before the cut
      // segment was created); log segments go.
      SegmentHeader h;
      bool log_segment = true;
      std::unique_ptr<MappedFile> file;
      if (env->OpenMappedFile(path, false, &file).ok() &&
          DecodeSegmentHeader(file->data(), file->size(), path, &h).ok()) {
        log_segment = (h.flags & kSegmentFlagCompacted) == 0;
      }
      file.reset();
      if (log_segment) {
        if (covered.count(id) != 0) {
          return Status::Corruption(path + ": the checkpoint covers a log segment that follows "
                                           "one a power loss cut short");
        }
        res->segments_cut++;
        if (!options.read_only) FIRKIN_RETURN_IF_ERROR(env->RemoveFile(path));
        continue;
      }
    }
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
    // Not the last, but maybe not sealed when the next log segment was
    // made (that one says so)? A sealed segment was truncated to its
    // records (its size is a record boundary and its watermark), an
    // unsealed one is still its preallocated size (whole pages) with a
    // watermark below it. The first record of the next log segment has
    // the sequence number that follows this one's last.
    bool unsealed = false;
    uint64_t next_first = 0, next_durable = 0;
    if (!last && (seg->flags() & kSegmentFlagCompacted) == 0 && durable < size) {
      SegmentHeader nh;
      unsealed = NextLogSegment(env, dir, ids, i, &nh, &next_first, &next_durable) &&
                 (nh.flags & kSegmentFlagAfterUnsealed) != 0;
    }
    const bool tail = last || unsealed;
    // The file to cut and seal through: the tail's own mapping is
    // writable; an unsealed segment before it is mapped read-only, so a
    // second, writable mapping of it (msync and ftruncate act on the file).
    std::unique_ptr<MappedFile> wfile;
    auto writable = [&]() -> Status {
      if (last) return Status::OK();
      if (wfile == nullptr) FIRKIN_RETURN_IF_ERROR(env->OpenMappedFile(path, true, &wfile));
      return Status::OK();
    };
    auto wf = [&]() -> MappedFile* { return last ? seg->file() : wfile.get(); };
    // A recycled segment's floor is a sequence number that was handed out
    // before it: sequence numbers never go back, even if every record up
    // to it has been compacted away.
    // (Encrypted: not past kMaxUnauthenticatedSeq, as the header is not
    // authenticated.)
    if (!ks->codec().sealing() || SegmentSeqFloor(data) <= kMaxUnauthenticatedSeq) {
      res->last_seq = std::max(res->last_seq, SegmentSeqFloor(data));
    }
    // Replay reads earlier records of this segment through the index: all
    // of the file is readable while it is scanned; the end is fixed below.
    seg->set_published_len(size);
    const bool truncated = durable > size;  // (a record it tore is part of it: below)
    if (truncated) {
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
    if (last && watermark_bound) {
      // A live writer appends past the watermark and truncates the file
      // when it seals: only what lies below the watermark is read.
      end = std::max(std::min(durable, size), std::min(off, size));
    } else if (unsealed && watermark_bound) {
      // One it closed and may seal (truncate) at any moment: where its
      // records end is read with pread, not through the mapping, which
      // would fault past the truncated end (as Follower::CatchUp).
      // (Retired since: sealed, so its watermark ends its records.)
      FIRKIN_RETURN_IF_ERROR(
          WholeRecordsEnd(env, path, data, std::max(off, std::min(durable, size)), size, &end));
    }
    // A segment read from its first record with nothing skipped has had
    // every record validated: reads need not check them again.
    bool validated = off == kSegmentHeaderSize;
    // A segment whose records may have been updated in place
    // (docs/write_path.md, "In-place updates"), read like the tail: after a
    // kill -9 on this boot, the overwrites cut short are made whole, and every
    // record up to the published number kept, and every whole overwrite
    // (its put does not wait for its publication); after a power loss, the log
    // is cut at the first record above the watermark that was overwritten
    // (the numbers it had before are lost) or that does not follow its
    // predecessor's number (it follows one an overwrite took).
    const bool inplace_tail =
        tail && !watermark_bound && (seg->flags() & kSegmentFlagInPlace) != 0;
    if (inplace_tail && live.same_boot) {
      // A LIVE page that claims much less than what is durable here is not
      // the page of the writer that wrote this (damaged, or a copy from
      // another moment): recovery then trusts nothing of it. (A little
      // less is a kill between a raise of the published length, which a
      // sync may cover, and the raise of the number: SeqPublisher keeps
      // them at most kRing apart.)
      const uint64_t synced_end = std::min(durable, end);
      if (off < synced_end) {
        LogReader below(data, off, synced_end, /*checksums=*/false);
        RecordView r;
        uint64_t at;
        while (below.Next(&r, &at) == LogReader::Result::kRecord) {
          if (r.seq > live.published + SeqPublisher::kRing) {
            live.same_boot = false;
            res->same_boot = false;
            break;
          }
        }
      }
    }
    if (inplace_tail && live.same_boot && !options.read_only) {
      FIRKIN_RETURN_IF_ERROR(writable());
      RestoreImages(wf()->data(), size, id, durable, live, res);
    } else if (inplace_tail && live.same_boot) {
      // (A read-only open: `data` is the segment's own mapping.)
      RestoreImages(const_cast<char*>(data), size, id, durable, live, res, seg->file());
    }
    uint64_t prev_seq = 0;
    // The highest number on a record of this segment that was appended, not
    // updated in place (for `whole`, below).
    uint64_t appended_hi = 0;
    // Sealed records are authenticated before they are applied (a record
    // whose checksum was made to match changed bytes would otherwise be
    // replayed as another key's, namespace's or type): a failed tag is
    // damage at its offset, as a failed checksum.
    LogReader reader(data, off, end, /*checksums=*/true, &ks->codec());
    // (Salvage's resync believes a record after damage only where the
    // records from it run on to where they end: in the tail, any stop at or
    // past the watermark, the torn tail cut below. LogReader::Resync.)
    if (tail) reader.set_torn_from(durable);
    for (;;) {
      RecordView r;
      LogReader::Result got = reader.Next(&r, &off);
      if (got == LogReader::Result::kEnd) break;
      if (got == LogReader::Result::kRecord && inplace_tail && off >= durable) {
        // (Same boot: an overwritten record lies in a place that was
        // published before its first overwrite, below every append not yet
        // published; whole, after RestoreImages, it is kept at any number.)
        const uint32_t counter = r.counter();
        const bool keep =
            live.same_boot
                ? r.seq <= live.published || counter != 0
                : counter == 0 && (prev_seq == 0 || r.seq == prev_seq || r.seq == prev_seq + 1);
        if (!keep) got = LogReader::Result::kDamaged;  // cut here, as a torn tail
      }
      if (got == LogReader::Result::kRecord) {
        prev_seq = r.seq;
        if (r.counter() == 0) appended_hi = std::max(appended_hi, r.seq);
        replay.Apply(seg.get(), off, r, reader.authenticated_key());
        continue;
      }
      if (tail && off >= durable) {
        // The torn tail of the log: cut it off.
        res->torn_bytes += TornExtent(data, off, end, reader);
        end = off;
        if (!options.read_only) {
          FIRKIN_RETURN_IF_ERROR(writable());
          FIRKIN_RETURN_IF_ERROR(wf()->Truncate(end));
        }
        break;
      }
      std::string where = path + ": damaged record at offset " + std::to_string(off);
      if (!options.salvage) {
        return Status::Corruption(where + " (open with the salvage option to skip it)");
      }
      validated = false;
      const uint64_t skipped = reader.Resync();
      res->salvaged_at.push_back({id, off, skipped});
      res->salvaged_bytes += skipped;
      // The record a truncation cut in two, at the file's new end: it claims
      // more bytes than are left, and no more than the sealed length had
      // (it was whole then): the region reported above, not another (until
      // 2026-11-28 counted and reported twice; found by review). A whole
      // record with a damaged length before the cut claims more: reported.
      if (truncated && off + skipped >= end) {
        const uint64_t claimed = end - off < kRecordMinSize ? 0 : PeekRecord(data + off).size();
        if (end - off < kRecordMinSize || (claimed > end - off && off + claimed <= durable)) {
          continue;
        }
      }
      res->salvaged_regions++;
      res->salvage_report.push_back(where + ", " + std::to_string(skipped) + " bytes skipped");
    }
    // The writer's recovery seals the tail as a roll would: the records it
    // kept made durable, then the watermark raised to their end. A reader
    // beside the next writer reads the newest log segment only up to its
    // watermark, and until that writer's first write the old tail is the
    // newest: left at a writer's last sync (it was killed between syncs), a
    // reader would see less than it saw while no writer ran (readers_test).
    if (tail && !options.read_only && end > durable) {
      FIRKIN_RETURN_IF_ERROR(writable());
      Status ss = wf()->Sync(durable, end - durable);
      if (ss.ok()) {
        EncodeDurableLen(wf()->data(), end);
        ss = wf()->Sync(kWatermarkOffset, kSegmentHeaderSize - kWatermarkOffset);
      }
      FIRKIN_RETURN_IF_ERROR(ss);
    }
    wfile.reset();
    seg->set_published_len(end);
    seg->synced_len = end;
    if (validated) seg->checked.store(true);
    // Every record of an unsealed segment up to the one before the next
    // segment's first must be here (the records, or a checkpoint that
    // covered them); if any is missing, so is everything after it. (A next
    // segment without a valid first record keeps nothing of its own.)
    // Not beside a live writer, nor after a kill -9 on this boot (LIVE
    // trusted): the page cache holds the whole segment, and the next one
    // was made only once every number of this one was published
    // (LogWriter::Roll), so nothing is missing. There the check could only
    // be wrong: a segment written before 2026-11-27 may end with a number
    // on no record (LogWriter::ReserveSeq), and the whole next segment,
    // acknowledged writes and all, was dropped for it. After a power loss
    // the next segment holds nothing that was synced: every sync seals the
    // queued segment first (LogWriter::SyncRangeLocked).
    // The last number this segment holds whole: a batch whose commit
    // record the end cut off is not here, though its first records carry
    // its number (until 2026-11-27 it counted, and the next segment's
    // records were kept after the lost batch: a hole; powerloss_test,
    // "tears the batch ending a segment").
    // Where nothing of the next segment was ever synced (its watermark on
    // disk still at its header), not a number a record updated in place
    // carries (2026-11-30): an overwrite takes its number while appends
    // numbered before it may still be copied, past the published length a
    // sync then makes durable (LogWriter::SyncPublished), so such a record
    // below the watermark says nothing of the numbers below its own. With
    // it, a power loss that cut those appends kept the next segment: a
    // hole (recovery_regress_test "inplace_cut"). A segment whose last
    // numbers all went in place then loses the next segment with them,
    // whose writes no sync covered: a suffix. A next segment that was
    // synced follows one whose records were all there when it was (the
    // sync sealed it first, or an earlier recovery read it, made what it
    // kept durable and left it unsealed-looking, e.g. whole after a kill
    // -9): there the numbers count as before (recovery_regress_test
    // "inplace_whole").
    uint64_t whole = res->last_seq;
    if (appended_hi != 0 && next_durable <= kSegmentHeaderSize) whole = appended_hi;
    if (replay.pending_batch() != 0 && replay.pending_batch() == whole) whole--;
    if (unsealed && next_first != 0 && !watermark_bound && !live.same_boot &&
        whole + 1 < next_first) {
      cut = true;
    }
  }
  replay.Finish();
  FIRKIN_RETURN_IF_ERROR(replay.status());
  std::sort(res->salvaged_at.begin(), res->salvaged_at.end());  // (SalvagedBytesAt)
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
