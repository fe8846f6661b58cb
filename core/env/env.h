// Env: the one interface through which the core touches files (DESIGN §8).
//
// PosixEnv (posix_env.cc) is the product. FaultEnv (tests/support/fault_env.h,
// in the test-only library, never in libfirkin.so) is used by
// tests: it keeps unsynced data in memory so that a simulated power loss can
// drop it, and can fail the N-th call of a kind with EIO or ENOSPC.
//
// Thread contract: an Env is shared by all threads of all databases using it;
// every method is thread-safe. A file object (MappedFile, WritableFile,
// FileLock) is used by one thread at a time unless stated otherwise.
#ifndef FIRKIN_CORE_ENV_ENV_H_
#define FIRKIN_CORE_ENV_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/status.h"

namespace firkin {

// A file mapped into memory at a fixed size.
//
// Writable mappings are how the log is appended: the writer copies record
// bytes into data() (no system call), and Sync() makes a byte range durable.
// For a file created by NewMappedFile the whole size is preallocated, so a
// store into data() can never fault with SIGBUS for lack of disk space.
//
// Thread contract: data() may be read by any number of threads while one
// thread writes to a region no reader looks at yet (the caller publishes
// with release/acquire). Sync() and Truncate() are called by one thread at
// a time (the writer or the background flusher, serialized by the caller).
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Start of the mapping. Writable only for mappings opened writable.
  virtual char* data() = 0;
  // Mapped size in bytes (the file size at map time).
  virtual uint64_t size() const = 0;
  // Makes bytes [offset, offset+len) durable (msync(MS_SYNC) / fdatasync).
  virtual Status Sync(uint64_t offset, uint64_t len) = 0;
  // Makes both ranges durable with one device flush where the Env can
  // (posix: both written with sync_file_range, then one msync of a single
  // page flushes the device once instead of twice). Either range may be
  // reached before the other: nothing is promised about their order on
  // disk until the call returns. This default syncs each in turn.
  virtual Status SyncTwo(uint64_t offset_a, uint64_t len_a, uint64_t offset_b, uint64_t len_b) {
    Status s = Sync(offset_a, len_a);
    return s.ok() ? Sync(offset_b, len_b) : s;
  }
  // Shrinks the file on disk to `len` bytes and makes that durable
  // (ftruncate + fdatasync). The mapping stays valid for reads below len.
  virtual Status Truncate(uint64_t len) = 0;
  // The path this file was opened with, or last given to SetPath.
  virtual const std::string& path() const = 0;
  // Records that the caller renamed the file to `path` (Env::RenameFile);
  // the mapping is unaffected. REQUIRES: no other thread uses the file yet
  // (the log renames a spare segment file before it publishes it).
  virtual void SetPath(const std::string& path) = 0;
  // Hint: map and dirty-fault pages [offset, offset+len) now, so that
  // later writes there take no page fault (madvise MADV_POPULATE_WRITE).
  // Never changes the contents; failures are ignored.
  virtual void Prefault(uint64_t offset, uint64_t len) {
    (void)offset;
    (void)len;
  }
  // Declares that the process will never write [offset, offset+len) again
  // (whole pages; the caller rounds): the range is mapped again read-only
  // at the same address (readers see the same bytes throughout) and its
  // writeback is started without waiting. The kernel then writes those
  // pages back without write-protecting a page-table entry per page (one
  // TLB shootdown per page otherwise), and a later Sync of them has little
  // left to do. A write into the range afterwards faults (SIGSEGV): the
  // caller must never hand such a range out again. Promises nothing about
  // durability; failures leave the mapping as it was.
  // Returns how many bytes from `offset` on were handed over: the range may
  // end early (the posix Env ends it on a 2 MiB boundary of the address
  // space), and the caller offers the rest again later. This default hands
  // over nothing but reports all of it taken.
  virtual uint64_t WriteBehind(uint64_t offset, uint64_t len) {
    (void)offset;
    return len;
  }
  // Hint: back the mapping with 2 MiB pages of the page cache where the
  // file system can (madvise MADV_HUGEPAGE; pages faulted in later are
  // then large folios, mapped by one page-table entry each). Fewer faults
  // and TLB misses, but a sync of a few bytes inside such a page writes all
  // 2 MiB of it: only for files that are synced rarely. Never changes the
  // contents; failures are ignored.
  virtual void AdviseHugePages() {}
  // For a mapping opened read-only: makes [offset, offset+len) read as
  // `bytes` in this mapping only (the pages that hold it become private
  // copies: the file is not written, and those pages no longer follow
  // it). A read-only handle's recovery puts an update in place that a
  // kill -9 cut short together this way (recovery.cc). False: not done
  // (this default; the mapping is unchanged).
  virtual bool OverlayPrivate(uint64_t offset, const char* bytes, uint64_t len) {
    (void)offset;
    (void)bytes;
    (void)len;
    return false;
  }
  // Reserves disk space for [offset, offset+len) of a file made by
  // NewSparseMappedFile (posix_fallocate), so that stores there can no
  // longer fault with SIGBUS for lack of it. ENOSPC gives kNoSpace. This
  // default (every file preallocated whole) has nothing to do.
  virtual Status Allocate(uint64_t offset, uint64_t len) {
    (void)offset;
    (void)len;
    return Status::OK();
  }

 protected:
  MappedFile() = default;
};

// A file written sequentially (checkpoints, the identity file).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;

  virtual Status Append(std::string_view data) = 0;
  // Makes everything appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  virtual Status Close() = 0;

 protected:
  WritableFile() = default;
};

// A held lock on a file; released by destruction (or process death).
class FileLock {
 public:
  virtual ~FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  // A writer's lock: its recovery is done (see Env::ProbeRecovering).
  virtual void EndRecovery() {}

 protected:
  FileLock() = default;
};

// A directory held open, so that making its entries durable needs no new
// descriptor: a sync that first opened the directory failed when the
// process was out of descriptors (EMFILE) for a moment, and the log took
// that for a failed fsync, which leaves the writer failed until a reopen
// (docs/testing.md, "Fixed: ..."). Released by destruction.
// Thread contract: Sync from any thread.
class Directory {
 public:
  virtual ~Directory() = default;
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
  // Makes creations, renames and removals in the directory durable.
  virtual Status Sync() = 0;

 protected:
  Directory() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide posix environment. Never freed.
  static Env* Default();

  // --- mapped files (log segments) ---
  // Creates `path` (must not exist), preallocates `size` bytes (fallocate),
  // and maps it read-write. ENOSPC gives Status kNoSpace.
  virtual Status NewMappedFile(const std::string& path, uint64_t size,
                               std::unique_ptr<MappedFile>* out) = 0;
  // As NewMappedFile, but sparse: no disk space is reserved, and a store
  // into the mapping may fault (SIGBUS) on a full disk unless its range was
  // reserved with MappedFile::Allocate first. For a file most of whose
  // pages are never written (LIVE). This default preallocates it whole.
  virtual Status NewSparseMappedFile(const std::string& path, uint64_t size,
                                     std::unique_ptr<MappedFile>* out) {
    return NewMappedFile(path, size, out);
  }
  // Readies an existing file for reuse as a mapped file of at least `size`
  // bytes (a recycled log segment): it must be a regular file with no other
  // name (a hard link, e.g. from a backup, gives kBusy: its bytes are not
  // ours to overwrite); it is preallocated up to `size` (never shrunk).
  // Its contents are unchanged. The default says kNotSupported (then the
  // caller creates a new file instead).
  virtual Status PrepareReuse(const std::string& path, uint64_t size) {
    (void)size;
    return Status::NotSupported("file reuse is not supported by this Env: " + path);
  }
  // Maps an existing file at its current size, read-only or read-write.
  // Anything but a regular file (FIFO, device, directory) gives kCorruption
  // naming the path, without blocking; so does ReadFile.
  virtual Status OpenMappedFile(const std::string& path, bool writable,
                                std::unique_ptr<MappedFile>* out) = 0;

  // --- sequential files ---
  // Creates or truncates `path` for appending.
  virtual Status NewWritableFile(const std::string& path,
                                 std::unique_ptr<WritableFile>* out) = 0;
  // Reads a whole file into *out.
  virtual Status ReadFile(const std::string& path, std::string* out) = 0;
  // Reads at most len bytes of `path` from offset into *out: fewer where
  // the file ends first (a file that shrinks is read as it is then, never
  // a fault, unlike a mapping). The default reads the whole file.
  virtual Status ReadRange(const std::string& path, uint64_t offset, uint64_t len,
                           std::string* out) {
    FIRKIN_RETURN_IF_ERROR(ReadFile(path, out));
    if (offset >= out->size()) {
      out->clear();
    } else {
      *out = out->substr(offset, len);
    }
    return Status::OK();
  }

  // --- names ---
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Makes `to` (must not exist) a hard link to the file `from`. kNotSupported
  // when the file system cannot or will not link them (different file
  // systems, links refused, or an Env without links: this default), so the
  // caller can copy instead.
  virtual Status LinkFile(const std::string& from, const std::string& to) {
    return Status::NotSupported("hard link " + from + " -> " + to +
                                ": not supported by this environment");
  }
  // Makes creations, renames and removals in directory `dir` durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Opens `dir` for repeated syncs (Directory). This default syncs through
  // SyncDir(dir) each time (an Env that keeps its own view of what is
  // durable, such as the tests' FaultEnv, keeps it so).
  virtual Status OpenDirectory(const std::string& dir, std::unique_ptr<Directory>* out);
  // Names (not paths) of the entries of `dir`, without "." and "..".
  virtual Status ListDir(const std::string& dir, std::vector<std::string>* names) = 0;
  // Creates a directory (parent must exist). kExists if it exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  // What `path` is: kNotFound if missing; else *is_dir tells directory or not.
  virtual Status Stat(const std::string& path, bool* is_dir, uint64_t* size) = 0;

  // --- locking ---
  // Takes an OFD lock on `path`: exclusive for a writer (on the writer's
  // byte; the file is created if missing), or shared on the readers' byte
  // for read-only opens, which announces a reader without ever conflicting
  // with a writer (never created: a missing file gives OK and a lock object
  // that holds no lock on it; see ProbeLock and ProbeReaders). A reader
  // also takes the readers' byte of the directory that holds `path`, so
  // that it is seen when there is no file to lock. Never
  // blocks: a conflicting lock, held by this or another process, gives
  // kBusy. A dead holder's lock is released by the kernel. A symlink or a
  // file that is not regular gives kCorruption.
  virtual Status LockFile(const std::string& path, bool exclusive,
                          std::unique_ptr<FileLock>* out) = 0;
  // Whether a writer holds its exclusive lock on `path` right now, without
  // taking any lock, creating the file or changing anything (a read-only
  // open beside a live writer). A missing file: no writer. A file that
  // cannot be opened for reading: *held = true (assume the worst). A
  // symlink or a file that is not regular gives kCorruption. Never blocks.
  virtual Status ProbeLock(const std::string& path, bool* held) = 0;
  // Whether any read-only open (of any process, or of another handle of
  // this one) holds its shared lock on `path` or on its directory right
  // now, taking nothing. A missing file and an unlocked directory: none.
  // Cannot tell: *present = true. The writer asks
  // before it reuses a retired segment file that a reader may still map.
  virtual Status ProbeReaders(const std::string& path, bool* present) {
    (void)path;
    *present = true;
    return Status::OK();
  }
  // Whether the writer that holds `path` is still recovering (it took its
  // lock and has not called FileLock::EndRecovery yet): a read-only open
  // waits for the end of it, since recovery may raise the durability
  // watermarks the reader bounds its reads by. Taking nothing; never blocks.
  virtual Status ProbeRecovering(const std::string& path, bool* recovering) {
    (void)path;
    *recovering = false;
    return Status::OK();
  }
  // The id of this boot of the machine (Linux: /proc/sys/kernel/random/
  // boot_id), "" if unknown. Two calls give the same id until the machine
  // restarts: a file written on this boot that was never synced is still
  // in the page cache (LiveFile). An Env that simulates power loss returns
  // a new id after each one.
  virtual std::string BootId();
};

}  // namespace firkin

#endif  // FIRKIN_CORE_ENV_ENV_H_
