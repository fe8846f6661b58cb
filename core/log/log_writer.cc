#include "core/log/log_writer.h"

#include <algorithm>

namespace firkin {

LogWriter::LogWriter(Env* env, std::string dir, uint64_t db_id, uint64_t segment_size,
                     SegmentTable* table, uint64_t next_segment_id)
    : env_(env),
      dir_(std::move(dir)),
      db_id_(db_id),
      segment_size_(segment_size),
      table_(table),
      next_id_(next_segment_id) {}

Status LogWriter::sticky_error() const {
  if (!has_sticky_.load(std::memory_order_acquire)) return Status::OK();
  std::lock_guard<std::mutex> l(sync_mu_);
  return sticky_;
}

void LogWriter::SetSticky(const Status& s) {
  if (has_sticky_.load(std::memory_order_relaxed)) return;
  sticky_ = Status(s.code() == Status::Code::kNoSpace ? Status::Code::kIOError : s.code(),
                   "database is in a failed state after a sync error (reopen to recover): " +
                       s.message());
  has_sticky_.store(true, std::memory_order_release);
}

Status LogWriter::Reserve(uint64_t bytes, Segment** seg, uint64_t* offset) {
  if (has_sticky_.load(std::memory_order_acquire)) return sticky_error();
  if (active_ == nullptr || write_off_ + bytes > active_->capacity()) {
    if (kSegmentHeaderSize + bytes > kMaxSegmentBytes) {
      return Status::TooLarge("write of " + std::to_string(bytes) +
                              " bytes exceeds the largest segment");
    }
    FIRKIN_RETURN_IF_ERROR(Roll(bytes));
  }
  *seg = active_;
  *offset = write_off_;
  return Status::OK();
}

void LogWriter::Publish() {
  if (active_ != nullptr) active_->set_published_len(write_off_);
}

Status LogWriter::Roll(uint64_t bytes) {
  std::lock_guard<std::mutex> l(sync_mu_);
  if (active_ != nullptr) {
    // Seal: make the records durable, and only then let the watermark claim
    // them all (a watermark persisted ahead of its data would turn a power
    // loss into "corruption"); then truncate + fdatasync.
#ifndef FIRKIN_PLANTED_BUG_SKIP_SEAL_SYNC
    Status s = SyncLocked(write_off_);
    if (s.ok()) s = active_->file()->Truncate(write_off_);
#else
    Status s;
#endif
    syncs_.fetch_add(1, std::memory_order_relaxed);
    if (!s.ok()) {
      SetSticky(s);
      return sticky_;
    }
    active_->set_published_len(write_off_);
    active_->synced_len = write_off_;
    active_->sealed.store(true, std::memory_order_release);
    active_ = nullptr;
  }
  if (next_id_.load() > kMaxSegmentId) return Status::NoSpace("segment ids exhausted");
  uint64_t size = std::max<uint64_t>(segment_size_, kSegmentHeaderSize + bytes);
  size = (size + 4095) & ~uint64_t{4095};
  size = std::min<uint64_t>(size, kMaxSegmentBytes);
  uint32_t slot = 0;
  FIRKIN_RETURN_IF_ERROR(table_->AllocateSlot(&slot));
  uint64_t id = next_id_.fetch_add(1);
  std::string path = dir_ + "/" + SegmentFileName(id);
  std::unique_ptr<MappedFile> file;
  Status s = env_->NewMappedFile(path, size, &file);
  if (!s.ok()) return s;  // e.g. ENOSPC: nothing acknowledged, not sticky
  SegmentHeader h;
  h.segment_id = id;
  h.db_id = db_id_;
  EncodeSegmentHeader(h, file->data());
  EncodeDurableLen(file->data(), kSegmentHeaderSize);
  s = file->Sync(0, kSegmentHeaderSize);
  syncs_.fetch_add(1, std::memory_order_relaxed);
#ifndef FIRKIN_PLANTED_BUG_SKIP_DIR_SYNC
  if (s.ok()) s = env_->SyncDir(dir_);
#endif
  if (!s.ok()) {
    file.reset();
    env_->RemoveFile(path);
    SetSticky(s);
    return sticky_;
  }
  auto seg = std::make_shared<Segment>(id, slot, std::move(file), kSegmentHeaderSize, 0);
  seg->synced_len = kSegmentHeaderSize;
  active_ = seg.get();
  table_->Add(std::move(seg));
  write_off_ = kSegmentHeaderSize;
  return Status::OK();
}

Status LogWriter::SyncLocked(uint64_t upto) {
  if (has_sticky_.load(std::memory_order_relaxed)) return sticky_;
  if (active_ == nullptr || upto <= active_->synced_len) return Status::OK();
  uint64_t from = active_->synced_len;
  Status s = active_->file()->Sync(from, upto - from);
  syncs_.fetch_add(1, std::memory_order_relaxed);
  if (!s.ok()) {
    SetSticky(s);
    return sticky_;
  }
  active_->synced_len = upto;
  // Lazily persisted (with the next sync): bytes below `upto` are durable.
  EncodeDurableLen(active_->mutable_data(), upto);
  return Status::OK();
}

Status LogWriter::Sync(bool writer) {
  std::lock_guard<std::mutex> l(sync_mu_);
  if (active_ == nullptr) return has_sticky_.load() ? sticky_ : Status::OK();
  uint64_t upto = writer ? write_off_ : active_->published_len();
  return SyncLocked(upto);
}

Status LogWriter::Seal() {
  std::lock_guard<std::mutex> l(sync_mu_);
  if (has_sticky_.load(std::memory_order_relaxed)) return sticky_;
  if (active_ == nullptr) return Status::OK();
  Status s = SyncLocked(write_off_);  // also moves the watermark, after the data
  if (s.ok()) s = active_->file()->Truncate(write_off_);
  syncs_.fetch_add(1, std::memory_order_relaxed);
  if (!s.ok()) {
    SetSticky(s);
    return sticky_;
  }
  // Everything written is readable: later writers of the same group go to
  // a new segment, and Publish() only publishes the active one.
  active_->set_published_len(write_off_);
  active_->synced_len = write_off_;
  active_->sealed.store(true, std::memory_order_release);
  active_ = nullptr;
  return Status::OK();
}

}  // namespace firkin
