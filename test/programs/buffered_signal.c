/*
 * buffered_signal: signals the kernel raises inside a call the syscall
 * buffer runs without a ptrace stop. Natively such a signal is delivered
 * when that call returns, before the program's next instruction; a
 * recorder that holds it back to the next traced syscall makes the
 * program see it late.
 *
 * - a directory notification (F_NOTIFY, DN_MULTISHOT): SIGRTMIN+1 (set with
 *   F_SETSIG) comes during the creating open, the rename and the unlink
 *   of a file in the watched directory;
 * - a write past RLIMIT_FSIZE to a regular file: SIGXFSZ during the write,
 *   which fails with EFBIG.
 *
 * Each check reads the handler's counter right after the call, with no
 * syscall in between.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

static volatile sig_atomic_t notes, last_fd = -1, xfsz;

static void on_note(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    notes++;
    last_fd = si->si_fd;
}

static void on_xfsz(int sig) {
    (void)sig;
    xfsz++;
}

int main(void) {
    char dir[] = "bufsigXXXXXX";
    MUST(mkdtemp(dir) != NULL, "mkdtemp");
    struct sigaction sa = {0};
    sa.sa_sigaction = on_note;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    MUST(sigaction(SIGRTMIN + 1, &sa, NULL) == 0, "sigaction");

    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    MUST(dfd >= 0, "open dir");
    MUST(fcntl(dfd, F_SETSIG, SIGRTMIN + 1) == 0, "F_SETSIG");
    MUST(fcntl(dfd, F_NOTIFY, DN_CREATE | DN_DELETE | DN_RENAME | DN_MULTISHOT) == 0, "F_NOTIFY");

    int before = notes;
    int fd = openat(dfd, "made", O_RDWR | O_CREAT | O_EXCL, 0600);
    int seen = notes;
    MUST(fd >= 0, "openat O_CREAT");
    CHECK(seen == before + 1, "creating open notified before it returned");
    CHECK(last_fd == dfd, "notification names the watched directory");
    close(fd);

    before = notes;
    int rc = renameat(dfd, "made", dfd, "renamed");
    seen = notes;
    CHECK(rc == 0 && seen > before, "rename notified before it returned");

    before = notes;
    rc = unlinkat(dfd, "renamed", 0);
    seen = notes;
    CHECK(rc == 0 && seen == before + 1, "unlink notified before it returned");
    close(dfd);
    MUST(rmdir(dir) == 0, "rmdir");

    /* SIGXFSZ: a write that would grow a file past the limit. */
    signal(SIGXFSZ, on_xfsz);
    char name[] = "bufsigfileXXXXXX";
    int ffd = mkstemp(name);
    MUST(ffd >= 0, "mkstemp");
    unlink(name);
    /* The limit applies to stdout too when it is a file: nothing is printed while it holds. */
    fflush(stdout);
    struct rlimit lim = {.rlim_cur = 16, .rlim_max = RLIM_INFINITY}, old;
    MUST(getrlimit(RLIMIT_FSIZE, &old) == 0, "getrlimit");
    MUST(setrlimit(RLIMIT_FSIZE, &lim) == 0, "setrlimit");
    static const char data[32] = "0123456789abcdef0123456789abcdef";
    ssize_t n1 = write(ffd, data, 16);
    int got1 = xfsz;
    ssize_t n = write(ffd, data, 8);
    int err = errno;
    int got = xfsz;
    MUST(setrlimit(RLIMIT_FSIZE, &old) == 0, "setrlimit back");
    CHECK(n1 == 16 && got1 == 0, "write up to the limit raises nothing");
    CHECK(n == -1 && err == EFBIG, "write past the limit fails with EFBIG");
    CHECK(got == 1, "SIGXFSZ delivered before the write returned");
    close(ffd);

    if (failures == 0)
        puts("EXIT-SUCCESS");
    return failures ? 1 : 0;
}
