// Time travel by clock time: firkin_snapshot_at_time, and the version
// history of one key (firkin_history_*).
#include <cstdint>
#include <string>
#include <vector>

#include "capi/internal.h"

using namespace firkin::capi;

// A key's versions, newest first, copied when the iterator is made (a
// history is short next to a scan; the copy keeps nothing pinned). A
// compressed value is copied as stored and decoded when asked for, into
// `decoded` (one at a time: the versions of a large compressible value
// would otherwise take their decoded size each).
// Thread contract: one thread at a time per handle (firkin.h); it keeps its
// database alive.
struct firkin_history {
  std::shared_ptr<firkin::DB> db;
  std::vector<firkin::DB::Version> versions;
  size_t pos = 0;
  bool truncated = false;
  // The value of versions[decoded_pos], decoded (firkin_history_value).
  mutable std::string decoded;
  mutable size_t decoded_pos = SIZE_MAX;
};

namespace {
const firkin::DB::Version* Cur(const firkin_history* h) {
  return h != nullptr && h->pos < h->versions.size() ? &h->versions[h->pos] : nullptr;
}
}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_snapshot_at_time(firkin_db* db, uint64_t unix_ms,
                                                 firkin_snapshot** out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckOut(out)) return c;
    *out = nullptr;
    // The lookup and the registration are two steps: compaction may take
    // the log between them, but a snapshot's reads then fail with
    // SNAPSHOT_TOO_OLD through the broken version chains, never a wrong value.
    uint64_t seq = 0;
    firkin::Status s = db->db->SeqAtTime(unix_ms, &seq);
    if (!s.ok()) return Done(s);
    return NewSnapshot(db, seq, out);
  });
}

FIRKIN_API firkin_status firkin_history_new(firkin_db* db, const firkin_ns* ns, const void* key,
                                            size_t key_len, firkin_history** out) {
  return Guard([&] {
    if (firkin_status c = CheckOut(out)) return c;
    *out = nullptr;
    if (firkin_status c = CheckKey(key, key_len)) return c;
    Target t;
    if (firkin_status c = Bind(db, ns, nullptr, &t)) return c;
    auto h = std::make_unique<firkin_history>();
    h->db = db->db;
    firkin::Status s =
        db->db->History(*t.ns, Bytes(key, key_len), &h->versions, &h->truncated);
    if (!s.ok()) return Done(s);
    *out = h.release();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_history_free(firkin_history* h) { delete h; }

FIRKIN_API bool firkin_history_valid(const firkin_history* h) { return Cur(h) != nullptr; }

FIRKIN_API void firkin_history_next(firkin_history* h) {
  if (Cur(h) != nullptr) h->pos++;
}

FIRKIN_API uint64_t firkin_history_seq(const firkin_history* h) {
  return Cur(h) ? Cur(h)->seq : 0;
}

FIRKIN_API uint64_t firkin_history_time(const firkin_history* h) {
  return Cur(h) ? Cur(h)->time_ms : 0;
}

FIRKIN_API uint64_t firkin_history_expiry(const firkin_history* h) {
  return Cur(h) ? Cur(h)->expiry_ms : 0;
}

FIRKIN_API bool firkin_history_is_delete(const firkin_history* h) {
  return Cur(h) ? Cur(h)->is_delete : false;
}

FIRKIN_API firkin_status firkin_history_value(const firkin_history* h, const void** val,
                                              size_t* val_len) {
  return Guard([&] {
    if (val == nullptr || val_len == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "value out pointer is NULL");
    }
    *val = nullptr;
    *val_len = 0;
    if (h == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "history handle is NULL");
    const firkin::DB::Version* v = Cur(h);
    if (v == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "history iterator is not valid");
    if (v->codec == 0) {
      *val = v->value.data();
      *val_len = v->value.size();
      return FIRKIN_OK;
    }
    // Compressed (checked to decode when the history was made).
    if (h->decoded_pos != h->pos) {
      h->decoded_pos = SIZE_MAX;
      std::string_view d;
      firkin::Status s =
          firkin::RecordCodec::DecodeStored(v->codec, v->seq, v->value, &h->decoded, &d);
      if (!s.ok()) return Done(s);
      h->decoded_pos = h->pos;
    }
    *val = h->decoded.data();
    *val_len = h->decoded.size();
    return FIRKIN_OK;
  });
}

FIRKIN_API bool firkin_history_truncated(const firkin_history* h) {
  return h != nullptr && h->truncated;
}

}  // extern "C"
