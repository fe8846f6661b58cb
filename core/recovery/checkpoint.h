// Checkpoint: the index checkpoint file ("CHECKPOINT", DESIGN §7): the
// index entries, the segments (slot, covered length, byte counts), the
// namespaces and the last sequence number, all checksummed. Open loads it
// and replays only the log past the lengths it covers; a checkpoint that is
// damaged or does not match the segments on disk is ignored (full scan).
//
// Layout (little-endian):
//   [0]  magic "FIRKCKPT"   [8]  u32 version  [12] u32 reserved
//   [16] u64 db_id          [24] u64 last_seq
//   [32] u64 n_segments     [40] u64 n_namespaces  [48] u64 n_entries
//   [56] u64 checksum of the body   [64] u64 checksum of bytes [0,64)
//   body: n_segments x {u64 id, u32 slot, u32 flags, u64 len, u64 live,
//                       u64 dead, u64 min_seq}                  (48 bytes)
//         n_namespaces x {u32 id, u8 dropped, u8 name_len, name,
//                         i64 live_keys}
//         n_entries x {u64 hash_bits, u64 locator}             (16 bytes)
//
// Thread contract: plain functions and values.
#ifndef FIRKIN_CORE_RECOVERY_CHECKPOINT_H_
#define FIRKIN_CORE_RECOVERY_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/status.h"

namespace firkin {

constexpr char kCheckpointFileName[] = "CHECKPOINT";
constexpr size_t kCheckpointHeaderSize = 72;

struct CheckpointSegment {
  uint64_t id, len, live, dead, min_seq;
  uint32_t slot, flags;
};

struct CheckpointNamespace {
  uint32_t id;
  bool dropped;
  std::string name;
  int64_t live_keys;
};

struct CheckpointData {
  uint64_t db_id = 0;
  uint64_t last_seq = 0;
  std::vector<CheckpointSegment> segments;
  std::vector<CheckpointNamespace> namespaces;
  std::string entries;  // n x 16 bytes: hash_bits, locator (when encoding)
  std::string_view entries_view;  // the same, inside the decoded bytes
  uint64_t entry_count() const { return entries.size() / 16; }
};

std::string EncodeCheckpoint(const CheckpointData& c);
// Checks magic, version, checksums; kCorruption/kVersion with the path.
// out->entries_view points into data (no copy of the index image).
Status DecodeCheckpoint(std::string_view data, const std::string& path, CheckpointData* out);

}  // namespace firkin

#endif  // FIRKIN_CORE_RECOVERY_CHECKPOINT_H_
