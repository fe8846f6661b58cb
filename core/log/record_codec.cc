#include "core/log/record_codec.h"

#include <lz4.h>
#include <zstd.h>

#include <cstring>
#include <stdexcept>

#include "core/crypto/aead.h"
#include "core/crypto/nonce.h"
#include "core/util/coding.h"
#include "core/util/per_thread.h"

namespace firkin {

namespace {

// Per-thread Zstandard contexts (a context is ~hundreds of KiB to set up:
// one per thread, made on first use, freed when the thread ends).
struct ZstdContexts {
  ZSTD_CCtx* c = nullptr;
  ZSTD_DCtx* d = nullptr;
  ~ZstdContexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};

ZstdContexts& Zstd() {
  return PerThread<ZstdContexts, struct ZstdContextsTag>();
}

// The most bytes a Zstandard frame can regenerate for each byte it holds:
// a block regenerates at most ZSTD_BLOCKSIZE_MAX (128 KiB), and the
// smallest block (RLE) is 4 bytes. Zeros compress to 32692 : 1 at 256 MiB.
constexpr uint64_t kZstdMaxRatio = (uint64_t{1} << 17) / 4;

// The largest compression context a thread keeps between puts.
constexpr size_t kKeepContext = size_t{16} << 20;

Status Damaged(uint64_t seq, const char* algo, const std::string& why) {
  return Status::Corruption(std::string("compressed value (") + algo + ") of the record with "
                            "sequence " + std::to_string(seq) + " does not decode: " + why +
                            "; the value is not returned");
}

}  // namespace

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kLz4: return "lz4";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

uint8_t RecordCodec::Encode(std::string_view value, std::string* out) const {
  if (compression_ == Compression::kNone || value.size() < min_size_ || value.empty() ||
      value.size() > kMaxRawValue) {
    return 0;
  }
  // Worth storing only if it saves space: the stored bytes (raw length
  // prefix included) must be shorter than the value.
  const size_t limit = value.size() - 1;
  if (limit <= kRawLenSize) return 0;
  if (compression_ == Compression::kLz4) {
    out->resize(kRawLenSize + static_cast<size_t>(LZ4_compressBound(static_cast<int>(value.size()))));
    const int n = LZ4_compress_default(value.data(), &(*out)[kRawLenSize],
                                       static_cast<int>(value.size()),
                                       static_cast<int>(out->size() - kRawLenSize));
    if (n <= 0 || kRawLenSize + static_cast<size_t>(n) > limit) return 0;
    out->resize(kRawLenSize + static_cast<size_t>(n));
    EncodeU32(&(*out)[0], static_cast<uint32_t>(value.size()));
    return kRecordFlagLz4;
  }
  ZstdContexts& z = Zstd();
  if (z.c == nullptr && (z.c = ZSTD_createCCtx()) == nullptr) return 0;  // no memory: raw
  out->resize(kRawLenSize + ZSTD_compressBound(value.size()));
  const size_t n = ZSTD_compressCCtx(z.c, &(*out)[kRawLenSize], out->size() - kRawLenSize,
                                     value.data(), value.size(), level_);
  // A context sized for a large value at a high level (641 MiB at level
  // 22 for 64 MiB, 81 MiB at 19) is not kept for the thread's next put:
  // it would stay for as long as the thread lives (level 3's stays about
  // 1 MiB, and is kept).
  if (ZSTD_sizeof_CCtx(z.c) > kKeepContext) {
    ZSTD_freeCCtx(z.c);
    z.c = nullptr;
  }
  if (ZSTD_isError(n) || kRawLenSize + n > limit) return 0;
  out->resize(kRawLenSize + n);
  EncodeU32(&(*out)[0], static_cast<uint32_t>(value.size()));
  return kRecordFlagZstd;
}

uint64_t RecordCodec::LogicalValueLen(const RecordView& r) {
  if ((r.flags & kRecordFlagCompressed) == 0 || r.value_len < kRawLenSize || r.sealed()) {
    return r.value_len;
  }
  return DecodeU32(r.value().data());
}

// ---- sealing ----

namespace {

// Sealed-record failures: never plaintext, always the record named.
Status SealFailure(const RecordView& r, const std::string& why) {
  return Status::Corruption("sealed record with sequence " + std::to_string(r.seq) + " " + why +
                            "; nothing of it is returned");
}

// The additional data of a record: header fields (after the checksum)
// and optional fields.
std::string_view SealAad(const char* base, uint8_t flags) {
  const size_t cl = RecordChecksumLen(flags);
  return std::string_view(base + cl, RecordHeaderLen(flags) - cl + RecordExtLen(flags));
}

}  // namespace

bool RecordCodec::NonceOf(const RecordView& r, uint8_t nonce[12]) {
  uint64_t salt = 0;
  if (r.seg == nullptr || r.base < r.seg || !SegmentSalt(r.seg, &salt)) return false;
  RecordNonce(salt, static_cast<uint32_t>(r.base - r.seg), nonce);
  return true;
}

void RecordCodec::SealTo(const char* plain, char* dst, const char* seg) const {
  uint64_t salt = 0;
  if (!SegmentSalt(seg, &salt)) {
    throw std::logic_error("sealing a record into a segment without a salt");
  }
  SealAt(plain, dst, salt, static_cast<uint32_t>(dst - seg));
}

void RecordCodec::SealAt(const char* plain, char* dst, uint64_t salt, uint32_t offset) const {
  const RecordView p = PeekRecord(plain);
  const size_t head = p.head_len();
  const size_t cl = RecordChecksumLen(p.flags);
  const size_t n = size_t{p.key_len} + p.value_len;
  uint8_t nonce[12];
  RecordNonce(salt, offset, nonce);
  std::memcpy(dst + cl, plain + cl, head - cl);
  aead_->Seal(nonce, SealAad(plain, p.flags), plain + head, n, dst + head);
  const size_t used = head + n + kRecordSealTagSize;
  std::memset(dst + used, 0, p.size() - used);
  StoreRecordChecksum(dst, p.flags, RecordChecksum(dst, p.flags, p.key_len, p.value_len));
}

std::string_view RecordCodec::SealedKey(const RecordView& r, std::string* scratch) const {
  uint8_t nonce[12];
  if (aead_ == nullptr || !NonceOf(r, nonce)) return std::string_view();
  scratch->resize(r.key_len);
  aead_->Peek(nonce, r.base + r.head_len(), r.key_len, &(*scratch)[0]);
  return std::string_view(scratch->data(), r.key_len);
}

bool RecordCodec::KeyEquals(const RecordView& r, std::string_view key) const {
  if (r.key_len != key.size()) return false;
  if (!r.sealed()) return std::memcmp(r.key().data(), key.data(), key.size()) == 0;
  std::string& buf = PerThread<std::string, struct KeyEqualsTag>();
  const std::string_view k = SealedKey(r, &buf);
  return k.size() == key.size() && std::memcmp(k.data(), key.data(), key.size()) == 0;
}

Status RecordCodec::Open(const RecordView& r, std::string* plain) const {
  const size_t n = size_t{r.key_len} + r.value_len;
  const char* stored = r.base + r.head_len();
  if (!r.sealed()) {
    plain->assign(stored, n);
    return Status::OK();
  }
  uint8_t nonce[12];
  if (aead_ == nullptr) return SealFailure(r, "cannot be opened without the database key");
  if (!NonceOf(r, nonce)) return SealFailure(r, "is in a segment without a salt");
  plain->resize(n);
  if (!aead_->Open(nonce, SealAad(r.base, r.flags), stored, n + kRecordSealTagSize,
                   n == 0 ? nullptr : &(*plain)[0])) {
    plain->clear();
    return SealFailure(r, "failed authentication (damaged, or moved from elsewhere)");
  }
  return Status::OK();
}

bool RecordCodec::SealedAuthentic(const RecordView& r, std::string* key) const {
  uint8_t nonce[12];
  if (aead_ == nullptr || !NonceOf(r, nonce)) return false;
  const size_t n = size_t{r.key_len} + r.value_len;
  if (key != nullptr) key->resize(r.key_len);
  return aead_->Verify(nonce, SealAad(r.base, r.flags), r.base + r.head_len(),
                       n + kRecordSealTagSize, key != nullptr ? &(*key)[0] : nullptr,
                       key != nullptr ? r.key_len : 0);
}

Status RecordCodec::SealedValue(const RecordView& r, std::string* scratch,
                                std::string_view* out) const {
  std::string& opened = PerThread<std::string, struct OpenedValueTag>();
  std::string& buf = (r.flags & kRecordFlagsCodec) != 0 ? opened : *scratch;
  FIRKIN_RETURN_IF_ERROR(Open(r, &buf));
  const std::string_view stored(buf.data() + r.key_len, r.value_len);
  if ((r.flags & kRecordFlagsCodec) == 0) {
    *out = stored;
    return Status::OK();
  }
  Status s = DecodeStored(r.flags & kRecordFlagsCodec, r.seq, stored, scratch, out);
  ReleaseLarge(&opened);  // (*out views scratch)
  return s;
}

Status RecordCodec::Stored(const RecordView& r, std::string* scratch,
                           std::string_view* out) const {
  if (!r.sealed()) {
    *out = r.value();
    return Status::OK();
  }
  FIRKIN_RETURN_IF_ERROR(Open(r, scratch));
  *out = std::string_view(scratch->data() + r.key_len, r.value_len);
  return Status::OK();
}

Status RecordCodec::DecodeStored(uint8_t codec, uint64_t seq, std::string_view stored,
                                 std::string* scratch, std::string_view* out) {
  if ((codec & kRecordFlagsCodec) == 0) {
    *out = stored;
    return Status::OK();
  }
  const bool lz4 = (codec & kRecordFlagCompressed) == kRecordFlagLz4;
  const char* algo = lz4 ? "lz4" : "zstd";
  if ((codec & kRecordFlagCompressed) == kRecordFlagCompressed) {
    return Damaged(seq, "lz4+zstd", "both algorithm flags are set");
  }
  if (stored.size() < kRawLenSize) return Damaged(seq, algo, "shorter than its length prefix");
  const uint32_t raw = DecodeU32(stored.data());
  const char* src = stored.data() + kRawLenSize;
  const size_t n = stored.size() - kRawLenSize;
  if (raw > kMaxRawValue) {
    return Damaged(seq, algo, "stated length " + std::to_string(raw) + " exceeds the value limit");
  }
  if (lz4) {
    // An LZ4 block expands at most ~255 times: a larger stated length is
    // damage (and would only make us allocate for it).
    if (raw > 255ull * n + 16) return Damaged(seq, algo, "stated length is impossible");
    scratch->resize(raw);
    const int got = LZ4_decompress_safe(src, &(*scratch)[0], static_cast<int>(n),
                                        static_cast<int>(raw));
    if (got < 0 || static_cast<uint32_t>(got) != raw) {
      return Damaged(seq, algo, "decoded " + std::to_string(got) + " bytes, expected " +
                                  std::to_string(raw));
    }
  } else {
    // A Zstandard frame regenerates at most one block (128 KiB) for every
    // 4 bytes it holds (an RLE block: a 3-byte header and the byte; the
    // frame header adds more): a larger stated length is damage, refused
    // before anything is allocated for it, as LZ4's. (Until the session
    // of 2026-11-29 a frame of a few bytes whose header stated 256 MiB made
    // every read allocate and zero 256 MiB, kept by the reading thread's
    // buffer, before the decoder found the frame short.)
    if (raw > kZstdMaxRatio * n) return Damaged(seq, algo, "stated length is impossible");
    const unsigned long long content = ZSTD_getFrameContentSize(src, n);
    if (content != raw) return Damaged(seq, algo, "frame content size does not match");
    ZstdContexts& z = Zstd();
    if (z.d == nullptr && (z.d = ZSTD_createDCtx()) == nullptr) {
      return Status::NoMemory("out of memory creating a Zstandard context");
    }
    scratch->resize(raw);
    const size_t got = ZSTD_decompressDCtx(z.d, &(*scratch)[0], raw, src, n);
    if (ZSTD_isError(got) || got != raw) {
      return Damaged(seq, algo, ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short output");
    }
  }
  *out = std::string_view(scratch->data(), raw);
  return Status::OK();
}

}  // namespace firkin
