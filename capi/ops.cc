// Point operations: put, get (copy and caller buffer), contains, version,
// delete, insert-if-absent, compare-and-swap, multi-get.
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "capi/internal.h"
#include "core/util/coding.h"
#include "core/util/epoch.h"
#include "core/util/per_thread.h"

using namespace firkin::capi;
using firkin::RecordView;
using firkin::Status;
using firkin::WriteOp;

namespace {

// Checks the handles and applies one write operation; its key and values
// were checked by the caller (once).
firkin_status WriteOne(firkin_db* db, const firkin_write_options* wo, const firkin_ns* ns,
                       WriteOp op) {
  Target t;
  if (firkin_status c = Bind(db, ns, nullptr, &t)) return c;
  op.ns = const_cast<firkin::NamespaceInfo*>(t.ns);
  return Done(db->db->Write(WriteSync(wo), &op, 1, false));
}

// Looks key up at t; on success calls found(record) under the epoch guard
// (the record's bytes are valid only inside it). If the record was
// overwritten in place while found() copied it (ReadStable), the read is
// made again: found() must be safe to call again (it replaces what it
// produced before). A read made again may fail where the first succeeded
// (the key deleted or expired, its namespace dropped meanwhile): the status
// is then that read's, and what found() produced the first time is still
// there, so every caller clears its outputs on a status other than OK
// (until 2026-11-30 firkin_get returned NOT_FOUND with the first read's
// copy in *val, which callers that free only on OK leaked; get_version a
// stale version, get_into a stale length, contains found = true; and,
// where a multi-get's pinned snapshot could not be had (out of memory:
// updates in place then go on beside it), a NOT_FOUND key a value, and in
// the packed form the value's bytes after the key's status, read as the
// next keys' answers; inplace_test reread covers firkin_get).
template <typename Found>
firkin_status ReadAt(const firkin_db* db, const Target& t, const void* key, size_t key_len,
                     Found&& found) {
  if (firkin_status c = CheckKey(key, key_len)) return c;
  firkin::Epoch::Guard guard;
  for (;;) {
    RecordView r;
    Status s = db->db->Get(t.snap, *t.ns, Bytes(key, key_len), &r);
    if (!s.ok()) return Done(s);
    const firkin_status st = found(r);
    if (firkin::ReadStable(r)) return st;
  }
}

template <typename Found>
firkin_status ReadOne(firkin_db* db, const firkin_snapshot* snap, const firkin_ns* ns,
                      const void* key, size_t key_len, Found&& found) {
  Target t;
  if (firkin_status c = Bind(db, ns, snap, &t)) return c;
  return ReadAt(db, t, key, key_len, std::forward<Found>(found));
}

// Like ReadAt, for calls that need the value: calls found(value) with the
// value as written (decoded by the record codec when it is stored
// compressed; a value that does not decode is FIRKIN_E_CORRUPTION).
template <typename Found>
firkin_status ReadValueAt(const firkin_db* db, const Target& t, const void* key, size_t key_len,
                          Found&& found) {
  return ReadAt(db, t, key, key_len, [&](const RecordView& r) {
    if ((r.flags & (firkin::kRecordFlagsCodec | firkin::kRecordFlagSealed)) == 0) {
      return found(r.value());  // plain: a view
    }
    std::string& scratch = firkin::PerThread<std::string, struct GetValueTag>();
    std::string_view v;
    Status s = db->db->Value(r, &scratch, &v);
    firkin_status st = s.ok() ? found(v) : Done(s);  // (found copies v out)
    firkin::RecordCodec::ReleaseLarge(&scratch);
    return st;
  });
}

template <typename Found>
firkin_status ReadValueOne(firkin_db* db, const firkin_snapshot* snap, const firkin_ns* ns,
                           const void* key, size_t key_len, Found&& found) {
  Target t;
  if (firkin_status c = Bind(db, ns, snap, &t)) return c;
  return ReadValueAt(db, t, key, key_len, std::forward<Found>(found));
}

// Holds the snapshot a multi-get reads at (registered, so that its history
// is kept until the last key is read).
class PinnedRead {
 public:
  PinnedRead(firkin::DB* db, uint64_t at) : db_(db) {
    if (at != firkin::kLatestSeq) {
      seq_ = at;  // the caller's snapshot holds it
    } else if (db->AcquireSnapshot(firkin::kLatestSeq, &seq_).ok()) {
      registered_ = true;
    } else {
      seq_ = db->LastSeq();
    }
  }
  ~PinnedRead() {
    if (registered_) db_->ReleaseSnapshot(seq_);
  }
  PinnedRead(const PinnedRead&) = delete;
  PinnedRead& operator=(const PinnedRead&) = delete;
  uint64_t seq() const { return seq_; }

 private:
  firkin::DB* const db_;
  uint64_t seq_ = 0;
  bool registered_ = false;
};

// A per-key status that fails a whole multi-get: the namespace was
// dropped while it ran (every later key would say so too).
bool FailsMultiGet(firkin_status st) { return st == FIRKIN_E_NAMESPACE_NOT_FOUND; }

}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_put(firkin_db* db, const firkin_write_options* wo,
                                    const firkin_ns* ns, const void* key, size_t key_len,
                                    const void* val, size_t val_len) {
  return Guard([&] {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    if (firkin_status c = CheckValue(val, val_len)) return c;
    WriteOp op;
    op.kind = WriteOp::Kind::kPut;
    op.key = Bytes(key, key_len);
    op.value = Bytes(val, val_len);
    return WriteOne(db, wo, ns, op);
  });
}

FIRKIN_API firkin_status firkin_get(firkin_db* db, const firkin_snapshot* snap,
                                    const firkin_ns* ns, const void* key, size_t key_len,
                                    void** val, size_t* val_len) {
  return Guard([&] {
    if (val == nullptr || val_len == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "value out pointer is NULL");
    }
    *val = nullptr;
    *val_len = 0;
    const firkin_status st = ReadValueOne(db, snap, ns, key, key_len, [&](std::string_view v) {
      // (A read made again: the first copy goes. *val is NULL before the
      // new one is made, which may throw: until 2026-11-30 a copy out of
      // memory left the freed pointer in *val; inplace_test reread-oom.)
      firkin_free(*val);
      *val = nullptr;
      *val_len = 0;
      *val = CopyOut(v);
      *val_len = v.size();
      return FIRKIN_OK;
    });
    if (st != FIRKIN_OK) {  // (a read made again that failed: see ReadAt)
      firkin_free(*val);
      *val = nullptr;
      *val_len = 0;
    }
    return st;
  });
}

FIRKIN_API firkin_status firkin_get_into(firkin_db* db, const firkin_snapshot* snap,
                                         const firkin_ns* ns, const void* key, size_t key_len,
                                         void* buf, size_t cap, size_t* val_len) {
  return Guard([&] {
    if (val_len == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "length out pointer is NULL");
    if (firkin_status c = CheckBytes(buf, cap, "buffer")) return c;
    *val_len = 0;
    const firkin_status st = ReadValueOne(db, snap, ns, key, key_len, [&](std::string_view v) {
      *val_len = v.size();
      if (v.size() > cap) {
        return Fail(FIRKIN_E_BUFFER_TOO_SMALL, "value of " + std::to_string(v.size()) +
                                                   " bytes does not fit a buffer of " +
                                                   std::to_string(cap));
      }
      if (!v.empty()) std::memcpy(buf, v.data(), v.size());
      return FIRKIN_OK;
    });
    if (st != FIRKIN_OK && st != FIRKIN_E_BUFFER_TOO_SMALL) *val_len = 0;  // (see ReadAt)
    return st;
  });
}

FIRKIN_API firkin_status firkin_contains(firkin_db* db, const firkin_snapshot* snap,
                                         const firkin_ns* ns, const void* key, size_t key_len,
                                         bool* found) {
  return Guard([&] {
    if (found == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    *found = false;
    firkin_status s = ReadOne(db, snap, ns, key, key_len, [&](const RecordView&) {
      *found = true;
      return FIRKIN_OK;
    });
    if (s != FIRKIN_OK) *found = false;  // (a read made again that failed: see ReadAt)
    return s == FIRKIN_E_NOT_FOUND ? FIRKIN_OK : s;
  });
}

FIRKIN_API firkin_status firkin_get_version(firkin_db* db, const firkin_snapshot* snap,
                                            const firkin_ns* ns, const void* key,
                                            size_t key_len, uint64_t* version) {
  return Guard([&] {
    if (version == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    *version = 0;
    const firkin_status st = ReadOne(db, snap, ns, key, key_len, [&](const RecordView& r) {
      *version = r.seq;
      return FIRKIN_OK;
    });
    if (st != FIRKIN_OK) *version = 0;  // (a read made again that failed: see ReadAt)
    return st;
  });
}

FIRKIN_API firkin_status firkin_delete(firkin_db* db, const firkin_write_options* wo,
                                       const firkin_ns* ns, const void* key, size_t key_len) {
  return Guard([&] {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    WriteOp op;
    op.kind = WriteOp::Kind::kDelete;
    op.key = Bytes(key, key_len);
    return WriteOne(db, wo, ns, op);
  });
}

FIRKIN_API firkin_status firkin_put_if_absent(firkin_db* db, const firkin_write_options* wo,
                                              const firkin_ns* ns, const void* key,
                                              size_t key_len, const void* val,
                                              size_t val_len) {
  return Guard([&] {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    if (firkin_status c = CheckValue(val, val_len)) return c;
    WriteOp op;
    op.kind = WriteOp::Kind::kPut;
    op.cond = WriteOp::Cond::kIfAbsent;
    op.key = Bytes(key, key_len);
    op.value = Bytes(val, val_len);
    return WriteOne(db, wo, ns, op);
  });
}

FIRKIN_API firkin_status firkin_cas(firkin_db* db, const firkin_write_options* wo,
                                    const firkin_ns* ns, const void* key, size_t key_len,
                                    const void* expected, size_t expected_len, const void* val,
                                    size_t val_len) {
  return Guard([&] {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    if (firkin_status c = CheckValue(val, val_len)) return c;
    // The expected value is checked as a value, named as what it is (until
    // 2026-11-30 its errors said "value ...", as if val were wrong).
    if (expected_len > FIRKIN_MAX_VALUE_SIZE) {
      return Fail(FIRKIN_E_TOO_LARGE, "expected value of " + std::to_string(expected_len) +
                                          " bytes exceeds the limit of " +
                                          std::to_string(FIRKIN_MAX_VALUE_SIZE));
    }
    if (firkin_status c = CheckBytes(expected, expected_len, "expected value")) return c;
    WriteOp op;
    op.kind = WriteOp::Kind::kPut;
    op.cond = WriteOp::Cond::kValueEquals;
    op.key = Bytes(key, key_len);
    op.value = Bytes(val, val_len);
    op.expected = Bytes(expected, expected_len);
    return WriteOne(db, wo, ns, op);
  });
}

FIRKIN_API firkin_status firkin_cas_version(firkin_db* db, const firkin_write_options* wo,
                                            const firkin_ns* ns, const void* key,
                                            size_t key_len, uint64_t expected_version,
                                            const void* val, size_t val_len) {
  return Guard([&] {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    if (firkin_status c = CheckValue(val, val_len)) return c;
    WriteOp op;
    op.kind = WriteOp::Kind::kPut;
    op.cond = WriteOp::Cond::kVersionEquals;
    op.key = Bytes(key, key_len);
    op.value = Bytes(val, val_len);
    op.expected_version = expected_version;
    return WriteOne(db, wo, ns, op);
  });
}

FIRKIN_API firkin_status firkin_multi_get(firkin_db* db, const firkin_snapshot* snap,
                                          const firkin_ns* ns, size_t n,
                                          const void* const* keys, const size_t* key_lens,
                                          void** vals, size_t* val_lens,
                                          firkin_status* statuses) {
  const firkin_status st = GuardItems([&](ItemErrors* failed) {
    // Every out-array the caller gave is cleared before anything is
    // checked: a call that fails on any argument leaves vals[i] NULL, as
    // the header says (until 2026-11-28 a NULL db or a NULL statuses
    // array left the caller's vals as they were).
    for (size_t i = 0; i < n; i++) {
      if (vals != nullptr) vals[i] = nullptr;
      if (val_lens != nullptr) val_lens[i] = 0;
    }
    if (firkin_status c = CheckDb(db)) return c;
    if (n != 0 && (keys == nullptr || key_lens == nullptr || vals == nullptr ||
                   val_lens == nullptr || statuses == nullptr)) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "multi_get array argument is NULL");
    }
    Target t;
    if (firkin_status c = Bind(db, ns, snap, &t)) return c;
    // One snapshot so that every key is read at the same state.
    PinnedRead pin(db->db.get(), t.snap);
    t.snap = pin.seq();
    for (size_t i = 0; i < n; i++) {
      statuses[i] = ReadValueAt(db, t, keys[i], key_lens[i], [&](std::string_view v) {
        firkin_free(vals[i]);  // (a read made again; NULL before a copy that may throw)
        vals[i] = nullptr;
        val_lens[i] = 0;
        vals[i] = CopyOut(v);
        val_lens[i] = v.size();
        return FIRKIN_OK;
      });
      if (statuses[i] != FIRKIN_OK) {  // (a read made again that failed: see ReadAt)
        firkin_free(vals[i]);
        vals[i] = nullptr;
        val_lens[i] = 0;
      }
      if (FailsMultiGet(statuses[i])) {
        const std::string msg = LastErrorCStr();
        for (size_t j = 0; j <= i; j++) {
          firkin_free(vals[j]);
          vals[j] = nullptr;
          val_lens[j] = 0;
        }
        return Fail(statuses[i], msg);
      }
      // Its message goes into the call's (a later key's read replaces the
      // thread's, and the call's success would clear it).
      if (statuses[i] != FIRKIN_OK && statuses[i] != FIRKIN_E_NOT_FOUND) failed->Note(i);
    }
    return FIRKIN_OK;
  });
  // A call that failed leaves every vals[i] NULL, also when it failed by a
  // std::bad_alloc (a value's copy, a key's message, the messages' list
  // after the loop): until 2026-11-29 the values copied
  // before it stayed in vals, allocated, under FIRKIN_E_NO_MEMORY (leaked
  // by a caller that trusts the header; oom_test sweep_multi_get).
  if (st != FIRKIN_OK && vals != nullptr) {
    for (size_t i = 0; i < n; i++) {
      firkin_free(vals[i]);
      vals[i] = nullptr;
      if (val_lens != nullptr) val_lens[i] = 0;
    }
  }
  return st;
}

FIRKIN_API firkin_status firkin_multi_get_packed(firkin_db* db, const firkin_snapshot* snap,
                                                 const firkin_ns* ns, const void* keys,
                                                 size_t keys_len, void** out,
                                                 size_t* out_len) {
  return GuardItems([&](ItemErrors* failed) {
    if (out != nullptr) *out = nullptr;  // (before any check: see firkin_multi_get)
    if (out_len != nullptr) *out_len = 0;
    if (firkin_status c = CheckDb(db)) return c;
    if (out == nullptr || out_len == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    }
    if (firkin_status c = CheckBytes(keys, keys_len, "keys")) return c;
    Target t;
    if (firkin_status c = Bind(db, ns, snap, &t)) return c;
    PinnedRead pin(db->db.get(), t.snap);
    t.snap = pin.seq();
    const char* p = static_cast<const char*>(keys);
    const char* end = p + keys_len;
    std::string res;
    for (size_t i = 0; p < end; i++) {
      if (end - p < 4) return Fail(FIRKIN_E_INVALID_ARGUMENT, "packed keys: truncated length");
      uint32_t kl = firkin::DecodeU32(p);
      p += 4;
      if (static_cast<size_t>(end - p) < kl) {
        return Fail(FIRKIN_E_INVALID_ARGUMENT, "packed keys: key runs past the buffer");
      }
      size_t mark = res.size();
      res.resize(mark + 4);
      firkin_status st = ReadValueAt(db, t, p, kl, [&](std::string_view v) {
        res.resize(mark + 4);  // (a read made again)
        firkin::PutU32(&res, static_cast<uint32_t>(v.size()));
        res.append(v.data(), v.size());
        return FIRKIN_OK;
      });
      if (st != FIRKIN_OK) res.resize(mark + 4);  // (a read made again that failed: see ReadAt)
      if (FailsMultiGet(st)) return st;  // its message is already recorded
      if (st != FIRKIN_OK && st != FIRKIN_E_NOT_FOUND) failed->Note(i);
      firkin::EncodeU32(&res[mark], static_cast<uint32_t>(st));
      p += kl;
    }
    *out = CopyOut(res);
    *out_len = res.size();
    return FIRKIN_OK;
  });
}

}  // extern "C"
