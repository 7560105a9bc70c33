/*
 * check.h: the self-checking helpers every test program uses. CHECK prints
 * "what: ok" (FACT "what: yes") or a FAIL line and counts failures; MUST
 * stops the program at the first failure. Programs print EXIT-SUCCESS when
 * failures stays 0. Define _GNU_SOURCE before including it.
 */
#ifndef TRR_TEST_CHECK_H
#define TRR_TEST_CHECK_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define PRINT_FAIL(what)                                                     \
    printf("FAIL: %s (line %d, errno=%s)\n", what, __LINE__,                 \
           strerrorname_np(errno) ? strerrorname_np(errno) : "?")

/* Prints "what: WORD" when cond holds, else a FAIL line, and counts it. */
#define CHECK_AS(cond, what, word)                                           \
    do {                                                                     \
        if (cond) {                                                          \
            printf("%s: %s\n", what, word);                                  \
        } else {                                                             \
            PRINT_FAIL(what);                                                \
            failures++;                                                      \
        }                                                                    \
    } while (0)

/* A check ("what: ok"), and a fact about the machine ("what: yes"). */
#define CHECK(cond, what) CHECK_AS(cond, what, "ok")
#define FACT(cond, what) CHECK_AS(cond, what, "yes")

#define MUST(cond, what)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            PRINT_FAIL(what);                                                \
            fflush(stdout);                                                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#endif
