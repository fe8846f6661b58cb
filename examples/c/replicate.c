/*
 * replicate.c — keeps a second database in sync from the change feed.
 *
 *   replicate DIR     (works in DIR/replicate.PID, removed at the end)
 *
 * A writer thread changes DIR/primary (puts, deletes, batches across
 * namespaces, namespace creation and drop) while the replicator follows the
 * primary's change feed (firkin_changes_wait: woken by each write) and
 * applies every change to DIR/replica. Each change is applied together with
 * the sequence number it came from, in one atomic batch, under the key
 * "applied_seq" of the replica's namespace "_replica"; so the replica always
 * knows exactly where it is. Half-way through, the replicator "crashes"
 * (closes the replica without warning) and restarts, resuming from the
 * sequence number stored in the replica. At the end both databases must hold
 * the same namespaces, keys and values. Ends with "N passed, N failed".
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firkin.h"

#define META_NS "_replica"
#define META_KEY "applied_seq"

static int passed, failed;
static void check(bool ok, const char *what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("FAIL: %s (last error: %s)\n", what, firkin_last_error());
  }
}

static void die(firkin_status st, const char *what) {
  fprintf(stderr, "%s: %s: %s\n", what, firkin_strerror(st), firkin_last_error());
  exit(1);
}
#define TRY(call)                          \
  do {                                     \
    firkin_status st_ = (call);            \
    if (st_ != FIRKIN_OK) die(st_, #call); \
  } while (0)

/* ---- the writer: a workload on the primary ---- */

enum { kRounds = 3000 };

static void *writer(void *arg) {
  firkin_db *db = arg;
  firkin_ns *users = NULL, *tmp = NULL;
  TRY(firkin_ns_open(db, "users", true, &users));
  for (int i = 0; i < kRounds; i++) {
    char k[32], v[64];
    int kl = snprintf(k, sizeof k, "key-%d", i % 500);
    int vl = snprintf(v, sizeof v, "value-%d", i);
    switch (i % 10) {
      case 0: case 1: case 2: case 3:
        TRY(firkin_put(db, NULL, NULL, k, (size_t)kl, v, (size_t)vl));
        break;
      case 4:
        TRY(firkin_delete(db, NULL, NULL, k, (size_t)kl));
        break;
      case 5: case 6:
        TRY(firkin_put(db, NULL, users, k, (size_t)kl, v, (size_t)vl));
        break;
      case 7: { /* a batch across namespaces */
        firkin_batch *b = NULL;
        TRY(firkin_batch_new(&b));
        TRY(firkin_batch_put(b, NULL, k, (size_t)kl, "batched", 7));
        TRY(firkin_batch_put(b, users, k, (size_t)kl, "batched", 7));
        TRY(firkin_batch_delete(b, users, "key-1", 5));
        TRY(firkin_write(db, NULL, b));
        firkin_batch_free(b);
        break;
      }
      case 8: /* a namespace that comes and goes */
        if (i % 200 == 8) {
          firkin_ns_close(tmp);
          tmp = NULL;
          firkin_ns_drop(db, "scratch"); /* absent the first time */
          TRY(firkin_ns_open(db, "scratch", true, &tmp));
        }
        if (tmp != NULL) TRY(firkin_put(db, NULL, tmp, k, (size_t)kl, v, (size_t)vl));
        break;
      default: { /* binary keys and values */
        unsigned char bk[3] = {0, (unsigned char)(i & 0xff), 0xff};
        TRY(firkin_put(db, NULL, NULL, bk, 3, "\0\1", 2));
      }
    }
  }
  firkin_ns_close(tmp);
  firkin_ns_close(users);
  return NULL;
}

/* ---- the replicator ---- */

struct replica {
  firkin_db *db;
  firkin_ns *meta;
  firkin_batch *batch; /* the batch being applied (one source write) */
  uint64_t applied;    /* the last source sequence number applied */
};

static firkin_ns *ns_of(struct replica *r, const char *name, firkin_ns **slot) {
  firkin_ns_close(*slot);
  *slot = NULL;
  if (strcmp(name, "default") == 0) return NULL;
  TRY(firkin_ns_open(r->db, name, true, slot));
  return *slot;
}

static void replica_open(struct replica *r, const char *path) {
  memset(r, 0, sizeof *r);
  TRY(firkin_open(path, NULL, &r->db));
  TRY(firkin_ns_open(r->db, META_NS, true, &r->meta));
  void *v = NULL;
  size_t vl = 0;
  firkin_status st = firkin_get(r->db, NULL, r->meta, META_KEY, strlen(META_KEY), &v, &vl);
  if (st == FIRKIN_OK && vl == 8) memcpy(&r->applied, v, 8);
  else if (st != FIRKIN_E_NOT_FOUND) die(st, "read applied_seq");
  firkin_free(v);
  TRY(firkin_batch_new(&r->batch));
}

static void replica_close(struct replica *r) {
  firkin_batch_free(r->batch);
  firkin_ns_close(r->meta);
  TRY(firkin_close(r->db));
}

/* Writes the pending batch together with the new position, atomically. */
static void commit(struct replica *r, uint64_t seq) {
  TRY(firkin_batch_put(r->batch, r->meta, META_KEY, strlen(META_KEY), &seq, 8));
  TRY(firkin_write(r->db, NULL, r->batch));
  TRY(firkin_batch_clear(r->batch));
  r->applied = seq;
}

/* Applies the changes available now, at most `max`; returns how many. */
static long apply_some(struct replica *r, firkin_changes *c, long max) {
  long n = 0;
  bool in_batch = false;
  firkin_ns *ns = NULL;
  for (; firkin_changes_valid(c) && (in_batch || n < max); firkin_changes_next(c)) {
    const uint64_t seq = firkin_changes_seq(c);
    const char *name = firkin_changes_namespace(c);
    const void *k, *v;
    size_t kl, vl;
    firkin_changes_key(c, &k, &kl);
    firkin_changes_value(c, &v, &vl);
    switch (firkin_changes_type(c)) {
      case FIRKIN_CHANGE_BATCH_BEGIN:
        in_batch = true;
        continue;
      case FIRKIN_CHANGE_BATCH_END:
        in_batch = false;
        commit(r, seq);
        n++;
        continue;
      case FIRKIN_CHANGE_PUT:
        TRY(firkin_batch_put(r->batch, ns_of(r, name, &ns), k, kl, v, vl));
        break;
      case FIRKIN_CHANGE_DELETE:
        TRY(firkin_batch_delete(r->batch, ns_of(r, name, &ns), k, kl));
        break;
      case FIRKIN_CHANGE_NS_CREATE: /* idempotent: a replay after a crash is harmless */
        ns_of(r, name, &ns);
        break;
      case FIRKIN_CHANGE_NS_DROP: {
        firkin_ns_close(ns);
        ns = NULL;
        firkin_status st = firkin_ns_drop(r->db, name);
        if (st != FIRKIN_OK && st != FIRKIN_E_NAMESPACE_NOT_FOUND) die(st, "ns_drop");
        break;
      }
      default: /* a kind this replicator does not know: stop rather than diverge */
        fprintf(stderr, "unknown change type %d\n", (int)firkin_changes_type(c));
        exit(1);
    }
    if (!in_batch) {
      commit(r, seq);
      n++;
    }
  }
  firkin_ns_close(ns);
  TRY(firkin_changes_status(c));
  return n;
}

/* ---- comparing the two ---- */

static bool same_contents(firkin_db *a, firkin_db *b) {
  char *names = NULL;
  TRY(firkin_ns_list(a, &names));
  bool same = true;
  uint64_t namespaces = 0;
  for (char *name = strtok(names, "\n"); name != NULL && same; name = strtok(NULL, "\n")) {
    firkin_ns *na = NULL, *nb = NULL;
    TRY(firkin_ns_open(a, name, false, &na));
    if (firkin_ns_open(b, name, false, &nb) != FIRKIN_OK) {
      printf("namespace %s missing from the replica\n", name);
      firkin_ns_close(na);
      same = false;
      break;
    }
    namespaces++;
    uint64_t ca = 0, cb = 0;
    TRY(firkin_count(a, na, &ca));
    TRY(firkin_count(b, nb, &cb));
    if (ca != cb) {
      printf("namespace %s: %llu keys in the primary, %llu in the replica\n", name,
             (unsigned long long)ca, (unsigned long long)cb);
      same = false;
    }
    firkin_iter *it = NULL;
    TRY(firkin_iter_new(a, NULL, na, &it));
    for (; same && firkin_iter_valid(it); firkin_iter_next(it)) {
      const void *k, *v;
      size_t kl, vl;
      firkin_iter_key(it, &k, &kl);
      firkin_iter_value(it, &v, &vl);
      void *w = NULL;
      size_t wl = 0;
      if (firkin_get(b, NULL, nb, k, kl, &w, &wl) != FIRKIN_OK || wl != vl ||
          (vl && memcmp(v, w, vl) != 0)) {
        printf("namespace %s: a key differs\n", name);
        same = false;
      }
      firkin_free(w);
    }
    firkin_iter_free(it);
    firkin_ns_close(na);
    firkin_ns_close(nb);
  }
  firkin_free(names);
  /* The replica has no namespace the primary lacks (besides its own). */
  TRY(firkin_ns_list(b, &names));
  uint64_t nb_count = 0;
  for (char *name = strtok(names, "\n"); name != NULL; name = strtok(NULL, "\n")) {
    if (strcmp(name, META_NS) != 0) nb_count++;
  }
  firkin_free(names);
  if (same && nb_count != namespaces) {
    printf("the replica has %llu namespaces, the primary %llu\n", (unsigned long long)nb_count,
           (unsigned long long)namespaces);
    same = false;
  }
  return same;
}

static int rm_entry(const char *p, const struct stat *s, int f, struct FTW *w) {
  (void)s; (void)f; (void)w;
  return remove(p);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: replicate DIR\n");
    return 2;
  }
  char dir[4096], pp[4200], rp[4200];
  snprintf(dir, sizeof dir, "%s/replicate.%d", argv[1], (int)getpid());
  mkdir(argv[1], 0755);
  mkdir(dir, 0755);
  snprintf(pp, sizeof pp, "%s/primary", dir);
  snprintf(rp, sizeof rp, "%s/replica", dir);

  firkin_options *o = NULL;
  TRY(firkin_options_new(&o));
  /* Small segments and eager compaction, with enough change history kept
   * for a replica that falls this far behind. */
  TRY(firkin_options_set(o, "segment_size", "64K"));
  TRY(firkin_options_set(o, "change_retention_seqs", "100000"));
  firkin_db *primary = NULL;
  TRY(firkin_open(pp, o, &primary));
  firkin_options_free(o);

  pthread_t th;
  pthread_create(&th, NULL, writer, primary);

  /* Follow until about half the workload, then stop without warning. */
  struct replica r;
  replica_open(&r, rp);
  firkin_changes *c = NULL;
  TRY(firkin_changes_open(primary, r.applied, NULL, &c));
  long applied = 0;
  while (applied < kRounds / 2) {
    applied += apply_some(&r, c, kRounds / 2 - applied);
    if (!firkin_changes_valid(c)) TRY(firkin_changes_wait(c, 1000));
  }
  firkin_changes_free(c);
  const uint64_t stopped_at = r.applied;
  replica_close(&r);

  /* Restart: resume from the position stored in the replica itself. */
  replica_open(&r, rp);
  check(r.applied == stopped_at, "the replica remembers where it stopped");
  TRY(firkin_changes_open(primary, r.applied, NULL, &c));
  bool writer_done = false;
  for (;;) {
    apply_some(&r, c, 1L << 40);
    TRY(firkin_changes_status(c)); /* a cursor that fell behind ends here */
    uint64_t last = 0;
    TRY(firkin_last_seq(primary, &last));
    /* Caught up: the cursor has read every number the primary handed out
     * (its position, not the last change applied: a number may hold no
     * change, firkin_changes_position). */
    if (writer_done && firkin_changes_position(c) == last) break;
    if (!writer_done) {
      /* The writer is done once it has returned; join it when the feed
       * has caught up with what exists. */
      TRY(firkin_changes_wait(c, 200));
      if (!firkin_changes_valid(c)) {
        pthread_join(th, NULL);
        writer_done = true;
      }
    }
  }
  const uint64_t read = firkin_changes_position(c);
  firkin_changes_free(c);
  uint64_t last = 0;
  firkin_last_seq(primary, &last);
  printf("primary at sequence %llu; replica applied up to %llu (restarted at %llu)\n",
         (unsigned long long)last, (unsigned long long)r.applied,
         (unsigned long long)stopped_at);
  check(read == last && r.applied <= last, "the replica caught up");
  check(same_contents(primary, r.db), "the replica matches the primary");
  replica_close(&r);
  TRY(firkin_close(primary));
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
