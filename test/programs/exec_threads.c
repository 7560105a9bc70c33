/* exec_threads.c - execve in a process that has other threads.
 *
 * The kernel kills every other thread of the process before the new
 * program starts. First the main thread execs while another thread sleeps;
 * then, in the new program, a forked child's second thread execs while the
 * child's main thread sleeps: the execve'ing thread then goes on with the
 * process's pid (the leader's tid), which the new program checks.
 *
 * Exercises: execve from the main thread and from another thread, threads
 * killed by an exec, the exec'ing thread taking over the leader's tid,
 * fork, waitpid, /proc/self/status.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1) break;
    fclose(f);
    return n;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;) pause();
    return NULL;
}

static void *execer(void *arg)
{
    (void)arg;
    char *args[] = {"exec_threads", "from-thread", NULL};
    execv("/proc/self/exe", args);
    _exit(5);
}

int main(int argc, char **argv)
{
    pthread_t th;
    if (argc > 1 && strcmp(argv[1], "from-thread") == 0) {
        /* exec'd by a thread that was not the leader: it has the pid now */
        pid_t tid = (pid_t)syscall(SYS_gettid);
        return tid == getpid() && thread_count() == 1 ? 77 : 78;
    }
    if (argc > 1 && strcmp(argv[1], "from-main") == 0) {
        CHECK(thread_count() == 1, "after an exec from the main thread only it is left");
        fflush(stdout);
        pid_t child = fork();
        MUST(child >= 0, "fork");
        if (child == 0) {
            if (pthread_create(&th, NULL, execer, NULL) != 0) _exit(4);
            for (;;) pause();
        }
        int status = 0;
        MUST(waitpid(child, &status, 0) == child, "waitpid");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 77, "an exec from another thread goes on with the process's pid");
        if (failures == 0) printf("EXIT-SUCCESS\n");
        return failures ? 1 : 0;
    }
    MUST(pthread_create(&th, NULL, sleeper, NULL) == 0, "pthread_create");
    MUST(thread_count() == 2, "two threads");
    printf("exec with a second thread sleeping\n");
    fflush(stdout);
    char *args[] = {"exec_threads", "from-main", NULL};
    execv("/proc/self/exe", args);
    printf("FAIL: execv\n");
    return 1;
}
