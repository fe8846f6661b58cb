// LogReader: the one scanner of a segment's records (as LevelDB's
// log::Reader). It walks a byte range of a mapped segment record by record,
// validating each one (bounds, type, reserved bits, checksum), and tells the
// caller where a damaged record starts; what damage means is the caller's
// decision (recovery: a torn tail past the watermark, corruption, or a
// region salvage skips; verify: a problem to count; compaction and the
// leftover check: the segment is not what it claims). Resync() finds the
// next valid record after damage, for salvage and verify. BatchRule (below)
// is the one rule for which batch records count: recovery's and verify's.
//
// Sealed records (encrypted databases): given `auth` (the database's
// codec), a sealed record is valid only if it is also authentic
// (RecordCodec::Authentic: its GCM tag holds over its header fields, key
// and value). A sealed record changed on purpose, its checksum made to
// match, is then damage at its offset like any other, never a record of
// another key, namespace or type. Recovery, a read-only handle's refresh
// and the scrub pass it (their records decide what the index holds), as do
// the scans that read a segment no one has validated yet.
//
// Thread contract: a LogReader (and a BatchRule) is used by one thread;
// the bytes it reads must stay mapped and unchanged below `end` while it is
// used.
#ifndef FIRKIN_CORE_LOG_LOG_READER_H_
#define FIRKIN_CORE_LOG_LOG_READER_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/env/env.h"
#include "core/log/format.h"
#include "core/log/record_codec.h"
#include "core/util/coding.h"

namespace firkin {

class LogReader {
 public:
  enum class Result { kRecord, kEnd, kDamaged };

  // Reads the records of data[from, end). `data` is the start of the
  // segment's mapping (its header included). `checksums` false: records
  // are validated in every way but their checksum (a segment known intact,
  // Segment::checked, whose records the caller only needs to walk).
  // `auth`: see the file comment (nullptr, or a codec without a cipher:
  // sealed records are not authenticated).
  LogReader(const char* data, uint64_t from, uint64_t end, bool checksums = true,
            const RecordCodec* auth = nullptr)
      : data_(data),
        off_(from),
        end_(end),
        floor_(SegmentSeqFloor(data)),
        checksums_(checksums),
        auth_(auth != nullptr && auth->sealing() ? auth : nullptr) {}

  // kRecord: *r is the next record, at *at. kEnd: the range is done.
  // kDamaged: the bytes at *at are not a valid record; the reader stays
  // there (call Resync() to go on, or stop).
  Result Next(RecordView* r, uint64_t* at) {
    *at = off_;
    if (off_ >= end_) return Result::kEnd;
    if (!Valid(off_, r)) return Result::kDamaged;
    off_ += r->size();
    return Result::kRecord;
  }

  // After kDamaged: moves to the next 8-byte aligned offset where a valid
  // record starts (or the end). Returns the bytes skipped.
  uint64_t Resync() {
    const uint64_t from = off_;
    RecordView r;
    off_ += kRecordAlign;
    while (off_ < end_ && !Valid(off_, &r)) off_ += kRecordAlign;
    if (off_ > end_) off_ = end_;
    return off_ - from;
  }

  uint64_t offset() const { return off_; }

  // With `auth`, after Next returned a sealed record: its key, taken from
  // the authentication (so authenticated, and not decrypted a second time);
  // valid until the next call. nullptr otherwise.
  const std::string* authenticated_key() const { return keyed_ ? &key_ : nullptr; }

  // True if a valid record of the segment's earlier life (recycled
  // segments) starts at `at`: what a crash leaves past this life's records.
  bool StaleAt(uint64_t at) const {
    RecordView r;
    return floor_ != 0 && at < end_ && ValidateRecord(data_ + at, end_ - at, &r, data_) &&
           r.seq <= floor_;
  }

 private:
  bool Valid(uint64_t at, RecordView* r) const {
    keyed_ = false;
    if (!(ValidateRecord(data_ + at, end_ - at, r, data_, checksums_) && r->seq > floor_)) {
      return false;
    }
    if (auth_ == nullptr || !r->sealed()) return true;
    keyed_ = auth_->Authentic(*r, &key_);
    return keyed_;
  }

  const char* const data_;
  uint64_t off_;
  const uint64_t end_;
  const uint64_t floor_;
  const bool checksums_;
  const RecordCodec* const auth_;
  mutable std::string key_;     // authenticated_key()
  mutable bool keyed_ = false;
};

// ---- which batch records count ----
// BatchRule: the one rule that decides whether a batch's records were
// committed, fed the records of the log in order. A batch is written as its
// records (kRecordFlagBatch, all with the batch's sequence number) and then
// its commit record (the same number, its value the count of records): the
// records count only if that commit record follows them, number and count
// agreeing. Anything else met first (a key record outside the batch, a
// batch record of another number, a namespace record, a commit record that
// does not match) or the end of the records (Finish) discards them: the
// write was cut short (a crash tore its commit record) and was never
// acknowledged. Compaction's markers (and types it does not know) leave a
// pending batch alone. Recovery applies by it (Replayer: the index never
// holds a discarded record); verify leaves what it discards out of its
// check that every key record is reached by the index.
//
// Item: what the caller keeps of a held record (recovery: its locator and
// view; verify: its offset).
template <typename Item>
class BatchRule {
 public:
  // Feeds r, the next record (item: the caller's of it). First settles the
  // records held before it: commit(held) if r is their commit record,
  // discard(held) if r ends them otherwise (each takes a
  // std::vector<Item>&, cleared afterwards). Returns true if r itself is a
  // batch record, now held (the caller does nothing more with it yet).
  template <typename Commit, typename Discard>
  bool Feed(const RecordView& r, Item item, Commit&& commit, Discard&& discard) {
    switch (r.type) {
      case RecordType::kPut:
      case RecordType::kDelete:
        if (!r.is_batch()) {
          Settle(discard);
          return false;
        }
        if (!held_.empty() && seq_ != r.seq) Settle(discard);
        seq_ = r.seq;
        held_.push_back(std::move(item));
        return true;
      case RecordType::kCommit: {
        const uint32_t count = r.value_len >= 4 ? DecodeU32(r.value().data()) : 0;
        if (!held_.empty() && seq_ == r.seq && held_.size() == count) {
          Settle(commit);
        } else {
          Settle(discard);
        }
        return false;
      }
      case RecordType::kNsCreate:
      case RecordType::kNsDrop:
        Settle(discard);
        return false;
      default:
        return false;
    }
  }

  // The end of the records: what is held is discarded.
  template <typename Discard>
  void Finish(Discard&& discard) {
    Settle(discard);
  }

  // The number of the batch held (some of its records met, not its commit
  // record yet), or 0.
  uint64_t pending() const { return held_.empty() ? 0 : seq_; }

 private:
  template <typename Fn>
  void Settle(Fn& fn) {
    if (held_.empty()) return;
    fn(held_);
    held_.clear();
  }

  std::vector<Item> held_;
  uint64_t seq_ = 0;
};

// ---- a compaction output's list of replaced segments ----
// The first record of an output (kCompactInputs) and its last (kCompactDone,
// once complete) name the segment ids it replaces, as u64s.
inline std::vector<uint64_t> DecodeSegmentIds(std::string_view list) {
  std::vector<uint64_t> ids;
  for (size_t i = 0; i + 8 <= list.size(); i += 8) ids.push_back(DecodeU64(list.data() + i));
  return ids;
}

// The ids named by the kCompactInputs record that starts the compaction
// output mapped at `data` (records end at `end`). False if that record is
// missing or damaged. *history_floor (if given): the history floor the
// writer had when it wrote the output, kept in that record's prev field
// (0: not recorded, by a library before the floors).
inline bool ReadCompactionInputs(const char* data, uint64_t end, std::vector<uint64_t>* ids,
                                 uint64_t* history_floor = nullptr) {
  LogReader reader(data, kSegmentHeaderSize, end);
  RecordView r;
  uint64_t at;
  if (reader.Next(&r, &at) != LogReader::Result::kRecord ||
      r.type != RecordType::kCompactInputs) {
    return false;
  }
  *ids = DecodeSegmentIds(r.value());
  if (history_floor != nullptr) *history_floor = r.prev;
  return true;
}

// Where the whole records of a segment file from `start` (a record
// boundary) end, at most `limit`: found in a copy read with Env::ReadRange,
// not through the mapping `base` (read only for the segment's format
// version). For a log segment its writer closed but may not have sealed
// yet, by another process: the seal may truncate the file after the last
// record at any moment, and a mapped read past it would fault (SIGBUS). A
// file gone meanwhile was retired, so sealed first: its watermark (in the
// mapping's header) ends its records, and *end is that, within [start, limit].
inline Status WholeRecordsEnd(Env* env, const std::string& path, const char* base,
                              uint64_t start, uint64_t limit, uint64_t* end) {
  *end = start;
  if (start >= limit) return Status::OK();
  std::string copy;
  Status s = env->ReadRange(path, start, limit - start, &copy);
  if (s.IsNotFound()) {
    *end = std::max(start, std::min(DecodeDurableLen(base), limit));
    return Status::OK();
  }
  FIRKIN_RETURN_IF_ERROR(s);
  uint64_t at = start;
  while (at - start + kRecordPeekSize <= copy.size()) {
    RecordView r;
    if (!ValidateRecord(copy.data() + (at - start), copy.size() - (at - start), &r, base)) break;
    at += r.size();
  }
  *end = at;
  return Status::OK();
}

}  // namespace firkin

#endif  // FIRKIN_CORE_LOG_LOG_READER_H_
