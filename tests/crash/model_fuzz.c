/*
 * model_fuzz — crash-safety suite 5 (deterministic part): model-based
 * fuzzing. For each seed, a PRNG produces the byte string that
 * model_core.h interprets as operations (put, delete, batch, cas,
 * cas_version, put_if_absent, get, snapshots, iterate, compact,
 * checkpoint, reopen, power-loss reopen (drop, prefix, or pages in any
 * order), reopen without the checkpoint, and a damage check: a copy of the
 * database damaged in one of eight classes and read against the model),
 * each checked against an in-memory model. The libFuzzer target
 * (fuzz_target.c) runs the same interpreter on the fuzzer's bytes.
 *
 * Default: MF_SEEDS seeds x MF_OPS ops; --long: 10x the seeds.
 * --bytes FILE replays a byte string (a libFuzzer crash file);
 * --write-bytes FILE writes the first seed's byte string (to shrink it);
 * -v traces every op.
 */
#include "model_core.h"

#define MF_SEEDS 4
#define MF_OPS 3000

int main(int argc, char **argv) {
  cc_parse_args(argc, argv);
  cc_resolve_optional();
  char *base = cc_tmpdir("model");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/db", base);
  static mf f;
  uint64_t ops = 0, checks = 0, reopens = 0, crashes = 0, compacts = 0, checkpoints = 0,
           mism = 0, damages = 0, refused = 0;
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--bytes") != 0) continue;
    FILE *fp = fopen(argv[i + 1], "rb");
    if (!fp) return 2;
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    CC_GROUP("model fuzz: replay", {
      mf_run(&f, dir, buf, n);
      CC_CHECK(f.failures == 0, "%" PRIu64 " mismatches", f.failures);
    });
    cc_rmrf(base);
    return cc_finish();
  }
  int seeds = cc_long ? MF_SEEDS * 10 : MF_SEEDS;
  size_t nbytes = MF_OPS * 3 + MF_OPS / 2;
  uint8_t *bytes = (uint8_t *)malloc(nbytes);
  for (int sd = 0; sd < seeds; sd++) {
    uint64_t seed = cc_seed_arg + (uint64_t)sd;
    cc_rng r;
    cc_seed(&r, seed);
    for (size_t i = 0; i < nbytes; i++) bytes[i] = (uint8_t)cc_next(&r);
    for (int i = 1; i + 1 < argc; i++) {
      if (strcmp(argv[i], "--write-bytes") != 0) continue;
      FILE *fp = fopen(argv[i + 1], "wb"); /* the byte string of the first seed */
      if (!fp || fwrite(bytes, 1, nbytes, fp) != nbytes) return 2;
      fclose(fp);
      return 0;
    }
    char name[96];
    snprintf(name, sizeof name, "model fuzz: seed %" PRIu64, seed);
    cc_rmrf(dir);
    CC_GROUP(name, {
      mf_run(&f, dir, bytes, nbytes);
      CC_CHECK(f.failures == 0, "seed %" PRIu64 ": %" PRIu64 " mismatches (rerun: --seed %" PRIu64
               ")", seed, f.failures, seed);
    });
    ops += f.ops;
    checks += f.checks;
    reopens += f.reopens;
    crashes += f.crashes;
    compacts += f.compacts;
    checkpoints += f.checkpoints;
    damages += f.damages;
    refused += f.damaged_opens_refused;
    mism += f.failures;
  }
  free(bytes);
  printf("model fuzz: %d seeds, %" PRIu64 " ops, %" PRIu64 " checks, %" PRIu64 " reopens (%" PRIu64
         " after power loss), %" PRIu64 " compactions, %" PRIu64 " checkpoints, %" PRIu64
         " mismatches\n",
         seeds, ops, checks, reopens, crashes, compacts, checkpoints, mism);
  printf("model fuzz: %" PRIu64 " damaged copies checked (%" PRIu64
         " refused at open, the rest read key by key against the model)\n",
         damages, refused);
  cc_counts c = {checks, 0, mism, 0};
  cc_print_counts("model fuzz", &c);
  cc_rmrf(base);
  free(base);
  return cc_finish();
}
