/* exec_fail_busy.c - failing execve calls while another thread's sleeps end.
 *
 * A thread sleeps in short naps while the main thread makes execve calls
 * that fail (ENOENT), as a shell searching PATH does. When a nap ends while
 * an execve is in the kernel, the recording has the execve's entry and its
 * exit as two events with the other thread's in between; replay must make
 * the failing call at its exit then, as it does when the two are together.
 *
 * Exercises: execve failures, a second thread's blocking syscalls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static volatile int done;

static void *napper(void *arg) {
    (void)arg;
    struct timespec nap = {0, 50000};
    while (!done) nanosleep(&nap, NULL);
    return NULL;
}

int main(void) {
    pthread_t t;
    MUST(pthread_create(&t, NULL, napper, NULL) == 0, "pthread_create");
    char *argv[] = {"missing", NULL};
    char *envp[] = {NULL};
    int enoent = 0;
    for (int i = 0; i < 1500; i++) {
        errno = 0;
        if (execve("/nonexistent-dir/missing", argv, envp) == -1 && errno == ENOENT) enoent++;
    }
    done = 1;
    MUST(pthread_join(t, NULL) == 0, "pthread_join");
    CHECK(enoent == 1500, "every execve of a missing file failed with ENOENT");
    if (failures == 0) printf("EXIT-SUCCESS\n");
    return failures != 0;
}
