/* pipes_poll.c - pipes and I/O multiplexing for the trr e2e suite.
 *
 * Exercises: pipe, pipe2 (O_CLOEXEC|O_NONBLOCK), poll, ppoll, select,
 * pselect6, epoll_create1/epoll_ctl/epoll_wait/epoll_pwait, eventfd2
 * (counter and EFD_SEMAPHORE), fcntl F_GETPIPE_SZ, and fork where the child
 * writes into a pipe that the parent drains with blocking poll + read.
 *
 * Prints only deterministic facts; ends with EXIT-SUCCESS / exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define CHILD_CHUNKS 50
#define CHUNK 100

int main(void)
{
    int p[2], q[2];

    /* ---- pipe ---- */
    MUST(syscall(SYS_pipe, p) == 0, "pipe(2)");
    CHECK(write(p[1], "ping", 4) == 4, "write into pipe");
    char buf[8192];
    CHECK(read(p[0], buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0, "read from pipe");
    {
        long sz = fcntl(p[0], F_GETPIPE_SZ);
        CHECK(sz >= 4096, "F_GETPIPE_SZ >= 4096");
    }

    /* ---- pipe2 non-blocking ---- */
    MUST(pipe2(q, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2");
    CHECK(fcntl(q[0], F_GETFD) == FD_CLOEXEC && (fcntl(q[0], F_GETFL) & O_NONBLOCK),
          "pipe2 flags applied");
    CHECK(read(q[0], buf, 1) == -1 && errno == EAGAIN, "empty non-blocking read -> EAGAIN");

    /* ---- poll ---- */
    struct pollfd pf[2] = {{.fd = q[0], .events = POLLIN}, {.fd = q[1], .events = POLLOUT}};
    int n = poll(pf, 2, 0);
    CHECK(n == 1 && pf[0].revents == 0 && (pf[1].revents & POLLOUT), "poll: empty pipe not readable, writable");
    CHECK(write(q[1], "abc", 3) == 3, "write 3 bytes to pipe2");
    pf[0].revents = pf[1].revents = 0;
    n = poll(pf, 1, 1000);
    CHECK(n == 1 && (pf[0].revents & POLLIN), "poll: readable after write");
    {
        struct timespec ts = {0, 0};
        sigset_t mask;
        sigemptyset(&mask);
        pf[0].revents = 0;
        CHECK(ppoll(pf, 1, &ts, &mask) == 1 && (pf[0].revents & POLLIN), "ppoll readable");
    }

    /* ---- select / pselect ---- */
    {
        fd_set r;
        struct timeval tv = {0, 0};
        FD_ZERO(&r);
        FD_SET(q[0], &r);
        FD_SET(p[0], &r);
        int maxfd = (q[0] > p[0] ? q[0] : p[0]) + 1;
        CHECK(select(maxfd, &r, NULL, NULL, &tv) == 1 && FD_ISSET(q[0], &r) && !FD_ISSET(p[0], &r),
              "select: only the non-empty pipe is readable");
        FD_ZERO(&r);
        FD_SET(p[0], &r);
        tv.tv_sec = 0;
        tv.tv_usec = 1000;
        CHECK(select(p[0] + 1, &r, NULL, NULL, &tv) == 0, "select times out on empty pipe");
        struct timespec ts = {0, 0};
        FD_ZERO(&r);
        FD_SET(q[0], &r);
        CHECK(pselect(q[0] + 1, &r, NULL, NULL, &ts, NULL) == 1 && FD_ISSET(q[0], &r), "pselect readable");
    }
    CHECK(read(q[0], buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0, "drain pipe2");
    CHECK(poll(pf, 1, 0) == 0, "poll after drain: nothing ready");

    /* ---- eventfd ---- */
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    MUST(efd >= 0, "eventfd");
    uint64_t v;
    CHECK(read(efd, &v, 8) == -1 && errno == EAGAIN, "eventfd empty read -> EAGAIN");
    v = 3;
    CHECK(write(efd, &v, 8) == 8, "eventfd write 3");
    v = 4;
    CHECK(write(efd, &v, 8) == 8, "eventfd write 4");
    CHECK(read(efd, &v, 8) == 8 && v == 7, "eventfd read sums to 7");
    {
        int sfd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
        uint64_t s1 = 0, s2 = 0, s3 = 0;
        CHECK(sfd >= 0 && read(sfd, &s1, 8) == 8 && read(sfd, &s2, 8) == 8 && s1 == 1 && s2 == 1 &&
                  read(sfd, &s3, 8) == -1 && errno == EAGAIN,
              "EFD_SEMAPHORE decrements by one");
        close(sfd);
    }

    /* ---- epoll ---- */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    MUST(ep >= 0, "epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1111};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev) == 0, "epoll_ctl ADD pipe");
    ev.events = EPOLLIN;
    ev.data.u64 = 0x2222;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0, "epoll_ctl ADD eventfd");
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == -1 && errno == EEXIST, "epoll_ctl ADD twice -> EEXIST");
    struct epoll_event out[4];
    CHECK(epoll_wait(ep, out, 4, 0) == 0, "epoll_wait: nothing ready");
    v = 1;
    CHECK(write(efd, &v, 8) == 8, "signal eventfd");
    n = epoll_wait(ep, out, 4, 1000);
    CHECK(n == 1 && out[0].data.u64 == 0x2222 && (out[0].events & EPOLLIN), "epoll_wait reports eventfd");
    CHECK(write(q[1], "x", 1) == 1, "write pipe2");
    n = epoll_wait(ep, out, 4, 1000);
    {
        int seen1 = 0, seen2 = 0;
        for (int i = 0; i < n; i++) {
            seen1 |= out[i].data.u64 == 0x1111;
            seen2 |= out[i].data.u64 == 0x2222;
        }
        CHECK(n == 2 && seen1 && seen2, "epoll_wait reports both fds");
    }
    CHECK(read(efd, &v, 8) == 8 && v == 1, "drain eventfd");
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 0x3333;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev) == 0, "epoll_ctl MOD to edge-triggered");
    {
        sigset_t mask;
        sigemptyset(&mask);
        n = epoll_pwait(ep, out, 4, 0, &mask);
        CHECK(n == 1 && out[0].data.u64 == 0x3333, "epoll_pwait after MOD");
    }
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL) == 0, "epoll_ctl DEL");
    CHECK(epoll_wait(ep, out, 4, 0) == 0, "epoll_wait after DEL: nothing ready");
    CHECK(read(q[0], buf, sizeof buf) == 1, "drain pipe2 again");
    close(ep);
    close(efd);
    close(q[0]);
    close(q[1]);

    /* ---- fork: child writes into a pipe, parent reads ---- */
    fflush(stdout);
    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) {
        close(p[0]);
        char chunk[CHUNK];
        for (int i = 0; i < CHILD_CHUNKS; i++) {
            for (int j = 0; j < CHUNK; j++)
                chunk[j] = (char)('A' + (i + j) % 26);
            if (write(p[1], chunk, CHUNK) != CHUNK)
                _exit(2);
            if (i % 10 == 9)
                usleep(200); /* let the parent see several partial reads */
        }
        close(p[1]);
        _exit(0);
    }
    close(p[1]);
    size_t total = 0;
    uint32_t sum = 0;
    int polls = 0, pollerr = 0;
    for (;;) {
        struct pollfd cp = {.fd = p[0], .events = POLLIN};
        int r = poll(&cp, 1, 10000);
        if (r != 1) {
            pollerr = 1;
            break;
        }
        polls++;
        ssize_t got = read(p[0], buf, sizeof buf);
        if (got < 0) {
            pollerr = 1;
            break;
        }
        if (got == 0)
            break;
        for (ssize_t i = 0; i < got; i++)
            sum = sum * 31 + (unsigned char)buf[i];
        total += (size_t)got;
    }
    CHECK(!pollerr && polls >= 1, "parent polled and read until EOF");
    printf("bytes from child: %zu, checksum: %08x\n", total, sum);
    {
        uint32_t expect = 0;
        for (int i = 0; i < CHILD_CHUNKS; i++)
            for (int j = 0; j < CHUNK; j++)
                expect = expect * 31 + (unsigned char)('A' + (i + j) % 26);
        CHECK(total == CHILD_CHUNKS * CHUNK && sum == expect, "data from child intact and in order");
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child exited 0");
    close(p[0]);

    /* ---- writing to a pipe with no reader: EPIPE (SIGPIPE ignored) ---- */
    {
        int r[2];
        MUST(pipe(r) == 0, "pipe");
        signal(SIGPIPE, SIG_IGN);
        close(r[0]);
        CHECK(write(r[1], "z", 1) == -1 && errno == EPIPE, "write to reader-less pipe -> EPIPE");
        close(r[1]);
        signal(SIGPIPE, SIG_DFL);
    }

    if (failures) {
        printf("FAILURES: %d\n", failures);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
