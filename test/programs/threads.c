/* threads.c - pthreads for the trr e2e suite (multi-threaded).
 *
 * Exercises: clone3/clone (pthread_create), futex (mutexes, condition
 * variables, barriers, joins), set_robust_list, gettid, thread-local
 * storage (%fs base via arch_prctl/clone settls), pthread_once, atomics,
 * pthread_setname_np/prctl, and a detached thread.
 *
 * Output is deterministic regardless of scheduling: each thread records
 * its index and results are printed sorted.  Ends with EXIT-SUCCESS / 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define NTHREADS 4
#define INCREMENTS 10000
#define ITEMS 1000
#define QCAP 8

/* ---- shared counter ---- */
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long atomic_counter;

/* ---- thread-local ---- */
static __thread int tls_index = -1;
static __thread long tls_accum;

/* ---- start order / tid records ---- */
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static int start_order[NTHREADS];
static int started;
static pid_t tids[NTHREADS];

static pthread_barrier_t barrier;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_calls;

static void once_fn(void)
{
    once_calls++;
}

struct worker_result {
    int index;
    long tls_final;
    int tls_ok;
    int tid_ok;
};

static void *worker(void *arg)
{
    int idx = (int)(intptr_t)arg;
    tls_index = idx;
    tls_accum = 0;

    pid_t tid = (pid_t)syscall(SYS_gettid);
    pthread_mutex_lock(&order_lock);
    start_order[started++] = idx;
    tids[idx] = tid;
    pthread_mutex_unlock(&order_lock);

    pthread_once(&once, once_fn);
    pthread_barrier_wait(&barrier);

    for (int i = 0; i < INCREMENTS; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
        __atomic_fetch_add(&atomic_counter, 1, __ATOMIC_SEQ_CST);
        tls_accum += idx + 1;
        if ((i & 1023) == 0)
            sched_yield();
    }

    char name[16];
    snprintf(name, sizeof name, "worker-%d", idx);
    pthread_setname_np(pthread_self(), name);

    struct worker_result *r = malloc(sizeof *r);
    r->index = idx;
    r->tls_final = tls_accum;
    r->tls_ok = tls_index == idx;
    r->tid_ok = tid != getpid() && tid == gettid();
    return r;
}

/* ---- bounded producer/consumer ---- */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_not_full = PTHREAD_COND_INITIALIZER;
static int queue[QCAP];
static int q_head, q_count;
static int max_fill;

static void *producer(void *arg)
{
    (void)arg;
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&q_lock);
        while (q_count == QCAP)
            pthread_cond_wait(&q_not_full, &q_lock);
        queue[(q_head + q_count) % QCAP] = i;
        q_count++;
        if (q_count > max_fill)
            max_fill = q_count;
        pthread_cond_signal(&q_not_empty);
        pthread_mutex_unlock(&q_lock);
    }
    return NULL;
}

struct consumer_result {
    long sum;
    int count;
    int in_order;
};

static void *consumer(void *arg)
{
    struct consumer_result *res = arg;
    int last = 0;
    res->in_order = 1;
    for (int n = 0; n < ITEMS; n++) {
        pthread_mutex_lock(&q_lock);
        while (q_count == 0)
            pthread_cond_wait(&q_not_empty, &q_lock);
        int v = queue[q_head];
        q_head = (q_head + 1) % QCAP;
        q_count--;
        pthread_cond_signal(&q_not_full);
        pthread_mutex_unlock(&q_lock);
        if (v != last + 1)
            res->in_order = 0;
        last = v;
        res->sum += v;
        res->count++;
    }
    return NULL;
}

/* ---- detached thread signalling completion via a condition ---- */
static pthread_mutex_t det_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t det_cond = PTHREAD_COND_INITIALIZER;
static int det_done;

static void *detached(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&det_lock);
    det_done = 42;
    pthread_cond_broadcast(&det_cond);
    pthread_mutex_unlock(&det_lock);
    return NULL;
}

static int cmpint(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int main(void)
{
    pthread_t th[NTHREADS];
    tls_index = 999;

    CHECK(pthread_barrier_init(&barrier, NULL, NTHREADS) == 0, "pthread_barrier_init");
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) == 0, "pthread_create worker");

    struct worker_result *res[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        void *ret = NULL;
        CHECK(pthread_join(th[i], &ret) == 0, "pthread_join worker");
        res[i] = ret;
    }
    printf("mutex counter: %ld (expected %d)\n", counter, NTHREADS * INCREMENTS);
    CHECK(counter == NTHREADS * INCREMENTS, "mutex-protected counter correct");
    CHECK(atomic_counter == NTHREADS * INCREMENTS, "atomic counter correct");
    CHECK(once_calls == 1, "pthread_once ran exactly once");
    CHECK(tls_index == 999, "main thread's TLS untouched by workers");

    for (int i = 0; i < NTHREADS; i++) {
        printf("join result %d: index=%d tls_accum=%ld tls_ok=%d tid_ok=%d\n", i, res[i]->index,
               res[i]->tls_final, res[i]->tls_ok, res[i]->tid_ok);
        CHECK(res[i]->index == i && res[i]->tls_ok && res[i]->tid_ok &&
                  res[i]->tls_final == (long)(i + 1) * INCREMENTS,
              "worker result consistent");
        free(res[i]);
    }

    int sorted[NTHREADS];
    memcpy(sorted, start_order, sizeof sorted);
    qsort(sorted, NTHREADS, sizeof sorted[0], cmpint);
    printf("started threads (sorted):");
    for (int i = 0; i < NTHREADS; i++)
        printf(" %d", sorted[i]);
    printf("\n");
    CHECK(started == NTHREADS, "all threads recorded their start");
    {
        int distinct = 1;
        for (int i = 0; i < NTHREADS; i++)
            for (int j = i + 1; j < NTHREADS; j++)
                if (tids[i] == tids[j])
                    distinct = 0;
        CHECK(distinct, "thread ids distinct");
    }

    /* producer / consumer */
    pthread_t pt, ct;
    struct consumer_result cr = {0, 0, 0};
    CHECK(pthread_create(&ct, NULL, consumer, &cr) == 0, "create consumer");
    CHECK(pthread_create(&pt, NULL, producer, NULL) == 0, "create producer");
    CHECK(pthread_join(pt, NULL) == 0 && pthread_join(ct, NULL) == 0, "join producer/consumer");
    printf("consumed %d items, sum %ld\n", cr.count, cr.sum);
    CHECK(cr.count == ITEMS && cr.sum == (long)ITEMS * (ITEMS + 1) / 2, "consumer received every item");
    CHECK(cr.in_order, "items consumed in FIFO order");
    CHECK(max_fill >= 1 && max_fill <= QCAP, "queue never exceeded capacity");

    /* detached thread */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t dt;
    CHECK(pthread_create(&dt, &attr, detached, NULL) == 0, "create detached thread");
    pthread_attr_destroy(&attr);
    pthread_mutex_lock(&det_lock);
    while (det_done == 0)
        pthread_cond_wait(&det_cond, &det_lock);
    pthread_mutex_unlock(&det_lock);
    CHECK(det_done == 42, "detached thread ran");

    /* trylock semantics */
    pthread_mutex_lock(&counter_lock);
    CHECK(pthread_mutex_trylock(&counter_lock) == EBUSY, "trylock on held mutex -> EBUSY");
    pthread_mutex_unlock(&counter_lock);
    CHECK(pthread_mutex_trylock(&counter_lock) == 0, "trylock on free mutex succeeds");
    pthread_mutex_unlock(&counter_lock);

    pthread_barrier_destroy(&barrier);
    if (failures) {
        printf("FAILURES: %d\n", failures);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
