/*
 * sparse_map: maps small parts of huge, mostly empty files (a 16 GiB memfd
 * and a file with a 4 GiB hole). The trace must not hold their holes: its
 * copies stay as small as the data in them.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"

int main(void) {
    long pg = sysconf(_SC_PAGESIZE);
    int m = memfd_create("sparse_map", 0);
    MUST(m >= 0, "memfd_create");
    MUST(ftruncate(m, 16L << 30) == 0, "ftruncate memfd to 16 GiB");
    char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, m, 8L << 30);
    MUST(p != MAP_FAILED, "mmap at 8 GiB");
    strcpy(p, "in the middle of a memfd");
    CHECK(pread(m, (char[32]){0}, 24, 8L << 30) == 24, "pread the memfd");

    char name[] = "sparse-XXXXXX";
    int f = mkstemp(name);
    MUST(f >= 0, "mkstemp");
    unlink(name);
    MUST(pwrite(f, "head", 4, 0) == 4 && pwrite(f, "tail", 4, 4L << 30) == 4, "write around a 4 GiB hole");
    char *q = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, f, 4L << 30);
    MUST(q != MAP_FAILED, "mmap after the hole");
    CHECK(memcmp(q, "tail", 4) == 0 && strcmp(p, "in the middle of a memfd") == 0, "mapped data reads back");
    printf(failures ? "FAILED\n" : "EXIT-SUCCESS\n");
    return failures != 0;
}
