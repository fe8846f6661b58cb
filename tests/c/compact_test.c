/*
 * compact_test — compaction seen from the writer's side:
 *   (a) firkin_compact right after a burst of writes reclaims every dead
 *       byte, also in the full segments whose seal the roll queued for the
 *       writeback thread (they were passed over while still unsealed: a
 *       compaction called at once left their dead bytes in place);
 *   (b) backpressure never stops writes for good: with a snapshot open,
 *       compaction can reclaim nothing the snapshot sees, and a log far
 *       over its stall limit still takes every write, each waiting at most
 *       about a second (Compactor::WaitWhileStalled);
 *   (c) write_stall_factor 0 turns backpressure off: the same writes as
 *       (b), which stall with the default, never wait;
 *   (d) after compaction every sealed segment's live and dead bytes add up
 *       to its record bytes (namespace records included);
 *   (e) a queue of unique keys (each put, then deleted) beside cold data
 *       that never changes: the tombstones go once their puts have gone,
 *       the log stays the size of the cold data, and after a reopen
 *       without the checkpoint (every record replayed) no deleted key is
 *       back and every cold key is there (the cold segments' key filters
 *       tell that they hold none of the queue's keys; until 2026-11-27 one
 *       tombstone per job stayed for good);
 *   (f) a namespace dropped and created again under the same name, with
 *       compaction between: after a reopen without the checkpoint the name
 *       is the newest namespace's, with its keys (recovery replays a
 *       compaction output, holding an older create record, after the log
 *       segment that dropped it and created the newer one; until 2026-11-27
 *       the older one took the name back and the keys read as "no such
 *       namespace");
 *   (g) a key filter is proof that a segment lacks a key only if every
 *       record of it passed its checksum: damage after the segment was
 *       written (a length that swallows the next record) makes its filter
 *       "cannot tell", so the tombstone of the swallowed key stays and a
 *       salvage open does not bring the key back (found by review);
 *   (h) firkin_compact returns while writers keep writing (it compacts what
 *       is there when called; it went on for good beside them, and then
 *       waited 20-40 s for the background loop, which took the pass lock
 *       back again and again; over 60 s under ASan in CI); the time the
 *       three calls took is printed;
 *   (i) compaction checks every checksum of its inputs, also in segments
 *       this process wrote: damage since (a length that swallows a
 *       tombstone and a live put) fails the pass and leaves the segment,
 *       so a salvage open neither brings the deleted key back nor loses
 *       the live one; reads of the damaged record say corruption, and
 *       background compaction goes on with the rest of the log (until
 *       2026-11-27 the pass walked over it and retired the segment);
 *   (j) namespaces created and dropped while compaction drops expired puts
 *       (each looked up by its namespace id): under ThreadSanitizer (make
 *       test-tsan) the pass read the namespace table unlocked while
 *       firkin_ns_create grew it (found by review).
 *   (k) the tombstone sweep reads a segment without tombstones and
 *       expiring puts once: firkin_compact on a log of puts only scans the
 *       oldest segment for what it could drop the first time, not again
 *       (stats "sweep_bytes_read"; until 2026-11-29 every call, and every
 *       background round after a segment retired, read it again, every
 *       checksum checked: under YCSB A, in a callgrind profile, 92% of the
 *       compaction thread's instructions and 24% of the process's).
 * Ends with "N passed, N failed".
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_harness.h"
#include "record_layout.h"

#define SEGMENT (1u << 20)
#define VALUE 1000

static firkin_db *open_db_stall(const char *name, bool auto_compact, uint64_t segment,
                                const char *stall_factor) {
  char path[512];
  firkin_options *o = NULL;
  firkin_db *db = NULL;
  dbpath(path, sizeof path, name);
  firkin_options_new(&o);
  firkin_options_set_sync_mode(o, FIRKIN_SYNC_NONE);
  firkin_options_set_segment_size(o, segment);
  firkin_options_set_auto_compact(o, auto_compact);
  if (stall_factor != NULL) {
    check(firkin_options_set(o, "write_stall_factor", stall_factor) == FIRKIN_OK,
          "%s: write_stall_factor %s", name, stall_factor);
  }
  check(firkin_open(path, o, &db) == FIRKIN_OK, "%s: open", name);
  firkin_options_free(o);
  return db;
}

static firkin_db *open_db(const char *name, bool auto_compact, uint64_t segment) {
  return open_db_stall(name, auto_compact, segment, NULL);
}

/* `n` puts over `keys` keys, values of VALUE bytes; returns how many failed. */
static int churn(firkin_db *db, int n, int keys) {
  char key[32], val[VALUE];
  int bad = 0;
  for (int i = 0; i < n; i++) {
    int kl = snprintf(key, sizeof key, "key%06d", i % keys);
    memset(val, 'a' + i % 26, sizeof val);
    if (firkin_put(db, NULL, NULL, key, (size_t)kl, val, sizeof val) != FIRKIN_OK) bad++;
  }
  return bad;
}

static void test_compact_after_burst(void) {
  for (int trial = 0; trial < 10; trial++) {
    firkin_db *db = open_db("burst", false, 16u << 20);
    if (db == NULL) return;
    /* Every key of 12000 written twice (25 MB, 16 MiB segments): the full
     * segment holds the dead first versions (its seal, an fdatasync of
     * 16 MiB, was queued for the writeback thread as the roll went by);
     * the active one holds second versions only, so the compaction has no
     * reason of its own to seal it (which would seal the queued one too). */
    check(churn(db, 24000, 12000) == 0, "burst %d: puts", trial);
    check(firkin_compact(db) == FIRKIN_OK, "burst %d: compact", trial);
    const uint64_t dead = stat_u64(db, "dead_bytes");
    check(dead == 0, "burst %d: %llu dead bytes left by a compaction right after the writes "
          "(%llu segments)", trial, (unsigned long long)dead,
          (unsigned long long)stat_u64(db, "segment_count"));
    firkin_close(db);
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads 1000 keys, opens a snapshot, then writes 40 MB of updates (the
 * stall limit is 16 segments, 16 MB; every version the snapshot sees
 * stays). Returns the writes that waited (*stall_us: how long in all). */
static uint64_t pinned_updates(const char *name, const char *stall_factor, uint64_t *stall_us) {
  firkin_db *db = open_db_stall(name, true, SEGMENT, stall_factor);
  firkin_snapshot *snap = NULL;
  *stall_us = 0;
  if (db == NULL) return 0;
  check(churn(db, 1000, 1000) == 0, "%s: load", name);
  check(firkin_snapshot_new(db, &snap) == FIRKIN_OK, "%s: snapshot", name);
  const double t0 = now_s();
  check(churn(db, 40000, 1000) == 0, "%s: updates with a snapshot open", name);
  const double took = now_s() - t0;
  const uint64_t stalls = stat_u64(db, "write_stalls");
  *stall_us = stat_u64(db, "write_stall_us");
  printf("%s: 40000 updates in %.2f s; %llu writes waited, %.1f ms in all; log %llu bytes\n",
         name, took, (unsigned long long)stalls, (double)*stall_us / 1000.0,
         (unsigned long long)stat_u64(db, "log_bytes"));
  char v[VALUE];
  size_t len = 0;
  check(firkin_get_into(db, snap, NULL, "key000007", 9, v, sizeof v, &len) == FIRKIN_OK &&
            len == VALUE && v[0] == 'a' + 7 % 26,
        "%s: the snapshot still reads the version it saw", name);
  firkin_snapshot_free(snap);
  firkin_close(db);
  return stalls;
}

static void test_stall_with_snapshot(void) {
  uint64_t stall_us = 0;
  const uint64_t stalls = pinned_updates("pinned", NULL, &stall_us);
  /* Each stalled write waits at most a second, and a compactor that can
   * free nothing stops stalling writes: a few seconds at most, never one
   * second per write. */
  check(stall_us < 10u * 1000 * 1000, "pinned: writes waited %.1f s in all for a compactor that "
        "could reclaim nothing", (double)stall_us / 1e6);
  /* The same writes with backpressure off: none waits. (Only telling when
   * some waited with the default, which they do: up to the first passes
   * the dead bytes look reclaimable.) */
  uint64_t off_us = 0;
  const uint64_t off = pinned_updates("pinned-nostall", "0", &off_us);
  check(stalls > 0, "pinned: no write waited with the default write_stall_factor, so the "
        "check of write_stall_factor 0 below tells nothing");
  check(off == 0 && off_us == 0, "pinned-nostall: %llu writes waited (%llu us) with "
        "write_stall_factor 0", (unsigned long long)off, (unsigned long long)off_us);
}

/* Every sealed segment's live and dead bytes add up to its record bytes
 * (firkin_stats "segments"); returns how many do not. */
static int unaccounted(firkin_db *db, const char *what) {
  char *j = NULL;
  int bad = 0;
  if (firkin_stats(db, &j) != FIRKIN_OK) return 1;
  const char *p = strstr(j, "\"segments\":[");
  while (p != NULL && (p = strstr(p, "{\"id\":")) != NULL) {
    unsigned long long id = 0, bytes = 0, live = 0, dead = 0;
    const char *b = strstr(p, "\"bytes\":"), *l = strstr(p, "\"live_bytes\":"),
               *d = strstr(p, "\"dead_bytes\":"), *sealed = strstr(p, "\"sealed\":");
    if (!b || !l || !d || !sealed) break;
    sscanf(p, "{\"id\":%llu", &id);
    sscanf(b, "\"bytes\":%llu", &bytes);
    sscanf(l, "\"live_bytes\":%llu", &live);
    sscanf(d, "\"dead_bytes\":%llu", &dead);
    if (strncmp(sealed, "\"sealed\":true", 13) == 0 && live + dead != bytes - 8192) {
      printf("  %s: segment %llu: %llu live + %llu dead of %llu record bytes\n", what, id, live,
             dead, bytes - 8192);
      bad++;
    }
    p = sealed;
    if (strchr(p, ']') != NULL && strchr(p, '{') != NULL && strchr(p, ']') < strchr(p, '{')) break;
  }
  firkin_free(j);
  return bad;
}

/* (d) Namespace records a compaction output keeps (no index entry stands
 * for them) are counted live, as the replay counts them: until 2026-11-27
 * an output counted them neither live nor dead. */
static void test_accounting(void) {
  firkin_db *db = open_db("accounting", false, 64 << 10);
  if (db == NULL) return;
  firkin_ns *a = NULL, *b = NULL;
  check(firkin_ns_create(db, "a", &a) == FIRKIN_OK, "ns a");
  check(firkin_put(db, NULL, a, "x", 1, "1", 1) == FIRKIN_OK, "put in a");
  firkin_ns_close(a);
  check(firkin_ns_drop(db, "a") == FIRKIN_OK, "drop a");
  check(firkin_ns_create(db, "b", &b) == FIRKIN_OK, "ns b");
  for (int i = 0; i < 20; i++) {
    char k[16];
    int kl = snprintf(k, sizeof k, "k%d", i % 5);
    check(firkin_put(db, NULL, b, k, (size_t)kl, "vvvv", 1 + i % 3) == FIRKIN_OK, "put in b");
  }
  firkin_ns_close(b);
  check(churn(db, 400, 50) == 0, "churn");
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  check(unaccounted(db, "after compaction") == 0, "every byte of every segment counted");
  firkin_close(db);
}

/* Opens the database at path again after removing its checkpoint (every
 * record replayed), without background compaction; NULL if it fails.
 * (open_db would empty the directory.) */
static firkin_db *reopen_without_checkpoint(const char *path, const char *what) {
  char ck[600];
  snprintf(ck, sizeof ck, "%s/CHECKPOINT", path);
  unlink(ck);
  firkin_db *db = NULL;
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_auto_compact(o, false);
  check(firkin_open(path, o, &db) == FIRKIN_OK, "%s: reopen without the checkpoint", what);
  firkin_options_free(o);
  return db;
}

static void test_queue(void) {
  char path[512];
  dbpath(path, sizeof path, "queue");
  firkin_db *db = open_db("queue", true, 256u << 10);
  if (db == NULL) return;
  char key[32], val[200];
  memset(val, 'c', sizeof val);
  int bad = 0;
  for (int i = 0; i < 3000; i++) {
    const int kl = snprintf(key, sizeof key, "cold%d", i);
    bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, sizeof val) != FIRKIN_OK;
  }
  long id = 0;
  for (int round = 0; round < 60; round++) {
    for (int i = 0; i < 1000; i++) {
      const int kl = snprintf(key, sizeof key, "job%ld", id + i);
      bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, 100) != FIRKIN_OK;
    }
    for (int i = 0; i < 1000; i++) {
      const int kl = snprintf(key, sizeof key, "job%ld", id + i);
      bad += firkin_delete(db, NULL, NULL, key, (size_t)kl) != FIRKIN_OK;
    }
    id += 1000;
    if (round % 20 == 19) bad += firkin_compact(db) != FIRKIN_OK;
  }
  check(bad == 0, "queue: every write and compaction ran (%d failed)", bad);
  /* 3000 cold records of about 250 bytes: 0.75 MB; 60,000 tombstones kept
   * would be 3.4 MB more. */
  const uint64_t log = stat_u64(db, "log_bytes");
  check(log < 1200u * 1024, "queue: the log is the cold data's size (%llu bytes)",
        (unsigned long long)log);
  check(stat_u64(db, "key_filters_built") > 0 && stat_u64(db, "key_filter_bytes") > 0 &&
            stat_u64(db, "key_filter_bytes") < 64u * 1024,
        "queue: the cold segments' key filters were built (%llu, %llu bytes)",
        (unsigned long long)stat_u64(db, "key_filters_built"),
        (unsigned long long)stat_u64(db, "key_filter_bytes"));
  firkin_close(db);
  db = reopen_without_checkpoint(path, "queue");
  if (db == NULL) return;
  int back = 0, lost = 0;
  for (long j = 0; j < id; j += 7) {
    const int kl = snprintf(key, sizeof key, "job%ld", j);
    bool found = false;
    firkin_contains(db, NULL, NULL, key, (size_t)kl, &found);
    back += found;
  }
  for (int i = 0; i < 3000; i++) {
    const int kl = snprintf(key, sizeof key, "cold%d", i);
    bool found = false;
    firkin_contains(db, NULL, NULL, key, (size_t)kl, &found);
    lost += !found;
  }
  uint64_t n = 0;
  firkin_count(db, NULL, &n);
  check(back == 0 && lost == 0 && n == 3000,
        "queue: after a reopen without the checkpoint, %d deleted keys back, %d cold keys lost, "
        "%llu keys",
        back, lost, (unsigned long long)n);
  firkin_close(db);
}

static void test_ns_recreate(void) {
  for (int rounds = 2; rounds <= 9; rounds++) {
    char name[32], path[512];
    snprintf(name, sizeof name, "nsre%d", rounds);
    dbpath(path, sizeof path, name);
    firkin_db *db = open_db(name, false, 64u << 10);
    if (db == NULL) return;
    firkin_ns *a = NULL;
    char key[32], val[100];
    memset(val, 'x', sizeof val);
    int bad = firkin_ns_open(db, "a", true, &a) != FIRKIN_OK;
    for (int r = 0; r < rounds && !bad; r++) {
      for (int i = 0; i < 50; i++) {
        const int kl = snprintf(key, sizeof key, "key%d", i);
        bad += firkin_put(db, NULL, a, key, (size_t)kl, val, sizeof val) != FIRKIN_OK;
      }
      for (int i = 0; i < 200; i++) {
        const int kl = snprintf(key, sizeof key, "filler%d", i);
        bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, sizeof val) != FIRKIN_OK;
      }
      firkin_ns_close(a);
      bad += firkin_ns_drop(db, "a") != FIRKIN_OK;
      bad += firkin_ns_open(db, "a", true, &a) != FIRKIN_OK;
      if (r % 3 == 2) bad += firkin_compact(db) != FIRKIN_OK;
    }
    for (int i = 0; i < 10; i++) {
      const int kl = snprintf(key, sizeof key, "key%d", i);
      bad += firkin_put(db, NULL, a, key, (size_t)kl, "new", 3) != FIRKIN_OK;
    }
    firkin_ns_close(a);
    firkin_close(db);
    check(bad == 0, "%s: the writes ran", name);
    db = reopen_without_checkpoint(path, name);
    if (db == NULL) return;
    a = NULL;
    int lost = 0, back = 0;
    check(firkin_ns_open(db, "a", false, &a) == FIRKIN_OK, "%s: namespace a is there", name);
    for (int i = 0; a != NULL && i < 50; i++) {
      const int kl = snprintf(key, sizeof key, "key%d", i);
      void *v = NULL;
      size_t vl = 0;
      const firkin_status g = firkin_get(db, NULL, a, key, (size_t)kl, &v, &vl);
      if (i < 10) lost += g != FIRKIN_OK || vl != 3 || memcmp(v, "new", 3) != 0;
      if (i >= 10) back += g != FIRKIN_E_NOT_FOUND;
      firkin_free(v);
    }
    check(lost == 0 && back == 0,
          "%s: after a reopen without the checkpoint, %d of 10 keys of the newest a lost, %d "
          "keys of older ones back (%s)",
          name, lost, back, firkin_last_error());
    firkin_ns_close(a);
    firkin_close(db);
  }
}

static firkin_db *open_damage(const char *path, bool salvage) {
  firkin_options *o = NULL;
  firkin_db *db = NULL;
  firkin_options_new(&o);
  firkin_options_set_sync_mode(o, FIRKIN_SYNC_NONE);
  firkin_options_set_auto_compact(o, true);
  firkin_options_set_compact_dead_ratio(o, 40);
  firkin_options_set_segment_size(o, 65536);
  firkin_options_set_salvage(o, salvage);
  if (firkin_open(path, o, &db) != FIRKIN_OK) db = NULL;
  firkin_options_free(o);
  return db;
}

static void test_damaged_filter(void) {
  char path[512], seg[600], ck[600];
  dbpath(path, sizeof path, "damaged-filter");
  firkin_db *db = open_damage(path, false);
  check(db != NULL, "damaged filter: open");
  if (db == NULL) return;
  char key[32], val[200];
  memset(val, 'c', sizeof val);
  /* Segment 1 starts with a0, then victim's first version, then cold data
   * (live: background compaction leaves it alone at a 40% dead ratio). */
  int bad = firkin_put(db, NULL, NULL, "a0", 2, val, 100) != FIRKIN_OK;
  bad += firkin_put(db, NULL, NULL, "victim", 6, "old", 3) != FIRKIN_OK;
  for (int i = 0; i < 600; i++) {
    const int kl = snprintf(key, sizeof key, "cold%04d", i);
    bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, sizeof val) != FIRKIN_OK;
  }
  bad += firkin_delete(db, NULL, NULL, "victim", 6) != FIRKIN_OK;
  memset(val, 'h', sizeof val);
  for (int i = 0; i < 2000; i++) {
    const int kl = snprintf(key, sizeof key, "hot%03d", i % 200);
    bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, (size_t)(100 + i % 3)) != FIRKIN_OK;
  }
  bad += firkin_sync(db) != FIRKIN_OK;
  /* a0's value length made to swallow victim's record (record_layout.h). */
  snprintf(seg, sizeof seg, "%s/0000000000000001.seg", path);
  FILE *f = fopen(seg, "r+b");
  unsigned char h[2][64];
  bool patched = false;
  if (f != NULL && fseek(f, 8192, SEEK_SET) == 0 && fread(h[0], 1, 64, f) == 64) {
    const size_t first = rec_record_size(h[0]);
    if (fseek(f, (long)(8192 + first), SEEK_SET) == 0 && fread(h[1], 1, 64, f) == 64 &&
        rec_klen(h[1]) == 6 && memcmp(rec_key(h[1]), "victim", 6) == 0) {
      const uint32_t vlen = rec_vlen(h[0]) + (uint32_t)rec_record_size(h[1]);
      patched = fseek(f, 8192 + 28, SEEK_SET) == 0 && fwrite(&vlen, 4, 1, f) == 1;
    }
  }
  if (f != NULL) fclose(f);
  check(patched, "damaged filter: segment 1 patched");
  /* Overwrites until background compaction has worked on the segments
   * after segment 1 (the tombstone's among them): up to 10 s. */
  for (int round = 0; round < 100 && stat_u64(db, "key_filters_built") == 0; round++) {
    for (int i = 0; i < 600; i++) {
      const int kl = snprintf(key, sizeof key, "hot%03d", i % 200);
      bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, (size_t)(100 + i % 3)) != FIRKIN_OK;
    }
    usleep(100000);
  }
  check(bad == 0, "damaged filter: the writes ran");
  check(stat_u64(db, "key_filters_built") > 0,
        "damaged filter: compaction asked a filter about the tombstone (the test's premise)");
  firkin_close(db);
  snprintf(ck, sizeof ck, "%s/CHECKPOINT", path);
  unlink(ck);
  db = open_damage(path, false);
  check(db == NULL, "damaged filter: a plain open finds the damage");
  if (db != NULL) firkin_close(db);
  db = open_damage(path, true);
  check(db != NULL, "damaged filter: a salvage open");
  if (db == NULL) return;
  void *v = NULL;
  size_t vl = 0;
  const firkin_status g = firkin_get(db, NULL, NULL, "victim", 6, &v, &vl);
  check(g == FIRKIN_E_NOT_FOUND, "damaged filter: the deleted key stays deleted (got %d, %.*s)", g,
        (int)vl, v != NULL ? (const char *)v : "");
  firkin_free(v);
  firkin_close(db);
}

/* The segment file of `path` holding the put of key `k` (the first met,
 * in id order) and the record's offset there; false if none. Walks each
 * file's records from its header on (record_layout.h). */
static bool find_put(const char *path, const char *k, char *file, size_t cap, long *off) {
  const size_t kl = strlen(k);
  for (int id = 1; id < 256; id++) {
    snprintf(file, cap, "%s/%016x.seg", path, (unsigned)id);
    FILE *f = fopen(file, "rb");
    if (f == NULL) continue;
    unsigned char h[64];
    long at = 8192;
    while (fseek(f, at, SEEK_SET) == 0 && fread(h, 1, sizeof h, f) == sizeof h &&
           rec_seq(h) != 0) {
      if (rec_type(h) == 1 && rec_klen(h) == kl && memcmp(rec_key(h), k, kl) == 0) {
        fclose(f);
        *off = at;
        return true;
      }
      at += (long)rec_record_size(h);
    }
    fclose(f);
  }
  return false;
}

/* (i) Compaction scans its inputs with every checksum checked, also in a
 * segment this process wrote (known intact to reads): damage since (the
 * length of a superseded version made to swallow the next two records)
 * is damage to the pass too, which fails and leaves the segment as it is.
 * Without the check (until 2026-11-27) the pass walked over the damaged
 * record as if it were whole: the records it swallowed, a tombstone and a
 * live put, were neither kept nor dropped, the segment was retired, and a
 * salvage open brought the deleted key back and lost the live one. */
static void test_damaged_input(void) {
  char path[512], seg[600], ck[600];
  dbpath(path, sizeof path, "damaged-input");
  firkin_db *db = open_damage(path, false);
  check(db != NULL, "damaged input: open");
  if (db == NULL) return;
  char key[32], val[200];
  memset(val, 'c', sizeof val);
  /* victim's first version and cold data (live: left alone). */
  int bad = firkin_put(db, NULL, NULL, "victim", 6, "old", 3) != FIRKIN_OK;
  for (int i = 0; i < 600; i++) {
    const int kl = snprintf(key, sizeof key, "cold%04d", i);
    bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, sizeof val) != FIRKIN_OK;
  }
  /* Then, one after the other in a later segment: a0's first version,
   * victim's tombstone, keeper; then hot keys that fill it and are
   * overwritten (it becomes worth compacting), and a0 again (its first
   * version is dead: a pass drops it, it copies nothing of it). */
  bad += firkin_put(db, NULL, NULL, "a0", 2, val, 100) != FIRKIN_OK;
  bad += firkin_delete(db, NULL, NULL, "victim", 6) != FIRKIN_OK;
  bad += firkin_put(db, NULL, NULL, "keeper", 6, "kept", 4) != FIRKIN_OK;
  memset(val, 'h', sizeof val);
  for (int i = 0; i < 2000; i++) {
    const int kl = snprintf(key, sizeof key, "hot%03d", i % 200);
    bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, (size_t)(100 + i % 3)) != FIRKIN_OK;
  }
  bad += firkin_put(db, NULL, NULL, "a0", 2, "new", 3) != FIRKIN_OK;
  bad += firkin_sync(db) != FIRKIN_OK;
  /* a0's first version's value length made to swallow the tombstone and
   * keeper (the file is mapped shared: the writer's mapping sees it). */
  long off = 0;
  bool patched = false;
  if (find_put(path, "a0", seg, sizeof seg, &off)) {
    FILE *f = fopen(seg, "r+b");
    unsigned char h[3][64];
    if (f != NULL && fseek(f, off, SEEK_SET) == 0 && fread(h[0], 1, 64, f) == 64) {
      const long second = off + (long)rec_record_size(h[0]);
      if (fseek(f, second, SEEK_SET) == 0 && fread(h[1], 1, 64, f) == 64 && rec_type(h[1]) == 2 &&
          rec_klen(h[1]) == 6 && memcmp(rec_key(h[1]), "victim", 6) == 0) {
        const long third = second + (long)rec_record_size(h[1]);
        if (fseek(f, third, SEEK_SET) == 0 && fread(h[2], 1, 64, f) == 64 &&
            rec_klen(h[2]) == 6 && memcmp(rec_key(h[2]), "keeper", 6) == 0) {
          const uint32_t vlen =
              rec_vlen(h[0]) + (uint32_t)(rec_record_size(h[1]) + rec_record_size(h[2]));
          patched = fseek(f, off + 28, SEEK_SET) == 0 && fwrite(&vlen, 4, 1, f) == 1;
        }
      }
    }
    if (f != NULL) fclose(f);
  }
  check(patched, "damaged input: a0 patched to swallow the next two records");
  /* Overwrites until background compaction has taken that segment as an
   * input: its file retired, or a pass failed on it (up to 10 s). */
  bool gone = false;
  for (int round = 0; patched && round < 100; round++) {
    gone = access(seg, F_OK) != 0;
    if (gone || stat_u64(db, "failures") > 0) break;
    for (int i = 0; i < 600; i++) {
      const int kl = snprintf(key, sizeof key, "hot%03d", i % 200);
      bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, (size_t)(100 + i % 3)) != FIRKIN_OK;
    }
    usleep(100000);
  }
  check(bad == 0, "damaged input: the writes ran");
  check(!gone && stat_u64(db, "failures") > 0,
        "damaged input: compaction took the damage for damage (its segment %s, %llu failed "
        "passes)",
        gone ? "retired" : "kept", (unsigned long long)stat_u64(db, "failures"));
  {
    /* Background passes leave the damaged segment alone and go on with the
     * rest of the log (up to 10 s of overwrites). */
    const uint64_t retired = stat_u64(db, "segments_retired");
    for (int round = 0; round < 100 && stat_u64(db, "segments_retired") == retired; round++) {
      for (int i = 0; i < 600; i++) {
        const int kl = snprintf(key, sizeof key, "hot%03d", i % 200);
        bad += firkin_put(db, NULL, NULL, key, (size_t)kl, val, (size_t)(100 + i % 3)) !=
               FIRKIN_OK;
      }
      usleep(100000);
    }
    check(bad == 0 && stat_u64(db, "segments_retired") > retired &&
              stat_u64(db, "failures") == 1 && access(seg, F_OK) == 0,
          "damaged input: background compaction goes on without it (%llu failed passes)",
          (unsigned long long)stat_u64(db, "failures"));
  }
  {
    /* Reads no longer trust the segment: the damaged version is reported
     * by a walk of a0's history, not returned. */
    firkin_history *h = NULL;
    firkin_status g = firkin_history_new(db, NULL, "a0", 2, &h);
    int versions = 0;
    for (; g == FIRKIN_OK && firkin_history_valid(h); firkin_history_next(h)) versions++;
    firkin_history_free(h);
    check(g == FIRKIN_E_CORRUPTION,
          "damaged input: once compaction found it, a0's damaged version is reported by its "
          "history (got %d, %d versions)",
          g, versions);
  }
  firkin_close(db);
  snprintf(ck, sizeof ck, "%s/CHECKPOINT", path);
  unlink(ck);
  db = open_damage(path, false);
  check(db == NULL, "damaged input: a plain open finds the damage");
  if (db != NULL) firkin_close(db);
  db = open_damage(path, true);
  check(db != NULL, "damaged input: a salvage open");
  if (db == NULL) return;
  void *v = NULL;
  size_t vl = 0;
  firkin_status g = firkin_get(db, NULL, NULL, "victim", 6, &v, &vl);
  check(g == FIRKIN_E_NOT_FOUND, "damaged input: the deleted key stays deleted (got %d, %.*s)", g,
        (int)vl, v != NULL ? (const char *)v : "");
  firkin_free(v);
  v = NULL;
  vl = 0;
  g = firkin_get(db, NULL, NULL, "keeper", 6, &v, &vl);
  check(g == FIRKIN_OK && vl == 4 && memcmp(v, "kept", 4) == 0,
        "damaged input: the live key is kept (got %d)", g);
  firkin_free(v);
  firkin_close(db);
}

struct writer_arg {
  firkin_db *db;
  int id;
  volatile int *stop;
  int bad;
};

static void *keep_writing(void *p) {
  struct writer_arg *w = p;
  char key[32], val[300];
  memset(val, 'w', sizeof val);
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; !__atomic_load_n(w->stop, __ATOMIC_ACQUIRE); i++) {
    if ((i & 1023) == 0) {  /* 60 s at most, then they stop on their own */
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec - t0.tv_sec >= 60) {
        __atomic_store_n(w->stop, 1, __ATOMIC_RELEASE);
        break;
      }
    }
    const int kl = snprintf(key, sizeof key, "w%d-%ld", w->id, i % 500);
    w->bad += firkin_put(w->db, NULL, NULL, key, (size_t)kl, val, sizeof val) != FIRKIN_OK;
  }
  return NULL;
}

static void test_compact_beside_writers(void) {
  firkin_db *db = open_db("beside", true, 64u << 10);
  if (db == NULL) return;
  volatile int stop = 0;
  struct writer_arg w[2] = {{db, 0, &stop, 0}, {db, 1, &stop, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, keep_writing, &w[i]);
  usleep(300000);
  /* The writers stop on their own after 60 s at the latest; compaction
   * must have returned well before that (it takes well under a second on
   * two cores: 20 s leaves room for a loaded machine and ASan). */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  volatile int done = 0;
  firkin_status s = FIRKIN_OK;
  for (int round = 0; round < 3; round++) s = s == FIRKIN_OK ? firkin_compact(db) : s;
  done = 1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const int still_writing = !__atomic_load_n(&stop, __ATOMIC_ACQUIRE);
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  const double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("beside: three compactions beside two writers took %.2f s\n", took);
  check(s == FIRKIN_OK && done && still_writing && took < 20 && w[0].bad + w[1].bad == 0,
        "beside writers: three firkin_compact calls returned within 20 s while the writers were "
        "still writing (%.1f s)",
        took);
  firkin_close(db);
}

/* (j): three threads for about a second; every call must succeed, and the
 * TSan build (make test-tsan runs compact_test) must report nothing. */
struct ns_race_arg {
  firkin_db *db;
  volatile int *stop;
  int bad;
};

static void *ttl_puts(void *p) {
  struct ns_race_arg *a = p;
  char key[16], val[64];
  memset(val, 'x', sizeof val);
  for (unsigned i = 0; !__atomic_load_n(a->stop, __ATOMIC_ACQUIRE); i++) {
    const int kl = snprintf(key, sizeof key, "t%u", (i * 2654435761u) % 5000);
    a->bad += firkin_put_ttl(a->db, NULL, NULL, key, (size_t)kl, val, sizeof val, 1 + i % 5) !=
              FIRKIN_OK;
  }
  return NULL;
}

static void *compacts(void *p) {
  struct ns_race_arg *a = p;
  while (!__atomic_load_n(a->stop, __ATOMIC_ACQUIRE)) {
    a->bad += firkin_compact(a->db) != FIRKIN_OK;
    usleep(500);
  }
  return NULL;
}

static void *ns_churn(void *p) {
  struct ns_race_arg *a = p;
  char name[32];
  for (int i = 0; !__atomic_load_n(a->stop, __ATOMIC_ACQUIRE); i++) {
    snprintf(name, sizeof name, "ns%d", i);
    firkin_ns *ns = NULL;
    if (firkin_ns_create(a->db, name, &ns) != FIRKIN_OK) {
      a->bad++;
      continue;
    }
    a->bad += firkin_put(a->db, NULL, ns, "a", 1, "b", 1) != FIRKIN_OK;
    firkin_ns_close(ns);
    a->bad += firkin_ns_drop(a->db, name) != FIRKIN_OK;
  }
  return NULL;
}

static void test_ns_beside_ttl_compaction(void) {
  firkin_db *db = open_db("ns_ttl", true, 64u << 10);
  if (db == NULL) return;
  volatile int stop = 0;
  struct ns_race_arg a[3] = {{db, &stop, 0}, {db, &stop, 0}, {db, &stop, 0}};
  void *(*fn[3])(void *) = {ttl_puts, compacts, ns_churn};
  pthread_t t[3];
  for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, fn[i], &a[i]);
  usleep(1000000);
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  check(a[0].bad + a[1].bad + a[2].bad == 0,
        "namespaces created beside compaction of expired puts: every call succeeded "
        "(ttl %d, compact %d, namespaces %d failed)",
        a[0].bad, a[1].bad, a[2].bad);
  firkin_close(db);
}

static void test_sweep_reads_once(void) {
  firkin_db *db = open_db("sweep_once", false, SEGMENT);
  if (db == NULL) return;
  /* 3000 keys of 1000 bytes, each put once: three sealed 1 MiB segments,
   * no dead bytes, no tombstone, no expiry. */
  check(churn(db, 3000, 3000) == 0, "sweep_once: puts");
  check(firkin_compact(db) == FIRKIN_OK, "sweep_once: first compact");
  const uint64_t first = stat_u64(db, "sweep_bytes_read");
  check(first > 0, "sweep_once: the first firkin_compact's sweep read the oldest segment "
        "(%llu bytes)", (unsigned long long)first);
  check(firkin_compact(db) == FIRKIN_OK, "sweep_once: second compact");
  check(firkin_compact(db) == FIRKIN_OK, "sweep_once: third compact");
  const uint64_t after = stat_u64(db, "sweep_bytes_read");
  check(after == first, "sweep_once: two more calls read %llu more bytes of segments found "
        "without tombstones or expiring puts (0 expected)",
        (unsigned long long)(after - first));
  firkin_close(db);
}

int main(void) {
  snprintf(base_dir, sizeof base_dir, "/tmp/firkin_compact_test_%d", (int)getpid());
  mkdir(base_dir, 0755);
  test_compact_after_burst();
  test_stall_with_snapshot();
  test_accounting();
  test_queue();
  test_ns_recreate();
  test_damaged_filter();
  test_damaged_input();
  test_compact_beside_writers();
  test_ns_beside_ttl_compaction();
  test_sweep_reads_once();
  rmrf(base_dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
