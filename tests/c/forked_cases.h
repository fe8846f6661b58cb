/*
 * forked_cases.h — the harness shared by the C test programs that run each
 * case in a child process under alarm(), so that a hang, an abort or a
 * crash fails that case and not the whole run (recovery_regress, readers,
 * crash/recycle). Header-only; include it once per program.
 *
 *   CHECK(cond, fmt, ...)  fails the current case: prints the file, line,
 *                          message and firkin_last_error(), returns 1
 *   run(name, fn)          runs int fn(void) in a child (0 = pass) under
 *                          alarm(forked_case_alarm_s), prints ok/FAIL;
 *                          with FIRKIN_CASES set (case names, the part
 *                          before ':', space-separated) only those
 *   sh(fmt, ...)           runs a shell command (reports a failure)
 *   stat_num(db, field)    the first number `field` in firkin_stats (-1 if
 *                          absent)
 *   forked_cases_summary() prints "N passed, N failed"; the exit status
 */
#ifndef FIRKIN_TESTS_C_FORKED_CASES_H_
#define FIRKIN_TESTS_C_FORKED_CASES_H_

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firkin.h"

static int passed, failed;
static unsigned forked_case_alarm_s = 120;

#define CHECK(cond, ...)                                     \
  do {                                                       \
    if (!(cond)) {                                           \
      fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                          \
      fprintf(stderr, " [%s]\n", firkin_last_error());       \
      return 1;                                              \
    }                                                        \
  } while (0)

/* Whether FIRKIN_CASES (space-separated case names: the part of a case's
 * name before its ':') lists the case; every case when it is unset. */
static char cases_seen[8192]; /* " name name ..." of every case run() met */
static bool case_selected(const char *name) {
  const size_t n = strcspn(name, ":");
  const size_t used = strlen(cases_seen);
  if (used + n + 2 < sizeof cases_seen) snprintf(cases_seen + used, n + 2, " %s", name);
  const char *only = getenv("FIRKIN_CASES");
  if (only == NULL || only[strspn(only, " ")] == 0) return true;
  for (const char *p = only + strspn(only, " "); *p != 0;) {
    const size_t len = strcspn(p, " ");
    if (len == n && strncmp(p, name, n) == 0) return true;
    p += len;
    while (*p == ' ') p++;
  }
  return false;
}

static void run(const char *name, int (*fn)(void)) {
  if (!case_selected(name)) return;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(forked_case_alarm_s);
    _exit(fn());
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
    passed++;
    printf("ok   %s\n", name);
  } else {
    failed++;
    printf("FAIL %s (%s %d)\n", name, WIFSIGNALED(st) ? "signal" : "exit",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
  }
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void sh(const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  if (system(cmd) != 0) fprintf(stderr, "  (command failed: %s)\n", cmd);
}

static long long stat_num(firkin_db *db, const char *field) __attribute__((unused));
static long long stat_num(firkin_db *db, const char *field) {
  char *js = NULL;
  if (firkin_stats(db, &js) != FIRKIN_OK) return -1;
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", field);
  const char *p = strstr(js, pat);
  const long long v = p ? atoll(p + strlen(pat)) : -1;
  firkin_free(js);
  return v;
}

static int forked_cases_summary(void) {
  /* A name in FIRKIN_CASES that is no case of this program (a typo, or a
   * stray variable) fails the run: it cannot pass a suite unrun. */
  const char *only = getenv("FIRKIN_CASES");
  for (const char *p = only != NULL ? only + strspn(only, " ") : ""; *p != 0;) {
    const size_t len = strcspn(p, " ");
    bool known = false;
    for (const char *q = cases_seen; *q != 0 && !known;) {
      q += strspn(q, " ");
      const size_t ql = strcspn(q, " ");
      known = ql == len && strncmp(q, p, len) == 0;
      q += ql;
    }
    if (!known) {
      printf("FAIL FIRKIN_CASES names '%.*s', no case of this program\n", (int)len, p);
      failed++;
    }
    p += len;
    while (*p == ' ') p++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}

#endif  /* FIRKIN_TESTS_C_FORKED_CASES_H_ */
