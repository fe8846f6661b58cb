/*
 * disk_full_test — a real full file system, not an injected error
 * (fault_test injects ENOSPC at the Env; this one lets the kernel say it).
 * Firkin writes its records through a shared mapping, where a store into a
 * page the file system cannot back faults with SIGBUS instead of returning
 * an error; segment files are allocated whole (posix_fallocate) before a
 * byte is mapped for writing, so a full disk must surface as NO_SPACE from
 * the call that needed the room (docs/api.md, status table), with every
 * acknowledged write kept, and writes must go on once room is made.
 *
 * Each case mounts a small file system of its own (tmpfs; ext4 on a loop
 * device where mkfs.ext4 and loop devices are at hand), in a private mount
 * namespace so that nothing stays mounted if the test dies. Where mounting
 * is not allowed (not root, or a container without CAP_SYS_ADMIN) a case
 * prints "skip" and counts neither passed nor failed.
 *
 * Every case runs in a child process under alarm(). Ends with
 * "N passed, N failed".
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firkin.h"
#include "../c/forked_cases.h"

static char root[256]; /* private work area (not on the small file system) */
static char mnt[300];  /* the small file system's mount point */
static bool can_mount, have_ext4;

#define WRITERS 4
#define MAX_KEYS 400000

/* ---- the small file system --------------------------------------------- */

/* Mounts a tmpfs of `mib` MiB (ext4 == false) or an ext4 image of that size
 * on a loop device at mnt; 0 on success. */
static void unmount_all(void) {
  for (int i = 0; i < 16 && umount2(mnt, MNT_DETACH) == 0; i++) {
  }
}

static int mount_small(bool ext4, int mib) {
  unmount_all(); /* what a case that died left */
  mkdir(mnt, 0700);
  if (!ext4) {
    char opt[64];
    snprintf(opt, sizeof opt, "size=%dm", mib);
    return mount("tmpfs", mnt, "tmpfs", 0, opt) == 0 ? 0 : -1;
  }
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "rm -f '%s/img' && truncate -s %dM '%s/img' && mkfs.ext4 -q -F '%s/img' >/dev/null 2>&1"
           " && mount -o loop '%s/img' '%s' 2>/dev/null",
           root, mib, root, root, root, mnt);
  return system(cmd) == 0 ? 0 : -1;
}

static void unmount_small(void) {
  unmount_all();
  char img[512];
  snprintf(img, sizeof img, "%s/img", root);
  unlink(img);
}

/* A file of `mib` MiB on the small file system, removed to make room. */
static void balloon(int mib) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "dd if=/dev/zero of='%s/balloon' bs=1M count=%d 2>/dev/null", mnt,
           mib);
  if (system(cmd) != 0) fprintf(stderr, "  (balloon: dd failed)\n");
}
static void pop_balloon(void) {
  char p[512];
  snprintf(p, sizeof p, "%s/balloon", mnt);
  unlink(p);
}

/* ---- keys and values --------------------------------------------------- */

static size_t value_len(int t, int i) { return 100 + (size_t)((t * 7919 + i * 104729) % 1900); }
static void fill_value(char *b, size_t n, int t, int i) {
  for (size_t j = 0; j < n; j++) b[j] = (char)('a' + (size_t)(t * 3 + i + j) % 26);
}
static int key_of(char *k, size_t cap, int t, int i) { return snprintf(k, cap, "w%02d-%07d", t, i); }

/* The acknowledged puts of writers 0..nw-1 (writer t: keys 0..acked[t]-1)
 * read back with their values; the number that did not. */
static int missing(firkin_db *db, int nw, const int *acked, const char *what) {
  char k[32], v[2100], got[2100];
  int bad = 0;
  for (int t = 0; t < nw; t++) {
    for (int i = 0; i < acked[t]; i++) {
      const int kl = key_of(k, sizeof k, t, i);
      const size_t n = value_len(t, i);
      fill_value(v, n, t, i);
      size_t gn = 0;
      firkin_status s = firkin_get_into(db, NULL, NULL, k, (size_t)kl, got, sizeof got, &gn);
      if (s != FIRKIN_OK || gn != n || memcmp(got, v, n) != 0) {
        if (bad++ < 5) fprintf(stderr, "  %s: %s lost (%s)\n", what, k, firkin_strerror(s));
      }
    }
  }
  return bad;
}

/* ---- concurrent writers until the disk is full ------------------------- */

typedef struct fill_run {
  firkin_db *db;
  firkin_write_options *wo;
  int acked[WRITERS];
  firkin_status first_error[WRITERS];
  char message[WRITERS][256];
  atomic_int stop;
  int churn_errors_other; /* statuses other than OK / NO_SPACE from the churn thread */
} fill_run;

typedef struct writer_arg {
  fill_run *run;
  int t;
} writer_arg;

static void *writer(void *p) {
  writer_arg *a = p;
  fill_run *r = a->run;
  char k[32], v[2100];
  for (int i = 0; i < MAX_KEYS; i++) {
    const int kl = key_of(k, sizeof k, a->t, i);
    const size_t n = value_len(a->t, i);
    fill_value(v, n, a->t, i);
    firkin_status s = firkin_put(r->db, r->wo, NULL, k, (size_t)kl, v, n);
    if (s != FIRKIN_OK) {
      r->first_error[a->t] = s;
      snprintf(r->message[a->t], sizeof r->message[a->t], "%s", firkin_last_error());
      break;
    }
    r->acked[a->t] = i + 1;
  }
  return NULL;
}

/* Overwrites of hot keys (in place where they may), deletes, compaction
 * and checkpoints beside the writers: each may be the call that meets the
 * full disk. */
static void *churner(void *p) {
  fill_run *r = p;
  char k[32], v[400];
  memset(v, 'z', sizeof v);
  for (int i = 0; !atomic_load(&r->stop); i++) {
    const int kl = snprintf(k, sizeof k, "hot%03d", i % 200);
    firkin_status s = i % 7 == 6 ? firkin_delete(r->db, r->wo, NULL, k, (size_t)kl)
                                 : firkin_put(r->db, r->wo, NULL, k, (size_t)kl, v, 100);
    if (s != FIRKIN_OK && s != FIRKIN_E_NO_SPACE) r->churn_errors_other++;
    if (i % 400 == 0) {
      s = firkin_compact(r->db);
      if (s != FIRKIN_OK && s != FIRKIN_E_NO_SPACE) r->churn_errors_other++;
      s = firkin_checkpoint(r->db);
      if (s != FIRKIN_OK && s != FIRKIN_E_NO_SPACE) r->churn_errors_other++;
    }
  }
  return NULL;
}

static firkin_options *small_opts(void) {
  firkin_options *o = NULL;
  firkin_options_new(&o);
  firkin_options_set_create_if_missing(o, true);
  firkin_options_set_segment_size(o, 1 << 20);
  return o;
}

/* Fills the small file system (after a balloon of `balloon_mib`) with
 * WRITERS writers and a churner in `mode`, then checks: every failed put
 * failed with NO_SPACE, every acknowledged one reads back in the same
 * handle; with the balloon gone the same handle writes again; a clean
 * close, and a reopen that holds everything. */
static int fill_and_recover(bool ext4, int fs_mib, int balloon_mib, firkin_sync_mode mode) {
  if (mount_small(ext4, fs_mib) != 0) {
    fprintf(stderr, "  could not mount the small file system\n");
    return 77;
  }
  balloon(balloon_mib);
  char path[512];
  snprintf(path, sizeof path, "%s/db", mnt);
  firkin_options *o = small_opts();
  static fill_run r;
  memset(&r, 0, sizeof r);
  CHECK(firkin_open(path, o, &r.db) == FIRKIN_OK, "open");
  firkin_write_options_new(&r.wo);
  firkin_write_options_set_sync(r.wo, mode);
  pthread_t th[WRITERS], ch;
  writer_arg args[WRITERS];
  pthread_create(&ch, NULL, churner, &r);
  for (int t = 0; t < WRITERS; t++) {
    args[t] = (writer_arg){&r, t};
    pthread_create(&th[t], NULL, writer, &args[t]);
  }
  for (int t = 0; t < WRITERS; t++) pthread_join(th[t], NULL);
  atomic_store(&r.stop, 1);
  pthread_join(ch, NULL);
  long total = 0;
  for (int t = 0; t < WRITERS; t++) {
    total += r.acked[t];
    CHECK(r.acked[t] < MAX_KEYS, "writer %d never met the full disk", t);
    CHECK(r.first_error[t] == FIRKIN_E_NO_SPACE, "writer %d failed with %s, not NO_SPACE: %s", t,
          firkin_strerror(r.first_error[t]), r.message[t]);
  }
  CHECK(r.churn_errors_other == 0, "%d compactions, checkpoints or hot-key writes failed with "
        "a status other than NO_SPACE", r.churn_errors_other);
  CHECK(total > 1000, "only %ld puts before the disk was full", total);
  CHECK(missing(r.db, WRITERS, r.acked, "same handle") == 0, "acknowledged puts lost while full");
  /* Room again: the same handle goes on writing (no reopen needed). */
  pop_balloon();
  char k[32], v[2100];
  const int kl = key_of(k, sizeof k, 0, r.acked[0]);
  const size_t n = value_len(0, r.acked[0]);
  fill_value(v, n, 0, r.acked[0]);
  CHECK(firkin_put(r.db, r.wo, NULL, k, (size_t)kl, v, n) == FIRKIN_OK,
        "a put on the same handle after room was made");
  r.acked[0]++;
  CHECK(firkin_sync(r.db) == FIRKIN_OK, "sync after room was made");
  CHECK(firkin_close(r.db) == FIRKIN_OK, "clean close");
  firkin_db *db = NULL;
  CHECK(firkin_open(path, o, &db) == FIRKIN_OK, "reopen");
  CHECK(missing(db, WRITERS, r.acked, "reopened") == 0, "acknowledged puts lost after reopen");
  char *report = NULL;
  CHECK(firkin_verify(db, &report) == FIRKIN_OK, "verify: %s", report ? report : "");
  firkin_free(report);
  CHECK(firkin_close(db) == FIRKIN_OK, "close");
  firkin_write_options_free(r.wo);
  firkin_options_free(o);
  unmount_small();
  return 0;
}

static int t_tmpfs_always(void) { return fill_and_recover(false, 8, 2, FIRKIN_SYNC_ALWAYS); }
static int t_tmpfs_none(void) { return fill_and_recover(false, 8, 2, FIRKIN_SYNC_NONE); }
static int t_ext4_always(void) { return fill_and_recover(true, 24, 4, FIRKIN_SYNC_ALWAYS); }
static int t_ext4_interval(void) { return fill_and_recover(true, 24, 4, FIRKIN_SYNC_INTERVAL); }

/* ---- a database left on a full disk ------------------------------------ */

/* One writer in `always` until NO_SPACE, the count acknowledged through a
 * pipe; then (kill9) SIGKILL, or a clean close. */
static int fill_child(const char *path, bool kill9, int fd) {
  firkin_options *o = small_opts();
  firkin_db *db = NULL;
  if (firkin_open(path, o, &db) != FIRKIN_OK) return 2;
  firkin_write_options *wo = NULL;
  firkin_write_options_new(&wo);
  firkin_write_options_set_sync(wo, FIRKIN_SYNC_ALWAYS);
  char k[32], v[2100];
  firkin_status s = FIRKIN_OK;
  for (int i = 0; i < MAX_KEYS && s == FIRKIN_OK; i++) {
    const int kl = key_of(k, sizeof k, 0, i);
    const size_t n = value_len(0, i);
    fill_value(v, n, 0, i);
    s = firkin_put(db, wo, NULL, k, (size_t)kl, v, n);
    if (s == FIRKIN_OK && write(fd, &i, sizeof i) != (ssize_t)sizeof i) return 3; /* acknowledged */
  }
  if (s != FIRKIN_E_NO_SPACE) return 4;
  if (kill9) raise(SIGKILL);
  return firkin_close(db) == FIRKIN_OK ? 0 : 5;
}

/* After the fill (and a kill -9 or a clean close), with the disk still
 * full: a read-only open and a read-write open both succeed and read
 * every acknowledged put; a put fails with NO_SPACE (read-write) or
 * READ_ONLY, never worse. */
static int left_full(bool kill9) {
  if (mount_small(false, 8) != 0) return 77;
  char path[512];
  snprintf(path, sizeof path, "%s/db", mnt);
  int p[2];
  CHECK(pipe(p) == 0, "pipe");
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    _exit(fill_child(path, kill9, p[1]));
  }
  close(p[1]);
  int last = -1, i;
  while (read(p[0], &i, sizeof i) == (ssize_t)sizeof i) last = i;
  close(p[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (kill9) {
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the writer did not reach its kill (%d)",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  } else {
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the writer failed (%d: 4 = not NO_SPACE)",
          WEXITSTATUS(st));
  }
  CHECK(last > 100, "only %d puts acknowledged", last + 1);
  int acked[1] = {last + 1};
  for (int round = 0; round < 3; round++) {
    const bool ro = round != 1; /* read-only, read-write (recovers if killed), read-only */
    firkin_options *o = small_opts();
    firkin_options_set_read_only(o, ro);
    firkin_db *db = NULL;
    CHECK(firkin_open(path, o, &db) == FIRKIN_OK, "%s open on the full disk",
          ro ? "read-only" : "read-write");
    CHECK(missing(db, 1, acked, ro ? "read-only" : "read-write") == 0,
          "acknowledged puts lost on the full disk");
    firkin_status s = firkin_put(db, NULL, NULL, "x", 1, "y", 1);
    if (ro) {
      CHECK(s == FIRKIN_E_READ_ONLY, "a put on the read-only handle: %s", firkin_strerror(s));
    } else {
      CHECK(s == FIRKIN_E_NO_SPACE || s == FIRKIN_OK, "a put on the full disk: %s",
            firkin_strerror(s));
    }
    CHECK(firkin_close(db) == FIRKIN_OK, "close");
    firkin_options_free(o);
  }
  unmount_small();
  return 0;
}

static int t_left_full_closed(void) { return left_full(false); }
static int t_left_full_killed(void) { return left_full(true); }

/* ---- the harness ------------------------------------------------------- */

/* A case whose file system could not be made is skipped, not passed. */
static void run_fs(const char *name, int (*fn)(void), bool needs_ext4) {
  if (!can_mount || (needs_ext4 && !have_ext4)) {
    if (case_selected(name)) {
      printf("skip %s (%s)\n", name,
             !can_mount ? "mounting is not allowed here" : "no mkfs.ext4 or loop device");
    }
    return;
  }
  run(name, fn);
}

int main(void) {
  snprintf(root, sizeof root, "/tmp/firkin-diskfull-%d", (int)getpid());
  snprintf(mnt, sizeof mnt, "%s/mnt", root);
  sh("rm -rf '%s'; mkdir -p '%s'", root, root);
  /* A mount namespace of our own: mounts vanish with the process. */
  can_mount = unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
  if (can_mount) {
    mkdir(mnt, 0700);
    can_mount = mount("tmpfs", mnt, "tmpfs", 0, "size=1m") == 0;
    if (can_mount) umount2(mnt, MNT_DETACH);
  }
  if (can_mount) {
    have_ext4 = mount_small(true, 16) == 0;
    if (have_ext4) unmount_small();
  }
  run_fs("tmpfs_always: 4 writers and compaction fill tmpfs in `always`; NO_SPACE, nothing lost, "
         "writes go on once room is made", t_tmpfs_always, false);
  run_fs("tmpfs_none: the same in sync mode `none`", t_tmpfs_none, false);
  run_fs("ext4_always: the same on ext4 (a loop device), `always`", t_ext4_always, true);
  run_fs("ext4_interval: the same on ext4, `interval`", t_ext4_interval, true);
  run_fs("left_full_closed: a database closed on a full disk opens read-only and read-write, "
         "every put there", t_left_full_closed, false);
  run_fs("left_full_killed: the same after a kill -9 on the full disk (recovery needs no room)",
         t_left_full_killed, false);
  unmount_all();
  sh("rm -rf '%s'", root);
  return forked_cases_summary();
}
