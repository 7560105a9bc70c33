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
import { readFileSync, readlinkSync } from 'node:fs';
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
  /**
   * Calls that move bytes from one file to another inside the kernel
   * (sendfile, copy_file_range, splice, tee): the argument indexes of the
   * source fd and its offset pointer (if any), the destination fd and its
   * offset pointer, the length, and whether the call takes the bytes out of a
   * pipe source. The bytes never pass through the program's memory, so when
   * they go to trr's stdout/stderr (or to a file the program maps) the
   * recorder saves them for replay to echo (or to apply to its copy).
   */
  readonly transfer?: {
    readonly inFd: number;
    readonly inOff?: number;
    readonly outFd: number;
    readonly outOff?: number;
    readonly lenArg: number;
    readonly consumes: boolean;
  };
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

const iovByResult = (iovArg: number, cntArg: number) => (m: AddressSpace, a: readonly bigint[], r: bigint): Range[] =>
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
/**
 * The one setsockopt that writes back: iptables' and ip6tables' SET_REPLACE
 * (optname 64 at SOL_IP or SOL_IPV6) copy the replaced table's counters to
 * the `counters` pointer of struct ipt_replace / ip6t_replace (num_counters
 * at offset 84, the pointer at 88), 16 bytes (struct xt_counters) each.
 */
function setsockoptOutputs(m: AddressSpace, a: readonly bigint[], result: bigint): Range[] {
  const SOL_IP = 0n;
  const SOL_IPV6 = 41n;
  const SO_SET_REPLACE = 64n;
  if (result !== 0n || (a[1] !== SOL_IP && a[1] !== SOL_IPV6) || a[2] !== SO_SET_REPLACE || !a[3] || (a[4]! & 0xffffffffn) < 96n) return [];
  const num = m.readU32(a[3]! + 84n);
  const counters = m.readU64(a[3]! + 88n);
  return counters && num ? [[counters, num * 16]] : [];
}

const execute: SyscallSemantics = { policy: 'execute' };
const special = (s: Partial<SyscallSemantics> = {}): SyscallSemantics => ({ policy: 'special', ...s });
const blocking = (s: Partial<SyscallSemantics> = {}): SyscallSemantics => ({ policy: 'emulate', mayBlock: true, ...s });
const sentByResult = (bufArg: number): SyscallSemantics['sent'] => (_m, a, r) => (r > 0n ? [[a[bufArg]!, n(r)]] : []);


// ---- System V IPC. On x86-64 the kernel always uses the 64-bit structures
// (IPC_64 in cmd changes nothing): msqid64_ds 120 bytes, semid64_ds 104,
// shmid64_ds 112, msginfo 32, seminfo 40, shminfo64 72, shm_info 48.
const IPC_STAT = 2;
const IPC_INFO = 3;
const ipcCmd = (v: bigint) => i32(v) & ~0x100; // without IPC_64

const msgctlOutputs: SyscallSemantics['outputs'] = (_m, a) => {
  const cmd = ipcCmd(a[1]!);
  if (cmd === IPC_STAT || cmd === 11 /* MSG_STAT */ || cmd === 13 /* MSG_STAT_ANY */) return [[a[2]!, 120]];
  if (cmd === IPC_INFO || cmd === 12 /* MSG_INFO */) return [[a[2]!, 32]];
  return [];
};

const shmctlOutputs: SyscallSemantics['outputs'] = (_m, a) => {
  const cmd = ipcCmd(a[1]!);
  if (cmd === IPC_STAT || cmd === 13 /* SHM_STAT */ || cmd === 15 /* SHM_STAT_ANY */) return [[a[2]!, 112]];
  if (cmd === IPC_INFO) return [[a[2]!, 72]];
  if (cmd === 14 /* SHM_INFO */) return [[a[2]!, 48]];
  return [];
};

const SEM_GETALL = 13;
/**
 * The number of semaphores in set `semid`, for semctl(GETALL), which writes
 * one u16 per semaphore: from /proc/sysvipc/sem when the program shares trr's
 * IPC namespace, else the largest size a set may have (kernel.sem's SEMMSL;
 * the bytes past the array are recorded as they are, which is still exact).
 */
function semSetSize(pid: number, semid: number): number {
  try {
    if (readlinkSync(`/proc/${pid}/ns/ipc`) === readlinkSync('/proc/self/ns/ipc')) {
      for (const line of readFileSync('/proc/sysvipc/sem', 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (Number(f[1]) === semid) return Number(f[3]);
      }
    }
  } catch {
    // fall through to the upper bound
  }
  try {
    return Number(readFileSync('/proc/sys/kernel/sem', 'utf8').trim().split(/\s+/)[0]) || 32000;
  } catch {
    return 32000;
  }
}

const semctlOutputs: SyscallSemantics['outputs'] = (_m, a, _r, nsems) => {
  const cmd = ipcCmd(a[2]!);
  if (cmd === IPC_STAT || cmd === 18 /* SEM_STAT */ || cmd === 20 /* SEM_STAT_ANY */) return [[a[3]!, 104]];
  if (cmd === IPC_INFO || cmd === 19 /* SEM_INFO */) return [[a[3]!, 40]];
  if (cmd === SEM_GETALL) return [[a[3]!, 2 * (nsems as number)]];
  return [];
};

// ---- quotactl: cmd is (subcommand << 8) | quota type.
const QUOTA_OUT: ReadonlyMap<number, number> = new Map([
  [0x800004, 4], // Q_GETFMT
  [0x800005, 24], // Q_GETINFO: struct if_dqinfo
  [0x800007, 72], // Q_GETQUOTA: struct if_dqblk
  [0x800009, 72], // Q_GETNEXTQUOTA: struct if_nextdqblk
  [0x5803, 112], // Q_XGETQUOTA: struct fs_disk_quota
  [0x5805, 80], // Q_XGETQSTAT: struct fs_quota_stat
  [0x5808, 160], // Q_XGETQSTATV: struct fs_quota_statv
  [0x5809, 112], // Q_XGETNEXTQUOTA
]);
const QUOTA_IN = new Set([0x800001, 0x800002, 0x800003, 0x800006, 0x800008, 0x5801, 0x5802, 0x5804, 0x5806, 0x5807]);
/** Whether trr knows what quotactl command `cmd` writes (a quota type the kernel rejects writes nothing). */
export function quotactlKnown(cmd: number): boolean {
  const sub = cmd >>> 8;
  return (cmd & 0xff) >= 3 /* MAXQUOTAS: EINVAL */ || QUOTA_OUT.has(sub) || QUOTA_IN.has(sub);
}
const quotaOutputs = (cmdArg: number, addrArg: number): SyscallSemantics['outputs'] => (_m, a) => {
  const size = QUOTA_OUT.get((Number(a[cmdArg]!) >>> 0) >>> 8);
  return size && a[addrArg] ? [[a[addrArg]!, size]] : [];
};

// ---- keyctl: what each command writes (arguments a[1..4] are arg2..arg5).
const KEYCTL_NO_OUT = new Set([0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 28, 29, 30, 32]);
const KEYCTL_BUF: ReadonlyMap<number, [buf: number, len: number]> = new Map([
  [6, [2, 3]], // DESCRIBE
  [11, [2, 3]], // READ
  [17, [2, 3]], // GET_SECURITY
  [23, [2, 3]], // DH_COMPUTE
  [31, [1, 2]], // CAPABILITIES
]);
/** Whether trr knows what keyctl command `op` writes. */
export function keyctlKnown(op: number): boolean {
  return KEYCTL_NO_OUT.has(op) || KEYCTL_BUF.has(op) || (op >= 24 && op <= 27);
}
const keyctlOutputs: SyscallSemantics['outputs'] = (_m, a, r) => {
  const op = i32(a[0]!);
  const buf = KEYCTL_BUF.get(op);
  // The result is the full size; the kernel copies at most the buffer's length.
  if (buf) return a[buf[0]] && r > 0n ? [[a[buf[0]]!, Math.min(n(r), n(a[buf[1]]!))]] : [];
  if (op === 24 /* PKEY_QUERY */) return [[a[4]!, 56]];
  if (op >= 25 && op <= 27 /* PKEY_ENCRYPT, DECRYPT, SIGN */) return r > 0n ? [[a[4]!, n(r)]] : [];
  return [];
};

// syslog(type, buf, len): the read actions copy the log out.
const syslogOutputs: SyscallSemantics['outputs'] = (_m, a, r) => {
  const type = i32(a[0]!);
  return (type === 2 || type === 3 || type === 4) && r > 0n ? [[a[1]!, n(r)]] : [];
};

const TABLE: Record<string, SyscallSemantics> = {
  // ---- files and directories
  read: blocking({ outputs: byResult(1) }),
  pread64: emulate({ outputs: byResult(1) }),
  readv: blocking({ outputs: iovByResult(1, 2) }),
  preadv: emulate({ outputs: iovByResult(1, 2) }),
  preadv2: emulate({ outputs: iovByResult(1, 2) }),
  write: blocking({ sent: sentByResult(1), fdArg: 0 }),
  pwrite64: emulate({ sent: sentByResult(1), fdArg: 0 }),
  writev: blocking({ sent: iovByResult(1, 2), fdArg: 0 }),
  pwritev: emulate({ sent: iovByResult(1, 2), fdArg: 0 }),
  pwritev2: emulate({ sent: iovByResult(1, 2), fdArg: 0 }),
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
  lremovexattr: emulate(),
  fremovexattr: emulate(),
  sendfile: blocking({ outputs: fixed(2, 8), transfer: { inFd: 1, inOff: 2, outFd: 0, lenArg: 3, consumes: true } }),
  copy_file_range: emulate({
    outputs: (_m, a) => [...(a[1] ? [[a[1], 8] as const] : []), ...(a[3] ? [[a[3], 8] as const] : [])],
    transfer: { inFd: 0, inOff: 1, outFd: 2, outOff: 3, lenArg: 4, consumes: true },
  }),
  splice: blocking({
    outputs: (_m, a) => [...(a[1] ? [[a[1], 8] as const] : []), ...(a[3] ? [[a[3], 8] as const] : [])],
    transfer: { inFd: 0, inOff: 1, outFd: 2, outOff: 3, lenArg: 4, consumes: true },
  }),
  tee: blocking({ transfer: { inFd: 0, outFd: 1, lenArg: 2, consumes: false } }),
  vmsplice: blocking({ sent: iovByResult(1, 2), fdArg: 0 }),
  memfd_create: emulate(),
  inotify_init: emulate(),
  inotify_init1: emulate(),
  fanotify_init: emulate(),
  fanotify_mark: emulate(),
  inotify_add_watch: emulate(),
  inotify_rm_watch: emulate(),
  mknod: emulate(),
  mknodat: emulate(),
  chroot: emulate(),
  name_to_handle_at: emulate({ outputs: (_m, a) => (a[2] ? [[a[2], 128]] : []) }),
  // ---- mounts: replay touches no file system, so these are emulated (files
  // mapped or executed from a new mount are copied into the trace as always)
  mount: emulate(),
  umount2: emulate(),
  pivot_root: emulate(),
  open_tree: emulate(),
  move_mount: emulate(),
  fsopen: emulate(),
  fsconfig: emulate(),
  fsmount: emulate(),
  fspick: emulate(),
  mount_setattr: emulate(),
  quotactl: emulate({ outputs: quotaOutputs(0, 3) }),
  quotactl_fd: emulate({ outputs: quotaOutputs(1, 3) }),
  ustat: emulate({ outputs: fixed(1, 32) }),
  // sysfs(2, index, buf) copies a file system's name, NUL included.
  sysfs: emulate({ outputs: (m, a, r) => (i32(a[0]!) === 2 && r === 0n && a[2] ? [[a[2]!, Buffer.byteLength(m.readCString(a[2]!, 256)) + 1]] : []) }),
  // ---- System V IPC and POSIX message queues
  msgget: emulate(),
  msgsnd: blocking(),
  msgrcv: blocking({ outputs: (_m, a, r) => (r >= 0n ? [[a[1]!, 8 + n(r)]] : []) }), // long mtype, then the text
  msgctl: emulate({ outputs: msgctlOutputs }),
  semget: emulate(),
  semop: blocking(),
  semtimedop: blocking(),
  semctl: emulate({
    atEntry: (m, a) => (ipcCmd(a[2]!) === SEM_GETALL ? semSetSize(m.pid, i32(a[0]!)) : 0),
    outputs: semctlOutputs,
  }),
  shmget: emulate(),
  // Replay maps its own copy of the segment instead (see TrackedFiles.onShmat), and unmaps it.
  shmat: special(),
  shmdt: special(),
  shmctl: emulate({ outputs: shmctlOutputs }),
  mq_open: emulate(),
  mq_unlink: emulate(),
  mq_timedsend: blocking(),
  mq_timedreceive: blocking({ outputs: (_m, a, r) => (r >= 0n ? [[a[1]!, n(r)], ...(a[3] ? [[a[3], 4] as const] : [])] : []) }),
  mq_notify: emulate(),
  mq_getsetattr: emulate({ outputs: fixed(2, 64) }),
  // ---- keys
  add_key: emulate(),
  request_key: blocking(),
  keyctl: blocking({ outputs: keyctlOutputs }),
  // ---- memory: replay runs these for real
  mmap: special(),
  munmap: execute,
  mprotect: execute,
  mremap: special(),
  brk: execute,
  madvise: execute,
  msync: emulate(),
  // Locked memory changes what madvise does (MADV_DONTNEED fails on it), so
  // replay locks too; the result is the recorded one.
  mlock: { policy: 'override' },
  mlock2: { policy: 'override' },
  munlock: { policy: 'override' },
  mlockall: { policy: 'override' },
  munlockall: { policy: 'override' },
  mincore: emulate({ outputs: (_m, a) => [[a[2]!, Math.ceil(n(a[1]!) / 4096)]] }),
  membarrier: emulate(),
  // ---- time
  clock_gettime: emulate({ outputs: fixed(1, 16) }),
  clock_getres: emulate({ outputs: fixed(1, 16) }),
  gettimeofday: emulate({ outputs: (_m, a) => [...(a[0] ? [[a[0], 16] as const] : []), ...(a[1] ? [[a[1], 8] as const] : [])] }),
  time: emulate({ outputs: fixed(0, 8) }),
  times: emulate({ outputs: fixed(0, 32) }),
  nanosleep: blocking({ outputs: fixed(1, 16), outputsOnError: true }),
  clock_settime: emulate(),
  settimeofday: emulate(),
  adjtimex: emulate({ outputs: fixed(0, 208) }), // struct timex
  clock_adjtime: emulate({ outputs: fixed(1, 208) }),
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
  setsockopt: emulate({ outputs: setsockoptOutputs }),
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
  sched_setparam: emulate(),
  sched_setattr: emulate(),
  // The kernel copies min(usize, its struct sched_attr) bytes and stores that size in the first field.
  sched_getattr: emulate({ outputs: (m, a) => [[a[1]!, Math.min(m.readU32(a[1]!), n(a[2]!))]] }),
  sched_rr_get_interval: emulate({ outputs: fixed(1, 16) }),
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
  ioprio_set: emulate(),
  syslog: blocking({ outputs: syslogOutputs }),
  sethostname: emulate(),
  acct: emulate(),
  setdomainname: emulate(),
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
  // waitid fills in the siginfo's signo, errno, code, pid, uid and status even when it fails (with zeros, e.g. EBADF for a bad pidfd).
  waitid: blocking({ outputs: (_m, a) => [...(a[2] ? [[a[2], 128] as const] : []), ...(a[4] ? [[a[4], 144] as const] : [])], outputsOnError: true }),
  // ptrace is emulated by trr (src/record/ptrace-emulation.ts), which decides
  // at the entry what the request writes into the caller: `entry` holds those ranges.
  ptrace: emulate({ outputs: (_m, _a, _r, entry) => (entry as Range[] | undefined) ?? [], outputsOnError: true }),
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
  // The LDT is the process's own: writes must happen in replay too, and reads then give what they gave.
  modify_ldt: execute,
  // New PID namespaces are refused (RecordSession.cannotRecord); the others only change what emulated syscalls saw.
  setns: emulate(),
  unshare: emulate(),
  pidfd_open: emulate(),
  pidfd_getfd: emulate(),
  // Reads another process's memory into the local iovecs, like readv.
  process_vm_readv: emulate({ outputs: iovByResult(1, 2) }),
  // Accepted only when a process writes its own memory (RecordSession.cannotRecord): then the remote iovecs are local.
  process_vm_writev: emulate({ outputs: iovByResult(3, 4) }),
  perf_event_open: emulate(),
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
