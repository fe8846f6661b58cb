/*
 * progress_test — the progress callbacks of the long calls
 * (firkin_compact_v2, firkin_verify_v2, firkin_verify_path_v2): called on
 * the calling thread, first with done = 0, never decreasing, never past
 * total, last with done = total; NULL callbacks and bad handles. Ends with
 * "N passed, N failed".
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firkin.h"

static int passed, failed;

#define EXPECT(cond, ...)                      \
  do {                                         \
    if (cond) {                                \
      passed++;                                \
    } else {                                   \
      failed++;                                \
      fprintf(stderr, "FAIL %d: ", __LINE__);  \
      fprintf(stderr, __VA_ARGS__);            \
      fprintf(stderr, "\n");                   \
    }                                          \
  } while (0)

struct calls {
  int n;
  uint64_t first_done, last_done, last_total, total0;
  bool monotonic, bounded, same_thread;
  pthread_t caller;
};

static void cb(void *ctx, uint64_t done, uint64_t total) {
  struct calls *c = ctx;
  if (c->n == 0) {
    c->first_done = done;
    c->total0 = total;
  } else if (done < c->last_done) {
    c->monotonic = false;
  }
  if (done > total) c->bounded = false;
  if (!pthread_equal(pthread_self(), c->caller)) c->same_thread = false;
  c->last_done = done;
  c->last_total = total;
  c->n++;
}

static void reset(struct calls *c) {
  memset(c, 0, sizeof *c);
  c->monotonic = c->bounded = c->same_thread = true;
  c->caller = pthread_self();
}

static void expect_good(const char *what, const struct calls *c) {
  EXPECT(c->n >= 2, "%s: %d calls", what, c->n);
  EXPECT(c->first_done == 0, "%s: first done %llu", what, (unsigned long long)c->first_done);
  EXPECT(c->total0 > 0, "%s: total 0", what);
  EXPECT(c->monotonic && c->bounded, "%s: done went back or past total", what);
  EXPECT(c->same_thread, "%s: called on another thread", what);
  EXPECT(c->last_done == c->last_total, "%s: last call %llu of %llu", what,
         (unsigned long long)c->last_done, (unsigned long long)c->last_total);
}

int main(void) {
  char dir[256];
  snprintf(dir, sizeof dir, "/tmp/firkin-progress-%d", (int)getpid());
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_segment_size(o, 64 * 1024);
  firkin_options_set_auto_compact(o, false);
  firkin_db *db = NULL;
  if (firkin_open(dir, o, &db) != FIRKIN_OK) {
    fprintf(stderr, "open: %s\n", firkin_last_error());
    return 1;
  }
  char k[32], v[300];
  memset(v, 'v', sizeof v);
  for (int round = 0; round < 4; round++)
    for (int i = 0; i < 1000; i++) {
      snprintf(k, sizeof k, "key%d", i);
      firkin_put(db, NULL, NULL, k, strlen(k), v, sizeof v);
    }
  struct calls c;
  reset(&c);
  EXPECT(firkin_compact_v2(db, cb, &c) == FIRKIN_OK, "compact_v2: %s", firkin_last_error());
  expect_good("compact", &c);
  reset(&c);
  char *report = NULL;
  EXPECT(firkin_verify_v2(db, cb, &c, &report) == FIRKIN_OK, "verify_v2: %s", firkin_last_error());
  EXPECT(report != NULL && strstr(report, "\"ok\":true") != NULL, "verify report");
  firkin_free(report);
  expect_good("verify", &c);
  /* NULL callbacks: the plain calls. */
  EXPECT(firkin_compact_v2(db, NULL, NULL) == FIRKIN_OK, "compact_v2 without a callback");
  EXPECT(firkin_verify_v2(db, NULL, NULL, NULL) == FIRKIN_OK, "verify_v2 without a callback");
  /* Bad handles. */
  EXPECT(firkin_compact_v2(NULL, cb, &c) == FIRKIN_E_INVALID_ARGUMENT, "compact_v2(NULL)");
  EXPECT(firkin_verify_v2(NULL, cb, &c, &report) == FIRKIN_E_INVALID_ARGUMENT && report == NULL,
         "verify_v2(NULL)");
  firkin_close(db);
  reset(&c);
  EXPECT(firkin_verify_path_v2(dir, NULL, cb, &c, NULL) == FIRKIN_OK, "verify_path_v2: %s",
         firkin_last_error());
  expect_good("verify_path", &c);
  EXPECT(firkin_verify_path_v2(NULL, NULL, cb, &c, NULL) == FIRKIN_E_INVALID_ARGUMENT,
         "verify_path_v2(NULL)");
  firkin_options_free(o);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
