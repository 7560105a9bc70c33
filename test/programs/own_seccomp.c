/*
 * own_seccomp: a program with seccomp filters of its own. It must see what
 * it would natively: PR_GET_SECCOMP says 0 until it installs a filter;
 * SECCOMP_RET_ERRNO fails a call, SECCOMP_RET_TRAP raises SIGSYS at the
 * call (the handler sets the result), SECCOMP_RET_KILL kills the process at
 * the call, after the stores that came before it.
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include "check.h"

static volatile int sigsys_count;

static void on_sigsys(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    if (sig == SIGSYS && si->si_code == 1 /* SYS_SECCOMP */ && si->si_syscall == SYS_sched_setaffinity && si->si_errno == 7)
        uc->uc_mcontext.gregs[REG_RAX] = 42;
    sigsys_count++;
}

#define ALLOW_UNLESS(nr, action)                                            \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, (action))

static int install(void) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW_UNLESS(SYS_getpriority, SECCOMP_RET_ERRNO | 13),
        ALLOW_UNLESS(SYS_sched_setaffinity, SECCOMP_RET_TRAP | 7),
        ALLOW_UNLESS(SYS_sched_yield, SECCOMP_RET_KILL_PROCESS),
        /* Nothing but the program's own calls may run: trr's syscall buffer must not fstat behind its back. */
        ALLOW_UNLESS(SYS_fstat, SECCOMP_RET_KILL_PROCESS),
        ALLOW_UNLESS(SYS_newfstatat, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int main(void) {
    CHECK(prctl(PR_GET_SECCOMP) == 0, "no filter of its own at first");
    volatile char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    MUST(shared != MAP_FAILED, "mmap shared");
    char name[] = "own-seccomp-XXXXXX";
    int fd = mkstemp(name);
    MUST(fd >= 0 && write(fd, "abcd", 4) == 4 && lseek(fd, 0, SEEK_SET) == 0, "a file to read");
    unlink(name);
    fflush(stdout);
    pid_t kid = fork();
    MUST(kid >= 0, "fork");
    if (kid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigsys;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSYS, &sa, NULL);
        if (install() != 0) _exit(10);
        shared[0] = prctl(PR_GET_SECCOMP) == 2;
        errno = 0;
        shared[1] = getpriority(PRIO_PROCESS, 0) == -1 && errno == 13;
        cpu_set_t set;
        CPU_ZERO(&set);
        shared[2] = syscall(SYS_sched_setaffinity, 0, sizeof set, &set) == 42 && sigsys_count == 1;
        char got[4];
        shared[4] = read(fd, got, 4) == 4 && memcmp(got, "abcd", 4) == 0;
        shared[3] = 77;
        sched_yield();
        _exit(11);
    }
    int status;
    MUST(waitpid(kid, &status, 0) == kid, "waitpid");
    CHECK(shared[0] == 1, "PR_GET_SECCOMP says 2 once the child installed a filter");
    CHECK(shared[1] == 1, "SECCOMP_RET_ERRNO failed getpriority with the filter's errno");
    CHECK(shared[2] == 1, "SECCOMP_RET_TRAP raised SIGSYS and the handler set the result");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "SECCOMP_RET_KILL_PROCESS killed the child with SIGSYS");
    CHECK(shared[3] == 77, "the store before the killing call happened");
    CHECK(shared[4] == 1, "a read of a regular file under the filter (which kills fstat) works");
    CHECK(prctl(PR_GET_SECCOMP) == 0, "the parent still has no filter");
    printf(failures ? "FAILED\n" : "EXIT-SUCCESS\n");
    return failures != 0;
}
