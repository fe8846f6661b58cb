// Compactor: reclaims the space of dead records (DESIGN §6).
//
// A pass picks sealed segments by dead-byte ratio (and, while the log is
// larger than compact_space_amp times its live bytes, the most wasteful
// ones), copies the records that must stay into one new compaction output
// segment (kept apart from fresh writes), makes it durable (file and
// directory), then moves each index entry with a compare-and-set on the old
// address under its sub-table lock (Keyspace::Relocate), so a concurrent
// newer write always wins, and finally retires the inputs (epoch-deferred
// unmap, file delete).
//
// What stays: the newest version of every key; a tombstone while an older
// version of its key may still exist in another segment or a snapshot may
// see it; namespace records, but a dropped namespace's create and drop
// records only until no other segment can hold a record of it (BuildPlan).
// Old versions that a live snapshot can see are never dropped: a segment
// holding one is skipped until the snapshot goes. Small outputs with dead
// bytes (those kept for a few namespace records above all) go along with
// every pass, never its reason (RunPass, "riders").
// An output names its inputs in its first and last records; recovery
// finishes or discards a pass that a crash interrupted.
//
// Damage: every scan of an input checks every record's checksum, also in a
// segment this process wrote (which reads trust without one): what a pass
// leaves out of its output is gone with the input, so damage since the
// segment was written must stop the pass, never be walked over. A damaged
// input fails the pass with kCorruption (firkin_compact reports it, the
// background counts a failure); reads stop trusting the segment, and
// background passes leave it alone from then on (a salvage open repairs).
//
// Backpressure: while the log is over its stall limit (write_stall_factor,
// 3 by default, times compact_space_amp of the live bytes, and at least 16
// segments) and the background thread has segments it can compact, new
// writes wait for it (WaitWhileStalled, at most a second per write), so
// writers that outrun a compactor running at low priority cannot fill the
// disk. write_stall_factor 0 turns it off: writes never wait.
//
// Thread contract: one compaction pass at a time (internal mutex). The
// background thread and manual Compact() share it. Index moves take one
// sub-table lock at a time, so a foreground write waits at most for one
// move. NoteLogGrew, stalled and WaitWhileStalled are safe from any thread.
// The compactor sees the database only through CompactionHost.
#ifndef FIRKIN_CORE_COMPACT_COMPACTOR_H_
#define FIRKIN_CORE_COMPACT_COMPACTOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/compact/compaction_host.h"
#include "core/log/segment.h"
#include "core/util/status.h"

namespace firkin {

class SegmentKeyFilters;

struct CompactionStats {
  std::atomic<uint64_t> runs{0};
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> bytes_written{0};
  std::atomic<uint64_t> bytes_reclaimed{0};
  std::atomic<uint64_t> segments_retired{0};
  std::atomic<uint64_t> segments_skipped{0};  // held back by a snapshot
  std::atomic<uint64_t> tombstones_dropped{0};
  // Dropped namespaces whose create and drop records passes left out (and
  // which the table then forgot).
  std::atomic<uint64_t> namespaces_forgotten{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> write_stalls{0};    // writes that waited for compaction
  std::atomic<uint64_t> write_stall_us{0};  // their total wait
  // Passes whose superseding versions became durable by the database's own
  // syncs while the pass waited (AwaitDurable), and passes that synced the
  // log themselves (out of patience, stalled writers, close, a full
  // compaction).
  std::atomic<uint64_t> durable_waits{0};
  std::atomic<uint64_t> log_syncs{0};
  // Memory the key filters and namespace lists of sealed segments hold now
  // (key_filters.h), and the scans that made them so far (a filter, or a
  // namespace list alone; a segment's list made first and its filter later
  // count two).
  std::atomic<uint64_t> key_filter_bytes{0};
  std::atomic<uint64_t> key_filters_built{0};
  // Record bytes the tombstone sweep read to find what it could drop
  // (PickTombstoneSweep; a segment found without tombstones and expiring
  // puts is not read again).
  std::atomic<uint64_t> sweep_bytes_read{0};
};

class Compactor {
 public:
  explicit Compactor(CompactionHost* host);
  ~Compactor();
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  // Starts the background thread (if auto_compact).
  void Start();
  // Stops and joins the background thread. Idempotent.
  void Stop();
  // One full compaction now: every sealed segment with dead bytes.
  // `progress` (may be empty) is called on this thread after each pass with
  // the bytes read so far and the bytes of the segments it started with
  // (done never exceeds total; the last call has done == total).
  Status CompactAll(const std::function<void(uint64_t done, uint64_t total)>& progress = {});

  const CompactionStats& stats() const { return stats_; }

  // Called after the log grew by a segment (the log writer's roll; the
  // caller may hold key locks, so this never blocks): if the log is over
  // its stall limit and the background thread runs, stalls new writes and
  // wakes the thread at once.
  void NoteLogGrew();
  // Whether new writes should wait (one relaxed load).
  bool stalled() const { return stalled_.load(std::memory_order_relaxed); }
  // Waits while writes are stalled, at most kMaxWriteStall, so that a
  // compactor that cannot catch up never stops writes for good.
  // REQUIRES: the caller holds no lock and no epoch guard (compaction
  // needs both to make progress).
  void WaitWhileStalled();

 private:
  // With history_retention_ms: clears the holds of segments a past pass
  // found needed by the retention window (it has moved on since).
  void ReleaseRetentionHolds();
  struct Plan;
  void Loop();
  // One round of Loop's work: reap, passes while there is work, a
  // checkpoint if due. REQUIRES: mu_ not held.
  void BackgroundRound();
  // Picks candidate segments; `all` = every sealed segment with dead bytes
  // (known damaged ones included: without `all` they are left alone).
  // Only segments whose id is at most `max_id` are picked (firkin_compact:
  // those there when it was called). Sets behind_. REQUIRES run_mu_.
  std::vector<std::shared_ptr<Segment>> PickCandidates(bool all, uint64_t max_id = UINT64_MAX);
  // When PickCandidates finds nothing: the oldest sealed segments (by
  // their smallest sequence number, as many as one output holds), if the
  // tombstones they could drop together (plus their dead bytes) reach
  // compact_dead_ratio of them (with `all`: if they could drop any). A
  // tombstone counts as live while it may shadow an older version, so a
  // segment of tombstones shows no dead bytes and would otherwise never be
  // picked, however long ago the versions it shadowed were compacted away.
  // Expired puts count as tombstones. Scans the same segments once per
  // floor, and again once a put it found not yet expired has expired.
  // REQUIRES run_mu_.
  std::vector<std::shared_ptr<Segment>> PickTombstoneSweep(bool all);
  // Takes `inputs` by value: the pass drops its references to them as it
  // retires them (the segment pool reuses a file only once no one holds
  // its Segment).
  Status RunPass(std::vector<std::shared_ptr<Segment>> inputs);
  Status RunPassSteps(std::vector<std::shared_ptr<Segment>> inputs);  // RunPass's work
  Status BuildPlan(const std::vector<std::shared_ptr<Segment>>& inputs, Plan* plan);
  Status WriteOutput(Plan* plan);
  // Before a pass names its output or retires inputs without one: the
  // versions that superseded the records it drops must be durable (else a
  // power loss loses both). Waits for the log to be durable up to `p` by
  // the database's own syncs, for at most kDurablePatience and only in a
  // background pass that no writer waits for (patient_, no stall, not
  // closing); otherwise, or then, syncs the log (SyncAll).
  Status AwaitDurable(const LogPosition& p);
  // Puts the kept records of ordered namespaces in key order, each
  // namespace's together after every other record (which keep their
  // order): a range scan then reads the output front to back. Sealed
  // (encrypted) records keep their order: their keys are ciphertext.
  // Returns how many records it sorted.
  size_t SortForScans(Plan* plan) const;
  // Segment::key_order of `s`: cached on the segment once known, found by
  // a scan of the segment otherwise. REQUIRES run_mu_.
  uint8_t KeyOrderOf(Segment* s);
  // For a full compaction: groups of segments whose records of ordered
  // namespaces a pass each should merge into one output in key order (a
  // bulk load in random key order, or several sorted runs whose ranges
  // interleave); a group is at most ClusterBytes() of segments.
  std::vector<std::vector<std::shared_ptr<Segment>>> PickClusters();
  uint64_t ClusterBytes() const;
  // An output that kept no record (its two markers only): taken along by
  // every pass, never picked alone.
  static bool MarkerOnly(const Segment& s);
  // A compaction output of at most kRiderBytes of records with dead bytes,
  // that a pass may take (sealed, not held, not known damaged): taken
  // along by every pass (RunPass, "riders"), never the reason for one.
  // REQUIRES run_mu_.
  bool SmallReclaimable(const Segment& s) const;
  static constexpr uint64_t kRiderBytes = 16 << 10;
  static constexpr uint64_t kRidersPerPass = 64 << 10;
  // The ids an output names as replaced (its kCompactInputs list).
  std::string ReplacedIds(const Plan& plan) const;
  // Takes the inputs out of the segment table and retires their files,
  // dropping the plan's references to them (plan->inputs is left empty);
  // `written`: bytes of the output that replaces them (0: none).
  // REQUIRES the host's retire mutex.
  Status RetireInputs(Plan* plan, uint64_t written);
  // Holds `seg` (Segment::compact_hold) for a snapshot at or below
  // `needed_at` that may read a version in it; not, or no longer, if no
  // such snapshot is left once the hold is set (a release during the pass
  // cleared no hold set after it). REQUIRES run_mu_.
  void HoldFor(Segment* seg, uint64_t needed_at);
  // Under the retire mutex, the output added: the kept create records'
  // copies that count live move to the output (NamespaceInfo::create_loc).
  void MoveCreateCopies(const Plan& plan);
  // Sleeps so that output is written at compact_rate, unless behind_.
  void Throttle(uint64_t bytes);
  // The log bytes at which writes stall, for `live` live bytes.
  uint64_t StallLimit(uint64_t live) const;
  void SetStalled(bool on);

  CompactionHost* const host_;
  std::mutex run_mu_;  // one pass at a time
  // firkin_compact calls waiting for run_mu_: the background loop gives way
  // to them between passes and does not start a round while one waits
  // (std::mutex is not fair: the loop, poked by every roll beside busy
  // writers, took it back again and again, and a firkin_compact waited
  // 20 s and more).
  std::atomic<int> callers_waiting_{0};
  // Whether a record of the key with hash h older than seq lies in
  // `outside` (ascending smallest number): kNone for sure (by their numbers
  // or their key filters); kMaybe if some filters may hold it (they are
  // added to *may, if given); kUnknown if it cannot be told (a segment not
  // sealed, or too many to ask). REQUIRES run_mu_.
  enum class Older { kNone, kMaybe, kUnknown };
  // Whether no segment of `outside` (ascending smallest number) can hold a
  // record of namespace ns_id numbered below `below`, for sure: by their
  // numbers, by their ids (none below `floor`, its NamespaceInfo::seg_floor,
  // holds one), or by their namespace lists (key_filters.h). Every segment
  // that may is asked; false if one holds it, cannot tell, or has no list
  // yet and the pass made its kNsListScans lists (ns_scans_left_; the next
  // pass makes more), or the database is closing. REQUIRES run_mu_.
  bool NamespaceGoneOutside(const std::vector<std::shared_ptr<Segment>>& outside, uint32_t ns_id,
                            uint64_t below, uint64_t floor);
  // Under run_mu_: the namespace lists of segments (scans) the pass being
  // planned may still make (all of them in CompactAll).
  static constexpr size_t kNsListScans = 64;
  size_t ns_scans_left_ = 0;
  // Whether a sealed segment of `outside` (ascending smallest number; the
  // newest first, past the 4 newest within ns_scans_left_) holds a record of a namespace id above `id`, for
  // sure: that record, durable, keeps every open's next id above `id`.
  // REQUIRES run_mu_.
  bool HigherNamespaceOutside(const std::vector<std::shared_ptr<Segment>>& outside, uint32_t id);
  Older OlderOutside(const std::vector<std::shared_ptr<Segment>>& outside, uint64_t h,
                     uint64_t seq, std::vector<std::shared_ptr<Segment>>* may);
  // The bytes of seg's tombstones and expired puts BuildPlan would drop
  // with `outside` (ascending) left out of the pass (*maybe: those only
  // VerifyMaybes could tell); *recheck lowered to the expiry of a put not
  // expired yet; *damaged on a bad record. REQUIRES run_mu_.
  uint64_t SweepScan(Segment& seg, const std::vector<std::shared_ptr<Segment>>& outside,
                     uint64_t s_min, uint64_t* recheck, bool* damaged, uint64_t* maybe);
  // A scan of this pass found a record of `s` damaged (every scan of
  // compaction checks every checksum, also in segments this process
  // wrote: damage can come after): reads stop relying on it
  // (Segment::checked cleared) and background passes leave it alone
  // (KnownDamaged), so the rest of the log is still compacted; a full
  // compaction (firkin_compact) takes it and reports the corruption.
  // REQUIRES run_mu_.
  void NoteDamaged(Segment* s);
  bool KnownDamaged(const Segment& s) const;
  // Under run_mu_: ids of the segments NoteDamaged saw (ids are never
  // reused; such a segment stays until a salvage open).
  std::set<uint64_t> damaged_;
  // A kept absent record (tombstone or expired put) whose key the filters
  // of `may_hold` may hold: its place in Plan::keep, number and expiry.
  struct Maybe {
    size_t keep;
    uint64_t seq;
    uint64_t expiry;
  };
  // When the maybes are a share of the plan's output (1 / kMaybeShare) or
  // in CompactAll: scans may_hold for their keys' hashes and moves those
  // with no older record there from keep to the drops.
  Status VerifyMaybes(const std::vector<std::shared_ptr<Segment>>& may_hold,
                      std::vector<Maybe>* maybes, Plan* plan, uint64_t* absent_max);
  static constexpr uint64_t kMaybeShare = 4;
  // Under run_mu_: set while CompactAll runs (VerifyMaybes always scans).
  bool exhaustive_ = false;

  // Under run_mu_: the key filters of sealed segments (key_filters.h),
  // made at first use.
  SegmentKeyFilters* Filters();
  void NoteFilters();  // their size into stats_
  std::unique_ptr<SegmentKeyFilters> filters_;
  // Under run_mu_: the last scan of the oldest group (its segments' ids
  // combined, segments retired and the oldest snapshot then).
  uint64_t swept_key_ = 0, swept_retired_ = 0, swept_smin_ = 0;
  // Under run_mu_: outputs a pass left tombstones or expired puts in, by
  // id, with what their last sweep scan saw (UINT64_MAX: not scanned yet).
  struct AbsentKept {
    uint64_t retired = UINT64_MAX, s_min = UINT64_MAX, recheck_ms = 0;
  };
  std::map<uint64_t, AbsentKept> absent_kept_;
  // Under run_mu_: ids of sealed segments a sweep scan read whole and found
  // no tombstone and no put with an expiry in. Their records can never be
  // dropped as absent (a sealed segment's records never change type or
  // expiry: an update in place goes only into the active segment, and keeps
  // a plain put a plain put), so sweeps pass over them without a scan.
  // Pruned to the segments there are (PickTombstoneSweep).
  std::set<uint64_t> sweep_clean_;
  // Under run_mu_: outputs a pass left a dropped namespace's records in
  // (counted dead), by id, with ns_progress_ when it was made, those
  // dead bytes (PickCandidates), the namespaces whose records it kept, and
  // how many partner passes in a row made it (PickNsPartners); and how
  // many segments passes retired that were not such outputs.
  struct NsKept {
    uint64_t retired = 0, dead = 0;
    std::vector<uint32_t> ids;
    uint32_t partner_gen = 0;
    std::vector<uint32_t> creates;  // of ids, those whose create record it kept
    // Found by SeedNsKept (not made by a pass of this process): dead is
    // UINT64_MAX (PickCandidates never waits on it), creates is every id
    // (which records it holds is not known), and its retirement counts as
    // progress (ns_progress_), as any segment's that no pass kept
    // namespace records in.
    bool seeded = false;
  };
  std::map<uint64_t, NsKept> ns_kept_;
  uint64_t ns_progress_ = 0;
  // When a background pick finds nothing else to do: an output of ns_kept_
  // (the oldest first) taken again with the segments that hold the other
  // records of its namespaces (their partners: a create record's drop, or
  // the reverse), as many as one output holds, smallest first, copying at
  // most kPartnerBytesPerNs of their live bytes per namespace of it (a
  // cold segment is not rewritten for a few records); none if
  // one of them cannot be taken (not sealed, held, damaged), or no
  // partner is known. Such an output waits otherwise for another segment
  // to retire (ns_progress_), which on a database whose writes stopped is
  // never: until 2026-11-29 it and the namespaces stayed for good
  // (ns_churn_test idle_split). Each such pass has every record of some
  // of those namespaces among its inputs and replaces at least two
  // segments holding records of dropped namespaces with one, so on an
  // idle database they end; kMaxPartnerGen passes in a row at most for a
  // line of outputs, and no new look while no segment retired or sealed
  // since the last one that found nothing (partners_looked_).
  // REQUIRES run_mu_.
  std::vector<std::shared_ptr<Segment>> PickNsPartners(uint64_t change_floor);
  // After an open, ns_kept_ is empty: which segments hold records of the
  // dropped namespaces the table holds was known to the process that
  // wrote them only. Until 2026-11-29 an output that kept create records
  // while their drops were not durable yet (or drop records beside live
  // values) then waited for its dead ratio, beside live values for good:
  // 200-odd namespaces stayed held through 30 s of background compaction
  // after a reopen (ns_churn_test split_reopen). This finds them: every
  // sealed segment that may hold a record of a dropped namespace (the
  // namespace lists of the key filters; below its drop, from its
  // seg_floor) gets an entry (seeded), which PickNsPartners then takes
  // with its partners as any output's. Called by PickNsPartners while
  // ns_seed_pending_; makes at most kNsListScans lists a call and goes on
  // at the next until one walk needed no more (every list made, or a
  // segment not sealed, which holds none of a namespace dropped before
  // the open: its numbers are above every drop's). Returns whether it
  // added an entry. REQUIRES run_mu_.
  bool SeedNsKept();
  bool ns_seed_pending_ = true;
  static constexpr uint32_t kMaxPartnerGen = 8;
  static constexpr uint64_t kPartnerBytesPerNs = 16 << 10;
  // Under run_mu_: the pass about to run is a partner pass of this
  // generation (0: not one); set by PickNsPartners, taken by RunPassSteps.
  uint32_t partner_gen_next_ = 0, partner_gen_ = 0;
  // Under run_mu_: segments retired and sealed at the last look of
  // PickNsPartners that found nothing.
  std::pair<uint64_t, uint64_t> partners_looked_{UINT64_MAX, UINT64_MAX};
  // Under run_mu_: the earliest expiry of a put the last sweep scan found
  // not yet expired (UINT64_MAX: none); the same scan is done again once
  // it has passed.
  uint64_t swept_recheck_ms_ = UINT64_MAX;
  // Under run_mu_: the last pick found the log over compact_space_amp of
  // the live data. The pass then runs unthrottled: compact_rate spares the
  // foreground while compaction keeps up, but a log that outgrows its
  // space bound (steady updates) must be caught up with, or the disk fills
  // and every new segment is a fresh file (no recycling).
  bool behind_ = false;
  // Under run_mu_: the pass runs in the background loop (AwaitDurable may
  // wait); false in a full compaction, which its caller waits for.
  bool patient_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool poked_ = false;
  // Set by Stop before it waits: a pass still scanning its inputs
  // (BuildPlan, which changes nothing) gives up, so closing the database
  // does not wait for a whole pass over 64 MiB segments.
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stalled_{false};
  std::mutex stall_mu_;  // guards nothing but the wait on stall_cv_
  std::condition_variable stall_cv_;
  std::thread thread_;
  CompactionStats stats_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_COMPACT_COMPACTOR_H_
