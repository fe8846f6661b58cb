/* Online backup and restore (issue 10, item 2): firkin_backup, firkin_restore.
 *
 *  - online: writer threads (puts, deletes, cross-namespace batches) and a
 *    compaction thread run while backups are taken; each backup must open as
 *    exactly the source's state at its snapshot (compared entry by entry with
 *    a time-travel snapshot of the source, kept readable by an older
 *    snapshot held across the run), with the batch pairs whole;
 *  - incremental: a second backup into the same directory keeps the
 *    unchanged segments, and after a compaction removes the retired ones
 *    (a deleted key does not come back);
 *  - links and copies: same file system links (shared inodes), hard_links
 *    off and /tmp -> /dev/shm (EXDEV) copy; the tail is never linked;
 *  - crash: a child process backs up while it writes and is killed with
 *    SIGKILL at random moments; the source opens with every acknowledged
 *    write, the destination either opens complete and verified or is refused
 *    as incomplete (NOT_A_DATABASE) until a new backup completes it;
 *  - bad input: NULLs, the destination inside the source, a file, a foreign
 *    non-empty directory (left byte-identical), another database's backup,
 *    a destination open as a database, restore into a non-empty directory,
 *    options;
 *  - read-only handles, restore, progress callback, the marker rule.
 *
 * Ends with "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firkin.h"
#include "group_args.h"

static int g_passed, g_failed, g_case_failed;
static char g_root[256];

#define CHECK(cond, ...)                                                    \
  do {                                                                      \
    if (!(cond)) {                                                          \
      g_case_failed = 1;                                                    \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                  \
      fprintf(stderr, __VA_ARGS__);                                         \
      fprintf(stderr, " [last error: %s]\n", firkin_last_error());          \
    }                                                                       \
  } while (0)
#define CHECK_ST(call, want)                                                \
  do {                                                                      \
    firkin_status st_ = (call);                                             \
    CHECK(st_ == (want), "%s -> %d (%s), want %d", #call, st_,              \
          firkin_strerror(st_), (want));                                    \
    if (st_ != FIRKIN_OK && st_ != FIRKIN_E_NOT_FOUND)                      \
      CHECK(firkin_last_error()[0] != '\0', "%s left no message", #call);   \
  } while (0)

static int rm_cb(const char *p, const struct stat *s, int f, struct FTW *w) {
  (void)s; (void)f; (void)w;
  return remove(p);
}
static void rm_rf(const char *path) { nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static void path_of(char *out, const char *name) { snprintf(out, 512, "%s/%s", g_root, name); }

static firkin_db *open_db(const char *path, bool read_only, uint64_t segment_size) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_read_only(o, read_only);
  if (segment_size) firkin_options_set_segment_size(o, segment_size);
  firkin_db *db = NULL;
  firkin_status s = firkin_open(path, o, &db);
  firkin_options_free(o);
  CHECK(s == FIRKIN_OK, "open %s -> %s", path, firkin_strerror(s));
  return s == FIRKIN_OK ? db : NULL;
}

/* ---- the state of a database as a sorted list of "ns\x01key\x01value" ---- */

typedef struct {
  char **v;
  size_t n, cap;
} strlist;

static void sl_add(strlist *l, const char *s, size_t len) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 256;
    l->v = realloc(l->v, l->cap * sizeof(char *));
  }
  char *c = malloc(len + 1);
  memcpy(c, s, len);
  c[len] = 0;
  l->v[l->n++] = c;
}
static void sl_free(strlist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *kNamespaces[] = {"default", "alpha", "beta"};
#define NNS 3

/* Every entry of the three namespaces at snap (NULL = latest). */
static int dump_state(firkin_db *db, const firkin_snapshot *snap, strlist *out) {
  for (int i = 0; i < NNS; i++) {
    firkin_ns *ns = NULL;
    if (i > 0) {
      firkin_status s = firkin_ns_open(db, kNamespaces[i], false, &ns);
      if (s == FIRKIN_E_NAMESPACE_NOT_FOUND) continue;
      if (s != FIRKIN_OK) return s;
    }
    firkin_iter *it = NULL;
    firkin_status s = firkin_iter_new(db, snap, ns, &it);
    if (s != FIRKIN_OK) {
      firkin_ns_close(ns);
      return s;
    }
    for (; firkin_iter_valid(it); firkin_iter_next(it)) {
      const void *k, *v;
      size_t kl, vl;
      firkin_iter_key(it, &k, &kl);
      firkin_iter_value(it, &v, &vl);
      char buf[1024];
      int n = snprintf(buf, sizeof buf, "%s\x01%.*s\x01%.*s", kNamespaces[i], (int)kl,
                       (const char *)k, (int)vl, (const char *)v);
      sl_add(out, buf, (size_t)n);
    }
    s = firkin_iter_status(it);
    firkin_iter_free(it);
    firkin_ns_close(ns);
    if (s != FIRKIN_OK) return s;
  }
  qsort(out->v, out->n, sizeof(char *), cmp_str);
  return FIRKIN_OK;
}

/* The database at `path` (opened read-only) holds exactly `want`. */
static void check_same(const char *path, const strlist *want, const char *what) {
  firkin_db *db = open_db(path, true, 0);
  if (db == NULL) return;
  strlist got = {0};
  firkin_status s = dump_state(db, NULL, &got);
  CHECK(s == FIRKIN_OK, "%s: dump -> %s", what, firkin_strerror(s));
  CHECK(got.n == want->n, "%s: %zu entries, want %zu", what, got.n, want->n);
  for (size_t i = 0, j = 0; i < got.n || j < want->n;) {
    int c = i == got.n ? 1 : j == want->n ? -1 : strcmp(got.v[i], want->v[j]);
    if (c == 0) {
      i++, j++;
      continue;
    }
    CHECK(0, "%s: %s %s", what, c < 0 ? "extra" : "missing", c < 0 ? got.v[i] : want->v[j]);
    if (c < 0) i++; else j++;
    break;
  }
  sl_free(&got);
  firkin_close(db);
}

static bool exists(const char *dir, const char *name) {
  char p[1200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  struct stat st;
  return lstat(p, &st) == 0;
}

static uint64_t json_u64(const char *json, const char *field) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", field);
  const char *p = json ? strstr(json, pat) : NULL;
  return p ? strtoull(p + strlen(pat), NULL, 10) : UINT64_MAX;
}

static bool json_true(const char *json, const char *field) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":true", field);
  return json != NULL && strstr(json, pat) != NULL;
}

static firkin_backup_options *bopts(bool incremental, bool verify, bool links) {
  firkin_backup_options *o = NULL;
  firkin_backup_options_new(&o);
  firkin_backup_options_set_incremental(o, incremental);
  firkin_backup_options_set_verify(o, verify);
  firkin_backup_options_set_hard_links(o, links);
  return o;
}

static void fill(firkin_db *db, const char *prefix, int from, int to, int vsize) {
  firkin_ns *ns[NNS] = {NULL};
  for (int i = 1; i < NNS; i++) firkin_ns_open(db, kNamespaces[i], true, &ns[i]);
  char k[64], v[512];
  for (int i = from; i < to; i++) {
    int kl = snprintf(k, sizeof k, "%s%d", prefix, i);
    int vl = snprintf(v, sizeof v, "v%d-", i);
    while (vl < vsize) v[vl++] = (char)('a' + i % 26);
    firkin_status s = firkin_put(db, NULL, ns[i % NNS], k, (size_t)kl, v, (size_t)vl);
    CHECK(s == FIRKIN_OK, "put %s", k);
  }
  for (int i = 1; i < NNS; i++) firkin_ns_close(ns[i]);
}

/* ---------------------------------------------------------------------- */
/* 1. online: writers, batches and compaction during backups               */
/* ---------------------------------------------------------------------- */

static firkin_db *g_db;
static atomic_int g_stop;
/* Backups taken so far. A writer does at most kWritesPerRound operations
 * per backup: the snapshot the test pins keeps every version, so an
 * unbounded write rate (a fast machine, or a backup slowed by a sanitizer)
 * would grow the log, and the files it keeps open, without bound. */
static atomic_int g_round;
enum { kWritesPerRound = 1500 };

static void *writer_main(void *arg) {
  const int t = (int)(intptr_t)arg;
  firkin_ns *a = NULL, *b = NULL;
  firkin_ns_open(g_db, "alpha", true, &a);
  firkin_ns_open(g_db, "beta", true, &b);
  uint64_t x = 88172645463325252ull ^ (uint64_t)t;
  char k[64], v[400];
  int my_round = -1, done = 0;
  for (uint64_t n = 0; !atomic_load(&g_stop); n++) {
    const int round = atomic_load(&g_round);
    if (round != my_round) my_round = round, done = 0;
    if (done >= kWritesPerRound) {
      usleep(500);
      continue;
    }
    done++;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const int key = (int)(x % 300);
    const int kl = snprintf(k, sizeof k, "w%d-%d", t, key);
    int vl = snprintf(v, sizeof v, "n%" PRIu64 "-", n);
    while (vl < 60 + (int)(x % 300)) v[vl++] = 'x';
    firkin_status s;
    switch (x % 5) {
      case 0: s = firkin_delete(g_db, NULL, a, k, (size_t)kl); break;
      case 1: case 2: s = firkin_put(g_db, NULL, a, k, (size_t)kl, v, (size_t)vl); break;
      default: {
        /* A batch across three namespaces with one tag: whole or absent. */
        firkin_batch *bt = NULL;
        firkin_batch_new(&bt);
        char pk[64];
        int pl = snprintf(pk, sizeof pk, "pair%d-%d", t, key % 40);
        firkin_batch_put(bt, b, pk, (size_t)pl, v, (size_t)vl);
        firkin_batch_put(bt, NULL, pk, (size_t)pl, v, (size_t)vl);
        firkin_batch_put(bt, a, pk, (size_t)pl, v, (size_t)vl);
        s = firkin_write(g_db, NULL, bt);
        firkin_batch_free(bt);
      }
    }
    CHECK(s == FIRKIN_OK, "writer %d: %s", t, firkin_strerror(s));
  }
  firkin_ns_close(a);
  firkin_ns_close(b);
  return NULL;
}

static void *compactor_main(void *arg) {
  (void)arg;
  while (!atomic_load(&g_stop)) {
    firkin_status s = firkin_compact(g_db);
    CHECK(s == FIRKIN_OK, "compact: %s", firkin_strerror(s));
    usleep(100000);
  }
  return NULL;
}

/* Every "pairT-K" is in all three namespaces with one value, or in none. */
static void check_pairs(const strlist *st, const char *what) {
  for (size_t i = 0; i < st->n; i++) {
    const char *e = st->v[i];
    const char *k = strchr(e, '\x01') + 1;
    if (strncmp(k, "pair", 4) != 0 || strncmp(e, "beta", 4) != 0) continue;
    for (int n = 0; n < 2; n++) {
      char want[1024];
      snprintf(want, sizeof want, "%s\x01%s", n == 0 ? "alpha" : "default", k);
      const char *key = want;
      bool found = bsearch(&key, st->v, st->n, sizeof(char *), cmp_str) != NULL;
      CHECK(found, "%s: batch pair %s not whole", what, k);
    }
  }
}

static void test_online(void) {
  char src[512], dst[512];
  path_of(src, "online-src");
  path_of(dst, "online-bak");
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_segment_size(o, 64 << 10);
  firkin_options_set_compact_dead_ratio(o, 20);
  firkin_options_set_compact_rate(o, 0);
  firkin_options_set_checkpoint_every(o, 256 << 10);
  CHECK_ST(firkin_open(src, o, &g_db), FIRKIN_OK);
  firkin_options_free(o);
  if (g_db == NULL) return;
  fill(g_db, "base", 0, 600, 100);
  /* Held across the run: compaction keeps every version a snapshot at or
   * after it can see, so the source can be read back at each backup's
   * sequence number. */
  firkin_snapshot *pin = NULL;
  firkin_snapshot_new(g_db, &pin);
  atomic_store(&g_stop, 0);
  atomic_store(&g_round, 0);
  pthread_t th[4];
  for (int t = 0; t < 3; t++) pthread_create(&th[t], NULL, writer_main, (void *)(intptr_t)t);
  pthread_create(&th[3], NULL, compactor_main, NULL);
  usleep(100000);
  enum { kRounds = 15 };
  uint64_t seqs[kRounds] = {0};
  for (int round = 0; round < kRounds; round++) {
    firkin_backup_options *bo = bopts(round % 3 != 2, true, round % 4 != 3);
    char *rep = NULL;
    firkin_status s = firkin_backup(g_db, bo, dst, &rep);
    CHECK(s == FIRKIN_OK, "online backup %d: %s", round, firkin_strerror(s));
    CHECK(json_true(rep, "verified"), "backup %d not verified: %s", round, rep);
    seqs[round] = json_u64(rep, "seq");
    if (round > 0) CHECK(seqs[round] >= seqs[round - 1], "seq went back");
    CHECK(!exists(dst, "BACKUP-INCOMPLETE"), "marker left after a complete backup");
    /* Compare with the source at the backup's snapshot, while writers run. */
    firkin_snapshot *at = NULL;
    s = firkin_snapshot_at(g_db, seqs[round], &at);
    CHECK(s == FIRKIN_OK, "snapshot_at %" PRIu64 ": %s", seqs[round], firkin_strerror(s));
    strlist want = {0};
    s = dump_state(g_db, at, &want);
    CHECK(s == FIRKIN_OK, "dump source at %" PRIu64 ": %s", seqs[round], firkin_strerror(s));
    check_pairs(&want, "source");
    char what[64];
    snprintf(what, sizeof what, "online backup %d (seq %" PRIu64 ")", round, seqs[round]);
    atomic_fetch_add(&g_round, 1);
    check_same(dst, &want, what);
    sl_free(&want);
    firkin_snapshot_free(at);
    firkin_free(rep);
    firkin_backup_options_free(bo);
    usleep(5000);
  }
  atomic_store(&g_stop, 1);
  for (int t = 0; t < 4; t++) pthread_join(th[t], NULL);
  firkin_snapshot_free(pin);
  /* The backup is a database of its own: it opens writable and takes writes. */
  firkin_db *copy = open_db(dst, false, 0);
  if (copy != NULL) {
    CHECK_ST(firkin_put(copy, NULL, NULL, "after", 5, "x", 1), FIRKIN_OK);
    firkin_close(copy);
  }
  /* Beside the live writer, verify reads its durable state (a reader). */
  CHECK_ST(firkin_verify_path(src, NULL, NULL), FIRKIN_OK);
  firkin_close(g_db);
  g_db = NULL;
  CHECK_ST(firkin_verify_path(src, NULL, NULL), FIRKIN_OK);
  CHECK_ST(firkin_verify_path(dst, NULL, NULL), FIRKIN_OK);
}

/* ---------------------------------------------------------------------- */
/* 2. incremental                                                          */
/* ---------------------------------------------------------------------- */

static void test_incremental(void) {
  char src[512], dst[512];
  path_of(src, "inc-src");
  path_of(dst, "inc-bak");
  firkin_db *db = open_db(src, false, 64 << 10);
  if (db == NULL) return;
  fill(db, "k", 0, 2000, 200);
  firkin_put(db, NULL, NULL, "gone", 4, "soon", 4);
  char *rep = NULL;
  CHECK_ST(firkin_backup(db, NULL, dst, &rep), FIRKIN_OK);
  const uint64_t segs1 = json_u64(rep, "segments");
  CHECK(segs1 >= 5, "expected several segments, got %" PRIu64 " (%s)", segs1, rep);
  CHECK(json_u64(rep, "kept") == 0, "a fresh backup kept files: %s", rep);
  /* All but the tail linked, and the segment the last roll closed when its
   * seal (in the background) had not run at the cut: that one is copied
   * (only sealed segments are linked, 2026-11-30). */
  CHECK(json_u64(rep, "linked") >= segs1 - 2, "all but the tail linked: %s", rep);
  CHECK(json_u64(rep, "copied") >= 1 && json_u64(rep, "copied") <= 2 &&
            json_u64(rep, "linked") + json_u64(rep, "copied") == segs1,
        "the tail copied: %s", rep);
  firkin_free(rep);

  /* More writes: only what is new moves. */
  fill(db, "more", 0, 500, 200);
  firkin_delete(db, NULL, NULL, "gone", 4);
  rep = NULL;
  CHECK_ST(firkin_backup(db, NULL, dst, &rep), FIRKIN_OK);
  CHECK(json_u64(rep, "kept") >= segs1 - 2, "incremental kept too little: %s", rep);
  CHECK(json_u64(rep, "linked") + json_u64(rep, "copied") + json_u64(rep, "kept") ==
            json_u64(rep, "segments"), "counts do not add up: %s", rep);
  firkin_free(rep);
  strlist want = {0};
  dump_state(db, NULL, &want);
  check_same(dst, &want, "incremental backup");
  sl_free(&want);

  /* Compaction retires segments: the backup drops them too, and the
   * deleted key stays deleted. */
  for (int i = 0; i < 2000; i += 2) {
    char k[32];
    int kl = snprintf(k, sizeof k, "k%d", i);
    firkin_ns *ns = NULL;
    if (i % NNS) firkin_ns_open(db, kNamespaces[i % NNS], false, &ns);
    firkin_delete(db, NULL, ns, k, (size_t)kl);
    firkin_ns_close(ns);
  }
  CHECK_ST(firkin_compact(db), FIRKIN_OK);
  rep = NULL;
  CHECK_ST(firkin_backup(db, NULL, dst, &rep), FIRKIN_OK);
  CHECK(json_u64(rep, "removed") > 0, "retired segments not removed: %s", rep);
  firkin_free(rep);
  dump_state(db, NULL, &want);
  check_same(dst, &want, "backup after compaction");
  sl_free(&want);
  firkin_db *b = open_db(dst, true, 0);
  if (b != NULL) {
    void *v = NULL;
    size_t vl;
    CHECK_ST(firkin_get(b, NULL, NULL, "gone", 4, &v, &vl), FIRKIN_E_NOT_FOUND);
    firkin_close(b);
  }
  /* Incremental off: everything is placed again. */
  firkin_backup_options *bo = bopts(false, true, true);
  rep = NULL;
  CHECK_ST(firkin_backup(db, bo, dst, &rep), FIRKIN_OK);
  CHECK(json_u64(rep, "kept") == 0, "incremental=false kept files: %s", rep);
  firkin_free(rep);
  firkin_backup_options_free(bo);
  firkin_close(db);
}

/* ---------------------------------------------------------------------- */
/* 3. links, copies, EXDEV                                                 */
/* ---------------------------------------------------------------------- */

static int count_shared_inodes(const char *src, const char *dst) {
  int shared = 0;
  for (uint64_t id = 1; id < 200; id++) {
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/%016" PRIx64 ".seg", src, id);
    snprintf(b, sizeof b, "%s/%016" PRIx64 ".seg", dst, id);
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
        sa.st_dev == sb.st_dev) {
      shared++;
    }
  }
  return shared;
}

static void test_links_and_copies(void) {
  char src[512], dst[512], dst2[512];
  path_of(src, "link-src");
  path_of(dst, "link-bak");
  path_of(dst2, "copy-bak");
  firkin_db *db = open_db(src, false, 64 << 10);
  if (db == NULL) return;
  fill(db, "k", 0, 1500, 200);
  char *rep = NULL;
  CHECK_ST(firkin_backup(db, NULL, dst, &rep), FIRKIN_OK);
  const int shared = count_shared_inodes(src, dst);
  CHECK(shared > 0 && (uint64_t)shared == json_u64(rep, "linked"),
        "linked %" PRIu64 " files but %d share an inode", json_u64(rep, "linked"), shared);
  firkin_free(rep);
  /* The copy is independent where it matters: writes to it leave the
   * source's files as they were. */
  strlist before = {0};
  dump_state(db, NULL, &before);
  firkin_db *copy = open_db(dst, false, 0);
  if (copy != NULL) {
    fill(copy, "only-in-copy", 0, 300, 200);
    CHECK_ST(firkin_compact(copy), FIRKIN_OK);
    firkin_close(copy);
  }
  firkin_close(db);
  check_same(src, &before, "source after writes to its backup");
  sl_free(&before);
  db = open_db(src, false, 64 << 10);
  if (db == NULL) return;

  /* hard_links off: everything is copied. */
  firkin_backup_options *bo = bopts(true, true, false);
  rep = NULL;
  CHECK_ST(firkin_backup(db, bo, dst2, &rep), FIRKIN_OK);
  CHECK(json_u64(rep, "linked") == 0 && json_u64(rep, "copied") == json_u64(rep, "segments"),
        "hard_links=false: %s", rep);
  CHECK(count_shared_inodes(src, dst2) == 0, "hard_links=false shares inodes");
  firkin_free(rep);
  firkin_backup_options_free(bo);

  /* Another file system (EXDEV): copies, and the backup is complete. */
  struct statfs a, b;
  if (statfs("/dev/shm", &b) == 0 && statfs(g_root, &a) == 0 &&
      memcmp(&a.f_fsid, &b.f_fsid, sizeof a.f_fsid) != 0) {
    char shm[128];
    snprintf(shm, sizeof shm, "/dev/shm/firkin-backup-test-%d", (int)getpid());
    rm_rf(shm);
    rep = NULL;
    CHECK_ST(firkin_backup(db, NULL, shm, &rep), FIRKIN_OK);
    CHECK(json_u64(rep, "linked") == 0 && json_u64(rep, "copied") == json_u64(rep, "segments"),
          "across file systems: %s", rep);
    firkin_free(rep);
    strlist want = {0};
    dump_state(db, NULL, &want);
    check_same(shm, &want, "backup on another file system");
    sl_free(&want);
    rm_rf(shm);
  } else {
    printf("note: /dev/shm is not another file system here; EXDEV case skipped\n");
  }
  firkin_close(db);
}

/* ---------------------------------------------------------------------- */
/* 4. crash during backup                                                  */
/* ---------------------------------------------------------------------- */

static uint32_t g_acked[12];

static void test_crash(void) {
  char src[512], dst[512], acks[512];
  path_of(src, "crash-src");
  path_of(dst, "crash-bak");
  path_of(acks, "crash-acks");
  srand((unsigned)time(NULL));
  int incomplete = 0, complete = 0;
  uint64_t written_total = 0;
  for (int round = 0; round < 12; round++) {
    int fd = open(acks, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    pid_t pid = fork();
    if (pid == 0) {
      firkin_options *o = NULL;
      firkin_options_new(&o);
      firkin_options_set_segment_size(o, 64 << 10);
      firkin_db *db = NULL;
      if (firkin_open(src, o, &db) != FIRKIN_OK) _exit(3);
      /* Acknowledged writes are logged after they return; then backups
       * run in a loop while more writes go on. */
      char k[64], v[300];
      memset(v, 'z', sizeof v);
      for (uint32_t i = 0;; i++) {
        int kl = snprintf(k, sizeof k, "r%d-%u", round, i);
        if (firkin_put(db, NULL, NULL, k, (size_t)kl, v, 100 + i % 200) != FIRKIN_OK) _exit(4);
        if (write(fd, &i, sizeof i) != sizeof i) _exit(5);
        if (i % 500 == 250) firkin_backup(db, NULL, dst, NULL);
      }
    }
    close(fd);
    usleep(20000 + (useconds_t)(rand() % 400000));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status), "child exited on its own (status %d)", status);
    /* The source: every acknowledged write is there. */
    struct stat st;
    stat(acks, &st);
    const uint32_t acked = (uint32_t)(st.st_size / 4);
    g_acked[round] = acked;
    written_total += acked;
    firkin_db *db = open_db(src, false, 64 << 10);
    if (db == NULL) return;
    for (uint32_t i = 0; i < acked; i += 1 + acked / 50) {
      char k[64];
      int kl = snprintf(k, sizeof k, "r%d-%u", round, i);
      bool found = false;
      firkin_contains(db, NULL, NULL, k, (size_t)kl, &found);
      CHECK(found, "round %d: acknowledged write %s lost from the source", round, k);
    }
    /* The destination: complete and verified, or refused as incomplete. */
    firkin_db *b = NULL;
    firkin_options *ro = NULL;
    firkin_options_new(&ro);
    firkin_options_set_read_only(ro, true);
    firkin_status s = firkin_open(dst, ro, &b);
    firkin_options_free(ro);
    if (s == FIRKIN_OK) {
      complete++;
      /* A complete backup is one snapshot: every earlier round whole, and
       * a prefix (no hole) of this round's sequential writes. */
      for (int r = 0; r < round; r++) {
        for (uint32_t i = 0; i < g_acked[r]; i += 1 + g_acked[r] / 20) {
          char k[64];
          int kl = snprintf(k, sizeof k, "r%d-%u", r, i);
          bool found = false;
          firkin_contains(b, NULL, NULL, k, (size_t)kl, &found);
          CHECK(found, "round %d: backup lacks %s of an earlier round", round, k);
        }
      }
      bool gap = false;
      for (uint32_t i = 0; i < acked; i++) {
        char k[64];
        int kl = snprintf(k, sizeof k, "r%d-%u", round, i);
        bool found = false;
        firkin_contains(b, NULL, NULL, k, (size_t)kl, &found);
        CHECK(!(found && gap), "round %d: backup has %s after a missing key", round, k);
        if (!found) gap = true;
      }
      firkin_close(b);
      CHECK_ST(firkin_verify_path(dst, NULL, NULL), FIRKIN_OK);
      CHECK(!exists(dst, "BACKUP-INCOMPLETE"), "opened a marked backup");
    } else if (exists(dst, "BACKUP-INCOMPLETE")) {
      incomplete++;
      CHECK(s == FIRKIN_E_NOT_A_DATABASE && strstr(firkin_last_error(), "incomplete"),
            "open of an incomplete backup -> %s", firkin_strerror(s));
      CHECK_ST(firkin_verify_path(dst, NULL, NULL), FIRKIN_E_NOT_A_DATABASE);
      CHECK_ST(firkin_restore(dst, NULL, acks, NULL), FIRKIN_E_NOT_A_DATABASE);
    } else {
      CHECK(s == FIRKIN_E_NOT_FOUND, "destination neither complete nor marked: %s",
            firkin_strerror(s));
    }
    /* A new backup completes it. */
    CHECK_ST(firkin_backup(db, NULL, dst, NULL), FIRKIN_OK);
    strlist want = {0};
    dump_state(db, NULL, &want);
    firkin_close(db);
    check_same(dst, &want, "backup after a crash");
    sl_free(&want);
  }
  printf("crash: 12 kills, %d backups found complete, %d incomplete, %" PRIu64
         " acknowledged writes\n", complete, incomplete, written_total);
}

/* ---------------------------------------------------------------------- */
/* 5. bad input                                                            */
/* ---------------------------------------------------------------------- */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static void test_bad_input(void) {
  char src[512], other[512], dst[512], p[600];
  path_of(src, "bad-src");
  path_of(other, "bad-other");
  path_of(dst, "bad-bak");
  firkin_db *db = open_db(src, false, 0);
  firkin_db *db2 = open_db(other, false, 0);
  if (db == NULL || db2 == NULL) return;
  fill(db, "k", 0, 50, 10);
  fill(db2, "o", 0, 50, 10);

  char *rep = (char *)1;
  CHECK_ST(firkin_backup(NULL, NULL, dst, &rep), FIRKIN_E_INVALID_ARGUMENT);
  CHECK(rep == NULL, "report not cleared on failure");
  CHECK_ST(firkin_backup(db, NULL, NULL, NULL), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup(db, NULL, "", NULL), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup(db, NULL, src, NULL), FIRKIN_E_INVALID_ARGUMENT);
  snprintf(p, sizeof p, "%s/inside", src);
  CHECK_ST(firkin_backup(db, NULL, p, NULL), FIRKIN_E_INVALID_ARGUMENT);
  CHECK(!exists(src, "inside"), "a directory was made inside the source");
  /* Inside the source under a directory that does not exist: the same
   * refusal (it was FIRKIN_E_IO, "its parent directory does not exist",
   * until the review after the fifth); under one whose ".." leads out of
   * the source, the missing parent is what is wrong. */
  snprintf(p, sizeof p, "%s/sub/deeper", src);
  CHECK_ST(firkin_backup(db, NULL, p, NULL), FIRKIN_E_INVALID_ARGUMENT);
  CHECK(!exists(src, "sub"), "a directory was made inside the source");
  snprintf(p, sizeof p, "%s/sub/../../elsewhere/x", src);
  CHECK_ST(firkin_backup(db, NULL, p, NULL), FIRKIN_E_IO);
  snprintf(p, sizeof p, "%s/../bad-src/", src);
  CHECK_ST(firkin_backup(db, NULL, p, NULL), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup(db, NULL, g_root, NULL), FIRKIN_E_INVALID_ARGUMENT);  /* holds src */
  snprintf(p, sizeof p, "%s/no/such/parent", g_root);
  CHECK_ST(firkin_backup(db, NULL, p, NULL), FIRKIN_E_IO);

  /* A file; a non-empty foreign directory (left as it was). */
  path_of(p, "plain-file");
  write_file(p, "hello");
  CHECK_ST(firkin_backup(db, NULL, p, NULL), FIRKIN_E_NOT_A_DATABASE);
  path_of(p, "foreign");
  mkdir(p, 0755);
  char f[700];
  snprintf(f, sizeof f, "%s/notes.txt", p);
  write_file(f, "mine");
  CHECK_ST(firkin_backup(db, NULL, p, NULL), FIRKIN_E_NOT_A_DATABASE);
  CHECK(!exists(p, "BACKUP-INCOMPLETE") && !exists(p, "FIRKIN") && !exists(p, "LOCK"),
        "a foreign directory was changed");

  /* Another database's backup; a database that is open. */
  CHECK_ST(firkin_backup(db, NULL, dst, NULL), FIRKIN_OK);
  CHECK_ST(firkin_backup(db2, NULL, dst, NULL), FIRKIN_E_EXISTS);
  CHECK(strstr(firkin_last_error(), "another database") != NULL, "message: %s",
        firkin_last_error());
  CHECK(!exists(dst, "BACKUP-INCOMPLETE"), "a refused backup marked the directory");
  CHECK_ST(firkin_backup(db2, NULL, src, NULL), FIRKIN_E_EXISTS);  /* a live database */
  firkin_db *open_bak = open_db(dst, true, 0);  /* read-only: the backup goes on */
  CHECK_ST(firkin_backup(db, NULL, dst, NULL), FIRKIN_OK);
  firkin_close(open_bak);
  open_bak = open_db(dst, false, 0);
  CHECK_ST(firkin_backup(db, NULL, dst, NULL), FIRKIN_E_BUSY);
  CHECK(!exists(dst, "BACKUP-INCOMPLETE"), "a busy backup marked the directory");
  firkin_close(open_bak);
  /* Opened for writing, nothing written: still the backup written there. */
  CHECK_ST(firkin_backup(db, NULL, dst, NULL), FIRKIN_OK);
  /* Written to since: no longer that backup (test_identity has more). */
  open_bak = open_db(dst, false, 0);
  if (open_bak != NULL) {
    CHECK_ST(firkin_put(open_bak, NULL, NULL, "w", 1, "x", 1), FIRKIN_OK);
    firkin_close(open_bak);
  }
  CHECK_ST(firkin_backup(db, NULL, dst, NULL), FIRKIN_E_EXISTS);
  CHECK(strstr(firkin_last_error(), "no longer the backup") != NULL, "message: %s",
        firkin_last_error());
  CHECK(!exists(dst, "BACKUP-INCOMPLETE"), "a refused backup marked the directory");
  rm_rf(dst);
  CHECK_ST(firkin_backup(db, NULL, dst, NULL), FIRKIN_OK);

  /* Options. */
  firkin_backup_options *bo = NULL;
  CHECK_ST(firkin_backup_options_new(NULL), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup_options_new(&bo), FIRKIN_OK);
  bool v = false;
  CHECK_ST(firkin_backup_options_get_incremental(bo, &v), FIRKIN_OK);
  CHECK(v, "incremental default");
  CHECK_ST(firkin_backup_options_get_verify(bo, &v), FIRKIN_OK);
  CHECK(v, "verify default");
  CHECK_ST(firkin_backup_options_get_hard_links(bo, &v), FIRKIN_OK);
  CHECK(v, "hard_links default");
  CHECK_ST(firkin_backup_options_get_checkpoint(bo, &v), FIRKIN_OK);
  CHECK(v, "checkpoint default");
  CHECK_ST(firkin_backup_options_set_checkpoint(bo, false), FIRKIN_OK);
  CHECK_ST(firkin_backup_options_get_checkpoint(bo, &v), FIRKIN_OK);
  CHECK(!v, "checkpoint set");
  CHECK_ST(firkin_backup_options_get_incremental(bo, NULL), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup_options_set_verify(NULL, true), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup_options_get_verify(NULL, &v), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup_options_set(bo, "verify", "0"), FIRKIN_OK);
  char *text = NULL;
  CHECK_ST(firkin_backup_options_get(bo, "verify", &text), FIRKIN_OK);
  CHECK(text && strcmp(text, "false") == 0, "generic get: %s", text ? text : "(null)");
  firkin_free(text);
  CHECK_ST(firkin_backup_options_set(bo, "nope", "1"), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup_options_set(bo, "verify", "maybe"), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup_options_set(bo, NULL, "1"), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup_options_set(bo, "verify", NULL), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup_options_get(bo, "nope", &text), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup_options_get(bo, "verify", NULL), FIRKIN_E_INVALID_ARGUMENT);
  firkin_backup_progress_fn fn = (firkin_backup_progress_fn)1;
  void *ctx = (void *)1;
  CHECK_ST(firkin_backup_options_get_progress(bo, &fn, &ctx), FIRKIN_OK);
  CHECK(fn == NULL && ctx == NULL, "progress default");
  CHECK_ST(firkin_backup_options_get_progress(bo, NULL, &ctx), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_backup_options_set_progress(NULL, NULL, NULL), FIRKIN_E_INVALID_ARGUMENT);
  firkin_backup_options_free(bo);
  firkin_backup_options_free(NULL);

  /* Restore. */
  CHECK_ST(firkin_restore(NULL, NULL, dst, NULL), FIRKIN_E_INVALID_ARGUMENT);
  CHECK_ST(firkin_restore(dst, NULL, NULL, NULL), FIRKIN_E_INVALID_ARGUMENT);
  path_of(p, "no-such-backup");
  path_of(f, "restore-target");
  CHECK_ST(firkin_restore(p, NULL, f, NULL), FIRKIN_E_NOT_FOUND);
  path_of(p, "foreign");
  CHECK_ST(firkin_restore(dst, NULL, p, NULL), FIRKIN_E_EXISTS);  /* not empty */
  CHECK_ST(firkin_restore(dst, NULL, other, NULL), FIRKIN_E_EXISTS);
  snprintf(p, sizeof p, "%s/sub", dst);
  CHECK_ST(firkin_restore(dst, NULL, p, NULL), FIRKIN_E_INVALID_ARGUMENT);
  firkin_close(db2);
  firkin_close(db);
}

/* ---------------------------------------------------------------------- */
/* 6. read-only handles, restore, progress, the marker                     */
/* ---------------------------------------------------------------------- */

typedef struct {
  uint64_t calls, first_done, last_done, total;
  int backwards;
} prog;

static void on_progress(void *ctx, uint64_t done, uint64_t total) {
  prog *p = ctx;
  if (p->calls == 0) p->first_done = done;
  if (done < p->last_done || done > total) p->backwards++;
  p->calls++;
  p->last_done = done;
  p->total = total;
}

/* A backup of a read-only handle after the writer compacted and wrote a
 * checkpoint since the handle's state: the writer's CHECKPOINT lists
 * segments the handle's cut does not have. Until 2026-11-28 it was copied
 * anyway and the backup failed its own verification (found by review);
 * it is copied only when it lists exactly the cut's segments. */
static void test_reader_after_writer_checkpoint(void) {
  char src[512], dst[512];
  path_of(src, "rdck-src");
  path_of(dst, "rdck-bak");
  firkin_db *w = open_db(src, false, 64 << 10);
  if (w == NULL) return;
  fill(w, "k", 0, 600, 150);
  char k[32];
  for (int i = 0; i < 400; i++) {  /* dead bytes for the compaction */
    const int kl = snprintf(k, sizeof k, "k%d", i);
    firkin_delete(w, NULL, NULL, k, (size_t)kl);
  }
  CHECK_ST(firkin_sync(w), FIRKIN_OK);
  firkin_db *r = open_db(src, true, 0);
  if (r == NULL) return;
  strlist want = {0};
  dump_state(r, NULL, &want);
  CHECK_ST(firkin_compact(w), FIRKIN_OK);
  CHECK_ST(firkin_checkpoint(w), FIRKIN_OK);
  char *rep = NULL;
  CHECK_ST(firkin_backup(r, NULL, dst, &rep), FIRKIN_OK);
  CHECK(rep != NULL && json_true(rep, "verified"), "reader backup: %s", rep ? rep : "");
  firkin_free(rep);
  firkin_close(r);
  firkin_close(w);
  check_same(dst, &want, "backup of a read-only handle behind its writer's checkpoint");
  sl_free(&want);
}

static void test_read_only_restore_progress(void) {
  char src[512], dst[512], res[512];
  path_of(src, "ro-src");
  path_of(dst, "ro-bak");
  path_of(res, "ro-restored");
  firkin_db *db = open_db(src, false, 64 << 10);
  if (db == NULL) return;
  fill(db, "k", 0, 1200, 150);
  strlist want = {0};
  dump_state(db, NULL, &want);
  firkin_close(db);

  db = open_db(src, true, 0);
  if (db == NULL) return;
  firkin_backup_options *bo = NULL;
  firkin_backup_options_new(&bo);
  prog pg = {0, 0, 0, 0, 0};
  firkin_backup_options_set_progress(bo, on_progress, &pg);
  char *rep = NULL;
  CHECK_ST(firkin_backup(db, bo, dst, &rep), FIRKIN_OK);
  /* from 0 to the total, also when sealed segments were linked (counted
   * before the first report: until 2026-11-28 that was the first done) */
  CHECK(pg.calls >= 2 && pg.backwards == 0 && pg.first_done == 0 && pg.last_done == pg.total &&
            pg.total > 0,
        "progress: %" PRIu64 " calls, %d backwards, first %" PRIu64 ", %" PRIu64 "/%" PRIu64,
        pg.calls, pg.backwards, pg.first_done, pg.last_done, pg.total);
  CHECK(json_u64(rep, "linked") > 0, "no segment linked, the first report is not tested: %s",
        rep);
  CHECK(json_true(rep, "checkpoint"), "checkpoint not copied: %s", rep);
  firkin_free(rep);
  firkin_close(db);
  check_same(dst, &want, "backup of a read-only handle");

  /* Restore: a copy (no shared inode), verified; the backup unchanged. */
  rep = NULL;
  pg = (prog){0, 0, 0, 0, 0};
  CHECK_ST(firkin_restore(dst, bo, res, &rep), FIRKIN_OK);
  CHECK(json_u64(rep, "linked") == 0 && json_true(rep, "verified"), "restore: %s", rep);
  CHECK(pg.calls >= 2 && pg.first_done == 0 && pg.last_done == pg.total, "restore progress");
  firkin_free(rep);
  CHECK(count_shared_inodes(dst, res) == 0, "restore linked files");
  check_same(res, &want, "restored database");
  CHECK(!exists(dst, "LOCK"), "restore changed the backup");
  firkin_backup_options_free(bo);

  /* The marker rule: a directory holding it is refused by open. */
  char m[600];
  snprintf(m, sizeof m, "%s/BACKUP-INCOMPLETE", res);
  write_file(m, "");
  firkin_db *x = NULL;
  CHECK_ST(firkin_open(res, NULL, &x), FIRKIN_E_NOT_A_DATABASE);
  CHECK(strstr(firkin_last_error(), "BACKUP-INCOMPLETE") != NULL, "message: %s",
        firkin_last_error());
  CHECK(x == NULL, "handle on failure");
  firkin_options *ro = NULL;
  firkin_options_new(&ro);
  firkin_options_set_read_only(ro, true);
  CHECK_ST(firkin_open(res, ro, &x), FIRKIN_E_NOT_A_DATABASE);
  firkin_options_free(ro);
  unlink(m);
  x = open_db(res, false, 0);
  firkin_close(x);
  sl_free(&want);
}

/* ---------------------------------------------------------------------- */
/* identity: a restored database is a database of its own; a destination   */
/* is taken for an earlier backup only when it carries the mark of one and */
/* was not written since                                                   */
/* ---------------------------------------------------------------------- */

static bool has_key(const char *path, const char *key, const char *want) {
  firkin_db *d = open_db(path, true, 0);
  if (d == NULL) return false;
  void *v = NULL;
  size_t vl = 0;
  firkin_status s = firkin_get(d, NULL, NULL, key, strlen(key), &v, &vl);
  bool ok = s == FIRKIN_OK && vl == strlen(want) && memcmp(v, want, vl) == 0;
  firkin_free(v);
  firkin_close(d);
  return ok;
}

static void put_one(const char *path, const char *k, const char *v) {
  firkin_db *d = open_db(path, false, 0);
  if (d == NULL) return;
  CHECK_ST(firkin_put(d, NULL, NULL, k, strlen(k), v, strlen(v)), FIRKIN_OK);
  firkin_close(d);
}

static void test_identity(void) {
  char src[512], bak[512], res[512], bak2[512];
  path_of(src, "id-src");
  path_of(bak, "id-bak");
  path_of(res, "id-res");
  path_of(bak2, "id-bak2");
  put_one(src, "a", "1");
  firkin_db *db = open_db(src, true, 0);
  if (db == NULL) return;
  CHECK_ST(firkin_backup(db, NULL, bak, NULL), FIRKIN_OK);
  CHECK(exists(bak, "BACKUP"), "a complete backup carries no mark");
  firkin_close(db);
  CHECK_ST(firkin_restore(bak, NULL, res, NULL), FIRKIN_OK);
  CHECK(!exists(res, "BACKUP"), "a restored database carries the backup mark");
  put_one(res, "only_in_restored", "precious");
  put_one(src, "prod_key", "after_backup");

  /* The source into the restored database: refused, nothing lost. */
  db = open_db(src, true, 0);
  if (db == NULL) return;
  CHECK_ST(firkin_backup(db, NULL, res, NULL), FIRKIN_E_EXISTS);
  firkin_close(db);
  CHECK(has_key(res, "only_in_restored", "precious"), "the restored database lost a write");
  /* The restored database into the source, or into the source's backup. */
  firkin_db *r = open_db(res, true, 0);
  if (r == NULL) return;
  CHECK_ST(firkin_backup(r, NULL, src, NULL), FIRKIN_E_EXISTS);
  CHECK_ST(firkin_backup(r, NULL, bak, NULL), FIRKIN_E_EXISTS);
  CHECK(strstr(firkin_last_error(), "another database") != NULL, "message: %s",
        firkin_last_error());
  /* Its own backups are its own: the source's backups are not taken. */
  CHECK_ST(firkin_backup(r, NULL, bak2, NULL), FIRKIN_OK);
  firkin_close(r);
  db = open_db(src, true, 0);
  if (db == NULL) return;
  CHECK_ST(firkin_backup(db, NULL, bak2, NULL), FIRKIN_E_EXISTS);
  firkin_close(db);
  CHECK(has_key(src, "prod_key", "after_backup"), "the source was rolled back");
  CHECK(has_key(bak2, "only_in_restored", "precious"), "the restored db's backup was overwritten");

  /* Swapped arguments: the backup (opened read-only) into the live source. */
  firkin_db *b = open_db(bak, true, 0);
  if (b == NULL) return;
  CHECK_ST(firkin_backup(b, NULL, src, NULL), FIRKIN_E_EXISTS);
  CHECK(strstr(firkin_last_error(), "not a backup") != NULL, "message: %s", firkin_last_error());
  firkin_close(b);
  CHECK(has_key(src, "prod_key", "after_backup"), "the source was rolled back");
  CHECK(!exists(src, "BACKUP-INCOMPLETE") && !exists(src, "BACKUP"), "the source was marked");

  /* A backup written to since (opened as a database): refused, kept. */
  put_one(bak, "written_in_backup", "x");
  db = open_db(src, true, 0);
  if (db == NULL) return;
  CHECK_ST(firkin_backup(db, NULL, bak, NULL), FIRKIN_E_EXISTS);
  firkin_close(db);
  CHECK(has_key(bak, "written_in_backup", "x"), "a write in the backup was lost");

  /* A damaged mark: refused. */
  char m[600];
  path_of(bak, "id-bak3");
  db = open_db(src, true, 0);
  if (db == NULL) return;
  CHECK_ST(firkin_backup(db, NULL, bak, NULL), FIRKIN_OK);
  snprintf(m, sizeof m, "%s/BACKUP", bak);
  FILE *f = fopen(m, "r+");
  if (f != NULL) {
    fseek(f, 20, SEEK_SET);
    fputc('Z', f);
    fclose(f);
  }
  CHECK_ST(firkin_backup(db, NULL, bak, NULL), FIRKIN_E_NOT_A_DATABASE);
  firkin_close(db);
}

/* An encrypted database restored: an id of its own, its key file rewrapped. */
static void test_identity_encrypted(void) {
  char src[512], bak[512], res[512];
  path_of(src, "ide-src");
  path_of(bak, "ide-bak");
  path_of(res, "ide-res");
  uint8_t key[32];
  for (int i = 0; i < 32; i++) key[i] = (uint8_t)(i * 7 + 1);
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_encryption_key(o, key, sizeof key);
  firkin_db *db = NULL;
  CHECK_ST(firkin_open(src, o, &db), FIRKIN_OK);
  if (db == NULL) return;
  fill(db, "k", 0, 300, 100);
  CHECK_ST(firkin_backup(db, NULL, bak, NULL), FIRKIN_OK);
  char *rep = NULL;
  CHECK_ST(firkin_restore_v2(bak, o, NULL, res, &rep), FIRKIN_OK);
  CHECK(rep != NULL && json_true(rep, "verified") && json_true(rep, "checkpoint"),
        "restore: %s", rep ? rep : "");
  firkin_free(rep);
  firkin_db *r = NULL;
  CHECK_ST(firkin_open(res, o, &r), FIRKIN_OK);
  if (r != NULL) {
    void *v = NULL;
    size_t vl = 0;
    CHECK_ST(firkin_get(r, NULL, NULL, "k0", 2, &v, &vl), FIRKIN_OK);
    firkin_free(v);
    CHECK_ST(firkin_backup(r, NULL, bak, NULL), FIRKIN_E_EXISTS);  /* another database */
    firkin_close(r);
  }
  CHECK_ST(firkin_verify_path(res, o, NULL), FIRKIN_OK);
  firkin_close(db);
  firkin_options_free(o);
}

/* Incremental keeps a same-named segment only when every byte is the same. */
static void test_incremental_full_compare(void) {
  char src[512], dst[512];
  path_of(src, "cmp-src");
  path_of(dst, "cmp-bak");
  firkin_db *db = open_db(src, false, 1 << 20);
  if (db == NULL) return;
  fill(db, "k", 0, 8000, 400);
  firkin_backup_options *bo = bopts(true, true, false);  /* copies, no links */
  CHECK_ST(firkin_backup(db, bo, dst, NULL), FIRKIN_OK);
  /* A byte in the middle of the first segment (not its header, not its
   * last 64 KiB) differs: an incremental backup must copy it again. */
  char p[600], q[600];
  snprintf(p, sizeof p, "%s/%016x.seg", dst, 1);
  snprintf(q, sizeof q, "%s/%016x.seg", src, 1);
  struct stat st;
  CHECK(stat(p, &st) == 0 && st.st_size > (300 << 10), "segment 1 too small");
  int fd = open(p, O_RDWR);
  unsigned char c = 0;
  off_t at = (off_t)(st.st_size / 2);
  CHECK(fd >= 0 && pread(fd, &c, 1, at) == 1, "read %s", p);
  c ^= 0x5a;
  CHECK(pwrite(fd, &c, 1, at) == 1, "write %s", p);
  close(fd);
  char *rep = NULL;
  CHECK_ST(firkin_backup(db, bo, dst, &rep), FIRKIN_OK);
  CHECK(rep != NULL && json_u64(rep, "copied") >= 2, "the changed segment was kept: %s",
        rep ? rep : "");
  firkin_free(rep);
  /* The copy equals the source byte for byte past the header. */
  int a = open(p, O_RDONLY), b = open(q, O_RDONLY);
  unsigned char x = 1, y = 2;
  CHECK(a >= 0 && b >= 0 && pread(a, &x, 1, at) == 1 && pread(b, &y, 1, at) == 1 && x == y,
        "the backup's segment differs from the source's");
  if (a >= 0) close(a);
  if (b >= 0) close(b);
  /* Unchanged segments are kept. */
  rep = NULL;
  CHECK_ST(firkin_backup(db, bo, dst, &rep), FIRKIN_OK);
  CHECK(rep != NULL && json_u64(rep, "kept") + 1 == json_u64(rep, "segments"),
        "unchanged segments not kept: %s", rep ? rep : "");
  firkin_free(rep);
  firkin_backup_options_free(bo);
  firkin_close(db);
}

typedef struct {
  const char *name;
  void (*fn)(void);
} test_case;

/* ---------------------------------------------------------------------- */
/* online_inplace: backups and verify beside updates in place (2026-11-30) */
/* ---------------------------------------------------------------------- */

/* test_online pins a snapshot across its run, which turns updates in place
 * off for all of it. Here nothing is pinned: one writer overwrites hot keys
 * (same value length: in place) with a counter in every value, rolling small
 * segments, a thread compacts and another drops and recreates a namespace,
 * while backups (every option mix) and verifies of the live handle run. A
 * backup must open as a prefix of the single writer's puts: with C the
 * highest counter it holds, every key holds its last put numbered <= C. */
enum { kIpKeys = 64, kIpMaxPuts = 2000000 };
static uint32_t *g_ip_key; /* key of put number c (1-based) */
static atomic_uint_fast64_t g_ip_done;

static void *ip_writer_main(void *arg) {
  (void)arg;
  char k[32], v[128];
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (uint64_t c = 1; c < kIpMaxPuts && !atomic_load(&g_stop); c++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const uint32_t key = (uint32_t)(x % kIpKeys);
    const int kl = snprintf(k, sizeof k, "hot%02u", key);
    int vl = snprintf(v, sizeof v, "c%020" PRIu64 "-k%02u-", c, key);
    for (; vl < 100; vl++) v[vl] = (char)('a' + (c + (uint64_t)vl) % 3); /* compressible */
    g_ip_key[c] = key;
    firkin_status s = firkin_put(g_db, NULL, NULL, k, (size_t)kl, v, (size_t)vl);
    CHECK(s == FIRKIN_OK, "ip writer put %" PRIu64 ": %s", c, firkin_strerror(s));
    atomic_store(&g_ip_done, c);
    if (c % 256 == 0) usleep(300);
  }
  return NULL;
}

static void *ip_churn_main(void *arg) {
  (void)arg;
  for (int i = 0; !atomic_load(&g_stop); i++) {
    firkin_ns *ns = NULL;
    if (firkin_ns_open(g_db, "churn", true, &ns) == FIRKIN_OK) {
      for (int j = 0; j < 50; j++) {
        char k[16];
        int kl = snprintf(k, sizeof k, "c%d", j);
        firkin_put(g_db, NULL, ns, k, (size_t)kl, "some value bytes", 16);
      }
      firkin_ns_close(ns);
    }
    if (i % 2 == 0) firkin_ns_drop(g_db, "churn");
    if (i % 5 == 0) firkin_compact(g_db);
    usleep(2000);
  }
  return NULL;
}

/* Every segment file of the backup in `dir` that is a hard link of the
 * source's (more than one name) is sealed, as firkin_backup promises
 * (hard_links: "immutable (sealed) segment files"): its watermark (u64 at
 * 4096) is its size. An unsealed one, the log segment before the tail
 * whose background seal had not run at the cut, was linked until
 * 2026-11-30: its records past the watermark were not made durable by the
 * backup (no fsync of a linked file), and the source's seal went on to
 * rewrite its header and cut its size in the finished backup. Returns how
 * many linked files it checked. */
static int check_links_sealed(const char *dir, const char *what) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls %s", dir);
  FILE *ls = popen(cmd, "r");
  if (ls == NULL) return 0;
  char name[256];
  int n = 0;
  while (fgets(name, sizeof name, ls) != NULL) {
    name[strcspn(name, "\n")] = 0;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink < 2 || st.st_size < 8192) {
      continue;
    }
    int fd = open(p, O_RDONLY);
    if (fd < 0) continue;
    uint8_t b[8];
    uint64_t wm = 0;
    if (pread(fd, b, 8, 4096) == 8) {
      for (int i = 7; i >= 0; i--) wm = wm << 8 | b[i];
    }
    close(fd);
    n++;
    CHECK(wm == (uint64_t)st.st_size, "%s: linked segment %s is not sealed (watermark %" PRIu64
          ", size %lld)", what, name, wm, (long long)st.st_size);
  }
  pclose(ls);
  return n;
}

/* The backup at `path` holds a prefix of the writer's puts. */
static firkin_options *g_ip_opts; /* the source's options (a key, compression) */
static void check_ip_prefix(const char *path, const char *what) {
  firkin_db *db = NULL;
  firkin_options_set_read_only(g_ip_opts, true);
  firkin_status os = firkin_open(path, g_ip_opts, &db);
  firkin_options_set_read_only(g_ip_opts, false);
  CHECK(os == FIRKIN_OK, "%s: open %s: %s", what, path, firkin_strerror(os));
  if (db == NULL) return;
  uint64_t got[kIpKeys] = {0}, hi = 0;
  for (uint32_t key = 0; key < kIpKeys; key++) {
    char k[32];
    int kl = snprintf(k, sizeof k, "hot%02u", key);
    void *v = NULL;
    size_t vl = 0;
    firkin_status s = firkin_get(db, NULL, NULL, k, (size_t)kl, &v, &vl);
    if (s == FIRKIN_E_NOT_FOUND) continue;
    CHECK(s == FIRKIN_OK, "%s: get %s: %s", what, k, firkin_strerror(s));
    if (s != FIRKIN_OK) continue;
    unsigned kk = 999;
    uint64_t c = 0;
    CHECK(vl == 100 && sscanf((const char *)v, "c%20" SCNu64 "-k%2u", &c, &kk) == 2 && kk == key,
          "%s: %s holds a torn value %.*s", what, k, (int)vl, (const char *)v);
    got[key] = c;
    if (c > hi) hi = c;
    firkin_free(v);
  }
  /* The dropped and recreated namespace: its keys, put in order after each
   * create, are a prefix c0..c(m-1) (none of a dropped life comes back). */
  firkin_ns *churn = NULL;
  if (firkin_ns_open(db, "churn", false, &churn) == FIRKIN_OK) {
    int m = -1;
    for (int j = 0; j < 50; j++) {
      char k[16];
      int kl = snprintf(k, sizeof k, "c%d", j);
      void *v = NULL;
      size_t vl = 0;
      firkin_status s = firkin_get(db, NULL, churn, k, (size_t)kl, &v, &vl);
      firkin_free(v);
      if (s == FIRKIN_E_NOT_FOUND && m < 0) m = j;
      CHECK(s == (m < 0 ? FIRKIN_OK : FIRKIN_E_NOT_FOUND), "%s: churn key c%d -> %s after "
            "the first %d", what, j, firkin_strerror(s), m);
    }
    firkin_ns_close(churn);
  }
  uint64_t want[kIpKeys] = {0};
  for (uint64_t c = 1; c <= hi; c++) want[g_ip_key[c]] = c;
  for (uint32_t key = 0; key < kIpKeys; key++) {
    CHECK(got[key] == want[key], "%s: hot%02u holds put %" PRIu64 ", want %" PRIu64
          " (newest put held: %" PRIu64 ")", what, key, got[key], want[key], hi);
  }
  firkin_close(db);
}

/* crypt: encrypted and zstd-compressed (updates in place are then off:
 * the backups run beside appends, rolls, compaction and drops). */
static void run_online_inplace(bool crypt) {
  char src[512], dst[512], dst2[512], dst3[512], res[512];
  path_of(dst3, crypt ? "ipc-bak3" : "ip-bak3");
  path_of(src, crypt ? "ipc-src" : "ip-src");
  path_of(dst, crypt ? "ipc-bak" : "ip-bak");
  path_of(dst2, crypt ? "ipc-bak2" : "ip-bak2");
  path_of(res, crypt ? "ipc-res" : "ip-res");
  firkin_options *o = NULL;
  firkin_options_new(&o);
  g_ip_opts = o;
  if (crypt) {
    uint8_t key[32];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)(i * 11 + 3);
    firkin_options_set_encryption_key(o, key, sizeof key);
    firkin_options_set_compression(o, FIRKIN_COMPRESSION_ZSTD);
  }
  firkin_options_set_segment_size(o, 128 << 10);
  firkin_options_set(o, "sync_mode", "none");
  firkin_options_set(o, "in_place_updates", "true");
  firkin_options_set_compact_dead_ratio(o, 20);
  firkin_options_set_compact_rate(o, 0);
  firkin_options_set_checkpoint_every(o, 256 << 10);
  CHECK_ST(firkin_open(src, o, &g_db), FIRKIN_OK);
  if (g_db == NULL) {
    firkin_options_free(o);
    return;
  }
  g_ip_key = calloc(kIpMaxPuts + 1, sizeof *g_ip_key);
  atomic_store(&g_stop, 0);
  atomic_store(&g_ip_done, 0);
  pthread_t th[2];
  pthread_create(&th[0], NULL, ip_writer_main, NULL);
  pthread_create(&th[1], NULL, ip_churn_main, NULL);
  usleep(50000);
  for (int round = 0; round < 12; round++) {
    firkin_backup_options *bo = bopts(round % 3 != 2, round % 2 == 0, round % 4 != 3);
    firkin_backup_options_set_checkpoint(bo, round % 5 != 4);
    char *rep = NULL;
    const char *d = round % 2 ? dst2 : dst;
    firkin_status s = firkin_backup(g_db, bo, d, &rep);
    CHECK(s == FIRKIN_OK, "ip backup %d: %s", round, firkin_strerror(s));
    firkin_free(rep);
    firkin_backup_options_free(bo);
    char what[64];
    snprintf(what, sizeof what, "in-place backup %d", round);
    check_links_sealed(d, what);
    check_ip_prefix(d, what);
    /* A read-only handle beside the writer (the CLI's backup and verify). */
    firkin_db *ro = NULL;
    firkin_options_set_read_only(o, true);
    s = firkin_open(src, o, &ro);
    firkin_options_set_read_only(o, false);
    CHECK(s == FIRKIN_OK, "read-only open beside the writer: %s", firkin_strerror(s));
    if (ro != NULL) {
      bo = bopts(round % 2 == 0, true, round % 3 != 0);
      s = firkin_backup(ro, bo, dst3, NULL);
      CHECK(s == FIRKIN_OK, "read-only backup %d: %s", round, firkin_strerror(s));
      firkin_backup_options_free(bo);
      snprintf(what, sizeof what, "read-only handle's backup %d", round);
      check_ip_prefix(dst3, what);
      rep = NULL;
      s = firkin_verify(ro, &rep);
      CHECK(s == FIRKIN_OK, "read-only verify %d beside the writer: %s", round, rep ? rep : "");
      firkin_free(rep);
      firkin_close(ro);
    }
    rep = NULL;
    s = firkin_verify(g_db, &rep);
    CHECK(s == FIRKIN_OK, "live verify %d beside updates in place: %s", round, rep ? rep : "");
    firkin_free(rep);
    usleep(3000);
  }
  /* Once the backups and verifies are done, puts go in place again. */
  uint64_t before = 0;
  char *stats = NULL;
  firkin_stats(g_db, &stats);
  before = json_u64(stats, "in_place_updates");
  firkin_free(stats);
  usleep(100000);
  stats = NULL;
  firkin_stats(g_db, &stats);
  uint64_t after = json_u64(stats, "in_place_updates");
  firkin_free(stats);
  atomic_store(&g_stop, 1);
  for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
  CHECK(crypt || (before != UINT64_MAX && after > before), "no update in place after the backups (%" PRIu64
        " -> %" PRIu64 ")", before, after);
  CHECK_ST(firkin_restore_v2(dst, o, NULL, res, NULL), FIRKIN_OK);
  check_ip_prefix(res, "restore of an online backup");
  firkin_close(g_db);
  g_db = NULL;
  CHECK_ST(firkin_verify_path(dst2, o, NULL), FIRKIN_OK);
  free(g_ip_key);
  g_ip_key = NULL;
  firkin_options_free(o);
  g_ip_opts = NULL;
}
static void test_online_inplace(void) { run_online_inplace(false); }
static void test_online_crypt(void) { run_online_inplace(true); }

/* Hard links only of sealed segments (2026-11-30): backups, each checking
 * from its progress callback (called first right after the cut and the
 * links) that every linked file in the destination is sealed, while a
 * writer appends to 64 KiB segments (a roll about every 300 puts, each
 * queueing the closed segment's seal for the writeback thread). */
static const char *g_links_dir;
static int g_links_checked;
static void links_progress(void *ctx, uint64_t done, uint64_t total) {
  (void)ctx;
  (void)total;
  if (done > 0 && g_links_checked == 0) g_links_checked = 1 + check_links_sealed(g_links_dir, "at the backup's first progress report");
}
static void *append_writer_main(void *arg) {
  (void)arg;
  char k[32], v[200];
  memset(v, 'v', sizeof v);
  for (uint64_t n = 0; !atomic_load(&g_stop); n++) {
    int kl = snprintf(k, sizeof k, "a%" PRIu64, n % 5000);
    firkin_status s = firkin_put(g_db, NULL, NULL, k, (size_t)kl, v, 100 + n % 50);
    CHECK(s == FIRKIN_OK, "append writer: %s", firkin_strerror(s));
  }
  return NULL;
}
static void test_links_sealed(void) {
  char src[512], dst[512];
  path_of(src, "ls-src");
  path_of(dst, "ls-bak");
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_segment_size(o, 64 << 10);
  firkin_options_set(o, "sync_mode", "none");
  firkin_options_set(o, "auto_compact", "false");
  CHECK_ST(firkin_open(src, o, &g_db), FIRKIN_OK);
  firkin_options_free(o);
  if (g_db == NULL) return;
  atomic_store(&g_stop, 0);
  pthread_t th;
  pthread_create(&th, NULL, append_writer_main, NULL);
  usleep(20000);
  g_links_dir = dst;
  int linked = 0;
  for (int round = 0; round < 200 && g_case_failed == 0; round++) {
    firkin_backup_options *bo = bopts(true, false, true);
    firkin_backup_options_set_checkpoint(bo, false);
    firkin_backup_options_set_progress(bo, links_progress, NULL);
    g_links_checked = 0;
    firkin_status s = firkin_backup(g_db, bo, dst, NULL);
    CHECK(s == FIRKIN_OK, "backup %d: %s", round, firkin_strerror(s));
    firkin_backup_options_free(bo);
    linked += g_links_checked > 1;
  }
  atomic_store(&g_stop, 1);
  pthread_join(th, NULL);
  CHECK(linked > 0, "no backup linked a segment");
  firkin_close(g_db);
  g_db = NULL;
}

int main(int argc, char **argv) {
  snprintf(g_root, sizeof g_root, "/tmp/firkin-backup-test-%d", (int)getpid());
  rm_rf(g_root);
  mkdir(g_root, 0755);
  const test_case cases[] = {
      {"bad_input", test_bad_input},
      {"read_only_restore_progress", test_read_only_restore_progress},
      {"reader_after_writer_checkpoint", test_reader_after_writer_checkpoint},
      {"links_and_copies", test_links_and_copies},
      {"incremental", test_incremental},
      {"online", test_online},
      {"online_inplace", test_online_inplace},
      {"online_crypt", test_online_crypt},
      {"links_sealed", test_links_sealed},
      {"crash", test_crash},
      {"identity", test_identity},
      {"identity_encrypted", test_identity_encrypted},
      {"incremental_full_compare", test_incremental_full_compare},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) group_known(cases[i].name);
  const bool bad_args = group_args_unknown(argc, argv) != 0;
  if (bad_args) g_failed++;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (bad_args || !group_wanted(argc, argv, cases[i].name)) continue;
    g_case_failed = 0;
    cases[i].fn();
    if (g_case_failed) {
      g_failed++;
      printf("FAIL %s\n", cases[i].name);
    } else {
      g_passed++;
      printf("ok   %s\n", cases[i].name);
    }
    fflush(stdout);
  }
  if (g_failed == 0) rm_rf(g_root);
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
