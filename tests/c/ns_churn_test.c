/*
 * ns_churn_test — namespace create-and-drop churn must not grow the log
 * and RAM for good (docs/testing.md). Through the C API only. Groups (all
 * when none is named; see group_args.h); ends with "N passed, N failed".
 *
 *  churn    2 x 1000 create/put/drop cycles over 4 names, each followed
 *           by a close, a reopen and firkin_compact: the second thousand
 *           grows the log's live bytes by less than 16 B a cycle (before:
 *           96 B, the create and drop records compaction kept) and the
 *           table holds a handful of namespaces ("namespaces_held";
 *           before: every one ever created). Then: a handle to a
 *           namespace dropped and forgotten gives NAMESPACE_NOT_FOUND, and
 *           so does it after a namespace of its name is made again; the
 *           new one is empty; no dropped key comes back; a namespace made
 *           after a reopen gets an id above every id made before (the
 *           records of those are gone); verify is clean.
 *  periodic 20,000 create/put/drop cycles over 4 names with firkin_compact
 *           every 200 and a close, reopen and firkin_compact every 1,000:
 *           the writer holds at most 1,000 namespaces at each reopen and
 *           at most 4 at the end (before: 7,066 at the end, one more per
 *           cycle past about 13,000: every pass left an output of the
 *           highest id's records that no pass took again, and past 64 of
 *           them no namespace could go); then 20,000 more with background
 *           compaction alone, after which the table comes down to at most
 *           1,000 within 10 s without firkin_compact (before: 27,066
 *           held, the first part's 7,066 with them, for good).
 *  background  background compaction alone (no firkin_compact), above 80
 *           segments of live values (so every drop has more than 64
 *           segments below it): 25 bursts of 800 create/put/drop cycles
 *           (8 under TSan), after each of which the table comes back to at
 *           most 400 namespaces within 5 s (the active segment's; before:
 *           801 after the first burst, nothing ever forgotten) and at most
 *           1,200 sampled during them; once writes pause and the active
 *           segment rolls, 2 within 5 s (before: 801; with the 64-segment
 *           cap lifted alone: 24, one output of one namespace's records
 *           left by each pass, under compact_dead_ratio, never taken
 *           again); then after a reopen (the namespace left loaded from the
 *           checkpoint: every segment below its drop asked, 64 a pass) two
 *           more bursts and 2 again (before: 1,601; cap lifted alone: 26).
 *  interleaved  background compaction alone: 20,000 create/put/drop
 *           cycles, each beside a put to "default" that stays live, then
 *           1,000 namespaces whose create records a pass copied into an
 *           output while they were live, dropped: once writes pause the
 *           table comes down to at most the segment count + 4 (45-61
 *           held; before: 15,919, 4,082 forgotten) and then to at most 4
 *           more than before the 1,000 (before: all 1,000 stayed); the
 *           dropped namespaces' create records counted live, their
 *           segments under compact_dead_ratio (see t_interleaved).
 *  ckpt_drop  namespaces live when a CHECKPOINT was loaded, then dropped:
 *           their create records count dead as those of namespaces made
 *           after the open do (100 of each: +11,200 B dead each; before:
 *           +5,600 B for those loaded, the drop records alone), and with
 *           background compaction alone 300 of them dropped beside live
 *           values are forgotten but the highest id (before: 301 held, the
 *           create records' segment 43% dead, under compact_dead_ratio, for
 *           good). Each reopen is checked to have used the CHECKPOINT.
 *           One that places a create record one record off is not used;
 *           a version-7 one (no create record places) is, and the next
 *           one written is version 8.
 *  idle_split  300 namespaces dropped at once beside live values: one
 *           output keeps their create records beside the live values,
 *           another their drop records; then writes stop: within 5 s at
 *           most 4 held (before: 301, for good: each output waited for
 *           another segment to retire), and passes stop.
 *  split_full  3 x 1,000 namespaces made and dropped beside live values
 *           with background compaction, the create and drop records left in
 *           different outputs full of live values: the table comes down to
 *           at most 8 after the first round; a full-scan reopen part way
 *           through the second lists none of them; firkin_compact after
 *           the third leaves at most 4 with under 4 KB dead (before: about
 *           800 a round held for good, 2,507-3,111 after firkin_compact);
 *           see t_split_full.
 *  split_reopen  2 x 1,000 namespaces made and dropped beside live values
 *           as in split_full, the database closed 200 ms after the drops
 *           and reopened (from its CHECKPOINT, then by a full scan): with
 *           background compaction alone (no firkin_compact) the table comes
 *           down to at most 8 within 30 s of slow writes (before
 *           2026-11-29's fix: 200-odd stayed held, the outputs that kept
 *           them known in memory only); see t_split_reopen.
 *  top_rounds  24 rounds of 200 namespaces made beside live values and
 *           dropped, then about 10 segments of new live values, with
 *           background compaction: at most 5 held after every round from
 *           the third (before 2026-11-29's evening fixes: 1,077 after 12
 *           rounds, then 19, then one more every few rounds); see
 *           t_top_rounds.
 *  reader_split  a read-only handle refreshed every 100 ms beside a writer
 *           churning as split_full does (8 rounds of 300): the reader holds
 *           at most 16 namespaces more than the writer from the third
 *           round (dropped placeholders of ids it forgot; none seen: it
 *           held what the writer held), and the writer at most 4 (before
 *           2026-11-29's evening fix: 6 after 8 rounds, growing); see
 *           t_reader_split.
 *  idle     two outputs that each keep dropped namespaces' drop records
 *           (the create records in a cold segment no pass takes): an idle
 *           database runs at most 4 background passes in 2 s (before:
 *           about 1,000, for good: each let the other go in turn).
 *  crash    a child churns with background compaction on small segments
 *           and is killed with SIGKILL; the reopened database lists at
 *           most the one namespace the child was cycling, holding at most
 *           its one key; every other name, made again, is empty; verify is
 *           clean, after a compaction and a reopen too; ids keep growing.
 *  crash_cold  the same above 80 segments of live values (written
 *           first): every value is there after each kill.
 *  reader   a read-only handle in the same process reads a namespace's
 *           create; the writer drops it, fills the segment (the drop lies
 *           past what the reader read), compacts (the pass leaves out the
 *           create and drop records) and the segment goes: the reader's
 *           refresh drops the namespace too (before: it listed it for good
 *           and its handle still worked), and forgets it (before: its
 *           table kept it).
 *  reader_ckpt  the same with the reader opened from a CHECKPOINT the
 *           writer wrote after the create (before 2026-11-29's first fix:
 *           it listed "gone" for good and its handle worked); version 8
 *           places the create record, so the refresh reads no segment for
 *           it (before the second: it read the one that went).
 *  reader_ckpt7  the same with that CHECKPOINT made a version-7 file (no
 *           create record places): the refresh reads the segment that goes
 *           for the create record.
 *  reader_forget  a read-only handle follows 600 create/put/drop cycles
 *           (a compaction and a refresh every 50), opened from a
 *           CHECKPOINT that lists dropped namespaces: its table holds a
 *           handful ("namespaces_held"; before: every one it ever met),
 *           a handle it opened to a namespace it forgot gives
 *           NAMESPACE_NOT_FOUND, a change cursor it opened early names
 *           every change it delivers, and verify is clean.
 *  reader_crash  a read-only handle opened from a CHECKPOINT that lists a
 *           live namespace "keep" follows three writer processes in turn,
 *           each churning with background compaction until killed with
 *           SIGKILL, then a writer that compacts: the reader lists "keep"
 *           at every refresh (a namespace dropped or forgotten wrongly
 *           would not be), reads its key through a handle it opened first,
 *           lists the churned names as the writer does, holds a handful of
 *           namespaces, and verify is clean.
 *  reader_threads  a writer thread churns (a compaction every 40 cycles)
 *           while one thread refreshes a read-only handle and two use it:
 *           list, open by name, get through handles kept across refreshes,
 *           stats, change cursors (no change named ""). Run under TSan
 *           too: the refresh forgets namespaces while they read.
 *  cursor   a change cursor opened past a namespace's create record
 *           delivers the namespace's put by its name after compaction
 *           made the writer forget the namespace (before: named "").
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "check_harness.h"
#include "checkpoint_file.h"
#include "group_args.h"

static firkin_options *opts(bool auto_compact, uint64_t seg) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_create_if_missing(o, true);
  firkin_options_set_auto_compact(o, auto_compact);
  firkin_options_set_segment_size(o, seg);
  return o;
}

static firkin_db *open_db(const char *dir, bool auto_compact, uint64_t seg) {
  firkin_options *o = opts(auto_compact, seg);
  firkin_db *db = NULL;
  firkin_status rc = firkin_open(dir, o, &db);
  firkin_options_free(o);
  check(rc == FIRKIN_OK, "open %s", dir);
  return rc == FIRKIN_OK ? db : NULL;
}

/* The id stats give namespace `name` (UINT64_MAX if not listed). */
static uint64_t ns_id(firkin_db *db, const char *name) {
  char *j = NULL;
  uint64_t v = UINT64_MAX;
  if (firkin_stats(db, &j) != FIRKIN_OK) return v;
  char pat[200];
  snprintf(pat, sizeof pat, "{\"name\":\"%s\",\"id\":", name);
  const char *p = strstr(j, pat);
  if (p != NULL) v = strtoull(p + strlen(pat), NULL, 10);
  firkin_free(j);
  return v;
}

static bool listed(firkin_db *db, const char *name) {
  char *l = NULL;
  if (firkin_ns_list(db, &l) != FIRKIN_OK) return false;
  bool found = false;
  size_t n = strlen(name);
  for (const char *p = l; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && memcmp(p, name, n) == 0) found = true;
    p += len + (e ? 1 : 0);
  }
  firkin_free(l);
  return found;
}

static bool verify_ok(firkin_db *db, const char *when) {
  char *rep = NULL;
  firkin_status rc = firkin_verify(db, &rep);
  bool ok = rc == FIRKIN_OK && rep != NULL && strstr(rep, "\"ok\":true") != NULL;
  check(ok, "verify %s: rc %d %s", when, rc, rep ? rep : "");
  firkin_free(rep);
  return ok;
}

/* One cycle: create name, put key, drop. */
static bool cycle(firkin_db *db, const char *name, int i) {
  firkin_ns *ns = NULL;
  if (firkin_ns_create(db, name, &ns) != FIRKIN_OK) return false;
  char k[32];
  int n = snprintf(k, sizeof k, "key%d", i);
  bool ok = firkin_put(db, NULL, ns, k, (size_t)n, "value", 5) == FIRKIN_OK;
  firkin_ns_close(ns);
  return ok && firkin_ns_drop(db, name) == FIRKIN_OK;
}

static bool empty_ns(firkin_db *db, const char *name, int keys_upto) {
  firkin_ns *ns = NULL;
  if (firkin_ns_create(db, name, &ns) != FIRKIN_OK) return false;
  uint64_t c = 1;
  bool ok = firkin_count(db, ns, &c) == FIRKIN_OK && c == 0;
  for (int i = 0; ok && i < keys_upto; i += 97) {
    char k[32];
    int n = snprintf(k, sizeof k, "key%d", i);
    void *v = NULL;
    size_t vl = 0;
    ok = firkin_get(db, NULL, ns, k, (size_t)n, &v, &vl) == FIRKIN_E_NOT_FOUND;
    firkin_free(v);
  }
  firkin_ns_close(ns);
  return ok && firkin_ns_drop(db, name) == FIRKIN_OK;
}

static void t_churn(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "churn");
  const uint64_t seg = 256 << 10;
  firkin_db *db = open_db(dir, false, seg);
  if (db == NULL) return;
  uint64_t live[2] = {0, 0};
  int i = 0;
  for (int round = 0; round < 2; round++) {
    bool ok = true;
    for (int end = i + 1000; ok && i < end; i++) {
      char name[16];
      snprintf(name, sizeof name, "c%d", i % 4);
      ok = cycle(db, name, i);
    }
    check(ok, "churn round %d", round);
    check(firkin_close(db) == FIRKIN_OK, "close round %d", round);
    db = open_db(dir, false, seg);
    if (db == NULL) return;
    check(firkin_compact(db) == FIRKIN_OK, "compact round %d", round);
    live[round] = stat_u64(db, "live_bytes");
    uint64_t held = stat_u64(db, "namespaces_held");
    check(held <= 4, "round %d: %llu namespaces held in memory after 1000 more cycles", round,
          (unsigned long long)held);
  }
  check(live[1] < live[0] + 1000 * 16,
        "log grew by %llu B over 1000 create-and-drop cycles (live bytes %llu -> %llu)",
        (unsigned long long)(live[1] - live[0]), (unsigned long long)live[0],
        (unsigned long long)live[1]);
  check(listed(db, "default") && !listed(db, "c0") && !listed(db, "c3"),
        "only default is listed after the churn");
  verify_ok(db, "after churn");

  /* A namespace dropped before a reopen: its name made again after the
   * pass left its records out is empty, under a new id. */
  firkin_ns *old = NULL;
  check(firkin_ns_create(db, "c1", &old) == FIRKIN_OK, "create c1");
  const uint64_t old_id = ns_id(db, "c1");
  check(firkin_put(db, NULL, old, "k", 1, "v", 1) == FIRKIN_OK, "put c1");
  firkin_ns_close(old);
  check(firkin_ns_drop(db, "c1") == FIRKIN_OK, "drop c1");
  /* More churn so that c1's records are not the highest id's, then a pass
   * over sealed segments: close and reopen seal them. */
  for (int end = i + 20; i < end; i++) cycle(db, "c2", i);
  check(firkin_close(db) == FIRKIN_OK, "close");
  db = open_db(dir, false, seg);
  if (db == NULL) return;
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  check(stat_u64(db, "namespaces_held") <= 4, "namespaces held after c1's drop: %llu",
        (unsigned long long)stat_u64(db, "namespaces_held"));
  void *v = NULL;
  size_t vl = 0;
  check(empty_ns(db, "c1", i), "c1 made again is empty");
  firkin_ns *again = NULL;
  check(firkin_ns_create(db, "c1", &again) == FIRKIN_OK, "create c1 again");
  const uint64_t new_id = ns_id(db, "c1");
  check(new_id != UINT64_MAX && new_id > old_id, "ids never reused: %llu after %llu",
        (unsigned long long)new_id, (unsigned long long)old_id);
  check(firkin_get(db, NULL, again, "k", 1, &v, &vl) == FIRKIN_E_NOT_FOUND,
        "c1's old key is not back");
  check(firkin_put(db, NULL, again, "k2", 2, "v", 1) == FIRKIN_OK, "put in the new c1");
  firkin_ns_close(again);
  verify_ok(db, "after reuse of a name");
  check(firkin_close(db) == FIRKIN_OK, "close");

  /* In one process: a handle whose namespace the table forgets while the
   * handle lives. */
  db = open_db(dir, false, seg);
  if (db == NULL) return;
  firkin_ns *h = NULL;
  check(firkin_ns_open(db, "c1", false, &h) == FIRKIN_OK, "open c1");
  const uint64_t h_id = ns_id(db, "c1");
  check(firkin_ns_drop(db, "c1") == FIRKIN_OK, "drop c1 (handle held)");
  for (int end = i + 2000; i < end; i++) cycle(db, "c2", i); /* rolls segments */
  check(firkin_compact(db) == FIRKIN_OK, "compact (handle held)");
  const uint64_t forgotten = stat_u64(db, "namespaces_forgotten");
  check(forgotten != UINT64_MAX && forgotten > 0, "the pass forgot namespaces: %llu",
        (unsigned long long)forgotten);
  check(firkin_put(db, NULL, h, "x", 1, "v", 1) == FIRKIN_E_NAMESPACE_NOT_FOUND,
        "put through a dropped, forgotten namespace's handle");
  check(firkin_get(db, NULL, h, "k2", 2, &v, &vl) == FIRKIN_E_NAMESPACE_NOT_FOUND,
        "get through a dropped, forgotten namespace's handle");
  check(strcmp(firkin_ns_name(h), "c1") == 0, "the handle's name");
  firkin_ns *c1 = NULL;
  check(firkin_ns_create(db, "c1", &c1) == FIRKIN_OK, "c1 made again");
  check(ns_id(db, "c1") > h_id, "its id is new");
  check(firkin_put(db, NULL, c1, "y", 1, "v", 1) == FIRKIN_OK, "put in the new c1");
  check(firkin_get(db, NULL, h, "y", 1, &v, &vl) == FIRKIN_E_NAMESPACE_NOT_FOUND,
        "the old handle never reaches the new c1");
  uint64_t c = 0;
  check(firkin_count(db, c1, &c) == FIRKIN_OK && c == 1, "the new c1 holds its one key");
  firkin_ns_close(h);
  firkin_ns_close(c1);
  check(firkin_ns_drop(db, "c1") == FIRKIN_OK, "drop c1");
  check(firkin_close(db) == FIRKIN_OK, "close");
  /* Reopen without a checkpoint (a full scan): the same. */
  char ck[600];
  snprintf(ck, sizeof ck, "%s/CHECKPOINT", dir);
  unlink(ck);
  db = open_db(dir, false, seg);
  if (db == NULL) return;
  check(!listed(db, "c1") && !listed(db, "c2"), "nothing dropped is back after a full scan");
  check(empty_ns(db, "c2", i), "c2 made again is empty");
  verify_ok(db, "after a full scan");
  firkin_close(db);
}

static void t_periodic(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "periodic");
  const uint64_t seg = 256 << 10;
  firkin_db *db = open_db(dir, false, seg);
  if (db == NULL) return;
  uint64_t most = 0;
  bool ok = true;
  int i = 0;
  for (; ok && i < 20000; i++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", i % 4);
    ok = cycle(db, name, i);
    if (i % 200 == 199) ok = ok && firkin_compact(db) == FIRKIN_OK;
    if (i % 1000 == 999) {
      check(firkin_close(db) == FIRKIN_OK, "close at %d", i);
      db = open_db(dir, false, seg);
      if (db == NULL) return;
      ok = ok && firkin_compact(db) == FIRKIN_OK;
      const uint64_t held = stat_u64(db, "namespaces_held");
      if (held > most) most = held;
    }
  }
  check(ok, "periodic churn (cycle %d)", i);
  check(most <= 1000, "at most %llu namespaces held at a reopen during 20,000 cycles, want <= 1000",
        (unsigned long long)most);
  check(firkin_close(db) == FIRKIN_OK, "close");
  db = open_db(dir, false, seg);
  if (db == NULL) return;
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  uint64_t held = stat_u64(db, "namespaces_held");
  check(held <= 4, "%llu namespaces held after the churn and firkin_compact, want <= 4",
        (unsigned long long)held);
  check(listed(db, "default") && !listed(db, "c0") && !listed(db, "c3"),
        "only default is listed after the periodic churn");
  verify_ok(db, "after the periodic churn");
  check(firkin_close(db) == FIRKIN_OK, "close");

  /* Background compaction alone: once the churn stops, the table comes
   * down without firkin_compact (a close seals the last segment). */
  db = open_db(dir, true, seg);
  if (db == NULL) return;
  for (int end = i + 20000; ok && i < end; i++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", i % 4);
    ok = cycle(db, name, i);
  }
  check(ok, "background churn (cycle %d)", i);
  check(firkin_close(db) == FIRKIN_OK, "close");
  db = open_db(dir, true, seg);
  if (db == NULL) return;
  for (int waited = 0; waited < 1000; waited++) {
    held = stat_u64(db, "namespaces_held");
    if (held <= 1000) break;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  check(held <= 1000, "%llu namespaces held 10 s after 20,000 cycles with background compaction",
        (unsigned long long)held);
  verify_ok(db, "after the background churn");
  firkin_close(db);
}

/* The child of t_crash: churns until killed. */
/* Background compaction's passes so far (stats: compaction.runs). */
static uint64_t compaction_runs(firkin_db *db) {
  char *j = NULL;
  uint64_t v = UINT64_MAX;
  if (firkin_stats(db, &j) == FIRKIN_OK) {
    const char *c = strstr(j, "\"compaction\":{");
    const char *p = c != NULL ? strstr(c, "\"runs\":") : NULL;
    if (p != NULL) v = strtoull(p + strlen("\"runs\":"), NULL, 10);
  }
  firkin_free(j);
  return v;
}

static void put_ttl_values(firkin_db *db, const char *prefix, int n) {
  char k[32], v[1000];
  memset(v, 't', sizeof v);
  for (int i = 0; i < n; i++) {
    const int kl = snprintf(k, sizeof k, "%s%d", prefix, i);
    check(firkin_put_ttl(db, NULL, NULL, k, (size_t)kl, v, sizeof v, 1) == FIRKIN_OK, "put_ttl");
  }
}

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A review's case: two outputs that each keep dropped namespaces' drop
 * records (their create records lie in a cold segment no pass takes) let
 * each other go in turn, each pass retiring a segment: on an idle database
 * background compaction rewrote both about 500 times a second, for good.
 * Now only the retirement of some other segment lets such an output be
 * taken again. */
static void t_idle(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "idle");
  firkin_db *db = open_db(dir, true, 64 << 10);
  if (db == NULL) return;
  char name[16], v[1000];
  for (int i = 0; i < 10; i++) {
    firkin_ns *ns = NULL;
    snprintf(name, sizeof name, "c%d", i);
    check(firkin_ns_create(db, name, &ns) == FIRKIN_OK, "create %s", name);
    check(firkin_put(db, NULL, ns, "k", 1, "v", 1) == FIRKIN_OK, "put in %s", name);
    firkin_ns_close(ns);
  }
  memset(v, 'v', sizeof v);
  for (int i = 0; i < 200; i++) { /* cold, live: no pass takes these */
    char k[32];
    const int kl = snprintf(k, sizeof k, "cold%d", i);
    check(firkin_put(db, NULL, NULL, k, (size_t)kl, v, sizeof v) == FIRKIN_OK, "put cold");
  }
  put_ttl_values(db, "z", 70); /* rolls the segment; expires at once */
  pause_ms(1500);
  for (int half = 0; half < 2; half++) {
    for (int i = 5 * half; i < 5 * half + 5; i++) {
      snprintf(name, sizeof name, "c%d", i);
      check(firkin_ns_drop(db, name) == FIRKIN_OK, "drop %s", name);
    }
    put_ttl_values(db, half == 0 ? "a" : "b", 70);
    pause_ms(1500);
  }
  const uint64_t before = compaction_runs(db);
  pause_ms(2000);
  const uint64_t after = compaction_runs(db);
  check(before != UINT64_MAX && after - before <= 4,
        "background compaction ran %llu passes in 2 s on an idle database (before: about 1,000)",
        (unsigned long long)(after - before));
  verify_ok(db, "after the idle wait");
  firkin_close(db);
}

/* Waits (up to `ms`) until the writer holds at most `bound` namespaces;
 * returns how many it holds then. */
static uint64_t held_within(firkin_db *db, uint64_t bound, int ms) {
  uint64_t held = stat_u64(db, "namespaces_held");
  for (int waited = 0; held > bound && waited < ms; waited += 10) {
    pause_ms(10);
    held = stat_u64(db, "namespaces_held");
  }
  return held;
}

/* bg_churn: `rounds` bursts of `per_round` create/put/drop cycles, each
 * followed by at most 5 s for background compaction to bring the table
 * down to `bound`; the most held during the bursts and after the waits. */
struct bg_result {
  uint64_t most_during, most_after;
  int slowest_ms, rounds;
  bool ok;
};

static struct bg_result bg_churn(firkin_db *db, int *i, int rounds, int per_round, int bound) {
  struct bg_result r = {0, 0, 0, 0, true};
  struct timespec t0, t1;
  while (r.ok && r.rounds < rounds) {
    r.rounds++;
    for (int end = *i + per_round; r.ok && *i < end; (*i)++) {
      char name[16];
      snprintf(name, sizeof name, "c%d", *i % 4);
      r.ok = cycle(db, name, *i);
      if (*i % 50 == 49) {
        const uint64_t held = stat_u64(db, "namespaces_held");
        if (held > r.most_during) r.most_during = held;
      }
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const uint64_t held = held_within(db, (uint64_t)bound, 5000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const int ms = (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    if (ms > r.slowest_ms) r.slowest_ms = ms;
    if (held > r.most_after) r.most_after = held;
    if (held > (uint64_t)bound) break; /* (fails; no more 5-s waits) */
  }
  return r;
}

/* Writes pause: one key overwritten until the active segment has rolled
 * (the last cycles' records then lie in a sealed segment, mostly dead);
 * then at most 5 s for the table to come down to 2. */
static uint64_t bg_pause(firkin_db *db, const char *big) {
  for (int w = 0; w < 20; w++) {
    check(firkin_put(db, NULL, NULL, "roll", 4, big, 4000) == FIRKIN_OK, "put roll");
  }
  return held_within(db, 2, 5000);
}

/* Background compaction alone (no firkin_compact) keeps the writer's
 * namespace table bounded under churn. Below the churn lie 80 segments of
 * live values, so that every drop has more than 64 segments below it (a
 * background pass asked at most 64 segments whether they held a record of
 * a namespace, and so forgot none: the table grew by one namespace a
 * cycle). The churn goes in bursts of 800 cycles (about two 64 KB
 * segments), each followed by at most 5 s for background compaction (its
 * period, a quarter of a second, is enough) to bring the table back to at
 * most 400: the active segment's namespaces (a 64 KB segment holds about
 * 360 cycles), which no pass can take, and "default". Sampled every 50
 * cycles it then never holds more than 1,200. Once the churn stops and one
 * more write rolls the active segment, the table comes down to 2
 * ("default" and the highest id created, whose records stay so that no
 * open hands its id out again) within 5 s: an output kept for one
 * namespace's records (or for one record each of a namespace, its create
 * in one and its drop in the next) fell under compact_dead_ratio, and no
 * background pass took it again, one more each pass. Then a reopen (the
 * namespace left is loaded from the checkpoint, where its records start is
 * not known: every segment below its drop is asked, 64 a pass) and two
 * more bursts: the table comes down to 2 again (the old highest id goes). */
static void t_background(void) {
#if defined(__SANITIZE_THREAD__)
  const int rounds = 8;
#else
  const int rounds = 25;
#endif
  const int per_round = 800, bound = 400;
  char dir[512];
  dbpath(dir, sizeof dir, "background");
  firkin_db *db = open_db(dir, true, 64 << 10);
  if (db == NULL) return;
  static char big[5000];
  memset(big, 'c', sizeof big);
  int cold_failed = 0;
  for (int c = 0; c < 80 * 14; c++) { /* 14 values a 64 KB segment: 80 segments */
    char k[32];
    const int kl = snprintf(k, sizeof k, "cold%d", c);
    cold_failed += firkin_put(db, NULL, NULL, k, (size_t)kl, big, 4000) != FIRKIN_OK;
  }
  check(cold_failed == 0, "%d puts of live values failed", cold_failed);
  /* Too long for the room left in the last of them: the churn starts in a
   * fresh segment (a namespace whose create record lies in a segment of
   * live values stays for as long as that segment does). */
  check(firkin_put(db, NULL, NULL, "pad", 3, big, 5000) == FIRKIN_OK, "put pad");
  const uint64_t cold_segments = stat_u64(db, "segment_count");
  check(cold_segments > 64 && cold_segments != UINT64_MAX, "%llu segments of live values",
        (unsigned long long)cold_segments);
  int i = 0;
  struct bg_result r = bg_churn(db, &i, rounds, per_round, bound);
  check(r.ok, "background churn (cycle %d)", i);
  uint64_t held = bg_pause(db, big);
  printf(
      "  background: %d cycles in %d bursts; held at most %llu during the bursts, %llu after "
      "them (the slowest within %d ms), %llu once writes paused\n",
      i, r.rounds, (unsigned long long)r.most_during, (unsigned long long)r.most_after,
      r.slowest_ms, (unsigned long long)held);
  check(r.most_after <= (uint64_t)bound,
        "%llu namespaces held 5 s after a burst of %d cycles with background compaction, want "
        "<= %d",
        (unsigned long long)r.most_after, per_round, bound);
  check(r.most_during <= (uint64_t)(bound + per_round),
        "%llu namespaces held during the churn, want <= %d", (unsigned long long)r.most_during,
        bound + per_round);
  check(held <= 2, "%llu namespaces held 5 s after the churn stopped, want 2",
        (unsigned long long)held);
  check(listed(db, "default") && !listed(db, "c0") && !listed(db, "c3"),
        "only default is listed after the background churn");
  verify_ok(db, "after the background churn");
  check(firkin_close(db) == FIRKIN_OK, "close");

  db = open_db(dir, true, 64 << 10);
  if (db == NULL) return;
  check(!listed(db, "c0") && !listed(db, "c1"), "no churned namespace is back after a reopen");
  const uint64_t forgotten = stat_u64(db, "namespaces_forgotten");
  r = bg_churn(db, &i, 2, per_round, bound);
  check(r.ok && r.most_after <= (uint64_t)bound,
        "after a reopen: %llu namespaces held 5 s after a burst (cycle %d)",
        (unsigned long long)r.most_after, i);
  held = bg_pause(db, big);
  printf("  background, reopened: %llu namespaces held once writes paused, %llu forgotten\n",
         (unsigned long long)held,
         (unsigned long long)(stat_u64(db, "namespaces_forgotten") - forgotten));
  check(held <= 2, "after a reopen: %llu namespaces held 5 s after the churn stopped, want 2",
        (unsigned long long)held);
  check(empty_ns(db, "c1", i), "c1 made again is empty");
  verify_ok(db, "after the reopen");
  firkin_close(db);
}

/* interleaved: churn beside live data, with background compaction alone.
 * Part 1: 20,000 create/put/drop cycles over 4 names, each followed by a
 * put of a new key (80-byte value) to "default" that stays live. A cycle
 * leaves its put (purged) and its drop record dead; its create record
 * counted live until the fix (a dropped namespace's create record now
 * counts dead from the drop on, wherever it lies), so a log segment of
 * such cycles was under compact_dead_ratio (about 44% dead) and no pass
 * took it: every namespace stayed in the table (20,001 held). With the
 * create dead too (about 54%) the passes take them and the table comes
 * down to what passes keep beside live values once the active segment
 * rolls (45-61, about a namespace per output: see below). Part 2: 1,000
 * namespaces made while live data around them is overwritten; a
 * firkin_compact copies their create records (live then) into an output;
 * then each gets a key and is dropped, and background compaction alone
 * runs: the output's create records counted live for good (the output
 * was never taken again: 1,000 held), now dead (the output is taken with
 * the drops): at most 4 more than before them. Every live value is there after each part, after a
 * reopen, and verify is clean. */
static void roll(firkin_db *db, const char *big) {
  for (int w = 0; w < 20; w++) { /* rolls the active segment */
    check(firkin_put(db, NULL, NULL, "roll", 4, big, 4000) == FIRKIN_OK, "put roll");
  }
}

/* Rolls the active segment (overwrites of one key) ten times a second for
 * up to `ms`, until the writer holds at most `bound` namespaces: a writer
 * that goes on writing, slowly. (Writes matter: a background pass takes
 * an output kept for namespace records alone again only once some other
 * segment retired; see t_idle.) */
static uint64_t held_settled(firkin_db *db, const char *big, uint64_t bound, int ms) {
  uint64_t held = UINT64_MAX;
  for (int waited = 0; held > bound && waited <= ms; waited += 100) {
    roll(db, big);
    held = held_within(db, bound, 100);
  }
  return held;
}

static int live_missing(firkin_db *db, const char *prefix, int n) {
  int missing = 0;
  for (int i = 0; i < n; i += 7) {
    char k[32];
    const int kl = snprintf(k, sizeof k, "%s%d", prefix, i);
    void *v = NULL;
    size_t vl = 0;
    if (firkin_get(db, NULL, NULL, k, (size_t)kl, &v, &vl) != FIRKIN_OK || vl != 80) missing++;
    firkin_free(v);
  }
  return missing;
}

static void t_interleaved(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "interleaved");
  const uint64_t seg = 64 << 10;
  firkin_db *db = open_db(dir, true, seg);
  if (db == NULL) return;
  static char val[80], big[4000];
  memset(val, 'd', sizeof val);
  memset(big, 'r', sizeof big);
  const int cycles = 20000;
  bool ok = true;
  int i = 0;
  for (; ok && i < cycles; i++) {
    char name[16], k[32];
    snprintf(name, sizeof name, "c%d", i % 4);
    ok = cycle(db, name, i);
    const int kl = snprintf(k, sizeof k, "live%d", i);
    ok = ok && firkin_put(db, NULL, NULL, k, (size_t)kl, val, sizeof val) == FIRKIN_OK;
  }
  check(ok, "interleaved churn (cycle %d)", i);
  const uint64_t at_end = stat_u64(db, "namespaces_held");
  /* Settled to the bound checked below, not lower: it stays above a few
   * namespaces (see below), and waiting for that took 20 s of every run. */
  uint64_t held = held_settled(db, big, stat_u64(db, "segment_count") + 4, 20000);
  printf("  interleaved: %d cycles beside live puts: %llu namespaces held at the end, %llu once "
         "writes slowed (to the bound, 20 s at most); live %llu B, dead %llu B, %llu forgotten\n",
         cycles, (unsigned long long)at_end, (unsigned long long)held,
         (unsigned long long)stat_u64(db, "live_bytes"),
         (unsigned long long)stat_u64(db, "dead_bytes"),
         (unsigned long long)stat_u64(db, "namespaces_forgotten"));
  /* What stays: a pass that took every sealed segment keeps the highest
   * id's create and drop records (so that no open hands that id out
   * again), and so may one that met only one record of a namespace; in
   * an output of live values those are under compact_dead_ratio, a
   * namespace or so per output (45-61 over about 60 segments). */
  const uint64_t segs = stat_u64(db, "segment_count");
  check(held <= segs + 4 && held <= 400,
        "%llu namespaces held after %d cycles beside live puts, want <= %llu (the segments + 4)",
        (unsigned long long)held, cycles, (unsigned long long)(segs + 4));
  check(live_missing(db, "live", cycles) == 0, "every live value is there");
  check(listed(db, "default") && !listed(db, "c0") && !listed(db, "c3"),
        "only default is listed after the interleaved churn");
  verify_ok(db, "after the interleaved churn");

  /* Part 2: create records copied into an output while live. */
  const int made = 1000;
  for (int n = 0; ok && n < made; n++) {
    char name[16];
    snprintf(name, sizeof name, "a%d", n);
    firkin_ns *ns = NULL;
    ok = firkin_ns_create(db, name, &ns) == FIRKIN_OK;
    firkin_ns_close(ns);
    ok = ok && firkin_put(db, NULL, NULL, "hot", 3, big, 200) == FIRKIN_OK; /* dies */
  }
  check(ok, "create %d namespaces", made);
  roll(db, big);
  check(firkin_compact(db) == FIRKIN_OK, "compact (the create records go into an output)");
  const uint64_t before_drops = stat_u64(db, "namespaces_held");
  for (int n = 0; ok && n < made; n++) {
    char name[16];
    snprintf(name, sizeof name, "a%d", n);
    firkin_ns *ns = NULL;
    ok = firkin_ns_open(db, name, false, &ns) == FIRKIN_OK;
    ok = ok && firkin_put(db, NULL, ns, "k", 1, "v", 1) == FIRKIN_OK;
    firkin_ns_close(ns);
    ok = ok && firkin_ns_drop(db, name) == FIRKIN_OK;
  }
  check(ok, "put into and drop %d namespaces", made);
  held = held_settled(db, big, before_drops - made + 4, 20000); /* the bound checked below */
  printf("  interleaved: %d namespaces whose create records a pass copied while live: %llu held "
         "before the drops, %llu after them once writes slowed (20 s at most)\n",
         made, (unsigned long long)before_drops, (unsigned long long)held);
  check(before_drops != UINT64_MAX && held <= before_drops - made + 4,
        "%llu namespaces held after dropping %d whose create records lie in an output, want <= "
        "%llu", (unsigned long long)held, made, (unsigned long long)(before_drops - made + 4));
  verify_ok(db, "after the drops");
  check(firkin_close(db) == FIRKIN_OK, "close");
  db = open_db(dir, true, seg);
  if (db == NULL) return;
  check(!listed(db, "c0") && !listed(db, "a0") && !listed(db, "a999"),
        "nothing dropped is back after a reopen");
  check(live_missing(db, "live", cycles) == 0, "every live value is there after a reopen");
  const uint64_t reopened = stat_u64(db, "namespaces_held");
  check(reopened <= before_drops - made + 4, "%llu namespaces held after a reopen",
        (unsigned long long)reopened);
  check(empty_ns(db, "a5", 1), "a5 made again is empty");
  verify_ok(db, "after a reopen");
  firkin_close(db);
}

/* ckpt_drop: a namespace live when a checkpoint was loaded. Its create
 * record's place was not known after the load (NamespaceInfo::create_loc:
 * only a create or a replay of the log set it), so its drop left the
 * record counted live, wherever it lay. Part 1, no background compaction:
 * dropping 100 empty namespaces loaded from the CHECKPOINT a clean close
 * wrote must move as many bytes to dead as dropping 100 made after the
 * reopen (names of the same length): the drop records and the create
 * records (before: the drop records alone). Part 2, background compaction
 * alone: 1,000 namespaces, each with one value that dies at its drop,
 * beside a value of the same size in "default" that stays live, so that a
 * log segment of them is under compact_dead_ratio unless the create
 * records count dead too (about 45% dead against 55%); a clean close and
 * a reopen, then all 1,000 dropped: once writes slow, at most 4 more than
 * before them are held (before: every one, for good). */
/* Whether the open used the CHECKPOINT (stats checkpoint.used_at_open);
 * if not, prints why. */
static bool used_checkpoint(firkin_db *db) {
  char *j = NULL;
  bool used = false;
  if (firkin_stats(db, &j) == FIRKIN_OK) {
    const char *c = strstr(j, "\"checkpoint\":{");
    used = c != NULL && strstr(c, "\"used_at_open\":true") != NULL;
    if (!used) printf("  not used: %.300s\n", c != NULL ? c : j);
  }
  firkin_free(j);
  return used;
}

static void t_ckpt_drop(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "ckpt_drop");
  const uint64_t seg = 64 << 10;
  firkin_db *db = open_db(dir, false, seg);
  if (db == NULL) return;
  char name[16];
  bool ok = true;
  for (int n = 0; ok && n < 100; n++) {
    snprintf(name, sizeof name, "old%03d", n);
    firkin_ns *ns = NULL;
    ok = firkin_ns_create(db, name, &ns) == FIRKIN_OK;
    firkin_ns_close(ns);
  }
  check(ok, "create 100 namespaces");
  check(firkin_close(db) == FIRKIN_OK, "close (a checkpoint)");
  db = open_db(dir, false, seg);
  if (db == NULL) return;
  check(used_checkpoint(db), "the reopen used the checkpoint");
  for (int n = 0; ok && n < 100; n++) {
    snprintf(name, sizeof name, "new%03d", n);
    firkin_ns *ns = NULL;
    ok = firkin_ns_create(db, name, &ns) == FIRKIN_OK;
    firkin_ns_close(ns);
  }
  check(ok, "create 100 namespaces after the reopen");
  const uint64_t d0 = stat_u64(db, "dead_bytes");
  for (int n = 0; ok && n < 100; n++) {
    snprintf(name, sizeof name, "new%03d", n);
    ok = firkin_ns_drop(db, name) == FIRKIN_OK;
  }
  const uint64_t d1 = stat_u64(db, "dead_bytes");
  for (int n = 0; ok && n < 100; n++) {
    snprintf(name, sizeof name, "old%03d", n);
    ok = firkin_ns_drop(db, name) == FIRKIN_OK;
  }
  const uint64_t d2 = stat_u64(db, "dead_bytes");
  check(ok, "drop 200 namespaces");
  printf("  ckpt_drop: dead bytes +%llu dropping 100 namespaces made after the reopen, +%llu "
         "dropping 100 loaded from the checkpoint\n",
         (unsigned long long)(d1 - d0), (unsigned long long)(d2 - d1));
  check(d0 != UINT64_MAX && d2 != UINT64_MAX && d2 - d1 == d1 - d0,
        "dropping namespaces loaded from a checkpoint counted %llu bytes dead, those made after "
        "it %llu (their create records)",
        (unsigned long long)(d2 - d1), (unsigned long long)(d1 - d0));
  verify_ok(db, "after the drops");
  check(firkin_close(db) == FIRKIN_OK, "close");

  /* Part 2: background compaction alone. */
  dbpath(dir, sizeof dir, "ckpt_drop_bg");
  const uint64_t big_seg = 256 << 10;
  db = open_db(dir, false, big_seg);
  if (db == NULL) return;
  static char val[200], big[100 << 10];
  memset(val, 'x', sizeof val);
  memset(big, 'r', sizeof big);
  const int made = 300; /* about 170 KB: the first segment */
  for (int n = 0; ok && n < made; n++) {
    snprintf(name, sizeof name, "a%d", n);
    firkin_ns *ns = NULL;
    char k[32];
    const int kl = snprintf(k, sizeof k, "live%d", n);
    ok = firkin_ns_create(db, name, &ns) == FIRKIN_OK;
    ok = ok && firkin_put(db, NULL, ns, "k", 1, val, sizeof val) == FIRKIN_OK; /* dies */
    ok = ok && firkin_put(db, NULL, NULL, k, (size_t)kl, val, sizeof val) == FIRKIN_OK;
    firkin_ns_close(ns);
  }
  check(ok, "create %d namespaces beside live values", made);
  /* Too long for the room left: what follows starts a segment. Then 1 MB
   * of live values, so that the log stays under compact_space_amp. */
  check(firkin_put(db, NULL, NULL, "pad", 3, big, sizeof big) == FIRKIN_OK, "put pad");
  for (int c = 0; c < 256; c++) {
    char k[32];
    const int kl = snprintf(k, sizeof k, "cold%d", c);
    check(firkin_put(db, NULL, NULL, k, (size_t)kl, big, 4000) == FIRKIN_OK, "put cold");
  }
  check(firkin_close(db) == FIRKIN_OK, "close (a checkpoint)");
  /* The drops, then one key overwritten until the segment rolls (the
   * drops' segment all dead), with no compaction; a checkpoint again. */
  db = open_db(dir, false, big_seg);
  if (db == NULL) return;
  check(used_checkpoint(db), "the reopen used the checkpoint");
  const uint64_t before_drops = stat_u64(db, "namespaces_held");
  for (int n = 0; ok && n < made; n++) {
    snprintf(name, sizeof name, "a%d", n);
    ok = firkin_ns_drop(db, name) == FIRKIN_OK;
  }
  check(ok, "drop %d namespaces loaded from the checkpoint", made);
  for (int w = 0; w < 70; w++) {
    check(firkin_put(db, NULL, NULL, "roll", 4, big, 4000) == FIRKIN_OK, "put roll");
  }
  check(firkin_close(db) == FIRKIN_OK, "close");
  /* Background compaction: a pass takes both segments (the drops' one,
   * and the create records' one: about 55% dead with them, 45% without)
   * and the namespaces go, but the highest id's. */
  db = open_db(dir, true, big_seg);
  if (db == NULL) return;
  const uint64_t held = held_within(db, before_drops - made + 2, 5000);
  printf("  ckpt_drop: %d namespaces loaded from a checkpoint, dropped: %llu held before the "
         "drops, %llu within 5 s of background compaction; live %llu B, dead %llu B\n",
         made, (unsigned long long)before_drops, (unsigned long long)held,
         (unsigned long long)stat_u64(db, "live_bytes"),
         (unsigned long long)stat_u64(db, "dead_bytes"));
  check(before_drops != UINT64_MAX && held <= before_drops - made + 2,
        "%llu namespaces held after dropping %d loaded from a checkpoint, want <= %llu",
        (unsigned long long)held, made, (unsigned long long)(before_drops - made + 2));
  int missing = 0;
  for (int n = 0; n < made; n += 7) {
    char k[32];
    const int kl = snprintf(k, sizeof k, "live%d", n);
    void *v = NULL;
    size_t vl = 0;
    if (firkin_get(db, NULL, NULL, k, (size_t)kl, &v, &vl) != FIRKIN_OK || vl != sizeof val) {
      missing++;
    }
    firkin_free(v);
  }
  check(missing == 0, "%d live values missing", missing);
  verify_ok(db, "after the drops");
  check(firkin_close(db) == FIRKIN_OK, "close");
  db = open_db(dir, true, big_seg);
  if (db == NULL) return;
  check(!listed(db, "a0") && !listed(db, "a299"), "nothing dropped is back after a reopen");
  check(empty_ns(db, "a5", 1), "a5 made again is empty");
  firkin_close(db);

  /* Part 3: a version-7 CHECKPOINT (no create record places, as libraries
   * before 2026-11-29 wrote it) is still used at open. */
  dbpath(dir, sizeof dir, "ckpt_v7");
  db = open_db(dir, false, seg);
  if (db == NULL) return;
  for (int n = 0; ok && n < 20; n++) {
    snprintf(name, sizeof name, "v%d", n);
    firkin_ns *ns = NULL;
    ok = firkin_ns_create(db, name, &ns) == FIRKIN_OK;
    ok = ok && firkin_put(db, NULL, ns, "k", 1, val, sizeof val) == FIRKIN_OK;
    firkin_ns_close(ns);
  }
  check(ok && firkin_ns_drop(db, "v0") == FIRKIN_OK, "20 namespaces, one dropped");
  check(firkin_close(db) == FIRKIN_OK, "close (a checkpoint)");
  /* A create record place that points elsewhere (one record on) makes
   * the checkpoint implausible: ignored, every segment scanned. */
  int placed = 0;
  if (ckpt_read(dir) == 0 && ckpt_version() == 8) {
    size_t p = ckpt_namespaces_at();
    for (uint64_t i = 0; i < ckpt_u64(40); i++) {
      const size_t tail = p + 6 + ckpt_buf[p + 5];
      if (ckpt_u64(tail + 24) != 0) {
        placed++;
        if (placed == 5) ckpt_put_u64(tail + 24, ckpt_u64(tail + 24) + 1);
      }
      p = tail + ckpt_ns_tail();
    }
  }
  check(placed == 19 && ckpt_write(dir) == 0,
        "%d live namespaces have their create record placed in the checkpoint, want 19", placed);
  db = open_db(dir, false, seg);
  if (db == NULL) return;
  check(!used_checkpoint(db), "a checkpoint placing a create record wrongly is not used");
  check(!listed(db, "v0") && listed(db, "v1") && listed(db, "v19"), "namespaces as before");
  check(firkin_close(db) == FIRKIN_OK, "close (a checkpoint)");
  check(ckpt_read(dir) == 0 && ckpt_version() == 8 && ckpt_to_v7() == 0 && ckpt_write(dir) == 0,
        "CHECKPOINT rewritten as version 7");
  db = open_db(dir, false, seg);
  if (db == NULL) return;
  check(used_checkpoint(db), "a version-7 checkpoint is used at open");
  check(!listed(db, "v0") && listed(db, "v1") && listed(db, "v19"), "namespaces as before");
  firkin_ns *ns = NULL;
  void *v = NULL;
  size_t vl = 0;
  check(firkin_ns_open(db, "v7", false, &ns) == FIRKIN_OK &&
            firkin_get(db, NULL, ns, "k", 1, &v, &vl) == FIRKIN_OK && vl == sizeof val,
        "v7's key after the reopen");
  firkin_free(v);
  firkin_ns_close(ns);
  check(firkin_ns_drop(db, "v1") == FIRKIN_OK, "drop v1");
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  check(!listed(db, "v1"), "v1 dropped");
  verify_ok(db, "after a version-7 checkpoint");
  check(firkin_close(db) == FIRKIN_OK, "close");
  check(ckpt_read(dir) == 0 && ckpt_version() == 8, "the next CHECKPOINT is version 8");
}

/* idle_split: an idle database keeps no output of dropped namespaces'
 * records for good. 300 namespaces, each with a value that dies at its
 * drop, beside small values in "default" that stay live (two 64 KB log
 * segments); all dropped at once; a background pass takes the create
 * records' segments (mostly dead now) while the drop records still lie in
 * the active segment, so its output keeps the create records beside the
 * live values (over 16 KiB: no rider). Once writes roll the segment of
 * the drops, a pass takes it and keeps the drop records (their create
 * records lie outside) in an output of them alone. Then writes stop
 * entirely: within 5 s the table comes down to at most 4 namespaces
 * (before: both outputs waited for some other segment to retire, which
 * on an idle database is never: 301 held), and passes stop (at most 4 in
 * the next 2 s). */
static void t_idle_split(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "idle_split");
  firkin_db *db = open_db(dir, true, 64 << 10);
  if (db == NULL) return;
  static char val[200], big[4000];
  memset(val, 'x', sizeof val);
  memset(big, 'r', sizeof big);
  const int made = 300;
  bool ok = true;
  for (int n = 0; ok && n < made; n++) {
    char name[16], k[32];
    snprintf(name, sizeof name, "s%d", n);
    const int kl = snprintf(k, sizeof k, "live%d", n);
    firkin_ns *ns = NULL;
    ok = firkin_ns_create(db, name, &ns) == FIRKIN_OK;
    ok = ok && firkin_put(db, NULL, ns, "k", 1, val, sizeof val) == FIRKIN_OK; /* dies */
    ok = ok && firkin_put(db, NULL, NULL, k, (size_t)kl, val, 40) == FIRKIN_OK;
    firkin_ns_close(ns);
  }
  check(ok, "create %d namespaces beside live values", made);
  roll(db, big);
  /* 1 MB of live values: the log stays under compact_space_amp (a pass
   * over it would take every segment a fifth dead). */
  for (int c = 0; ok && c < 256; c++) {
    char k[32];
    const int kl = snprintf(k, sizeof k, "cold%d", c);
    ok = firkin_put(db, NULL, NULL, k, (size_t)kl, big, sizeof big) == FIRKIN_OK;
  }
  check(ok, "put cold values");
  roll(db, big); /* (the drops in a segment of their own) */
  pause_ms(600);
  const uint64_t before_drops = stat_u64(db, "namespaces_held");
  for (int n = 0; ok && n < made; n++) {
    char name[16];
    snprintf(name, sizeof name, "s%d", n);
    ok = firkin_ns_drop(db, name) == FIRKIN_OK;
  }
  check(ok, "drop %d namespaces", made);
  pause_ms(1000); /* a pass takes the create records' segments */
  roll(db, big);  /* the drops' segment sealed; a pass takes it */
  pause_ms(1000);
  const uint64_t runs = compaction_runs(db);
  const uint64_t held = held_within(db, 4, 5000); /* no write from here on */
  const uint64_t idle_runs = compaction_runs(db) - runs;
  printf("  idle_split: %d namespaces dropped: %llu held before, %llu within 5 s once writes "
         "stopped (%llu passes); live %llu B, dead %llu B over %llu segments\n",
         made, (unsigned long long)before_drops, (unsigned long long)held,
         (unsigned long long)idle_runs, (unsigned long long)stat_u64(db, "live_bytes"),
         (unsigned long long)stat_u64(db, "dead_bytes"),
         (unsigned long long)stat_u64(db, "segment_count"));
  check(held <= 4, "%llu namespaces held 5 s into an idle database after dropping %d, want <= 4",
        (unsigned long long)held, made);
  const uint64_t runs2 = compaction_runs(db);
  pause_ms(2000);
  const uint64_t more = compaction_runs(db) - runs2;
  check(more <= 4, "an idle database ran %llu passes in 2 s", (unsigned long long)more);
  int missing = 0;
  for (int n = 0; n < made; n += 7) {
    char k[32];
    const int kl = snprintf(k, sizeof k, "live%d", n);
    void *v = NULL;
    size_t vl = 0;
    if (firkin_get(db, NULL, NULL, k, (size_t)kl, &v, &vl) != FIRKIN_OK || vl != 40) missing++;
    firkin_free(v);
  }
  check(missing == 0, "%d live values missing", missing);
  verify_ok(db, "after the idle wait");
  check(firkin_close(db) == FIRKIN_OK, "close");
  db = open_db(dir, true, 64 << 10);
  if (db == NULL) return;
  check(!listed(db, "s0") && !listed(db, "s299"), "nothing dropped is back after a reopen");
  check(empty_ns(db, "s5", 1), "s5 made again is empty");
  firkin_close(db);
}

static void crash_child(const char *dir) {
  firkin_db *db = open_db(dir, true, 64 << 10);
  if (db == NULL) _exit(2);
  for (int i = 0;; i++) {
    char name[16];
    snprintf(name, sizeof name, "k%d", i % 5);
    if (!cycle(db, name, i)) _exit(3);
    /* values that fill segments, so that they roll and compact */
    char k[32];
    int n = snprintf(k, sizeof k, "fill%d", i % 50);
    static char big[2000];
    if (firkin_put(db, NULL, NULL, k, (size_t)n, big, sizeof big) != FIRKIN_OK) _exit(4);
  }
}

/* cold: 80 segments of live values below the churn (written first), so
 * that every drop has more than 64 segments below it. */
static void t_crash(bool cold) {
  for (int run = 0; run < 3; run++) {
    char dir[512];
    dbpath(dir, sizeof dir, cold ? "crash_cold" : "crash");
    if (cold) {
      firkin_db *db = open_db(dir, false, 64 << 10);
      if (db == NULL) return;
      static char v[4000];
      memset(v, 'c', sizeof v);
      int failed_puts = 0;
      for (int c = 0; c < 80 * 14; c++) {
        char k[32];
        const int kl = snprintf(k, sizeof k, "cold%d", c);
        failed_puts += firkin_put(db, NULL, NULL, k, (size_t)kl, v, sizeof v) != FIRKIN_OK;
      }
      check(failed_puts == 0 && firkin_close(db) == FIRKIN_OK, "%d puts of live values failed",
            failed_puts);
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) crash_child(dir);
    const int ms = cold ? 500 + 250 * run : 300 + 250 * run;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFSIGNALED(st), "run %d: the child churned until killed (status %d)", run, st);
    for (int phase = 0; phase < 2; phase++) {
      firkin_db *db = open_db(dir, false, 64 << 10);
      if (db == NULL) return;
      uint64_t held = stat_u64(db, "namespaces_held");
      int live = 0;
      for (int j = 0; j < 5; j++) {
        char name[16];
        snprintf(name, sizeof name, "k%d", j);
        if (!listed(db, name)) continue;
        live++;
        firkin_ns *ns = NULL;
        uint64_t c = 9;
        check(firkin_ns_open(db, name, false, &ns) == FIRKIN_OK &&
                  firkin_count(db, ns, &c) == FIRKIN_OK && c <= 1,
              "run %d: live %s holds %llu keys", run, name, (unsigned long long)c);
        firkin_ns_close(ns);
        check(firkin_ns_drop(db, name) == FIRKIN_OK, "drop %s", name);
      }
      check(live <= 1, "run %d phase %d: %d namespaces live after the kill", run, phase, live);
      verify_ok(db, "after the kill");
      check(firkin_compact(db) == FIRKIN_OK, "compact after the kill");
      verify_ok(db, "after the kill and a compaction");
      uint64_t before = 0;
      firkin_ns *t = NULL;
      check(firkin_ns_create(db, "probe", &t) == FIRKIN_OK, "create probe");
      before = ns_id(db, "probe");
      firkin_ns_close(t);
      check(empty_ns(db, "k0", 1000) && empty_ns(db, "k3", 1000), "names made again are empty");
      check(firkin_ns_drop(db, "probe") == FIRKIN_OK, "drop probe");
      if (cold) {
        /* The live values below the churn are all there. */
        uint64_t n = 0;
        void *v = NULL;
        size_t vl = 0;
        check(firkin_count(db, NULL, &n) == FIRKIN_OK && n >= 80 * 14 &&
                  firkin_get(db, NULL, NULL, "cold1119", 8, &v, &vl) == FIRKIN_OK && vl == 4000,
              "run %d: %llu keys in default, cold1119 of %zu B", run, (unsigned long long)n, vl);
        firkin_free(v);
      }
      if (phase == 0) {
        printf("  crash%s run %d: %llu namespaces held at reopen, probe id %llu\n",
               cold ? "_cold" : "", run, (unsigned long long)held, (unsigned long long)before);
      }
      firkin_close(db);
      if (phase == 1) {
        db = open_db(dir, false, 64 << 10);
        if (db == NULL) return;
        firkin_ns *p2 = NULL;
        check(firkin_ns_create(db, "probe2", &p2) == FIRKIN_OK, "create probe2");
        check(ns_id(db, "probe2") > before, "ids keep growing after compactions and reopens");
        firkin_ns_close(p2);
        firkin_close(db);
      }
    }
  }
}

/* ckpt: 0 none, 8 the checkpoint as written (version 8: it places each
 * create record), 7 the same made a version-7 file (no places). */
static void t_reader(int ckpt) {
  const bool from_checkpoint = ckpt != 0;
  char dir[512];
  dbpath(dir, sizeof dir, ckpt == 0 ? "reader" : ckpt == 8 ? "reader_ckpt" : "reader_ckpt7");
  const uint64_t seg = 64 << 10;
  firkin_db *w = open_db(dir, false, seg);
  if (w == NULL) return;
  firkin_write_options *wo = NULL;
  firkin_write_options_new(&wo);
  firkin_write_options_set_sync(wo, FIRKIN_SYNC_ALWAYS);
  firkin_ns *gone = NULL, *top = NULL;
  check(firkin_ns_create(w, "gone", &gone) == FIRKIN_OK, "create gone");
  check(firkin_put(w, wo, gone, "g", 1, "v", 1) == FIRKIN_OK, "put gone");
  check(firkin_ns_create(w, "top", &top) == FIRKIN_OK, "create top");
  check(firkin_put(w, wo, top, "t", 1, "v", 1) == FIRKIN_OK, "put top");

  /* From a checkpoint, the reader does not read gone's create record. */
  if (from_checkpoint) check(firkin_checkpoint(w) == FIRKIN_OK, "checkpoint");
  if (ckpt == 7) {
    check(ckpt_read(dir) == 0 && ckpt_version() == 8 && ckpt_to_v7() == 0 && ckpt_write(dir) == 0,
          "the checkpoint made a version-7 file");
  }
  firkin_options *ro = opts(false, seg);
  firkin_options_set_read_only(ro, true);
  firkin_db *r = NULL;
  check(firkin_open(dir, ro, &r) == FIRKIN_OK, "read-only open");
  firkin_options_free(ro);
  if (r == NULL) return;
  if (from_checkpoint) {
    char *j = NULL;
    check(firkin_stats(r, &j) == FIRKIN_OK && strstr(j, "\"used_at_open\":true") != NULL,
          "the reader opened from the checkpoint");
    firkin_free(j);
  }
  firkin_ns *rg = NULL;
  check(firkin_ns_open(r, "gone", false, &rg) == FIRKIN_OK, "the reader sees gone");

  /* The drop, then enough to roll the segment past it, then a pass over
   * the sealed segments (the reader has not read the drop). */
  check(firkin_ns_drop(w, "gone") == FIRKIN_OK, "drop gone");
  static char big[4000];
  for (int i = 0; i < 40; i++) {
    char k[16];
    int n = snprintf(k, sizeof k, "f%d", i);
    firkin_put(w, NULL, NULL, k, (size_t)n, big, sizeof big);
  }
  check(firkin_ns_drop(w, "top") == FIRKIN_OK, "drop top");
  firkin_ns *later = NULL;
  check(firkin_ns_create(w, "later", &later) == FIRKIN_OK, "create later");
  for (int i = 0; i < 40; i++) {
    char k[16];
    int n = snprintf(k, sizeof k, "f%d", i);
    firkin_put(w, NULL, NULL, k, (size_t)n, big, sizeof big);
  }
  check(firkin_compact(w) == FIRKIN_OK, "compact");
  check(firkin_sync(w) == FIRKIN_OK, "sync");
  const uint64_t forgotten = stat_u64(w, "namespaces_forgotten");
  check(forgotten != UINT64_MAX && forgotten >= 1,
        "the writer's pass left out gone's records (%llu forgotten)", (unsigned long long)forgotten);

  check(firkin_refresh(r) == FIRKIN_OK, "refresh");
  check(!listed(r, "gone"), "the reader no longer lists gone");
  check(firkin_get(r, NULL, rg, "g", 1, &(void *){NULL}, &(size_t){0}) ==
            FIRKIN_E_NAMESPACE_NOT_FOUND,
        "the reader's handle to gone gives NAMESPACE_NOT_FOUND");
  check(listed(r, "later") && !listed(r, "top"), "the reader lists later, not top");
  if (from_checkpoint) {
    /* Version 8 told where gone's create record lay: no segment is read
     * for it (until 2026-11-29 the refresh read the one that went, as it
     * still does for a version-7 file). */
    const uint64_t scanned = stat_u64(r, "create_scan_bytes");
    if (ckpt == 7) {
      check(scanned > 0 && scanned != UINT64_MAX,
            "the refresh read the checkpoint's segment (%llu B)", (unsigned long long)scanned);
    } else {
      check(scanned == 0, "the refresh read %llu B for create records the checkpoint placed",
            (unsigned long long)scanned);
    }
  }
  const uint64_t let_go = stat_u64(r, "namespaces_forgotten");
  check(let_go >= 1 && let_go != UINT64_MAX, "the reader forgot gone (%llu forgotten)",
        (unsigned long long)let_go);
  check(stat_u64(r, "namespaces_held") <= stat_u64(w, "namespaces_held") + 1,
        "the reader holds %llu namespaces, the writer %llu",
        (unsigned long long)stat_u64(r, "namespaces_held"),
        (unsigned long long)stat_u64(w, "namespaces_held"));
  verify_ok(r, "on the reader");
  firkin_ns_close(rg);
  firkin_close(r);
  firkin_ns_close(gone);
  firkin_ns_close(top);
  firkin_ns_close(later);
  firkin_write_options_free(wo);
  firkin_close(w);
}

/* A reader follows churn: its table forgets what the writer forgot. */
static void t_reader_forget(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "reader_forget");
  const uint64_t seg = 64 << 10;
  firkin_db *w = open_db(dir, false, seg);
  if (w == NULL) return;
  int i = 0;
  bool ok = true;
  /* Dropped namespaces the writer has not forgotten yet go into the
   * checkpoint (flagged dropped), with a live one the reader holds. */
  for (; ok && i < 40; i++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", i % 4);
    ok = cycle(w, name, i);
  }
  firkin_ns *held = NULL;
  check(firkin_ns_create(w, "held", &held) == FIRKIN_OK, "create held");
  check(firkin_put(w, NULL, held, "h", 1, "v", 1) == FIRKIN_OK, "put held");
  check(firkin_checkpoint(w) == FIRKIN_OK, "checkpoint");
  firkin_options *ro = opts(false, seg);
  firkin_options_set_read_only(ro, true);
  firkin_db *r = NULL;
  check(firkin_open(dir, ro, &r) == FIRKIN_OK, "read-only open");
  firkin_options_free(ro);
  if (r == NULL) return;
  const uint64_t at_open = stat_u64(r, "namespaces_held");
  check(at_open >= 40, "the reader's table holds the checkpoint's namespaces (%llu)",
        (unsigned long long)at_open);
  firkin_ns *rh = NULL;
  check(firkin_ns_open(r, "held", false, &rh) == FIRKIN_OK, "the reader opens held");
  check(firkin_ns_drop(w, "held") == FIRKIN_OK, "drop held");
  firkin_changes *c = NULL;
  check(firkin_changes_open(r, 0, NULL, &c) == FIRKIN_OK, "a cursor on the reader");
  uint64_t most = 0;
  for (; ok && i < 640; i++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", i % 4);
    ok = cycle(w, name, i);
    if (i % 50 == 49) {
      ok = ok && firkin_compact(w) == FIRKIN_OK && firkin_refresh(r) == FIRKIN_OK;
      const uint64_t h = stat_u64(r, "namespaces_held");
      if (h > most && i > 200) most = h;
    }
  }
  check(ok, "churn with a reader following");
  check(firkin_compact(w) == FIRKIN_OK && firkin_refresh(r) == FIRKIN_OK, "last pass and refresh");
  const uint64_t wh = stat_u64(w, "namespaces_held"), rh_now = stat_u64(r, "namespaces_held");
  check(rh_now <= wh + 4 && most <= 40,
        "the reader holds %llu namespaces (the writer %llu; at most %llu after 200 cycles)",
        (unsigned long long)rh_now, (unsigned long long)wh, (unsigned long long)most);
  check(!listed(r, "held") && !listed(r, "c0"), "the reader lists neither held nor c0");
  check(firkin_get(r, NULL, rh, "h", 1, &(void *){NULL}, &(size_t){0}) ==
            FIRKIN_E_NAMESPACE_NOT_FOUND,
        "the reader's handle to held, forgotten, gives NAMESPACE_NOT_FOUND");
  check(strcmp(firkin_ns_name(rh), "held") == 0, "the handle's name");
  int named = 0, unnamed = 0;
  for (; c != NULL && firkin_changes_valid(c); firkin_changes_next(c)) {
    if (firkin_changes_type(c) != FIRKIN_CHANGE_PUT) continue;
    if (firkin_changes_namespace(c)[0] == '\0') unnamed++;
    else named++;
  }
  check(named > 0 && unnamed == 0, "the reader's cursor named %d puts, left %d unnamed", named,
        unnamed);
  verify_ok(r, "on the reader after churn");
  firkin_changes_free(c);
  firkin_ns_close(rh);
  firkin_close(r);
  firkin_ns_close(held);
  firkin_close(w);
}

/* A reader from a checkpoint follows writers killed during churn. */
static void t_reader_crash(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "reader_crash");
  const uint64_t seg = 64 << 10;
  firkin_db *w = open_db(dir, false, seg);
  if (w == NULL) return;
  firkin_ns *keep = NULL;
  check(firkin_ns_create(w, "keep", &keep) == FIRKIN_OK, "create keep");
  check(firkin_put(w, NULL, keep, "kk", 2, "kv", 2) == FIRKIN_OK, "put keep");
  firkin_ns_close(keep);
  for (int i = 0; i < 30; i++) cycle(w, "k1", i);
  check(firkin_checkpoint(w) == FIRKIN_OK, "checkpoint");
  check(firkin_close(w) == FIRKIN_OK, "close");
  /* Opened before any writer runs again: from the checkpoint for sure (a
   * live writer's pass may retire a segment it lists first). */
  firkin_db *r = NULL;
  firkin_options *ro = opts(false, seg);
  firkin_options_set_read_only(ro, true);
  check(firkin_open(dir, ro, &r) == FIRKIN_OK, "read-only open");
  firkin_options_free(ro);
  if (r == NULL) return;
  char *j = NULL;
  check(firkin_stats(r, &j) == FIRKIN_OK && strstr(j, "\"used_at_open\":true") != NULL,
        "the reader opened from the checkpoint");
  firkin_free(j);
  firkin_ns *rk = NULL;
  check(firkin_ns_open(r, "keep", false, &rk) == FIRKIN_OK, "the reader opens keep");
  int refreshes = 0, missed = 0, failed_refresh = 0;
  for (int run = 0; run < 3; run++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) crash_child(dir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
      const firkin_status st = firkin_refresh(r);
      if (st == FIRKIN_OK) {
        refreshes++;
        if (!listed(r, "keep")) missed++;
      } else if (st != FIRKIN_E_BUSY) {
        failed_refresh++;
      }
      clock_gettime(CLOCK_MONOTONIC, &t1);
    } while ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 400 + 200 * run);
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFSIGNALED(st), "run %d: the child churned until killed (status %d)", run, st);
    check(firkin_refresh(r) == FIRKIN_OK, "refresh after the kill");
    /* The name the child was cycling may be live: the next child makes
     * it again. */
    w = open_db(dir, false, seg);
    if (w == NULL) break;
    for (int j = 0; j < 5; j++) {
      char name[16];
      snprintf(name, sizeof name, "k%d", j);
      if (listed(w, name)) check(firkin_ns_drop(w, name) == FIRKIN_OK, "drop %s", name);
    }
    check(firkin_close(w) == FIRKIN_OK, "close");
  }
  w = open_db(dir, false, seg);
  if (w == NULL) return;
  check(firkin_compact(w) == FIRKIN_OK && firkin_sync(w) == FIRKIN_OK, "compact after the kills");
  check(firkin_refresh(r) == FIRKIN_OK, "last refresh");
  check(refreshes > 3 && missed == 0 && failed_refresh == 0,
        "keep missing from the reader's list in %d of %d refreshes (%d failed)", missed,
        refreshes, failed_refresh);
  void *v = NULL;
  size_t vl = 0;
  check(firkin_get(r, NULL, rk, "kk", 2, &v, &vl) == FIRKIN_OK && vl == 2 &&
            memcmp(v, "kv", 2) == 0,
        "keep's key through the reader's first handle");
  firkin_free(v);
  for (int j = 0; j < 5; j++) {
    char name[16];
    snprintf(name, sizeof name, "k%d", j);
    check(listed(r, name) == listed(w, name), "the reader lists %s as the writer does", name);
  }
  const uint64_t rh = stat_u64(r, "namespaces_held"), wh = stat_u64(w, "namespaces_held");
  check(rh <= wh + 4, "the reader holds %llu namespaces (the writer %llu)",
        (unsigned long long)rh, (unsigned long long)wh);
  printf("  reader_crash: %d refreshes, reader holds %llu namespaces, %llu forgotten, %llu "
         "create scan bytes\n",
         refreshes, (unsigned long long)rh,
         (unsigned long long)stat_u64(r, "namespaces_forgotten"),
         (unsigned long long)stat_u64(r, "create_scan_bytes"));
  verify_ok(r, "on the reader after the kills");
  firkin_ns_close(rk);
  firkin_close(r);
  firkin_close(w);
}

/* reader_threads: what the threads share. */
struct rt_shared {
  firkin_db *w, *r;
  volatile int stop;  /* (set once, by the writer thread; read by the others) */
  int writer_failed, refresh_failed;       /* (one thread each) */
  int user_failed, unnamed, named;         /* (both users: atomic adds) */
};

static void *rt_writer(void *arg) {
  struct rt_shared *sh = arg;
  for (int i = 0; i < 1200 && !sh->writer_failed; i++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", i % 4);
    if (!cycle(sh->w, name, i)) sh->writer_failed = 1;
    if (i % 40 == 39 && firkin_compact(sh->w) != FIRKIN_OK) sh->writer_failed = 2;
  }
  __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void *rt_refresher(void *arg) {
  struct rt_shared *sh = arg;
  while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
    const firkin_status st = firkin_refresh(sh->r);
    if (st != FIRKIN_OK && st != FIRKIN_E_BUSY) sh->refresh_failed++;
  }
  return NULL;
}

static void *rt_user(void *arg) {
  struct rt_shared *sh = arg;
  firkin_ns *kept[4] = {NULL, NULL, NULL, NULL};
  for (int it = 0; !__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE); it++) {
    char *l = NULL;
    if (firkin_ns_list(sh->r, &l) != FIRKIN_OK) __atomic_fetch_add(&sh->user_failed, 1, __ATOMIC_RELAXED);
    firkin_free(l);
    for (int n = 0; n < 4; n++) {
      char name[16];
      snprintf(name, sizeof name, "c%d", n);
      if (kept[n] == NULL) {
        const firkin_status st = firkin_ns_open(sh->r, name, false, &kept[n]);
        if (st != FIRKIN_OK && st != FIRKIN_E_NAMESPACE_NOT_FOUND) __atomic_fetch_add(&sh->user_failed, 1, __ATOMIC_RELAXED);
        continue;
      }
      void *v = NULL;
      size_t vl = 0;
      const firkin_status st = firkin_get(sh->r, NULL, kept[n], "key0", 4, &v, &vl);
      firkin_free(v);
      if (st == FIRKIN_E_NAMESPACE_NOT_FOUND || it % 7 == 0) {
        firkin_ns_close(kept[n]);  /* maybe the last reference of a forgotten one */
        kept[n] = NULL;
      } else if (st != FIRKIN_OK && st != FIRKIN_E_NOT_FOUND) {
        __atomic_fetch_add(&sh->user_failed, 1, __ATOMIC_RELAXED);
      }
    }
    char *j = NULL;
    if (firkin_stats(sh->r, &j) != FIRKIN_OK) __atomic_fetch_add(&sh->user_failed, 1, __ATOMIC_RELAXED);
    firkin_free(j);
    if (it % 16 == 0) {
      firkin_changes *c = NULL;
      uint64_t at = 0;
      firkin_last_seq(sh->r, &at);
      if (firkin_changes_open(sh->r, at > 40 ? at - 40 : 0, NULL, &c) == FIRKIN_OK) {
        for (int k = 0; k < 60 && firkin_changes_valid(c); k++, firkin_changes_next(c)) {
          if (firkin_changes_type(c) != FIRKIN_CHANGE_PUT) continue;
          if (firkin_changes_namespace(c)[0] == '\0') __atomic_fetch_add(&sh->unnamed, 1, __ATOMIC_RELAXED);
          else __atomic_fetch_add(&sh->named, 1, __ATOMIC_RELAXED);
        }
      }
      firkin_changes_free(c);
    }
  }
  for (int n = 0; n < 4; n++) firkin_ns_close(kept[n]);
  return NULL;
}

static void t_reader_threads(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "reader_threads");
  struct rt_shared sh;
  memset(&sh, 0, sizeof sh);
  sh.w = open_db(dir, false, 64 << 10);
  if (sh.w == NULL) return;
  firkin_options *ro = opts(false, 64 << 10);
  firkin_options_set_read_only(ro, true);
  check(firkin_open(dir, ro, &sh.r) == FIRKIN_OK, "read-only open");
  firkin_options_free(ro);
  if (sh.r == NULL) return;
  pthread_t t[4];
  pthread_create(&t[0], NULL, rt_writer, &sh);
  pthread_create(&t[1], NULL, rt_refresher, &sh);
  pthread_create(&t[2], NULL, rt_user, &sh);
  pthread_create(&t[3], NULL, rt_user, &sh);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  check(sh.writer_failed == 0 && sh.refresh_failed == 0 && sh.user_failed == 0,
        "failures: writer %d, refresh %d, reader calls %d", sh.writer_failed, sh.refresh_failed,
        sh.user_failed);
  check(sh.unnamed == 0, "the reader's cursors named %d puts, left %d unnamed", sh.named,
        sh.unnamed);
  check(firkin_compact(sh.w) == FIRKIN_OK && firkin_refresh(sh.r) == FIRKIN_OK, "last refresh");
  const uint64_t held = stat_u64(sh.r, "namespaces_held");
  check(held <= stat_u64(sh.w, "namespaces_held") + 4, "the reader holds %llu namespaces",
        (unsigned long long)held);
  printf("  reader_threads: the reader forgot %llu namespaces, its cursors named %d puts\n",
         (unsigned long long)stat_u64(sh.r, "namespaces_forgotten"), sh.named);
  verify_ok(sh.r, "on the reader after threaded churn");
  firkin_close(sh.r);
  firkin_close(sh.w);
}

/* A change cursor opened after a namespace's create and drop (its start
 * past the create record) reads the namespace's put after compaction has
 * retired the segment and the writer has forgotten the namespace: the
 * change still names it (a code review's case: it was named ""). */
static void t_cursor(void) {
  char dir[600];
  snprintf(dir, sizeof dir, "%s/cursor", base_dir);
  firkin_db *db = open_db(dir, false, 64 << 10);
  if (db == NULL) return;
  firkin_ns *a = NULL, *m = NULL;
  check(firkin_ns_create(db, "A", &a) == FIRKIN_OK, "create A");  /* seq 1 */
  check(firkin_ns_create(db, "M", &m) == FIRKIN_OK, "create M");  /* seq 2 */
  check(firkin_put(db, NULL, a, "k", 1, "v", 1) == FIRKIN_OK, "put into A");  /* seq 3 */
  firkin_ns_close(a);
  check(firkin_ns_drop(db, "A") == FIRKIN_OK, "drop A");  /* seq 4 */
  firkin_changes *c = NULL;
  check(firkin_changes_open(db, 1, NULL, &c) == FIRKIN_OK && firkin_changes_valid(c),
        "cursor after seq 1");
  static char big[8000];
  memset(big, 'x', sizeof big);
  for (int i = 0; i < 20; i++) {
    char k[16];
    const int n = snprintf(k, sizeof k, "f%d", i);
    check(firkin_put(db, NULL, NULL, k, (size_t)n, big, sizeof big) == FIRKIN_OK, "fill");
  }
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  bool put_seen = false;
  for (int i = 0; i < 4 && c != NULL && firkin_changes_valid(c); i++) {
    if (firkin_changes_type(c) == FIRKIN_CHANGE_PUT && firkin_changes_seq(c) == 3) {
      put_seen = true;
      check(strcmp(firkin_changes_namespace(c), "A") == 0,
            "the put into A is named '%s' (want A)", firkin_changes_namespace(c));
    }
    firkin_changes_next(c);
  }
  check(put_seen, "the cursor delivered the put into A");
  firkin_changes_free(c);
  firkin_ns_close(m);
  firkin_close(db);
}

/* split_full: 3 rounds of 1,000 namespaces, each made beside a 200-byte
 * value put to "default" that stays live (64 KB segments), given a value
 * that dies, and then all dropped, with background compaction: passes put
 * the create records beside live values in some outputs and the drop
 * records beside live values in others, more than one output holds. Until
 * 2026-11-29 both records of a namespace had to be inputs of one pass to
 * go, and no pass ever took them together: about 800 of each 1,000 held for
 * good (818, 1,613, 2,385 after the rounds), and firkin_compact left them
 * too (2,507-3,111 held, 280-348 KB dead). Now a create record goes once its drop is
 * durable elsewhere, and the drop once nothing else of its namespace is
 * left: after the first round the table comes down to at most 8 (rolling
 * the active segment, 30 s at most; 2-3 here in about a second); part way
 * through the second a reopen by a full scan lists none of them; after
 * the third, firkin_compact leaves at most 4 with under 4 KB dead. Every
 * live value is there, verify is clean, and after a reopen nothing dropped
 * is back and a name made again is empty. */
static void t_split_full(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "split_full");
  firkin_db *db = open_db(dir, true, 64 << 10);
  if (db == NULL) return;
  static char val[200], big[4000];
  memset(val, 'x', sizeof val);
  memset(big, 'r', sizeof big);
  const int made = 1000, rounds = 3;
  bool ok = true;
  for (int round = 0; ok && round < rounds; round++) {
    for (int n = 0; ok && n < made; n++) {
      char name[24], k[32];
      snprintf(name, sizeof name, "r%ds%d", round, n);
      const int kl = snprintf(k, sizeof k, "live%d_%d", round, n);
      firkin_ns *ns = NULL;
      ok = firkin_ns_create(db, name, &ns) == FIRKIN_OK;
      ok = ok && firkin_put(db, NULL, ns, "k", 1, val, sizeof val) == FIRKIN_OK; /* dies */
      ok = ok && firkin_put(db, NULL, NULL, k, (size_t)kl, val, sizeof val) == FIRKIN_OK;
      firkin_ns_close(ns);
    }
    roll(db, big);
    pause_ms(300); /* passes take the segments of the creates */
    for (int n = 0; ok && n < made; n++) {
      char name[24];
      snprintf(name, sizeof name, "r%ds%d", round, n);
      ok = firkin_ns_drop(db, name) == FIRKIN_OK;
    }
    if (round == rounds - 1) break; /* (the last one is left to firkin_compact) */
    if (round == 1) {
      /* Part way through (passes may have left create records out whose
       * drop records stay): a reopen without the CHECKPOINT (a full scan)
       * lists none of this round's namespaces, holds no more than before,
       * and verify is clean. (Until 2026-11-29's evening fix, what was
       * left here waited for firkin_compact below: after a reopen an
       * output that kept create records while their drops were not yet
       * durable waited for its dead ratio; background compaction now
       * finds such segments after an open: t_split_reopen.) */
      pause_ms(200);
      const uint64_t was = stat_u64(db, "namespaces_held");
      check(firkin_close(db) == FIRKIN_OK, "close");
      char ck[600];
      snprintf(ck, sizeof ck, "%s/CHECKPOINT", dir);
      check(unlink(ck) == 0, "remove the CHECKPOINT");
      db = open_db(dir, true, 64 << 10);
      if (db == NULL) return;
      check(!listed(db, "r1s0") && !listed(db, "r1s500") && !listed(db, "r1s999"),
            "dropped namespaces listed after a full scan");
      const uint64_t now = stat_u64(db, "namespaces_held");
      check(now <= was, "%llu namespaces held after a full scan, %llu before",
            (unsigned long long)now, (unsigned long long)was);
      verify_ok(db, "after a full scan part way through");
      continue;
    }
    const uint64_t held = held_settled(db, big, 8, 30000);
    printf("  split_full: round %d: %llu held; live %llu B, dead %llu B over %llu segments\n",
           round, (unsigned long long)held, (unsigned long long)stat_u64(db, "live_bytes"),
           (unsigned long long)stat_u64(db, "dead_bytes"),
           (unsigned long long)stat_u64(db, "segment_count"));
    check(held <= 8, "round %d: %llu namespaces held after %d dropped beside live values, want <= 8",
          round, (unsigned long long)held, made);
  }
  check(ok, "create, put, drop");
  check(firkin_compact(db) == FIRKIN_OK, "compact");
  const uint64_t held = stat_u64(db, "namespaces_held");
  const uint64_t dead = stat_u64(db, "dead_bytes");
  printf("  split_full: after firkin_compact: %llu held, %llu B dead\n", (unsigned long long)held,
         (unsigned long long)dead);
  check(held <= 4, "%llu namespaces held after firkin_compact, want <= 4", (unsigned long long)held);
  check(dead < 4096, "%llu B dead after firkin_compact", (unsigned long long)dead);
  int missing = 0;
  for (int round = 0; round < rounds; round++) {
    for (int n = 0; n < made; n += 7) {
      char k[32];
      const int kl = snprintf(k, sizeof k, "live%d_%d", round, n);
      void *v = NULL;
      size_t vl = 0;
      if (firkin_get(db, NULL, NULL, k, (size_t)kl, &v, &vl) != FIRKIN_OK || vl != sizeof val) {
        missing++;
      }
      firkin_free(v);
    }
  }
  check(missing == 0, "%d live values missing", missing);
  verify_ok(db, "after split_full");
  check(firkin_close(db) == FIRKIN_OK, "close");
  db = open_db(dir, true, 64 << 10);
  if (db == NULL) return;
  check(!listed(db, "r0s0") && !listed(db, "r2s999"), "nothing dropped is back after a reopen");
  check(stat_u64(db, "namespaces_held") <= 4, "%llu namespaces held after the reopen",
        (unsigned long long)stat_u64(db, "namespaces_held"));
  check(empty_ns(db, "r1s5", 1), "r1s5 made again is empty");
  verify_ok(db, "after split_full's reopen");
  firkin_close(db);
}

/* split_reopen: as split_full's rounds (1,000 namespaces made beside a
 * 200-byte value to "default" that stays live, 64 KB segments, the active
 * segment rolled, 300 ms of passes, all dropped), then 200 ms later a
 * close and a reopen: round 0 from the CHECKPOINT, round 1 by a full scan.
 * Which outputs kept dropped namespaces' records (an output that kept
 * create records while their drops were not durable yet, say) was known
 * in memory only: after a reopen such an output waited for its dead ratio,
 * beside live values never, and 200-odd namespaces stayed held through
 * 30 s of background compaction (firkin_compact took them). Now the open's
 * compactor finds the segments holding records of dropped namespaces the
 * table holds (Compactor::SeedNsKept): background compaction alone, with
 * slow writes, brings the table down to at most 8 (polled for up to 30 s).
 * Every live value is there, verify is clean, nothing dropped is listed. */
static void t_split_reopen(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "split_reopen");
  firkin_db *db = open_db(dir, true, 64 << 10);
  if (db == NULL) return;
  static char val[200], big[4000];
  memset(val, 'x', sizeof val);
  memset(big, 'r', sizeof big);
  const int made = 1000, rounds = 2;
  bool ok = true;
  for (int round = 0; ok && round < rounds; round++) {
    for (int n = 0; ok && n < made; n++) {
      char name[24], k[32];
      snprintf(name, sizeof name, "r%ds%d", round, n);
      const int kl = snprintf(k, sizeof k, "live%d_%d", round, n);
      firkin_ns *ns = NULL;
      ok = firkin_ns_create(db, name, &ns) == FIRKIN_OK;
      ok = ok && firkin_put(db, NULL, ns, "k", 1, val, sizeof val) == FIRKIN_OK; /* dies */
      ok = ok && firkin_put(db, NULL, NULL, k, (size_t)kl, val, sizeof val) == FIRKIN_OK;
      firkin_ns_close(ns);
    }
    roll(db, big);
    pause_ms(300);
    for (int n = 0; ok && n < made; n++) {
      char name[24];
      snprintf(name, sizeof name, "r%ds%d", round, n);
      ok = firkin_ns_drop(db, name) == FIRKIN_OK;
    }
    pause_ms(200);
    const uint64_t was = stat_u64(db, "namespaces_held");
    check(firkin_close(db) == FIRKIN_OK, "close");
    if (round == 1) {
      char ck[600];
      snprintf(ck, sizeof ck, "%s/CHECKPOINT", dir);
      check(unlink(ck) == 0, "remove the CHECKPOINT");
    }
    db = open_db(dir, true, 64 << 10);
    if (db == NULL) return;
    const uint64_t opened = stat_u64(db, "namespaces_held");
    const uint64_t held = held_settled(db, big, 8, 30000);
    printf("  split_reopen: round %d (%s): %llu held at the close, %llu at the open, %llu after "
           "background compaction\n",
           round, round == 1 ? "full scan" : "checkpoint", (unsigned long long)was,
           (unsigned long long)opened, (unsigned long long)held);
    check(held <= 8, "round %d: %llu namespaces held after a reopen and 30 s of background "
          "compaction, want <= 8", round, (unsigned long long)held);
    char first[24];
    snprintf(first, sizeof first, "r%ds0", round);
    check(!listed(db, first), "%s listed after the reopen", first);
  }
  check(ok, "create, put, drop");
  int missing = 0;
  for (int round = 0; round < rounds; round++) {
    for (int n = 0; n < made; n += 7) {
      char k[32];
      const int kl = snprintf(k, sizeof k, "live%d_%d", round, n);
      void *v = NULL;
      size_t vl = 0;
      if (firkin_get(db, NULL, NULL, k, (size_t)kl, &v, &vl) != FIRKIN_OK || vl != sizeof val) {
        missing++;
      }
      firkin_free(v);
    }
  }
  check(missing == 0, "%d live values missing", missing);
  verify_ok(db, "after split_reopen");
  check(firkin_close(db) == FIRKIN_OK, "close");
  db = open_db(dir, true, 64 << 10);
  if (db == NULL) return;
  check(empty_ns(db, "r0s5", 1), "r0s5 made again is empty");
  verify_ok(db, "after split_reopen's last reopen");
  firkin_close(db);
}

/* top_rounds: 24 rounds, each of 200 namespaces made beside a 200-byte
 * value put to "default" that stays live (64 KB segments), each given a
 * value, all dropped, then about 10 segments of new live values (no
 * namespace record), then slow writes (held_settled: until at most 3 are
 * held, 5 s at most) for background compaction. The highest id among a
 * pass's inputs keeps its records unless a sealed segment outside holds a
 * higher id (Compactor::HigherNamespaceOutside): what stays held must not
 * grow with the rounds. Held after each round is printed; at most 5 after
 * every round from the third on. Before 2026-11-29's fixes: 203, 403 ...
 * 1,077 after 12 rounds (the drop records left beside live values once
 * their creates went alone, found by no pass); then 19 after 12 (only the
 * 4 newest segments were asked for a higher id); then 6-7 after 14-19
 * rounds and 24 after 30 (a round's highest id, its create and drop in two
 * outputs beside live values, never taken once higher ids existed). Now
 * 2-3 throughout. */
static void t_top_rounds(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "top_rounds");
  firkin_db *db = open_db(dir, true, 64 << 10);
  if (db == NULL) return;
  static char val[200], big[4000];
  memset(val, 'x', sizeof val);
  memset(big, 'r', sizeof big);
  const int made = 200, rounds = 24, fill = 3300;
  bool ok = true;
  uint64_t most = 0;
  for (int round = 0; ok && round < rounds; round++) {
    for (int n = 0; ok && n < made; n++) {
      char name[24], k[32];
      snprintf(name, sizeof name, "t%ds%d", round, n);
      const int kl = snprintf(k, sizeof k, "tlive%d_%d", round, n);
      firkin_ns *ns = NULL;
      ok = firkin_ns_create(db, name, &ns) == FIRKIN_OK;
      ok = ok && firkin_put(db, NULL, ns, "k", 1, val, sizeof val) == FIRKIN_OK;
      ok = ok && firkin_put(db, NULL, NULL, k, (size_t)kl, val, sizeof val) == FIRKIN_OK;
      firkin_ns_close(ns);
    }
    for (int n = 0; ok && n < made; n++) {
      char name[24];
      snprintf(name, sizeof name, "t%ds%d", round, n);
      ok = firkin_ns_drop(db, name) == FIRKIN_OK;
    }
    for (int n = 0; ok && n < fill; n++) {
      char k[32];
      const int kl = snprintf(k, sizeof k, "fill%d_%d", round, n);
      ok = firkin_put(db, NULL, NULL, k, (size_t)kl, val, sizeof val) == FIRKIN_OK;
    }
    const uint64_t held = held_settled(db, big, 3, 5000);
    printf("  top_rounds: round %d: %llu held\n", round, (unsigned long long)held);
    if (round >= 2 && held > most) most = held;
  }
  check(ok, "create, put, drop, fill");
  check(most <= 5, "up to %llu namespaces held after a round (from the third), want <= 5",
        (unsigned long long)most);
  verify_ok(db, "after top_rounds");
  firkin_close(db);
}

/* reader_split: a read-only handle beside a writer with background
 * compaction, churning as split_full does (rounds of 300 namespaces made
 * beside live values in 64 KB segments, the active segment rolled, all
 * dropped, slow writes), the reader refreshed every 100 ms throughout. A
 * reader forgets a dropped namespace once the segment of the create copy
 * it read goes (the writer left the record out); a copy of the drop it
 * reads later (the writer copied the drop record into an output: it stays
 * until no other record of the namespace is left, or for the highest-id
 * rule) made a dropped placeholder of the id. Does the reader's table
 * grow with the rounds? The reader's namespaces_held, after each round's
 * last refresh, is printed, and from the third round on it holds at most
 * 16 more than the writer. */
static void t_reader_split(void) {
  char dir[512];
  dbpath(dir, sizeof dir, "reader_split");
  const uint64_t seg = 64 << 10;
  firkin_db *w = open_db(dir, true, seg);
  if (w == NULL) return;
  firkin_options *ro = opts(false, seg);
  firkin_options_set_read_only(ro, true);
  firkin_db *r = NULL;
  check(firkin_open(dir, ro, &r) == FIRKIN_OK, "read-only open");
  firkin_options_free(ro);
  if (r == NULL) return;
  static char val[200], big[4000];
  memset(val, 'x', sizeof val);
  memset(big, 'r', sizeof big);
  const int made = 300, rounds = 8;
  bool ok = true;
  uint64_t most = 0, wmost = 0;
  for (int round = 0; ok && round < rounds; round++) {
    for (int n = 0; ok && n < made; n++) {
      char name[24], k[32];
      snprintf(name, sizeof name, "q%ds%d", round, n);
      const int kl = snprintf(k, sizeof k, "qlive%d_%d", round, n);
      firkin_ns *ns = NULL;
      ok = firkin_ns_create(w, name, &ns) == FIRKIN_OK;
      ok = ok && firkin_put(w, NULL, ns, "k", 1, val, sizeof val) == FIRKIN_OK;
      ok = ok && firkin_put(w, NULL, NULL, k, (size_t)kl, val, sizeof val) == FIRKIN_OK;
      firkin_ns_close(ns);
      if (n % 100 == 99) ok = ok && firkin_refresh(r) == FIRKIN_OK;
    }
    roll(w, big);
    for (int t = 0; ok && t < 3; t++) {
      pause_ms(100);
      ok = firkin_refresh(r) == FIRKIN_OK;
    }
    for (int n = 0; ok && n < made; n++) {
      char name[24];
      snprintf(name, sizeof name, "q%ds%d", round, n);
      ok = firkin_ns_drop(w, name) == FIRKIN_OK;
      if (n % 100 == 99) ok = ok && firkin_refresh(r) == FIRKIN_OK;
    }
    for (int t = 0; ok && t < 30; t++) { /* 3 s of slow writes, refreshes */
      roll(w, big);
      pause_ms(100);
      ok = firkin_refresh(r) == FIRKIN_OK;
    }
    const uint64_t wh = stat_u64(w, "namespaces_held"), rh = stat_u64(r, "namespaces_held");
    printf("  reader_split: round %d: the writer holds %llu, the reader %llu\n", round,
           (unsigned long long)wh, (unsigned long long)rh);
    if (round >= 2 && rh > wh + most) most = rh - wh;
    if (round >= 2 && wh > wmost) wmost = wh;
  }
  check(ok, "churn with a reader following");
  check(most <= 16, "the reader held up to %llu namespaces more than the writer, want <= 16",
        (unsigned long long)most);
  /* (The writer: 2, 3, 3, 4, 4, 5, 5, 6 after the rounds until the
   * evening of 2026-11-29, a round's highest id held in two outputs; now
   * 2-3.) */
  check(wmost <= 4, "the writer held up to %llu namespaces after a round, want <= 4",
        (unsigned long long)wmost);
  check(!listed(r, "q0s0") && !listed(r, "q1s7"), "the reader lists no dropped namespace");
  verify_ok(r, "on the reader after reader_split");
  firkin_close(r);
  verify_ok(w, "on the writer after reader_split");
  firkin_close(w);
}

int main(int argc, char **argv) {
  if (!make_base_dir("ns_churn")) return 1;
  if (group_wanted(argc, argv, "cursor")) t_cursor();
  if (group_wanted(argc, argv, "churn")) t_churn();
  if (group_wanted(argc, argv, "periodic")) t_periodic();
  if (group_wanted(argc, argv, "idle")) t_idle();
  if (group_wanted(argc, argv, "background")) t_background();
  if (group_wanted(argc, argv, "interleaved")) t_interleaved();
  if (group_wanted(argc, argv, "ckpt_drop")) t_ckpt_drop();
  if (group_wanted(argc, argv, "idle_split")) t_idle_split();
  if (group_wanted(argc, argv, "split_full")) t_split_full();
  if (group_wanted(argc, argv, "split_reopen")) t_split_reopen();
  if (group_wanted(argc, argv, "top_rounds")) t_top_rounds();
  if (group_wanted(argc, argv, "reader_split")) t_reader_split();
  if (group_wanted(argc, argv, "crash")) t_crash(false);
  if (group_wanted(argc, argv, "crash_cold")) t_crash(true);
  if (group_wanted(argc, argv, "reader")) t_reader(0);
  if (group_wanted(argc, argv, "reader_ckpt")) t_reader(8);
  if (group_wanted(argc, argv, "reader_ckpt7")) t_reader(7);
  if (group_wanted(argc, argv, "reader_forget")) t_reader_forget();
  if (group_wanted(argc, argv, "reader_crash")) t_reader_crash();
  if (group_wanted(argc, argv, "reader_threads")) t_reader_threads();
  if (group_args_unknown(argc, argv) > 0) return 1;
  printf("%d passed, %d failed\n", passed, failed);
  if (failed == 0) rmrf(base_dir);
  return failed == 0 ? 0 : 1;
}
