// Unit tests of the index checkpoint's encoding (core/recovery/checkpoint.h):
// the file written in pieces is the file encoded whole, it decodes back to
// the index's entries (packed in 8 bytes while it is written, 16 in the
// file), and its checksums catch a flipped byte. ChecksumStream equals
// Checksum of the concatenation at any split.
#include "core/recovery/checkpoint.h"

#include <gtest/gtest.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>
#include <map>
#include <random>
#include <string>

#include "core/index/hash_index.h"
#include "core/util/coding.h"
#include "core/util/epoch.h"
#include "core/util/hash.h"

namespace firkin {
namespace {

TEST(ChecksumStreamTest, EqualsChecksumOfTheConcatenationAtAnySplit) {
  std::mt19937_64 rng(7);
  std::string data(5000, '\0');
  for (char& ch : data) ch = static_cast<char>(rng());
  for (size_t len : {0u, 1u, 17u, 240u, 241u, 1024u, 5000u}) {
    const uint64_t want = Checksum(data.data(), len);
    for (size_t cut : {size_t{0}, len / 3, len / 2, len}) {
      ChecksumStream s;
      s.Update(std::string_view(data.data(), cut));
      s.Update(std::string_view(data.data() + cut, len - cut));
      EXPECT_EQ(s.Digest(), want) << "len " << len << " cut " << cut;
    }
  }
}

// A CheckpointData holding the entries of an index of `n` keys, as
// DB::Checkpoint takes them, and the (hash_bits, locator) pairs they stand for.
CheckpointData FromIndex(uint64_t n, std::multimap<uint64_t, Locator>* want) {
  HashIndex index;
  for (uint64_t k = 1; k <= n; ++k) {
    const uint64_t h = XXH3_64bits_withSeed(&k, sizeof k, 99);
    index.Upsert(h, MakeLocator(1 + static_cast<uint32_t>(k % 5), 64 + 8 * k),
                 [](Locator) { return false; });
  }
  CheckpointData c;
  c.db_id = 0x1234;
  c.last_seq = n + 10;
  c.segments.push_back({1, 1 << 20, 100, 20, 1, 42, 1, 0, UINT64_MAX});
  c.namespaces.push_back({0, false, "", static_cast<int64_t>(n), 0, UINT64_MAX, 0});
  c.shard_counts.assign(HashIndex::kShards, 0);
  index.ForEachPacked([&](size_t shard, uint64_t packed) {  // as DB::Checkpoint
    c.packed_entries.push_back(packed);
    ++c.shard_counts[shard];
  });
  index.ForEachEntry([&](uint64_t h, Locator l) {
    want->insert({h, l});  // (30 bits of hash: some keys share them)
  });
  Epoch::Drain();
  return c;
}

TEST(CheckpointTest, PiecesEqualTheWholeAndDecodeToTheIndexEntries) {
  std::multimap<uint64_t, Locator> want;
  CheckpointData c = FromIndex(50000, &want);
  c.ordered = "an ordered section";
  const std::string whole = EncodeCheckpoint(c);
  std::string pieces;
  size_t calls = 0;
  ASSERT_TRUE(WriteCheckpoint(c, [&](std::string_view p) {
                ++calls;
                pieces.append(p.data(), p.size());
                return Status::OK();
              }).ok());
  EXPECT_EQ(pieces, whole);
  EXPECT_GT(calls, 4u);  // the 800 KB of entries came in pieces
  EXPECT_EQ(whole.size(), kCheckpointHeaderSize + kCheckpointSegmentSize + kCheckpointNamespaceMin +
                              want.size() * kCheckpointEntrySize + c.ordered.size());

  CheckpointData d;
  ASSERT_TRUE(DecodeCheckpoint(whole, "CHECKPOINT", &d).ok());
  EXPECT_EQ(d.db_id, c.db_id);
  EXPECT_EQ(d.last_seq, c.last_seq);
  ASSERT_EQ(d.entries_view.size(), want.size() * kCheckpointEntrySize);
  EXPECT_EQ(d.ordered_view, c.ordered);
  std::multimap<uint64_t, Locator> got;
  for (size_t i = 0; i < d.entries_view.size(); i += kCheckpointEntrySize) {
    got.insert({DecodeU64(d.entries_view.data() + i), DecodeU64(d.entries_view.data() + i + 8)});
  }
  EXPECT_EQ(got, want);

  // A flipped byte anywhere in the body or the header is refused.
  for (size_t at : {size_t{3}, size_t{70}, whole.size() / 2, whole.size() - 1}) {
    std::string bad = whole;
    bad[at] ^= 0x10;
    CheckpointData x;
    EXPECT_FALSE(DecodeCheckpoint(bad, "CHECKPOINT", &x).ok()) << "flip at " << at;
  }
}

// The layout a plain database writes into its mapped file (tables, one
// EncodeCheckpointEntry per entry of ForEachPacked, the ordered section,
// then the header over the body) is the file EncodeCheckpoint makes.
TEST(CheckpointTest, LaidOutInPlaceEqualsTheEncodedFile) {
  std::multimap<uint64_t, Locator> want;
  CheckpointData c = FromIndex(30000, &want);
  c.ordered = "ordered section bytes";
  const std::string whole = EncodeCheckpoint(c);
  const std::string tables = EncodeCheckpointTables(c);
  std::string file(kCheckpointHeaderSize + tables.size() +
                       c.entry_count() * kCheckpointEntrySize + c.ordered.size(),
                   '\0');
  std::memcpy(&file[kCheckpointHeaderSize], tables.data(), tables.size());
  size_t at = kCheckpointHeaderSize + tables.size();
  size_t next = 0;
  for (size_t shard = 0; shard < c.shard_counts.size(); ++shard) {
    for (uint32_t k = 0; k < c.shard_counts[shard]; ++k, at += kCheckpointEntrySize) {
      EncodeCheckpointEntry(shard, c.packed_entries[next++], &file[at]);
    }
  }
  std::memcpy(&file[at], c.ordered.data(), c.ordered.size());
  EncodeCheckpointHeader(c, c.entry_count(),
                         Checksum(file.data() + kCheckpointHeaderSize,
                                  file.size() - kCheckpointHeaderSize),
                         &file[0]);
  EXPECT_EQ(file, whole);
}

TEST(CheckpointTest, SinkErrorStopsTheWrite) {
  std::multimap<uint64_t, Locator> want;
  CheckpointData c = FromIndex(20000, &want);
  size_t calls = 0;
  Status s = WriteCheckpoint(c, [&](std::string_view) {
    return ++calls == 3 ? Status::IOError("disk full") : Status::OK();
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(calls, 3u);
}

TEST(CheckpointTest, ShardCountsBeyondTheEntriesAreRefused) {
  std::multimap<uint64_t, Locator> want;
  CheckpointData c = FromIndex(1000, &want);
  c.shard_counts[HashIndex::kShards - 1] += 1;
  EXPECT_FALSE(WriteCheckpoint(c, [](std::string_view) { return Status::OK(); }).ok());
}

}  // namespace
}  // namespace firkin
