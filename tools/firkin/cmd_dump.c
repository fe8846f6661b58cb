/* cmd_dump.c — `firkin dump` (every namespace at one snapshot, streamed in
 * the jsonl or raw format of dumpfmt.h) and `firkin load` (reads either
 * format back, writing atomic batches). Both show a progress line on a
 * terminal. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dumpfmt.h"

int cmd_dump(struct cli *c) {
  enum dump_kind kind = strcmp(c->dump_format, "raw") == 0 ? DUMP_RAW : DUMP_JSONL;
  firkin_db *db = NULL;
  int rc = open_db(c, false, false, &db);
  if (rc) return rc;
  char *names = NULL;
  firkin_snapshot *snap = NULL;
  firkin_status st = c->ns ? FIRKIN_OK : firkin_ns_list(db, &names);
  if (st == FIRKIN_OK) st = firkin_snapshot_new(db, &snap);
  if (st != FIRKIN_OK) {
    firkin_free(names);
    firkin_close(db);
    return lib_error(st, "dump");
  }
  /* the namespaces to dump, NUL-separated in list */
  struct buf list = {0};
  if (c->ns) {
    buf_add(&list, c->ns, strlen(c->ns) + 1);
  } else {
    for (char *s = names; *s; s++) buf_addc(&list, *s == '\n' ? 0 : (unsigned char)*s);
  }
  firkin_free(names);
  /* open them all first, to total the entries for the progress line */
  size_t nns = 0;
  for (size_t i = 0; i < list.len; i += strlen((char *)list.p + i) + 1) nns++;
  firkin_ns **ns = calloc(nns + 1, sizeof *ns);
  uint64_t total = 0;
  size_t j = 0;
  for (size_t i = 0; !rc && i < list.len; i += strlen((char *)list.p + i) + 1, j++) {
    st = firkin_ns_open(db, (char *)list.p + i, false, &ns[j]);
    uint64_t n = 0;
    if (st == FIRKIN_OK) st = firkin_count(db, ns[j], &n);
    if (st != FIRKIN_OK) {
      char what[256];
      snprintf(what, sizeof what, "dump: namespace '%s'", (char *)list.p + i);
      rc = lib_error(st, what);
    }
    total += n;
  }
  FILE *f = stdout;
  if (!rc && c->output && strcmp(c->output, "-") != 0 && (f = fopen(c->output, "wb")) == NULL)
    rc = fail(EXIT_FAILURE_, "dump: cannot create '%s': %s", c->output, strerror(errno));
  uint64_t entries = 0, bytes = 0;
  struct progress *p = rc ? NULL : progress_start(c, "dump", "entries", total);
  /* A failed write stops the dump at once (exit 3); werr is its errno. */
  int werr = 0;
  if (!rc && dump_header(f, kind, firkin_snapshot_seq(snap))) werr = errno ? errno : EIO;
  j = 0;
  for (size_t i = 0; !rc && !werr && i < list.len; i += strlen((char *)list.p + i) + 1, j++) {
    uint32_t flags = 0;
    st = firkin_ns_flags(ns[j], &flags);
    if (st == FIRKIN_OK && dump_ns(f, kind, (char *)list.p + i, flags)) {
      werr = errno ? errno : EIO;
      break;
    }
    firkin_iter *it = NULL;
    if (st == FIRKIN_OK) st = firkin_iter_new(db, snap, ns[j], &it);
    for (; st == FIRKIN_OK && firkin_iter_valid(it); firkin_iter_next(it)) {
      const void *k, *v;
      size_t kl, vl;
      firkin_iter_key(it, &k, &kl);
      firkin_iter_value(it, &v, &vl);
      /* The expiry, as an absolute time (load gives the entry what is left
       * of it then); an entry that expired since the iterator met it is
       * left out. */
      uint64_t left = FIRKIN_TTL_NONE, expiry = 0;
      st = firkin_ttl(db, snap, ns[j], k, kl, &left);
      if (st == FIRKIN_E_NOT_FOUND) {
        st = FIRKIN_OK;
        continue;
      }
      if (st != FIRKIN_OK) break;
      if (left != FIRKIN_TTL_NONE) {
        uint64_t now = 0;
        if ((st = firkin_now_ms(db, &now)) != FIRKIN_OK) break;
        expiry = now + left;
        if (expiry == 0) expiry = 1;
      }
      if (dump_entry(f, kind, k, kl, v, vl, expiry)) {
        werr = errno ? errno : EIO;
        break;
      }
      entries++;
      bytes += kl + vl;
      progress_update(p, entries, bytes);
    }
    if (st == FIRKIN_OK && !werr) st = firkin_iter_status(it);
    firkin_iter_free(it);
    if (st != FIRKIN_OK) rc = lib_error(st, "dump");
  }
  if (!rc && !werr && dump_end(f, kind, nns, entries)) werr = errno ? errno : EIO;
  progress_done(p, entries, bytes);
  /* The last buffered bytes go out at the close of FILE, or the flush of
   * stdout; an error an earlier write left in the flag counts too. */
  if (f != NULL) {
    bool flagged = ferror(f) != 0;
    errno = 0;
    int closed = f == stdout ? fflush(f) : fclose(f);
    if (!werr && (closed != 0 || flagged)) werr = errno ? errno : EIO;
  }
  if (!rc && werr) {
    if (f == stdout)
      rc = fail(EXIT_FAILURE_, "dump: cannot write the output: %s", strerror(werr));
    else
      rc = fail(EXIT_FAILURE_, "dump: cannot write '%s': %s", c->output, strerror(werr));
  }
  for (size_t i = 0; i < nns; i++) firkin_ns_close(ns[i]);
  free(ns);
  buf_free(&list);
  firkin_snapshot_free(snap);
  firkin_close(db);
  return rc;
}

/* The open batch of load: flushed every 1000 entries or 4 MiB and at each
 * namespace change (the batch refers to the namespace handle). */
struct loader {
  firkin_db *db;
  firkin_ns *ns;
  firkin_batch *batch;
  size_t n, bytes;
};

/* Makes l->ns the namespace `name`, created with `flags` if absent; an
 * ordered one in the dump must be ordered here. Exit code. */
static int load_ns(struct loader *l, const struct record *rec) {
  const char *name = (const char *)rec->name.p;
  firkin_status st = strlen(name) != rec->name.len ? FIRKIN_E_INVALID_ARGUMENT
                                                   : firkin_ns_open(l->db, name, false, &l->ns);
  if (st == FIRKIN_E_NAMESPACE_NOT_FOUND)
    st = rec->ns_flags ? firkin_ns_create_v2(l->db, name, rec->ns_flags, &l->ns)
                       : firkin_ns_open(l->db, name, true, &l->ns);
  uint32_t flags = 0;
  if (st == FIRKIN_OK) st = firkin_ns_flags(l->ns, &flags);
  if (st != FIRKIN_OK) {
    char what[300];
    snprintf(what, sizeof what, "load: namespace '%s'", name);
    int rc = lib_error(st, what);
    return rc == EXIT_USAGE ? EXIT_FAILURE_ : rc; /* bad input file, not a bad command line */
  }
  if ((rec->ns_flags & FIRKIN_NS_ORDERED) && !(flags & FIRKIN_NS_ORDERED))
    return fail(EXIT_FAILURE_,
                "load: namespace '%s' is ordered in the dump, and exists here unordered", name);
  return 0;
}

static int flush(struct loader *l) {
  if (l->n == 0) return 0;
  firkin_status st = firkin_write(l->db, NULL, l->batch);
  if (st == FIRKIN_OK) st = firkin_batch_clear(l->batch);
  l->n = l->bytes = 0;
  return st == FIRKIN_OK ? 0 : lib_error(st, "load");
}

int cmd_load(struct cli *c) {
  FILE *f = stdin;
  if (c->input && strcmp(c->input, "-") != 0 && (f = fopen(c->input, "rb")) == NULL)
    return fail(EXIT_FAILURE_, "load: cannot open '%s': %s", c->input, strerror(errno));
  uint64_t size = 0;
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) size = (uint64_t)sb.st_size;
  struct dump_reader r;
  int rc = dump_reader_open(&r, f);
  struct loader l = {0};
  if (!rc) rc = open_db(c, true, true, &l.db);
  if (!rc) {
    firkin_status st = firkin_batch_new(&l.batch);
    if (st != FIRKIN_OK) rc = lib_error(st, "load");
  }
  struct progress *p = rc ? NULL : progress_start(c, "load", "B", size);
  uint64_t entries = 0, namespaces = 0, expired = 0;
  bool ended = false, have_ns = false;
  while (!rc && !(rc = dump_read(&r)) && r.rec.type != REC_EOF) {
    struct record *rec = &r.rec;
    if (ended) {
      rc = fail(EXIT_FAILURE_, "load: data after the end record");
    } else if (rec->type == REC_NS) {
      if (!(rc = flush(&l))) {
        firkin_ns_close(l.ns);
        l.ns = NULL;
        namespaces++;
        have_ns = true;
        rc = load_ns(&l, rec);
      }
    } else if (rec->type == REC_ENTRY) {
      if (!have_ns) {
        rc = fail(EXIT_FAILURE_, "load: an entry before any namespace record");
        break;
      }
      /* An entry with an expiry gets what is left of it; one already
       * expired is skipped (counted as in the dump, not written). */
      uint64_t now = 0;
      firkin_status st = rec->expiry ? firkin_now_ms(l.db, &now) : FIRKIN_OK;
      if (st == FIRKIN_OK && rec->expiry && rec->expiry <= now) {
        entries++;
        expired++;
        continue;
      }
      if (st == FIRKIN_OK)
        st = rec->expiry ? firkin_batch_put_ttl(l.batch, l.ns, rec->key.p, rec->key.len,
                                                rec->value.p, rec->value.len, rec->expiry - now)
                         : firkin_batch_put(l.batch, l.ns, rec->key.p, rec->key.len,
                                            rec->value.p, rec->value.len);
      if (st != FIRKIN_OK) {
        rc = lib_error(st, "load: entry");
        if (rc == EXIT_USAGE) rc = EXIT_FAILURE_;
        break;
      }
      entries++;
      l.bytes += rec->key.len + rec->value.len;
      if (++l.n >= 1000 || l.bytes >= (4u << 20)) rc = flush(&l);
      progress_update(p, r.offset, r.offset);
    } else if (rec->type == REC_END) {
      if (rec->entries != entries || rec->namespaces != namespaces)
        rc = fail(EXIT_FAILURE_,
                  "load: the end record counts %llu namespaces and %llu entries, the dump held "
                  "%llu and %llu",
                  (unsigned long long)rec->namespaces, (unsigned long long)rec->entries,
                  (unsigned long long)namespaces, (unsigned long long)entries);
      ended = true;
    } else {
      rc = fail(EXIT_FAILURE_, "load: a second header");
    }
  }
  if (!rc) rc = flush(&l);
  progress_done(p, r.offset, r.offset);
  if (!rc && !ended)
    rc = fail(EXIT_FAILURE_,
              "load: the dump is truncated (no end record); the %llu entries before the cut "
              "were loaded",
              (unsigned long long)entries);
  if (!rc && l.db) {
    firkin_status st = firkin_sync(l.db);
    if (st != FIRKIN_OK) rc = lib_error(st, "load: sync");
  }
  if (!rc && c->json &&
      out_printf("{\"namespaces\":%llu,\"entries\":%llu,\"expired\":%llu}\n",
                 (unsigned long long)namespaces, (unsigned long long)entries,
                 (unsigned long long)expired))
    rc = output_failed();
  firkin_ns_close(l.ns);
  firkin_batch_free(l.batch);
  firkin_status cst = firkin_close(l.db);
  if (!rc && cst != FIRKIN_OK) rc = lib_error(cst, "close");
  dump_reader_close(&r);
  if (f != stdin) fclose(f);
  return rc;
}
