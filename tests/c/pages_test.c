/*
 * pages_test — which log files are backed by 2 MiB pages (docs/write_path.md,
 * "Large pages"), read from /proc/self/smaps (FilePmdMapped):
 *
 *  - a database in sync mode INTERVAL or ALWAYS never maps its log with
 *    2 MiB pages: a sync inside one writes all 2 MiB of it, and these modes
 *    sync often. Checked everywhere (a platform without large file pages
 *    passes it trivially, and says so).
 *  - a database in sync mode NONE does, where the platform can: a probe
 *    first maps a fallocated file of its own with MADV_HUGEPAGE and writes
 *    it; only if the probe gets 2 MiB pages must the database's log too.
 *  - a compaction output is written in whole aligned 2 MiB pieces, so its
 *    read-only mapping gets 2 MiB pages in every sync mode, where a probe
 *    file written that way does.
 *
 * Ends with "N passed, N failed"; what the platform cannot do is reported
 * as skipped, never counted as passed.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check_harness.h"

/* Sum of FilePmdMapped (KiB) over this process's mappings of files whose
 * path starts with `prefix`. */
static long pmd_kib(const char *prefix) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (f == NULL) return -1;
  char line[4096];
  bool in = false;
  long sum = 0;
  size_t plen = strlen(prefix);
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      const char *path = strchr(line, '/');
      in = path != NULL && strncmp(path, prefix, plen) == 0;
      continue;
    }
    long kb;
    if (in && sscanf(line, "FilePmdMapped: %ld kB", &kb) == 1) sum += kb;
  }
  fclose(f);
  return sum;
}

/* Whether a fallocated file mapped shared with MADV_HUGEPAGE and written
 * through the mapping gets 2 MiB pages here. */
static bool probe_mapped_writes(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/probe_mapped", base_dir);
  const size_t size = 8u << 20;
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (fd < 0 || posix_fallocate(fd, 0, (off_t)size) != 0) return false;
  char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return false;
#ifdef MADV_HUGEPAGE
  madvise(p, size, MADV_HUGEPAGE);
#endif
  memset(p, 'p', size);
  bool yes = pmd_kib(path) > 0;
  munmap(p, size);
  unlink(path);
  return yes;
}

/* Whether a file written with aligned 2 MiB write()s, then mapped
 * read-only, gets 2 MiB pages here. */
static bool probe_written_file(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/probe_written", base_dir);
  const size_t size = 8u << 20, piece = 2u << 20;
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (fd < 0) return false;
  char *buf = malloc(piece);
  memset(buf, 'w', piece);
  bool ok = true;
  for (size_t off = 0; off < size && ok; off += piece) ok = pwrite(fd, buf, piece, (off_t)off) == (ssize_t)piece;
  free(buf);
  char *p = ok ? mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
  close(fd);
  if (p == MAP_FAILED) return false;
  volatile char sink = 0;
  for (size_t off = 0; off < size; off += 4096) sink += p[off];
  (void)sink;
  bool yes = pmd_kib(path) > 0;
  munmap(p, size);
  unlink(path);
  return yes;
}

static int skipped;

/* Opens a database in `mode`, writes 12 MiB of 1000-byte values, reads
 * them back (the read-only remaps are mapped again), and returns the
 * 2 MiB-page KiB of its log. With compact: after firkin_compact and a read
 * of every key (the output's pages mapped). */
static long run_db(const char *name, firkin_sync_mode mode, bool compact) {
  char path[512];
  dbpath(path, sizeof path, name);
  firkin_options *o = NULL;
  firkin_db *db = NULL;
  firkin_options_new(&o);
  firkin_options_set_sync_mode(o, mode);
  firkin_options_set_segment_size(o, 16u << 20);
  firkin_options_set_auto_compact(o, false);
  check(firkin_open(path, o, &db) == FIRKIN_OK, "%s: open", name);
  firkin_options_free(o);
  if (db == NULL) return -1;
  char val[1000];
  memset(val, 'v', sizeof val);
  const int n = 12000;
  bool ok = true;
  for (int round = 0; round < (compact ? 2 : 1); round++) {
    for (int i = 0; i < n && ok; i++) {
      char key[32];
      int kl = snprintf(key, sizeof key, "key%08d", i);
      ok = firkin_put(db, NULL, NULL, key, (size_t)kl, val, sizeof val) == FIRKIN_OK;
    }
  }
  check(ok, "%s: puts", name);
  if (compact) check(firkin_compact(db) == FIRKIN_OK, "%s: compact", name);
  for (int i = 0; i < n && ok; i++) {
    char key[32], out[1000];
    size_t len = 0;
    int kl = snprintf(key, sizeof key, "key%08d", i);
    ok = firkin_get_into(db, NULL, NULL, key, (size_t)kl, out, sizeof out, &len) == FIRKIN_OK &&
         len == sizeof val;
  }
  check(ok, "%s: gets", name);
  long kib = pmd_kib(path);
  firkin_close(db);
  return kib;
}

int main(void) {
  snprintf(base_dir, sizeof base_dir, "/tmp/firkin_pages_test_%d", (int)getpid());
  mkdir(base_dir, 0755);
  if (pmd_kib("/") < 0) {
    printf("skipped: no /proc/self/smaps\n0 passed, 0 failed\n");
    return 0;
  }
  const bool mapped = probe_mapped_writes();
  const bool written = probe_written_file();
  printf("platform: 2 MiB pages for mapped writes: %s; for 2 MiB write()s: %s\n",
         mapped ? "yes" : "no", written ? "yes" : "no");

  long k = run_db("interval", FIRKIN_SYNC_INTERVAL, false);
  check(k == 0, "INTERVAL database: its log has %ld KiB in 2 MiB pages, want none", k);
  k = run_db("always", FIRKIN_SYNC_ALWAYS, false);
  check(k == 0, "ALWAYS database: its log has %ld KiB in 2 MiB pages, want none", k);
  k = run_db("none", FIRKIN_SYNC_NONE, false);
  if (mapped) {
    check(k > 0, "NONE database: its log has no 2 MiB pages, though the platform gives them");
  } else {
    skipped++;
    printf("skipped: NONE database's 2 MiB pages (the platform gives none here; it has %ld KiB)\n", k);
  }
  k = run_db("compacted", FIRKIN_SYNC_INTERVAL, true);
  if (written) {
    check(k > 0, "compaction output (INTERVAL database): no 2 MiB pages, though the platform gives "
                 "them for 2 MiB writes");
  } else {
    skipped++;
    printf("skipped: compaction output's 2 MiB pages (the platform gives none for 2 MiB writes)\n");
  }
  rmrf(base_dir);
  printf("%d skipped\n%d passed, %d failed\n", skipped, passed, failed);
  return failed == 0 ? 0 : 1;
}
