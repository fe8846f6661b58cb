// Per-thread objects that out of memory cannot turn into an abort.
//
// A C++ `thread_local` with a destructor registers that destructor, in each
// thread at its first use, through __cxa_thread_atexit; when glibc cannot
// allocate the list entry it ends the process ("Fatal glibc error: failed to
// register TLS destructor: out of memory"). Every thread's first call into
// Firkin touches several such objects (scratch buffers, the epoch slot, the
// C API's last error), so one failed allocation on a new thread killed the
// application. Here the destructors go on a list of our own, hung from one
// pthread key: its entry is allocated with `new` (std::bad_alloc, which
// the callers already report as FIRKIN_NO_MEMORY), and the key's value is
// set once per thread in the key's static block (glibc allocates only past
// its first 32 keys; a failure then is std::bad_alloc too).
//
// AtThreadExit(fn, arg) runs fn(arg) when the calling thread exits (after
// its C++ thread_local destructors; last registered, first run). A
// function registered while the list runs (an exit function that touches a
// PerThread object again) runs too: glibc calls the key's destructor again.
// The main thread's list does not run at exit() (pthread keys are per
// thread): its objects stay reachable from its TLS until the process ends.
//
// PerThread<T, Tag>() is the calling thread's T (value-initialized at its
// first use, destroyed at its exit), one per Tag: give each use site its
// own tag type, so that two sites never share a buffer. The pointer is a
// trivial thread_local: an access is a TLS load and a null test.
//
// A per-thread container reused from call to call keeps the room of its
// largest use for as long as the thread lives (a batch of 200,000 puts
// left its writer 28 MiB for good until 2026-11-29): its user hands
// it to ReleaseLarge once a call is done with it, and one whose room is
// over max_bytes is freed (a large call pays an allocation instead).
//
// Thread contract: each function acts on the calling thread's own state
// (ReleaseLarge: on the container it is given); nothing here is shared
// between threads. Throws std::bad_alloc only.
// (The library must stay loaded while threads that used it run: libfirkin
// is linked -z nodelete, capi/meson.build.)
#ifndef FIRKIN_CORE_UTIL_PER_THREAD_H_
#define FIRKIN_CORE_UTIL_PER_THREAD_H_

#include <cstddef>
#include <memory>

namespace firkin {

// Runs fn(arg) at the calling thread's exit. Throws std::bad_alloc (fn not
// registered) when it cannot.
void AtThreadExit(void (*fn)(void*), void* arg);

namespace per_thread_detail {
template <class T, class Tag>
struct Cell {
  static thread_local T* p;
  static void Destroy(void*) noexcept {
    T* o = p;
    p = nullptr;  // a later use on this (exiting) thread makes a new one
    delete o;
  }
  static T& Make() {
    std::unique_ptr<T> made(new T());
    AtThreadExit(&Destroy, nullptr);
    p = made.release();
    return *p;
  }
};
template <class T, class Tag>
thread_local T* Cell<T, Tag>::p = nullptr;
}  // namespace per_thread_detail

template <class T, class Tag>
inline T& PerThread() {
  using C = per_thread_detail::Cell<T, Tag>;
  T* p = C::p;
  return __builtin_expect(p != nullptr, 1) ? *p : C::Make();
}

// The calling thread's T for Tag if it has one, else nullptr (never makes one).
template <class T, class Tag>
inline T* PerThreadIfMade() {
  return per_thread_detail::Cell<T, Tag>::p;
}

// Frees *c's room if it is over max_bytes (see above): any container with
// capacity() and swap (a vector, a string). Never throws.
template <class C>
inline void ReleaseLarge(C* c, size_t max_bytes) noexcept {
  if (c->capacity() * sizeof(typename C::value_type) > max_bytes) C().swap(*c);
}

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_PER_THREAD_H_
