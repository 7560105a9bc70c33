/* identity.c - process identity and resource queries for the trr e2e suite.
 *
 * Exercises: uname, sysinfo, getpid, getppid, gettid, getpgrp/getpgid,
 * getsid, getuid/geteuid/getgid/getegid, getresuid/getresgid, getgroups,
 * getrlimit/setrlimit/prlimit64, sched_getaffinity, sched_getcpu (vDSO/
 * rdtscp/rdpid), getrusage, getpriority, prctl(PR_SET_NAME/PR_GET_NAME),
 * sysconf, and cross-checks against /proc/self/status and /proc/self/stat.
 *
 * All values depend on the machine and the user running the test, so only
 * derived facts are printed.  Ends with EXIT-SUCCESS / exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"

/* Read "Key:\tv1\tv2..." from /proc/self/status; returns number of values. */
static int status_field(const char *key, long *vals, int max)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[512];
    size_t kl = strlen(key);
    int n = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            char *p = line + kl + 1, *end;
            n = 0;
            while (n < max) {
                long v = strtol(p, &end, 10);
                if (end == p)
                    break;
                vals[n++] = v;
                p = end;
            }
            break;
        }
    }
    fclose(f);
    return n;
}

int main(void)
{
    /* ---- uname ---- */
    struct utsname u;
    FACT(uname(&u) == 0, "uname succeeds");
    FACT(strcmp(u.sysname, "Linux") == 0, "uname sysname is Linux");
    FACT(strcmp(u.machine, "x86_64") == 0, "uname machine is x86_64");
    FACT(strlen(u.release) > 0 && strlen(u.nodename) > 0, "uname release and nodename non-empty");
    {
        int major = atoi(u.release);
        FACT(major >= 4, "kernel major version >= 4");
    }

    /* ---- sysinfo ---- */
    struct sysinfo si;
    FACT(sysinfo(&si) == 0, "sysinfo succeeds");
    FACT(si.totalram > 0 && si.mem_unit > 0 && si.freeram <= si.totalram, "sysinfo memory sane");
    FACT(si.uptime > 0 && si.procs > 0, "sysinfo uptime and procs > 0");

    /* ---- pids ---- */
    pid_t pid = getpid(), ppid = getppid();
    pid_t tid = (pid_t)syscall(SYS_gettid);
    FACT(pid > 0, "pid>0");
    FACT(ppid > 0 && ppid != pid, "ppid>0 and != pid");
    FACT(tid == pid, "gettid == getpid in main thread");
    FACT(gettid() == tid, "libc gettid() == syscall gettid");
    FACT(syscall(SYS_getpid) == pid, "raw getpid syscall == getpid()");
    {
        long v[1];
        FACT(status_field("Pid", v, 1) == 1 && v[0] == pid, "getpid matches /proc/self/status Pid");
        FACT(status_field("PPid", v, 1) == 1 && v[0] == ppid, "getppid matches /proc/self/status PPid");
        FACT(status_field("Tgid", v, 1) == 1 && v[0] == pid, "Tgid == pid");
    }
    FACT(getpgrp() == getpgid(0) && getpgrp() > 0, "getpgrp == getpgid(0) > 0");
    FACT(getsid(0) == getsid(pid) && getsid(0) >= 0, "getsid(0) == getsid(pid)");
    FACT(getpgid(pid) == getpgrp(), "getpgid(pid) == getpgrp");

    /* ---- credentials ---- */
    uid_t uid = getuid(), euid = geteuid(), ruid, e2, suid;
    gid_t gid = getgid(), egid = getegid(), rgid, eg2, sgid;
    FACT(getresuid(&ruid, &e2, &suid) == 0 && ruid == uid && e2 == euid, "getresuid consistent");
    FACT(getresgid(&rgid, &eg2, &sgid) == 0 && rgid == gid && eg2 == egid, "getresgid consistent");
    {
        long v[4];
        FACT(status_field("Uid", v, 4) == 4 && v[0] == (long)uid && v[1] == (long)euid &&
                 v[2] == (long)suid,
             "uid/euid/suid match /proc/self/status Uid");
        FACT(status_field("Gid", v, 4) == 4 && v[0] == (long)gid && v[1] == (long)egid &&
                 v[2] == (long)sgid,
             "gid/egid/sgid match /proc/self/status Gid");
    }
    FACT(syscall(SYS_getuid) == (long)uid && syscall(SYS_geteuid) == (long)euid &&
             syscall(SYS_getgid) == (long)gid && syscall(SYS_getegid) == (long)egid,
         "raw id syscalls match libc");
    {
        int ng = getgroups(0, NULL);
        FACT(ng >= 0, "getgroups(0) returns count");
        gid_t *gl = calloc((size_t)ng + 1, sizeof(gid_t));
        FACT(getgroups(ng, gl) == ng, "getgroups(n) returns same count");
        long sv[256];
        int sn = status_field("Groups", sv, 256);
        int match = sn == ng;
        for (int i = 0; match && i < ng; i++) {
            int found = 0;
            for (int j = 0; j < sn; j++)
                found |= sv[j] == (long)gl[i];
            match = found;
        }
        FACT(match, "getgroups matches /proc/self/status Groups");
        FACT(getgroups(ng + 1, gl) == ng, "getgroups with larger buffer returns count");
        free(gl);
    }

    /* ---- rlimits ---- */
    {
        struct rlimit rl, rl2, old;
        FACT(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 0 &&
                 (rl.rlim_max == RLIM_INFINITY || rl.rlim_cur <= rl.rlim_max),
             "getrlimit NOFILE soft <= hard");
        FACT(prlimit(0, RLIMIT_NOFILE, NULL, &rl2) == 0 && rl2.rlim_cur == rl.rlim_cur &&
                 rl2.rlim_max == rl.rlim_max,
             "prlimit get == getrlimit");
        FACT(getrlimit(RLIMIT_STACK, &rl2) == 0 && (rl2.rlim_cur == RLIM_INFINITY || rl2.rlim_cur >= 65536),
             "getrlimit STACK sane");
        /* lowering a soft limit is always permitted */
        struct rlimit core;
        FACT(getrlimit(RLIMIT_CORE, &core) == 0, "getrlimit CORE");
        struct rlimit zero = {0, core.rlim_max};
        FACT(prlimit(getpid(), RLIMIT_CORE, &zero, &old) == 0 && old.rlim_cur == core.rlim_cur,
             "prlimit set CORE soft=0 returns old value");
        FACT(getrlimit(RLIMIT_CORE, &rl2) == 0 && rl2.rlim_cur == 0, "CORE soft limit now 0");
        FACT(setrlimit(RLIMIT_CORE, &core) == 0 && getrlimit(RLIMIT_CORE, &rl2) == 0 &&
                 rl2.rlim_cur == core.rlim_cur,
             "setrlimit restores CORE");
        struct rlimit bad = {2, 1};
        FACT(setrlimit(RLIMIT_CORE, &bad) == -1 && errno == EINVAL, "setrlimit soft > hard -> EINVAL");
    }

    /* ---- CPU affinity ---- */
    {
        cpu_set_t set;
        CPU_ZERO(&set);
        FACT(sched_getaffinity(0, sizeof set, &set) == 0, "sched_getaffinity succeeds");
        int n = CPU_COUNT(&set);
        long conf = sysconf(_SC_NPROCESSORS_CONF);
        FACT(n > 0, "affinity CPU count > 0");
        FACT(conf > 0 && n <= conf, "affinity CPU count <= configured CPUs");
        long raw = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
        FACT(raw > 0 && raw <= (long)sizeof set && raw % 8 == 0, "raw sched_getaffinity returns mask size");
        int cpu = sched_getcpu();
        FACT(cpu >= 0 && cpu < conf, "sched_getcpu in range");
        unsigned gc = 99, gn = 99;
        FACT(syscall(SYS_getcpu, &gc, &gn, NULL) == 0 && (long)gc < conf, "getcpu syscall in range");
        FACT(sched_getscheduler(0) == SCHED_OTHER, "scheduler policy is SCHED_OTHER");
        FACT(sched_yield() == 0, "sched_yield");
    }

    /* ---- getrusage ---- */
    {
        struct rusage ru;
        volatile unsigned long spin = 0;
        for (int i = 0; i < 1000000; i++)
            spin += (unsigned long)i;
        FACT(getrusage(RUSAGE_SELF, &ru) == 0, "getrusage SELF");
        FACT(ru.ru_maxrss > 0, "ru_maxrss > 0");
        FACT(ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec >= 0 &&
                 ru.ru_stime.tv_usec < 1000000,
             "rusage times well-formed");
        FACT(getrusage(RUSAGE_CHILDREN, &ru) == 0 && ru.ru_utime.tv_sec == 0, "getrusage CHILDREN (none yet)");
        FACT(getrusage(RUSAGE_THREAD, &ru) == 0, "getrusage THREAD");
        FACT(getrusage(12345, &ru) == -1 && errno == EINVAL, "getrusage bad who -> EINVAL");
    }

    /* ---- priority, prctl, sysconf ---- */
    {
        errno = 0;
        int prio = getpriority(PRIO_PROCESS, 0);
        FACT(errno == 0 && prio >= -20 && prio <= 19, "getpriority in [-20,19]");
        char name[17] = {0};
        FACT(prctl(PR_SET_NAME, "trr-identity", 0, 0, 0) == 0, "prctl PR_SET_NAME");
        FACT(prctl(PR_GET_NAME, name, 0, 0, 0) == 0 && strcmp(name, "trr-identity") == 0,
             "prctl PR_GET_NAME returns new name");
        FILE *f = fopen("/proc/self/comm", "r");
        char comm[32] = {0};
        FACT(f && fgets(comm, sizeof comm, f) && strcmp(comm, "trr-identity\n") == 0,
             "/proc/self/comm reflects PR_SET_NAME");
        if (f)
            fclose(f);
        FACT(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) >= 0, "prctl PR_GET_DUMPABLE");
        FACT(sysconf(_SC_PAGESIZE) == 4096 && getpagesize() == 4096, "page size 4096");
        FACT(sysconf(_SC_CLK_TCK) == 100, "CLK_TCK == 100");
        FACT(sysconf(_SC_OPEN_MAX) > 0, "OPEN_MAX > 0");
    }

    /* ---- /proc/self/stat agrees ---- */
    {
        FILE *f = fopen("/proc/self/stat", "r");
        int spid = 0, sppid = 0;
        char comm[64] = {0}, state = 0;
        FACT(f && fscanf(f, "%d (%63[^)]) %c %d", &spid, comm, &state, &sppid) == 4, "parse /proc/self/stat");
        if (f)
            fclose(f);
        FACT(spid == pid && sppid == ppid && strcmp(comm, "trr-identity") == 0 && state == 'R',
             "/proc/self/stat pid/ppid/comm/state consistent");
    }

    if (failures) {
        printf("FAILURES: %d\n", failures);
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
