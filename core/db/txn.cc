#include "core/db/txn.h"

#include <cstring>

#include "core/db/write_batch.h"
#include "core/util/epoch.h"

namespace firkin {

Status Txn::Begin(DB* db, Isolation iso, std::unique_ptr<Txn>* out) {
  if (db->read_only()) return Status::ReadOnly("database was opened read-only");
  uint64_t snap = 0;
  FIRKIN_RETURN_IF_ERROR(db->AcquireSnapshot(kLatestSeq, &snap));
  out->reset(new Txn(db, iso, snap));
  return Status::OK();
}

Txn::~Txn() { Finish(State::kRolledBack); }

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
    if (w->second.del) return Status::NotFound();
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
      thread_local std::string scratch;  // a compressed value is decoded here
      std::string_view v;
      s = db_->Value(r, &scratch, &v);
      if (s.ok()) value->assign(v.data(), v.size());
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
                std::string_view value) {
  FIRKIN_RETURN_IF_ERROR(CheckOpen());
  std::string mk = MapKey(ns->id, key);
  auto w = writes_.find(mk);
  const bool fresh = w == writes_.end();
  const size_t old_bytes = fresh ? 0 : w->second.value.size();
  if (value.size() > old_bytes) {
    FIRKIN_RETURN_IF_ERROR(Room(fresh ? key : std::string_view(), value.size() - old_bytes,
                                fresh && reads_.count(mk) == 0));
  }
  if (fresh) {
    w = writes_.emplace(std::move(mk), Write{ns, false, {}}).first;
    bytes_ += key.size();
  }
  bytes_ = bytes_ - old_bytes + value.size();
  w->second.del = false;
  w->second.value.assign(value.data(), value.size());
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
    if (!it->second.del) puts->emplace_back(key, it->second.value);
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

}  // namespace firkin
