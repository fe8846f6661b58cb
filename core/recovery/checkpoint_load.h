// Checkpoint loading at open, in three steps, so that nothing is sized or
// trusted from a checkpoint before it is validated (issue 9, items 5, 7, 9):
//
//   ReadCheckpoint      maps CHECKPOINT (a regular file only), checks its
//                       header, that its size is the one its counts imply
//                       and that those counts are plausible for the segment
//                       bytes on disk, then its checksums. A huge or sparse
//                       file is refused before its body is read.
//   ValidateCheckpoint  checks it against the segment files: every listed
//                       segment exists, belongs to this database, is at
//                       least as long as the length the checkpoint covers,
//                       and the bytes just below that length are the ones
//                       the checkpoint saw (tail check: a stale checkpoint
//                       of a diverged copy, or a forged one, is refused and
//                       the covered length is a record boundary); no older
//                       segment is missing from it (an older log segment
//                       is a retired file put back: the open is refused);
//                       slots, ids, namespaces
//                       and counts are sane; each namespace create record
//                       it places is one, intact, where it says; every index entry points into a
//                       listed segment below its covered length; a sample
//                       of entries points at valid key records whose key
//                       hash is the entry's. Then the ordered section is
//                       checked on its own (checkpoint_ordered.h): if it
//                       fails, only it is dropped (ordered indexes are
//                       rebuilt), the rest is still used.
//   InstallCheckpoint   registers the segments, namespaces and entries, and
//                       loads the ordered indexes of the ordered section.
//
// A checkpoint that fails any step is ignored (the caller scans every
// segment) and the reason is kept in RecoveryResult::checkpoint_note.
//
// Thread contract: runs on the opening thread before the database is
// shared; not thread-safe.
#ifndef FIRKIN_CORE_RECOVERY_CHECKPOINT_LOAD_H_
#define FIRKIN_CORE_RECOVERY_CHECKPOINT_LOAD_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/env/env.h"
#include "core/log/format.h"
#include "core/recovery/checkpoint.h"
#include "core/recovery/checkpoint_ordered.h"
#include "core/util/status.h"

namespace firkin {

class Aead;
class Keyspace;
class NamespaceTable;
class Segment;
struct Options;
struct RecoveryResult;

// A checkpoint being loaded. Owns the mapping its entries point into.
struct LoadedCheckpoint {
  std::unique_ptr<MappedFile> map;
  std::string plain;  // an encrypted database's checkpoint, decrypted (data points here)
  CheckpointData data;
  bool decoded = false;  // checksums ok and this database's: its list is meaningful
  // Decoded although it counts more than the segment files present can
  // hold: read only to tell whether a segment it lists is missing
  // (ValidateCheckpoint), never installed.
  std::string over_bound;
  bool valid = false;    // validated against the segments: may be installed
  std::vector<std::unique_ptr<MappedFile>> files;  // one per data.segments when valid
  std::string note;                                // why it was ignored
  // Log segment files older than segments it lists, which it does not
  // list: retired files put back (ValidateCheckpoint). Only under salvage
  // (otherwise the open is refused): the scan skips them, and why.
  std::vector<uint64_t> stale;
  std::vector<std::string> stale_notes;
  std::vector<OrderedImage> ordered;  // the ordered section, when it may be loaded
  std::string ordered_note;           // why the ordered section was not used

  bool Lists(uint64_t id) const;
};

// Entries checked against their records at open. Up to kFullCheckEntries,
// every entry's record is checked (bounds, type, key hash: a forged entry
// that would hide a key is caught); above that (open time must not grow
// with the key count, DESIGN §10), every entry is checked structurally and
// kSampledEntries of them fully (checksum too). Reads verify checksums when
// the index came from a checkpoint, and firkin_verify checks every entry.
// The ordered section follows the same rule (checkpoint_ordered.h). (2^20
// until the review of performance: the full check, a random read and a key
// hash per entry, made an open of 1.04 M keys 2-3 times slower than one of
// 1.06 M.) 4096 samples (256 until a review showed a diverged copy's
// checkpoint passing: its newest segment ending in the same 4 KiB as ours,
// 100 entries of 150,000 different, 9 opens in 10 took it and lost those
// keys; 4096 samples miss them with a chance of 6.5%, for a few ms more).
constexpr uint64_t kFullCheckEntries = uint64_t{1} << 17;
constexpr uint64_t kSampledEntries = 4096;

// `ids`: the segment files present (sorted). Never fails: a checkpoint
// that cannot be read is simply not decoded. `cipher`: the data key of an
// encrypted database (the checkpoint is then sealed: checkpoint_seal.h),
// nullptr for a plaintext one.
void ReadCheckpoint(Env* env, const std::string& dir, const Identity& identity,
                    const Aead* cipher, const std::vector<uint64_t>& ids,
                    LoadedCheckpoint* ck);

// `ids`: the segments left after leftovers were removed; `tail_id`: the
// tail of the log (mapped writable unless read-only). Sets ck->valid.
// Fails only for an I/O error that is not about the checkpoint's contents,
// and with kCorruption for a segment file it lists that is gone with no
// compaction to account for it (kCheckpointFlagPassesLeaveOutputs), or for
// a log segment file older than one it lists that it does not list (a
// retired file put back; under salvage it goes to ck->stale instead).
// `writer_live`: a writer holds the database (a read-only open beside it):
// its passes may retire segments while the directory is listed, so a
// listed segment that is gone is never taken for damage then.
Status ValidateCheckpoint(Env* env, const std::string& dir, const Identity& identity,
                          const Options& options, const std::vector<uint64_t>& ids,
                          uint64_t tail_id, LoadedCheckpoint* ck,
                          bool writer_live = false);

// REQUIRES: ck->valid. *out maps a segment id to the segment and the
// offset from which its log must still be replayed.
Status InstallCheckpoint(LoadedCheckpoint* ck, Keyspace* ks, NamespaceTable* ns,
                         RecoveryResult* res,
                         std::map<uint64_t, std::pair<std::shared_ptr<Segment>, uint64_t>>* out);

}  // namespace firkin

#endif  // FIRKIN_CORE_RECOVERY_CHECKPOINT_LOAD_H_
