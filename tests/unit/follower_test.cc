// Unit tests of the read-only handle's catch-up (core/recovery/follower.h):
// a refresh that finds no slot for a new segment ("too many live
// segments") maps it at a later refresh (until 2026-11-29 the segment was
// marked seen before its slot was allocated, and no later refresh mapped
// it: its records were never read).
#include "core/recovery/follower.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/db/db.h"
#include "core/util/epoch.h"
#include "tests/unit/temp_dir.h"

namespace firkin {
namespace {

constexpr int kKeys = 300;

TEST(FollowerTest, SegmentThatFoundNoSlotIsMappedByTheNextRefresh) {
  TempDir dir("firkin_follower");
  ASSERT_FALSE(dir.path().empty());
  {
    // A writer's database in several segments (closed: the follower reads
    // every segment whole).
    Options o;
    o.segment_size = 64 << 10;
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(dir.path(), o, &db).ok());
    const std::string value(500, 'v');
    for (int i = 0; i < kKeys; i++) {
      const std::string key = "k" + std::to_string(i);
      WriteOp op;
      op.ns = db->namespaces().Default().get();
      op.key = key;
      op.value = value;
      ASSERT_TRUE(db->Write(SyncMode::kNone, &op, 1, false).ok());
    }
    ASSERT_TRUE(db->Close().ok());
  }
  std::ifstream in(dir.path() + "/" + kIdentityFileName, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  Identity id;
  ASSERT_TRUE(DecodeIdentity(bytes.str(), kIdentityFileName, &id).ok());

  // A follower that holds nothing yet (as if its open had found an empty
  // directory), its segment table full.
  Options ro;
  ro.read_only = true;
  Keyspace ks(id.hash_seed, 1024);
  NamespaceTable ns;
  RecoveryResult opened;
  std::vector<uint32_t> taken;
  for (uint32_t slot = 0; ks.segments().AllocateSlot(&slot).ok();) taken.push_back(slot);
  ASSERT_FALSE(taken.empty());
  {
    Follower f(Env::Default(), dir.path(), id, ro, &ks, &ns, opened);
    uint64_t seq = 0, newest_time = 0;
    NsCountDeltas counts;
    const Status full = f.CatchUp(&seq, &counts, &newest_time);
    EXPECT_EQ(full.code(), Status::Code::kNoSpace) << full.ToString();
    EXPECT_EQ(seq, 0u);
    EXPECT_EQ(f.stats().segments_added, 0u);
    counts.Apply(ns.counts_lock());

    // Slots free again: the next refresh maps every segment and reads
    // every key.
    for (uint32_t slot : taken) ks.segments().FreeSlot(slot);
    const Status s = f.CatchUp(&seq, &counts, &newest_time);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::atomic<uint64_t> history{0}, scan{0}, absent{0};
    f.Retire(&history, &scan, &absent, &counts);
    counts.Apply(ns.counts_lock());
    EXPECT_GT(f.stats().segments_added, 1u);
    EXPECT_EQ(seq, static_cast<uint64_t>(kKeys));
    EXPECT_EQ(f.stats().records, static_cast<uint64_t>(kKeys));
    Epoch::Guard guard;
    int found = 0;
    for (int i = 0; i < kKeys; i++) {
      const std::string key = "k" + std::to_string(i);
      RecordView r;
      if (ks.FindNewest(ks.Hash(0, key), 0, key, &r) != 0) found++;
    }
    EXPECT_EQ(found, kKeys);
  }
  Epoch::Drain();
}

}  // namespace
}  // namespace firkin
