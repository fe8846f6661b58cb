// SQLite (Debian libsqlite3-dev) in WAL mode, one table
// kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID, one connection per thread,
// prepared statements, one autocommit transaction per put/delete.
//   none     -> PRAGMA synchronous=OFF   (WAL written per commit, no fsync)
//   interval -> PRAGMA synchronous=NORMAL (in WAL mode: fsync at checkpoints
//               only; SQLite's nearest to a timed flush)
//   always   -> PRAGMA synchronous=FULL   (fsync of the WAL per commit)
// Also mmap_size=1 GiB and cache_size=64 MiB per connection (warm reads),
// busy_timeout 10 s for concurrent writers.
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "../bench.h"

namespace bench {
namespace {

const char *sync_pragma(Sync s) {
  return s == Sync::None ? "OFF" : s == Sync::Interval ? "NORMAL" : "FULL";
}

bool exec(sqlite3 *db, const std::string &sql, std::string *err) {
  char *msg = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    if (err) *err = msg ? msg : "sqlite3_exec";
    sqlite3_free(msg);
    return false;
  }
  return true;
}

sqlite3 *connect(const std::string &path, Sync s, std::string *err) {
  sqlite3 *db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    if (err) *err = db ? sqlite3_errmsg(db) : "sqlite3_open_v2";
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 10000);
  std::string sql = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") + sync_pragma(s) +
                    "; PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536;"
                    "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID;";
  if (!exec(db, sql, err)) { sqlite3_close(db); return nullptr; }
  return db;
}

class SqliteSession : public Session {
 public:
  explicit SqliteSession(sqlite3 *db) : db_(db) {
    sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO kv(k,v) VALUES(?,?)", -1, &put_, nullptr);
    sqlite3_prepare_v2(db_, "SELECT v FROM kv WHERE k=?", -1, &get_, nullptr);
    sqlite3_prepare_v2(db_, "DELETE FROM kv WHERE k=?", -1, &del_, nullptr);
    sqlite3_prepare_v2(db_, "SELECT v FROM kv WHERE k>=? ORDER BY k LIMIT ?", -1, &scan_,
                       nullptr);
  }
  ~SqliteSession() override {
    sqlite3_finalize(put_);
    sqlite3_finalize(get_);
    sqlite3_finalize(del_);
    sqlite3_finalize(scan_);
    sqlite3_close(db_);
  }
  bool put(const char *k, size_t kl, const char *v, size_t vl) override {
    sqlite3_bind_blob(put_, 1, k, int(kl), SQLITE_STATIC);
    sqlite3_bind_blob(put_, 2, v, int(vl), SQLITE_STATIC);
    int rc = sqlite3_step(put_);
    sqlite3_reset(put_);
    return rc == SQLITE_DONE;
  }
  int get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) override {
    sqlite3_bind_blob(get_, 1, k, int(kl), SQLITE_STATIC);
    int rc = sqlite3_step(get_);
    int r;
    if (rc == SQLITE_ROW) {
      const void *p = sqlite3_column_blob(get_, 0);
      size_t n = size_t(sqlite3_column_bytes(get_, 0));
      *vl = n;
      memcpy(buf, p, std::min(cap, n));
      r = 1;
    } else {
      r = rc == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_reset(get_);
    return r;
  }
  // BEGIN IMMEDIATE (the write lock up front: SQLite has one writer, and a
  // deferred transaction that upgrades would fail with SQLITE_BUSY instead).
  int txn(const char *const *rk, size_t nr, const char *const *wk, size_t nw, size_t kl,
          const char *v, size_t vl, char *buf, size_t cap) override {
    if (!exec(db_, "BEGIN IMMEDIATE", nullptr)) return -1;
    size_t got;
    for (size_t i = 0; i < nr; i++) {
      if (get(rk[i], kl, buf, cap, &got) < 0) { exec(db_, "ROLLBACK", nullptr); return -1; }
    }
    for (size_t i = 0; i < nw; i++) {
      if (!put(wk[i], kl, v, vl)) { exec(db_, "ROLLBACK", nullptr); return -1; }
    }
    return exec(db_, "COMMIT", nullptr) ? 1 : -1;
  }
  long scan(const char *start, size_t kl, size_t n, char *buf, size_t cap) override {
    sqlite3_bind_blob(scan_, 1, start, int(kl), SQLITE_STATIC);
    sqlite3_bind_int64(scan_, 2, n > size_t(INT64_MAX) ? INT64_MAX : sqlite3_int64(n));
    long got = 0;
    int rc;
    while ((rc = sqlite3_step(scan_)) == SQLITE_ROW) {
      const void *p = sqlite3_column_blob(scan_, 0);
      size_t vn = size_t(sqlite3_column_bytes(scan_, 0));
      memcpy(buf, p, std::min(cap, vn));
      got++;
    }
    sqlite3_reset(scan_);
    return rc == SQLITE_DONE ? got : -1;
  }
  bool del(const char *k, size_t kl) override {
    sqlite3_bind_blob(del_, 1, k, int(kl), SQLITE_STATIC);
    int rc = sqlite3_step(del_);
    sqlite3_reset(del_);
    return rc == SQLITE_DONE;
  }

 private:
  sqlite3 *db_;
  sqlite3_stmt *put_ = nullptr, *get_ = nullptr, *del_ = nullptr, *scan_ = nullptr;
};

class SqliteStore : public Store {
 public:
  bool open(const OpenParams &p, std::string *err) override {
    path_ = p.dir + "/kv.sqlite";
    sync_ = p.sync;
    main_ = connect(path_, sync_, err);
    return main_ != nullptr;
  }
  std::unique_ptr<Session> session() override {
    sqlite3 *c = connect(path_, sync_, &last_error);
    if (!c) return nullptr;
    return std::unique_ptr<Session>(new SqliteSession(c));
  }
  bool sync() override { return exec(main_, "PRAGMA wal_checkpoint(PASSIVE);", nullptr); }
  bool native_interval() const override { return true; }  // synchronous=NORMAL
  bool has_txn() const override { return true; }
  bool close() override {
    bool ok = sqlite3_close(main_) == SQLITE_OK;
    main_ = nullptr;
    return ok;
  }
  std::string describe(Sync s) const override {
    return std::string("journal_mode=WAL, synchronous=") + sync_pragma(s);
  }

 private:
  std::string path_;
  Sync sync_ = Sync::None;
  sqlite3 *main_ = nullptr;
};

}  // namespace

std::unique_ptr<Store> make_sqlite() { return std::unique_ptr<Store>(new SqliteStore); }

}  // namespace bench
