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
 * operation's own writes there as after the reopen, check_written: an
 * acknowledged one whole, a failed atomic one all or none, a non-atomic
 * one's acknowledged prefix; and the operation's own check: an ordered
 * namespace's range scan, a reader's next refresh; no snapshot left
 * registered), then an unarmed put, close, reopen, and every acknowledged
 * key read back.
 *
 * fresh_*: the same, the armed call being the first call of a new thread:
 * the thread's per-thread state (epoch slot, scratch buffers, the last
 * error's string) is made under the failures. (A C++ thread_local's
 * destructor registration used to end the process there: glibc's "failed
 * to register TLS destructor"; core/util/per_thread.h.)
 *
 * inplace_after_fail: a snapshot, a counting walk, a change cursor, an
 * iterator and a verify, each the first call of a new thread whose n-th
 * allocation fails: once the call has returned, updates in place work
 * again (until 2026-11-29 the block they take, or a counting walk's
 * choosing, stayed behind when the wait for the overwrites under way threw
 * from the thread's epoch registration, and no put went in place again
 * until a reopen).
 *
 * background: writers, compaction and checkpoints while one allocation in
 * a few thousand fails in every thread (background threads included), then
 * allocation works again: no crash, no hang, statuses only OK or
 * NO_MEMORY (or the failed log's sticky error), and a reopen holds every
 * acknowledged write.
 *
 * Not under ASan or TSan (their allocators replace malloc): every case
 * prints "skip" there. --long (or FIRKIN_OOM_LONG=1) sweeps every n; the
 * default sweeps every n up to 48, then every 11th up to 512 and every 53rd
 * after, from an offset that changes from run to run (printed first;
 * FIRKIN_OOM_OFFSET=k replays it), so that runs together cover every n.
 * Ends with "N passed, N failed".
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ftw.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firkin.h"
#include "alloc_fail.h"
#include "forked_cases.h"

static char root[256];
static bool long_run;
/* Where the sampled part of a default sweep starts (printed; FIRKIN_OOM_OFFSET
 * replays a run's): the process id, so that runs differ. */
static long sweep_offset;

#define SETUP_KEYS 300

static void key_name(char *k, size_t cap, const char *tag, int i) {
  snprintf(k, cap, "%s-%05d", tag, i);
}
static size_t value_of(char *v, const char *k, int i) {
  const size_t n = 20 + (size_t)(i * 37) % 180;
  for (size_t j = 0; j < n; j++) v[j] = k[j % strlen(k)] ^ (char)(j + i);
  return n;
}

/* The operation's database is encrypted (named_op.enc): sealed records,
 * MACs of seal clocks and compaction markers, libcrypto's allocations. */
static bool enc_mode;
static const char kKey[32] = "oom_test's key, 32 bytes long..";
static const char kNewKey[32] = "oom_test's new key, 32 bytes...";

static firkin_options *opts(void) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_create_if_missing(o, true);
  firkin_options_set_segment_size(o, 64 * 1024); /* rolls within a few hundred puts */
  firkin_options_set(o, "expected_keys", "64");  /* the index grows */
  firkin_options_set(o, "checkpoint_every", "0");
  if (enc_mode) firkin_options_set_encryption_key(o, kKey, sizeof kKey);
  return o;
}

/* ---- the operations ---------------------------------------------------- */

/* Each writes keys "<tag>-NNNNN" (values from value_of) and says which
 * through *first / *count; an all-or-nothing operation sets *atomic. A
 * non-atomic one that writes keys one after the other (many_puts) sets
 * *planned to how many it would write: *count is then the prefix it had
 * acknowledged when it stopped. An atomic operation whose change is more
 * than new keys (overwrites, deletes, an ordered namespace: batch_ordered)
 * sets *state, which says on a handle whether it is there whole (1), not
 * at all (0), or in part or wrong (-1, having said what). */
typedef struct op_result {
  int first, count;
  bool atomic;
  const char *tag;
  int planned;
  int (*state)(firkin_db *db);
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
  *r = (op_result){SETUP_KEYS, 1, true, "k", 0, NULL};
  return put_range(db, NULL, "k", SETUP_KEYS, 1);
}
static firkin_status op_put_always(firkin_db *db, op_result *r) {
  *r = (op_result){SETUP_KEYS, 1, true, "k", 0, NULL};
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
  *r = (op_result){SETUP_KEYS, 0, false, "k", 400, NULL};
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
  *r = (op_result){0, 6, true, "b", 0, NULL};
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
  *r = (op_result){0, 0, true, "k", 0, NULL};
  char k[64], v[256];
  key_name(k, sizeof k, "k", 7);
  const size_t vl = value_of(v, k, 7);
  return firkin_cas(db, NULL, NULL, k, strlen(k), v, vl, v, vl);
}
static firkin_status op_txn(firkin_db *db, op_result *r) {
  *r = (op_result){0, 4, true, "t", 0, NULL};
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
  *r = (op_result){0, 0, true, "k", 0, NULL};
  firkin_ns *ns = NULL;
  firkin_status s = firkin_ns_open(db, "oom", true, &ns);
  if (s == FIRKIN_OK) s = firkin_put(db, NULL, ns, "x", 1, "y", 1);
  firkin_ns_close(ns);
  if (s == FIRKIN_OK) s = firkin_ns_drop(db, "oom");
  return s;
}
static firkin_status op_checkpoint(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k", 0, NULL};
  return firkin_checkpoint(db);
}
static firkin_status op_compact(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k", 0, NULL};
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
  *r = (op_result){0, 0, true, "k", 0, NULL};
  return firkin_sync(db);
}
static firkin_status op_reads(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k", 0, NULL};
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
  *r = (op_result){0, 0, true, "k", 0, NULL};
  firkin_changes *c = NULL;
  firkin_status s = firkin_changes_open(db, 0, NULL, &c);
  for (int n = 0; s == FIRKIN_OK && firkin_changes_valid(c) && n < 50; n++) {
    s = firkin_changes_next(c);
  }
  firkin_changes_free(c);
  return s;
}
static firkin_status op_backup(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k", 0, NULL};
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
  *r = (op_result){0, 0, true, "k", 0, NULL};
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
  *r = (op_result){0, 0, true, "k", 0, NULL};
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
/* Walks a range iterator to its end and frees it: the keys it yielded;
 * *out_of_order counts keys not above the one before. */
static int walk_ordered(firkin_iter *it, int *out_of_order) {
  int seen = 0;
  char prev[96] = "";
  for (; firkin_iter_valid(it); firkin_iter_next(it)) {
    const void *kp = NULL;
    size_t kl = 0;
    firkin_iter_key(it, &kp, &kl);
    char cur[96];
    snprintf(cur, sizeof cur, "%.*s", (int)kl, (const char *)kp);
    if (seen > 0 && strcmp(prev, cur) >= 0) (*out_of_order)++;
    snprintf(prev, sizeof prev, "%s", cur);
    seen++;
  }
  firkin_iter_free(it);
  return seen;
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
  int bad = 0;
  const int seen = walk_ordered(it, &bad);
  /* Point reads agree with the range scan: the key that failed is found by
   * both or by neither (until 2026-11-29 a new key whose put failed in the
   * ordered index's insert was found by gets and missed by the scan). */
  int got = 0;
  for (int i = 0; i <= ordered_done && i < 600; i++) {
    char k[80], v[8];
    size_t vl = 0;
    ordered_key(k, sizeof k, i);
    if (firkin_get_into(db, NULL, ordered_ns, k, strlen(k), v, sizeof v, &vl) == FIRKIN_OK) got++;
  }
  firkin_ns_close(ordered_ns);
  ordered_ns = NULL;
  /* every acknowledged key, and at most the one that failed besides */
  if (bad != 0 || seen < ordered_done || seen > ordered_done + 1 || got != seen) {
    fprintf(stderr,
            "  same handle's range scan: %d keys (%d acknowledged), %d out of order; "
            "point reads found %d\n",
            seen, ordered_done, bad, got);
    return 1;
  }
  return 0;
}

/* A writer's open of another database, out of memory: the prep makes one
 * (300 keys in "default", 300 in an ordered namespace, some deleted and
 * overwritten), takes a copy of its files while it is open and synced (a
 * crash image: the open replays the log and builds the ordered index from
 * the hash index, OrderedIndex::BulkLoad), and closes it (a checkpoint:
 * the open loads the index and the ordered chunks from it). The armed
 * call opens one of them and closes it. A failed open must leave nothing
 * held and nothing changed: the check opens the same directory unarmed
 * (the lock free again) and finds every key, the ordered scan whole. */
#define SECOND_KEYS 300
static char reader_dir[600]; /* (the armed run's directory: refresh's too) */
static char second_dir[660];
static firkin_options *second_opts; /* (made unarmed, by the prep: the key's copy allocates) */
static void second_key(char *k, size_t cap, int i) {
  snprintf(k, cap, "second-ordered-key-%05d", (i * 7919) % 100000);
}
static void prep_second(firkin_db *db, bool crash_image) {
  (void)db;
  char made[640];
  snprintf(made, sizeof made, "%s-second", reader_dir);
  snprintf(second_dir, sizeof second_dir, "%s%s", made, crash_image ? "-image" : "");
  sh("rm -rf '%s' '%s-image'", made, made);
  firkin_options *o = opts();
  firkin_db *d = NULL;
  firkin_ns *ns = NULL;
  bool ok = firkin_open(made, o, &d) == FIRKIN_OK &&
            firkin_ns_create_v2(d, "sorted", FIRKIN_NS_ORDERED, &ns) == FIRKIN_OK &&
            put_range(d, NULL, "s", 0, SECOND_KEYS) == FIRKIN_OK;
  char k[64];
  for (int i = 0; ok && i < SECOND_KEYS; i++) {
    second_key(k, sizeof k, i);
    ok = firkin_put(d, NULL, ns, k, strlen(k), "v", 1) == FIRKIN_OK;
  }
  for (int i = 0; ok && i < SECOND_KEYS; i += 3) { /* deleted, then back: two versions */
    second_key(k, sizeof k, i);
    ok = firkin_delete(d, NULL, ns, k, strlen(k)) == FIRKIN_OK &&
         firkin_put(d, NULL, ns, k, strlen(k), "w", 1) == FIRKIN_OK;
  }
  if (ok) ok = firkin_sync(d) == FIRKIN_OK;
  if (ok && crash_image) sh("cp -a '%s' '%s'", made, second_dir);
  if (ns != NULL) firkin_ns_close(ns);
  if (d != NULL && firkin_close(d) != FIRKIN_OK) ok = false;
  firkin_options_free(o);
  if (!ok) {
    fprintf(stderr, "  the second database's prep failed: %s\n", firkin_last_error());
    second_dir[0] = '\0';
  }
}
static void prep_open_recover(firkin_db *db) {
  prep_second(db, true);
  second_opts = opts();
}
static void prep_open_checkpoint(firkin_db *db) {
  prep_second(db, false);
  second_opts = opts();
}
static firkin_status op_open_second(firkin_db *db, op_result *r) {
  (void)db;
  *r = (op_result){0, 0, true, "k", 0, NULL};
  if (second_dir[0] == '\0') return FIRKIN_OK;
  firkin_db *d = NULL;
  firkin_status s = firkin_open(second_dir, second_opts, &d);
  if (s == FIRKIN_OK) {
    const firkin_status c = firkin_close(d); /* may find the failure first */
    if (c != FIRKIN_OK) s = c;
  }
  return s;
}
static int check_open_second(firkin_db *db) {
  (void)db;
  firkin_options_free(second_opts);
  second_opts = NULL;
  if (second_dir[0] == '\0') return 1;
  firkin_options *o = opts();
  firkin_db *d = NULL;
  const firkin_status s = firkin_open(second_dir, o, &d);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    fprintf(stderr, "  the unarmed open after the armed one: %s (%s)\n", firkin_strerror(s),
            firkin_last_error());
    return 1;
  }
  int bad = 0;
  bool all, none;
  if (read_back(d, "s", 0, SECOND_KEYS, &all, &none) != 0 || !all) {
    fprintf(stderr, "  the second database lost keys of \"default\"\n");
    bad++;
  }
  firkin_ns *ns = NULL;
  int seen = 0, got = 0, out_of_order = 0;
  if (firkin_ns_open(d, "sorted", false, &ns) == FIRKIN_OK) {
    firkin_iter *it = NULL;
    if (firkin_range_iter_new(d, NULL, ns, NULL, 0, NULL, 0, 0, &it) == FIRKIN_OK) {
      seen = walk_ordered(it, &out_of_order);
    }
    for (int i = 0; i < SECOND_KEYS; i++) {
      char k[64], v[8];
      size_t vl = 0;
      second_key(k, sizeof k, i);
      if (firkin_get_into(d, NULL, ns, k, strlen(k), v, sizeof v, &vl) == FIRKIN_OK && vl == 1 &&
          v[0] == (i % 3 == 0 ? 'w' : 'v')) {
        got++;
      }
    }
    firkin_ns_close(ns);
  }
  if (seen != SECOND_KEYS || got != SECOND_KEYS || out_of_order != 0) {
    fprintf(stderr, "  the second database's ordered namespace: scan %d, gets %d of %d, %d out of order\n",
            seen, got, SECOND_KEYS, out_of_order);
    bad++;
  }
  if (firkin_close(d) != FIRKIN_OK) bad++;
  return bad;
}

/* A read-only handle refreshing over the writer's changes: after an armed
 * refresh, an unarmed one must bring the handle to the writer's state,
 * or the handle must say it is broken (NO_MEMORY on reads too). */
static firkin_db *reader;
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
  *r = (op_result){0, 0, true, "k", 0, NULL};
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

/* firkin_multi_get (and _packed) at a snapshot, some keys absent: a key
 * present never reads as absent or wrong, and a call that fails leaves
 * every vals[i] NULL (until 2026-11-29 the values read
 * before a std::bad_alloc stayed there, allocated, under NO_MEMORY). */
#define MG_KEYS 40
static int op_bad; /* what an operation found wrong itself (its check reports it) */
static int check_op_bad(firkin_db *db) {
  (void)db;
  return op_bad;
}
static firkin_status op_multi_get(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k", 0, NULL};
  op_bad = 0;
  char kb[MG_KEYS][32], v[256];
  const void *keys[MG_KEYS];
  size_t lens[MG_KEYS], vlens[MG_KEYS];
  void *vals[MG_KEYS];
  firkin_status st[MG_KEYS];
  char packed[MG_KEYS * 36];
  size_t pl = 0;
  for (int i = 0; i < MG_KEYS; i++) {
    if (i % 5 == 4) snprintf(kb[i], sizeof kb[i], "absent-%d", i);
    else key_name(kb[i], sizeof kb[i], "k", i);
    keys[i] = kb[i];
    lens[i] = strlen(kb[i]);
    vals[i] = (void *)kb[i]; /* (must come back NULL or a value) */
    const uint32_t l = (uint32_t)lens[i];
    memcpy(packed + pl, &l, 4);
    memcpy(packed + pl + 4, kb[i], l);
    pl += 4 + l;
  }
  firkin_snapshot *snap = NULL;
  firkin_status s = firkin_snapshot_new(db, &snap);
  if (s != FIRKIN_OK) return s;
  s = firkin_multi_get(db, snap, NULL, MG_KEYS, keys, lens, vals, vlens, st);
  for (int i = 0; i < MG_KEYS; i++) {
    if (s != FIRKIN_OK) {
      if (vals[i] != NULL) op_bad++;
      continue;
    }
    const size_t vl = i % 5 == 4 ? 0 : value_of(v, kb[i], i);
    if (st[i] == FIRKIN_OK) {
      if (i % 5 == 4 || vlens[i] != vl || memcmp(vals[i], v, vl) != 0) op_bad++;
      firkin_free(vals[i]);
    } else if (!(st[i] == FIRKIN_E_NO_MEMORY || (st[i] == FIRKIN_E_NOT_FOUND && i % 5 == 4))) {
      op_bad++;
    }
  }
  if (op_bad != 0) fprintf(stderr, "  multi_get (%s): %d keys wrong\n", firkin_strerror(s), op_bad);
  void *out = NULL;
  size_t ol = 0;
  if (s == FIRKIN_OK) s = firkin_multi_get_packed(db, snap, NULL, packed, pl, &out, &ol);
  for (size_t p = 0, i = 0; s == FIRKIN_OK && i < MG_KEYS; i++) {
    int32_t ks;
    uint32_t vl = 0;
    memcpy(&ks, (char *)out + p, 4);
    p += 4;
    if (ks == FIRKIN_OK) {
      memcpy(&vl, (char *)out + p, 4);
      p += 4 + vl;
    }
    if (!(ks == FIRKIN_OK || ks == FIRKIN_E_NO_MEMORY || (ks == FIRKIN_E_NOT_FOUND && i % 5 == 4))) {
      fprintf(stderr, "  multi_get_packed: key %zu: %s\n", i, firkin_strerror(ks));
      op_bad++;
    }
  }
  firkin_free(out);
  firkin_snapshot_free(snap);
  return s;
}

/* Iterators: hash order at an older snapshot (keys rewritten since: the
 * iterator's per-key work allocates), an ordered namespace's range forward
 * and reverse, a seek, next_n, and a transaction's iterator over its own
 * writes; each walked with the documented loop (valid / next, then the
 * status), which must end OK with every key, exactly once and right, or
 * with NO_MEMORY: until 2026-11-29 a step that ran out
 * of memory ended a hash-order scan with OK, keys missing, and left an
 * ordered one on its next key with a freed key and the previous value.
 * Making any of them leaves no snapshot registered (armed_run's check). */
#define IT_KEYS 200
static firkin_ns *it_ns;
static firkin_snapshot *it_old; /* before the rewrites (held: no update in place) */
static void it_key(char *k, size_t cap, int i) {
  snprintf(k, cap, "iterated-key-with-a-long-common-part-%05d", i);
}
static void prep_iterators(firkin_db *db) {
  it_ns = NULL;
  (void)firkin_ns_create_v2(db, "sorted", FIRKIN_NS_ORDERED, &it_ns);
  char k[80];
  for (int i = 0; i < IT_KEYS; i++) {
    it_key(k, sizeof k, (i * 7919) % IT_KEYS);
    (void)firkin_put(db, NULL, it_ns, k, strlen(k), k, strlen(k));
  }
  it_old = NULL;
  (void)firkin_snapshot_new(db, &it_old);
  for (int round = 0; round < 3; round++) (void)put_range(db, NULL, "k", 0, SETUP_KEYS);
}
/* Walks it from key `from` by `step`: OK only at `to`, with each key's
 * value (its own name) right. */
static firkin_status it_walk(firkin_iter *it, int from, int to, int step, const char *what) {
  char k[80];
  int i = from;
  for (; firkin_iter_valid(it); firkin_iter_next(it), i += step) {
    const void *kp = NULL, *vp = NULL;
    size_t kl = 0, vl = 0;
    firkin_iter_key(it, &kp, &kl);
    firkin_iter_value(it, &vp, &vl);
    it_key(k, sizeof k, i);
    if (kl != strlen(k) || memcmp(kp, k, kl) != 0 || vl != kl || memcmp(vp, k, kl) != 0) {
      fprintf(stderr, "  %s: key %d wrong (%zu bytes, value %zu bytes)\n", what, i, kl, vl);
      op_bad++;
      return FIRKIN_OK;
    }
  }
  const firkin_status s = firkin_iter_status(it);
  if ((s == FIRKIN_OK && i != to) || (s != FIRKIN_OK && s != FIRKIN_E_NO_MEMORY)) {
    fprintf(stderr, "  %s: ended at %d of %d: %s\n", what, i, to, firkin_strerror(s));
    op_bad++;
  }
  return s;
}
static firkin_status op_iterators(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k", 0, NULL};
  op_bad = 0;
  if (it_ns == NULL || it_old == NULL) return FIRKIN_OK;
  const firkin_snapshot *old = it_old;
  firkin_snapshot *now = NULL;
  firkin_status s = firkin_snapshot_new(db, &now); /* (made and freed: no registration left) */
  firkin_snapshot_free(now);
  firkin_iter *it = NULL;
  s = firkin_iter_new(db, old, NULL, &it);
  int n = 0;
  for (; s == FIRKIN_OK && firkin_iter_valid(it); firkin_iter_next(it)) n++;
  if (s == FIRKIN_OK) s = firkin_iter_status(it);
  if ((s == FIRKIN_OK && n != SETUP_KEYS) || (s != FIRKIN_OK && s != FIRKIN_E_NO_MEMORY)) {
    fprintf(stderr, "  hash order at an older snapshot: %d of %d keys: %s\n", n, SETUP_KEYS,
            firkin_strerror(s));
    op_bad++;
  }
  firkin_iter_free(it);
  it = NULL;
  char lo[80], hi[80], at[80];
  it_key(lo, sizeof lo, 30);
  it_key(hi, sizeof hi, 170);
  if (s == FIRKIN_OK) s = firkin_range_iter_new(db, old, it_ns, lo, strlen(lo), hi, strlen(hi), 0, &it);
  if (s == FIRKIN_OK) s = it_walk(it, 30, 170, 1, "range");
  firkin_iter_free(it);
  it = NULL;
  if (s == FIRKIN_OK) {
    s = firkin_range_iter_new(db, old, it_ns, lo, strlen(lo), hi, strlen(hi),
                              FIRKIN_ITER_REVERSE, &it);
  }
  if (s == FIRKIN_OK) s = it_walk(it, 169, 29, -1, "reverse range");
  it_key(at, sizeof at, 100);
  if (s == FIRKIN_OK) s = firkin_iter_seek(it, at, strlen(at));
  if (s == FIRKIN_OK) s = it_walk(it, 100, 29, -1, "reverse range after a seek");
  firkin_iter_free(it);
  it = NULL;
  if (s == FIRKIN_OK) s = firkin_range_iter_new(db, old, it_ns, NULL, 0, NULL, 0, 0, &it);
  for (int i = 0; s == FIRKIN_OK;) {
    char buf[1024];
    size_t used = 0, cnt = 0;
    s = firkin_iter_next_n(it, buf, sizeof buf, &used, &cnt);
    for (size_t e = 0, p = 0; e < cnt; e++, i++) { /* (also those before a failure) */
      uint32_t kl, vl;
      memcpy(&kl, buf + p, 4);
      memcpy(&vl, buf + p + 4, 4);
      it_key(at, sizeof at, i);
      if (kl != strlen(at) || memcmp(buf + p + 8, at, kl) != 0) op_bad++;
      p += 8 + kl + vl;
    }
    if (s == FIRKIN_OK && cnt == 0) {
      if (i != IT_KEYS) op_bad++;
      break;
    }
  }
  firkin_iter_free(it);
  it = NULL;
  /* a transaction's: its puts replace the snapshot's */
  firkin_txn *t = NULL;
  if (s == FIRKIN_OK) s = firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t);
  for (int i = 0; s == FIRKIN_OK && i < IT_KEYS; i += 9) {
    it_key(at, sizeof at, i);
    s = firkin_txn_put(t, it_ns, at, strlen(at), at, strlen(at));
  }
  if (s == FIRKIN_OK) s = firkin_txn_iter_new(t, it_ns, &it);
  n = 0;
  for (; s == FIRKIN_OK && firkin_iter_valid(it); firkin_iter_next(it)) n++;
  if (s == FIRKIN_OK) s = firkin_iter_status(it);
  if ((s == FIRKIN_OK && n != IT_KEYS) || (s != FIRKIN_OK && s != FIRKIN_E_NO_MEMORY)) {
    fprintf(stderr, "  a transaction's iterator: %d of %d keys: %s\n", n, IT_KEYS,
            firkin_strerror(s));
    op_bad++;
  }
  firkin_iter_free(it);
  it = NULL;
  if (s == FIRKIN_OK) s = firkin_txn_range_iter_new(t, it_ns, NULL, 0, NULL, 0, 0, &it);
  if (s == FIRKIN_OK) s = it_walk(it, 0, IT_KEYS, 1, "a transaction's range");
  firkin_iter_free(it);
  firkin_txn_free(t);
  return s;
}
static int check_iterators(firkin_db *db) {
  int bad = op_bad;
  firkin_snapshot_free(it_old);
  it_old = NULL;
  if (it_ns != NULL) {
    firkin_iter *it = NULL;
    if (firkin_range_iter_new(db, NULL, it_ns, NULL, 0, NULL, 0, 0, &it) != FIRKIN_OK ||
        it_walk(it, 0, IT_KEYS, 1, "the same handle's range scan") != FIRKIN_OK) {
      bad++;
    }
    firkin_iter_free(it);
    firkin_ns_close(it_ns);
    it_ns = NULL;
  }
  return bad;
}

/* A change cursor whose step ran out of memory goes on, on the next step,
 * with the change it was reading: every change once, in order (until the
 * session after 2026-11-29 the step had already read past it: the cursor
 * ended with an OK status, and the next step skipped the change, or
 * handed out a batch without its end). */
#define CH_MAX 1000
static uint64_t ch_seq[CH_MAX];
static int ch_type[CH_MAX], ch_count, ch_seen;
static firkin_changes *ch_cur;
static void prep_changes_resume(firkin_db *db) {
  firkin_batch *b = NULL;
  firkin_batch_new(&b);
  firkin_batch_put(b, NULL, "c1", 2, "x", 1);
  firkin_batch_delete(b, NULL, "c2", 2);
  firkin_batch_put(b, NULL, "c3", 2, "yyyyyyyy", 8);
  (void)firkin_write(db, NULL, b);
  firkin_batch_free(b);
  firkin_ns *ns = NULL;
  (void)firkin_ns_open(db, "feed", true, &ns);
  (void)firkin_put(db, NULL, ns, "n", 1, "v", 1);
  firkin_ns_close(ns);
  (void)firkin_ns_drop(db, "feed");
  (void)firkin_put_ttl(db, NULL, NULL, "c4", 2, "v", 1, 3600000);
  ch_count = -1;
  firkin_changes *c = NULL;
  if (firkin_changes_open(db, 0, NULL, &c) == FIRKIN_OK) {
    int n = 0;
    for (; firkin_changes_valid(c) && n < CH_MAX; firkin_changes_next(c), n++) {
      ch_seq[n] = firkin_changes_seq(c);
      ch_type[n] = (int)firkin_changes_type(c);
    }
    if (firkin_changes_status(c) == FIRKIN_OK && !firkin_changes_valid(c)) ch_count = n;
  }
  firkin_changes_free(c);
}
static void ch_record(void) {
  if (ch_seen >= ch_count || firkin_changes_seq(ch_cur) != ch_seq[ch_seen] ||
      (int)firkin_changes_type(ch_cur) != ch_type[ch_seen]) {
    if (op_bad++ == 0) {
      fprintf(stderr, "  change %d: sequence %" PRIu64 ", type %d (want %" PRIu64 ", %d)\n",
              ch_seen, firkin_changes_seq(ch_cur), (int)firkin_changes_type(ch_cur),
              ch_seen < ch_count ? ch_seq[ch_seen] : 0, ch_seen < ch_count ? ch_type[ch_seen] : 0);
    }
  }
  ch_seen++;
}
static firkin_status op_changes_resume(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k", 0, NULL};
  op_bad = 0;
  ch_seen = 0;
  ch_cur = NULL;
  firkin_status s = firkin_changes_open(db, 0, NULL, &ch_cur);
  while (s == FIRKIN_OK && firkin_changes_valid(ch_cur)) {
    ch_record();
    s = firkin_changes_next(ch_cur);
  }
  return s;
}
static int check_changes_resume(firkin_db *db) {
  (void)db;
  if (ch_cur == NULL) return op_bad;
  const firkin_status st = firkin_changes_status(ch_cur);
  if (ch_seen < ch_count && st == FIRKIN_OK && !firkin_changes_valid(ch_cur)) {
    fprintf(stderr, "  the cursor ended OK after %d of %d changes\n", ch_seen, ch_count);
    op_bad++;
  }
  if (!firkin_changes_valid(ch_cur)) (void)firkin_changes_next(ch_cur); /* the step again */
  for (; firkin_changes_valid(ch_cur); firkin_changes_next(ch_cur)) ch_record();
  if (firkin_changes_status(ch_cur) != FIRKIN_OK || ch_seen != ch_count) {
    fprintf(stderr, "  the same cursor, stepped on: %d of %d changes: %s\n", ch_seen, ch_count,
            firkin_strerror(firkin_changes_status(ch_cur)));
    op_bad++;
  }
  firkin_changes_free(ch_cur);
  ch_cur = NULL;
  return op_bad;
}

/* firkin_rekey of another (closed) encrypted database: FIRKIN_OK and only
 * the new key opens it, or an error and only the old one does (libcrypto's
 * set-up out of memory was FIRKIN_E_INTERNAL until the session after
 * 2026-11-29). */
static char rekey_dir[600];
static firkin_options *rekey_old, *rekey_new;
static firkin_status rekey_status;
static void prep_rekey(firkin_db *db) {
  (void)db;
  snprintf(rekey_dir, sizeof rekey_dir, "%s/rekey-%d", root, (int)getpid());
  sh("rm -rf '%s'", rekey_dir);
  rekey_old = opts();
  firkin_options_set_encryption_key(rekey_old, kKey, sizeof kKey);
  rekey_new = opts();
  firkin_options_set_encryption_key(rekey_new, kNewKey, sizeof kNewKey);
  firkin_db *other = NULL;
  if (firkin_open(rekey_dir, rekey_old, &other) == FIRKIN_OK) {
    (void)put_range(other, NULL, "k", 0, 50);
    (void)firkin_close(other);
  }
}
static firkin_status op_rekey(firkin_db *db, op_result *r) {
  (void)db;
  *r = (op_result){0, 0, true, "k", 0, NULL};
  rekey_status = firkin_rekey(rekey_dir, rekey_old, rekey_new);
  return rekey_status;
}
static int check_rekey(firkin_db *db) {
  (void)db;
  int bad = 0;
  firkin_db *other = NULL;
  firkin_options *wrong = rekey_status == FIRKIN_OK ? rekey_old : rekey_new;
  firkin_options *right = rekey_status == FIRKIN_OK ? rekey_new : rekey_old;
  firkin_status s = firkin_open(rekey_dir, wrong, &other);
  if (s != FIRKIN_E_BAD_KEY) {
    fprintf(stderr, "  rekey returned %s, and the %s key opens: %s\n",
            firkin_strerror(rekey_status), rekey_status == FIRKIN_OK ? "old" : "new",
            firkin_strerror(s));
    bad++;
    if (s == FIRKIN_OK) (void)firkin_close(other);
  }
  s = firkin_open(rekey_dir, right, &other);
  bool all = false, none;
  if (s != FIRKIN_OK || read_back(other, "k", 0, 50, &all, &none) != 0 || !all) {
    fprintf(stderr, "  after rekey (%s): %s, keys all there: %d\n", firkin_strerror(rekey_status),
            firkin_strerror(s), all);
    bad++;
  }
  if (s == FIRKIN_OK) (void)firkin_close(other);
  firkin_options_free(rekey_old);
  firkin_options_free(rekey_new);
  sh("rm -rf '%s'", rekey_dir);
  return bad;
}

/* An atomic write over an ordered namespace and the default one: an
 * atomic batch (batch_ordered) or a transaction's commit (txn_ordered),
 * made ready unarmed (prep) so that the armed call is the write itself,
 * and its allocations in the install (the index's growth: thousands of
 * filler keys in few sub-tables; the ordered index's chunks: a full chunk
 * the new keys split) come within the sweep's first few hundred. Keys of
 * the ordered namespace "sorted" are numbered j (ob_key): the even ones
 * 0..598 are there before, "old-j"; the write overwrites j = 40m
 * ("new-j"), deletes j = 40m + 20 and adds j = 20m + 1 (m < 15, 15, 30),
 * and adds 20 keys "obd-NNNNN" to the default namespace. ob_state tells,
 * on a handle, whether all of it is there or none (docs/api.md,
 * NO_MEMORY: a failed atomic write is never seen in part, on the same
 * handle or after a reopen; until the session after 2026-11-29 the same
 * handle read a failed batch's first keys). */
#define OB_OLD 300   /* ordered keys there before: j = 0, 2, ..., 598 */
#define OB_NEW 30    /* ordered keys the write adds: j = 20m + 1 */
#define OB_EACH 15   /* overwrites (j = 40m), deletes (j = 40m + 20) */
#define OB_DEF 20    /* default-namespace keys the write adds */
#define OB_FILL 4000 /* default-namespace filler keys (index growth) */
static firkin_ns *ob_ns;
static firkin_batch *ob_batch;
static firkin_txn *ob_txn;
static void ob_key(char *k, size_t cap, int j) {
  snprintf(k, cap, "ordered-batch-key-with-a-long-common-part-%05d", j);
}
static void ob_val(char *v, size_t cap, int j, bool new_value) {
  snprintf(v, cap, "%s-%d", new_value ? "new" : "old", j);
}
static void obd_val(char *v, size_t cap, int i) {
  snprintf(v, cap, "default-namespace-value-%d", i);
}
/* What the write does to ordered key j: 0 nothing, 1 overwrite, 2 delete, 3 add. */
static int ob_role(int j) {
  if (j % 2 == 1) return j % 20 == 1 && j < 20 * OB_NEW ? 3 : 0;
  if (j >= 2 * OB_OLD) return 0;
  if (j % 40 == 0 && j < 40 * OB_EACH) return 1;
  if (j % 40 == 20 && j < 40 * OB_EACH) return 2;
  return 0;
}
static void prep_ob_common(firkin_db *db) {
  ob_ns = NULL;
  (void)firkin_ns_create_v2(db, "sorted", FIRKIN_NS_ORDERED, &ob_ns);
  (void)put_range(db, NULL, "p", 0, OB_FILL);
  char k[80], v[32];
  for (int j = 0; j < 2 * OB_OLD; j += 2) { /* ascending: full chunks */
    ob_key(k, sizeof k, j);
    ob_val(v, sizeof v, j, false);
    (void)firkin_put(db, NULL, ob_ns, k, strlen(k), v, strlen(v));
  }
}
/* Each op of the write, through put(ns, k, v) / del(ns, k). */
static firkin_status ob_ops(void *h, firkin_status (*put)(void *, const firkin_ns *, const char *,
                                                          const char *),
                            firkin_status (*del)(void *, const firkin_ns *, const char *)) {
  char k[80], v[256];
  firkin_status s = FIRKIN_OK;
  for (int j = 0; j < 20 * OB_NEW && s == FIRKIN_OK; j++) {
    const int role = ob_role(j);
    if (role == 0) continue;
    ob_key(k, sizeof k, j);
    ob_val(v, sizeof v, j, true);
    s = role == 2 ? del(h, ob_ns, k) : put(h, ob_ns, k, v);
  }
  for (int i = 0; i < OB_DEF && s == FIRKIN_OK; i++) {
    key_name(k, sizeof k, "obd", i);
    obd_val(v, sizeof v, i);
    s = put(h, NULL, k, v);
  }
  return s;
}
static firkin_status ob_batch_put(void *h, const firkin_ns *ns, const char *k, const char *v) {
  return firkin_batch_put(h, ns, k, strlen(k), v, strlen(v));
}
static firkin_status ob_batch_del(void *h, const firkin_ns *ns, const char *k) {
  return firkin_batch_delete(h, ns, k, strlen(k));
}
static firkin_status ob_txn_put(void *h, const firkin_ns *ns, const char *k, const char *v) {
  return firkin_txn_put(h, ns, k, strlen(k), v, strlen(v));
}
static firkin_status ob_txn_del(void *h, const firkin_ns *ns, const char *k) {
  return firkin_txn_delete(h, ns, k, strlen(k));
}
static void prep_batch_ordered(firkin_db *db) {
  prep_ob_common(db);
  ob_batch = NULL;
  if (firkin_batch_new(&ob_batch) == FIRKIN_OK && ob_ns != NULL) {
    (void)ob_ops(ob_batch, ob_batch_put, ob_batch_del);
  }
}
static void prep_txn_ordered(firkin_db *db) {
  prep_ob_common(db);
  ob_txn = NULL;
  if (firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &ob_txn) == FIRKIN_OK && ob_ns != NULL) {
    (void)ob_ops(ob_txn, ob_txn_put, ob_txn_del);
  }
}
/* 1: the write is there whole on db; 0: none of it; -1: in part, or a key
 * or the namespace's count or range scan is wrong. db: the handle of the
 * armed call, or one opened again (a namespace handle of its own). */
static int ob_state(firkin_db *db) {
  firkin_ns *ns = NULL;
  if (firkin_ns_open(db, "sorted", false, &ns) != FIRKIN_OK) {
    fprintf(stderr, "  ob_state: the namespace: %s\n", firkin_last_error());
    return -1;
  }
  int there = 0, absent = 0, bad = 0, changes = 0;
  char k[80], v[256], got[256];
  /* each change the write makes: there (applied) or absent (not) */
  for (int j = 0; j < 2 * OB_OLD || j < 20 * OB_NEW; j++) {
    const int role = ob_role(j);
    const bool was = j % 2 == 0 && j < 2 * OB_OLD;
    if (!was && role == 0) continue;
    ob_key(k, sizeof k, j);
    size_t gl = 0;
    const firkin_status s = firkin_get_into(db, NULL, ns, k, strlen(k), got, sizeof got, &gl);
    if (s != FIRKIN_OK && s != FIRKIN_E_NOT_FOUND) {
      fprintf(stderr, "  ob_state: ordered key %d: %s\n", j, firkin_strerror(s));
      bad++;
      continue;
    }
    const bool is_new = s == FIRKIN_OK && gl >= 4 && memcmp(got, "new-", 4) == 0;
    if (s == FIRKIN_OK) {
      ob_val(v, sizeof v, j, is_new);
      if (gl != strlen(v) || memcmp(got, v, gl) != 0) {
        fprintf(stderr, "  ob_state: ordered key %d: a value of %zu bytes not its own\n", j, gl);
        bad++;
        continue;
      }
    }
    if (role == 0) {
      if (s != FIRKIN_OK || is_new) {
        fprintf(stderr, "  ob_state: ordered key %d, which the write leaves, %s\n", j,
                s != FIRKIN_OK ? "is gone" : "changed");
        bad++;
      }
      continue;
    }
    changes++;
    const bool applied = role == 2 ? s == FIRKIN_E_NOT_FOUND : s == FIRKIN_OK && is_new;
    const bool before = role == 3 ? s == FIRKIN_E_NOT_FOUND : s == FIRKIN_OK && !is_new;
    if (applied) there++;
    else if (before) absent++;
    else bad++;
  }
  for (int i = 0; i < OB_DEF; i++) {
    key_name(k, sizeof k, "obd", i);
    obd_val(v, sizeof v, i);
    size_t gl = 0;
    const firkin_status s = firkin_get_into(db, NULL, NULL, k, strlen(k), got, sizeof got, &gl);
    changes++;
    if (s == FIRKIN_OK && gl == strlen(v) && memcmp(got, v, gl) == 0) there++;
    else if (s == FIRKIN_E_NOT_FOUND) absent++;
    else bad++;
  }
  const bool all = there == changes, none = absent == changes;
  if (bad != 0 || !(all || none)) {
    fprintf(stderr, "  ob_state: %d of %d changes there, %d absent, %d wrong\n", there, changes,
            absent, bad);
    firkin_ns_close(ns);
    return -1;
  }
  /* the namespace's count and its range scan: the same state, in order */
  const uint64_t want = all ? OB_OLD - OB_EACH + OB_NEW : OB_OLD;
  uint64_t c = 0;
  if (firkin_count(db, ns, &c) != FIRKIN_OK || c != want) {
    fprintf(stderr, "  ob_state: count %" PRIu64 ", want %" PRIu64 " (%s)\n", c, want,
            all ? "all" : "none");
    bad++;
  }
  firkin_iter *it = NULL;
  uint64_t seen = 0;
  if (firkin_range_iter_new(db, NULL, ns, NULL, 0, NULL, 0, 0, &it) == FIRKIN_OK) {
    int j = -1;
    for (; firkin_iter_valid(it); firkin_iter_next(it)) {
      /* the next key the state holds */
      for (j++; j < 2 * OB_OLD || j < 20 * OB_NEW; j++) {
        const int role = ob_role(j);
        const bool was = j % 2 == 0 && j < 2 * OB_OLD;
        if (all ? (role == 3 || (was && role != 2)) : was) break;
      }
      const void *kp = NULL;
      size_t kl = 0;
      firkin_iter_key(it, &kp, &kl);
      ob_key(k, sizeof k, j);
      if (kl != strlen(k) || memcmp(kp, k, kl) != 0) {
        if (bad++ == 0) {
          fprintf(stderr, "  ob_state: the range scan's key %" PRIu64 " is '%.*s', want '%s'\n",
                  seen, (int)kl, (const char *)kp, k);
        }
        break;
      }
      seen++;
    }
    if (firkin_iter_status(it) != FIRKIN_OK || (bad == 0 && seen != want)) {
      fprintf(stderr, "  ob_state: the range scan: %" PRIu64 " keys (want %" PRIu64 "): %s\n",
              seen, want, firkin_strerror(firkin_iter_status(it)));
      bad++;
    }
    firkin_iter_free(it);
  } else {
    fprintf(stderr, "  ob_state: the range scan: %s\n", firkin_last_error());
    bad++;
  }
  firkin_ns_close(ns);
  return bad != 0 ? -1 : all ? 1 : 0;
}
static firkin_status op_batch_ordered(firkin_db *db, op_result *r) {
  *r = (op_result){0, 0, true, "k", 0, ob_state};
  if (ob_ns == NULL || ob_batch == NULL) {
    r->state = NULL;
    return FIRKIN_OK;  /* (the prep ran out of nothing; never expected) */
  }
  const firkin_status s = firkin_write(db, NULL, ob_batch);
  firkin_batch_free(ob_batch);
  ob_batch = NULL;
  firkin_ns_close(ob_ns);
  ob_ns = NULL;
  return s;
}
static firkin_status op_txn_ordered(firkin_db *db, op_result *r) {
  (void)db; /* (the transaction's) */
  *r = (op_result){0, 0, true, "k", 0, ob_state};
  if (ob_ns == NULL || ob_txn == NULL) {
    r->state = NULL;
    return FIRKIN_OK;
  }
  const firkin_status s = firkin_txn_commit(ob_txn, NULL, NULL);
  firkin_txn_free(ob_txn);
  ob_txn = NULL;
  firkin_ns_close(ob_ns);
  ob_ns = NULL;
  return s;
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

/* Whether db holds what the operation reported (r, s), on its own handle
 * right after it (where: "the same handle") and after the reopen: an
 * acknowledged write whole; a failed atomic one all of it or none
 * (r->state, or its keys); a non-atomic one that stopped, every key it
 * acknowledged, the key it failed on either way, and none of the keys it
 * never got to (not claimed). 0 = as it should be. */
static int check_written(firkin_db *db, firkin_status s, const op_result *r, const char *where,
                         long nth) {
  bool all, none;
  if (r->state != NULL) {
    const int st = r->state(db);
    if (st < 0 || (s == FIRKIN_OK && st != 1)) {
      fprintf(stderr, "  %s: the %s write is %s (n=%ld)\n", where,
              s == FIRKIN_OK ? "acknowledged" : "failed", st < 0 ? "there in part" : "missing",
              nth);
      return 1;
    }
    return 0;
  }
  if (!r->atomic && r->planned > 0) {
    if (r->count > 0 && (read_back(db, r->tag, r->first, r->count, &all, &none) != 0 || !all)) {
      fprintf(stderr, "  %s: keys of the %d acknowledged lost (n=%ld)\n", where, r->count, nth);
      return 1;
    }
    const int rest_from = r->first + r->count + (s == FIRKIN_OK ? 0 : 1);
    const int rest = r->first + r->planned - rest_from;
    if (rest > 0 && (read_back(db, r->tag, rest_from, rest, &all, &none) != 0 || !none)) {
      fprintf(stderr, "  %s: keys past the %d acknowledged and the one that failed are there (n=%ld)\n",
              where, r->count, nth);
      return 1;
    }
    return 0;
  }
  if (r->count <= 0) return 0;
  if (read_back(db, r->tag, r->first, r->count, &all, &none) != 0 ||
      !(s == FIRKIN_OK ? all : (all || none))) {
    fprintf(stderr, "  %s: %s (n=%ld)\n", where,
            s == FIRKIN_OK ? "an acknowledged write lost"
            : r->atomic   ? "a failed batch half applied"
                          : "keys wrong",
            nth);
    return 1;
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
  armed_call call = {fn, db, nth, sticky, {0, 0, false, NULL, 0, NULL}, FIRKIN_OK, false};
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
  /* The operation's own writes, on the same handle: as the reopen will
   * find them (until the session after 2026-11-29 the same handle read the
   * first keys of a batch that failed, until it was reopened). */
  CHECK(check_written(db, s, &r, "the same handle", nth) == 0,
        "the same handle after n=%ld%s (%s)", nth, sticky ? ", sticky" : "", firkin_strerror(s));
  CHECK(check == NULL || check(db) == 0, "the operation's check on the same handle (n=%ld)", nth);
  /* Nothing the operation made is left registered: a snapshot left behind
   * holds history and keeps updates in place off for good (iterators,
   * snapshots and transactions made while memory ran out left theirs
   * until 2026-11-29). */
  const long long snaps = stat_num(db, "snapshots");
  CHECK(snaps == 0, "%lld snapshots left registered after n=%ld", snaps, nth);
  /* Unarmed again: a put either works or reports the failed log. */
  const firkin_status after = firkin_put(db, NULL, NULL, "after", 5, "a", 1);
  CHECK(status_allowed(after) || after == FIRKIN_E_IO, "a put after the failure: %s",
        firkin_strerror(after));
  (void)firkin_close(db); /* may report the failed log; must return */
  CHECK(firkin_open(dir, o, &db) == FIRKIN_OK, "reopen after n=%ld", nth);
  bool all, none;
  CHECK(read_back(db, "k", 0, SETUP_KEYS, &all, &none) == 0 && all,
        "setup keys lost after n=%ld", nth);
  CHECK(check_written(db, s, &r, "after the reopen", nth) == 0,
        "after the reopen, n=%ld%s (%s)", nth, sticky ? ", sticky" : "", firkin_strerror(s));
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

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *w) {
  (void)st;
  (void)flag;
  (void)w;
  return remove(p);
}
/* rm -rf without a shell: the sweeps remove a directory twice per n, and a
 * system() each (a fork and exec of sh, then of rm) took about a third of
 * the program's time. A directory that is not there is not an error. */
static void rm_tree(const char *dir) { (void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Runs op with n = 1, 2, ... (each in a child) until it needs fewer
 * allocations than n; returns failures. */
static int sweep(const char *name, op_fn fn, prep_fn prep, check_fn check, bool sticky,
                 bool fresh) {
  char dir[512];
  int bad = 0, in_a_row = 0;
  long step = 1;
  long n = 1;
  for (; n < 200000; n += step) {
    /* (Every n in a --long run; else every n to 48, then every 11th to 512
     * and every 53rd after, from sweep_offset on: the sweeps of backup,
     * verify and restore reach thousands of allocations, and make test runs
     * oom_test as one program. The offset changes from run to run, so that
     * runs together cover every n.) */
    if (!long_run && n >= 48) {
      if (n == 48) n += sweep_offset % 11;
      step = n < 512 ? 11 : 53;
    }
    if (in_a_row == 10) { /* a case that fails at every n would run on to the alarm */
      fprintf(stderr, "  %s: stopped after 10 failures in a row\n", name);
      break;
    }
    snprintf(dir, sizeof dir, "%s/%s-%ld", root, name, n);
    rm_tree(dir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
      alarm(30);
      _exit(armed_run(dir, fn, prep, check, n, sticky, fresh));
    }
    int st = 0;
    waitpid(pid, &st, 0);
    rm_tree(dir);
    if (WIFEXITED(st) && WEXITSTATUS(st) == DONE) break;
    in_a_row = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : in_a_row + 1;
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
  bool enc;       /* an encrypted database */
} named_op;

static const named_op kOps[] = {
    {"put", op_put, NULL, NULL, true, false},
    {"put_always", op_put_always, NULL, NULL, false, false},
    {"many_puts", op_many_puts, NULL, NULL, false, false},
    {"batch", op_batch, NULL, NULL, true, false},
    {"cas", op_cas, NULL, NULL, true, false},
    {"txn", op_txn, NULL, NULL, true, false},
    {"ns", op_ns, NULL, NULL, false, false},
    {"checkpoint", op_checkpoint, NULL, NULL, false, false},
    {"compact", op_compact, prep_compact, NULL, false, false},
    {"sync", op_sync, NULL, NULL, false, false},
    {"reads", op_reads, NULL, NULL, true, false},
    {"changes", op_changes, NULL, NULL, true, false},
    {"backup", op_backup, NULL, NULL, false, false},
    {"verify", op_verify, NULL, NULL, false, false},
    {"ordered", op_ordered, prep_ordered, check_ordered, true, false},
    {"refresh", op_refresh, prep_refresh, check_refresh, true, false},
    {"multi_get", op_multi_get, NULL, check_op_bad, false, false},
    {"iterators", op_iterators, prep_iterators, check_iterators, false, false},
    {"changes_resume", op_changes_resume, prep_changes_resume, check_changes_resume, false, false},
    /* an atomic write over an ordered namespace and the default one,
     * overwrites, deletes and new keys: a batch, a transaction's commit */
    {"batch_ordered", op_batch_ordered, prep_batch_ordered, NULL, false, false},
    {"txn_ordered", op_txn_ordered, prep_txn_ordered, NULL, false, false},
    {"rekey", op_rekey, prep_rekey, check_rekey, false, false},
    {"open_recover", op_open_second, prep_open_recover, check_open_second, false, false},
    {"open_checkpoint", op_open_second, prep_open_checkpoint, check_open_second, false, false},
    /* encrypted: a roll's and compaction's seal clock, compaction's done
     * marker (a MAC that could not be computed was written as a forged
     * one until 2026-11-29: verify failed, and so did
     * every verified backup), a backup's copies of them */
    {"enc_compact", op_compact, prep_compact, NULL, false, true},
    {"enc_backup", op_backup, NULL, NULL, false, true},
    /* sealed keys: the ordered index decrypts the keys it compares and
     * rebuilds a chunk's prefix from (a chunk left with bits of another
     * prefix by a rebuild that ran out of memory: until the session after
     * 2026-11-29) */
    {"enc_ordered", op_ordered, prep_ordered, check_ordered, false, true},
    {"enc_batch_ordered", op_batch_ordered, prep_batch_ordered, NULL, false, true},
};

static const named_op *current;
static int t_sweep_once(void) {
  enc_mode = current->enc;
  return sweep(current->name, current->fn, current->prep, current->check, false, false) == 0 ? 0
                                                                                            : 1;
}
static int t_sweep_sticky(void) {
  enc_mode = current->enc;
  return sweep(current->name, current->fn, current->prep, current->check, true, false) == 0 ? 0
                                                                                           : 1;
}
static int t_sweep_fresh(void) {
  enc_mode = current->enc;
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
/* ---- inplace_after_fail ------------------------------------------------ */

static firkin_db *iaf_db;
static int iaf_op;
static long iaf_n;
static firkin_status iaf_status;
static void *iaf_thread(void *arg) {
  (void)arg;
  af_fail_nth(iaf_n, false);
  if (iaf_op == 0) {
    firkin_snapshot *s = NULL;
    iaf_status = firkin_snapshot_new(iaf_db, &s);
    af_off();
    firkin_snapshot_free(s);
  } else if (iaf_op == 1) {
    uint64_t c = 0;
    iaf_status = firkin_count(iaf_db, NULL, &c);  /* a walk: a key expired */
    af_off();
  } else if (iaf_op == 2) {
    firkin_changes *c = NULL;
    iaf_status = firkin_changes_open(iaf_db, 0, NULL, &c);
    af_off();
    firkin_changes_free(c);
  } else if (iaf_op == 3) {
    firkin_iter *it = NULL;
    iaf_status = firkin_iter_new(iaf_db, NULL, NULL, &it);
    af_off();
    firkin_iter_free(it);
  } else {
    char *rep = NULL;
    iaf_status = firkin_verify(iaf_db, &rep);
    af_off();
    firkin_free(rep);
  }
  return NULL;
}
static long iaf_in_place(void) {
  char *js = NULL;
  if (firkin_stats(iaf_db, &js) != FIRKIN_OK) return -1;
  const char *p = strstr(js, "\"in_place_updates\":");
  const long v = p != NULL ? atol(p + strlen("\"in_place_updates\":")) : -1;
  firkin_free(js);
  return v;
}
static int t_inplace_after_fail(void) {
  static const char *names[] = {"snapshot", "count", "changes_open", "iter_new", "verify"};
  int bad = 0;
  for (iaf_op = 0; iaf_op < 5; iaf_op++) {
    for (iaf_n = 1; iaf_n <= 40; iaf_n++) {
      char dir[512];
      snprintf(dir, sizeof dir, "%s/iaf-%d-%ld", root, iaf_op, iaf_n);
      firkin_options *o = opts();
      const firkin_status os = firkin_open(dir, o, &iaf_db);
      firkin_options_free(o);
      if (os != FIRKIN_OK) {
        printf("  open %s: %s\n", dir, firkin_last_error());
        return 1;
      }
      if (iaf_op == 1) {
        firkin_put_ttl(iaf_db, NULL, NULL, "ttl", 3, "v", 1, 1);
        usleep(5000);
      }
      firkin_put(iaf_db, NULL, NULL, "hot", 3, "v0", 2);
      pthread_t t;
      pthread_create(&t, NULL, iaf_thread, NULL);
      pthread_join(t, NULL);
      const long before = iaf_in_place();
      for (int i = 0; i < 200; i++) firkin_put(iaf_db, NULL, NULL, "hot", 3, "v1", 2);
      const long after = iaf_in_place();
      if (after <= before && bad++ < 5) {
        printf("  %s failing at allocation %ld (%s): none of 200 puts of one key went in place "
               "after it (in_place_updates %ld)\n",
               names[iaf_op], iaf_n, firkin_strerror(iaf_status), after);
      }
      firkin_close(iaf_db);
      sh("rm -rf '%s'", dir);
    }
  }
  return bad == 0 ? 0 : 1;
}

static int t_background_rare(void) { return background(200); }
static int t_background_often(void) { return background(5000); }

int main(int argc, char **argv) {
  long_run = getenv("FIRKIN_OOM_LONG") != NULL || (argc > 1 && strcmp(argv[1], "--long") == 0);
  snprintf(root, sizeof root, "/tmp/firkin-oom-%d", (int)getpid());
  sh("rm -rf '%s'; mkdir -p '%s'", root, root);
  forked_case_alarm_s = long_run ? 3600 : 600;
  const char *off = getenv("FIRKIN_OOM_OFFSET");
  sweep_offset = off != NULL ? atol(off) : (long)getpid();
  if (sweep_offset < 0) sweep_offset = -sweep_offset;
  if (!long_run) printf("sweep offset %ld (FIRKIN_OOM_OFFSET=%ld replays it)\n", sweep_offset % 11, sweep_offset % 11);
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
      enc_mode = kOps[i].enc;
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
    run("inplace_after_fail: a new thread's first call that runs out of memory leaves updates "
        "in place on", t_inplace_after_fail);
    run("background_rare: 4 writers, compaction, checkpoints; 1 allocation in 5,000 fails",
        t_background_rare);
    run("background_often: the same, 1 allocation in 200 fails", t_background_often);
  } else {
    printf("skip background_* (a sanitizer's allocator)\n");
  }
  sh("rm -rf '%s'", root);
  return forked_cases_summary();
}
