// Unit tests for the syscall table and its helpers: the generated table (and
// that it is up to date with data/syscalls-x86_64.tsv), the generator's
// checks, number/name lookups for syscalls, errnos and signals, the
// strace-like formatter used by `trr dump`, and the syscall semantics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { SYSCALLS, SYSCALL_NUMBERS, type SyscallArgType, type SyscallInfo } from './table.generated.js';
import { formatSyscallArgs, formatSyscallResult } from './format.js';
import { ERRNO, errnoMessage, errnoName, nr, signalName, syscallName, syscallNumber } from './names.js';
import { semanticsOf, ioctlOutputSize, clipRanges } from './semantics.js';

interface Generator {
  ARG_TYPES: readonly string[];
  parseSyscallTsv(text: string, file: string): { nr: number; name: string; args: { name: string; type: string }[] }[];
  renderSyscallTable(entries: unknown): string;
}

// Compiled to dist/src/syscalls/, three levels below the repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const loadGenerator = async (): Promise<Generator> => (await import(pathToFileURL(join(ROOT, 'scripts', 'gen-syscalls.mjs')).href)) as Generator;

const info = (name: string): SyscallInfo => SYSCALLS.get(nr(name))!;
const types = (name: string): SyscallArgType[] => info(name).args.map((a) => a.type);
const names = (name: string): string[] => info(name).args.map((a) => a.name);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const fmt = (name: string, args: readonly bigint[], strings?: Record<number, string>): string =>
  formatSyscallArgs(info(name), args, strings ? new Map(Object.entries(strings).map(([k, v]) => [Number(k), v])) : undefined);

test('the generated table has the x86-64 numbers', () => {
  assert.equal(SYSCALLS.get(0)!.name, 'read');
  assert.equal(SYSCALLS.get(0)!.nr, 0);
  assert.equal(SYSCALL_NUMBERS.execve, 59);
  assert.equal(SYSCALL_NUMBERS.clone3, 435);
  assert.equal(SYSCALL_NUMBERS.openat, 257);
  assert.equal(SYSCALL_NUMBERS.exit_group, 231);
  assert.equal(SYSCALL_NUMBERS.rseq, 334);
  assert.equal(SYSCALL_NUMBERS.uretprobe, 335);
  assert.equal(SYSCALL_NUMBERS.uprobe, 336);
  assert.equal(SYSCALL_NUMBERS.pidfd_send_signal, 424);
  assert.equal(SYSCALL_NUMBERS.quotactl_fd, 443);
  assert.equal(SYSCALL_NUMBERS.mseal, 462);
  assert.equal(SYSCALL_NUMBERS.setxattrat, 463);
  assert.equal(SYSCALL_NUMBERS.removexattrat, 466);
  assert.equal(SYSCALL_NUMBERS.open_tree_attr, 467);
  assert.equal(SYSCALL_NUMBERS.file_setattr, 469);
  // 0..336 and 424..469, nothing else (the x32 range 512.. is not x86-64).
  const numbers = [...SYSCALLS.keys()].sort((a, b) => a - b);
  const expected = [...Array.from({ length: 337 }, (_, i) => i), ...Array.from({ length: 46 }, (_, i) => 424 + i)];
  assert.deepEqual(numbers, expected);
  assert.equal(Object.keys(SYSCALL_NUMBERS).length, SYSCALLS.size);
  for (const [n, s] of SYSCALLS) {
    assert.equal(s.nr, n);
    assert.equal(SYSCALL_NUMBERS[s.name], n);
    assert.ok(s.args.length <= 6, s.name);
  }
});

test('the generated table has the x86-64 argument layouts', () => {
  assert.deepEqual(types('mmap'), ['ptr', 'size', 'mmap_prot', 'mmap_flags', 'fd', 'off']);
  assert.deepEqual(types('openat'), ['dirfd', 'path', 'open_flags', 'mode']);
  assert.deepEqual(names('openat'), ['dfd', 'filename', 'flags', 'mode']);
  // x86-64 clone: flags, stack, parent_tid, child_tid, tls (not the i386 order).
  assert.deepEqual(names('clone'), ['clone_flags', 'newsp', 'parent_tidptr', 'child_tidptr', 'tls']);
  assert.deepEqual(types('clone'), ['clone_flags', 'ptr', 'ptr', 'ptr', 'ptr']);
  assert.deepEqual(types('rt_sigaction'), ['signo', 'struct_in', 'struct_out', 'size']);
  assert.deepEqual(types('futex'), ['ptr', 'futex_op', 'uint', 'ptr', 'ptr', 'uint']);
  assert.deepEqual(types('arch_prctl'), ['arch_prctl_code', 'ptr']);
  assert.deepEqual(types('socket'), ['sockfamily', 'socktype', 'int']);
  assert.deepEqual(types('execve'), ['path', 'ptr', 'ptr']);
  assert.deepEqual(types('read'), ['fd', 'buf_out', 'size']);
  assert.deepEqual(types('write'), ['fd', 'buf_in', 'size']);
  assert.deepEqual(types('getxattrat'), ['dirfd', 'path', 'at_flags', 'str', 'struct_in', 'size']);
  assert.equal(info('getpid').args.length, 0);
  assert.equal(info('rt_sigreturn').args.length, 0);
  assert.equal(info('uselib').args.length, 1);
});

test('the committed table is what the generator makes of the data file', async () => {
  const gen = await loadGenerator();
  const data = readFileSync(join(ROOT, 'data', 'syscalls-x86_64.tsv'), 'utf8');
  const committed = readFileSync(join(ROOT, 'src', 'syscalls', 'table.generated.ts'), 'utf8');
  const rendered = gen.renderSyscallTable(gen.parseSyscallTsv(data, 'data/syscalls-x86_64.tsv'));
  assert.ok(committed.startsWith('// Generated by scripts/gen-syscalls.mjs from data/syscalls-x86_64.tsv. Do not edit.\n'));
  assert.equal(committed, rendered);
  assert.equal(gen.renderSyscallTable(gen.parseSyscallTsv(data, 'x')), rendered);
  for (const s of SYSCALLS.values()) for (const a of s.args) assert.ok(gen.ARG_TYPES.includes(a.type), `${s.name}.${a.name}`);
});

test('the generator names the file and line of a bad entry', async () => {
  const gen = await loadGenerator();
  const bad = (line: string, why: RegExp): void => {
    assert.throws(() => gen.parseSyscallTsv(`# header\n0\tread\tfd:fd\n${line}\n`, 'data/t.tsv'), (e: Error) => {
      assert.match(e.message, /^data\/t\.tsv:3: /);
      assert.match(e.message, why);
      return true;
    });
  };
  bad('1\twrite\tfd:fd buf:bogus', /unknown argument type "bogus"/);
  bad('1\twrite', /expected 3 tab-separated columns/);
  bad('0\twrite\t', /number 0 already used by read/);
  bad('1\tread\t', /name read already used/);
  bad('x\twrite\t', /bad syscall number/);
  bad('1\twrite\tfd', /not name:type/);
  bad('1\twrite\tfd:fd fd:int', /appears twice/);
  bad('1\twrite\ta:int b:int c:int d:int e:int f:int g:int', /at most 6/);
  assert.deepEqual(gen.parseSyscallTsv('2\tb\t\n1\ta\tx:int\n', 'f'), [
    { nr: 1, name: 'a', args: [{ name: 'x', type: 'int' }] },
    { nr: 2, name: 'b', args: [] },
  ]);
});

test('names for syscalls, errnos and signals', () => {
  assert.equal(syscallName(0), 'read');
  assert.equal(syscallName(9999), 'syscall_9999');
  assert.equal(nr('read'), 0);
  assert.equal(syscallNumber('clone3'), 435);
  assert.throws(() => nr('no_such_syscall'), /unknown syscall name/);
  assert.throws(() => nr('toString'), /unknown syscall name/);
  assert.equal(errnoName(1), 'EPERM');
  assert.equal(errnoName(2), 'ENOENT');
  assert.equal(errnoName(11), 'EAGAIN');
  assert.equal(errnoName(38), 'ENOSYS');
  assert.equal(errnoName(95), 'EOPNOTSUPP');
  assert.equal(errnoName(133), 'EHWPOISON');
  assert.equal(errnoName(512), 'ERESTARTSYS');
  assert.equal(errnoName(513), 'ERESTARTNOINTR');
  assert.equal(errnoName(514), 'ERESTARTNOHAND');
  assert.equal(errnoName(516), 'ERESTART_RESTARTBLOCK');
  assert.equal(errnoName(41), 'E41');
  assert.equal(errnoMessage(2), 'No such file or directory');
  assert.equal(ERRNO.ENOENT, 2);
  assert.equal(ERRNO.EWOULDBLOCK, 11);
  assert.equal(ERRNO.ENOTSUP, 95);
  for (let e = 1; e <= 133; e++) if (e !== 41 && e !== 58) assert.equal(ERRNO[errnoName(e)], e);
  assert.equal(signalName(1), 'SIGHUP');
  assert.equal(signalName(11), 'SIGSEGV');
  assert.equal(signalName(17), 'SIGCHLD');
  assert.equal(signalName(31), 'SIGSYS');
  assert.equal(signalName(32), 'SIGRTMIN');
  assert.equal(signalName(34), 'SIGRTMIN+2');
  assert.equal(signalName(64), 'SIGRTMIN+32');
  assert.equal(signalName(65), 'SIG65');
});

test('arguments are printed like strace', () => {
  const AT_FDCWD = u64(-100n);
  assert.equal(fmt('openat', [AT_FDCWD, 0x1000n, 0o2000000n, 0n], { 1: '/etc/passwd' }), 'AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC');
  assert.equal(fmt('openat', [3n, 0x1000n, 0o1101n, 0o644n], { 1: 'out' }), '3, "out", O_WRONLY|O_CREAT|O_TRUNC, 0644');
  assert.equal(fmt('openat', [AT_FDCWD, 0x1000n, 0o20200002n, 0o600n], { 1: '/tmp' }), 'AT_FDCWD, "/tmp", O_RDWR|O_TMPFILE, 0600');
  assert.equal(fmt('open', [0x1000n, 0o4010002n, 0n]), '0x1000, O_RDWR|O_SYNC');
  assert.equal(fmt('openat', [AT_FDCWD, 0n, 0n, 0n]), 'AT_FDCWD, NULL, O_RDONLY');
  assert.equal(fmt('mmap', [0n, 4096n, 3n, 0x22n, u64(-1n), 0n]), 'NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0');
  assert.equal(fmt('mmap', [0x7f0000000000n, 8192n, 5n, 0x812n, 3n, 0x2000n]), '0x7f0000000000, 8192, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 8192');
  assert.equal(fmt('mmap', [0n, 1n << 21n, 3n, 0x40022n | (21n << 26n), u64(-1n), 0n]), 'NULL, 2097152, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_2MB, -1, 0');
  assert.equal(fmt('mprotect', [0x1000n, 4096n, 0n]), '0x1000, 4096, PROT_NONE');
  assert.equal(fmt('mprotect', [0x1000n, 4096n, 0x11n]), '0x1000, 4096, PROT_READ|0x10');
  assert.equal(
    fmt('clone', [0x1200011n, 0n, 0n, 0x7f00n, 0n]),
    'CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL, NULL, 0x7f00, NULL',
  );
  assert.equal(fmt('clone', [0x3d0f00n, 0x7000n, 0x7100n, 0x7100n, 0x7200n]).split(', ')[0],
    'CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID');
  assert.equal(fmt('unshare', [0x20000n | 0x80n]), 'CLONE_NEWNS|CLONE_NEWTIME');
  assert.match(fmt('futex', [0x1000n, 0x81n, 1n, 0n, 0n, 0n]), /^0x1000, FUTEX_WAKE_PRIVATE, 1,/);
  assert.match(fmt('futex', [0x1000n, 0x189n, 0n, 0x2000n, 0n, 0xffffffffn]), /^0x1000, FUTEX_WAIT_BITSET_PRIVATE\|FUTEX_CLOCK_REALTIME, 0, 0x2000,/);
  assert.equal(fmt('fcntl', [3n, 1n, 0n]), '3, F_GETFD');
  assert.equal(fmt('fcntl', [3n, 2n, 1n]), '3, F_SETFD, FD_CLOEXEC');
  assert.equal(fmt('fcntl', [3n, 4n, 0o4002n]), '3, F_SETFL, O_NONBLOCK|0x2');
  assert.equal(fmt('fcntl', [3n, 1030n, 10n]), '3, F_DUPFD_CLOEXEC, 10');
  assert.equal(fmt('fcntl', [3n, 9999n, 0x10n]), '3, 9999, 0x10');
  assert.equal(fmt('ioctl', [1n, 0x5401n, 0x7ffcn]), '1, TCGETS, 0x7ffc');
  assert.equal(fmt('ioctl', [1n, 0x5413n, 0x7ffcn]), '1, TIOCGWINSZ, 0x7ffc');
  assert.equal(fmt('ioctl', [0n, 0x540fn, 0x7ffcn]), '0, TIOCGPGRP, 0x7ffc');
  assert.equal(fmt('ioctl', [3n, 0x541bn, 0x7ffcn]), '3, FIONREAD, 0x7ffc');
  assert.equal(fmt('ioctl', [3n, 0x5421n, 0x7ffcn]), '3, FIONBIO, 0x7ffc');
  assert.equal(fmt('ioctl', [3n, 0x5451n, 0n]), '3, FIOCLEX, NULL');
  assert.equal(fmt('ioctl', [3n, 0xc0184800n, 0n]), '3, 0xc0184800, NULL');
  assert.equal(fmt('lseek', [3n, u64(-10n), 2n]), '3, -10, SEEK_END');
  assert.equal(fmt('madvise', [0x1000n, 4096n, 4n]), '0x1000, 4096, MADV_DONTNEED');
  assert.equal(fmt('rt_sigprocmask', [2n, 0x7000n, 0n, 8n]), 'SIG_SETMASK, 0x7000, NULL, 8');
  assert.equal(fmt('rt_sigaction', [2n, 0x7000n, 0n, 8n]), 'SIGINT, 0x7000, NULL, 8');
  assert.equal(fmt('kill', [1234n, 0n]), '1234, 0');
  assert.equal(fmt('tgkill', [10n, 11n, 34n]), '10, 11, SIGRTMIN+2');
  assert.equal(fmt('clock_gettime', [1n, 0x7000n]), 'CLOCK_MONOTONIC, 0x7000');
  assert.equal(fmt('clock_gettime', [u64(-6n), 0x7000n]), 'MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), 0x7000');
  assert.equal(fmt('socket', [2n, 0x80801n, 0n]), 'AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0');
  assert.equal(fmt('socket', [1n, 0x80002n, 0n]), 'AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC, 0');
  assert.equal(fmt('newfstatat', [5n, 0x1000n, 0x2000n, 0x1000n], { 1: '' }), '5, "", 0x2000, AT_EMPTY_PATH');
  assert.equal(fmt('unlinkat', [AT_FDCWD, 0x1000n, 0x200n], { 1: 'dir' }), 'AT_FDCWD, "dir", AT_REMOVEDIR');
  assert.equal(fmt('faccessat2', [AT_FDCWD, 0x1000n, 4n, 0x200n], { 1: 'f' }), 'AT_FDCWD, "f", R_OK, AT_EACCESS');
  assert.equal(fmt('access', [0x1000n, 0n], { 0: '/etc/ld.so.preload' }), '"/etc/ld.so.preload", F_OK');
  assert.equal(fmt('access', [0x1000n, 7n], { 0: 'x' }), '"x", R_OK|W_OK|X_OK');
  assert.equal(fmt('linkat', [AT_FDCWD, 1n, AT_FDCWD, 2n, 0x10400n], { 1: 'a', 3: 'b' }), 'AT_FDCWD, "a", AT_FDCWD, "b", AT_SYMLINK_FOLLOW|0x10000');
  assert.equal(fmt('arch_prctl', [0x1002n, 0x7f00n]), 'ARCH_SET_FS, 0x7f00');
  assert.equal(fmt('prctl', [15n, 0x7000n, 0n, 0n, 0n]), 'PR_SET_NAME, 0x7000, NULL, NULL, NULL');
  assert.equal(fmt('mknodat', [AT_FDCWD, 0x1000n, 0o100644n, 0n], { 1: 'f' }), 'AT_FDCWD, "f", S_IFREG|0644, 0');
  assert.equal(fmt('pipe2', [0x7000n, 0o2004000n]), '0x7000, O_NONBLOCK|O_CLOEXEC');
  assert.equal(fmt('dup3', [3n, 4n, 0n]), '3, 4, 0');
  assert.equal(fmt('write', [1n, 0x5000n, 12n]), '1, 0x5000, 12');
  assert.equal(fmt('execve', [0x1000n, 0x2000n, 0x3000n], { 0: 'say "hi"\n\x01' }), '"say \\"hi\\"\\n\\x01", 0x2000, 0x3000');
  assert.equal(fmt('getpid', []), '');
  // Missing register values read as 0.
  assert.equal(fmt('close', []), '0');
});

test('results are printed like strace', () => {
  assert.equal(formatSyscallResult('openat', -2n), '-ENOENT');
  assert.equal(formatSyscallResult('openat', u64(-2n)), '-ENOENT');
  assert.equal(formatSyscallResult('read', u64(-512n)), '-ERESTARTSYS');
  assert.equal(formatSyscallResult('mmap', u64(-12n)), '-ENOMEM');
  assert.equal(formatSyscallResult('mmap', 0x7ffff7fc0000n), '0x7ffff7fc0000');
  assert.equal(formatSyscallResult('brk', 0x555555559000n), '0x555555559000');
  assert.equal(formatSyscallResult('read', 832n), '832');
  assert.equal(formatSyscallResult('read', 0n), '0');
  assert.equal(formatSyscallResult('lseek', u64(-4096n)), '-4096');
  assert.equal(formatSyscallResult('mq_open', -38n), '-ENOSYS');
});

test('syscall semantics know what the kernel writes', () => {
  assert.equal(semanticsOf(nr('read'))!.policy, 'emulate');
  assert.equal(semanticsOf(nr('mmap'))!.policy, 'special');
  assert.equal(semanticsOf(nr('munmap'))!.policy, 'execute');
  assert.equal(semanticsOf(nr('io_uring_setup')), undefined);
  assert.equal(ioctlOutputSize(0x5413), 8); // TIOCGWINSZ
  assert.equal(ioctlOutputSize(0x541e), 72); // TIOCGSERIAL: old-style, listed with struct serial_struct's size
  assert.equal(ioctlOutputSize(0x5490), undefined); // an old-style tty request trr does not know
  assert.equal(ioctlOutputSize(0x89f0), undefined); // SIOCDEVPRIVATE: old-style socket request
  assert.equal(ioctlOutputSize(0x400454ca), 40); // TUNSETIFF: _IOW, but writes the ifreq back
  assert.equal(ioctlOutputSize(0xae00), 0); // KVM_GET_API_VERSION: _IO of a new-style type, no data
  assert.equal(ioctlOutputSize(0x80045430), 4); // _IOR size 4
  assert.equal(ioctlOutputSize(0x40045431), 0); // _IOW: the kernel only reads
  assert.deepEqual(clipRanges([[0x1000n, 10], [0x2000n, 10]], 15), [[0x1000n, 10], [0x2000n, 5]]);
});
