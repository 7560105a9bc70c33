/*
 * buffer_init_signal: a signal that arrives while a thread makes its first
 * buffered call, when the syscall buffer's library announces the thread's
 * buffer to trr (a traced call whose answer differs between record and
 * replay). Each round starts a thread that kills a stopped child of its
 * own and at once makes its first buffered call (getppid): the child's
 * SIGCHLD comes in the middle of it. Half the rounds catch SIGCHLD with a handler, half
 * leave it to its default action (ignored). The thread then reads a file
 * (buffered calls), so that a library left in the wrong mode would show.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define ROUNDS 64

static volatile sig_atomic_t chld;
static int bad;
static const char *path;

static void on_chld(int sig) {
    (void)sig;
    chld++;
}

static void *round_thread(void *arg) {
    long round = (long)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    pid_t child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        _exit(77);
    }
    int st;
    if (child < 0 || waitpid(child, &st, WUNTRACED) != child || !WIFSTOPPED(st)) {
        bad++;
        return NULL;
    }
    kill(child, SIGKILL);
    pid_t parent = getppid(); /* this thread's first buffered call */
    if (parent <= 0)
        bad++;
    if (waitpid(child, &st, 0) != child || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
        bad++;
    /* Buffered calls after the first: they run in the library's mode. */
    int fd = open(path, O_RDONLY);
    char buf[64];
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf, 0) : -1;
    struct stat sb;
    if (fd < 0 || n != 5 || fstat(fd, &sb) != 0 || sb.st_size != 5)
        bad++;
    if (fd >= 0)
        close(fd);
    (void)round;
    return NULL;
}

int main(void) {
    char name[] = "initsigXXXXXX";
    int fd = mkstemp(name);
    MUST(fd >= 0, "mkstemp");
    MUST(write(fd, "hello", 5) == 5, "write");
    close(fd);
    path = name;
    /* The main thread blocks SIGCHLD: it goes to the round's thread. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    MUST(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0, "block SIGCHLD");
    for (long i = 0; i < ROUNDS; i++) {
        struct sigaction sa = {0};
        sa.sa_handler = i % 2 ? on_chld : SIG_DFL;
        sa.sa_flags = SA_RESTART; /* waitpid goes on after the stop's SIGCHLD */
        sigemptyset(&sa.sa_mask);
        MUST(sigaction(SIGCHLD, &sa, NULL) == 0, "sigaction");
        pthread_t th;
        MUST(pthread_create(&th, NULL, round_thread, (void *)i) == 0, "pthread_create");
        MUST(pthread_join(th, NULL) == 0, "pthread_join");
    }
    unlink(name);
    CHECK(bad == 0, "every round's child died of SIGKILL and its thread read the file");
    FACT(chld <= ROUNDS, "at most two SIGCHLDs (stop, death) caught per round with a handler");
    if (failures == 0)
        puts("EXIT-SUCCESS");
    return failures ? 1 : 0;
}
