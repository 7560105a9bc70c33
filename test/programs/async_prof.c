/*
 * async_prof.c: a CPU-time profiler as gperftools has one: ITIMER_PROF
 * raises SIGPROF every millisecond of CPU time, and the handler takes a
 * sample (which function was interrupted, by its address range) while the
 * program computes without any syscall. It stops after enough samples.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

#define SAMPLES 20

static volatile int samples, in_work;
static volatile unsigned long sink;

__attribute__((noinline)) static unsigned long work(unsigned long x) {
    for (int i = 0; i < 20000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    return x;
}

static void on_prof(int sig, siginfo_t *info, void *ctx) {
    (void)sig;
    (void)info;
    unsigned long pc = (unsigned long)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
    if (pc >= (unsigned long)work && pc < (unsigned long)work + 256) in_work++;
    samples++;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    struct itimerval itv = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_PROF, &itv, NULL);
    unsigned long x = 1;
    while (samples < SAMPLES) x = work(x);
    struct itimerval off;
    memset(&off, 0, sizeof off);
    setitimer(ITIMER_PROF, &off, NULL);
    sink = x;
    printf("samples: at least %d, most in work(): %s\n", SAMPLES, in_work * 2 > samples ? "yes" : "no");
    printf("EXIT-SUCCESS\n");
    return 0;
}
