/*
 * segv_probe.h: does an instruction fault? faults(fn) runs fn with a
 * SIGSEGV handler that jumps back (install_segv_probe() sets it), and
 * answers 1 when fn raised SIGSEGV, 0 when it returned; segv_code is the
 * si_code of the last such fault. For the programs that switch an
 * instruction (rdtsc, cpuid) between running and faulting.
 */
#ifndef TRR_TEST_SEGV_PROBE_H
#define TRR_TEST_SEGV_PROBE_H
#include <setjmp.h>
#include <signal.h>

static sigjmp_buf segv_back;
static volatile sig_atomic_t segv_code;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)ctx;
    segv_code = si->si_code;
    siglongjmp(segv_back, 1);
}

static int install_segv_probe(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    return sigaction(SIGSEGV, &sa, NULL);
}

static int faults(void (*fn)(void)) {
    if (sigsetjmp(segv_back, 1) == 0) {
        fn();
        return 0;
    }
    return 1;
}
#endif
