/*
 * ptrace_events: a tracer that follows its tracee's new tasks (emulated by
 * trr, which is the real tracer of everything).
 *  1. PTRACE_O_TRACEVFORK | TRACEVFORKDONE: the tracee stops at the vfork
 *     event before its vfork returns (its child has not run yet), the child
 *     computes while the parent waits in the kernel, the parent stops at
 *     PTRACE_EVENT_VFORK_DONE when the child exits, the tracer reaps the
 *     child (not its own child) and the parent goes on;
 *  2. PTRACE_O_TRACEFORK: the registers at the fork event (inside the
 *     syscall: rax is still -ENOSYS), the child's PTRACE_EVENT_STOP;
 *  3. PTRACE_O_TRACECLONE: a thread the tracer follows, waited for with
 *     __WCLONE, which runs and exits while its creator still stands at the
 *     clone event; the creator's pthread_join then finds it gone.
 * With "fork-event-setregs" the tracer sets registers at the fork event,
 * which trr refuses (test/e2e/limits.test.ts).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

static int fence[2];
static volatile long sink;

#define EVENT(st) ((st) >> 16)
#define IS_EVENT(st, ev) (WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP && EVENT(st) == (ev))

/* A traced child: waits for the go-ahead on the pipe, then runs body(). */
static pid_t traced_child(int (*body)(void), long options) {
    MUST(pipe(fence) == 0, "pipe");
    fflush(stdout);
    pid_t pid = fork();
    MUST(pid >= 0, "fork");
    if (pid == 0) {
        char c;
        if (read(fence[0], &c, 1) != 1) _exit(20);
        _exit(body());
    }
    CHECK(ptrace(PTRACE_SEIZE, pid, 0, (void *)options) == 0, "PTRACE_SEIZE with event options");
    MUST(write(fence[1], "g", 1) == 1, "write to the pipe");
    close(fence[0]);
    close(fence[1]);
    return pid;
}

/* Runs the tracee on to its exit, through any signal stops (the SIGCHLD of its child). */
static int run_to_exit(pid_t pid) {
    int st;
    for (;;) {
        MUST(waitpid(pid, &st, 0) == pid, "waitpid for the tracee's end");
        if (!WIFSTOPPED(st)) return st;
        int sig = WSTOPSIG(st) == SIGCHLD || EVENT(st) != 0 ? 0 : WSTOPSIG(st);
        MUST(ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig) == 0, "PTRACE_CONT to the end");
    }
}

static int vfork_body(void) {
    pid_t c = vfork();
    if (c == 0) {
        /* Computes without syscalls while its parent waits in vfork. */
        long r = 0;
        for (long i = 1; i < 3000000; i++) r = (r / 3) + 14 * i;
        sink = r;
        _exit(7);
    }
    return c > 0 ? 66 : 21;
}

static void vfork_events(void) {
    pid_t f = traced_child(vfork_body, PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACESYSGOOD);
    int st;
    MUST(waitpid(f, &st, 0) == f, "waitpid for the vfork event");
    CHECK(IS_EVENT(st, PTRACE_EVENT_VFORK), "the tracee stops at PTRACE_EVENT_VFORK");
    unsigned long child = 0;
    CHECK(ptrace(PTRACE_GETEVENTMSG, f, 0, &child) == 0 && child > 0, "GETEVENTMSG names the vfork child");
    struct user_regs_struct regs;
    CHECK(ptrace(PTRACE_GETREGS, f, 0, &regs) == 0 && regs.orig_rax == SYS_vfork, "at the vfork event the tracee is inside vfork");
    MUST(waitpid((pid_t)child, &st, 0) == (pid_t)child, "waitpid for the vfork child");
    CHECK(IS_EVENT(st, PTRACE_EVENT_STOP), "the vfork child starts with PTRACE_EVENT_STOP");
    CHECK(ptrace(PTRACE_CONT, (pid_t)child, 0, 0) == 0, "PTRACE_CONT of the vfork child");
    CHECK(ptrace(PTRACE_CONT, f, 0, 0) == 0, "PTRACE_CONT of the vfork parent");
    MUST(waitpid(f, &st, 0) == f, "waitpid for the vfork-done event");
    CHECK(IS_EVENT(st, PTRACE_EVENT_VFORK_DONE), "the parent stops at PTRACE_EVENT_VFORK_DONE");
    unsigned long done = 0;
    CHECK(ptrace(PTRACE_GETEVENTMSG, f, 0, &done) == 0 && done == child, "VFORK_DONE's event message is the child");
    MUST(waitpid((pid_t)child, &st, 0) == (pid_t)child, "waitpid for the vfork child's exit");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "the tracer sees the vfork child exit 7");
    CHECK(ptrace(PTRACE_CONT, f, 0, 0) == 0, "PTRACE_CONT after VFORK_DONE");
    st = run_to_exit(f);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 66, "the vfork parent exits 66");
}

static int fork_body(void) {
    pid_t c = fork();
    if (c == 0) _exit(8);
    int st;
    if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 8) return 22;
    return 67;
}

static void fork_event(int setregs) {
    pid_t f = traced_child(fork_body, PTRACE_O_TRACEFORK);
    int st;
    MUST(waitpid(f, &st, 0) == f, "waitpid for the fork event");
    CHECK(IS_EVENT(st, PTRACE_EVENT_FORK), "the tracee stops at PTRACE_EVENT_FORK");
    struct user_regs_struct regs;
    CHECK(ptrace(PTRACE_GETREGS, f, 0, &regs) == 0 && (long)regs.rax == -ENOSYS && regs.orig_rax != (unsigned long)-1,
          "at the fork event the syscall has not returned (rax is -ENOSYS)");
    /* "fork-event-setregs": a change at this stop inside the syscall (trr stops the recording there). */
    if (setregs) CHECK(ptrace(PTRACE_SETREGS, f, 0, &regs) == 0, "SETREGS at the fork event");
    unsigned long child = 0;
    CHECK(ptrace(PTRACE_GETEVENTMSG, f, 0, &child) == 0 && child > 0, "GETEVENTMSG names the fork child");
    MUST(waitpid((pid_t)child, &st, 0) == (pid_t)child, "waitpid for the fork child");
    CHECK(IS_EVENT(st, PTRACE_EVENT_STOP), "the fork child starts with PTRACE_EVENT_STOP");
    CHECK(ptrace(PTRACE_CONT, (pid_t)child, 0, 0) == 0, "PTRACE_CONT of the fork child");
    MUST(waitpid((pid_t)child, &st, 0) == (pid_t)child, "waitpid for the fork child's exit");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 8, "the tracer sees the fork child exit 8");
    CHECK(ptrace(PTRACE_CONT, f, 0, 0) == 0, "PTRACE_CONT after the fork event");
    st = run_to_exit(f);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 67, "the fork parent exits 67");
}

static void *thread_fn(void *arg) { return arg; }

static int clone_body(void) {
    pthread_t th;
    void *ret = NULL;
    if (pthread_create(&th, NULL, thread_fn, (void *)5) != 0) return 23;
    if (pthread_join(th, &ret) != 0 || ret != (void *)5) return 24;
    return 68;
}

static void clone_event(void) {
    pid_t f = traced_child(clone_body, PTRACE_O_TRACECLONE);
    int st;
    MUST(waitpid(f, &st, 0) == f, "waitpid for the clone event");
    CHECK(IS_EVENT(st, PTRACE_EVENT_CLONE), "the tracee stops at PTRACE_EVENT_CLONE");
    unsigned long thread = 0;
    CHECK(ptrace(PTRACE_GETEVENTMSG, f, 0, &thread) == 0 && thread > 0, "GETEVENTMSG names the new thread");
    MUST(waitpid((pid_t)thread, &st, __WCLONE) == (pid_t)thread, "waitpid(__WCLONE) for the new thread");
    CHECK(IS_EVENT(st, PTRACE_EVENT_STOP), "the thread starts with PTRACE_EVENT_STOP");
    CHECK(ptrace(PTRACE_CONT, (pid_t)thread, 0, 0) == 0, "PTRACE_CONT of the thread");
    MUST(waitpid((pid_t)thread, &st, __WCLONE) == (pid_t)thread, "waitpid(__WCLONE) for the thread's exit");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the tracer sees the thread exit");
    CHECK(ptrace(PTRACE_CONT, f, 0, 0) == 0, "PTRACE_CONT after the clone event");
    st = run_to_exit(f);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 68, "the thread's creator joins it and exits 68");
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "fork-event-setregs") == 0) {
        fork_event(1);
        return failures ? 1 : 0;
    }
    vfork_events();
    fork_event(0);
    clone_event();
    if (failures) return 1;
    printf("EXIT-SUCCESS\n");
    return 0;
}
