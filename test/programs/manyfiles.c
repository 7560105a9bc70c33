/* manyfiles.c - syscall-heavy file churn (trr e2e + benchmarks).
 *
 * Usage: manyfiles [N]   (N files, default 2000)
 *
 * Creates a private temp directory under the current directory, creates N
 * files of 100 bytes each (content derived from the index), reads each
 * back and verifies it, stats each (size must be 100), lists the directory
 * and finally unlinks every file and removes the directory.  Prints a
 * checksum over everything read.
 *
 * Exercises: mkdir (mkdtemp), openat, write, read, close, newfstatat,
 * getdents64, unlink, rmdir -- roughly 7 syscalls per file.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_SIZE 100

static void fill(unsigned char *buf, long i)
{
    for (int j = 0; j < FILE_SIZE; j++)
        buf[j] = (unsigned char)('a' + (i * 7 + j * 3) % 26);
}

int main(int argc, char **argv)
{
    long n = 2000;
    if (argc > 1) {
        char *end;
        n = strtol(argv[1], &end, 10);
        if (*end || n < 0) {
            fprintf(stderr, "usage: %s [N>=0]\n", argv[0]);
            return 2;
        }
    }
    char dir[] = "trr-manyfiles-XXXXXX";
    if (!mkdtemp(dir)) {
        printf("FAIL: mkdtemp: %s\n", strerrorname_np(errno));
        return 1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) {
        printf("FAIL: open dir\n");
        return 1;
    }

    unsigned char buf[FILE_SIZE], rbuf[FILE_SIZE + 1];
    char name[32];
    long bad = 0;
    uint64_t h = 1469598103934665603ull;

    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "f%06ld", i);
        int fd = openat(dfd, name, O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0644);
        fill(buf, i);
        if (fd < 0 || write(fd, buf, FILE_SIZE) != FILE_SIZE)
            bad++;
        if (fd >= 0)
            close(fd);
    }
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "f%06ld", i);
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        ssize_t got = fd >= 0 ? read(fd, rbuf, sizeof rbuf) : -1;
        fill(buf, i);
        if (got != FILE_SIZE || memcmp(buf, rbuf, FILE_SIZE) != 0)
            bad++;
        for (ssize_t j = 0; j < got; j++) {
            h ^= rbuf[j];
            h *= 1099511628211ull;
        }
        if (fd >= 0)
            close(fd);
        struct stat st;
        if (fstatat(dfd, name, &st, 0) != 0 || st.st_size != FILE_SIZE || !S_ISREG(st.st_mode))
            bad++;
    }
    /* list the directory */
    long listed = 0;
    DIR *d = fdopendir(dup(dfd));
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] == 'f')
                listed++;
        closedir(d);
    }
    if (listed != n)
        bad++;
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "f%06ld", i);
        if (unlinkat(dfd, name, 0) != 0)
            bad++;
    }
    close(dfd);
    if (rmdir(dir) != 0)
        bad++;

    printf("files: %ld\n", n);
    printf("listed: %ld\n", listed);
    printf("checksum: %016llx\n", (unsigned long long)h);
    if (bad) {
        printf("FAIL: %ld errors\n", bad);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
