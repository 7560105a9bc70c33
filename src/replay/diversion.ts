// Diversion: a throw-away copy of the replay in which a debugger may change
// memory and registers and run the program's code freely (gdb's `print
// f(3)`, `call f()`, `set var x = 1`), as rr does. It is made from an image
// of the replay as it stands (a fork of every replayed process, see
// process-images.ts), so the replay itself never sees what happens here;
// the front end throws the copy away when the user resumes the replay.
//
// No trace record applies in a diversion. The code it runs makes real
// syscalls in the copy, which holds none of the replay's outside world (its
// files and sockets are emulated from the trace), so only syscalls that act
// on the process itself run: memory management, time queries, signal masks
// (getpid and gettid answer the recorded ids). Writes to stdout and stderr are shown (they are what a
// `call printf(...)` is for); every other syscall is not run and returns
// ENOSYS, and the front end is told which, in a message for the user.
import type { Registers } from '../arch/registers.js';
import { PTRACE, WAIT, ptraceRaw, waitpid } from '../native/native.js';
import { nr, syscallName } from '../syscalls/names.js';
import { writeSync } from 'node:fs';
import { ProcessImaging } from './process-images.js';
import type { SessionImage } from './replay-session.js';
import { BreakpointStop, WatchFault, type ReplayTask } from './task-control.js';
import { TrrError } from '../util/errors.js';

export type DiversionStop =
  | { readonly kind: 'breakpoint'; readonly tid: number; readonly address: bigint }
  | { readonly kind: 'step'; readonly tid: number }
  /** The code run faulted (SIGSEGV, ...): the copy stands at the faulting instruction. */
  | { readonly kind: 'signal'; readonly tid: number; readonly signo: number }
  | { readonly kind: 'interrupted'; readonly tid: number }
  /** The thread died (killed by a signal the copy could not survive). */
  | { readonly kind: 'gone'; readonly tid: number };

/** Syscalls that act on the calling process only; they run for real in the copy. */
const HARMLESS = new Set(
  [
    'brk', 'mmap', 'munmap', 'mprotect', 'mremap', 'madvise', 'mincore',
    'getuid', 'geteuid', 'getgid', 'getegid', 'getresuid', 'getresgid',
    'clock_gettime', 'clock_getres', 'gettimeofday', 'time', 'getrusage', 'times', 'getcpu', 'sched_yield', 'sched_getaffinity',
    'rt_sigprocmask', 'sigaltstack', 'getrandom', 'uname', 'arch_prctl', 'prctl', 'getcwd', 'fstat', 'newfstatat', 'lseek',
  ].map((n) => nr(n)),
);
const WRITE = nr('write');
const GETPID = nr('getpid');
const GETTID = nr('gettid');
const ENOSYS = -38n;
const INTERRUPT_POLL_MS = 20;

export class Diversion extends ProcessImaging {
  /** What the diversion did not run, for the user (a syscall it refused). */
  readonly refused: string[] = [];

  private constructor(private readonly recPid: number) {
    super();
  }

  /** A copy of the replay `image` stands for, with the debugger's breakpoints inserted. */
  static from(image: SessionImage, recPid: number, breakpoints: Iterable<bigint>): Diversion {
    const d = new Diversion(recPid);
    try {
      d.rebuildTasks(image.tasks);
      for (const b of breakpoints) d.setBreakpoint(recPid, b);
    } catch (e) {
      d.close();
      throw e;
    }
    return d;
  }

  threads(): number[] {
    return this.liveThreads(this.recPid);
  }

  private task(recTid: number): ReplayTask {
    const t = this.tasks.get(recTid);
    if (!t || t.state === 'gone') throw new TrrError(`thread ${recTid} does not exist in the diversion`);
    return t;
  }

  /** Writes the program's memory; false when the address is not mapped. */
  writeMemory(address: bigint, data: Buffer): boolean {
    try {
      this.task(this.threads()[0] ?? this.recPid).task.mem.write(address, data);
      return true;
    } catch {
      return false;
    }
  }

  setRegisters(recTid: number, regs: Registers): void {
    this.task(recTid).task.setRegs(regs);
  }

  setExtendedState(recTid: number, xsave: Buffer): void {
    this.task(recTid).task.setXstate(xsave);
  }

  /**
   * Runs thread `recTid` alone (the other threads stay stopped) until a
   * breakpoint, a fault, or after one instruction with `step`.
   * `interrupted` is polled while it runs, so that code that never returns
   * can be stopped.
   */
  run(recTid: number, step: boolean, interrupted: () => boolean): DiversionStop {
    const t = this.task(recTid);
    if (t.state === 'at-entry' || t.atSyscallEntry) {
      // It stood at a syscall's entry stop: the syscall is not made (gdb sets orig_rax to -1 when it moves pc too).
      const regs = t.task.regs().clone();
      regs.set('orig_rax', -1n);
      t.task.setRegs(regs);
      t.split = undefined;
      t.state = 'ready';
    }
    try {
      if (step) {
        const r = this.singleStep(t);
        if (r.trapped) return { kind: 'step', tid: recTid };
        t.pendingStatus = r.status;
        t.state = 'running';
      }
      for (;;) {
        if (t.pendingStatus === undefined && t.state === 'ready') {
          this.resume(t, 'continue');
          const w = this.waitInterruptible(t, interrupted);
          if (w === undefined) return { kind: 'interrupted', tid: recTid };
          t.pendingStatus = w;
        }
        const s = this.runToStop(t);
        if (s.kind === 'gone') return { kind: 'gone', tid: recTid };
        if (s.kind === 'signal') return { kind: 'signal', tid: recTid, signo: s.sig };
        if (s.kind === 'seccomp') {
          this.syscall(t);
          if (step) return { kind: 'step', tid: recTid };
        }
        // Other stops (a syscall's exit, a ptrace event): go on.
      }
    } catch (e) {
      if (e instanceof BreakpointStop) return { kind: 'breakpoint', tid: e.tid, address: e.address };
      if (e instanceof WatchFault) return { kind: 'signal', tid: e.tid, signo: 11 };
      throw e;
    }
  }

  /** The wait status of t's next stop, or undefined when the front end interrupted it first (t is then stopped). */
  private waitInterruptible(t: ReplayTask, interrupted: () => boolean): number | undefined {
    for (;;) {
      const w = waitpid(t.tid, WAIT.__WALL, INTERRUPT_POLL_MS);
      if (w) return w.status;
      if (!interrupted()) continue;
      ptraceRaw(PTRACE.INTERRUPT, t.tid, 0, 0);
      const stop = waitpid(t.tid, WAIT.__WALL);
      t.task.invalidate();
      t.state = 'ready';
      if (!stop) return undefined;
      // PTRACE_INTERRUPT stops it with an event stop; anything else came first and is handled normally.
      if (((stop.status >> 16) & 0xff) === 0x80) return undefined;
      return stop.status;
    }
  }

  /** The recorded pid of t's process: the recorded tid of its leader (the thread whose live tid is the process's). */
  private recordedPidOf(t: ReplayTask): number {
    for (const o of this.tasks.values()) if (o.state !== 'gone' && o.task.tid === t.task.tgid) return o.recTid;
    return this.recPid;
  }

  /** t stands at a syscall's entry stop: runs it if harmless, shows a write to stdout/stderr, or refuses it. */
  private syscall(t: ReplayTask): void {
    const regs = t.task.regs();
    const n = regs.syscallNo;
    const args = regs.syscallArgs();
    if (HARMLESS.has(n)) {
      this.resume(t, 'syscall');
      const s = this.runToStop(t);
      if (s.kind !== 'syscall-exit') throw this.unexpected(t, s, `the exit of ${syscallName(n)} in the diversion`);
      t.atSyscallEntry = false;
      return;
    }
    let result = ENOSYS;
    // The copy's processes have other ids than the recorded ones, which the program saw.
    if (n === GETPID) result = BigInt(this.recordedPidOf(t));
    else if (n === GETTID) result = BigInt(t.recTid);
    else if (n === WRITE && (args[0] === 1n || args[0] === 2n)) {
      const data = t.task.mem.readPartial(args[1]!, Number(args[2]! > 1n << 20n ? 1n << 20n : args[2]!));
      writeSync(Number(args[0]), data);
      result = BigInt(data.length);
    } else {
      this.refused.push(`${syscallName(n)}(${args.slice(0, 3).map((a) => `0x${a.toString(16)}`).join(', ')}, ...)`);
    }
    const after = regs.clone();
    after.set('orig_rax', -1n);
    after.set('rax', result);
    t.task.setRegs(after);
    t.state = 'ready';
    t.atSyscallEntry = false;
  }
}

/** What the user is told of the syscalls a diversion did not run. */
export function refusedMessage(refused: readonly string[]): string | undefined {
  if (refused.length === 0) return undefined;
  const shown = refused.slice(0, 5).join(', ') + (refused.length > 5 ? `, and ${refused.length - 5} more` : '');
  return `the code run for the debugger (in a throw-away copy of the replay) made syscalls that could reach the outside world; trr did not run them and they returned ENOSYS: ${shown}.`;
}

