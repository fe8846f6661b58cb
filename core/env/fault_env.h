// FaultEnv: a fault-injecting Env for tests (DESIGN §8), behind
// capi/firkin_testing.h.
//
// It works over real directories. Data written to a file (mapped or
// sequential) is kept in memory until synced; Sync writes the synced range
// through to the real file. Creations and renames are recorded as "not yet
// durable" until SyncDir of their directory. Crash(mode, seed) simulates a
// power loss: for each open file, unsynced bytes are dropped, or a random
// prefix of them is written through, or a random prefix followed by random
// garbage; files created since the last SyncDir are removed; un-synced
// renames are undone. After a crash every call fails with kIOError until
// Reset(). It can also make the N-th call of a kind fail with EIO/ENOSPC.
//
// Thread contract: all methods are thread-safe (one internal mutex).
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
  enum class CrashMode : int { kDrop = 0, kPrefix = 1, kGarbage = 2 };

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
  // Clears faults, the crashed state and counters.
  virtual void Reset() = 0;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_ENV_FAULT_ENV_H_
