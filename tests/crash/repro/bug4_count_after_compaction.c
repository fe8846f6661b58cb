/* firkin_count of a namespace wrong after compaction + power loss */
#include <stdio.h>
#include <string.h>
#include "firkin.h"
#include "firkin_testing.h"
static firkin_fault_env* env;
static firkin_db* db; static firkin_ns* ns;
static void openit(const char* dir) {
  firkin_options* o; firkin_options_new(&o);
  firkin_options_set_sync_mode(o, FIRKIN_SYNC_ALWAYS);
  firkin_fault_env_new(&env); firkin_options_set_fault_env(o, env);
  if (firkin_open(dir, o, &db)) printf("open failed: %s\n", firkin_last_error());
  firkin_ns_open(db, "second", true, &ns); firkin_options_free(o);
}
static void crash(const char* dir) {
  firkin_fault_env_crash(env, FIRKIN_CRASH_DROP, 1);
  firkin_ns_close(ns); firkin_close(db); firkin_fault_env_free(env); openit(dir);
}
static void put(firkin_ns* n, const char* k) { firkin_put(db, NULL, n, k, strlen(k), "v", 1); }
int main(int argc, char** argv) {
  const char* dir = argv[1]; uint64_t c;
  openit(dir);
  put(ns, "a"); put(ns, "b");
  firkin_batch* bt; firkin_batch_new(&bt);   /* a batch across namespaces */
  firkin_batch_put(bt, NULL, "x1", 2, "v", 1); firkin_batch_put(bt, ns, "c", 1, "v", 1);
  firkin_batch_put(bt, NULL, "x2", 2, "v", 1); firkin_batch_put(bt, ns, "d", 1, "v", 1);
  firkin_write(db, NULL, bt); firkin_batch_free(bt);
  put(ns, "e"); put(ns, "f");
  crash(dir);
  put(ns, "g"); put(NULL, "x");
  printf("compact: %d\n", firkin_compact(db));
  firkin_count(db, ns, &c); printf("count before power loss: %llu (expected 7)\n", (unsigned long long)c);
  crash(dir);
  firkin_count(db, ns, &c); printf("count after power loss: %llu (expected 7)\n", (unsigned long long)c);
  int found = 0; const char* ks[] = {"a","b","c","d","e","f","g"}; for (int i = 0; i < 7; i++) { bool b; firkin_contains(db, NULL, ns, ks[i], 1, &b); found += b; }
  printf("contains: %d of 7\n", found);
  return 0;
}
