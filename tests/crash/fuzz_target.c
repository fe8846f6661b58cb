/*
 * fuzz_target — crash-safety suite 5 (libFuzzer part): the fuzzer's bytes
 * are the operation sequence of model_core.h; any model mismatch aborts.
 * Built only with clang -fsanitize=fuzzer (tests/crash/build_fuzz.sh).
 *   build-fuzz/tests/crash/firkin_fuzz -max_total_time=60 corpus/
 * Replay a crash with: model_fuzz_test --bytes crash-<hash>
 */
#include "model_core.h"

static char fz_dir[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  cc_resolve_optional();
  char *base = cc_tmpdir("fuzz");
  snprintf(fz_dir, sizeof fz_dir, "%s/db", base);
  free(base);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mf f;
  if (size > 4096) size = 4096; /* keep each input fast */
  cc_rmrf(fz_dir);
  mf_run(&f, fz_dir, data, size);
  if (f.failures) abort();
  return 0;
}
