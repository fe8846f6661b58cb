// Unit tests of the AES-256-GCM primitive (core/crypto/aead) against
// published vectors (the GCM specification, McGrew & Viega, appendix B test
// cases 13, 14 and 16; one NIST CAVP gcmEncryptExtIV256 vector), plus
// tampering, in-place use and many threads on one key.
#include "core/crypto/aead.h"

#include <gtest/gtest.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto/nonce.h"
#include "core/log/format.h"

namespace firkin {
namespace {

std::string Hex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  }
  return out;
}

struct Vector {
  const char* key;
  const char* iv;
  const char* aad;
  const char* pt;
  const char* ct;
  const char* tag;
};

const Vector kVectors[] = {
    // GCM spec, test case 13: empty plaintext, zero key and IV.
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    // Test case 14: one zero block.
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    // Test case 16: 60-byte plaintext (a partial last block) with 20 bytes of aad.
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
     "49a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
     "56828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    // NIST CAVP gcmEncryptExtIV256, a 16-byte plaintext with aad.
    {"83688deb4af8007f9b713b47cfa6c73e35ea7a3aa4ecdb414dded03bf7a0fd3a",
     "0b459724904e010a46901cf3", "794a14ccd178c8ebfd1379dc704c5e208f9d8424",
     "33d893a2114ce06fc15d55e454cf90c3", "cc66bee423e3fcd4c0865715e9586696",
     "0fb291bd3dba94a1dfd8b286cfb97ac5"},
};

TEST(Aead, PublishedVectorsSealAndOpen) {
  for (const Vector& v : kVectors) {
    const std::string key = Hex(v.key), iv = Hex(v.iv), aad = Hex(v.aad), pt = Hex(v.pt);
    const std::string want = Hex(v.ct) + Hex(v.tag);
    auto a = Aead::Create(reinterpret_cast<const uint8_t*>(key.data()));
    ASSERT_NE(a, nullptr);
    std::string out(pt.size() + Aead::kTagSize, '\0');
    a->Seal(reinterpret_cast<const uint8_t*>(iv.data()), aad, pt.data(), pt.size(), out.data());
    EXPECT_EQ(out, want) << v.tag;
    std::string back(pt.size(), '\0');
    EXPECT_TRUE(a->Open(reinterpret_cast<const uint8_t*>(iv.data()), aad, want.data(),
                        want.size(), back.data()));
    EXPECT_EQ(back, pt);
  }
}

TEST(Aead, EveryTamperingIsRefused) {
  const Vector& v = kVectors[2];
  const std::string key = Hex(v.key), iv = Hex(v.iv), aad = Hex(v.aad);
  const std::string sealed = Hex(v.ct) + Hex(v.tag);
  auto a = Aead::Create(reinterpret_cast<const uint8_t*>(key.data()));
  ASSERT_NE(a, nullptr);
  const auto* n = reinterpret_cast<const uint8_t*>(iv.data());
  std::string out(sealed.size() - Aead::kTagSize, '\0');
  for (size_t bit = 0; bit < sealed.size() * 8; bit++) {  // ciphertext and tag
    std::string b = sealed;
    b[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    EXPECT_FALSE(a->Open(n, aad, b.data(), b.size(), out.data())) << "bit " << bit;
  }
  for (size_t bit = 0; bit < aad.size() * 8; bit++) {  // the aad
    std::string b = aad;
    b[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    EXPECT_FALSE(a->Open(n, b, sealed.data(), sealed.size(), out.data())) << "aad bit " << bit;
  }
  std::string iv2 = iv;  // another nonce
  iv2[11] ^= 1;
  EXPECT_FALSE(a->Open(reinterpret_cast<const uint8_t*>(iv2.data()), aad, sealed.data(),
                       sealed.size(), out.data()));
  std::string key2 = key;  // another key
  key2[0] ^= 1;
  auto b = Aead::Create(reinterpret_cast<const uint8_t*>(key2.data()));
  EXPECT_FALSE(b->Open(n, aad, sealed.data(), sealed.size(), out.data()));
  EXPECT_EQ(out, std::string(out.size(), '\0'));  // no plaintext left after a refusal
  // Truncated: shorter than a tag, and one byte missing.
  EXPECT_FALSE(a->Open(n, aad, sealed.data(), Aead::kTagSize - 1, out.data()));
  EXPECT_FALSE(a->Open(n, aad, sealed.data(), sealed.size() - 1, out.data()));
  EXPECT_TRUE(a->Open(n, aad, sealed.data(), sealed.size(), out.data()));
  // Verify says what Open says (a changed byte of ciphertext, tag or aad),
  // and hands out only the prefix asked for, zeroed after a refusal.
  EXPECT_TRUE(a->Verify(n, aad, sealed.data(), sealed.size()));
  char prefix[8];
  ASSERT_GE(out.size(), sizeof prefix);
  EXPECT_TRUE(a->Verify(n, aad, sealed.data(), sealed.size(), prefix, sizeof prefix));
  EXPECT_EQ(std::string(prefix, sizeof prefix), out.substr(0, sizeof prefix));
  for (size_t bit = 0; bit < sealed.size() * 8; bit += 7) {
    std::string b = sealed;
    b[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    EXPECT_FALSE(a->Verify(n, aad, b.data(), b.size(), prefix, sizeof prefix)) << "bit " << bit;
    EXPECT_EQ(std::string(prefix, sizeof prefix), std::string(sizeof prefix, '\0'));
  }
  std::string aad2 = aad;
  aad2[0] ^= 1;
  EXPECT_FALSE(a->Verify(n, aad2, sealed.data(), sealed.size()));
  EXPECT_FALSE(a->Verify(n, aad, sealed.data(), Aead::kTagSize - 1));
}

TEST(Aead, InPlaceAndLarge) {
  uint8_t key[32];
  ASSERT_TRUE(RandomBytes(key, sizeof key).ok());
  auto a = Aead::Create(key);
  uint8_t nonce[12];
  RecordNonce(0x1122334455667788ull, 4096, nonce);
  EXPECT_EQ(nonce[0], 0x88);
  EXPECT_EQ(nonce[7], 0x11);
  EXPECT_EQ(nonce[9], 0x10);  // 4096 = 0x1000, little-endian
  std::string pt(1 << 20, '\0');
  for (size_t i = 0; i < pt.size(); i++) pt[i] = static_cast<char>(i * 7);
  std::string buf = pt + std::string(Aead::kTagSize, '\0');
  a->Seal(nonce, "hdr", buf.data(), pt.size(), buf.data());
  EXPECT_NE(buf.substr(0, pt.size()), pt);
  // (Verify goes through its stack buffer in chunks: a prefix longer than one.)
  std::string prefix(10000, '\0');
  EXPECT_TRUE(a->Verify(nonce, "hdr", buf.data(), buf.size(), &prefix[0], prefix.size()));
  EXPECT_EQ(prefix, pt.substr(0, prefix.size()));
  ASSERT_TRUE(a->Open(nonce, "hdr", buf.data(), buf.size(), buf.data()));
  EXPECT_EQ(buf.substr(0, pt.size()), pt);
}

TEST(Aead, ManyThreadsOneKey) {
  uint8_t key[32];
  ASSERT_TRUE(RandomBytes(key, sizeof key).ok());
  auto a = Aead::Create(key);
  // More threads than context slots, so the temporary-context path runs too.
  std::vector<std::thread> ts;
  std::vector<int> bad(100, 0);
  for (int t = 0; t < 100; t++) {
    ts.emplace_back([&, t] {
      for (uint32_t i = 0; i < 200; i++) {
        uint8_t nonce[12];
        RecordNonce(static_cast<uint64_t>(t), i, nonce);
        std::string pt = "thread " + std::to_string(t) + " value " + std::to_string(i);
        std::string sealed(pt.size() + Aead::kTagSize, '\0'), back(pt.size(), '\0');
        a->Seal(nonce, "", pt.data(), pt.size(), sealed.data());
        if (!a->Open(nonce, "", sealed.data(), sealed.size(), back.data()) || back != pt) bad[t]++;
      }
    });
  }
  for (auto& th : ts) th.join();
  for (int t = 0; t < 100; t++) EXPECT_EQ(bad[t], 0) << "thread " << t;
}

TEST(Aead, RandomNoncesDiffer) {
  uint8_t a[12], b[12];
  ASSERT_TRUE(RandomNonce(a).ok());
  ASSERT_TRUE(RandomNonce(b).ok());
  EXPECT_NE(std::string(reinterpret_cast<char*>(a), 12), std::string(reinterpret_cast<char*>(b), 12));
}

TEST(Aead, MacIsKeyedAndDeterministic) {
  uint8_t k1[32], k2[32];
  ASSERT_TRUE(RandomBytes(k1, sizeof k1).ok());
  std::memcpy(k2, k1, sizeof k2);
  k2[0] ^= 1;
  auto a = Aead::Create(k1), a2 = Aead::Create(k1), b = Aead::Create(k2);
  uint8_t m1[Aead::kMacSize], m2[Aead::kMacSize], m3[Aead::kMacSize];
  a->Mac("firkin test 1", m1);
  a2->Mac("firkin test 1", m2);
  b->Mac("firkin test 1", m3);
  EXPECT_EQ(std::memcmp(m1, m2, sizeof m1), 0);  // same key, same MAC
  EXPECT_NE(std::memcmp(m1, m3, sizeof m1), 0);  // another key
  EXPECT_TRUE(a->MacMatches("firkin test 1", m1));
  EXPECT_FALSE(a->MacMatches("firkin test 2", m1));
  EXPECT_FALSE(b->MacMatches("firkin test 1", m1));
}

// The seal clock and done-marker MACs (docs/format.md, "Authenticated
// header values"): a forged clock with its XXH3 check fixed up reads as
// none with the key, as it was written without it; a MAC for one segment
// id or database id does not hold for another.
TEST(Aead, SealClockMac) {
  uint8_t key[32];
  ASSERT_TRUE(RandomBytes(key, sizeof key).ok());
  auto a = Aead::Create(key);
  std::string page(kSegmentHeaderSize, '\0');
  SegmentHeader h;
  h.segment_id = 7;
  h.db_id = 0x1234;
  EncodeSegmentHeader(h, page.data());
  EncodeSealClock(page.data(), 1000, a.get());
  EXPECT_EQ(DecodeSealClock(page.data(), a.get()), 1000u);
  EXPECT_EQ(DecodeSealClock(page.data(), nullptr), 1000u);  // an older library's reading
  EXPECT_EQ(SealClockMac(page.data(), a.get()), HeaderMac::kValid);
  std::string forged = page;
  EncodeSealClock(forged.data(), 9999999, nullptr);  // unkeyed: XXH3 only, MAC zeroed
  EXPECT_EQ(DecodeSealClock(forged.data(), nullptr), 9999999u);
  EXPECT_EQ(DecodeSealClock(forged.data(), a.get()), 0u);
  EXPECT_EQ(SealClockMac(forged.data(), a.get()), HeaderMac::kAbsent);
  forged = page;
  const uint64_t ms = 9999999, check = XXH3_64bits(&ms, 8) ^ 0xC10CC10CC10CC10Cull;
  std::memcpy(&forged[kWatermarkOffset + 16], &ms, 8);
  std::memcpy(&forged[kWatermarkOffset + 24], &check, 8);
  EXPECT_EQ(DecodeSealClock(forged.data(), a.get()), 0u);
  EXPECT_EQ(SealClockMac(forged.data(), a.get()), HeaderMac::kForged);
  // Another segment id: the MAC does not hold.
  std::string other = page;
  h.segment_id = 8;
  EncodeSegmentHeader(h, other.data());
  EXPECT_EQ(DecodeSealClock(other.data(), a.get()), 0u);
}

TEST(Aead, DoneMarkerMac) {
  uint8_t key[32];
  ASSERT_TRUE(RandomBytes(key, sizeof key).ok());
  auto a = Aead::Create(key);
  SegmentHeader h;
  h.segment_id = 9;
  h.db_id = 0x55;
  h.flags = kSegmentFlagCompacted;
  h.format_version = kFormatVersionShort;
  const std::string ids(8, '\x03');
  const size_t in_size = RecordSize(0, ids.size()), done_size = RecordSize(0, ids.size(), 8);
  std::string seg(kSegmentHeaderSize + in_size + done_size, '\0');
  EncodeSegmentHeader(h, seg.data());
  EncodeRecord({5, 4, 0, RecordType::kCompactInputs, 0, {}, ids}, &seg[kSegmentHeaderSize]);
  const uint64_t done_off = kSegmentHeaderSize + in_size;
  EncodeRecord({5, 77, 0, RecordType::kCompactDone, 0, {}, ids, 123456}, &seg[done_off]);
  EncodeDoneMac(seg.data(), std::string_view(&seg[kSegmentHeaderSize], in_size), done_off,
                std::string_view(&seg[done_off], done_size), a.get());
  uint64_t off = 0;
  RecordView v;
  ASSERT_TRUE(FindDoneMarker(seg.data(), seg.size(), &off, &v));
  EXPECT_EQ(off, done_off);
  EXPECT_EQ(v.prev, 77u);
  EXPECT_EQ(DoneMarkerMac(seg.data(), seg.size(), off, a.get()), HeaderMac::kValid);
  // The time changed, the checksum made to match: forged.
  std::string f = seg;
  EncodeRecord({5, 77, 0, RecordType::kCompactDone, 0, {}, ids, 999999999}, &f[done_off]);
  ASSERT_TRUE(FindDoneMarker(f.data(), f.size(), &off, &v));
  EXPECT_EQ(DoneMarkerMac(f.data(), f.size(), off, a.get()), HeaderMac::kForged);
  // The input list's history floor changed: forged too.
  f = seg;
  EncodeRecord({5, 1, 0, RecordType::kCompactInputs, 0, {}, ids}, &f[kSegmentHeaderSize]);
  EXPECT_EQ(DoneMarkerMac(f.data(), f.size(), done_off, a.get()), HeaderMac::kForged);
  // No MAC (an older library's output): absent.
  f = seg;
  std::memset(&f[kDoneMacOffset], 0, Aead::kMacSize);
  EXPECT_EQ(DoneMarkerMac(f.data(), f.size(), done_off, a.get()), HeaderMac::kAbsent);
}

}  // namespace
}  // namespace firkin
