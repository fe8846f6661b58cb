/*
 * timetravel_test.c — time travel by clock time and version history through
 * the C API, on a fake clock (firkin_options_set_test_clock).
 *
 *   attime     writes at known times; firkin_snapshot_at_time returns exactly
 *              the state at each boundary (the ms before a write, the ms of
 *              it, between writes, before the first write, after the last),
 *              batches whole, several writes in one ms; the same after a
 *              reopen
 *   monotonic  the clock set back: the next commit still gets a later time,
 *              and older times still give the old state
 *   history    a key's versions newest first: seq, commit time, delete
 *              flag, value, expiry; an absent key; bad input
 *   retention  history_retention_ms: after compaction every time inside the
 *              window reads exactly; older times give SNAPSHOT_TOO_OLD or the
 *              exact value, never a wrong one; stats "oldest_time"; without
 *              retention compaction takes history and reads never go wrong
 *   now        the state at the clock's current millisecond: a put after the
 *              call is in it or has a later time (never both out of it and
 *              at or before the time); a later time is the latest state
 *   idle       with retention, writes paused longer than the window, then
 *              compaction: every time inside the window is the last
 *              write's state (not SNAPSHOT_TOO_OLD), also after one more put
 *   v2         a format-version-2 database written by hand (no commit
 *              times) opens; its writes count as before any time
 *   kill       commit times survive kill -9
 *   twins      two keys whose hashes share the index's sub-table and tag
 *              (found from the database's hash seed): the second key's
 *              first put (an unconditional put encodes before it confirms
 *              the sole entry under the tag is its own) links to no older
 *              version, so a snapshot from before it finds nothing and
 *              its history is its own; the same after a reopen
 *   floors     what compaction dropped (a deleted key's tombstone and its
 *              past; a record updated in place, copied) is never read as
 *              absent or as an older value through an older snapshot: gets,
 *              contains, hash and ordered scans say SNAPSHOT_TOO_OLD; the
 *              history says truncated; a held snapshot of the latest state
 *              keeps its versions beside an older one; with retention,
 *              scans inside the window stay whole; live and after a reopen
 *   inflight   writes in flight (held up between their number and their
 *              commit time) when the state at a time is asked for: in it
 *              exactly when stamped at or before the time, the same state
 *              when asked again; also while the held-up write starts a
 *              new log segment
 *   batch_roll a batch whose clock reads early, overtaken by a later put
 *              before it reserves, starts a new segment: its records carry
 *              no time before that put's, and the state between them holds
 *              neither
 *   moveback   the same batch deleting a key that expired while it waited
 *              is stamped the last millisecond the key was live, earlier
 *              than the put before it: the states between hold neither
 *   moveback_roll  the same starting a new segment: stamped no earlier
 *              than that segment's time floor
 *   moveback_end  a write moved back at the end of a segment and another
 *              deciding early that starts the next: the states between
 *              hold neither, live and after a reopen
 *   cas_roll   a CAS decided while its version was live, whose reservation
 *              waits for a roll past the version's expiry: it fails and
 *              writes nothing (a record that fills its number), the change
 *              feed reads on past it, verify is clean; after a reopen too
 *   retention_moveback  history retention keeps the log segment before one
 *              whose newest commit is not its last record (a write moved
 *              back ends it): the states inside the window stay readable
 *              after compaction
 *   crash_moveback  a crash after a moved-back write ended the log, a
 *              reopen with the clock set back: the database's time
 *              starts at the newest commit in the log, not the last one's
 *   crash_moveback_reader  the same through a read-only open, and a
 *              writer on the copy that reader backed up
 *   tail_clock  after a crash, the first writable open reads the tail for
 *              its newest commit time and records it there (a seal
 *              clock): the opens after it, read-only and writable, read
 *              none of it, and the clock still starts at the newest
 *              commit; a clean reopen with updates in place reads none
 *              of its last segment either
 *   reader_clock  a reader's refresh brings a commit stamped ahead of the
 *              system clock: the reader's time follows it
 *   reader_clock_compacted  the same where the commit comes only as a
 *              compaction output's done marker time
 *   embedded_clock  a reader opened beside a live writer whose newest
 *              segment ends with a put whose value ends with a whole record
 *              stamped ten years ahead: the reader's time is the writer's,
 *              and a key expiring in an hour reads on it
 *   concurrent 4 writers while the clock moves: for every time, the snapshot
 *              at that time is exactly the writes whose (running maximum in
 *              sequence order) commit time is at or before it, as read back
 *              from the keys' histories
 *
 * Usage: timetravel_test [GROUP...]. Ends with "N passed, N failed".
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <pthread.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "firkin.h"
#include "firkin_testing.h"

#include "check_harness.h"
#include "group_args.h"
#include "record_layout.h"

#define T0 1700000000000ull
static uint64_t fake_now = T0;
/* Group "inflight": a thread with delay_me set is held up 50 ms in its next
 * clock read (a writer between taking its number and its commit time),
 * which returns the time read after the wait (1) or before it (2; the
 * database's clock is a high-water mark of readings: the commit time is
 * then still at least every time read meanwhile). */
static __thread int delay_me;
static int in_clock;
/* Groups "batch_roll" to "moveback_end": threads in a role read the clock
 * as the group scripts it (me_clock). */
static __thread int me_role;
static uint64_t me_clock(void);
static uint64_t fake_clock(void *ctx) {
  (void)ctx;
  if (me_role != 0) return me_clock();
  if (delay_me != 0) {
    const int mode = delay_me;
    delay_me = 0;
    const uint64_t before = __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
    __atomic_store_n(&in_clock, 1, __ATOMIC_SEQ_CST);
    usleep(50000);
    if (mode == 2) return before;
  }
  return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}
static void set_clock(uint64_t t) { __atomic_store_n(&fake_now, t, __ATOMIC_SEQ_CST); }

static firkin_db *open_db(const char *path, const char *const *kv) {
  firkin_options *o = NULL;
  firkin_db *db = NULL;
  firkin_options_new(&o);
  firkin_options_set_test_clock(o, fake_clock, NULL);
  firkin_options_set(o, "auto_compact", "false");
  firkin_options_set(o, "compact_rate", "0");
  /* Without history_retention_ms the log keeps old versions only until
   * compaction, and until an in-place update overwrites them (on by
   * default): these groups test the history the log keeps, the group
   * "inplace" what in-place updates leave of it. */
  firkin_options_set(o, "in_place_updates", "false");
  for (; kv != NULL && kv[0] != NULL; kv += 2) firkin_options_set(o, kv[0], kv[1]);
  if (firkin_open(path, o, &db) != FIRKIN_OK) {
    printf("open %s failed: %s\n", path, firkin_last_error());
    db = NULL;
  }
  firkin_options_free(o);
  return db;
}

static firkin_status put_at(firkin_db *db, uint64_t t, const char *k, const char *v) {
  set_clock(t);
  return firkin_put(db, NULL, NULL, k, strlen(k), v, strlen(v));
}

/* The value of k through snap into buf ("" and *st set if none). */
static const char *get(firkin_db *db, const firkin_snapshot *snap, const char *k,
                       firkin_status *st) {
  static char buf[4096];
  void *v = NULL;
  size_t n = 0;
  buf[0] = 0;
  *st = firkin_get(db, snap, NULL, k, strlen(k), &v, &n);
  if (*st != FIRKIN_OK) return buf;
  if (n >= sizeof buf) n = sizeof buf - 1;
  memcpy(buf, v, n);
  buf[n] = 0;
  firkin_free(v);
  return buf;
}

/* At time t, key k reads want (NULL = absent). */
static void expect_at(firkin_db *db, uint64_t t, const char *k, const char *want,
                      const char *what) {
  firkin_snapshot *s = NULL;
  firkin_status st = firkin_snapshot_at_time(db, t, &s);
  if (st != FIRKIN_OK) {
    check(false, "%s: snapshot_at_time(T0+%llu) = %d", what, (unsigned long long)(t - T0), st);
    return;
  }
  const char *v = get(db, s, k, &st);
  if (want == NULL) {
    check(st == FIRKIN_E_NOT_FOUND, "%s: %s absent at T0+%llu (got %d '%s')", what, k,
          (unsigned long long)(t - T0), st, v);
  } else {
    check(st == FIRKIN_OK && strcmp(v, want) == 0, "%s: %s = '%s' at T0+%llu (got %d '%s')",
          what, k, want, (unsigned long long)(t - T0), st, v);
  }
  firkin_snapshot_free(s);
}

static void write_story(firkin_db *db) {
  put_at(db, T0 + 10, "k", "v1");
  put_at(db, T0 + 20, "k", "v2");
  set_clock(T0 + 30);
  firkin_delete(db, NULL, NULL, "k", 1);
  put_at(db, T0 + 40, "k", "v3");
  set_clock(T0 + 50);
  firkin_batch *b = NULL;
  firkin_batch_new(&b);
  firkin_batch_put(b, NULL, "a", 1, "A", 1);
  firkin_batch_put(b, NULL, "b", 1, "B", 1);
  firkin_write(db, NULL, b);
  firkin_batch_free(b);
  put_at(db, T0 + 60, "x", "1");
  put_at(db, T0 + 60, "x", "2");
  put_at(db, T0 + 60, "x", "3");
}

static void check_story(firkin_db *db, const char *what) {
  expect_at(db, T0, "k", NULL, what);
  expect_at(db, T0 + 9, "k", NULL, what);
  expect_at(db, T0 + 10, "k", "v1", what);
  expect_at(db, T0 + 19, "k", "v1", what);
  expect_at(db, T0 + 20, "k", "v2", what);
  expect_at(db, T0 + 29, "k", "v2", what);
  expect_at(db, T0 + 30, "k", NULL, what);
  expect_at(db, T0 + 39, "k", NULL, what);
  expect_at(db, T0 + 40, "k", "v3", what);
  expect_at(db, T0 + 49, "a", NULL, what);
  expect_at(db, T0 + 49, "b", NULL, what);
  expect_at(db, T0 + 50, "a", "A", what);
  expect_at(db, T0 + 50, "b", "B", what);
  expect_at(db, T0 + 59, "x", NULL, what);
  expect_at(db, T0 + 60, "x", "3", what);
  expect_at(db, T0 + 1000000, "k", "v3", what);
  firkin_snapshot *s = NULL;
  check(firkin_snapshot_at_time(db, 0, &s) == FIRKIN_OK && firkin_snapshot_seq(s) == 0,
        "%s: time 0 is the empty state (seq 0)", what);
  firkin_snapshot_free(s);
  uint64_t last = 0;
  firkin_last_seq(db, &last);
  check(firkin_snapshot_at_time(db, T0 + 60, &s) == FIRKIN_OK && firkin_snapshot_seq(s) == last,
        "%s: the last write's time is the latest state", what);
  firkin_snapshot_free(s);
}

static void test_attime(void) {
  char path[300];
  dbpath(path, sizeof path, "attime");
  firkin_db *db = open_db(path, NULL);
  if (db == NULL) return;
  write_story(db);
  check_story(db, "live");
  firkin_close(db);
  set_clock(T0 + 5000);
  db = open_db(path, NULL);
  if (db == NULL) return;
  check_story(db, "after reopen");
  firkin_close(db);
}

static void test_monotonic(void) {
  char path[300];
  dbpath(path, sizeof path, "monotonic");
  firkin_db *db = open_db(path, NULL);
  if (db == NULL) return;
  put_at(db, T0 + 100, "k", "late");
  put_at(db, T0 + 50, "k", "clock back"); /* the clock went back 50 ms */
  firkin_history *h = NULL;
  check(firkin_history_new(db, NULL, "k", 1, &h) == FIRKIN_OK, "history");
  uint64_t t1 = firkin_history_time(h);
  firkin_history_next(h);
  uint64_t t0 = firkin_history_time(h);
  check(t1 == T0 + 100 && t0 == T0 + 100,
        "a commit after the clock went back gets the newest time, not an older one "
        "(%llu, %llu)",
        (unsigned long long)(t1 - T0), (unsigned long long)(t0 - T0));
  firkin_history_free(h);
  expect_at(db, T0 + 99, "k", NULL, "monotonic");
  expect_at(db, T0 + 100, "k", "clock back", "monotonic");
  firkin_close(db);
  /* after a restart with the clock still behind */
  set_clock(T0 + 10);
  db = open_db(path, NULL);
  if (db == NULL) return;
  put_at(db, T0 + 10, "k", "after restart");
  check(firkin_history_new(db, NULL, "k", 1, &h) == FIRKIN_OK &&
            firkin_history_time(h) >= T0 + 100,
        "commit times do not go back across a restart");
  firkin_history_free(h);
  firkin_close(db);
}

static void test_history(void) {
  char path[300];
  dbpath(path, sizeof path, "history");
  firkin_db *db = open_db(path, NULL);
  if (db == NULL) return;
  write_story(db);
  set_clock(T0 + 70);
  firkin_put_ttl(db, NULL, NULL, "k", 1, "v4", 2, 500);
  struct {
    uint64_t t;
    bool del;
    const char *v;
    uint64_t exp;
  } want[] = {{T0 + 70, false, "v4", T0 + 570},
              {T0 + 40, false, "v3", 0},
              {T0 + 30, true, "", 0},
              {T0 + 20, false, "v2", 0},
              {T0 + 10, false, "v1", 0}};
  firkin_history *h = NULL;
  check(firkin_history_new(db, NULL, "k", 1, &h) == FIRKIN_OK, "history_new");
  size_t n = 0;
  uint64_t prev_seq = UINT64_MAX;
  bool ok = true;
  for (; firkin_history_valid(h); firkin_history_next(h), n++) {
    if (n >= 5) {
      ok = false;
      break;
    }
    const void *v = NULL;
    size_t vl = 0;
    firkin_status st = firkin_history_value(h, &v, &vl);
    uint64_t seq = firkin_history_seq(h);
    bool good = st == FIRKIN_OK && seq < prev_seq && seq > 0 &&
                firkin_history_time(h) == want[n].t &&
                firkin_history_is_delete(h) == want[n].del && vl == strlen(want[n].v) &&
                memcmp(v, want[n].v, vl) == 0 && firkin_history_expiry(h) == want[n].exp;
    check(good, "history entry %zu: seq %llu time T0+%llu del %d exp %llu", n,
          (unsigned long long)seq, (unsigned long long)(firkin_history_time(h) - T0),
          (int)firkin_history_is_delete(h), (unsigned long long)firkin_history_expiry(h));
    prev_seq = seq;
  }
  check(ok && n == 5, "history has 5 versions newest first (%zu)", n);
  check(!firkin_history_truncated(h), "nothing truncated");
  check(firkin_history_seq(h) == 0 && !firkin_history_is_delete(h),
        "accessors at the end give 0");
  firkin_history_free(h);
  /* version numbers agree with firkin_get_version */
  uint64_t ver = 0;
  firkin_get_version(db, NULL, NULL, "k", 1, &ver);
  firkin_history_new(db, NULL, "k", 1, &h);
  check(firkin_history_seq(h) == ver, "newest history seq = get_version");
  firkin_history_free(h);
  check(firkin_history_new(db, NULL, "nope", 4, &h) == FIRKIN_OK && !firkin_history_valid(h),
        "an absent key has an empty history");
  {
    /* firkin.h (2026-11-30): the value of an iterator at its end is
     * INVALID_ARGUMENT, with *val NULL and *val_len 0 */
    const void *ev = "x";
    size_t evl = 7;
    check(firkin_history_value(h, &ev, &evl) == FIRKIN_E_INVALID_ARGUMENT && ev == NULL &&
              evl == 0 && firkin_last_error()[0] != 0,
          "history_value at the end");
  }
  firkin_history_free(h);
  /* bad input */
  check(firkin_history_new(NULL, NULL, "k", 1, &h) == FIRKIN_E_INVALID_ARGUMENT && h == NULL,
        "history_new NULL db");
  check(firkin_history_new(db, NULL, "k", 1, NULL) == FIRKIN_E_INVALID_ARGUMENT,
        "history_new NULL out");
  check(firkin_history_new(db, NULL, NULL, 1, &h) == FIRKIN_E_INVALID_ARGUMENT,
        "history_new NULL key");
  const void *v;
  size_t vl;
  check(firkin_history_value(NULL, &v, &vl) == FIRKIN_E_INVALID_ARGUMENT,
        "history_value NULL handle");
  check(!firkin_history_valid(NULL) && firkin_history_seq(NULL) == 0, "NULL accessors");
  firkin_history_next(NULL);
  firkin_history_free(NULL);
  firkin_snapshot *s = NULL;
  check(firkin_snapshot_at_time(NULL, T0, &s) == FIRKIN_E_INVALID_ARGUMENT,
        "snapshot_at_time NULL db");
  check(firkin_snapshot_at_time(db, T0, NULL) == FIRKIN_E_INVALID_ARGUMENT,
        "snapshot_at_time NULL out");
  char path2[300];
  dbpath(path2, sizeof path2, "history2");
  firkin_db *db2 = open_db(path2, NULL);
  firkin_ns *ns2 = NULL;
  if (db2 != NULL) {
    firkin_ns_open(db2, "other", true, &ns2);
    check(firkin_history_new(db, ns2, "k", 1, &h) == FIRKIN_E_INVALID_ARGUMENT,
          "history_new with another database's namespace");
    firkin_ns_close(ns2);
    firkin_close(db2);
  }
  firkin_close(db);
}

/* Writes versions of "h" every 100 ms from T0 + 100 to T0 + 100 * n, with
 * filler so that segments (64 KiB) roll. */
static void write_versions(firkin_db *db, int n) {
  char v[32], k[32], pad[300];
  memset(pad, 'p', sizeof pad - 1);
  pad[sizeof pad - 1] = 0;
  for (int i = 1; i <= n; i++) {
    snprintf(v, sizeof v, "h%d", i);
    put_at(db, T0 + 100 * (uint64_t)i, "h", v);
    for (int j = 0; j < 20; j++) {
      snprintf(k, sizeof k, "f%d", j);
      firkin_put(db, NULL, NULL, k, strlen(k), pad, strlen(pad));
    }
  }
}

/* Probes every 50 ms: each read is SNAPSHOT_TOO_OLD or exact. Returns how
 * many probes at or after `must_from` were not exact. */
static int probe(firkin_db *db, int n, uint64_t must_from, int *wrong, int *too_old) {
  int missing = 0;
  for (uint64_t t = T0; t <= T0 + 100 * (uint64_t)n + 50; t += 50) {
    char want[32];
    const uint64_t i = (t - T0) / 100;
    if (i == 0) strcpy(want, "");
    else snprintf(want, sizeof want, "h%llu", (unsigned long long)i);
    firkin_snapshot *s = NULL;
    firkin_status st = firkin_snapshot_at_time(db, t, &s);
    bool exact = false;
    if (st == FIRKIN_OK) {
      const char *v = get(db, s, "h", &st);
      if (st == FIRKIN_OK) exact = strcmp(v, want) == 0;
      else if (st == FIRKIN_E_NOT_FOUND) exact = want[0] == 0;
      if (st != FIRKIN_E_SNAPSHOT_TOO_OLD && !exact) (*wrong)++;
      firkin_snapshot_free(s);
    } else if (st != FIRKIN_E_SNAPSHOT_TOO_OLD) {
      (*wrong)++;
    }
    if (st == FIRKIN_E_SNAPSHOT_TOO_OLD) (*too_old)++;
    if (t >= must_from && !exact) missing++;
  }
  return missing;
}

static void test_now(void) {
  char path[300];
  dbpath(path, sizeof path, "now");
  firkin_db *db = open_db(path, NULL);
  if (db == NULL) return;
  int bad = 0;
  for (int i = 0; i < 20; i++) {
    const uint64_t t = T0 + 1000 + (uint64_t)i * 10;
    check(put_at(db, t, "k", "before") == FIRKIN_OK, "put");
    uint64_t now = 0;
    firkin_now_ms(db, &now);
    firkin_snapshot *s = NULL;
    check(firkin_snapshot_at_time(db, now, &s) == FIRKIN_OK, "snapshot_at_time(now)");
    /* the clock has not moved: a put now, in "the same" millisecond */
    check(firkin_put(db, NULL, NULL, "k", 1, "after", 5) == FIRKIN_OK, "put");
    uint64_t seq = 0;
    firkin_last_seq(db, &seq);
    firkin_history *h = NULL;
    check(firkin_history_new(db, NULL, "k", 1, &h) == FIRKIN_OK, "history");
    const uint64_t put_time = firkin_history_time(h);
    firkin_history_free(h);
    if (put_time <= now && firkin_snapshot_seq(s) < seq) {
      bad++;
      printf("  the state at %llu (sequence %llu) lacks the put at %llu (sequence %llu)\n",
             (unsigned long long)now, (unsigned long long)firkin_snapshot_seq(s),
             (unsigned long long)put_time, (unsigned long long)seq);
    }
    firkin_snapshot_free(s);
    /* a time not yet come: the latest state as of the call */
    check(firkin_snapshot_at_time(db, now + 60000, &s) == FIRKIN_OK &&
              firkin_snapshot_seq(s) == seq,
          "a later time: the latest state");
    firkin_snapshot_free(s);
  }
  check(bad == 0, "%d of 20 snapshots at the current millisecond lacked a later put of it", bad);
  firkin_close(db);
}

struct delayed_put {
  firkin_db *db;
  const char *key;
  int mode;
  firkin_status st;
};

static void *delayed_put(void *p) {
  struct delayed_put *d = p;
  delay_me = d->mode;
  d->st = firkin_put(d->db, NULL, NULL, d->key, strlen(d->key), "v", 1);
  return NULL;
}

/* Starts a put of key held up in its clock read (mode as fake_clock's),
 * and returns once it is there. */
static void start_delayed(pthread_t *t, struct delayed_put *d, firkin_db *db, const char *key,
                          int mode) {
  *d = (struct delayed_put){db, key, mode, FIRKIN_OK};
  __atomic_store_n(&in_clock, 0, __ATOMIC_SEQ_CST);
  pthread_create(t, NULL, delayed_put, d);
  while (!__atomic_load_n(&in_clock, __ATOMIC_SEQ_CST)) usleep(100);
}

/* Writes in flight when firkin_snapshot_at_time is called (each writer
 * held up between taking its number and reading the clock; found by the
 * review after the fifth):
 *   1. the time is now: the write is in the state exactly when its time
 *      is at or before it (the clock moved past the time, then the writes
 *      in flight were waited for and all taken: the held-up one read the
 *      moved clock, and a write stamped after the time was in the state);
 *   2. a past time while the writer held up starts a new log segment: the
 *      state at the time (it was the latest state, whatever the time: the
 *      new segment, with no record published yet, read as holding a commit
 *      before every time). */
static void test_inflight(void) {
  char path[300];
  dbpath(path, sizeof path, "inflight");
  const char *kv[] = {"history_retention_ms", "100000000", NULL};
  firkin_db *db = open_db(path, kv);
  if (db == NULL) return;
  pthread_t t;
  struct delayed_put d;
  firkin_snapshot *s = NULL;
  firkin_status st;

  check(put_at(db, T0 + 100, "first", "1") == FIRKIN_OK, "put first");
  start_delayed(&t, &d, db, "late", 1);
  uint64_t now = 0;
  firkin_now_ms(db, &now);
  check(now == T0 + 100 && firkin_snapshot_at_time(db, now, &s) == FIRKIN_OK,
        "inflight 1: snapshot_at_time(now)");
  pthread_join(t, NULL);
  check(d.st == FIRKIN_OK, "inflight 1: the held-up put");
  firkin_history *h = NULL;
  check(firkin_history_new(db, NULL, "late", 4, &h) == FIRKIN_OK && firkin_history_valid(h),
        "inflight 1: history");
  const uint64_t late_time = h != NULL ? firkin_history_time(h) : 0;
  firkin_history_free(h);
  get(db, s, "late", &st);
  check((st == FIRKIN_OK) == (late_time <= now),
        "inflight 1: the held-up write is in the state exactly when stamped at or before the "
        "time (stamped T0+%llu, get %d)",
        (unsigned long long)(late_time - T0), st);
  check(strcmp(get(db, s, "first", &st), "1") == 0, "inflight 1: the write before is");
  firkin_snapshot_free(s);

  check(put_at(db, T0 + 300, "k1", "old") == FIRKIN_OK, "put k1");
  set_clock(T0 + 400);
  check(firkin_delete(db, NULL, NULL, "k1", 2) == FIRKIN_OK, "delete k1");
  check(put_at(db, T0 + 400, "k2", "x") == FIRKIN_OK, "put k2");
  /* The active segment holds dead bytes: compaction seals it, and the next
   * write starts a new one. */
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  set_clock(T0 + 500);
  start_delayed(&t, &d, db, "roller", 2);
  check(firkin_snapshot_at_time(db, T0 + 350, &s) == FIRKIN_OK, "inflight 2: snapshot_at_time");
  pthread_join(t, NULL);
  check(d.st == FIRKIN_OK, "inflight 2: the held-up put");
  const char *v = get(db, s, "k1", &st);
  check(st == FIRKIN_OK && strcmp(v, "old") == 0,
        "inflight 2: the state at the time: k1 = old (got %d '%s', sequence %llu)", st, v,
        (unsigned long long)firkin_snapshot_seq(s));
  get(db, s, "k2", &st);
  check(st == FIRKIN_E_NOT_FOUND, "inflight 2: k2, written later, is not in it (%d)", st);
  firkin_snapshot_free(s);
  firkin_close(db);
}

static void test_idle(void) {
  char path[300];
  dbpath(path, sizeof path, "idle");
  const char *opts[] = {"segment_size", "64K", "history_retention_ms", "10000", NULL};
  firkin_db *db = open_db(path, opts);
  if (db == NULL) return;
  char k[16], v[100];
  memset(v, 'x', sizeof v - 1);
  v[sizeof v - 1] = 0;
  for (int i = 0; i < 2000; i++) {
    snprintf(k, sizeof k, "k%02d", i % 50);
    check(put_at(db, T0 + (uint64_t)i / 100, k, v) == FIRKIN_OK, "put");
  }
  uint64_t last = 0;
  firkin_last_seq(db, &last);
  set_clock(T0 + 60000);  /* a minute later, nothing written meanwhile */
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  check(stat_u64(db, "segments_retired") > 0, "compaction retired segments");
  int refused = 0, wrong = 0;
  for (uint64_t back = 1; back < 10000; back *= 3) {
    firkin_snapshot *s = NULL;
    const firkin_status st = firkin_snapshot_at_time(db, T0 + 60000 - back, &s);
    refused += st != FIRKIN_OK;
    wrong += st == FIRKIN_OK && firkin_snapshot_seq(s) != last;
    firkin_snapshot_free(s);
  }
  check(refused == 0 && wrong == 0,
        "times inside the window after an idle minute: %d refused, %d not the last write's "
        "state",
        refused, wrong);
  /* one more write: the times before it stay readable */
  check(put_at(db, T0 + 63000, "new", "v") == FIRKIN_OK, "put");
  set_clock(T0 + 63100);
  firkin_snapshot *s = NULL;
  const firkin_status st = firkin_snapshot_at_time(db, T0 + 58000, &s);
  check(st == FIRKIN_OK && firkin_snapshot_seq(s) == last,
        "a time in the window before the new put: %s, sequence %llu (want %llu)",
        firkin_strerror(st), (unsigned long long)firkin_snapshot_seq(s),
        (unsigned long long)last);
  firkin_snapshot_free(s);
  firkin_close(db);
}

static void test_retention(void) {
  const int n = 40; /* versions at T0+100 .. T0+4000 */
  char path[300];
  /* with retention: the last 1000 ms stay readable through compaction */
  dbpath(path, sizeof path, "retention");
  const char *opts[] = {"segment_size", "64K", "history_retention_ms", "1000", NULL};
  firkin_db *db = open_db(path, opts);
  if (db == NULL) return;
  write_versions(db, n);
  set_clock(T0 + 100 * n + 10);
  check(firkin_compact(db) == FIRKIN_OK, "compact with retention");
  check(stat_u64(db, "segments_retired") > 0, "compaction retired segments");
  int wrong = 0, too_old = 0;
  int missing = probe(db, n, T0 + 100 * n + 10 - 1000, &wrong, &too_old);
  check(wrong == 0, "with retention: no wrong value (%d)", wrong);
  check(missing == 0, "with retention: every time in the window reads exactly (%d missing)",
        missing);
  check(too_old > 0, "with retention: older times are refused (%d)", too_old);
  const uint64_t oldest = stat_u64(db, "oldest_time");
  check(oldest > T0 && oldest <= T0 + 100 * n + 10 - 1000,
        "stats history.oldest_time inside the kept range (T0+%lld)",
        (long long)(oldest - T0));
  firkin_snapshot *s = NULL;
  check(firkin_snapshot_at_time(db, oldest - 1, &s) == FIRKIN_E_SNAPSHOT_TOO_OLD && s == NULL,
        "a time before oldest_time gives SNAPSHOT_TOO_OLD");
  check(firkin_snapshot_at_time(db, oldest, &s) == FIRKIN_OK, "oldest_time itself is readable");
  firkin_snapshot_free(s);
  firkin_close(db);
  db = open_db(path, opts);
  if (db == NULL) return;
  wrong = too_old = 0;
  missing = probe(db, n, T0 + 100 * n + 10 - 1000, &wrong, &too_old);
  check(wrong == 0 && missing == 0, "with retention after reopen: %d wrong, %d missing", wrong,
        missing);
  firkin_close(db);

  /* without retention: compaction takes history; reads are never wrong */
  dbpath(path, sizeof path, "noretention");
  const char *opts0[] = {"segment_size", "64K", NULL};
  db = open_db(path, opts0);
  if (db == NULL) return;
  write_versions(db, n);
  check(firkin_compact(db) == FIRKIN_OK, "compact without retention");
  wrong = too_old = 0;
  probe(db, n, UINT64_MAX, &wrong, &too_old);
  check(wrong == 0, "without retention: no wrong value (%d)", wrong);
  check(too_old > 0, "without retention: old times are gone (%d too old)", too_old);
  firkin_close(db);
}

/* ---- a format-version-2 database, written by hand (docs/format.md) ---- */

static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* A version-2 record (no optional fields) at p; returns its size. */
static size_t v2_record(unsigned char *p, uint64_t seq, uint64_t prev, uint8_t type,
                        const char *k, const char *v) {
  const size_t kl = strlen(k), vl = strlen(v);
  const size_t size = (40 + kl + vl + 7) & ~(size_t)7;
  memset(p, 0, size);
  put64(p + 8, seq);
  put64(p + 16, prev);
  put32(p + 24, 0);
  put32(p + 28, (uint32_t)vl);
  p[32] = (unsigned char)kl;
  p[33] = 0;
  p[34] = type;
  p[35] = 0;
  memcpy(p + 40, k, kl);
  memcpy(p + 40 + kl, v, vl);
  put64(p, (uint64_t)XXH3_64bits(p + 8, 32 + kl + vl));
  return size;
}

static bool write_v2_db(const char *path) {
  /* The library makes the identity (db id, seed); then the directory is
   * turned into a version-2 database with one hand-written segment. */
  firkin_db *db = open_db(path, NULL);
  if (db == NULL) return false;
  firkin_close(db);
  char f[600];
  unsigned char id[48];
  snprintf(f, sizeof f, "%s/FIRKIN", path);
  FILE *fp = fopen(f, "r+b");
  if (fp == NULL || fread(id, 1, 48, fp) != 48) return false;
  put32(id + 8, 2);
  put64(id + 40, (uint64_t)XXH3_64bits(id, 40));
  rewind(fp);
  fwrite(id, 1, 48, fp);
  fclose(fp);
  const uint64_t db_id = get64(id + 16);
  DIR *d = opendir(path);
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    if (strstr(e->d_name, ".seg") != NULL || strcmp(e->d_name, "CHECKPOINT") == 0) {
      snprintf(f, sizeof f, "%s/%s", path, e->d_name);
      unlink(f);
    }
  }
  if (d) closedir(d);
  static unsigned char seg[8192 + 4096];
  memset(seg, 0, sizeof seg);
  memcpy(seg, "FIRKSEG1", 8);
  put32(seg + 8, 2);
  put32(seg + 12, 0);
  put64(seg + 16, 1);
  put64(seg + 24, db_id);
  put64(seg + 32, 0);
  put64(seg + 40, (uint64_t)XXH3_64bits(seg, 40));
  size_t off = 8192;
  const uint64_t first = off;
  off += v2_record(seg + off, 1, 0, 1, "old", "v2-value");
  off += v2_record(seg + off, 2, (1ull << 32) | first, 1, "old", "v2-newer");
  const uint64_t third = off;
  off += v2_record(seg + off, 3, 0, 1, "gone", "x");
  off += v2_record(seg + off, 4, (1ull << 32) | third, 2, "gone", "");
  snprintf(f, sizeof f, "%s/%016llx.seg", path, 1ull);
  int fd = open(f, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) return false;
  bool ok = write(fd, seg, off) == (ssize_t)off;
  close(fd);
  return ok;
}

static void test_v2(void) {
  char path[300];
  dbpath(path, sizeof path, "v2");
  set_clock(T0);
  check(write_v2_db(path), "write a version-2 database by hand");
  set_clock(T0 + 1000);
  firkin_db *db = open_db(path, NULL);
  check(db != NULL, "a version-2 database opens");
  if (db == NULL) return;
  firkin_status st;
  const char *v = get(db, NULL, "old", &st);
  check(st == FIRKIN_OK && strcmp(v, "v2-newer") == 0, "its newest value reads (%d '%s')", st,
        v);
  get(db, NULL, "gone", &st);
  check(st == FIRKIN_E_NOT_FOUND, "its delete holds");
  firkin_history *h = NULL;
  check(firkin_history_new(db, NULL, "old", 3, &h) == FIRKIN_OK && firkin_history_valid(h) &&
            firkin_history_time(h) == 0,
        "a version-2 record has commit time 0 (unknown)");
  firkin_history_next(h);
  check(firkin_history_valid(h) && firkin_history_seq(h) == 1, "its chain is followed");
  firkin_history_free(h);
  put_at(db, T0 + 2000, "old", "v3-value");
  expect_at(db, T0 + 1, "old", "v2-newer", "v2 writes count as before any time");
  expect_at(db, T0 + 1999, "old", "v2-newer", "v2");
  expect_at(db, T0 + 2000, "old", "v3-value", "v2");
  firkin_close(db);
  db = open_db(path, NULL);
  check(db != NULL, "reopens after a version-3 write");
  if (db == NULL) return;
  expect_at(db, T0 + 1999, "old", "v2-newer", "v2 after reopen");
  expect_at(db, T0 + 2000, "old", "v3-value", "v2 after reopen");
  firkin_close(db);
}

static void test_kill(void) {
  char path[300];
  dbpath(path, sizeof path, "kill");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    firkin_options *o = NULL;
    firkin_db *db = NULL;
    firkin_options_new(&o);
    firkin_options_set_test_clock(o, fake_clock, NULL);
    firkin_options_set(o, "sync_mode", "none");
    firkin_options_set(o, "in_place_updates", "false"); /* (see open_db) */
    if (firkin_open(path, o, &db) != FIRKIN_OK) _exit(3);
    write_story(db);
    kill(getpid(), SIGKILL);
    _exit(5);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed by SIGKILL");
  set_clock(T0 + 5000);
  firkin_db *db = open_db(path, NULL);
  if (db == NULL) return;
  check_story(db, "after kill -9");
  firkin_close(db);
}

#define CW_THREADS 4
#define CW_WRITES 1500
static firkin_db *cw_db;
static int cw_done;
static void *cw_writer(void *arg) {
  const int t = (int)(intptr_t)arg;
  char k[32];
  for (int i = 0; i < CW_WRITES; i++) {
    snprintf(k, sizeof k, "w%d-%d", t, i % 50);
    firkin_put(cw_db, NULL, NULL, k, strlen(k), "v", 1);
  }
  __atomic_add_fetch(&cw_done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}
static void *cw_ticker(void *arg) {
  (void)arg;
  while (__atomic_load_n(&cw_done, __ATOMIC_SEQ_CST) < CW_THREADS) {
    __atomic_add_fetch(&fake_now, 1, __ATOMIC_SEQ_CST);
    usleep(50);
  }
  return NULL;
}
static int cmp_u64(const void *a, const void *b) {
  const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void test_concurrent(void) {
  char path[300];
  dbpath(path, sizeof path, "concurrent");
  set_clock(T0);
  cw_db = open_db(path, NULL);
  if (cw_db == NULL) return;
  cw_done = 0;
  pthread_t th[CW_THREADS], tick;
  pthread_create(&tick, NULL, cw_ticker, NULL);
  for (int t = 0; t < CW_THREADS; t++) pthread_create(&th[t], NULL, cw_writer, (void *)(intptr_t)t);
  for (int t = 0; t < CW_THREADS; t++) pthread_join(th[t], NULL);
  pthread_join(tick, NULL);
  /* (seq << 20 | time - T0) of every write, from the histories */
  const size_t total = (size_t)CW_THREADS * CW_WRITES;
  uint64_t *st = calloc(total, sizeof *st);
  size_t n = 0;
  char k[32];
  for (int t = 0; t < CW_THREADS; t++) {
    for (int i = 0; i < 50; i++) {
      snprintf(k, sizeof k, "w%d-%d", t, i);
      firkin_history *h = NULL;
      firkin_history_new(cw_db, NULL, k, strlen(k), &h);
      for (; firkin_history_valid(h) && n < total; firkin_history_next(h)) {
        st[n++] = firkin_history_seq(h) << 24 | (firkin_history_time(h) - T0);
      }
      firkin_history_free(h);
    }
  }
  check(n == total, "every write is in a history (%zu of %zu)", n, total);
  qsort(st, n, sizeof *st, cmp_u64);
  /* running maximum of times in sequence order */
  uint64_t mx = 0, inversions = 0;
  uint64_t *run = calloc(n, sizeof *run);
  for (size_t i = 0; i < n; i++) {
    const uint64_t t = st[i] & 0xffffff;
    if (t < mx) inversions++;
    mx = t > mx ? t : mx;
    run[i] = mx;
  }
  check((st[n - 1] >> 24) == n, "sequence numbers are dense 1..%zu", n);
  int bad = 0;
  for (uint64_t t = 0; t <= mx + 1 && bad < 5; t++) {
    /* expected: the last seq whose running maximum is <= t */
    uint64_t want = 0;
    for (size_t i = 0; i < n && run[i] <= t; i++) want = st[i] >> 24;
    firkin_snapshot *s = NULL;
    if (firkin_snapshot_at_time(cw_db, T0 + t, &s) != FIRKIN_OK ||
        firkin_snapshot_seq(s) != want) {
      bad++;
      check(false, "snapshot_at_time(T0+%llu) = %llu, want %llu",
            (unsigned long long)t, (unsigned long long)firkin_snapshot_seq(s),
            (unsigned long long)want);
    }
    firkin_snapshot_free(s);
  }
  check(bad == 0, "snapshot_at_time agrees with the histories at %llu times (%llu inversions "
        "between writes in flight together)", (unsigned long long)mx + 2,
        (unsigned long long)inversions);
  free(run);
  free(st);
  firkin_close(cw_db);
}

/* The hash of (namespace 0, key) as the index computes it (docs/format.md:
 * XXH3-64 of the key seeded with the database's hash seed mixed with the
 * namespace id); the index's sub-table and tag are its top 10 + 20 bits. */
static uint64_t index_hash(uint64_t seed, const char *k, size_t kl) {
  return XXH3_64bits_withSeed(k, kl, seed ^ 0x9E3779B97F4A7C15ull);
}

typedef struct {
  uint32_t top; /* the top 30 bits of the hash */
  uint32_t i;
} twin_probe;
static int twin_cmp(const void *a, const void *b) {
  const twin_probe *x = a, *y = b;
  return x->top != y->top ? (x->top < y->top ? -1 : 1) : (x->i < y->i ? -1 : x->i > y->i);
}

static void expect_get(firkin_db *db, const firkin_snapshot *snap, const char *k,
                       const char *want, const char *what) {
  void *v = NULL;
  size_t vl = 0;
  firkin_status st = firkin_get(db, snap, NULL, k, strlen(k), &v, &vl);
  if (want == NULL) {
    check(st == FIRKIN_E_NOT_FOUND, "%s: %s absent (status %d, %zu bytes)", what, k, st, vl);
  } else {
    check(st == FIRKIN_OK && vl == strlen(want) && memcmp(v, want, vl) == 0,
          "%s: %s = %s (status %d)", what, k, want, st);
  }
  firkin_free(v);
}

static size_t history_len(firkin_db *db, const char *k) {
  firkin_history *h = NULL;
  size_t n = 0;
  if (firkin_history_new(db, NULL, k, strlen(k), &h) != FIRKIN_OK) return 999;
  for (; firkin_history_valid(h); firkin_history_next(h)) n++;
  firkin_history_free(h);
  return n;
}

static void test_twins(void) {
  char path[300], idp[400];
  dbpath(path, sizeof path, "twins");
  firkin_db *db = open_db(path, NULL);
  if (db == NULL) return;
  /* the hash seed from the identity file (offset 24) */
  unsigned char ident[48];
  snprintf(idp, sizeof idp, "%s/FIRKIN", path);
  FILE *f = fopen(idp, "rb");
  size_t got = f ? fread(ident, 1, sizeof ident, f) : 0;
  if (f) fclose(f);
  check(got == sizeof ident, "twins: read the identity file");
  uint64_t seed = 0;
  for (int b = 7; b >= 0; b--) seed = seed << 8 | ident[24 + b];
  /* Birthday search: 2^30 buckets, 200,000 keys give about 18 pairs. */
  enum { N = 200000 };
  twin_probe *pr = malloc(N * sizeof *pr);
  char ka[32] = "", kb[32] = "";
  for (uint32_t i = 0; i < N; i++) {
    char k[64] = {0};
    int kl = snprintf(k, sizeof k, "twin-%u", i);
    pr[i].top = (uint32_t)(index_hash(seed, k, (size_t)kl) >> 34);
    pr[i].i = i;
  }
  qsort(pr, N, sizeof *pr, twin_cmp);
  for (uint32_t i = 1; i < N && ka[0] == 0; i++) {
    if (pr[i].top == pr[i - 1].top) {
      snprintf(ka, sizeof ka, "twin-%u", pr[i - 1].i);
      snprintf(kb, sizeof kb, "twin-%u", pr[i].i);
    }
  }
  free(pr);
  check(ka[0] != 0, "twins: two keys with one sub-table and tag");
  if (ka[0] == 0) {
    firkin_close(db);
    return;
  }
  check(firkin_put(db, NULL, NULL, ka, strlen(ka), "a1", 2) == FIRKIN_OK, "twins: put a");
  firkin_snapshot *before = NULL;
  check(firkin_snapshot_new(db, &before) == FIRKIN_OK, "twins: snapshot");
  /* b's first put: the only entry under its tag is a's record */
  check(firkin_put(db, NULL, NULL, kb, strlen(kb), "b1", 2) == FIRKIN_OK, "twins: put b");
  for (int round = 0; round < 2; round++) {
    const char *what = round == 0 ? "twins" : "twins after reopen";
    expect_get(db, NULL, ka, "a1", what);
    expect_get(db, NULL, kb, "b1", what);
    if (before != NULL) {
      expect_get(db, before, kb, NULL, what);  /* b did not exist then */
      expect_get(db, before, ka, "a1", what);
    }
    check(history_len(db, kb) == 1, "%s: %s has one version, not %zu", what, kb,
          history_len(db, kb));
    check(history_len(db, ka) == 1, "%s: %s has one version", what, ka);
    if (round == 0) {
      firkin_snapshot_free(before);
      before = NULL;
      firkin_close(db);
      db = open_db(path, NULL);
      if (db == NULL) return;
    }
  }
  /* both entries under the tag now: a put takes the general path */
  check(firkin_put(db, NULL, NULL, kb, strlen(kb), "b2", 2) == FIRKIN_OK, "twins: put b again");
  expect_get(db, NULL, kb, "b2", "twins, second put");
  expect_get(db, NULL, ka, "a1", "twins, second put");
  check(history_len(db, kb) == 2, "twins: %s has two versions", kb);
  firkin_close(db);
}

/* In-place updates on (the default): a key updated in place keeps only its
 * newest version of those it had in the unsynced tail. Time travel and the
 * history then never give a wrong value: a time before the overwrite reads
 * SNAPSHOT_TOO_OLD for that key (or its state then, where that is still in
 * the log), the history ends at the overwritten record and says so
 * (truncated), and a key that was not overwritten reads exactly. */
static firkin_status scan(firkin_db *db, const firkin_snapshot *snap, const firkin_ns *ns,
                          bool ordered, const char *want, const char *val, bool *seen);

static void test_inplace(void) {
  char path[300];
  dbpath(path, sizeof path, "inplace");
  const char *kv[] = {"in_place_updates", "true", "sync_mode", "none", NULL};
  firkin_db *db = open_db(path, kv);
  if (db == NULL) return;
  /* k: v1 at T0+10, v2 at T0+20, v3 at T0+30 (same length: in place);
   * c: written once at T0+15, never overwritten; z first, at T0+1 (the
   * first record of a log segment is never updated in place). */
  set_clock(T0 + 1);
  check(firkin_put(db, NULL, NULL, "z", 1, "z0", 2) == FIRKIN_OK, "put z z0");
  set_clock(T0 + 10);
  check(firkin_put(db, NULL, NULL, "k", 1, "v1", 2) == FIRKIN_OK, "put k v1");
  set_clock(T0 + 15);
  check(firkin_put(db, NULL, NULL, "c", 1, "c1", 2) == FIRKIN_OK, "put c c1");
  set_clock(T0 + 20);
  check(firkin_put(db, NULL, NULL, "k", 1, "v2", 2) == FIRKIN_OK, "put k v2");
  set_clock(T0 + 30);
  check(firkin_put(db, NULL, NULL, "k", 1, "v3", 2) == FIRKIN_OK, "put k v3");
  set_clock(T0 + 40);
  check(stat_u64(db, "in_place_updates") == 2, "two puts went in place (%llu)",
        (unsigned long long)stat_u64(db, "in_place_updates"));
  for (int round = 0; round < 2; round++) {
    const char *when = round == 0 ? "live" : "after reopen";
    /* the history: the newest version only, marked truncated */
    firkin_history *h = NULL;
    check(firkin_history_new(db, NULL, "k", 1, &h) == FIRKIN_OK, "%s: history_new", when);
    size_t n = 0;
    bool newest_ok = false;
    for (; h != NULL && firkin_history_valid(h); firkin_history_next(h), n++) {
      const void *v = NULL;
      size_t vl = 0;
      if (n == 0) {
        newest_ok = firkin_history_value(h, &v, &vl) == FIRKIN_OK && vl == 2 &&
                    memcmp(v, "v3", 2) == 0 && firkin_history_time(h) == T0 + 30;
      }
    }
    check(n == 1 && newest_ok, "%s: history lists the newest version only (%zu)", when, n);
    check(h != NULL && firkin_history_truncated(h), "%s: history says it is truncated", when);
    firkin_history_free(h);
    /* time travel: every answer exact or SNAPSHOT_TOO_OLD, never wrong */
    static const struct {
      uint64_t t;
      const char *k, *c; /* NULL: absent */
    } at[] = {{T0 + 5, NULL, NULL},  {T0 + 10, "v1", NULL}, {T0 + 15, "v1", "c1"},
              {T0 + 20, "v2", "c1"}, {T0 + 29, "v2", "c1"}, {T0 + 30, "v3", "c1"},
              {T0 + 35, "v3", "c1"}};
    int exact = 0, too_old = 0;
    /* Before the first write: the empty state, whatever went in place
     * since (until 2026-11-27: SNAPSHOT_TOO_OLD for every time once any
     * record of a log segment was updated in place). */
    {
      firkin_snapshot *s0 = NULL;
      check(firkin_snapshot_at_time(db, T0, &s0) == FIRKIN_OK && firkin_snapshot_seq(s0) == 0,
            "%s: a time before the first write gives the empty state", when);
      firkin_snapshot_free(s0);
    }
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
      firkin_snapshot *snap = NULL;
      firkin_status st = firkin_snapshot_at_time(db, at[i].t, &snap);
      /* c was never overwritten: every time tells it exactly */
      check(st == FIRKIN_OK, "%s: snapshot_at_time(T0+%llu) = %d", when,
            (unsigned long long)(at[i].t - T0), st);
      if (st != FIRKIN_OK) continue;
      for (int j = 0; j < 2; j++) { /* a scan is whole (k and c as they were) or too old */
        const char *key = j == 0 ? "k" : "c", *val = j == 0 ? at[i].k : at[i].c;
        bool seen = false;
        firkin_status ss = scan(db, snap, NULL, false, key, val ? val : "", &seen);
        check(ss == FIRKIN_E_SNAPSHOT_TOO_OLD || (ss == FIRKIN_OK && seen == (val != NULL)),
              "%s: a scan at T0+%llu is whole or says SNAPSHOT_TOO_OLD (%d, %s seen %d)", when,
              (unsigned long long)(at[i].t - T0), ss, key, seen);
      }
      const char *keys[2] = {"k", "c"};
      const char *want[2] = {at[i].k, at[i].c};
      for (int j = 0; j < 2; j++) {
        void *v = NULL;
        size_t vl = 0;
        firkin_status g = firkin_get(db, snap, NULL, keys[j], 1, &v, &vl);
        bool right = want[j] == NULL ? g == FIRKIN_E_NOT_FOUND
                                     : g == FIRKIN_OK && vl == 2 && memcmp(v, want[j], 2) == 0;
        if (g == FIRKIN_E_SNAPSHOT_TOO_OLD && j == 0) {
          too_old++;
        } else {
          check(right, "%s: %s at T0+%llu: got %d '%.*s', want %s", when, keys[j],
                (unsigned long long)(at[i].t - T0), g, (int)(g == FIRKIN_OK ? vl : 0),
                g == FIRKIN_OK ? (const char *)v : "", want[j] ? want[j] : "absent");
          exact += right;
        }
        firkin_free(v);
      }
      firkin_snapshot_free(snap);
    }
    check(too_old > 0, "%s: versions overwritten in place read SNAPSHOT_TOO_OLD (%d)", when,
          too_old);
    (void)exact; /* (a time before an in-place update reads SNAPSHOT_TOO_OLD) */
    firkin_close(db);
    db = round == 0 ? open_db(path, kv) : NULL;
    if (round == 0 && db == NULL) return;
  }
}

/* ---- history floors: what compaction dropped is never read as absent ---- */

/* Iterates snap over ns (ordered: a range iterator): the status it ends
 * with, and whether key `want` was seen with value `val`. */
static firkin_status scan(firkin_db *db, const firkin_snapshot *snap, const firkin_ns *ns,
                          bool ordered, const char *want, const char *val, bool *seen) {
  firkin_iter *it = NULL;
  firkin_status st = ordered ? firkin_range_iter_new(db, snap, ns, NULL, 0, NULL, 0, 0, &it)
                             : firkin_iter_new(db, snap, ns, &it);
  *seen = false;
  if (st != FIRKIN_OK) return st;
  for (; firkin_iter_valid(it); firkin_iter_next(it)) {
    const void *k = NULL, *v = NULL;
    size_t kl = 0, vl = 0;
    firkin_iter_key(it, &k, &kl);
    firkin_iter_value(it, &v, &vl);
    if (kl == strlen(want) && memcmp(k, want, kl) == 0) {
      *seen = vl == strlen(val) && memcmp(v, val, vl) == 0;
    }
  }
  st = firkin_iter_status(it);
  firkin_iter_free(it);
  return st;
}

/* Puts keys prefix00000, prefix00001, ... of `big` (1000 bytes) until the
 * database has `segments` segments; returns how many it put (the last one
 * went to the newest segment: the put that rolled). */
static int fill_segments(firkin_db *db, char prefix, uint64_t segments, const char *big) {
  char key[32];
  int n = 0;
  for (; stat_u64(db, "segment_count") < segments && n < 1000; n++) {
    snprintf(key, sizeof key, "%c%05d", prefix, n);
    firkin_put(db, NULL, NULL, key, strlen(key), big, 1000);
  }
  return n;
}

static uint64_t last_seq(firkin_db *db) {
  uint64_t s = 0;
  firkin_last_seq(db, &s);
  return s;
}

/* Key k through a snapshot at seq: want (NULL = absent) or SNAPSHOT_TOO_OLD,
 * never anything else. Returns the status. */
static firkin_status expect_or_too_old(firkin_db *db, uint64_t seq, const firkin_ns *ns,
                                       const char *k, const char *want, const char *what) {
  firkin_snapshot *snap = NULL;
  firkin_status st = firkin_snapshot_at(db, seq, &snap);
  check(st == FIRKIN_OK, "%s: snapshot_at(%llu) = %d", what, (unsigned long long)seq, st);
  if (st != FIRKIN_OK) return st;
  void *v = NULL;
  size_t n = 0;
  st = firkin_get(db, snap, ns, k, strlen(k), &v, &n);
  bool right = want == NULL ? st == FIRKIN_E_NOT_FOUND
                            : st == FIRKIN_OK && n == strlen(want) && memcmp(v, want, n) == 0;
  check(right || st == FIRKIN_E_SNAPSHOT_TOO_OLD, "%s: %s at %llu: got %d '%.*s', want %s", what,
        k, (unsigned long long)seq, st, (int)(st == FIRKIN_OK ? n : 0),
        st == FIRKIN_OK ? (const char *)v : "", want ? want : "absent");
  firkin_free(v);
  bool found = false;
  firkin_status cs = firkin_contains(db, snap, ns, k, strlen(k), &found);
  check(cs == FIRKIN_E_SNAPSHOT_TOO_OLD || (cs == FIRKIN_OK && found == (want != NULL)),
        "%s: contains %s at %llu: %d found=%d", what, k, (unsigned long long)seq, cs, found);
  firkin_snapshot_free(snap);
  return st;
}

static bool history_truncated(firkin_db *db, const char *k) {
  firkin_history *h = NULL;
  if (firkin_history_new(db, NULL, k, strlen(k), &h) != FIRKIN_OK) return false;
  const bool t = firkin_history_truncated(h);
  firkin_history_free(h);
  return t;
}

static void test_floors(void) {
  char path[300];
  /* (1) a deleted key whose tombstone compaction dropped, with everything
   * before it: a snapshot from when it was there reads SNAPSHOT_TOO_OLD,
   * never "absent"; scans of that state say so too; live and after a
   * reopen (the floor comes back from the compaction output). */
  dbpath(path, sizeof path, "floors");
  firkin_db *db = open_db(path, NULL);
  if (db == NULL) return;
  firkin_ns *ord = NULL;
  check(firkin_ns_create_v2(db, "ord", FIRKIN_NS_ORDERED, &ord) == FIRKIN_OK, "ordered ns");
  check(firkin_put(db, NULL, NULL, "k1", 2, "old", 3) == FIRKIN_OK, "put k1");
  check(firkin_put(db, NULL, NULL, "k2", 2, "old", 3) == FIRKIN_OK, "put k2");
  check(firkin_put(db, NULL, ord, "o1", 2, "old", 3) == FIRKIN_OK, "put o1");
  const uint64_t s1 = last_seq(db);
  check(firkin_delete(db, NULL, NULL, "k1", 2) == FIRKIN_OK, "delete k1");
  check(firkin_delete(db, NULL, ord, "o1", 2) == FIRKIN_OK, "delete o1");
  check(firkin_put(db, NULL, NULL, "k2", 2, "newer", 5) == FIRKIN_OK, "overwrite k2");
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  check(stat_u64(db, "tombstones_dropped") >= 2, "the tombstones went (%llu)",
        (unsigned long long)stat_u64(db, "tombstones_dropped"));
  for (int round = 0; round < 2; round++) {
    const char *when = round == 0 ? "live" : "after reopen";
    check(expect_or_too_old(db, s1, NULL, "k1", "old", when) == FIRKIN_E_SNAPSHOT_TOO_OLD,
          "%s: k1 (deleted, compacted) at s1 reads SNAPSHOT_TOO_OLD", when);
    expect_or_too_old(db, s1, NULL, "k2", "old", when);
    expect_or_too_old(db, s1, ord, "o1", "old", when);
    expect_or_too_old(db, last_seq(db), NULL, "k2", "newer", when);
    check(expect_or_too_old(db, last_seq(db), NULL, "k1", NULL, when) == FIRKIN_E_NOT_FOUND,
          "%s: k1 is absent now", when);
    firkin_snapshot *snap = NULL;
    check(firkin_snapshot_at(db, s1, &snap) == FIRKIN_OK, "%s: snapshot_at(s1)", when);
    bool seen = false;
    firkin_status st = scan(db, snap, NULL, false, "k1", "old", &seen);
    check(st == FIRKIN_E_SNAPSHOT_TOO_OLD || (st == FIRKIN_OK && seen),
          "%s: a scan at s1 has k1 or says SNAPSHOT_TOO_OLD (%d, seen %d)", when, st, seen);
    st = scan(db, snap, ord, true, "o1", "old", &seen);
    check(st == FIRKIN_E_SNAPSHOT_TOO_OLD || (st == FIRKIN_OK && seen),
          "%s: an ordered scan at s1 has o1 or says SNAPSHOT_TOO_OLD (%d, seen %d)", when, st,
          seen);
    firkin_snapshot_free(snap);
    /* the latest state scans exactly */
    check(firkin_snapshot_new(db, &snap) == FIRKIN_OK, "%s: snapshot_new", when);
    st = scan(db, snap, NULL, false, "k2", "newer", &seen);
    check(st == FIRKIN_OK && seen, "%s: a scan of the latest state is whole (%d)", when, st);
    firkin_snapshot_free(snap);
    check(history_truncated(db, "k1"), "%s: k1's history may be truncated", when);
    firkin_ns_close(ord); /* (a namespace handle keeps the database open) */
    ord = NULL;
    firkin_close(db);
    db = round == 0 ? open_db(path, NULL) : NULL;
    if (round == 0 && db == NULL) return;
    if (db != NULL) {
      check(firkin_ns_open(db, "ord", false, &ord) == FIRKIN_OK, "reopen: ns ord");
    }
  }
  /* a key put again after its tombstone went: its history may be truncated */
  db = open_db(path, NULL);
  if (db == NULL) return;
  check(firkin_put(db, NULL, NULL, "k1", 2, "again", 5) == FIRKIN_OK, "put k1 again");
  check(history_truncated(db, "k1"), "k1 put again: its history may be truncated");
  firkin_close(db);

  /* (2) a record updated in place, copied by compaction, while an older
   * version of its key stays in a segment the pass does not take (held for
   * a snapshot from before it): a snapshot between the two reads
   * SNAPSHOT_TOO_OLD, never the older value (the copy's prev says
   * kPrevReplaced), and its history says truncated. The new segment's dead
   * bytes are a dropped namespace's: no older version in it holds it back. */
  dbpath(path, sizeof path, "floors-inplace");
  const char *kv[] = {"in_place_updates", "true", "sync_mode", "none", "segment_size", "64K",
                      NULL};
  db = open_db(path, kv);
  if (db == NULL) return;
  char big[1000], key[32];
  memset(big, 'f', sizeof big);
  check(firkin_put(db, NULL, NULL, "z", 1, "z0", 2) == FIRKIN_OK, "put z");
  check(firkin_put(db, NULL, NULL, "k", 1, "ZZ", 2) == FIRKIN_OK, "put k ZZ");
  const uint64_t a = last_seq(db);
  fill_segments(db, 'f', 2, big);
  check(firkin_put(db, NULL, NULL, "k", 1, "AAAA", 4) == FIRKIN_OK, "put k AAAA");
  const uint64_t sa = last_seq(db);
  const uint64_t ip0 = stat_u64(db, "in_place_updates");
  check(firkin_put(db, NULL, NULL, "k", 1, "BBBB", 4) == FIRKIN_OK, "put k BBBB");
  check(stat_u64(db, "in_place_updates") == ip0 + 1, "BBBB went in place");
  firkin_ns *tmp = NULL;
  check(firkin_ns_create(db, "tmp", &tmp) == FIRKIN_OK, "ns tmp");
  check(firkin_put(db, NULL, tmp, "t", 1, big, sizeof big) == FIRKIN_OK, "put in tmp");
  firkin_ns_close(tmp);
  check(firkin_ns_drop(db, "tmp") == FIRKIN_OK, "drop tmp (dead bytes)");
  firkin_snapshot *held = NULL; /* holds ZZ's segment out of the pass */
  check(firkin_snapshot_at(db, a, &held) == FIRKIN_OK, "snapshot_at(a)");
  const uint64_t retired0 = stat_u64(db, "segments_retired");
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  check(stat_u64(db, "segments_retired") > retired0, "the segment of BBBB was compacted");
  expect_or_too_old(db, sa, NULL, "k", "AAAA", "in place, compacted");
  expect_or_too_old(db, a, NULL, "k", "ZZ", "in place, compacted, older");
  check(history_truncated(db, "k"), "in place, compacted: k's history says truncated");
  {
    firkin_snapshot *snap = NULL;
    check(firkin_snapshot_at(db, sa, &snap) == FIRKIN_OK, "snapshot_at(sa)");
    bool seen = false;
    firkin_status st = scan(db, snap, NULL, false, "k", "AAAA", &seen);
    check(st == FIRKIN_E_SNAPSHOT_TOO_OLD || (st == FIRKIN_OK && seen),
          "in place: a scan at sa has k=AAAA or says SNAPSHOT_TOO_OLD (%d, seen %d)", st, seen);
    firkin_snapshot_free(snap);
  }
  firkin_snapshot_free(held);
  firkin_close(db);

  /* (3) a snapshot of the latest state keeps what it reads while an older
   * snapshot is held whose version of the same key compaction took
   * already: the pass may not take that key's versions for unneeded. */
  dbpath(path, sizeof path, "floors-younger");
  const char *ykv[] = {"segment_size", "64K", NULL};
  db = open_db(path, ykv);
  if (db == NULL) return;
  check(firkin_put(db, NULL, NULL, "k", 1, "v1", 2) == FIRKIN_OK, "put k v1");
  const uint64_t y = last_seq(db);
  fill_segments(db, 'f', 2, big);
  check(firkin_put(db, NULL, NULL, "k", 1, "v22", 3) == FIRKIN_OK, "put k v22");
  check(firkin_compact(db) == FIRKIN_OK, "compact: v1 goes");
  firkin_snapshot *old = NULL, *cur = NULL;
  check(firkin_snapshot_at(db, y, &old) == FIRKIN_OK, "snapshot_at(y)");
  expect_or_too_old(db, y, NULL, "k", "v1", "younger");
  check(firkin_snapshot_new(db, &cur) == FIRKIN_OK, "snapshot_new");
  check(firkin_put(db, NULL, NULL, "k", 1, "v333", 4) == FIRKIN_OK, "put k v333");
  check(firkin_compact(db) == FIRKIN_OK, "compact again");
  {
    firkin_status st;
    const char *v = get(db, cur, "k", &st);
    check(st == FIRKIN_OK && strcmp(v, "v22") == 0,
          "a held snapshot of the latest state reads k=v22 after compaction (%d '%s')", st, v);
  }
  firkin_snapshot_free(cur);
  firkin_snapshot_free(old);
  firkin_close(db);

  /* (5) a pass whose inputs hold only versions superseded elsewhere
   * (nothing kept, nothing dropped) still records the floor it raised: an
   * output of its two markers. After a reopen, a scan of a state from
   * before it says SNAPSHOT_TOO_OLD; with the floor of the output before
   * it, the scan would have gone on without the key. */
  dbpath(path, sizeof path, "floors-nooutput");
  db = open_db(path, ykv);
  if (db == NULL) return;
  check(firkin_put(db, NULL, NULL, "p0", 2, "x", 1) == FIRKIN_OK, "put p0");
  check(firkin_put(db, NULL, NULL, "p0", 2, "xy", 2) == FIRKIN_OK, "put p0 again (dead)");
  const int f = fill_segments(db, 'F', 2, big);
  char flast[32]; /* the put that rolled went to the next segment */
  snprintf(flast, sizeof flast, "F%05d", f - 1);
  check(firkin_compact(db) == FIRKIN_OK, "first pass: an output with records");
  check(firkin_put(db, NULL, NULL, "k", 1, "v1", 2) == FIRKIN_OK, "put k v1");
  const uint64_t x0 = last_seq(db);
  const int g = fill_segments(db, 'G', 3, big);
  check(firkin_put(db, NULL, NULL, "k", 1, "v2", 2) == FIRKIN_OK, "put k v2");
  /* every record of that segment superseded (the last G went to the next
   * one, where nothing is superseded: that one stays out of the pass) */
  for (int i = 0; i + 1 < g; i++) {
    snprintf(key, sizeof key, "G%05d", i);
    firkin_put(db, NULL, NULL, key, strlen(key), big, 10);
  }
  firkin_put(db, NULL, NULL, flast, strlen(flast), big, 10);
  const uint64_t retired1 = stat_u64(db, "segments_retired");
  check(firkin_compact(db) == FIRKIN_OK, "second pass: everything superseded");
  check(stat_u64(db, "segments_retired") > retired1, "the superseded segment went");
  firkin_close(db);
  db = open_db(path, ykv);
  if (db == NULL) return;
  {
    firkin_snapshot *snap = NULL;
    check(firkin_snapshot_at(db, x0, &snap) == FIRKIN_OK, "no output: snapshot_at(x0)");
    bool seen = false;
    firkin_status st = scan(db, snap, NULL, false, "k", "v1", &seen);
    check(st == FIRKIN_E_SNAPSHOT_TOO_OLD || (st == FIRKIN_OK && seen),
          "no output, after reopen: a scan at x0 has k=v1 or says SNAPSHOT_TOO_OLD (%d, seen %d)",
          st, seen);
    firkin_snapshot_free(snap);
  }
  firkin_close(db);

  /* (4) with history retention, scans of times inside the window stay
   * whole after compaction and after a reopen (the floor each output
   * records is the window's, not the last sequence number). */
  dbpath(path, sizeof path, "floors-retention");
  const char *rkv[] = {"segment_size", "64K", "history_retention_ms", "100000", NULL};
  db = open_db(path, rkv);
  if (db == NULL) return;
  set_clock(T0 + 10);
  check(firkin_put(db, NULL, NULL, "r", 1, "r1", 2) == FIRKIN_OK, "put r1");
  set_clock(T0 + 20);
  check(firkin_delete(db, NULL, NULL, "r", 1) == FIRKIN_OK, "delete r");
  set_clock(T0 + 30);
  for (int i = 0; i < 200; i++) {
    snprintf(key, sizeof key, "w%03d", i % 20);
    firkin_put(db, NULL, NULL, key, strlen(key), big, 500 + (i % 2) * 100);
  }
  set_clock(T0 + 40);
  check(firkin_compact(db) == FIRKIN_OK, "compact with retention");
  for (int round = 0; round < 2; round++) {
    const char *when = round == 0 ? "retention, live" : "retention, after reopen";
    firkin_snapshot *snap = NULL;
    check(firkin_snapshot_at_time(db, T0 + 15, &snap) == FIRKIN_OK, "%s: snapshot_at_time",
          when);
    bool seen = false;
    firkin_status st = scan(db, snap, NULL, false, "r", "r1", &seen);
    check(st == FIRKIN_OK && seen, "%s: the scan at T0+15 is whole, with r=r1 (%d, seen %d)",
          when, st, seen);
    firkin_snapshot_free(snap);
    expect_at(db, T0 + 15, "r", "r1", when);
    expect_at(db, T0 + 25, "r", NULL, when);
    firkin_close(db);
    db = round == 0 ? open_db(path, rkv) : NULL;
    if (round == 0 && db == NULL) return;
  }
}

/* ---- the scripted clock of batch_roll .. moveback_end (me_clock) ----
 * Role 1 (b): numbered, its clock read held until me_release_b, then 200.
 * Role 2 (X, a batch): its first read (the decision) 100; later ones (its
 * commit time, after b's) wait until b has read its time, then 100 (the
 * database's clock is a high-water mark: 200). Role 3 (Y): always 100.
 * Role 4 (Z): numbered, its clock read held until me_release_z, then 190. */
static int me_fb, me_fx, me_fy, me_release_b, me_b_done, me_fz, me_release_z, me_z_done;
static void me_wait(int *f) {
  while (!__atomic_load_n(f, __ATOMIC_SEQ_CST)) usleep(200);
}
static void me_set(int *f) { __atomic_store_n(f, 1, __ATOMIC_SEQ_CST); }
/* A scripted writer decides only after it holds its keys' index locks
 * (sub-tables chosen by a hash with a random seed per database). Where a
 * key shares a sub-table with one a held writer locked, it waits for that
 * one, and its decision flag never comes while the script holds the
 * other: a deadlock of the script, not of the library (about 1 run in 100
 * of these groups; once, a CI timeout). me_wait_dec waits 3 s for a
 * decision; then it records the miss and lets the held writers go, and
 * the group runs again on a new database (me_retry). */
static int me_missed;
static void me_wait_dec(int *f) {
  for (int i = 0; i < 15000 && !__atomic_load_n(f, __ATOMIC_SEQ_CST); i++) usleep(200);
  if (!__atomic_load_n(f, __ATOMIC_SEQ_CST)) {
    me_missed = 1;
    __atomic_store_n(&me_release_b, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&me_release_z, 1, __ATOMIC_SEQ_CST);
  }
  me_wait(f);
}
static void me_reset(void) {
  me_fb = me_fx = me_fy = me_release_b = me_b_done = 0;
  me_fz = me_release_z = me_z_done = 0;
  me_missed = 0;
}
/* Runs group body(name) until its script ran as written (no me_missed),
 * at most 5 times, each on a database of its own. */
static void me_retry(const char *name, bool (*body)(const char *)) {
  char n[64];
  for (int attempt = 0; attempt < 5; attempt++) {
    snprintf(n, sizeof n, "%s%d", name, attempt);
    if (body(n)) return;
  }
  check(false, "%s: its writers shared index sub-tables in 5 databases in a row", name);
}
static __thread int me_reads;
static uint64_t me_clock(void) {
  me_reads++;
  if (me_role == 1) {  /* b: reserved, its clock read held until released */
    me_set(&me_fb);
    me_wait(&me_release_b);
    me_set(&me_b_done);
    return T0 + 200;
  }
  if (me_role == 2) {  /* X: decided at 100; its commit time read after b's */
    if (me_reads == 1) {
      me_set(&me_fx);
      return T0 + 100;
    }
    me_wait(&me_b_done);
    usleep(20000);
    return T0 + 100;
  }
  if (me_role == 4) { /* Z: reserved, its clock read held until released, then 190 */
    me_set(&me_fz);
    me_wait(&me_release_z);
    me_set(&me_z_done);
    return T0 + 190;
  }
  if (me_reads == 1) me_set(&me_fy); /* Y: decided at 100 */
  return T0 + 100;
}
static firkin_db *me_db;
static firkin_batch *me_bx, *me_by;
static firkin_status me_sb, me_sx, me_sy;
static void *me_b(void *a) {
  (void)a;
  me_role = 1;
  me_sb = firkin_put(me_db, NULL, NULL, "b", 1, "bee", 3);
  me_role = 0;
  return NULL;
}
static void *me_x(void *a) {
  (void)a;
  me_role = 2;
  me_sx = firkin_write(me_db, NULL, me_bx);
  me_role = 0;
  return NULL;
}
static void *me_y(void *a) {
  (void)a;
  me_role = 3;
  me_sy = firkin_write(me_db, NULL, me_by);
  me_role = 0;
  return NULL;
}

/* ---- batch_roll, moveback, moveback_roll ----
 * A batch decided at 100 (its first clock read) while b, numbered before
 * it, is stamped 200 (its clock read is held until the batch was decided:
 * me_clock's roles 1 and 2; the batch's commit time is read after b's).
 * batch_roll: the batch does not fit the segment and starts the next one:
 * its records must not carry a time before b's (the state at 150 must not
 * hold b): the commit time is read after the reservation. (A change of
 * 2026-11-28 read it before, to decide conditions with it; the state at
 * 150 then held b.)
 * moveback: the batch also deletes e, which expires at 151, so was live
 * when the batch was decided (100) but not at 200, and it fits the
 * segment: it is stamped 150, the last millisecond e was live, earlier
 * than b numbered before it; the states between 150 and 200 hold neither.
 * moveback_roll: the same batch starts the next segment: it is not moved
 * back below the segment's time floor (200, past b), since times must not
 * go back across segments (a review found a state that held b). */
static bool br_moveback, br_roll;
static bool batch_roll_once(const char *name) {
  const bool moveback = br_moveback, roll = br_roll;
  char path[300];
  dbpath(path, sizeof path, name);
  const char *kv[] = {"segment_size", "64K", "history_retention_ms", "100000000", NULL};
  set_clock(T0 + 50);
  me_db = open_db(path, kv);
  if (me_db == NULL) return true;
  me_reset();
  static char fill[8192], big[40000];
  memset(fill, 'p', sizeof fill);
  memset(big, 'A', sizeof big);
  for (int i = 0; i < 4; i++) {
    char k[8];
    snprintf(k, sizeof k, "f%d", i);
    check(firkin_put(me_db, NULL, NULL, k, strlen(k), fill, sizeof fill) == FIRKIN_OK, "fill");
  }
  if (moveback) {
    check(firkin_put_expire_at(me_db, NULL, NULL, "e", 1, "e", 1, T0 + 151) == FIRKIN_OK,
          "%s: put e", name);
  }
  firkin_batch_new(&me_bx);
  firkin_batch_put(me_bx, NULL, "a", 1, "x", 1);
  if (moveback) firkin_batch_delete(me_bx, NULL, "e", 1);
  if (roll) firkin_batch_put(me_bx, NULL, "a", 1, big, sizeof big);  /* does not fit */
  pthread_t tb, tx;
  pthread_create(&tb, NULL, me_b, NULL);
  me_wait(&me_fb);  /* b numbered, its clock read held */
  pthread_create(&tx, NULL, me_x, NULL);
  me_wait_dec(&me_fx);  /* the batch decided at 100 */
  me_set(&me_release_b);
  pthread_join(tb, NULL);
  pthread_join(tx, NULL);
  if (me_missed) {
    firkin_batch_free(me_bx);
    firkin_close(me_db);
    return false;
  }
  check(me_sb == FIRKIN_OK && me_sx == FIRKIN_OK, "%s: writes", name);
  firkin_batch_free(me_bx);
  uint64_t a_seq = 0, a_time = 0, b_seq = 0;
  firkin_get_version(me_db, NULL, NULL, "b", 1, &b_seq);
  firkin_history *h = NULL;
  if (firkin_history_new(me_db, NULL, "a", 1, &h) == FIRKIN_OK && firkin_history_valid(h)) {
    a_seq = firkin_history_seq(h);
    a_time = firkin_history_time(h);
  }
  firkin_history_free(h);
  check(a_seq > b_seq && b_seq > 0, "%s: the batch (%llu) was not numbered after b (%llu)", name,
        (unsigned long long)a_seq, (unsigned long long)b_seq);
  check(a_time == (moveback && !roll ? T0 + 150 : T0 + 200), "%s: the batch was stamped +%lld",
        name, (long long)(a_time - T0));
  for (uint64_t at = 150; at < 200; at += 10) {
    firkin_snapshot *snap = NULL;
    check(firkin_snapshot_at_time(me_db, T0 + at, &snap) == FIRKIN_OK, "%s: snapshot_at_time",
          name);
    firkin_status st;
    get(me_db, snap, "b", &st);
    check(st == FIRKIN_E_NOT_FOUND, "%s: the state at +%llu holds b, stamped +200 (sequence %llu)",
          name, (unsigned long long)at, (unsigned long long)firkin_snapshot_seq(snap));
    get(me_db, snap, "a", &st);
    check(st == FIRKIN_E_NOT_FOUND, "%s: the state at +%llu holds the batch, numbered after b",
          name, (unsigned long long)at);
    firkin_snapshot_free(snap);
  }
  firkin_close(me_db);
  return true;
}

static void batch_roll_case(const char *name, bool moveback, bool roll) {
  br_moveback = moveback;
  br_roll = roll;
  me_retry(name, batch_roll_once);
}
static void test_batch_roll(void) { batch_roll_case("batchroll", false, true); }
static void test_moveback(void) { batch_roll_case("moveback", true, false); }
static void test_moveback_roll(void) { batch_roll_case("moveback_roll", true, true); }

/* ---- moveback_end ----
 * Two writes moved back in time around a roll (a review's scenario): b is
 * stamped 200 while X (a batch deleting e1, which expires at 151) and Y
 * (deleting e2, expiring at 161, with a value that does not fit the
 * segment) were decided at 100. X lands after b at the end of the segment,
 * moved back to 150; Y starts the next one. Y must not be moved back below
 * that segment's time floor (past 200): with Y at 160, the state at 165
 * held b (time travel took Y's segment for the answer). */
static bool moveback_end_once(const char *name) {
  char path[300];
  dbpath(path, sizeof path, name);
  const char *kv[] = {"segment_size", "64K", "history_retention_ms", "100000000", NULL};
  set_clock(T0 + 50);
  me_db = open_db(path, kv);
  if (me_db == NULL) return true;
  me_reset();
  static char fill[1000], big[30000];
  memset(fill, 'f', sizeof fill);
  memset(big, 'g', sizeof big);
  for (int i = 0; i < 40; i++) {
    char k[16];
    snprintf(k, sizeof k, "f%d", i);
    check(firkin_put(me_db, NULL, NULL, k, strlen(k), fill, sizeof fill) == FIRKIN_OK, "fill");
  }
  check(firkin_put_expire_at(me_db, NULL, NULL, "e1", 2, "e", 1, T0 + 151) == FIRKIN_OK, "e1");
  check(firkin_put_expire_at(me_db, NULL, NULL, "e2", 2, "e", 1, T0 + 161) == FIRKIN_OK, "e2");
  firkin_batch_new(&me_bx);
  firkin_batch_new(&me_by);
  firkin_batch_put(me_bx, NULL, "a", 1, "x", 1);
  firkin_batch_delete(me_bx, NULL, "e1", 2);
  firkin_batch_delete(me_by, NULL, "e2", 2);
  firkin_batch_put(me_by, NULL, "c", 1, big, sizeof big);
  pthread_t tb, tx, ty;
  pthread_create(&tb, NULL, me_b, NULL);
  me_wait(&me_fb);
  pthread_create(&tx, NULL, me_x, NULL);
  me_wait_dec(&me_fx);
  usleep(50000);
  pthread_create(&ty, NULL, me_y, NULL);
  me_wait_dec(&me_fy);
  usleep(50000);
  me_set(&me_release_b);
  pthread_join(tb, NULL);
  pthread_join(tx, NULL);
  pthread_join(ty, NULL);
  if (me_missed) {
    firkin_batch_free(me_bx);
    firkin_batch_free(me_by);
    firkin_close(me_db);
    return false;
  }
  check(me_sb == FIRKIN_OK && me_sx == FIRKIN_OK && me_sy == FIRKIN_OK, "moveback_end: writes");
  firkin_batch_free(me_bx);
  firkin_batch_free(me_by);
  for (int reopen = 0; reopen < 2; reopen++) {
    for (uint64_t at = 150; at < 200; at += 5) {
      firkin_snapshot *s = NULL;
      check(firkin_snapshot_at_time(me_db, T0 + at, &s) == FIRKIN_OK, "snapshot_at_time");
      firkin_status st;
      get(me_db, s, "b", &st);
      check(st == FIRKIN_E_NOT_FOUND,
            "moveback_end: the state at +%llu holds b, stamped +200 (sequence %llu, reopened %d)",
            (unsigned long long)at, (unsigned long long)firkin_snapshot_seq(s), reopen);
      firkin_snapshot_free(s);
    }
    firkin_close(me_db);
    if (reopen == 0) {
      me_db = open_db(path, kv);
      if (me_db == NULL) return true;
    }
  }
  return true;
}

static void test_moveback_end(void) { me_retry("moveback_end", moveback_end_once); }

/* ---- cas_roll ----
 * A CAS decided at 100 on e, which expires at 151, whose value does not fit
 * the segment: its reservation waits for the roll, which waits for b
 * (numbered before it, stamped 200), so the new segment's time floor is 200
 * and the CAS cannot be stamped while e was live. It must fail (e had
 * expired when it committed) and write nothing: e stays absent, the change
 * feed reads on past its number, verify is clean; the same after a reopen.
 * (Until the session after the fifth review it returned OK and e read as
 * the new value, written after the value it compared with had expired.) */
static firkin_status cr_st;
static void *cr_cas(void *a) {
  (void)a;
  static char big[40000];
  memset(big, 'C', sizeof big);
  me_role = 2;
  cr_st = firkin_cas(me_db, NULL, NULL, "e", 1, "old", 3, big, sizeof big);
  me_role = 0;
  return NULL;
}
static void cas_roll_check(const char *path, int reopened) {
  firkin_status st;
  get(me_db, NULL, "e", &st);
  check(st == FIRKIN_E_NOT_FOUND, "cas_roll: e reads %d, not absent (reopened %d)", (int)st,
        reopened);
  get(me_db, NULL, "b", &st);
  check(st == FIRKIN_OK, "cas_roll: b reads %d (reopened %d)", (int)st, reopened);
  get(me_db, NULL, "z", &st);
  check(st == FIRKIN_OK, "cas_roll: z reads %d (reopened %d)", (int)st, reopened);
  /* Every change from the first: the fills, e, b and z, in order and without
   * a gap (the CAS's number holds no change). */
  firkin_changes *c = NULL;
  int n = 0, e_puts = 0;
  bool z_seen = false;
  uint64_t prev = 0;
  check(firkin_changes_open(me_db, 0, NULL, &c) == FIRKIN_OK, "cas_roll: changes_open");
  for (; c != NULL && firkin_changes_valid(c); firkin_changes_next(c)) {
    const uint64_t seq = firkin_changes_seq(c);
    check(seq > prev, "cas_roll: change %llu after %llu", (unsigned long long)seq,
          (unsigned long long)prev);
    prev = seq;
    size_t kl = 0;
    const void *kv = NULL;
    firkin_changes_key(c, &kv, &kl);
    const char *k = kv;
    if (kl == 1 && k[0] == 'e') e_puts++;
    if (kl == 1 && k[0] == 'z') z_seen = true;
    n++;
  }
  check(c != NULL && firkin_changes_status(c) == FIRKIN_OK,
        "cas_roll: the change feed ended with %d after %d changes (reopened %d)",
        c != NULL ? (int)firkin_changes_status(c) : -1, n, reopened);
  check(z_seen && e_puts == 1 && n == 7, "cas_roll: %d changes, %d of e, z %sseen (reopened %d)",
        n, e_puts, z_seen ? "" : "not ", reopened);
  firkin_changes_free(c);
  char *report = NULL;
  st = firkin_verify(me_db, &report);
  check(st == FIRKIN_OK, "cas_roll: verify %d: %s (reopened %d)", (int)st,
        report != NULL ? report : firkin_last_error(), reopened);
  firkin_free(report);
  (void)path;
}
static bool cas_roll_once(const char *name) {
  char path[300];
  dbpath(path, sizeof path, name);
  const char *kv[] = {"segment_size", "64K", NULL};
  set_clock(T0 + 50);
  me_db = open_db(path, kv);
  if (me_db == NULL) return true;
  me_reset();
  static char fill[8192];
  memset(fill, 'p', sizeof fill);
  for (int i = 0; i < 4; i++) {
    char k[8];
    snprintf(k, sizeof k, "f%d", i);
    check(firkin_put(me_db, NULL, NULL, k, strlen(k), fill, sizeof fill) == FIRKIN_OK, "fill");
  }
  check(firkin_put_expire_at(me_db, NULL, NULL, "e", 1, "old", 3, T0 + 151) == FIRKIN_OK,
        "cas_roll: put e");
  pthread_t tb, tx;
  pthread_create(&tb, NULL, me_b, NULL);
  me_wait(&me_fb); /* b numbered, its clock read held */
  pthread_create(&tx, NULL, cr_cas, NULL);
  me_wait_dec(&me_fx); /* the CAS decided at 100, e live */
  me_set(&me_release_b);
  pthread_join(tb, NULL);
  pthread_join(tx, NULL);
  if (me_missed) {
    firkin_close(me_db);
    return false;
  }
  check(me_sb == FIRKIN_OK, "cas_roll: put b");
  check(cr_st == FIRKIN_E_CONDITION_FAILED,
        "cas_roll: the CAS on e (expired at +151, committed at +200 or later) returned %d, "
        "not CONDITION_FAILED",
        (int)cr_st);
  /* The CAS's number is the last: the feed delivers up to the one before,
   * and its position says it has caught up with firkin_last_seq. */
  uint64_t last = 0, delivered = 0;
  firkin_last_seq(me_db, &last);
  firkin_changes *c = NULL;
  check(firkin_changes_open(me_db, 0, NULL, &c) == FIRKIN_OK, "cas_roll: changes_open");
  for (; c != NULL && firkin_changes_valid(c); firkin_changes_next(c)) {
    delivered = firkin_changes_seq(c);
  }
  check(delivered + 1 == last && firkin_changes_position(c) == last,
        "cas_roll: last_seq %llu, last change %llu, position %llu", (unsigned long long)last,
        (unsigned long long)delivered, (unsigned long long)firkin_changes_position(c));
  firkin_changes_free(c);
  check(firkin_put(me_db, NULL, NULL, "z", 1, "zz", 2) == FIRKIN_OK, "cas_roll: put z");
  cas_roll_check(path, 0);
  firkin_close(me_db);
  me_db = open_db(path, kv);
  if (me_db == NULL) return true;
  cas_roll_check(path, 1);
  firkin_close(me_db);
  return true;
}

static void test_cas_roll(void) { me_retry("cas_roll", cas_roll_once); }

/* ---- retention_moveback ----
 * History retention must keep the log segment before one whose newest
 * commit is inside the window, also where that commit is not the
 * segment's last record: Z (a put that starts segment C, stamped 190), b
 * (200) and X (deleting e, expiring at 151, decided at 100: moved back to
 * 150) fill segment C in that order. With a window from 170, segment B
 * before it holds the state at 170-189; retention took C's last record's
 * time (150) for its newest, let compaction take B (keys put and
 * deleted), and the state
 * at 175 said SNAPSHOT_TOO_OLD (found by a review, by reading). */
static void *rm_z(void *a) {
  (void)a;
  static char big[40000];
  memset(big, 'Z', sizeof big);
  me_role = 4;
  firkin_status st = firkin_put(me_db, NULL, NULL, "z", 1, big, sizeof big);
  me_role = 0;
  return (void *)(intptr_t)st;
}
static void *rm_x(void *a) {
  (void)a;
  me_role = 2;
  me_sx = firkin_delete(me_db, NULL, NULL, "e", 1);
  me_role = 0;
  return NULL;
}
static bool retention_moveback_once(const char *name) {
  char path[300];
  dbpath(path, sizeof path, name);
  const char *kv[] = {"segment_size", "64K", "history_retention_ms", "70", NULL};
  set_clock(T0 + 50);
  me_db = open_db(path, kv);
  if (me_db == NULL) return true;
  me_reset();
  static char fill[8192], big[40000];
  memset(fill, 'p', sizeof fill);
  memset(big, 'W', sizeof big);
  /* Segment A: e and f0..f5 (the next 8 KiB does not fit); segment B:
   * keys put and deleted (no version of them is needed inside the window:
   * compaction may take it). */
  check(firkin_put_expire_at(me_db, NULL, NULL, "e", 1, "e", 1, T0 + 151) == FIRKIN_OK,
        "retention_moveback: put e");
  for (int i = 0; i < 6; i++) {
    char k[8];
    snprintf(k, sizeof k, "f%d", i);
    check(firkin_put(me_db, NULL, NULL, k, strlen(k), fill, sizeof fill) == FIRKIN_OK, "fill");
  }
  for (int i = 0; i < 4; i++) {
    char k[8];
    snprintf(k, sizeof k, "h%d", i);
    check(firkin_put(me_db, NULL, NULL, k, strlen(k), fill, sizeof fill) == FIRKIN_OK, "fill");
    check(firkin_delete(me_db, NULL, NULL, k, strlen(k)) == FIRKIN_OK, "delete");
  }
  pthread_t tz, tb, tx;
  void *zr = NULL;
  pthread_create(&tz, NULL, rm_z, NULL);
  me_wait(&me_fz); /* Z started segment 1, its clock read held */
  pthread_create(&tb, NULL, me_b, NULL);
  me_wait_dec(&me_fb); /* b numbered after Z, held */
  pthread_create(&tx, NULL, rm_x, NULL);
  me_wait_dec(&me_fx); /* X decided at 100 (e live) */
  usleep(20000);   /* X reserves after b */
  me_set(&me_release_z);
  me_wait(&me_z_done);
  me_set(&me_release_b);
  pthread_join(tz, &zr);
  pthread_join(tb, NULL);
  pthread_join(tx, NULL);
  if (me_missed) {
    firkin_close(me_db);
    return false;
  }
  check((firkin_status)(intptr_t)zr == FIRKIN_OK && me_sb == FIRKIN_OK && me_sx == FIRKIN_OK,
        "retention_moveback: writes");
  firkin_history *h = NULL;
  uint64_t x_time = 0;
  if (firkin_history_new(me_db, NULL, "e", 1, &h) == FIRKIN_OK && firkin_history_valid(h)) {
    x_time = firkin_history_time(h);
  }
  firkin_history_free(h);
  check(x_time == T0 + 150, "retention_moveback: the delete was stamped +%lld, not +150",
        (long long)(x_time - T0));
  /* W starts segment 2 at 210; the fills' overwrites leave segment 0 dead. */
  set_clock(T0 + 210);
  check(firkin_put(me_db, NULL, NULL, "w", 1, big, sizeof big) == FIRKIN_OK, "put w");
  check(firkin_put(me_db, NULL, NULL, "f1", 2, "q", 1) == FIRKIN_OK, "overwrite f1");
  set_clock(T0 + 240); /* the window: 170 .. 240 */
  check(firkin_compact(me_db) == FIRKIN_OK, "retention_moveback: compact");
  for (uint64_t at = 170; at < 190; at += 5) {
    firkin_snapshot *snap = NULL;
    firkin_status st = firkin_snapshot_at_time(me_db, T0 + at, &snap);
    check(st == FIRKIN_OK, "retention_moveback: the state at +%llu (inside the window) said %d: %s",
          (unsigned long long)at, (int)st, firkin_last_error());
    if (st != FIRKIN_OK) continue;
    get(me_db, snap, "b", &st);
    check(st == FIRKIN_E_NOT_FOUND, "retention_moveback: the state at +%llu holds b",
          (unsigned long long)at);
    const char *v = get(me_db, snap, "f1", &st);
    check(st == FIRKIN_OK && v[0] == 'p', "retention_moveback: f1 at +%llu: %d",
          (unsigned long long)at, (int)st);
    firkin_snapshot_free(snap);
  }
  firkin_close(me_db);
  return true;
}

static void test_retention_moveback(void) {
  me_retry("retention_moveback", retention_moveback_once);
}

/* The database at path as the crash left it: b stamped +200, then X (a
 * batch deleting e) moved back to +150, the log's last record; then the
 * clock is set to +160. 1: done; 0: the writer failed; -1: its script did
 * not run as written (me_wait_dec): again, on a new database. */
static int crash_after_moveback(const char *path, const char *const *kv) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    set_clock(T0 + 50);
    me_db = open_db(path, kv);
    if (me_db == NULL) _exit(1);
    me_reset();
    static char fill[8192];
    memset(fill, 'p', sizeof fill);
    for (int i = 0; i < 4; i++) {
      char k[8];
      snprintf(k, sizeof k, "f%d", i);
      if (firkin_put(me_db, NULL, NULL, k, strlen(k), fill, sizeof fill) != FIRKIN_OK) _exit(1);
    }
    if (firkin_put_expire_at(me_db, NULL, NULL, "e", 1, "e", 1, T0 + 151) != FIRKIN_OK) _exit(1);
    firkin_batch_new(&me_bx);
    firkin_batch_put(me_bx, NULL, "a", 1, "x", 1);
    firkin_batch_delete(me_bx, NULL, "e", 1);
    pthread_t tb, tx;
    pthread_create(&tb, NULL, me_b, NULL);
    me_wait(&me_fb);
    pthread_create(&tx, NULL, me_x, NULL);
    me_wait_dec(&me_fx);
    me_set(&me_release_b);
    pthread_join(tb, NULL);
    pthread_join(tx, NULL);
    if (me_missed) _exit(3); /* the script did not run as written: again */
    _exit(me_sb == FIRKIN_OK && me_sx == FIRKIN_OK ? 0 : 1); /* no close: no seal clock */
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 3) return -1;
  check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "crash_moveback: the writer process failed");
  set_clock(T0 + 160);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 1 : 0;
}

/* c put at +160 (the clock) on db: it must be stamped at or after b's +200,
 * and the state at +170 must not hold b. */
static void crash_moveback_check(firkin_db *db, const char *what) {
  check(firkin_put(db, NULL, NULL, "c", 1, "c", 1) == FIRKIN_OK, "%s: put c", what);
  firkin_history *h = NULL;
  uint64_t ct = 0;
  if (firkin_history_new(db, NULL, "c", 1, &h) == FIRKIN_OK && firkin_history_valid(h)) {
    ct = firkin_history_time(h);
  }
  firkin_history_free(h);
  check(ct >= T0 + 200, "%s: c (numbered after b, +200) stamped +%lld", what,
        (long long)(ct - T0));
  firkin_snapshot *snap = NULL;
  check(firkin_snapshot_at_time(db, T0 + 170, &snap) == FIRKIN_OK, "%s: snapshot", what);
  firkin_status gs;
  get(db, snap, "b", &gs);
  check(gs == FIRKIN_E_NOT_FOUND, "%s: the state at +170 holds b, stamped +200", what);
  firkin_snapshot_free(snap);
}

/* ---- crash_moveback, crash_moveback_reader ----
 * A crash after a moved-back write ended the log's tail (no close, so the
 * tail has no seal clock), and a reopen with the clock behind b: the
 * database's time must not start below b's, or the next write (c,
 * numbered after b) is stamped before it and the state at +170 holds b.
 * (The open took the tail's last record's time for its newest commit;
 * found by the code review of the session after the fifth review.) The
 * reader case: a read-only open's state at +170, and the same checks on a
 * copy that reader backed up (its seal clocks: the third code review.) */
static bool crash_moveback_once(const char *name) {
  char path[300];
  dbpath(path, sizeof path, name);
  const char *kv[] = {"segment_size", "64K", "history_retention_ms", "100000000", NULL};
  const int crashed = crash_after_moveback(path, kv);
  if (crashed <= 0) return crashed == 0;
  firkin_db *db = open_db(path, kv);
  if (db == NULL) return true;
  crash_moveback_check(db, "crash_moveback");
  firkin_close(db);
  return true;
}
static void test_crash_moveback(void) { me_retry("crash_moveback", crash_moveback_once); }

static bool crash_moveback_reader_once(const char *name) {
  char path[300], dest[400];
  dbpath(path, sizeof path, name);
  snprintf(dest, sizeof dest, "%s.bak", path);
  const char *kv[] = {"segment_size", "64K", "history_retention_ms", "100000000", NULL};
  const char *ro[] = {"segment_size", "64K", "history_retention_ms", "100000000",
                      "read_only", "true", NULL};
  const int crashed = crash_after_moveback(path, kv);
  if (crashed <= 0) return crashed == 0;
  firkin_db *db = open_db(path, ro);
  if (db == NULL) return true;
  firkin_snapshot *snap = NULL;
  check(firkin_snapshot_at_time(db, T0 + 170, &snap) == FIRKIN_OK, "reader: snapshot");
  firkin_status gs;
  get(db, snap, "b", &gs);
  check(gs == FIRKIN_E_NOT_FOUND, "crash_moveback_reader: the reader's state at +170 holds b");
  firkin_snapshot_free(snap);
  char *rep = NULL;
  check(firkin_backup(db, NULL, dest, &rep) == FIRKIN_OK, "reader backup");
  firkin_free(rep);
  firkin_close(db);
  db = open_db(dest, kv);
  if (db == NULL) return true;
  crash_moveback_check(db, "crash_moveback_reader (its backup)");
  firkin_close(db);
  return true;
}
static void test_crash_moveback_reader(void) {
  me_retry("crash_moveback_reader", crash_moveback_reader_once);
}

/* ---- tail_clock ----
 * The tail a crash left has no seal clock, so an open reads it whole for
 * its newest commit time (firkin_stats "recovery": "clock_scan_bytes").
 * The first writable open records what it found there as the tail's seal
 * clock: a writable open that writes nothing, then a read-only open and a
 * writable one read none of it, and their clock still starts at b's +200
 * (c stamped after it, the state at +170 without b). Before 2026-11-28
 * each open read the tail again (until a write and a clean close sealed a
 * segment after it). And with updates in place (the default), a clean
 * close's last segment is not read at the reopen either: its seal clock
 * tells (the last record's look read it whole). */
static long long stat_field(firkin_db *db, const char *name) {
  char *j = NULL;
  if (firkin_stats(db, &j) != FIRKIN_OK) return -1;
  char pat[96];
  snprintf(pat, sizeof pat, "\"%s\":", name);
  const char *p = strstr(j, pat);
  const long long v = p != NULL ? strtoll(p + strlen(pat), NULL, 10) : -1;
  firkin_free(j);
  return v;
}

static void tail_clock_now(firkin_db *db, const char *what) {
  uint64_t now = 0;
  check(firkin_now_ms(db, &now) == FIRKIN_OK && now >= T0 + 200,
        "tail_clock: %s: the clock starts at +%lld, behind b's +200", what,
        (long long)(now - T0));
}

static bool tail_clock_once(const char *name) {
  char path[300];
  dbpath(path, sizeof path, name);
  const char *kv[] = {"segment_size", "64K", "history_retention_ms", "100000000", NULL};
  const char *ro[] = {"segment_size", "64K", "history_retention_ms", "100000000",
                      "read_only", "true", NULL};
  const int crashed = crash_after_moveback(path, kv);
  if (crashed <= 0) return crashed == 0;
  firkin_db *db = open_db(path, kv);
  if (db == NULL) return true;
  const long long first = stat_field(db, "clock_scan_bytes");
  check(first > 0, "tail_clock: the first open after the crash read %lld bytes of the tail",
        first);
  tail_clock_now(db, "first open");
  firkin_close(db); /* wrote nothing */
  db = open_db(path, ro);
  if (db == NULL) return true;
  const long long second = stat_field(db, "clock_scan_bytes");
  check(second == 0, "tail_clock: a read-only open after it read %lld bytes of the tail again",
        second);
  tail_clock_now(db, "read-only open");
  firkin_close(db);
  db = open_db(path, kv);
  if (db == NULL) return true;
  const long long third = stat_field(db, "clock_scan_bytes");
  check(third == 0, "tail_clock: a writable open after it read %lld bytes of the tail again",
        third);
  crash_moveback_check(db, "tail_clock");
  firkin_close(db);
  return true;
}

static void test_tail_clock(void) {
  me_retry("tail_clock", tail_clock_once);
  char path[300];
  dbpath(path, sizeof path, "tail_clock_inplace");
  const char *kv[] = {"in_place_updates", "true", NULL};
  firkin_db *db = open_db(path, kv);
  if (db == NULL) return;
  char k[16], v[100];
  memset(v, 'v', sizeof v);
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 500; i++) {
      snprintf(k, sizeof k, "k%d", i);
      set_clock(T0 + 10 + round);
      check(firkin_put(db, NULL, NULL, k, strlen(k), v, sizeof v) == FIRKIN_OK, "put %s", k);
    }
  }
  firkin_close(db);
  db = open_db(path, kv);
  if (db == NULL) return;
  const long long read = stat_field(db, "clock_scan_bytes");
  check(read == 0, "tail_clock: a clean reopen read %lld bytes of its last segment", read);
  firkin_close(db);
}

/* ---- reader_clock ----
 * A read-only handle beside a writer whose clock is ahead of the system's
 * (set back since): a refresh brings b, stamped +200, with the system clock
 * at +120. The reader's time must be at or past b's, and its state at +150
 * must not hold b (its clock stayed at the open's: +150 was "later than
 * now" and gave the latest state; the fourth code review of the session). */
static void test_reader_clock(void) {
  char path[300];
  dbpath(path, sizeof path, "reader_clock");
  const char *ro[] = {"read_only", "true", NULL};
  set_clock(T0 + 50);
  firkin_db *w = open_db(path, NULL);
  if (w == NULL) return;
  check(firkin_put(w, NULL, NULL, "a", 1, "a", 1) == FIRKIN_OK, "reader_clock: put a");
  check(firkin_sync(w) == FIRKIN_OK, "reader_clock: sync");
  firkin_db *r = open_db(path, ro);
  if (r == NULL) {
    firkin_close(w);
    return;
  }
  set_clock(T0 + 200);
  check(firkin_put(w, NULL, NULL, "b", 1, "b", 1) == FIRKIN_OK, "reader_clock: put b");
  check(firkin_sync(w) == FIRKIN_OK, "reader_clock: sync");
  set_clock(T0 + 120);
  check(firkin_refresh(r) == FIRKIN_OK, "reader_clock: refresh");
  uint64_t now = 0;
  check(firkin_now_ms(r, &now) == FIRKIN_OK && now >= T0 + 200,
        "reader_clock: the reader's time +%lld, behind b's +200", (long long)(now - T0));
  firkin_snapshot *snap = NULL;
  check(firkin_snapshot_at_time(r, T0 + 150, &snap) == FIRKIN_OK, "reader_clock: snapshot");
  firkin_status st;
  get(r, snap, "b", &st);
  check(st == FIRKIN_E_NOT_FOUND, "reader_clock: the reader's state at +150 holds b (+200)");
  get(r, snap, "a", &st);
  check(st == FIRKIN_OK, "reader_clock: the reader's state at +150 lacks a (+50)");
  firkin_snapshot_free(snap);
  firkin_close(r);
  firkin_close(w);
}

/* ---- embedded_clock ----
 * A read-only handle opened beside a live writer takes its clock from the
 * record that ends the writer's newest segment (no seal clock there). A
 * put whose value ends with the bytes of a whole record (a copy of
 * another database's segment chunk, made on a clock years ahead) ends the
 * segment as well: the handle must not take its time from the copy. Until
 * 2026-11-29 it did: its clock ran ten years ahead and a key with an
 * expiry an hour away read NOT_FOUND on it while the writer read it. */
static void test_embedded_clock(void) {
  char other[300], path[300];
  dbpath(other, sizeof other, "embedded_clock_other");
  dbpath(path, sizeof path, "embedded_clock");
  const char *ro[] = {"read_only", "true", NULL};
  const uint64_t ahead = T0 + 10ull * 365 * 86400 * 1000;
  set_clock(ahead);
  firkin_db *db = open_db(other, NULL);
  if (db == NULL) return;
  check(firkin_put(db, NULL, NULL, "e", 1, "x", 1) == FIRKIN_OK, "embedded_clock: put e");
  firkin_close(db);
  /* The record of e, as stored (record_layout.h). */
  unsigned char rec[256];
  size_t rl = 0;
  char file[400];
  snprintf(file, sizeof file, "%s/0000000000000001.seg", other);
  FILE *f = fopen(file, "rb");
  static unsigned char buf[1 << 16];
  const size_t n = f != NULL ? fread(buf, 1, sizeof buf, f) : 0;
  if (f != NULL) fclose(f);
  for (size_t at = 8192; at + REC_MIN_SIZE <= n && rl == 0;) {
    const unsigned char *r = buf + at;
    const size_t sz = rec_record_size(r);
    if (rec_seq(r) == 0 || sz == 0 || at + sz > n) break;
    if (rec_klen(r) == 1 && rec_key(r)[0] == 'e' && sz <= sizeof rec) {
      memcpy(rec, r, sz);
      rl = sz;
    }
    at += sz;
  }
  check(rl > 0, "embedded_clock: found e's record");
  if (rl == 0) return;
  set_clock(T0 + 1000);
  firkin_db *w = open_db(path, NULL);
  if (w == NULL) return;
  check(firkin_put_ttl(w, NULL, NULL, "t", 1, "live", 4, 3600 * 1000) == FIRKIN_OK,
        "embedded_clock: put t");
  /* The value ends with the record, and the put's record where the value
   * does (header 36 + key + value a multiple of 8). */
  unsigned char val[512];
  const size_t pad = (8 - (36 + 4 + rl) % 8) % 8;
  memset(val, 'p', pad);
  memcpy(val + pad, rec, rl);
  check(firkin_put(w, NULL, NULL, "blob", 4, val, pad + rl) == FIRKIN_OK, "embedded_clock: blob");
  check(firkin_checkpoint(w) == FIRKIN_OK && firkin_sync(w) == FIRKIN_OK,
        "embedded_clock: checkpoint, sync");
  firkin_db *r = open_db(path, ro);
  if (r == NULL) {
    firkin_close(w);
    return;
  }
  uint64_t now = 0;
  const firkin_status ns = firkin_now_ms(r, &now);
  check(ns == FIRKIN_OK && now >= T0 && now < T0 + 86400000ull,
        "embedded_clock: the reader's time is %llu, T0 + %lld ms (the writer's T0 + 1000; %s)",
        (unsigned long long)now, (long long)(now - T0), firkin_strerror(ns));
  firkin_status st;
  get(r, NULL, "t", &st);
  check(st == FIRKIN_OK, "embedded_clock: t (expires in an hour) on the reader: %s",
        firkin_strerror(st));
  firkin_close(r);
  firkin_close(w);
}

/* ---- reader_clock_compacted ----
 * The same, where the commit stamped ahead (a delete at +200) reaches the
 * reader only as the time of a compaction output's done marker: the pass
 * dropped the delete with the put it deleted. The reader's time must
 * follow it, and its state at +150 must not be the latest one, in which k
 * is absent (k existed then). (A refresh took no done marker's time; the
 * fifth code review.) */
static void test_reader_clock_compacted(void) {
  char path[300];
  dbpath(path, sizeof path, "reader_clock_compacted");
  const char *kv[] = {"segment_size", "64K", NULL};
  const char *ro[] = {"segment_size", "64K", "read_only", "true", NULL};
  set_clock(T0 + 50);
  firkin_db *w = open_db(path, kv);
  if (w == NULL) return;
  check(firkin_put(w, NULL, NULL, "k", 1, "k", 1) == FIRKIN_OK, "put k");
  check(firkin_sync(w) == FIRKIN_OK, "sync");
  firkin_db *r = open_db(path, ro);
  if (r == NULL) {
    firkin_close(w);
    return;
  }
  set_clock(T0 + 200);
  check(firkin_delete(w, NULL, NULL, "k", 1) == FIRKIN_OK, "delete k");
  check(firkin_compact(w) == FIRKIN_OK, "compact");
  check(firkin_sync(w) == FIRKIN_OK, "sync");
  set_clock(T0 + 120);
  check(firkin_refresh(r) == FIRKIN_OK, "refresh");
  uint64_t now = 0;
  check(firkin_now_ms(r, &now) == FIRKIN_OK && now >= T0 + 200,
        "reader_clock_compacted: the reader's time +%lld, behind the delete's +200",
        (long long)(now - T0));
  firkin_snapshot *snap = NULL;
  firkin_status st = firkin_snapshot_at_time(r, T0 + 150, &snap);
  if (st == FIRKIN_OK) {
    firkin_status gs;
    get(r, snap, "k", &gs);
    check(gs == FIRKIN_OK, "reader_clock_compacted: the state at +150 lacks k (deleted at +200)");
    firkin_snapshot_free(snap);
  } else {
    check(st == FIRKIN_E_SNAPSHOT_TOO_OLD, "reader_clock_compacted: snapshot_at_time said %d",
          (int)st);
  }
  firkin_close(r);
  firkin_close(w);
}

/* XORs byte `at` of the first occurrence of `needle` (plus `skip`) in
 * path with 0x5A. */
static bool damage_after(const char *path, const char *needle, long skip) {
  FILE *f = fopen(path, "r+b");
  if (f == NULL) return false;
  fseek(f, 0, SEEK_END);
  const long n = ftell(f);
  char *b = malloc((size_t)n);
  fseek(f, 0, SEEK_SET);
  bool ok = b != NULL && fread(b, 1, (size_t)n, f) == (size_t)n;
  const char *at = ok ? memmem(b, (size_t)n, needle, strlen(needle)) : NULL;
  ok = at != NULL;
  if (ok) {
    fseek(f, (at - b) + skip, SEEK_SET);
    const int c = fgetc(f);
    fseek(f, (at - b) + skip, SEEK_SET);
    fputc(c ^ 0x5A, f);
  }
  free(b);
  fclose(f);
  return ok;
}

/* A damaged old version in the log: its commit time is unknown, and a
 * time whose answer is in its segment past it is FIRKIN_E_CORRUPTION
 * (until the session after 2026-11-28 the damaged record was passed over:
 * the state at +25, between its +20 and the next commit's +30, lacked it,
 * and a damaged first record gave the empty state, with FIRKIN_OK). A
 * first attempt let the next intact record at or before the time settle
 * it, which a moved-back write after the damage defeats (a code review's
 * case): no later record settles it. The latest state still reads. */
static void test_damaged(void) {
  char path[300];
  dbpath(path, sizeof path, "damaged");
  const char *kv[] = {"history_retention_ms", "3600000", NULL};
  for (int first = 0; first < 2; first++) {
    rmrf(path);
    firkin_db *db = open_db(path, kv);
    if (db == NULL) return;
    if (!first) put_at(db, T0 + 10, "a", "a-value-1");
    put_at(db, T0 + 20, "b", "b-value-damaged-later");
    put_at(db, T0 + 30, "c", "c-value-1");
    put_at(db, T0 + 40, "d", "d-value-1");
    put_at(db, T0 + 50, "b", "b-value-2");
    /* More than the checkpoint's tail check (the last 4 KiB) after them:
     * the open loads the checkpoint and does not read them. */
    char filler[300];
    memset(filler, 'f', sizeof filler - 1);
    filler[sizeof filler - 1] = 0;
    for (int i = 0; i < 20; i++) {
      char fk[16];
      snprintf(fk, sizeof fk, "filler%02d", i);
      put_at(db, T0 + 60, fk, filler);
    }
    check(firkin_close(db) == FIRKIN_OK, "damaged: close");
    char seg[400];
    snprintf(seg, sizeof seg, "%s/0000000000000001.seg", path);
    check(damage_after(seg, "b-value-damaged-later", 4), "damaged: flip a byte of b's value");
    set_clock(T0 + 100);
    db = open_db(path, kv);
    check(db != NULL, "damaged: reopen");
    if (db == NULL) return;
    firkin_snapshot *snap = NULL;
    firkin_status st = firkin_snapshot_at_time(db, T0 + 25, &snap);
    check(st == FIRKIN_E_CORRUPTION, "damaged%s: the state at +25 said %d (want CORRUPTION)",
          first ? " first" : "", (int)st);
    if (st == FIRKIN_OK) firkin_snapshot_free(snap);
    snap = NULL;
    st = firkin_snapshot_at_time(db, T0 + 35, &snap);
    check(st == FIRKIN_E_CORRUPTION, "damaged%s: the state at +35 said %d (want CORRUPTION)",
          first ? " first" : "", (int)st);
    if (st == FIRKIN_OK) firkin_snapshot_free(snap);
    firkin_status gs;
    const char *v = get(db, NULL, "b", &gs);
    check(gs == FIRKIN_OK && strcmp(v, "b-value-2") == 0, "damaged: b now (%d '%s')", (int)gs, v);
    firkin_close(db);
  }
}

/* Encrypted database: a backup taken while segment 1 grew holds an
 * authentic seal clock of that segment, from the cut. Put back into the
 * source after the segment grew and was sealed (32 bytes at offset 4112),
 * it must not pass for the clock of the records after the cut: the open
 * takes a seal clock without reading the segment (a code review moved the
 * clock back behind commits the segment holds this way; the MAC now
 * covers the segment's durable length). */
static void test_seal_replay(void) {
  char path[300], bpath[300];
  dbpath(path, sizeof path, "seal_replay");
  dbpath(bpath, sizeof bpath, "seal_replay_backup");
  const char *kv[] = {"encryption_key",
                      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", NULL};
  set_clock(T0);
  firkin_db *db = open_db(path, kv);
  if (db == NULL) return;
  check(firkin_put(db, NULL, NULL, "a", 1, "v", 1) == FIRKIN_OK, "seal_replay: put a");
  firkin_backup_options *bo = NULL;
  check(firkin_backup_options_new(&bo) == FIRKIN_OK, "seal_replay: backup options");
  firkin_backup_options_set_hard_links(bo, false);
  char *rep = NULL;
  check(firkin_backup(db, bo, bpath, &rep) == FIRKIN_OK, "seal_replay: backup");
  firkin_free(rep);
  firkin_backup_options_free(bo);
  set_clock(T0 + 1000000);
  check(firkin_put_expire_at(db, NULL, NULL, "k", 1, "live", 4, T0 + 1500000) == FIRKIN_OK,
        "seal_replay: put k");
  check(firkin_put(db, NULL, NULL, "b", 1, "v", 1) == FIRKIN_OK, "seal_replay: put b");
  set_clock(T0 + 3000000);
  check(firkin_close(db) == FIRKIN_OK, "seal_replay: close");
  /* The backup's copy of segment 1's clock into the source's. */
  char src[400], bak[400];
  snprintf(src, sizeof src, "%s/0000000000000001.seg", path);
  snprintf(bak, sizeof bak, "%s/0000000000000001.seg", bpath);
  unsigned char clock[32];
  int fb = open(bak, O_RDONLY), fs = open(src, O_RDWR);
  check(fb >= 0 && fs >= 0 && pread(fb, clock, 32, 4112) == 32 && pwrite(fs, clock, 32, 4112) == 32,
        "seal_replay: put the backup's seal clock back into the source");
  if (fb >= 0) close(fb);
  if (fs >= 0) close(fs);
  set_clock(T0 + 500); /* the system clock set back */
  db = open_db(path, kv);
  check(db != NULL, "seal_replay: reopen");
  if (db == NULL) return;
  uint64_t now = 0;
  check(firkin_now_ms(db, &now) == FIRKIN_OK && now >= T0 + 1000000,
        "seal_replay: the clock +%lld s, behind b's commit at +1000 s",
        (long long)(now - T0) / 1000);
  /* (The clock starts at b's commit, not at the close's +3000 s: a seal
   * clock that does not hold reads as none, as a deleted one would, which
   * docs/format.md lists among what someone without the key can do.) */
  char *vrep = NULL;
  check(firkin_verify(db, &vrep) == FIRKIN_E_CORRUPTION && vrep != NULL &&
            strstr(vrep, "seal clock fails its authentication") != NULL,
        "seal_replay: verify reports the replayed clock: %s", vrep ? vrep : "");
  firkin_free(vrep);
  firkin_close(db);
}

int main(int argc, char **argv) {
  const char *tmp = getenv("TMPDIR");
  snprintf(base_dir, sizeof base_dir, "%s/firkin-tt-XXXXXX", tmp ? tmp : "/tmp");
  if (mkdtemp(base_dir) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);  /* each group's line as it ends (a CI log) */
  struct {
    const char *name;
    void (*fn)(void);
  } groups[] = {{"attime", test_attime},       {"monotonic", test_monotonic},
                {"history", test_history},     {"retention", test_retention},
                {"idle", test_idle},           {"now", test_now},
                {"v2", test_v2},               {"kill", test_kill},
                {"twins", test_twins},
                {"concurrent", test_concurrent}, {"inplace", test_inplace},
                {"floors", test_floors},       {"inflight", test_inflight},
                {"batch_roll", test_batch_roll}, {"moveback", test_moveback},
                {"moveback_roll", test_moveback_roll}, {"moveback_end", test_moveback_end},
                {"cas_roll", test_cas_roll}, {"retention_moveback", test_retention_moveback},
                {"crash_moveback", test_crash_moveback},
                {"crash_moveback_reader", test_crash_moveback_reader},
                {"tail_clock", test_tail_clock},
                {"reader_clock", test_reader_clock},
                {"reader_clock_compacted", test_reader_clock_compacted},
                {"embedded_clock", test_embedded_clock},
                {"damaged", test_damaged},
                {"seal_replay", test_seal_replay}};
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) group_known(groups[i].name);
  const bool bad_args = group_args_unknown(argc, argv) != 0;
  if (bad_args) failed++;
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
    if (bad_args || !group_wanted(argc, argv, groups[i].name)) continue;
    const int f0 = failed;
    set_clock(T0);
    groups[i].fn();
    printf("%s: %s\n", groups[i].name, failed == f0 ? "ok" : "FAILED");
  }
  rmrf(base_dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
