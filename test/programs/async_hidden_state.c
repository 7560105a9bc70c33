/*
 * async_hidden_state: a syscall-free loop whose general registers are the
 * same at every iteration, while its state changes elsewhere: in memory
 * ("memory": the counter is a variable) or in an SSE register ("sse": the
 * counter is xmm0). Timer signals (setitimer, SIGALRM every 5 ms) land in
 * the loop, so trr must stop the thread there for each of them. Such a
 * loop computes; it is not waiting: the point cannot be found again by its
 * general registers alone, which repeat millions of times.
 *
 * The loop body is one asm block so that the compiler keeps no counter in
 * a general register: eax is zeroed (constant flags too) before a run of
 * instructions that touch no general register.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include "check.h"

#define ITERATIONS 40000000UL

static volatile int ticks;

static void on_tick(int sig) {
    (void)sig;
    ticks++;
}

#define PADDING                                                                \
    "nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"                          \
    "nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"                          \
    "nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"                          \
    "nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"

static unsigned long in_memory(unsigned long limit) {
    static volatile unsigned long n;
    n = 0;
    __asm__ volatile("1: addq $1, %[n]\n"
                     "xor %%eax, %%eax\n" PADDING PADDING
                     "cmpq %[limit], %[n]\n"
                     "jb 1b\n"
                     : [n] "+m"(n)
                     : [limit] "r"(limit)
                     : "eax", "cc", "memory");
    return n;
}

static unsigned long in_sse(unsigned long limit) {
    unsigned long out;
    __asm__ volatile("pxor %%xmm0, %%xmm0\n"
                     "mov $1, %%eax\n"
                     "movq %%rax, %%xmm1\n"
                     "1: paddq %%xmm1, %%xmm0\n"
                     "xor %%eax, %%eax\n" PADDING PADDING
                     "movq %%xmm0, %%rax\n"
                     "cmpq %[limit], %%rax\n"
                     "jb 1b\n"
                     "movq %%xmm0, %[out]\n"
                     : [out] "=r"(out)
                     : [limit] "r"(limit)
                     : "rax", "xmm0", "xmm1", "cc");
    return out;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "memory";
    signal(SIGALRM, on_tick);
    struct itimerval every = {{0, 5000}, {0, 5000}};
    MUST(setitimer(ITIMER_REAL, &every, NULL) == 0, "setitimer");
    unsigned long n = strcmp(mode, "sse") == 0 ? in_sse(ITERATIONS) : in_memory(ITERATIONS);
    struct itimerval off = {{0, 0}, {0, 0}};
    MUST(setitimer(ITIMER_REAL, &off, NULL) == 0, "setitimer off");
    printf("%s loop ran %lu iterations\n", mode, n);
    CHECK(n == ITERATIONS, "the loop counted every iteration");
    FACT(ticks > 0, "timer signals landed in the loop");
    if (failures == 0)
        puts("EXIT-SUCCESS");
    return failures ? 1 : 0;
}
