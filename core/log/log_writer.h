// LogWriter: owns the active segment. Reserves room for a write group's
// records (rolling to a new segment when full), tracks the written,
// published and synced prefixes, and makes them durable (DESIGN §3).
//
// A new segment is created by: create + preallocate the file, write and
// sync its header, sync the directory. Rolling seals the old segment first:
// truncate it to its used length and fdatasync it, so that a power loss can
// never leave a hole between segments.
//
// After any failed sync the writer enters a sticky error state: every later
// Reserve/Sync fails with that error until the database is reopened.
//
// Thread contract: Reserve/Advance/Publish/Seal are called by the single
// writer (the leader of the write group). Sync may be called by the writer
// or by the background flusher; an internal mutex serializes syncs with
// rolls.
#ifndef FIRKIN_CORE_LOG_LOG_WRITER_H_
#define FIRKIN_CORE_LOG_LOG_WRITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/env/env.h"
#include "core/log/segment.h"

namespace firkin {

class LogWriter {
 public:
  LogWriter(Env* env, std::string dir, uint64_t db_id, uint64_t segment_size,
            SegmentTable* table, uint64_t next_segment_id);
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // WRITER. Returns a place for `bytes` contiguous bytes in the active
  // segment, rolling to a new segment if needed. Nothing is published.
  Status Reserve(uint64_t bytes, Segment** seg, uint64_t* offset);
  // WRITER. The bytes reserved last are written; advance the write offset.
  void Advance(uint64_t bytes) { write_off_ += bytes; }
  // WRITER. Makes everything written so far visible to readers/iterators.
  void Publish();
  // WRITER or flusher. Makes everything written up to now durable; when
  // called by the flusher only published bytes are synced.
  Status Sync(bool writer);
  // WRITER. Seals the active segment (truncate to its length + sync);
  // used at close.
  Status Seal();

  Status sticky_error() const;
  uint64_t sync_count() const { return syncs_.load(std::memory_order_relaxed); }
  // Any thread: a fresh segment id (never reused), for compaction outputs.
  uint64_t AllocateSegmentId() { return next_id_.fetch_add(1); }
  Segment* active() const { return active_; }

 private:
  Status Roll(uint64_t bytes);
  Status SyncLocked(uint64_t upto);
  void SetSticky(const Status& s);

  Env* const env_;
  const std::string dir_;
  const uint64_t db_id_;
  const uint64_t segment_size_;
  SegmentTable* const table_;
  std::atomic<uint64_t> next_id_;

  mutable std::mutex sync_mu_;  // guards active_ switch, syncs, sticky_
  Segment* active_ = nullptr;   // owned by table_
  uint64_t write_off_ = 0;      // writer-private
  Status sticky_;
  std::atomic<bool> has_sticky_{false};
  std::atomic<uint64_t> syncs_{0};
};

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_LOG_WRITER_H_
