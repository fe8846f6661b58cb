/*
 * collide_test.c — keys that share an index tag, under concurrency.
 *
 * The hash index keeps 30 bits of a key's hash (10 pick the sub-table, 20
 * are the entry's tag, core/index/hash_index-inl.h) and the write path has
 * paths for one entry under a tag that may be another key's (SoleCandidate:
 * updates in place, a blind put's "another key's entry"). Keys whose 30
 * bits agree are found by brute force with the database's own hash (XXH3
 * seeded by the seed in the identity file, mixed with the namespace id as
 * core/util/hash.cc does), then:
 *
 *   same_tag   the pairs found really share a tag: puts of a key go in
 *              place while it is alone under its tag and append while the
 *              other key of its pair is indexed (so the test is not
 *              vacuous);
 *   churn      writers owning the pairs (puts of one length, so that they
 *              go in place, puts of other lengths, deletes, reads checked
 *              against their model), readers that check every value read
 *              is its key's, a thread growing and shrinking the
 *              sub-tables with filler keys, compaction passes, and a
 *              namespace created, filled and dropped over and over; at the
 *              end every key reads as its model says, firkin_count is the
 *              model's count, and firkin_verify finds nothing.
 *
 * Usage: collide_test [group...] (no group: all).
 */

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "check_harness.h"
#include "group_args.h"

static uint64_t g_seed;

/* core/util/hash.cc's KeyHash. */
static uint64_t key_hash(uint32_t ns_id, const char *key, size_t n) {
  return XXH3_64bits_withSeed(key, n, g_seed ^ (0x9E3779B97F4A7C15ull * ((uint64_t)ns_id + 1)));
}

static bool read_seed(const char *path) {
  char f[512];
  snprintf(f, sizeof f, "%s/FIRKIN", path);
  FILE *fp = fopen(f, "rb");
  if (fp == NULL) return false;
  unsigned char b[48];
  const bool ok = fread(b, 1, sizeof b, fp) == sizeof b;
  fclose(fp);
  if (!ok) return false;
  g_seed = 0;
  for (int i = 7; i >= 0; i--) g_seed = (g_seed << 8) | b[24 + i];
  return true;
}

static int cmp_u64(const void *a, const void *b) {
  const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

#define MAX_PAIRS 64
static char pair_key[MAX_PAIRS][2][16];
static int n_pairs;

static void key_name(char *out, uint32_t i) { snprintf(out, 16, "c%07u", i); }

/* Finds pairs of keys of the default namespace (id 0) whose hashes agree
 * in their top 30 bits (sub-table and tag). */
static void find_pairs(void) {
  const uint32_t n = 1u << 19;
  uint64_t *v = malloc(sizeof(uint64_t) * n);
  char k[16];
  for (uint32_t i = 0; i < n; i++) {
    key_name(k, i);
    v[i] = ((key_hash(0, k, strlen(k)) >> 34) << 32) | i;
  }
  qsort(v, n, sizeof *v, cmp_u64);
  n_pairs = 0;
  for (uint32_t i = 0; i + 1 < n && n_pairs < MAX_PAIRS; i++) {
    if ((v[i] >> 32) != (v[i + 1] >> 32)) continue;
    if (i + 2 < n && (v[i + 2] >> 32) == (v[i] >> 32)) continue;  /* pairs only */
    key_name(pair_key[n_pairs][0], (uint32_t)v[i]);
    key_name(pair_key[n_pairs][1], (uint32_t)v[i + 1]);
    n_pairs++;
    i++;
  }
  free(v);
}

static firkin_options *make_opts(void) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_create_if_missing(o, true);
  firkin_options_set_segment_size(o, 256 << 10);
  return o;
}

/* A value of key k, write n, of length len (>= 32): "k=<key>;n=<n>;" then
 * filler. */
static size_t make_value(char *out, size_t len, const char *k, uint64_t n) {
  int w = snprintf(out, len, "k=%s;n=%" PRIu64 ";", k, n);
  for (size_t i = (size_t)w; i < len; i++) out[i] = (char)('a' + (i % 26));
  return len;
}

static bool value_is_of(const char *v, size_t len, const char *k, uint64_t *n_out) {
  const size_t kl = strlen(k);
  if (len < kl + 5 || memcmp(v, "k=", 2) != 0 || memcmp(v + 2, k, kl) != 0 ||
      memcmp(v + 2 + kl, ";n=", 3) != 0) {
    return false;
  }
  if (n_out) *n_out = strtoull(v + kl + 5, NULL, 10);
  return true;
}

/* ---- same_tag ---------------------------------------------------------- */

static void test_same_tag(void) {
  char path[512];
  dbpath(path, sizeof path, "same_tag");
  firkin_options *o = make_opts();
  firkin_db *db = NULL;
  check(firkin_open(path, o, &db) == FIRKIN_OK, "open");
  firkin_options_free(o);
  if (db == NULL) return;
  check(read_seed(path), "read the hash seed");
  find_pairs();
  printf("same_tag: %d pairs of keys sharing sub-table and tag\n", n_pairs);
  check(n_pairs >= 16, "found %d pairs", n_pairs);
  char val[64];
  const char *a = pair_key[0][0], *b = pair_key[0][1];
  /* a alone under its tag: its puts of one length go in place. */
  for (int i = 0; i < 4; i++) {
    check(firkin_put(db, NULL, NULL, a, strlen(a), val, make_value(val, 48, a, i)) == FIRKIN_OK,
          "put a");
  }
  const uint64_t alone0 = stat_u64(db, "in_place_updates");
  for (int i = 4; i < 20; i++) {
    firkin_put(db, NULL, NULL, a, strlen(a), val, make_value(val, 48, a, i));
  }
  const uint64_t alone = stat_u64(db, "in_place_updates") - alone0;
  /* b indexed beside it: two entries under the tag, every put appends. */
  check(firkin_put(db, NULL, NULL, b, strlen(b), val, make_value(val, 48, b, 0)) == FIRKIN_OK,
        "put b");
  const uint64_t both0 = stat_u64(db, "in_place_updates");
  for (int i = 20; i < 36; i++) {
    firkin_put(db, NULL, NULL, a, strlen(a), val, make_value(val, 48, a, i));
  }
  const uint64_t both = stat_u64(db, "in_place_updates") - both0;
  printf("same_tag: in place %" PRIu64 " of 16 alone, %" PRIu64 " of 16 beside its pair\n",
         alone, both);
  check(alone > 0, "puts of a key alone under its tag go in place");
  check(both == 0, "puts of a key beside another under its tag append (%" PRIu64 ")", both);
  /* Each reads its own value. */
  void *got = NULL;
  size_t gl = 0;
  uint64_t n = 0;
  check(firkin_get(db, NULL, NULL, a, strlen(a), &got, &gl) == FIRKIN_OK &&
            value_is_of(got, gl, a, &n) && n == 35,
        "a reads its last value");
  firkin_free(got);
  check(firkin_get(db, NULL, NULL, b, strlen(b), &got, &gl) == FIRKIN_OK &&
            value_is_of(got, gl, b, &n) && n == 0,
        "b reads its value");
  firkin_free(got);
  /* Deleting a leaves b alone (its tombstone is a's entry), and b's puts
   * then never take a's tombstone for b's record. */
  check(firkin_delete(db, NULL, NULL, a, strlen(a)) == FIRKIN_OK, "delete a");
  for (int i = 1; i < 8; i++) {
    firkin_put(db, NULL, NULL, b, strlen(b), val, make_value(val, 48, b, i));
  }
  check(firkin_get(db, NULL, NULL, a, strlen(a), &got, &gl) == FIRKIN_E_NOT_FOUND,
        "a stays deleted");
  check(firkin_get(db, NULL, NULL, b, strlen(b), &got, &gl) == FIRKIN_OK &&
            value_is_of(got, gl, b, &n) && n == 7,
        "b reads its last value");
  firkin_free(got);
  uint64_t count = 0;
  check(firkin_count(db, NULL, &count) == FIRKIN_OK && count == 1, "count 1 (%" PRIu64 ")",
        count);
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  check(firkin_count(db, NULL, &count) == FIRKIN_OK && count == 1,
        "count 1 after compaction (%" PRIu64 ")", count);
  check(firkin_get(db, NULL, NULL, a, strlen(a), &got, &gl) == FIRKIN_E_NOT_FOUND,
        "a stays deleted after compaction");
  check(firkin_verify(db, NULL) == FIRKIN_OK, "verify");
  firkin_close(db);
}

/* ---- churn ------------------------------------------------------------- */

static firkin_db *g_db;
static atomic_bool g_stop;
static atomic_uint_fast64_t g_bad, g_reads, g_writes, g_filler_live, g_compactions, g_drops;
static int g_writers = 4;

typedef struct {
  uint64_t n[2];     /* last write number of each key of the pair */
  bool live[2];
} PairModel;
static PairModel g_model[MAX_PAIRS];

static void bad(const char *what, const char *k) {
  if (atomic_fetch_add(&g_bad, 1) < 10) printf("BAD: %s (key %s)\n", what, k);
}

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void *writer(void *arg) {
  const int t = (int)(intptr_t)arg;
  uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(t + 1);
  char val[512];
  uint64_t serial = 1;
  while (!atomic_load(&g_stop)) {
    const int p = t + g_writers * (int)(rnd(&s) % (uint64_t)((n_pairs - t + g_writers - 1) / g_writers));
    if (p >= n_pairs) continue;
    /* The first key of a pair is written three times as often, and the
     * second is deleted half the times it is written: the first is often
     * alone under its tag (its puts then go in place), and often not. */
    const int w = rnd(&s) % 4 == 0;
    const char *k = pair_key[p][w];
    PairModel *m = &g_model[p];
    int dice = (int)(rnd(&s) % 100);
    if (w == 1 && dice < 75) dice = dice < 35 ? 70 : 55;
    if (dice < 50) {  /* one length: goes in place when it can */
      const uint64_t n = serial++;
      if (firkin_put(g_db, NULL, NULL, k, strlen(k), val, make_value(val, 48, k, n)) != FIRKIN_OK) {
        bad("put failed", k);
      } else {
        m->n[w] = n;
        m->live[w] = true;
      }
    } else if (dice < 65) {
      const uint64_t n = serial++;
      const size_t len = 32 + (size_t)(rnd(&s) % 400);
      if (firkin_put(g_db, NULL, NULL, k, strlen(k), val, make_value(val, len, k, n)) != FIRKIN_OK) {
        bad("put failed", k);
      } else {
        m->n[w] = n;
        m->live[w] = true;
      }
    } else if (dice < 75) {
      if (firkin_delete(g_db, NULL, NULL, k, strlen(k)) != FIRKIN_OK) {
        bad("delete failed", k);
      } else {
        m->live[w] = false;
      }
    } else {  /* read both keys of the pair: each as its model says */
      for (int j = 0; j < 2; j++) {
        const char *kj = pair_key[p][j];
        char buf[512];
        size_t len = 0;
        const firkin_status st = firkin_get_into(g_db, NULL, NULL, kj, strlen(kj), buf, sizeof buf, &len);
        uint64_t n = 0;
        if (m->live[j]) {
          if (st != FIRKIN_OK) {
            bad("a live key was not found", kj);
          } else if (!value_is_of(buf, len, kj, &n) || n != m->n[j]) {
            bad("a key read a value that is not its last", kj);
          }
        } else if (st != FIRKIN_E_NOT_FOUND) {
          bad("a deleted key was found", kj);
        }
      }
      atomic_fetch_add(&g_reads, 1);
      continue;
    }
    atomic_fetch_add(&g_writes, 1);
  }
  return NULL;
}

static void *reader(void *arg) {
  uint64_t s = 0xD1B54A32D192ED03ull * (uint64_t)((intptr_t)arg + 7);
  char buf[512];
  while (!atomic_load(&g_stop)) {
    const int p = (int)(rnd(&s) % (uint64_t)n_pairs);
    const char *k = pair_key[p][rnd(&s) & 1];
    size_t len = 0;
    const firkin_status st = firkin_get_into(g_db, NULL, NULL, k, strlen(k), buf, sizeof buf, &len);
    if (st == FIRKIN_OK) {
      if (!value_is_of(buf, len, k, NULL)) bad("a read returned another key's value", k);
    } else if (st != FIRKIN_E_NOT_FOUND) {
      bad("a read failed", k);
    }
    if (atomic_fetch_add(&g_reads, 1) % 64 == 0) sched_yield();
  }
  return NULL;
}

/* Filler keys in waves: sub-tables grow, then shrink. */
static void *filler(void *arg) {
  (void)arg;
  char k[24], val[64];
  uint64_t lo = 0, hi = 0;
  while (!atomic_load(&g_stop)) {
    for (int i = 0; i < 20000 && !atomic_load(&g_stop); i++, hi++) {
      snprintf(k, sizeof k, "f%09" PRIu64, hi);
      if (firkin_put(g_db, NULL, NULL, k, strlen(k), val, make_value(val, 40, k, hi)) != FIRKIN_OK) {
        bad("filler put failed", k);
      }
    }
    for (; lo + 2000 < hi && !atomic_load(&g_stop); lo++) {
      snprintf(k, sizeof k, "f%09" PRIu64, lo);
      if (firkin_delete(g_db, NULL, NULL, k, strlen(k)) != FIRKIN_OK) bad("filler delete failed", k);
    }
  }
  atomic_store(&g_filler_live, hi - lo);
  return NULL;
}

static void *compactor(void *arg) {
  (void)arg;
  while (!atomic_load(&g_stop)) {
    if (firkin_compact(g_db) != FIRKIN_OK) bad("compact failed", "-");
    atomic_fetch_add(&g_compactions, 1);
    usleep(20000);
  }
  return NULL;
}

/* A namespace created, filled and dropped over and over: each drop purges
 * its keys from sub-tables the other threads are growing and writing. */
static void *ns_churn(void *arg) {
  (void)arg;
  char k[24], val[64];
  while (!atomic_load(&g_stop)) {
    firkin_ns *ns = NULL;
    if (firkin_ns_open(g_db, "scratch", true, &ns) != FIRKIN_OK) {
      bad("ns open failed", "scratch");
      break;
    }
    for (int i = 0; i < 3000; i++) {
      snprintf(k, sizeof k, "s%06d", i);
      firkin_put(g_db, NULL, ns, k, strlen(k), val, make_value(val, 40, k, (uint64_t)i));
    }
    firkin_ns_close(ns);
    if (firkin_ns_drop(g_db, "scratch") != FIRKIN_OK) bad("ns drop failed", "scratch");
    atomic_fetch_add(&g_drops, 1);
  }
  return NULL;
}

static void test_churn(void) {
  char path[512];
  dbpath(path, sizeof path, "churn");
  firkin_options *o = make_opts();
  check(firkin_open(path, o, &g_db) == FIRKIN_OK, "open");
  firkin_options_free(o);
  if (g_db == NULL) return;
  check(read_seed(path), "read the hash seed");
  find_pairs();
  check(n_pairs >= 16, "found %d pairs", n_pairs);
  if (n_pairs < g_writers) return;
  memset(g_model, 0, sizeof g_model);
  atomic_store(&g_stop, false);
  pthread_t th[16];
  int nt = 0;
  for (int t = 0; t < g_writers; t++) pthread_create(&th[nt++], NULL, writer, (void *)(intptr_t)t);
  for (int t = 0; t < 2; t++) pthread_create(&th[nt++], NULL, reader, (void *)(intptr_t)t);
  pthread_create(&th[nt++], NULL, filler, NULL);
  pthread_create(&th[nt++], NULL, compactor, NULL);
  pthread_create(&th[nt++], NULL, ns_churn, NULL);
  sleep(4);
  atomic_store(&g_stop, true);
  for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
  printf("churn: %d pairs, %" PRIu64 " writes, %" PRIu64 " reads, %" PRIu64
         " compactions, %" PRIu64 " namespace drops, %" PRIu64 " in place, %" PRIu64
         " index grows\n",
         n_pairs, (uint64_t)atomic_load(&g_writes), (uint64_t)atomic_load(&g_reads),
         (uint64_t)atomic_load(&g_compactions), (uint64_t)atomic_load(&g_drops),
         stat_u64(g_db, "in_place_updates"), stat_u64(g_db, "grow_steps"));
  check(atomic_load(&g_bad) == 0, "no bad reads or failed calls (%" PRIu64 ")",
        (uint64_t)atomic_load(&g_bad));
  /* Every key as its model says; the count is the model's. */
  uint64_t live = atomic_load(&g_filler_live);
  for (int p = 0; p < n_pairs; p++) {
    for (int j = 0; j < 2; j++) {
      const char *k = pair_key[p][j];
      char buf[512];
      size_t len = 0;
      uint64_t n = 0;
      const firkin_status st = firkin_get_into(g_db, NULL, NULL, k, strlen(k), buf, sizeof buf, &len);
      if (g_model[p].live[j]) {
        live++;
        check(st == FIRKIN_OK && value_is_of(buf, len, k, &n) && n == g_model[p].n[j],
              "key %s reads its last value", k);
      } else {
        check(st == FIRKIN_E_NOT_FOUND, "key %s stays deleted", k);
      }
    }
  }
  uint64_t count = 0;
  check(firkin_count(g_db, NULL, &count) == FIRKIN_OK && count == live,
        "count %" PRIu64 " == model %" PRIu64, count, live);
  /* Tombstones leave the index: two passes over everything (the second
   * finds no older version of a deleted key left anywhere) leave about the
   * live keys' entries. */
  check(firkin_compact(g_db) == FIRKIN_OK && firkin_compact(g_db) == FIRKIN_OK, "compact");
  const uint64_t entries = stat_u64(g_db, "entries");
  printf("churn: %" PRIu64 " live keys, %" PRIu64 " index entries after compaction\n", live,
         entries);
  char *report = NULL;
  const firkin_status vs = firkin_verify(g_db, &report);
  check(vs == FIRKIN_OK, "verify: %s", report ? report : "(none)");
  firkin_free(report);
  check(firkin_close(g_db) == FIRKIN_OK, "close");
  /* And after a reopen (a checkpoint of the index, or the log replayed). */
  o = make_opts();
  check(firkin_open(path, o, &g_db) == FIRKIN_OK, "reopen");
  firkin_options_free(o);
  if (g_db == NULL) return;
  check(firkin_count(g_db, NULL, &count) == FIRKIN_OK && count == live,
        "count after reopen %" PRIu64 " == model %" PRIu64, count, live);
  for (int p = 0; p < n_pairs; p++) {
    for (int j = 0; j < 2; j++) {
      const char *k = pair_key[p][j];
      char buf[512];
      size_t len = 0;
      uint64_t n = 0;
      const firkin_status st = firkin_get_into(g_db, NULL, NULL, k, strlen(k), buf, sizeof buf, &len);
      check(g_model[p].live[j] ? st == FIRKIN_OK && value_is_of(buf, len, k, &n) &&
                                     n == g_model[p].n[j]
                               : st == FIRKIN_E_NOT_FOUND,
            "key %s after reopen", k);
    }
  }
  firkin_close(g_db);
}

int main(int argc, char **argv) {
  if (!make_base_dir("collide")) return 1;
  if (group_wanted(argc, argv, "same_tag")) test_same_tag();
  if (group_wanted(argc, argv, "churn")) test_churn();
  const int unknown = group_args_unknown(argc, argv);
  rmrf(base_dir);
  printf("%d passed, %d failed\n", passed, failed + unknown);
  return failed == 0 && unknown == 0 ? 0 : 1;
}
