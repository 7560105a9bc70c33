// The ptrace emulation's model (see ptrace-emulation.ts): what trr knows of
// each emulated tracee and of the stop it stands at, the options and
// requests it knows, and small helpers the emulation's modules share.
import { readFileSync } from 'node:fs';
import type { Registers } from '../arch/registers.js';
import { PTRACE } from '../native/native.js';
import type { TraceRecord } from '../trace/format.js';
import type { RecTask } from './rec-task.js';

/** What the emulation needs of the recorder. */
export interface PtraceHost {
  task(tid: number): RecTask | undefined;
  allTasks(): Iterable<RecTask>;
  /** Delivers a signal to t at a syscall boundary (or a fault), as the recorder does for untraced tasks. */
  deliver(t: RecTask, sig: number, info: Buffer, regs: Registers, sync: boolean): void;
  /** Processes t's syscall entry (t stands at its seccomp stop). */
  enterSyscall(t: RecTask): void;
  /** Processes t's PTRACE_EVENT_EXIT stop. */
  exitEvent(t: RecTask): void;
  /** Processes a wait status of a recorded task. */
  onStop(tid: number, status: number): void;
  /** t no longer runs user code: it is not the current task any more. */
  release(t: RecTask): void;
  append(rec: TraceRecord): void;
}

export type StopKind = 'signal' | 'syscall-entry' | 'syscall-exit' | 'event' | 'group';

export interface Stop {
  readonly kind: StopKind;
  /** The kernel's exit_code for this stop: the wait status is (code << 8) | 0x7f. */
  readonly code: number;
  info: Buffer;
  readonly sync?: boolean;
  /** A syscall-entry stop written to the trace (ptrace-stop with entry), because the tracer changed the tracee there. */
  recorded?: boolean;
  /** A ptrace event stop inside a syscall (fork, vfork, clone, vfork-done): the tracee stands at that real stop in the kernel, and goes on with the syscall when resumed. */
  inKernel?: boolean;
  /** A syscall-entry stop under PTRACE_SYSEMU: the syscall is not run. */
  sysemu?: boolean;
  /** The registers at the syscall's entry, when trr changed them for the stop (the trap flag in r11). */
  entryRegs?: Registers;
}

/**
 * How the tracer last resumed the tracee: which stops it reports next.
 * 'step': PTRACE_SINGLESTEP; 'sysemu': PTRACE_SYSEMU; 'sysemu-step': PTRACE_SYSEMU_SINGLESTEP.
 */
export type Mode = 'cont' | 'syscall' | 'step' | 'sysemu' | 'sysemu-step';

export interface Tracee {
  tracer: number;
  tracerTgid: number;
  readonly seized: boolean;
  /** The tracee is a child of the tracer's process: the kernel reports its exit to the tracer itself. */
  readonly child: boolean;
  options: number;
  mode: Mode;
  stop: Stop | undefined;
  /** The stop has not been reported by a wait yet. */
  waitable: boolean;
  /** Stops that follow the current one before the tracee runs again (exec under PTRACE_SYSCALL...). */
  readonly queued: Stop[];
  /** The syscall-entry stop of the syscall it stands at was reported already. */
  entryReported: boolean;
  /** The PTRACE_EVENT_EXIT stop was reported: the exit goes on. */
  exitReported: boolean;
  /** trr interrupted the tracee (blocked in a syscall) for PTRACE_INTERRUPT: its next PTRACE_EVENT_STOP is the tracer's. */
  interruptPending: boolean;
  /** Its process is in a group-stop (until a SIGCONT): PTRACE_INTERRUPT then reports the stop signal. */
  groupStopped: boolean;
  /** Traced from its creation (PTRACE_O_TRACEFORK...): it stops for its tracer before it runs. */
  firstStop: boolean;
  /** Stopped by PTRACE_LISTEN: it stays in its group-stop until a SIGCONT, and no request reaches it. */
  listening: boolean;
  /** A SIGSTOP trr sent for PTRACE_ATTACH is on its way. */
  attachStop: boolean;
  eventMsg: bigint;
  /** PTRACE_SYSEMU_SINGLESTEP let it run into a syscall instruction (see step). */
  intoSyscall: boolean;
}

export interface ExitReport {
  readonly tid: number;
  readonly tracerTgid: number;
  readonly status: number;
}

export const O = { TRACESYSGOOD: 1, TRACEFORK: 2, TRACEVFORK: 4, TRACECLONE: 8, TRACEEXEC: 0x10, TRACEVFORKDONE: 0x20, TRACEEXIT: 0x40, EXITKILL: 0x100000 } as const;
export const SUPPORTED_OPTIONS = O.TRACESYSGOOD | O.TRACEFORK | O.TRACEVFORK | O.TRACECLONE | O.TRACEEXEC | O.TRACEVFORKDONE | O.TRACEEXIT | O.EXITKILL;
export const OPTION_NAMES: [number, string][] = [
  [0x80, 'PTRACE_O_TRACESECCOMP'], [0x200000, 'PTRACE_O_SUSPEND_SECCOMP'],
];
export const REQUEST_NAMES = new Map<number, string>([
  ...Object.entries(PTRACE).map(([k, v]) => [v, `PTRACE_${k}`] as [number, string]),
  [1, 'PTRACE_PEEKTEXT'], [4, 'PTRACE_POKETEXT'], [31, 'PTRACE_SYSEMU'], [32, 'PTRACE_SYSEMU_SINGLESTEP'],
  [25, 'PTRACE_GET_THREAD_AREA'], [26, 'PTRACE_SET_THREAD_AREA'], [30, 'PTRACE_ARCH_PRCTL'], [0x4209, 'PTRACE_PEEKSIGINFO'],
  [0x420a, 'PTRACE_GETSIGMASK'], [0x420b, 'PTRACE_SETSIGMASK'], [0x420c, 'PTRACE_SECCOMP_GET_FILTER'], [0x420e, 'PTRACE_GET_SYSCALL_INFO'],
]);
export const USER_REGS = 216;
/** offsetof(struct user, u_debugreg). */
export const DEBUGREG = 848;
export const NT_PRSTATUS = 1;
export const NT_PRFPREG = 2;
export const NT_X86_XSTATE = 0x202;
export const GET_SYSCALL_INFO = 0x420e;
export const SYSEMU = 31;
export const SYSEMU_SINGLESTEP = 32;
export const RESUME_MODES = new Map<number, Mode>([[PTRACE.SYSCALL, 'syscall'], [PTRACE.SINGLESTEP, 'step'], [SYSEMU, 'sysemu'], [SYSEMU_SINGLESTEP, 'sysemu-step']]);
export const ARCH_PRCTL = 30;
export const ARCH_GET_FS = 0x1003;
export const ARCH_GET_GS = 0x1004;
export const ARCH_SET_GS = 0x1001;
export const ARCH_SET_FS = 0x1002;
/** The kernel refuses a segment base at or above the end of user space (EPERM). */
export const TASK_SIZE_MAX = 0x7ffffffff000n;
export const WNOHANG = 1n;
export const WNOWAIT = 0x1000000n;
export const WEXITED = 4n;
export const CLD = { EXITED: 1, KILLED: 2, DUMPED: 3, TRAPPED: 4 } as const;
export const SI_KERNEL = 0x80;
export const TRAP_BRKPT = 1;
export const TRAP_FLAG = 0x100n;
export const SIGCONT = 18;
export const ERESTARTSYS = -512n;
export const E = { PERM: -1n, SRCH: -3n, IO: -5n, FAULT: -14n, INVAL: -22n } as const;

export const i32 = (v: bigint) => Number(BigInt.asIntN(32, v));
export const LOG = (process.env.TRR_LOG ?? '').includes('ptrace');
export const log = (msg: string) => {
  if (LOG) process.stderr.write(`[ptrace] ${msg}\n`);
};

export function siginfo(signo: number, code: number, pid = 0, status = 0): Buffer {
  const b = Buffer.alloc(128);
  b.writeInt32LE(signo, 0);
  b.writeInt32LE(code, 8);
  b.writeInt32LE(pid, 16);
  b.writeInt32LE(status, 24);
  return b;
}

/** Whether c is a child of process tgid, whose wait the kernel reports c's exit to: a process (not a thread) whose parent it is. */
export function isChildOf(c: RecTask, tgid: number): boolean {
  return c.tid === c.task.tgid && ppidOf(c.tid) === tgid;
}

export function ppidOf(tid: number): number {
  try {
    const stat = readFileSync(`/proc/${tid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}
