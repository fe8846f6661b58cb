/* cmd_backup.c — `firkin backup DB DEST` and `firkin restore BACKUP DEST`
 * (firkin_backup, firkin_restore), with a progress bar on a terminal. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int backup_options(struct cli *c, struct lib_progress *bp, firkin_backup_options **out) {
  firkin_status st = firkin_backup_options_new(out);
  if (st == FIRKIN_OK) st = firkin_backup_options_set_verify(*out, !c->no_verify);
  if (st == FIRKIN_OK) st = firkin_backup_options_set_incremental(*out, !c->full);
  if (st == FIRKIN_OK) st = firkin_backup_options_set_hard_links(*out, !c->copy);
  if (st == FIRKIN_OK) st = firkin_backup_options_set_checkpoint(*out, !c->no_checkpoint);
  if (st == FIRKIN_OK) st = firkin_backup_options_set_progress(*out, lib_progress_cb, bp);
  return st == FIRKIN_OK ? EXIT_OK_ : lib_error(st, "backup options");
}

static uint64_t field(const char *json, const char *name) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", name);
  const char *p = strstr(json, pat);
  return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

/* 0, or -1 (errno set) if the write failed. */
static int print_report(const struct cli *c, const char *what, const char *json) {
  if (c->json) return out_printf("%s\n", json);
  return out_printf(
      "%s: snapshot %" PRIu64 ", %" PRIu64 " segments (%" PRIu64 " linked, %" PRIu64
      " copied, %" PRIu64 " kept, %" PRIu64 " removed), %" PRIu64 " bytes copied%s%s\n",
      what, field(json, "seq"), field(json, "segments"), field(json, "linked"),
      field(json, "copied"), field(json, "kept"), field(json, "removed"),
      field(json, "bytes_copied"), strstr(json, "\"checkpoint\":true") ? ", checkpoint" : "",
      strstr(json, "\"verified\":true") ? ", verified" : ", not verified");
}

static int finish(struct cli *c, struct lib_progress *bp, firkin_status st, char *report,
                  const char *what) {
  lib_progress_end(bp);
  int rc = EXIT_OK_;
  if (st == FIRKIN_OK) {
    if (print_report(c, what, report)) rc = output_failed();
  } else {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s '%s' -> '%s'", what, c->args[0], c->args[1]);
    rc = lib_error(st, msg);
    if (rc == EXIT_NOT_FOUND) rc = EXIT_FAILURE_; /* no database or backup there */
  }
  firkin_free(report);
  return rc;
}

int cmd_backup(struct cli *c) {
  firkin_db *db = NULL;
  int rc = open_db(c, false, false, &db);
  if (rc) return rc;
  struct lib_progress bp = {c, "backup", NULL, 0};
  firkin_backup_options *bo = NULL;
  rc = backup_options(c, &bp, &bo);
  if (!rc) {
    char *report = NULL;
    firkin_status st = firkin_backup(db, bo, c->args[1], &report);
    rc = finish(c, &bp, st, report, "backup");
  }
  firkin_backup_options_free(bo);
  firkin_status cst = firkin_close(db);
  if (!rc && cst != FIRKIN_OK) rc = lib_error(cst, "close");
  return rc;
}

int cmd_restore(struct cli *c) {
  struct lib_progress bp = {c, "restore", NULL, 0};
  firkin_backup_options *bo = NULL;
  int rc = backup_options(c, &bp, &bo);
  firkin_options *key = NULL; /* an encrypted backup's key (--key-file / --passphrase-env) */
  if (!rc && firkin_options_new(&key) != FIRKIN_OK) rc = fail(EXIT_FAILURE_, "out of memory");
  if (!rc) rc = apply_key(c, key, false);
  if (!rc) {
    char *report = NULL;
    firkin_status st = firkin_restore_v2(c->args[0], key, bo, c->args[1], &report);
    rc = finish(c, &bp, st, report, "restore");
  }
  firkin_options_free(key);
  firkin_backup_options_free(bo);
  return rc;
}
