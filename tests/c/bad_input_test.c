/*
 * bad_input_test.c — DESIGN §11.6: bad input through every export gets its
 * status and a message, never a crash, never a change to a file that is not
 * the database's.
 *
 * Also: handles of another database (a namespace, a snapshot, a batch
 * holding another database's namespace) are refused by every call, and
 * every successful call clears the thread's error message (but a multi-get
 * that succeeds keeps the messages of the keys that failed).
 *
 * Every check is one test; the program ends with "N passed, N failed".
 * C99 + POSIX; links libfirkin (and uses xxHash's header only, to craft an
 * identity file with a valid checksum for the future-format-version case).
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "firkin.h"
#include "firkin_testing.h"

static int g_passed, g_failed;
static char g_base[1024];

static void pass(void) { g_passed++; }

static void failf(int line, const char *fmt, const char *a, const char *b) {
  g_failed++;
  printf("FAIL line %d: ", line);
  printf(fmt, a, b);
  printf("\n");
}

static const char *sname(int st) {
  static char buf[8][32];
  static int k;
  const char *n = NULL;
  switch (st) {
    case FIRKIN_OK: n = "OK"; break;
    case FIRKIN_E_NOT_FOUND: n = "NOT_FOUND"; break;
    case FIRKIN_E_INVALID_ARGUMENT: n = "INVALID_ARGUMENT"; break;
    case FIRKIN_E_IO: n = "IO"; break;
    case FIRKIN_E_CORRUPTION: n = "CORRUPTION"; break;
    case FIRKIN_E_BUSY: n = "BUSY"; break;
    case FIRKIN_E_READ_ONLY: n = "READ_ONLY"; break;
    case FIRKIN_E_CONDITION_FAILED: n = "CONDITION_FAILED"; break;
    case FIRKIN_E_CONFLICT: n = "CONFLICT"; break;
    case FIRKIN_E_NO_SPACE: n = "NO_SPACE"; break;
    case FIRKIN_E_NO_MEMORY: n = "NO_MEMORY"; break;
    case FIRKIN_E_TOO_LARGE: n = "TOO_LARGE"; break;
    case FIRKIN_E_BUFFER_TOO_SMALL: n = "BUFFER_TOO_SMALL"; break;
    case FIRKIN_E_CLOSED: n = "CLOSED"; break;
    case FIRKIN_E_VERSION: n = "VERSION"; break;
    case FIRKIN_E_SNAPSHOT_TOO_OLD: n = "SNAPSHOT_TOO_OLD"; break;
    case FIRKIN_E_NAMESPACE_NOT_FOUND: n = "NAMESPACE_NOT_FOUND"; break;
    case FIRKIN_E_EXISTS: n = "EXISTS"; break;
    case FIRKIN_E_NOT_A_DATABASE: n = "NOT_A_DATABASE"; break;
    case FIRKIN_E_NOT_SUPPORTED: n = "NOT_SUPPORTED"; break;
    case FIRKIN_E_INTERNAL: n = "INTERNAL"; break;
    default: break;
  }
  if (n) return n;
  k = (k + 1) % 8;
  snprintf(buf[k], sizeof buf[k], "status(%d)", st);
  return buf[k];
}

/* Checks a status; for errors other than NOT_FOUND also that the message of
 * this very call is non-empty. The call is evaluated as the argument, so no
 * other firkin call runs between it and firkin_last_error(). */
static void expect_st(int line, const char *expr, int got, int want) {
  if (got != want) {
    char w[64];
    snprintf(w, sizeof w, "%s", sname(want));
    g_failed++;
    printf("FAIL line %d: %s\n    expected %s, got %s; last error: \"%s\"\n", line, expr, w,
           sname(got), firkin_last_error());
    return;
  }
  if (want < 0 && want != FIRKIN_E_NOT_FOUND) {
    const char *m = firkin_last_error();
    if (m == NULL || m[0] == 0) {
      failf(line, "%s: status %s but firkin_last_error() is empty", expr, sname(want));
      return;
    }
  }
  pass();
}
#define EXPECT(call, want) expect_st(__LINE__, #call, (call), (want))
#define INVALID(call) EXPECT(call, FIRKIN_E_INVALID_ARGUMENT)
#define OK(call) EXPECT(call, FIRKIN_OK)

/* Either of two statuses is acceptable (where the header leaves it open). */
static void expect_either(int line, const char *expr, int got, int w1, int w2) {
  if (got == w1) expect_st(line, expr, got, w1);
  else expect_st(line, expr, got, w2);
}
#define EXPECT2(call, w1, w2) expect_either(__LINE__, #call, (call), (w1), (w2))

static void check(int line, bool ok, const char *what) {
  if (ok) pass();
  else failf(line, "%s%s", what, "");
}
#define CHECK(cond) check(__LINE__, (cond), #cond)

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb; (void)flag; (void)ftw;
  remove(path);
  return 0;
}
static void rm_rf(const char *path) { nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static void path_join(char *out, size_t cap, const char *a, const char *b) {
  snprintf(out, cap, "%s/%s", a, b);
}

static bool write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  bool ok;
  if (!f) return false;
  ok = fwrite(data, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

/* Reads a whole file into a malloc'd buffer. */
static unsigned char *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  size_t cap = 0, len = 0;
  if (!f) return NULL;
  for (;;) {
    size_t got;
    if (len == cap) {
      cap = cap ? cap * 2 : 4096;
      buf = realloc(buf, cap);
      if (!buf) {
        fclose(f);
        return NULL;
      }
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  fclose(f);
  *n = len;
  return buf;
}

/* A fingerprint of a directory: sorted "name size mtime content-hash" lines
 * (one level). Used to show that a failed open changed nothing. */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}
static char *dir_fingerprint(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *de;
  char **lines = NULL;
  size_t n = 0, i, total = 1;
  char *out;
  if (!d) return NULL;
  while ((de = readdir(d)) != NULL) {
    char p[2048], line[2300];
    struct stat sb;
    size_t len = 0;
    unsigned char *data;
    unsigned long long h = 0;
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    path_join(p, sizeof p, dir, de->d_name);
    if (lstat(p, &sb) != 0) continue;
    if (S_ISREG(sb.st_mode) && (data = read_file(p, &len)) != NULL) {
      h = (unsigned long long)XXH3_64bits(data, len);
      free(data);
    }
    snprintf(line, sizeof line, "%s mode=%o size=%lld mtime=%lld.%09ld hash=%016llx", de->d_name,
             (unsigned)sb.st_mode, (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
             (long)sb.st_mtim.tv_nsec, h);
    lines = realloc(lines, (n + 1) * sizeof *lines);
    lines[n] = malloc(strlen(line) + 1);
    strcpy(lines[n], line);
    total += strlen(line) + 1;
    n++;
  }
  closedir(d);
  if (n) qsort(lines, n, sizeof *lines, cmp_str);
  out = malloc(total);
  out[0] = 0;
  for (i = 0; i < n; i++) {
    strcat(out, lines[i]);
    strcat(out, "\n");
    free(lines[i]);
  }
  free(lines);
  return out;
}

/* Removes the "LOCK ..." line from a fingerprint. */
static void drop_lock_line(char *fp) {
  char *p = fp;
  if (!fp) return;
  while (*p) {
    char *nl = strchr(p, '\n');
    if (strncmp(p, "LOCK ", 5) == 0) {
      if (nl) memmove(p, nl + 1, strlen(nl + 1) + 1);
      else *p = 0;
      continue;
    }
    if (!nl) break;
    p = nl + 1;
  }
}

static void make_dir(char *out, size_t cap, const char *name) {
  path_join(out, cap, g_base, name);
  rm_rf(out);
  mkdir(out, 0755);
}

/* ------------------------------------------------------------------------ */
/* NULL handles and pointers, every export                                   */
/* ------------------------------------------------------------------------ */

static void test_options_nulls(void) {
  firkin_options *o = NULL;
  firkin_write_options *wo = NULL;
  bool b;
  firkin_sync_mode m;
  uint32_t u32;
  uint64_t u64;
  char *s = NULL;

  INVALID(firkin_options_new(NULL));
  firkin_options_free(NULL);
  pass();
  OK(firkin_options_new(&o));
  CHECK(o != NULL);

  INVALID(firkin_options_set_create_if_missing(NULL, true));
  INVALID(firkin_options_get_create_if_missing(NULL, &b));
  INVALID(firkin_options_get_create_if_missing(o, NULL));
  INVALID(firkin_options_set_error_if_exists(NULL, true));
  INVALID(firkin_options_get_error_if_exists(NULL, &b));
  INVALID(firkin_options_get_error_if_exists(o, NULL));
  INVALID(firkin_options_set_read_only(NULL, true));
  INVALID(firkin_options_get_read_only(NULL, &b));
  INVALID(firkin_options_get_read_only(o, NULL));
  INVALID(firkin_options_set_sync_mode(NULL, FIRKIN_SYNC_ALWAYS));
  INVALID(firkin_options_get_sync_mode(NULL, &m));
  INVALID(firkin_options_get_sync_mode(o, NULL));
  INVALID(firkin_options_set_sync_mode(o, (firkin_sync_mode)-7));
  INVALID(firkin_options_set_sync_mode(o, (firkin_sync_mode)INT_MAX));
  INVALID(firkin_options_set_sync_interval_ms(NULL, 10));
  INVALID(firkin_options_get_sync_interval_ms(NULL, &u32));
  INVALID(firkin_options_get_sync_interval_ms(o, NULL));
  INVALID(firkin_options_set_sync_interval_ms(o, UINT32_MAX));
  INVALID(firkin_options_set_segment_size(NULL, 1 << 20));
  INVALID(firkin_options_get_segment_size(NULL, &u64));
  INVALID(firkin_options_get_segment_size(o, NULL));
  INVALID(firkin_options_set_segment_size(o, UINT64_MAX));
  INVALID(firkin_options_set_salvage(NULL, true));
  INVALID(firkin_options_get_salvage(NULL, &b));
  INVALID(firkin_options_get_salvage(o, NULL));
  INVALID(firkin_options_set_verify_checksums(NULL, true));
  INVALID(firkin_options_get_verify_checksums(NULL, &b));
  INVALID(firkin_options_get_verify_checksums(o, NULL));

  INVALID(firkin_options_set(NULL, "sync_mode", "none"));
  INVALID(firkin_options_set(o, NULL, "none"));
  INVALID(firkin_options_set(o, "sync_mode", NULL));
  INVALID(firkin_options_set(o, "sync_mode", "nonee"));
  INVALID(firkin_options_set(o, "sync_mode ", "none"));
  /* Integers are digits (and a '-' for the level), nothing around them:
   * " 5" and "+5" were taken, "5 " refused (until the session after
   * 2026-11-28). Booleans in any case. */
  INVALID(firkin_options_set(o, "compression_level", " 5"));
  INVALID(firkin_options_set(o, "compression_level", "+5"));
  INVALID(firkin_options_set(o, "compression_level", "5 "));
  INVALID(firkin_options_set(o, "compression_level", "-"));
  INVALID(firkin_options_set(o, "compression_level", "--3"));
  INVALID(firkin_options_set(o, "segment_size", " 4M"));
  INVALID(firkin_options_set(o, "segment_size", "+4M"));
  INVALID(firkin_options_set(o, "salvage", "TRUEE"));
  OK(firkin_options_set(o, "compression_level", "-3"));
  OK(firkin_options_set(o, "compression_level", "7"));
  OK(firkin_options_set(o, "salvage", "TRUE"));
  OK(firkin_options_get_salvage(o, &b));
  CHECK(b);
  OK(firkin_options_set(o, "salvage", "Off"));
  OK(firkin_options_get_salvage(o, &b));
  CHECK(!b);
  INVALID(firkin_options_get(NULL, "sync_mode", &s));
  INVALID(firkin_options_get(o, NULL, &s));
  INVALID(firkin_options_get(o, "sync_mode", NULL));
  INVALID(firkin_options_get(o, "bogus", &s));
  CHECK(s == NULL);
  /* the values are unchanged by all the rejected calls */
  OK(firkin_options_get_sync_mode(o, &m));
  CHECK(m == FIRKIN_SYNC_INTERVAL);
  OK(firkin_options_get_sync_interval_ms(o, &u32));
  CHECK(u32 == 100);
  OK(firkin_options_get_segment_size(o, &u64));
  CHECK(u64 == 64u << 20);
  firkin_options_free(o);

  INVALID(firkin_write_options_new(NULL));
  firkin_write_options_free(NULL);
  pass();
  OK(firkin_write_options_new(&wo));
  INVALID(firkin_write_options_set_sync(NULL, FIRKIN_SYNC_NONE));
  INVALID(firkin_write_options_get_sync(NULL, &m));
  INVALID(firkin_write_options_get_sync(wo, NULL));
  INVALID(firkin_write_options_set_sync(wo, (firkin_sync_mode)5));
  INVALID(firkin_write_options_set_sync(wo, (firkin_sync_mode)-2));
  OK(firkin_write_options_get_sync(wo, &m));
  CHECK(m == FIRKIN_SYNC_DEFAULT);
  firkin_write_options_free(wo);
}

/* A database with a key "k" = "value", a namespace "ns", a snapshot, an
 * iterator and a batch, for the NULL-argument checks below. */
typedef struct {
  char dir[1024];
  firkin_db *db;
  firkin_ns *ns;
  firkin_snapshot *snap;
  firkin_iter *it;
  firkin_batch *b;
} fixture;

static bool fixture_open(fixture *f, const char *name) {
  memset(f, 0, sizeof *f);
  make_dir(f->dir, sizeof f->dir, name);
  if (firkin_open(f->dir, NULL, &f->db) != FIRKIN_OK) {
    printf("FAIL: cannot open a fresh database in %s: %s\n", f->dir, firkin_last_error());
    g_failed++;
    return false;
  }
  if (firkin_put(f->db, NULL, NULL, "k", 1, "value", 5) != FIRKIN_OK ||
      firkin_ns_create(f->db, "ns", &f->ns) != FIRKIN_OK ||
      firkin_snapshot_new(f->db, &f->snap) != FIRKIN_OK ||
      firkin_iter_new(f->db, NULL, NULL, &f->it) != FIRKIN_OK ||
      firkin_batch_new(&f->b) != FIRKIN_OK) {
    printf("FAIL: fixture setup: %s\n", firkin_last_error());
    g_failed++;
    return false;
  }
  return true;
}

static void fixture_close(fixture *f) {
  firkin_iter_free(f->it);
  firkin_snapshot_free(f->snap);
  firkin_ns_close(f->ns);
  firkin_batch_free(f->b);
  firkin_close(f->db);
  rm_rf(f->dir);
}

static void test_db_nulls(void) {
  fixture f;
  firkin_db *db2 = (firkin_db *)&f; /* poison: must not be overwritten on failure */
  uint64_t u64;
  char *s = NULL;
  void *v = NULL;
  size_t vl = 0;
  char buf[16];
  bool found;
  firkin_ns *ns = NULL;
  firkin_snapshot *snap = NULL;
  firkin_iter *it = NULL;
  firkin_batch *b = NULL;

  if (!fixture_open(&f, "nulls")) return;

  /* database */
  db2 = NULL;
  INVALID(firkin_open(NULL, NULL, &db2));
  CHECK(db2 == NULL);
  INVALID(firkin_open(f.dir, NULL, NULL));
  EXPECT2(firkin_open("", NULL, &db2), FIRKIN_E_INVALID_ARGUMENT, FIRKIN_E_NOT_FOUND);
  CHECK(db2 == NULL);
  OK(firkin_close(NULL));
  INVALID(firkin_sync(NULL));
  INVALID(firkin_last_seq(NULL, &u64));
  INVALID(firkin_last_seq(f.db, NULL));
  INVALID(firkin_stats(NULL, &s));
  INVALID(firkin_stats(f.db, NULL));
  CHECK(s == NULL);

  /* point operations */
  INVALID(firkin_put(NULL, NULL, NULL, "k", 1, "v", 1));
  INVALID(firkin_put(f.db, NULL, NULL, NULL, 1, "v", 1));
  INVALID(firkin_put(f.db, NULL, NULL, NULL, 0, "v", 1));
  INVALID(firkin_put(f.db, NULL, NULL, "k", 1, NULL, 1));
  OK(firkin_put(f.db, NULL, NULL, "empty", 5, NULL, 0)); /* NULL with length 0 is allowed */
  OK(firkin_get(f.db, NULL, NULL, "empty", 5, &v, &vl));
  CHECK(v != NULL && vl == 0);
  firkin_free(v);
  v = NULL;

  INVALID(firkin_get(NULL, NULL, NULL, "k", 1, &v, &vl));
  INVALID(firkin_get(f.db, NULL, NULL, NULL, 1, &v, &vl));
  INVALID(firkin_get(f.db, NULL, NULL, "k", 1, NULL, &vl));
  INVALID(firkin_get(f.db, NULL, NULL, "k", 1, &v, NULL));
  CHECK(v == NULL);

  INVALID(firkin_get_into(NULL, NULL, NULL, "k", 1, buf, sizeof buf, &vl));
  INVALID(firkin_get_into(f.db, NULL, NULL, NULL, 1, buf, sizeof buf, &vl));
  INVALID(firkin_get_into(f.db, NULL, NULL, "k", 1, NULL, sizeof buf, &vl));
  INVALID(firkin_get_into(f.db, NULL, NULL, "k", 1, buf, sizeof buf, NULL));
  vl = 0;
  EXPECT(firkin_get_into(f.db, NULL, NULL, "k", 1, NULL, 0, &vl), FIRKIN_E_BUFFER_TOO_SMALL);
  CHECK(vl == 5);

  INVALID(firkin_contains(NULL, NULL, NULL, "k", 1, &found));
  INVALID(firkin_contains(f.db, NULL, NULL, NULL, 1, &found));
  INVALID(firkin_contains(f.db, NULL, NULL, "k", 1, NULL));
  INVALID(firkin_get_version(NULL, NULL, NULL, "k", 1, &u64));
  INVALID(firkin_get_version(f.db, NULL, NULL, NULL, 1, &u64));
  INVALID(firkin_get_version(f.db, NULL, NULL, "k", 1, NULL));
  INVALID(firkin_delete(NULL, NULL, NULL, "k", 1));
  INVALID(firkin_delete(f.db, NULL, NULL, NULL, 1));
  INVALID(firkin_put_if_absent(NULL, NULL, NULL, "n", 1, "v", 1));
  INVALID(firkin_put_if_absent(f.db, NULL, NULL, NULL, 1, "v", 1));
  INVALID(firkin_put_if_absent(f.db, NULL, NULL, "n", 1, NULL, 1));
  INVALID(firkin_cas(NULL, NULL, NULL, "k", 1, "value", 5, "x", 1));
  INVALID(firkin_cas(f.db, NULL, NULL, NULL, 1, "value", 5, "x", 1));
  INVALID(firkin_cas(f.db, NULL, NULL, "k", 1, NULL, 5, "x", 1));
  INVALID(firkin_cas(f.db, NULL, NULL, "k", 1, "value", 5, NULL, 1));
  /* The message names the argument that is wrong: until 2026-11-30 a NULL
   * expected value was reported as "value is NULL with length 5". */
  INVALID(firkin_cas(f.db, NULL, NULL, "k", 1, NULL, 5, "x", 1));
  CHECK(strstr(firkin_last_error(), "expected value") != NULL);
  INVALID(firkin_cas(f.db, NULL, NULL, "k", 1, "value", 5, NULL, 1));
  CHECK(strstr(firkin_last_error(), "expected") == NULL);
  INVALID(firkin_cas_version(NULL, NULL, NULL, "k", 1, 1, "x", 1));
  INVALID(firkin_cas_version(f.db, NULL, NULL, NULL, 1, 1, "x", 1));
  INVALID(firkin_cas_version(f.db, NULL, NULL, "k", 1, 1, NULL, 1));
  /* none of the rejected writes changed "k" */
  OK(firkin_get(f.db, NULL, NULL, "k", 1, &v, &vl));
  CHECK(v != NULL && vl == 5 && memcmp(v, "value", 5) == 0);
  firkin_free(v);
  v = NULL;

  /* multi-get */
  {
    const void *keys[2] = {"k", "zz"};
    size_t klens[2] = {1, 2}, vlens[2];
    void *vals[2];
    firkin_status sts[2];
    unsigned char packed[16] = {1, 0, 0, 0, 'k'};
    unsigned char bad_packed[8] = {200, 0, 0, 0, 'k', 'k'};
    void *out = NULL;
    size_t out_len = 0;
    /* a failed call leaves every vals[i] NULL, whatever argument it
     * refused (the db and the statuses array too: review, 2026-11-28) */
    for (int bad = 0; bad < 3; bad++) {
      vals[0] = vals[1] = (void *)1;
      vlens[0] = vlens[1] = 7;
      INVALID(firkin_multi_get(bad == 0 ? NULL : f.db, NULL, NULL, 2, bad == 1 ? NULL : keys,
                               klens, vals, vlens, bad == 2 ? NULL : sts));
      CHECK(vals[0] == NULL && vals[1] == NULL && vlens[0] == 0 && vlens[1] == 0);
    }
    out = (void *)1;
    out_len = 7;
    INVALID(firkin_multi_get_packed(NULL, NULL, NULL, packed, 5, &out, &out_len));
    CHECK(out == NULL && out_len == 0);
    INVALID(firkin_multi_get(NULL, NULL, NULL, 2, keys, klens, vals, vlens, sts));
    INVALID(firkin_multi_get(f.db, NULL, NULL, 2, NULL, klens, vals, vlens, sts));
    INVALID(firkin_multi_get(f.db, NULL, NULL, 2, keys, NULL, vals, vlens, sts));
    INVALID(firkin_multi_get(f.db, NULL, NULL, 2, keys, klens, NULL, vlens, sts));
    INVALID(firkin_multi_get(f.db, NULL, NULL, 2, keys, klens, vals, NULL, sts));
    INVALID(firkin_multi_get(f.db, NULL, NULL, 2, keys, klens, vals, vlens, NULL));
    OK(firkin_multi_get(f.db, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL));
    OK(firkin_multi_get(f.db, NULL, NULL, 2, keys, klens, vals, vlens, sts));
    CHECK(sts[0] == FIRKIN_OK && vlens[0] == 5 && vals[0] && memcmp(vals[0], "value", 5) == 0);
    CHECK(sts[1] == FIRKIN_E_NOT_FOUND && vals[1] == NULL);
    if (sts[0] == FIRKIN_OK) firkin_free(vals[0]);

    INVALID(firkin_multi_get_packed(NULL, NULL, NULL, packed, 5, &out, &out_len));
    INVALID(firkin_multi_get_packed(f.db, NULL, NULL, NULL, 5, &out, &out_len));
    INVALID(firkin_multi_get_packed(f.db, NULL, NULL, packed, 5, NULL, &out_len));
    INVALID(firkin_multi_get_packed(f.db, NULL, NULL, packed, 5, &out, NULL));
    /* a length that runs past the input, and a partial length prefix */
    INVALID(firkin_multi_get_packed(f.db, NULL, NULL, bad_packed, 6, &out, &out_len));
    INVALID(firkin_multi_get_packed(f.db, NULL, NULL, packed, 3, &out, &out_len));
    INVALID(firkin_multi_get_packed(f.db, NULL, NULL, packed, 7, &out, &out_len));
    CHECK(out == NULL);
    OK(firkin_multi_get_packed(f.db, NULL, NULL, packed, 5, &out, &out_len));
    CHECK(out != NULL && out_len == 4 + 4 + 5);
    firkin_free(out);
  }

  /* batches */
  INVALID(firkin_batch_new(NULL));
  firkin_batch_free(NULL);
  pass();
  INVALID(firkin_batch_put(NULL, NULL, "k", 1, "v", 1));
  INVALID(firkin_batch_put(f.b, NULL, NULL, 1, "v", 1));
  INVALID(firkin_batch_put(f.b, NULL, "k", 1, NULL, 1));
  INVALID(firkin_batch_delete(NULL, NULL, "k", 1));
  INVALID(firkin_batch_delete(f.b, NULL, NULL, 1));
  INVALID(firkin_batch_clear(NULL));
  {
    size_t n = 99;
    INVALID(firkin_batch_count(NULL, &n));
    INVALID(firkin_batch_count(f.b, NULL));
    OK(firkin_batch_count(f.b, &n));
    CHECK(n == 0);
  }
  INVALID(firkin_write(NULL, NULL, f.b));
  INVALID(firkin_write(f.db, NULL, NULL));
  OK(firkin_batch_new(&b));
  firkin_batch_free(b);

  /* namespaces */
  INVALID(firkin_ns_open(NULL, "x", true, &ns));
  INVALID(firkin_ns_open(f.db, NULL, true, &ns));
  INVALID(firkin_ns_open(f.db, "x", true, NULL));
  INVALID(firkin_ns_create(NULL, "x", &ns));
  INVALID(firkin_ns_create(f.db, NULL, &ns));
  INVALID(firkin_ns_create(f.db, "y", NULL));
  CHECK(ns == NULL);
  INVALID(firkin_ns_drop(NULL, "ns"));
  INVALID(firkin_ns_drop(f.db, NULL));
  INVALID(firkin_ns_list(NULL, &s));
  INVALID(firkin_ns_list(f.db, NULL));
  CHECK(firkin_ns_name(NULL) == NULL);
  CHECK(firkin_ns_name(f.ns) != NULL && strcmp(firkin_ns_name(f.ns), "ns") == 0);
  firkin_ns_close(NULL);
  pass();
  INVALID(firkin_count(NULL, NULL, &u64));
  INVALID(firkin_count(f.db, NULL, NULL));
  INVALID(firkin_count(f.db, f.ns, NULL));

  /* snapshots */
  INVALID(firkin_snapshot_new(NULL, &snap));
  INVALID(firkin_snapshot_new(f.db, NULL));
  INVALID(firkin_snapshot_at(NULL, 0, &snap));
  INVALID(firkin_snapshot_at(f.db, 0, NULL));
  INVALID(firkin_snapshot_at(f.db, UINT64_MAX, &snap));
  CHECK(snap == NULL);
  firkin_snapshot_free(NULL);
  pass();
  CHECK(firkin_snapshot_seq(NULL) == 0);

  /* iterators */
  INVALID(firkin_iter_new(NULL, NULL, NULL, &it));
  INVALID(firkin_iter_new(f.db, NULL, NULL, NULL));
  CHECK(it == NULL);
  firkin_iter_free(NULL);
  pass();
  CHECK(!firkin_iter_valid(NULL));
  INVALID(firkin_iter_next(NULL));
  {
    const void *p;
    size_t l, used, count;
    unsigned char nb[64];
    INVALID(firkin_iter_key(NULL, &p, &l));
    INVALID(firkin_iter_key(f.it, NULL, &l));
    INVALID(firkin_iter_key(f.it, &p, NULL));
    INVALID(firkin_iter_value(NULL, &p, &l));
    INVALID(firkin_iter_value(f.it, NULL, &l));
    INVALID(firkin_iter_value(f.it, &p, NULL));
    INVALID(firkin_iter_status(NULL));
    INVALID(firkin_iter_next_n(NULL, nb, sizeof nb, &used, &count));
    INVALID(firkin_iter_next_n(f.it, NULL, sizeof nb, &used, &count));
    INVALID(firkin_iter_next_n(f.it, nb, sizeof nb, NULL, &count));
    INVALID(firkin_iter_next_n(f.it, nb, sizeof nb, &used, NULL));
    /* the rejected calls did not move the iterator */
    CHECK(firkin_iter_valid(f.it));
    OK(firkin_iter_status(f.it));
  }

  firkin_free(NULL);
  pass();
  fixture_close(&f);
}

/* Oversized keys and values: TOO_LARGE, and nothing is read from the value
 * (it is an untouched anonymous mapping, so this costs no memory). */
static void test_oversized(void) {
  fixture f;
  size_t big = (size_t)FIRKIN_MAX_VALUE_SIZE + 1;
  void *huge;
  static unsigned char key[FIRKIN_MAX_KEY_SIZE + 1];
  uint64_t n = 0;
  if (!fixture_open(&f, "oversized")) return;
  huge = mmap(NULL, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (huge == MAP_FAILED) {
    printf("FAIL: mmap of %zu bytes: %s\n", big, strerror(errno));
    g_failed++;
    fixture_close(&f);
    return;
  }
  memset(key, 'k', sizeof key);
  EXPECT(firkin_put(f.db, NULL, NULL, "big", 3, huge, big), FIRKIN_E_TOO_LARGE);
  EXPECT(firkin_put(f.db, NULL, NULL, "big", 3, huge, SIZE_MAX), FIRKIN_E_TOO_LARGE);
  EXPECT(firkin_put_if_absent(f.db, NULL, NULL, "big", 3, huge, big), FIRKIN_E_TOO_LARGE);
  EXPECT(firkin_cas(f.db, NULL, NULL, "k", 1, "value", 5, huge, big), FIRKIN_E_TOO_LARGE);
  EXPECT(firkin_cas(f.db, NULL, NULL, "k", 1, huge, big, "v", 1), FIRKIN_E_TOO_LARGE);
  CHECK(strstr(firkin_last_error(), "expected value") != NULL); /* (said "value of ...") */
  EXPECT(firkin_cas_version(f.db, NULL, NULL, "k", 1, 0, huge, big), FIRKIN_E_TOO_LARGE);
  EXPECT(firkin_batch_put(f.b, NULL, "big", 3, huge, big), FIRKIN_E_TOO_LARGE);
  EXPECT(firkin_put(f.db, NULL, NULL, key, sizeof key, "v", 1), FIRKIN_E_TOO_LARGE);
  EXPECT(firkin_put(f.db, NULL, NULL, key, SIZE_MAX, "v", 1), FIRKIN_E_TOO_LARGE);
  EXPECT(firkin_batch_put(f.b, NULL, key, sizeof key, "v", 1), FIRKIN_E_TOO_LARGE);
  EXPECT(firkin_batch_delete(f.b, NULL, key, sizeof key), FIRKIN_E_TOO_LARGE);
  {
    void *v = NULL;
    size_t vl;
    char buf[4];
    bool found;
    uint64_t ver;
    EXPECT(firkin_get(f.db, NULL, NULL, key, sizeof key, &v, &vl), FIRKIN_E_TOO_LARGE);
    EXPECT(firkin_get_into(f.db, NULL, NULL, key, sizeof key, buf, sizeof buf, &vl), FIRKIN_E_TOO_LARGE);
    EXPECT(firkin_contains(f.db, NULL, NULL, key, sizeof key, &found), FIRKIN_E_TOO_LARGE);
    EXPECT(firkin_get_version(f.db, NULL, NULL, key, sizeof key, &ver), FIRKIN_E_TOO_LARGE);
    EXPECT(firkin_delete(f.db, NULL, NULL, key, sizeof key), FIRKIN_E_TOO_LARGE);
  }
  /* the maximum key is fine */
  OK(firkin_put(f.db, NULL, NULL, key, FIRKIN_MAX_KEY_SIZE, "v", 1));
  OK(firkin_count(f.db, NULL, &n));
  CHECK(n == 2); /* "k" and the maximum key */
  munmap(huge, big);
  fixture_close(&f);
}

/* ------------------------------------------------------------------------ */
/* Paths that are not databases                                              */
/* ------------------------------------------------------------------------ */

static void test_paths(void) {
  char dir[1200], file[1300], sub[1300], missing[1300];
  char *before, *after;
  firkin_db *db = NULL;
  firkin_options *ro = NULL, *nocreate = NULL;
  unsigned char content[100];
  size_t i;

  OK(firkin_options_new(&ro));
  OK(firkin_options_set_read_only(ro, true));
  OK(firkin_options_new(&nocreate));
  OK(firkin_options_set_create_if_missing(nocreate, false));
  for (i = 0; i < sizeof content; i++) content[i] = (unsigned char)(i * 7);

  /* a regular file */
  make_dir(dir, sizeof dir, "paths");
  path_join(file, sizeof file, dir, "plain-file");
  CHECK(write_file(file, content, sizeof content));
  before = dir_fingerprint(dir);
  EXPECT(firkin_open(file, NULL, &db), FIRKIN_E_NOT_A_DATABASE);
  CHECK(db == NULL);
  EXPECT(firkin_open(file, ro, &db), FIRKIN_E_NOT_A_DATABASE);
  EXPECT(firkin_open(file, nocreate, &db), FIRKIN_E_NOT_A_DATABASE);
  after = dir_fingerprint(dir);
  CHECK(before && after && strcmp(before, after) == 0);
  free(before);
  free(after);

  /* an empty regular file */
  path_join(file, sizeof file, dir, "empty-file");
  CHECK(write_file(file, "", 0));
  EXPECT(firkin_open(file, NULL, &db), FIRKIN_E_NOT_A_DATABASE);

  /* a missing directory */
  path_join(missing, sizeof missing, dir, "missing");
  EXPECT(firkin_open(missing, nocreate, &db), FIRKIN_E_NOT_FOUND);
  EXPECT(firkin_open(missing, ro, &db), FIRKIN_E_NOT_FOUND);
  CHECK(db == NULL);
  CHECK(access(missing, F_OK) != 0); /* and it was not created */

  /* a non-empty directory that is not a database: nothing may change */
  path_join(sub, sizeof sub, dir, "not-a-db");
  mkdir(sub, 0755);
  {
    char p[1400];
    path_join(p, sizeof p, sub, "notes.txt");
    CHECK(write_file(p, "my precious data\n", 17));
    path_join(p, sizeof p, sub, "0000000000000001.dat");
    CHECK(write_file(p, content, sizeof content));
  }
  before = dir_fingerprint(sub);
  EXPECT(firkin_open(sub, NULL, &db), FIRKIN_E_NOT_A_DATABASE);
  CHECK(db == NULL);
  EXPECT(firkin_open(sub, ro, &db), FIRKIN_E_NOT_A_DATABASE);
  EXPECT(firkin_open(sub, nocreate, &db), FIRKIN_E_NOT_A_DATABASE);
  after = dir_fingerprint(sub);
  CHECK(before && after && strcmp(before, after) == 0); /* no LOCK, nothing touched */
  if (before && after && strcmp(before, after) != 0)
    printf("    before:\n%s    after:\n%s", before, after);
  free(before);
  free(after);

  /* a directory holding only a segment-like file and no identity file: by the
   * header NOT_A_DATABASE; the engine may also call it a database that lost
   * its identity (CORRUPTION). Either way nothing may change. */
  path_join(sub, sizeof sub, dir, "stray-seg");
  mkdir(sub, 0755);
  {
    char p[1400];
    path_join(p, sizeof p, sub, "0000000000000001.seg");
    CHECK(write_file(p, content, sizeof content));
  }
  before = dir_fingerprint(sub);
  EXPECT2(firkin_open(sub, NULL, &db), FIRKIN_E_NOT_A_DATABASE, FIRKIN_E_CORRUPTION);
  after = dir_fingerprint(sub);
  CHECK(before && after && strcmp(before, after) == 0);
  free(before);
  free(after);

  firkin_options_free(ro);
  firkin_options_free(nocreate);
  rm_rf(dir);
}

/* The identity file: a newer format version is refused with VERSION, a
 * damaged one is not silently accepted. See docs/format.md: the identity
 * file "FIRKIN" is 48 bytes: magic "FIRKINDB", u32 LE format version at 8,
 * ..., u64 LE XXH3-64 of bytes [0,40) at 40. */
static void put_u32le(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static void put_u64le(unsigned char *p, uint64_t v) {
  int i;
  for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void test_identity(void) {
  char dir[1200], idp[1300];
  firkin_db *db = NULL;
  unsigned char *id;
  size_t n = 0;
  char *before, *after;

  make_dir(dir, sizeof dir, "identity");
  OK(firkin_open(dir, NULL, &db));
  OK(firkin_put(db, NULL, NULL, "k", 1, "v", 1));
  OK(firkin_close(db));
  db = NULL;
  path_join(idp, sizeof idp, dir, "FIRKIN");
  id = read_file(idp, &n);
  if (!id || n < 48 || memcmp(id, "FIRKINDB", 8) != 0) {
    printf("FAIL: identity file %s not as in docs/format.md (size %zu)\n", idp, n);
    g_failed++;
    free(id);
    rm_rf(dir);
    return;
  }
  pass();
  {
    unsigned char orig[48];
    memcpy(orig, id, 48);
    /* future format version, valid checksum */
    put_u32le(id + 8, 1000);
    put_u64le(id + 40, (uint64_t)XXH3_64bits(id, 40));
    CHECK(write_file(idp, id, n));
    before = dir_fingerprint(dir);
    EXPECT(firkin_open(dir, NULL, &db), FIRKIN_E_VERSION);
    CHECK(db == NULL);
    {
      firkin_options *ro = NULL;
      firkin_options_new(&ro);
      firkin_options_set_read_only(ro, true);
      EXPECT(firkin_open(dir, ro, &db), FIRKIN_E_VERSION);
      firkin_options_free(ro);
    }
    after = dir_fingerprint(dir);
    /* a writer's open may create or touch LOCK; nothing else may change */
    drop_lock_line(before);
    drop_lock_line(after);
    CHECK(before && after && strcmp(before, after) == 0);
    {
      size_t m = 0;
      unsigned char *now = read_file(idp, &m);
      CHECK(now && m == n && memcmp(now, id, n) == 0);
      free(now);
    }
    free(before);
    free(after);

    /* damaged identity: checksum mismatch */
    memcpy(id, orig, 48);
    id[20] ^= 0x01;
    CHECK(write_file(idp, id, n));
    EXPECT2(firkin_open(dir, NULL, &db), FIRKIN_E_CORRUPTION, FIRKIN_E_NOT_A_DATABASE);
    CHECK(db == NULL);

    /* bad magic */
    memcpy(id, orig, 48);
    id[0] = 'X';
    CHECK(write_file(idp, id, n));
    EXPECT2(firkin_open(dir, NULL, &db), FIRKIN_E_NOT_A_DATABASE, FIRKIN_E_CORRUPTION);
    CHECK(db == NULL);

    /* truncated identity */
    CHECK(write_file(idp, orig, 10));
    EXPECT2(firkin_open(dir, NULL, &db), FIRKIN_E_NOT_A_DATABASE, FIRKIN_E_CORRUPTION);
    CHECK(db == NULL);

    /* restored: opens again with the data */
    CHECK(write_file(idp, orig, 48));
    OK(firkin_open(dir, NULL, &db));
    if (db) {
      void *v = NULL;
      size_t vl = 0;
      OK(firkin_get(db, NULL, NULL, "k", 1, &v, &vl));
      CHECK(v && vl == 1 && memcmp(v, "v", 1) == 0);
      firkin_free(v);
      firkin_close(db);
    }
  }
  free(id);
  rm_rf(dir);
}

/* A segment file the checkpoint lists goes missing (a lost file, a bad
 * restore): the open refuses the database with FIRKIN_E_CORRUPTION naming
 * the file, writer and reader alike, instead of going on without the keys
 * it held (until 2026-11-27 it opened, 796 of 3,000 keys read as absent
 * and firkin_verify said ok). Put back, it opens with every key. */
static void test_missing_segment(void) {
  char dir[1200], from[1300], to[1300];
  firkin_db *db = NULL;
  firkin_options *o = NULL;
  make_dir(dir, sizeof dir, "missing-segment");
  OK(firkin_options_new(&o));
  OK(firkin_options_set_segment_size(o, 64 << 10));
  OK(firkin_options_set_auto_compact(o, false));
  OK(firkin_open(dir, o, &db));
  if (db == NULL) {
    firkin_options_free(o);
    return;
  }
  char k[32];
  for (int i = 0; i < 3000; i++) {
    snprintf(k, sizeof k, "key%d", i);
    firkin_put(db, NULL, NULL, k, strlen(k), "value-value-value", 17);
  }
  OK(firkin_close(db));
  db = NULL;
  /* the second segment file in name order (the first of the middle) */
  char name[64] = "";
  {
    DIR *d = opendir(dir);
    struct dirent *e;
    char names[64][64];
    int n = 0;
    while (d && (e = readdir(d)) != NULL && n < 64) {
      if (strstr(e->d_name, ".seg") && strlen(e->d_name) < 64) strcpy(names[n++], e->d_name);
    }
    if (d) closedir(d);
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        if (strcmp(names[j], names[i]) < 0) {
          char t[64];
          strcpy(t, names[i]);
          strcpy(names[i], names[j]);
          strcpy(names[j], t);
        }
      }
    }
    CHECK(n >= 3);
    if (n >= 3) strcpy(name, names[1]);
  }
  if (name[0] != 0) {
    path_join(from, sizeof from, dir, name);
    path_join(to, sizeof to, dir, "moved-away");
    CHECK(rename(from, to) == 0);
    EXPECT(firkin_open(dir, o, &db), FIRKIN_E_CORRUPTION);
    CHECK(db == NULL);
    CHECK(strstr(firkin_last_error(), name) != NULL && strstr(firkin_last_error(), "missing"));
    {
      firkin_options *ro = NULL;
      firkin_options_new(&ro);
      firkin_options_set_read_only(ro, true);
      EXPECT(firkin_open(dir, ro, &db), FIRKIN_E_CORRUPTION);
      CHECK(db == NULL);
      firkin_options_free(ro);
    }
    EXPECT(firkin_verify_path(dir, NULL, NULL), FIRKIN_E_CORRUPTION);
    CHECK(rename(to, from) == 0);
    OK(firkin_open(dir, o, &db));
    if (db) {
      uint64_t count = 0;
      OK(firkin_count(db, NULL, &count));
      CHECK(count == 3000);
      firkin_close(db);
    }
  }
  firkin_options_free(o);
  rm_rf(dir);
}

/* The names of the segment files of dir, sorted; how many (at most max). */
static int list_segments(const char *dir, char names[][64], int max) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d)) != NULL && n < max) {
    size_t l = strlen(e->d_name);
    if (l == 20 && strcmp(e->d_name + 16, ".seg") == 0) strcpy(names[n++], e->d_name);
  }
  if (d) closedir(d);
  qsort(names, (size_t)n, 64, (int (*)(const void *, const void *))strcmp);
  return n;
}

/* dir/name for a segment file's name (at most 63 characters). */
static void seg_path(char *out, size_t cap, const char *dir, const char *name) {
  snprintf(out, cap, "%s/%.63s", dir, name);
}

static bool copy_file(const char *from, const char *to) {
  size_t n = 0;
  unsigned char *b = read_file(from, &n);
  bool ok = b != NULL && write_file(to, b, n);
  free(b);
  return ok;
}

/* A log segment file from an older copy of the database, put back after
 * compaction retired it: 1000 keys, the files saved; then k0..k499
 * deleted, the rest rewritten, compacted (the output that took the first
 * segments is compacted again, so the output left names only its own
 * inputs) and closed; the saved files that are gone put back. Until
 * 2026-11-28 the open ignored the checkpoint ("an older segment is not in
 * it"), scanned the stale files and the 500 deleted keys were back, verify
 * ok (found by review). A log segment the checkpoint does not list but
 * older than one it lists has no legitimate way there (every segment made
 * after a checkpoint is newer than all it lists, and a retired file is
 * gone, durably, before a checkpoint that leaves it out is taken): the
 * open refuses it with FIRKIN_E_CORRUPTION naming the file, writer and
 * reader alike; salvage skips it (and keeps it); removed, the database
 * opens as it was. */
static void test_stale_segment(void) {
  char dir[1100], saved[1100], from[1200], to[1200];
  char before[64][64], after[64][64], back[64][64];
  int n_before, n_after, n_back = 0;
  firkin_db *db = NULL;
  firkin_options *o = NULL;
  char k[32], v[100];
  make_dir(dir, sizeof dir, "stale-segment");
  make_dir(saved, sizeof saved, "stale-segment-saved");
  OK(firkin_options_new(&o));
  OK(firkin_options_set_segment_size(o, 64 << 10));
  OK(firkin_options_set_auto_compact(o, false));
  OK(firkin_open(dir, o, &db));
  if (db == NULL) {
    firkin_options_free(o);
    return;
  }
  memset(v, 'v', sizeof v);
  for (int i = 0; i < 1000; i++) {
    snprintf(k, sizeof k, "k%d", i);
    firkin_put(db, NULL, NULL, k, strlen(k), v, sizeof v);
  }
  OK(firkin_close(db));
  db = NULL;
  n_before = list_segments(dir, before, 64);
  CHECK(n_before >= 3);
  for (int i = 0; i < n_before; i++) {
    seg_path(from, sizeof from, dir, before[i]);
    seg_path(to, sizeof to, saved, before[i]);
    CHECK(copy_file(from, to));
  }
  OK(firkin_open(dir, o, &db));
  if (db == NULL) {
    firkin_options_free(o);
    return;
  }
  for (int i = 0; i < 500; i++) {
    snprintf(k, sizeof k, "k%d", i);
    firkin_delete(db, NULL, NULL, k, strlen(k));
  }
  memset(v, 'w', sizeof v);
  for (int i = 500; i < 1000; i++) {
    snprintf(k, sizeof k, "k%d", i);
    firkin_put(db, NULL, NULL, k, strlen(k), v, sizeof v);
  }
  OK(firkin_compact(db));
  OK(firkin_close(db));
  db = NULL;
  n_after = list_segments(dir, after, 64);
  for (int i = 0; i < n_before; i++) {
    bool there = false;
    for (int j = 0; j < n_after; j++) there |= strcmp(before[i], after[j]) == 0;
    if (there) continue;
    seg_path(from, sizeof from, saved, before[i]);
    seg_path(to, sizeof to, dir, before[i]);
    CHECK(copy_file(from, to));
    strcpy(back[n_back++], before[i]);
  }
  CHECK(n_back >= 1);
  if (n_back >= 1) {
    EXPECT(firkin_open(dir, o, &db), FIRKIN_E_CORRUPTION);
    if (db != NULL) { /* before the fix: the deleted keys are back */
      void *val = NULL;
      size_t len = 0;
      CHECK(firkin_get(db, NULL, NULL, "k0", 2, &val, &len) == FIRKIN_E_NOT_FOUND);
      firkin_free(val);
      firkin_close(db);
      db = NULL;
    }
    CHECK(strstr(firkin_last_error(), back[0]) != NULL);
    {
      firkin_options *ro = NULL;
      firkin_options_new(&ro);
      firkin_options_set_read_only(ro, true);
      EXPECT(firkin_open(dir, ro, &db), FIRKIN_E_CORRUPTION);
      CHECK(db == NULL);
      firkin_options_free(ro);
    }
    EXPECT(firkin_verify_path(dir, NULL, NULL), FIRKIN_E_CORRUPTION);
    {
      firkin_options *sv = NULL;
      firkin_options_new(&sv);
      firkin_options_set_segment_size(sv, 64 << 10);
      firkin_options_set_auto_compact(sv, false);
      firkin_options_set_salvage(sv, true);
      OK(firkin_open(dir, sv, &db));
      if (db) {
        uint64_t count = 0;
        void *val = NULL;
        size_t len = 0;
        OK(firkin_count(db, NULL, &count));
        CHECK(count == 500);
        EXPECT(firkin_get(db, NULL, NULL, "k0", 2, &val, &len), FIRKIN_E_NOT_FOUND);
        firkin_free(val);
        firkin_close(db);
        db = NULL;
      }
      firkin_options_free(sv);
    }
    seg_path(to, sizeof to, dir, back[0]);
    CHECK(access(to, F_OK) == 0); /* salvage kept it */
    for (int i = 0; i < n_back; i++) {
      seg_path(to, sizeof to, dir, back[i]);
      CHECK(unlink(to) == 0);
    }
    OK(firkin_open(dir, o, &db));
    if (db) {
      uint64_t count = 0;
      OK(firkin_count(db, NULL, &count));
      CHECK(count == 500);
      firkin_close(db);
    }
  }
  firkin_options_free(o);
  rm_rf(dir);
  rm_rf(saved);
}

/* ------------------------------------------------------------------------ */
/* Errors: strerror, last_error per thread                                   */
/* ------------------------------------------------------------------------ */

static void test_strerror(void) {
  static const int codes[] = {
      FIRKIN_OK, FIRKIN_E_NOT_FOUND, FIRKIN_E_INVALID_ARGUMENT, FIRKIN_E_IO, FIRKIN_E_CORRUPTION,
      FIRKIN_E_BUSY, FIRKIN_E_READ_ONLY, FIRKIN_E_CONDITION_FAILED, FIRKIN_E_CONFLICT,
      FIRKIN_E_NO_SPACE, FIRKIN_E_NO_MEMORY, FIRKIN_E_TOO_LARGE, FIRKIN_E_BUFFER_TOO_SMALL,
      FIRKIN_E_CLOSED, FIRKIN_E_VERSION, FIRKIN_E_SNAPSHOT_TOO_OLD,
      FIRKIN_E_NAMESPACE_NOT_FOUND, FIRKIN_E_EXISTS, FIRKIN_E_NOT_A_DATABASE,
      FIRKIN_E_NOT_SUPPORTED, FIRKIN_E_INTERNAL,
      FIRKIN_E_BAD_KEY};
  static const int unknown[] = {1, 42, -22, -100, -999, INT_MIN, INT_MAX};
  size_t i, j;
  const char *u0 = firkin_strerror(unknown[0]);
  for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *s = firkin_strerror(codes[i]);
    char what[128];
    snprintf(what, sizeof what, "firkin_strerror(%s) is a non-empty, distinct, known text", sname(codes[i]));
    if (!s || !*s || (u0 && strcmp(s, u0) == 0)) {
      failf(__LINE__, "%s: got \"%s\"", what, s ? s : "(NULL)");
      continue;
    }
    for (j = 0; j < i; j++) {
      if (strcmp(s, firkin_strerror(codes[j])) == 0) {
        failf(__LINE__, "%s: same text as another code: \"%s\"", what, s);
        break;
      }
    }
    if (j == i) pass();
  }
  for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    const char *s = firkin_strerror(unknown[i]);
    if (!s || !*s || !u0 || strcmp(s, u0) != 0) failf(__LINE__, "firkin_strerror(unknown) \"%s\"%s", s ? s : "(NULL)", "");
    else pass();
  }
}

static void *other_thread(void *arg) {
  const char *m = firkin_last_error();
  *(int *)arg = (m != NULL && m[0] == 0) ? 1 : 0;
  return NULL;
}

static void test_last_error(void) {
  fixture f;
  void *v = NULL;
  size_t vl;
  const char *m;
  pthread_t t;
  int ok = -1;

  m = firkin_last_error();
  CHECK(m != NULL);
  if (!fixture_open(&f, "lasterr")) return;
  /* a failure sets a message */
  INVALID(firkin_put(f.db, NULL, NULL, "", 0, "v", 1));
  m = firkin_last_error();
  CHECK(m != NULL && m[0] != 0);
  /* it is per thread: another thread sees "" */
  if (pthread_create(&t, NULL, other_thread, &ok) == 0) {
    pthread_join(t, NULL);
    CHECK(ok == 1);
  }
  /* our message is still there */
  m = firkin_last_error();
  CHECK(m != NULL && m[0] != 0);
  /* a successful call clears it */
  OK(firkin_put(f.db, NULL, NULL, "a", 1, "v", 1));
  m = firkin_last_error();
  CHECK(m != NULL && m[0] == 0);
  /* NOT_FOUND leaves no message */
  INVALID(firkin_put(f.db, NULL, NULL, "", 0, "v", 1));
  EXPECT(firkin_get(f.db, NULL, NULL, "nope", 4, &v, &vl), FIRKIN_E_NOT_FOUND);
  m = firkin_last_error();
  CHECK(m != NULL && m[0] == 0);
  CHECK(v == NULL);
  fixture_close(&f);
}

/* A multi-get that succeeds as a whole keeps the messages of the keys that
 * failed (firkin.h, firkin_multi_get): each after its index. Until
 * 2026-11-27 the call's success cleared them (and a later key's not-found
 * did already), so a caller saw statuses[i] = FIRKIN_E_CORRUPTION with
 * firkin_last_error() "". */
static void test_multi_get_messages(void) {
  char dir[1200], seg[1300];
  firkin_options *o = NULL;
  firkin_db *db = NULL;
  make_dir(dir, sizeof dir, "multi-get-messages");
  OK(firkin_options_new(&o));
  OK(firkin_options_set_segment_size(o, 64 << 10));
  OK(firkin_options_set_verify_checksums(o, true)); /* reads check every record */
  OK(firkin_open(dir, o, &db));
  firkin_options_free(o);
  if (db == NULL) return;
  static const char bravo[] = "bravo-value-the-one-damaged-below";
  OK(firkin_put(db, NULL, NULL, "a", 1, "alpha", 5));
  OK(firkin_put(db, NULL, NULL, "b", 1, bravo, sizeof bravo - 1));
  OK(firkin_put(db, NULL, NULL, "c", 1, "charlie", 7));
  /* b's value damaged in the file (the writer maps it shared: its reads
   * see the change); its checksum then fails. */
  bool damaged = false;
  path_join(seg, sizeof seg, dir, "0000000000000001.seg");
  {
    size_t n = 0;
    unsigned char *b = read_file(seg, &n);
    for (size_t i = 0; b != NULL && i + sizeof bravo - 1 <= n; i++) {
      if (memcmp(b + i, bravo, sizeof bravo - 1) != 0) continue;
      FILE *f = fopen(seg, "r+b");
      damaged = f != NULL && fseek(f, (long)i + 3, SEEK_SET) == 0 && fputc('X', f) != EOF;
      if (f != NULL) damaged = fclose(f) == 0 && damaged;
      break;
    }
    free(b);
  }
  CHECK(damaged);
  {
    const void *keys[5] = {"a", "", "b", "nope", "c"};
    size_t klens[5] = {1, 0, 1, 4, 1}, vlens[5];
    void *vals[5];
    firkin_status sts[5];
    OK(firkin_multi_get(db, NULL, NULL, 5, keys, klens, vals, vlens, sts));
    const char *m = firkin_last_error();
    CHECK(sts[0] == FIRKIN_OK && sts[1] == FIRKIN_E_INVALID_ARGUMENT &&
          sts[2] == FIRKIN_E_CORRUPTION && sts[3] == FIRKIN_E_NOT_FOUND && sts[4] == FIRKIN_OK);
    if (strstr(m, "key 1: ") == NULL || strstr(m, "key 2: ") == NULL ||
        strstr(m, "checksum") == NULL || strstr(m, "key 3") != NULL) {
      failf(__LINE__, "multi_get: the failed keys' messages are lost: \"%s\"%s", m, "");
    } else {
      pass();
    }
    for (int i = 0; i < 5; i++) firkin_free(vals[i]);
    /* every key found or absent: no message */
    INVALID(firkin_put(NULL, NULL, NULL, "k", 1, "v", 1));
    keys[1] = "c";
    klens[1] = 1;
    OK(firkin_multi_get(db, NULL, NULL, 2, keys, klens, vals, vlens, sts));
    CHECK(firkin_last_error()[0] == 0);
    for (int i = 0; i < 2; i++) firkin_free(vals[i]);
  }
  {
    /* the packed form: "a", "b" (damaged), "" */
    unsigned char packed[4 + 1 + 4 + 1 + 4] = {1, 0, 0, 0, 'a', 1, 0, 0, 0, 'b', 0, 0, 0, 0};
    void *out = NULL;
    size_t out_len = 0;
    OK(firkin_multi_get_packed(db, NULL, NULL, packed, sizeof packed, &out, &out_len));
    const char *m = firkin_last_error();
    if (strstr(m, "key 1: ") == NULL || strstr(m, "checksum") == NULL ||
        strstr(m, "key 2: ") == NULL) {
      failf(__LINE__, "multi_get_packed: the failed keys' messages are lost: \"%s\"%s", m, "");
    } else {
      pass();
    }
    firkin_free(out);
  }
  {
    /* more failed keys than the message lists: it says how many more */
    const void *keys[12];
    size_t klens[12], vlens[12];
    void *vals[12];
    firkin_status sts[12];
    for (int i = 0; i < 12; i++) {
      keys[i] = "";
      klens[i] = 0;
    }
    OK(firkin_multi_get(db, NULL, NULL, 12, keys, klens, vals, vlens, sts));
    const char *m = firkin_last_error();
    CHECK(strstr(m, "key 0: ") != NULL && strstr(m, "key 7: ") != NULL &&
          strstr(m, "key 8: ") == NULL && strstr(m, "4 more keys failed") != NULL);
  }
  firkin_close(db);
  rm_rf(dir);
}

/* ------------------------------------------------------------------------ */
/* Handles of another database (issue 9, item 3)                            */
/* ------------------------------------------------------------------------ */

/* Every call on database a that takes a namespace or a snapshot refuses
 * b's with INVALID_ARGUMENT; a batch holding b's namespace is refused by a
 * and changes nothing (before, it was applied to a's namespace of the same
 * number, and a failed its own verify from then on). */
static void test_foreign_handles(void) {
  fixture a, b;
  void *v = NULL, *vals[1] = {NULL}, *out = NULL;
  size_t vn = 0, vlens[1], outn = 0, n = 0;
  const void *keys[1] = {"k"};
  const size_t klens[1] = {1};
  const unsigned char packed[5] = {1, 0, 0, 0, 'k'};
  firkin_status sts[1];
  firkin_iter *it = NULL;
  char buf[16];
  bool found = false;
  uint64_t u64 = 0;
  if (!fixture_open(&a, "foreign-a")) return;
  if (!fixture_open(&b, "foreign-b")) {
    fixture_close(&a);
    return;
  }
  /* both have namespace "ns" with the same number; b's holds a key */
  OK(firkin_put(b.db, NULL, b.ns, "k", 1, "in-b", 4));

  INVALID(firkin_put(a.db, NULL, b.ns, "x", 1, "v", 1));
  INVALID(firkin_delete(a.db, NULL, b.ns, "k", 1));
  INVALID(firkin_put_if_absent(a.db, NULL, b.ns, "x", 1, "v", 1));
  INVALID(firkin_cas(a.db, NULL, b.ns, "k", 1, "in-b", 4, "v", 1));
  INVALID(firkin_cas_version(a.db, NULL, b.ns, "x", 1, 0, "v", 1));
  INVALID(firkin_get(a.db, NULL, b.ns, "k", 1, &v, &vn));
  CHECK(v == NULL);
  INVALID(firkin_get(a.db, b.snap, NULL, "k", 1, &v, &vn));
  CHECK(v == NULL);
  INVALID(firkin_get_into(a.db, NULL, b.ns, "k", 1, buf, sizeof buf, &vn));
  INVALID(firkin_get_into(a.db, b.snap, NULL, "k", 1, buf, sizeof buf, &vn));
  INVALID(firkin_contains(a.db, NULL, b.ns, "k", 1, &found));
  INVALID(firkin_contains(a.db, b.snap, NULL, "k", 1, &found));
  INVALID(firkin_get_version(a.db, NULL, b.ns, "k", 1, &u64));
  INVALID(firkin_get_version(a.db, b.snap, NULL, "k", 1, &u64));
  INVALID(firkin_multi_get(a.db, NULL, b.ns, 1, keys, klens, vals, vlens, sts));
  CHECK(vals[0] == NULL);
  INVALID(firkin_multi_get(a.db, b.snap, NULL, 1, keys, klens, vals, vlens, sts));
  CHECK(vals[0] == NULL);
  INVALID(firkin_multi_get_packed(a.db, NULL, b.ns, packed, sizeof packed, &out, &outn));
  CHECK(out == NULL);
  INVALID(firkin_multi_get_packed(a.db, b.snap, NULL, packed, sizeof packed, &out, &outn));
  CHECK(out == NULL);
  INVALID(firkin_count(a.db, b.ns, &u64));
  INVALID(firkin_iter_new(a.db, NULL, b.ns, &it));
  CHECK(it == NULL);
  INVALID(firkin_iter_new(a.db, b.snap, NULL, &it));
  CHECK(it == NULL);

  /* a batch holding b's namespace */
  OK(firkin_batch_put(a.b, b.ns, "x", 1, "from-b", 6));
  OK(firkin_batch_put(a.b, NULL, "y", 1, "v", 1));
  INVALID(firkin_write(a.db, NULL, a.b));
  EXPECT(firkin_get(a.db, NULL, a.ns, "x", 1, &v, &vn), FIRKIN_E_NOT_FOUND);
  EXPECT(firkin_get(a.db, NULL, NULL, "y", 1, &v, &vn), FIRKIN_E_NOT_FOUND);
  OK(firkin_count(a.db, a.ns, &u64));
  CHECK(u64 == 0);
  OK(firkin_verify(a.db, NULL));
  /* the same batch is b's to write */
  OK(firkin_write(b.db, NULL, a.b));
  OK(firkin_get(b.db, NULL, b.ns, "x", 1, &v, &vn));
  CHECK(v != NULL && vn == 6 && memcmp(v, "from-b", 6) == 0);
  firkin_free(v);
  v = NULL;
  /* one batch never mixes the namespaces of two databases */
  INVALID(firkin_batch_put(a.b, a.ns, "z", 1, "v", 1));
  INVALID(firkin_batch_delete(a.b, a.ns, "z", 1));
  OK(firkin_batch_count(a.b, &n));
  CHECK(n == 2);
  /* cleared, it takes a's */
  OK(firkin_batch_clear(a.b));
  OK(firkin_batch_put(a.b, a.ns, "z", 1, "v", 1));
  INVALID(firkin_write(b.db, NULL, a.b));
  OK(firkin_write(a.db, NULL, a.b));
  /* a batch of a database that is closed and gone */
  OK(firkin_batch_clear(a.b));
  OK(firkin_batch_put(a.b, b.ns, "w", 1, "v", 1));
  fixture_close(&b);
  INVALID(firkin_write(a.db, NULL, a.b));
  EXPECT(firkin_get(a.db, NULL, a.ns, "w", 1, &v, &vn), FIRKIN_E_NOT_FOUND);
  OK(firkin_verify(a.db, NULL));
  fixture_close(&a);
}

/* Every entry point that returns a status clears the thread's message when
 * it succeeds (one place does it: the bridge's guard). */
static void test_success_clears_error(void) {
  fixture f;
  firkin_options *o = NULL;
  firkin_write_options *wo = NULL;
  const void *p;
  size_t n;
  uint64_t u64;
  uint32_t u32;
  bool bv;
  firkin_sync_mode m;
#define CLEARS(call)                                                \
  do {                                                              \
    INVALID(firkin_put(NULL, NULL, NULL, "k", 1, "v", 1));          \
    OK(call);                                                       \
    check(__LINE__, firkin_last_error()[0] == 0, #call " clears"); \
  } while (0)
  if (!fixture_open(&f, "clears")) return;
  CLEARS(firkin_options_new(&o));
  CLEARS(firkin_options_set_salvage(o, false));
  CLEARS(firkin_options_get_salvage(o, &bv));
  CLEARS(firkin_options_set_compact_rate(o, 5));
  CLEARS(firkin_options_get_compact_rate(o, &u64));
  CLEARS(firkin_options_get_sync_interval_ms(o, &u32));
  CLEARS(firkin_options_get_sync_mode(o, &m));
  CLEARS(firkin_write_options_new(&wo));
  CLEARS(firkin_write_options_set_sync(wo, FIRKIN_SYNC_NONE));
  CLEARS(firkin_write_options_get_sync(wo, &m));
  CLEARS(firkin_last_seq(f.db, &u64));
  CLEARS(firkin_batch_put(f.b, NULL, "k", 1, "v", 1));
  CLEARS(firkin_batch_count(f.b, &n));
  CLEARS(firkin_batch_clear(f.b));
  CLEARS(firkin_iter_key(f.it, &p, &n));
  CLEARS(firkin_iter_value(f.it, &p, &n));
  CLEARS(firkin_iter_status(f.it));
  CLEARS(firkin_count(f.db, f.ns, &u64));
  CLEARS(firkin_close(NULL));
#undef CLEARS
  firkin_write_options_free(wo);
  firkin_options_free(o);
  fixture_close(&f);
}

/* ------------------------------------------------------------------------ */
/* The experimental test hooks (firkin_testing.h) take bad input too        */
/* ------------------------------------------------------------------------ */

static void test_fault_env_nulls(void) {
  firkin_fault_env *env = NULL;
  firkin_options *o = NULL;
  INVALID(firkin_fault_env_new(NULL));
  firkin_fault_env_free(NULL);
  pass();
  OK(firkin_fault_env_new(&env));
  OK(firkin_options_new(&o));
  INVALID(firkin_options_set_fault_env(NULL, env));
  OK(firkin_options_set_fault_env(o, env));
  OK(firkin_options_set_fault_env(o, NULL));
  INVALID(firkin_fault_env_fail(NULL, FIRKIN_FAULT_WRITE, 1, FIRKIN_E_IO, false));
  INVALID(firkin_fault_env_fail(env, (firkin_fault_op)FIRKIN_FAULT_OP_COUNT, 1, FIRKIN_E_IO, false));
  INVALID(firkin_fault_env_fail(env, (firkin_fault_op)-1, 1, FIRKIN_E_IO, false));
  INVALID(firkin_fault_env_fail(env, FIRKIN_FAULT_WRITE, 1, FIRKIN_E_BUSY, false));
  INVALID(firkin_fault_env_fail(env, FIRKIN_FAULT_WRITE, 1, FIRKIN_OK, false));
  OK(firkin_fault_env_fail(env, FIRKIN_FAULT_WRITE, 0, FIRKIN_E_IO, false));
  CHECK(firkin_fault_env_count(NULL, FIRKIN_FAULT_WRITE) == 0);
  CHECK(firkin_fault_env_count(env, FIRKIN_FAULT_WRITE) == 0);
  INVALID(firkin_fault_env_crash(NULL, FIRKIN_CRASH_DROP, 1));
  INVALID(firkin_fault_env_crash(env, (firkin_crash_mode)9, 1));
  INVALID(firkin_fault_env_reset(NULL));
  OK(firkin_fault_env_reset(env));
  firkin_options_free(o);
  firkin_fault_env_free(env);
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(g_base, sizeof g_base, "%s/firkin-bad-input-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(g_base)) {
    perror("mkdtemp");
    return 2;
  }
  test_options_nulls();
  test_db_nulls();
  test_oversized();
  test_paths();
  test_strerror();
  test_last_error();
  test_multi_get_messages();
  test_foreign_handles();
  test_success_clears_error();
  test_fault_env_nulls();
  test_identity();
  test_missing_segment();
  test_stale_segment();
  rm_rf(g_base);
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}
