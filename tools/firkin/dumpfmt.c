/* dumpfmt.c — writing and reading the jsonl and raw dump formats (see
 * dumpfmt.h). The JSON reader understands exactly what the writer produces
 * plus insignificant whitespace and any key order; anything else is a
 * failure naming the line. No shared state. */
#define _POSIX_C_SOURCE 200809L
#include "dumpfmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The writers return 0, or -1 (errno set) if a write failed: every fwrite,
 * fputc and fprintf is checked, as one of a block larger than the stdio
 * buffer is written directly and only it sees the error. */
static int put(FILE *f, const void *p, size_t n) {
  return n == 0 || fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int put32(FILE *f, uint32_t v) {
  unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 24)};
  return put(f, b, 4);
}

static int put64(FILE *f, uint64_t v) {
  return put32(f, (uint32_t)v) || put32(f, (uint32_t)(v >> 32)) ? -1 : 0;
}

/* Writes b, then frees it. */
static int putb(FILE *f, struct buf *b) {
  int r = put(f, b->p, b->len);
  int e = errno;
  buf_free(b);
  errno = e;
  return r;
}

int dump_header(FILE *f, enum dump_kind kind, uint64_t seq) {
  if (kind == DUMP_JSONL)
    return fprintf(f, "{\"firkin_dump\":%d,\"seq\":%llu,\"version\":\"%s\"}\n", DUMP_VERSION,
                   (unsigned long long)seq, firkin_version_string()) < 0
               ? -1
               : 0;
  return put(f, "FIRKDUMP", 8) || put32(f, DUMP_VERSION) || put64(f, seq) ? -1 : 0;
}

int dump_ns(FILE *f, enum dump_kind kind, const char *name, uint32_t flags) {
  size_t n = strlen(name);
  if (kind == DUMP_JSONL) {
    struct buf b = {0};
    buf_adds(&b, "{\"ns\":");
    json_string(name, n, &b);
    if (flags & FIRKIN_NS_ORDERED) buf_adds(&b, ",\"ordered\":true");
    buf_adds(&b, "}\n");
    return putb(f, &b);
  }
  return put(f, "N", 1) || put32(f, (uint32_t)n) || put(f, name, n) || put32(f, flags) ? -1 : 0;
}

int dump_entry(FILE *f, enum dump_kind kind, const void *k, size_t kl, const void *v, size_t vl,
               uint64_t expiry) {
  if (kind == DUMP_JSONL) {
    struct buf b = {0};
    buf_adds(&b, "{\"k\":\"");
    base64_encode(k, kl, &b);
    buf_adds(&b, "\",\"v\":\"");
    base64_encode(v, vl, &b);
    buf_addc(&b, '"');
    if (expiry) {
      char x[40];
      snprintf(x, sizeof x, ",\"x\":%llu", (unsigned long long)expiry);
      buf_adds(&b, x);
    }
    buf_adds(&b, "}\n");
    return putb(f, &b);
  }
  return put(f, expiry ? "X" : "P", 1) || put32(f, (uint32_t)kl) || put32(f, (uint32_t)vl) ||
                 (expiry && put64(f, expiry)) || put(f, k, kl) || put(f, v, vl)
             ? -1
             : 0;
}

int dump_end(FILE *f, enum dump_kind kind, uint64_t namespaces, uint64_t entries) {
  if (kind == DUMP_JSONL)
    return fprintf(f, "{\"end\":true,\"namespaces\":%llu,\"entries\":%llu}\n",
                   (unsigned long long)namespaces, (unsigned long long)entries) < 0
               ? -1
               : 0;
  return put(f, "E", 1) || put32(f, (uint32_t)namespaces) || put64(f, entries) ? -1 : 0;
}

/* ---- reading ---------------------------------------------------------- */

static int bad(struct dump_reader *r, const char *why) {
  if (r->kind == DUMP_JSONL)
    return fail(EXIT_FAILURE_, "load: bad dump at line %llu: %s", (unsigned long long)r->line, why);
  return fail(EXIT_FAILURE_, "load: bad dump at byte %llu: %s", (unsigned long long)r->offset, why);
}

/* A read that failed (not the end of the input): says why, from errno (a
 * directory given as the input reads as EISDIR, not as an empty dump). */
static int read_error(void) {
  int e = errno;
  return fail(EXIT_FAILURE_, "load: cannot read the input%s%s", e ? ": " : "",
              e ? strerror(e) : "");
}

static int readn(struct dump_reader *r, void *p, size_t n, bool eof_ok) {
  size_t got = n ? fread(p, 1, n, r->f) : 0;
  r->offset += got;
  if (got == n) return 0;
  if (ferror(r->f)) return read_error();
  if (got == 0 && eof_ok) return -1;
  return bad(r, "truncated record");
}

static uint64_t le(const unsigned char *b, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

static int read_raw(struct dump_reader *r) {
  unsigned char t, b[16];  /* the longest fixed part: X, u32 + u32 + u64 */
  struct record *rec = &r->rec;
  int e = readn(r, &t, 1, true);
  if (e == -1) {
    rec->type = REC_EOF;
    return 0;
  }
  if (e) return e;
  if (t == 'N' || t == 'P' || t == 'X') {
    if ((e = readn(r, b, t == 'N' ? 4 : t == 'P' ? 8 : 16, false))) return e;
    size_t kl = (size_t)le(b, 4), vl = t != 'N' ? (size_t)le(b + 4, 4) : 0;
    rec->expiry = t == 'X' ? le(b + 8, 8) : 0;
    if (t == 'X' && rec->expiry == 0) return bad(r, "an entry with expiry 0");
    if (kl > (t == 'N' ? FIRKIN_MAX_NS_NAME : FIRKIN_MAX_KEY_SIZE) || vl > FIRKIN_MAX_VALUE_SIZE)
      return bad(r, "length above the limits");
    struct buf *k = t == 'N' ? &rec->name : &rec->key;
    k->len = 0;
    unsigned char *p = malloc(kl + vl + 1);
    if (p == NULL) return fail(EXIT_FAILURE_, "load: out of memory");
    if ((e = readn(r, p, kl + vl, false))) {
      free(p);
      return e;
    }
    buf_add(k, p, kl);
    rec->value.len = 0;
    buf_add(&rec->value, p + kl, vl); /* non-NULL even when empty */
    free(p);
    rec->ns_flags = 0;
    if (t == 'N' && r->rec.version >= 2) {
      if ((e = readn(r, b, 4, false))) return e;
      rec->ns_flags = (uint32_t)le(b, 4);
      if (rec->ns_flags & ~(uint32_t)FIRKIN_NS_ORDERED) return bad(r, "unknown namespace flags");
    }
    rec->type = t == 'N' ? REC_NS : REC_ENTRY;
    return 0;
  }
  if (t == 'E') {
    if ((e = readn(r, b, 12, false))) return e;
    rec->type = REC_END;
    rec->namespaces = le(b, 4);
    rec->entries = le(b + 4, 8);
    return 0;
  }
  return bad(r, "unknown record type");
}

/* ---- a minimal JSON object reader for the jsonl records ---------------- */

struct field {
  char name[16];
  enum { F_STR, F_NUM, F_BOOL } type;
  char *s;
  size_t n;
  uint64_t num;
};

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
  return p;
}

/* Parses a JSON string at p (after the quote) in place; returns the end. */
static char *parse_str(char *p, char **out, size_t *n) {
  char *w = p;
  *out = p;
  for (;;) {
    char ch = *p++;
    if (ch == 0) return NULL;
    if (ch == '"') break;
    if (ch != '\\') {
      *w++ = ch;
      continue;
    }
    ch = *p++;
    switch (ch) {
      case '"':
      case '\\':
      case '/':
        *w++ = ch;
        break;
      case 'n':
        *w++ = '\n';
        break;
      case 't':
        *w++ = '\t';
        break;
      case 'r':
        *w++ = '\r';
        break;
      case 'b':
        *w++ = '\b';
        break;
      case 'f':
        *w++ = '\f';
        break;
      case 'u': {
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
          char h = *p++;
          int d = h >= '0' && h <= '9'   ? h - '0'
                  : h >= 'a' && h <= 'f' ? h - 'a' + 10
                  : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                         : -1;
          if (d < 0) return NULL;
          v = v * 16 + (unsigned)d;
        }
        if (v >= 0x80) return NULL; /* the writer never produces these */
        *w++ = (char)v;
        break;
      }
      default:
        return NULL;
    }
  }
  *n = (size_t)(w - *out);
  return p;
}

static int parse_object(char *p, struct field *f, int max, int *nf) {
  *nf = 0;
  p = (char *)skip_ws(p);
  if (*p++ != '{') return -1;
  p = (char *)skip_ws(p);
  if (*p == '}') return *skip_ws(p + 1) ? -1 : 0;
  for (;;) {
    if (*nf == max || *p++ != '"') return -1;
    char *name;
    size_t nn;
    if ((p = parse_str(p, &name, &nn)) == NULL || nn >= sizeof f->name) return -1;
    if (memchr(name, 0, nn) != NULL) return -1;
    for (int i = 0; i < *nf; i++)
      if (strlen(f[i].name) == nn && memcmp(f[i].name, name, nn) == 0) return -1; /* twice */
    struct field *x = &f[(*nf)++];
    memcpy(x->name, name, nn);
    x->name[nn] = 0;
    p = (char *)skip_ws(p);
    if (*p++ != ':') return -1;
    p = (char *)skip_ws(p);
    if (*p == '"') {
      x->type = F_STR;
      if ((p = parse_str(p + 1, &x->s, &x->n)) == NULL) return -1;
    } else if (*p >= '0' && *p <= '9') {
      x->type = F_NUM;
      x->num = 0;
      while (*p >= '0' && *p <= '9') {
        const uint64_t d = (uint64_t)(*p++ - '0');
        if (x->num > (UINT64_MAX - d) / 10) return -1; /* above 2^64 - 1 */
        x->num = x->num * 10 + d;
      }
    } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
      x->type = F_BOOL;
      x->num = *p == 't';
      p += *p == 't' ? 4 : 5;
    } else {
      return -1;
    }
    p = (char *)skip_ws(p);
    if (*p == '}') return *skip_ws(p + 1) ? -1 : 0;
    if (*p++ != ',') return -1;
    p = (char *)skip_ws(p);
  }
}

static struct field *get(struct field *f, int n, const char *name, int type) {
  for (int i = 0; i < n; i++)
    if (strcmp(f[i].name, name) == 0) return (int)f[i].type == type ? &f[i] : NULL;
  return NULL;
}

static int read_jsonl(struct dump_reader *r) {
  struct record *rec = &r->rec;
  ssize_t len;
  do {
    errno = 0;
    len = getline(&r->linebuf, &r->linecap, r->f);
    if (len < 0) {
      if (ferror(r->f)) return read_error();
      /* Out of memory on a line too long (a hostile dump) is not the end of
       * the input: taken for one until the review of the CLI, the batch
       * before it was loaded and the dump called truncated. */
      if (!feof(r->f) || errno == ENOMEM) {
        r->line++;
        return bad(r, "a line too long to read (out of memory)");
      }
      rec->type = REC_EOF;
      return 0;
    }
    r->line++;
    r->offset += (uint64_t)len;
  } while (*skip_ws(r->linebuf) == 0); /* blank lines are allowed */
  if ((size_t)len != strlen(r->linebuf)) return bad(r, "NUL byte in a line");
  struct field f[8];
  int nf;
  if (parse_object(r->linebuf, f, 8, &nf) != 0)
    return bad(r, r->linebuf[len - 1] != '\n'
                      ? "the dump is truncated (its last line is incomplete)"
                      : "not a dump record (JSON object)");
  /* The record's kind is named by one field; every other field must be
   * one that kind has (a record mixing kinds is refused, not guessed). */
  struct field *x;
  const char *allowed;
  if ((x = get(f, nf, "firkin_dump", F_NUM)) != NULL) {
    allowed = " firkin_dump seq version ";
    if (x->num != 1 && x->num != 2) return bad(r, "unsupported dump version");
    rec->type = REC_HEADER;
    rec->version = (uint32_t)x->num;
    x = get(f, nf, "seq", F_NUM);
    rec->seq = x ? x->num : 0;
  } else if ((x = get(f, nf, "ns", F_STR)) != NULL) {
    allowed = " ns ordered ";
    rec->type = REC_NS;
    rec->name.len = 0;
    buf_add(&rec->name, x->s, x->n);
    x = get(f, nf, "ordered", F_BOOL);
    rec->ns_flags = x && x->num ? FIRKIN_NS_ORDERED : 0;
  } else if ((x = get(f, nf, "k", F_STR)) != NULL) {
    allowed = " k v x ";
    struct field *v = get(f, nf, "v", F_STR);
    if (v == NULL) return bad(r, "entry without a \"v\" string");
    rec->type = REC_ENTRY;
    rec->key.len = rec->value.len = 0;
    if (base64_decode(x->s, x->n, &rec->key) != 0 || base64_decode(v->s, v->n, &rec->value) != 0)
      return bad(r, "bad base64");
    buf_add(&rec->value, NULL, 0); /* a non-NULL pointer even when empty */
    x = get(f, nf, "x", F_NUM);
    rec->expiry = x ? x->num : 0;
    if (x && x->num == 0) return bad(r, "an entry with expiry 0");
  } else if ((x = get(f, nf, "end", F_BOOL)) != NULL) {
    allowed = " end namespaces entries ";
    if (!x->num) return bad(r, "an end record must say \"end\":true");
    struct field *a = get(f, nf, "namespaces", F_NUM), *b = get(f, nf, "entries", F_NUM);
    if (a == NULL || b == NULL) return bad(r, "end record without counts");
    rec->type = REC_END;
    rec->namespaces = a->num;
    rec->entries = b->num;
  } else {
    return bad(r, "unknown record");
  }
  for (int i = 0; i < nf; i++) {
    char name[sizeof f[i].name + 3];
    const size_t nl = strlen(f[i].name);
    name[0] = ' ';
    memcpy(name + 1, f[i].name, nl);
    name[nl + 1] = ' ';
    name[nl + 2] = 0;
    /* (a known field of the wrong type was not found by get: refused too) */
    if (strstr(allowed, name) == NULL) return bad(r, "a field this record kind does not have");
  }
  for (int i = 0; i < nf; i++) {
    static const struct {
      const char *name;
      int type;
    } types[] = {{"firkin_dump", F_NUM}, {"seq", F_NUM},     {"version", F_STR},
                 {"ns", F_STR},          {"ordered", F_BOOL}, {"k", F_STR},
                 {"v", F_STR},           {"x", F_NUM},        {"end", F_BOOL},
                 {"namespaces", F_NUM},  {"entries", F_NUM}};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
      if (strcmp(types[t].name, f[i].name) == 0 && types[t].type != (int)f[i].type)
        return bad(r, "a field of the wrong type");
  }
  return 0;
}

int dump_reader_open(struct dump_reader *r, FILE *f) {
  memset(r, 0, sizeof *r);
  r->f = f;
  int c = getc(f);
  /* jsonl allows blank lines, the first ones too (raw starts with 'F') */
  while (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
    r->offset++;
    if (c == '\n') r->line++;
    c = getc(f);
  }
  if (c == EOF && ferror(f)) return read_error();
  if (c == EOF) return fail(EXIT_FAILURE_, "load: the input is empty (not a dump)");
  ungetc(c, f);
  if (c == '{' || r->offset > 0) {
    r->kind = DUMP_JSONL;
    int e = read_jsonl(r);
    if (e) return e;
    if (r->rec.type != REC_HEADER) return bad(r, "the first line is not a dump header");
    return 0;
  }
  r->kind = DUMP_RAW;
  unsigned char h[20];
  size_t got = fread(h, 1, 8, f);
  r->offset = got;
  if (got != 8 || memcmp(h, "FIRKDUMP", 8) != 0)
    return fail(EXIT_FAILURE_, "load: the input is not a Firkin dump (jsonl or raw)");
  int e = readn(r, h + 8, sizeof h - 8, false);
  if (e) return e;
  if (le(h + 8, 4) != 1 && le(h + 8, 4) != 2) return bad(r, "unsupported dump version");
  r->rec.type = REC_HEADER;
  r->rec.version = (uint32_t)le(h + 8, 4);
  r->rec.seq = le(h + 12, 8);
  return 0;
}

int dump_read(struct dump_reader *r) { return r->kind == DUMP_JSONL ? read_jsonl(r) : read_raw(r); }

void dump_reader_close(struct dump_reader *r) {
  free(r->linebuf);
  buf_free(&r->rec.name);
  buf_free(&r->rec.key);
  buf_free(&r->rec.value);
}
