/*
 * trr_preload.c: trr's in-process syscall buffer (see docs/ARCHITECTURE.md,
 * "The syscall buffer").
 *
 * trr loads this library into recorded programs with LD_PRELOAD. It defines
 * a few libc functions whose syscalls are frequent and never block
 * (getppid, read/write on regular files, fstat, lseek, clock_gettime...).
 *
 * Recording: a wrapper runs the syscall through the one syscall instruction
 * of a small stub page at TRR_STUB_ADDR, which trr's seccomp filter lets
 * through without a ptrace stop, and appends a record (number, arguments,
 * result, the bytes the kernel wrote into the program's memory, a hash of
 * the bytes it sent) to this thread's buffer. trr reads the buffer at the
 * thread's next traced event and writes its records into the trace.
 * Anything the library does not buffer (a pipe, a socket, trr's own
 * stdout, a full buffer, a request from trr) goes to libc's own function,
 * whose syscall is traced as usual: that ends the buffered stretch.
 * libc's own syscall instructions are patched at start-up to come here too
 * (trr_patch.c), for the calls libc makes internally (stdio's writes,
 * fopen's openat, readdir's getdents64); buffer_raw holds the rules both
 * ways in share.
 *
 * Replay: trr writes the recorded records of the stretch into the buffer
 * before the thread runs it. A wrapper call then takes the next record,
 * checks its syscall number, arguments and sent data against the call, and
 * gives back the recorded result and memory without entering the kernel.
 * When the records are used up, the call goes to libc, whose traced syscall
 * is the event that ended the stretch in the recording. A mismatch makes a
 * traced TRR_CALL_DIVERGE call, which trr reports as a divergence.
 *
 * The layout of the buffer is shared with src/syscallbuf/layout.ts.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "trr_preload.h"

#define TRR_STUB_ADDR 0x70000000UL
#define TRR_STUB_SYSCALL_END 25 /* offset just past the stub's syscall instruction */
#define TRR_CALL_INIT 2000
#define TRR_CALL_DIVERGE 2001
#define TRR_CALL_SIGNAL 2002
#define TRR_BUF_SIZE (1UL << 20)
#define TRR_BUF_MAGIC 0x42525254U /* "TRRB" */
#define TRR_BUF_VERSION 1
/*
 * At most this many calls per buffered stretch: replay positions, checkpoints
 * and Ctrl-C land between events, so a stretch must stay short (a traced call
 * every 1024 costs about 0.05 us per buffered call).
 */
#define TRR_MAX_RECORDS 1024

/* Shared with trr: offsets are fixed (layout.ts). */
struct trr_hdr {
  uint32_t magic;         /* 0 */
  uint32_t version;       /* 4 */
  uint32_t capacity;      /* 8: bytes available for records */
  uint32_t count;         /* 12: records committed (record) / given (replay) */
  uint32_t used;          /* 16: bytes of those records */
  uint32_t consumed;      /* 20: replay: records taken */
  uint32_t consumed_bytes;/* 24 */
  uint32_t busy;          /* 28: a wrapper is between its checks and its commit */
  uint32_t force_traced;  /* 32: trr asks for the next call to be traced (a held signal) */
  uint32_t no_writes;     /* 36: trr forbids buffered writes (files mapped shared) */
  uint32_t disabled;      /* 40: trr forbids buffering (shared buffer, own seccomp) */
  uint32_t pad;           /* 44 */
  uint64_t out_dev[2];    /* 48: trr's stdout/stderr device and inode, when regular files */
  uint64_t out_ino[2];    /* 64 */
};                        /* 80 bytes; records start at TRR_HDR_SIZE */
#define TRR_HDR_SIZE 128

struct trr_rec {
  uint32_t size; /* whole record, 8-byte multiple */
  uint32_t nr;
  uint64_t args[6];
  int64_t result;
  uint64_t hash;     /* of the bytes sent (write family, paths) */
  uint32_t data_len; /* bytes written into the program's memory, after the record */
  uint32_t flags;    /* TRR_REC_SIGNAL_POINT */
};                   /* 80 bytes */
/* A traced TRR_CALL_SIGNAL followed this call, before it returned to the program. */
#define TRR_REC_SIGNAL_POINT 1u

_Static_assert(sizeof(struct trr_hdr) == 80, "header layout");
_Static_assert(sizeof(struct trr_rec) == 80, "record layout");

/* The recorder writes the header's magic at the buffer's init call; replay leaves it blank. */
static inline int recording(const struct trr_hdr *h) { return h->magic == TRR_BUF_MAGIC; }

/*
 * Whether trr declined buffering (no trr, `-n`): the same in record and
 * replay. Whether this is a recording is the header's (recording(h)), never
 * the library's own data: a program that scans its writable memory (a
 * garbage collector, rr's dlchecksum test) must see the same bytes in
 * replay as in the recording.
 */
static int buffering_off;
static int stub_ready; /* 1 mapped, -1 could not */

static __thread struct trr_hdr *tbuf __attribute__((tls_model("initial-exec")));
static __thread int tstate __attribute__((tls_model("initial-exec"))); /* 0 new, 1 ready, -1 off */

/*
 * long f(nr, a0..a5): the stub copied to TRR_STUB_ADDR (untraced), and the
 * same code in the library's text (traced, for trr's own calls).
 */
extern char trr_stub_template[], trr_stub_template_syscall_end[], trr_stub_template_end[];
__asm__(".text\n"
        ".globl trr_stub_template\n"
        ".hidden trr_stub_template\n"
        "trr_stub_template:\n"
        ".globl trr_traced_syscall\n"
        ".hidden trr_traced_syscall\n"
        "trr_traced_syscall:\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  mov %rcx, %rdx\n"
        "  mov %r8, %r10\n"
        "  mov %r9, %r8\n"
        "  mov 8(%rsp), %r9\n"
        "  syscall\n"
        ".globl trr_stub_template_syscall_end\n"
        ".hidden trr_stub_template_syscall_end\n"
        "trr_stub_template_syscall_end:\n"
        "  ret\n"
        ".globl trr_stub_template_end\n"
        ".hidden trr_stub_template_end\n"
        "trr_stub_template_end:\n");

/*
 * Calls libc's function fn(a0..a5) with every argument register and rax,
 * r10 set from these values alone. The traced syscall libc then makes sees
 * the same registers whichever path the library took to get there (its
 * record and replay paths leave different values behind), so replay finds
 * the recorded registers at that event, and at a signal delivered there.
 */
extern long trr_forward(long a0, long a1, long a2, long a3, long a4, long a5, void *fn);
__asm__(".text\n"
        ".type trr_forward, @function\n"
        "trr_forward:\n"
        "  .cfi_startproc\n"
        "  mov 8(%rsp), %r11\n"
        "  xor %eax, %eax\n"
        "  xor %r10d, %r10d\n"
        "  jmp *%r11\n"
        "  .cfi_endproc\n");
/*
 * The traced TRR_CALL_SIGNAL: where a signal that arrived during a buffered
 * call (the kernel raised it in the call: SIGIO of a directory
 * notification, SIGXFSZ) is delivered before the wrapper returns, as it
 * would be at the call's return natively. The recorder holds such a signal
 * back (it stopped the thread inside the stub); this call is the syscall
 * boundary it re-sends it at. Every register but rsp, rip and rax is zero
 * here, so the signal frame replay writes back (the recorded one) holds no
 * value of the library's record path: the callee-saved registers are
 * restored from this function's own stack after the call.
 */
extern void trr_signal_point(void);
__asm__(".text\n"
        ".type trr_signal_point, @function\n"
        "trr_signal_point:\n"
        "  .cfi_startproc\n"
        "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  .cfi_adjust_cfa_offset 48\n"
        "  xor %ebx, %ebx\n  xor %ebp, %ebp\n  xor %r12d, %r12d\n  xor %r13d, %r13d\n"
        "  xor %r14d, %r14d\n  xor %r15d, %r15d\n  xor %ecx, %ecx\n  xor %edx, %edx\n"
        "  xor %esi, %esi\n  xor %edi, %edi\n  xor %r8d, %r8d\n  xor %r9d, %r9d\n"
        "  xor %r10d, %r10d\n  xor %r11d, %r11d\n"
        "  mov $2002, %eax\n"
        "  syscall\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
        "  .cfi_adjust_cfa_offset -48\n"
        "  ret\n"
        "  .cfi_endproc\n"
        ".size trr_signal_point, .-trr_signal_point\n");
#define FORWARD(fn, a0, a1, a2, a3) \
  (resolve(), trr_forward((long)(a0), (long)(a1), (long)(a2), (long)(a3), 0, 0, (void *)real.fn))

typedef long (*syscall_fn)(long, long, long, long, long, long, long);
#define UNTRACED(nr, a, b, c, d, e, f) \
  (((syscall_fn)TRR_STUB_ADDR)((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f)))

#define barrier() __asm__ __volatile__("" ::: "memory")

/*
 * The library's own memcpy, memset and strlen (the compiler's calls bind to
 * these hidden definitions): it runs inside libc's patched syscall
 * instructions, across which the kernel keeps every vector register, and
 * libc's versions use them. The whole library is built with
 * -mgeneral-regs-only.
 */
TRR_HIDDEN void *memcpy(void *d, const void *s, size_t n) {
  void *r = d;
  __asm__ __volatile__("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return r;
}
TRR_HIDDEN void *memset(void *d, int c, size_t n) {
  void *r = d;
  __asm__ __volatile__("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return r;
}
TRR_HIDDEN size_t strlen(const char *p) {
  size_t n = 0;
  while (((volatile const char *)p)[n])
    n++;
  return n;
}

/* struct sigaction as the kernel reads and writes it (x86-64). */
struct trr_ksigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  uint64_t mask;
};

static int buffer_raw(long nr, const long *a, long *res);

/* libc's own functions, for every call the library does not buffer. */
static struct {
  pid_t (*getpid)(void), (*getppid)(void), (*gettid)(void);
  uid_t (*getuid)(void), (*geteuid)(void);
  gid_t (*getgid)(void), (*getegid)(void);
  ssize_t (*read)(int, void *, size_t), (*write)(int, const void *, size_t);
  ssize_t (*pread)(int, void *, size_t, off_t), (*pwrite)(int, const void *, size_t, off_t);
  off_t (*lseek)(int, off_t, int);
  int (*close)(int);
  int (*fstat)(int, struct stat *), (*stat)(const char *, struct stat *), (*lstat)(const char *, struct stat *);
  int (*fstatat)(int, const char *, struct stat *, int);
  int (*clock_gettime)(clockid_t, struct timespec *);
  int (*gettimeofday)(struct timeval *, void *);
  time_t (*time)(time_t *);
  int (*openat)(int, const char *, int, ...);
  int (*fcntl)(int, int, ...);
  int (*fsync)(int), (*fdatasync)(int);
  ssize_t (*readv)(int, const struct iovec *, int), (*writev)(int, const struct iovec *, int);
  int (*unlink)(const char *), (*unlinkat)(int, const char *, int);
  int (*fchown)(int, uid_t, gid_t);
  int (*isatty)(int);
  char *(*getcwd)(char *, size_t);
  int (*sigaction)(int, const struct sigaction *, struct sigaction *);
} real;

static void *next_fn(const char *name) { return dlsym(RTLD_NEXT, name); }

static void resolve(void) {
  if (real.read)
    return;
  real.getpid = next_fn("getpid");
  real.getppid = next_fn("getppid");
  real.gettid = next_fn("gettid");
  real.getuid = next_fn("getuid");
  real.geteuid = next_fn("geteuid");
  real.getgid = next_fn("getgid");
  real.getegid = next_fn("getegid");
  real.write = next_fn("write");
  real.pread = next_fn("pread64");
  real.pwrite = next_fn("pwrite64");
  real.lseek = next_fn("lseek64");
  real.close = next_fn("close");
  real.fstat = next_fn("fstat64");
  real.stat = next_fn("stat64");
  real.lstat = next_fn("lstat64");
  real.fstatat = next_fn("fstatat64");
  real.clock_gettime = next_fn("clock_gettime");
  real.gettimeofday = next_fn("gettimeofday");
  real.time = next_fn("time");
  real.openat = next_fn("openat64");
  real.fcntl = next_fn("fcntl64");
  if (!real.fcntl)
    real.fcntl = next_fn("fcntl");
  real.fsync = next_fn("fsync");
  real.fdatasync = next_fn("fdatasync");
  real.readv = next_fn("readv");
  real.writev = next_fn("writev");
  real.unlink = next_fn("unlink");
  real.unlinkat = next_fn("unlinkat");
  real.fchown = next_fn("fchown");
  real.isatty = next_fn("isatty");
  real.getcwd = next_fn("getcwd");
  real.sigaction = next_fn("sigaction");
  barrier();
  real.read = next_fn("read");
}

/* Maps the stub page: its one syscall instruction is the one trr's filter lets through. */
static void make_stub(void) {
  if (stub_ready)
    return;
  stub_ready = -1;
  size_t len = (size_t)(trr_stub_template_end - trr_stub_template);
  if (trr_stub_template_syscall_end - trr_stub_template != TRR_STUB_SYSCALL_END)
    return;
  void *p = (void *)trr_traced_syscall(SYS_mmap, (long)TRR_STUB_ADDR, 4096, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (void *)TRR_STUB_ADDR)
    return;
  memcpy(p, trr_stub_template, len);
  if (trr_traced_syscall(SYS_mprotect, (long)TRR_STUB_ADDR, 4096, PROT_READ | PROT_EXEC, 0, 0, 0) != 0)
    return;
  stub_ready = 1;
}

/*
 * At start-up (once per exec): the stub, this thread's buffer (which tells
 * whether trr buffers at all: not with `trr record -n` nor without trr),
 * and, when it does, libc's syscall instructions patched into the buffer.
 */
__attribute__((constructor)) static void trr_preload_init(void) {
  resolve();
  make_stub();
  if (trr_buffering())
    trr_patch_libc();
}

/* This thread's buffer, created and announced to trr at its first use; NULL when buffering is off. */
static struct trr_hdr *thread_buf(void) {
  if (tstate == 1)
    return tbuf;
  if (tstate < 0 || buffering_off)
    return NULL;
  tstate = -1; /* no buffering inside our own set-up */
  resolve();
  make_stub();
  if (stub_ready != 1)
    return NULL;
  long p = trr_traced_syscall(SYS_mmap, 0, TRR_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p < 0 && p > -4096)
    return NULL;
  long r = trr_traced_syscall(TRR_CALL_INIT, p, TRR_BUF_SIZE, TRR_STUB_ADDR + TRR_STUB_SYSCALL_END, TRR_BUF_VERSION, 0, 0);
  if (r != 0 && r != 1) {
    buffering_off = 1;
    trr_traced_syscall(SYS_munmap, p, TRR_BUF_SIZE, 0, 0, 0, 0);
    return NULL;
  }
  /*
   * The recorder answers 0 and writes the header; replay answers 1 and
   * leaves it blank. The header decides: a signal delivered at this call's
   * return makes replay restore the recorded registers, rax (0) included.
   */
  tbuf = (struct trr_hdr *)p;
  tstate = 1;
  return tbuf;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  for (; i < n; i++)
    h = (h ^ b[i]) * 0x100000001b3ULL;
  return h;
}
#define HASH_SEED 0xcbf29ce484222325ULL

/* What a buffered call writes into, and sends from, the program's memory. */
struct call {
  long nr;
  int nargs;
  long args[6];
  void *out;        /* memory the kernel writes */
  size_t out_max;   /* at most this much */
  int out_by_result;/* out gets `result` bytes; else out_max bytes when result == 0 */
  const void *sent; /* bytes the kernel reads (write family) */
  int sent_by_result;
  size_t sent_len;  /* or this many (a path's length) */
  const struct iovec *iov; /* readv/writev: out (iov_out) or sent is these pieces, `result` bytes of them */
  int iovcnt;
  int iov_out;
};

/* Hash of the first n bytes of the iov's pieces (piece by piece). */
static uint64_t hash_iov(const struct iovec *iov, int cnt, size_t n) {
  uint64_t h = HASH_SEED;
  for (int i = 0; i < cnt && n; i++) {
    size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
    h = hash_bytes(h, iov[i].iov_base, k);
    n -= k;
  }
  return h;
}

/* Copies n bytes between a flat buffer and the iov's pieces (to_iov: into them). */
static void copy_iov(const struct iovec *iov, int cnt, char *flat, size_t n, int to_iov) {
  for (int i = 0; i < cnt && n; i++) {
    size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
    if (to_iov)
      memcpy(iov[i].iov_base, flat, k);
    else
      memcpy(flat, iov[i].iov_base, k);
    flat += k;
    n -= k;
  }
}

/* What the call sent, hashed: its bytes (by result, or sent_len of them), or its iov's. */
static uint64_t sent_hash(const struct call *c, long result) {
  size_t n = c->sent_by_result ? (result > 0 ? (size_t)result : 0) : c->sent_len;
  if (c->iov && !c->iov_out)
    return hash_iov(c->iov, c->iovcnt, n);
  return hash_bytes(HASH_SEED, c->sent, n);
}

static inline struct trr_rec *rec_at(struct trr_hdr *h, uint32_t off) {
  return (struct trr_rec *)((char *)h + TRR_HDR_SIZE + off);
}

static void diverge(struct call *c, uint32_t index, long which, long expected, long found) {
  trr_traced_syscall(TRR_CALL_DIVERGE, c->nr, index, which, expected, found, 0);
}

/* Replays one call from the next record (see buffered). */
static int replay_call(struct trr_hdr *h, struct call *c, long *res, int *signal_point) {
  if (h->consumed >= h->count)
    return 0;
  struct trr_rec *r = rec_at(h, h->consumed_bytes);
  uint32_t index = h->consumed;
  if (r->nr != (uint32_t)c->nr) {
    diverge(c, index, -1, r->nr, c->nr);
    return 0;
  }
  for (int i = 0; i < c->nargs; i++) {
    if (r->args[i] != (uint64_t)c->args[i]) {
      diverge(c, index, i, (long)r->args[i], c->args[i]);
      return 0;
    }
  }
  if (c->sent) {
    uint64_t hh = sent_hash(c, r->result);
    if (hh != r->hash) {
      diverge(c, index, -2, (long)r->hash, (long)hh);
      return 0;
    }
  }
  if (r->data_len && c->iov_out)
    copy_iov(c->iov, c->iovcnt, (char *)r + sizeof *r, r->data_len, 1);
  else if (r->data_len)
    memcpy(c->out, (char *)r + sizeof *r, r->data_len);
  *res = r->result;
  *signal_point = (r->flags & TRR_REC_SIGNAL_POINT) != 0;
  barrier();
  h->consumed_bytes += r->size;
  h->consumed++;
  return 1;
}

/* Runs one call and records it (see buffered). */
static int record_call(struct trr_hdr *h, struct call *c, long *res, int *signal_point) {
  h->busy = 1;
  barrier();
  if (h->force_traced || h->disabled || h->count >= TRR_MAX_RECORDS) {
    h->busy = 0;
    return 0;
  }
  size_t need = (sizeof(struct trr_rec) + c->out_max + 7) & ~(size_t)7;
  if (need > h->capacity - h->used) {
    h->busy = 0;
    return 0;
  }
  /* Bytes of a fixed length are hashed before the call, as replay checks them before it gives the results back. */
  uint64_t pre = c->sent && !c->sent_by_result ? sent_hash(c, 0) : 0;
  long r = UNTRACED(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
  struct trr_rec *rec = rec_at(h, h->used);
  rec->nr = (uint32_t)c->nr;
  for (int i = 0; i < 6; i++)
    rec->args[i] = i < c->nargs ? (uint64_t)c->args[i] : 0;
  rec->result = r;
  rec->hash = 0;
  rec->flags = 0;
  size_t out = 0;
  if (c->out && r >= 0)
    out = c->out_by_result ? (size_t)r : (r == 0 ? c->out_max : 0);
  if (out > c->out_max)
    out = c->out_max;
  rec->data_len = (uint32_t)out;
  if (out && c->iov_out)
    copy_iov(c->iov, c->iovcnt, (char *)rec + sizeof *rec, out, 0);
  else if (out)
    memcpy((char *)rec + sizeof *rec, c->out, out);
  if (c->sent)
    rec->hash = c->sent_by_result ? sent_hash(c, r) : pre;
  rec->size = (uint32_t)((sizeof *rec + out + 7) & ~(size_t)7);
  barrier();
  h->used += rec->size;
  h->count++;
  barrier();
  h->busy = 0;
  *res = r;
  barrier();
  /*
   * trr held a signal back for this thread while it ran the call (it
   * arrived during the syscall, or just before it): deliver it before the
   * program goes on, as the kernel would have at the call's return.
   */
  if (h->force_traced) {
    rec->flags = TRR_REC_SIGNAL_POINT;
    *signal_point = 1;
  }
  return 1;
}

/*
 * Runs or replays one call. Returns 1 with *res set when it was buffered,
 * 0 when the caller must go to libc (a traced syscall). A record marked
 * TRR_REC_SIGNAL_POINT is followed by the traced TRR_CALL_SIGNAL, in
 * record and replay alike, from this one call site (the same stack
 * pointer in both).
 */
static int buffered(struct trr_hdr *h, struct call *c, long *res) {
  int signal_point = 0;
  int ok = recording(h) ? record_call(h, c, res, &signal_point) : replay_call(h, c, res, &signal_point);
  if (signal_point)
    trr_signal_point();
  return ok;
}

/* buffered() for a call that sends a path: the kernel reads its bytes, which are hashed and checked in replay. */
static int buffered_path(struct trr_hdr *h, struct call *c, const char *path, long *res) {
  c->sent = path;
  c->sent_len = strlen(path) + 1;
  return buffered(h, c, res);
}

static long ret_errno(long r) {
  if (r < 0 && r > -4096) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

/*
 * In recording: is fd a regular file that is not trr's own stdout/stderr?
 * (an untraced fstat, not recorded). writing == 2: a directory as well
 * (close, closedir's).
 */
static int plain_file(struct trr_hdr *h, int fd, int writing) {
  if (!recording(h))
    return 1; /* replay follows the records */
  if (h->disabled || h->force_traced)
    return 0; /* not even the fstat below: the program's own seccomp filter may forbid it */
  struct stat st;
  if (UNTRACED(SYS_fstat, fd, &st, 0, 0, 0, 0) != 0)
    return 0;
  if (writing == 2)
    return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
  if (!S_ISREG(st.st_mode))
    return 0;
  if (writing) {
    if (h->no_writes)
      return 0;
    /* A write into /proc (a process's mem file above all) acts beyond the file: trr must see it. */
    struct statfs sfs;
    if (UNTRACED(SYS_fstatfs, fd, &sfs, 0, 0, 0, 0) != 0 || sfs.f_type == 0x9fa0 /* PROC_SUPER_MAGIC */)
      return 0;
    for (int i = 0; i < 2; i++)
      if (h->out_ino[i] && h->out_ino[i] == (uint64_t)st.st_ino && h->out_dev[i] == (uint64_t)st.st_dev)
        return 0;
  }
  return 1;
}

/*
 * The exported functions are thunks: they call the implementation, then
 * clear the scratch registers before returning to the program. The record
 * and replay paths leave different values in them, and a program may pass
 * such leftovers on as unused syscall arguments (fcntl(fd, F_GETFL) passes
 * whatever rdx holds), which replay compares with the recording. They also
 * zero the 2 KiB of stack below the return address, where the two paths
 * leave different dead bytes that the program's later frames may not
 * overwrite: replay compares the thread's live stack with the recording's
 * at asynchronous points (src/task/fingerprint.ts).
 */
#define IMPL(name) __attribute__((visibility("hidden"))) trr_impl_##name
#define THUNK(name)                                                   \
  __asm__(".text\n.globl " #name "\n.type " #name ", @function\n" #name ":\n" \
          "  .cfi_startproc\n  sub $8, %rsp\n  .cfi_adjust_cfa_offset 8\n"       \
          "  call trr_impl_" #name "\n  add $8, %rsp\n  .cfi_adjust_cfa_offset -8\n" \
          "  mov %rax, %r11\n  lea -2048(%rsp), %rdi\n  mov $256, %ecx\n  xor %eax, %eax\n" \
          "  rep stosq\n  mov %r11, %rax\n"                                     \
          "  xor %ecx, %ecx\n  xor %edx, %edx\n  xor %esi, %esi\n  xor %edi, %edi\n" \
          "  xor %r8d, %r8d\n  xor %r9d, %r9d\n  xor %r10d, %r10d\n  xor %r11d, %r11d\n" \
          "  ret\n  .cfi_endproc\n.size " #name ", .-" #name "\n")

/* A second name for an exported function (struct stat64 is struct stat on x86-64). */
#define ALSO_AS(impl, name) __asm__(".globl " #name "\n.type " #name ", @function\n.set " #name ", " #impl)

/* The exported function's call, buffered by the rules of buffer_raw. */
#define RAW(nr, ...) buffer_raw((nr), (const long[6]){__VA_ARGS__}, &r)

#define SIMPLE(name, type)                              \
  type IMPL(name)(void) {                               \
    long r;                                             \
    if (RAW(SYS_##name, 0))                             \
      return (type)r;                                   \
    return (type)FORWARD(name, 0, 0, 0, 0);             \
  }                                                     \
  THUNK(name);
SIMPLE(getpid, pid_t)
SIMPLE(getppid, pid_t)
SIMPLE(gettid, pid_t)
SIMPLE(getuid, uid_t)
SIMPLE(geteuid, uid_t)
SIMPLE(getgid, gid_t)
SIMPLE(getegid, gid_t)

ssize_t IMPL(read)(int fd, void *buf, size_t n) {
  long r;
  if (RAW(SYS_read, fd, (long)buf, (long)n))
    return ret_errno(r);
  return (ssize_t)FORWARD(read, fd, buf, n, 0);
}
THUNK(read);

ssize_t IMPL(pread64)(int fd, void *buf, size_t n, off_t off) {
  long r;
  if (RAW(SYS_pread64, fd, (long)buf, (long)n, off))
    return ret_errno(r);
  return (ssize_t)FORWARD(pread, fd, buf, n, off);
}
THUNK(pread64);
ALSO_AS(pread64, pread);

ssize_t IMPL(write)(int fd, const void *buf, size_t n) {
  long r;
  if (RAW(SYS_write, fd, (long)buf, (long)n))
    return ret_errno(r);
  return (ssize_t)FORWARD(write, fd, buf, n, 0);
}
THUNK(write);

ssize_t IMPL(pwrite64)(int fd, const void *buf, size_t n, off_t off) {
  long r;
  if (RAW(SYS_pwrite64, fd, (long)buf, (long)n, off))
    return ret_errno(r);
  return (ssize_t)FORWARD(pwrite, fd, buf, n, off);
}
THUNK(pwrite64);
ALSO_AS(pwrite64, pwrite);

off_t IMPL(lseek64)(int fd, off_t off, int whence) {
  long r;
  if (RAW(SYS_lseek, fd, off, whence))
    return ret_errno(r);
  return (off_t)FORWARD(lseek, fd, off, whence, 0);
}
THUNK(lseek64);
ALSO_AS(lseek64, lseek);

int IMPL(close)(int fd) {
  long r;
  if (RAW(SYS_close, fd))
    return (int)ret_errno(r);
  return (int)FORWARD(close, fd, 0, 0, 0);
}
THUNK(close);


int IMPL(fstat)(int fd, struct stat *st) {
  long r;
  if (RAW(SYS_fstat, fd, (long)st))
    return (int)ret_errno(r);
  return (int)FORWARD(fstat, fd, st, 0, 0);
}
THUNK(fstat);
ALSO_AS(fstat, fstat64);

int IMPL(fstatat)(int dirfd, const char *path, struct stat *st, int flags) {
  long r;
  if (RAW(SYS_newfstatat, dirfd, (long)path, (long)st, flags))
    return (int)ret_errno(r);
  return (int)FORWARD(fstatat, dirfd, path, st, flags);
}
THUNK(fstatat);
ALSO_AS(fstatat, fstatat64);

int IMPL(stat)(const char *path, struct stat *st) { return trr_impl_fstatat(AT_FDCWD, path, st, 0); }
ALSO_AS(stat, stat64);
int IMPL(lstat)(const char *path, struct stat *st) { return trr_impl_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); }
ALSO_AS(lstat, lstat64);

int IMPL(clock_gettime)(clockid_t clk, struct timespec *ts) {
  struct trr_hdr *h = thread_buf();
  struct call c = {.nr = SYS_clock_gettime, .nargs = 2, .args = {clk, (long)ts}, .out = ts, .out_max = sizeof *ts};
  long r;
  if (h && ts && buffered(h, &c, &r))
    return (int)ret_errno(r);
  return (int)FORWARD(clock_gettime, clk, ts, 0, 0);
}
THUNK(clock_gettime);
THUNK(lstat);
THUNK(stat);

int IMPL(gettimeofday)(struct timeval *tv, void *tz) {
  struct trr_hdr *h = thread_buf();
  struct call c = {.nr = SYS_gettimeofday, .nargs = 2, .args = {(long)tv, (long)tz}, .out = tv, .out_max = sizeof *tv};
  long r;
  if (h && tv && !tz && buffered(h, &c, &r))
    return (int)ret_errno(r);
  return (int)FORWARD(gettimeofday, tv, tz, 0, 0);
}
THUNK(gettimeofday);

/*
 * openat of a regular file or a directory (or of a path that does not
 * exist: the open fails): such opens never block. trr keeps no state of
 * its own about open descriptors (a mapping's file is looked up when it is
 * mapped), so only the kernel's answer needs recording. Opens that may
 * write (O_CREAT, O_TRUNC, write access) are buffered like writes: never
 * while trr follows writes (a file is mapped shared), never onto trr's own
 * stdout or stderr. O_PATH, O_TMPFILE and anything else (devices, FIFOs,
 * sockets, /proc's magic links' targets that are not regular) stay traced.
 */
/* An open that takes a mode: O_CREAT or O_TMPFILE (whose bits include O_DIRECTORY's: __O_TMPFILE is both). */
#define NEEDS_MODE(flags) (((flags) & O_CREAT) || ((flags) & __O_TMPFILE) == __O_TMPFILE)
static int open_bufferable(struct trr_hdr *h, int dirfd, const char *path, int flags) {
  if (!path)
    return 0;
  if (!recording(h))
    return 1; /* replay follows the records */
  if (h->disabled || h->force_traced)
    return 0;
  if ((flags & O_PATH) || (flags & __O_TMPFILE) == __O_TMPFILE)
    return 0;
  int writing = (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC));
  if (writing && h->no_writes)
    return 0;
  struct stat st;
  long r = UNTRACED(SYS_newfstatat, dirfd, path, &st, (flags & O_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0, 0, 0);
  if (r == -ENOENT)
    return 1; /* it fails, or O_CREAT creates a regular file */
  if (r == -ENOTDIR)
    return 1;
  if (r != 0)
    return 0;
  if (S_ISDIR(st.st_mode))
    return !writing;
  if (!S_ISREG(st.st_mode))
    return 0;
  if (writing)
    for (int i = 0; i < 2; i++)
      if (h->out_ino[i] && h->out_ino[i] == (uint64_t)st.st_ino && h->out_dev[i] == (uint64_t)st.st_dev)
        return 0;
  return 1;
}

/* In recording: is fd a directory? (getdents64 of a directory never blocks; an untraced fstat, not recorded) */
static int dir_fd(struct trr_hdr *h, int fd) {
  if (!recording(h))
    return 1;
  if (h->disabled || h->force_traced)
    return 0;
  struct stat st;
  return UNTRACED(SYS_fstat, fd, &st, 0, 0, 0, 0) == 0 && S_ISDIR(st.st_mode);
}

#define IOV_MAX_BUFFERED 64
static size_t iov_total(const struct iovec *iov, int cnt) {
  size_t n = 0;
  for (int i = 0; i < cnt; i++)
    n += iov[i].iov_len;
  return n;
}

/*
 * The buffering rules, by syscall number, on the kernel's arguments: the
 * one place both ways into the buffer use (the exported functions below,
 * and libc's patched syscall instructions, trr_patch.c). Returns 1 with
 * the kernel's result (or -errno) in *res when the call was buffered; 0
 * when it must be a traced syscall.
 */
static int buffer_raw(long nr, const long *a, long *res) {
  struct trr_hdr *h = thread_buf();
  if (!h)
    return 0;
  struct call c = {.nr = nr};
  for (int i = 0; i < 6; i++)
    c.args[i] = a[i];
  switch (nr) {
  case SYS_getpid:
  case SYS_getppid:
  case SYS_gettid:
  case SYS_getuid:
  case SYS_geteuid:
  case SYS_getgid:
  case SYS_getegid:
    return buffered(h, &c, res);
  case SYS_read:
  case SYS_pread64:
    c.nargs = nr == SYS_read ? 3 : 4;
    c.out = (void *)a[1];
    c.out_max = (size_t)a[2];
    c.out_by_result = 1;
    return plain_file(h, (int)a[0], 0) && buffered(h, &c, res);
  case SYS_write:
  case SYS_pwrite64:
    c.nargs = nr == SYS_write ? 3 : 4;
    c.sent = (const void *)a[1];
    c.sent_by_result = 1;
    return plain_file(h, (int)a[0], 1) && buffered(h, &c, res);
  case SYS_lseek:
    c.nargs = 3;
    return buffered(h, &c, res);
  case SYS_close:
    c.nargs = 1;
    return plain_file(h, (int)a[0], 2) && buffered(h, &c, res);
  case SYS_fsync:
  case SYS_fdatasync:
    c.nargs = 1;
    return plain_file(h, (int)a[0], 0) && buffered(h, &c, res);
  case SYS_fchown:
    c.nargs = 3;
    return plain_file(h, (int)a[0], 0) && buffered(h, &c, res);
  case SYS_fstat:
    c.nargs = 2;
    c.out = (void *)a[1];
    c.out_max = sizeof(struct stat);
    return buffered(h, &c, res);
  case SYS_newfstatat:
    c.nargs = 4;
    c.out = (void *)a[2];
    c.out_max = sizeof(struct stat);
    return a[1] && buffered_path(h, &c, (const char *)a[1], res);
  case SYS_openat:
    c.nargs = 4;
    if (!NEEDS_MODE(a[2]))
      c.args[3] = 0; /* the mode is not used */
    return open_bufferable(h, (int)a[0], (const char *)a[1], (int)a[2]) && buffered_path(h, &c, (const char *)a[1], res);
  case SYS_unlinkat:
    c.nargs = 3;
    return a[1] && buffered_path(h, &c, (const char *)a[1], res);
  case SYS_fcntl:
    /* Descriptor flags, status flags (read), and the non-waiting record locks (sqlite takes them around every transaction). */
    c.nargs = 3;
    switch ((int)a[1]) {
    case F_GETFD:
    case F_GETFL:
      c.args[2] = 0; /* the argument is not used: 0 in the record */
      break;
    case F_SETFD:
      c.args[2] = (int)a[2];
      break;
    case F_GETLK:
    case F_OFD_GETLK:
      c.out = (void *)a[2];
      c.out_max = sizeof(struct flock);
      /* fall through */
    case F_SETLK:
    case F_OFD_SETLK:
      c.sent = (const void *)a[2];
      c.sent_len = sizeof(struct flock);
      break;
    default:
      return 0;
    }
    return plain_file(h, (int)a[0], 0) && buffered(h, &c, res);
  case SYS_readv:
  case SYS_writev: {
    /* As read and write, the data in pieces: at most 64 pieces, at most 64 KiB read. */
    const struct iovec *iov = (const struct iovec *)a[1];
    int cnt = (int)a[2];
    c.nargs = 3;
    c.iov = iov;
    c.iovcnt = cnt;
    if (!iov || cnt <= 0 || cnt > IOV_MAX_BUFFERED)
      return 0;
    if (nr == SYS_readv) {
      c.iov_out = 1;
      c.out = (void *)iov;
      c.out_by_result = 1;
      if ((c.out_max = iov_total(iov, cnt)) > (1 << 16))
        return 0;
      return plain_file(h, (int)a[0], 0) && buffered(h, &c, res);
    }
    c.sent = iov;
    c.sent_by_result = 1;
    return plain_file(h, (int)a[0], 1) && buffered(h, &c, res);
  }
  case SYS_getdents64:
    /* Of a directory (opendir/readdir's calls inside libc): at most 64 KiB. */
    c.nargs = 3;
    c.out = (void *)a[1];
    c.out_max = (unsigned)a[2];
    c.out_by_result = 1;
    return c.out_max <= (1 << 16) && dir_fd(h, (int)a[0]) && buffered(h, &c, res);
  case SYS_ioctl:
    /* TCGETS of a regular file fails with ENOTTY (isatty, tcgetattr). */
    c.nargs = 3;
    c.out = (void *)a[2];
    c.out_max = 36; /* struct termios as the kernel writes it */
    return (unsigned)a[1] == TCGETS && plain_file(h, (int)a[0], 0) && buffered(h, &c, res);
  case SYS_getcwd:
    c.nargs = 2;
    c.out = (void *)a[0];
    c.out_max = (size_t)a[1];
    c.out_by_result = 1;
    return a[0] && a[1] > 0 && a[1] <= (1 << 16) && buffered(h, &c, res);
  case SYS_rt_sigaction:
    /* A query (no new action) of the kernel's 8-byte mask; libc's own signals (32, 33) stay traced. */
    c.nargs = 4;
    c.out = (void *)a[2];
    c.out_max = sizeof(struct trr_ksigaction);
    return !a[1] && a[2] && a[3] == 8 && a[0] >= 1 && a[0] <= 64 && a[0] != 32 && a[0] != 33 && buffered(h, &c, res);
  }
  return 0;
}

TRR_HIDDEN int trr_patchable_nr(long nr) {
  switch (nr) {
  case SYS_getpid: case SYS_getppid: case SYS_gettid: case SYS_getuid: case SYS_geteuid: case SYS_getgid:
  case SYS_getegid: case SYS_read: case SYS_pread64: case SYS_write: case SYS_pwrite64: case SYS_lseek:
  case SYS_close: case SYS_fsync: case SYS_fdatasync: case SYS_fchown: case SYS_fstat: case SYS_newfstatat:
  case SYS_openat: case SYS_unlinkat: case SYS_fcntl: case SYS_readv: case SYS_writev: case SYS_getdents64:
  case SYS_ioctl: case SYS_getcwd: case SYS_rt_sigaction:
    return 1;
  }
  return 0;
}

TRR_HIDDEN int trr_patch_dispatch(long *frame) {
  long r;
  if (!buffer_raw(frame[0], frame + 1, &r))
    return 0;
  frame[0] = r;
  return 1;
}

TRR_HIDDEN int trr_buffering(void) { return thread_buf() != NULL; }

int IMPL(openat)(int dirfd, const char *path, int flags, ...) {
  long fmode = 0;
  if (NEEDS_MODE(flags)) {
    va_list ap;
    va_start(ap, flags);
    fmode = (long)va_arg(ap, unsigned int);
    va_end(ap);
  }
  long r;
  if (RAW(SYS_openat, dirfd, (long)path, flags, fmode))
    return (int)ret_errno(r);
  return (int)FORWARD(openat, dirfd, path, flags, fmode);
}
THUNK(openat);
ALSO_AS(openat, openat64);
int IMPL(open)(const char *path, int flags, ...) {
  long fmode = 0;
  if (NEEDS_MODE(flags)) {
    va_list ap;
    va_start(ap, flags);
    fmode = (long)va_arg(ap, unsigned int);
    va_end(ap);
  }
  return trr_impl_openat(AT_FDCWD, path, flags, fmode);
}
THUNK(open);
ALSO_AS(open, open64);
/* _FORTIFY_SOURCE's checked opens (no mode argument: O_CREAT is refused by them at compile time). */
int IMPL(__open_2)(const char *path, int flags) { return trr_impl_openat(AT_FDCWD, path, flags, 0); }
THUNK(__open_2);
ALSO_AS(__open_2, __open64_2);
int IMPL(__openat_2)(int dirfd, const char *path, int flags) { return trr_impl_openat(dirfd, path, flags, 0); }
THUNK(__openat_2);
ALSO_AS(__openat_2, __openat64_2);

/*
 * fcntl of a regular file, for the commands that never block and that trr
 * does not follow: descriptor flags, status flags (read), and the
 * non-waiting record locks (sqlite takes them around every transaction).
 */
int IMPL(fcntl)(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);
  va_end(ap);
  long r;
  if (RAW(SYS_fcntl, fd, cmd, arg))
    return (int)ret_errno(r);
  return (int)FORWARD(fcntl, fd, cmd, arg, 0);
}
THUNK(fcntl);
ALSO_AS(fcntl, fcntl64);

#define FD_ONLY(name)                                   \
  int IMPL(name)(int fd) {                              \
    long r;                                             \
    if (RAW(SYS_##name, fd))                            \
      return (int)ret_errno(r);                         \
    return (int)FORWARD(name, fd, 0, 0, 0);             \
  }                                                     \
  THUNK(name);
/* fsync and fdatasync of a regular file wait for the disk, never for another process. */
FD_ONLY(fsync)
FD_ONLY(fdatasync)

int IMPL(fchown)(int fd, uid_t uid, gid_t gid) {
  long r;
  if (RAW(SYS_fchown, fd, (long)uid, (long)gid))
    return (int)ret_errno(r);
  return (int)FORWARD(fchown, fd, uid, gid, 0);
}
THUNK(fchown);

int IMPL(unlinkat)(int dirfd, const char *path, int flags) {
  long r;
  if (RAW(SYS_unlinkat, dirfd, (long)path, flags))
    return (int)ret_errno(r);
  return (int)FORWARD(unlinkat, dirfd, path, flags, 0);
}
THUNK(unlinkat);
/* unlink(p) is unlinkat(AT_FDCWD, p, 0) to the kernel: recorded as that. */
int IMPL(unlink)(const char *path) { return trr_impl_unlinkat(AT_FDCWD, path, 0); }
THUNK(unlink);

/* readv/writev of a regular file: as read and write, the data in pieces. At most 64 pieces, at most 64 KiB read. */

ssize_t IMPL(readv)(int fd, const struct iovec *iov, int cnt) {
  long r;
  if (RAW(SYS_readv, fd, (long)iov, cnt))
    return ret_errno(r);
  return (ssize_t)FORWARD(readv, fd, iov, cnt, 0);
}
THUNK(readv);

ssize_t IMPL(writev)(int fd, const struct iovec *iov, int cnt) {
  long r;
  if (RAW(SYS_writev, fd, (long)iov, cnt))
    return ret_errno(r);
  return (ssize_t)FORWARD(writev, fd, iov, cnt, 0);
}
THUNK(writev);

/*
 * isatty of a regular file: its TCGETS ioctl never blocks and fails with
 * ENOTTY (Python asks it of every file it opens). Other descriptors go to
 * libc, whose ioctl is traced.
 */
int IMPL(isatty)(int fd) {
  struct trr_hdr *h = thread_buf();
  unsigned char kt[36]; /* struct termios as the kernel writes it (TCGETS) */
  struct call c = {.nr = SYS_ioctl, .nargs = 3, .args = {fd, TCGETS, (long)kt}, .out = kt, .out_max = sizeof kt};
  long r;
  if (h && plain_file(h, fd, 0) && buffered(h, &c, &r)) {
    if (r == 0)
      return 1;
    errno = (int)-r;
    return 0;
  }
  return (int)FORWARD(isatty, fd, 0, 0, 0);
}
THUNK(isatty);

/*
 * getcwd into the caller's buffer (a NULL buffer, which libc allocates, goes
 * to libc). The kernel's answer is the path's length with its NUL; a path
 * that is not reachable from the root, or that does not fit, makes libc try
 * its own way, so those go on to libc after the buffered call, whose record
 * replay hands back in the same order.
 */
__attribute__((visibility("hidden"))) char *trr_impl_getcwd(char *buf, size_t size) {
  struct trr_hdr *h = thread_buf();
  struct call c = {.nr = SYS_getcwd, .nargs = 2, .args = {(long)buf, (long)size}, .out = buf, .out_max = size, .out_by_result = 1};
  long r;
  if (h && buf && size > 0 && size <= (1 << 16) && buffered(h, &c, &r)) {
    if (r > 0 && buf[0] == '/')
      return buf;
    if (r < 0 && r != -ENAMETOOLONG) {
      errno = (int)-r;
      return NULL;
    }
  }
  return (char *)FORWARD(getcwd, buf, size, 0, 0);
}
THUNK(getcwd);

/*
 * sigaction(sig, NULL, &old): a query, which changes nothing trr follows
 * (Python asks for every signal's action at start-up). The kernel's struct
 * is converted as libc does; the rest of the caller's 128-byte mask, which
 * the kernel's 8 bytes do not cover, is zeroed. Anything that sets an
 * action, and libc's own signals (32, 33), go to libc.
 */
int IMPL(sigaction)(int sig, const struct sigaction *act, struct sigaction *old) {
  struct trr_hdr *h = thread_buf();
  struct trr_ksigaction k;
  struct call c = {.nr = SYS_rt_sigaction, .nargs = 4, .args = {sig, 0, (long)&k, 8}, .out = &k, .out_max = sizeof k};
  long r;
  if (h && !act && old && sig >= 1 && sig <= 64 && sig != 32 && sig != 33 && buffered(h, &c, &r)) {
    if (r < 0) {
      errno = (int)-r;
      return -1;
    }
    memset(old, 0, sizeof *old);
    old->sa_handler = (void (*)(int))k.handler;
    memcpy(&old->sa_mask, &k.mask, sizeof k.mask);
    old->sa_flags = (int)k.flags;
    old->sa_restorer = (void (*)(void))k.restorer;
    return 0;
  }
  return (int)FORWARD(sigaction, sig, act, old, 0);
}
THUNK(sigaction);
