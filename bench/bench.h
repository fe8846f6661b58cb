// bench.h — the store interface of firkin_bench and its adapters.
//
// Every store (Firkin through its C API, each peer through its own library,
// and the "ceiling" pseudo-store) implements Store; each benchmark thread
// gets its own Session so that stores needing per-thread state (LMDB read
// transactions, SQLite connections) can keep it there.
#ifndef FIRKIN_BENCH_H
#define FIRKIN_BENCH_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bench {

// Durability, in Firkin's terms; each adapter maps it to its own settings
// (see describe() and docs/benchmarks.md, "Durability matching").
enum class Sync { None, Interval, Always };
const char *sync_name(Sync s);

struct OpenParams {
  std::string dir;              // a directory owned by the store
  Sync sync = Sync::None;
  uint64_t expected_keys = 1000000;  // sizing hint (hash peers need it)
  size_t key_size = 16;
  size_t value_size = 100;
  bool fresh = true;            // true: the directory is empty (new database)
  bool transactions = false;    // the workload runs Session::txn
  int threads = 1;              // sessions that will run at once
  bool ordered = false;         // Firkin: keys go to an ordered namespace
                                // (scans); peers are always ordered
};

class Session {
 public:
  virtual ~Session() = default;
  // true on success.
  virtual bool put(const char *k, size_t kl, const char *v, size_t vl) = 0;
  // 1 found (value copied into buf, *vl = its size), 0 not found, -1 error.
  virtual int get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) = 0;
  // true on success (deleting an absent key succeeds).
  virtual bool del(const char *k, size_t kl) = 0;
  // One short read-write transaction (workload txnshort): reads the nr keys
  // rk[] (value copied into buf), then writes value v under the nw keys
  // wk[], all keys kl bytes, committed as one unit with the store's own
  // conflict detection. 1 committed, 0 conflict (the harness retries),
  // -1 error. Stores without transactions keep the default.
  virtual int txn(const char *const *rk, size_t nr, const char *const *wk, size_t nw, size_t kl,
                  const char *v, size_t vl, char *buf, size_t cap) {
    (void)rk, (void)nr, (void)wk, (void)nw, (void)kl, (void)v, (void)vl, (void)buf, (void)cap;
    return -1;
  }
  // Ordered scan (workloads ycsbe, scanall): reads up to n entries in key
  // order starting at the first key >= start (kl bytes), copying each value
  // into buf (cap bytes; a longer value is cut). Returns the number read, or
  // -1 on error (or when the store has no ordered scans: hash stores keep
  // the default).
  virtual long scan(const char *start, size_t kl, size_t n, char *buf, size_t cap) {
    (void)start, (void)kl, (void)n, (void)buf, (void)cap;
    return -1;
  }
};

class Store {
 public:
  virtual ~Store() = default;
  virtual bool open(const OpenParams &p, std::string *err) = 0;
  virtual std::unique_ptr<Session> session() = 0;
  // Makes every acknowledged write durable (used to emulate `interval` for
  // peers without a native timer). true on success.
  virtual bool sync() { return true; }
  // Lets background space reclamation finish (spaceamp measures the steady
  // state): Firkin compacts, RocksDB and LevelDB compact their whole range;
  // stores that reuse space in place have nothing to do.
  virtual bool settle() { return true; }
  // true if the store has its own background flush for Sync::Interval.
  virtual bool native_interval() const { return false; }
  // true if Session::txn is implemented (open with transactions = true).
  virtual bool has_txn() const { return false; }
  // false for in-memory pseudo-stores: read workloads fill them in-process.
  virtual bool persistent() const { return true; }
  // Clean close; returns false on error.
  virtual bool close() = 0;
  // One line: the settings used for this sync mode.
  virtual std::string describe(Sync s) const = 0;
  // Last error text (adapters fill it).
  std::string last_error;
};

struct StoreEntry {
  const char *name;
  std::function<std::unique_ptr<Store>()> make;
};

// Defined by each adapter that was compiled in.
std::unique_ptr<Store> make_firkin();
std::unique_ptr<Store> make_rocksdb();
std::unique_ptr<Store> make_leveldb();
std::unique_ptr<Store> make_lmdb();
std::unique_ptr<Store> make_tkrzw();
std::unique_ptr<Store> make_kyoto();
std::unique_ptr<Store> make_sqlite();
std::unique_ptr<Store> make_ceiling();

// Sizing helper shared by adapters: bytes of user data expected.
inline uint64_t expected_bytes(const OpenParams &p) {
  return p.expected_keys * (p.key_size + p.value_size);
}

}  // namespace bench

#endif
