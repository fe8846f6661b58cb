// The write path (DESIGN §3): a LevelDB-style writer queue. The writer at
// the front is the leader: it takes the queued writers as one group, and
// for each checks its conditions, assigns its sequence number, appends its
// records to the active segment and points the index at them; then it makes
// the group durable with one sync if any member asked for it (group
// commit), publishes the new sequence number, and wakes every member with
// its own status. Only the leader touches the log and the index, so
// sequence numbers are contiguous and conditions are race-free.
#include <chrono>
#include <thread>
#include <unordered_set>

#include "core/compact/compactor.h"
#include "core/db/db.h"
#include "core/util/epoch.h"

namespace firkin {

namespace {

constexpr size_t kMaxGroupWriters = 256;
constexpr int kSpinRounds = 4000;  // about 10-40 us of pause instructions

// Status for a condition failure, naming what failed.
Status ConditionFailed(std::string what) { return Status::ConditionFailed(std::move(what)); }

}  // namespace

Status DB::Write(SyncMode sync, const WriteOp* ops, size_t n, bool atomic) {
  if (options_.read_only) return Status::ReadOnly("database was opened read-only");
  if (n == 0) return Status::OK();
  Writer w;
  w.ops = ops;
  w.n = n;
  w.atomic = atomic;
  w.sync = sync == SyncMode::kDefault ? options_.sync_mode : sync;
  if (w.sync == SyncMode::kInterval && options_.sync_mode != SyncMode::kInterval) StartFlusher();
  return QueueWrite(&w);
}

Status DB::CreateNamespace(const std::string& name, bool exist_ok,
                           std::shared_ptr<NamespaceInfo>* out) {
  FIRKIN_RETURN_IF_ERROR(NamespaceTable::ValidateName(name));
  if (auto existing = ns_.Find(name)) {
    if (!exist_ok) return Status::Exists("namespace '" + name + "' already exists");
    *out = existing;
    return Status::OK();
  }
  if (options_.read_only) return Status::ReadOnly("database was opened read-only");
  WriteOp op;
  op.kind = WriteOp::Kind::kNsCreate;
  op.key = name;
  op.exist_ok = exist_ok;
  Writer w;
  w.ops = &op;
  w.n = 1;
  w.sync = options_.sync_mode;
  w.ns_out = out;
  return QueueWrite(&w);
}

Status DB::DropNamespace(const std::string& name) {
  FIRKIN_RETURN_IF_ERROR(NamespaceTable::ValidateName(name));
  if (name == NamespaceTable::kDefaultName) {
    return Status::InvalidArgument("the default namespace cannot be dropped");
  }
  if (options_.read_only) return Status::ReadOnly("database was opened read-only");
  WriteOp op;
  op.kind = WriteOp::Kind::kNsDrop;
  op.key = name;
  Writer w;
  w.ops = &op;
  w.n = 1;
  w.sync = options_.sync_mode;
  return QueueWrite(&w);
}

Status DB::QueueWrite(Writer* w) {
  std::unique_lock<std::mutex> l(mu_);
  writers_.push_back(w);
  if (w != writers_.front()) {
    // A group without a sync takes a few microseconds: spin briefly before
    // sleeping, so that a follower is not put to sleep and woken (two
    // system calls) for every write when threads write at the same time.
    l.unlock();
    for (int i = 0; i < kSpinRounds && !w->ready.load(std::memory_order_acquire); i++) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    l.lock();
  }
  while (!w->done && w != writers_.front()) w->cv.wait(l);
  if (w->done) return w->status;

  // This thread leads a group: the front writers, in queue order.
  std::vector<Writer*>& group = leader_group_;  // leader-only scratch
  group.clear();
  for (Writer* x : writers_) {
    group.push_back(x);
    if (group.size() >= kMaxGroupWriters) break;
  }
  l.unlock();

  bool need_sync = false;
  {
    Epoch::Guard guard;  // the leader reads records through the index
    for (size_t i = 0; i < group.size(); i++) {
      Writer* x = group[i];
      x->status = ApplyWriter(x);
      if (x->status.ok() && x->sync == SyncMode::kAlways) need_sync = true;
    }
  }
#ifdef FIRKIN_PLANTED_BUG_ACK_BEFORE_SYNC
  // Planted bug: acknowledge first, sync later (after the members woke).
  const bool late_sync = need_sync;
  need_sync = false;
#endif
  if (need_sync) {
    Status s = log_->Sync(/*writer=*/true);
    if (!s.ok()) {
      // No false acknowledgment: every member whose records were not made
      // durable learns of the failure.
      for (Writer* x : group)
        if (x->status.ok()) x->status = s;
    }
  }
  log_->Publish();
  published_seq_.store(last_seq_, std::memory_order_release);
  write_groups_.fetch_add(1, std::memory_order_relaxed);

  l.lock();
  for (Writer* x : group) {
    writers_.pop_front();
    if (x != w) {
      x->done = true;
      x->ready.store(true, std::memory_order_release);
      x->cv.notify_one();
    }
  }
  if (!writers_.empty()) {
    writers_.front()->ready.store(true, std::memory_order_release);
    writers_.front()->cv.notify_one();
  }
#ifdef FIRKIN_PLANTED_BUG_ACK_BEFORE_SYNC
  if (late_sync) {
    l.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    log_->Sync(/*writer=*/true);  // races the next leader: part of the bug
  }
#endif
  return w->status;
}

Status DB::AppendRecords(const std::vector<RecordFields>& recs, std::vector<Locator>* locs) {
  uint64_t total = 0;
  for (const RecordFields& r : recs) total += RecordSize(r.key.size(), r.value.size());
  Segment* seg = nullptr;
  uint64_t off = 0;
  FIRKIN_RETURN_IF_ERROR(log_->Reserve(total, &seg, &off));
  char* base = seg->mutable_data();
  uint64_t pos = off;
  locs->clear();
  for (const RecordFields& r : recs) {
    locs->push_back(MakeLocator(seg->slot(), pos));
    pos += EncodeRecord(r, base + pos);
  }
  log_->Advance(total);
  if (!recs.empty()) seg->NoteSeq(recs.front().seq);
  bytes_written_.fetch_add(total, std::memory_order_relaxed);
  return Status::OK();
}

Status DB::ApplyRelocations(const Relocation* moves, size_t n, uint64_t* failed) {
  Writer w;
  w.relocs = moves;
  w.relocs_n = n;
  w.relocs_failed = failed;
  w.sync = SyncMode::kNone;
  return QueueWrite(&w);
}

Status DB::RunExclusive(const std::function<Status()>& fn) {
  if (log_ == nullptr) return fn();
  Writer w;
  w.exclusive = &fn;
  w.sync = SyncMode::kNone;
  return QueueWrite(&w);
}

Status DB::ApplyWriter(Writer* w) {
  if (w->exclusive != nullptr) return (*w->exclusive)();
  if (w->relocs != nullptr) {
    *w->relocs_failed = 0;
    for (size_t i = 0; i < w->relocs_n; i++) {
      const Relocation& m = w->relocs[i];
      if (keyspace_->index().ReplaceIf(m.hash, m.from, m.to)) {
        keyspace_->CountDead(m.from, m.size);
        if (m.to != 0) {
          if (Segment* s = keyspace_->segments().BySlot(LocatorSlot(m.to))) {
            s->live_bytes.fetch_add(m.size, std::memory_order_relaxed);
          }
        }
      } else {
        ++*w->relocs_failed;
        if (m.to != 0) {
          if (Segment* s = keyspace_->segments().BySlot(LocatorSlot(m.to))) {
            s->dead_bytes.fetch_add(m.size, std::memory_order_relaxed);
          }
        }
      }
    }
    return Status::OK();
  }
  if (w->n == 0) return log_->sticky_error();  // a sync request
  FIRKIN_RETURN_IF_ERROR(log_->sticky_error());
  const WriteOp& first = w->ops[0];
  if (first.kind == WriteOp::Kind::kNsCreate || first.kind == WriteOp::Kind::kNsDrop) {
    return ApplyNamespaceOp(w);
  }

  // Resolve each op against the newest state (including earlier writers of
  // this group): its previous version, and its condition.
  std::vector<PendingOp>& todo = scratch_todo_;  // leader-only scratch
  todo.clear();
  std::unordered_set<std::string> seen;  // batch: later ops on a key win
  for (size_t i = w->n; i-- > 0;) {
    const WriteOp& op = w->ops[i];
    if (op.ns == nullptr || op.ns->dropped.load(std::memory_order_acquire)) {
      return Status::NamespaceNotFound("namespace '" + (op.ns ? op.ns->name : std::string("?")) +
                                       "' was dropped");
    }
    if (w->n > 1) {
      std::string k(reinterpret_cast<const char*>(&op.ns->id), sizeof(op.ns->id));
      k.append(op.key.data(), op.key.size());
      if (!seen.insert(std::move(k)).second) continue;
    }
    PendingOp p{&op, keyspace_->Hash(op.ns->id, op.key), 0, {}};
    p.old_loc = keyspace_->FindNewest(p.hash, op.ns->id, op.key, &p.old);
    const bool exists = p.old_loc != 0 && p.old.type == RecordType::kPut;
    switch (op.cond) {
      case WriteOp::Cond::kNone:
        break;
      case WriteOp::Cond::kIfAbsent:
        if (exists) return ConditionFailed("key already exists");
        break;
      case WriteOp::Cond::kValueEquals:
        if (!exists) return ConditionFailed("key does not exist");
        if (p.old.value() != op.expected) return ConditionFailed("current value differs");
        break;
      case WriteOp::Cond::kVersionEquals: {
        uint64_t cur = exists ? p.old.seq : 0;
        if (cur != op.expected_version) {
          return ConditionFailed("current version is " + std::to_string(cur) + ", expected " +
                                 std::to_string(op.expected_version));
        }
        break;
      }
    }
    if (op.kind == WriteOp::Kind::kDelete && !exists) continue;  // nothing to delete
    todo.push_back(p);
  }
  if (todo.empty()) return Status::OK();

  const uint64_t seq = last_seq_ + 1;
  const bool batch = todo.size() > 1;
  std::vector<RecordFields>& recs = scratch_recs_;
  recs.clear();
  for (auto it = todo.rbegin(); it != todo.rend(); ++it) {  // back to queue order
    const WriteOp& op = *it->op;
    uint64_t prev = 0;
    if (it->old_loc != 0) {
      Segment* s = keyspace_->segments().BySlot(LocatorSlot(it->old_loc));
      prev = MakeDiskAddr(s->id(), LocatorOffset(it->old_loc));
    }
    recs.push_back(RecordFields{seq, prev, op.ns->id,
                                op.kind == WriteOp::Kind::kPut ? RecordType::kPut
                                                               : RecordType::kDelete,
                                static_cast<uint8_t>(batch ? kRecordFlagBatch : 0), op.key,
                                op.kind == WriteOp::Kind::kPut ? op.value : std::string_view()});
  }
  char count_buf[4];
  if (batch) {
    EncodeU32(count_buf, static_cast<uint32_t>(todo.size()));
    recs.push_back(RecordFields{seq, 0, 0, RecordType::kCommit, 0, {},
                                std::string_view(count_buf, 4)});
  }
  std::vector<Locator>& locs = scratch_locs_;
  FIRKIN_RETURN_IF_ERROR(AppendRecords(recs, &locs));
  last_seq_ = seq;

  size_t i = 0;
  for (auto it = todo.rbegin(); it != todo.rend(); ++it, ++i) {
    const WriteOp& op = *it->op;
    const bool was_live = it->old_loc != 0 && it->old.type == RecordType::kPut;
    const bool is_live = op.kind == WriteOp::Kind::kPut;
    keyspace_->Install(it->hash, it->old_loc, it->old_loc ? it->old.size() : 0, locs[i],
                       RecordSize(recs[i].key.size(), recs[i].value.size()));
    if (is_live && !was_live) op.ns->live_keys.fetch_add(1, std::memory_order_relaxed);
    if (!is_live && was_live) op.ns->live_keys.fetch_sub(1, std::memory_order_relaxed);
  }
  if (batch) {  // the commit marker carries no data: dead from the start
    Segment* s = keyspace_->segments().BySlot(LocatorSlot(locs.back()));
    s->dead_bytes.fetch_add(RecordSize(0, 4), std::memory_order_relaxed);
  }
  writes_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

Status DB::ApplyNamespaceOp(Writer* w) {
  const WriteOp& op = w->ops[0];
  const std::string name(op.key);
  auto existing = ns_.Find(name);
  if (op.kind == WriteOp::Kind::kNsCreate) {
    if (existing) {
      if (!op.exist_ok) return Status::Exists("namespace '" + name + "' already exists");
      *w->ns_out = existing;
      return Status::OK();
    }
    const uint32_t id = ns_.next_id();
    const uint64_t seq = last_seq_ + 1;
    std::vector<Locator> locs;
    FIRKIN_RETURN_IF_ERROR(
        AppendRecords({RecordFields{seq, 0, id, RecordType::kNsCreate, 0, name, {}}}, &locs));
    last_seq_ = seq;
      keyspace_->segments().BySlot(LocatorSlot(locs[0]))->live_bytes +=
        RecordSize(name.size(), 0);
    *w->ns_out = ns_.Create(id, name);
    return Status::OK();
  }
  if (!existing) return Status::NamespaceNotFound("namespace '" + name + "' does not exist");
  const uint64_t seq = last_seq_ + 1;
  std::vector<Locator> locs;
  FIRKIN_RETURN_IF_ERROR(AppendRecords(
      {RecordFields{seq, 0, existing->id, RecordType::kNsDrop, 0, name, {}}}, &locs));
  last_seq_ = seq;
  keyspace_->segments().BySlot(LocatorSlot(locs[0]))->live_bytes += RecordSize(name.size(), 0);
  ns_.Drop(existing->id);
  PurgeNamespace(existing->id);
  return Status::OK();
}

void DB::PurgeNamespace(uint32_t ns_id) {
  keyspace_->PurgeIf([ns_id](const RecordView& r) { return r.ns_id == ns_id; });
}

}  // namespace firkin
