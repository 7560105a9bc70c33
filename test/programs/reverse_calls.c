/*
 * reverse_calls.c: functions called now and then from a loop that runs
 * without system calls, for the gdb test of reverse-stepi and conditional
 * breakpoints going backwards at a function (gdb-reverse-calls.test.ts).
 * A breakpoint at such a function is reached once in a long run; trr takes
 * the call that entered the function as the place to single-step from
 * (src/replay/call-site.ts) instead of counting the loop's iterations, and
 * must stop exactly where gdb's own `record full` does. Built without
 * optimisation, so the functions have frames (the return address is found
 * above the frame pointer) and `break f` lands after the prologue. The L_
 * comments mark the lines the test looks for.
 */
#include <stdio.h>
#include <unistd.h>

volatile unsigned long acc;

__attribute__((noinline)) void hit(unsigned long i) {
    acc ^= i; /* L_hit */
}

__attribute__((noinline)) unsigned long framed(unsigned long i) {
    volatile unsigned long local = i * 3;
    acc += local;
    return local;
}

int main(void) {
    getppid();
    for (unsigned long i = 0; i < 3000; i++) {
        acc += i;
        if (i % 500 == 250) hit(i);
        if (i % 700 == 3) framed(i);
    }
    getppid();
    printf("%lu\n", acc); /* L_end */
    printf("EXIT-SUCCESS\n");
    return 0;
}
