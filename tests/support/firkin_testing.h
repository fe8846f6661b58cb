/*
 * firkin_testing.h — EXPERIMENTAL test hooks. Not part of the product:
 * these calls are exported only by the test-only library
 * libfirkin_testing.so (tests/support/, never installed), never by
 * libfirkin.so, and may change in any commit. They let language-neutral
 * tests reach the fault-injecting I/O environment (DESIGN §8) through the C
 * interface. A test links libfirkin_testing.so INSTEAD of libfirkin.so: it
 * holds the same objects as libfirkin.so plus these calls.
 *
 * A fault environment works over a real directory. Everything the database
 * writes is kept in memory until it is synced; a sync writes it through to
 * the real file. A simulated power loss (firkin_fault_env_crash) throws the
 * unsynced data away (or keeps a random prefix of it, or replaces it with
 * garbage), removes files whose creation was never made durable by a
 * directory sync, and makes every later call through the environment fail
 * with FIRKIN_E_IO. The files on disk then hold exactly what a machine would
 * find after power came back; reopen them with a fresh environment. (Not
 * with none where a handle without one opened the directory before: the
 * LIVE file, never synced, goes back to that handle's page, whose boot id
 * is this machine's, and recovery takes the power loss for a kill -9 on
 * this boot; docs/format.md, "LIVE file from another moment". Found by a
 * review on 2026-11-29: 49 of 50 `always` puts gone that way.)
 *
 * Thread rules: a fault environment may be shared by the database's threads;
 * the control calls below may be made from any thread.
 */
#ifndef FIRKIN_TESTING_H
#define FIRKIN_TESTING_H

#include "firkin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct firkin_fault_env firkin_fault_env;

/** The kinds of I/O call that can be made to fail. */
typedef enum firkin_fault_op {
  FIRKIN_FAULT_WRITE = 0,    /* writes and appends to a file */
  FIRKIN_FAULT_SYNC = 1,     /* fdatasync / msync of a file, or of a directory */
  FIRKIN_FAULT_RENAME = 2,   /* rename */
  FIRKIN_FAULT_OPEN = 3,     /* opening or creating a file */
  FIRKIN_FAULT_ALLOCATE = 4, /* preallocation (fallocate) of a new segment or of LIVE's pages */
  FIRKIN_FAULT_OP_COUNT = 5
} firkin_fault_op;

/** What a simulated power loss does with data that was never synced. */
typedef enum firkin_crash_mode {
  FIRKIN_CRASH_DROP = 0,    /* all unsynced data is lost */
  FIRKIN_CRASH_PREFIX = 1,  /* a random prefix of each file's unsynced data is kept */
  FIRKIN_CRASH_GARBAGE = 2, /* a random prefix is kept, then random bytes follow */
  FIRKIN_CRASH_PAGES = 3,   /* writeback in any order: each unsynced page of a mapped
                               file is kept whole or lost, independently */
  FIRKIN_CRASH_KILL = 4     /* not a power loss: the process is killed (kill -9) and the
                               machine stays up, so every byte written reaches the files,
                               no creation or rename is undone, and a reopen through the
                               same environment (after firkin_fault_env_reset) is on the
                               same boot; the files then count as durable */
} firkin_crash_mode;

FIRKIN_API firkin_status firkin_fault_env_new(firkin_fault_env **out);
/** Frees the environment. A database using it must be closed first. */
FIRKIN_API void firkin_fault_env_free(firkin_fault_env *env);

/** Makes a database opened with these options do all its I/O through env.
 *  env must outlive the database. NULL restores the default (posix). */
FIRKIN_API firkin_status firkin_options_set_fault_env(firkin_options *opts,
                                                      firkin_fault_env *env);

/** Gives a database opened with these options a fake clock (TTL expiry and
 *  commit times, docs/api.md "The clock"): clock(ctx) returns the time in
 *  milliseconds since the epoch, called from any of the database's threads
 *  (it must be thread-safe). The database still never lets its time go
 *  back (a clock set back reads as the newest commit time). NULL restores
 *  the system clock. ctx must outlive the database. */
FIRKIN_API firkin_status firkin_options_set_test_clock(firkin_options *opts,
                                                       uint64_t (*clock)(void *ctx), void *ctx);

/** Makes the nth call (1-based, counted from now) of kind op fail with
 *  error (FIRKIN_E_IO or FIRKIN_E_NO_SPACE). If sticky, that call and every
 *  later call of that kind fail. nth = 0 clears the fault for op. */
FIRKIN_API firkin_status firkin_fault_env_fail(firkin_fault_env *env, firkin_fault_op op,
                                               uint64_t nth, firkin_status error,
                                               bool sticky);

/** Number of calls of kind op made through env so far (failed ones too). */
FIRKIN_API uint64_t firkin_fault_env_count(const firkin_fault_env *env, firkin_fault_op op);

/** Simulates a power loss now (or, FIRKIN_CRASH_KILL, a process crash), as
 *  described above, using seed for the random choices. Afterwards every
 *  call through env fails with FIRKIN_E_IO until firkin_fault_env_reset. */
FIRKIN_API firkin_status firkin_fault_env_crash(firkin_fault_env *env, firkin_crash_mode mode,
                                                uint64_t seed);

/** Clears all faults, the crashed state and the counters (and lets a held
 *  write-behind call go). */
FIRKIN_API firkin_status firkin_fault_env_reset(firkin_fault_env *env);

/** Holds the next write-behind call made through env: the database's
 *  writeback thread, which hands published log pages over and seals the
 *  full segments a roll queued, then waits inside that call (and so seals
 *  nothing) until firkin_fault_env_release, a crash or a reset. One call
 *  only; later ones pass. */
FIRKIN_API firkin_status firkin_fault_env_hold_writebehind(firkin_fault_env *env);
/** Whether a held write-behind call is waiting now. */
FIRKIN_API bool firkin_fault_env_holding(const firkin_fault_env *env);
/** Lets a held write-behind call go (and disarms a hold not yet met). */
FIRKIN_API firkin_status firkin_fault_env_release(firkin_fault_env *env);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FIRKIN_TESTING_H */
