// The read path (DESIGN §1): hash -> index candidates -> record in a mapped
// segment -> key compare -> version chain back to the snapshot -> checksum.
// Every record the answer depends on is verified when reads verify (see
// verify_reads_): the versions skipped and the one returned. The common
// case (the newest record is the answer) costs one checksum.
// Lock-free: the caller holds an Epoch::Guard.
#include "core/db/db.h"

namespace firkin {

Status DB::Get(uint64_t snap, const NamespaceInfo& ns, std::string_view key,
               RecordView* out) const {
  Status s = GetAt(snap, ns, key, out);
  // A read-only handle's refresh raises the floor before it drops index
  // entries: a read that may have missed one finds the floor raised here.
  if (snap != kLatestSeq && snap < history_floor_.load(std::memory_order_acquire)) {
    return Status::SnapshotTooOld("a refresh of this read-only handle dropped segments the "
                                  "writer retired; sequence " + std::to_string(snap) +
                                  " can no longer be told");
  }
  return s;
}

Status DB::GetAt(uint64_t snap, const NamespaceInfo& ns, std::string_view key,
                 RecordView* out) const {
  if (ns.dropped.load(std::memory_order_acquire)) {
    return Status::NamespaceNotFound("namespace '" + ns.name + "' was dropped");
  }
  const uint64_t at = snap != kLatestSeq ? snap : LastSeq();
  const uint64_t h = keyspace_->Hash(ns.id, key);
  RecordView newest;
  if (keyspace_->FindNewest(h, ns.id, key, &newest) == 0) {
    if (verify_reads_ && keyspace_->DamagedCandidate(h)) {
      return Status::Corruption("a record that may hold this key failed its checksum");
    }
    return Status::NotFound();
  }
  RecordView r = newest;
  if (r.seq > at) {
    // Every version skipped on the way back is checked (VersionAt), the
    // one returned below: a read never relies on an unverified record.
    FIRKIN_RETURN_IF_ERROR(keyspace_->VersionAt(newest, at, &r, verify_reads_));
    if (r.ns_id != ns.id || r.key() != key) {
      return Status::Corruption("version chain of a key leads to another key's record");
    }
  }
  if (verify_reads_ && !RecordChecksumOk(r)) {
    return Status::Corruption("record of a key failed its checksum (sequence " +
                              std::to_string(r.seq) + "); the value is not returned");
  }
  if (r.type != RecordType::kPut) return Status::NotFound();
  if (Expired(r)) return Status::NotFound();  // TTL: an expired key is absent
  *out = r;
  return Status::OK();
}

}  // namespace firkin
