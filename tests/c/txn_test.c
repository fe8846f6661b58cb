/*
 * txn_test.c — optimistic transactions (firkin_txn_*) through the C API.
 *
 *   api        read-your-own-writes in two namespaces, delete then get,
 *              rollback, commit, the transaction's iterator (snapshot minus
 *              its writes plus its puts), contains, cas
 *   conflict   SI write-write; serializable read-write (a read that found
 *              something and one that found nothing); serializable
 *              iterate-then-insert phantom; SI lets those commit; the
 *              message names the namespace and the (escaped) key
 *   bad        NULL handles and out pointers, a namespace of another
 *              database, use after commit / rollback, too large, bad
 *              isolation
 *   atomic     a commit is one sequence number; readers (snapshots taken
 *              while transactions commit) see each transaction whole or
 *              not at all
 *   elle       list-append histories from 4 threads, under SI and
 *              serializable, analysed for G0, G1a, G1b, G1c, G-single and
 *              G2 (plus lost appends and incompatible orders): none under
 *              serializable, only G2 under SI
 *   skew       a constructed write skew: the checker reports G2 under SI;
 *              under serializable the second commit gets CONFLICT
 *   phantom    serializable transactions insert into a namespace only while
 *              an iteration counts fewer than a limit, from 3 threads (plus
 *              plain puts elsewhere): the limit is never passed
 *   bank       transfers between accounts from 4 threads with retry on
 *              conflict while a reader checks the total in transactions and
 *              snapshots; the total is exact at the end and after a reopen
 *   crash      the bank in a child process killed with SIGKILL at a random
 *              time, 3 rounds: the reopened total is exact every time
 *   busy       one handle used by two threads at once: overlapping calls
 *              get BUSY and change nothing; the rest commits
 *
 * Usage: txn_test [GROUP...]. Ends with "N passed, N failed".
 */
#define _GNU_SOURCE

#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firkin.h"

#include "check_harness.h"
#include "group_args.h"

static firkin_db *open_db(const char *path) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_create_if_missing(o, true);
  firkin_db *db = NULL;
  firkin_status s = firkin_open(path, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) printf("open %s: %s\n", path, firkin_last_error());
  return db;
}

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Value of key in txn as a C string ("" if absent); status returned. */
static firkin_status tget(firkin_txn *t, const firkin_ns *ns, const char *key, char *out,
                          size_t cap) {
  void *v = NULL;
  size_t n = 0;
  firkin_status s = firkin_txn_get(t, ns, key, strlen(key), &v, &n);
  out[0] = 0;
  if (s == FIRKIN_OK) {
    snprintf(out, cap, "%.*s", (int)n, (const char *)v);
    firkin_free(v);
  }
  return s;
}
static firkin_status tput(firkin_txn *t, const firkin_ns *ns, const char *key, const char *val) {
  return firkin_txn_put(t, ns, key, strlen(key), val, strlen(val));
}
static firkin_status dget(firkin_db *db, const firkin_snapshot *snap, const firkin_ns *ns,
                          const char *key, char *out, size_t cap) {
  void *v = NULL;
  size_t n = 0;
  firkin_status s = firkin_get(db, snap, ns, key, strlen(key), &v, &n);
  out[0] = 0;
  if (s == FIRKIN_OK) {
    snprintf(out, cap, "%.*s", (int)n, (const char *)v);
    firkin_free(v);
  }
  return s;
}
static firkin_status dput(firkin_db *db, const firkin_ns *ns, const char *key, const char *val) {
  return firkin_put(db, NULL, ns, key, strlen(key), val, strlen(val));
}

/* ------------------------------------------------------------------------ */

static void test_api(void) {
  char path[512], buf[256];
  dbpath(path, sizeof path, "api");
  firkin_db *db = open_db(path);
  firkin_ns *ns2 = NULL;
  check(firkin_ns_create(db, "two", &ns2) == FIRKIN_OK, "ns create");
  check(dput(db, NULL, "a", "old-a") == FIRKIN_OK && dput(db, ns2, "a", "old-a2") == FIRKIN_OK &&
            dput(db, NULL, "gone", "x") == FIRKIN_OK,
        "setup puts");

  firkin_txn *t = NULL;
  check(firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t) == FIRKIN_OK && t != NULL, "begin");
  uint64_t last = 0;
  firkin_last_seq(db, &last);
  check(firkin_txn_snapshot_seq(t) == last, "snapshot seq is the latest");
  check(tput(t, NULL, "a", "new-a") == FIRKIN_OK && tput(t, ns2, "b", "new-b2") == FIRKIN_OK,
        "txn puts");
  check(tget(t, NULL, "a", buf, sizeof buf) == FIRKIN_OK && strcmp(buf, "new-a") == 0,
        "own write visible in default ns: %s", buf);
  check(tget(t, ns2, "a", buf, sizeof buf) == FIRKIN_OK && strcmp(buf, "old-a2") == 0,
        "snapshot value in ns2: %s", buf);
  check(tget(t, ns2, "b", buf, sizeof buf) == FIRKIN_OK && strcmp(buf, "new-b2") == 0,
        "own write in ns2: %s", buf);
  check(tget(t, NULL, "b", buf, sizeof buf) == FIRKIN_E_NOT_FOUND, "namespaces are separate");
  check(firkin_txn_delete(t, NULL, "gone", 4) == FIRKIN_OK, "txn delete");
  check(tget(t, NULL, "gone", buf, sizeof buf) == FIRKIN_E_NOT_FOUND, "delete then get");
  bool found = true;
  check(firkin_txn_contains(t, NULL, "gone", 4, &found) == FIRKIN_OK && !found,
        "contains after delete");
  check(firkin_txn_contains(t, ns2, "b", 1, &found) == FIRKIN_OK && found, "contains own put");
  /* Outside, nothing is visible before commit. */
  check(dget(db, NULL, NULL, "a", buf, sizeof buf) == FIRKIN_OK && strcmp(buf, "old-a") == 0,
        "uncommitted write invisible outside: %s", buf);
  check(dget(db, NULL, NULL, "gone", buf, sizeof buf) == FIRKIN_OK, "uncommitted delete invisible");
  /* A write outside after begin is not seen by the transaction. */
  check(dput(db, ns2, "c", "outside") == FIRKIN_OK, "outside put");
  check(tget(t, ns2, "c", buf, sizeof buf) == FIRKIN_E_NOT_FOUND,
        "later outside write not in the snapshot");
  /* cas against the transaction's view. */
  check(firkin_txn_cas(t, NULL, "a", 1, "old-a", 5, "x", 1) == FIRKIN_E_CONDITION_FAILED,
        "cas sees the own write, not the snapshot");
  check(firkin_txn_cas(t, NULL, "a", 1, "new-a", 5, "cas-a", 5) == FIRKIN_OK, "cas on own write");
  check(firkin_txn_cas(t, NULL, "nope", 4, "", 0, "x", 1) == FIRKIN_E_CONDITION_FAILED,
        "cas on an absent key");
  /* Iterator of ns2: snapshot {a} + own {b}; default: snapshot {a,gone} - gone, a overlaid. */
  firkin_iter *it = NULL;
  check(firkin_txn_iter_new(t, ns2, &it) == FIRKIN_OK, "txn iter ns2");
  int n = 0;
  bool sa = false, sb = false;
  for (; firkin_iter_valid(it); firkin_iter_next(it)) {
    const void *k, *v;
    size_t kl, vl;
    firkin_iter_key(it, &k, &kl);
    firkin_iter_value(it, &v, &vl);
    n++;
    if (kl == 1 && memcmp(k, "a", 1) == 0) sa = vl == 6 && memcmp(v, "old-a2", 6) == 0;
    if (kl == 1 && memcmp(k, "b", 1) == 0) sb = vl == 6 && memcmp(v, "new-b2", 6) == 0;
  }
  check(firkin_iter_status(it) == FIRKIN_OK && n == 2 && sa && sb,
        "txn iter ns2 yields a (snapshot) and b (own): n=%d", n);
  firkin_iter_free(it);
  check(firkin_txn_iter_new(t, NULL, &it) == FIRKIN_OK, "txn iter default");
  n = 0;
  bool acas = false;
  for (; firkin_iter_valid(it); firkin_iter_next(it)) {
    const void *k, *v;
    size_t kl, vl;
    firkin_iter_key(it, &k, &kl);
    firkin_iter_value(it, &v, &vl);
    n++;
    if (kl == 1 && memcmp(k, "a", 1) == 0) acas = vl == 5 && memcmp(v, "cas-a", 5) == 0;
  }
  check(n == 1 && acas, "txn iter default: only a with its own value (n=%d)", n);
  firkin_iter_free(it);

  uint64_t cseq = 0, before = 0, after = 0;
  firkin_last_seq(db, &before);
  check(firkin_txn_commit(t, NULL, &cseq) == FIRKIN_OK, "commit");
  firkin_last_seq(db, &after);
  check(cseq == before + 1 && after == before + 1,
        "a commit is one sequence number (%llu -> %llu, commit %llu)",
        (unsigned long long)before, (unsigned long long)after, (unsigned long long)cseq);
  check(dget(db, NULL, NULL, "a", buf, sizeof buf) == FIRKIN_OK && strcmp(buf, "cas-a") == 0,
        "committed a: %s", buf);
  check(dget(db, NULL, ns2, "b", buf, sizeof buf) == FIRKIN_OK && strcmp(buf, "new-b2") == 0,
        "committed ns2 b");
  check(dget(db, NULL, NULL, "gone", buf, sizeof buf) == FIRKIN_E_NOT_FOUND, "committed delete");
  check(tput(t, NULL, "z", "z") == FIRKIN_E_INVALID_ARGUMENT, "put after commit refused");
  check(strstr(firkin_last_error(), "committed") != NULL, "message says committed: %s",
        firkin_last_error());
  check(firkin_txn_commit(t, NULL, NULL) == FIRKIN_E_INVALID_ARGUMENT, "second commit refused");
  firkin_txn_free(t);

  /* Rollback. */
  check(firkin_txn_begin(db, FIRKIN_TXN_SERIALIZABLE, &t) == FIRKIN_OK, "begin 2");
  check(tput(t, NULL, "r", "rolled") == FIRKIN_OK, "put before rollback");
  check(firkin_txn_rollback(t) == FIRKIN_OK, "rollback");
  check(dget(db, NULL, NULL, "r", buf, sizeof buf) == FIRKIN_E_NOT_FOUND, "rolled back: absent");
  check(tget(t, NULL, "r", buf, sizeof buf) == FIRKIN_E_INVALID_ARGUMENT, "get after rollback");
  check(firkin_txn_rollback(t) == FIRKIN_E_INVALID_ARGUMENT, "second rollback refused");
  firkin_txn_free(t);
  /* A read-only transaction commits at its snapshot, writing nothing. */
  check(firkin_txn_begin(db, FIRKIN_TXN_SERIALIZABLE, &t) == FIRKIN_OK, "begin 3");
  check(tget(t, NULL, "a", buf, sizeof buf) == FIRKIN_OK, "read-only get");
  firkin_last_seq(db, &before);
  check(firkin_txn_commit(t, NULL, &cseq) == FIRKIN_OK && cseq == firkin_txn_snapshot_seq(t),
        "read-only commit");
  firkin_last_seq(db, &after);
  check(before == after, "read-only commit writes nothing");
  firkin_txn_free(t);
  /* free of an open transaction rolls it back. */
  check(firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t) == FIRKIN_OK, "begin 4");
  tput(t, NULL, "freed", "x");
  firkin_txn_free(t);
  check(dget(db, NULL, NULL, "freed", buf, sizeof buf) == FIRKIN_E_NOT_FOUND, "free rolls back");
  firkin_ns_close(ns2);
  check(firkin_close(db) == FIRKIN_OK, "close");
}

static void test_conflict(void) {
  char path[512], buf[256];
  dbpath(path, sizeof path, "conflict");
  firkin_db *db = open_db(path);
  firkin_ns *acct = NULL;
  check(firkin_ns_create(db, "acct", &acct) == FIRKIN_OK, "ns create");
  dput(db, acct, "x", "1");
  dput(db, acct, "y", "1");

  /* SI write-write. */
  firkin_txn *t1 = NULL, *t2 = NULL;
  firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t1);
  firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t2);
  tput(t1, acct, "x", "t1");
  tput(t2, acct, "x", "t2");
  check(firkin_txn_commit(t1, NULL, NULL) == FIRKIN_OK, "SI first committer wins");
  check(firkin_txn_commit(t2, NULL, NULL) == FIRKIN_E_CONFLICT, "SI write-write conflict");
  check(strstr(firkin_last_error(), "'acct'") != NULL && strstr(firkin_last_error(), "'x'"),
        "message names ns and key: %s", firkin_last_error());
  check(dget(db, NULL, acct, "x", buf, sizeof buf) == FIRKIN_OK && strcmp(buf, "t1") == 0,
        "loser applied nothing");
  check(tput(t2, acct, "q", "q") == FIRKIN_E_INVALID_ARGUMENT, "failed txn is finished");
  firkin_txn_free(t1);
  firkin_txn_free(t2);

  /* A single outside write conflicts too, and a delete counts as a change. */
  firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t1);
  tput(t1, acct, "y", "t1");
  firkin_delete(db, NULL, acct, "y", 1);
  check(firkin_txn_commit(t1, NULL, NULL) == FIRKIN_E_CONFLICT, "outside delete conflicts");
  firkin_txn_free(t1);

  /* Binary key: escaped in the message. */
  const char bkey[3] = {'k', 0, (char)0xff};
  firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t1);
  firkin_txn_put(t1, NULL, bkey, 3, "v", 1);
  firkin_put(db, NULL, NULL, bkey, 3, "w", 1);
  check(firkin_txn_commit(t1, NULL, NULL) == FIRKIN_E_CONFLICT, "binary key conflict");
  check(strstr(firkin_last_error(), "'default'") != NULL &&
            strstr(firkin_last_error(), "k\\x00\\xff") != NULL,
        "binary key escaped: %s", firkin_last_error());
  firkin_txn_free(t1);

  /* Serializable read-write (read found something) vs SI (allowed). */
  for (int iso = 0; iso < 2; iso++) {
    firkin_txn_begin(db, (firkin_isolation)iso, &t1);
    tget(t1, acct, "x", buf, sizeof buf);
    tput(t1, acct, "other", "1");
    dput(db, acct, "x", "changed");
    firkin_status s = firkin_txn_commit(t1, NULL, NULL);
    check(iso == 0 ? s == FIRKIN_OK : s == FIRKIN_E_CONFLICT,
          "read-write: iso %d status %d", iso, s);
    if (iso == 1) {
      check(strstr(firkin_last_error(), "'acct'") && strstr(firkin_last_error(), "'x'"),
            "read conflict names ns and key: %s", firkin_last_error());
    }
    firkin_txn_free(t1);
  }
  /* Serializable: a read that found nothing, then someone inserts it. */
  for (int iso = 0; iso < 2; iso++) {
    char key[16];
    snprintf(key, sizeof key, "absent%d", iso);
    firkin_txn_begin(db, (firkin_isolation)iso, &t1);
    check(tget(t1, acct, key, buf, sizeof buf) == FIRKIN_E_NOT_FOUND, "absent read");
    tput(t1, acct, "w", "1");
    dput(db, acct, key, "appeared");
    firkin_status s = firkin_txn_commit(t1, NULL, NULL);
    check(iso == 0 ? s == FIRKIN_OK : s == FIRKIN_E_CONFLICT, "read-nothing: iso %d status %d",
          iso, s);
    firkin_txn_free(t1);
  }
  /* Serializable read-only txn also validates. */
  firkin_txn_begin(db, FIRKIN_TXN_SERIALIZABLE, &t1);
  tget(t1, acct, "x", buf, sizeof buf);
  dput(db, acct, "x", "again");
  check(firkin_txn_commit(t1, NULL, NULL) == FIRKIN_E_CONFLICT, "read-only serializable conflict");
  firkin_txn_free(t1);
  /* Phantom: iterate a namespace, someone inserts a new key there. */
  for (int iso = 0; iso < 2; iso++) {
    char key[16];
    snprintf(key, sizeof key, "phantom%d", iso);
    firkin_txn_begin(db, (firkin_isolation)iso, &t1);
    firkin_iter *it = NULL;
    check(firkin_txn_iter_new(t1, acct, &it) == FIRKIN_OK, "iter");
    int n = 0;
    for (; firkin_iter_valid(it); firkin_iter_next(it)) n++;
    firkin_iter_free(it);
    char cnt[16];
    snprintf(cnt, sizeof cnt, "%d", n);
    tput(t1, NULL, "count", cnt);
    dput(db, acct, key, "new");
    firkin_status s = firkin_txn_commit(t1, NULL, NULL);
    check(iso == 0 ? s == FIRKIN_OK : s == FIRKIN_E_CONFLICT, "phantom: iso %d status %d", iso, s);
    if (iso == 1) {
      check(strstr(firkin_last_error(), "'acct'") != NULL, "phantom message names ns: %s",
            firkin_last_error());
    }
    firkin_txn_free(t1);
  }
  /* No false phantom: a write to another namespace does not conflict, and
   * the transaction's own writes to the iterated namespace do not either. */
  firkin_txn_begin(db, FIRKIN_TXN_SERIALIZABLE, &t1);
  firkin_iter *it = NULL;
  firkin_txn_iter_new(t1, acct, &it);
  firkin_iter_free(it);
  tput(t1, acct, "mine", "1");
  dput(db, NULL, "elsewhere", "1");
  check(firkin_txn_commit(t1, NULL, NULL) == FIRKIN_OK, "iterated ns, own write, other ns write");
  firkin_txn_free(t1);
  firkin_ns_close(acct);
  firkin_close(db);
}

static void test_bad(void) {
  char path[512], path2[512], buf[64];
  dbpath(path, sizeof path, "bad");
  dbpath(path2, sizeof path2, "bad2");
  firkin_db *db = open_db(path), *db2 = open_db(path2);
  firkin_txn *t = NULL;
  check(firkin_txn_begin(NULL, FIRKIN_TXN_SNAPSHOT, &t) == FIRKIN_E_INVALID_ARGUMENT && t == NULL,
        "begin NULL db");
  check(firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, NULL) == FIRKIN_E_INVALID_ARGUMENT,
        "begin NULL out");
  check(firkin_txn_begin(db, (firkin_isolation)7, &t) == FIRKIN_E_INVALID_ARGUMENT && t == NULL,
        "bad isolation");
  void *v = NULL;
  size_t vl = 0;
  bool f = false;
  firkin_iter *it = NULL;
  check(firkin_txn_get(NULL, NULL, "a", 1, &v, &vl) == FIRKIN_E_INVALID_ARGUMENT, "get NULL txn");
  check(firkin_txn_put(NULL, NULL, "a", 1, "b", 1) == FIRKIN_E_INVALID_ARGUMENT, "put NULL txn");
  check(firkin_txn_delete(NULL, NULL, "a", 1) == FIRKIN_E_INVALID_ARGUMENT, "delete NULL txn");
  check(firkin_txn_contains(NULL, NULL, "a", 1, &f) == FIRKIN_E_INVALID_ARGUMENT, "contains NULL");
  check(firkin_txn_cas(NULL, NULL, "a", 1, "a", 1, "b", 1) == FIRKIN_E_INVALID_ARGUMENT, "cas NULL");
  check(firkin_txn_iter_new(NULL, NULL, &it) == FIRKIN_E_INVALID_ARGUMENT, "iter NULL");
  check(firkin_txn_commit(NULL, NULL, NULL) == FIRKIN_E_INVALID_ARGUMENT, "commit NULL");
  check(firkin_txn_rollback(NULL) == FIRKIN_E_INVALID_ARGUMENT, "rollback NULL");
  check(firkin_txn_snapshot_seq(NULL) == 0, "snapshot seq NULL");
  firkin_txn_free(NULL);

  check(firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t) == FIRKIN_OK, "begin");
  check(firkin_txn_get(t, NULL, "a", 1, NULL, &vl) == FIRKIN_E_INVALID_ARGUMENT, "get NULL out");
  check(firkin_txn_contains(t, NULL, "a", 1, NULL) == FIRKIN_E_INVALID_ARGUMENT,
        "contains NULL out");
  check(firkin_txn_iter_new(t, NULL, NULL) == FIRKIN_E_INVALID_ARGUMENT, "iter NULL out");
  check(firkin_txn_put(t, NULL, NULL, 0, "b", 1) == FIRKIN_E_INVALID_ARGUMENT, "empty key");
  check(firkin_txn_put(t, NULL, NULL, 3, "b", 1) == FIRKIN_E_INVALID_ARGUMENT, "NULL key");
  check(firkin_txn_put(t, NULL, "a", 1, NULL, 2) == FIRKIN_E_INVALID_ARGUMENT, "NULL value");
  check(firkin_txn_put(t, NULL, "a", FIRKIN_MAX_KEY_SIZE + 1, "b", 1) == FIRKIN_E_TOO_LARGE,
        "oversized key");
  firkin_ns *other = NULL;
  check(firkin_ns_create(db2, "other", &other) == FIRKIN_OK, "ns of db2");
  check(firkin_txn_put(t, other, "a", 1, "b", 1) == FIRKIN_E_INVALID_ARGUMENT,
        "namespace of another database");
  check(strstr(firkin_last_error(), "another database") != NULL, "message: %s",
        firkin_last_error());
  check(firkin_txn_get(t, other, "a", 1, &v, &vl) == FIRKIN_E_INVALID_ARGUMENT, "get foreign ns");
  check(firkin_txn_iter_new(t, other, &it) == FIRKIN_E_INVALID_ARGUMENT, "iter foreign ns");
  /* A dropped namespace. */
  firkin_ns *dropme = NULL;
  firkin_ns_create(db, "dropme", &dropme);
  firkin_ns_drop(db, "dropme");
  check(firkin_txn_put(t, dropme, "a", 1, "b", 1) == FIRKIN_E_NAMESPACE_NOT_FOUND, "dropped ns");
  firkin_ns_close(dropme);
  /* Too large: bytes, then the transaction is still usable. */
  const size_t big = 1 << 20;
  char *val = calloc(1, big);
  int puts_ok = 0;
  firkin_status s = FIRKIN_OK;
  for (int i = 0; i < 40 && s == FIRKIN_OK; i++) {
    char key[16];
    snprintf(key, sizeof key, "big%d", i);
    s = firkin_txn_put(t, NULL, key, strlen(key), val, big);
    if (s == FIRKIN_OK) puts_ok++;
  }
  check(s == FIRKIN_E_TOO_LARGE && puts_ok >= 30 && puts_ok < 32,
        "byte limit enforced after %d MiB (status %d)", puts_ok, s);
  check(firkin_txn_put(t, NULL, "big0", 4, "small", 5) == FIRKIN_OK,
        "shrinking a write is allowed at the limit");
  free(val);
  check(tput(t, NULL, "ok", "ok") == FIRKIN_OK, "still usable after TOO_LARGE");
  firkin_txn_free(t);
  /* Too many keys. */
  firkin_txn_begin(db, FIRKIN_TXN_SERIALIZABLE, &t);
  s = FIRKIN_OK;
  int n = 0;
  for (int i = 0; i < FIRKIN_TXN_MAX_OPS + 10 && s == FIRKIN_OK; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    if (i % 2) {
      s = tput(t, NULL, key, "v");
    } else {
      s = tget(t, NULL, key, buf, sizeof buf);
      if (s == FIRKIN_E_NOT_FOUND) s = FIRKIN_OK;
    }
    if (s == FIRKIN_OK) n++;
  }
  check(s == FIRKIN_E_TOO_LARGE && n == FIRKIN_TXN_MAX_OPS, "op limit enforced at %d", n);
  check(firkin_txn_commit(t, NULL, NULL) == FIRKIN_OK, "a transaction at the limit commits");
  firkin_txn_free(t);
  /* The same with puts of empty values (until 2026-11-27 they were never
   * checked: 65,546 keys went into one transaction and committed). */
  firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t);
  s = FIRKIN_OK;
  n = 0;
  for (int i = 0; i < FIRKIN_TXN_MAX_OPS + 10 && s == FIRKIN_OK; i++) {
    char key[16];
    snprintf(key, sizeof key, "e%d", i);
    s = firkin_txn_put(t, NULL, key, strlen(key), "", 0);
    if (s == FIRKIN_OK) n++;
  }
  check(s == FIRKIN_E_TOO_LARGE && n == FIRKIN_TXN_MAX_OPS,
        "op limit enforced on empty values at %d (status %d)", n, s);
  firkin_txn_free(t);
  /* A range iterator refused (an unordered namespace) leaves no phantom
   * check behind: the commit of writes elsewhere is no conflict when the
   * refused namespace is written meanwhile (until 2026-11-27 it was). */
  {
    firkin_ns *ord = NULL;
    check(firkin_ns_create_v2(db, "ord-limits", FIRKIN_NS_ORDERED, &ord) == FIRKIN_OK, "ord ns");
    firkin_txn_begin(db, FIRKIN_TXN_SERIALIZABLE, &t);
    firkin_iter *it = NULL;
    check(firkin_txn_range_iter_new(t, NULL, NULL, 0, NULL, 0, 0, &it) ==
              FIRKIN_E_INVALID_ARGUMENT && it == NULL,
          "a range iterator over the default namespace is refused");
    check(firkin_put(db, NULL, NULL, "unrelated", 9, "x", 1) == FIRKIN_OK, "a write elsewhere");
    check(firkin_txn_put(t, ord, "o", 1, "1", 1) == FIRKIN_OK, "txn put into ord");
    check(firkin_txn_commit(t, NULL, NULL) == FIRKIN_OK,
          "the refused iterator left no phantom check (%s)", firkin_last_error());
    firkin_txn_free(t);
    firkin_ns_close(ord);
  }
  firkin_ns_close(other);
  firkin_close(db2);
  /* A transaction keeps its database alive: close the db handle first. */
  firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t);
  check(firkin_close(db) == FIRKIN_OK, "close with a transaction open");
  check(tput(t, NULL, "late", "1") == FIRKIN_OK, "transaction outlives the db handle");
  firkin_txn_free(t);
}

/* ------------------------------------------------------------------------ */
/* atomic: writers commit transactions setting K keys to one value; readers
 * take snapshots and read all K keys: they must all agree. */

enum { kAtomKeys = 8 };
static atomic_int atom_stop, atom_torn, atom_checks, atom_commits;

static void *atom_writer(void *arg) {
  firkin_db *db = arg;
  uint64_t r = (uint64_t)(uintptr_t)&r | 1;
  for (int i = 0; !atomic_load(&atom_stop); i++) {
    firkin_txn *t = NULL;
    if (firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t) != FIRKIN_OK) break;
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)rng_next(&r));
    for (int k = 0; k < kAtomKeys; k++) {
      char key[8];
      snprintf(key, sizeof key, "k%d", k);
      tput(t, NULL, key, v);
    }
    if (firkin_txn_commit(t, NULL, NULL) == FIRKIN_OK) atomic_fetch_add(&atom_commits, 1);
    firkin_txn_free(t);
  }
  return NULL;
}

static void *atom_reader(void *arg) {
  firkin_db *db = arg;
  while (!atomic_load(&atom_stop)) {
    firkin_snapshot *snap = NULL;
    firkin_snapshot_new(db, &snap);
    char first[64], cur[64];
    bool torn = false;
    firkin_status s0 = dget(db, snap, NULL, "k0", first, sizeof first);
    for (int k = 1; k < kAtomKeys; k++) {
      char key[8];
      snprintf(key, sizeof key, "k%d", k);
      firkin_status s = dget(db, snap, NULL, key, cur, sizeof cur);
      if (s != s0 || strcmp(cur, first) != 0) torn = true;
    }
    firkin_snapshot_free(snap);
    if (torn) atomic_fetch_add(&atom_torn, 1);
    atomic_fetch_add(&atom_checks, 1);
  }
  return NULL;
}

static void test_atomic(void) {
  char path[512];
  dbpath(path, sizeof path, "atomic");
  firkin_db *db = open_db(path);
  atomic_store(&atom_stop, 0);
  pthread_t w[2], rd[2];
  for (int i = 0; i < 2; i++) pthread_create(&w[i], NULL, atom_writer, db);
  for (int i = 0; i < 2; i++) pthread_create(&rd[i], NULL, atom_reader, db);
  usleep(1500 * 1000);
  atomic_store(&atom_stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(w[i], NULL);
  for (int i = 0; i < 2; i++) pthread_join(rd[i], NULL);
  check(atomic_load(&atom_commits) > 10 && atomic_load(&atom_checks) > 10,
        "atomic: ran (%d commits, %d checks)", atomic_load(&atom_commits),
        atomic_load(&atom_checks));
  check(atomic_load(&atom_torn) == 0, "atomic: %d torn reads", atomic_load(&atom_torn));
  firkin_close(db);
}

/* ------------------------------------------------------------------------ */
/* An isolation checker in the spirit of Elle, for list-append histories.
 * Each key's value is a list of uint32 elements; a transaction reads some
 * keys and appends unique elements to others. The version order of a key
 * is its final list (every committed read must be a prefix of it). Edges
 * between committed transactions: ww (consecutive elements of a key by two
 * transactions), wr (a read whose last element another wrote), rw (a read
 * of length n to the writer of element n). */

enum { kMaxOps = 6, kElleKeys = 5 };
enum { EDGE_WW = 1, EDGE_WR = 2, EDGE_RW = 4 };

typedef struct {
  int key;
  bool append;
  uint32_t elem;   /* append */
  uint32_t *list;  /* read: the observed list (malloc'd) */
  size_t n;
} hop;

typedef struct {
  int nops;
  hop ops[kMaxOps];
  bool committed;
} htxn;

typedef struct {
  htxn *txns;
  int ntxns, cap;
  int *writer;      /* element -> txn index, -1 if none */
  int nelems;
  uint32_t *final[kElleKeys];
  size_t nfinal[kElleKeys];
} history;

typedef struct {
  int g0, g1a, g1b, g1c, gsingle, g2, lost, incompatible, garbage;
} anomalies;

static void history_free(history *h) {
  for (int i = 0; i < h->ntxns; i++) {
    for (int j = 0; j < h->txns[i].nops; j++) free(h->txns[i].ops[j].list);
  }
  free(h->txns);
  free(h->writer);
  for (int k = 0; k < kElleKeys; k++) free(h->final[k]);
}

typedef struct {
  int n;
  int *head, *next, *to;
  unsigned char *type;
  int ne, cap;
} graph;

static void add_edge(graph *g, int u, int v, int type) {
  if (u == v || u < 0 || v < 0) return;
  if (g->ne == g->cap) {
    g->cap = g->cap ? g->cap * 2 : 1024;
    g->next = realloc(g->next, g->cap * sizeof(int));
    g->to = realloc(g->to, g->cap * sizeof(int));
    g->type = realloc(g->type, g->cap);
  }
  g->to[g->ne] = v;
  g->type[g->ne] = (unsigned char)type;
  g->next[g->ne] = g->head[u];
  g->head[u] = g->ne++;
}

/* Whether dst is reachable from src over edges of `mask`. */
static bool reach(const graph *g, int src, int dst, int mask, int *queue, int *mark, int stamp) {
  int qh = 0, qt = 0;
  queue[qt++] = src;
  mark[src] = stamp;
  while (qh < qt) {
    int u = queue[qh++];
    if (u == dst) return true;
    for (int e = g->head[u]; e >= 0; e = g->next[e]) {
      if (!(g->type[e] & mask)) continue;
      int v = g->to[e];
      if (mark[v] != stamp) {
        mark[v] = stamp;
        queue[qt++] = v;
      }
    }
  }
  return false;
}

static anomalies analyse(const history *h) {
  anomalies a;
  memset(&a, 0, sizeof a);
  /* Committed reads must be prefixes of the final lists; every element
   * read or present was written by a committed transaction (G1a), and a
   * read never ends on a non-final append of its writer (G1b). */
  for (int i = 0; i < h->ntxns; i++) {
    const htxn *t = &h->txns[i];
    for (int j = 0; j < t->nops; j++) {
      const hop *o = &t->ops[j];
      if (o->append) {
        /* a committed append must be in the final list */
        if (!t->committed) continue;
        bool in = false;
        for (size_t x = 0; x < h->nfinal[o->key]; x++) in |= h->final[o->key][x] == o->elem;
        if (!in) a.lost++;
        continue;
      }
      if (!t->committed) continue;
      if (o->n > h->nfinal[o->key] ||
          (o->n > 0 && memcmp(o->list, h->final[o->key], o->n * sizeof(uint32_t)) != 0)) {
        a.incompatible++;
      }
      for (size_t x = 0; x < o->n; x++) {
        uint32_t e = o->list[x];
        if ((int)e >= h->nelems || h->writer[e] < 0) {
          a.garbage++;
          continue;
        }
        if (!h->txns[h->writer[e]].committed) a.g1a++;
      }
      if (o->n > 0 && (int)o->list[o->n - 1] < h->nelems && h->writer[o->list[o->n - 1]] >= 0) {
        const int w = h->writer[o->list[o->n - 1]];
        if (w != i) {
          const htxn *wt = &h->txns[w];
          uint32_t last = 0;
          for (int q = 0; q < wt->nops; q++) {
            if (wt->ops[q].append && wt->ops[q].key == o->key) last = wt->ops[q].elem;
          }
          if (last != o->list[o->n - 1]) a.g1b++;
        }
      }
    }
  }
  for (int k = 0; k < kElleKeys; k++) {
    for (size_t x = 0; x < h->nfinal[k]; x++) {
      uint32_t e = h->final[k][x];
      if ((int)e >= h->nelems || h->writer[e] < 0) a.garbage++;
      else if (!h->txns[h->writer[e]].committed) a.g1a++;
    }
  }
  /* The dependency graph over committed transactions. */
  graph g;
  memset(&g, 0, sizeof g);
  g.n = h->ntxns;
  g.head = malloc(g.n * sizeof(int));
  for (int i = 0; i < g.n; i++) g.head[i] = -1;
#define WRITER(e) ((int)(e) < h->nelems ? h->writer[(e)] : -1)
  for (int k = 0; k < kElleKeys; k++) {
    for (size_t x = 1; x < h->nfinal[k]; x++) {
      add_edge(&g, WRITER(h->final[k][x - 1]), WRITER(h->final[k][x]), EDGE_WW);
    }
  }
  for (int i = 0; i < h->ntxns; i++) {
    const htxn *t = &h->txns[i];
    if (!t->committed) continue;
    for (int j = 0; j < t->nops; j++) {
      const hop *o = &t->ops[j];
      if (o->append) continue;
      if (o->n > 0) add_edge(&g, WRITER(o->list[o->n - 1]), i, EDGE_WR);
      if (o->n < h->nfinal[o->key]) add_edge(&g, i, WRITER(h->final[o->key][o->n]), EDGE_RW);
    }
  }
#undef WRITER
  int *queue = malloc(g.n * sizeof(int)), *mark = calloc(g.n, sizeof(int));
  int stamp = 0;
  for (int u = 0; u < g.n; u++) {
    for (int e = g.head[u]; e >= 0; e = g.next[e]) {
      const int v = g.to[e];
      if (g.type[e] == EDGE_WW) {
        if (reach(&g, v, u, EDGE_WW, queue, mark, ++stamp)) a.g0++;
        else if (reach(&g, v, u, EDGE_WW | EDGE_WR, queue, mark, ++stamp)) a.g1c++;
      } else if (g.type[e] == EDGE_WR) {
        if (reach(&g, v, u, EDGE_WW | EDGE_WR, queue, mark, ++stamp)) a.g1c++;
      } else {
        if (reach(&g, v, u, EDGE_WW | EDGE_WR, queue, mark, ++stamp)) a.gsingle++;
        else if (reach(&g, v, u, EDGE_WW | EDGE_WR | EDGE_RW, queue, mark, ++stamp)) a.g2++;
      }
    }
  }
  free(queue);
  free(mark);
  free(g.head);
  free(g.next);
  free(g.to);
  free(g.type);
  return a;
}

static void print_anomalies(const char *what, const anomalies *a) {
  printf("%s: G0 %d G1a %d G1b %d G1c %d G-single %d G2 %d lost %d incompatible %d garbage %d\n",
         what, a->g0, a->g1a, a->g1b, a->g1c, a->gsingle, a->g2, a->lost, a->incompatible,
         a->garbage);
}

/* Reads key's list in t (into o); returns the status. */
static firkin_status read_list(firkin_txn *t, int key, uint32_t **list, size_t *n) {
  char k[8];
  snprintf(k, sizeof k, "l%d", key);
  void *v = NULL;
  size_t vl = 0;
  *list = NULL;
  *n = 0;
  firkin_status s = firkin_txn_get(t, NULL, k, strlen(k), &v, &vl);
  if (s == FIRKIN_E_NOT_FOUND) return FIRKIN_OK;
  if (s != FIRKIN_OK) return s;
  *n = vl / sizeof(uint32_t);
  *list = malloc(vl + sizeof(uint32_t));
  memcpy(*list, v, vl);
  firkin_free(v);
  return FIRKIN_OK;
}

static firkin_status append_elem(firkin_txn *t, int key, uint32_t elem) {
  uint32_t *list;
  size_t n;
  firkin_status s = read_list(t, key, &list, &n);
  if (s != FIRKIN_OK) return s;
  if (list == NULL) list = malloc(sizeof(uint32_t));
  list[n++] = elem;
  char k[8];
  snprintf(k, sizeof k, "l%d", key);
  s = firkin_txn_put(t, NULL, k, strlen(k), list, n * sizeof(uint32_t));
  free(list);
  return s;
}

enum { kElleThreads = 4, kElleTxns = 1000 };
typedef struct {
  firkin_db *db;
  firkin_isolation iso;
  int thread;
  htxn *txns; /* kElleTxns */
  atomic_int *errors;
  atomic_int *conflicts;
  atomic_int *ready; /* start together */
} elle_arg;

static void *elle_worker(void *p) {
  elle_arg *arg = p;
  uint64_t r = 0x9e3779b97f4a7c15ull * (arg->thread + 1);
  uint32_t next_elem = (uint32_t)arg->thread * kElleTxns * kMaxOps;
  atomic_fetch_add(arg->ready, 1);
  while (atomic_load(arg->ready) < kElleThreads) sched_yield();
  for (int i = 0; i < kElleTxns; i++) {
    htxn *ht = &arg->txns[i];
    memset(ht, 0, sizeof *ht);
    firkin_txn *t = NULL;
    if (firkin_txn_begin(arg->db, arg->iso, &t) != FIRKIN_OK) {
      atomic_fetch_add(arg->errors, 1);
      continue;
    }
    const int nops = 1 + (int)(rng_next(&r) % 4);
    bool ok = true;
    for (int j = 0; j < nops && ht->nops < kMaxOps && ok; j++) {
      hop *o = &ht->ops[ht->nops];
      o->key = (int)(rng_next(&r) % kElleKeys);
      o->append = rng_next(&r) % 2;
      if (o->append) {
        o->elem = next_elem++;
        ok = append_elem(t, o->key, o->elem) == FIRKIN_OK;
        ht->nops++;
        if (ok && rng_next(&r) % 5 == 0 && ht->nops < kMaxOps) { /* a second append (G1b) */
          hop *o2 = &ht->ops[ht->nops++];
          o2->key = o->key;
          o2->append = true;
          o2->elem = next_elem++;
          ok = append_elem(t, o2->key, o2->elem) == FIRKIN_OK;
        }
      } else {
        ok = read_list(t, o->key, &o->list, &o->n) == FIRKIN_OK;
        ht->nops++;
      }
    }
    if (!ok) atomic_fetch_add(arg->errors, 1);
    if (rng_next(&r) % 20 == 0) {
      firkin_txn_rollback(t); /* an aborted transaction: its appends must never show */
    } else {
      firkin_status s = firkin_txn_commit(t, NULL, NULL);
      ht->committed = s == FIRKIN_OK;
      if (s == FIRKIN_E_CONFLICT) atomic_fetch_add(arg->conflicts, 1);
      if (s != FIRKIN_OK && s != FIRKIN_E_CONFLICT) atomic_fetch_add(arg->errors, 1);
    }
    firkin_txn_free(t);
  }
  return NULL;
}

static void read_finals(firkin_db *db, history *h) {
  firkin_txn *t = NULL;
  firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t);
  for (int k = 0; k < kElleKeys; k++) read_list(t, k, &h->final[k], &h->nfinal[k]);
  firkin_txn_free(t);
}

static void index_writers(history *h, int nelems) {
  h->nelems = nelems;
  h->writer = malloc(nelems * sizeof(int));
  for (int e = 0; e < nelems; e++) h->writer[e] = -1;
  for (int i = 0; i < h->ntxns; i++) {
    for (int j = 0; j < h->txns[i].nops; j++) {
      if (h->txns[i].ops[j].append) h->writer[h->txns[i].ops[j].elem] = i;
    }
  }
}

static void run_elle(firkin_isolation iso) {
  char path[512];
  dbpath(path, sizeof path, iso == FIRKIN_TXN_SNAPSHOT ? "elle_si" : "elle_ser");
  firkin_db *db = open_db(path);
  history h;
  memset(&h, 0, sizeof h);
  h.ntxns = kElleThreads * kElleTxns;
  h.txns = calloc(h.ntxns, sizeof(htxn));
  atomic_int errors = 0, conflicts = 0, ready = 0;
  pthread_t th[kElleThreads];
  elle_arg args[kElleThreads];
  for (int i = 0; i < kElleThreads; i++) {
    args[i] = (elle_arg){db, iso, i, h.txns + i * kElleTxns, &errors, &conflicts, &ready};
    pthread_create(&th[i], NULL, elle_worker, &args[i]);
  }
  for (int i = 0; i < kElleThreads; i++) pthread_join(th[i], NULL);
  read_finals(db, &h);
  index_writers(&h, kElleThreads * kElleTxns * kMaxOps);
  int committed = 0;
  for (int i = 0; i < h.ntxns; i++) committed += h.txns[i].committed;
  anomalies a = analyse(&h);
  const char *name = iso == FIRKIN_TXN_SNAPSHOT ? "elle SI" : "elle serializable";
  print_anomalies(name, &a);
  printf("%s: %d of %d transactions committed, %d conflicts\n", name, committed, h.ntxns,
         atomic_load(&conflicts));
  /* Without concurrency the checker would prove nothing. */
  check(atomic_load(&conflicts) > 0, "%s: transactions overlapped (conflicts seen)", name);
  check(atomic_load(&errors) == 0, "%s: %d unexpected errors", name, atomic_load(&errors));
  check(committed > h.ntxns / 10, "%s: enough commits (%d)", name, committed);
  check(a.g0 == 0 && a.g1a == 0 && a.g1b == 0 && a.g1c == 0 && a.gsingle == 0 && a.lost == 0 &&
            a.incompatible == 0 && a.garbage == 0,
        "%s: no G0/G1/G-single anomaly", name);
  if (iso == FIRKIN_TXN_SERIALIZABLE) check(a.g2 == 0, "%s: no G2", name);
  history_free(&h);
  firkin_close(db);
}

static void test_elle(void) {
  run_elle(FIRKIN_TXN_SNAPSHOT);
  run_elle(FIRKIN_TXN_SERIALIZABLE);
}

/* Write skew, constructed: T1 reads l0 and appends to l1, T2 reads l1 and
 * appends to l0, both from the same snapshot. */
static void run_skew(firkin_isolation iso, anomalies *out, firkin_status *second) {
  char path[512];
  dbpath(path, sizeof path, iso == FIRKIN_TXN_SNAPSHOT ? "skew_si" : "skew_ser");
  firkin_db *db = open_db(path);
  history h;
  memset(&h, 0, sizeof h);
  h.ntxns = 2;
  h.txns = calloc(2, sizeof(htxn));
  firkin_txn *t[2];
  for (int i = 0; i < 2; i++) firkin_txn_begin(db, iso, &t[i]);
  for (int i = 0; i < 2; i++) {
    htxn *ht = &h.txns[i];
    ht->nops = 2;
    ht->ops[0].key = i;
    read_list(t[i], i, &ht->ops[0].list, &ht->ops[0].n);
    ht->ops[1].key = 1 - i;
    ht->ops[1].append = true;
    ht->ops[1].elem = (uint32_t)i;
    append_elem(t[i], 1 - i, (uint32_t)i);
  }
  h.txns[0].committed = firkin_txn_commit(t[0], NULL, NULL) == FIRKIN_OK;
  *second = firkin_txn_commit(t[1], NULL, NULL);
  h.txns[1].committed = *second == FIRKIN_OK;
  for (int i = 0; i < 2; i++) firkin_txn_free(t[i]);
  read_finals(db, &h);
  index_writers(&h, 2);
  *out = analyse(&h);
  check(h.txns[0].committed, "skew: first commit");
  history_free(&h);
  firkin_close(db);
}

static void test_skew(void) {
  anomalies a;
  firkin_status second;
  run_skew(FIRKIN_TXN_SNAPSHOT, &a, &second);
  print_anomalies("skew SI", &a);
  check(second == FIRKIN_OK, "skew SI: both commit");
  check(a.g2 > 0 && a.gsingle == 0 && a.g0 == 0 && a.g1c == 0, "skew SI: checker reports G2");
  run_skew(FIRKIN_TXN_SERIALIZABLE, &a, &second);
  print_anomalies("skew serializable", &a);
  check(second == FIRKIN_E_CONFLICT, "skew serializable: second commit conflicts (%d)", second);
  check(a.g2 == 0 && a.gsingle == 0, "skew serializable: no anomaly");
}

/* Phantoms under concurrency: serializable transactions count the keys of
 * a namespace by iterating it and insert a new (unique) key only while the
 * count is below a limit. Their written keys never collide, so only the
 * namespace check can stop two of them from both inserting at count
 * limit-1: the final count must be exactly the limit. Plain puts to
 * another namespace run beside them (they must not disturb anything). */
enum { kSlotLimit = 40, kSlotThreads = 4 };
typedef struct {
  firkin_db *db;
  firkin_ns *ns;
  int thread;
  atomic_int *errors, *conflicts, *ready;
} slot_arg;

static void *slot_worker(void *p) {
  slot_arg *a = p;
  atomic_fetch_add(a->ready, 1);
  while (atomic_load(a->ready) < kSlotThreads) sched_yield();
  for (int i = 0; i < 400; i++) {
    char key[32];
    if (a->thread == 0) { /* noise: plain writes to another namespace */
      snprintf(key, sizeof key, "noise%d", i);
      if (dput(a->db, NULL, key, "x") != FIRKIN_OK) atomic_fetch_add(a->errors, 1);
      continue;
    }
    firkin_txn *t = NULL;
    if (firkin_txn_begin(a->db, FIRKIN_TXN_SERIALIZABLE, &t) != FIRKIN_OK) {
      atomic_fetch_add(a->errors, 1);
      break;
    }
    firkin_iter *it = NULL;
    int n = 0;
    if (firkin_txn_iter_new(t, a->ns, &it) == FIRKIN_OK) {
      for (; firkin_iter_valid(it); firkin_iter_next(it)) n++;
      if (firkin_iter_status(it) != FIRKIN_OK) atomic_fetch_add(a->errors, 1);
      firkin_iter_free(it);
    } else {
      atomic_fetch_add(a->errors, 1);
    }
    usleep(20); /* widen the window between the count and the commit */
    if (n < kSlotLimit) {
      snprintf(key, sizeof key, "slot-%d-%d", a->thread, i);
      tput(t, a->ns, key, "taken");
    }
    firkin_status s = firkin_txn_commit(t, NULL, NULL);
    if (s == FIRKIN_E_CONFLICT) atomic_fetch_add(a->conflicts, 1);
    else if (s != FIRKIN_OK) atomic_fetch_add(a->errors, 1);
    firkin_txn_free(t);
  }
  return NULL;
}

/* One round on a fresh database; returns the conflicts seen. */
static int phantom_round(void) {
  char path[512];
  dbpath(path, sizeof path, "phantom");
  firkin_db *db = open_db(path);
  firkin_ns *ns = NULL;
  firkin_ns_create(db, "slots", &ns);
  atomic_int errors = 0, conflicts = 0, ready = 0;
  pthread_t th[kSlotThreads];
  slot_arg args[kSlotThreads];
  for (int i = 0; i < kSlotThreads; i++) {
    args[i] = (slot_arg){db, ns, i, &errors, &conflicts, &ready};
    pthread_create(&th[i], NULL, slot_worker, &args[i]);
  }
  for (int i = 0; i < kSlotThreads; i++) pthread_join(th[i], NULL);
  firkin_iter *it = NULL;
  firkin_iter_new(db, NULL, ns, &it);
  int n = 0;
  for (; firkin_iter_valid(it); firkin_iter_next(it)) n++;
  firkin_iter_free(it);
  printf("phantom: %d keys (limit %d), %d conflicts\n", n, kSlotLimit, atomic_load(&conflicts));
  check(atomic_load(&errors) == 0, "phantom: no errors");
  check(n == kSlotLimit, "phantom: exactly %d keys inserted, found %d", kSlotLimit, n);
  firkin_ns_close(ns);
  firkin_close(db);
  return atomic_load(&conflicts);
}

static void test_phantom(void) {
  /* Only the first 40 or so commits insert, so on a loaded machine the
   * threads can take turns through all of them (seen once, in a meson run
   * beside other tests on 2 cores): the round is repeated, up to 5 times,
   * until the transactions overlapped. Each round checks the count. */
  int conflicts = 0;
  for (int round = 0; round < 5 && conflicts == 0; round++) conflicts = phantom_round();
  check(conflicts > 0, "phantom: transactions overlapped (conflicts seen)");
}

/* ------------------------------------------------------------------------ */
/* Bank transfers. */

enum { kAccounts = 8, kInitial = 1000 };

static void acct_key(char *k, size_t n, int i) { snprintf(k, n, "acct%02d", i); }

typedef struct {
  firkin_db *db;
  firkin_isolation iso;
  int thread;
  int transfers;   /* 0 = until stop */
  atomic_int *stop;
  atomic_int *errors;
  atomic_int *commits;
  atomic_int *conflicts;
} bank_arg;

/* One transfer with retry on conflict; returns false on an unexpected error. */
static bool transfer(firkin_db *db, firkin_isolation iso, uint64_t *r, atomic_int *conflicts) {
  const int from = (int)(rng_next(r) % kAccounts);
  int to = (int)(rng_next(r) % (kAccounts - 1));
  if (to >= from) to++;
  const long amount = (long)(rng_next(r) % 50);
  for (;;) {
    firkin_txn *t = NULL;
    if (firkin_txn_begin(db, iso, &t) != FIRKIN_OK) return false;
    char kf[16], kt[16], vf[32], vt[32];
    acct_key(kf, sizeof kf, from);
    acct_key(kt, sizeof kt, to);
    if (tget(t, NULL, kf, vf, sizeof vf) != FIRKIN_OK || tget(t, NULL, kt, vt, sizeof vt) != FIRKIN_OK) {
      firkin_txn_free(t);
      return false;
    }
    long bf = atol(vf), bt = atol(vt);
    if (bf >= amount) {
      snprintf(vf, sizeof vf, "%ld", bf - amount);
      snprintf(vt, sizeof vt, "%ld", bt + amount);
      tput(t, NULL, kf, vf);
      tput(t, NULL, kt, vt);
    }
    firkin_status s = firkin_txn_commit(t, NULL, NULL);
    firkin_txn_free(t);
    if (s == FIRKIN_OK) return true;
    if (s != FIRKIN_E_CONFLICT) return false;
    if (conflicts != NULL) atomic_fetch_add(conflicts, 1);
  }
}

static void *bank_worker(void *p) {
  bank_arg *a = p;
  uint64_t r = 0x2545f4914f6cdd1dull * (a->thread + 7);
  for (int i = 0; a->transfers == 0 ? !atomic_load(a->stop) : i < a->transfers; i++) {
    if (!transfer(a->db, a->iso, &r, a->conflicts)) {
      atomic_fetch_add(a->errors, 1);
      break;
    }
    atomic_fetch_add(a->commits, 1);
  }
  return NULL;
}

/* Sum of all accounts, in a transaction (txn=true) or a snapshot; -1 on error. */
static long bank_total(firkin_db *db, bool txn) {
  long sum = 0;
  char k[16], v[32];
  if (txn) {
    firkin_txn *t = NULL;
    if (firkin_txn_begin(db, FIRKIN_TXN_SNAPSHOT, &t) != FIRKIN_OK) return -1;
    for (int i = 0; i < kAccounts; i++) {
      acct_key(k, sizeof k, i);
      if (tget(t, NULL, k, v, sizeof v) != FIRKIN_OK) sum = -1000000000L;
      sum += atol(v);
    }
    firkin_txn_free(t);
  } else {
    firkin_snapshot *snap = NULL;
    if (firkin_snapshot_new(db, &snap) != FIRKIN_OK) return -1;
    for (int i = 0; i < kAccounts; i++) {
      acct_key(k, sizeof k, i);
      if (dget(db, snap, NULL, k, v, sizeof v) != FIRKIN_OK) sum = -1000000000L;
      sum += atol(v);
    }
    firkin_snapshot_free(snap);
  }
  return sum;
}

static void bank_setup(firkin_db *db) {
  char k[16], v[32];
  for (int i = 0; i < kAccounts; i++) {
    acct_key(k, sizeof k, i);
    snprintf(v, sizeof v, "%d", kInitial);
    dput(db, NULL, k, v);
  }
}

static void test_bank(void) {
  char path[512];
  dbpath(path, sizeof path, "bank");
  firkin_db *db = open_db(path);
  bank_setup(db);
  const long expect = (long)kAccounts * kInitial;
  for (int iso = 0; iso < 2; iso++) {
    atomic_int stop = 0, errors = 0, commits = 0, conflicts = 0;
    enum { kThreads = 4 };
    pthread_t th[kThreads];
    bank_arg args[kThreads];
    for (int i = 0; i < kThreads; i++) {
      args[i] = (bank_arg){db, (firkin_isolation)iso, i, 3000, &stop, &errors, &commits, &conflicts};
      pthread_create(&th[i], NULL, bank_worker, &args[i]);
    }
    int checks = 0, bad = 0;
    for (;;) {
      int done = atomic_load(&commits) + atomic_load(&errors) * 1000000;
      long t1 = bank_total(db, true), t2 = bank_total(db, false);
      checks++;
      if (t1 != expect || t2 != expect) {
        bad++;
        if (bad < 3) printf("bank: total %ld / %ld, expected %ld\n", t1, t2, expect);
      }
      if (done >= kThreads * 3000) break;
    }
    for (int i = 0; i < kThreads; i++) pthread_join(th[i], NULL);
    printf("bank iso %d: %d transfers, %d conflicts retried, %d total checks\n", iso,
           atomic_load(&commits), atomic_load(&conflicts), checks);
    check(atomic_load(&errors) == 0, "bank iso %d: no errors", iso);
    check(bad == 0 && checks > 0, "bank iso %d: total constant in %d checks", iso, checks);
    check(bank_total(db, true) == expect, "bank iso %d: final total", iso);
  }
  firkin_close(db);
  db = open_db(path);
  check(bank_total(db, false) == expect && bank_total(db, true) == expect,
        "bank: total after reopen");
  firkin_close(db);
}

/* The bank in a child killed with SIGKILL at a random time. */
static void test_crash(void) {
  char path[512];
  dbpath(path, sizeof path, "crash");
  firkin_db *db = open_db(path);
  bank_setup(db);
  firkin_close(db);
  const long expect = (long)kAccounts * kInitial;
  uint64_t r = (uint64_t)time(NULL) | 1;
  for (int round = 0; round < 3; round++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      firkin_db *cdb = open_db(path);
      if (cdb == NULL) _exit(2);
      atomic_int stop = 0, errors = 0, commits = 0, conflicts = 0;
      pthread_t th[4];
      bank_arg args[4];
      for (int i = 0; i < 4; i++) {
        args[i] = (bank_arg){cdb, (firkin_isolation)(i % 2), i + 10 * round, 0, &stop, &errors,
                             &commits, &conflicts};
        pthread_create(&th[i], NULL, bank_worker, &args[i]);
      }
      for (;;) pause();
    }
    usleep((useconds_t)(100000 + rng_next(&r) % 400000));
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "crash round %d: child killed", round);
    db = open_db(path);
    check(db != NULL, "crash round %d: reopen", round);
    if (db == NULL) return;
    uint64_t last = 0;
    firkin_last_seq(db, &last);
    long t = bank_total(db, false);
    check(t == expect, "crash round %d: total %ld after kill -9 (last seq %llu)", round, t,
          (unsigned long long)last);
    firkin_close(db);
  }
}

/* One handle used by two threads at once: every overlapping call gets
 * BUSY and changes nothing; the calls that succeeded all commit. */
static firkin_txn *busy_txn;
static atomic_int busy_stop, busy_seen, busy_other;
static unsigned char busy_ok[20000];
static void *busy_putter(void *arg) {
  (void)arg;
  char k[32];
  /* Until both sides have overlapped many times (at least one pass over
   * the keys), or 20 s: on a loaded machine the threads may take turns. */
  const time_t end = time(NULL) + 20;
  int oks = 0;
  for (long j = 0;
       (oks < 1000 || atomic_load(&busy_seen) < 100) && time(NULL) < end; j++) {
    const int i = (int)(j % (long)sizeof busy_ok);
    snprintf(k, sizeof k, "b%05d", i);
    firkin_status st = firkin_txn_put(busy_txn, NULL, k, strlen(k), "v", 1);
    if (st == FIRKIN_OK) {
      busy_ok[i] = 1; /* applied at commit (a later BUSY changes nothing) */
      oks++;
    } else if (st == FIRKIN_E_BUSY) {
      atomic_fetch_add(&busy_seen, 1);
      sched_yield(); /* let the other thread finish its call */
    }
    else atomic_fetch_add(&busy_other, 1);
  }
  atomic_store(&busy_stop, 1);
  return NULL;
}
static void *busy_getter(void *arg) {
  (void)arg;
  while (!atomic_load(&busy_stop)) {
    bool found;
    firkin_status st = firkin_txn_contains(busy_txn, NULL, "b00000", 6, &found);
    if (st == FIRKIN_E_BUSY) {
      atomic_fetch_add(&busy_seen, 1);
      sched_yield();
    } else if (st != FIRKIN_OK) {
      atomic_fetch_add(&busy_other, 1);
    }
  }
  return NULL;
}
static void test_busy(void) {
  char path[512];
  dbpath(path, sizeof path, "busy");
  firkin_db *db = open_db(path);
  if (db == NULL) return;
  check(firkin_txn_begin(db, FIRKIN_TXN_SERIALIZABLE, &busy_txn) == FIRKIN_OK, "begin");
  pthread_t a, b;
  atomic_store(&busy_stop, 0);
  pthread_create(&b, NULL, busy_getter, NULL);
  pthread_create(&a, NULL, busy_putter, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  check(atomic_load(&busy_seen) > 0, "overlapping calls got BUSY (%d times)",
        atomic_load(&busy_seen));
  check(atomic_load(&busy_other) == 0, "no other error (%d)", atomic_load(&busy_other));
  check(firkin_txn_commit(busy_txn, NULL, NULL) == FIRKIN_OK, "the transaction still commits: %s",
        firkin_last_error());
  firkin_txn_free(busy_txn);
  int wrong = 0, applied = 0;
  char k[32];
  for (int i = 0; i < (int)sizeof busy_ok; i++) {
    snprintf(k, sizeof k, "b%05d", i);
    bool found = false;
    firkin_contains(db, NULL, NULL, k, strlen(k), &found);
    wrong += found != (busy_ok[i] != 0);
    applied += found;
  }
  check(wrong == 0 && applied > 0, "exactly the puts that returned OK were applied (%d wrong, %d)",
        wrong, applied);
  firkin_close(db);
}

int main(int argc, char **argv) {
  snprintf(base_dir, sizeof base_dir, "/tmp/firkin_txn_test.%d", (int)getpid());
  rmrf(base_dir);
  mkdir(base_dir, 0755);
  struct {
    const char *name;
    void (*fn)(void);
  } groups[] = {{"api", test_api},   {"conflict", test_conflict}, {"bad", test_bad},
                {"atomic", test_atomic}, {"elle", test_elle},   {"skew", test_skew},
                {"phantom", test_phantom},
                {"bank", test_bank}, {"crash", test_crash}, {"busy", test_busy}};
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) group_known(groups[g].name);
  const bool bad_args = group_args_unknown(argc, argv) != 0;
  if (bad_args) failed++;
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
    if (bad_args || !group_wanted(argc, argv, groups[g].name)) continue;
    int f0 = failed;
    groups[g].fn();
    printf("%s: %s\n", groups[g].name, failed == f0 ? "ok" : "FAILED");
    fflush(stdout);
  }
  rmrf(base_dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
