/*
 * conformance_runner.c — executes the language-neutral conformance cases
 * (tests/conformance/NAME.case) through the C API. The format and every command
 * are specified in tests/README.md; runners in other languages implement the
 * same specification.
 *
 * Usage: conformance_runner [--keep] [--case NAME] PATH...
 *   PATH is a .case file or a directory of them (read in name order).
 *   --case NAME runs only the case(s) named NAME; --keep leaves the
 *   database directories in place.
 * Ends with the line "N passed, N failed" (N = cases); exit status 0 only
 * when nothing failed.
 *
 * Plain C99 + POSIX; links only libfirkin.
 */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firkin.h"

/* ------------------------------------------------------------------------ */
/* Small utilities                                                           */
/* ------------------------------------------------------------------------ */

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s);
  char *d = xmalloc(n + 1);
  memcpy(d, s, n + 1);
  return d;
}

typedef struct {
  unsigned char *p;
  size_t n;
} bytes;

static bool bytes_eq(const void *a, size_t an, const void *b, size_t bn) {
  return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* Printable rendering of bytes for messages (truncated). */
static void render(char *out, size_t cap, const void *p, size_t n) {
  const unsigned char *b = p;
  size_t o = 0, i;
  if (cap < 16) {
    out[0] = 0;
    return;
  }
  out[o++] = '"';
  for (i = 0; i < n && o + 8 < cap; i++) {
    if (i >= 48) {
      o += (size_t)snprintf(out + o, cap - o, "...");
      break;
    }
    if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' && b[i] != '\\') {
      out[o++] = (char)b[i];
    } else {
      o += (size_t)snprintf(out + o, cap - o, "\\x%02x", b[i]);
    }
  }
  o += (size_t)snprintf(out + o, cap - o, "\" (%zu bytes)", n);
  (void)o;
}

/* ------------------------------------------------------------------------ */
/* Status names                                                              */
/* ------------------------------------------------------------------------ */

static const struct {
  const char *name;
  int code;
} kStatus[] = {
    {"OK", FIRKIN_OK},
    {"NOT_FOUND", FIRKIN_E_NOT_FOUND},
    {"INVALID_ARGUMENT", FIRKIN_E_INVALID_ARGUMENT},
    {"IO", FIRKIN_E_IO},
    {"CORRUPTION", FIRKIN_E_CORRUPTION},
    {"BUSY", FIRKIN_E_BUSY},
    {"READ_ONLY", FIRKIN_E_READ_ONLY},
    {"CONDITION_FAILED", FIRKIN_E_CONDITION_FAILED},
    {"CONFLICT", FIRKIN_E_CONFLICT},
    {"NO_SPACE", FIRKIN_E_NO_SPACE},
    {"NO_MEMORY", FIRKIN_E_NO_MEMORY},
    {"TOO_LARGE", FIRKIN_E_TOO_LARGE},
    {"BUFFER_TOO_SMALL", FIRKIN_E_BUFFER_TOO_SMALL},
    {"CLOSED", FIRKIN_E_CLOSED},
    {"VERSION", FIRKIN_E_VERSION},
    {"SNAPSHOT_TOO_OLD", FIRKIN_E_SNAPSHOT_TOO_OLD},
    {"NAMESPACE_NOT_FOUND", FIRKIN_E_NAMESPACE_NOT_FOUND},
    {"EXISTS", FIRKIN_E_EXISTS},
    {"NOT_A_DATABASE", FIRKIN_E_NOT_A_DATABASE},
    {"NOT_SUPPORTED", FIRKIN_E_NOT_SUPPORTED},
    {"INTERNAL", FIRKIN_E_INTERNAL},
    {"BAD_KEY", FIRKIN_E_BAD_KEY},
};
#define NSTATUS (sizeof kStatus / sizeof kStatus[0])

static bool status_from_name(const char *name, int *out) {
  size_t i;
  for (i = 0; i < NSTATUS; i++) {
    if (strcmp(kStatus[i].name, name) == 0) {
      *out = kStatus[i].code;
      return true;
    }
  }
  return false;
}

static const char *status_name(int code) {
  static char buf[32];
  size_t i;
  for (i = 0; i < NSTATUS; i++) {
    if (kStatus[i].code == code) return kStatus[i].name;
  }
  snprintf(buf, sizeof buf, "status(%d)", code);
  return buf;
}

/* ------------------------------------------------------------------------ */
/* Tokens                                                                    */
/* ------------------------------------------------------------------------ */

enum tok_kind {
  TK_BYTES, /* bare word, "quoted", hex:..., rep:N:HH */
  TK_MOD,   /* name=value (modifier) */
  TK_ARROW, /* -> */
  TK_BANG   /* !STATUS */
};

typedef struct {
  enum tok_kind kind;
  bool bare;         /* TK_BYTES written as a plain bare word */
  unsigned char *p;  /* decoded bytes, NUL-terminated copy */
  size_t n;
  char *mod_name;    /* TK_MOD */
} token;

typedef struct {
  token *t;
  size_t n, cap;
} token_list;

static void tokens_clear(token_list *l) {
  size_t i;
  for (i = 0; i < l->n; i++) {
    free(l->t[i].p);
    free(l->t[i].mod_name);
  }
  l->n = 0;
}

static token *tokens_push(token_list *l) {
  token *t;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->t = xrealloc(l->t, l->cap * sizeof *l->t);
  }
  t = &l->t[l->n++];
  memset(t, 0, sizeof *t);
  return t;
}

static bool is_bare_char(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void set_token_bytes(token *t, const unsigned char *p, size_t n) {
  t->p = xmalloc(n + 1);
  if (n) memcpy(t->p, p, n);
  t->p[n] = 0;
  t->n = n;
}

/* Splits one line into tokens. Returns false with *err set on a syntax
 * error. */
static bool tokenize(const char *line, token_list *out, const char **err) {
  const char *s = line;
  tokens_clear(out);
  for (;;) {
    const char *start;
    size_t wlen, i;
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    if (*s == 0 || *s == '\n' || *s == '#') return true;
    if (*s == '"') {
      /* quoted bytes */
      unsigned char *buf = xmalloc(strlen(s) + 1);
      size_t n = 0;
      token *t;
      s++;
      for (;;) {
        if (*s == 0 || *s == '\n') {
          free(buf);
          *err = "unterminated quoted string";
          return false;
        }
        if (*s == '"') {
          s++;
          break;
        }
        if (*s == '\\') {
          s++;
          switch (*s) {
            case '\\': buf[n++] = '\\'; s++; break;
            case '"': buf[n++] = '"'; s++; break;
            case 'n': buf[n++] = '\n'; s++; break;
            case 't': buf[n++] = '\t'; s++; break;
            case 'r': buf[n++] = '\r'; s++; break;
            case '0': buf[n++] = 0; s++; break;
            case 'x': {
              int h = hexval((unsigned char)s[1]), l = h >= 0 ? hexval((unsigned char)s[2]) : -1;
              if (h < 0 || l < 0) {
                free(buf);
                *err = "bad \\x escape (needs two hex digits)";
                return false;
              }
              buf[n++] = (unsigned char)(h * 16 + l);
              s += 3;
              break;
            }
            default:
              free(buf);
              *err = "unknown escape in quoted string";
              return false;
          }
          continue;
        }
        buf[n++] = (unsigned char)*s++;
      }
      if (*s != 0 && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') {
        free(buf);
        *err = "quoted string must be followed by whitespace";
        return false;
      }
      t = tokens_push(out);
      t->kind = TK_BYTES;
      set_token_bytes(t, buf, n);
      free(buf);
      continue;
    }
    start = s;
    while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') s++;
    wlen = (size_t)(s - start);
    if (wlen == 2 && start[0] == '-' && start[1] == '>') {
      tokens_push(out)->kind = TK_ARROW;
      continue;
    }
    if (start[0] == '!') {
      token *t = tokens_push(out);
      t->kind = TK_BANG;
      set_token_bytes(t, (const unsigned char *)start + 1, wlen - 1);
      continue;
    }
    {
      const char *eq = memchr(start, '=', wlen);
      if (eq) {
        token *t = tokens_push(out);
        size_t nl = (size_t)(eq - start);
        if (nl == 0) {
          *err = "modifier without a name";
          return false;
        }
        t->kind = TK_MOD;
        t->mod_name = xmalloc(nl + 1);
        memcpy(t->mod_name, start, nl);
        t->mod_name[nl] = 0;
        for (i = nl + 1; i < wlen; i++) {
          if (!is_bare_char((unsigned char)start[i])) {
            *err = "bad character in modifier value";
            return false;
          }
        }
        set_token_bytes(t, (const unsigned char *)eq + 1, wlen - nl - 1);
        continue;
      }
    }
    for (i = 0; i < wlen; i++) {
      if (!is_bare_char((unsigned char)start[i])) {
        *err = "bad character in bare token (quote it)";
        return false;
      }
    }
    {
      token *t = tokens_push(out);
      t->kind = TK_BYTES;
      if (wlen >= 4 && memcmp(start, "hex:", 4) == 0) {
        size_t hn = wlen - 4, k;
        unsigned char *buf;
        if (hn % 2) {
          *err = "hex: token needs an even number of digits";
          return false;
        }
        buf = xmalloc(hn / 2 + 1);
        for (k = 0; k < hn / 2; k++) {
          int h = hexval((unsigned char)start[4 + 2 * k]), l = hexval((unsigned char)start[5 + 2 * k]);
          if (h < 0 || l < 0) {
            free(buf);
            *err = "bad hex digit";
            return false;
          }
          buf[k] = (unsigned char)(h * 16 + l);
        }
        set_token_bytes(t, buf, hn / 2);
        free(buf);
      } else if (wlen >= 4 && memcmp(start, "rep:", 4) == 0) {
        /* rep:COUNT:HH */
        char tmp[64];
        char *colon, *endp;
        unsigned long long count;
        int h, l;
        if (wlen >= sizeof tmp) {
          *err = "bad rep: token";
          return false;
        }
        memcpy(tmp, start, wlen);
        tmp[wlen] = 0;
        colon = strchr(tmp + 4, ':');
        if (!colon || strlen(colon + 1) != 2) {
          *err = "rep: token must be rep:COUNT:HH";
          return false;
        }
        *colon = 0;
        errno = 0;
        count = strtoull(tmp + 4, &endp, 10);
        h = hexval((unsigned char)colon[1]);
        l = hexval((unsigned char)colon[2]);
        if (*endp || errno || tmp[4] == 0 || h < 0 || l < 0 || count > (1ull << 30)) {
          *err = "rep: token must be rep:COUNT:HH";
          return false;
        }
        t->p = xmalloc((size_t)count + 1);
        memset(t->p, h * 16 + l, (size_t)count);
        t->p[count] = 0;
        t->n = (size_t)count;
      } else {
        t->bare = true;
        set_token_bytes(t, (const unsigned char *)start, wlen);
      }
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Named objects                                                             */
/* ------------------------------------------------------------------------ */

typedef struct {
  bytes k, v;
} kv;

typedef struct {
  char *name;
  int dbi;     /* which database slot (1 or 2) created it */
  void *h;     /* firkin_ns / firkin_snapshot / firkin_iter / firkin_batch */
  kv *seen;    /* iterators: entries collected so far */
  size_t nseen, capseen;
} named;

typedef struct {
  named *a;
  size_t n, cap;
} named_list;

static named *named_find(named_list *l, const char *name) {
  size_t i;
  for (i = 0; i < l->n; i++)
    if (strcmp(l->a[i].name, name) == 0) return &l->a[i];
  return NULL;
}

static named *named_add(named_list *l, const char *name, int dbi, void *h) {
  named *e;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 8;
    l->a = xrealloc(l->a, l->cap * sizeof *l->a);
  }
  e = &l->a[l->n++];
  memset(e, 0, sizeof *e);
  e->name = xstrdup(name);
  e->dbi = dbi;
  e->h = h;
  return e;
}

static void named_free_seen(named *e) {
  size_t i;
  for (i = 0; i < e->nseen; i++) {
    free(e->seen[i].k.p);
    free(e->seen[i].v.p);
  }
  free(e->seen);
  e->seen = NULL;
  e->nseen = e->capseen = 0;
}

static void named_add_seen(named *e, const void *k, size_t kn, const void *v, size_t vn) {
  kv *x;
  if (e->nseen == e->capseen) {
    e->capseen = e->capseen ? e->capseen * 2 : 16;
    e->seen = xrealloc(e->seen, e->capseen * sizeof *e->seen);
  }
  x = &e->seen[e->nseen++];
  x->k.p = xmalloc(kn);
  if (kn) memcpy(x->k.p, k, kn);
  x->k.n = kn;
  x->v.p = xmalloc(vn);
  if (vn) memcpy(x->v.p, v, vn);
  x->v.n = vn;
}

/* Removes entry e from l (the handle must already be released). */
static void named_remove(named_list *l, named *e) {
  size_t idx = (size_t)(e - l->a);
  free(e->name);
  named_free_seen(e);
  l->a[idx] = l->a[l->n - 1];
  l->n--;
}

/* ------------------------------------------------------------------------ */
/* Runner state                                                              */
/* ------------------------------------------------------------------------ */

#define RUNNER_ERROR 1000 /* a problem in the case file, not in the library */

typedef struct {
  char *name;
  uint64_t v;
} var;

typedef struct {
  /* where we are */
  const char *file;
  int line;
  const char *case_name;
  char dir[4096];
  /* API objects */
  firkin_options *opts;
  firkin_write_options *wo;
  firkin_backup_options *bopts; /* backup_opt; NULL until set */
  firkin_db *db[3]; /* slots 1 and 2 */
  named_list ns, snaps, iters, batches, txns;
  var *vars;
  size_t nvars, capvars;
  /* the current command */
  int exp;              /* expected status */
  int cur_dbi;          /* db= modifier (default 1) */
  const firkin_ns *cur_ns;
  const firkin_snapshot *cur_snap;
  bool failed;          /* a result check failed */
  char msg[2048];       /* its message */
  char lasterr[1024];   /* firkin_last_error() right after the last API call */
  bool lasterr_valid;
} ctx;

static void fail(ctx *c, const char *fmt, ...) {
  va_list ap;
  if (c->failed) return; /* keep the first message */
  c->failed = true;
  va_start(ap, fmt);
  vsnprintf(c->msg, sizeof c->msg, fmt, ap);
  va_end(ap);
}

static int runner_error(ctx *c, const char *fmt, ...) {
  va_list ap;
  c->failed = true;
  va_start(ap, fmt);
  vsnprintf(c->msg, sizeof c->msg, fmt, ap);
  va_end(ap);
  return RUNNER_ERROR;
}

/* Wraps every primary API call: remembers the error message at once, before
 * any other firkin call can replace it. */
static int api(ctx *c, int st) {
  if (st < 0) {
    const char *e = firkin_last_error();
    snprintf(c->lasterr, sizeof c->lasterr, "%s", e ? e : "(NULL)");
    c->lasterr_valid = e != NULL;
  } else {
    c->lasterr[0] = 0;
    c->lasterr_valid = true;
  }
  return st;
}

static void fail_bytes(ctx *c, const char *what, const void *want, size_t wn, const void *got,
                       size_t gn) {
  char a[256], b[256];
  render(a, sizeof a, want, wn);
  render(b, sizeof b, got, gn);
  fail(c, "%s: expected %s, got %s", what, a, b);
}

static var *var_find(ctx *c, const char *name) {
  size_t i;
  for (i = 0; i < c->nvars; i++)
    if (strcmp(c->vars[i].name, name) == 0) return &c->vars[i];
  return NULL;
}

static void var_set(ctx *c, const char *name, uint64_t v) {
  var *x = var_find(c, name);
  if (!x) {
    if (c->nvars == c->capvars) {
      c->capvars = c->capvars ? c->capvars * 2 : 8;
      c->vars = xrealloc(c->vars, c->capvars * sizeof *c->vars);
    }
    x = &c->vars[c->nvars++];
    x->name = xstrdup(name);
  }
  x->v = v;
}

static bool parse_u64(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v;
  if (!*s || *s == '-' || *s == '+') return false;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (*end || errno) return false;
  *out = (uint64_t)v;
  return true;
}

/* A number argument: a decimal literal or a variable bound earlier. */
static bool num_arg(ctx *c, const token *t, uint64_t *out) {
  const char *s = (const char *)t->p;
  var *x;
  if (s[0] >= '0' && s[0] <= '9') {
    if (parse_u64(s, out)) return true;
    runner_error(c, "bad number '%s'", s);
    return false;
  }
  x = var_find(c, s);
  if (!x) {
    runner_error(c, "variable '%s' is not bound", s);
    return false;
  }
  *out = x->v;
  return true;
}

static bool bool_arg(ctx *c, const token *t, bool *out) {
  if (strcmp((const char *)t->p, "true") == 0) {
    *out = true;
    return true;
  }
  if (strcmp((const char *)t->p, "false") == 0) {
    *out = false;
    return true;
  }
  runner_error(c, "expected true or false, got '%s'", (const char *)t->p);
  return false;
}

static firkin_db *cur_db(ctx *c) { return c->db[c->cur_dbi]; }

/* ------------------------------------------------------------------------ */
/* Releasing handles                                                         */
/* ------------------------------------------------------------------------ */

static void free_iter_entry(ctx *c, named *e) {
  firkin_iter_free((firkin_iter *)e->h);
  named_remove(&c->iters, e);
}
static void free_snap_entry(ctx *c, named *e) {
  firkin_snapshot_free((firkin_snapshot *)e->h);
  named_remove(&c->snaps, e);
}
static void free_txn_entry(ctx *c, named *e) {
  firkin_txn_free((firkin_txn *)e->h);
  named_remove(&c->txns, e);
}
static void free_ns_entry(ctx *c, named *e) {
  firkin_ns_close((firkin_ns *)e->h);
  named_remove(&c->ns, e);
}

/* Frees the children (iterators, transactions, snapshots, namespace
 * handles) created through slot dbi (0 = all slots). */
static void free_children(ctx *c, int dbi) {
  size_t i;
  for (i = c->txns.n; i-- > 0;)
    if (dbi == 0 || c->txns.a[i].dbi == dbi) free_txn_entry(c, &c->txns.a[i]);
  for (i = c->iters.n; i-- > 0;)
    if (dbi == 0 || c->iters.a[i].dbi == dbi) free_iter_entry(c, &c->iters.a[i]);
  for (i = c->snaps.n; i-- > 0;)
    if (dbi == 0 || c->snaps.a[i].dbi == dbi) free_snap_entry(c, &c->snaps.a[i]);
  for (i = c->ns.n; i-- > 0;)
    if (dbi == 0 || c->ns.a[i].dbi == dbi) free_ns_entry(c, &c->ns.a[i]);
}

/* ------------------------------------------------------------------------ */
/* A tiny JSON validator (for firkin_stats)                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
  const char *p;
  int depth;
  /* top-level member names, '\n'-separated */
  char *keys;
  size_t nkeys, capkeys;
} json;

static void json_ws(json *j) {
  while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r') j->p++;
}

static bool json_string(json *j, const char **start, size_t *len) {
  if (*j->p != '"') return false;
  j->p++;
  *start = j->p;
  for (;;) {
    unsigned char ch = (unsigned char)*j->p;
    if (ch == 0 || ch < 0x20) return false;
    if (ch == '"') break;
    if (ch == '\\') {
      j->p++;
      if (*j->p == 'u') {
        int k;
        for (k = 1; k <= 4; k++)
          if (hexval((unsigned char)j->p[k]) < 0) return false;
        j->p += 5;
        continue;
      }
      if (!strchr("\"\\/bfnrt", *j->p) || *j->p == 0) return false;
    }
    j->p++;
  }
  *len = (size_t)(j->p - *start);
  j->p++;
  return true;
}

static bool json_value(json *j);

static bool json_number(json *j) {
  const char *s = j->p;
  if (*j->p == '-') j->p++;
  if (*j->p == '0') {
    j->p++;
  } else if (*j->p >= '1' && *j->p <= '9') {
    while (*j->p >= '0' && *j->p <= '9') j->p++;
  } else {
    return false;
  }
  if (*j->p == '.') {
    j->p++;
    if (!(*j->p >= '0' && *j->p <= '9')) return false;
    while (*j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (*j->p == 'e' || *j->p == 'E') {
    j->p++;
    if (*j->p == '+' || *j->p == '-') j->p++;
    if (!(*j->p >= '0' && *j->p <= '9')) return false;
    while (*j->p >= '0' && *j->p <= '9') j->p++;
  }
  return j->p > s;
}

static bool json_value(json *j) {
  json_ws(j);
  if (++j->depth > 64) return false;
  if (*j->p == '{') {
    bool top = j->depth == 1;
    j->p++;
    json_ws(j);
    if (*j->p == '}') {
      j->p++;
      j->depth--;
      return true;
    }
    for (;;) {
      const char *ks;
      size_t kl;
      json_ws(j);
      if (!json_string(j, &ks, &kl)) return false;
      if (top) {
        if (j->nkeys + kl + 2 > j->capkeys) {
          j->capkeys = (j->nkeys + kl + 2) * 2;
          j->keys = xrealloc(j->keys, j->capkeys);
        }
        memcpy(j->keys + j->nkeys, ks, kl);
        j->nkeys += kl;
        j->keys[j->nkeys++] = '\n';
        j->keys[j->nkeys] = 0;
      }
      json_ws(j);
      if (*j->p != ':') return false;
      j->p++;
      if (!json_value(j)) return false;
      json_ws(j);
      if (*j->p == ',') {
        j->p++;
        continue;
      }
      if (*j->p == '}') {
        j->p++;
        break;
      }
      return false;
    }
  } else if (*j->p == '[') {
    j->p++;
    json_ws(j);
    if (*j->p == ']') {
      j->p++;
    } else {
      for (;;) {
        if (!json_value(j)) return false;
        json_ws(j);
        if (*j->p == ',') {
          j->p++;
          continue;
        }
        if (*j->p == ']') {
          j->p++;
          break;
        }
        return false;
      }
    }
  } else if (*j->p == '"') {
    const char *s;
    size_t l;
    if (!json_string(j, &s, &l)) return false;
  } else if (strncmp(j->p, "true", 4) == 0) {
    j->p += 4;
  } else if (strncmp(j->p, "false", 5) == 0) {
    j->p += 5;
  } else if (strncmp(j->p, "null", 4) == 0) {
    j->p += 4;
  } else if (!json_number(j)) {
    return false;
  }
  j->depth--;
  return true;
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                  */
/* ------------------------------------------------------------------------ */

typedef int (*cmd_fn)(ctx *c, token **a, size_t n);

#define T(i) ((const char *)a[i]->p)

static int parse_sync_mode(ctx *c, const char *s, firkin_sync_mode *out) {
  uint64_t v;
  if (strcmp(s, "none") == 0) *out = FIRKIN_SYNC_NONE;
  else if (strcmp(s, "interval") == 0) *out = FIRKIN_SYNC_INTERVAL;
  else if (strcmp(s, "always") == 0) *out = FIRKIN_SYNC_ALWAYS;
  else if (strcmp(s, "default") == 0) *out = FIRKIN_SYNC_DEFAULT;
  else if (parse_u64(s, &v) && v < 1000) *out = (firkin_sync_mode)(int)v;
  else return runner_error(c, "bad sync mode '%s'", s);
  return 0;
}

static const char *sync_mode_name(firkin_sync_mode m) {
  switch (m) {
    case FIRKIN_SYNC_NONE: return "none";
    case FIRKIN_SYNC_INTERVAL: return "interval";
    case FIRKIN_SYNC_ALWAYS: return "always";
    case FIRKIN_SYNC_DEFAULT: return "default";
  }
  return "?";
}

/* Parses option text the way firkin_options_set documents it, so that the
 * generic getter's spelling does not matter: booleans true/false/1/0, sizes
 * with an optional K/M/G suffix (binary), sync modes by name. */
static bool normalize_option_text(const char *s, char *out, size_t cap) {
  uint64_t v, mul = 1;
  char tmp[64];
  size_t n = strlen(s);
  if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
    snprintf(out, cap, "true");
    return true;
  }
  if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
    snprintf(out, cap, "false");
    return true;
  }
  if (n > 0 && n < sizeof tmp) {
    memcpy(tmp, s, n + 1);
    switch (tmp[n - 1]) {
      case 'K': case 'k': mul = 1024; tmp[n - 1] = 0; break;
      case 'M': case 'm': mul = 1024 * 1024; tmp[n - 1] = 0; break;
      case 'G': case 'g': mul = 1024 * 1024 * 1024; tmp[n - 1] = 0; break;
      default: break;
    }
    if (parse_u64(tmp, &v)) {
      snprintf(out, cap, "%llu", (unsigned long long)(v * mul));
      return true;
    }
  }
  snprintf(out, cap, "%s", s);
  return true;
}

static int cmd_opt_reset(ctx *c, token **a, size_t n) {
  (void)a; (void)n;
  firkin_options_free(c->opts);
  c->opts = NULL;
  return api(c, firkin_options_new(&c->opts));
}

static int cmd_opt_set(ctx *c, token **a, size_t n) {
  (void)n;
  return api(c, firkin_options_set(c->opts, T(0), T(1)));
}

static int cmd_opt_get(ctx *c, token **a, size_t n) {
  char *out = NULL;
  int st = api(c, firkin_options_get(c->opts, T(0), &out));
  if (st == FIRKIN_OK && n > 1) {
    char want[128], got[128];
    if (!out) {
      fail(c, "firkin_options_get returned OK with a NULL string");
    } else {
      normalize_option_text(T(1), want, sizeof want);
      normalize_option_text(out, got, sizeof got);
      if (strcmp(want, got) != 0) fail(c, "option %s: expected '%s', got '%s'", T(0), T(1), out);
    }
  }
  firkin_free(out);
  return st;
}

enum { OPT_BOOL, OPT_SYNC, OPT_U32, OPT_U64 };
static const struct {
  const char *name;
  int type;
} kTypedOpts[] = {
    {"create_if_missing", OPT_BOOL}, {"error_if_exists", OPT_BOOL}, {"read_only", OPT_BOOL},
    {"sync_mode", OPT_SYNC},         {"sync_interval_ms", OPT_U32}, {"segment_size", OPT_U64},
    {"salvage", OPT_BOOL},           {"verify_checksums", OPT_BOOL},
    {"auto_compact", OPT_BOOL},      {"compact_dead_ratio", OPT_U32},
    {"compact_space_amp", OPT_U32},  {"compact_rate", OPT_U64},
    {"checkpoint_every", OPT_U64},
};

static int typed_opt(ctx *c, const char *name) {
  size_t i;
  for (i = 0; i < sizeof kTypedOpts / sizeof kTypedOpts[0]; i++)
    if (strcmp(kTypedOpts[i].name, name) == 0) return (int)i;
  runner_error(c, "unknown typed option '%s'", name);
  return -1;
}

static int cmd_opt_set_typed(ctx *c, token **a, size_t n) {
  int i = typed_opt(c, T(0));
  const char *name = T(0);
  (void)n;
  if (i < 0) return RUNNER_ERROR;
  if (kTypedOpts[i].type == OPT_BOOL) {
    bool v;
    if (!bool_arg(c, a[1], &v)) return RUNNER_ERROR;
    if (!strcmp(name, "create_if_missing")) return api(c, firkin_options_set_create_if_missing(c->opts, v));
    if (!strcmp(name, "error_if_exists")) return api(c, firkin_options_set_error_if_exists(c->opts, v));
    if (!strcmp(name, "read_only")) return api(c, firkin_options_set_read_only(c->opts, v));
    if (!strcmp(name, "salvage")) return api(c, firkin_options_set_salvage(c->opts, v));
    if (!strcmp(name, "auto_compact")) return api(c, firkin_options_set_auto_compact(c->opts, v));
    return api(c, firkin_options_set_verify_checksums(c->opts, v));
  }
  if (kTypedOpts[i].type == OPT_SYNC) {
    firkin_sync_mode m = FIRKIN_SYNC_NONE;
    if (parse_sync_mode(c, T(1), &m)) return RUNNER_ERROR;
    return api(c, firkin_options_set_sync_mode(c->opts, m));
  } else {
    uint64_t v;
    if (!parse_u64(T(1), &v)) return runner_error(c, "bad number '%s'", T(1));
    if (kTypedOpts[i].type == OPT_U32) {
      if (v > UINT32_MAX) return runner_error(c, "number '%s' does not fit 32 bits", T(1));
      if (!strcmp(name, "compact_dead_ratio"))
        return api(c, firkin_options_set_compact_dead_ratio(c->opts, (uint32_t)v));
      if (!strcmp(name, "compact_space_amp"))
        return api(c, firkin_options_set_compact_space_amp(c->opts, (uint32_t)v));
      return api(c, firkin_options_set_sync_interval_ms(c->opts, (uint32_t)v));
    }
    if (!strcmp(name, "compact_rate")) return api(c, firkin_options_set_compact_rate(c->opts, v));
    if (!strcmp(name, "checkpoint_every")) return api(c, firkin_options_set_checkpoint_every(c->opts, v));
    return api(c, firkin_options_set_segment_size(c->opts, v));
  }
}

static int cmd_opt_get_typed(ctx *c, token **a, size_t n) {
  int i = typed_opt(c, T(0));
  const char *name = T(0);
  char got[64];
  int st;
  if (i < 0) return RUNNER_ERROR;
  if (kTypedOpts[i].type == OPT_BOOL) {
    bool v = false;
    if (!strcmp(name, "create_if_missing")) st = api(c, firkin_options_get_create_if_missing(c->opts, &v));
    else if (!strcmp(name, "error_if_exists")) st = api(c, firkin_options_get_error_if_exists(c->opts, &v));
    else if (!strcmp(name, "read_only")) st = api(c, firkin_options_get_read_only(c->opts, &v));
    else if (!strcmp(name, "salvage")) st = api(c, firkin_options_get_salvage(c->opts, &v));
    else if (!strcmp(name, "auto_compact")) st = api(c, firkin_options_get_auto_compact(c->opts, &v));
    else st = api(c, firkin_options_get_verify_checksums(c->opts, &v));
    snprintf(got, sizeof got, "%s", v ? "true" : "false");
  } else if (kTypedOpts[i].type == OPT_SYNC) {
    firkin_sync_mode m = FIRKIN_SYNC_DEFAULT;
    st = api(c, firkin_options_get_sync_mode(c->opts, &m));
    snprintf(got, sizeof got, "%s", sync_mode_name(m));
  } else if (kTypedOpts[i].type == OPT_U32) {
    uint32_t v = 0;
    if (!strcmp(name, "compact_dead_ratio")) st = api(c, firkin_options_get_compact_dead_ratio(c->opts, &v));
    else if (!strcmp(name, "compact_space_amp")) st = api(c, firkin_options_get_compact_space_amp(c->opts, &v));
    else st = api(c, firkin_options_get_sync_interval_ms(c->opts, &v));
    snprintf(got, sizeof got, "%lu", (unsigned long)v);
  } else {
    uint64_t v = 0;
    if (!strcmp(name, "compact_rate")) st = api(c, firkin_options_get_compact_rate(c->opts, &v));
    else if (!strcmp(name, "checkpoint_every")) st = api(c, firkin_options_get_checkpoint_every(c->opts, &v));
    else st = api(c, firkin_options_get_segment_size(c->opts, &v));
    snprintf(got, sizeof got, "%llu", (unsigned long long)v);
  }
  if (st == FIRKIN_OK && n > 1 && strcmp(got, T(1)) != 0)
    fail(c, "option %s: expected '%s', got '%s'", name, T(1), got);
  return st;
}

static int cmd_wo_set_sync(ctx *c, token **a, size_t n) {
  firkin_sync_mode m = FIRKIN_SYNC_NONE;
  (void)n;
  if (parse_sync_mode(c, T(0), &m)) return RUNNER_ERROR;
  if (!c->wo) {
    int st = api(c, firkin_write_options_new(&c->wo));
    if (st) return st;
  }
  return api(c, firkin_write_options_set_sync(c->wo, m));
}

static int cmd_wo_get_sync(ctx *c, token **a, size_t n) {
  firkin_sync_mode m = (firkin_sync_mode)99;
  int st;
  if (!c->wo) {
    st = api(c, firkin_write_options_new(&c->wo));
    if (st) return st;
  }
  st = api(c, firkin_write_options_get_sync(c->wo, &m));
  if (st == FIRKIN_OK && n > 0 && strcmp(sync_mode_name(m), T(0)) != 0)
    fail(c, "write sync: expected %s, got %s", T(0), sync_mode_name(m));
  return st;
}

static int cmd_wo_reset(ctx *c, token **a, size_t n) {
  (void)a; (void)n;
  firkin_write_options_free(c->wo);
  c->wo = NULL;
  return api(c, FIRKIN_OK);
}

static int do_open(ctx *c, int dbi, const char *sub) {
  char path[4200];
  firkin_db *db = NULL;
  int st;
  if (c->db[dbi]) return runner_error(c, "database slot %d is already open", dbi);
  if (sub) snprintf(path, sizeof path, "%s/%s", c->dir, sub);
  else snprintf(path, sizeof path, "%s", c->dir);
  st = api(c, firkin_open(path, c->opts, &db));
  if (st == FIRKIN_OK) {
    if (!db) fail(c, "firkin_open returned OK and a NULL handle");
    c->db[dbi] = db;
  } else if (db) {
    fail(c, "firkin_open failed but set *out");
  }
  return st;
}

static int do_close(ctx *c, int dbi) {
  free_children(c, dbi);
  {
    int st = api(c, firkin_close(c->db[dbi]));
    c->db[dbi] = NULL;
    return st;
  }
}

static int cmd_open(ctx *c, token **a, size_t n) { return do_open(c, 1, n ? T(0) : NULL); }
static int cmd_open2(ctx *c, token **a, size_t n) { return do_open(c, 2, n ? T(0) : NULL); }
static int cmd_close(ctx *c, token **a, size_t n) {
  (void)a; (void)n;
  if (!c->db[1]) return runner_error(c, "close: no open database");
  return do_close(c, 1);
}
static int cmd_close2(ctx *c, token **a, size_t n) {
  (void)a; (void)n;
  if (!c->db[2]) return runner_error(c, "close2: no second database");
  return do_close(c, 2);
}
static int cmd_close_db(ctx *c, token **a, size_t n) {
  int st;
  (void)a; (void)n;
  if (!c->db[1]) return runner_error(c, "close_db: no open database");
  st = api(c, firkin_close(c->db[1]));
  c->db[1] = NULL;
  return st;
}
static int cmd_free_children(ctx *c, token **a, size_t n) {
  (void)a; (void)n;
  free_children(c, 0);
  return api(c, FIRKIN_OK);
}
static int cmd_reopen(ctx *c, token **a, size_t n) {
  int st;
  (void)a; (void)n;
  if (!c->db[1]) return runner_error(c, "reopen: no open database");
  st = do_close(c, 1);
  if (st) return st;
  return do_open(c, 1, NULL);
}

static int need_db(ctx *c) {
  if (!cur_db(c)) return runner_error(c, "no open database in slot %d", c->cur_dbi);
  return 0;
}
#define NEED_DB() do { if (need_db(c)) return RUNNER_ERROR; } while (0)

static int cmd_sync(ctx *c, token **a, size_t n) {
  (void)a; (void)n;
  NEED_DB();
  return api(c, firkin_sync(cur_db(c)));
}

static int cmd_refresh(ctx *c, token **a, size_t n) {
  (void)a; (void)n;
  NEED_DB();
  return api(c, firkin_refresh(cur_db(c)));
}

static int cmd_last_seq(ctx *c, token **a, size_t n) {
  uint64_t v = 0;
  int st;
  (void)n;
  NEED_DB();
  st = api(c, firkin_last_seq(cur_db(c), &v));
  if (st == FIRKIN_OK) var_set(c, T(0), v);
  return st;
}

static int cmd_stats(ctx *c, token **a, size_t n) {
  char *js = NULL;
  int st;
  size_t i;
  NEED_DB();
  st = api(c, firkin_stats(cur_db(c), &js));
  if (st == FIRKIN_OK) {
    json j;
    memset(&j, 0, sizeof j);
    j.p = js;
    if (!js) {
      fail(c, "firkin_stats returned OK with NULL");
    } else {
      json_ws(&j);
      if (*j.p != '{' || !json_value(&j)) {
        fail(c, "stats is not a valid JSON object near offset %ld", (long)(j.p - js));
      } else {
        json_ws(&j);
        if (*j.p) fail(c, "trailing bytes after the stats JSON object");
      }
      for (i = 0; i < n && !c->failed; i++) {
        char needle[256];
        snprintf(needle, sizeof needle, "%s\n", T(i));
        if (!j.keys || !(strncmp(j.keys, needle, strlen(needle)) == 0 ||
                         strstr(j.keys, needle) != NULL)) {
          fail(c, "stats has no top-level member \"%s\"", T(i));
        } else {
          /* strstr may match a suffix of a longer name: check the boundary */
          const char *p = j.keys;
          bool ok = false;
          while ((p = strstr(p, needle)) != NULL) {
            if (p == j.keys || p[-1] == '\n') {
              ok = true;
              break;
            }
            p++;
          }
          if (!ok) fail(c, "stats has no top-level member \"%s\"", T(i));
        }
      }
    }
    free(j.keys);
  }
  firkin_free(js);
  return st;
}


static int check_report(ctx *c, int st, char *js, size_t nfields, token **fields) {
  size_t i;
  json j;
  memset(&j, 0, sizeof j);
  j.p = js;
  if (js) {
    json_ws(&j);
    if (*j.p != '{' || !json_value(&j)) fail(c, "the report is not a JSON object");
    for (i = 0; i < nfields && !c->failed; i++) {
      char needle[256];
      snprintf(needle, sizeof needle, "%s\n", (const char *)fields[i]->p);
      if (!j.keys || !(strncmp(j.keys, needle, strlen(needle)) == 0 || strstr(j.keys, needle)))
        fail(c, "the report has no member \"%s\"", (const char *)fields[i]->p);
    }
  } else if (st == FIRKIN_OK && nfields) {
    fail(c, "no report");
  }
  free(j.keys);
  firkin_free(js);
  return st;
}

/* Online backup and restore (12_backup.case). */
static void sub_path(ctx *c, const char *sub, char *out, size_t cap) {
  if (strcmp(sub, ".") == 0) snprintf(out, cap, "%s", c->dir);
  else snprintf(out, cap, "%s/%s", c->dir, sub);
}
static int cmd_backup_opt(ctx *c, token **a, size_t n) {
  (void)n;
  if (!c->bopts) {
    int st = api(c, firkin_backup_options_new(&c->bopts));
    if (st != FIRKIN_OK) return st;
  }
  return api(c, firkin_backup_options_set(c->bopts, T(0), T(1)));
}
static int cmd_backup_opt_get(ctx *c, token **a, size_t n) {
  char *out = NULL;
  int st;
  if (!c->bopts) {
    st = api(c, firkin_backup_options_new(&c->bopts));
    if (st != FIRKIN_OK) return st;
  }
  st = api(c, firkin_backup_options_get(c->bopts, T(0), &out));
  if (st == FIRKIN_OK && n > 1) {
    char want[128], got[128];
    if (!out) {
      fail(c, "firkin_backup_options_get returned OK with a NULL string");
    } else {
      normalize_option_text(T(1), want, sizeof want);
      normalize_option_text(out, got, sizeof got);
      if (strcmp(want, got) != 0) fail(c, "backup option %s: expected '%s', got '%s'", T(0), T(1), out);
    }
  }
  firkin_free(out);
  return st;
}
static int cmd_backup(ctx *c, token **a, size_t n) {
  char *js = NULL, path[4200];
  int st;
  NEED_DB();
  sub_path(c, T(0), path, sizeof path);
  st = api(c, firkin_backup(cur_db(c), c->bopts, path, &js));
  return check_report(c, st, js, n - 1, a + 1);
}
static int cmd_restore(ctx *c, token **a, size_t n) {
  char *js = NULL, from[4200], to[4200];
  int st;
  sub_path(c, T(0), from, sizeof from);
  sub_path(c, T(1), to, sizeof to);
  st = api(c, firkin_restore(from, c->bopts, to, &js));
  return check_report(c, st, js, n - 2, a + 2);
}

static int cmd_compact(ctx *c, token **a, size_t n) {
  (void)a; (void)n;
  NEED_DB();
  return api(c, firkin_compact(cur_db(c)));
}
static int cmd_checkpoint(ctx *c, token **a, size_t n) {
  (void)a; (void)n;
  NEED_DB();
  return api(c, firkin_checkpoint(cur_db(c)));
}
static int cmd_verify(ctx *c, token **a, size_t n) {
  char *js = NULL;
  int st;
  NEED_DB();
  st = api(c, firkin_verify(cur_db(c), &js));
  return check_report(c, st, js, n, a);
}
static int cmd_verify_path(ctx *c, token **a, size_t n) {
  char *js = NULL, path[4200];
  int st;
  if (n > 0 && strcmp(T(0), ".") != 0) snprintf(path, sizeof path, "%s/%s", c->dir, T(0));
  else snprintf(path, sizeof path, "%s", c->dir);
  st = api(c, firkin_verify_path(path, c->opts, &js));
  return check_report(c, st, js, n > 0 ? n - 1 : 0, a + 1);
}

static int cmd_put(ctx *c, token **a, size_t n) {
  (void)n;
  NEED_DB();
  return api(c, firkin_put(cur_db(c), c->wo, c->cur_ns, a[0]->p, a[0]->n, a[1]->p, a[1]->n));
}

static int cmd_get(ctx *c, token **a, size_t n) {
  void *v = NULL;
  size_t vn = 12345;
  int st;
  NEED_DB();
  st = api(c, firkin_get(cur_db(c), c->cur_snap, c->cur_ns, a[0]->p, a[0]->n, &v, &vn));
  if (st == FIRKIN_OK) {
    if (!v) fail(c, "firkin_get returned OK with a NULL buffer");
    else if (n > 1 && !bytes_eq(v, vn, a[1]->p, a[1]->n)) fail_bytes(c, "value", a[1]->p, a[1]->n, v, vn);
  }
  firkin_free(v);
  return st;
}

static int cmd_get_into(ctx *c, token **a, size_t n) {
  uint64_t cap, len;
  unsigned char *buf;
  size_t vn = 0;
  int st;
  NEED_DB();
  if (!parse_u64(T(1), &cap) || cap > (1u << 30)) return runner_error(c, "bad capacity");
  buf = xmalloc((size_t)cap + 1);
  memset(buf, 0xA5, (size_t)cap + 1);
  st = api(c, firkin_get_into(cur_db(c), c->cur_snap, c->cur_ns, a[0]->p, a[0]->n,
                              cap ? buf : NULL, (size_t)cap, &vn));
  if ((st == FIRKIN_OK || st == FIRKIN_E_BUFFER_TOO_SMALL) && n > 2) {
    if (!num_arg(c, a[2], &len)) {
      free(buf);
      return RUNNER_ERROR;
    }
    if (vn != len) fail(c, "value length: expected %llu, got %zu", (unsigned long long)len, vn);
  }
  if (st == FIRKIN_OK && n > 3 && !c->failed && !bytes_eq(buf, vn, a[3]->p, a[3]->n))
    fail_bytes(c, "value", a[3]->p, a[3]->n, buf, vn);
  if (!c->failed && buf[cap] != 0xA5) fail(c, "firkin_get_into wrote past the end of the buffer");
  if (st == FIRKIN_E_BUFFER_TOO_SMALL && !c->failed) {
    size_t i;
    for (i = 0; i < cap; i++)
      if (buf[i] != 0xA5) {
        fail(c, "BUFFER_TOO_SMALL but the buffer was written to");
        break;
      }
  }
  free(buf);
  return st;
}

static int cmd_contains(ctx *c, token **a, size_t n) {
  bool found = false, want;
  int st;
  NEED_DB();
  if (n > 1 && !bool_arg(c, a[1], &want)) return RUNNER_ERROR;
  st = api(c, firkin_contains(cur_db(c), c->cur_snap, c->cur_ns, a[0]->p, a[0]->n, &found));
  if (st == FIRKIN_OK && n > 1 && found != want)
    fail(c, "contains: expected %s, got %s", want ? "true" : "false", found ? "true" : "false");
  return st;
}

static int cmd_get_version(ctx *c, token **a, size_t n) {
  uint64_t v = 0;
  int st;
  NEED_DB();
  st = api(c, firkin_get_version(cur_db(c), c->cur_snap, c->cur_ns, a[0]->p, a[0]->n, &v));
  if (st == FIRKIN_OK) {
    if (v == 0) fail(c, "get_version returned version 0 for a present key");
    if (n > 1) var_set(c, T(1), v);
  }
  return st;
}

static int cmd_delete(ctx *c, token **a, size_t n) {
  (void)n;
  NEED_DB();
  return api(c, firkin_delete(cur_db(c), c->wo, c->cur_ns, a[0]->p, a[0]->n));
}

static int cmd_put_if_absent(ctx *c, token **a, size_t n) {
  (void)n;
  NEED_DB();
  return api(c, firkin_put_if_absent(cur_db(c), c->wo, c->cur_ns, a[0]->p, a[0]->n, a[1]->p,
                                     a[1]->n));
}

static int cmd_cas(ctx *c, token **a, size_t n) {
  (void)n;
  NEED_DB();
  return api(c, firkin_cas(cur_db(c), c->wo, c->cur_ns, a[0]->p, a[0]->n, a[1]->p, a[1]->n,
                           a[2]->p, a[2]->n));
}

static int cmd_cas_version(ctx *c, token **a, size_t n) {
  uint64_t ver;
  (void)n;
  NEED_DB();
  if (!num_arg(c, a[1], &ver)) return RUNNER_ERROR;
  return api(c, firkin_cas_version(cur_db(c), c->wo, c->cur_ns, a[0]->p, a[0]->n, ver, a[2]->p,
                                   a[2]->n));
}

/* ---- change feed ---- */

static const char *change_type_name(int t) {
  switch (t) {
    case FIRKIN_CHANGE_PUT: return "put";
    case FIRKIN_CHANGE_DELETE: return "delete";
    case FIRKIN_CHANGE_NS_CREATE: return "ns_create";
    case FIRKIN_CHANGE_NS_DROP: return "ns_drop";
    case FIRKIN_CHANGE_BATCH_BEGIN: return "batch_begin";
    case FIRKIN_CHANGE_BATCH_END: return "batch_end";
    default: return "?";
  }
}

/* changes SINCE {TYPE SEQ NS KEY VALUE}: opens a cursor, walks every
 * change available, compares them in order; the status is the open's,
 * or the cursor's status after the walk. */
static int cmd_changes(ctx *c, token **a, size_t n) {
  uint64_t since;
  firkin_changes *cur = NULL;
  size_t k, i = 0;
  int st;
  NEED_DB();
  if (!num_arg(c, a[0], &since)) return RUNNER_ERROR;
  if ((n - 1) % 5) return runner_error(c, "changes needs SINCE then TYPE SEQ NS KEY VALUE groups");
  k = (n - 1) / 5;
  st = api(c, firkin_changes_open(cur_db(c), since, NULL, &cur));
  if (st != FIRKIN_OK) {
    if (cur != NULL) fail(c, "firkin_changes_open failed but set *out");
    return st;
  }
  for (; firkin_changes_valid(cur) && !c->failed; firkin_changes_next(cur), i++) {
    const void *kp = NULL, *vp = NULL;
    size_t kl = 0, vl = 0;
    const char *ns = firkin_changes_namespace(cur);
    uint64_t seq = firkin_changes_seq(cur), want_seq;
    if (i >= k) {
      fail(c, "change %zu (%s at %llu) beyond the %zu expected", i,
           change_type_name(firkin_changes_type(cur)), (unsigned long long)seq, k);
      break;
    }
    firkin_changes_key(cur, &kp, &kl);
    firkin_changes_value(cur, &vp, &vl);
    token **w = a + 1 + 5 * i;
    if (!num_arg(c, w[1], &want_seq)) {
      firkin_changes_free(cur);
      return RUNNER_ERROR;
    }
    if (strcmp(change_type_name(firkin_changes_type(cur)), (const char *)w[0]->p) != 0 ||
        seq != want_seq)
      fail(c, "change %zu: expected %s at %llu, got %s at %llu", i, (const char *)w[0]->p,
           (unsigned long long)want_seq, change_type_name(firkin_changes_type(cur)),
           (unsigned long long)seq);
    else if (ns == NULL || strlen(ns) != w[2]->n || memcmp(ns, w[2]->p, w[2]->n) != 0)
      fail_bytes(c, "change namespace", w[2]->p, w[2]->n, ns ? ns : "", ns ? strlen(ns) : 0);
    else if (kl != w[3]->n || (kl && memcmp(kp, w[3]->p, kl) != 0))
      fail_bytes(c, "change key", w[3]->p, w[3]->n, kp, kl);
    else if (vl != w[4]->n || (vl && memcmp(vp, w[4]->p, vl) != 0))
      fail_bytes(c, "change value", w[4]->p, w[4]->n, vp, vl);
  }
  if (!c->failed && i != k) fail(c, "the feed gave %zu changes, expected %zu", i, k);
  st = api(c, firkin_changes_status(cur));
  firkin_changes_free(cur);
  return st;
}

/* changes_position SINCE N: a new cursor at SINCE, every change available
 * walked; then firkin_changes_position is N. */
static int cmd_changes_position(ctx *c, token **a, size_t n) {
  uint64_t since, want;
  firkin_changes *cur = NULL;
  int st;
  (void)n;
  NEED_DB();
  if (!num_arg(c, a[0], &since) || !num_arg(c, a[1], &want)) return RUNNER_ERROR;
  st = api(c, firkin_changes_open(cur_db(c), since, NULL, &cur));
  if (st != FIRKIN_OK) {
    if (cur != NULL) fail(c, "firkin_changes_open failed but set *out");
    return st;
  }
  while (firkin_changes_valid(cur)) firkin_changes_next(cur);
  st = api(c, firkin_changes_status(cur));
  if (st == FIRKIN_OK && firkin_changes_position(cur) != want)
    fail(c, "cursor position: expected %llu, got %llu", (unsigned long long)want,
         (unsigned long long)firkin_changes_position(cur));
  firkin_changes_free(cur);
  return st;
}

/* changes_oldest [N]: firkin_changes_oldest_seq. */
static int cmd_changes_oldest(ctx *c, token **a, size_t n) {
  uint64_t v = 0, want;
  int st;
  NEED_DB();
  st = api(c, firkin_changes_oldest_seq(cur_db(c), &v));
  if (st == FIRKIN_OK && n == 1) {
    if (!num_arg(c, a[0], &want)) return RUNNER_ERROR;
    if (v != want)
      fail(c, "oldest retained change: expected %llu, got %llu", (unsigned long long)want,
           (unsigned long long)v);
  }
  return st;
}

/* Expected outcome of one key of a multi-get: a value, or !STATUS. */
static int multi_expect(ctx *c, const token *t, int *want) {
  if (t->kind == TK_BANG) {
    if (!status_from_name((const char *)t->p, want))
      return runner_error(c, "unknown status '%s'", (const char *)t->p);
    return 0;
  }
  if (t->kind != TK_BYTES) return runner_error(c, "bad multi_get expectation");
  *want = FIRKIN_OK;
  return 0;
}

static int cmd_multi_get(ctx *c, token **a, size_t n) {
  size_t k = n / 2, i;
  const void **keys;
  size_t *klens, *vlens;
  void **vals;
  firkin_status *sts;
  int st;
  NEED_DB();
  if (n % 2) return runner_error(c, "multi_get needs KEY EXPECT pairs");
  keys = xmalloc(k * sizeof *keys);
  klens = xmalloc(k * sizeof *klens);
  vlens = xmalloc(k * sizeof *vlens);
  vals = xmalloc(k * sizeof *vals);
  sts = xmalloc(k * sizeof *sts);
  for (i = 0; i < k; i++) {
    keys[i] = a[2 * i]->p;
    klens[i] = a[2 * i]->n;
    vals[i] = (void *)&vals; /* poison: must be overwritten */
    vlens[i] = 777;
    sts[i] = 12345;
  }
  st = api(c, firkin_multi_get(cur_db(c), c->cur_snap, c->cur_ns, k, (const void *const *)keys,
                               klens, vals, vlens, sts));
  if (st == FIRKIN_OK) {
    for (i = 0; i < k && !c->failed; i++) {
      int want = 0;
      const token *e = a[2 * i + 1];
      if (multi_expect(c, e, &want)) break;
      if (sts[i] != want) {
        fail(c, "multi_get key %zu: expected %s, got %s", i, status_name(want), status_name(sts[i]));
      } else if (want == FIRKIN_OK) {
        if (!vals[i] || vals[i] == (void *)&vals) fail(c, "multi_get key %zu: OK without a buffer", i);
        else if (!bytes_eq(vals[i], vlens[i], e->p, e->n))
          fail_bytes(c, "multi_get value", e->p, e->n, vals[i], vlens[i]);
      } else if (want == FIRKIN_E_NOT_FOUND && vals[i] != NULL) {
        fail(c, "multi_get key %zu: NOT_FOUND but vals[i] is not NULL", i);
      }
    }
    for (i = 0; i < k; i++)
      if (sts[i] == FIRKIN_OK && vals[i] != (void *)&vals) firkin_free(vals[i]);
  }
  free(keys); free(klens); free(vlens); free(vals); free(sts);
  return st;
}

static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static void wr32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

static int cmd_multi_get_packed(ctx *c, token **a, size_t n) {
  size_t k = n / 2, i, total = 0, off = 0;
  unsigned char *in;
  void *out = NULL;
  size_t out_len = 0;
  int st;
  NEED_DB();
  if (n % 2) return runner_error(c, "multi_get_packed needs KEY EXPECT pairs");
  for (i = 0; i < k; i++) total += 4 + a[2 * i]->n;
  in = xmalloc(total);
  for (i = 0; i < k; i++) {
    wr32(in + off, (uint32_t)a[2 * i]->n);
    if (a[2 * i]->n) memcpy(in + off + 4, a[2 * i]->p, a[2 * i]->n);
    off += 4 + a[2 * i]->n;
  }
  st = api(c, firkin_multi_get_packed(cur_db(c), c->cur_snap, c->cur_ns, total ? in : NULL, total,
                                      &out, &out_len));
  if (st == FIRKIN_OK) {
    const unsigned char *o = out;
    size_t pos = 0;
    if (!o && out_len) fail(c, "multi_get_packed: NULL output with a length");
    for (i = 0; i < k && !c->failed; i++) {
      int want = 0, got;
      const token *e = a[2 * i + 1];
      if (multi_expect(c, e, &want)) break;
      if (pos + 4 > out_len) {
        fail(c, "multi_get_packed: output ends before key %zu", i);
        break;
      }
      got = (int)(int32_t)rd32(o + pos);
      pos += 4;
      if (got != want) {
        fail(c, "multi_get_packed key %zu: expected %s, got %s", i, status_name(want), status_name(got));
        break;
      }
      if (got == FIRKIN_OK) {
        uint32_t vl;
        if (pos + 4 > out_len) {
          fail(c, "multi_get_packed: truncated output at key %zu", i);
          break;
        }
        vl = rd32(o + pos);
        pos += 4;
        if (pos + vl > out_len) {
          fail(c, "multi_get_packed: value of key %zu runs past the output", i);
          break;
        }
        if (!bytes_eq(o + pos, vl, e->p, e->n)) fail_bytes(c, "multi_get_packed value", e->p, e->n, o + pos, vl);
        pos += vl;
      }
    }
    if (!c->failed && pos != out_len)
      fail(c, "multi_get_packed: %zu bytes of output, %zu expected", out_len, pos);
  }
  firkin_free(out);
  free(in);
  return st;
}

/* key/value of a range command: PREFIX followed by the decimal index */
static void range_bytes(bytes *out, const token *prefix, uint64_t i) {
  char num[32];
  size_t nl = (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)i);
  out->n = prefix->n + nl;
  out->p = xmalloc(out->n);
  memcpy(out->p, prefix->p, prefix->n);
  memcpy(out->p + prefix->n, num, nl);
}

static int range_args(ctx *c, token **a, uint64_t *from, uint64_t *to) {
  if (!num_arg(c, a[1], from) || !num_arg(c, a[2], to)) return RUNNER_ERROR;
  if (*from > *to) return runner_error(c, "range FROM > TO");
  return 0;
}

static int cmd_put_range(ctx *c, token **a, size_t n) {
  uint64_t from, to, i;
  int st = FIRKIN_OK;
  (void)n;
  NEED_DB();
  if (range_args(c, a, &from, &to)) return RUNNER_ERROR;
  for (i = from; i < to && st == FIRKIN_OK; i++) {
    bytes k, v;
    range_bytes(&k, a[0], i);
    range_bytes(&v, a[3], i);
    st = api(c, firkin_put(cur_db(c), c->wo, c->cur_ns, k.p, k.n, v.p, v.n));
    free(k.p);
    free(v.p);
  }
  return st;
}

static int cmd_get_range(ctx *c, token **a, size_t n) {
  uint64_t from, to, i;
  int st = c->exp;
  NEED_DB();
  if (range_args(c, a, &from, &to)) return RUNNER_ERROR;
  for (i = from; i < to; i++) {
    bytes k;
    void *v = NULL;
    size_t vn = 0;
    range_bytes(&k, a[0], i);
    st = api(c, firkin_get(cur_db(c), c->cur_snap, c->cur_ns, k.p, k.n, &v, &vn));
    if (st == FIRKIN_OK && n > 3) {
      bytes want;
      range_bytes(&want, a[3], i);
      if (!bytes_eq(v, vn, want.p, want.n)) fail_bytes(c, "range value", want.p, want.n, v, vn);
      free(want.p);
    }
    firkin_free(v);
    free(k.p);
    if (st != c->exp || c->failed) break;
  }
  return st;
}

static int cmd_delete_range(ctx *c, token **a, size_t n) {
  uint64_t from, to, i;
  int st = FIRKIN_OK;
  (void)n;
  NEED_DB();
  if (range_args(c, a, &from, &to)) return RUNNER_ERROR;
  for (i = from; i < to && st == FIRKIN_OK; i++) {
    bytes k;
    range_bytes(&k, a[0], i);
    st = api(c, firkin_delete(cur_db(c), c->wo, c->cur_ns, k.p, k.n));
    free(k.p);
  }
  return st;
}

/* ---- batches ---- */

static named *get_named(ctx *c, named_list *l, const char *kind, const char *name) {
  named *e = named_find(l, name);
  if (!e) runner_error(c, "no %s named '%s'", kind, name);
  return e;
}

static int cmd_batch_new(ctx *c, token **a, size_t n) {
  firkin_batch *b = NULL;
  int st;
  (void)n;
  if (named_find(&c->batches, T(0))) return runner_error(c, "batch '%s' exists", T(0));
  st = api(c, firkin_batch_new(&b));
  if (st == FIRKIN_OK) named_add(&c->batches, T(0), 0, b);
  return st;
}

static int cmd_batch_put(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->batches, "batch", T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  return api(c, firkin_batch_put((firkin_batch *)e->h, c->cur_ns, a[1]->p, a[1]->n, a[2]->p, a[2]->n));
}

static int cmd_batch_delete(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->batches, "batch", T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  return api(c, firkin_batch_delete((firkin_batch *)e->h, c->cur_ns, a[1]->p, a[1]->n));
}

static int cmd_batch_clear(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->batches, "batch", T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  return api(c, firkin_batch_clear((firkin_batch *)e->h));
}

static int cmd_batch_count(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->batches, "batch", T(0));
  size_t cnt = 0;
  uint64_t want;
  int st;
  if (!e) return RUNNER_ERROR;
  st = api(c, firkin_batch_count((firkin_batch *)e->h, &cnt));
  if (st == FIRKIN_OK && n > 1) {
    if (!num_arg(c, a[1], &want)) return RUNNER_ERROR;
    if (cnt != want) fail(c, "batch count: expected %llu, got %zu", (unsigned long long)want, cnt);
  }
  return st;
}

static int cmd_write(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->batches, "batch", T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  NEED_DB();
  return api(c, firkin_write(cur_db(c), c->wo, (firkin_batch *)e->h));
}

static int cmd_batch_free(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->batches, "batch", T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  firkin_batch_free((firkin_batch *)e->h);
  named_remove(&c->batches, e);
  return api(c, FIRKIN_OK);
}

/* ---- namespaces ---- */

static int store_ns(ctx *c, const char *name, firkin_ns *h) {
  named *old = named_find(&c->ns, name);
  if (!h) {
    fail(c, "namespace call returned OK and a NULL handle");
    return 0;
  }
  if (old) free_ns_entry(c, old); /* the newer handle replaces it */
  named_add(&c->ns, name, c->cur_dbi, h);
  return 0;
}

static int cmd_ns_open(ctx *c, token **a, size_t n) {
  firkin_ns *h = NULL;
  bool create;
  int st;
  (void)n;
  NEED_DB();
  if (!bool_arg(c, a[1], &create)) return RUNNER_ERROR;
  st = api(c, firkin_ns_open(cur_db(c), T(0), create, &h));
  if (st == FIRKIN_OK) store_ns(c, n > 2 ? T(2) : T(0), h);
  else if (h) fail(c, "firkin_ns_open failed but set *out");
  return st;
}

static int cmd_ns_create(ctx *c, token **a, size_t n) {
  firkin_ns *h = NULL;
  int st;
  (void)n;
  NEED_DB();
  st = api(c, firkin_ns_create(cur_db(c), T(0), &h));
  if (st == FIRKIN_OK) store_ns(c, n > 1 ? T(1) : T(0), h);
  else if (h) fail(c, "firkin_ns_create failed but set *out");
  return st;
}

/* ns_create_ordered NAME [H]: firkin_ns_create_v2 with FIRKIN_NS_ORDERED. */
static int cmd_ns_create_ordered(ctx *c, token **a, size_t n) {
  firkin_ns *h = NULL;
  int st;
  NEED_DB();
  st = api(c, firkin_ns_create_v2(cur_db(c), T(0), FIRKIN_NS_ORDERED, &h));
  if (st == FIRKIN_OK) store_ns(c, n > 1 ? T(1) : T(0), h);
  else if (h) fail(c, "firkin_ns_create_v2 failed but set *out");
  return st;
}

/* ns_ordered H B: firkin_ns_flags has FIRKIN_NS_ORDERED exactly when B. */
static int cmd_ns_ordered(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->ns, "namespace handle", T(0));
  uint32_t flags = 99;
  bool want;
  int st;
  (void)n;
  if (!e) return RUNNER_ERROR;
  if (!bool_arg(c, a[1], &want)) return RUNNER_ERROR;
  st = api(c, firkin_ns_flags((const firkin_ns *)e->h, &flags));
  if (st == FIRKIN_OK && flags != (want ? (uint32_t)FIRKIN_NS_ORDERED : 0u))
    fail(c, "ns_ordered: flags %u, expected %s", (unsigned)flags, want ? "ordered" : "0");
  return st;
}

static int cmd_ns_drop(ctx *c, token **a, size_t n) {
  (void)n;
  NEED_DB();
  return api(c, firkin_ns_drop(cur_db(c), T(0)));
}

static int cmp_str(const void *x, const void *y) {
  return strcmp(*(char *const *)x, *(char *const *)y);
}

static int cmd_ns_list(ctx *c, token **a, size_t n) {
  char *out = NULL;
  int st;
  NEED_DB();
  st = api(c, firkin_ns_list(cur_db(c), &out));
  if (st == FIRKIN_OK) {
    if (!out) {
      fail(c, "firkin_ns_list returned OK with NULL");
    } else {
      /* split the '\n'-terminated names, sort both lists, compare */
      char **got = NULL, **want = xmalloc((n ? n : 1) * sizeof *want);
      size_t ng = 0, i, len = strlen(out);
      char *p = out;
      char gotbuf[1024], wantbuf[1024];
      if (len > 0 && out[len - 1] != '\n') fail(c, "ns_list: names must each end with '\\n'");
      while (*p) {
        char *nl = strchr(p, '\n');
        got = xrealloc(got, (ng + 1) * sizeof *got);
        got[ng++] = p;
        if (!nl) break;
        *nl = 0;
        p = nl + 1;
      }
      for (i = 0; i < n; i++) want[i] = (char *)a[i]->p;
      if (ng) qsort(got, ng, sizeof *got, cmp_str);
      if (n) qsort(want, n, sizeof *want, cmp_str);
      gotbuf[0] = wantbuf[0] = 0;
      for (i = 0; i < ng; i++) {
        strncat(gotbuf, got[i], sizeof gotbuf - strlen(gotbuf) - 2);
        strncat(gotbuf, " ", sizeof gotbuf - strlen(gotbuf) - 1);
      }
      for (i = 0; i < n; i++) {
        strncat(wantbuf, want[i], sizeof wantbuf - strlen(wantbuf) - 2);
        strncat(wantbuf, " ", sizeof wantbuf - strlen(wantbuf) - 1);
      }
      if (strcmp(gotbuf, wantbuf) != 0) fail(c, "ns_list: expected [%s], got [%s]", wantbuf, gotbuf);
      free(got);
      free(want);
    }
  }
  firkin_free(out);
  return st;
}

static int cmd_ns_name(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->ns, "namespace handle", T(0));
  const char *got;
  (void)n;
  if (!e) return RUNNER_ERROR;
  got = firkin_ns_name((const firkin_ns *)e->h);
  if (!got || strcmp(got, T(n > 1 ? 1 : 0)) != 0)
    fail(c, "ns_name: expected '%s', got '%s'", T(n > 1 ? 1 : 0), got ? got : "(NULL)");
  return api(c, FIRKIN_OK);
}

static int cmd_ns_close(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->ns, "namespace handle", T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  free_ns_entry(c, e);
  return api(c, FIRKIN_OK);
}

static int cmd_count(ctx *c, token **a, size_t n) {
  uint64_t cnt = 0, want;
  int st;
  NEED_DB();
  st = api(c, firkin_count(cur_db(c), c->cur_ns, &cnt));
  if (st == FIRKIN_OK && n > 0) {
    if (!num_arg(c, a[0], &want)) return RUNNER_ERROR;
    if (cnt != want) fail(c, "count: expected %llu, got %llu", (unsigned long long)want, (unsigned long long)cnt);
  }
  return st;
}

/* ---- transactions ---- */

static named *get_txn(ctx *c, const char *name) { return get_named(c, &c->txns, "transaction", name); }

static int cmd_txn_begin(ctx *c, token **a, size_t n) {
  firkin_txn *t = NULL;
  firkin_isolation iso = FIRKIN_TXN_SNAPSHOT;
  int st;
  NEED_DB();
  if (named_find(&c->txns, T(0))) return runner_error(c, "transaction '%s' exists", T(0));
  if (n > 1) {
    if (!strcmp(T(1), "serializable")) iso = FIRKIN_TXN_SERIALIZABLE;
    else if (strcmp(T(1), "snapshot")) return runner_error(c, "unknown isolation '%s'", T(1));
  }
  st = api(c, firkin_txn_begin(cur_db(c), iso, &t));
  if (st == FIRKIN_OK) {
    if (!t) fail(c, "firkin_txn_begin returned OK and NULL");
    else named_add(&c->txns, T(0), c->cur_dbi, t);
  } else if (t) {
    fail(c, "firkin_txn_begin failed but set *out");
  }
  return st;
}

static int cmd_txn_get(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(0));
  void *v = NULL;
  size_t vn = 0;
  int st;
  if (!e) return RUNNER_ERROR;
  st = api(c, firkin_txn_get((firkin_txn *)e->h, c->cur_ns, a[1]->p, a[1]->n, &v, &vn));
  if (st == FIRKIN_OK) {
    if (!v) fail(c, "firkin_txn_get returned OK with a NULL buffer");
    else if (n > 2 && !bytes_eq(v, vn, a[2]->p, a[2]->n)) fail_bytes(c, "value", a[2]->p, a[2]->n, v, vn);
  }
  firkin_free(v);
  return st;
}

static int cmd_txn_contains(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(0));
  bool found = false, want = false;
  int st;
  if (!e) return RUNNER_ERROR;
  if (n > 2 && !bool_arg(c, a[2], &want)) return RUNNER_ERROR;
  st = api(c, firkin_txn_contains((firkin_txn *)e->h, c->cur_ns, a[1]->p, a[1]->n, &found));
  if (st == FIRKIN_OK && n > 2 && found != want)
    fail(c, "txn_contains: expected %s, got %s", want ? "true" : "false", found ? "true" : "false");
  return st;
}

static int cmd_txn_put(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  return api(c, firkin_txn_put((firkin_txn *)e->h, c->cur_ns, a[1]->p, a[1]->n, a[2]->p, a[2]->n));
}

static int cmd_txn_delete(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  return api(c, firkin_txn_delete((firkin_txn *)e->h, c->cur_ns, a[1]->p, a[1]->n));
}

static int cmd_txn_cas(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  return api(c, firkin_txn_cas((firkin_txn *)e->h, c->cur_ns, a[1]->p, a[1]->n, a[2]->p, a[2]->n,
                               a[3]->p, a[3]->n));
}

static int cmd_txn_iter_new(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(1));
  firkin_iter *it = NULL;
  int st;
  (void)n;
  if (!e) return RUNNER_ERROR;
  if (named_find(&c->iters, T(0))) return runner_error(c, "iterator '%s' exists", T(0));
  st = api(c, firkin_txn_iter_new((firkin_txn *)e->h, c->cur_ns, &it));
  if (st == FIRKIN_OK) {
    if (!it) fail(c, "firkin_txn_iter_new returned OK and NULL");
    else named_add(&c->iters, T(0), e->dbi, it);
  } else if (it) {
    fail(c, "firkin_txn_iter_new failed but set *out");
  }
  return st;
}

/* Ordered iterators. A bound or prefix written "" is passed as NULL (no
 * bound); a trailing argument `reverse` sets FIRKIN_ITER_REVERSE. */
#define BOUND(t) ((t)->n ? (const void *)(t)->p : NULL), (t)->n

static bool reverse_arg(ctx *c, token **a, size_t n, size_t at, uint32_t *flags) {
  *flags = 0;
  if (n <= at) return true;
  if (strcmp((const char *)a[at]->p, "reverse") != 0) {
    runner_error(c, "expected 'reverse', got '%s'", (const char *)a[at]->p);
    return false;
  }
  *flags = FIRKIN_ITER_REVERSE;
  return true;
}

/* Stores the iterator a call made (st: the call's status, already
 * recorded by api()). */
static int store_new_iter(ctx *c, const char *name, int dbi, const char *fn, int st,
                          firkin_iter *it) {
  if (st == FIRKIN_OK) {
    if (!it) fail(c, "%s returned OK and NULL", fn);
    else named_add(&c->iters, name, dbi, it);
  } else if (it) {
    fail(c, "%s failed but set *out", fn);
  }
  return st;
}

/* txn_range_iter_new I T START END [reverse] (takes ns=) */
static int cmd_txn_range_iter_new(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(1));
  firkin_iter *it = NULL;
  uint32_t flags;
  if (!e) return RUNNER_ERROR;
  if (named_find(&c->iters, T(0))) return runner_error(c, "iterator '%s' exists", T(0));
  if (!reverse_arg(c, a, n, 4, &flags)) return RUNNER_ERROR;
  int st = api(c, firkin_txn_range_iter_new((firkin_txn *)e->h, c->cur_ns, BOUND(a[2]), BOUND(a[3]), flags, &it));
  return store_new_iter(c, T(0), e->dbi, "firkin_txn_range_iter_new", st, it);
}

/* txn_prefix_iter_new I T PREFIX [reverse] (takes ns=) */
static int cmd_txn_prefix_iter_new(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(1));
  firkin_iter *it = NULL;
  uint32_t flags;
  if (!e) return RUNNER_ERROR;
  if (named_find(&c->iters, T(0))) return runner_error(c, "iterator '%s' exists", T(0));
  if (!reverse_arg(c, a, n, 3, &flags)) return RUNNER_ERROR;
  int st = api(c, firkin_txn_prefix_iter_new((firkin_txn *)e->h, c->cur_ns, BOUND(a[2]), flags, &it));
  return store_new_iter(c, T(0), e->dbi, "firkin_txn_prefix_iter_new", st, it);
}

static int cmd_txn_commit(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(0));
  uint64_t seq = 0;
  int st;
  if (!e) return RUNNER_ERROR;
  st = api(c, firkin_txn_commit((firkin_txn *)e->h, c->wo, &seq));
  if (st == FIRKIN_OK && n > 1) var_set(c, T(1), seq);
  return st;
}

static int cmd_txn_rollback(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  return api(c, firkin_txn_rollback((firkin_txn *)e->h));
}

static int cmd_txn_snapshot_seq(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  var_set(c, T(1), firkin_txn_snapshot_seq((const firkin_txn *)e->h));
  return api(c, FIRKIN_OK);
}

static int cmd_txn_free(ctx *c, token **a, size_t n) {
  named *e = get_txn(c, T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  free_txn_entry(c, e);
  return api(c, FIRKIN_OK);
}

/* ---- snapshots ---- */

static int cmd_snapshot(ctx *c, token **a, size_t n) {
  firkin_snapshot *s = NULL;
  int st;
  (void)n;
  NEED_DB();
  if (named_find(&c->snaps, T(0))) return runner_error(c, "snapshot '%s' exists", T(0));
  st = api(c, firkin_snapshot_new(cur_db(c), &s));
  if (st == FIRKIN_OK) {
    if (!s) fail(c, "firkin_snapshot_new returned OK and NULL");
    else named_add(&c->snaps, T(0), c->cur_dbi, s);
  }
  return st;
}

static int cmd_snapshot_at(ctx *c, token **a, size_t n) {
  firkin_snapshot *s = NULL;
  uint64_t seq;
  int st;
  (void)n;
  NEED_DB();
  if (named_find(&c->snaps, T(0))) return runner_error(c, "snapshot '%s' exists", T(0));
  if (!num_arg(c, a[1], &seq)) return RUNNER_ERROR;
  st = api(c, firkin_snapshot_at(cur_db(c), seq, &s));
  if (st == FIRKIN_OK) {
    if (!s) {
      fail(c, "firkin_snapshot_at returned OK and NULL");
    } else {
      named_add(&c->snaps, T(0), c->cur_dbi, s);
      if (firkin_snapshot_seq(s) != seq)
        fail(c, "snapshot_at(%llu) has seq %llu", (unsigned long long)seq,
             (unsigned long long)firkin_snapshot_seq(s));
    }
  } else if (s) {
    fail(c, "firkin_snapshot_at failed but set *out");
  }
  return st;
}

/* ---- TTL, the database clock, snapshots by clock time, key history ---- */

/* now_ms VAR: firkin_now_ms, binds VAR. */
static int cmd_now_ms(ctx *c, token **a, size_t n) {
  uint64_t v = 0;
  int st;
  (void)n;
  NEED_DB();
  st = api(c, firkin_now_ms(cur_db(c), &v));
  if (st == FIRKIN_OK) var_set(c, T(0), v);
  return st;
}

/* put_ttl K V MS / put_expire_at K V MS. */
static int cmd_put_ttl(ctx *c, token **a, size_t n) {
  uint64_t ms;
  (void)n;
  NEED_DB();
  if (!num_arg(c, a[2], &ms)) return RUNNER_ERROR;
  return api(c, firkin_put_ttl(cur_db(c), c->wo, c->cur_ns, a[0]->p, a[0]->n, a[1]->p, a[1]->n, ms));
}
static int cmd_put_expire_at(ctx *c, token **a, size_t n) {
  uint64_t ms;
  (void)n;
  NEED_DB();
  if (!num_arg(c, a[2], &ms)) return RUNNER_ERROR;
  return api(c, firkin_put_expire_at(cur_db(c), c->wo, c->cur_ns, a[0]->p, a[0]->n, a[1]->p,
                                     a[1]->n, ms));
}

/* batch_put_ttl B K V MS. */
static int cmd_batch_put_ttl(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->batches, "batch", T(0));
  uint64_t ms;
  (void)n;
  if (!e) return RUNNER_ERROR;
  if (!num_arg(c, a[3], &ms)) return RUNNER_ERROR;
  return api(c, firkin_batch_put_ttl((firkin_batch *)e->h, c->cur_ns, a[1]->p, a[1]->n, a[2]->p,
                                     a[2]->n, ms));
}

/* ttl K [MAX|none]: firkin_ttl; none = FIRKIN_TTL_NONE, else 0 < remaining <= MAX. */
static int cmd_ttl(ctx *c, token **a, size_t n) {
  uint64_t v = 0, max = 0;
  bool none = n > 1 && strcmp(T(1), "none") == 0;
  int st;
  NEED_DB();
  if (n > 1 && !none && !num_arg(c, a[1], &max)) return RUNNER_ERROR;
  st = api(c, firkin_ttl(cur_db(c), c->cur_snap, c->cur_ns, a[0]->p, a[0]->n, &v));
  if (st == FIRKIN_OK && n > 1) {
    if (none && v != FIRKIN_TTL_NONE)
      fail(c, "ttl: expected no expiry, got %llu ms", (unsigned long long)v);
    else if (!none && (v == FIRKIN_TTL_NONE || v == 0 || v > max))
      fail(c, "ttl: expected 0 < remaining <= %llu, got %s%llu", (unsigned long long)max,
           v == FIRKIN_TTL_NONE ? "none " : "", (unsigned long long)v);
  }
  return st;
}

/* persist K. */
static int cmd_persist(ctx *c, token **a, size_t n) {
  (void)n;
  NEED_DB();
  return api(c, firkin_persist(cur_db(c), c->wo, c->cur_ns, a[0]->p, a[0]->n));
}

/* snapshot_at_time S MS: firkin_snapshot_at_time into snapshot S. */
static int cmd_snapshot_at_time(ctx *c, token **a, size_t n) {
  firkin_snapshot *s = NULL;
  uint64_t ms;
  int st;
  (void)n;
  NEED_DB();
  if (named_find(&c->snaps, T(0))) return runner_error(c, "snapshot '%s' exists", T(0));
  if (!num_arg(c, a[1], &ms)) return RUNNER_ERROR;
  st = api(c, firkin_snapshot_at_time(cur_db(c), ms, &s));
  if (st == FIRKIN_OK) {
    if (!s) fail(c, "firkin_snapshot_at_time returned OK and NULL");
    else named_add(&c->snaps, T(0), c->cur_dbi, s);
  } else if (s) {
    fail(c, "firkin_snapshot_at_time failed but set *out");
  }
  return st;
}

/* history K {SEQ DEL EXPIRY VALUE}: the versions newest first; EXPIRY 0 =
 * none, `any` = some expiry; every commit time non-zero and not after the
 * next newer one's. */
static int cmd_history(ctx *c, token **a, size_t n) {
  firkin_history *h = NULL;
  size_t k, i = 0;
  uint64_t newer_time = UINT64_MAX;
  int st;
  NEED_DB();
  if ((n - 1) % 4) return runner_error(c, "history needs K then SEQ DEL EXPIRY VALUE groups");
  k = (n - 1) / 4;
  st = api(c, firkin_history_new(cur_db(c), c->cur_ns, a[0]->p, a[0]->n, &h));
  if (st != FIRKIN_OK) {
    if (h) fail(c, "firkin_history_new failed but set *out");
    return st;
  }
  for (; firkin_history_valid(h) && !c->failed; firkin_history_next(h), i++) {
    token **w = a + 1 + 4 * i;
    const void *vp = NULL;
    size_t vl = 0;
    uint64_t seq = firkin_history_seq(h), t = firkin_history_time(h);
    uint64_t exp = firkin_history_expiry(h), want_seq, want_exp = 0;
    bool del = firkin_history_is_delete(h), want_del;
    bool any = false;
    if (i >= k) {
      fail(c, "history: version %zu (seq %llu) beyond the %zu expected", i,
           (unsigned long long)seq, k);
      break;
    }
    any = strcmp((const char *)w[2]->p, "any") == 0;
    if (!num_arg(c, w[0], &want_seq) || !bool_arg(c, w[1], &want_del) ||
        (!any && !num_arg(c, w[2], &want_exp))) {
      firkin_history_free(h);
      return RUNNER_ERROR;
    }
    if (api(c, firkin_history_value(h, &vp, &vl)) != FIRKIN_OK) {
      fail(c, "history: firkin_history_value failed on version %zu", i);
    } else if (seq != want_seq || del != want_del) {
      fail(c, "history version %zu: expected seq %llu %s, got seq %llu %s", i,
           (unsigned long long)want_seq, want_del ? "delete" : "put", (unsigned long long)seq,
           del ? "delete" : "put");
    } else if (any ? exp == 0 : exp != want_exp) {
      fail(c, "history version %zu: expected expiry %s, got %llu", i,
           any ? "any" : (const char *)w[2]->p, (unsigned long long)exp);
    } else if (t == 0 || t > newer_time) {
      fail(c, "history version %zu: commit time %llu (newer version's %llu)", i,
           (unsigned long long)t, (unsigned long long)newer_time);
    } else if (!bytes_eq(vp, vl, w[3]->p, w[3]->n)) {
      fail_bytes(c, "history value", w[3]->p, w[3]->n, vp, vl);
    }
    newer_time = t;
  }
  if (!c->failed && i != k) fail(c, "history gave %zu versions, expected %zu", i, k);
  firkin_history_free(h);
  return FIRKIN_OK;
}

static int cmd_snapshot_seq(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->snaps, "snapshot", T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  var_set(c, T(1), firkin_snapshot_seq((const firkin_snapshot *)e->h));
  return api(c, FIRKIN_OK);
}

static int cmd_snapshot_free(ctx *c, token **a, size_t n) {
  named *e = get_named(c, &c->snaps, "snapshot", T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  free_snap_entry(c, e);
  return api(c, FIRKIN_OK);
}

/* ---- iterators ---- */

static named *get_iter(ctx *c, const char *name) { return get_named(c, &c->iters, "iterator", name); }
#define ITER(e) ((firkin_iter *)(e)->h)

static int cmd_iter_new(ctx *c, token **a, size_t n) {
  firkin_iter *it = NULL;
  int st;
  (void)n;
  NEED_DB();
  if (named_find(&c->iters, T(0))) return runner_error(c, "iterator '%s' exists", T(0));
  st = api(c, firkin_iter_new(cur_db(c), c->cur_snap, c->cur_ns, &it));
  if (st == FIRKIN_OK) {
    if (!it) fail(c, "firkin_iter_new returned OK and NULL");
    else named_add(&c->iters, T(0), c->cur_dbi, it);
  } else if (it) {
    fail(c, "firkin_iter_new failed but set *out");
  }
  return st;
}

/* range_iter_new I START END [reverse] (takes ns=, snap=, db=) */
static int cmd_range_iter_new(ctx *c, token **a, size_t n) {
  firkin_iter *it = NULL;
  uint32_t flags;
  NEED_DB();
  if (named_find(&c->iters, T(0))) return runner_error(c, "iterator '%s' exists", T(0));
  if (!reverse_arg(c, a, n, 3, &flags)) return RUNNER_ERROR;
  int st = api(c, firkin_range_iter_new(cur_db(c), c->cur_snap, c->cur_ns, BOUND(a[1]), BOUND(a[2]), flags, &it));
  return store_new_iter(c, T(0), c->cur_dbi, "firkin_range_iter_new", st, it);
}

/* prefix_iter_new I PREFIX [reverse] (takes ns=, snap=, db=) */
static int cmd_prefix_iter_new(ctx *c, token **a, size_t n) {
  firkin_iter *it = NULL;
  uint32_t flags;
  NEED_DB();
  if (named_find(&c->iters, T(0))) return runner_error(c, "iterator '%s' exists", T(0));
  if (!reverse_arg(c, a, n, 2, &flags)) return RUNNER_ERROR;
  int st = api(c, firkin_prefix_iter_new(cur_db(c), c->cur_snap, c->cur_ns, BOUND(a[1]), flags, &it));
  return store_new_iter(c, T(0), c->cur_dbi, "firkin_prefix_iter_new", st, it);
}

/* iter_seek I K */
static int cmd_iter_seek(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  return api(c, firkin_iter_seek(ITER(e), a[1]->p, a[1]->n));
}

/* iter_ordered I B: firkin_iter_is_ordered = B. */
static int cmd_iter_ordered(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  bool want, got;
  (void)n;
  if (!e) return RUNNER_ERROR;
  if (!bool_arg(c, a[1], &want)) return RUNNER_ERROR;
  got = firkin_iter_is_ordered(ITER(e));
  if (got != want) fail(c, "iter_ordered: expected %s, got %s", want ? "true" : "false", got ? "true" : "false");
  return api(c, FIRKIN_OK);
}

static int cmd_iter_valid(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  bool want, got;
  (void)n;
  if (!e) return RUNNER_ERROR;
  if (!bool_arg(c, a[1], &want)) return RUNNER_ERROR;
  got = firkin_iter_valid(ITER(e));
  if (got != want) fail(c, "iter_valid: expected %s, got %s", want ? "true" : "false", got ? "true" : "false");
  return api(c, FIRKIN_OK);
}

static int cmd_iter_next(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  return api(c, firkin_iter_next(ITER(e)));
}

static int cmd_iter_key_or_value(ctx *c, token **a, size_t n, bool key) {
  named *e = get_iter(c, T(0));
  const void *p = NULL;
  size_t len = 0;
  int st;
  if (!e) return RUNNER_ERROR;
  st = api(c, key ? firkin_iter_key(ITER(e), &p, &len) : firkin_iter_value(ITER(e), &p, &len));
  if (st == FIRKIN_OK && n > 1) {
    if (!p && len) fail(c, "NULL pointer with a non-zero length");
    else if (!bytes_eq(p, len, a[1]->p, a[1]->n)) fail_bytes(c, key ? "iter key" : "iter value", a[1]->p, a[1]->n, p, len);
  }
  return st;
}
static int cmd_iter_key(ctx *c, token **a, size_t n) { return cmd_iter_key_or_value(c, a, n, true); }
static int cmd_iter_value(ctx *c, token **a, size_t n) { return cmd_iter_key_or_value(c, a, n, false); }

static int cmd_iter_status(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  return api(c, firkin_iter_status(ITER(e)));
}

/* Parses a next_n buffer into the iterator's collected entries. */
static void parse_next_n(ctx *c, named *e, const unsigned char *buf, size_t used, size_t count) {
  size_t pos = 0, i;
  for (i = 0; i < count; i++) {
    uint32_t kl, vl;
    if (pos + 8 > used) {
      fail(c, "next_n: entry %zu header runs past 'used'", i);
      return;
    }
    kl = rd32(buf + pos);
    vl = rd32(buf + pos + 4);
    pos += 8;
    if (pos + kl + vl > used) {
      fail(c, "next_n: entry %zu runs past 'used'", i);
      return;
    }
    named_add_seen(e, buf + pos, kl, buf + pos + kl, vl);
    pos += kl + vl;
  }
  if (pos != used) fail(c, "next_n: 'used' is %zu but the entries take %zu bytes", used, pos);
}

static int cmd_iter_next_n(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  uint64_t cap, want;
  unsigned char *buf;
  size_t used = 99999, count = 99999;
  int st;
  if (!e) return RUNNER_ERROR;
  if (!parse_u64(T(1), &cap) || cap > (1u << 30)) return runner_error(c, "bad capacity");
  buf = xmalloc((size_t)cap + 1);
  buf[cap] = 0x5A;
  st = api(c, firkin_iter_next_n(ITER(e), cap ? buf : NULL, (size_t)cap, &used, &count));
  if (st == FIRKIN_OK) {
    parse_next_n(c, e, buf, used, count);
    if (n > 2) {
      if (!num_arg(c, a[2], &want)) { free(buf); return RUNNER_ERROR; }
      if (count != want) fail(c, "next_n count: expected %llu, got %zu", (unsigned long long)want, count);
    }
  }
  if ((st == FIRKIN_OK || st == FIRKIN_E_BUFFER_TOO_SMALL) && n > 3) {
    if (!num_arg(c, a[3], &want)) { free(buf); return RUNNER_ERROR; }
    if (used != want) fail(c, "next_n used: expected %llu, got %zu", (unsigned long long)want, used);
  }
  if (buf[cap] != 0x5A) fail(c, "next_n wrote past the end of the buffer");
  free(buf);
  return st;
}

static int cmd_iter_walk(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  int st = FIRKIN_OK;
  size_t guard = 0;
  (void)n;
  if (!e) return RUNNER_ERROR;
  while (firkin_iter_valid(ITER(e))) {
    const void *k = NULL, *v = NULL;
    size_t kl = 0, vl = 0;
    st = api(c, firkin_iter_key(ITER(e), &k, &kl));
    if (st) return st;
    st = api(c, firkin_iter_value(ITER(e), &v, &vl));
    if (st) return st;
    named_add_seen(e, k, kl, v, vl);
    st = api(c, firkin_iter_next(ITER(e)));
    if (st) return st;
    if (++guard > 100000000u) {
      fail(c, "iterator never ends");
      return st;
    }
  }
  return api(c, firkin_iter_status(ITER(e)));
}

static int cmd_iter_drain(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  uint64_t cap;
  unsigned char *buf;
  int st;
  size_t rounds = 0;
  (void)n;
  if (!e) return RUNNER_ERROR;
  if (!parse_u64(T(1), &cap) || cap > (1u << 30)) return runner_error(c, "bad capacity");
  buf = xmalloc((size_t)cap + 1);
  for (;;) {
    size_t used = 0, count = 0;
    st = api(c, firkin_iter_next_n(ITER(e), cap ? buf : NULL, (size_t)cap, &used, &count));
    if (st) break;
    if (count == 0) {
      if (firkin_iter_valid(ITER(e))) fail(c, "next_n returned 0 entries on a valid iterator");
      break;
    }
    parse_next_n(c, e, buf, used, count);
    if (c->failed || ++rounds > 100000000u) break;
  }
  free(buf);
  if (st == FIRKIN_OK && !c->failed) st = api(c, firkin_iter_status(ITER(e)));
  return st;
}

static int cmp_kv(const void *x, const void *y) {
  const kv *a = x, *b = y;
  size_t m = a->k.n < b->k.n ? a->k.n : b->k.n;
  int r = m ? memcmp(a->k.p, b->k.p, m) : 0;
  if (r) return r;
  if (a->k.n != b->k.n) return a->k.n < b->k.n ? -1 : 1;
  m = a->v.n < b->v.n ? a->v.n : b->v.n;
  r = m ? memcmp(a->v.p, b->v.p, m) : 0;
  if (r) return r;
  return a->v.n < b->v.n ? -1 : (a->v.n > b->v.n);
}

static int cmd_iter_expect(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  size_t k, i;
  kv *want;
  if (!e) return RUNNER_ERROR;
  if ((n - 1) % 2) return runner_error(c, "iter_expect needs KEY VALUE pairs");
  k = (n - 1) / 2;
  want = xmalloc((k ? k : 1) * sizeof *want);
  for (i = 0; i < k; i++) {
    want[i].k.p = a[1 + 2 * i]->p;
    want[i].k.n = a[1 + 2 * i]->n;
    want[i].v.p = a[2 + 2 * i]->p;
    want[i].v.n = a[2 + 2 * i]->n;
  }
  if (k) qsort(want, k, sizeof *want, cmp_kv);
  if (e->nseen) qsort(e->seen, e->nseen, sizeof *e->seen, cmp_kv);
  for (i = 0; i < k && i < e->nseen; i++) {
    if (cmp_kv(&want[i], &e->seen[i]) != 0) {
      char wk[256], wv[256], gk[256], gv[256];
      render(wk, sizeof wk, want[i].k.p, want[i].k.n);
      render(wv, sizeof wv, want[i].v.p, want[i].v.n);
      render(gk, sizeof gk, e->seen[i].k.p, e->seen[i].k.n);
      render(gv, sizeof gv, e->seen[i].v.p, e->seen[i].v.n);
      fail(c, "iterator entries differ at sorted position %zu: expected %s = %s, got %s = %s", i,
           wk, wv, gk, gv);
      break;
    }
  }
  if (!c->failed && k != e->nseen)
    fail(c, "iterator produced %zu entries, expected %zu", e->nseen, k);
  free(want);
  return api(c, FIRKIN_OK);
}

/* iter_expect_ordered I { K V }: the collected entries are exactly the
 * pairs, in this order. */
static int cmd_iter_expect_ordered(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  size_t k, i;
  if (!e) return RUNNER_ERROR;
  if ((n - 1) % 2) return runner_error(c, "iter_expect_ordered needs KEY VALUE pairs");
  k = (n - 1) / 2;
  for (i = 0; i < k && i < e->nseen; i++) {
    token *wk = a[1 + 2 * i], *wv = a[2 + 2 * i];
    if (!bytes_eq(wk->p, wk->n, e->seen[i].k.p, e->seen[i].k.n) ||
        !bytes_eq(wv->p, wv->n, e->seen[i].v.p, e->seen[i].v.n)) {
      char rk[256], rv[256], gk[256], gv[256];
      render(rk, sizeof rk, wk->p, wk->n);
      render(rv, sizeof rv, wv->p, wv->n);
      render(gk, sizeof gk, e->seen[i].k.p, e->seen[i].k.n);
      render(gv, sizeof gv, e->seen[i].v.p, e->seen[i].v.n);
      fail(c, "iterator entry %zu: expected %s = %s, got %s = %s", i, rk, rv, gk, gv);
      break;
    }
  }
  if (!c->failed && k != e->nseen)
    fail(c, "iterator produced %zu entries, expected %zu", e->nseen, k);
  return api(c, FIRKIN_OK);
}

static int cmd_iter_expect_count(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  uint64_t want;
  size_t i;
  (void)n;
  if (!e) return RUNNER_ERROR;
  if (!num_arg(c, a[1], &want)) return RUNNER_ERROR;
  if (e->nseen != want) fail(c, "iterator produced %zu entries, expected %llu", e->nseen, (unsigned long long)want);
  /* and no key twice */
  if (!c->failed && e->nseen > 1) {
    qsort(e->seen, e->nseen, sizeof *e->seen, cmp_kv);
    for (i = 1; i < e->nseen; i++)
      if (bytes_eq(e->seen[i].k.p, e->seen[i].k.n, e->seen[i - 1].k.p, e->seen[i - 1].k.n)) {
        fail(c, "iterator produced a key twice");
        break;
      }
  }
  return api(c, FIRKIN_OK);
}

static int cmd_iter_free(ctx *c, token **a, size_t n) {
  named *e = get_iter(c, T(0));
  (void)n;
  if (!e) return RUNNER_ERROR;
  free_iter_entry(c, e);
  return api(c, FIRKIN_OK);
}

/* ---- misc ---- */

static int cmd_check(ctx *c, token **a, size_t n) {
  uint64_t x, y;
  const char *op = T(1);
  bool ok;
  (void)n;
  if (!num_arg(c, a[0], &x) || !num_arg(c, a[2], &y)) return RUNNER_ERROR;
  if (!strcmp(op, "eq")) ok = x == y;
  else if (!strcmp(op, "ne")) ok = x != y;
  else if (!strcmp(op, "lt")) ok = x < y;
  else if (!strcmp(op, "le")) ok = x <= y;
  else if (!strcmp(op, "gt")) ok = x > y;
  else if (!strcmp(op, "ge")) ok = x >= y;
  else return runner_error(c, "bad comparison '%s'", op);
  if (!ok) fail(c, "check %s %s %s: %llu %s %llu is false", T(0), op, T(2), (unsigned long long)x, op,
                (unsigned long long)y);
  return api(c, FIRKIN_OK);
}

static int cmd_version(ctx *c, token **a, size_t n) {
  int v = firkin_version_number();
  const char *s = firkin_version_string();
  char want[64];
  (void)a; (void)n;
  snprintf(want, sizeof want, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
  if (!s || strcmp(s, want) != 0) fail(c, "version string '%s' does not match number %d", s ? s : "(NULL)", v);
  if (v / 10000 != FIRKIN_VERSION_MAJOR) fail(c, "library major version %d, header %d", v / 10000, FIRKIN_VERSION_MAJOR);
  return api(c, FIRKIN_OK);
}

static int cmd_strerror(ctx *c, token **a, size_t n) {
  int code;
  const char *s;
  (void)n;
  if (!status_from_name(T(0), &code)) return runner_error(c, "unknown status '%s'", T(0));
  s = firkin_strerror(code);
  if (!s || !*s) fail(c, "firkin_strerror(%s) is empty", T(0));
  return api(c, FIRKIN_OK);
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
  const char *name;
  cmd_fn fn;
  int min, max; /* positional arguments (max -1 = any) */
  const char *mods; /* allowed modifiers: n = ns, s = snap, d = db */
} command;

static const command kCommands[] = {
    {"opt_reset", cmd_opt_reset, 0, 0, ""},
    {"opt_set", cmd_opt_set, 2, 2, ""},
    {"opt_get", cmd_opt_get, 1, 2, ""},
    {"opt_set_typed", cmd_opt_set_typed, 2, 2, ""},
    {"opt_get_typed", cmd_opt_get_typed, 1, 2, ""},
    {"wo_set_sync", cmd_wo_set_sync, 1, 1, ""},
    {"wo_get_sync", cmd_wo_get_sync, 0, 1, ""},
    {"wo_reset", cmd_wo_reset, 0, 0, ""},
    {"open", cmd_open, 0, 1, ""},
    {"open2", cmd_open2, 0, 1, ""},
    {"close", cmd_close, 0, 0, ""},
    {"close2", cmd_close2, 0, 0, ""},
    {"close_db", cmd_close_db, 0, 0, ""},
    {"free_children", cmd_free_children, 0, 0, ""},
    {"reopen", cmd_reopen, 0, 0, ""},
    {"sync", cmd_sync, 0, 0, "d"},
    {"refresh", cmd_refresh, 0, 0, "d"},
    {"last_seq", cmd_last_seq, 1, 1, "d"},
    {"changes", cmd_changes, 1, -1, "d"},
    {"changes_oldest", cmd_changes_oldest, 0, 1, "d"},
    {"changes_position", cmd_changes_position, 2, 2, "d"},
    {"stats", cmd_stats, 0, -1, "d"},
    {"compact", cmd_compact, 0, 0, "d"},
    {"checkpoint", cmd_checkpoint, 0, 0, "d"},
    {"verify", cmd_verify, 0, -1, "d"},
    {"verify_path", cmd_verify_path, 0, -1, ""},
    {"backup_opt", cmd_backup_opt, 2, 2, ""},
    {"backup_opt_get", cmd_backup_opt_get, 1, 2, ""},
    {"backup", cmd_backup, 1, -1, "d"},
    {"restore", cmd_restore, 2, -1, ""},
    {"put", cmd_put, 2, 2, "nd"},
    {"get", cmd_get, 1, 2, "nsd"},
    {"get_into", cmd_get_into, 2, 4, "nsd"},
    {"contains", cmd_contains, 1, 2, "nsd"},
    {"get_version", cmd_get_version, 1, 2, "nsd"},
    {"delete", cmd_delete, 1, 1, "nd"},
    {"put_if_absent", cmd_put_if_absent, 2, 2, "nd"},
    {"cas", cmd_cas, 3, 3, "nd"},
    {"cas_version", cmd_cas_version, 3, 3, "nd"},
    {"multi_get", cmd_multi_get, 0, -1, "nsd"},
    {"multi_get_packed", cmd_multi_get_packed, 0, -1, "nsd"},
    {"put_range", cmd_put_range, 4, 4, "nd"},
    {"get_range", cmd_get_range, 3, 4, "nsd"},
    {"delete_range", cmd_delete_range, 3, 3, "nd"},
    {"batch_new", cmd_batch_new, 1, 1, ""},
    {"batch_put", cmd_batch_put, 3, 3, "n"},
    {"batch_delete", cmd_batch_delete, 2, 2, "n"},
    {"batch_clear", cmd_batch_clear, 1, 1, ""},
    {"batch_count", cmd_batch_count, 1, 2, ""},
    {"write", cmd_write, 1, 1, "d"},
    {"batch_free", cmd_batch_free, 1, 1, ""},
    {"ns_open", cmd_ns_open, 2, 3, "d"},
    {"ns_create", cmd_ns_create, 1, 2, "d"},
    {"ns_create_ordered", cmd_ns_create_ordered, 1, 2, "d"},
    {"ns_ordered", cmd_ns_ordered, 2, 2, ""},
    {"ns_drop", cmd_ns_drop, 1, 1, "d"},
    {"ns_list", cmd_ns_list, 0, -1, "d"},
    {"ns_name", cmd_ns_name, 1, 2, ""},
    {"ns_close", cmd_ns_close, 1, 1, ""},
    {"count", cmd_count, 0, 1, "nd"},
    {"txn_begin", cmd_txn_begin, 1, 2, "d"},
    {"txn_get", cmd_txn_get, 2, 3, "n"},
    {"txn_contains", cmd_txn_contains, 2, 3, "n"},
    {"txn_put", cmd_txn_put, 3, 3, "n"},
    {"txn_delete", cmd_txn_delete, 2, 2, "n"},
    {"txn_cas", cmd_txn_cas, 4, 4, "n"},
    {"txn_iter_new", cmd_txn_iter_new, 2, 2, "n"},
    {"txn_range_iter_new", cmd_txn_range_iter_new, 4, 5, "n"},
    {"txn_prefix_iter_new", cmd_txn_prefix_iter_new, 3, 4, "n"},
    {"txn_commit", cmd_txn_commit, 1, 2, ""},
    {"txn_rollback", cmd_txn_rollback, 1, 1, ""},
    {"txn_snapshot_seq", cmd_txn_snapshot_seq, 2, 2, ""},
    {"txn_free", cmd_txn_free, 1, 1, ""},
    {"snapshot", cmd_snapshot, 1, 1, "d"},
    {"snapshot_at", cmd_snapshot_at, 2, 2, "d"},
    {"snapshot_seq", cmd_snapshot_seq, 2, 2, ""},
    {"snapshot_free", cmd_snapshot_free, 1, 1, ""},
    {"iter_new", cmd_iter_new, 1, 1, "nsd"},
    {"range_iter_new", cmd_range_iter_new, 3, 4, "nsd"},
    {"prefix_iter_new", cmd_prefix_iter_new, 2, 3, "nsd"},
    {"iter_seek", cmd_iter_seek, 2, 2, ""},
    {"iter_ordered", cmd_iter_ordered, 2, 2, ""},
    {"iter_valid", cmd_iter_valid, 2, 2, ""},
    {"iter_next", cmd_iter_next, 1, 1, ""},
    {"iter_key", cmd_iter_key, 1, 2, ""},
    {"iter_value", cmd_iter_value, 1, 2, ""},
    {"iter_status", cmd_iter_status, 1, 1, ""},
    {"iter_next_n", cmd_iter_next_n, 2, 4, ""},
    {"iter_walk", cmd_iter_walk, 1, 1, ""},
    {"iter_drain", cmd_iter_drain, 2, 2, ""},
    {"iter_expect", cmd_iter_expect, 1, -1, ""},
    {"iter_expect_ordered", cmd_iter_expect_ordered, 1, -1, ""},
    {"iter_expect_count", cmd_iter_expect_count, 2, 2, ""},
    {"iter_free", cmd_iter_free, 1, 1, ""},
    {"check", cmd_check, 3, 3, ""},
    {"now_ms", cmd_now_ms, 1, 1, "d"},
    {"put_ttl", cmd_put_ttl, 3, 3, "nd"},
    {"put_expire_at", cmd_put_expire_at, 3, 3, "nd"},
    {"batch_put_ttl", cmd_batch_put_ttl, 4, 4, "n"},
    {"ttl", cmd_ttl, 1, 2, "nsd"},
    {"persist", cmd_persist, 1, 1, "nd"},
    {"snapshot_at_time", cmd_snapshot_at_time, 2, 2, "d"},
    {"history", cmd_history, 1, -1, "nd"},
    {"version", cmd_version, 0, 0, ""},
    {"strerror", cmd_strerror, 1, 1, ""},
};
#define NCOMMANDS (sizeof kCommands / sizeof kCommands[0])

/* Executes one command line (already tokenized). Returns true if it
 * passed. */
static bool run_command(ctx *c, token_list *tl) {
  const command *cmd = NULL;
  token **pos = xmalloc(tl->n * sizeof *pos);
  size_t npos = 0, i, end = tl->n;
  int st;
  const char *name;

  c->failed = false;
  c->msg[0] = 0;
  c->lasterr[0] = 0;
  c->lasterr_valid = true;
  c->exp = FIRKIN_OK;
  c->cur_dbi = 1;
  c->cur_ns = NULL;
  c->cur_snap = NULL;

  if (tl->t[0].kind != TK_BYTES || !tl->t[0].bare) {
    st = runner_error(c, "a line must start with a command name");
    goto done;
  }
  name = (const char *)tl->t[0].p;
  for (i = 0; i < NCOMMANDS; i++)
    if (strcmp(kCommands[i].name, name) == 0) cmd = &kCommands[i];
  if (!cmd) {
    st = runner_error(c, "unknown command '%s'", name);
    goto done;
  }
  /* expectation: "-> STATUS" at the end */
  if (end >= 2 && tl->t[end - 2].kind == TK_ARROW) {
    const token *s = &tl->t[end - 1];
    if (s->kind != TK_BYTES || !s->bare || !status_from_name((const char *)s->p, &c->exp)) {
      st = runner_error(c, "'->' must be followed by a status name");
      goto done;
    }
    end -= 2;
  }
  for (i = 1; i < end; i++) {
    token *t = &tl->t[i];
    if (t->kind == TK_ARROW) {
      st = runner_error(c, "'->' is only allowed before the last token");
      goto done;
    }
    if (t->kind == TK_MOD) {
      const char *v = (const char *)t->p;
      char code = !strcmp(t->mod_name, "ns") ? 'n' : !strcmp(t->mod_name, "snap") ? 's'
                : !strcmp(t->mod_name, "db") ? 'd' : 0;
      if (!code || !strchr(cmd->mods, code)) {
        st = runner_error(c, "modifier '%s=' not allowed on %s", t->mod_name, name);
        goto done;
      }
      if (code == 'n') {
        named *e = named_find(&c->ns, v);
        if (!e) { st = runner_error(c, "no namespace handle '%s' (use ns_open/ns_create)", v); goto done; }
        c->cur_ns = (const firkin_ns *)e->h;
      } else if (code == 's') {
        named *e = named_find(&c->snaps, v);
        if (!e) { st = runner_error(c, "no snapshot '%s'", v); goto done; }
        c->cur_snap = (const firkin_snapshot *)e->h;
      } else {
        if (strcmp(v, "1") && strcmp(v, "2")) { st = runner_error(c, "db= must be 1 or 2"); goto done; }
        c->cur_dbi = v[0] - '0';
      }
      continue;
    }
    if (t->kind == TK_BANG && strcmp(name, "multi_get") && strcmp(name, "multi_get_packed")) {
      st = runner_error(c, "'!STATUS' is only allowed in multi_get expectations");
      goto done;
    }
    pos[npos++] = t;
  }
  if ((int)npos < cmd->min || (cmd->max >= 0 && (int)npos > cmd->max)) {
    st = runner_error(c, "%s takes %d..%d arguments, got %zu", name, cmd->min, cmd->max, npos);
    goto done;
  }
  st = cmd->fn(c, pos, npos);
  if (st == RUNNER_ERROR) goto done;
  if (st != c->exp) {
    char extra[256] = "";
    if (c->failed) snprintf(extra, sizeof extra, " (and: %.200s)", c->msg);
    c->failed = false;
    fail(c, "expected %s, got %s%s", status_name(c->exp), status_name(st), extra);
  } else if (!c->failed && st < 0 && st != FIRKIN_E_NOT_FOUND && (!c->lasterr_valid || !c->lasterr[0])) {
    fail(c, "status %s but firkin_last_error() is %s", status_name(st), c->lasterr_valid ? "empty" : "NULL");
  }
done:
  free(pos);
  return !c->failed;
}

/* ------------------------------------------------------------------------ */
/* Cases and files                                                           */
/* ------------------------------------------------------------------------ */

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb; (void)flag; (void)ftw;
  remove(path);
  return 0;
}

static void rm_rf(const char *path) { nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

typedef struct {
  char base[4096];
  bool keep;
  const char *only;
  int passed, failed, seq;
} runner;

static void end_case(runner *r, ctx *c, bool ok) {
  size_t i;
  free_children(c, 0);
  for (i = c->batches.n; i-- > 0;) {
    firkin_batch_free((firkin_batch *)c->batches.a[i].h);
    named_remove(&c->batches, &c->batches.a[i]);
  }
  firkin_close(c->db[1]);
  firkin_close(c->db[2]);
  c->db[1] = c->db[2] = NULL;
  firkin_options_free(c->opts);
  firkin_write_options_free(c->wo);
  firkin_backup_options_free(c->bopts);
  c->opts = NULL;
  c->wo = NULL;
  c->bopts = NULL;
  for (i = 0; i < c->nvars; i++) free(c->vars[i].name);
  c->nvars = 0;
  if (!r->keep) rm_rf(c->dir);
  if (ok) r->passed++;
  else r->failed++;
}

static bool begin_case(runner *r, ctx *c, const char *name) {
  int st;
  r->seq++;
  snprintf(c->dir, sizeof c->dir, "%.2000s/%03d-%.200s", r->base, r->seq % 1000, name);
  rm_rf(c->dir);
  if (mkdir(c->dir, 0755) != 0) {
    fprintf(stderr, "cannot create %s: %s\n", c->dir, strerror(errno));
    return false;
  }
  st = firkin_options_new(&c->opts);
  if (st != FIRKIN_OK || !c->opts) {
    fprintf(stderr, "firkin_options_new failed: %s\n", firkin_last_error());
    return false;
  }
  c->wo = NULL;
  return true;
}

static void run_file(runner *r, const char *path) {
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  int lineno = 0;
  token_list tl;
  ctx c;
  bool in_case = false, case_ok = true, skipping = false;
  char case_name[256] = "";

  memset(&tl, 0, sizeof tl);
  memset(&c, 0, sizeof c);
  c.file = path;
  if (!f) {
    printf("FAIL %s: cannot open: %s\n", path, strerror(errno));
    r->failed++;
    return;
  }
  for (;;) {
    ssize_t got = getline(&line, &cap, f);
    const char *err = NULL;
    if (got < 0) break;
    lineno++;
    if (!tokenize(line, &tl, &err)) {
      if (in_case && !skipping && case_ok) {
        printf("FAIL %s (%s:%d): syntax error: %s\n", case_name, path, lineno, err);
        case_ok = false;
      } else if (!in_case) {
        printf("FAIL %s:%d: syntax error outside a case: %s\n", path, lineno, err);
        r->failed++;
      }
      continue;
    }
    if (tl.n == 0) continue;
    if (tl.t[0].kind == TK_BYTES && tl.t[0].bare && strcmp((char *)tl.t[0].p, "case") == 0) {
      if (in_case) end_case(r, &c, case_ok);
      in_case = false;
      if (tl.n != 2 || !tl.t[1].bare) {
        printf("FAIL %s:%d: 'case' takes one bare name\n", path, lineno);
        r->failed++;
        skipping = true;
        continue;
      }
      snprintf(case_name, sizeof case_name, "%s", (char *)tl.t[1].p);
      skipping = r->only && strcmp(r->only, case_name) != 0;
      if (skipping) continue;
      if (!begin_case(r, &c, case_name)) {
        printf("FAIL %s: setup failed\n", case_name);
        r->failed++;
        skipping = true;
        continue;
      }
      in_case = true;
      case_ok = true;
      continue;
    }
    if (skipping) continue;
    if (!in_case) {
      printf("FAIL %s:%d: command outside a case\n", path, lineno);
      r->failed++;
      continue;
    }
    if (!case_ok) continue; /* the rest of a failed case is skipped */
    c.line = lineno;
    c.case_name = case_name;
    if (!run_command(&c, &tl)) {
      size_t ll = strlen(line);
      while (ll && (line[ll - 1] == '\n' || line[ll - 1] == '\r')) line[--ll] = 0;
      printf("FAIL %s (%s:%d): %s\n", case_name, path, lineno, line);
      printf("    %s\n", c.msg);
      printf("    firkin_last_error: \"%s\"\n", c.lasterr);
      case_ok = false;
    }
  }
  if (in_case) end_case(r, &c, case_ok);
  tokens_clear(&tl);
  free(tl.t);
  free(line);
  free(c.ns.a);
  free(c.snaps.a);
  free(c.iters.a);
  free(c.batches.a);
  free(c.txns.a);
  free(c.vars);
  fclose(f);
}

static int cmp_cstr(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void run_path(runner *r, const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    printf("FAIL %s: %s\n", path, strerror(errno));
    r->failed++;
    return;
  }
  if (S_ISDIR(sb.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, i;
    if (!d) {
      printf("FAIL %s: %s\n", path, strerror(errno));
      r->failed++;
      return;
    }
    while ((de = readdir(d)) != NULL) {
      size_t l = strlen(de->d_name);
      if (l > 5 && strcmp(de->d_name + l - 5, ".case") == 0) {
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n] = xmalloc(strlen(path) + l + 2);
        sprintf(names[n], "%s/%s", path, de->d_name);
        n++;
      }
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_cstr);
    if (n == 0) {
      printf("FAIL %s: no .case files\n", path);
      r->failed++;
    }
    for (i = 0; i < n; i++) {
      run_file(r, names[i]);
      free(names[i]);
    }
    free(names);
  } else {
    run_file(r, path);
  }
}

int main(int argc, char **argv) {
  runner r;
  int i, npaths = 0;
  const char *tmp = getenv("TMPDIR");
  memset(&r, 0, sizeof r);
  snprintf(r.base, sizeof r.base, "%s/firkin-conformance-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(r.base)) {
    fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
    return 2;
  }
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--keep") == 0) {
      r.keep = true;
    } else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc) {
      r.only = argv[++i];
    }
  }
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--keep") == 0) continue;
    if (strcmp(argv[i], "--case") == 0) {
      i++;
      continue;
    }
    run_path(&r, argv[i]);
    npaths++;
  }
  if (npaths == 0) {
    fprintf(stderr, "usage: %s [--keep] [--case NAME] CASES_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  if (r.keep) printf("databases kept under %s\n", r.base);
  else rmdir(r.base);
  printf("%d passed, %d failed\n", r.passed, r.failed);
  return r.failed == 0 && r.passed > 0 ? 0 : 1;
}
