/*
 * killed_in_stop: threads die while the recorder handles their stops. Each
 * round forks a child whose threads make syscalls in a loop (sched_yield,
 * getppid through syscall(2), so never buffered) while one of them dies of
 * a fault; the kernel then kills the others wherever they are, including
 * in a ptrace-stop that the recorder has been told about but has not yet
 * handled. Half the rounds die of a fault with no handler (SIGSEGV), half
 * of a fault inside a SIGUSR1 handler that blocks it (the kernel forces
 * the default action). The parent checks how each child died.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define ROUNDS 16
#define THREADS 4

static volatile int go;

static void *churn(void *arg) {
    (void)arg;
    for (;;) {
        syscall(SYS_sched_yield);
        syscall(SYS_getppid);
    }
    return NULL;
}

static void fault(void) {
    *(volatile int *)8 = 1;
}

static void on_usr1(int sig) {
    (void)sig;
    fault(); /* SIGSEGV is blocked in here: the kernel kills the process */
}

static void child(int round) {
    if (round % 2) {
        struct sigaction sa = {0};
        sa.sa_handler = on_usr1;
        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGSEGV);
        sigaction(SIGUSR1, &sa, NULL);
    }
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, churn, NULL);
    for (int i = 0; i < 20; i++)
        syscall(SYS_sched_yield);
    if (round % 2)
        raise(SIGUSR1);
    else
        fault();
    _exit(3);
}

int main(void) {
    int ok = 0;
    for (int round = 0; round < ROUNDS; round++) {
        fflush(stdout);
        pid_t pid = fork();
        MUST(pid >= 0, "fork");
        if (pid == 0)
            child(round);
        int st;
        MUST(waitpid(pid, &st, 0) == pid, "waitpid");
        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
            ok++;
    }
    CHECK(ok == ROUNDS, "every child died of SIGSEGV with its threads");
    if (failures == 0)
        puts("EXIT-SUCCESS");
    return failures ? 1 : 0;
}
