/* main.c — the `firkin` command-line tool: option parsing, help, dispatch,
 * and the helpers every command shares (errors, opening the database).
 * Uses only the public C API (firkin.h). Single-threaded. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct command {
  const char *name;
  int (*run)(struct cli *c);
  int min_args, max_args; /* positional arguments, the database included */
  const char *synopsis;
  const char *help;
};

static const struct command commands[] = {
    {"get", cmd_get, 2, 2, "get DB KEY",
     "Prints the value of KEY (exit 1 if absent). --format raw prints the exact bytes,\n"
     "without a newline. Read-only open."},
    {"put", cmd_put, 2, 3, "put DB KEY VALUE | put DB KEY --stdin",
     "Stores VALUE under KEY (--stdin: the value is standard input, verbatim).\n"
     "Creates the database if missing."},
    {"del", cmd_del, 2, 2, "del DB KEY", "Removes KEY (exit 1 if it was absent)."},
    {"scan", cmd_scan, 1, 1, "scan DB [--prefix KEY] [--limit N] [--keys-only]",
     "Prints every key and value of the namespace, one per line (KEY<TAB>VALUE), in no\n"
     "particular order, at one snapshot. --prefix keeps keys starting with KEY (encoded\n"
     "with --format like any key); --limit stops after N entries (0: prints nothing).\n"
     "--json: JSON lines {\"key\":...,\"value\":...}. Read-only open."},
    {"count", cmd_count, 1, 1, "count DB [--prefix KEY]",
     "Prints the number of live keys of the namespace (with --prefix: of those keys,\n"
     "counted by a scan). Read-only open."},
    {"ns", cmd_ns, 2, 3, "ns list DB | ns create DB NAME | ns drop DB NAME",
     "Lists (read-only), creates or drops namespaces. Dropping a namespace deletes all\n"
     "its keys; dropping an absent one exits 1. ns create never creates a database: on\n"
     "a path with none it exits 3, like ns drop (put -n NAME creates both)."},
    {"stats", cmd_stats, 1, 1, "stats DB",
     "Prints the database's statistics (a JSON object). Read-only open."},
    {"verify", cmd_verify, 1, 1, "verify DB",
     "Checks every record, index entry and the namespace table without a writer and\n"
     "without modifying anything; prints the report (JSON with --json, else a summary).\n"
     "Exit 4 if damage was found."},
    {"compact", cmd_compact, 1, 1, "compact DB",
     "Compacts now: rewrites every sealed segment that holds dead bytes."},
    {"checkpoint", cmd_checkpoint, 1, 1, "checkpoint DB",
     "Writes an index checkpoint now (the next open replays only what follows it)."},
    {"dump", cmd_dump, 1, 1, "dump DB [-o FILE] [--dump-format jsonl|raw] [--ns NAME]",
     "Writes every namespace (or only --ns NAME) at one snapshot to FILE (default:\n"
     "standard output) in a lossless, streamable format (docs/cli.md): JSON lines with\n"
     "base64 keys and values (jsonl, the default), or length-prefixed binary (raw).\n"
     "Read-only open."},
    {"load", cmd_load, 1, 1, "load DB [-i FILE]",
     "Reads a dump (either format, recognised by its first bytes) from FILE (default:\n"
     "standard input) and writes it into DB in atomic batches, creating the database\n"
     "and namespaces as needed. A dump without its end record is refused at the end\n"
     "(exit 3) after loading what came before it."},
    {"backup", cmd_backup, 2, 2,
     "backup DB DEST [--full] [--copy] [--no-verify] [--no-checkpoint]",
     "Copies the database into directory DEST as of one snapshot, while other readers\n"
     "may keep reading (firkin_backup; opens DB read-only, --write to open it writable).\n"
     "DEST is created, or must be empty or an earlier complete backup of the same\n"
     "database that was not opened for writing since: then only what is new is copied\n"
     "(--full: everything again). Anything else (a database, a restored database,\n"
     "another database's backup, a backup written to since) is refused with exit 3 and\n"
     "left unchanged. Sealed segments are hard-linked on the same file system (--copy:\n"
     "always copied). The copy is verified (--no-verify: not) before it is marked\n"
     "complete; an interrupted backup leaves DEST marked incomplete (it does not open)\n"
     "until a backup completes it."},
    {"restore", cmd_restore, 2, 2, "restore BACKUP DEST [--no-verify] [--no-checkpoint]",
     "Copies the backup in BACKUP (left unchanged) into DEST, which must be new or\n"
     "empty, as a database of its own (with a database id of its own: never taken for\n"
     "the source or a backup of it), and verifies it (firkin_restore). A backup is also\n"
     "a database: it may be opened in place (written to, it is no longer a backup that\n"
     "backup adds to)."},
    {"changes", cmd_changes, 1, 1, "changes DB [--since N] [--follow] [--limit N]",
     "Prints the committed changes after sequence number N (default 0: from the first),\n"
     "in order, one per line: SEQ, TYPE (put, delete, ns_create, ns_drop, batch_begin,\n"
     "batch_end), then NS, KEY and VALUE where the change has them, tab-separated.\n"
     "--json: JSON lines {\"seq\":...,\"type\":...,\"ns\":...,\"key\":...,\"value\":...}.\n"
     "--follow keeps waiting for new changes until interrupted or until the reader of\n"
     "its output goes away (exit 0), following a writer process's writes as it makes\n"
     "them durable (a read-only open, refreshed). --limit stops after N changes (0:\n"
     "prints nothing). Exit 3 if the changes after N are no longer retained (history\n"
     "compacted away; see the change_retention_* options). Read-only open."},
    {"rekey", cmd_rekey, 1, 1,
     "rekey DB (--key-file F | --passphrase-env V) (--new-key-file F | --new-passphrase-env V)",
     "Changes the key of an encrypted database (firkin_rekey): the data key is unwrapped\n"
     "with the current key and wrapped again under the new one; KEYS is replaced\n"
     "atomically. The database must not be open for writing. The data key itself stays\n"
     "the same (see docs/format.md, \"Encryption\"): to re-encrypt everything, dump into\n"
     "a new database. -O kdf_memory_kib=/kdf_passes=/kdf_lanes= set the new passphrase's\n"
     "Argon2id cost."},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char options_help[] =
    "Options (anywhere on the line; -- ends them):\n"
    "  -f, --format FMT        keys and values as text (default), hex, base64 or raw\n"
    "      --key-format FMT    only keys;  --value-format FMT  only values\n"
    "                          text understands and prints \\\\ \\n \\r \\t \\0 \\xNN\n"
    "  -j, --json              machine-readable output\n"
    "  -n, --ns NAME           the namespace (default: \"default\")\n"
    "      --prefix KEY        scan/count: only keys starting with KEY\n"
    "      --limit N           scan, changes: at most N entries (0: none)\n"
    "      --keys-only         scan: keys only\n"
    "      --since N           changes: after sequence number N\n"
    "      --follow            changes: keep waiting for new changes\n"
    "      --stdin             put: the value is standard input\n"
    "  -o, --output FILE       dump only: write to FILE\n"
    "  -i, --input FILE        load only: read from FILE\n"
    "      --dump-format F     dump: jsonl (default) or raw\n"
    "  -O, --option NAME=VAL   a database option (firkin_options_set), e.g. -O sync_mode=always\n"
    "      --key-file FILE     an encrypted database's key: 32 bytes or 64 hex digits\n"
    "      --passphrase-env V  ... or its passphrase, read from environment variable V\n"
    "      --new-key-file FILE, --new-passphrase-env V   rekey: the new key\n"
    "  -w, --write             open read commands writable (they open read-only by default)\n"
    "      --full, --copy      backup: copy everything again / never hard-link\n"
    "      --no-verify         backup, restore: do not verify the copy\n"
    "      --no-checkpoint     backup, restore: leave the index checkpoint out\n"
    "      --progress, --no-progress   force the progress line on or off (default: on\n"
    "                          when stderr is a terminal, for dump, load, verify, compact,\n"
    "                          backup, restore)\n"
    "  -h, --help              this help;  --version  the versions\n";

static const char exit_help[] =
    "Exit status: 0 ok, 1 not found (key or namespace), 2 usage error, 3 failure,\n"
    "4 the database is damaged.\n";

static void print_usage(FILE *f) {
  fprintf(f, "usage: firkin COMMAND DB [ARGS] [OPTIONS]\n\nCommands:\n");
  for (size_t i = 0; i < NCOMMANDS; i++) {
    fprintf(f, "  %s\n", commands[i].synopsis);
  }
  fprintf(f, "  help [COMMAND]\n\n%s\n%s", options_help, exit_help);
  fprintf(f, "See `firkin help COMMAND` and docs/cli.md.\n");
}

static const struct command *find(const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

static int help(const char *topic) {
  if (topic == NULL) {
    print_usage(stdout);
    return EXIT_OK_;
  }
  if (strcmp(topic, "help") == 0) {
    printf("usage: firkin help [COMMAND]\n\nPrints the usage of COMMAND, or of every command.\n");
    return EXIT_OK_;
  }
  const struct command *cmd = find(topic);
  if (cmd == NULL) return usage_error("no such command: '%s' (see firkin --help)", topic);
  printf("usage: firkin %s\n\n%s\n\n%s\n%s", cmd->synopsis, cmd->help, options_help, exit_help);
  return EXIT_OK_;
}

/* Writes s to stderr with control bytes (and DEL) as \xNN: a message may
 * quote a name or path taken from a file or the command line, and until the
 * review of the CLI a dump's namespace name could put terminal escapes and
 * forged lines ("firkin: load ok") into the output. */
static void put_message(const char *s) {
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch < 0x20 || ch == 0x7f) fprintf(stderr, "\\x%02x", ch);
    else fputc(ch, stderr);
  }
}

static void vmessage(const char *fmt, va_list ap) {
  char small[512];
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  fputs("firkin: ", stderr);
  if (n >= 0 && (size_t)n < sizeof small) {
    put_message(small);
  } else if (n >= 0) {
    char *big = malloc((size_t)n + 1);
    if (big != NULL) {
      vsnprintf(big, (size_t)n + 1, fmt, again);
      put_message(big);
      free(big);
    } else {
      put_message(small);
    }
  }
  va_end(again);
  fputc('\n', stderr);
}

int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap);
  va_end(ap);
  return EXIT_USAGE;
}

int fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap);
  va_end(ap);
  return code;
}

static void message(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap);
  va_end(ap);
}

int lib_error(firkin_status st, const char *what) {
  const char *msg = firkin_last_error();
  message("%s: %s%s%s", what, firkin_strerror(st), msg && *msg ? ": " : "", msg ? msg : "");
  switch (st) {
    case FIRKIN_E_NOT_FOUND:
    case FIRKIN_E_NAMESPACE_NOT_FOUND:
      return EXIT_NOT_FOUND;
    case FIRKIN_E_INVALID_ARGUMENT:
    case FIRKIN_E_TOO_LARGE:
      return EXIT_USAGE;
    case FIRKIN_E_CORRUPTION:
      return EXIT_CORRUPTION;
    default:
      return EXIT_FAILURE_;
  }
}

int out_write(const void *p, size_t n) {
  if (n == 0) return 0;
  errno = 0;
  return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

int out_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  errno = 0;
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n < 0 ? -1 : 0;
}

int output_failed(void) {
  int e = errno;
  return fail(EXIT_FAILURE_, "cannot write the output%s%s", e ? ": " : "", e ? strerror(e) : "");
}

int check_ns_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > FIRKIN_MAX_NS_NAME)
    return usage_error("namespace '%s': the name must be 1 to %u bytes, not %zu", name,
                       (unsigned)FIRKIN_MAX_NS_NAME, n);
  for (size_t i = 0; i < n; i++) {
    char ch = name[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '.' || ch == '-'))
      return usage_error("namespace '%s': the name has a character outside [A-Za-z0-9_.-]", name);
  }
  return EXIT_OK_;
}

int apply_options(struct cli *c, firkin_options *o) {
  for (int i = 0; i < c->nopts; i++) {
    char name[128];
    const char *eq = strchr(c->opts[i], '=');
    size_t n = eq ? (size_t)(eq - c->opts[i]) : 0;
    if (eq == NULL || n == 0 || n >= sizeof name)
      return usage_error("-O expects NAME=VALUE, got '%s'", c->opts[i]);
    memcpy(name, c->opts[i], n);
    name[n] = 0;
    firkin_status st = firkin_options_set(o, name, eq + 1);
    if (st != FIRKIN_OK) return lib_error(st, "option");
  }
  return EXIT_OK_;
}

int open_db(struct cli *c, bool write, bool create, firkin_db **out) {
  const char *path = c->args[0];
  firkin_options *o = NULL;
  firkin_status st = firkin_options_new(&o);
  if (st != FIRKIN_OK) return lib_error(st, "options");
  write = write || c->writable;
  /* -O first: the command decides how it opens (until the review of the
   * CLI, -O read_only=false -O create_if_missing=true made a read command
   * create a database). */
  int rc = apply_options(c, o);
  firkin_options_set_read_only(o, !write);
  firkin_options_set_create_if_missing(o, create);
  if (!rc) rc = apply_key(c, o, false);
  if (rc) {
    firkin_options_free(o);
    return rc;
  }
  st = firkin_open(path, o, out);
  firkin_options_free(o);
  if (st == FIRKIN_OK) return EXIT_OK_;
  char what[512];
  snprintf(what, sizeof what, "cannot open '%s'%s", path,
           !create && st == FIRKIN_E_NOT_FOUND ? " (no database there)" : "");
  int code = lib_error(st, what);
  return code == EXIT_NOT_FOUND ? EXIT_FAILURE_ : code; /* a missing database is a failure */
}

int open_ns(struct cli *c, firkin_db *db, bool create, firkin_ns **out) {
  *out = NULL;
  if (c->ns == NULL || strcmp(c->ns, "default") == 0) return EXIT_OK_;
  firkin_status st = firkin_ns_open(db, c->ns, create, out);
  if (st == FIRKIN_OK) return EXIT_OK_;
  char what[256];
  snprintf(what, sizeof what, "namespace '%s'", c->ns);
  return lib_error(st, what);
}

static bool parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (*s == '-' || *s == 0) return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

/* Parses argv into c; returns -1 to run the command, else an exit code. */
static int parse(int argc, char **argv, struct cli *c, const char **pos, int *npos) {
  bool opts_done = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (opts_done || a[0] != '-' || strcmp(a, "-") == 0) {
      pos[(*npos)++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      opts_done = true;
      continue;
    }
    const char *val = NULL;
    char name[64];
    const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
    if (eq != NULL && (size_t)(eq - a) < sizeof name) {
      memcpy(name, a, (size_t)(eq - a));
      name[eq - a] = 0;
      val = eq + 1;
      a = name;
    }
#define FLAG(s, l) (strcmp(a, s) == 0 || strcmp(a, l) == 0)
    /* An on/off option takes no value: "--write=no" opened the database
     * for writing until the review of the CLI. */
    static const char *const kOnOff[] = {"--json", "--write", "--keys-only", "--follow",
                                         "--stdin", "--no-verify", "--full", "--copy",
                                         "--no-checkpoint", "--progress", "--no-progress",
                                         "--help", "--version", NULL};
    for (int f = 0; val != NULL && kOnOff[f] != NULL; f++) {
      if (strcmp(a, kOnOff[f]) == 0) return usage_error("option %s takes no value", a);
    }
#define NEEDVAL()                                                          \
  do {                                                                     \
    if (val == NULL) {                                                     \
      if (i + 1 >= argc) return usage_error("option %s needs a value", a); \
      val = argv[++i];                                                     \
    }                                                                      \
  } while (0)
    if (FLAG("-h", "--help")) {
      return help(NULL);
    } else if (strcmp(a, "--version") == 0) {
      printf("firkin %s (library %s)\n", FIRKIN_VERSION_STRING, firkin_version_string());
      return EXIT_OK_;
    } else if (FLAG("-j", "--json")) {
      c->json = true;
    } else if (FLAG("-w", "--write")) {
      c->writable = true;
    } else if (strcmp(a, "--keys-only") == 0) {
      c->keys_only = true;
    } else if (strcmp(a, "--follow") == 0) {
      c->follow = true;
    } else if (strcmp(a, "--since") == 0) {
      NEEDVAL();
      if (!parse_u64(val, &c->since)) return usage_error("--since expects a number, got '%s'", val);
    } else if (strcmp(a, "--stdin") == 0) {
      c->value_stdin = true;
    } else if (strcmp(a, "--no-verify") == 0) {
      c->no_verify = true;
    } else if (strcmp(a, "--full") == 0) {
      c->full = true;
    } else if (strcmp(a, "--copy") == 0) {
      c->copy = true;
    } else if (strcmp(a, "--no-checkpoint") == 0) {
      c->no_checkpoint = true;
    } else if (strcmp(a, "--progress") == 0) {
      c->progress = 1;
    } else if (strcmp(a, "--no-progress") == 0) {
      c->progress = 0;
    } else if (FLAG("-f", "--format") || strcmp(a, "--key-format") == 0 ||
               strcmp(a, "--value-format") == 0) {
      NEEDVAL();
      enum codec k;
      if (!parse_codec(val, &k))
        return usage_error("unknown format '%s' (text, hex, base64 or raw)", val);
      if (strcmp(a, "--value-format") != 0) c->key_codec = k;
      if (strcmp(a, "--key-format") != 0) c->value_codec = k;
    } else if (FLAG("-n", "--ns")) {
      NEEDVAL();
      c->ns = val;
    } else if (strcmp(a, "--prefix") == 0) {
      NEEDVAL();
      c->prefix = val;
    } else if (strcmp(a, "--limit") == 0) {
      NEEDVAL();
      if (!parse_u64(val, &c->limit)) return usage_error("--limit expects a number, got '%s'", val);
    } else if (FLAG("-o", "--output")) {
      NEEDVAL();
      c->output = val;
    } else if (FLAG("-i", "--input")) {
      NEEDVAL();
      c->input = val;
    } else if (strcmp(a, "--dump-format") == 0) {
      NEEDVAL();
      if (strcmp(val, "jsonl") != 0 && strcmp(val, "raw") != 0)
        return usage_error("unknown dump format '%s' (jsonl or raw)", val);
      c->dump_format = val;
    } else if (strcmp(a, "--key-file") == 0) {
      NEEDVAL();
      c->key_file = val;
    } else if (strcmp(a, "--passphrase-env") == 0) {
      NEEDVAL();
      c->passphrase_env = val;
    } else if (strcmp(a, "--new-key-file") == 0) {
      NEEDVAL();
      c->new_key_file = val;
    } else if (strcmp(a, "--new-passphrase-env") == 0) {
      NEEDVAL();
      c->new_passphrase_env = val;
    } else if (FLAG("-O", "--option")) {
      NEEDVAL();
      if (c->nopts == (int)(sizeof c->opts / sizeof c->opts[0]))
        return usage_error("too many -O options");
      c->opts[c->nopts++] = val;
    } else {
      return usage_error("unknown option '%s' (see firkin --help)", argv[i]);
    }
#undef FLAG
#undef NEEDVAL
  }
  return -1;
}

int main(int argc, char **argv) {
  struct cli c;
  memset(&c, 0, sizeof c);
  c.progress = -1;
  c.dump_format = "jsonl";
  c.limit = UINT64_MAX;
  const char **pos = calloc((size_t)argc + 1, sizeof *pos);
  int npos = 0;
  if (pos == NULL) return EXIT_FAILURE_;
  /* A reader of the output that goes away (dump | head) makes writes fail
   * with EPIPE: exit 3 with a message (docs/cli.md), not death by SIGPIPE
   * (exit 141, no message); changes --follow ends with exit 0. */
  signal(SIGPIPE, SIG_IGN);
  int rc = parse(argc, argv, &c, pos, &npos);
  if (rc < 0) {
    if (npos == 0) {
      print_usage(stderr);
      rc = EXIT_USAGE;
    } else if (strcmp(pos[0], "help") == 0) {
      rc = npos > 2 ? usage_error("usage: firkin help [COMMAND]") : help(npos == 2 ? pos[1] : NULL);
    } else {
      const struct command *cmd = find(pos[0]);
      c.cmd = pos[0];
      c.args = pos + 1;
      c.nargs = npos - 1;
      if (cmd == NULL) {
        rc = usage_error("unknown command '%s' (see firkin --help)", pos[0]);
      } else if (c.nargs < cmd->min_args || c.nargs > cmd->max_args) {
        rc = usage_error("usage: firkin %s (see firkin help %s)", cmd->synopsis, cmd->name);
      } else if (c.output && cmd->run != cmd_dump) {
        rc = usage_error("-o/--output is an option of dump only (load reads -i FILE)");
      } else if (c.input && cmd->run != cmd_load) {
        rc = usage_error("-i/--input is an option of load only (dump writes -o FILE)");
      } else if (c.limit != UINT64_MAX && cmd->run != cmd_scan && cmd->run != cmd_changes) {
        /* (count --limit N counted at most N) */
        rc = usage_error("--limit is an option of scan and changes only");
      } else {
        rc = cmd->run(&c);
      }
    }
  }
  free(pos);
  /* The last buffered bytes go out at the close of stdout: a failure there,
   * or one an earlier write left in the error flag, is exit 3 too (unless
   * the command failed already and said why, or changes' reader went away). */
  bool bad = ferror(stdout) != 0;
  errno = 0;
  if (fclose(stdout) != 0) bad = true;
  if (bad && rc == EXIT_OK_ && !c.output_gone) rc = output_failed();
  return rc;
}
