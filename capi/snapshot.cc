// Snapshots and time travel.
#include <new>

#include "capi/internal.h"

using namespace firkin::capi;

extern "C" {

FIRKIN_API firkin_status firkin_snapshot_new(firkin_db* db, firkin_snapshot** out) {
  return firkin::capi::NewSnapshot(db, firkin::kLatestSeq, out);
}

FIRKIN_API firkin_status firkin_snapshot_at(firkin_db* db, uint64_t seq, firkin_snapshot** out) {
  if (seq == firkin::kLatestSeq) {  // never a real sequence number: the future
    return Guard([&] {
      if (out != nullptr) *out = nullptr;
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "snapshot sequence is in the future");
    });
  }
  return firkin::capi::NewSnapshot(db, seq, out);
}

}  // extern "C"

firkin_status firkin::capi::NewSnapshot(firkin_db* db, uint64_t seq, firkin_snapshot** out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckOut(out)) return c;
    *out = nullptr;
    uint64_t at = 0;
    firkin::Status s = db->db->AcquireSnapshot(seq, &at);
    if (!s.ok()) return Done(s);
    // (nothrow: a std::bad_alloc here left the registration behind, and
    // with it updates in place off for good, until 2026-11-29's review)
    *out = new (std::nothrow) firkin_snapshot{db->db, at};
    if (*out == nullptr) {
      db->db->ReleaseSnapshot(at);
      return Fail(FIRKIN_E_NO_MEMORY, "out of memory");
    }
    return FIRKIN_OK;
  });
}

extern "C" {

FIRKIN_API void firkin_snapshot_free(firkin_snapshot* snap) {
  if (snap == nullptr) return;
  snap->db->ReleaseSnapshot(snap->seq);
  delete snap;
}

FIRKIN_API uint64_t firkin_snapshot_seq(const firkin_snapshot* snap) {
  return snap == nullptr ? 0 : snap->seq;
}

}  // extern "C"
