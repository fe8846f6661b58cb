// Recovery: rebuilds the in-memory state of a database from its segments
// at open (DESIGN §7): the index (newest sequence number wins), the
// namespace table, per-segment live/dead bytes and the last sequence number.
//
// A torn or zeroed tail of the last segment (past its durability
// watermark) is cut off and counted. Damage anywhere else is corruption:
// the open fails with a message naming the file and offset, unless the
// salvage option is set, in which case damaged regions are skipped and
// reported. A segment of another database is refused (never modified). A
// batch whose commit marker is missing is discarded as a whole.
//
// Thread contract: runs on the opening thread before the database is
// shared; not thread-safe.
#ifndef FIRKIN_CORE_RECOVERY_RECOVERY_H_
#define FIRKIN_CORE_RECOVERY_RECOVERY_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/env/env.h"
#include "core/log/format.h"
#include "core/util/status.h"

namespace firkin {

class Keyspace;
class NamespaceTable;
struct Options;

struct RecoveryResult {
  uint64_t last_seq = 0;
  // The newest commit time of a record replayed (0: none): a read-only
  // handle's refresh raises its clock to it (Follower::CatchUp).
  uint64_t newest_time = 0;
  // Bytes of log records the open read to find the newest commit time
  // (DB::NewestCommitTime; 0 where seal clocks told it): a tail without a
  // seal clock is read whole (firkin_stats "recovery": "clock_scan_bytes").
  uint64_t clock_scan_bytes = 0;
  uint64_t next_segment_id = 1;
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t torn_bytes = 0;               // cut from the tail of the log
  // Log segments after one a power loss cut short (it was not sealed yet
  // when they were created: kSegmentFlagAfterUnsealed): none of their
  // records was kept, as they follow a hole.
  uint64_t segments_cut = 0;
  // In-place updates (docs/write_path.md): records put back from the LIVE
  // file's images (an overwrite cut short by a kill), and whether the
  // previous writer's LIVE file showed the same boot (then the tail was
  // kept up to its published sequence number).
  uint64_t images_restored = 0;
  bool same_boot = false;
  uint64_t salvaged_regions = 0;         // damaged regions skipped (salvage)
  uint64_t salvaged_bytes = 0;
  uint64_t discarded_batch_records = 0;  // batches without a commit marker
  uint64_t removed_leftovers = 0;        // half-created segment files removed
  uint64_t finished_compactions = 0;     // inputs of a completed compaction removed
  std::vector<std::string> salvage_report;  // one line per skipped region/file
  // Each damaged region skipped inside a kept segment, sorted by (segment
  // id, offset): the region stays in the file, and scans meet it again.
  // Verify counts it once (at open); a hash-order iterator steps over it
  // as the open did (until 2026-11-28 one over an encrypted database
  // stopped there: a sealed record passed over is authenticated).
  struct SalvagedRegion {
    uint64_t segment_id = 0;
    uint64_t offset = 0;
    uint64_t bytes = 0;  // as the open's scan skipped them
    bool operator<(const SalvagedRegion& o) const {
      return segment_id != o.segment_id ? segment_id < o.segment_id : offset < o.offset;
    }
  };
  std::vector<SalvagedRegion> salvaged_at;
  // The bytes of the region that starts at `offset` of segment `id`, 0 if
  // none does.
  uint64_t SalvagedBytesAt(uint64_t id, uint64_t offset) const {
    const SalvagedRegion key{id, offset, 0};
    auto it = std::lower_bound(salvaged_at.begin(), salvaged_at.end(), key);
    return it != salvaged_at.end() && it->segment_id == id && it->offset == offset ? it->bytes
                                                                                 : 0;
  }
  bool used_checkpoint = false;          // the index came from the checkpoint
  uint64_t checkpoint_entries = 0;
  std::string checkpoint_note;           // why a checkpoint was ignored
  uint64_t ordered_keys_loaded = 0;      // ordered-index keys loaded from it
  std::string ordered_note;              // why its ordered section was not used
  // Every segment id the directory listed (those skipped included: a
  // follower must never replay a skipped input of a finished compaction).
  std::vector<uint64_t> listed_ids;
  uint64_t tail_id = 0;                  // the newest segment of the log writer
};

// Creates *keyspace (its index sized for a validated checkpoint's entries
// only) and fills it, the namespaces and *result.
// watermark_bound (a read-only open while a writer holds the database): the
// tail of the log is read only up to its durability watermark, where every
// record is complete and stays in the file (the live writer may truncate
// the file past it when it seals); nothing past it is looked at.
Status Recover(Env* env, const std::string& dir, const Identity& identity,
               const Options& options, std::unique_ptr<Keyspace>* keyspace,
               NamespaceTable* namespaces, RecoveryResult* result,
               bool watermark_bound = false);

}  // namespace firkin

#endif  // FIRKIN_CORE_RECOVERY_RECOVERY_H_
