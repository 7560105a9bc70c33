/*
 * ptrace_tracer: a program that ptraces its own children, as debuggers and
 * strace do. trr emulates this ptrace (it is the real tracer of everything).
 *  1. TRACEME + exec: the exec stop, PTRACE_O_TRACESYSGOOD, PTRACE_SYSCALL
 *     entry/exit stops with PEEKUSER(orig_rax) and GETREGS(rax), the exit;
 *  2. ATTACH to a child blocked in read(): the SIGSTOP stop, GETSIGINFO,
 *     PEEKDATA/POKEDATA, GETREGS, DETACH; the child's read restarts;
 *  3. SEIZE + INTERRUPT of a running child, PEEKUSER(rip), POKEDATA, CONT;
 *  4. a tracer process that exits while its tracee (not its child) runs;
 *  5. a breakpoint: POKETEXT an int3, the SIGTRAP stop, SETREGS back over
 *     it, SINGLESTEP, CONT.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static volatile long value = 42;
static volatile long stop_flag;

static int exec_child(void) {
    /* Runs after exec under its tracer: one getpid the tracer looks for. */
    long pid = syscall(SYS_getpid);
    return pid > 0 ? 3 : 4;
}

static void traceme_exec(const char *self) {
    fflush(stdout);
    pid_t pid = fork();
    MUST(pid >= 0, "fork");
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(10);
        execl(self, self, "exec-child", (char *)NULL);
        _exit(11);
    }
    int st;
    MUST(waitpid(pid, &st, 0) == pid, "waitpid for the exec stop");
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP, "exec stop is SIGTRAP");
    CHECK(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD) == 0, "PTRACE_SETOPTIONS(TRACESYSGOOD)");
    struct user_regs_struct regs;
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.rip != 0 && regs.rsp != 0, "GETREGS at the exec stop");
    int entries = 0, exits = 0, in_syscall = 0, saw_getpid = 0, getpid_result_ok = 0, bad_stops = 0;
    for (;;) {
        if (ptrace(PTRACE_SYSCALL, pid, 0, 0) != 0) {
            PRINT_FAIL("PTRACE_SYSCALL");
            failures++;
            break;
        }
        MUST(waitpid(pid, &st, 0) == pid, "waitpid in the syscall loop");
        if (!WIFSTOPPED(st)) break;
        if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
            bad_stops++;
            continue;
        }
        errno = 0;
        long nr = ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user_regs_struct, orig_rax), 0);
        if (!in_syscall) {
            entries++;
            if (nr == SYS_getpid) saw_getpid = 1;
        } else {
            exits++;
            if (saw_getpid == 1 && ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && (long)regs.rax == pid) {
                getpid_result_ok = 1;
                saw_getpid = 2;
            }
        }
        in_syscall = !in_syscall;
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "the traced child exited with 3");
    CHECK(bad_stops == 0, "every stop was a syscall stop (SIGTRAP|0x80)");
    FACT(entries > 5, "more than 5 syscall-entry stops");
    CHECK(entries == exits + 1, "entry and exit stops alternate (the last entry is exit_group)");
    CHECK(saw_getpid == 2, "the getpid entry stop (PEEKUSER orig_rax)");
    CHECK(getpid_result_ok, "the getpid exit stop returns the child's pid (GETREGS rax)");
}

static void attach_sleeping(void) {
    int p[2];
    MUST(pipe(p) == 0, "pipe");
    fflush(stdout);
    pid_t pid = fork();
    MUST(pid >= 0, "fork");
    if (pid == 0) {
        char c;
        close(p[1]);
        if (read(p[0], &c, 1) != 1) _exit(20);
        _exit(value == 99 ? 0 : 21);
    }
    close(p[0]);
    usleep(20000); /* let it block in read (it need not have, for the checks to hold) */
    CHECK(ptrace(PTRACE_ATTACH, pid, 0, 0) == 0, "PTRACE_ATTACH");
    CHECK(ptrace(PTRACE_ATTACH, pid, 0, 0) == -1 && errno == EPERM, "a second PTRACE_ATTACH fails with EPERM");
    int st;
    MUST(waitpid(pid, &st, 0) == pid, "waitpid for the attach stop");
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "attach stop is SIGSTOP");
    siginfo_t si;
    CHECK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0 && si.si_signo == SIGSTOP, "GETSIGINFO says SIGSTOP");
    errno = 0;
    long v = ptrace(PTRACE_PEEKDATA, pid, &value, 0);
    CHECK(errno == 0 && v == 42, "PEEKDATA reads the child's value");
    CHECK(ptrace(PTRACE_POKEDATA, pid, &value, (void *)99) == 0, "POKEDATA writes it");
    errno = 0;
    CHECK(ptrace(PTRACE_PEEKDATA, pid, &value, 0) == 99 && errno == 0, "PEEKDATA sees the new value");
    CHECK(value == 42, "the tracer's own copy is unchanged");
    struct user_regs_struct regs;
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0, "GETREGS");
    CHECK(ptrace(PTRACE_DETACH, pid, 0, 0) == 0, "PTRACE_DETACH");
    CHECK(ptrace(PTRACE_PEEKDATA, pid, &value, 0) == -1 && errno == ESRCH, "PEEKDATA after detach fails with ESRCH");
    MUST(write(p[1], "x", 1) == 1, "write");
    close(p[1]);
    MUST(waitpid(pid, &st, 0) == pid, "waitpid for the exit");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's read restarted and it saw the poked value");
}

static void seize_interrupt(void) {
    fflush(stdout);
    pid_t pid = fork();
    MUST(pid >= 0, "fork");
    if (pid == 0) {
        while (!stop_flag) syscall(SYS_getppid);
        _exit(5);
    }
    CHECK(ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_EXITKILL) == 0, "PTRACE_SEIZE");
    CHECK(ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0, "PTRACE_INTERRUPT");
    int st;
    MUST(waitpid(pid, &st, 0) == pid, "waitpid for the interrupt stop");
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP && (st >> 16) == PTRACE_EVENT_STOP, "interrupt stop is PTRACE_EVENT_STOP");
    errno = 0;
    long rip = ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user_regs_struct, rip), 0);
    CHECK(errno == 0 && rip != 0, "PEEKUSER rip");
    CHECK(ptrace(PTRACE_POKEDATA, pid, &stop_flag, (void *)1) == 0, "POKEDATA the stop flag");
    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "PTRACE_CONT");
    MUST(waitpid(pid, &st, 0) == pid, "waitpid for the exit");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5, "the seized child stopped looping and exited");
}

static void tracer_exits_first(void) {
    int p[2];
    MUST(pipe(p) == 0, "pipe");
    fflush(stdout);
    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) {
        char c;
        close(p[1]);
        if (read(p[0], &c, 1) != 1) _exit(30);
        _exit(7);
    }
    pid_t tracer = fork();
    MUST(tracer >= 0, "fork");
    if (tracer == 0) {
        int st;
        if (ptrace(PTRACE_ATTACH, child, 0, 0) != 0) _exit(40);
        if (waitpid(child, &st, 0) != child || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) _exit(41);
        if (ptrace(PTRACE_CONT, child, 0, 0) != 0) _exit(42);
        _exit(0); /* exits while still tracing the child */
    }
    int st;
    MUST(waitpid(tracer, &st, 0) == tracer, "waitpid for the tracer");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the tracer (not the parent) attached, saw the stop and exited");
    MUST(write(p[1], "x", 1) == 1, "write");
    close(p[1]);
    MUST(waitpid(child, &st, 0) == child, "waitpid for the tracee");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "the tracee runs on after its tracer's death");
}

static __attribute__((noinline)) int target_fn(int x) { return x * 2 + 1; }
static int (*volatile target_ptr)(int) = target_fn;

static void breakpoint_step(void) {
    int p[2];
    MUST(pipe(p) == 0, "pipe");
    fflush(stdout);
    pid_t pid = fork();
    MUST(pid >= 0, "fork");
    if (pid == 0) {
        char c;
        close(p[1]);
        if (read(p[0], &c, 1) != 1) _exit(50);
        _exit(target_ptr(20) == 41 ? 0 : 51);
    }
    close(p[0]);
    int st;
    CHECK(ptrace(PTRACE_ATTACH, pid, 0, 0) == 0, "PTRACE_ATTACH (breakpoint)");
    MUST(waitpid(pid, &st, 0) == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "the attach stop");
    char *at = (char *)target_ptr;
    errno = 0;
    long word = ptrace(PTRACE_PEEKTEXT, pid, at, 0);
    CHECK(errno == 0, "PEEKTEXT the function's first bytes");
    CHECK(ptrace(PTRACE_POKETEXT, pid, at, (void *)((word & ~0xffL) | 0xcc)) == 0, "POKETEXT an int3 there");
    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "PTRACE_CONT to the breakpoint");
    MUST(write(p[1], "x", 1) == 1, "write");
    close(p[1]);
    MUST(waitpid(pid, &st, 0) == pid, "waitpid for the breakpoint");
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP, "the breakpoint stops it with SIGTRAP");
    struct user_regs_struct regs;
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.rip == (unsigned long)at + 1, "it stands just after the int3");
    CHECK(ptrace(PTRACE_POKETEXT, pid, at, (void *)word) == 0, "POKETEXT the original bytes back");
    regs.rip = (unsigned long)at;
    CHECK(ptrace(PTRACE_SETREGS, pid, 0, &regs) == 0, "SETREGS back to the function's start");
    CHECK(ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0, "PTRACE_SINGLESTEP");
    MUST(waitpid(pid, &st, 0) == pid, "waitpid for the step");
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP, "the step stops it with SIGTRAP");
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.rip > (unsigned long)at && regs.rip < (unsigned long)at + 16, "one instruction further");
    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "PTRACE_CONT to the end");
    MUST(waitpid(pid, &st, 0) == pid, "waitpid for the exit");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the function computed its result after the breakpoint");
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "exec-child") == 0) return exec_child();
    setvbuf(stdout, NULL, _IOLBF, 0);
    traceme_exec("/proc/self/exe");
    attach_sleeping();
    seize_interrupt();
    tracer_exits_first();
    breakpoint_step();
    if (failures) return 1;
    printf("EXIT-SUCCESS\n");
    return 0;
}
