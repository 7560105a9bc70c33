/*
 * async_flag.c: two threads pass a token back and forth through a flag,
 * each spinning on it without any syscall until the other sets it. Under
 * trr, which runs one thread at a time, every hand-over needs the spinning
 * thread to be preempted in user code (an asynchronous point).
 */
#include <pthread.h>
#include <stdio.h>

#define ROUNDS 10

static volatile int turn; /* 0: main's turn, 1: the worker's */
static volatile long work_done;

static void *worker(void *arg) {
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        while (turn != 1) {
        }
        work_done += r;
        turn = 0;
    }
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    for (int r = 0; r < ROUNDS; r++) {
        turn = 1;
        while (turn != 0) {
        }
    }
    pthread_join(t, NULL);
    printf("rounds: %d, work done: %ld\n", ROUNDS, work_done);
    if (work_done != ROUNDS * (ROUNDS - 1) / 2) {
        printf("FAIL: work done %ld\n", work_done);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
