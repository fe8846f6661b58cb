// ReaderView: what a read-only handle's refresh that completed made (its
// segments and their published lengths then), the state its iterators,
// change cursors and backups read (core/db/reader.cc, DB::ReaderCut).
#ifndef FIRKIN_CORE_DB_READER_VIEW_H_
#define FIRKIN_CORE_DB_READER_VIEW_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "core/log/segment.h"

namespace firkin {

// The segments (compaction outputs and log segments, in id order) of a
// refresh that completed, with their published lengths then.
// Thread contract: immutable once published (DB::PublishReaderView); any
// number of threads read it.
struct ReaderView {
  std::vector<std::shared_ptr<Segment>> segs;
  std::vector<uint64_t> ends;  // published lengths then
  uint64_t scan_floor = 0;     // the handle's scan floor then
  // The end of `s` in this view; `fallback` if the view does not hold it.
  uint64_t EndOf(const Segment& s, uint64_t fallback) const {
    for (size_t i = 0; i < segs.size(); i++) {
      if (segs[i].get() == &s) return ends[i];
    }
    return fallback;
  }
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_READER_VIEW_H_
