/*
 * async_queue.c: a lock-free single-producer single-consumer ring buffer.
 * The producer spins while the ring is full, the consumer while it is
 * empty, both without syscalls; under trr each of those waits ends with an
 * asynchronous preemption.
 */
#include <pthread.h>
#include <stdio.h>

#define SLOTS 64
#define ITEMS 1000

static long ring[SLOTS];
static unsigned head, tail; /* head: next to write (producer), tail: next to read (consumer) */
static long sum, count;

static void *consumer(void *arg) {
    (void)arg;
    for (int i = 0; i < ITEMS; i++) {
        unsigned t = __atomic_load_n(&tail, __ATOMIC_RELAXED);
        while (__atomic_load_n(&head, __ATOMIC_ACQUIRE) == t) {
        }
        long v = ring[t % SLOTS];
        __atomic_store_n(&tail, t + 1, __ATOMIC_RELEASE);
        if (v != i * 3 + 1) {
            printf("FAIL: item %d is %ld\n", i, v);
            return (void *)1;
        }
        sum += v;
        count++;
    }
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t c;
    pthread_create(&c, NULL, consumer, NULL);
    for (int i = 0; i < ITEMS; i++) {
        unsigned h = __atomic_load_n(&head, __ATOMIC_RELAXED);
        while (h - __atomic_load_n(&tail, __ATOMIC_ACQUIRE) == SLOTS) {
        }
        ring[h % SLOTS] = i * 3 + 1;
        __atomic_store_n(&head, h + 1, __ATOMIC_RELEASE);
    }
    void *res;
    pthread_join(c, &res);
    printf("consumed %ld items, sum %ld\n", count, sum);
    if (res != NULL || count != ITEMS || sum != 3L * ITEMS * (ITEMS - 1) / 2 + ITEMS) {
        printf("FAIL: queue lost or reordered items\n");
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
