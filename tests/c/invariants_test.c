/*
 * invariants_test.c — DESIGN §11 through the C interface.
 *
 *   (a) readers   threads read while writers grow the index: a value read is
 *                 always one written for that key, never older than an
 *                 acknowledged write, never newer than a started one
 *   (b) kill      fork + SIGKILL of a writer in each sync mode; every
 *                 acknowledged write survives, batches all or nothing
 *   (c) power     simulated power loss (firkin_testing.h) in each sync mode
 *                 and crash mode: `always` loses nothing, `interval`/`none`
 *                 only a suffix; plus a self-check that the harness bites
 *   (d) torn      truncated / garbage / zeroed tail of the last segment
 *   (e) bitflip   flipped bits: CORRUPTION naming the file, salvage, and
 *                 never a wrong value
 *   (f) busy      a second writer (same process, other process) gets BUSY;
 *                 read-only opens take no lock and coexist with the writer;
 *                 read-only opens coexist; a dead holder never blocks
 *   (g) foreign   a segment of another database is refused, left unchanged
 *   (h) snapshot  snapshot isolation while writers run (bank invariant)
 *   (i) deletes   a deleted key never reappears across reopens/compaction
 *   (j) faults    injected ENOSPC / EIO: the status surfaces, a failed sync
 *                 is sticky, reopening restores every acknowledged write
 *   (k) chains    a damaged sequence number or prev address in a version a
 *                 read skips (a tombstone, an overwrite) never brings back
 *                 the older value as OK (issue 9, item 1)
 *   (l) matcher   the checker itself: a state that several prefixes leave
 *                 is matched to the prefix nearest the expected one
 *   (m) scans     iterators at snapshots taken while writers run and
 *                 compaction moves records: every record exactly once
 *   (n) space     writers update keys without pause and no snapshot is
 *                 open: compaction passes complete and reclaim while they
 *                 write (no input held back for a version no reader needs),
 *                 a full compaction afterwards leaves no dead byte (no
 *                 input left held), and every key reads back its last
 *                 value (DESIGN §6)
 *   (o) failedroll a roll that fails for a full disk leaves the full
 *                 segment active (sealed by the writeback thread): background
 *                 compaction leaves it alone until the next roll (it freed it
 *                 while the writer still used it until 2026-11-29)
 *
 * The recovered state of (b), (c) and (d) is compared with a model of the
 * workload: it must equal the model after exactly p steps for some p (a
 * prefix of history; every step changes the state, so p is unique), with p
 * bounded by what was acknowledged / synced.
 *
 * Usage: invariants_test [--long] [GROUP...]  (GROUP = a b c ... k)
 *        FIRKIN_TEST_LONG=1 is the same as --long.
 * Ends with "N passed, N failed". C99 + POSIX + pthreads.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firkin.h"
#include "firkin_testing.h"
#include "record_layout.h"

/* Paths here are short; silence GCC's worst-case path-length analysis. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* ------------------------------------------------------------------------ */
/* Harness                                                                   */
/* ------------------------------------------------------------------------ */

static int g_passed, g_failed;
static bool g_long;
static char g_base[1024];
static uint64_t g_seed;

/* What the test is doing now, for a run killed by the harness's timeout
 * (meson sends SIGTERM): the handler writes it to stderr, so a hang says
 * where it hung. Set with phase(); read only by the handler. */
static const char *volatile g_phase = "start";
static void phase(const char *what) { g_phase = what; }
static void on_term(int sig) {
  const char *p = g_phase;
  static const char head[] = "\ninvariants_test: killed (timeout?) while: ";
  (void)!write(2, head, sizeof head - 1);
  (void)!write(2, p, strlen(p));
  (void)!write(2, "\n", 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* A run that takes far longer than it ever should (normally 5-30 s, under
 * a sanitizer too) is hung: before the harness kills it, print every
 * thread's stack with gdb if the machine has it, then abort with the phase
 * (on_term). HANG_SECONDS stays well below meson's 600 s timeout. */
#define HANG_SECONDS 360
static void on_hang(int sig) {
  static const char head[] = "\ninvariants_test: no progress for a long time; thread stacks:\n";
  char pid[24];
  int n = 0;
  pid_t self = getpid(), child;
  (void)sig;
  (void)!write(2, head, sizeof head - 1);
  /* (async-signal-safe: no stdio, no malloc) */
  {
    char rev[24];
    pid_t v = self;
    do rev[n++] = (char)('0' + v % 10); while ((v /= 10) > 0 && n < 23);
    for (int i = 0; i < n; i++) pid[i] = rev[n - 1 - i];
    pid[n] = 0;
  }
  child = fork();
  if (child == 0) {
    dup2(2, 1);
    execlp("gdb", "gdb", "-p", pid, "-batch", "-ex", "thread apply all bt", (char *)NULL);
    _exit(127);
  }
  if (child > 0) waitpid(child, NULL, 0);
  on_term(SIGABRT);
}

static void report(bool ok, const char *fmt, ...) {
  va_list ap;
  if (ok) {
    g_passed++;
    return;
  }
  g_failed++;
  printf("FAIL: ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

/* Prints a detail line for the check about to fail (at most a few). */
static int g_details;
static void detail(const char *fmt, ...) {
  va_list ap;
  if (g_details++ > 20) return;
  printf("    ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

typedef struct {
  uint64_t s;
} rng;
static void rng_seed(rng *r, uint64_t s) { r->s = mix64(s) | 1; }
static uint64_t rng_next(rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1Dull;
}
static uint64_t rng_below(rng *r, uint64_t n) { return rng_next(r) % n; }

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb; (void)flag; (void)ftw;
  remove(path);
  return 0;
}
static void rm_rf(const char *path) { nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static void fresh_dir(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", g_base, name);
  rm_rf(out);
  mkdir(out, 0755);
}

static unsigned char *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  size_t cap = 0, len = 0;
  if (!f) return NULL;
  for (;;) {
    size_t got;
    if (len == cap) {
      cap = cap ? cap * 2 : 65536;
      buf = realloc(buf, cap);
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  fclose(f);
  *n = len;
  return buf;
}

static bool write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  bool ok;
  if (!f) return false;
  ok = fwrite(data, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

static int cmp_cstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The segment files of dir ("*.seg"), sorted by name (= by id: the names
 * are zero-padded). Returns the count; *names is freed by free_names. */
static size_t list_segments(const char *dir, char ***names) {
  DIR *d = opendir(dir);
  struct dirent *de;
  size_t n = 0;
  *names = NULL;
  if (!d) return 0;
  while ((de = readdir(d)) != NULL) {
    size_t l = strlen(de->d_name);
    if (l > 4 && strcmp(de->d_name + l - 4, ".seg") == 0) {
      *names = realloc(*names, (n + 1) * sizeof **names);
      (*names)[n] = malloc(strlen(dir) + l + 2);
      sprintf((*names)[n], "%s/%s", dir, de->d_name);
      n++;
    }
  }
  closedir(d);
  if (n) qsort(*names, n, sizeof **names, cmp_cstr);
  return n;
}
static void free_names(char **names, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) free(names[i]);
  free(names);
}

static void remove_checkpoint(const char *dir) {
  char p[1200];
  snprintf(p, sizeof p, "%s/CHECKPOINT", dir);
  unlink(p);
}

/* A number from the stats JSON: the first member named `name` anywhere. */
static bool stats_number(firkin_db *db, const char *name, uint64_t *out) {
  char *js = NULL, needle[128];
  const char *p;
  bool ok = false;
  if (firkin_stats(db, &js) != FIRKIN_OK || !js) return false;
  snprintf(needle, sizeof needle, "\"%s\":", name);
  p = strstr(js, needle);
  if (p) {
    p += strlen(needle);
    while (*p == ' ') p++;
    if (*p >= '0' && *p <= '9') {
      *out = strtoull(p, NULL, 10);
      ok = true;
    }
  }
  firkin_free(js);
  return ok;
}

static firkin_options *make_opts(firkin_sync_mode mode, uint64_t segment_size) {
  firkin_options *o = NULL;
  if (firkin_options_new(&o) != FIRKIN_OK) return NULL;
  firkin_options_set_sync_mode(o, mode);
  if (segment_size) firkin_options_set_segment_size(o, segment_size);
  return o;
}

static const char *mode_name(firkin_sync_mode m) {
  return m == FIRKIN_SYNC_NONE ? "none" : m == FIRKIN_SYNC_INTERVAL ? "interval" : "always";
}

/* ------------------------------------------------------------------------ */
/* Self-checking keys and values                                             */
/* ------------------------------------------------------------------------ */

/* key bytes of key id k */
static size_t key_of(int k, char *buf) { return (size_t)sprintf(buf, "key-%07d", k); }

/* The value written for key k by step s: a text prefix naming both, then
 * bytes derived from (k, s). Length 24..(24 + maxextra). */
static size_t value_of(int k, uint64_t s, unsigned char *buf, size_t maxextra) {
  uint64_t h = mix64(((uint64_t)k << 32) ^ s ^ 0xABCDEFull);
  size_t n = (size_t)sprintf((char *)buf, "k%07d s%012llu|", k, (unsigned long long)s), i;
  size_t extra = maxextra ? (size_t)(h % (maxextra + 1)) : 0;
  for (i = 0; i < extra; i++) {
    if (i % 8 == 0) h = mix64(h + i);
    buf[n + i] = (unsigned char)(h >> (8 * (i % 8)));
  }
  return n + extra;
}
#define MAX_VALUE 2048

/* Checks that (v, n) is exactly a value written for key k by some step;
 * returns that step, or -2 if it is not a valid value of k. */
static long long parse_value(int k, const void *v, size_t n, size_t maxextra) {
  unsigned char want[MAX_VALUE + 64];
  int kk = -1;
  unsigned long long s = 0;
  size_t wn;
  char head[32];
  if (n < 22 || n > sizeof want) return -2;
  memcpy(head, v, 22);
  head[22] = 0;
  if (sscanf(head, "k%7d s%12llu|", &kk, &s) != 2 || kk != k) return -2;
  wn = value_of(k, s, want, maxextra);
  if (wn != n || memcmp(want, v, n) != 0) return -2;
  return (long long)s;
}

/* ------------------------------------------------------------------------ */
/* A deterministic workload and its model                                    */
/* ------------------------------------------------------------------------ */

enum { ST_PUT, ST_BATCH, ST_OVER, ST_DEL };

typedef struct {
  int type;
  int nkeys;
  int keys[3];
  bool del[3]; /* for batches: this op is a delete */
} step;

typedef struct {
  step *s;
  int n;
  int nkeys; /* key ids used: 0..nkeys-1 */
  size_t maxextra;
} workload;

/* Steps: new puts (60%), batches of two new keys plus an overwrite or a
 * delete of a live key (10%), overwrites (20%), deletes (10%). */
static void gen_workload(workload *w, int n, uint64_t seed, size_t maxextra) {
  rng r;
  int *live = malloc(sizeof(int) * (size_t)(3 * n + 3));
  int nlive = 0, i;
  rng_seed(&r, seed);
  w->s = calloc((size_t)n, sizeof *w->s);
  w->n = n;
  w->nkeys = 0;
  w->maxextra = maxextra;
  for (i = 0; i < n; i++) {
    step *st = &w->s[i];
    int x = (int)rng_below(&r, 10);
    if (nlive == 0 || x < 6) {
      st->type = ST_PUT;
      st->nkeys = 1;
      st->keys[0] = w->nkeys++;
      live[nlive++] = st->keys[0];
    } else if (x < 7) {
      int j = (int)rng_below(&r, (uint64_t)nlive);
      st->type = ST_BATCH;
      st->nkeys = 3;
      st->keys[0] = w->nkeys++;
      st->keys[1] = live[j];
      st->del[1] = rng_below(&r, 2) == 0;
      st->keys[2] = w->nkeys++;
      if (st->del[1]) live[j] = live[--nlive];
      live[nlive++] = st->keys[0];
      live[nlive++] = st->keys[2];
    } else if (x < 9) {
      st->type = ST_OVER;
      st->nkeys = 1;
      st->keys[0] = live[rng_below(&r, (uint64_t)nlive)];
    } else {
      int j = (int)rng_below(&r, (uint64_t)nlive);
      st->type = ST_DEL;
      st->nkeys = 1;
      st->keys[0] = live[j];
      live[j] = live[--nlive];
    }
  }
  free(live);
}

static void free_workload(workload *w) { free(w->s); }

/* model[k] = the step whose value key k holds, or -1 if absent */
static void model_apply(const workload *w, long long *model, int i) {
  const step *st = &w->s[i];
  int j;
  for (j = 0; j < st->nkeys; j++) {
    bool del = st->type == ST_DEL || (st->type == ST_BATCH && st->del[j]);
    model[st->keys[j]] = del ? -1 : i;
  }
}

/* Applies step i to the database. */
static firkin_status run_step(firkin_db *db, const firkin_write_options *wo, const workload *w,
                              int i) {
  const step *st = &w->s[i];
  char kb[32];
  unsigned char vb[MAX_VALUE + 64];
  size_t kn, vn;
  if (st->type == ST_BATCH) {
    firkin_batch *b = NULL;
    firkin_status rc;
    int j;
    if (firkin_batch_new(&b) != FIRKIN_OK) return FIRKIN_E_NO_MEMORY;
    for (j = 0; j < st->nkeys; j++) {
      kn = key_of(st->keys[j], kb);
      if (st->del[j]) {
        firkin_batch_delete(b, NULL, kb, kn);
      } else {
        vn = value_of(st->keys[j], (uint64_t)i, vb, w->maxextra);
        firkin_batch_put(b, NULL, kb, kn, vb, vn);
      }
    }
    rc = firkin_write(db, wo, b);
    firkin_batch_free(b);
    return rc;
  }
  kn = key_of(st->keys[0], kb);
  if (st->type == ST_DEL) return firkin_delete(db, wo, NULL, kb, kn);
  vn = value_of(st->keys[0], (uint64_t)i, vb, w->maxextra);
  return firkin_put(db, wo, NULL, kb, kn, vb, vn);
}

/* Reads the state of every key of the workload. state[k] = step or -1;
 * returns the number of invalid values (wrong value for the key) and of
 * unexpected errors. */
/* What the last read_state saw besides values and not-found. */
static int g_read_wrong, g_read_corrupt, g_read_other;

static int read_state(firkin_db *db, const firkin_snapshot *snap, const workload *w,
                      long long *state, const char *what) {
  int k, bad = 0;
  g_read_wrong = g_read_corrupt = g_read_other = 0;
  for (k = 0; k < w->nkeys; k++) {
    char kb[32];
    void *v = NULL;
    size_t vn = 0, kn = key_of(k, kb);
    firkin_status rc = firkin_get(db, snap, NULL, kb, kn, &v, &vn);
    if (rc == FIRKIN_OK) {
      state[k] = parse_value(k, v, vn, w->maxextra);
      if (state[k] == -2) {
        g_read_wrong++;
        if (bad++ < 3) detail("%s: key %d has a value that was never written for it (%zu bytes)", what, k, vn);
      }
    } else if (rc == FIRKIN_E_NOT_FOUND) {
      state[k] = -1;
    } else {
      state[k] = -3;
      if (rc == FIRKIN_E_CORRUPTION) g_read_corrupt++;
      else g_read_other++;
      if (bad++ < 3) detail("%s: get of key %d: %s: %s", what, k, firkin_strerror(rc), firkin_last_error());
    }
    firkin_free(v);
  }
  return bad;
}

/* The p in [0, n] such that state == model after p steps, or -1. Several
 * prefixes can leave the same state (a put of a new key then its delete
 * undo each other: the model after 5 steps equals the one after 7), and
 * the state alone cannot tell them apart; of those the one nearest
 * `hint` (the expected prefix) is returned, the later one on a tie. (The
 * first match used to be returned: a kill -9 round that recovered all 6
 * acknowledged writes plus the in-flight seventh, where the sixth deleted
 * the key the fifth created, was then reported as "recovered the state
 * after 5 steps".) */
static int match_prefix(const workload *w, const long long *state, int hint) {
  long long *model = malloc(sizeof(long long) * (size_t)(w->nkeys + 1));
  int k, p, mismatches = 0, found = -1;
  for (k = 0; k < w->nkeys; k++) {
    model[k] = -1;
    if (state[k] != -1) mismatches++;
  }
  if (mismatches == 0) found = 0;
  for (p = 0; p < w->n; p++) {
    const step *st = &w->s[p];
    int j;
    for (j = 0; j < st->nkeys; j++) {
      int key = st->keys[j];
      if (model[key] != state[key]) mismatches--;
    }
    model_apply(w, model, p);
    for (j = 0; j < st->nkeys; j++) {
      int key = st->keys[j];
      if (model[key] != state[key]) mismatches++;
    }
    if (mismatches == 0 && (found < 0 || abs(p + 1 - hint) <= abs(found - hint))) found = p + 1;
  }
  free(model);
  return found;
}

/* Describes the first difference between state and the model after p
 * steps (for failure messages). */
static void explain(const workload *w, const long long *state, int p) {
  long long *model = malloc(sizeof(long long) * (size_t)(w->nkeys + 1));
  int k, i, shown = 0;
  for (k = 0; k < w->nkeys; k++) model[k] = -1;
  for (i = 0; i < p && i < w->n; i++) model_apply(w, model, i);
  for (k = 0; k < w->nkeys && shown < 5; k++) {
    if (model[k] != state[k]) {
      detail("key %d: expected after %d steps: %lld, recovered: %lld (-1 absent, -2 wrong value, -3 error)",
             k, p, model[k], state[k]);
      shown++;
    }
  }
  free(model);
}

/* Opens dir, reads the state, finds p. Returns p, or -1 (with details) if
 * the state is not a prefix; -2 if it could not be opened. *live_ok tells
 * whether firkin_count agrees with the model. */
static firkin_status g_open_status;   /* status of recovered_prefix's open */
static char g_open_msg[1024];         /* and its message */
static uint64_t g_torn_cut;           /* stats torn_bytes_cut of that open */
static bool g_torn_known;

static int recovered_prefix(const char *dir, const workload *w, int hint, const char *what) {
  firkin_db *db = NULL;
  long long *state = malloc(sizeof(long long) * (size_t)(w->nkeys + 1));
  int bad, p;
  firkin_status rc = firkin_open(dir, NULL, &db);
  g_open_status = rc;
  snprintf(g_open_msg, sizeof g_open_msg, "%s", firkin_last_error());
  g_torn_known = false;
  if (rc != FIRKIN_OK) {
    detail("%s: reopen failed: %s: %s", what, firkin_strerror(rc), firkin_last_error());
    free(state);
    return -2;
  }
  g_torn_known = stats_number(db, "torn_bytes_cut", &g_torn_cut);
  bad = read_state(db, NULL, w, state, what);
  p = bad ? -1 : match_prefix(w, state, hint);
  if (p < 0) {
    detail("%s: the recovered state is not the state after any prefix of the writes", what);
    explain(w, state, hint);
  } else {
    uint64_t cnt = 0;
    long long *model = malloc(sizeof(long long) * (size_t)(w->nkeys + 1));
    int k, i;
    uint64_t live = 0;
    for (k = 0; k < w->nkeys; k++) model[k] = -1;
    for (i = 0; i < p; i++) model_apply(w, model, i);
    for (k = 0; k < w->nkeys; k++) live += model[k] >= 0;
    if (firkin_count(db, NULL, &cnt) != FIRKIN_OK || cnt != live) {
      detail("%s: firkin_count %llu, the model has %llu live keys", what, (unsigned long long)cnt,
             (unsigned long long)live);
      p = -1;
    }
    free(model);
  }
  firkin_close(db);
  free(state);
  return p;
}

/* ------------------------------------------------------------------------ */
/* (a) readers while writers grow the index                                  */
/* ------------------------------------------------------------------------ */

#define RD_KEYS 40000
typedef struct {
  firkin_db *db;
  uint64_t *started;  /* started[k]: highest version a writer began writing */
  uint64_t *acked;    /* acked[k]: highest version acknowledged */
  int writers_done;
  int nwriters;
  long reads, bad, errors, stale;
  int id;
  int keys_per_writer;
  int rounds;
} rd_ctx;

typedef struct {
  rd_ctx *c;
  int id;
  long reads, bad, errors, stale;
} rd_thread;

static void *rd_writer(void *arg) {
  rd_thread *t = arg;
  rd_ctx *c = t->c;
  int r, k;
  unsigned char vb[MAX_VALUE + 64];
  for (r = 1; r <= c->rounds; r++) {
    for (k = t->id; k < c->nwriters * c->keys_per_writer; k += c->nwriters) {
      char kb[32];
      size_t kn = key_of(k, kb), vn;
      firkin_status rc;
      __atomic_store_n(&c->started[k], (uint64_t)r, __ATOMIC_SEQ_CST);
      vn = value_of(k, (uint64_t)r, vb, 40);
      rc = firkin_put(c->db, NULL, NULL, kb, kn, vb, vn);
      if (rc != FIRKIN_OK) {
        t->errors++;
        continue;
      }
      __atomic_store_n(&c->acked[k], (uint64_t)r, __ATOMIC_SEQ_CST);
    }
  }
  __atomic_add_fetch(&c->writers_done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void *rd_reader(void *arg) {
  rd_thread *t = arg;
  rd_ctx *c = t->c;
  rng r;
  int nk = c->nwriters * c->keys_per_writer;
  rng_seed(&r, g_seed + 1000 + (uint64_t)t->id);
  while (__atomic_load_n(&c->writers_done, __ATOMIC_SEQ_CST) < c->nwriters) {
    int k = (int)rng_below(&r, (uint64_t)nk), j;
    char kb[32];
    size_t kn = key_of(k, kb);
    uint64_t lo = __atomic_load_n(&c->acked[k], __ATOMIC_SEQ_CST), hi;
    void *v = NULL;
    size_t vn = 0;
    firkin_status rc;
    if ((t->reads & 15) == 0) {
      /* multi_get of a few keys at one snapshot */
      const void *keys[4];
      size_t kl[4], vl[4];
      void *vals[4];
      firkin_status sts[4];
      char kbs[4][32];
      int ks[4];
      uint64_t los[4];
      for (j = 0; j < 4; j++) {
        ks[j] = (int)rng_below(&r, (uint64_t)nk);
        los[j] = __atomic_load_n(&c->acked[ks[j]], __ATOMIC_SEQ_CST);
        kl[j] = key_of(ks[j], kbs[j]);
        keys[j] = kbs[j];
      }
      rc = firkin_multi_get(c->db, NULL, NULL, 4, keys, kl, vals, vl, sts);
      t->reads++;
      if (rc != FIRKIN_OK) {
        t->errors++;
        continue;
      }
      for (j = 0; j < 4; j++) {
        if (sts[j] == FIRKIN_OK) {
          long long s = parse_value(ks[j], vals[j], vl[j], 40);
          uint64_t h = __atomic_load_n(&c->started[ks[j]], __ATOMIC_SEQ_CST);
          if (s < 0 || (uint64_t)s > h) t->bad++;
          else if ((uint64_t)s < los[j]) t->stale++;
          firkin_free(vals[j]);
        } else if (sts[j] == FIRKIN_E_NOT_FOUND) {
          if (los[j] > 0) t->stale++;
        } else {
          t->errors++;
        }
      }
      continue;
    }
    rc = firkin_get(c->db, NULL, NULL, kb, kn, &v, &vn);
    hi = __atomic_load_n(&c->started[k], __ATOMIC_SEQ_CST);
    t->reads++;
    if (rc == FIRKIN_OK) {
      long long s = parse_value(k, v, vn, 40);
      if (s < 0 || (uint64_t)s > hi) {
        if (t->bad++ < 3) detail("reader: key %d gave a value that was never written for it (parsed %lld, started %llu)", k, s, (unsigned long long)hi);
      } else if ((uint64_t)s < lo) {
        if (t->stale++ < 3) detail("reader: key %d gave version %lld after version %llu was acknowledged", k, s, (unsigned long long)lo);
      }
    } else if (rc == FIRKIN_E_NOT_FOUND) {
      if (lo > 0 && t->stale++ < 3) detail("reader: key %d not found after version %llu was acknowledged", k, (unsigned long long)lo);
    } else {
      if (t->errors++ < 3) detail("reader: get: %s: %s", firkin_strerror(rc), firkin_last_error());
    }
    firkin_free(v);
  }
  return NULL;
}

static void test_readers(void) {
  char dir[1200];
  rd_ctx c;
  rd_thread w[2], rd[3];
  pthread_t tw[2], tr[3];
  int i;
  long reads = 0, bad = 0, stale = 0, errors = 0;
  firkin_options *o = make_opts(FIRKIN_SYNC_NONE, 1 << 20);
  fresh_dir(dir, sizeof dir, "readers");
  memset(&c, 0, sizeof c);
  c.nwriters = 2;
  c.keys_per_writer = (g_long ? 4 : 1) * RD_KEYS / 2;
  c.rounds = g_long ? 6 : 3;
  c.started = calloc((size_t)(c.nwriters * c.keys_per_writer), sizeof(uint64_t));
  c.acked = calloc((size_t)(c.nwriters * c.keys_per_writer), sizeof(uint64_t));
  if (firkin_open(dir, o, &c.db) != FIRKIN_OK) {
    report(false, "readers: open: %s", firkin_last_error());
    firkin_options_free(o);
    return;
  }
  g_details = 0;
  for (i = 0; i < 2; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].c = &c;
    w[i].id = i;
    pthread_create(&tw[i], NULL, rd_writer, &w[i]);
  }
  for (i = 0; i < 3; i++) {
    memset(&rd[i], 0, sizeof rd[i]);
    rd[i].c = &c;
    rd[i].id = i;
    pthread_create(&tr[i], NULL, rd_reader, &rd[i]);
  }
  for (i = 0; i < 2; i++) {
    pthread_join(tw[i], NULL);
    errors += w[i].errors;
  }
  for (i = 0; i < 3; i++) {
    pthread_join(tr[i], NULL);
    reads += rd[i].reads;
    bad += rd[i].bad;
    stale += rd[i].stale;
    errors += rd[i].errors;
  }
  report(bad == 0, "readers: %ld of %ld reads returned a value never written for the key", bad, reads);
  report(stale == 0, "readers: %ld reads missed an acknowledged write (older version or not found)", stale);
  report(errors == 0, "readers: %ld unexpected errors", errors);
  report(reads > 1000, "readers: only %ld reads ran concurrently with the writers", reads);
  {
    /* after the writers: every key has its last version; the index grew */
    int k, nk = c.nwriters * c.keys_per_writer, wrong = 0;
    uint64_t cnt = 0;
    for (k = 0; k < nk; k++) {
      char kb[32];
      void *v = NULL;
      size_t vn = 0, kn = key_of(k, kb);
      if (firkin_get(c.db, NULL, NULL, kb, kn, &v, &vn) != FIRKIN_OK ||
          parse_value(k, v, vn, 40) != c.rounds)
        wrong++;
      firkin_free(v);
    }
    report(wrong == 0, "readers: %d keys do not hold their last version after the writers finished", wrong);
    report(firkin_count(c.db, NULL, &cnt) == FIRKIN_OK && cnt == (uint64_t)nk,
           "readers: count %llu, expected %d", (unsigned long long)cnt, nk);
  }
  firkin_close(c.db);
  firkin_options_free(o);
  free(c.started);
  free(c.acked);
  rm_rf(dir);
}

/* ------------------------------------------------------------------------ */
/* (b) fork + SIGKILL of a writer                                            */
/* ------------------------------------------------------------------------ */

static void kill_round(firkin_sync_mode mode, int round) {
  char dir[1200], acklog[1300], what[128];
  workload w;
  int n = 200000, fds[2];
  pid_t pid;
  uint64_t seed = g_seed ^ ((uint64_t)mode << 40) ^ (uint64_t)round * 7919;
  rng r;
  snprintf(what, sizeof what, "kill (%s, round %d)", mode_name(mode), round);
  snprintf(acklog, sizeof acklog, "%s/ack-%s-%d", g_base, mode_name(mode), round);
  fresh_dir(dir, sizeof dir, "kill");
  unlink(acklog);
  gen_workload(&w, n, seed, 200);
  rng_seed(&r, seed);
  if (pipe(fds) != 0) {
    report(false, "%s: pipe", what);
    free_workload(&w);
    return;
  }
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    /* child: the writer */
    firkin_options *o = make_opts(mode, 256 * 1024);
    firkin_db *db = NULL;
    int ack = open(acklog, O_WRONLY | O_CREAT | O_APPEND, 0644), i;
    char ready = 'r';
    close(fds[0]);
    if (ack < 0 || firkin_open(dir, o, &db) != FIRKIN_OK) _exit(3);
    if (write(fds[1], &ready, 1) != 1) _exit(4);
    for (i = 0; i < n; i++) {
      uint32_t rec = (uint32_t)i;
      if (run_step(db, NULL, &w, i) != FIRKIN_OK) _exit(5);
      if (write(ack, &rec, sizeof rec) != (ssize_t)sizeof rec) _exit(6);
    }
    pause();
    _exit(0);
  }
  close(fds[1]);
  {
    char c;
    int status = 0;
    size_t alen = 0;
    unsigned char *acks;
    int acked, p;
    if (read(fds[0], &c, 1) != 1) {
      waitpid(pid, &status, 0);
      report(false, "%s: the writer did not start (exit %d)", what, WEXITSTATUS(status));
      close(fds[0]);
      free_workload(&w);
      return;
    }
    close(fds[0]);
    usleep((useconds_t)(20000 + rng_below(&r, 150000)));
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      report(false, "%s: the writer exited by itself (status %d) before the kill", what, status);
      free_workload(&w);
      return;
    }
    acks = read_file(acklog, &alen);
    acked = (int)(alen / 4); /* steps 0..acked-1 were acknowledged */
    free(acks);
    g_details = 0;
    p = recovered_prefix(dir, &w, acked, what);
    report(p == acked || p == acked + 1,
           "%s: %d writes acknowledged, the recovered state is the state after %d (must be %d, or %d with the in-flight write)",
           what, acked, p, acked, acked + 1);
    if (round == 0 && acked < 10) detail("%s: only %d writes before the kill", what, acked);
  }
  unlink(acklog);
  free_workload(&w);
  rm_rf(dir);
}

static void test_kill(void) {
  firkin_sync_mode modes[3] = {FIRKIN_SYNC_NONE, FIRKIN_SYNC_INTERVAL, FIRKIN_SYNC_ALWAYS};
  int m, r, rounds = g_long ? 25 : 3;
  for (m = 0; m < 3; m++)
    for (r = 0; r < rounds; r++) kill_round(modes[m], r);
}

/* ------------------------------------------------------------------------ */
/* (c) simulated power loss                                                  */
/* ------------------------------------------------------------------------ */

/* Runs the workload through a fault environment, crashes it, reopens.
 * sync_at: firkin_sync after that many steps (0 = never); always_at: the
 * step written with a per-write FIRKIN_SYNC_ALWAYS override (-1 = none).
 * Returns p (steps recovered) or a negative value on failure. */
static int power_run(firkin_sync_mode mode, firkin_crash_mode cm, uint64_t seed, int n,
                     int sync_at, int always_at, const char *what, int *durable_out) {
  char dir[1200];
  workload w;
  firkin_fault_env *env = NULL;
  firkin_options *o = make_opts(mode, 64 * 1024);
  firkin_write_options *wo_always = NULL;
  firkin_db *db = NULL;
  int i, durable = 0, p;
  firkin_status rc;
  fresh_dir(dir, sizeof dir, "power");
  gen_workload(&w, n, seed, 600);
  firkin_write_options_new(&wo_always);
  firkin_write_options_set_sync(wo_always, FIRKIN_SYNC_ALWAYS);
  if (mode == FIRKIN_SYNC_INTERVAL) firkin_options_set_sync_interval_ms(o, 5);
  if (firkin_fault_env_new(&env) != FIRKIN_OK || firkin_options_set_fault_env(o, env) != FIRKIN_OK ||
      (rc = firkin_open(dir, o, &db)) != FIRKIN_OK) {
    detail("%s: setup failed: %s", what, firkin_last_error());
    p = -3;
    goto out;
  }
  for (i = 0; i < n; i++) {
    rc = run_step(db, i == always_at ? wo_always : NULL, &w, i);
    if (rc != FIRKIN_OK) {
      detail("%s: step %d: %s: %s", what, i, firkin_strerror(rc), firkin_last_error());
      p = -3;
      goto out;
    }
    if (i == always_at) durable = i + 1;
    if (mode == FIRKIN_SYNC_ALWAYS) durable = i + 1;
    if (sync_at && i + 1 == sync_at) {
      rc = firkin_sync(db);
      if (rc != FIRKIN_OK) {
        detail("%s: sync: %s", what, firkin_last_error());
        p = -3;
        goto out;
      }
      durable = i + 1;
    }
  }
  rc = firkin_fault_env_crash(env, cm, seed);
  if (rc != FIRKIN_OK) {
    detail("%s: firkin_fault_env_crash: %s", what, firkin_last_error());
    p = -3;
    goto out;
  }
  firkin_close(db); /* fails: the "machine" is off */
  db = NULL;
  firkin_fault_env_free(env);
  env = NULL;
  p = recovered_prefix(dir, &w, durable, what);
  if (p >= 0 && p < durable) {
    detail("%s: %d steps were durable (synced or acknowledged with sync), only %d recovered", what, durable, p);
    p = -1;
  }
out:
  if (db) firkin_close(db);
  firkin_fault_env_free(env);
  firkin_options_free(o);
  firkin_write_options_free(wo_always);
  free_workload(&w);
  rm_rf(dir);
  if (durable_out) *durable_out = durable;
  return p;
}

static void test_power(void) {
  firkin_sync_mode modes[3] = {FIRKIN_SYNC_NONE, FIRKIN_SYNC_INTERVAL, FIRKIN_SYNC_ALWAYS};
  firkin_crash_mode cms[3] = {FIRKIN_CRASH_DROP, FIRKIN_CRASH_PREFIX, FIRKIN_CRASH_GARBAGE};
  const char *cmn[3] = {"drop", "prefix", "garbage"};
  int m, c, s, seeds = g_long ? 12 : 2, n = 1200;
  for (m = 0; m < 3; m++) {
    for (c = 0; c < 3; c++) {
      for (s = 0; s < seeds; s++) {
        char what[128];
        int durable = 0, p;
        uint64_t seed = g_seed + (uint64_t)(m * 100 + c * 10 + s);
        snprintf(what, sizeof what, "power loss (%s, %s, seed %d)", mode_name(modes[m]), cmn[c], s);
        g_details = 0;
        p = power_run(modes[m], cms[c], seed, n, modes[m] == FIRKIN_SYNC_ALWAYS ? 0 : 400,
                      modes[m] == FIRKIN_SYNC_ALWAYS ? -1 : 800, what, &durable);
        if (modes[m] == FIRKIN_SYNC_ALWAYS)
          report(p == n, "%s: %d writes acknowledged with sync, %d recovered", what, n, p);
        else
          report(p >= durable, "%s: recovered state must be a prefix of at least %d steps, got %d",
                 what, durable, p);
      }
    }
  }
  /* Self-check: in `none` mode with DROP and no sync after step 300 the
   * tail must be lost, or the harness is not simulating anything. */
  {
    int p, durable = 0;
    g_details = 0;
    p = power_run(FIRKIN_SYNC_NONE, FIRKIN_CRASH_DROP, g_seed + 999, 1200, 300, -1,
                  "power loss self-check (none, drop)", &durable);
    report(p >= 300 && p < 1200,
           "power loss self-check: none + DROP must lose the unsynced tail but keep the synced prefix "
           "(recovered %d of 1200 steps, 300 synced)", p);
  }
}

/* ------------------------------------------------------------------------ */
/* Record walking (docs/format.md: 8 KiB segment header; records of a     */
/* 40-byte header, optional 8-byte time (flags bit 1) and expiry (bit 2),   */
/* key, value, zero padding to 8; value_len u32 at 28, key_len u16 at 32,   */
/* flags u8 at 35: format version 3)                                         */
/* ------------------------------------------------------------------------ */

#define SEG_HEADER 8192

static uint32_t rd_u32(const unsigned char *p) { return rec_u32(p); }

/* Offsets of the records of a segment image (and the end offset of the
 * last one as offs[n]). Stops at a zero header or anything implausible. */
static size_t walk_records(const unsigned char *d, size_t len, size_t *offs, size_t cap) {
  size_t off = SEG_HEADER, n = 0;
  while (off + REC_MIN_SIZE <= len && n + 1 < cap) {
    size_t sz = rec_record_size(d + off);
    uint8_t type = d[off + 34];
    if (type == 0 || type > 7 || off + sz > len) break; /* 6, 7: a compaction output's lists */
    offs[n++] = off;
    off += sz;
  }
  offs[n] = off;
  return n;
}

/* ------------------------------------------------------------------------ */
/* (d) torn tail                                                             */
/* ------------------------------------------------------------------------ */

static bool build_db(const char *dir, const workload *w, uint64_t segsize) {
  firkin_options *o = make_opts(FIRKIN_SYNC_NONE, segsize);
  firkin_db *db = NULL;
  int i;
  bool ok = firkin_open(dir, o, &db) == FIRKIN_OK;
  for (i = 0; ok && i < w->n; i++) ok = run_step(db, NULL, w, i) == FIRKIN_OK;
  if (db && firkin_close(db) != FIRKIN_OK) ok = false;
  firkin_options_free(o);
  if (!ok) detail("building the database failed: %s", firkin_last_error());
  return ok;
}

/* Like build_db, but the writer process dies without closing (as after
 * kill -9): nothing is synced after the last segment roll, so the tail of
 * the last segment is exactly what a crash may tear. */
static bool build_db_crashed(const char *dir, const workload *w, uint64_t segsize) {
  pid_t pid;
  int status = 0;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    firkin_options *o = make_opts(FIRKIN_SYNC_NONE, segsize);
    firkin_db *db = NULL;
    int i;
    if (firkin_open(dir, o, &db) != FIRKIN_OK) _exit(3);
    for (i = 0; i < w->n; i++)
      if (run_step(db, NULL, w, i) != FIRKIN_OK) _exit(4);
    _exit(0); /* no close, no sync */
  }
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    detail("building the database in a child failed (status %d)", status);
    return false;
  }
  return true;
}

/* Damages the tail of the last segment. crashed: the database was left by
 * a dying writer (a torn tail is normal: open must succeed); otherwise it
 * was closed cleanly and the damage hits synced data (the engine may refuse
 * it with CORRUPTION naming the file, or cut it; never a wrong value). */
static void torn_round(int variant, int round, bool crashed) {
  static const char *names[] = {"truncate", "garbage", "zeroed tail"};
  char dir[1200], what[160];
  workload w;
  char **segs = NULL;
  size_t nseg = 0, len = 0, *offs = NULL, nrec, end;
  unsigned char *data = NULL;
  rng r;
  uint64_t seed = g_seed + 31 * (uint64_t)round + (uint64_t)variant * 1000 + crashed;
  size_t cut = 0;
  bool mid_record = false;
  const char *base;
  int p;
  snprintf(what, sizeof what, "torn tail (%s, %s, round %d)", names[variant],
           crashed ? "after a crash" : "after a clean close", round);
  rng_seed(&r, seed);
  fresh_dir(dir, sizeof dir, "torn");
  gen_workload(&w, 500, seed, 400);
  g_details = 0;
  if (!(crashed ? build_db_crashed(dir, &w, 64 * 1024) : build_db(dir, &w, 64 * 1024))) {
    report(false, "%s: setup", what);
    goto out;
  }
  nseg = list_segments(dir, &segs);
  if (nseg == 0 || !(data = read_file(segs[nseg - 1], &len)) || len <= SEG_HEADER) {
    report(false, "%s: no last segment with records found (%zu segments)", what, nseg);
    goto out;
  }
  base = strrchr(segs[nseg - 1], '/') + 1;
  offs = malloc(sizeof(size_t) * (len / 8 + 2));
  nrec = walk_records(data, len, offs, len / 8 + 2);
  end = offs[nrec]; /* end of the last record (the file may be preallocated) */
  if (nrec == 0) {
    report(false, "%s: the last segment holds no records", what);
    goto out;
  }
  if (variant == 0) {
    /* cut inside the records of the last segment */
    size_t t = offs[0] + 1 + (size_t)rng_below(&r, end - offs[0] - 1), i;
    mid_record = true;
    for (i = 0; i <= nrec; i++)
      if (offs[i] == t) mid_record = false;
    if (truncate(segs[nseg - 1], (off_t)t) != 0) report(false, "%s: truncate", what);
    cut = end - t;
  } else if (variant == 1) {
    /* garbage where the next record would go: a torn append */
    size_t g = 1 + (size_t)rng_below(&r, 4096), i;
    unsigned char *buf = malloc(end + g > len ? end + g : len);
    memcpy(buf, data, len);
    for (i = 0; i < g; i++) buf[end + i] = (unsigned char)(rng_next(&r) | 1);
    write_file(segs[nseg - 1], buf, end + g > len ? end + g : len);
    free(buf);
    cut = g;
  } else {
    /* zeros over the last bytes of the records */
    size_t z = 1 + (size_t)rng_below(&r, end - offs[0]);
    memset(data + end - z, 0, z);
    write_file(segs[nseg - 1], data, len);
    cut = z;
  }
  if (crashed && variant != 1) {
    /* Complete records cut or zeroed: only a power loss does that to a
     * dying writer's log (after a kill -9 the page cache holds every byte
     * written, and recovery relies on it for records updated in place:
     * docs/write_path.md, "In-place updates"). The machine "rebooted": the
     * LIVE file, which says which boot wrote it, goes too. */
    char live[1300];
    snprintf(live, sizeof live, "%s/LIVE", dir);
    unlink(live);
  }
  p = recovered_prefix(dir, &w, w.n, what);
  if (crashed) {
    report(p >= 0, "%s: open must succeed and recover a prefix of the writes (got %d)", what, p);
    if (variant == 1)
      report(p == w.n, "%s: garbage after the last record must lose nothing (recovered %d of %d)", what, p, w.n);
    if (p >= 0 && (variant == 1 || mid_record))
      report(g_torn_known && g_torn_cut > 0, "%s: %zu bytes damaged, stats torn_bytes_cut = %llu%s", what, cut,
             (unsigned long long)g_torn_cut, g_torn_known ? "" : " (missing)");
  } else if (p == -2) {
    report(g_open_status == FIRKIN_E_CORRUPTION && strstr(g_open_msg, base) != NULL,
           "%s: a refused open must be CORRUPTION naming %s, got %s: \"%s\"", what, base,
           firkin_strerror(g_open_status), g_open_msg);
  } else if (p == -1 && g_read_wrong == 0 && g_read_other == 0 && g_read_corrupt > 0) {
    /* Opened from the index checkpoint, which does not rescan synced data:
     * the damage is found when the damaged records are read, and reported
     * as CORRUPTION, never as a wrong value. */
    report(true, "%s: damage reported as CORRUPTION by %d reads", what, g_read_corrupt);
  } else {
    report(p >= 0, "%s: the opened database must hold a prefix of the writes (got %d)", what, p);
  }
  if (p >= 0) {
    /* new writes after the cut survive the next open */
    firkin_db *db = NULL;
    char kb[32];
    size_t kn = key_of(9999999, kb);
    if (firkin_open(dir, NULL, &db) == FIRKIN_OK) {
      report(firkin_put(db, NULL, NULL, kb, kn, "after", 5) == FIRKIN_OK, "%s: put after recovery: %s", what, firkin_last_error());
      firkin_close(db);
      db = NULL;
      if (firkin_open(dir, NULL, &db) == FIRKIN_OK) {
        void *v = NULL;
        size_t vn = 0;
        firkin_status rc = firkin_get(db, NULL, NULL, kb, kn, &v, &vn);
        report(rc == FIRKIN_OK && vn == 5 && memcmp(v, "after", 5) == 0,
               "%s: a write made after the torn tail was cut is lost on the next open (%s)", what, firkin_strerror(rc));
        firkin_free(v);
        firkin_close(db);
        db = NULL;
      } else {
        report(false, "%s: second reopen failed: %s", what, firkin_last_error());
      }
    } else {
      report(false, "%s: reopen failed: %s", what, firkin_last_error());
    }
  }
out:
  free(offs);
  free(data);
  free_names(segs, nseg);
  free_workload(&w);
  rm_rf(dir);
}

static void test_torn(void) {
  int v, r, rounds = g_long ? 20 : 3;
  for (v = 0; v < 3; v++)
    for (r = 0; r < rounds; r++) {
      torn_round(v, r, true);
      torn_round(v, r, false);
    }
}

/* ------------------------------------------------------------------------ */
/* (e) flipped bits                                                          */
/* ------------------------------------------------------------------------ */

/* Every key of the workload reads as the model says, or fails with an
 * error; never a wrong value. Returns the number of wrong values. Also
 * iterates: every entry is a valid value of its key. */
static int never_wrong(firkin_db *db, const workload *w, const char *what, int *errors) {
  long long *model = malloc(sizeof(long long) * (size_t)(w->nkeys + 1));
  int k, i, wrong = 0;
  firkin_iter *it = NULL;
  *errors = 0;
  for (k = 0; k < w->nkeys; k++) model[k] = -1;
  for (i = 0; i < w->n; i++) model_apply(w, model, i);
  for (k = 0; k < w->nkeys; k++) {
    char kb[32];
    void *v = NULL;
    size_t vn = 0, kn = key_of(k, kb);
    firkin_status rc = firkin_get(db, NULL, NULL, kb, kn, &v, &vn);
    if (rc == FIRKIN_OK) {
      long long s = parse_value(k, v, vn, w->maxextra);
      /* an older version is possible after salvage skipped the newer one;
       * a value that was never written for this key is not */
      if (s == -2 || (model[k] >= 0 && s > model[k])) {
        if (wrong++ < 3) detail("%s: key %d returned a wrong value", what, k);
      } else if (model[k] == -1 && s >= 0) {
        /* deleted in the model but a value is returned: only acceptable if
         * the tombstone was lost to damage, which is still "a value that was
         * written for that key"; counted as an error, not a wrong value */
        (*errors)++;
      }
    } else {
      (*errors)++;
    }
    firkin_free(v);
  }
  if (firkin_iter_new(db, NULL, NULL, &it) == FIRKIN_OK) {
    for (; firkin_iter_valid(it); firkin_iter_next(it)) {
      const void *kp, *vp;
      size_t kl, vl;
      int kid = -1;
      char kb[32];
      if (firkin_iter_key(it, &kp, &kl) != FIRKIN_OK || firkin_iter_value(it, &vp, &vl) != FIRKIN_OK) break;
      if (kl < 32) {
        memcpy(kb, kp, kl);
        kb[kl] = 0;
        if (sscanf(kb, "key-%7d", &kid) != 1) kid = -1;
      }
      if (kid < 0 || kid >= w->nkeys || parse_value(kid, vp, vl, w->maxextra) == -2) {
        if (wrong++ < 3) detail("%s: the iterator returned a wrong entry", what);
      }
    }
    firkin_iter_free(it);
  }
  free(model);
  return wrong;
}

static void bitflip_round(int round) {
  char dir[1200], what[160];
  workload w;
  char **segs = NULL;
  size_t nseg = 0, len = 0, *offs = NULL, nrec;
  unsigned char *data = NULL;
  rng r;
  uint64_t seed = g_seed + 77 * (uint64_t)round;
  size_t flip_at;
  firkin_db *db = NULL;
  firkin_status rc;
  const char *base;
  snprintf(what, sizeof what, "bit flip in a sealed segment (round %d)", round);
  rng_seed(&r, seed);
  fresh_dir(dir, sizeof dir, "bitflip");
  gen_workload(&w, 800, seed, 400);
  g_details = 0;
  if (!build_db(dir, &w, 64 * 1024)) {
    report(false, "%s: setup", what);
    goto out;
  }
  remove_checkpoint(dir); /* force a scan of every segment */
  nseg = list_segments(dir, &segs);
  if (nseg < 3) {
    report(false, "%s: expected several segments, found %zu", what, nseg);
    goto out;
  }
  {
    size_t victim = (size_t)rng_below(&r, nseg - 1); /* not the last */
    size_t ri;
    data = read_file(segs[victim], &len);
    offs = malloc(sizeof(size_t) * (len / 8 + 2));
    nrec = walk_records(data, len, offs, len / 8 + 2);
    if (nrec == 0) {
      report(false, "%s: no records in %s", what, segs[victim]);
      goto out;
    }
    /* a byte of a data record's header, key or value (not its padding;
     * not a compaction output's list of inputs) */
    ri = (size_t)rng_below(&r, nrec);
    while (data[offs[ri] + 34] > 5) ri = (ri + 1) % nrec;
    {
      size_t kl = (size_t)data[offs[ri] + 32] | (size_t)data[offs[ri] + 33] << 8;
      size_t vl = rd_u32(data + offs[ri] + 28);
      flip_at = offs[ri] + (size_t)rng_below(&r, rec_head_len(rec_flags(data + offs[ri])) + kl + vl);
    }
    data[flip_at] ^= (unsigned char)(1u << rng_below(&r, 8));
    write_file(segs[victim], data, len);
    base = strrchr(segs[victim], '/') + 1;
    rc = firkin_open(dir, NULL, &db);
    report(rc == FIRKIN_E_CORRUPTION, "%s: open must give CORRUPTION, got %s (flip at %s offset %zu)", what,
           firkin_strerror(rc), base, flip_at);
    if (rc == FIRKIN_E_CORRUPTION)
      report(strstr(firkin_last_error(), base) != NULL, "%s: the message must name the file %s: \"%s\"", what,
             base, firkin_last_error());
    if (db) {
      firkin_close(db);
      db = NULL;
    }
    {
      firkin_options *o = NULL;
      int errors = 0, wrong;
      firkin_options_new(&o);
      firkin_options_set_salvage(o, true);
      rc = firkin_open(dir, o, &db);
      report(rc == FIRKIN_OK, "%s: salvage open must succeed, got %s: %s", what, firkin_strerror(rc), firkin_last_error());
      if (rc == FIRKIN_OK) {
        uint64_t skipped = 0;
        wrong = never_wrong(db, &w, what, &errors);
        report(wrong == 0, "%s: salvage returned %d wrong values", what, wrong);
        report(stats_number(db, "salvaged_regions", &skipped) && skipped > 0,
               "%s: stats must report what salvage skipped (salvaged_regions = %llu)", what,
               (unsigned long long)skipped);
        firkin_close(db);
        db = NULL;
      }
      firkin_options_free(o);
    }
  }
out:
  free(offs);
  free(data);
  free_names(segs, nseg);
  free_workload(&w);
  rm_rf(dir);
}

/* Random flips anywhere in any segment (and the checkpoint kept): the open
 * may fail, but an opened database never returns a wrong value. */
static void bitflip_anywhere_round(int round) {
  char dir[1200], what[160];
  workload w;
  char **segs = NULL;
  size_t nseg = 0;
  rng r;
  uint64_t seed = g_seed + 131 * (uint64_t)round;
  int f, flips;
  firkin_db *db = NULL;
  firkin_status rc;
  snprintf(what, sizeof what, "bit flips anywhere (round %d)", round);
  rng_seed(&r, seed);
  fresh_dir(dir, sizeof dir, "bitflip-any");
  gen_workload(&w, 600, seed, 300);
  g_details = 0;
  if (!build_db(dir, &w, 64 * 1024)) {
    report(false, "%s: setup", what);
    goto out;
  }
  if (round % 2) remove_checkpoint(dir);
  nseg = list_segments(dir, &segs);
  flips = 1 + (int)rng_below(&r, 4);
  for (f = 0; f < flips && nseg; f++) {
    size_t victim = (size_t)rng_below(&r, nseg), len = 0;
    unsigned char *data = read_file(segs[victim], &len);
    if (data && len) {
      data[rng_below(&r, len)] ^= (unsigned char)(1u << rng_below(&r, 8));
      write_file(segs[victim], data, len);
    }
    free(data);
  }
  rc = firkin_open(dir, NULL, &db);
  if (rc == FIRKIN_OK) {
    int errors = 0, wrong = never_wrong(db, &w, what, &errors);
    report(wrong == 0, "%s: %d wrong values", what, wrong);
    firkin_close(db);
  } else {
    report(rc == FIRKIN_E_CORRUPTION || rc == FIRKIN_E_VERSION || rc == FIRKIN_E_NOT_A_DATABASE,
           "%s: open failed with an unexpected status %s: %s", what, firkin_strerror(rc), firkin_last_error());
  }
  {
    firkin_options *o = NULL;
    firkin_options_new(&o);
    firkin_options_set_salvage(o, true);
    db = NULL;
    rc = firkin_open(dir, o, &db);
    if (rc == FIRKIN_OK) {
      int errors = 0, wrong = never_wrong(db, &w, what, &errors);
      report(wrong == 0, "%s (salvage): %d wrong values", what, wrong);
      firkin_close(db);
    } else {
      report(rc == FIRKIN_E_CORRUPTION || rc == FIRKIN_E_VERSION || rc == FIRKIN_E_NOT_A_DATABASE,
             "%s (salvage): open failed with an unexpected status %s: %s", what, firkin_strerror(rc), firkin_last_error());
    }
    firkin_options_free(o);
  }
out:
  free_names(segs, nseg);
  free_workload(&w);
  rm_rf(dir);
}

static void test_bitflip(void) {
  int r, rounds = g_long ? 40 : 4;
  for (r = 0; r < rounds; r++) bitflip_round(r);
  for (r = 0; r < rounds * 3; r++) bitflip_anywhere_round(r);
}

/* ------------------------------------------------------------------------ */
/* (f) a second writer                                                       */
/* ------------------------------------------------------------------------ */

/* Opens dir in a child process; returns the status it got. */
static firkin_status open_in_child(const char *dir, bool read_only, bool hold_and_die) {
  int fds[2];
  pid_t pid;
  int status = 0;
  signed char st = 0;
  if (pipe(fds) != 0) return FIRKIN_E_INTERNAL;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    firkin_options *o = NULL;
    firkin_db *db = NULL;
    signed char s;
    close(fds[0]);
    firkin_options_new(&o);
    firkin_options_set_read_only(o, read_only);
    s = (signed char)firkin_open(dir, o, &db);
    if (write(fds[1], &s, 1) != 1) _exit(2);
    if (hold_and_die && s == FIRKIN_OK) {
      for (;;) pause(); /* killed by the parent while holding the lock */
    }
    firkin_close(db);
    _exit(0);
  }
  close(fds[1]);
  if (read(fds[0], &st, 1) != 1) st = (signed char)FIRKIN_E_INTERNAL;
  close(fds[0]);
  if (hold_and_die) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return st;
}

static void test_busy(void) {
  char dir[1200];
  firkin_db *w = NULL, *w2 = NULL, *r1 = NULL, *r2 = NULL;
  firkin_options *ro = NULL;
  firkin_status rc;
  fresh_dir(dir, sizeof dir, "busy");
  firkin_options_new(&ro);
  firkin_options_set_read_only(ro, true);
  rc = firkin_open(dir, NULL, &w);
  report(rc == FIRKIN_OK, "busy: first open: %s", firkin_last_error());
  if (rc != FIRKIN_OK) goto out;
  firkin_put(w, NULL, NULL, "k", 1, "v", 1);
  rc = firkin_open(dir, NULL, &w2);
  report(rc == FIRKIN_E_BUSY && w2 == NULL, "busy: a second writer in the same process must get BUSY, got %s", firkin_strerror(rc));
  report(rc != FIRKIN_E_BUSY || firkin_last_error()[0] != 0, "busy: BUSY without a message");
  if (w2) firkin_close(w2);
  /* read-only opens take no lock: they coexist with the writer */
  firkin_sync(w);
  rc = firkin_open(dir, ro, &r1);
  report(rc == FIRKIN_OK, "busy: a read-only open beside the writer must succeed, got %s", firkin_strerror(rc));
  if (r1) {
    void *v = NULL;
    size_t vl = 0;
    rc = firkin_get(r1, NULL, NULL, "k", 1, &v, &vl);
    report(rc == FIRKIN_OK && vl == 1, "busy: the reader beside the writer sees the synced key: %s", firkin_strerror(rc));
    firkin_free(v);
    report(firkin_put(r1, NULL, NULL, "x", 1, "v", 1) == FIRKIN_E_READ_ONLY, "busy: a reader refuses writes");
    firkin_close(r1);
  }
  r1 = NULL;
  rc = open_in_child(dir, false, false);
  report(rc == FIRKIN_E_BUSY, "busy: a writer in another process must get BUSY, got %s", firkin_strerror(rc));
  rc = open_in_child(dir, true, false);
  report(rc == FIRKIN_OK, "busy: a reader in another process beside the writer must succeed, got %s", firkin_strerror(rc));
  /* the writer still works */
  report(firkin_put(w, NULL, NULL, "k2", 2, "v", 1) == FIRKIN_OK, "busy: the first writer is unaffected");
  firkin_close(w);
  w = NULL;
  /* read-only opens coexist, here and in another process; a writer is refused */
  rc = firkin_open(dir, ro, &r1);
  report(rc == FIRKIN_OK, "busy: read-only open: %s", firkin_last_error());
  rc = firkin_open(dir, ro, &r2);
  report(rc == FIRKIN_OK, "busy: a second read-only open in the same process: %s", firkin_last_error());
  rc = open_in_child(dir, true, false);
  report(rc == FIRKIN_OK, "busy: a read-only open in another process alongside ours: %s", firkin_strerror(rc));
  rc = open_in_child(dir, false, false);
  report(rc == FIRKIN_OK, "busy: a writer in another process while readers are open must succeed, got %s", firkin_strerror(rc));
  rc = firkin_open(dir, NULL, &w2);
  report(rc == FIRKIN_OK, "busy: a writer in this process while readers are open must succeed, got %s", firkin_strerror(rc));
  if (w2) {
    firkin_db *w3 = NULL;
    rc = firkin_open(dir, NULL, &w3);
    report(rc == FIRKIN_E_BUSY, "busy: a second writer beside readers and a writer must get BUSY, got %s", firkin_strerror(rc));
    if (w3) firkin_close(w3);
    firkin_close(w2);
  }
  w2 = NULL;
  firkin_close(r1);
  firkin_close(r2);
  r1 = r2 = NULL;
  /* a dead holder never blocks */
  rc = open_in_child(dir, false, true);
  report(rc == FIRKIN_OK, "busy: the child writer could not open: %s", firkin_strerror(rc));
  rc = firkin_open(dir, NULL, &w);
  report(rc == FIRKIN_OK, "busy: after the holder was killed, open must succeed, got %s", firkin_strerror(rc));
  if (w) {
    void *v = NULL;
    size_t vn;
    report(firkin_get(w, NULL, NULL, "k2", 2, &v, &vn) == FIRKIN_OK, "busy: data written by the first writer is there");
    firkin_free(v);
  }
out:
  firkin_close(w);
  firkin_options_free(ro);
  rm_rf(dir);
}

/* ------------------------------------------------------------------------ */
/* (g) a foreign segment                                                     */
/* ------------------------------------------------------------------------ */

static void test_foreign(void) {
  char a[1200], b[1200], target[1400];
  workload w;
  char **sa = NULL, **sb = NULL;
  size_t na = 0, nb = 0, flen = 0, len2 = 0;
  unsigned char *foreign = NULL, *after = NULL;
  int variant;
  gen_workload(&w, 400, g_seed + 5, 300);
  for (variant = 0; variant < 2; variant++) {
    firkin_db *db = NULL;
    firkin_status rc;
    unsigned long long id;
    const char *what = variant ? "foreign segment (gap id)" : "foreign segment (next id)";
    fresh_dir(a, sizeof a, "foreign-a");
    fresh_dir(b, sizeof b, "foreign-b");
    g_details = 0;
    if (!build_db(a, &w, 64 * 1024) || !build_db(b, &w, 64 * 1024)) {
      report(false, "%s: setup", what);
      break;
    }
    remove_checkpoint(a);
    na = list_segments(a, &sa);
    nb = list_segments(b, &sb);
    if (!na || !nb) {
      report(false, "%s: no segments", what);
      break;
    }
    /* the same workload gives the same bytes except the database id */
    id = strtoull(strrchr(sa[na - 1], '/') + 1, NULL, 10) + (variant ? 7 : 1);
    snprintf(target, sizeof target, "%s/%016llu.seg", a, id);
    foreign = read_file(sb[0], &flen);
    write_file(target, foreign, flen);
    rc = firkin_open(a, NULL, &db);
    report(rc == FIRKIN_E_CORRUPTION || rc == FIRKIN_E_NOT_A_DATABASE,
           "%s: open must refuse it (CORRUPTION or NOT_A_DATABASE), got %s", what, firkin_strerror(rc));
    if (db) firkin_close(db);
    db = NULL;
    {
      firkin_options *o = NULL;
      firkin_options_new(&o);
      firkin_options_set_salvage(o, true);
      rc = firkin_open(a, o, &db);
      /* salvage may open, but must not adopt the foreign data */
      if (rc == FIRKIN_OK) {
        int errors = 0;
        report(never_wrong(db, &w, what, &errors) == 0, "%s: salvage returned wrong values", what);
        firkin_close(db);
      }
      db = NULL;
      firkin_options_free(o);
    }
    after = read_file(target, &len2);
    report(after && len2 == flen && memcmp(after, foreign, flen) == 0,
           "%s: the foreign file was modified (%zu bytes before, %zu after)", what, flen, len2);
    free(after);
    after = NULL;
    free(foreign);
    foreign = NULL;
    /* without it, the database opens with its data */
    unlink(target);
    {
      int p = recovered_prefix(a, &w, w.n, what);
      report(p == w.n, "%s: after removing the foreign file the database must open intact (got %d)", what, p);
    }
    free_names(sa, na);
    free_names(sb, nb);
    sa = sb = NULL;
    na = nb = 0;
  }
  free_names(sa, na);
  free_names(sb, nb);
  free(foreign);
  free_workload(&w);
  rm_rf(a);
  rm_rf(b);
}

/* ------------------------------------------------------------------------ */
/* (h) snapshot isolation under concurrent writes (bank invariant)          */
/* ------------------------------------------------------------------------ */

#define BANK_ACCOUNTS 64
#define BANK_INITIAL 1000

typedef struct {
  firkin_db *db;
  firkin_ns *ns;
  int stop;
  long transfers, checks, violations, errors;
} bank;

static void acct_key(int i, char *kb) { sprintf(kb, "acct-%03d", i); }

static bool read_balance(firkin_db *db, const firkin_snapshot *s, const firkin_ns *ns, int i, long *out) {
  char kb[16], buf[32];
  size_t vn = 0;
  acct_key(i, kb);
  if (firkin_get_into(db, s, ns, kb, strlen(kb), buf, sizeof buf - 1, &vn) != FIRKIN_OK) return false;
  buf[vn] = 0;
  *out = strtol(buf, NULL, 10);
  return true;
}

static pthread_mutex_t bank_mu = PTHREAD_MUTEX_INITIALIZER;

static void *bank_writer_locked(void *arg) {
  /* transfers must not interleave their read and write, or money is created
   * by lost updates (that would be a test bug, not an engine bug): one
   * writer thread at a time does the read-modify-write */
  bank *b = arg;
  while (!__atomic_load_n(&b->stop, __ATOMIC_SEQ_CST)) {
    long before;
    pthread_mutex_lock(&bank_mu);
    before = b->transfers;
    {
      /* one transfer */
      rng r;
      int from, to;
      long fb, tb, amt;
      char kb[16], vb[32];
      firkin_batch *batch = NULL;
      firkin_status rc;
      rng_seed(&r, g_seed + (uint64_t)before * 31 + (uint64_t)b->errors);
      from = (int)rng_below(&r, BANK_ACCOUNTS);
      to = (from + 1 + (int)rng_below(&r, BANK_ACCOUNTS - 1)) % BANK_ACCOUNTS;
      amt = (long)rng_below(&r, 50);
      if (read_balance(b->db, NULL, b->ns, from, &fb) && read_balance(b->db, NULL, b->ns, to, &tb)) {
        firkin_batch_new(&batch);
        acct_key(from, kb);
        sprintf(vb, "%ld", fb - amt);
        firkin_batch_put(batch, b->ns, kb, strlen(kb), vb, strlen(vb));
        acct_key(to, kb);
        sprintf(vb, "%ld", tb + amt);
        firkin_batch_put(batch, b->ns, kb, strlen(kb), vb, strlen(vb));
        rc = firkin_write(b->db, NULL, batch);
        firkin_batch_free(batch);
        if (rc == FIRKIN_OK) __atomic_add_fetch(&b->transfers, 1, __ATOMIC_SEQ_CST);
        else b->errors++;
      } else {
        b->errors++;
      }
    }
    pthread_mutex_unlock(&bank_mu);
  }
  return NULL;
}

typedef struct {
  bank *b;
  long checks, violations, errors;
  int id;
} bank_reader_t;

static void *bank_reader(void *arg) {
  bank_reader_t *t = arg;
  bank *b = t->b;
  while (!__atomic_load_n(&b->stop, __ATOMIC_SEQ_CST)) {
    firkin_snapshot *s = NULL;
    long sum = 0, sum2 = 0, bal;
    int i, mode = (int)(t->checks % 3);
    bool ok = true;
    if (firkin_snapshot_new(b->db, &s) != FIRKIN_OK) {
      t->errors++;
      continue;
    }
    if (mode == 0) {
      /* point reads at the snapshot, twice: same sum both times */
      for (i = 0; i < BANK_ACCOUNTS && ok; i++) {
        ok = read_balance(b->db, s, b->ns, i, &bal);
        sum += bal;
      }
      for (i = 0; i < BANK_ACCOUNTS && ok; i++) {
        ok = read_balance(b->db, s, b->ns, i, &bal);
        sum2 += bal;
      }
    } else if (mode == 1) {
      /* an iterator at the snapshot */
      firkin_iter *it = NULL;
      int n = 0;
      ok = firkin_iter_new(b->db, s, b->ns, &it) == FIRKIN_OK;
      for (; ok && firkin_iter_valid(it); firkin_iter_next(it)) {
        const void *vp;
        size_t vl;
        char buf[32];
        ok = firkin_iter_value(it, &vp, &vl) == FIRKIN_OK && vl < sizeof buf;
        if (ok) {
          memcpy(buf, vp, vl);
          buf[vl] = 0;
          sum += strtol(buf, NULL, 10);
          n++;
        }
      }
      if (ok) ok = firkin_iter_status(it) == FIRKIN_OK && n == BANK_ACCOUNTS;
      if (!ok && t->errors < 3)
        detail("snapshot iterator: %d of %d accounts, status %d", n, BANK_ACCOUNTS,
               it ? (int)firkin_iter_status(it) : -999);
      firkin_iter_free(it);
      sum2 = sum;
    } else {
      /* multi_get with no snapshot: one consistent read of all accounts */
      const void *keys[BANK_ACCOUNTS];
      size_t kl[BANK_ACCOUNTS], vl[BANK_ACCOUNTS];
      void *vals[BANK_ACCOUNTS];
      firkin_status sts[BANK_ACCOUNTS];
      char kbs[BANK_ACCOUNTS][16];
      for (i = 0; i < BANK_ACCOUNTS; i++) {
        acct_key(i, kbs[i]);
        keys[i] = kbs[i];
        kl[i] = strlen(kbs[i]);
      }
      ok = firkin_multi_get(b->db, NULL, b->ns, BANK_ACCOUNTS, keys, kl, vals, vl, sts) == FIRKIN_OK;
      for (i = 0; i < BANK_ACCOUNTS && ok; i++) {
        char buf[32];
        if (sts[i] != FIRKIN_OK || vl[i] >= sizeof buf) {
          ok = false;
          break;
        }
        memcpy(buf, vals[i], vl[i]);
        buf[vl[i]] = 0;
        sum += strtol(buf, NULL, 10);
      }
      for (i = 0; ok && i < BANK_ACCOUNTS; i++) firkin_free(vals[i]);
      sum2 = sum;
    }
    firkin_snapshot_free(s);
    if (!ok) {
      if (t->errors++ < 3)
        detail("snapshot reader (mode %d) failed: %s", mode, firkin_last_error());
      continue;
    }
    __atomic_add_fetch(&t->checks, 1, __ATOMIC_SEQ_CST);
    if (sum != (long)BANK_ACCOUNTS * BANK_INITIAL || sum2 != sum) {
      if (t->violations++ < 3)
        detail("snapshot (reader mode %d): total %ld then %ld, expected %ld", mode, sum, sum2,
               (long)BANK_ACCOUNTS * BANK_INITIAL);
    }
  }
  return NULL;
}

static void test_snapshots(void) {
  char dir[1200];
  bank b;
  bank_reader_t rt[2];
  pthread_t tw[2], tr[2];
  int i;
  long checks = 0, viol = 0, errors = 0;
  firkin_options *o = make_opts(FIRKIN_SYNC_NONE, 64 * 1024);
  fresh_dir(dir, sizeof dir, "snap");
  memset(&b, 0, sizeof b);
  g_details = 0;
  if (firkin_open(dir, o, &b.db) != FIRKIN_OK || firkin_ns_create(b.db, "bank", &b.ns) != FIRKIN_OK) {
    report(false, "snapshots: setup: %s", firkin_last_error());
    goto out;
  }
  for (i = 0; i < BANK_ACCOUNTS; i++) {
    char kb[16], vb[16];
    acct_key(i, kb);
    sprintf(vb, "%d", BANK_INITIAL);
    firkin_put(b.db, NULL, b.ns, kb, strlen(kb), vb, strlen(vb));
  }
  for (i = 0; i < 2; i++) pthread_create(&tw[i], NULL, bank_writer_locked, &b);
  for (i = 0; i < 2; i++) {
    memset(&rt[i], 0, sizeof rt[i]);
    rt[i].b = &b;
    rt[i].id = i;
    pthread_create(&tr[i], NULL, bank_reader, &rt[i]);
  }
  /* run until enough transfers and checks happened (no timing assertion) */
  for (i = 0; i < 4000; i++) {
    long tr_done = __atomic_load_n(&b.transfers, __ATOMIC_SEQ_CST);
    if (tr_done > (g_long ? 200000 : 20000) && __atomic_load_n(&rt[0].checks, __ATOMIC_SEQ_CST) > 100 &&
        __atomic_load_n(&rt[1].checks, __ATOMIC_SEQ_CST) > 100)
      break;
    usleep(5000);
  }
  __atomic_store_n(&b.stop, 1, __ATOMIC_SEQ_CST);
  for (i = 0; i < 2; i++) pthread_join(tw[i], NULL);
  for (i = 0; i < 2; i++) {
    pthread_join(tr[i], NULL);
    checks += rt[i].checks;
    viol += rt[i].violations;
    errors += rt[i].errors;
  }
  report(viol == 0, "snapshots: %ld of %ld consistent reads saw a total other than %ld", viol, checks,
         (long)BANK_ACCOUNTS * BANK_INITIAL);
  report(errors == 0 && b.errors == 0, "snapshots: %ld reader and %ld writer errors", errors, b.errors);
  report(checks > 10 && b.transfers > 100, "snapshots: too little concurrency (%ld checks, %ld transfers)", checks, b.transfers);
  {
    /* a snapshot taken now keeps its view while more transfers happen */
    firkin_snapshot *s = NULL;
    long before[BANK_ACCOUNTS], bal;
    int k, same = 1;
    firkin_snapshot_new(b.db, &s);
    for (k = 0; k < BANK_ACCOUNTS; k++) read_balance(b.db, s, b.ns, k, &before[k]);
    for (k = 0; k < BANK_ACCOUNTS; k++) {
      char kb[16];
      acct_key(k, kb);
      firkin_put(b.db, NULL, b.ns, kb, strlen(kb), "0", 1);
    }
    for (k = 0; k < BANK_ACCOUNTS; k++)
      if (!read_balance(b.db, s, b.ns, k, &bal) || bal != before[k]) same = 0;
    report(same, "snapshots: a held snapshot changed after later writes");
    firkin_snapshot_free(s);
  }
out:
  firkin_ns_close(b.ns);
  firkin_close(b.db);
  firkin_options_free(o);
  rm_rf(dir);
}

/* ------------------------------------------------------------------------ */
/* (i) deletes never reappear                                                */
/* ------------------------------------------------------------------------ */

static void test_deletes(void) {
  char dir[1200];
  firkin_options *o = make_opts(FIRKIN_SYNC_NONE, 64 * 1024);
  int nk = 2000, round, rounds = g_long ? 30 : 6, resurrected = 0, lost = 0, errs = 0;
  int *state = calloc((size_t)nk, sizeof(int)); /* 0 absent, else version */
  rng r;
  rng_seed(&r, g_seed + 4242);
  fresh_dir(dir, sizeof dir, "deletes");
  g_details = 0;
  for (round = 1; round <= rounds; round++) {
    firkin_db *db = NULL;
    int k;
    if (firkin_open(dir, o, &db) != FIRKIN_OK) {
      report(false, "deletes: open in round %d: %s", round, firkin_last_error());
      break;
    }
    /* check everything from the previous rounds */
    for (k = 0; k < nk; k++) {
      char kb[32];
      unsigned char vb[MAX_VALUE + 64];
      void *v = NULL;
      size_t vn = 0, kn = key_of(k, kb);
      firkin_status rc = firkin_get(db, NULL, NULL, kb, kn, &v, &vn);
      if (state[k] == 0 && rc != FIRKIN_E_NOT_FOUND) {
        if (resurrected++ < 3) detail("deletes: key %d is back in round %d (%s)", k, round, firkin_strerror(rc));
      } else if (state[k] > 0) {
        size_t wn = value_of(k, (uint64_t)state[k], vb, 100);
        if (rc != FIRKIN_OK || vn != wn || memcmp(v, vb, wn) != 0) {
          if (lost++ < 3) detail("deletes: key %d lost its value in round %d (%s)", k, round, firkin_strerror(rc));
        }
      }
      firkin_free(v);
    }
    /* write: every key, then delete about half, then a few rewrites */
    for (k = 0; k < nk; k++) {
      char kb[32];
      unsigned char vb[MAX_VALUE + 64];
      size_t kn = key_of(k, kb), vn;
      uint64_t x = rng_below(&r, 10);
      if (x < 6) {
        vn = value_of(k, (uint64_t)round, vb, 100);
        if (firkin_put(db, NULL, NULL, kb, kn, vb, vn) == FIRKIN_OK) state[k] = round;
        else errs++;
      }
      if (x >= 3 && x < 8) {
        if (firkin_delete(db, NULL, NULL, kb, kn) == FIRKIN_OK) state[k] = 0;
        else errs++;
      }
    }
    if (round % 2 == 0) {
      firkin_status rc = firkin_compact(db);
      if (rc != FIRKIN_OK && rc != FIRKIN_E_NOT_SUPPORTED) errs++;
    }
    firkin_close(db);
    if (round % 3 == 0) remove_checkpoint(dir); /* force a full scan next time */
  }
  report(resurrected == 0, "deletes: %d deleted keys reappeared", resurrected);
  report(lost == 0, "deletes: %d live keys lost their value", lost);
  report(errs == 0, "deletes: %d writes failed", errs);
  free(state);
  firkin_options_free(o);
  rm_rf(dir);
}

/* ------------------------------------------------------------------------ */
/* (j) injected I/O errors                                                   */
/* ------------------------------------------------------------------------ */

static void test_faults(void) {
  char dir[1200];
  firkin_fault_env *env = NULL;
  firkin_options *o = make_opts(FIRKIN_SYNC_ALWAYS, 64 * 1024);
  firkin_db *db = NULL;
  firkin_status rc;
  int i, acked = 0;
  unsigned char vb[MAX_VALUE + 64];
  g_details = 0;
  fresh_dir(dir, sizeof dir, "faults");
  if (firkin_fault_env_new(&env) != FIRKIN_OK || firkin_options_set_fault_env(o, env) != FIRKIN_OK ||
      firkin_open(dir, o, &db) != FIRKIN_OK) {
    report(false, "faults: setup: %s", firkin_last_error());
    goto out;
  }
  for (i = 0; i < 50; i++) {
    char kb[32];
    size_t kn = key_of(i, kb), vn = value_of(i, 1, vb, 100);
    if (firkin_put(db, NULL, NULL, kb, kn, vb, vn) == FIRKIN_OK) acked = i + 1;
  }
  report(acked == 50, "faults: writes before any fault failed");
  /* ENOSPC when a new segment is preallocated: the put fails with NO_SPACE,
   * nothing is acknowledged, and the database stays usable */
  firkin_fault_env_fail(env, FIRKIN_FAULT_ALLOCATE, 1, FIRKIN_E_NO_SPACE, true);
  {
    int nospace = 0, k = 50;
    for (; k < 2000; k++) {
      char kb[32];
      size_t kn = key_of(k, kb), vn = value_of(k, 1, vb, 600);
      rc = firkin_put(db, NULL, NULL, kb, kn, vb, vn);
      if (rc == FIRKIN_E_NO_SPACE) {
        nospace = 1;
        report(firkin_last_error()[0] != 0, "faults: NO_SPACE without a message");
        break;
      }
      if (rc != FIRKIN_OK) {
        report(false, "faults: put under ENOSPC gave %s: %s", firkin_strerror(rc), firkin_last_error());
        break;
      }
      acked = k + 1;
    }
    report(nospace, "faults: filling segments with fallocate failing never gave NO_SPACE (%d puts)", k - 50);
    firkin_fault_env_fail(env, FIRKIN_FAULT_ALLOCATE, 0, FIRKIN_E_NO_SPACE, false);
    if (nospace) {
      char kb[32];
      size_t kn = key_of(k, kb), vn = value_of(k, 1, vb, 600);
      rc = firkin_put(db, NULL, NULL, kb, kn, vb, vn);
      report(rc == FIRKIN_OK, "faults: after the disk has space again, a put must succeed, got %s: %s",
             firkin_strerror(rc), firkin_last_error());
      if (rc == FIRKIN_OK) acked = k + 1;
    }
  }
  /* A failed fsync: IO, then sticky until reopen. Every sync fails while
   * the put runs: a single failing call could be taken by a background
   * thread's sync of something no write depends on (a compaction output,
   * the directory after a pass, a checkpoint), which fails only that work,
   * and the put then rightly succeeded (seen once in ~10 runs beside other
   * tests under ASan). Then the disk is healthy again: the database must
   * stay failed by itself. */
  firkin_fault_env_fail(env, FIRKIN_FAULT_SYNC, 1, FIRKIN_E_IO, true);
  {
    char kb[32];
    size_t kn = key_of(5000, kb), vn = value_of(5000, 1, vb, 50);
    rc = firkin_put(db, NULL, NULL, kb, kn, vb, vn);
    report(rc == FIRKIN_E_IO, "faults: a put whose fsync fails must give IO, got %s", firkin_strerror(rc));
    report(rc != FIRKIN_E_IO || firkin_last_error()[0] != 0, "faults: IO without a message");
    firkin_fault_env_fail(env, FIRKIN_FAULT_SYNC, 0, FIRKIN_E_IO, false);
    kn = key_of(5001, kb);
    rc = firkin_put(db, NULL, NULL, kb, kn, vb, vn);
    report(rc == FIRKIN_E_IO, "faults: after a failed fsync, later writes must fail (sticky), got %s", firkin_strerror(rc));
    rc = firkin_sync(db);
    report(rc != FIRKIN_OK, "faults: after a failed fsync, firkin_sync must not report success");
    {
      void *v = NULL;
      size_t n2 = 0;
      kn = key_of(3, kb);
      rc = firkin_get(db, NULL, NULL, kb, kn, &v, &n2);
      report(rc == FIRKIN_OK, "faults: reads still work in the sticky error state, got %s", firkin_strerror(rc));
      firkin_free(v);
    }
  }
  firkin_close(db);
  db = NULL;
  firkin_fault_env_free(env);
  env = NULL;
  /* reopen without faults: every acknowledged write is there */
  if (firkin_open(dir, NULL, &db) == FIRKIN_OK) {
    int k, missing = 0;
    for (k = 0; k < acked; k++) {
      char kb[32];
      void *v = NULL;
      size_t vn = 0, kn = key_of(k, kb);
      size_t maxx = k < 50 ? 100 : 600;
      if (firkin_get(db, NULL, NULL, kb, kn, &v, &vn) != FIRKIN_OK || parse_value(k, v, vn, maxx) != 1) missing++;
      firkin_free(v);
    }
    report(missing == 0, "faults: %d of %d acknowledged writes missing after reopen", missing, acked);
    {
      char kb[32];
      size_t kn = key_of(6000, kb);
      report(firkin_put(db, NULL, NULL, kb, kn, "x", 1) == FIRKIN_OK, "faults: writes work again after reopen");
    }
  } else {
    report(false, "faults: reopen after the faults: %s", firkin_last_error());
  }
out:
  firkin_close(db);
  firkin_fault_env_free(env);
  firkin_options_free(o);
  rm_rf(dir);
}

/* ------------------------------------------------------------------------ */
/* (o) a failed roll, then background compaction                             */
/* ------------------------------------------------------------------------ */

/* The newest log segment file of dir (its id; 0 if none). */
static uint64_t newest_segment(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *de;
  uint64_t hi = 0;
  if (!d) return 0;
  while ((de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (strlen(n) == 20 && strcmp(n + 16, ".seg") == 0 && strspn(n, "0123456789abcdef") == 16) {
      uint64_t id = strtoull(n, NULL, 16);
      if (id > hi) hi = id;
    }
  }
  closedir(d);
  return hi;
}

/* A roll that fails (the disk is full when the next segment is made)
 * leaves the full segment active, closed, with its seal queued; the
 * writeback thread seals it. Until 2026-11-29 background compaction then
 * took it like any sealed segment, retired it and freed it while the log
 * writer still held it as the active segment: the next write's roll, the
 * prefault and writeback threads and the close's seal used it after it
 * was freed (its file gone to the pool or removed; under ASan a
 * heap-use-after-free in the next put's roll). Here the full segment
 * is nearly all dead (8 keys overwritten by appends), so compaction wants
 * it; it must stay until the next roll has replaced it. */
static void test_failed_roll(void) {
  char dir[1200], path[1300];
  firkin_fault_env *env = NULL;
  firkin_options *o = make_opts(FIRKIN_SYNC_NONE, 64 * 1024);
  firkin_db *db = NULL;
  firkin_status rc = FIRKIN_OK;
  unsigned char vb[MAX_VALUE + 64];
  uint64_t full = 0, retired = 0;
  int k, ms, gone = 0;
  fresh_dir(dir, sizeof dir, "failed-roll");
  if (!o || firkin_fault_env_new(&env) != FIRKIN_OK || firkin_options_set_fault_env(o, env) != FIRKIN_OK ||
      firkin_options_set(o, "in_place_updates", "false") != FIRKIN_OK ||
      firkin_options_set(o, "compact_dead_ratio", "20") != FIRKIN_OK ||
      /* (no pool: a retired segment is freed at once, not kept for its file) */
      firkin_options_set(o, "recycle_segments", "0") != FIRKIN_OK ||
      firkin_open(dir, o, &db) != FIRKIN_OK) {
    report(false, "failed roll: setup: %s", firkin_last_error());
    goto out;
  }
  /* Full segments before, nearly all dead too: compaction has work it may
   * do (the test wants to see it run). */
  for (k = 0; k < 4000; k++) {
    char kb[32];
    size_t kn = key_of(k % 8, kb), vn = value_of(k % 8, (uint64_t)k, vb, 600);
    uint64_t rolls = 0;
    if (firkin_put(db, NULL, NULL, kb, kn, vb, vn) != FIRKIN_OK) break;
    if (stats_number(db, "segment_rolls", &rolls) && rolls >= 3) break;
  }
  report(k < 4000, "failed roll: no third segment after %d puts: %s", k, firkin_last_error());
  /* ENOSPC whenever a segment file is preallocated: the spare, then the
   * roll's own file; the put that needs the roll gets NO_SPACE. */
  firkin_fault_env_fail(env, FIRKIN_FAULT_ALLOCATE, 1, FIRKIN_E_NO_SPACE, true);
  for (k = 0; k < 4000; k++) {
    char kb[32];
    size_t kn = key_of(k % 8, kb), vn = value_of(k % 8, (uint64_t)k, vb, 600);
    rc = firkin_put(db, NULL, NULL, kb, kn, vb, vn);
    if (rc != FIRKIN_OK) break;
  }
  report(rc == FIRKIN_E_NO_SPACE, "failed roll: no NO_SPACE from the roll (%d puts, %s)", k,
         firkin_strerror(rc));
  if (rc != FIRKIN_E_NO_SPACE) goto out;
  full = newest_segment(dir);  /* the segment the failed roll left active */
  firkin_fault_env_fail(env, FIRKIN_FAULT_ALLOCATE, 0, FIRKIN_E_NO_SPACE, false);
  snprintf(path, sizeof path, "%s/%016llx.seg", dir, (unsigned long long)full);
  /* Background compaction runs every 250 ms: 3 s for it to take what it
   * wants (every full segment before it, and, until the fix, it too). */
  for (ms = 0; ms < 3000 && !gone; ms += 20) {
    struct stat st;
    gone = stat(path, &st) != 0;
    usleep(20 * 1000);
  }
  stats_number(db, "segments_retired", &retired);
  report(!gone, "failed roll: the active segment %016llx was compacted away before any roll "
         "replaced it (%llu segments retired)", (unsigned long long)full, (unsigned long long)retired);
  report(retired > 0, "failed roll: compaction retired nothing in 3 s (the test wants it to run)");
  /* The disk has space again: writes go on, and the state is whole. */
  for (k = 0; k < 200; k++) {
    char kb[32];
    size_t kn = key_of(100 + k, kb), vn = value_of(100 + k, 1, vb, 600);
    rc = firkin_put(db, NULL, NULL, kb, kn, vb, vn);
    if (rc != FIRKIN_OK) break;
  }
  report(rc == FIRKIN_OK, "failed roll: a put after the disk has space again gave %s: %s",
         firkin_strerror(rc), firkin_last_error());
  rc = firkin_close(db);
  db = NULL;
  report(rc == FIRKIN_OK, "failed roll: close gave %s: %s", firkin_strerror(rc), firkin_last_error());
out:
  firkin_close(db);
  firkin_fault_env_free(env);
  firkin_options_free(o);
  rm_rf(dir);
}

/* ------------------------------------------------------------------------ */
/* (k) chains: every record a read relies on is verified                     */
/* ------------------------------------------------------------------------ */

/* Flips `mask` in byte `at` of the last record (the newest: segments in id
 * order, records in file order) of type `type` whose key is `key`, in the
 * segments of dir (records are near the start: 1 MiB is read). Returns
 * whether it found one. */
static bool flip_in_record(const char *dir, int type, const char *key, size_t at, unsigned mask) {
  enum { kRead = 1 << 20, kMaxRecs = 4096 };
  char **names = NULL;
  size_t n = list_segments(dir, &names), i, klen = strlen(key), hit_off = 0;
  const char *hit = NULL;
  bool done = false;
  unsigned char *d = malloc(kRead);
  size_t *offs = malloc((kMaxRecs + 1) * sizeof *offs);
  for (i = 0; i < n; i++) {
    size_t nr, j;
    int fd = open(names[i], O_RDONLY);
    ssize_t got = fd < 0 ? -1 : pread(fd, d, kRead, 0);
    nr = got > 0 ? walk_records(d, (size_t)got, offs, kMaxRecs + 1) : 0;
    for (j = 0; j < nr; j++) {
      const unsigned char *r = d + offs[j];
      size_t kl = (size_t)r[32] | (size_t)r[33] << 8;
      if (r[34] == type && kl == klen && memcmp(rec_key(r), key, klen) == 0) {
        hit = names[i];
        hit_off = offs[j];
      }
    }
    if (fd >= 0) close(fd);
  }
  if (hit) {
    int fd = open(hit, O_RDWR);
    unsigned char b;
    if (fd >= 0 && pread(fd, &b, 1, (off_t)(hit_off + at)) == 1) {
      b = (unsigned char)(b ^ mask);
      done = pwrite(fd, &b, 1, (off_t)(hit_off + at)) == 1;
    }
    if (fd >= 0) close(fd);
  }
  free(d);
  free(offs);
  free_names(names, n);
  return done;
}

/* What a damaged chain may give for key k whose intact value is absent
 * (want == NULL) or `want`: that value, or an error (CORRUPTION); never
 * another value as OK, and never "absent" as OK when it is present. Checks
 * get, contains, get_version, an explicit snapshot and an iterator. */
static void chain_reads(const char *dir, const char *what, const char *want) {
  firkin_db *db = NULL;
  firkin_snapshot *snap = NULL;
  firkin_iter *it = NULL;
  void *v = NULL;
  size_t vn = 0;
  bool found = false;
  uint64_t ver = 0;
  int yielded_wrong = 0;
  firkin_status rc = firkin_open(dir, NULL, &db);
  if (rc != FIRKIN_OK) {
    /* refusing the damaged database is a correct answer */
    report(rc == FIRKIN_E_CORRUPTION, "chains: %s: open gave %s (%s)", what, firkin_strerror(rc),
           firkin_last_error());
    return;
  }
#define CHAIN_WRONG(rc, got, gotn)                                                            \
  ((rc) == FIRKIN_OK ? (want == NULL || (gotn) != strlen(want) || memcmp(got, want, gotn) != 0) \
                     : ((rc) == FIRKIN_E_NOT_FOUND && want != NULL))
  rc = firkin_get(db, NULL, NULL, "k", 1, &v, &vn);
  report(rc != FIRKIN_E_NOT_FOUND || want == NULL, "chains: %s: get says absent", what);
  report(!(rc == FIRKIN_OK && CHAIN_WRONG(rc, v, vn)), "chains: %s: get returned '%.*s' as OK", what,
         (int)vn, v ? (const char *)v : "");
  report(rc == FIRKIN_OK || rc == FIRKIN_E_NOT_FOUND || rc == FIRKIN_E_CORRUPTION,
         "chains: %s: get gave %s", what, firkin_strerror(rc));
  firkin_free(v);
  v = NULL;
  rc = firkin_contains(db, NULL, NULL, "k", 1, &found);
  report(!(rc == FIRKIN_OK && found != (want != NULL)), "chains: %s: contains says %s", what,
         found ? "present" : "absent");
  rc = firkin_get_version(db, NULL, NULL, "k", 1, &ver);
  report(!(rc == FIRKIN_OK && want == NULL), "chains: %s: get_version found a version", what);
  if (firkin_snapshot_new(db, &snap) == FIRKIN_OK) {
    rc = firkin_get(db, snap, NULL, "k", 1, &v, &vn);
    report(!CHAIN_WRONG(rc, v, vn), "chains: %s: get at a snapshot gave %s '%.*s'", what,
           firkin_strerror(rc), (int)vn, v ? (const char *)v : "");
    firkin_free(v);
    v = NULL;
  }
  /* the iterator: k as yielded (or not) must agree with want, or the
   * iteration ends with an error */
  if (firkin_iter_new(db, snap, NULL, &it) == FIRKIN_OK) {
    bool saw_k = false;
    for (; firkin_iter_valid(it); firkin_iter_next(it)) {
      const void *kp, *vp;
      size_t kn, vl;
      if (firkin_iter_key(it, &kp, &kn) != FIRKIN_OK || firkin_iter_value(it, &vp, &vl) != FIRKIN_OK) continue;
      if (kn == 1 && memcmp(kp, "k", 1) == 0) {
        saw_k = true;
        if (want == NULL || vl != strlen(want) || memcmp(vp, want, vl) != 0) yielded_wrong++;
      }
    }
    rc = firkin_iter_status(it);
    if (rc == FIRKIN_OK && want != NULL && !saw_k) yielded_wrong++;
    report(rc != FIRKIN_OK || yielded_wrong == 0, "chains: %s: the iterator yielded a wrong k and ended OK", what);
    firkin_iter_free(it);
  }
#undef CHAIN_WRONG
  firkin_snapshot_free(snap);
  firkin_close(db);
}

/* One scenario: writes `first` (before a checkpointed close), then puts z
 * (so that the damaged record lies before the checkpoint the next open
 * loads), damages one record, and checks the reads of k. */
static void chain_round(const char *name, bool tombstone, int flip_type, size_t at, unsigned mask,
                        bool drop_checkpoint) {
  char dir[1200], what[200];
  firkin_db *db = NULL;
  bool ok;
  /* No background compaction: it may drop the tombstone and the version
   * it shadows (the first segment is all dead once "z" rolls a new one),
   * and then there is no chain left to damage. */
  firkin_options *o = NULL;
  snprintf(what, sizeof what, "%s%s", name, drop_checkpoint ? " (no checkpoint)" : "");
  fresh_dir(dir, sizeof dir, "chains");
  firkin_options_new(&o);
  firkin_options_set_auto_compact(o, false);
  ok = firkin_open(dir, o, &db) == FIRKIN_OK &&
       firkin_put(db, NULL, NULL, "k", 1, "old", 3) == FIRKIN_OK &&
       (tombstone ? firkin_delete(db, NULL, NULL, "k", 1) : firkin_put(db, NULL, NULL, "k", 1, "new", 3)) == FIRKIN_OK;
  ok = firkin_close(db) == FIRKIN_OK && ok;
  db = NULL;
  ok = ok && firkin_open(dir, o, &db) == FIRKIN_OK && firkin_put(db, NULL, NULL, "z", 1, "z", 1) == FIRKIN_OK;
  ok = firkin_close(db) == FIRKIN_OK && ok;
  firkin_options_free(o);
  if (!ok) {
    report(false, "chains: %s: building the database: %s", what, firkin_last_error());
    return;
  }
  report(flip_in_record(dir, flip_type, "k", at, mask), "chains: %s: the record to damage was not found", what);
  if (drop_checkpoint) remove_checkpoint(dir);
  chain_reads(dir, what, tombstone ? NULL : "new");
  rm_rf(dir);
}

/* (l) The checker itself: a state that several prefixes leave is matched
 * to the prefix nearest the expected one (see match_prefix). */
static void test_matcher(void) {
  workload w;
  long long state[8];
  int k;
  memset(&w, 0, sizeof w);
  w.n = 7;
  w.nkeys = 6;
  w.s = calloc((size_t)w.n, sizeof *w.s);
  for (k = 0; k < 5; k++) { /* steps 0-4 put keys 0-4 */
    w.s[k].type = ST_PUT;
    w.s[k].nkeys = 1;
    w.s[k].keys[0] = k;
  }
  w.s[5].type = ST_PUT; /* step 5 puts key 5 ... */
  w.s[5].nkeys = 1;
  w.s[5].keys[0] = 5;
  w.s[6].type = ST_DEL; /* ... and step 6 deletes it: after 5 == after 7 */
  w.s[6].nkeys = 1;
  w.s[6].keys[0] = 5;
  for (k = 0; k < 5; k++) state[k] = k;
  state[5] = -1;
  report(match_prefix(&w, state, 6) == 7,
         "matcher: 6 acknowledged, state after 5 == after 7: got %d, want 7",
         match_prefix(&w, state, 6));
  report(match_prefix(&w, state, 5) == 5, "matcher: hint 5 gets 5 (got %d)",
         match_prefix(&w, state, 5));
  report(match_prefix(&w, state, 0) == 5, "matcher: hint 0 gets the nearest, 5 (got %d)",
         match_prefix(&w, state, 0));
  state[4] = 3; /* key 4 holds key 3's step: no prefix */
  report(match_prefix(&w, state, 6) == -1, "matcher: a state no prefix leaves gives -1");
  free(w.s);
}

static void test_chains(void) {
  g_details = 0;
  /* issue 9, item 1: a high bit of the tombstone's seq flipped made the read
   * skip the tombstone and return the deleted value as OK */
  chain_round("tombstone seq bit 62", true, 2, 8 + 7, 0x40, false);
  chain_round("tombstone seq bit 63", true, 2, 8 + 7, 0x80, false);
  chain_round("tombstone seq bit 40", true, 2, 8 + 5, 0x01, false);
  chain_round("tombstone prev", true, 2, 16 + 1, 0x10, false);
  chain_round("tombstone seq bit 62", true, 2, 8 + 7, 0x40, true);
  /* the same for an overwrite: the stale value must not come back */
  chain_round("newest put seq bit 62", false, 1, 8 + 7, 0x40, false);
  chain_round("newest put seq bit 62", false, 1, 8 + 7, 0x40, true);
}

/* ------------------------------------------------------------------------ */
/* (m) scans: an iterator at a snapshot holds every write acknowledged       */
/*     before the snapshot, exactly once, while many writers append and     */
/*     compaction moves records                                              */
/* ------------------------------------------------------------------------ */

#define SCAN_WRITERS 8
#define SCAN_KEYS 3000 /* per writer */

typedef struct {
  firkin_db *db;
  firkin_ns *ns;
  int stop;
  long acked[SCAN_WRITERS];   /* keys 0..acked-1 of writer t are acknowledged */
  long started[SCAN_WRITERS]; /* no key at or past it was written yet */
  long errors;
} scan_state;

typedef struct {
  scan_state *st;
  int t;
} scan_writer_t;

static size_t scan_key(int t, long i, char *buf) { return (size_t)sprintf(buf, "w%d-%06ld", t, i); }

/* Inserts new keys, and rewrites an old one now and then (same value), so
 * that segments hold dead bytes and compaction moves the live records. */
static void *scan_writer(void *arg) {
  scan_writer_t *w = arg;
  scan_state *st = w->st;
  rng r;
  long i;
  rng_seed(&r, g_seed + 77 + (uint64_t)w->t);
  for (i = 0; i < SCAN_KEYS && !__atomic_load_n(&st->stop, __ATOMIC_SEQ_CST); i++) {
    char kb[32];
    size_t kl;
    __atomic_store_n(&st->started[w->t], i + 1, __ATOMIC_SEQ_CST);
    kl = scan_key(w->t, i, kb);
    if (firkin_put(st->db, NULL, st->ns, kb, kl, kb, kl) != FIRKIN_OK) __atomic_add_fetch(&st->errors, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&st->acked[w->t], i + 1, __ATOMIC_SEQ_CST);
    if (i > 0 && rng_below(&r, 2) == 0) {
      kl = scan_key(w->t, (long)rng_below(&r, (uint64_t)i), kb);
      if (firkin_put(st->db, NULL, st->ns, kb, kl, kb, kl) != FIRKIN_OK) __atomic_add_fetch(&st->errors, 1, __ATOMIC_SEQ_CST);
    }
  }
  return NULL;
}

static void test_scans(void) {
  char dir[1200];
  scan_state st;
  scan_writer_t wt[SCAN_WRITERS];
  pthread_t th[SCAN_WRITERS];
  firkin_options *o = make_opts(FIRKIN_SYNC_NONE, 64 * 1024);
  unsigned char *seen = calloc((size_t)SCAN_WRITERS * SCAN_KEYS, 1);
  long scans = 0, missing = 0, twice = 0, unwritten = 0, errors = 0;
  int t, round, rounds = g_long ? 10 : 3;
  g_details = 0;
  firkin_options_set_compact_dead_ratio(o, 10);
  for (round = 0; round < rounds; round++) {
    fresh_dir(dir, sizeof dir, "scans");
    memset(&st, 0, sizeof st);
    if (firkin_open(dir, o, &st.db) != FIRKIN_OK || firkin_ns_create(st.db, "scan", &st.ns) != FIRKIN_OK) {
      report(false, "scans: setup: %s", firkin_last_error());
      firkin_close(st.db);
      break;
    }
    for (t = 0; t < SCAN_WRITERS; t++) {
      wt[t].st = &st;
      wt[t].t = t;
      pthread_create(&th[t], NULL, scan_writer, &wt[t]);
    }
    for (;;) {
      long lo[SCAN_WRITERS], hi[SCAN_WRITERS], done = 0;
      firkin_snapshot *s = NULL;
      firkin_iter *it = NULL;
      for (t = 0; t < SCAN_WRITERS; t++) {
        lo[t] = __atomic_load_n(&st.acked[t], __ATOMIC_SEQ_CST);
        done += lo[t] == SCAN_KEYS;
      }
      if (firkin_snapshot_new(st.db, &s) != FIRKIN_OK || firkin_iter_new(st.db, s, st.ns, &it) != FIRKIN_OK) {
        errors++;
        firkin_snapshot_free(s);
        break;
      }
      memset(seen, 0, (size_t)SCAN_WRITERS * SCAN_KEYS);
      for (; firkin_iter_valid(it); firkin_iter_next(it)) {
        const void *kp;
        size_t kl;
        int wt_id;
        long i;
        char kb[32];
        if (firkin_iter_key(it, &kp, &kl) != FIRKIN_OK || kl >= sizeof kb) {
          errors++;
          break;
        }
        memcpy(kb, kp, kl);
        kb[kl] = 0;
        if (sscanf(kb, "w%d-%ld", &wt_id, &i) != 2 || wt_id < 0 || wt_id >= SCAN_WRITERS || i < 0 || i >= SCAN_KEYS) {
          errors++;
          continue;
        }
        if (seen[wt_id * SCAN_KEYS + i]++ && twice++ < 3) detail("round %d: key %s yielded twice", round, kb);
      }
      if (firkin_iter_status(it) != FIRKIN_OK) errors++;
      firkin_iter_free(it);
      firkin_snapshot_free(s);
      for (t = 0; t < SCAN_WRITERS; t++) hi[t] = __atomic_load_n(&st.started[t], __ATOMIC_SEQ_CST);
      for (t = 0; t < SCAN_WRITERS; t++) {
        long i;
        for (i = 0; i < SCAN_KEYS; i++) {
          bool in = seen[t * SCAN_KEYS + i] != 0;
          if (i < lo[t] && !in && missing++ < 3) detail("round %d: acknowledged key w%d-%06ld missing", round, t, i);
          if (i >= hi[t] && in) unwritten++;
        }
      }
      scans++;
      if (done == SCAN_WRITERS) break;
    }
    __atomic_store_n(&st.stop, 1, __ATOMIC_SEQ_CST);
    for (t = 0; t < SCAN_WRITERS; t++) pthread_join(th[t], NULL);
    errors += st.errors;
    firkin_ns_close(st.ns);
    firkin_close(st.db);
    rm_rf(dir);
  }
  report(missing == 0, "scans: %ld acknowledged keys missing from an iterator at a later snapshot (%ld scans)", missing, scans);
  report(twice == 0, "scans: %ld keys yielded twice by one iterator", twice);
  report(unwritten == 0, "scans: %ld keys yielded before they were written", unwritten);
  report(errors == 0, "scans: %ld errors", errors);
  report(scans > 10, "scans: too few scans (%ld)", scans);
  free(seen);
  firkin_options_free(o);
}

/* ------------------------------------------------------------------------ */
/* (n) space: compaction keeps up with steady updates of hot keys            */
/* ------------------------------------------------------------------------ */

/* A pass used to treat every old version whose key had been updated again
 * after the pass began as still needed (by an in-flight write), and gave up
 * the input holding it. Under steady updates of hot keys that is every
 * input of every pass: no pass ever completed and the log grew without
 * bound (1.1 GB for 53 MB of data in 3 s of YCSB A). */

#define SPACE_WRITERS 2
#define SPACE_KEYS 4000
#define SPACE_VALUE 1000
#define SPACE_SEGMENT (4u << 20)
#define SPACE_MIN_PASSES 4
#define SPACE_PASSES 40 /* the writers go on for this many (the hold check needs them) */
#define SPACE_MAX_LOG (64ull * SPACE_SEGMENT) /* the writers stop there */
/* Backpressure (Compactor::StallLimit): new writes wait for compaction once
 * the log is over 16 segments here (three times compact_space_amp of 4 MB
 * live is less). Four more: the segment filled before the roll that
 * stalled them, and one per time the compactor ran out of work it could do
 * (the newest full segments wait for their seal) and let them go before
 * the next roll stalled them again. 8 ASan copies at once on 2 cores
 * peaked at 71.9-73.9 MB (18 segments: 75.5 MB); without backpressure 14
 * of 64 such runs passed 256 MB. */
#define SPACE_STALL_LOG ((16ull + 4) * SPACE_SEGMENT)

typedef struct {
  firkin_db *db;
  int t;
  int *stop;
  long ops; /* done (read by the main thread after the join) */
  int errors;
  uint64_t last[SPACE_KEYS]; /* per key this writer owns: its last step */
} space_writer_t;

static void space_value(int key, uint64_t step, char *buf) {
  int n = snprintf(buf, SPACE_VALUE, "k%d s%llu ", key, (unsigned long long)step);
  memset(buf + n, 'a' + (int)(step % 26), SPACE_VALUE - (size_t)n);
}

static void *space_writer(void *arg) {
  space_writer_t *w = arg;
  char key[32], val[SPACE_VALUE];
  rng r;
  long i;
  rng_seed(&r, g_seed + 991 + (uint64_t)w->t);
  for (i = 0; !__atomic_load_n(w->stop, __ATOMIC_SEQ_CST); i++) {
    /* Writer t owns keys t, t + W, t + 2W, ...: the last value is known. */
    int k = w->t + SPACE_WRITERS * (int)rng_below(&r, SPACE_KEYS / SPACE_WRITERS);
    size_t kl = (size_t)sprintf(key, "hot-%04d", k);
    space_value(k, (uint64_t)i + 1, val);
    firkin_status st = firkin_put(w->db, NULL, NULL, key, kl, val, SPACE_VALUE);
    if (st != FIRKIN_OK) {
      if (w->errors++ == 0) {
        fprintf(stderr, "space: writer %d: put failed: %s: %s\n", w->t, firkin_strerror(st),
                firkin_last_error());
      }
    }
    w->last[k] = (uint64_t)i + 1;
  }
  w->ops = i;
  return NULL;
}

static double space_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_space(void) {
  char dir[1200];
  space_writer_t wt[SPACE_WRITERS];
  pthread_t th[SPACE_WRITERS];
  firkin_options *o = make_opts(FIRKIN_SYNC_NONE, SPACE_SEGMENT);
  firkin_db *db = NULL;
  uint64_t max_log = 0, log = 0, runs = 0;
  int i, stop = 0, errors = 0, wrong = 0;
  long ops = 0;
  const double start = space_now();
  fresh_dir(dir, sizeof dir, "space");
  if (firkin_open(dir, o, &db) != FIRKIN_OK) {
    report(false, "space: open: %s", firkin_last_error());
    firkin_options_free(o);
    return;
  }
  firkin_options_free(o);
  for (i = 0; i < SPACE_WRITERS; i++) {
    memset(&wt[i], 0, sizeof wt[i]);
    wt[i].db = db;
    wt[i].t = i;
    wt[i].stop = &stop;
    pthread_create(&th[i], NULL, space_writer, &wt[i]);
  }
  phase("space: writers updating hot keys");
  /* The writers go on until compaction completed SPACE_PASSES passes (its
   * background thread looks every 250 ms), the log reached its cap
   * (compaction fell behind), or 30 s passed (a sanitizer build). */
  for (;;) {
    struct timespec ts = {0, 2 * 1000 * 1000};
    if (stats_number(db, "log_bytes", &log) && log > max_log) max_log = log;
    stats_number(db, "runs", &runs);
    if (runs >= SPACE_PASSES || max_log >= SPACE_MAX_LOG || space_now() - start > 30) break;
    nanosleep(&ts, NULL);
  }
  __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
  phase("space: joining the writers");
  for (i = 0; i < SPACE_WRITERS; i++) {
    pthread_join(th[i], NULL);
    errors += wt[i].errors;
    ops += wt[i].ops;
  }
  stats_number(db, "runs", &runs);
  printf("space: %ld updates (%.0f MB), the log peaked at %llu bytes, %llu compaction passes\n",
         ops, (double)ops * SPACE_VALUE / 1e6, (unsigned long long)max_log,
         (unsigned long long)runs);
  report(errors == 0, "space: %d puts failed", errors);
  report(runs >= SPACE_MIN_PASSES,
         "space: %llu compaction passes completed while %d writers updated %d keys",
         (unsigned long long)runs, SPACE_WRITERS, SPACE_KEYS);
  {
    uint64_t stalls = 0, stall_us = 0;
    stats_number(db, "write_stalls", &stalls);
    stats_number(db, "write_stall_us", &stall_us);
    printf("space: %llu writes waited for compaction, %.1f ms in all\n",
           (unsigned long long)stalls, (double)stall_us / 1000.0);
  }
  /* Writers that outrun compaction (it runs at low priority: under a
   * sanitizer with other tests beside it, it got 8% of the CPU) wait for it
   * instead of growing the log without bound. */
  report(max_log <= SPACE_STALL_LOG,
         "space: the log reached %llu bytes while 4 MB were live (stall limit %llu): writes "
         "outran compaction",
         (unsigned long long)max_log, (unsigned long long)SPACE_STALL_LOG);
  /* With no snapshot open, a full compaction now reclaims every dead byte.
   * A pass whose relocations met concurrent updates used to hold its inputs
   * "for a snapshot" because the published number moved on between two
   * reads of it; with no snapshot ever released, those inputs were never
   * compacted again (41 segments, 2.1 GB, for 50 MB of data after 10 s of
   * YCSB A). */
  {
    uint64_t dead = UINT64_MAX, segs = 0;
    firkin_status cs;
    phase("space: full compaction");
    cs = firkin_compact(db);
    report(cs == FIRKIN_OK, "space: compact: %s", firkin_last_error());
    stats_number(db, "dead_bytes", &dead);
    stats_number(db, "segment_count", &segs);
    report(dead == 0,
           "space: %llu dead bytes left in %llu segments after a full compaction with no "
           "snapshot open (inputs held for no reader)",
           (unsigned long long)dead, (unsigned long long)segs);
  }
  for (i = 0; i < SPACE_KEYS; i++) {
    const space_writer_t *w = &wt[i % SPACE_WRITERS];
    char key[32], want[SPACE_VALUE];
    void *got = NULL;
    size_t kl = (size_t)sprintf(key, "hot-%04d", i), gl = 0;
    firkin_status st;
    if (w->last[i] == 0) continue;
    space_value(i, w->last[i], want);
    st = firkin_get(db, NULL, NULL, key, kl, &got, &gl);
    if (st != FIRKIN_OK || gl != SPACE_VALUE || memcmp(got, want, SPACE_VALUE) != 0) wrong++;
    firkin_free(got);
  }
  report(wrong == 0, "space: %d keys do not read back their last value", wrong);
  phase("space: close");
  report(firkin_close(db) == FIRKIN_OK, "space: close: %s", firkin_last_error());
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv) {
  const char *tmp = getenv("TMPDIR"), *lg = getenv("FIRKIN_TEST_LONG");
  const char *groups = "abcdefghijklmno";
  char only[16] = "";
  int i;
  g_long = lg && *lg && strcmp(lg, "0") != 0;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--long") == 0) g_long = true;
    else if (strlen(argv[i]) == 1 && strchr(groups, argv[i][0]) && strlen(only) < 15) strncat(only, argv[i], 1);
    else {
      fprintf(stderr, "usage: %s [--long] [a..o]...\n", argv[0]);
      return 2;
    }
  }
  if (!*only) strcpy(only, groups);
  {
    const char *s = getenv("FIRKIN_TEST_SEED");
    g_seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);
  }
  printf("seed %llu (FIRKIN_TEST_SEED to repeat)%s\n", (unsigned long long)g_seed, g_long ? ", long run" : "");
  snprintf(g_base, sizeof g_base, "%s/firkin-invariants-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(g_base)) {
    perror("mkdtemp");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_term);
  signal(SIGALRM, on_hang);
  alarm(g_long ? 0 : HANG_SECONDS);
  /* Line-buffered: what a run killed by a timeout printed is not lost. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (i = 0; only[i]; i++) {
    int before_p = g_passed, before_f = g_failed;
    const char *name = "";
    fflush(stdout);
    switch (only[i]) {
      case 'a': phase(name = "readers"); test_readers(); break;
      case 'b': phase(name = "kill"); test_kill(); break;
      case 'c': phase(name = "power"); test_power(); break;
      case 'd': phase(name = "torn"); test_torn(); break;
      case 'e': phase(name = "bitflip"); test_bitflip(); break;
      case 'f': phase(name = "busy"); test_busy(); break;
      case 'g': phase(name = "foreign"); test_foreign(); break;
      case 'h': phase(name = "snapshots"); test_snapshots(); break;
      case 'i': phase(name = "deletes"); test_deletes(); break;
      case 'j': phase(name = "faults"); test_faults(); break;
      case 'k': phase(name = "chains"); test_chains(); break;
      case 'l': phase(name = "matcher"); test_matcher(); break;
      case 'm': phase(name = "scans"); test_scans(); break;
      case 'n': phase(name = "space"); test_space(); break;
      case 'o': phase(name = "failedroll"); test_failed_roll(); break;
      default: break;
    }
    printf("(%c) %-10s %d passed, %d failed\n", only[i], name, g_passed - before_p, g_failed - before_f);
  }
  phase("removing the test directory");
  rm_rf(g_base);
  printf("%d passed, %d failed\n", g_passed, g_failed);
  phase("exit (leak check under ASan)");
  return g_failed ? 1 : 0;
}
