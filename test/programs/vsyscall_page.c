/* vsyscall_page.c - calls through the legacy vsyscall page.
 *
 * Old binaries call gettimeofday, time and getcpu at fixed addresses
 * (0xffffffffff600000, +0x400, +0x800); the kernel emulates those calls.
 * When the page exists (it is listed as [vsyscall] in /proc/self/maps),
 * each one is called and its results compared with the real syscalls'.
 *
 * Exercises: the kernel's vsyscall emulation (a seccomp stop with no
 * syscall exit), gettimeofday, time, getcpu.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static long vcall(uintptr_t addr, void *a, void *b)
{
    long ret;
    __asm__ volatile("call *%1" : "=a"(ret) : "r"(addr), "D"(a), "S"(b) : "rcx", "rdx", "r8", "r9", "r10", "r11", "cc", "memory");
    return ret;
}

static int has_vsyscall(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "[vsyscall]")) found = 1;
    fclose(f);
    return found;
}

int main(void)
{
    if (!has_vsyscall()) {
        printf("no vsyscall page: nothing to check\nEXIT-SUCCESS\n");
        return 0;
    }
    struct timeval before, tv = {0, 0}, after;
    struct timezone tz = {-1, -1};
    gettimeofday(&before, NULL);
    CHECK(vcall(0xffffffffff600000, &tv, &tz) == 0, "gettimeofday through the vsyscall page");
    gettimeofday(&after, NULL);
    long long b = before.tv_sec * 1000000LL + before.tv_usec, v = tv.tv_sec * 1000000LL + tv.tv_usec, a = after.tv_sec * 1000000LL + after.tv_usec;
    CHECK(b <= v && v <= a, "its time lies between two real gettimeofday calls");
    CHECK(tz.tz_minuteswest != -1 && tz.tz_dsttime != -1, "it wrote the time zone");
    CHECK(vcall(0xffffffffff600000, &tv, NULL) == 0, "gettimeofday without a time zone");

    time_t t = 0, t0 = time(NULL);
    long r = vcall(0xffffffffff600400, &t, NULL);
    CHECK(r == t && r >= t0 && r <= time(NULL), "time through the vsyscall page");
    CHECK(vcall(0xffffffffff600400, NULL, NULL) >= t0, "time without a pointer");

    unsigned cpu = ~0u, node = ~0u;
    CHECK(vcall(0xffffffffff600800, &cpu, &node) == 0, "getcpu through the vsyscall page");
    CHECK(cpu < (unsigned)sysconf(_SC_NPROCESSORS_CONF) && node < 1024, "it gave a cpu and a node");

    if (failures == 0) printf("EXIT-SUCCESS\n");
    return failures ? 1 : 0;
}
