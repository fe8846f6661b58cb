/* cmd_admin.c — the administrative commands of the CLI: ns list|create|drop,
 * stats, verify, compact, checkpoint. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int ns_list(struct cli *c) {
  firkin_db *db = NULL;
  int rc = open_db(c, false, false, &db);
  char *names = NULL;
  if (!rc) {
    firkin_status st = firkin_ns_list(db, &names);
    if (st != FIRKIN_OK) rc = lib_error(st, "ns list");
  }
  if (!rc && c->json) {
    struct buf b = {0};
    buf_adds(&b, "[");
    bool first = true;
    for (char *s = names; *s;) {
      char *nl = strchr(s, '\n');
      size_t n = nl ? (size_t)(nl - s) : strlen(s);
      if (!first) buf_addc(&b, ',');
      json_string(s, n, &b);
      first = false;
      s += n + (nl != NULL);
    }
    buf_adds(&b, "]\n");
    if (out_write(b.p, b.len)) rc = output_failed();
    buf_free(&b);
  } else if (!rc) {
    if (out_write(names, strlen(names))) rc = output_failed();
  }
  firkin_free(names);
  firkin_close(db);
  return rc;
}

int cmd_ns(struct cli *c) {
  const char *sub = c->args[0];
  c->args++;
  c->nargs--;
  if (strcmp(sub, "list") == 0) {
    if (c->nargs != 1) return usage_error("usage: firkin ns list DB");
    return ns_list(c);
  }
  bool create = strcmp(sub, "create") == 0;
  if (!create && strcmp(sub, "drop") != 0)
    return usage_error("unknown ns command '%s' (list, create or drop)", sub);
  if (c->nargs != 2) return usage_error("usage: firkin ns %s DB NAME", sub);
  /* The name is checked before the open (a usage error did nothing). The
   * open never creates a database: only put and load do, and a typo in DB
   * is "no database there" (exit 3), as for ns drop, del or compact. */
  int rc = check_ns_name(c->args[1]);
  if (rc) return rc;
  firkin_db *db = NULL;
  rc = open_db(c, true, false, &db);
  if (!rc) {
    firkin_ns *ns = NULL;
    firkin_status st =
        create ? firkin_ns_create(db, c->args[1], &ns) : firkin_ns_drop(db, c->args[1]);
    firkin_ns_close(ns);
    if (st != FIRKIN_OK) {
      char what[256];
      snprintf(what, sizeof what, "ns %s '%s'", sub, c->args[1]);
      rc = lib_error(st, what);
    }
  }
  firkin_status cst = firkin_close(db);
  if (!rc && cst != FIRKIN_OK) rc = lib_error(cst, "close");
  return rc;
}

int cmd_stats(struct cli *c) {
  firkin_db *db = NULL;
  int rc = open_db(c, false, false, &db);
  char *json = NULL;
  if (!rc) {
    firkin_status st = firkin_stats(db, &json);
    if (st != FIRKIN_OK)
      rc = lib_error(st, "stats");
    else if (out_printf("%s\n", json))
      rc = output_failed();
  }
  firkin_free(json);
  firkin_close(db);
  return rc;
}

int cmd_verify(struct cli *c) {
  firkin_options *o = NULL;
  firkin_status st = firkin_options_new(&o);
  if (st != FIRKIN_OK) return lib_error(st, "options");
  int rc = apply_options(c, o);
  if (!rc) rc = apply_key(c, o, false);
  if (rc) {
    firkin_options_free(o);
    return rc;
  }
  char *report = NULL;
  struct lib_progress lp = {c, "verify", NULL, 0};
  st = firkin_verify_path_v2(c->args[0], o, lib_progress_cb, &lp, &report);
  lib_progress_end(&lp);
  firkin_options_free(o);
  if (report != NULL) {
    if ((!c->json && out_printf("verify: %s\n", st == FIRKIN_OK ? "ok" : "DAMAGED")) ||
        out_printf("%s\n", report))
      rc = output_failed();
  }
  if (st != FIRKIN_OK) { /* damage (exit 4) says more than an unwritten report */
    char what[512];
    snprintf(what, sizeof what, "verify '%s'", c->args[0]);
    rc = lib_error(st, what);
    if (rc == EXIT_NOT_FOUND) rc = EXIT_FAILURE_; /* no database there */
  }
  firkin_free(report);
  return rc;
}

static int simple(struct cli *c, firkin_status (*fn)(firkin_db *), const char *what) {
  firkin_db *db = NULL;
  int rc = open_db(c, true, false, &db);
  if (!rc) {
    firkin_status st = fn(db);
    if (st != FIRKIN_OK) rc = lib_error(st, what);
  }
  firkin_status cst = firkin_close(db);
  if (!rc && cst != FIRKIN_OK) rc = lib_error(cst, "close");
  return rc;
}

int cmd_compact(struct cli *c) {
  firkin_db *db = NULL;
  int rc = open_db(c, true, false, &db);
  if (!rc) {
    struct lib_progress lp = {c, "compact", NULL, 0};
    firkin_status st = firkin_compact_v2(db, lib_progress_cb, &lp);
    lib_progress_end(&lp);
    if (st != FIRKIN_OK) rc = lib_error(st, "compact");
  }
  firkin_status cst = firkin_close(db);
  if (!rc && cst != FIRKIN_OK) rc = lib_error(cst, "close");
  return rc;
}
int cmd_checkpoint(struct cli *c) { return simple(c, firkin_checkpoint, "checkpoint"); }
