/* timeandrandom.c - time and randomness sources for the trr e2e suite.
 *
 * Exercises: clock_gettime (REALTIME, MONOTONIC, BOOTTIME, COARSE and
 * PROCESS/THREAD_CPUTIME; via the vDSO through libc and via the raw
 * syscall), clock_getres, gettimeofday, time(), nanosleep, clock_nanosleep
 * (relative and TIMER_ABSTIME), getrandom, reading /dev/urandom, and the
 * RDTSC / RDTSCP instructions.
 *
 * None of these values are printed -- only derived facts that hold on
 * every run.  A record/replay tool must reproduce the recorded values,
 * so the facts must also hold during replay.
 *
 * Ends with EXIT-SUCCESS / exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "check.h"

static int64_t ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int valid_ts(const struct timespec *t)
{
    return t->tv_nsec >= 0 && t->tv_nsec < 1000000000L;
}

static int not_all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 1;
    return 0;
}

int main(void)
{
    struct timespec rt1, rt2, mono1, mono2, raw, boot, coarse, res;

    /* ---- clock_gettime through libc (vDSO fast path) ---- */
    FACT(clock_gettime(CLOCK_REALTIME, &rt1) == 0 && valid_ts(&rt1), "clock_gettime REALTIME ok");
    FACT(clock_gettime(CLOCK_MONOTONIC, &mono1) == 0 && valid_ts(&mono1), "clock_gettime MONOTONIC ok");
    /* 2020-01-01 < now < 2100-01-01 */
    FACT(rt1.tv_sec > 1577836800 && rt1.tv_sec < 4102444800LL, "realtime is a plausible date");
    FACT(mono1.tv_sec >= 0, "monotonic is non-negative");

    FACT(clock_gettime(CLOCK_MONOTONIC_RAW, &raw) == 0 && valid_ts(&raw), "clock_gettime MONOTONIC_RAW ok");
    FACT(clock_gettime(CLOCK_BOOTTIME, &boot) == 0 && ns(&boot) >= ns(&mono1),
         "BOOTTIME >= MONOTONIC");
    FACT(clock_gettime(CLOCK_REALTIME_COARSE, &coarse) == 0 &&
             llabs(ns(&coarse) - ns(&rt1)) < 1000000000LL,
         "REALTIME_COARSE within 1s of REALTIME");
    FACT(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0,
         "clock_getres MONOTONIC > 0 and < 1s");

    /* ---- raw syscalls (bypass the vDSO) ---- */
    {
        struct timespec s_rt, s_mono;
        FACT(syscall(SYS_clock_gettime, CLOCK_REALTIME, &s_rt) == 0 &&
                 llabs(ns(&s_rt) - ns(&rt1)) < 5000000000LL,
             "syscall clock_gettime REALTIME within 5s of vDSO value");
        FACT(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &s_mono) == 0 && ns(&s_mono) >= ns(&mono1),
             "syscall clock_gettime MONOTONIC >= earlier vDSO value");
        struct timeval s_tv;
        FACT(syscall(SYS_gettimeofday, &s_tv, NULL) == 0 && s_tv.tv_usec >= 0 &&
                 s_tv.tv_usec < 1000000 && llabs((long long)s_tv.tv_sec - rt1.tv_sec) <= 5,
             "syscall gettimeofday consistent");
        time_t s_t = (time_t)syscall(SYS_time, NULL);
        FACT(llabs((long long)s_t - rt1.tv_sec) <= 5, "syscall time consistent");
    }

    /* ---- CPU-time clocks (always real syscalls) ---- */
    {
        struct timespec p1, p2, t1;
        volatile uint64_t spin = 0;
        FACT(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p1) == 0 && valid_ts(&p1), "PROCESS_CPUTIME ok");
        for (int i = 0; i < 2000000; i++)
            spin += (uint64_t)i;
        FACT(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p2) == 0 && ns(&p2) >= ns(&p1),
             "PROCESS_CPUTIME non-decreasing");
        FACT(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1) == 0 && valid_ts(&t1), "THREAD_CPUTIME ok");
    }

    /* ---- gettimeofday / time ---- */
    struct timeval tv;
    FACT(gettimeofday(&tv, NULL) == 0 && tv.tv_usec >= 0 && tv.tv_usec < 1000000,
         "gettimeofday ok");
    FACT(llabs((long long)tv.tv_sec - rt1.tv_sec) <= 5, "gettimeofday within 5s of REALTIME");
    time_t t = time(NULL);
    time_t t2;
    FACT(time(&t2) == t2 && llabs((long long)t - rt1.tv_sec) <= 5, "time() consistent with REALTIME");

    /* ---- nanosleep 1 ms ---- */
    struct timespec req = {0, 1000000}, rem = {0, 0};
    FACT(nanosleep(&req, &rem) == 0, "nanosleep 1ms returns 0");
    FACT(clock_gettime(CLOCK_MONOTONIC, &mono2) == 0 && ns(&mono2) - ns(&mono1) >= 1000000,
         "monotonic advanced >= 1ms across nanosleep");
    FACT(clock_gettime(CLOCK_REALTIME, &rt2) == 0 && ns(&rt2) > ns(&rt1),
         "realtime advanced across nanosleep");

    /* ---- clock_nanosleep relative and absolute ---- */
    {
        struct timespec before, after, target;
        clock_gettime(CLOCK_MONOTONIC, &before);
        FACT(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL) == 0, "clock_nanosleep relative 1ms");
        clock_gettime(CLOCK_MONOTONIC, &after);
        FACT(ns(&after) - ns(&before) >= 1000000, "relative clock_nanosleep slept >= 1ms");

        target = after;
        target.tv_nsec += 2000000;
        if (target.tv_nsec >= 1000000000L) {
            target.tv_sec++;
            target.tv_nsec -= 1000000000L;
        }
        FACT(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, NULL) == 0,
             "clock_nanosleep TIMER_ABSTIME");
        clock_gettime(CLOCK_MONOTONIC, &after);
        FACT(ns(&after) >= ns(&target), "monotonic >= absolute target after wakeup");
        /* absolute time in the past returns immediately */
        struct timespec past = {0, 1};
        FACT(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL) == 0,
             "clock_nanosleep with past absolute target returns 0");
        FACT(clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, 2000000000L}, NULL) == EINVAL,
             "clock_nanosleep with invalid tv_nsec -> EINVAL");
    }

    /* ---- monotonic sequence ---- */
    {
        int ok = 1;
        struct timespec prev, cur;
        clock_gettime(CLOCK_MONOTONIC, &prev);
        for (int i = 0; i < 1000; i++) {
            clock_gettime(CLOCK_MONOTONIC, &cur);
            if (ns(&cur) < ns(&prev))
                ok = 0;
            prev = cur;
        }
        FACT(ok, "1000 consecutive MONOTONIC reads never decrease");
    }

    /* ---- getrandom ---- */
    {
        unsigned char r1[16], r2[16];
        memset(r1, 0, sizeof r1);
        memset(r2, 0, sizeof r2);
        FACT(getrandom(r1, sizeof r1, 0) == 16, "getrandom 16 bytes");
        FACT(getrandom(r2, sizeof r2, GRND_NONBLOCK) == 16, "getrandom GRND_NONBLOCK 16 bytes");
        FACT(not_all_zero(r1, 16) && not_all_zero(r2, 16), "random bytes not all zero");
        FACT(memcmp(r1, r2, 16) != 0, "two getrandom results differ");
        unsigned char big[300];
        FACT(syscall(SYS_getrandom, big, sizeof big, 0) == (long)sizeof big && not_all_zero(big, sizeof big),
             "syscall getrandom 300 bytes");
    }

    /* ---- /dev/urandom ---- */
    {
        unsigned char u[16];
        memset(u, 0, sizeof u);
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        FACT(fd >= 0, "open /dev/urandom");
        ssize_t n = fd >= 0 ? read(fd, u, sizeof u) : -1;
        FACT(n == 16, "read 16 bytes of /dev/urandom");
        FACT(not_all_zero(u, 16), "urandom bytes not all zero");
        if (fd >= 0)
            close(fd);
        /* libc rand seeded from urandom: the sequence must be replayed */
        unsigned seed;
        memcpy(&seed, u, sizeof seed);
        srand(seed);
        int distinct = 0, first = rand();
        for (int i = 0; i < 10; i++)
            distinct |= rand() != first;
        FACT(distinct, "rand() seeded from urandom yields a varying sequence");
    }

    /* ---- RDTSC / RDTSCP ---- */
    {
        uint64_t a = __rdtsc();
        uint64_t b = __rdtsc();
        unsigned int aux1 = 0, aux2 = 0;
        uint64_t c = __rdtscp(&aux1);
        uint64_t d = __rdtscp(&aux2);
        FACT(a > 0, "rdtsc non-zero");
        FACT(b >= a, "rdtsc monotonic (back-to-back)");
        FACT(c >= b && d >= c, "rdtscp monotonic and >= rdtsc");
        int ok = 1;
        uint64_t prev = __rdtsc();
        for (int i = 0; i < 1000; i++) {
            uint64_t cur = (i & 1) ? __rdtscp(&aux1) : __rdtsc();
            if (cur < prev)
                ok = 0;
            prev = cur;
        }
        FACT(ok, "1000 mixed rdtsc/rdtscp reads never decrease");
        struct timespec s1, s2;
        clock_gettime(CLOCK_MONOTONIC, &s1);
        uint64_t e = __rdtsc();
        nanosleep(&req, NULL);
        uint64_t f = __rdtsc();
        clock_gettime(CLOCK_MONOTONIC, &s2);
        FACT(f > e, "rdtsc advanced across a 1ms sleep");
        FACT(ns(&s2) - ns(&s1) >= 1000000, "monotonic advanced >= 1ms around the same sleep");
    }

    if (failures) {
        printf("FAILURES: %d\n", failures);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
