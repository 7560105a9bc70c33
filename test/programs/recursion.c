/*
 * recursion.c: a recursive function whose deepest call makes a syscall, for
 * debugger tests (finish / reverse-finish out of recursion).
 */
#include <stdio.h>
#include <unistd.h>

static long depth_reached;

static long fact(long n) {
    if (n <= 1) {
        depth_reached = getpid() > 0 ? 1 : 0; /* a syscall at the bottom */
        return 1;
    }
    long r = n * fact(n - 1);
    return r;
}

int main(void) {
    long v = fact(6);
    printf("fact(6) = %ld, bottom reached: %s\n", v, depth_reached ? "yes" : "no");
    printf("EXIT-SUCCESS\n");
    return 0;
}
