// Unit test of segment recycling across a power loss, through the
// fault-injecting Env: a retired segment's file, handed to the pool and
// taken by the prefault thread for the next spare before any directory
// sync, must never be left under its old segment name with the new
// segment's header (docs/testing.md, "Fixed: a recycled segment file under
// its old name after a power loss"). powerloss_test met this window about
// once in 23 runs; here the log writer is driven into it on purpose.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/log/format.h"
#include "core/log/log_writer.h"
#include "core/log/segment.h"
#include "core/util/epoch.h"
#include "tests/unit/log_append.h"
#include "tests/unit/temp_dir.h"
#include "tests/support/fault_env.h"

namespace firkin {
namespace {

// The database directory held open, as DB::Open does for its LogWriter.
std::unique_ptr<Directory> HeldDir(Env* env, const std::string& dir) {
  std::unique_ptr<Directory> d;
  EXPECT_TRUE(env->OpenDirectory(dir, &d).ok());
  return d;
}


// The header of the real file at `path` (what a machine would find after
// the power came back), if it holds a valid one.
bool HeaderOnDisk(const std::string& path, SegmentHeader* h) {
  std::ifstream f(path, std::ios::binary);
  char buf[kSegmentHeaderSize];
  if (!f.read(buf, sizeof buf)) return false;
  return DecodeSegmentHeader(buf, sizeof buf, path, h).ok();
}

// One try in a fresh directory. Returns whether it reached the window (the
// prefault thread readied the spare from the pooled file, not from a fresh
// one: a round of that thread that looked at segment 1 just before the
// roll readies a fresh spare for segment 2, and then no pooled file is
// taken); the check of what the power loss left is made either way.
bool TryTheWindow() {
  TempDir dir("firkin_recycle_test");
  EXPECT_FALSE(dir.path().empty());
  std::unique_ptr<FaultEnv> env = FaultEnv::Create(Env::Default());
  constexpr uint64_t kSegment = 1 << 20;
  const std::string spare = dir.path() + "/" + SegmentFileName(kMaxSegmentId + 1) + ".tmp";
  const std::string first = dir.path() + "/" + SegmentFileName(1);
  auto wait_for = [](auto done) {
    for (int i = 0; i < 500; i++) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  bool reached = false;
  {
    SegmentTable table;
    LogWriter log(env.get(), dir.path(), HeldDir(env.get(), dir.path()), 1, kSegment, &table, 1,
                  0, /*recycle=*/4);
    auto append = [&](uint64_t bytes) { return AppendPublished(log, bytes); };
    SegmentHeader h;
    // Segment 1 past an eighth: the prefault thread readies a spare from a
    // fresh file (the pool is empty).
    append(700 << 10);
    EXPECT_TRUE(wait_for([&] { return HeaderOnDisk(spare, &h); })) << "no first spare";
    // A record that does not fit rolls the log into that spare, segment 2,
    // and leaves it less than an eighth full: no spare is readied.
    const LogWriter::Reservation b = append(300 << 10);
    EXPECT_EQ(b.seg->id(), 1u);
    const LogWriter::Reservation c = append(64 << 10);
    EXPECT_EQ(c.seg->id(), 2u);
    // Segment 1 sealed (by the writeback thread), as compaction's inputs are.
    EXPECT_TRUE(wait_for([&] { return log.Durable(LogPosition{1, b.off + b.bytes}); }))
        << "segment 1 was never sealed";
    // Compaction retires it: out of the table, its file to the pool
    // (renamed to its pooled name), and no directory sync yet.
    {
      std::shared_ptr<Segment> one;
      for (auto& s : table.List()) {
        if (s->id() == 1) one = s;
      }
      EXPECT_NE(one, nullptr);
      if (one == nullptr) return true;
      table.Remove(1);
      EXPECT_TRUE(log.Retire(one, b.seq).ok());
    }
    EXPECT_FALSE(std::filesystem::exists(first));
    Epoch::Drain();  // its Segment gone (no reader holds it): the file is reusable
    // Segment 2 past an eighth: the prefault thread readies the next spare,
    // from the pooled file. Wait until its header is on disk (synced).
    append(100 << 10);
    EXPECT_TRUE(wait_for([&] { return HeaderOnDisk(spare, &h); })) << "no second spare";
    reached = !std::filesystem::exists(first + ".free") && h.segment_id == 3;
    // Power loss: renames no directory sync made durable are undone.
    EXPECT_TRUE(env->Crash(FaultEnv::CrashMode::kDrop, 1).ok());
  }
  // Every file under a segment name holds that segment's header (or none:
  // recovery removes cut-short creations); a file under segment 1's name
  // with the spare's header is what the database refused to open.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = e.path().filename().string();
    uint64_t id = 0;
    if (!ParseSegmentFileName(name, &id)) continue;
    SegmentHeader h;
    if (!HeaderOnDisk(e.path().string(), &h)) continue;
    EXPECT_EQ(h.segment_id, id) << name << " holds segment " << h.segment_id << "'s header";
  }
  return reached;
}

TEST(SegmentRecycling, APooledFileTakenBeforeAnyDirectorySyncKeepsNoOldNameAfterAPowerLoss) {
  // (Up to 300 tries, about 80 ms each: on a loaded machine the prefault
  // thread often readies the second spare before the retired file is
  // reusable, and the try misses the window; 20 tries reached it once under
  // a load average of 4, and 60 reached it twice in one CI run.)
  int tries = 0, reached = 0;
  for (; tries < 300 && reached < 3 && !::testing::Test::HasFailure(); tries++) {
    reached += TryTheWindow() ? 1 : 0;
  }
  EXPECT_EQ(reached, 3) << "the window was reached " << reached << " times in " << tries
                        << " tries";
}

}  // namespace
}  // namespace firkin
