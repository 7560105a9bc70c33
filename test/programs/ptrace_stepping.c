/*
 * ptrace_stepping: a tracer that changes its tracee's segment bases and runs
 * it syscall by syscall and instruction by instruction (emulated by trr).
 *  1. PTRACE_ARCH_PRCTL: ARCH_GET_FS/GS, the tracee's own ARCH_SET_FS seen
 *     by the tracer, ARCH_SET_FS back and ARCH_SET_GS to a variable the
 *     tracee then reads through %gs, an out-of-range base refused (EPERM);
 *  2. PTRACE_SYSEMU: the syscall-entry stop, the syscall skipped, its result
 *     set by the tracer; PTRACE_SYSCALL from there gives the exit stop;
 *  3. PTRACE_SYSEMU_SINGLESTEP: one SIGTRAP per instruction up to the next
 *     syscall, whose entry stop shows the trap flag in r11 and is skipped;
 *  4. PTRACE_SINGLESTEP from the entry of a skipped syscall and from a
 *     PTRACE_SYSCALL entry stop (the syscall runs): the step is reported at
 *     the syscall's exit (TRAP_BRKPT); the next step executes an instruction.
 * With "step-over-syscall" it single-steps through syscall instructions,
 * which trr refuses (test/e2e/limits.test.ts).
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#ifndef PTRACE_ARCH_PRCTL
#define PTRACE_ARCH_PRCTL 30
#endif
#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif
#ifndef PTRACE_SYSEMU_SINGLESTEP
#define PTRACE_SYSEMU_SINGLESTEP 32
#endif

static volatile uint64_t pattern = 0x5eed1234abcdull;

static void stop_self(void) { syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP); }

static pid_t traceme_child(int (*body)(void)) {
    fflush(stdout);
    pid_t pid = fork();
    MUST(pid >= 0, "fork");
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(30);
        stop_self();
        _exit(body());
    }
    int st;
    MUST(waitpid(pid, &st, 0) == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "the tracee's first SIGSTOP");
    return pid;
}

static void cont_to_stop(pid_t pid, const char *what) {
    int st;
    MUST(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "PTRACE_CONT");
    MUST(waitpid(pid, &st, 0) == pid, "waitpid");
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, what);
}

static int exit_status(pid_t pid) {
    int st;
    MUST(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "PTRACE_CONT to the end");
    MUST(waitpid(pid, &st, 0) == pid, "waitpid for the end");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static int tls_body(void) {
    unsigned long fs = 0, fs2 = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) != 0) return 31;
    /* Thread-local storage is wrong until the tracer puts the base back: raw syscalls only. */
    long r = syscall(SYS_arch_prctl, ARCH_SET_FS, fs - 0x40);
    stop_self();
    if (r != 0) return 32;
    if (syscall(SYS_arch_prctl, ARCH_GET_FS, &fs2) != 0 || fs2 != fs) return 33;
    stop_self();
    uint64_t seen;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(seen));
    return seen == pattern ? 0 : 34;
}

static void arch_prctl_requests(void) {
    pid_t pid = traceme_child(tls_body);
    unsigned long fs = 0, gs = 1;
    CHECK(ptrace(PTRACE_ARCH_PRCTL, pid, &fs, ARCH_GET_FS) == 0 && fs != 0, "ARCH_GET_FS");
    CHECK(ptrace(PTRACE_ARCH_PRCTL, pid, &gs, ARCH_GET_GS) == 0 && gs == 0, "ARCH_GET_GS (0)");
    cont_to_stop(pid, "the tracee moved its fs base");
    unsigned long moved = 0;
    CHECK(ptrace(PTRACE_ARCH_PRCTL, pid, &moved, ARCH_GET_FS) == 0 && moved == fs - 0x40, "ARCH_GET_FS sees the tracee's change");
    CHECK(ptrace(PTRACE_ARCH_PRCTL, pid, fs, ARCH_SET_FS) == 0, "ARCH_SET_FS back");
    cont_to_stop(pid, "the tracee checked its fs base");
    errno = 0;
    CHECK(ptrace(PTRACE_ARCH_PRCTL, pid, (void *)-4096L, ARCH_SET_GS) == -1 && errno == EPERM, "ARCH_SET_GS to a kernel address: EPERM");
    CHECK(ptrace(PTRACE_ARCH_PRCTL, pid, &pattern, ARCH_SET_GS) == 0, "ARCH_SET_GS to a variable");
    CHECK(ptrace(PTRACE_ARCH_PRCTL, pid, &gs, ARCH_GET_GS) == 0 && gs == (unsigned long)&pattern, "ARCH_GET_GS reads it back");
    CHECK(exit_status(pid) == 0, "the tracee reads the variable through %gs");
}

/* Three getppid syscalls the tracer handles differently; it sets the results of the first two. */
extern char trr_sysemu_second[];
static int sysemu_body(void) {
    long r1, r2, r3;
    __asm__ volatile("mov %3, %%eax\n\t"
                     "syscall\n\t"
                     "mov %%rax, %0\n\t"
                     "mov %3, %%eax\n\t"
                     ".globl trr_sysemu_second\n"
                     "trr_sysemu_second:\n\t"
                     "syscall\n\t"
                     "mov %%rax, %1\n\t"
                     "mov %3, %%eax\n\t"
                     "syscall\n\t"
                     "mov %%rax, %2\n\t"
                     : "=&r"(r1), "=&r"(r2), "=&r"(r3)
                     : "i"(SYS_getppid)
                     : "rax", "rcx", "r11", "memory");
    if (r1 != 12345) return 41;
    if (r2 != 777) return 42;
    if (r3 != getppid()) return 43;
    return 0;
}

static int wait_stop(pid_t pid) {
    int st;
    MUST(waitpid(pid, &st, 0) == pid && WIFSTOPPED(st), "waitpid for a stop");
    return WSTOPSIG(st);
}

static void sysemu_requests(void) {
    pid_t pid = traceme_child(sysemu_body);
    struct user_regs_struct regs;
    CHECK(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD) == 0, "PTRACE_SETOPTIONS(TRACESYSGOOD)");
    /* The next syscalls are getppid from the asm (stop_self's kill has returned). */
    CHECK(ptrace(PTRACE_SYSEMU, pid, 0, 0) == 0 && wait_stop(pid) == (SIGTRAP | 0x80), "PTRACE_SYSEMU stops at a syscall entry");
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.orig_rax == SYS_getppid && (long)regs.rax == -ENOSYS, "the entry stop is getppid's");
    regs.rax = 12345;
    CHECK(ptrace(PTRACE_SETREGS, pid, 0, &regs) == 0, "SETREGS of the result");
    CHECK(ptrace(PTRACE_SYSCALL, pid, 0, 0) == 0 && wait_stop(pid) == (SIGTRAP | 0x80), "PTRACE_SYSCALL then stops at the exit");
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.rax == 12345, "the skipped syscall's result is the tracer's");
    int steps = 0, sig;
    for (;;) {
        MUST(ptrace(PTRACE_SYSEMU_SINGLESTEP, pid, 0, 0) == 0, "PTRACE_SYSEMU_SINGLESTEP");
        sig = wait_stop(pid);
        if (sig != SIGTRAP || steps > 10) break;
        steps++;
    }
    CHECK(sig == (SIGTRAP | 0x80) && steps == 2, "two single steps, then the syscall-entry stop");
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.rip == (unsigned long)trr_sysemu_second + 2, "the entry stop is after the second syscall instruction");
    CHECK((regs.r11 & 0x100) != 0, "r11 holds the trap flag the syscall instruction saw");
    regs.rax = 777;
    CHECK(ptrace(PTRACE_SETREGS, pid, 0, &regs) == 0, "SETREGS of the second result");
    /* A step from the entry of a skipped syscall is reported at its exit, before any instruction. */
    unsigned long at = regs.rip;
    siginfo_t si;
    CHECK(ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0 && wait_stop(pid) == SIGTRAP, "PTRACE_SINGLESTEP from the skipped syscall traps");
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.rip == at && regs.rax == 777, "at the skipped syscall's exit");
    CHECK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0 && si.si_signo == SIGTRAP && si.si_code == TRAP_BRKPT, "its siginfo is TRAP_BRKPT");
    /* Run up to the third syscall's entry, then step: the syscall runs, and the step ends at its exit. */
    CHECK(ptrace(PTRACE_SYSCALL, pid, 0, 0) == 0 && wait_stop(pid) == (SIGTRAP | 0x80), "PTRACE_SYSCALL to the third syscall's entry");
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.orig_rax == SYS_getppid && regs.rip > at, "the third syscall is getppid");
    at = regs.rip;
    CHECK(ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0 && wait_stop(pid) == SIGTRAP, "PTRACE_SINGLESTEP from the entry stop traps");
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.rip == at && regs.rax == (unsigned long)getpid(), "the syscall ran, and the step ends at its exit");
    CHECK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0 && si.si_code == TRAP_BRKPT, "its siginfo is TRAP_BRKPT");
    /* A step from there executes one instruction. */
    CHECK(ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0 && wait_stop(pid) == SIGTRAP, "PTRACE_SINGLESTEP again traps");
    CHECK(ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.rip > at && regs.rip < at + 8, "one instruction further");
    CHECK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0 && si.si_code == TRAP_TRACE, "its siginfo is TRAP_TRACE");
    CHECK(exit_status(pid) == 0, "the tracee saw the results the tracer set");
}

/* "step-over-syscall": single steps up to and over a syscall instruction (trr stops the recording there). */
static void step_over_syscall(void) {
    pid_t pid = traceme_child(sysemu_body);
    int steps = 0, st = 0;
    while (steps < 100000 && ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0 && waitpid(pid, &st, 0) == pid && WIFSTOPPED(st)) steps++;
    CHECK(steps > 3, "single steps over syscalls");
    if (WIFSTOPPED(st)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "step-over-syscall") == 0) {
        step_over_syscall();
        return failures ? 1 : 0;
    }
    arch_prctl_requests();
    sysemu_requests();
    if (failures) return 1;
    printf("EXIT-SUCCESS\n");
    return 0;
}
