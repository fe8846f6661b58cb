/*
 * changes_test.c — the change feed (firkin_changes_*) through the C API.
 *
 *   basic      puts, deletes, a batch between its markers, namespace create
 *              and drop, binary keys and values, sequence numbers, the
 *              cursor's position; markers off
 *   resume     close and reopen, resume from any sequence number; since =
 *              last gives nothing until a new write; since > last is refused
 *   concurrent writers (puts and batches) in threads while a follower waits
 *              on the feed: it yields exactly the acknowledged writes, in
 *              sequence order, dense, each thread's writes in its order,
 *              batches whole
 *   retention  small segments, auto-compaction on: without retention old
 *              history goes (too old, never skipped: a cursor that falls
 *              behind ends with SNAPSHOT_TOO_OLD); with change_retention_seqs
 *              / _bytes the window survives compaction that retires older
 *              segments, across a reopen too
 *   compacted_tail  compaction kept an older log segment and retired the
 *              newer ones: oldest_seq reaches last_seq from where it points,
 *              also after a reopen; a cursor below it is refused at open
 *   embedded_record  a put whose value ends with the bytes of a whole record
 *              (a copy of another database's segment chunk) ends a log
 *              segment; after a reopen the feed still holds every change
 *              (oldest_seq 1, a cursor from 0 reads them all) and time
 *              travel still reads a time before it (until 2026-11-29 the
 *              segment's last number was read from the value: the history
 *              before the reopen was refused as no longer retained)
 *   wait       returns on a new write (woken, well before the timeout);
 *              times out otherwise
 *   bad        NULL handles and out pointers, options getters/setters,
 *              next_n with a small buffer
 *
 * Usage: changes_test [GROUP...]. Ends with "N passed, N failed".
 */
#define _GNU_SOURCE

#include <ftw.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "firkin.h"

#include "check_harness.h"
#include "group_args.h"
#include "record_layout.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static firkin_db *open_db(const char *path, const char *const *kv) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  for (; kv != NULL && kv[0] != NULL; kv += 2) {
    if (firkin_options_set(o, kv[0], kv[1]) != FIRKIN_OK) {
      printf("bad option %s=%s: %s\n", kv[0], kv[1], firkin_last_error());
    }
  }
  firkin_db *db = NULL;
  firkin_status s = firkin_open(path, o, &db);
  firkin_options_free(o);
  if (s != FIRKIN_OK) printf("open %s: %s\n", path, firkin_last_error());
  return db;
}

/* One change as text: "TYPE seq ns key value". */
static void describe(firkin_changes *c, char *out, size_t n) {
  const void *k = NULL, *v = NULL;
  size_t kl = 0, vl = 0;
  firkin_changes_key(c, &k, &kl);
  firkin_changes_value(c, &v, &vl);
  static const char *names[] = {"?", "put", "del", "nscreate", "nsdrop", "begin", "end"};
  int t = (int)firkin_changes_type(c);
  snprintf(out, n, "%s %llu %s %.*s %.*s", t >= 1 && t <= 6 ? names[t] : "?",
           (unsigned long long)firkin_changes_seq(c), firkin_changes_namespace(c), (int)kl,
           (const char *)k, (int)vl, (const char *)v);
}

/* Collects every change currently available into lines. */
static int collect(firkin_changes *c, char lines[][128], int max) {
  int n = 0;
  for (; firkin_changes_valid(c); firkin_changes_next(c)) {
    if (n < max) describe(c, lines[n], sizeof lines[0]);
    n++;
  }
  return n;
}

static void test_basic(void) {
  char path[300];
  dbpath(path, sizeof path, "basic");
  firkin_db *db = open_db(path, NULL);
  firkin_put(db, NULL, NULL, "a", 1, "1", 1);                 /* seq 1 */
  firkin_ns *users = NULL;
  firkin_ns_create(db, "users", &users);                      /* seq 2 */
  firkin_put(db, NULL, users, "ada", 3, "lovelace", 8);       /* seq 3 */
  firkin_batch *b = NULL;
  firkin_batch_new(&b);
  firkin_batch_put(b, NULL, "b", 1, "2", 1);
  firkin_batch_delete(b, NULL, "a", 1);
  firkin_batch_put(b, users, "bob", 3, "", 0);
  check(firkin_write(db, NULL, b) == FIRKIN_OK, "batch write");  /* seq 4 */
  firkin_batch_free(b);
  firkin_delete(db, NULL, users, "ada", 3);                   /* seq 5 */
  firkin_delete(db, NULL, users, "nobody", 6);                /* nothing written */
  firkin_ns_close(users);
  firkin_ns_drop(db, "users");                                /* seq 6 */
  const char bin[4] = {'k', 0, 1, 2};
  firkin_put(db, NULL, NULL, bin, 4, "\0x", 2);               /* seq 7 */
  uint64_t last = 0;
  firkin_last_seq(db, &last);
  check(last == 7, "last seq 7, got %llu", (unsigned long long)last);

  firkin_changes *c = NULL;
  check(firkin_changes_open(db, 0, NULL, &c) == FIRKIN_OK, "open from 0");
  char got[32][128];
  int n = collect(c, got, 32);
  const char *want[] = {"put 1 default a 1",         "nscreate 2 users  ",
                        "put 3 users ada lovelace",  "begin 4   ",
                        "put 4 default b 2",         "del 4 default a ",
                        "put 4 users bob ",          "end 4   ",
                        "del 5 users ada ",          "nsdrop 6 users  "};
  check(n == 11, "11 changes, got %d", n);
  for (int i = 0; i < 10 && i < n; i++) {
    check(strcmp(got[i], want[i]) == 0, "change %d: want '%s' got '%s'", i, want[i], got[i]);
  }
  check(firkin_changes_status(c) == FIRKIN_OK, "status ok at the end");
  firkin_changes_free(c);

  /* The position: the current change's number - 1 while valid (all of a
   * batch, markers too), the last number read at the end. */
  check(firkin_changes_open(db, 2, NULL, &c) == FIRKIN_OK, "open from 2");
  check(firkin_changes_position(c) == 2, "position at the first change (3): %llu",
        (unsigned long long)firkin_changes_position(c));
  firkin_changes_next(c); /* begin 4 */
  check(firkin_changes_position(c) == 3, "position at the batch's begin: %llu",
        (unsigned long long)firkin_changes_position(c));
  for (int i = 0; i < 4; i++) firkin_changes_next(c); /* its end */
  check(firkin_changes_type(c) == FIRKIN_CHANGE_BATCH_END && firkin_changes_position(c) == 3,
        "position at the batch's end: %llu", (unsigned long long)firkin_changes_position(c));
  while (firkin_changes_valid(c)) firkin_changes_next(c);
  check(firkin_changes_position(c) == 7, "position at the end: %llu",
        (unsigned long long)firkin_changes_position(c));
  check(firkin_changes_position(NULL) == 0, "position of NULL");
  firkin_changes_free(c);

  /* The binary change, read through the accessors and next_n. */
  check(firkin_changes_open(db, 6, NULL, &c) == FIRKIN_OK, "open from 6");
  const void *k = NULL, *v = NULL;
  size_t kl = 0, vl = 0;
  check(firkin_changes_valid(c) && firkin_changes_type(c) == FIRKIN_CHANGE_PUT &&
            firkin_changes_key(c, &k, &kl) == FIRKIN_OK && kl == 4 && memcmp(k, bin, 4) == 0 &&
            firkin_changes_value(c, &v, &vl) == FIRKIN_OK && vl == 2 &&
            memcmp(v, "\0x", 2) == 0,
        "binary key and value round-trip");
  firkin_changes_free(c);

  /* Markers off: the batch's operations only, still one sequence number. */
  firkin_changes_options *co = NULL;
  firkin_changes_options_new(&co);
  firkin_changes_options_set_batch_markers(co, false);
  check(firkin_changes_open(db, 3, co, &c) == FIRKIN_OK, "open from 3 without markers");
  n = collect(c, got, 32);
  check(n == 6 && strcmp(got[0], "put 4 default b 2") == 0 &&
            strcmp(got[2], "put 4 users bob ") == 0 && strcmp(got[3], "del 5 users ada ") == 0,
        "no markers: %d changes, first '%s'", n, n > 0 ? got[0] : "");
  firkin_changes_free(c);
  firkin_changes_options_free(co);

  /* next_n: the packed form. */
  check(firkin_changes_open(db, 0, NULL, &c) == FIRKIN_OK, "open for next_n");
  char buf[4096];
  size_t used = 0, count = 0;
  check(firkin_changes_next_n(c, buf, sizeof buf, &used, &count) == FIRKIN_OK && count == 11,
        "next_n gives all 11, got %zu", count);
  uint32_t t0, nl0, kl0, vl0;
  uint64_t s0;
  memcpy(&t0, buf, 4);
  memcpy(&nl0, buf + 4, 4);
  memcpy(&s0, buf + 8, 8);
  memcpy(&kl0, buf + 16, 4);
  memcpy(&vl0, buf + 20, 4);
  check(t0 == FIRKIN_CHANGE_PUT && s0 == 1 && nl0 == 7 && kl0 == 1 && vl0 == 1 &&
            memcmp(buf + 24, "defaulta1", 9) == 0,
        "next_n entry layout");
  check(!firkin_changes_valid(c), "next_n consumed everything");
  check(firkin_changes_position(c) == 7, "position after next_n: %llu",
        (unsigned long long)firkin_changes_position(c));
  check(firkin_changes_next_n(c, buf, sizeof buf, &used, &count) == FIRKIN_OK && count == 0,
        "next_n at the end: 0");
  firkin_put(db, NULL, NULL, "late", 4, "x", 1);
  check(firkin_changes_next_n(c, buf, 10, &used, &count) == FIRKIN_E_BUFFER_TOO_SMALL &&
            used == 24 + 7 + 4 + 1,
        "next_n: buffer too small gives the size needed (%zu)", used);
  check(firkin_changes_next_n(c, buf, sizeof buf, &used, &count) == FIRKIN_OK && count == 1,
        "next_n picks up a new write");
  firkin_changes_free(c);

  uint64_t oldest = 0;
  check(firkin_changes_oldest_seq(db, &oldest) == FIRKIN_OK && oldest == 1,
        "oldest retained change is 1, got %llu", (unsigned long long)oldest);

  /* A batch of one operation is that operation, without markers
   * (firkin.h, firkin_changes_options_new). */
  uint64_t before = 0;
  firkin_last_seq(db, &before);
  firkin_batch_new(&b);
  firkin_batch_put(b, NULL, "solo", 4, "s", 1);
  check(firkin_write(db, NULL, b) == FIRKIN_OK, "one-op batch write");
  firkin_batch_free(b);
  check(firkin_changes_open(db, before, NULL, &c) == FIRKIN_OK, "open at the one-op batch");
  n = collect(c, got, 32);
  check(n == 1 && strncmp(got[0], "put ", 4) == 0 && strstr(got[0], " solo s") != NULL,
        "a one-op batch: %d changes, first '%s'", n, n > 0 ? got[0] : "");
  firkin_changes_free(c);
  firkin_close(db);
}

static void test_resume(void) {
  char path[300];
  dbpath(path, sizeof path, "resume");
  firkin_db *db = open_db(path, NULL);
  for (int i = 0; i < 50; i++) {
    char k[16];
    int kl = snprintf(k, sizeof k, "k%d", i);
    firkin_put(db, NULL, NULL, k, (size_t)kl, "v", 1);
  }
  firkin_close(db);
  db = open_db(path, NULL);
  for (int i = 50; i < 100; i++) {
    char k[16];
    int kl = snprintf(k, sizeof k, "k%d", i);
    firkin_put(db, NULL, NULL, k, (size_t)kl, "v", 1);
  }
  firkin_close(db);
  db = open_db(path, NULL); /* a third open: three log segments */
  for (uint64_t since = 0; since <= 100; since += 7) {
    firkin_changes *c = NULL;
    check(firkin_changes_open(db, since, NULL, &c) == FIRKIN_OK, "resume from %llu",
          (unsigned long long)since);
    uint64_t expect = since + 1;
    bool ok = true;
    for (; firkin_changes_valid(c); firkin_changes_next(c)) {
      char k[16];
      int kl = snprintf(k, sizeof k, "k%llu", (unsigned long long)(expect - 1));
      const void *key;
      size_t klen;
      firkin_changes_key(c, &key, &klen);
      if (firkin_changes_seq(c) != expect || klen != (size_t)kl || memcmp(key, k, klen) != 0) {
        ok = false;
      }
      expect++;
    }
    check(ok && expect == 101, "resume from %llu: dense and in order up to 100 (next %llu)",
          (unsigned long long)since, (unsigned long long)expect);
    firkin_changes_free(c);
  }
  firkin_changes *c = NULL;
  check(firkin_changes_open(db, 100, NULL, &c) == FIRKIN_OK && !firkin_changes_valid(c),
        "since = last: nothing yet");
  firkin_put(db, NULL, NULL, "new", 3, "v", 1);
  check(firkin_changes_next(c) == FIRKIN_OK && firkin_changes_valid(c) &&
            firkin_changes_seq(c) == 101,
        "next at the end picks up a new write");
  firkin_changes_free(c);
  c = NULL;
  check(firkin_changes_open(db, 500, NULL, &c) == FIRKIN_E_INVALID_ARGUMENT && c == NULL &&
            strstr(firkin_last_error(), "future") != NULL,
        "since in the future is refused");
  firkin_close(db);
}

/* ---- concurrent writers ---- */

enum { kThreads = 4, kWritesPerThread = 1500 };
struct writer_arg {
  firkin_db *db;
  int id;
  int acked;
};

static void *writer(void *p) {
  struct writer_arg *a = p;
  for (int i = 0; i < kWritesPerThread; i++) {
    char k[32];
    int kl = snprintf(k, sizeof k, "t%d-%05d", a->id, i);
    firkin_status s;
    if (i % 5 == 4) { /* a batch of 3: the key, its ".x" and ".y" */
      firkin_batch *b = NULL;
      firkin_batch_new(&b);
      char k2[40];
      firkin_batch_put(b, NULL, k, (size_t)kl, "b", 1);
      int k2l = snprintf(k2, sizeof k2, "%s.x", k);
      firkin_batch_put(b, NULL, k2, (size_t)k2l, "b", 1);
      k2l = snprintf(k2, sizeof k2, "%s.y", k);
      firkin_batch_put(b, NULL, k2, (size_t)k2l, "b", 1);
      s = firkin_write(a->db, NULL, b);
      firkin_batch_free(b);
    } else {
      s = firkin_put(a->db, NULL, NULL, k, (size_t)kl, "v", 1);
    }
    if (s != FIRKIN_OK) break;
    a->acked++;
  }
  return NULL;
}

static void test_concurrent(void) {
  char path[300];
  dbpath(path, sizeof path, "concurrent");
  const char *opts[] = {"segment_size", "64K", NULL};
  firkin_db *db = open_db(path, opts);
  firkin_changes *c = NULL;
  check(firkin_changes_open(db, 0, NULL, &c) == FIRKIN_OK, "open the follower");
  pthread_t th[kThreads];
  struct writer_arg args[kThreads];
  for (int t = 0; t < kThreads; t++) {
    args[t] = (struct writer_arg){db, t, 0};
    pthread_create(&th[t], NULL, writer, &args[t]);
  }
  int next_i[kThreads] = {0};
  uint64_t last_seq = 0, writes = 0;
  bool ok = true, in_batch = false;
  int batch_n = 0, batch_i = -1, batch_t = -1;
  char why[200] = "";
  const long total = (long)kThreads * kWritesPerThread;
  double deadline = now_ms() + 60000;
  while (writes < (uint64_t)total && ok && now_ms() < deadline) {
    firkin_changes_wait(c, 1000);
    for (; ok && firkin_changes_valid(c); firkin_changes_next(c)) {
      const uint64_t seq = firkin_changes_seq(c);
      const int type = (int)firkin_changes_type(c);
      if (type == FIRKIN_CHANGE_BATCH_BEGIN) {
        if (in_batch || seq != last_seq + 1) {
          ok = false;
          snprintf(why, sizeof why, "batch begin at %llu after %llu", (unsigned long long)seq,
                   (unsigned long long)last_seq);
        }
        in_batch = true;
        batch_n = 0;
        last_seq = seq;
        continue;
      }
      if (type == FIRKIN_CHANGE_BATCH_END) {
        if (!in_batch || batch_n != 3 || seq != last_seq) {
          ok = false;
          snprintf(why, sizeof why, "batch end at %llu with %d ops", (unsigned long long)seq,
                   batch_n);
        }
        in_batch = false;
        writes++;
        next_i[batch_t]++;
        continue;
      }
      const void *k;
      size_t kl;
      firkin_changes_key(c, &k, &kl);
      char key[48];
      snprintf(key, sizeof key, "%.*s", (int)kl, (const char *)k);
      int t = -1, i = -1;
      char suffix[8] = "";
      if (type != FIRKIN_CHANGE_PUT || sscanf(key, "t%d-%d%7s", &t, &i, suffix) < 2 || t < 0 ||
          t >= kThreads) {
        ok = false;
        snprintf(why, sizeof why, "unexpected change %d '%s'", type, key);
        break;
      }
      if (in_batch) {
        const char *want = batch_n == 0 ? "" : batch_n == 1 ? ".x" : ".y";
        if (seq != last_seq || strcmp(suffix, want) != 0 || i % 5 != 4 ||
            (batch_n > 0 && (t != batch_t || i != batch_i)) || (batch_n == 0 && i != next_i[t])) {
          ok = false;
          snprintf(why, sizeof why, "batch member '%s' at %llu", key, (unsigned long long)seq);
        }
        batch_t = t;
        batch_i = i;
        batch_n++;
        continue;
      }
      if (seq != last_seq + 1 || i != next_i[t] || i % 5 == 4 || suffix[0] != 0) {
        ok = false;
        snprintf(why, sizeof why, "'%s' at seq %llu (last %llu, thread expects %d)", key,
                 (unsigned long long)seq, (unsigned long long)last_seq, next_i[t]);
      }
      last_seq = seq;
      next_i[t]++;
      writes++;
    }
    if (firkin_changes_status(c) != FIRKIN_OK) {
      ok = false;
      snprintf(why, sizeof why, "cursor status %d", firkin_changes_status(c));
    }
  }
  for (int t = 0; t < kThreads; t++) pthread_join(th[t], NULL);
  long acked = 0;
  for (int t = 0; t < kThreads; t++) acked += args[t].acked;
  uint64_t last = 0;
  firkin_last_seq(db, &last);
  check(ok, "feed order while writers run: %s", why);
  check(acked == total && (long)writes == acked && last_seq == last,
        "every acknowledged write once: acked %ld, seen %llu, last seq %llu / %llu", acked,
        (unsigned long long)writes, (unsigned long long)last_seq, (unsigned long long)last);
  firkin_changes_wait(c, 50);
  check(!firkin_changes_valid(c), "nothing beyond the acknowledged writes");
  firkin_changes_free(c);
  firkin_close(db);
}

/* ---- retention ---- */

static void churn(firkin_db *db, int rounds) {
  char val[200];
  memset(val, 'v', sizeof val);
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < 100; i++) {
      char k[16];
      int kl = snprintf(k, sizeof k, "key%d", i);
      firkin_put(db, NULL, NULL, k, (size_t)kl, val, sizeof val);
    }
  }
}

/* Reads every change after since; returns how many writes (seq numbers)
 * were delivered, and the cursor's status in *st. */
static uint64_t drain(firkin_db *db, uint64_t since, firkin_status *st) {
  firkin_changes *c = NULL;
  *st = firkin_changes_open(db, since, NULL, &c);
  if (*st != FIRKIN_OK) return 0;
  uint64_t n = 0, expect = since + 1;
  for (; firkin_changes_valid(c); firkin_changes_next(c)) {
    if (firkin_changes_seq(c) != expect) {
      *st = -1000;
      break;
    }
    expect++;
    n++;
  }
  if (*st == FIRKIN_OK) *st = firkin_changes_status(c);
  firkin_changes_free(c);
  return n;
}

static void test_retention(void) {
  char path[300];
  firkin_status st;
  /* No retention: compaction takes history, and the feed says so. */
  dbpath(path, sizeof path, "noretention");
  const char *base[] = {"segment_size", "64K", "compact_rate", "0", NULL};
  firkin_db *db = open_db(path, base);
  churn(db, 1);
  firkin_changes *behind = NULL;
  check(firkin_changes_open(db, 0, NULL, &behind) == FIRKIN_OK && firkin_changes_valid(behind),
        "a cursor at 0 before compaction");
  churn(db, 30);
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  check(stat_u64(db, "segments_retired") > 0, "compaction retired segments");
  uint64_t oldest = 0, last = 0;
  firkin_changes_oldest_seq(db, &oldest);
  firkin_last_seq(db, &last);
  check(oldest > 1 && oldest <= last + 1, "oldest retained moved up: %llu (last %llu)",
        (unsigned long long)oldest, (unsigned long long)last);
  check(stat_u64(db, "oldest_seq") == oldest, "stats changes.oldest_seq agrees");
  firkin_changes *c = NULL;
  check(firkin_changes_open(db, 0, NULL, &c) == FIRKIN_E_SNAPSHOT_TOO_OLD && c == NULL &&
            strstr(firkin_last_error(), "no longer retained") != NULL,
        "since 0 is too old after compaction");
  check(drain(db, oldest - 1, &st) == last - (oldest - 1) && st == FIRKIN_OK,
        "from the oldest retained: everything after it (%d)", st);
  /* The cursor opened before: it reads what it pinned, then stops at the
   * gap with SNAPSHOT_TOO_OLD, never skipping. */
  uint64_t seen = 0, prev = 0;
  bool dense = true;
  for (; firkin_changes_valid(behind); firkin_changes_next(behind)) {
    if (firkin_changes_seq(behind) != prev + 1) dense = false;
    prev = firkin_changes_seq(behind);
    seen++;
  }
  check(dense && seen < last && firkin_changes_status(behind) == FIRKIN_E_SNAPSHOT_TOO_OLD,
        "a cursor that fell behind ends with SNAPSHOT_TOO_OLD after %llu dense changes "
        "(dense %d, last %llu, status %d)",
        (unsigned long long)seen, (int)dense, (unsigned long long)last,
        firkin_changes_status(behind));
  firkin_changes_free(behind);
  firkin_close(db);

  /* change_retention_seqs: the newest N changes survive compaction. */
  dbpath(path, sizeof path, "retention_seqs");
  const char *rs[] = {"segment_size", "64K", "compact_rate", "0", "change_retention_seqs",
                      "1000", NULL};
  db = open_db(path, rs);
  churn(db, 40);  /* 4000 writes of ~250 bytes: ~16 segments */
  check(firkin_compact(db) == FIRKIN_OK, "compact with retention");
  usleep(300 * 1000); /* and let the background compactor run too */
  firkin_last_seq(db, &last);
  check(stat_u64(db, "segments_retired") > 0, "compaction still retired older segments");
  check(drain(db, last - 1000, &st) == 1000 && st == FIRKIN_OK,
        "the newest 1000 changes survive compaction (%d)", st);
  firkin_changes_oldest_seq(db, &oldest);
  check(oldest <= last - 999 && oldest > 1, "oldest retained %llu within the window",
        (unsigned long long)oldest);
  firkin_close(db);
  db = open_db(path, rs);
  check(drain(db, last - 1000, &st) == 1000 && st == FIRKIN_OK,
        "and after a reopen (%d)", st);
  firkin_close(db);

  /* change_retention_bytes: at least that much of the newest log survives. */
  dbpath(path, sizeof path, "retention_bytes");
  const char *rb[] = {"segment_size", "64K", "compact_rate", "0", "change_retention_bytes",
                      "256K", NULL};
  db = open_db(path, rb);
  churn(db, 40);
  check(firkin_compact(db) == FIRKIN_OK, "compact with byte retention");
  firkin_last_seq(db, &last);
  firkin_changes_oldest_seq(db, &oldest);
  /* 256 KiB of ~256-byte records: at least ~1000 changes. */
  check(stat_u64(db, "segments_retired") > 0 && oldest > 1 && last - oldest + 1 >= 900,
        "byte retention keeps %llu changes", (unsigned long long)(last - oldest + 1));
  check(drain(db, oldest - 1, &st) == last - oldest + 1 && st == FIRKIN_OK,
        "they are all readable");
  check(stat_u64(db, "retained_segments") >= 4, "stats: retained segments");
  firkin_close(db);
}

/* ---- updates in place, across a reopen ----
 * An update in place replaces the change it overwrites: oldest_seq counts
 * it. A clean close writes a checkpoint and the reopen skips the records
 * it covers; until 2026-11-27 oldest_seq then forgot the updates of the
 * earlier process (it read 1 again), and a cursor opened at 0 ended with
 * SNAPSHOT_TOO_OLD at the first record updated in place. The checkpoint
 * now carries each segment's bound (checkpoint version 7). */
static void test_inplace_reopen(void) {
  char path[300];
  firkin_status st = FIRKIN_OK;
  dbpath(path, sizeof path, "inplace_reopen");
  const char *opts[] = {"sync_mode", "none", "auto_compact", "false", "in_place_updates",
                        "true", NULL};
  firkin_db *db = open_db(path, opts);
  if (db == NULL) return;
  char v[32];
  for (int i = 0; i < 100; i++) {  /* 100 keys, then 10 rounds of updates */
    char k[16];
    int kl = snprintf(k, sizeof k, "k%d", i);
    for (int r = 0; r <= 10; r++) {
      snprintf(v, sizeof v, "value-%03d-%04d", r, i);
      firkin_put(db, NULL, NULL, k, (size_t)kl, v, strlen(v));
    }
  }
  check(stat_u64(db, "in_place_updates") > 0, "some puts went in place (%llu)",
        (unsigned long long)stat_u64(db, "in_place_updates"));
  uint64_t before = 0, last = 0;
  firkin_changes_oldest_seq(db, &before);
  firkin_last_seq(db, &last);
  check(before > 1, "oldest_seq counts the updates in place (%llu)",
        (unsigned long long)before);
  check(drain(db, before - 1, &st) == last - (before - 1) && st == FIRKIN_OK,
        "from there, every change (%d)", st);
  firkin_close(db);
  for (int round = 0; round < 2; round++) {  /* and again after a second reopen */
    db = open_db(path, opts);
    if (db == NULL) return;
    uint64_t after = 0;
    firkin_changes_oldest_seq(db, &after);
    check(after >= before, "after reopen %d oldest_seq is still %llu or more (%llu)", round + 1,
          (unsigned long long)before, (unsigned long long)after);
    uint64_t n = drain(db, after - 1, &st);
    check(n == last - (after - 1) && st == FIRKIN_OK,
          "after reopen %d a cursor from oldest_seq - 1 reads to the end (%llu changes, %d: %s)",
          round + 1, (unsigned long long)n, st, st == FIRKIN_OK ? "" : firkin_last_error());
    firkin_changes *c = NULL;
    check(after <= 1 || firkin_changes_open(db, 0, NULL, &c) == FIRKIN_E_SNAPSHOT_TOO_OLD,
          "after reopen %d a cursor from 0 is refused up front", round + 1);
    firkin_changes_free(c);
    firkin_close(db);
  }
}

/* ---- a compacted tail ----
 * Compaction retires the log segments of overwrites (mostly dead) and
 * keeps an older segment of unique keys (all live): the changes after it
 * are then only in compaction outputs. Until 2026-11-28 oldest_seq walked
 * back from the newest log segment left and said 1 (also after a reopen);
 * a cursor opened there delivered the 377 changes of the kept segment,
 * then ended with SNAPSHOT_TOO_OLD ("changes 378..3600 are no longer
 * retained"): found by review. Now oldest_seq names a point from which
 * every change up to last_seq is delivered, and a cursor below it is
 * refused when it is opened. */
static void test_compacted_tail(void) {
  char path[300];
  firkin_status st = FIRKIN_OK;
  dbpath(path, sizeof path, "compacted_tail");
  const char *opts[] = {"sync_mode", "none", "segment_size", "64K", "auto_compact", "false",
                        "in_place_updates", "false", NULL};
  firkin_db *db = open_db(path, opts);
  if (db == NULL) return;
  char k[16], v[128];
  for (int i = 0; i < 600; i++) {  /* unique keys, then overwrites of 10 hot ones */
    int kl = snprintf(k, sizeof k, "u%d", i);
    snprintf(v, sizeof v, "unique-%d-%090d", i, i);
    firkin_put(db, NULL, NULL, k, (size_t)kl, v, 100);
  }
  /* times between the two runs of writes and after both (time travel) */
  uint64_t t_mid = 0, t_end = 0;
  usleep(3000);
  firkin_now_ms(db, &t_mid);
  usleep(3000);
  for (int i = 0; i < 3000; i++) {
    int kl = snprintf(k, sizeof k, "h%d", i % 10);
    snprintf(v, sizeof v, "hot-%d-%090d", i, i);
    firkin_put(db, NULL, NULL, k, (size_t)kl, v, 100 + (size_t)(i & 1));
  }
  usleep(3000);
  firkin_now_ms(db, &t_end);
  usleep(3000);
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  check(stat_u64(db, "segments_retired") > 0, "compaction retired segments");
  for (int round = 0; round < 2; round++) {  /* and after a reopen */
    const char *when = round == 0 ? "after compact" : "after reopen";
    uint64_t oldest = 0, last = 0;
    firkin_changes_oldest_seq(db, &oldest);
    firkin_last_seq(db, &last);
    check(last == 3600 && oldest >= 1 && oldest <= last + 1, "%s: last %llu, oldest %llu", when,
          (unsigned long long)last, (unsigned long long)oldest);
    uint64_t n = drain(db, oldest - 1, &st);
    check(n == last - (oldest - 1) && st == FIRKIN_OK,
          "%s: a cursor from oldest_seq - 1 = %llu reads every change to %llu (%llu read, %d)",
          when, (unsigned long long)(oldest - 1), (unsigned long long)last,
          (unsigned long long)n, st);
    /* The changes of the hot keys are gone: 0 is below what is retained
     * and refused up front, not after the changes that are left. */
    firkin_changes *c = NULL;
    check(firkin_changes_open(db, 0, NULL, &c) == FIRKIN_E_SNAPSHOT_TOO_OLD && c == NULL,
          "%s: a cursor from 0 is refused when it is opened", when);
    firkin_changes_free(c);
    /* Time travel has the same gap: the state at a time after every write
     * is the latest (3600) or not known, never the kept segment's end
     * (377 until 2026-11-28); between the runs, 600 or not known. */
    const uint64_t want[2] = {600, 3600};
    const uint64_t at[2] = {t_mid, t_end};
    for (int w = 0; w < 2; w++) {
      firkin_snapshot *snap = NULL;
      const firkin_status ts = firkin_snapshot_at_time(db, at[w], &snap);
      check(ts == FIRKIN_E_SNAPSHOT_TOO_OLD ||
                (ts == FIRKIN_OK && firkin_snapshot_seq(snap) == want[w]),
            "%s: the state at a time after write %llu is %s, sequence %llu", when,
            (unsigned long long)want[w], firkin_strerror(ts),
            (unsigned long long)firkin_snapshot_seq(snap));
      firkin_snapshot_free(snap);
    }
    firkin_close(db);
    db = round == 0 ? open_db(path, opts) : NULL;
    if (round == 0 && db == NULL) return;
  }
}

/* ---- embedded_record ---- */

/* The bytes of the record of key `key` in segment 1 of the database at
 * `path` (record_layout.h); 0 if not found. */
static size_t record_bytes(const char *path, const char *key, unsigned char *out, size_t cap) {
  char file[400];
  snprintf(file, sizeof file, "%s/0000000000000001.seg", path);
  FILE *f = fopen(file, "rb");
  if (f == NULL) return 0;
  static unsigned char buf[1 << 16];
  const size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  for (size_t at = 8192; at + REC_MIN_SIZE <= n;) {
    const unsigned char *r = buf + at;
    const size_t sz = rec_record_size(r);
    if (rec_seq(r) == 0 || sz == 0 || at + sz > n) break;
    if (rec_klen(r) == strlen(key) && memcmp(rec_key(r), key, strlen(key)) == 0 && sz <= cap) {
      memcpy(out, r, sz);
      return sz;
    }
    at += sz;
  }
  return 0;
}

static void test_embedded_record(void) {
  char other[300], path[300];
  dbpath(other, sizeof other, "embedded_other");
  dbpath(path, sizeof path, "embedded");
  const char *opts[] = {"auto_compact", "false", "change_retention_seqs", "1000000", NULL};
  /* A whole record of another database (number 1), as stored bytes. */
  firkin_db *db = open_db(other, opts);
  if (db == NULL) return;
  check(firkin_put(db, NULL, NULL, "e", 1, "x", 1) == FIRKIN_OK, "put in the other database");
  firkin_close(db);
  unsigned char rec[256];
  const size_t rl = record_bytes(other, "e", rec, sizeof rec);
  check(rl > 0 && rec_seq(rec) == 1, "found the other database's record (%zu bytes)", rl);
  if (rl == 0) return;
  db = open_db(path, opts);
  if (db == NULL) return;
  char k[16];
  for (int i = 0; i < 10; i++) {
    const int kl = snprintf(k, sizeof k, "k%d", i);
    firkin_put(db, NULL, NULL, k, (size_t)kl, "v", 1);
  }
  uint64_t t_mid = 0;
  usleep(3000);
  firkin_now_ms(db, &t_mid);
  usleep(3000);
  for (int i = 10; i < 20; i++) {
    const int kl = snprintf(k, sizeof k, "k%d", i);
    firkin_put(db, NULL, NULL, k, (size_t)kl, "v", 1);
  }
  /* The value ends with the record, and the put's record ends where the
   * value does (header 36 + key + value a multiple of 8): the last record
   * of the segment ends with a valid record of number 1. */
  unsigned char val[512];
  const char *key = "blob";
  const size_t pad = (8 - (36 + strlen(key) + rl) % 8) % 8;
  memset(val, 'p', pad);
  memcpy(val + pad, rec, rl);
  check(firkin_put(db, NULL, NULL, key, strlen(key), val, pad + rl) == FIRKIN_OK, "put the blob");
  firkin_close(db);  /* the next open writes into a new segment */
  db = open_db(path, opts);
  if (db == NULL) return;
  for (int i = 0; i < 3; i++) {
    const int kl = snprintf(k, sizeof k, "n%d", i);
    firkin_put(db, NULL, NULL, k, (size_t)kl, "v", 1);
  }
  uint64_t last = 0, oldest = 0;
  firkin_last_seq(db, &last);
  firkin_changes_oldest_seq(db, &oldest);
  check(last == 24 && oldest == 1, "after a reopen: last %llu (24), oldest %llu (1)",
        (unsigned long long)last, (unsigned long long)oldest);
  firkin_status st = FIRKIN_OK;
  const uint64_t n = drain(db, 0, &st);
  check(n == 24 && st == FIRKIN_OK, "a cursor from 0 reads all 24 changes (%llu read, %s)",
        (unsigned long long)n, firkin_strerror(st));
  firkin_snapshot *snap = NULL;
  st = firkin_snapshot_at_time(db, t_mid, &snap);
  check(st == FIRKIN_OK && firkin_snapshot_seq(snap) == 10,
        "the state at a time after write 10 is %s, sequence %llu", firkin_strerror(st),
        (unsigned long long)firkin_snapshot_seq(snap));
  firkin_snapshot_free(snap);
  firkin_close(db);
}

/* ---- wait ---- */

static void *late_writer(void *p) {
  usleep(150 * 1000);
  firkin_put((firkin_db *)p, NULL, NULL, "late", 4, "v", 1);
  return NULL;
}

static void test_wait(void) {
  char path[300];
  dbpath(path, sizeof path, "wait");
  firkin_db *db = open_db(path, NULL);
  firkin_put(db, NULL, NULL, "a", 1, "1", 1);
  firkin_changes *c = NULL;
  firkin_changes_open(db, 1, NULL, &c);
  double t0 = now_ms();
  check(firkin_changes_wait(c, 200) == FIRKIN_OK && !firkin_changes_valid(c),
        "wait times out without a write");
  double took = now_ms() - t0;
  check(took >= 190 && took < 2000, "the timeout was honoured (%.0f ms)", took);
  pthread_t th;
  pthread_create(&th, NULL, late_writer, db);
  t0 = now_ms();
  check(firkin_changes_wait(c, 10000) == FIRKIN_OK && firkin_changes_valid(c) &&
            firkin_changes_seq(c) == 2,
        "wait returns with the new write");
  took = now_ms() - t0;
  check(took >= 100 && took < 5000, "woken by the write (%.0f ms, timeout 10000)", took);
  pthread_join(th, NULL);
  t0 = now_ms();
  check(firkin_changes_wait(c, 10000) == FIRKIN_OK && now_ms() - t0 < 50,
        "wait on a valid cursor returns at once");
  firkin_changes_free(c);
  firkin_close(db);
}

/* Across rolls: a write that returned is there for a cursor at the end
 * at once, also the first write of a new segment whose predecessor's seal
 * is still queued; a wait for it returns when it is published (until
 * 2026-11-27 the cursor stopped at that segment until its seal, which wakes
 * no waiter: next missed the write and wait slept its whole timeout). */
static void test_rolls(void) {
  char path[300];
  dbpath(path, sizeof path, "rolls");
  const char *kv[] = {"segment_size", "64K", "auto_compact", "false", NULL};
  firkin_db *db = open_db(path, kv);
  if (db == NULL) return;
  char val[1500];
  memset(val, 'r', sizeof val);
  firkin_put(db, NULL, NULL, "first", 5, "1", 1);
  firkin_changes *c = NULL;
  check(firkin_changes_open(db, 1, NULL, &c) == FIRKIN_OK, "open at the end");
  int missed = 0, slow = 0;
  for (int i = 0; i < 300; i++) {
    char key[32];
    snprintf(key, sizeof key, "k%d", i);
    firkin_put(db, NULL, NULL, key, strlen(key), val, sizeof val);
    uint64_t last = 0;
    firkin_last_seq(db, &last);
    if (!firkin_changes_valid(c)) firkin_changes_next(c);
    if (!firkin_changes_valid(c)) {
      missed++;
      const double t0 = now_ms();
      firkin_changes_wait(c, 2000);
      if (now_ms() - t0 > 500) slow++;
    }
    check(firkin_changes_valid(c) && firkin_changes_seq(c) == last,
          "write %d (seq %llu) is there at once", i, (unsigned long long)last);
    firkin_changes_next(c);
  }
  check(missed == 0 && slow == 0, "every write at once: %d missed, %d waits slept", missed,
        slow);
  check(stat_u64(db, "segment_rolls") >= 5, "the writes rolled segments (%llu)",
        (unsigned long long)stat_u64(db, "segment_rolls"));
  firkin_changes_free(c);
  firkin_close(db);
}

static void test_bad(void) {
  char path[300];
  dbpath(path, sizeof path, "bad");
  firkin_db *db = open_db(path, NULL);
  firkin_changes *c = NULL;
  check(firkin_changes_open(NULL, 0, NULL, &c) == FIRKIN_E_INVALID_ARGUMENT,
        "NULL db refused");
  check(firkin_changes_open(db, 0, NULL, NULL) == FIRKIN_E_INVALID_ARGUMENT,
        "NULL out refused");
  check(firkin_changes_next(NULL) == FIRKIN_E_INVALID_ARGUMENT &&
            strstr(firkin_last_error(), "NULL") != NULL,
        "next(NULL) refused with a message");
  check(firkin_changes_wait(NULL, 1) == FIRKIN_E_INVALID_ARGUMENT, "wait(NULL)");
  check(firkin_changes_status(NULL) == FIRKIN_E_INVALID_ARGUMENT, "status(NULL)");
  check(!firkin_changes_valid(NULL) && firkin_changes_type(NULL) == 0 &&
            firkin_changes_seq(NULL) == 0 && firkin_changes_namespace(NULL) == NULL,
        "accessors on NULL");
  const void *p;
  size_t n;
  check(firkin_changes_key(NULL, &p, &n) == FIRKIN_E_INVALID_ARGUMENT, "key(NULL)");
  firkin_changes_free(NULL);
  check(firkin_changes_open(db, 0, NULL, &c) == FIRKIN_OK, "open on an empty database");
  check(!firkin_changes_valid(c) && firkin_changes_key(c, &p, &n) == FIRKIN_E_NOT_FOUND &&
            firkin_changes_value(c, &p, &n) == FIRKIN_E_NOT_FOUND,
        "an empty feed: not valid, accessors NOT_FOUND");
  check(firkin_changes_key(c, NULL, &n) == FIRKIN_E_INVALID_ARGUMENT, "key NULL out");
  size_t used, count;
  check(firkin_changes_next_n(c, NULL, 10, &used, &count) == FIRKIN_E_INVALID_ARGUMENT,
        "next_n NULL buffer with a length");
  check(firkin_changes_next_n(c, NULL, 0, NULL, &count) == FIRKIN_E_INVALID_ARGUMENT,
        "next_n NULL used");
  firkin_changes_free(c);
  firkin_changes_options *o = NULL;
  bool v = true;
  check(firkin_changes_options_new(NULL) == FIRKIN_E_INVALID_ARGUMENT, "options_new(NULL)");
  check(firkin_changes_options_new(&o) == FIRKIN_OK &&
            firkin_changes_options_get_batch_markers(o, &v) == FIRKIN_OK && v,
        "batch markers default on");
  check(firkin_changes_options_set_batch_markers(o, false) == FIRKIN_OK &&
            firkin_changes_options_get_batch_markers(o, &v) == FIRKIN_OK && !v,
        "batch markers off");
  check(firkin_changes_options_set_batch_markers(NULL, true) == FIRKIN_E_INVALID_ARGUMENT &&
            firkin_changes_options_get_batch_markers(o, NULL) == FIRKIN_E_INVALID_ARGUMENT,
        "options NULLs");
  firkin_changes_options_free(o);
  firkin_changes_options_free(NULL);
  uint64_t u = 0;
  check(firkin_changes_oldest_seq(NULL, &u) == FIRKIN_E_INVALID_ARGUMENT &&
            firkin_changes_oldest_seq(db, NULL) == FIRKIN_E_INVALID_ARGUMENT,
        "oldest_seq NULLs");
  firkin_options *fo = NULL;
  firkin_options_new(&fo);
  check(firkin_options_set_change_retention_seqs(fo, 42) == FIRKIN_OK &&
            firkin_options_get_change_retention_seqs(fo, &u) == FIRKIN_OK && u == 42,
        "change_retention_seqs setter/getter");
  check(firkin_options_set_change_retention_bytes(fo, 1 << 20) == FIRKIN_OK &&
            firkin_options_get_change_retention_bytes(fo, &u) == FIRKIN_OK && u == 1 << 20,
        "change_retention_bytes setter/getter");
  check(firkin_options_set(fo, "change_retention_bytes", "lots") == FIRKIN_E_INVALID_ARGUMENT,
        "a bad retention value is refused");
  firkin_options_free(fo);
  /* The cursor keeps the database alive after close. */
  firkin_put(db, NULL, NULL, "x", 1, "y", 1);
  check(firkin_changes_open(db, 0, NULL, &c) == FIRKIN_OK, "open before close");
  firkin_close(db);
  check(firkin_changes_valid(c) && firkin_changes_seq(c) == 1, "usable after firkin_close");
  firkin_changes_free(c);
}

int main(int argc, char **argv) {
  snprintf(base_dir, sizeof base_dir, "/tmp/firkin_changes_test.%d", (int)getpid());
  rmrf(base_dir);
  mkdir(base_dir, 0755);
  struct {
    const char *name;
    void (*fn)(void);
  } groups[] = {{"basic", test_basic},         {"resume", test_resume},
                {"concurrent", test_concurrent}, {"retention", test_retention},
                {"wait", test_wait},           {"bad", test_bad},
                {"rolls", test_rolls},         {"inplace_reopen", test_inplace_reopen},
                {"compacted_tail", test_compacted_tail},
                {"embedded_record", test_embedded_record}};
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) group_known(groups[g].name);
  const bool bad_args = group_args_unknown(argc, argv) != 0;
  if (bad_args) failed++;
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
    if (bad_args || !group_wanted(argc, argv, groups[g].name)) continue;
    int f0 = failed;
    groups[g].fn();
    printf("%s: %s\n", groups[g].name, failed == f0 ? "ok" : "FAILED");
  }
  rmrf(base_dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
