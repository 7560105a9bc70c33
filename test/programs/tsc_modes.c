/* tsc_modes.c - the program's own PR_SET_TSC/PR_GET_TSC for the trr e2e suite.
 *
 * trr runs every recorded thread with rdtsc trapped (PR_TSC_SIGSEGV); the
 * program must still see its own mode: PR_GET_TSC answers what it set,
 * rdtsc faults only once it asked for that, a forked child inherits the
 * mode, and an invalid mode is refused. And trr's trapping must not show:
 * an rdtsc while SIGSEGV is blocked or ignored leaves the mask and the
 * handler as they were (the kernel resets them when it forces the fault).
 * Ends with EXIT-SUCCESS / exit 0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

#include "check.h"
#include "segv_probe.h"


static void run_rdtsc(void) {
    volatile uint64_t t = __rdtsc();
    (void)t;
}

/* 1 when rdtsc raised SIGSEGV, 0 when it ran. */
static int rdtsc_faults(void) { return faults(run_rdtsc); }

static int tsc_mode(void) {
    int mode = -1;
    MUST(prctl(PR_GET_TSC, &mode) == 0, "PR_GET_TSC");
    return mode;
}

int main(void) {
    MUST(install_segv_probe() == 0, "sigaction");

    CHECK(tsc_mode() == PR_TSC_ENABLE, "mode starts enabled");
    CHECK(!rdtsc_faults(), "rdtsc runs when enabled");

    MUST(prctl(PR_SET_TSC, PR_TSC_SIGSEGV) == 0, "PR_SET_TSC SIGSEGV");
    CHECK(tsc_mode() == PR_TSC_SIGSEGV, "mode reads back SIGSEGV");
    CHECK(rdtsc_faults(), "rdtsc faults in SIGSEGV mode");
    CHECK(segv_code == SI_KERNEL, "the fault is SI_KERNEL");

    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) _exit(tsc_mode() == PR_TSC_SIGSEGV && rdtsc_faults() ? 0 : 1);
    int status = 0;
    MUST(waitpid(child, &status, 0) == child, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a forked child inherits the mode");

    errno = 0;
    CHECK(prctl(PR_SET_TSC, 7) == -1 && errno == EINVAL, "an invalid mode is refused");
    CHECK(prctl(PR_GET_TSC, (int *)8) == -1 && errno == EFAULT, "a bad pointer is EFAULT");

    MUST(prctl(PR_SET_TSC, PR_TSC_ENABLE) == 0, "PR_SET_TSC ENABLE");
    CHECK(tsc_mode() == PR_TSC_ENABLE, "mode reads back enabled");
    CHECK(!rdtsc_faults(), "rdtsc runs again");
    printf("rdtsc values differ from run to run: %d\n", __rdtsc() != 0);

    /* rdtsc with SIGSEGV blocked, then ignored: nothing about SIGSEGV changes. */
    sigset_t segv, now;
    sigemptyset(&segv);
    sigaddset(&segv, SIGSEGV);
    MUST(sigprocmask(SIG_BLOCK, &segv, NULL) == 0, "block SIGSEGV");
    volatile uint64_t t1 = __rdtsc();
    (void)t1;
    MUST(sigprocmask(SIG_SETMASK, NULL, &now) == 0, "read mask");
    CHECK(sigismember(&now, SIGSEGV), "SIGSEGV is still blocked after rdtsc");
    struct sigaction cur;
    MUST(sigaction(SIGSEGV, NULL, &cur) == 0, "read action");
    CHECK(cur.sa_sigaction == on_segv, "the SIGSEGV handler is still set after rdtsc");
    MUST(sigprocmask(SIG_UNBLOCK, &segv, NULL) == 0, "unblock SIGSEGV");
    MUST(prctl(PR_SET_TSC, PR_TSC_SIGSEGV) == 0, "PR_SET_TSC SIGSEGV again");
    CHECK(rdtsc_faults(), "and the handler still catches a fault");
    MUST(prctl(PR_SET_TSC, PR_TSC_ENABLE) == 0, "PR_SET_TSC ENABLE again");
    MUST(signal(SIGSEGV, SIG_IGN) != SIG_ERR, "ignore SIGSEGV");
    volatile uint64_t t2 = __rdtsc();
    (void)t2;
    MUST(sigaction(SIGSEGV, NULL, &cur) == 0, "read action");
    CHECK(cur.sa_handler == SIG_IGN, "SIGSEGV is still ignored after rdtsc");
    pid_t kid = fork();
    MUST(kid >= 0, "fork");
    if (kid == 0) {
        /* The same in a child, which inherited the blocked mask and the action. */
        MUST(sigprocmask(SIG_BLOCK, &segv, NULL) == 0, "block SIGSEGV");
        volatile uint64_t t3 = __rdtsc();
        (void)t3;
        struct sigaction c;
        sigprocmask(SIG_SETMASK, NULL, &now);
        sigaction(SIGSEGV, NULL, &c);
        _exit(sigismember(&now, SIGSEGV) && c.sa_handler == SIG_IGN ? 0 : 1);
    }
    MUST(waitpid(kid, &status, 0) == kid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "and in a forked child");

    if (failures) return 1;
    puts("EXIT-SUCCESS");
    return 0;
}
