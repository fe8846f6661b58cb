// Options: the settings of a database (what firkin_options carries), with
// validation and the generic name/value interface.
//
// Thread contract: a plain value; copy it to share.
#ifndef FIRKIN_CORE_KEYSPACE_OPTIONS_H_
#define FIRKIN_CORE_KEYSPACE_OPTIONS_H_

#include <cstdint>
#include <string>

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
  bool verify_checksums = true;
  bool auto_compact = true;
  uint32_t compact_dead_ratio = 50;   // percent
  uint32_t compact_space_amp = 150;   // percent
  uint64_t compact_rate = 64ull << 20;  // bytes per second, 0 = unlimited
  uint64_t checkpoint_every = 256ull << 20;  // bytes of log, 0 = only at close
  uint32_t recycle_segments = 4;  // retired segment files kept for reuse, 0..kMaxRecycle
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

  // Validating setters used by the C API.
  Status SetSyncMode(SyncMode m);
  Status SetSyncIntervalMs(uint32_t ms);
  Status SetSegmentSize(uint64_t bytes);
  Status SetCompactDeadRatio(uint32_t percent);
  Status SetCompactSpaceAmp(uint32_t percent);

  // Generic interface: see firkin_options_set in capi/firkin.h.
  Status Set(const std::string& name, const std::string& value);
  Status Get(const std::string& name, std::string* value) const;
};

const char* SyncModeName(SyncMode m);

}  // namespace firkin

#endif  // FIRKIN_CORE_KEYSPACE_OPTIONS_H_
