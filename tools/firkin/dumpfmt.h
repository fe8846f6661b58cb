/* dumpfmt.h — the two dump formats of `firkin dump` / `firkin load`
 * (docs/cli.md has the full description):
 *
 *  jsonl: one JSON object per line.
 *    {"firkin_dump":1,"seq":N,"version":"0.1.0"}   header (first line)
 *    {"ns":"NAME"}                                  the following entries' namespace
 *    {"k":"BASE64","v":"BASE64"}                    one entry
 *    {"end":true,"namespaces":N,"entries":N}       end record (last line)
 *  raw: little-endian binary.
 *    "FIRKDUMP" u32 version(1) u64 seq              header
 *    'N' u32 len NAME                               namespace
 *    'P' u32 klen u32 vlen KEY VALUE                entry
 *    'E' u32 namespaces u64 entries                 end record
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
  struct buf name;              /* ns */
  struct buf key, value;        /* entry */
  uint64_t namespaces, entries; /* end */
};

void dump_header(FILE *f, enum dump_kind kind, uint64_t seq);
void dump_ns(FILE *f, enum dump_kind kind, const char *name);
void dump_entry(FILE *f, enum dump_kind kind, const void *k, size_t kl, const void *v, size_t vl);
void dump_end(FILE *f, enum dump_kind kind, uint64_t namespaces, uint64_t entries);

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
