// Unit tests of a roll that fails, driven through a LogWriter directly:
//  - a roll that cannot make its segment (no space) gives the segment id it
//    took back, so a caller that retries on a full disk does not use up
//    the 2^32 ids (after which the database could never roll again);
//  - the sync that makes a new segment's name durable needs no new file
//    descriptor (the directory is held open): when the process was out of
//    descriptors for a moment (EMFILE), that sync failed and the writer
//    stayed failed until a reopen, though nothing had failed to reach the
//    disk.
// (docs/testing.md, "Fixed: ... a failed roll".)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "core/log/log_writer.h"
#include "core/log/segment.h"
#include "tests/support/fault_env.h"
#include "tests/unit/log_append.h"
#include "tests/unit/temp_dir.h"

namespace firkin {
namespace {

constexpr uint64_t kSegment = 1 << 20;

std::unique_ptr<Directory> HeldDir(Env* env, const std::string& dir) {
  std::unique_ptr<Directory> d;
  EXPECT_TRUE(env->OpenDirectory(dir, &d).ok());
  return d;
}

TEST(RollFailure, FailedRollsGiveTheirSegmentIdBack) {
  TempDir dir("firkin_roll_failure");
  ASSERT_FALSE(dir.path().empty());
  std::unique_ptr<FaultEnv> env = FaultEnv::Create(Env::Default());
  SegmentTable table;
  LogWriter log(env.get(), dir.path(), HeldDir(env.get(), dir.path()), 1, kSegment, &table, 1,
                0);
  // Segment 1, far below the point where the prefault thread readies a
  // spare (an eighth of it): the roll below must make its file itself.
  LogWriter::Reservation first = AppendPublished(log, 64);
  ASSERT_NE(first.seg, nullptr);
  EXPECT_EQ(first.seg->id(), 1u);
  // Every preallocation fails from now on (ENOSPC, persistent).
  env->FailNth(FaultEnv::Op::kAllocate, 1, Status::Code::kNoSpace, /*sticky=*/true);
  const uint64_t big = kSegment - 4096;  // does not fit behind the first record
  constexpr int kTries = 200;
  for (int i = 0; i < kTries; i++) {
    LogWriter::Reservation r;
    Status s = log.Reserve(big, &r);
    ASSERT_FALSE(s.ok()) << "try " << i;
    EXPECT_EQ(s.code(), Status::Code::kNoSpace) << s.ToString();
  }
  EXPECT_TRUE(log.sticky_error().ok()) << "no space for a segment is not a failed state";
  env->FailNth(FaultEnv::Op::kAllocate, 0, Status::Code::kNoSpace, false);
  LogWriter::Reservation r = AppendPublished(log, big);
  ASSERT_NE(r.seg, nullptr);
  // Segment 2 (or 3, had the prefault thread readied a spare in between):
  // not 2 + kTries.
  EXPECT_LE(r.seg->id(), 3u) << kTries << " failed rolls used up ids";
}

// A roll that cannot make its segment leaves the full one active, closed
// and queued for its seal; the writeback thread (or SealQueued, as
// firkin_compact calls it first) seals it. SealActive (close, a full
// compaction) then sealed it a second time (review of 2026-11-29): its
// header's clock written again into a sealed segment, a second ftruncate
// and fdatasync of a file that was sealed. A segment is sealed once.
TEST(RollFailure, AFullSegmentLeftActiveIsSealedOnce) {
  TempDir dir("firkin_roll_failure");
  ASSERT_FALSE(dir.path().empty());
  std::unique_ptr<FaultEnv> env = FaultEnv::Create(Env::Default());
  SegmentTable table;
  std::atomic<uint64_t> clock_ms{1000};
  LogWriter log(env.get(), dir.path(), HeldDir(env.get(), dir.path()), 1, kSegment, &table, 1,
                0);
  log.set_clock(&clock_ms, nullptr);
  LogWriter::Reservation first = AppendPublished(log, 64);
  ASSERT_NE(first.seg, nullptr);
  Segment* full = first.seg;
  env->FailNth(FaultEnv::Op::kAllocate, 1, Status::Code::kNoSpace, /*sticky=*/true);
  {
    LogWriter::Reservation r;
    Epoch::Guard guard;
    Status s = log.Reserve(kSegment - 4096, &r);
    ASSERT_EQ(s.code(), Status::Code::kNoSpace) << s.ToString();
  }
  ASSERT_EQ(log.active(), full) << "the failed roll left the full segment active";
  ASSERT_TRUE(full->closed());
  // Sealed now (if the writeback thread has not already).
  ASSERT_TRUE(log.SealQueued().ok());
  ASSERT_TRUE(full->sealed.load());
  const uint64_t end = full->end_off();
  std::string header_was(full->data(), kSegmentHeaderSize);
  const uint64_t writes_was = env->Count(FaultEnv::Op::kWrite);  // (a Truncate is one)
  const uint64_t syncs_was = env->Count(FaultEnv::Op::kSync);
  clock_ms.store(5000);  // a seal now would write this clock
  ASSERT_TRUE(log.SealActive().ok());
  EXPECT_EQ(log.active(), nullptr);
  EXPECT_FALSE(full->log_active.load()) << "compactable now";
  EXPECT_EQ(env->Count(FaultEnv::Op::kWrite), writes_was) << "the sealed segment truncated again";
  EXPECT_EQ(env->Count(FaultEnv::Op::kSync), syncs_was) << "the sealed segment synced again";
  EXPECT_TRUE(std::string(full->data(), kSegmentHeaderSize) == header_was)
      << "the sealed segment's header (its clock) written again";
  EXPECT_EQ(full->end_off(), end);
  EXPECT_TRUE(log.sticky_error().ok()) << log.sticky_error().ToString();
  // And the log goes on in a new segment.
  env->FailNth(FaultEnv::Op::kAllocate, 0, Status::Code::kNoSpace, false);
  LogWriter::Reservation next = AppendPublished(log, 64);
  ASSERT_NE(next.seg, nullptr);
  EXPECT_NE(next.seg->id(), full->id());
  EXPECT_TRUE(log.SyncPublished().ok());
}

// The lowest free descriptor number: with the soft limit set to it, no
// open(2) can succeed (EMFILE).
int LowestFreeFd() {
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) close(fd);
  return fd;
}

TEST(RollFailure, OutOfDescriptorsAtTheDirectorySyncIsNotAFailedState) {
  TempDir dir("firkin_roll_failure");
  ASSERT_FALSE(dir.path().empty());
  SegmentTable table;
  LogWriter log(Env::Default(), dir.path(), HeldDir(Env::Default(), dir.path()), 1, kSegment,
                &table, 1, 0);
  // The first segment is named; the next sync makes the name durable.
  LogWriter::Reservation r = AppendPublished(log, 64);
  ASSERT_NE(r.seg, nullptr);
  struct rlimit was;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &was), 0);
  const int lowest = LowestFreeFd();
  ASSERT_GT(lowest, 2);
  struct rlimit none = was;
  none.rlim_cur = static_cast<rlim_t>(lowest);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &none), 0);
  ASSERT_LT(open("/dev/null", O_RDONLY | O_CLOEXEC), 0) << "the limit does not bite";
  const int open_errno = errno;
  Status s = log.SyncPublished();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &was), 0);
  EXPECT_EQ(open_errno, EMFILE);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(log.sticky_error().ok()) << log.sticky_error().ToString();
  // And the writer goes on.
  LogWriter::Reservation next = AppendPublished(log, 64);
  EXPECT_NE(next.seg, nullptr);
  EXPECT_TRUE(log.SyncPublished().ok());
}

}  // namespace
}  // namespace firkin
