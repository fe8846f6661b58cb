/*
 * oom_test — allocation failure, everywhere it can happen (tests/support/
 * alloc_fail.h fails the n-th allocation on demand). The promise
 * (capi/firkin.h, FIRKIN_E_NO_MEMORY; docs/api.md): a call that cannot get
 * memory returns FIRKIN_E_NO_MEMORY (or a status it would have returned
 * anyway), never crashes the process and never leaves another thread
 * waiting forever; nothing acknowledged is lost, a batch stays all or
 * nothing, and a reopen restores the database.
 *
 * sweep_*: one operation at a time, run with the n-th allocation of the
 * calling thread failing (once; and, "sticky", that one and every later
 * one), for every n until the operation needs fewer allocations than n.
 * Each n runs in a child process under alarm(): open, a few hundred keys,
 * the armed operation, the keys read back on the same handle (and the
 * operation's own check there: an ordered namespace's range scan, a
 * reader's next refresh), then an unarmed put, close, reopen, and every
 * acknowledged key read back.
 *
 * fresh_*: the same, the armed call being the first call of a new thread:
 * the thread's per-thread state (epoch slot, scratch buffers, the last
 * error's string) is made under the failures. (A C++ thread_local's
 * destructor registration used to end the process there: glibc's "failed
 * to register TLS destructor"; core/util/per_thread.h.)
 *
 * background: writers, compaction and checkpoints while one allocation in
 * a few thousand fails in every thread (background threads included), then
 * allocation works again: no crash, no hang, statuses only OK or
 * NO_MEMORY (or the failed log's sticky error), and a reopen holds every
 * acknowledged write.
 *
 * Not under ASan or TSan (their allocators replace malloc): every case
 * prints "skip" there. --long (or FIRKIN_OOM_LONG=1) sweeps every n; the
 * default sweeps every n up to 64, then every 7th.
 * Ends with "N passed, N failed".
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firkin.h"
#include "alloc_fail.h"
#include "forked_cases.h"

static char root[256];
static bool long_run;

#define SETUP_KEYS 300

static void key_name(char *k, size_t cap, const char *tag, int i) {
  snprintf(k, cap, "%s-%05d", tag, i);
}
static size_t value_of(char *v, const char *k, int i) {
  const size_t n = 20 + (size_t)(i * 37) % 180;
  for (size_t j = 0; j < n; j++) v[j] = k[j % strlen(k)] ^ (char)(j + i);
  return n;
}

static firkin_options *opts(void) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_create_if_missing(o, true);
  firkin_options_set_segment_size(o, 64 * 1024); /* rolls within a few hundred puts */
  firkin_options_set(o, "expected_keys", "64");  /* the index grows */
  firkin_options_set(o, "checkpoint_every", "0");
  return o;
}

/* ---- the operations ---------------------------------------------------- */

/* Each writes keys "<tag>-NNNNN" (values from value_of) and says which
 * through *first / *count; an all-or-nothing operation sets *atomic. */
typedef struct op_result {
  int first, count;
  bool atomic;
  const char *tag;
} op_result;

typedef firkin_status (*op_fn)(firkin_db *db, op_result *r);

static firkin_status put_range(firkin_db *db, const firkin_write_options *wo, const char *tag,
                               int from, int n) {
  char k[64], v[256];
  for (int i = from; i < from + n; i++) {
    key_name(k, sizeof k, tag, i);
    const size_t vl = value_of(v, k, i);
    firkin_status s = firkin_put(db, wo, NULL, k, strlen(k), v, vl);
    if (s != FIRKIN_OK) return s;
  }
  return FIRKIN_OK;
}

static firkin_status op_put(firkin_db *db, op_result *r) {
  *r = (op_result){SETUP_KEYS, 1, true, "k"};
  return put_range(db, NULL, "k", SETUP_KEYS, 1);
}
static firkin_status op_put_always(firkin_db *db, op_result *r) {
  *r = (op_result){SETUP_KEYS, 1, true, "k"};
  firkin_write_options *wo = NULL;
  firkin_write_options_new(&wo);
  firkin_write_options_set_sync(wo, FIRKIN_SYNC_ALWAYS);
  firkin_status s = put_range(db, wo, "k", SETUP_KEYS, 1);
  firkin_write_options_free(wo);
  return s;
}
/* Enough puts to roll segments and grow the index: the last acknowledged
 * one is the boundary (puts before it are all there). */
static int puts_done;
static firkin_status op_many_puts(firkin_db *db, op_result *r) {
  *r = (op_result){SETUP_KEYS, 0, false, "k"};
  char k[64], v[256];
  for (int i = SETUP_KEYS; i < SETUP_KEYS + 400; i++) {
    key_name(k, sizeof k, "k", i);
    const size_t vl = value_of(v, k, i);
    firkin_status s = firkin_put(db, NULL, NULL, k, strlen(k), v, vl);
    if (s != FIRKIN_OK) return s;
    r->count = ++puts_done;
  }
  return FIRKIN_OK;
}
static firkin_status op_batch(firkin_db *db, op_result *r) {
  *r = (op_result){0, 6, true, "b"};
  firkin_batch *b = NULL;
  firkin_status s = firkin_batch_new(&b);
  char k[64], v[256];
  for (int i = 0; i < 6 && s == FIRKIN_OK; i++) {
    key_name(k, sizeof k, "b", i);
    const size_t vl = value_of(v, k, i);
    s = firkin_batch_put(b, NULL, k, strlen(k), v, vl);
  }
  if (s == FIRKIN_OK) s = firkin_write(db, NULL, b);
  firkin_batch_free(b);
  return s;
}
static firkin_status op_cas(firkin_db *db, op_result *r) {
  /* k-00007 from its setup value to itself: an acknowledged no-change */
  *r = (op_result){0, 0, true, "k"};
  char k[64], v[256];
  key_name(k, sizeof k, "k", 7);
  const size_t vl = value_of(v, k, 7);
  return firkin_cas(db, NULL, NULL, k, strlen(k), v, vl, v, vl);
}
static firkin_status op_txn(firkin_db *db, op_result *r) {
  *r = (op_result){0, 4, true, "t"};
  firkin_txn *t = NULL;
  firkin_status s = firkin_txn_begin(db, FIRKIN_TXN_SERIALIZABLE, &t);
  if (s != FIRKIN_OK) return s;
  char k[64], v[256];
  void *got = NULL;
  size_t gl = 0;
  key_name(k, sizeof k, "k", 3);
  s = firkin_txn_get(t, NULL, k, strlen(k), &got, &gl);
  firkin_free(got);
  firkin_iter *it = NULL;
  if (s == FIRKIN_OK) s = firkin_txn_iter_new(t, NULL, &it);
  for (int n = 0; s == FIRKIN_OK && firkin_iter_valid(it) && n < 20; n++) s = firkin_iter_next(it);
  firkin_iter_free(it);
  for (int i = 0; i < 4 && s == FIRKIN_OK; i++) {
    key_name(k, sizeof k, "t", i);
    const size_t vl = value_of(v, k, i);
    s = firkin_txn_put(t, NULL, k, strlen(k), v, vl);
  }
  if (s == FIRKIN_OK) s = firkin_txn_commit(t, NULL, NULL);
  firkin_txn_free(t);
  return s;
}
static firkin_status op_ns(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k"};
  firkin_ns *ns = NULL;
  firkin_status s = firkin_ns_open(db, "oom", true, &ns);
  if (s == FIRKIN_OK) s = firkin_put(db, NULL, ns, "x", 1, "y", 1);
  firkin_ns_close(ns);
  if (s == FIRKIN_OK) s = firkin_ns_drop(db, "oom");
  return s;
}
static firkin_status op_checkpoint(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k"};
  return firkin_checkpoint(db);
}
static firkin_status op_compact(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k"};
  return firkin_compact(db);
}
/* Before the compaction (unarmed): dead bytes for it to reclaim, the
 * setup keys written again and some deleted (then written back, so that
 * read_back finds them all). */
static void prep_compact(firkin_db *db) {
  char k[64];
  (void)put_range(db, NULL, "k", 0, SETUP_KEYS);
  for (int i = 0; i < SETUP_KEYS; i += 3) {
    key_name(k, sizeof k, "k", i);
    (void)firkin_delete(db, NULL, NULL, k, strlen(k));
  }
  (void)put_range(db, NULL, "k", 0, SETUP_KEYS);
}
static firkin_status op_sync(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k"};
  return firkin_sync(db);
}
static firkin_status op_reads(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k"};
  firkin_snapshot *snap = NULL;
  firkin_status s = firkin_snapshot_new(db, &snap);
  char k[64];
  void *val = NULL;
  size_t vl = 0;
  key_name(k, sizeof k, "k", 11);
  if (s == FIRKIN_OK) s = firkin_get(db, snap, NULL, k, strlen(k), &val, &vl);
  firkin_free(val);
  firkin_iter *it = NULL;
  if (s == FIRKIN_OK) s = firkin_iter_new(db, snap, NULL, &it);
  for (int n = 0; s == FIRKIN_OK && firkin_iter_valid(it); n++) s = firkin_iter_next(it);
  firkin_iter_free(it);
  uint64_t c = 0;
  if (s == FIRKIN_OK) s = firkin_count(db, NULL, &c);
  char *js = NULL;
  if (s == FIRKIN_OK) s = firkin_stats(db, &js);
  firkin_free(js);
  firkin_snapshot_free(snap);
  return s;
}
static firkin_status op_changes(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k"};
  firkin_changes *c = NULL;
  firkin_status s = firkin_changes_open(db, 0, NULL, &c);
  for (int n = 0; s == FIRKIN_OK && firkin_changes_valid(c) && n < 50; n++) {
    s = firkin_changes_next(c);
  }
  firkin_changes_free(c);
  return s;
}
static firkin_status op_backup(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k"};
  static int made;
  char dest[512];
  snprintf(dest, sizeof dest, "%s/backup-%d-%d", root, (int)getpid(), made++);
  char *report = NULL;
  firkin_status s = firkin_backup(db, NULL, dest, &report);
  firkin_free(report);
  sh("rm -rf '%s'", dest);
  return s;
}
static firkin_status op_verify(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k"};
  char *report = NULL;
  firkin_status s = firkin_verify(db, &report);
  firkin_free(report);
  return s;
}

static int read_back(firkin_db *db, const char *tag, int from, int n, bool *all, bool *none);

/* Puts of long keys (past a chunk's 15-byte inline part) into an ordered
 * namespace, until one fails; the same handle's range scan must then hold
 * every acknowledged one, in order (check_ordered). */
static int ordered_done;
static firkin_ns *ordered_ns;
static void prep_ordered(firkin_db *db) {
  ordered_ns = NULL;
  (void)firkin_ns_create_v2(db, "sorted", FIRKIN_NS_ORDERED, &ordered_ns);
}
static void ordered_key(char *k, size_t cap, int i) {
  snprintf(k, cap, "ordered-key-with-a-long-common-part-%05d", (i * 7919) % 100000);
}
static firkin_status op_ordered(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k"};
  ordered_done = 0;
  char k[80];
  for (int i = 0; i < 600; i++) {
    ordered_key(k, sizeof k, i);
    firkin_status s = firkin_put(db, NULL, ordered_ns, k, strlen(k), "v", 1);
    if (s != FIRKIN_OK) return s;
    ordered_done = i + 1;
  }
  return FIRKIN_OK;
}
static int check_ordered(firkin_db *db) {
  firkin_iter *it = NULL;
  if (ordered_ns == NULL) return 0;  /* (its create ran out of memory: nothing to scan) */
  if (firkin_range_iter_new(db, NULL, ordered_ns, NULL, 0, NULL, 0, 0, &it) != FIRKIN_OK) {
    fprintf(stderr, "  range scan: %s\n", firkin_last_error());
    firkin_ns_close(ordered_ns);
    ordered_ns = NULL;
    return 1;
  }
  int seen = 0, bad = 0;
  char prev[96] = "";
  for (; firkin_iter_valid(it); firkin_iter_next(it)) {
    const void *kp = NULL;
    size_t kl = 0;
    firkin_iter_key(it, &kp, &kl);
    char cur[96];
    snprintf(cur, sizeof cur, "%.*s", (int)kl, (const char *)kp);
    if (seen > 0 && strcmp(prev, cur) >= 0) bad++;
    snprintf(prev, sizeof prev, "%s", cur);
    seen++;
  }
  firkin_iter_free(it);
  firkin_ns_close(ordered_ns);
  ordered_ns = NULL;
  /* every acknowledged key, and at most the one that failed besides */
  if (bad != 0 || seen < ordered_done || seen > ordered_done + 1) {
    fprintf(stderr, "  same handle's range scan: %d keys (%d acknowledged), %d out of order\n",
            seen, ordered_done, bad);
    return 1;
  }
  return 0;
}

/* A read-only handle refreshing over the writer's changes: after an armed
 * refresh, an unarmed one must bring the handle to the writer's state,
 * or the handle must say it is broken (NO_MEMORY on reads too). */
static firkin_db *reader;
static char reader_dir[600];
static void prep_refresh(firkin_db *db) {
  firkin_options *o = opts();
  firkin_options_set_read_only(o, true);
  reader = NULL;
  (void)firkin_open(reader_dir, o, &reader);
  firkin_options_free(o);
  /* the writer moves on: deletes, overwrites, new keys, compaction */
  char k[64];
  for (int i = 0; i < SETUP_KEYS; i += 4) {
    key_name(k, sizeof k, "k", i);
    (void)firkin_delete(db, NULL, NULL, k, strlen(k));
  }
  (void)put_range(db, NULL, "k", 0, SETUP_KEYS);  /* (back, so read_back finds them) */
  (void)put_range(db, NULL, "r", 0, 200);
  (void)firkin_compact(db);
  (void)firkin_sync(db);
}
static bool refresh_took_back; /* the armed refresh said it took its work back or changed nothing */
static firkin_status op_refresh(firkin_db *db, op_result *r) {
  (void)db;
  *r = (op_result){0, 0, true, "k"};
  const firkin_status s = reader != NULL ? firkin_refresh(reader) : FIRKIN_OK;
  refresh_took_back = s == FIRKIN_E_NO_MEMORY && (strstr(firkin_last_error(), "took its work back") ||
                                                   strstr(firkin_last_error(), "changed nothing"));
  return s;
}
static int check_refresh(firkin_db *db) {
  (void)db;
  if (reader == NULL) return 0;
  firkin_status s = firkin_refresh(reader);
  int rc = 0;
  if (s == FIRKIN_OK) {
    bool all, none;
    if (read_back(reader, "k", 0, SETUP_KEYS, &all, &none) != 0 || !all ||
        read_back(reader, "r", 0, 200, &all, &none) != 0 || !all) {
      fprintf(stderr, "  the reader, refreshed again, does not hold the writer's state\n");
      rc = 1;
    }
  } else if (s == FIRKIN_E_NO_MEMORY && refresh_took_back) {
    /* A failure that changed nothing, or that its undo took back, leaves
     * the handle going on (docs/api.md, NO_MEMORY). */
    fprintf(stderr, "  a refresh that took its work back left the handle broken: %s\n",
            firkin_last_error());
    rc = 1;
  } else if (s == FIRKIN_E_NO_MEMORY) {
    char got[8];
    size_t gl = 0;
    s = firkin_get_into(reader, NULL, NULL, "k-00001", 7, got, sizeof got, &gl);
    if (s != FIRKIN_E_NO_MEMORY) {
      fprintf(stderr, "  a broken reader answered a get: %s\n", firkin_strerror(s));
      rc = 1;
    }
  } else {
    fprintf(stderr, "  the unarmed refresh: %s\n", firkin_strerror(s));
    rc = 1;
  }
  firkin_close(reader);
  reader = NULL;
  return rc;
}

/* ---- one armed run ----------------------------------------------------- */

/* Exit codes of the child: 0 pass; 10 the n-th allocation never came (the
 * sweep ends); anything else, or a signal, fails. */
#define DONE 10

static bool status_allowed(firkin_status s) {
  return s == FIRKIN_OK || s == FIRKIN_E_NO_MEMORY;
}

static int read_back(firkin_db *db, const char *tag, int from, int n, bool *all, bool *none) {
  char k[64], v[256], got[256];
  *all = true;
  *none = true;
  for (int i = from; i < from + n; i++) {
    key_name(k, sizeof k, tag, i);
    const size_t vl = value_of(v, k, i);
    size_t gl = 0;
    firkin_status s = firkin_get_into(db, NULL, NULL, k, strlen(k), got, sizeof got, &gl);
    if (s == FIRKIN_OK && gl == vl && memcmp(got, v, vl) == 0) {
      *none = false;
    } else if (s == FIRKIN_E_NOT_FOUND) {
      *all = false;
    } else {
      fprintf(stderr, "  %s: %s (%zu bytes, want %zu)\n", k, firkin_strerror(s), gl, vl);
      return -1;
    }
  }
  return 0;
}

typedef void (*prep_fn)(firkin_db *db);
typedef int (*check_fn)(firkin_db *db);

/* The armed call, on the calling thread or a thread of its own. */
typedef struct armed_call {
  op_fn fn;
  firkin_db *db;
  long nth;
  bool sticky;
  op_result r;
  firkin_status s;
  bool never; /* the n-th allocation never came */
} armed_call;
static void *armed_call_run(void *p) {
  armed_call *c = p;
  af_fail_nth(c->nth, c->sticky);
  c->s = c->fn(c->db, &c->r);
  c->never = af_pending();
  af_off();
  return NULL;
}

/* fresh: the armed call is the first call of a new thread (its per-thread
 * state made under the failures: core/util/per_thread.h); else the
 * calling thread's, after the setup's calls. */
static int armed_run(const char *dir, op_fn fn, prep_fn prep, check_fn check, long nth,
                     bool sticky, bool fresh) {
  firkin_options *o = opts();
  firkin_db *db = NULL;
  CHECK(firkin_open(dir, o, &db) == FIRKIN_OK, "open");
  CHECK(put_range(db, NULL, "k", 0, SETUP_KEYS) == FIRKIN_OK, "setup puts");
  snprintf(reader_dir, sizeof reader_dir, "%s", dir);
  if (prep != NULL) prep(db);
  puts_done = 0;
  armed_call call = {fn, db, nth, sticky, {0, 0, false, NULL}, FIRKIN_OK, false};
  if (fresh) {
    pthread_t th;
    CHECK(pthread_create(&th, NULL, armed_call_run, &call) == 0, "pthread_create");
    pthread_join(th, NULL);
  } else {
    armed_call_run(&call);
  }
  const op_result r = call.r;
  const firkin_status s = call.s;
  const bool never = call.never;
  CHECK(status_allowed(s), "the armed call returned %s (n=%ld%s)", firkin_strerror(s), nth,
        sticky ? ", sticky" : "");
  /* The same handle, before anything else: reads go on, and answer right. */
  {
    bool all, none;
    CHECK(read_back(db, "k", 0, SETUP_KEYS, &all, &none) == 0 && all,
          "the same handle lost setup keys after n=%ld", nth);
  }
  CHECK(check == NULL || check(db) == 0, "the operation's check on the same handle (n=%ld)", nth);
  /* Unarmed again: a put either works or reports the failed log. */
  const firkin_status after = firkin_put(db, NULL, NULL, "after", 5, "a", 1);
  CHECK(status_allowed(after) || after == FIRKIN_E_IO, "a put after the failure: %s",
        firkin_strerror(after));
  (void)firkin_close(db); /* may report the failed log; must return */
  CHECK(firkin_open(dir, o, &db) == FIRKIN_OK, "reopen after n=%ld", nth);
  bool all, none;
  CHECK(read_back(db, "k", 0, SETUP_KEYS, &all, &none) == 0 && all,
        "setup keys lost after n=%ld", nth);
  if (s == FIRKIN_OK && r.count > 0) {
    CHECK(read_back(db, r.tag, r.first, r.count, &all, &none) == 0 && all,
          "an acknowledged write lost after n=%ld", nth);
  } else if (r.count > 0 && r.atomic) {
    CHECK(read_back(db, r.tag, r.first, r.count, &all, &none) == 0 && (all || none),
          "a failed batch half applied after n=%ld", nth);
  }
  if (after == FIRKIN_OK) {
    size_t gl = 0;
    char got[8];
    CHECK(firkin_get_into(db, NULL, NULL, "after", 5, got, sizeof got, &gl) == FIRKIN_OK,
          "the put after the failure lost");
  }
  char *report = NULL;
  firkin_status vs = firkin_verify(db, &report);
  CHECK(vs == FIRKIN_OK, "verify after reopen: %s", report ? report : "");
  firkin_free(report);
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  firkin_options_free(o);
  return never ? DONE : 0;
}

/* Runs op with n = 1, 2, ... (each in a child) until it needs fewer
 * allocations than n; returns failures. */
static int sweep(const char *name, op_fn fn, prep_fn prep, check_fn check, bool sticky,
                 bool fresh) {
  char dir[512];
  int bad = 0;
  long step = 1;
  long n = 1;
  for (; n < 200000; n += step) {
    if (!long_run && n >= 64) step = 7;
    snprintf(dir, sizeof dir, "%s/%s-%ld", root, name, n);
    sh("rm -rf '%s'", dir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
      alarm(30);
      _exit(armed_run(dir, fn, prep, check, n, sticky, fresh));
    }
    int st = 0;
    waitpid(pid, &st, 0);
    sh("rm -rf '%s'", dir);
    if (WIFEXITED(st) && WEXITSTATUS(st) == DONE) break;
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
      if (bad++ < 5) {
        fprintf(stderr, "  %s: n=%ld%s%s: %s %d\n", name, n, sticky ? " (sticky)" : "",
                fresh ? " (fresh thread)" : "",
                WIFSIGNALED(st) ? "signal" : "exit",
                WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
      }
    }
  }
  printf("     (%s%s%s: %ld allocations swept)\n", name, sticky ? ", sticky" : "",
         fresh ? ", fresh thread" : "", n - 1);
  fflush(stdout);
  return bad;
}

typedef struct named_op {
  const char *name;
  op_fn fn;
  prep_fn prep;   /* run before the operation, unarmed (NULL: none) */
  check_fn check; /* run on the same handle after it, unarmed (NULL: none); 0 = pass */
  bool fresh;     /* swept on a fresh thread too (fresh_*) */
} named_op;

static const named_op kOps[] = {
    {"put", op_put, NULL, NULL, true},
    {"put_always", op_put_always, NULL, NULL, false},
    {"many_puts", op_many_puts, NULL, NULL, false},
    {"batch", op_batch, NULL, NULL, true},
    {"cas", op_cas, NULL, NULL, true},
    {"txn", op_txn, NULL, NULL, true},
    {"ns", op_ns, NULL, NULL, false},
    {"checkpoint", op_checkpoint, NULL, NULL, false},
    {"compact", op_compact, prep_compact, NULL, false},
    {"sync", op_sync, NULL, NULL, false},
    {"reads", op_reads, NULL, NULL, true},
    {"changes", op_changes, NULL, NULL, true},
    {"backup", op_backup, NULL, NULL, false},
    {"verify", op_verify, NULL, NULL, false},
    {"ordered", op_ordered, prep_ordered, check_ordered, true},
    {"refresh", op_refresh, prep_refresh, check_refresh, true},
};

static const named_op *current;
static int t_sweep_once(void) {
  return sweep(current->name, current->fn, current->prep, current->check, false, false) == 0 ? 0
                                                                                            : 1;
}
static int t_sweep_sticky(void) {
  return sweep(current->name, current->fn, current->prep, current->check, true, false) == 0 ? 0
                                                                                           : 1;
}
static int t_sweep_fresh(void) {
  return sweep(current->name, current->fn, current->prep, current->check, false, true) == 0 ? 0
                                                                                           : 1;
}

/* ---- background: every thread's allocations fail now and then ---------- */

#define BG_WRITERS 4
typedef struct bg_state {
  firkin_db *db;
  atomic_int stop;
  int acked[BG_WRITERS];
  int other[BG_WRITERS + 1]; /* statuses other than OK / NO_MEMORY / the failed log's */
} bg_state;
typedef struct bg_arg {
  bg_state *st;
  int t;
} bg_arg;

static bool bg_allowed(firkin_status s) {
  return s == FIRKIN_OK || s == FIRKIN_E_NO_MEMORY || s == FIRKIN_E_IO;
}

static void *bg_writer(void *p) {
  bg_arg *a = p;
  char tag[8], k[64], v[256];
  snprintf(tag, sizeof tag, "w%d", a->t);
  int tries = 0;
  for (int i = 0; i < 200000 && !atomic_load(&a->st->stop);) {
    key_name(k, sizeof k, tag, i);
    const size_t vl = value_of(v, k, i);
    firkin_status s = firkin_put(a->st->db, NULL, NULL, k, strlen(k), v, vl);
    if (s == FIRKIN_OK) {
      a->st->acked[a->t] = ++i;
      tries = 0;
      continue;
    }
    if (!bg_allowed(s)) a->st->other[a->t]++;
    /* The same key again (the acknowledged keys stay a prefix), until the
     * log has failed for good. */
    if (!bg_allowed(s) || ++tries > 50) break;
  }
  return NULL;
}
static void *bg_maint(void *p) {
  bg_state *st = p;
  while (!atomic_load(&st->stop)) {
    firkin_status s = firkin_compact(st->db);
    if (!bg_allowed(s)) st->other[BG_WRITERS]++;
    s = firkin_checkpoint(st->db);
    if (!bg_allowed(s)) st->other[BG_WRITERS]++;
    usleep(2000);
  }
  return NULL;
}

static int background(unsigned ppm) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/background-%u", root, ppm);
  sh("rm -rf '%s'", dir);
  firkin_options *o = opts();
  firkin_options_set(o, "checkpoint_every", "65536");
  static bg_state st;
  memset(&st, 0, sizeof st);
  CHECK(firkin_open(dir, o, &st.db) == FIRKIN_OK, "open");
  pthread_t th[BG_WRITERS + 1];
  bg_arg args[BG_WRITERS];
  af_fail_all(ppm);
  for (int t = 0; t < BG_WRITERS; t++) {
    args[t] = (bg_arg){&st, t};
    pthread_create(&th[t], NULL, bg_writer, &args[t]);
  }
  pthread_create(&th[BG_WRITERS], NULL, bg_maint, &st);
  usleep(1500 * 1000);
  atomic_store(&st.stop, 1);
  for (int t = 0; t <= BG_WRITERS; t++) pthread_join(th[t], NULL);
  const long failed_allocs = af_failed();
  af_off();
  for (int t = 0; t <= BG_WRITERS; t++) {
    CHECK(st.other[t] == 0, "thread %d saw a status other than OK, NO_MEMORY or IO", t);
  }
  (void)firkin_put(st.db, NULL, NULL, "after", 5, "a", 1);
  (void)firkin_close(st.db);
  firkin_db *db = NULL;
  CHECK(firkin_open(dir, o, &db) == FIRKIN_OK, "reopen");
  long total = 0;
  for (int t = 0; t < BG_WRITERS; t++) {
    char tag[8];
    snprintf(tag, sizeof tag, "w%d", t);
    bool all, none;
    CHECK(read_back(db, tag, 0, st.acked[t], &all, &none) == 0 && all,
          "writer %d: acknowledged puts lost", t);
    total += st.acked[t];
  }
  printf("     (background %u per million: %ld allocations failed, %ld puts acknowledged)\n", ppm,
         failed_allocs, total);
  fflush(stdout);
  CHECK(failed_allocs > 0, "no allocation failed: the case tested nothing");
  char *report = NULL;
  CHECK(firkin_verify(db, &report) == FIRKIN_OK, "verify: %s", report ? report : "");
  firkin_free(report);
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  sh("rm -rf '%s'", dir);
  return 0;
}
static int t_background_rare(void) { return background(200); }
static int t_background_often(void) { return background(5000); }

int main(int argc, char **argv) {
  long_run = getenv("FIRKIN_OOM_LONG") != NULL || (argc > 1 && strcmp(argv[1], "--long") == 0);
  snprintf(root, sizeof root, "/tmp/firkin-oom-%d", (int)getpid());
  sh("rm -rf '%s'; mkdir -p '%s'", root, root);
  forked_case_alarm_s = long_run ? 3600 : 600;
  /* FIRKIN_OOM_ONE="op n mode": that one armed run, in this process, its
   * directory kept (diagnosis); mode 1 = sticky, 2 = on a fresh thread. */
  const char *one = getenv("FIRKIN_OOM_ONE");
  if (one != NULL) {
    char opname[64];
    long n = 0;
    int sticky = 0;
    if (sscanf(one, "%63s %ld %d", opname, &n, &sticky) < 2) return 2;
    for (size_t i = 0; i < sizeof kOps / sizeof kOps[0]; i++) {
      if (strcmp(kOps[i].name, opname) != 0) continue;
      char dir[512];
      snprintf(dir, sizeof dir, "%s/one", root);
      const int rc = armed_run(dir, kOps[i].fn, kOps[i].prep, kOps[i].check, n, sticky & 1,
                               (sticky & 2) != 0);
      printf("armed run: %d (%s)\n", rc, dir);
      return rc;
    }
    return 2;
  }
  char name[128];
  for (size_t i = 0; i < sizeof kOps / sizeof kOps[0]; i++) {
    current = &kOps[i];
    snprintf(name, sizeof name, "sweep_%s: the n-th allocation fails once", kOps[i].name);
    if (AF_AVAILABLE) run(name, t_sweep_once); else printf("skip %s (a sanitizer's allocator)\n", name);
    snprintf(name, sizeof name, "sticky_%s: the n-th allocation and every later one fail",
             kOps[i].name);
    if (AF_AVAILABLE) run(name, t_sweep_sticky); else printf("skip %s (a sanitizer's allocator)\n", name);
    if (!kOps[i].fresh) continue;
    snprintf(name, sizeof name, "fresh_%s: the n-th allocation of a new thread's first call fails",
             kOps[i].name);
    if (AF_AVAILABLE) run(name, t_sweep_fresh); else printf("skip %s (a sanitizer's allocator)\n", name);
  }
  if (AF_AVAILABLE) {
    run("background_rare: 4 writers, compaction, checkpoints; 1 allocation in 5,000 fails",
        t_background_rare);
    run("background_often: the same, 1 allocation in 200 fails", t_background_often);
  } else {
    printf("skip background_* (a sanitizer's allocator)\n");
  }
  sh("rm -rf '%s'", root);
  return forked_cases_summary();
}
