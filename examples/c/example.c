/* Firkin C quickstart: open a database, write, read, batch, iterate.
 * Usage: firkin_example [database-directory]   (default: ./firkin-data) */
#include <firkin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(firkin_status s, const char *what) {
  if (s != FIRKIN_OK) {
    fprintf(stderr, "%s: %s (%s)\n", what, firkin_strerror(s), firkin_last_error());
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "firkin-data";
  firkin_db *db = NULL;
  firkin_options *opts = NULL;
  if (check(firkin_options_new(&opts), "options")) return 1;
  firkin_options_set_sync_mode(opts, FIRKIN_SYNC_INTERVAL); /* the default */
  if (check(firkin_open(path, opts, &db), "open")) return 1;
  firkin_options_free(opts);
  printf("Firkin %s: opened %s\n", firkin_version_string(), path);

  /* Point writes and reads (NULL options = defaults, NULL ns = default). */
  if (check(firkin_put(db, NULL, NULL, "greeting", 8, "hello, world", 12), "put")) return 1;
  void *val = NULL;
  size_t len = 0;
  if (check(firkin_get(db, NULL, NULL, "greeting", 8, &val, &len), "get")) return 1;
  printf("greeting = %.*s\n", (int)len, (const char *)val);
  firkin_free(val);

  /* A missing key is a status, not an error message. */
  if (firkin_get(db, NULL, NULL, "nope", 4, &val, &len) == FIRKIN_E_NOT_FOUND)
    printf("nope is absent\n");

  /* An atomic batch across two namespaces. */
  firkin_ns *users = NULL;
  if (check(firkin_ns_open(db, "users", true, &users), "ns_open")) return 1;
  firkin_batch *b = NULL;
  firkin_batch_new(&b);
  firkin_batch_put(b, users, "alice", 5, "admin", 5);
  firkin_batch_put(b, users, "bob", 3, "reader", 6);
  firkin_batch_put(b, NULL, "user-count", 10, "2", 1);
  if (check(firkin_write(db, NULL, b), "write batch")) return 1;
  firkin_batch_free(b);

  /* Compare-and-swap on the version. */
  uint64_t version = 0;
  firkin_get_version(db, NULL, NULL, "user-count", 10, &version);
  if (check(firkin_cas_version(db, NULL, NULL, "user-count", 10, version, "3", 1), "cas"))
    return 1;

  /* A snapshot, then iterate the namespace as of that snapshot. */
  firkin_snapshot *snap = NULL;
  firkin_snapshot_new(db, &snap);
  firkin_put(db, NULL, users, "carol", 5, "writer", 6); /* not seen by snap */
  firkin_iter *it = NULL;
  if (check(firkin_iter_new(db, snap, users, &it), "iter")) return 1;
  for (; firkin_iter_valid(it); firkin_iter_next(it)) {
    const void *k, *v;
    size_t kl, vl;
    firkin_iter_key(it, &k, &kl);
    firkin_iter_value(it, &v, &vl);
    printf("users[%.*s] = %.*s\n", (int)kl, (const char *)k, (int)vl, (const char *)v);
  }
  if (check(firkin_iter_status(it), "iteration")) return 1;
  firkin_iter_free(it);
  firkin_snapshot_free(snap);

  uint64_t n = 0;
  firkin_count(db, users, &n);
  printf("users has %llu keys now\n", (unsigned long long)n);
  firkin_ns_close(users);
  return check(firkin_close(db), "close");
}
