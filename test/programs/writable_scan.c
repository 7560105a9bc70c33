/* writable_scan.c - a program that reads all of its loaded objects' writable data.
 *
 * Memory scanners (leak detectors, conservative garbage collectors) read
 * every writable segment of every loaded object, trr's preloaded library's
 * included. Whatever trr's code keeps there must be the same in replay as
 * in the recording, or the scan sees other bytes. The program makes some
 * calls the syscall buffer runs (getpid, writes and reads of a file, stdio
 * output), then hashes the writable PT_LOAD segments and prints the hash on
 * stderr (natively it differs: no library is preloaded there), twice.
 *
 * Exercises: dl_iterate_phdr, reading other objects' data, buffered calls.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <unistd.h>
#include "check.h"

static int add_segments(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    uint64_t *h = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ph->p_memsz == 0) continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        for (size_t j = 0; j < ph->p_memsz; j++) *h = (*h ^ p[j]) * 0x100000001b3ULL;
    }
    return 0;
}

static uint64_t scan(void) {
    uint64_t h = 0xcbf29ce484222325ULL;
    dl_iterate_phdr(add_segments, &h);
    return h;
}

int main(void) {
    char name[] = "writable-scan-XXXXXX";
    int fd = mkstemp(name);
    MUST(fd >= 0, "mkstemp");
    unlink(name);
    for (int i = 0; i < 50; i++) {
        char b[16];
        MUST(getpid() > 0, "getpid");
        MUST(write(fd, "data", 4) == 4, "write");
        MUST(pread(fd, b, 4, 0) == 4, "pread");
    }
    printf("calls made\n");
    fflush(stdout);
    uint64_t first = scan();
    fprintf(stderr, "writable data hash: %016llx\n", (unsigned long long)first);
    printf("more output\n");
    fflush(stdout);
    fprintf(stderr, "writable data hash: %016llx\n", (unsigned long long)scan());
    close(fd);
    CHECK(first != 0, "the writable segments were read");
    if (failures == 0) printf("EXIT-SUCCESS\n");
    return failures != 0;
}
