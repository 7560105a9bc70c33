/*
 * group_stop: job-control stops as a shell sees them. A child that stops
 * itself, a multi-threaded child stopped from outside while its threads
 * sleep and compute, and a SIGCONT handler that runs when the stop ends.
 * The parent watches with waitpid(WUNTRACED/WCONTINUED) and waitid.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t continued;
static void on_cont(int sig) { (void)sig; continued = 1; }

static void *sleeper(void *arg) {
    int fd = *(int *)arg;
    for (int i = 0; i < 30; i++) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    char c = 't';
    if (write(fd, &c, 1) != 1) _exit(3);
    return NULL;
}

/* Waits until the child reports a stop (WUNTRACED) and returns its signal. */
static int wait_stopped(pid_t child) {
    int status;
    MUST(waitpid(child, &status, WUNTRACED) == child, "waitpid(WUNTRACED)");
    return WIFSTOPPED(status) ? WSTOPSIG(status) : -1;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    /* A child that stops itself: the parent sees the stop, then the continue, then the exit. */
    {
        pid_t child = fork();
        MUST(child >= 0, "fork");
        if (child == 0) {
            raise(SIGSTOP);
            _exit(7);
        }
        CHECK(wait_stopped(child) == SIGSTOP, "waitpid reports the child stopped by SIGSTOP");
        MUST(kill(child, SIGCONT) == 0, "kill SIGCONT");
        int status;
        MUST(waitpid(child, &status, WCONTINUED) == child, "waitpid(WCONTINUED)");
        CHECK(WIFCONTINUED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 7), "waitpid reports the continue");
        if (WIFCONTINUED(status)) MUST(waitpid(child, &status, 0) == child, "waitpid");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "the stopped child goes on and exits 7");
    }
    /* Three threads, stopped together from outside and continued; a SIGCONT handler runs. */
    {
        int p[2];
        MUST(pipe(p) == 0, "pipe");
        pid_t child = fork();
        MUST(child >= 0, "fork");
        if (child == 0) {
            close(p[0]);
            signal(SIGCONT, on_cont);
            pthread_t th[2];
            for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, sleeper, &p[1]);
            char c = 'r';
            MUST(write(p[1], &c, 1) == 1, "ready");
            while (!continued) {
                struct timespec ts = {0, 2 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
            _exit(continued ? 0 : 4);
        }
        close(p[1]);
        char c;
        MUST(read(p[0], &c, 1) == 1 && c == 'r', "child ready");
        MUST(kill(child, SIGSTOP) == 0, "kill SIGSTOP");
        CHECK(wait_stopped(child) == SIGSTOP, "the threaded child stops");
        siginfo_t si = {0};
        CHECK(waitid(P_PID, child, &si, WSTOPPED | WNOHANG | WNOWAIT) == 0, "waitid after the stop was reaped");
        usleep(20000);
        MUST(kill(child, SIGCONT) == 0, "kill SIGCONT");
        int got = 0;
        while (read(p[0], &c, 1) == 1) got += c == 't';
        CHECK(got == 2, "both threads finish after the continue");
        int status;
        MUST(waitpid(child, &status, 0) == child, "waitpid");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the SIGCONT handler ran and the child exits 0");
    }
    if (failures) return 1;
    puts("EXIT-SUCCESS");
    return 0;
}
