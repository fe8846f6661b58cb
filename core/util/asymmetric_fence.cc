#include "core/util/asymmetric_fence.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace firkin {
namespace asymmetric_fence_detail {
std::atomic<bool> g_light{false};
}  // namespace asymmetric_fence_detail

namespace {

#if defined(__linux__) && defined(SYS_membarrier)
long Membarrier(int cmd) { return syscall(SYS_membarrier, cmd, 0, 0); }

bool Register() {
  const long cmds = Membarrier(MEMBARRIER_CMD_QUERY);
  if (cmds < 0 || (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0 ||
      (cmds & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0) {
    return false;
  }
  // Registering waits until every thread of the process sees it; then a
  // barrier proves it works here (a seccomp filter may refuse it).
  return Membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
         Membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
}
#else
bool Register() { return false; }
#endif

}  // namespace

void EnableAsymmetricFences() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (Register()) asymmetric_fence_detail::g_light.store(true, std::memory_order_release);
  });
}

void HeavyFence() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
#if defined(__linux__) && defined(SYS_membarrier)
  if (!asymmetric_fence_detail::g_light.load(std::memory_order_acquire)) return;
  if (Membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
  // It worked when registered, and light sides rely on it now: a process
  // whose membarrier stops working (a seccomp filter installed later)
  // cannot keep the handshakes safe, so it stops here, loudly.
  std::fprintf(stderr, "firkin: membarrier(PRIVATE_EXPEDITED) failed after it was registered\n");
  std::abort();
#endif
}

}  // namespace firkin
