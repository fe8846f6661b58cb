// AtThreadExit: a list of exit functions per thread, hung from one pthread
// key (see per_thread.h for why not the C++ runtime's).
#include "core/util/per_thread.h"

#include <pthread.h>

#include <new>

namespace firkin {

namespace {

struct ExitEntry {
  void (*fn)(void*);
  void* arg;
  ExitEntry* next;
};

// Runs the exiting thread's list, newest first. glibc has set the key's
// value to null before the call, so an entry registered by one of these
// functions starts a new list, and glibc calls this again for it.
void RunExitList(void* head) {
  for (ExitEntry* e = static_cast<ExitEntry*>(head); e != nullptr;) {
    ExitEntry* next = e->next;
    e->fn(e->arg);
    delete e;
    e = next;
  }
}

pthread_key_t MakeKey() {
  pthread_key_t key;
  if (pthread_key_create(&key, &RunExitList) != 0) throw std::bad_alloc();
  return key;
}

}  // namespace

void AtThreadExit(void (*fn)(void*), void* arg) {
  static const pthread_key_t key = MakeKey();  // (a throw leaves it to the next call)
  auto* head = static_cast<ExitEntry*>(pthread_getspecific(key));
  auto* e = new ExitEntry{fn, arg, head};
  if (pthread_setspecific(key, e) != 0) {
    delete e;
    throw std::bad_alloc();
  }
}

}  // namespace firkin
