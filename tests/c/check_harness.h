/*
 * check_harness.h — the in-process check harness shared by the C test
 * programs whose cases run in one process (changes, txn, ttl, timetravel):
 * check() counts a passed or failed check and prints a failure with
 * firkin_last_error(); dbpath() gives a fresh database path under
 * base_dir (removed first); stat_u64() reads a number from firkin_stats
 * (UINT64_MAX if absent). Each program prints "N passed, N failed" from
 * passed/failed at its end. Header-only; include it once per program.
 * (Programs whose cases run in child processes use forked_cases.h.)
 */
#ifndef FIRKIN_TESTS_C_CHECK_HARNESS_H_
#define FIRKIN_TESTS_C_CHECK_HARNESS_H_

#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "firkin.h"

static int passed, failed;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("FAIL: ");
    vprintf(fmt, ap);
    printf(" (last error: %s)\n", firkin_last_error());
  }
  va_end(ap);
}

static int rm_cb(const char *p, const struct stat *s, int f, struct FTW *w) {
  (void)s;
  (void)f;
  (void)w;
  return remove(p);
}
static void rmrf(const char *p) __attribute__((unused));
static void rmrf(const char *p) { nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

/* Set by main (a per-run directory under /tmp): make_base_dir. */
static char base_dir[256];

/* Makes base_dir, $TMPDIR/firkin-<name>-XXXXXX (TMPDIR unset: /tmp);
 * false (reported) if it cannot. */
static bool make_base_dir(const char *name) __attribute__((unused));
static bool make_base_dir(const char *name) {
  const char *tmp = getenv("TMPDIR");
  snprintf(base_dir, sizeof base_dir, "%s/firkin-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
  if (mkdtemp(base_dir) == NULL) {
    perror("mkdtemp");
    return false;
  }
  return true;
}
static void dbpath(char *out, size_t n, const char *name) __attribute__((unused));
static void dbpath(char *out, size_t n, const char *name) {
  const int w = snprintf(out, n, "%s/%s", base_dir, name);
  if (w < 0 || (size_t)w >= n) {
    fprintf(stderr, "test database path too long: %s/%s\n", base_dir, name);
    abort();
  }
  rmrf(out);
}

/* The first number named `field` in the database's stats (JSON). */
static uint64_t stat_u64(firkin_db *db, const char *field) __attribute__((unused));
static uint64_t stat_u64(firkin_db *db, const char *field) {
  char *j = NULL;
  uint64_t v = UINT64_MAX;
  if (firkin_stats(db, &j) == FIRKIN_OK) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", field);
    const char *p = strstr(j, pat);
    if (p != NULL) v = strtoull(p + strlen(pat), NULL, 10);
  }
  firkin_free(j);
  return v;
}

#endif  // FIRKIN_TESTS_C_CHECK_HARNESS_H_
