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
#include <memory>
#include <mutex>
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
  // Removes dropped namespace `id` from the table (NamespaceTable::Forget):
  // a pass retired the last segments that held a record of it.
  virtual void ForgetNamespace(uint32_t id) = 0;
  virtual Env* env() = 0;
  virtual const std::string& dir() const = 0;
  virtual uint64_t db_id() const = 0;
  // A fresh segment id (never reused).
  virtual uint64_t AllocateSegmentId() = 0;
  // The file of a retired input (already out of the segment table), whose
  // records all have sequence numbers <= max_seq: removed, or kept for reuse
  // as a log segment (recycling). The caller syncs the directory.
  virtual Status RetireSegmentFile(const std::shared_ptr<Segment>& seg, uint64_t max_seq) = 0;
  // The oldest live snapshot (LastSeq() if none), whether any exists, and
  // the published sequence number.
  virtual uint64_t OldestSnapshot() const = 0;
  virtual bool HasSnapshots() const = 0;
  // The oldest snapshot of a counting walk (UINT64_MAX if none): records
  // updated in place above it are kept where they are (DB::CountKeys).
  virtual uint64_t OldestCountSnapshot() const = 0;
  // Whether the oldest snapshot, s_min (OldestSnapshot's), is a counting
  // walk's and no other holder's: records updated in place above it keep
  // every version they replaced above it too, so the version at s_min is
  // found through them (Overwritten::kFollow).
  virtual bool OldestIsCountWalk(uint64_t s_min) const = 0;
  // A pass is about to drop history: every version older than the one
  // visible at `history` (its OldestSnapshot), and the copies of records
  // updated in place up to `history` too (their replaced versions are gone
  // for good); tombstones and expired puts up to `absent`. Called before
  // anything the pass changes is visible. The database raises its history
  // floors (DB::RaiseHistoryFloors): a snapshot read below them that could
  // need what is gone says SnapshotTooOld instead of a wrong answer.
  virtual void HistoryDropped(uint64_t history, uint64_t absent) = 0;
  // The history floor now (recorded in each output's first record, so that
  // the next open knows it: docs/format.md, "Compaction outputs").
  virtual uint64_t HistoryFloor() const = 0;
  // Releases the snapshots of abandoned transactions (open longer than
  // txn_max_age_ms, not in use); called at the start of every compaction
  // cycle, before anything reads the oldest snapshot. Returns how many.
  virtual size_t ReapTxns() const = 0;
  // The time (ms since the epoch) up to which expired puts (TTL) may be
  // dropped: the database clock, or the oldest time an open iterator
  // decides expiry by, if older (an iterator yields a put that had not
  // expired when it was made). A put whose expiry is at or before it is
  // absent, like a tombstone. It never goes back (the clock does not, and
  // an iterator made later takes a later time).
  virtual uint64_t ExpiryHorizonMs() const = 0;
  virtual uint64_t LastSeq() const = 0;
  // Makes durable every write whose index entries are installed by now,
  // writes still in flight included (it waits for them to publish).
  virtual Status SyncAll() = 0;
  // Waits until every write whose index entries are installed by now is
  // published; returns the log position that covers them all.
  virtual LogPosition PublishInFlight() = 0;
  // Whether the log is durable up to `p` (LogWriter::Durable): true once
  // the database's own syncs got there; nothing is synced for it.
  virtual bool LogDurable(const LogPosition& p) const = 0;
  virtual bool CheckpointDue() const = 0;
  virtual Status CheckpointNow() = 0;
  // A pass ran out of memory partway: the log fails (sticky NO_MEMORY), so
  // that nothing more is written over a half-changed state and no
  // checkpoint keeps it; a reopen recovers from the files. Needs no memory.
  virtual Status FailOutOfMemory(const char* what) = 0;

  // Online backup's hook. The compactor holds this mutex from publishing a
  // compaction output until its inputs are removed; a backup holds it while
  // it takes its cut and lists and links segment files, so no segment it
  // listed is retired (nor an output published) under it meanwhile.
  virtual std::mutex& retire_mutex() = 0;
  // The change feed's retention floor: log segments (not compaction
  // outputs) with an id >= this hold change history that must be kept, and
  // the picker leaves them alone. UINT64_MAX: nothing to keep.
  virtual uint64_t ChangeRetentionSegmentFloor() const { return UINT64_MAX; }
};

}  // namespace firkin

#endif  // FIRKIN_CORE_COMPACT_COMPACTION_HOST_H_
