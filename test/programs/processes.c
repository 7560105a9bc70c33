/* processes.c - process creation and reaping for the trr e2e suite.
 *
 * Exercises: fork, vfork, execve (/bin/true, /bin/sh), posix_spawn
 * (/bin/echo hello; clone(CLONE_VM|CLONE_VFORK) inside glibc), wait4,
 * waitpid (incl. WNOHANG), waitid, kill of a child (WIFSIGNALED), a child
 * that raises SIGKILL, system() (sh -c with a pipeline), popen/pclose, exit
 * codes propagated through several generations, getppid in a child, a clone
 * with invalid flags.
 *
 * Child output reaches the shared stdout in a fixed order because the
 * parent always waits before printing again.  Ends with EXIT-SUCCESS / 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int untraced_pipe[2];

static int untraced_child(void *arg)
{
    (void)arg;
    return write(untraced_pipe[1], "u", 1) == 1 ? 0 : 1;
}

#include "check.h"

/* Every check is flushed at once: the program forks, and a child must not inherit unprinted lines. */
#undef CHECK
#define CHECK(cond, what)                                                    \
    do {                                                                     \
        CHECK_AS(cond, what, "ok");                                          \
        fflush(stdout);                                                      \
    } while (0)

int main(void)
{
    int status;
    pid_t self = getpid();
    fflush(stdout);

    /* ---- fork + waitpid with an exit code ---- */
    pid_t c = fork();
    if (c == 0)
        _exit(getppid() == self ? 7 : 99);
    CHECK(c > 0, "fork");
    CHECK(waitpid(c, &status, 0) == c, "waitpid returns child pid");
    printf("child 1: exited=%d code=%d\n", WIFEXITED(status), WEXITSTATUS(status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "child exit code 7 (and saw getppid == parent)");

    /* ---- several children reaped with wait4(-1) ---- */
    {
        int codes_seen = 0;
        pid_t kids[4];
        for (int i = 0; i < 4; i++) {
            kids[i] = fork();
            if (kids[i] == 0) {
                volatile unsigned long spin = 0;
                for (int k = 0; k < 10000 * (4 - i); k++)
                    spin += (unsigned long)k;
                _exit(10 + i);
            }
        }
        int reaped = 0, ok = 1;
        struct rusage ru;
        for (int i = 0; i < 4; i++) {
            pid_t w = wait4(-1, &status, 0, &ru);
            int known = 0;
            for (int j = 0; j < 4; j++)
                if (w == kids[j]) {
                    known = 1;
                    if (!WIFEXITED(status) || WEXITSTATUS(status) != 10 + j)
                        ok = 0;
                    codes_seen |= 1 << j;
                }
            if (!known)
                ok = 0;
            reaped++;
        }
        CHECK(reaped == 4 && ok && codes_seen == 0xf, "wait4(-1) reaped 4 children with codes 10..13");
        CHECK(wait4(-1, &status, WNOHANG, NULL) == -1 && errno == ECHILD, "no children left -> ECHILD");
    }

    /* ---- WNOHANG on a running child, then waitid ---- */
    {
        int p[2];
        if (pipe(p) != 0)
            return 1;
        pid_t k = fork();
        if (k == 0) {
            char b;
            close(p[1]);
            ssize_t n = read(p[0], &b, 1); /* wait for the parent's go */
            _exit(n == 1 ? 21 : 22);
        }
        close(p[0]);
        CHECK(waitpid(k, &status, WNOHANG) == 0, "WNOHANG on blocked child returns 0");
        CHECK(write(p[1], "g", 1) == 1, "release child");
        close(p[1]);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        CHECK(waitid(P_PID, (id_t)k, &si, WEXITED) == 0, "waitid");
        CHECK(si.si_pid == k && si.si_code == CLD_EXITED && si.si_status == 21 && si.si_signo == SIGCHLD,
              "waitid siginfo: CLD_EXITED status 21");
    }

    /* ---- vfork + execve /bin/true ---- */
    {
        char *argv[] = {"/bin/true", NULL};
        pid_t v = vfork();
        if (v == 0) {
            execve("/bin/true", argv, environ);
            _exit(127);
        }
        CHECK(v > 0, "vfork");
        CHECK(waitpid(v, &status, 0) == v && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "vfork+execve /bin/true exited 0");
    }
    /* execve of a missing program fails in the child */
    {
        char *argv[] = {"/nonexistent/trr-prog", NULL};
        pid_t v = fork();
        if (v == 0) {
            execve(argv[0], argv, environ);
            _exit(errno == ENOENT ? 127 : 126);
        }
        CHECK(waitpid(v, &status, 0) == v && WIFEXITED(status) && WEXITSTATUS(status) == 127,
              "execve of missing program -> ENOENT in child");
    }
    /* execve of the shell with arguments and environment */
    {
        char *argv[] = {"/bin/sh", "-c", "exit $((TRR_A + 3))", NULL};
        char *envp[] = {"TRR_A=30", NULL};
        pid_t v = fork();
        if (v == 0) {
            execve(argv[0], argv, envp);
            _exit(127);
        }
        CHECK(waitpid(v, &status, 0) == v && WIFEXITED(status) && WEXITSTATUS(status) == 33,
              "execve /bin/sh sees argv and envp (exit 33)");
    }

    /* ---- posix_spawn /bin/echo hello ---- */
    {
        pid_t sp;
        char *argv[] = {"/bin/echo", "hello", NULL};
        fflush(stdout);
        int rc = posix_spawn(&sp, "/bin/echo", NULL, NULL, argv, environ);
        /* reap before printing anything, so "hello" lands at a fixed place */
        pid_t w = rc == 0 ? waitpid(sp, &status, 0) : -1;
        CHECK(rc == 0, "posix_spawn /bin/echo");
        CHECK(w == sp && WIFEXITED(status) && WEXITSTATUS(status) == 0, "spawned echo exited 0");
        /* with file actions: redirect stdout to /dev/null */
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        char *argv2[] = {"/bin/echo", "this must not appear", NULL};
        rc = posix_spawn(&sp, "/bin/echo", &fa, NULL, argv2, environ);
        CHECK(rc == 0 && waitpid(sp, &status, 0) == sp && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "posix_spawn with file actions");
        posix_spawn_file_actions_destroy(&fa);
        char *argv3[] = {"/nonexistent/trr-prog", NULL};
        rc = posix_spawn(&sp, argv3[0], NULL, NULL, argv3, environ);
        CHECK(rc == ENOENT, "posix_spawn of missing program -> ENOENT");
    }

    /* ---- child killed by a signal ---- */
    {
        pid_t k = fork();
        if (k == 0) {
            for (;;)
                pause();
        }
        CHECK(kill(k, SIGTERM) == 0, "kill(child, SIGTERM)");
        CHECK(waitpid(k, &status, 0) == k, "waitpid killed child");
        printf("killed child: signaled=%d termsig=%d\n", WIFSIGNALED(status), WTERMSIG(status));
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "WIFSIGNALED with SIGTERM");

        k = fork();
        if (k == 0) {
            raise(SIGKILL);
            _exit(0);
        }
        CHECK(waitpid(k, &status, 0) == k && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "child raising SIGKILL -> WIFSIGNALED SIGKILL");

        k = fork();
        if (k == 0) {
            struct rlimit nocore = {0, 0};
            setrlimit(RLIMIT_CORE, &nocore);
            abort();
        }
        CHECK(waitpid(k, &status, 0) == k && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "child calling abort() -> WIFSIGNALED SIGABRT");
    }

    /* ---- grandchild exit code propagated through a child ---- */
    {
        pid_t k = fork();
        if (k == 0) {
            pid_t g = fork();
            if (g == 0)
                _exit(5);
            int st;
            if (waitpid(g, &st, 0) != g || !WIFEXITED(st))
                _exit(100);
            _exit(WEXITSTATUS(st) * 2);
        }
        CHECK(waitpid(k, &status, 0) == k && WIFEXITED(status) && WEXITSTATUS(status) == 10,
              "grandchild exit code propagated (5*2=10)");
    }

    /* ---- system() with a pipeline ---- */
    {
        fflush(stdout);
        int rc = system("echo from-system | tr a-z A-Z");
        CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "system() pipeline exit 0");
        rc = system("exit 3");
        CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 3, "system(\"exit 3\") -> 3");
    }

    /* ---- popen / pclose ---- */
    {
        FILE *p = popen("echo popen-output; echo line2", "r");
        char line[64];
        int lines = 0, ok = 1;
        while (p && fgets(line, sizeof line, p)) {
            if (lines == 0 && strcmp(line, "popen-output\n") != 0)
                ok = 0;
            if (lines == 1 && strcmp(line, "line2\n") != 0)
                ok = 0;
            lines++;
        }
        int rc = p ? pclose(p) : -1;
        CHECK(p && ok && lines == 2 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "popen read two lines");
    }

    /* ---- clone with CLONE_UNTRACED (a debugger must still see the child) ---- */
    {
        static char stack[65536];
        char c = 0;
        CHECK(pipe(untraced_pipe) == 0, "pipe for the untraced child");
        pid_t u = clone(untraced_child, stack + sizeof stack, CLONE_UNTRACED | SIGCHLD, NULL);
        CHECK(u > 0 && read(untraced_pipe[0], &c, 1) == 1 && c == 'u', "CLONE_UNTRACED child ran");
        CHECK(waitpid(u, &status, 0) == u && WIFEXITED(status) && WEXITSTATUS(status) == 0, "CLONE_UNTRACED child reaped");
    }

    /* ---- execve with bad pointers fails with EFAULT and changes nothing ---- */
    {
#pragma GCC diagnostic ignored "-Wnonnull"
        char *bad_argv[] = {(char *)0xdeadbeef, NULL};
        CHECK(execve(NULL, NULL, NULL) == -1 && errno == EFAULT, "execve(NULL) fails with EFAULT");
        CHECK(execve("/proc/self/exe", (char **)0xdeadbeef, NULL) == -1 && errno == EFAULT, "execve with a bad argv pointer fails");
        CHECK(execve("/proc/self/exe", bad_argv, NULL) == -1 && errno == EFAULT, "execve with a bad argv[0] fails");
    }

    /* ---- clone with flags the kernel refuses creates nothing ---- */
    {
        errno = 0;
        CHECK(syscall(SYS_clone, 0xffffffffUL, 0UL, NULL, NULL, 0UL) == -1 && errno == EINVAL, "clone with invalid flags fails with EINVAL");
        CHECK(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD, "and leaves no child behind");
    }

    CHECK(getpid() == self, "pid unchanged");
    if (failures) {
        printf("FAILURES: %d\n", failures);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
