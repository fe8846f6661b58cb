/*
 * retained_test — what a thread or a handle keeps of a large call once it
 * is done with it: heap in use (glibc mallinfo2: bytes allocated and not
 * freed, every arena and mmapped block) measured while the holder lives,
 * against the same once it is gone. Each case runs in a child process
 * (forked_cases.h); FIRKIN_CASES="case ..." runs chosen cases.
 *
 *   batch, batch_zstd  a thread writes one batch of 200,000 puts, then one
 *                      of 10: its per-thread scratch (the batch's ops, key
 *                      set, shard list, locators; with compression, the
 *                      encoded ops) keeps at most 4 MiB (until session 15
 *                      it kept the largest batch's for the thread's life:
 *                      28 MiB, 55 MiB with compression)
 *
 * Not under a sanitizer (its allocator is not glibc's: mallinfo2 does not
 * see it): every case passes there with a "skip" line. Ends with
 * "N passed, N failed".
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firkin.h"
#include "forked_cases.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static char root[256];
static const long long kMiB = 1 << 20;
static const long long kAllowed = 4 << 20;

/* Bytes allocated and not yet freed, in every arena and mmapped block. */
static long long heap_in_use(void) {
  const struct mallinfo2 m = mallinfo2();
  return (long long)(m.uordblks + m.hblkhd);
}

static firkin_db *open_db(const char *name, const char *compression) {
  char path[300];
  snprintf(path, sizeof path, "%s/%s", root, name);
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_create_if_missing(o, true);
  if (compression != NULL) firkin_options_set(o, "compression", compression);
  firkin_options_set(o, "segment_size", "4194304"); /* the big value alone in the first */
  firkin_db *db = NULL;
  firkin_status s = firkin_open(path, o, &db);
  firkin_options_free(o);
  return s == FIRKIN_OK ? db : NULL;
}

/* ---- batch: a thread's scratch after a big batch then a small one ---- */

#define BIG_BATCH 200000

struct batch_thread {
  firkin_db *db;
  int ok;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stage; /* 1: the thread wrote its batches; 2: it may exit */
};

static int write_batch(firkin_db *db, int from, int n) {
  firkin_batch *b = NULL;
  if (firkin_batch_new(&b) != FIRKIN_OK) return 0;
  char k[32], v[100];
  memset(v, 'v', sizeof v); /* compressible, over compression_min_size */
  int ok = 1;
  for (int i = from; ok && i < from + n; i++) {
    snprintf(k, sizeof k, "key-%08d", i);
    ok = firkin_batch_put(b, NULL, k, strlen(k), v, sizeof v) == FIRKIN_OK;
  }
  ok = ok && firkin_write(db, NULL, b) == FIRKIN_OK;
  firkin_batch_free(b);
  return ok;
}

static void *batch_writer(void *arg) {
  struct batch_thread *t = arg;
  t->ok = write_batch(t->db, 0, BIG_BATCH) && write_batch(t->db, BIG_BATCH, 10);
  pthread_mutex_lock(&t->mu);
  t->stage = 1;
  pthread_cond_broadcast(&t->cv);
  while (t->stage != 2) pthread_cond_wait(&t->cv, &t->mu);
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

static int batch_case(const char *compression) {
  if (SANITIZED) {
    printf("  skip (sanitizer)\n");
    return 0;
  }
  firkin_db *db = open_db(compression ? "batch_zstd" : "batch", compression);
  CHECK(db != NULL, "open");
  struct batch_thread t = {db, 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, batch_writer, &t) == 0, "thread");
  pthread_mutex_lock(&t.mu);
  while (t.stage != 1) pthread_cond_wait(&t.cv, &t.mu);
  pthread_mutex_unlock(&t.mu);
  const long long alive = heap_in_use();
  pthread_mutex_lock(&t.mu);
  t.stage = 2;
  pthread_cond_broadcast(&t.cv);
  pthread_mutex_unlock(&t.mu);
  pthread_join(th, NULL);
  const long long gone = heap_in_use();
  CHECK(t.ok, "the batches were written");
  printf("  the writer kept %.1f MiB after a batch of %d puts and one of 10\n",
         (double)(alive - gone) / kMiB, BIG_BATCH);
  fflush(stdout);
  CHECK(alive - gone <= kAllowed, "the writer thread keeps %lld bytes (at most %lld)",
        alive - gone, kAllowed);
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  return 0;
}
static int batch_plain(void) { return batch_case(NULL); }
static int batch_zstd(void) { return batch_case("zstd"); }

int main(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/firkin-retained-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(root) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  run("batch: a thread's scratch after a batch of 200,000 puts then one of 10", batch_plain);
  run("batch_zstd: the same with compression (the encoded ops)", batch_zstd);
  sh("rm -rf %s", root);
  return forked_cases_summary();
}
