/* cpuid_features.c - the cpuid instruction and the program's own CPUID
 * faulting (arch_prctl ARCH_GET_CPUID / ARCH_SET_CPUID), for the trr e2e
 * suite.
 *
 * Where the CPU supports CPUID faulting, trr makes every cpuid fault and
 * answers it itself; the program must not notice: cpuid answers the same
 * leaf the same way, in threads and forked children too; ARCH_GET_CPUID
 * answers the mode the program set; in its own faulting mode a cpuid raises
 * SIGSEGV (SI_KERNEL) as natively, a forked child inherits the mode and an
 * execve ends it. Where the CPU lacks it, ARCH_SET_CPUID(0) fails with
 * ENODEV, natively and under trr alike. Ends with EXIT-SUCCESS / exit 0.
 *
 * With the argument "rdrand" it instead takes 16 random bytes from the CPU
 * (RDRAND) when cpuid announces the instruction, else from getrandom, writes
 * them to /dev/null and says which it used: trr hides RDRAND where it can
 * trap cpuid, and replay must stop with an error where it could not.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "segv_probe.h"


struct leaf {
    unsigned a, b, c, d;
};

static struct leaf query(unsigned leaf, unsigned sub) {
    struct leaf l;
    __cpuid_count(leaf, sub, l.a, l.b, l.c, l.d);
    return l;
}

static void run_cpuid(void) {
    volatile struct leaf l = query(0, 0);
    (void)l;
}

/* 1 when cpuid raised SIGSEGV, 0 when it ran. */
static int cpuid_faults(void) { return faults(run_cpuid); }

static long get_mode(void) { return syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0); }
static long set_mode(int on) { return syscall(SYS_arch_prctl, ARCH_SET_CPUID, on); }

static int same(struct leaf x, struct leaf y) { return x.a == y.a && x.b == y.b && x.c == y.c && x.d == y.d; }

static struct leaf vendor;

static void *in_thread(void *arg) {
    (void)arg;
    return (void *)(intptr_t)same(query(0, 0), vendor);
}

static int random_bytes(void) {
    unsigned char buf[16];
    const char *how;
    if (query(1, 0).c & bit_RDRND) {
        for (int i = 0; i < 16; i += 8) {
            unsigned long long v;
            unsigned char ok;
            __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
            MUST(ok, "rdrand");
            memcpy(buf + i, &v, 8);
        }
        how = "rdrand";
    } else {
        MUST(getrandom(buf, sizeof buf, 0) == sizeof buf, "getrandom");
        how = "getrandom";
    }
    int fd = open("/dev/null", O_WRONLY);
    MUST(fd >= 0 && write(fd, buf, sizeof buf) == sizeof buf, "write the bytes to /dev/null");
    close(fd);
    printf("random bytes from: %s\n", how);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "rdrand") == 0) return random_bytes();
    if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
        CHECK(get_mode() == 1, "after execve: cpuid runs again (ARCH_GET_CPUID 1)");
        CHECK(same(query(0, 0), query(0, 0)), "after execve: cpuid answers");
        return failures ? 1 : 0;
    }
    MUST(install_segv_probe() == 0, "sigaction");

    vendor = query(0, 0);
    CHECK(vendor.a >= 1, "leaf 0 announces leaf 1");
    CHECK(same(query(0, 0), vendor), "the same leaf, the same answer");
    struct leaf one = query(1, 0);
    CHECK(same(query(7, 0), query(7, 0)), "leaf 7 twice, the same answer");
    CHECK(((one.a >> 8) & 0xf) != 0, "leaf 1 has a CPU family");
    pthread_t th;
    void *ok = NULL;
    MUST(pthread_create(&th, NULL, in_thread, NULL) == 0 && pthread_join(th, &ok) == 0, "thread");
    CHECK(ok != NULL, "a thread gets the same answer");

    CHECK(get_mode() == 1, "ARCH_GET_CPUID: cpuid enabled at start");
    CHECK(!cpuid_faults(), "cpuid runs");
    if (set_mode(0) != 0) {
        CHECK(errno == ENODEV, "no CPUID faulting on this CPU: ARCH_SET_CPUID fails with ENODEV");
        CHECK(get_mode() == 1, "the mode stays enabled");
    } else {
        printf("own CPUID faulting: available\n");
        CHECK(get_mode() == 0, "ARCH_GET_CPUID reads back 0");
        CHECK(cpuid_faults(), "cpuid faults in the program's own mode");
        CHECK(segv_code == SI_KERNEL, "the fault is SI_KERNEL");
        fflush(stdout);
        pid_t c = fork();
        MUST(c >= 0, "fork");
        if (c == 0) _exit(get_mode() == 0 && cpuid_faults() ? 0 : 1);
        int st;
        MUST(waitpid(c, &st, 0) == c, "waitpid");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a forked child inherits the mode");
        c = fork();
        MUST(c >= 0, "fork");
        if (c == 0) {
            execl("/proc/self/exe", argv[0], "after-exec", (char *)NULL);
            _exit(127);
        }
        MUST(waitpid(c, &st, 0) == c, "waitpid");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "execve ends the mode");
        CHECK(set_mode(1) == 0 && get_mode() == 1, "ARCH_SET_CPUID(1) enables cpuid again");
        CHECK(!cpuid_faults(), "cpuid runs again");
    }
    CHECK(set_mode(2) == 0 ? get_mode() == 1 : errno == ENODEV, "ARCH_SET_CPUID(2) counts as enable");
    if (failures == 0) printf("EXIT-SUCCESS\n");
    return failures ? 1 : 0;
}
