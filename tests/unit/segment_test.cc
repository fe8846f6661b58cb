// Unit tests of Segment's lock-free reservation word: disjoint ranges,
// exactly one closer, and Close (the roll's and the seal's) waiting for a
// closer that was stopped between its add and its store of closed_.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/env/env.h"
#include "core/log/format.h"
#include "core/log/live_file.h"
#include "core/log/log_writer.h"
#include "core/log/segment.h"
#include "core/util/epoch.h"
#include "tests/unit/memory_file.h"
#include "tests/unit/log_append.h"
#include "tests/unit/temp_dir.h"

namespace firkin {
namespace {

// The database directory held open, as DB::Open does for its LogWriter.
std::unique_ptr<Directory> HeldDir(Env* env, const std::string& dir) {
  std::unique_ptr<Directory> d;
  EXPECT_TRUE(env->OpenDirectory(dir, &d).ok());
  return d;
}


std::shared_ptr<Segment> NewSegment(uint64_t capacity, uint64_t start, uint64_t base_seq) {
  auto seg = std::make_shared<Segment>(1, 0, std::make_unique<MemoryFile>(capacity), start, 0);
  seg->StartAppending(start, base_seq);
  return seg;
}

TEST(SegmentReserve, RangesAreDisjointAndOneReservationCloses) {
  const uint64_t kCap = 1 << 20;
  auto seg = NewSegment(kCap, 64, 1000);
  const int kThreads = 4;
  std::atomic<int> closers{0};
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> got(kThreads);  // (off, seq)
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      for (;;) {
        uint64_t off = 0, seq = 0;
        Segment::Reserve r = seg->TryReserve(1, 136, &off, &seq);
        if (r == Segment::Reserve::kOk) {
          got[t].push_back({off, seq});
          continue;
        }
        if (r == Segment::Reserve::kClosedByMe) closers++;
        return;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(closers.load(), 1);
  ASSERT_TRUE(seg->closed());
  std::vector<bool> off_used((kCap - 64) / 136 + 1, false), seq_used(off_used.size() + 1, false);
  uint64_t n = 0;
  for (auto& v : got) {
    for (auto& p : v) {
      ASSERT_EQ((p.first - 64) % 136, 0u);
      ASSERT_LE(p.first + 136, kCap);
      const uint64_t slot = (p.first - 64) / 136;
      ASSERT_FALSE(off_used[slot]) << "offset handed out twice: " << p.first;
      off_used[slot] = true;
      // Log order and sequence order agree: the k-th range has the k-th number.
      ASSERT_EQ(p.second, 1000 + slot + 1);
      ASSERT_FALSE(seq_used[slot]);
      seq_used[slot] = true;
      n++;
    }
  }
  EXPECT_EQ(n, (kCap - 64) / 136);
  EXPECT_EQ(seg->end_off(), 64 + n * 136);
  EXPECT_EQ(seg->end_seq(), 1000 + n);
}

// A writer whose reservation crossed the end is stopped between its add
// and its store of closed_ (Claim done, Settle not yet). Close must wait
// for it without moving the word on: the roll used to add a capacity on
// every turn, and enough turns carried the offset into the sequence count
// and closed the segment a second time with an end sequence number nobody
// had (a hang in CI under ASan).
TEST(SegmentReserve, CloseWaitsForAStoppedCloserAndAddsAtMostOnce) {
  const uint64_t kCap = 64 << 10;  // small: the old loop overflowed in 2^36/(kCap/8) turns
  auto seg = NewSegment(kCap, 64, 50);
  uint64_t off = 0, seq = 0;
  uint64_t n = 0;
  while (seg->reserved_len() + 1000 <= kCap) {
    ASSERT_EQ(seg->TryReserve(1, 1000, &off, &seq), Segment::Reserve::kOk);
    n++;
  }
  const uint64_t end = seg->reserved_len();
  const uint64_t old = seg->Claim(1, 1000);  // the closer, stopped here
  std::atomic<bool> closed_returned{false};
  std::thread roller([&] {
    seg->Close();
    closed_returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(closed_returned.load()) << "Close returned before the closer stored closed_";
  // The word moved on by the closer's claim and at most one add of Close.
  EXPECT_LE(seg->reserved_len(), end + 1000 + kCap + 8);
  EXPECT_EQ(seg->Settle(old, 1, 1000, &off, &seq), Segment::Reserve::kClosedByMe);
  roller.join();
  EXPECT_TRUE(closed_returned.load());
  EXPECT_EQ(seg->end_off(), end);
  EXPECT_EQ(seg->end_seq(), 50 + n);
  EXPECT_LE(seg->reserved_len(), end + 1000 + kCap + 8);
  // Later reservations fail without closing it again.
  EXPECT_EQ(seg->TryReserve(1, 8, &off, &seq), Segment::Reserve::kFull);
  EXPECT_EQ(seg->end_seq(), 50 + n);
}

TEST(SegmentReserve, CloseOfAnOpenSegmentClosesItWhereItEnds) {
  auto seg = NewSegment(4096, 64, 7);
  uint64_t off = 0, seq = 0;
  ASSERT_EQ(seg->TryReserve(1, 80, &off, &seq), Segment::Reserve::kOk);
  EXPECT_EQ(off, 64u);
  EXPECT_EQ(seq, 8u);
  seg->Close();
  ASSERT_TRUE(seg->closed());
  EXPECT_EQ(seg->end_off(), 144u);
  EXPECT_EQ(seg->end_seq(), 8u);
  const uint64_t len = seg->reserved_len();
  seg->Close();  // closed already: adds nothing
  EXPECT_EQ(seg->reserved_len(), len);
}

// Updates in place take numbers and no bytes, so a segment can hand out
// more numbers than its bytes could ever hold records: the count in the
// reservation word's top 28 bits wrapped after 2^28 of them (numbers went
// back to the segment's base; found by review, 2026-11-29). The segment now
// closes at kMaxSeqs numbers, the first claim past it closing, and every
// later one failing, as at the capacity. (The word is moved near the limit
// by one claim of many numbers, which only a test makes.)
TEST(SegmentReserve, TheSequenceCountClosesTheSegmentBeforeItWraps) {
  const uint64_t kMax = Segment::kMaxSeqs;
  auto seg = NewSegment(64 << 10, 64, 1000);
  uint64_t off = 0, seq = 0;
  ASSERT_EQ(seg->TryReserve(1, 80, &off, &seq), Segment::Reserve::kOk);  // a record
  const uint64_t old = seg->Claim(kMax - 4, 0);
  ASSERT_EQ(seg->Settle(old, kMax - 4, 0, &off, &seq), Segment::Reserve::kOk);
  EXPECT_EQ(seq, 1000 + kMax - 3);
  for (uint64_t i = 0; i < 3; i++) {  // numbers without bytes, up to the limit
    ASSERT_EQ(seg->TryReserve(1, 0, &off, &seq), Segment::Reserve::kOk);
    EXPECT_EQ(seq, 1000 + kMax - 2 + i);
    EXPECT_EQ(off, 144u);
  }
  EXPECT_EQ(seq, 1000 + kMax);
  EXPECT_FALSE(seg->closed());
  // The next number closes it where its records end, with the last number
  // it handed out; a record's reservation fails too, and nothing closes it
  // again.
  EXPECT_EQ(seg->TryReserve(1, 0, &off, &seq), Segment::Reserve::kClosedByMe);
  ASSERT_TRUE(seg->closed());
  EXPECT_EQ(seg->end_off(), 144u);
  EXPECT_EQ(seg->end_seq(), 1000 + kMax);
  EXPECT_EQ(seg->TryReserve(1, 0, &off, &seq), Segment::Reserve::kFull);
  EXPECT_EQ(seg->TryReserve(1, 80, &off, &seq), Segment::Reserve::kFull);
  seg->Close();  // returns at once
  EXPECT_EQ(seg->end_seq(), 1000 + kMax);
  // Far past the limit, the count still has not reached the word's top.
  EXPECT_LT(seg->NextSeqHint(), 1000 + (uint64_t{1} << 28));
}

// A number taken for an in-place update (ReserveSeq, no bytes) is
// published with the end of every record numbered before it: when the
// watermark passes it, the published length covers them. Here append A
// takes 1, the in-place number 2 completes first (its writer waits for 1),
// then A completes and, as the head, passes both: the published length
// must reach A's end. (It stayed at the overwritten record's offset, so a
// scan at the watermark missed A: stress_in_place's verify, 2026-11-26.)
TEST(LogWriterInPlace, ASequenceNumberWithoutBytesPublishesTheRecordsBeforeIt) {
  TempDir dir("firkin_segment_test");
  ASSERT_FALSE(dir.path().empty());
  {
    SegmentTable table;
    LogWriter log(Env::Default(), dir.path(), HeldDir(Env::Default(), dir.path()), 1, 1 << 20,
                  &table, 1, 0);
    LogWriter::Reservation a, ip;
    ASSERT_TRUE(log.Reserve(64, &a).ok());
    ASSERT_TRUE(log.ReserveSeq(a.seg, &ip));
    ASSERT_EQ(ip.seq, a.seq + 1);
    EXPECT_EQ(ip.bytes, 0u);
    EXPECT_EQ(ip.off, a.off + a.bytes);
    std::thread t([&] {
      Epoch::Guard guard;
      log.Publish(ip);  // waits for a
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    {
      Epoch::Guard guard;
      log.Publish(a);
    }
    t.join();
    EXPECT_EQ(log.published_seq(), ip.seq);
    EXPECT_GE(a.seg->published_len(), a.off + a.bytes);
  }
}

// LogWriter::OverwriteHolds: a reader that found a record's in-place
// counter odd waits while an overwriter's slot names that record, and
// not once none does and the counter has not moved: then the odd counter
// is damage (a flipped bit in a file), which no wait would end. (A get
// waited for it forever: mutilate_test, "in-place counters made odd",
// 2026-11-27.)
TEST(LogWriterInPlace, AnOddCounterNoOverwriterHoldsIsNotWaitedFor) {
  TempDir dir("firkin_segment_test");
  ASSERT_FALSE(dir.path().empty());
  {
    std::unique_ptr<LiveFile> live;
    ASSERT_TRUE(LiveFile::Create(Env::Default(), dir.path(), 0, &live).ok());
    SegmentTable table;
    LogWriter log(Env::Default(), dir.path(), HeldDir(Env::Default(), dir.path()), 1, 1 << 20,
                  &table, 1, 0);
    log.EnableInPlace(live.get());
    LogWriter::Reservation a, b;
    ASSERT_TRUE(log.Reserve(64, &a).ok());
    ASSERT_TRUE(log.Reserve(64, &b).ok());
    {
      Epoch::Guard guard;
      log.Publish(a);
      log.Publish(b);
    }
    char* ra = a.seg->mutable_data() + a.off;
    char* rb = b.seg->mutable_data() + b.off;
    auto set_counter = [](char* rec, uint32_t c) {
      __atomic_store_n(reinterpret_cast<uint32_t*>(rec + RecordCounterOffset(RecordFlagsAt(rec))), c,
                       __ATOMIC_RELEASE);
    };
    // A counting walk's floor (SetCountFloor) at b's number keeps b where
    // it is; one below it does not.
    log.SetCountFloor(b.seq);
    EXPECT_FALSE(log.BeginInPlace(3, b.seg, b.off, b.seq));
    log.SetCountFloor(b.seq - 1);
    // Slot 3 overwrites b: b's odd counter is held, a's is not.
    ASSERT_TRUE(log.BeginInPlace(3, b.seg, b.off, b.seq));
    set_counter(rb, 1);
    set_counter(ra, 5);
    EXPECT_TRUE(log.OverwriteHolds(rb, 1));
    EXPECT_FALSE(log.OverwriteHolds(ra, 5));
    // A counter that moved since the reader loaded it: read again.
    set_counter(ra, 6);
    EXPECT_TRUE(log.OverwriteHolds(ra, 5));
    // The overwrite ended, its counter left odd (what a flipped bit shows).
    log.EndInPlace(3);
    EXPECT_FALSE(log.OverwriteHolds(rb, 1));
    // The overwrite ended, its counter even again: the reader's odd value moved.
    set_counter(rb, 2);
    EXPECT_TRUE(log.OverwriteHolds(rb, 1));
  }
}

// An overwrite's number too far past the watermark (an append before it
// not yet written) is not taken: ReserveSeq refuses before it claims one,
// so every number the segment hands out is on a record. (It once took the
// number and completed it with no record; when that gap was a segment's
// last number, recovery after a kill -9 dropped the whole next segment as
// one that followed a hole: inplace_test killroll, 2026-11-27.)
TEST(LogWriterInPlace, ANumberTooFarAheadIsNotTaken) {
  TempDir dir("firkin_segment_test");
  ASSERT_FALSE(dir.path().empty());
  {
    SegmentTable table;
    LogWriter log(Env::Default(), dir.path(), HeldDir(Env::Default(), dir.path()), 1, 1 << 20,
                  &table, 1, 0);
    LogWriter::Reservation a;
    ASSERT_TRUE(log.Reserve(64, &a).ok());  // written, never published yet: the watermark stays
    uint64_t last = a.seq;
    uint64_t taken = 0;
    for (;;) {
      Epoch::Guard guard;  // (ReserveSeq may advance the watermark: a writer's guard)
      LogWriter::Reservation ip;
      if (!log.ReserveSeq(a.seg, &ip)) break;
      ASSERT_EQ(ip.seq, last + 1) << "a number was skipped";
      last = ip.seq;
      log.Complete(ip);
      ASSERT_LT(++taken, SeqPublisher::kRing) << "never refused";
    }
    EXPECT_EQ(last, a.seq - 1 + LogWriter::kAheadMax);  // (the watermark is a.seq - 1)
    EXPECT_EQ(log.ahead_appends(), 1u);
    // Refused again, still taking nothing.
    {
      Epoch::Guard guard;
      LogWriter::Reservation ip;
      EXPECT_FALSE(log.ReserveSeq(a.seg, &ip));
    }
    EXPECT_EQ(a.seg->NextSeqHint(), last + 1);
    // The put appends instead: its number follows the last overwrite's.
    LogWriter::Reservation b;
    ASSERT_TRUE(log.Reserve(64, &b).ok());
    EXPECT_EQ(b.seq, last + 1);
    std::thread t([&] {
      Epoch::Guard guard;
      log.Publish(b);  // waits for a
    });
    {
      Epoch::Guard guard;
      log.Publish(a);
    }
    t.join();
    EXPECT_EQ(log.published_seq(), b.seq);
    EXPECT_EQ(a.seg->NextSeqHint(), b.seq + 1);
  }
}

// LogWriter::Durable: what compaction waits for instead of syncing the log
// (Compactor::AwaitDurable). A position is durable once the active
// segment's watermark on disk reaches it, or once its segment was sealed.
TEST(LogWriterDurable, APositionIsDurableOnceTheWatermarkOrASealCoversIt) {
  TempDir dir("firkin_segment_test");
  ASSERT_FALSE(dir.path().empty());
  {
    SegmentTable table;
    LogWriter log(Env::Default(), dir.path(), HeldDir(Env::Default(), dir.path()), 1, 1 << 20,
                  &table, 1, 0);
    EXPECT_TRUE(log.Durable(LogPosition{}));  // nothing published: nothing to wait for
    auto append = [&](uint64_t bytes) { return AppendPublished(log, bytes); };
    const LogWriter::Reservation a = append(64);
    const LogPosition p = log.PublishedPosition();
    EXPECT_EQ(p.segment_id, a.seg->id());
    EXPECT_EQ(p.offset, a.off + a.bytes);
    // Published, never synced: not durable (nothing syncs 64 bytes behind
    // the writers' backs: write-behind leaves the newest half alone).
    EXPECT_FALSE(log.Durable(p));
    ASSERT_TRUE(log.SyncPublished().ok());
    EXPECT_TRUE(log.Durable(p));
    // Later records are not, until their segment is sealed: a record that
    // does not fit rolls the log, the roll queues the full segment's seal,
    // and the writeback thread seals it.
    append(4096);
    const LogPosition q = log.PublishedPosition();
    EXPECT_EQ(q.segment_id, p.segment_id);
    EXPECT_FALSE(log.Durable(q));
    const LogWriter::Reservation big = append((1 << 20) - 8192 - 64);
    EXPECT_NE(big.seg->id(), q.segment_id);
    bool durable = false;
    for (int i = 0; i < 500 && !durable; i++) {
      durable = log.Durable(q);
      if (!durable) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(durable) << "the rolled segment was never sealed";
    EXPECT_FALSE(log.Durable(log.PublishedPosition()));  // the new segment's record
  }
}

}  // namespace
}  // namespace firkin
