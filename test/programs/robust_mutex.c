/* robust_mutex.c - robust mutexes whose owner dies.
 *
 * The kernel walks a dying thread's robust futex list (set_robust_list)
 * and marks each mutex it still holds FUTEX_OWNER_DIED, so the next locker
 * gets EOWNERDEAD. Here the owner is: a thread that returns holding one; a
 * forked child killed by SIGKILL holding a process-shared one; and a child
 * that _exits holding one while the parent is already waiting for it.
 *
 * Exercises: set_robust_list, pthread robust/pshared mutexes, futex wait
 * and wake at a thread's death, fork, kill, waitpid, MAP_SHARED memory.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static pthread_mutex_t *mutex;

static void *take_and_leave(void *arg)
{
    (void)arg;
    if (pthread_mutex_lock(mutex) != 0) return (void *)1;
    return NULL; /* dies holding it */
}

static void recover(const char *what)
{
    int r = pthread_mutex_lock(mutex);
    CHECK(r == EOWNERDEAD, what);
    if (r == EOWNERDEAD) pthread_mutex_consistent(mutex);
    MUST(pthread_mutex_unlock(mutex) == 0, "unlock");
    MUST(pthread_mutex_lock(mutex) == 0 && pthread_mutex_unlock(mutex) == 0, "lock again");
}

int main(void)
{
    mutex = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    MUST(mutex != MAP_FAILED, "mmap");
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    MUST(pthread_mutex_init(mutex, &attr) == 0, "init");

    pthread_t th;
    void *ret;
    MUST(pthread_create(&th, NULL, take_and_leave, NULL) == 0 && pthread_join(th, &ret) == 0 && ret == NULL, "thread");
    recover("a thread that ended holding the mutex leaves it EOWNERDEAD");

    int p[2];
    MUST(pipe(p) == 0, "pipe");
    fflush(stdout);
    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) {
        if (pthread_mutex_lock(mutex) != 0 || write(p[1], "x", 1) != 1) _exit(1);
        for (;;) pause();
    }
    char c;
    MUST(read(p[0], &c, 1) == 1, "child holds it");
    MUST(kill(child, SIGKILL) == 0, "kill");
    int status = 0;
    MUST(waitpid(child, &status, 0) == child && WIFSIGNALED(status), "waitpid");
    recover("a process killed holding the mutex leaves it EOWNERDEAD");

    int q[2];
    MUST(pipe(q) == 0, "pipe");
    fflush(stdout);
    child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) {
        if (pthread_mutex_lock(mutex) != 0 || write(p[1], "x", 1) != 1) _exit(1);
        if (read(q[0], &c, 1) != 1) _exit(2);
        usleep(20000); /* let the parent block in the lock */
        _exit(0);
    }
    MUST(read(p[0], &c, 1) == 1, "child holds it");
    MUST(write(q[1], "x", 1) == 1, "let the child go");
    recover("a waiter is woken with EOWNERDEAD when the owner exits");
    MUST(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "waitpid");

    if (failures == 0) printf("EXIT-SUCCESS\n");
    return failures ? 1 : 0;
}
