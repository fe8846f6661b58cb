// Optimistic transactions (firkin_txn_*): the C face of firkin::Txn.
#include <cstring>
#include <string>

#include "capi/internal.h"
#include "capi/ordered_iter.h"

using namespace firkin::capi;

static_assert(FIRKIN_TXN_MAX_OPS == firkin::Txn::kMaxOps, "header and core agree");
static_assert(FIRKIN_TXN_MAX_BYTES == firkin::Txn::kMaxBytes, "header and core agree");
static_assert(FIRKIN_TXN_SNAPSHOT == static_cast<int>(firkin::Txn::Isolation::kSnapshot) &&
                  FIRKIN_TXN_SERIALIZABLE ==
                      static_cast<int>(firkin::Txn::Isolation::kSerializable),
              "isolation values agree");

namespace {

// Marks the handle in use for one call; a second thread calling at the
// same time gets FIRKIN_E_BUSY instead of corrupting the transaction. (The
// expiry of abandoned transactions, txn_max_age_ms, never does: a call
// waits for it, then gets FIRKIN_E_SNAPSHOT_TOO_OLD or goes on.)
class InUse {
 public:
  explicit InUse(firkin_txn* t) : t_(t) { ok_ = t_->txn->TryEnter(); }
  ~InUse() {
    if (ok_) t_->txn->Leave();
  }
  InUse(const InUse&) = delete;
  InUse& operator=(const InUse&) = delete;
  bool ok() const { return ok_; }

 private:
  firkin_txn* t_;
  bool ok_;
};

firkin_status Busy() {
  return Fail(FIRKIN_E_BUSY, "transaction handle is used by another thread at the same time");
}

// Checks the handle, that it is open and that ns (NULL = default) belongs
// to its database and is live; *info receives the namespace.
firkin_status BindTxn(firkin_txn* t, const firkin_ns* ns,
                      std::shared_ptr<firkin::NamespaceInfo>* info) {
  if (t == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "transaction handle is NULL");
  firkin::Status s = t->txn->CheckOpen();
  if (!s.ok()) return Fail(s);
  if (ns == nullptr) {
    *info = t->db->namespaces().Default();
    return FIRKIN_OK;
  }
  if (ns->db != t->db) {
    return Fail(FIRKIN_E_INVALID_ARGUMENT, "namespace handle belongs to another database");
  }
  if (ns->info->dropped.load(std::memory_order_acquire)) {
    return Fail(FIRKIN_E_NAMESPACE_NOT_FOUND, "namespace '" + ns->info->name + "' was dropped");
  }
  *info = ns->info;
  return FIRKIN_OK;
}

// Runs fn(info) with the handle checked and marked in use.
template <typename Fn>
firkin_status WithTxn(firkin_txn* t, const firkin_ns* ns, Fn&& fn) {
  return Guard([&] {
    if (t == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "transaction handle is NULL");
    InUse use(t);
    if (!use.ok()) return Busy();
    std::shared_ptr<firkin::NamespaceInfo> info;
    if (firkin_status c = BindTxn(t, ns, &info)) return c;
    return fn(info);
  });
}

template <typename Check, typename MakeRangeFn>
firkin_status TxnRangeIter(firkin_txn* txn, const firkin_ns* ns, firkin_iter** out,
                                  Check&& check, MakeRangeFn&& make_range) {
  if (out != nullptr) *out = nullptr;
  return WithTxn(txn, ns, [&](const std::shared_ptr<firkin::NamespaceInfo>& info) {
    if (firkin_status c = CheckOut(out)) return c;
    if (firkin_status c = check()) return c;
    // Refused before the namespace counts as iterated: a call that fails
    // must not leave a phantom check behind (until 2026-11-27 a range
    // iterator over an unordered namespace did, and the commit then
    // reported a false conflict).
    if (!info->is_ordered()) {
      return Done(firkin::Status::InvalidArgument(
          "namespace '" + info->name + "' is not ordered (create it with the ordered flag)"));
    }
    auto ov = std::make_unique<firkin::TxnOverlay>();
    std::vector<std::string> shadow;
    // Registers the namespace as iterated (serializable: phantom check).
    firkin::Status s = txn->txn->IterateNs(info, &shadow, &ov->puts);
    if (!s.ok()) return Done(s);
    for (std::string& k : shadow) ov->shadow.insert(std::move(k));
    return NewOrderedIter(txn->db, txn->txn->snapshot_seq(), info, make_range(), std::move(ov),
                          out);
  });
}

}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_txn_begin(firkin_db* db, firkin_isolation isolation,
                                          firkin_txn** out) {
  return Guard([&] {
    if (firkin_status c = CheckOut(out)) return c;
    *out = nullptr;
    if (firkin_status c = CheckDb(db)) return c;
    const int iso = EnumValue(isolation);
    if (iso != FIRKIN_TXN_SNAPSHOT && iso != FIRKIN_TXN_SERIALIZABLE) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "unknown isolation level " + std::to_string(iso));
    }
    auto t = std::make_unique<firkin_txn>();
    t->db = db->db;
    firkin::Status s = firkin::Txn::Begin(db->db.get(), static_cast<firkin::Txn::Isolation>(iso),
                                          &t->txn);
    if (!s.ok()) return Done(s);
    *out = t.release();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_txn_free(firkin_txn* txn) {
  if (txn == nullptr) return;
  txn->txn.reset();  // rolls back if still open, releases the snapshot
  delete txn;
}

FIRKIN_API uint64_t firkin_txn_snapshot_seq(const firkin_txn* txn) {
  return txn == nullptr ? 0 : txn->txn->snapshot_seq();
}

FIRKIN_API firkin_status firkin_txn_get(firkin_txn* txn, const firkin_ns* ns, const void* key,
                                        size_t key_len, void** val, size_t* val_len) {
  if (val != nullptr) *val = nullptr;
  if (val_len != nullptr) *val_len = 0;
  return WithTxn(txn, ns, [&](const std::shared_ptr<firkin::NamespaceInfo>& info) {
    if (val == nullptr || val_len == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "value out pointer is NULL");
    }
    if (firkin_status c = CheckKey(key, key_len)) return c;
    std::string v;
    firkin::Status s = txn->txn->Get(info, Bytes(key, key_len), &v);
    if (!s.ok()) return Done(s);
    *val = CopyOut(v);
    *val_len = v.size();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_txn_contains(firkin_txn* txn, const firkin_ns* ns,
                                             const void* key, size_t key_len, bool* found) {
  if (found != nullptr) *found = false;
  return WithTxn(txn, ns, [&](const std::shared_ptr<firkin::NamespaceInfo>& info) {
    if (found == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    if (firkin_status c = CheckKey(key, key_len)) return c;
    std::string v;
    firkin::Status s = txn->txn->Get(info, Bytes(key, key_len), &v);
    if (s.IsNotFound()) return FIRKIN_OK;
    if (!s.ok()) return Done(s);
    *found = true;
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_txn_put(firkin_txn* txn, const firkin_ns* ns, const void* key,
                                        size_t key_len, const void* val, size_t val_len) {
  return WithTxn(txn, ns, [&](const std::shared_ptr<firkin::NamespaceInfo>& info) {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    if (firkin_status c = CheckValue(val, val_len)) return c;
    return Done(txn->txn->Put(info, Bytes(key, key_len), Bytes(val, val_len)));
  });
}

FIRKIN_API firkin_status firkin_txn_put_ttl(firkin_txn* txn, const firkin_ns* ns,
                                            const void* key, size_t key_len, const void* val,
                                            size_t val_len, uint64_t ttl_ms) {
  return WithTxn(txn, ns, [&](const std::shared_ptr<firkin::NamespaceInfo>& info) {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    if (firkin_status c = CheckValue(val, val_len)) return c;
    if (ttl_ms == 0) return Fail(FIRKIN_E_INVALID_ARGUMENT, "ttl_ms must be > 0");
    return Done(txn->txn->Put(info, Bytes(key, key_len), Bytes(val, val_len), ttl_ms, 0));
  });
}

FIRKIN_API firkin_status firkin_txn_put_expire_at(firkin_txn* txn, const firkin_ns* ns,
                                                  const void* key, size_t key_len,
                                                  const void* val, size_t val_len,
                                                  uint64_t unix_ms) {
  return WithTxn(txn, ns, [&](const std::shared_ptr<firkin::NamespaceInfo>& info) {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    if (firkin_status c = CheckValue(val, val_len)) return c;
    if (unix_ms == 0) return Fail(FIRKIN_E_INVALID_ARGUMENT, "expiry time must be > 0");
    return Done(txn->txn->Put(info, Bytes(key, key_len), Bytes(val, val_len), 0, unix_ms));
  });
}

FIRKIN_API firkin_status firkin_txn_delete(firkin_txn* txn, const firkin_ns* ns,
                                           const void* key, size_t key_len) {
  return WithTxn(txn, ns, [&](const std::shared_ptr<firkin::NamespaceInfo>& info) {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    return Done(txn->txn->Delete(info, Bytes(key, key_len)));
  });
}

FIRKIN_API firkin_status firkin_txn_cas(firkin_txn* txn, const firkin_ns* ns, const void* key,
                                        size_t key_len, const void* expected,
                                        size_t expected_len, const void* val, size_t val_len) {
  return WithTxn(txn, ns, [&](const std::shared_ptr<firkin::NamespaceInfo>& info) {
    if (firkin_status c = CheckKey(key, key_len)) return c;
    if (firkin_status c = CheckBytes(expected, expected_len, "expected value")) return c;
    if (firkin_status c = CheckValue(val, val_len)) return c;
    std::string cur;
    firkin::Status s = txn->txn->Get(info, Bytes(key, key_len), &cur);
    if (s.IsNotFound()) return Fail(FIRKIN_E_CONDITION_FAILED, "key does not exist");
    if (!s.ok()) return Done(s);
    if (cur != Bytes(expected, expected_len)) {
      return Fail(FIRKIN_E_CONDITION_FAILED, "current value differs");
    }
    return Done(txn->txn->Put(info, Bytes(key, key_len), Bytes(val, val_len)));
  });
}

FIRKIN_API firkin_status firkin_txn_iter_new(firkin_txn* txn, const firkin_ns* ns,
                                             firkin_iter** out) {
  if (out != nullptr) *out = nullptr;
  return WithTxn(txn, ns, [&](const std::shared_ptr<firkin::NamespaceInfo>& info) {
    if (firkin_status c = CheckOut(out)) return c;
    auto ov = std::make_unique<firkin_txn_overlay>();
    std::vector<std::string> shadow;
    firkin::Status s = txn->txn->IterateNs(info, &shadow, &ov->puts);
    if (!s.ok()) return Done(s);
    for (std::string& k : shadow) ov->shadow.insert(std::move(k));
    // The iterator registers the transaction's snapshot again, so that it
    // may outlive the transaction.
    auto it = std::make_unique<firkin_iter>();
    it->db = txn->db;
    s = txn->db->AcquireSnapshot(txn->txn->snapshot_seq(), &it->snap);
    if (!s.ok()) return Done(s);
    it->registered = true;  // (released by its destructor, on any way out)
    s = txn->db->NewIterator(it->snap, info, &it->it);
    if (!s.ok()) return Done(s);
    it->overlay = std::move(ov);
    it->SkipShadowed();
    *out = it.release();
    return FIRKIN_OK;
  });
}

// ---- ordered namespaces (issue 12): a transaction's range iterators ----
FIRKIN_API firkin_status firkin_txn_range_iter_new(firkin_txn* txn, const firkin_ns* ns,
                                                   const void* start, size_t start_len,
                                                   const void* end, size_t end_len,
                                                   uint32_t flags, firkin_iter** out) {
  return TxnRangeIter(
      txn, ns, out, [&] { return CheckRangeArgs(start, start_len, end, end_len, flags); },
      [&] { return MakeRange(start, start_len, end, end_len, flags); });
}

FIRKIN_API firkin_status firkin_txn_prefix_iter_new(firkin_txn* txn, const firkin_ns* ns,
                                                    const void* prefix, size_t prefix_len,
                                                    uint32_t flags, firkin_iter** out) {
  return TxnRangeIter(
      txn, ns, out, [&] { return CheckRangeArgs(prefix, prefix_len, nullptr, 0, flags); },
      [&] {
        return firkin::OrderedRange::Prefix(Bytes(prefix, prefix_len),
                                            (flags & FIRKIN_ITER_REVERSE) != 0);
      });
}

FIRKIN_API firkin_status firkin_txn_commit(firkin_txn* txn, const firkin_write_options* wo,
                                           uint64_t* commit_seq) {
  if (commit_seq != nullptr) *commit_seq = 0;
  return WithTxn(txn, nullptr, [&](const std::shared_ptr<firkin::NamespaceInfo>&) {
    uint64_t seq = 0;
    firkin::Status s = txn->txn->Commit(WriteSync(wo), &seq);
    if (!s.ok()) return Done(s);
    if (commit_seq != nullptr) *commit_seq = seq;
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_txn_rollback(firkin_txn* txn) {
  return Guard([&] {
    if (txn == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "transaction handle is NULL");
    InUse use(txn);
    if (!use.ok()) return Busy();
    firkin::Status s = txn->txn->CheckOpen();
    if (!s.ok()) return Fail(s);
    txn->txn->Rollback();
    return FIRKIN_OK;
  });
}

}  // extern "C"
