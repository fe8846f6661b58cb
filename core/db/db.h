// DB: the database facade (DESIGN §1). Open/close, the read path, the
// concurrent write path (write_path.cc: per-key decisions under the key's
// index sub-table lock, lock-free log reservation, parallel copies,
// in-order publication, group commit), namespaces, snapshots, iterators
// and stats.
//
// Thread contract: every public method may be called from any number of
// threads at once. Reads are lock-free (epoch-protected) and never wait for
// writers (a read-only handle's read that its refresh under way leaves
// unanswerable waits for that refresh before it fails: AwaitRefresh).
// Writers run in parallel; two writes wait for each other only
// when their keys share an index sub-table lock (1/1024 of the key space)
// for the tens of nanoseconds of a condition check and an install, and an
// acknowledged write waits until every write with a smaller sequence number
// is complete. Close() must be called by the last user (no call may be in
// flight); the destructor calls it if needed.
#ifndef FIRKIN_CORE_DB_DB_H_
#define FIRKIN_CORE_DB_DB_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/keyspace/keyspace.h"
#include "core/keyspace/namespaces.h"
#include "core/keyspace/options.h"
#include "core/db/changes.h"
#include "core/db/reader_view.h"
#include "core/db/write_batch.h"
#include "core/db/writer_gate.h"
#include "core/util/striped_counter.h"
#include "core/compact/compaction_host.h"
#include "core/env/env.h"
#include "core/log/format.h"
#include "core/log/log_writer.h"
#include "core/log/record_codec.h"
#include "core/recovery/recovery.h"
#include "core/recovery/scrubber.h"

namespace firkin {

class Iterator;
class Txn;
class OrderedIterator;
struct OrderedRange;
struct TxnOverlay;
class Compactor;
struct BackupOptions;
struct BackupReport;
class Follower;

// A snapshot sequence number meaning "the latest published state".
constexpr uint64_t kLatestSeq = UINT64_MAX;

// Progress of a long call (Compact, Verify): bytes done and in all.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

class DB : private CompactionHost {
 public:
  // Opens or creates the database in `path` (see firkin_open).
  static Status Open(const std::string& path, const Options& options, std::unique_ptr<DB>* out);
  // ---- encryption at rest (encryption.cc) ----
  // Offline key rotation (firkin_rekey): takes the writer lock, unwraps the
  // data key with old_opts' key or passphrase and wraps it again under
  // new_opts' (KEYS replaced atomically). The data key itself, and so every
  // sealed byte on disk, stays the same.
  static Status Rekey(const std::string& path, const Options& old_opts, const Options& new_opts);
  // Whether the database is encrypted (identity feature bit).
  bool encrypted() const { return identity_.encrypted(); }
  ~DB();
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  // Seals the log, syncs, releases the lock. Idempotent; returns the first
  // error. REQUIRES: no other call in flight.
  Status Close();

  // ---- reads ----
  // The sequence number reads see by default.
  uint64_t LastSeq() const override {
    return log_ != nullptr ? log_->published_seq() : reader_seq_.load(std::memory_order_acquire);
  }
  // LastSeq once every update in place that has returned is published too:
  // such a put returns before the numbers below its own complete
  // (docs/write_path.md, "Overwrites that do not wait"), so the published
  // number may still be below it. Every acknowledged write is at or below
  // this one (firkin_last_seq). Any thread; may wait for the writes in
  // flight before the newest overwrite (microseconds).
  uint64_t AcknowledgedSeq() const;
  // Finds the version of (ns, key) visible at snap (kLatestSeq = latest): OK with
  // *out set to the record (a put), kNotFound, kSnapshotTooOld, kCorruption.
  // Expiry is decided at `now_ms` (0: the clock now; an iterator passes
  // the time it was made). REQUIRES: the caller holds an Epoch::Guard while
  // it uses *out.
  Status Get(uint64_t snap, const NamespaceInfo& ns, std::string_view key, RecordView* out,
             uint64_t now_ms = 0) const;
  // Keys of ns at the latest state, expired ones (TTL) not counted, as of
  // one state (an atomic batch whole or not at all): the namespace's
  // counter while no key of it can have expired yet, else a walk of the
  // index at a snapshot of the published state (read_path.cc). Any thread
  // not inside a write, nor holding refresh_mu_ (a read-only handle's walk
  // that a refresh overlapped twice walks again holding it).
  uint64_t CountKeys(const NamespaceInfo& ns) const;
  // CountKeys of m namespaces into out[0, m), all of one state: their
  // counters read together (NamespaceTable::counts_lock), or, when any
  // needs a walk, one walk of the index for all (stats: one per namespace
  // made it namespaces x keys).
  void CountKeys(const NamespaceInfo* const* nss, size_t m, uint64_t* out) const;
  // The value of a put record found by Get (or any reader): a view into
  // the record, or (compressed) decoded into *scratch. kCorruption if it
  // does not decode. Any thread; same Epoch::Guard rule as Get.
  Status Value(const RecordView& r, std::string* scratch, std::string_view* out) const {
    return codec_.Value(r, scratch, out);
  }
  // The record codec (record_codec.h): how values are stored and read.
  const RecordCodec& codec() const { return codec_; }

  // ---- clock, TTL and time travel (clock.cc, time_travel.cc) ----
  // The database's clock: one per database (Options::clock, else the
  // system's real-time clock), never behind the newest commit time, so
  // expiry decisions never go back when the clock does. Any thread.
  uint64_t NowMs() const;
  // An iterator's clock (scan_clock.h): the time it decides expiry by,
  // registered until Unpin so that compaction keeps every put that had not
  // expired then (ExpiryHorizonMs). Any thread.
  uint64_t PinScanClock() const;
  void UnpinScanClock(uint64_t ms) const;
  // The sequence number of the state as of unix_ms (firkin_snapshot_at_time):
  // the longest run of numbers from the start whose commit times are all
  // <= unix_ms (0: before the first write); a later time gives the latest
  // state. Waits for the writes in flight (a write takes its number before
  // it reads the clock: one stamped at or before unix_ms may not be
  // published yet), so the answer for a time does not change later.
  // kSnapshotTooOld when the log that would tell is no longer kept. Any
  // thread not inside the writer gate.
  Status SeqAtTime(uint64_t unix_ms, uint64_t* seq);
  // The oldest time from which SeqAtTime can answer every time (0: every
  // time since the database was created; UINT64_MAX: none, e.g. no log
  // left, or compaction retired the newest log segments and kept an older
  // one). Any thread.
  uint64_t OldestReadableTime() const;
  // One version of a key, for the history iterator.
  struct Version {
    uint64_t seq;
    uint64_t time_ms;    // 0 = unknown (written before format version 3)
    uint64_t expiry_ms;  // 0 = none
    bool is_delete;
    // The value as stored, unsealed: compressed when codec (the record's
    // codec flags) is not 0; RecordCodec::DecodeStored(codec, seq, value,
    // ...) gives the value as written (it was checked to decode).
    std::string value;
    uint8_t codec = 0;
  };
  // The versions of (ns, key) newest first, as far back as the chain is
  // kept; *truncated says whether older versions existed but are gone.
  // Compressed values are checked to decode and kept compressed (a
  // history of many versions of a large compressible value holds their
  // stored bytes, not their decoded ones). Any thread.
  Status History(const NamespaceInfo& ns, std::string_view key, std::vector<Version>* out,
                 bool* truncated) const;

  // ---- writes ----
  // Applies ops (one op, or an atomic batch) as one write. *seq_out (may be
  // null) receives its sequence number, 0 if it wrote nothing.
  Status Write(SyncMode sync, const WriteOp* ops, size_t n, bool atomic,
               uint64_t* seq_out = nullptr);
  // flags: kNsFlag* (namespaces.h). An existing namespace is returned
  // (exist_ok) whatever its flags: the caller checks them.
  Status CreateNamespace(const std::string& name, bool exist_ok,
                         std::shared_ptr<NamespaceInfo>* out, uint32_t flags = 0);
  Status DropNamespace(const std::string& name);
  // Makes writes to ns tracked for serializable transactions that iterate
  // it (ns_write_tracker.h); the first call per namespace drains the writes
  // in flight. Any thread, not from inside a write.
  void TrackWrites(NamespaceInfo* ns);
  Status Sync();
  // A call that wrote nothing because what it asked for holds already (a
  // delete of an absent key, firkin_persist of a key with no expiry, an
  // existing namespace with exist_ok) decided on records that may not be
  // durable yet: in sync mode `always` (kDefault: the database's) it
  // returns once every published record is (docs/api.md: `always` loses
  // nothing acknowledged; until 2026-11-29 such calls returned at once,
  // and a power loss brought back the state they had confirmed gone;
  // found by review). REQUIRES: the records decided on are published.
  Status SyncDecided(SyncMode sync);
  // An allocation failed inside a write's apply (outside the catches of
  // its own): the write fails with NO_MEMORY, and, if it had reserved log
  // space, the reservation is filled with a record that writes nothing and
  // the log fails (write_path.cc). Needs no memory.
  Status OutOfMemoryInWrite(const LogWriter::Reservation& r);
  // Close's work on the log: the seal, the directory sync, the checkpoint
  // (may throw bad_alloc; Close catches it).
  Status CloseLog();
  // Stops and joins the background threads (scrubber, compactor, interval
  // flusher), those started so far: Close's first step, and a failed
  // open's (which flushes nothing). Never throws. Single-threaded: the
  // handle is being closed.
  void StopBackground();
  // Compacts every sealed segment with dead bytes now (firkin_compact).
  // `progress` (may be empty): see Compactor::CompactAll.
  Status Compact(const ProgressFn& progress = {});
  // Writes an index checkpoint now (firkin_checkpoint).
  Status Checkpoint();
  // Verifies records and index (firkin_verify); *report is JSON.
  // `progress` (may be empty): called on this thread with the record bytes
  // checked so far and in all (log segments), done == total last.
  Status Verify(std::string* report, const ProgressFn& progress = {});
  // Online backup into `dest` as of one snapshot (backup.h, firkin_backup).
  // Any thread, while writers write; also on a read-only handle.
  Status Backup(const std::string& dest, const BackupOptions& options, BackupReport* report);
  // Read-only handle: moves to the durable state of the writer process that
  // has (or had) the database open (firkin_refresh); a no-op on a writable
  // handle (always at its latest state). Serialized with
  // itself; reads in other threads go on meanwhile and see the old state
  // until the new one is complete.
  Status Refresh();
  // OK, or NO_MEMORY once a refresh ran out of memory where it could not
  // take its work back (reader.cc): the handle then fails every refresh
  // and read until it is reopened.
  Status ReaderBroken() const;

  // ---- namespaces ----
  const NamespaceTable& namespaces() const { return ns_; }

  // ---- snapshots ----
  // Registers a snapshot at seq (kLatestSeq = latest); returns its seq. Fails with
  // kInvalidArgument if seq is in the future. (Const: a registration
  // changes no state a read sees; CountKeys holds one while it walks.)
  Status AcquireSnapshot(uint64_t seq, uint64_t* out) const;
  void ReleaseSnapshot(uint64_t seq) const;
  // A counting walk's snapshot (CountKeys): the latest state, registered
  // as AcquireSnapshot's (compaction keeps what it sees), but updates in
  // place go on beside it, of records numbered above it
  // (LogWriter::SetCountFloor): its holder reads whether keys exist at it,
  // never their values. Released with ReleaseCountSnapshot.
  Status AcquireCountSnapshot(uint64_t* out) const;
  void ReleaseCountSnapshot(uint64_t seq) const;
  // The oldest registered counting walk's snapshot (UINT64_MAX if none):
  // compaction copies no record updated in place above it (the copy's
  // prev would say its history is gone, which such a walk still reads).
  uint64_t OldestCountSnapshot() const override;
  bool OldestIsCountWalk(uint64_t s_min) const override;
  // A holder of old versions (snapshot, change cursor, backup, verify)
  // turns in-place updates off while it lives (LogWriter::Block). Any
  // thread; no-ops on a read-only handle.
  void BlockInPlace() const {
    if (log_ != nullptr) log_->Block();
  }
  void UnblockInPlace() const {
    if (log_ != nullptr) log_->Unblock();
  }
  // Scoped BlockInPlace.
  class InPlaceBlock {
   public:
    explicit InPlaceBlock(const DB* db) : db_(db) { db_->BlockInPlace(); }
    ~InPlaceBlock() { db_->UnblockInPlace(); }
    InPlaceBlock(const InPlaceBlock&) = delete;
    InPlaceBlock& operator=(const InPlaceBlock&) = delete;

   private:
    const DB* db_;
  };
  // Oldest registered snapshot, or LastSeq() if none.
  uint64_t OldestSnapshot() const override;
  uint64_t ExpiryHorizonMs() const override;
  void HistoryDropped(uint64_t history, uint64_t absent) override;
  uint64_t HistoryFloor() const override {
    return history_floor_.load(std::memory_order_acquire);
  }
  bool HasSnapshots() const override {
    if (options_.history_retention_ms != 0) return true;  // retention holds history
    std::lock_guard<std::mutex> l(snap_mu_);
    return !snapshots_.empty();
  }

  // ---- transactions (txn.cc) ----
  // Every open Txn is registered from Begin to its destruction.
  void RegisterTxn(Txn* t);
  void UnregisterTxn(Txn* t);
  // Expires the registered transactions older than txn_max_age_ms that no
  // call is using (Txn::ExpireIfOlder); returns how many. Any thread.
  size_t ReapTxns() const override;

  // ---- iteration, stats ----
  // An iterator over ns at snap (must be registered by the caller).
  Status NewIterator(uint64_t snap, std::shared_ptr<NamespaceInfo> ns,
                     std::unique_ptr<Iterator>* out);
  // An ordered iterator over ns at snap (ordered_iterator.h); ns must be
  // ordered (else kInvalidArgument). `overlay` (may be null): a
  // transaction's own writes to merge in.
  Status NewOrderedIterator(uint64_t snap, std::shared_ptr<NamespaceInfo> ns,
                            const OrderedRange& range, std::unique_ptr<TxnOverlay> overlay,
                            std::unique_ptr<OrderedIterator>* out);
  Status StatsJson(std::string* out) const;
  // Whether checkpoint_every bytes were written since the last checkpoint.
  bool CheckpointDue() const override;
  bool read_only() const { return options_.read_only; }
  // Whether reads check the checksum of every record, also of those known
  // intact (see check_all_reads_).
  bool check_all_reads() const { return check_all_reads_; }
  // Whether a read may rely on record r (Keyspace::Trusted: intact, and a
  // sealed record of a segment not validated yet authenticated).
  bool Trusted(const RecordView& r) const { return keyspace_->Trusted(r, check_all_reads_); }
  // The codec a scan of s authenticates sealed records with (Keyspace::AuthFor).
  const RecordCodec* AuthFor(const Segment& s) const { return keyspace_->AuthFor(s); }
  // Read-only handle: a snapshot below this can no longer be told (a
  // refresh dropped segments the writer had retired). Writer: compaction
  // may have dropped versions a snapshot below this needs (history_floor_).
  uint64_t history_floor() const { return history_floor_.load(std::memory_order_acquire); }
  // Writer: a key a snapshot below this reads as absent may have been
  // there (absent_floor_).
  uint64_t absent_floor() const { return absent_floor_.load(std::memory_order_acquire); }
  // Read-only handle: a scan of a state below this cannot be told whole.
  uint64_t reader_scan_floor() const {
    return reader_scan_floor_.load(std::memory_order_acquire);
  }
  // Writer: whether a scan of the state at `snap` (an iterator) could miss
  // a key whose versions compaction dropped or an update in place replaced
  // (then it must say SnapshotTooOld). Call with in-place updates blocked.
  bool ScanInexact(uint64_t snap) const;

  // ---- read-only handles (reader.cc) ----
  using ReaderView = firkin::ReaderView;
  // Read-only handle: LastSeq() into *seq and a view in which every record
  // numbered up to it lies below its segment's end (the view of the
  // refresh that published *seq, or of a later one: a refresh publishes
  // its view before its number). A refresh under way raises lengths and
  // lists segments before it publishes its number, so the live segment
  // list is no such cut (change cursors, 2026-11-29 review). nullptr on a
  // writable handle. Any thread.
  std::shared_ptr<const ReaderView> ReaderCut(uint64_t* seq) const {
    if (!options_.read_only) return nullptr;
    *seq = reader_seq_.load(std::memory_order_acquire);  // first: see above
    return reader_view();
  }

  // Read-only handle: a read of the state at `snap` (kLatestSeq: the
  // latest) calls this before it ends with kSnapshotTooOld. A refresh
  // changes the index before it publishes its number: it installs the
  // records it replays (a key's chain from one of them back to the
  // published number may lead into a segment an earlier refresh dropped:
  // the writer wrote it before compaction moved the key's version), and
  // in its cut it raises its floors and takes out the entries and
  // segments only older states need. A read of the published state that
  // meets that would fail while its state is still the published one,
  // against firkin_refresh's promise (other threads see the old state
  // until the refresh is complete). So while snap is not below the
  // published number and the refresh under way when this is called runs,
  // this waits (spins, yields, then sleeps 50 us at a time); then the
  // read's state is an older one and its failure stands (a read of the
  // latest state reads again, at the new state). Returns at once on a
  // writable handle, for a snapshot older than the published state, or
  // with no refresh under way. Any thread but the refreshing one, holding
  // nothing a refresh waits for (refresh_mu_: a count walk that holds it
  // has no refresh to wait for; an Epoch::Guard may be held: a refresh
  // never waits for guards, Epoch::Retire only defers). Until 2026-11-29
  // such reads failed at once (readers_test refresh_floors).
  void AwaitRefresh(uint64_t snap) const;

  // ---- change feed (changes.cc) ----
  // The log writer's segments (not compaction outputs), in id order.
  std::vector<std::shared_ptr<Segment>> LogSegments() const;
  // The oldest change still retained (LastSeq() + 1 if none): a change
  // cursor may start from any since_seq >= it - 1.
  uint64_t OldestChangeSeq() const;
  // CompactionHost: see compaction_host.h.
  uint64_t ChangeRetentionSegmentFloor() const override;
  ChangeNotifier& change_notifier() { return change_notifier_; }
  const Options& options() const override { return options_; }

 private:
  // One operation resolved against the newest state, under its key's lock.
  struct PendingOp {
    const WriteOp* op;
    uint64_t hash;
    Locator old_loc;
    RecordView old;
  };

  DB(std::string path, const Options& options, Env* env);
  // Get without waiting out a read-only handle's refresh (read_path.cc).
  Status GetFloored(uint64_t snap, const NamespaceInfo& ns, std::string_view key,
                    RecordView* out, uint64_t now_ms) const;
  // Get without the read-only handle's history floor check (read_path.cc).
  Status GetAt(uint64_t snap, const NamespaceInfo& ns, std::string_view key,
               RecordView* out, uint64_t now_ms = 0) const;
  Status OpenImpl();
  // Builds the ordered namespaces' indexes from the hash index (open).
  void BuildOrderedIndexes();
  Status CreateIdentity();
  // encryption.cc: checks the key against the identity and sets
  // options_.cipher from KEYS (CheckKeys), or writes a new KEYS for a new
  // encrypted database (CreateKeys).
  Status CheckKeys();
  Status CreateKeys();
  // A writer, holding LOCK: rewrites KEYS from its intact copy when the
  // other is damaged (best effort: on failure KEYS stays as it was, and
  // verify reports the damaged copy). Counts a repair that was written in
  // keys_repaired_ (firkin_stats "recovery" -> "keys_repaired").
  void RepairKeys();
  // Verify: the damaged copy of KEYS, as a problem ("" when none).
  std::string KeysProblem() const;

  // write_path.cc. Each fills *r when it reserved log space (the caller
  // then publishes it, whatever the status) and leaves r->seg null if not.
  // may_in_place: the write's sync mode allows an in-place update
  // (in_place.cc). *decided_on: raised to the sequence number of every
  // newest record a condition, or a delete with nothing to delete, was
  // decided on (the caller waits for its publication when nothing was
  // written, DB::Write).
  Status ApplyOne(const WriteOp& op, LogWriter::Reservation* r, bool may_in_place,
                  uint64_t* decided_on);
  // in_place.cc: overwrites the key's newest record in place if it may
  // (see there); true if it did (then *r holds the sequence number taken,
  // to publish). REQUIRES: op is an unconditional put; its key's lock held.
  bool TryInPlace(const WriteOp& op, uint64_t hash, LogWriter::Reservation* r);
  Status ApplyBatch(const WriteOp* ops, size_t n, LogWriter::Reservation* r,
                    uint64_t* decided_on);
  // ApplyBatch's undo when its install ran out of memory part way: the
  // first `tried` ops of `todo` (the last of them the one that threw,
  // installed in part or not at all), whose records are at `locs`
  // (ascending), leave the index as it was before the batch: each key's
  // entry back at its old record (or gone, for a key that was new), the
  // byte counts moved back (Keyspace::Uninstall), and the entries of the
  // ordered namespaces among them (OrderedIndex::TakeBack, one walk per
  // namespace). Never allocates, never throws. REQUIRES: the batch's
  // sub-table locks, held since the install (no other writer decided on
  // these keys in between; a reader that met a new entry skipped its
  // record, not yet published, as it skips any), and the batch not
  // published yet. (Also a single write's, whose install threw: todo and
  // locs of one.)
  void TakeBackBatch(const PendingOp* todo, size_t tried, const Locator* locs) noexcept;
  // Checks op's condition against the key's newest record (old_loc/old);
  // a record expired at now_ms counts as absent.
  Status CheckCondition(const WriteOp& op, Locator old_loc, const RecordView& old,
                        uint64_t now_ms) const;
  // Compresses the values of ops' puts where the codec says so: *out gets
  // copies of ops whose values are the stored bytes (and codec_flags set),
  // the compressed bytes live in *bufs. False (nothing to do): use ops.
  // *logical and *stored get the puts' value bytes before and after (for
  // the stats, counted once the write has committed).
  bool EncodeValues(const WriteOp* ops, size_t n, std::vector<WriteOp>* out,
                    std::vector<std::string>* bufs, uint64_t* logical, uint64_t* stored);
  // The key's newest record is a put that has not expired.
  // (At now_ms, when the write was decided.)
  bool OldIsLive(const PendingOp& p, uint64_t now_ms) const {
    const uint64_t e = p.old.expiry();
    return p.old_loc != 0 && p.old.type == RecordType::kPut && (e == 0 || e > now_ms);
  }
  // The log bytes op's record takes (commit time and expiry included).
  size_t OpRecordSize(const WriteOp& op) const;
  // The expiry of p's newest record if op was decided at now_ms on that
  // version being live (a condition, a delete), else UINT64_MAX: the write
  // must commit before it.
  uint64_t LiveUntil(const WriteOp& op, const PendingOp& p, uint64_t now_ms) const;
  // The commit time of a write into seg that must commit before
  // live_until, read after its log reservation (CommitTimeMs), moved back
  // if need be (not below seg's time floor).
  uint64_t CommitTimeBefore(uint64_t live_until, const Segment& seg);
  // Fills r (one write's reservation, published as usual) with a record
  // that writes nothing: a write decided again after its reservation
  // that no longer holds (a CAS whose version expired meanwhile).
  void FillWithoutWrite(const LogWriter::Reservation& r, uint64_t time_ms);
  // Encodes a data record (put, delete, namespace record) at dst in seg,
  // sealed when the database is encrypted. Returns its size.
  size_t EncodeDataRecord(const RecordFields& f, char* dst, const Segment* seg) const;
  // The commit time of a write being made now: NowMs(), and raises the
  // newest commit time to it (monotonic within the database).
  uint64_t CommitTimeMs();
  // The system clock or the injected one (Options::clock).
  uint64_t RawClockMs() const;
  // time_travel.cc: commit times of log segments (0 = unknown / none).
  // The newest commit time the files hold: the log segments' newest record
  // and the compaction outputs' done markers (which keep their inputs').
  // *scanned (if given) gets the bytes of log records it read for it
  // (firkin_stats "recovery": "clock_scan_bytes").
  uint64_t NewestCommitTime(uint64_t* scanned = nullptr) const;
  // A writable open's: writes seal clock `ms` (the open's NewestCommitTime)
  // into the newest log segments that have none (the tail a crash left,
  // and any empty ones after it), so that later opens take it from there
  // instead of reading the tail again (time_travel.cc).
  Status RecordTailClock(uint64_t ms);
  // (*overwritten, if given: records before the one it read were updated
  // in place, so earlier commits' times are unknown. *found, if given:
  // whether a record not updated in place was read; 0 is returned when
  // none was, and for a record with no time, before format version 3.
  // *damaged, if given: a damaged record before the one it read was passed
  // over, its time unknown.)
  uint64_t FirstRecordTime(const Segment& s, bool* overwritten = nullptr,
                           bool* found = nullptr, bool* damaged = nullptr) const;
  // The message of a time SeqAtTime cannot answer for damage in s.
  static std::string UnknownTimeAt(const Segment& s, uint64_t unix_ms);
  // Whether r's commit time is not to be believed: in an encrypted
  // database, an unsealed commit record's (its checksum is no defence
  // against a forged time; the batch's sealed records carry the time).
  bool ForgeableTime(const RecordView& r) const;
  // SeqAtTime's lookup in the log for a time before now, as of the writes
  // published so far (HistoryRetentionSeq, on compaction's thread, does
  // not wait for the writes in flight).
  Status ScanSeqAtTime(uint64_t unix_ms, uint64_t* seq) const;
  // (*scanned, if given, grows by the bytes of records read: here and below.)
  // `last_seq` (0: not known): the number the record that ends s must have
  // (the newest in the log): a record found ending the segment with
  // another number is not taken for it (the segment is read whole).
  uint64_t LastRecordTime(const Segment& s, uint64_t* scanned = nullptr,
                          uint64_t last_seq = 0) const;
  // The largest commit time of any record in s below `end` (UINT64_MAX:
  // its published length; 0: none), exact: read by a scan, kept in the
  // segment once it is sealed (a writer's, whole).
  uint64_t NewestRecordTime(const Segment& s, uint64_t end = UINT64_MAX,
                            uint64_t* scanned = nullptr) const;
  // Whether logs[i] (log segments in id order) holds a commit at time t or
  // later; reads its records only where the neighbours' times cannot tell.
  bool HoldsTimeFrom(const std::vector<std::shared_ptr<Segment>>& logs, size_t i,
                     uint64_t t) const;
  // The sequence number history retention keeps readable (UINT64_MAX if
  // history_retention_ms is 0), and the log segment id from which
  // compaction must keep log segments for it (UINT64_MAX: none).
  uint64_t HistoryRetentionSeq() const;
  uint64_t HistoryRetentionSegmentFloor() const;
  // For a conditional op: the newest record it is decided on is intact.
  Status CheckOldRecord(const WriteOp& op, const PendingOp& p) const;
  // Encodes a key record (or a batch's) at r and installs it in the index.
  void InstallPending(const PendingOp& p, uint64_t seq, uint8_t flags, char* dst, Locator loc,
                      uint64_t time_ms, NamespaceInfo::CountDelta* counts = nullptr);
  // The record of p at dst, its previous version at p.old_loc (0: none).
  size_t EncodePending(const PendingOp& p, uint64_t seq, uint8_t flags, char* dst, Locator loc,
                       uint64_t time_ms) const;
  // Points the index (and the counts) at the record EncodePending wrote.
  // With `counts`, the key's change to its namespace's counts is added
  // there instead (a batch applies them together).
  void InstallEncoded(const PendingOp& p, Locator loc, size_t size, uint64_t time_ms,
                      NamespaceInfo::CountDelta* counts = nullptr);
  // ApplyOne for an unconditional put (write_path.cc): false if the key's
  // tag has several index entries (then nothing was done).
  bool ApplyBlindPut(PendingOp* p, LogWriter::Reservation* r, Status* s);
  // size_out: the record's size, if given.
  Status AppendNamespaceRecord(RecordType type, uint32_t id, const std::string& name,
                               LogWriter::Reservation* r, uint32_t ns_flags = 0,
                               uint32_t* size_out = nullptr);
  Status FinishWrite(SyncMode sync, const LogWriter::Reservation& r, Status s);
  void PurgeNamespace(uint32_t ns_id);
  // The sequence number of the last record of a log segment.
  uint64_t SegmentLastSeq(const Segment& s) const;
  // Whether the log still holds every change up to `latest` at its end:
  // `newest`, the newest log segment with records, is the writer's active
  // one (it takes every later number), or ends at `latest` (its last
  // record's number, or one an update in place gave a record of it).
  // False where compaction retired the log segments after it and kept it:
  // the changes after it are only in outputs (changes.cc).
  bool LogReaches(const Segment& newest, uint64_t latest) const;
  void StartFlusher();
  void FlusherLoop();

  // CompactionHost (the narrow interface the compactor sees).
  Keyspace* keyspace() override { return keyspace_.get(); }
  const NamespaceTable& ns_table() const override { return ns_; }
  void ForgetNamespace(uint32_t id) override { ns_.Forget(id); }
  Env* env() override { return env_; }
  const std::string& dir() const override { return path_; }
  uint64_t db_id() const override { return identity_.db_id; }
  uint64_t AllocateSegmentId() override { return log_->AllocateSegmentId(); }
  Status RetireSegmentFile(const std::shared_ptr<Segment>& seg, uint64_t max_seq) override {
    return log_->Retire(seg, max_seq);
  }
  Status SyncAll() override {
    PublishInFlight();
    return Sync();
  }
  LogPosition PublishInFlight() override {
    // A write in flight may have installed index entries the compactor
    // saw: closing the gate once waits until every such write is published.
    gate_.RunExclusive([] {});
    return log_->PublishedPosition();
  }
  bool LogDurable(const LogPosition& p) const override { return log_->Durable(p); }
  Status CheckpointNow() override { return Checkpoint(); }
  Status FailOutOfMemory(const char* what) override { return log_->FailOutOfMemory(what); }
  std::mutex& retire_mutex() override { return retire_mu_; }

  const std::string path_;
  // Fixed after open; OpenImpl sets only options_.cipher (encryption.cc).
  Options options_;
  Env* const env_;
  RecordCodec codec_;  // its cipher is set at open (CheckKeys), then fixed
  // Damaged KEYS copies this open wrote over with the intact one
  // (RepairKeys, before the database is shared; read-only after).
  uint64_t keys_repaired_ = 0;
  std::unique_ptr<FileLock> lock_;
  Identity identity_;
  RecoveryResult recovery_;
  std::unique_ptr<Keyspace> keyspace_;
  NamespaceTable ns_;
  bool recycle_safe_ = false;  // LOCK existed (or the database is new): see OpenImpl
  // The LIVE file (in-place updates on; it outlives log_, which keeps the
  // published sequence number in it).
  std::unique_ptr<LiveFile> live_;
  std::unique_ptr<LogWriter> log_;
  std::unique_ptr<Compactor> compactor_;

  // Read-only handles (reader.cc): the state they see, and how it follows
  // a writer process.
  bool writer_seen_ = false;  // a writer held LOCK when the handle opened
  std::atomic<uint64_t> reader_seq_{0};
  std::atomic<uint64_t> history_floor_{0};
  // Read-only handle: a scan of a state below this cannot be told whole
  // (a refresh dropped segments the writer retired: Follower::Retire).
  // Raised in a refresh's cut, before any entry goes (ordered iterators
  // look at it as they go).
  std::atomic<uint64_t> reader_scan_floor_{0};
  // Read-only handle: what an iterator scans, as of the last refresh that
  // completed (published with reader_seq_, after it). The live segment
  // list is no such state while a refresh runs: it holds outputs not yet
  // replayed (published length: the header), whose input lists are past
  // an iterator's end (until 2026-11-27 such an iterator failed with
  // kCorruption). Guarded by reader_view_mu_; the view itself is immutable.
  mutable std::mutex reader_view_mu_;
  std::shared_ptr<const ReaderView> reader_view_;
  void PublishReaderView();  // reader.cc; under refresh_mu_ (or at open)
  std::shared_ptr<const ReaderView> reader_view() const {
    std::lock_guard<std::mutex> l(reader_view_mu_);
    return reader_view_;
  }
  // The writer's history floors (time_travel.cc, "History floors"):
  // compaction may have dropped, below history_floor_, versions a snapshot
  // there needs (a read finds the chain broken: SnapshotTooOld; a scan
  // cannot tell), and below absent_floor_ a key's tombstone or expired put
  // with everything before it (a read of it finds nothing at all). Raised
  // by HistoryDropped before a pass changes anything; at open, from the
  // compaction outputs (LoadHistoryFloors). A read-only handle keeps
  // absent_floor_ too, from the outputs it replays (at open, and at each
  // refresh: Follower::Retire, in its cut), and starts reader_scan_floor_
  // there.
  std::atomic<uint64_t> absent_floor_{0};
  void RaiseHistoryFloors(uint64_t history, uint64_t absent);
  void LoadHistoryFloors();
  std::unique_ptr<Follower> follower_;
  mutable std::mutex refresh_mu_;  // serializes Refresh; guards follower_ stats
  // Read-only handle: odd while a refresh runs (raised by one when it
  // starts, under refresh_mu_, and by one when it ends): AwaitRefresh.
  std::atomic<uint64_t> refreshing_{0};
  // Read-only handle: the part of a refresh that takes index entries out
  // (Follower::Retire) and moves the key counts and reader_seq_ to the new
  // state, as one change set (a single writer, under refresh_mu_): a
  // counting walk that overlapped it walks again (DB::CountKeys).
  mutable CountsSeqlock refresh_cut_;
  std::atomic<bool> reader_broken_{false};  // ReaderBroken
  Status RefreshLocked();  // Refresh's work, under refresh_mu_ (may throw bad_alloc)
  // Why the last refresh met damage (empty: it did not), under refresh_mu_:
  // verify reports it (the handle's state stops before the damage, which
  // its own scan then never reaches; a review found verify saying ok).
  std::string refresh_damage_;
  Status StartFollowing();

  // Writes: the gate lets exact checkpoints and verify run between writes;
  // namespace changes are serialized among themselves.
  WriterGate gate_;
  std::mutex ns_mu_;
  // Segment retirement vs. online backup (CompactionHost::retire_mutex).
  std::mutex retire_mu_;
  // One checkpoint at a time (the compactor's, firkin_checkpoint's, the
  // close's): they share the temporary file name, and a slower, older cut
  // must not replace a newer one. Taken before retire_mu_.
  std::mutex checkpoint_mu_;

  // Snapshots.
  mutable std::mutex snap_mu_;
  mutable std::multiset<uint64_t> snapshots_;
  // The counting walks' snapshots (also in snapshots_), and how many walks
  // are choosing theirs (AcquireCountSnapshot), under snap_mu_: they
  // decide the log writer's count floor (SetCountFloorLocked).
  mutable std::multiset<uint64_t> count_snapshots_;
  mutable uint32_t count_choosing_ = 0;
  void SetCountFloorLocked() const;
  // The clocks of open iterators (PinScanClock), under snap_mu_.
  mutable std::multiset<uint64_t> scan_clocks_;
  // Open transactions (the reaper's view); lock order: txn_mu_, snap_mu_.
  mutable std::mutex txn_mu_;
  std::set<Txn*> txns_;

  // Interval flusher.
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  std::thread flusher_;
  Scrubber scrubber_;  // validates segments a checkpoint let open skip
  bool flusher_started_ = false;
  bool stop_flusher_ = false;

  // The database's time: the high-water mark of the clock readings and of
  // the commit times (those in the log at open included). Mutable: reading
  // the clock raises it.
  mutable std::atomic<uint64_t> last_commit_ms_{0};

  // Wakes change cursors waiting for new writes.
  ChangeNotifier change_notifier_;

  // Counters.
  StripedCounter writes_;
  StripedCounter in_place_;  // puts that overwrote their key's record (in_place.cc)
  // Counts (firkin_count, stats' keys) that walked the index: a key of a
  // namespace counted may have expired (read_path.cc, CountKeys).
  mutable std::atomic<uint64_t> count_walks_{0};
  StripedCounter bytes_written_;
  // Values of puts written since open: as given (logical) and as stored
  // (after compression); equal when nothing was compressed.
  StripedCounter value_bytes_logical_;
  StripedCounter value_bytes_stored_;
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> bytes_at_checkpoint_{0};
  // The verify_checksums option: every read checks its records' checksums,
  // also in segments known intact (Segment::checked). Off, a read checks
  // only records of segments not yet validated (ReadIntact).
  bool check_all_reads_ = false;
  bool closed_ = false;
  Status close_status_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_DB_H_
