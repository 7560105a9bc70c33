/*
 * restart: signals that interrupt sleeping syscalls. A signal that runs no
 * handler (ignored, or a stop and continue) makes the kernel continue an
 * interrupted nanosleep, clock_nanosleep, poll or timed futex wait through
 * restart_syscall; a signal with a handler makes them fail with EINTR and
 * report the remaining time, even when restart_syscall was already
 * continuing them. Another thread (or the parent) sends each signal once the
 * sleeper stands in the syscall (read from /proc/PID/task/TID/syscall).
 */
#define _GNU_SOURCE
#include "check.h"
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t sleeper;
static volatile sig_atomic_t handled;
static int pipefd[2];
static uint32_t word;

static void on_signal(int sig) {
    (void)sig;
    handled++;
}

/* The syscall `tid` of process `pid` is blocked in, or -1. */
static long current_syscall(pid_t pid, pid_t tid) {
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", pid, tid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long nr = -1;
    if (!fgets(buf, sizeof buf, f) || sscanf(buf, "%ld", &nr) != 1) nr = -1;
    fclose(f);
    return nr;
}

/* Waits until the thread is blocked in syscall a or b (or gives up after ~2 s). */
static void wait_blocked(pid_t pid, pid_t tid, long a, long b) {
    for (int i = 0; i < 2000; i++) {
        long nr = current_syscall(pid, tid);
        if (nr == a || nr == b) return;
        usleep(1000);
    }
}

enum plan { IGNORED, IGNORED_THEN_HANDLER, IGNORED_THEN_WRITE, IGNORED_THEN_WAKE };
struct poke {
    enum plan plan;
    long nr; /* the syscall the sleeper blocks in */
};

static void *poker(void *arg) {
    struct poke *p = arg;
    pid_t pid = getpid();
    wait_blocked(pid, sleeper, p->nr, p->nr);
    syscall(SYS_tgkill, pid, sleeper, SIGWINCH); /* default action: ignore */
    usleep(10000);
    switch (p->plan) {
    case IGNORED:
        break;
    case IGNORED_THEN_HANDLER:
        wait_blocked(pid, sleeper, p->nr, SYS_restart_syscall);
        syscall(SYS_tgkill, pid, sleeper, SIGUSR1);
        break;
    case IGNORED_THEN_WRITE:
        MUST(write(pipefd[1], "x", 1) == 1, "write to the pipe");
        break;
    case IGNORED_THEN_WAKE:
        __atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        break;
    }
    return NULL;
}

static pthread_t start_poker(struct poke *p) {
    pthread_t th;
    MUST(pthread_create(&th, NULL, poker, p) == 0, "pthread_create");
    return th;
}

static int rem_plausible(const struct timespec *rem, time_t asked) {
    return rem->tv_sec >= 0 && rem->tv_sec < asked && rem->tv_sec >= asked - 2 && rem->tv_nsec >= 0 && rem->tv_nsec < 1000000000;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    sleeper = gettid();
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    MUST(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction SIGUSR1 (SA_RESTART)");
    sa.sa_flags = 0;
    MUST(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction SIGUSR2");

    /* nanosleep, an ignored signal: it sleeps on to the end. */
    {
        struct poke p = {IGNORED, SYS_nanosleep};
        pthread_t th = start_poker(&p);
        struct timespec ts = {0, 100 * 1000 * 1000}, rem = {7, 7};
        long r = syscall(SYS_nanosleep, &ts, &rem);
        CHECK(r == 0, "nanosleep goes on after an ignored signal");
        pthread_join(th, NULL);
    }
    /* nanosleep, an ignored signal, then one with an SA_RESTART handler: EINTR and the time left. */
    {
        struct poke p = {IGNORED_THEN_HANDLER, SYS_nanosleep};
        handled = 0;
        pthread_t th = start_poker(&p);
        struct timespec ts = {5, 0}, rem = {0, 0};
        long r = syscall(SYS_nanosleep, &ts, &rem);
        CHECK(r == -1 && errno == EINTR, "nanosleep fails with EINTR under a handler (SA_RESTART)");
        CHECK(handled == 1, "handler ran once");
        CHECK(rem_plausible(&rem, 5), "nanosleep reports the remaining time");
        pthread_join(th, NULL);
    }
    /* clock_nanosleep, relative, monotonic. */
    {
        struct poke p = {IGNORED, SYS_clock_nanosleep};
        pthread_t th = start_poker(&p);
        struct timespec ts = {0, 100 * 1000 * 1000}, rem = {7, 7};
        int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem);
        CHECK(r == 0, "clock_nanosleep goes on after an ignored signal");
        pthread_join(th, NULL);
    }
    /* clock_nanosleep, then a handler without SA_RESTART. */
    {
        struct poke p = {IGNORED_THEN_HANDLER, SYS_clock_nanosleep};
        sa.sa_flags = 0;
        MUST(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction SIGUSR1");
        handled = 0;
        pthread_t th = start_poker(&p);
        struct timespec ts = {4, 0}, rem = {0, 0};
        int r = clock_nanosleep(CLOCK_REALTIME, 0, &ts, &rem);
        CHECK(r == EINTR, "clock_nanosleep fails with EINTR under a handler");
        CHECK(handled == 1, "handler ran once");
        CHECK(rem_plausible(&rem, 4), "clock_nanosleep reports the remaining time");
        pthread_join(th, NULL);
    }
    /* After a handler returned, the kernel has nothing to restart: restart_syscall alone fails with EINTR. */
    {
        long r = syscall(SYS_restart_syscall);
        CHECK(r == -1 && errno == EINTR, "restart_syscall after a handler fails with EINTR");
    }
    /* poll with a timeout: the restarted poll reports the event that came later. */
    {
        MUST(pipe(pipefd) == 0, "pipe");
        struct poke p = {IGNORED_THEN_WRITE, SYS_poll};
        pthread_t th = start_poker(&p);
        struct pollfd fds[2] = {{pipefd[0], POLLIN, 0x5555}, {pipefd[1], 0, 0x5555}};
        int r = poll(fds, 2, 5000);
        CHECK(r == 1, "poll returns one ready fd");
        CHECK(fds[0].revents == POLLIN && fds[1].revents == 0, "poll reports POLLIN on the read end only");
        char c;
        CHECK(read(pipefd[0], &c, 1) == 1 && c == 'x', "the byte arrives");
        pthread_join(th, NULL);
        close(pipefd[0]);
        close(pipefd[1]);
    }
    /* A futex wait with a timeout, woken after the ignored signal. */
    {
        struct poke p = {IGNORED_THEN_WAKE, SYS_futex};
        word = 0;
        pthread_t th = start_poker(&p);
        long r = 0;
        int waits = 0;
        while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 0 && waits++ < 10) {
            struct timespec ts = {5, 0};
            r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
            if (r == -1 && errno != EAGAIN && errno != EINTR) break;
        }
        CHECK(word == 1 && (r == 0 || errno == EAGAIN), "timed futex wait ends when woken");
        pthread_join(th, NULL);
    }
    /* A child stopped and continued while sleeping (so no shell sees the stop). */
    {
        fflush(stdout);
        pid_t child = fork();
        MUST(child >= 0, "fork");
        if (child == 0) {
            struct timespec ts = {0, 150 * 1000 * 1000}, rem = {7, 7};
            _exit(syscall(SYS_nanosleep, &ts, &rem) == 0 ? 0 : 1);
        }
        wait_blocked(child, child, SYS_nanosleep, SYS_nanosleep);
        kill(child, SIGSTOP);
        usleep(10000);
        kill(child, SIGCONT);
        int status;
        MUST(waitpid(child, &status, 0) == child, "waitpid");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nanosleep goes on after SIGSTOP and SIGCONT");
    }
    if (failures) return 1;
    puts("EXIT-SUCCESS");
    return 0;
}
