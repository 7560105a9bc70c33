/*
 * check.h: the self-checking helpers every test program uses. CHECK prints
 * "what: ok" or a FAIL line and counts failures; MUST stops the program at
 * the first failure. Programs print EXIT-SUCCESS when failures stays 0.
 */
#ifndef TRR_TEST_CHECK_H
#define TRR_TEST_CHECK_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, what)                                                    \
    do {                                                                     \
        if (cond) {                                                          \
            printf("%s: ok\n", what);                                        \
        } else {                                                             \
            printf("FAIL: %s (line %d, errno=%s)\n", what, __LINE__,         \
                   strerrorname_np(errno) ? strerrorname_np(errno) : "?");   \
            failures++;                                                      \
        }                                                                    \
    } while (0)

#define MUST(cond, what)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("FAIL: %s (line %d, errno=%s)\n", what, __LINE__,         \
                   strerrorname_np(errno) ? strerrorname_np(errno) : "?");   \
            fflush(stdout);                                                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#endif
