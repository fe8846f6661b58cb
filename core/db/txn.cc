#include "core/db/txn.h"

#include <cstring>
#include <new>

#include "core/db/write_batch.h"
#include "core/util/epoch.h"
#include "core/util/per_thread.h"
#include "core/util/spin.h"

namespace firkin {

Status Txn::Begin(DB* db, Isolation iso, std::unique_ptr<Txn>* out) {
  if (db->read_only()) return Status::ReadOnly("database was opened read-only");
  uint64_t snap = 0;
  FIRKIN_RETURN_IF_ERROR(db->AcquireSnapshot(kLatestSeq, &snap));
  try {
    out->reset(new Txn(db, iso, snap, db->NowMs()));
  } catch (const std::bad_alloc&) {
    // (Until 2026-11-29's review the registration stayed behind, and with
    // it updates in place off for good.)
    db->ReleaseSnapshot(snap);
    throw;
  }
  db->RegisterTxn(out->get());  // (a throw: *out's destructor releases the snapshot)
  return Status::OK();
}

Txn::~Txn() {
  db_->UnregisterTxn(this);  // waits out a reaper looking at it
  Finish(State::kRolledBack);
}

bool Txn::TryEnter() {
  SpinWait spin;
  for (int round = 0;; round++) {
    uint8_t who = kFree;
    if (use_.compare_exchange_strong(who, kCall, std::memory_order_seq_cst)) return true;
    if (who == kCall) return false;  // another thread's call: the caller's kBusy
    // The reaper: it expires the transaction or finds it finished, and is
    // gone (a few microseconds, but it runs at a lowered priority, and may
    // be preempted meanwhile): spin a little, then sleep until it wakes us.
    if (round < 200) {
      spin.Once();
    } else {
      reaped_.Wait([this] { return use_.load(std::memory_order_seq_cst) != kReaper; });
    }
  }
}

bool Txn::ExpireIfOlder(uint64_t now_ms, uint64_t max_age_ms) {
  if (now_ms < begin_ms_ || now_ms - begin_ms_ < max_age_ms) return false;
  uint8_t who = kFree;
  if (!use_.compare_exchange_strong(who, kReaper, std::memory_order_seq_cst)) {
    return false;  // a call is using it: not abandoned (yet)
  }
  const bool expired = state_ == State::kOpen;
  if (expired) Finish(State::kExpired);
  use_.store(kFree, std::memory_order_seq_cst);
  // (The transaction is still here: its destructor unregisters it first,
  // which waits for the registry lock the caller, DB::ReapTxns, holds.)
  reaped_.Wake();
  return expired;
}

bool Txn::ExpiredWrite(const Write& w) const {
  return !w.del && w.expire_at_ms != 0 && w.expire_at_ms <= db_->NowMs();
}

void Txn::Finish(State s) {
  if (state_ == State::kOpen) state_ = s;
  writes_.clear();
  reads_.clear();
  iterated_.clear();
  bytes_ = 0;
  if (pinned_) {
    pinned_ = false;
    db_->ReleaseSnapshot(snap_);
  }
}

Status Txn::CheckOpen() const {
  switch (state_) {
    case State::kOpen:
      return Status::OK();
    case State::kCommitted:
      return Status::InvalidArgument("transaction was already committed");
    case State::kRolledBack:
      return Status::InvalidArgument("transaction was rolled back");
    case State::kFailed:
      return Status::InvalidArgument("transaction failed to commit (it is finished)");
    case State::kExpired:
      return Status::SnapshotTooOld(
          "transaction expired: it was open longer than txn_max_age_ms and its snapshot was "
          "released (it is finished)");
  }
  return Status::OK();
}

std::string Txn::MapKey(uint32_t ns_id, std::string_view key) {
  std::string k(sizeof ns_id + key.size(), '\0');
  std::memcpy(&k[0], &ns_id, sizeof ns_id);
  if (!key.empty()) std::memcpy(&k[sizeof ns_id], key.data(), key.size());
  return k;
}

Status Txn::Room(std::string_view key, size_t value_bytes, bool new_entry) const {
  if (new_entry && writes_.size() + reads_.size() >= kMaxOps) {
    return Status::TooLarge("transaction exceeds " + std::to_string(kMaxOps) +
                            " distinct keys read or written");
  }
  if (bytes_ + key.size() + value_bytes > kMaxBytes) {
    return Status::TooLarge("transaction exceeds " + std::to_string(kMaxBytes) +
                            " bytes of keys and values");
  }
  return Status::OK();
}

Status Txn::Get(const std::shared_ptr<NamespaceInfo>& ns, std::string_view key,
                std::string* value) {
  FIRKIN_RETURN_IF_ERROR(CheckOpen());
  const std::string mk = MapKey(ns->id, key);
  auto w = writes_.find(mk);
  if (w != writes_.end()) {
    if (w->second.del || ExpiredWrite(w->second)) return Status::NotFound();
    value->assign(w->second.value);
    return Status::OK();
  }
  const bool record = iso_ == Isolation::kSerializable && reads_.count(mk) == 0;
  if (record) FIRKIN_RETURN_IF_ERROR(Room(key, 0, true));
  Status s;
  {
    Epoch::Guard guard;
    RecordView r;
    s = db_->Get(snap_, *ns, key, &r);
    if (s.ok()) {
      // A compressed value is decoded here.
      std::string& scratch = PerThread<std::string, struct TxnValueTag>();
      std::string_view v;
      s = db_->Value(r, &scratch, &v);
      if (s.ok()) value->assign(v.data(), v.size());
      RecordCodec::ReleaseLarge(&scratch);
    }
  }
  if (!s.ok() && !s.IsNotFound()) return s;
  if (record) {
    reads_.emplace(mk, ns);
    bytes_ += key.size();
  }
  return s;
}

Status Txn::Put(const std::shared_ptr<NamespaceInfo>& ns, std::string_view key,
                std::string_view value, uint64_t ttl_ms, uint64_t expire_at_ms) {
  FIRKIN_RETURN_IF_ERROR(CheckOpen());
  std::string mk = MapKey(ns->id, key);
  auto w = writes_.find(mk);
  const bool fresh = w == writes_.end();
  const size_t old_bytes = fresh ? 0 : w->second.value.size();
  // A new key always counts (its key bytes and one more key), an empty
  // value too: until 2026-11-27 only a value longer than the one buffered
  // was checked, and puts of empty values grew a transaction past both
  // limits (found by review; txn_test "limits").
  if (fresh || value.size() > old_bytes) {
    FIRKIN_RETURN_IF_ERROR(Room(fresh ? key : std::string_view(),
                                value.size() > old_bytes ? value.size() - old_bytes : 0,
                                fresh && reads_.count(mk) == 0));
  }
  if (fresh) {
    w = writes_.emplace(std::move(mk), Write{ns, false, {}}).first;
    bytes_ += key.size();
  }
  bytes_ = bytes_ - old_bytes + value.size();
  w->second.del = false;
  w->second.value.assign(value.data(), value.size());
  w->second.ttl_ms = ttl_ms;
  w->second.expire_at_ms = expire_at_ms;
  return Status::OK();
}

Status Txn::Delete(const std::shared_ptr<NamespaceInfo>& ns, std::string_view key) {
  FIRKIN_RETURN_IF_ERROR(CheckOpen());
  std::string mk = MapKey(ns->id, key);
  auto w = writes_.find(mk);
  if (w == writes_.end()) {
    FIRKIN_RETURN_IF_ERROR(Room(key, 0, reads_.count(mk) == 0));
    writes_.emplace(std::move(mk), Write{ns, true, {}});
    bytes_ += key.size();
    return Status::OK();
  }
  bytes_ -= w->second.value.size();
  w->second.del = true;
  w->second.value.clear();
  return Status::OK();
}

Status Txn::IterateNs(const std::shared_ptr<NamespaceInfo>& ns, std::vector<std::string>* shadow,
                      std::vector<std::pair<std::string, std::string>>* puts) {
  FIRKIN_RETURN_IF_ERROR(CheckOpen());
  if (iso_ == Isolation::kSerializable) {
    db_->TrackWrites(ns.get());
    iterated_.emplace(ns->id, ns);
  }
  const std::string lo = MapKey(ns->id, {});
  for (auto it = writes_.lower_bound(lo); it != writes_.end(); ++it) {
    if (it->first.compare(0, lo.size(), lo) != 0) break;
    std::string key = it->first.substr(lo.size());
    if (!it->second.del && !ExpiredWrite(it->second)) puts->emplace_back(key, it->second.value);
    shadow->push_back(std::move(key));
  }
  return Status::OK();
}

Status Txn::Commit(SyncMode sync, uint64_t* seq) {
  FIRKIN_RETURN_IF_ERROR(CheckOpen());
  std::vector<WriteOp> ops;
  ops.reserve(writes_.size() + reads_.size() + iterated_.size());
  for (const auto& [mk, w] : writes_) {
    WriteOp op;
    op.kind = w.del ? WriteOp::Kind::kDelete : WriteOp::Kind::kPut;
    op.cond = WriteOp::Cond::kSeqAtMost;
    op.expected_version = snap_;
    op.ns = w.ns.get();
    op.key = std::string_view(mk).substr(sizeof(uint32_t));
    op.value = w.value;
    op.ttl_ms = w.ttl_ms;
    op.expire_at_ms = w.expire_at_ms;
    ops.push_back(op);
  }
  if (iso_ == Isolation::kSerializable) {
    for (const auto& [mk, ns] : reads_) {
      if (writes_.count(mk) != 0) continue;  // its write op checks it
      WriteOp op;
      op.kind = WriteOp::Kind::kCheck;
      op.cond = WriteOp::Cond::kSeqAtMost;
      op.expected_version = snap_;
      op.ns = ns.get();
      op.key = std::string_view(mk).substr(sizeof(uint32_t));
      ops.push_back(op);
    }
    for (const auto& [id, ns] : iterated_) {
      WriteOp op;
      op.kind = WriteOp::Kind::kCheckNs;
      op.expected_version = snap_;
      op.ns = ns.get();
      ops.push_back(op);
    }
  }
  uint64_t at = 0;
  Status s = ops.empty() ? Status::OK() : db_->Write(sync, ops.data(), ops.size(), true, &at);
  if (seq != nullptr) *seq = at != 0 ? at : snap_;
  Finish(s.ok() ? State::kCommitted : State::kFailed);
  return s;
}

void Txn::Rollback() { Finish(State::kRolledBack); }

void DB::RegisterTxn(Txn* t) {
  std::lock_guard<std::mutex> l(txn_mu_);
  txns_.insert(t);
}

void DB::UnregisterTxn(Txn* t) {
  std::lock_guard<std::mutex> l(txn_mu_);
  txns_.erase(t);
}

size_t DB::ReapTxns() const {
  if (options_.txn_max_age_ms == 0) return 0;
  const uint64_t now = NowMs();
  size_t n = 0;
  std::lock_guard<std::mutex> l(txn_mu_);
  for (Txn* t : txns_) n += t->ExpireIfOlder(now, options_.txn_max_age_ms);
  return n;
}

}  // namespace firkin
