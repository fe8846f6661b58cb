// LevelDB (Debian libleveldb-dev), LSM with a log.
//   none     -> WriteOptions.sync=false (log written to the OS per write)
//   interval -> sync=false + an empty batch written with sync=true every
//               100 ms (LevelDB has no SyncWAL; this syncs the log)
//   always   -> WriteOptions.sync=true (writer queue: group commit)
// Options: no compression, 10-bit bloom filter, LRU block cache sized to the
// data set, 64 MiB write buffer (like RocksDB; LevelDB's default is 4 MiB).
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include "../bench.h"

namespace bench {
namespace {

class LevelSession : public Session {
 public:
  LevelSession(leveldb::DB *db, bool sync) : db_(db) { wo_.sync = sync; }
  bool put(const char *k, size_t kl, const char *v, size_t vl) override {
    return db_->Put(wo_, leveldb::Slice(k, kl), leveldb::Slice(v, vl)).ok();
  }
  int get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) override {
    leveldb::Status s = db_->Get(ro_, leveldb::Slice(k, kl), &val_);
    if (s.IsNotFound()) return 0;
    if (!s.ok()) return -1;
    *vl = val_.size();
    memcpy(buf, val_.data(), std::min(cap, val_.size()));
    return 1;
  }
  bool del(const char *k, size_t kl) override {
    return db_->Delete(wo_, leveldb::Slice(k, kl)).ok();
  }
  long scan(const char *start, size_t kl, size_t n, char *buf, size_t cap) override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro_));
    long got = 0;
    for (it->Seek(leveldb::Slice(start, kl)); got < long(n) && it->Valid(); it->Next()) {
      leveldb::Slice v = it->value();
      memcpy(buf, v.data(), std::min(cap, v.size()));
      got++;
    }
    return it->status().ok() ? got : -1;
  }

 private:
  leveldb::DB *db_;
  leveldb::WriteOptions wo_;
  leveldb::ReadOptions ro_;
  std::string val_;
};

class LevelStore : public Store {
 public:
  bool open(const OpenParams &p, std::string *err) override {
    sync_ = p.sync == Sync::Always;
    leveldb::Options o;
    o.create_if_missing = true;
    o.compression = leveldb::kNoCompression;
    o.write_buffer_size = 64 << 20;
    cache_ = leveldb::NewLRUCache(std::max<uint64_t>(256ull << 20, expected_bytes(p) * 2));
    filter_ = leveldb::NewBloomFilterPolicy(10);
    o.block_cache = cache_;
    o.filter_policy = filter_;
    leveldb::Status s = leveldb::DB::Open(o, p.dir, &db_);
    if (!s.ok()) { *err = s.ToString(); return false; }
    return true;
  }
  std::unique_ptr<Session> session() override {
    return std::unique_ptr<Session>(new LevelSession(db_, sync_));
  }
  bool settle() override {
    db_->CompactRange(nullptr, nullptr);
    return true;
  }
  bool sync() override {
    leveldb::WriteOptions wo;
    wo.sync = true;
    leveldb::WriteBatch b;
    return db_->Write(wo, &b).ok();
  }
  bool close() override {
    delete db_;
    db_ = nullptr;
    delete cache_;
    delete filter_;
    return true;
  }
  std::string describe(Sync s) const override {
    switch (s) {
      case Sync::None: return "WriteOptions.sync=false";
      case Sync::Interval: return "sync=false + empty sync=true batch every 100 ms";
      default: return "WriteOptions.sync=true";
    }
  }

 private:
  leveldb::DB *db_ = nullptr;
  leveldb::Cache *cache_ = nullptr;
  const leveldb::FilterPolicy *filter_ = nullptr;
  bool sync_ = false;
};

}  // namespace

std::unique_ptr<Store> make_leveldb() { return std::unique_ptr<Store>(new LevelStore); }

}  // namespace bench
