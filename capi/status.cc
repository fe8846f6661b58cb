// Status codes, error messages, version and memory entry points.
#include <cstdlib>
#include <cstring>
#include <new>

#include "capi/internal.h"
#include "core/util/per_thread.h"

namespace firkin::capi {

namespace {
// Cleared by every call (ClearLastError): initial-exec TLS, one
// %fs-relative access instead of a call into the dynamic linker's TLS
// descriptor (see core/util/epoch.cc's t_slot). A pointer, made at the
// thread's first message and freed at its exit through AtThreadExit (a
// thread_local std::string's destructor is registered with glibc, which
// ends the process when it cannot allocate the entry: core/util/per_thread.h).
__attribute__((tls_model("initial-exec"))) thread_local std::string* t_last_error = nullptr;
// The thread's message could not be stored (no memory for the string).
__attribute__((tls_model("initial-exec"))) thread_local bool t_last_error_lost = false;
constexpr char kLostMessage[] = "out of memory (the error message could not be stored)";

void FreeLastError(void*) noexcept {
  delete t_last_error;
  t_last_error = nullptr;
}

// The thread's message string, made if it has none; nullptr when it
// cannot be (out of memory).
std::string* LastError() noexcept {
  if (t_last_error != nullptr) return t_last_error;
  std::string* made = new (std::nothrow) std::string();
  if (made == nullptr) return nullptr;
  try {
    AtThreadExit(&FreeLastError, nullptr);
  } catch (const std::bad_alloc&) {
    delete made;
    return nullptr;
  }
  t_last_error = made;
  return made;
}
}  // namespace

void SetLastError(std::string_view msg) noexcept {
  std::string* e = LastError();
  try {
    if (e == nullptr) throw std::bad_alloc();
    e->assign(msg.data(), msg.size());
    t_last_error_lost = false;
  } catch (const std::bad_alloc&) {
    t_last_error_lost = true;
  }
}
const char* LastErrorCStr() {
  if (t_last_error_lost) return kLostMessage;
  return t_last_error != nullptr ? t_last_error->c_str() : "";
}
void SwapLastError(std::string* msg) noexcept {
  std::string* e = LastError();
  t_last_error_lost = e == nullptr;
  if (e != nullptr) e->swap(*msg);
}
void ClearLastError() noexcept {
  t_last_error_lost = false;
  if (t_last_error != nullptr && !t_last_error->empty()) t_last_error->clear();
}

firkin_status Fail(const Status& s) {
  SetLastError(s.message().empty() ? firkin_strerror(s.raw_code()) : s.message());
  return s.raw_code();
}

firkin_status Fail(firkin_status code, std::string_view msg) {
  SetLastError(msg);
  return code;
}

void* CopyOut(std::string_view v) {
  void* p = std::malloc(v.size() == 0 ? 1 : v.size());
  if (p == nullptr) throw std::bad_alloc();
  if (!v.empty()) std::memcpy(p, v.data(), v.size());
  return p;
}

}  // namespace firkin::capi

using namespace firkin::capi;

extern "C" {

FIRKIN_API int firkin_version_number(void) { return FIRKIN_VERSION_NUMBER; }
FIRKIN_API const char* firkin_version_string(void) { return FIRKIN_VERSION_STRING; }

FIRKIN_API const char* firkin_strerror(firkin_status status) {
  switch (status) {
    case FIRKIN_OK: return "ok";
    case FIRKIN_E_NOT_FOUND: return "not found";
    case FIRKIN_E_INVALID_ARGUMENT: return "invalid argument";
    case FIRKIN_E_IO: return "I/O error";
    case FIRKIN_E_CORRUPTION: return "corruption";
    case FIRKIN_E_BUSY: return "database is locked by another writer";
    case FIRKIN_E_READ_ONLY: return "database is read-only";
    case FIRKIN_E_CONDITION_FAILED: return "condition failed";
    case FIRKIN_E_CONFLICT: return "transaction conflict";
    case FIRKIN_E_NO_SPACE: return "no space left on device";
    case FIRKIN_E_NO_MEMORY: return "out of memory";
    case FIRKIN_E_TOO_LARGE: return "too large";
    case FIRKIN_E_BUFFER_TOO_SMALL: return "buffer too small";
    case FIRKIN_E_CLOSED: return "closed";
    case FIRKIN_E_VERSION: return "unsupported format version";
    case FIRKIN_E_SNAPSHOT_TOO_OLD: return "snapshot too old: history no longer kept";
    case FIRKIN_E_NAMESPACE_NOT_FOUND: return "namespace not found";
    case FIRKIN_E_EXISTS: return "already exists";
    case FIRKIN_E_NOT_A_DATABASE: return "not a Firkin database";
    case FIRKIN_E_NOT_SUPPORTED: return "not supported";
    case FIRKIN_E_INTERNAL: return "internal error";
    case FIRKIN_E_BAD_KEY: return "wrong, missing or unexpected encryption key";
    default: return "unknown status";
  }
}

FIRKIN_API const char* firkin_last_error(void) { return LastErrorCStr(); }

FIRKIN_API void firkin_free(void* p) { std::free(p); }

}  // extern "C"
