/* pid_namespace.c - PID namespaces, for the trr e2e suite.
 *
 * After unshare(CLONE_NEWPID) the next child is pid 1 of a new namespace:
 * it and its own children see small pids (fork results, getpid, gettid,
 * the tid CLONE_CHILD_SETTID writes), while the parent outside sees the
 * child's outer pid. The namespace's init survives signals it has no
 * handler for, its exit kills the rest of the namespace (also when another
 * of its threads makes it), and a fault kills it.  Ends with EXIT-SUCCESS /
 * exit 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static pid_t thread_tid;

static void *thread_main(void *arg) {
    (void)arg;
    thread_tid = (pid_t)syscall(SYS_gettid);
    return NULL;
}

/* Runs as pid 1 of the new namespace; returns the exit code. */
static int namespace_init(void) {
    int bad = 0;
    if (getpid() != 1) bad |= 1;
    pid_t a = fork();
    if (a == 0) _exit(getpid() == 2 && getppid() == 1 ? 0 : 1);
    int st = 0;
    if (a != 2 || waitpid(a, &st, 0) != 2 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) bad |= 2;
    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, NULL) != 0 || pthread_join(th, NULL) != 0 || thread_tid != 3) bad |= 4;
    /* CLONE_CHILD_SETTID writes the child's tid as the child sees it. */
    static pid_t settid;
    pid_t c = (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | CLONE_CHILD_SETTID), NULL, NULL, &settid, NULL);
    if (c == 0) _exit(settid == getpid() && settid == 4 ? 0 : 1);
    if (c != 4 || waitpid(c, &st, 0) != 4 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) bad |= 16;
    /* No handler: the init of a namespace does not die of it. */
    kill(getpid(), SIGTERM);
    kill(getpid(), SIGQUIT);
    /* A child left behind is killed when init exits. */
    pid_t sleeper = fork();
    if (sleeper == 0) {
        for (;;) pause();
    }
    if (sleeper != 5) bad |= 8;
    return 40 + bad;
}

static int in_namespace(int (*init)(void)) {
    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) _exit(init());
    int st = 0;
    MUST(waitpid(child, &st, 0) == child, "waitpid");
    return st;
}

static void *exiting_thread(void *arg) {
    (void)arg;
    exit(66); /* exit_group from a thread that is not init's first: it waits for the namespace to empty */
}

/* init's exit made by another of its threads, with a process of the namespace still alive (a grandchild init inherited). */
static int thread_exiting_init(void) {
    pid_t child = fork();
    if (child == 0) {
        if (fork() == 0) {
            for (;;) pause();
        }
        _exit(0);
    }
    waitpid(child, NULL, 0); /* the grandchild is init's now */
    pthread_t th;
    if (pthread_create(&th, NULL, exiting_thread, NULL) != 0) return 1;
    pthread_join(th, NULL);
    return 2;
}

static int faulting_init(void) {
    volatile int *p = NULL;
    return *p;
}

/* In a new process that makes a PID namespace: the wait status of that namespace's init, or -1 without the privilege. */
static int host(int (*init)(void)) {
    int fds[2];
    MUST(pipe(fds) == 0, "pipe");
    pid_t h = fork();
    MUST(h >= 0, "fork");
    if (h == 0) {
        int st = -1;
        if (unshare(CLONE_NEWPID) == 0 || unshare(CLONE_NEWUSER | CLONE_NEWPID) == 0) st = in_namespace(init);
        MUST(write(fds[1], &st, sizeof st) == sizeof st, "write");
        _exit(0);
    }
    int st = -1;
    MUST(read(fds[0], &st, sizeof st) == sizeof st, "read");
    MUST(waitpid(h, NULL, 0) == h, "waitpid host");
    close(fds[0]);
    close(fds[1]);
    return st;
}

int main(void) {
    int st = host(namespace_init);
    if (st == -1) {
        /* Without the privilege there is nothing to test; say so in the output. */
        puts("PID namespaces are not available here");
        puts("EXIT-SUCCESS");
        return 0;
    }
    CHECK(WIFEXITED(st), "the namespace's init exits normally");
    CHECK(WEXITSTATUS(st) == 40, "inside, pids are 1 to 5, CLONE_CHILD_SETTID writes them (and signals without handlers spare init)");
    if (WEXITSTATUS(st) != 40) printf("init reported 0x%x\n", WEXITSTATUS(st) - 40);
    st = host(thread_exiting_init);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 66, "init's exit from a second thread waits for the rest of the namespace, then exits with its status");
    st = host(faulting_init);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "a fault kills a namespace's init");
    if (failures) return 1;
    puts("EXIT-SUCCESS");
    return 0;
}
