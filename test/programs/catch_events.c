/*
 * catch_events.c: a few system calls, a fork, a vfork that execs, and
 * named threads, then an exec of itself, for the gdb tests of `catch syscall`, `catch fork/vfork/
 * exec` and thread names, which compare trr with gdb on a native run.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int g_step;

static void *worker(void *arg) {
    char name[16];
    snprintf(name, sizeof name, "worker-%ld", (long)arg);
    pthread_setname_np(pthread_self(), name); /* writes /proc/self/task/TID/comm */
    g_step++; /* L_named */
    if (arg == (void *)2) prctl(PR_SET_NAME, "renamed"); /* the thread names itself */
    g_step++; /* L_renamed */
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        printf("EXIT-SUCCESS\n"); /* the program again, after its exec */
        return 0;
    }
    g_step = 1; /* L_start */
    getpid();
    write(1, "catch_events\n", 13);
    pid_t c = fork();
    if (c == 0) _exit(3);
    int st;
    waitpid(c, &st, 0);
    pid_t v = vfork();
    if (v == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    waitpid(v, &st, 0);
    getppid();
    g_step = 2; /* L_after_children */
    for (long i = 1; i <= 2; i++) { /* one at a time: the same threads live natively and in the recording */
        pthread_t t;
        pthread_create(&t, NULL, worker, (void *)i);
        pthread_join(t, NULL);
    }
    prctl(PR_SET_NAME, "main-renamed");
    g_step = 3; /* L_end */
    fflush(stdout);
    execl("/proc/self/exe", argv[0], "again", (char *)NULL); /* the process itself runs a new program */
    return 1;
}
