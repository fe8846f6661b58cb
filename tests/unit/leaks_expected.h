// LeaksExpected: for a test whose subject keeps memory on purpose (what an
// out-of-memory path cannot free safely and keeps for good: a retired
// index sub-table, a segment directory): while one is alive, LeakSanitizer
// ignores what the constructing thread allocates. A no-op in builds
// without AddressSanitizer.
//
// Thread contract: a local object of the test's own thread.
#ifndef FIRKIN_TESTS_UNIT_LEAKS_EXPECTED_H_
#define FIRKIN_TESTS_UNIT_LEAKS_EXPECTED_H_

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

namespace firkin {

class LeaksExpected {
 public:
#if defined(__SANITIZE_ADDRESS__)
  LeaksExpected() { __lsan_disable(); }
  ~LeaksExpected() { __lsan_enable(); }
#else
  LeaksExpected() {}
#endif
  LeaksExpected(const LeaksExpected&) = delete;
  LeaksExpected& operator=(const LeaksExpected&) = delete;
};

}  // namespace firkin

#endif  // FIRKIN_TESTS_UNIT_LEAKS_EXPECTED_H_
