// Leftovers: the first step of recovery. Decides, for each segment file,
// whether it is part of the log, the unfinished leftover of a crash (which
// may go), or the completed output of a compaction whose inputs were not
// all deleted yet (the inputs go). Only what recovery can PROVE holds
// nothing needed is removed (issue 9, item 2):
//   - "<id>.seg.tmp": a log segment or compaction output that was never
//     named (both are created under a temporary name, their header or all
//     of their records made durable, then renamed). A named segment file
//     that is empty or zeroed is therefore always damage: it is left in
//     place and reported as corruption by the scan;
//   - a named compaction output that does not read as complete while every
//     input it names is still there (it only holds copies).
// In read-only mode nothing is removed; such files are skipped instead.
//
// Thread contract: runs on the opening thread before the database is
// shared; not thread-safe.
#ifndef FIRKIN_CORE_RECOVERY_LEFTOVERS_H_
#define FIRKIN_CORE_RECOVERY_LEFTOVERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "core/util/status.h"

namespace firkin {

struct LoadedCheckpoint;
struct Options;
struct RecoveryResult;

// True if `name` is a segment (log or compaction output) that was never renamed.
bool IsTempSegmentName(const std::string& name);

// `ids` (sorted) loses the files that were removed or are to be skipped;
// *tail_id is the newest segment written by the log writer (0 if none).
Status FinishCompactions(Env* env, const std::string& dir, const Options& options,
                         std::vector<uint64_t>* ids, RecoveryResult* res, uint64_t* tail_id);

}  // namespace firkin

#endif  // FIRKIN_CORE_RECOVERY_LEFTOVERS_H_
