// ScanClock: the time an iterator decides expiry (TTL) by, pinned in its
// database for the iterator's life so that compaction keeps every put that
// had not expired at that time (DB::ExpiryHorizonMs). An iterator yields
// the keys live when it was made; without the pin a pass that ran after a
// key's expiry, while a scan was on its way to the key, dropped the put and
// the scan left the key out (found by review, 2026-11-28).
//
// Thread contract: owned by one iterator; made, moved and destroyed on any
// thread (the registry is the database's, under its snapshot lock).
#ifndef FIRKIN_CORE_DB_SCAN_CLOCK_H_
#define FIRKIN_CORE_DB_SCAN_CLOCK_H_

#include <cstdint>

namespace firkin {

class DB;

class ScanClock {
 public:
  // Pins db's clock now (DB::PinScanClock).
  explicit ScanClock(const DB* db);
  ~ScanClock();
  ScanClock(ScanClock&& o) noexcept : db_(o.db_), ms_(o.ms_) { o.db_ = nullptr; }
  ScanClock(const ScanClock&) = delete;
  ScanClock& operator=(const ScanClock&) = delete;
  ScanClock& operator=(ScanClock&&) = delete;

  uint64_t ms() const { return ms_; }

 private:
  const DB* db_;
  uint64_t ms_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_SCAN_CLOCK_H_
