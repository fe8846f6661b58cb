#include "core/keyspace/namespaces.h"

namespace firkin {

NamespaceTable::NamespaceTable() {
  default_ = std::make_shared<NamespaceInfo>(0, kDefaultName);
  by_name_[kDefaultName] = default_;
  by_id_[0] = default_;
}

Status NamespaceTable::ValidateName(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return Status::InvalidArgument("namespace name must be 1..128 bytes, got " +
                                   std::to_string(name.size()));
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("namespace name '" + std::string(name) +
                                     "' has a character outside [A-Za-z0-9_.-]");
    }
  }
  return Status::OK();
}

std::shared_ptr<NamespaceInfo> NamespaceTable::Find(std::string_view name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<NamespaceInfo>> NamespaceTable::List() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::shared_ptr<NamespaceInfo>> out;
  for (auto& [name, info] : by_name_) out.push_back(info);
  return out;
}

std::shared_ptr<NamespaceInfo> NamespaceTable::Create(uint32_t id, const std::string& name,
                                                     uint32_t flags, OrderedIndex* ordered) {
  std::lock_guard<std::mutex> l(mu_);
  RaiseNextId(id);
  std::shared_ptr<NamespaceInfo> cur;
  if (auto st = staged_.find(id); st != staged_.end()) {
    cur = st->second;
  } else if (auto at = by_id_.find(id); at != by_id_.end()) {
    cur = at->second;
  }
  if (cur != nullptr && cur->name == name) {
    return cur;  // replayed again (checkpoint, compaction output): keep its counts
  }
  auto info = std::make_shared<NamespaceInfo>(id, name, flags);
  info->ordered = ordered;
  if (cur != nullptr && cur->name.empty()) {
    // A placeholder made by recovery for keys met before this record, or
    // for its drop record met first: every count of those keys comes
    // along (until 2026-11-28 only live_keys did: the TTL count and the
    // expiry bound stayed empty, so firkin_count took its O(1) path and
    // counted expired keys).
    const NamespaceInfo& ph = *cur;
    info->live_keys.store(ph.live_keys.load());
    info->ttl_keys.store(ph.ttl_keys.load());
    info->min_expiry.store(ph.min_expiry.load());
    info->ttl_changes.store(ph.ttl_changes.load());  // (none under way)
    if (ph.dropped.load() || staged_drops_.count(id) != 0) info->dropped.store(true);
    // And the number of its drop: a pass leaves a create record out alone
    // only once it knows the drop is durable (Compactor::BuildPlan). (Until
    // 2026-11-29 it was lost here, harmless while it only narrowed
    // PickNsPartners' search.)
    info->drop_seq.store(ph.drop_seq.load());
  }
  if (staging_) {
    // (Nobody else holds it until Publish: its flag may be set in place.)
    if (staged_.count(id) != 0) staged_replaced_.push_back(staged_[id]);
    staged_[id] = info;
    staged_drops_.erase(id);
    return info;
  }
  by_id_[id] = info;
  NameLocked(info);
  return info;
}

void NamespaceTable::NameLocked(const std::shared_ptr<NamespaceInfo>& info) {
  // The name goes to the newest live namespace that had it. Ids only grow,
  // so a higher id is a later create; recovery replays segments in id
  // order, and a compaction output (a higher segment id) may carry the
  // create of an older namespace of the same name after the log segment
  // that dropped it and created the newer one. Until 2026-11-27 the older
  // one took the name back, and the newer one's keys read as "no such
  // namespace" after a reopen without a checkpoint (found by review).
  if (info->name.empty() || info->dropped.load()) return;
  auto it = by_name_.find(info->name);
  if (it == by_name_.end() || it->second->id < info->id) by_name_[info->name] = info;
}

void NamespaceTable::Drop(uint32_t id) {
  std::lock_guard<std::mutex> l(mu_);
  if (id == 0) return;
  RaiseNextId(id);
  if (staging_) {
    if (auto st = staged_.find(id); st != staged_.end()) {
      st->second->dropped.store(true, std::memory_order_release);  // (nobody else holds it)
    } else if (by_id_.count(id) != 0) {
      staged_drops_.insert(id);
    } else {
      auto ph = std::make_shared<NamespaceInfo>(id, std::string());  // (as below)
      ph->dropped.store(true, std::memory_order_release);
      staged_[id] = std::move(ph);
    }
    return;
  }
  auto& info = by_id_[id];
  if (!info) {
    // Its create record not replayed yet (it lies in a compaction output
    // replayed later): a placeholder remembers the drop for it.
    info = std::make_shared<NamespaceInfo>(id, std::string());
  }
  DropLocked(info);
}

void NamespaceTable::DropLocked(const std::shared_ptr<NamespaceInfo>& info) {
  info->dropped.store(true, std::memory_order_release);
  auto it = by_name_.find(info->name);
  if (it != by_name_.end() && it->second == info) by_name_.erase(it);
}

void NamespaceTable::Forget(uint32_t id) {
  std::lock_guard<std::mutex> l(mu_);
  if (id == 0) return;
  auto it = by_id_.find(id);
  if (it == by_id_.end() || !it->second->dropped.load()) return;
  auto n = by_name_.find(it->second->name);
  if (n != by_name_.end() && n->second == it->second) by_name_.erase(n);  // (Drop did)
  by_id_.erase(it);
}

void NamespaceTable::Stage() {
  std::lock_guard<std::mutex> l(mu_);
  staging_ = true;
}

void NamespaceTable::Publish() {
  std::lock_guard<std::mutex> l(mu_);
  // The drops first: a name they free may go to a namespace made here.
  for (uint32_t id : staged_drops_) {
    if (auto it = by_id_.find(id); it != by_id_.end()) DropLocked(it->second);
  }
  for (auto& [id, info] : staged_) {  // (in id order: a higher id takes a name last)
    by_id_[id] = info;
    NameLocked(info);
  }
  staging_ = false;
  staged_.clear();
  staged_drops_.clear();
  staged_replaced_.clear();
}

void NamespaceTable::Discard() {
  std::lock_guard<std::mutex> l(mu_);
  staging_ = false;
  staged_.clear();
  staged_drops_.clear();
  staged_replaced_.clear();
}

}  // namespace firkin
