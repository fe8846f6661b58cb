/*
 * powerloss_test — crash-safety suite 2: simulated power loss through the
 * fault-injecting environment (firkin_testing.h; DESIGN §3 promises 2-3,
 * §11.2-4).
 *
 * Part A, ordered images. One thread runs a random workload (puts with
 * overwrites, deletes, batches of 2..8, an occasional explicit firkin_sync,
 * firkin_compact and firkin_checkpoint when the core has them) on a database
 * opened through a fault environment with 64 KiB segments, so segments roll
 * (and, with the planted SKIP_DIR_SYNC bug, new segments disappear). The
 * power fails (firkin_fault_env_crash with DROP, PREFIX or GARBAGE) when the
 * environment has counted k syncs (k random up to the workload's total, so
 * crash points spread over every sync), or after a random op. The database
 * is reopened without the fault environment and compared with the history
 * of acknowledged ops:
 *   - the recovered state must equal the state after some prefix p of the
 *     acknowledged ops (no hole; a batch is one op, so all or nothing);
 *   - `always`: p = all acknowledged ops;
 *   - `none`/`interval`: p >= the ops acknowledged before the last
 *     successful firkin_sync; the ops after p are the lost suffix;
 *   - every value read is an intact value of its key.
 * Self-check: `none` + DROP images must lose writes in some images (the
 * harness bites), and `always` images must have crashed with acknowledged
 * writes after the last segment roll.
 *
 * Part D, the bank invariant: four threads transfer money in transactions
 * while the power fails; the reopened total is exact, and in `always` mode
 * every acknowledged transfer is there.
 *
 * Part B, group commit. Twelve threads write in `always` mode (disjoint keys,
 * batches too) while the power fails at a random moment; every write that
 * was acknowledged before the crash must be present, the in-flight ones
 * (one per thread) all or nothing.
 *
 * Part E, a durable write right after a roll whose seal is held queued.
 *
 * Part F, the watermark on disk after durable writes: it trails the last
 * group commit only until syncs pause (see pf_image).
 *
 * Part H, a kill -9 (CRASH_KILL: the files keep every byte written) after
 * in-place updates in the segment that follows one whose seal is held
 * queued: nothing acknowledged may be lost (see ph_image).
 *
 * Part G, power loss with in-place updates: Part A's method with a
 * workload of hot keys and values of fixed lengths, so that puts overwrite
 * their key's record in the unsynced tail (see pg_image). Replay one image:
 * --inplace-image MODE CRASH SEED [K] (MODE 0 none, 1 interval; CRASH
 * 0 drop, 1 prefix, 2 garbage, 3 pages).
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>

#include "crash_common.h"

#define PL_KEYS 400
#define PL_MAX_OPS 2500
#define PL_MAX_BATCH 8

typedef struct pl_op {
  int kind; /* 0 put/delete/batch, 1 explicit sync, 2 compact, 3 checkpoint */
  int n;
  uint32_t key[PL_MAX_BATCH];
  bool del[PL_MAX_BATCH];
  uint64_t ver; /* version = op index + 1 (same for all members) */
} pl_op;

static cc_counts counts_a, counts_b;
static uint64_t images, images_lost_some, images_none_drop, images_none_drop_lost,
    suffix_lost_total, always_images_after_roll, acked_ops_total;

static void pl_gen(cc_rng *r, uint64_t idx, pl_op *op) {
  unsigned x = (unsigned)cc_below(r, 1000);
  op->ver = idx + 1;
  op->n = 0;
  if (x < 8) {
    op->kind = 1;
    return;
  }
  if (x < 12) {
    op->kind = 2;
    return;
  }
  if (x < 15) {
    op->kind = 3;
    return;
  }
  op->kind = 0;
  op->n = x < 800 ? 1 : 2 + (int)cc_below(r, PL_MAX_BATCH - 1);
  for (int j = 0; j < op->n; j++) {
    op->key[j] = (uint32_t)cc_below(r, PL_KEYS);
    op->del[j] = op->n == 1 ? x < 130 : cc_chance(r, 20);
  }
}

/* Value versions: (op version << 4) | slot in the batch, so the value is
 * unique per record. */
static uint64_t pl_valver(const pl_op *op, int j) { return (op->ver << 4) | (uint64_t)j; }

/* A record's value for key k at version ver (written into buf, at most
 * CC_VAL_MAX bytes); returns its length. */
typedef size_t (*pl_value_fn)(unsigned char *buf, uint32_t k, uint64_t ver);

/* Applies op through the API, its values made by `value`. */
static firkin_status pl_apply_with(firkin_db *db, firkin_batch *b, const pl_op *op,
                                   pl_value_fn value) {
  char key[CC_KEY_LEN];
  static unsigned char val[CC_VAL_MAX];
  switch (op->kind) {
    case 1: return firkin_sync(db);
    case 2: {
      firkin_status s = cc_compact(db);
      return s == FIRKIN_E_NOT_SUPPORTED ? FIRKIN_OK : s;
    }
    case 3: {
      firkin_status s = cc_checkpoint(db);
      return s == FIRKIN_E_NOT_SUPPORTED ? FIRKIN_OK : s;
    }
    default: break;
  }
  if (op->n == 1) {
    cc_key(key, op->key[0]);
    if (op->del[0]) return firkin_delete(db, NULL, NULL, key, CC_KEY_LEN);
    size_t vl = value(val, op->key[0], pl_valver(op, 0));
    return firkin_put(db, NULL, NULL, key, CC_KEY_LEN, val, vl);
  }
  firkin_batch_clear(b);
  for (int j = 0; j < op->n; j++) {
    cc_key(key, op->key[j]);
    if (op->del[j]) {
      firkin_batch_delete(b, NULL, key, CC_KEY_LEN);
    } else {
      size_t vl = value(val, op->key[j], pl_valver(op, j));
      firkin_batch_put(b, NULL, key, CC_KEY_LEN, val, vl);
    }
  }
  return firkin_write(db, NULL, b);
}

static firkin_status pl_apply(firkin_db *db, firkin_batch *b, const pl_op *op) {
  return pl_apply_with(db, b, op, cc_value);
}

/* Applies op to a state array (key -> value version, 0 = absent). */
static void pl_model_apply(uint64_t *st, const pl_op *op) {
  if (op->kind != 0) return;
  for (int j = 0; j < op->n; j++) st[op->key[j]] = op->del[j] ? 0 : pl_valver(op, j);
}

typedef bool (*pl_checker)(const void *v, size_t len, uint32_t key_id, uint64_t *version);

/* Reads every key; obs[k] = value version or 0; returns #corrupt. check
 * says whether a value is an intact value of its key. */
static uint64_t pl_read_all_with(firkin_db *db, uint64_t *obs, uint32_t nkeys, const char *what,
                                 pl_checker check) {
  uint64_t bad = 0;
  for (uint32_t k = 0; k < nkeys; k++) {
    char key[CC_KEY_LEN];
    cc_key(key, k);
    void *v = NULL;
    size_t vl = 0;
    firkin_status s = firkin_get(db, NULL, NULL, key, CC_KEY_LEN, &v, &vl);
    obs[k] = 0;
    if (s == FIRKIN_OK) {
      uint64_t ver;
      if (check(v, vl, k, &ver)) {
        obs[k] = ver;
      } else {
        bad++;
        obs[k] = UINT64_MAX;
        cc_fail("%s: key %u: value is not an intact value of the key", what, k);
      }
    } else if (s != FIRKIN_E_NOT_FOUND) {
      bad++;
      obs[k] = UINT64_MAX;
      cc_fail("%s: key %u: get: %s (%s)", what, k, firkin_strerror(s), firkin_last_error());
    }
    firkin_free(v);
  }
  return bad;
}

static uint64_t pl_read_all(firkin_db *db, uint64_t *obs, uint32_t nkeys, const char *what) {
  return pl_read_all_with(db, obs, nkeys, what, cc_check_value);
}

/* ------------------------------------------------------------------------ */
/* Part A                                                                    */
/* ------------------------------------------------------------------------ */

static pl_op ops[PL_MAX_OPS];
static uint64_t pl_fixed_seed; /* --image MODE CRASH SEED K: replay one image, keep its dir */
static uint64_t pl_fixed_k = UINT64_MAX;

/* The recovered state obs (key -> value version, 0 absent, UINT64_MAX
 * unreadable) against the history ops[0..acked): returns the largest p such
 * that the state after the first p ops equals obs, or -1 when there is none
 * (a hole, a torn batch or a resurrected key: reported as `what` and counted
 * in *cnt). nkeys <= PL_KEYS. */
static int pl_match_prefix(const char *what, const pl_op *hist, int acked, const uint64_t *obs,
                           int nkeys, cc_counts *cnt) {
  static uint64_t st[PL_KEYS];
  /* Find the prefixes p (0..acked) whose state equals obs. */
  memset(st, 0, sizeof st[0] * (size_t)nkeys);
  uint64_t mism = 0;
  for (int kk = 0; kk < nkeys; kk++) mism += st[kk] != obs[kk];
  int best = -1, best_mism_p = 0;
  uint64_t best_mism = mism;
  if (mism == 0) best = 0;
  for (int p = 1; p <= acked; p++) {
    const pl_op *op = &hist[p - 1];
    if (op->kind == 0) {
      uint32_t uk[PL_MAX_BATCH];
      int nu = 0;
      for (int j = 0; j < op->n; j++) {
        bool dup = false;
        for (int m = 0; m < nu; m++) dup |= uk[m] == op->key[j];
        if (!dup) uk[nu++] = op->key[j];
      }
      for (int j = 0; j < nu; j++) mism -= st[uk[j]] != obs[uk[j]];
      pl_model_apply(st, op);
      for (int j = 0; j < nu; j++) mism += st[uk[j]] != obs[uk[j]];
    }
    if (mism == 0) best = p;
    if (mism <= best_mism) {
      best_mism = mism;
      best_mism_p = p;
    }
  }
  if (best < 0) {
    /* No prefix: a hole, a torn batch or a resurrected key. Classify the
     * differences against the closest prefix. */
    memset(st, 0, sizeof st[0] * (size_t)nkeys);
    for (int p = 1; p <= best_mism_p; p++) pl_model_apply(st, &hist[p - 1]);
    uint64_t lost = 0, res = 0, other = 0;
    for (int kk = 0; kk < nkeys; kk++) {
      if (st[kk] == obs[kk] || obs[kk] == UINT64_MAX) continue;
      if (obs[kk] == 0) lost++;
      else if (st[kk] == 0) res++;
      else if (obs[kk] < st[kk]) lost++;
      else other++;
    }
    cnt->lost += lost + other;
    cnt->resurrected += res;
    cc_fail("%s: recovered state is no prefix of the acknowledged history (%d ops acked; "
            "closest prefix %d differs in %" PRIu64 " keys: %" PRIu64 " lost, %" PRIu64
            " resurrected, %" PRIu64 " newer)",
            what, acked, best_mism_p, best_mism, lost, res, other);
    /* Which keys, and from which ops (a value's version is (op + 1) << 4 |
     * its place in a batch; 0: absent). */
    int shown = 0;
    for (int kk = 0; kk < nkeys && shown < 12; kk++) {
      if (st[kk] == obs[kk] || obs[kk] == UINT64_MAX) continue;
      shown++;
      fprintf(stderr, "  key %d: recovered op %" PRId64 " [%u], the prefix's op %" PRId64 " [%u]\n",
              kk, obs[kk] ? (int64_t)(obs[kk] >> 4) - 1 : -1, (unsigned)(obs[kk] & 15),
              st[kk] ? (int64_t)(st[kk] >> 4) - 1 : -1, (unsigned)(st[kk] & 15));
    }
    return -1;
  }
  return best;
}

static void pl_image(const char *base, cc_rng *r, firkin_sync_mode mode, firkin_crash_mode cm,
                     uint64_t max_syncs, uint64_t *syncs_seen) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/db", base);
  cc_rmrf(dir);
  char what[160];
  uint64_t img_seed = pl_fixed_seed ? pl_fixed_seed : cc_next(r);
  snprintf(what, sizeof what, "image %s/%s seed %" PRIu64, cc_mode_name(mode), cc_crash_name(cm),
           img_seed);
  cc_rng ir;
  cc_seed(&ir, img_seed);
  int nops = 200 + (int)cc_below(&ir, PL_MAX_OPS - 200);
  for (int i = 0; i < nops; i++) pl_gen(&ir, (uint64_t)i, &ops[i]);
  /* Crash trigger: at the k-th sync, or after op `crash_after`. */
  uint64_t k = max_syncs > 0 && cc_chance(&ir, 75) ? 1 + cc_below(&ir, max_syncs) : 0;
  if (pl_fixed_k != UINT64_MAX) k = pl_fixed_k;
  snprintf(what + strlen(what), sizeof what - strlen(what), " k %" PRIu64, k);
  int crash_after = k ? nops : (int)cc_below(&ir, (uint64_t)nops + 1);

  firkin_fault_env *env = NULL;
  firkin_fault_env_new(&env);
  firkin_options *o = cc_options(mode, 64 * 1024);
  firkin_options_set_fault_env(o, env);
  firkin_db *db = NULL;
  firkin_status s = firkin_open(dir, o, &db);
  if (s != FIRKIN_OK) {
    cc_fail("%s: open through the fault env: %s (%s)", what, firkin_strerror(s),
            firkin_last_error());
    firkin_options_free(o);
    firkin_fault_env_free(env);
    return;
  }
  firkin_batch *b = NULL;
  firkin_batch_new(&b);
  int acked = 0, durable = 0; /* ops acknowledged; acknowledged before the last sync */
  int acked_at_last_roll = -1;
  uint64_t seg_before = 0;
  for (int i = 0; i < nops; i++) {
    if (i == crash_after) break;
    if (k && firkin_fault_env_count(env, FIRKIN_FAULT_SYNC) >= k) break;
    uint64_t opens = firkin_fault_env_count(env, FIRKIN_FAULT_ALLOCATE);
    s = pl_apply(db, b, &ops[i]);
    if (s != FIRKIN_OK) {
      cc_fail("%s: op %d failed before the crash: %s (%s)", what, i, firkin_strerror(s),
              firkin_last_error());
      break;
    }
    if (firkin_fault_env_count(env, FIRKIN_FAULT_ALLOCATE) != opens) acked_at_last_roll = i;
    acked = i + 1;
    if (mode == FIRKIN_SYNC_ALWAYS || ops[i].kind == 1) durable = acked;
  }
  (void)seg_before;
  *syncs_seen = firkin_fault_env_count(env, FIRKIN_FAULT_SYNC);
  firkin_fault_env_crash(env, cm, cc_next(&ir));
  firkin_close(db); /* fails: the "machine" is off */
  firkin_batch_free(b);
  firkin_options_free(o);
  firkin_fault_env_free(env);
  if (mode == FIRKIN_SYNC_ALWAYS && acked_at_last_roll >= 0 && acked > acked_at_last_roll)
    always_images_after_roll++;

  /* Power is back: reopen on the real files. (Replaying one image, --image:
   * the files as the power loss left them are kept beside, in db.crash.) */
  if (pl_fixed_seed) {
    char keep[4200];
    snprintf(keep, sizeof keep, "%s.crash", dir);
    cc_rmrf(keep);
    cc_copy_dir(dir, keep);
  }
  o = cc_options(FIRKIN_SYNC_NONE, 64 * 1024);
  s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  images++;
  acked_ops_total += (uint64_t)acked;
  if (s != FIRKIN_OK) {
    counts_a.corrupt++;
    cc_fail("%s: open after the crash failed: %s (%s)", what, firkin_strerror(s),
            firkin_last_error());
    return;
  }
  static uint64_t obs[PL_KEYS];
  counts_a.corrupt += pl_read_all(db, obs, PL_KEYS, what);
  counts_a.checked += PL_KEYS;
  firkin_close(db);

  int best = pl_match_prefix(what, ops, acked, obs, PL_KEYS, &counts_a);
  if (best < 0) return;
  if (best < durable) {
    counts_a.lost += (uint64_t)(durable - best);
    cc_fail("%s: %d ops acknowledged as durable (%s) lost: state is the prefix %d of %d", what,
            durable - best, mode == FIRKIN_SYNC_ALWAYS ? "always mode" : "before firkin_sync",
            best, acked);
  }
  suffix_lost_total += (uint64_t)(acked - best);
  if (best < acked) images_lost_some++;
  if (mode == FIRKIN_SYNC_NONE && cm == FIRKIN_CRASH_DROP) {
    images_none_drop++;
    /* Count a loss only if it cannot be an effect of deletes of absent keys. */
    if (best < acked) images_none_drop_lost++;
  }
}

/* ------------------------------------------------------------------------ */
/* Part B: group commit, crash at a random moment                            */
/* ------------------------------------------------------------------------ */

#define PB_THREADS 12
#define PB_KEYS 80 /* per thread */

typedef struct pb_ctx {
  firkin_db *db;
  uint64_t seed;
  int t;
  _Atomic uint64_t acked;  /* ops acknowledged */
  _Atomic int pending;     /* op `acked` started */
} pb_ctx;

static void pb_gen(cc_rng *r, int t, uint64_t i, pl_op *op) {
  op->kind = 0;
  op->ver = ((uint64_t)t << 40) | (i + 1);
  op->n = cc_chance(r, 70) ? 1 : 2 + (int)cc_below(r, PL_MAX_BATCH - 1);
  for (int j = 0; j < op->n; j++) {
    op->key[j] = (uint32_t)(t * PB_KEYS) + (uint32_t)cc_below(r, PB_KEYS);
    op->del[j] = cc_chance(r, 15);
  }
}

static void *pb_writer(void *arg) {
  pb_ctx *c = (pb_ctx *)arg;
  cc_rng r;
  cc_seed(&r, c->seed ^ (uint64_t)c->t);
  firkin_batch *b = NULL;
  firkin_batch_new(&b);
  char key[CC_KEY_LEN];
  unsigned char *val = (unsigned char *)malloc(CC_VAL_MAX);
  for (uint64_t i = 0;; i++) {
    pl_op op;
    pb_gen(&r, c->t, i, &op);
    atomic_store(&c->pending, 1);
    firkin_status s;
    if (op.n == 1) {
      cc_key(key, op.key[0]);
      if (op.del[0]) {
        s = firkin_delete(c->db, NULL, NULL, key, CC_KEY_LEN);
      } else {
        size_t vl = cc_value(val, op.key[0], pl_valver(&op, 0));
        s = firkin_put(c->db, NULL, NULL, key, CC_KEY_LEN, val, vl);
      }
    } else {
      firkin_batch_clear(b);
      for (int j = 0; j < op.n; j++) {
        cc_key(key, op.key[j]);
        if (op.del[j]) {
          firkin_batch_delete(b, NULL, key, CC_KEY_LEN);
        } else {
          size_t vl = cc_value(val, op.key[j], pl_valver(&op, j));
          firkin_batch_put(b, NULL, key, CC_KEY_LEN, val, vl);
        }
      }
      s = firkin_write(c->db, NULL, b);
    }
    if (s != FIRKIN_OK) break; /* the crash: this op stays "pending" */
    atomic_store(&c->acked, i + 1);
    atomic_store(&c->pending, 0);
  }
  free(val);
  firkin_batch_free(b);
  return NULL;
}

static void pb_image(const char *base, cc_rng *r, firkin_crash_mode cm) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/dbb", base);
  cc_rmrf(dir);
  uint64_t seed = cc_next(r);
  char what[128];
  snprintf(what, sizeof what, "group-commit image %s seed %" PRIu64, cc_crash_name(cm), seed);
  firkin_fault_env *env = NULL;
  firkin_fault_env_new(&env);
  firkin_options *o = cc_options(FIRKIN_SYNC_ALWAYS, 64 * 1024);
  firkin_options_set_fault_env(o, env);
  firkin_db *db = NULL;
  firkin_status s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    cc_fail("%s: open: %s", what, firkin_strerror(s));
    firkin_fault_env_free(env);
    return;
  }
  static pb_ctx ctx[PB_THREADS];
  pthread_t th[PB_THREADS];
  for (int t = 0; t < PB_THREADS; t++) {
    ctx[t].db = db;
    ctx[t].seed = seed;
    ctx[t].t = t;
    atomic_store(&ctx[t].acked, 0);
    atomic_store(&ctx[t].pending, 0);
    pthread_create(&th[t], NULL, pb_writer, &ctx[t]);
  }
  usleep((useconds_t)(500 + cc_below(r, 40000)));
  firkin_fault_env_crash(env, cm, cc_next(r));
  /* Snapshot the acks at the moment of the crash: a write acknowledged
   * after this point is acknowledged on a dead machine and is not counted. */
  uint64_t acked[PB_THREADS];
  for (int t = 0; t < PB_THREADS; t++) acked[t] = atomic_load(&ctx[t].acked);
  for (int t = 0; t < PB_THREADS; t++) pthread_join(th[t], NULL);
  uint64_t acked_end[PB_THREADS];
  for (int t = 0; t < PB_THREADS; t++) acked_end[t] = atomic_load(&ctx[t].acked);
  firkin_close(db);
  firkin_fault_env_free(env);

  o = cc_options(FIRKIN_SYNC_NONE, 64 * 1024);
  s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  images++;
  if (s != FIRKIN_OK) {
    counts_b.corrupt++;
    cc_fail("%s: open after the crash failed: %s (%s)", what, firkin_strerror(s),
            firkin_last_error());
    return;
  }
  static uint64_t obs[PB_THREADS * PB_KEYS];
  counts_b.corrupt += pl_read_all(db, obs, PB_THREADS * PB_KEYS, what);
  counts_b.checked += PB_THREADS * PB_KEYS;
  firkin_close(db);
  for (int t = 0; t < PB_THREADS; t++) {
    /* Ops acked by the crash must be present; ops up to acked_end+1 may be
     * (acknowledged between our snapshot and the crash taking effect, or in
     * flight). The state of t's keys must equal the state after some prefix
     * p with acked[t] <= p <= acked_end[t] + 1. */
    static uint64_t st[PB_THREADS * PB_KEYS];
    memset(st, 0, sizeof st);
    cc_rng tr;
    cc_seed(&tr, seed ^ (uint64_t)t);
    bool match = false;
    uint64_t hi = acked_end[t] + 1;
    for (uint64_t p = 0; p <= hi; p++) {
      if (p > 0) {
        pl_op op;
        pb_gen(&tr, t, p - 1, &op);
        pl_model_apply(st, &op);
      }
      if (p < acked[t]) continue;
      bool eq = true;
      for (int kk = t * PB_KEYS; kk < (t + 1) * PB_KEYS && eq; kk++) eq = st[kk] == obs[kk];
      if (eq) {
        match = true;
        break;
      }
    }
    acked_ops_total += acked[t];
    if (!match) {
      /* classify against the state after acked[t] */
      memset(st, 0, sizeof st);
      cc_seed(&tr, seed ^ (uint64_t)t);
      for (uint64_t p = 0; p < acked[t]; p++) {
        pl_op op;
        pb_gen(&tr, t, p, &op);
        pl_model_apply(st, &op);
      }
      uint64_t lost = 0, res = 0, other = 0;
      for (int kk = t * PB_KEYS; kk < (t + 1) * PB_KEYS; kk++) {
        if (st[kk] == obs[kk] || obs[kk] == UINT64_MAX) continue;
        if (obs[kk] == 0) lost++;
        else if (st[kk] == 0) res++;
        else if (obs[kk] < st[kk]) lost++;
        else other++;
      }
      counts_b.lost += lost;
      counts_b.resurrected += res;
      counts_b.corrupt += other;
      cc_fail("%s thread %d: state is not the state after %" PRIu64 "..%" PRIu64
              " acknowledged ops (%" PRIu64 " lost, %" PRIu64 " resurrected, %" PRIu64
              " other keys)",
              what, t, acked[t], hi, lost, res, other);
    }
  }
}


/* ------------------------------------------------------------------------ */
/* Part C: power loss while compaction retires segments beside writers       */
/* ------------------------------------------------------------------------ */

/* Four threads overwrite their own keys (puts only, a version per key that
 * only grows) in `none` mode while auto-compaction and a thread calling
 * firkin_compact retire segments, and the main thread calls firkin_sync
 * now and then. Whatever a completed firkin_sync covered must survive the
 * power failure: every key present, at a version at least the one it had
 * when that sync began. (Compaction drops a superseded record from its
 * input; if the newer version were not durable when the input is retired,
 * the power failure would lose both.) */

#define PC_THREADS 4
#define PC_KEYS 48 /* per thread */

typedef struct pc_ctx {
  firkin_db *db;
  uint64_t seed;
  int t;
  _Atomic int stop;
  _Atomic uint64_t acked[PC_KEYS]; /* version acknowledged per key */
} pc_ctx;

static pc_ctx pc[PC_THREADS];
static _Atomic int pc_stop_compact;
static uint64_t pc_images, pc_checked;

static void *pc_writer(void *arg) {
  pc_ctx *c = (pc_ctx *)arg;
  cc_rng r;
  cc_seed(&r, c->seed ^ (uint64_t)(c->t + 100));
  unsigned char *val = (unsigned char *)malloc(CC_VAL_MAX);
  uint64_t ver[PC_KEYS] = {0};
  char key[CC_KEY_LEN];
  while (!atomic_load(&c->stop)) {
    uint32_t i = (uint32_t)cc_below(&r, PC_KEYS);
    uint32_t k = (uint32_t)c->t * PC_KEYS + i;
    cc_key(key, k);
    size_t vl = cc_value(val, k, ver[i] + 1);
    if (firkin_put(c->db, NULL, NULL, key, CC_KEY_LEN, val, vl) != FIRKIN_OK) break;
    ver[i]++;
    atomic_store(&c->acked[i], ver[i]);
  }
  free(val);
  return NULL;
}

static void *pc_compactor(void *arg) {
  firkin_db *db = (firkin_db *)arg;
  while (!atomic_load(&pc_stop_compact)) {
    if (cc_compact(db) != FIRKIN_OK) break;
    usleep(3000); /* a full compaction seals (syncs) the active segment */
  }
  return NULL;
}

/* Opens a fresh database `name` under `base` (path in dir) through a new
 * fault env (*env; freed here on failure), with checkpoints off (each one
 * syncs the log) and background compaction off, or at `dead_ratio`
 * percent (parts C and I). NULL on failure, reported as `what`. */
static firkin_db *pl_open_faulty(const char *base, const char *name, char *dir, size_t dir_len,
                                 firkin_sync_mode mode, uint64_t segment,
                                 firkin_fault_env **env, const char *what,
                                 const char *dead_ratio) {
  snprintf(dir, dir_len, "%s/%s", base, name);
  cc_rmrf(dir);
  *env = NULL;
  firkin_fault_env_new(env);
  firkin_options *o = cc_options(mode, segment);
  if (dead_ratio == NULL) firkin_options_set_auto_compact(o, false);
  else firkin_options_set(o, "compact_dead_ratio", dead_ratio);
  firkin_options_set(o, "checkpoint_every", "0");
  firkin_options_set_fault_env(o, *env);
  firkin_db *db = NULL;
  firkin_status s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    cc_fail("%s: open: %s (%s)", what, firkin_strerror(s), firkin_last_error());
    firkin_fault_env_free(*env);
    *env = NULL;
    return NULL;
  }
  return db;
}

/* pc_explicit: a thread also calls firkin_compact (a full compaction, which
 * seals and so syncs the active segment) besides auto-compaction. */
static void pc_image(const char *base, cc_rng *r, bool pc_explicit) {
  char dir[4096];
  uint64_t seed = cc_next(r);
  char what[128];
  snprintf(what, sizeof what, "compaction image seed %" PRIu64, seed);
  firkin_fault_env *env = NULL;
  firkin_db *db =
      pl_open_faulty(base, "dbc", dir, sizeof dir, FIRKIN_SYNC_NONE, 64 * 1024, &env, what, "10");
  if (db == NULL) return;
  firkin_options *o;
  firkin_status s;
  pthread_t th[PC_THREADS], ct;
  for (int t = 0; t < PC_THREADS; t++) {
    pc[t].db = db;
    pc[t].seed = seed;
    pc[t].t = t;
    atomic_store(&pc[t].stop, 0);
    for (int i = 0; i < PC_KEYS; i++) atomic_store(&pc[t].acked[i], 0);
    pthread_create(&th[t], NULL, pc_writer, &pc[t]);
  }
  atomic_store(&pc_stop_compact, 0);
  if (pc_explicit && cc_have_compact) pthread_create(&ct, NULL, pc_compactor, db);
  /* Sync now and then; `floor` is what the last completed sync covered. */
  static uint64_t floor[PC_THREADS * PC_KEYS], pending[PC_THREADS * PC_KEYS];
  memset(floor, 0, sizeof floor);
  const double crash_at = cc_now() + (double)(5 + cc_below(r, 80)) / 1000.0;
  while (cc_now() < crash_at) {
    for (int t = 0; t < PC_THREADS; t++) {
      for (int i = 0; i < PC_KEYS; i++) pending[t * PC_KEYS + i] = atomic_load(&pc[t].acked[i]);
    }
    if (firkin_sync(db) != FIRKIN_OK) break;
    memcpy(floor, pending, sizeof floor);
    usleep((useconds_t)(500 + cc_below(r, 4000)));
  }
  firkin_fault_env_crash(env, FIRKIN_CRASH_DROP, cc_next(r));
  for (int t = 0; t < PC_THREADS; t++) atomic_store(&pc[t].stop, 1);
  atomic_store(&pc_stop_compact, 1);
  for (int t = 0; t < PC_THREADS; t++) pthread_join(th[t], NULL);
  if (pc_explicit && cc_have_compact) pthread_join(ct, NULL);
  firkin_close(db);
  firkin_fault_env_free(env);

  o = cc_options(FIRKIN_SYNC_NONE, 64 * 1024);
  s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  pc_images++;
  if (s != FIRKIN_OK) {
    counts_b.corrupt++;
    cc_fail("%s: open after the crash failed: %s (%s)", what, firkin_strerror(s),
            firkin_last_error());
    return;
  }
  static uint64_t obs[PC_THREADS * PC_KEYS];
  counts_b.corrupt += pl_read_all(db, obs, PC_THREADS * PC_KEYS, what);
  firkin_close(db);
  uint64_t lost = 0;
  for (int k = 0; k < PC_THREADS * PC_KEYS; k++) {
    pc_checked++;
    if (obs[k] == UINT64_MAX || obs[k] >= floor[k]) continue;
    if (lost++ < 3) {
      cc_fail("%s: key %d reads %s%" PRIu64 " after the crash; a completed sync covered "
              "version %" PRIu64,
              what, k, obs[k] == 0 ? "absent, version " : "version ", obs[k], floor[k]);
    }
  }
  counts_b.lost += lost;
  if (lost > 3) cc_fail("%s: %" PRIu64 " keys lost synced versions in all", what, lost);
}

/* ------------------------------------------------------------------------ */
/* Part D: the bank invariant across power loss                              */
/* ------------------------------------------------------------------------ */

/* Four threads move money between PD_ACCOUNTS accounts in transactions
 * (snapshot isolation, retry on conflict); each transfer also bumps its
 * thread's transfer counter in the same transaction. Auto-compaction runs
 * beside them; the power fails at a random moment (any crash mode). After
 * the reopen: the total is exactly the initial one (a transaction is all
 * or nothing), every account reads intact, and in `always` mode each
 * thread's counter is at least its acknowledged transfers and at most one
 * more (the one in flight). */

#define PD_THREADS 4
#define PD_ACCOUNTS 16
#define PD_INITIAL 1000

typedef struct pd_ctx {
  firkin_db *db;
  uint64_t seed;
  int t;
  _Atomic int stop;
  _Atomic uint64_t acked;  /* transfers acknowledged */
  _Atomic uint64_t errors; /* commit errors other than CONFLICT before the crash */
} pd_ctx;

static pd_ctx pd[PD_THREADS];
static _Atomic int pd_crashing; /* set before the power fails: errors from then on are expected */
static uint64_t pd_images, pd_transfers;

static bool pd_read(firkin_txn *t, const char *k, long *out) {
  void *v = NULL;
  size_t n = 0;
  if (firkin_txn_get(t, NULL, k, strlen(k), &v, &n) != FIRKIN_OK) return false;
  char buf[32];
  if (n >= sizeof buf) n = sizeof buf - 1;
  memcpy(buf, v, n);
  buf[n] = 0;
  firkin_free(v);
  *out = strtol(buf, NULL, 10);
  return true;
}
static firkin_status pd_write(firkin_txn *t, const char *k, long v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%ld", v);
  return firkin_txn_put(t, NULL, k, strlen(k), buf, strlen(buf));
}

static void *pd_worker(void *arg) {
  pd_ctx *c = (pd_ctx *)arg;
  cc_rng r;
  cc_seed(&r, c->seed ^ (uint64_t)(c->t + 7));
  char from[16], to[16], ctr[16];
  snprintf(ctr, sizeof ctr, "ctr%d", c->t);
  while (!atomic_load(&c->stop)) {
    int a = (int)cc_below(&r, PD_ACCOUNTS), b = (int)cc_below(&r, PD_ACCOUNTS - 1);
    if (b >= a) b++;
    snprintf(from, sizeof from, "acct%02d", a);
    snprintf(to, sizeof to, "acct%02d", b);
    long amount = 1 + (long)cc_below(&r, 50), fa, tb, n = 0;
    firkin_txn *t = NULL;
    if (firkin_txn_begin(c->db, FIRKIN_TXN_SNAPSHOT, &t) != FIRKIN_OK) break;
    bool ok = pd_read(t, from, &fa) && pd_read(t, to, &tb);
    pd_read(t, ctr, &n); /* absent = 0 */
    if (ok) {
      if (fa < amount) amount = fa;
      ok = pd_write(t, from, fa - amount) == FIRKIN_OK && pd_write(t, to, tb + amount) == FIRKIN_OK &&
           pd_write(t, ctr, n + 1) == FIRKIN_OK;
    }
    firkin_status st = ok ? firkin_txn_commit(t, NULL, NULL) : FIRKIN_E_INTERNAL;
    firkin_txn_free(t);
    if (st == FIRKIN_OK) {
      atomic_fetch_add(&c->acked, 1);
    } else if (st != FIRKIN_E_CONFLICT) {
      if (!atomic_load(&pd_crashing)) atomic_fetch_add(&c->errors, 1);
      break; /* the crash made writes fail: stop */
    }
  }
  return NULL;
}

static void pd_image(const char *base, cc_rng *r, firkin_sync_mode mode, firkin_crash_mode cm) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/dbd", base);
  cc_rmrf(dir);
  uint64_t seed = cc_next(r);
  char what[160];
  snprintf(what, sizeof what, "bank image %s/%s seed %" PRIu64, cc_mode_name(mode),
           cc_crash_name(cm), seed);
  firkin_fault_env *env = NULL;
  firkin_fault_env_new(&env);
  firkin_options *o = cc_options(mode, 64 * 1024);
  firkin_options_set(o, "compact_dead_ratio", "10");
  firkin_options_set_fault_env(o, env);
  firkin_db *db = NULL;
  firkin_status s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    cc_fail("%s: open: %s", what, firkin_strerror(s));
    firkin_fault_env_free(env);
    return;
  }
  /* The initial balances, durable before the workload starts. */
  firkin_batch *b = NULL;
  firkin_batch_new(&b);
  char k[16], v[16];
  for (int i = 0; i < PD_ACCOUNTS; i++) {
    snprintf(k, sizeof k, "acct%02d", i);
    snprintf(v, sizeof v, "%d", PD_INITIAL);
    firkin_batch_put(b, NULL, k, strlen(k), v, strlen(v));
  }
  s = firkin_write(db, NULL, b);
  firkin_batch_free(b);
  if (s == FIRKIN_OK) s = firkin_sync(db);
  if (s != FIRKIN_OK) {
    cc_fail("%s: setup: %s", what, firkin_strerror(s));
    firkin_close(db);
    firkin_fault_env_free(env);
    return;
  }
  pthread_t th[PD_THREADS];
  atomic_store(&pd_crashing, 0);
  for (int t = 0; t < PD_THREADS; t++) {
    pd[t].db = db;
    pd[t].seed = seed;
    pd[t].t = t;
    atomic_store(&pd[t].stop, 0);
    atomic_store(&pd[t].acked, 0);
    atomic_store(&pd[t].errors, 0);
    pthread_create(&th[t], NULL, pd_worker, &pd[t]);
  }
  usleep((useconds_t)(3000 + cc_below(r, 60000)));
  uint64_t acked_before[PD_THREADS];
  for (int t = 0; t < PD_THREADS; t++) acked_before[t] = atomic_load(&pd[t].acked);
  atomic_store(&pd_crashing, 1);
  firkin_fault_env_crash(env, cm, cc_next(r));
  for (int t = 0; t < PD_THREADS; t++) atomic_store(&pd[t].stop, 1);
  for (int t = 0; t < PD_THREADS; t++) pthread_join(th[t], NULL);
  firkin_close(db);
  firkin_fault_env_free(env);

  o = cc_options(FIRKIN_SYNC_NONE, 64 * 1024);
  s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  pd_images++;
  if (s != FIRKIN_OK) {
    counts_b.corrupt++;
    cc_fail("%s: open after the crash failed: %s (%s)", what, firkin_strerror(s),
            firkin_last_error());
    return;
  }
  firkin_txn *t = NULL;
  long total = 0, x;
  int unreadable = 0;
  firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t);
  for (int i = 0; i < PD_ACCOUNTS; i++) {
    snprintf(k, sizeof k, "acct%02d", i);
    if (pd_read(t, k, &x)) total += x;
    else unreadable++;
  }
  for (int th_i = 0; th_i < PD_THREADS; th_i++) {
    snprintf(k, sizeof k, "ctr%d", th_i);
    long n = 0;
    if (!pd_read(t, k, &n)) n = 0;
    pd_transfers += (uint64_t)n;
    /* The counter moves with the transfers: all acknowledged ones must be
     * there when every commit was synced; at most the one in flight more. */
    const uint64_t acked = atomic_load(&pd[th_i].acked);
    if (mode == FIRKIN_SYNC_ALWAYS && (uint64_t)n < acked_before[th_i]) {
      counts_b.lost++;
      cc_fail("%s: thread %d's counter is %ld after the crash, %" PRIu64 " transfers were "
              "acknowledged before it",
              what, th_i, n, acked_before[th_i]);
    }
    if ((uint64_t)n > acked + 1) {
      counts_b.resurrected++;
      cc_fail("%s: thread %d's counter %ld passes its %" PRIu64 " acknowledged transfers + 1",
              what, th_i, n, acked);
    }
    if (atomic_load(&pd[th_i].errors) != 0) {
      cc_fail("%s: thread %d: a commit failed before the crash", what, th_i);
    }
  }
  firkin_txn_free(t);
  firkin_close(db);
  if (unreadable != 0 || total != (long)PD_ACCOUNTS * PD_INITIAL) {
    counts_b.corrupt++;
    cc_fail("%s: after the crash the total is %ld (want %d), %d accounts unreadable", what,
            total, PD_ACCOUNTS * PD_INITIAL, unreadable);
  }
}

/* ------------------------------------------------------------------------ */
/* Part E: a durable write right after a roll, the full segment's seal queued */
/* ------------------------------------------------------------------------ */

/* A roll queues the full segment's seal for the writeback thread. A durable
 * write in the next segment must seal it first (LogWriter::SyncTo): records
 * after an unsealed segment that a power loss cut short are dropped by
 * recovery. The writeback thread, poked at the roll, normally seals it
 * before any writer syncs, so crash points drawn at random never fell in
 * between (the planted bug sync_before_seal went uncaught). Here the fault
 * env holds that thread inside its first write-behind call, so the seal
 * stays queued: `none` writes fill a 16 MiB segment (nothing of it synced),
 * the log rolls, one write with `always` lands in the new segment and is
 * acknowledged, the power fails (DROP), and that write must be there. */
#define PE_SEGMENT (16u << 20)
/* Past the first 2 MiB write-behind piece of a PE_SEGMENT segment: with
 * in-place updates on (the default) write-behind stays three quarters of
 * the segment (12 MiB, LogWriter's InPlaceWindow) behind the published
 * length, so the first piece is handed over only past 14 MiB + the header:
 * 14300 records of 1056 bytes are 14.4 MiB (a segment holds about 15880);
 * 18000 are past the roll. */
#define PE_PAST_PIECE 14300
#define PE_ROLLED 18000
#define PE_VALUE 1000

static firkin_status pe_put(firkin_db *db, const firkin_write_options *wo, int i) {
  char key[32], val[PE_VALUE];
  int kl = snprintf(key, sizeof key, "pe%06d", i);
  memset(val, 'a' + i % 26, sizeof val);
  return firkin_put(db, wo, NULL, key, (size_t)kl, val, sizeof val);
}

static void pe_image(const char *base) {
  char dir[4096];
  firkin_fault_env *env = NULL;
  firkin_db *db =
      pl_open_faulty(base, "pe", dir, sizeof dir, FIRKIN_SYNC_NONE, PE_SEGMENT, &env, "queued seal",
                     NULL);
  if (db == NULL) return;
  firkin_status s;
  firkin_options *o;
  firkin_fault_env_hold_writebehind(env);
  /* Past the first write-behind piece of the first segment (PE_PAST_PIECE),
   * then wait for the writeback thread to stop in it (it looks every 50 ms). */
  int n = 0, bad = 0;
  for (; n < PE_PAST_PIECE; n++) bad += pe_put(db, NULL, n) != FIRKIN_OK;
  for (int w = 0; w < 400 && !firkin_fault_env_holding(env); w++) usleep(5000);
  const bool held = firkin_fault_env_holding(env);
  CC_CHECK(held, "queued seal: the writeback thread never made a write-behind call");
  if (!held) {
    /* Disarm the hold: armed, it would stop the seal of the roll below
     * (its write-behind call) and the durable write would wait for it
     * forever. */
    firkin_fault_env_release(env);
  }
  /* Fill the segment and roll: its seal is queued, the thread cannot take it. */
  for (; n < PE_ROLLED; n++) bad += pe_put(db, NULL, n) != FIRKIN_OK;
  firkin_write_options *wo = NULL;
  firkin_write_options_new(&wo);
  firkin_write_options_set_sync(wo, FIRKIN_SYNC_ALWAYS);
  s = pe_put(db, wo, n);
  firkin_write_options_free(wo);
  CC_CHECK(bad == 0 && s == FIRKIN_OK, "queued seal: puts failed (%d, durable: %s)", bad,
           firkin_strerror(s));
  firkin_fault_env_crash(env, FIRKIN_CRASH_DROP, 1);
  firkin_fault_env_release(env);
  firkin_close(db); /* fails: the "machine" is off */
  firkin_fault_env_free(env);
  if (!held || s != FIRKIN_OK) return;

  o = cc_options(FIRKIN_SYNC_NONE, PE_SEGMENT);
  s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    counts_a.corrupt++;
    cc_fail("queued seal: open after the crash: %s (%s)", firkin_strerror(s), firkin_last_error());
    return;
  }
  char key[32], got[PE_VALUE];
  size_t len = 0;
  int kl = snprintf(key, sizeof key, "pe%06d", n);
  s = firkin_get_into(db, NULL, NULL, key, (size_t)kl, got, sizeof got, &len);
  if (s != FIRKIN_OK || len != PE_VALUE || got[0] != 'a' + n % 26) {
    counts_a.lost++;
    cc_fail("queued seal: the write acknowledged as durable (`always`, right after the roll) is "
            "gone after a power loss: %s",
            firkin_strerror(s));
  }
  firkin_close(db);
}

/* ------------------------------------------------------------------------ */
/* Part K: a durable write after an update in place and a watermark sync     */
/* ------------------------------------------------------------------------ */

/* After a power loss recovery keeps a record past the watermark on disk only
 * if it is numbered right after the record before it. An update in place
 * takes a number and no bytes: the next record appended skips it. Here q is
 * updated in place (number 4, taken while the log ended after r), then the
 * watermark is persisted there (firkin_sync, or the interval flusher), then
 * b is appended (number 5, after r's 3) and w written `always`. Until
 * 2026-11-29 w's sync did not carry the watermark (q lay below it), and
 * recovery cut the log at b: the acknowledged durable w was gone (found by
 * review). `flusher`: the interval flusher persists the watermark instead of
 * firkin_sync. */
static uint64_t pg_stat(firkin_db *db, const char *name);

static void pk_image(const char *base, bool flusher) {
  char dir[4096];
  firkin_fault_env *env = NULL;
  const char *what = flusher ? "in-place gap (flusher)" : "in-place gap (firkin_sync)";
  firkin_db *db = pl_open_faulty(base, "pk", dir, sizeof dir,
                                 flusher ? FIRKIN_SYNC_INTERVAL : FIRKIN_SYNC_NONE, 64 * 1024,
                                 &env, what, NULL);
  if (db == NULL) return;
  firkin_write_options *always = NULL;
  firkin_write_options_new(&always);
  firkin_write_options_set_sync(always, FIRKIN_SYNC_ALWAYS);
  int bad = 0;
  bad += firkin_put(db, NULL, NULL, "f0", 2, "first...", 8) != FIRKIN_OK; /* a segment's first */
  bad += firkin_put(db, NULL, NULL, "q", 1, "AAAAAAAA", 8) != FIRKIN_OK;
  bad += firkin_put(db, NULL, NULL, "r", 1, "rrrrrrrr", 8) != FIRKIN_OK;
  const uint64_t ip0 = pg_stat(db, "in_place_updates");
  bad += firkin_put(db, NULL, NULL, "q", 1, "BBBBBBBB", 8) != FIRKIN_OK; /* in place */
  const bool in_place = pg_stat(db, "in_place_updates") > ip0;
  if (flusher) {
    usleep(300 * 1000); /* the flusher (100 ms) persists the watermark */
  } else {
    bad += firkin_sync(db) != FIRKIN_OK;
  }
  bad += firkin_put(db, NULL, NULL, "b", 1, "bbbbbbbb", 8) != FIRKIN_OK;
  const firkin_status s = firkin_put(db, always, NULL, "w", 1, "DURABLE!", 8);
  firkin_write_options_free(always);
  CC_CHECK(bad == 0 && s == FIRKIN_OK, "%s: writes failed (%d, durable: %s)", what, bad,
           firkin_strerror(s));
  CC_CHECK(in_place, "%s: the second put of q did not go in place (the test needs it)", what);
  firkin_fault_env_crash(env, FIRKIN_CRASH_DROP, 1);
  firkin_close(db); /* fails: the "machine" is off */
  firkin_fault_env_free(env);
  if (s != FIRKIN_OK) return;
  firkin_options *o = cc_options(FIRKIN_SYNC_NONE, 64 * 1024);
  firkin_status os = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (os != FIRKIN_OK) {
    counts_a.corrupt++;
    cc_fail("%s: open after the crash: %s (%s)", what, firkin_strerror(os), firkin_last_error());
    return;
  }
  /* w was acknowledged durable; so is everything numbered before it
   * (a durable write covers its predecessors). */
  const char *keys[5] = {"f0", "q", "r", "b", "w"};
  const char *want[5] = {"first...", "BBBBBBBB", "rrrrrrrr", "bbbbbbbb", "DURABLE!"};
  for (int i = 0; i < 5; i++) {
    char got[16];
    size_t len = 0;
    const firkin_status gs = firkin_get_into(db, NULL, NULL, keys[i], strlen(keys[i]), got,
                                             sizeof got, &len);
    if (gs != FIRKIN_OK || len != 8 || memcmp(got, want[i], 8) != 0) {
      counts_a.lost++;
      cc_fail("%s: '%s' (before or at the durable write) after a power loss: %s", what, keys[i],
              gs == FIRKIN_OK ? "wrong value" : firkin_strerror(gs));
    }
  }
  firkin_close(db);
}

/* ------------------------------------------------------------------------ */
/* Part L: `always` calls that write nothing                                */
/* ------------------------------------------------------------------------ */

/* A call that finds what it asks for holds already writes nothing: a delete
 * of an absent key, firkin_persist of a key with no expiry, a transaction
 * whose delete finds the key gone. What it decided on may not be durable:
 * under `always` it must be once the call returns OK. Until 2026-11-29 such
 * calls returned at once, and a power loss brought the state they had
 * confirmed back (found by review). */
static firkin_db *pl_reopen_after_crash(const char *dir, firkin_db *db, firkin_fault_env *env,
                                        const char *what) {
  firkin_fault_env_crash(env, FIRKIN_CRASH_DROP, 1);
  firkin_close(db); /* fails: the "machine" is off */
  firkin_fault_env_free(env);
  firkin_options *o = cc_options(FIRKIN_SYNC_NONE, 1 << 20);
  db = NULL;
  const firkin_status s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    counts_a.corrupt++;
    cc_fail("%s: open after the crash: %s (%s)", what, firkin_strerror(s), firkin_last_error());
    return NULL;
  }
  return db;
}

static void pm_image(const char *base, int which) {
  static const char *whats[3] = {"always delete of a deleted key", "always persist",
                                 "always transaction deleting a deleted key"};
  const char *what = whats[which];
  char dir[4096];
  firkin_fault_env *env = NULL;
  firkin_db *db = pl_open_faulty(base, "pm", dir, sizeof dir, FIRKIN_SYNC_NONE, 1 << 20, &env,
                                 what, NULL);
  if (db == NULL) return;
  firkin_write_options *always = NULL;
  firkin_write_options_new(&always);
  firkin_write_options_set_sync(always, FIRKIN_SYNC_ALWAYS);
  int bad = 0;
  firkin_status s = FIRKIN_OK;
  if (which == 0 || which == 2) {
    bad += firkin_put(db, always, NULL, "k", 1, "v1", 2) != FIRKIN_OK; /* durable */
    bad += firkin_delete(db, NULL, NULL, "k", 1) != FIRKIN_OK;         /* not yet */
    if (which == 0) {
      s = firkin_delete(db, always, NULL, "k", 1); /* absent already */
    } else {
      firkin_txn *tx = NULL;
      bad += firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &tx) != FIRKIN_OK;
      if (tx != NULL) {
        bad += firkin_txn_delete(tx, NULL, "k", 1) != FIRKIN_OK;
        s = firkin_txn_commit(tx, always, NULL);
        firkin_txn_free(tx);
      }
    }
  } else {
    bad += firkin_put_ttl(db, always, NULL, "k", 1, "v1", 2, 3600 * 1000) != FIRKIN_OK;
    bad += firkin_put(db, NULL, NULL, "k", 1, "v2", 2) != FIRKIN_OK; /* no expiry, not yet */
    s = firkin_persist(db, always, NULL, "k", 1);                   /* persistent already */
  }
  firkin_write_options_free(always);
  CC_CHECK(bad == 0 && s == FIRKIN_OK, "%s: calls failed (%d; the always call: %s)", what, bad,
           firkin_strerror(s));
  db = pl_reopen_after_crash(dir, db, env, what);
  if (db == NULL) return;
  char got[8];
  size_t len = 0;
  const firkin_status gs = firkin_get_into(db, NULL, NULL, "k", 1, got, sizeof got, &len);
  if (which == 1) {
    uint64_t left = 0;
    const firkin_status ts = firkin_ttl(db, NULL, NULL, "k", 1, &left);
    if (gs != FIRKIN_OK || len != 2 || memcmp(got, "v2", 2) != 0 || ts != FIRKIN_OK ||
        left != FIRKIN_TTL_NONE) {
      counts_a.lost++;
      cc_fail("%s: after a power loss the key is %s with %s expiry (it returned OK: v2, none)",
              what, gs == FIRKIN_OK ? (memcmp(got, "v2", 2) == 0 ? "v2" : "v1") : "gone",
              left == FIRKIN_TTL_NONE ? "no" : "an");
    }
  } else if (gs != FIRKIN_E_NOT_FOUND) {
    counts_a.resurrected++;
    cc_fail("%s: after a power loss the key is back (%s) though the call returned OK", what,
            firkin_strerror(gs));
  }
  firkin_close(db);
}

/* ------------------------------------------------------------------------ */
/* Part H: a kill -9 with a roll's seal queued, in-place updates after it   */
/* ------------------------------------------------------------------------ */

/* Recovery checks a log segment that was never sealed (its seal still
 * queued for the writeback thread when the log rolled) against the first
 * record of the next log segment, which must carry the sequence number
 * after the segment's last; if it does not, a power loss cut the segment
 * short and every later log segment is dropped. An in-place update of that
 * first record gave it a newer number, and a reopen after a kill -9 then
 * dropped every write after the roll (found by readers_test, 2026-11-26;
 * docs/write_path.md, "In-place updates"). Random kills almost never hit
 * the window between a roll and its seal, so here the fault env holds the
 * writeback thread (the seal stays queued), `none` writes fill a 16 MiB
 * segment and roll, the first record of the next segment and 40 records
 * after it are each updated 12 times with values of the same length (in
 * place, except the first record), and the process "dies" (CRASH_KILL:
 * everything written reaches the files, same boot). Every acknowledged
 * value must be there after the reopen, and nothing cut. */
#define PH_AFTER 40
#define PH_ROUNDS 12

static uint64_t pg_stat(firkin_db *db, const char *name);

/* Versioned values of PE_VALUE bytes (parts H and I): version v of key
 * <prefix><i> is a letter that depends on (i, v), with "v<v>" in front. */
static firkin_status pv_put(firkin_db *db, const char *prefix, int i, int v) {
  char key[32], val[PE_VALUE];
  int kl = snprintf(key, sizeof key, "%s%06d", prefix, i);
  memset(val, 'a' + (i + v) % 26, sizeof val);
  snprintf(val, 16, "v%d", v);
  return firkin_put(db, NULL, NULL, key, (size_t)kl, val, sizeof val);
}

/* The version in [0, max_v] key <prefix><i> reads; -2 if absent, -1 if it
 * reads another value. */
static int pv_version(firkin_db *db, const char *prefix, int i, int max_v) {
  char key[32], got[PE_VALUE], want[PE_VALUE];
  size_t len = 0;
  int kl = snprintf(key, sizeof key, "%s%06d", prefix, i);
  firkin_status s = firkin_get_into(db, NULL, NULL, key, (size_t)kl, got, sizeof got, &len);
  if (s == FIRKIN_E_NOT_FOUND) return -2;
  for (int v = max_v; s == FIRKIN_OK && len == PE_VALUE && v >= 0; v--) {
    memset(want, 'a' + (i + v) % 26, sizeof want);
    snprintf(want, 16, "v%d", v);
    if (memcmp(got, want, PE_VALUE) == 0) return v;
  }
  return -1;
}

static firkin_status ph_put(firkin_db *db, int i, int v) { return pv_put(db, "pe", i, v); }

static bool ph_check(firkin_db *db, int i, int v) { return pv_version(db, "pe", i, v) == v; }

/* Parts H and J: holds the writeback thread in its first write-behind
 * call, then `none` puts of keys 0.. (version 0) past the first
 * write-behind piece of a PE_SEGMENT segment (*n of them; *bad counts
 * failures), and waits for the thread to stop in the call. Returns whether
 * it did; if not, the hold is let go (armed, it would stop the seal of the
 * roll to come, which a later durable write then waits for forever). */
static bool pq_fill_held(firkin_db *db, firkin_fault_env *env, const char *what, int *n,
                         int *bad) {
  firkin_fault_env_hold_writebehind(env);
  for (; *n < PE_PAST_PIECE; (*n)++) *bad += ph_put(db, *n, 0) != FIRKIN_OK;
  for (int w = 0; w < 400 && !firkin_fault_env_holding(env); w++) usleep(5000);
  const bool held = firkin_fault_env_holding(env);
  CC_CHECK(held, "%s: the writeback thread never made a write-behind call", what);
  if (!held) firkin_fault_env_release(env);
  return held;
}

static void ph_image(const char *base) {
  char dir[4096];
  firkin_fault_env *env = NULL;
  firkin_db *db = pl_open_faulty(base, "ph", dir, sizeof dir, FIRKIN_SYNC_NONE, PE_SEGMENT, &env,
                                 "kill, queued seal", NULL);
  if (db == NULL) return;
  /* Values by key: the version last acknowledged (0 = ph_put's first). */
  static int ver[PE_ROLLED + PH_AFTER + 1];
  memset(ver, 0, sizeof ver);
  /* As in part E: past the first write-behind piece, the writeback thread
   * stopped in it. */
  int n = 0, bad = 0;
  const bool held = pq_fill_held(db, env, "kill, queued seal", &n, &bad);
  /* Up to the roll: the put after which segment_rolls moved wrote the first
   * record of the next segment (one writer). */
  const uint64_t rolls0 = pg_stat(db, "segment_rolls");
  int first = -1;
  for (; n < PE_ROLLED && first < 0; n++) {
    bad += ph_put(db, n, 0) != FIRKIN_OK;
    if (pg_stat(db, "segment_rolls") != rolls0) first = n;
  }
  CC_CHECK(first >= 0, "kill, queued seal: the log never rolled (%d puts)", n);
  for (; first >= 0 && n <= first + PH_AFTER; n++) bad += ph_put(db, n, 0) != FIRKIN_OK;
  const uint64_t ip0 = pg_stat(db, "in_place_updates");
  for (int v = 1; first >= 0 && v <= PH_ROUNDS; v++) {
    for (int i = first; i <= first + PH_AFTER; i++) {
      bad += ph_put(db, i, v) != FIRKIN_OK;
      ver[i] = v;
    }
  }
  const uint64_t ip = pg_stat(db, "in_place_updates") - ip0;
  if (cc_verbose) {
    printf("  kill, queued seal: held %d, %d keys, the next segment from key %d, %llu of %d "
           "updates in place\n",
           held, n, first, (unsigned long long)ip, (PH_AFTER + 1) * PH_ROUNDS);
  }
  /* The scenario itself: the seal still queued, the updates in place. */
  CC_CHECK(!held || firkin_fault_env_holding(env),
           "kill, queued seal: the writeback thread went on (the seal was not held)");
  CC_CHECK(ip != UINT64_MAX && ip >= (uint64_t)PH_AFTER * (PH_ROUNDS - 1),
           "kill, queued seal: only %llu of %d updates went in place",
           (unsigned long long)ip, (PH_AFTER + 1) * PH_ROUNDS);
  CC_CHECK(bad == 0, "kill, queued seal: %d puts failed", bad);
  firkin_fault_env_crash(env, FIRKIN_CRASH_KILL, 1);
  firkin_fault_env_release(env);
  firkin_close(db); /* fails: the process is "gone" */
  if (!held || first < 0 || bad != 0) {
    firkin_fault_env_free(env);
    return;
  }
  /* Reopened on the same boot (the same environment, reset): the page
   * cache held every byte, so nothing may be cut. */
  firkin_fault_env_reset(env);
  firkin_options *o = cc_options(FIRKIN_SYNC_NONE, PE_SEGMENT);
  firkin_options_set_fault_env(o, env);
  firkin_status s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    counts_a.corrupt++;
    cc_fail("kill, queued seal: open after the kill: %s (%s)", firkin_strerror(s),
            firkin_last_error());
    firkin_fault_env_free(env);
    return;
  }
  int lost = 0, first_lost = -1;
  for (int i = 0; i < n; i++) {
    if (ph_check(db, i, ver[i])) continue;
    if (lost++ == 0) first_lost = i;
  }
  if (lost > 0) {
    counts_a.lost += (uint64_t)lost;
    cc_fail("kill, queued seal: %d of %d acknowledged writes lost or not at their last value "
            "after a kill -9 (the first: key %d; the next segment starts at key %d; "
            "segments cut: %llu)",
            lost, n, first_lost, first, (unsigned long long)pg_stat(db, "segments_cut"));
  }
  const uint64_t cut = pg_stat(db, "segments_cut");
  CC_CHECK(cut == 0, "kill, queued seal: recovery cut %llu segments after a kill -9",
           (unsigned long long)cut);
  firkin_close(db);
  firkin_fault_env_free(env);
}

/* ------------------------------------------------------------------------ */
/* Part J: a power loss that tears the batch ending a segment whose seal was */
/* queued                                                                    */
/* ------------------------------------------------------------------------ */

/* Recovery reads a log segment that was not sealed when the next one was
 * made like the tail of the log, and keeps nothing of later log segments
 * if a power loss cut it short: short of the number before the next
 * segment's first record. A batch's records share one number, so a batch
 * torn at the end of that segment (its first records whole, its commit
 * record lost) left that number on records, and the check passed: the
 * batch was dropped and the next segment's records kept, a hole
 * (part A, interval/garbage: "no prefix", twice in about 60 runs of this
 * suite; fixed 2026-11-27). Here, as in part H, the fault env holds the writeback
 * thread (the seal stays queued); `none` writes fill a 16 MiB segment and
 * the log rolls on a batch of 3, so the batch before it ends the segment;
 * 40 puts follow in the next segment. The process dies (CRASH_KILL: every
 * byte reaches the files); then copies of the files are made what a power
 * loss may leave: LIVE removed (a new boot), and the end of the full
 * segment's records zeroed (pj_tears: from a part of the batch's commit
 * record to the whole batch, which never reached the disk). After each
 * reopen the state must be a prefix: every key before the torn batch
 * there, the batch and everything after it gone. */
#define PJ_BATCH 3
/* Bytes cut off the end of the full segment's records (a record of a
 * 8-byte key and a PE_VALUE value is 1056 bytes, a batch's commit record
 * 48: short layouts, format version 8): into the commit record, all of it,
 * into the last put, the last put whole, two puts, and the whole batch
 * (the segment then ends at the put before it: a tear at a record
 * boundary). */
static const uint64_t pj_tears[] = {8, 48, 56, 1100, 1104, 2200, 3216};

static firkin_status pj_batch(firkin_db *db, firkin_batch *b, int i) {
  char key[32], val[PE_VALUE];
  firkin_batch_clear(b);
  for (int j = 0; j < PJ_BATCH; j++) {
    int kl = snprintf(key, sizeof key, "pe%06d", i + j);
    memset(val, 'a' + (i + j) % 26, sizeof val);
    snprintf(val, 16, "v0");
    firkin_batch_put(b, NULL, key, (size_t)kl, val, sizeof val);
  }
  return firkin_write(db, NULL, b);
}

/* Zeroes the last `n` bytes of the records of segment file `path` (its
 * preallocated rest is zeros); returns the records' end, or 0. */
static uint64_t pj_tear(const char *path, uint64_t n) {
  int fd = open(path, O_RDWR);
  if (fd < 0) return 0;
  struct stat st;
  uint64_t end = 0;
  if (fstat(fd, &st) == 0) {
    static unsigned char buf[1 << 16];
    for (uint64_t at = (uint64_t)st.st_size; at > 8192 && end == 0;) {
      const uint64_t len = at - 8192 < sizeof buf ? at - 8192 : sizeof buf;
      at -= len;
      if (pread(fd, buf, (size_t)len, (off_t)at) != (ssize_t)len) break;
      for (uint64_t i = len; i > 0 && end == 0; i--)
        if (buf[i - 1] != 0) end = at + i;
    }
  }
  end = (end + 7) & ~(uint64_t)7;
  static const unsigned char zeros[4096];
  if (end < 8192 + n) end = 0;
  for (uint64_t done = 0; end != 0 && done < n;) {
    const size_t len = n - done < sizeof zeros ? (size_t)(n - done) : sizeof zeros;
    if (pwrite(fd, zeros, len, (off_t)(end - n + done)) != (ssize_t)len) end = 0;
    done += len;
  }
  close(fd);
  return end;
}

static void pj_image(const char *base) {
  char dir[4096];
  firkin_fault_env *env = NULL;
  firkin_db *db = pl_open_faulty(base, "pj", dir, sizeof dir, FIRKIN_SYNC_NONE, PE_SEGMENT, &env,
                                 "torn batch, queued seal", NULL);
  if (db == NULL) return;
  int n = 0, bad = 0;
  const bool held = pq_fill_held(db, env, "torn batch, queued seal", &n, &bad);
  /* Batches until one rolls the log: the one before it ends the segment. */
  firkin_batch *b = NULL;
  firkin_batch_new(&b);
  const uint64_t rolls0 = pg_stat(db, "segment_rolls");
  int torn = -1, first = -1;
  for (; n < PE_ROLLED && first < 0; n += PJ_BATCH) {
    bad += pj_batch(db, b, n) != FIRKIN_OK;
    if (pg_stat(db, "segment_rolls") != rolls0) first = n;
    else torn = n;
  }
  firkin_batch_free(b);
  CC_CHECK(first >= 0 && torn >= 0, "torn batch, queued seal: the log never rolled (%d keys)", n);
  for (; first >= 0 && n < first + PJ_BATCH + PH_AFTER; n++) bad += ph_put(db, n, 0) != FIRKIN_OK;
  CC_CHECK(!held || firkin_fault_env_holding(env),
           "torn batch, queued seal: the writeback thread went on (the seal was not held)");
  CC_CHECK(bad == 0, "torn batch, queued seal: %d writes failed", bad);
  firkin_fault_env_crash(env, FIRKIN_CRASH_KILL, 1);
  firkin_fault_env_release(env);
  firkin_close(db); /* fails: the process is "gone" */
  firkin_fault_env_free(env);
  if (!held || first < 0 || torn < 0 || bad != 0) return;
  /* Each tear on a copy of the files: a new boot, and the full segment
   * (the log segment before the newest) cut short by `pj_tears[t]` bytes. */
  char **names = NULL;
  const int nn = cc_list_dir(dir, &names);
  const char *full = NULL, *newest = NULL;
  for (int i = 0; i < nn; i++) {
    if (!cc_is_segment(names[i])) continue;
    full = newest;
    newest = names[i];
  }
  CC_CHECK(full != NULL, "torn batch, queued seal: no full segment to tear");
  char copy[4200], path[4300];
  snprintf(copy, sizeof copy, "%s.torn", dir);
  for (size_t t = 0; full != NULL && t < sizeof pj_tears / sizeof pj_tears[0]; t++) {
    cc_copy_dir(dir, copy);
    snprintf(path, sizeof path, "%s/LIVE", copy);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s", copy, full);
    const uint64_t end = pj_tear(path, pj_tears[t]);
    CC_CHECK(end != 0, "torn batch, queued seal: %s could not be torn", full);
    if (end == 0) break;
    firkin_options *o = cc_options(FIRKIN_SYNC_NONE, PE_SEGMENT);
    firkin_status s = firkin_open(copy, o, &db);
    firkin_options_free(o);
    if (s != FIRKIN_OK) {
      counts_a.corrupt++;
      cc_fail("torn batch, queued seal: open after the power loss (%" PRIu64 " bytes torn): "
              "%s (%s)", pj_tears[t], firkin_strerror(s), firkin_last_error());
      continue;
    }
    int missing = 0, kept = 0, first_missing = -1, first_kept = -1;
    for (int i = 0; i < n; i++) {
      const int v = pv_version(db, "pe", i, 0);
      if (i < torn && v != 0 && missing++ == 0) first_missing = i;
      if (i >= torn && v != -2 && kept++ == 0) first_kept = i;
    }
    if (missing > 0 || kept > 0) {
      counts_a.lost += (uint64_t)missing;
      counts_a.resurrected += (uint64_t)kept;
      cc_fail("torn batch, queued seal: no prefix after the power loss (%" PRIu64 " bytes torn): "
              "%d keys before the torn batch (keys %d-%d) missing (the first: %d), %d keys from "
              "it on kept (the first: %d; the next segment starts at key %d; segments cut: %llu)",
              pj_tears[t], missing, torn, torn + PJ_BATCH - 1, first_missing, kept, first_kept,
              first, (unsigned long long)pg_stat(db, "segments_cut"));
    }
    firkin_close(db);
  }
  cc_free_names(names, nn);
}

/* ------------------------------------------------------------------------ */
/* Part F: the watermark on disk after durable writes                       */
/* ------------------------------------------------------------------------ */

/* A group commit makes its records durable with one flush; the watermark
 * page goes in the same flush, but only once the page on disk is 10 ms
 * old, and it claims only what the previous sync made durable
 * (LogWriter::SyncSegmentLocked). Once syncs pause, the writeback thread
 * persists it. Checked here: durable writes, then
 *  - PF_PAUSE: a pause, a power loss (DROP); the watermark on disk must
 *    cover the last acknowledged record, and damage to that record must
 *    then be reported (open or get: corruption), never cut off as a torn
 *    tail with the key silently gone;
 *  - PF_STREAM: 40 ms more of durable writes to other keys with no pause,
 *    then the power loss: the watermark on disk must cover that record too
 *    (the stream's syncs carried the page along), with the same check of
 *    damage to it;
 *  - PF_INSTANT: the power fails right after the last write: every
 *    acknowledged write must be there (whatever the watermark says), and
 *    the watermark on disk must not claim more than the records written. */
#define PF_WRITES 20
enum pf_mode { PF_INSTANT, PF_PAUSE, PF_STREAM };

static double pf_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static uint64_t pf_le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* The file at `path` read whole into *buf (caller frees; NULL if none). */
static size_t pf_read_file(const char *path, unsigned char **buf) {
  *buf = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp) return 0;
  fseek(fp, 0, SEEK_END);
  long len = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  *buf = malloc(len > 0 ? (size_t)len : 1);
  size_t got = len > 0 && *buf ? fread(*buf, 1, (size_t)len, fp) : 0;
  fclose(fp);
  return got;
}

/* The newest segment file of `dir` (the largest 16-hex-digit name) that
 * holds the bytes of `key`, read whole into *buf (caller frees); its path
 * in `path`. (A stream of writes may have rolled past it.) */
static size_t pf_read_segment_holding(const char *dir, const char *key, char *path,
                                      size_t path_len, unsigned char **buf) {
  char best[64] = "";
  size_t best_len = 0;
  DIR *d = opendir(dir);
  *buf = NULL;
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    size_t l = strlen(e->d_name);
    if (l != 20 || strcmp(e->d_name + 16, ".seg") != 0 || strcmp(e->d_name, best) <= 0) continue;
    char p[4400];
    unsigned char *b = NULL;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    const size_t n = pf_read_file(p, &b);
    if (n > 0 && memmem(b, n, key, strlen(key)) != NULL) {
      snprintf(best, sizeof best, "%s", e->d_name);
      free(*buf);
      *buf = b;
      best_len = n;
    } else {
      free(b);
    }
  }
  closedir(d);
  if (best[0] == 0) return 0;
  snprintf(path, path_len, "%s/%s", dir, best);
  return best_len;
}

static void pf_image(const char *base, enum pf_mode mode) {
  const bool instant = mode == PF_INSTANT;
  char dir[4096];
  firkin_fault_env *env = NULL;
  firkin_db *db =
      pl_open_faulty(base, "pf", dir, sizeof dir, FIRKIN_SYNC_ALWAYS, 4u << 20, &env, "watermark",
                     NULL);
  if (db == NULL) return;
  firkin_status s;
  firkin_options *o;
  int bad = 0;
  for (int i = 0; i < PF_WRITES; i++) {
    char key[32], val[200];
    int kl = snprintf(key, sizeof key, "pf-key-%04d", i);
    memset(val, 'A' + i % 26, sizeof val);
    bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, sizeof val) != FIRKIN_OK;
  }
  CC_CHECK(bad == 0, "watermark: %d durable puts failed", bad);
  /* The writeback thread looks at least every 50 ms and persists the
   * watermark once no sync has come for 5 ms. */
  if (mode == PF_PAUSE) usleep(300 * 1000);
  if (mode == PF_STREAM) {
    /* A sync every half millisecond (this env's syncs take microseconds,
     * and a roll would seal the segment, which persists its watermark): the
     * writeback thread finds no pause of 5 ms, unless the machine stalls
     * this writer that long. */
    const double until = pf_now_ms() + 40.0;
    for (int i = 0; bad == 0 && (i < 20 || pf_now_ms() < until); i++) {
      usleep(500);
      char key[32], val[200];
      int kl = snprintf(key, sizeof key, "pf-more-%06d", i);
      memset(val, 'a' + i % 26, sizeof val);
      bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, sizeof val) != FIRKIN_OK;
    }
    CC_CHECK(bad == 0, "watermark: a durable put of the stream failed");
  }
  firkin_fault_env_crash(env, FIRKIN_CRASH_DROP, 1);
  firkin_close(db); /* fails: the "machine" is off */
  firkin_fault_env_free(env);
  if (bad != 0) return;

  char path[4400];
  unsigned char *buf = NULL;
  const char *last_key = "pf-key-0019";
  const size_t len = pf_read_segment_holding(dir, last_key, path, sizeof path, &buf);
  const unsigned char *hit =
      len > 0 ? memmem(buf, len, last_key, strlen(last_key)) : NULL;
  const uint64_t wm = len >= 4104 ? pf_le64(buf + 4096) : 0;
  const size_t key_at = hit ? (size_t)(hit - buf) : 0;
  CC_CHECK(hit != NULL, "watermark: the last durable record is not in %s (%zu bytes)", path, len);
  if (hit == NULL) {
    free(buf);
    return;
  }
  /* The record's value follows its key: its end is past key_at + 200. */
  if (instant) {
    /* Not past the last record's end (its key, 200-byte value, then at
     * most a tail and padding). */
    const size_t rec_end = key_at + strlen(last_key) + 200 + 16;
    CC_CHECK(wm <= rec_end,
             "watermark: on disk it claims %" PRIu64 " bytes, past the last record (ends by %zu)",
             wm, rec_end);
  } else {
    CC_CHECK(wm > key_at + 200,
             "watermark: %s it is %" PRIu64
             " on disk, below the end of that write's record (key at %zu)",
             mode == PF_PAUSE ? "300 ms after the last durable write"
                              : "after 40 ms more of durable writes",
             wm, key_at);
    /* Damage the value of the last record (below the watermark). */
    buf[key_at + strlen(last_key) + 50] ^= 0x10;
    FILE *fp = fopen(path, "r+b");
    if (fp) {
      fseek(fp, (long)(key_at + strlen(last_key) + 50), SEEK_SET);
      fputc(buf[key_at + strlen(last_key) + 50], fp);
      fclose(fp);
    }
  }
  free(buf);

  o = cc_options(FIRKIN_SYNC_NONE, 4u << 20);
  s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (!instant && s == FIRKIN_E_CORRUPTION) return; /* reported at open: right */
  if (s != FIRKIN_OK) {
    cc_fail("watermark: open after the crash%s: %s (%s)", instant ? "" : " and the damage",
            firkin_strerror(s), firkin_last_error());
    return;
  }
  for (int i = 0; i < PF_WRITES; i++) {
    char key[32], got[200];
    size_t gl = 0;
    int kl = snprintf(key, sizeof key, "pf-key-%04d", i);
    s = firkin_get_into(db, NULL, NULL, key, (size_t)kl, got, sizeof got, &gl);
    if (!instant && i == PF_WRITES - 1) {
      CC_CHECK(s == FIRKIN_E_CORRUPTION,
               "watermark: the damaged durable record read as %s, not as corruption (cut off "
               "as a torn tail?)",
               firkin_strerror(s));
      continue;
    }
    if (s != FIRKIN_OK || gl != sizeof got || got[0] != 'A' + i % 26) {
      counts_a.lost++;
      cc_fail("watermark: durable write %d is gone after a power loss: %s", i, firkin_strerror(s));
    }
  }
  firkin_close(db);
}

/* ------------------------------------------------------------------------ */
/* Part G: power loss with in-place updates                                  */
/* ------------------------------------------------------------------------ */

/* Part A's method, with a workload whose puts go in place (docs/write_path.md
 * and docs/format.md, "In-place updates"): PG_HOT hot keys overwritten with
 * values of one length, puts of the other keys with values of another fixed
 * length (so they go in place too when their key comes back before a sync),
 * deletes, batches of 2..4 (they append), an explicit firkin_sync now and
 * then, rarely firkin_compact and firkin_checkpoint; sync modes `none` and
 * `interval` (`always` never updates in place). The power fails at the k-th
 * sync (or after a random op) with DROP, PREFIX, GARBAGE or PAGES; the
 * fault env's boot id changes with the crash, so the reopen takes the
 * power-loss path of recovery (the tail above the durable watermark cut at
 * the first overwritten record or sequence-number gap). Checked:
 *   - the state equals the state after a prefix p of the acknowledged ops,
 *     p >= the ops acknowledged before the last successful firkin_sync;
 *   - every value read is an intact value of its key, of its key's length;
 *   - the recovered database updates in place again (3 rounds of puts of
 *     the hot keys), closes, and reopens with exactly that state.
 * Self-checks: the stat in_place_updates, read just before the crash, is
 * above 0 in most images; images with in-place updates (also after the
 * last firkin_sync) lost writes in some images (the cut bites). */
#define PG_KEYS 160 /* <= PL_KEYS */
#define PG_HOT 8
#define PG_HOT_LEN 200
#define PG_COLD_LEN 120
#define PG_MAX_BATCH 4

static cc_counts counts_g;
static uint64_t pg_images, pg_images_ip, pg_images_busy, pg_images_busy_ip, pg_ip_total,
    pg_images_lost, pg_images_ip_lost, pg_images_ip_after_sync, pg_images_ip_after_sync_lost,
    pg_none_drop, pg_none_drop_lost, pg_suffix_lost, pg_acked_total, pg_post_ip_images,
    pg_post_images;
static bool pg_fixed; /* --inplace-image: replay one image (pl_fixed_seed, pl_fixed_k) */

static size_t pg_len(uint32_t k) { return k < PG_HOT ? PG_HOT_LEN : PG_COLD_LEN; }

/* Self-describing value of fixed length per key: "VP" u32 key u64 version
 * u32 length, then bytes derived from key and version. */
static size_t pg_value(unsigned char *buf, uint32_t k, uint64_t ver) {
  const size_t len = pg_len(k);
  buf[0] = 'V';
  buf[1] = 'P';
  cc_put_u32(buf + 2, k);
  cc_put_u64(buf + 6, ver);
  cc_put_u32(buf + 14, (uint32_t)len);
  uint64_t st = cc_mix64(((uint64_t)k << 32) ^ ver ^ 0x1E1Eull);
  for (size_t i = CC_VAL_MIN; i < len; i++) {
    if (((i - CC_VAL_MIN) & 7) == 0) st = cc_mix64(st);
    buf[i] = (unsigned char)(st >> (8 * (i & 7)));
  }
  return len;
}

static bool pg_check_value(const void *v, size_t len, uint32_t k, uint64_t *ver) {
  unsigned char want[PG_HOT_LEN > PG_COLD_LEN ? PG_HOT_LEN : PG_COLD_LEN];
  if (len != pg_len(k)) return false;
  const uint64_t w = cc_get_u64((const unsigned char *)v + 6);
  pg_value(want, k, w);
  if (memcmp(want, v, len) != 0) return false;
  *ver = w;
  return true;
}

static void pg_gen(cc_rng *r, uint64_t idx, pl_op *op) {
  unsigned x = (unsigned)cc_below(r, 1000);
  op->ver = idx + 1;
  op->n = 0;
  if (x < 12) {
    op->kind = 1; /* explicit sync */
    return;
  }
  if (x < 14) {
    op->kind = 2; /* compact (seals the active segment) */
    return;
  }
  if (x < 16) {
    op->kind = 3; /* checkpoint */
    return;
  }
  op->kind = 0;
  op->n = x < 100 ? 2 + (int)cc_below(r, PG_MAX_BATCH - 1) : 1;
  for (int j = 0; j < op->n; j++) {
    op->key[j] = cc_chance(r, 70) ? (uint32_t)cc_below(r, PG_HOT)
                                  : PG_HOT + (uint32_t)cc_below(r, PG_KEYS - PG_HOT);
    op->del[j] = op->n == 1 ? x < 145 : cc_chance(r, 20);
  }
}

static firkin_status pg_apply(firkin_db *db, firkin_batch *b, const pl_op *op) {
  return pl_apply_with(db, b, op, pg_value);
}

/* A number from firkin_stats' JSON ("name":N, the first one); UINT64_MAX
 * if absent. */
/* ------------------------------------------------------------------------ */
/* Part I: power loss right after a compaction pass, its successors unsynced */
/* ------------------------------------------------------------------------ */

/* A compaction pass drops the records whose key has a newer version; it
 * must not name its output (and retire its inputs) before those newer
 * versions are durable, or a power loss loses both. The pass no longer
 * syncs the log for it: it waits for the database's own syncs
 * (Compactor::AwaitDurable), and syncs only when they do not come. Random
 * crash points (part C) hit the window between the pass and the next sync
 * almost never, so here it is made to happen: 120 keys of 1000 bytes in
 * 64 KiB segments (write-behind, whose pieces are 2 MiB, never syncs such
 * a segment; nothing else syncs in `none` mode), firkin_sync, then new
 * versions of the first 30 keys, all in the active segment (no roll), so
 * the first segment is over half dead. Auto-compaction runs a pass on it;
 * once the segment is retired the power fails at once. Every key must
 * read its first or second version. Without the wait (the planted bug
 * compact_before_durable) the first 30 keys are gone. `synced`: a
 * firkin_sync right after the new versions (the pass then needs no sync
 * of its own). */
#define PI_KEYS 120
#define PI_NEW 30

static uint64_t pg_stat(firkin_db *db, const char *name);

static void pi_image(const char *base, bool synced) {
  char dir[4096];
  firkin_fault_env *env = NULL;
  firkin_db *db = pl_open_faulty(base, "pi", dir, sizeof dir, FIRKIN_SYNC_NONE, 64 * 1024, &env,
                                 "compaction wait", "40");
  if (db == NULL) return;
  firkin_options *o;
  firkin_status s;
  int bad = 0;
  for (int i = 0; i < PI_KEYS; i++) bad += pv_put(db, "pi", i, 1) != FIRKIN_OK;
  bad += firkin_sync(db) != FIRKIN_OK;
  const uint64_t rolls = pg_stat(db, "segment_rolls");
  const uint64_t retired = pg_stat(db, "segments_retired");
  const uint64_t syncs0 = pg_stat(db, "log_syncs");
  for (int i = 0; i < PI_NEW; i++) bad += pv_put(db, "pi", i, 2) != FIRKIN_OK;
  if (synced) bad += firkin_sync(db) != FIRKIN_OK;
  CC_CHECK(bad == 0, "compaction wait: %d writes failed", bad);
  CC_CHECK(pg_stat(db, "segment_rolls") == rolls,
           "compaction wait: the new versions rolled the log (the test needs them unsynced)");
  /* The pass: auto-compaction looks every 250 ms; a pass that waits for
   * the log gives up after a second and syncs. */
  bool done = false;
  for (int w = 0; w < 1000 && !done; w++) {
    done = pg_stat(db, "segments_retired") > retired;
    if (!done) usleep(5000);
  }
  CC_CHECK(done, "compaction wait: no segment was retired in 5 s");
  const uint64_t log_syncs = pg_stat(db, "log_syncs") - syncs0;
  firkin_fault_env_crash(env, FIRKIN_CRASH_DROP, 1);
  firkin_close(db); /* fails: the "machine" is off */
  firkin_fault_env_free(env);
  if (cc_verbose) {
    printf("  compaction wait (%s): the pass synced the log %llu time(s)\n",
           synced ? "synced" : "unsynced", (unsigned long long)log_syncs);
  }
  /* Nothing made the new versions durable but the pass itself. */
  if (!synced) {
    CC_CHECK(!done || log_syncs >= 1,
             "compaction wait: the pass retired its input without a sync while nothing had "
             "made the new versions durable");
  }
  o = cc_options(FIRKIN_SYNC_NONE, 64 * 1024);
  s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    counts_a.corrupt++;
    cc_fail("compaction wait: open after the crash: %s (%s)", firkin_strerror(s),
            firkin_last_error());
    return;
  }
  int lost = 0, wrong = 0, first = -1;
  for (int i = 0; i < PI_KEYS; i++) {
    const int v = pv_version(db, "pi", i, 2);
    const int synced_v = synced && i < PI_NEW ? 2 : 1;
    if (v == -1 || v == 0) wrong++;
    else if (v < synced_v) lost++; /* (absent: -2) */
    if ((v == -1 || v < synced_v) && first < 0) first = i;
  }
  counts_a.lost += (uint64_t)lost;
  counts_a.corrupt += (uint64_t)wrong;
  CC_CHECK(lost == 0 && wrong == 0,
           "compaction wait (%s): %d keys lost, %d wrong after a power loss right after a "
           "compaction pass (the first: key %d)",
           synced ? "synced" : "unsynced", lost, wrong, first);
  firkin_close(db);
}

static uint64_t pg_stat(firkin_db *db, const char *name) {
  char *js = NULL;
  uint64_t v = UINT64_MAX;
  if (firkin_stats(db, &js) == FIRKIN_OK && js != NULL) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\":", name);
    const char *p = strstr(js, pat);
    if (p != NULL) v = strtoull(p + strlen(pat), NULL, 10);
  }
  firkin_free(js);
  return v;
}

static bool pg_stat_true(firkin_db *db, const char *name) {
  char *js = NULL;
  bool v = false;
  if (firkin_stats(db, &js) == FIRKIN_OK && js != NULL) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\":true", name);
    v = strstr(js, pat) != NULL;
  }
  firkin_free(js);
  return v;
}

/* The recovered database at dir (open, state obs checked): the hot keys
 * are put 3 times (from the second round on in place), then it is closed
 * and reopened; the state must be obs with the hot keys at their last
 * round. */
static void pg_after(const char *dir, firkin_db *db, uint64_t *obs, const char *what) {
  char key[CC_KEY_LEN];
  unsigned char val[PG_HOT_LEN];
  firkin_status s = FIRKIN_OK;
  const uint64_t ip0 = pg_stat(db, "in_place_updates");
  for (int round = 0; round < 3 && s == FIRKIN_OK; round++) {
    for (uint32_t h = 0; h < PG_HOT && s == FIRKIN_OK; h++) {
      /* versions no op of the history has (those are below PL_MAX_OPS + 1 << 4) */
      const uint64_t ver = ((uint64_t)(PL_MAX_OPS + 10 + round) << 4) | (h & 15);
      cc_key(key, h);
      size_t vl = pg_value(val, h, ver);
      s = firkin_put(db, NULL, NULL, key, CC_KEY_LEN, val, vl);
      obs[h] = ver;
    }
  }
  CC_CHECK(s == FIRKIN_OK, "%s: a put after the recovery failed: %s (%s)", what,
           firkin_strerror(s), firkin_last_error());
  const uint64_t ip1 = pg_stat(db, "in_place_updates");
  pg_post_images++;
  if (ip0 != UINT64_MAX && ip1 != UINT64_MAX && ip1 > ip0) pg_post_ip_images++;
  s = firkin_close(db);
  CC_CHECK(s == FIRKIN_OK, "%s: close after the recovery and the in-place puts: %s (%s)", what,
           firkin_strerror(s), firkin_last_error());
  firkin_options *o = cc_options(FIRKIN_SYNC_NONE, 64 * 1024);
  s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    counts_g.corrupt++;
    cc_fail("%s: reopen after the recovery, in-place puts and a clean close: %s (%s)", what,
            firkin_strerror(s), firkin_last_error());
    return;
  }
  static uint64_t again[PG_KEYS];
  char what2[240];
  snprintf(what2, sizeof what2, "%s (after in-place puts and a clean close)", what);
  counts_g.corrupt += pl_read_all_with(db, again, PG_KEYS, what2, pg_check_value);
  counts_g.checked += PG_KEYS;
  firkin_close(db);
  uint64_t lost = 0, res = 0, other = 0;
  for (int k = 0; k < PG_KEYS; k++) {
    if (again[k] == obs[k] || again[k] == UINT64_MAX) continue;
    if (again[k] == 0) lost++;
    else if (obs[k] == 0) res++;
    else other++;
    if (lost + res + other <= 3) {
      cc_fail("%s: key %d reads version %" PRIx64 ", want %" PRIx64, what2, k, again[k], obs[k]);
    }
  }
  counts_g.lost += lost + other;
  counts_g.resurrected += res;
}

static void pg_image(const char *base, cc_rng *r, firkin_sync_mode mode, firkin_crash_mode cm,
                     uint64_t max_syncs, uint64_t *syncs_seen) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/dbg", base);
  cc_rmrf(dir);
  char what[200];
  uint64_t img_seed = pg_fixed ? pl_fixed_seed : cc_next(r);
  snprintf(what, sizeof what, "in-place image %s/%s seed %" PRIu64, cc_mode_name(mode),
           cc_crash_name(cm), img_seed);
  cc_rng ir;
  cc_seed(&ir, img_seed);
  int nops = 300 + (int)cc_below(&ir, PL_MAX_OPS - 300);
  for (int i = 0; i < nops; i++) pg_gen(&ir, (uint64_t)i, &ops[i]);
  uint64_t k = max_syncs > 0 && cc_chance(&ir, 75) ? 1 + cc_below(&ir, max_syncs) : 0;
  if (pg_fixed && pl_fixed_k != UINT64_MAX) k = pl_fixed_k;
  snprintf(what + strlen(what), sizeof what - strlen(what), " k %" PRIu64, k);
  int crash_after = k ? nops : (int)cc_below(&ir, (uint64_t)nops + 1);

  firkin_fault_env *env = NULL;
  firkin_fault_env_new(&env);
  firkin_options *o = cc_options(mode, 64 * 1024);
  firkin_options_set(o, "in_place_updates", "true");
  firkin_options_set_fault_env(o, env);
  firkin_db *db = NULL;
  firkin_status s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    cc_fail("%s: open through the fault env: %s (%s)", what, firkin_strerror(s),
            firkin_last_error());
    firkin_fault_env_free(env);
    return;
  }
  CC_CHECK(pg_stat_true(db, "in_place_enabled"), "%s: in_place_enabled is not true after open",
           what);
  firkin_batch *b = NULL;
  firkin_batch_new(&b);
  int acked = 0, durable = 0; /* ops acknowledged; acknowledged before the last sync */
  uint64_t ip_at_sync = 0;    /* in-place updates when the last firkin_sync returned */
  for (int i = 0; i < nops; i++) {
    if (i == crash_after) break;
    if (k && firkin_fault_env_count(env, FIRKIN_FAULT_SYNC) >= k) break;
    s = pg_apply(db, b, &ops[i]);
    if (s != FIRKIN_OK) {
      cc_fail("%s: op %d failed before the crash: %s (%s)", what, i, firkin_strerror(s),
              firkin_last_error());
      break;
    }
    acked = i + 1;
    if (ops[i].kind == 1) {
      durable = acked;
      ip_at_sync = pg_stat(db, "in_place_updates");
    }
  }
  /* Read before the crash: the count since open of puts that went in place. */
  const uint64_t ip = pg_stat(db, "in_place_updates");
  *syncs_seen = firkin_fault_env_count(env, FIRKIN_FAULT_SYNC);
  firkin_fault_env_crash(env, cm, cc_next(&ir));
  firkin_close(db); /* fails: the "machine" is off */
  firkin_batch_free(b);
  firkin_fault_env_free(env);
  CC_CHECK(ip != UINT64_MAX, "%s: no in_place_updates in firkin_stats", what);
  const bool had_ip = ip != UINT64_MAX && ip > 0;
  const bool ip_after_sync = had_ip && ip_at_sync != UINT64_MAX && ip > ip_at_sync;
  snprintf(what + strlen(what), sizeof what - strlen(what),
           " (%d ops acked, %d before the last sync, %" PRIu64 " in place)", acked, durable,
           ip == UINT64_MAX ? 0 : ip);

  /* Power is back: reopen on the real files (another boot). */
  o = cc_options(FIRKIN_SYNC_NONE, 64 * 1024);
  s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  pg_images++;
  pg_acked_total += (uint64_t)acked;
  if (had_ip) pg_images_ip++, pg_ip_total += ip;
  if (acked >= 100) {
    pg_images_busy++;
    if (had_ip) pg_images_busy_ip++;
  }
  if (ip_after_sync) pg_images_ip_after_sync++;
  if (s != FIRKIN_OK) {
    counts_g.corrupt++;
    cc_fail("%s: open after the crash failed: %s (%s)", what, firkin_strerror(s),
            firkin_last_error());
    return;
  }
  static uint64_t obs[PG_KEYS];
  const uint64_t bad = pl_read_all_with(db, obs, PG_KEYS, what, pg_check_value);
  counts_g.corrupt += bad;
  counts_g.checked += PG_KEYS;
  const int best = pl_match_prefix(what, ops, acked, obs, PG_KEYS, &counts_g);
  if (best < 0 || bad != 0) {
    firkin_close(db);
    return;
  }
  if (best < durable) {
    counts_g.lost += (uint64_t)(durable - best);
    cc_fail("%s: %d ops acknowledged before firkin_sync lost: state is the prefix %d", what,
            durable - best, best);
  }
  cc_note("%s: recovered prefix %d", what, best);
  pg_suffix_lost += (uint64_t)(acked - best);
  if (best < acked) {
    pg_images_lost++;
    if (had_ip) pg_images_ip_lost++;
    if (ip_after_sync) pg_images_ip_after_sync_lost++;
  }
  if (mode == FIRKIN_SYNC_NONE && cm == FIRKIN_CRASH_DROP) {
    pg_none_drop++;
    if (best < acked) pg_none_drop_lost++;
  }
  pg_after(dir, db, obs, what);
}

int main(int argc, char **argv) {
  cc_parse_args(argc, argv);
  cc_resolve_optional();
  cc_rng r;
  cc_seed(&r, cc_seed_arg);
  char *base = cc_tmpdir("powerloss");
  for (int i = 1; i + 3 < argc; i++) {
    if (strcmp(argv[i], "--image") != 0) continue;
    int m = atoi(argv[i + 1]), c = atoi(argv[i + 2]);
    pl_fixed_seed = strtoull(argv[i + 3], NULL, 0);
    if (i + 4 < argc) pl_fixed_k = strtoull(argv[i + 4], NULL, 0);
    uint64_t seen = 0;
    cc_verbose = true;
    pl_image(base, &r, (firkin_sync_mode)m, (firkin_crash_mode)c, 0, &seen);
    printf("kept %s/db (and the files as the power loss left them: %s/db.crash)\n", base, base);
    return cc_finish();
  }
  for (int i = 1; i + 3 < argc; i++) {
    /* --inplace-image MODE CRASH SEED [K]: replay one image of part G */
    if (strcmp(argv[i], "--inplace-image") != 0) continue;
    int m = atoi(argv[i + 1]), c = atoi(argv[i + 2]);
    pg_fixed = true;
    pl_fixed_seed = strtoull(argv[i + 3], NULL, 0);
    if (i + 4 < argc) pl_fixed_k = strtoull(argv[i + 4], NULL, 0);
    uint64_t seen = 0;
    cc_verbose = true;
    pg_image(base, &r, (firkin_sync_mode)m, (firkin_crash_mode)c, 0, &seen);
    printf("kept %s/dbg\n", base);
    return cc_finish();
  }
  int iters = cc_long ? 150 : 25;
  const char *e = getenv("FIRKIN_POWERLOSS_ITERS");
  if (e) iters = atoi(e);

  const firkin_sync_mode modes[3] = {FIRKIN_SYNC_ALWAYS, FIRKIN_SYNC_INTERVAL, FIRKIN_SYNC_NONE};
  const firkin_crash_mode cms[4] = {FIRKIN_CRASH_DROP, FIRKIN_CRASH_PREFIX, FIRKIN_CRASH_GARBAGE,
                                    FIRKIN_CRASH_PAGES};
  for (int mi = 0; mi < 3; mi++) {
    for (int ci = 0; ci < 4; ci++) {
      char name[96];
      snprintf(name, sizeof name, "power loss, %s mode, %s", cc_mode_name(modes[mi]),
               cc_crash_name(cms[ci]));
      CC_GROUP(name, {
        uint64_t max_syncs = 0;
        for (int it = 0; it < iters; it++) {
          uint64_t seen = 0;
          pl_image(base, &r, modes[mi], cms[ci], max_syncs, &seen);
          if (seen > max_syncs) max_syncs = seen;
          if (cc_failed - cc_before_ > 20) break; /* per group, so later groups still run */
        }
      });
    }
  }
  for (int ci = 0; ci < 4; ci++) {
    char name[96];
    snprintf(name, sizeof name, "power loss during group commit (12 threads, always), %s",
             cc_crash_name(cms[ci]));
    CC_GROUP(name, {
      for (int it = 0; it < iters; it++) {
        pb_image(base, &r, cms[ci]);
        if (cc_failed - cc_before_ > 20) break;
      }
    });
  }
  CC_GROUP("power loss after a durable write whose segment follows one with its seal queued "
           "(none + always, drop)",
           { pe_image(base); });
  CC_GROUP("kill -9 after in-place updates in the segment after one whose seal is queued "
           "(none, kill)",
           { ph_image(base); });
  CC_GROUP("power loss that tears the batch ending a segment whose seal was queued: nothing "
           "after it kept (none, kill + torn)",
           { pj_image(base); });
  CC_GROUP("power loss after an update in place, firkin_sync and a durable write: the durable "
           "write is there (none + always, drop)",
           { pk_image(base, false); });
  CC_GROUP("power loss after an update in place, the interval flusher and a durable write: the "
           "durable write is there (interval + always, drop)",
           { pk_image(base, true); });
  CC_GROUP("power loss after `always` calls that wrote nothing (a delete of a deleted key, "
           "persist, a transaction): what they confirmed is durable (none + always, drop)",
           { for (int which = 0; which < 3; which++) pm_image(base, which); });
  CC_GROUP("power loss right after durable writes: all there, the watermark on disk not ahead "
           "(always, drop)",
           { pf_image(base, PF_INSTANT); });
  CC_GROUP("power loss 300 ms after durable writes: the watermark on disk covers them, damage "
           "to the last is corruption (always, drop)",
           { pf_image(base, PF_PAUSE); });
  CC_GROUP("power loss after 40 ms more of durable writes: the watermark on disk covers the "
           "first ones, damage to them is corruption (always, drop)",
           { pf_image(base, PF_STREAM); });
  if (cc_have_compact && !getenv("FIRKIN_CRASH_NO_COMPACT")) {
    CC_GROUP("power loss right after a compaction pass whose successors were not synced "
             "(none, drop)",
             { pi_image(base, false); });
    CC_GROUP("power loss right after a compaction pass whose successors were synced "
             "(none, drop)",
             { pi_image(base, true); });
  }
  CC_GROUP("power loss while compaction retires segments beside 4 writers (none, drop)", {
    for (int it = 0; it < iters * 2; it++) {
      pc_image(base, &r, it % 4 != 3);
      if (cc_failed - cc_before_ > 20) break;
    }
  });
  {
    const firkin_sync_mode bank_modes[2] = {FIRKIN_SYNC_ALWAYS, FIRKIN_SYNC_NONE};
    for (int mi = 0; mi < 2; mi++) {
      char name[128];
      snprintf(name, sizeof name, "power loss beside 4 transferring transactions (%s): bank total",
               cc_mode_name(bank_modes[mi]));
      CC_GROUP(name, {
        for (int it = 0; it < iters; it++) {
          pd_image(base, &r, bank_modes[mi], cms[it % 4]);
          if (cc_failed - cc_before_ > 20) break;
        }
      });
    }
  }
  {
    /* Part G, with its own random stream: the images of the parts above
     * stay what they were for a given seed. */
    cc_rng rg;
    cc_seed(&rg, cc_seed_arg ^ 0x1E1ACE5ull);
    int g_iters = cc_long ? 200 : 40;
    const char *ge = getenv("FIRKIN_POWERLOSS_INPLACE_ITERS");
    if (ge) g_iters = atoi(ge);
    const firkin_sync_mode g_modes[2] = {FIRKIN_SYNC_NONE, FIRKIN_SYNC_INTERVAL};
    for (int mi = 0; mi < 2; mi++) {
      for (int ci = 0; ci < 4; ci++) {
        char name[128];
        snprintf(name, sizeof name, "power loss with in-place updates, %s mode, %s",
                 cc_mode_name(g_modes[mi]), cc_crash_name(cms[ci]));
        CC_GROUP(name, {
          uint64_t max_syncs = 0;
          for (int it = 0; it < g_iters; it++) {
            uint64_t seen = 0;
            pg_image(base, &rg, g_modes[mi], cms[ci], max_syncs, &seen);
            if (seen > max_syncs) max_syncs = seen;
            if (cc_failed - cc_before_ > 20) break;
          }
        });
      }
    }
  }
  printf("powerloss: bank images %" PRIu64 ", %" PRIu64 " transfers recovered\n", pd_images,
         pd_transfers);
  printf("powerloss: compaction images %" PRIu64 ", %" PRIu64 " keys checked\n", pc_images,
         pc_checked);
  printf("powerloss: %" PRIu64 " crash images, %" PRIu64 " acknowledged ops, %" PRIu64
         " images lost a suffix (%" PRIu64 " ops in all; none+drop: %" PRIu64 " of %" PRIu64
         "), %" PRIu64 " always-mode images crashed after a segment roll\n",
         images, acked_ops_total, images_lost_some, suffix_lost_total, images_none_drop_lost,
         images_none_drop, always_images_after_roll);
  printf("powerloss in place: %" PRIu64 " crash images, %" PRIu64 " acknowledged ops; %" PRIu64
         " images updated in place before the crash (%" PRIu64 " updates; %" PRIu64 " of %" PRIu64
         " images with >= 100 ops acked), %" PRIu64 " also after the last firkin_sync; %" PRIu64
         " images lost a suffix (%" PRIu64 " ops in all; %" PRIu64 " with in-place updates, %" PRIu64
         " with some after the last sync; none+drop: %" PRIu64 " of %" PRIu64 "); after the "
         "recovery %" PRIu64 " of %" PRIu64 " updated in place again\n",
         pg_images, pg_acked_total, pg_images_ip, pg_ip_total, pg_images_busy_ip, pg_images_busy,
         pg_images_ip_after_sync, pg_images_lost, pg_suffix_lost, pg_images_ip_lost,
         pg_images_ip_after_sync_lost, pg_none_drop_lost, pg_none_drop, pg_post_ip_images,
         pg_post_images);
  cc_print_counts("powerloss ordered", &counts_a);
  cc_print_counts("powerloss group commit", &counts_b);
  cc_print_counts("powerloss in place", &counts_g);
  CC_GROUP("power loss: lost, corrupt, resurrected are 0", {
    CC_CHECK(counts_a.lost + counts_a.corrupt + counts_a.resurrected + counts_b.lost +
                     counts_b.corrupt + counts_b.resurrected + counts_g.lost + counts_g.corrupt +
                     counts_g.resurrected ==
                 0,
             "non-zero loss counts");
  });
  if (pg_images > 0) {
    CC_GROUP("power loss with in-place updates: the harness bites (updates in place before the "
             "crash, writes lost, in place again after the recovery)", {
      CC_CHECK(pg_images_busy_ip * 10 >= pg_images_busy * 9,
               "only %" PRIu64 " of %" PRIu64 " images with >= 100 ops acknowledged updated in "
               "place before the crash",
               pg_images_busy_ip, pg_images_busy);
      CC_CHECK(pg_images_ip * 2 > pg_images,
               "only %" PRIu64 " of %" PRIu64 " images updated in place before the crash",
               pg_images_ip, pg_images);
      CC_CHECK(pg_images_ip_lost > 0 && pg_images_ip_after_sync_lost > 0,
               "images with in-place updates that lost a write: %" PRIu64 " (%" PRIu64
               " with some after the last sync); want both > 0",
               pg_images_ip_lost, pg_images_ip_after_sync_lost);
      CC_CHECK(pg_none_drop_lost > 0, "no `none` + DROP image lost a write (of %" PRIu64 ")",
               pg_none_drop);
      CC_CHECK(pg_post_ip_images * 10 >= pg_post_images * 9,
               "only %" PRIu64 " of %" PRIu64 " recovered databases updated in place again",
               pg_post_ip_images, pg_post_images);
    });
  }
  CC_GROUP("power loss: the harness bites (none + drop loses writes)", {
    CC_CHECK(images_none_drop_lost > 0,
             "no `none` + DROP crash image lost a write: the fault env does not drop data");
    CC_CHECK(always_images_after_roll > 0, "no `always` image crashed after a segment roll");
  });
  cc_rmrf(base);
  free(base);
  return cc_finish();
}
