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
// Thread contract: immutable after construction; Encode and Value may be
// called from any number of threads at once (each thread keeps its own
// compression contexts).
#ifndef FIRKIN_CORE_LOG_RECORD_CODEC_H_
#define FIRKIN_CORE_LOG_RECORD_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/log/format.h"
#include "core/util/status.h"

namespace firkin {

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

  // Write side. If the value should be stored compressed, writes the stored
  // bytes to *out and returns the record flag to set; else returns 0 (store
  // `value` as is; *out may have been used as a work buffer).
  uint8_t Encode(std::string_view value, std::string* out) const;

  // Read side: the value of a put record (its checksum is the caller's
  // business). Plain: a view into the record. Compressed: decoded into
  // *scratch and *out views it (valid until scratch changes). kCorruption
  // if the stored bytes do not decode to exactly their stated length.
  Status Value(const RecordView& r, std::string* scratch, std::string_view* out) const {
    if ((r.flags & kRecordFlagsCodec) == 0) {
      *out = r.value();
      return Status::OK();
    }
    return Decode(r, scratch, out);
  }

  // The length of r's value as written by the user (decoded), without
  // decoding it; for a compressed record, the stated raw length.
  static uint64_t LogicalValueLen(const RecordView& r);

 private:
  Status Decode(const RecordView& r, std::string* scratch, std::string_view* out) const;

  Compression compression_ = Compression::kNone;
  int level_ = 3;
  uint32_t min_size_ = 64;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_RECORD_CODEC_H_
