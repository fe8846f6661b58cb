// Unit tests of the record codec (core/log/record_codec): round trips,
// the store-only-if-smaller rule, and hostile compressed values (every one
// must decode to exactly its stated length or give kCorruption; run under
// ASan, a decoder that writes or reads out of bounds fails here).
#include "core/log/record_codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/util/coding.h"

namespace firkin {
namespace {

std::string Text(size_t n) {
  static const char* kWords[] = {"firkin ", "stores ", "values ", "in ", "a ", "log ",
                                 "of ", "records ", "and ", "compresses ", "them "};
  std::string s;
  std::mt19937 rng(7);
  while (s.size() < n) s += kWords[rng() % 11];
  s.resize(n);
  return s;
}

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// A put record holding `stored` with codec flag f, in buf.
RecordView Record(std::vector<char>* buf, uint8_t f, std::string_view stored) {
  buf->assign(RecordSize(1, stored.size(), 8), 0);
  EncodeRecord({1, 0, 0, RecordType::kPut, f, "k", stored, 5}, buf->data());
  return PeekRecord(buf->data());
}

TEST(RecordCodec, RoundTripAndRawRules) {
  for (Compression c : {Compression::kLz4, Compression::kZstd}) {
    RecordCodec codec(c, 3, 64);
    const std::string text = Text(1000);
    std::string stored;
    const uint8_t f = codec.Encode(text, &stored);
    ASSERT_EQ(f, c == Compression::kLz4 ? kRecordFlagLz4 : kRecordFlagZstd);
    EXPECT_LT(stored.size(), text.size() / 2) << CompressionName(c);
    std::vector<char> buf;
    RecordView r = Record(&buf, f, stored);
    EXPECT_EQ(RecordCodec::LogicalValueLen(r), text.size());
    std::string scratch;
    std::string_view v;
    ASSERT_TRUE(codec.Value(r, &scratch, &v).ok());
    EXPECT_EQ(v, text);
    // Any codec decodes any algorithm (the record says which).
    RecordCodec none;
    ASSERT_TRUE(none.Value(r, &scratch, &v).ok());
    EXPECT_EQ(v, text);
    // Incompressible, short and empty values stay raw.
    std::string out;
    EXPECT_EQ(codec.Encode(Random(1000, 1), &out), 0);
    EXPECT_EQ(codec.Encode("", &out), 0);
    EXPECT_EQ(RecordCodec(c, 3, 201).Encode(Text(200), &out), 0);  // under min_size
    EXPECT_NE(RecordCodec(c, 3, 200).Encode(Text(200), &out), 0);  // at min_size
  }
  std::string out;
  EXPECT_EQ(RecordCodec().Encode(Text(1000), &out), 0);  // kNone
  // A plain record is a view into the record itself (no copy).
  std::vector<char> buf;
  RecordView plain = Record(&buf, 0, "plain value");
  std::string scratch;
  std::string_view v;
  ASSERT_TRUE(RecordCodec().Value(plain, &scratch, &v).ok());
  EXPECT_EQ(v.data(), plain.value().data());
  EXPECT_TRUE(scratch.empty());
}

TEST(RecordCodec, HostileValuesAreCorruptionNeverGarbage) {
  for (Compression c : {Compression::kLz4, Compression::kZstd}) {
    RecordCodec codec(c, 3, 0);
    const std::string text = Text(4000);
    std::string stored;
    const uint8_t f = codec.Encode(text, &stored);
    ASSERT_NE(f, 0);
    std::string scratch;
    std::string_view v;
    std::vector<char> buf;
    auto decode = [&](const std::string& s) { return codec.Value(Record(&buf, f, s), &scratch, &v); };
    // Wrong stated lengths.
    for (uint32_t raw : {0u, 1u, 3999u, 4001u, 100000u, RecordCodec::kMaxRawValue,
                         RecordCodec::kMaxRawValue + 1, 0xFFFFFFFFu}) {
      std::string s = stored;
      EncodeU32(&s[0], raw);
      Status st = decode(s);
      EXPECT_EQ(st.code(), Status::Code::kCorruption) << CompressionName(c) << " raw " << raw;
    }
    // Truncated bodies, a body of 0xFF bytes, no body.
    for (size_t cut : {size_t{4}, size_t{5}, stored.size() / 2, stored.size() - 1}) {
      EXPECT_EQ(decode(stored.substr(0, cut)).code(), Status::Code::kCorruption) << cut;
    }
    std::string ff = stored;
    for (size_t i = 4; i < ff.size(); i++) ff[i] = '\xff';
    EXPECT_EQ(decode(ff).code(), Status::Code::kCorruption);
    // Random damage: decodes to exactly the stated length, or corruption.
    std::mt19937 rng(c == Compression::kLz4 ? 11 : 12);
    for (int i = 0; i < 3000; i++) {
      std::string s = stored;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; k++) {
        s[4 + rng() % (s.size() - 4)] ^= static_cast<char>(1 + rng() % 255);
      }
      Status st = decode(s);
      if (st.ok()) {
        EXPECT_EQ(v.size(), text.size());
      } else {
        EXPECT_EQ(st.code(), Status::Code::kCorruption);
      }
    }
    // Both algorithm flags: corruption (ValidateRecord refuses it too).
    std::vector<char> b2;
    RecordView both = Record(&b2, kRecordFlagLz4 | kRecordFlagZstd, stored);
    EXPECT_EQ(codec.Value(both, &scratch, &v).code(), Status::Code::kCorruption);
  }
}

// A Zstandard frame of a few bytes whose header states the largest raw
// length (256 MiB), with one raw block after it: a decompression bomb's
// header, in a record whose checksum is valid. It must be refused before
// anything is allocated for that length: until the session of 2026-11-29
// only LZ4 had a plausibility bound, and every read of such a 90-byte
// record allocated and zeroed 256 MiB (kept by the reading thread's
// buffer), or gave NO_MEMORY instead of CORRUPTION where memory was short.
std::string LyingZstdFrame(uint32_t raw, size_t body) {
  std::string s(4, '\0');
  EncodeU32(&s[0], raw);  // the record's raw-length prefix
  const unsigned char head[] = {0x28, 0xB5, 0x2F, 0xFD,  // magic
                                0xA0};  // 4-byte content size, single segment
  s.append(reinterpret_cast<const char*>(head), sizeof head);
  char fcs[4];
  EncodeU32(fcs, raw);
  s.append(fcs, 4);
  const uint32_t block = 1u | (static_cast<uint32_t>(body) << 3);  // last, raw
  s.push_back(static_cast<char>(block & 0xFF));
  s.push_back(static_cast<char>((block >> 8) & 0xFF));
  s.push_back(static_cast<char>((block >> 16) & 0xFF));
  s.append(body, 'A');
  return s;
}

TEST(RecordCodec, ImpossibleStatedLengthsAllocateNothing) {
  std::vector<char> buf;
  for (size_t body : {size_t{0}, size_t{70}, size_t{4000}}) {
    for (uint32_t raw : {RecordCodec::kMaxRawValue, 64u << 20, 200000000u}) {
      std::string scratch;
      std::string_view v;
      const std::string stored = LyingZstdFrame(raw, body);
      Status st = RecordCodec().Value(Record(&buf, kRecordFlagZstd, stored), &scratch, &v);
      EXPECT_EQ(st.code(), Status::Code::kCorruption) << "body " << body << " raw " << raw;
      // At most 32768 bytes out for every stored byte (an RLE block: 128
      // KiB for 4 bytes) may be believed.
      EXPECT_LE(scratch.capacity(), 32768u * stored.size()) << "body " << body << " raw " << raw;
      EXPECT_LT(scratch.capacity(), size_t{200} << 20) << "body " << body << " raw " << raw;
    }
  }
  // LZ4's bound (255 bytes out for each stored byte) holds as before.
  std::string scratch;
  std::string_view v;
  std::string lz(100, '\0');
  EncodeU32(&lz[0], RecordCodec::kMaxRawValue);
  EXPECT_EQ(RecordCodec().Value(Record(&buf, kRecordFlagLz4, lz), &scratch, &v).code(),
            Status::Code::kCorruption);
  EXPECT_LT(scratch.capacity(), size_t{1} << 20);
  // The bound leaves room for the best ratio Zstandard reaches: all
  // zeros, one RLE block per 128 KiB.
  for (size_t n : {size_t{1} << 17, size_t{1} << 20, size_t{32} << 20}) {
    const std::string zeros(n, '\0');
    std::string out;
    const uint8_t f = RecordCodec(Compression::kZstd, 19, 0).Encode(zeros, &out);
    ASSERT_EQ(f, kRecordFlagZstd);
    ASSERT_TRUE(RecordCodec().Value(Record(&buf, f, out), &scratch, &v).ok()) << n;
    EXPECT_EQ(v, zeros);
  }
}

}  // namespace
}  // namespace firkin
