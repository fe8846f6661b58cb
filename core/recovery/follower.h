// Follower: moves a read-only handle's state (keyspace, namespaces) forward
// to the durable state of the writer process that has the database open
// (firkin_refresh). It never writes to the directory and never waits for
// the writer: it lists the directory, maps segments read-only and replays
// records the writer made durable since the last catch-up.
//
// What it reads, per segment: the newest segment of the log writer up to
// its persisted durability watermark (a record boundary below which every
// record is complete, in sequence order, and stays in the file: the writer
// truncates a segment only past it, when it seals it); every other segment
// whole (sealed log segments and compaction outputs are complete once they
// have their name). So the state reached is a completed prefix of the
// writer's log: no torn batch, no half-written record, no hole.
//
// Compaction under a follower: a new compaction output is replayed (its
// copies take over the index entries of the records they copy); inputs the
// follower never replayed are never replayed; a segment that vanished from
// the directory (retired by the writer), or that a replayed output names
// as an input (the writer retires it next; its file may still be listed),
// is dropped after the replay, and every index entry still pointing into
// it goes too (such a segment holds nothing live: the writer makes the log
// durable under what a pass drops before it names the output, and the
// follower reads the watermarks after listing the directory). The mapping
// of a retired file stays valid until then (unlinked files stay readable).
//
// Namespaces: a refresh that sees the segment holding a namespace's create
// record go, with no segment it replays carrying the record again, knows
// that the writer dropped and forgot the namespace; it drops it if it
// never read the drop, and forgets it (ForgetGone). The create records of
// the namespaces the open's checkpoint named are looked for in the
// segments held since the open, as those go (FindCheckpointCreates).
//
// Thread contract: CatchUp, Retire and ForgetGone are called by one thread
// at a time (the caller serializes); other threads may read the keyspace
// and the namespace table meanwhile: records are installed under their
// keys' sub-table locks and stay invisible (by sequence number) until the
// caller publishes *last_seq (a CatchUp that fails takes them back,
// Replayer::Undo); namespace records' changes are staged in the table,
// which locks itself, and seen by other threads from the start of Retire,
// inside the caller's publication (a CatchUp that fails discards them:
// NamespaceTable::Stage); handles hold their namespaces by shared_ptr, so
// a forgotten one lives on for them.
// The entries Retire takes out are visible at once: the caller makes that,
// the count changes and the publication one change that counting walks
// can tell they overlapped (DB::refresh_cut_); it raises the floors there
// first. A reader of the published state may still meet what a refresh
// changes before it publishes (an entry Retire takes out; a chain from a
// record CatchUp installed into a segment dropped before, or one that was
// updated in place): the caller makes such a read wait for the end of the
// refresh before it fails or reads again (DB::AwaitRefresh; DB::Get,
// DB::CountKeys).
#ifndef FIRKIN_CORE_RECOVERY_FOLLOWER_H_
#define FIRKIN_CORE_RECOVERY_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "core/keyspace/keyspace.h"
#include "core/keyspace/namespaces.h"
#include "core/log/format.h"
#include "core/recovery/recovery.h"
#include "core/util/status.h"

namespace firkin {

struct Options;

struct FollowStats {
  uint64_t refreshes = 0;         // successful catch-ups
  uint64_t records = 0;           // records replayed by catch-ups
  uint64_t segments_added = 0;    // segments mapped by catch-ups
  uint64_t segments_dropped = 0;  // retired by the writer, dropped here
  uint64_t entries_dropped = 0;   // index entries that pointed into them
  uint64_t puts_dropped = 0;      // of which puts (deleted by an unread tombstone)
  uint64_t retries = 0;           // listings that changed while reading
  // Namespaces dropped because the writer compacted their create record
  // away before this handle read their drop record.
  uint64_t namespaces_gone = 0;
  // Namespaces forgotten (NamespaceTable::Forget) because the writer
  // compacted their create and drop records away (those gone included).
  uint64_t namespaces_forgotten = 0;
  // Bytes of segments held since the open that refreshes read, as the
  // segments went, for the create records of namespaces the open's
  // checkpoint named (FindCheckpointCreates).
  uint64_t create_scan_bytes = 0;
};

class Follower {
 public:
  // `recovered`: what open found (the segment ids it listed and the tail).
  Follower(Env* env, std::string dir, const Identity& identity, const Options& options,
           Keyspace* ks, NamespaceTable* ns, const RecoveryResult& recovered);
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Replays what the writer made durable since the last call. On success
  // *last_seq is the newest sequence number now held (never smaller than
  // the one passed in); the caller publishes it, after Retire. It raises
  // no floor: Retire does (the absent floors of the outputs it adds are
  // kept for the next Retire). The key counts' changes go to *counts, for
  // the caller to apply when it publishes the new state. On failure (a
  // status, or an exception such as std::bad_alloc) it takes back what it
  // did: the index entries its replay changed, the segments it added
  // (fresh again), how far it read the others, what it marked seen,
  // ignored or complete and the absent floors it kept; *last_seq is
  // unchanged and *counts empty, and the next CatchUp starts from the same
  // place (until 2026-11-29 what it had installed stayed, unpublished, and
  // reads of those keys could fail until a refresh succeeded: readers_test
  // failed_refresh). The namespaces its replay creates or drops are staged
  // (NamespaceTable::Stage): on failure forgotten (until 2026-11-29 they
  // were applied as replayed and stayed: readers_test failed_ns_create,
  // failed_ns_drop), on success left for Retire to publish. Not taken
  // back: the live and dead byte counts of the records it met (stats only
  // on a read-only handle) and the ordered index made for a namespace it
  // created (read by nothing before the namespace is published; a later
  // replay of the create takes it again). On success the segments
  // that go, and the index entries into them, are still there: Retire
  // takes them out. A segment is marked seen only once it is added (its
  // slot allocated: until 2026-11-29 one that found no slot was marked
  // seen anyway, and no later refresh mapped it).
  Status CatchUp(uint64_t* last_seq, NsCountDeltas* counts, uint64_t* newest_time);

  // After a CatchUp that succeeded: publishes the namespace changes it
  // staged, takes out the entries of the namespaces it dropped, drops the
  // segments the writer retired (and those a replayed output replaces),
  // the index entries still pointing into them and the namespaces whose
  // create records went with them; the count changes of the puts dropped
  // go to *counts. The caller
  // runs it, applies *counts and publishes the new state as one change
  // (DB::refresh_cut_): a counting walk must not see entries gone that
  // the counts and the published state still hold (until 2026-11-29 they
  // went inside CatchUp, before the counts moved: a walk between counted
  // below both states, and one that found the keys with an expiry gone
  // raised the bound while the counters still held them: above both;
  // ttl_test count_refresh).
  //   The floors, raised here (after the replay, before any entry or
  // segment goes: until then the published state reads whole; until
  // 2026-11-29 *absent_floor rose at the start of CatchUp, and the
  // published state's reads failed during the refresh, readers_test
  // refresh_floors): *history_floor when index
  // entries are dropped with retired segments: an explicit snapshot below
  // it can no longer be told. (Dropped segments alone need no floor: a
  // read that needs one fails with kSnapshotTooOld by itself.)
  // *scan_floor to the new state's number when any segment is dropped or
  // any is ignored (inputs never replayed): a scan of an older state, also
  // one between the old and the new number, cannot tell the versions it
  // held from versions that never were (an iterator opened later over
  // such a snapshot must fail, not end early); the new state itself is
  // whole and scans (until 2026-11-27 the floor was the old number + 1,
  // above the new state when no write came with the retirement).
  // *absent_floor to the history floor each compaction output added since
  // the last Retire records (the new number where one records none):
  // below it a read that finds a key absent cannot tell whether a pass
  // dropped the key's put with its tombstone (DB::Get).
  void Retire(std::atomic<uint64_t>* history_floor, std::atomic<uint64_t>* scan_floor,
              std::atomic<uint64_t>* absent_floor, NsCountDeltas* counts);

  // Forgets the namespaces the last CatchUp found the writer forgot.
  // REQUIRES: the count changes that CatchUp gave out were applied (they
  // point at the namespaces), and no thread keeps a pointer from
  // NamespaceTable::ById (handles hold theirs by shared_ptr).
  void ForgetGone();

  const FollowStats& stats() const { return stats_; }

 private:
  // For the namespaces whose create record's segment is not known (loaded
  // from the open's checkpoint of version 7, which does not place create
  // records: NamespaceInfo::create_seg 0), looks for
  // their create records in the segments of `gone` held since the open
  // (as far as this handle read them), and sets create_seg where found.
  // Each such segment is read once, as it goes, and only while such
  // namespaces are left.
  void FindCheckpointCreates(const std::vector<std::shared_ptr<Segment>>& gone);
  // The segment ids in the directory, sorted.
  Status ListSegments(std::vector<uint64_t>* ids);
  // The length of `seg` that may be read now (see the class comment).
  // *file_end: the file's length now.
  Status ReadableEnd(const std::string& path, const char* data, uint64_t capacity,
                     uint32_t flags, bool newest_log, uint64_t* end, uint64_t* file_end);
  // For a log segment that is not the newest (closed, maybe not sealed
  // yet): lowers *end to where its whole records from `from` end, found in
  // a copy of the bytes past its watermark read with pread (the seal may
  // truncate the file after the last record at any moment: a mapped read
  // past it would fault).
  Status ClosedRecordsEnd(const Segment& seg, uint64_t from, uint64_t* end);

  Env* const env_;
  const std::string dir_;
  const Identity identity_;
  const Options& options_;
  Keyspace* const ks_;
  NamespaceTable* const ns_;
  std::set<uint64_t> seen_;     // every id ever listed (replayed, ignored or gone)
  std::set<uint64_t> ignored_;  // listed, never to be replayed
  std::set<uint64_t> complete_;  // read to the end of their file for good
  // Segments held since the open, which may hold create records this
  // handle never replayed (those of the checkpoint's namespaces); erased
  // as they go.
  std::set<uint64_t> from_open_;
  std::vector<uint32_t> forget_;  // for ForgetGone
  bool purge_ = false;            // the last CatchUp replayed a drop: Retire purges
  // What the last CatchUp found going, for Retire.
  struct PendingRetire {
    std::vector<std::shared_ptr<Segment>> held;  // the segments held before it
    std::vector<uint64_t> ids;                   // of those, the ones that go
    std::set<uint32_t> slots;                    // and their slots
    uint64_t new_seq = 0;       // the new state's number
    uint64_t replayed_seq = 0;  // the highest number replayed (RecoveryResult::last_seq)
    bool ignored_any = false;   // inputs never replayed were met
  };
  PendingRetire retire_;
  // The absent floor of the outputs added since the last Retire (the
  // highest they record), and whether one of them recorded none: Retire
  // raises the handle's floor to it.
  uint64_t pending_absent_floor_ = 0;
  bool pending_floor_unknown_ = false;
  FollowStats stats_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_RECOVERY_FOLLOWER_H_
