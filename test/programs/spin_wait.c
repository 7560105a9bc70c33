/*
 * spin_wait.c: needs asynchronous preemption, which trr does not have yet.
 * With "threads": the main thread spins on a flag that only a second thread
 * sets, without any syscall. With "signal": it spins until a SIGALRM handler
 * sets the flag. trr must stop with a clear message instead of hanging.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int flag;

static void *setter(void *arg) {
    (void)arg;
    flag = 1;
    return NULL;
}

static void on_alarm(int sig) {
    (void)sig;
    flag = 1;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "signal") == 0) {
        signal(SIGALRM, on_alarm);
        alarm(1);
        while (!flag) {
        }
    } else {
        pthread_t t;
        pthread_create(&t, NULL, setter, NULL);
        while (!flag) {
        }
        pthread_join(t, NULL);
    }
    printf("flag set\n");
    return 0;
}
