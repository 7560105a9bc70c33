/* files.c - file-system syscalls test program for the trr end-to-end suite.
 *
 * Exercises: open/openat/creat/read/write/pread64/pwrite64/readv/writev/lseek,
 * stat/fstat/lstat/newfstatat/statx, getdents64 (opendir/readdir),
 * unlink/unlinkat, rename/renameat, mkdir/rmdir, readlink/symlink,
 * getcwd/chdir/fchdir, fcntl (F_GETFL/F_SETFL/F_DUPFD_CLOEXEC/F_GETFD/
 * F_SETLK/F_OFD_GETLK), dup/dup2/dup3, ftruncate, access, umask,
 * ioctl(FIONREAD) on a pipe, isatty on stdout.
 *
 * Where glibc routes a legacy call to a newer syscall (e.g. open -> openat,
 * stat -> newfstatat) the legacy syscall is also issued via syscall(2) so
 * both kernel entry points get exercised.
 *
 * Prints only deterministic facts; ends with EXIT-SUCCESS / exit 0.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "check.h"

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    char tmpl[] = "trr-files-XXXXXX";
    char origcwd[PATH_MAX], buf[PATH_MAX];
    const char *msg = "hello, trr file world\n";
    size_t msglen = strlen(msg);

    MUST(getcwd(origcwd, sizeof origcwd) != NULL, "getcwd (initial)");
    MUST(mkdtemp(tmpl) != NULL, "mkdtemp");
    int origfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    MUST(origfd >= 0, "open(.)");

    /* ---- chdir / getcwd ---- */
    MUST(chdir(tmpl) == 0, "chdir into temp dir");
    MUST(getcwd(buf, sizeof buf) != NULL, "getcwd");
    {
        size_t bl = strlen(buf), tl = strlen(tmpl);
        CHECK(bl > tl && strcmp(buf + bl - tl, tmpl) == 0 && buf[bl - tl - 1] == '/',
              "getcwd ends with temp dir name after chdir");
    }

    /* ---- umask + open/creat/write/read ---- */
    mode_t oldmask = umask(022);
    CHECK(umask(022) == 022, "umask returns previous mask");

    int fd = (int)syscall(SYS_open, "a.txt", O_CREAT | O_RDWR | O_TRUNC, 0666);
    MUST(fd >= 0, "open(2) create a.txt");
    CHECK(write(fd, msg, msglen) == (ssize_t)msglen, "write a.txt");
    CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)msglen, "lseek SEEK_CUR after write");
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek SEEK_SET 0");
    memset(buf, 0, sizeof buf);
    CHECK(read(fd, buf, sizeof buf) == (ssize_t)msglen && memcmp(buf, msg, msglen) == 0,
          "read back a.txt");
    CHECK(read(fd, buf, sizeof buf) == 0, "read at EOF returns 0");
    CHECK(lseek(fd, -5, SEEK_END) == (off_t)msglen - 5, "lseek SEEK_END -5");

    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)msglen && S_ISREG(st.st_mode),
          "fstat size and type");
    CHECK((st.st_mode & 0777) == 0644, "umask 022 applied: mode 0644");
    close(fd);

    int cfd = (int)syscall(SYS_creat, "c.txt", 0600);
    MUST(cfd >= 0, "creat(2) c.txt");
    CHECK(write(cfd, "xyz", 3) == 3, "write c.txt");
    CHECK(read(cfd, buf, 1) == -1 && errno == EBADF, "read on creat() fd (O_WRONLY) fails with EBADF");
    {
        struct stat cst;
        CHECK(syscall(SYS_fstat, cfd, &cst) == 0 && cst.st_size == 3 && (cst.st_mode & 0777) == 0600,
              "fstat(2) c.txt size 3 mode 0600");
    }
    close(cfd);
    int cfd2 = creat("c2.txt", 0644);
    CHECK(cfd2 >= 0, "creat() via libc");
    close(cfd2);

    int dirfd = open(".", O_RDONLY | O_DIRECTORY);
    MUST(dirfd >= 0, "open temp dir");
    fd = openat(dirfd, "a.txt", O_RDWR);
    MUST(fd >= 0, "openat a.txt");

    /* ---- pread / pwrite ---- */
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 5, 7) == 5 && memcmp(buf, "trr f", 5) == 0, "pread offset 7");
    CHECK(lseek(fd, 0, SEEK_CUR) == 0, "pread does not move file offset");
    CHECK(pwrite(fd, "TRR", 3, 7) == 3, "pwrite offset 7");
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, msglen, 0) == (ssize_t)msglen &&
              memcmp(buf, "hello, TRR file world\n", msglen) == 0,
          "pwrite visible via pread");

    /* ---- writev / readv ---- */
    {
        char p1[] = "alpha-", p2[] = "beta-", p3[] = "gamma";
        struct iovec wv[3] = {{p1, 6}, {p2, 5}, {p3, 5}};
        CHECK(lseek(fd, 0, SEEK_END) == (off_t)msglen, "lseek to end");
        CHECK(writev(fd, wv, 3) == 16, "writev 3 iovecs, 16 bytes");
        char r1[4], r2[7], r3[5];
        struct iovec rv[3] = {{r1, 4}, {r2, 7}, {r3, 5}};
        CHECK(lseek(fd, (off_t)msglen, SEEK_SET) == (off_t)msglen, "lseek back");
        CHECK(readv(fd, rv, 3) == 16, "readv 16 bytes");
        CHECK(memcmp(r1, "alph", 4) == 0 && memcmp(r2, "a-beta-", 7) == 0 &&
                  memcmp(r3, "gamma", 5) == 0,
              "readv scatter contents");
        struct iovec pv[1] = {{buf, 5}};
        CHECK(preadv(fd, pv, 1, (off_t)msglen + 6) == 5 && memcmp(buf, "beta-", 5) == 0,
              "preadv");
        struct iovec pw[1] = {{"BETA", 4}};
        CHECK(pwritev(fd, pw, 1, (off_t)msglen + 6) == 4, "pwritev");
        CHECK(pread(fd, buf, 4, (off_t)msglen + 6) == 4 && memcmp(buf, "BETA", 4) == 0,
              "pwritev visible");
    }

    /* ---- ftruncate ---- */
    CHECK(ftruncate(fd, 10) == 0, "ftruncate to 10");
    CHECK(fstat(fd, &st) == 0 && st.st_size == 10, "size is 10 after ftruncate");
    CHECK(ftruncate(fd, 4096) == 0, "ftruncate grow to 4096");
    memset(buf, 1, 16);
    CHECK(pread(fd, buf, 16, 100) == 16, "pread from extended region");
    {
        int allzero = 1;
        for (int i = 0; i < 16; i++)
            allzero &= buf[i] == 0;
        CHECK(allzero, "extended region reads as zeros");
    }
    CHECK(ftruncate(fd, (off_t)msglen) == 0, "ftruncate back");

    /* ---- stat family ---- */
    struct stat st1, st2, st3, st4;
    CHECK(stat("a.txt", &st1) == 0, "stat a.txt");
    CHECK(syscall(SYS_stat, "a.txt", &st2) == 0, "stat(2) a.txt");
    CHECK(fstatat(dirfd, "a.txt", &st3, 0) == 0, "fstatat (newfstatat)");
    CHECK(syscall(SYS_newfstatat, AT_FDCWD, "a.txt", &st4, AT_SYMLINK_NOFOLLOW) == 0,
          "newfstatat(2)");
    CHECK(st1.st_ino == st2.st_ino && st2.st_ino == st3.st_ino && st3.st_ino == st4.st_ino &&
              st1.st_size == (off_t)msglen && st4.st_size == (off_t)msglen,
          "stat variants agree on inode and size");
    {
        struct statx sx;
        CHECK(statx(dirfd, "a.txt", 0, STATX_BASIC_STATS, &sx) == 0, "statx");
        CHECK(sx.stx_size == msglen && sx.stx_ino == st1.st_ino && (sx.stx_mode & 0777) == 0644,
              "statx agrees with stat");
        CHECK(statx(AT_FDCWD, "does-not-exist", 0, STATX_BASIC_STATS, &sx) == -1 &&
                  errno == ENOENT,
              "statx missing file -> ENOENT");
    }
    CHECK(stat("does-not-exist", &st) == -1 && errno == ENOENT, "stat missing file -> ENOENT");

    /* ---- symlink / readlink / lstat ---- */
    CHECK(symlink("a.txt", "link") == 0, "symlink");
    ssize_t rl = readlink("link", buf, sizeof buf);
    CHECK(rl == 5 && memcmp(buf, "a.txt", 5) == 0, "readlink");
    rl = readlinkat(dirfd, "link", buf, sizeof buf);
    CHECK(rl == 5 && memcmp(buf, "a.txt", 5) == 0, "readlinkat");
    CHECK(lstat("link", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 5, "lstat sees symlink");
    CHECK(syscall(SYS_lstat, "link", &st) == 0 && S_ISLNK(st.st_mode), "lstat(2) sees symlink");
    CHECK(stat("link", &st) == 0 && S_ISREG(st.st_mode) && st.st_ino == st1.st_ino,
          "stat follows symlink");
    CHECK(readlink("a.txt", buf, sizeof buf) == -1 && errno == EINVAL,
          "readlink on regular file -> EINVAL");

    /* ---- access ---- */
    CHECK(access("a.txt", R_OK | W_OK) == 0, "access R_OK|W_OK");
    CHECK(syscall(SYS_access, "a.txt", F_OK) == 0, "access(2) F_OK");
    CHECK(access("nope", F_OK) == -1 && errno == ENOENT, "access missing -> ENOENT");
    CHECK(faccessat(dirfd, "a.txt", R_OK, 0) == 0, "faccessat");

    /* ---- mkdir / rmdir / getdents64 ---- */
    CHECK(mkdir("sub", 0755) == 0, "mkdir sub");
    CHECK(mkdir("sub", 0755) == -1 && errno == EEXIST, "mkdir existing -> EEXIST");
    CHECK(mkdirat(dirfd, "sub/inner", 0700) == 0, "mkdirat sub/inner");
    {
        const char *names[] = {"zeta", "alpha", "mid", "beta"};
        for (int i = 0; i < 4; i++) {
            char p[64];
            snprintf(p, sizeof p, "sub/%s", names[i]);
            int f = open(p, O_CREAT | O_WRONLY | O_EXCL, 0644);
            CHECK(f >= 0, "create file in sub");
            close(f);
        }
        DIR *d = opendir("sub");
        MUST(d != NULL, "opendir");
        char *seen[16];
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL && n < 16) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            seen[n++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(seen, n, sizeof seen[0], cmpstr);
        printf("readdir sub (sorted):");
        for (int i = 0; i < n; i++)
            printf(" %s", seen[i]);
        printf("\n");
        CHECK(n == 5, "readdir found 5 entries");
        /* raw getdents64 too */
        int sfd = open("sub", O_RDONLY | O_DIRECTORY);
        char dbuf[4096];
        long total = 0, nread;
        int count = 0;
        while ((nread = syscall(SYS_getdents64, sfd, dbuf, sizeof dbuf)) > 0) {
            for (long off = 0; off < nread;) {
                unsigned short reclen = *(unsigned short *)(dbuf + off + 16);
                count++;
                off += reclen;
            }
            total += nread;
        }
        close(sfd);
        CHECK(nread == 0 && total > 0 && count == 7, "getdents64 sees 7 entries incl . and ..");
        for (int i = 0; i < n; i++) {
            char p[64];
            snprintf(p, sizeof p, "sub/%s", seen[i]);
            if (strcmp(seen[i], "inner") == 0)
                CHECK(rmdir(p) == 0, "rmdir sub/inner");
            else
                CHECK(unlinkat(dirfd, p, 0) == 0, "unlinkat file in sub");
            free(seen[i]);
        }
    }
    CHECK(rmdir("sub") == 0, "rmdir sub");
    CHECK(rmdir("sub") == -1 && errno == ENOENT, "rmdir missing -> ENOENT");
    CHECK(mkdir("sub2", 0755) == 0 && unlinkat(dirfd, "sub2", AT_REMOVEDIR) == 0,
          "unlinkat AT_REMOVEDIR");

    /* ---- rename / renameat ---- */
    CHECK(rename("c.txt", "d.txt") == 0, "rename c.txt -> d.txt");
    CHECK(access("c.txt", F_OK) == -1 && access("d.txt", F_OK) == 0, "rename moved the file");
    CHECK(renameat(dirfd, "d.txt", dirfd, "e.txt") == 0, "renameat d.txt -> e.txt");
    CHECK(syscall(SYS_rename, "e.txt", "f.txt") == 0, "rename(2) e.txt -> f.txt");
    CHECK(syscall(SYS_renameat2, AT_FDCWD, "f.txt", AT_FDCWD, "a.txt", RENAME_NOREPLACE) == -1 &&
              errno == EEXIST,
          "renameat2 RENAME_NOREPLACE onto existing -> EEXIST");
    {
        int f = open("f.txt", O_RDONLY);
        char b[4] = {0};
        CHECK(f >= 0 && read(f, b, 3) == 3 && memcmp(b, "xyz", 3) == 0,
              "renamed file keeps contents");
        close(f);
    }

    /* ---- fcntl ---- */
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl >= 0 && (fl & O_ACCMODE) == O_RDWR && !(fl & O_APPEND), "F_GETFL O_RDWR");
    CHECK(fcntl(fd, F_SETFL, fl | O_APPEND) == 0, "F_SETFL O_APPEND");
    CHECK((fcntl(fd, F_GETFL) & O_APPEND) != 0, "F_GETFL shows O_APPEND");
    CHECK(lseek(fd, 0, SEEK_SET) == 0 && write(fd, "!", 1) == 1 &&
              fstat(fd, &st) == 0 && st.st_size == (off_t)msglen + 1,
          "O_APPEND write goes to end");
    CHECK(fcntl(fd, F_SETFL, fl) == 0, "F_SETFL clear O_APPEND");
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    CHECK(dfd >= 100, "F_DUPFD_CLOEXEC >= 100");
    CHECK(fcntl(dfd, F_GETFD) == FD_CLOEXEC, "F_GETFD shows FD_CLOEXEC on dup");
    CHECK(fcntl(fd, F_GETFD) == 0, "F_GETFD original has no FD_CLOEXEC");
    CHECK(fcntl(dfd, F_SETFD, 0) == 0 && fcntl(dfd, F_GETFD) == 0, "F_SETFD clears cloexec");
    close(dfd);
    {
        struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
        CHECK(fcntl(fd, F_SETLK, &lk) == 0, "F_SETLK write lock");
        /* an OFD lock query through a separate open file description sees
         * the process-associated lock as a conflict */
        int f2 = open("a.txt", O_RDWR);
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
        CHECK(f2 >= 0 && fcntl(f2, F_OFD_GETLK, &q) == 0 && q.l_type == F_WRLCK,
              "F_OFD_GETLK reports conflicting lock");
        lk.l_type = F_UNLCK;
        CHECK(fcntl(fd, F_SETLK, &lk) == 0, "F_SETLK unlock");
        q = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
        CHECK(fcntl(f2, F_OFD_GETLK, &q) == 0 && q.l_type == F_UNLCK,
              "F_OFD_GETLK after unlock reports F_UNLCK");
        close(f2);
    }

    /* ---- dup / dup2 / dup3 ---- */
    int d1 = dup(fd);
    CHECK(d1 >= 0 && d1 != fd, "dup");
    CHECK(lseek(fd, 3, SEEK_SET) == 3 && lseek(d1, 0, SEEK_CUR) == 3, "dup shares file offset");
    CHECK(dup2(fd, 60) == 60, "dup2 to 60");
    CHECK(syscall(SYS_dup2, fd, 61) == 61, "dup2(2) to 61");
    CHECK(dup3(fd, 62, O_CLOEXEC) == 62 && fcntl(62, F_GETFD) == FD_CLOEXEC, "dup3 O_CLOEXEC");
    CHECK(dup3(fd, fd, 0) == -1 && errno == EINVAL, "dup3 same fd -> EINVAL");
    CHECK(dup2(fd, fd) == fd, "dup2 same fd is a no-op");
    {
        char c = 0;
        CHECK(pread(61, &c, 1, 0) == 1 && c == 'h', "read through dup2'd fd");
    }
    close(d1);
    close(60);
    close(61);
    close(62);
    CHECK(fcntl(60, F_GETFD) == -1 && errno == EBADF, "closed fd -> EBADF");

    /* ---- ioctl FIONREAD on a pipe ---- */
    {
        int p[2];
        MUST(pipe(p) == 0, "pipe");
        int avail = -1;
        CHECK(ioctl(p[0], FIONREAD, &avail) == 0 && avail == 0, "FIONREAD empty pipe = 0");
        CHECK(write(p[1], "12345", 5) == 5, "write 5 bytes into pipe");
        CHECK(ioctl(p[0], FIONREAD, &avail) == 0 && avail == 5, "FIONREAD = 5");
        char b[5];
        CHECK(read(p[0], b, 2) == 2 && ioctl(p[0], FIONREAD, &avail) == 0 && avail == 3,
              "FIONREAD = 3 after reading 2");
        struct termios t;
        CHECK(ioctl(p[0], TCGETS, &t) == -1 && errno == ENOTTY, "TCGETS on pipe -> ENOTTY");
        close(p[0]);
        close(p[1]);
    }

    /* ---- isatty(stdout): do not print the value, it depends on the harness */
    {
        struct termios t;
        int tty = isatty(1);
        int tc = ioctl(1, TCGETS, &t) == 0;
        CHECK(tty == tc, "isatty(stdout) agrees with ioctl(TCGETS)");
        CHECK(isatty(fd) == 0 && errno == ENOTTY, "isatty(regular file) == 0 with ENOTTY");
    }

    /* ---- unlink ---- */
    CHECK(unlink("link") == 0, "unlink symlink");
    CHECK(access("a.txt", F_OK) == 0, "unlinking symlink keeps target");
    CHECK(syscall(SYS_unlink, "f.txt") == 0, "unlink(2) f.txt");
    CHECK(unlinkat(dirfd, "c2.txt", 0) == 0, "unlinkat c2.txt");
    /* an unlinked-but-open file is still readable */
    CHECK(unlink("a.txt") == 0, "unlink a.txt while open");
    {
        char c = 0;
        CHECK(pread(fd, &c, 1, 0) == 1 && c == 'h', "read unlinked-but-open file");
        CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0, "st_nlink == 0 after unlink");
    }
    close(fd);
    CHECK(unlink("a.txt") == -1 && errno == ENOENT, "unlink missing -> ENOENT");

    /* ---- fchdir back and clean up ---- */
    CHECK(fchdir(origfd) == 0, "fchdir back to original cwd");
    CHECK(getcwd(buf, sizeof buf) != NULL && strcmp(buf, origcwd) == 0,
          "getcwd equals original after fchdir");
    close(dirfd);
    close(origfd);
    CHECK(rmdir(tmpl) == 0, "rmdir temp dir (empty)");
    umask(oldmask);

    if (failures) {
        printf("FAILURES: %d\n", failures);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
