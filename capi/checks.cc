// The bridge's one validation layer (see internal.h): argument checks, and
// the checks that the namespace, snapshot and batch handles a call is given
// belong to the database it is made on.
#include <string>

#include "capi/internal.h"

namespace firkin::capi {

firkin_status FailForeign(const char* what) {
  return Fail(FIRKIN_E_INVALID_ARGUMENT, std::string(what) + " belongs to another database");
}

firkin_status FailDropped(const NamespaceInfo& info) {
  return Fail(FIRKIN_E_NAMESPACE_NOT_FOUND, "namespace '" + info.name + "' was dropped");
}

firkin_status FailBytes(const char* what, size_t len) {
  return Fail(FIRKIN_E_INVALID_ARGUMENT,
              std::string(what) + " is NULL with length " + std::to_string(len));
}

firkin_status FailKey(const void* key, size_t len) {
  if (len == 0) return Fail(FIRKIN_E_INVALID_ARGUMENT, "key is empty");
  if (len > FIRKIN_MAX_KEY_SIZE) {
    return Fail(FIRKIN_E_TOO_LARGE, "key of " + std::to_string(len) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(FIRKIN_MAX_KEY_SIZE));
  }
  if (key == nullptr) return FailBytes("key", len);
  return FIRKIN_OK;
}

firkin_status FailValue(const void* val, size_t len) {
  if (len > FIRKIN_MAX_VALUE_SIZE) {
    return Fail(FIRKIN_E_TOO_LARGE, "value of " + std::to_string(len) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(FIRKIN_MAX_VALUE_SIZE));
  }
  if (val == nullptr && len != 0) return FailBytes("value", len);
  return FIRKIN_OK;
}

firkin_status FailNullDb() {
  return Fail(FIRKIN_E_INVALID_ARGUMENT, "database handle is NULL");
}

firkin_status FailNullOut() { return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL"); }

firkin_status BindBatchNs(firkin_batch* b, const firkin_ns* ns,
                          std::shared_ptr<NamespaceInfo>* out) {
  if (ns == nullptr) {
    out->reset();
    return FIRKIN_OK;
  }
  if (b->bound && b->owner.lock() != ns->db) {
    return Fail(FIRKIN_E_INVALID_ARGUMENT,
                "namespace handle belongs to another database than the batch's other "
                "namespaces");
  }
  if (!b->bound) {
    b->owner = ns->db;
    b->bound = true;
  }
  *out = ns->info;
  return FIRKIN_OK;
}

firkin_status BindBatch(const firkin_db* db, const firkin_batch* b, std::vector<WriteOp>* ops) {
  if (firkin_status c = CheckDb(db)) return c;
  if (b == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "batch handle is NULL");
  // An expired owner is a closed database: not this one either.
  if (b->bound && b->owner.lock() != db->db) return FailForeign("a namespace of the batch");
  *ops = b->batch.Ops();
  NamespaceInfo* def = db->db->namespaces().Default().get();
  for (WriteOp& op : *ops) {
    if (op.ns == nullptr) {
      op.ns = def;
    } else if (op.ns->dropped.load(std::memory_order_acquire)) {
      return FailDropped(*op.ns);
    }
  }
  return FIRKIN_OK;
}

SyncMode WriteSync(const firkin_write_options* wo) {
  return wo == nullptr ? SyncMode::kDefault : wo->sync;
}

}  // namespace firkin::capi
