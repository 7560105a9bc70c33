/* signals.c - synchronous signals for the trr e2e suite.
 *
 * Exercises: rt_sigaction (SA_SIGINFO, SA_ONSTACK, SA_RESETHAND, SA_NODEFER),
 * rt_sigreturn, raise (tgkill), kill, tgkill, tkill, rt_sigqueueinfo
 * (sigqueue, queued RT signals), rt_sigprocmask + rt_sigpending,
 * rt_sigsuspend, rt_sigtimedwait, signalfd4, sigaltstack, hardware faults
 * handled in user space (SIGSEGV null write + write to read-only page,
 * SIGFPE integer divide by zero, SIGILL from ud2 / __builtin_trap, SIGBUS
 * past the end of a file mapping, SIGTRAP from int3), handlers that
 * siglongjmp out or resume by editing the ucontext RIP, and a signal sent
 * by a child process that can only be delivered inside ppoll() (its mask
 * blocks it everywhere else), so it always interrupts the syscall.
 *
 * No timers: every signal is either synchronous or delivered at a syscall
 * boundary.  Ends with EXIT-SUCCESS / exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

/* ---- generic recording handler ---- */
static volatile sig_atomic_t hits;
static volatile sig_atomic_t last_signo, last_code, last_pid_is_self, last_value;
static volatile sig_atomic_t depth, max_depth;
static volatile sig_atomic_t reraise;

static void rec_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    hits++;
    last_signo = sig;
    last_code = si->si_code;
    last_pid_is_self = si->si_pid == getpid();
    last_value = si->si_value.sival_int;
    if (reraise) {
        reraise = 0;
        raise(sig);
    }
    depth--;
}

static int install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

static void reset_rec(void)
{
    hits = 0;
    last_signo = last_code = last_pid_is_self = last_value = 0;
    depth = max_depth = 0;
}

/* ---- fault handling ---- */
static sigjmp_buf jb;
static volatile sig_atomic_t fault_signo, fault_code;
static void *volatile fault_addr;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fault_signo = sig;
    fault_code = si->si_code;
    fault_addr = si->si_addr;
    siglongjmp(jb, 1);
}

/* resume after a 2-byte ud2 by editing the saved RIP */
static volatile sig_atomic_t ill_resumed;
static void ill_skip_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    const unsigned char *ip = (const unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
    if (si->si_code == ILL_ILLOPN && ip[0] == 0x0f && ip[1] == 0x0b) {
        uc->uc_mcontext.gregs[REG_RIP] += 2;
        ill_resumed++;
    }
}

/* int3 leaves RIP after the breakpoint; just record it */
static volatile sig_atomic_t trap_hits, trap_code_ok;
static void trap_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    const unsigned char *ip = (const unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
    trap_hits++;
    trap_code_ok = si->si_code == SI_KERNEL && ip[-1] == 0xcc;
}

/* ---- alt stack ---- */
static char *alt_base;
static size_t alt_size;
static volatile sig_atomic_t on_alt, ss_flag_onstack;
static void alt_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    char local;
    on_alt = (&local >= alt_base && &local < alt_base + alt_size);
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0)
        ss_flag_onstack = (cur.ss_flags & SS_ONSTACK) != 0;
}

int main(void)
{
    pid_t me = getpid();
    struct sigaction query;

    /* ---- raise / kill / tgkill with SA_SIGINFO ---- */
    reset_rec();
    CHECK(install(SIGUSR1, rec_handler, 0) == 0, "sigaction SIGUSR1");
    CHECK(raise(SIGUSR1) == 0 && hits == 1 && last_signo == SIGUSR1, "raise(SIGUSR1) delivered");
    CHECK(last_code == SI_TKILL && last_pid_is_self, "raise: si_code SI_TKILL from self");
    CHECK(kill(me, SIGUSR1) == 0 && hits == 2 && last_code == SI_USER && last_pid_is_self,
          "kill(getpid) delivered with SI_USER");
    CHECK(syscall(SYS_tgkill, me, (pid_t)syscall(SYS_gettid), SIGUSR1) == 0 && hits == 3 &&
              last_code == SI_TKILL,
          "tgkill delivered with SI_TKILL");
    CHECK(syscall(SYS_tkill, (pid_t)syscall(SYS_gettid), SIGUSR1) == 0 && hits == 4, "tkill delivered");
    CHECK(kill(me, 0) == 0, "kill(pid, 0) probes without delivering");
    CHECK(hits == 4, "signal 0 not delivered");

    /* ---- sigqueue: queued RT signals keep values and order ---- */
    {
        reset_rec();
        int rt = SIGRTMIN + 1;
        static int seen[3];
        CHECK(install(rt, rec_handler, 0) == 0, "sigaction SIGRTMIN+1");
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, rt);
        CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0, "block SIGRTMIN+1");
        for (int i = 1; i <= 3; i++)
            sigqueue(me, rt, (union sigval){.sival_int = 100 * i});
        CHECK(hits == 0, "queued RT signals not delivered while blocked");
        sigset_t pend;
        CHECK(sigpending(&pend) == 0 && sigismember(&pend, rt), "sigpending shows RT signal");
        /* collect them one at a time with sigwaitinfo to check order */
        int order_ok = 1;
        for (int i = 0; i < 3; i++) {
            siginfo_t si;
            struct timespec zero = {0, 0};
            int s = sigtimedwait(&set, &si, &zero);
            seen[i] = si.si_value.sival_int;
            if (s != rt || si.si_code != SI_QUEUE || seen[i] != 100 * (i + 1))
                order_ok = 0;
        }
        printf("sigqueue values: %d %d %d\n", seen[0], seen[1], seen[2]);
        CHECK(order_ok, "3 queued RT signals received in order with SI_QUEUE");
        sigqueue(me, rt, (union sigval){.sival_int = 77});
        CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0 && hits == 1 && last_value == 77 &&
                  last_code == SI_QUEUE,
              "queued RT signal delivered to handler on unblock with its value");
    }

    /* ---- rt_sigprocmask: pending signal delivered on unblock ---- */
    {
        reset_rec();
        CHECK(install(SIGUSR2, rec_handler, 0) == 0, "sigaction SIGUSR2");
        sigset_t set, old, pend;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR2);
        CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0, "block SIGUSR2");
        raise(SIGUSR2);
        raise(SIGUSR2); /* standard signals coalesce */
        CHECK(hits == 0, "blocked SIGUSR2 not delivered");
        CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGUSR2) && !sigismember(&pend, SIGUSR1),
              "sigpending contains SIGUSR2 only");
        CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0, "unblock SIGUSR2");
        CHECK(hits == 1 && last_signo == SIGUSR2, "pending SIGUSR2 delivered exactly once on unblock");
        sigset_t now;
        CHECK(sigprocmask(SIG_SETMASK, NULL, &now) == 0 && !sigismember(&now, SIGUSR2), "mask query");
        CHECK(sigpending(&pend) == 0 && !sigismember(&pend, SIGUSR2), "nothing pending afterwards");
    }

    /* ---- signal raised inside its own handler: deferred vs SA_NODEFER ---- */
    {
        reset_rec();
        install(SIGUSR2, rec_handler, 0);
        reraise = 1;
        raise(SIGUSR2);
        CHECK(hits == 2 && max_depth == 1, "re-raise in handler deferred until return (no nesting)");
        reset_rec();
        install(SIGUSR2, rec_handler, SA_NODEFER);
        reraise = 1;
        raise(SIGUSR2);
        CHECK(hits == 2 && max_depth == 2, "SA_NODEFER allows nested delivery");
    }

    /* ---- SA_RESETHAND ---- */
    {
        reset_rec();
        install(SIGUSR2, rec_handler, SA_RESETHAND);
        raise(SIGUSR2);
        CHECK(hits == 1, "SA_RESETHAND handler ran");
        CHECK(sigaction(SIGUSR2, NULL, &query) == 0 && query.sa_handler == SIG_DFL,
              "SA_RESETHAND reset disposition to SIG_DFL");
    }

    /* ---- SIG_IGN ---- */
    {
        reset_rec();
        signal(SIGUSR2, SIG_IGN);
        CHECK(raise(SIGUSR2) == 0 && hits == 0, "ignored signal has no effect");
        CHECK(sigaction(SIGUSR2, NULL, &query) == 0 && query.sa_handler == SIG_IGN, "SIG_IGN queried back");
    }

    /* ---- sigsuspend ---- */
    {
        reset_rec();
        install(SIGUSR2, rec_handler, 0);
        sigset_t set, old, waitmask;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR2);
        sigprocmask(SIG_BLOCK, &set, &old);
        raise(SIGUSR2);
        sigemptyset(&waitmask);
        int r = sigsuspend(&waitmask);
        CHECK(r == -1 && errno == EINTR && hits == 1, "sigsuspend returns EINTR after handler");
        sigset_t now;
        sigprocmask(SIG_SETMASK, NULL, &now);
        CHECK(sigismember(&now, SIGUSR2), "sigsuspend restored the blocking mask");
        sigprocmask(SIG_SETMASK, &old, NULL);
    }

    /* ---- sigtimedwait ---- */
    {
        reset_rec();
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR2);
        sigprocmask(SIG_BLOCK, &set, &old);
        struct timespec zero = {0, 0};
        siginfo_t si;
        CHECK(sigtimedwait(&set, &si, &zero) == -1 && errno == EAGAIN, "sigtimedwait nothing pending -> EAGAIN");
        struct timespec ms = {0, 1000000};
        CHECK(sigtimedwait(&set, &si, &ms) == -1 && errno == EAGAIN, "sigtimedwait 1ms timeout -> EAGAIN");
        kill(me, SIGUSR2);
        CHECK(sigtimedwait(&set, &si, &zero) == SIGUSR2 && si.si_code == SI_USER && si.si_pid == me && hits == 0,
              "sigtimedwait consumes pending SIGUSR2 without running the handler");
        sigprocmask(SIG_SETMASK, &old, NULL);
    }

    /* ---- signalfd ---- */
    {
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, &old);
        int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        CHECK(sfd >= 0, "signalfd");
        struct signalfd_siginfo ssi;
        CHECK(read(sfd, &ssi, sizeof ssi) == -1 && errno == EAGAIN, "signalfd empty -> EAGAIN");
        raise(SIGUSR1);
        struct pollfd pf = {.fd = sfd, .events = POLLIN};
        CHECK(poll(&pf, 1, 0) == 1, "signalfd readable after raise");
        CHECK(read(sfd, &ssi, sizeof ssi) == sizeof ssi && ssi.ssi_signo == SIGUSR1 &&
                  ssi.ssi_code == SI_TKILL && ssi.ssi_pid == (uint32_t)me,
              "signalfd_siginfo describes SIGUSR1 from self");
        close(sfd);
        sigprocmask(SIG_SETMASK, &old, NULL);
    }

    /* ---- sigaltstack + SA_ONSTACK ---- */
    {
        alt_size = 64 * 1024;
        alt_base = malloc(alt_size);
        stack_t ss = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0}, oss;
        CHECK(sigaltstack(&ss, &oss) == 0, "sigaltstack install");
        CHECK(oss.ss_flags & SS_DISABLE, "no previous alt stack");
        install(SIGUSR2, alt_handler, SA_ONSTACK);
        raise(SIGUSR2);
        CHECK(on_alt, "SA_ONSTACK handler ran on the alternate stack");
        CHECK(ss_flag_onstack, "sigaltstack reports SS_ONSTACK inside handler");
        on_alt = 0;
        install(SIGUSR2, alt_handler, 0);
        raise(SIGUSR2);
        CHECK(!on_alt, "handler without SA_ONSTACK ran on the normal stack");
        stack_t cur;
        CHECK(sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_ONSTACK) && cur.ss_sp == alt_base,
              "sigaltstack query outside handler");
        stack_t dis = {.ss_flags = SS_DISABLE};
        CHECK(sigaltstack(&dis, NULL) == 0, "sigaltstack disable");
        free(alt_base);
    }

    /* ---- SIGSEGV: null pointer write, siglongjmp out ---- */
    {
        install(SIGSEGV, fault_handler, SA_NODEFER);
        int *volatile nullp = NULL;
        fault_signo = 0;
        if (sigsetjmp(jb, 1) == 0) {
            *nullp = 1;
            printf("FAIL: null write did not fault\n");
            failures++;
        }
        printf("caught signal %d\n", (int)fault_signo);
        CHECK(fault_signo == SIGSEGV && fault_code == SEGV_MAPERR && fault_addr == NULL,
              "SIGSEGV SEGV_MAPERR at address 0");
        sigset_t now;
        sigprocmask(SIG_SETMASK, NULL, &now);
        CHECK(!sigismember(&now, SIGSEGV), "siglongjmp restored the signal mask");

        /* write to a read-only page */
        char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fault_signo = 0;
        if (sigsetjmp(jb, 1) == 0) {
            *(volatile char *)(ro + 123) = 1;
            printf("FAIL: read-only write did not fault\n");
            failures++;
        }
        CHECK(fault_signo == SIGSEGV && fault_code == SEGV_ACCERR && fault_addr == ro + 123,
              "SIGSEGV SEGV_ACCERR at the written address");
        munmap(ro, 4096);
        signal(SIGSEGV, SIG_DFL);
    }

    /* ---- SIGFPE: integer divide by zero ---- */
    {
        install(SIGFPE, fault_handler, SA_NODEFER);
        volatile int a = 17, b = 0, c = 0;
        fault_signo = 0;
        if (sigsetjmp(jb, 1) == 0) {
            c = a / b;
            printf("FAIL: divide by zero did not fault (%d)\n", c);
            failures++;
        }
        printf("caught signal %d\n", (int)fault_signo);
        CHECK(fault_signo == SIGFPE && fault_code == FPE_INTDIV, "SIGFPE FPE_INTDIV");
        signal(SIGFPE, SIG_DFL);
    }

    /* ---- SIGILL: __builtin_trap (siglongjmp) and ud2 (resume via ucontext) ---- */
    {
        install(SIGILL, fault_handler, SA_NODEFER);
        fault_signo = 0;
        if (sigsetjmp(jb, 1) == 0) {
            __builtin_trap();
        }
        printf("caught signal %d\n", (int)fault_signo);
        CHECK(fault_signo == SIGILL && fault_code == ILL_ILLOPN, "SIGILL ILL_ILLOPN from __builtin_trap");

        install(SIGILL, ill_skip_handler, 0);
        ill_resumed = 0;
        volatile int after = 0;
        __asm__ volatile("ud2" ::: "memory");
        after = 1;
        __asm__ volatile("ud2" ::: "memory");
        after++;
        CHECK(ill_resumed == 2 && after == 2, "ud2 skipped twice by editing RIP in ucontext");
        signal(SIGILL, SIG_DFL);
    }

    /* ---- SIGTRAP: int3 ---- */
    {
        install(SIGTRAP, trap_handler, 0);
        __asm__ volatile("int3" ::: "memory");
        CHECK(trap_hits == 1 && trap_code_ok, "int3 -> SIGTRAP SI_KERNEL, resumed after breakpoint");
        signal(SIGTRAP, SIG_DFL);
    }

    /* ---- SIGBUS: access beyond the end of a file mapping ---- */
    {
        char path[] = "trr-sigbus-XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0, "mkstemp");
        char *m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0); /* file is empty */
        CHECK(m != MAP_FAILED, "mmap empty file");
        install(SIGBUS, fault_handler, SA_NODEFER);
        fault_signo = 0;
        if (m != MAP_FAILED && sigsetjmp(jb, 1) == 0) {
            volatile char x = m[4100];
            (void)x;
            printf("FAIL: read past EOF did not fault\n");
            failures++;
        }
        printf("caught signal %d\n", (int)fault_signo);
        CHECK(fault_signo == SIGBUS && fault_code == BUS_ADRERR && fault_addr == m + 4100,
              "SIGBUS BUS_ADRERR at the accessed address");
        signal(SIGBUS, SIG_DFL);
        munmap(m, 8192);
        close(fd);
        unlink(path);
    }

    /* ---- signal from a child, deliverable only inside ppoll ---- */
    {
        reset_rec();
        install(SIGUSR1, rec_handler, 0); /* no SA_RESTART */
        sigset_t set, old, during;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, &old);
        int p[2];
        CHECK(pipe(p) == 0, "pipe");
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            close(p[0]);
            kill(getppid(), SIGUSR1);
            /* keep p[1] open until the parent kills us, so ppoll can only
             * return because of the signal, never because of EOF */
            for (;;)
                pause();
        }
        close(p[1]);
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        sigprocmask(SIG_SETMASK, NULL, &during);
        sigdelset(&during, SIGUSR1);
        int r = ppoll(&pf, 1, NULL, &during);
        int e = errno;
        CHECK(r == -1 && e == EINTR, "ppoll interrupted by child's SIGUSR1 (EINTR)");
        CHECK(hits == 1 && last_signo == SIGUSR1 && last_code == SI_USER && !last_pid_is_self,
              "handler saw SI_USER from another process");
        kill(child, SIGKILL);
        int st;
        CHECK(waitpid(child, &st, 0) == child && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "reap child");
        close(p[0]);
        sigprocmask(SIG_SETMASK, &old, NULL);
        signal(SIGUSR1, SIG_DFL);
    }

    if (failures) {
        printf("FAILURES: %d\n", failures);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
