// Internal to libfirkin: the structs behind the opaque C handles and the one
// guard that turns every exception into a status and records the per-thread
// error message. Never installed.
//
// Thread contract: see the convention block of firkin.h; the handles' own
// rules are those of the core objects they wrap.
#ifndef FIRKIN_CAPI_INTERNAL_H_
#define FIRKIN_CAPI_INTERNAL_H_

#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "capi/firkin.h"
#include "core/db/db.h"
#include "core/db/iterator.h"
#include "core/db/ordered_iterator.h"
#include "core/db/txn.h"
#include "core/db/write_batch.h"
#include "core/util/status.h"

// A database handle: shared ownership so that child handles keep it alive.
struct firkin_db {
  std::shared_ptr<firkin::DB> db;
};

struct firkin_options {
  firkin::Options opts;
};

struct firkin_write_options {
  firkin::SyncMode sync = firkin::SyncMode::kDefault;
};

struct firkin_ns {
  std::shared_ptr<firkin::DB> db;
  std::shared_ptr<firkin::NamespaceInfo> info;
};

struct firkin_snapshot {
  std::shared_ptr<firkin::DB> db;
  uint64_t seq = 0;
};

// A transaction's own writes in the namespace an iterator of it scans,
// copied when the iterator was made: the snapshot's entries for `shadow`
// keys are skipped, then `puts` are yielded.
struct firkin_txn_overlay {
  std::unordered_set<std::string> shadow;
  std::vector<std::pair<std::string, std::string>> puts;
  size_t pos = 0;  // in puts, once the snapshot iterator is exhausted
};

struct firkin_iter {
  std::shared_ptr<firkin::DB> db;
  uint64_t snap = 0;  // registered with db (when `registered`); released at free
  bool registered = false;
  std::unique_ptr<firkin::Iterator> it;
  std::unique_ptr<firkin_txn_overlay> overlay;  // a transaction's iterator
  // An ordered namespace's iterator (firkin_range_iter_new and friends):
  // set instead of `it`; it merges a transaction's overlay itself.
  std::unique_ptr<firkin::OrderedIterator> oit;
  // A step that ran out of memory (a std::bad_alloc out of Next, or out of
  // an ordered Seek) leaves the streams half moved: the hash-order scan
  // ended with an OK status, an ordered batch half refilled (its current
  // entry's key a view into freed bytes, its value the previous key's),
  // an overlay's shadowed keys not skipped (the snapshot's value of a key
  // the transaction wrote). So the iterator is not valid from then on and
  // its status is NO_MEMORY (an ordered one's next Seek starts it again).
  // Until 2026-11-29 the step returned
  // FIRKIN_E_NO_MEMORY and the iterator went on as above: the documented
  // loop (valid / next, then firkin_iter_status) ended OK with keys
  // missing, or read a wrong value (oom_test sweep_iterators).
  firkin::Status failed;

  firkin_iter() = default;
  firkin_iter(const firkin_iter&) = delete;
  firkin_iter& operator=(const firkin_iter&) = delete;
  // (Also on the error paths of the calls that make one: a std::bad_alloc
  // after its snapshot was registered left the registration behind, and
  // with it updates in place off for good, until 2026-11-29's review.)
  ~firkin_iter() {
    it.reset();
    oit.reset();
    if (registered) db->ReleaseSnapshot(snap);
  }

  // The merged view (the snapshot iterator alone without an overlay).
  bool Valid() const {
    if (!failed.ok()) return false;
    if (oit != nullptr) return oit->Valid();
    if (it->Valid()) return true;
    return overlay != nullptr && it->status().ok() && overlay->pos < overlay->puts.size();
  }
  std::string_view Key() const {
    if (oit != nullptr) return oit->key();
    return it->Valid() ? it->key() : overlay->puts[overlay->pos].first;
  }
  std::string_view Value() const {
    if (oit != nullptr) return oit->value();
    return it->Valid() ? it->value() : overlay->puts[overlay->pos].second;
  }
  const firkin::Status& Status() const {
    if (!failed.ok()) return failed;
    return oit != nullptr ? oit->status() : it->status();
  }
  void Next() {
    try {
      if (oit != nullptr) {
        oit->Next();
      } else if (it->Valid()) {
        it->Next();
        SkipShadowed();
      } else if (overlay != nullptr) {
        overlay->pos++;
      }
    } catch (const std::bad_alloc&) {
      failed = firkin::Status::NoMemory("");  // (no message: nothing allocated)
      throw;
    }
  }
  // REQUIRES: oit.
  void Seek(std::string_view key) {
    try {
      failed = firkin::Status();
      oit->Seek(key);
    } catch (const std::bad_alloc&) {
      failed = firkin::Status::NoMemory("");
      throw;
    }
  }
  void SkipShadowed() {
    if (overlay == nullptr || it == nullptr) return;
    while (it->Valid() && overlay->shadow.count(std::string(it->key())) != 0) it->Next();
  }
};

// A transaction handle: the core transaction (whose in-use flag catches
// two threads using it at once) and its database, kept alive.
struct firkin_txn {
  std::shared_ptr<firkin::DB> db;
  std::unique_ptr<firkin::Txn> txn;
};

struct firkin_changes_options {
  bool batch_markers = true;
};

// A change cursor keeps its database alive.
struct firkin_changes {
  std::shared_ptr<firkin::DB> db;
  std::unique_ptr<firkin::ChangeCursor> cursor;
};

// A batch is not tied to a database when it is made; the first namespace
// handle put into it ties it to that handle's database (weakly: the batch
// does not keep it alive), and firkin_write refuses it on any other.
struct firkin_batch {
  firkin::WriteBatch batch;
  bool bound = false;               // holds a namespace handle's operation
  std::weak_ptr<firkin::DB> owner;  // the database of those handles
};

namespace firkin::capi {

// Records the calling thread's error message ("" on success). Never
// throws: a message that cannot be stored (out of memory) reads as
// "out of memory (the error message could not be stored)".
void SetLastError(std::string_view msg) noexcept;
void ClearLastError() noexcept;
const char* LastErrorCStr();
// Makes *msg the thread's message (the old one is left in *msg). Never
// throws (allocates only the thread's first message string).
void SwapLastError(std::string* msg) noexcept;

// Returns the status code, recording the message.
firkin_status Fail(const Status& s);
firkin_status Fail(firkin_status code, std::string_view msg);
// A core status as a C status: OK (Guard clears the message), a bare
// not-found (no message, none left behind), or an error with its message.
inline firkin_status Done(const Status& s) {
  if (s.ok()) return FIRKIN_OK;
  if (s.IsNotFound() && s.message().empty()) {
    ClearLastError();
    return FIRKIN_E_NOT_FOUND;
  }
  return Fail(s);
}

// Runs fn (returning firkin_status) and turns any exception into a status.
// This is the one place that clears the thread's error message on success:
// every entry point that returns a status runs inside it (a multi-get
// through GuardItems, below, which then sets its keys' messages).
template <typename Fn>
firkin_status Guard(Fn&& fn) noexcept {
  try {
    const firkin_status st = fn();
    if (st == FIRKIN_OK) ClearLastError();
    return st;
  } catch (const std::bad_alloc&) {
    return Fail(FIRKIN_E_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return Fail(FIRKIN_E_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return Fail(FIRKIN_E_INTERNAL, "internal error: unknown exception");
  }
}

// The messages of the items of one call that failed each on its own while
// the call as a whole succeeds (a multi-get's keys: statuses[i]). Note(i)
// right after item i failed, while its message is the thread's last error.
// The message GuardItems leaves: the first kListed failed items' messages,
// each after its index ("key 3: ..."), joined by "; ", then how many more
// failed. Not thread-safe: a local of one call.
class ItemErrors {
 public:
  static constexpr size_t kListed = 8;
  void Note(size_t i) {
    if (listed_ == kListed) {
      more_++;
      return;
    }
    if (listed_++ != 0) msg_ += "; ";
    msg_ += "key ";
    msg_ += std::to_string(i);
    msg_ += ": ";
    msg_ += LastErrorCStr();
  }
  // The message, complete (called once, before Swap).
  void Finish() {
    if (more_ != 0) {
      msg_ += "; and " + std::to_string(more_) + (more_ == 1 ? " more key" : " more keys") +
              " failed (their statuses say which)";
    }
  }
  std::string* message() { return &msg_; }

 private:
  std::string msg_;
  size_t listed_ = 0;
  size_t more_ = 0;
};

// Guard for calls whose items fail each on its own (ItemErrors): on
// FIRKIN_OK the thread's message is the failed items' ("" if none failed)
// instead of being cleared; otherwise as Guard (the call's own failure).
template <typename Fn>
firkin_status GuardItems(Fn&& fn) noexcept {
  ItemErrors items;
  const firkin_status st = Guard([&] {
    const firkin_status s = fn(&items);
    if (s == FIRKIN_OK) items.Finish();  // (may throw: Guard catches it)
    return s;
  });
  if (st == FIRKIN_OK) SwapLastError(items.message());
  return st;
}

// ---- Argument checks (checks.cc): the one validation layer ----
// Every entry point that takes a database together with a namespace, a
// snapshot or a batch checks them here, and nowhere else: a handle of
// another database is INVALID_ARGUMENT (never applied to a namespace of
// this one that happens to have the same number), a dropped namespace is
// NAMESPACE_NOT_FOUND. (Iterator calls take only the iterator, which
// carries its own database.)
// The checks are inline (every call runs several; a call each with its
// frame was about a tenth of a get's instructions); what they report on
// failure is built out of line, in checks.cc.
firkin_status FailBytes(const char* what, size_t len);
firkin_status FailKey(const void* key, size_t len);
firkin_status FailValue(const void* val, size_t len);
firkin_status FailNullDb();
firkin_status FailNullOut();
firkin_status FailForeign(const char* what);
firkin_status FailDropped(const firkin::NamespaceInfo& info);

inline firkin_status CheckBytes(const void* p, size_t len, const char* what) {
  if (__builtin_expect(p == nullptr && len != 0, 0)) return FailBytes(what, len);
  return FIRKIN_OK;
}
// Empty, longer than FIRKIN_MAX_KEY_SIZE, or NULL: refused.
inline firkin_status CheckKey(const void* key, size_t len) {
  if (__builtin_expect(len - 1 >= FIRKIN_MAX_KEY_SIZE || key == nullptr, 0)) {
    return FailKey(key, len);
  }
  return FIRKIN_OK;
}
inline firkin_status CheckValue(const void* val, size_t len) {
  if (__builtin_expect(len > FIRKIN_MAX_VALUE_SIZE || (val == nullptr && len != 0), 0)) {
    return FailValue(val, len);
  }
  return FIRKIN_OK;
}
inline firkin_status CheckDb(const firkin_db* db) {
  if (__builtin_expect(db == nullptr || !db->db, 0)) return FailNullDb();
  return FIRKIN_OK;
}
inline firkin_status CheckOut(const void* out) {
  if (__builtin_expect(out == nullptr, 0)) return FailNullOut();
  return FIRKIN_OK;
}

// What a call on a database reads or writes, its handles checked.
struct Target {
  const firkin::NamespaceInfo* ns = nullptr;  // never null once bound
  uint64_t snap = firkin::kLatestSeq;         // kLatestSeq = the latest state
};
// Checks db, then that ns (NULL = default) and snap (NULL = latest) belong
// to it and that ns is not dropped.
inline firkin_status Bind(const firkin_db* db, const firkin_ns* ns, const firkin_snapshot* snap,
                          Target* out) {
  if (firkin_status c = CheckDb(db)) return c;
  if (ns == nullptr) {
    out->ns = db->db->namespaces().Default().get();
  } else {
    if (__builtin_expect(ns->db != db->db, 0)) return FailForeign("namespace handle");
    if (__builtin_expect(ns->info->dropped.load(std::memory_order_acquire), 0)) {
      return FailDropped(*ns->info);
    }
    out->ns = ns->info.get();
  }
  if (snap == nullptr) {
    out->snap = kLatestSeq;
  } else {
    if (__builtin_expect(snap->db != db->db, 0)) return FailForeign("snapshot");
    out->snap = snap->seq;
  }
  return FIRKIN_OK;
}
// The namespace an operation added to b refers to (NULL = "default",
// resolved at write time); ties b to ns's database, and refuses a handle
// of another database than the one b is already tied to.
firkin_status BindBatchNs(firkin_batch* b, const firkin_ns* ns,
                          std::shared_ptr<firkin::NamespaceInfo>* out);
// Checks db and that b may be written to it (every namespace it names
// belongs to db and is live); *ops receives its operations, the default
// namespace resolved.
firkin_status BindBatch(const firkin_db* db, const firkin_batch* b,
                        std::vector<firkin::WriteOp>* ops);

SyncMode WriteSync(const firkin_write_options* wo);
// Registers a snapshot at seq (kLatestSeq = latest) and makes its handle.
firkin_status NewSnapshot(firkin_db* db, uint64_t seq, firkin_snapshot** out);

// The integer a C caller passed for an enum parameter. C lets any int
// through; reading an out-of-range value as the C++ enum type would be
// undefined, so the bits are copied as an int before they are checked.
template <typename E>
inline int EnumValue(const E& e) {
  static_assert(sizeof(E) == sizeof(int), "C enums are int-sized here");
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

inline std::string_view Bytes(const void* p, size_t len) {
  return len == 0 ? std::string_view() : std::string_view(static_cast<const char*>(p), len);
}

// malloc'd copy (never NULL on success, even for 0 bytes).
void* CopyOut(std::string_view v);

}  // namespace firkin::capi

#endif  // FIRKIN_CAPI_INTERNAL_H_
