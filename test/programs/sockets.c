/* sockets.c - loopback networking for the trr e2e suite (no external network).
 *
 * Exercises: socket, bind (127.0.0.1 port 0), listen, getsockname,
 * getpeername, connect (blocking and non-blocking + SO_ERROR), accept,
 * accept4, send/recv (incl. MSG_PEEK), sendto/recvfrom, sendmmsg/recvmmsg,
 * setsockopt/getsockopt (SO_REUSEADDR, TCP_NODELAY, SO_RCVBUF, SO_TYPE),
 * shutdown, socketpair (AF_UNIX stream + dgram), sendmsg/recvmsg with
 * SCM_RIGHTS fd passing, a named AF_UNIX socket, and fork (the child is a
 * TCP client and receives a file descriptor over a socketpair).
 *
 * Prints only deterministic facts (never port numbers); ends with
 * EXIT-SUCCESS / exit 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define CHILD_BYTES 20000

static struct sockaddr_in loopback_any(void)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    return a;
}

static int send_fd(int sock, int fd, const char *tag)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {(void *)tag, strlen(tag)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &m, 0) == (ssize_t)strlen(tag) ? 0 : -1;
}

/* returns received fd or -1; tag copied into tagbuf (NUL-terminated) */
static int recv_fd(int sock, char *tagbuf, size_t taglen)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {tagbuf, taglen - 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    if (n <= 0)
        return -1;
    tagbuf[n] = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return fd;
        }
    }
    return -1;
}

static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = recv(fd, (char *)buf + done, n - done, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -1 : (ssize_t)done;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

static int child_main(struct sockaddr_in srv, int unixsock)
{
    /* TCP client: send a pattern, expect a reply with the byte count */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&srv, sizeof srv) != 0)
        return 10;
    unsigned char out[CHILD_BYTES];
    for (int i = 0; i < CHILD_BYTES; i++)
        out[i] = (unsigned char)(i * 13 + 1);
    size_t sent = 0;
    while (sent < CHILD_BYTES) {
        ssize_t w = send(s, out + sent, CHILD_BYTES - sent, 0);
        if (w <= 0)
            return 11;
        sent += (size_t)w;
    }
    if (shutdown(s, SHUT_WR) != 0)
        return 12;
    char reply[64] = {0};
    ssize_t r = read_full(s, reply, sizeof reply - 1);
    if (r <= 0 || strcmp(reply, "got 20000") != 0)
        return 13;
    close(s);

    /* receive an fd over the unix socketpair and write through it */
    char tag[32];
    int fd = recv_fd(unixsock, tag, sizeof tag);
    if (fd < 0 || strcmp(tag, "take-this-fd") != 0)
        return 14;
    const char *msg = "written by child through passed fd";
    if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg))
        return 15;
    close(fd);
    if (send(unixsock, "done", 4, 0) != 4)
        return 16;
    close(unixsock);
    return 0;
}

int main(void)
{
    int one = 1, val;
    socklen_t len;

    /* ================= TCP ================= */
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    MUST(ls >= 0, "socket AF_INET SOCK_STREAM");
    CHECK(setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "setsockopt SO_REUSEADDR");
    val = 0;
    len = sizeof val;
    CHECK(getsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &val, &len) == 0 && val == 1 && len == sizeof val,
          "getsockopt SO_REUSEADDR == 1");
    len = sizeof val;
    CHECK(getsockopt(ls, SOL_SOCKET, SO_TYPE, &val, &len) == 0 && val == SOCK_STREAM, "SO_TYPE == SOCK_STREAM");
    struct sockaddr_in addr = loopback_any();
    MUST(bind(ls, (struct sockaddr *)&addr, sizeof addr) == 0, "bind 127.0.0.1:0");
    MUST(listen(ls, 8) == 0, "listen");
    struct sockaddr_in srv;
    len = sizeof srv;
    CHECK(getsockname(ls, (struct sockaddr *)&srv, &len) == 0 && srv.sin_family == AF_INET &&
              srv.sin_port != 0 && srv.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
          "getsockname: loopback with non-zero ephemeral port");

    /* in-process client */
    int cs = socket(AF_INET, SOCK_STREAM, 0);
    MUST(cs >= 0, "client socket");
    CHECK(setsockopt(cs, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "setsockopt TCP_NODELAY");
    val = 0;
    len = sizeof val;
    CHECK(getsockopt(cs, IPPROTO_TCP, TCP_NODELAY, &val, &len) == 0 && val != 0, "getsockopt TCP_NODELAY");
    len = sizeof val;
    CHECK(getsockopt(cs, SOL_SOCKET, SO_RCVBUF, &val, &len) == 0 && val > 0, "getsockopt SO_RCVBUF > 0");
    CHECK(connect(cs, (struct sockaddr *)&srv, sizeof srv) == 0, "connect to listener");
    struct sockaddr_in peer, cli;
    len = sizeof peer;
    int as = accept(ls, (struct sockaddr *)&peer, &len);
    CHECK(as >= 0, "accept");
    len = sizeof cli;
    CHECK(getsockname(cs, (struct sockaddr *)&cli, &len) == 0 && cli.sin_port == peer.sin_port,
          "accepted peer address == client's local address");
    len = sizeof peer;
    CHECK(getpeername(cs, (struct sockaddr *)&peer, &len) == 0 && peer.sin_port == srv.sin_port,
          "getpeername of client == server address");

    char buf[65536];
    CHECK(send(cs, "hello server", 12, 0) == 12, "client send");
    CHECK(recv(as, buf, 5, MSG_PEEK) == 5 && memcmp(buf, "hello", 5) == 0, "server recv MSG_PEEK");
    CHECK(read_full(as, buf, 12) == 12 && memcmp(buf, "hello server", 12) == 0, "server recv");
    CHECK(send(as, "hello client", 12, 0) == 12, "server send");
    CHECK(read_full(cs, buf, 12) == 12 && memcmp(buf, "hello client", 12) == 0, "client recv");
    /* bulk transfer larger than one segment */
    {
        static unsigned char big[200000];
        for (size_t i = 0; i < sizeof big; i++)
            big[i] = (unsigned char)(i ^ (i >> 9));
        /* non-blocking sends in slices interleaved with blocking receives,
         * so the socket buffers can never deadlock */
        size_t off = 0, got = 0;
        uint32_t h = 0, expect = 0;
        for (size_t i = 0; i < sizeof big; i++)
            expect = expect * 33 + big[i];
        while (got < sizeof big) {
            if (off < sizeof big) {
                size_t sl = sizeof big - off < 16384 ? sizeof big - off : 16384;
                ssize_t w = send(cs, big + off, sl, MSG_DONTWAIT);
                if (w > 0)
                    off += (size_t)w;
            }
            ssize_t r = recv(as, buf, sizeof buf, 0);
            if (r <= 0)
                break;
            for (ssize_t i = 0; i < r; i++)
                h = h * 33 + (unsigned char)buf[i];
            got += (size_t)r;
        }
        CHECK(got == sizeof big && h == expect, "200000-byte TCP transfer intact");
    }
    CHECK(shutdown(cs, SHUT_WR) == 0, "shutdown SHUT_WR");
    CHECK(recv(as, buf, sizeof buf, 0) == 0, "recv after peer shutdown -> EOF");
    close(as);
    close(cs);

    /* non-blocking connect */
    {
        int nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        int rc = connect(nb, (struct sockaddr *)&srv, sizeof srv);
        CHECK(rc == 0 || errno == EINPROGRESS, "non-blocking connect: 0 or EINPROGRESS");
        struct pollfd pf = {.fd = nb, .events = POLLOUT};
        CHECK(poll(&pf, 1, 5000) == 1 && (pf.revents & POLLOUT), "poll POLLOUT on connecting socket");
        int err = -1;
        len = sizeof err;
        CHECK(getsockopt(nb, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0, "SO_ERROR == 0");
        int a2 = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        CHECK(a2 >= 0 && (fcntl(a2, F_GETFL) & O_NONBLOCK) && fcntl(a2, F_GETFD) == FD_CLOEXEC,
              "accept4 with SOCK_CLOEXEC|SOCK_NONBLOCK");
        CHECK(recv(a2, buf, 1, 0) == -1 && errno == EAGAIN, "non-blocking recv on idle socket -> EAGAIN");
        close(a2);
        close(nb);
    }

    /* ================= UDP ================= */
    {
        int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
        MUST(u1 >= 0 && u2 >= 0, "UDP sockets");
        struct sockaddr_in a1 = loopback_any(), a2 = loopback_any();
        MUST(bind(u1, (struct sockaddr *)&a1, sizeof a1) == 0 && bind(u2, (struct sockaddr *)&a2, sizeof a2) == 0,
             "bind UDP sockets");
        len = sizeof a1;
        getsockname(u1, (struct sockaddr *)&a1, &len);
        len = sizeof a2;
        getsockname(u2, (struct sockaddr *)&a2, &len);
        CHECK(a1.sin_port != 0 && a2.sin_port != 0 && a1.sin_port != a2.sin_port, "UDP ports distinct");
        CHECK(sendto(u1, "datagram-1", 10, 0, (struct sockaddr *)&a2, sizeof a2) == 10, "sendto");
        struct sockaddr_in from;
        len = sizeof from;
        memset(buf, 0, 32);
        CHECK(recvfrom(u2, buf, sizeof buf, 0, (struct sockaddr *)&from, &len) == 10 &&
                  memcmp(buf, "datagram-1", 10) == 0,
              "recvfrom payload");
        CHECK(from.sin_port == a1.sin_port && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
              "recvfrom source == sender");
        CHECK(sendto(u2, "reply", 5, 0, (struct sockaddr *)&from, len) == 5 &&
                  recvfrom(u1, buf, sizeof buf, 0, NULL, NULL) == 5 && memcmp(buf, "reply", 5) == 0,
              "UDP reply");
        /* sendmmsg / recvmmsg */
        struct mmsghdr mm[3];
        struct iovec iv[3];
        const char *parts[3] = {"one", "three", "fifteen"};
        memset(mm, 0, sizeof mm);
        for (int i = 0; i < 3; i++) {
            iv[i].iov_base = (void *)parts[i];
            iv[i].iov_len = strlen(parts[i]);
            mm[i].msg_hdr.msg_iov = &iv[i];
            mm[i].msg_hdr.msg_iovlen = 1;
            mm[i].msg_hdr.msg_name = &a2;
            mm[i].msg_hdr.msg_namelen = sizeof a2;
        }
        CHECK(sendmmsg(u1, mm, 3, 0) == 3, "sendmmsg 3 datagrams");
        char rb[3][32];
        struct iovec riv[3];
        struct mmsghdr rm[3];
        memset(rm, 0, sizeof rm);
        for (int i = 0; i < 3; i++) {
            riv[i].iov_base = rb[i];
            riv[i].iov_len = sizeof rb[i];
            rm[i].msg_hdr.msg_iov = &riv[i];
            rm[i].msg_hdr.msg_iovlen = 1;
        }
        int got = 0;
        while (got < 3) {
            struct pollfd pf = {.fd = u2, .events = POLLIN};
            if (poll(&pf, 1, 5000) != 1)
                break;
            int r = recvmmsg(u2, rm + got, 3 - got, MSG_DONTWAIT, NULL);
            if (r <= 0)
                break;
            got += r;
        }
        CHECK(got == 3 && rm[0].msg_len == 3 && rm[1].msg_len == 5 && rm[2].msg_len == 7 &&
                  memcmp(rb[0], "one", 3) == 0 && memcmp(rb[1], "three", 5) == 0 &&
                  memcmp(rb[2], "fifteen", 7) == 0,
              "recvmmsg 3 datagrams, boundaries preserved");
        /* connected UDP */
        CHECK(connect(u1, (struct sockaddr *)&a2, sizeof a2) == 0 && send(u1, "conn", 4, 0) == 4 &&
                  recv(u2, buf, sizeof buf, 0) == 4 && memcmp(buf, "conn", 4) == 0,
              "connected UDP send/recv");
        close(u1);
        close(u2);
    }

    /* ================= AF_UNIX ================= */
    {
        int sp[2];
        MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair stream");
        int pp[2];
        MUST(pipe(pp) == 0, "pipe");
        CHECK(send_fd(sp[0], pp[1], "pipe-write-end") == 0, "sendmsg SCM_RIGHTS");
        char tag[32];
        int got = recv_fd(sp[1], tag, sizeof tag);
        CHECK(got >= 0 && got != pp[1] && strcmp(tag, "pipe-write-end") == 0, "recvmsg SCM_RIGHTS new fd");
        CHECK(got >= 0 && fcntl(got, F_GETFD) == FD_CLOEXEC, "MSG_CMSG_CLOEXEC applied");
        struct stat s1, s2;
        CHECK(got >= 0 && fstat(got, &s1) == 0 && fstat(pp[1], &s2) == 0 && s1.st_ino == s2.st_ino,
              "passed fd refers to the same pipe");
        CHECK(write(got, "through-passed", 14) == 14 && read(pp[0], buf, sizeof buf) == 14 &&
                  memcmp(buf, "through-passed", 14) == 0,
              "write through passed fd arrives in pipe");
        close(got);
        close(pp[0]);
        close(pp[1]);
        close(sp[0]);
        close(sp[1]);

        int dp[2];
        MUST(socketpair(AF_UNIX, SOCK_DGRAM, 0, dp) == 0, "socketpair dgram");
        CHECK(send(dp[0], "ab", 2, 0) == 2 && send(dp[0], "cde", 3, 0) == 3, "dgram sends");
        CHECK(recv(dp[1], buf, sizeof buf, 0) == 2 && recv(dp[1], buf, sizeof buf, 0) == 3,
              "AF_UNIX dgram keeps message boundaries");
        close(dp[0]);
        close(dp[1]);
    }

    /* named AF_UNIX socket in a private temp dir */
    {
        char dir[] = "trr-sock-XXXXXX";
        MUST(mkdtemp(dir) != NULL, "mkdtemp");
        struct sockaddr_un ua;
        memset(&ua, 0, sizeof ua);
        ua.sun_family = AF_UNIX;
        snprintf(ua.sun_path, sizeof ua.sun_path, "%s/s", dir);
        int us = socket(AF_UNIX, SOCK_STREAM, 0);
        CHECK(bind(us, (struct sockaddr *)&ua, sizeof ua) == 0 && listen(us, 2) == 0, "bind+listen AF_UNIX path");
        int uc = socket(AF_UNIX, SOCK_STREAM, 0);
        CHECK(connect(uc, (struct sockaddr *)&ua, sizeof ua) == 0, "connect AF_UNIX path");
        int ua2 = accept(us, NULL, NULL);
        CHECK(ua2 >= 0 && send(uc, "unix!", 5, 0) == 5 && read_full(ua2, buf, 5) == 5 &&
                  memcmp(buf, "unix!", 5) == 0,
              "AF_UNIX path stream transfer");
        struct stat st;
        CHECK(stat(ua.sun_path, &st) == 0 && S_ISSOCK(st.st_mode), "socket file is S_ISSOCK");
        close(ua2);
        close(uc);
        close(us);
        unlink(ua.sun_path);
        rmdir(dir);
    }

    /* ================= forked child ================= */
    {
        int sp[2];
        MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair for child");
        char path[] = "trr-sockfile-XXXXXX";
        int ffd = mkstemp(path);
        MUST(ffd >= 0, "mkstemp");
        fflush(stdout);
        pid_t pid = fork();
        MUST(pid >= 0, "fork");
        if (pid == 0) {
            close(sp[0]);
            _exit(child_main(srv, sp[1]));
        }
        close(sp[1]);
        int a = accept(ls, NULL, NULL);
        CHECK(a >= 0, "accept connection from child");
        size_t total = 0;
        uint32_t h = 0, expect = 0;
        for (;;) {
            ssize_t r = recv(a, buf, sizeof buf, 0);
            if (r <= 0)
                break;
            for (ssize_t i = 0; i < r; i++)
                h = h * 31 + (unsigned char)buf[i];
            total += (size_t)r;
        }
        for (int i = 0; i < CHILD_BYTES; i++)
            expect = expect * 31 + (unsigned char)(i * 13 + 1);
        printf("received from child over TCP: %zu bytes\n", total);
        CHECK(total == CHILD_BYTES && h == expect, "child TCP data intact");
        char reply[32];
        int rl = snprintf(reply, sizeof reply, "got %zu", total);
        CHECK(send(a, reply, (size_t)rl, 0) == rl, "reply to child");
        close(a);

        CHECK(send_fd(sp[0], ffd, "take-this-fd") == 0, "send file fd to child");
        CHECK(read_full(sp[0], buf, 4) == 4 && memcmp(buf, "done", 4) == 0, "child acknowledged");
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid child");
        printf("child exit status: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child succeeded");
        const char *msg = "written by child through passed fd";
        memset(buf, 0, 64);
        CHECK(pread(ffd, buf, 64, 0) == (ssize_t)strlen(msg) && strcmp(buf, msg) == 0,
              "file written by child via passed fd");
        close(ffd);
        unlink(path);
        close(sp[0]);
    }
    close(ls);

    if (failures) {
        printf("FAILURES: %d\n", failures);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
