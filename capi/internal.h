// Internal to libfirkin: the structs behind the opaque C handles and the one
// guard that turns every exception into a status and records the per-thread
// error message. Never installed.
//
// Thread contract: see the convention block of firkin.h; the handles' own
// rules are those of the core objects they wrap.
#ifndef FIRKIN_CAPI_INTERNAL_H_
#define FIRKIN_CAPI_INTERNAL_H_

#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "capi/firkin.h"
#include "core/db/db.h"
#include "core/db/iterator.h"
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

struct firkin_iter {
  std::shared_ptr<firkin::DB> db;
  uint64_t snap = 0;  // registered with db; released at free
  std::unique_ptr<firkin::Iterator> it;
};

struct firkin_batch {
  firkin::WriteBatch batch;
};

namespace firkin::capi {

// Records the calling thread's error message ("" on success).
void SetLastError(std::string_view msg);
void ClearLastError();
const char* LastErrorCStr();

// Returns the status code, recording the message.
firkin_status Fail(const Status& s);
firkin_status Fail(firkin_status code, std::string_view msg);
inline firkin_status Done(const Status& s) {
  if (s.ok()) {
    ClearLastError();
    return FIRKIN_OK;
  }
  if (s.IsNotFound() && s.message().empty()) {
    ClearLastError();
    return FIRKIN_E_NOT_FOUND;
  }
  return Fail(s);
}

// Runs fn (returning firkin_status) and turns any exception into a status.
template <typename Fn>
firkin_status Guard(Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Fail(FIRKIN_E_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return Fail(FIRKIN_E_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return Fail(FIRKIN_E_INTERNAL, "internal error: unknown exception");
  }
}

// Argument checks shared by the entry points.
firkin_status CheckBytes(const void* p, size_t len, const char* what);
firkin_status CheckKey(const void* key, size_t len);
firkin_status CheckValue(const void* val, size_t len);
firkin_status CheckDb(const firkin_db* db);
// The namespace a handle names (NULL = default); kNamespaceNotFound if the
// handle belongs to another database.
firkin_status ResolveNs(const firkin_db* db, const firkin_ns* ns,
                        const firkin::NamespaceInfo** out);
// The snapshot sequence number (0 = latest); checks it belongs to db.
firkin_status ResolveSnap(const firkin_db* db, const firkin_snapshot* snap, uint64_t* out);
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
