import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SYSCALLS, SYSCALL_NUMBERS } from './table.generated.js';
import { formatSyscallArgs, formatSyscallResult } from './format.js';
import { errnoName, nr, signalName, syscallName } from './names.js';
import { semanticsOf, ioctlOutputSize, clipRanges } from './semantics.js';

test('the generated table has x86-64 numbers and argument layouts', () => {
  assert.equal(SYSCALLS.get(0)!.name, 'read');
  assert.equal(SYSCALL_NUMBERS.execve, 59);
  assert.equal(SYSCALL_NUMBERS.clone3, 435);
  assert.deepEqual(SYSCALLS.get(nr('mmap'))!.args!.map((a) => a.type), ['ptr', 'size', 'mmap_prot', 'mmap_flags', 'fd', 'off']);
  assert.deepEqual(SYSCALLS.get(nr('clone'))!.args!.map((a) => a.name), ['clone_flags', 'newsp', 'parent_tidptr', 'child_tidptr', 'tls']);
  assert.equal(syscallName(9999), 'syscall_9999');
  assert.throws(() => nr('no_such_syscall'));
});

test('arguments and results are printed like strace', () => {
  const openat = SYSCALLS.get(nr('openat'))!;
  assert.equal(formatSyscallArgs(openat, [BigInt.asUintN(64, -100n), 0x1000n, 0o2000000n, 0n], new Map([[1, '/etc/passwd']])), 'AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC, 00');
  const mmap = SYSCALLS.get(nr('mmap'))!;
  assert.equal(formatSyscallArgs(mmap, [0n, 4096n, 3n, 0x22n, BigInt.asUintN(64, -1n), 0n]), 'NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0');
  const futex = SYSCALLS.get(nr('futex'))!;
  assert.match(formatSyscallArgs(futex, [0x1000n, 0x81n, 1n, 0n, 0n, 0n]), /^0x1000, FUTEX_WAKE_PRIVATE, 1,/);
  assert.equal(formatSyscallResult('openat', -2n), '-ENOENT');
  assert.equal(formatSyscallResult('mmap', 0x7ffff7fc0000n), '0x7ffff7fc0000');
  assert.equal(formatSyscallResult('read', 832n), '832');
  assert.equal(errnoName(512), 'ERESTARTSYS');
  assert.equal(signalName(11), 'SIGSEGV');
  assert.equal(signalName(36), 'SIGRTMIN+2');
});

test('syscall semantics know what the kernel writes', () => {
  assert.equal(semanticsOf(nr('read'))!.policy, 'emulate');
  assert.equal(semanticsOf(nr('mmap'))!.policy, 'special');
  assert.equal(semanticsOf(nr('munmap'))!.policy, 'execute');
  assert.equal(semanticsOf(nr('io_uring_setup')), undefined);
  assert.equal(ioctlOutputSize(0x5413), 8); // TIOCGWINSZ
  assert.equal(ioctlOutputSize(0x80045430), 4); // _IOR size 4
  assert.equal(ioctlOutputSize(0x40045431), 0); // _IOW: the kernel only reads
  assert.deepEqual(clipRanges([[0x1000n, 10], [0x2000n, 10]], 15), [[0x1000n, 10], [0x2000n, 5]]);
});
