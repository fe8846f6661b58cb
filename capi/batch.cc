// firkin_batch and firkin_write.
#include "capi/internal.h"

using namespace firkin::capi;

namespace {
firkin_status NullBatch() { return Fail(FIRKIN_E_INVALID_ARGUMENT, "batch handle is NULL"); }

// A namespace handle's info for a batch (NULL = the batch records "default",
// resolved against the database at write time).
std::shared_ptr<firkin::NamespaceInfo> BatchNs(const firkin_ns* ns) {
  return ns == nullptr ? nullptr : ns->info;
}
}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_batch_new(firkin_batch** out) {
  return Guard([&] {
    if (out == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    *out = new firkin_batch();
    ClearLastError();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_batch_free(firkin_batch* b) { delete b; }

FIRKIN_API firkin_status firkin_batch_put(firkin_batch* b, const firkin_ns* ns, const void* key,
                                          size_t key_len, const void* val, size_t val_len) {
  return Guard([&] {
    if (b == nullptr) return NullBatch();
    if (firkin_status c = CheckKey(key, key_len)) return c;
    if (firkin_status c = CheckValue(val, val_len)) return c;
    b->batch.Put(BatchNs(ns), Bytes(key, key_len), Bytes(val, val_len));
    ClearLastError();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_batch_delete(firkin_batch* b, const firkin_ns* ns,
                                             const void* key, size_t key_len) {
  return Guard([&] {
    if (b == nullptr) return NullBatch();
    if (firkin_status c = CheckKey(key, key_len)) return c;
    b->batch.Delete(BatchNs(ns), Bytes(key, key_len));
    ClearLastError();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_batch_clear(firkin_batch* b) {
  if (b == nullptr) return NullBatch();
  b->batch.Clear();
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API firkin_status firkin_batch_count(const firkin_batch* b, size_t* out) {
  if (b == nullptr) return NullBatch();
  if (out == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
  *out = b->batch.Count();
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API firkin_status firkin_write(firkin_db* db, const firkin_write_options* wo,
                                      const firkin_batch* b) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (b == nullptr) return NullBatch();
    if (b->batch.ByteSize() > (1ull << 30)) {
      return Fail(FIRKIN_E_TOO_LARGE, "batch exceeds 1 GiB");
    }
    std::vector<firkin::WriteOp> ops = b->batch.Ops();
    firkin::NamespaceInfo* def = db->db->namespaces().Default().get();
    for (firkin::WriteOp& op : ops) {
      if (op.ns == nullptr) op.ns = def;
    }
    return Done(db->db->Write(WriteSync(wo), ops.data(), ops.size(), true));
  });
}

}  // extern "C"
