// LowerThreadPriority: called at the start of a background thread
// (compaction, the scrubber; not the log's prefault thread, which does
// the writers' page faults ahead of them). On Linux it raises the calling thread's nice
// value, so that on a machine with fewer cores than busy threads the
// scheduler prefers foreground writers: a writer preempted while it holds a
// sequence number delays every later writer's acknowledgment.
//
// Thread contract: affects only the calling thread; failures are ignored.
#ifndef FIRKIN_CORE_UTIL_BACKGROUND_H_
#define FIRKIN_CORE_UTIL_BACKGROUND_H_

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

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_BACKGROUND_H_
