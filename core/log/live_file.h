// LiveFile: the writer's small shared mapping `LIVE` that lets recovery
// after a kill -9 trust the page cache (docs/write_path.md, "In-place
// updates"). It holds:
//
//  - the boot id of the machine the writer runs on (Env::BootId) and a
//    `trusted` flag, cleared when a sync fails (the kernel may then have
//    dropped dirty pages);
//  - the published sequence number (SeqPublisher's watermark word lives
//    here, so it is in the page cache the moment a write is acknowledged);
//  - one image slot per writer thread: before a put overwrites a record in
//    place it encodes the new record there (segment id, offset, the
//    bytes), then copies it over the old one, so that a kill -9 that cuts
//    the copy short leaves a whole image of what the record was becoming.
//
// The file is sparse: the header page is allocated when it is made, each
// image slot's page when its thread first updates in place (SlotReady), so
// a database whose puts never go in place, or go in place from one thread,
// holds 4-8 KiB of it on disk, not 260 KiB.
//
// It is never synced: after a power loss (another boot id) recovery
// ignores it. On the same boot, recovery puts the slots' images over every
// record that an overwrite left torn, then keeps every record at or below
// the published number and every whole overwrite. (A file written by a
// library before 2026-11-26 holds the old record in a slot, an undo
// image: recovery treats it the same way, and gets the old version back.)
//
// Layout (little-endian): [0] magic "FIRKLIVE" [8] u32 version (1)
// [12] u32 flags (1 = trusted) [16] boot id, 48 bytes, zero-padded
// [64] u64 checksum of [0, 64) [128] u64 published sequence number
// [4096] image slots, kSlots of kSlotSize bytes each: [0] u64
// segment id [8] u64 offset [16] u32 record length [20] u32 0 [24] u64
// check of [0, 24) and the image's own checksum [64] the record image.
//
// Thread contract: the writer opens it (Create) after recovery and before
// the log writer starts; a slot (BeginImage, EndImage) is written only by
// the thread owning it (Epoch::ThreadIndex), and so is SlotReady(slot);
// published_word() is an atomic any thread may use; Distrust may be called
// from any thread. Read (static Read) only by recovery, before anything
// else touches the database.
#ifndef FIRKIN_CORE_LOG_LIVE_FILE_H_
#define FIRKIN_CORE_LOG_LIVE_FILE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "core/util/status.h"

namespace firkin {

class LiveFile {
 public:
  static constexpr char kFileName[] = "LIVE";
  static constexpr size_t kSlots = 64;
  static constexpr size_t kSlotSize = 4096;
  static constexpr size_t kSlotHeader = 64;
  // The largest record an in-place update may overwrite (its image
  // must fit a slot).
  static constexpr size_t kMaxRecord = kSlotSize - kSlotHeader;
  static constexpr size_t kSlotsOffset = 4096;
  static constexpr size_t kFileSize = kSlotsOffset + kSlots * kSlotSize;

  // What recovery reads from a LIVE file left by the previous writer.
  struct Recovered {
    bool same_boot = false;  // written on this boot, trusted: the page cache is intact
    uint64_t published = 0;  // the published sequence number (same_boot only)
    struct Image {
      uint64_t segment_id;
      uint64_t offset;
      std::string image;  // a whole record, its checksum valid
    };
    std::vector<Image> images;  // the valid slots (same_boot only)
  };
  // Reads dir/LIVE (absent or damaged: not same_boot; an I/O error is
  // returned).
  static Status Read(Env* env, const std::string& dir, Recovered* out);

  // Creates (or resets) dir/LIVE for a new writer: this boot's id, trusted,
  // `published` as the watermark, every image slot empty.
  static Status Create(Env* env, const std::string& dir, uint64_t published,
                       std::unique_ptr<LiveFile>* out);
  LiveFile(const LiveFile&) = delete;
  LiveFile& operator=(const LiveFile&) = delete;

  std::atomic<uint64_t>* published_word() {
    return reinterpret_cast<std::atomic<uint64_t>*>(file_->data() + kPublishedOffset);
  }
  // Thread `slot`'s image of the overwrite it is about to make: BeginImage
  // invalidates the slot and returns where the new record goes (up to
  // kMaxRecord bytes); the caller encodes the whole record there, then
  // EndImage names its place (`offset` of segment `segment_id`, `len`
  // bytes) and makes the slot valid. Both before the overwrite begins (the
  // caller fences between EndImage and the overwrite). REQUIRES: slot <
  // kSlots, len <= kMaxRecord, the image's checksum is valid.
  char* BeginImage(size_t slot);
  void EndImage(size_t slot, uint64_t segment_id, uint64_t offset, size_t len);
  // Whether thread `slot`'s page has disk space, so that an image cannot
  // fault for lack of it: reserved on the first call (one fallocate); false
  // if that failed (the disk is full: the thread's puts append, and fail
  // there with a clear status), for the life of this LiveFile.
  bool SlotReady(size_t slot) {
    const uint8_t st = slot_state_[slot].load(std::memory_order_acquire);
    return st == kSlotReady || (st == kSlotUnknown && ReserveSlot(slot));
  }
  // A sync failed: recovery must not trust the page cache.
  void Distrust();

 private:
  static constexpr size_t kPublishedOffset = 128;
  static constexpr uint8_t kSlotUnknown = 0, kSlotReady = 1, kSlotFailed = 2;
  explicit LiveFile(std::unique_ptr<MappedFile> file) : file_(std::move(file)) {}
  bool ReserveSlot(size_t slot);
  std::unique_ptr<MappedFile> file_;
  std::atomic<uint8_t> slot_state_[kSlots] = {};
};

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_LIVE_FILE_H_
