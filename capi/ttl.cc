// TTL: puts that expire, the remaining time of a key, making a key
// persistent again, and the database clock that decides expiry.
#include <string>

#include "capi/internal.h"
#include "core/util/epoch.h"
#include "core/util/per_thread.h"

using namespace firkin::capi;
using firkin::RecordView;
using firkin::Status;
using firkin::WriteOp;

namespace {

firkin_status PutExpiring(firkin_db* db, const firkin_write_options* wo, const firkin_ns* ns,
                          const void* key, size_t key_len, const void* val, size_t val_len,
                          uint64_t ttl_ms, uint64_t expire_at_ms) {
  if (firkin_status c = CheckKey(key, key_len)) return c;
  if (firkin_status c = CheckValue(val, val_len)) return c;
  Target t;
  if (firkin_status c = Bind(db, ns, nullptr, &t)) return c;
  WriteOp op;
  op.kind = WriteOp::Kind::kPut;
  op.ns = const_cast<firkin::NamespaceInfo*>(t.ns);
  op.key = Bytes(key, key_len);
  op.value = Bytes(val, val_len);
  op.ttl_ms = ttl_ms;
  op.expire_at_ms = expire_at_ms;
  return Done(db->db->Write(WriteSync(wo), &op, 1, false));
}

}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_put_ttl(firkin_db* db, const firkin_write_options* wo,
                                        const firkin_ns* ns, const void* key, size_t key_len,
                                        const void* val, size_t val_len, uint64_t ttl_ms) {
  return Guard([&] {
    if (ttl_ms == 0) return Fail(FIRKIN_E_INVALID_ARGUMENT, "ttl_ms must be > 0");
    return PutExpiring(db, wo, ns, key, key_len, val, val_len, ttl_ms, 0);
  });
}

FIRKIN_API firkin_status firkin_put_expire_at(firkin_db* db, const firkin_write_options* wo,
                                              const firkin_ns* ns, const void* key,
                                              size_t key_len, const void* val, size_t val_len,
                                              uint64_t unix_ms) {
  return Guard([&] {
    if (unix_ms == 0) return Fail(FIRKIN_E_INVALID_ARGUMENT, "expiry time must be > 0");
    return PutExpiring(db, wo, ns, key, key_len, val, val_len, 0, unix_ms);
  });
}

FIRKIN_API firkin_status firkin_batch_put_ttl(firkin_batch* b, const firkin_ns* ns,
                                              const void* key, size_t key_len, const void* val,
                                              size_t val_len, uint64_t ttl_ms) {
  return Guard([&] {
    if (b == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "batch handle is NULL");
    if (ttl_ms == 0) return Fail(FIRKIN_E_INVALID_ARGUMENT, "ttl_ms must be > 0");
    if (firkin_status c = CheckKey(key, key_len)) return c;
    if (firkin_status c = CheckValue(val, val_len)) return c;
    std::shared_ptr<firkin::NamespaceInfo> info;
    if (firkin_status c = BindBatchNs(b, ns, &info)) return c;
    b->batch.PutTtl(std::move(info), Bytes(key, key_len), Bytes(val, val_len), ttl_ms);
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_ttl(firkin_db* db, const firkin_snapshot* snap,
                                    const firkin_ns* ns, const void* key, size_t key_len,
                                    uint64_t* remaining_ms) {
  return Guard([&] {
    if (remaining_ms == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    *remaining_ms = 0;
    if (firkin_status c = CheckKey(key, key_len)) return c;
    Target t;
    if (firkin_status c = Bind(db, ns, snap, &t)) return c;
    firkin::Epoch::Guard guard;
    RecordView r;
    Status s = db->db->Get(t.snap, *t.ns, Bytes(key, key_len), &r);
    if (!s.ok()) return Done(s);
    const uint64_t e = r.expiry();
    if (e == 0) {
      *remaining_ms = FIRKIN_TTL_NONE;
    } else {
      const uint64_t now = db->db->NowMs();
      *remaining_ms = e > now ? e - now : 0;  // Get found it live: e > now
    }
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_persist(firkin_db* db, const firkin_write_options* wo,
                                        const firkin_ns* ns, const void* key, size_t key_len) {
  return Guard([&] {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    Target t;
    if (firkin_status c = Bind(db, ns, nullptr, &t)) return c;
    // A write, whether or not there is anything to change (it answered OK
    // or NOT_FOUND on a read-only handle until 2026-11-28).
    if (db->db->read_only()) return Done(firkin::Status::ReadOnly("database is read-only"));
    // Read the live value, then write it again without an expiry if the key
    // still holds that version (a concurrent write wins: read again).
    for (int attempt = 0; attempt < 64; attempt++) {
      std::string value;
      uint64_t version = 0;
      {
        firkin::Epoch::Guard guard;
        RecordView r;
        Status s = db->db->Get(firkin::kLatestSeq, *t.ns, Bytes(key, key_len), &r);
        if (!s.ok()) return Done(s);
        // Already persistent: under `always`, once that is durable
        // (DB::SyncDecided: the version read lies below the published
        // length, an update in place's too).
        if (r.expiry() == 0) return Done(db->db->SyncDecided(WriteSync(wo)));
        std::string& scratch = firkin::PerThread<std::string, struct TtlValueTag>();
        std::string_view v;
        s = db->db->Value(r, &scratch, &v);
        if (s.ok()) value.assign(v);
        firkin::RecordCodec::ReleaseLarge(&scratch);
        if (!s.ok()) return Done(s);
        version = r.seq;
      }
      WriteOp op;
      op.kind = WriteOp::Kind::kPut;
      op.cond = WriteOp::Cond::kVersionEquals;
      op.expected_version = version;
      op.ns = const_cast<firkin::NamespaceInfo*>(t.ns);
      op.key = Bytes(key, key_len);
      op.value = value;
      Status s = db->db->Write(WriteSync(wo), &op, 1, false);
      if (s.code() != Status::Code::kConditionFailed) return Done(s);
    }
    return Fail(FIRKIN_E_CONFLICT, "the key kept changing while firkin_persist ran");
  });
}

FIRKIN_API firkin_status firkin_now_ms(firkin_db* db, uint64_t* out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckOut(out)) return c;
    *out = db->db->NowMs();
    return FIRKIN_OK;
  });
}

}  // extern "C"
