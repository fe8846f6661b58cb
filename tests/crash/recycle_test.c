/*
 * recycle_test — segment recycling (docs/write_path.md, docs/format.md):
 * compaction hands retired segment files to a pool and the log writer
 * reuses them, so a recycled segment holds records of an earlier life past
 * the records of this one. These cases check that recovery never takes
 * them for new records, whatever the crash, and that a file someone else
 * holds a name of is never overwritten.
 *
 * The earlier life is made of puts of the same record size as the new
 * puts, so the stale records sit exactly where recovery looks for the next
 * record after the last new one: with the sequence floor check removed,
 * the deleted keys of the earlier life come back and these cases fail.
 *
 * Every case runs in a child process under alarm(). Ends with
 * "N passed, N failed".
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firkin.h"
#include "../c/forked_cases.h"
#include "../c/record_layout.h"
#include "firkin_testing.h"

static char root[256];

#define OLD_KEYS 2000 /* the earlier life: put, then deleted */
#define NEW_KEYS 1500 /* written into recycled segments */

static const char *fresh(const char *name) {
  static char dir[512];
  snprintf(dir, sizeof dir, "%s/%s", root, name);
  sh("rm -rf '%s'", dir);
  return dir;
}

static firkin_options *opts(firkin_fault_env *env) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_segment_size(o, 64 * 1024);
  firkin_options_set_auto_compact(o, 0);
  firkin_options_set_sync_mode(o, FIRKIN_SYNC_NONE);
  firkin_options_set(o, "checkpoint_every", "0");
  firkin_options_set(o, "recycle_segments", "8");
  if (env) firkin_options_set_fault_env(o, env);
  return o;
}

static firkin_status open_db(const char *dir, firkin_fault_env *env, firkin_db **db) {
  firkin_options *o = opts(env);
  *db = NULL;
  firkin_status s = firkin_open(dir, o, db);
  firkin_options_free(o);
  return s;
}

/* Same key and value lengths for every put: one record size. */
static void key_of(char *k, int i) { snprintf(k, 16, "key%06d", i); }
static void val_of(char *v, int i) { snprintf(v, 101, "value-%010d-%083d", i, i); }

static int put(firkin_db *db, int i) {
  char k[16], v[101];
  key_of(k, i);
  val_of(v, i);
  return firkin_put(db, NULL, NULL, k, strlen(k), v, strlen(v)) == FIRKIN_OK;
}

/* The earlier life: OLD_KEYS puts (several segments), all deleted; closed
 * (which seals the segment holding the last deletes) and reopened; then
 * two full compactions retire every segment that held them into the pool
 * (the puts; the tombstones stay). *db: the reopened handle. */
static int earlier_life(const char *dir, firkin_fault_env *env, const char *recycle,
                        firkin_db **db) {
  CHECK(open_db(dir, env, db) == FIRKIN_OK, "open: %s", firkin_last_error());
  for (int i = 0; i < OLD_KEYS; i++) CHECK(put(*db, i), "put %d", i);
  char k[16];
  for (int i = 0; i < OLD_KEYS; i++) {
    key_of(k, i);
    CHECK(firkin_delete(*db, NULL, NULL, k, strlen(k)) == FIRKIN_OK, "delete %d", i);
  }
  CHECK(firkin_close(*db) == FIRKIN_OK, "close");
  firkin_options *o = opts(env);
  if (recycle) firkin_options_set(o, "recycle_segments", recycle);
  firkin_status s = firkin_open(dir, o, db);
  firkin_options_free(o);
  CHECK(s == FIRKIN_OK, "reopen: %s", firkin_last_error());
  for (int pass = 0; pass < 2; pass++)
    CHECK(firkin_compact(*db) == FIRKIN_OK, "compact: %s", firkin_last_error());
  CHECK(stat_num(*db, "segments_retired") > 0, "compaction retired nothing");
  return 0;
}

static uint64_t rd64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* Records of an earlier life still inside the valid part of a recycled
 * segment: walks every recycled segment file (header flag 2) from the
 * first record to the end of the file (recovery truncates the tail at the
 * end of the valid records) and counts records with a sequence number at
 * or below the header's floor. *recycled_files: how many were walked. */
static int stale_records(const char *dir, int *recycled_files) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int stale = 0;
  *recycled_files = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l != 20 || strcmp(e->d_name + 16, ".seg") != 0) continue;
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    static unsigned char buf[4 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n < 8192 || (buf[12] & 2) == 0) continue;
    (*recycled_files)++;
    const uint64_t floor = rd64(buf + 32);
    for (size_t off = 8192; off + 40 <= n;) {
      const uint64_t seq = rd64(buf + off + 8);
      if (seq <= floor) stale++;
      off += rec_record_size(buf + off);
    }
  }
  closedir(d);
  return stale;
}

/* Exactly keys [OLD_KEYS, OLD_KEYS + n) with their values; none of the
 * earlier life. *n_out: how many new keys were found (a prefix). */
static int prefix_only(const char *dir, int *n_out) {
  firkin_db *db;
  firkin_status s = open_db(dir, NULL, &db);
  CHECK(s == FIRKIN_OK, "reopen: %d %s", s, firkin_last_error());
  char k[16], v[101];
  for (int i = 0; i < OLD_KEYS; i++) {
    key_of(k, i);
    bool found = true;
    CHECK(firkin_contains(db, NULL, NULL, k, strlen(k), &found) == FIRKIN_OK, "contains");
    CHECK(!found, "deleted key %d of the earlier life came back", i);
  }
  int n = 0;
  while (n < NEW_KEYS) {
    key_of(k, OLD_KEYS + n);
    void *got = NULL;
    size_t len = 0;
    s = firkin_get(db, NULL, NULL, k, strlen(k), &got, &len);
    if (s == FIRKIN_E_NOT_FOUND) break;
    val_of(v, OLD_KEYS + n);
    int ok = s == FIRKIN_OK && len == strlen(v) && memcmp(got, v, len) == 0;
    firkin_free(got);
    CHECK(ok, "new key %d: status %d or wrong value", n, s);
    n++;
  }
  for (int i = n; i < NEW_KEYS; i++) {
    bool found = true;
    key_of(k, OLD_KEYS + i);
    firkin_contains(db, NULL, NULL, k, strlen(k), &found);
    CHECK(!found, "new key %d survived but key %d did not (a hole)", i, n);
  }
  uint64_t count = 0;
  CHECK(firkin_count(db, NULL, &count) == FIRKIN_OK, "count");
  CHECK(count == (uint64_t)n, "count %llu, expected %d", (unsigned long long)count, n);
  char *report = NULL;
  CHECK(firkin_verify(db, &report) == FIRKIN_OK, "verify: %s", report ? report : "");
  firkin_free(report);
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  int files = 0, stale = stale_records(dir, &files);
  CHECK(stale == 0, "%d records of an earlier life kept as records in %d recycled segments",
        stale, files);
  *n_out = n;
  return 0;
}

static int count_pooled(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l > 5 && strcmp(e->d_name + l - 5, ".free") == 0) n++;
  }
  closedir(d);
  return n;
}

/* kill -9 while appending into a recycled segment: the process dies with
 * the rest of the file still holding the earlier life. */
static int t_kill_in_recycled_segment(void) {
  const char *dir = fresh("kill");
  pid_t pid = fork();
  if (pid == 0) {
    firkin_db *db;
    if (earlier_life(dir, NULL, NULL, &db) != 0) _exit(2);
    for (int i = 0; i < NEW_KEYS; i++)
      if (!put(db, OLD_KEYS + i)) _exit(3);
    if (stat_num(db, "segments_recycled") == 0) _exit(4);
    if (count_pooled(dir) < 0) _exit(5);
    _exit(0); /* no close: as kill -9 */
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer child failed (%d): 4 = nothing recycled",
        WEXITSTATUS(st));
  int n = 0;
  if (prefix_only(dir, &n) != 0) return 1;
  CHECK(n == NEW_KEYS, "after kill -9 only %d of %d acknowledged keys", n, NEW_KEYS);
  CHECK(count_pooled(dir) == 0, "pooled files left after recovery");
  return 0;
}

/* Power loss in every crash mode while appending into recycled segments:
 * what survives is a prefix of the new keys, at least what was synced, and
 * nothing of the earlier life. */
static int t_power_loss_in_recycled_segment(void) {
  const firkin_crash_mode modes[] = {FIRKIN_CRASH_DROP, FIRKIN_CRASH_PREFIX,
                                     FIRKIN_CRASH_GARBAGE, FIRKIN_CRASH_PAGES};
  for (int m = 0; m < 4; m++) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
      const char *dir = fresh("power");
      firkin_fault_env *env = NULL;
      CHECK(firkin_fault_env_new(&env) == FIRKIN_OK, "fault env");
      firkin_db *db;
      if (earlier_life(dir, env, NULL, &db) != 0) return 1;
      const int synced = NEW_KEYS / 3 + (int)seed * 7;
      for (int i = 0; i < NEW_KEYS; i++) {
        CHECK(put(db, OLD_KEYS + i), "put new %d", i);
        if (i + 1 == synced) CHECK(firkin_sync(db) == FIRKIN_OK, "sync");
      }
      CHECK(stat_num(db, "segments_recycled") > 0, "nothing was recycled under the fault env");
      CHECK(firkin_fault_env_crash(env, modes[m], seed) == FIRKIN_OK, "crash");
      firkin_close(db); /* fails: the "machine" is off */
      firkin_fault_env_free(env);
      int n = 0;
      if (prefix_only(dir, &n) != 0) {
        fprintf(stderr, "  (crash mode %d, seed %llu)\n", m, (unsigned long long)seed);
        return 1;
      }
      CHECK(n >= synced, "mode %d seed %llu: %d keys were synced, %d recovered", m,
            (unsigned long long)seed, synced, n);
    }
  }
  return 0;
}

static uint64_t file_sum(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  uint64_t h = 1469598103934665603ull;
  int c;
  while ((c = fgetc(f)) != EOF) h = (h ^ (uint64_t)c) * 1099511628211ull;
  fclose(f);
  return h;
}

/* A segment that has another name (a backup's hard link) is never reused:
 * the linked copy keeps its bytes. */
static int t_hard_linked_file_not_reused(void) {
  const char *dir = fresh("linked");
  char keep[600];
  snprintf(keep, sizeof keep, "%s/linked-copy", root);
  unlink(keep);
  firkin_db *db;
  CHECK(open_db(dir, NULL, &db) == FIRKIN_OK, "open");
  for (int i = 0; i < OLD_KEYS; i++) CHECK(put(db, i), "put");
  /* A sync seals the full segments whose seal is still queued (their seal
   * truncates them and writes their watermark), so that every segment but
   * the active one is final before it is linked. */
  CHECK(firkin_sync(db) == FIRKIN_OK, "sync");
  /* Link every sealed segment; each must survive as it is. */
  char links[64][600], names[64][64];
  int nl = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while ((e = readdir(d)) != NULL && nl < 64) {
    size_t l = strlen(e->d_name);
    if (l != 20 || strcmp(e->d_name + 16, ".seg") != 0) continue;
    snprintf(names[nl], sizeof names[nl], "%s", e->d_name);
    snprintf(links[nl], sizeof links[nl], "%s/link-%s", root, e->d_name);
    unlink(links[nl]);
    char src[600];
    snprintf(src, sizeof src, "%s/%s", dir, e->d_name);
    CHECK(link(src, links[nl]) == 0, "link %s", src);
    nl++;
  }
  closedir(d);
  CHECK(nl >= 2, "only %d segments", nl);
  uint64_t sums[64];
  /* The newest may still be active (not sealed): skip it (its link sees
   * appends, which is the writer's business, not recycling's). */
  for (int i = 0; i < nl; i++) sums[i] = file_sum(links[i]);
  char k[16];
  for (int i = 0; i < OLD_KEYS; i++) {
    key_of(k, i);
    CHECK(firkin_delete(db, NULL, NULL, k, strlen(k)) == FIRKIN_OK, "delete");
  }
  CHECK(firkin_compact(db) == FIRKIN_OK, "compact");
  for (int i = 0; i < NEW_KEYS; i++) CHECK(put(db, OLD_KEYS + i), "put new");
  uint64_t recycled = stat_num(db, "segments_recycled");
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  int changed = 0;
  for (int i = 0; i < nl; i++) {
    struct stat st;
    if (stat(links[i], &st) != 0) continue;
    if (file_sum(links[i]) != sums[i]) changed++;
  }
  /* The active segment at link time may legitimately have grown; at most
   * that one differs, and none of the linked files was recycled. */
  CHECK(changed <= 1, "%d hard-linked segment files were overwritten", changed);
  CHECK(recycled == 0 || changed <= 1, "recycled %llu", (unsigned long long)recycled);
  for (int i = 0; i < nl; i++) unlink(links[i]);
  int n = 0;
  return prefix_only(dir, &n) != 0 || n != NEW_KEYS;
}

/* A read-only handle (here in the same process; readers_test covers other
 * processes) may map a retired file: none is reused while one is open. A
 * writer that had to create LOCK in an existing database (a reader could
 * have opened it without announcing itself) never recycles. */
static int t_readers_block_reuse(void) {
  const char *dir = fresh("readers");
  firkin_db *db;
  if (earlier_life(dir, NULL, NULL, &db) != 0) return 1;
  firkin_options *ro = opts(NULL);
  firkin_options_set_read_only(ro, true);
  firkin_db *reader = NULL;
  CHECK(firkin_open(dir, ro, &reader) == FIRKIN_OK, "read-only open beside the writer: %s",
        firkin_last_error());
  for (int i = 0; i < NEW_KEYS / 2; i++) CHECK(put(db, OLD_KEYS + i), "put");
  CHECK(stat_num(db, "segment_rolls") > 0, "no roll");
  CHECK(stat_num(db, "segments_recycled") == 0, "a file was reused while a reader was open");
  CHECK(firkin_close(reader) == FIRKIN_OK, "close reader");
  for (int i = NEW_KEYS / 2; i < NEW_KEYS; i++) CHECK(put(db, OLD_KEYS + i), "put");
  CHECK(stat_num(db, "segments_recycled") > 0, "nothing reused once the reader closed");
  CHECK(firkin_close(db) == FIRKIN_OK, "close");

  char lock[600];
  snprintf(lock, sizeof lock, "%s/LOCK", dir);
  CHECK(unlink(lock) == 0, "remove LOCK");
  CHECK(open_db(dir, NULL, &db) == FIRKIN_OK, "open");
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < NEW_KEYS; i++) CHECK(put(db, OLD_KEYS + i), "put");
    CHECK(firkin_compact(db) == FIRKIN_OK, "compact");
  }
  CHECK(stat_num(db, "segment_rolls") > 0, "no roll");
  CHECK(stat_num(db, "segments_recycled") == 0,
        "recycled although LOCK had to be created in an existing database");
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  firkin_options_free(ro);
  return 0;
}

/* recycle_segments = 0 turns recycling off; a clean close leaves no pool. */
static int t_off_and_clean_close(void) {
  const char *dir = fresh("off");
  firkin_db *db;
  if (earlier_life(dir, NULL, "0", &db) != 0) return 1;
  for (int i = 0; i < NEW_KEYS; i++) CHECK(put(db, OLD_KEYS + i), "put");
  CHECK(stat_num(db, "segments_recycled") == 0, "recycled with recycle_segments=0");
  CHECK(count_pooled(dir) == 0, "pool files with recycling off");
  CHECK(firkin_close(db) == FIRKIN_OK, "close");

  dir = fresh("clean");
  if (earlier_life(dir, NULL, NULL, &db) != 0) return 1;
  CHECK(count_pooled(dir) > 0, "nothing pooled after compaction");
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  CHECK(count_pooled(dir) == 0, "pool files left after a clean close");

  firkin_options *o = NULL;
  firkin_options_new(&o);
  CHECK(firkin_options_set(o, "recycle_segments", "65") == FIRKIN_E_INVALID_ARGUMENT,
        "recycle_segments 65 accepted");
  CHECK(firkin_options_set(o, "recycle_segments", "-1") == FIRKIN_E_INVALID_ARGUMENT,
        "recycle_segments -1 accepted");
  char *v = NULL;
  CHECK(firkin_options_get(o, "recycle_segments", &v) == FIRKIN_OK && strcmp(v, "8") == 0,
        "default recycle_segments is not 8");
  firkin_free(v);
  firkin_options_free(o);
  return 0;
}

/* The spare: the log's prefault thread readies the next segment's file
 * (from the pool or new, mapped, first pages faulted in) under a temporary
 * name while the active segment fills, and the roll takes it. A clean close
 * removes it; a kill -9 leaves it, and recovery removes it without losing
 * an acknowledged write or bringing back an earlier life's record. */
#define SPARE_NAME "0000000100000000.seg.tmp"
static bool spare_exists(const char *dir) {
  char p[600];
  struct stat st;
  snprintf(p, sizeof p, "%s/" SPARE_NAME, dir);
  return stat(p, &st) == 0;
}

/* Puts keys [from, to) in bursts, pausing after each so the prefault
 * thread (it also wakes every 50 ms) readies a spare. */
static int put_slowly(firkin_db *db, int from, int to) {
  for (int i = from; i < to; i++) {
    if (!put(db, i)) return 0;
    if ((i - from) % 100 == 99) usleep(60 * 1000);
  }
  return 1;
}

static int t_spare_segment(void) {
  const char *dir = fresh("spare");
  firkin_db *db;
  if (earlier_life(dir, NULL, NULL, &db) != 0) return 1;
  CHECK(put_slowly(db, OLD_KEYS, OLD_KEYS + NEW_KEYS), "put");
  CHECK(stat_num(db, "segments_from_spare") > 0, "no roll took a spare (%" PRIu64 " rolls)",
        (uint64_t)stat_num(db, "segment_rolls"));
  /* The roll timings: every roll takes some time (a header sync at least),
   * and the longest is part of the total. The seal of a full segment is
   * not part of the roll: the writeback thread runs it (sync mode none,
   * nothing else asks for it first), and it takes time too. */
  const uint64_t roll_us = stat_num(db, "roll_us"), seal_us = stat_num(db, "seal_us");
  const uint64_t roll_max = stat_num(db, "roll_us_max");
  const uint64_t behind = stat_num(db, "seals_behind");
  CHECK(roll_us > 0 && roll_us != UINT64_MAX, "roll_us %" PRIu64, roll_us);
  CHECK(seal_us > 0 && seal_us != UINT64_MAX, "seal_us %" PRIu64, seal_us);
  CHECK(behind > 0 && behind != UINT64_MAX, "seals_behind %" PRIu64 " of %" PRIu64 " rolls",
        behind, (uint64_t)stat_num(db, "segment_rolls"));
  CHECK(roll_max > 0 && roll_max <= roll_us, "roll_us_max %" PRIu64 " (total %" PRIu64 ")",
        roll_max, roll_us);
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  CHECK(!spare_exists(dir), "a clean close left the spare file");
  int n = 0;
  if (prefix_only(dir, &n) != 0) return 1;
  CHECK(n == NEW_KEYS, "after a clean close %d of %d keys", n, NEW_KEYS);

  dir = fresh("spare-kill");
  pid_t pid = fork();
  if (pid == 0) {
    if (earlier_life(dir, NULL, NULL, &db) != 0) _exit(2);
    if (!put_slowly(db, OLD_KEYS, OLD_KEYS + NEW_KEYS)) _exit(3);
    /* until a spare is ready (half the active segment, then a wake-up):
     * the same puts again, so the keys and values stay as they were */
    for (int i = 0; i < 2000 && !spare_exists(dir); i++) {
      if (!put(db, OLD_KEYS + i % NEW_KEYS)) _exit(3);
      if (i % 50 == 49) usleep(20 * 1000);
    }
    if (!spare_exists(dir)) _exit(4);
    _exit(0); /* no close: as kill -9 */
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer child failed (%d): 4 = no spare readied",
        WEXITSTATUS(st));
  CHECK(spare_exists(dir), "the killed writer's spare file is gone before recovery");
  if (prefix_only(dir, &n) != 0) return 1;
  CHECK(n == NEW_KEYS, "after kill -9 only %d of %d acknowledged keys", n, NEW_KEYS);
  CHECK(!spare_exists(dir), "recovery left the spare file");
  return 0;
}

int main(void) {
  snprintf(root, sizeof root, "/tmp/firkin-recycle-%d", (int)getpid());
  sh("rm -rf '%s'; mkdir -p '%s'", root, root);
  run("kill -9 while appending into a recycled segment: no earlier-life record returns",
      t_kill_in_recycled_segment);
  run("power loss (drop, prefix, garbage, pages) in a recycled segment: a prefix, no stale record",
      t_power_loss_in_recycled_segment);
  run("a hard-linked segment file is never reused", t_hard_linked_file_not_reused);
  run("no reuse while a read-only handle is open, nor after LOCK had to be created",
      t_readers_block_reuse);
  run("recycle_segments=0 turns recycling off; a clean close removes the pool",
      t_off_and_clean_close);
  run("a spare segment file readied ahead of the roll: taken, removed at close and by recovery",
      t_spare_segment);
  if (getenv("RECYCLE_KEEP") == NULL) sh("rm -rf '%s'", root); /* kept for debugging */
  return forked_cases_summary();
}
