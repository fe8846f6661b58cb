/*
 * kill_test — crash-safety suite 1: kill -9 (DESIGN §3 promise 1, §11.2-4).
 *
 * Rounds. In each round a child process opens the database and runs
 * KT_THREADS (12) writer threads (puts, deletes, batches of 2..6 keys; thread 3
 * overrides every write to FIRKIN_SYNC_ALWAYS so group commit mixes with the
 * round's mode) plus a maintenance thread that calls firkin_compact and
 * firkin_checkpoint in a loop (when the core has them; auto compaction and
 * checkpoint_every run anyway). The database's sync mode rotates
 * none / interval / always. Segments are 256 KiB and each thread owns only
 * KT_KEYS keys, so segments roll, fill with dead bytes and get compacted.
 *
 * Each writer thread t is deterministic (its ops come from a PRNG seeded by
 * (seed, round, t)) and owns its keys. Before a call it appends
 * "pending i" to its ack log (outside the database, write(2), O_APPEND);
 * after the call returns FIRKIN_OK it appends "ack i". The parent SIGKILLs
 * the child at a random time, regenerates every thread's ops, applies the
 * acknowledged ones to its model, and reopens the database:
 *   - open must succeed;
 *   - the in-flight op of each thread (pending, not acked) may be applied
 *     or not, but a batch all or nothing;
 *   - every key equals the model: absent where the model says deleted
 *     (else "resurrected"), the acknowledged version or a newer in-flight
 *     one (else "lost"), and always an intact value of that key (else
 *     "corrupt");
 *   - an iteration sees exactly the live keys, and firkin_count agrees.
 * Every 6th round the parent first starts a recovering process and kills it
 * during its open ("kill the recovering process too").
 *
 * Default: KT_ROUNDS_SHORT rounds (about 30 s); --long: KT_ROUNDS_LONG.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "crash_common.h"

#define KT_THREADS 12 /* writers at once (thread ids fit the version's 4 bits) */
#define KT_KEYS 150 /* per thread */
#define KT_NKEYS (KT_THREADS * KT_KEYS)
#define KT_ROUNDS_SHORT 300
#define KT_ROUNDS_LONG 2000
#define KT_MAX_BATCH 6

typedef struct kt_op {
  int n;                        /* 1 = single put/delete, >1 = batch */
  uint32_t key[KT_MAX_BATCH];   /* global key ids */
  bool del[KT_MAX_BATCH];
  uint64_t ver[KT_MAX_BATCH];   /* version written (puts) */
} kt_op;

/* Version: round (24 bits) | thread (4) | op index (32) | batch slot (4).
 * Strictly increasing per key across rounds (one thread owns a key). */
static uint64_t kt_version(uint64_t round, int t, uint64_t i, int j) {
  return (round << 40) | ((uint64_t)t << 36) | (i << 4) | (uint64_t)j;
}
static uint64_t kt_ver_round(uint64_t v) { return v >> 40; }
static int kt_ver_thread(uint64_t v) { return (int)((v >> 36) & 15); }
static uint64_t kt_ver_op(uint64_t v) { return (v >> 4) & 0xFFFFFFFFull; }

static void kt_gen(cc_rng *r, uint64_t round, int t, uint64_t i, kt_op *op) {
  unsigned x = (unsigned)cc_below(r, 100);
  op->n = x < 70 ? 1 : 2 + (int)cc_below(r, KT_MAX_BATCH - 1);
  for (int j = 0; j < op->n; j++) {
    op->key[j] = (uint32_t)(t * KT_KEYS) + (uint32_t)cc_below(r, KT_KEYS);
    op->del[j] = x < 70 ? (x < 15) : cc_chance(r, 25);
    op->ver[j] = kt_version(round, t, i, j);
  }
}

/* ------------------------------------------------------------------------ */
/* Child                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct kt_ctx {
  firkin_db *db;
  uint64_t seed, round;
  int t;
  int ackfd;
} kt_ctx;

static void kt_log(int fd, uint64_t i, uint64_t what) {
  uint64_t rec[2] = {i, what};
  if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec) _exit(5);
}

static void *kt_writer(void *arg) {
  kt_ctx *c = (kt_ctx *)arg;
  cc_rng r;
  cc_seed(&r, c->seed ^ (c->round * 1000003u) ^ ((uint64_t)c->t << 56));
  firkin_write_options *wo = NULL;
  if (c->t == 3) {
    firkin_write_options_new(&wo);
    firkin_write_options_set_sync(wo, FIRKIN_SYNC_ALWAYS);
  }
  firkin_batch *b = NULL;
  firkin_batch_new(&b);
  unsigned char val[CC_VAL_MAX];
  for (uint64_t i = 0;; i++) {
    kt_op op;
    kt_gen(&r, c->round, c->t, i, &op);
    kt_log(c->ackfd, i, 0);
    firkin_status s;
    char key[CC_KEY_LEN];
    if (op.n == 1) {
      cc_key(key, op.key[0]);
      if (op.del[0]) {
        s = firkin_delete(c->db, wo, NULL, key, CC_KEY_LEN);
      } else {
        size_t vl = cc_value(val, op.key[0], op.ver[0]);
        s = firkin_put(c->db, wo, NULL, key, CC_KEY_LEN, val, vl);
      }
    } else {
      firkin_batch_clear(b);
      for (int j = 0; j < op.n; j++) {
        cc_key(key, op.key[j]);
        if (op.del[j]) {
          firkin_batch_delete(b, NULL, key, CC_KEY_LEN);
        } else {
          size_t vl = cc_value(val, op.key[j], op.ver[j]);
          firkin_batch_put(b, NULL, key, CC_KEY_LEN, val, vl);
        }
      }
      s = firkin_write(c->db, wo, b);
    }
    kt_log(c->ackfd, i, s == FIRKIN_OK ? 1 : 2);
    if (s != FIRKIN_OK) {
      fprintf(stderr, "child: thread %d op %" PRIu64 " failed: %s (%s)\n", c->t, i,
              firkin_strerror(s), firkin_last_error());
      _exit(6);
    }
  }
  return NULL;
}

static void *kt_maint(void *arg) {
  kt_ctx *c = (kt_ctx *)arg;
  cc_rng r;
  cc_seed(&r, c->seed ^ c->round ^ 0xABCDEF);
  for (;;) {
    usleep((useconds_t)(1000 + cc_below(&r, 10000)));
    firkin_status s = cc_chance(&r, 50) ? cc_compact(c->db) : cc_checkpoint(c->db);
    if (s != FIRKIN_OK && s != FIRKIN_E_NOT_SUPPORTED) {
      fprintf(stderr, "child: compact/checkpoint failed: %s (%s)\n", firkin_strerror(s),
              firkin_last_error());
      _exit(7);
    }
  }
  return NULL;
}

static void kt_child(const char *dir, const char *ackdir, uint64_t seed, uint64_t round,
                     firkin_sync_mode mode) {
  firkin_options *o = cc_options(mode, 256 * 1024);
  firkin_db *db = NULL;
  firkin_status s = firkin_open(dir, o, &db);
  if (s != FIRKIN_OK) {
    fprintf(stderr, "child: open failed: %s (%s)\n", firkin_strerror(s), firkin_last_error());
    _exit(4);
  }
  static kt_ctx ctx[KT_THREADS + 1];
  pthread_t th[KT_THREADS + 1];
  for (int t = 0; t <= KT_THREADS; t++) {
    ctx[t].db = db;
    ctx[t].seed = seed;
    ctx[t].round = round;
    ctx[t].t = t;
    ctx[t].ackfd = -1;
    if (t < KT_THREADS) {
      char p[4096];
      snprintf(p, sizeof p, "%s/ack-%d", ackdir, t);
      ctx[t].ackfd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
      if (ctx[t].ackfd < 0) _exit(3);
    }
  }
  /* Tell the parent the database is open (so kill times are spread over
   * the writing phase, not the open). */
  char p[4096];
  snprintf(p, sizeof p, "%s/opened", ackdir);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) close(fd);
  for (int t = 0; t <= KT_THREADS; t++)
    pthread_create(&th[t], NULL, t < KT_THREADS ? kt_writer : kt_maint, &ctx[t]);
  for (;;) pause();
}

/* A process that only recovers (opens), then closes; killed in the middle. */
static void kt_recover_child(const char *dir) {
  firkin_options *o = cc_options(FIRKIN_SYNC_NONE, 256 * 1024);
  firkin_db *db = NULL;
  firkin_status s = firkin_open(dir, o, &db);
  if (s != FIRKIN_OK) {
    fprintf(stderr, "recovering child: open failed: %s (%s)\n", firkin_strerror(s),
            firkin_last_error());
    _exit(4);
  }
  firkin_close(db);
  _exit(0);
}

/* ------------------------------------------------------------------------ */
/* Parent                                                                    */
/* ------------------------------------------------------------------------ */

static uint64_t model[KT_NKEYS];   /* current version, 0 = absent */
static cc_counts counts;
static uint64_t kills, recovery_kills, recovery_kills_mid_open, acked_total, inflight_applied,
    inflight_total;

/* Reads thread t's ack log: *last_ack = index of the last acked op + 1
 * (count), *pending = whether op *last_ack was started. Returns false on an
 * inconsistent log. */
static bool kt_read_acks(const char *ackdir, int t, uint64_t *acked, bool *pending,
                         bool *failed_op) {
  char p[4096];
  snprintf(p, sizeof p, "%s/ack-%d", ackdir, t);
  *acked = 0;
  *pending = false;
  *failed_op = false;
  int fd = open(p, O_RDONLY);
  if (fd < 0) return true; /* killed before the thread started */
  uint64_t rec[2];
  bool ok = true;
  ssize_t n;
  while ((n = read(fd, rec, sizeof rec)) == (ssize_t)sizeof rec) {
    if (rec[1] == 0) {
      if (rec[0] != *acked || *pending) ok = false;
      *pending = true;
    } else if (rec[1] == 1) {
      if (rec[0] != *acked || !*pending) ok = false;
      *pending = false;
      (*acked)++;
    } else {
      *failed_op = true;
    }
  }
  close(fd);
  return ok;
}

static firkin_status kt_get(firkin_db *db, uint32_t k, uint64_t *ver, bool *present,
                            bool *intact) {
  char key[CC_KEY_LEN];
  cc_key(key, k);
  void *v = NULL;
  size_t vl = 0;
  firkin_status s = firkin_get(db, NULL, NULL, key, CC_KEY_LEN, &v, &vl);
  *present = s == FIRKIN_OK;
  *intact = true;
  *ver = 0;
  if (s == FIRKIN_OK) *intact = cc_check_value(v, vl, k, ver);
  firkin_free(v);
  return s;
}

/* Is v a version that was really written (acked or in flight) before now? */
static uint64_t cur_round;
static uint64_t cur_acked[KT_THREADS];
static bool cur_pending[KT_THREADS];
static bool kt_known(uint64_t v) {
  if (v == 0) return false;
  uint64_t r = kt_ver_round(v);
  if (r < cur_round) return true;
  if (r > cur_round) return false;
  int t = kt_ver_thread(v);
  if (t >= KT_THREADS) return false;
  uint64_t i = kt_ver_op(v);
  return i < cur_acked[t] || (i == cur_acked[t] && cur_pending[t]);
}

static bool kt_verify(const char *dir, uint64_t seed) {
  firkin_options *o = cc_options(FIRKIN_SYNC_NONE, 256 * 1024);
  firkin_db *db = NULL;
  firkin_status s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    cc_fail("round %" PRIu64 ": open after kill failed: %s (%s)", cur_round, firkin_strerror(s),
            firkin_last_error());
    return false;
  }
  /* Resolve each thread's in-flight op against what the database holds. */
  for (int t = 0; t < KT_THREADS; t++) {
    if (!cur_pending[t]) continue;
    cc_rng r;
    cc_seed(&r, seed ^ (cur_round * 1000003u) ^ ((uint64_t)t << 56));
    kt_op op;
    for (uint64_t i = 0; i <= cur_acked[t]; i++) kt_gen(&r, cur_round, t, i, &op);
    uint64_t after[KT_MAX_BATCH];
    for (int j = 0; j < op.n; j++) after[j] = model[op.key[j]];
    for (int j = 0; j < op.n; j++) {
      uint64_t nv = op.del[j] ? 0 : op.ver[j];
      for (int m = 0; m < op.n; m++)
        if (op.key[m] == op.key[j]) after[m] = nv;
    }
    bool all_new = true, all_old = true;
    for (int j = 0; j < op.n; j++) {
      uint64_t ver;
      bool present, intact;
      kt_get(db, op.key[j], &ver, &present, &intact);
      uint64_t obs = present ? ver : 0;
      if (obs != after[j]) all_new = false;
      if (obs != model[op.key[j]]) all_old = false;
    }
    inflight_total++;
    if (all_new && !all_old) inflight_applied++;
    if (all_new) {
      for (int j = 0; j < op.n; j++) model[op.key[j]] = after[j];
    } else if (!all_old) {
      counts.corrupt++;
      cc_fail("round %" PRIu64 " thread %d: in-flight %s of %d keys partially applied",
              cur_round, t, op.n > 1 ? "batch" : "write", op.n);
    }
  }
  /* Every key against the model. */
  uint64_t live = 0;
  for (uint32_t k = 0; k < KT_NKEYS; k++) {
    uint64_t ver;
    bool present, intact;
    s = kt_get(db, k, &ver, &present, &intact);
    counts.checked++;
    if (s != FIRKIN_OK && s != FIRKIN_E_NOT_FOUND) {
      counts.corrupt++;
      cc_fail("round %" PRIu64 " key %u: get: %s (%s)", cur_round, k, firkin_strerror(s),
              firkin_last_error());
    } else if (present && !intact) {
      counts.corrupt++;
      cc_fail("round %" PRIu64 " key %u: value is not an intact value of the key", cur_round, k);
    } else if (model[k] == 0 && present) {
      if (kt_known(ver)) {
        counts.resurrected++;
        cc_fail("round %" PRIu64 " key %u: deleted, but version %" PRIx64 " came back",
                cur_round, k, ver);
      } else {
        counts.corrupt++;
        cc_fail("round %" PRIu64 " key %u: phantom version %" PRIx64, cur_round, k, ver);
      }
    } else if (model[k] != 0 && !present) {
      counts.lost++;
      cc_fail("round %" PRIu64 " key %u: acknowledged version %" PRIx64 " lost (absent)",
              cur_round, k, model[k]);
    } else if (model[k] != 0 && ver != model[k]) {
      if (ver < model[k] && kt_known(ver)) {
        counts.lost++;
        cc_fail("round %" PRIu64 " key %u: acknowledged version %" PRIx64
                " lost (older %" PRIx64 " found)",
                cur_round, k, model[k], ver);
      } else {
        counts.corrupt++;
        cc_fail("round %" PRIu64 " key %u: unexpected version %" PRIx64 " (expected %" PRIx64
                ")",
                cur_round, k, ver, model[k]);
      }
    }
    if (present) model[k] = intact ? ver : model[k];
    if (!present && model[k] != 0) model[k] = 0; /* keep going from what is there */
    if (present) live++;
  }
  /* Iteration and count agree with the gets. */
  uint64_t cnt = 0;
  firkin_count(db, NULL, &cnt);
  CC_CHECK(cnt == live, "round %" PRIu64 ": firkin_count %" PRIu64 " != %" PRIu64 " live keys",
           cur_round, cnt, live);
  firkin_iter *it = NULL;
  uint64_t seen = 0;
  if (firkin_iter_new(db, NULL, NULL, &it) == FIRKIN_OK) {
    for (; firkin_iter_valid(it); firkin_iter_next(it)) {
      const void *kp, *vp;
      size_t kl, vl;
      firkin_iter_key(it, &kp, &kl);
      firkin_iter_value(it, &vp, &vl);
      uint32_t k = 0;
      uint64_t ver = 0;
      bool ok = kl == CC_KEY_LEN && sscanf((const char *)kp, "k%8" SCNx32, &k) == 1 &&
                k < KT_NKEYS && cc_check_value(vp, vl, k, &ver) && ver == model[k];
      if (!ok) {
        counts.corrupt++;
        cc_fail("round %" PRIu64 ": iterator returned a wrong entry", cur_round);
      }
      seen++;
    }
    CC_CHECK(firkin_iter_status(it) == FIRKIN_OK, "round %" PRIu64 ": iterator status %s",
             cur_round, firkin_strerror(firkin_iter_status(it)));
    firkin_iter_free(it);
  }
  CC_CHECK(seen == live, "round %" PRIu64 ": iterator saw %" PRIu64 " entries, %" PRIu64 " live",
           cur_round, seen, live);
  if (cc_verbose && cur_round % 20 == 0) {
    char *js = NULL;
    if (firkin_stats(db, &js) == FIRKIN_OK) fprintf(stderr, "stats: %s\n", js);
    firkin_free(js);
  }
  if (cc_have_verify && cur_round % 10 == 0) {
    char *rep = NULL;
    s = cc_verify(db, &rep);
    CC_CHECK(s == FIRKIN_OK, "round %" PRIu64 ": firkin_verify: %s %s", cur_round,
             firkin_strerror(s), rep ? rep : "");
    firkin_free(rep);
  }
  s = firkin_close(db);
  CC_CHECK(s == FIRKIN_OK, "round %" PRIu64 ": close: %s", cur_round, firkin_strerror(s));
  return true;
}

static uint64_t restarts;

static uint64_t kt_dir_bytes(const char *dir) {
  char **names;
  int n = cc_list_dir(dir, &names);
  uint64_t total = 0;
  for (int i = 0; i < n; i++) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    int64_t sz = cc_file_size(p);
    if (sz > 0) total += (uint64_t)sz;
  }
  cc_free_names(names, n);
  return total;
}

static double kt_wait_file(const char *path, pid_t pid, double timeout) {
  double t0 = cc_now();
  while (cc_now() - t0 < timeout) {
    if (access(path, F_OK) == 0) return cc_now() - t0;
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) return -1;
    usleep(200);
  }
  return -2;
}

int main(int argc, char **argv) {
  cc_parse_args(argc, argv);
  cc_resolve_optional();
  uint64_t seed = cc_seed_arg;
  cc_rng r;
  cc_seed(&r, seed);
  char *dir = cc_tmpdir("kill");
  char *ackdir = cc_tmpdir("kill-ack");
  char dbdir[4096], opened[4096];
  snprintf(dbdir, sizeof dbdir, "%s/db", dir);
  snprintf(opened, sizeof opened, "%s/opened", ackdir);
  int rounds = cc_long ? KT_ROUNDS_LONG : KT_ROUNDS_SHORT;
  const char *e = getenv("FIRKIN_KILL_ROUNDS");
  if (e) rounds = atoi(e);
  double open_time = 0.002;
  int child_failures = 0;

  CC_GROUP("kill -9 rounds", {
    for (int round = 1; round <= rounds; round++) {
      cur_round = (uint64_t)round;
      firkin_sync_mode mode = (firkin_sync_mode)(round % 3);
      unlink(opened);
      fflush(stdout);
      fflush(stderr);
      pid_t pid = fork();
      if (pid == 0) kt_child(dbdir, ackdir, seed, (uint64_t)round, mode);
      double ot = kt_wait_file(opened, pid, 30);
      if (ot < 0) {
        int st = 0;
        if (ot == -2) {
          kill(pid, SIGKILL);
          waitpid(pid, &st, 0);
        }
        cc_fail("round %d: writer child did not open the database (exit status %d)", round, st);
        child_failures++;
        break;
      }
      /* Kill after 1..120 ms of writing (sometimes right away). */
      useconds_t delay = cc_chance(&r, 10) ? (useconds_t)cc_below(&r, 1000)
                                           : (useconds_t)(1000 + cc_below(&r, 120000));
      usleep(delay);
      kill(pid, SIGKILL);
      int st = 0;
      waitpid(pid, &st, 0);
      if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
        cc_fail("round %d: writer child died on its own (status %d)", round, st);
        child_failures++;
      }
      kills++;
      for (int t = 0; t < KT_THREADS; t++) {
        bool failed_op;
        if (!kt_read_acks(ackdir, t, &cur_acked[t], &cur_pending[t], &failed_op))
          cc_fail("round %d thread %d: inconsistent ack log", round, t);
        CC_CHECK(!failed_op, "round %d thread %d: a write failed in the child", round, t);
        acked_total += cur_acked[t];
        /* Apply the acknowledged ops to the model. */
        cc_rng tr;
        cc_seed(&tr, seed ^ ((uint64_t)round * 1000003u) ^ ((uint64_t)t << 56));
        for (uint64_t i = 0; i < cur_acked[t]; i++) {
          kt_op op;
          kt_gen(&tr, (uint64_t)round, t, i, &op);
          for (int j = 0; j < op.n; j++) model[op.key[j]] = op.del[j] ? 0 : op.ver[j];
        }
      }
      /* Sometimes kill a recovering process during its open. */
      if (round % 6 == 0) {
        pid_t rp = fork();
        if (rp == 0) kt_recover_child(dbdir);
        double d = open_time * (double)cc_below(&r, 1000) / 1000.0;
        usleep((useconds_t)(d * 1e6));
        kill(rp, SIGKILL);
        int rst = 0;
        waitpid(rp, &rst, 0);
        recovery_kills++;
        if (WIFSIGNALED(rst)) recovery_kills_mid_open++;
        else if (!(WIFEXITED(rst) && WEXITSTATUS(rst) == 0))
          cc_fail("round %d: recovering child failed (status %d)", round, rst);
      }
      double t0 = cc_now();
      if (!kt_verify(dbdir, seed)) break;
      /* Without compaction the log only grows: start afresh past 64 MiB so
       * that rounds stay short (with compaction it stays far smaller). */
      if (kt_dir_bytes(dbdir) > (64 << 20)) {
        cc_rmrf(dbdir);
        memset(model, 0, sizeof model);
        restarts++;
      }
      open_time = 0.5 * open_time + 0.5 * (cc_now() - t0);
      if (cc_failed > 50) break;
    }
  });
  printf("kill: %" PRIu64 " kills (%" PRIu64 " recovering processes killed, %" PRIu64
         " of them before their open finished), %" PRIu64 " acknowledged ops, %" PRIu64
         " in-flight ops (%" PRIu64 " found applied), %" PRIu64 " restarts from empty at 64 MiB\n",
         kills, recovery_kills, recovery_kills_mid_open, acked_total, inflight_total,
         inflight_applied, restarts);
  cc_print_counts("kill", &counts);
  CC_GROUP("kill -9: lost, corrupt, resurrected are 0", {
    CC_CHECK(counts.lost == 0 && counts.corrupt == 0 && counts.resurrected == 0,
             "lost %" PRIu64 ", corrupt %" PRIu64 ", resurrected %" PRIu64, counts.lost,
             counts.corrupt, counts.resurrected);
  });
  CC_GROUP("kill -9: the harness bites (writes acknowledged, kills landed mid-write)", {
    CC_CHECK(acked_total > (uint64_t)rounds, "only %" PRIu64 " acknowledged ops", acked_total);
    CC_CHECK(inflight_total > 0, "no kill landed while a write was in flight");
    CC_CHECK(child_failures == 0, "%d child failures", child_failures);
  });
  if (cc_failed == 0) {
    cc_rmrf(dir);
    cc_rmrf(ackdir);
  } else {
    printf("kept %s and %s for inspection\n", dbdir, ackdir);
  }
  free(dir);
  free(ackdir);
  return cc_finish();
}
