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
// Thread contract: both affect only the calling thread; failures are ignored.
#ifndef FIRKIN_CORE_UTIL_BACKGROUND_H_
#define FIRKIN_CORE_UTIL_BACKGROUND_H_

#include <pthread.h>
#include <cstddef>
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

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_BACKGROUND_H_
