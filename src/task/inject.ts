// Running one syscall of trr's choosing in a stopped recorded thread, from the
// syscall instruction in its (patched) vDSO, as the recorder needs to put
// back what the kernel changed behind the program's back (a reset SIGSEGV
// handler) or to set per-thread modes that exec resets (CPUID faulting).
// Replay has its own, richer injection (src/replay/task-control.ts), which
// also knows the replay's task states; both start with aimAtSyscall.
import type { Registers } from '../arch/registers.js';
import { SYSCALL_ARG_REGS } from '../arch/registers.js';
import { PTRACE, PTRACE_EVENT, WAIT, ptraceRaw, waitpid, waitStatus } from '../native/native.js';
import { SIG } from './kernel-abi.js';
import type { Task } from './task.js';

/**
 * Runs syscall `nrv` with `args` in `task`, which stands at a ptrace stop it
 * can be resumed from with changed registers (a signal-delivery, syscall-exit
 * or event stop), and puts its registers and signal mask back. No signal can
 * interrupt it: all are blocked meanwhile and stay pending. Returns the
 * result, or throws `cannot(why)`.
 */
export function runSyscallIn(task: Task, nrv: number, args: readonly bigint[], cannot: (why: string) => Error): bigint {
  const saved = aimAtSyscall(task, nrv, args, cannot);
  const mask = task.sigMask();
  task.setSigMask(0xffffffffffffffffn);
  // Its seccomp stop (trr's filter traps syscalls from the vDSO), then its exit stop.
  for (const [req, stopSig] of [[PTRACE.CONT, SIG.TRAP | (PTRACE_EVENT.SECCOMP << 8)], [PTRACE.SYSCALL, SIG.TRAP | 0x80]] as const) {
    if (ptraceRaw(req, task.tid, 0, 0) < 0) throw cannot('the thread went away');
    const w = waitpid(task.tid, WAIT.__WALL);
    if (!w || !waitStatus.stopped(w.status) || (w.status >> 8) !== stopSig) throw cannot(`unexpected stop 0x${(w?.status ?? 0).toString(16)}`);
  }
  task.invalidate();
  const result = task.regs().result;
  task.setRegs(saved);
  task.setSigMask(mask);
  return result;
}

/**
 * Points stopped `task` at the syscall instruction of its patched vDSO,
 * with `nrv` and `args` in the syscall registers, and returns the
 * registers it had (to put back after the call). Throws `cannot(why)` when
 * the process has no vDSO.
 */
export function aimAtSyscall(task: Task, nrv: number, args: readonly bigint[], cannot: (why: string) => Error): Registers {
  const gadget = task.mem.syscallInstruction;
  if (gadget === undefined) throw cannot('the process has no vDSO to run a syscall from');
  const saved = task.regs().clone();
  const r = saved.clone();
  r.set('rip', gadget);
  r.set('rax', BigInt(nrv));
  SYSCALL_ARG_REGS.forEach((reg, i) => r.set(reg, args[i] ?? 0n));
  task.setRegs(r);
  return saved;
}
