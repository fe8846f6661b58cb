#include "core/log/live_file.h"

#include <algorithm>
#include <cstring>

#include "core/log/format.h"
#include "core/util/coding.h"
#include "core/util/hash.h"

namespace firkin {
namespace {

constexpr char kMagic[8] = {'F', 'I', 'R', 'K', 'L', 'I', 'V', 'E'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kTrusted = 1;
constexpr size_t kBootIdLen = 48;
constexpr size_t kHeaderCheck = 64;  // u64 checksum of [0, 64)

uint64_t SlotCheck(const char* slot) {
  char b[32];
  std::memcpy(b, slot, 24);
  std::memcpy(b + 24, slot + LiveFile::kSlotHeader, 8);  // the image's checksum
  return Checksum(b, sizeof b) ^ 0x11FE11FE11FE11FEull;
}

}  // namespace

Status LiveFile::Read(Env* env, const std::string& dir, Recovered* out) {
  *out = Recovered();
  std::unique_ptr<MappedFile> f;
  Status s = env->OpenMappedFile(dir + "/" + kFileName, /*writable=*/false, &f);
  // Absent or not a regular file: nothing to trust. An I/O error fails the
  // open (without it, the writes of a killed writer could be cut short).
  if (s.IsNotFound() || s.code() == Status::Code::kCorruption) return Status::OK();
  FIRKIN_RETURN_IF_ERROR(s);
  if (f->size() != kFileSize) return Status::OK();
  const char* d = f->data();
  if (std::memcmp(d, kMagic, 8) != 0 || DecodeU32(d + 8) != kVersion) return Status::OK();
  if (DecodeU64(d + kHeaderCheck) != Checksum(d, kHeaderCheck)) return Status::OK();
  if ((DecodeU32(d + 12) & kTrusted) == 0) return Status::OK();
  const std::string boot = env->BootId();
  if (boot.empty() || boot.size() > kBootIdLen) return Status::OK();
  char want[kBootIdLen] = {};
  std::memcpy(want, boot.data(), boot.size());
  if (std::memcmp(d + 16, want, kBootIdLen) != 0) return Status::OK();
  out->same_boot = true;
  out->published = DecodeU64(d + kPublishedOffset);
  for (size_t i = 0; i < kSlots; i++) {
    const char* slot = d + kSlotsOffset + i * kSlotSize;
    const uint32_t len = DecodeU32(slot + 16);
    if (len < kRecordMinSize || len > kMaxRecord) continue;
    if (DecodeU64(slot + 24) != SlotCheck(slot)) continue;
    // A whole put record whose checksum holds (its counter, if any, is
    // checked where it is restored, against its segment).
    const char* img = slot + kSlotHeader;
    const RecordView r = PeekRecord(img);
    if (r.type != RecordType::kPut || (r.flags & ~kRecordFlagShort) != kRecordFlagTime ||
        r.size() != len ||
        !RecordChecksumOk(r)) {
      continue;
    }
    out->images.push_back({DecodeU64(slot), DecodeU64(slot + 8), std::string(img, len)});
  }
  return Status::OK();
}

Status LiveFile::Create(Env* env, const std::string& dir, uint64_t published,
                        std::unique_ptr<LiveFile>* out) {
  const std::string path = dir + "/" + kFileName;
  std::unique_ptr<MappedFile> f;
  Status s = env->OpenMappedFile(path, /*writable=*/true, &f);
  if (!s.ok() && !s.IsNotFound() && s.code() != Status::Code::kCorruption) return s;  // I/O
  if (!s.ok() || f->size() != kFileSize) {
    // Absent, not a regular file, or another size: made again.
    f.reset();
    Status rs = env->RemoveFile(path);
    if (!rs.ok() && !rs.IsNotFound()) return rs;
    FIRKIN_RETURN_IF_ERROR(env->NewSparseMappedFile(path, kFileSize, &f));
  }
  // The header page now (the slots' pages when their threads first need
  // them: SlotReady); a reused file may be sparse too.
  FIRKIN_RETURN_IF_ERROR(f->Allocate(0, kSlotsOffset));
  char* d = f->data();
  // The header first invalid, the slots emptied, then the header written.
  std::memset(d, 0, kSlotsOffset);
  for (size_t i = 0; i < kSlots; i++) {
    char* slot = d + kSlotsOffset + i * kSlotSize;
    if (DecodeU32(slot + 16) != 0) std::memset(slot, 0, kSlotHeader);
  }
  const std::string boot = env->BootId();
  std::memcpy(d, kMagic, 8);
  EncodeU32(d + 8, kVersion);
  EncodeU32(d + 12, boot.empty() || boot.size() > kBootIdLen ? 0 : kTrusted);
  std::memcpy(d + 16, boot.data(), std::min(boot.size(), kBootIdLen));
  EncodeU64(d + kHeaderCheck, Checksum(d, kHeaderCheck));
  EncodeU64(d + kPublishedOffset, published);
  out->reset(new LiveFile(std::move(f)));
  return Status::OK();
}

char* LiveFile::BeginImage(size_t slot) {
  char* p = file_->data() + kSlotsOffset + slot * kSlotSize;
  // Invalid while it changes: a kill in between leaves a slot whose check
  // fails (the record it names is untouched until EndImage has returned).
  EncodeU64(p + 24, 0);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  return p + kSlotHeader;
}

void LiveFile::EndImage(size_t slot, uint64_t segment_id, uint64_t offset, size_t len) {
  char* p = file_->data() + kSlotsOffset + slot * kSlotSize;
  std::atomic_signal_fence(std::memory_order_seq_cst);  // the image first
  EncodeU64(p, segment_id);
  EncodeU64(p + 8, offset);
  EncodeU32(p + 16, static_cast<uint32_t>(len));
  EncodeU32(p + 20, 0);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  EncodeU64(p + 24, SlotCheck(p));
}

bool LiveFile::ReserveSlot(size_t slot) {
  const bool ok = file_->Allocate(kSlotsOffset + slot * kSlotSize, kSlotSize).ok();
  slot_state_[slot].store(ok ? kSlotReady : kSlotFailed, std::memory_order_release);
  return ok;
}

void LiveFile::Distrust() {
  char* d = file_->data();
  EncodeU32(d + 12, 0);
  EncodeU64(d + kHeaderCheck, Checksum(d, kHeaderCheck));
}

}  // namespace firkin
