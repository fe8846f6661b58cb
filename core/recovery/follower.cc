#include "core/recovery/follower.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "core/keyspace/options.h"
#include "core/log/log_reader.h"
#include "core/recovery/replayer.h"
#include "core/util/atomic_bound.h"
#include "core/util/coding.h"
#include "core/util/epoch.h"

namespace firkin {
namespace {

// How often a catch-up starts over because the directory changed while it
// read (the writer rolled or compacted right then) before it goes on with
// what it has (which is still a consistent state).
constexpr int kMaxAttempts = 8;

// A watermark rewrite in progress reads as 0 (its check fails): read again.
uint64_t ReadWatermark(const char* data) {
  uint64_t wm = 0;
  for (int i = 0; i < 100 && wm == 0; i++) wm = DecodeDurableLen(data);
  return wm;
}

// A segment mapped during a catch-up, not yet published to readers.
struct NewSegment {
  uint64_t id;
  uint32_t flags;
  std::unique_ptr<MappedFile> file;
  std::vector<uint64_t> inputs;  // a compaction output's input ids
  uint64_t history_floor = 0;    // the floor it records (0: none recorded)
};

}  // namespace

Follower::Follower(Env* env, std::string dir, const Identity& identity, const Options& options,
                   Keyspace* ks, NamespaceTable* ns, const RecoveryResult& recovered)
    : env_(env),
      dir_(std::move(dir)),
      identity_(identity),
      options_(options),
      ks_(ks),
      ns_(ns) {
  std::set<uint64_t> held;
  for (const auto& s : ks_->segments().List()) held.insert(s->id());
  for (uint64_t id : recovered.listed_ids) {
    seen_.insert(id);
    if (held.count(id) == 0) ignored_.insert(id);
  }
  for (uint64_t id : held) seen_.insert(id);
  from_open_ = held;
}

void Follower::FindCheckpointCreates(const std::vector<std::shared_ptr<Segment>>& gone) {
  // Only the checkpoint's namespaces can lack the segment (every create
  // record replayed since sets it); placeholders (no name yet) are left.
  std::set<uint32_t> unknown;
  for (const auto& info : ns_->AllIncludingDropped()) {
    if (info->id != 0 && !info->name.empty() &&
        info->create_seg.load(std::memory_order_relaxed) == 0) {
      unknown.insert(info->id);
    }
  }
  for (const auto& seg : gone) {
    if (unknown.empty()) return;
    if (from_open_.count(seg->id()) == 0) continue;  // replayed whole here
    // What the checkpoint covered of it lies below what this handle read
    // (the mapping of a retired file stays readable); the rest was
    // replayed (a create record there set create_seg). A damaged record
    // ends the look: a create record past it stays unknown, and its
    // namespace stays listed, as it did before.
    const uint64_t end = seg->published_len();
    LogReader reader(seg->data(), kSegmentHeaderSize, end, /*checksums=*/true,
                     ks_->AuthFor(*seg));
    RecordView r;
    uint64_t at;
    for (LogReader::Result got; (got = reader.Next(&r, &at)) == LogReader::Result::kRecord;) {
      if (r.type != RecordType::kNsCreate || unknown.erase(r.ns_id) == 0) continue;
      if (NamespaceInfo* info = ns_->ById(r.ns_id)) {
        info->create_seg.store(seg->id(), std::memory_order_relaxed);
      }
    }
    stats_.create_scan_bytes += end > kSegmentHeaderSize ? end - kSegmentHeaderSize : 0;
  }
}

void Follower::ForgetGone() {
  for (uint32_t id : forget_) ns_->Forget(id);
  stats_.namespaces_forgotten += forget_.size();
  forget_.clear();
}

Status Follower::ListSegments(std::vector<uint64_t>* ids) {
  std::vector<std::string> names;
  FIRKIN_RETURN_IF_ERROR(env_->ListDir(dir_, &names));
  ids->clear();
  for (const std::string& n : names) {
    uint64_t id;
    if (ParseSegmentFileName(n, &id)) ids->push_back(id);
  }
  std::sort(ids->begin(), ids->end());
  return Status::OK();
}

Status Follower::ReadableEnd(const std::string& path, const char* data, uint64_t capacity,
                             uint32_t flags, bool newest_log, uint64_t* end,
                             uint64_t* file_end) {
  bool is_dir = false;
  uint64_t size = 0;
  FIRKIN_RETURN_IF_ERROR(env_->Stat(path, &is_dir, &size));
  size = std::min(size, capacity);
  *file_end = size;
  if (newest_log && (flags & kSegmentFlagCompacted) == 0) {
    size = std::min(size, ReadWatermark(data));
  }
  *end = size;
  return Status::OK();
}

Status Follower::ClosedRecordsEnd(const Segment& seg, uint64_t from, uint64_t* end) {
  const uint64_t start = std::max(from, ReadWatermark(seg.data()));
  if (start >= *end) return Status::OK();  // below the watermark: in the file for good
  uint64_t whole = start;
  // (Gone since: compaction retired it, so it was sealed, its watermark is
  // the end of its records now, and the mapping holds them.)
  FIRKIN_RETURN_IF_ERROR(WholeRecordsEnd(env_, seg.path(), seg.data(), start, *end, &whole));
  *end = std::min(*end, whole);
  return Status::OK();
}

Status Follower::CatchUp(uint64_t* last_seq, NsCountDeltas* counts, uint64_t* newest_time) {
  *newest_time = 0;
  std::vector<uint64_t> ids;
  std::vector<NewSegment> fresh;
  std::vector<std::shared_ptr<Segment>> held;
  std::set<uint64_t> now_ignored;
  std::set<uint64_t> present;
  uint64_t newest_log = 0;
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> bounds;  // id -> (end, file end)
  bool relisted = false;  // (below: a held segment the listing lacks)
  // Lists and maps what is new. It changes nothing but locals (and the
  // retry count): out of memory here leaves the handle as it was.
  auto list_new = [&]() -> Status {
    for (int attempt = 0;; attempt++) {
      fresh.clear();
      now_ignored.clear();
      FIRKIN_RETURN_IF_ERROR(ListSegments(&ids));
      held = ks_->segments().List();
      bool vanished_new = false;
      for (uint64_t id : ids) {
        if (seen_.count(id) != 0) continue;
        NewSegment n;
        n.id = id;
        const std::string path = dir_ + "/" + SegmentFileName(id);
        Status s = env_->OpenMappedFile(path, /*writable=*/false, &n.file);
        if (s.IsNotFound()) {
          vanished_new = true;  // retired between the listing and now
          break;
        }
        FIRKIN_RETURN_IF_ERROR(s);
        SegmentHeader h;
        FIRKIN_RETURN_IF_ERROR(DecodeSegmentHeader(n.file->data(), n.file->size(), path, &h));
        if (h.db_id != identity_.db_id || h.segment_id != id) {
          return Status::Corruption(path + ": segment belongs to another database or was "
                                    "renamed; the file was left untouched");
        }
        n.flags = h.flags;
        if ((h.flags & kSegmentFlagCompacted) != 0) {
          if (!ReadCompactionInputs(n.file->data(), n.file->size(), &n.inputs,
                                    &n.history_floor)) {
            return Status::Corruption(path + ": compaction output without its input list");
          }
          // Encrypted: the floor counts only where the output's MAC holds
          // (docs/format.md, "Authenticated header values"); else it is
          // unknown, as an older library's.
          uint64_t done_off = 0;
          RecordView done;
          if (ks_->codec().sealing() &&
              (!FindDoneMarker(n.file->data(), n.file->size(), &done_off, &done) ||
               DoneMarkerMac(n.file->data(), n.file->size(), done_off, ks_->codec().cipher()) !=
                   HeaderMac::kValid)) {
            n.history_floor = 0;
          }
        }
        fresh.push_back(std::move(n));
      }
      if (vanished_new && attempt + 1 < kMaxAttempts) {
        stats_.retries++;
        continue;
      }
      if (vanished_new) {
        return Status::Busy("the database directory kept changing during the refresh; try again");
      }
      // Inputs of a new compaction output that were never replayed here are
      // never replayed: replaying some inputs of a compaction without the
      // others could bring back what a dropped tombstone deleted.
      for (const NewSegment& n : fresh) {
        for (uint64_t in : n.inputs) {
          if (seen_.count(in) == 0) now_ignored.insert(in);
        }
      }
      present = std::set<uint64_t>(ids.begin(), ids.end());
      // A held segment missing from the listing that no new output names as
      // an input: the writer may have renamed the output that replaces it
      // into place and then removed it while the directory was being read,
      // and POSIX leaves entries that change during a readdir pass unlisted
      // or listed as it happens, so the listing may have neither. A second
      // listing, begun after the removal, has the output. (Once: segments
      // also go without an output, e.g. emptied by a pass. A review found
      // that this handle would take such a segment for gone with nothing
      // replacing it, and drop and forget the namespaces whose create
      // records it held.)
      if (!relisted) {
        std::set<uint64_t> named;
        for (const NewSegment& n : fresh) named.insert(n.inputs.begin(), n.inputs.end());
        bool unexplained = false;
        for (const auto& s : held) {
          if (present.count(s->id()) == 0 && named.count(s->id()) == 0) unexplained = true;
        }
        if (unexplained) {
          relisted = true;
          stats_.retries++;
          continue;
        }
      }
      // The newest log segment present: the only one that may still grow.
      newest_log = 0;
      for (const auto& s : held) {
        if (present.count(s->id()) && (s->flags() & kSegmentFlagCompacted) == 0) {
          newest_log = std::max(newest_log, s->id());
        }
      }
      for (const NewSegment& n : fresh) {
        if (now_ignored.count(n.id) == 0 && (n.flags & kSegmentFlagCompacted) == 0) {
          newest_log = std::max(newest_log, n.id);
        }
      }
      // How far each segment may be read, decided before anything is applied:
      // a segment retired since the listing (its file gone) means the writer
      // moved on (its copies may be in an output this listing does not have),
      // so the listing starts over rather than read past a hole.
      bounds.clear();
      bool gone = false;
      for (const auto& s : held) {
        if (!present.count(s->id()) || complete_.count(s->id())) continue;
        if (s->published_len() >= s->capacity()) continue;
        Status bs = ReadableEnd(s->path(), s->data(), s->capacity(), s->flags(),
                                s->id() == newest_log, &bounds[s->id()].first,
                                &bounds[s->id()].second);
        if (bs.IsNotFound()) gone = true;
        else FIRKIN_RETURN_IF_ERROR(bs);
      }
      for (const NewSegment& n : fresh) {
        if (now_ignored.count(n.id)) continue;
        Status bs = ReadableEnd(n.file->path(), n.file->data(), n.file->size(), n.flags,
                                n.id == newest_log, &bounds[n.id].first, &bounds[n.id].second);
        if (bs.IsNotFound()) gone = true;
        else FIRKIN_RETURN_IF_ERROR(bs);
      }
      if (gone && attempt + 1 < kMaxAttempts) {
        stats_.retries++;
        continue;
      }
      if (gone) {
        return Status::Busy("the database directory kept changing during the refresh; try again");
      }
      return Status::OK();
    }
  };
  try {
    FIRKIN_RETURN_IF_ERROR(list_new());
  } catch (const std::bad_alloc&) {
    return Status::NoMemory("out of memory listing the writer's new segments (the refresh "
                            "changed nothing)");
  }

  // A catch-up that fails from here on takes back what it did (Undo,
  // below): what it marks seen and ignored, and the floors it keeps.
  std::vector<uint64_t> marked;
  const uint64_t floor_was = pending_absent_floor_;
  const bool floor_unknown_was = pending_floor_unknown_;
  // The slots first, all of them: a segment is marked seen only once it
  // is added, so one that found no slot ("too many live segments") is
  // fresh again at the next refresh, with the rest of this listing
  // (until 2026-11-29 it was marked seen first, and no later refresh
  // mapped it: its records were never read).
  std::vector<uint32_t> slots;
  try {
    slots.reserve(fresh.size());
    for (const NewSegment& n : fresh) {
      if (now_ignored.count(n.id)) continue;
      uint32_t slot = 0;
      const Status as = ks_->segments().AllocateSlot(&slot);
      if (!as.ok()) {
        for (uint32_t s : slots) ks_->segments().FreeSlot(s);
        return as;
      }
      slots.push_back(slot);  // (reserved: does not throw)
    }
  } catch (const std::bad_alloc&) {
    for (uint32_t s : slots) ks_->segments().FreeSlot(s);
    return Status::NoMemory("out of memory taking slots for the writer's new segments (the "
                            "refresh changed nothing)");
  }
  // Publish the new segments (readers meet them only through entries
  // installed below, or version chains of records replayed below).
  std::vector<std::pair<std::shared_ptr<Segment>, uint64_t>> todo;  // segment, from
  size_t next_slot = 0;
  for (NewSegment& n : fresh) {
    if (now_ignored.count(n.id)) {
      if (seen_.insert(n.id).second) marked.push_back(n.id);
      ignored_.insert(n.id);
      continue;
    }
    // Each new compaction output tells how far back its pass may have
    // dropped keys whole (a put with its tombstone): a read below that
    // which finds a key absent cannot tell (DB::Get), as on the writer.
    // Retire raises the handle's floor to it, just before entries go, not
    // here: until then this handle holds every entry of its published
    // state, which reads whole, and the states between it and the new one
    // are not published yet (until 2026-11-29 the floor rose here, before
    // the replay, and the published state's reads and iterators failed
    // SNAPSHOT_TOO_OLD during the refresh; readers_test refresh_floors).
    // An output without a floor (an older library's) dropped the whole
    // past before it: the new state's number then. Kept until a Retire,
    // also across a refresh that fails after this (the output is not
    // fresh again).
    if ((n.flags & kSegmentFlagCompacted) != 0) {
      if (n.history_floor == 0) {
        pending_floor_unknown_ = true;
      } else {
        pending_absent_floor_ = std::max(pending_absent_floor_, n.history_floor);
      }
    }
    auto seg = std::make_shared<Segment>(n.id, slots[next_slot++], std::move(n.file),
                                         kSegmentHeaderSize, n.flags);
    seg->sealed.store(true);
    ks_->segments().Add(seg);
    seen_.insert(n.id);
    marked.push_back(n.id);
    stats_.segments_added++;
    todo.push_back({seg, kSegmentHeaderSize});
  }
  const size_t fresh_added = todo.size();  // (todo's first ones: the segments added)
  for (uint64_t id : now_ignored) {
    if (seen_.insert(id).second) marked.push_back(id);
    ignored_.insert(id);
  }
  // Segments held already that may hold more now: those not read to the
  // end of their file (the newest log segment when it was read).
  for (const auto& s : held) {
    if (bounds.count(s->id())) todo.push_back({s, s->published_len()});
  }
  std::set<uint64_t> added_ids;
  for (size_t i = 0; i < fresh_added; i++) added_ids.insert(todo[i].first->id());
  std::sort(todo.begin(), todo.end(),
            [](const auto& a, const auto& b) { return a.first->id() < b.first->id(); });

  RecoveryResult res;
  res.last_seq = *last_seq;
  // The namespace records' changes are staged: other threads see them
  // when the caller publishes the new state (Retire), or never (undo).
  ns_->Stage();
  Replayer replay(ks_, ns_, &res, /*concurrent=*/true);
  replay.set_counts(counts);
  replay.set_journal();
  Epoch::Guard guard;               // FindNewest is a reader call
  std::vector<uint64_t> completed;  // ids this catch-up put in complete_
  // A catch-up that fails part way (an I/O error, damage, a namespace
  // record that fails authentication, no memory) takes back what it did:
  // the index entries its replay changed go back (Replayer::Undo), the
  // segments it added go (fresh again at the next refresh), those it read
  // further are read again from where they were, what it marked seen,
  // ignored or complete is unmarked, the absent floors it kept for Retire
  // are as they were, the namespaces it created or dropped (staged) are
  // forgotten, and *counts is emptied. Readers of the published state may have met its
  // records meanwhile (above the published number: they read past them,
  // or wait for the refresh to end and read again, DB::Get, DB::CountKeys)
  // and find that state whole again after it. Until 2026-11-29 what it
  // had installed stayed: a record whose chain does not lead back to the
  // published state (updated in place, or a compaction copy whose
  // predecessor lay in a segment this handle never read) left the key's
  // gets failing SNAPSHOT_TOO_OLD and counts counting it by that record
  // until a refresh succeeded (readers_test failed_refresh: every such
  // get, and the count, after a refresh that met damage; such a refresh
  // fails the same way each time).
  auto undo = [&] {
    replay.Undo();
    ns_->Discard();
    for (auto& [seg, from] : todo) {
      if (added_ids.count(seg->id()) == 0) seg->set_published_len(from);
    }
    for (uint64_t id : added_ids) {
      ks_->segments().Remove(id);
      stats_.segments_added--;
    }
    for (uint64_t id : marked) {
      seen_.erase(id);
      ignored_.erase(id);
    }
    for (uint64_t id : completed) complete_.erase(id);
    pending_absent_floor_ = floor_was;
    pending_floor_unknown_ = floor_unknown_was;
    *counts = NsCountDeltas();  // (the caller applies nothing)
  };
  // The replay, in id order (a failure returns at once; the caller undoes).
  auto replay_all = [&]() -> Status {
    for (auto& [seg, from] : todo) {
      uint64_t end = bounds[seg->id()].first;
      const uint64_t file_end = bounds[seg->id()].second;
      const bool newest = seg->id() == newest_log;
      // A segment that is not the newest of the log is sealed (or a complete
      // compaction output): once read to its end it never changes again.
      const bool done = !newest && end == file_end;
      if (end <= from) {
        if (done && complete_.insert(seg->id()).second) completed.push_back(seg->id());
        continue;
      }
      if (!newest && (seg->flags() & kSegmentFlagCompacted) == 0) {
        // A log segment the writer closed may not be sealed yet: its records
        // end past the watermark, and the seal may truncate the file there
        // at any moment. A mapped read of the page after the last record
        // would then fault (SIGBUS: found by the review after the fifth,
        // where the records ended at a page boundary). Where they end is
        // found in a copy read with pread, which stops at the end of the file
        // instead, and the mapping is read only up to there.
        FIRKIN_RETURN_IF_ERROR(ClosedRecordsEnd(*seg, from, &end));
      }
      // Sealed records authenticated before they are applied (recovery.cc).
      LogReader reader(seg->data(), from, end, /*checksums=*/true, &ks_->codec());
      uint64_t off = from;
      for (;;) {
        RecordView r;
        const LogReader::Result got = reader.Next(&r, &off);
        if (got == LogReader::Result::kEnd) break;
        if (got == LogReader::Result::kDamaged && !newest &&
            (seg->flags() & kSegmentFlagCompacted) == 0 && off >= ReadWatermark(seg->data())) {
          // A log segment the writer closed but has not sealed yet (its seal
          // runs in the background, LogWriter::Roll): every record of it is
          // complete, and they end here; past them are zeros (or an earlier
          // life's records) until the seal truncates the file. Read again
          // later, until it has.
          end = off;
          break;
        }
        if (got == LogReader::Result::kDamaged) {
          return Status::Corruption(seg->path() + ": damaged record at offset " +
                                    std::to_string(off) + " (below what the writer made durable)");
        }
        replay.Apply(seg.get(), off, r, reader.authenticated_key());
      }
      seg->set_published_len(end);
      // Read from its first record: every record of it the index can reach
      // was validated (later ones are, by later refreshes).
      if (from == kSegmentHeaderSize) seg->checked.store(true);
      if (done && end == file_end && complete_.insert(seg->id()).second) {
        completed.push_back(seg->id());
      }
    }
    return Status::OK();
  };
  Status failed = Status::OK();
  try {
    failed = replay_all();
    replay.Finish();
    if (failed.ok()) failed = replay.status();
  } catch (const std::bad_alloc&) {
    // Taken back, the handle goes on at its last state (docs/api.md,
    // NO_MEMORY). An undo that is itself out of memory throws on: the
    // handle then refuses reads (DB::Refresh). Until 2026-11-29 every
    // failure here threw on, and the handle broke though its undo had run.
    undo();
    return Status::NoMemory("out of memory replaying the writer's records (the refresh took "
                            "its work back)");
  } catch (...) {
    undo();
    throw;
  }
  if (!failed.ok()) {
    undo();
    return failed;
  }
  // (The entries of namespaces it dropped go once the drops are
  // published: Retire.)
  purge_ = replay.dropped_any();

  // Segments the writer retired, and those a compaction output replayed
  // above replaces (the writer retires them next; until 2026-11-27 they
  // stayed until their files went, and their entries with them: a put a
  // dropped tombstone had deleted read as live, and iterators, which skip
  // an output's inputs, disagreed with reads). Nothing live is left in them
  // (see the class comment); entries still pointing there are versions that
  // were superseded or deleted (a tombstone compaction dropped) as of now.
  std::set<uint64_t> replaced;
  for (const NewSegment& n : fresh) {
    if (now_ignored.count(n.id) == 0) replaced.insert(n.inputs.begin(), n.inputs.end());
  }
  retire_ = PendingRetire();
  for (const auto& s : held) {
    if (present.count(s->id()) == 0 || replaced.count(s->id()) != 0) {
      retire_.slots.insert(s->slot());
      retire_.ids.push_back(s->id());
    }
  }
  // (What goes is taken out by Retire, which the caller runs inside its
  // refresh cut, with the count changes and the new state's publication.)
  retire_.held = std::move(held);
  retire_.new_seq = std::max(*last_seq, res.last_seq);
  retire_.replayed_seq = res.last_seq;
  retire_.ignored_any = !now_ignored.empty();
  stats_.refreshes++;
  stats_.records += res.records;
  *last_seq = retire_.new_seq;
  *newest_time = res.newest_time;
  return Status::OK();
}

void Follower::Retire(std::atomic<uint64_t>* history_floor, std::atomic<uint64_t>* scan_floor,
                      std::atomic<uint64_t>* absent_floor, NsCountDeltas* counts) {
  const std::vector<std::shared_ptr<Segment>>& held = retire_.held;
  const std::vector<uint64_t>& gone_ids = retire_.ids;
  const std::set<uint32_t>& gone_slots = retire_.slots;
  const uint64_t new_seq = retire_.new_seq;
  // The namespace changes CatchUp staged, first (other threads see them
  // from here, with the new state the caller publishes next), and the
  // entries of the namespaces it dropped then (a read that misses one
  // finds the namespace dropped: DB::GetAt). Until 2026-11-29 they were
  // applied as CatchUp replayed them: threads listed, opened and lost
  // namespaces of a state not published, and a CatchUp that failed kept
  // them (readers_test failed_ns_create, failed_ns_drop,
  // failed_ns_threads).
  ns_->Publish();
  bool purge = purge_;
  purge_ = false;
  // A namespace whose create record lay in a segment that goes now, and
  // that no segment replayed here carries again (the replay would have
  // moved its create_seg there): the writer compacted the record away,
  // which it does only once the namespace's drop record is in a sealed
  // segment: with the drop, when no segment outside the pass can hold a
  // record of the namespace (the writer then forgot it), or alone, the
  // drop staying until then (Compactor::BuildPlan, "namespace records";
  // since 2026-11-29: a drop this handle reads after this refresh makes a
  // dropped placeholder of the id, which stays in its table, and any key
  // record of it read before that drop is purged with it). This handle
  // may never read that drop: it lay
  // past what it had read of a log segment that compaction retired before
  // this refresh. Such a namespace is dropped here, as if the drop had
  // been replayed; and every one is forgotten once the count changes are
  // applied (ForgetGone): no segment this handle holds after this refresh
  // has a record of it (those it keeps are outside that pass, or newer),
  // so no later refresh, iterator or cursor opened later meets one (a
  // cursor opened earlier took the names at its open). Until 2026-11-29
  // the table kept every namespace (its RAM grew per create-and-drop
  // cycle), and a namespace loaded from a checkpoint, whose create
  // record's segment was not known, stayed listed until a reopen: a
  // version-8 checkpoint now places each create record (InstallCheckpoint
  // sets create_seg), and for a version-7 one the segments held since the
  // open are read for those records as they go (FindCheckpointCreates).
  if (!gone_ids.empty()) {
    const std::set<uint64_t> gone(gone_ids.begin(), gone_ids.end());
    std::vector<std::shared_ptr<Segment>> gone_segs;
    for (const auto& s : held) {
      if (gone.count(s->id()) != 0) gone_segs.push_back(s);
    }
    FindCheckpointCreates(gone_segs);
    for (const auto& info : ns_->AllIncludingDropped()) {
      const uint64_t at = info->create_seg.load(std::memory_order_relaxed);
      if (info->id == 0 || at == 0 || gone.count(at) == 0) continue;
      if (!info->dropped.load(std::memory_order_relaxed)) {
        ns_->Drop(info->id);
        stats_.namespaces_gone++;
        purge = true;
      }
      forget_.push_back(info->id);
    }
    for (uint64_t id : gone_ids) from_open_.erase(id);
  }
  if (purge) {
    NamespaceTable* ns = ns_;
    ks_->PurgeIf([ns](const RecordView& r) {
      NamespaceInfo* info = ns->ById(r.ns_id);
      return info == nullptr || info->dropped.load(std::memory_order_relaxed);
    });
  }
  // The entries that go: those still pointing into a segment that goes.
  std::vector<Locator> victims;
  uint64_t floor = 0;  // the history floor they leave (below)
  if (!gone_ids.empty()) {
    ks_->index().ForEach([&](Locator l) {
      if (gone_slots.count(LocatorSlot(l))) victims.push_back(l);
    });
    for (Locator l : victims) {
      RecordView r;
      if (ks_->ResolveBounded(l, &r) == nullptr) continue;
      // A put: the key was deleted by a tombstone this handle never read,
      // no snapshot older than the new state can tell its value any more.
      // A tombstone compaction dropped: snapshots at or after it still read
      // "absent" correctly; older ones have lost the key's history.
      floor = std::max(floor, r.type == RecordType::kPut ? std::max(retire_.replayed_seq, r.seq)
                                                         : r.seq);
    }
  }
  // The floors rise here, after the replay and the walk above, just before
  // the first entry or segment goes: from here on a read of an older state
  // may miss what goes, and fails with kSnapshotTooOld instead of reading
  // "absent". Until then the published state reads whole: nothing it
  // needs has gone (until 2026-11-29 the absent floor rose at the start of
  // CatchUp, before the replay, and the published state's reads and
  // iterators failed during every refresh that replayed an output; review
  // with readers_test refresh_floors). A read of the published state that
  // meets a floor raised here waits for the caller to publish the new
  // state before it fails (DB::AwaitRefresh).
  //   A scan of a state older than the new one cannot be told whole once a
  // segment it may need goes, or once versions between the old and the new
  // state were never read (inputs never replayed: compaction may have
  // dropped versions they held). The new state itself is whole (until
  // 2026-11-27 the floor was the old state + 1: a refresh that retired
  // segments without a new write made every iterator over the handle's
  // own state fail).
  if (!gone_ids.empty() || retire_.ignored_any) RaiseTo(scan_floor, new_seq);
  // The absent floors of the outputs added since the last Retire (CatchUp).
  RaiseTo(absent_floor, pending_floor_unknown_ ? std::max(pending_absent_floor_, new_seq)
                                               : pending_absent_floor_);
  pending_absent_floor_ = 0;
  pending_floor_unknown_ = false;
  RaiseTo(history_floor, floor);
  if (!gone_ids.empty()) {
    for (Locator l : victims) {
      RecordView r;
      if (ks_->ResolveBounded(l, &r) == nullptr) continue;
      const uint64_t h = ks_->HashOf(r);
      HashIndex::ShardGuard lock(&ks_->index(), h);
      if (ks_->DropEntry(h, l, r)) {
        stats_.entries_dropped++;
        if (r.type == RecordType::kPut) {
          stats_.puts_dropped++;
          if (NamespaceInfo* info = ns_->ById(r.ns_id)) {
            // (Applied by the caller in the same cut as this removal.)
            NamespaceInfo::AccountKey(counts->For(info), true, r.expiry(), false, 0);
          }
        }
      }
    }
    for (uint64_t id : gone_ids) {
      ks_->segments().Remove(id);
      stats_.segments_dropped++;
    }
  }
  retire_ = PendingRetire();
}

}  // namespace firkin
