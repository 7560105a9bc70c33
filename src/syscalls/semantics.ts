// What each supported x86-64 syscall means to record and replay: which user
// memory the kernel writes (recorded at the syscall's exit and written back
// in replay), which bytes a write-family call sends (hashed to detect
// divergence, and echoed when they went to stdout/stderr), whether it may
// block (so the recorder lets other threads run), and how replay treats it:
//   emulate   replay skips it and sets the recorded result and memory
//   execute   replay runs it for real (it changes the address space or the
//             task itself) and checks the result against the recording
//   override  replay runs it for real, then sets the recorded result/memory
//   special   the sessions handle it themselves (exec, clone, mmap, exit...)
// A syscall absent from this table is unsupported: the recorder answers it
// with ENOSYS without running it, and says so.
import type { AddressSpace } from '../task/task.js';
import { SYSCALL_NUMBERS } from './table.generated.js';
import { ioctlOutputs } from './ioctl.js';
import { CLONE } from '../task/kernel-abi.js';

export { ioctlKnown, ioctlOutputSize } from './ioctl.js';

export type ReplayPolicy = 'emulate' | 'execute' | 'override' | 'special';
export type Range = readonly [addr: bigint, len: number];

export interface SyscallSemantics {
  readonly policy: ReplayPolicy;
  readonly mayBlock?: boolean;
  /** Facts read at entry that the exit needs (e.g. in/out length fields). */
  atEntry?(mem: AddressSpace, args: readonly bigint[]): unknown;
  /** Memory the kernel wrote, given the result (only called when result >= 0 unless `outputsOnError`). */
  outputs?(mem: AddressSpace, args: readonly bigint[], result: bigint, entry: unknown): Range[];
  readonly outputsOnError?: boolean;
  /** For write-family calls: the bytes sent, given the result. */
  sent?(mem: AddressSpace, args: readonly bigint[], result: bigint): Range[];
  /** Argument index holding the fd whose target decides stdout/stderr echo. */
  readonly fdArg?: number;
}

/**
 * The syscall a thread's restart_syscall continues: the kernel keeps it (its
 * restart block) when a syscall returns -ERESTART_RESTARTBLOCK, and
 * restart_syscall writes what that syscall would have written.
 */
export interface RestartOf {
  readonly nr: number;
  readonly sem: SyscallSemantics;
  readonly args: readonly bigint[];
  readonly entry: unknown;
}

const n = (v: bigint) => Number(v);
const i32 = (v: bigint) => Number(BigInt.asIntN(32, v));
const fixed = (argIndex: number, size: number): SyscallSemantics['outputs'] => (_m, a) => (a[argIndex] ? [[a[argIndex]!, size]] : []);
const byResult = (argIndex: number): SyscallSemantics['outputs'] => (_m, a, r) => (a[argIndex] && r > 0n ? [[a[argIndex]!, n(r)]] : []);

export function readIovecs(mem: AddressSpace, iovPtr: bigint, count: number): Range[] {
  if (count <= 0 || iovPtr === 0n) return [];
  const raw = mem.read(iovPtr, Math.min(count, 1024) * 16);
  const out: Range[] = [];
  for (let i = 0; i < raw.length; i += 16) out.push([raw.readBigUInt64LE(i), Number(raw.readBigUInt64LE(i + 8))]);
  return out;
}

/** The first `total` bytes of a list of iovecs. */
export function clipRanges(ranges: readonly Range[], total: number): Range[] {
  const out: Range[] = [];
  let left = total;
  for (const [a, l] of ranges) {
    if (left <= 0) break;
    const take = Math.min(l, left);
    if (take > 0) out.push([a, take]);
    left -= take;
  }
  return out;
}

const iovByResult = (iovArg: number, cntArg: number): SyscallSemantics['outputs'] => (m, a, r) =>
  r > 0n ? clipRanges(readIovecs(m, a[iovArg]!, n(a[cntArg]!)), n(r)) : [];

/**
 * A (sockaddr *, socklen_t *) pair: in-length read at entry, out-length at
 * exit. The kernel writes the length even when the address is NULL (with an
 * in-length of 0, getsockname then only reports the size).
 */
const sockaddrAt = (addrArg: number, lenArg: number) => ({
  atEntry: (m: AddressSpace, a: readonly bigint[]) => (a[lenArg] ? m.readU32(a[lenArg]!) : 0),
  outputs: (m: AddressSpace, a: readonly bigint[], _r: bigint, inLen: unknown): Range[] => {
    if (!a[lenArg]) return [];
    const out: Range[] = [[a[lenArg]!, 4]];
    if (a[addrArg]) out.push([a[addrArg]!, Math.min(m.readU32(a[lenArg]!), inLen as number)]);
    return out;
  },
});

const MSGHDR = 56;
function msghdrOutputs(m: AddressSpace, hdr: bigint, total: number, inLens: { name: number; control: number }): Range[] {
  const h = m.read(hdr, MSGHDR);
  const name = h.readBigUInt64LE(0);
  const nameLen = h.readUInt32LE(8);
  const iov = h.readBigUInt64LE(16);
  const iovLen = Number(h.readBigUInt64LE(24));
  const control = h.readBigUInt64LE(32);
  const controlLen = Number(h.readBigUInt64LE(40));
  const out: Range[] = [[hdr, MSGHDR]];
  if (name && nameLen) out.push([name, Math.min(nameLen, inLens.name)]);
  if (control && controlLen) out.push([control, Math.min(controlLen, inLens.control)]);
  out.push(...clipRanges(readIovecs(m, iov, iovLen), total));
  return out;
}
const msghdrInLens = (m: AddressSpace, hdr: bigint) => {
  const h = m.read(hdr, MSGHDR);
  return { name: h.readUInt32LE(8), control: Number(h.readBigUInt64LE(40)) };
};

const FD_SET_BYTES = (nfds: number) => Math.ceil(Math.max(0, Math.min(nfds, 65536)) / 64) * 8;

/** select/pselect6: the three fd sets it rewrites and the remaining time. */
const selectOutputs: SyscallSemantics['outputs'] = (_m, a) => {
  const sz = FD_SET_BYTES(n(a[0]!));
  const out: Range[] = [];
  for (const i of [1, 2, 3]) if (a[i] && sz) out.push([a[i]!, sz]);
  if (a[4]) out.push([a[4]!, 16]);
  return out;
};

const emulate = (s: Partial<SyscallSemantics> = {}): SyscallSemantics => ({ policy: 'emulate', ...s });
const execute: SyscallSemantics = { policy: 'execute' };
const special = (s: Partial<SyscallSemantics> = {}): SyscallSemantics => ({ policy: 'special', ...s });
const blocking = (s: Partial<SyscallSemantics> = {}): SyscallSemantics => ({ policy: 'emulate', mayBlock: true, ...s });
const sentByResult = (bufArg: number): SyscallSemantics['sent'] => (_m, a, r) => (r > 0n ? [[a[bufArg]!, n(r)]] : []);

const TABLE: Record<string, SyscallSemantics> = {
  // ---- files and directories
  read: blocking({ outputs: byResult(1) }),
  pread64: emulate({ outputs: byResult(1) }),
  readv: blocking({ outputs: iovByResult(1, 2) }),
  preadv: emulate({ outputs: iovByResult(1, 2) }),
  preadv2: emulate({ outputs: iovByResult(1, 2) }),
  write: blocking({ sent: sentByResult(1), fdArg: 0 }),
  pwrite64: emulate({ sent: sentByResult(1), fdArg: 0 }),
  writev: blocking({ sent: (m, a, r) => clipRanges(readIovecs(m, a[1]!, n(a[2]!)), n(r)), fdArg: 0 }),
  pwritev: emulate({ sent: (m, a, r) => clipRanges(readIovecs(m, a[1]!, n(a[2]!)), n(r)), fdArg: 0 }),
  pwritev2: emulate({ sent: (m, a, r) => clipRanges(readIovecs(m, a[1]!, n(a[2]!)), n(r)), fdArg: 0 }),
  open: blocking(),
  openat: blocking(),
  openat2: blocking(),
  creat: emulate(),
  close: emulate(),
  close_range: emulate(),
  lseek: emulate(),
  stat: emulate({ outputs: fixed(1, 144) }),
  fstat: emulate({ outputs: fixed(1, 144) }),
  lstat: emulate({ outputs: fixed(1, 144) }),
  newfstatat: emulate({ outputs: fixed(2, 144) }),
  statx: emulate({ outputs: fixed(4, 256) }),
  statfs: emulate({ outputs: fixed(1, 120) }),
  fstatfs: emulate({ outputs: fixed(1, 120) }),
  getdents64: emulate({ outputs: byResult(1) }),
  getdents: emulate({ outputs: byResult(1) }),
  access: emulate(),
  faccessat: emulate(),
  faccessat2: emulate(),
  readlink: emulate({ outputs: byResult(1) }),
  readlinkat: emulate({ outputs: byResult(2) }),
  getcwd: emulate({ outputs: byResult(0) }),
  chdir: emulate(),
  fchdir: emulate(),
  unlink: emulate(),
  unlinkat: emulate(),
  rename: emulate(),
  renameat: emulate(),
  renameat2: emulate(),
  mkdir: emulate(),
  mkdirat: emulate(),
  rmdir: emulate(),
  link: emulate(),
  linkat: emulate(),
  symlink: emulate(),
  symlinkat: emulate(),
  chmod: emulate(),
  fchmod: emulate(),
  fchmodat: emulate(),
  chown: emulate(),
  fchown: emulate(),
  lchown: emulate(),
  fchownat: emulate(),
  utimensat: emulate(),
  utime: emulate(),
  utimes: emulate(),
  futimesat: emulate(),
  truncate: emulate(),
  ftruncate: emulate(),
  fallocate: emulate(),
  fadvise64: emulate(),
  fsync: emulate(),
  fdatasync: emulate(),
  sync: emulate(),
  syncfs: emulate(),
  sync_file_range: emulate(),
  flock: blocking(),
  umask: emulate(),
  dup: emulate(),
  dup2: emulate(),
  dup3: emulate(),
  fcntl: blocking({
    outputs: (_m, a) => {
      const cmd = i32(a[1]!);
      if (cmd === 5 || cmd === 36) return [[a[2]!, 32]]; // F_GETLK, F_OFD_GETLK
      if (cmd === 16) return [[a[2]!, 8]]; // F_GETOWN_EX
      if (cmd === 1035 || cmd === 1037) return [[a[2]!, 8]]; // F_GET_RW_HINT, F_GET_FILE_RW_HINT: a u64
      return [];
    },
  }),
  ioctl: emulate({ outputs: (m, a) => ioctlOutputs(m, i32(a[1]!) >>> 0, a[2]!) }),
  getxattr: emulate({ outputs: byResult(2) }),
  lgetxattr: emulate({ outputs: byResult(2) }),
  fgetxattr: emulate({ outputs: byResult(2) }),
  listxattr: emulate({ outputs: byResult(1) }),
  llistxattr: emulate({ outputs: byResult(1) }),
  flistxattr: emulate({ outputs: byResult(1) }),
  setxattr: emulate(),
  fsetxattr: emulate(),
  lsetxattr: emulate(),
  removexattr: emulate(),
  sendfile: blocking({ outputs: fixed(2, 8) }),
  copy_file_range: emulate({ outputs: (_m, a) => [...(a[1] ? [[a[1], 8] as const] : []), ...(a[3] ? [[a[3], 8] as const] : [])] }),
  splice: blocking({ outputs: (_m, a) => [...(a[1] ? [[a[1], 8] as const] : []), ...(a[3] ? [[a[3], 8] as const] : [])] }),
  tee: blocking(),
  memfd_create: emulate(),
  inotify_init1: emulate(),
  inotify_add_watch: emulate(),
  inotify_rm_watch: emulate(),
  mknod: emulate(),
  mknodat: emulate(),
  chroot: emulate(),
  name_to_handle_at: emulate({ outputs: (_m, a) => (a[2] ? [[a[2], 128]] : []) }),
  // ---- memory: replay runs these for real
  mmap: special(),
  munmap: execute,
  mprotect: execute,
  mremap: special(),
  brk: execute,
  madvise: execute,
  msync: emulate(),
  mlock: emulate(),
  munlock: emulate(),
  mlockall: emulate(),
  munlockall: emulate(),
  mincore: emulate({ outputs: (_m, a) => [[a[2]!, Math.ceil(n(a[1]!) / 4096)]] }),
  membarrier: emulate(),
  // ---- time
  clock_gettime: emulate({ outputs: fixed(1, 16) }),
  clock_getres: emulate({ outputs: fixed(1, 16) }),
  gettimeofday: emulate({ outputs: (_m, a) => [...(a[0] ? [[a[0], 16] as const] : []), ...(a[1] ? [[a[1], 8] as const] : [])] }),
  time: emulate({ outputs: fixed(0, 8) }),
  times: emulate({ outputs: fixed(0, 32) }),
  nanosleep: blocking({ outputs: fixed(1, 16), outputsOnError: true }),
  clock_nanosleep: blocking({ outputs: fixed(3, 16), outputsOnError: true }),
  getitimer: emulate({ outputs: fixed(1, 32) }),
  setitimer: emulate({ outputs: fixed(2, 32) }),
  alarm: emulate(),
  timer_create: emulate({ outputs: fixed(2, 4) }),
  timer_settime: emulate({ outputs: fixed(3, 32) }),
  timer_gettime: emulate({ outputs: fixed(1, 32) }),
  timer_getoverrun: emulate(),
  timer_delete: emulate(),
  timerfd_create: emulate(),
  timerfd_settime: emulate({ outputs: fixed(3, 32) }),
  timerfd_gettime: emulate({ outputs: fixed(1, 32) }),
  // ---- randomness
  getrandom: blocking({ outputs: byResult(0) }),
  // ---- pipes, polling, sockets, eventfd
  pipe: emulate({ outputs: fixed(0, 8) }),
  pipe2: emulate({ outputs: fixed(0, 8) }),
  poll: blocking({ outputs: (_m, a) => [[a[0]!, n(a[1]!) * 8]] }),
  ppoll: blocking({ outputs: (_m, a) => [[a[0]!, n(a[1]!) * 8], ...(a[2] ? [[a[2], 16] as const] : [])], outputsOnError: true }),
  select: blocking({ outputs: selectOutputs, outputsOnError: true }),
  pselect6: blocking({ outputs: selectOutputs, outputsOnError: true }),
  epoll_create: emulate(),
  epoll_create1: emulate(),
  epoll_ctl: emulate(),
  epoll_wait: blocking({ outputs: (_m, a, r) => (r > 0n ? [[a[1]!, n(r) * 12]] : []) }),
  epoll_pwait: blocking({ outputs: (_m, a, r) => (r > 0n ? [[a[1]!, n(r) * 12]] : []) }),
  epoll_pwait2: blocking({ outputs: (_m, a, r) => (r > 0n ? [[a[1]!, n(r) * 12]] : []) }),
  eventfd: emulate(),
  eventfd2: emulate(),
  signalfd: emulate(),
  signalfd4: emulate(),
  socket: emulate(),
  socketpair: emulate({ outputs: fixed(3, 8) }),
  bind: emulate(),
  listen: emulate(),
  connect: blocking(),
  accept: blocking(sockaddrAt(1, 2)),
  accept4: blocking(sockaddrAt(1, 2)),
  getsockname: emulate(sockaddrAt(1, 2)),
  getpeername: emulate(sockaddrAt(1, 2)),
  getsockopt: emulate({
    atEntry: (m, a) => (a[4] ? m.readU32(a[4]!) : 0),
    outputs: (m, a, _r, inLen) => (a[4] ? [[a[4]!, 4], ...(a[3] ? [[a[3]!, Math.min(m.readU32(a[4]!), inLen as number)] as const] : [])] : []),
  }),
  setsockopt: emulate(),
  shutdown: emulate(),
  sendto: blocking({ sent: sentByResult(1), fdArg: 0 }),
  sendmsg: blocking({
    sent: (m, a, r) => {
      const h = m.read(a[1]!, MSGHDR);
      return clipRanges(readIovecs(m, h.readBigUInt64LE(16), Number(h.readBigUInt64LE(24))), n(r));
    },
    fdArg: 0,
  }),
  recvfrom: blocking({
    atEntry: (m, a) => (a[4] && a[5] ? m.readU32(a[5]!) : 0),
    outputs: (m, a, r, inLen) => {
      const out: Range[] = r > 0n ? [[a[1]!, n(r)]] : [];
      if (a[4] && a[5]) out.push([a[5]!, 4], [a[4]!, Math.min(m.readU32(a[5]!), inLen as number)]);
      return out;
    },
  }),
  recvmsg: blocking({
    atEntry: (m, a) => msghdrInLens(m, a[1]!),
    outputs: (m, a, r, inLens) => msghdrOutputs(m, a[1]!, n(r), inLens as { name: number; control: number }),
  }),
  sendmmsg: blocking({
    // struct mmsghdr { struct msghdr msg_hdr; unsigned msg_len; } is 64 bytes; msg_len is written for each sent message.
    outputs: (_m, a, r) => Array.from({ length: Math.max(0, n(r)) }, (_, i) => [a[1]! + BigInt(i * 64 + MSGHDR), 4] as const),
    sent: (m, a, r) => {
      const out: Range[] = [];
      for (let i = 0; i < n(r); i++) {
        const base = a[1]! + BigInt(i * 64);
        const h = m.read(base, 64);
        out.push(...clipRanges(readIovecs(m, h.readBigUInt64LE(16), Number(h.readBigUInt64LE(24))), h.readUInt32LE(MSGHDR)));
      }
      return out;
    },
    fdArg: 0,
  }),
  recvmmsg: blocking({
    atEntry: (m, a) => Array.from({ length: Math.min(n(a[2]!), 1024) }, (_, i) => msghdrInLens(m, a[1]! + BigInt(i * 64))),
    outputs: (m, a, r, inLens) => {
      const out: Range[] = [];
      for (let i = 0; i < n(r); i++) {
        const base = a[1]! + BigInt(i * 64);
        const len = m.readU32(base + BigInt(MSGHDR));
        out.push([base + BigInt(MSGHDR), 4], ...msghdrOutputs(m, base, len, (inLens as { name: number; control: number }[])[i]!));
      }
      if (a[4]) out.push([a[4]!, 16]);
      return out;
    },
  }),
  // ---- identity and limits
  uname: emulate({ outputs: fixed(0, 390) }),
  sysinfo: emulate({ outputs: fixed(0, 112) }),
  getpid: emulate(),
  getppid: emulate(),
  gettid: emulate(),
  getuid: emulate(),
  geteuid: emulate(),
  getgid: emulate(),
  getegid: emulate(),
  getresuid: emulate({ outputs: (_m, a) => [[a[0]!, 4], [a[1]!, 4], [a[2]!, 4]] }),
  getresgid: emulate({ outputs: (_m, a) => [[a[0]!, 4], [a[1]!, 4], [a[2]!, 4]] }),
  getgroups: emulate({ outputs: (_m, a, r) => (n(a[0]!) > 0 && r > 0n ? [[a[1]!, n(r) * 4]] : []) }),
  getpgrp: emulate(),
  getpgid: emulate(),
  getsid: emulate(),
  setsid: emulate(),
  setpgid: emulate(),
  setuid: emulate(),
  setgid: emulate(),
  setreuid: emulate(),
  setregid: emulate(),
  setresuid: emulate(),
  setresgid: emulate(),
  setgroups: emulate(),
  getrlimit: emulate({ outputs: fixed(1, 16) }),
  setrlimit: { policy: 'override' },
  prlimit64: { policy: 'override', outputs: fixed(3, 16) },
  getrusage: emulate({ outputs: fixed(1, 144) }),
  getpriority: emulate(),
  setpriority: emulate(),
  sched_getaffinity: emulate({ outputs: byResult(2) }),
  sched_setaffinity: emulate(),
  sched_yield: blocking(),
  sched_getparam: emulate({ outputs: fixed(1, 4) }),
  sched_getscheduler: emulate(),
  sched_setscheduler: emulate(),
  sched_get_priority_max: emulate(),
  sched_get_priority_min: emulate(),
  getcpu: emulate({ outputs: (_m, a) => [...(a[0] ? [[a[0], 4] as const] : []), ...(a[1] ? [[a[1], 4] as const] : [])] }),
  // The kernel writes its own version into the header when the program's is
  // unknown (then fails with EINVAL, or succeeds when data is NULL), and one
  // 12-byte struct per 32 capability bits: 1 for version 1, 2 for versions 2 and 3.
  capget: emulate({
    atEntry: (m, a) => (a[0] ? m.readU32(a[0]!) : 0),
    outputsOnError: true,
    outputs: (_m, a, r, version) => {
      const out: Range[] = a[0] ? [[a[0]!, 4]] : [];
      const structs = version === 0x19980330 ? 1 : version === 0x20071026 || version === 0x20080522 ? 2 : 0;
      if (r === 0n && a[1] && structs) out.push([a[1]!, structs * 12]);
      return out;
    },
  }),
  capset: emulate(),
  personality: { policy: 'override' },
  prctl: { policy: 'override', outputs: (_m, a) => (n(a[0]!) === 16 /* PR_GET_NAME */ ? [[a[1]!, 16]] : []) },
  ioprio_get: emulate(),
  // ---- signals
  rt_sigaction: emulate({ outputs: fixed(2, 32) }),
  rt_sigprocmask: emulate({ outputs: (_m, a) => (a[2] ? [[a[2]!, n(a[3]!) || 8]] : []) }),
  rt_sigpending: emulate({ outputs: (_m, a) => [[a[0]!, n(a[1]!) || 8]] }),
  rt_sigtimedwait: blocking({ outputs: fixed(1, 128) }),
  rt_sigsuspend: blocking(),
  pause: blocking(),
  sigaltstack: emulate({ outputs: fixed(1, 24) }),
  kill: emulate(),
  tkill: emulate(),
  tgkill: emulate(),
  rt_sigqueueinfo: emulate(),
  rt_tgsigqueueinfo: emulate(),
  rt_sigreturn: special(),
  // ---- processes and threads
  // With CLONE.PIDFD the kernel writes the new pidfd (an int) into the parent's
  // memory: at parent_tid for clone, at clone_args.pidfd for clone3. The other
  // tid words are rewritten by replay itself (recorded tids).
  clone: special({ outputs: (_m, a) => ((a[0]! & CLONE.PIDFD) !== 0n && a[2] ? [[a[2]!, 4]] : []) }),
  clone3: special({
    outputs: (m, a) => {
      const ca = m.read(a[0]!, 16);
      const pidfd = ca.readBigUInt64LE(8);
      return (ca.readBigUInt64LE(0) & CLONE.PIDFD) !== 0n && pidfd ? [[pidfd, 4]] : [];
    },
  }),
  fork: special(),
  vfork: special(),
  execve: special(),
  execveat: special(),
  exit: special(),
  exit_group: special(),
  wait4: blocking({ outputs: (_m, a) => [...(a[1] ? [[a[1], 4] as const] : []), ...(a[3] ? [[a[3], 144] as const] : [])] }),
  waitid: blocking({ outputs: (_m, a) => [...(a[2] ? [[a[2], 128] as const] : []), ...(a[4] ? [[a[4], 144] as const] : [])] }),
  futex: {
    policy: 'emulate',
    mayBlock: true,
    outputs: (_m, a) => {
      const op = i32(a[1]!) & 0x7f;
      if (op === 5 /* WAKE_OP */) return [[a[4]!, 4]];
      if (op === 6 || op === 7 || op === 8 || op === 11 || op === 12 || op === 13) return [[a[0]!, 4]]; // PI ops write the word
      return [];
    },
  },
  set_tid_address: { policy: 'override' },
  set_robust_list: execute,
  get_robust_list: emulate({ outputs: (_m, a) => [[a[1]!, 8], [a[2]!, 8]] }),
  arch_prctl: execute,
  setns: emulate(),
  unshare: emulate(),
  pidfd_open: emulate(),
  pidfd_send_signal: emulate(),
  kcmp: emulate(),
  seccomp: execute,
  // The kernel continues a syscall interrupted with -ERESTART_RESTARTBLOCK
  // (nanosleep, clock_nanosleep, poll, futex waits with a timeout) when the
  // signal ran no handler. It blocks like that syscall and writes what it would
  // (nanosleep's remaining time, poll's revents): the recorder passes the
  // interrupted syscall as `entry` (see RestartOf), and those ranges are
  // recorded whatever the result.
  restart_syscall: blocking({
    outputsOnError: true,
    outputs: (m, _a, r, entry) => {
      const of = entry as RestartOf | undefined;
      if (!of?.sem.outputs || (r < 0n && !of.sem.outputsOnError)) return [];
      return of.sem.outputs(m, of.args, r, of.entry);
    },
  }),
};

const BY_NUMBER = new Map<number, SyscallSemantics>();
for (const [name, sem] of Object.entries(TABLE)) {
  const nr = SYSCALL_NUMBERS[name];
  if (nr === undefined) throw new Error(`semantics table names unknown syscall ${name}`);
  BY_NUMBER.set(nr, sem);
}

/** How trr handles syscall `nr`, or undefined when it is unsupported. */
export function semanticsOf(nr: number): SyscallSemantics | undefined {
  return BY_NUMBER.get(nr);
}

/** Syscalls answered with ENOSYS on purpose, without a warning. */
export const QUIET_ENOSYS = new Set(['rseq', 'io_uring_setup', 'pkey_alloc', 'landlock_create_ruleset'].map((s) => SYSCALL_NUMBERS[s]!));
