/*
 * kernel_outputs: syscalls whose writes to user memory depend on their
 * arguments. capget writes its version back into a header with an unknown
 * one and 12 or 24 bytes of data by version; getsockname/getpeername/accept
 * write the length even with a NULL address; fcntl's read/write hints are a
 * u64; clone and clone3 with CLONE_PIDFD write the pidfd into the parent;
 * waitid takes a pidfd; ioctls whose numbers carry no size (SIOCGIFCONF,
 * SIOCGIF*, terminal and FIO* requests) or a wrong one (TUNSETIFF,
 * FS_IOC_GETFLAGS); setsockopt(IPT_SO_SET_REPLACE), which writes the old
 * counters back through a pointer in its argument (the filter table is
 * replaced by itself). Buffers are filled with a pattern first, so that the
 * checks see what the kernel wrote and that it wrote no further.
 */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/sched.h>

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termio.h>
#include <termios.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int all_bytes(const void *p, size_t n, unsigned char v) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != v) return 0;
    return 1;
}

static void capabilities(void) {
    struct __user_cap_header_struct hdr = {0, 0};
    CHECK(syscall(SYS_capget, &hdr, NULL) == 0, "capget with version 0 and no data succeeds");
    CHECK(hdr.version == _LINUX_CAPABILITY_VERSION_3, "capget writes the kernel's version back");

    struct __user_cap_data_struct data[3];
    memset(data, 0xab, sizeof data);
    hdr.version = 0x12345678;
    CHECK(syscall(SYS_capget, &hdr, data) == -1 && errno == EINVAL, "capget with a bad version fails with EINVAL");
    CHECK(hdr.version == _LINUX_CAPABILITY_VERSION_3 && all_bytes(data, sizeof data, 0xab), "and writes only the version");

    hdr.version = _LINUX_CAPABILITY_VERSION_1;
    hdr.pid = 0;
    CHECK(syscall(SYS_capget, &hdr, data) == 0, "capget version 1");
    CHECK(!all_bytes(&data[0], sizeof data[0], 0xab) && all_bytes(&data[1], 2 * sizeof data[0], 0xab), "version 1 writes one struct");
    FACT(data[0].effective == data[0].permitted || geteuid() != 0, "root's effective set is its permitted set");

    memset(data, 0xab, sizeof data);
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    CHECK(syscall(SYS_capget, &hdr, data) == 0, "capget version 3");
    CHECK(!all_bytes(&data[1], sizeof data[1], 0xab) && all_bytes(&data[2], sizeof data[2], 0xab), "version 3 writes two structs");
    uint32_t eff0 = data[0].effective;

    /* capset to the same sets: allowed for anyone. */
    CHECK(syscall(SYS_capset, &hdr, data) == 0, "capset to the current sets");
    memset(data, 0, sizeof data);
    CHECK(syscall(SYS_capget, &hdr, data) == 0 && data[0].effective == eff0, "capget after capset");
}

static void socket_names(void) {
    int sv[2];
    MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    socklen_t len = 0;
    CHECK(getsockname(sv[0], NULL, &len) == 0, "getsockname with a NULL address");
    CHECK(len == sizeof(sa_family_t), "it reports the address length");
    len = 0;
    CHECK(getpeername(sv[0], NULL, &len) == 0 && len == sizeof(sa_family_t), "getpeername with a NULL address reports the length");
    close(sv[0]);
    close(sv[1]);

    char dir[] = "kernel_outputs.XXXXXX";
    MUST(mkdtemp(dir), "mkdtemp");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/s", dir);
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    MUST(srv >= 0 && bind(srv, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(srv, 4) == 0, "listen");
    for (int i = 0; i < 2; i++) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        MUST(c >= 0 && connect(c, (struct sockaddr *)&addr, sizeof addr) == 0, "connect");
        struct sockaddr_un peer;
        memset(&peer, 0x5a, sizeof peer);
        socklen_t plen = 0x5a5a;
        int a = i == 0 ? accept(srv, NULL, NULL) : accept(srv, (struct sockaddr *)&peer, &plen);
        CHECK(a >= 0, i == 0 ? "accept with a NULL address" : "accept with an address");
        if (i == 1) CHECK(plen == sizeof(sa_family_t) && peer.sun_family == AF_UNIX, "accept reports the unnamed peer");
        len = sizeof addr;
        struct sockaddr_un me;
        memset(&me, 0, sizeof me);
        CHECK(getsockname(a, (struct sockaddr *)&me, &len) == 0 && strcmp(me.sun_path, addr.sun_path) == 0, "the accepted socket has the listener's name");
        close(a);
        close(c);
    }
    close(srv);
    unlink(addr.sun_path);
    rmdir(dir);
}

static void fcntls(void) {
    char path[] = "kernel_outputs.XXXXXX";
    int fd = mkstemp(path);
    MUST(fd >= 0, "mkstemp");
    uint64_t hint = 2; /* RWH_WRITE_LIFE_SHORT */
    int r;
    if (fcntl(fd, 1036 /* F_SET_RW_HINT */, &hint) == 0) {
        hint = 0x5a5a5a5a5a5a5a5aULL;
        CHECK(fcntl(fd, 1035 /* F_GET_RW_HINT */, &hint) == 0 && hint == 2, "F_GET_RW_HINT reads the hint back");
    } else {
        CHECK(errno == EINVAL, "F_SET_RW_HINT is not supported here");
    }
    hint = 0x5a5a5a5a5a5a5a5aULL;
    r = fcntl(fd, 1037 /* F_GET_FILE_RW_HINT */, &hint);
    CHECK((r == 0 && hint < 6) || (r == -1 && errno == EINVAL), "F_GET_FILE_RW_HINT");
    struct f_owner_ex owner;
    memset(&owner, 0x5a, sizeof owner);
    CHECK(fcntl(fd, F_GETOWN_EX, &owner) == 0 && owner.pid == 0, "F_GETOWN_EX: no owner");

    /* ioctls on a regular file */
    loff_t size = -1;
    MUST(write(fd, "hello", 5) == 5, "write");
    r = ioctl(fd, FIOQSIZE, &size);
    CHECK((r == 0 && size >= 0) || (r == -1 && (errno == EINVAL || errno == ENOTTY)), "FIOQSIZE");
    int flags = 0x5a5a5a5a;
    r = ioctl(fd, FS_IOC_GETFLAGS, &flags);
    CHECK((r == 0 && flags != 0x5a5a5a5a) || (r == -1 && (errno == ENOTTY || errno == EOPNOTSUPP)), "FS_IOC_GETFLAGS");
    int on = 1;
    CHECK(ioctl(fd, FIONBIO, &on) == 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK), "FIONBIO sets O_NONBLOCK");
    CHECK(ioctl(fd, FIOCLEX) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "FIOCLEX");
    close(fd);
    unlink(path);
}

static void pidfds(void) {
    int pidfd = -1;
    fflush(stdout);
    long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, 0);
    if (pid == 0) _exit(7);
    MUST(pid > 0, "clone with CLONE_PIDFD");
    CHECK(pidfd >= 0 && fcntl(pidfd, F_GETFD) == FD_CLOEXEC, "clone writes a close-on-exec pidfd");
    struct pollfd p = {pidfd, POLLIN, 0};
    CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), "the pidfd becomes readable when the child exits");
    siginfo_t info;
    memset(&info, 0, sizeof info);
    CHECK(waitid(P_PIDFD, pidfd, &info, WEXITED) == 0, "waitid(P_PIDFD)");
    CHECK(info.si_pid == pid && info.si_code == CLD_EXITED && info.si_status == 7, "it reports the child's exit");
    CHECK(waitid(P_PIDFD, pidfd, &info, WEXITED | WNOHANG) == -1 && errno == ECHILD, "a second waitid finds no child");
    memset(&info, 0x5a, sizeof info);
    CHECK(waitid(P_PIDFD, 0, &info, WEXITED) == -1 && errno == EBADF, "waitid(P_PIDFD) of a bad pidfd: EBADF");
    CHECK(info.si_signo == 0 && info.si_code == 0 && info.si_pid == 0 && info.si_status == 0, "and it zeroes the siginfo fields");
    close(pidfd);

    int pidfd3 = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd3;
    args.exit_signal = SIGCHLD;
    fflush(stdout);
    pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(9);
    MUST(pid > 0, "clone3 with CLONE_PIDFD");
    CHECK(pidfd3 >= 0 && fcntl(pidfd3, F_GETFD) == FD_CLOEXEC, "clone3 writes the pidfd into clone_args.pidfd");
    memset(&info, 0, sizeof info);
    CHECK(waitid(P_PIDFD, pidfd3, &info, WEXITED) == 0 && info.si_pid == pid && info.si_status == 9, "waitid(P_PIDFD) after clone3");
    close(pidfd3);
}

static void interfaces(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    MUST(s >= 0, "socket");
    struct ifconf conf = {0};
    CHECK(ioctl(s, SIOCGIFCONF, &conf) == 0 && conf.ifc_len > 0 && conf.ifc_len % sizeof(struct ifreq) == 0, "SIOCGIFCONF with no buffer reports the size");
    struct ifreq reqs[32];
    memset(reqs, 0x5a, sizeof reqs);
    conf.ifc_len = sizeof reqs;
    conf.ifc_req = reqs;
    CHECK(ioctl(s, SIOCGIFCONF, &conf) == 0, "SIOCGIFCONF");
    int n = conf.ifc_len / (int)sizeof(struct ifreq), lo = 0;
    for (int i = 0; i < n; i++) lo |= strcmp(reqs[i].ifr_name, "lo") == 0;
    CHECK(lo, "the interfaces include lo");
    CHECK(all_bytes(&reqs[n], sizeof reqs - n * sizeof reqs[0], 0x5a), "and nothing is written past them");

    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    CHECK(ioctl(s, SIOCGIFINDEX, &ifr) == 0 && ifr.ifr_ifindex > 0, "SIOCGIFINDEX lo");
    int index = ifr.ifr_ifindex;
    memset(&ifr, 0x5a, sizeof ifr);
    ifr.ifr_ifindex = index;
    CHECK(ioctl(s, SIOCGIFNAME, &ifr) == 0 && strcmp(ifr.ifr_name, "lo") == 0, "SIOCGIFNAME finds lo by index");
    strcpy(ifr.ifr_name, "lo");
    CHECK(ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_LOOPBACK), "SIOCGIFFLAGS: lo is a loopback");
    CHECK(ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0, "SIOCGIFMTU");
    CHECK(ioctl(s, SIOCGIFTXQLEN, &ifr) == 0 && ifr.ifr_qlen >= 0, "SIOCGIFTXQLEN");
    CHECK(ioctl(s, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == 772 /* ARPHRD_LOOPBACK */, "SIOCGIFHWADDR");
    int pending = -1;
    CHECK(ioctl(s, TIOCOUTQ /* SIOCOUTQ */, &pending) == 0 && pending == 0, "SIOCOUTQ");
    close(s);

    int tun = open("/dev/net/tun", O_RDWR);
    if (tun < 0) {
        puts("tun: no /dev/net/tun");
        return;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strcpy(ifr.ifr_name, "trrtest%d");
    if (ioctl(tun, TUNSETIFF, &ifr) == 0) {
        CHECK(strncmp(ifr.ifr_name, "trrtest", 7) == 0 && ifr.ifr_name[7] >= '0' && ifr.ifr_name[7] <= '9', "TUNSETIFF writes the chosen name back");
        struct ifreq got;
        memset(&got, 0x5a, sizeof got);
        CHECK(ioctl(tun, TUNGETIFF, &got) == 0 && strcmp(got.ifr_name, ifr.ifr_name) == 0 && (got.ifr_flags & IFF_TUN), "TUNGETIFF");
    } else {
        CHECK(errno == EPERM || errno == EBUSY, "TUNSETIFF not permitted");
    }
    close(tun);
}

static void terminals(void) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) {
        puts("pty: none");
        return;
    }
    unsigned ptn = 0x5a5a5a5a;
    CHECK(ioctl(m, TIOCGPTN, &ptn) == 0 && ptn != 0x5a5a5a5a, "TIOCGPTN");
    MUST(grantpt(m) == 0 && unlockpt(m) == 0, "unlockpt");
    int sl = open(ptsname(m), O_RDWR | O_NOCTTY);
    MUST(sl >= 0, "open the pty slave");
    struct termios tio;
    memset(&tio, 0x5a, sizeof tio);
    CHECK(tcgetattr(sl, &tio) == 0 && (tio.c_lflag & ICANON), "TCGETS: canonical mode");
    struct termio old;
    memset(&old, 0x5a, sizeof old);
    CHECK(ioctl(sl, TCGETA, &old) == 0 && old.c_lflag == (unsigned short)tio.c_lflag && old.c_cc[VINTR] == tio.c_cc[VINTR], "TCGETA agrees with TCGETS");
    struct termios locked;
    memset(&locked, 0x5a, sizeof locked);
    CHECK(ioctl(sl, TIOCGLCKTRMIOS, &locked) == 0 && locked.c_lflag == 0 && locked.c_iflag == 0, "TIOCGLCKTRMIOS: nothing locked");
    int disc = -1;
    CHECK(ioctl(sl, TIOCGETD, &disc) == 0 && disc == 0, "TIOCGETD: N_TTY");
    int q = -1;
    CHECK(ioctl(sl, TIOCOUTQ, &q) == 0 && q == 0, "TIOCOUTQ");
    int bits = 0;
    int r = ioctl(sl, TIOCMGET, &bits);
    CHECK(r == 0 || errno == ENOTTY || errno == EINVAL, "TIOCMGET");
    CHECK(write(m, "ab\n", 3) == 3, "write to the master");
    struct pollfd p = {sl, POLLIN, 0};
    CHECK(poll(&p, 1, 5000) == 1, "the slave has input");
    int avail = -1;
    CHECK(ioctl(sl, FIONREAD, &avail) == 0 && avail == 3, "FIONREAD");
    int sid = 0;
    CHECK(ioctl(sl, TIOCGSID, &sid) == -1 && errno == ENOTTY, "TIOCGSID: not our controlling terminal");
    int on = 1;
    CHECK(ioctl(m, TIOCPKT, &on) == 0, "TIOCPKT on the master");
    int pkt = -1;
    CHECK(ioctl(m, TIOCGPKT, &pkt) == 0 && pkt == 1, "TIOCGPKT");
    close(sl);
    close(m);
}

/* Replaces iptables' filter table by itself: the kernel writes the old counters back. */
static void netfilter(void) {
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    struct ipt_getinfo info = {0};
    strcpy(info.name, "filter");
    socklen_t len = sizeof info;
    if (fd < 0 || getsockopt(fd, IPPROTO_IP, IPT_SO_GET_INFO, &info, &len) != 0) {
        FACT(1, "no iptables filter table here (or no privilege); setsockopt write-back not checked");
        if (fd >= 0) close(fd);
        return;
    }
    socklen_t elen = sizeof(struct ipt_get_entries) + info.size;
    struct ipt_get_entries *entries = calloc(1, elen);
    strcpy(entries->name, "filter");
    entries->size = info.size;
    MUST(getsockopt(fd, IPPROTO_IP, IPT_SO_GET_ENTRIES, entries, &elen) == 0, "IPT_SO_GET_ENTRIES");
    size_t rlen = sizeof(struct ipt_replace) + info.size;
    struct ipt_replace *rep = calloc(1, rlen);
    strcpy(rep->name, "filter");
    rep->valid_hooks = info.valid_hooks;
    rep->num_entries = info.num_entries;
    rep->size = info.size;
    memcpy(rep->hook_entry, info.hook_entry, sizeof info.hook_entry);
    memcpy(rep->underflow, info.underflow, sizeof info.underflow);
    rep->num_counters = info.num_entries;
    size_t clen = sizeof(struct xt_counters) * info.num_entries;
    struct xt_counters *counters = malloc(clen + 16);
    memset(counters, 0xff, clen + 16);
    rep->counters = counters;
    memcpy(rep->entries, entries->entrytable, info.size);
    CHECK(setsockopt(fd, IPPROTO_IP, IPT_SO_SET_REPLACE, rep, rlen) == 0, "IPT_SO_SET_REPLACE");
    int changed = 0;
    for (size_t i = 0; i < clen; i++) changed |= ((uint8_t *)counters)[i] != 0xff;
    CHECK(changed, "the kernel wrote the old counters back");
    int beyond = 1;
    for (size_t i = clen; i < clen + 16; i++) beyond &= ((uint8_t *)counters)[i] == 0xff;
    CHECK(beyond, "and nothing after them");
    free(counters);
    free(rep);
    free(entries);
    close(fd);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    netfilter();
    capabilities();
    socket_names();
    fcntls();
    pidfds();
    interfaces();
    terminals();
    if (failures) return 1;
    puts("EXIT-SUCCESS");
    return 0;
}
