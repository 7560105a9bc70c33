/*
 * async_spinlock.c: two threads increment a counter under a spin lock
 * (an atomic exchange, no futex). A holder now and then yields inside its
 * critical section, so the other thread spins on the lock without syscalls
 * until trr preempts it and lets the holder finish.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#define ITERATIONS 200

static int lock;
static long counter;
static long max_seen;

static void acquire(void) {
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&lock, __ATOMIC_RELAXED)) {
        }
    }
}

static void release(void) { __atomic_store_n(&lock, 0, __ATOMIC_RELEASE); }

static void *run(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < ITERATIONS; i++) {
        acquire();
        long before = counter;
        if (i % 20 == (int)id) sched_yield(); /* the other thread spins meanwhile */
        counter = before + 1;
        if (counter > max_seen) max_seen = counter;
        release();
    }
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t a, b;
    pthread_create(&a, NULL, run, (void *)0);
    pthread_create(&b, NULL, run, (void *)10);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("counter: %ld (max seen %ld)\n", counter, max_seen);
    if (counter != 2 * ITERATIONS) {
        printf("FAIL: lost updates\n");
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
