// Checkpoint: the index checkpoint file ("CHECKPOINT", DESIGN §7): the
// index entries, the segments (slot, covered length, byte counts, a check
// of the bytes just below the covered length), the namespaces and the last
// sequence number, all checksummed. Open loads it and replays only the log
// past the lengths it covers; a checkpoint that is damaged, implausible or
// does not match the segments on disk is ignored (full scan): see
// ValidateCheckpoint in recovery.cc.
//
// Layout (little-endian), version 8:
//   [0]  magic "FIRKCKPT"   [8]  u32 version  [12] u32 flags (kCheckpointFlag*)
//   [16] u64 db_id          [24] u64 last_seq
//   [32] u64 n_segments     [40] u64 n_namespaces  [48] u64 n_entries
//   [56] u64 ordered_bytes (size of the ordered section)
//   [64] u64 checksum of the body   [72] u64 checksum of bytes [0,72)
//   body: n_segments x {u64 id, u32 slot, u32 flags, u64 len, u64 live,
//                       u64 dead, u64 min_seq, u64 tail_check,
//                       u64 min_expiry, u64 inplace_seq}       (72 bytes)
//         n_namespaces x {u32 id, u8 flags, u8 name_len, name,
//                         i64 live_keys, i64 ttl_keys, u64 min_expiry,
//                         u64 create_loc, u32 create_size}
//         flags: bit 0 = dropped, bit 1 = ordered. create_loc (version
//         8): the locator (valid with the slots above) of the copy of its
//         create record that the byte counts above hold live, and that
//         record's size; 0: none known (NamespaceInfo::create_loc).
//         kCheckpointShards x u32: how many entries each index shard has
//         n_entries x u64 (tag << 44 | locator)                (8 bytes)
//           the index's own packed form, shard after shard ascending (the
//           counts above say where each shard's run ends); the tag is the
//           20 hash bits below the shard's 10, the only bits the index
//           keeps, so hash_bits = shard << 54 | tag << 34
//         the ordered section (ordered_bytes bytes): the index of each
//         ordered namespace as its chunks, in key order
//         (checkpoint_ordered.h), so open loads it instead of rebuilding.
// tail_check = CheckpointTailCheck(segment bytes, len): a checksum of the
// last (up to) 4 KiB of records below len, so that a checkpoint of another
// copy of the segment (stale after a divergence, or forged) is detected
// and len is known to be a record boundary of this file. min_expiry (a
// segment's earliest expiry, a namespace's lower bound of its keys'
// expiries; UINT64_MAX = none) and ttl_keys came with version 3 (TTL); the
// namespace byte became flags (bit 0 dropped, bit 1 ordered) in version 4;
// the ordered section (and the header's ordered_bytes, which made the
// header 80 bytes) came with version 5; 8-byte entries with the shard
// counts (they were {u64 hash_bits, u64 locator}, 16 bytes, holding the
// same 30 bits of hash) with version 6; inplace_seq with version 7: at
// least every sequence number an update in place gave a record of the
// segment below len (Segment::InPlaceSeqBound; 0 = none), so that the
// open knows it without reading those records (the change feed's oldest
// change and time travel depend on it; bytes below len never change
// again: the checkpoint syncs, which freezes them); each namespace's
// create_loc and create_size with version 8 (until 2026-11-29 an open
// from a checkpoint did not know where a live namespace's create record
// lay, and its drop left the record counted live: a segment of them
// under compact_dead_ratio was never taken, and the namespaces were held
// for good; ns_churn_test ckpt_drop). Version 7 is still read (its
// namespaces' create records are then not known, as before); older
// checkpoints are ignored (open rebuilds by a full scan).
//
// Thread contract: plain functions and values.
#ifndef FIRKIN_CORE_RECOVERY_CHECKPOINT_H_
#define FIRKIN_CORE_RECOVERY_CHECKPOINT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/index/hash_index.h"
#include "core/util/coding.h"
#include "core/util/status.h"

namespace firkin {

constexpr char kCheckpointFileName[] = "CHECKPOINT";
constexpr size_t kCheckpointHeaderSize = 80;
constexpr size_t kCheckpointSegmentSize = 72;
constexpr size_t kCheckpointEntrySize = 8;
// The index's shards, one u32 count each.
constexpr size_t kCheckpointShards = HashIndex::kShards;
constexpr size_t kCheckpointShardCountsSize = kCheckpointShards * 4;
// A namespace entry is 42 bytes plus its name (at most 255 bytes); 30 in
// version 7 (no create_loc, create_size).
constexpr size_t kCheckpointNamespaceMin = 42;
constexpr size_t kCheckpointNamespaceMax = 42 + 255;
constexpr size_t kCheckpointNamespaceMinV7 = 30;

struct CheckpointSegment {
  uint64_t id, len, live, dead, min_seq, tail_check;
  uint32_t slot, flags;
  uint64_t min_expiry = UINT64_MAX;
  uint64_t inplace_seq = 0;  // Segment::InPlaceSeqBound below len (0: none)
};

// The counts of a checkpoint header, readable before the body is
// checksummed (so that an implausible file is refused without reading it).
struct CheckpointHeader {
  uint64_t db_id = 0, last_seq = 0, n_segments = 0, n_namespaces = 0, n_entries = 0;
  uint64_t ordered_bytes = 0;
  uint32_t flags = 0;
  uint32_t version = 0;  // 7 or 8 (the versions read)
};

struct CheckpointNamespace {
  uint32_t id;
  bool dropped;
  std::string name;
  int64_t live_keys;
  int64_t ttl_keys = 0;
  uint64_t min_expiry = UINT64_MAX;
  uint32_t flags = 0;  // kNsFlag* (bit 1 of the flags byte = ordered)
  // Where the copy of its create record that counts live lies (0: not
  // known, or none: NamespaceInfo::create_loc), and its size.
  uint64_t create_loc = 0;
  uint32_t create_size = 0;
};

// Header flag (the u32 at offset 12, 0 before 2026-11-27; older libraries
// ignore it): the writer's every compaction pass leaves an output, which a
// checkpoint written before it does not list. So a listed segment that is
// gone while no unlisted output is there was removed by something else:
// open refuses the database (damage).
constexpr uint32_t kCheckpointFlagPassesLeaveOutputs = 1;

struct CheckpointData {
  uint64_t db_id = 0;
  uint64_t last_seq = 0;
  uint32_t flags = 0;  // kCheckpointFlag*
  uint32_t version = 0;  // decoded: the file's (7: no namespace create_loc)
  std::vector<CheckpointSegment> segments;
  std::vector<CheckpointNamespace> namespaces;
  // When encoding: the index entries in the index's packed form (as
  // ForEachPacked gives them, shard after shard), and how many each shard
  // holds (HashIndex::kShards counts).
  std::vector<uint64_t> packed_entries;
  std::vector<uint32_t> shard_counts;
  std::string_view entries_view;       // decoded: n x 8 bytes (tag << 44 | locator)
  std::string_view shard_counts_view;  // decoded: kCheckpointShards x u32, adding up to n
  std::string ordered;            // the ordered section (when encoding)
  std::string_view ordered_view;  // the same, inside the decoded bytes
  uint64_t entry_count() const { return packed_entries.size(); }
};

// Hands the checkpoint file's bytes to `sink`, in order and in pieces (the
// index entries 128 KiB at a time), so that writing a checkpoint never holds
// a second copy of them (80 MB at 10 M keys). Returns sink's first error.
// REQUIRES: the shard counts add up to the entries.
Status WriteCheckpoint(const CheckpointData& c,
                       const std::function<Status(std::string_view)>& sink);
// The whole file as one string (an encrypted database seals it whole).
std::string EncodeCheckpoint(const CheckpointData& c);
// The file's pieces, for a writer that lays it out itself (a plain
// database writes the entries straight into the mapped file): the tables
// (segments and namespaces) that open the body; the shard counts
// (kCheckpointShardCountsSize bytes) that follow them; the entry of a
// packed index entry; and the header of a file of `n_entries` entries
// whose body (everything after the header) has checksum `body_checksum`.
std::string EncodeCheckpointTables(const CheckpointData& c);
void EncodeCheckpointShardCounts(const std::vector<uint32_t>& counts, char* out);
inline void EncodeCheckpointEntry(uint64_t packed, char* out) { EncodeU64(out, packed); }
void EncodeCheckpointHeader(const CheckpointData& c, uint64_t n_entries, uint64_t body_checksum,
                            char* out);
// Checks magic, version and the header checksum, and that the file size is
// the one the counts imply; kCorruption/kVersion with the path. Reads only
// the first kCheckpointHeaderSize bytes.
Status DecodeCheckpointHeader(std::string_view data, const std::string& path,
                              CheckpointHeader* out);
// DecodeCheckpointHeader, then the body checksum and layout.
// out->entries_view points into data (no copy of the index image).
Status DecodeCheckpoint(std::string_view data, const std::string& path, CheckpointData* out);
// Calls fn(i, hash_bits, locator) for each entry of a decoded checkpoint,
// in file order (hash_bits: the shard and tag bits, the rest 0).
// REQUIRES: c was decoded by DecodeCheckpoint (the counts add up).
template <typename Fn>
void ForEachCheckpointEntry(const CheckpointData& c, Fn&& fn) {
  const char* e = c.entries_view.data();
  uint64_t i = 0;
  for (size_t shard = 0; shard < kCheckpointShards; ++shard) {
    const uint64_t end = i + DecodeU32(c.shard_counts_view.data() + 4 * shard);
    for (; i < end; ++i, e += kCheckpointEntrySize) {
      const uint64_t packed = DecodeU64(e);
      fn(i, HashIndex::UnpackHashBits(shard, packed), HashIndex::UnpackLocator(packed));
    }
  }
}

// The tail check of a segment whose bytes are `seg` (mapped), covered up to
// `len` (REQUIRES: kSegmentHeaderSize <= len <= the mapped size).
uint64_t CheckpointTailCheck(const char* seg, uint64_t len);

}  // namespace firkin

#endif  // FIRKIN_CORE_RECOVERY_CHECKPOINT_H_
