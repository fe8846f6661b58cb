/*
 * model_core.h — the interpreter shared by the model-based fuzzing driver
 * (model_fuzz.c, seeded, runs in `make test`) and the libFuzzer target
 * (fuzz_target.c). It reads a byte string as a sequence of operations,
 * applies each to the database and to an in-memory model, and checks every
 * observation against the model.
 *
 * Operations (first byte of each, modulo MF_OP_COUNT; then parameters):
 *   put, delete, batch (1..6 puts/deletes over both namespaces, the same
 *   key possibly twice), cas (with the current value or a wrong one),
 *   cas_version (current version, a wrong one, 0 = "absent"),
 *   put_if_absent, get, snapshot (take one of 4 slots, with a copy of the
 *   model), snapshot read (get / iterate at a snapshot), iterate (latest),
 *   compact, checkpoint, reopen (close + open), crash-reopen (power loss
 *   through the fault environment, DROP or PREFIX, then open on a fresh
 *   environment), reopen without the checkpoint (it is only a hint, so the
 *   state must not change), release a snapshot.
 * The database syncs every write (FIRKIN_SYNC_ALWAYS), so the model stays
 * exact across power losses. Versions (firkin_get_version) are checked to
 * be stable while a key is not written, to grow when it is, and to survive
 * reopens and crashes.
 */
#ifndef FIRKIN_MODEL_CORE_H
#define FIRKIN_MODEL_CORE_H

#include "crash_common.h"

#define MF_NS 2
#define MF_KEYS 24
#define MF_SNAPS 4

typedef struct mf_model {
  uint64_t ver[MF_NS][MF_KEYS];   /* value version, 0 = absent */
} mf_model;

typedef struct mf {
  char dir[4096];
  firkin_db *db;
  firkin_fault_env *env;
  firkin_ns *ns[MF_NS]; /* [0] = NULL (default) */
  mf_model m;
  uint64_t dbver[MF_NS][MF_KEYS]; /* last seen firkin version, 0 unknown */
  firkin_snapshot *snap[MF_SNAPS];
  mf_model snapm[MF_SNAPS];
  uint64_t next_ver;
  uint64_t ops, checks, failures, reopens, crashes, compacts, checkpoints;
  uint64_t damages, damaged_opens_refused;
  const uint8_t *p;
  size_t left;
  bool abort_on_failure;
  unsigned char val[CC_VAL_MAX];
} mf;

static CC_PRINTF(2, 3) void mf_fail(mf *f, const char *fmt, ...) {
  f->failures++;
  va_list ap;
  va_start(ap, fmt);
  if (f->failures <= 20) {
    fprintf(stderr, "MODEL MISMATCH (op %" PRIu64 "): ", f->ops);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
  }
  va_end(ap);
  if (f->abort_on_failure) abort();
}

static uint8_t mf_byte(mf *f) {
  if (f->left == 0) return 0;
  f->left--;
  return *f->p++;
}

static uint32_t mf_kid(int ns, int k) { return (uint32_t)(ns * 1000 + k); }

static void mf_close_children(mf *f) {
  for (int i = 0; i < MF_SNAPS; i++) {
    firkin_snapshot_free(f->snap[i]);
    f->snap[i] = NULL;
  }
  for (int i = 1; i < MF_NS; i++) {
    firkin_ns_close(f->ns[i]);
    f->ns[i] = NULL;
  }
}

static firkin_options *mf_opts(mf *f) {
  firkin_options *o = cc_options(FIRKIN_SYNC_ALWAYS, 64 * 1024);
  firkin_options_set(o, "checkpoint_every", "256K");
  if (f->env) firkin_options_set_fault_env(o, f->env);
  return o;
}

static bool mf_open(mf *f) {
  firkin_options *o = mf_opts(f);
  firkin_status s = firkin_open(f->dir, o, &f->db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) {
    mf_fail(f, "open: %s (%s)", firkin_strerror(s), firkin_last_error());
    f->db = NULL;
    return false;
  }
  s = firkin_ns_open(f->db, "second", true, &f->ns[1]);
  if (s != FIRKIN_OK) {
    mf_fail(f, "ns_open: %s (%s)", firkin_strerror(s), firkin_last_error());
    return false;
  }
  return true;
}

static bool mf_init(mf *f, const char *dir) {
  memset(f, 0, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "%s", dir);
  f->next_ver = 1;
  firkin_fault_env_new(&f->env);
  return mf_open(f);
}

static void mf_destroy(mf *f) {
  mf_close_children(f);
  if (f->db) firkin_close(f->db);
  f->db = NULL;
  if (f->env) firkin_fault_env_free(f->env);
  f->env = NULL;
}

/* Compares one key with the model (at snap, with model m). */
static void mf_check_key(mf *f, const firkin_snapshot *snap, const mf_model *m, int ns, int k,
                         const char *what) {
  char key[CC_KEY_LEN];
  cc_key(key, mf_kid(ns, k));
  void *v = NULL;
  size_t vl = 0;
  firkin_status s = firkin_get(f->db, snap, f->ns[ns], key, CC_KEY_LEN, &v, &vl);
  f->checks++;
  uint64_t want = m->ver[ns][k];
  if (s == FIRKIN_OK) {
    uint64_t ver;
    if (!cc_check_value(v, vl, mf_kid(ns, k), &ver)) {
      mf_fail(f, "%s: ns %d key %d: corrupt value", what, ns, k);
    } else if (ver != want) {
      mf_fail(f, "%s: ns %d key %d: version %" PRIu64 ", model %" PRIu64, what, ns, k, ver, want);
    }
  } else if (s == FIRKIN_E_NOT_FOUND) {
    if (want != 0) mf_fail(f, "%s: ns %d key %d: absent, model %" PRIu64, what, ns, k, want);
  } else {
    mf_fail(f, "%s: ns %d key %d: get: %s (%s)", what, ns, k, firkin_strerror(s),
            firkin_last_error());
  }
  firkin_free(v);
  /* the version: stable unless written */
  if (snap == NULL) {
    uint64_t dv = 0;
    s = firkin_get_version(f->db, NULL, f->ns[ns], key, CC_KEY_LEN, &dv);
    if (want == 0) {
      if (s != FIRKIN_E_NOT_FOUND)
        mf_fail(f, "%s: get_version of absent key: %s", what, firkin_strerror(s));
    } else if (s != FIRKIN_OK || dv == 0) {
      mf_fail(f, "%s: get_version: %s", what, firkin_strerror(s));
    } else {
      if (f->dbver[ns][k] != 0 && f->dbver[ns][k] != dv)
        mf_fail(f, "%s: ns %d key %d: version changed from %" PRIu64 " to %" PRIu64
                " without a write", what, ns, k, f->dbver[ns][k], dv);
      f->dbver[ns][k] = dv;
    }
  }
}

static void mf_iterate(mf *f, const firkin_snapshot *snap, const mf_model *m, int ns,
                       const char *what) {
  firkin_iter *it = NULL;
  firkin_status s = firkin_iter_new(f->db, snap, f->ns[ns], &it);
  if (s != FIRKIN_OK) {
    mf_fail(f, "%s: iter_new: %s", what, firkin_strerror(s));
    return;
  }
  bool seen[MF_KEYS] = {false};
  for (; firkin_iter_valid(it); firkin_iter_next(it)) {
    const void *kp, *vp;
    size_t kl, vl;
    firkin_iter_key(it, &kp, &kl);
    firkin_iter_value(it, &vp, &vl);
    unsigned kid = 0;
    char kb[CC_KEY_LEN + 1] = {0};
    if (kl == CC_KEY_LEN) memcpy(kb, kp, CC_KEY_LEN);
    uint64_t ver = 0;
    if (kl != CC_KEY_LEN || sscanf(kb, "k%8x!", &kid) != 1 || kid / 1000 != (unsigned)ns ||
        kid % 1000 >= MF_KEYS || !cc_check_value(vp, vl, kid, &ver)) {
      mf_fail(f, "%s: iterator returned a foreign or corrupt entry", what);
      continue;
    }
    int k = (int)(kid % 1000);
    if (seen[k]) mf_fail(f, "%s: iterator returned key %d twice", what, k);
    seen[k] = true;
    if (m->ver[ns][k] != ver)
      mf_fail(f, "%s: iterator: key %d version %" PRIu64 ", model %" PRIu64, what, k, ver,
              m->ver[ns][k]);
  }
  if (firkin_iter_status(it) != FIRKIN_OK)
    mf_fail(f, "%s: iter_status %s", what, firkin_strerror(firkin_iter_status(it)));
  firkin_iter_free(it);
  for (int k = 0; k < MF_KEYS; k++)
    if (m->ver[ns][k] != 0 && !seen[k]) mf_fail(f, "%s: iterator missed key %d", what, k);
  f->checks++;
}

static void mf_check_all(mf *f, const char *what) {
  for (int ns = 0; ns < MF_NS; ns++) {
    uint64_t live = 0;
    for (int k = 0; k < MF_KEYS; k++) {
      mf_check_key(f, NULL, &f->m, ns, k, what);
      live += f->m.ver[ns][k] != 0;
    }
    mf_iterate(f, NULL, &f->m, ns, what);
    uint64_t cnt = 0;
    if (firkin_count(f->db, f->ns[ns], &cnt) != FIRKIN_OK || cnt != live)
      mf_fail(f, "%s: namespace %d: firkin_count %" PRIu64 ", model %" PRIu64, what, ns, cnt,
              live);
  }
}

static void mf_wrote(mf *f, int ns, int k, uint64_t ver) {
  f->m.ver[ns][k] = ver;
  /* the next observed version must be new */
  uint64_t old = f->dbver[ns][k];
  f->dbver[ns][k] = 0;
  if (ver != 0) {
    char key[CC_KEY_LEN];
    cc_key(key, mf_kid(ns, k));
    uint64_t dv = 0;
    if (firkin_get_version(f->db, NULL, f->ns[ns], key, CC_KEY_LEN, &dv) == FIRKIN_OK) {
      if (old != 0 && dv <= old)
        mf_fail(f, "version of ns %d key %d did not grow (%" PRIu64 " -> %" PRIu64 ")", ns, k,
                old, dv);
      f->dbver[ns][k] = dv;
    }
  }
}

static void mf_expect(mf *f, firkin_status s, firkin_status want, const char *what) {
  if (s != want)
    mf_fail(f, "%s: status %s, expected %s (%s)", what, firkin_strerror(s),
            firkin_strerror(want), firkin_last_error());
}

static bool mf_reopen(mf *f, int how, uint8_t arg) {
  mf_close_children(f);
  if (how == 1) {
    /* power loss: DROP, PREFIX or PAGES (GARBAGE is covered by powerloss_test) */
    firkin_fault_env_crash(f->env,
                           arg % 3 == 0   ? FIRKIN_CRASH_DROP
                           : arg % 3 == 1 ? FIRKIN_CRASH_PREFIX
                                          : FIRKIN_CRASH_PAGES,
                           arg);
    f->crashes++;
  }
  firkin_close(f->db);
  f->db = NULL;
  firkin_fault_env_free(f->env);
  f->env = NULL;
  firkin_fault_env_new(&f->env);
  if (how == 2) cc_remove_checkpoints(f->dir);
  f->reopens++;
  if (!mf_open(f)) return false;
  mf_check_all(f, how == 0 ? "after reopen" : how == 1 ? "after power loss" : "after reopen without checkpoint");
  return true;
}

/* Damage check (issue 9): a clean copy of the database as of now is
 * damaged in one of the classes below and opened with the plain
 * environment; every key must then read as the model says, or fail with an
 * error status: never another value, never absent when the model has it,
 * never present when the model has not. The run goes on with the original.
 * Classes: a random bit of a random segment; a high bit of the first
 * record's sequence number; an emptied segment; a segment's header pages
 * and first record zeroed; a CHECKPOINT cut in half; a sparse 64 GiB
 * CHECKPOINT; a stale CHECKPOINT (from an earlier damage op); a FIFO named
 * like a segment. */
static int mf_segments(const char *dir, char names[][64], int max) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < max) {
    size_t l = strlen(e->d_name);
    if (l == 20 && strcmp(e->d_name + 16, ".seg") == 0) snprintf(names[n++], 64, "%s", e->d_name);
  }
  closedir(d);
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char t[64];
      memcpy(t, names[j], 64);
      memcpy(names[j], names[j - 1], 64);
      memcpy(names[j - 1], t, 64);
    }
  return n;
}

static void mf_poke(const char *path, long off, int bit, bool zero_len, long len) {
  FILE *fp = fopen(path, "r+b");
  if (!fp) return;
  if (zero_len) {
    for (long i = 0; i < len; i++) fputc(0, fp);
  } else if (fseek(fp, off, SEEK_SET) == 0) {
    int ch = fgetc(fp);
    if (ch != EOF) {
      fseek(fp, off, SEEK_SET);
      fputc(ch ^ (1 << bit), fp);
    }
  }
  fclose(fp);
}

static void mf_damage_check(mf *f, uint8_t arg, uint8_t where) {
  mf_close_children(f);
  firkin_status cs = firkin_close(f->db);
  if (cs != FIRKIN_OK) mf_fail(f, "damage: close: %s (%s)", firkin_strerror(cs), firkin_last_error());
  f->db = NULL;
  char copy[4200], path[4400], cmd[9000];
  if (cc_verbose) {
    snprintf(cmd, sizeof cmd, "ls -l '%s' >&2", f->dir);
    if (system(cmd) != 0) { /* diagnostics only */ }
  }
  snprintf(copy, sizeof copy, "%s.dmg", f->dir);
  cc_rmrf(copy);
  snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", f->dir, copy);
  if (system(cmd) != 0) mf_fail(f, "damage: copying the database failed");
  char stale[4200];
  snprintf(stale, sizeof stale, "%s.stale-ckpt", f->dir);
  char segs[256][64];
  const int n = mf_segments(copy, segs, 256);
  const char *seg = n > 0 ? segs[where % n] : NULL;
  if (seg) snprintf(path, sizeof path, "%s/%s", copy, seg);
  char ckpt[4400];
  snprintf(ckpt, sizeof ckpt, "%s/CHECKPOINT", copy);
  struct stat st;
  const int cls = arg % 8;
  switch (cls) {
    case 0:
      if (seg && stat(path, &st) == 0 && st.st_size > 8192)
        mf_poke(path, 8192 + (long)((where * 2654435761u) % (uint64_t)(st.st_size - 8192)),
                arg % 8, false, 0);
      break;
    case 1:
      if (seg) mf_poke(path, 8192 + 8 + 6, 7, false, 0);
      break;
    case 2:
      if (seg && truncate(path, 0) != 0) mf_fail(f, "damage: truncate");
      break;
    case 3:
      if (seg) mf_poke(path, 0, 0, true, 8192 + 4096);
      break;
    case 4:
      if (stat(ckpt, &st) == 0 && truncate(ckpt, st.st_size / 2) != 0) mf_fail(f, "truncate");
      break;
    case 5:
      if (stat(ckpt, &st) == 0 && truncate(ckpt, 64ll << 30) != 0) mf_fail(f, "truncate");
      break;
    case 6:
      if (stat(stale, &st) == 0) {
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", stale, ckpt);
        if (system(cmd) != 0) mf_fail(f, "damage: stale checkpoint");
      }
      break;
    case 7: {
      char fifo[4400];
      snprintf(fifo, sizeof fifo, "%s/00000000000fffff.seg", copy);
      if (mkfifo(fifo, 0600) != 0) mf_fail(f, "damage: mkfifo");
      break;
    }
  }
  /* Remember this checkpoint: a later damage op may put it back (stale). */
  snprintf(cmd, sizeof cmd, "cp '%s/CHECKPOINT' '%s' 2>/dev/null", f->dir, stale);
  if (system(cmd) != 0) { /* no checkpoint yet */ }
  if (cc_verbose)
    fprintf(stderr, "damage class %d: %s (where %u arg %u)\n", cls, seg ? seg : "-", where, arg);
  firkin_options *o = cc_options(FIRKIN_SYNC_ALWAYS, 64 * 1024);
  firkin_db *d = NULL;
  firkin_status s = firkin_open(copy, o, &d);
  firkin_options_free(o);
  f->damages++;
  if (s != FIRKIN_OK) f->damaged_opens_refused++;
  if (s == FIRKIN_OK) {
    firkin_ns *nss[MF_NS] = {NULL, NULL};
    firkin_status ns_s = firkin_ns_open(d, "second", false, &nss[1]);
    for (int ns = 0; ns < MF_NS; ns++) {
      for (int k = 0; k < MF_KEYS; k++) {
        const uint64_t want = f->m.ver[ns][k];
        if (ns == 1 && ns_s != FIRKIN_OK) {
          if (ns_s == FIRKIN_E_NAMESPACE_NOT_FOUND && want != 0)
            mf_fail(f, "damage class %d: namespace lost silently (key %d)", cls, k);
          continue;
        }
        char key[CC_KEY_LEN];
        cc_key(key, mf_kid(ns, k));
        void *v = NULL;
        size_t vl = 0;
        firkin_status g = firkin_get(d, NULL, nss[ns], key, CC_KEY_LEN, &v, &vl);
        f->checks++;
        uint64_t ver = 0;
        if (g == FIRKIN_OK) {
          if (!cc_check_value(v, vl, mf_kid(ns, k), &ver) || ver != want)
            mf_fail(f, "damage class %d: ns %d key %d: wrong value (version %" PRIu64
                    ", model %" PRIu64 ")", cls, ns, k, ver, want);
        } else if (g == FIRKIN_E_NOT_FOUND && want != 0) {
          mf_fail(f, "damage class %d: ns %d key %d: absent, model %" PRIu64, cls, ns, k, want);
        }
        firkin_free(v);
      }
    }
    firkin_ns_close(nss[1]);
    firkin_close(d);
  }
  if (getenv("MF_KEEP_DAMAGED") && f->failures > 0) {
    fprintf(stderr, "damaged copy kept: %s\n", copy);
    exit(1);
  }
  cc_rmrf(copy);
  firkin_fault_env_free(f->env);
  f->env = NULL;
  firkin_fault_env_new(&f->env);
  mf_open(f);
}

enum {
  MF_PUT, MF_DELETE, MF_BATCH, MF_CAS, MF_CAS_VERSION, MF_PUT_IF_ABSENT, MF_GET, MF_SNAPSHOT,
  MF_SNAP_READ, MF_ITERATE, MF_COMPACT, MF_CHECKPOINT, MF_REOPEN, MF_CRASH_REOPEN,
  MF_REOPEN_NO_CKPT, MF_SNAP_FREE, MF_DAMAGE, MF_OP_COUNT
};

/* Executes one op. Returns false when the run must stop (db lost). */
static bool mf_step(mf *f) {
  uint8_t op = mf_byte(f);
  /* weights: writes are common, reopens rare */
  static const uint8_t table[64] = {
      MF_PUT, MF_PUT, MF_PUT, MF_PUT, MF_PUT, MF_PUT, MF_PUT, MF_PUT, MF_PUT, MF_PUT, MF_PUT,
      MF_PUT, MF_DELETE, MF_DELETE, MF_DELETE, MF_DELETE, MF_BATCH, MF_BATCH, MF_BATCH, MF_BATCH,
      MF_BATCH, MF_BATCH, MF_CAS, MF_CAS, MF_CAS, MF_CAS, MF_CAS_VERSION, MF_CAS_VERSION,
      MF_CAS_VERSION, MF_CAS_VERSION, MF_PUT_IF_ABSENT, MF_PUT_IF_ABSENT, MF_PUT_IF_ABSENT,
      MF_GET, MF_GET, MF_GET, MF_GET, MF_SNAPSHOT, MF_SNAPSHOT, MF_SNAP_READ, MF_SNAP_READ,
      MF_SNAP_READ, MF_SNAP_READ, MF_ITERATE, MF_ITERATE, MF_COMPACT, MF_COMPACT, MF_CHECKPOINT,
      MF_REOPEN, MF_CRASH_REOPEN, MF_CRASH_REOPEN, MF_REOPEN_NO_CKPT, MF_SNAP_FREE, MF_SNAP_FREE,
      MF_PUT, MF_PUT, MF_PUT, MF_PUT, MF_PUT, MF_DELETE, MF_DELETE, MF_BATCH, MF_GET, MF_DAMAGE};
  int kind = table[op % 64];
  uint8_t a = mf_byte(f), b = mf_byte(f);
  int ns = a & 1, k = (a >> 1) % MF_KEYS;
  if (cc_verbose) {
    static const char *names[MF_OP_COUNT] = {
        "put", "delete", "batch", "cas", "cas_version", "put_if_absent", "get", "snapshot",
        "snap_read", "iterate", "compact", "checkpoint", "reopen", "crash_reopen",
        "reopen_no_ckpt", "snap_free", "damage"};
    fprintf(stderr, "op %" PRIu64 ": %s ns %d key %d arg %u\n", f->ops, names[kind], ns, k, b);
  }
  char key[CC_KEY_LEN];
  cc_key(key, mf_kid(ns, k));
  firkin_ns *h = f->ns[ns];
  f->ops++;
  firkin_status s;
  switch (kind) {
    case MF_PUT: {
      uint64_t ver = f->next_ver++;
      size_t vl = cc_value(f->val, mf_kid(ns, k), ver);
      s = firkin_put(f->db, NULL, h, key, CC_KEY_LEN, f->val, vl);
      mf_expect(f, s, FIRKIN_OK, "put");
      if (s == FIRKIN_OK) mf_wrote(f, ns, k, ver);
      break;
    }
    case MF_DELETE:
      s = firkin_delete(f->db, NULL, h, key, CC_KEY_LEN);
      mf_expect(f, s, FIRKIN_OK, "delete");
      if (s == FIRKIN_OK) mf_wrote(f, ns, k, 0);
      break;
    case MF_BATCH: {
      int n = 1 + b % 6;
      firkin_batch *bt = NULL;
      firkin_batch_new(&bt);
      int bns[6], bk[6];
      uint64_t bv[6];
      for (int j = 0; j < n; j++) {
        uint8_t c = mf_byte(f);
        bns[j] = c & 1;
        bk[j] = (c >> 1) % MF_KEYS;
        bool del = (c & 0x80) != 0 && (c & 0x40) != 0;
        cc_key(key, mf_kid(bns[j], bk[j]));
        if (del) {
          bv[j] = 0;
          firkin_batch_delete(bt, f->ns[bns[j]], key, CC_KEY_LEN);
        } else {
          bv[j] = f->next_ver++;
          size_t vl = cc_value(f->val, mf_kid(bns[j], bk[j]), bv[j]);
          firkin_batch_put(bt, f->ns[bns[j]], key, CC_KEY_LEN, f->val, vl);
        }
      }
      s = firkin_write(f->db, NULL, bt);
      firkin_batch_free(bt);
      mf_expect(f, s, FIRKIN_OK, "batch");
      if (s == FIRKIN_OK) {
        for (int j = 0; j < n; j++) {
          bool later = false; /* the later op on a key wins */
          for (int q = j + 1; q < n; q++) later |= bns[q] == bns[j] && bk[q] == bk[j];
          if (!later) mf_wrote(f, bns[j], bk[j], bv[j]);
        }
      }
      break;
    }
    case MF_CAS: {
      uint64_t cur = f->m.ver[ns][k];
      bool right = (b & 3) != 0 && cur != 0;
      unsigned char exp[CC_VAL_MAX];
      size_t el = cur ? cc_value(exp, mf_kid(ns, k), cur) : 0;
      if (!right && el > 0) exp[el - 1] ^= 1; /* a wrong expected value */
      if (!right && el == 0) el = cc_value(exp, mf_kid(ns, k), 12345);
      uint64_t ver = f->next_ver++;
      size_t vl = cc_value(f->val, mf_kid(ns, k), ver);
      s = firkin_cas(f->db, NULL, h, key, CC_KEY_LEN, exp, el, f->val, vl);
      if (right) {
        mf_expect(f, s, FIRKIN_OK, "cas (matching)");
        if (s == FIRKIN_OK) mf_wrote(f, ns, k, ver);
      } else {
        mf_expect(f, s, FIRKIN_E_CONDITION_FAILED, "cas (not matching)");
      }
      break;
    }
    case MF_CAS_VERSION: {
      uint64_t cur = 0;
      if (f->m.ver[ns][k] != 0) {
        s = firkin_get_version(f->db, NULL, h, key, CC_KEY_LEN, &cur);
        mf_expect(f, s, FIRKIN_OK, "get_version");
      }
      int mode = b % 3; /* 0 current, 1 wrong, 2 zero */
      uint64_t expv = mode == 0 ? cur : mode == 1 ? cur + 1 + (b >> 2) : 0;
      bool ok = expv == cur;
      uint64_t ver = f->next_ver++;
      size_t vl = cc_value(f->val, mf_kid(ns, k), ver);
      s = firkin_cas_version(f->db, NULL, h, key, CC_KEY_LEN, expv, f->val, vl);
      mf_expect(f, s, ok ? FIRKIN_OK : FIRKIN_E_CONDITION_FAILED, "cas_version");
      if (s == FIRKIN_OK) mf_wrote(f, ns, k, ver);
      break;
    }
    case MF_PUT_IF_ABSENT: {
      uint64_t ver = f->next_ver++;
      size_t vl = cc_value(f->val, mf_kid(ns, k), ver);
      s = firkin_put_if_absent(f->db, NULL, h, key, CC_KEY_LEN, f->val, vl);
      bool absent = f->m.ver[ns][k] == 0;
      mf_expect(f, s, absent ? FIRKIN_OK : FIRKIN_E_CONDITION_FAILED, "put_if_absent");
      if (s == FIRKIN_OK) mf_wrote(f, ns, k, ver);
      break;
    }
    case MF_GET:
      mf_check_key(f, NULL, &f->m, ns, k, "get");
      break;
    case MF_SNAPSHOT: {
      int i = b % MF_SNAPS;
      firkin_snapshot_free(f->snap[i]);
      f->snap[i] = NULL;
      s = firkin_snapshot_new(f->db, &f->snap[i]);
      mf_expect(f, s, FIRKIN_OK, "snapshot_new");
      f->snapm[i] = f->m;
      break;
    }
    case MF_SNAP_READ: {
      int i = b % MF_SNAPS;
      if (!f->snap[i]) break;
      if (b & 0x80) mf_iterate(f, f->snap[i], &f->snapm[i], ns, "iterate at snapshot");
      else mf_check_key(f, f->snap[i], &f->snapm[i], ns, k, "get at snapshot");
      break;
    }
    case MF_ITERATE:
      mf_iterate(f, NULL, &f->m, ns, "iterate");
      break;
    case MF_COMPACT:
      s = cc_compact(f->db);
      if (s != FIRKIN_E_NOT_SUPPORTED) {
        mf_expect(f, s, FIRKIN_OK, "compact");
        f->compacts++;
        if (b & 1) mf_check_all(f, "after compact");
      }
      break;
    case MF_CHECKPOINT:
      s = cc_checkpoint(f->db);
      if (s != FIRKIN_E_NOT_SUPPORTED) {
        mf_expect(f, s, FIRKIN_OK, "checkpoint");
        f->checkpoints++;
      }
      break;
    case MF_REOPEN:
      return mf_reopen(f, 0, b);
    case MF_CRASH_REOPEN:
      return mf_reopen(f, 1, b);
    case MF_REOPEN_NO_CKPT:
      return mf_reopen(f, 2, b);
    case MF_DAMAGE:
      mf_damage_check(f, b, a);
      return f->db != NULL;
    case MF_SNAP_FREE: {
      int i = b % MF_SNAPS;
      firkin_snapshot_free(f->snap[i]);
      f->snap[i] = NULL;
      break;
    }
  }
  return true;
}

/* Runs a whole byte string on a fresh database in dir. */
static void mf_run(mf *f, const char *dir, const uint8_t *data, size_t size) {
  if (!mf_init(f, dir)) {
    mf_destroy(f);
    return;
  }
  f->p = data;
  f->left = size;
  while (f->left > 0 && f->failures == 0) {
    if (!mf_step(f)) break;
  }
  if (f->db && f->failures == 0) {
    mf_check_all(f, "at the end");
    mf_reopen(f, 1, 0);
  }
  mf_destroy(f);
}

#endif /* FIRKIN_MODEL_CORE_H */
