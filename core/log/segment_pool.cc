#include "core/log/segment_pool.h"

#include "core/log/format.h"
#include "core/util/epoch.h"

namespace firkin {

namespace {
constexpr char kPoolSuffix[] = ".free";
}  // namespace

bool IsPooledSegmentName(const std::string& name) {
  const size_t n = sizeof(kPoolSuffix) - 1;
  uint64_t id;
  return name.size() > n && name.compare(name.size() - n, n, kPoolSuffix) == 0 &&
         ParseSegmentFileName(std::string_view(name).substr(0, name.size() - n), &id);
}

SegmentPool::SegmentPool(Env* env, std::string dir, size_t capacity, uint64_t min_bytes)
    : env_(env), dir_(std::move(dir)), capacity_(capacity), min_bytes_(min_bytes) {}

SegmentPool::~SegmentPool() {
  for (const Entry& e : entries_) env_->RemoveFile(e.path);
}

size_t SegmentPool::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return entries_.size();
}

Status SegmentPool::Offer(const std::shared_ptr<Segment>& seg, uint64_t max_seq) {
  std::lock_guard<std::mutex> l(mu_);
  if (entries_.size() >= capacity_ || max_seq == 0 || seg->capacity() < min_bytes_) {
    return env_->RemoveFile(seg->path());
  }
  const std::string to = dir_ + "/" + SegmentFileName(seg->id()) + kPoolSuffix;
  Status s = env_->RenameFile(seg->path(), to);
  if (!s.ok()) return env_->RemoveFile(seg->path());
  entries_.push_back({to, seg, max_seq, seg->capacity()});
  return Status::OK();
}

bool SegmentPool::Take(uint64_t floor, const std::string& to) {
  Epoch::Reclaim();
  std::lock_guard<std::mutex> l(mu_);
  size_t best = entries_.size();
  for (size_t i = 0; i < entries_.size(); i++) {
    const Entry& e = entries_[i];
    if (!e.seg.expired() || e.max_seq > floor) continue;
    if (best == entries_.size() || e.bytes > entries_[best].bytes) best = i;
  }
  if (best == entries_.size()) return false;
  const std::string from = entries_[best].path;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(best));
  if (!env_->RenameFile(from, to).ok()) {
    env_->RemoveFile(from);
    return false;
  }
  return true;
}

}  // namespace firkin
