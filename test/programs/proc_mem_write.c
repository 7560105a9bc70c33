/* proc_mem_write.c - writes through /proc/PID/mem into the program's own
 * memory and into a child's.
 *
 * The kernel stores such writes straight into the target's memory: pwrite,
 * lseek+write, writev and pwritev into /proc/self/mem (also onto a
 * read-only page, which /proc/PID/mem may write), then pwrite and writev
 * into a forked child's memory while it waits on a pipe; the child checks
 * what arrived and reports it through its exit status.
 *
 * Exercises: open/pwrite64/write/writev/pwritev on /proc/self/mem and
 * /proc/PID/mem, lseek, mmap/mprotect, fork, pipe, waitpid.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static volatile uint32_t own1, own2, own3, own4;
static volatile uint32_t child1, child2;

int main(void)
{
    uint32_t v = 0x600df00d;
    int fd = open("/proc/self/mem", O_RDWR);
    MUST(fd >= 0, "open /proc/self/mem");
    CHECK(pwrite(fd, &v, 4, (off_t)(uintptr_t)&own1) == 4 && own1 == v, "pwrite into own memory");
    MUST(lseek(fd, (off_t)(uintptr_t)&own2, SEEK_SET) >= 0, "lseek");
    v++;
    CHECK(write(fd, &v, 4) == 4 && own2 == v, "lseek+write into own memory");
    uint16_t halves[2] = {0x1234, 0x5678};
    struct iovec iov[2] = {{&halves[0], 2}, {&halves[1], 2}};
    MUST(lseek(fd, (off_t)(uintptr_t)&own3, SEEK_SET) >= 0, "lseek");
    CHECK(writev(fd, iov, 2) == 4 && own3 == 0x56781234, "writev into own memory");
    CHECK(pwritev(fd, iov, 2, (off_t)(uintptr_t)&own4) == 4 && own4 == 0x56781234, "pwritev into own memory");

    uint32_t *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MUST(ro != MAP_FAILED, "mmap");
    ro[0] = 1;
    MUST(mprotect(ro, 4096, PROT_READ) == 0, "mprotect");
    v = 0xabad1dea;
    CHECK(pwrite(fd, &v, 4, (off_t)(uintptr_t)ro) == 4 && ro[0] == v, "pwrite onto a read-only page");
    close(fd);

    int p[2];
    MUST(pipe(p) == 0, "pipe");
    fflush(stdout);
    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) {
        char c;
        if (read(p[0], &c, 1) != 1) _exit(1);
        _exit(child1 == 0xc0ffee && child2 == 0x56781234 ? 42 : 2);
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)child);
    int cfd = open(path, O_RDWR);
    MUST(cfd >= 0, "open /proc/PID/mem of a child");
    v = 0xc0ffee;
    CHECK(pwrite(cfd, &v, 4, (off_t)(uintptr_t)&child1) == 4, "pwrite into the child's memory");
    MUST(lseek(cfd, (off_t)(uintptr_t)&child2, SEEK_SET) >= 0, "lseek");
    CHECK(writev(cfd, iov, 2) == 4, "writev into the child's memory");
    CHECK(child1 == 0 && child2 == 0, "the parent's own copies are untouched");
    close(cfd);
    MUST(write(p[1], "x", 1) == 1, "wake the child");
    int status = 0;
    MUST(waitpid(child, &status, 0) == child, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42, "the child found both values");

    if (failures == 0) printf("EXIT-SUCCESS\n");
    return failures ? 1 : 0;
}
