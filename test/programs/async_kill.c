/*
 * async_kill.c: "timeout 1 ./compute": a child computes in a loop without
 * syscalls; the parent waits, then sends it a signal, as timeout(1) or a
 * user's ^C would. Modes: "term" (SIGTERM, default action: it dies),
 * "handler" (SIGINT with a handler that makes the loop stop).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;
static volatile unsigned long sink;

static void on_int(int sig) {
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int handler = argc > 1 && strcmp(argv[1], "handler") == 0;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        if (handler) signal(SIGINT, on_int);
        unsigned long x = 1;
        while (!stop) x = x * 6364136223846793005UL + 1442695040888963407UL;
        sink = x;
        _exit(7);
    }
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    kill(child, handler ? SIGINT : SIGTERM);
    int status;
    waitpid(child, &status, 0);
    if (handler) printf("child stopped by its handler: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 7 ? "yes" : "no");
    else printf("child killed by SIGTERM: %s\n", WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? "yes" : "no");
    printf("EXIT-SUCCESS\n");
    return 0;
}
