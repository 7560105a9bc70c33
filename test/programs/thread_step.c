/*
 * thread_step.c: two threads that hand work to each other with semaphores,
 * for the gdb tests that step and continue one chosen thread (`thread N`,
 * `stepi`, `next`, `set scheduler-locking on`). The worker reaches L_w1
 * only once the main thread sleeps in the kernel in sem_wait(&back) (its
 * /proc stat says so), so that where each thread stands when the worker
 * stops there is the same in every run, natively and in the recording.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sem_t go, back, go2;
static volatile int m, w;
static pid_t main_tid;

/* Whether thread tid sleeps in the kernel (state S in /proc/self/task/TID/stat). */
static int sleeping(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] == 'S';
}

static void *worker(void *arg)
{
    (void)arg;
    sem_wait(&go);
    while (!sleeping(main_tid))
        usleep(1000);
    w = 1; /* L_w1 */
    w = 2; /* L_w2 */
    sem_post(&back); /* L_w3 */
    w = 3; /* L_w4 */
    sem_wait(&go2); /* L_w5 */
    w = 4; /* L_w6 */
    return NULL; /* L_w7 */
}

int main(void)
{
    pthread_t t;
    main_tid = gettid();
    sem_init(&go, 0, 0);
    sem_init(&back, 0, 0);
    sem_init(&go2, 0, 0);
    pthread_create(&t, NULL, worker, NULL);
    sem_post(&go); /* L_m1 */
    sem_wait(&back); /* L_m2 */
    m = 1; /* L_m3 */
    m = 2; /* L_m4 */
    sem_post(&go2); /* L_m5 */
    pthread_join(t, NULL); /* L_m6 */
    printf("m=%d w=%d\n", m, w);
    printf("EXIT-SUCCESS\n");
    return 0;
}
