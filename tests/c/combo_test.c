/*
 * combo_test — the features of issues 11 and 12 together, through the C API:
 * an ordered namespace whose values are compressed, read back by ordered
 * iteration (forward, reverse, prefix, seek), inside transactions (with a
 * TTL put), after expiry, compaction, reopen, and (when the library seals
 * records) in an encrypted database; and the readers that keep values as
 * stored and decode them when asked (a key's history, the change feed and
 * its next_n, an ordered scan at a snapshot older than the keys' newest
 * versions) on those compressed, sealed records. Each feature has its own suite; this
 * one catches the seams between them (e.g. an ordered iterator handing out
 * a value still compressed).
 *
 * Usage: combo_test. Ends with "N passed, N failed".
 */
#define _GNU_SOURCE

#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firkin.h"

#include "check_harness.h"

#define N 300

/* A compressible value for key i (text-like, ~600 bytes). */
static size_t value_of(int i, char *out, size_t cap) {
  size_t n = 0;
  while (n + 40 < cap && n < 600) {
    n += (size_t)snprintf(out + n, cap - n, "record %04d says hello to the log; ", i);
  }
  return n;
}

static firkin_db *open_db(const char *path, bool encrypted) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_compression(o, FIRKIN_COMPRESSION_LZ4);
  firkin_options_set(o, "segment_size", "256K");
  firkin_options_set(o, "auto_compact", "false");
  if (encrypted) {
    unsigned char key[32];
    for (int i = 0; i < 32; i++) key[i] = (unsigned char)(i * 7 + 1);
    firkin_options_set_encryption_key(o, key, sizeof key);
  }
  firkin_db *db = NULL;
  if (firkin_open(path, o, &db) != FIRKIN_OK) {
    printf("open %s: %s\n", path, firkin_last_error());
    db = NULL;
  }
  firkin_options_free(o);
  return db;
}

/* Walks an iterator; checks keys ascend (or descend) and each value is
 * key i's value. Returns the number of entries, -1 on a wrong one. */
static int walk(firkin_iter *it, bool reverse, int *first) {
  char want[1024], prev[64] = "";
  int n = 0;
  for (; firkin_iter_valid(it); firkin_iter_next(it)) {
    const void *k, *v;
    size_t kl, vl;
    firkin_iter_key(it, &k, &kl);
    firkin_iter_value(it, &v, &vl);
    char key[64];
    if (kl >= sizeof key) return -1;
    memcpy(key, k, kl);
    key[kl] = 0;
    int i = atoi(key + 1);
    if (n == 0 && first != NULL) *first = i;
    size_t wl = value_of(i, want, sizeof want);
    if (vl != wl || memcmp(v, want, wl) != 0) {
      printf("  value of %s wrong (%zu bytes, want %zu)\n", key, vl, wl);
      return -1;
    }
    if (n > 0 && (reverse ? strcmp(key, prev) >= 0 : strcmp(key, prev) <= 0)) {
      printf("  order broken at %s after %s\n", key, prev);
      return -1;
    }
    snprintf(prev, sizeof prev, "%s", key);
    n++;
  }
  if (firkin_iter_status(it) != FIRKIN_OK) return -1;
  return n;
}

static void check_scans(firkin_db *db, firkin_ns *ns, int want, const char *when) {
  firkin_iter *it = NULL;
  check(firkin_range_iter_new(db, NULL, ns, NULL, 0, NULL, 0, 0, &it) == FIRKIN_OK,
        "%s: range iterator", when);
  int n = walk(it, false, NULL);
  check(n == want, "%s: forward scan %d of %d, values decoded and ascending", when, n, want);
  firkin_iter_free(it);
  check(firkin_range_iter_new(db, NULL, ns, NULL, 0, NULL, 0, FIRKIN_ITER_REVERSE, &it) ==
            FIRKIN_OK,
        "%s: reverse iterator", when);
  n = walk(it, true, NULL);
  check(n == want, "%s: reverse scan %d of %d", when, n, want);
  firkin_iter_free(it);
  check(firkin_prefix_iter_new(db, NULL, ns, "k01", 3, 0, &it) == FIRKIN_OK, "%s: prefix", when);
  int first = -1;
  n = walk(it, false, &first);
  check(n >= 1 && first >= 100 && first < 200, "%s: prefix k01: %d keys from k%04d", when, n,
        first);
  firkin_iter_free(it);
}

/* The readers that keep values as stored and decode them when asked
 * (history, the change feed, an ordered scan at a snapshot whose keys were
 * overwritten since: its entries are copies), on compressed (and, in the
 * encrypted run, sealed) records: every value comes back as written. */
static void old_versions(firkin_db *db, firkin_ns *ns, firkin_snapshot *snap, const char *what) {
  firkin_iter *it = NULL;
  check(firkin_range_iter_new(db, snap, ns, NULL, 0, NULL, 0, 0, &it) == FIRKIN_OK,
        "%s: range iterator at a snapshot", what);
  int n = walk(it, false, NULL);
  check(n == N, "%s: scan at the snapshot before the overwrites: %d of %d", what, n, N);
  firkin_iter_free(it);
  char want[1024];
  const size_t wl = value_of(0, want, sizeof want);
  firkin_history *h = NULL;
  int versions = 0, good = 0;
  check(firkin_history_new(db, ns, "k0000", 5, &h) == FIRKIN_OK, "%s: history", what);
  for (; firkin_history_valid(h); firkin_history_next(h)) {
    const void *hv;
    size_t hl;
    versions++;
    if (firkin_history_value(h, &hv, &hl) == FIRKIN_OK && hl == wl && memcmp(hv, want, wl) == 0) {
      good++;
    }
  }
  firkin_history_free(h);
  check(versions == 2 && good == 2, "%s: history of k0000: %d of %d versions decoded", what, good,
        versions);
  firkin_changes *c = NULL;
  int puts = 0, right = 0;
  check(firkin_changes_open(db, 0, NULL, &c) == FIRKIN_OK, "%s: change feed", what);
  for (; firkin_changes_valid(c); firkin_changes_next(c)) {
    if (firkin_changes_type(c) != FIRKIN_CHANGE_PUT) continue;
    const void *ck, *cv;
    size_t ckl, cvl;
    char key[16], exp[1024];
    firkin_changes_key(c, &ck, &ckl);
    if (ckl != 5) continue; /* (k0000x, the expired put) */
    memcpy(key, ck, 5);
    key[5] = 0;
    const size_t el = value_of(atoi(key + 1), exp, sizeof exp);
    puts++;
    if (firkin_changes_value(c, &cv, &cvl) == FIRKIN_OK && cvl == el && memcmp(cv, exp, el) == 0) {
      right++;
    }
  }
  check(firkin_changes_status(c) == FIRKIN_OK, "%s: change feed status", what);
  firkin_changes_free(c);
  check(puts == N + (N + 2) / 3 && right == puts, "%s: change feed: %d of %d puts decoded", what,
        right, puts);
  /* The batched form too (transactions' writes are batches). */
  c = NULL;
  firkin_changes_open(db, 0, NULL, &c);
  size_t cap = 1 << 20, total = 0;
  char *buf = malloc(cap);
  for (;;) {
    size_t used = 0, count = 0;
    if (firkin_changes_next_n(c, buf, cap, &used, &count) != FIRKIN_OK || count == 0) break;
    for (size_t p = 0, e = 0; e < count; e++) {
      uint32_t type, nl, kl, vl;
      memcpy(&type, buf + p, 4);
      memcpy(&nl, buf + p + 4, 4);
      memcpy(&kl, buf + p + 16, 4);
      memcpy(&vl, buf + p + 20, 4);
      const char *kp = buf + p + 24 + nl;
      if (type == FIRKIN_CHANGE_PUT && kl == 5) {
        char key[8], exp[1024];
        memcpy(key, kp, 5);
        key[5] = 0;
        const size_t el = value_of(atoi(key + 1), exp, sizeof exp);
        if (vl == el && memcmp(kp + kl, exp, el) == 0) total++;
      }
      p += 24 + nl + kl + vl;
    }
  }
  free(buf);
  firkin_changes_free(c);
  check(total == (size_t)puts, "%s: change feed next_n: %zu of %d puts decoded", what, total, puts);
}

static void run(bool encrypted) {
  char path[512];
  dbpath(path, sizeof path, encrypted ? "enc" : "plain");
  const char *what = encrypted ? "encrypted" : "plain";
  firkin_db *db = open_db(path, encrypted);
  if (db == NULL) {
    check(false, "%s: open", what);
    return;
  }
  firkin_ns *ns = NULL;
  check(firkin_ns_create_v2(db, "sorted", FIRKIN_NS_ORDERED, &ns) == FIRKIN_OK,
        "%s: ordered namespace", what);
  char k[32], v[1024];
  /* Half the keys through plain puts, half through transactions. */
  for (int i = 0; i < N; i += 2) {
    snprintf(k, sizeof k, "k%04d", i);
    firkin_put(db, NULL, ns, k, strlen(k), v, value_of(i, v, sizeof v));
  }
  for (int i = 1; i < N; i += 20) {
    firkin_txn *t = NULL;
    firkin_txn_begin(db, FIRKIN_TXN_SERIALIZABLE, &t);
    for (int j = i; j < i + 20 && j < N; j += 2) {
      snprintf(k, sizeof k, "k%04d", j);
      firkin_txn_put(t, ns, k, strlen(k), v, value_of(j, v, sizeof v));
    }
    check(firkin_txn_commit(t, NULL, NULL) == FIRKIN_OK, "%s: txn commit", what);
    firkin_txn_free(t);
  }
  /* A key with a TTL already past, written in a transaction: never seen. */
  firkin_txn *t = NULL;
  uint64_t now = 0;
  firkin_now_ms(db, &now);
  firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t);
  firkin_txn_put_expire_at(t, ns, "k0000x", 6, "gone", 4, now - 1);
  /* The transaction's own ordered view sees its writes and the snapshot. */
  firkin_iter *it = NULL;
  check(firkin_txn_range_iter_new(t, ns, "k0100", 5, "k0110", 5, 0, &it) == FIRKIN_OK,
        "%s: txn range iterator", what);
  int n = walk(it, false, NULL);
  check(n == 10, "%s: txn range [k0100, k0110): %d of 10", what, n);
  firkin_iter_free(it);
  check(firkin_txn_commit(t, NULL, NULL) == FIRKIN_OK, "%s: commit the expired put", what);
  firkin_txn_free(t);
  uint64_t count = 0;
  check(firkin_count(db, ns, &count) == FIRKIN_OK && count == N, "%s: count %llu of %d", what,
        (unsigned long long)count, N);

  check_scans(db, ns, N, what);
  /* Overwrite a third, delete a tenth, compact, and scan again. */
  firkin_snapshot *snap = NULL;
  check(firkin_snapshot_new(db, &snap) == FIRKIN_OK, "%s: snapshot", what);
  for (int i = 0; i < N; i += 3) {
    snprintf(k, sizeof k, "k%04d", i);
    firkin_put(db, NULL, ns, k, strlen(k), v, value_of(i, v, sizeof v));
  }
  old_versions(db, ns, snap, what);
  firkin_snapshot_free(snap);
  int deleted = 0;
  for (int i = 5; i < N; i += 10) {
    snprintf(k, sizeof k, "k%04d", i);
    firkin_delete(db, NULL, ns, k, strlen(k));
    deleted++;
  }
  check(firkin_compact(db) == FIRKIN_OK, "%s: compact", what);
  char when[64];
  snprintf(when, sizeof when, "%s after compaction", what);
  check_scans(db, ns, N - deleted, when);
  firkin_ns_close(ns);
  firkin_close(db);

  db = open_db(path, encrypted);
  if (db == NULL) {
    check(false, "%s: reopen", what);
    return;
  }
  check(firkin_ns_open(db, "sorted", false, &ns) == FIRKIN_OK, "%s: reopen the namespace", what);
  snprintf(when, sizeof when, "%s after reopen", what);
  check_scans(db, ns, N - deleted, when);
  uint32_t flags = 0;
  check(firkin_ns_flags(ns, &flags) == FIRKIN_OK && flags == FIRKIN_NS_ORDERED,
        "%s: still ordered", what);
  firkin_ns_close(ns);
  firkin_close(db);
}

int main(void) {
  snprintf(base_dir, sizeof base_dir, "/tmp/firkin_combo_test.%d", (int)getpid());
  rmrf(base_dir);
  mkdir(base_dir, 0755);
  run(false);
  run(true);
  rmrf(base_dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
