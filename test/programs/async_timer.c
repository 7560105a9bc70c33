/*
 * async_timer.c: waits for timer signals in a loop without syscalls: the
 * handler counts ticks, the loop spins until there are enough. Modes:
 * "itimer" (setitimer ITIMER_REAL, SIGALRM), "posix" (timer_create with
 * SIGEV_SIGNAL, SIGUSR1), "alarm" (alarm(1), one SIGALRM). Each signal
 * lands in the middle of user code, where trr must deliver it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define TICKS 5

static volatile int ticks;

static void on_tick(int sig) {
    (void)sig;
    ticks++;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "itimer";
    int want = TICKS;
    timer_t timer;
    if (strcmp(mode, "posix") == 0) {
        signal(SIGUSR1, on_tick);
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_SIGNAL;
        ev.sigev_signo = SIGUSR1;
        if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0) {
            printf("FAIL: timer_create\n");
            return 1;
        }
        struct itimerspec its = {{0, 3000000}, {0, 3000000}};
        timer_settime(timer, 0, &its, NULL);
    } else if (strcmp(mode, "alarm") == 0) {
        signal(SIGALRM, on_tick);
        want = 1;
        alarm(1);
    } else {
        signal(SIGALRM, on_tick);
        struct itimerval itv = {{0, 3000}, {0, 3000}};
        setitimer(ITIMER_REAL, &itv, NULL);
    }
    while (ticks < want) {
    }
    if (strcmp(mode, "posix") == 0) timer_delete(timer);
    else {
        struct itimerval off;
        memset(&off, 0, sizeof off);
        setitimer(ITIMER_REAL, &off, NULL);
    }
    printf("%s: at least %d tick(s) seen\n", mode, want);
    printf("EXIT-SUCCESS\n");
    return 0;
}
