/*
 * leader_exit: the main thread leaves with SYS_exit while a worker goes on,
 * prints, and ends the process with exit(3). Replay must print the worker's
 * output and end with the worker's status.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

static pthread_barrier_t started;

static void *worker(void *arg) {
    (void)arg;
    pthread_barrier_wait(&started);
    /* Wait until the leader is gone: its /proc/PID/task entry disappears
       (it stays a zombie until the whole group exits). */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", getpid());
    for (int i = 0; i < 1000 && access(path, F_OK) == 0; i++) usleep(1000);
    const char line[] = "worker: write after the leader exited\n";
    CHECK(write(1, line, strlen(line)) == (ssize_t)strlen(line), "worker write");
    struct sigaction sa;
    CHECK(sigaction(SIGUSR1, NULL, &sa) == 0, "worker sigaction");
    printf("worker: printf after the leader exited\n");
    printf("EXIT-SUCCESS\n");
    fflush(stdout);
    exit(3);
}

int main(void) {
    pthread_t t;
    printf("leader: starting a worker\n");
    fflush(stdout);
    pthread_barrier_init(&started, NULL, 2);
    MUST(pthread_create(&t, NULL, worker, NULL) == 0, "pthread_create");
    pthread_barrier_wait(&started);
    syscall(SYS_exit, 0);
    return 99;
}
