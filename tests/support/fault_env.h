// FaultEnv: a fault-injecting Env for tests (DESIGN §8), behind
// tests/support/firkin_testing.h (libfirkin_testing.so, never shipped).
//
// It works over real directories. Data written to a file (mapped or
// sequential) is kept in memory until synced; Sync writes the synced range
// through to the real file. Creations and renames are recorded as "not yet
// durable" until SyncDir of their directory. Crash(mode, seed) simulates a
// power loss: for each open file, unsynced bytes are dropped, or a random
// prefix of them is written through, or a random prefix followed by random
// garbage; files created since the last SyncDir are removed; un-synced
// renames are undone. After a crash every call fails with kIOError until
// Reset(). It can also make the N-th call of a kind fail with EIO/ENOSPC,
// and hold the next write-behind call (HoldNextWriteBehind).
//
// Exact model (fault_env.cc has the details):
//  - Durable image = the real file. Mapped files: data() is a private buffer
//    shared by all mappings of a path; Sync(off, len) copies exactly that
//    range to the real file. Sequential files: appends stay in memory until
//    Sync. Unsynced data outlives Close/destruction (it is "page cache") and
//    is visible to later opens and ReadFile until a crash.
//  - Crash: unsynced bytes of a file = pages of its buffer that differ from
//    the real file (mapped) or its unsynced appends (sequential), in file
//    order. kDrop: none reach disk. kPrefix: a random prefix (0..all, byte
//    granular, so a page may be torn). kGarbage: a random prefix (0..all-1)
//    then random bytes to the end of that page. kPages: writeback in any
//    order: each dirty page of a mapped file independently reaches disk
//    whole or not at all (sequential files: as kPrefix).
//  - Names: a creation (NewMappedFile, NewWritableFile of a new path) or a
//    rename is durable once SyncDir(dir of the new name) succeeds; else a
//    crash removes the created file / renames the file back and restores the
//    durable content of a file the rename replaced. MappedFile::Truncate(len)
//    is ftruncate + fdatasync: the length and every byte below len become
//    durable. Simplifications: RemoveFile and CreateDir are durable at once;
//    NewWritableFile's truncation of an existing file is durable at once.
//    Directory paths are compared after lexical normalization ("a//b/" ==
//    "a/b"); symlinks are not resolved.
//  - No real fsync is issued (speed); SyncDir only checks the directory.
//  - Counted ops: kOpen = NewMappedFile, OpenMappedFile, NewWritableFile,
//    ReadFile; kAllocate = the preallocation of NewMappedFile (counted after
//    kOpen passed), MappedFile::Allocate (LIVE's pages) and PrepareReuse (a recycled segment: the real file is
//    extended, a clean cached copy forgotten; an open or dirty one refused); kWrite = WritableFile::Append, MappedFile::Truncate;
//    kSync = MappedFile::Sync, WritableFile::Sync, SyncDir, and
//    MappedFile::Truncate (counted after kWrite passed); kRename =
//    RenameFile. RemoveFile, ListDir, CreateDir, Stat, LockFile are not
//    counted and cannot be failed, but they fail when crashed. A failed call
//    has no effect (a failed Sync writes nothing through).
//  - After Crash, file objects opened before it fail forever, even after
//    Reset(); their data() stays valid memory until they are destroyed.
//  - kKill is a process crash (kill -9), not a power loss: every byte
//    written so far reaches the real file (the page cache survives), no
//    creation or rename is undone, and the boot id stays (BootId), so a
//    reopen through this environment after Reset() is on the same boot.
//    The files then count as durable: a later simulated power loss cannot
//    lose what the killed process left unsynced (a simplification).
//
// Thread contract: all methods are thread-safe (one internal mutex). The
// FaultEnv must outlive every file object it returned.
#ifndef FIRKIN_CORE_ENV_FAULT_ENV_H_
#define FIRKIN_CORE_ENV_FAULT_ENV_H_

#include <cstdint>
#include <memory>

#include "core/env/env.h"

namespace firkin {

class FaultEnv : public Env {
 public:
  enum class Op : int { kWrite = 0, kSync = 1, kRename = 2, kOpen = 3, kAllocate = 4 };
  static constexpr int kOpCount = 5;
  enum class CrashMode : int { kDrop = 0, kPrefix = 1, kGarbage = 2, kPages = 3, kKill = 4 };

  // Creates a fault environment over `base` (the real file system,
  // normally Env::Default()).
  static std::unique_ptr<FaultEnv> Create(Env* base);
  ~FaultEnv() override = default;

  // Fail the nth call (1-based, counted from now) of `op` with `error`
  // (Status::Code::kIOError or kNoSpace); sticky: that and all later calls.
  // nth == 0 clears the fault for op.
  virtual void FailNth(Op op, uint64_t nth, Status::Code error, bool sticky) = 0;
  // Calls of `op` so far (including failed ones).
  virtual uint64_t Count(Op op) const = 0;
  // Simulated power loss; see the class comment.
  virtual Status Crash(CrashMode mode, uint64_t seed) = 0;
  // Clears faults, the crashed state and counters (and lets a held call go).
  virtual void Reset() = 0;
  // Holds the next MappedFile::WriteBehind call (the log writer's
  // writeback thread hands published pages over with it, then seals queued
  // segments on its next round): the thread that makes it waits inside it
  // until ReleaseHeld(), a Crash or a Reset. One call: later ones pass. A
  // test uses it to keep that thread from sealing a full segment, so that
  // a durable write in the next one must seal it itself.
  virtual void HoldNextWriteBehind() = 0;
  // Whether a held call is waiting now.
  virtual bool Holding() const = 0;
  virtual void ReleaseHeld() = 0;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_ENV_FAULT_ENV_H_
