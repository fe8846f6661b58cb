/*
 * verify_test — firkin_verify as a check of the index against the log.
 *
 * Besides every record's checksum and every index entry pointing at its
 * key's newest record, verify holds the log against the index: every key
 * record of a live namespace is reached by its key's newest entry (at
 * least as new), and each namespace's key counts are its index entries'
 * (DB::Verify). The cases:
 *
 *   online   verify again and again beside 4 writers (puts, deletes, TTL
 *            puts that expire, batches), namespaces created and dropped,
 *            background compaction on 64 KiB segments and firkin_compact:
 *            every verify says ok (a false alarm there is a defect too)
 *
 * Ends with "N passed, N failed".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "firkin.h"
#include "forked_cases.h"

static char root[256];

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static firkin_db *open_small(const char *dir) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set(o, "segment_size", "64K");
  firkin_options_set(o, "compact_dead_ratio", "10");
  firkin_db *db = NULL;
  const firkin_status s = firkin_open(dir, o, &db);
  firkin_options_free(o);
  return s == FIRKIN_OK ? db : NULL;
}

/* ------------------------------------------------------------------------ */
/* online                                                                    */
/* ------------------------------------------------------------------------ */

#define ONLINE_WRITERS 4
static atomic_bool online_stop;
static atomic_long online_errors;

typedef struct {
  firkin_db *db;
  int id;
} writer_arg;

static void *online_writer(void *p) {
  writer_arg *a = p;
  char key[32], val[200];
  memset(val, 'v', sizeof val);
  unsigned seed = 17u + (unsigned)a->id;
  char nsname[32];
  snprintf(nsname, sizeof nsname, "w%d", a->id);
  for (long i = 0; !atomic_load(&online_stop); i++) {
    const int k = (int)(rand_r(&seed) % 400);
    const int kl = snprintf(key, sizeof key, "k%d-%d", a->id, k);
    const unsigned op = rand_r(&seed) % 10;
    firkin_status s = FIRKIN_OK;
    if (op < 4) {
      s = firkin_put(a->db, NULL, NULL, key, (size_t)kl, val, 20 + (size_t)(i % 150));
    } else if (op < 6) {
      s = firkin_delete(a->db, NULL, NULL, key, (size_t)kl);
    } else if (op < 8) {
      /* expires within a few ms: compaction drops it while others run */
      s = firkin_put_ttl(a->db, NULL, NULL, key, (size_t)kl, val, 50, 1 + (uint64_t)(i % 5));
    } else if (op < 9) {
      firkin_batch *b = NULL;
      firkin_batch_new(&b);
      for (int j = 0; j < 3; j++) {
        char bk[32];
        const int bl = snprintf(bk, sizeof bk, "b%d-%d", a->id, (k + j) % 400);
        if (j == 2) {
          firkin_batch_delete(b, NULL, bk, (size_t)bl);
        } else {
          firkin_batch_put(b, NULL, bk, (size_t)bl, val, 60);
        }
      }
      s = firkin_write(a->db, NULL, b);
      firkin_batch_free(b);
    } else {
      /* a namespace of this writer's: created, written, now and then dropped */
      firkin_ns *ns = NULL;
      s = firkin_ns_open(a->db, nsname, true, &ns);
      if (s == FIRKIN_OK) {
        s = firkin_put(a->db, NULL, ns, key, (size_t)kl, val, 40);
        firkin_ns_close(ns);
        if (s == FIRKIN_OK && rand_r(&seed) % 8 == 0) s = firkin_ns_drop(a->db, nsname);
      }
    }
    if (s != FIRKIN_OK && s != FIRKIN_E_NAMESPACE_NOT_FOUND) {
      fprintf(stderr, "  writer %d: %s (%s)\n", a->id, firkin_strerror(s), firkin_last_error());
      atomic_fetch_add(&online_errors, 1);
      break;
    }
  }
  return NULL;
}

static int t_online(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/online", root);
  firkin_db *db = open_small(dir);
  CHECK(db != NULL, "open");
  atomic_store(&online_stop, false);
  pthread_t th[ONLINE_WRITERS];
  writer_arg args[ONLINE_WRITERS];
  for (int i = 0; i < ONLINE_WRITERS; i++) {
    args[i] = (writer_arg){db, i};
    pthread_create(&th[i], NULL, online_writer, &args[i]);
  }
  int verifies = 0, bad = 0;
  const double end = now_s() + 3.0;
  char *first_bad = NULL;
  while (now_s() < end && atomic_load(&online_errors) == 0) {
    if (verifies % 4 == 3) (void)firkin_compact(db);
    char *rep = NULL;
    const firkin_status s = firkin_verify(db, &rep);
    verifies++;
    if (s != FIRKIN_OK) {
      bad++;
      if (first_bad == NULL && rep != NULL) first_bad = strdup(rep);
    }
    firkin_free(rep);
  }
  atomic_store(&online_stop, true);
  for (int i = 0; i < ONLINE_WRITERS; i++) pthread_join(th[i], NULL);
  char *rep = NULL;
  const firkin_status last = firkin_verify(db, &rep);
  CHECK(atomic_load(&online_errors) == 0, "a writer failed");
  CHECK(bad == 0, "%d of %d verifies beside the writers failed; first: %s", bad, verifies,
        first_bad ? first_bad : "");
  CHECK(last == FIRKIN_OK, "verify after the writers: %s", rep ? rep : "");
  CHECK(verifies >= 5, "only %d verifies ran", verifies);
  printf("  %d verifies beside the writers, all ok\n", verifies);
  free(first_bad);
  firkin_free(rep);
  firkin_close(db);
  return 0;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  snprintf(root, sizeof root, "/tmp/firkin-verify-XXXXXX");
  if (!mkdtemp(root)) {
    perror("mkdtemp");
    return 1;
  }
  run("online: verify beside writers, TTL, namespaces and compaction", t_online);
  sh("rm -rf '%s'", root);
  return forked_cases_summary();
}
