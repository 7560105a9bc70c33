// strace-like text for syscall arguments and results, for `trr dump`. It
// knows only what the data file's argument types say; it reads no memory
// (string arguments come from the trace).
import type { SyscallInfo, SyscallArgType } from './table.generated.js';
import { errnoName, signalName } from './names.js';

type Flags = readonly (readonly [bigint, string])[];
const f = (pairs: Record<string, number>): Flags => Object.entries(pairs).map(([k, v]) => [BigInt(v), k] as const);

const OPEN_FLAGS = f({ O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400, O_TRUNC: 0o1000, O_APPEND: 0o2000, O_NONBLOCK: 0o4000, O_DSYNC: 0o10000, O_DIRECT: 0o40000, O_LARGEFILE: 0o100000, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000, O_NOATIME: 0o1000000, O_CLOEXEC: 0o2000000, O_PATH: 0o10000000, O_TMPFILE: 0o20200000 });
const PROT = f({ PROT_READ: 1, PROT_WRITE: 2, PROT_EXEC: 4 });
const MAP = f({ MAP_SHARED: 1, MAP_PRIVATE: 2, MAP_FIXED: 0x10, MAP_ANONYMOUS: 0x20, MAP_GROWSDOWN: 0x100, MAP_DENYWRITE: 0x800, MAP_EXECUTABLE: 0x1000, MAP_LOCKED: 0x2000, MAP_NORESERVE: 0x4000, MAP_POPULATE: 0x8000, MAP_NONBLOCK: 0x10000, MAP_STACK: 0x20000, MAP_HUGETLB: 0x40000, MAP_FIXED_NOREPLACE: 0x100000 });
const CLONE_FLAGS = f({ CLONE_VM: 0x100, CLONE_FS: 0x200, CLONE_FILES: 0x400, CLONE_SIGHAND: 0x800, CLONE_PIDFD: 0x1000, CLONE_PTRACE: 0x2000, CLONE_VFORK: 0x4000, CLONE_PARENT: 0x8000, CLONE_THREAD: 0x10000, CLONE_NEWNS: 0x20000, CLONE_SYSVSEM: 0x40000, CLONE_SETTLS: 0x80000, CLONE_PARENT_SETTID: 0x100000, CLONE_CHILD_CLEARTID: 0x200000, CLONE_UNTRACED: 0x800000, CLONE_CHILD_SETTID: 0x1000000 });
const AT_FLAGS = f({ AT_SYMLINK_NOFOLLOW: 0x100, AT_REMOVEDIR: 0x200, AT_SYMLINK_FOLLOW: 0x400, AT_NO_AUTOMOUNT: 0x800, AT_EMPTY_PATH: 0x1000 });
const FUTEX_OPS = ['FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_FD', 'FUTEX_REQUEUE', 'FUTEX_CMP_REQUEUE', 'FUTEX_WAKE_OP', 'FUTEX_LOCK_PI', 'FUTEX_UNLOCK_PI', 'FUTEX_TRYLOCK_PI', 'FUTEX_WAIT_BITSET', 'FUTEX_WAKE_BITSET', 'FUTEX_WAIT_REQUEUE_PI', 'FUTEX_CMP_REQUEUE_PI', 'FUTEX_LOCK_PI2'];
const FCNTL = new Map<number, string>(Object.entries({ F_DUPFD: 0, F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, F_GETLK: 5, F_SETLK: 6, F_SETLKW: 7, F_SETOWN: 8, F_GETOWN: 9, F_SETSIG: 10, F_GETSIG: 11, F_OFD_GETLK: 36, F_OFD_SETLK: 37, F_OFD_SETLKW: 38, F_SETLEASE: 1024, F_GETLEASE: 1025, F_DUPFD_CLOEXEC: 1030, F_SETPIPE_SZ: 1031, F_GETPIPE_SZ: 1032, F_ADD_SEALS: 1033, F_GET_SEALS: 1034 }).map(([k, v]) => [v, k]));
const IOCTLS = new Map<number, string>([[0x5401, 'TCGETS'], [0x5402, 'TCSETS'], [0x5403, 'TCSETSW'], [0x5404, 'TCSETSF'], [0x5413, 'TIOCGWINSZ'], [0x5414, 'TIOCSWINSZ'], [0x541b, 'FIONREAD'], [0x5421, 'FIONBIO'], [0x5451, 'FIOCLEX'], [0x5450, 'FIONCLEX'], [0x540f, 'TIOCGPGRP'], [0x5410, 'TIOCSPGRP']]);
const WHENCE = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'];
const HOW = ['SIG_BLOCK', 'SIG_UNBLOCK', 'SIG_SETMASK'];
const MADV = new Map<number, string>(Object.entries({ MADV_NORMAL: 0, MADV_RANDOM: 1, MADV_SEQUENTIAL: 2, MADV_WILLNEED: 3, MADV_DONTNEED: 4, MADV_FREE: 8, MADV_REMOVE: 9, MADV_DONTFORK: 10, MADV_DOFORK: 11, MADV_MERGEABLE: 12, MADV_HUGEPAGE: 14, MADV_NOHUGEPAGE: 15, MADV_DONTDUMP: 16, MADV_COLD: 20, MADV_PAGEOUT: 21 }).map(([k, v]) => [v, k]));
const CLOCKS = ['CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'CLOCK_PROCESS_CPUTIME_ID', 'CLOCK_THREAD_CPUTIME_ID', 'CLOCK_MONOTONIC_RAW', 'CLOCK_REALTIME_COARSE', 'CLOCK_MONOTONIC_COARSE', 'CLOCK_BOOTTIME'];
const FAMILIES = new Map<number, string>([[0, 'AF_UNSPEC'], [1, 'AF_UNIX'], [2, 'AF_INET'], [10, 'AF_INET6'], [16, 'AF_NETLINK'], [17, 'AF_PACKET']]);
const SOCK_TYPES = ['', 'SOCK_STREAM', 'SOCK_DGRAM', 'SOCK_RAW', 'SOCK_RDM', 'SOCK_SEQPACKET'];
const ARCH_PRCTL = new Map<number, string>([[0x1001, 'ARCH_SET_GS'], [0x1002, 'ARCH_SET_FS'], [0x1003, 'ARCH_GET_FS'], [0x1004, 'ARCH_GET_GS'], [0x1011, 'ARCH_GET_CPUID'], [0x1012, 'ARCH_SET_CPUID']]);

const hex = (v: bigint) => `0x${v.toString(16)}`;
const signed32 = (v: bigint) => BigInt.asIntN(32, v);

function flags(v: bigint, table: Flags, zero = '0'): string {
  if (v === 0n) return zero;
  const parts: string[] = [];
  let rest = v;
  for (const [bit, name] of table) {
    if (bit !== 0n && (v & bit) === bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest) parts.push(hex(rest));
  return parts.join('|');
}

function named(v: bigint, names: readonly string[] | ReadonlyMap<number, string>): string {
  const n = Number(v);
  const name = Array.isArray(names) ? (names as readonly string[])[n] : (names as ReadonlyMap<number, string>).get(n);
  return name || String(n);
}

function formatArg(type: SyscallArgType, v: bigint, str: string | undefined): string {
  switch (type) {
    case 'fd':
      return String(signed32(v));
    case 'dirfd':
      return signed32(v) === -100n ? 'AT_FDCWD' : String(signed32(v));
    case 'int':
    case 'pid':
      return String(signed32(v));
    case 'uint':
    case 'size':
      return v.toString();
    case 'off':
      return BigInt.asIntN(64, v).toString();
    case 'path':
    case 'str':
      return str !== undefined ? JSON.stringify(str) : v === 0n ? 'NULL' : hex(v);
    case 'open_flags':
      return flags(v & ~3n, OPEN_FLAGS, '').replace(/^/, ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][Number(v & 3n)]! + (v & ~3n ? '|' : '')).replace(/\|$/, '');
    case 'mode':
      return `0${v.toString(8)}`;
    case 'mmap_prot':
      return flags(v, PROT, 'PROT_NONE');
    case 'mmap_flags':
      return flags(v, MAP);
    case 'clone_flags':
      return flags(v & ~0xffn, CLONE_FLAGS, '') + (v & 0xffn ? `${v & ~0xffn ? '|' : ''}${signalName(Number(v & 0xffn))}` : '');
    case 'at_flags':
      return flags(v, AT_FLAGS);
    case 'signo':
      return signalName(Number(v));
    case 'clockid':
      return named(v, CLOCKS);
    case 'futex_op': {
      const op = Number(v);
      return `${FUTEX_OPS[op & 0x7f] ?? String(op & 0x7f)}${op & 128 ? '_PRIVATE' : ''}${op & 256 ? '|FUTEX_CLOCK_REALTIME' : ''}`;
    }
    case 'fcntl_cmd':
      return named(v, FCNTL);
    case 'ioctl_req':
      return IOCTLS.get(Number(v & 0xffffffffn)) ?? hex(v);
    case 'whence':
      return named(v, WHENCE);
    case 'how':
      return named(v, HOW);
    case 'madv':
      return named(v, MADV);
    case 'arch_prctl_code':
      return named(v, ARCH_PRCTL);
    case 'sockfamily':
      return named(v, FAMILIES);
    case 'socktype':
      return (SOCK_TYPES[Number(v & 0xfn)] || String(v & 0xfn)) + (v & 0x80000n ? '|SOCK_CLOEXEC' : '') + (v & 0x800n ? '|SOCK_NONBLOCK' : '');
    default:
      return v === 0n ? 'NULL' : hex(v);
  }
}

/** Arguments as text; `strings` maps argument index to the recorded string. */
export function formatSyscallArgs(info: SyscallInfo, args: readonly bigint[], strings?: ReadonlyMap<number, string>): string {
  if (!info.args) return args.map(hex).join(', ');
  return info.args.map((a, i) => formatArg(a.type, args[i] ?? 0n, strings?.get(i))).join(', ');
}

const ADDRESS_RESULTS = new Set(['mmap', 'mremap', 'brk', 'shmat']);

export function formatSyscallResult(name: string, result: bigint): string {
  if (result < 0n && result >= -4095n) return `-${errnoName(Number(-result))}`;
  if (ADDRESS_RESULTS.has(name)) return hex(result);
  return result.toString();
}
