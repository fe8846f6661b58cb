/* dumpfmt.h — the two dump formats of `firkin dump` / `firkin load`
 * (docs/cli.md has the full description):
 *
 *  jsonl: one JSON object per line.
 *    {"firkin_dump":2,"seq":N,"version":"0.1.0"}   header (first line)
 *    {"ns":"NAME"[,"ordered":true]}                 the following entries' namespace
 *    {"k":"BASE64","v":"BASE64"[,"x":MS]}           one entry (x: absolute expiry)
 *    {"end":true,"namespaces":N,"entries":N}       end record (last line)
 *  raw: little-endian binary.
 *    "FIRKDUMP" u32 version(2) u64 seq              header
 *    'N' u32 len NAME u32 flags                     namespace (version 1: no flags)
 *    'P' u32 klen u32 vlen KEY VALUE                entry
 *    'X' u32 klen u32 vlen u64 expiry KEY VALUE     entry with an expiry (ms, unix)
 *    'E' u32 namespaces u64 entries                 end record
 *  Version 1 dumps (no flags, no expiries) are read too.
 *
 * A writer streams records to a FILE; a reader yields them one at a time.
 * Neither is shared between threads. */
#ifndef FIRKIN_CLI_DUMPFMT_H
#define FIRKIN_CLI_DUMPFMT_H

#include "cli.h"

enum dump_kind { DUMP_JSONL, DUMP_RAW };

enum rec_type { REC_HEADER, REC_NS, REC_ENTRY, REC_END, REC_EOF };

/* One record read back. key/value/name point into the reader's buffers,
 * valid until the next read. */
struct record {
  enum rec_type type;
  uint64_t seq;                 /* header */
  uint32_t version;             /* header: the dump format version (1 or 2) */
  struct buf name;              /* ns */
  uint32_t ns_flags;            /* ns: FIRKIN_NS_ORDERED or 0 */
  struct buf key, value;        /* entry */
  uint64_t expiry;              /* entry: unix ms it expires at; 0 = never */
  uint64_t namespaces, entries; /* end */
};

/* The writers return 0, or -1 (errno set) if a write failed. */
int dump_header(FILE *f, enum dump_kind kind, uint64_t seq);
/* The format version written (readers take 1 and 2). */
#define DUMP_VERSION 2
int dump_ns(FILE *f, enum dump_kind kind, const char *name, uint32_t flags);
/* expiry: unix ms the entry expires at (0: never). */
int dump_entry(FILE *f, enum dump_kind kind, const void *k, size_t kl, const void *v, size_t vl,
               uint64_t expiry);
int dump_end(FILE *f, enum dump_kind kind, uint64_t namespaces, uint64_t entries);

/* A reader; the format is recognised from the first byte. */
struct dump_reader {
  FILE *f;
  enum dump_kind kind;
  uint64_t line;   /* jsonl: line number, for messages */
  uint64_t offset; /* bytes consumed */
  char *linebuf;
  size_t linecap;
  struct record rec;
};

/* Opens: reads and checks the header into r->rec. Exit code; prints why. */
int dump_reader_open(struct dump_reader *r, FILE *f);
/* The next record into r->rec (REC_EOF at the end of the input). Exit code. */
int dump_read(struct dump_reader *r);
void dump_reader_close(struct dump_reader *r);

#endif /* FIRKIN_CLI_DUMPFMT_H */
