// RocksDB (Debian librocksdb-dev), LSM with a write-ahead log.
//   none     -> WriteOptions.sync=false (WAL written to the OS on each write:
//               survives a process crash, like Firkin's none)
//   interval -> sync=false + SyncWAL() every 100 ms from the harness
//   always   -> WriteOptions.sync=true (leader-based group commit)
// Options: no compression (values are random; FIRKIN_BENCH_ROCKSDB_COMPRESSION=
// lz4|zstd sets it for the compression workloads), 10-bit bloom filter, LRU
// block cache sized to hold the data set (warm reads), 64 MiB memtable
// (the default), IncreaseParallelism(2) for 2 background jobs.
// Transactions (workload txnshort): the database is opened as an
// OptimisticTransactionDB; a transaction takes a snapshot, reads with it,
// and Commit() returns Busy on a write-write conflict (snapshot isolation,
// as Firkin's default).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/optimistic_transaction_db.h>
#include <rocksdb/utilities/transaction.h>

#include "../bench.h"

namespace bench {
namespace {

class RocksSession : public Session {
 public:
  RocksSession(rocksdb::DB *db, rocksdb::OptimisticTransactionDB *tdb, bool sync)
      : db_(db), tdb_(tdb) {
    wo_.sync = sync;
    to_.set_snapshot = true;
  }
  ~RocksSession() override { delete txn_; }
  int txn(const char *const *rk, size_t nr, const char *const *wk, size_t nw, size_t kl,
          const char *v, size_t vl, char *buf, size_t cap) override {
    if (tdb_ == nullptr) return -1;
    txn_ = tdb_->BeginTransaction(wo_, to_, txn_);  // reuses the object
    rocksdb::ReadOptions ro;
    ro.snapshot = txn_->GetSnapshot();
    std::string val;
    for (size_t i = 0; i < nr; i++) {
      rocksdb::Status s = txn_->Get(ro, rocksdb::Slice(rk[i], kl), &val);
      if (s.ok()) memcpy(buf, val.data(), std::min(cap, val.size()));
      else if (!s.IsNotFound()) { txn_->Rollback(); return -1; }
    }
    for (size_t i = 0; i < nw; i++) {
      if (!txn_->Put(rocksdb::Slice(wk[i], kl), rocksdb::Slice(v, vl)).ok()) {
        txn_->Rollback();
        return -1;
      }
    }
    rocksdb::Status s = txn_->Commit();
    if (s.ok()) return 1;
    return s.IsBusy() || s.IsTryAgain() ? 0 : -1;
  }
  bool put(const char *k, size_t kl, const char *v, size_t vl) override {
    return db_->Put(wo_, rocksdb::Slice(k, kl), rocksdb::Slice(v, vl)).ok();
  }
  int get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) override {
    val_.Reset();
    rocksdb::Status s = db_->Get(ro_, db_->DefaultColumnFamily(), rocksdb::Slice(k, kl), &val_);
    if (s.IsNotFound()) return 0;
    if (!s.ok()) return -1;
    *vl = val_.size();
    memcpy(buf, val_.data(), std::min(cap, val_.size()));
    return 1;
  }
  bool del(const char *k, size_t kl) override {
    return db_->Delete(wo_, rocksdb::Slice(k, kl)).ok();
  }
  // An iterator per scan (its implicit snapshot, as Firkin's range iterator).
  long scan(const char *start, size_t kl, size_t n, char *buf, size_t cap) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro_));
    long got = 0;
    for (it->Seek(rocksdb::Slice(start, kl)); got < long(n) && it->Valid(); it->Next()) {
      rocksdb::Slice v = it->value();
      memcpy(buf, v.data(), std::min(cap, v.size()));
      got++;
    }
    return it->status().ok() ? got : -1;
  }

 private:
  rocksdb::DB *db_;
  rocksdb::OptimisticTransactionDB *tdb_;
  rocksdb::Transaction *txn_ = nullptr;
  rocksdb::OptimisticTransactionOptions to_;
  rocksdb::WriteOptions wo_;
  rocksdb::ReadOptions ro_;
  rocksdb::PinnableSlice val_;
};

class RocksStore : public Store {
 public:
  bool open(const OpenParams &p, std::string *err) override {
    sync_ = p.sync == Sync::Always;
    rocksdb::Options o;
    o.create_if_missing = true;
    o.IncreaseParallelism(2);
    o.compression = rocksdb::kNoCompression;
    if (const char *c = getenv("FIRKIN_BENCH_ROCKSDB_COMPRESSION")) {
      const std::string name(c);
      if (name == "lz4") o.compression = rocksdb::kLZ4Compression;
      else if (name == "zstd") o.compression = rocksdb::kZSTD;
      else if (name != "none") { *err = "FIRKIN_BENCH_ROCKSDB_COMPRESSION: " + name; return false; }
      compression_ = name;
    }
    rocksdb::BlockBasedTableOptions t;
    size_t cache = std::max<uint64_t>(256ull << 20, expected_bytes(p) * 2);
    t.block_cache = rocksdb::NewLRUCache(cache);
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    rocksdb::Status s;
    if (p.transactions) {
      s = rocksdb::OptimisticTransactionDB::Open(o, p.dir, &tdb_);
      if (s.ok()) db_ = tdb_->GetBaseDB();
    } else {
      s = rocksdb::DB::Open(o, p.dir, &db_);
    }
    if (!s.ok()) { *err = s.ToString(); return false; }
    return true;
  }
  std::unique_ptr<Session> session() override {
    return std::unique_ptr<Session>(new RocksSession(db_, tdb_, sync_));
  }
  bool has_txn() const override { return true; }
  bool sync() override { return db_->SyncWAL().ok(); }
  bool settle() override {
    rocksdb::CompactRangeOptions co;
    return db_->CompactRange(co, nullptr, nullptr).ok();
  }
  bool close() override {
    bool ok = db_->Close().ok();
    if (tdb_ != nullptr) {
      delete tdb_;  // owns the base DB
      tdb_ = nullptr;
    } else {
      delete db_;
    }
    db_ = nullptr;
    return ok;
  }
  std::string describe(Sync s) const override {
    const std::string z = compression_.empty() ? "" : " compression=" + compression_;
    switch (s) {
      case Sync::None: return "WriteOptions.sync=false (WAL on)" + z;
      case Sync::Interval: return "sync=false + SyncWAL() every 100 ms" + z;
      default: return "WriteOptions.sync=true" + z;
    }
  }

 private:
  rocksdb::DB *db_ = nullptr;
  rocksdb::OptimisticTransactionDB *tdb_ = nullptr;
  bool sync_ = false;
  std::string compression_;
};

}  // namespace

std::unique_ptr<Store> make_rocksdb() { return std::unique_ptr<Store>(new RocksStore); }

}  // namespace bench
