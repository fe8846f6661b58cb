/* Bug 1: a sealed segment truncated at a record boundary opens without error.
   Bug 2: a closed database whose last segment has a zeroed first 4 KiB opens
          without error; the segment is deleted with the intact records after it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include "firkin.h"
static int count_present(const char* dir, int n) {
  firkin_db* db; int s = firkin_open(dir, NULL, &db);
  if (s) { printf("  open: %s (%s)\n", firkin_strerror(s), firkin_last_error()); return -1; }
  int found = 0; char k[16];
  for (int i = 0; i < n; i++) { snprintf(k, 16, "key%04d", i); bool b; firkin_contains(db, NULL, NULL, k, strlen(k), &b); found += b; }
  firkin_close(db); printf("  open: OK, %d of %d keys present\n", found, n); return found;
}
static void build(const char* dir, int n) {
  firkin_options* o; firkin_options_new(&o); firkin_options_set_segment_size(o, 65536);
  firkin_options_set_auto_compact(o, false);
  firkin_db* db; firkin_open(dir, o, &db);
  char v[1000]; memset(v, 'x', sizeof v); char k[16];
  for (int i = 0; i < n; i++) { snprintf(k, 16, "key%04d", i); firkin_put(db, NULL, NULL, k, strlen(k), v, sizeof v); }
  firkin_close(db); firkin_options_free(o);
}
int main(int argc, char** argv) {
  char d1[256], d2[256], p[512]; snprintf(d1, 256, "%s/b1", argv[1]); snprintf(d2, 256, "%s/b2", argv[1]);
  int n = 150; /* 1048-byte records: 62 per 64 KiB segment -> 3 segments */
  build(d1, n);
  snprintf(p, sizeof p, "%s/0000000000000001.seg", d1);
  truncate(p, 64 + 10 * 1048);   /* exactly after the 10th record of a sealed segment */
  printf("bug 1: sealed segment 1 truncated after its 10th record (expected CORRUPTION):\n");
  count_present(d1, n);
  build(d2, n);
  snprintf(p, sizeof p, "%s/0000000000000003.seg", d2);
  int fd = open(p, O_RDWR); char z[4096] = {0}; pwrite(fd, z, sizeof z, 0); close(fd);
  printf("bug 2: closed db, first 4 KiB of the last segment zeroed (expected CORRUPTION):\n");
  count_present(d2, n);
  return 0;
}
