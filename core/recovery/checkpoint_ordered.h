// The checkpoint's ordered section (checkpoint format version 5): the
// OrderedIndex of every ordered namespace saved as its chunks, so that open
// loads it instead of rebuilding it from the hash index (reading and
// sorting every key). docs/format.md, "Ordered namespaces".
//
// Layout (little-endian), one entry per ordered, not dropped namespace:
//   u32 ns_id, u32 n_chunks, u64 n_keys,
//   n_chunks x {u16 n (1..256), u16 common_len, common bytes,
//               n x u64 word}      word = 20 prefix bits << 44 | locator
// The chunks are in key order; every key of a chunk starts with `common`
// (the longest common prefix of its first and last keys) and its word's
// prefix bits are the 20 bits right after it (OrderedIndex).
//
// Loading never trusts it blindly: CheckOrderedSection accepts it only if
// every word points at one of the checkpoint's own hash-index entries
// (each at most once: no stale, foreign or duplicate record), and, the
// records read (every one up to kFullCheckEntries entries, else the first
// and last of every chunk plus a sample), each is a key of that namespace,
// keys strictly ascend, each key starts with its chunk's common prefix and
// carries its prefix bits, and each namespace holds exactly its hash
// entries' count. Anything else: the section is not used and open rebuilds
// the ordered indexes from the hash index (the hash entries stay loaded).
//
// Thread contract: plain functions; they run on the opening thread (or,
// for AppendOrderedSection, the checkpoint writer with writes held off).
#ifndef FIRKIN_CORE_RECOVERY_CHECKPOINT_ORDERED_H_
#define FIRKIN_CORE_RECOVERY_CHECKPOINT_ORDERED_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/keyspace/ordered_index.h"

namespace firkin {

struct LoadedCheckpoint;

// One namespace's index as found in the section.
struct OrderedImage {
  uint32_t ns_id = 0;
  uint64_t n_keys = 0;
  std::vector<OrderedIndex::ChunkImage> chunks;  // views into the checkpoint bytes
};

// Appends namespace ns_id's index to *out (the section being encoded).
void AppendOrderedSection(uint32_t ns_id, const OrderedIndex& index, std::string* out);

// Parses and checks ck->data.ordered_view against the rest of the
// checkpoint (REQUIRES: ck->valid, ck->files mapped). `keys_per_ns`: the
// hash entries' count per namespace when every entry's record was read
// (nullptr otherwise). `codec` reads keys (decrypting sealed records).
// Returns "" and fills *out, or why the section is
// not used (*out then empty).
std::string CheckOrderedSection(const LoadedCheckpoint& ck, const RecordCodec& codec,
                                const std::map<uint32_t, uint64_t>* keys_per_ns,
                                std::vector<OrderedImage>* out);

}  // namespace firkin

#endif  // FIRKIN_CORE_RECOVERY_CHECKPOINT_ORDERED_H_
