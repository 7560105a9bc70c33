/*
 * admin: system administration syscalls, each used in a way that changes
 * nothing outside the program (or only inside namespaces of its own child),
 * and tolerant of EPERM for an unprivileged user: reading the clock's
 * adjustment (adjtimex, clock_adjtime), scheduling attributes and I/O
 * priority, the kernel log, file system types (sysfs), quotas, keys,
 * inotify/fanotify, process_vm_readv/writev on itself, pidfd_getfd,
 * perf_event_open, and in a child with its own mount and UTS namespaces:
 * mount/umount2, the new mount API, sethostname, exec from a new mount;
 * extended attributes set and removed (setxattr family), the process's own
 * LDT (modify_ldt), process accounting switched off (acct(NULL)).
 */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdint.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/xattr.h>
#include <sys/personality.h>
#include <sys/quota.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* struct sched_attr as of Linux 5.3 (linux/sched/types.h clashes with glibc's sched.h). */
struct sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};
#define SCHED_ATTR_SIZE_VER0 48

#define PERMITTED(r) ((r) >= 0 || errno == EPERM || errno == EACCES)

static void clocks(void) {
    struct timex tx;
    memset(&tx, 0x5a, sizeof tx);
    tx.modes = 0;
    int r = adjtimex(&tx);
    CHECK(r >= 0 && r <= TIME_ERROR && tx.tick > 0, "adjtimex reads the clock state");
    memset(&tx, 0x5a, sizeof tx);
    tx.modes = 0;
    r = syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
    CHECK(r >= 0 && tx.tick > 0, "clock_adjtime reads the clock state");
    struct timespec ts = {1, 0};
    CHECK(clock_settime(CLOCK_MONOTONIC, &ts) == -1 && errno == EINVAL, "clock_settime refuses CLOCK_MONOTONIC");
    int st = syscall(SYS_settimeofday, NULL, NULL);
    CHECK(PERMITTED(st), "settimeofday with nothing to set");
    struct timespec q;
    memset(&q, 0x5a, sizeof q);
    CHECK(sched_rr_get_interval(0, &q) == 0 && q.tv_sec >= 0 && q.tv_nsec >= 0 && q.tv_nsec < 1000000000, "sched_rr_get_interval");
}

static void scheduling(void) {
    struct sched_attr attr;
    memset(&attr, 0x5a, sizeof attr);
    CHECK(syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) == 0 && attr.size == sizeof attr && attr.sched_policy == SCHED_OTHER, "sched_getattr, full size");
    unsigned char small[SCHED_ATTR_SIZE_VER0 + 8];
    memset(small, 0x5a, sizeof small);
    CHECK(syscall(SYS_sched_getattr, 0, small, SCHED_ATTR_SIZE_VER0, 0) == 0 && ((struct sched_attr *)small)->size == SCHED_ATTR_SIZE_VER0, "sched_getattr, version 0 size");
    CHECK(small[SCHED_ATTR_SIZE_VER0] == 0x5a, "it writes only the size asked for");
    attr.size = sizeof attr;
    attr.sched_nice = 1;
    attr.sched_flags = 0;
    CHECK(syscall(SYS_sched_setattr, 0, &attr, 0) == 0, "sched_setattr nice 1");
    CHECK(getpriority(PRIO_PROCESS, 0) == 1, "the nice value took");
    struct sched_param sp = {0};
    CHECK(sched_setparam(0, &sp) == 0, "sched_setparam");
    int r = syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (2 << 13) | 4 /* best effort, level 4 */);
    CHECK(r == 0, "ioprio_set");
    CHECK(syscall(SYS_ioprio_get, 1, 0) == ((2 << 13) | 4), "ioprio_get returns it");
    int pers = personality(0xffffffff);
    CHECK(pers >= 0 && personality(pers) == pers, "personality query");
}

static void kernel_info(void) {
    int size = syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0);
    CHECK(PERMITTED(size), "syslog SIZE_BUFFER");
    if (size > 0) {
        char *buf = malloc(size + 16);
        memset(buf, 0x5a, size + 16);
        int n = syscall(SYS_syslog, 3 /* READ_ALL */, buf, size);
        CHECK(PERMITTED(n) && n <= size, "syslog READ_ALL");
        if (n >= 0) CHECK(buf[size] == 0x5a, "it writes no more than asked");
        free(buf);
    }
    int count = syscall(SYS_sysfs, 3);
    CHECK(count > 0, "sysfs counts file system types");
    char name[256];
    memset(name, 0x5a, sizeof name);
    CHECK(syscall(SYS_sysfs, 2, 0, name) == 0 && strlen(name) > 0 && strlen(name) < 64, "sysfs names type 0");
    CHECK(syscall(SYS_sysfs, 1, name) == 0, "sysfs finds its index again");
    struct stat st;
    char ubuf[64];
    MUST(stat("/", &st) == 0, "stat /");
    int r = syscall(SYS_ustat, (unsigned)st.st_dev, ubuf);
    CHECK(r == 0 || errno == EINVAL || errno == ENOSYS, "ustat");
    uint32_t fmt = 0x5a5a5a5a;
    r = quotactl(QCMD(Q_GETFMT, USRQUOTA), "/", 0, (caddr_t)&fmt);
    CHECK(r == 0 || errno == ENOTBLK || errno == ESRCH || errno == ENOSYS || errno == EPERM || errno == ENODEV || errno == EINVAL, "quotactl Q_GETFMT");
    CHECK(quotactl(0x12345678, "/", 0, NULL) == -1 && errno == EINVAL, "quotactl of a bad type: EINVAL");
}

static void keys(void) {
    long key = syscall(SYS_add_key, "user", "trr:admin", "payload", 7, KEY_SPEC_PROCESS_KEYRING);
    if (key < 0) {
        CHECK(errno == ENOSYS || errno == EPERM || errno == EACCES || errno == EDQUOT, "no keys here");
        return;
    }
    char buf[256];
    memset(buf, 0x5a, sizeof buf);
    long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, buf, sizeof buf);
    CHECK(n > 0 && strncmp(buf, "user;", 5) == 0 && strstr(buf, ";trr:admin") != NULL, "KEYCTL_DESCRIBE");
    memset(buf, 0x5a, sizeof buf);
    n = syscall(SYS_keyctl, KEYCTL_READ, key, buf, sizeof buf);
    CHECK(n == 7 && memcmp(buf, "payload", 7) == 0 && buf[7] == 0x5a, "KEYCTL_READ");
    n = syscall(SYS_keyctl, KEYCTL_READ, key, buf, 3);
    CHECK(n == 7, "KEYCTL_READ with a short buffer returns the full size");
    n = syscall(SYS_keyctl, KEYCTL_GET_SECURITY, key, buf, sizeof buf);
    CHECK(n >= 0 || errno == EOPNOTSUPP, "KEYCTL_GET_SECURITY");
    CHECK(syscall(SYS_keyctl, KEYCTL_SETPERM, key, 0x3f3f0000) == 0, "KEYCTL_SETPERM");
    CHECK(syscall(SYS_request_key, "user", "trr:admin", NULL, 0) == key, "request_key finds it");
    CHECK(syscall(SYS_keyctl, KEYCTL_INVALIDATE, key) == 0, "KEYCTL_INVALIDATE");
}

static void notifications(void) {
    int in = syscall(SYS_inotify_init);
    CHECK(in >= 0, "inotify_init");
    char path[] = "admin.XXXXXX";
    int fd = mkstemp(path);
    MUST(fd >= 0, "mkstemp");
    CHECK(inotify_add_watch(in, path, IN_MODIFY) >= 0, "inotify_add_watch");
    CHECK(write(fd, "x", 1) == 1, "write");
    char ev[256];
    CHECK(read(in, ev, sizeof ev) >= (ssize_t)sizeof(struct inotify_event) && (((struct inotify_event *)ev)->mask & IN_MODIFY), "inotify reports IN_MODIFY");
    close(in);

    int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY);
    if (fan < 0) {
        CHECK(errno == EPERM || errno == ENOSYS, "fanotify not permitted");
    } else {
        CHECK(fanotify_mark(fan, FAN_MARK_ADD, FAN_CLOSE_WRITE, AT_FDCWD, path) == 0, "fanotify_mark");
        int w = open(path, O_WRONLY);
        close(w);
        char buf[4096] __attribute__((aligned(8)));
        ssize_t n = read(fan, buf, sizeof buf);
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
        CHECK(n >= (ssize_t)sizeof *m && (m->mask & FAN_CLOSE_WRITE) && m->pid == getpid(), "fanotify reports our close");
        if (n >= (ssize_t)sizeof *m && m->fd >= 0) close(m->fd);
        close(fan);
    }
    close(fd);
    unlink(path);
}

static void process_memory(void) {
    char src[16] = "hello, world", a[8], b[8];
    memset(a, 0x5a, sizeof a);
    memset(b, 0x5a, sizeof b);
    struct iovec local[2] = {{a, 5}, {b, 8}}, remote[1] = {{src, 12}};
    CHECK(process_vm_readv(getpid(), local, 2, remote, 1, 0) == 12, "process_vm_readv of itself");
    CHECK(memcmp(a, "hello", 5) == 0 && memcmp(b, ", world", 7) == 0 && a[5] == 0x5a, "the bytes land in both iovecs");
    char dst[16];
    memset(dst, 0x5a, sizeof dst);
    struct iovec from[1] = {{"written", 7}}, to[2] = {{dst, 3}, {dst + 8, 4}};
    CHECK(process_vm_writev(getpid(), from, 1, to, 2, 0) == 7, "process_vm_writev into itself");
    CHECK(memcmp(dst, "wri", 3) == 0 && memcmp(dst + 8, "tten", 4) == 0 && dst[3] == 0x5a, "the bytes land where asked");

    struct perf_event_attr pa;
    memset(&pa, 0, sizeof pa);
    pa.size = sizeof pa;
    pa.type = PERF_TYPE_SOFTWARE;
    pa.config = PERF_COUNT_SW_TASK_CLOCK;
    pa.disabled = 1;
    int pfd = syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0);
    if (pfd >= 0) {
        uint64_t v = 0;
        CHECK(read(pfd, &v, sizeof v) == sizeof v, "read a perf counter");
        close(pfd);
    } else {
        CHECK(errno == ENOENT || errno == EACCES || errno == EPERM || errno == ENOSYS || errno == EINVAL, "perf_event_open unavailable");
    }
}

static void fd_of_child(void) {
    int p[2];
    MUST(pipe(p) == 0, "pipe");
    int ready[2];
    MUST(pipe(ready) == 0, "pipe");
    fflush(stdout);
    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) {
        close(p[0]);
        char c;
        (void)!read(ready[0], &c, 1); /* until the parent took our fd */
        _exit(0);
    }
    int pidfd = syscall(SYS_pidfd_open, child, 0);
    CHECK(pidfd >= 0, "pidfd_open");
    int fd = syscall(SYS_pidfd_getfd, pidfd, p[1], 0);
    CHECK(fd >= 0 || errno == EPERM, "pidfd_getfd");
    if (fd >= 0) {
        CHECK(write(fd, "z", 1) == 1, "write through the child's fd");
        close(fd);
        char c = 0;
        CHECK(read(p[0], &c, 1) == 1 && c == 'z', "it arrives at our end");
    }
    CHECK(write(ready[1], "g", 1) == 1, "let the child go");
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status), "child exited");
    close(pidfd);
    close(p[0]);
    close(p[1]);
    close(ready[0]);
    close(ready[1]);
}

/* In a child: private mount and UTS namespaces. Exit status 0: all fine, 2: not permitted. */
static int namespaces_child(const char *self) {
    if (unshare(CLONE_NEWNS | CLONE_NEWUTS) != 0) return errno == EPERM ? 2 : 1;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return 3;
    if (sethostname("trr-admin", 9) != 0) return 4;
    struct utsname u;
    if (uname(&u) != 0 || strcmp(u.nodename, "trr-admin") != 0) return 5;
    char dir[] = "admin-mnt.XXXXXX";
    if (!mkdtemp(dir)) return 6;
    int status = 0;
    if (mount("none", dir, "tmpfs", 0, "size=16m") != 0) status = 7;
    /* The new mount API: a second tmpfs on a subdirectory. */
    char sub[64];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    if (!status && mkdir(sub, 0700) != 0) status = 8;
    int fsfd = syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (!status && fsfd >= 0) {
        int mfd = -1;
        if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) status = 9;
        else if ((mfd = syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, 0)) < 0) status = 10;
        else if (syscall(SYS_move_mount, mfd, "", AT_FDCWD, sub, MOVE_MOUNT_F_EMPTY_PATH) != 0) status = 11;
        if (mfd >= 0) close(mfd);
        close(fsfd);
        int tfd = syscall(SYS_open_tree, AT_FDCWD, sub, OPEN_TREE_CLOEXEC);
        if (!status && tfd < 0) status = 12;
        if (tfd >= 0) close(tfd);
        if (!status && umount2(sub, 0) != 0) status = 13;
    }
    /* A copy of this program on the new mount, executed from there. */
    char copy[80];
    snprintf(copy, sizeof copy, "%s/copy", dir);
    if (!status) {
        int in = open(self, O_RDONLY), out = open(copy, O_WRONLY | O_CREAT, 0700);
        char buf[65536];
        ssize_t n;
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, n) != n) status = 14;
        close(in);
        close(out);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            execl(copy, copy, "in-mount", (char *)NULL);
            _exit(15);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) status = 16;
    }
    if (umount2(dir, MNT_DETACH) != 0 && !status) status = 17;
    rmdir(dir);
    return status;
}

static void namespaces(const char *self) {
    fflush(stdout);
    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) _exit(namespaces_child(self));
    int status;
    MUST(waitpid(child, &status, 0) == child && WIFEXITED(status), "namespace child exited");
    int code = WEXITSTATUS(status);
    CHECK(code == 0 || code == 2, "mount, new mount API, sethostname, exec from a new mount in private namespaces");
    if (code != 0 && code != 2) printf("namespace child failed at step %d\n", code);
    struct utsname u;
    CHECK(uname(&u) == 0 && strcmp(u.nodename, "trr-admin") != 0, "the host name outside is unchanged");
}

/* Extended attributes, the LDT and accounting: none may be answered ENOSYS. */
static void attributes_and_ldt(void) {
    char path[] = "/tmp/trr-admin-xattr-XXXXXX";
    int fd = mkstemp(path);
    MUST(fd >= 0, "mkstemp");
    int set = fsetxattr(fd, "user.trr", "v", 1, 0);
    CHECK(set == 0 || errno == ENOTSUP || errno == EPERM, "fsetxattr");
    if (set == 0) {
        char v[4] = {0};
        CHECK(fgetxattr(fd, "user.trr", v, sizeof v) == 1 && v[0] == 'v', "fgetxattr reads it back");
        CHECK(fremovexattr(fd, "user.trr") == 0, "fremovexattr");
        CHECK(fgetxattr(fd, "user.trr", v, sizeof v) == -1 && errno == ENODATA, "and it is gone");
        CHECK(lsetxattr(path, "user.trr2", "w", 1, 0) == 0 && lremovexattr(path, "user.trr2") == 0, "lsetxattr, lremovexattr");
    }
    close(fd);
    unlink(path);
    unsigned char ldt[64];
    memset(ldt, 0xff, sizeof ldt);
    long n = syscall(SYS_modify_ldt, 0, ldt, sizeof ldt);
    CHECK(n >= 0, "modify_ldt reads the LDT");
    printf("LDT bytes read: %ld\n", n);
    CHECK(acct(NULL) == 0 || errno == EPERM, "acct(NULL)");
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    attributes_and_ldt();
    if (argc > 1 && strcmp(argv[1], "in-mount") == 0) return 0;
    clocks();
    scheduling();
    kernel_info();
    keys();
    notifications();
    process_memory();
    fd_of_child();
    namespaces("/proc/self/exe");
    if (failures) return 1;
    puts("EXIT-SUCCESS");
    return 0;
}
