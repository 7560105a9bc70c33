/*
 * reverse_exact.c: code that runs right after system calls, for the gdb
 * tests of reverse execution, which compare trr with gdb's own `record full`
 * on a native run: a line just after getpid(), a function first called just
 * after a syscall, a library call that makes one, and code between the last
 * syscall and the exit. The L_ comments mark the lines the tests break on.
 */
#include <stdio.h>
#include <unistd.h>

int g;
int g_calls;

__attribute__((noinline)) int bump(int x) {
    g_calls++; /* L_bump_body */
    return x + 1;
}

int main(void) {
    g = 0; /* L_start */
    getpid();
    g = 1; /* L_after_getpid */
    g = bump(g); /* L_first_bump */
    getppid();
    g = bump(g); /* L_bump_after_getppid */
    g = g * 2; /* L_after_bump */
    printf("g = %d, calls = %d\n", g, g_calls);
    printf("EXIT-SUCCESS\n");
    return g == 6 && g_calls == 2 ? 0 : 1;
}
