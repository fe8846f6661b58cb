#include "core/log/log_writer.h"

#include "core/crypto/nonce.h"

#include <algorithm>
#include <chrono>
#include <new>

#include "core/util/background.h"
#include "core/util/epoch.h"
#include "core/util/spin.h"

namespace firkin {

// How many full segments may wait for their seal (LogWriter::Roll). One
// was too few on 2 cores: with compaction writing too, a 64 MiB seal took
// up to 100 ms, longer than the next segment took to fill, and the roll
// then waited for it. Each waiting segment is at most one segment of dirty
// pages more for the kernel to write back.
constexpr size_t kMaxQueuedSeals = 2;

namespace {
constexpr uint64_t kPrefaultAhead = 16ull << 20; // bytes faulted in ahead of the tail
// Writers poke the prefault thread once per 4 MiB written. Each poke is a
// futex wake, and the woken thread often preempted the writer on its core:
// once per MiB that was 3% of a YCSB A writer's time (sched_switch trace).
constexpr int kPokeShift = 22;
// Published bytes are handed to the kernel's writeback in chunks of this
// size (MappedFile::WriteBehind), so that sealing a full segment finds
// only the last chunk still dirty instead of the whole segment.
constexpr uint64_t kWriteBehindChunk = 2ull << 20;
// With in-place updates, write-behind leaves the newest bytes of the
// active segment alone (a hand-over freezes what it hands over:
// docs/write_path.md, "In-place updates"), so that a record stays mutable
// while this much of the log is appended after it: the window is the
// in-place updates' cache. A record frozen below it appends on its next
// update, and the keys whose records fit in it are the ones updated in
// place, so the window is a fraction of the segment, not a fixed size: a
// larger `segment_size` gives a larger hot set its updates in place.
// YCSB A, 2 threads, 1000-byte values: a window of 32 MiB (the fixed cap
// until 2026-11-26, half of a 64 MiB segment) left 2.6-3.3% of the updates
// appending at 50 K records and 18-21% at 200 K; three quarters (48 MiB)
// 1.1-1.8% and 16%. (16 MiB: 12% at 50 K.) What it costs: the seal of a
// full segment has up to the window left to write back (on the writeback
// thread, behind the writers), and the window is dirty page cache.
constexpr uint64_t InPlaceWindow(uint64_t capacity) { return capacity / 4 * 3; }

using Clock = std::chrono::steady_clock;
uint64_t NsSince(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count());
}
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}
// The writeback thread persists a watermark that trails the synced records
// once no sync has come for this long (LogWriter::WritebackLoop).
constexpr int64_t kWatermarkIdleNs = 5'000'000;
// A sync carries the watermark page along only once the page on disk was
// last written this long ago (SyncSegmentLocked): under a stream of syncs
// the watermark on disk trails the durable records by at most this, plus
// one group.
constexpr int64_t kWatermarkLagNs = 10'000'000;
// A sync of at least this many bytes goes through MappedFile::SyncTwo
// (with the watermark page) whatever the page's age: its range may cross
// several mappings (write-behind hands over 2 MiB pieces), and msync
// flushes the device once per mapping, SyncTwo once.
constexpr uint64_t kSyncTwoMinBytes = 256 << 10;
}  // namespace

LogWriter::LogWriter(Env* env, std::string dir, std::unique_ptr<Directory> directory,
                     uint64_t db_id, uint64_t segment_size, SegmentTable* table,
                     uint64_t next_segment_id, uint64_t last_seq, size_t recycle)
    : env_(env),
      dir_(std::move(dir)),
      directory_(std::move(directory)),
      db_id_(db_id),
      segment_size_(segment_size),
      table_(table),
      next_id_(next_segment_id),
      publisher_(last_seq),
      next_base_seq_(last_seq),
      pool_(env, dir_, recycle, segment_size / 2) {
  pf_thread_ = StartThread([this] { PrefaultLoop(); });
  try {
    wb_thread_ = StartThread([this] { WritebackLoop(); });
  } catch (...) {
    // (The prefault thread is stopped before the exception leaves: a
    // joinable std::thread destroyed ended the process, std::terminate,
    // until 2026-11-29; oom_test open_recover.)
    {
      std::lock_guard<std::mutex> l(pf_mu_);
      pf_stop_ = true;
    }
    pf_cv_.notify_all();
    pf_thread_.join();
    throw;
  }
}

LogWriter::~LogWriter() {
  {
    std::lock_guard<std::mutex> l(pf_mu_);
    pf_stop_ = true;
  }
  pf_cv_.notify_all();
  pf_thread_.join();
  {
    std::lock_guard<std::mutex> l(wb_mu_);
    wb_stop_ = true;
  }
  wb_cv_.notify_all();
  wb_thread_.join();
  // (Its path is a new string: out of memory, the file stays, and the next
  // open removes it. Until 2026-11-29 the exception ended the process.)
  try {
    DropSpare();
  } catch (const std::bad_alloc&) {
  }
}

Status LogWriter::StickyErrorSlow() const {
  std::lock_guard<std::mutex> l(sync_mu_);
  return sticky_;
}

void LogWriter::SetSticky(const Status& s, bool pages_at_risk) {
  // REQUIRES: sync_mu_ held.
  // The kernel may have dropped dirty pages: recovery must not trust the
  // page cache (set even if a failure came first, which did not say so).
  if (pages_at_risk && live_ != nullptr) live_->Distrust();
  if (has_sticky_.load(std::memory_order_relaxed)) return;
  const Status::Code code = s.code() == Status::Code::kNoSpace ? Status::Code::kIOError : s.code();
  try {
    sticky_ = Status(code, "database is in a failed state (reopen to recover): " + s.message());
  } catch (const std::bad_alloc&) {
    sticky_ = Status(code, std::string());  // (no message: no memory for one)
  }
  has_sticky_.store(true, std::memory_order_release);
}

Status LogWriter::FailOutOfMemory(const char* what) noexcept {
  std::lock_guard<std::mutex> l(sync_mu_);
  try {
    SetSticky(Status::NoMemory(std::string("out of memory ") + what));
    return sticky_;
  } catch (const std::bad_alloc&) {
    SetSticky(Status::NoMemory(std::string()));
    return Status::NoMemory(std::string());
  }
}

Status LogWriter::Reserve(uint64_t bytes, Reservation* r) {
  if (has_sticky_.load(std::memory_order_acquire)) return sticky_error();
  if (kSegmentHeaderSize + bytes > kMaxSegmentBytes) {
    return Status::TooLarge("write of " + std::to_string(bytes) +
                            " bytes exceeds the largest segment");
  }
  // Past kFreeWriters threads, one at a time (unlocked in Publish, or
  // below if no number is taken).
  std::unique_lock<std::mutex> crowd(crowd_mu_, std::defer_lock);
  if (Epoch::ThreadIndex() >= kFreeWriters) crowd.lock();
  for (;;) {
    Segment* seg = active_.load(std::memory_order_acquire);
    if (seg != nullptr && bytes <= seg->capacity() - kSegmentHeaderSize) {
      uint64_t off = 0, seq = 0;
      if (seg->TryReserve(1, bytes, &off, &seq) == Segment::Reserve::kOk) {
        r->seg = seg;
        r->off = off;
        r->bytes = bytes;
        r->seq = seq;
        r->queued = crowd.owns_lock();
        if (r->queued) crowd.release();  // held until Publish
        publisher_.Prepare(seq);
        if ((off >> kPokeShift) != ((off + bytes) >> kPokeShift)) {
          {
            std::lock_guard<std::mutex> l(pf_mu_);
            pf_poked_ = true;
          }
          // After the unlock: woken under it, the thread blocked on the
          // mutex and the unlock woke it a second time.
          pf_cv_.notify_one();
        }
        return Status::OK();
      }
    }
    FIRKIN_RETURN_IF_ERROR(Roll(seg, bytes));
  }
}

void LogWriter::WaitInPlaceIdle() {
  const uint32_t n = ip_hi_.load(std::memory_order_seq_cst);
  for (uint32_t i = 0; i < n; i++) {
    // An overwrite is a copy of at most LiveFile::kMaxRecord bytes under
    // its key's lock: it ends within a microsecond unless preempted.
    for (uint32_t spins = 0; ip_slots_[i].active.load(std::memory_order_seq_cst) != 0; ++spins) {
      if (spins < 256) {
        CpuRelax();
      } else {
        std::this_thread::yield();
      }
    }
  }
}

void LogWriter::Block() {
  ip_blockers_.fetch_add(1, std::memory_order_seq_cst);
  // A wait that throws (std::bad_alloc: the epoch guard of a thread's
  // first call registers the thread) takes its block back: the caller
  // gets the exception and never calls Unblock. Until 2026-11-29 the
  // block stayed, and no put went in place again until a reopen (a
  // snapshot, iterator, change cursor or verify that was a new thread's
  // first call and ran out of memory; oom_test inplace_after_fail).
  try {
    WaitOverwrites();
  } catch (...) {
    ip_blockers_.fetch_sub(1, std::memory_order_seq_cst);
    throw;
  }
}

void LogWriter::WaitOverwrites() {
  if (live_ == nullptr) return;
  WaitInPlaceIdle();
  // Their sequence numbers published too: a snapshot taken now is above
  // every version an overwrite replaced. (Each slot's number was stored
  // before its flag was cleared, and WaitInPlaceIdle saw every flag clear;
  // no overwrite starts now that a blocker is counted, or, for a counting
  // walk, now that the count floor is UINT64_MAX: SetCountFloor.)
  const uint64_t hi = InPlaceMaxSeq();
  Epoch::Guard guard;
  publisher_.WaitFor(hi);
}

uint64_t LogWriter::InPlaceMaxSeq() const {
  uint64_t hi = 0;
  const uint32_t n = ip_hi_.load(std::memory_order_seq_cst);
  for (uint32_t i = 0; i < n; i++) {
    hi = std::max(hi, ip_slots_[i].seq.load(std::memory_order_acquire));
  }
  return hi;
}

uint64_t LogWriter::Freeze(Segment* seg, uint64_t target) {
  target = std::min(target, seg->capacity());
  uint64_t cur = seg->frozen.load(std::memory_order_relaxed);
  while (cur < target && !seg->frozen.compare_exchange_weak(cur, target, std::memory_order_seq_cst)) {
  }
  if (live_ != nullptr && seg->inplace()) WaitInPlaceIdle();
  return std::max(cur, target);
}

uint64_t LogWriter::FreezeForSync(Segment* seg, uint64_t upto) {
  const uint64_t frozen = Freeze(seg, seg->reserved_len());
  // Every overwrite below the freeze has ended (Freeze waited), and each
  // noted where the records numbered before it end (NoteInPlace) before
  // it ended. None past `upto`: the records below it hold every number
  // below each number on them. (Until 2026-11-30 the watermark was raised
  // to the published length read before the freeze regardless: an update
  // in place numbered n+1 below it, the append numbered n still being
  // copied past it (or published just after the look, by the thread that
  // then made the update), and a read-only handle's refresh reached a
  // state with n+1 and without n, a hole the writer never had, filled by
  // its next refresh below its firkin_last_seq; readers_test inplace_hole.)
  if (live_ == nullptr || !seg->inplace() || !seg->InPlaceGapAtOrAbove(upto + 1)) return upto;
  // Appends published since the look (an acknowledged one is): below the
  // freeze, they never change again. (Where the freeze read the reserved
  // length before such an append was reserved, the wait below takes it.)
  upto = std::max(upto, std::min(seg->published_len(), frozen));
  if (!seg->InPlaceGapAtOrAbove(upto + 1)) return upto;
  // Appends still being copied: no overwrite starts now (as Block), and
  // their publication is waited for, briefly: a sync does not wait for a
  // stalled writer (inplace_test ahead). Published, the published length
  // is past every record numbered below an overwrite's number, and frozen
  // before any overwrite starts again. Still in flight after
  // kPrefixWaitNs (a writer stopped or preempted that long), the sync
  // goes on with what is published, and a reader may see an update in
  // place before such an append numbered below it (README, "Read-only
  // processes beside the writer"). (The appends waited for hold no lock
  // this thread holds: they never wait for a sync.)
  // (The guard first: its registration of a new thread may throw
  // std::bad_alloc, which must not leave overwrites held off for good. A
  // review of 2026-11-30; through the database this thread is registered
  // already, by its Reserve or SyncPublished's guard.)
  Epoch::Guard guard;  // (Current advances the segments' published lengths)
  ip_blockers_.fetch_add(1, std::memory_order_seq_cst);
  WaitInPlaceIdle();
  const uint64_t hi = InPlaceMaxSeq();
  const int64_t deadline = NowNs() + kPrefixWaitNs;
  bool published = false;
  for (uint32_t round = 0;; round++) {
    if (publisher_.Current() >= hi) {
      published = true;
      break;
    }
    if (NowNs() >= deadline) break;
    if (round < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  if (!published) prefix_waits_timed_out_.fetch_add(1, std::memory_order_relaxed);
  // Either way, every append acknowledged before an update in place is
  // published, and so below this length (what the wait adds: the appends
  // it waited for).
  const uint64_t len = seg->published_len();
  Freeze(seg, len);
  upto = std::max(upto, len);
  ip_blockers_.fetch_sub(1, std::memory_order_seq_cst);
  return upto;
}

void LogWriter::Publish(const Reservation& r) {
  publisher_.Complete(r.seq, r.seg, r.off + r.bytes);
  publisher_.WaitFor(r.seq);  // the length is raised over the record before
  NoteSeen(r.seq);            // (what this thread now knows is published)
  if (r.queued) crowd_mu_.unlock();  // (taken by this thread in Reserve)
}

Status LogWriter::CreateSegment(uint64_t bytes, bool after_unsealed, std::shared_ptr<Segment>* out,
                                 bool* spare_used) {
  uint64_t size = std::max<uint64_t>(segment_size_, kSegmentHeaderSize + bytes);
  size = (size + 4095) & ~uint64_t{4095};
  size = std::min<uint64_t>(size, kMaxSegmentBytes);
  uint32_t slot = 0;
  FIRKIN_RETURN_IF_ERROR(table_->AllocateSlot(&slot));
  // A retired file (recycling): every record it still holds has a
  // sequence number at or below the floor written into the new header, and
  // every record of the new life a greater one, so recovery tells them
  // apart (docs/format.md). A spare taken from the pool holds records at
  // or below the published number when it was taken, the floor its header
  // was written with.
  const uint64_t floor = next_base_seq_;
  bool recycled = false;
  uint64_t id = 0;
  uint32_t flags = 0;
  std::unique_ptr<MappedFile> file = TakeSpare(size, &recycled, &id, &flags);
  if (file != nullptr && (id <= last_log_id_ || id < listed_max_.load())) {
    // A roll made a segment itself after the spare's id was taken (the
    // spare was too small, or not ready yet), and log segment ids must grow
    // with the log; or a checkpoint listed a newer segment (a compaction
    // output) meanwhile, and a checkpoint requires every segment it does
    // not list to be newer than all it lists. So the spare takes a fresh
    // id, and its header is written again (the one flush this roll then
    // waits for). (A compaction output's id above the spare's is otherwise
    // harmless: outputs are not part of the log's order.)
    const uint64_t floor_was = SegmentSeqFloor(file->data());
    bool sync_failed = false;
    Status hs = TakeSegmentId(&id);
    if (hs.ok()) {
      hs = WriteHeader(file.get(), id, flags & ~kSegmentFlagSalted, floor_was, &flags,
                       &sync_failed);
      restamped_.fetch_add(1, std::memory_order_relaxed);
    }
    if (!hs.ok()) {
      file.reset();
      env_->RemoveFile(spare_path());
      SpareNamed();
      if (sync_failed) {
        table_->FreeSlot(slot);
        std::lock_guard<std::mutex> l(sync_mu_);  // any failed sync is sticky (DESIGN §3)
        SetSticky(hs);
        return sticky_;
      }
      recycled = false;  // a file is made below
    }
  }
  const bool spare = file != nullptr;
  *spare_used = spare;
  // Whatever happens below, a taken spare has been named (or removed) when
  // this returns, and the next one may be readied.
  struct NamingDone {
    LogWriter* w;
    bool taken;
    ~NamingDone() {
      if (taken) w->SpareNamed();
    }
  } naming_done{this, spare};
  if (!spare) {
    Status is = TakeSegmentId(&id);
    if (!is.ok()) {
      table_->FreeSlot(slot);
      return is;
    }
  }
  // Created under a temporary name (recovery removes such files) and named
  // only once its header is durable: a named segment always has a valid
  // header, so a blank or headerless named segment is damage, never an
  // unfinished creation. (The caller syncs the directory.)
  const std::string path = dir_ + "/" + SegmentFileName(id);
  const std::string tmp = path + ".tmp";
  const std::string from = spare ? spare_path() : tmp;  // its name until it is named `path`
  Status s;
  if (!spare) {
    s = MakeSegmentFile(floor, size, tmp, &file, &recycled);
    if (!s.ok()) {
      table_->FreeSlot(slot);
      GiveBackSegmentId(id, tmp);
      return s;  // e.g. ENOSPC: nothing acknowledged, not sticky
    }
    // The header says whether the segment before it may be unsealed (its
    // seal queued), with that segment's last sequence number as floor.
    bool sync_failed = false;
    s = WriteHeader(file.get(), id,
                    (recycled ? kSegmentFlagRecycled : 0) |
                        (after_unsealed ? kSegmentFlagAfterUnsealed : 0),
                    recycled || after_unsealed ? floor : 0, &flags, &sync_failed);
    if (!s.ok()) {
      file.reset();
      env_->RemoveFile(from);
      table_->FreeSlot(slot);
      if (sync_failed) {
        std::lock_guard<std::mutex> l(sync_mu_);  // any failed sync is sticky (DESIGN §3)
        SetSticky(s);
        return sticky_;
      }
      GiveBackSegmentId(id, tmp);
      return s;
    }
  }
  // A spare keeps its mapping (its first pages are faulted in already);
  // a file made here is mapped again under its name.
  if (!spare) file.reset();
  s = env_->RenameFile(from, path);
  if (s.ok()) {
    if (spare) {
      file->SetPath(path);
    } else {
      s = env_->OpenMappedFile(path, /*writable=*/true, &file);
      if (s.ok() && huge_pages_) file->AdviseHugePages();
    }
  }
  if (!s.ok()) {
    file.reset();
    env_->RemoveFile(from);
    env_->RemoveFile(path);
    table_->FreeSlot(slot);
    return s;
  }
  if (!spare) file->Prefault(kSegmentHeaderSize, std::min<uint64_t>(kPrefaultAhead / 4, size));
  last_log_id_ = id;
  *out = std::make_shared<Segment>(id, slot, std::move(file), kSegmentHeaderSize, flags);
  (*out)->checked.store(true);  // every record a reader can reach in it is ours
  if (recycled) recycled_.fetch_add(1, std::memory_order_relaxed);
  if (spare) spares_used_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

Status LogWriter::TakeSegmentId(uint64_t* id) {
  if (next_id_.load() > kMaxSegmentId) return Status::NoSpace("segment ids exhausted");
  *id = next_id_.fetch_add(1);
  return Status::OK();
}

void LogWriter::GiveBackSegmentId(uint64_t id, const std::string& tmp) {
  // Only while no file carries the id: a roll that failed before naming its
  // segment removed its temporary file (and recovery removes any such
  // file), so nothing on disk, durable or not, can hold the id. And only
  // if no id was taken since (the prefault thread's spares take them too).
  // A failed roll is retried by the next write: on a full disk, every put
  // of a retrying caller used to burn one of the 2^32 ids, and once they
  // ran out the database could never roll again.
  bool is_dir = false;
  uint64_t size = 0;
  if (!env_->Stat(tmp, &is_dir, &size).IsNotFound()) return;
  uint64_t next = id + 1;
  next_id_.compare_exchange_strong(next, id);
}

void LogWriter::NoteListed(uint64_t max_id) { RaiseTo(&listed_max_, max_id); }

Status LogWriter::WriteHeader(MappedFile* file, uint64_t id, uint32_t flags, uint64_t floor,
                              uint32_t* flags_out, bool* sync_failed) {
  *sync_failed = false;
  SegmentHeader h;
  h.segment_id = id;
  h.db_id = db_id_;
  h.flags = flags;
  h.seq_floor = floor;
  // Every record this library writes has the short layout (format version
  // 8, which covers the flags below: after-unsealed 6, in-place 7, salted 5).
  h.format_version = kFormatVersionShort;
  if (live_ != nullptr) h.flags |= kSegmentFlagInPlace;
  if (salted_) {
    // A fresh salt for every segment life (a recycled file's too): its
    // records' nonces are (salt, offset), never used before under the key.
    h.flags |= kSegmentFlagSalted;
    FIRKIN_RETURN_IF_ERROR(RandomBytes(&h.salt, sizeof h.salt));
  }
  EncodeSegmentHeader(h, file->data());
  EncodeDurableLen(file->data(), kSegmentHeaderSize);
  Status s = file->Sync(0, kSegmentHeaderSize);
  syncs_.fetch_add(1, std::memory_order_relaxed);
  if (!s.ok()) {
    *sync_failed = true;
    return s;
  }
  *flags_out = h.flags;
  return Status::OK();
}

Status LogWriter::MakeSegmentFile(uint64_t floor, uint64_t size, const std::string& name,
                                  std::unique_ptr<MappedFile>* file, bool* recycled) {
  // A retired file first (recycling). Any failure falls back to a fresh
  // file. A read-only handle (of any process) may still map a retired file:
  // none is reused while one is open (they announce themselves on LOCK).
  *recycled = false;
  bool readers = true;
  if (floor > 0 && pool_.size() > 0) env_->ProbeReaders(dir_ + "/" + kLockFileName, &readers);
  if (floor > 0 && !readers && pool_.Take(floor, name)) {
    // The file's names made durable before a byte of it changes: its
    // retirement (segment -> pooled name) and this take (-> `name`) may
    // still be pending (compaction hands a file to the pool before its
    // directory sync, and the roll that takes it syncs the directory only
    // later). A power loss that undid them while the new header reached
    // the disk left a file under its old segment name with another
    // segment's header, and the database refused to open (powerloss_test,
    // bank image always/drop, 2026-11-27; tests/unit/recycle_test). Mostly
    // off the writers' path: the prefault thread readies spares, and only
    // a roll that found none ready makes its file (and pays this) itself.
    Status rs = directory_->Sync();
    if (rs.ok()) rs = env_->PrepareReuse(name, size);
    if (rs.ok()) rs = env_->OpenMappedFile(name, /*writable=*/true, file);
    if (rs.ok() && (*file)->size() >= size && (*file)->size() <= kMaxSegmentBytes) {
      *recycled = true;
      if (huge_pages_) (*file)->AdviseHugePages();
      return Status::OK();
    }
    file->reset();
    env_->RemoveFile(name);
  }
  Status s = env_->NewMappedFile(name, size, file);
  if (s.ok() && huge_pages_) (*file)->AdviseHugePages();
  return s;
}

std::string LogWriter::spare_path() const {
  // A segment name no segment can have (ids stop at kMaxSegmentId), as a
  // temporary file: recovery removes it (IsTempSegmentName).
  return dir_ + "/" + SegmentFileName(kMaxSegmentId + 1) + ".tmp";
}

void LogWriter::PrepareSpare() {
  {
    // Not while a roll names the last spare: this one would take its name.
    std::lock_guard<std::mutex> l(spare_mu_);
    if (spare_ != nullptr || spare_naming_) return;
  }
  if (has_sticky_.load(std::memory_order_acquire)) return;
  const uint64_t size = (segment_size_ + 4095) & ~uint64_t{4095};
  // Every record a pooled file holds is compacted, so published: the
  // published number now is a floor for it (see CreateSegment).
  std::unique_ptr<MappedFile> file;
  bool recycled = false;
  const std::string name = spare_path();
  const uint64_t published_at_take = publisher_.published();
  if (!MakeSegmentFile(published_at_take, size, name, &file, &recycled).ok()) {
    env_->RemoveFile(name);  // nothing, or a half-made file
    spares_failed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // The header page and the first records' pages, as the prefault thread
  // does for the active segment.
  file->Prefault(0, std::min<uint64_t>(kPrefaultAhead, size));
  // Its header now, made durable here: a flush at the roll waits behind
  // the writeback of the full segment (14 ms of an 8 KiB msync in a trace
  // of YCSB A), and every writer waits for the roll. Its id is taken now
  // (ids are never reused; a spare dropped at close leaves one unused).
  // Every spare says the segment before it may be unsealed: when it is
  // taken, the roll has queued the full segment's seal, or that segment
  // was sealed (close, full compaction) and the flag is moot. The floor is
  // that of a recycled file's records only; recovery reads the previous
  // segment's last sequence number off this one's first record.
  uint32_t flags = 0;
  uint64_t id = 0;
  Status hs = TakeSegmentId(&id);
  if (hs.ok()) {
    bool sync_failed = false;  // (not sticky here: nothing depends on a spare)
    hs = WriteHeader(file.get(), id,
                     kSegmentFlagAfterUnsealed | (recycled ? kSegmentFlagRecycled : 0),
                     recycled ? published_at_take : 0, &flags, &sync_failed);
  }
  if (!hs.ok()) {
    file.reset();
    env_->RemoveFile(name);
    spares_failed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::lock_guard<std::mutex> l(spare_mu_);
  spare_ = std::move(file);
  spare_recycled_ = recycled;
  spare_id_ = id;
  spare_flags_ = flags;
}

std::unique_ptr<MappedFile> LogWriter::TakeSpare(uint64_t size, bool* recycled, uint64_t* id,
                                                 uint32_t* flags) {
  std::lock_guard<std::mutex> l(spare_mu_);
  if (spare_ == nullptr || spare_->size() < size) return nullptr;
  *recycled = spare_recycled_;
  *id = spare_id_;
  *flags = spare_flags_;
  spare_naming_ = true;  // until SpareNamed
  return std::move(spare_);
}

void LogWriter::SpareNamed() {
  std::lock_guard<std::mutex> l(spare_mu_);
  spare_naming_ = false;
}

void LogWriter::DropSpare() {
  std::unique_ptr<MappedFile> file;
  {
    std::lock_guard<std::mutex> l(spare_mu_);
    file = std::move(spare_);
  }
  if (file == nullptr) return;
  file.reset();
  env_->RemoveFile(spare_path());
}

Status LogWriter::Roll(Segment* full, uint64_t bytes) {
  // A roll changes the log's state in steps (the full segment closed, its
  // seal queued, a file made and named, a slot and an id taken): an
  // allocation failing between them fails the log, and a reopen recovers
  // from the files (until 2026-11-29 the exception left the steps half
  // done, and the checkpoint written at close then left a segment out:
  // the next open refused the directory; oom_test).
  try {
    return RollSteps(full, bytes);
  } catch (const std::bad_alloc&) {
    return FailOutOfMemory("rolling to a new log segment");
  }
}

Status LogWriter::RollSteps(Segment* full, uint64_t bytes) {
  std::lock_guard<std::mutex> roll(roll_mu_);
  if (has_sticky_.load(std::memory_order_acquire)) return sticky_error();
  Segment* cur = active_.load(std::memory_order_acquire);
  if (cur != full) return Status::OK();  // another writer rolled meanwhile
  const Clock::time_point start = Clock::now();
  if (cur != nullptr) {
    // Close it if no reservation has (this write is too big for it).
    cur->Close();
  }
  bool after_unsealed = false;
  if (cur != nullptr && !cur->sealed.load(std::memory_order_acquire)) {
    // Every record of the closed segment is complete once its last
    // sequence number is published (its writers hold no lock we hold: they
    // took their key locks before reserving, and never wait for a roll).
    publisher_.WaitFor(cur->end_seq());
    cur->PublishUpTo(cur->end_off());
    next_base_seq_ = cur->end_seq();
    // Queue its seal for the writeback thread rather than wait for the
    // disk here; the next segment's header says that this one may not be
    // sealed (recovery then keeps nothing of it if a power loss cut this
    // one short). At most kMaxQueuedSeals wait: with that many still
    // queued, they are sealed now, under the sync mutex (the queue has its
    // own, so that a roll does not wait for a sync in flight). A roll that
    // failed after queueing it comes back here with it queued.
    size_t queued = 0;
    {
      std::lock_guard<std::mutex> q(queue_mu_);
      queued = unsealed_.size();
    }
    if (queued >= kMaxQueuedSeals) {
      std::lock_guard<std::mutex> l(sync_mu_);
      FIRKIN_RETURN_IF_ERROR(SealQueuedLocked());
    }
    {
      std::lock_guard<std::mutex> q(queue_mu_);
      if (!cur->sealed.load(std::memory_order_acquire) &&
          (unsealed_.empty() || unsealed_.back() != cur)) {
        unsealed_.push_back(cur);
        seal_queued_.store(true, std::memory_order_release);
      }
    }
    if (has_sticky_.load(std::memory_order_acquire)) return sticky_error();
    after_unsealed = true;
  }
  std::shared_ptr<Segment> next;
  bool spare = false;
  FIRKIN_RETURN_IF_ERROR(CreateSegment(bytes, after_unsealed, &next, &spare));
  // The new segment's name must be durable (its header already is) before
  // any of its records is acknowledged as durable: the next sync does it
  // (SyncSegmentLocked), not the roll, which every writer waits for (the
  // directory fsync took 3-23 ms when it met a journal commit behind the
  // writeback). Until then a power loss may undo the name: the segment
  // is then gone with records nobody was promised.
  dir_unsynced_.store(true, std::memory_order_release);
  // Every number of the segments before is published (above, or by the
  // roll before): the clock has passed each of their commit times.
  if (clock_ms_ != nullptr) {
    next->time_floor.store(clock_ms_->load(std::memory_order_acquire), std::memory_order_relaxed);
  }
  next->synced_len.store(kSegmentHeaderSize, std::memory_order_relaxed);
  next->watermark_durable.store(kSegmentHeaderSize, std::memory_order_relaxed);
  next->StartAppending(kSegmentHeaderSize, next_base_seq_);
  Segment* raw = next.get();
  raw->log_active.store(true, std::memory_order_relaxed);  // (released by the store below)
  table_->Add(std::move(next));
  active_.store(raw, std::memory_order_release);
  // Compactable from now on, once sealed (Segment::log_active; a roll that
  // failed before this point left it active and kept it from compaction).
  if (cur != nullptr) cur->log_active.store(false, std::memory_order_release);
  rolls_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t took = NsSince(start) / 1000;
  roll_us_.fetch_add(took, std::memory_order_relaxed);
  if (took > roll_us_max_.load(std::memory_order_relaxed)) {
    roll_us_max_.store(took, std::memory_order_relaxed);
  }
  if (after_unsealed) PokeWriteback();  // the queued seal
  if (on_roll_) on_roll_();  // backpressure: is compaction keeping up?
  // A spare's first pages are faulted in already: the writers' first poke
  // will do. A file made here has only its first 4 MiB.
  if (!spare) {
    {
      std::lock_guard<std::mutex> l(pf_mu_);
      pf_poked_ = true;
    }
    pf_cv_.notify_one();
  }
  return Status::OK();
}

Status LogWriter::SyncRangeLocked(Segment* seg, uint64_t upto, bool watermark) {
  if (has_sticky_.load(std::memory_order_relaxed)) return sticky_;
  // A record is durable only once every record before it is: a queued
  // seal first (recovery keeps nothing past a segment a power loss cut).
  if (seal_queued_.load(std::memory_order_acquire)) {
    FIRKIN_RETURN_IF_ERROR(SealQueuedLocked());
    if (seg->sealed.load(std::memory_order_acquire)) return Status::OK();
  }
  return SyncSegmentLocked(seg, upto, watermark);
}

Status LogWriter::SealQueuedLocked(size_t* sealed) {
  if (sealed != nullptr) *sealed = 0;
  for (;;) {
    Segment* seg = nullptr;
    {
      std::lock_guard<std::mutex> q(queue_mu_);
      if (unsealed_.empty()) {
        seal_queued_.store(false, std::memory_order_release);
        return Status::OK();
      }
      seg = unsealed_.front();
    }
    // (Sticky: nothing is sealed or synced again; recovery finishes it.)
    if (has_sticky_.load(std::memory_order_relaxed)) return sticky_;
    const Clock::time_point start = Clock::now();
    Status s = SealLocked(seg, seg->end_off());
    seal_us_.fetch_add(NsSince(start) / 1000, std::memory_order_relaxed);
    FIRKIN_RETURN_IF_ERROR(s);
    if (sealed != nullptr) ++*sealed;
    std::lock_guard<std::mutex> q(queue_mu_);
    unsealed_.erase(unsealed_.begin());
  }
}

Status LogWriter::SyncSegmentLocked(Segment* seg, uint64_t upto, bool watermark) {
  if (has_sticky_.load(std::memory_order_relaxed)) return sticky_;
  const uint64_t synced = seg->synced_len.load(std::memory_order_relaxed);
  if (upto <= synced) return watermark ? PersistWatermarkLocked(seg) : Status::OK();
  // The names of the segments rolls made since the last sync (Roll), before
  // any record is made durable.
  if (dir_unsynced_.load(std::memory_order_acquire)) {
    dir_unsynced_.store(false, std::memory_order_relaxed);
    Status ds = directory_->Sync();
    syncs_.fetch_add(1, std::memory_order_relaxed);
    if (!ds.ok()) {
      dir_unsynced_.store(true, std::memory_order_relaxed);
      SetSticky(ds);  // any failed sync is sticky (DESIGN §3)
      return sticky_;
    }
  }
  // The watermark page holds the length the previous sync reached, written
  // into it only after that sync ended: whatever order the page and the
  // records reach the disk in, the watermark on disk never claims a byte
  // that is not durable (recovery treats damage below it as corruption,
  // never as a torn tail). The page goes along with the records in one
  // flush (MappedFile::SyncTwo), but only once the page on disk is
  // kWatermarkLagNs old: the page in every group commit cost 5% of the
  // durable writes' throughput at 1 thread and 17% at 2 (fillsync,
  // docs/write_path.md), and a second flush per sync, for the page alone,
  // halved it. So the watermark on disk trails the durable records by at
  // most that long plus one group while syncs stream, until the writeback
  // thread persists it once syncs pause (WritebackLoop), or the seal does;
  // explicit syncs (`watermark`) persist it at once, after the records.
  // Long ranges (the writeback thread's sync-behind, seals, explicit syncs
  // after a while) always take the page along (kSyncTwoMinBytes).
  const int64_t now = NowNs();
  const bool page =
      upto - synced >= kSyncTwoMinBytes ||
      (!watermark && seg->watermark_durable.load(std::memory_order_relaxed) < synced &&
       now - watermark_written_ns_ >= kWatermarkLagNs);
  Status s = page ? seg->file()->SyncTwo(kWatermarkOffset, kSegmentHeaderSize - kWatermarkOffset,
                                         synced, upto - synced)
                  : seg->file()->Sync(synced, upto - synced);
  syncs_.fetch_add(1, std::memory_order_relaxed);
  if (!s.ok()) {
    SetSticky(s, /*pages_at_risk=*/true);
    return sticky_;
  }
  if (page) {
    seg->watermark_durable.store(synced, std::memory_order_relaxed);
    watermark_written_ns_ = now;
  }
  EncodeDurableLen(seg->mutable_data(), upto);
  seg->synced_len.store(upto, std::memory_order_release);
  last_sync_end_ns_.store(NowNs(), std::memory_order_relaxed);
  return watermark ? PersistWatermarkLocked(seg) : Status::OK();
}

Status LogWriter::PersistWatermarkLocked(Segment* seg) {
  if (has_sticky_.load(std::memory_order_relaxed)) return sticky_;
  const uint64_t synced = seg->synced_len.load(std::memory_order_relaxed);
  if (seg->watermark_durable.load(std::memory_order_relaxed) >= synced) return Status::OK();
  Status s = seg->file()->Sync(kWatermarkOffset, kSegmentHeaderSize - kWatermarkOffset);
  syncs_.fetch_add(1, std::memory_order_relaxed);
  if (!s.ok()) {
    SetSticky(s, /*pages_at_risk=*/true);
    return sticky_;
  }
  seg->watermark_durable.store(synced, std::memory_order_relaxed);
  watermark_written_ns_ = NowNs();
  last_sync_end_ns_.store(watermark_written_ns_, std::memory_order_relaxed);
  return Status::OK();
}

Status LogWriter::SealLocked(Segment* seg, uint64_t end) {
  // Make the records durable, and only then let the watermark claim them
  // all (a watermark persisted ahead of its data would turn a power loss
  // into "corruption"); then truncate + fdatasync, which persists it.
  // Every record is complete and nothing writes here again: the rest of
  // the record area is handed over first (to the end of the file, so not
  // cut at a 2 MiB boundary), and the sync write-protects no page-table
  // entry page by page (a TLB shootdown each, on every core, while every
  // writer waits for this roll). Only the rest: the writeback thread handed
  // over the front already, and mapping that again (and populating its
  // page-table entries again) was 12% of a writer's time in YCSB A.
  Freeze(seg, seg->capacity());  // nothing changes here again
  const uint64_t from = std::max<uint64_t>(
      kSegmentHeaderSize, seg->handed_over.load(std::memory_order_acquire) & ~uint64_t{4095});
  if (from < seg->capacity()) {
    seg->handed_over.store(from + seg->file()->WriteBehind(from, seg->capacity() - from),
                           std::memory_order_release);
  }
  // (One flush for the records; the truncate's fdatasync then persists the
  // watermark page, which claims `end` by then.)
  Status s = SyncSegmentLocked(seg, end, /*watermark=*/false);
  // The clock goes with the watermark page (the truncate persists both).
  if (clock_ms_ != nullptr) {
    try {
      EncodeSealClock(seg->mutable_data(), clock_ms_->load(std::memory_order_acquire),
                      clock_key_);
    } catch (const std::bad_alloc&) {
      // Out of memory for the clock's MAC (its message, libcrypto's HMAC):
      // sealed without a clock, as an older library's segment (a reopen
      // takes the clock from the commit times), never with one that reads
      // as forged (firkin_verify's complaint, every verified backup's
      // CORRUPTION: until 2026-11-29), and the seal
      // itself goes on (a throw here left a frozen segment unsealed).
      ClearSealClock(seg->mutable_data());
    }
  }
  if (s.ok()) s = seg->file()->Truncate(end);
  syncs_.fetch_add(1, std::memory_order_relaxed);
  if (!s.ok()) {
    SetSticky(s);
    return sticky_;
  }
  seg->set_published_len(end);
  seg->synced_len.store(end, std::memory_order_release);
  seg->watermark_durable.store(end, std::memory_order_relaxed);
  seg->sealed.store(true, std::memory_order_release);
  return Status::OK();
}

Status LogWriter::SyncTo(Segment* seg, uint64_t end) {
  // (seq_cst: the arrival and the leader's flag form a store-load pair;
  // a missed wake-up would only cost the leader its timeout.)
  const uint64_t arrived = arrivals_.fetch_add(1) + 1;
  in_sync_.fetch_add(1, std::memory_order_acq_rel);
  const uint64_t until = gather_until_.load();
  if (until != 0 && arrived >= until) gather_park_.Wake();
  struct Leave {
    std::atomic<uint32_t>* n;
    ~Leave() { n->fetch_sub(1, std::memory_order_acq_rel); }
  } leave{&in_sync_};
  for (;;) {
    if (seg->synced_len.load(std::memory_order_acquire) >= end) {
      // Synced by another (a leader's group, the writeback thread's sync
      // behind, which leaves the watermark): a gap of an update in place
      // at or above the watermark on disk still needs it carried past
      // (below; until 2026-11-29 this returned at once).
      // (Not where the watermark on disk is past this write already: the
      // followers of a leader that carried it.)
      if (seg->watermark_durable.load(std::memory_order_acquire) < end && WatermarkNeeded(seg)) {
        std::lock_guard<std::mutex> l(sync_mu_);
        if (!seg->sealed.load(std::memory_order_acquire) &&
            seg->watermark_durable.load(std::memory_order_relaxed) < end && WatermarkNeeded(seg)) {
          Status s = PersistWatermarkLocked(seg);
          if (!s.ok()) return s;
        }
      }
      return has_sticky_.load(std::memory_order_acquire) ? sticky_error() : Status::OK();
    }
    const uint64_t gen = group_gen_.load();
    std::unique_lock<std::mutex> l(sync_mu_, std::try_to_lock);
    if (l.owns_lock()) {
      Status s;
      if (has_sticky_.load(std::memory_order_relaxed)) {
        s = sticky_;
      } else if (!seg->sealed.load(std::memory_order_acquire) &&
                 seg->synced_len.load(std::memory_order_relaxed) < end) {
        // Group commit: cover everything published by now, not just this
        // write, once the group has gathered.
        GatherGroupLocked();
        cover_mark_ = arrivals_.load();
        const Clock::time_point t0 = Clock::now();
        // (Published bytes are below what was reserved when it froze.)
        const uint64_t upto =
            FreezeForSync(seg, std::max(end, seg->published_len()));
        s = SyncRangeLocked(seg, upto, /*watermark=*/WatermarkNeeded(seg));
        last_sync_ns_ = NsSince(t0);
        expect_ = in_sync_.load(std::memory_order_acquire);
      } else if (!seg->sealed.load(std::memory_order_acquire) &&
                 seg->watermark_durable.load(std::memory_order_relaxed) < end &&
                 WatermarkNeeded(seg)) {
        // Synced between the look above and the lock, by the writeback
        // thread's sync behind, which leaves the watermark: carried past
        // this write here as above (a review of 2026-11-30 found this
        // window, a preemption at one instruction while sync behind runs;
        // before, the write was acknowledged with the watermark short of
        // it). No test forces the window: it is the branch above's case.
        s = PersistWatermarkLocked(seg);
      }
      l.unlock();
      group_gen_.fetch_add(1);
      group_park_.Wake();
      return s;
    }
    // A sync is in flight (or a seal): wait for it to end rather than queue
    // behind the sync mutex. It may cover this write, which must then
    // return at once, not after the next group's sync. (Only SyncTo
    // announces its end; after another holder's the guard, 1 ms, looks
    // again.)
    group_park_.SleepUnless([&] {
      return group_gen_.load() != gen || seg->synced_len.load() >= end;
    });
  }
}

bool LogWriter::WatermarkNeeded(const Segment* seg) {
  // After a power loss recovery keeps a record past the watermark on disk
  // only if it is whole, not overwritten, and numbered right after the
  // record before it (recovery.cc: so that a recycled file's leftovers are
  // never taken for records). Updates in place break the last two above
  // the watermark: a record overwritten there (inplace_hi), and the
  // records from where an update took its number on (the next append skips
  // the number, and an overwritten record numbers above those up to it:
  // NoteInPlace). A durable write's sync then carries the watermark past
  // them, or recovery would cut the log at them, and the write with it
  // (until 2026-11-29 only the first was looked at: an in-place update,
  // firkin_sync, then an `always` put, and a power loss lost that put;
  // found by review).
  const uint64_t wd = seg->watermark_durable.load(std::memory_order_relaxed);
  return seg->inplace_hi.load(std::memory_order_acquire) > wd || seg->InPlaceGapAtOrAbove(wd);
}

void LogWriter::GatherGroupLocked() {
  // The writers the last sync covered come back with their next write a
  // moment after it ended; a leader that started at once left them to the
  // group after (8 writers made alternating groups of about 4). So wait
  // until as many writers have arrived since the last sync's cover point
  // as were inside SyncTo when it ended, for half of its time at most (and
  // at most 5 ms, whatever it took). Asleep, not spinning: on a machine
  // with few cores the writers it waits for need the core.
  const uint64_t mark = cover_mark_;
  const uint32_t want = expect_;
  if (want <= 1 || arrivals_.load() - mark >= want) return;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::nanoseconds(std::min<uint64_t>(last_sync_ns_ / 2, 5000000));
  gather_until_.store(mark + want);
  auto gathered = [&] { return arrivals_.load() - mark >= want; };
  while (!gathered()) {
    const int64_t left = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             deadline - Clock::now()).count();
    if (left <= 0) break;
    gather_park_.SleepUnless(gathered, static_cast<long>(left));
  }
  gather_until_.store(0);
}

void LogWriter::SyncBehind(Segment* seg, uint64_t upto) {
  std::lock_guard<std::mutex> l(sync_mu_);
  if (has_sticky_.load(std::memory_order_relaxed)) return;
  if (seg->sealed.load(std::memory_order_acquire)) return;
  // The synced length becomes the watermark (in the page at once, which
  // read-only handles read, and on disk later: PersistWatermarkLocked), so
  // it must end a completed prefix of the log (FreezeForSync). What was
  // handed over is frozen, with no overwrite under way there, but an
  // update in place below `upto` may carry a number above records past it
  // (2026-11-30). Then the bytes are made durable all the same (the
  // seal's sync finds them clean) and the length is left where it was;
  // the next sync that raises the watermark goes past them.
  // (From where the last such sync ended: the trigger counts from there
  // too, or each handover synced again from synced_len; a review of
  // 2026-11-30.)
  if (live_ != nullptr && seg->inplace() && seg->InPlaceGapAtOrAbove(upto + 1)) {
    const uint64_t from = std::max(seg->synced_len.load(std::memory_order_relaxed),
                                   seg->synced_behind.load(std::memory_order_relaxed));
    if (upto <= from || seal_queued_.load(std::memory_order_acquire)) return;
    Status s = seg->file()->Sync(from, upto - from);
    syncs_.fetch_add(1, std::memory_order_relaxed);
    if (!s.ok()) {
      SetSticky(s, /*pages_at_risk=*/true);
      return;
    }
    seg->synced_behind.store(upto, std::memory_order_relaxed);
    return;
  }
  // A failure is sticky (SyncRangeLocked), as for any sync.
  (void)SyncRangeLocked(seg, upto, /*watermark=*/false);
}

Status LogWriter::SyncPublished() {
  Epoch::Guard guard;  // the segment loaded below may be sealed and compacted
  std::lock_guard<std::mutex> l(sync_mu_);
  if (has_sticky_.load(std::memory_order_relaxed)) return sticky_;
  FIRKIN_RETURN_IF_ERROR(SealQueuedLocked());
  Segment* seg = active_.load(std::memory_order_acquire);
  if (seg == nullptr || seg->sealed.load(std::memory_order_acquire)) return Status::OK();
  const uint64_t upto = FreezeForSync(seg, seg->published_len());
  return SyncRangeLocked(seg, upto, /*watermark=*/true);
}

LogPosition LogWriter::PublishedPosition() const {
  Epoch::Guard guard;  // (the segment may be sealed and compacted meanwhile)
  const Segment* seg = active_.load(std::memory_order_acquire);
  if (seg == nullptr) return LogPosition{};
  return LogPosition{seg->id(), seg->published_len()};
}

bool LogWriter::Durable(const LogPosition& p) const {
  if (p.segment_id == 0) return true;
  if (has_sticky_.load(std::memory_order_acquire)) return false;
  Epoch::Guard guard;
  // The active segment first: a roll queues the full segment's seal
  // (seal_queued_) before it makes the next one active, so once the active
  // segment is a later one, the flag is seen set until that seal is done.
  const Segment* seg = active_.load(std::memory_order_acquire);
  if (seal_queued_.load(std::memory_order_acquire)) return false;
  if (seg == nullptr || seg->id() != p.segment_id) return true;  // sealed since
  return seg->watermark_durable.load(std::memory_order_acquire) >= p.offset;
}

Status LogWriter::SealActive() {
  std::lock_guard<std::mutex> roll(roll_mu_);
  Segment* cur = active_.load(std::memory_order_acquire);
  if (cur == nullptr) return sticky_error();
  cur->Close();
  publisher_.WaitFor(cur->end_seq());  // no writer is in flight: immediate
  std::lock_guard<std::mutex> l(sync_mu_);
  if (has_sticky_.load(std::memory_order_relaxed)) return sticky_;
  FIRKIN_RETURN_IF_ERROR(SealQueuedLocked());
  // A roll that could not make the next segment (a full disk) left this one
  // active, closed and queued: the queued seals above, or the writeback
  // thread before, sealed it already. Once: until 2026-11-29 it was sealed
  // again here, its clock written again into the header of a sealed
  // segment and the file truncated and synced a second time
  // (roll_failure_test AFullSegmentLeftActiveIsSealedOnce).
  if (!cur->sealed.load(std::memory_order_acquire)) {
    FIRKIN_RETURN_IF_ERROR(SealLocked(cur, cur->end_off()));
  }
  next_base_seq_ = cur->end_seq();
  active_.store(nullptr, std::memory_order_release);
  cur->log_active.store(false, std::memory_order_release);  // (compactable now)
  return Status::OK();
}

Status LogWriter::SealQueued() {
  std::lock_guard<std::mutex> l(sync_mu_);
  if (has_sticky_.load(std::memory_order_relaxed)) return sticky_;
  return SealQueuedLocked();
}

void LogWriter::PrefaultLoop() {
  NameThisThread("firkin-prefault");
  // Not lowered in priority, unlike compaction: this thread does the
  // writers' own page faults ahead of them, and a writer that faults while
  // it holds a sequence number delays every later writer's acknowledgment.
  // At nice 10 it shared a core with the compactor and fell behind, and
  // the writers took the faults (zero-filling pages) themselves: YCSB A
  // +6-8% at 1 and 2 threads with it at the writers' priority.
  // The active segment this thread worked on last, by id (ids are never
  // reused; an address is: a segment allocated where a freed one was, after a
  // full compaction, was taken for it, and its front was not prefaulted,
  // until 2026-11-29: writeback_identity_test).
  uint64_t last = 0;
  uint64_t done = 0;  // prefaulted up to here in segment `last`
  std::unique_lock<std::mutex> l(pf_mu_);
  while (!pf_stop_) {
    pf_cv_.wait_for(l, std::chrono::milliseconds(50), [this] { return pf_stop_ || pf_poked_; });
    pf_poked_ = false;
    if (pf_stop_) break;
    l.unlock();
    // Out of memory here (a spare file's name, its mapping): this round's
    // work is given up, nothing depends on it (a roll makes its file
    // itself), and the next round tries again. Until 2026-11-29 the
    // exception ended the process (oom_test).
    try {
      PrefaultRound(&last, &done);
    } catch (const std::bad_alloc&) {
      spares_failed_.fetch_add(1, std::memory_order_relaxed);
    }
    l.lock();
  }
}

void LogWriter::PrefaultRound(uint64_t* last_id, uint64_t* done_to) {
  uint64_t& last = *last_id;
  uint64_t& done = *done_to;
  {
    // The writers poke this thread only (once per 4 MiB); it passes the
    // poke on, so the writers pay for one wake-up, not two.
    PokeWriteback();
    bool ready_spare = false;  // the active segment is an eighth full
    {
      Epoch::Guard guard;  // a sealed segment may be compacted and unmapped
      Segment* seg = active_.load(std::memory_order_acquire);
      ready_spare = seg != nullptr && seg->reserved_len() > seg->capacity() / 8;
      if (seg != nullptr && !seg->closed()) {
        if (seg->id() != last) {
          last = seg->id();
          done = 0;
        }
        const uint64_t tail = seg->reserved_len();
        const uint64_t from = std::max(done, tail);
        const uint64_t to = std::min(tail + kPrefaultAhead, seg->capacity());
        if (to > from + (1u << kPokeShift) / 2) {
          seg->file()->Prefault(from, to - from);
          done = to;
        }
      }
    }
    // Ready the next segment's file once the active one is an eighth full
    // (the pool then holds the files compaction retired meanwhile);
    // outside the guard, as the pool runs the epoch's deleters. At half
    // full, one roll in five (YCSB A, 2 cores) found no spare ready yet:
    // readying one (a pooled file's pages read back, the header's msync
    // behind the writeback of the full segment) took longer than the second
    // half of a 64 MiB segment took to fill, and that roll then made its
    // file itself (2-9 ms, every writer waiting).
    if (ready_spare) PrepareSpare();
    // Run the deleters of retired segments (an unmap each) here, outside
    // any guard, rather than leave them to whichever writer rolls next
    // (SegmentPool::Take reclaims first): in YCSB A they were 1% of the
    // writer's time, with every other writer waiting for the roll.
    Epoch::Reclaim();
  }
}

void LogWriter::PokeWriteback() {
  {
    std::lock_guard<std::mutex> l(wb_mu_);
    wb_poked_ = true;
  }
  wb_cv_.notify_one();
}

void LogWriter::WritebackLoop() {
  NameThisThread("firkin-writebk");
  // The active segment this thread worked on last, by id, not address (as
  // PrefaultLoop's: a new segment at a freed one's address was handed over
  // from where the freed one had got to, until 2026-11-29).
  uint64_t last = 0;
  uint64_t written = 0;  // handed to writeback up to here in segment `last`
  bool busy = false;     // the last round found a whole chunk: look again at once
  std::unique_lock<std::mutex> l(wb_mu_);
  while (!wb_stop_) {
    if (!busy) {
      wb_cv_.wait_for(l, std::chrono::milliseconds(50), [this] { return wb_stop_ || wb_poked_; });
    }
    wb_poked_ = false;
    if (wb_stop_) break;
    l.unlock();
    busy = false;
    // Out of memory here (a seal's or a sync's error message, a file's
    // name) may leave a seal half done: the log fails, as after a failed
    // sync, and a reopen recovers from the files. Until 2026-11-29 the
    // exception ended the process (oom_test).
    try {
      busy = WritebackRound(&last, &written);
    } catch (const std::bad_alloc&) {
      (void)FailOutOfMemory("in the log's writeback thread");
    }
    l.lock();
  }
}

bool LogWriter::WritebackRound(uint64_t* last_id, uint64_t* written_to) {
  uint64_t& last = *last_id;
  uint64_t& written = *written_to;
  bool busy = false;
  {
    if (seal_queued_.load(std::memory_order_acquire)) {
      // The seal of the segment the last roll closed (see Roll).
      std::lock_guard<std::mutex> sl(sync_mu_);
      size_t n = 0;
      (void)SealQueuedLocked(&n);  // a failure is sticky (SealLocked)
      seals_behind_.fetch_add(n, std::memory_order_relaxed);
    }
    {
      Epoch::Guard guard;  // a sealed segment may be compacted and unmapped
      Segment* seg = active_.load(std::memory_order_acquire);
      // The watermark on disk trails the last group commit (see
      // SyncSegmentLocked): once syncs have paused, persist it, so that
      // damage to those acknowledged records is reported, not cut as a torn
      // tail, after a power loss. Never behind a sync in flight (that sync
      // carries it) and never while syncs keep coming (each carries the one
      // before).
      if (seg != nullptr &&
          seg->watermark_durable.load(std::memory_order_relaxed) <
              seg->synced_len.load(std::memory_order_acquire) &&
          NowNs() - last_sync_end_ns_.load(std::memory_order_relaxed) >= kWatermarkIdleNs) {
        std::unique_lock<std::mutex> sl(sync_mu_, std::try_to_lock);
        if (sl.owns_lock() && !seg->sealed.load(std::memory_order_acquire)) {
          (void)PersistWatermarkLocked(seg);  // a failure is sticky
        }
      }
      if (seg != nullptr && !seg->closed()) {
        if (seg->id() != last) {
          last = seg->id();
          // The header (its watermark page is rewritten by every sync) is
          // never handed over: write-behind starts at the first record.
          written = kSegmentHeaderSize;
        }
        // Write-behind: published records are immutable; starting their
        // writeback now keeps the seal of a full segment (which waits for
        // all of its pages to reach the disk, with every writer waiting on
        // the roll) short. Durability is unchanged: only Sync promises it.
        uint64_t published = seg->published_len() & ~uint64_t{4095};
        if (live_ != nullptr) {
          const uint64_t window = InPlaceWindow(seg->capacity());
          published = published > window ? published - window : 0;
        }
        if (published >= written + kWriteBehindChunk) {
          // What is handed over is mapped read-only: frozen first.
          Freeze(seg, published);
          const uint64_t handed = seg->file()->WriteBehind(written, published - written);
          written_behind_.fetch_add(handed, std::memory_order_relaxed);
          written += handed;
          seg->handed_over.store(written, std::memory_order_release);
          busy = handed > 0;
          // Sync-behind: once a sixteenth of the segment has been handed
          // over since the last sync, make it durable here (its writeback
          // is under way already), so that the seal of the full segment,
          // which every writer waits for, finds at most that much left.
          // Not in the last sixteenth: the seal comes soon and syncs anyway,
          // and it would wait for the sync mutex while this sync (data and
          // watermark: two flushes then, one now) finished (YCSB A: 1.4 ms per roll).
          const uint64_t part = std::max<uint64_t>(kWriteBehindChunk, seg->capacity() / 16);
          if (written >= std::max(seg->synced_len.load(std::memory_order_acquire),
                                  seg->synced_behind.load(std::memory_order_relaxed)) + part &&
              seg->reserved_len() + part < seg->capacity()) {
            SyncBehind(seg, written);
          }
        }
      }
    }
  }
  return busy;
}

}  // namespace firkin
