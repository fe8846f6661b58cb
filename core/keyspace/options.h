// Options: the settings of a database (what firkin_options carries), with
// validation and the generic name/value interface.
//
// Thread contract: a plain value; copy it to share.
#ifndef FIRKIN_CORE_KEYSPACE_OPTIONS_H_
#define FIRKIN_CORE_KEYSPACE_OPTIONS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "core/log/record_codec.h"
#include "core/crypto/aead.h"
#include "core/crypto/key_file.h"
#include "core/util/status.h"

namespace firkin {

class Env;

enum class SyncMode : int { kDefault = -1, kNone = 0, kInterval = 1, kAlways = 2 };

struct Options {
  bool create_if_missing = true;
  bool error_if_exists = false;
  bool read_only = false;
  SyncMode sync_mode = SyncMode::kInterval;
  uint32_t sync_interval_ms = 100;
  uint64_t segment_size = 64ull << 20;
  bool salvage = false;
  bool verify_checksums = false;
  // A put of a key whose newest record is still in the unsynced tail of
  // the log, with a value of the same length, overwrites that record in
  // place instead of appending (docs/write_path.md, "In-place updates").
  // Never in sync mode always, encrypted or compressed databases, or with
  // history or change retention.
  bool in_place_updates = true;
  bool auto_compact = true;
  uint32_t compact_dead_ratio = 50;   // percent
  uint32_t compact_space_amp = 150;   // percent
  uint64_t compact_rate = 64ull << 20;  // bytes per second, 0 = unlimited
  // Backpressure: writes wait for compaction while the log exceeds this
  // many times compact_space_amp of the live bytes (and 16 segments), and
  // compaction can reclaim something. 0 = writes never wait; else 2..1000.
  uint32_t write_stall_factor = 3;
  uint64_t checkpoint_every = 256ull << 20;  // bytes of log, 0 = only at close
  uint32_t recycle_segments = 8;  // retired segment files kept for reuse, 0..kMaxRecycle
  // How many keys the database is expected to hold: the index is made
  // that large at open (or as large as the checkpoint needs, if larger),
  // so that filling it up does not grow it step by step (each step a
  // rebuild of a sub-table and fresh pages for it). 0 = start small and
  // grow. At most kMaxExpectedKeys.
  uint64_t expected_keys = 0;
  static constexpr uint64_t kMaxExpectedKeys = 1ull << 32;
  // Change history compaction must keep for the change feed: at least the
  // newest change_retention_bytes of log, and every change among the
  // newest change_retention_seqs sequence numbers. 0 and 0 = none
  // guaranteed (compaction may reclaim any sealed log segment).
  uint64_t change_retention_bytes = 0;
  uint64_t change_retention_seqs = 0;
  // Time travel: compaction keeps every version readable at any time in
  // the last history_retention_ms (0 = only what live snapshots need).
  uint64_t history_retention_ms = 0;
  // A transaction open longer than this (database clock) loses its
  // snapshot at the next compaction check while no call is using it; its
  // next call gets kSnapshotTooOld. 0 = no limit.
  uint64_t txn_max_age_ms = 10 * 60 * 1000;
  // ---- compression of values (issue 12; core/log/record_codec.h) ----
  // New puts whose value has at least compression_min_size bytes are
  // stored compressed when that saves space. Records keep their algorithm
  // (it is in each record), so the option may change from one open to the
  // next. compression_level: Zstandard's level (kMinZstdLevel..kMaxZstdLevel).
  Compression compression = Compression::kNone;
  int32_t compression_level = 3;
  uint32_t compression_min_size = 64;
  // ---- encryption at rest (issue 12; core/crypto/, docs/format.md) ----
  // The user's raw 32-byte key or passphrase (empty = not encrypted), and
  // for a passphrase the Argon2id cost used when a key file is written
  // (creation, rekey; an existing database uses the cost it recorded).
  KeySource encryption;
  // Internal, set by open from the key file: the data key's cipher, for
  // everything written sealed (records, checkpoint). nullptr = plaintext.
  std::shared_ptr<const Aead> cipher;
  Status SetEncryptionKey(std::string_view key);
  Status SetPassphrase(std::string_view text);
  // ---- end encryption ----
  Env* env = nullptr;  // nullptr = Env::Default(); tests set a FaultEnv
  // The database's clock (commit times, expiry): ms since the epoch.
  // nullptr = the system's real-time clock; tests inject a fake one
  // (tests/support, firkin_options_set_test_clock).
  uint64_t (*clock)(void* ctx) = nullptr;
  void* clock_ctx = nullptr;
  // Internal, not settable through the C API: open a directory that holds
  // the BACKUP-INCOMPLETE marker (online backup verifies its copy before it
  // removes the marker). Only with read_only.
  bool ignore_backup_marker = false;

  static constexpr uint64_t kMinSegmentSize = 64ull << 10;
  static constexpr uint64_t kMaxSegmentSize = 1ull << 30;
  static constexpr uint32_t kMaxRecycle = 64;
  static constexpr int32_t kMinZstdLevel = -7;  // Zstandard's fast levels
  static constexpr int32_t kMaxZstdLevel = 22;

  // Validating setters used by the C API.
  Status SetSyncMode(SyncMode m);
  Status SetSyncIntervalMs(uint32_t ms);
  Status SetSegmentSize(uint64_t bytes);
  Status SetCompactDeadRatio(uint32_t percent);
  Status SetCompactSpaceAmp(uint32_t percent);
  Status SetCompression(Compression c);
  Status SetCompressionLevel(int32_t level);

  // Generic interface: see firkin_options_set in capi/firkin.h.
  Status Set(const std::string& name, const std::string& value);
  Status Get(const std::string& name, std::string* value) const;
};

const char* SyncModeName(SyncMode m);

}  // namespace firkin

#endif  // FIRKIN_CORE_KEYSPACE_OPTIONS_H_
