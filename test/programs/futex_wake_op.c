/* futex_wake_op.c - a waker's memory effects before the woken thread runs.
 *
 * FUTEX_WAKE_OP changes a second word and wakes a waiter in one call, so the
 * woken thread sees the change as soon as its FUTEX_WAIT returns, while the
 * waker may still be on its way out of the kernel. Rounds of: the main
 * thread waits, a worker sleeps a little (so the wait has usually begun),
 * then sets the round's flag with FUTEX_WAKE_OP and the main thread checks
 * it and prints what it saw. The wait has a time limit, so that a wake that
 * came before it (on a loaded machine) cannot leave the main thread
 * waiting for ever.
 *
 * Exercises: futex WAIT and WAKE_OP between threads, nanosleep, output.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define ROUNDS 12

static volatile uint32_t word[ROUNDS];
static volatile uint32_t flag[ROUNDS];

static long futex(volatile uint32_t *uaddr, int op, uint32_t val, volatile uint32_t *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, NULL, uaddr2, val3);
}

static void *waker(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
        /* flag[r] = 1, and wake one waiter on word[r] (the comparison does not matter: one is woken either way). */
        futex(&word[r], FUTEX_WAKE_OP, 1, &flag[r], FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0));
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    MUST(pthread_create(&t, NULL, waker, NULL) == 0, "pthread_create");
    int seen = 0;
    for (int r = 0; r < ROUNDS; r++) {
        /* A wake that came before the wait began is not lost: the wait times out and the flag is looked at again. */
        struct timespec limit = {0, 10000000};
        while (flag[r] == 0) syscall(SYS_futex, &word[r], FUTEX_WAIT, 0, &limit, NULL, 0);
        seen += flag[r] == 1;
    }
    MUST(pthread_join(t, NULL) == 0, "pthread_join");
    printf("rounds: %d\n", seen);
    CHECK(seen == ROUNDS, "every wake came with its flag set");
    if (failures == 0) printf("EXIT-SUCCESS\n");
    return failures != 0;
}
