// The change feed (firkin_changes_*): a cursor over committed changes in
// sequence order, read from the log itself (docs/api.md, "Change feed";
// docs/format.md, "Change history and retention").
//
// What it reads: only the segments of the log writer (not compaction
// outputs, which hold copies of old records and would repeat them), in id
// order. Within those segments log order is sequence order, every write
// has exactly one sequence number and sequence numbers are dense (every
// number from 1 to the last one is one write; a write that failed after
// it took its number has a commit record of no records, a number with no
// change), so the cursor checks that each write it reads is the previous
// one + 1: a gap means history was
// compacted away (or skipped by salvage) and the cursor fails with
// kSnapshotTooOld, never skipping a change silently. It reads a segment
// only below its published length (what is there is published: every
// write up to it is complete), and a batch only as a whole (its records
// and its commit marker are one reservation, published together; records
// without their marker were never applied and are passed over).
//
// ChangeNotifier: how a waiting cursor is woken by the writers'
// publication rather than by polling: a writer that published checks a
// waiter count (a load, after a LightFence, when nobody waits) and, if a
// cursor waits, bumps a generation under a mutex and notifies a condition
// variable. The waiter registers, then fences (HeavyFence), then looks:
// either the writer sees the waiter or the waiter sees the write
// (core/util/asymmetric_fence.h; a full fence on the writer's side waited
// for an in-place put's copy to leave the store buffer).
//
// Thread contract: ChangeNotifier may be used from any thread. A
// ChangeCursor is used by one thread at a time; it pins the segment it
// reads (shared ownership), so compaction retiring it never unmaps bytes
// the cursor or its borrowed views point into.
#ifndef FIRKIN_CORE_DB_CHANGES_H_
#define FIRKIN_CORE_DB_CHANGES_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/reader_view.h"
#include "core/log/format.h"
#include "core/log/segment.h"
#include "core/util/asymmetric_fence.h"
#include "core/util/status.h"

namespace firkin {

class DB;

// The kinds of change (the values of firkin_change_type; never renumbered).
enum class ChangeType : int {
  kPut = 1,
  kDelete = 2,
  kNsCreate = 3,
  kNsDrop = 4,
  kBatchBegin = 5,
  kBatchEnd = 6,
};

// One change, with views borrowed from the cursor (valid until it moves).
struct Change {
  ChangeType type = ChangeType::kPut;
  uint64_t seq = 0;
  uint32_t ns_id = 0;
  std::string_view ns_name;
  std::string_view key;
  // A put's value as stored, unsealed: compressed when codec (its record's
  // codec flags) is not 0. ChangeCursor::Value gives the value as written.
  std::string_view value;
  uint8_t codec = 0;
  uint32_t batch_count = 0;  // kBatchBegin/kBatchEnd: operations in the batch
};

class ChangeNotifier {
 public:
  // Writer side, after a write was published (its bytes are below the
  // segment's published length).
  void Notify() {
    LightFence();
    if (waiters_.load(std::memory_order_relaxed) == 0) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      gen_++;
    }
    cv_.notify_all();
  }
  // Waiter side: BeginWait, look for new changes, and if there are none
  // WaitUntil(gen, deadline) (true if woken, false at the deadline); then
  // EndWait. Registering before looking means a publication after the
  // look always wakes the waiter.
  uint64_t BeginWait() {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    HeavyFence();
    std::lock_guard<std::mutex> l(mu_);
    return gen_;
  }
  bool WaitUntil(uint64_t gen, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_until(l, deadline, [&] { return gen_ != gen; });
  }
  void EndWait() { waiters_.fetch_sub(1, std::memory_order_seq_cst); }

 private:
  std::atomic<uint64_t> waiters_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t gen_ = 0;
};

class ChangeCursor {
 public:
  // A cursor over the changes with seq > since; `markers` = deliver batch
  // boundaries. Call Init() before anything else.
  ChangeCursor(DB* db, uint64_t since, bool markers)
      : db_(db), last_(since), markers_(markers) {}
  // Turns in-place updates back on (Init turned them off: an overwrite
  // would take a change from under the cursor).
  ~ChangeCursor();
  ChangeCursor(const ChangeCursor&) = delete;
  ChangeCursor& operator=(const ChangeCursor&) = delete;

  // kInvalidArgument if since is past the last sequence number;
  // kSnapshotTooOld if changes after since are no longer retained.
  // Positions the cursor on the first change, if one is published.
  Status Init();

  bool Valid() const { return pos_ < buf_.size(); }
  // REQUIRES: Valid().
  const Change& current() const { return buf_[pos_]; }
  // REQUIRES: Valid(). The current change's value as written (empty for
  // anything but a put): current().value, or, stored compressed, decoded
  // into a buffer of the cursor (one value at a time: a batch's compressed
  // values were checked to decode when it was read, and are kept as
  // stored until asked for). Valid until the cursor moves. kNoMemory if
  // the decoding buffer cannot be had (nothing else: the bytes decoded
  // once and are the cursor's own).
  Status Value(std::string_view* out);
  // Moves to the next change. At the end (or when not valid) it looks for
  // changes published since, and is valid again if there are some.
  void Next();
  // If not valid: blocks until a change is published or timeout_ms pass.
  // Returns status() (a timeout is not an error: Valid() stays false).
  Status Wait(uint32_t timeout_ms);
  // OK, or the error that stopped the cursor (kSnapshotTooOld: history it
  // needed was compacted away; kCorruption; kNoMemory: the last step ran
  // out of memory, and the next one tries the same change again).
  Status status() const { return status_; }
  // How far the cursor has read: every write numbered at or below it was
  // delivered and moved past, or holds no change (a commit record of no
  // records). The current write's number - 1 while valid; at the end, the
  // last number read (or since).
  uint64_t position() const { return Valid() ? current().seq - 1 : last_; }

 private:
  // Reads the next write (one sequence number) into buf_. Out of memory:
  // status() NoMemory, the position as before, until the next Next / Wait.
  void Fill();
  void FillUnguarded();
  // The log segments to read, in id order: the database's now, or those
  // of a read-only handle's view (DB::ReaderCut).
  std::vector<std::shared_ptr<Segment>> Listing(const ReaderView* view) const;
  std::shared_ptr<Segment> NextLogSegment(uint64_t after, const ReaderView* view) const;
  std::string_view NsName(uint32_t id);
  Status GapError(uint64_t seq) const;

  DB* const db_;
  bool blocked_ = false;  // Init called DB::BlockInPlace
  uint64_t last_;  // every write with seq <= last_ was delivered (or skipped)
  const bool markers_;
  Status status_;
  std::shared_ptr<Segment> seg_;  // the log segment being read (pinned)
  uint64_t off_ = 0;
  std::vector<Change> buf_;
  size_t pos_ = 0;
  std::map<uint32_t, std::string> names_;  // namespace id -> name
  // The stored bytes of the changes in buf_ that are not views into the
  // pinned segment (opened sealed records, copied compressed values), one
  // per change that needs one; kept until the cursor moves past them.
  // Until the session of 2026-11-29 they held every put's decoded value:
  // a batch of 16 compressible 16 MiB values took 256 MiB at once.
  std::vector<std::string> values_;
  std::vector<std::string> keys_;  // decrypted keys of sealed records
  // A compressed value decoded (a check while reading a write, or Value):
  // the value of buf_[decoded_at_] (SIZE_MAX: of none).
  std::string decoded_;
  size_t decoded_at_ = SIZE_MAX;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_CHANGES_H_
