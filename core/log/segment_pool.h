// SegmentPool: retired segment files kept for reuse as new log segments
// (segment recycling, docs/write_path.md). Appending into a fresh,
// preallocated file costs the kernel a zero-filled page and an extent
// conversion per page (and a journal commit per durable flush on ext4);
// appending into a file whose blocks are written and whose pages are still
// cached costs neither. Compaction hands its retired inputs here instead of
// deleting them; the log writer takes one when it needs a new segment.
//
// Safety: a pooled file is renamed away from its segment name at once (so
// no scan, backup or reader process opens it by that name again), and is
// reused only once the retired Segment object is gone (no thread of this
// process can still read its mapping) and only if every record it holds
// has a sequence number at or below the new segment's sequence floor (so
// recovery can tell its leftovers from new records: docs/format.md). A file
// with another name (a backup's hard link) is never reused (Env::PrepareReuse).
//
// Pooled files are named "<segment file name>.free"; they hold nothing
// needed, and recovery removes any it finds.
//
// Thread contract: every method may be called from any thread (one mutex).
#ifndef FIRKIN_CORE_LOG_SEGMENT_POOL_H_
#define FIRKIN_CORE_LOG_SEGMENT_POOL_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "core/log/segment.h"

namespace firkin {

// True if `name` is a pooled file's name ("<16 hex digits>.seg.free").
bool IsPooledSegmentName(const std::string& name);

class SegmentPool {
 public:
  // Keeps at most `capacity` files (0: recycling off, retired files are
  // removed as before), of at least `min_bytes` each (a small file would
  // save little: most of a new segment would still be fresh blocks).
  SegmentPool(Env* env, std::string dir, size_t capacity, uint64_t min_bytes);
  ~SegmentPool();  // removes the pooled files
  SegmentPool(const SegmentPool&) = delete;
  SegmentPool& operator=(const SegmentPool&) = delete;

  // Takes the file of a retired segment (already removed from the segment
  // table): keeps it under its pool name if there is room, else removes
  // it. `max_seq`: the highest sequence number of any record in it. The
  // caller makes the directory change durable (SyncDir).
  Status Offer(const std::shared_ptr<Segment>& seg, uint64_t max_seq);

  // Renames a reusable file (its Segment destroyed, every record at or
  // below `floor`; the largest such) to `to` and returns true; false if
  // there is none. Runs the epoch's ready deleters first, so that retired
  // segments no reader holds any more release their mappings.
  bool Take(uint64_t floor, const std::string& to);

  size_t size() const;

 private:
  struct Entry {
    std::string path;
    std::weak_ptr<Segment> seg;
    uint64_t max_seq;
    uint64_t bytes;
  };

  Env* const env_;
  const std::string dir_;
  const size_t capacity_;
  const uint64_t min_bytes_;
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_SEGMENT_POOL_H_
