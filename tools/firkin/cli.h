/* cli.h — shared declarations of the `firkin` command-line tool.
 *
 * The tool uses only the public C API (firkin.h). It is single-threaded
 * (library progress callbacks run on the calling thread).
 * Every command is a function `int cmd_xxx(struct cli *c)` returning one of
 * the exit codes below (docs/cli.md lists them). */
#ifndef FIRKIN_CLI_H
#define FIRKIN_CLI_H

#include <firkin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (stable; documented in docs/cli.md and `firkin help`). */
enum {
  EXIT_OK_ = 0,        /* success */
  EXIT_NOT_FOUND = 1,  /* the key or namespace is absent */
  EXIT_USAGE = 2,      /* bad command line or bad input text (nothing done) */
  EXIT_FAILURE_ = 3,   /* the operation failed (I/O, busy, bad dump file, ...) */
  EXIT_CORRUPTION = 4, /* the database is damaged (verify found problems) */
  /* (5 was "not available in this version", for `changes` before it was
   * built; no command returns it now, and it is not reused.) */
};

/* How keys and values are written on the command line and printed. */
enum codec { CODEC_TEXT, CODEC_HEX, CODEC_BASE64, CODEC_RAW };

/* A growable byte buffer (owned; free with buf_free). */
struct buf {
  unsigned char *p;
  size_t len, cap;
};
void buf_free(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, unsigned char c);
void buf_adds(struct buf *b, const char *s);

/* The parsed command line. Options may appear anywhere; `--` ends them. */
struct cli {
  const char *cmd;   /* the command name */
  const char **args; /* positional arguments after the command */
  int nargs;
  enum codec key_codec, value_codec;
  bool json;               /* --json: machine-readable output */
  const char *ns;          /* --ns NAME (NULL: default namespace) */
  const char *prefix;      /* --prefix KEY (scan, count) */
  uint64_t limit;          /* --limit N (scan, changes; UINT64_MAX = no limit, 0 = none) */
  bool keys_only;          /* --keys-only (scan) */
  bool value_stdin;        /* --stdin (put: value read from standard input) */
  const char *output;      /* --output FILE (dump) */
  const char *input;       /* --input FILE (load) */
  const char *dump_format; /* --dump-format jsonl|raw */
  int progress;            /* -1 auto (stderr is a terminal), 0 off, 1 on */
  bool writable;           /* --write: open read commands writable */
  bool no_verify;          /* backup/restore: --no-verify */
  bool full;               /* backup: --full (not incremental) */
  bool copy;               /* backup: --copy (no hard links) */
  bool no_checkpoint;      /* backup/restore: --no-checkpoint */
  uint64_t since;           /* --since N (changes) */
  bool follow;              /* --follow (changes) */
  const char *opts[32];    /* -O NAME=VALUE, passed to firkin_options_set */
  int nopts;
  /* encryption (cmd_crypt.c): the current key, and the new one for rekey */
  const char *key_file, *passphrase_env;         /* --key-file, --passphrase-env */
  const char *new_key_file, *new_passphrase_env; /* --new-key-file, --new-passphrase-env */
  /* changes: standard output's reader went away (EPIPE), the normal end of
   * a followed feed: main does not report the close of stdout as a failure */
  bool output_gone;
};

/* Errors: print "firkin: ..." to stderr and return the exit code. */
int usage_error(const char *fmt, ...);
int fail(int code, const char *fmt, ...);
/* The exit code for a library status; prints what failed and the message. */
int lib_error(firkin_status st, const char *what);

/* Standard output. Every write is checked: glibc's fwrite of a block larger
 * than the stdio buffer writes it directly, and the fflush of the then empty
 * buffer at exit reports nothing, so only the write itself sees the error.
 * out_write / out_printf return 0, or -1 with errno set; output_failed
 * prints "cannot write the output: ..." from errno and returns exit 3.
 * main also checks the close of stdout (the last buffered bytes). */
int out_write(const void *p, size_t n);
int out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int output_failed(void);
/* 0, or a usage error (exit 2) for a namespace name the library would refuse
 * (1..FIRKIN_MAX_NS_NAME bytes of [A-Za-z0-9_.-]): checked before a command
 * opens or creates anything. */
int check_ns_name(const char *name);

/* Applies the -O NAME=VALUE options to o; exit code. */
int apply_options(struct cli *c, firkin_options *o);
/* Opens the database at c->args[0]: read-only unless `write` (or --write),
 * created if missing when `create`. Returns an exit code (0 = opened). */
int open_db(struct cli *c, bool write, bool create, firkin_db **out);
/* cmd_crypt.c: sets the key or passphrase of --key-file / --passphrase-env
 * (new_key: --new-key-file / --new-passphrase-env) on o; exit code. */
int apply_key(struct cli *c, firkin_options *o, bool new_key);
/* Opens c->ns (NULL handle for the default namespace); exit code. */
int open_ns(struct cli *c, firkin_db *db, bool create, firkin_ns **out);

/* codec.c: decode a command-line argument into bytes (exit code), encode
 * bytes for output. Text accepts and produces the escapes \\ \n \r \t \xNN. */
int decode_arg(enum codec codec, const char *s, struct buf *out, const char *what);
void encode(enum codec codec, const void *p, size_t n, struct buf *out);
/* A JSON string literal holding the encoded bytes. */
void encode_json(enum codec codec, const void *p, size_t n, struct buf *out);
void json_string(const char *s, size_t n, struct buf *out);
int base64_decode(const char *s, size_t n, struct buf *out); /* 0 or -1 */
void base64_encode(const void *p, size_t n, struct buf *out);
bool parse_codec(const char *s, enum codec *out);

/* progress.c: a progress line on stderr when c->progress says so. */
struct progress;
struct progress *progress_start(const struct cli *c, const char *what, const char *unit,
                                uint64_t total);
void progress_update(struct progress *p, uint64_t done, uint64_t bytes);
/* The final line with the totals (if anything was shown), then frees p. */
void progress_done(struct progress *p, uint64_t done, uint64_t bytes);
/* A byte progress bar fed by a library progress callback (firkin_progress_fn,
 * firkin_backup_progress_fn): pass lib_progress_cb with a struct lib_progress
 * as its context; the bar starts at the first call, which brings the total.
 * lib_progress_end draws the final line (if anything was shown). */
struct lib_progress {
  const struct cli *c;
  const char *what;
  struct progress *p;
  uint64_t done;
};
void lib_progress_cb(void *ctx, uint64_t done, uint64_t total);
void lib_progress_end(struct lib_progress *lp);

/* Commands. */
int cmd_get(struct cli *c);
int cmd_put(struct cli *c);
int cmd_del(struct cli *c);
int cmd_scan(struct cli *c);
int cmd_count(struct cli *c);
int cmd_ns(struct cli *c);
int cmd_stats(struct cli *c);
int cmd_verify(struct cli *c);
int cmd_compact(struct cli *c);
int cmd_checkpoint(struct cli *c);
int cmd_dump(struct cli *c);
int cmd_load(struct cli *c);
int cmd_backup(struct cli *c);
int cmd_restore(struct cli *c);
int cmd_changes(struct cli *c);
int cmd_rekey(struct cli *c);

#endif /* FIRKIN_CLI_H */
