// Unit tests of the on-disk format encoders and validators (core/log/format).
#include "core/log/format.h"
#include "core/util/hash.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

// The reference: XXH3 as this test file is compiled (the compiler's default
// target, no AVX2), against which the library's run-time pick is checked.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace firkin {
namespace {

TEST(Format, RecordRoundTrip) {
  std::string key("k\0ey", 4), value("value bytes");
  std::vector<char> buf(RecordSize(key.size(), value.size()));
  EncodeRecord({42, MakeDiskAddr(3, 128), 7, RecordType::kPut, kRecordFlagBatch, key, value},
               buf.data());
  EXPECT_EQ(buf.size() % kRecordAlign, 0u);
  RecordView r;
  ASSERT_TRUE(ValidateRecord(buf.data(), buf.size(), &r, nullptr));
  EXPECT_EQ(r.seq, 42u);
  EXPECT_EQ(DiskAddrSegment(r.prev), 3u);
  EXPECT_EQ(DiskAddrOffset(r.prev), 128u);
  EXPECT_EQ(r.ns_id, 7u);
  EXPECT_EQ(r.key(), key);
  EXPECT_EQ(r.value(), value);
  EXPECT_TRUE(r.is_batch());
  // Format version 8: the short layout, 36 header bytes (4 + 11 bytes of
  // key and value: 51, padded to 56).
  EXPECT_TRUE(r.short_header());
  EXPECT_EQ(r.key().data(), buf.data() + kRecordHeaderShort);
  EXPECT_EQ(buf.size(), 56u);
  EXPECT_EQ(r.size(), buf.size());
}

// A record of the long layout (format versions up to 7, and compaction's
// copies of such records) is read as it always was: key at 40, a 64-bit
// checksum over [8, ...).
TEST(Format, LongLayoutStillReads) {
  std::string key("k\0ey", 4), value("value bytes");
  RecordFields f{42, MakeDiskAddr(3, 128), 7, RecordType::kPut, 0, key, value, 1234};
  f.long_header = true;
  std::vector<char> buf(RecordSize(key.size(), value.size(), 8, 0, kRecordHeaderLong));
  ASSERT_EQ(EncodeRecord(f, buf.data()), buf.size());
  RecordView r;
  ASSERT_TRUE(ValidateRecord(buf.data(), buf.size(), &r, nullptr));
  EXPECT_FALSE(r.short_header());
  EXPECT_EQ(r.flags, kRecordFlagTime);
  EXPECT_EQ(r.time(), 1234u);
  EXPECT_EQ(r.key().data(), buf.data() + kRecordHeaderLong + 8);
  EXPECT_EQ(r.key(), key);
  EXPECT_EQ(r.value(), value);
  EXPECT_EQ(DecodeU64(buf.data()),
            Checksum(buf.data() + 8, kRecordHeaderLong - 8 + 8 + key.size() + value.size()));
  // The same fields in the short layout: 4 bytes less before padding (so
  // 8 less for half of all lengths: a 16-byte key, a 100-byte value and a
  // commit time take 160 bytes, not 168; here both pad to 64).
  EXPECT_EQ(RecordSize(16, 100, 8), 160u);
  EXPECT_EQ(RecordSize(16, 100, 8, 0, kRecordHeaderLong), 168u);
  f.long_header = false;
  std::vector<char> s(RecordSize(key.size(), value.size(), 8));
  ASSERT_EQ(EncodeRecord(f, s.data()), s.size());
  EXPECT_EQ(s.size(), buf.size());
  ASSERT_TRUE(ValidateRecord(s.data(), s.size(), &r, nullptr));
  EXPECT_EQ(DecodeU32(s.data()),
            static_cast<uint32_t>(Checksum(s.data() + 4, 32 + 8 + key.size() + value.size())));
  // Only in a segment of version 8 or later: a short record in an older
  // segment is damage, never read.
  std::vector<char> seg(kSegmentHeaderSize + s.size());
  for (uint32_t v : {kFormatVersionInPlace, kFormatVersionShort}) {
    EncodeSegmentHeader({v, 0, 9, 1234}, seg.data());
    std::memcpy(seg.data() + kSegmentHeaderSize, s.data(), s.size());
    EXPECT_EQ(ValidateRecord(seg.data() + kSegmentHeaderSize, s.size(), &r, seg.data()),
              v >= kFormatVersionShort)
        << v;
    // The reads' check of a record they reach by its address (a version
    // chain, an index entry, an iterator's walk) says the same, whatever
    // the checksum says (until 2026-11-27 only the scan's did: a short
    // record in a version-7 segment was read on its checksum alone).
    const RecordView p = PeekRecord(seg.data() + kSegmentHeaderSize, seg.data());
    EXPECT_TRUE(RecordChecksumOk(p)) << v;
    EXPECT_EQ(RecordIntact(p), v >= kFormatVersionShort) << v;
    EXPECT_EQ(ReadIntact(p, /*check_all=*/false), v >= kFormatVersionShort) << v;
    EXPECT_EQ(RecordLayoutFits(p.flags, seg.data()), v >= kFormatVersionShort) << v;
    // A long record fits anywhere.
    EXPECT_TRUE(RecordLayoutFits(kRecordFlagTime, seg.data())) << v;
  }
  // A view whose segment is not known: a short record cannot be placed.
  const RecordView unplaced = PeekRecord(s.data());
  EXPECT_FALSE(RecordIntact(unplaced));
  EXPECT_TRUE(RecordIntact(PeekRecord(buf.data())));  // (long: fits anywhere)
}

TEST(Format, EveryFlippedBitIsDetected) {
  std::string key = "key", value(100, 'v');
  for (bool long_header : {false, true}) {
    RecordFields f{1, 0, 0, RecordType::kPut, 0, key, value};
    f.long_header = long_header;
    const size_t header = long_header ? kRecordHeaderLong : kRecordHeaderShort;
    std::vector<char> buf(RecordSize(key.size(), value.size(), 0, 0, header));
    ASSERT_EQ(EncodeRecord(f, buf.data()), buf.size());
    const size_t covered = header + key.size() + value.size();
    for (size_t bit = 0; bit < covered * 8; bit++) {
      std::vector<char> b = buf;
      b[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      RecordView r;
      EXPECT_FALSE(ValidateRecord(b.data(), b.size(), &r, nullptr))
          << "bit " << bit << " " << long_header;
    }
  }
}

// A put or delete with an empty key is damage even with a valid checksum
// (keys are 1..65535 bytes; found by review).
TEST(Format, EmptyKeyIsInvalid) {
  for (RecordType t : {RecordType::kPut, RecordType::kDelete}) {
    std::vector<char> buf(RecordSize(0, 3));
    EncodeRecord({5, 0, 0, t, 0, "", "abc"}, buf.data());
    RecordView r;
    EXPECT_FALSE(ValidateRecord(buf.data(), buf.size(), &r, nullptr)) << static_cast<int>(t);
  }
  std::vector<char> commit(RecordSize(0, 4));
  EncodeRecord({5, 0, 0, RecordType::kCommit, 0, "", std::string_view("\1\0\0\0", 4)},
               commit.data());
  RecordView r;
  EXPECT_TRUE(ValidateRecord(commit.data(), commit.size(), &r, nullptr));
}

TEST(Format, ZeroesAndTruncationAreInvalid) {
  std::vector<char> zeros(256, 0);
  RecordView r;
  EXPECT_FALSE(ValidateRecord(zeros.data(), zeros.size(), &r, nullptr));
  std::vector<char> buf(RecordSize(3, 10));
  EncodeRecord({5, 0, 0, RecordType::kDelete, 0, "abc", "0123456789"}, buf.data());
  EXPECT_FALSE(ValidateRecord(buf.data(), buf.size() - 8, &r, nullptr));
  EXPECT_TRUE(ValidateRecord(buf.data(), buf.size(), &r, nullptr));
}

TEST(Format, SegmentHeader) {
  std::vector<char> hv(kSegmentHeaderSize);
  char* h = hv.data();
  EncodeSegmentHeader({kFormatVersion, 0, 9, 1234}, h);
  SegmentHeader out;
  ASSERT_TRUE(DecodeSegmentHeader(h, hv.size(), "x", &out).ok());
  EXPECT_EQ(out.segment_id, 9u);
  EXPECT_EQ(out.db_id, 1234u);
  EXPECT_EQ(DecodeDurableLen(h), 0u);
  EncodeDurableLen(h, 4096);
  EXPECT_EQ(DecodeDurableLen(h), 4096u);
  h[kWatermarkOffset + 2] ^= 1;  // a torn watermark reads as 0, never larger
  EXPECT_EQ(DecodeDurableLen(h), 0u);
  h[20] ^= 1;
  EXPECT_EQ(DecodeSegmentHeader(h, hv.size(), "x", &out).code(), Status::Code::kCorruption);
}

TEST(Format, NewerVersionsAreRefused) {
  Identity id;
  id.db_id = 1;
  std::string enc = EncodeIdentity(id);
  Identity out;
  ASSERT_TRUE(DecodeIdentity(enc, "FIRKIN", &out).ok());
  id.format_version = kFormatVersion + 1;
  enc = EncodeIdentity(id);
  EXPECT_EQ(DecodeIdentity(enc, "FIRKIN", &out).code(), Status::Code::kVersion);
  EXPECT_EQ(DecodeIdentity("garbage", "FIRKIN", &out).code(), Status::Code::kNotADatabase);
}

TEST(Format, Version3TimeAndExpiry) {
  EXPECT_GE(kFormatVersion, 3u);
  std::string key("k\0ey", 4), value("value");
  // Both optional fields: 16 bytes between the header and the key.
  std::vector<char> buf(RecordSize(key.size(), value.size(), 16));
  const size_t n = EncodeRecord(
      {9, 0, 2, RecordType::kPut, kRecordFlagBatch, key, value, 1700000000123ull, 1700000005000ull},
      buf.data());
  EXPECT_EQ(n, buf.size());
  RecordView r;
  ASSERT_TRUE(ValidateRecord(buf.data(), buf.size(), &r, nullptr));
  EXPECT_EQ(r.flags, kRecordFlagBatch | kRecordFlagTime | kRecordFlagExpiry | kRecordFlagShort);
  EXPECT_EQ(r.time(), 1700000000123ull);
  EXPECT_EQ(r.expiry(), 1700000005000ull);
  EXPECT_EQ(r.key(), key);
  EXPECT_EQ(r.value(), value);
  EXPECT_EQ(r.size(), buf.size());
  // Every bit of the optional fields is covered by the checksum.
  for (size_t bit = kRecordHeaderShort * 8; bit < (kRecordHeaderShort + 16) * 8; bit++) {
    std::vector<char> b = buf;
    b[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    EXPECT_FALSE(ValidateRecord(b.data(), b.size(), &r, nullptr)) << "bit " << bit;
  }
  // Time only: the expiry reads as none; a version-2 record (no fields)
  // has time 0 ("unknown") and costs nothing more.
  std::vector<char> t(RecordSize(key.size(), value.size(), 8));
  EncodeRecord({9, 0, 2, RecordType::kDelete, 0, key, value, 77}, t.data());
  ASSERT_TRUE(ValidateRecord(t.data(), t.size(), &r, nullptr));
  EXPECT_EQ(r.time(), 77u);
  EXPECT_EQ(r.expiry(), 0u);
  EXPECT_EQ(r.key(), key);
  std::vector<char> v2(RecordSize(key.size(), value.size()));
  EncodeRecord({9, 0, 2, RecordType::kPut, 0, key, value}, v2.data());
  ASSERT_TRUE(ValidateRecord(v2.data(), v2.size(), &r, nullptr));
  EXPECT_EQ(r.time(), 0u);
  EXPECT_EQ(r.expiry(), 0u);
  EXPECT_EQ(r.flags, kRecordFlagShort);
  // A flag bit this version does not know is damage, never misread; so is
  // a flag changed under an intact checksum (the layout's, or the seal's).
  std::vector<char> u = v2;
  u[35] = static_cast<char>(kRecordFlagShort | 128);
  EXPECT_FALSE(ValidateRecord(u.data(), u.size(), &r, nullptr));
  StoreRecordChecksum(u.data(), kRecordFlagShort, RecordChecksum(u.data(), kRecordFlagShort, 4, 5));
  EXPECT_FALSE(ValidateRecord(u.data(), u.size(), &r, nullptr));
  u[35] = static_cast<char>(kRecordFlagSealed | kRecordFlagShort);
  EXPECT_FALSE(ValidateRecord(u.data(), u.size(), &r, nullptr));
  u[35] = 0;  // the long layout read over short bytes
  EXPECT_FALSE(ValidateRecord(u.data(), u.size(), &r, nullptr));
}

// Rewrites the checksum of an encoded record after a test changed it.
void Reseal(std::vector<char>* b) {
  RecordView r = PeekRecord(b->data());
  StoreRecordChecksum(b->data(), r.flags, RecordChecksum(b->data(), r.flags, r.key_len, r.value_len));
}

TEST(Format, Version4CodecFlags) {
  EXPECT_EQ(kFormatVersionUnsealed, 4u);  // what unencrypted databases write
  std::string key("key"), value("\x10\0\0\0stored bytes", 16);
  for (uint8_t f : {kRecordFlagLz4, kRecordFlagZstd}) {
    std::vector<char> buf(RecordSize(key.size(), value.size(), 8));
    EncodeRecord({5, 0, 0, RecordType::kPut, f, key, value, 99}, buf.data());
    RecordView r;
    ASSERT_TRUE(ValidateRecord(buf.data(), buf.size(), &r, nullptr));
    EXPECT_EQ(r.flags, f | kRecordFlagTime | kRecordFlagShort);  // the codec flag is kept
    EXPECT_EQ(r.value(), value);
    // Both algorithms at once, or a codec flag on a non-put: damage.
    std::vector<char> both = buf;
    both[35] =
        static_cast<char>(kRecordFlagLz4 | kRecordFlagZstd | kRecordFlagTime | kRecordFlagShort);
    Reseal(&both);
    EXPECT_FALSE(ValidateRecord(both.data(), both.size(), &r, nullptr));
    std::vector<char> del = buf;
    del[34] = static_cast<char>(RecordType::kDelete);
    Reseal(&del);
    EXPECT_FALSE(ValidateRecord(del.data(), del.size(), &r, nullptr));
  }
  // A compressed value shorter than its length prefix: damage.
  std::vector<char> shortv(RecordSize(key.size(), 3, 8));
  EncodeRecord({5, 0, 0, RecordType::kPut, kRecordFlagLz4, key, "abc", 99}, shortv.data());
  RecordView r;
  EXPECT_FALSE(ValidateRecord(shortv.data(), shortv.size(), &r, nullptr));
}

// Version 5: salted segment headers and sealed records (encrypted databases).
TEST(Format, Version5SaltAndSealedFlag) {
  EXPECT_EQ(kFormatVersionSealed, 5u);
  std::vector<char> hv(kSegmentHeaderSize);
  SegmentHeader h;
  h.format_version = 5;
  h.flags = kSegmentFlagSalted;
  h.segment_id = 9;
  h.db_id = 1234;
  h.salt = 0x0123456789ABCDEFull;
  EncodeSegmentHeader(h, hv.data());
  SegmentHeader out;
  ASSERT_TRUE(DecodeSegmentHeader(hv.data(), hv.size(), "x", &out).ok());
  EXPECT_EQ(out.salt, h.salt);
  uint64_t salt = 0;
  EXPECT_TRUE(SegmentSalt(hv.data(), &salt));
  EXPECT_EQ(salt, h.salt);
  // A damaged salt (its own check fails) is corruption, never another salt.
  std::vector<char> bad = hv;
  bad[kSegmentSaltOffset] ^= 1;
  EXPECT_EQ(DecodeSegmentHeader(bad.data(), bad.size(), "x", &out).code(),
            Status::Code::kCorruption);
  EXPECT_FALSE(SegmentSalt(bad.data(), &salt));
  // Salted in a version-4 header: not a header this format allows.
  h.format_version = 4;
  EncodeSegmentHeader(h, hv.data());
  EXPECT_EQ(DecodeSegmentHeader(hv.data(), hv.size(), "x", &out).code(),
            Status::Code::kCorruption);
  // An unsalted header has no salt.
  EncodeSegmentHeader({4, 0, 9, 1234}, hv.data());
  EXPECT_FALSE(SegmentSalt(hv.data(), &salt));

  // The sealed flag: the tag counts in the size and the checksum; allowed on
  // puts, deletes and namespace records, damage on a commit marker.
  std::string key("key"), value("value");
  for (RecordType t : {RecordType::kPut, RecordType::kDelete, RecordType::kNsCreate,
                       RecordType::kCommit}) {
    std::vector<char> buf(RecordSize(key.size(), value.size(), 8, kRecordSealTagSize));
    EncodeRecord({5, 0, 0, t, kRecordFlagSealed, key, value, 99}, buf.data());
    RecordView r = PeekRecord(buf.data());
    EXPECT_EQ(r.size(), buf.size());
    StoreRecordChecksum(buf.data(), r.flags,
                        RecordChecksum(buf.data(), r.flags, r.key_len, r.value_len));
    EXPECT_EQ(ValidateRecord(buf.data(), buf.size(), &r, nullptr), t != RecordType::kCommit)
        << static_cast<int>(t);
    // The checksum covers the tag.
    buf[r.head_len() + key.size() + value.size() + 3] ^= 1;
    EXPECT_FALSE(ValidateRecord(buf.data(), buf.size(), &r, nullptr));
  }
}

TEST(Format, SegmentVersionsUpToOursAreRead) {
  std::vector<char> hv(kSegmentHeaderSize);
  SegmentHeader out;
  for (uint32_t v = 1; v <= kFormatVersion; v++) {
    EncodeSegmentHeader({v, 0, 9, 1234}, hv.data());
    ASSERT_TRUE(DecodeSegmentHeader(hv.data(), hv.size(), "x", &out).ok()) << v;
    EXPECT_EQ(out.format_version, v);
  }
  EncodeSegmentHeader({kFormatVersion + 1, 0, 9, 1234}, hv.data());
  EXPECT_EQ(DecodeSegmentHeader(hv.data(), hv.size(), "x", &out).code(), Status::Code::kVersion);
}

TEST(Format, SegmentFileNames) {
  uint64_t id = 0;
  EXPECT_EQ(SegmentFileName(0x1f), "000000000000001f.seg");
  EXPECT_TRUE(ParseSegmentFileName("000000000000001f.seg", &id));
  EXPECT_EQ(id, 0x1fu);
  EXPECT_FALSE(ParseSegmentFileName("00000000000001f.seg", &id));
  EXPECT_FALSE(ParseSegmentFileName("000000000000001F.seg", &id));
  EXPECT_FALSE(ParseSegmentFileName("000000000000001f.log", &id));
}


// Version 6: a log segment created while the one before it was still being
// sealed carries kSegmentFlagAfterUnsealed and that segment's last sequence
// number as its floor (0 allowed: the one before held no record).
TEST(Format, Version6AfterUnsealedFlag) {
  EXPECT_EQ(kFormatVersionAfterUnsealed, 6u);
  std::vector<char> hv(kSegmentHeaderSize);
  SegmentHeader h;
  h.format_version = kFormatVersionAfterUnsealed;
  h.flags = kSegmentFlagAfterUnsealed;
  h.segment_id = 9;
  h.db_id = 1234;
  h.seq_floor = 777;
  EncodeSegmentHeader(h, hv.data());
  SegmentHeader out;
  ASSERT_TRUE(DecodeSegmentHeader(hv.data(), hv.size(), "x", &out).ok());
  EXPECT_EQ(out.flags, kSegmentFlagAfterUnsealed);
  EXPECT_EQ(out.seq_floor, 777u);
  EXPECT_EQ(SegmentSeqFloor(hv.data()), 777u);
  h.seq_floor = 0;
  EncodeSegmentHeader(h, hv.data());
  EXPECT_TRUE(DecodeSegmentHeader(hv.data(), hv.size(), "x", &out).ok());
  // The flag under an older version is damage, not a segment to trust.
  h.format_version = kFormatVersionSealed;
  EncodeSegmentHeader(h, hv.data());
  EXPECT_EQ(DecodeSegmentHeader(hv.data(), hv.size(), "x", &out).code(),
            Status::Code::kCorruption);
  // A floor without either flag is damage too.
  h.format_version = kFormatVersionAfterUnsealed;
  h.flags = 0;
  h.seq_floor = 5;
  EncodeSegmentHeader(h, hv.data());
  EXPECT_EQ(DecodeSegmentHeader(hv.data(), hv.size(), "x", &out).code(),
            Status::Code::kCorruption);
}

// Every record's checksum is XXH3 as defined bit for bit (docs/format.md);
// the library computes long inputs with an AVX2 build when the CPU has it
// (core/util/hash.cc). Both must give the reference value at every length
// (short, the 240-byte switch, the vector loop's block and stripe edges) and
// alignment, or a database written on one machine would not read on another.
TEST(Format, ChecksumIsXxh3AtEveryLengthAndAlignment) {
  EXPECT_EQ(Checksum("", 0), 0x2D06800538D394C2ull);  // XXH3_64bits of nothing
  std::mt19937_64 rng(7);
  std::vector<char> buf(8192 + 64);
  for (auto& c : buf) c = static_cast<char>(rng());
  for (size_t len = 0; len <= 4200; len += (len < 1100 ? 1 : 61)) {
    for (size_t align : {0, 1, 7, 32}) {
      const char* p = buf.data() + align;
      ASSERT_EQ(Checksum(p, len), XXH3_64bits(p, len)) << "length " << len << " at +" << align;
    }
  }
  const char* p = buf.data() + 3;
  EXPECT_EQ(Checksum(p, 8192), XXH3_64bits(p, 8192));
}

// A record's writer hashes its pieces in place (Checksum3): the value must
// be the reference XXH3 of the pieces laid end to end, on both sides of the
// 240-byte switch and with empty pieces.
TEST(Format, ChecksumOfPiecesIsChecksumOfTheirConcatenation) {
  std::mt19937_64 rng(11);
  std::string all(6000, '\0');
  for (auto& c : all) c = static_cast<char>(rng());
  for (size_t n : {0, 1, 31, 32, 48, 239, 240, 241, 300, 1048, 1049, 4096, 5999}) {
    for (int trial = 0; trial < 40; trial++) {
      size_t i = n == 0 ? 0 : rng() % (n + 1), j = n == 0 ? 0 : rng() % (n + 1);
      if (i > j) std::swap(i, j);
      std::string_view v(all.data(), n);
      ASSERT_EQ(Checksum3(v.substr(0, i), v.substr(i, j - i), v.substr(j)),
                XXH3_64bits(v.data(), n))
          << "length " << n << " split at " << i << ", " << j;
    }
  }
}

// EncodeRecord computes the checksum from its inputs; it must be the one
// RecordChecksum computes over the stored bytes, with and without the
// optional fields.
TEST(Format, EncodedChecksumIsTheStoredBytesChecksum) {
  std::string value(1000, 'v');
  for (uint64_t time : {uint64_t{0}, uint64_t{123456789}}) {
    for (uint64_t expiry : {uint64_t{0}, uint64_t{987654321}}) {
      RecordFields f{9, 0, 1, RecordType::kPut, 0, "key", value};
      f.time = time;
      f.expiry = expiry;
      const uint8_t flags =
          kRecordFlagShort | (time ? kRecordFlagTime : 0) | (expiry ? kRecordFlagExpiry : 0);
      std::vector<char> buf(RecordSize(3, value.size(), RecordExtLen(flags), 0));
      EncodeRecord(f, buf.data());
      EXPECT_EQ(StoredRecordChecksum(buf.data(), flags),
                RecordChecksum(buf.data(), flags, 3, value.size()));
      RecordView r;
      EXPECT_TRUE(ValidateRecord(buf.data(), buf.size(), &r, nullptr));
    }
  }
}

// EncodeRecordCached (one checksum pass over the written bytes) writes
// exactly what EncodeRecord writes (which uses it up to 4 KiB and streams
// the checksum over the parts beyond), for every length, flag and optional
// field, over a destination full of garbage; and the checksum is the one
// over the stored bytes.
TEST(Format, EncodeRecordCachedWritesWhatEncodeRecordWrites) {
  std::mt19937_64 rng(11);
  std::string all(6000, '\0');
  for (char& c : all) c = static_cast<char>(rng());
  const uint8_t flag_sets[] = {0, kRecordFlagBatch, kRecordFlagLz4, kRecordFlagSealed};
  for (size_t klen : {size_t{0}, size_t{1}, size_t{16}, size_t{23}}) {
    for (size_t vlen : {size_t{0}, size_t{7}, size_t{100}, size_t{200}, size_t{1000}, size_t{2500},
                        size_t{4000}, size_t{5000}}) {
      for (uint8_t fl : flag_sets) {
        for (uint64_t time : {uint64_t{0}, uint64_t{1795663443448}}) {
          for (uint64_t expiry : {uint64_t{0}, uint64_t{1795663449999}}) {
           for (bool long_header : {false, true}) {
            RecordFields f{77, MakeDiskAddr(5, 4096), 3, RecordType::kPut, fl,
                           std::string_view(all.data(), klen),
                           std::string_view(all.data() + 40, vlen), time, expiry,
                           static_cast<uint32_t>(rng() & 0xFFFE), long_header};
            const uint8_t flags = fl | (time ? kRecordFlagTime : 0) |
                                  (expiry ? kRecordFlagExpiry : 0) |
                                  (long_header ? 0 : kRecordFlagShort);
            const size_t size = RecordSize(klen, vlen, RecordExtLen(flags), RecordTailLen(flags),
                                           RecordHeaderLen(flags));
            std::vector<char> a(size + 8, '\x5a'), b(size + 8, '\x5a');
            for (char& c : b) c = static_cast<char>(rng());
            b[size] = a[size];  // past the record: untouched by both
            for (size_t i = size + 1; i < size + 8; i++) b[i] = a[i];
            ASSERT_EQ(EncodeRecord(f, a.data()), size);
            ASSERT_EQ(EncodeRecordCached(f, b.data()), size);
            ASSERT_EQ(std::memcmp(a.data(), b.data(), size + 8), 0)
                << "key " << klen << ", value " << vlen << ", flags " << int(flags);
            if ((flags & kRecordFlagSealed) == 0) {
              ASSERT_EQ(StoredRecordChecksum(a.data(), flags),
                        RecordChecksum(a.data(), flags, klen, vlen));
            }
           }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace firkin
