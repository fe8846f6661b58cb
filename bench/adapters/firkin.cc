// Firkin through its public C API (the same calls a user or a binding makes).
//   none     -> sync_mode none
//   interval -> sync_mode interval (the default, 100 ms background flush)
//   always   -> sync_mode always (fdatasync per write group; group commit)
// Reads use firkin_get_into (caller buffer, no allocation). With
// OpenParams::ordered every operation goes to the ordered namespace
// "ordered" (created with FIRKIN_NS_ORDERED), and scans use
// firkin_range_iter_new on it.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../bench.h"
#include "firkin.h"

namespace bench {
namespace {

class FirkinSession : public Session {
 public:
  FirkinSession(firkin_db *db, firkin_ns *ns) : db_(db), ns_(ns) {}
  bool put(const char *k, size_t kl, const char *v, size_t vl) override {
    return firkin_put(db_, nullptr, ns_, k, kl, v, vl) == FIRKIN_OK;
  }
  int get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) override {
    firkin_status s = firkin_get_into(db_, nullptr, ns_, k, kl, buf, cap, vl);
    if (s == FIRKIN_OK) return 1;
    if (s == FIRKIN_E_NOT_FOUND) return 0;
    return -1;
  }
  bool del(const char *k, size_t kl) override {
    return firkin_delete(db_, nullptr, ns_, k, kl) == FIRKIN_OK;
  }
  long scan(const char *start, size_t kl, size_t n, char *buf, size_t cap) override {
    firkin_iter *it = nullptr;
    if (firkin_range_iter_new(db_, nullptr, ns_, kl ? start : nullptr, kl, nullptr, 0, 0, &it) !=
        FIRKIN_OK) {
      return -1;
    }
    long got = 0;
    for (; got < long(n) && firkin_iter_valid(it); firkin_iter_next(it)) {
      const void *v;
      size_t vl;
      firkin_iter_value(it, &v, &vl);
      memcpy(buf, v, vl < cap ? vl : cap);
      got++;
    }
    firkin_status s = firkin_iter_status(it);
    firkin_iter_free(it);
    return s == FIRKIN_OK ? got : -1;
  }
  // Snapshot isolation (the default), as RocksDB's optimistic transactions.
  int txn(const char *const *rk, size_t nr, const char *const *wk, size_t nw, size_t kl,
          const char *v, size_t vl, char *buf, size_t cap) override {
    firkin_txn *t = nullptr;
    if (firkin_txn_begin(db_, FIRKIN_TXN_SNAPSHOT, &t) != FIRKIN_OK) return -1;
    for (size_t i = 0; i < nr; i++) {
      void *val = nullptr;
      size_t n = 0;
      firkin_status s = firkin_txn_get(t, ns_, rk[i], kl, &val, &n);
      if (s == FIRKIN_OK) {
        memcpy(buf, val, n < cap ? n : cap);
        firkin_free(val);
      } else if (s != FIRKIN_E_NOT_FOUND) {
        firkin_txn_free(t);
        return -1;
      }
    }
    for (size_t i = 0; i < nw; i++) {
      if (firkin_txn_put(t, ns_, wk[i], kl, v, vl) != FIRKIN_OK) {
        firkin_txn_free(t);
        return -1;
      }
    }
    firkin_status s = firkin_txn_commit(t, nullptr, nullptr);
    firkin_txn_free(t);
    return s == FIRKIN_OK ? 1 : s == FIRKIN_E_CONFLICT ? 0 : -1;
  }

 private:
  firkin_db *db_;
  firkin_ns *ns_;  // nullptr = default
};

class FirkinStore : public Store {
 public:
  bool open(const OpenParams &p, std::string *err) override {
    firkin_options *o = nullptr;
    if (firkin_options_new(&o) != FIRKIN_OK) { *err = "options_new"; return false; }
    firkin_sync_mode m = p.sync == Sync::None ? FIRKIN_SYNC_NONE
                       : p.sync == Sync::Interval ? FIRKIN_SYNC_INTERVAL
                                                  : FIRKIN_SYNC_ALWAYS;
    firkin_options_set_sync_mode(o, m);
    firkin_options_set_create_if_missing(o, true);
    // The same sizing hint the hash peers get (Kyoto's and Tkrzw's bucket
    // arrays): the index is made that large at open instead of growing.
    // FIRKIN_BENCH_OPTIONS=expected_keys=0 turns it off.
    if (p.expected_keys != 0 &&
        firkin_options_set(o, "expected_keys", std::to_string(p.expected_keys).c_str()) !=
            FIRKIN_OK) {
      *err = std::string("expected_keys: ") + firkin_last_error();
      firkin_options_free(o);
      return false;
    }
    // FIRKIN_BENCH_OPTIONS="name=value,name=value" (e.g. auto_compact=false)
    // sets further options through the generic setter.
    if (const char *extra = getenv("FIRKIN_BENCH_OPTIONS")) {
      std::string list(extra);
      size_t pos = 0;
      while (pos < list.size()) {
        size_t comma = list.find(',', pos);
        std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        size_t eq = item.find('=');
        if (eq != std::string::npos &&
            firkin_options_set(o, item.substr(0, eq).c_str(), item.substr(eq + 1).c_str()) != FIRKIN_OK) {
          *err = std::string("FIRKIN_BENCH_OPTIONS: ") + firkin_last_error();
          firkin_options_free(o);
          return false;
        }
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
    }
    // ---- encryption at rest (issue 12): FIRKIN_BENCH_KEY = 64 hex digits
    // (a raw 32-byte key) measures the encrypted store against the plain one.
    if (const char *hex = getenv("FIRKIN_BENCH_KEY")) {
      unsigned char key[32];
      bool ok = std::strlen(hex) == 64;
      for (size_t i = 0; ok && i < 32; i++) {
        unsigned v = 0;
        ok = std::sscanf(hex + 2 * i, "%2x", &v) == 1;
        key[i] = static_cast<unsigned char>(v);
      }
      if (!ok || firkin_options_set_encryption_key(o, key, sizeof key) != FIRKIN_OK) {
        *err = "FIRKIN_BENCH_KEY must be 64 hex digits (a 32-byte key)";
        firkin_options_free(o);
        return false;
      }
    }
    firkin_status s = firkin_open(p.dir.c_str(), o, &db_);
    firkin_options_free(o);
    if (s != FIRKIN_OK) {
      *err = std::string(firkin_strerror(s)) + ": " + firkin_last_error();
      return false;
    }
    if (p.ordered) {
      s = firkin_ns_create_v2(db_, "ordered", FIRKIN_NS_ORDERED, &ns_);
      if (s == FIRKIN_E_EXISTS) s = firkin_ns_open(db_, "ordered", false, &ns_);
      if (s != FIRKIN_OK) {
        *err = std::string("ordered namespace: ") + firkin_last_error();
        return false;
      }
    }
    return true;
  }
  std::unique_ptr<Session> session() override {
    return std::unique_ptr<Session>(new FirkinSession(db_, ns_));
  }
  bool sync() override { return firkin_sync(db_) == FIRKIN_OK; }
  bool settle() override { return firkin_compact(db_) == FIRKIN_OK; }
  bool native_interval() const override { return true; }
  bool has_txn() const override { return true; }
  bool close() override {
    // FIRKIN_BENCH_STATS=1: the database's stats (JSON) on stderr at close,
    // for analysis (compaction, recycling, syncs per write).
    if (getenv("FIRKIN_BENCH_STATS") != nullptr) {
      char *json = nullptr;
      if (firkin_stats(db_, &json) == FIRKIN_OK) fprintf(stderr, "firkin stats: %s\n", json);
      firkin_free(json);
    }
    firkin_ns_close(ns_);
    ns_ = nullptr;
    firkin_status s = firkin_close(db_);
    db_ = nullptr;
    return s == FIRKIN_OK;
  }
  std::string describe(Sync s) const override {
    return std::string("sync_mode=") + sync_name(s) + " (interval: 100 ms), defaults otherwise";
  }

 private:
  firkin_db *db_ = nullptr;
  firkin_ns *ns_ = nullptr;
};

}  // namespace

std::unique_ptr<Store> make_firkin() { return std::unique_ptr<Store>(new FirkinStore); }

}  // namespace bench
