/*
 * verify_test — firkin_verify as a check of the index against the log.
 *
 * Besides every record's checksum and every index entry pointing at its
 * key's newest record, verify holds the log against the index: every key
 * record of a live namespace is reached by its key's newest entry (at
 * least as new), and each namespace's key counts are its index entries'
 * (DB::Verify). The cases:
 *
 *   online   verify again and again beside 4 writers (puts, deletes, TTL
 *            puts that expire, batches), namespaces created and dropped,
 *            background compaction on 64 KiB segments and firkin_compact:
 *            every verify says ok (a false alarm there is a defect too)
 *   drop_race  6 writers put into a namespace through handles opened before
 *            each drop while the main thread drops it, verifies and creates
 *            it again, 250 times: every verify says ok (no entry of the
 *            dropped namespace left), and so does one after compaction; in
 *            the change feed no put into it comes between a drop and the
 *            next create
 *   drop_get a snapshot's gets and iterator beside a thread that drops,
 *            creates and fills the namespace again and again: a key the
 *            snapshot holds reads OK or FIRKIN_E_NAMESPACE_NOT_FOUND, never
 *            NOT_FOUND (a race of two loads: before its fix it showed in
 *            about 1 run of 2 of 10 s; this runs 3 s)
 *   forged   a CHECKPOINT re-signed without one index entry (the open
 *            installs it: each entry it has is right, and the key is lost),
 *            and one with a namespace's key count raised: verify reports
 *            the key record no entry reaches, and the count
 *   torn_batch  a crash tore a batch's commit record (the log's watermark
 *            lowered to the header, the commit record zeroed; a plain and
 *            an encrypted database): recovery
 *            discards the batch's 2 records, and verify on the writer's
 *            handle says ok, at that open and the next (before the fifth outside review
 *            it reported each as a record the index lost, on every open
 *            until a compaction); a committed batch's record that lost its
 *            entry (a CHECKPOINT re-signed without it) is still reported
 *   damage_read  a value byte changed while a writer's and a reader's
 *            handles are open: verify on each reports it, and a get of the
 *            key on that handle then says FIRKIN_E_CORRUPTION, never the
 *            damaged bytes
 *
 * Usage: verify_test [CASE...] (default: all). Ends with "N passed, N failed".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <dirent.h>

#include "checkpoint_file.h"
#include "firkin.h"
#include "forked_cases.h"
#include "record_layout.h"
#include "group_args.h"

static char root[256];

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static firkin_db *open_small(const char *dir) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set(o, "segment_size", "64K");
  firkin_options_set(o, "compact_dead_ratio", "10");
  firkin_db *db = NULL;
  const firkin_status s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  return s == FIRKIN_OK ? db : NULL;
}

/* ------------------------------------------------------------------------ */
/* online                                                                    */
/* ------------------------------------------------------------------------ */

#define ONLINE_WRITERS 4
static atomic_bool online_stop;
static atomic_long online_errors;

typedef struct {
  firkin_db *db;
  int id;
} writer_arg;

static void *online_writer(void *p) {
  writer_arg *a = p;
  char key[32], val[200];
  memset(val, 'v', sizeof val);
  unsigned seed = 17u + (unsigned)a->id;
  char nsname[32];
  snprintf(nsname, sizeof nsname, "w%d", a->id);
  for (long i = 0; !atomic_load(&online_stop); i++) {
    /* (bounded: every verify reads the whole log, which compaction keeps
     * to a few times the live data, but not at any write rate) */
    if ((i & 255) == 255) usleep(2000);
    const int k = (int)(rand_r(&seed) % 400);
    const int kl = snprintf(key, sizeof key, "k%d-%d", a->id, k);
    const unsigned op = rand_r(&seed) % 10;
    firkin_status s = FIRKIN_OK;
    if (op < 4) {
      s = firkin_put(a->db, NULL, NULL, key, (size_t)kl, val, 20 + (size_t)(i % 150));
    } else if (op < 6) {
      s = firkin_delete(a->db, NULL, NULL, key, (size_t)kl);
    } else if (op < 8) {
      /* expires within a few ms: compaction drops it while others run */
      s = firkin_put_ttl(a->db, NULL, NULL, key, (size_t)kl, val, 50, 1 + (uint64_t)(i % 5));
    } else if (op < 9) {
      firkin_batch *b = NULL;
      firkin_batch_new(&b);
      for (int j = 0; j < 3; j++) {
        char bk[32];
        const int bl = snprintf(bk, sizeof bk, "b%d-%d", a->id, (k + j) % 400);
        if (j == 2) {
          firkin_batch_delete(b, NULL, bk, (size_t)bl);
        } else {
          firkin_batch_put(b, NULL, bk, (size_t)bl, val, 60);
        }
      }
      s = firkin_write(a->db, NULL, b);
      firkin_batch_free(b);
    } else {
      /* a namespace of this writer's: created, written, now and then dropped */
      firkin_ns *ns = NULL;
      s = firkin_ns_open(a->db, nsname, true, &ns);
      if (s == FIRKIN_OK) {
        s = firkin_put(a->db, NULL, ns, key, (size_t)kl, val, 40);
        firkin_ns_close(ns);
        if (s == FIRKIN_OK && rand_r(&seed) % 8 == 0) s = firkin_ns_drop(a->db, nsname);
      }
    }
    if (s != FIRKIN_OK && s != FIRKIN_E_NAMESPACE_NOT_FOUND) {
      fprintf(stderr, "  writer %d: %s (%s)\n", a->id, firkin_strerror(s), firkin_last_error());
      atomic_fetch_add(&online_errors, 1);
      break;
    }
  }
  return NULL;
}

static int t_online(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/online", root);
  firkin_db *db = open_small(dir);
  CHECK(db != NULL, "open");
  atomic_store(&online_stop, false);
  pthread_t th[ONLINE_WRITERS];
  writer_arg args[ONLINE_WRITERS];
  for (int i = 0; i < ONLINE_WRITERS; i++) {
    args[i] = (writer_arg){db, i};
    pthread_create(&th[i], NULL, online_writer, &args[i]);
  }
  int verifies = 0, bad = 0;
  const double end = now_s() + 3.0;
  char *first_bad = NULL;
  while (now_s() < end && atomic_load(&online_errors) == 0) {
    if (verifies % 4 == 3) (void)firkin_compact(db);
    char *rep = NULL;
    const firkin_status s = firkin_verify(db, &rep);
    verifies++;
    if (s != FIRKIN_OK) {
      bad++;
      if (first_bad == NULL && rep != NULL) first_bad = strdup(rep);
    }
    firkin_free(rep);
  }
  atomic_store(&online_stop, true);
  for (int i = 0; i < ONLINE_WRITERS; i++) pthread_join(th[i], NULL);
  char *rep = NULL;
  const firkin_status last = firkin_verify(db, &rep);
  CHECK(atomic_load(&online_errors) == 0, "a writer failed");
  CHECK(bad == 0, "%d of %d verifies beside the writers failed; first: %s", bad, verifies,
        first_bad ? first_bad : "");
  CHECK(last == FIRKIN_OK, "verify after the writers: %s", rep ? rep : "");
  CHECK(verifies >= 5, "only %d verifies ran", verifies);
  printf("  %d verifies beside the writers, all ok\n", verifies);
  free(first_bad);
  firkin_free(rep);
  firkin_close(db);
  return 0;
}


/* ------------------------------------------------------------------------ */
/* drop_race, drop_get                                                       */
/* ------------------------------------------------------------------------ */

static firkin_db *churn_db;
static atomic_bool churn_stop;

static void *old_handle_writer(void *p) {
  unsigned n = (unsigned)(intptr_t)p * 1000003u;
  while (!atomic_load(&churn_stop)) {
    firkin_ns *ns = NULL;
    if (firkin_ns_open(churn_db, "x", false, &ns) != FIRKIN_OK) {
      /* (dropped, not created again yet: a short wait, not a spin, which
       * on two cores took the drops' and verifies' time: 80 s of ASan at
       * -O1 against the case's 120 s limit, once over it under load) */
      usleep(100);
      continue;
    }
    /* through this handle until the namespace is dropped under it */
    for (;;) {
      char k[24];
      const int kl = snprintf(k, sizeof k, "k%u", (n++) % 500);
      if (firkin_put(churn_db, NULL, ns, k, (size_t)kl, "value-value", 11) != FIRKIN_OK) break;
      if (atomic_load(&churn_stop)) break;
    }
    firkin_ns_close(ns);
  }
  return NULL;
}

static int t_drop_race(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/drop_race", root);
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set(o, "segment_size", "64K");
  firkin_options_set(o, "auto_compact", "false");
  firkin_options_set(o, "checkpoint_every", "0");
  /* (the change feed below needs every put's record: none in place) */
  firkin_options_set(o, "in_place_updates", "false");
  CHECK(firkin_open(dir, o, &churn_db) == FIRKIN_OK, "open");
  firkin_options_free(o);
  firkin_ns *x = NULL;
  CHECK(firkin_ns_create(churn_db, "x", &x) == FIRKIN_OK, "create");
  firkin_ns_close(x);
  atomic_store(&churn_stop, false);
  pthread_t th[6];
  for (int i = 0; i < 6; i++) pthread_create(&th[i], NULL, old_handle_writer, (void *)(intptr_t)i);
  int bad = 0, cycles = 0;
  char first[600] = "";
  for (; cycles < 250 && bad == 0; cycles++) {
    usleep(2000);
    if (firkin_ns_drop(churn_db, "x") != FIRKIN_OK) {
      bad++;
      snprintf(first, sizeof first, "drop: %s", firkin_last_error());
      break;
    }
    char *rep = NULL;
    if (firkin_verify(churn_db, &rep) != FIRKIN_OK) {
      bad++;
      snprintf(first, sizeof first, "%.560s", rep ? rep : firkin_last_error());
    }
    firkin_free(rep);
    if (firkin_ns_create(churn_db, "x", &x) != FIRKIN_OK) {
      bad++;
      snprintf(first, sizeof first, "create: %s", firkin_last_error());
      break;
    }
    firkin_ns_close(x);
  }
  atomic_store(&churn_stop, true);
  for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
  CHECK(bad == 0, "cycle %d: verify after a drop beside writers: %s", cycles, first);
  /* No put is ordered after the drop of its namespace: in the change feed
   * every put into "x" comes after a create of "x" and before its next
   * drop (until 2026-11-28 writers that had checked the namespace before
   * the drop took later numbers and returned OK). */
  firkin_changes *c = NULL;
  CHECK(firkin_changes_open(churn_db, 0, NULL, &c) == FIRKIN_OK, "changes");
  bool live = false;
  long late = 0, changes = 0;
  for (; firkin_changes_valid(c); firkin_changes_next(c)) {
    changes++;
    if (strcmp(firkin_changes_namespace(c), "x") != 0) continue;
    const firkin_change_type t = firkin_changes_type(c);
    if (t == FIRKIN_CHANGE_NS_CREATE) live = true;
    if (t == FIRKIN_CHANGE_NS_DROP) live = false;
    if (t == FIRKIN_CHANGE_PUT && !live) late++;
  }
  const firkin_status cs = firkin_changes_status(c);
  firkin_changes_free(c);
  CHECK(cs == FIRKIN_OK && late == 0,
        "change feed (%s, %ld changes): %ld puts into \"x\" after its drop", firkin_strerror(cs),
        changes, late);
  CHECK(firkin_compact(churn_db) == FIRKIN_OK, "compact");
  char *rep = NULL;
  CHECK(firkin_verify(churn_db, &rep) == FIRKIN_OK, "verify after compaction: %.560s",
        rep ? rep : "");
  firkin_free(rep);
  CHECK(firkin_close(churn_db) == FIRKIN_OK, "close");
  printf("  %d drops beside 6 writers on old handles, every verify ok\n", cycles);
  return 0;
}

static pthread_mutex_t churn_mu = PTHREAD_MUTEX_INITIALIZER;

static void *drop_fill_churn(void *p) {
  (void)p;
  while (!atomic_load(&churn_stop)) {
    pthread_mutex_lock(&churn_mu);
    firkin_ns *x = NULL;
    if (firkin_ns_drop(churn_db, "x") != FIRKIN_OK ||
        firkin_ns_create(churn_db, "x", &x) != FIRKIN_OK) {
      atomic_fetch_add(&online_errors, 1);
      pthread_mutex_unlock(&churn_mu);
      break;
    }
    for (int i = 0; i < 50; i++) {
      char k[16];
      const int kl = snprintf(k, sizeof k, "k%d", i);
      if (firkin_put(churn_db, NULL, x, k, (size_t)kl, "v", 1) != FIRKIN_OK) {
        atomic_fetch_add(&online_errors, 1);
      }
    }
    firkin_ns_close(x);
    pthread_mutex_unlock(&churn_mu);
    usleep(200);
  }
  return NULL;
}

static int t_drop_get(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/drop_get", root);
  CHECK(firkin_open(dir, NULL, &churn_db) == FIRKIN_OK, "open");
  firkin_ns *x = NULL;
  CHECK(firkin_ns_create(churn_db, "x", &x) == FIRKIN_OK, "create");
  for (int i = 0; i < 50; i++) {
    char k[16];
    const int kl = snprintf(k, sizeof k, "k%d", i);
    CHECK(firkin_put(churn_db, NULL, x, k, (size_t)kl, "v", 1) == FIRKIN_OK, "put");
  }
  firkin_ns_close(x);
  atomic_store(&churn_stop, false);
  atomic_store(&online_errors, 0);
  pthread_t th;
  pthread_create(&th, NULL, drop_fill_churn, NULL);
  long ok = 0, gone = 0, absent = 0, other = 0, short_iters = 0;
  const double end = now_s() + 3.0;
  while (now_s() < end) {
    /* a handle of a generation whose 50 keys are all in */
    pthread_mutex_lock(&churn_mu);
    const firkin_status os = firkin_ns_open(churn_db, "x", false, &x);
    pthread_mutex_unlock(&churn_mu);
    if (os != FIRKIN_OK) continue;
    firkin_snapshot *snap = NULL;
    CHECK(firkin_snapshot_new(churn_db, &snap) == FIRKIN_OK, "snapshot");
    for (int i = 0; i < 50; i++) {
      char k[16];
      const int kl = snprintf(k, sizeof k, "k%d", i);
      void *v = NULL;
      size_t vl = 0;
      const firkin_status s = firkin_get(churn_db, snap, x, k, (size_t)kl, &v, &vl);
      firkin_free(v);
      ok += s == FIRKIN_OK;
      gone += s == FIRKIN_E_NAMESPACE_NOT_FOUND;
      absent += s == FIRKIN_E_NOT_FOUND;
      other += s != FIRKIN_OK && s != FIRKIN_E_NAMESPACE_NOT_FOUND && s != FIRKIN_E_NOT_FOUND;
    }
    firkin_iter *it = NULL;
    if (firkin_iter_new(churn_db, snap, x, &it) == FIRKIN_OK) {
      int n = 0;
      for (; firkin_iter_valid(it); firkin_iter_next(it)) n++;
      short_iters += firkin_iter_status(it) == FIRKIN_OK && n != 50;
      firkin_iter_free(it);
    }
    firkin_snapshot_free(snap);
    firkin_ns_close(x);
  }
  atomic_store(&churn_stop, true);
  pthread_join(th, NULL);
  firkin_close(churn_db);
  CHECK(atomic_load(&online_errors) == 0, "the churning thread failed");
  CHECK(absent == 0 && other == 0 && short_iters == 0,
        "gets at a snapshot holding the keys: %ld ok, %ld namespace gone, %ld NOT_FOUND, "
        "%ld other; %ld iterators ended OK early",
        ok, gone, absent, other, short_iters);
  printf("  %ld gets ok, %ld told the namespace was dropped\n", ok, gone);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* forged                                                                    */
/* ------------------------------------------------------------------------ */

/* Removes the first index entry (its shard's count and the header's with
 * it). */
static int ckpt_drop_entry(void) {
  const size_t shards_at = ckpt_shards_at(), entries_at = ckpt_entries_at();
  if (ckpt_u64(48) == 0 || entries_at + 8 > ckpt_len) return 1;
  for (int sh = 0; sh < 1024; sh++) {
    uint32_t c;
    memcpy(&c, ckpt_buf + shards_at + 4 * sh, 4);
    if (c == 0) continue;
    c--;
    memcpy(ckpt_buf + shards_at + 4 * sh, &c, 4);
    break;
  }
  memmove(ckpt_buf + entries_at, ckpt_buf + entries_at + 8, ckpt_len - entries_at - 8);
  ckpt_len -= 8;
  ckpt_put_u64(48, ckpt_u64(48) - 1);
  return 0;
}

/* Adds `by` to the key count of the namespace with id 0 (default). */
static int ckpt_raise_count(int64_t by) {
  size_t p = ckpt_namespaces_at();
  for (uint64_t i = 0; i < ckpt_u64(40); i++) {
    uint32_t id;
    memcpy(&id, ckpt_buf + p, 4);
    if (id == 0) {
      const size_t at = p + 6 + ckpt_buf[p + 5];
      ckpt_put_u64(at, ckpt_u64(at) + (uint64_t)by);
      return 0;
    }
    p += 6 + ckpt_buf[p + 5] + ckpt_ns_tail();
  }
  return 1;
}

#define FORGED_KEYS 500

/* A database of FORGED_KEYS keys, closed (its CHECKPOINT written). */
static int forged_db(const char *dir) {
  sh("rm -rf '%s'", dir);
  firkin_db *db = NULL;
  CHECK(firkin_open(dir, NULL, &db) == FIRKIN_OK, "open");
  char key[32];
  for (int i = 0; i < FORGED_KEYS; i++) {
    const int kl = snprintf(key, sizeof key, "key%d", i);
    CHECK(firkin_put(db, NULL, NULL, key, (size_t)kl, "value", 5) == FIRKIN_OK, "put");
  }
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  return 0;
}

/* Opens dir, counts the keys an iterator yields, and verifies. */
static int forged_open_verify(const char *dir, long *keys, firkin_status *vs, char **rep) {
  firkin_db *db = NULL;
  CHECK(firkin_open(dir, NULL, &db) == FIRKIN_OK, "open the forged database");
  firkin_iter *it = NULL;
  CHECK(firkin_iter_new(db, NULL, NULL, &it) == FIRKIN_OK, "iter");
  *keys = 0;
  for (; firkin_iter_valid(it); firkin_iter_next(it)) (*keys)++;
  firkin_iter_free(it);
  *vs = firkin_verify(db, rep);
  firkin_close(db);
  return 0;
}

/* Opens dir, whose CHECKPOINT lost one entry (of `what`), and verifies:
 * either the open saw through the forgery and scanned (nothing lost,
 * nothing to find), or it took it and verify reports the key's record as
 * not reached by the index. 0, or 1 with the failure printed. */
static int expect_entry_lost(const char *dir, const char *what) {
  long keys = 0;
  firkin_status vs;
  char *rep = NULL;
  CHECK(forged_open_verify(dir, &keys, &vs, &rep) == 0, "open");
  int bad = 0;
  if (keys == FORGED_KEYS) {
    bad = vs != FIRKIN_OK;
    if (bad) fprintf(stderr, "  FAIL: verify of a database the open rebuilt: %s\n", rep ? rep : "");
    else printf("  (the open did not take the forged checkpoint)\n");
  } else if (keys != FORGED_KEYS - 1) {
    bad = 1;
    fprintf(stderr, "  FAIL: %ld keys after %s lost its entry\n", keys, what);
  } else if (!(vs == FIRKIN_E_CORRUPTION && rep != NULL && strstr(rep, "not reached by the index"))) {
    bad = 1;
    fprintf(stderr, "  FAIL: %s lost from the index, verify says %s: %s\n", what,
            firkin_strerror(vs), rep ? rep : "");
  }
  firkin_free(rep);
  return bad;
}

static int t_forged(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/forged", root);
  long keys = 0;
  firkin_status vs;
  char *rep = NULL;

  /* An entry left out: the open installs the rest (each is right). */
  CHECK(forged_db(dir) == 0, "fill");
  CHECK(ckpt_read(dir) == 0 && ckpt_drop_entry() == 0 && ckpt_write(dir) == 0, "forge");
  CHECK(expect_entry_lost(dir, "a key") == 0, "a key's entry left out");

  /* A key count raised by 5. */
  CHECK(forged_db(dir) == 0, "fill");
  CHECK(ckpt_read(dir) == 0 && ckpt_raise_count(5) == 0 && ckpt_write(dir) == 0, "forge");
  CHECK(forged_open_verify(dir, &keys, &vs, &rep) == 0, "open");
  CHECK(keys == FORGED_KEYS, "%ld keys", keys);
  CHECK(vs == FIRKIN_E_CORRUPTION && rep != NULL && strstr(rep, "counts 505 keys"),
        "a count off by 5, verify says %s: %s", firkin_strerror(vs), rep ? rep : "");
  firkin_free(rep);
  sh("rm -rf '%s'", dir);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* torn_batch                                                                */
/* ------------------------------------------------------------------------ */

/* The newest log segment of dir, read whole into *buf (malloc'd). */
static int read_newest_segment(const char *dir, char *path, size_t path_size,
                               unsigned char **buf, size_t *len) {
  DIR *d = opendir(dir);
  CHECK(d != NULL, "opendir %s", dir);
  char best[64] = "";
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    const size_t n = strlen(e->d_name);
    if (n == 20 && strcmp(e->d_name + 16, ".seg") == 0 && strcmp(e->d_name, best) > 0) {
      snprintf(best, sizeof best, "%s", e->d_name);
    }
  }
  closedir(d);
  CHECK(best[0] != 0, "no segment in %s", dir);
  snprintf(path, path_size, "%s/%s", dir, best);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL, "open %s", path);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  *buf = malloc(*len);
  const size_t got = *buf ? fread(*buf, 1, *len, f) : 0;
  fclose(f);
  CHECK(got == *len, "read %s", path);
  return 0;
}

/* The stats' value of "name" (0 if missing). */
static uint64_t stat_of(firkin_db *db, const char *name) {
  char *st = NULL;
  if (firkin_stats(db, &st) != FIRKIN_OK) return 0;
  char pat[96];
  snprintf(pat, sizeof pat, "\"%s\":", name);
  const char *at = strstr(st, pat);
  const uint64_t v = at ? strtoull(at + strlen(pat), NULL, 10) : 0;
  firkin_free(st);
  return v;
}

/* The torn batch, in a plain or an encrypted database (sealed records). */
static int torn_batch_case(bool encrypted) {
  char dir[512], seg[600];
  snprintf(dir, sizeof dir, "%s/torn_batch", root);
  sh("rm -rf '%s'", dir);
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set(o, "in_place_updates", "false");
  if (encrypted) {
    unsigned char key[32];
    for (int i = 0; i < 32; i++) key[i] = (unsigned char)(i + 1);
    CHECK(firkin_options_set_encryption_key(o, key, sizeof key) == FIRKIN_OK, "key");
  }
  firkin_db *db = NULL;
  CHECK(firkin_open(dir, o, &db) == FIRKIN_OK, "open");
  CHECK(firkin_put(db, NULL, NULL, "k1", 2, "v1", 2) == FIRKIN_OK, "put k1");
  CHECK(firkin_put(db, NULL, NULL, "a", 1, "old", 3) == FIRKIN_OK, "put a");
  firkin_batch *b = NULL;
  CHECK(firkin_batch_new(&b) == FIRKIN_OK, "batch");
  firkin_batch_put(b, NULL, "a", 1, "A", 1);
  firkin_batch_put(b, NULL, "b", 1, "B", 1);
  CHECK(firkin_write(db, NULL, b) == FIRKIN_OK, "write the batch");
  firkin_batch_free(b);
  CHECK(firkin_close(db) == FIRKIN_OK, "close");

  /* The crash: the batch's commit record torn (zeroed, as the end of the
   * file) and never made durable (the watermark at the header). Recovery
   * then scans the log (no CHECKPOINT). */
  char ck[600];
  snprintf(ck, sizeof ck, "%s/CHECKPOINT", dir);
  unlink(ck);
  unsigned char *buf = NULL;
  size_t len = 0;
  CHECK(read_newest_segment(dir, seg, sizeof seg, &buf, &len) == 0, "read the segment");
  size_t off = 8192, last = 0;
  int n = 0;
  while (off + REC_PEEK_SIZE <= len && rec_type(buf + off) != 0) {
    last = off;
    n++;
    off += rec_record_size(buf + off);
  }
  CHECK(n >= 4 && rec_type(buf + last) == 3 && rec_u32(rec_value(buf + last)) == 2,
        "the last of %d records is the batch's commit record", n);
  memset(buf + last, 0, len - last);
  const uint64_t wm = 8192, wm_check = XXH3_64bits(&wm, 8) ^ 0x5EA1ED5EA1ED5EA1ull;
  memcpy(buf + 4096, &wm, 8);
  memcpy(buf + 4104, &wm_check, 8);
  /* Never sealed either: no seal clock (nor, encrypted, its MAC, which
   * covers the watermark's length). */
  memset(buf + 4112, 0, 32);
  FILE *f = fopen(seg, "r+b");
  CHECK(f != NULL && fwrite(buf, 1, len, f) == len && fclose(f) == 0, "write %s", seg);
  free(buf);

  for (int round = 0; round < 2; round++) {
    CHECK(firkin_open(dir, o, &db) == FIRKIN_OK, "open %d after the crash", round);
    if (round == 0) {
      CHECK(stat_of(db, "discarded_batch_records") == 2, "recovery discarded the batch (%llu)",
            (unsigned long long)stat_of(db, "discarded_batch_records"));
    }
    void *v = NULL;
    size_t vl = 0;
    CHECK(firkin_get(db, NULL, NULL, "a", 1, &v, &vl) == FIRKIN_OK && vl == 3 &&
              memcmp(v, "old", 3) == 0,
          "a reads its older value");
    firkin_free(v);
    CHECK(firkin_get(db, NULL, NULL, "b", 1, &v, &vl) == FIRKIN_E_NOT_FOUND, "b is absent");
    char *rep = NULL;
    const firkin_status vs = firkin_verify(db, &rep);
    CHECK(vs == FIRKIN_OK, "open %d%s: verify of the recovered database says %s: %s", round,
          encrypted ? " (encrypted)" : "", firkin_strerror(vs), rep ? rep : "");
    firkin_free(rep);
    CHECK(firkin_close(db) == FIRKIN_OK, "close");
  }
  firkin_options_free(o);
  return 0;
}

static int t_torn_batch(void) {
  CHECK(torn_batch_case(false) == 0, "plain");
  CHECK(torn_batch_case(true) == 0, "encrypted");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/torn_batch", root);
  firkin_db *db = NULL;
  firkin_batch *b = NULL;

  /* A committed batch's record is still held against the index: keys
   * written in batches of 5, a CHECKPOINT entry left out. */
  sh("rm -rf '%s'", dir);
  CHECK(firkin_open(dir, NULL, &db) == FIRKIN_OK, "open");
  char key[32];
  for (int i = 0; i < FORGED_KEYS; i += 5) {
    CHECK(firkin_batch_new(&b) == FIRKIN_OK, "batch");
    for (int j = i; j < i + 5; j++) {
      const int kl = snprintf(key, sizeof key, "key%d", j);
      firkin_batch_put(b, NULL, key, (size_t)kl, "value", 5);
    }
    CHECK(firkin_write(db, NULL, b) == FIRKIN_OK, "write a batch");
    firkin_batch_free(b);
  }
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  CHECK(ckpt_read(dir) == 0 && ckpt_drop_entry() == 0 && ckpt_write(dir) == 0, "forge");
  CHECK(expect_entry_lost(dir, "a committed batch's key") == 0, "a batch key's entry left out");
  sh("rm -rf '%s'", dir);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* damage_read                                                               */
/* ------------------------------------------------------------------------ */

/* Waits (up to 10 s) until the handle's background scrub is done. */
static int wait_scrub(firkin_db *db) {
  for (int i = 0; i < 1000; i++) {
    char *st = NULL;
    CHECK(firkin_stats(db, &st) == FIRKIN_OK, "stats");
    const bool done = strstr(st, "\"done\":true") != NULL;
    firkin_free(st);
    if (done) return 0;
    usleep(10000);
  }
  CHECK(false, "the scrub did not finish");
  return 1;
}

/* get of key on db: the status, and whether the value is the one written
 * (1000 bytes: the key, then 'v's). */
static firkin_status get_check(firkin_db *db, const char *key, bool *right) {
  void *v = NULL;
  size_t n = 0;
  const firkin_status s = firkin_get(db, NULL, NULL, key, strlen(key), &v, &n);
  *right = false;
  if (s == FIRKIN_OK) {
    const char *c = v;
    *right = n == 1000 && memcmp(c, key, strlen(key)) == 0;
    for (size_t i = strlen(key); *right && i < n; i++) *right = c[i] == 'v';
    firkin_free(v);
  }
  return s;
}

/* A value byte of a sealed segment changed while a writer's and a reader's
 * handles are open (after both know the segment intact: verify_checksums
 * off, so reads take it as it is, as documented). firkin_verify on each
 * handle reports it; from then on a get of the key on that handle says
 * FIRKIN_E_CORRUPTION, never the damaged bytes (before: it returned them
 * with FIRKIN_OK until a compaction pass met the record). */
static int t_damage_read(void) {
  char dir[300];
  snprintf(dir, sizeof dir, "%s/damage_read", root);
  firkin_options *o = NULL;
  CHECK(firkin_options_new(&o) == FIRKIN_OK, "options");
  firkin_options_set(o, "segment_size", "64K");
  firkin_options_set(o, "auto_compact", "false");
  firkin_db *db = NULL;
  CHECK(firkin_open(dir, o, &db) == FIRKIN_OK, "open");
  char v[1000];
  memset(v, 'v', sizeof v);
  for (int i = 0; i < 100; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%04d", i);
    memcpy(v, k, 5);
    CHECK(firkin_put(db, NULL, NULL, k, 5, v, sizeof v) == FIRKIN_OK, "put %s", k);
  }
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  CHECK(firkin_open(dir, o, &db) == FIRKIN_OK, "reopen");
  firkin_options *ro = NULL;
  CHECK(firkin_options_new(&ro) == FIRKIN_OK, "options");
  firkin_options_set(ro, "read_only", "true");
  firkin_db *rd = NULL;
  CHECK(firkin_open(dir, ro, &rd) == FIRKIN_OK, "reader open");
  firkin_options_free(ro);
  firkin_options_free(o);
  if (wait_scrub(db) || wait_scrub(rd)) return 1;
  bool right = false;
  CHECK(get_check(db, "k0005", &right) == FIRKIN_OK && right, "get before the damage");
  CHECK(get_check(rd, "k0005", &right) == FIRKIN_OK && right, "reader get before the damage");
  /* A byte in the middle of k0005's value, in the first segment. */
  char path[400];
  snprintf(path, sizeof path, "%s/0000000000000001.seg", dir);
  FILE *f = fopen(path, "r+b");
  CHECK(f != NULL, "open %s", path);
  fseek(f, 0, SEEK_END);
  const long len = ftell(f);
  char *buf = malloc((size_t)len);
  fseek(f, 0, SEEK_SET);
  CHECK(buf != NULL && fread(buf, 1, (size_t)len, f) == (size_t)len, "read %s", path);
  const char *at = memmem(buf, (size_t)len, "k0005k0005", 10);
  CHECK(at != NULL, "k0005's record in %s", path);
  fseek(f, (at - buf) + 5 + 500, SEEK_SET);
  fputc('X', f);
  fclose(f);
  free(buf);
  /* Taken as it is before verify (documented: verify_checksums off). */
  firkin_db *handles[2] = {db, rd};
  for (int h = 0; h < 2; h++) {
    char *rep = NULL;
    CHECK(firkin_verify(handles[h], &rep) == FIRKIN_E_CORRUPTION, "verify %d: %s", h,
          rep ? rep : "");
    CHECK(rep != NULL && strstr(rep, "0000000000000001.seg") != NULL, "verify %d names the file: %s",
          h, rep ? rep : "");
    firkin_free(rep);
    const firkin_status s = get_check(handles[h], "k0005", &right);
    CHECK(s == FIRKIN_E_CORRUPTION, "handle %d: get after verify: status %d (%s)", h, (int)s,
          s == FIRKIN_OK ? (right ? "right value" : "the damaged bytes") : "");
    /* The other keys of the segment still read. */
    CHECK(get_check(handles[h], "k0006", &right) == FIRKIN_OK && right, "handle %d: k0006", h);
  }
  CHECK(firkin_close(rd) == FIRKIN_OK, "reader close");
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  return 0;
}

static int g_argc;
static char **g_argv;

/* Whether the case was asked for (all when none was named). */
static bool wanted(const char *name) { return group_wanted(g_argc, g_argv, name); }

int main(int argc, char **argv) {
  g_argc = argc;
  g_argv = argv;
  setvbuf(stdout, NULL, _IOLBF, 0);
  snprintf(root, sizeof root, "/tmp/firkin-verify-XXXXXX");
  if (!mkdtemp(root)) {
    perror("mkdtemp");
    return 1;
  }
  if (wanted("online")) {
    run("online: verify beside writers, TTL, namespaces and compaction", t_online);
  }
  if (wanted("drop_race")) {
    run("drop_race: drops beside writers on old handles, verify after each", t_drop_race);
  }
  if (wanted("drop_get")) run("drop_get: snapshot gets beside drops: never NOT_FOUND", t_drop_get);
  if (wanted("forged")) run("forged: an index entry left out, a key count raised", t_forged);
  if (wanted("torn_batch")) {
    run("torn_batch: a batch recovery discarded is no lost key to verify", t_torn_batch);
  }
  if (wanted("damage_read")) {
    run("damage_read: a record verify found damaged is never returned by a later get",
        t_damage_read);
  }
  failed += group_args_unknown(argc, argv); /* every case's name was noted by wanted() */
  sh("rm -rf '%s'", root);
  return forked_cases_summary();
}
