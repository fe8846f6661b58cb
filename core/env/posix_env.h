// PosixEnv: the product implementation of Env over POSIX/Linux system calls
// (DESIGN §8). Most code uses it through Env::Default(); the class is
// visible so that tests and tools can construct a private instance.
//
// Thread contract: stateless, every method is thread-safe.
//
// Error statuses name the operation and the path ("open /x/y: No such file
// or directory"). ENOENT gives kNotFound, EEXIST kExists, ENOSPC/EDQUOT
// kNoSpace, a lock conflict kBusy, other failures kIOError.
#ifndef FIRKIN_CORE_ENV_POSIX_ENV_H_
#define FIRKIN_CORE_ENV_POSIX_ENV_H_

#include <string>
#include <string_view>

#include "core/env/env.h"

namespace firkin {

class PosixEnv final : public Env {
 public:
  PosixEnv() = default;

  Status NewMappedFile(const std::string& path, uint64_t size,
                       std::unique_ptr<MappedFile>* out) override;
  Status NewSparseMappedFile(const std::string& path, uint64_t size,
                             std::unique_ptr<MappedFile>* out) override;
  Status PrepareReuse(const std::string& path, uint64_t size) override;
  Status ProbeReaders(const std::string& path, bool* present) override;
  Status ProbeRecovering(const std::string& path, bool* recovering) override;
  Status OpenMappedFile(const std::string& path, bool writable,
                        std::unique_ptr<MappedFile>* out) override;
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status ReadFile(const std::string& path, std::string* out) override;
  Status ReadRange(const std::string& path, uint64_t offset, uint64_t len,
                   std::string* out) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status LinkFile(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status OpenDirectory(const std::string& dir, std::unique_ptr<Directory>* out) override;
  Status ListDir(const std::string& dir, std::vector<std::string>* names) override;
  Status CreateDir(const std::string& dir) override;
  Status Stat(const std::string& path, bool* is_dir, uint64_t* size) override;
  Status LockFile(const std::string& path, bool exclusive,
                  std::unique_ptr<FileLock>* out) override;
  Status ProbeLock(const std::string& path, bool* held) override;

 private:
  Status NewMapped(const std::string& path, uint64_t size, bool sparse,
                   std::unique_ptr<MappedFile>* out);
};

// The status for a failed system call: "<op> <path>: <strerror(err)>".
// ENOENT -> kNotFound, EEXIST -> kExists, else Status::FromErrno.
Status PosixError(int err, std::string_view op, const std::string& path);

}  // namespace firkin

#endif  // FIRKIN_CORE_ENV_POSIX_ENV_H_
