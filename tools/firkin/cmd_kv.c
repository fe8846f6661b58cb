/* cmd_kv.c — the key-value commands of the CLI: get, put, del, scan, count.
 * Read commands open the database read-only (unless --write). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>

#include "cli.h"

static int key_arg(struct cli *c, const char *s, struct buf *k) {
  return decode_arg(c->key_codec == CODEC_RAW ? CODEC_TEXT : c->key_codec, s, k, "key");
}

/* Prints one entry: KEY<TAB>VALUE (or JSON) per the options. Exit code (3
 * if the write failed: a scan stops there). */
static int print_entry(struct cli *c, const void *k, size_t kl, const void *v, size_t vl,
                       bool with_key, bool with_value) {
  struct buf b = {0};
  if (c->json) {
    buf_addc(&b, '{');
    if (with_key) {
      buf_adds(&b, "\"key\":");
      encode_json(c->key_codec, k, kl, &b);
    }
    if (with_value) {
      if (with_key) buf_addc(&b, ',');
      buf_adds(&b, "\"value\":");
      encode_json(c->value_codec, v, vl, &b);
    }
    buf_adds(&b, "}\n");
  } else {
    if (with_key) encode(c->key_codec == CODEC_RAW ? CODEC_TEXT : c->key_codec, k, kl, &b);
    if (with_key && with_value) buf_addc(&b, '\t');
    if (with_value) encode(c->value_codec, v, vl, &b);
    if (!(with_value && !with_key && c->value_codec == CODEC_RAW)) buf_addc(&b, '\n');
  }
  int rc = out_write(b.p, b.len) ? output_failed() : EXIT_OK_;
  buf_free(&b);
  return rc;
}

int cmd_get(struct cli *c) {
  struct buf k = {0};
  int rc = key_arg(c, c->args[1], &k);
  firkin_db *db = NULL;
  firkin_ns *ns = NULL;
  if (!rc) rc = open_db(c, false, false, &db);
  if (!rc) rc = open_ns(c, db, false, &ns);
  if (!rc) {
    void *v = NULL;
    size_t vl = 0;
    firkin_status st = firkin_get(db, NULL, ns, k.p, k.len, &v, &vl);
    if (st == FIRKIN_OK) {
      rc = print_entry(c, k.p, k.len, v, vl, c->json, true);
    } else if (st == FIRKIN_E_NOT_FOUND) {
      rc = fail(EXIT_NOT_FOUND, "key not found: %s", c->args[1]);
    } else {
      rc = lib_error(st, "get");
    }
    firkin_free(v);
  }
  firkin_ns_close(ns);
  firkin_close(db);
  buf_free(&k);
  return rc;
}

int cmd_put(struct cli *c) {
  if (c->value_stdin == (c->nargs == 3))
    return usage_error("put takes a VALUE argument or --stdin (one of the two)");
  struct buf k = {0}, v = {0};
  int rc = key_arg(c, c->args[1], &k);
  /* Checked before the open creates the database or the namespace: a usage
   * error means nothing was done. */
  if (!rc && (k.len == 0 || k.len > FIRKIN_MAX_KEY_SIZE))
    rc = usage_error("put: the key must be 1 to %u bytes, not %zu", (unsigned)FIRKIN_MAX_KEY_SIZE,
                     k.len);
  if (!rc && c->ns) rc = check_ns_name(c->ns); /* -n creates the namespace */
  if (!rc && c->value_stdin) {
    char chunk[65536];
    size_t n;
    /* Up to one byte more than a value may hold, then stop: reading all of
     * an endless input (< /dev/zero) took memory until it ran out. */
    while (v.len <= FIRKIN_MAX_VALUE_SIZE && (n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
      buf_add(&v, chunk, n);
    }
    if (ferror(stdin)) rc = fail(EXIT_FAILURE_, "cannot read standard input: %s", strerror(errno));
  } else if (!rc) {
    rc = decode_arg(c->value_codec, c->args[2], &v, "value");
  }
  if (!rc && v.len > FIRKIN_MAX_VALUE_SIZE)
    rc = usage_error("put: the value must be at most %llu bytes, not %zu",
                     (unsigned long long)FIRKIN_MAX_VALUE_SIZE, v.len);
  firkin_db *db = NULL;
  firkin_ns *ns = NULL;
  if (!rc) rc = open_db(c, true, true, &db);
  if (!rc) rc = open_ns(c, db, true, &ns);
  if (!rc) {
    firkin_status st =
        firkin_put(db, NULL, ns, k.p, k.len, v.len ? (const void *)v.p : (const void *)"", v.len);
    if (st != FIRKIN_OK) rc = lib_error(st, "put");
  }
  firkin_ns_close(ns);
  firkin_status cst = firkin_close(db);
  if (!rc && cst != FIRKIN_OK) rc = lib_error(cst, "close");
  buf_free(&k);
  buf_free(&v);
  return rc;
}

int cmd_del(struct cli *c) {
  struct buf k = {0};
  int rc = key_arg(c, c->args[1], &k);
  firkin_db *db = NULL;
  firkin_ns *ns = NULL;
  if (!rc) rc = open_db(c, true, false, &db);
  if (!rc) rc = open_ns(c, db, false, &ns);
  if (!rc) {
    bool found = false;
    firkin_status st = firkin_contains(db, NULL, ns, k.p, k.len, &found);
    if (st == FIRKIN_OK && !found) {
      rc = fail(EXIT_NOT_FOUND, "key not found: %s", c->args[1]);
    } else {
      if (st == FIRKIN_OK) st = firkin_delete(db, NULL, ns, k.p, k.len);
      if (st != FIRKIN_OK) rc = lib_error(st, "del");
    }
  }
  firkin_ns_close(ns);
  firkin_status cst = firkin_close(db);
  if (!rc && cst != FIRKIN_OK) rc = lib_error(cst, "close");
  buf_free(&k);
  return rc;
}

/* Walks the namespace, calling each matching entry; counts in *n. */
static int walk(struct cli *c, bool print, uint64_t *n) {
  struct buf pre = {0};
  int rc = c->prefix ? key_arg(c, c->prefix, &pre) : 0;
  firkin_db *db = NULL;
  firkin_ns *ns = NULL;
  firkin_iter *it = NULL;
  *n = 0;
  if (!rc) rc = open_db(c, false, false, &db);
  if (!rc) rc = open_ns(c, db, false, &ns);
  if (!rc) {
    firkin_status st = firkin_iter_new(db, NULL, ns, &it);
    if (st != FIRKIN_OK) rc = lib_error(st, "scan");
  }
  for (; !rc && firkin_iter_valid(it) && *n < c->limit; firkin_iter_next(it)) {
    const void *k, *v;
    size_t kl, vl;
    firkin_iter_key(it, &k, &kl);
    if (pre.len && (kl < pre.len || memcmp(k, pre.p, pre.len) != 0)) continue;
    (*n)++;
    if (!print) continue;
    firkin_iter_value(it, &v, &vl);
    rc = print_entry(c, k, kl, v, vl, true, !c->keys_only);
  }
  if (!rc) {
    firkin_status st = firkin_iter_status(it);
    if (st != FIRKIN_OK) rc = lib_error(st, "scan ended early");
  }
  firkin_iter_free(it);
  firkin_ns_close(ns);
  firkin_close(db);
  buf_free(&pre);
  return rc;
}

int cmd_scan(struct cli *c) {
  uint64_t n;
  return walk(c, true, &n);
}

int cmd_count(struct cli *c) {
  uint64_t n = 0;
  int rc;
  if (c->prefix) {
    rc = walk(c, false, &n);
  } else {
    firkin_db *db = NULL;
    firkin_ns *ns = NULL;
    rc = open_db(c, false, false, &db);
    if (!rc) rc = open_ns(c, db, false, &ns);
    if (!rc) {
      firkin_status st = firkin_count(db, ns, &n);
      if (st != FIRKIN_OK) rc = lib_error(st, "count");
    }
    firkin_ns_close(ns);
    firkin_close(db);
  }
  if (rc) return rc;
  if (c->json) {
    struct buf b = {0};
    buf_adds(&b, "{\"namespace\":");
    const char *name = c->ns ? c->ns : "default";
    json_string(name, strlen(name), &b);
    rc = out_printf("%s,\"count\":%llu}\n", (const char *)b.p, (unsigned long long)n);
    buf_free(&b);
  } else {
    rc = out_printf("%llu\n", (unsigned long long)n);
  }
  return rc ? output_failed() : EXIT_OK_;
}
