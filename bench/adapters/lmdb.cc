// LMDB (Debian liblmdb-dev), copy-on-write B+tree in a memory map.
//   none     -> MDB_NOSYNC (commits write to the map's file, no fsync: survives
//               a process crash)
//   interval -> MDB_NOSYNC + mdb_env_sync(force) every 100 ms
//   always   -> default flags (fsync per commit; one writer at a time, no
//               group commit)
// One write transaction per put/delete (no batching, like every other store
// here). Each get renews a per-thread read transaction (so it sees the
// latest commit) and copies the value out. Map size 32 GiB (sparse). No
// MDB_WRITEMAP (the default, safer mode).
#include <lmdb.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "../bench.h"

namespace bench {
namespace {

class LmdbSession : public Session {
 public:
  LmdbSession(MDB_env *env, MDB_dbi dbi) : env_(env), dbi_(dbi) {}
  ~LmdbSession() override {
    if (rtxn_) mdb_txn_abort(rtxn_);
  }
  bool put(const char *k, size_t kl, const char *v, size_t vl) override {
    MDB_txn *t;
    if (mdb_txn_begin(env_, nullptr, 0, &t)) return false;
    MDB_val key{kl, const_cast<char *>(k)}, val{vl, const_cast<char *>(v)};
    if (mdb_put(t, dbi_, &key, &val, 0)) { mdb_txn_abort(t); return false; }
    return mdb_txn_commit(t) == 0;
  }
  int get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) override {
    if (!rtxn_) {
      if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &rtxn_)) return -1;
    } else if (mdb_txn_renew(rtxn_)) {
      return -1;
    }
    MDB_val key{kl, const_cast<char *>(k)}, val;
    int rc = mdb_get(rtxn_, dbi_, &key, &val);
    int r;
    if (rc == 0) {
      *vl = val.mv_size;
      memcpy(buf, val.mv_data, std::min(cap, val.mv_size));
      r = 1;
    } else {
      r = rc == MDB_NOTFOUND ? 0 : -1;
    }
    mdb_txn_reset(rtxn_);
    return r;
  }
  // A cursor in the session's reused read transaction.
  long scan(const char *start, size_t kl, size_t n, char *buf, size_t cap) override {
    if (!rtxn_) {
      if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &rtxn_)) return -1;
    } else if (mdb_txn_renew(rtxn_)) {
      return -1;
    }
    MDB_cursor *cur;
    if (mdb_cursor_open(rtxn_, dbi_, &cur)) {
      mdb_txn_reset(rtxn_);
      return -1;
    }
    MDB_val key{kl, const_cast<char *>(start)}, val;
    long got = 0;
    int rc = kl ? mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE)
                : mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    while (rc == 0 && got < long(n)) {
      memcpy(buf, val.mv_data, std::min(cap, val.mv_size));
      got++;
      rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_reset(rtxn_);
    return rc == 0 || rc == MDB_NOTFOUND ? got : -1;
  }
  // One write transaction (LMDB has one writer at a time: no conflicts).
  int txn(const char *const *rk, size_t nr, const char *const *wk, size_t nw, size_t kl,
          const char *v, size_t vl, char *buf, size_t cap) override {
    MDB_txn *t;
    if (mdb_txn_begin(env_, nullptr, 0, &t)) return -1;
    for (size_t i = 0; i < nr; i++) {
      MDB_val key{kl, const_cast<char *>(rk[i])}, val;
      int rc = mdb_get(t, dbi_, &key, &val);
      if (rc == 0) memcpy(buf, val.mv_data, std::min(cap, val.mv_size));
      else if (rc != MDB_NOTFOUND) { mdb_txn_abort(t); return -1; }
    }
    for (size_t i = 0; i < nw; i++) {
      MDB_val key{kl, const_cast<char *>(wk[i])}, val{vl, const_cast<char *>(v)};
      if (mdb_put(t, dbi_, &key, &val, 0)) { mdb_txn_abort(t); return -1; }
    }
    return mdb_txn_commit(t) == 0 ? 1 : -1;
  }
  bool del(const char *k, size_t kl) override {
    MDB_txn *t;
    if (mdb_txn_begin(env_, nullptr, 0, &t)) return false;
    MDB_val key{kl, const_cast<char *>(k)};
    int rc = mdb_del(t, dbi_, &key, nullptr);
    if (rc == MDB_NOTFOUND) { mdb_txn_abort(t); return true; }
    if (rc) { mdb_txn_abort(t); return false; }
    return mdb_txn_commit(t) == 0;
  }

 private:
  MDB_env *env_;
  MDB_dbi dbi_;
  MDB_txn *rtxn_ = nullptr;
};

class LmdbStore : public Store {
 public:
  bool open(const OpenParams &p, std::string *err) override {
    int rc = mdb_env_create(&env_);
    if (!rc) rc = mdb_env_set_mapsize(env_, size_t(32) << 30);
    if (!rc) rc = mdb_env_set_maxreaders(env_, 126);
    unsigned flags = MDB_NOTLS;
    if (p.sync != Sync::Always) flags |= MDB_NOSYNC;
    if (!rc) rc = mdb_env_open(env_, p.dir.c_str(), flags, 0644);
    MDB_txn *t = nullptr;
    if (!rc) rc = mdb_txn_begin(env_, nullptr, 0, &t);
    if (!rc) rc = mdb_dbi_open(t, nullptr, 0, &dbi_);
    if (!rc) rc = mdb_txn_commit(t);
    if (rc) { *err = mdb_strerror(rc); return false; }
    return true;
  }
  std::unique_ptr<Session> session() override {
    return std::unique_ptr<Session>(new LmdbSession(env_, dbi_));
  }
  bool sync() override { return mdb_env_sync(env_, 1) == 0; }
  bool has_txn() const override { return true; }
  bool close() override {
    mdb_env_sync(env_, 1);
    mdb_env_close(env_);
    env_ = nullptr;
    return true;
  }
  std::string describe(Sync s) const override {
    switch (s) {
      case Sync::None: return "MDB_NOSYNC";
      case Sync::Interval: return "MDB_NOSYNC + mdb_env_sync(1) every 100 ms";
      default: return "default flags (fsync per commit)";
    }
  }

 private:
  MDB_env *env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

}  // namespace

std::unique_ptr<Store> make_lmdb() { return std::unique_ptr<Store>(new LmdbStore); }

}  // namespace bench
