/*
 * syscallbuf.c: the syscalls trr's preload library buffers (getppid and
 * friends, open/read/write/pread/pwrite/readv/writev/lseek/fstat/stat/
 * fcntl (flags, locks)/fsync/fdatasync/fchown/close/unlink/isatty on
 * regular files, getcwd, clock_gettime, sigaction queries), many of them, in the main thread, in threads and
 * in a forked child; signals sent by another thread while the main thread
 * runs buffered calls only; a write to stdout in between (which stays
 * traced). Argument: the number of getppid calls (default 100000).
 */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long loops = 100000;
static char dir[64];

/* Writes n records to a new file, reads them back in pieces, checks them. */
static int file_round(const char *name, int n) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (fd < 0) return 0;
    char rec[32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(rec, sizeof rec, "record %06d\n", i);
        if (write(fd, rec, (size_t)len) != len) return 0;
    }
    if (pwrite(fd, "RECORD", 6, 0) != 6) return 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size != (off_t)n * 14) return 0;
    if (lseek(fd, 0, SEEK_SET) != 0) return 0;
    char buf[100];
    long total = 0;
    ssize_t r;
    uint32_t sum = 0;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t k = 0; k < r; k++) sum = sum * 31 + (unsigned char)buf[k];
        total += r;
    }
    if (total != (long)n * 14) return 0;
    char head[7] = {0};
    if (pread(fd, head, 6, 0) != 6 || strcmp(head, "RECORD") != 0) return 0;
    if (close(fd) != 0) return 0;
    if (stat(path, &st) != 0 || st.st_size != (off_t)n * 14) return 0;
    if (lstat(path, &st) != 0) return 0;
    /* Opened again, read-only: pieces with readv, a lock, the flags, a sync. */
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return 0;
    struct iovec w[3] = {{"piece one ", 10}, {"piece two ", 10}, {"three\n", 6}};
    if (lseek(fd, 0, SEEK_END) != (off_t)n * 14 || writev(fd, w, 3) != 26) return 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(fd, F_SETLK, &fl) != 0) return 0;
    struct flock q = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(fd, F_GETLK, &q) != 0 || q.l_type != F_UNLCK) return 0; /* our own lock does not conflict */
    if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC) || fcntl(fd, F_SETFD, 0) != 0 || fcntl(fd, F_GETFD) != 0) return 0;
    if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR) return 0;
    if (fsync(fd) != 0 || fdatasync(fd) != 0 || fchown(fd, getuid(), getgid()) != 0) return 0;
    char p1[6] = {0}, p2[40] = {0};
    struct iovec rv[2] = {{p1, 5}, {p2, sizeof p2 - 1}};
    if (lseek(fd, (off_t)n * 14, SEEK_SET) != (off_t)n * 14 || readv(fd, rv, 2) != 26) return 0;
    if (strcmp(p1, "piece") != 0 || strcmp(p2, " one piece two three\n") != 0) return 0;
    if (close(fd) != 0) return 0;
    char missing[140];
    snprintf(missing, sizeof missing, "%s/no-such-file", dir);
    if (open(missing, O_RDONLY) != -1 || errno != ENOENT) return 0;
    /* isatty of a regular file (a TCGETS ioctl that fails) and getcwd, buffered. */
    fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    errno = 0;
    if (isatty(fd) != 0 || errno != ENOTTY || close(fd) != 0) return 0;
    char cwd[512];
    if (getcwd(cwd, sizeof cwd) != cwd || cwd[0] != '/' || getcwd(cwd, 1) != NULL || errno != ERANGE) return 0;
    if (unlink(path) != 0 || unlink(path) != -1 || errno != ENOENT) return 0;
    return sum != 0;
}

static void *worker(void *arg) {
    long id = (long)arg;
    long ok = 1;
    pid_t pp = getppid();
    for (long i = 0; i < loops / 10; i++) ok &= getppid() == pp;
    char name[16];
    snprintf(name, sizeof name, "t%ld", id);
    ok &= file_round(name, 300);
    return (void *)ok;
}

static int vm_child(void *arg) {
    (void)arg;
    pid_t self = (pid_t)syscall(SYS_getpid);
    int ok = 1;
    for (int i = 0; i < 1000; i++) ok &= getpid() == self;
    return ok ? 0 : 1;
}

static volatile sig_atomic_t got;
static void on_usr1(int sig) { (void)sig; got++; }

static pid_t main_tid;
static void *signaller(void *arg) {
    (void)arg;
    struct timespec ts = {0, 1000000};
    for (int i = 0; i < 20; i++) {
        syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
        while (got <= i) nanosleep(&ts, NULL); /* one at a time: signals do not merge */
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) loops = atol(argv[1]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* In a process that has no buffer yet (a fork made before any buffered call): children that
     * share its memory and thread-local storage (clone(CLONE_VM) without CLONE_SETTLS), one after
     * the other, each making buffered calls. */
    fflush(stdout);
    pid_t host = fork();
    MUST(host >= 0, "fork");
    if (host == 0) {
        int ok = 1;
        for (int k = 0; k < 2; k++) {
            static char stack[2][65536];
            pid_t kid = clone(vm_child, stack[k] + sizeof stack[k], CLONE_VM | SIGCHLD, NULL);
            int ws = 0;
            ok &= kid > 0 && waitpid(kid, &ws, 0) == kid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
        }
        _exit(ok ? 0 : 1);
    }
    int hs = 0;
    MUST(waitpid(host, &hs, 0) == host, "waitpid host");
    CHECK(WIFEXITED(hs) && WEXITSTATUS(hs) == 0, "CLONE_VM children without their own TLS: getpid loops");

    snprintf(dir, sizeof dir, "sbXXXXXX");
    MUST(mkdtemp(dir) != NULL, "mkdtemp");

    pid_t pp = getppid(), me = getpid();
    long same = 0;
    for (long i = 0; i < loops; i++) same += getppid() == pp && getpid() == me;
    CHECK(same == loops, "getppid/getpid loop");
    CHECK(getuid() == geteuid() && getgid() == getegid(), "ids");
    CHECK(gettid() == me, "gettid in main");
    struct timespec a, b;
    int mono = 1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        mono &= b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec);
        a = b;
    }
    CHECK(mono, "clock_gettime monotonic");
    CHECK(file_round("main", 2000), "file writes and reads in main");
    printf("a line on stdout between buffered stretches\n");
    CHECK(file_round("main2", 50), "file writes and reads after stdout");

    pthread_t t[3];
    for (long i = 0; i < 3; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    long all = 1;
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        all &= (long)r;
    }
    CHECK(all, "threads: getppid loops and file rounds");

    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        int ok = 1;
        for (long i = 0; i < loops / 10; i++) ok &= getppid() == me;
        ok &= file_round("child", 500);
        _exit(ok ? 0 : 1);
    }
    CHECK(file_round("parent", 500), "parent file round while the child runs");
    int ws;
    MUST(waitpid(c, &ws, 0) == c, "waitpid");
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "forked child: getppid loop and file round");

    /* Signals from another thread while this one makes buffered calls only. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    /* Queries of actions (buffered): the handler just set, an ignored and a default one, a bad signal. */
    struct sigaction q;
    memset(&q, 0xff, sizeof q);
    CHECK(sigaction(SIGUSR1, NULL, &q) == 0 && q.sa_handler == on_usr1 && !(q.sa_flags & SA_SIGINFO) && !sigismember(&q.sa_mask, SIGUSR2), "sigaction query of SIGUSR1");
    signal(SIGUSR2, SIG_IGN);
    CHECK(sigaction(SIGUSR2, NULL, &q) == 0 && q.sa_handler == SIG_IGN, "sigaction query of an ignored signal");
    CHECK(sigaction(SIGWINCH, NULL, &q) == 0 && q.sa_handler == SIG_DFL, "sigaction query of a default signal");
    CHECK(sigaction(65, NULL, &q) == -1 && errno == EINVAL, "sigaction query of signal 65");
    main_tid = gettid();
    pthread_t s;
    pthread_create(&s, NULL, signaller, NULL);
    long spins = 0;
    while (got < 20) {
        getppid();
        /* A traced call now and then: trr switches threads only at traced events. */
        if (++spins % 1000 == 0) sched_yield();
    }
    pthread_join(s, NULL);
    CHECK(got == 20 && spins > 0, "signals during buffered calls");

    rmdir(dir);
    printf(failures ? "FAILURES\n" : "EXIT-SUCCESS\n");
    return failures ? 1 : 0;
}
