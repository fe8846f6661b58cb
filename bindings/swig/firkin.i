/*
 * firkin.i — the one SWIG interface of Firkin, shared by Go, Java and C#.
 *
 * It reads only capi/firkin.h. Each language has a small entry file that sets
 * the module name and naming, then %includes this file:
 *
 *   bindings/java/firkin_java.i          -> package org.firkin (JNI)
 *   bindings/csharp/firkin_csharp.i      -> namespace Firkin (P/Invoke)
 *   bindings/go/internal/fkraw/fkraw.swig -> Go package fkraw (cgo)
 *
 * What SWIG generates is a RAW layer: the C functions, one class per opaque
 * handle type, and a handful of binding helpers (fkb_*, below). It is not
 * public API. The idiomatic API of each language (Firkin / Db / firkin.DB,
 * typed exceptions or error values, AutoCloseable / IDisposable / Close,
 * iterators) is hand-written on top of it, in bindings/<lang>/.
 *
 * Typemap catalogue (the same five shapes in every language; the
 * per-language maps live in firkin_java.swg, firkin_csharp.swg, firkin_go.swg):
 *
 *   shape               C parameters                         Java            C#                 Go
 *   status return       firkin_status f(...)                 void + throws   void + throws      error
 *   bytes in            (const void *key, size_t key_len)    byte[]          byte[], ulong len  unsafe.Pointer, int
 *                       (also val, expected, keys)
 *   caller buffer       (void *buf, size_t cap)              direct          byte[], ulong cap  unsafe.Pointer, int
 *                                                            ByteBuffer
 *   scalar out          int64_t *OUT                         long[] (len 1)  out long           *int64
 *   text in             const char *                         String          string             string
 *
 * The status typemap reads firkin_last_error() inside the same native call
 * that failed, so the message is right even when the language moves work
 * between OS threads (Go).
 *
 * Owned outputs (firkin_get, firkin_stats, ...) never cross as library
 * memory: the fkb_* helpers copy them into a caller buffer and report the
 * size needed when it is too small, so a binding reuses one buffer and makes
 * a single native call on the hot paths (get, multi-get, iteration). A
 * "not found" or "condition failed" outcome is a value there, not a status,
 * so it never raises.
 */

%{
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "firkin.h"
%}

%include <stdint.i>

#if defined(SWIGJAVA)
%include "firkin_java.swg"
#elif defined(SWIGCSHARP)
%include "firkin_csharp.swg"
#elif defined(SWIGGO)
%include "firkin_go.swg"
#else
#error "firkin.i supports Java, C# and Go"
#endif

/* The byte-buffer shapes, by the parameter names firkin.h uses. C# and Go
 * map the pointer alone (the length stays an explicit argument: Go passes
 * unsafe.Pointer(&b[0]) and len(b), so cgo checks one pointer and boxes
 * nothing); Java maps the (pointer, length) pair. */
#if defined(SWIGCSHARP) || defined(SWIGGO)
%apply const void *IN_BYTES { const void *key, const void *val, const void *expected,
                              const void *keys, const void *start, const void *end,
                              const void *prefix };
%apply void *OUT_BUF { void *buf };
#else
%apply (const void *IN_BYTES, size_t IN_LEN) {
  (const void *key, size_t key_len),
  (const void *val, size_t val_len),
  (const void *expected, size_t expected_len),
  (const void *keys, size_t keys_len),
  (const void *start, size_t start_len),
  (const void *end, size_t end_len),
  (const void *prefix, size_t prefix_len)
};
%apply (void *OUT_BUF, size_t OUT_CAP) { (void *buf, size_t cap) };
#endif

/* ------------------------------------------------------------------------ */
/* What is not wrapped: replaced by the fkb_* helpers (handle-creating calls, */
/* owned outputs, not-found/condition outcomes), or of no use to a binding.   */
/* ------------------------------------------------------------------------ */

%ignore firkin_options_new;
%ignore firkin_write_options_new;
%ignore firkin_open;
%ignore firkin_batch_new;
%ignore firkin_ns_open;
%ignore firkin_ns_create;
%ignore firkin_snapshot_new;
%ignore firkin_snapshot_at;
%ignore firkin_iter_new;
%ignore firkin_get;
%ignore firkin_get_into;
%ignore firkin_get_version;
%ignore firkin_contains;
%ignore firkin_multi_get;
%ignore firkin_multi_get_packed;
%ignore firkin_put_if_absent;
%ignore firkin_cas;
%ignore firkin_cas_version;
%ignore firkin_stats;
%ignore firkin_ns_list;
%ignore firkin_options_get;
%ignore firkin_last_seq;
%ignore firkin_count;
%ignore firkin_batch_count;
%ignore firkin_write_options_get_sync;
%ignore firkin_iter_key;
%ignore firkin_iter_value;
%ignore firkin_iter_next_n;
%ignore firkin_free;
%ignore firkin_verify;
%ignore firkin_verify_path;
/* Backup and restore: wrapped as fkb_backup / fkb_restore (the boolean
 * options as bits; the progress callback is C-only). */
%rename("$ignore", regextarget=1, fullname=1) "^firkin_backup_options_.+";
%ignore firkin_backup_progress_fn;
%ignore firkin_backup;
%ignore firkin_restore;
%ignore firkin_restore_v2;  /* the bindings have no restore with a key yet */
%ignore fkb_backup_options_;
/* Change feed: bindings open with fkb_changes_open (the one option as an
 * argument) and read through fkb_changes_next_n (packed entries). */
%ignore firkin_changes_open;
%ignore firkin_changes_next_n;
%ignore firkin_changes_key;
%ignore firkin_changes_value;
%ignore firkin_changes_namespace;
%ignore firkin_changes_type;
%ignore firkin_changes_seq;
%ignore firkin_changes_next;
%ignore firkin_changes_valid;
%ignore firkin_changes_oldest_seq;
%ignore firkin_changes_position;
%ignore firkin_changes_options_new;
%ignore firkin_changes_options_free;
%ignore firkin_changes_options_set_batch_markers;
%ignore firkin_changes_options_get_batch_markers;
%ignore firkin_changes_options;
/* Transactions: begin, get, contains, cas, iter_new, commit and
 * snapshot_seq go through fkb_txn_* (handle and owned outputs, the
 * condition outcome as a value); put, delete, rollback and free are
 * wrapped as they are. */
%ignore firkin_txn_begin;
%ignore firkin_txn_get;
%ignore firkin_txn_contains;
%ignore firkin_txn_cas;
%ignore firkin_txn_iter_new;
%ignore firkin_txn_commit;
%ignore firkin_txn_snapshot_seq;
/* Ordered namespaces: the handle-creating calls go through fkb_ns_create_v2,
 * fkb_ns_flags and fkb_*range_iter_new / fkb_*prefix_iter_new (a handle or
 * a scalar out); firkin_iter_seek and firkin_iter_is_ordered are wrapped as
 * they are. */
%ignore firkin_ns_create_v2;
%ignore firkin_ns_flags;
%ignore firkin_range_iter_new;
%ignore firkin_prefix_iter_new;
%ignore firkin_txn_range_iter_new;
%ignore firkin_txn_prefix_iter_new;
/* TTL and time travel by clock time: put_ttl, put_expire_at, batch_put_ttl
 * and persist are wrapped as they are; now_ms, ttl, snapshot_at_time and the
 * history iterator go through fkb_* (a scalar or a handle out, "no expiry"
 * and "not found" as values, the whole history packed into one buffer). */
%ignore firkin_now_ms;
%ignore firkin_ttl;
%ignore firkin_snapshot_at_time;
%rename("$ignore", regextarget=1, fullname=1) "^firkin_history_.+";
/* FIRKIN_TTL_NONE (UINT64_MAX) does not translate (Java has no unsigned
 * long): fkb_ttl reports "never expires" as -1 and each binding turns it
 * into its own "no expiry" value. */
%ignore FIRKIN_TTL_NONE;
/* Takes a firkin_status as input; the status typemaps are for returns. */
%ignore firkin_strerror;
/* Typed option accessors: wrapped once, by name, as fkb_options_[gs]et_typed.
 * The encryption secrets (bytes and text, no getter) are wrapped as they are. */
%rename("$ignore", regextarget=1, fullname=1)
    "^firkin_options_[gs]et_(?!encryption_key$|passphrase$).+";
/* Macros that are not useful constants in a binding. */
%ignore FIRKIN_H;
%ignore FIRKIN_VERSION_NUMBER;
%ignore FIRKIN_MAX_VALUE_SIZE;
%ignore FIRKIN_MAX_KEY_SIZE;
%ignore FIRKIN_MAX_NS_NAME;
%ignore FIRKIN_TXN_MAX_BYTES;

/* firkin_sync_mode crosses as a plain int; each binding has its own enum. */
%apply int { firkin_sync_mode };
%ignore firkin_sync_mode;
%apply int { firkin_change_type };
%ignore firkin_change_type;
/* firkin_isolation likewise (the fkb_txn_begin helper takes an int). */
%ignore firkin_isolation;
%ignore FIRKIN_TXN_SNAPSHOT;
%ignore FIRKIN_TXN_SERIALIZABLE;

#define FIRKIN_API
%include "firkin.h"

/* The limits, as plain constants (the header's use unsigned suffixes). */
%constant long long FIRKIN_MAX_KEY_BYTES = 65535;
%constant long long FIRKIN_MAX_VALUE_BYTES = 268435456;
%constant long long FIRKIN_MAX_NS_NAME_BYTES = 128;
%constant long long FIRKIN_TXN_MAX_BUFFERED_BYTES = 33554432;
%{
/* The constants above restate the header's limits (their unsigned suffixes
 * do not translate); the wrapper does not compile if the header changes. */
typedef char fkb_txn_max_bytes_check_[FIRKIN_TXN_MAX_BYTES == 33554432u ? 1 : -1];
%}

/* ------------------------------------------------------------------------ */
/* Binding helpers. Each returns a firkin_status and writes at most one      */
/* int64 out value. Handles come out as their address (int64), which the    */
/* binding wraps in its handle class at once.                                */
/* ------------------------------------------------------------------------ */

%{
/* Private helpers of the fkb_* functions (not wrapped). */
/* Copies an owned library buffer into (buf, cap); *n = its size. The copy
 * happens only if it fits; the library buffer is always freed. */
static void fkb_copy_out_(void *owned, size_t len, void *buf, size_t cap, int64_t *n) {
  if (len <= cap && len > 0) memcpy(buf, owned, len);
  *n = (int64_t)len;
  firkin_free(owned);
}

/* Conditional writes: *OUT = 1 if written, 0 if the condition did not hold. */
static firkin_status fkb_cond_(firkin_status st, int64_t *OUT) {
  *OUT = st == FIRKIN_OK ? 1 : 0;
  return st == FIRKIN_E_CONDITION_FAILED ? FIRKIN_OK : st;
}
/* Text outputs (JSON stats, the namespace list, an option value) into a
 * caller buffer, without the NUL: *OUT = the text's size. */
static firkin_status fkb_text_(firkin_status st, char *s, void *buf, size_t cap, int64_t *OUT) {
  *OUT = 0;
  if (st != FIRKIN_OK) { firkin_free(s); return st; }
  fkb_copy_out_(s, s ? strlen(s) : 0, buf, cap, OUT);
  return FIRKIN_OK;
}
%}

%inline %{
/* firkin_strerror, with the code as a plain int. */
static const char *fkb_strerror(int code) { return firkin_strerror(code); }

static firkin_status fkb_options_new(int64_t *OUT) {
  firkin_options *h = NULL;
  firkin_status st = firkin_options_new(&h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_write_options_new(int64_t *OUT) {
  firkin_write_options *h = NULL;
  firkin_status st = firkin_write_options_new(&h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_open(const char *path, const firkin_options *opts, int64_t *OUT) {
  firkin_db *h = NULL;
  firkin_status st = firkin_open(path, opts, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_batch_new(int64_t *OUT) {
  firkin_batch *h = NULL;
  firkin_status st = firkin_batch_new(&h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_ns_open(firkin_db *db, const char *name, bool create, int64_t *OUT) {
  firkin_ns *h = NULL;
  firkin_status st = firkin_ns_open(db, name, create, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_ns_create(firkin_db *db, const char *name, int64_t *OUT) {
  firkin_ns *h = NULL;
  firkin_status st = firkin_ns_create(db, name, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_snapshot_new(firkin_db *db, int64_t *OUT) {
  firkin_snapshot *h = NULL;
  firkin_status st = firkin_snapshot_new(db, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_snapshot_at(firkin_db *db, uint64_t seq, int64_t *OUT) {
  firkin_snapshot *h = NULL;
  firkin_status st = firkin_snapshot_at(db, seq, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_iter_new(firkin_db *db, const firkin_snapshot *snap,
                                  const firkin_ns *ns, int64_t *OUT) {
  firkin_iter *h = NULL;
  firkin_status st = firkin_iter_new(db, snap, ns, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}

/* Point read into a caller buffer. *OUT = the value's size, copied only if
 * it is <= cap (else call again with a buffer of *OUT bytes); -1 if absent. */
static firkin_status fkb_get(firkin_db *db, const firkin_snapshot *snap, const firkin_ns *ns,
                             const void *key, size_t key_len, void *buf, size_t cap,
                             int64_t *OUT) {
  size_t n = 0;
  firkin_status st = firkin_get_into(db, snap, ns, key, key_len, buf, cap, &n);
  if (st == FIRKIN_OK || st == FIRKIN_E_BUFFER_TOO_SMALL) {
    *OUT = (int64_t)n;
    return FIRKIN_OK;
  }
  *OUT = -1;
  return st == FIRKIN_E_NOT_FOUND ? FIRKIN_OK : st;
}

/* The same read with no out-parameter (Go's hot path: a pointer argument
 * costs a cgo pointer check, a status return a string): the value's size
 * (copied only if <= cap), FIRKIN_E_NOT_FOUND (-1) if absent, or a failed
 * call's status (< -1; call fkb_get for its message). */
static int64_t fkb_get_n(firkin_db *db, const firkin_snapshot *snap, const firkin_ns *ns,
                         const void *key, size_t key_len, void *buf, size_t cap) {
  size_t n = 0;
  firkin_status st = firkin_get_into(db, snap, ns, key, key_len, buf, cap, &n);
  if (st == FIRKIN_OK || st == FIRKIN_E_BUFFER_TOO_SMALL) return (int64_t)n;
  return st;
}

/* *OUT = 1 if key has a value, else 0. */
static firkin_status fkb_contains(firkin_db *db, const firkin_snapshot *snap, const firkin_ns *ns,
                                  const void *key, size_t key_len, int64_t *OUT) {
  bool found = false;
  firkin_status st = firkin_contains(db, snap, ns, key, key_len, &found);
  *OUT = found ? 1 : 0;
  return st;
}

/* *OUT = the version of key's value, 0 if absent. */
static firkin_status fkb_get_version(firkin_db *db, const firkin_snapshot *snap,
                                     const firkin_ns *ns, const void *key, size_t key_len,
                                     int64_t *OUT) {
  uint64_t v = 0;
  firkin_status st = firkin_get_version(db, snap, ns, key, key_len, &v);
  *OUT = st == FIRKIN_OK ? (int64_t)v : 0;
  return st == FIRKIN_E_NOT_FOUND ? FIRKIN_OK : st;
}

/* firkin_multi_get_packed into a caller buffer: *OUT = the packed size,
 * copied only if it fits. */
static firkin_status fkb_multi_get(firkin_db *db, const firkin_snapshot *snap, const firkin_ns *ns,
                                   const void *keys, size_t keys_len, void *buf, size_t cap,
                                   int64_t *OUT) {
  void *out = NULL;
  size_t len = 0;
  firkin_status st = firkin_multi_get_packed(db, snap, ns, keys, keys_len, &out, &len);
  *OUT = 0;
  if (st != FIRKIN_OK) return st;
  fkb_copy_out_(out, len, buf, cap, OUT);
  return FIRKIN_OK;
}

static firkin_status fkb_put_if_absent(firkin_db *db, const firkin_write_options *wo,
                                       const firkin_ns *ns, const void *key, size_t key_len,
                                       const void *val, size_t val_len, int64_t *OUT) {
  return fkb_cond_(firkin_put_if_absent(db, wo, ns, key, key_len, val, val_len), OUT);
}
static firkin_status fkb_cas(firkin_db *db, const firkin_write_options *wo, const firkin_ns *ns,
                             const void *key, size_t key_len, const void *expected,
                             size_t expected_len, const void *val, size_t val_len,
                             int64_t *OUT) {
  return fkb_cond_(firkin_cas(db, wo, ns, key, key_len, expected, expected_len, val, val_len),
                   OUT);
}
static firkin_status fkb_cas_version(firkin_db *db, const firkin_write_options *wo,
                                     const firkin_ns *ns, const void *key, size_t key_len,
                                     uint64_t expected_version, const void *val, size_t val_len,
                                     int64_t *OUT) {
  return fkb_cond_(
      firkin_cas_version(db, wo, ns, key, key_len, expected_version, val, val_len), OUT);
}

static firkin_status fkb_stats(firkin_db *db, void *buf, size_t cap, int64_t *OUT) {
  char *s = NULL;
  firkin_status st = firkin_stats(db, &s);
  return fkb_text_(st, s, buf, cap, OUT);
}
static firkin_status fkb_ns_list(firkin_db *db, void *buf, size_t cap, int64_t *OUT) {
  char *s = NULL;
  firkin_status st = firkin_ns_list(db, &s);
  return fkb_text_(st, s, buf, cap, OUT);
}
static firkin_status fkb_options_get(const firkin_options *opts, const char *name, void *buf,
                                     size_t cap, int64_t *OUT) {
  char *s = NULL;
  firkin_status st = firkin_options_get(opts, name, &s);
  return fkb_text_(st, s, buf, cap, OUT);
}

/* Scalar reads. */
static firkin_status fkb_last_seq(firkin_db *db, int64_t *OUT) {
  uint64_t v = 0;
  firkin_status st = firkin_last_seq(db, &v);
  *OUT = (int64_t)v;
  return st;
}
static firkin_status fkb_count(firkin_db *db, const firkin_ns *ns, int64_t *OUT) {
  uint64_t v = 0;
  firkin_status st = firkin_count(db, ns, &v);
  *OUT = (int64_t)v;
  return st;
}
static firkin_status fkb_batch_count(const firkin_batch *b, int64_t *OUT) {
  size_t v = 0;
  firkin_status st = firkin_batch_count(b, &v);
  *OUT = (int64_t)v;
  return st;
}
static firkin_status fkb_write_options_get_sync(const firkin_write_options *wo, int64_t *OUT) {
  firkin_sync_mode v = FIRKIN_SYNC_DEFAULT;
  firkin_status st = firkin_write_options_get_sync(wo, &v);
  *OUT = (int64_t)v;
  return st;
}

/* Batched iteration: copies entries (see firkin_iter_next_n for the
 * layout) into (buf, cap) and advances past them. *OUT = bytes written;
 * 0 = the iteration is over (its error, if it ended early, is the status);
 * more than cap = the next entry alone needs *OUT bytes, nothing moved. */
static firkin_status fkb_iter_next_n(firkin_iter *it, void *buf, size_t cap, int64_t *OUT) {
  size_t used = 0, count = 0;
  firkin_status st;
  *OUT = 0;
  if (it == NULL) return firkin_iter_next_n(it, buf, cap, &used, &count);
  if (!firkin_iter_valid(it)) return firkin_iter_status(it);
  st = firkin_iter_next_n(it, buf, cap, &used, &count);
  if (st == FIRKIN_E_BUFFER_TOO_SMALL) {
    *OUT = (int64_t)(used > cap ? used : cap + 1);
    return FIRKIN_OK;
  }
  /* Entries delivered before an error come first; the error comes with the
   * next call (the iterator keeps it: invalid, its status the error). Until
   * the review of the bindings' API the error was returned at once and
   * those entries were lost, in Go, Java and C#. */
  if (st != FIRKIN_OK && count == 0) return st;
  if (count == 0) return firkin_iter_status(it);
  *OUT = (int64_t)used;
  return FIRKIN_OK;
}
%}
%{
/* A value out of the typed setter's C type (it would be truncated) goes to
 * the text setter as its decimal text instead, which refuses it with the
 * library's own INVALID_ARGUMENT message. */
static firkin_status fkb_options_refuse_(firkin_options *opts, const char *name, int64_t v) {
  char text[24];
  snprintf(text, sizeof text, "%lld", (long long)v);
  return firkin_options_set(opts, name, text);
}
%}
%inline %{
/* The typed option accessors (firkin_options_[gs]et_NAME), selected by
 * name, with the value as an int64 (booleans 0/1, sync modes as the enum;
 * a uint64_t option's value in the int64's bits, as Java and C# carry it).
 * Never truncated: an int or uint32_t option out of its range is refused. */
static firkin_status fkb_options_set_typed(firkin_options *opts, const char *name, int64_t v) {
  if (name == NULL) return firkin_options_set(opts, name, "");
  if (!strcmp(name, "create_if_missing")) return firkin_options_set_create_if_missing(opts, v != 0);
  if (!strcmp(name, "error_if_exists")) return firkin_options_set_error_if_exists(opts, v != 0);
  if (!strcmp(name, "read_only")) return firkin_options_set_read_only(opts, v != 0);
  if (!strcmp(name, "salvage")) return firkin_options_set_salvage(opts, v != 0);
  if (!strcmp(name, "verify_checksums")) return firkin_options_set_verify_checksums(opts, v != 0);
  if (!strcmp(name, "sync_mode")) {
    if (v < INT_MIN || v > INT_MAX) return fkb_options_refuse_(opts, name, v);
    return firkin_options_set_sync_mode(opts, (firkin_sync_mode)v);
  }
  if (!strcmp(name, "sync_interval_ms")) {
    if (v < 0 || v > (int64_t)UINT32_MAX) return fkb_options_refuse_(opts, name, v);
    return firkin_options_set_sync_interval_ms(opts, (uint32_t)v);
  }
  if (!strcmp(name, "segment_size")) return firkin_options_set_segment_size(opts, (uint64_t)v);
  if (!strcmp(name, "auto_compact")) return firkin_options_set_auto_compact(opts, v != 0);
  if (!strcmp(name, "compact_dead_ratio") || !strcmp(name, "compact_space_amp")) {
    if (v < 0 || v > (int64_t)UINT32_MAX) return fkb_options_refuse_(opts, name, v);
    return name[8] == 'd' ? firkin_options_set_compact_dead_ratio(opts, (uint32_t)v)
                          : firkin_options_set_compact_space_amp(opts, (uint32_t)v);
  }
  if (!strcmp(name, "compact_rate")) return firkin_options_set_compact_rate(opts, (uint64_t)v);
  if (!strcmp(name, "checkpoint_every")) return firkin_options_set_checkpoint_every(opts, (uint64_t)v);
  if (!strcmp(name, "change_retention_bytes"))
    return firkin_options_set_change_retention_bytes(opts, (uint64_t)v);
  if (!strcmp(name, "change_retention_seqs"))
    return firkin_options_set_change_retention_seqs(opts, (uint64_t)v);
  if (!strcmp(name, "history_retention_ms"))
    return firkin_options_set_history_retention_ms(opts, (uint64_t)v);
  if (!strcmp(name, "txn_max_age_ms")) return firkin_options_set_txn_max_age_ms(opts, (uint64_t)v);
  return firkin_options_set(opts, name, ""); /* unknown name: the library's error */
}
static firkin_status fkb_options_get_typed(const firkin_options *opts, const char *name,
                                           int64_t *OUT) {
  bool b = false;
  uint32_t u32 = 0;
  uint64_t u64 = 0;
  firkin_sync_mode m = FIRKIN_SYNC_DEFAULT;
  firkin_status st;
  *OUT = 0;
  if (name == NULL) return firkin_options_get_create_if_missing(opts, NULL);
  if (!strcmp(name, "create_if_missing")) st = firkin_options_get_create_if_missing(opts, &b);
  else if (!strcmp(name, "error_if_exists")) st = firkin_options_get_error_if_exists(opts, &b);
  else if (!strcmp(name, "read_only")) st = firkin_options_get_read_only(opts, &b);
  else if (!strcmp(name, "salvage")) st = firkin_options_get_salvage(opts, &b);
  else if (!strcmp(name, "verify_checksums")) st = firkin_options_get_verify_checksums(opts, &b);
  else if (!strcmp(name, "auto_compact")) st = firkin_options_get_auto_compact(opts, &b);
  else if (!strcmp(name, "compact_dead_ratio") || !strcmp(name, "compact_space_amp")) {
    st = name[8] == 'd' ? firkin_options_get_compact_dead_ratio(opts, &u32)
                        : firkin_options_get_compact_space_amp(opts, &u32);
    *OUT = (int64_t)u32;
    return st;
  } else if (!strcmp(name, "compact_rate") || !strcmp(name, "checkpoint_every")) {
    st = name[1] == 'o' ? firkin_options_get_compact_rate(opts, &u64)
                        : firkin_options_get_checkpoint_every(opts, &u64);
    *OUT = (int64_t)u64;
    return st;
  }
  else if (!strcmp(name, "change_retention_bytes") || !strcmp(name, "change_retention_seqs")) {
    st = name[17] == 'b' ? firkin_options_get_change_retention_bytes(opts, &u64)
                         : firkin_options_get_change_retention_seqs(opts, &u64);
    *OUT = (int64_t)u64;
    return st;
  }
  else if (!strcmp(name, "history_retention_ms")) {
    st = firkin_options_get_history_retention_ms(opts, &u64);
    *OUT = (int64_t)u64;
    return st;
  }
  else if (!strcmp(name, "txn_max_age_ms")) {
    st = firkin_options_get_txn_max_age_ms(opts, &u64);
    *OUT = (int64_t)u64;
    return st;
  }
  else if (!strcmp(name, "sync_mode")) {
    st = firkin_options_get_sync_mode(opts, &m);
    *OUT = (int64_t)m;
    return st;
  } else if (!strcmp(name, "sync_interval_ms")) {
    st = firkin_options_get_sync_interval_ms(opts, &u32);
    *OUT = (int64_t)u32;
    return st;
  } else if (!strcmp(name, "segment_size")) {
    st = firkin_options_get_segment_size(opts, &u64);
    *OUT = (int64_t)u64;
    return st;
  } else {
    char *s = NULL;
    st = firkin_options_get(opts, name, &s); /* unknown name: the library's error */
    firkin_free(s);
    return st;
  }
  *OUT = b ? 1 : 0;
  return st;
}

/* The current entry's key / value (firkin_iter_key / firkin_iter_value),
 * copied into (buf, cap): *OUT = its size, copied only if it fits. */
static firkin_status fkb_iter_key(const firkin_iter *it, void *buf, size_t cap, int64_t *OUT) {
  const void *p = NULL;
  size_t n = 0;
  firkin_status st = firkin_iter_key(it, &p, &n);
  *OUT = (int64_t)n;
  if (st == FIRKIN_OK && n <= cap && n > 0) memcpy(buf, p, n);
  return st;
}
static firkin_status fkb_iter_value(const firkin_iter *it, void *buf, size_t cap, int64_t *OUT) {
  const void *p = NULL;
  size_t n = 0;
  firkin_status st = firkin_iter_value(it, &p, &n);
  *OUT = (int64_t)n;
  if (st == FIRKIN_OK && n <= cap && n > 0) memcpy(buf, p, n);
  return st;
}

/* firkin_verify / firkin_verify_path: the JSON report into (buf, cap);
 * *OUT = its size. A damaged database gives FIRKIN_E_CORRUPTION. */
static firkin_status fkb_verify(firkin_db *db, void *buf, size_t cap, int64_t *OUT) {
  char *s = NULL;
  firkin_status st = firkin_verify(db, &s);
  *OUT = 0;
  if (s) fkb_copy_out_(s, strlen(s), buf, cap, OUT);
  return st;
}
static firkin_status fkb_verify_path(const char *path, const firkin_options *opts, void *buf,
                                     size_t cap, int64_t *OUT) {
  char *s = NULL;
  firkin_status st = firkin_verify_path(path, opts, &s);
  *OUT = 0;
  if (s) fkb_copy_out_(s, strlen(s), buf, cap, OUT);
  return st;
}

/* firkin_backup / firkin_restore with the boolean options as bits of
 * `flags` (FKB_BACKUP_*: all four set = the defaults); the JSON report into
 * (buf, cap), *OUT = its size (0 on failure). */
#define FKB_BACKUP_INCREMENTAL 1
#define FKB_BACKUP_VERIFY 2
#define FKB_BACKUP_HARD_LINKS 4
#define FKB_BACKUP_CHECKPOINT 8
static firkin_status fkb_backup_options_(int flags, firkin_backup_options **o) {
  firkin_status st = firkin_backup_options_new(o);
  if (st == FIRKIN_OK) st = firkin_backup_options_set_incremental(*o, (flags & FKB_BACKUP_INCREMENTAL) != 0);
  if (st == FIRKIN_OK) st = firkin_backup_options_set_verify(*o, (flags & FKB_BACKUP_VERIFY) != 0);
  if (st == FIRKIN_OK) st = firkin_backup_options_set_hard_links(*o, (flags & FKB_BACKUP_HARD_LINKS) != 0);
  if (st == FIRKIN_OK) st = firkin_backup_options_set_checkpoint(*o, (flags & FKB_BACKUP_CHECKPOINT) != 0);
  return st;
}
static firkin_status fkb_backup(firkin_db *db, int flags, const char *dest, void *buf, size_t cap,
                                int64_t *OUT) {
  firkin_backup_options *o = NULL;
  char *s = NULL;
  *OUT = 0;
  firkin_status st = fkb_backup_options_(flags, &o);
  if (st == FIRKIN_OK) st = firkin_backup(db, o, dest, &s);
  firkin_backup_options_free(o);
  if (s) fkb_copy_out_(s, strlen(s), buf, cap, OUT);
  return st;
}
static firkin_status fkb_restore(const char *backup, int flags, const char *dest, void *buf,
                                 size_t cap, int64_t *OUT) {
  firkin_backup_options *o = NULL;
  char *s = NULL;
  *OUT = 0;
  firkin_status st = fkb_backup_options_(flags, &o);
  if (st == FIRKIN_OK) st = firkin_restore(backup, o, dest, &s);
  firkin_backup_options_free(o);
  if (s) fkb_copy_out_(s, strlen(s), buf, cap, OUT);
  return st;
}

/* ---- change feed ---- */
/* firkin_changes_open with the one cursor option (batch markers) as an
 * argument; *OUT = the cursor handle. */
static firkin_status fkb_changes_open(firkin_db *db, uint64_t since, bool markers,
                                      int64_t *OUT) {
  firkin_changes *h = NULL;
  firkin_changes_options *o = NULL;
  firkin_status st = firkin_changes_options_new(&o);
  if (st == FIRKIN_OK) st = firkin_changes_options_set_batch_markers(o, markers);
  if (st == FIRKIN_OK) st = firkin_changes_open(db, since, o, &h);
  firkin_changes_options_free(o);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
/* Batched reading: copies changes (see firkin_changes_next_n for the
 * layout) into (buf, cap) and advances past them. *OUT = bytes written;
 * 0 = no change available now (wait, or look again later); more than cap =
 * the next change alone needs *OUT bytes, nothing moved. */
static firkin_status fkb_changes_next_n(firkin_changes *c, void *buf, size_t cap, int64_t *OUT) {
  size_t used = 0, count = 0;
  firkin_status st;
  *OUT = 0;
  st = firkin_changes_next_n(c, buf, cap, &used, &count);
  if (st == FIRKIN_E_BUFFER_TOO_SMALL) {
    *OUT = (int64_t)(used > cap ? used : cap + 1);
    return FIRKIN_OK;
  }
  if (count > 0) *OUT = (int64_t)used;
  /* Changes delivered before an error come first; the error comes with the
   * next call (the cursor keeps it). */
  return count > 0 ? FIRKIN_OK : st;
}
/* *OUT = firkin_changes_position(c): how far the cursor has read (a
 * binding's cursor, which buffers, gives the next buffered change's number
 * - 1 instead while it holds one). */
static firkin_status fkb_changes_position(const firkin_changes *c, int64_t *OUT) {
  *OUT = (int64_t)firkin_changes_position(c);
  return FIRKIN_OK;
}
static firkin_status fkb_changes_oldest_seq(firkin_db *db, int64_t *OUT) {
  uint64_t v = 0;
  firkin_status st = firkin_changes_oldest_seq(db, &v);
  *OUT = (int64_t)v;
  return st;
}

/* ---- transactions ---- */
/* firkin_txn_begin with the isolation as an int (0 snapshot, 1
 * serializable); *OUT = the transaction handle. */
static firkin_status fkb_txn_begin(firkin_db *db, int isolation, int64_t *OUT) {
  firkin_txn *h = NULL;
  firkin_status st = firkin_txn_begin(db, (firkin_isolation)isolation, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
/* *OUT = the transaction's snapshot sequence number. */
static firkin_status fkb_txn_snapshot_seq(const firkin_txn *txn, int64_t *OUT) {
  *OUT = (int64_t)firkin_txn_snapshot_seq(txn);
  return FIRKIN_OK;
}
/* The value of key as the transaction sees it, into (buf, cap): *OUT = its
 * size, copied only if it fits (else call again with *OUT bytes: the
 * transaction's view does not change in between); -1 if absent. */
static firkin_status fkb_txn_get(firkin_txn *txn, const firkin_ns *ns, const void *key,
                                 size_t key_len, void *buf, size_t cap, int64_t *OUT) {
  void *v = NULL;
  size_t n = 0;
  firkin_status st = firkin_txn_get(txn, ns, key, key_len, &v, &n);
  *OUT = -1;
  if (st == FIRKIN_E_NOT_FOUND) return FIRKIN_OK;
  if (st != FIRKIN_OK) return st;
  fkb_copy_out_(v, n, buf, cap, OUT);
  return FIRKIN_OK;
}
/* *OUT = 1 if key has a value as the transaction sees it, else 0. */
static firkin_status fkb_txn_contains(firkin_txn *txn, const firkin_ns *ns, const void *key,
                                      size_t key_len, int64_t *OUT) {
  bool found = false;
  firkin_status st = firkin_txn_contains(txn, ns, key, key_len, &found);
  *OUT = found ? 1 : 0;
  return st;
}
/* *OUT = 1 if the put was buffered, 0 if the value differed. */
static firkin_status fkb_txn_cas(firkin_txn *txn, const firkin_ns *ns, const void *key,
                                 size_t key_len, const void *expected, size_t expected_len,
                                 const void *val, size_t val_len, int64_t *OUT) {
  return fkb_cond_(
      firkin_txn_cas(txn, ns, key, key_len, expected, expected_len, val, val_len), OUT);
}
static firkin_status fkb_txn_iter_new(firkin_txn *txn, const firkin_ns *ns, int64_t *OUT) {
  firkin_iter *h = NULL;
  firkin_status st = firkin_txn_iter_new(txn, ns, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
/* *OUT = the commit's sequence number (0 on failure). */
static firkin_status fkb_txn_commit(firkin_txn *txn, const firkin_write_options *wo,
                                    int64_t *OUT) {
  uint64_t seq = 0;
  firkin_status st = firkin_txn_commit(txn, wo, &seq);
  *OUT = st == FIRKIN_OK ? (int64_t)seq : 0;
  return st;
}

/* ---- ordered namespaces ---- */
/* firkin_ns_create_v2: flags 0 or FIRKIN_NS_ORDERED; *OUT = the handle. */
static firkin_status fkb_ns_create_v2(firkin_db *db, const char *name, int flags, int64_t *OUT) {
  firkin_ns *h = NULL;
  firkin_status st = firkin_ns_create_v2(db, name, (uint32_t)flags, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
/* *OUT = the namespace's flags (FIRKIN_NS_ORDERED or 0). */
static firkin_status fkb_ns_flags(const firkin_ns *ns, int64_t *OUT) {
  uint32_t f = 0;
  firkin_status st = firkin_ns_flags(ns, &f);
  *OUT = (int64_t)f;
  return st;
}
/* Ordered iterators: a NULL bound (or prefix) is no bound; flags 0 or
 * FIRKIN_ITER_REVERSE; *OUT = the iterator handle. The bindings pass NULL
 * for a null or empty bound. */
static firkin_status fkb_range_iter_new(firkin_db *db, const firkin_snapshot *snap,
                                        const firkin_ns *ns, const void *start, size_t start_len,
                                        const void *end, size_t end_len, int flags,
                                        int64_t *OUT) {
  firkin_iter *h = NULL;
  firkin_status st = firkin_range_iter_new(db, snap, ns, start, start_len, end, end_len,
                                           (uint32_t)flags, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_prefix_iter_new(firkin_db *db, const firkin_snapshot *snap,
                                         const firkin_ns *ns, const void *prefix,
                                         size_t prefix_len, int flags, int64_t *OUT) {
  firkin_iter *h = NULL;
  firkin_status st = firkin_prefix_iter_new(db, snap, ns, prefix, prefix_len, (uint32_t)flags, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_txn_range_iter_new(firkin_txn *txn, const firkin_ns *ns,
                                            const void *start, size_t start_len,
                                            const void *end, size_t end_len, int flags,
                                            int64_t *OUT) {
  firkin_iter *h = NULL;
  firkin_status st = firkin_txn_range_iter_new(txn, ns, start, start_len, end, end_len,
                                               (uint32_t)flags, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
static firkin_status fkb_txn_prefix_iter_new(firkin_txn *txn, const firkin_ns *ns,
                                             const void *prefix, size_t prefix_len, int flags,
                                             int64_t *OUT) {
  firkin_iter *h = NULL;
  firkin_status st = firkin_txn_prefix_iter_new(txn, ns, prefix, prefix_len, (uint32_t)flags, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}

/* ---- TTL and time travel by clock time ---- */
/* *OUT = the database clock, ms since the epoch. */
static firkin_status fkb_now_ms(firkin_db *db, int64_t *OUT) {
  uint64_t v = 0;
  firkin_status st = firkin_now_ms(db, &v);
  *OUT = (int64_t)v;
  return st;
}
static firkin_status fkb_snapshot_at_time(firkin_db *db, uint64_t unix_ms, int64_t *OUT) {
  firkin_snapshot *h = NULL;
  firkin_status st = firkin_snapshot_at_time(db, unix_ms, &h);
  *OUT = (int64_t)(intptr_t)h;
  return st;
}
/* *OUT = the ms left before key expires (at most INT64_MAX); -1 if it
 * never expires (FIRKIN_TTL_NONE); -2 if it is absent or expired. */
static firkin_status fkb_ttl(firkin_db *db, const firkin_snapshot *snap, const firkin_ns *ns,
                             const void *key, size_t key_len, int64_t *OUT) {
  uint64_t v = 0;
  firkin_status st = firkin_ttl(db, snap, ns, key, key_len, &v);
  if (st == FIRKIN_E_NOT_FOUND) {
    *OUT = -2;
    return FIRKIN_OK;
  }
  if (st != FIRKIN_OK) {
    *OUT = 0;
    return st;
  }
  *OUT = v == FIRKIN_TTL_NONE ? -1 : v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
  return FIRKIN_OK;
}
%}
%{
static void fkb_le32_(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void fkb_le64_(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
%}
%inline %{
/* The versions of one key (firkin_history_new), newest first, packed into
 * (buf, cap): *OUT = the packed size, copied only if it fits (else call
 * again with *OUT bytes: the answer may then hold newer versions). Layout,
 * little-endian: u32 flags (bit 0: older versions were compacted away),
 * u32 count, then per version u64 seq, u64 commit time (ms, 0 = unknown),
 * u64 expiry (ms, 0 = none), u32 flags (bit 0: a delete), u32 value length,
 * the value. */
static firkin_status fkb_history(firkin_db *db, const firkin_ns *ns, const void *key,
                                 size_t key_len, void *buf, size_t cap, int64_t *OUT) {
  firkin_history *h = NULL;
  unsigned char *out = NULL, *grown;
  size_t len = 8, size = 256;
  uint32_t count = 0;
  firkin_status st = firkin_history_new(db, ns, key, key_len, &h);
  *OUT = 0;
  if (st != FIRKIN_OK) return st;
  out = (unsigned char *)malloc(size);
  for (; out != NULL && firkin_history_valid(h); firkin_history_next(h)) {
    const void *v = NULL;
    size_t vn = 0;
    st = firkin_history_value(h, &v, &vn);
    if (st != FIRKIN_OK) break;
    while (size - len < 32 + vn) {
      size *= 2;
      grown = (unsigned char *)realloc(out, size);
      if (grown == NULL) {
        free(out);
        out = NULL;
        break;
      }
      out = grown;
    }
    if (out == NULL) break;
    fkb_le64_(out + len, firkin_history_seq(h));
    fkb_le64_(out + len + 8, firkin_history_time(h));
    fkb_le64_(out + len + 16, firkin_history_expiry(h));
    fkb_le32_(out + len + 24, firkin_history_is_delete(h) ? 1u : 0u);
    fkb_le32_(out + len + 28, (uint32_t)vn);
    if (vn > 0) memcpy(out + len + 32, v, vn);
    len += 32 + vn;
    count++;
  }
  if (out == NULL && st == FIRKIN_OK) st = FIRKIN_E_NO_MEMORY;
  if (st == FIRKIN_OK) {
    fkb_le32_(out, firkin_history_truncated(h) ? 1u : 0u);
    fkb_le32_(out + 4, count);
    if (len <= cap) memcpy(buf, out, len);
    *OUT = (int64_t)len;
  }
  free(out);
  firkin_history_free(h);
  return st;
}
%}
