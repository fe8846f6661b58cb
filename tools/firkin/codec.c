/* codec.c — byte buffers and the key/value encodings of the CLI: text (UTF-8
 * with the escapes \\ \n \r \t \0 \xNN for anything that is not printable
 * UTF-8: see text_encode), hex, base64 and raw. Encoding then decoding gives the same bytes
 * back for every codec, so printed keys can be pasted into the next command.
 * Pure functions; no shared state. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void buf_free(struct buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

void buf_add(struct buf *b, const void *p, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (q == NULL) {
      fprintf(stderr, "firkin: out of memory\n");
      exit(EXIT_FAILURE_);
    }
    b->p = q;
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = 0; /* always NUL-terminated, for text use */
}

void buf_addc(struct buf *b, unsigned char c) { buf_add(b, &c, 1); }
void buf_adds(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

bool parse_codec(const char *s, enum codec *out) {
  static const char *const names[] = {"text", "hex", "base64", "raw"};
  for (int i = 0; i < 4; i++) {
    if (strcmp(s, names[i]) == 0) {
      *out = (enum codec)i;
      return true;
    }
  }
  return false;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const void *p, size_t n, struct buf *out) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16;
    if (i + 1 < n) v |= (unsigned)s[i + 1] << 8;
    if (i + 2 < n) v |= s[i + 2];
    char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63], i + 1 < n ? b64[(v >> 6) & 63] : '=',
                 i + 2 < n ? b64[v & 63] : '='};
    buf_add(out, q, 4);
  }
}

int base64_decode(const char *s, size_t n, struct buf *out) {
  if (n % 4) return -1;
  for (size_t i = 0; i < n; i += 4) {
    unsigned v = 0;
    int pad = 0;
    for (int j = 0; j < 4; j++) {
      char ch = s[i + j];
      const char *at = ch ? strchr(b64, ch) : NULL;
      if (ch == '=' && i + 4 == n && j >= 2 && (j == 3 || s[i + 3] == '=')) {
        pad++;
        v <<= 6;
      } else if (at != NULL && pad == 0) {
        v = (v << 6) | (unsigned)(at - b64);
      } else {
        return -1;
      }
    }
    unsigned char q[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
    buf_add(out, q, (size_t)(3 - pad));
  }
  return 0;
}

/* Length of the valid UTF-8 sequence of 2..4 bytes at p (0 if none). */
static size_t utf8_seq(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F; /* no surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return len;
}

/* The code point of the valid sequence of len (2..4) bytes at p. */
static uint32_t utf8_cp(const unsigned char *p, size_t len) {
  uint32_t cp = p[0] & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < len; i++) cp = cp << 6 | (p[i] & 0x3F);
  return cp;
}

/* Valid UTF-8 that is still not printed as it is: a terminal or a reader
 * would not show it as the text it is, or would break the line on it.
 *  - C1 controls U+0080..U+009F (U+0085 NEL ends a line for some readers,
 *    U+009B is an 8-bit CSI to some terminals);
 *  - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR (line ends to
 *    Python's str.splitlines, JavaScript, editors);
 *  - the bidirectional controls (Unicode's Bidi_Control: U+061C, U+200E,
 *    U+200F, U+202A..U+202E, U+2066..U+2069), which reorder what follows
 *    them on screen ("Trojan Source");
 *  - the invisible U+200B ZERO WIDTH SPACE and U+FEFF (BOM / zero width
 *    no-break space);
 *  - the noncharacters U+FDD0..U+FDEF and U+nFFFE, U+nFFFF of every plane.
 * U+200C/U+200D (ZWNJ, ZWJ) are kept: ordinary text in Persian or Indic
 * scripts and emoji sequences holds them. */
static bool unprintable(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0x061C ||
         cp == 0x200B || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF || (cp >= 0xFDD0 && cp <= 0xFDEF) ||
         (cp & 0xFFFE) == 0xFFFE;
}

/* Printable UTF-8 as it is; everything else \xNN per byte (or \\ \n \r
 * \t), which decode_arg reads back to the same bytes. */
static void text_encode(const unsigned char *p, size_t n, struct buf *out) {
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t len = utf8_seq(p + i, n - i);
      if (len && !unprintable(utf8_cp(p + i, len))) {
        buf_add(out, p + i, len);
        i += len;
        continue;
      }
      if (len) { /* valid but unprintable: every byte of it escaped */
        for (size_t j = 0; j < len; j++) {
          char esc[5];
          snprintf(esc, sizeof esc, "\\x%02x", p[i + j]);
          buf_adds(out, esc);
        }
        i += len;
        continue;
      }
    }
    char esc[5];
    if (c == '\\') {
      buf_adds(out, "\\\\");
    } else if (c == '\n') {
      buf_adds(out, "\\n");
    } else if (c == '\r') {
      buf_adds(out, "\\r");
    } else if (c == '\t') {
      buf_adds(out, "\\t");
    } else if (c < 0x20 || c >= 0x7F) {
      snprintf(esc, sizeof esc, "\\x%02x", c);
      buf_adds(out, esc);
    } else {
      buf_addc(out, c);
    }
    i++;
  }
}

void encode(enum codec codec, const void *p, size_t n, struct buf *out) {
  const unsigned char *s = p;
  switch (codec) {
    case CODEC_TEXT:
      text_encode(s, n, out);
      break;
    case CODEC_HEX:
      for (size_t i = 0; i < n; i++) {
        char h[3];
        snprintf(h, sizeof h, "%02x", s[i]);
        buf_add(out, h, 2);
      }
      break;
    case CODEC_BASE64:
      base64_encode(s, n, out);
      break;
    case CODEC_RAW:
      buf_add(out, s, n);
      break;
  }
}

void json_string(const char *s, size_t n, struct buf *out) {
  buf_addc(out, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      buf_addc(out, '\\');
      buf_addc(out, c);
    } else if (c < 0x20) {
      char u[7];
      snprintf(u, sizeof u, "\\u%04x", c);
      buf_adds(out, u);
    } else {
      buf_addc(out, c);
    }
  }
  buf_addc(out, '"');
}

void encode_json(enum codec codec, const void *p, size_t n, struct buf *out) {
  struct buf t = {0};
  /* raw bytes have no JSON form: JSON output of raw is base64 */
  encode(codec == CODEC_RAW ? CODEC_BASE64 : codec, p, n, &t);
  json_string((const char *)t.p, t.len, out);
  buf_free(&t);
}

int decode_arg(enum codec codec, const char *s, struct buf *out, const char *what) {
  size_t n = strlen(s);
  switch (codec) {
    case CODEC_RAW:
      buf_add(out, s, n);
      return 0;
    case CODEC_BASE64:
      if (base64_decode(s, n, out) != 0)
        return usage_error("%s is not valid base64: '%s'", what, s);
      return 0;
    case CODEC_HEX:
      if (n % 2) return usage_error("%s is not valid hex (odd length): '%s'", what, s);
      for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) return usage_error("%s is not valid hex: '%s'", what, s);
        buf_addc(out, (unsigned char)(hi * 16 + lo));
      }
      return 0;
    case CODEC_TEXT:
      for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
          buf_addc(out, (unsigned char)s[i]);
          continue;
        }
        char e = s[++i];
        /* a lone backslash at the end (e is the terminating NUL) */
        if (e == 0)
          return usage_error(
              "%s: incomplete escape: a lone '\\' at the end (write \\\\ for a "
              "backslash): '%s'",
              what, s);
        switch (e) {
          case '\\':
            buf_addc(out, '\\');
            break;
          case 'n':
            buf_addc(out, '\n');
            break;
          case 'r':
            buf_addc(out, '\r');
            break;
          case 't':
            buf_addc(out, '\t');
            break;
          case '0':
            buf_addc(out, 0);
            break;
          case 'x': {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
              return usage_error("%s: bad \\x escape (two hex digits expected): '%s'", what, s);
            buf_addc(out, (unsigned char)(hi * 16 + lo));
            i += 2;
            break;
          }
          default:
            return usage_error(
                "%s: unknown escape '\\%c' (text keys and values understand "
                "\\\\ \\n \\r \\t \\0 \\xNN; or use --format hex|base64): '%s'",
                what, e, s);
        }
      }
      return 0;
  }
  return 0;
}
