/*
 * group_args.h — the command-line filter of the C test programs that run
 * the groups (or cases) named as arguments, every one when none is named.
 * A name that no group has fails the run with the list of names there
 * are: a mistyped name used to run nothing and pass ("0 passed, 0
 * failed", exit 0). Arguments that start with '-' are options, left to
 * the program. Header-only; include it once per program.
 *
 *   group_known(name)              notes a group's name (call for each,
 *                                  or let group_wanted do it)
 *   group_wanted(argc, argv, name) notes the name; whether the arguments
 *                                  ask for the group (true when none name
 *                                  a group)
 *   group_args_unknown(argc, argv) once every name is noted: prints each
 *                                  argument that is no group's name, with
 *                                  the names known, to stderr; returns how
 *                                  many there were (the caller fails)
 */
#ifndef FIRKIN_TESTS_C_GROUP_ARGS_H_
#define FIRKIN_TESTS_C_GROUP_ARGS_H_

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *group_names[256];
static size_t group_count;

static void group_known(const char *name) {
  for (size_t i = 0; i < group_count; i++) {
    if (strcmp(group_names[i], name) == 0) return;
  }
  if (group_count < sizeof group_names / sizeof group_names[0]) group_names[group_count++] = name;
}

static bool group_wanted(int argc, char **argv, const char *name) {
  group_known(name);
  bool any = false;
  for (int a = 1; a < argc; a++) {
    if (argv[a][0] == '-') continue;
    any = true;
    if (strcmp(argv[a], name) == 0) return true;
  }
  return !any;
}

static int group_args_unknown(int argc, char **argv) {
  int unknown = 0;
  for (int a = 1; a < argc; a++) {
    if (argv[a][0] == '-') continue;
    bool known = false;
    for (size_t i = 0; i < group_count && !known; i++) known = strcmp(argv[a], group_names[i]) == 0;
    if (known) continue;
    unknown++;
    fprintf(stderr, "%s: no group or case is named '%s'; there are:", argv[0], argv[a]);
    for (size_t i = 0; i < group_count; i++) fprintf(stderr, " %s", group_names[i]);
    fprintf(stderr, "\n");
  }
  return unknown;
}

#endif  // FIRKIN_TESTS_C_GROUP_ARGS_H_
