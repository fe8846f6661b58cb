// Asymmetric fences, for Dekker-style handshakes in which one side runs on
// every write and the other rarely. In such a handshake each side stores
// and then loads what the other side stored (a writer enters the gate and
// reads whether it is closed; the closer closes it and reads the writers'
// counts), and each side needs a full fence between its store and its
// load. On x86 a full fence (mfence, or a locked instruction) waits until
// every earlier store has left the store buffer: after an in-place put
// that is the copy of a whole record, whose lines the core may not own
// yet. LightFence is what the frequent side pays instead: a compiler
// barrier only, once HeavyFence, on the rare side, makes every running
// thread of the process execute a full barrier (Linux membarrier,
// MEMBARRIER_CMD_PRIVATE_EXPEDITED; a thread that is not running passes
// one at its context switch). Where membarrier is missing or refused,
// both are full fences.
//
// EnableAsymmetricFences registers the process with membarrier and turns
// LightFence light; it runs once (later calls return at once) and must
// happen before any handshake that uses these fences can run concurrently
// (DB::Open calls it before a database exists, so every handshake of every
// database sees it done). It is never undone: a light side that read it
// on always meets a heavy side that uses membarrier. Fork keeps the
// registration (the child's membarrier works without registering again).
//
// Thread contract: all three from any thread.
#ifndef FIRKIN_CORE_UTIL_ASYMMETRIC_FENCE_H_
#define FIRKIN_CORE_UTIL_ASYMMETRIC_FENCE_H_

#include <atomic>

namespace firkin {

namespace asymmetric_fence_detail {
extern std::atomic<bool> g_light;  // membarrier registered: LightFence is light
}  // namespace asymmetric_fence_detail

void EnableAsymmetricFences();

// The frequent side, between its store and its load.
inline void LightFence() {
  if (__builtin_expect(asymmetric_fence_detail::g_light.load(std::memory_order_relaxed), 1)) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

// The rare side, between its store and its load (a system call that
// interrupts every core running a thread of the process).
void HeavyFence();

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_ASYMMETRIC_FENCE_H_
