#include "core/recovery/scrubber.h"

#include <utility>

#include "core/log/log_reader.h"
#include "core/util/background.h"

namespace firkin {

void Scrubber::Start(std::vector<std::shared_ptr<Segment>> segs, const RecordCodec* auth) {
  auth_ = auth;
  std::vector<std::weak_ptr<Segment>> todo;
  for (auto& s : segs) {
    if (!s->checked.load(std::memory_order_acquire)) todo.push_back(s);
  }
  segs.clear();
  stats_.pending.store(todo.size());
  if (todo.empty()) {
    stats_.done.store(true);
    return;
  }
  thread_ = StartThread([this, t = std::move(todo)]() mutable { Run(std::move(t)); });
}

void Scrubber::Stop() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

bool Scrubber::ValidateSegment(const Segment& seg, const std::atomic<bool>* stop,
                               uint64_t* bytes, const RecordCodec* auth) {
  // Bytes below the published length are complete and never change (a
  // segment a reader can reach beyond it is one this process appends to,
  // which is checked already).
  LogReader reader(seg.data(), kSegmentHeaderSize, seg.published_len(), /*checksums=*/true,
                   auth);
  RecordView r;
  uint64_t at = 0;
  for (;;) {
    const LogReader::Result got = reader.Next(&r, &at);
    if (got == LogReader::Result::kEnd) return true;
    if (got == LogReader::Result::kDamaged) return false;
    *bytes += r.size();
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) return false;
  }
}

void Scrubber::Run(std::vector<std::weak_ptr<Segment>> segs) {
  NameThisThread("firkin-scrub");
  LowerThreadPriority();
  for (auto& w : segs) {
    if (stop_.load(std::memory_order_acquire)) break;
    std::shared_ptr<Segment> s = w.lock();
    if (s == nullptr) {  // retired by compaction meanwhile
      stats_.pending.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    uint64_t bytes = 0;
    bool ok = false;
    try {
      ok = ValidateSegment(*s, &stop_, &bytes, auth_);
    } catch (const std::bad_alloc&) {
      // Left unchecked (its reads check each record, as before the scrub);
      // until 2026-11-29 the exception ended the process.
      stats_.pending.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    stats_.bytes.fetch_add(bytes, std::memory_order_relaxed);
    if (stop_.load(std::memory_order_acquire)) break;
    if (ok) {
      s->checked.store(true, std::memory_order_release);
      stats_.segments_checked.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats_.segments_damaged.fetch_add(1, std::memory_order_relaxed);
    }
    stats_.pending.fetch_sub(1, std::memory_order_relaxed);
  }
  stats_.done.store(true, std::memory_order_release);
}

}  // namespace firkin
