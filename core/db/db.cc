// DB: open, close, identity, snapshots and the interval flusher. The write
// path is in write_path.cc, the read path in read_path.cc.
#include "core/db/db.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "core/compact/compactor.h"
#include "core/db/iterator.h"
#include "core/db/ordered_iterator.h"
#include "core/recovery/follower.h"
#include "core/util/asymmetric_fence.h"
#include "core/util/background.h"
#include "core/util/epoch.h"
#include "core/util/hash.h"

namespace firkin {
namespace {

// How long a read-only open waits for a writer's recovery to end.
constexpr int kReaderRecoveryWaitMs = 30000;

}  // namespace

DB::DB(std::string path, const Options& options, Env* env)
    : path_(std::move(path)),
      options_(options),
      env_(env),
      codec_(options.compression, options.compression_level, options.compression_min_size) {}

Status DB::Open(const std::string& path, const Options& options, std::unique_ptr<DB>* out) {
  if (path.empty()) return Status::InvalidArgument("database path is empty");
  // Once, at the first open, before any database exists: the writer gate
  // and the change notifier then fence lightly on the write path
  // (core/util/asymmetric_fence.h).
  EnableAsymmetricFences();
  Env* env = options.env != nullptr ? options.env : Env::Default();
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  // A read-only open beside a live writer can race a retirement (a segment
  // listed, then deleted before it is read) or a checkpoint replaced under
  // it: it starts over while the directory keeps changing under it, for up
  // to 10 s. (Until the fifth outside review's session it gave up after 20
  // attempts: beside a writer compacting every 3 ms, an open slowed down
  // by ASan lost all 20 in one CI run, readers_test iter_race.)
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string last_failure;  // the previous attempt's
  int same_failures = 0;     // attempts in a row that failed with it
  for (int attempt = 0;; attempt++) {
    std::vector<std::string> before;
    if (options.read_only) env->ListDir(p, &before);
    std::sort(before.begin(), before.end());
    std::unique_ptr<DB> db(new DB(p, options, env));
    Status s;
    try {
      s = db->OpenImpl();
    } catch (const std::bad_alloc&) {
      // As any failed open: closed before the destructor runs, which then
      // flushes nothing (until 2026-11-29 its Close ran on a half-made
      // handle and crashed; found by review).
      s = Status::NoMemory(std::string());
    }
    if (s.ok()) {
      *out = std::move(db);
      return Status::OK();
    }
    // Nothing to flush; the threads the open started (it may fail after
    // them) are stopped and joined: until 2026-11-29 a joinable flusher
    // ended the process in the destructor (oom_test open_checkpoint).
    db->StopBackground();
    db->closed_ = true;
    const bool racy = s.IsNotFound() || s.code() == Status::Code::kCorruption ||
                      s.code() == Status::Code::kBusy;
    if (!options.read_only || !db->writer_seen_ || !racy) return s;
    // The same damage three times in a row is no race (a race names
    // another file each time: the one it lost is gone from the next
    // listing): it is reported as itself, not as BUSY below.
    same_failures = s.message() == last_failure ? same_failures + 1 : 1;
    last_failure = s.message();
    if (s.code() == Status::Code::kCorruption && same_failures >= 3) return s;
    if (attempt >= 20 && std::chrono::steady_clock::now() > give_up) {
      // Nothing is damaged: the writer changed the directory faster than
      // the open could read it (CORRUPTION, "a segment listed cannot be
      // opened", until the review of rekey, backup and verify: `firkin
      // verify` exited "damaged" on a healthy database).
      return Status::Busy(
          "a read-only open gave up after 10 s: the writer retired segments faster than it "
          "could read them (try again, or beside a calmer writer); last: " +
          s.message());
    }
    std::vector<std::string> after;
    env->ListDir(p, &after);
    std::sort(after.begin(), after.end());
    if (after == before) return s;  // nothing moved: the failure is real
  }
}

Status DB::OpenImpl() {
  bool is_dir = false;
  uint64_t size = 0;
  Status s = env_->Stat(path_, &is_dir, &size);
  if (s.IsNotFound()) {
    if (!options_.create_if_missing || options_.read_only) {
      return Status::NotFound("database directory does not exist: " + path_);
    }
    s = env_->CreateDir(path_);
    if (s.IsNotFound()) {
      // The key-absent status would mislead: this is an error about a path.
      return Status::IOError("cannot create the database directory " + path_ +
                             ": its parent directory does not exist");
    }
    if (!s.ok() && s.code() != Status::Code::kExists) return s;
    is_dir = true;
  } else if (!s.ok()) {
    return s;
  }
  if (!is_dir) return Status::NotADatabase(path_ + " is a file, not a database directory");

  std::vector<std::string> names;
  FIRKIN_RETURN_IF_ERROR(env_->ListDir(path_, &names));
  bool has_identity = false, has_segments = false, has_other = false, has_lock = false;
  bool has_identity_tmp = false, has_keys_only = false;
  for (const std::string& n : names) {
    uint64_t id;
    if (n == kBackupMarkerFileName && !options_.ignore_backup_marker) {
      return Status::NotADatabase(
          path_ + " is an incomplete backup (it holds " + kBackupMarkerFileName +
          ": a backup or restore into it was interrupted or is still running); run the "
          "backup again (a restore: remove the directory, then restore again). Nothing was "
          "changed");
    }
    if (n == kIdentityFileName) has_identity = true;
    else if (ParseSegmentFileName(n, &id)) has_segments = true;
    else if (n == kLockFileName) has_lock = true;
    else if (n == std::string(kIdentityFileName) + ".tmp") has_identity_tmp = true;
    // KEYS (or its temp file) without FIRKIN: an encrypted creation cut
    // short between the two (CreateKeys writes KEYS first).
    else if (n == kKeyFileName || n == std::string(kKeyFileName) + ".tmp") {
      has_keys_only = true;
    }
    else has_other = true;
  }
  if (!has_identity) {
    if (has_segments) {
      return Status::NotADatabase(path_ + " holds segment files but no " + kIdentityFileName +
                                  " identity file (a damaged database?); nothing was changed");
    }
    // A LOCK alone is not ours to adopt (any program may leave one); with
    // FIRKIN.tmp it is a creation of ours that was cut short.
    if (has_keys_only) has_identity_tmp = true;
    if (has_other || (has_lock && !has_identity_tmp)) {
      return Status::NotADatabase(path_ + " is not empty and holds no Firkin database; "
                                  "nothing was changed");
    }
    if (!options_.create_if_missing || options_.read_only) {
      return Status::NotFound("no database in " + path_);
    }
  } else if (options_.error_if_exists) {
    return Status::Exists("database already exists: " + path_);
  }

  // The identity is read before LOCK is touched: a directory that is not a
  // database is refused without leaving a LOCK behind. (It never changes
  // once created, so reading it unlocked is safe.)
  if (has_identity) {
    std::string ipath = path_ + "/" + kIdentityFileName;
    bool d = false;
    uint64_t isize = 0;
    FIRKIN_RETURN_IF_ERROR(env_->Stat(ipath, &d, &isize));
    if (d || isize > 4096) {
      return Status::NotADatabase(ipath + " is not a Firkin identity file (" +
                                  (d ? std::string("a directory") :
                                       std::to_string(isize) + " bytes") +
                                  "); nothing was changed");
    }
    std::string data;
    FIRKIN_RETURN_IF_ERROR(env_->ReadFile(ipath, &data));
    FIRKIN_RETURN_IF_ERROR(DecodeIdentity(data, ipath, &identity_));
    // The key is checked (and the data key unwrapped) before LOCK is
    // touched too: a wrong key changes nothing.
    FIRKIN_RETURN_IF_ERROR(CheckKeys());
  }

  const std::string lock_path = path_ + "/" + kLockFileName;
  if (options_.read_only) {
    // A reader creates nothing and takes only the readers' shared byte of
    // LOCK (never in a writer's way): it tells a writer not to reuse
    // retired segment files, which this reader may still have mapped. It
    // looks whether a writer holds LOCK, to know how much of the log it may
    // read (reader.cc).
    FIRKIN_RETURN_IF_ERROR(env_->LockFile(lock_path, false, &lock_));
    FIRKIN_RETURN_IF_ERROR(env_->ProbeLock(lock_path, &writer_seen_));
    // A writer still in its recovery may yet raise the watermarks (it makes
    // the tail a killed writer left durable): read them after it is done,
    // or a reopen could show less than an open made before that writer.
    for (int waited_ms = 0; writer_seen_; waited_ms++) {
      bool recovering = false;
      FIRKIN_RETURN_IF_ERROR(env_->ProbeRecovering(lock_path, &recovering));
      if (!recovering) break;
      if (waited_ms >= kReaderRecoveryWaitMs) {
        return Status::Busy("the writer of " + path_ + " is still recovering after " +
                            std::to_string(kReaderRecoveryWaitMs / 1000) + " s; try again");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  } else {
    // Readers announce themselves on LOCK; one that opened while there was
    // no LOCK (a copied directory) could not. A writer that has to create
    // LOCK in an existing database therefore never recycles segment files.
    bool d = false;
    uint64_t lsize = 0;
    recycle_safe_ = !has_identity || env_->Stat(lock_path, &d, &lsize).ok();
    FIRKIN_RETURN_IF_ERROR(env_->LockFile(lock_path, true, &lock_));
    if (identity_.encrypted()) RepairKeys();
  }

  if (!has_identity) {
    s = CreateIdentity();
    if (!s.ok()) {
      lock_.reset();
      if (!has_lock) env_->RemoveFile(path_ + "/" + kLockFileName);  // ours
      return s;
    }
  }

  codec_.set_cipher(options_.cipher.get());  // the data key (encrypted databases)
  FIRKIN_RETURN_IF_ERROR(Recover(env_, path_, identity_, options_, &keyspace_, &ns_,
                                 &recovery_, /*watermark_bound=*/writer_seen_));
  // Records a checkpoint let open skip were never validated: reads check
  // them (their segments are not Segment::checked) until the scrub has.
  check_all_reads_ = options_.verify_checksums;
  // Commit times never go back, not even across a restart with the clock
  // set back: start from the newest commit time in the log (and in the
  // compaction outputs' done markers), or the clock a log segment's seal
  // recorded (a close seals the active segment) if later: the clock also
  // moves with readings, and an expired key must not come back.
  last_commit_ms_.store(NewestCommitTime(&recovery_.clock_scan_bytes));
  if (!options_.read_only) {
    // A tail without a seal clock (a crash) was read whole for that: the
    // figure is recorded in it, so the next open need not (before the
    // readers waiting for this recovery read it).
    FIRKIN_RETURN_IF_ERROR(RecordTailClock(last_commit_ms_.load()));
    lock_->EndRecovery();  // the watermarks are final
  }
  BuildOrderedIndexes();
  // Segments the checkpoint let recovery skip are validated in the background.
  // (Sealed records authenticated: until then reads authenticate those they
  // rely on, Keyspace::Trusted.)
  scrubber_.Start(keyspace_->segments().List(), &keyspace_->codec());
  if (options_.read_only) {
    LoadHistoryFloors();  // what compaction dropped before this open
    return StartFollowing();
  }
  {
    // The directory is held open for the log's syncs of new segments'
    // names (Directory).
    std::unique_ptr<Directory> directory;
    FIRKIN_RETURN_IF_ERROR(env_->OpenDirectory(path_, &directory));
    log_ = std::make_unique<LogWriter>(
        env_, path_, std::move(directory), identity_.db_id, options_.segment_size,
        &keyspace_->segments(), recovery_.next_segment_id, recovery_.last_seq,
        recycle_safe_ ? options_.recycle_segments : 0);
    log_->set_salted(codec_.sealing());
    log_->set_clock(&last_commit_ms_, codec_.cipher());
    log_->set_huge_pages(options_.sync_mode == SyncMode::kNone);
    // In-place updates (in_place.cc): never where a write's old version
    // must stay in the log (history and change retention), where a record
    // is sealed (its nonce is its offset) or compressed, or where every
    // write is synced anyway. The LIVE file is made after recovery read
    // the previous writer's; without in-place updates there is none.
    if (options_.in_place_updates && !codec_.sealing() &&
        options_.compression == Compression::kNone && options_.sync_mode != SyncMode::kAlways &&
        options_.history_retention_ms == 0 && options_.change_retention_bytes == 0 &&
        options_.change_retention_seqs == 0) {
      FIRKIN_RETURN_IF_ERROR(LiveFile::Create(env_, path_, recovery_.last_seq, &live_));
      log_->EnableInPlace(live_.get());
    } else {
      Status rs = env_->RemoveFile(path_ + "/" + LiveFile::kFileName);
      (void)rs;  // (absent: nothing to do)
    }
    if (options_.sync_mode == SyncMode::kInterval) StartFlusher();
    LoadHistoryFloors();  // before any compaction pass raises them
    compactor_ = std::make_unique<Compactor>(static_cast<CompactionHost*>(this));
    log_->set_roll_listener([c = compactor_.get()] { c->NoteLogGrew(); });
    if (options_.auto_compact) compactor_->Start();
  }
  return Status::OK();
}

Status DB::CreateIdentity() {
  identity_.format_version = kFormatVersionUnsealed;
  identity_.db_id = RandomU64();
  identity_.hash_seed = RandomU64();
  identity_.created_unix = static_cast<uint64_t>(std::time(nullptr));
  FIRKIN_RETURN_IF_ERROR(CreateKeys());  // KEYS before FIRKIN (encrypted only)
  // Sealed records: an encrypted database is format version 5 (format.h).
  if (options_.cipher != nullptr) identity_.format_version = kFormatVersionSealed;
  std::string final_path = path_ + "/" + kIdentityFileName;
  std::string tmp = final_path + ".tmp";
  std::unique_ptr<WritableFile> f;
  FIRKIN_RETURN_IF_ERROR(env_->NewWritableFile(tmp, &f));
  Status s = f->Append(EncodeIdentity(identity_));
  if (s.ok()) s = f->Sync();
  Status c = f->Close();
  if (s.ok()) s = c;
  if (s.ok()) s = env_->RenameFile(tmp, final_path);
  if (s.ok()) s = env_->SyncDir(path_);
  if (!s.ok()) env_->RemoveFile(tmp);
  return s;
}

DB::~DB() { Close(); }

Status DB::CloseLog() {
  if (log_ == nullptr) return Status::OK();
  Status s = log_->SealActive();
  if (s.ok()) s = env_->SyncDir(path_);
  // A fresh checkpoint makes the next open fast (unless the one this
  // open loaded is still exact: nothing replayed, written or compacted,
  // and its ordered section, if any, was used).
  const bool unchanged = recovery_.used_checkpoint && recovery_.ordered_note.empty() &&
                         recovery_.records == 0 && recovery_.torn_bytes == 0 &&
                         recovery_.segments_cut == 0 && bytes_written_.Sum() == 0 &&
                         compactor_->stats().runs.load() == 0;
  if (s.ok() && !unchanged) s = Checkpoint();
  return s;
}

void DB::StopBackground() {
  scrubber_.Stop();
  if (compactor_ != nullptr) compactor_->Stop();
  {
    std::lock_guard<std::mutex> l(flush_mu_);
    stop_flusher_ = true;
  }
  flush_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

Status DB::Close() {
  if (closed_) return close_status_;
  closed_ = true;
  StopBackground();
  Status s;
  // (Out of memory on the way, in a seal's or a checkpoint's work: the
  // close reports it and the next open recovers from the files; until
  // 2026-11-29 it escaped, and from the destructor ended the process.)
  try {
    s = CloseLog();
  } catch (const std::bad_alloc&) {
    s = Status::NoMemory(std::string());
  }
  close_status_ = s;
  log_.reset();  // joins the prefault thread before the segments go
  live_.reset();
  Epoch::Drain();
  {
    std::lock_guard<std::mutex> l(reader_view_mu_);
    reader_view_.reset();  // its segments go with the keyspace's
  }
  keyspace_.reset();  // unmaps segments (no reader can remain)
  Epoch::Drain();
  lock_.reset();
  return s;
}

// ---- snapshots ----

uint64_t DB::AcknowledgedSeq() const {
  if (log_ == nullptr) return LastSeq();
  // (Each overwriter's slot holds the number of its latest overwrite,
  // stored before the put returns.)
  const uint64_t hi = log_->InPlaceMaxSeq();
  if (hi > log_->published_seq()) {
    Epoch::Guard guard;
    log_->WaitPublished(hi);
  }
  return LastSeq();
}

Status DB::AcquireSnapshot(uint64_t seq, uint64_t* out) const {
  // While a snapshot lives no update goes in place (it would destroy the
  // versions the snapshot reads); the overwrites under way end and are
  // published before its number is taken.
  BlockInPlace();
  std::lock_guard<std::mutex> l(snap_mu_);
  uint64_t latest = LastSeq();
  if (seq == kLatestSeq) seq = latest;
  if (seq > latest) {
    UnblockInPlace();
    return Status::InvalidArgument("snapshot sequence " + std::to_string(seq) +
                                   " is in the future (last is " + std::to_string(latest) +
                                   ")");
  }
  try {
    snapshots_.insert(seq);
  } catch (const std::bad_alloc&) {
    UnblockInPlace();  // (else updates in place stayed off for good; a code review)
    return Status::NoMemory("out of memory registering a snapshot");
  }
  *out = seq;
  return Status::OK();
}

void DB::ReleaseSnapshot(uint64_t seq) const {
  std::lock_guard<std::mutex> l(snap_mu_);
  auto it = snapshots_.find(seq);
  if (it == snapshots_.end()) return;
  const bool was_oldest = it == snapshots_.begin();
  snapshots_.erase(it);
  UnblockInPlace();
  // History the oldest snapshot held back may be compactable now.
  if (was_oldest && keyspace_ != nullptr) {
    keyspace_->segments().ReleaseHolds();
  }
}

Status DB::AcquireCountSnapshot(uint64_t* out) const {
  // The floor goes to UINT64_MAX first (no overwrite starts), then the
  // overwrites under way end and are published, then the number is taken:
  // every overwrite so far is numbered at or below it, and every later one
  // overwrites a record numbered above it, so the walk finds each key's
  // version at its number along the chain as if nothing went in place.
  // (Until 2026-11-29 the walk turned updates in place off, as a snapshot
  // does: a thread counting in a loop beside 100 hot keys left 0.4% of
  // their puts in place.)
  {
    std::lock_guard<std::mutex> l(snap_mu_);
    count_choosing_++;
    SetCountFloorLocked();
  }
  if (log_ != nullptr) {
    // (A wait that throws, std::bad_alloc from a new thread's epoch
    // registration, leaves no walk choosing: until 2026-11-29 the floor
    // stayed at UINT64_MAX and no put went in place again until a reopen;
    // oom_test inplace_after_fail.)
    try {
      log_->WaitOverwrites();
    } catch (...) {
      std::lock_guard<std::mutex> l(snap_mu_);
      count_choosing_--;
      SetCountFloorLocked();
      throw;
    }
  }
  std::lock_guard<std::mutex> l(snap_mu_);
  count_choosing_--;
  const uint64_t seq = LastSeq();
  bool in_all = false;
  try {
    snapshots_.insert(seq);
    in_all = true;
    count_snapshots_.insert(seq);
  } catch (const std::bad_alloc&) {
    if (in_all) snapshots_.erase(snapshots_.find(seq));
    SetCountFloorLocked();
    return Status::NoMemory("out of memory registering a snapshot");
  }
  SetCountFloorLocked();
  *out = seq;
  return Status::OK();
}

void DB::ReleaseCountSnapshot(uint64_t seq) const {
  std::lock_guard<std::mutex> l(snap_mu_);
  auto it = count_snapshots_.find(seq);
  if (it == count_snapshots_.end()) return;
  const bool was_oldest = it == count_snapshots_.begin();
  count_snapshots_.erase(it);
  SetCountFloorLocked();
  auto at = snapshots_.find(seq);
  const bool was_oldest_snapshot = at == snapshots_.begin();
  if (at != snapshots_.end()) snapshots_.erase(at);
  // A segment held for the history it kept (or for a record updated in
  // place above the oldest walk's number) may be compactable now.
  if ((was_oldest || was_oldest_snapshot) && keyspace_ != nullptr) {
    keyspace_->segments().ReleaseHolds();
  }
}

bool DB::OldestIsCountWalk(uint64_t s_min) const {
  std::lock_guard<std::mutex> l(snap_mu_);
  if (count_snapshots_.empty() || *count_snapshots_.begin() != s_min) return false;
  // The counting walks' numbers are among snapshots_ too: the oldest
  // snapshot that is not a walk's is the first one past them.
  auto a = snapshots_.begin();
  auto b = count_snapshots_.begin();
  while (a != snapshots_.end() && b != count_snapshots_.end() && *a == *b) {
    ++a;
    ++b;
  }
  return a == snapshots_.end() || *a > s_min;
}

uint64_t DB::OldestCountSnapshot() const {
  std::lock_guard<std::mutex> l(snap_mu_);
  return count_snapshots_.empty() ? UINT64_MAX : *count_snapshots_.begin();
}

void DB::SetCountFloorLocked() const {
  if (log_ == nullptr) return;
  log_->SetCountFloor(count_choosing_ > 0        ? UINT64_MAX
                      : count_snapshots_.empty() ? 0
                                                 : *count_snapshots_.rbegin());
}

Status DB::Compact(const ProgressFn& progress) {
  if (options_.read_only) return Status::ReadOnly("database was opened read-only");
  // Full segments whose seal a roll queued for the writeback thread are
  // sealed first: unsealed, compaction would pass them over (a compaction
  // right after a burst of writes then left their dead bytes in place).
  FIRKIN_RETURN_IF_ERROR(log_->SealQueued());
  // A full compaction covers the active segment too: seal it (the next
  // write starts a new one) if it holds dead bytes, or records that an
  // ordered namespace may hold (they are then merged in key order).
  FIRKIN_RETURN_IF_ERROR(gate_.RunExclusive([&]() -> Status {
    Segment* active = log_->active();
    if (active == nullptr) return Status::OK();
    const bool ordered_data =
        keyspace_->HasOrdered() && active->published_len() > kSegmentHeaderSize;
    if (active->dead_bytes() == 0 && !ordered_data) return Status::OK();
    return log_->SealActive();
  }));
  return compactor_->CompactAll(progress);
}

ScanClock::ScanClock(const DB* db) : db_(db), ms_(db->PinScanClock()) {}

ScanClock::~ScanClock() {
  if (db_ != nullptr) db_->UnpinScanClock(ms_);
}

uint64_t DB::PinScanClock() const {
  std::lock_guard<std::mutex> l(snap_mu_);
  // Read under the lock: a horizon computed before this pin took a clock
  // at or below this one, so nothing it let a pass drop was live at it.
  const uint64_t ms = NowMs();
  scan_clocks_.insert(ms);
  return ms;
}

void DB::UnpinScanClock(uint64_t ms) const {
  std::lock_guard<std::mutex> l(snap_mu_);
  auto it = scan_clocks_.find(ms);
  if (it != scan_clocks_.end()) scan_clocks_.erase(it);
}

uint64_t DB::ExpiryHorizonMs() const {
  std::lock_guard<std::mutex> l(snap_mu_);
  const uint64_t now = NowMs();
  return scan_clocks_.empty() ? now : std::min(now, *scan_clocks_.begin());
}

uint64_t DB::OldestSnapshot() const {
  // History retention (history_retention_ms) holds history like a snapshot
  // at the start of its window.
  const uint64_t retained = HistoryRetentionSeq();
  std::lock_guard<std::mutex> l(snap_mu_);
  const uint64_t snap = snapshots_.empty() ? LastSeq() : *snapshots_.begin();
  return std::min(snap, retained);
}

// ---- interval flusher ----

void DB::StartFlusher() {
  std::lock_guard<std::mutex> l(flush_mu_);
  if (flusher_started_ || stop_flusher_) return;
  flusher_ = StartThread([this] { FlusherLoop(); });  // (may throw: not started)
  flusher_started_ = true;
}

void DB::FlusherLoop() {
  NameThisThread("firkin-flush");
  const auto period = std::chrono::milliseconds(options_.sync_interval_ms);
  std::unique_lock<std::mutex> l(flush_mu_);
  while (!stop_flusher_) {
    flush_cv_.wait_for(l, period, [this] { return stop_flusher_; });
    if (stop_flusher_) break;
    l.unlock();
    try {
      log_->SyncPublished();  // a failure becomes the sticky error
    } catch (const std::bad_alloc&) {  // (an error's message; until 2026-11-29 the end of the process)
      (void)log_->FailOutOfMemory("in the interval flusher");
    }
    l.lock();
  }
}

Status DB::Sync() {
  if (log_ == nullptr) return Status::OK();
  // Every acknowledged append is published, so this covers them all; an
  // update in place that returned before its number was published
  // (LogWriter::Complete) lies in a record below the published length,
  // which the sync covers too.
  return log_->SyncPublished();
}

Status DB::NewIterator(uint64_t snap, std::shared_ptr<NamespaceInfo> ns,
                       std::unique_ptr<Iterator>* out) {
  if (options_.read_only) FIRKIN_RETURN_IF_ERROR(ReaderBroken());
  if (ns->dropped.load(std::memory_order_acquire)) {
    return Status::NamespaceNotFound("namespace '" + ns->name + "' was dropped");
  }
  // Segments and their published lengths after the snapshot was taken:
  // every record with seq <= snap lies below these lengths. A read-only
  // handle: those of the last refresh that completed (a refresh running
  // now has segments in the list it has not replayed yet), which took
  // every snapshot it can have; its scan floor then goes with them (one
  // raised since by a refresh still running is for the state that refresh
  // makes; the entries it drops raise history_floor_, which the iterator
  // looks at as it goes, DB::AwaitRefresh before it fails).
  std::vector<std::shared_ptr<Segment>> segs;
  std::vector<uint64_t> ends;
  std::shared_ptr<const ReaderView> view = options_.read_only ? reader_view() : nullptr;
  if (view != nullptr) {
    segs = view->segs;
    ends = view->ends;
  } else {
    segs = keyspace_->segments().List();
    for (auto& s : segs) ends.push_back(s->published_len());
  }
  // (A read-only handle's scan floor, and the updates in place the
  // writer made in the segments it scans, which recovery and refreshes
  // found: until 2026-11-28 a reader's iterator below one ended OK without
  // the key it replaced, found by review.)
  auto in_place_above = [&]() {
    for (const auto& s : segs) {
      if (snap < s->inplace_max_seq.load(std::memory_order_relaxed)) return true;
    }
    return false;
  };
  const bool inexact =
      snap != kLatestSeq &&
      (options_.read_only
           ? snap < (view != nullptr ? view->scan_floor
                                     : reader_scan_floor_.load(std::memory_order_acquire)) ||
                 in_place_above()
           : ScanInexact(snap));
  out->reset(new Iterator(keyspace_.get(), std::move(ns), snap, std::move(segs),
                          std::move(ends), check_all_reads_,
                          options_.read_only ? this : nullptr, ScanClock(this), &codec_,
                          &recovery_));
  if (inexact) {
    // (A read-only handle: the view may be that of a refresh whose cut is
    // still under way, and snap its published number: the iterator fails
    // once that refresh has published, AwaitRefresh.)
    AwaitRefresh(snap);
    (*out)->Fail(Status::SnapshotTooOld(
        "the state at sequence " + std::to_string(snap) +
        " can no longer be scanned whole: compaction or an update in place since dropped "
        "versions it may hold (history_retention_ms keeps them)"));
  }
  return Status::OK();
}

Status DB::NewOrderedIterator(uint64_t snap, std::shared_ptr<NamespaceInfo> ns,
                              const OrderedRange& range, std::unique_ptr<TxnOverlay> overlay,
                              std::unique_ptr<OrderedIterator>* out) {
  if (ns->dropped.load(std::memory_order_acquire)) {
    return Status::NamespaceNotFound("namespace '" + ns->name + "' was dropped");
  }
  if (ns->ordered == nullptr) {
    return Status::InvalidArgument("namespace '" + ns->name +
                                   "' is not ordered (create it with the ordered flag)");
  }
  out->reset(new OrderedIterator(this, std::move(ns), snap, range, std::move(overlay)));
  return Status::OK();
}

// The ordered indexes are derived from the hash index: those the checkpoint
// held were loaded with it (and kept in step by the replay since); every
// other ordered namespace's is built here from the hash index. See
// docs/format.md, "Ordered namespaces".
void DB::BuildOrderedIndexes() {
  std::vector<uint32_t> ids;
  std::vector<std::shared_ptr<NamespaceInfo>> all = ns_.AllIncludingDropped();
  for (const auto& info : all) {
    if (info->is_ordered() && !info->dropped.load()) ids.push_back(info->id);
  }
  keyspace_->BuildOrdered(ids);
  for (const auto& info : all) {
    if (info->is_ordered() && !info->dropped.load()) {
      info->ordered = keyspace_->OrderedFor(info->id);
    }
  }
}

}  // namespace firkin
