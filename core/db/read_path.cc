// The read path (DESIGN §1): hash -> index candidates -> record in a mapped
// segment -> key compare -> version chain back to the snapshot -> checksum.
// Every record the answer depends on is intact (Keyspace::Trusted): the versions
// skipped and the one returned. A record of a segment known intact
// (Segment::checked) costs no checksum unless every read is checked
// (check_all_reads_, the verify_checksums option); otherwise the common
// case (the newest record is the answer) costs one.
// Lock-free: the caller holds an Epoch::Guard.
#include <algorithm>
#include <thread>
#include <vector>

#include "core/db/db.h"
#include "core/db/scan_clock.h"
#include "core/util/epoch.h"
#include "core/util/spin.h"

namespace firkin {

Status DB::Get(uint64_t snap, const NamespaceInfo& ns, std::string_view key,
               RecordView* out, uint64_t now_ms) const {
  if (!options_.read_only) return GetFloored(snap, ns, key, out, now_ms);
  FIRKIN_RETURN_IF_ERROR(ReaderBroken());
  // A read-only handle: a read that a refresh under way left unanswerable
  // (the floors it raised, the entries or segments it took out, a chain
  // from a record it replayed into a segment dropped before, or that
  // does not lead back to the published state) fails only once the
  // refresh has ended (AwaitRefresh); one of the latest state then reads
  // again, at the new state (until 2026-11-29 firkin_get of the latest
  // state could fail SNAPSHOT_TOO_OLD during a refresh: the chain back to
  // the published number led into a dropped segment); so does a snapshot
  // read whose state is still the published one (the refresh failed and
  // took back what it had installed, Follower::CatchUp).
  //   A read of the latest state that finds the key absent while a
  // refresh's cut runs (refresh_cut_: it takes out index entries just
  // before it publishes the new state) may have found the new state's
  // absence: it waits for the publication and reads again, so that it
  // never says NOT_FOUND of a key the published state holds (until
  // 2026-11-29 it could, before firkin_last_seq reported that state:
  // readers_test latest_removal, 24-28 such gets in 3 s). (A read that
  // met a removal loads the cut's counter at or past its begin: the
  // removal comes after the cut's release fence, ReadValid's acquire
  // fence after the read.) Reads through a snapshot need no such care:
  // the cut raises their floors before it takes anything out.
  for (int attempt = 0;; attempt++) {
    const uint64_t published = reader_seq_.load(std::memory_order_acquire);
    const uint64_t ran = refreshing_.load(std::memory_order_acquire);
    uint64_t cut = 0;
    const bool latest = snap == kLatestSeq;
    const bool clean = !latest || refresh_cut_.ReadBegin(&cut);
    const Status s = GetFloored(snap, ns, key, out, now_ms);
    const bool early_absent = latest && s.IsNotFound() && (!clean || !refresh_cut_.ReadValid(cut));
    if (!s.IsSnapshotTooOld() && !early_absent) return s;
    AwaitRefresh(latest ? published : snap);
    if (attempt >= 2) return s;
    // (No refresh ran meanwhile: the answer stands. An absence read
    // during a cut reads again in any case.)
    if (!early_absent && (ran & 1) == 0 && refreshing_.load(std::memory_order_acquire) == ran) {
      return s;
    }
    if (!latest && reader_seq_.load(std::memory_order_acquire) != published) return s;
  }
}

Status DB::GetFloored(uint64_t snap, const NamespaceInfo& ns, std::string_view key,
                      RecordView* out, uint64_t now_ms) const {
  Status s = GetAt(snap, ns, key, out, now_ms);
  // A read-only handle's refresh raises the floor before it drops index
  // entries: a read that may have missed one finds the floor raised here.
  if (snap == kLatestSeq) return s;
  if (options_.read_only && snap < history_floor_.load(std::memory_order_acquire)) {
    return Status::SnapshotTooOld("a refresh of this read-only handle dropped segments the "
                                  "writer retired; sequence " + std::to_string(snap) +
                                  " can no longer be told");
  }
  if (s.IsNotFound()) {
    // Compaction dropped tombstones with everything before them up to the
    // floor (time_travel.cc, "History floors"): the key may have been
    // there at snap. (A read-only handle takes the floor from the outputs
    // it replayed: at open, LoadHistoryFloors; at each refresh,
    // Follower::Retire. Until 2026-11-28 it had none, and read such keys
    // as absent.)
    const uint64_t floor = absent_floor_.load(std::memory_order_acquire);
    if (snap < floor) {
      return Status::SnapshotTooOld("whether the key existed at sequence " +
                                    std::to_string(snap) +
                                    " can no longer be told (compaction dropped deleted keys' "
                                    "history up to sequence " + std::to_string(floor) + ")");
    }
  }
  return s;
}

Status DB::GetAt(uint64_t snap, const NamespaceInfo& ns, std::string_view key,
                 RecordView* out, uint64_t now_ms) const {
  if (ns.dropped.load(std::memory_order_acquire)) {
    return Status::NamespaceNotFound("namespace '" + ns.name + "' was dropped");
  }
  // A read of the latest state starts from the published number as this
  // thread last saw it (a lower bound, read without touching the
  // watermark's cache line) and looks at the watermark itself only when
  // the record found is newer than that (`fresh` below). A record at or
  // below the bound is published either way.
  const bool latest = snap == kLatestSeq && log_ != nullptr;
  uint64_t at = snap != kLatestSeq ? snap : (latest ? log_->PublishedSeen() : LastSeq());
  auto fresh = [&](uint64_t seq) {
    if (latest && seq > at) at = log_->PublishedNow();
  };
  const uint64_t h = keyspace_->Hash(ns.id, key);
  RecordView newest;
  if (keyspace_->FindNewest(h, ns.id, key, &newest) == 0) {
    if (keyspace_->DamagedCandidate(h, check_all_reads_)) {
      return Status::Corruption("a record that may hold this key failed its checksum "
                                "(or, sealed, its authentication)");
    }
    // A drop's purge may have taken the entry since the check above (it
    // sets the flag before): that is no answer for the key (until
    // 2026-11-28 a snapshot read said NOT_FOUND for a key it held).
    if (ns.dropped.load(std::memory_order_acquire)) {
      return Status::NamespaceNotFound("namespace '" + ns.name + "' was dropped");
    }
    return Status::NotFound();
  }
  // The rest of the record (its value, up to 4 KiB: the hardware prefetcher
  // takes over on longer copies) is fetched now, in parallel, while the
  // checks below run; the caller's copy of the value then finds it in
  // cache instead of missing line after line (YCSB C, 1 KB values: +15%).
  // A caller that wants no value (contains) pays only the bandwidth.
  const size_t fetch = std::min<size_t>(newest.size(), 4096);
  for (size_t off = 64; off < fetch; off += 64) __builtin_prefetch(newest.base + off);
  // In-place updates (docs/write_path.md): the newest record of a key in a
  // segment that allows them may be overwritten while it is read. Its
  // counter is taken after FindNewest read its header and checked again
  // after the caller's copy (ReadStable); an odd one is an overwrite under
  // way.
  const bool watched = newest.seg != nullptr && SegmentInPlace(newest.seg);
  for (uint32_t tries = 0;; tries++) {
    RecordView r = newest;
    bool overwritten = false;  // (the newest record, overwritten in place: r is its state now)
    if (watched) {
      // (Acquire: if the header FindNewest read was already an overwrite's,
      // the counter loaded now shows that overwrite.)
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      const uint32_t c0 = LoadRecordCounter(newest.base);
      if ((c0 & 1) != 0) {
        // An overwrite under way, or damage: an odd counter in a file (a
        // segment a checkpoint let the open skip is read before the scrub
        // has checked it; recovery refuses odd counters in what it reads).
        // Damage lasts: after a while of waiting, a counter no overwriter
        // holds is reported (a read-only handle has none: it reads only
        // synced bytes, which are never overwritten). Until 2026-11-27 the
        // read waited for it forever (mutilate_test, "in-place counters
        // made odd").
        if (tries >= 64 && (tries & 63) == 0 &&
            (log_ == nullptr || !log_->OverwriteHolds(newest.base, c0))) {
          return Status::Corruption("record of a key is damaged: its in-place counter is odd "
                                    "and no overwrite holds it (sequence " +
                                    std::to_string(newest.seq) + ")");
        }
        CpuRelax();
        if (tries > 256) std::this_thread::yield();
        continue;
      }
      r.watch = newest.base;
      r.watch_counter = c0;
      // Of the header, an overwrite changes only the sequence number (and
      // the checksum, the commit time: read from the record when needed).
      // An 8-byte store: the old number or the new one, never a mix.
      if (c0 != 0) {
        r.seq = DecodeU64(newest.base + 8);
        overwritten = true;
        // Overwritten in place by a write that may not be published yet
        // (its writer does not wait: LogWriter::Complete): the versions it
        // replaced are gone from the chain. A read of the latest state
        // takes it as it is (whole: the counter is even, and checked again
        // after the copy), which is what recovery keeps after a kill; a
        // snapshot below its number cannot be answered. (Holders of old
        // versions turn overwrites off, so a snapshot read meets one only
        // when it is above the snapshot's number: the key changed after.)
        if (!latest && r.seq > at) {
          return Status::SnapshotTooOld("the key was updated in place after sequence " +
                                        std::to_string(at));
        }
      }
    }
    const char* watch = r.watch;
    const uint32_t watch_counter = r.watch_counter;
    // An overwritten newest record is the answer of a read of the latest
    // state as it is: no look at the watermark, no walk.
    const bool take_as_is = overwritten && latest;
    if (!take_as_is) fresh(r.seq);
    if (!take_as_is && r.seq > at) {
      // Every version skipped on the way back is checked (VersionAt), the
      // one returned below: a read never relies on an unverified record.
      RecordView head = r;
      // (A record updated in place on the way is the answer of a read of
      // the latest state: the appends after it have not returned.)
      Status vs = keyspace_->VersionAt(head, at, &r, check_all_reads_,
                                       latest ? Overwritten::kTake : Overwritten::kTooOld);
      if (!vs.ok()) {
        if (!ReadStable(head)) continue;  // the newest changed under the walk
        if (vs.code() == Status::Code::kSnapshotTooOld && snap == kLatestSeq &&
            log_ != nullptr) {
          // The walk left the history that is kept (the version the
          // published number sees is gone): a read of the latest state
          // waits for the newest version's publication and reads that.
          log_->WaitPublished(head.seq);
          at = log_->PublishedNow();
          continue;
        }
        return vs;
      }
      if (r.ns_id != ns.id || !keyspace_->codec().KeyEquals(r, key)) {
        return Status::Corruption("version chain of a key leads to another key's record");
      }
    }
    r.watch = watch;
    r.watch_counter = watch_counter;
    // (Trusted: a sealed record of a segment not validated yet is
    // authenticated too; its type and key decide the answer.)
    if (!keyspace_->Trusted(r, check_all_reads_)) {
      if (!ReadStable(r)) continue;  // an overwrite, not damage
      return Status::Corruption(
          "record of a key failed its checksum "
          "(or, sealed, its authentication) (sequence " +
          std::to_string(r.seq) + "); the value is not returned");
    }
    if (r.type != RecordType::kPut) return Status::NotFound();
    // TTL: an expired key is absent.
    if (r.expiry() != 0 && r.expiry() <= (now_ms != 0 ? now_ms : NowMs())) {
      return Status::NotFound();
    }
    *out = r;
    return Status::OK();
  }
}

namespace {

// PinnedCountSnapshot: the state a counting walk of the index counts
// (DB::CountKeys): the published sequence number when it is made,
// registered as a counting walk's snapshot of db until it is destroyed,
// so that compaction keeps every version that state holds and no update
// goes in place over a record numbered at or below it
// (DB::AcquireCountSnapshot).
// Thread contract: made and destroyed on one thread (the registry is the
// database's, under its snapshot lock).
class PinnedCountSnapshot {
 public:
  explicit PinnedCountSnapshot(const DB* db) : db_(db) {
    // (Fails only out of memory; the published number unregistered is
    // then the best left, and updates in place are not held back for it:
    // the walk must not follow records overwritten above it, registered().)
    registered_ = db_->AcquireCountSnapshot(&seq_).ok();
    if (!registered_) seq_ = db_->LastSeq();
  }
  ~PinnedCountSnapshot() {
    if (registered_) db_->ReleaseCountSnapshot(seq_);
  }
  PinnedCountSnapshot(const PinnedCountSnapshot&) = delete;
  PinnedCountSnapshot& operator=(const PinnedCountSnapshot&) = delete;
  uint64_t seq() const { return seq_; }
  bool registered() const { return registered_; }

 private:
  const DB* const db_;
  uint64_t seq_ = 0;
  bool registered_ = false;
};

}  // namespace

uint64_t DB::CountKeys(const NamespaceInfo& ns) const {
  const NamespaceInfo* one = &ns;
  uint64_t n = 0;
  CountKeys(&one, 1, &n);
  return n;
}

void DB::CountKeys(const NamespaceInfo* const* nss, size_t m, uint64_t* out) const {
  // The clock that tells whether a key may have expired is read after the
  // counters (below), not before them: a put of a key whose expiry had
  // already passed, landing between a reading before and the counters,
  // lowered the bound only to that expiry, after the earlier reading, and
  // the count took the counter, with the key in it, which was never live
  // (ttl_test count_stale_clock; until 2026-11-30, found by a stress run
  // of counts beside such puts, where a preemption there did it). Read
  // after them, the clock is at or past every write whose counts they
  // hold (its commit time raised the clock before its counts changed).
  uint64_t now = 0;
  // The namespaces a walk counts: their place in nss by id (-1: none).
  // `bound`, `begun`: those of a namespace that needs the walk (its
  // expiry bound is raised after it), else `update` is false.
  struct Walk {
    size_t i;
    uint64_t bound;
    uint32_t begun;
    bool update;
    uint64_t n = 0, earliest = UINT64_MAX;
  };
  std::vector<Walk> walks;
  // Whether a namespace needs the walk: some key of it may have expired
  // since it was counted.
  auto needs_walk = [&now](const NamespaceInfo::CountsRead& c) {
    return c.ttl > 0 && now >= c.bound;
  };
  // Each namespace's counters are read as of a moment no write with an
  // expiry was part way through (NamespaceInfo::ReadCounts, the TTL
  // seqlock: until 2026-11-29 a count could read live_keys with a new key
  // and ttl_keys without it, and count a key that expired as it was
  // written). Several namespaces' counters (stats) are read as one state:
  // an atomic batch over several namespaces changes them inside the
  // table's CountsSeqlock. A read that overlapped a change is read again
  // (a while: spins, then yields; then the walk counts them all, at one
  // state too).
  bool walk_all = false;
  const bool several = m > 1;
  NamespaceInfo::CountsRead one;
  std::vector<NamespaceInfo::CountsRead> many;
  if (m > 1) many.resize(m);
  NamespaceInfo::CountsRead* const reads = m > 1 ? many.data() : &one;
  for (uint32_t tries = 0;; tries++) {
    walks.clear();
    uint64_t token = 0;
    bool clean = !several || ns_.counts_lock()->ReadBegin(&token);
    for (size_t i = 0; i < m && clean; i++) {
      if (!nss[i]->ReadCounts(&reads[i])) clean = false;
    }
    if (clean && several) clean = ns_.counts_lock()->ReadValid(token);
    if (clean) {
      now = NowMs();  // (after the counters: above)
      for (size_t i = 0; i < m; i++) {
        const NamespaceInfo::CountsRead& c = reads[i];
        if (!needs_walk(c)) {
          out[i] = c.live < 0 ? 0 : static_cast<uint64_t>(c.live);
          continue;
        }
        // The walk counts the keys whose version at its snapshot (below)
        // is a put that has not expired, and finds the earliest expiry of
        // the keys' newest records (expired ones included: while one waits
        // for compaction, the counter overcounts and the walk is needed).
        walks.push_back(Walk{i, c.bound, c.begun, true});
      }
      break;
    }
    if (tries >= 64 + 16) {
      walk_all = true;
      break;
    }
    if (tries < 64) {
      CpuRelax();
    } else {
      std::this_thread::yield();  // (a writer preempted inside its change)
    }
  }
  if (walks.empty() && !walk_all) return;
  count_walks_.fetch_add(1, std::memory_order_relaxed);
  // One walk for all of them: a namespace counted from its counter beside
  // one counted by the walk would be two states (a batch that moves keys
  // from one to the other, landing in between, counted twice or not at
  // all); the walk counts every namespace it is given at one state.
  if (walk_all) now = NowMs();  // (no clean reading took it)
  if (several || walk_all) {
    walks.clear();
    for (size_t i = 0; i < m; i++) {
      NamespaceInfo::CountsRead c;
      const bool update = nss[i]->ReadCounts(&c) && needs_walk(c);
      walks.push_back(Walk{i, c.bound, c.begun, update});
    }
  }
  std::vector<int32_t> by_id;
  for (size_t w = 0; w < walks.size(); w++) {
    const uint32_t id = nss[walks[w].i]->id;
    if (by_id.size() <= id) by_id.resize(id + 1, -1);
    by_id[id] = static_cast<int32_t>(w);
  }
  // The walk counts one state: the one published when it starts (S),
  // registered as a snapshot while it runs. Index entries point at the
  // newest record of their key, which may be newer than S: a write that
  // came while the walk ran, or one installed but not yet published (a
  // read of the latest state does not see it either). Such a key is
  // counted by its version at S, found back along the version chain. Until
  // 2026-11-28 the walk counted each key's newest record as it passed it,
  // so a batch written beside it was counted in part (firkin_count beside
  // batches that move keys: most counts wrong; ttl_test count_batch_walk).
  //   Every key visible at S is counted once, and by its version at S: it
  // was installed before S was published, and the walk loads the index
  // after it loaded S (acquire), so the entry it finds for the key points
  // at that version or a newer one (entries only move forward; a
  // compaction move points at a copy with the same sequence number, in
  // the same slot; a table replaced by growth is walked as it was, frozen
  // after S). The snapshot keeps what the walk needs: compaction keeps
  // every version S sees and every entry that leads to one, so the one
  // entry the table holds for the key is met once. A key absent at S is
  // not counted: an entry with a number above S leads to a tombstone or to
  // no version at all (a key created after S). With no write beside it the
  // walk costs a comparison per entry more than before, and the snapshot's
  // registration. (Registering, the walk waits for the updates in place
  // under way to be published: microseconds, as firkin_snapshot.)
  //   Updates in place go on beside the walk, of records numbered above S
  // only (DB::AcquireCountSnapshot). A record numbered at or below S is
  // the version at S of its key and keeps its number while the walk runs;
  // a record overwritten while the walk runs, or numbered above S when it
  // began, was appended above S (an overwrite needs a number above S; one
  // before the walk took S was numbered at or below it), so every version
  // it replaced is above S too, and its prev still leads to the version
  // at S: the walk follows it (Overwritten::kFollow, below) where a snapshot
  // read, which needs the versions it replaced, says SnapshotTooOld. Its
  // number and counter change under the walk, its prev, type and expiry
  // (none: kept in place only without one) do not, and both numbers are
  // above S: the walk's way is the same whichever it reads (read whole,
  // as a seqlock reader: Keyspace::ForEachVersionAt).
  // On a read-only handle a refresh takes index entries out (those into
  // segments the writer retired) and moves the counts and the published
  // number to its new state inside refresh_cut_; a walk that overlapped
  // that counted a state between the two (keys gone that its snapshot
  // holds: below both states) and may have found the keys with an expiry
  // gone while the counters still hold them (a raise of the bound, after
  // which counts took the counter: above both). It walks again, and
  // after a second such walk, or when a cut is under way as it starts, it
  // walks holding refresh_mu_ (no refresh runs). (Until 2026-11-29 the
  // refresh applied its count changes after its index removals and a walk
  // could meet either: ttl_test count_refresh. It is the shape of
  // compaction's fixed the session before, ttl_test count_reclaim.)
  //   A walk that met a chain it could not follow (`unfollowed`, below)
  // waits for the refresh under way to end and walks again, also on the
  // same terms; one holding refresh_mu_ meets no refresh's records (a
  // refresh that failed took them back: Follower::CatchUp).
  std::unique_lock<std::mutex> no_refresh(refresh_mu_, std::defer_lock);
  bool unfollowed = false;
  for (int attempt = 0;; attempt++) {
    if (unfollowed && !no_refresh.owns_lock()) AwaitRefresh(kLatestSeq);
    unfollowed = false;
    uint64_t cut = 0;
    if (options_.read_only && !no_refresh.owns_lock() &&
        (attempt >= 2 || !refresh_cut_.ReadBegin(&cut))) {
      no_refresh.lock();
    }
    for (Walk& w : walks) {
      w.n = 0;
      w.earliest = UINT64_MAX;
    }
    {
      const PinnedCountSnapshot snap(this);
      const uint64_t seq = snap.seq();
      Epoch::Guard guard;  // every record the walk reads (chains included) stays mapped
      // The walk decides expiry at a clock pinned while it runs (scan_clock.h):
      // a compaction pass beside it keeps every put not expired then, so no
      // entry it should count leaves the index under it (until 2026-11-28 a
      // pass whose clock was past the count's could, found by reading).
      const ScanClock clock(this);
      const uint64_t at = clock.ms();
      auto count = [&](const RecordView& newest, const RecordView& at_s, const Status& vs) {
        if (newest.ns_id >= by_id.size() || by_id[newest.ns_id] < 0) return;
        Walk& w = walks[static_cast<size_t>(by_id[newest.ns_id])];
        // The bound below is about the newest records (what later counts see).
        if (newest.type == RecordType::kPut && newest.expiry() != 0) {
          w.earliest = std::min(w.earliest, newest.expiry());
        }
        if (vs.IsNotFound()) return;  // no version at S: the key came after
        // On a read-only handle a chain that leads out of the history kept
        // is a record a refresh under way installed above S (updated in
        // place, or a compaction copy whose predecessor lay in a segment
        // the handle never read): the walk walks again once that refresh
        // has ended (below; until 2026-11-29 it counted the key by that
        // record, a state between the two: readers_test count_chain,
        // 10-21 of 120-170 counts in 3 s).
        if (options_.read_only && vs.IsSnapshotTooOld()) unfollowed = true;
        // A chain that cannot be followed (damage, which a read of the key
        // reports) is no answer: the key is counted by its newest record, as
        // it was before the walk took a snapshot.
        const RecordView* r = vs.ok() ? &at_s : &newest;  // the key's version at S
        if (r->type != RecordType::kPut) return;
        const uint64_t e = r->expiry();
        if (e == 0 || e > at) w.n++;
      };
      // (A read-only handle's walk keeps kTooOld: its writer's overwrites know
      // nothing of its snapshot, and one it replays numbered above its
      // snapshot may have replaced the version there. So does a walk whose
      // registration ran out of memory: no count floor keeps the records at
      // or below its number where they are; following one overwritten since
      // led past the version at its number, and the key went uncounted. Found
      // by a review.)
      keyspace_->ForEachVersionAt(
          seq, check_all_reads_, count,
          log_ != nullptr && snap.registered() ? Overwritten::kFollow : Overwritten::kTooOld,
          [this](const char* base, uint32_t counter) {
            return log_ != nullptr && log_->OverwriteHolds(base, counter);
          });
    }
    if (!options_.read_only || no_refresh.owns_lock() ||
        (refresh_cut_.ReadValid(cut) && !unfollowed)) {
      break;
    }
  }
  for (const Walk& w : walks) {
    out[w.i] = w.n;
    // Raise the bound to what the walk saw, unless a write with an expiry
    // came meanwhile (NamespaceInfo::RaiseMinExpiry).
    if (w.update && w.earliest > w.bound) nss[w.i]->RaiseMinExpiry(w.bound, w.earliest, w.begun);
  }
}

}  // namespace firkin
