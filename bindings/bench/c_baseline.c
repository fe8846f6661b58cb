/* c_baseline.c: the per-call cost of the C API itself, for the bindings'
 * overhead table in docs/bindings.md: get of a 100-byte value (firkin_get
 * with its malloc'd copy, and firkin_get_into a caller buffer) and put,
 * 1M calls each, 3 rounds. Usage: c_baseline DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firkin.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define CK(x)                                                               \
  do {                                                                      \
    firkin_status s_ = (x);                                                 \
    if (s_ != FIRKIN_OK) {                                                  \
      fprintf(stderr, "%s: %s (%s)\n", #x, firkin_strerror(s_), firkin_last_error()); \
      return 1;                                                             \
    }                                                                       \
  } while (0)

int main(int argc, char **argv) {
  int n = 1000000;
  const char *key = "bench-key-000001";
  char val[100], buf[128];
  firkin_options *o;
  firkin_db *db;
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  memset(val, 'v', sizeof val);
  if (argc > 2) n = atoi(argv[2]);
  CK(firkin_options_new(&o));
  CK(firkin_options_set(o, "sync_mode", "none"));
  /* Background compaction off: the table measures call overhead (and see
   * bindings/ENGINE_BUGS.md: close can hang after many overwrites). */
  CK(firkin_options_set(o, "auto_compact", "false"));
  CK(firkin_open(argv[1], o, &db));
  CK(firkin_put(db, NULL, NULL, key, strlen(key), val, sizeof val));
  for (int round = 0; round < 3; round++) {
    double t0 = now();
    for (int i = 0; i < n; i++) {
      void *v;
      size_t vl;
      CK(firkin_get(db, NULL, NULL, key, strlen(key), &v, &vl));
      firkin_free(v);
    }
    double t1 = now();
    for (int i = 0; i < n; i++) {
      size_t vl;
      CK(firkin_get_into(db, NULL, NULL, key, strlen(key), buf, sizeof buf, &vl));
    }
    double t2 = now();
    for (int i = 0; i < n; i++) CK(firkin_put(db, NULL, NULL, key, strlen(key), val, sizeof val));
    double t3 = now();
    printf("round %d: get %.0f ns/call, get-into %.0f ns/call, put %.0f ns/call\n", round,
           (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n);
  }
  CK(firkin_close(db));
  firkin_options_free(o);
  return 0;
}
