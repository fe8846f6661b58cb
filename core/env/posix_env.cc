// PosixEnv: the product Env over POSIX system calls (DESIGN §8).
//
// Mapped files are shared mappings of preallocated files; sequential files
// are buffered write(2); locks are OFD locks (fcntl F_OFD_SETLK), so that a
// second lock taken through another open() in the same process conflicts,
// exactly like one taken by another process, and a dead holder's lock is
// dropped by the kernel.
#include "core/env/posix_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <utility>

namespace firkin {

Status PosixError(int err, std::string_view op, const std::string& path) {
  std::string what(op);
  what += ' ';
  what += path;
  if (err == ENOENT) return Status::NotFound(what + ": " + std::strerror(err));
  if (err == EEXIST) return Status::Exists(what + ": " + std::strerror(err));
  return Status::FromErrno(err, what);
}

namespace {

// Retries a system call returning -1/EINTR.
template <typename F>
auto RetryEintr(F f) -> decltype(f()) {
  decltype(f()) r;
  do {
    r = f();
  } while (r == -1 && errno == EINTR);
  return r;
}

// A descriptor of the directory `dir` (for its fsync and its locks), or -1
// with errno set.
int OpenDirFd(const std::string& dir) {
  return RetryEintr([&] { return open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC); });
}

// posix_fallocate of [offset, offset + len) of fd, retried on EINTR (it
// returns the error instead of setting errno); path names the file in the
// status.
Status Fallocate(int fd, uint64_t offset, uint64_t len, const std::string& path) {
  int err;
  do {
    err = posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(len));
  } while (err == EINTR);
  return err == 0 ? Status::OK() : PosixError(err, "fallocate", path);
}

// Opens `path` without ever blocking (a FIFO would block open(2) and a
// device read without end) and refuses anything that is not a regular file:
// the files of a database are plain files, and a FIFO, socket, device or a
// symlink to one named like one of them is damage (kCorruption).
int OpenRegular(const std::string& path, int flags, struct stat* st, Status* err) {
  int fd = RetryEintr([&] { return open(path.c_str(), flags | O_NONBLOCK | O_CLOEXEC); });
  if (fd < 0) {
    *err = PosixError(errno, "open", path);
    return -1;
  }
  if (fstat(fd, st) != 0) {
    *err = PosixError(errno, "fstat", path);
    close(fd);
    return -1;
  }
  if (!S_ISREG(st->st_mode)) {
    const char* what = S_ISFIFO(st->st_mode)  ? "a FIFO"
                       : S_ISDIR(st->st_mode) ? "a directory"
                       : S_ISSOCK(st->st_mode) ? "a socket"
                       : (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) ? "a device"
                                                                          : "a special file";
    *err = Status::Corruption(path + ": not a regular file (" + what + ")");
    close(fd);
    return -1;
  }
  return fd;
}

uint64_t PageSize() {
  static const uint64_t kPage = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return kPage;
}

// A file mapped with MAP_SHARED. Thread contract: see MappedFile.
// A shared mapping of a whole file. The descriptor is held only while it
// may still be needed: a read-only mapping closes it at once, a writable
// one after its Truncate (a segment is truncated once, when it is sealed),
// so a database of thousands of segments does not hold thousands of open
// files (EMFILE). A later Truncate reopens the file by its path.
//
// ThreadSanitizer models mmap as a write of every byte it maps, so the
// read-only remap of published records in WriteBehind would be reported
// as racing with every reader of them. The remap maps the same file pages
// at the same address and changes no byte; under TSan its writes are
// ignored (TSan then forgets the range's access history instead). In any
// other build this is nothing.
#if defined(__SANITIZE_THREAD__)
extern "C" void AnnotateIgnoreWritesBegin(const char* file, int line);
extern "C" void AnnotateIgnoreWritesEnd(const char* file, int line);
struct TsanIgnoreWrites {
  TsanIgnoreWrites() { AnnotateIgnoreWritesBegin(__FILE__, __LINE__); }
  ~TsanIgnoreWrites() { AnnotateIgnoreWritesEnd(__FILE__, __LINE__); }
};
#else
struct TsanIgnoreWrites {
  TsanIgnoreWrites() {}  // user-provided: a scope object, never "unused"
};
#endif

// Thread contract: Sync, Prefault and WriteBehind from any thread; Truncate
// from one thread at a time (the sealing one), beside the others (fd_mu_
// keeps WriteBehind off a descriptor that Truncate closes).
class PosixMappedFile final : public MappedFile {
 public:
  // The address span one page-table page maps (x86-64, arm64 with 4 KiB
  // pages), minus one: WriteBehind's ranges end on its boundaries.
  static constexpr uintptr_t kPageTableSpan = (uintptr_t{2} << 20) - 1;

  PosixMappedFile(std::string path, int fd, char* base, uint64_t size)
      : path_(std::move(path)), fd_(fd), base_(base), size_(size), file_size_(size) {}

  ~PosixMappedFile() override {
    if (base_ != nullptr) munmap(base_, size_);
    if (fd_ >= 0) close(fd_);
  }

  char* data() override { return base_; }
  uint64_t size() const override { return size_; }

  bool OverlayPrivate(uint64_t offset, const char* bytes, uint64_t len) override {
    if (base_ == nullptr || writable_ || len == 0 || offset > size_ || len > size_ - offset) {
      return false;
    }
    const uint64_t start = offset & ~(PageSize() - 1);
    const uint64_t end =
        std::min<uint64_t>(size_, (offset + len + PageSize() - 1) & ~(PageSize() - 1));
    // What the pages read now, put back after the remap below, which reads
    // them from the file again: an earlier overlay on one of them (two
    // images on one page, two threads' overwrites torn by one kill) stays.
    // Until 2026-11-30 the second overlay undid the first, and the handle
    // cut the log at that record again (readers_test torn_two).
    std::unique_ptr<char[]> keep(new (std::nothrow) char[end - start]);
    if (keep == nullptr) return false;
    std::memcpy(keep.get(), base_ + start, end - start);
    // (A read-only mapping closed its descriptor: AfterMap.)
    const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    // The same pages of the same file, private and writable (copy on
    // write: a descriptor opened read-only allows it), at the same address.
    void* p = mmap(base_ + start, end - start, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                   fd, static_cast<off_t>(start));
    close(fd);
    if (p == MAP_FAILED) return false;
    std::memcpy(base_ + start, keep.get(), end - start);
    std::memcpy(base_ + offset, bytes, len);
    (void)mprotect(base_ + start, end - start, PROT_READ);
    return true;
  }
  const std::string& path() const override { return path_; }
  void SetPath(const std::string& path) override { path_ = path; }

  Status Sync(uint64_t offset, uint64_t len) override {
    // Only pages still backed by the file can be synced.
    const uint64_t limit = std::min(size_, file_size_.load(std::memory_order_acquire));
    if (offset >= limit || len == 0) return Status::OK();
    len = std::min(len, limit - offset);
    const uint64_t start = offset & ~(PageSize() - 1);
    const uint64_t span = offset + len - start;
    if (msync(base_ + start, span, MS_SYNC) != 0) {
      return PosixError(errno, "msync", path_);
    }
    return Status::OK();
  }

  Status SyncTwo(uint64_t offset_a, uint64_t len_a, uint64_t offset_b, uint64_t len_b) override {
    // Not one msync over the span: msync flushes the device once per
    // mapping (VMA) in its range, and ranges handed over by WriteBehind are
    // separate (read-only) mappings, so a span across them flushed two or
    // three times. Nor range a synced, then range b: two device round
    // trips in a row. Instead both ranges are written at once
    // (sync_file_range, which flushes nothing), waited for, and then one
    // msync of a single page flushes the device: every write that completed
    // before it is then durable. (That fsync covers the inode, not only its
    // page: ext4 and XFS commit there whatever metadata the writes changed,
    // e.g. unwritten extents converted at their completion, and flush the
    // device whether or not the page itself had anything to write.)
    std::unique_lock<std::mutex> l(fd_mu_);
    const uint64_t limit = std::min(size_, file_size_.load(std::memory_order_acquire));
    if (fd_ < 0 || len_a == 0 || len_b == 0 || offset_a >= limit || offset_b >= limit) {
      l.unlock();
      return MappedFile::SyncTwo(offset_a, len_a, offset_b, len_b);
    }
    len_a = std::min(len_a, limit - offset_a);
    len_b = std::min(len_b, limit - offset_b);
    auto range = [&](uint64_t off, uint64_t len, unsigned flags) -> Status {
      if (RetryEintr([&] {
            return sync_file_range(fd_, static_cast<off64_t>(off), static_cast<off64_t>(len),
                                   flags);
          }) != 0) {
        return PosixError(errno, "sync_file_range", path_);
      }
      return Status::OK();
    };
    // a: its writeback started (after any in flight); b: written and
    // waited for (all three flags: a data-integrity write of the range);
    // then a waited for.
    FIRKIN_RETURN_IF_ERROR(
        range(offset_a, len_a, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE));
    FIRKIN_RETURN_IF_ERROR(range(offset_b, len_b,
                                 SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                     SYNC_FILE_RANGE_WAIT_AFTER));
    FIRKIN_RETURN_IF_ERROR(range(offset_a, len_a,
                                 SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                     SYNC_FILE_RANGE_WAIT_AFTER));
    l.unlock();
    // The flush (vfs_fsync_range: nothing left to write in that page, so it
    // only commits what the journal needs and flushes the device).
    return Sync((offset_b + len_b - 1) & ~(PageSize() - 1), 1);
  }

  void Prefault(uint64_t offset, uint64_t len) override {
#ifdef MADV_POPULATE_WRITE
    // May race a Truncate by the sealing thread (the prefault thread runs
    // beside it): pages past the new end are then simply not populated.
    const uint64_t limit = std::min(size_, file_size_.load(std::memory_order_acquire));
    if (offset >= limit || len == 0) return;
    len = std::min(len, limit - offset);
    const uint64_t start = offset & ~(PageSize() - 1);
    madvise(base_ + start, offset + len - start, MADV_POPULATE_WRITE);
#else
    (void)offset;
    (void)len;
#endif
  }

  Status Allocate(uint64_t offset, uint64_t len) override {
    std::lock_guard<std::mutex> l(fd_mu_);
    if (fd_ < 0) return Status::IOError(path_ + ": closed");
    return Fallocate(fd_, offset, len, path_);
  }

  void AdviseHugePages() override {
#ifdef MADV_HUGEPAGE
    if (base_ != nullptr) madvise(base_, size_, MADV_HUGEPAGE);
#endif
  }

  uint64_t WriteBehind(uint64_t offset, uint64_t len) override {
    std::lock_guard<std::mutex> l(fd_mu_);
    if (fd_ < 0 || len == 0 || base_ == nullptr || !writable_) return 0;
    const uint64_t limit = std::min(size_, file_size_.load(std::memory_order_acquire));
    const uint64_t page = PageSize();
    if (offset % page != 0 || offset >= limit) return 0;
    len = std::min(len, limit - offset) & ~(page - 1);
    // The range ends on a 2 MiB boundary of the address space (a page-table
    // page), unless it reaches the end of the file. A remap that ends inside
    // a page-table page made Linux 6.x drop the entries after it: the pages
    // the prefault thread had faulted in for the writers (up to 2 MiB past
    // the range) were missing again, and the writers took a fault on each
    // (about 40,000 per second of YCSB A here). Measured with
    // /proc/self/pagemap: see env_test WriteBehindKeepsPrefaultedPages.
    if (offset + len < limit) {
      const uintptr_t end = (reinterpret_cast<uintptr_t>(base_) + offset + len) & ~kPageTableSpan;
      const uintptr_t from = reinterpret_cast<uintptr_t>(base_) + offset;
      len = end > from ? end - from : 0;
    }
    if (len == 0) return 0;
    // MAP_FIXED replaces the writable mapping of the range in one step
    // under the address-space lock: a concurrent reader never meets a hole.
    // The dirty bits of the old entries move to the page cache, with one
    // TLB flush for the whole range.
    void* p;
    {
      TsanIgnoreWrites quiet;  // the remap changes no byte (see TsanIgnoreWrites)
      p = mmap(base_ + offset, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd_,
               static_cast<off_t>(offset));
    }
    if (p == MAP_FAILED) return 0;
#ifdef MADV_POPULATE_READ
    // The remap dropped the range's page-table entries: map its pages
    // again now (they are in the page cache), or every read of a record
    // written in the last few MiB (the hot ones) takes a page fault.
    madvise(p, len, MADV_POPULATE_READ);
#endif
    sync_file_range(fd_, static_cast<off64_t>(offset), static_cast<off64_t>(len),
                    SYNC_FILE_RANGE_WRITE);
    return len;
  }

  Status Truncate(uint64_t len) override {
    if (len > file_size_.load()) {
      return Status::InvalidArgument("truncate " + path_ + ": length " + std::to_string(len) +
                                     " is beyond the file size " +
                                     std::to_string(file_size_.load()));
    }
    std::lock_guard<std::mutex> l(fd_mu_);
    if (fd_ < 0) {
      if (!writable_) {
        return Status::InvalidArgument("truncate " + path_ + ": the file is mapped read-only");
      }
      struct stat st;
      Status err;
      fd_ = OpenRegular(path_, O_RDWR | O_NOFOLLOW, &st, &err);
      if (fd_ < 0) return err;
    }
    if (RetryEintr([&] { return ftruncate(fd_, static_cast<off_t>(len)); }) != 0) {
      return PosixError(errno, "ftruncate", path_);
    }
    file_size_.store(len, std::memory_order_release);
    if (RetryEintr([&] { return fdatasync(fd_); }) != 0) {
      return PosixError(errno, "fdatasync", path_);
    }
    // Sealed: the mapping is all that is needed from now on.
    close(fd_);
    fd_ = -1;
    return Status::OK();
  }

  // Called once by OpenMappedFile: the mapping is made; a read-only one
  // needs its descriptor no more.
  void AfterMap(bool writable) {
    writable_ = writable;
    if (!writable && fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

 private:
  std::string path_;
  std::mutex fd_mu_;       // held by Truncate (which closes fd_) and WriteBehind
  int fd_;                 // -1 once closed (see the class comment)
  bool writable_ = true;
  char* const base_;       // nullptr for an empty mapping
  const uint64_t size_;    // mapped length
  std::atomic<uint64_t> file_size_;  // current file length (after Truncate); the
                                     // prefault thread reads it concurrently
};

// Sequential writer with a user-space buffer. Thread contract: one thread
// at a time.
class PosixWritableFile final : public WritableFile {
 public:
  static constexpr size_t kBufferSize = 64 * 1024;

  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
    buf_.reserve(kBufferSize);
  }
  ~PosixWritableFile() override { Close(); }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::IOError("append " + path_ + ": file is closed");
    if (buf_.size() + data.size() <= kBufferSize) {
      buf_.append(data.data(), data.size());
      return Status::OK();
    }
    FIRKIN_RETURN_IF_ERROR(Flush());
    if (data.size() < kBufferSize) {
      buf_.append(data.data(), data.size());
      return Status::OK();
    }
    return WriteAll(data);
  }

  Status Sync() override {
    if (fd_ < 0) return Status::IOError("sync " + path_ + ": file is closed");
    FIRKIN_RETURN_IF_ERROR(Flush());
    if (RetryEintr([&] { return fdatasync(fd_); }) != 0) {
      return PosixError(errno, "fdatasync", path_);
    }
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    Status s = Flush();
    // close(2) must not be retried on EINTR on Linux: the fd is gone.
    if (close(fd_) != 0 && s.ok()) s = PosixError(errno, "close", path_);
    fd_ = -1;
    return s;
  }

 private:
  Status Flush() {
    if (buf_.empty()) return Status::OK();
    Status s = WriteAll(buf_);
    buf_.clear();
    return s;
  }

  Status WriteAll(std::string_view data) {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError(errno, "write", path_);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return Status::OK();
  }

  const std::string path_;
  int fd_;
  std::string buf_;
};

// An open file description holding an OFD (or flock) lock; closing the
// descriptor releases it. Thread contract: immutable.
// The bytes of LOCK that the writer and the readers lock (LockFile).
constexpr off_t kWriterByte = 0;
constexpr off_t kReaderByte = 1;
constexpr off_t kRecoveringByte = 2;  // the writer's, until its recovery is done

// An OFD lock request of `type` on one byte of LOCK (l_pid must be 0).
struct flock OneByte(short type, off_t byte) {
  struct flock fl;
  std::memset(&fl, 0, sizeof(fl));
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  return fl;
}

class PosixFileLock final : public FileLock {
 public:
  // fd: LOCK's descriptor, -1 for a reader without a lock file. dir_fd: a
  // reader's announcement on the directory itself, -1 for none.
  explicit PosixFileLock(int fd, int dir_fd = -1) : fd_(fd), dir_fd_(dir_fd) {}
  ~PosixFileLock() override {
    if (fd_ >= 0) close(fd_);
    if (dir_fd_ >= 0) close(dir_fd_);
  }
  void EndRecovery() override {
    if (fd_ < 0) return;
    struct flock fl = OneByte(F_UNLCK, kRecoveringByte);
    fcntl(fd_, F_OFD_SETLK, &fl);  // without OFD locks it was never taken
  }

 private:
  const int fd_;
  const int dir_fd_;
};

// The directory that holds `path`.
std::string DirOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A reader announces itself on the database directory as well as on LOCK
// (the readers' byte of each): a reader of a directory without LOCK (a
// copy, a backup) took no lock at all, so a writer started there later
// could not see it and reused the segment files it still mapped (176 of
// 200 keys read as absent in the review's run). A directory always
// exists; locking it writes nothing. *fd: the descriptor holding the lock,
// or -1 on a kernel without OFD locks (readers then cannot be seen, and
// writers there reuse no file). Any other failure (no descriptor left,
// say) fails the read-only open: unannounced, its files could be reused.
Status AnnounceReaderOnDir(const std::string& dir, int* fd) {
  *fd = OpenDirFd(dir);
  if (*fd < 0) return PosixError(errno, "open", dir);
  struct flock fl = OneByte(F_RDLCK, kReaderByte);
  if (RetryEintr([&] { return fcntl(*fd, F_OFD_SETLK, &fl); }) != 0) {
    const int err = errno;
    close(*fd);
    *fd = -1;
    if (err != EINVAL) return PosixError(err, "lock", dir);
  }
  return Status::OK();
}

// Whether a reader announced itself on `dir` (AnnounceReaderOnDir);
// cannot tell: true.
bool ReaderOnDir(const std::string& dir) {
  const int fd = OpenDirFd(dir);
  if (fd < 0) return true;
  struct flock probe = OneByte(F_WRLCK, kReaderByte);
  const bool present = fcntl(fd, F_OFD_GETLK, &probe) != 0 || probe.l_type != F_UNLCK;
  close(fd);
  return present;
}

}  // namespace

Status PosixEnv::NewMappedFile(const std::string& path, uint64_t size,
                               std::unique_ptr<MappedFile>* out) {
  return NewMapped(path, size, /*sparse=*/false, out);
}

Status PosixEnv::NewSparseMappedFile(const std::string& path, uint64_t size,
                                     std::unique_ptr<MappedFile>* out) {
  return NewMapped(path, size, /*sparse=*/true, out);
}

Status PosixEnv::NewMapped(const std::string& path, uint64_t size, bool sparse,
                           std::unique_ptr<MappedFile>* out) {
  int fd = RetryEintr([&] { return open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644); });
  if (fd < 0) return PosixError(errno, "open", path);
  // From here on a failure removes the half-made file.
  auto fail = [&](Status s) {
    close(fd);
    unlink(path.c_str());
    return s;
  };
  char* base = nullptr;
  if (size > 0) {
    if (sparse) {
      if (RetryEintr([&] { return ftruncate(fd, static_cast<off_t>(size)); }) != 0) {
        return fail(PosixError(errno, "ftruncate", path));
      }
    } else {
      Status fs = Fallocate(fd, 0, size, path);
      if (!fs.ok()) return fail(fs);
    }
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return fail(PosixError(errno, "mmap", path));
    base = static_cast<char*>(p);
  }
  *out = std::make_unique<PosixMappedFile>(path, fd, base, size);
  return Status::OK();
}

Status PosixEnv::PrepareReuse(const std::string& path, uint64_t size) {
  struct stat st;
  Status err;
  int fd = OpenRegular(path, O_RDWR | O_NOFOLLOW, &st, &err);
  if (fd < 0) return err;
  Status s;
  if (st.st_nlink != 1) {
    s = Status::Busy(path + ": has " + std::to_string(st.st_nlink) +
                     " names (a hard link): not reused");
  } else if (static_cast<uint64_t>(st.st_size) < size) {
    s = Fallocate(fd, 0, size, path);
  }
  close(fd);
  return s;
}

Status PosixEnv::OpenMappedFile(const std::string& path, bool writable,
                                std::unique_ptr<MappedFile>* out) {
  struct stat st;
  Status err;
  int fd = OpenRegular(path, writable ? O_RDWR : O_RDONLY, &st, &err);
  if (fd < 0) return err;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  char* base = nullptr;
  if (size > 0) {
    int prot = writable ? (PROT_READ | PROT_WRITE) : PROT_READ;
    void* p = mmap(nullptr, size, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      Status s = PosixError(errno, "mmap", path);
      close(fd);
      return s;
    }
    base = static_cast<char*>(p);
  }
  auto file = std::make_unique<PosixMappedFile>(path, fd, base, size);
  file->AfterMap(writable);
  *out = std::move(file);
  return Status::OK();
}

Status PosixEnv::NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) {
  int fd = RetryEintr(
      [&] { return open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644); });
  if (fd < 0) return PosixError(errno, "open", path);
  *out = std::make_unique<PosixWritableFile>(path, fd);
  return Status::OK();
}

Status PosixEnv::ReadFile(const std::string& path, std::string* out) {
  out->clear();
  struct stat st;
  Status err;
  int fd = OpenRegular(path, O_RDONLY, &st, &err);
  if (fd < 0) return err;
  if (st.st_size > 0) out->reserve(static_cast<size_t>(st.st_size));
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = PosixError(errno, "read", path);
      close(fd);
      return s;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return Status::OK();
}

Status PosixEnv::ReadRange(const std::string& path, uint64_t offset, uint64_t len,
                           std::string* out) {
  out->clear();
  struct stat st;
  Status err;
  int fd = OpenRegular(path, O_RDONLY, &st, &err);
  if (fd < 0) return err;
  out->resize(static_cast<size_t>(len));
  uint64_t got = 0;
  while (got < len) {
    const ssize_t n = pread(fd, &(*out)[got], static_cast<size_t>(len - got),
                            static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = PosixError(errno, "pread", path);
      close(fd);
      return s;
    }
    if (n == 0) break;  // the end of the file
    got += static_cast<uint64_t>(n);
  }
  close(fd);
  out->resize(static_cast<size_t>(got));
  return Status::OK();
}

Status PosixEnv::RenameFile(const std::string& from, const std::string& to) {
  if (rename(from.c_str(), to.c_str()) != 0) return PosixError(errno, "rename", from + " -> " + to);
  return Status::OK();
}

Status PosixEnv::RemoveFile(const std::string& path) {
  if (unlink(path.c_str()) != 0) return PosixError(errno, "unlink", path);
  return Status::OK();
}

Status PosixEnv::LinkFile(const std::string& from, const std::string& to) {
  if (link(from.c_str(), to.c_str()) == 0) return Status::OK();
  const int err = errno;
  // Another file system, a file system without links, a link refused by
  // policy (protected_hardlinks) or too many links: the caller copies.
  if (err == EXDEV || err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == EMLINK) {
    return Status::NotSupported("link " + from + " -> " + to + ": " + std::strerror(err));
  }
  return PosixError(err, "link", from + " -> " + to);
}

Status PosixEnv::SyncDir(const std::string& dir) {
  const int fd = OpenDirFd(dir);
  if (fd < 0) return PosixError(errno, "open", dir);
  Status s;
  if (RetryEintr([&] { return fsync(fd); }) != 0) s = PosixError(errno, "fsync", dir);
  close(fd);
  return s;
}

namespace {

// A directory's descriptor, held for its syncs. Thread contract: see
// Directory (fsync of one descriptor from several threads is fine).
class PosixDirectory final : public Directory {
 public:
  PosixDirectory(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixDirectory() override { close(fd_); }
  Status Sync() override {
    if (RetryEintr([&] { return fsync(fd_); }) != 0) return PosixError(errno, "fsync", path_);
    return Status::OK();
  }

 private:
  const int fd_;
  const std::string path_;
};

// Syncs through Env::SyncDir each time (Env's default OpenDirectory).
class SyncDirEachTime final : public Directory {
 public:
  SyncDirEachTime(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  Status Sync() override { return env_->SyncDir(dir_); }

 private:
  Env* const env_;
  const std::string dir_;
};

}  // namespace

Status PosixEnv::OpenDirectory(const std::string& dir, std::unique_ptr<Directory>* out) {
  const int fd = OpenDirFd(dir);
  if (fd < 0) return PosixError(errno, "open", dir);
  *out = std::make_unique<PosixDirectory>(fd, dir);
  return Status::OK();
}

Status Env::OpenDirectory(const std::string& dir, std::unique_ptr<Directory>* out) {
  *out = std::make_unique<SyncDirEachTime>(this, dir);
  return Status::OK();
}

Status PosixEnv::ListDir(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return PosixError(errno, "opendir", dir);
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (e == nullptr) {
      if (errno != 0) {
        Status s = PosixError(errno, "readdir", dir);
        closedir(d);
        return s;
      }
      break;
    }
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names->emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names->begin(), names->end());
  return Status::OK();
}

Status PosixEnv::CreateDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0) return PosixError(errno, "mkdir", dir);
  return Status::OK();
}

Status PosixEnv::Stat(const std::string& path, bool* is_dir, uint64_t* size) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    int err = errno == ENOTDIR ? ENOENT : errno;
    return PosixError(err, "stat", path);
  }
  if (is_dir != nullptr) *is_dir = S_ISDIR(st.st_mode);
  if (size != nullptr) *size = static_cast<uint64_t>(st.st_size);
  return Status::OK();
}

Status PosixEnv::LockFile(const std::string& path, bool exclusive,
                          std::unique_ptr<FileLock>* out) {
  // A writer creates LOCK; a reader never creates anything (a read-only
  // open or verify modifies nothing): a database without LOCK (copied, or
  // on read-only media) is read without a lock. Never through a symlink,
  // never blocking on a FIFO.
  const int base = O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
  int fd = exclusive ? RetryEintr([&] { return open(path.c_str(), O_RDWR | O_CREAT | base, 0644); })
                     : RetryEintr([&] { return open(path.c_str(), O_RDONLY | base); });
  if (fd < 0 && !exclusive && errno == ENOENT) {
    int dir_fd = -1;
    FIRKIN_RETURN_IF_ERROR(AnnounceReaderOnDir(DirOf(path), &dir_fd));
    *out = std::make_unique<PosixFileLock>(-1, dir_fd);
    return Status::OK();
  }
  if (fd < 0 && errno == ELOOP) {
    return Status::Corruption(path + ": is a symbolic link; LOCK must be a regular file");
  }
  if (fd < 0) return PosixError(errno, "open", path);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Status::Corruption(path + ": not a regular file; LOCK must be one");
  }

  // Byte 0 is the writer's (exclusive), byte 1 the readers' (shared): a
  // reader's presence lock never conflicts with a writer, and a writer can
  // still see that readers exist (ProbeReaders).
  // A writer takes the recovering byte first, then its own, and drops the
  // recovering byte when its recovery is done (FileLock::EndRecovery): a
  // reader that finds the writer's byte held and the recovering byte free
  // knows the durability watermarks it reads are the recovered ones.
  int r = 0;
  if (exclusive) {
    struct flock rec = OneByte(F_WRLCK, kRecoveringByte);
    r = RetryEintr([&] { return fcntl(fd, F_OFD_SETLK, &rec); });
  }
  struct flock fl = exclusive ? OneByte(F_WRLCK, kWriterByte) : OneByte(F_RDLCK, kReaderByte);
  if (r == 0) r = RetryEintr([&] { return fcntl(fd, F_OFD_SETLK, &fl); });
  int err = r == 0 ? 0 : errno;
  if (r != 0 && err == EINVAL) {
    // Kernel without OFD locks (< 3.15): flock is also per open description.
    r = RetryEintr([&] { return flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB); });
    err = r == 0 ? 0 : (errno == EWOULDBLOCK ? EAGAIN : errno);
  }
  if (r != 0) {
    Status s;
    if (err == EAGAIN || err == EACCES) {
      // Find out who holds it, only to word the message.
      struct flock probe = OneByte(F_WRLCK, exclusive ? kWriterByte : kReaderByte);
      bool reader = fcntl(fd, F_OFD_GETLK, &probe) == 0 && probe.l_type == F_RDLCK;
      if (!exclusive) {
        s = Status::Busy("database is locked by a writer: " + path);
      } else if (reader) {
        s = Status::Busy("database is locked by a reader: " + path);
      } else {
        s = Status::Busy("database is locked by another writer: " + path);
      }
    } else {
      s = PosixError(err, "lock", path);
    }
    close(fd);
    return s;
  }
  int dir_fd = -1;
  if (!exclusive) {
    Status as = AnnounceReaderOnDir(DirOf(path), &dir_fd);
    if (!as.ok()) {
      close(fd);
      return as;
    }
  }
  // (Out of memory here must not leave the lock held by a leaked
  // descriptor: every later open in the process got BUSY until 2026-11-29;
  // found by review.)
  try {
    *out = std::make_unique<PosixFileLock>(fd, dir_fd);
  } catch (...) {
    close(fd);
    if (dir_fd >= 0) close(dir_fd);
    throw;
  }
  return Status::OK();
}

Status PosixEnv::ProbeRecovering(const std::string& path, bool* recovering) {
  *recovering = false;
  int fd = RetryEintr(
      [&] { return open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); });
  if (fd < 0) return Status::OK();  // no LOCK, or unreadable: ProbeLock decides
  struct flock probe = OneByte(F_RDLCK, kRecoveringByte);
  *recovering = fcntl(fd, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  close(fd);
  return Status::OK();
}

Status PosixEnv::ProbeReaders(const std::string& path, bool* present) {
  // On the directory first: readers of this library announce themselves
  // there too, those that found no LOCK only there.
  *present = ReaderOnDir(DirOf(path));
  if (*present) return Status::OK();
  int fd = RetryEintr(
      [&] { return open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); });
  if (fd < 0 && errno == ENOENT) return Status::OK();
  if (fd < 0) {
    *present = true;  // cannot tell: assume readers
    return Status::OK();
  }
  struct flock probe = OneByte(F_WRLCK, kReaderByte);
  // Without OFD locks (< 3.15) readers cannot announce themselves: assume
  // they may exist.
  *present = fcntl(fd, F_OFD_GETLK, &probe) != 0 || probe.l_type != F_UNLCK;
  close(fd);
  return Status::OK();
}

Status PosixEnv::ProbeLock(const std::string& path, bool* held) {
  *held = false;
  int fd = RetryEintr(
      [&] { return open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); });
  if (fd < 0 && errno == ENOENT) return Status::OK();  // no writer ever started here
  if (fd < 0 && errno == ELOOP) {
    return Status::Corruption(path + ": is a symbolic link; LOCK must be a regular file");
  }
  if (fd < 0) {
    *held = true;  // cannot tell: assume a writer (read only what it made durable)
    return Status::OK();
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Status::Corruption(path + ": not a regular file; LOCK must be one");
  }
  // F_OFD_GETLK only asks: it takes nothing, so a writer starting right now
  // never finds the file locked by us.
  struct flock probe = OneByte(F_RDLCK, kWriterByte);
  int r = fcntl(fd, F_OFD_GETLK, &probe);
  if (r == 0) {
    *held = probe.l_type != F_UNLCK;
  } else if (errno == EINVAL) {
    // Kernel without OFD locks (< 3.15): a shared flock taken and dropped
    // at once tells the same (a writer starting in that instant is refused
    // with BUSY and may retry).
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
      flock(fd, LOCK_UN);
    } else {
      *held = true;
    }
  } else {
    *held = true;
  }
  close(fd);
  return Status::OK();
}

std::string Env::BootId() {
  // Read once: it cannot change while this process runs.
  static const std::string id = [] {
    std::string v;
    const int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return v;
    char buf[64];
    const ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n > 0) v.assign(buf, static_cast<size_t>(n));
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    return v;
  }();
  return id;
}

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

}  // namespace firkin
