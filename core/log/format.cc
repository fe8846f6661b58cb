#include "core/log/format.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "core/crypto/aead.h"
#include "core/util/hash.h"

namespace firkin {

// ---- identity ----
// [0] magic[8] [8] u32 version [12] u32 reserved [16] u64 db_id
// [24] u64 hash_seed [32] u64 created_unix [40] u64 checksum of [0,40)
std::string EncodeIdentity(const Identity& id) {
  char b[kIdentitySize] = {};
  std::memcpy(b, kIdentityMagic, 8);
  EncodeU32(b + 8, id.format_version);
  EncodeU32(b + 12, id.features);
  EncodeU64(b + 16, id.db_id);
  EncodeU64(b + 24, id.hash_seed);
  EncodeU64(b + 32, id.created_unix);
  EncodeU64(b + 40, Checksum(b, 40));
  return std::string(b, kIdentitySize);
}

Status DecodeIdentity(std::string_view data, const std::string& path, Identity* out) {
  if (data.size() < kIdentitySize || std::memcmp(data.data(), kIdentityMagic, 8) != 0) {
    return Status::NotADatabase(path + ": not a Firkin identity file (bad magic or size)");
  }
  const char* b = data.data();
  uint32_t version = DecodeU32(b + 8);
  if (DecodeU64(b + 40) != Checksum(b, 40)) {
    return Status::Corruption(path + ": identity file checksum mismatch at offset 40");
  }
  if (version > kFormatVersion) {
    return Status::Version(path + ": format version " + std::to_string(version) +
                           " is newer than this library supports (" +
                           std::to_string(kFormatVersion) + ")");
  }
  if (version == 0) return Status::Corruption(path + ": format version 0 is invalid");
  const uint32_t features = DecodeU32(b + 12);
  if ((features & ~kIdentityFeaturesKnown) != 0) {
    return Status::Version(path + ": the database uses features this library does not know (" +
                           std::to_string(features) + ")");
  }
  if (features != 0 && version < 4) {
    return Status::Corruption(path + ": feature bits in a version " + std::to_string(version) +
                              " identity file");
  }
  out->format_version = version;
  out->features = features;
  out->db_id = DecodeU64(b + 16);
  out->hash_seed = DecodeU64(b + 24);
  out->created_unix = DecodeU64(b + 32);
  return Status::OK();
}

// ---- segments ----
std::string SegmentFileName(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64 "%s", id, kSegmentSuffix);
  return buf;
}

bool ParseSegmentFileName(std::string_view name, uint64_t* id) {
  const size_t suffix = sizeof(kSegmentSuffix) - 1;
  if (name.size() != 16 + suffix || name.substr(16) != kSegmentSuffix) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 16; i++) {
    char c = name[i];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *id = v;
  return true;
}

// [0] magic[8] [8] u32 version [12] u32 flags [16] u64 segment_id
// [24] u64 db_id [32] u64 seq_floor (recycled segments; else 0)
// [40] u64 checksum of [0,40)
// [48] u64 salt, [56] u64 checksum of [48,56) (kSegmentFlagSalted only)
// [4096] u64 durable_len [4104] u64 check of durable_len
void EncodeSegmentHeader(const SegmentHeader& h, char* dst) {
  std::memset(dst, 0, kSegmentHeaderSize);
  std::memcpy(dst, kSegmentMagic, 8);
  EncodeU32(dst + 8, h.format_version);
  EncodeU32(dst + 12, h.flags);
  EncodeU64(dst + 16, h.segment_id);
  EncodeU64(dst + 24, h.db_id);
  EncodeU64(dst + 32, h.seq_floor);
  EncodeU64(dst + 40, Checksum(dst, 40));
  if ((h.flags & kSegmentFlagSalted) != 0) {
    EncodeU64(dst + kSegmentSaltOffset, h.salt);
    EncodeU64(dst + kSegmentSaltOffset + 8, Checksum(dst + kSegmentSaltOffset, 8));
  }
  EncodeDurableLen(dst, 0);
}

bool SegmentSalt(const char* base, uint64_t* salt) {
  if ((DecodeU32(base + 12) & kSegmentFlagSalted) == 0) return false;
  if (DecodeU64(base + kSegmentSaltOffset + 8) != Checksum(base + kSegmentSaltOffset, 8)) {
    return false;
  }
  *salt = DecodeU64(base + kSegmentSaltOffset);
  return true;
}

Status DecodeSegmentHeader(const char* src, size_t avail, const std::string& path,
                           SegmentHeader* out) {
  if (avail < kSegmentHeaderSize) {
    return Status::Corruption(path + ": segment shorter than its header (" +
                              std::to_string(avail) + " bytes)");
  }
  if (std::memcmp(src, kSegmentMagic, 8) != 0) {
    return Status::Corruption(path + ": bad segment magic at offset 0");
  }
  if (DecodeU64(src + 40) != Checksum(src, 40)) {
    return Status::Corruption(path + ": segment header checksum mismatch at offset 40");
  }
  uint32_t version = DecodeU32(src + 8);
  if (version > kFormatVersion) {
    return Status::Version(path + ": segment format version " + std::to_string(version) +
                           " is newer than this library supports");
  }
  if (version == 0) return Status::Corruption(path + ": segment format version 0 is invalid");
  const uint32_t flags = DecodeU32(src + 12);
  const uint64_t floor = DecodeU64(src + 32);
  const bool recycled = (flags & kSegmentFlagRecycled) != 0;
  const bool after_unsealed = (flags & kSegmentFlagAfterUnsealed) != 0;
  if ((flags & ~kSegmentFlagsKnown) != 0 || (recycled && (floor == 0 || version < 2)) ||
      (!recycled && !after_unsealed && floor != 0) ||
      (after_unsealed && version < kFormatVersionAfterUnsealed) ||
      ((flags & kSegmentFlagInPlace) != 0 &&
       (version < kFormatVersionInPlace || (flags & kSegmentFlagCompacted) != 0))) {
    return Status::Corruption(path + ": segment header has unknown flags or a bad sequence floor");
  }
  uint64_t salt = 0;
  if ((flags & kSegmentFlagSalted) != 0 && (version < 5 || !SegmentSalt(src, &salt))) {
    return Status::Corruption(path + ": segment salt checksum mismatch at offset 56");
  }
  out->salt = salt;
  out->format_version = version;
  out->flags = flags;
  out->segment_id = DecodeU64(src + 16);
  out->db_id = DecodeU64(src + 24);
  out->seq_floor = floor;
  return Status::OK();
}

uint64_t SegmentSeqFloor(const char* base) {
  return (DecodeU32(base + 12) & (kSegmentFlagRecycled | kSegmentFlagAfterUnsealed)) != 0
             ? DecodeU64(base + 32)
             : 0;
}

static uint64_t DurableCheck(uint64_t len) { return Checksum(&len, 8) ^ 0x5EA1ED5EA1ED5EA1ull; }

void EncodeDurableLen(char* header, uint64_t len) {
  EncodeU64(header + kWatermarkOffset, len);
  EncodeU64(header + kWatermarkOffset + 8, DurableCheck(len));
}

uint64_t DecodeDurableLen(const char* header) {
  uint64_t len = DecodeU64(header + kWatermarkOffset);
  return DecodeU64(header + kWatermarkOffset + 8) == DurableCheck(len) ? len : 0;
}

static uint64_t SealClockCheck(uint64_t ms) { return Checksum(&ms, 8) ^ 0xC10CC10CC10CC10Cull; }

namespace {

// The message a seal clock's MAC covers: a domain string of its own, the
// segment id and database id (header bytes [16, 32): a clock is not moved
// to another segment, nor between a database and its restored copies,
// which share the data key), the durable length the watermark claims (a
// backup's copy of a segment taken while it grew holds an authentic clock
// of the same segment, from the cut: put back into the grown source, it
// was taken for the clock of records after it, which moved the clock back
// and brought an expired key back; found by a code review), the clock.
std::string SealClockMacMsg(const char* header, uint64_t ms) {
  static constexpr char kDomain[] = "firkin seal clock 1";
  std::string m(kDomain, sizeof(kDomain));  // (with its NUL)
  m.append(header + 16, 16);
  m.append(header + kWatermarkOffset, 8);
  char b[8];
  EncodeU64(b, ms);
  m.append(b, 8);
  return m;
}

std::string DoneMacMsg(const char* header, std::string_view inputs, uint64_t done_off,
                       std::string_view done) {
  static constexpr char kDomain[] = "firkin compact done 1";
  std::string m(kDomain, sizeof(kDomain));
  m.append(header + 16, 16);
  char b[8];
  EncodeU64(b, done_off);
  m.append(b, 8);
  EncodeU64(b, inputs.size());
  m.append(b, 8);
  m.append(inputs);
  m.append(done);
  return m;
}

bool AllZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace

void EncodeSealClock(char* header, uint64_t ms, const Aead* key) {
  // The MAC first (its message holds none of the bytes written here): out
  // of memory for it throws with the header as it was.
  uint8_t mac[Aead::kMacSize] = {};
  if (key != nullptr) key->Mac(SealClockMacMsg(header, ms), mac);
  EncodeU64(header + kWatermarkOffset + 16, ms);
  EncodeU64(header + kWatermarkOffset + 24, SealClockCheck(ms));
  std::memcpy(header + kSealClockMacOffset, mac, Aead::kMacSize);
}

void ClearSealClock(char* header) {
  std::memset(header + kWatermarkOffset + 16, 0, 16);
  std::memset(header + kSealClockMacOffset, 0, Aead::kMacSize);
}

uint64_t DecodeSealClock(const char* header, const Aead* key) {
  const uint64_t ms = DecodeU64(header + kWatermarkOffset + 16);
  if (DecodeU64(header + kWatermarkOffset + 24) != SealClockCheck(ms)) return 0;
  if (key != nullptr && SealClockMac(header, key) != HeaderMac::kValid) return 0;
  return ms;
}

HeaderMac SealClockMac(const char* header, const Aead* key) {
  const uint64_t ms = DecodeU64(header + kWatermarkOffset + 16);
  if (ms == 0 || DecodeU64(header + kWatermarkOffset + 24) != SealClockCheck(ms)) {
    return HeaderMac::kAbsent;
  }
  const char* mac = header + kSealClockMacOffset;
  if (AllZero(mac, Aead::kMacSize)) return HeaderMac::kAbsent;
  return key->MacMatches(SealClockMacMsg(header, ms), reinterpret_cast<const uint8_t*>(mac))
             ? HeaderMac::kValid
             : HeaderMac::kForged;
}

void EncodeDoneMac(char* header, std::string_view inputs, uint64_t done_off,
                   std::string_view done, const Aead* key) {
  key->Mac(DoneMacMsg(header, inputs, done_off, done),
           reinterpret_cast<uint8_t*>(header + kDoneMacOffset));
}

HeaderMac DoneMarkerMac(const char* base, uint64_t len, uint64_t done_off, const Aead* key) {
  const char* mac = base + kDoneMacOffset;
  if (AllZero(mac, Aead::kMacSize)) return HeaderMac::kAbsent;
  // The input list: the first record, whole, before the marker.
  if (done_off < kSegmentHeaderSize + kRecordMinSize || done_off > len ||
      len - done_off < kRecordMinSize) {
    return HeaderMac::kForged;
  }
  const uint64_t in_size = PeekRecord(base + kSegmentHeaderSize).size();
  const uint64_t done_size = PeekRecord(base + done_off).size();
  if (in_size > done_off - kSegmentHeaderSize || done_size > len - done_off) {
    return HeaderMac::kForged;
  }
  return key->MacMatches(DoneMacMsg(base, std::string_view(base + kSegmentHeaderSize, in_size),
                                    done_off, std::string_view(base + done_off, done_size)),
                         reinterpret_cast<const uint8_t*>(mac))
             ? HeaderMac::kValid
             : HeaderMac::kForged;
}

bool FindDoneMarker(const char* base, uint64_t len, uint64_t* off, RecordView* out) {
  // A complete output's last record is the done marker, usually the only
  // record that ends exactly at its length.
  if (len < kSegmentHeaderSize + kRecordMinSize) return false;
  for (uint64_t p = (len - kRecordMinSize) & ~uint64_t{kRecordAlign - 1};
       p >= kSegmentHeaderSize; p -= kRecordAlign) {
    RecordView r = PeekRecord(base + p);
    if (r.type == RecordType::kCompactDone && p + r.size() == len &&
        ValidateRecord(base + p, len - p, out, base)) {
      *off = p;
      return true;
    }
    if (p == kSegmentHeaderSize) break;
  }
  return false;
}

// ---- records ----
namespace {

// The record's flags (from f: the time and expiry flags from the fields).
uint8_t EncodedFlags(const RecordFields& f) {
  uint8_t flags = f.flags & (kRecordFlagBatch | kRecordFlagsCodec);
  if (!f.long_header) flags |= kRecordFlagShort;
  if (f.time != 0) flags |= kRecordFlagTime;
  if (f.expiry != 0) flags |= kRecordFlagExpiry;
  flags |= f.flags & kRecordFlagSealed;
  return flags;
}

// The header but its checksum, and the optional fields, at h; returns
// their end (RecordHeaderLen + ext). The checksum (bytes [0, 4) or [0, 8))
// is left alone.
size_t EncodeHead(const RecordFields& f, uint8_t flags, char* h) {
  EncodeU64(h + 8, f.seq);
  EncodeU64(h + 16, f.prev);
  EncodeU32(h + 24, f.ns_id);
  EncodeU32(h + 28, static_cast<uint32_t>(f.value.size()));
  EncodeU16(h + 32, static_cast<uint16_t>(f.key.size()));
  h[34] = static_cast<char>(f.type);
  h[35] = static_cast<char>(flags);
  EncodeU32(h + RecordCounterOffset(flags), f.counter);
  char* x = h + RecordHeaderLen(flags);
  if (f.time != 0) {
    EncodeU64(x, f.time);
    x += 8;
  }
  if (f.expiry != 0) {
    EncodeU64(x, f.expiry);
    x += 8;
  }
  return static_cast<size_t>(x - h);
}

// Key, value and the zero padding after the head at dst; returns the end
// of the value.
char* EncodeBody(const RecordFields& f, size_t head, size_t size, char* dst) {
  char* p = dst + head;
  if (!f.key.empty()) std::memcpy(p, f.key.data(), f.key.size());
  p += f.key.size();
  if (!f.value.empty()) std::memcpy(p, f.value.data(), f.value.size());
  p += f.value.size();
  std::memset(p, 0, static_cast<size_t>(dst + size - p));
  return p;
}

// Records up to this size are encoded on the stack (EncodeRecord).
constexpr size_t kStagedRecordMax = 4096;

}  // namespace

size_t EncodeRecord(const RecordFields& f, char* dst) {
  const uint8_t flags = EncodedFlags(f);
  const size_t ext = RecordExtLen(flags);
  size_t size = RecordSize(f.key.size(), f.value.size(), ext, RecordTailLen(flags),
                           RecordHeaderLen(flags));
  // The destination's lines are asked for (for writing) before the
  // checksum is computed, so that their ownership is fetched while it runs.
  for (size_t off = 0; off < size && off < 4096; off += 64) __builtin_prefetch(dst + off, 1);
  // The checksum never reads the destination (fresh log lines whose
  // ownership the core is still fetching: reading them back stalled each
  // put for a memory latency). A record of up to 4 KiB is built on the
  // stack, checksummed there in one pass and copied out: the copy costs
  // less than XXH3's streaming state over the parts (YCSB A with every
  // update appended, 1 KB values, 1 thread: median latency 0.34 -> 0.30 us).
  if (size <= kStagedRecordMax) {
    alignas(64) char staged[kStagedRecordMax];
    EncodeRecordCached(f, staged);
    std::memcpy(dst, staged, size);
    return size;
  }
  // Longer ones: the header (and optional fields) on the stack, the
  // checksum streamed over it, the key and the value where they are.
  char h[kRecordHeaderLong + 16];
  const size_t head = EncodeHead(f, flags, h);
  // A sealed record's checksum is written by RecordCodec::SealTo over its
  // sealed bytes; a plain one covers the header after the checksum, the
  // optional fields, key and value (no tail).
  const size_t cl = RecordChecksumLen(flags);
  StoreRecordChecksum(h, flags, (flags & kRecordFlagSealed) != 0
                                    ? 0
                                    : Checksum3(std::string_view(h + cl, head - cl), f.key,
                                                f.value));
  std::memcpy(dst, h, head);
  EncodeBody(f, head, size, dst);
  return size;
}

size_t EncodeRecordCached(const RecordFields& f, char* dst) {
  const uint8_t flags = EncodedFlags(f);
  const size_t ext = RecordExtLen(flags);
  const size_t size = RecordSize(f.key.size(), f.value.size(), ext, RecordTailLen(flags),
                                 RecordHeaderLen(flags));
  // Everything is written first, then the checksum read back in one pass:
  // XXH3 over one range costs about half of XXH3 over three through its
  // streaming state (1 KB: 42 against 82 ns, 2-core machine).
  const size_t head = EncodeHead(f, flags, dst);
  const char* end = EncodeBody(f, head, size, dst);
  const size_t cl = RecordChecksumLen(flags);
  StoreRecordChecksum(dst, flags, (flags & kRecordFlagSealed) != 0
                                      ? 0
                                      : Checksum(dst + cl, static_cast<size_t>(end - dst) - cl));
  return size;
}

uint64_t RecordChecksum(const char* base, uint8_t flags, size_t key_len, size_t value_len) {
  const size_t cl = RecordChecksumLen(flags);
  const uint64_t c = Checksum(base + cl, RecordHeaderLen(flags) - cl + RecordExtLen(flags) +
                                             key_len + value_len + RecordTailLen(flags));
  return (flags & kRecordFlagShort) ? (c & 0xFFFFFFFFull) : c;
}

bool RecordChecksumOk(const RecordView& r) {
  return StoredRecordChecksum(r.base, r.flags) ==
         RecordChecksum(r.base, r.flags, r.key_len, r.value_len);
}

bool ValidateRecord(const char* p, size_t avail, RecordView* out, const char* seg,
                    bool checksum) {
  if (avail < kRecordPeekSize) return false;
  RecordView r = PeekRecord(p, seg);
  if (r.short_header()) {
    // Only in segments of format version 8 or later (a buffer outside any
    // segment, seg nullptr, cannot tell).
    if (seg != nullptr && !RecordLayoutFits(r.flags, seg)) return false;
  } else if (avail < kRecordHeaderLong) {
    return false;
  }
  if (const uint32_t counter = r.counter()) {
    // An in-place counter: only on a plain put of a segment that may hold
    // one, and even (odd: an overwrite was under way when it stopped).
    if (seg == nullptr || !SegmentInPlace(seg) || (counter & 1) != 0 ||
        r.type != RecordType::kPut || (r.flags & ~kRecordFlagShort) != kRecordFlagTime) {
      return false;
    }
  }
  if (!RecordHeaderPlausible(r)) return false;
  if ((r.flags & ~kRecordFlagsKnown) != 0) return false;
  // A key is 1..65535 bytes: an empty one (a checksum made over it on
  // purpose) is damage, never a key no call could have written (review).
  if (r.key_len == 0 && (r.type == RecordType::kPut || r.type == RecordType::kDelete)) {
    return false;
  }
  if ((r.flags & kRecordFlagCompressed) != 0 &&
      ((r.flags & kRecordFlagCompressed) == kRecordFlagCompressed || r.type != RecordType::kPut ||
       r.value_len < 4)) {
    return false;
  }
  if ((r.flags & kRecordFlagSealed) != 0 && r.type != RecordType::kPut &&
      r.type != RecordType::kDelete && r.type != RecordType::kNsCreate &&
      r.type != RecordType::kNsDrop) {
    return false;
  }
  if (r.size() > avail) return false;
  if (checksum && !RecordChecksumOk(r)) return false;
  *out = r;
  return true;
}

}  // namespace firkin
