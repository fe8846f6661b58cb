#include "core/keyspace/namespaces.h"

namespace firkin {

NamespaceTable::NamespaceTable() {
  default_ = std::make_shared<NamespaceInfo>(0, kDefaultName);
  by_name_[kDefaultName] = default_;
  by_id_.push_back(default_);
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
  if (id < by_id_.size() && by_id_[id] && by_id_[id]->name == name) {
    return by_id_[id];  // replayed again (checkpoint, compaction output): keep its counts
  }
  auto info = std::make_shared<NamespaceInfo>(id, name, flags);
  info->ordered = ordered;
  if (id < by_id_.size() && by_id_[id] && by_id_[id]->name.empty()) {
    // A placeholder made by recovery for keys met before this record, or
    // for its drop record met first: every count of those keys comes
    // along (until 2026-11-28 only live_keys did: the TTL count and the
    // expiry bound stayed empty, so firkin_count took its O(1) path and
    // counted expired keys).
    const NamespaceInfo& ph = *by_id_[id];
    info->live_keys.store(ph.live_keys.load());
    info->ttl_keys.store(ph.ttl_keys.load());
    info->min_expiry.store(ph.min_expiry.load());
    info->ttl_writes.store(ph.ttl_writes.load());
    if (ph.dropped.load()) info->dropped.store(true);
  }
  if (by_id_.size() <= id) by_id_.resize(id + 1);
  by_id_[id] = info;
  // The name goes to the newest live namespace that had it. Ids only grow,
  // so a higher id is a later create; recovery replays segments in id
  // order, and a compaction output (a higher segment id) may carry the
  // create of an older namespace of the same name after the log segment
  // that dropped it and created the newer one. Until 2026-11-27 the older
  // one took the name back, and the newer one's keys read as "no such
  // namespace" after a reopen without a checkpoint (found by review).
  auto it = by_name_.find(name);
  if (!info->dropped.load() && (it == by_name_.end() || it->second->id < id)) {
    by_name_[name] = info;
  }
  return info;
}

void NamespaceTable::Drop(uint32_t id) {
  std::lock_guard<std::mutex> l(mu_);
  if (id == 0) return;
  if (id >= by_id_.size() || !by_id_[id]) {
    // Its create record not replayed yet (it lies in a compaction output
    // replayed later): a placeholder remembers the drop for it.
    if (by_id_.size() <= id) by_id_.resize(id + 1);
    by_id_[id] = std::make_shared<NamespaceInfo>(id, std::string());
  }
  auto& info = by_id_[id];
  info->dropped.store(true, std::memory_order_release);
  auto it = by_name_.find(info->name);
  if (it != by_name_.end() && it->second == info) by_name_.erase(it);
}

}  // namespace firkin
