// RecordCodec: the one step between a record's stored bytes and the value
// a reader gets (docs/format.md, "Compressed values"). A writer asks it to
// encode a put's value (compressed with LZ4 or Zstandard when the value is
// at least min_size bytes and compression saves space; the record then
// carries kRecordFlagLz4 / kRecordFlagZstd), and every reader of a value
// (get, multi-get, iterators, history, the change feed, transactions,
// compare-and-swap, verify) asks it for the value of a record. A plain
// record costs nothing: the value is a view into the mapped segment. A
// compressed one is decompressed into the caller's scratch buffer, with
// every length checked first: a damaged or hostile compressed value gives
// kCorruption, never garbage and never a write past the buffer.
//
// Keys are never compressed: the index compares the key of every candidate
// record on every lookup, in place.
//
// Sealing (encrypted databases, docs/format.md "Encryption"): with a cipher
// set, the writers and compaction encode records with kRecordFlagSealed and
// hand them to SealTo, which encrypts the key and value with AES-256-GCM
// (nonce: the segment's salt and the record's offset) into the segment.
// Every reader then gets keys through Key / KeyEquals (decrypted without
// authentication: enough to compare and order; the checksum still guards
// them against damage) and values through Value (authenticated: a changed
// byte anywhere in the key, value or header fields gives kCorruption). An
// unsealed record (any unencrypted database) costs one flag test more than
// before.
//
// Thread contract: immutable once the cipher is set (set_cipher is called
// during open, before the database is shared); Encode, SealTo, Key,
// KeyEquals, Open and Value may be called from any number of threads at
// once (each thread keeps its own compression contexts and buffers).
#ifndef FIRKIN_CORE_LOG_RECORD_CODEC_H_
#define FIRKIN_CORE_LOG_RECORD_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/log/format.h"
#include "core/util/per_thread.h"
#include "core/util/status.h"

namespace firkin {

class Aead;

// The compression of new records (never renumbered: the C API's
// firkin_compression has the same values).
enum class Compression : int { kNone = 0, kLz4 = 1, kZstd = 2 };
const char* CompressionName(Compression c);

class RecordCodec {
 public:
  // The largest value a record may hold (FIRKIN_MAX_VALUE_SIZE): a stored
  // raw length above it is damage.
  static constexpr uint32_t kMaxRawValue = 256u << 20;
  // The prefix of a compressed value: its raw length.
  static constexpr size_t kRawLenSize = 4;

  RecordCodec() = default;
  RecordCodec(Compression compression, int zstd_level, uint32_t min_size)
      : compression_(compression), level_(zstd_level), min_size_(min_size) {}

  Compression compression() const { return compression_; }

  // ---- sealing ----
  // Sets the data-key cipher (nullptr: records are not sealed). Open only,
  // before any other call; the Aead outlives the codec's users.
  void set_cipher(const Aead* aead) { aead_ = aead; }
  bool sealing() const { return aead_ != nullptr; }
  // The data-key cipher (nullptr: unencrypted), which also MACs the
  // header values an encrypted database authenticates (seal clocks, done
  // markers: EncodeSealClock, EncodeDoneMac).
  const Aead* cipher() const { return aead_; }
  // The flag new data records (puts, deletes, namespace records) get.
  uint8_t seal_flag() const { return aead_ != nullptr ? kRecordFlagSealed : 0; }
  // `plain` is a record written by EncodeRecord with kRecordFlagSealed (key
  // and value in plaintext). Writes it sealed to dst, which is `dst - seg`
  // bytes into the segment mapped at seg (a salted header). REQUIRES a
  // cipher. plain and dst must not overlap. Never leaves plaintext at dst.
  void SealTo(const char* plain, char* dst, const char* seg) const;
  // The same for a record that will be written `offset` bytes into a
  // segment whose header carries `salt` (dst is a staging buffer: a
  // compaction output written with appends, not through a mapping).
  void SealAt(const char* plain, char* dst, uint64_t salt, uint32_t offset) const;
  // The key of r: a view of the record for an unsealed one; for a sealed
  // one, decrypted (unauthenticated) into *scratch. Empty if r is sealed and
  // cannot be opened (no cipher, no segment, no salt): the caller's
  // comparisons then fail, and Value reports the corruption.
  std::string_view Key(const RecordView& r, std::string* scratch) const {
    if (!r.sealed()) return r.key();
    return SealedKey(r, scratch);
  }
  // Whether r's key equals key (no allocation for sealed records of short keys).
  bool KeyEquals(const RecordView& r, std::string_view key) const;
  // Authenticated: the plaintext key and value of r, concatenated, into
  // *plain (for an unsealed record, a copy). kCorruption if a sealed
  // record's tag fails (damage, or bytes moved between records).
  Status Open(const RecordView& r, std::string* plain) const;
  // Whether r may be relied on for what its header and key say: an
  // unsealed record is (its checksum is the caller's business); a sealed
  // one if its tag holds over its header fields, key and value (Open's
  // check, nothing of the plaintext kept). A sealed record whose checksum
  // was made to match changed bytes passes every check but this one, and
  // its header (namespace, type, sequence, previous version) and its key
  // (Key / KeyEquals are not authenticated) then say whatever was written
  // there: recovery, a read-only handle's refresh and the scrub
  // (LogReader's `auth`), and reads of a segment none of them has
  // validated (Keyspace::Trusted), check it before they use them.
  // key: if given, and r is sealed and authentic, receives its plaintext
  // key (authenticated, unlike Key's).
  bool Authentic(const RecordView& r, std::string* key = nullptr) const {
    if (!r.sealed()) return true;
    return SealedAuthentic(r, key);
  }

  // Write side. If the value should be stored compressed, writes the stored
  // bytes to *out and returns the record flag to set; else returns 0 (store
  // `value` as is; *out may have been used as a work buffer).
  uint8_t Encode(std::string_view value, std::string* out) const;

  // Read side: the value of a put record (its checksum is the caller's
  // business). Plain: a view into the record. Compressed: decoded into
  // *scratch and *out views it (valid until scratch changes). kCorruption
  // if the stored bytes do not decode to exactly their stated length.
  Status Value(const RecordView& r, std::string* scratch, std::string_view* out) const {
    if ((r.flags & (kRecordFlagsCodec | kRecordFlagSealed)) == 0) {
      *out = r.value();
      return Status::OK();
    }
    if (r.sealed()) return SealedValue(r, scratch, out);
    return DecodeStored(r.flags & kRecordFlagsCodec, r.seq, r.value(), scratch, out);
  }

  // Value in two steps, for a reader that holds many values at once
  // (history, the change feed's batch, an ordered iterator's copies): it
  // keeps what Stored gives, the stored bytes (still compressed: a few KiB
  // may stand for 256 MiB), and decodes one of them at a time with
  // DecodeStored when it is asked for. Until the session of 2026-11-29
  // those readers decoded every value up front: a key's history of 16
  // versions of a compressible 16 MiB value took 272 MB for a 44 KB
  // database, and a hostile log of a few MiB could ask for terabytes.
  //
  // Stored: the value bytes of put record r as stored, unsealed: a view
  // into the record, or (sealed) authenticated and opened into *scratch
  // (kCorruption if that fails). Compressed if r carries a codec flag
  // (r.flags & kRecordFlagsCodec); not checked to decode.
  Status Stored(const RecordView& r, std::string* scratch, std::string_view* out) const;
  // The value held by `stored`, the bytes Stored gave for a record with
  // codec flags `codec` (r.flags & kRecordFlagsCodec) and sequence number
  // seq (named in errors): `stored` itself for 0; else decoded into
  // *scratch (*out views it), kCorruption if the bytes do not decode to
  // exactly their stated length. Any thread (a static: no cipher needed).
  static Status DecodeStored(uint8_t codec, uint64_t seq, std::string_view stored,
                             std::string* scratch, std::string_view* out);

  // Buffers of values that a thread keeps from call to call (the
  // per-thread scratch of gets, transactions, compare-and-swap, TTL
  // persist, the encoder's output, a sealed record's opened bytes) keep
  // at most kKeepScratch bytes: the caller hands one to ReleaseLarge once
  // it is done with what it holds, and a larger one is freed. Until the
  // session of 2026-11-29 they kept the largest size they ever grew to,
  // for as long as the thread lived, the database closed or not: a thread
  // that wrote and read one compressible 64 MiB value kept 135 MiB, one
  // per thread of a pool. (A large value pays an allocation per call
  // instead, next to a compression or decompression of over 1 MiB.)
  // Static: any thread, on a buffer of its own.
  static constexpr size_t kKeepScratch = size_t{1} << 20;
  static void ReleaseLarge(std::string* buf) { firkin::ReleaseLarge(buf, kKeepScratch); }

  // The length of r's value as written by the user (decoded), without
  // decoding it; for a compressed record, the stated raw length (a sealed
  // compressed record: the stored length, the raw one being sealed).
  static uint64_t LogicalValueLen(const RecordView& r);

 private:
  std::string_view SealedKey(const RecordView& r, std::string* scratch) const;
  bool SealedAuthentic(const RecordView& r, std::string* key) const;
  Status SealedValue(const RecordView& r, std::string* scratch, std::string_view* out) const;
  // The nonce of sealed record r; false if it has no segment or salt.
  static bool NonceOf(const RecordView& r, uint8_t nonce[12]);

  const Aead* aead_ = nullptr;
  Compression compression_ = Compression::kNone;
  int level_ = 3;
  uint32_t min_size_ = 64;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_RECORD_CODEC_H_
