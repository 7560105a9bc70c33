// strace-like text for syscall arguments and results, for `trr dump`. It works
// from the argument types of the generated syscall table and the raw register
// values; it reads no memory (string arguments come from the trace, through
// the `strings` map). Symbolic constants are x86-64 Linux values; bits it does
// not know are printed as a hex remainder, unknown codes as numbers.
import type { SyscallArgType, SyscallInfo } from './table.generated.js';
import { errnoName, signalName } from './names.js';

type Bits = readonly (readonly [bigint, string])[];
type Codes = ReadonlyMap<number, string>;

const bits = (pairs: Record<string, number | bigint>): Bits => Object.entries(pairs).map(([k, v]) => [BigInt(v), k] as const);
const codes = (pairs: Record<string, number>): Codes => new Map(Object.entries(pairs).map(([k, v]) => [v, k] as const));
const list = (names: readonly string[]): Codes => new Map(names.flatMap((n, i) => (n ? [[i, n] as const] : [])));

// <asm-generic/fcntl.h>, as on x86-64. The access mode (low two bits) and the
// composite O_SYNC / O_TMPFILE are handled in openFlags().
const O_ACCMODE = 3n;
const O_DSYNC = 0o10000n;
const O_DIRECTORY = 0o200000n;
const O_CREAT = 0o100n;
const __O_SYNC = 0o4000000n;
const __O_TMPFILE = 0o20000000n;
const OPEN_FLAGS = bits({
  O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400, O_TRUNC: 0o1000, O_APPEND: 0o2000, O_NONBLOCK: 0o4000, O_DSYNC: 0o10000,
  O_ASYNC: 0o20000, O_DIRECT: 0o40000, O_LARGEFILE: 0o100000, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000,
  O_NOATIME: 0o1000000, O_CLOEXEC: 0o2000000, O_PATH: 0o10000000,
});
/** Syscalls whose open_flags argument carries an access mode (O_RDONLY etc.). */
const WITH_ACCESS_MODE = new Set(['open', 'openat', 'mq_open', 'open_by_handle_at', 'fanotify_init']);
const ACCESS_MODES = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'];

const PROT = bits({ PROT_READ: 1, PROT_WRITE: 2, PROT_EXEC: 4, PROT_SEM: 8, PROT_GROWSDOWN: 0x1000000, PROT_GROWSUP: 0x2000000 });
const MAP_TYPES = ['', 'MAP_SHARED', 'MAP_PRIVATE', 'MAP_SHARED_VALIDATE'];
const MAP_TYPE = 0xfn;
const MAP_HUGETLB = 0x40000n;
const MAP_HUGE_SHIFT = 26n;
const MAP_HUGE_MASK = 0x3fn;
const MAP = bits({
  MAP_FIXED: 0x10, MAP_ANONYMOUS: 0x20, MAP_32BIT: 0x40, MAP_GROWSDOWN: 0x100, MAP_DENYWRITE: 0x800, MAP_EXECUTABLE: 0x1000,
  MAP_LOCKED: 0x2000, MAP_NORESERVE: 0x4000, MAP_POPULATE: 0x8000, MAP_NONBLOCK: 0x10000, MAP_STACK: 0x20000,
  MAP_HUGETLB: 0x40000, MAP_SYNC: 0x80000, MAP_FIXED_NOREPLACE: 0x100000, MAP_UNINITIALIZED: 0x4000000,
});

const CSIGNAL = 0xffn;
const CLONE_NEWTIME = 0x80n;
const CLONE = bits({
  CLONE_VM: 0x100, CLONE_FS: 0x200, CLONE_FILES: 0x400, CLONE_SIGHAND: 0x800, CLONE_PIDFD: 0x1000, CLONE_PTRACE: 0x2000,
  CLONE_VFORK: 0x4000, CLONE_PARENT: 0x8000, CLONE_THREAD: 0x10000, CLONE_NEWNS: 0x20000, CLONE_SYSVSEM: 0x40000,
  CLONE_SETTLS: 0x80000, CLONE_PARENT_SETTID: 0x100000, CLONE_CHILD_CLEARTID: 0x200000, CLONE_DETACHED: 0x400000,
  CLONE_UNTRACED: 0x800000, CLONE_CHILD_SETTID: 0x1000000, CLONE_NEWCGROUP: 0x2000000, CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000, CLONE_NEWUSER: 0x10000000, CLONE_NEWPID: 0x20000000, CLONE_NEWNET: 0x40000000, CLONE_IO: 0x80000000,
  CLONE_CLEAR_SIGHAND: 0x100000000n, CLONE_INTO_CGROUP: 0x200000000n,
});

const AT_REMOVEDIR = 0x200n;
const AT = bits({
  AT_SYMLINK_NOFOLLOW: 0x100, AT_REMOVEDIR: 0x200, AT_SYMLINK_FOLLOW: 0x400, AT_NO_AUTOMOUNT: 0x800, AT_EMPTY_PATH: 0x1000,
  AT_STATX_FORCE_SYNC: 0x2000, AT_STATX_DONT_SYNC: 0x4000, AT_RECURSIVE: 0x8000,
});

const FUTEX_PRIVATE_FLAG = 128;
const FUTEX_CLOCK_REALTIME = 256;
const FUTEX_OPS = list([
  'FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_FD', 'FUTEX_REQUEUE', 'FUTEX_CMP_REQUEUE', 'FUTEX_WAKE_OP', 'FUTEX_LOCK_PI',
  'FUTEX_UNLOCK_PI', 'FUTEX_TRYLOCK_PI', 'FUTEX_WAIT_BITSET', 'FUTEX_WAKE_BITSET', 'FUTEX_WAIT_REQUEUE_PI',
  'FUTEX_CMP_REQUEUE_PI', 'FUTEX_LOCK_PI2',
]);

const F = {
  F_DUPFD: 0, F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, F_GETLK: 5, F_SETLK: 6, F_SETLKW: 7, F_SETOWN: 8, F_GETOWN: 9,
  F_SETSIG: 10, F_GETSIG: 11, F_SETOWN_EX: 15, F_GETOWN_EX: 16, F_GETOWNER_UIDS: 17, F_OFD_GETLK: 36, F_OFD_SETLK: 37,
  F_OFD_SETLKW: 38, F_SETLEASE: 1024, F_GETLEASE: 1025, F_NOTIFY: 1026, F_DUPFD_QUERY: 1027, F_CREATED_QUERY: 1028,
  F_CANCELLK: 1029, F_DUPFD_CLOEXEC: 1030, F_SETPIPE_SZ: 1031, F_GETPIPE_SZ: 1032, F_ADD_SEALS: 1033, F_GET_SEALS: 1034,
  F_GET_RW_HINT: 1035, F_SET_RW_HINT: 1036, F_GET_FILE_RW_HINT: 1037, F_SET_FILE_RW_HINT: 1038,
} as const;
const FCNTL = codes(F);
/** fcntl commands that take no third argument (strace leaves it out). */
const FCNTL_NO_ARG = new Set<number>([F.F_GETFD, F.F_GETFL, F.F_GETOWN, F.F_GETSIG, F.F_GETLEASE, F.F_GETPIPE_SZ, F.F_GET_SEALS, F.F_CREATED_QUERY]);
/** fcntl commands whose third argument is a plain number. */
const FCNTL_INT_ARG = new Set<number>([F.F_DUPFD, F.F_DUPFD_CLOEXEC, F.F_DUPFD_QUERY, F.F_SETOWN, F.F_SETSIG, F.F_SETPIPE_SZ]);
const FD_FLAGS = bits({ FD_CLOEXEC: 1 });
const LEASES = list(['F_RDLCK', 'F_WRLCK', 'F_UNLCK']);
const SEALS = bits({ F_SEAL_SEAL: 1, F_SEAL_SHRINK: 2, F_SEAL_GROW: 4, F_SEAL_WRITE: 8, F_SEAL_FUTURE_WRITE: 0x10, F_SEAL_EXEC: 0x20 });

const IOCTLS = codes({
  TCGETS: 0x5401, TCSETS: 0x5402, TCSETSW: 0x5403, TCSETSF: 0x5404, TCGETA: 0x5405, TCSETA: 0x5406, TCSETAW: 0x5407,
  TCSETAF: 0x5408, TCSBRK: 0x5409, TCXONC: 0x540a, TCFLSH: 0x540b, TIOCEXCL: 0x540c, TIOCNXCL: 0x540d, TIOCSCTTY: 0x540e,
  TIOCGPGRP: 0x540f, TIOCSPGRP: 0x5410, TIOCOUTQ: 0x5411, TIOCSTI: 0x5412, TIOCGWINSZ: 0x5413, TIOCSWINSZ: 0x5414,
  TIOCMGET: 0x5415, TIOCMBIS: 0x5416, TIOCMBIC: 0x5417, TIOCMSET: 0x5418, FIONREAD: 0x541b, TIOCLINUX: 0x541c,
  TIOCCONS: 0x541d, TIOCPKT: 0x5420, FIONBIO: 0x5421, TIOCNOTTY: 0x5422, TIOCSETD: 0x5423, TIOCGETD: 0x5424,
  TIOCSBRK: 0x5427, TIOCCBRK: 0x5428, TIOCGSID: 0x5429, TCGETS2: 0x802c542a, TCSETS2: 0x402c542b, TCSETSW2: 0x402c542c,
  TCSETSF2: 0x402c542d, TIOCGPTN: 0x80045430, TIOCSPTLCK: 0x40045431, TIOCGPTPEER: 0x5441, FIONCLEX: 0x5450,
  FIOCLEX: 0x5451, FIOASYNC: 0x5452, FIOQSIZE: 0x5460,
});

const WHENCE = list(['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE']);
const HOW = list(['SIG_BLOCK', 'SIG_UNBLOCK', 'SIG_SETMASK']);
const MADV = codes({
  MADV_NORMAL: 0, MADV_RANDOM: 1, MADV_SEQUENTIAL: 2, MADV_WILLNEED: 3, MADV_DONTNEED: 4, MADV_FREE: 8, MADV_REMOVE: 9,
  MADV_DONTFORK: 10, MADV_DOFORK: 11, MADV_MERGEABLE: 12, MADV_UNMERGEABLE: 13, MADV_HUGEPAGE: 14, MADV_NOHUGEPAGE: 15,
  MADV_DONTDUMP: 16, MADV_DODUMP: 17, MADV_WIPEONFORK: 18, MADV_KEEPONFORK: 19, MADV_COLD: 20, MADV_PAGEOUT: 21,
  MADV_POPULATE_READ: 22, MADV_POPULATE_WRITE: 23, MADV_DONTNEED_LOCKED: 24, MADV_COLLAPSE: 25, MADV_HWPOISON: 100,
  MADV_SOFT_OFFLINE: 101, MADV_GUARD_INSTALL: 102, MADV_GUARD_REMOVE: 103,
});

const PRCTL = codes({
  PR_SET_PDEATHSIG: 1, PR_GET_PDEATHSIG: 2, PR_GET_DUMPABLE: 3, PR_SET_DUMPABLE: 4, PR_GET_UNALIGN: 5, PR_SET_UNALIGN: 6,
  PR_GET_KEEPCAPS: 7, PR_SET_KEEPCAPS: 8, PR_GET_FPEMU: 9, PR_SET_FPEMU: 10, PR_GET_FPEXC: 11, PR_SET_FPEXC: 12,
  PR_GET_TIMING: 13, PR_SET_TIMING: 14, PR_SET_NAME: 15, PR_GET_NAME: 16, PR_GET_ENDIAN: 19, PR_SET_ENDIAN: 20,
  PR_GET_SECCOMP: 21, PR_SET_SECCOMP: 22, PR_CAPBSET_READ: 23, PR_CAPBSET_DROP: 24, PR_GET_TSC: 25, PR_SET_TSC: 26,
  PR_GET_SECUREBITS: 27, PR_SET_SECUREBITS: 28, PR_SET_TIMERSLACK: 29, PR_GET_TIMERSLACK: 30,
  PR_TASK_PERF_EVENTS_DISABLE: 31, PR_TASK_PERF_EVENTS_ENABLE: 32, PR_MCE_KILL: 33, PR_MCE_KILL_GET: 34, PR_SET_MM: 35,
  PR_SET_CHILD_SUBREAPER: 36, PR_GET_CHILD_SUBREAPER: 37, PR_SET_NO_NEW_PRIVS: 38, PR_GET_NO_NEW_PRIVS: 39,
  PR_GET_TID_ADDRESS: 40, PR_SET_THP_DISABLE: 41, PR_GET_THP_DISABLE: 42, PR_MPX_ENABLE_MANAGEMENT: 43,
  PR_MPX_DISABLE_MANAGEMENT: 44, PR_SET_FP_MODE: 45, PR_GET_FP_MODE: 46, PR_CAP_AMBIENT: 47, PR_SVE_SET_VL: 50,
  PR_SVE_GET_VL: 51, PR_GET_SPECULATION_CTRL: 52, PR_SET_SPECULATION_CTRL: 53, PR_PAC_RESET_KEYS: 54,
  PR_SET_TAGGED_ADDR_CTRL: 55, PR_GET_TAGGED_ADDR_CTRL: 56, PR_SET_IO_FLUSHER: 57, PR_GET_IO_FLUSHER: 58,
  PR_SET_SYSCALL_USER_DISPATCH: 59, PR_PAC_SET_ENABLED_KEYS: 60, PR_PAC_GET_ENABLED_KEYS: 61, PR_SCHED_CORE: 62,
  PR_SME_SET_VL: 63, PR_SME_GET_VL: 64, PR_SET_MDWE: 65, PR_GET_MDWE: 66, PR_SET_MEMORY_MERGE: 67,
  PR_GET_MEMORY_MERGE: 68, PR_RISCV_V_SET_CONTROL: 69, PR_RISCV_V_GET_CONTROL: 70, PR_RISCV_SET_ICACHE_FLUSH_CTX: 71,
  PR_PPC_GET_DEXCR: 72, PR_PPC_SET_DEXCR: 73, PR_GET_SHADOW_STACK_STATUS: 74, PR_SET_SHADOW_STACK_STATUS: 75,
  PR_LOCK_SHADOW_STACK_STATUS: 76, PR_TIMER_CREATE_RESTORE_IDS: 77, PR_FUTEX_HASH: 78, PR_GET_AUXV: 0x41555856,
  PR_SET_VMA: 0x53564d41, PR_SET_PTRACER: 0x59616d61,
});

const ARCH_PRCTL = codes({
  ARCH_SET_GS: 0x1001, ARCH_SET_FS: 0x1002, ARCH_GET_FS: 0x1003, ARCH_GET_GS: 0x1004, ARCH_GET_CPUID: 0x1011,
  ARCH_SET_CPUID: 0x1012, ARCH_GET_XCOMP_SUPP: 0x1021, ARCH_GET_XCOMP_PERM: 0x1022, ARCH_REQ_XCOMP_PERM: 0x1023,
  ARCH_GET_XCOMP_GUEST_PERM: 0x1024, ARCH_REQ_XCOMP_GUEST_PERM: 0x1025, ARCH_MAP_VDSO_X32: 0x2001,
  ARCH_MAP_VDSO_32: 0x2002, ARCH_MAP_VDSO_64: 0x2003, ARCH_GET_UNTAG_MASK: 0x4001, ARCH_ENABLE_TAGGED_ADDR: 0x4002,
  ARCH_GET_MAX_TAG_BITS: 0x4003, ARCH_FORCE_TAGGED_SVA: 0x4004, ARCH_SHSTK_ENABLE: 0x5001, ARCH_SHSTK_DISABLE: 0x5002,
  ARCH_SHSTK_LOCK: 0x5003, ARCH_SHSTK_UNLOCK: 0x5004, ARCH_SHSTK_STATUS: 0x5005,
});

const CLOCKS = list([
  'CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'CLOCK_PROCESS_CPUTIME_ID', 'CLOCK_THREAD_CPUTIME_ID', 'CLOCK_MONOTONIC_RAW',
  'CLOCK_REALTIME_COARSE', 'CLOCK_MONOTONIC_COARSE', 'CLOCK_BOOTTIME', 'CLOCK_REALTIME_ALARM', 'CLOCK_BOOTTIME_ALARM',
  'CLOCK_SGI_CYCLE', 'CLOCK_TAI',
]);
const CPUCLOCKS = ['CPUCLOCK_PROF', 'CPUCLOCK_VIRT', 'CPUCLOCK_SCHED'];

const FAMILIES = list([
  'AF_UNSPEC', 'AF_UNIX', 'AF_INET', 'AF_AX25', 'AF_IPX', 'AF_APPLETALK', 'AF_NETROM', 'AF_BRIDGE', 'AF_ATMPVC', 'AF_X25',
  'AF_INET6', 'AF_ROSE', 'AF_DECnet', 'AF_NETBEUI', 'AF_SECURITY', 'AF_KEY', 'AF_NETLINK', 'AF_PACKET', 'AF_ASH',
  'AF_ECONET', 'AF_ATMSVC', 'AF_RDS', 'AF_SNA', 'AF_IRDA', 'AF_PPPOX', 'AF_WANPIPE', 'AF_LLC', 'AF_IB', 'AF_MPLS', 'AF_CAN',
  'AF_TIPC', 'AF_BLUETOOTH', 'AF_IUCV', 'AF_RXRPC', 'AF_ISDN', 'AF_PHONET', 'AF_IEEE802154', 'AF_CAIF', 'AF_ALG', 'AF_NFC',
  'AF_VSOCK', 'AF_KCM', 'AF_QIPCRTR', 'AF_SMC', 'AF_XDP', 'AF_MCTP',
]);
const SOCK_TYPES = codes({ SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_RDM: 4, SOCK_SEQPACKET: 5, SOCK_DCCP: 6, SOCK_PACKET: 10 });
const SOCK_FLAGS = bits({ SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000 });

const S_IFMT = 0o170000n;
const FILE_TYPES = codes({ S_IFIFO: 0o10000, S_IFCHR: 0o20000, S_IFDIR: 0o40000, S_IFBLK: 0o60000, S_IFREG: 0o100000, S_IFLNK: 0o120000, S_IFSOCK: 0o140000 });

const AT_FDCWD = -100n;

/** access(2)-style syscalls, whose `mode` argument is F_OK or R_OK|W_OK|X_OK rather than a file mode. */
const ACCESS_CHECKS = new Set(['access', 'faccessat', 'faccessat2']);
const ACCESS_BITS = bits({ R_OK: 4, W_OK: 2, X_OK: 1 });

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const pointer = (v: bigint): string => (v === 0n ? 'NULL' : hex(v));
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);

/** Names of the known bits of v joined by `|`, then any remaining bits in hex; `zero` when v is 0. */
function bitNames(v: bigint, table: Bits, zero = '0'): string {
  if (v === 0n) return zero;
  const parts: string[] = [];
  let rest = v;
  for (const [bit, name] of table) {
    if ((rest & bit) === bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0n) parts.push(hex(rest));
  return parts.join('|');
}

/** Joins a leading name with the bit names of the rest, leaving out a rest of 0. */
function withRest(head: string, rest: bigint, table: Bits): string {
  if (rest === 0n) return head;
  return head ? `${head}|${bitNames(rest, table)}` : bitNames(rest, table);
}

/** The name of code v, or its decimal value. */
function codeName(v: bigint, table: Codes): string {
  return table.get(Number(v)) ?? v.toString();
}

function openFlags(v: bigint, accessMode: boolean): string {
  v = u32(v);
  let head = '';
  let rest = v;
  if (accessMode) {
    head = ACCESS_MODES[Number(v & O_ACCMODE)]!;
    rest &= ~O_ACCMODE;
  }
  const extra: string[] = [];
  if ((rest & __O_TMPFILE) !== 0n) {
    extra.push('O_TMPFILE');
    rest &= ~(__O_TMPFILE | O_DIRECTORY);
  }
  if ((rest & (__O_SYNC | O_DSYNC)) === (__O_SYNC | O_DSYNC)) {
    extra.push('O_SYNC');
    rest &= ~(__O_SYNC | O_DSYNC);
  }
  const body = rest === 0n ? '' : bitNames(rest, OPEN_FLAGS);
  const parts = [head, body, ...extra].filter((s) => s !== '');
  return parts.length ? parts.join('|') : '0';
}

function fileMode(v: bigint): string {
  v = u32(v);
  const perms = v & 0o7777n;
  const octal = perms === 0n ? '0' : `0${perms.toString(8)}`;
  const permText = octal.padStart(3, '0');
  const type = v & S_IFMT;
  const rest = v & ~(S_IFMT | 0o7777n);
  const parts: string[] = [];
  if (type !== 0n) parts.push(FILE_TYPES.get(Number(type)) ?? hex(type));
  parts.push(permText);
  if (rest !== 0n) parts.push(hex(rest));
  return parts.join('|');
}

function mmapFlags(v: bigint): string {
  const type = v & MAP_TYPE;
  let rest = v & ~MAP_TYPE;
  let huge = '';
  if ((rest & MAP_HUGETLB) !== 0n) {
    const shift = (rest >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
    if (shift !== 0n) {
      huge = `MAP_HUGE_${hugeSize(shift)}`;
      rest &= ~(MAP_HUGE_MASK << MAP_HUGE_SHIFT);
    }
  }
  const head = type === 0n ? '' : MAP_TYPES[Number(type)] || hex(type);
  const text = withRest(head, rest, MAP);
  const all = [text, huge].filter((s) => s !== '');
  return all.length ? all.join('|') : '0';
}

function hugeSize(shift: bigint): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  const n = Number(shift);
  const unit = Math.floor(n / 10);
  return unit < units.length ? `${2 ** (n % 10)}${units[unit]}B` : `${n}`;
}

function cloneFlags(v: bigint, exitSignal: boolean): string {
  let rest = v;
  let sig = '';
  if (exitSignal) {
    const s = rest & CSIGNAL;
    if (s !== 0n) sig = signalName(Number(s));
    rest &= ~CSIGNAL;
  }
  const table = exitSignal ? CLONE : ([...CLONE, [CLONE_NEWTIME, 'CLONE_NEWTIME']] as Bits);
  const parts = [rest === 0n ? '' : bitNames(rest, table), sig].filter((s) => s !== '');
  return parts.length ? parts.join('|') : '0';
}

function atFlags(v: bigint, syscall: string): string {
  const table = syscall === 'faccessat2' ? AT.map(([b, n]) => (b === AT_REMOVEDIR ? [b, 'AT_EACCESS'] as const : [b, n] as const)) : AT;
  return bitNames(u32(v), table);
}

function futexOp(v: bigint): string {
  const op = Number(u32(v));
  const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const name = FUTEX_OPS.get(cmd);
  const head = name ? `${name}${op & FUTEX_PRIVATE_FLAG ? '_PRIVATE' : ''}` : `${cmd}${op & FUTEX_PRIVATE_FLAG ? '|FUTEX_PRIVATE_FLAG' : ''}`;
  return `${head}${op & FUTEX_CLOCK_REALTIME ? '|FUTEX_CLOCK_REALTIME' : ''}`;
}

function clockId(v: bigint): string {
  const id = s32(v);
  if (id >= 0n) return codeName(id, CLOCKS);
  // Dynamic clocks: ((~pid) << 3) | which for CPU clocks, ((~fd) << 3) | 3 for fd clocks.
  const which = Number(id & 7n);
  const owner = ~(id >> 3n);
  if ((which & 3) === 3) return `FD_TO_CLOCKID(${owner})`;
  return `MAKE_${which & 4 ? 'THREAD' : 'PROCESS'}_CPUCLOCK(${owner}, ${CPUCLOCKS[which & 3]})`;
}

function socketType(v: bigint): string {
  v = u32(v);
  const type = v & 0xfn;
  const head = type === 0n ? '' : codeName(type, SOCK_TYPES);
  const text = withRest(head, v & ~0xfn, SOCK_FLAGS);
  return text || '0';
}

/** A string argument in C syntax, with control characters escaped. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** The third argument of fcntl, which depends on the command; undefined when the command takes none. */
function fcntlArg(cmd: bigint, v: bigint): string | undefined {
  const c = Number(u32(cmd));
  if (FCNTL_NO_ARG.has(c)) return undefined;
  if (FCNTL_INT_ARG.has(c)) return s32(v).toString();
  switch (c) {
    case F.F_SETFD:
      return bitNames(u32(v), FD_FLAGS);
    case F.F_SETFL:
      return openFlags(v, false);
    case F.F_SETLEASE:
      return codeName(s32(v), LEASES);
    case F.F_ADD_SEALS:
      return bitNames(u32(v), SEALS);
    default:
      return pointer(v);
  }
}

function formatArg(syscall: string, type: SyscallArgType, v: bigint, str: string | undefined): string {
  switch (type) {
    case 'fd':
    case 'int':
    case 'pid':
      return s32(v).toString();
    case 'dirfd':
      return s32(v) === AT_FDCWD ? 'AT_FDCWD' : s32(v).toString();
    case 'uint':
    case 'size':
      return v.toString();
    case 'off':
      return BigInt.asIntN(64, v).toString();
    case 'ptr':
    case 'buf_in':
    case 'buf_out':
    case 'struct_in':
    case 'struct_out':
      return pointer(v);
    case 'path':
    case 'str':
      return str !== undefined ? quote(str) : pointer(v);
    case 'open_flags':
      return openFlags(v, WITH_ACCESS_MODE.has(syscall));
    case 'mode':
      return fileMode(v);
    case 'mmap_prot':
      return bitNames(v, PROT, 'PROT_NONE');
    case 'mmap_flags':
      return mmapFlags(v);
    case 'clone_flags':
      return cloneFlags(v, syscall === 'clone');
    case 'at_flags':
      return atFlags(v, syscall);
    case 'signo':
      return signalName(Number(s32(v)));
    case 'clockid':
      return clockId(v);
    case 'futex_op':
      return futexOp(v);
    case 'fcntl_cmd':
      return codeName(u32(v), FCNTL);
    case 'ioctl_req':
      return IOCTLS.get(Number(u32(v))) ?? hex(u32(v));
    case 'whence':
      return codeName(u32(v), WHENCE);
    case 'how':
      return codeName(s32(v), HOW);
    case 'madv':
      return codeName(s32(v), MADV);
    case 'prctl_opt':
      return codeName(s32(v), PRCTL);
    case 'arch_prctl_code':
      return codeName(s32(v), ARCH_PRCTL);
    case 'sockfamily':
      return codeName(s32(v), FAMILIES);
    case 'socktype':
      return socketType(v);
    case 'flags':
      return v === 0n ? '0' : hex(v);
  }
}

/**
 * The arguments of a syscall as strace would print them, comma-separated.
 * `args` are the raw register values (rdi rsi rdx r10 r8 r9); `strings` maps
 * an argument index to the string the recording read for a path/str argument.
 * Like strace, open's mode is left out unless the flags create a file,
 * access's mode is printed as R_OK|W_OK|X_OK or F_OK, and fcntl's third
 * argument is printed by command (or left out).
 */
export function formatSyscallArgs(info: SyscallInfo, args: readonly bigint[], strings?: ReadonlyMap<number, string>): string {
  const raw = (i: number): bigint => BigInt.asUintN(64, args[i] ?? 0n);
  const flagsIndex = info.args.findIndex((a) => a.type === 'open_flags');
  const creates = flagsIndex >= 0 && (raw(flagsIndex) & (O_CREAT | __O_TMPFILE)) !== 0n;
  const cmdIndex = info.args.findIndex((a) => a.type === 'fcntl_cmd');
  const out: string[] = [];
  info.args.forEach((a, i) => {
    if (a.type === 'mode' && flagsIndex >= 0 && flagsIndex < i && !creates && WITH_ACCESS_MODE.has(info.name)) return;
    if (a.type === 'mode' && ACCESS_CHECKS.has(info.name)) {
      out.push(bitNames(u32(raw(i)), ACCESS_BITS, 'F_OK'));
      return;
    }
    if (cmdIndex >= 0 && i === cmdIndex + 1 && info.name === 'fcntl') {
      const text = fcntlArg(raw(cmdIndex), raw(i));
      if (text !== undefined) out.push(text);
      return;
    }
    out.push(formatArg(info.name, a.type, raw(i), strings?.get(i)));
  });
  return out.join(', ');
}

/** Syscalls whose successful result is an address, printed in hex. */
const ADDRESS_RESULTS = new Set(['mmap', 'mremap', 'brk', 'shmat', 'map_shadow_stack']);

/**
 * The result of a syscall: `-ENOENT` for an error (a value in -4095..-1),
 * hex for addresses (mmap, brk, ...), decimal otherwise.
 */
export function formatSyscallResult(name: string, result: bigint): string {
  const r = BigInt.asIntN(64, result);
  if (r < 0n && r >= -4095n) return `-${errnoName(Number(-r))}`;
  if (ADDRESS_RESULTS.has(name)) return hex(BigInt.asUintN(64, r));
  return r.toString();
}
