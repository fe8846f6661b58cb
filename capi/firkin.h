/*
 * firkin.h — the C interface of Firkin, an embedded key-value store.
 *
 * This header is the manual. It is the only public interface of the library
 * (libfirkin.so); nothing of the C++ core is exposed. It needs C99 or later
 * (it uses <stdbool.h> and <stdint.h>), or any C++.
 *
 * CONVENTIONS
 *
 *  1. Handles. Every object is an opaque pointer: firkin_db, firkin_options,
 *     firkin_write_options, firkin_ns (namespace), firkin_snapshot,
 *     firkin_iter, firkin_batch, firkin_changes (change cursor),
 *     firkin_changes_options, firkin_txn (transaction), firkin_history
 *     (a key's versions) and firkin_backup_options. A handle is created by
 *     a *_new / *_open call (a transaction by firkin_txn_begin, a namespace
 *     also by firkin_ns_create / _create_v2, an iterator also by the range,
 *     prefix and transaction iterator calls, a snapshot also by
 *     firkin_snapshot_at / _at_time) and released by the matching *_free /
 *     *_close call. Every *_free and
 *     *_close accepts NULL and does nothing. A namespace or snapshot handle
 *     belongs to the database it was made from: a call on another database
 *     that is given it (or a batch holding such a namespace) fails with
 *     FIRKIN_E_INVALID_ARGUMENT and changes nothing.
 *
 *  2. Bytes. Keys and values are arbitrary bytes passed as
 *     (const void *p, size_t len); embedded NULs round-trip. p may be NULL only
 *     when len is 0. `const char *` is used only for NUL-terminated UTF-8
 *     text: paths, option names and values, namespace names.
 *
 *  3. Ownership. Memory returned through a `void **` or `char **` out
 *     parameter is a copy owned by the caller and freed with firkin_free().
 *     Pointers returned by the iterator accessors (firkin_iter_key,
 *     firkin_iter_value, firkin_changes_key, firkin_changes_value,
 *     firkin_changes_namespace, firkin_history_value) are borrowed: valid
 *     until the iterator or cursor moves or is freed. Strings returned as
 *     `const char *` by firkin_strerror, firkin_last_error,
 *     firkin_version_string and firkin_ns_name are owned by the library.
 *
 *  4. Lifetimes. Child handles (namespaces, snapshots, iterators,
 *     transactions, change cursors, histories) keep their database alive: firkin_close() drops the
 *     caller's reference and the database shuts down (final flush, lock released) when its last child
 *     is freed. Children may therefore be freed in any order, before or after
 *     firkin_close(), which suits garbage-collected languages. After
 *     firkin_close() the caller must not pass the db handle again, and
 *     firkin_close() must not be called while another thread is inside a
 *     call on that handle (the calls it starts must have returned: a close
 *     racing them is undefined, as for free()); calls on child handles may
 *     go on. A process made by fork() must not use or close its parent's
 *     handles (it has none of the database's threads, and a close would
 *     seal the parent's active segment under it): it exits, or execs, and
 *     opens the database itself.
 *
 *  5. Errors. Every fallible call returns a firkin_status: FIRKIN_OK (0) or a
 *     negative FIRKIN_E_* code. Codes are never renumbered. A missing key is
 *     its own code, FIRKIN_E_NOT_FOUND, and leaves no error message.
 *     firkin_strerror(code) gives a static description; firkin_last_error()
 *     gives the message of the last failed call made on the calling thread
 *     (for example the file name and offset of a corruption); a call that
 *     succeeds clears it, except a multi-get (firkin_multi_get,
 *     firkin_multi_get_packed) that succeeds while some of its keys failed
 *     each on its own: it leaves their messages. Out parameters
 *     are left untouched, or set to NULL / 0, when a call fails.
 *
 *  6. Argument order. The handle first, then inputs, then outputs.
 *     Options (write options, snapshot) come right after the db handle;
 *     NULL means "defaults" / "the latest state". A NULL firkin_ns means the
 *     default namespace.
 *
 *  7. Threading. A firkin_db may be used from any number of threads at once;
 *     reads never block on writes, and writers run in parallel (two writes
 *     wait for each other only when their keys share one of 1024 index
 *     sub-table locks, briefly; a write returns once every write with a
 *     smaller sequence number is complete; durable writes share syncs).
 *     A write that returned is seen by every read that starts after it,
 *     and so is the write a failed condition (put_if_absent, the CAS forms,
 *     a transaction's conflict) or a delete of an absent key was decided on.
 *     docs/write_path.md has the details. firkin_ns and firkin_snapshot handles are
 *     immutable and may be shared between threads. firkin_iter, firkin_batch,
 *     firkin_txn, firkin_changes, firkin_history, firkin_options,
 *     firkin_write_options, firkin_changes_options and firkin_backup_options
 *     must be used by one thread at a time (a firkin_txn call that overlaps another on the same
 *     handle gets FIRKIN_E_BUSY). Error messages are per thread. There is no global init.
 *
 *  8. Versioning. FIRKIN_VERSION_NUMBER is major*10000 + minor*100 + patch
 *     and firkin_version_number() returns the library's; they must agree in
 *     major version. Published signatures never change: new behaviour gets a
 *     new function (firkin_xxx_v2). The SONAME carries the major version.
 *     Test-only calls (fault injection) are not in this library at all: they
 *     live in tests/support/firkin_testing.h and the test-only
 *     libfirkin_testing.so, which is never installed.
 *
 *  9. Limits. Keys are 1..FIRKIN_MAX_KEY_SIZE bytes (an empty key is
 *     invalid), values 0..FIRKIN_MAX_VALUE_SIZE bytes; larger inputs get
 *     FIRKIN_E_TOO_LARGE. Namespace names are 1..FIRKIN_MAX_NS_NAME bytes of
 *     [A-Za-z0-9_.-].
 */
#ifndef FIRKIN_H
#define FIRKIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firkin_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define FIRKIN_VERSION_MAJOR 0
#define FIRKIN_VERSION_MINOR 1
#define FIRKIN_VERSION_PATCH 0
#define FIRKIN_VERSION_NUMBER                                   \
  (FIRKIN_VERSION_MAJOR * 10000 + FIRKIN_VERSION_MINOR * 100 + \
   FIRKIN_VERSION_PATCH)
#define FIRKIN_VERSION_STRING "0.1.0"

/** The library's version number, major*10000 + minor*100 + patch. */
FIRKIN_API int firkin_version_number(void);
/** The library's version as "major.minor.patch". Static string. */
FIRKIN_API const char *firkin_version_string(void);

/* ------------------------------------------------------------------------ */
/* Limits                                                                    */
/* ------------------------------------------------------------------------ */

#define FIRKIN_MAX_KEY_SIZE 65535u            /* bytes */
#define FIRKIN_MAX_VALUE_SIZE (256u << 20)    /* 256 MiB */
#define FIRKIN_MAX_NS_NAME 128u               /* bytes */

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

typedef int firkin_status;

#define FIRKIN_OK 0
/** The key (or, for iterators, the entry) does not exist. Not an error. */
#define FIRKIN_E_NOT_FOUND (-1)
/** An argument is invalid: NULL handle, NULL pointer with a non-zero length,
 *  an empty key, a bad option value, a bad namespace name. */
#define FIRKIN_E_INVALID_ARGUMENT (-2)
/** An I/O call failed (the message names the file). After a failed sync the
 *  database refuses writes with this code until it is reopened. A failed
 *  sync of log records means the kernel may have dropped their pages: the
 *  next open then recovers as after a power loss (writes acknowledged
 *  since the last successful sync, in sync modes none and interval, may
 *  be lost; never a hole or a torn batch). Other failures (a directory
 *  sync, a new segment's header, a seal's truncate once its records were
 *  synced) lose nothing acknowledged. */
#define FIRKIN_E_IO (-3)
/** A file failed its checks: bad checksum, bad header, inconsistent data.
 *  The message names the file and offset where a scan met it (an open, a
 *  refresh, a hash-order iterator, verify: the iterator and verify name
 *  the same offset, the damaged record's, also where a record it passed
 *  over had its length damaged); a read of one key's record
 *  (a get, a conditional write, an ordered iterator) names the record's
 *  sequence number instead. */
#define FIRKIN_E_CORRUPTION (-4)
/** The database is locked by another writer (this or another process).
 *  Read-only opens never get it: their shared lock never conflicts. */
#define FIRKIN_E_BUSY (-5)
/** A write was attempted on a database opened read-only. */
#define FIRKIN_E_READ_ONLY (-6)
/** A conditional write's condition did not hold (compare-and-swap mismatch,
 *  insert of a key that already exists). Nothing was written. */
#define FIRKIN_E_CONDITION_FAILED (-7)
/** A transaction conflicted with a concurrent commit (firkin_txn_commit):
 *  nothing was applied; the message names the namespace and key. */
#define FIRKIN_E_CONFLICT (-8)
/** The disk is full. Nothing was acknowledged; the database stays usable. */
#define FIRKIN_E_NO_SPACE (-9)
/** Memory allocation failed: the heap, or the address space for a log
 *  segment's mapping (ENOMEM: `ulimit -v`, vm.max_map_count); the message
 *  names the file. The call changed nothing, unless it failed half way
 *  through a change of the log's state (a roll, a compaction pass, a
 *  namespace's create or drop): then every write fails with it until the
 *  database is reopened, reads go on (and may see part of the write that
 *  failed), and the reopen loses nothing acknowledged. A read-only handle
 *  whose refresh could not take its work back fails every call with it
 *  until reopened (docs/api.md, status table). */
#define FIRKIN_E_NO_MEMORY (-10)
/** A key, value or batch is larger than the limits. */
#define FIRKIN_E_TOO_LARGE (-11)
/** A caller buffer is too small; the needed size was written to the length
 *  out parameter. */
#define FIRKIN_E_BUFFER_TOO_SMALL (-12)
/** Reserved for the bindings, which return it for an object closed through
 *  them (a Go, Python, Java or C# object used after its close). This library never
 *  returns it: a firkin_db must not be used after firkin_close (convention
 *  4: undefined, as for free()), and child handles keep their database
 *  open, so a call on them never meets a closed one. (Until 2026-11-30
 *  this said it was returned for a closed database.) */
#define FIRKIN_E_CLOSED (-13)
/** The database was written by a newer, unsupported format version. */
#define FIRKIN_E_VERSION (-14)
/** The history a snapshot or time-travel read needs is no longer kept. */
#define FIRKIN_E_SNAPSHOT_TOO_OLD (-15)
/** The namespace does not exist (or was dropped). */
#define FIRKIN_E_NAMESPACE_NOT_FOUND (-16)
/** The object to create already exists (namespace, database with
 *  error_if_exists). */
#define FIRKIN_E_EXISTS (-17)
/** The path is not a Firkin database: a regular file, or a non-empty
 *  directory without a Firkin identity file. Nothing was changed. */
#define FIRKIN_E_NOT_A_DATABASE (-18)
/** The operation is not supported in this build or mode. */
#define FIRKIN_E_NOT_SUPPORTED (-19)
/** An internal invariant failed (a bug); the message says which. */
#define FIRKIN_E_INTERNAL (-20)
/* ---- encryption at rest (issue 12) ---- */
/** The key does not fit the database: an encrypted database opened without
 *  a key or with the wrong key or passphrase, or an unencrypted one opened
 *  with a key. Nothing was read or changed. */
#define FIRKIN_E_BAD_KEY (-21)

/** A static, never-NULL description of a status code ("unknown status" for
 *  codes this library does not know). */
FIRKIN_API const char *firkin_strerror(firkin_status status);

/** The message of the last failed call on this thread, or "" if the last
 *  call succeeded (after a multi-get that succeeded: the messages of the
 *  keys that failed, "" if none did; see firkin_multi_get). Never NULL.
 *  Valid until the next firkin call on this thread. */
FIRKIN_API const char *firkin_last_error(void);

/** Frees memory returned by the library through a void ** or char ** out
 *  parameter. Accepts NULL. */
FIRKIN_API void firkin_free(void *p);

/* ------------------------------------------------------------------------ */
/* Handles                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct firkin_db firkin_db;
typedef struct firkin_options firkin_options;
typedef struct firkin_write_options firkin_write_options;
typedef struct firkin_ns firkin_ns;
typedef struct firkin_snapshot firkin_snapshot;
typedef struct firkin_iter firkin_iter;
typedef struct firkin_batch firkin_batch;
typedef struct firkin_changes firkin_changes;
typedef struct firkin_changes_options firkin_changes_options;
typedef struct firkin_txn firkin_txn;
typedef struct firkin_history firkin_history;

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

/** When a write is acknowledged, relative to durability. */
typedef enum firkin_sync_mode {
  /** Use the database's default (only meaningful in write options). */
  FIRKIN_SYNC_DEFAULT = -1,
  /** Acknowledged once in the OS page cache. Survives a process crash;
   *  power loss may lose a suffix of recent writes. Its log segments are
   *  mapped with 2 MiB pages where the file system allows (Linux THP on
   *  ext4: fewer page faults and TLB misses), so a firkin_sync or a
   *  per-write FIRKIN_SYNC_ALWAYS on such a database writes whole 2 MiB
   *  pages; INTERVAL and ALWAYS databases, which sync often, keep 4 KiB
   *  pages (docs/write_path.md, "Large pages"). */
  FIRKIN_SYNC_NONE = 0,
  /** Like NONE, plus a background flush every sync_interval_ms. */
  FIRKIN_SYNC_INTERVAL = 1,
  /** Acknowledged once the write is on stable storage (the mapped log's
   *  pages written and flushed: sync_file_range and msync, or fdatasync;
   *  README, "Durability"); concurrent writers share one flush (group
   *  commit). Survives power loss. */
  FIRKIN_SYNC_ALWAYS = 2
} firkin_sync_mode;

/** Creates an options object holding the defaults:
 *    create_if_missing  true
 *    error_if_exists    false
 *    read_only          false
 *    sync_mode          FIRKIN_SYNC_INTERVAL
 *    sync_interval_ms   100        (1..60000)
 *    segment_size       64 MiB     (64 KiB .. 1 GiB; rounded up to 4 KiB)
 *    salvage            false      (skip damaged records on open, report them;
 *                                   it goes on after damage only at a record
 *                                   the records around it agree with, never
 *                                   at a record stored inside a value:
 *                                   docs/format.md, "Recovery rules" 4)
 *    verify_checksums   false      (true: check the checksum of every
 *                                   record on every read. false: check each
 *                                   record until this handle knows its
 *                                   segment intact: segments it wrote, that
 *                                   open scanned, or that the background
 *                                   scrub validated after an open that
 *                                   loaded a checkpoint; a segment found
 *                                   damaged (by that scrub, compaction or
 *                                   firkin_verify) is checked on every read
 *                                   from then on. Only
 *                                   damage done to a file while it is open
 *                                   needs true to be caught)
 *    auto_compact       true       (background compaction)
 *    compact_dead_ratio 50         (percent: compact a sealed segment whose
 *                                   dead bytes reach this share, 1..100)
 *    compact_space_amp  150        (percent: also compact while total log
 *                                   bytes exceed this share of live bytes;
 *                                   110..10000)
 *    compact_rate       64 MiB     (bytes per second compaction may write
 *                                   while the log is within
 *                                   compact_space_amp; over it, compaction
 *                                   runs unthrottled to catch up;
 *                                   0 = unlimited). With auto_compact,
 *                                   writes also wait for compaction while
 *                                   the log exceeds write_stall_factor
 *                                   times compact_space_amp of the live
 *                                   bytes (and at least 16 segments) and
 *                                   compaction has segments it can
 *                                   reclaim: each write waits at most 1 s,
 *                                   before it takes any lock; counted in
 *                                   firkin_stats as compaction.write_stalls
 *                                   and write_stall_us
 *    write_stall_factor 3          (generic setter only: 0 = writes never
 *                                   wait for compaction, whatever the log
 *                                   grows to; else 2..1000)
 *    checkpoint_every   256 MiB    (write an index checkpoint after this
 *                                   many bytes of log; 0 = only at close)
 *    recycle_segments   8          (0..64; generic setter only: how many
 *                                   retired segment files compaction keeps
 *                                   for reuse as new log segments, named
 *                                   <id>.seg.free meanwhile; 0 = delete them)
 *    expected_keys      0          (0..4G; generic setter only: how many
 *                                   keys the database is expected to hold;
 *                                   the index is made that large at open,
 *                                   so filling it does not grow it step by
 *                                   step (a sub-table its random share of
 *                                   keys overfills may grow once); 0 =
 *                                   start small and grow. Memory
 *                                   is taken at open, about 11-12 bytes a
 *                                   key; more than half of the machine's
 *                                   memory: the open fails with
 *                                   FIRKIN_E_INVALID_ARGUMENT)
 *    change_retention_bytes 0      (change feed: compaction leaves alone the
 *                                   newest log segments holding at least
 *                                   this many bytes of log; 0 = no such
 *                                   guarantee)
 *    change_retention_seqs  0      (change feed: compaction leaves alone the
 *                                   log segments holding any of the newest
 *                                   this-many sequence numbers; 0 = none)
 *    compression        FIRKIN_COMPRESSION_NONE (values of new puts: none,
 *                                   lz4 or zstd; see below)
 *    compression_level  3          (Zstandard level, -7..-1 or 1..22)
 *    compression_min_size 64       (bytes: shorter values stay raw)
 *    in_place_updates   true       (generic setter only: a put of a key
 *                                   whose newest record is a plain put of
 *                                   the same value length (a record of at
 *                                   most 4032 bytes), still in the
 *                                   unsynced tail of the log (at most the
 *                                   newest 3/4 of the active segment: a
 *                                   larger segment_size keeps more hot
 *                                   keys there), overwrites
 *                                   that record instead of appending; never
 *                                   with sync mode always (database or
 *                                   write), encryption, compression,
 *                                   history or change retention, or while
 *                                   a snapshot, iterator, transaction,
 *                                   change cursor, backup or verify is
 *                                   open, nor while firkin_count or
 *                                   firkin_stats walks the index (once a
 *                                   key may have expired). The versions it replaces are gone:
 *                                   a snapshot at an older sequence or time
 *                                   then reads FIRKIN_E_SNAPSHOT_TOO_OLD
 *                                   for that key, never a wrong value.
 *                                   Crash promises are unchanged; the
 *                                   writer keeps a small file LIVE beside
 *                                   the log for them. Such a put returns
 *                                   without waiting for concurrent writes
 *                                   numbered before it (at most 2048
 *                                   numbers ahead of the published one;
 *                                   further ahead it appends and waits).
 *                                   firkin_stats: in_place_updates,
 *                                   in_place_ahead_appends,
 *                                   in_place_enabled)
 *  Returns FIRKIN_E_INVALID_ARGUMENT if out is NULL. */
FIRKIN_API firkin_status firkin_options_new(firkin_options **out);
FIRKIN_API void firkin_options_free(firkin_options *opts);

FIRKIN_API firkin_status firkin_options_set_create_if_missing(firkin_options *opts, bool v);
FIRKIN_API firkin_status firkin_options_get_create_if_missing(const firkin_options *opts, bool *out);
FIRKIN_API firkin_status firkin_options_set_error_if_exists(firkin_options *opts, bool v);
FIRKIN_API firkin_status firkin_options_get_error_if_exists(const firkin_options *opts, bool *out);
FIRKIN_API firkin_status firkin_options_set_read_only(firkin_options *opts, bool v);
FIRKIN_API firkin_status firkin_options_get_read_only(const firkin_options *opts, bool *out);
/** FIRKIN_SYNC_DEFAULT is rejected here (FIRKIN_E_INVALID_ARGUMENT). */
FIRKIN_API firkin_status firkin_options_set_sync_mode(firkin_options *opts, firkin_sync_mode v);
FIRKIN_API firkin_status firkin_options_get_sync_mode(const firkin_options *opts, firkin_sync_mode *out);
FIRKIN_API firkin_status firkin_options_set_sync_interval_ms(firkin_options *opts, uint32_t v);
FIRKIN_API firkin_status firkin_options_get_sync_interval_ms(const firkin_options *opts, uint32_t *out);
FIRKIN_API firkin_status firkin_options_set_segment_size(firkin_options *opts, uint64_t bytes);
FIRKIN_API firkin_status firkin_options_get_segment_size(const firkin_options *opts, uint64_t *out);
FIRKIN_API firkin_status firkin_options_set_salvage(firkin_options *opts, bool v);
FIRKIN_API firkin_status firkin_options_get_salvage(const firkin_options *opts, bool *out);
FIRKIN_API firkin_status firkin_options_set_verify_checksums(firkin_options *opts, bool v);
FIRKIN_API firkin_status firkin_options_get_verify_checksums(const firkin_options *opts, bool *out);

FIRKIN_API firkin_status firkin_options_set_auto_compact(firkin_options *opts, bool v);
FIRKIN_API firkin_status firkin_options_get_auto_compact(const firkin_options *opts, bool *out);
FIRKIN_API firkin_status firkin_options_set_compact_dead_ratio(firkin_options *opts, uint32_t percent);
FIRKIN_API firkin_status firkin_options_get_compact_dead_ratio(const firkin_options *opts, uint32_t *out);
FIRKIN_API firkin_status firkin_options_set_compact_space_amp(firkin_options *opts, uint32_t percent);
FIRKIN_API firkin_status firkin_options_get_compact_space_amp(const firkin_options *opts, uint32_t *out);
FIRKIN_API firkin_status firkin_options_set_compact_rate(firkin_options *opts, uint64_t bytes_per_sec);
FIRKIN_API firkin_status firkin_options_get_compact_rate(const firkin_options *opts, uint64_t *out);
FIRKIN_API firkin_status firkin_options_set_checkpoint_every(firkin_options *opts, uint64_t bytes);
FIRKIN_API firkin_status firkin_options_get_checkpoint_every(const firkin_options *opts, uint64_t *out);
FIRKIN_API firkin_status firkin_options_set_change_retention_bytes(firkin_options *opts, uint64_t bytes);
FIRKIN_API firkin_status firkin_options_get_change_retention_bytes(const firkin_options *opts, uint64_t *out);
FIRKIN_API firkin_status firkin_options_set_change_retention_seqs(firkin_options *opts, uint64_t seqs);
FIRKIN_API firkin_status firkin_options_get_change_retention_seqs(const firkin_options *opts, uint64_t *out);
/** Time travel (firkin_snapshot_at_time, firkin_history_new): compaction
 *  keeps every version readable at any time within the last
 *  history_retention_ms milliseconds of the database clock, and the log
 *  that maps those times to sequence numbers. 0 (default): only what live
 *  snapshots need is kept; older times may give FIRKIN_E_SNAPSHOT_TOO_OLD. */
FIRKIN_API firkin_status firkin_options_set_history_retention_ms(firkin_options *opts, uint64_t ms);
FIRKIN_API firkin_status firkin_options_get_history_retention_ms(const firkin_options *opts, uint64_t *out);
/** Abandoned transactions: a transaction open longer than txn_max_age_ms
 *  milliseconds of the database clock (default 600000, 10 minutes; 0 = no
 *  limit) gives up its snapshot at the next compaction cycle (every 250 ms
 *  with auto_compact, and at firkin_compact) unless a call is using the
 *  transaction at that moment; it is then finished, and every later call
 *  on it (firkin_txn_rollback included) fails with
 *  FIRKIN_E_SNAPSHOT_TOO_OLD (free it). A call made while it is being
 *  given up waits for that (briefly), never FIRKIN_E_BUSY.
 *  Until then an open transaction pins its snapshot: compaction keeps every
 *  version that snapshot can read. Its buffered writes are memory of the
 *  handle, freed by firkin_txn_free. */
FIRKIN_API firkin_status firkin_options_set_txn_max_age_ms(firkin_options *opts, uint64_t ms);
FIRKIN_API firkin_status firkin_options_get_txn_max_age_ms(const firkin_options *opts, uint64_t *out);

/* ---- Compression (issue 12; docs/format.md "Compressed values") ------- */

/** How new values are stored (values never renumbered). */
typedef enum firkin_compression {
  FIRKIN_COMPRESSION_NONE = 0, /**< stored as given (default) */
  FIRKIN_COMPRESSION_LZ4 = 1,  /**< LZ4 block: fast, ~2x on text */
  FIRKIN_COMPRESSION_ZSTD = 2  /**< Zstandard frame at compression_level */
} firkin_compression;

/** The compression of values written by this handle: a put whose value has
 *  at least compression_min_size bytes is stored compressed when that makes
 *  it smaller (an incompressible value stays raw). Keys are never
 *  compressed. Each record says how it is stored, so the option may differ
 *  from one open to the next: records written before keep their form
 *  (compaction copies them as they are) and every read path returns the
 *  value as written. A compressed value is damaged or not as a whole
 *  record is: its checksum covers the stored bytes, and a read that checks
 *  it (README "Damaged files") reports damage as FIRKIN_E_CORRUPTION. A
 *  compressed value that does not decode to its stated length is
 *  FIRKIN_E_CORRUPTION on every read; one damaged while the handle has the
 *  file open, in a segment the handle knows intact, may decode to other
 *  bytes unless verify_checksums is set, as an uncompressed value would be
 *  returned as it is. A database holding
 *  compressed records is format version 4: an older library refuses it
 *  with FIRKIN_E_VERSION. firkin_stats reports under "compression" the
 *  value bytes of the puts written since open (one whose condition failed
 *  wrote nothing) and the bytes stored for them;
 *  firkin_verify the totals over the whole log.
 *  Setter: FIRKIN_E_INVALID_ARGUMENT for a value outside the enum or a NULL
 *  handle. Same thread rules as every options call. Generic name
 *  "compression": "none", "lz4" or "zstd". */
FIRKIN_API firkin_status firkin_options_set_compression(firkin_options *opts,
                                                        firkin_compression v);
FIRKIN_API firkin_status firkin_options_get_compression(const firkin_options *opts,
                                                        firkin_compression *out);
/** Zstandard's level: 1..22 (default 3; higher = smaller and slower) or a
 *  fast level -7..-1. 0 and values outside are FIRKIN_E_INVALID_ARGUMENT.
 *  Ignored by LZ4 and none. Generic name "compression_level". */
FIRKIN_API firkin_status firkin_options_set_compression_level(firkin_options *opts, int32_t level);
FIRKIN_API firkin_status firkin_options_get_compression_level(const firkin_options *opts,
                                                              int32_t *out);
/** Values shorter than this many bytes are never compressed (default 64;
 *  any uint32_t; 0 = try every non-empty value). Generic name
 *  "compression_min_size" (a size: "4K" works). */
FIRKIN_API firkin_status firkin_options_set_compression_min_size(firkin_options *opts,
                                                                 uint32_t bytes);
FIRKIN_API firkin_status firkin_options_get_compression_min_size(const firkin_options *opts,
                                                                 uint32_t *out);

/* ---- encryption at rest (issue 12; docs/api.md "Encryption") ---------- */
/** Encrypts a new database, or opens an encrypted one, with a raw 256-bit
 *  key (key_len must be 32; the bytes are copied). A new database gets a
 *  random data key, wrapped under this key in the file KEYS of its
 *  directory, which seals (AES-256-GCM) every key, value and namespace
 *  name written to the log, and the checkpoint (docs/format.md,
 *  "Encryption"). A sealed record whose bytes were changed reads as
 *  FIRKIN_E_CORRUPTION, never as other data (nor as absent): its header
 *  fields and key are authenticated with it, by the open for every record
 *  it replays (such a record is damage: firkin_open fails naming it, or
 *  the salvage option skips it), and by reads of records a checkpoint let
 *  the open skip until the background scrub has authenticated them.
 *  An encrypted database opened without a key, or with the wrong one, and
 *  an unencrypted one opened with a key: FIRKIN_E_BAD_KEY at firkin_open.
 *  Replaces a passphrase set before. There is no getter for the secret:
 *  firkin_options_get(opts, "encryption") says "none", "key" or
 *  "passphrase".
 *  Statuses: FIRKIN_E_INVALID_ARGUMENT (NULL opts or key, key_len != 32).
 *  Thread contract: as every options setter (one thread at a time). */
FIRKIN_API firkin_status firkin_options_set_encryption_key(firkin_options *opts, const void *key,
                                                           size_t key_len);
/** Like firkin_options_set_encryption_key, but the key-encryption key is
 *  derived from a NUL-terminated passphrase (1..4096 bytes) with Argon2id.
 *  A new database (or a rekey) records the salt and the cost taken from the
 *  options "kdf_memory_kib" (default 65536 = 64 MiB), "kdf_passes" (3) and
 *  "kdf_lanes" (1), set with firkin_options_set; an existing database uses
 *  the cost it recorded. Opening costs one derivation (about 0.1-0.5 s at
 *  the defaults). Statuses: FIRKIN_E_INVALID_ARGUMENT (NULL, empty or too
 *  long). */
FIRKIN_API firkin_status firkin_options_set_passphrase(firkin_options *opts,
                                                       const char *passphrase);

/** Generic setter by name, for configuration files and bindings. Names are
 *  the option names above ("create_if_missing", "sync_mode", ...). Booleans
 *  take "true"/"false", "1"/"0", "yes"/"no" or "on"/"off" (in any case:
 *  "TRUE", "Off"); sync_mode takes "none"/"interval"/"always"; sizes take
 *  a decimal byte count (digits only) with an optional suffix K/M/G (also
 *  k/m/g or KiB/MiB/GiB, powers of 1024); compression_level an integer
 *  (digits with an optional '-', no spaces or '+').
 *  Unknown names and bad values give FIRKIN_E_INVALID_ARGUMENT with a
 *  message (a bound that depends on another option, kdf_memory_kib's
 *  minimum of 8 KiB per kdf_lane, is checked by firkin_open). Encryption (write-only names): "encryption_key" takes 64 hex
 *  digits, "passphrase" the text (as firkin_options_set_encryption_key /
 *  _set_passphrase); "kdf_memory_kib", "kdf_passes", "kdf_lanes" the
 *  Argon2id cost; the getter's "encryption" reads "none", "key" or
 *  "passphrase", never a secret. */
FIRKIN_API firkin_status firkin_options_set(firkin_options *opts, const char *name,
                                            const char *value);
/** Generic getter: *out receives the value as text (same spelling the setter
 *  accepts), freed with firkin_free. */
FIRKIN_API firkin_status firkin_options_get(const firkin_options *opts, const char *name,
                                            char **out);

/** Per-write options. Defaults: sync = FIRKIN_SYNC_DEFAULT (the database's
 *  mode). */
FIRKIN_API firkin_status firkin_write_options_new(firkin_write_options **out);
FIRKIN_API void firkin_write_options_free(firkin_write_options *wo);
FIRKIN_API firkin_status firkin_write_options_set_sync(firkin_write_options *wo,
                                                       firkin_sync_mode v);
FIRKIN_API firkin_status firkin_write_options_get_sync(const firkin_write_options *wo,
                                                       firkin_sync_mode *out);

/* ------------------------------------------------------------------------ */
/* Database                                                                  */
/* ------------------------------------------------------------------------ */

/** Opens (or creates) the database in directory `path`.
 *  opts may be NULL (defaults). On success *out receives the handle.
 *  Statuses: FIRKIN_E_NOT_FOUND (directory missing and create_if_missing is
 *  false), FIRKIN_E_EXISTS (error_if_exists), FIRKIN_E_NOT_A_DATABASE (a file,
 *  or a non-empty directory that is not a Firkin database), FIRKIN_E_BUSY
 *  (another writer holds the lock), FIRKIN_E_VERSION (newer format),
 *  FIRKIN_E_BAD_KEY (encrypted database without the right key, or a key for
 *  an unencrypted one), FIRKIN_E_CORRUPTION (damage
 *  outside the tail of the log, in what the open reads; the message names
 *  file and offset; see the salvage option; also a segment file the
 *  checkpoint lists that is gone, or a log segment file compaction retired
 *  that was put back, each named; damage in the part of the log a valid
 *  checkpoint lets the open skip is found by reads, the background scrub
 *  and firkin_verify instead: README, "Checksums on reads"),
 *  FIRKIN_E_IO. A torn tail of the last segment after a
 *  crash is not an error: it is cut off and counted in the stats. */
FIRKIN_API firkin_status firkin_open(const char *path, const firkin_options *opts,
                                     firkin_db **out);

/** Offline key rotation of the encrypted database at `path`: unwraps its
 *  data key with old_opts' key or passphrase and wraps it again under
 *  new_opts' (a raw key, or a passphrase with new_opts' KDF cost and a new
 *  salt); KEYS is replaced atomically (temp file, fsync, rename, directory
 *  fsync). Only the wrapping changes: the data key, and so every sealed
 *  byte on disk, stays the same; after it the old key no longer opens the
 *  database, but someone who kept a copy of the old KEYS file and the old
 *  key can still read the data (see docs/api.md, "Encryption": a full
 *  re-encryption is a dump into a new database). Takes the writer lock:
 *  FIRKIN_E_BUSY while the database is open for writing.
 *  Statuses: FIRKIN_E_INVALID_ARGUMENT (NULL path or options, either
 *  options without a key), FIRKIN_E_BAD_KEY (the old key is wrong, or the
 *  database is not encrypted), FIRKIN_E_NOT_A_DATABASE, FIRKIN_E_BUSY,
 *  FIRKIN_E_CORRUPTION (KEYS damaged), FIRKIN_E_IO. Thread-safe. */
FIRKIN_API firkin_status firkin_rekey(const char *path, const firkin_options *old_opts,
                                      const firkin_options *new_opts);

/*  Read-only handles beside a writer (option read_only).
 *  A read-only open takes only a shared lock on LOCK and on the directory,
 *  which no writer waits for (while one is held the writer reuses no
 *  retired segment file), and
 *  writes nothing to the directory (no
 *  LOCK created, no leftover removed, no tail cut, no checkpoint), so any
 *  number of read-only handles, in any processes, may be open while one
 *  writer process has the database open, before or after it starts. The
 *  writer never waits for a reader: readers are invisible to it.
 *  What a read-only handle sees: while a writer holds the database, the
 *  writer's durable state as of the open -- every record below the
 *  durability watermark of the newest log segment (the writer raises it
 *  after each sync: at most sync_interval_ms behind with
 *  FIRKIN_SYNC_INTERVAL, at once with FIRKIN_SYNC_ALWAYS, only at
 *  firkin_sync / segment rolls / checkpoints / close with FIRKIN_SYNC_NONE;
 *  on disk it may trail a group commit briefly: docs/format.md) and all
 *  sealed segments and
 *  compaction outputs. That is a completed prefix of the log: never part of
 *  a batch, never a half-written record, never a hole. Without a writer, it
 *  sees every complete record (as a writable open would, without cutting
 *  anything). With updates in place (in_place_updates) one exception to
 *  "never a hole": an update in place does not wait for appends numbered
 *  before it by other threads, and a sync waits at most 100 ms for them;
 *  an append still in flight after that (its put not returned) may be
 *  missing from a state that holds the update, and come with a later
 *  refresh, numbered below the firkin_last_seq the handle reported
 *  (writes acknowledged before the update are always there). The state
 *  stays fixed until firkin_refresh. An open that
 *  races the writer's retirement of segments starts over, for up to 10 s;
 *  then it fails with FIRKIN_E_BUSY (nothing is damaged). */

/** Moves a read-only handle to the writer's latest durable state (see the
 *  block above): replays what the writer made durable since the open or
 *  the last refresh, maps the segments it created, and drops those it
 *  retired (compaction). Reads in other threads go on meanwhile and see the
 *  old state until the refresh is complete: a read of that state (through
 *  a snapshot or an iterator) that the refresh leaves unanswerable (its
 *  last step takes out what only older states need, just before it
 *  publishes the new one) waits until the refresh is complete, then fails
 *  with FIRKIN_E_SNAPSHOT_TOO_OLD as a read of an older state does (a read
 *  of the latest state reads the new one instead; it never finds a key
 *  absent before firkin_last_seq reports a state in which it is). The
 *  writer is never waited for.
 *  On a writable handle (always at its latest state) it does nothing and
 *  returns FIRKIN_OK.
 *  The writer does not know a reader's snapshots and keeps no history for
 *  them: after a refresh that dropped retired segments, a read through an
 *  older snapshot or iterator (or firkin_snapshot_at an older sequence
 *  number) that needs history those segments held fails with
 *  FIRKIN_E_SNAPSHOT_TOO_OLD, never with a wrong value ("history_floor" in
 *  the stats: snapshots below it can no longer be told at all); an
 *  iterator opened after it over an older state ends at once with that
 *  status. The state the refresh reaches always iterates whole.
 *  A namespace drop the handle never read (it lay in a log segment
 *  compaction retired first) shows when the segment holding the
 *  namespace's create record goes: the refresh that sees it go drops the
 *  namespace and forgets it, as it forgets a dropped namespace the writer
 *  forgot (for a namespace the open loaded from a version-7 checkpoint,
 *  which does not place create records, the refresh reads each segment
 *  the checkpoint listed, as it goes, for its create record:
 *  "create_scan_bytes" in the stats). Until then
 *  the handle lists it (docs/format.md).
 *  Statuses: FIRKIN_E_INVALID_ARGUMENT (NULL db), FIRKIN_E_CORRUPTION (a
 *  record below the watermark failed its checks; nothing new is visible),
 *  FIRKIN_E_BUSY (the directory kept changing under it for 8 listings in a
 *  row; retry), FIRKIN_E_IO, FIRKIN_E_NO_MEMORY. A refresh that fails
 *  takes back what it had read: the handle's state (its reads, counts and
 *  namespaces) stays that of the last refresh that succeeded, and the next
 *  refresh starts again from there. The namespaces a refresh creates and
 *  drops change for other threads together, in its last step, just before
 *  it publishes the new state. Thread-safe; concurrent refreshes of one
 *  handle run one after the other. firkin_last_seq and firkin_stats
 *  ("reader": {"seq": ...}) tell the sequence number the handle now sees. */
FIRKIN_API firkin_status firkin_refresh(firkin_db *db);

/** Drops the caller's reference. When no child handle is left, flushes and
 *  syncs the log, releases the lock and frees the database. Returns the
 *  status of that final flush (FIRKIN_OK if children keep it open).
 *  Accepts NULL. */
FIRKIN_API firkin_status firkin_close(firkin_db *db);

/** Makes every acknowledged write durable now (fdatasync). */
FIRKIN_API firkin_status firkin_sync(firkin_db *db);

/** The newest published sequence number (every acknowledged write has a
 *  sequence number ≤ it: an update in place returns before the writes
 *  numbered below it are published, so this call may wait, microseconds,
 *  for those in flight). */
FIRKIN_API firkin_status firkin_last_seq(firkin_db *db, uint64_t *out);

/** Statistics as a JSON object, freed with firkin_free: keys (live keys,
 *  expired ones not counted, as firkin_count counts them; an atomic batch
 *  is counted whole or not at all, also one over several namespaces; when
 *  a namespace may hold expired keys, one walk of the index counts every
 *  namespace at one snapshot, otherwise each namespace's counter is read
 *  in turn, so writes that each touch one namespace, or a namespace drop,
 *  may be in the counts of the namespaces read after them and not in
 *  those read before: the total is then not that of one state), namespaces,
 *  segments (with live and dead bytes each), index load and memory, writes,
 *  syncs, bytes cut from a torn tail, records skipped by salvage, records an
 *  in-place update left torn that the open made whole from their images in
 *  LIVE ("recovery": {"images_restored": N}, after a kill -9), bytes of log
 *  records the open read to find the newest commit time ("recovery":
 *  {"clock_scan_bytes": N}: 0 where seal clocks told it; after a crash, up
 *  to a segment at the first open, which then records it in the tail, and
 *  at every read-only open until a writable one has), damaged copies of an
 *  encrypted database's KEYS file that a writable open wrote over with the
 *  intact copy ("recovery": {"keys_repaired": N}: 0 or 1). */
FIRKIN_API firkin_status firkin_stats(firkin_db *db, char **json_out);

/** Compacts now: seals the active segment if it holds dead bytes, rewrites
 *  every sealed segment that holds dead bytes (and whose dead versions no
 *  live snapshot needs), then retires the old segments. Returns when done:
 *  beside writers that keep writing, after passes for about the segments
 *  there were when it was called (twice as many passes, and 16 more), not
 *  when no dead byte is left. Background compaction does the same
 *  incrementally when auto_compact is on. With ordered namespaces it also
 *  merges the segments holding their records out of key order into sorted
 *  outputs (groups of up to 4 segment sizes, 1 GiB at most; docs/api.md
 *  "Ordered namespaces", Layout): call it after a bulk load for fast range
 *  scans. A damaged record in a segment it would rewrite (every checksum is
 *  checked, also in segments this process wrote and damaged since) stops
 *  it with FIRKIN_E_CORRUPTION naming the file and offset; that segment is
 *  left as it is: reads check its records from then on (the damage is
 *  reported, never returned), background compaction leaves it alone and
 *  compacts the rest, and an open with salvage repairs it. */
FIRKIN_API firkin_status firkin_compact(firkin_db *db);

/** Progress of a long call (firkin_compact_v2, firkin_verify_v2,
 *  firkin_verify_path_v2): done of total bytes. Called on the thread that
 *  made the call, first with done = 0, last with done = total when the call
 *  succeeds; done never decreases and never exceeds total. ctx is the
 *  pointer given with the callback. It must not call into the same
 *  database. */
typedef void (*firkin_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/** firkin_compact with a progress callback (NULL: none): bytes of the
 *  segments read by compaction passes, of the sealed segments with dead
 *  bytes when it started. */
FIRKIN_API firkin_status firkin_compact_v2(firkin_db *db, firkin_progress_fn progress,
                                           void *ctx);

/** Writes an index checkpoint now (also done at close and every
 *  checkpoint_every bytes), so that the next open replays only the log
 *  written after it. Writes on other threads wait while the index is
 *  copied into the checkpoint file (mapped; about 60 ms at 10 M keys on a
 *  2-core machine), which is synced after they resume; an encrypted
 *  database copies it into memory instead (8 bytes a key) and seals the
 *  file whole. Thread-safe; one checkpoint at a time. */
FIRKIN_API firkin_status firkin_checkpoint(firkin_db *db);

/** Verifies an open database: every record's checksum, that every index
 *  entry points at a valid record of its key, and the namespace table;
 *  on a writable handle also the log against the index: every put or
 *  delete record of a live namespace is reached by its key's newest index
 *  entry (one at least as new; a batch's records only if their commit
 *  record is there: those of a batch a crash cut short were never applied,
 *  and stay until compaction drops them), and each namespace's key and TTL counts
 *  are its index entries' (a key the index lost is reported, not only a
 *  damaged one). Runs beside writers; compaction passes and namespace
 *  creations and drops wait while it walks the index; each write waits at
 *  most for the part of the walk over its key's sub-table (1/1024 of the
 *  index), except during the last step on a writable handle, a pass that
 *  counts each namespace's put entries under the writer gate (writes
 *  stop for it: about 0.1 us an entry, 0.2 s at 2 M keys on a 2-core
 *  machine); updates in place are off while verify runs. A damaged region
 *  the open skipped (salvage) is counted once, as the open reported it; on
 *  a read-only handle, damage its last firkin_refresh met (the handle's
 *  state stops before it) is reported too, until a refresh succeeds. A
 *  log segment in which it finds a damaged record is checked record by
 *  record on every later read of this handle, so the damage it reports is
 *  never returned by a read (FIRKIN_E_CORRUPTION instead).
 *  *report_json (may be NULL if not wanted; freed with firkin_free) receives
 *  {"ok":bool,"records":N,"bad_records":N,"index_entries":N,
 *   "bad_index_entries":N,"problems":[...]}. Returns FIRKIN_OK if no
 *  problem was found, FIRKIN_E_CORRUPTION otherwise. */
FIRKIN_API firkin_status firkin_verify(firkin_db *db, char **report_json);
/** firkin_verify with a progress callback (NULL: none): record bytes of the
 *  log checked so far, of all. */
FIRKIN_API firkin_status firkin_verify_v2(firkin_db *db, firkin_progress_fn progress, void *ctx,
                                          char **report_json);

/** Verifies the database at path through a read-only handle: opens it
 *  read-only (with opts, or defaults; salvage is forced on so that every
 *  problem is reported rather than the first), verifies it as firkin_verify
 *  does, and closes it. Beside a live writer process it verifies the
 *  writer's durable state (see read-only handles). Nothing is modified. */
FIRKIN_API firkin_status firkin_verify_path(const char *path, const firkin_options *opts,
                                            char **report_json);
/** firkin_verify_path with a progress callback (NULL: none), as
 *  firkin_verify_v2. */
FIRKIN_API firkin_status firkin_verify_path_v2(const char *path, const firkin_options *opts,
                                               firkin_progress_fn progress, void *ctx,
                                               char **report_json);

/* ------------------------------------------------------------------------ */
/* Point operations                                                          */
/*  db, then options (wo or snap, NULL = defaults / latest), then namespace   */
/*  (NULL = default), then key and value, then outputs.                       */
/* ------------------------------------------------------------------------ */

/** Stores value under key, replacing any previous value. */
FIRKIN_API firkin_status firkin_put(firkin_db *db, const firkin_write_options *wo,
                                    const firkin_ns *ns, const void *key, size_t key_len,
                                    const void *val, size_t val_len);

/** Reads the value of key at snap (NULL = latest) into a new buffer *val
 *  (freed with firkin_free; a zero-length value gives a non-NULL buffer) of
 *  *val_len bytes. FIRKIN_E_NOT_FOUND if absent. */
FIRKIN_API firkin_status firkin_get(firkin_db *db, const firkin_snapshot *snap,
                                    const firkin_ns *ns, const void *key, size_t key_len,
                                    void **val, size_t *val_len);

/** Reads into a caller buffer of cap bytes. *val_len receives the value's
 *  size; if it is larger than cap, nothing is copied and the status is
 *  FIRKIN_E_BUFFER_TOO_SMALL. buf may be NULL when cap is 0. */
FIRKIN_API firkin_status firkin_get_into(firkin_db *db, const firkin_snapshot *snap,
                                         const firkin_ns *ns, const void *key,
                                         size_t key_len, void *buf, size_t cap,
                                         size_t *val_len);

/** *found = whether key has a value at snap. */
FIRKIN_API firkin_status firkin_contains(firkin_db *db, const firkin_snapshot *snap,
                                         const firkin_ns *ns, const void *key,
                                         size_t key_len, bool *found);

/** *version receives the version of key's current value at snap: the
 *  sequence number of the write that stored it. FIRKIN_E_NOT_FOUND if
 *  absent. Use with firkin_cas_version. */
FIRKIN_API firkin_status firkin_get_version(firkin_db *db, const firkin_snapshot *snap,
                                            const firkin_ns *ns, const void *key,
                                            size_t key_len, uint64_t *version);

/** Removes key. Removing an absent key succeeds and writes nothing. */
FIRKIN_API firkin_status firkin_delete(firkin_db *db, const firkin_write_options *wo,
                                       const firkin_ns *ns, const void *key,
                                       size_t key_len);

/** Stores value only if key is absent; FIRKIN_E_CONDITION_FAILED if it
 *  exists. The conditional writes (this, firkin_cas, firkin_cas_version,
 *  and a batch's or transaction's conditions) give FIRKIN_E_CORRUPTION and
 *  write nothing when the key's newest record, or a record that may be it
 *  (one under the key's hash whose checksum or authentication failed),
 *  is damaged: a get of the key says the same. */
FIRKIN_API firkin_status firkin_put_if_absent(firkin_db *db, const firkin_write_options *wo,
                                              const firkin_ns *ns, const void *key,
                                              size_t key_len, const void *val,
                                              size_t val_len);

/** Compare-and-swap on the value: stores val only if key exists and its
 *  current value equals (expected, expected_len); otherwise
 *  FIRKIN_E_CONDITION_FAILED and nothing is written (no key changes; one
 *  that failed only after taking its sequence number, as
 *  firkin_snapshot_at_time tells, uses the number up: firkin_last_seq
 *  counts it, and the change feed passes over it). */
FIRKIN_API firkin_status firkin_cas(firkin_db *db, const firkin_write_options *wo,
                                    const firkin_ns *ns, const void *key, size_t key_len,
                                    const void *expected, size_t expected_len,
                                    const void *val, size_t val_len);

/** Compare-and-swap on the version: stores val only if key's current version
 *  (see firkin_get_version) equals expected_version; expected_version 0
 *  means "key is absent". Otherwise FIRKIN_E_CONDITION_FAILED. */
FIRKIN_API firkin_status firkin_cas_version(firkin_db *db, const firkin_write_options *wo,
                                            const firkin_ns *ns, const void *key,
                                            size_t key_len, uint64_t expected_version,
                                            const void *val, size_t val_len);

/** Reads n keys at one snapshot. keys[i]/key_lens[i] are inputs. For each i,
 *  statuses[i] receives FIRKIN_OK (vals[i] is a new buffer of val_lens[i]
 *  bytes, freed with firkin_free), FIRKIN_E_NOT_FOUND (vals[i] = NULL) or an
 *  error about that key (a bad key, a corruption, a snapshot too old for
 *  it; vals[i] = NULL). The call itself fails, with every vals[i] NULL, on
 *  bad arguments, on a namespace or snapshot of another database
 *  (FIRKIN_E_INVALID_ARGUMENT) and on a dropped namespace
 *  (FIRKIN_E_NAMESPACE_NOT_FOUND, also when it is dropped during the call);
 *  firkin_last_error() then says why, as for any call.
 *  Messages of the keys that failed: when the call returns FIRKIN_OK,
 *  firkin_last_error() holds the message of each key whose status is an
 *  error (not FIRKIN_E_NOT_FOUND), after its index, in key order, joined
 *  by "; ": "key 3: <message>; key 7: <message>"; the first 8 such keys
 *  only, then "; and N more keys failed (their statuses say which)".
 *  "" when every status is FIRKIN_OK or FIRKIN_E_NOT_FOUND. (Until
 *  2026-11-27 the call's success cleared them.) */
FIRKIN_API firkin_status firkin_multi_get(firkin_db *db, const firkin_snapshot *snap,
                                          const firkin_ns *ns, size_t n,
                                          const void *const *keys, const size_t *key_lens,
                                          void **vals, size_t *val_lens,
                                          firkin_status *statuses);

/** Multi-get in one packed buffer, for bindings (no per-key allocation).
 *  Input `keys` holds n entries, each a 4-byte little-endian length then the
 *  key bytes. *out receives (freed with firkin_free) *out_len bytes holding,
 *  for each key in order, a 4-byte little-endian int32 status, then if the
 *  status is FIRKIN_OK a 4-byte little-endian value length and the value.
 *  The call fails (*out NULL) as firkin_multi_get does: bad arguments, a
 *  handle of another database, a dropped namespace. When it succeeds,
 *  firkin_last_error() holds the messages of the keys whose status is an
 *  error, as firkin_multi_get says (the index is the key's position in
 *  `keys`, from 0). */
FIRKIN_API firkin_status firkin_multi_get_packed(firkin_db *db, const firkin_snapshot *snap,
                                                 const firkin_ns *ns, const void *keys,
                                                 size_t keys_len, void **out,
                                                 size_t *out_len);

/* ------------------------------------------------------------------------ */
/* Write batches: applied atomically, across namespaces                     */
/* ------------------------------------------------------------------------ */

/** A batch of puts and deletes, written with firkin_write: all of it becomes
 *  visible at once, and after any crash either all of it or none of it is
 *  present. Later operations on the same key in a batch win. A batch is made
 *  without a database; the namespace handles put into it must all belong to
 *  one database (firkin_batch_put/_delete refuse another one's with
 *  FIRKIN_E_INVALID_ARGUMENT), and it may be written only to that one (a NULL
 *  namespace means the default namespace of the database it is written to).
 *  firkin_batch_clear forgets the database. A batch does not keep its
 *  namespaces' database open (it holds no handle): closed and opened
 *  again, the database is another one to the batch (FIRKIN_E_INVALID_ARGUMENT
 *  from firkin_write; clear it and fill it again). */
FIRKIN_API firkin_status firkin_batch_new(firkin_batch **out);
FIRKIN_API void firkin_batch_free(firkin_batch *b);
FIRKIN_API firkin_status firkin_batch_put(firkin_batch *b, const firkin_ns *ns,
                                          const void *key, size_t key_len, const void *val,
                                          size_t val_len);
FIRKIN_API firkin_status firkin_batch_delete(firkin_batch *b, const firkin_ns *ns,
                                             const void *key, size_t key_len);
FIRKIN_API firkin_status firkin_batch_clear(firkin_batch *b);
/** Number of operations queued in the batch. */
FIRKIN_API firkin_status firkin_batch_count(const firkin_batch *b, size_t *out);
/** Applies the batch atomically. The batch is left unchanged (it may be
 *  written again or cleared). FIRKIN_E_TOO_LARGE if its keys and values
 *  come to more than 1 GiB (README, "Limits"). FIRKIN_E_INVALID_ARGUMENT if it holds a
 *  namespace of another database (or of one that was closed);
 *  FIRKIN_E_NAMESPACE_NOT_FOUND if a namespace it names was dropped; nothing
 *  is written then. */
FIRKIN_API firkin_status firkin_write(firkin_db *db, const firkin_write_options *wo,
                                      const firkin_batch *b);

/* ------------------------------------------------------------------------ */
/* Namespaces                                                                */
/* ------------------------------------------------------------------------ */

/** Every database has the namespace "default" (what a NULL firkin_ns means);
 *  it cannot be dropped. Other namespaces are created, opened and dropped
 *  by name. A firkin_ns handle keeps the database alive. Operations through
 *  the handle of a dropped namespace return FIRKIN_E_NAMESPACE_NOT_FOUND,
 *  even if a namespace of the same name is created again; the handle's own
 *  properties (firkin_ns_name, firkin_ns_flags) still read as they were.
 *  Ids are never reused, yet a dropped namespace costs no log and almost
 *  no memory for good: compaction removes its records and the database
 *  then forgets it (firkin_stats: "namespaces_held"), while its handles
 *  keep answering as above; a read-only handle forgets a namespace when it
 *  sees that the writer did, and takes one the writer dropped and forgot
 *  for dropped although it never read the drop. Left until the database
 *  handle closes: about 64 B for each dropped ordered namespace (its empty
 *  ordered index) (docs/api.md). */

/** Opens namespace `name`. If it does not exist: creates it when create is
 *  true, else FIRKIN_E_NAMESPACE_NOT_FOUND. */
FIRKIN_API firkin_status firkin_ns_open(firkin_db *db, const char *name, bool create,
                                        firkin_ns **out);
/** Creates namespace `name`; FIRKIN_E_EXISTS if it exists. */
FIRKIN_API firkin_status firkin_ns_create(firkin_db *db, const char *name, firkin_ns **out);
/** Drops namespace `name` and all its keys (durably, like a write with the
 *  database's sync mode). */
FIRKIN_API firkin_status firkin_ns_drop(firkin_db *db, const char *name);
/** Lists the namespaces, "default" included, as names each followed by '\n',
 *  in a NUL-terminated string freed with firkin_free. */
FIRKIN_API firkin_status firkin_ns_list(firkin_db *db, char **out);
/** The namespace's name (owned by the handle). NULL if ns is NULL. */
FIRKIN_API const char *firkin_ns_name(const firkin_ns *ns);
/** Releases the handle (not the namespace). Accepts NULL. */
FIRKIN_API void firkin_ns_close(firkin_ns *ns);

/** Number of live keys in the namespace, at the latest state; expired keys
 *  (TTL) are not counted. Beside any writes an atomic batch (firkin_write,
 *  a transaction's commit) is counted whole or not at all. O(1) while no
 *  key of the namespace can have expired yet (a per-namespace counter and
 *  the earliest expiry written; a write changes it once, after its keys
 *  are in the index and just before it is published, so a count may hold
 *  a write that reads see a moment later, and two writes that run at once
 *  may change it in the other order than their sequence numbers, so the
 *  count may be of a state no reader saw: one of them without the other;
 *  a refresh of a read-only handle changes it once too, with its new
 *  state); after that, while
 *  expired keys wait for compaction, a walk of the index (O(keys in the
 *  database)) at a snapshot of the published state taken when the walk
 *  starts (held while it runs, like firkin_snapshot's, but updates in
 *  place go on beside it: a key's first put after the walk took its
 *  snapshot appends, and the puts after that one go in place, so each
 *  walk costs each hot key one append, and every put appends while a
 *  walk is taking its snapshot; the walk waits, microseconds, for the
 *  overwrites in flight when it starts): a key
 *  written while it runs is counted as it
 *  was at that snapshot (one whose version at the snapshot cannot be read,
 *  damaged, or replaced in place on a read-only handle beside its writer,
 *  by its newest record), and expiry is decided at the time the walk
 *  starts. On a read-only handle a count during a refresh is of the state
 *  before it or after it (a walk that overlaps the refresh taking out the
 *  entries of segments the writer retired walks again, the second time
 *  holding refreshes off). Any thread. */
FIRKIN_API firkin_status firkin_count(firkin_db *db, const firkin_ns *ns, uint64_t *out);

/* ------------------------------------------------------------------------ */
/* Snapshots and time travel                                                 */
/* ------------------------------------------------------------------------ */

/** A snapshot is a sequence number S: reads through it see exactly the
 *  writes with sequence number ≤ S. While a snapshot is held, the history it
 *  needs is kept. A snapshot keeps the database alive. */
FIRKIN_API firkin_status firkin_snapshot_new(firkin_db *db, firkin_snapshot **out);
/** A snapshot at an older sequence number (time travel): seq must be ≤
 *  firkin_last_seq. Reads through it give FIRKIN_E_SNAPSHOT_TOO_OLD where the
 *  history they need is no longer kept, never a wrong value: a key whose
 *  versions compaction dropped, and below the history floors compaction
 *  raises (docs/api.md, "Snapshots"), a key found absent and any iterator
 *  (which then ends at once with that status). */
FIRKIN_API firkin_status firkin_snapshot_at(firkin_db *db, uint64_t seq,
                                            firkin_snapshot **out);
FIRKIN_API void firkin_snapshot_free(firkin_snapshot *snap);
/** The snapshot's sequence number; 0 if snap is NULL. */
FIRKIN_API uint64_t firkin_snapshot_seq(const firkin_snapshot *snap);

/* ------------------------------------------------------------------------ */
/* Time travel by clock time and version history                            */
/* ------------------------------------------------------------------------ */

/** The snapshot of the state as of unix_ms (milliseconds since the epoch,
 *  on the database clock, see firkin_now_ms): it holds no write committed
 *  after that time, and every write committed at or before it that was not
 *  numbered after a later-stamped one (the longest run of sequence numbers
 *  from the start whose commit times are all ≤ unix_ms; a time before the
 *  first write gives the empty state, sequence 0). Commit times follow
 *  sequence order only as closely as writers read the clock: a writer
 *  delayed between taking its number and reading the clock (preempted, on
 *  a loaded machine: up to milliseconds; otherwise microseconds) stamps a
 *  later time than writes numbered after it, and a time between the two
 *  leaves those out with it (firkin_history_time shows the stamps). A
 *  conditional write (or a delete) whose key's version expired while the
 *  write waited for its log space is stamped the last millisecond that
 *  version was live, earlier than writes numbered before it, but never
 *  earlier than the start of its log segment: where a segment roll came
 *  between the write's decision and its reservation (the writer was
 *  preempted, or a batch took long to resolve its keys) and the version
 *  expired before that roll, the write is decided again at its commit
 *  time: a CAS (firkin_cas, firkin_cas_version, firkin_persist's) then
 *  fails with FIRKIN_E_CONDITION_FAILED and writes nothing (its sequence
 *  number holds no change), and a delete deletes a key that is absent
 *  either way, stamped after the expiry (firkin_history shows it so). A write
 *  that updated a record in place (in_place_updates, off with
 *  history_retention_ms) is left out of the state at every time before
 *  now, with the writes numbered after it in its segment (its record's
 *  place in the log is an earlier one); reads of its key through such a
 *  state say FIRKIN_E_SNAPSHOT_TOO_OLD. Writes made before format version 3 have no time and count as
 *  before any time. The call first waits for the writes in flight (one
 *  stamped at or before the time may not be readable yet), so the answer
 *  for a time does not change later; unix_ms equal to the database's now
 *  (firkin_now_ms) then moves the clock past it (at most 1 ms ahead of
 *  the real clock), so that every write of that millisecond is in the
 *  state and every later one has a later time; a later time gives the
 *  latest state as of the call (writes that commit after the call are not
 *  in it, whatever their time). FIRKIN_E_SNAPSHOT_TOO_OLD if the log that tells that
 *  time is no longer kept (see history_retention_ms and "oldest_time" in
 *  firkin_stats); reads through the snapshot may still give
 *  FIRKIN_E_SNAPSHOT_TOO_OLD for a key whose history compaction took or an
 *  update in place replaced, and iterators over it as firkin_snapshot_at
 *  says (never a wrong value). FIRKIN_E_CORRUPTION (naming the log
 *  segment) for a time whose answer lies in a log segment holding a
 *  damaged record before that answer is found: the damaged record's commit
 *  time is not known, and any commit time may decide the answer (times
 *  need not follow numbers, above). *out is freed with firkin_snapshot_free and keeps
 *  the database alive. Any thread. Cost: a scan of at most one log segment. */
FIRKIN_API firkin_status firkin_snapshot_at_time(firkin_db *db, uint64_t unix_ms,
                                                 firkin_snapshot **out);

/** The versions of one key, newest first: its puts and deletes with their
 *  sequence numbers, commit times (0 for writes made before format version
 *  3) and expiries, as far back as they are kept. ns NULL = default.
 *  The versions are copied when the iterator is made (it pins nothing; a
 *  key without any version gives a valid iterator that is at its end).
 *  The handle keeps the database alive; free it with firkin_history_free.
 *  One thread at a time per handle. Loop:
 *    for (; firkin_history_valid(h); firkin_history_next(h)) ...
 *  Accessors on an iterator that is not valid return 0 / false. */
FIRKIN_API firkin_status firkin_history_new(firkin_db *db, const firkin_ns *ns, const void *key,
                                            size_t key_len, firkin_history **out);
FIRKIN_API void firkin_history_free(firkin_history *h);
FIRKIN_API bool firkin_history_valid(const firkin_history *h);
FIRKIN_API void firkin_history_next(firkin_history *h);
/** The version's sequence number (what firkin_get_version reports). */
FIRKIN_API uint64_t firkin_history_seq(const firkin_history *h);
/** Commit time in ms since the epoch; 0 = unknown (format version < 3). */
FIRKIN_API uint64_t firkin_history_time(const firkin_history *h);
/** Absolute expiry in ms since the epoch; 0 = none (see TTL). A version
 *  whose expiry has passed is listed: the key read as absent from then on. */
FIRKIN_API uint64_t firkin_history_expiry(const firkin_history *h);
/** Whether the version is a delete (a tombstone: no value). */
FIRKIN_API bool firkin_history_is_delete(const firkin_history *h);
/** The version's value (empty for a delete), borrowed until the iterator
 *  moves or is freed. FIRKIN_E_INVALID_ARGUMENT for a NULL out pointer, a
 *  NULL handle or an iterator that is not valid (at its end: unlike
 *  firkin_iter_value's FIRKIN_E_NOT_FOUND); with both out pointers given,
 *  *val is then NULL and *val_len 0. A value stored compressed is kept compressed by the
 *  handle and decoded by this call (FIRKIN_E_NO_MEMORY if its buffer cannot
 *  be had; docs/api.md "Compression"). */
FIRKIN_API firkin_status firkin_history_value(const firkin_history *h, const void **val,
                                              size_t *val_len);
/** Whether older versions may have existed that are no longer kept:
 *  compacted away, replaced by an update in place, or (once compaction has
 *  dropped any tombstone) a past before a tombstone that went, which a key
 *  whose oldest listed version has no predecessor, or a key with no
 *  version, may have had. False: the list goes back to the key's first
 *  version. */
FIRKIN_API bool firkin_history_truncated(const firkin_history *h);

/* ------------------------------------------------------------------------ */
/* TTL (expiring keys)                                                      */
/* ------------------------------------------------------------------------ */

/** firkin_ttl's answer for a key that never expires. */
#define FIRKIN_TTL_NONE UINT64_MAX

/** The database clock: milliseconds since the epoch. Each database has one
 *  clock, the system's real-time clock kept as a high-water mark of its
 *  readings, never behind the newest commit time (so a clock set back does
 *  not make expired keys come back, nor commit times go back). Across a
 *  reopen it starts from the newest commit time, or from its reading when
 *  the last log segment was sealed (firkin_close seals the active one) if
 *  later; after a crash, readings since the last seal that no commit
 *  stamped are not kept. A read-only handle's follows the commits each
 *  firkin_refresh brings (those it replays, and the newest commit a new
 *  compaction output says its inputs held). Beside a live writer its open
 *  takes the commits it read and the last one: where a write moved back
 *  in time (see firkin_snapshot_at_time) ends the log, and a newer commit
 *  before it lies in the part the open's checkpoint let it skip, it can
 *  start milliseconds behind that commit, until a refresh brings a later
 *  one. In an encrypted database every time it starts from is
 *  authenticated with the data key (sealed records' commit times; seal
 *  readings and compaction outputs' times with a MAC): one written into
 *  the files without the key is ignored (and reported by firkin_verify),
 *  never taken, and so are the seal readings and output times of
 *  libraries before 2026-11-28, which carry no MAC (docs/format.md,
 *  "Authenticated header values"). It decides expiry and stamps commits.
 *  Any thread. */
FIRKIN_API firkin_status firkin_now_ms(firkin_db *db, uint64_t *out);

/** Like firkin_put, and the key expires ttl_ms (> 0) milliseconds after the
 *  write's commit time. From its expiry on, the key reads as absent
 *  everywhere: get, get_into, contains, get_version, multi_get, firkin_ttl,
 *  iterators, snapshots (expiry is decided at the time of the read, also
 *  for reads through an older snapshot), and the conditions of put_if_absent,
 *  cas and cas_version. Deleting an expired key writes nothing. Compaction
 *  removes expired keys. firkin_count (and "keys" in stats) does not count
 *  an expired key. A later put without a TTL
 *  makes the key persistent. Statuses as firkin_put. */
FIRKIN_API firkin_status firkin_put_ttl(firkin_db *db, const firkin_write_options *wo,
                                        const firkin_ns *ns, const void *key, size_t key_len,
                                        const void *val, size_t val_len, uint64_t ttl_ms);
/** Like firkin_put_ttl with an absolute expiry: unix_ms (> 0) in ms since
 *  the epoch on the database clock. A time already past writes a key that
 *  reads as absent at once. */
FIRKIN_API firkin_status firkin_put_expire_at(firkin_db *db, const firkin_write_options *wo,
                                              const firkin_ns *ns, const void *key,
                                              size_t key_len, const void *val, size_t val_len,
                                              uint64_t unix_ms);
/** Adds a put that expires ttl_ms (> 0) after the batch's commit time (one
 *  time for the whole batch). */
FIRKIN_API firkin_status firkin_batch_put_ttl(firkin_batch *b, const firkin_ns *ns,
                                              const void *key, size_t key_len, const void *val,
                                              size_t val_len, uint64_t ttl_ms);
/** *remaining_ms receives the time left before the key (as seen through
 *  snap, NULL = latest) expires, or FIRKIN_TTL_NONE if it never expires.
 *  FIRKIN_E_NOT_FOUND if the key is absent or expired. */
FIRKIN_API firkin_status firkin_ttl(firkin_db *db, const firkin_snapshot *snap,
                                    const firkin_ns *ns, const void *key, size_t key_len,
                                    uint64_t *remaining_ms);
/** Removes the key's expiry: writes its current value again without one (a
 *  new version). FIRKIN_OK and nothing written if it has none;
 *  FIRKIN_E_NOT_FOUND if the key is absent or expired; FIRKIN_E_CONFLICT if
 *  concurrent writers kept changing the key (64 attempts). */
FIRKIN_API firkin_status firkin_persist(firkin_db *db, const firkin_write_options *wo,
                                        const firkin_ns *ns, const void *key, size_t key_len);

/* ------------------------------------------------------------------------ */
/* Iterators: every live key of a namespace exactly once, unordered,         */
/* as of one snapshot, while writes go on.                                   */
/* ------------------------------------------------------------------------ */

/** Creates an iterator over namespace ns at snap (NULL = a new snapshot of
 *  the latest state), positioned at its first entry. Use:
 *    for (; firkin_iter_valid(it); firkin_iter_next(it)) { key, value }
 *    then check firkin_iter_status(it).
 *  The iterator keeps the database alive. If its namespace is dropped while
 *  it is open, the iterator may not finish its snapshot: it then ends
 *  (firkin_iter_valid false, firkin_iter_next_n returns the error) and
 *  firkin_iter_status returns FIRKIN_E_NAMESPACE_NOT_FOUND. A damaged
 *  record header anywhere in the log it walks (an old version's too: past
 *  it, the scan cannot tell where the next record starts), or a checksum
 *  mismatch in an entry it would yield, ends it with FIRKIN_E_CORRUPTION
 *  naming the file and offset (the one firkin_verify names). A record it
 *  passes over in a segment the handle has not validated yet (one an
 *  open's checkpoint let it skip, before the background scrub) is checked
 *  too, its checksum and, in an encrypted database, its authentication: one
 *  that fails ends the iteration the same way where the bytes it claims
 *  (its length may be what is damaged) may hold a key's version at the
 *  snapshot (found by one walk of the index per damaged segment) or do not
 *  end where a valid record starts; a damaged old version is stepped over.
 *  It never ends early with FIRKIN_OK; the entries it yielded before were
 *  correct. */
FIRKIN_API firkin_status firkin_iter_new(firkin_db *db, const firkin_snapshot *snap,
                                         const firkin_ns *ns, firkin_iter **out);
FIRKIN_API void firkin_iter_free(firkin_iter *it);
/** True while the iterator is positioned on an entry. False for NULL. */
FIRKIN_API bool firkin_iter_valid(const firkin_iter *it);
/** Moves to the next entry. FIRKIN_E_NOT_FOUND if it was not valid. */
FIRKIN_API firkin_status firkin_iter_next(firkin_iter *it);
/** Borrowed key of the current entry (valid until the iterator moves).
 *  FIRKIN_E_NOT_FOUND if the iterator is not valid. */
FIRKIN_API firkin_status firkin_iter_key(const firkin_iter *it, const void **key,
                                         size_t *key_len);
/** Borrowed value of the current entry (valid until the iterator moves). */
FIRKIN_API firkin_status firkin_iter_value(const firkin_iter *it, const void **val,
                                           size_t *val_len);
/** FIRKIN_OK, or the error that ended the iteration early (corruption,
 *  I/O, its namespace dropped: FIRKIN_E_NAMESPACE_NOT_FOUND; a step
 *  that ran out of memory: FIRKIN_E_NO_MEMORY, and the iterator is not
 *  valid from then on, though an ordered one's firkin_iter_seek starts it
 *  again). */
FIRKIN_API firkin_status firkin_iter_status(const firkin_iter *it);
/** Copies entries, starting with the current one, into buf and advances
 *  past them: each entry is a 4-byte little-endian key length, a 4-byte
 *  little-endian value length, the key and the value. Stops when the next
 *  entry does not fit or the iterator ends. *used receives the bytes
 *  written, *count the entries. If the iterator is valid and even the first
 *  entry does not fit, returns FIRKIN_E_BUFFER_TOO_SMALL with *used set to
 *  the size it needs. At the end: FIRKIN_OK with *count 0. */
FIRKIN_API firkin_status firkin_iter_next_n(firkin_iter *it, void *buf, size_t cap,
                                            size_t *used, size_t *count);

/* ------------------------------------------------------------------------ */
/* Ordered namespaces: range, prefix and reverse scans in key byte order.   */
/* ------------------------------------------------------------------------ */

/** A namespace created with FIRKIN_NS_ORDERED keeps an ordered index beside
 *  its hash index (about 10 bytes of RAM per key, 8 after an open that
 *  rebuilds it; saved in the checkpoint and loaded from it at open, else
 *  rebuilt from the hash index; docs/api.md "Ordered namespaces"). Keys compare as unsigned
 *  bytes (memcmp, then the shorter first). Every other call works on it as
 *  on any namespace; the hash-order firkin_iter_new works too. A database
 *  that holds an ordered namespace is format version 4: older libraries
 *  refuse it with FIRKIN_E_VERSION. */
#define FIRKIN_NS_ORDERED 1

/** Creates namespace `name` with flags (0 or FIRKIN_NS_ORDERED): as
 *  firkin_ns_create otherwise. FIRKIN_E_EXISTS if it exists (whatever its
 *  flags); FIRKIN_E_INVALID_ARGUMENT for an unknown flag. The flag is
 *  durable (in the namespace's create record). */
FIRKIN_API firkin_status firkin_ns_create_v2(firkin_db *db, const char *name, uint32_t flags,
                                             firkin_ns **out);
/** The namespace's flags (FIRKIN_NS_ORDERED or 0) into *out. */
FIRKIN_API firkin_status firkin_ns_flags(const firkin_ns *ns, uint32_t *out);

/** Iterator flag: descending key order. */
#define FIRKIN_ITER_REVERSE 1

/** An ordered iterator over the keys k of namespace ns (which must be
 *  ordered, else FIRKIN_E_INVALID_ARGUMENT) with start <= k < end, at snap
 *  (NULL = a new snapshot of the latest state). start NULL or empty: from
 *  the first key; end NULL or empty: to the last (a NULL bound must have
 *  length 0; an empty bound is no bound whatever its pointer, as no key is
 *  empty). start >= end gives an empty iterator, not an error. flags: 0 or
 *  FIRKIN_ITER_REVERSE (from the last key below end down to start). The
 *  handle is a firkin_iter: valid / next / key / value / status / next_n as
 *  above, plus firkin_iter_seek; free it with firkin_iter_free. Snapshot
 *  semantics: every key live at the snapshot exactly once, in order,
 *  whatever is written, deleted or compacted meanwhile. Values are copies
 *  owned by the iterator (borrowed until it moves, like any iterator's). */
FIRKIN_API firkin_status firkin_range_iter_new(firkin_db *db, const firkin_snapshot *snap,
                                               const firkin_ns *ns, const void *start,
                                               size_t start_len, const void *end,
                                               size_t end_len, uint32_t flags,
                                               firkin_iter **out);
/** The keys that start with prefix (prefix_len 0: every key), as
 *  firkin_range_iter_new. */
FIRKIN_API firkin_status firkin_prefix_iter_new(firkin_db *db, const firkin_snapshot *snap,
                                                const firkin_ns *ns, const void *prefix,
                                                size_t prefix_len, uint32_t flags,
                                                firkin_iter **out);
/** Repositions an ordered iterator, inside its range: forward to the first
 *  key >= key, reverse to the last key <= key. An iterator that had ended
 *  can seek again. Returns firkin_iter_status's value. On an iterator in
 *  hash order (firkin_iter_new, firkin_txn_iter_new), and for bad
 *  arguments (NULL iterator, NULL key with a length, a key over 65535
 *  bytes): FIRKIN_E_INVALID_ARGUMENT with a message, the iterator and its
 *  status unchanged. */
FIRKIN_API firkin_status firkin_iter_seek(firkin_iter *it, const void *key, size_t key_len);
/** Whether it is an ordered iterator (false for NULL). */
FIRKIN_API bool firkin_iter_is_ordered(const firkin_iter *it);
/** The transaction's view of [start, end) of ordered namespace ns, in
 *  order: the snapshot's entries, the keys the transaction wrote replaced by
 *  its own puts (or hidden by its deletes), as of when the iterator is made.
 *  Serializable: commit fails with FIRKIN_E_CONFLICT if any write to ns
 *  committed after the snapshot (phantoms), as for firkin_txn_iter_new.
 *  FIRKIN_E_BUSY if another thread is using txn. */
FIRKIN_API firkin_status firkin_txn_range_iter_new(firkin_txn *txn, const firkin_ns *ns,
                                                   const void *start, size_t start_len,
                                                   const void *end, size_t end_len,
                                                   uint32_t flags, firkin_iter **out);
/** The transaction's view of the keys starting with prefix. */
FIRKIN_API firkin_status firkin_txn_prefix_iter_new(firkin_txn *txn, const firkin_ns *ns,
                                                    const void *prefix, size_t prefix_len,
                                                    uint32_t flags, firkin_iter **out);

/* ------------------------------------------------------------------------ */
/* Optimistic transactions                                                   */
/* ------------------------------------------------------------------------ */

/** Isolation level of a transaction.
 *  FIRKIN_TXN_SNAPSHOT (the default): reads see the snapshot taken at begin
 *  plus the transaction's own writes; commit fails with FIRKIN_E_CONFLICT
 *  if any key it writes got a new version (put or delete) after that
 *  snapshot. Write skew is possible.
 *  FIRKIN_TXN_SERIALIZABLE: in addition every key it read (a read that
 *  found nothing included) must be unchanged, and every namespace it
 *  iterated must have had no write committed after the snapshot (a write
 *  in flight at commit counts as one: such a conflict may be false, a
 *  missed one never happens). */
typedef enum firkin_isolation {
  FIRKIN_TXN_SNAPSHOT = 0,
  FIRKIN_TXN_SERIALIZABLE = 1
} firkin_isolation;

/** Largest transaction: distinct keys read (serializable) or written, and
 *  bytes of keys and values buffered. An operation past a limit fails with
 *  FIRKIN_E_TOO_LARGE and changes nothing; the transaction stays usable. */
#define FIRKIN_TXN_MAX_OPS 65536
#define FIRKIN_TXN_MAX_BYTES (32u << 20)

/** Begins a transaction at a snapshot of the latest state. *out is owned by
 *  the caller (firkin_txn_free) and keeps the database alive.
 *  What it pins: its snapshot is registered like firkin_snapshot_new's, so
 *  compaction keeps the history it reads, from begin until commit,
 *  rollback or free -- an abandoned open transaction holds that history
 *  until it is freed, the database closes, or it is older than
 *  txn_max_age_ms (10 minutes by default): then it gives its snapshot up
 *  and its calls return FIRKIN_E_SNAPSHOT_TOO_OLD. Its writes are buffered in
 *  memory (at most FIRKIN_TXN_MAX_BYTES) and touch nothing until commit.
 *  Statuses: FIRKIN_E_INVALID_ARGUMENT (NULL db or out, unknown
 *  isolation), FIRKIN_E_READ_ONLY. Thread contract: one thread at a time
 *  per transaction; any number of transactions at once. */
FIRKIN_API firkin_status firkin_txn_begin(firkin_db *db, firkin_isolation isolation,
                                          firkin_txn **out);
/** Rolls back if still open, releases the snapshot, frees. NULL is a no-op. */
FIRKIN_API void firkin_txn_free(firkin_txn *txn);
/** The sequence number of the transaction's snapshot; 0 if txn is NULL. */
FIRKIN_API uint64_t firkin_txn_snapshot_seq(const firkin_txn *txn);

/* The calls below take the transaction and a namespace handle of its
 * database (NULL = default). A finished transaction (committed, rolled
 * back, or its commit failed) refuses them with FIRKIN_E_INVALID_ARGUMENT
 * (one given up as abandoned: FIRKIN_E_SNAPSHOT_TOO_OLD, see
 * txn_max_age_ms);
 * a namespace of another database is FIRKIN_E_INVALID_ARGUMENT, a dropped
 * one FIRKIN_E_NAMESPACE_NOT_FOUND. Keys and values are checked as in
 * firkin_put. */

/** The value of key as the transaction sees it (its own write, else its
 *  snapshot), a copy in *val to free with firkin_free. FIRKIN_E_NOT_FOUND
 *  if absent (or deleted by the transaction). Serializable: the read is
 *  validated at commit. */
FIRKIN_API firkin_status firkin_txn_get(firkin_txn *txn, const firkin_ns *ns, const void *key,
                                        size_t key_len, void **val, size_t *val_len);
/** *found = whether key has a value as the transaction sees it (a read). */
FIRKIN_API firkin_status firkin_txn_contains(firkin_txn *txn, const firkin_ns *ns,
                                             const void *key, size_t key_len, bool *found);
/** Buffers a put (applied at commit). */
FIRKIN_API firkin_status firkin_txn_put(firkin_txn *txn, const firkin_ns *ns, const void *key,
                                        size_t key_len, const void *val, size_t val_len);
/** Buffers a put that expires ttl_ms (> 0) milliseconds after the commit's
 *  time (TTL, as firkin_put_ttl). The transaction reads its own such put as
 *  present. */
FIRKIN_API firkin_status firkin_txn_put_ttl(firkin_txn *txn, const firkin_ns *ns,
                                            const void *key, size_t key_len, const void *val,
                                            size_t val_len, uint64_t ttl_ms);
/** Buffers a put that expires at unix_ms (> 0, database clock), as
 *  firkin_put_expire_at; a time already past reads as absent, in the
 *  transaction too. */
FIRKIN_API firkin_status firkin_txn_put_expire_at(firkin_txn *txn, const firkin_ns *ns,
                                                  const void *key, size_t key_len,
                                                  const void *val, size_t val_len,
                                                  uint64_t unix_ms);
/** Buffers a delete (applied at commit; deleting an absent key is allowed). */
FIRKIN_API firkin_status firkin_txn_delete(firkin_txn *txn, const firkin_ns *ns,
                                           const void *key, size_t key_len);
/** Buffers a put of val if the value the transaction sees equals
 *  (expected, expected_len); else FIRKIN_E_CONDITION_FAILED and nothing is
 *  buffered (the transaction stays open). The comparison is against the
 *  transaction's view; a change by others after its snapshot makes the
 *  commit fail with FIRKIN_E_CONFLICT (the key is written). */
FIRKIN_API firkin_status firkin_txn_cas(firkin_txn *txn, const firkin_ns *ns, const void *key,
                                        size_t key_len, const void *expected,
                                        size_t expected_len, const void *val, size_t val_len);
/** An iterator (the firkin_iter_* calls) over namespace ns as the
 *  transaction sees it when the iterator is made: the snapshot's entries,
 *  minus the keys the transaction wrote, then the transaction's own puts
 *  (later writes of the transaction are not seen by this iterator). It
 *  pins the snapshot itself and may outlive the transaction. Serializable:
 *  commit fails with FIRKIN_E_CONFLICT if any write to ns committed after
 *  the snapshot (phantoms). */
FIRKIN_API firkin_status firkin_txn_iter_new(firkin_txn *txn, const firkin_ns *ns,
                                             firkin_iter **out);
/** Validates and applies the transaction as one atomic write (one
 *  sequence number, all or nothing after any crash, durability as wo's
 *  sync mode says; NULL wo = the database's). *commit_seq (may be NULL)
 *  receives its sequence number (the snapshot's when it wrote nothing).
 *  FIRKIN_E_CONFLICT: nothing was applied; firkin_last_error() names the
 *  first conflicting namespace and key (non-printable bytes as \xNN).
 *  The transaction is finished whatever the outcome: begin a new one to
 *  retry. Other statuses as for firkin_write. */
FIRKIN_API firkin_status firkin_txn_commit(firkin_txn *txn, const firkin_write_options *wo,
                                           uint64_t *commit_seq);
/** Discards the buffered writes and releases the snapshot; the handle stays
 *  to be freed. FIRKIN_E_INVALID_ARGUMENT if already finished
 *  (FIRKIN_E_SNAPSHOT_TOO_OLD if given up as abandoned: txn_max_age_ms). */
FIRKIN_API firkin_status firkin_txn_rollback(firkin_txn *txn);

/* ------------------------------------------------------------------------ */
/* Online backup and restore                                                 */
/* ------------------------------------------------------------------------ */

/** Options of a backup or restore (firkin_backup_options_new; NULL options
 *  mean the defaults). Booleans, with their generic names:
 *    incremental  true   into an existing backup of the same database, keep
 *                        the segment files already there with the same
 *                        content (the source's own file, or equal byte for
 *                        byte: see firkin_backup);
 *                        false copies (or links) every file again
 *    verify       true   open the finished copy read-only and verify every
 *                        record and index entry before marking it complete
 *    hard_links   true   hard-link immutable (sealed) segment files when the
 *                        destination is on the same file system; copies
 *                        otherwise, and when linking is refused; false always
 *                        copies
 *    checkpoint   true   copy the index checkpoint too (the copy then opens
 *                        fast while it matches; it is validated at open and
 *                        ignored when it does not). Left out (the report's
 *                        "checkpoint":false; the copy's first open scans
 *                        its segments) when there is none yet, when the
 *                        database is encrypted and the handle read-only,
 *                        and from a read-only handle whose cut is not the
 *                        state the writer's file lists (a writer beside it
 *                        compacted or wrote since). The CLI's backup opens
 *                        read-only
 *  and a progress callback (none by default). Used by one thread at a
 *  time. */
typedef struct firkin_backup_options firkin_backup_options;

/** Progress of a backup or restore: done_bytes of total_bytes of segment
 *  and checkpoint bytes are in place (linked, kept or copied). Called on the
 *  thread that called firkin_backup / firkin_restore, from start (0) to end
 *  (done == total), never while the library holds a lock the callback could
 *  need: it may call Firkin functions, but must not free the options. */
typedef void (*firkin_backup_progress_fn)(void *ctx, uint64_t done_bytes,
                                          uint64_t total_bytes);

/** Creates backup options holding the defaults. FIRKIN_E_INVALID_ARGUMENT if
 *  out is NULL. Freed with firkin_backup_options_free (accepts NULL). */
FIRKIN_API firkin_status firkin_backup_options_new(firkin_backup_options **out);
FIRKIN_API void firkin_backup_options_free(firkin_backup_options *opts);
FIRKIN_API firkin_status firkin_backup_options_set_incremental(firkin_backup_options *opts, bool v);
FIRKIN_API firkin_status firkin_backup_options_get_incremental(const firkin_backup_options *opts, bool *out);
FIRKIN_API firkin_status firkin_backup_options_set_verify(firkin_backup_options *opts, bool v);
FIRKIN_API firkin_status firkin_backup_options_get_verify(const firkin_backup_options *opts, bool *out);
FIRKIN_API firkin_status firkin_backup_options_set_hard_links(firkin_backup_options *opts, bool v);
FIRKIN_API firkin_status firkin_backup_options_get_hard_links(const firkin_backup_options *opts, bool *out);
FIRKIN_API firkin_status firkin_backup_options_set_checkpoint(firkin_backup_options *opts, bool v);
FIRKIN_API firkin_status firkin_backup_options_get_checkpoint(const firkin_backup_options *opts, bool *out);
/** Sets (fn NULL: clears) the progress callback and its context pointer,
 *  which the library passes back untouched and never frees. */
FIRKIN_API firkin_status firkin_backup_options_set_progress(firkin_backup_options *opts,
                                                            firkin_backup_progress_fn fn,
                                                            void *ctx);
FIRKIN_API firkin_status firkin_backup_options_get_progress(const firkin_backup_options *opts,
                                                            firkin_backup_progress_fn *fn,
                                                            void **ctx);
/** Generic setter/getter by name ("incremental", "verify", "hard_links",
 *  "checkpoint"; values "true"/"false"/"1"/"0"; the getter's text, freed
 *  with firkin_free, is "true" or "false"). Unknown names and bad values:
 *  FIRKIN_E_INVALID_ARGUMENT. */
FIRKIN_API firkin_status firkin_backup_options_set(firkin_backup_options *opts,
                                                   const char *name, const char *value);
FIRKIN_API firkin_status firkin_backup_options_get(const firkin_backup_options *opts,
                                                   const char *name, char **out);

/** Online backup: writes into directory dest_dir a copy of the database as
 *  of one snapshot (one sequence number S, taken when the call starts) while
 *  other threads keep writing; the copy opens as exactly the state at S.
 *  opts may be NULL (defaults). Works on a read-only handle too (S is then
 *  the state the handle opened).
 *
 *  dest_dir may be missing (it is created; its parent must exist), empty,
 *  the start of a backup of this database cut short (BACKUP-INCOMPLETE), or
 *  an earlier complete backup of the same database: it carries the mark a
 *  completed firkin_backup writes last (a file named BACKUP: the database
 *  id, S and every segment file with its size) and holds exactly those
 *  segment files, i.e. it was not opened for writing since. Then the backup
 *  is incremental: a segment file already there is kept only when it is the
 *  source's own file (a hard link) or equal to the copy byte for byte
 *  (compared in full); segment files the new backup does not hold are
 *  removed before it is marked complete. A database (live or restored:
 *  it carries no mark) or a backup written to since is refused
 *  (FIRKIN_E_EXISTS), so swapped arguments never roll a database back.
 *  Sealed segment files are hard-linked when
 *  possible (see hard_links), the newest log segment is copied up to S's
 *  record boundary, then the identity file and (see checkpoint) the
 *  checkpoint. While the backup is written the directory holds a marker
 *  file, BACKUP-INCOMPLETE, created (and made durable) first and removed
 *  last, after every file and the directory are fsynced and the copy was
 *  verified (see verify): a backup cut short by a crash or an error keeps
 *  the marker, and firkin_open refuses a directory that holds it
 *  (FIRKIN_E_NOT_A_DATABASE). Run the backup again to complete it. The
 *  database's own directory is never modified.
 *
 *  *report_json (may be NULL if not wanted; freed with firkin_free)
 *  receives {"seq":S,"segments":N,"linked":N,"copied":N,"kept":N,
 *  "removed":N,"bytes_linked":N,"bytes_copied":N,"bytes_kept":N,
 *  "checkpoint":bool,"verified":bool}.
 *
 *  Statuses: FIRKIN_E_INVALID_ARGUMENT (NULL db or dest_dir, an empty path,
 *  dest_dir is the database directory, lies inside it or holds it),
 *  FIRKIN_E_NOT_A_DATABASE (dest_dir is a file, or a non-empty directory that
 *  is not a backup of a Firkin database; nothing is changed),
 *  FIRKIN_E_EXISTS (dest_dir holds a database, a backup of another
 *  database, or a backup opened for writing since it was written; nothing
 *  is changed), FIRKIN_E_NOT_A_DATABASE also for a damaged BACKUP mark,
 *  FIRKIN_E_BUSY (dest_dir is a backup of this database open as a database, or
 *  another backup into it is running), FIRKIN_E_CORRUPTION (the copy failed
 *  verification; it stays marked incomplete), FIRKIN_E_IO,
 *  FIRKIN_E_NO_SPACE. On any failure dest_dir is left marked incomplete (or
 *  unchanged when the failure came before the marker). Thread-safe; compaction waits
 *  (it retires no segment) only while the backup takes its cut and links
 *  files, writers only for the cut (a moment with no write in flight). */
FIRKIN_API firkin_status firkin_backup(firkin_db *db, const firkin_backup_options *opts,
                                       const char *dest_dir, char **report_json);

/** Restore: copies the backup in backup_dir (opened read-only, unchanged)
 *  into dest_dir, which must be missing or empty (FIRKIN_E_EXISTS
 *  otherwise), as a new database of its own (files copied, never linked),
 *  verified as firkin_backup does (opts: verify, checkpoint, progress;
 *  incremental and hard_links are ignored). The copy gets a database id of
 *  its own (in its identity file, segment headers and key file; its index
 *  checkpoint is written anew) and no BACKUP mark, so no backup takes it
 *  for the source or an earlier backup, nor the source or the source's
 *  backups for it. Opening a backup directly (firkin_open) works too;
 *  restore gives a copy that leaves the backup as it was (a backup opened
 *  for writing and written to is no longer one that firkin_backup adds
 *  to).
 *  FIRKIN_E_NOT_FOUND if backup_dir holds no database, FIRKIN_E_NOT_A_DATABASE
 *  if it is an incomplete backup (or not a database); otherwise as
 *  firkin_backup. A restore that failed or was killed leaves dest_dir
 *  marked incomplete (firkin_open refuses it): remove the directory, then
 *  restore again. *report_json as for firkin_backup. */
FIRKIN_API firkin_status firkin_restore(const char *backup_dir,
                                        const firkin_backup_options *opts,
                                        const char *dest_dir, char **report_json);
/** firkin_restore of an encrypted backup (issue 12): db_opts carries the
 *  key or passphrase the backup opens with (firkin_options_set_encryption_key
 *  / _set_passphrase; other database options are ignored; NULL = none, as
 *  firkin_restore). The restored database has the same data key, its KEYS
 *  wrapped again under the same key for its own database id, so it opens
 *  with the same key. FIRKIN_E_BAD_KEY as firkin_open. */
FIRKIN_API firkin_status firkin_restore_v2(const char *backup_dir,
                                           const firkin_options *db_opts,
                                           const firkin_backup_options *opts,
                                           const char *dest_dir, char **report_json);
/* Change feed: every committed change, in sequence order, resumable         */
/* ------------------------------------------------------------------------ */

/** What a change is. Values are never renumbered; later versions add kinds
 *  (transaction boundaries, TTL expiry) with new values, so a consumer
 *  must skip (or stop at) a kind it does not know. */
typedef enum firkin_change_type {
  /** key = value in namespace firkin_changes_namespace. */
  FIRKIN_CHANGE_PUT = 1,
  /** key was deleted (no value). */
  FIRKIN_CHANGE_DELETE = 2,
  /** The namespace was created (no key or value). */
  FIRKIN_CHANGE_NS_CREATE = 3,
  /** The namespace and all its keys were dropped (no key or value). */
  FIRKIN_CHANGE_NS_DROP = 4,
  /** The changes up to the matching BATCH_END are one atomic batch: they
   *  share this sequence number. No namespace, key or value. */
  FIRKIN_CHANGE_BATCH_BEGIN = 5,
  /** The end of a batch (same sequence number as its BATCH_BEGIN). */
  FIRKIN_CHANGE_BATCH_END = 6
} firkin_change_type;

/** Options of a change cursor. Defaults: batch_markers = true (batches
 *  are delivered between FIRKIN_CHANGE_BATCH_BEGIN and _END; when false,
 *  only their operations, which still share one sequence number). A batch
 *  is a write of two or more operations (firkin_write, a transaction's
 *  commit); one that writes a single operation is delivered as that put
 *  or delete, without markers. */
FIRKIN_API firkin_status firkin_changes_options_new(firkin_changes_options **out);
FIRKIN_API void firkin_changes_options_free(firkin_changes_options *opts);
FIRKIN_API firkin_status firkin_changes_options_set_batch_markers(firkin_changes_options *opts,
                                                                  bool v);
FIRKIN_API firkin_status firkin_changes_options_get_batch_markers(
    const firkin_changes_options *opts, bool *out);

/** Opens a cursor over the committed changes with sequence number >
 *  since_seq, in sequence order (0 = from the first change). Each write is
 *  one sequence number: a put, a delete, a namespace create or drop, or a
 *  batch (all of it, never part: it is delivered only once its commit is
 *  in the log, between BATCH_BEGIN/END markers by default; a batch of one
 *  operation is that operation, without markers). A CAS that failed after
 *  it took its number (its TTL version expired while it waited for a
 *  segment roll: see firkin_snapshot_at_time) holds no change: the cursor
 *  passes over its number, so consecutive changes may differ by 2 or more;
 *  the cursor itself checks that nothing between is missing. A change is
 *  delivered only once published (every write before it is complete, as
 *  for snapshots). To resume after a restart, store the sequence number of
 *  the last change applied and pass it as since_seq.
 *
 *  History is the log itself: a change stays available until compaction
 *  reclaims the log segment holding it. The options change_retention_bytes
 *  and change_retention_seqs make compaction keep recent history (the
 *  default keeps none beyond the segment being written); see
 *  firkin_changes_oldest_seq. An open cursor does not pin history.
 *
 *  Use:
 *    for (; firkin_changes_valid(c); firkin_changes_next(c)) { ... }
 *    then firkin_changes_wait(c, ms) to block for more, and check
 *    firkin_changes_status(c).
 *  opts may be NULL (defaults). The cursor keeps the database alive and is
 *  freed with firkin_changes_free. Statuses: FIRKIN_E_SNAPSHOT_TOO_OLD if
 *  changes after since_seq are no longer retained (the message gives the
 *  oldest since_seq that works); FIRKIN_E_INVALID_ARGUMENT if since_seq is
 *  greater than firkin_last_seq. Changes are never skipped: a gap met later
 *  (history compacted away before the cursor got there) ends the cursor
 *  with FIRKIN_E_SNAPSHOT_TOO_OLD in firkin_changes_status. */
FIRKIN_API firkin_status firkin_changes_open(firkin_db *db, uint64_t since_seq,
                                             const firkin_changes_options *opts,
                                             firkin_changes **out);
FIRKIN_API void firkin_changes_free(firkin_changes *c);
/** True while the cursor is positioned on a change. False for NULL. */
FIRKIN_API bool firkin_changes_valid(const firkin_changes *c);
/** Moves to the next change. At the end (not valid), looks for changes
 *  published since and moves to the first one if there is one, so a
 *  polling loop may call it again. Returns firkin_changes_status. */
FIRKIN_API firkin_status firkin_changes_next(firkin_changes *c);
/** If the cursor is not valid, blocks until a new change is published
 *  (woken by the writer that publishes it, not by polling) or timeout_ms
 *  milliseconds pass; returns at once if it is valid. A timeout is not an
 *  error: the call returns FIRKIN_OK and firkin_changes_valid stays false.
 *  Returns firkin_changes_status. Waiting holds no lock that writers need. */
FIRKIN_API firkin_status firkin_changes_wait(firkin_changes *c, uint32_t timeout_ms);
/** The current change's kind; 0 if the cursor is not valid or NULL. */
FIRKIN_API firkin_change_type firkin_changes_type(const firkin_changes *c);
/** The current change's sequence number; 0 if not valid or NULL. */
FIRKIN_API uint64_t firkin_changes_seq(const firkin_changes *c);
/** How far the cursor has read: every write numbered at or below it was
 *  delivered and moved past (firkin_changes_next, firkin_changes_next_n),
 *  or holds no change (a CAS that failed after it took its number, see
 *  firkin_changes_open). The current change's number - 1 while the cursor
 *  is valid; at the end, the last number read (firkin_last_seq once it
 *  has caught up, also where the last write holds no change, so that a
 *  consumer can tell it has caught up; the last change's number cannot).
 *  A consumer that stores it resumes with firkin_changes_open(db,
 *  position). 0 if c is NULL. */
FIRKIN_API uint64_t firkin_changes_position(const firkin_changes *c);
/** The current change's namespace name, NUL-terminated, borrowed (valid
 *  until the cursor moves); "" for batch markers; NULL if not valid. */
FIRKIN_API const char *firkin_changes_namespace(const firkin_changes *c);
/** Borrowed key of the current change (valid until the cursor moves):
 *  the key of a put or delete, empty otherwise. FIRKIN_E_NOT_FOUND if the
 *  cursor is not valid. */
FIRKIN_API firkin_status firkin_changes_key(const firkin_changes *c, const void **key,
                                            size_t *key_len);
/** Borrowed value of the current change: the value of a put, empty
 *  otherwise. FIRKIN_E_NOT_FOUND if the cursor is not valid. A value stored
 *  compressed is decoded by this call (as by firkin_changes_next_n), into a
 *  buffer of the cursor: FIRKIN_E_NO_MEMORY if that cannot be had (the
 *  cursor stays where it is; docs/api.md "Compression"). */
FIRKIN_API firkin_status firkin_changes_value(const firkin_changes *c, const void **val,
                                              size_t *val_len);
/** FIRKIN_OK, or the error that stopped the cursor (FIRKIN_E_SNAPSHOT_TOO_OLD:
 *  history it needed was compacted away; FIRKIN_E_CORRUPTION), or
 *  FIRKIN_E_NO_MEMORY: the last step ran out of memory before the change
 *  it was reading, which the next firkin_changes_next (or _wait, _next_n)
 *  reads again (the position stays before it). */
FIRKIN_API firkin_status firkin_changes_status(const firkin_changes *c);
/** Copies changes, starting with the current one, into buf and advances
 *  past them (looking for newly published ones at the end, as
 *  firkin_changes_next does). Each entry: u32 type, u32 namespace name
 *  length, u64 sequence number, u32 key length, u32 value length (all
 *  little-endian; 24 bytes), then the name, the key and the value. Stops
 *  when the next entry does not fit or no change is left. *used receives
 *  the bytes written, *count the entries. If even the first entry does not
 *  fit: FIRKIN_E_BUFFER_TOO_SMALL with *used set to the size it needs.
 *  Returns firkin_changes_status (entries before an error are in buf). */
FIRKIN_API firkin_status firkin_changes_next_n(firkin_changes *c, void *buf, size_t cap,
                                               size_t *used, size_t *count);
/** *out receives the sequence number of the oldest change from which every
 *  change up to firkin_last_seq is still retained (firkin_last_seq + 1 if
 *  there is none): firkin_changes_open accepts any since_seq >= *out - 1,
 *  and refuses an older one with FIRKIN_E_SNAPSHOT_TOO_OLD; a cursor opened
 *  there meets no gap unless compaction reclaims history after the call.
 *  Without change retention, updates in place (in_place_updates) move it
 *  to firkin_last_seq + 1 for as long as the segment being written holds
 *  a record updated in place (its history there is no longer in sequence
 *  order, and the versions replaced are gone): a cursor can then resume
 *  only from firkin_last_seq; and updates in place after the call move it
 *  too: firkin_changes_open with the answer may then give
 *  FIRKIN_E_SNAPSHOT_TOO_OLD (ask again). change_retention_bytes or _seqs
 *  turn updates in place off. Also in firkin_stats as changes.oldest_seq. */
FIRKIN_API firkin_status firkin_changes_oldest_seq(firkin_db *db, uint64_t *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FIRKIN_H */
