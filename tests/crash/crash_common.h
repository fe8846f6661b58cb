/*
 * crash_common.h — helpers shared by the crash-safety suites (tests/crash).
 *
 * Header-only (static functions) so every suite is a single translation unit
 * and meson needs no helper library.
 *
 *  - a small deterministic PRNG (splitmix64 / xorshift64*);
 *  - self-checking keys and values: a value encodes the key id it belongs to
 *    and a 64-bit version, and is filled with bytes derived from both, so a
 *    torn value, a value of another key and random garbage are all detected;
 *  - directory helpers (mkdtemp under $TMPDIR, rm -rf, copy a directory);
 *  - the maintenance calls (firkin_compact, firkin_checkpoint, firkin_verify,
 *    firkin_verify_path) behind switches that can turn them off;
 *  - counters and the CHECK macro; every suite ends with "N passed, N failed".
 */
#ifndef FIRKIN_CRASH_COMMON_H
#define FIRKIN_CRASH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "firkin.h"
#include "firkin_testing.h"

#if defined(__GNUC__)
#define CC_UNUSED __attribute__((unused))
#define CC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CC_UNUSED
#define CC_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------------ */
/* PRNG                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct cc_rng {
  uint64_t s;
} cc_rng;

static CC_UNUSED uint64_t cc_mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static CC_UNUSED void cc_seed(cc_rng *r, uint64_t seed) { r->s = cc_mix64(seed) | 1; }

static CC_UNUSED uint64_t cc_next(cc_rng *r) {
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n); n > 0. */
static CC_UNUSED uint64_t cc_below(cc_rng *r, uint64_t n) { return cc_next(r) % n; }

/* True with probability pct/100. */
static CC_UNUSED bool cc_chance(cc_rng *r, unsigned pct) { return cc_below(r, 100) < pct; }

/* ------------------------------------------------------------------------ */
/* Keys and self-checking values                                             */
/* ------------------------------------------------------------------------ */

#define CC_KEY_LEN 10 /* "k" + 8 hex digits + "!" */

static CC_UNUSED size_t cc_key(char *buf, uint32_t key_id) {
  char tmp[16];
  snprintf(tmp, sizeof tmp, "k%08" PRIx32 "!", key_id);
  memcpy(buf, tmp, CC_KEY_LEN);
  return CC_KEY_LEN;
}

/* Value layout: "V1" u32 key_id u64 version u32 len, then fill bytes; total
 * length len >= CC_VAL_MIN. */
#define CC_VAL_MIN 18
#define CC_VAL_MAX (64 * 1024)

static CC_UNUSED void cc_put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static CC_UNUSED void cc_put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static CC_UNUSED uint32_t cc_get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static CC_UNUSED uint64_t cc_get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* Length of the value of (key_id, version): deterministic, so the checker
 * knows the expected length too. Mostly small, sometimes a few KiB. */
static CC_UNUSED size_t cc_val_len(uint32_t key_id, uint64_t version) {
  uint64_t h = cc_mix64(((uint64_t)key_id << 32) ^ version ^ 0x5151);
  if (h % 16 == 0) return CC_VAL_MIN + (size_t)(h >> 8) % 6000;
  return CC_VAL_MIN + (size_t)(h >> 8) % 200;
}

static CC_UNUSED size_t cc_value(unsigned char *buf, uint32_t key_id, uint64_t version) {
  size_t len = cc_val_len(key_id, version);
  buf[0] = 'V';
  buf[1] = '1';
  cc_put_u32(buf + 2, key_id);
  cc_put_u64(buf + 6, version);
  cc_put_u32(buf + 14, (uint32_t)len);
  uint64_t st = cc_mix64(((uint64_t)key_id << 32) ^ version);
  for (size_t i = CC_VAL_MIN; i < len; i++) {
    if ((i & 7) == (CC_VAL_MIN & 7)) st = cc_mix64(st);
    buf[i] = (unsigned char)(st >> (8 * (i & 7)));
  }
  return len;
}

/* Checks a value read for key_id. Returns true and sets *version if the
 * value is an intact value written for key_id. */
static CC_UNUSED bool cc_check_value(const void *v, size_t len, uint32_t key_id,
                                     uint64_t *version) {
  const unsigned char *p = (const unsigned char *)v;
  if (len < CC_VAL_MIN || p[0] != 'V' || p[1] != '1') return false;
  if (cc_get_u32(p + 2) != key_id) return false;
  uint64_t ver = cc_get_u64(p + 6);
  if (cc_get_u32(p + 14) != len || cc_val_len(key_id, ver) != len) return false;
  uint64_t st = cc_mix64(((uint64_t)key_id << 32) ^ ver);
  for (size_t i = CC_VAL_MIN; i < len; i++) {
    if ((i & 7) == (CC_VAL_MIN & 7)) st = cc_mix64(st);
    if (p[i] != (unsigned char)(st >> (8 * (i & 7)))) return false;
  }
  *version = ver;
  return true;
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct cc_counts {
  uint64_t checked;     /* key states (or values) compared with the oracle */
  uint64_t lost;        /* acknowledged writes missing */
  uint64_t corrupt;     /* values that are not an intact value of their key,
                           torn batches, phantom versions, wrong statuses */
  uint64_t resurrected; /* deleted keys that came back */
} cc_counts;

static int cc_passed, cc_failed;
static const char *cc_only; /* --only SUBSTRING: run only the groups named so */
static bool cc_only_matched; /* a group's name held cc_only (cc_finish fails if none did) */
static bool cc_verbose;
static int cc_fail_lines; /* cap the failure output */

static CC_UNUSED CC_PRINTF(1, 2) void cc_fail(const char *fmt, ...) {
  cc_failed++;
  if (cc_fail_lines++ < 60) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
  }
}

static CC_UNUSED CC_PRINTF(1, 2) void cc_note(const char *fmt, ...) {
  if (!cc_verbose) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
}

/* A check that counts as one failure when false, with a message. */
#define CC_CHECK(cond, ...)       \
  do {                            \
    if (!(cond)) cc_fail(__VA_ARGS__); \
  } while (0)

/* Marks a test group passed or failed depending on whether cc_failed grew. */
#define CC_GROUP(name, body)                                             \
  do {                                                                   \
    if (cc_only && !strstr(name, cc_only)) break;                        \
    cc_only_matched = true;                                              \
    int cc_before_ = cc_failed;                                          \
    body;                                                                \
    if (cc_failed == cc_before_) {                                       \
      cc_passed++;                                                       \
      printf("ok   %s\n", name);                                         \
    } else {                                                             \
      printf("FAIL %s (%d failures)\n", name, cc_failed - cc_before_);   \
      cc_failed = cc_before_ + 1; /* one group, one failure */           \
    }                                                                    \
    fflush(stdout);                                                      \
  } while (0)

static CC_UNUSED void cc_print_counts(const char *what, const cc_counts *c) {
  printf("%s: checked %" PRIu64 ", lost %" PRIu64 ", corrupt %" PRIu64
         ", resurrected %" PRIu64 "\n",
         what, c->checked, c->lost, c->corrupt, c->resurrected);
}

static CC_UNUSED int cc_finish(void) {
  if (cc_only && !cc_only_matched) { /* a mistyped --only ran nothing */
    fprintf(stderr, "FAIL: no group's name contains '%s' (--only)\n", cc_only);
    cc_failed++;
  }
  printf("%d passed, %d failed\n", cc_passed, cc_failed);
  fflush(stdout);
  return cc_failed == 0 ? 0 : 1;
}

/* --long / FIRKIN_CRASH_LONG=1; --seed N / FIRKIN_CRASH_SEED; -v. */
static bool cc_long;
static uint64_t cc_seed_arg;

static CC_UNUSED void cc_parse_args(int argc, char **argv) {
  const char *e = getenv("FIRKIN_CRASH_LONG");
  if (e && *e && strcmp(e, "0") != 0) cc_long = true;
  e = getenv("FIRKIN_CRASH_SEED");
  cc_seed_arg = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--long") == 0) cc_long = true;
    else if (strcmp(argv[i], "-v") == 0) cc_verbose = true;
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) cc_only = argv[++i];
    else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) cc_seed_arg = strtoull(argv[++i], NULL, 0);
  }
  printf("seed %" PRIu64 "%s (rerun with --seed %" PRIu64 ")\n", cc_seed_arg,
         cc_long ? " long" : "", cc_seed_arg);
  fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* Directories                                                               */
/* ------------------------------------------------------------------------ */

static int cc_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

static CC_UNUSED void cc_rmrf(const char *path) {
  nftw(path, cc_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh temporary directory; the caller owns the string (free). */
static CC_UNUSED char *cc_tmpdir(const char *tag) {
  const char *base = getenv("TMPDIR");
  if (!base || !*base) base = "/tmp";
  size_t n = strlen(base) + strlen(tag) + 32;
  char *p = (char *)malloc(n);
  if (p == NULL) {
    perror("malloc");
    exit(2);
  }
  snprintf(p, n, "%s/firkin-%s-XXXXXX", base, tag);
  if (mkdtemp(p) == NULL) {
    perror("mkdtemp");
    exit(2);
  }
  return p;
}

static CC_UNUSED int cc_copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) {
    close(in);
    return -1;
  }
  char buf[65536];
  ssize_t n;
  int rc = 0;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (write(out, buf, (size_t)n) != n) {
      rc = -1;
      break;
    }
  }
  if (n < 0) rc = -1;
  close(in);
  close(out);
  return rc;
}

/* Copies the regular files of directory `from` into `to` (created; emptied
 * first). */
static CC_UNUSED int cc_copy_dir(const char *from, const char *to) {
  cc_rmrf(to);
  if (mkdir(to, 0755) != 0) return -1;
  DIR *d = opendir(from);
  if (!d) return -1;
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char a[8192], b[8192]; /* a directory path (up to about 4200) and a name */
    snprintf(a, sizeof a, "%s/%s", from, e->d_name);
    snprintf(b, sizeof b, "%s/%s", to, e->d_name);
    struct stat st;
    if (stat(a, &st) == 0 && S_ISREG(st.st_mode) && cc_copy_file(a, b) != 0) rc = -1;
  }
  closedir(d);
  return rc;
}

/* Lists the names of the regular files in dir (sorted); returns the count.
 * names[i] are malloc'ed; free with cc_free_names. */
static int cc_name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static CC_UNUSED int cc_list_dir(const char *dir, char ***names_out) {
  DIR *d = opendir(dir);
  int n = 0, cap = 16;
  char **names = (char **)malloc(sizeof(char *) * (size_t)cap);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      if (n == cap) {
        cap *= 2;
        names = (char **)realloc(names, sizeof(char *) * (size_t)cap);
      }
      names[n++] = strdup(e->d_name);
    }
    closedir(d);
  }
  qsort(names, (size_t)n, sizeof(char *), cc_name_cmp);
  *names_out = names;
  return n;
}

static CC_UNUSED void cc_free_names(char **names, int n) {
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

static CC_UNUSED bool cc_is_segment(const char *name) {
  size_t l = strlen(name);
  return l == 20 && strspn(name, "0123456789abcdef") == 16 && memcmp(name + 16, ".seg", 4) == 0;
}

/* A file of the database that is neither a segment nor the identity nor the
 * lock: the index checkpoint (and its temporaries). */
static CC_UNUSED bool cc_is_checkpoint(const char *name) {
  /* (LIVE is the writer's shared page, not a checkpoint: docs/format.md.) */
  return !cc_is_segment(name) && strcmp(name, "FIRKIN") != 0 && strcmp(name, "LOCK") != 0 &&
         strcmp(name, "FIRKIN.tmp") != 0 && strcmp(name, "LIVE") != 0;
}

/* Removes every checkpoint file of the database at dir; returns how many. */
static CC_UNUSED int cc_remove_checkpoints(const char *dir) {
  char **names;
  int n = cc_list_dir(dir, &names), removed = 0;
  for (int i = 0; i < n; i++) {
    if (!cc_is_checkpoint(names[i])) continue;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    if (unlink(p) == 0) removed++;
  }
  cc_free_names(names, n);
  return removed;
}

static CC_UNUSED int64_t cc_file_size(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return -1;
  return (int64_t)st.st_size;
}

static CC_UNUSED double cc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------ */
/* Maintenance entry points (compaction, checkpoint, verify)                 */
/* ------------------------------------------------------------------------ */

/* Whether the suites use compaction, checkpoints and verify. All three are
 * in the library; the switches FIRKIN_CRASH_NO_COMPACT and
 * FIRKIN_CRASH_NO_CHECKPOINT turn the first two off for diagnosis. */
static bool cc_have_compact = true, cc_have_checkpoint = true, cc_have_verify = true;

/* Applies the diagnosis switches and prints what the run uses. */
static CC_UNUSED void cc_resolve_optional(void) {
  /* Diagnosis switches: run without (manual and background) compaction or
   * periodic checkpoints. */
  if (getenv("FIRKIN_CRASH_NO_COMPACT")) cc_have_compact = false;
  if (getenv("FIRKIN_CRASH_NO_CHECKPOINT")) cc_have_checkpoint = false;
  printf("engine: compaction %s, checkpoint %s, verify %s\n",
         cc_have_compact ? "yes" : "OFF (FIRKIN_CRASH_NO_COMPACT; parts skipped)",
         cc_have_checkpoint ? "yes" : "OFF (FIRKIN_CRASH_NO_CHECKPOINT; parts skipped)",
         cc_have_verify ? "yes" : "NOT AVAILABLE (parts skipped)");
  fflush(stdout);
}

static CC_UNUSED firkin_status cc_compact(firkin_db *db) {
  return cc_have_compact ? firkin_compact(db) : FIRKIN_E_NOT_SUPPORTED;
}
static CC_UNUSED firkin_status cc_checkpoint(firkin_db *db) {
  return cc_have_checkpoint ? firkin_checkpoint(db) : FIRKIN_E_NOT_SUPPORTED;
}
static CC_UNUSED firkin_status cc_verify(firkin_db *db, char **rep) {
  if (rep) *rep = NULL;
  return cc_have_verify ? firkin_verify(db, rep) : FIRKIN_E_NOT_SUPPORTED;
}
static CC_UNUSED firkin_status cc_verify_path(const char *path, const firkin_options *o,
                                              char **rep) {
  if (rep) *rep = NULL;
  return cc_have_verify ? firkin_verify_path(path, o, rep) : FIRKIN_E_NOT_SUPPORTED;
}

/* Options helper: sync mode, segment size, compaction and checkpoints
 * tuned so that small workloads roll, compact and checkpoint. Unknown
 * option names (older core) are ignored. */
static CC_UNUSED firkin_options *cc_options(firkin_sync_mode mode, uint64_t segment_size) {
  firkin_options *o = NULL;
  if (firkin_options_new(&o) != FIRKIN_OK) {
    fprintf(stderr, "firkin_options_new failed\n");
    exit(2);
  }
  firkin_options_set_sync_mode(o, mode);
  firkin_options_set_segment_size(o, segment_size);
  firkin_options_set_sync_interval_ms(o, 5);
  firkin_options_set(o, "compact_dead_ratio", "30");
  firkin_options_set(o, "compact_space_amp", "130");
  firkin_options_set(o, "compact_rate", "0");
  firkin_options_set(o, "checkpoint_every", "512K");
  if (getenv("FIRKIN_CRASH_NO_COMPACT")) firkin_options_set_auto_compact(o, false);
  if (getenv("FIRKIN_CRASH_NO_CHECKPOINT")) firkin_options_set(o, "checkpoint_every", "0");
  return o;
}

static CC_UNUSED const char *cc_mode_name(firkin_sync_mode m) {
  switch (m) {
    case FIRKIN_SYNC_NONE: return "none";
    case FIRKIN_SYNC_INTERVAL: return "interval";
    case FIRKIN_SYNC_ALWAYS: return "always";
    default: return "default";
  }
}

static CC_UNUSED const char *cc_crash_name(firkin_crash_mode m) {
  switch (m) {
    case FIRKIN_CRASH_DROP: return "drop";
    case FIRKIN_CRASH_PREFIX: return "prefix";
    case FIRKIN_CRASH_GARBAGE: return "garbage";
    case FIRKIN_CRASH_PAGES: return "pages in any order";
    case FIRKIN_CRASH_KILL: return "kill -9";
  }
  return "?";
}

#endif /* FIRKIN_CRASH_COMMON_H */
