// LowerThreadPriority: called at the start of a background thread
// (compaction, the scrubber; not the log's prefault thread, which does
// the writers' page faults ahead of them). On Linux it raises the calling thread's nice
// value, so that on a machine with fewer cores than busy threads the
// scheduler prefers foreground writers: a writer preempted while it holds a
// sequence number delays every later writer's acknowledgment.
//
// NameThisThread: gives the calling thread a name (at most 15 characters)
// that ps, top, perf and gdb show, so that a profile tells the writers from
// the prefault thread, the compactor, the flusher and the scrubber.
//
// StartThread: std::thread(f), except that a thread the system cannot
// start for lack of resources (pthread_create's EAGAIN: memory for the
// stack, the thread limit) throws std::bad_alloc, which every entry point
// reports as NO_MEMORY, instead of std::system_error, which read
// "internal error: Resource temporarily unavailable" (found by oom_test's
// open sweeps, 2026-11-29).
//
// Thread contract: LowerThreadPriority and NameThisThread affect only the
// calling thread, and their failures are ignored; StartThread is called by
// any thread.
#ifndef FIRKIN_CORE_UTIL_BACKGROUND_H_
#define FIRKIN_CORE_UTIL_BACKGROUND_H_

#include <pthread.h>
#include <cstddef>
#include <new>
#include <system_error>
#include <thread>
#include <utility>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace firkin {

inline void LowerThreadPriority() {
#ifdef __linux__
  const long tid = syscall(SYS_gettid);
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 10);
#endif
}

// Linux keeps at most 15 bytes of a thread's name and refuses a longer one
// (the thread keeps the process's name): the size is checked at compile time.
template <size_t N>
inline void NameThisThread(const char (&name)[N]) {
  static_assert(N <= 16, "a thread name is at most 15 characters on Linux");
#ifdef __linux__
  (void)pthread_setname_np(pthread_self(), name);
#else
  (void)name;
#endif
}

template <class F>
std::thread StartThread(F&& f) {
  try {
    return std::thread(std::forward<F>(f));
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::resource_unavailable_try_again ||
        e.code() == std::errc::not_enough_memory) {
      throw std::bad_alloc();
    }
    throw;
  }
}

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_BACKGROUND_H_
