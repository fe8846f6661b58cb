// Unit tests of the index checkpoint's encoding (core/recovery/checkpoint.h):
// the file written in pieces is the file encoded whole, it decodes back to
// the index's entries (the index's own 8-byte form, after per-shard
// counts), and its checksums and counts catch a flipped byte or a count
// that does not add up. ChecksumStream equals
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
#include "core/keyspace/namespaces.h"
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
  c.segments.push_back({1, 1 << 20, 100, 20, 1, 42, 1, 0, UINT64_MAX, 77});
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
                              kCheckpointShardCountsSize + want.size() * kCheckpointEntrySize +
                              c.ordered.size());
  EXPECT_EQ(kCheckpointEntrySize, 8u);

  CheckpointData d;
  ASSERT_TRUE(DecodeCheckpoint(whole, "CHECKPOINT", &d).ok());
  EXPECT_EQ(d.db_id, c.db_id);
  EXPECT_EQ(d.last_seq, c.last_seq);
  ASSERT_EQ(d.segments.size(), 1u);
  EXPECT_EQ(d.segments[0].min_expiry, UINT64_MAX);
  EXPECT_EQ(d.segments[0].inplace_seq, 77u);  // (version 7)
  ASSERT_EQ(d.entries_view.size(), want.size() * kCheckpointEntrySize);
  EXPECT_EQ(d.ordered_view, c.ordered);
  std::multimap<uint64_t, Locator> got;
  uint64_t next = 0;
  ForEachCheckpointEntry(d, [&](uint64_t i, uint64_t h, Locator l) {
    EXPECT_EQ(i, next++);
    got.insert({h, l});
  });
  EXPECT_EQ(next, want.size());
  EXPECT_EQ(got, want);

  // A flipped byte anywhere in the body or the header is refused.
  for (size_t at : {size_t{3}, size_t{70}, whole.size() / 2, whole.size() - 1}) {
    std::string bad = whole;
    bad[at] ^= 0x10;
    CheckpointData x;
    EXPECT_FALSE(DecodeCheckpoint(bad, "CHECKPOINT", &x).ok()) << "flip at " << at;
  }
}

// Version 8 carries each namespace's create record place; a version-7
// file (without it) still decodes, with none known; version 6 does not.
TEST(CheckpointTest, NamespaceCreatePlacesAndVersion7) {
  std::multimap<uint64_t, Locator> want;
  CheckpointData c = FromIndex(1000, &want);
  CheckpointNamespace ns{7, false, "seven", 3, 1, 12345, kNsFlagOrdered};
  ns.create_loc = MakeLocator(1, 4096);
  ns.create_size = 56;
  c.namespaces.push_back(ns);
  c.namespaces.push_back({9, true, "nine", 0, 0, UINT64_MAX, 0});
  const std::string v8 = EncodeCheckpoint(c);
  CheckpointData d;
  ASSERT_TRUE(DecodeCheckpoint(v8, "CHECKPOINT", &d).ok());
  EXPECT_EQ(d.version, 8u);
  ASSERT_EQ(d.namespaces.size(), 3u);
  EXPECT_EQ(d.namespaces[1].create_loc, MakeLocator(1, 4096));
  EXPECT_EQ(d.namespaces[1].create_size, 56u);
  EXPECT_EQ(d.namespaces[2].create_loc, 0u);

  // The same as version 7: each namespace entry without its last 12
  // bytes, re-signed.
  std::string v7 = v8.substr(0, kCheckpointHeaderSize + kCheckpointSegmentSize);
  size_t at = v7.size();
  for (const CheckpointNamespace& n : c.namespaces) {
    const size_t len = kCheckpointNamespaceMinV7 + n.name.size();
    v7 += v8.substr(at, len);
    at += len + 12;
  }
  v7 += v8.substr(at);
  EncodeU32(&v7[8], 7);
  EncodeU64(&v7[64], Checksum(v7.data() + kCheckpointHeaderSize, v7.size() - kCheckpointHeaderSize));
  EncodeU64(&v7[72], Checksum(v7.data(), 72));
  CheckpointData o;
  ASSERT_TRUE(DecodeCheckpoint(v7, "CHECKPOINT", &o).ok());
  EXPECT_EQ(o.version, 7u);
  ASSERT_EQ(o.namespaces.size(), 3u);
  EXPECT_EQ(o.namespaces[1].name, "seven");
  EXPECT_EQ(o.namespaces[1].live_keys, 3);
  EXPECT_EQ(o.namespaces[1].ttl_keys, 1);
  EXPECT_EQ(o.namespaces[1].min_expiry, 12345u);
  EXPECT_EQ(o.namespaces[1].flags, kNsFlagOrdered);
  EXPECT_EQ(o.namespaces[1].create_loc, 0u);
  EXPECT_TRUE(o.namespaces[2].dropped);
  EXPECT_EQ(o.entries_view.size(), d.entries_view.size());

  // Version 6 (and a version-7 header over a version-8 body) is refused.
  std::string v6 = v7;
  EncodeU32(&v6[8], 6);
  EncodeU64(&v6[72], Checksum(v6.data(), 72));
  CheckpointData x;
  EXPECT_FALSE(DecodeCheckpoint(v6, "CHECKPOINT", &x).ok());
  std::string mixed = v8;
  EncodeU32(&mixed[8], 7);
  EncodeU64(&mixed[72], Checksum(mixed.data(), 72));
  CheckpointData y;
  EXPECT_FALSE(DecodeCheckpoint(mixed, "CHECKPOINT", &y).ok());
}

// The layout a plain database writes into its mapped file (tables, the
// shard counts, one EncodeCheckpointEntry per entry of ForEachPacked, the
// ordered section, then the header over the body) is the file
// EncodeCheckpoint makes.
TEST(CheckpointTest, LaidOutInPlaceEqualsTheEncodedFile) {
  std::multimap<uint64_t, Locator> want;
  CheckpointData c = FromIndex(30000, &want);
  c.ordered = "ordered section bytes";
  const std::string whole = EncodeCheckpoint(c);
  const std::string tables = EncodeCheckpointTables(c);
  std::string file(kCheckpointHeaderSize + tables.size() + kCheckpointShardCountsSize +
                       c.entry_count() * kCheckpointEntrySize + c.ordered.size(),
                   '\0');
  std::memcpy(&file[kCheckpointHeaderSize], tables.data(), tables.size());
  EncodeCheckpointShardCounts(c.shard_counts, &file[kCheckpointHeaderSize + tables.size()]);
  size_t at = kCheckpointHeaderSize + tables.size() + kCheckpointShardCountsSize;
  for (uint64_t packed : c.packed_entries) {
    EncodeCheckpointEntry(packed, &file[at]);
    at += kCheckpointEntrySize;
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
  c.shard_counts[HashIndex::kShards - 1] -= 2;  // short of the entries
  EXPECT_FALSE(WriteCheckpoint(c, [](std::string_view) { return Status::OK(); }).ok());
}

// Re-signs a file whose bytes were changed: the body checksum, then the
// header's own (as a forger would).
void Resign(std::string* f) {
  EncodeU64(&(*f)[64], Checksum(f->data() + kCheckpointHeaderSize,
                                f->size() - kCheckpointHeaderSize));
  EncodeU64(&(*f)[72], Checksum(f->data(), 72));
}

TEST(CheckpointTest, DecodeRefusesCountsThatDoNotAddUpAndOlderVersions) {
  std::multimap<uint64_t, Locator> want;
  CheckpointData c = FromIndex(5000, &want);
  const std::string whole = EncodeCheckpoint(c);
  const size_t counts_at = kCheckpointHeaderSize + EncodeCheckpointTables(c).size();
  {
    CheckpointData ok;
    ASSERT_TRUE(DecodeCheckpoint(whole, "CHECKPOINT", &ok).ok());
  }
  // A count one higher, checksums made to match: the sum is off.
  std::string bad = whole;
  EncodeU32(&bad[counts_at + 4 * 7], DecodeU32(&bad[counts_at + 4 * 7]) + 1);
  Resign(&bad);
  CheckpointData x;
  Status s = DecodeCheckpoint(bad, "CHECKPOINT", &x);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("shard counts"), std::string::npos) << s.ToString();
  // A count wrapped to look small (adds up modulo 2^32 only).
  bad = whole;
  EncodeU32(&bad[counts_at], DecodeU32(&bad[counts_at]) + 0x80000000u);
  EncodeU32(&bad[counts_at + 4], DecodeU32(&bad[counts_at + 4]) + 0x80000000u);
  Resign(&bad);
  EXPECT_FALSE(DecodeCheckpoint(bad, "CHECKPOINT", &x).ok());
  // Version 5 (16-byte entries): ignored as older (open rebuilds it).
  bad = whole;
  EncodeU32(&bad[8], 5);
  Resign(&bad);
  s = DecodeCheckpoint(bad, "CHECKPOINT", &x);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("older"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace firkin
