/*
 * chaos_race.c: a lazy initialisation that is not thread-safe. The first
 * caller of get_config() builds the configuration (it asks the kernel a few
 * things: uname, sysinfo, getrusage, times) and publishes it; later callers
 * use the published one. Nothing stops two threads from building it at the
 * same time: the check and the publication are a window several syscalls
 * wide. main() calls get_config() right after it starts a worker that does
 * the same (and after one syscall: natively, the kernel tends to preempt
 * main at its first syscall after the worker's creation, which without
 * that one would land inside the window), so natively main has nearly
 * always published it before the worker gets there, and the bug (two
 * configurations, the worker keeping one nobody else sees) shows up
 * rarely. Under trr, which switches threads
 * only at syscalls, it shows up when a switch lands inside the window:
 * rarely with the default 20 ms slices, often with `trr record --chaos`.
 *
 * Prints "config built once" and EXIT-SUCCESS, or "BUG: config built twice"
 * and exits with 1.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>

struct config {
    char machine[65];
    unsigned long ram;
    long max_rss;
    long ticks;
};

static struct config *volatile published;
static volatile int builds;

static struct config *build_config(void) {
    struct config *c = calloc(1, sizeof *c);
    struct utsname u;
    struct sysinfo si;
    struct rusage ru;
    struct tms t;
    uname(&u);
    snprintf(c->machine, sizeof c->machine, "%s", u.machine);
    sysinfo(&si);
    c->ram = si.totalram;
    getrusage(RUSAGE_SELF, &ru);
    c->max_rss = ru.ru_maxrss;
    c->ticks = (long)times(&t);
    builds++;
    return c;
}

static struct config *get_config(void) {
    if (!published) published = build_config(); /* BUG: check and publish are not atomic */
    return published;
}

static struct config *worker_config;


static void *worker(void *arg) {
    (void)arg;
    worker_config = get_config();
    return NULL;
}

int main(void) {
    struct tms start;
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    times(&start); /* main notes when it started: by then the worker has had its chance to run */
    struct config *mine = get_config();
    pthread_join(t, NULL);
    if (mine != worker_config || builds != 1) {
        printf("BUG: config built twice (%d builds; main and the worker use different ones)\n", builds);
        return 1;
    }
    printf("config built once\n");
    printf("EXIT-SUCCESS\n");
    return 0;
}
