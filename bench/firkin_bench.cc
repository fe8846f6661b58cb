// firkin_bench — one measurement of one store on one workload, in this
// process, printed as one CSV line on stdout (a human line goes to stderr).
// bench/run.sh runs it once per (store, workload, repetition) in a fresh
// process each time and turns the CSV into docs/benchmarks.md.
//
//   firkin_bench --store=firkin --workload=readrandom --dir=/tmp/db --num=1000000
//                [--ops=N] [--duration=S] [--threads=T] [--sync=none|interval|always]
//                [--value_size=100] [--records=N] [--rounds=3] [--end=close|kill]
//                [--warmup=S] [--seed=N] [--header] [--list]
//
// The measured phase ends after --ops operations (default --num) or
// --duration seconds, whichever comes first; overwrite, readrandom,
// readmissing and YCSB A, B, C, F given --duration and no --ops run for
// the whole duration.
//
// Workloads (keys are 16 bytes, values --value_size bytes, 100 by default):
//   fillseq fillrandom            new database, N puts (sequential / shuffled keys)
//   overwrite                     existing database, uniform random puts
//   readrandom readmissing        existing database, uniform random gets of
//                                 present / absent keys (after a warm-up pass)
//   readwhilewriting              T reader threads + 1 writer overwriting; reads counted
//   deleterandom                  existing database, deletes in shuffled order
//   txnshort                      existing database, T threads of transactions of 4
//                                 reads + 2 writes of random keys (stores with
//                                 transactions; conflicts retried and counted)
//   txnhot                        the same over only the first 16 keys (high
//                                 contention: the abort rate is the point)
//   fillsync                      new database, T threads of puts with sync=always
//   ycsbload                      new database, --records records of 1000-byte values
//   ycsba ycsbb ycsbc ycsbd ycsbf YCSB core workloads on that database (zipfian,
//                                 scrambled; D reads the latest records and inserts);
//                                 each settles the store first, untimed
//   ycsbe                         YCSB E on that database: 95% short ordered scans
//                                 (1-100 entries, uniform) from a zipfian start key,
//                                 5% inserts of new records (stores with scans)
//   scanall                       existing database: one full ordered scan per op
//                                 (ops = scans; extra: entries per second)
//   --ordered=1                   Firkin: keys in an ordered namespace (implied by
//                                 ycsbe and scanall; give it to ycsbload too: the
//                                 load is then settled, untimed, in every store)
//   memory                        new database, N keys of 8 bytes with 8-byte values:
//                                 anonymous RSS per key after the load
//   open                          time to open an existing database + a first get
//   spaceamp                      new database, N keys then --rounds x N uniform
//                                 overwrites, settle (Firkin: firkin_compact; RocksDB,
//                                 LevelDB: CompactRange), clean close, bytes on disk /
//                                 live bytes
//   --values=text                 values are text-like (Zipf-distributed words from
//                                 a 512-word vocabulary; ~2.1x by zstd per 1000 B) instead of
//                                 random bytes; fill workloads then settle (untimed)
//                                 and report disk_bytes and disk_bytes_per_key
//                                 after the close (compression: docs/benchmarks.md)
//
// Latency: every operation is timed with the TSC (rdtsc, about 10 ns per
// pair here), recorded in a log-linear histogram (32 sub-buckets per power
// of two, about 3% resolution), converted to ns with a calibration taken over
// the measured phase itself. Throughput = operations / wall time of the phase.
// Nothing here asserts anything about speed.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench.h"

namespace bench {

const char *sync_name(Sync s) {
  return s == Sync::None ? "none" : s == Sync::Interval ? "interval" : "always";
}

namespace {

// ---------------------------------------------------------------- stores

std::vector<StoreEntry> all_stores() {
  std::vector<StoreEntry> v;
#ifdef BENCH_HAVE_FIRKIN
  v.push_back({"firkin", make_firkin});
#endif
#ifdef BENCH_HAVE_ROCKSDB
  v.push_back({"rocksdb", make_rocksdb});
#endif
#ifdef BENCH_HAVE_LEVELDB
  v.push_back({"leveldb", make_leveldb});
#endif
#ifdef BENCH_HAVE_LMDB
  v.push_back({"lmdb", make_lmdb});
#endif
#ifdef BENCH_HAVE_TKRZW
  v.push_back({"tkrzw", make_tkrzw});
#endif
#ifdef BENCH_HAVE_KYOTO
  v.push_back({"kyoto", make_kyoto});
#endif
#ifdef BENCH_HAVE_SQLITE
  v.push_back({"sqlite", make_sqlite});
#endif
  v.push_back({"ceiling", make_ceiling});
  return v;
}

// ---------------------------------------------------------------- time

using Clock = std::chrono::steady_clock;

inline uint64_t ticks() { return __rdtsc(); }

double now_s() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

// Ticks per nanosecond, a quick estimate (deadlines only).
double calibrate_tsc() {
  double t0 = now_s();
  uint64_t c0 = ticks();
  while (now_s() - t0 < 0.02) {
  }
  double t1 = now_s();
  uint64_t c1 = ticks();
  return double(c1 - c0) / ((t1 - t0) * 1e9);
}

// ---------------------------------------------------------------- histogram

struct Hist {
  static constexpr int kSub = 32;  // sub-buckets per power of two
  static constexpr int kBuckets = 64 * kSub;
  std::vector<uint64_t> b = std::vector<uint64_t>(kBuckets, 0);
  uint64_t n = 0;

  static int index(uint64_t v) {
    if (v < uint64_t(kSub)) return int(v);
    int lg = 63 - __builtin_clzll(v);  // >= 5
    int sub = int((v >> (lg - 5)) & (kSub - 1));
    return (lg - 4) * kSub + sub;
  }
  // Lower bound and width of bucket i.
  static double low(int i) {
    if (i < kSub) return i;
    int lg = i / kSub + 4, sub = i % kSub;
    return std::ldexp(double(kSub + sub), lg - 5);
  }
  static double width(int i) {
    if (i < kSub) return 1;
    return std::ldexp(1.0, i / kSub + 4 - 5);
  }
  void add(uint64_t v) {
    b[index(v)]++;
    n++;
  }
  void merge(const Hist &o) {
    for (int i = 0; i < kBuckets; i++) b[i] += o.b[i];
    n += o.n;
  }
  // The q-quantile, in ticks (bucket midpoint).
  double quantile(double q) const {
    if (n == 0) return 0;
    uint64_t want = uint64_t(std::ceil(q * double(n)));
    if (want == 0) want = 1;
    uint64_t acc = 0;
    for (int i = 0; i < kBuckets; i++) {
      acc += b[i];
      if (acc >= want) return low(i) + width(i) / 2;
    }
    return low(kBuckets - 1);
  }
};

// ---------------------------------------------------------------- keys and values

// 16 decimal digits, zero padded: the db_bench key format.
inline void key16(uint64_t id, char *out) {
  static const char digits[] =
      "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
      "5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
  for (int i = 14; i >= 0; i -= 2) {
    unsigned d = unsigned(id % 100);
    id /= 100;
    out[i] = digits[2 * d];
    out[i + 1] = digits[2 * d + 1];
  }
}

// A key of --key_size bytes (16 by default) for id.
struct KeyFmt {
  size_t size = 16;
  bool binary8 = false;  // memory test: 8-byte big-endian ids
  bool ycsb = false;     // "user" + 12 digits of a bijective scramble of id
  void make(uint64_t id, char *out) const {
    if (binary8) {
      uint64_t be = __builtin_bswap64(id * 0x9E3779B97F4A7C15ull);  // bijective
      memcpy(out, &be, 8);
    } else if (ycsb) {
      // id * odd constant mod 10^12 is a bijection on [0, 10^12).
      const unsigned __int128 m = 1000000000000ull;
      uint64_t s = uint64_t((unsigned __int128)(id) * 736871337049ull % m);
      char tmp[16];
      key16(s, tmp);
      memcpy(out, "user", 4);
      memcpy(out + 4, tmp + 4, 12);
    } else {
      key16(id, out);
    }
  }
};

struct Values {
  std::string data;
  size_t size;
  Values(size_t vsize, uint64_t seed, bool text = false) : size(vsize) {
    std::mt19937_64 r(seed);
    data.resize((1 << 20) + vsize + 8);
    if (text) {
      // Text-like: words of 2..9 lower-case letters from a fixed vocabulary
      // of 512, drawn with Zipf's law (s = 1, as word frequencies in text),
      // separated by spaces. One 1000-byte value alone compresses about
      // 2.1x with Zstandard (level 3) and 1.5x with LZ4; a 4 KiB block of
      // four values more.
      std::vector<std::string> vocab(512);
      std::vector<double> weight(vocab.size());
      for (size_t j = 0; j < vocab.size(); j++) {
        vocab[j].resize(2 + r() % 8);
        for (auto &ch : vocab[j]) ch = char('a' + r() % 26);
        weight[j] = 1.0 / double(j + 1);
      }
      std::discrete_distribution<size_t> zipf(weight.begin(), weight.end());
      size_t i = 0;
      while (i < data.size()) {
        const std::string &w = vocab[zipf(r)];
        for (size_t j = 0; j < w.size() && i < data.size(); j++) data[i++] = w[j];
        if (i < data.size()) data[i++] = ' ';
      }
      return;
    }
    for (size_t i = 0; i < data.size(); i += 8) {
      uint64_t x = r();
      memcpy(&data[i], &x, std::min<size_t>(8, data.size() - i));
    }
  }
  const char *at(uint64_t i) const { return data.data() + (i * 97) % (1 << 20); }
};

struct Rng {  // xoshiro-ish splitmix, per thread
  uint64_t s;
  // The seed is hashed: seeds seed and seed + 1 (threads tid and tid + 1)
  // must not give the same sequence shifted by one draw (a splitmix state
  // of seed * G + 1 did: neighbouring threads then touched the same keys
  // in lockstep, and txnshort counted their conflicts).
  explicit Rng(uint64_t seed) : s(0) {
    s = seed;
    s = next() ^ 0x2545F4914F6CDD1Dull;
  }
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t uniform(uint64_t n) { return (unsigned __int128)next() * n >> 64; }
  double unit() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
};

std::vector<uint32_t> shuffled(uint64_t n, uint64_t seed) {
  std::vector<uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  Rng r(seed);
  for (uint64_t i = n; i > 1; i--) std::swap(v[i - 1], v[r.uniform(i)]);
  return v;
}

// YCSB's zipfian generator (Gray et al.), theta 0.99, over [0, n).
struct Zipf {
  double theta = 0.99, alpha, zetan, eta, half_pow;
  uint64_t n;
  explicit Zipf(uint64_t items) : n(items) {
    double z = 0;
    for (uint64_t i = 1; i <= n; i++) z += 1.0 / std::pow(double(i), theta);
    zetan = z;
    double zeta2 = 1.0 + 1.0 / std::pow(2.0, theta);
    alpha = 1.0 / (1.0 - theta);
    eta = (1 - std::pow(2.0 / double(n), 1 - theta)) / (1 - zeta2 / zetan);
    half_pow = 1 + std::pow(0.5, theta);
  }
  uint64_t next(Rng &r) const {
    double u = r.unit(), uz = u * zetan;
    if (uz < 1.0) return 0;
    if (uz < half_pow) return 1;
    uint64_t v = uint64_t(double(n) * std::pow(eta * u - eta + 1, alpha));
    return v >= n ? n - 1 : v;
  }
};

inline uint64_t fnv64(uint64_t v) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (int i = 0; i < 8; i++) {
    h ^= v & 0xff;
    h *= 1099511628211ull;
    v >>= 8;
  }
  return h;
}

// ---------------------------------------------------------------- /proc

long rss_anon_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("RssAnon:", 0) == 0) return std::atol(line.c_str() + 8);
  return -1;
}

void disk_usage(const std::string &dir, uint64_t *alloc, uint64_t *apparent) {
  *alloc = *apparent = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      *alloc += uint64_t(st.st_blocks) * 512;
      *apparent += uint64_t(st.st_size);
    }
  }
}

// ---------------------------------------------------------------- config

struct Config {
  std::string store, workload, dir;
  uint64_t num = 1000000, ops = 0, records = 0;
  double duration = 0, warmup = 1.0;
  int threads = 1, rounds = 3;
  Sync sync = Sync::None;
  bool sync_given = false;
  size_t value_size = 0, key_size = 16;
  std::string end = "close";
  uint64_t seed = 42;
  bool ordered = false;
  bool text_values = false;  // --values=text
};

[[noreturn]] void die(const std::string &msg) {
  fprintf(stderr, "firkin_bench: %s\n", msg.c_str());
  exit(2);
}

Config parse(int argc, char **argv, bool *header, bool *list) {
  Config c;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--header") { *header = true; continue; }
    if (a == "--list") { *list = true; continue; }
    size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) die("bad argument " + a);
    std::string k = a.substr(2, eq - 2), v = a.substr(eq + 1);
    if (k == "store") c.store = v;
    else if (k == "workload") c.workload = v;
    else if (k == "dir") c.dir = v;
    else if (k == "num") c.num = std::stoull(v);
    else if (k == "ops") c.ops = std::stoull(v);
    else if (k == "records") c.records = std::stoull(v);
    else if (k == "duration") c.duration = std::stod(v);
    else if (k == "warmup") c.warmup = std::stod(v);
    else if (k == "threads") c.threads = std::stoi(v);
    else if (k == "rounds") c.rounds = std::stoi(v);
    else if (k == "value_size") c.value_size = std::stoull(v);
    else if (k == "end") c.end = v;
    else if (k == "seed") c.seed = std::stoull(v);
    else if (k == "ordered") c.ordered = v == "1" || v == "true";
    else if (k == "values") {
      if (v == "text") c.text_values = true;
      else if (v != "random") die("bad --values " + v + " (random or text)");
    }
    else if (k == "sync") {
      c.sync_given = true;
      if (v == "none") c.sync = Sync::None;
      else if (v == "interval") c.sync = Sync::Interval;
      else if (v == "always") c.sync = Sync::Always;
      else die("bad --sync " + v);
    } else {
      die("unknown option --" + k);
    }
  }
  if (c.threads < 1) c.threads = 1;
  return c;
}

// ---------------------------------------------------------------- the run

// One per thread, written on every operation (the counts, the histogram's
// total): aligned to two cache lines so that no two threads' counters
// share a line, or a pair of them. Until 2026-11-27 they were 56 bytes
// apart in one vector, and at 2 threads and more every operation of every
// store moved a line between cores (in a YCSB B profile at 2 threads, a
// quarter of the samples sat on the timer and the histogram update after
// each operation): a cost per operation the same for every store, which
// pulled the faster stores' figures down the most.
struct alignas(128) ThreadOut {
  Hist h;
  uint64_t ops = 0, found = 0, errors = 0;
};

struct PhaseOut {
  Hist h;
  uint64_t ops = 0, found = 0, errors = 0;
  double seconds = 0, ticks_per_ns = 1;
};

std::string g_first_error;
std::mutex g_err_mu;
void note_error(const std::string &what) {
  std::lock_guard<std::mutex> g(g_err_mu);
  if (g_first_error.empty()) g_first_error = what;
}

class Runner {
 public:
  Runner(const Config &c, Store *s, double tpn) : c_(c), store_(s), tpn_(tpn) {}

  // Runs fn(tid, session, out, deadline_ticks) on n threads started together.
  template <class F>
  PhaseOut phase(int n, F fn) {
    std::vector<std::unique_ptr<Session>> sessions;
    for (int i = 0; i < n; i++) {
      sessions.push_back(store_->session());
      if (!sessions.back()) die("cannot create a session: " + store_->last_error);
    }
    std::vector<ThreadOut> outs(n);
    std::atomic<bool> go{false};
    std::atomic<int> ready{0};
    std::vector<std::thread> ts;
    uint64_t deadline = UINT64_MAX;
    for (int i = 0; i < n; i++) {
      ts.emplace_back([&, i] {
        ready++;
        while (!go.load(std::memory_order_acquire)) {
        }
        fn(i, *sessions[i], outs[i], deadline);
      });
    }
    while (ready.load() < n) {
    }
    double t0 = now_s();
    uint64_t c0 = ticks();
    if (c_.duration > 0) deadline = c0 + uint64_t(c_.duration * 1e9 * tpn_);
    go.store(true, std::memory_order_release);
    for (auto &t : ts) t.join();
    double t1 = now_s();
    uint64_t c1 = ticks();
    PhaseOut p;
    for (auto &o : outs) {
      p.h.merge(o.h);
      p.ops += o.ops;
      p.found += o.found;
      p.errors += o.errors;
    }
    p.seconds = t1 - t0;
    p.ticks_per_ns = double(c1 - c0) / ((t1 - t0) * 1e9);
    sessions.clear();
    return p;
  }

  double tpn() const { return tpn_; }

 private:
  const Config &c_;
  Store *store_;
  double tpn_;
};

// Per-op timing helpers.
#define TIMED(out, expr)            \
  do {                              \
    uint64_t _t0 = ticks();         \
    expr;                           \
    (out).h.add(ticks() - _t0);     \
  } while (0)

}  // namespace
}  // namespace bench

using namespace bench;

int main(int argc, char **argv) {
  bool header = false, list = false;
  Config c = parse(argc, argv, &header, &list);
  auto stores = all_stores();
  if (list) {
    for (auto &s : stores) printf("%s\n", s.name);
    return 0;
  }
  const char *kHeader =
      "store,workload,threads,sync,num,value_size,ops,seconds,ops_per_s,p50_us,p99_us,p999_us,"
      "errors,extra";
  if (header) {
    printf("%s\n", kHeader);
    if (c.store.empty()) return 0;
  }
  if (c.store.empty() || c.workload.empty()) die("need --store and --workload (or --list)");
  if (c.dir.empty() && c.store != "ceiling") die("need --dir");
  std::unique_ptr<Store> store;
  for (auto &s : stores)
    if (c.store == s.name) store = s.make();
  if (!store) die("store " + c.store + " is not built in (see --list)");

  const std::string &w = c.workload;
  bool is_ycsb = w.rfind("ycsb", 0) == 0 || w == "scanall";
  bool fresh = w == "fillseq" || w == "fillrandom" || w == "fillsync" || w == "ycsbload" ||
               w == "memory" || w == "spaceamp";
  if (c.value_size == 0) c.value_size = is_ycsb ? 1000 : (w == "memory" ? 8 : 100);
  if (w == "memory") c.key_size = 8;
  if (w == "fillsync" && !c.sync_given) c.sync = Sync::Always;
  if (is_ycsb && c.records == 0) c.records = c.num;
  uint64_t keyspace = is_ycsb ? c.records : c.num;

  KeyFmt kf;
  kf.size = c.key_size;
  kf.binary8 = w == "memory";
  kf.ycsb = is_ycsb;
  Values vals(c.value_size, c.seed, c.text_values);

  if (!c.dir.empty()) {
    std::error_code ec;
    if (fresh) std::filesystem::remove_all(c.dir, ec);
    std::filesystem::create_directories(c.dir, ec);
  }

  // Memory test: baseline after the harness's own allocations.
  std::vector<uint32_t> perm;
  if (w == "fillrandom" || w == "memory" || w == "deleterandom" || w == "ycsbload")
    perm = shuffled(keyspace, c.seed);
  long rss0 = rss_anon_kb();

  OpenParams op;
  op.dir = c.dir;
  op.sync = c.sync;
  op.expected_keys = keyspace + (w == "ycsbd" ? keyspace / 5 + 1000 : 0);
  op.key_size = c.key_size;
  op.value_size = c.value_size;
  op.fresh = fresh;
  op.threads = c.threads + (w == "readwhilewriting" ? 1 : 0);
  op.transactions = w == "txnshort" || w == "txnhot";
  op.ordered = c.ordered || w == "ycsbe" || w == "scanall";

  std::string err;
  double tpn0 = calibrate_tsc();
  double to0 = now_s();
  uint64_t topen0 = ticks();
  if (!store->open(op, &err)) die(c.store + ": open failed: " + err);
  uint64_t topen1 = ticks();

  Runner run(c, store.get(), tpn0);
  std::map<std::string, std::string> extra;
  extra["settings"] = store->describe(c.sync);

  // Background flush for peers without a native interval.
  std::atomic<bool> stop_flush{false};
  std::thread flusher;
  if (c.sync == Sync::Interval && !store->native_interval()) {
    flusher = std::thread([&] {
      while (!stop_flush.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!stop_flush.load() && !store->sync()) note_error("background sync failed");
      }
    });
  }

  // In-memory pseudo-stores (ceiling) hold nothing after a fresh open: fill
  // them here, untimed, before workloads that expect an existing database.
  auto prefill = [&](uint64_t n) {
    auto s = store->session();
    char k[64];
    for (uint64_t i = 0; i < n; i++) {
      kf.make(i, k);
      if (!s->put(k, c.key_size, vals.at(i), c.value_size)) die("prefill failed");
    }
  };
  if (!fresh && !store->persistent()) prefill(keyspace);

  // Warm-up for read workloads: a shuffled pass over the keys, capped in time.
  auto warmup = [&]() {
    if (c.warmup <= 0) return;
    auto s = store->session();
    char k[64];
    std::vector<char> buf(c.value_size + 64);
    size_t vl;
    Rng r(c.seed + 99);
    double t0 = now_s();
    for (uint64_t i = 0; i < keyspace; i++) {
      kf.make(r.uniform(keyspace), k);
      s->get(k, c.key_size, buf.data(), buf.size(), &vl);
      if ((i & 1023) == 0 && now_s() - t0 > c.warmup) break;
    }
  };

  // Operations in the measured phase: --ops, else --num. With --duration
  // and no --ops, the workloads that draw from an existing key set
  // (overwrite, readrandom, readmissing, YCSB A, B, C, F) run until the
  // deadline instead: --num is their key count, not a length. (Until
  // 2026-11-29 they stopped at --num operations, which at the 2-core
  // machine's rates was 0.05-0.1 s of a "1 s" run: Firkin's YCSB A at 2
  // threads read 5.6-9.8 M across 1 M-operation runs, 9.7-10.2 M across
  // 1-s runs.)
  const bool open_ended = w == "overwrite" || w == "readrandom" || w == "readmissing" ||
                          w == "ycsba" || w == "ycsbb" || w == "ycsbc" || w == "ycsbf";
  uint64_t total_ops = c.ops ? c.ops : c.duration > 0 && open_ended ? (uint64_t(1) << 62) : c.num;
  int T = c.threads;
  auto quota = [&](int tid) {
    uint64_t q = total_ops / T;
    return q + (uint64_t(tid) < total_ops % T ? 1 : 0);
  };
  size_t K = c.key_size, V = c.value_size;

  PhaseOut p;
  bool expect_found = false, expect_missing = false;
  uint64_t tmp_n = 0;
  uint64_t p_reads = UINT64_MAX;  // reads in the phase (default: every op)
  double rss_per_key = -1;

  if (w == "fillseq" || w == "fillrandom") {
    T = 1;
    total_ops = c.num;
    p = run.phase(1, [&](int, Session &s, ThreadOut &o, uint64_t dl) {
      char k[64];
      for (uint64_t i = 0; i < c.num; i++) {
        uint64_t id = w == "fillseq" ? i : perm[i];
        kf.make(id, k);
        bool ok;
        TIMED(o, ok = s.put(k, K, vals.at(i), V));
        if (!ok) { o.errors++; note_error("put failed"); }
        o.ops++;
        if ((i & 255) == 0 && ticks() > dl) break;
      }
    });
  } else if (w == "overwrite" || w == "fillsync") {
    p = run.phase(T, [&](int tid, Session &s, ThreadOut &o, uint64_t dl) {
      char k[64];
      Rng r(c.seed + 1000 + tid);
      uint64_t q = quota(tid);
      for (uint64_t i = 0; i < q; i++) {
        kf.make(r.uniform(c.num), k);
        bool ok;
        TIMED(o, ok = s.put(k, K, vals.at(i + tid * 7919), V));
        if (!ok) { o.errors++; note_error("put failed"); }
        o.ops++;
        if ((i & 15) == 0 && ticks() > dl) break;
      }
    });
  } else if (w == "readrandom" || w == "readmissing") {
    warmup();
    bool missing = w == "readmissing";
    expect_found = !missing;
    expect_missing = missing;
    p = run.phase(T, [&](int tid, Session &s, ThreadOut &o, uint64_t dl) {
      char k[64];
      std::vector<char> buf(V + 64);
      size_t vl;
      Rng r(c.seed + 2000 + tid);
      uint64_t q = quota(tid);
      for (uint64_t i = 0; i < q; i++) {
        // absent keys: ids in [num, 2 num), never written
        kf.make(r.uniform(c.num) + (missing ? c.num : 0), k);
        int rc;
        TIMED(o, rc = s.get(k, K, buf.data(), buf.size(), &vl));
        if (rc < 0) { o.errors++; note_error("get failed"); }
        o.found += rc == 1;
        o.ops++;
        if ((i & 255) == 0 && ticks() > dl) break;
      }
    });
  } else if (w == "readwhilewriting") {
    warmup();
    expect_found = true;
    std::atomic<bool> done{false};
    std::atomic<uint64_t> writes{0};
    p = run.phase(T + 1, [&](int tid, Session &s, ThreadOut &o, uint64_t dl) {
      char k[64];
      Rng r(c.seed + 3000 + tid);
      if (tid == T) {  // the writer
        uint64_t n = 0;
        while (!done.load(std::memory_order_relaxed)) {
          kf.make(r.uniform(c.num), k);
          if (!s.put(k, K, vals.at(n), V)) { note_error("put failed"); break; }
          n++;
        }
        writes = n;
        return;
      }
      std::vector<char> buf(V + 64);
      size_t vl;
      uint64_t q = quota(tid);
      for (uint64_t i = 0; i < q; i++) {
        kf.make(r.uniform(c.num), k);
        int rc;
        TIMED(o, rc = s.get(k, K, buf.data(), buf.size(), &vl));
        if (rc < 0) { o.errors++; note_error("get failed"); }
        o.found += rc == 1;
        o.ops++;
        if ((i & 255) == 0 && ticks() > dl) break;
      }
      done = true;
    });
    extra["writes_per_s"] = std::to_string(uint64_t(double(writes.load()) / p.seconds));
  } else if (w == "deleterandom") {
    std::vector<uint32_t> pm = shuffled(c.num, c.seed + 5);
    T = 1;
    p = run.phase(1, [&](int, Session &s, ThreadOut &o, uint64_t dl) {
      char k[64];
      uint64_t q = std::min<uint64_t>(total_ops, c.num);
      for (uint64_t i = 0; i < q; i++) {
        kf.make(pm[i], k);
        bool ok;
        TIMED(o, ok = s.del(k, K));
        if (!ok) { o.errors++; note_error("delete failed"); }
        o.ops++;
        if ((i & 255) == 0 && ticks() > dl) break;
      }
    });
  } else if (w == "ycsbload") {
    T = 1;
    p = run.phase(1, [&](int, Session &s, ThreadOut &o, uint64_t dl) {
      char k[64];
      for (uint64_t i = 0; i < c.records; i++) {
        kf.make(perm[i], k);
        bool ok;
        TIMED(o, ok = s.put(k, K, vals.at(i), V));
        if (!ok) { o.errors++; note_error("put failed"); }
        o.ops++;
        if ((i & 255) == 0 && ticks() > dl) break;
      }
    });
    // A base for ordered scans (YCSB E, scanall) is settled after its load,
    // untimed, in every store: what a user does after a bulk load before
    // scanning. Firkin's full compaction rewrites the randomly ordered load
    // in key order; RocksDB and LevelDB compact their whole range; LMDB and
    // SQLite keep their B-trees as the load left them.
    if (op.ordered && !store->settle()) note_error("settle failed");
  } else if (w == "ycsbe") {
    // E: 95% scans of 1..100 entries from a zipfian (scrambled) start key,
    // 5% inserts of new records; ops = scans + inserts.
    warmup();
    Zipf z(c.records);
    std::vector<uint64_t> ztab(1 << 20);
    {
      Rng zr(c.seed + 77);
      for (auto &v : ztab) v = fnv64(z.next(zr)) % c.records;
    }
    std::atomic<uint64_t> next_insert{c.records};
    std::atomic<uint64_t> scanned{0}, scans{0};
    p = run.phase(T, [&](int tid, Session &s, ThreadOut &o, uint64_t dl) {
      char k[64];
      std::vector<char> buf(V + 64);
      Rng r(c.seed + 4500 + tid);
      uint64_t q = quota(tid), got = 0, ns = 0;
      for (uint64_t i = 0; i < q; i++) {
        bool is_scan = r.uniform(100) < 95;
        uint64_t t0;
        if (is_scan) {
          kf.make(ztab[(i + uint64_t(tid) * 524309) & ((1 << 20) - 1)], k);
          size_t len = 1 + size_t(r.uniform(100));
          t0 = ticks();
          long n = s.scan(k, K, len, buf.data(), buf.size());
          o.h.add(ticks() - t0);
          if (n < 0) { o.errors++; note_error("scan failed"); } else { got += uint64_t(n); }
          ns++;
        } else {
          kf.make(next_insert.fetch_add(1), k);
          t0 = ticks();
          bool ok = s.put(k, K, vals.at(i + tid * 7919), V);
          o.h.add(ticks() - t0);
          if (!ok) { o.errors++; note_error("put failed"); }
        }
        o.ops++;
        if ((i & 63) == 0 && ticks() > dl) break;
      }
      scanned += got;
      scans += ns;
    });
    extra["scans"] = std::to_string(scans.load());
    extra["entries_per_scan"] =
        std::to_string(scans.load() ? double(scanned.load()) / double(scans.load()) : 0.0);
  } else if (w == "scanall") {
    // Full ordered scans from the first key; ops = scans.
    T = 1;
    std::atomic<uint64_t> scanned{0};
    p = run.phase(1, [&](int, Session &s, ThreadOut &o, uint64_t dl) {
      std::vector<char> buf(V + 64);
      uint64_t q = c.ops ? c.ops : 3;
      for (uint64_t i = 0; i < q; i++) {
        uint64_t t0 = ticks();
        long n = s.scan("", 0, size_t(1) << 62, buf.data(), buf.size());
        o.h.add(ticks() - t0);
        if (n < 0) { o.errors++; note_error("scan failed"); } else { scanned += uint64_t(n); }
        o.ops++;
        if (ticks() > dl) break;
      }
    });
    extra["entries_per_s"] = std::to_string(uint64_t(double(scanned.load()) / p.seconds));
    extra["entries_per_scan"] = std::to_string(p.ops ? scanned.load() / p.ops : 0);
  } else if (is_ycsb) {
    // A: 50% read / 50% update; B: 95/5; C: 100% read; D: 95% read of the
    // latest records / 5% insert; F: 50% read / 50% read-modify-write.
    char kind = w.size() == 5 ? w[4] : '?';
    int read_pct = kind == 'a' ? 50 : kind == 'b' ? 95 : kind == 'c' ? 100
                 : kind == 'd' ? 95 : kind == 'f' ? 50 : -1;
    if (read_pct < 0) die("unknown workload " + w);
    // Every store starts each YCSB phase settled, untimed (Firkin:
    // firkin_compact; RocksDB, LevelDB: CompactRange; the stores that
    // update in place have nothing to do). The phases run one after the
    // other on one database, each in a short process: unsettled, Firkin's
    // later phases ran on a log of up to 28x the live data left by the
    // earlier update phases, which no background pass of a sub-second
    // process could reclaim, and measured that backlog, not the workload.
    if (!store->settle()) note_error("settle failed");
    warmup();
    // Zipfian draws precomputed (a pow() per draw would cost more than a
    // hash-store get): 2^20 draws, each thread walks them from its own offset.
    Zipf z(c.records);
    std::vector<uint64_t> ztab(1 << 20);
    {
      Rng zr(c.seed + 77);
      for (auto &v : ztab) v = kind == 'd' ? z.next(zr) : fnv64(z.next(zr)) % c.records;
    }
    std::atomic<uint64_t> next_insert{c.records};
    std::atomic<uint64_t> reads_total{0};
    p = run.phase(T, [&](int tid, Session &s, ThreadOut &o, uint64_t dl) {
      char k[64];
      std::vector<char> buf(V + 64);
      size_t vl;
      Rng r(c.seed + 4000 + tid);
      uint64_t q = quota(tid), reads = 0;
      for (uint64_t i = 0; i < q; i++) {
        bool is_read = int(r.uniform(100)) < read_pct;
        uint64_t id, zv = ztab[(i + uint64_t(tid) * 524309) & ((1 << 20) - 1)];
        reads += is_read;
        if (kind == 'd') {
          uint64_t latest = next_insert.load(std::memory_order_relaxed);
          if (is_read) {
            uint64_t back = zv;
            id = back < latest ? latest - 1 - back : 0;
          } else {
            id = next_insert.fetch_add(1);
          }
        } else {
          id = zv;
        }
        kf.make(id, k);
        uint64_t t0 = ticks();
        if (is_read) {
          int rc = s.get(k, K, buf.data(), buf.size(), &vl);
          if (rc < 0) { o.errors++; note_error("get failed"); }
          o.found += rc == 1;
        } else {
          if (kind == 'f') {
            int rc = s.get(k, K, buf.data(), buf.size(), &vl);
            if (rc < 0) { o.errors++; note_error("get failed"); }
          }
          if (!s.put(k, K, vals.at(i + tid * 7919), V)) { o.errors++; note_error("put failed"); }
        }
        o.h.add(ticks() - t0);
        o.ops++;
        if ((i & 63) == 0 && ticks() > dl) break;
      }
      reads_total += reads;
    });
    if (kind != 'd') expect_found = true;
    p_reads = reads_total.load();
  } else if (w == "txnshort" || w == "txnhot") {
    // Short transactions: 4 reads and 2 writes of distinct uniformly random
    // keys (txnshort: of all keys, no contention to speak of; txnhot: of
    // the first 16, so concurrent transactions collide), committed with the
    // store's own conflict detection; a conflict is retried (counted). ops =
    // commits; the abort rate is conflicts / (commits + conflicts).
    if (!store->has_txn()) die(c.store + " has no transactions");
    const uint64_t range = w == "txnhot" ? std::min<uint64_t>(16, c.num) : c.num;
    warmup();
    std::atomic<uint64_t> conflicts{0};
    p = run.phase(T, [&](int tid, Session &s, ThreadOut &o, uint64_t dl) {
      char keys[6][64];
      const char *rk[4] = {keys[0], keys[1], keys[2], keys[3]};
      const char *wk[2] = {keys[4], keys[5]};
      std::vector<char> buf(V + 64);
      Rng r(c.seed + 7000 + tid);
      uint64_t q = quota(tid), retries = 0;
      for (uint64_t i = 0; i < q; i++) {
        uint64_t ids[6];
        for (int j = 0; j < 6; j++) {
          bool dup;
          do {
            ids[j] = r.uniform(range);
            dup = false;
            for (int m = 0; m < j; m++) dup |= ids[m] == ids[j];
          } while (dup);
          kf.make(ids[j], keys[j]);
        }
        uint64_t t0 = ticks();
        int rc;
        while ((rc = s.txn(rk, 4, wk, 2, K, vals.at(i + tid * 7919), V, buf.data(), buf.size())) ==
               0) {
          retries++;
        }
        o.h.add(ticks() - t0);
        if (rc < 0) { o.errors++; note_error("transaction failed"); }
        o.ops++;
        if ((i & 63) == 0 && ticks() > dl) break;
      }
      conflicts += retries;
    });
    extra["conflicts"] = std::to_string(conflicts.load());
    const uint64_t commits = p.ops;
    extra["abort_rate"] = std::to_string(commits + conflicts.load() == 0 ? 0.0
        : double(conflicts.load()) / double(commits + conflicts.load()));
  } else if (w == "memory") {
    T = 1;
    p = run.phase(1, [&](int, Session &s, ThreadOut &o, uint64_t dl) {
      char k[64];
      for (uint64_t i = 0; i < c.num; i++) {
        kf.make(perm[i], k);
        bool ok;
        TIMED(o, ok = s.put(k, K, vals.at(i), V));
        if (!ok) { o.errors++; note_error("put failed"); }
        o.ops++;
        if ((i & 255) == 0 && ticks() > dl) break;
      }
    });
    long rss1 = rss_anon_kb();
    rss_per_key = double(rss1 - rss0) * 1024.0 / double(std::max<uint64_t>(1, p.ops));
    extra["rss_anon_kb_before"] = std::to_string(rss0);
    extra["rss_anon_kb_after"] = std::to_string(rss1);
    char b[64];
    snprintf(b, sizeof b, "%.2f", rss_per_key);
    extra["rss_anon_bytes_per_key"] = b;
  } else if (w.rfind("open", 0) == 0) {  // open, open_clean, open_kill
    // The open itself was timed above; add one get so lazy work is counted.
    auto s = store->session();
    char k[64];
    std::vector<char> buf(1100);
    size_t vl;
    kf.make(0, k);
    s->get(k, K, buf.data(), buf.size(), &vl);
    s.reset();
    uint64_t t1 = ticks();
    double secs = double(t1 - topen0) / (run.tpn() * 1e9);
    p.ops = 1;
    p.seconds = secs;
    p.ticks_per_ns = run.tpn();
    char b[64];
    snprintf(b, sizeof b, "%.2f", secs * 1e3);
    extra["open_ms"] = b;
    snprintf(b, sizeof b, "%.2f", double(topen1 - topen0) / (run.tpn() * 1e6));
    extra["open_call_ms"] = b;
  } else if (w == "spaceamp") {
    prefill(c.num);
    total_ops = c.num * uint64_t(std::max(1, c.rounds));
    T = 1;
    p = run.phase(1, [&](int, Session &s, ThreadOut &o, uint64_t dl) {
      char k[64];
      Rng r(c.seed + 6000);
      for (uint64_t i = 0; i < total_ops; i++) {
        kf.make(r.uniform(c.num), k);
        bool ok;
        TIMED(o, ok = s.put(k, K, vals.at(i), V));
        if (!ok) { o.errors++; note_error("put failed"); }
        o.ops++;
        if ((i & 255) == 0 && ticks() > dl) break;
      }
    });
    if (!store->settle()) note_error("settle failed");  // untimed
  } else {
    die("unknown workload " + w);
  }
  (void)tmp_n;
  (void)to0;

  // ---- end: clean close or kill
  stop_flush = true;
  if (flusher.joinable()) flusher.join();
  if (p_reads == UINT64_MAX) p_reads = p.ops;
  if (expect_found && p.found != p_reads)
    fprintf(stderr, "firkin_bench: WARNING %s/%s: %llu of %llu reads found\n", c.store.c_str(),
            w.c_str(), (unsigned long long)p.found, (unsigned long long)p_reads);
  if (expect_missing && p.found != 0)
    fprintf(stderr, "firkin_bench: WARNING %s/%s: %llu absent keys found\n", c.store.c_str(),
            w.c_str(), (unsigned long long)p.found);
  if (expect_found || expect_missing) {
    extra["found"] = std::to_string(p.found);
    extra["reads"] = std::to_string(p_reads);
  }

  bool kill_at_end = c.end == "kill";
  // Text values (compression): the space a fresh load takes once settled.
  const bool report_space = c.text_values && fresh && w != "spaceamp" && !kill_at_end;
  if (report_space && !store->settle()) note_error("settle failed");  // untimed
  if (!kill_at_end) {
    double tc0 = now_s();
    if (!store->close()) note_error("close failed: " + store->last_error);
    char b[64];
    snprintf(b, sizeof b, "%.2f", (now_s() - tc0) * 1e3);
    extra["close_ms"] = b;
  }
  if (w == "spaceamp") {
    uint64_t alloc, apparent;
    disk_usage(c.dir, &alloc, &apparent);
    double live = double(c.num) * double(K + V);
    char b[64];
    snprintf(b, sizeof b, "%.3f", double(alloc) / live);
    extra["space_amp"] = b;
    snprintf(b, sizeof b, "%.3f", double(apparent) / live);
    extra["space_amp_apparent"] = b;
    extra["disk_bytes"] = std::to_string(alloc);
  }
  if (report_space) {
    uint64_t alloc, apparent;
    disk_usage(c.dir, &alloc, &apparent);
    extra["disk_bytes"] = std::to_string(alloc);
    char b[64];
    snprintf(b, sizeof b, "%.1f", double(alloc) / double(std::max<uint64_t>(1, keyspace)));
    extra["disk_bytes_per_key"] = b;
  }
  if (c.text_values) extra["values"] = "text";
  if (!g_first_error.empty()) extra["first_error"] = g_first_error;

  double tpn = p.ticks_per_ns > 0 ? p.ticks_per_ns : run.tpn();
  double p50 = p.h.quantile(0.50) / tpn / 1e3, p99 = p.h.quantile(0.99) / tpn / 1e3,
         p999 = p.h.quantile(0.999) / tpn / 1e3;
  double ops_s = p.seconds > 0 ? double(p.ops) / p.seconds : 0;
  std::string ex;
  for (auto &kv : extra) {
    std::string v = kv.second;
    for (auto &ch : v)
      if (ch == ',' || ch == ';' || ch == '\n' || ch == '"') ch = ' ';
    ex += (ex.empty() ? "" : ";") + kv.first + "=" + v;
  }
  printf("%s,%s,%d,%s,%llu,%zu,%llu,%.4f,%.0f,%.3f,%.3f,%.3f,%llu,%s\n", c.store.c_str(),
         w.c_str(), c.threads, sync_name(c.sync), (unsigned long long)keyspace, V,
         (unsigned long long)p.ops, p.seconds, ops_s, p50, p99, p999,
         (unsigned long long)p.errors, ex.c_str());
  fflush(stdout);
  fprintf(stderr, "%-8s %-16s t=%d sync=%-8s %10.0f ops/s  p50 %.2f us  p99 %.2f us  p99.9 %.2f us%s%s\n",
          c.store.c_str(), w.c_str(), c.threads, sync_name(c.sync), ops_s, p50, p99, p999,
          w == "memory" ? "  bytes/key " : "",
          w == "memory" ? extra["rss_anon_bytes_per_key"].c_str() : "");
  if (kill_at_end) kill(getpid(), SIGKILL);
  return p.errors ? 1 : 0;
}
