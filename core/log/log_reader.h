// LogReader: the one scanner of a segment's records (as LevelDB's
// log::Reader). It walks a byte range of a mapped segment record by record,
// validating each one (bounds, type, reserved bits, checksum), and tells the
// caller where a damaged record starts; what damage means is the caller's
// decision (recovery: a torn tail past the watermark, corruption, or a
// region salvage skips; verify: a problem to count; compaction and the
// leftover check: the segment is not what it claims). Resync() finds the
// next record after damage that it can believe (below), for salvage and
// verify (and the walks of the change feed and time travel). BatchRule (below)
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
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/env/env.h"
#include "core/log/format.h"
#include "core/log/record_codec.h"
#include "core/util/coding.h"
#include "core/util/hash.h"

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
        auth_(auth != nullptr && auth->sealing() ? auth : nullptr),
        ordered_((DecodeU32(data + 12) & kSegmentFlagCompacted) == 0),
        torn_from_(end) {}

  // kRecord: *r is the next record, at *at. kEnd: the range is done.
  // kDamaged: the bytes at *at are not a valid record; the reader stays
  // there (call Resync() to go on, or stop).
  Result Next(RecordView* r, uint64_t* at) {
    *at = off_;
    if (off_ >= end_) return Result::kEnd;
    if (!Valid(off_, r)) return Result::kDamaged;
    Note(*r, &last_);
    off_ += r->size();
    return Result::kRecord;
  }

  // After kDamaged: moves to the next 8-byte aligned offset where a record
  // starts that can be believed (or the end). Returns the bytes skipped.
  //
  // A record that passes its checksum is not enough: the stored bytes of
  // a record inside a value (a put whose value holds a chunk of a segment
  // file, which users store) pass too, and until 2026-11-29 salvage
  // applied such a record after the header of the record holding it was
  // damaged: a key got a value nobody wrote for it, or a delete nobody
  // issued (recovery_regress "embedded"). So a candidate is taken only if
  // what lies around it agrees:
  //  * the damaged record's own length first: if the length its header
  //    states ends at a record that is believed (the rest of this list),
  //    the reader goes on there and nothing inside the damaged record's
  //    span is tried (the usual damage, a flipped bit or a bad block in a
  //    value or in another header field, leaves the length intact);
  //    but a record inside the span is tried first where the damaged
  //    record's checksum holds once its key or value length is set to end
  //    there (only that length was damaged: a flipped bit of it may land
  //    exactly on a later record, mutilate found), or, in a log segment,
  //    wherever the numbers say more records are missing there than the
  //    damaged one (its length was damaged too, and may cover intact
  //    records);
  //  * else each valid record after the damage in turn, and the first
  //    that is believed;
  //  * believed: the records from the candidate on form an unbroken chain
  //    to a known record boundary, the end of the range (a sealed
  //    segment's end, a published length, the watermark: where records
  //    end) or, in the tail of the log (set_torn_from), any stop at or
  //    past the watermark (a torn tail). A further damaged record on the
  //    way is crossed only through the length its header states, and only
  //    to a valid record. Where nothing is believed, the rest of the range
  //    is skipped (reported), never guessed at;
  //  * and, in a log segment (not a compaction output), the sequence
  //    numbers of that chain agree with the records before the damage:
  //    offset order is sequence order there (one atomic add hands out
  //    both), a batch's records share their number and are followed at
  //    once by their commit record, any other record has a number of its
  //    own. So a record right after another has a higher number (after a
  //    batch record: the same number, a batch record or its commit); one
  //    after damage (at least one record lies in it: damage begins where
  //    the last good record ended, a record boundary) has a number at
  //    least the last good one's, and two higher when neither is part of a
  //    batch. Records updated in place (their counter is not 0) carry a
  //    newer number than their place: they are not compared.
  // What this cannot tell apart: bytes made on purpose to be a whole
  // consistent chain (a value holding records whose numbers continue the
  // log's), which only keyed checksums could refuse (an encrypted
  // database stores values as ciphertext, and a sealed record's tag binds
  // its offset). A compaction output has no number order: only the chain
  // and the stated length are checked there. In a segment whose records
  // were updated in place, overwrites leave gaps in the numbers, and a
  // copied record whose number falls into one right at the damage passes
  // the number checks.
  uint64_t Resync() {
    const uint64_t from = off_;
    RecordView r;
    uint64_t stated = 0;
    const bool has_stated = StatedEnd(from, &stated);
    // (A damaged record that the chain believed at an earlier resync
    // crossed by its stated length: that chain already ran on from there.)
    if (has_stated && std::binary_search(crossed_.begin(), crossed_.end(), stated)) {
      off_ = stated;
      return off_ - from;
    }
    std::vector<uint64_t> crossed;
    if (has_stated && (stated == end_ || Valid(stated, &r)) &&
        Believe(stated, last_, nullptr, &crossed) == Belief::kYes) {
      // Where the numbers say that more records are missing than the
      // damaged one (its length may be damaged too, and cover intact
      // records), the records inside its span are tried first.
      // Else one there is taken only where the damaged record proves it
      // ends there: its checksum holds once its key or value length is
      // set to end there (that one length was damaged, nothing else).
      off_ = Scan(from, stated, /*repaired_only=*/OnlyOneMissing(last_, stated));
      if (off_ == stated) crossed_ = std::move(crossed);
      return off_ - from;
    }
    off_ = Scan(from, end_);
    return off_ - from;
  }

  // In the tail of the log: a stop at or past `from` (the watermark) is
  // where the records end (torn), not damage (for Resync's chains).
  void set_torn_from(uint64_t from) { torn_from_ = from; }

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

  // The last record before a point whose number counts (not updated in
  // place), for Resync's order checks.
  struct Link {
    bool known = false;
    uint64_t seq = 0;
    bool batch = false;   // a batch's put or delete: its commit follows
    bool commit = false;  // a commit record
  };

  static void Note(const RecordView& r, Link* l) {
    if (r.counter() != 0) return;  // (updated in place: a newer number than its place)
    l->known = true;
    l->seq = r.seq;
    l->batch = r.is_batch() && (r.type == RecordType::kPut || r.type == RecordType::kDelete);
    l->commit = r.type == RecordType::kCommit;
  }

  // Whether n may follow p in a log segment: right after it (`adjacent`),
  // or after one or more records (or damage, which starts at a record).
  bool Follows(const Link& p, const RecordView& n, bool adjacent) const {
    if (!ordered_ || !p.known || n.counter() != 0) return true;
    const bool n_batch =
        (n.is_batch() && (n.type == RecordType::kPut || n.type == RecordType::kDelete)) ||
        n.type == RecordType::kCommit;
    if (adjacent) return p.batch ? n.seq == p.seq && n_batch : n.seq > p.seq;
    if (n.seq < p.seq) return false;
    if (n.seq == p.seq) return p.batch && n_batch;
    return p.batch || n_batch || n.seq - p.seq >= 2;
  }

  // The end of the damaged record at `at` by the length its header states,
  // if that lies within the range.
  bool StatedEnd(uint64_t at, uint64_t* stated) const {
    if (at >= end_ || end_ - at < kRecordPeekSize) return false;
    const uint64_t size = PeekRecord(data_ + at, data_).size();
    if (size < kRecordMinSize || size > end_ - at) return false;
    *stated = at + size;
    return true;
  }

  // The first record in (from, until) that is believed (Resync), or
  // `until`. `repaired_only`: only one where the damaged record at `from`
  // ends, by LengthRepairedTo.
  uint64_t Scan(uint64_t from, uint64_t until, bool repaired_only = false) {
    // Record starts on a chain that broke further on break the same way
    // (the chain from each is the rest of that one): not walked again, so
    // a resync costs one walk of the range, not one per record.
    std::vector<bool> broken;
    std::vector<uint64_t> trail, crossed;
    RecordView r;
    for (uint64_t at = from + kRecordAlign; at < until; at += kRecordAlign) {
      const uint64_t slot = (at - from) / kRecordAlign;
      if (slot < broken.size() && broken[slot]) continue;
      if (!Valid(at, &r)) continue;
      if (repaired_only && !LengthRepairedTo(from, at)) continue;
      trail.clear();
      crossed.clear();
      const Belief b = Believe(at, last_, &trail, &crossed);
      if (b == Belief::kYes) {
        crossed_ = std::move(crossed);
        return at;
      }
      if (b == Belief::kChainBreaks) {
        if (broken.empty()) broken.resize((end_ - from) / kRecordAlign + 1);
        for (uint64_t t : trail) broken[(t - from) / kRecordAlign] = true;
      }
    }
    return until;
  }

  // Whether the damaged record at `at` passes its checksum once its key
  // length or its value length (the other fields as they are) is set so
  // that it ends at `to`.
  bool LengthRepairedTo(uint64_t at, uint64_t to) const {
    const char* base = data_ + at;
    const RecordView h = PeekRecord(base, data_);
    const size_t header = h.header_len(), ext = h.ext_len(), tail = RecordTailLen(h.flags);
    const size_t cl = RecordChecksumLen(h.flags);
    if (to - at < header + ext + tail) return false;
    const uint64_t room = to - at - header - ext - tail;  // key, value, padding
    for (int which = 0; which < 2; which++) {
      for (uint64_t pad = 0; pad < kRecordAlign && pad <= room; pad++) {
        uint64_t k = h.key_len, v = h.value_len;
        const uint64_t kv = room - pad;
        if (which == 0) {
          if (kv < k || kv - k > UINT32_MAX) continue;
          v = kv - k;
          if (v == h.value_len) continue;
        } else {
          if (kv < v || kv - v == 0 || kv - v > UINT16_MAX) continue;
          k = kv - v;
          if (k == h.key_len) continue;
        }
        if (RecordSize(k, v, ext, tail, header) != to - at) continue;
        char patched[kRecordHeaderLong];
        std::memcpy(patched, base, header);
        EncodeU32(patched + kRecordValueLenAt, static_cast<uint32_t>(v));
        EncodeU16(patched + 32, static_cast<uint16_t>(k));
        uint64_t c = Checksum3(std::string_view(patched + cl, header - cl),
                               std::string_view(base + header, ext + k + v + tail), {});
        if ((h.flags & kRecordFlagShort) != 0) c &= 0xFFFFFFFFull;
        if (c == StoredRecordChecksum(base, h.flags)) return true;
      }
    }
    return false;
  }

  // Whether the record at `at`, believed at the end a damaged record's
  // header states, may follow p with only that record missing between, by
  // their numbers, or that cannot be told (not a log segment, a batch: the
  // stated length is then taken). Records updated in place on the way
  // are stepped over (each had an append number before its overwrite)
  // to the first that was not.
  bool OnlyOneMissing(const Link& p, uint64_t at) const {
    if (!ordered_ || !p.known || p.batch) return true;
    RecordView n;
    for (uint64_t k = 0; at < end_ && Valid(at, &n); k++, at += n.size()) {
      if (n.counter() == 0) return n.seq <= p.seq + 2 + k;
    }
    return true;
  }

  // Whether the valid record at `at` (or the end of the range) is
  // believed after damage whose last good record before it was `before`
  // (Resync). kNo: it does not follow `before`; kChainBreaks: the chain
  // from it breaks further on, where it would from any record start on it
  // (*trail, if given, gets them).
  enum class Belief { kYes, kNo, kChainBreaks };
  // *crossed gets where it went on after each damaged record it crossed.
  Belief Believe(uint64_t at, Link before, std::vector<uint64_t>* trail,
                 std::vector<uint64_t>* crossed) const {
    bool adjacent = false, first = true;
    RecordView r;
    while (at < end_) {
      if (!Valid(at, &r)) {
        if (at >= torn_from_) return Belief::kYes;  // the torn tail: records end here
        uint64_t stated = 0;
        // Crossed by its stated length only, to a valid record.
        if (!StatedEnd(at, &stated) || (stated < end_ && !Valid(stated, &r))) {
          return Belief::kChainBreaks;
        }
        at = stated;
        crossed->push_back(at);
        adjacent = false;
        continue;
      }
      if (!Follows(before, r, adjacent)) return first ? Belief::kNo : Belief::kChainBreaks;
      first = false;
      if (trail != nullptr) trail->push_back(at);
      if (r.counter() == 0) {
        Note(r, &before);
        adjacent = true;
      } else {
        adjacent = false;
      }
      at += r.size();
    }
    return at == end_ ? Belief::kYes : Belief::kChainBreaks;
  }

  const char* const data_;
  uint64_t off_;
  const uint64_t end_;
  const uint64_t floor_;
  const bool checksums_;
  const RecordCodec* const auth_;
  const bool ordered_;  // a log segment: offset order is sequence order
  uint64_t torn_from_;  // set_torn_from
  Link last_;           // the last record Next returned (Note)
  std::vector<uint64_t> crossed_;  // the believed chain's crossings (Resync)
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
