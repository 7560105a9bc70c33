/*
 * trr_native.c: the thin C layer under trr's TypeScript tracer.
 *
 * It holds only what TypeScript cannot do itself: forking the process to be
 * recorded or replayed and preparing it before exec (no ASLR, rdtsc trapping,
 * seccomp filter, ptrace seize), ptrace and wait calls with errno returned as
 * a negative number, a wait with a timeout, and the rdtsc/cpuid instructions.
 * It keeps no state about tasks and makes no decisions: everything else lives
 * in src/native/native.ts and above. Every function returns -errno on failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cpuid.h>
#include <x86intrin.h>

#ifndef PR_SET_TSC
#define PR_SET_TSC 26
#endif
#ifndef PR_TSC_SIGSEGV
#define PR_TSC_SIGSEGV 2
#endif

/* Options every tracee is seized with; the TypeScript side relies on them. */
#define TRR_PTRACE_OPTIONS                                                     \
  (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |          \
   PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |             \
   PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)

long trr_ptrace_options(void) { return TRR_PTRACE_OPTIONS; }

long trr_ptrace(long request, long pid, uintptr_t addr, uintptr_t data) {
  errno = 0;
  long r = ptrace((enum __ptrace_request)request, (pid_t)pid, (void *)addr,
                  (void *)data);
  if (r == -1 && errno != 0)
    return -errno;
  return r;
}

/* ptrace requests whose data argument is a pointer to a buffer we own. */
long trr_ptrace_buf(long request, long pid, uintptr_t addr, void *buf) {
  return trr_ptrace(request, pid, addr, (uintptr_t)buf);
}

/* PTRACE_GETREGSET or PTRACE_SETREGSET with an iovec built here; returns the
 * bytes the kernel read or filled. */
long trr_ptrace_regset(long request, long pid, long nt_type, void *buf,
                       long len) {
  struct iovec {
    void *base;
    size_t len;
  } iov = {buf, (size_t)len};
  long r = trr_ptrace(request, pid, (uintptr_t)nt_type, (uintptr_t)&iov);
  return r < 0 ? r : (long)iov.len;
}

static void on_wait_timer(int sig) { (void)sig; }
static volatile sig_atomic_t term_sender;
/* The main thread is in trr_wait's wait for any child, which a SIGTERM to trr must end. */
static volatile sig_atomic_t in_wait;
static int timer_ready;
static timer_t wait_timer;

static int ensure_wait_timer(void) {
  if (timer_ready)
    return 0;
  int sig = SIGRTMIN + 6;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_wait_timer; /* no SA_RESTART: waitpid returns EINTR */
  if (sigaction(sig, &sa, NULL) < 0)
    return -errno;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = sig;
  sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  if (timer_create(CLOCK_MONOTONIC, &sev, &wait_timer) < 0)
    return -errno;
  timer_ready = 1;
  return 0;
}

static void arm_wait_timer(long ms) {
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  its.it_value.tv_sec = ms / 1000;
  its.it_value.tv_nsec = (ms % 1000) * 1000000L;
  timer_settime(wait_timer, 0, &its, NULL);
}

/*
 * waitpid(pid, status, options), but giving up after timeout_ms when it is
 * positive. Returns the tid that changed state, 0 on timeout (or on WNOHANG
 * with nothing to report), or -errno.
 */
long trr_wait(long pid, int *status, long options, long timeout_ms) {
  if (timeout_ms > 0) {
    int e = ensure_wait_timer();
    if (e < 0)
      return e;
    arm_wait_timer(timeout_ms);
  }
  pid_t r;
  int err = 0;
  /* A SIGTERM to trr itself (see trr_shield_signals) ends only a wait for any child. */
  int wakes = pid == -1 && timeout_ms <= 0;
  if (wakes)
    in_wait = 1;
  do {
    if (wakes && term_sender != 0) {
      r = 0;
      break;
    }
    r = waitpid((pid_t)pid, status, (int)options);
    err = errno;
  } while (r < 0 && err == EINTR && timeout_ms <= 0);
  in_wait = 0;
  if (timeout_ms > 0)
    arm_wait_timer(0);
  if (r < 0)
    return err == EINTR ? 0 : -err;
  return r;
}

/*
 * While trr records, the recorded program shares trr's process group, so
 * kill(0, sig) or a terminal's ^C / ^\ reach trr too: trr must outlive the
 * program to finish the trace. trr_shield_signals(1) ignores the signals
 * that would otherwise end or stop trr (the program still gets its own), and
 * turns SIGTERM into a request: its sender's pid is kept for
 * trr_term_sender() (-1 when the kernel sent it) and the main thread's wait
 * is interrupted. trr_shield_signals(0) puts the previous actions back.
 */
static const int shielded[] = {SIGHUP,  SIGINT,    SIGQUIT, SIGTRAP, SIGABRT,
                               SIGUSR1, SIGUSR2,   SIGPIPE, SIGALRM, SIGTTIN,
                               SIGTTOU, SIGVTALRM, SIGPROF, SIGIO,   SIGPWR,
                               SIGXCPU, SIGXFSZ,   SIGSTKFLT, SIGWINCH, SIGTERM};
#define N_SHIELDED (sizeof shielded / sizeof shielded[0])
static struct sigaction shield_saved[N_SHIELDED];
static int shield_on;
static pid_t shield_tid;

static void on_term(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)ctx;
  term_sender = si->si_code <= 0 && si->si_pid > 0 ? si->si_pid : -1;
  /* Only that wait is interrupted (the timer signal has no SA_RESTART); trr's other syscalls go on. */
  if (in_wait)
    syscall(SYS_tgkill, getpid(), shield_tid, SIGRTMIN + 6);
}

long trr_shield_signals(long on) {
  if (on && !shield_on) {
    int e = ensure_wait_timer();
    if (e < 0)
      return e;
    shield_tid = (pid_t)syscall(SYS_gettid);
    term_sender = 0;
    for (size_t i = 0; i < N_SHIELDED; i++) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      if (shielded[i] == SIGTERM) {
        sa.sa_sigaction = on_term;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
      } else
        sa.sa_handler = SIG_IGN;
      if (sigaction(shielded[i], &sa, &shield_saved[i]) < 0)
        return -errno;
    }
    shield_on = 1;
  } else if (!on && shield_on) {
    for (size_t i = 0; i < N_SHIELDED; i++)
      sigaction(shielded[i], &shield_saved[i], NULL);
    shield_on = 0;
  }
  return 0;
}

/* The pid that sent trr SIGTERM since the last call (-1: the kernel), or 0; clears it. */
long trr_term_sender(void) {
  long r = term_sender;
  term_sender = 0;
  return r;
}

/* SECCOMP_RET_DATA of the trap for 32-bit system calls; trr's side checks it. */
#define TRR_I386_TRAP_DATA 0x386

static int install_trace_filter(unsigned long allow_ip) {
  /*
   * Every x86-64 system call stops the tracee with PTRACE_EVENT_SECCOMP. A
   * 32-bit one (int $0x80) is not run: it raises SIGSYS, so the tracer sees it
   * as a signal and never mistakes it for the 64-bit call of the same number.
   * When allow_ip is not 0, a syscall whose instruction ends at allow_ip (the
   * syscall buffer's stub, src/preload) runs without a stop.
   */
  uint32_t lo = (uint32_t)allow_ip, hi = (uint32_t)(allow_ip >> 32);
  const unsigned ip = offsetof(struct seccomp_data, instruction_pointer);
  struct sock_filter plain[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | TRR_I386_TRAP_DATA),
  };
  struct sock_filter buffered[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 2),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip + 4),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 2, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | TRR_I386_TRAP_DATA),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_filter *filter = allow_ip ? buffered : plain;
  unsigned short len = allow_ip ? sizeof buffered / sizeof buffered[0] : sizeof plain / sizeof plain[0];
  struct sock_fprog prog = {.len = len, .filter = filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return -1;
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void child_fail(int fd, int step) {
  int msg[2] = {step, errno};
  ssize_t ignored = write(fd, msg, sizeof msg);
  (void)ignored;
  _exit(127);
}

/*
 * Forks a child that becomes the first tracee. The child resets signal
 * state, changes directory, disables address-space randomisation, makes
 * rdtsc fault, waits until the parent has seized it, installs the
 * trace-everything seccomp filter and execs. The parent seizes the child and
 * returns its pid. stack_limit, when non-negative, sets RLIMIT_STACK's soft
 * limit (replay restores the recorded one, which decides the mmap layout).
 * allow_ip, when not 0, is the end of the one syscall instruction the filter
 * lets through without a stop (the syscall buffer's, see src/preload).
 * On failure before exec, *fail_step and *fail_errno say what failed.
 */
long trr_spawn(const char *path, char *const argv[], char *const envp[],
               const char *cwd, long stack_limit, unsigned long allow_ip,
               int *fail_step, int *fail_errno) {
  int go[2], report[2];
  if (pipe2(go, O_CLOEXEC) < 0)
    return -errno;
  if (pipe2(report, O_CLOEXEC) < 0) {
    int e = errno;
    close(go[0]);
    close(go[1]);
    return -e;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) {
    /* Child: only async-signal-safe calls from here on. */
    for (int s = 1; s < 65; s++) {
      if (s == SIGKILL || s == SIGSTOP)
        continue;
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = SIG_DFL;
      syscall(SYS_rt_sigaction, s, &sa, NULL, 8);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    close(go[1]);
    close(report[0]);
    if (cwd && chdir(cwd) < 0)
      child_fail(report[1], 1);
    if (stack_limit >= 0) {
      struct rlimit rl;
      getrlimit(RLIMIT_STACK, &rl);
      rl.rlim_cur = (rlim_t)stack_limit;
      if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
        rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_STACK, &rl);
    }
    if (personality(0xffffffff) < 0 ||
        personality((unsigned long)personality(0xffffffff) |
                    ADDR_NO_RANDOMIZE) < 0)
      child_fail(report[1], 2);
    if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) < 0)
      child_fail(report[1], 3);
    char byte;
    if (read(go[0], &byte, 1) != 1)
      _exit(127);
    /* Close everything but stdio and the report pipe (close-on-exec). The
     * stdio fds must survive exec even if our own have FD_CLOEXEC set. */
    for (int fd = 3; fd < 1024; fd++)
      if (fd != report[1])
        close(fd);
    for (int fd = 0; fd < 3; fd++)
      fcntl(fd, F_SETFD, 0);
    if (install_trace_filter(allow_ip) < 0)
      child_fail(report[1], 4);
    execve(path, argv, envp);
    /* The parent stopped listening at our execve's seccomp stop; the recorder
     * sees this execve fail and reports its errno. */
    _exit(127);
  }
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(go[0]);
  close(report[1]);
  if (pid < 0) {
    close(go[1]);
    close(report[0]);
    return -fork_errno;
  }
  long r = trr_ptrace(PTRACE_SEIZE, pid, 0, TRR_PTRACE_OPTIONS);
  if (r < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(go[1]);
    close(report[0]);
    return r;
  }
  char one = 1;
  ssize_t w = write(go[1], &one, 1);
  (void)w;
  close(go[1]);
  /* Failures before the filter is installed come back on the report pipe.
   * After that the child stops at its execve, so reading cannot block. */
  int msg[2] = {0, 0};
  *fail_step = 0;
  *fail_errno = 0;
  struct timespec tick = {0, 1000000};
  for (int i = 0; i < 5000; i++) {
    /* Peek without reaping: has the child stopped (at execve) or died? */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, pid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) == 0 &&
        si.si_pid == pid)
      break;
    nanosleep(&tick, NULL);
  }
  int flags = fcntl(report[0], F_GETFL);
  fcntl(report[0], F_SETFL, flags | O_NONBLOCK);
  if (read(report[0], msg, sizeof msg) == (ssize_t)sizeof msg) {
    *fail_step = msg[0];
    *fail_errno = msg[1];
  }
  close(report[0]);
  return pid;
}

/*
 * Runs `body` in a forked child and says whether it died of SIGSEGV: 1 if
 * so, 0 if not, -errno if the probe could not run. body exits 2 when the
 * mode it sets up is refused.
 */
static long dies_of_sigsegv(void (*body)(void)) {
  pid_t pid = fork();
  if (pid < 0)
    return -errno;
  if (pid == 0) {
    body();
    _exit(0);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? 1 : 0;
}

static void rdtsc_in_sigsegv_mode(void) {
  if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) < 0)
    _exit(2);
  volatile uint64_t t = __rdtsc();
  (void)t;
}

static void cpuid_with_faulting(void) {
  if (syscall(SYS_arch_prctl, 0x1012 /* ARCH_SET_CPUID */, 0) < 0)
    _exit(2);
  unsigned a, b, c, d;
  __cpuid(0, a, b, c, d);
}

/*
 * Whether rdtsc really faults after PR_SET_TSC(PR_TSC_SIGSEGV) on this
 * machine: some hypervisors accept the prctl but never trap the instruction.
 */
long trr_rdtsc_traps(void) { return dies_of_sigsegv(rdtsc_in_sigsegv_mode); }

/*
 * Whether arch_prctl(ARCH_SET_CPUID, 0) makes the cpuid instruction fault on
 * this machine (CPUID faulting: most Intel CPUs and the hypervisors that pass
 * it through; not AMD).
 */
long trr_cpuid_faults(void) { return dies_of_sigsegv(cpuid_with_faulting); }

/*
 * trr's own gettimeofday (tv: 16 bytes, tz: 8 bytes) and time: the answer
 * to a tracee's call through the legacy vsyscall page, which the kernel
 * emulates without a syscall-exit stop, so the recorder answers it itself.
 */
long trr_gettimeofday(uint8_t *tv, uint8_t *tz) {
  long r = syscall(SYS_gettimeofday, tv, tz);
  return r < 0 ? -errno : r;
}

long trr_time(void) {
  long r = syscall(SYS_time, NULL);
  return r < 0 ? -errno : r;
}

/* Reads the time-stamp counter (rdtscp also gives TSC_AUX in *aux). */
uint64_t trr_rdtsc(void) { return __rdtsc(); }

uint64_t trr_rdtscp(uint32_t *aux) {
  unsigned int a;
  uint64_t t = __rdtscp(&a);
  *aux = a;
  return t;
}

/* out[0..3] = eax, ebx, ecx, edx of cpuid(leaf, subleaf). */
void trr_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *out) {
  __cpuid_count(leaf, subleaf, out[0], out[1], out[2], out[3]);
}

long trr_kill(long pid, long sig) {
  return kill((pid_t)pid, (int)sig) < 0 ? -errno : 0;
}

long trr_tgkill(long tgid, long tid, long sig) {
  return syscall(SYS_tgkill, (pid_t)tgid, (pid_t)tid, (int)sig) < 0 ? -errno : 0;
}

/* Copies [off, end) of in to the same offsets of out; falls back to read/write. */
static int copy_range(int in, int out, off_t off, off_t end) {
  static char buf[1 << 16];
  while (off < end) {
    loff_t a = off, b = off;
    ssize_t n = copy_file_range(in, &a, out, &b, (size_t)(end - off), 0);
    if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
      n = pread(in, buf, sizeof buf < (size_t)(end - off) ? sizeof buf : (size_t)(end - off), off);
      for (ssize_t done = 0; n > 0 && done < n;) {
        ssize_t w = pwrite(out, buf + done, (size_t)(n - done), off + done);
        if (w < 0)
          return -1;
        if (w == 0) {
          errno = ENOSPC;
          return -1;
        }
        done += w;
      }
    }
    if (n < 0)
      return -1;
    if (n == 0)
      break; /* the file shrank meanwhile */
    off += n;
  }
  return 0;
}

/*
 * Copies the file at src to a new file dst (created O_EXCL|O_NOFOLLOW with
 * `mode`): a reflink where the file system allows, else only the extents
 * that hold data, so a sparse or mostly-empty file (a huge memfd, a file
 * with a large hole) costs no more than its data. Returns 0 or -errno; on
 * failure dst may exist and the caller removes it.
 */
long trr_copy_file(const char *src, const char *dst, long mode) {
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return -errno;
  int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
  if (out < 0) {
    int e = errno;
    close(in);
    return -e;
  }
  int r = 0;
  struct stat st;
  if (fstat(in, &st) < 0) {
    r = -errno;
  } else if (ioctl(out, FICLONE, in) != 0) {
    off_t pos = 0;
    while (pos < st.st_size) {
      off_t data = lseek(in, pos, SEEK_DATA);
      if (data < 0 && errno == ENXIO)
        break; /* only a hole is left */
      if (data < 0) {
        data = pos; /* SEEK_DATA unsupported: all of it is data */
        if (copy_range(in, out, data, st.st_size) < 0)
          r = -errno;
        break;
      }
      off_t hole = lseek(in, data, SEEK_HOLE);
      if (hole < 0)
        hole = st.st_size;
      if (copy_range(in, out, data, hole) < 0) {
        r = -errno;
        break;
      }
      pos = hole;
    }
    if (r == 0 && ftruncate(out, st.st_size) < 0)
      r = -errno;
  }
  if (close(out) < 0 && r == 0)
    r = -errno;
  close(in);
  return r;
}

/*
 * Copies up to len bytes at the head of the pipe at `path` (a tracee's
 * /proc/PID/fd/N) into buf without consuming them (tee into a private pipe).
 * Returns the number of bytes copied, 0 when the pipe is empty.
 */
long trr_peek_pipe(const char *path, void *buf, long len) {
  int in = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (in < 0)
    return -errno;
  int p[2];
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
    int e = errno;
    close(in);
    return -e;
  }
  int cap = fcntl(in, F_GETPIPE_SZ);
  if (cap > 0)
    fcntl(p[1], F_SETPIPE_SZ, cap);
  long got = 0;
  ssize_t n = tee(in, p[1], (size_t)len, SPLICE_F_NONBLOCK);
  long r = 0;
  if (n < 0 && errno != EAGAIN)
    r = -errno;
  while (n > 0 && got < n) {
    ssize_t k = read(p[0], (char *)buf + got, (size_t)(n - got));
    if (k <= 0)
      break;
    got += k;
  }
  close(in);
  close(p[0]);
  close(p[1]);
  return r < 0 ? r : got;
}

/*
 * CPU pinning: the recorded program runs on one CPU, and replay on the same
 * one, so that instructions that read the CPU number (lsl of the per-CPU
 * segment, rdpid, rdtscp's TSC_AUX, the vDSO's getcpu) give the same answers.
 */
long trr_current_cpu(void) {
  int cpu = sched_getcpu();
  return cpu < 0 ? -errno : cpu;
}

/* 1 when this process may run on `cpu`, else 0. */
long trr_cpu_allowed(long cpu) {
  cpu_set_t set;
  if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof set, &set) < 0)
    return 0;
  return CPU_ISSET((int)cpu, &set) ? 1 : 0;
}

long trr_pin_cpu(long pid, long cpu) {
  cpu_set_t set;
  if (cpu < 0 || cpu >= CPU_SETSIZE)
    return -EINVAL;
  CPU_ZERO(&set);
  CPU_SET((int)cpu, &set);
  return sched_setaffinity((pid_t)pid, sizeof set, &set) < 0 ? -errno : 0;
}

/* fallocate(2) on the file at `path` (replay applies a recorded one to its copy of a mapped file). */
long trr_fallocate(const char *path, long mode, long offset, long len) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  long r = fallocate(fd, (int)mode, (off_t)offset, (off_t)len) < 0 ? -errno : 0;
  close(fd);
  return r;
}

/* sched_getaffinity(pid) into buf; returns the bytes the kernel wrote. */
long trr_get_affinity(long pid, uint8_t *buf, long len) {
  long r = syscall(SYS_sched_getaffinity, (pid_t)pid, (size_t)len, buf);
  return r < 0 ? -errno : r;
}
