/*
 * watch_hot.c: a watched global on the same page as data a loop writes all
 * the time, for the gdb test of watchpoints going backwards
 * (gdb-watch-hot.test.ts). The loop's counter stores fault on the watched
 * page; trr redirects them (src/replay/watch-alias.ts) and must still stop
 * at every write of the watched global: by a fixed-address store, through a
 * pointer, one byte of it, and in a brief excursion that puts the old value
 * back (the stores to the array next to it fault on the page too).
 * The L_ comments mark the lines the test looks for.
 */
#include <stdio.h>
#include <unistd.h>

volatile unsigned long hot_before;
unsigned long g_watched;
volatile unsigned long hot_after;
unsigned long g_block[4];

__attribute__((noinline)) void through(unsigned long *p, unsigned long v) {
    *p = v; /* L_through */
}

int main(void) {
    unsigned long *volatile alias = &g_watched;
    g_watched = 1; /* L_first */
    for (unsigned long i = 0; i < 3000; i++) {
        hot_before += i;
        hot_after ^= i;
        if (i == 900) g_watched = 2; /* L_excursion */
        if (i == 901) g_watched = 1; /* L_back */
        if (i % 500 == 0) getppid();
    }
    through(alias, 3);
    for (unsigned long i = 0; i < 2000; i++) hot_after += i;
    for (int k = 0; k < 4; k++) ((volatile unsigned long *)g_block)[k] = 0x11;
    *(volatile unsigned char *)alias = 0; /* L_byte */
    for (unsigned long i = 0; i < 2000; i++) hot_before -= i;
    printf("%lu %lu %lu\n", hot_before, hot_after, g_watched); /* L_end */
    printf("EXIT-SUCCESS\n");
    return 0;
}
