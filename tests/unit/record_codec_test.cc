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

}  // namespace
}  // namespace firkin
