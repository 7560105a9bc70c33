/*
 * transfers: bytes that reach stdout without passing through the program's
 * memory (sendfile, splice, tee, copy_file_range) and from memory by
 * vmsplice. Replay must print every one of them, in order.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "check.h"

static int temp_file(const char *text) {
    char name[] = "transfers-XXXXXX";
    int fd = mkstemp(name);
    MUST(fd >= 0, "mkstemp");
    unlink(name);
    MUST(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write temp file");
    return fd;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct stat out;
    MUST(fstat(1, &out) == 0, "fstat stdout");
    int fd = temp_file("sendfile with offset: line A\nsendfile at position: line B\n");

    off_t off = 0;
    ssize_t n = sendfile(1, fd, &off, 29);
    CHECK(n == 29 && off == 29, "sendfile from an offset");
    MUST(lseek(fd, 29, SEEK_SET) == 29, "lseek");
    n = sendfile(1, fd, NULL, 100);
    CHECK(n == 29 && lseek(fd, 0, SEEK_CUR) == 58, "sendfile from the file position");

    /* splice from a file: stdout must be a pipe for splice, else EINVAL. */
    int sfd = temp_file("splice from a file\n");
    loff_t soff = 0;
    n = splice(sfd, &soff, 1, NULL, 19, 0);
    if (S_ISFIFO(out.st_mode)) CHECK(n == 19, "splice file to stdout pipe");
    else CHECK(n == 19 || (n < 0 && errno == EINVAL), "splice file to stdout");

    /* splice and tee from a pipe */
    int p[2];
    MUST(pipe(p) == 0, "pipe");
    const char *msg = "through a pipe: tee then splice\n";
    MUST(write(p[1], msg, strlen(msg)) == (ssize_t)strlen(msg), "write pipe");
    if (S_ISFIFO(out.st_mode)) {
        n = tee(p[0], 1, 15, 0);
        CHECK(n == 15, "tee pipe to stdout");
        printf("\n");
    }
    n = splice(p[0], NULL, 1, NULL, strlen(msg), 0);
    CHECK(n == (ssize_t)strlen(msg) || (!S_ISFIFO(out.st_mode) && n > 0), "splice pipe to stdout");

    /* vmsplice from memory into a pipe that is stdout */
    if (S_ISFIFO(out.st_mode)) {
        /* The pipe refers to these pages until the reader takes them: never change them. */
        static char part1[] = "vmsplice ", part2[] = "from memory\n";
        struct iovec iov[2] = {{part1, strlen(part1)}, {part2, strlen(part2)}};
        n = vmsplice(1, iov, 2, 0);
        CHECK(n == (ssize_t)(strlen(part1) + strlen(part2)), "vmsplice to stdout");
    }

    /* copy_file_range works when stdout is a regular file */
    int cfd = temp_file("copy_file_range to a file\n");
    loff_t coff = 0;
    n = copy_file_range(cfd, &coff, 1, NULL, 26, 0);
    if (S_ISREG(out.st_mode)) CHECK(n == 26, "copy_file_range to stdout file");
    else CHECK(n == 26 || (n < 0 && (errno == EINVAL || errno == EBADF || errno == EXDEV)), "copy_file_range to stdout");

    printf(failures ? "FAILED\n" : "EXIT-SUCCESS\n");
    return failures != 0;
}
