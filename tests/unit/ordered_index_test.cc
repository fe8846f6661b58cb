// Unit tests of OrderedIndex's loads at open (BulkLoad, LoadChunks) when an
// allocation fails part way: the exception comes out, and every byte the
// load took is given back (the index freed, the live allocations are those
// of before). This binary replaces the global operator new and delete
// (counting live blocks, failing the n-th allocation of the calling thread
// on demand); the core is linked in statically, so its allocations come
// here too. Until 2026-11-29 a chunk allocated but not yet in the
// directory leaked (BulkLoad: the directory's growth or a Rebuild threw;
// LoadChunks: a long common prefix's copy threw).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "core/keyspace/ordered_index.h"
#include "core/log/format.h"
#include "core/log/record_codec.h"
#include "core/log/segment.h"
#include "core/util/coding.h"
#include "core/util/epoch.h"
#include "tests/unit/memory_file.h"

namespace {
std::atomic<long> g_live{0};
thread_local long g_fail_in = 0;  // 0: off; else allocations until the failing one
thread_local long g_calls = 0;    // allocations asked for on this thread
}  // namespace

void* operator new(size_t n) {
  g_calls++;
  if (g_fail_in > 0 && --g_fail_in == 0) throw std::bad_alloc();
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  g_live.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void* operator new[](size_t n) { return ::operator new(n); }
// (These are the replacements: memory from this operator new is malloc's,
// so free is its match. GCC, seeing a std::vector's storage from operator
// new reach this free after inlining, warns otherwise.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
#pragma GCC diagnostic pop
void operator delete[](void* p) noexcept { ::operator delete(p); }
void operator delete(void* p, size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, size_t) noexcept { ::operator delete(p); }

namespace firkin {
namespace {


// Keys with a 30-byte common prefix (longer than a string's inline room,
// and than the 13 bytes BulkLoad derives from its 16-byte heads: its chunks
// are Rebuilt from the records).
std::string KeyOf(int i) {
  char k[64];
  std::snprintf(k, sizeof k, "ordered-index-test-long-prefix%06d", i);
  return k;
}

class OrderedIndexLoad : public ::testing::Test {
 protected:
  static constexpr int kKeys = 1000;  // 4 chunks
  void SetUp() override {
    uint32_t slot = 0;
    ASSERT_TRUE(segs_.AllocateSlot(&slot).ok());
    auto file = std::make_unique<MemoryFile>(1 << 20);
    char* base = file->data();
    uint64_t off = 4096;
    for (int i = 0; i < kKeys; i++) {
      const std::string k = KeyOf(i);
      RecordFields f{};
      f.seq = 1 + i;
      f.ns_id = 1;
      f.type = RecordType::kPut;
      f.key = k;
      f.value = "v";
      const size_t n = EncodeRecord(f, base + off);
      locs_.push_back(MakeLocator(slot, off));
      off += (n + 7) & ~size_t{7};
    }
    segs_.Add(std::make_shared<Segment>(1, slot, std::move(file), off, 0));
  }

  // Runs load on a new index with its n-th allocation failing, for every n
  // up to the allocations an unarmed load makes (some failures are caught
  // inside: a chunk's prefix kept shorter); after each, the index freed,
  // the live blocks must be those of before. Returns how many n threw.
  template <typename Load>
  int Sweep(Load&& load) {
    long total = 0;
    {
      OrderedIndex idx(&segs_, &codec_);
      const long c0 = g_calls;
      load(idx);
      total = g_calls - c0;
    }
    int threw = 0;
    for (long n = 1; n <= total; n++) {
      const long before = g_live.load();
      bool failed = false;
      {
        OrderedIndex idx(&segs_, &codec_);
        g_fail_in = n;
        try {
          load(idx);
        } catch (const std::bad_alloc&) {
          failed = true;
        }
        g_fail_in = 0;
      }
      EXPECT_EQ(g_live.load(), before) << "blocks leaked with allocation " << n << " of "
                                       << total << " failing";
      threw += failed;
    }
    return threw;
  }

  SegmentTable segs_;
  RecordCodec codec_;
  std::vector<Locator> locs_;
};

TEST_F(OrderedIndexLoad, BulkLoadFreesEverythingWhenAnAllocationFails) {
  Epoch::Guard guard;
  const int threw = Sweep([&](OrderedIndex& idx) { idx.BulkLoad(locs_); });
  EXPECT_GT(threw, 4);  // the sweep reached the chunks
  OrderedIndex idx(&segs_, &codec_);
  idx.BulkLoad(locs_);
  EXPECT_EQ(idx.size(), uint64_t{kKeys});
}

TEST_F(OrderedIndexLoad, LoadChunksFreesEverythingWhenAnAllocationFails) {
  Epoch::Guard guard;
  // The image of a whole index, as a checkpoint saves it.
  OrderedIndex src(&segs_, &codec_);
  src.BulkLoad(locs_);
  std::vector<std::string> commons;
  std::vector<std::string> words;
  src.ForEachChunk([&](std::string_view common, const uint64_t* e, uint32_t n) {
    commons.emplace_back(common);
    std::string w(8 * n, '\0');
    for (uint32_t j = 0; j < n; j++) EncodeU64(&w[8 * j], e[j]);
    words.push_back(std::move(w));
  });
  ASSERT_GE(commons.size(), 4u);
  ASSERT_GT(commons[0].size(), 15u);  // beyond a string's inline room: copying it allocates
  std::vector<OrderedIndex::ChunkImage> images;
  for (size_t c = 0; c < commons.size(); c++) {
    images.push_back({commons[c], words[c].data(), static_cast<uint32_t>(words[c].size() / 8)});
  }
  const int threw = Sweep([&](OrderedIndex& idx) { idx.LoadChunks(images); });
  EXPECT_GT(threw, 4);
  OrderedIndex idx(&segs_, &codec_);
  idx.LoadChunks(images);
  EXPECT_EQ(idx.size(), uint64_t{kKeys});
}

}  // namespace
}  // namespace firkin
