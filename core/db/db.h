// DB: the database facade (DESIGN §1). Open/close, the read path, the write
// path (a writer queue whose leader applies a whole group: conditions,
// sequence numbers, appends, one sync, index updates, publication),
// namespaces, snapshots, iterators and stats.
//
// Thread contract: every public method may be called from any number of
// threads at once. Reads are lock-free (epoch-protected) and never wait for
// writers. Writes queue; one leader at a time applies a group. Close() must
// be called by the last user (no call may be in flight); the destructor
// calls it if needed.
#ifndef FIRKIN_CORE_DB_DB_H_
#define FIRKIN_CORE_DB_DB_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
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
#include "core/db/write_batch.h"
#include "core/env/env.h"
#include "core/log/format.h"
#include "core/log/log_writer.h"
#include "core/recovery/recovery.h"

namespace firkin {

class Iterator;
class Compactor;
struct Relocation;

// A snapshot sequence number meaning "the latest published state".
constexpr uint64_t kLatestSeq = UINT64_MAX;

class DB {
 public:
  // Opens or creates the database in `path` (see firkin_open).
  static Status Open(const std::string& path, const Options& options, std::unique_ptr<DB>* out);
  ~DB();
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  // Seals the log, syncs, releases the lock. Idempotent; returns the first
  // error. REQUIRES: no other call in flight.
  Status Close();

  // ---- reads ----
  // The sequence number reads see by default.
  uint64_t LastSeq() const { return published_seq_.load(std::memory_order_acquire); }
  // Finds the version of (ns, key) visible at snap (kLatestSeq = latest): OK with
  // *out set to the record (a put), kNotFound, kSnapshotTooOld, kCorruption.
  // REQUIRES: the caller holds an Epoch::Guard while it uses *out.
  Status Get(uint64_t snap, const NamespaceInfo& ns, std::string_view key, RecordView* out) const;

  // ---- writes ----
  // Applies ops (one op, or an atomic batch) as one write.
  Status Write(SyncMode sync, const WriteOp* ops, size_t n, bool atomic);
  Status CreateNamespace(const std::string& name, bool exist_ok,
                         std::shared_ptr<NamespaceInfo>* out);
  Status DropNamespace(const std::string& name);
  Status Sync();
  // Compacts every sealed segment with dead bytes now (firkin_compact).
  Status Compact();
  // Writes an index checkpoint now (firkin_checkpoint).
  Status Checkpoint();
  // Verifies records and index (firkin_verify); *report is JSON.
  Status Verify(std::string* report);

  // ---- namespaces ----
  const NamespaceTable& namespaces() const { return ns_; }

  // ---- snapshots ----
  // Registers a snapshot at seq (kLatestSeq = latest); returns its seq. Fails with
  // kInvalidArgument if seq is in the future.
  Status AcquireSnapshot(uint64_t seq, uint64_t* out);
  void ReleaseSnapshot(uint64_t seq);
  // Oldest registered snapshot, or LastSeq() if none.
  uint64_t OldestSnapshot() const;
  bool HasSnapshots() const {
    std::lock_guard<std::mutex> l(snap_mu_);
    return !snapshots_.empty();
  }

  // ---- iteration, stats ----
  // An iterator over ns at snap (must be registered by the caller).
  Status NewIterator(uint64_t snap, std::shared_ptr<NamespaceInfo> ns,
                     std::unique_ptr<Iterator>* out);
  Status StatsJson(std::string* out) const;
  // Compaction: applies index moves as the writer. *failed counts moves
  // whose entry had changed (a newer write won).
  Status ApplyRelocations(const Relocation* moves, size_t n, uint64_t* failed);
  // Runs fn in the writer's place: no write is applied while it runs, and
  // every earlier write is published. Read-only databases run it directly.
  Status RunExclusive(const std::function<Status()>& fn);
  // Whether checkpoint_every bytes were written since the last checkpoint.
  bool CheckpointDue() const;
  bool read_only() const { return options_.read_only; }
  const Options& options() const { return options_; }

 private:
  friend class Compactor;
  // One queued write (LevelDB-style writer queue).
  struct Writer {
    const WriteOp* ops = nullptr;
    size_t n = 0;
    bool atomic = false;
    SyncMode sync = SyncMode::kNone;
    std::shared_ptr<NamespaceInfo>* ns_out = nullptr;  // for namespace ops
    const Relocation* relocs = nullptr;                // compaction moves
    size_t relocs_n = 0;
    uint64_t* relocs_failed = nullptr;
    const std::function<Status()>* exclusive = nullptr;  // run as the writer
    Status status;
    bool done = false;                 // under mu_
    std::atomic<bool> ready{false};    // done, or now at the front (spin hint)
    std::condition_variable cv;
  };

  DB(std::string path, const Options& options, Env* env);
  Status OpenImpl();
  Status CreateIdentity();

  Status QueueWrite(Writer* w);
  // Leader: applies one writer's ops; appends records; updates the index.
  Status ApplyWriter(Writer* w);
  Status ApplyNamespaceOp(Writer* w);
  Status AppendRecords(const std::vector<RecordFields>& recs, std::vector<Locator>* locs);
  void PurgeNamespace(uint32_t ns_id);
  void StartFlusher();
  void FlusherLoop();

  const std::string path_;
  const Options options_;
  Env* const env_;
  std::unique_ptr<FileLock> lock_;
  Identity identity_;
  RecoveryResult recovery_;
  std::unique_ptr<Keyspace> keyspace_;
  NamespaceTable ns_;
  std::unique_ptr<LogWriter> log_;
  std::unique_ptr<Compactor> compactor_;

  // One operation resolved by the leader against the newest state.
  struct PendingOp {
    const WriteOp* op;
    uint64_t hash;
    Locator old_loc;
    RecordView old;
  };

  // Writer queue.
  std::mutex mu_;
  std::deque<Writer*> writers_;
  // Scratch space reused by whichever thread is the leader (no allocation
  // per write once warm).
  std::vector<Writer*> leader_group_;
  std::vector<PendingOp> scratch_todo_;
  std::vector<RecordFields> scratch_recs_;
  std::vector<Locator> scratch_locs_;
  uint64_t last_seq_ = 0;  // leader-private: last assigned sequence number
  std::atomic<uint64_t> published_seq_{0};

  // Snapshots.
  mutable std::mutex snap_mu_;
  std::multiset<uint64_t> snapshots_;

  // Interval flusher.
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  std::thread flusher_;
  bool flusher_started_ = false;
  bool stop_flusher_ = false;

  // Counters.
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> write_groups_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> checkpoints_{0};
  uint64_t bytes_at_checkpoint_ = 0;  // written under the writer role
  bool verify_reads_ = true;  // check each record's checksum on read
  bool closed_ = false;
  Status close_status_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_DB_H_
