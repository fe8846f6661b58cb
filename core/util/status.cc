#include "core/util/status.h"

#include <cerrno>
#include <cstring>

namespace firkin {

Status Status::FromErrno(int err, std::string_view what) {
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status(Code::kNoSpace, std::move(m));
  // mmap, mremap and friends out of memory or address space (until
  // 2026-11-28 an I/O error: found by review, a put under `ulimit -v`).
  if (err == ENOMEM) return Status(Code::kNoMemory, std::move(m));
  return Status(Code::kIOError, std::move(m));
}

const std::string& Status::EmptyMessage() {
  static const std::string* const empty = new std::string();  // never destroyed
  return *empty;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return "status " + std::to_string(raw_code()) + ": " + message();
}

}  // namespace firkin
