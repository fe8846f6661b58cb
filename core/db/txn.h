// Txn: an optimistic transaction (DESIGN §5, firkin_txn).
//
// It reads at a registered snapshot (pinned from Begin until Commit,
// Rollback or destruction) overlaid with its own buffered writes, and
// commits as ONE write-path batch (write_path.cc): its puts and deletes,
// each conditioned on "the key's newest record has seq <= the snapshot"
// (kSeqAtMost), plus, when serializable, a check-only op (kCheck) per key
// it read without writing (reads that found nothing included) and a
// kCheckNs op per namespace it iterated. The write path takes the shard
// locks of all these keys in ascending order and decides every condition
// under them before it reserves log space, so validation and install are
// atomic without a global lock; the batch is one reservation with one
// sequence number and a commit marker, crash-atomic like any batch.
//
// Limits: at most kMaxOps distinct keys read or written and kMaxBytes of
// keys and values buffered (kTooLarge, the transaction stays usable).
//
// Abandoned transactions: the DB registers every open transaction and, at
// the start of each compaction cycle, expires those older than
// txn_max_age_ms (DB::ReapTxns): one not in use at that moment (no call
// has entered it) releases its snapshot and buffers and answers
// kSnapshotTooOld from then on.
//
// Thread contract: one thread at a time, bracketed by TryEnter/Leave (the
// C layer: a second thread calling at the same time gets kBusy). The DB's
// reaper takes the transaction its own way (ExpireIfOlder), only while no
// call has it; a call that comes meanwhile waits for the reaper (brief)
// and then finds the transaction expired or open: the reaper never makes
// a call busy (before the fifth outside review it did: a transaction used by one thread
// got kBusy from txn_get, txn_put, txn_commit and txn_rollback). The DB
// must outlive it.
#ifndef FIRKIN_CORE_DB_TXN_H_
#define FIRKIN_CORE_DB_TXN_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/db/db.h"
#include "core/keyspace/namespaces.h"
#include "core/util/parking.h"
#include "core/util/status.h"

namespace firkin {

class Txn {
 public:
  enum class Isolation { kSnapshot = 0, kSerializable = 1 };
  static constexpr size_t kMaxOps = 1 << 16;
  static constexpr uint64_t kMaxBytes = 32ull << 20;

  // Registers the snapshot (the latest state) the transaction reads at.
  static Status Begin(DB* db, Isolation iso, std::unique_ptr<Txn>* out);
  // Marks the transaction in use by a call; false if another call has it
  // (another thread). If the reaper has it, waits until it is done first.
  // Leave ends the use.
  bool TryEnter();
  void Leave() { use_.store(kFree, std::memory_order_release); }
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  uint64_t snapshot_seq() const { return snap_; }
  Isolation isolation() const { return iso_; }
  bool open() const { return state_ == State::kOpen; }
  // Why the transaction refuses operations (kInvalidArgument with a
  // message) or OK while it is open.
  Status CheckOpen() const;

  // The value visible to the transaction: its own write, else the
  // snapshot's. OK / kNotFound / errors. Records the read (serializable).
  Status Get(const std::shared_ptr<NamespaceInfo>& ns, std::string_view key, std::string* value);
  // ttl_ms / expire_at_ms (at most one non-zero): the put expires ttl_ms
  // after the commit's time, or at that absolute time (TTL).
  Status Put(const std::shared_ptr<NamespaceInfo>& ns, std::string_view key,
             std::string_view value, uint64_t ttl_ms = 0, uint64_t expire_at_ms = 0);
  Status Delete(const std::shared_ptr<NamespaceInfo>& ns, std::string_view key);

  // For an iterator over ns: records the namespace as iterated
  // (serializable) and returns the transaction's own writes in ns: keys it
  // wrote (*shadow: skip them in the snapshot) and its puts (*puts).
  Status IterateNs(const std::shared_ptr<NamespaceInfo>& ns,
                   std::vector<std::string>* shadow,
                   std::vector<std::pair<std::string, std::string>>* puts);

  // Validates and applies everything; *seq receives the commit's sequence
  // number (the snapshot's if nothing was written). The transaction is
  // finished whatever the outcome (kConflict: nothing was applied).
  Status Commit(SyncMode sync, uint64_t* seq);
  // Drops the buffered writes and releases the snapshot. Idempotent.
  void Rollback();
  // The reaper (DB::ReapTxns, under the DB's transaction registry lock):
  // expires the transaction if it began max_age_ms or more before now_ms
  // and no call is using it. True if it did.
  bool ExpireIfOlder(uint64_t now_ms, uint64_t max_age_ms);

 private:
  enum class State { kOpen, kCommitted, kRolledBack, kFailed, kExpired };
  struct Write {
    std::shared_ptr<NamespaceInfo> ns;
    bool del = false;
    std::string value;
    uint64_t ttl_ms = 0, expire_at_ms = 0;
  };
  Txn(DB* db, Isolation iso, uint64_t snap, uint64_t begin_ms)
      : db_(db), iso_(iso), snap_(snap), begin_ms_(begin_ms) {}
  // Whether a buffered put reads as absent already (an absolute expiry in
  // the past).
  bool ExpiredWrite(const Write& w) const;
  static std::string MapKey(uint32_t ns_id, std::string_view key);
  Status Room(std::string_view key, size_t value_bytes, bool new_entry) const;
  void Finish(State s);

  DB* const db_;
  const Isolation iso_;
  const uint64_t snap_;
  const uint64_t begin_ms_;  // database clock at Begin
  // Who has the transaction: nobody, a call (TryEnter), or the reaper
  // (ExpireIfOlder), which wakes calls parked on reaped_ when it is done.
  enum : uint8_t { kFree = 0, kCall = 1, kReaper = 2 };
  std::atomic<uint8_t> use_{kFree};
  Parking reaped_;
  State state_ = State::kOpen;
  bool pinned_ = true;
  // Keyed by 4 bytes of namespace id + key (ordered: commit ops sorted).
  std::map<std::string, Write> writes_;
  std::map<std::string, std::shared_ptr<NamespaceInfo>> reads_;  // serializable
  std::map<uint32_t, std::shared_ptr<NamespaceInfo>> iterated_;  // serializable
  uint64_t bytes_ = 0;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_TXN_H_
