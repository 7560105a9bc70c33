// Facts of the Linux x86-64 kernel ABI that both recording and replay rely
// on: clone flags, signal numbers, how the kernel restarts an interrupted
// syscall, where it puts a signal frame, and the rdtsc instructions.
import type { Registers } from '../arch/registers.js';
import { SYSCALL_NUMBERS } from '../syscalls/table.generated.js';
import type { AddressSpace } from './task.js';

export const CLONE = {
  VM: 0x100n,
  FS: 0x200n,
  FILES: 0x400n,
  SIGHAND: 0x800n,
  PIDFD: 0x1000n,
  VFORK: 0x4000n,
  PARENT: 0x8000n,
  THREAD: 0x10000n,
  SETTLS: 0x80000n,
  PARENT_SETTID: 0x100000n,
  CHILD_CLEARTID: 0x200000n,
  UNTRACED: 0x800000n,
  CHILD_SETTID: 0x1000000n,
} as const;

export const SIG = { HUP: 1, INT: 2, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15, CHLD: 17, STOP: 19, SYS: 31 } as const;
export const SI_KERNEL = 0x80;

/** Signals raised by the faulting instruction itself when si_code > 0. */
export function isSyncSignal(sig: number, siCode: number): boolean {
  return (sig === SIG.SEGV || sig === SIG.BUS || sig === SIG.FPE || sig === SIG.ILL || sig === SIG.TRAP) && siCode > 0;
}

/** Clone flags of a clone/clone3/fork/vfork syscall. */
export function cloneFlagsOf(nr: number, args: readonly bigint[], mem: AddressSpace): bigint {
  if (nr === SYSCALL_NUMBERS.clone) return args[0]!;
  if (nr === SYSCALL_NUMBERS.clone3) return mem.readU64(args[0]!);
  if (nr === SYSCALL_NUMBERS.vfork) return CLONE.VM | CLONE.VFORK;
  return 0n;
}

/** Where clone wrote the child's tid: [parent_tid pointer, child_tid pointer] or 0n. */
export function cloneTidPointers(nr: number, args: readonly bigint[], mem: AddressSpace): { flags: bigint; parentTid: bigint; childTid: bigint } {
  if (nr === SYSCALL_NUMBERS.clone) return { flags: args[0]!, parentTid: args[2]!, childTid: args[3]! };
  if (nr === SYSCALL_NUMBERS.clone3) {
    const ca = mem.read(args[0]!, 32);
    return { flags: ca.readBigUInt64LE(0), childTid: ca.readBigUInt64LE(16), parentTid: ca.readBigUInt64LE(24) };
  }
  return { flags: cloneFlagsOf(nr, args, mem), parentTid: 0n, childTid: 0n };
}

const ERESTARTSYS = -512n;
const ERESTARTNOINTR = -513n;
const ERESTARTNOHAND = -514n;
export const ERESTART_RESTARTBLOCK = -516n;

/** Whether a syscall result is one of the kernel's internal restart requests. */
export function isRestartRequest(result: bigint): boolean {
  return result === ERESTARTSYS || result === ERESTARTNOINTR || result === ERESTARTNOHAND || result === ERESTART_RESTARTBLOCK;
}

/**
 * Registers after the kernel handles a signal with no handler at a syscall
 * exit: an interrupted syscall that asked to be restarted is restarted.
 */
export function restartAdjusted(regs: Registers): Registers {
  const after = regs.clone();
  if (regs.getSigned('orig_rax') < 0n) return after;
  const rax = regs.getSigned('rax');
  if (isRestartRequest(rax) && rax !== ERESTART_RESTARTBLOCK) {
    after.set('rax', regs.get('orig_rax'));
    after.set('rip', regs.ip - 2n);
  } else if (rax === ERESTART_RESTARTBLOCK) {
    after.set('rax', BigInt(SYSCALL_NUMBERS.restart_syscall!));
    after.set('rip', regs.ip - 2n);
  }
  return after;
}

/**
 * The memory a signal frame occupies, from the handler's stack pointer up to
 * the interrupted stack pointer's red zone, or to the top of the alternate
 * signal stack when the frame is there (read from the frame's uc_stack).
 */
export function frameRange(mem: AddressSpace, before: Registers, after: Registers): [bigint, number] {
  const start = after.sp;
  const redZoneEnd = before.sp - 128n;
  if (redZoneEnd > start && redZoneEnd - start < 1n << 20n) return [start, Number(redZoneEnd - start)];
  // Frame on the alternate stack: rt_sigframe = pretcode(8) + ucontext{flags(8), link(8), uc_stack{sp(8), flags(4)+pad, size(8)}}.
  const head = mem.readPartial(start + 24n, 24);
  if (head.length === 24) {
    const ssSp = head.readBigUInt64LE(0);
    const ssSize = head.readBigUInt64LE(16);
    const top = ssSp + ssSize;
    if (start >= ssSp && start < top && top - start < 1n << 20n) return [start, Number(top - start)];
  }
  return [start, 4096];
}

/**
 * The XSAVE area (ptrace's NT_X86_XSTATE layout) a signal handler starts
 * with: the kernel resets every user state component to its initial value
 * (x87 control word 0x37f, MXCSR 0x1f80, vector registers zero), except
 * PKRU, after saving the interrupted state in the frame.
 */
export function handlerEntryXstate(area: Buffer): Buffer {
  const PKRU = 1n << 9n;
  const out = Buffer.from(area);
  out.fill(0, 0, 24); // x87 control, status, tag, opcode, instruction and operand pointers
  out.writeUInt16LE(0x37f, 0);
  out.writeUInt32LE(0x1f80, 24); // MXCSR (the mask after it stays)
  out.fill(0, 32, 416); // st0-7, xmm0-15
  const bv = out.length >= 520 ? out.readBigUInt64LE(512) : 0n;
  if (out.length >= 520) out.writeBigUInt64LE(0x3n | (bv & PKRU), 512); // x87 and SSE as set here, PKRU kept, the rest initial
  return out;
}

const FUTEX_TID_MASK = 0x3fffffff;
const FUTEX_OWNER_DIED = 0x40000000;
const FUTEX_WAITERS = 0x80000000;

/**
 * What the kernel writes when a thread dies with a robust futex list
 * (set_robust_list): every futex on the list (and the one being taken, the
 * list's pending op) whose owner is the dying thread `tid` gets
 * FUTEX_OWNER_DIED, keeping only its waiters bit, so the next locker sees
 * EOWNERDEAD. `head` is the robust_list_head: next, futex_offset,
 * list_op_pending; entries' low bit marks PI futexes.
 */
export function robustListDeaths(mem: AddressSpace, head: bigint, tid: number): [bigint, Buffer][] {
  const out: [bigint, Buffer][] = [];
  const word = (a: bigint): bigint | undefined => {
    const b = mem.readPartial(a, 8);
    return b.length === 8 ? b.readBigUInt64LE(0) : undefined;
  };
  const death = (entry: bigint): void => {
    const uaddr = (entry & ~1n) + offset;
    if (uaddr % 4n !== 0n) return;
    const b = mem.readPartial(uaddr, 4);
    if (b.length < 4) return;
    const uval = b.readUInt32LE(0);
    if ((uval & FUTEX_TID_MASK) !== tid) return;
    const v = Buffer.alloc(4);
    v.writeUInt32LE(((uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
    out.push([uaddr, v]);
  };
  const first = word(head);
  const offsetWord = word(head + 8n);
  const pending = word(head + 16n);
  if (first === undefined || offsetWord === undefined || pending === undefined) return out;
  const offset = BigInt.asIntN(64, offsetWord);
  let entry = first;
  for (let limit = 2048; (entry & ~1n) !== head && limit > 0; limit--) {
    const next = word(entry & ~1n);
    if (next === undefined) break;
    if ((entry & ~1n) !== (pending & ~1n)) death(entry);
    entry = next;
  }
  if (pending & ~1n) death(pending);
  return out;
}

/** arch_prctl codes for CPUID faulting. */
export const ARCH_GET_CPUID = 0x1011n;
export const ARCH_SET_CPUID = 0x1012n;

/** Whether a cpuid instruction (0f a2) stands at `ip`. */
export function cpuidAt(mem: AddressSpace, ip: bigint): boolean {
  const b = mem.readPartial(ip, 2);
  return b.length === 2 && b[0] === 0x0f && b[1] === 0xa2;
}

/** 2 for rdtsc, 3 for rdtscp at `ip`, else 0. */
export function rdtscLengthAt(mem: AddressSpace, ip: bigint): number {
  const b = mem.readPartial(ip, 3);
  if (b.length >= 2 && b[0] === 0x0f && b[1] === 0x31) return 2;
  if (b.length === 3 && b[0] === 0x0f && b[1] === 0x01 && b[2] === 0xf9) return 3;
  return 0;
}
