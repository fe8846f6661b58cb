// CompactionHost: the narrow interface through which the compactor (and
// its checkpoints) sees the database: its settings, keyspace, namespaces,
// files, snapshot floor and durability. The database implements it; the
// compactor includes nothing of core/db/.
//
// Thread contract: every method may be called from the compactor's thread
// while the database serves other threads.
#ifndef FIRKIN_CORE_COMPACT_COMPACTION_HOST_H_
#define FIRKIN_CORE_COMPACT_COMPACTION_HOST_H_

#include <cstdint>
#include <string>

#include "core/env/env.h"
#include "core/keyspace/keyspace.h"
#include "core/keyspace/namespaces.h"
#include "core/keyspace/options.h"

namespace firkin {

class CompactionHost {
 public:
  virtual ~CompactionHost() = default;
  virtual const Options& options() const = 0;
  virtual Keyspace* keyspace() = 0;
  virtual const NamespaceTable& ns_table() const = 0;
  virtual Env* env() = 0;
  virtual const std::string& dir() const = 0;
  virtual uint64_t db_id() const = 0;
  // A fresh segment id (never reused).
  virtual uint64_t AllocateSegmentId() = 0;
  // The oldest live snapshot (LastSeq() if none), whether any exists, and
  // the published sequence number.
  virtual uint64_t OldestSnapshot() const = 0;
  virtual bool HasSnapshots() const = 0;
  virtual uint64_t LastSeq() const = 0;
  // Makes everything published so far durable.
  virtual Status SyncAll() = 0;
  virtual bool CheckpointDue() const = 0;
  virtual Status CheckpointNow() = 0;
  // The change feed's retention floor: log segments (not compaction
  // outputs) with an id >= this hold change history that must be kept, and
  // the picker leaves them alone. UINT64_MAX: nothing to keep.
  virtual uint64_t ChangeRetentionSegmentFloor() const { return UINT64_MAX; }
};

}  // namespace firkin

#endif  // FIRKIN_CORE_COMPACT_COMPACTION_HOST_H_
