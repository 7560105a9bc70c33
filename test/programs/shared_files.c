/*
 * shared_files: files that change while they are mapped. Two processes share
 * a MAP_SHARED mapping of a file; the same file is mapped twice in one
 * process; write, pwrite, copy_file_range, ftruncate and fallocate (punched
 * holes, zeroed ranges) change a mapped
 * file; private mappings see a file grow under them. Every read through a
 * mapping must see in replay what it saw in the recording.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static long pg;

static int temp_file(size_t size) {
    char name[] = "shared-files-XXXXXX";
    int fd = mkstemp(name);
    MUST(fd >= 0, "mkstemp");
    unlink(name);
    MUST(ftruncate(fd, (off_t)size) == 0, "ftruncate");
    return fd;
}

int main(void) {
    pg = sysconf(_SC_PAGESIZE);

    /* ---- two processes share one MAP_SHARED file mapping ---- */
    int fd = temp_file(2 * pg);
    char *shared = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    MUST(shared != MAP_FAILED, "mmap shared");
    strcpy(shared, "written by the parent");
    fflush(stdout);
    pid_t kid = fork();
    MUST(kid >= 0, "fork");
    if (kid == 0) {
        int ok = strcmp(shared, "written by the parent") == 0;
        strcpy(shared + pg, "written by the child");
        _exit(ok ? 0 : 1);
    }
    int status;
    MUST(waitpid(kid, &status, 0) == kid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child saw the parent's store");
    CHECK(strcmp(shared + pg, "written by the child") == 0, "parent sees the child's store");

    /* ---- the same file mapped twice in one process ---- */
    char *again = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, 0);
    MUST(again != MAP_FAILED, "second shared mapping");
    shared[100] = 'Z';
    CHECK(again[100] == 'Z' && again != shared, "a store shows through the other mapping");

    /* ---- system calls that change the mapped file ---- */
    MUST(lseek(fd, 200, SEEK_SET) == 200, "lseek");
    CHECK(write(fd, "via write", 9) == 9 && memcmp(shared + 200, "via write", 9) == 0, "write shows in the mapping");
    CHECK(pwrite(fd, "via pwrite", 10, 300) == 10 && memcmp(again + 300, "via pwrite", 10) == 0, "pwrite shows in the mapping");
    int src = temp_file(0);
    MUST(write(src, "via copy_file_range", 19) == 19, "write source");
    loff_t in = 0, out = 400;
    ssize_t n = copy_file_range(src, &in, fd, &out, 19, 0);
    CHECK(n == 19 && memcmp(shared + 400, "via copy_file_range", 19) == 0, "copy_file_range shows in the mapping");

    /* ---- the file grows under mappings larger than it ---- */
    int gfd = temp_file(pg);
    char *big = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
    char *priv = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, gfd, 0);
    MUST(big != MAP_FAILED && priv != MAP_FAILED, "mmap beyond the end of the file");
    MUST(ftruncate(gfd, 3 * pg) == 0, "ftruncate grow");
    strcpy(big + 2 * pg + 10, "in the grown part");
    CHECK(strcmp(priv + 2 * pg + 10, "in the grown part") == 0, "a private mapping sees the grown part");
    priv[2 * pg + 10] = 'I';
    CHECK(big[2 * pg + 10] == 'i', "a private store stays private");
    CHECK(pwrite(gfd, "appended", 8, 3 * pg) == 8, "pwrite past the end grows the file");
    CHECK(lseek(gfd, 0, SEEK_END) == 3 * pg + 8, "file size after pwrite");
    MUST(ftruncate(gfd, pg) == 0, "ftruncate shrink");
    CHECK(big[10] == 0 && lseek(gfd, 0, SEEK_END) == pg, "shrunk file keeps its first page");

    /* ---- fallocate punches a hole in, and zeroes a range of, a mapped file ---- */
    MUST(ftruncate(gfd, 3 * pg) == 0, "ftruncate grow again");
    memset(big, 'h', 3 * pg);
    if (fallocate(gfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, pg, pg) == 0) {
        CHECK(big[pg] == 0 && big[2 * pg - 1] == 0 && big[pg - 1] == 'h' && big[2 * pg] == 'h', "a punched hole reads as zeros through the mapping");
        CHECK(lseek(gfd, 0, SEEK_END) == 3 * pg, "and keeps the size");
    } else {
        FACT(errno == EOPNOTSUPP, "this file system cannot punch holes");
    }
    if (fallocate(gfd, FALLOC_FL_ZERO_RANGE, 10, 20) == 0) {
        CHECK(big[9] == 'h' && big[10] == 0 && big[29] == 0 && big[30] == 'h', "a zeroed range reads as zeros");
    } else {
        FACT(errno == EOPNOTSUPP, "this file system cannot zero a range");
    }

    CHECK(munmap(shared, 2 * pg) == 0 && munmap(again, 2 * pg) == 0, "munmap");
    CHECK(munmap(big, 3 * pg) == 0 && munmap(priv, 3 * pg) == 0, "munmap grown");

    /* ---- mapped, unmapped, changed by writes, mapped again ---- */
    int rfd = temp_file(pg);
    char *m1 = mmap(NULL, pg, PROT_READ, MAP_SHARED, rfd, 0);
    CHECK(m1 != MAP_FAILED && munmap(m1, pg) == 0, "map and unmap");
    char expect[40];
    for (int i = 0; i < 40; i++) {
        expect[i] = (char)('a' + i % 26);
        if (pwrite(rfd, &expect[i], 1, i) != 1) failures++;
    }
    char *m2 = mmap(NULL, pg, PROT_READ, MAP_SHARED, rfd, 0);
    CHECK(m2 != MAP_FAILED && memcmp(m2, expect, sizeof expect) == 0, "mapped again, it shows the writes made while unmapped");
    printf(failures ? "FAILED\n" : "EXIT-SUCCESS\n");
    return failures != 0;
}
