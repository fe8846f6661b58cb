/* cmd_changes.c — `firkin changes DB [--since N] [--follow] [--json]`: prints
 * the change feed (firkin_changes_*), one change per line. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t stop_;
static void on_signal(int sig) {
  (void)sig;
  stop_ = 1;
}

static const char *type_name(firkin_change_type t) {
  switch (t) {
    case FIRKIN_CHANGE_PUT: return "put";
    case FIRKIN_CHANGE_DELETE: return "delete";
    case FIRKIN_CHANGE_NS_CREATE: return "ns_create";
    case FIRKIN_CHANGE_NS_DROP: return "ns_drop";
    case FIRKIN_CHANGE_BATCH_BEGIN: return "batch_begin";
    case FIRKIN_CHANGE_BATCH_END: return "batch_end";
  }
  return "unknown";
}

/* One line: SEQ<TAB>TYPE[<TAB>NS[<TAB>KEY[<TAB>VALUE]]], or a JSON object.
 * 0, or -1 with errno set if the write failed. */
static int print_change(struct cli *c, firkin_changes *ch) {
  const firkin_change_type t = firkin_changes_type(ch);
  const char *ns = firkin_changes_namespace(ch);
  const void *k = NULL, *v = NULL;
  size_t kl = 0, vl = 0;
  firkin_changes_key(ch, &k, &kl);
  firkin_changes_value(ch, &v, &vl);
  const bool has_ns = t != FIRKIN_CHANGE_BATCH_BEGIN && t != FIRKIN_CHANGE_BATCH_END;
  const bool has_key = t == FIRKIN_CHANGE_PUT || t == FIRKIN_CHANGE_DELETE;
  const enum codec kc = c->key_codec == CODEC_RAW ? CODEC_TEXT : c->key_codec;
  const enum codec vc = c->value_codec == CODEC_RAW ? CODEC_TEXT : c->value_codec;
  struct buf b = {0};
  char num[32];
  snprintf(num, sizeof num, "%llu", (unsigned long long)firkin_changes_seq(ch));
  if (c->json) {
    buf_adds(&b, "{\"seq\":");
    buf_adds(&b, num);
    buf_adds(&b, ",\"type\":\"");
    buf_adds(&b, type_name(t));
    buf_addc(&b, '"');
    if (has_ns) {
      buf_adds(&b, ",\"ns\":");
      json_string(ns, strlen(ns), &b);
    }
    /* (raw in JSON is base64, as everywhere: encode_json) */
    if (has_key) {
      buf_adds(&b, ",\"key\":");
      encode_json(c->key_codec, k, kl, &b);
    }
    if (t == FIRKIN_CHANGE_PUT) {
      buf_adds(&b, ",\"value\":");
      encode_json(c->value_codec, v, vl, &b);
    }
    buf_adds(&b, "}\n");
  } else {
    buf_adds(&b, num);
    buf_addc(&b, '\t');
    buf_adds(&b, type_name(t));
    if (has_ns) {
      buf_addc(&b, '\t');
      buf_adds(&b, ns);
    }
    if (has_key) {
      buf_addc(&b, '\t');
      encode(kc, k, kl, &b);
    }
    if (t == FIRKIN_CHANGE_PUT) {
      buf_addc(&b, '\t');
      encode(vc, v, vl, &b);
    }
    buf_addc(&b, '\n');
  }
  int r = out_write(b.p, b.len);
  int e = errno;
  buf_free(&b);
  errno = e;
  return r;
}

int cmd_changes(struct cli *c) {
  firkin_db *db = NULL;
  firkin_changes *ch = NULL;
  int rc = open_db(c, false, false, &db);
  if (!rc) {
    firkin_status st = firkin_changes_open(db, c->since, NULL, &ch);
    if (st != FIRKIN_OK) rc = lib_error(st, "changes");
  }
  if (!rc && c->follow) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
  }
  uint64_t n = 0;
  int werr = 0; /* errno of a failed write */
  while (!rc && !stop_) {
    for (; firkin_changes_valid(ch) && n < c->limit; firkin_changes_next(ch)) {
      if (print_change(c, ch) != 0) {
        werr = errno ? errno : EIO;
        break;
      }
      n++;
    }
    firkin_status st = werr ? FIRKIN_OK : firkin_changes_status(ch);
    if (st != FIRKIN_OK) {
      rc = lib_error(st, "changes");
      break;
    }
    if (!werr && fflush(stdout) != 0) werr = errno ? errno : EIO;
    if (werr) {
      /* The reader went away (EPIPE: SIGPIPE is ignored): the normal end of
       * a followed feed, exit 0. Any other write error, and a closed pipe
       * without --follow (its output is cut short), is exit 3. */
      if (werr == EPIPE && c->follow) {
        c->output_gone = true;
      } else {
        errno = werr;
        rc = output_failed();
      }
      break;
    }
    if (!c->follow || n >= c->limit) break;
    /* A reader that went away while nothing new came is noticed without a
     * write: a pipe whose reading end is closed reports POLLERR (until the
     * review of the CLI a quiet feed kept following for good). */
    struct pollfd out = {STDOUT_FILENO, 0, 0};
    if (poll(&out, 1, 0) == 1 && (out.revents & (POLLERR | POLLHUP)) != 0) {
      c->output_gone = true;
      break;
    }
    /* Woken by this process's own writes (--write); the timeout lets a
     * signal be noticed and, on a read-only open, the refresh below catch
     * up with a writer process's durable writes. */
    firkin_changes_wait(ch, 200);
    st = firkin_refresh(db); /* no-op on a writable open */
    if (st != FIRKIN_OK && st != FIRKIN_E_BUSY) {
      rc = lib_error(st, "refresh");
      break;
    }
  }
  firkin_changes_free(ch);
  firkin_close(db);
  return rc;
}
