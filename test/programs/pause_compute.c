/* pause_compute.c - computes for a few seconds without any syscall, for
 * interrupting the replay in the middle of a run (gdb's Ctrl-C, DAP's pause).
 *
 * Usage: pause_compute [thread]
 *   thread: the loop runs in a second thread; the main thread waits in
 *   pthread_join meanwhile.
 *
 * before_loop() is called once just before the loop; spin() is the loop.
 * Prints the loop's result and exits with its low 6 bits + 1.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ITERATIONS 1000000000ull

volatile uint64_t progress;
static int before_calls;

__attribute__((noinline)) void before_loop(void)
{
    before_calls++;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) uint64_t spin(uint64_t n)
{
    uint64_t x = 88172645463325252ull;
    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if ((i & 0xffffffu) == 0)
            progress = i; /* L_progress */
    }
    return x;
}

static void *worker(void *arg)
{
    *(uint64_t *)arg = spin(ITERATIONS);
    return NULL;
}

int main(int argc, char **argv)
{
    int threaded = argc > 1 && strcmp(argv[1], "thread") == 0;
    uint64_t r = 0;
    before_loop();
    if (threaded) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, &r) != 0)
            return 100;
        pthread_join(t, NULL);
    } else
        r = spin(ITERATIONS);
    printf("result %016llx after %d call\n", (unsigned long long)r, before_calls);
    return (int)(r & 0x3f) + 1;
}
