/* memory.c - memory-management syscalls test program for the trr e2e suite.
 *
 * Exercises: mmap (anonymous private, anonymous shared, file-backed
 * MAP_PRIVATE and MAP_SHARED, MAP_FIXED), munmap, mprotect, mremap (grow in
 * place / MREMAP_MAYMOVE / MREMAP_FIXED), msync, brk (via sbrk),
 * madvise(MADV_DONTNEED), mincore, a large malloc (mmap-backed), and an
 * mremap across two adjacent mappings of one descriptor.
 *
 * Prints only deterministic facts; ends with EXIT-SUCCESS / exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int all_equal(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

int main(void)
{
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    CHECK(pg == 4096, "page size is 4096");

    /* ---- anonymous private mapping ---- */
    size_t alen = 4 * pg;
    unsigned char *a = mmap(NULL, alen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MUST(a != MAP_FAILED, "mmap anonymous");
    CHECK(((uintptr_t)a & (pg - 1)) == 0, "anonymous mapping is page aligned");
    CHECK(all_equal(a, alen, 0), "fresh anonymous mapping is zero-filled");
    for (size_t i = 0; i < alen; i++)
        a[i] = (unsigned char)(i * 7 + 3);
    {
        int ok = 1;
        for (size_t i = 0; i < alen; i++)
            ok &= a[i] == (unsigned char)(i * 7 + 3);
        CHECK(ok, "anonymous mapping holds written pattern");
    }
    printf("anon pattern hash: %016llx\n", (unsigned long long)fnv(a, alen));

    /* ---- mincore ---- */
    {
        unsigned char vec[4];
        CHECK(mincore(a, alen, vec) == 0 && (vec[0] & 1) && (vec[3] & 1),
              "mincore reports touched pages resident");
    }

    /* ---- madvise(MADV_DONTNEED) zeroes private anonymous pages ---- */
    CHECK(madvise(a + pg, 2 * pg, MADV_DONTNEED) == 0, "madvise MADV_DONTNEED");
    CHECK(all_equal(a + pg, 2 * pg, 0), "MADV_DONTNEED pages read back as zero");
    CHECK(a[0] == 3 && a[3 * pg] == (unsigned char)(3 * pg * 7 + 3),
          "pages outside the advised range are untouched");

    /* ---- mremap: grow (may move), contents preserved ---- */
    unsigned char *b = mremap(a, alen, 16 * pg, MREMAP_MAYMOVE);
    MUST(b != MAP_FAILED, "mremap grow MREMAP_MAYMOVE");
    CHECK(b[0] == 3 && all_equal(b + pg, 2 * pg, 0) &&
              b[3 * pg + 1] == (unsigned char)((3 * pg + 1) * 7 + 3),
          "mremap grow preserves contents");
    CHECK(all_equal(b + alen, 12 * pg, 0), "grown region is zero-filled");
    memset(b + alen, 0x5a, 12 * pg);
    CHECK(all_equal(b + alen, 12 * pg, 0x5a), "grown region is writable");

    /* mremap shrink in place */
    unsigned char *c = mremap(b, 16 * pg, 8 * pg, 0);
    CHECK(c == b, "mremap shrink stays in place");

    /* mremap shrink with MREMAP_MAYMOVE, as realloc does: stays in place too */
    unsigned char *s = mmap(NULL, 37 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MUST(s != MAP_FAILED, "mmap for a MAYMOVE shrink");
    s[22 * pg - 1] = 9;
    unsigned char *s2 = mremap(s, 37 * pg, 22 * pg, MREMAP_MAYMOVE);
    CHECK(s2 == s && s2[22 * pg - 1] == 9, "mremap MAYMOVE shrink stays in place");
    CHECK(munmap(s2, 22 * pg) == 0, "munmap shrunk mapping");

    /* memory syscalls that fail in the recording fail the same way in replay */
    CHECK(madvise(c, pg, 12345) == -1 && errno == EINVAL, "madvise with a bad advice fails with EINVAL");
    CHECK(mprotect((void *)1, pg, PROT_READ) == -1 && errno == EINVAL, "mprotect of an unaligned address fails");
    /* replay locks memory too: MADV_DONTNEED on locked memory fails there as well */
    unsigned char *locked = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MUST(locked != MAP_FAILED, "mmap for mlock");
    if (mlock(locked, pg) == 0) {
        CHECK(madvise(locked, pg, MADV_DONTNEED) == -1 && errno == EINVAL, "MADV_DONTNEED on mlocked memory fails");
        CHECK(munlock(locked, pg) == 0, "munlock");
    } else {
        CHECK(errno == EPERM || errno == ENOMEM || errno == EAGAIN, "mlock refused by the limit");
    }

    /* mremap MREMAP_FIXED move to a reserved destination */
    unsigned char *dst = mmap(NULL, 8 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MUST(dst != MAP_FAILED, "mmap destination reservation");
    unsigned char *moved = mremap(c, 8 * pg, 8 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    CHECK(moved == dst, "mremap MREMAP_FIXED lands at requested address");
    CHECK(moved[0] == 3 && all_equal(moved + alen, 4 * pg, 0x5a), "moved mapping keeps contents");
    CHECK(mincore(c, pg, (unsigned char[1]){0}) == -1 && errno == ENOMEM,
          "old range is unmapped after move (mincore ENOMEM)");
    CHECK(munmap(moved, 8 * pg) == 0, "munmap moved mapping");

    /* ---- mprotect ---- */
    unsigned char *r = mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MUST(r != MAP_FAILED, "mmap PROT_READ");
    CHECK(r[0] == 0 && r[pg] == 0, "read from PROT_READ mapping");
    CHECK(mprotect(r, 2 * pg, PROT_READ | PROT_WRITE) == 0, "mprotect to PROT_READ|PROT_WRITE");
    r[0] = 0x11;
    r[2 * pg - 1] = 0x22;
    CHECK(r[0] == 0x11 && r[2 * pg - 1] == 0x22, "write after mprotect upgrade");
    CHECK(mprotect(r, pg, PROT_READ) == 0, "mprotect first page back to PROT_READ");
    CHECK(r[0] == 0x11, "data survives protection downgrade");
    CHECK(mprotect(r + 1, pg, PROT_READ) == -1 && errno == EINVAL, "unaligned mprotect -> EINVAL");
    CHECK(munmap(r, 2 * pg) == 0, "munmap");

    /* ---- MAP_FIXED over part of a reservation ---- */
    {
        unsigned char *res = mmap(NULL, 4 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        MUST(res != MAP_FAILED, "reserve");
        unsigned char *fx = mmap(res + pg, pg, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        CHECK(fx == res + pg, "MAP_FIXED maps at the requested address");
        fx[10] = 42;
        CHECK(fx[10] == 42, "MAP_FIXED page writable");
        CHECK(munmap(res, 4 * pg) == 0, "munmap reservation");
    }

    /* ---- file-backed mappings ---- */
    char path[] = "trr-memory-XXXXXX";
    int fd = mkstemp(path);
    MUST(fd >= 0, "mkstemp");
    size_t flen = 3 * pg + 123;
    unsigned char *content = malloc(flen);
    for (size_t i = 0; i < flen; i++)
        content[i] = (unsigned char)((i * 31) ^ (i >> 8));
    MUST(write(fd, content, flen) == (ssize_t)flen, "write file content");

    unsigned char *fp = mmap(NULL, flen, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    MUST(fp != MAP_FAILED, "mmap file MAP_PRIVATE");
    CHECK(memcmp(fp, content, flen) == 0, "MAP_PRIVATE file mapping matches file contents");
    CHECK(all_equal(fp + flen, 4 * pg - flen, 0), "tail of last page past EOF reads as zero");
    printf("file mapping hash: %016llx\n", (unsigned long long)fnv(fp, flen));
    fp[0] ^= 0xff; /* copy-on-write: must not reach the file */
    {
        unsigned char c0;
        CHECK(pread(fd, &c0, 1, 0) == 1 && c0 == content[0], "MAP_PRIVATE write not visible in file");
    }
    CHECK(munmap(fp, flen) == 0, "munmap file mapping");

    /* offset mapping */
    unsigned char *fo = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, (off_t)(2 * pg));
    CHECK(fo != MAP_FAILED && memcmp(fo, content + 2 * pg, pg) == 0, "mmap with file offset");
    if (fo != MAP_FAILED)
        munmap(fo, pg);

    /* shared mapping: writes reach the file */
    unsigned char *fs = mmap(NULL, flen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    MUST(fs != MAP_FAILED, "mmap file MAP_SHARED");
    memcpy(fs + 100, "SHARED-WRITE", 12);
    CHECK(msync(fs, flen, MS_SYNC) == 0, "msync");
    {
        char b12[12];
        CHECK(pread(fd, b12, 12, 100) == 12 && memcmp(b12, "SHARED-WRITE", 12) == 0,
              "MAP_SHARED write visible through read");
    }
    CHECK(pwrite(fd, "FILE", 4, 200) == 4 && memcmp(fs + 200, "FILE", 4) == 0,
          "file write visible through MAP_SHARED mapping");
    CHECK(munmap(fs, flen) == 0, "munmap shared mapping");
    close(fd);
    unlink(path);
    free(content);

    /* anonymous shared mapping survives across fork-less use */
    {
        unsigned char *sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK(sh != MAP_FAILED && all_equal(sh, pg, 0), "anonymous MAP_SHARED zero-filled");
        sh[5] = 9;
        CHECK(sh[5] == 9 && munmap(sh, pg) == 0, "anonymous MAP_SHARED write + munmap");
    }

    /* ---- brk via sbrk ---- */
    {
        char *cur = sbrk(0);
        CHECK(cur != (char *)-1, "sbrk(0)");
        size_t inc = 64 * 1024;
        char *old = sbrk((intptr_t)inc);
        CHECK(old == cur, "sbrk(+64K) returns old break");
        CHECK((char *)sbrk(0) == cur + inc, "break moved by 64K");
        memset(old, 0x77, inc);
        CHECK(all_equal((unsigned char *)old, inc, 0x77), "new heap memory writable");
        CHECK(sbrk(-(intptr_t)inc) != (void *)-1 && (char *)sbrk(0) == cur, "sbrk(-64K) restores");
    }

    /* ---- large malloc ---- */
    {
        size_t big = 32u << 20;
        unsigned char *m = malloc(big);
        MUST(m != NULL, "malloc 32 MiB");
        for (size_t i = 0; i < big; i += 4096)
            m[i] = (unsigned char)(i >> 12);
        uint64_t sum = 0;
        for (size_t i = 0; i < big; i += 4096)
            sum += m[i];
        printf("large malloc page-sum: %llu\n", (unsigned long long)sum);
        CHECK(sum == 8192ULL / 256 * (255 * 256 / 2), "large malloc page-sum correct");
        free(m);
        void *z = calloc(1, 8u << 20);
        CHECK(z && all_equal(z, 8u << 20, 0), "calloc 8 MiB is zeroed");
        free(z);
    }

    /* ---- two mappings of one descriptor, adjacent, are one to mremap ---- */
    {
        int fd = open("/proc/self/exe", O_RDONLY);
        MUST(fd >= 0, "open self");
        char *m = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE, fd, 0);
        MUST(m != MAP_FAILED, "mmap self");
        CHECK(mmap(m, pg, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == m, "the first page mapped again over itself");
        char *grown = mremap(m, 3 * pg, 4 * pg, MREMAP_MAYMOVE);
        CHECK(grown != MAP_FAILED, "mremap across both mappings (the kernel merged them)");
        CHECK(grown != MAP_FAILED && memcmp(grown, "\177ELF", 4) == 0, "and the contents moved along");
        if (grown != MAP_FAILED) munmap(grown, 4 * pg);
        close(fd);
    }

    CHECK(munmap(NULL, pg) == 0, "munmap of unmapped range succeeds");
    CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL,
          "mmap length 0 -> EINVAL");

    if (failures) {
        printf("FAILURES: %d\n", failures);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
