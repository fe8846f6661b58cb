// Scrubber: after an open that loaded a checkpoint, validates in the
// background every record of the segments the checkpoint let recovery skip
// (each record's bounds, type and checksum, through LogReader; a sealed
// record's tag too, in an encrypted database), and marks
// each segment that passes Segment::checked. Until then reads check the
// records of such a segment one by one (Keyspace::Trusted); after, they rely on
// them as on records recovery or this process wrote. A damaged segment is
// left unmarked (its records keep being checked on every read, so a damaged
// one is reported, never returned) and counted.
//
// Thread contract: Start and Stop are called by the owner (DB open and
// close), in that order, from one thread; the scrub runs on its own thread
// (lowered priority) and only reads segments and sets their `checked`
// flags. It holds one segment at a time (weak references to the rest, so
// a segment compaction retires meanwhile is released, or recycled, at once). Stats may be read
// from any thread at any time.
#ifndef FIRKIN_CORE_RECOVERY_SCRUBBER_H_
#define FIRKIN_CORE_RECOVERY_SCRUBBER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "core/log/segment.h"

namespace firkin {

class RecordCodec;

class Scrubber {
 public:
  struct Stats {
    std::atomic<uint64_t> segments_checked{0};  // validated and marked
    std::atomic<uint64_t> segments_damaged{0};  // a record failed: left unmarked
    std::atomic<uint64_t> bytes{0};             // record bytes validated
    std::atomic<uint64_t> pending{0};           // segments still to scrub
    std::atomic<bool> done{false};              // the scrub has finished (or had nothing to do)
  };

  Scrubber() = default;
  ~Scrubber() { Stop(); }
  Scrubber(const Scrubber&) = delete;
  Scrubber& operator=(const Scrubber&) = delete;

  // Starts scrubbing those of `segs` that are not checked yet (if none,
  // only records that it is done). `auth`: the codec that authenticates
  // sealed records (an encrypted database's; nullptr otherwise), which
  // must outlive the scrub (Stop).
  void Start(std::vector<std::shared_ptr<Segment>> segs, const RecordCodec* auth = nullptr);
  // Stops the scrub (at the next record boundary of a large segment) and
  // waits for its thread.
  void Stop();

  const Stats& stats() const { return stats_; }

  // Validates every record of seg below its published length (sealed
  // ones authenticated with `auth`, if given); true if all pass (false
  // also when *stop is raised). Used by the scrub thread.
  static bool ValidateSegment(const Segment& seg, const std::atomic<bool>* stop,
                              uint64_t* bytes, const RecordCodec* auth = nullptr);

 private:
  void Run(std::vector<std::weak_ptr<Segment>> segs);

  Stats stats_;
  const RecordCodec* auth_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_RECOVERY_SCRUBBER_H_
