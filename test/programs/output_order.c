/*
 * output_order: threads and child processes write to the shared stdout with
 * no synchronisation, so the interleaving differs from run to run. Replay
 * must reproduce the recorded interleaving exactly. Output is not
 * deterministic natively: the test compares replay with the recording only.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINES 200

static void lines(const char *who) {
    char buf[64];
    for (int i = 0; i < LINES; i++) {
        int n = snprintf(buf, sizeof buf, "%s line %d\n", who, i);
        if (write(1, buf, (size_t)n) != n) _exit(2);
        if (i % 16 == 0) write(2, buf, (size_t)n);
    }
}

static void *thread_main(void *arg) {
    lines((const char *)arg);
    return NULL;
}

int main(void) {
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            lines(k ? "child B" : "child A");
            _exit(0);
        }
    }
    pthread_t t[3];
    const char *names[3] = {"thread 1", "thread 2", "thread 3"};
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, thread_main, (void *)names[i]);
    lines("main");
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    for (int k = 0; k < 2; k++) waitpid(kids[k], NULL, 0);
    printf("EXIT-SUCCESS\n");
    return 0;
}
