// WriteOp: one operation of a write (a put or delete, possibly conditional,
// or a namespace create/drop), referring to caller-owned bytes; and
// WriteBatch: an owning list of puts and deletes, applied atomically.
//
// Thread contract: WriteOp is a plain view; WriteBatch is used by one thread
// at a time (DB::Write only reads it).
#ifndef FIRKIN_CORE_DB_WRITE_BATCH_H_
#define FIRKIN_CORE_DB_WRITE_BATCH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/keyspace/namespaces.h"

namespace firkin {

struct WriteOp {
  // kCheck: a check-only op (a transaction's read): the key is locked and
  // its condition decided with the rest, nothing is written. kCheckNs: no
  // key; fails with kConflict if a write to ns may have committed after
  // expected_version (a serializable transaction that iterated ns).
  enum class Kind : uint8_t { kPut, kDelete, kNsCreate, kNsDrop, kCheck, kCheckNs };
  // kSeqAtMost: the key's newest record (put or tombstone) has a sequence
  // number <= expected_version, else kConflict naming ns and key.
  enum class Cond : uint8_t { kNone, kIfAbsent, kValueEquals, kVersionEquals, kSeqAtMost };
  Kind kind = Kind::kPut;
  Cond cond = Cond::kNone;
  NamespaceInfo* ns = nullptr;  // kept alive by the caller during Write
  std::string_view key;         // the namespace name for kNsCreate/kNsDrop
  std::string_view value;
  std::string_view expected;      // kValueEquals
  uint64_t expected_version = 0;  // kVersionEquals (0 = absent), kSeqAtMost, kCheckNs
  bool exist_ok = false;          // kNsCreate: return the existing one
  // TTL (kPut): an absolute expiry in ms since the epoch, or one relative to
  // the write's commit time; both 0 = the record never expires.
  uint64_t expire_at_ms = 0;
  uint64_t ttl_ms = 0;
  // kPut: `value` is already the stored form (record_codec.h), with these
  // record flags (kRecordFlagLz4 / kRecordFlagZstd); 0 = the value as given.
  uint8_t codec_flags = 0;

  bool has_expiry() const { return kind == Kind::kPut && (expire_at_ms != 0 || ttl_ms != 0); }
  // The expiry to record for a write committed at commit_ms (0 = none).
  uint64_t ExpiryAt(uint64_t commit_ms) const {
    if (kind != Kind::kPut) return 0;
    if (expire_at_ms != 0) return expire_at_ms;
    if (ttl_ms == 0) return 0;
    return commit_ms + ttl_ms < commit_ms ? UINT64_MAX : commit_ms + ttl_ms;
  }
};

class WriteBatch {
 public:
  WriteBatch() = default;
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void Put(std::shared_ptr<NamespaceInfo> ns, std::string_view key, std::string_view value) {
    Add(WriteOp::Kind::kPut, std::move(ns), key, value);
  }
  // A put that expires ttl_ms after the batch's commit time.
  void PutTtl(std::shared_ptr<NamespaceInfo> ns, std::string_view key, std::string_view value,
              uint64_t ttl_ms) {
    Add(WriteOp::Kind::kPut, std::move(ns), key, value);
    entries_.back().ttl_ms = ttl_ms;
  }
  void Delete(std::shared_ptr<NamespaceInfo> ns, std::string_view key) {
    Add(WriteOp::Kind::kDelete, std::move(ns), key, {});
  }
  void Clear() {
    entries_.clear();
    buf_.clear();
  }
  size_t Count() const { return entries_.size(); }
  uint64_t ByteSize() const { return buf_.size(); }

  // Views of the operations, valid until the batch is modified.
  std::vector<WriteOp> Ops() const {
    std::vector<WriteOp> ops;
    ops.reserve(entries_.size());
    for (const Entry& e : entries_) {
      WriteOp op;
      op.kind = e.kind;
      op.ns = e.ns.get();
      op.key = std::string_view(buf_.data() + e.off, e.klen);
      op.value = std::string_view(buf_.data() + e.off + e.klen, e.vlen);
      op.ttl_ms = e.ttl_ms;
      ops.push_back(op);
    }
    return ops;
  }

 private:
  struct Entry {
    WriteOp::Kind kind;
    std::shared_ptr<NamespaceInfo> ns;
    size_t off, klen, vlen;
    uint64_t ttl_ms = 0;
  };
  void Add(WriteOp::Kind kind, std::shared_ptr<NamespaceInfo> ns, std::string_view k,
           std::string_view v) {
    entries_.push_back(Entry{kind, std::move(ns), buf_.size(), k.size(), v.size(), 0});
    buf_.append(k.data(), k.size());
    buf_.append(v.data(), v.size());
  }
  std::vector<Entry> entries_;
  std::string buf_;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_DB_WRITE_BATCH_H_
