// Kyoto Cabinet HashDB (Debian libkyotocabinet-dev): on-disk hash table.
//   none     -> no sync (writes reach the file/map: survive a process crash;
//               an unclean close triggers auto-recovery on open)
//   interval -> synchronize(hard=true) every 100 ms
//   always   -> OAUTOSYNC (fsync after every update; no group commit)
// Tuning: tune_buckets(2 x expected keys), tune_map(2 x expected data, at
// least 64 MiB) so the whole file is mapped.
#include <kchashdb.h>

#include <algorithm>
#include <string>

#include "../bench.h"

namespace bench {
namespace {

namespace kc = kyotocabinet;

class KyotoSession : public Session {
 public:
  explicit KyotoSession(kc::HashDB *db) : db_(db) {}
  bool put(const char *k, size_t kl, const char *v, size_t vl) override {
    return db_->set(k, kl, v, vl);
  }
  int get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) override {
    int32_t n = db_->get(k, kl, buf, cap);
    if (n < 0) return db_->error().code() == kc::BasicDB::Error::NOREC ? 0 : -1;
    *vl = size_t(n);
    return 1;
  }
  bool del(const char *k, size_t kl) override {
    return db_->remove(k, kl) || db_->error().code() == kc::BasicDB::Error::NOREC;
  }

 private:
  kc::HashDB *db_;
};

class KyotoStore : public Store {
 public:
  bool open(const OpenParams &p, std::string *err) override {
    db_.tune_buckets(std::max<int64_t>(1 << 16, int64_t(p.expected_keys) * 2));
    db_.tune_map(std::max<int64_t>(64ll << 20, int64_t(expected_bytes(p)) * 2));
    uint32_t mode = kc::HashDB::OWRITER | kc::HashDB::OCREATE;
    if (p.sync == Sync::Always) mode |= kc::HashDB::OAUTOSYNC;
    if (!db_.open(p.dir + "/casket.kch", mode)) { *err = db_.error().message(); return false; }
    return true;
  }
  std::unique_ptr<Session> session() override {
    return std::unique_ptr<Session>(new KyotoSession(&db_));
  }
  bool sync() override { return db_.synchronize(true); }
  bool close() override { return db_.close(); }
  std::string describe(Sync s) const override {
    switch (s) {
      case Sync::None: return "no sync";
      case Sync::Interval: return "synchronize(true) every 100 ms";
      default: return "OAUTOSYNC (fsync per update)";
    }
  }

 private:
  kc::HashDB db_;
};

}  // namespace

std::unique_ptr<Store> make_kyoto() { return std::unique_ptr<Store>(new KyotoStore); }

}  // namespace bench
