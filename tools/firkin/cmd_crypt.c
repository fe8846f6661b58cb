/* cmd_crypt.c — encryption at rest in the CLI: the key options every open
 * takes (--key-file FILE, --passphrase-env VAR) and `firkin rekey`
 * (--new-key-file / --new-passphrase-env). A key file holds the 32 key
 * bytes raw, or as 64 hex digits (a trailing newline is allowed). Secrets
 * never come from the command line itself (it is visible in ps). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Reads a 32-byte key from path into key; exit code. */
static int read_key_file(const char *path, unsigned char key[32]) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return fail(EXIT_FAILURE_, "cannot read the key file '%s': %s", path, strerror(errno));
  }
  unsigned char b[80];
  size_t n = fread(b, 1, sizeof b, f);
  /* fopen takes a directory; its read fails (EISDIR): the reason, not
   * "must hold 32 bytes". */
  const int err = ferror(f) ? errno : 0;
  fclose(f);
  if (err != 0) {
    memset(b, 0, sizeof b);
    return fail(EXIT_FAILURE_, "cannot read the key file '%s': %s", path, strerror(err));
  }
  if (n == 32) {
    memcpy(key, b, 32);
    memset(b, 0, sizeof b);
    return EXIT_OK_;
  }
  while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r')) n--;
  int ok = n == 64;
  for (size_t i = 0; ok && i < 32; i++) {
    int hi = hexval(b[2 * i]), lo = hexval(b[2 * i + 1]);
    if (hi < 0 || lo < 0) ok = 0;
    else key[i] = (unsigned char)(hi << 4 | lo);
  }
  memset(b, 0, sizeof b);
  if (!ok) {
    return usage_error("the key file '%s' must hold 32 bytes, or 64 hex digits", path);
  }
  return EXIT_OK_;
}

int apply_key(struct cli *c, firkin_options *o, bool new_key) {
  const char *file = new_key ? c->new_key_file : c->key_file;
  const char *env = new_key ? c->new_passphrase_env : c->passphrase_env;
  const char *which = new_key ? "--new-key-file and --new-passphrase-env"
                              : "--key-file and --passphrase-env";
  if (file != NULL && env != NULL) return usage_error("%s exclude each other", which);
  firkin_status st = FIRKIN_OK;
  if (file != NULL) {
    unsigned char key[32];
    int rc = read_key_file(file, key);
    if (rc) return rc;
    st = firkin_options_set_encryption_key(o, key, sizeof key);
    memset(key, 0, sizeof key);
  } else if (env != NULL) {
    const char *pass = getenv(env);
    if (pass == NULL || *pass == '\0') {
      return usage_error("the environment variable %s (the passphrase) is not set or empty", env);
    }
    st = firkin_options_set_passphrase(o, pass);
  }
  return st == FIRKIN_OK ? EXIT_OK_ : lib_error(st, new_key ? "new key" : "key");
}

int cmd_rekey(struct cli *c) {
  if (c->key_file == NULL && c->passphrase_env == NULL) {
    return usage_error("rekey needs the current key: --key-file FILE or --passphrase-env VAR");
  }
  if (c->new_key_file == NULL && c->new_passphrase_env == NULL) {
    return usage_error("rekey needs the new key: --new-key-file FILE or --new-passphrase-env VAR");
  }
  firkin_options *old_o = NULL, *new_o = NULL;
  firkin_status st = firkin_options_new(&old_o);
  if (st == FIRKIN_OK) st = firkin_options_new(&new_o);
  if (st != FIRKIN_OK) {
    firkin_options_free(old_o);
    return lib_error(st, "options");
  }
  int rc = apply_key(c, old_o, false);
  if (!rc) rc = apply_options(c, new_o); /* -O kdf_memory_kib=... for the new passphrase */
  if (!rc) rc = apply_key(c, new_o, true);
  if (!rc) {
    st = firkin_rekey(c->args[0], old_o, new_o);
    if (st != FIRKIN_OK) {
      char what[512];
      snprintf(what, sizeof what, "cannot rekey '%s'", c->args[0]);
      rc = lib_error(st, what);
    } else if (c->json && out_printf("{\"rekeyed\":true}\n")) {
      rc = output_failed();
    }
  }
  firkin_options_free(old_o);
  firkin_options_free(new_o);
  return rc;
}
