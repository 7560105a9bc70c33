/*
 * watch_late.c: a watched local variable written a few times among many
 * events, the last writes late, on a stack page that calls write all the
 * time; for the gdb test of watchpoints going backwards over long stretches
 * of events (gdb-watch-late.test.ts). trr images such a stretch every few
 * events before searching it with the watch armed, and goes to the write it
 * finds from the image nearest before it; every write must still be found,
 * in order, as gdb's own `record full` finds them. The L_ comments mark the
 * lines the test looks for.
 */
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) void touch(volatile unsigned long *p, unsigned long v) {
    *p = v; /* L_touch */
}

/* Stack traffic next to the watched variable (its frame is just below main's). */
__attribute__((noinline)) unsigned long churn(unsigned long n) {
    volatile unsigned long buf[8] = {0};
    for (unsigned long i = 0; i < 12; i++) buf[i % 8] += i * n;
    return buf[3];
}

static unsigned long stretch(unsigned long rounds) {
    unsigned long s = 0;
    for (unsigned long i = 0; i < rounds; i++) {
        s += churn(i);
        s += (unsigned long)getppid() & 1;
    }
    return s;
}

int main(void) {
    volatile unsigned long watched;
    unsigned long s = 0;
    watched = 1; /* L_first */
    s += stretch(40);
    touch(&watched, 2);
    s += stretch(40);
    watched = 5; /* L_direct */
    s += stretch(3);
    touch(&watched, 7); /* an excursion: the old value comes back */
    s += stretch(1);
    touch(&watched, 5);
    s += stretch(40);
    printf("%lu %lu\n", s & 1, watched); /* L_end */
    printf("EXIT-SUCCESS\n");
    return 0;
}
