// firkin_batch and firkin_write.
#include "capi/internal.h"

using namespace firkin::capi;

namespace {
firkin_status NullBatch() { return Fail(FIRKIN_E_INVALID_ARGUMENT, "batch handle is NULL"); }
}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_batch_new(firkin_batch** out) {
  return Guard([&] {
    if (firkin_status c = CheckOut(out)) return c;
    *out = new firkin_batch();
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
    std::shared_ptr<firkin::NamespaceInfo> info;
    if (firkin_status c = BindBatchNs(b, ns, &info)) return c;
    b->batch.Put(std::move(info), Bytes(key, key_len), Bytes(val, val_len));
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_batch_delete(firkin_batch* b, const firkin_ns* ns,
                                             const void* key, size_t key_len) {
  return Guard([&] {
    if (b == nullptr) return NullBatch();
    if (firkin_status c = CheckKey(key, key_len)) return c;
    std::shared_ptr<firkin::NamespaceInfo> info;
    if (firkin_status c = BindBatchNs(b, ns, &info)) return c;
    b->batch.Delete(std::move(info), Bytes(key, key_len));
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_batch_clear(firkin_batch* b) {
  return Guard([&] {
    if (b == nullptr) return NullBatch();
    b->batch.Clear();
    b->bound = false;
    b->owner.reset();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_batch_count(const firkin_batch* b, size_t* out) {
  return Guard([&] {
    if (b == nullptr) return NullBatch();
    if (firkin_status c = CheckOut(out)) return c;
    *out = b->batch.Count();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_write(firkin_db* db, const firkin_write_options* wo,
                                      const firkin_batch* b) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (b == nullptr) return NullBatch();
    if (b->batch.ByteSize() > (1ull << 30)) {
      return Fail(FIRKIN_E_TOO_LARGE, "batch exceeds 1 GiB");
    }
    std::vector<firkin::WriteOp> ops;
    if (firkin_status c = BindBatch(db, b, &ops)) return c;
    return Done(db->db->Write(WriteSync(wo), ops.data(), ops.size(), true));
  });
}

}  // extern "C"
