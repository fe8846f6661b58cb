// The on-disk format (docs/format.md, format version 4): the identity file,
// the segment header and the record layout, with encoders and validators.
//
// Thread contract: pure functions and plain structs; safe from any thread.
#ifndef FIRKIN_CORE_LOG_FORMAT_H_
#define FIRKIN_CORE_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/coding.h"
#include "core/util/status.h"

namespace firkin {

class Aead;

// 2: recycled segments (a segment header may carry kSegmentFlagRecycled and
// a sequence floor). 3: records may carry a commit time and an expiry
// (kRecordFlagTime, kRecordFlagExpiry). 4: a namespace create record's
// value may hold namespace flags (ordered namespaces); a put's value may be
// stored compressed (kRecordFlagLz4, kRecordFlagZstd); encryption at rest
// (the identity file's feature bits, kIdentityEncrypted; the KEYS file;
// records were not sealed yet). 5: sealed records (kRecordFlagSealed) in
// salted segments (kSegmentFlagSalted): written only by encrypted
// databases (their identity file and salted segment headers say 5), so a
// library of version 4 refuses them with kVersion instead of reading
// ciphertext as damage; an unencrypted database is still written as
// version 4. 6: a log segment may carry kSegmentFlagAfterUnsealed (it was
// created while the previous log segment's seal was still under way, and
// its seq_floor is that segment's last sequence number); only such segment
// headers say 6, so a library of version 5 refuses them with kVersion
// instead of taking the unsealed segment before them for damage. A library
// reads every version up to its own. 7: a log segment may carry
// kSegmentFlagInPlace (its records may have been updated in place while it
// was the active segment: a put record's u32 at offset 36 is then its
// in-place counter, not 0); only such segment headers say 7, so a library
// of version 6 refuses them with kVersion instead of reading the counter as
// damage. 8: records may have the short layout (kRecordFlagShort: a 4-byte
// checksum and the in-place counter at offset 4, the key at 36 + ext).
// Every segment header this library writes says 8 (or more), and every
// record it writes has the short layout (compaction's copies of long
// records stay long): a library of version 7 refuses such segments with
// kVersion instead of reading short records as damage.
constexpr uint32_t kFormatVersion = 8;
// What an encrypted database writes (identity file, salted segment headers).
constexpr uint32_t kFormatVersionSealed = 5;
// What a segment header with kSegmentFlagAfterUnsealed says.
constexpr uint32_t kFormatVersionAfterUnsealed = 6;
// What a segment header with kSegmentFlagInPlace says (at least).
constexpr uint32_t kFormatVersionInPlace = 7;
// What every segment header this library writes says: its records have
// the short layout (kRecordFlagShort).
constexpr uint32_t kFormatVersionShort = 8;
// The version of what an unencrypted database writes (identity file,
// segment headers).
constexpr uint32_t kFormatVersionUnsealed = 4;

// ---- identity file ("FIRKIN") ----
constexpr char kIdentityFileName[] = "FIRKIN";
constexpr char kLockFileName[] = "LOCK";
// Present while an online backup is being written into a directory (created
// first, removed last): a directory holding it is an incomplete backup and
// is refused by open (docs/format.md, "Backups").
constexpr char kBackupMarkerFileName[] = "BACKUP-INCOMPLETE";
constexpr char kIdentityMagic[8] = {'F', 'I', 'R', 'K', 'I', 'N', 'D', 'B'};
constexpr size_t kIdentitySize = 48;

// ---- identity feature bits (offset 12; version 4) ----
// The database is encrypted: KEYS holds its wrapped data key, and every
// record and checkpoint is sealed (docs/format.md, "Encryption").
constexpr uint32_t kIdentityEncrypted = 1;
constexpr uint32_t kIdentityFeaturesKnown = kIdentityEncrypted;

struct Identity {
  uint32_t format_version = kFormatVersionUnsealed;  // kFormatVersionSealed when encrypted
  uint32_t features = 0;  // kIdentity* bits
  bool encrypted() const { return (features & kIdentityEncrypted) != 0; }
  uint64_t db_id = 0;
  uint64_t hash_seed = 0;
  uint64_t created_unix = 0;
};
std::string EncodeIdentity(const Identity& id);
// Parses and checks magic, checksum, version and feature bits (kVersion if
// newer or if a feature bit is unknown).
Status DecodeIdentity(std::string_view data, const std::string& path, Identity* out);

// ---- segments ----
constexpr char kSegmentSuffix[] = ".seg";
// A segment starts with two 4 KiB pages: the header proper (written once)
// and the durability watermark (rewritten in place at each sync). Keeping
// them apart from each other and from the records means a torn rewrite of
// the watermark can never damage the header or synced records.
constexpr size_t kSegmentHeaderSize = 8192;  // records start here
constexpr size_t kWatermarkOffset = 4096;
constexpr char kSegmentMagic[8] = {'F', 'I', 'R', 'K', 'S', 'E', 'G', '1'};
constexpr uint64_t kMaxSegmentBytes = 2ull << 30;  // locator offset limit
constexpr uint64_t kMaxSegmentId = 0xFFFFFFFFull;   // ids fit 32 bits in addresses

// "0000000000000001.seg"
std::string SegmentFileName(uint64_t id);
// True and *id set if `name` is a segment file name.
bool ParseSegmentFileName(std::string_view name, uint64_t* id);

struct SegmentHeader {
  // kFormatVersionSealed when salted, kFormatVersionAfterUnsealed with
  // that flag
  uint32_t format_version = kFormatVersionUnsealed;
  // kSegmentFlagCompacted, kSegmentFlagRecycled, kSegmentFlagSalted,
  // kSegmentFlagAfterUnsealed
  uint32_t flags = 0;
  uint64_t segment_id = 0;
  uint64_t db_id = 0;
  // Recycled segments and segments after an unsealed one (0 otherwise):
  // every record the file held in an earlier life has a sequence number
  // <= seq_floor, and every record of this life a greater one, so a record
  // at or below the floor is stale. With kSegmentFlagAfterUnsealed it is
  // exactly the last sequence number of the log segment before this one.
  uint64_t seq_floor = 0;
  // Salted segments only (encrypted databases): 64 random bits drawn when
  // this header was written, the first 8 bytes of its records' nonces.
  uint64_t salt = 0;
};
constexpr uint32_t kSegmentFlagCompacted = 1;
// The file is a retired segment reused as a log segment: bytes past the
// records of this life are leftovers of an earlier one (docs/format.md).
constexpr uint32_t kSegmentFlagRecycled = 2;
// The header carries a salt (at offset 48, with its own check at 56): the
// segment may hold sealed records (format version 4, encrypted databases).
constexpr uint32_t kSegmentFlagSalted = 4;
// The log segment before this one was not sealed yet when this one was
// created (its seal ran in the background): recovery may find that one cut
// short by a power loss, and then keeps no record of this one or of any
// later log segment (docs/format.md, "Segments sealed in the background").
// seq_floor is that segment's last sequence number. Format version 6.
constexpr uint32_t kSegmentFlagAfterUnsealed = 8;
// The segment's put records may have been updated in place (docs/
// write_path.md, "In-place updates"): such a record's u32 at
// RecordCounterOffset (36 long, 4 short) is its in-place counter (0: never overwritten; odd: an overwrite was under
// way), covered by its checksum. Format version 7; log segments only.
constexpr uint32_t kSegmentFlagInPlace = 16;
constexpr uint32_t kSegmentFlagsKnown = kSegmentFlagCompacted | kSegmentFlagRecycled |
                                        kSegmentFlagSalted | kSegmentFlagAfterUnsealed |
                                        kSegmentFlagInPlace;
constexpr size_t kSegmentSaltOffset = 48;
// The salt of a segment whose mapped bytes start at `base`, and whether it
// has one (a valid salted header; false for an unsalted segment).
bool SegmentSalt(const char* base, uint64_t* salt);
// The sequence floor of a segment whose mapped bytes start at `base`
// (header included); 0 for a segment that was not recycled. Records with a
// sequence number at or below it are stale (LogReader treats them as the
// end of the valid records).
uint64_t SegmentSeqFloor(const char* base);
// Whether the segment whose mapped bytes start at `base` says
// kSegmentFlagInPlace (its header is not checked: callers validated it).
inline bool SegmentInPlace(const char* base) {
  return (DecodeU32(base + 12) & kSegmentFlagInPlace) != 0;
}

void EncodeSegmentHeader(const SegmentHeader& h, char* dst /* kSegmentHeaderSize */);
// Checks magic, checksum, version. kCorruption / kVersion with path in msg.
Status DecodeSegmentHeader(const char* src, size_t avail, const std::string& path,
                           SegmentHeader* out);
// The durability watermark kept in the header: every byte below it was
// synced at some point. Stored with its own check so a torn update reads 0.
void EncodeDurableLen(char* header, uint64_t len);
uint64_t DecodeDurableLen(const char* header);
// The database's clock (its high-water mark of readings, ms) when the
// segment was sealed, in the watermark page after the watermark, with its
// own check (0 when absent or torn): an open starts its clock no earlier.
// `key`: an encrypted database's data-key cipher (nullptr: unencrypted).
// With a key the value is also authenticated (docs/format.md,
// "Authenticated header values"): Encode writes its MAC at
// kSealClockMacOffset, and Decode reads a clock whose MAC is missing (all
// zero: written by an older library) or wrong (forged) as no seal clock
// (0), exactly as a torn one. Without a key the MAC bytes are left zero
// and never read (an unencrypted database's format is unchanged).
void EncodeSealClock(char* header, uint64_t ms, const Aead* key);
// No seal clock (as a library before seal clocks wrote): what a seal writes
// when it cannot encode one (out of memory for the MAC). Never throws.
void ClearSealClock(char* header);
uint64_t DecodeSealClock(const char* header, const Aead* key);


// ---- records ----
// Two layouts share bytes [8, 36); a record's flags byte (35) says which
// it has (kRecordFlagShort). The short one is what this library writes
// (format version 8); the long one is what versions up to 7 wrote, read
// wherever it is found (and kept as it is by compaction's copies).
//
// Short (flags & kRecordFlagShort; format version 8):
// [0]  u32 checksum  low 32 bits of XXH3 over bytes [4, 36 + ext + key_len +
//                    value_len + tail)
// [4]  u32 in-place counter (in segments with kSegmentFlagInPlace: 0 until
//      the record is first overwritten in place, odd while an overwrite is
//      under way, then even again; 0 elsewhere)
// [8]  ... as the long layout's [8, 36) ...
// [36] optional fields, key, value, tail, zero padding to a multiple of 8
//
// Long (format versions 1-7):
// [0]  u64 checksum  XXH3 over bytes [8, 40 + ext + key_len + value_len + tail)
// [8]  u64 seq
// [16] u64 prev      disk address of the key's previous version, 0 if none
// [24] u32 ns_id
// [28] u32 value_len
// [32] u16 key_len
// [34] u8  type
// [35] u8  flags
// [36] u32 reserved (0); in segments with kSegmentFlagInPlace, a put's
//      in-place counter (as the short layout's at [4])
// [40] optional fields, 8 bytes each, in this order (format version 3):
//      u64 commit time (ms since the epoch) if flags & kRecordFlagTime,
//      u64 expiry (ms since the epoch) if flags & kRecordFlagExpiry
// [..] key, value, zero padding to a multiple of 8
//
// The short layout saves the record 4 bytes (8 after padding for half of
// all lengths: a 16-byte key with a 100-byte value and its commit time
// takes 160 bytes, not 168).
constexpr size_t kRecordHeaderLong = 40;
constexpr size_t kRecordHeaderShort = 36;
// The bytes of a header every reader may decode before it knows the
// layout (PeekRecord reads [8, 36)).
constexpr size_t kRecordPeekSize = 36;
// The smallest record of either layout (an empty short one, padded).
constexpr size_t kRecordMinSize = 40;
// Where value_len lies in either layout.
constexpr size_t kRecordValueLenAt = 28;
constexpr size_t kRecordAlign = 8;

enum class RecordType : uint8_t {
  kPut = 1,
  kDelete = 2,     // tombstone
  kCommit = 3,     // batch commit marker; value = u32 record count
  kNsCreate = 4,   // key = namespace name, ns_id = the new id
  kNsDrop = 5,     // key = namespace name, ns_id = the dropped id
  kCompactInputs = 6,  // first record of a compaction output: u64 input segment ids
  kCompactDone = 7,    // last record of a complete compaction output: same ids
};
constexpr uint8_t kRecordFlagBatch = 1;  // part of a batch: needs its commit marker
constexpr uint8_t kRecordFlagTime = 2;   // an 8-byte commit time follows the header
constexpr uint8_t kRecordFlagExpiry = 4; // an 8-byte expiry follows (after the time)
// ---- record codec flags (format version 4; core/log/record_codec.h) ----
// The value of a put is stored compressed: u32 raw length, then an LZ4
// block (kRecordFlagLz4) or a Zstandard frame (kRecordFlagZstd). At most
// one of the two; only on puts. value_len is the stored length.
constexpr uint8_t kRecordFlagLz4 = 8;
constexpr uint8_t kRecordFlagZstd = 16;
constexpr uint8_t kRecordFlagCompressed = kRecordFlagLz4 | kRecordFlagZstd;
// The record is sealed (encrypted databases, docs/format.md "Encryption"):
// its key and value bytes are AES-256-GCM ciphertext under the data key,
// with nonce = the segment's salt || the record's offset and additional
// data = the header after its checksum and the optional fields (bytes
// [4, 36 + ext) short, [8, 40 + ext) long), which
// stay readable), and the 16-byte tag follows the value. key_len and
// value_len are the stored lengths (the tag not included). The checksum
// covers the stored bytes, tag included, so damage is found without the key.
constexpr uint8_t kRecordFlagSealed = 32;
constexpr size_t kRecordSealTagSize = 16;
// Flags the stored value bytes depend on (kept by compaction's copies).
constexpr uint8_t kRecordFlagsCodec = kRecordFlagCompressed;
// The record has the short layout (format version 8; see above). Only in
// segments whose header says version 8 or later.
constexpr uint8_t kRecordFlagShort = 64;
constexpr uint8_t kRecordFlagsKnown = kRecordFlagBatch | kRecordFlagTime | kRecordFlagExpiry |
                                      kRecordFlagLz4 | kRecordFlagZstd | kRecordFlagSealed |
                                      kRecordFlagShort;

// Bytes of the header of a record with these flags (before the optional
// fields), of its checksum at offset 0, and where its in-place counter is.
// (Arithmetic, not branches: these sit on every read's path.)
static_assert(kRecordFlagShort == 64, "the arithmetic below");
inline size_t RecordHeaderLen(uint8_t flags) {
  return kRecordHeaderLong - ((flags & kRecordFlagShort) >> 4);  // 40 or 36
}
inline size_t RecordChecksumLen(uint8_t flags) {
  return 8 - ((flags & kRecordFlagShort) >> 4);  // 8 or 4
}
inline size_t RecordCounterOffset(uint8_t flags) {
  return 36 - ((flags & kRecordFlagShort) >> 1);  // 36 or 4
}
// The flags byte of the record at base (immutable once written).
inline uint8_t RecordFlagsAt(const char* base) { return static_cast<uint8_t>(base[35]); }

// Bytes of optional fields a record with these flags carries.
inline size_t RecordExtLen(uint8_t flags) {
  static_assert(kRecordFlagTime == 2 && kRecordFlagExpiry == 4, "the arithmetic below");
  return (static_cast<size_t>(flags & kRecordFlagTime) << 2) +
         (static_cast<size_t>(flags & kRecordFlagExpiry) << 1);
}
// Bytes after the value a record with these flags carries (the seal's tag).
inline size_t RecordTailLen(uint8_t flags) {
  return (flags & kRecordFlagSealed) ? kRecordSealTagSize : 0;
}

// Disk address: segment id in the high 32 bits, byte offset in the low 32.
inline uint64_t MakeDiskAddr(uint64_t seg_id, uint64_t off) { return (seg_id << 32) | off; }
inline uint64_t DiskAddrSegment(uint64_t a) { return a >> 32; }
inline uint64_t DiskAddrOffset(uint64_t a) { return a & 0xFFFFFFFFull; }

// The size of a record; `header`: its layout's (the short one unless said).
inline size_t RecordSize(size_t key_len, size_t value_len, size_t ext_len = 0,
                         size_t tail_len = 0, size_t header = kRecordHeaderShort) {
  return (header + ext_len + key_len + value_len + tail_len + kRecordAlign - 1) &
         ~(kRecordAlign - 1);
}

// A decoded view of a record in memory (a mapped segment).
struct RecordView {
  const char* base = nullptr;  // start of the record
  // Start of the mapping of the segment holding it (header included), where
  // known: a sealed record's nonce is the segment's salt and the record's
  // offset (base - seg). Readers of sealed records (RecordCodec) need it.
  const char* seg = nullptr;
  uint64_t seq = 0;
  uint64_t prev = 0;
  uint32_t ns_id = 0;
  uint32_t value_len = 0;
  uint16_t key_len = 0;
  RecordType type = RecordType::kPut;
  uint8_t flags = 0;
  // The record's segment is known intact in this process (Segment::checked:
  // this process wrote it, or validated every record of it), so a read may
  // rely on it without its checksum. Set by Segment::Peek; a view made any
  // other way says false (not known: check it).
  bool checked = false;
  // A read that copies the record's bytes checks ReadStable(*this) after
  // the copy: set by the read path when the key's newest record may be
  // overwritten in place meanwhile (its segment says kSegmentFlagInPlace):
  // that record and its in-place counter when the read began.
  const char* watch = nullptr;
  uint32_t watch_counter = 0;

  size_t ext_len() const { return RecordExtLen(flags); }
  size_t header_len() const { return RecordHeaderLen(flags); }
  // Bytes before the key: the header and the optional fields.
  size_t head_len() const { return header_len() + ext_len(); }
  bool short_header() const { return (flags & kRecordFlagShort) != 0; }
  std::string_view key() const { return {base + head_len(), key_len}; }
  std::string_view value() const { return {base + head_len() + key_len, value_len}; }
  size_t size() const {
    return RecordSize(key_len, value_len, ext_len(), RecordTailLen(flags), header_len());
  }
  // The in-place counter (kSegmentFlagInPlace segments; 0 elsewhere).
  uint32_t counter() const { return DecodeU32(base + RecordCounterOffset(flags)); }
  bool is_batch() const { return (flags & kRecordFlagBatch) != 0; }
  bool sealed() const { return (flags & kRecordFlagSealed) != 0; }
  // Commit time in ms since the epoch; 0 = unknown (written before format
  // version 3). REQUIRES: size() bytes are readable (bounds checked).
  uint64_t time() const {
    return (flags & kRecordFlagTime) ? DecodeU64(base + header_len()) : 0;
  }
  // Absolute expiry in ms since the epoch; 0 = none. Same REQUIRES.
  uint64_t expiry() const {
    if ((flags & kRecordFlagExpiry) == 0) return 0;
    return DecodeU64(base + header_len() + ((flags & kRecordFlagTime) ? 8 : 0));
  }
};

struct RecordFields {
  uint64_t seq;
  uint64_t prev;
  uint32_t ns_id;
  RecordType type;
  uint8_t flags;
  std::string_view key;
  std::string_view value;
  uint64_t time = 0;    // commit time; 0 = none (flag cleared)
  uint64_t expiry = 0;  // 0 = none (flag cleared)
  uint32_t counter = 0; // in-place counter; 0 but for in-place updates
  // Write the long layout (format version 7 and before): only compaction's
  // re-encoded copies of records that had it, so that their sizes stay.
  bool long_header = false;
};

// Writes the record (header, optional fields, key, value, padding) at dst,
// in the short layout (kRecordFlagShort set) unless f.long_header;
// dst must have RecordSize(key, value, RecordExtLen(flags),
// RecordTailLen(flags), that layout's header) bytes, where the time and expiry flags are set from
// f.time / f.expiry being non-zero (the flags given for them are ignored);
// the batch, codec and sealed flags are kept (f.value is then the stored,
// encoded value). A record with the sealed flag is written in plaintext
// with a zero tag and no checksum: RecordCodec::SealTo completes it.
// Returns the size written.
size_t EncodeRecord(const RecordFields& f, char* dst);
// The same record, for a destination that is cheap to read back (in this
// core's cache: a buffer on the stack): the checksum is computed over the
// written bytes in one pass. EncodeRecord never reads dst back (fresh log
// lines): it builds a record of up to 4 KiB on the stack this way and
// copies it, and streams the checksum over the parts of a longer one.
size_t EncodeRecordCached(const RecordFields& f, char* dst);

// Decodes the header at p without checking the checksum (hot read path).
// `seg`: the start of the segment mapping holding p, if known.
inline RecordView PeekRecord(const char* p, const char* seg = nullptr) {
  RecordView r;
  r.base = p;
  r.seg = seg;
  r.seq = DecodeU64(p + 8);
  r.prev = DecodeU64(p + 16);
  r.ns_id = DecodeU32(p + 24);
  r.value_len = DecodeU32(p + kRecordValueLenAt);
  r.key_len = DecodeU16(p + 32);
  r.type = static_cast<RecordType>(static_cast<uint8_t>(p[34]));
  r.flags = static_cast<uint8_t>(p[35]);
  return r;
}

// True if the header of r names a record type this format knows and a
// sequence number (zeros, as a damaged or never-written range reads, do
// not). The cheap part of ValidateRecord, for scans that check the rest
// (the checksum) only on the records they use.
inline bool RecordHeaderPlausible(const RecordView& r) {
  const uint8_t t = static_cast<uint8_t>(r.type);
  return r.seq != 0 && t >= static_cast<uint8_t>(RecordType::kPut) &&
         t <= static_cast<uint8_t>(RecordType::kCompactDone);
}

// A record's prev when the versions before it are gone for good: a
// compaction output's copy of a record that was updated in place (the copy
// resets the counter, which said that the versions between the record's
// prev and itself were replaced). It names no record (segment 0, offset 1:
// no segment has id 0 and no record starts at 1), so a walk back through
// it ends in SnapshotTooOld, never at the older version behind it, which a
// snapshot between the two would have taken for its answer.
constexpr uint64_t kPrevReplaced = 1;

// The in-place counter of the record at base (a seqlock's sequence: odd
// while an overwrite is under way). Acquire: bytes read after it are at
// least as new.
inline uint32_t LoadRecordCounter(const char* base) {
  return __atomic_load_n(
      reinterpret_cast<const uint32_t*>(base + RecordCounterOffset(RecordFlagsAt(base))),
      __ATOMIC_ACQUIRE);
}
// After a copy of the bytes a read returned: true if no in-place overwrite
// of the record it watched began or ended meanwhile (else read again).
inline bool ReadStable(const RecordView& r) {
  if (r.watch == nullptr) return true;
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  return __atomic_load_n(reinterpret_cast<const uint32_t*>(
                             r.watch + RecordCounterOffset(RecordFlagsAt(r.watch))),
                         __ATOMIC_RELAXED) == r.watch_counter;
}

// True if the record's checksum matches its bytes. (Its bytes only: a
// record read from a segment is checked with RecordIntact, which also
// checks its layout against the segment.)
bool RecordChecksumOk(const RecordView& r);

// Whether a record with these flags may lie in the segment whose mapped
// bytes start at `seg` (its header first): a record of the short layout
// (kRecordFlagShort) only where the header says format version 8 or
// later. Elsewhere it is damage whatever its checksum says: no library of
// version 7 or before wrote one (docs/format.md, "Record"). A long record
// fits anywhere (compaction copies them as they are into version-8
// outputs). `seg` nullptr (not known): a short record does not fit.
inline bool RecordLayoutFits(uint8_t flags, const char* seg) {
  return (flags & kRecordFlagShort) == 0 ||
         (seg != nullptr && DecodeU32(seg + 8) >= kFormatVersionShort);
}

// Whether record r of a segment (r.seg set, as Segment::Peek does) is
// whole: its layout fits its segment (RecordLayoutFits) and its checksum
// holds. The check of every read that relies on a record's bytes.
inline bool RecordIntact(const RecordView& r) {
  return RecordLayoutFits(r.flags, r.seg) && RecordChecksumOk(r);
}

// Whether a read may rely on r: it is intact (RecordIntact), or its
// segment is known intact (r.checked: every record of it was validated,
// layout included, or this process wrote it) and the caller does not check
// every read (`check_all`, the verify_checksums option). The one rule of
// the read paths (gets, iterators, history, conditions).
inline bool ReadIntact(const RecordView& r, bool check_all) {
  return (r.checked && !check_all) || RecordIntact(r);
}

// The checksum of a record's stored bytes (what EncodeRecord / SealTo
// write at offset 0: all 64 bits in the long layout, the low 32 in the
// short one), and the one stored there.
uint64_t RecordChecksum(const char* base, uint8_t flags, size_t key_len, size_t value_len);
inline uint64_t StoredRecordChecksum(const char* base, uint8_t flags) {
  return (flags & kRecordFlagShort) ? DecodeU32(base) : DecodeU64(base);
}
inline void StoreRecordChecksum(char* base, uint8_t flags, uint64_t checksum) {
  if (flags & kRecordFlagShort) {
    EncodeU32(base, static_cast<uint32_t>(checksum));
  } else {
    EncodeU64(base, checksum);
  }
}

// Full validation of a record at p with `avail` bytes readable: bounds,
// type, flags (codec flags only on puts, one algorithm at most; sealed only
// on puts, deletes and namespace records; the short layout only where
// `seg`'s header says version 8 or later: RecordLayoutFits), reserved
// field (an even in-place counter on a plain put is allowed where `seg`
// says kSegmentFlagInPlace), checksum. Used by recovery and every scan
// (LogReader). `seg`: the start of the mapping of the segment holding p;
// every record read from a segment is validated against it (so it has no
// default). nullptr only for a record outside any segment (a buffer the
// caller made, in tests): no header then says which layouts may be there,
// and the layout is not checked (an in-place counter is refused).
// `checksum` false: everything but the checksum (for a segment known
// intact, Segment::checked).
bool ValidateRecord(const char* p, size_t avail, RecordView* out, const char* seg,
                    bool checksum = true);

// ---- authenticated header values (encrypted databases only) ----
// Values stored in the clear that move the database's clock or sequence
// numbers, MACed with a key derived from the data key (Aead::Mac), in the
// watermark page's zero area, where libraries before them (same format
// version) never look.
constexpr size_t kSealClockMacOffset = kWatermarkOffset + 32;  // 16 bytes
constexpr size_t kDoneMacOffset = kWatermarkOffset + 48;       // 16 bytes
// What a stored MAC says: kAbsent (all zero: an older library wrote the
// value, or none is there), kValid, kForged (present and wrong: damage or
// a forgery, which verify reports). Values are used only when kValid.
enum class HeaderMac : int { kAbsent = 0, kValid = 1, kForged = 2 };
// The highest sequence number an encrypted database takes from a value
// nothing authenticates (a done marker whose MAC does not hold, a segment
// header's floor): such a number may be forged, and one near 2^64 would
// wrap the next numbers to 0. Above it, the value is ignored.
constexpr uint64_t kMaxUnauthenticatedSeq = uint64_t{1} << 62;
// The seal clock's MAC state (verify); kAbsent where the clock itself is
// absent or torn. REQUIRES key.
HeaderMac SealClockMac(const char* header, const Aead* key);
// A compaction output's done marker (record type 7) and its input list
// (the first record): their MAC covers the segment id, the database id,
// the marker's offset and both records' bytes whole (the marker's commit
// time and highest sequence number, the inputs' history floor, the ids).
// `inputs`, `done`: those records' bytes; `done_off`: the marker's offset.
void EncodeDoneMac(char* header, std::string_view inputs, uint64_t done_off,
                   std::string_view done, const Aead* key);
// The state of the MAC of the done marker at done_off in the complete
// output mapped at base (len bytes). REQUIRES key.
HeaderMac DoneMarkerMac(const char* base, uint64_t len, uint64_t done_off, const Aead* key);
// The done marker of the complete output mapped at base, len bytes: the
// valid (checksummed) kCompactDone record that ends exactly at len. False
// if there is none (an output cut short, or damage).
bool FindDoneMarker(const char* base, uint64_t len, uint64_t* off, RecordView* out);

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_FORMAT_H_
