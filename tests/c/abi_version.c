/*
 * abi_version.c — the header's version macros agree with the library.
 * Prints one line per check and ends with "N passed, N failed".
 */
#include <stdio.h>
#include <string.h>

#include "firkin.h"

static int passed, failed;

static void check(int ok, const char *what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (ok) passed++;
  else failed++;
}

int main(void) {
  char buf[64];
  const char *s = firkin_version_string();
  int v = firkin_version_number();
  check(FIRKIN_VERSION_NUMBER == v, "FIRKIN_VERSION_NUMBER == firkin_version_number()");
  check(FIRKIN_VERSION_NUMBER == FIRKIN_VERSION_MAJOR * 10000 + FIRKIN_VERSION_MINOR * 100 +
                                     FIRKIN_VERSION_PATCH,
        "FIRKIN_VERSION_NUMBER is major*10000 + minor*100 + patch");
  check(s != NULL && strcmp(s, FIRKIN_VERSION_STRING) == 0,
        "firkin_version_string() == FIRKIN_VERSION_STRING");
  sprintf(buf, "%d.%d.%d", FIRKIN_VERSION_MAJOR, FIRKIN_VERSION_MINOR, FIRKIN_VERSION_PATCH);
  check(strcmp(buf, FIRKIN_VERSION_STRING) == 0, "FIRKIN_VERSION_STRING matches the macros");
  sprintf(buf, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
  check(s != NULL && strcmp(buf, s) == 0, "library string matches library number");
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
